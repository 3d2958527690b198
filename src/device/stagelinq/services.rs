//! What a unit's connections answer: the directory (`stagelinq.md` 1.3), StateMap (1.5),
//! BeatInfo (1.6), TimeSynchronization (1.7), Broadcast (1.8) and Syncing (1.3.2: never
//! understood, its bytes are read and dropped).

use std::collections::BTreeMap;
use std::net::SocketAddrV4;

use crate::device::{ConnId, Nanos, Outbox, Output};
use crate::stagelinq::beatinfo::{BeatEmit, BeatInfoMessage};
use crate::stagelinq::broadcast::BroadcastMessage;
use crate::stagelinq::directory::{
    DirectoryMessage, Reference, ServiceAnnouncement, ServicesRequest,
};
use crate::stagelinq::statemap::{StateMapMessage, NO_UPDATES_INTERVAL};
use crate::stagelinq::statemap_json::StateValue;
use crate::stagelinq::timesync::{TimeSyncMessage, ID_QUERY};
use crate::stagelinq::Token;

use super::file_transfer::{FileTransferSession, Verdict};
use super::framing::{InBuf, Mode};
use super::persona::Service;
use super::unit::{Unit, MAX_CONNECTIONS};

/// Subscriptions one connection may hold (npm `stagelinq` asks for 78, `clients.md` 4.2;
/// the whole catalogue of a four-deck unit is about 150).
pub const MAX_SUBSCRIPTIONS: usize = 1024;
/// Mixer channels a player asks the assignment of (`/Mixer/NumberOfChannels`, 3.5: 4).
const MAX_MIXER_CHANNELS: i64 = 8;

/// What a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The directory of identity `identity`; `asked` once the peer sent its ServicesRequest.
    Directory {
        identity: usize,
        asked: bool,
    },
    Service(Service),
}

/// One accepted connection.
#[derive(Debug)]
pub struct Conn {
    pub link: Link,
    pub inbuf: InBuf,
    pub peer: SocketAddrV4,
    /// The token of the peer's ServicesRequest or service hello.
    pub token: Option<Token>,
    /// StateMap: each subscribed path and the value last sent on it.
    pub subs: BTreeMap<String, StateValue>,
    /// BeatInfo: streaming since a start frame.
    pub streaming: bool,
    /// StateMap: the unit subscribed to the peer's `/Mixer/*` values (the peer is a mixer).
    pub asked_mixer: bool,
    /// FileTransfer: the session that answers it (it reads its own hello).
    pub file_transfer: Option<Box<FileTransferSession>>,
}

impl Unit {
    pub(super) fn accept(
        &mut self,
        now: Nanos,
        conn: ConnId,
        local_port: u16,
        peer: SocketAddrV4,
        out: &mut Outbox,
    ) {
        let link = if let Some(i) = self.directory_ports.iter().position(|p| *p == local_port) {
            Link::Directory {
                identity: i,
                asked: false,
            }
        } else if let Some((s, _)) = self.service_ports.iter().find(|(_, p)| *p == local_port) {
            Link::Service(*s)
        } else {
            out.push(Output::Close { conn });
            return;
        };
        if self.conns.len() >= MAX_CONNECTIONS {
            out.push(Output::Close { conn });
            return;
        }
        let mode = match link {
            Link::Directory { identity, .. } => {
                // The unit's own ServicesRequest first, before any announcement: npm
                // `stagelinq` waits for it, PyStageLinQ takes the device token from it and
                // crashes on an announcement that comes first (`clients.md` 0 item 2).
                let token = self.announcer.identities[identity].token;
                out.write(conn, ServicesRequest { token }.to_bytes());
                Mode::Directory
            }
            Link::Service(_) => Mode::ServiceHello,
        };
        if let Link::Service(s) = link {
            self.note(now, format!("{peer} opens {}", s.name()));
        }
        let file_transfer = match (link, &self.volume) {
            (Link::Service(Service::FileTransfer), Some(v)) => {
                Some(Box::new(FileTransferSession::new(v.clone())))
            }
            (Link::Service(Service::FileTransfer), None) => {
                out.push(Output::Close { conn });
                return;
            }
            _ => None,
        };
        self.conns.insert(
            conn,
            Conn {
                link,
                inbuf: InBuf::new(mode),
                peer,
                token: None,
                subs: BTreeMap::new(),
                streaming: false,
                asked_mixer: false,
                file_transfer,
            },
        );
    }

