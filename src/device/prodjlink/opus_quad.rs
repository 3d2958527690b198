//! An OPUS-QUAD as a rekordbox-lighting client sees it (`prodjlink.md` 9.5 OPUS-QUAD, 4.1 kinds
//! 10/11/55/56): it announces itself with keep-alives; when a peer's keep-alive says rekordbox
//! (device type `04`), it sends that peer the lighting hello 0x10 on 50002 until the 0x11 "I
//! can export" reply comes back; then it sends that peer status for its decks 9-12 every 200 ms,
//! album art in 0x56 chunks when a deck loads a track, and PSSI phrase data in 0x56 chunks for
//! each 0x55 request. It sends no beat packets (9.5 "No beat packets").

use std::net::{Ipv4Addr, SocketAddrV4};

use super::deck::{fill_status, status_template, Deck};
use super::persona::STATUS_EVERY;
use super::presence::Presence;
use super::track::{resolve_load, TrackInfo};
use super::{receive, unicast, Numbering, Setup, Tracks, ANNOUNCE_PORT, STATUS_PORT};
use crate::device::{
    Command, ConnId, Device, HostAddress, Nanos, Note, Outbox, Output, StreamEvent, MS,
};
use crate::prodjlink::{BinaryDataReply, CdjStatus, OpaqueStatus, Packet};

/// Deck 1's device number in status (1.5: 09-0c for decks 1-4).
pub const FIRST_DECK: u8 = 9;
const DECKS: usize = 4;
/// 0x56 data types (4.1): album art, PSSI phrase data.
pub const ART: u8 = 0x02;
pub const PSSI: u8 = 0x0a;
/// Bytes of data per 0x56 chunk. The reference gives no chunk size; this keeps each datagram
/// under an Ethernet MTU.
const CHUNK: usize = 1024;
/// How often the lighting hello is repeated until answered (not in the reference).
const HELLO_EVERY: Nanos = 1000 * MS;
/// Body of the lighting hello: the reference fixes only its first 0x24 bytes (the header, OQ
/// `firstPacketOn50002FromOpusQuad`); nothing follows.
const HELLO_BODY: Vec<u8> = Vec::new();

pub struct OpusQuad {
    presence: Presence,
    tracks: Tracks,
    decks: [Deck; DECKS],
    status: [CdjStatus; DECKS],
    /// The rekordbox-lighting peer: its address, and whether it answered 0x11.
    client: Option<(Ipv4Addr, bool)>,
    hello_due: Option<Nanos>,
    status_due: Option<Nanos>,
}

impl OpusQuad {
    pub fn new(s: Setup) -> Self {
        let fixed = matches!(s.numbering, Numbering::Fixed(_));
        let status =
            std::array::from_fn(|i| status_template(s.persona, FIRST_DECK + i as u8, true));
        OpusQuad {
            presence: Presence::new(
                s.persona,
                s.host,
                s.numbering.number().max(1),
                fixed,
                s.power_on,
            ),
            tracks: s.tracks,
            decks: Default::default(),
            status,
            client: None,
            hello_due: None,
            status_due: None,
        }
    }

    pub fn deck(&self, deck: u8) -> Option<&Deck> {
        self.decks.get((deck as usize).checked_sub(1)?)
    }

