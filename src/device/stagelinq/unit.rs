//! A StageLinQ unit with decks: a player (SC5000, SC6000: two layers) or an all-in-one
//! (PRIME 4, PRIME 2, PRIME GO: decks and a mixer section), serving its directory and its
//! services to whoever connects (`stagelinq.md` 1.3.4 "Client-initiated"; the mixer connects
//! the same way, 3.4).
//!
//! Timing, from [capture] (`stagelinq.md` 3): HOWDY every second per identity, analyzers
//! half a second out of phase; Reference pings every 5 s with a nanosecond clock (1.3.3);
//! BeatInfo emits about every 33 ms once started (1.6: 34.8 ms on average). What each
//! connection answers is in `services.rs`.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use crate::device::library::Library;
use crate::device::{
    Command, ConnId, Device, HostAddress, Nanos, Note, Outbox, Output, StreamEvent, MS, SECOND,
};
use crate::stagelinq::discovery::PORT;
use crate::stagelinq::Token;

use super::deck::LoadedTrack;
use super::discovery::{Announcer, Identity};
use super::file_transfer::Volume;
use super::persona::{Kind, Service, ANALYZER_SOFTWARE, ANALYZER_VERSION};
use super::services::{Conn, Link};
use super::state::{UnitState, SOURCE_NAME};
use super::{first_port, token_for, Persona, Setup};

/// Reference ping period of the SC6000 ([capture] f431, f761, f1092: 5.0 s).
pub const PING_EVERY: Nanos = 5 * SECOND;
/// BeatInfo emit period (1.6: 29.9-46.4 ms, 34.8 on average; IT-EASY says ~33 Hz).
pub const BEAT_EVERY: Nanos = 33 * MS;
/// FileTransfer pacing: one window (64 KiB) per step per download, about 13 MB/s (honusz:
/// real transfers peak near 10 MB/s, `stagelinq.md` 1.9).
pub const FT_PACE: Nanos = 5 * MS;
/// Connections a unit keeps at once; more are closed at accept (each is bounded in memory,
/// this bounds their number against a connection flood).
pub const MAX_CONNECTIONS: usize = 2048;

pub struct Unit {
    pub(super) state: UnitState,
    pub(super) library: Arc<Library>,
    host: HostAddress,
    pub(super) power_on: Nanos,
    listening: bool,
    pub(super) announcer: Announcer,
    /// Directory port of each identity (index as in the announcer).
    pub(super) directory_ports: Vec<u16>,
    pub(super) service_ports: Vec<(Service, u16)>,
    pub(super) conns: BTreeMap<ConnId, Conn>,
    /// Tokens of mixers heard on 51337: a StateMap peer with one of them gets the player's
    /// own subscriptions to its `/Mixer/*` values (3.5); software clients never do
    /// (`clients.md` 5.2 item 5: PyStageLinQ parses every block as a value and crashes).
    pub(super) mixer_tokens: Vec<Token>,
    next_beat: Nanos,
    next_ping: Nanos,
    pub(super) notes: Vec<Note>,
    /// What FileTransfer serves (the Engine database and the demo tracks' files); None when
    /// the database could not be built, and then FileTransfer is not announced.
    pub(super) volume: Option<Arc<Volume>>,
    next_chunks: Nanos,
    off: bool,
}

impl Unit {
    pub fn new(setup: Setup) -> Unit {
        let p: &'static Persona = setup.persona;
        let ip = setup.host.ip;
        let first = first_port(ip);
        let mut identities = vec![Identity {
            token: token_for(ip, 0),
            software: p.software,
            version: p.version,
            port: first,
        }];
        for n in 1..=p.analyzers {
            identities.push(Identity {
                token: token_for(ip, n),
                software: ANALYZER_SOFTWARE,
                version: ANALYZER_VERSION,
                port: first + n as u16,
            });
        }
        let directory_ports = identities.iter().map(|i| i.port).collect::<Vec<_>>();
        let token = identities[0].token;
        let volume = if p.offers(Service::FileTransfer) {
            Volume::demo(&setup.library, SOURCE_NAME, &token.to_string())
                .ok()
                .map(Arc::new)
        } else {
            None
        };
        let base = first + identities.len() as u16;
        let service_ports = p
            .services
            .iter()
            .filter(|s| **s != Service::FileTransfer || volume.is_some())
            .enumerate()
            .map(|(k, s)| (*s, base + k as u16))
            .collect();
        Unit {
            state: UnitState::new(p, token, setup.player_number),
            library: setup.library,
            host: setup.host,
            power_on: setup.power_on,
            listening: false,
            announcer: Announcer::new(p, identities, 0, setup.power_on),
            directory_ports,
            service_ports,
            conns: BTreeMap::new(),
            mixer_tokens: Vec::new(),
            next_beat: setup.power_on,
            next_ping: setup.power_on + PING_EVERY,
            notes: Vec::new(),
            volume,
            next_chunks: setup.power_on,
            off: false,
        }
    }