    pub(super) fn data(&mut self, now: Nanos, conn: ConnId, bytes: &[u8], out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if let Some(ft) = c.file_transfer.as_mut() {
            let mut queue = Vec::new();
            let verdict = ft.on_bytes(bytes, &mut queue);
            out.write(conn, queue);
            if verdict == Verdict::Close {
                let why = format!("{:?}", ft.close_reason());
                self.conns.remove(&conn);
                out.push(Output::Close { conn });
                self.note(now, format!("FileTransfer {conn:?} closed: {why}"));
            }
            return;
        }
        let mut messages = Vec::new();
        let ok = c.inbuf.feed(bytes, |m| messages.push(m)).is_ok();
        for m in messages {
            self.message(now, conn, &m, out);
        }
        if !ok {
            self.note(now, format!("garbage on {conn:?}: connection closed"));
            self.conns.remove(&conn);
            out.push(Output::Close { conn });
        }
    }

    fn message(&mut self, now: Nanos, conn: ConnId, m: &[u8], out: &mut Outbox) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.link {
            Link::Directory { identity, .. } => self.directory(now, conn, identity, m, out),
            Link::Service(s) if c.token.is_none() => {
                // The framer only passes a hello that frames; one that does not parse is
                // garbage: the connection stays unnamed and is dropped.
                match ServiceAnnouncement::parse(m) {
                    Ok(h) => self.hello(now, conn, s, h.token, out),
                    Err(_) => {
                        self.conns.remove(&conn);
                        out.push(Output::Close { conn });
                    }
                }
            }
            Link::Service(Service::StateMap) => self.statemap(conn, m, out),
            Link::Service(Service::BeatInfo) => self.beatinfo(now, conn, m, out),
            Link::Service(Service::TimeSynchronization) => self.timesync(now, conn, m, out),
            // Broadcast and Syncing: nothing a peer sends is answered.
            Link::Service(_) => {}
        }
    }

    fn directory(&mut self, now: Nanos, conn: ConnId, identity: usize, m: &[u8], out: &mut Outbox) {
        let own = self.announcer.identities[identity].token;
        match DirectoryMessage::parse(m) {
            Ok(DirectoryMessage::ServicesRequest(r)) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.token = Some(r.token);
                    c.link = Link::Directory {
                        identity,
                        asked: true,
                    };
                }
                // Every announcement in one write (`clients.md` 0 item 2: the client reads
                // the services it has when the first segment arrives). The analyzers' own
                // directories are not in the reference; they announce the unit's services
                // under their token so a client that connects to them (PyStageLinQ does,
                // `clients.md` 5.1) is answered within its one second.
                let mut bytes = Vec::new();
                for (s, port) in &self.service_ports {
                    bytes.extend(ServiceAnnouncement::new(own, s.name(), *port).to_bytes());
                }
                out.write(conn, bytes);
                let peer = self.conns.get(&conn).map(|c| c.peer);
                if let Some(peer) = peer {
                    self.note(now, format!("{peer} asks for services"));
                }
            }
            // Echo pings (1.3.3); echoes and the peer's own announcements need no answer.
            Ok(DirectoryMessage::Reference(r)) if r.is_ping() && r.token != own => {
                out.write(conn, r.echo(own).to_bytes());
            }
            _ => {}
        }
    }

    fn hello(&mut self, now: Nanos, conn: ConnId, s: Service, token: Token, out: &mut Outbox) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.token = Some(token);
        }
        match s {
            Service::StateMap => self.ask_mixer(conn, out),
            Service::TimeSynchronization => {
                // The device opens with a query carrying its clock (1.7).
                out.write(conn, TimeSyncMessage::query(self.clock(now)).to_bytes());
            }
            _ => {}
        }
    }

    /// On a StateMap connection opened by a mixer, subscribe to its channel count (then to
    /// each channel's assignment, [`Self::mixer_value`]): the SC6000 does so over the
    /// connection the mixer opened (3.5 f69, f179-f181). Called at the hello, and again when
    /// the mixer's HOWDY names its token after the hello came.
    pub(super) fn ask_mixer(&mut self, conn: ConnId, out: &mut Outbox) {
        let mixers = &self.mixer_tokens;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.asked_mixer || !c.token.is_some_and(|t| mixers.contains(&t)) {
            return;
        }
        c.asked_mixer = true;
        let m = StateMapMessage::subscribe("/Mixer/NumberOfChannels", NO_UPDATES_INTERVAL);
        out.write(conn, m.to_bytes());
    }

    fn statemap(&mut self, conn: ConnId, m: &[u8], out: &mut Outbox) {
        let Ok(msg) = StateMapMessage::parse(m) else {
            return;
        };
        match msg {
            StateMapMessage::Subscribe { path, .. } => {
                // Answered once with the current value (3.5); unknown paths get nothing.
                let Some(v) = self.state.value(&path) else {
                    return;
                };
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if c.subs.len() >= MAX_SUBSCRIPTIONS && !c.subs.contains_key(&path) {
                    return;
                }
                out.write(conn, StateMapMessage::value(&path, &v).to_bytes());
                c.subs.insert(path, v);
            }
            StateMapMessage::Value { path, json } => self.mixer_value(conn, &path, &json, out),
            StateMapMessage::Set { path, json } if self.set(&path, &json) => self.refresh(out),
            _ => {}
        }
    }

    /// A value the mixer sent for one of the unit's own subscriptions.
    fn mixer_value(&mut self, conn: ConnId, path: &str, json: &str, out: &mut Outbox) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if !c.token.is_some_and(|t| self.mixer_tokens.contains(&t)) {
            return;
        }
        if path == "/Mixer/NumberOfChannels" {
            if let Some(StateValue::Integer(n)) = StateValue::from_json(json) {
                let mut bytes = Vec::new();
                for ch in 1..=n.clamp(0, MAX_MIXER_CHANNELS) {
                    let p = format!("/Mixer/ChannelAssignment{ch}");
                    bytes.extend(StateMapMessage::subscribe(&p, NO_UPDATES_INTERVAL).to_bytes());
                }
                out.write(conn, bytes);
            }
        }
    }

    /// A value written into the unit (0x7d1 + JSON, 3.5 f194): the mixer's volume for a
    /// deck and the player number. Other paths are left alone.
    fn set(&mut self, path: &str, json: &str) -> bool {
        let v = StateValue::from_json(json);
        if path == "/Client/Preferences/Player" {
            if let Some(StateValue::Enum(s) | StateValue::Text(s)) = v {
                if s.len() <= 8 {
                    self.state.player_number = s;
                    return true;
                }
            }
            return false;
        }
        let deck = path
            .strip_prefix("/Engine/Deck")
            .and_then(|r| r.strip_suffix("/ExternalMixerVolume"))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1));
        match (deck.and_then(|d| self.state.decks.get_mut(d)), v) {
            (Some(d), Some(StateValue::Number(x))) if x.is_finite() => {
                d.volume = x.clamp(0.0, 2.0);
                true
            }
            _ => false,
        }
    }

    /// Send every subscribed value that changed since it was last sent, one write per
    /// connection ("sends each value again when the scenario changes it").
    pub(super) fn refresh(&mut self, out: &mut Outbox) {
        let state = &self.state;
        for (id, c) in self.conns.iter_mut() {
            let mut bytes = Vec::new();
            for (path, last) in c.subs.iter_mut() {
                if let Some(v) = state.value(path) {
                    if v != *last {
                        bytes.extend(StateMapMessage::value(path, &v).to_bytes());
                        *last = v;
                    }
                }
            }
            out.write(*id, bytes);
        }
    }

    fn beatinfo(&mut self, now: Nanos, conn: ConnId, m: &[u8], out: &mut Outbox) {
        let start = match BeatInfoMessage::parse(m) {
            Ok(BeatInfoMessage::StartStream) => true,
            Ok(BeatInfoMessage::StopStream) => false,
            _ => return,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let was = std::mem::replace(&mut c.streaming, start);
        if start && !was {
            // The first emit follows the start frame at once ([capture] f66 -> f70: 3.6 ms).
            out.write(conn, self.beat_emit(now).to_bytes());
        }
    }

    pub(super) fn beat_emit(&self, now: Nanos) -> BeatInfoMessage {
        BeatInfoMessage::Beat(BeatEmit {
            clock: self.clock(now),
            decks: self.state.decks.iter().map(|d| d.beat(now)).collect(),
        })
    }

    pub(super) fn send_beats(&mut self, now: Nanos, out: &mut Outbox) {
        let bytes = self.beat_emit(now).to_bytes();
        for (id, c) in &self.conns {
            if c.streaming {
                out.write(*id, bytes.clone());
            }
        }
    }

    pub(super) fn send_pings(&mut self, now: Nanos, out: &mut Outbox) {
        let clock = self.clock(now);
        for (id, c) in &self.conns {
            if let Link::Directory {
                identity,
                asked: true,
            } = c.link
            {
                let token = self.announcer.identities[identity].token;
                out.write(*id, Reference::ping(token, clock).to_bytes());
            }
        }
    }

    fn timesync(&mut self, now: Nanos, conn: ConnId, m: &[u8], out: &mut Outbox) {
        // The client answers the device's query with its own id 1 carrying its time; the
        // reply (id 2) carries both (1.7, honusz `services/TimeSync.ts`).
        if let Ok(q) = TimeSyncMessage::parse(m) {
            if q.id == ID_QUERY {
                let theirs = q.timestamps.first().copied().unwrap_or(0);
                out.write(
                    conn,
                    TimeSyncMessage::reply(theirs, self.clock(now)).to_bytes(),
                );
            }
        }
    }

    /// Tell Broadcast peers which track a deck loaded (1.8: the one observed message,
    /// `engine.track.changed` with `databaseUuid` and `trackId`).
    pub(super) fn broadcast_track_changed(&mut self, track_id: u32, out: &mut Outbox) {
        let json = serde_json::json!({
            "engine.track.changed": {
                "databaseUuid": self.state.token.to_string(),
                "trackId": track_id.to_string(),
            }
        })
        .to_string();
        let bytes = BroadcastMessage { json }.to_bytes();
        for (id, c) in &self.conns {
            if c.link == Link::Service(Service::Broadcast) && c.token.is_some() {
                out.write(*id, bytes.clone());
            }
        }
    }
}

impl Unit {
    /// Whether a FileTransfer download has chunks left to send.
    pub(super) fn downloading(&self) -> bool {
        self.conns
            .values()
            .any(|c| c.file_transfer.as_ref().is_some_and(|f| f.sending()))
    }

    /// The next window of every download in progress. The Device interface has no "send
    /// queue drained" event, so the unit paces downloads by time instead (`unit::FT_PACE`):
    /// a window every pace step, about the 10 MB/s honusz measured from real units
    /// (`stagelinq.md` 1.9).
    pub(super) fn send_chunks(&mut self, out: &mut Outbox) {
        let mut closed = Vec::new();
        for (id, c) in self.conns.iter_mut() {
            let Some(ft) = c.file_transfer.as_mut().filter(|f| f.sending()) else {
                continue;
            };
            let mut queue = Vec::new();
            let verdict = ft.on_drained(&mut queue);
            out.write(*id, queue);
            if verdict == Verdict::Close {
                closed.push(*id);
            }
        }
        for id in closed {
            self.conns.remove(&id);
            out.push(Output::Close { conn: id });
        }
    }
}
