//! The X1800 / X1850 mixer (`stagelinq.md` 3.8 "To emulate the mixer"): it announces port
//! 50010 but refuses connections there (1.3.4: ECONNREFUSED in MarByteBeep #1; nobody
//! connects to it in [capture]); instead it connects to each player it hears, within about a
//! millisecond of the player's first HOWDY ([capture] f46: 0.8 ms), asks for its services,
//! opens StateMap and BeatInfo with hellos naming its fixed ports 50011 and 50012 (1.4),
//! subscribes to the player's deck values with interval 100 (3.5), starts the beat stream,
//! pings every 1.5 s with a little-endian 10 kHz clock (1.3.3), answers the player's
//! subscriptions to its `/Mixer/*` values, and writes each channel's fader level into the
//! player as `ExternalMixerVolume` with `0x7d1` (3.5 f194, two fixed decimals), which is how
//! a player learns that it is on air.
//!
//! Channels: the rig's cabling says which deck (layer) of which player each channel plays
//! (`ChannelAssignmentN` = `{player token},deck`, unassigned channels `,1`, 3.5); a player
//! heard that is not cabled gets the next free channel for each of its layers, as the
//! capture's SC6000 sat on channels 1 and 2. A fader move writes the level into the deck on
//! that channel.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::device::{
    Command, ConnId, Device, HostAddress, Nanos, Note, Outbox, Output, StreamEvent, MS,
};
use crate::stagelinq::beatinfo::BeatInfoMessage;
use crate::stagelinq::directory::{
    DirectoryMessage, Reference, ServiceAnnouncement, ServicesRequest,
};
use crate::stagelinq::discovery::PORT;
use crate::stagelinq::statemap::StateMapMessage;
use crate::stagelinq::statemap_json::{number_json_fixed, StateValue};
use crate::stagelinq::Token;

use super::discovery::{Announcer, Identity};
use super::framing::{InBuf, Mode};
use super::services::MAX_SUBSCRIPTIONS;
use super::state::mixer_path_value;
use super::{token_for, Cable, Persona, Setup};

/// The mixer's announced (refused) directory port and its fixed service ports (1.4, 3.1).
pub const DIRECTORY_PORT: u16 = 50010;
pub const STATEMAP_PORT: u16 = 50011;
pub const BEATINFO_PORT: u16 = 50012;
/// Reference ping period ([capture] f168, f279, f381: 1.5 s).
pub const PING_EVERY: Nanos = 1500 * MS;
/// Players the mixer keeps links to (a flood of made-up HOWDYs cannot grow it further).
pub const MAX_PLAYERS: usize = 16;

/// What the mixer subscribes to on each player, interval 100: the 13 paths of [capture] 3.5
/// in wire order, then each deck's song and artist name and effective tempo. The capture's
/// mixer had nothing loaded to ask about; those six are the scripted synth's additions
/// (`synth/slq.rs`), kept so a capture of the rig names what played at which tempo.
pub const SUBSCRIBES: [&str; 19] = [
    "/Engine/Deck1/Track/CurrentBPM",
    "/Engine/Deck2/Track/CurrentBPM",
    "/Client/Preferences/PlayerJogColorA",
    "/Client/Preferences/PlayerJogColorB",
    "/Engine/Deck1/DeckIsMaster",
    "/Engine/Deck2/DeckIsMaster",
    "/Engine/Deck1/PlayState",
    "/Engine/Deck2/PlayState",
    "/Client/Preferences/LayerB",
    "/Engine/Sync/Network/MasterStatus",
    "/Engine/Deck1/Track/LoopEnableState",
    "/Engine/Deck2/Track/LoopEnableState",
    "/Engine/Master/MasterTempo",
    "/Engine/Deck1/Track/SongName",
    "/Engine/Deck2/Track/SongName",
    "/Engine/Deck1/Track/ArtistName",
    "/Engine/Deck2/Track/ArtistName",
    "/Engine/Deck1/CurrentBPM",
    "/Engine/Deck2/CurrentBPM",
];
const SUBSCRIBE_INTERVAL: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkKind {
    Directory,
    StateMap,
    BeatInfo,
}