    pub fn token(&self) -> Token {
        self.state.token
    }

    pub fn state(&self) -> &UnitState {
        &self.state
    }

    /// The announced services and their ports.
    pub fn services(&self) -> &[(Service, u16)] {
        &self.service_ports
    }

    pub fn directory_port(&self) -> u16 {
        self.directory_ports[0]
    }

    /// The unit's clock as its References and BeatInfo carry it: nanoseconds since power-on
    /// (1.3.3 "u64 BE nanoseconds of a monotonic clock"; 1.6 "Clock unit: nanoseconds").
    pub(super) fn clock(&self, now: Nanos) -> u64 {
        (now - self.power_on).max(0) as u64
    }

    pub(super) fn note(&mut self, at: Nanos, text: String) {
        self.notes.push(Note { at, text });
    }

    fn streaming(&self) -> bool {
        self.conns.values().any(|c| c.streaming)
    }

    fn pinging(&self) -> bool {
        self.conns
            .values()
            .any(|c| matches!(c.link, Link::Directory { asked: true, .. }))
    }

    /// The deck a front-panel command acts on: the active layer of a player, deck 1 of an
    /// all-in-one unless the command names one.
    fn deck_command(&mut self, now: Nanos, deck: usize, command: &Command) -> bool {
        let Some(d) = self.state.decks.get_mut(deck) else {
            return false;
        };
        let done = match *command {
            Command::Load { track_id, .. } => {
                let Some(t) = self.library.track(track_id) else {
                    return false;
                };
                let t = LoadedTrack::from_library(&self.library, t);
                let title = t.title.clone();
                d.load(now, t);
                self.note(now, format!("deck {} loads \"{title}\"", deck + 1));
                return true;
            }
            Command::Play => d.play(now),
            Command::Pause => d.pause(now),
            Command::Cue => d.cue(now),
            Command::Pitch(p) => {
                d.set_pitch(now, p);
                true
            }
            Command::Sync(on) => {
                d.sync = on;
                // Within the unit the master deck's tempo is known; across units the
                // reference knows no sync exchange (the Syncing service is unexplained, 1.3.2).
                let master = self
                    .state
                    .decks
                    .iter()
                    .enumerate()
                    .find(|(i, d)| d.master && *i != deck)
                    .map(|(_, d)| d.effective_bpm());
                if let (true, Some(bpm)) = (on, master) {
                    let d = &mut self.state.decks[deck];
                    if let Some(t) = d.track.clone() {
                        d.set_pitch(now, (bpm / t.bpm - 1.0) * 100.0);
                    }
                }
                true
            }
            Command::BecomeMaster => {
                for (i, d) in self.state.decks.iter_mut().enumerate() {
                    d.master = i == deck;
                }
                true
            }
            _ => false,
        };
        if done {
            let what = command.name();
            self.note(now, format!("deck {} {what}", deck + 1));
        }
        done
    }
}

impl Device for Unit {
    fn label(&self) -> String {
        format!(
            "{} #{}",
            self.state.persona.device_name, self.state.player_number
        )
    }

