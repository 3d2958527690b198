//! Discovery on UDP 51337 (`stagelinq.md` 1.2): the HOWDYs a unit sends every second for each
//! of its identities, the EXIT on shutdown, and what it learns from the HOWDYs of others.
//!
//! * Players and all-in-ones send from a fresh ephemeral port for every datagram to the
//!   limited broadcast (1.2 "Addressing", [capture] 51 frames from 51 ports); the mixer sends
//!   from 51337 itself to the subnet broadcast ([capture]). The transport picks the broadcast
//!   address ([`Destination::Broadcast`]).
//! * A client bound to a unicast address never sees broadcasts (`clients.md` 5.1: PyStageLinQ
//!   with `ip="127.0.0.1"`), so every HOWDY and EXIT is also sent unicast to each software
//!   client heard announcing itself (a HOWDY whose software name is no hardware code) in the
//!   last [`PEER_TIMEOUT`]. Real units do not do this; it costs hardware peers nothing (they
//!   get no copy) and lets such clients find the emulator.
//! * OfflineAnalyzer identities announce half a second out of phase with the unit's own
//!   identity, as a back-to-back pair (2.2: ~180 us apart in [capture], ~50 us on a Prime Go).

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::device::{Destination, Nanos, Outbox, MS, SECOND};
use crate::stagelinq::discovery::{Action, Discovery, PORT};
use crate::stagelinq::Token;

use super::persona::Persona;

/// HOWDY period: 1.000 s per identity in [capture] (1.2 "Period", 3.3).
pub const HOWDY_EVERY: Nanos = SECOND;
/// Analyzers announce this long after the unit's own identity (2.2).
pub const ANALYZER_PHASE: Nanos = 500 * MS;
/// A software client silent this long gets no more unicast copies.
pub const PEER_TIMEOUT: Nanos = 10 * SECOND;
/// At most this many software clients get unicast copies (a flood of made-up HOWDYs cannot
/// grow the list or the traffic without bound).
pub const MAX_PEERS: usize = 16;

/// One identity a unit announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub token: Token,
    pub software: &'static str,
    pub version: &'static str,
    /// Its directory port (0: none).
    pub port: u16,
}

/// A HOWDY heard from someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub from: SocketAddrV4,
    pub token: Token,
    pub software: String,
    pub port: u16,
}

#[derive(Debug)]
pub struct Announcer {
    device_name: &'static str,
    /// Identity 0 is the unit itself; the rest are analyzers.
    pub identities: Vec<Identity>,
    /// 0: a fresh ephemeral port per datagram; else the fixed source port (the mixer: 51337).
    from_port: u16,
    next_own: Nanos,
    next_analyzers: Nanos,
    /// Software clients: (address, last heard).
    clients: Vec<(Ipv4Addr, Nanos)>,
    stopped: bool,
}

impl Announcer {
    pub fn new(persona: &Persona, identities: Vec<Identity>, from_port: u16, start: Nanos) -> Self {
        Announcer {
            device_name: persona.device_name,
            identities,
            from_port,
            next_own: start,
            next_analyzers: start + ANALYZER_PHASE,
            clients: Vec::new(),
            stopped: false,
        }
    }

    pub fn own_token(&self) -> Token {
        self.identities[0].token
    }

    pub fn poll_at(&self) -> Option<Nanos> {
        if self.stopped {
            return None;
        }
        Some(if self.identities.len() > 1 {
            self.next_own.min(self.next_analyzers)
        } else {
            self.next_own
        })
    }

    fn send(&self, out: &mut Outbox, action: Action, id: &Identity) {
        let d = Discovery {
            action,
            ..Discovery::howdy(id.token, self.device_name, id.software, id.version, id.port)
        };
        let bytes = d.to_bytes();
        for (ip, _) in &self.clients {
            out.datagram(
                self.from_port,
                Destination::Unicast(SocketAddrV4::new(*ip, PORT)),
                bytes.clone(),
            );
        }
        out.datagram(self.from_port, Destination::Broadcast(PORT), bytes);
    }

    pub fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        if self.stopped {
            return;
        }
        self.clients.retain(|(_, t)| now - *t < PEER_TIMEOUT);
        if now >= self.next_own {
            self.send(out, Action::Howdy, &self.identities[0]);
            self.next_own = now + HOWDY_EVERY;
        }
        if self.identities.len() > 1 && now >= self.next_analyzers {
            for id in &self.identities[1..] {
                self.send(out, Action::Howdy, id);
            }
            self.next_analyzers = now + HOWDY_EVERY;
        }
    }

    /// One EXIT per identity (1.2 "EXIT"); nothing more is announced.
    pub fn shut_down(&mut self, out: &mut Outbox) {
        if self.stopped {
            return;
        }
        for id in &self.identities {
            self.send(out, Action::Exit, id);
        }
        self.stopped = true;
    }

    pub fn is_own(&self, token: &Token) -> bool {
        self.identities.iter().any(|i| i.token == *token)
    }

    /// Read a datagram that reached 51337: None for anything that is not a well-formed
    /// discovery message, for our own announcements (self-echo, 1.2) and for EXITs.
    pub fn hear(&mut self, now: Nanos, from: SocketAddrV4, payload: &[u8]) -> Option<Heard> {
        let d = Discovery::parse(payload).ok()?;
        if self.is_own(&d.token) || d.action.is_exit() {
            return None;
        }
        if !Persona::is_hardware_code(&d.software) && !from.ip().is_unspecified() {
            let known = self.clients.iter().position(|(ip, _)| ip == from.ip());
            match known {
                Some(i) => self.clients[i].1 = now,
                None if self.clients.len() < MAX_PEERS => self.clients.push((*from.ip(), now)),
                None => {}
            }
        }
        Some(Heard {
            from,
            token: d.token,
            software: d.software,
            port: d.port,
        })
    }
}