/// One player the mixer talks to.
#[derive(Debug)]
struct PlayerLink {
    ip: Ipv4Addr,
    port: u16,
    token: Option<Token>,
    /// (mixer channel, deck of the player) for each channel it plays on.
    channels: Vec<(u8, u8)>,
    services: Vec<(String, u16)>,
    statemap: Option<ConnId>,
    beatinfo: Option<ConnId>,
    opened_services: bool,
}

#[derive(Debug)]
struct MixerConn {
    player: usize,
    kind: LinkKind,
    inbuf: InBuf,
    open: bool,
    /// The player's subscriptions to `/Mixer/*` on this StateMap connection.
    subs: BTreeMap<String, StateValue>,
}

pub struct Mixer {
    persona: &'static Persona,
    host: HostAddress,
    token: Token,
    power_on: Nanos,
    announcer: Announcer,
    faders: Vec<f64>,
    crossfader: f64,
    cabling: Vec<Cable>,
    players: Vec<PlayerLink>,
    conns: BTreeMap<ConnId, MixerConn>,
    next_conn: u64,
    next_ping: Nanos,
    notes: Vec<Note>,
    off: bool,
}

impl Mixer {
    pub fn new(setup: Setup) -> Mixer {
        let p = setup.persona;
        let token = token_for(setup.host.ip, 0);
        let id = Identity {
            token,
            software: p.software,
            version: p.version,
            port: DIRECTORY_PORT,
        };
        Mixer {
            persona: p,
            host: setup.host,
            token,
            power_on: setup.power_on,
            // From 51337 itself, to the subnet broadcast ([capture] 1.2 "Addressing").
            announcer: Announcer::new(p, vec![id], PORT, setup.power_on),
            faders: vec![0.0; p.channels as usize],
            crossfader: 0.5,
            cabling: setup.cabling,
            players: Vec::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            next_ping: setup.power_on + PING_EVERY,
            notes: Vec::new(),
            off: false,
        }
    }

    pub fn token(&self) -> Token {
        self.token
    }

    fn connect(&mut self, player: usize, kind: LinkKind, port: u16, out: &mut Outbox) -> ConnId {
        let conn = ConnId(ConnId::DEVICE_PICKED | self.next_conn);
        self.next_conn += 1;
        let to = SocketAddrV4::new(self.players[player].ip, port);
        out.push(Output::Connect { conn, to });
        self.conns.insert(
            conn,
            MixerConn {
                player,
                kind,
                inbuf: InBuf::new(match kind {
                    LinkKind::Directory => Mode::Directory,
                    _ => Mode::Prefixed,
                }),
                open: false,
                subs: BTreeMap::new(),
            },
        );
        conn
    }

    /// The mixer's own StateMap values (1.11 "Mixer paths").
    fn value(&self, path: &str) -> Option<StateValue> {
        let rest = path.strip_prefix("/Mixer/")?;
        mixer_path_value(rest, &self.faders, self.crossfader, |ch| {
            // An unassigned channel reads `,1` (3.5 f182).
            self.players
                .iter()
                .find_map(|p| {
                    let deck = p.channels.iter().find(|c| c.0 == ch)?.1;
                    Some((p.token.map(|t| format!("{{{t}}}"))?, deck))
                })
                .unwrap_or((String::new(), 1))
        })
    }