    fn name(&self) -> &'static str {
        self.presence.persona.name
    }

    fn connected(&self) -> Option<Ipv4Addr> {
        self.client.filter(|c| c.1).map(|c| c.0)
    }

    /// `data` in 0x56 chunks from deck `i` to the client (4.1: 31 chunk index, 33 count).
    fn send_chunks(&self, i: usize, data_type: u8, track_id: u32, data: &[u8], out: &mut Outbox) {
        let Some(ip) = self.connected() else { return };
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[][..]]
        } else {
            data.chunks(CHUNK).take(255).collect()
        };
        let count = chunks.len() as u8;
        for (k, c) in chunks.into_iter().enumerate() {
            let r = BinaryDataReply::new(
                self.name(),
                FIRST_DECK + i as u8,
                data_type,
                track_id,
                k as u8,
                count,
                c.to_vec(),
            );
            out.datagram(STATUS_PORT, unicast(ip, STATUS_PORT), r.to_bytes());
        }
    }

    fn send_status(&mut self, now: Nanos, i: usize, out: &mut Outbox) {
        let Some(ip) = self.connected() else { return };
        fill_status(
            &mut self.status[i],
            self.presence.persona,
            &self.decks[i],
            now,
            0,
        );
        out.datagram(0, unicast(ip, STATUS_PORT), self.status[i].to_bytes());
        self.decks[i].load_marker = false;
        self.decks[i].load_done = false;
    }

    fn deck_command(&mut self, now: Nanos, i: usize, command: &Command, out: &mut Outbox) -> bool {
        let d = &mut self.decks[i];
        match *command {
            Command::Load {
                source,
                slot,
                track_id,
            } => {
                let own = self.presence.number();
                let Some(t) = resolve_load(self.tracks.as_ref(), own, source, slot, track_id)
                else {
                    return false;
                };
                let art: TrackInfo = t.clone();
                d.playing = false;
                d.paused = false;
                d.cue_to(now, t.first_beat_ms as f64);
                d.track = Some(t);
                d.track_number = d.track_number.wrapping_add(1).max(1);
                d.load_marker = true;
                self.send_status(now, i, out);
                // Album art goes out on load (9.5).
                self.send_chunks(i, ART, art.rekordbox_id, &art.artwork, out);
            }
            Command::Play if d.track.is_some() => {
                d.reanchor(now);
                d.playing = true;
                d.paused = false;
                self.send_status(now, i, out);
            }
            Command::Pause if d.track.is_some() => {
                d.reanchor(now);
                d.playing = false;
                d.paused = true;
                self.send_status(now, i, out);
            }
            Command::Pitch(p) => {
                d.reanchor(now);
                d.pitch_pct = p.clamp(-100.0, 100.0);
                self.send_status(now, i, out);
            }
            _ => return false,
        }
        true
    }
}

impl Device for OpusQuad {
    fn label(&self) -> String {
        format!("{} #{}", self.name(), self.presence.number())
    }

    fn address(&self) -> HostAddress {
        self.presence.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        [self.hello_due, self.status_due, self.presence.poll_at()]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        self.presence.on_timer(now, out);
        if let Some(t) = self.hello_due.filter(|t| *t <= now) {
            if let Some((ip, false)) = self.client {
                let h = OpaqueStatus::new(0x10, self.name(), 0, FIRST_DECK, HELLO_BODY);
                out.datagram(STATUS_PORT, unicast(ip, STATUS_PORT), h.to_bytes());
                self.hello_due = Some(t + HELLO_EVERY);
            } else {
                self.hello_due = None;
            }
        }
        if let Some(t) = self.status_due.filter(|t| *t <= now) {
            for i in 0..DECKS {
                self.send_status(now, i, out);
            }
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
        let Some(packet) = receive(&mut self.presence, now, from, to, payload, out) else {
            return;
        };
        if to.port() == ANNOUNCE_PORT {
            // A rekordbox (lighting) peer: start the handshake (9.5).
            if let Packet::KeepAlive(k) = &packet {
                if k.device_type == 4 && self.client.is_none() {
                    self.client = Some((k.ip, false));
                    self.hello_due = Some(now);
                }
            }
            return;
        }
        match packet {
            Packet::LightingReply(r)
                if self.client.is_some_and(|c| c.0 == *from.ip()) && self.connected().is_none() =>
            {
                self.client = Some((*from.ip(), true));
                self.hello_due = None;
                self.status_due = Some(now);
                let text = format!(
                    "lighting client {} ({}) answered 0x11",
                    from.ip(),
                    r.host_name()
                );
                self.presence.notes.push(Note { at: now, text });
            }
            Packet::BinaryDataRequest(q) if self.connected() == Some(*from.ip()) => {
                let i = q.deck.wrapping_sub(FIRST_DECK) as usize;
                let phrases = self
                    .decks
                    .get(i)
                    .and_then(|d| d.track.as_ref())
                    .filter(|t| t.rekordbox_id == q.track_id)
                    .map(|t| t.phrases.clone());
                if let Some(p) = phrases {
                    self.send_chunks(i, q.data_type, q.track_id, &p, out);
                    let text = format!("answered a 0x55 request for track {}", q.track_id);
                    self.presence.notes.push(Note { at: now, text });
                }
            }
            _ => {}
        }
    }

    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        // No dbserver in rekordbox-lighting mode: track ids are Device Library Plus ids (9.5).
        if let StreamEvent::Accepted { .. } = event {
            out.push(Output::Close { conn });
        }
    }

    fn command(&mut self, now: Nanos, command: &Command, out: &mut Outbox) -> bool {
        match command {
            Command::OnDeck { deck, command } => match (*deck as usize).checked_sub(1) {
                Some(i) if i < DECKS => self.deck_command(now, i, command, out),
                _ => false,
            },
            _ => false,
        }
    }

    fn take_notes(&mut self, into: &mut Vec<Note>) {
        into.append(&mut self.presence.notes);
    }
}
