//! Being on a Pro DJ Link network: power-up, number negotiation, keep-alives and the peer table
//! (`prodjlink.md` 2, 9.1, 9.2). Every device model owns one [`Presence`] and hands it the
//! port-50000 datagrams; the presence says which number the device holds and who its peers are.
//!
//! The sequence (9.1): 3 hellos, 3 claim-stage-1 (`00`, MAC), 3 claim-stage-2 (`02`, IP and the
//! wanted number), claim stage 3 (`04`) 3x when the number is automatic and 1x when it is
//! configured (DYS-S), then keep-alives every 1.5 s. The holder of a number answers a claim or
//! keep-alive for it with a unicast `08` and the claimant moves on (9.1, BL
//! `handleSpecialAnnouncementPacket`). A mixer with channel ports assigns numbers with
//! `01`/`02`/`03`/`04`/`05` (9.2, [`super::mixer`]).

use std::net::{Ipv4Addr, SocketAddrV4};

use super::peers::{Peers, Seen};
use super::persona::{Era, Kind, Persona, CLAIM_STEP, KEEP_ALIVE_EVERY};
use super::ANNOUNCE_PORT;
use crate::device::{Destination, HostAddress, Nanos, Note, Outbox};
use crate::prodjlink::{ChannelConflict, ClaimFinal, ClaimIp, ClaimMac, Hello, KeepAlive, Packet};

/// Where in the power-up sequence the device is. The counter N runs 1..=3 in each stage (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Switched off until `power_on`.
    Off,
    Hello(u8),
    ClaimMac(u8),
    ClaimIp(u8),
    /// A mixer said it will assign our number (0x01); waiting for its 0x03.
    AwaitAssign,
    ClaimFinal(u8),
    /// Holding the number, sending keep-alives.
    Up,
}

/// Number negotiation and keep-alives of one device.
#[derive(Debug, Clone)]
pub struct Presence {
    pub persona: &'static Persona,
    pub host: HostAddress,
    number: u8,
    /// Configured (`--device N`) rather than automatic.
    fixed: bool,
    stage: Stage,
    /// When the next claim packet or keep-alive is due.
    due: Nanos,
    pub peers: Peers,
    /// Numbers others defended against us: never claimed again.
    refused: Vec<u8>,
    pub notes: Vec<Note>,
}