    /// `ExternalMixerVolume` writes for the player's decks on `channel` (every channel of
    /// the player when None), highest deck first as in 3.5 f194.
    fn volume_sets(&self, player: usize, channel: Option<u8>) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut chans = self.players[player].channels.clone();
        chans.sort_by_key(|c| std::cmp::Reverse(c.1));
        for (ch, deck) in chans {
            if channel.is_some_and(|c| c != ch) {
                continue;
            }
            let level = self.faders.get(ch as usize - 1).copied().unwrap_or(0.0);
            let m = StateMapMessage::Set {
                path: format!("/Engine/Deck{deck}/ExternalMixerVolume"),
                json: number_json_fixed(level, 2),
            };
            bytes.extend(m.to_bytes());
        }
        bytes
    }

    fn refresh(&mut self, out: &mut Outbox) {
        let values: Vec<(ConnId, Vec<u8>)> = self
            .conns
            .iter()
            .map(|(id, c)| {
                let mut b = Vec::new();
                for (path, last) in &c.subs {
                    if let Some(v) = self.value(path) {
                        if v != *last {
                            b.extend(StateMapMessage::value(path, &v).to_bytes());
                        }
                    }
                }
                (*id, b)
            })
            .collect();
        for (id, b) in values {
            out.write(id, b);
        }
        let fresh: Vec<(ConnId, Vec<(String, StateValue)>)> = self
            .conns
            .iter()
            .map(|(id, c)| {
                let v = c
                    .subs
                    .keys()
                    .filter_map(|p| self.value(p).map(|v| (p.clone(), v)))
                    .collect();
                (*id, v)
            })
            .collect();
        for (id, v) in fresh {
            if let Some(c) = self.conns.get_mut(&id) {
                c.subs.extend(v);
            }
        }
    }

    fn on_directory(&mut self, player: usize, conn: ConnId, m: &[u8], out: &mut Outbox) {
        match DirectoryMessage::parse(m) {
            Ok(DirectoryMessage::ServicesRequest(r)) => self.players[player].token = Some(r.token),
            Ok(DirectoryMessage::ServiceAnnouncement(a)) => {
                let p = &mut self.players[player];
                if p.services.len() < 32 {
                    p.services.push((a.service, a.port));
                }
            }
            Ok(DirectoryMessage::Reference(r)) if r.is_ping() && r.token != self.token => {
                out.write(conn, r.echo(self.token).to_bytes());
            }
            _ => {}
        }
        let p = &self.players[player];
        let port_of = |name: &str| p.services.iter().find(|s| s.0 == name).map(|s| s.1);
        if let (false, Some(sm), Some(bi)) =
            (p.opened_services, port_of("StateMap"), port_of("BeatInfo"))
        {
            self.players[player].opened_services = true;
            let s = self.connect(player, LinkKind::StateMap, sm, out);
            let b = self.connect(player, LinkKind::BeatInfo, bi, out);
            self.players[player].statemap = Some(s);
            self.players[player].beatinfo = Some(b);
        }
    }

    fn on_connected(&mut self, conn: ConnId, out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.open = true;
        let (player, kind) = (c.player, c.kind);
        let hello = |name: &str, port: u16| ServiceAnnouncement::new(self.token, name, port);
        match kind {
            LinkKind::Directory => {
                out.write(conn, ServicesRequest { token: self.token }.to_bytes());
            }
            LinkKind::StateMap => {
                let mut b = hello("StateMap", STATEMAP_PORT).to_bytes();
                for p in SUBSCRIBES {
                    b.extend(StateMapMessage::subscribe(p, SUBSCRIBE_INTERVAL).to_bytes());
                }
                // The player number and each deck's volume (3.5 f194).
                let channel = self.players[player]
                    .channels
                    .iter()
                    .map(|c| c.0)
                    .min()
                    .unwrap_or(1)
                    .to_string();
                b.extend(
                    StateMapMessage::set("/Client/Preferences/Player", &StateValue::Enum(channel))
                        .to_bytes(),
                );
                b.extend(self.volume_sets(player, None));
                out.write(conn, b);
            }
            LinkKind::BeatInfo => {
                // Hello and start frame in one segment ([capture] f66).
                let mut b = hello("BeatInfo", BEATINFO_PORT).to_bytes();
                b.extend(BeatInfoMessage::StartStream.to_bytes());
                out.write(conn, b);
            }
        }
    }

    fn on_data(&mut self, conn: ConnId, bytes: &[u8], out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut msgs = Vec::new();
        let ok = c.inbuf.feed(bytes, |m| msgs.push(m)).is_ok();
        let (player, kind) = (c.player, c.kind);
        for m in msgs {
            match kind {
                LinkKind::Directory => self.on_directory(player, conn, &m, out),
                LinkKind::StateMap => self.on_statemap(conn, &m, out),
                // Beat emits are read (bounded by the framer) and not kept.
                LinkKind::BeatInfo => {}
            }
        }
        if !ok {
            self.conns.remove(&conn);
            out.push(Output::Close { conn });
        }
    }

    fn on_statemap(&mut self, conn: ConnId, m: &[u8], out: &mut Outbox) {
        if let Ok(StateMapMessage::Subscribe { path, .. }) = StateMapMessage::parse(m) {
            let Some(v) = self.value(&path) else { return };
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.subs.len() < MAX_SUBSCRIPTIONS || c.subs.contains_key(&path) {
                out.write(conn, StateMapMessage::value(&path, &v).to_bytes());
                c.subs.insert(path, v);
            }
        }
    }
}