    fn address(&self) -> HostAddress {
        self.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        if self.off {
            return None;
        }
        if !self.listening {
            return Some(self.power_on);
        }
        let mut t = self.announcer.poll_at();
        let mut at = |x: Nanos| t = Some(t.map_or(x, |t: Nanos| t.min(x)));
        if self.streaming() {
            at(self.next_beat);
        }
        if self.pinging() {
            at(self.next_ping);
        }
        if self.downloading() {
            at(self.next_chunks);
        }
        t
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        if self.off || now < self.power_on {
            return;
        }
        if !self.listening {
            self.listening = true;
            for p in self
                .directory_ports
                .iter()
                .chain(self.service_ports.iter().map(|s| &s.1))
            {
                out.push(Output::Listen { port: *p });
            }
        }
        self.announcer.on_timer(now, out);
        if now >= self.next_beat {
            if self.streaming() {
                self.send_beats(now, out);
            }
            // Keep the period when a timer fires late (a busy host): the next emit is due one
            // period after the last one was, unless that is already past.
            self.next_beat = if self.next_beat + BEAT_EVERY > now {
                self.next_beat + BEAT_EVERY
            } else {
                now + BEAT_EVERY
            };
        }
        if now >= self.next_ping {
            if self.pinging() {
                self.send_pings(now, out);
            }
            self.next_ping = now + PING_EVERY;
        }
        if now >= self.next_chunks {
            if self.downloading() {
                self.send_chunks(out);
            }
            self.next_chunks = now + FT_PACE;
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
        // Switched off, or not yet on: deaf, as real gear.
        if self.off || to.port() != PORT || now < self.power_on {
            return;
        }
        if let Some(h) = self.announcer.hear(now, from, payload) {
            if Persona::is_mixer_code(&h.software)
                && !self.mixer_tokens.contains(&h.token)
                // Bounded: a handful of mixers at most on a real network.
                && self.mixer_tokens.len() < 8
            {
                self.mixer_tokens.push(h.token);
                // A mixer that connected before its HOWDY was heard.
                let conns: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.link == Link::Service(Service::StateMap))
                    .map(|(id, _)| *id)
                    .collect();
                for c in conns {
                    self.ask_mixer(c, out);
                }
            }
        }
    }

    fn on_stream(&mut self, now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        if self.off {
            if let StreamEvent::Accepted { .. } = event {
                out.push(Output::Close { conn });
            }
            return;
        }
        match event {
            StreamEvent::Accepted { local_port, peer } => {
                self.accept(now, conn, local_port, peer, out)
            }
            StreamEvent::Data(bytes) => self.data(now, conn, bytes, out),
            StreamEvent::Closed => {
                self.conns.remove(&conn);
            }
            StreamEvent::Connected => {}
        }
    }

    fn command(&mut self, now: Nanos, command: &Command, out: &mut Outbox) -> bool {
        if self.off {
            return false;
        }
        let all_in_one = self.state.persona.kind == Kind::AllInOne;
        let done = match command {
            Command::OnDeck { deck, command } => {
                let d = (*deck as usize).wrapping_sub(1);
                if d >= self.state.decks.len() {
                    return false;
                }
                if !all_in_one {
                    // A player's layer button: the DJ switches to the layer first.
                    self.state.active_deck = d;
                }
                self.deck_command(now, d, command)
            }
            Command::Fader { channel, on_air } if all_in_one => {
                let ch = (*channel as usize).wrapping_sub(1);
                if ch >= self.state.faders.len() {
                    return false;
                }
                let level = if *on_air { 1.0 } else { 0.0 };
                self.state.faders[ch] = level;
                // Channel n plays deck n on the unit's own mixer section.
                if let Some(d) = self.state.decks.get_mut(ch) {
                    d.volume = level;
                }
                true
            }
            Command::Fader { .. } | Command::FaderStart { .. } => false,
            c => {
                let d = if all_in_one {
                    0
                } else {
                    self.state.active_deck
                };
                self.deck_command(now, d, c)
            }
        };
        if done {
            if let Command::Load { track_id, .. } = innermost(command) {
                self.broadcast_track_changed(*track_id, out);
            }
            self.refresh(out);
        }
        done
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
        for p in self
            .directory_ports
            .iter()
            .chain(self.service_ports.iter().map(|s| &s.1))
        {
            out.push(Output::Unlisten { port: *p });
        }
        self.off = true;
    }
}

/// The command an [`Command::OnDeck`] wraps (or the command itself).
fn innermost(c: &Command) -> &Command {
    match c {
        Command::OnDeck { command, .. } => innermost(command),
        c => c,
    }
}
