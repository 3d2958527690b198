//! rekordbox on a laptop (`prodjlink.md` 9.5 "rekordbox (laptop / mobile)"): D 0x11, device
//! type 4, keep-alives like every device, mixer-style status 0x29 (subtype `01`, F=`c0`, 4.3)
//! every 200 ms to its peers, and the "I can export" reply 0x11 to a lighting hello 0x10 (4.1,
//! PDJL: a CDJ sends 0x10 after seeing a D above 0x10). Its dbserver answers the port query like
//! a player's.

use std::net::SocketAddrV4;

use super::opus_quad::FIRST_DECK as FIRST_OPUS_DECK;
use super::persona::{REKORDBOX_NUMBER, STATUS_EVERY};
use super::presence::Presence;
use super::{parse, send_to_peers, unicast, Numbering, Setup, ANNOUNCE_PORT, STATUS_PORT};
use crate::device::{ConnId, Device, HostAddress, Nanos, Note, Outbox, Output, StreamEvent, MS};
use crate::prodjlink::{BinaryDataRequest, LightingReply, MixerStatus, Packet};

/// The host name rekordbox puts in its 0x11 reply.
const HOST_NAME: &str = "djdissect";

pub struct Rekordbox {
    presence: Presence,
    status_due: Option<Nanos>,
    /// The tempo rekordbox reports: the master's, once a status says who it is (4.3 "only valid
    /// for rekordbox-analysed sources").
    bpm: f64,
    /// The port-query connections (7.1), answered as a player answers them.
    query: super::port_query::PortQueries,
    /// The track each OPUS-QUAD deck last reported, so each load is asked about once.
    opus_tracks: [u32; 4],
}

impl Rekordbox {
    pub fn new(s: Setup) -> Self {
        let fixed = matches!(s.numbering, Numbering::Fixed(_));
        let n = s.numbering.number();
        let number = if n == 0 { REKORDBOX_NUMBER } else { n };
        Rekordbox {
            presence: Presence::new(s.persona, s.host, number, fixed, s.power_on),
            status_due: None,
            bpm: 120.0,
            query: Default::default(),
            opus_tracks: [0; 4],
        }
    }

    pub fn presence(&self) -> &Presence {
        &self.presence
    }
}

impl Device for Rekordbox {
    fn label(&self) -> String {
        format!("rekordbox #{}", self.presence.number())
    }

    fn address(&self) -> HostAddress {
        self.presence.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        [self.status_due, self.presence.poll_at()]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        let was_up = self.presence.is_up();
        self.presence.on_timer(now, out);
        if !was_up && self.presence.is_up() {
            self.status_due = Some(now + 50 * MS);
            out.push(Output::Listen {
                port: super::DB_QUERY_PORT,
            });
        }
        if let Some(t) = self.status_due.filter(|t| *t <= now) {
            let s = MixerStatus::rekordbox(self.presence.number(), self.bpm, 0);
            send_to_peers(
                out,
                &self.presence.peers,
                self.presence.host.ip,
                STATUS_PORT,
                &s.to_bytes(),
            );
            self.status_due = Some(t + STATUS_EVERY);
        }
    }

    fn on_datagram(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
        out: &mut Outbox,
    ) {
        let Some(packet) = parse(to.port(), payload) else {
            return;
        };
        if to.port() == ANNOUNCE_PORT {
            self.presence.on_announce(now, from, &packet, out);
            return;
        }
        if !self.presence.is_up() || *from.ip() == self.presence.host.ip {
            return;
        }
        match packet {
            Packet::LightingHello(h) => {
                let r = LightingReply::new(self.presence.number(), HOST_NAME);
                out.datagram(STATUS_PORT, unicast(*from.ip(), STATUS_PORT), r.to_bytes());
                let text = format!("answered the lighting hello of {}", h.header.name.text());
                self.presence.notes.push(Note { at: now, text });
            }
            // An OPUS-QUAD deck (9-12) loaded a track: ask for its phrases, as a lighting
            // client does (4.1 kind 55; BL `VirtualRekordbox`).
            Packet::CdjStatus(s)
                if (FIRST_OPUS_DECK..FIRST_OPUS_DECK + 4).contains(&s.header.device) =>
            {
                let i = (s.header.device - FIRST_OPUS_DECK) as usize;
                if s.rekordbox_id != 0 && self.opus_tracks[i] != s.rekordbox_id {
                    self.opus_tracks[i] = s.rekordbox_id;
                    let q = BinaryDataRequest::pssi(
                        self.presence.number(),
                        s.header.device,
                        s.rekordbox_id,
                    );
                    out.datagram(STATUS_PORT, unicast(*from.ip(), STATUS_PORT), q.to_bytes());
                    let text = format!(
                        "asked deck {} for the phrases of track {}",
                        i + 1,
                        s.rekordbox_id
                    );
                    self.presence.notes.push(Note { at: now, text });
                }
            }
            Packet::CdjStatus(s) if s.is_master() => {
                if let Some(b) = s.effective_bpm() {
                    self.bpm = b;
                }
            }
            _ => {}
        }
    }

    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        self.query.on_stream(conn, event, out);
    }

    fn take_notes(&mut self, into: &mut Vec<Note>) {
        into.append(&mut self.presence.notes);
    }
}