impl Device for Mixer {
    fn label(&self) -> String {
        self.persona.device_name.to_string()
    }

    fn address(&self) -> HostAddress {
        self.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        if self.off {
            return None;
        }
        let a = self.announcer.poll_at();
        if self.players.is_empty() {
            a
        } else {
            Some(a.map_or(self.next_ping, |a| a.min(self.next_ping)))
        }
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        if self.off || now < self.power_on {
            return;
        }
        self.announcer.on_timer(now, out);
        if now >= self.next_ping {
            // 10 kHz ticks since power-on, little-endian (1.3.3).
            let ticks = ((now - self.power_on) / 100_000) as u64;
            let ping = Reference::ping_le(self.token, ticks).to_bytes();
            for (id, c) in &self.conns {
                if c.kind == LinkKind::Directory && c.open {
                    out.write(*id, ping.clone());
                }
            }
            self.next_ping = now + PING_EVERY;
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
        if self.off || to.port() != PORT || now < self.power_on {
            return;
        }
        let Some(h) = self.announcer.hear(now, from, payload) else {
            return;
        };
        if !Persona::is_deck_unit_code(&h.software) || h.port == 0 {
            return;
        }
        let ip = *from.ip();
        if self.players.iter().any(|p| p.ip == ip && p.port == h.port)
            || self.players.len() >= MAX_PLAYERS
        {
            return;
        }
        let count = self.faders.len() as u8;
        let mut channels: Vec<(u8, u8)> = self
            .cabling
            .iter()
            .filter(|c| c.ip == ip && (1..=count).contains(&c.channel))
            .map(|c| (c.channel, c.deck))
            .collect();
        if channels.is_empty() {
            // Not cabled: a channel per deck (layer), while channels are free (3.5: one SC6000
            // on channels 1 and 2).
            let taken: Vec<u8> = self
                .players
                .iter()
                .flat_map(|p| p.channels.iter().map(|c| c.0))
                .chain(self.cabling.iter().map(|c| c.channel))
                .collect();
            let free = (1..=count).filter(|c| !taken.contains(c));
            channels = free.zip(1..=2).collect();
        }
        self.players.push(PlayerLink {
            ip,
            port: h.port,
            token: None,
            channels: channels.clone(),
            services: Vec::new(),
            statemap: None,
            beatinfo: None,
            opened_services: false,
        });
        self.notes.push(Note {
            at: now,
            text: format!("connects to {ip}:{} (channels {channels:?})", h.port),
        });
        self.connect(self.players.len() - 1, LinkKind::Directory, h.port, out);
    }

    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        match event {
            StreamEvent::Connected => self.on_connected(conn, out),
            StreamEvent::Data(b) => self.on_data(conn, b, out),
            StreamEvent::Closed => {
                self.conns.remove(&conn);
            }
            // The mixer listens nowhere: anything accepted is a transport's mistake.
            StreamEvent::Accepted { .. } => out.push(Output::Close { conn }),
        }
    }

    fn command(&mut self, now: Nanos, command: &Command, out: &mut Outbox) -> bool {
        let Command::Fader { channel, on_air } = *command else {
            return false;
        };
        let ch = channel as usize;
        if self.off || ch == 0 || ch > self.faders.len() {
            return false;
        }
        self.faders[ch - 1] = if on_air { 1.0 } else { 0.0 };
        for i in 0..self.players.len() {
            if let Some(s) = self.players[i].statemap {
                if self.conns.get(&s).is_some_and(|c| c.open) {
                    out.write(s, self.volume_sets(i, Some(channel)));
                }
            }
        }
        self.refresh(out);
        self.notes.push(Note {
            at: now,
            text: format!("channel {channel} {}", if on_air { "up" } else { "down" }),
        });
        true
    }

    fn take_notes(&mut self, into: &mut Vec<Note>) {
        into.append(&mut self.notes);
    }

    fn shut_down(&mut self, _now: Nanos, out: &mut Outbox) {
        if self.off {
            return;
        }
        self.announcer.shut_down(out);
        for c in std::mem::take(&mut self.conns).into_keys() {
            out.push(Output::Close { conn: c });
        }
        self.off = true;
    }
}