impl Presence {
    /// A device that powers up at `power_on` and wants `number` (`fixed`: configured, else the
    /// automatic number it remembers from last time, 9.1 "auto numbering is remembered").
    pub fn new(
        persona: &'static Persona,
        host: HostAddress,
        number: u8,
        fixed: bool,
        power_on: Nanos,
    ) -> Self {
        Presence {
            persona,
            host,
            number,
            fixed,
            stage: Stage::Off,
            due: power_on,
            peers: Peers::default(),
            refused: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn number(&self) -> u8 {
        self.number
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn is_up(&self) -> bool {
        self.stage == Stage::Up
    }

    pub fn poll_at(&self) -> Option<Nanos> {
        let mut at = self.due;
        if let Some(e) = self.peers.next_expiry() {
            at = at.min(e);
        }
        Some(at)
    }

    fn note(&mut self, at: Nanos, text: String) {
        self.notes.push(Note { at, text });
    }

    /// Send what is due at `now` and forget peers that fell silent.
    pub fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        for p in self.peers.expire(now) {
            let text = format!(
                "peer {} #{} at {} left (silent 10 s)",
                p.name, p.number, p.ip
            );
            self.note(now, text);
        }
        while self.due <= now {
            let at = self.due;
            self.step(at, out);
        }
    }

    /// One packet of the sequence at `at`, and the time of the next.
    fn step(&mut self, at: Nanos, out: &mut Outbox) {
        let next_stage = |s: Stage, fixed: bool| match s {
            Stage::Off => Stage::Hello(1),
            Stage::Hello(3) => Stage::ClaimMac(1),
            Stage::Hello(n) => Stage::Hello(n + 1),
            Stage::ClaimMac(3) => Stage::ClaimIp(1),
            Stage::ClaimMac(n) => Stage::ClaimMac(n + 1),
            Stage::ClaimIp(3) => Stage::ClaimFinal(1),
            Stage::ClaimIp(n) => Stage::ClaimIp(n + 1),
            Stage::ClaimFinal(n) if n >= 3 || fixed => Stage::Up,
            Stage::ClaimFinal(n) => Stage::ClaimFinal(n + 1),
            // Without the mixer's 0x03 the player goes on by itself.
            Stage::AwaitAssign => Stage::ClaimIp(1),
            Stage::Up => Stage::Up,
        };
        if self.stage == Stage::Off {
            self.stage = Stage::Hello(1);
        }
        match self.stage {
            Stage::Hello(_) => out.datagram(ANNOUNCE_PORT, BROADCAST, self.hello().to_bytes()),
            Stage::ClaimMac(n) => {
                out.datagram(ANNOUNCE_PORT, BROADCAST, self.claim_mac(n).to_bytes())
            }
            Stage::ClaimIp(n) => {
                out.datagram(ANNOUNCE_PORT, BROADCAST, self.claim_ip(n).to_bytes())
            }
            Stage::ClaimFinal(n) => {
                out.datagram(ANNOUNCE_PORT, BROADCAST, self.claim_final(n).to_bytes())
            }
            Stage::AwaitAssign => {}
            Stage::Up => {
                out.datagram(ANNOUNCE_PORT, BROADCAST, self.keep_alive().to_bytes());
                self.due = at + KEEP_ALIVE_EVERY;
                return;
            }
            Stage::Off => unreachable!("left above"),
        }
        self.stage = next_stage(self.stage, self.fixed);
        // Keep-alives follow the last claim one step later (2: settled ~3.6 s after the
        // first hello with 12 packets 300 ms apart).
        self.due = at + CLAIM_STEP;
        if self.stage == Stage::Up {
            let text = format!("took number {}", self.number);
            self.note(at, text);
        }
    }

    // ---- Packets (each built with its Repr; the era decides the form, 9.3). ----

    fn cdj3000_forms(&self) -> bool {
        self.persona.era == Era::Cdj3000 && self.persona.kind != Kind::Mixer
    }

    fn hello(&self) -> Hello {
        if self.cdj3000_forms() && self.persona.class == 1 {
            Hello::cdj3000(self.persona.name)
        } else {
            // rekordbox's hello class is not in the reference (2 lists 01/02/05/07): it sends
            // its claim class `04` here too.
            Hello::new(self.persona.name, self.persona.class)
        }
    }

    fn claim_mac(&self, n: u8) -> ClaimMac {
        let mut c = ClaimMac::new(self.persona.name, n, self.persona.class, self.host.mac);
        if self.cdj3000_forms() {
            c.header.structure = 3;
        }
        c
    }

    fn claim_ip(&self, n: u8) -> ClaimIp {
        let p = self.persona;
        let mut c = ClaimIp::new(
            p.name,
            self.host.ip,
            self.host.mac,
            self.number,
            n,
            p.class,
            !self.fixed,
        );
        if self.cdj3000_forms() {
            c.header.structure = 3;
        }
        c
    }

    fn claim_final(&self, n: u8) -> ClaimFinal {
        let mut c = ClaimFinal::new(self.persona.name, self.number, n);
        if self.cdj3000_forms() {
            c.header.structure = 3;
        }
        c
    }

    /// The keep-alive (2 kind 06) with our own address; peer count includes ourselves.
    pub fn keep_alive(&self) -> KeepAlive {
        let p = self.persona;
        let peers = (self.peers.len() + 1).min(u8::MAX as usize) as u8;
        let mut k = KeepAlive::cdj(p.name, self.number, self.host.mac, self.host.ip, peers);
        if self.cdj3000_forms() {
            k.header.structure = 3;
        }
        // 25: `01` CDJ / `02` mixer (DYS); rekordbox sets 31 = `01` (PDJL, OQ template).
        k.role_flag = if p.kind == Kind::Mixer { 2 } else { 1 };
        if p.kind == Kind::Rekordbox {
            k.unknown_31 = [1, 0, 0];
        }
        k.device_type = p.device_type;
        k.model = p.model_code;
        k
    }

    // ---- Input on port 50000. ----

    /// Handle a port-50000 datagram; `from` is its UDP source.
    pub fn on_announce(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        packet: &Packet,
        out: &mut Outbox,
    ) {
        if self.stage == Stage::Off {
            return;
        }
        match packet {
            Packet::KeepAlive(k) => {
                if k.ip == self.host.ip && k.mac == self.host.mac {
                    return;
                }
                if self.peers.saw(now, k) == Seen::Joined {
                    let text = format!(
                        "peer {} #{} at {} joined",
                        k.header.name.text(),
                        k.device,
                        k.ip
                    );
                    self.note(now, text);
                }
                if k.device == self.number {
                    if self.is_up() {
                        self.defend(now, k.ip, out);
                    } else if !self.fixed {
                        // AUTO watches the network before claiming (BL waits 4 s, 9.5
                        // XDJ-XZ); a configured number is claimed anyway and defended.
                        self.give_way(now, "is held by a peer");
                    }
                }
            }
            Packet::ClaimIp(c) if c.device == self.number && c.ip != self.host.ip => {
                self.contested(now, c.ip, c.mac, out)
            }
            Packet::ClaimFinal(c)
                if c.device == self.number && *from.ip() != self.host.ip && self.is_up() =>
            {
                self.defend(now, *from.ip(), out);
            }
            Packet::ChannelConflict(c)
                if c.device == self.number && c.defender_ip != self.host.ip =>
            {
                let text = format!("number {} defended by {}", c.device, c.defender_ip);
                self.note(now, text);
                self.give_way(now, "was defended");
            }
            // 9.2: a mixer will assign our number on its channel port: answer with the
            // "please assign me" claim (0b=`01`, D=`00`) unicast to the mixer.
            Packet::MixerAssignIntent(m)
                if matches!(self.stage, Stage::Hello(_) | Stage::ClaimMac(_)) =>
            {
                let mut c = self.claim_ip(1);
                c.header.sub_kind = 1;
                c.device = 0;
                out.datagram(
                    ANNOUNCE_PORT,
                    Destination::Unicast(SocketAddrV4::new(m.mixer_ip, ANNOUNCE_PORT)),
                    c.to_bytes(),
                );
                self.stage = Stage::AwaitAssign;
                self.due = now + 4 * CLAIM_STEP;
            }
            Packet::MixerAssign(a) if self.stage == Stage::AwaitAssign => {
                // The mixer's choice overrides our setting (9.2); one 04, then keep-alives.
                self.number = a.device;
                out.datagram(ANNOUNCE_PORT, BROADCAST, self.claim_final(1).to_bytes());
                self.stage = Stage::Up;
                self.due = now + CLAIM_STEP;
                let text = format!("took number {} from the mixer's channel port", self.number);
                self.note(now, text);
            }
            _ => {}
        }
    }

    /// Someone else claims our number with a stage-2 claim.
    fn contested(&mut self, now: Nanos, ip: Ipv4Addr, mac: [u8; 6], out: &mut Outbox) {
        if self.is_up() {
            self.defend(now, ip, out);
        } else if matches!(self.stage, Stage::ClaimIp(_) | Stage::ClaimFinal(_)) {
            // Two claimants at once: the reference does not say who wins. The lower MAC
            // defends, the other waits for its 0x08, so exactly one moves.
            if self.host.mac < mac {
                self.defend(now, ip, out);
            }
        }
    }

    /// 9.1: "any holder of D answers a claim for D with unicast 08".
    fn defend(&mut self, now: Nanos, claimant: Ipv4Addr, out: &mut Outbox) {
        let c = ChannelConflict::new(self.persona.name, self.number, self.host.ip);
        out.datagram(
            ANNOUNCE_PORT,
            Destination::Unicast(SocketAddrV4::new(claimant, ANNOUNCE_PORT)),
            c.to_bytes(),
        );
        let text = format!("defended number {} against {claimant}", self.number);
        self.note(now, text);
    }

    /// Move to the lowest free number of our range and claim it from stage 2.
    fn give_way(&mut self, now: Nanos, why: &str) {
        let old = self.number;
        if !self.refused.contains(&old) {
            self.refused.push(old);
        }
        let (lo, hi) = self.persona.auto_numbers;
        let free = (lo..=hi).find(|n| !self.refused.contains(n) && !self.peers.holds(*n));
        let Some(n) = free else {
            let text = format!("number {old} {why}, and no other number is free: keeping it");
            self.note(now, text);
            return;
        };
        self.number = n;
        let text = format!("number {old} {why}: claiming {n} instead");
        self.note(now, text);
        if self.is_up() || !matches!(self.stage, Stage::Hello(_) | Stage::ClaimMac(_)) {
            self.stage = Stage::ClaimIp(1);
            self.due = now + CLAIM_STEP;
        }
    }
}

const BROADCAST: Destination = Destination::Broadcast(ANNOUNCE_PORT);
