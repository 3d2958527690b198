//! A Pro DJ Link rig: one DJM mixer and some players, each booting, claiming its number,
//! keeping alive, sending status to its peers, beating, and acting on what the DJ does
//! (`prodjlink.md` 2-4, 9). Scenarios drive it with timed actions; each action that changes
//! what a player reports sends an immediate status at exactly the action's time, so the script
//! time is the time of the first packet that shows the change.

use std::io::Write;

use crate::prodjlink::{
    ChannelsOnAir, ClaimFinal, ClaimIp, ClaimMac, Hello, KeepAlive, MixerStatus,
};

use super::net::{link_local_from_mac, HostId, Net, Payload, To};
use super::pdl_deck::{beat_packet, fill_status, position_packet, status_template, Deck, Model};
use super::wire::{Sched, MS, US};
use super::Cx;

/// Discovery, beats and status ports (prodjlink.md 2-4).
const ANNOUNCE_PORT: u16 = 50000;
const BEAT_PORT: u16 = 50001;
const STATUS_PORT: u16 = 50002;
pub const MIXER_NUMBER: u8 = 33;
/// Power-up: 12 packets 300 ms apart, then keep-alives (prodjlink.md 2 "Timing facts", 9.1).
const BOOT_STEP: i128 = 300 * MS;
const BOOT_STEPS: u8 = 12;
pub const BOOT_TIME: i128 = BOOT_STEP * BOOT_STEPS as i128;
const KEEP_ALIVE_EVERY: i128 = 1500 * MS;
const STATUS_EVERY: i128 = 200 * MS;
const ON_AIR_EVERY: i128 = 300 * MS;
const POSITION_EVERY: i128 = 30 * MS;
/// How long a load takes from the `loading` state to `cued`.
pub const LOAD_TIME: i128 = 400 * MS;
/// The mixer's backup metronome when no master is playing.
const MIXER_IDLE_BPM: f64 = 120.0;

/// A device of the rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Mixer,
    /// Index into [`Rig::players`].
    Player(usize),
}

/// Work the rig schedules for itself.
#[derive(Debug, Clone, Copy)]
pub enum PdlTimer {
    Boot { unit: Unit, step: u8 },
    KeepAlive(Unit),
    Status(Unit),
    Beat { player: usize, gen: u32 },
    Position { player: usize, gen: u32 },
    LoadDone { player: usize },
    MixerBeat,
    OnAir,
}

/// How a player or mixer is set up.
#[derive(Debug, Clone, Copy)]
pub struct UnitSpec {
    pub number: u8,
    pub model: Model,
    pub mac: [u8; 6],
    pub boot_ns: i128,
    pub has_usb: bool,
}

pub struct Player {
    pub number: u8,
    pub model: Model,
    pub host: HostId,
    pub boot_ns: i128,
    pub deck: Deck,
    status: crate::prodjlink::CdjStatus,
    packet_counter: u32,
    beat_gen: u32,
    pos_gen: u32,
}

pub struct Mixer {
    pub host: HostId,
    pub boot_ns: i128,
    pub channels: [bool; 4],
    /// Set once some player has been tempo master (M_h `00` before, 4.3).
    master_seen: bool,
    next_idle_beat: u32,
}

pub struct Rig {
    pub mixer: Mixer,
    pub players: Vec<Player>,
}

/// Most units a rig holds (players and the mixer).
const MAX_UNITS: usize = 8;

/// The peers of a unit at some moment.
struct Peers {
    hosts: [HostId; MAX_UNITS],
    len: usize,
}

impl Peers {
    fn push(&mut self, h: HostId) {
        if self.len < MAX_UNITS {
            self.hosts[self.len] = h;
            self.len += 1;
        }
    }
    fn len(&self) -> usize {
        self.len
    }
    fn iter(&self) -> impl Iterator<Item = HostId> + '_ {
        self.hosts[..self.len].iter().copied()
    }
}

fn up_at(boot_ns: i128) -> i128 {
    boot_ns + BOOT_TIME
}

impl Rig {
    /// Add the hosts to `net` (link-local addresses from the MACs) and schedule the boots.
    pub fn new<T: From<PdlTimer>>(
        net: &mut Net,
        sched: &mut Sched<T>,
        mixer: UnitSpec,
        players: &[UnitSpec],
    ) -> Rig {
        let host = |net: &mut Net, u: &UnitSpec| {
            // Real decks count status source ports up from a few thousand (UE §3.2, CAP).
            let first = 1024 + (u.mac[5] as u16) * 20;
            net.add(
                u.model.name(),
                u.mac,
                link_local_from_mac(u.mac),
                (first, 65000),
            )
        };
        let rig = Rig {
            mixer: Mixer {
                host: host(net, &mixer),
                boot_ns: mixer.boot_ns,
                channels: [false; 4],
                master_seen: false,
                next_idle_beat: 1,
            },
            players: players
                .iter()
                .map(|p| Player {
                    number: p.number,
                    model: p.model,
                    host: host(net, p),
                    boot_ns: p.boot_ns,
                    deck: Deck::default(),
                    status: status_template(p.model.persona(), p.number, p.has_usb),
                    packet_counter: 0,
                    beat_gen: 0,
                    pos_gen: 0,
                })
                .collect(),
        };
        sched.at(
            mixer.boot_ns,
            T::from(PdlTimer::Boot {
                unit: Unit::Mixer,
                step: 0,
            }),
        );
        for (i, p) in players.iter().enumerate() {
            sched.at(
                p.boot_ns,
                T::from(PdlTimer::Boot {
                    unit: Unit::Player(i),
                    step: 0,
                }),
            );
        }
        rig
    }

    pub fn player_index(&self, number: u8) -> usize {
        match self.players.iter().position(|p| p.number == number) {
            Some(i) => i,
            None => panic!("script names player {number}, which the rig does not have"),
        }
    }

    pub fn host_of(&self, number: u8) -> HostId {
        if number == MIXER_NUMBER {
            self.mixer.host
        } else {
            self.players[self.player_index(number)].host
        }
    }

    fn boot_of(&self, u: Unit) -> i128 {
        match u {
            Unit::Mixer => self.mixer.boot_ns,
            Unit::Player(i) => self.players[i].boot_ns,
        }
    }

    fn unit_host(&self, u: Unit) -> HostId {
        match u {
            Unit::Mixer => self.mixer.host,
            Unit::Player(i) => self.players[i].host,
        }
    }

    /// Devices `u` knows about at `t` (their keep-alives have started), players in number
    /// order, then the mixer. A fixed array: this runs for every status round.
    fn peers(&self, u: Unit, t: i128) -> Peers {
        let mut order: [(u8, usize); MAX_UNITS] = [(u8::MAX, 0); MAX_UNITS];
        let mut n = 0;
        for (i, p) in self.players.iter().enumerate() {
            if Unit::Player(i) != u && up_at(p.boot_ns) <= t && n < MAX_UNITS {
                order[n] = (p.number, p.host.0);
                n += 1;
            }
        }
        order[..n].sort_unstable();
        let mut peers = Peers {
            hosts: [HostId(0); MAX_UNITS],
            len: 0,
        };
        for (_, h) in &order[..n] {
            peers.push(HostId(*h));
        }
        if u != Unit::Mixer && up_at(self.mixer.boot_ns) <= t {
            peers.push(self.mixer.host);
        }
        peers
    }

    /// The tempo master, if any.
    fn master(&self) -> Option<&Player> {
        self.players.iter().find(|p| p.deck.master)
    }

    pub fn fire<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        timer: PdlTimer,
    ) {
        match timer {
            PdlTimer::Boot { unit, step } => self.boot(cx, t, unit, step),
            PdlTimer::KeepAlive(u) => {
                self.keep_alive(cx, t, u);
                let next = t + KEEP_ALIVE_EVERY + cx.rng.jitter(3 * MS);
                cx.sched.at(next, T::from(PdlTimer::KeepAlive(u)));
            }
            PdlTimer::Status(u) => {
                self.send_status(cx, t, u);
                let next = t + STATUS_EVERY + cx.rng.jitter(MS);
                cx.sched.at(next, T::from(PdlTimer::Status(u)));
            }
            PdlTimer::Beat { player, gen } => self.beat(cx, t, player, gen),
            PdlTimer::Position { player, gen } => {
                let p = &self.players[player];
                if gen != p.pos_gen || p.deck.track.is_none() {
                    return;
                }
                let pos = position_packet(p.model.name(), p.number, &p.deck, t);
                let sport = cx.net.ephemeral_port(p.host);
                cx.net
                    .udp(cx.wire, t, p.host, sport, To::Subnet, BEAT_PORT, &[&pos]);
                let next = t + POSITION_EVERY + cx.rng.jitter(300 * US);
                cx.sched
                    .at(next, T::from(PdlTimer::Position { player, gen }));
            }
            PdlTimer::LoadDone { player } => {
                let d = &mut self.players[player].deck;
                d.loading = false;
                d.load_done = true;
                self.send_status(cx, t, Unit::Player(player));
            }
            PdlTimer::MixerBeat => {
                // The backup metronome is heard only while no master plays.
                if !self.master().is_some_and(|m| m.deck.playing) {
                    let k = self.mixer.next_idle_beat;
                    let b = crate::prodjlink::Beat::new(
                        Model::Djm900Nxs2.name(),
                        MIXER_NUMBER,
                        MIXER_IDLE_BPM,
                        0.0,
                        super::pdl_deck::beat_in_bar(k),
                    );
                    self.broadcast_beat(cx, t, Unit::Mixer, &b);
                    self.mixer.next_idle_beat = k + 1;
                }
                let period = (60_000.0 / MIXER_IDLE_BPM * 1e6) as i128;
                cx.sched.at(t + period, T::from(PdlTimer::MixerBeat));
            }
            PdlTimer::OnAir => {
                self.send_on_air(cx, t);
                let next = t + ON_AIR_EVERY + cx.rng.jitter(MS);
                cx.sched.at(next, T::from(PdlTimer::OnAir));
            }
        }
    }

    /// Hello x3, claim stage 1 x3, stage 2 x3, stage 3 x3, then keep-alives (9.1).
    fn boot<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        unit: Unit,
        step: u8,
    ) {
        let host = self.unit_host(unit);
        let (model, number) = match unit {
            Unit::Mixer => (Model::Djm900Nxs2, MIXER_NUMBER),
            Unit::Player(i) => (self.players[i].model, self.players[i].number),
        };
        if step >= BOOT_STEPS {
            self.keep_alive(cx, t, unit);
            let next = t + KEEP_ALIVE_EVERY + cx.rng.jitter(3 * MS);
            cx.sched.at(next, T::from(PdlTimer::KeepAlive(unit)));
            // Status starts with the keep-alives; each unit has its own phase.
            let phase = 20 * MS + cx.rng.below(150) as i128 * MS;
            cx.sched.at(t + phase, T::from(PdlTimer::Status(unit)));
            if unit == Unit::Mixer {
                cx.sched.at(t + 40 * MS, T::from(PdlTimer::OnAir));
                cx.sched.at(t + 250 * MS, T::from(PdlTimer::MixerBeat));
            }
            return;
        }
        let (mac, ip) = {
            let h = cx.net.host(host);
            (h.mac, h.ip)
        };
        let name = model.name();
        let cdj3000 = model == Model::Cdj3000;
        let class = if unit == Unit::Mixer { 2 } else { 1 };
        // Counter N runs 1..3 within each stage (section 2).
        let n = step % 3 + 1;
        let packet: Box<dyn Payload> = match step / 3 {
            0 if cdj3000 => Box::new(Hello::cdj3000(name)),
            0 => Box::new(Hello::new(name, class)),
            1 => {
                let mut c = ClaimMac::new(name, n, class, mac);
                if cdj3000 {
                    c.header.structure = 3;
                }
                Box::new(c)
            }
            2 => {
                let mut c = ClaimIp::new(name, ip, mac, number, n, class, true);
                if cdj3000 {
                    c.header.structure = 3;
                }
                Box::new(c)
            }
            _ => {
                let mut c = ClaimFinal::new(name, number, n);
                if cdj3000 {
                    c.header.structure = 3;
                }
                Box::new(c)
            }
        };
        cx.net.udp(
            cx.wire,
            t,
            host,
            ANNOUNCE_PORT,
            To::Subnet,
            ANNOUNCE_PORT,
            &[packet.as_ref()],
        );
        let next = if step + 1 == BOOT_STEPS {
            // Keep-alives start exactly BOOT_TIME after power-on, so peers know when.
            up_at(self.boot_of(unit))
        } else {
            self.boot_of(unit) + (step as i128 + 1) * BOOT_STEP + cx.rng.jitter(2 * MS)
        };
        cx.sched.at(
            next,
            T::from(PdlTimer::Boot {
                unit,
                step: step + 1,
            }),
        );
    }

    fn keep_alive<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, unit: Unit) {
        let host = self.unit_host(unit);
        let (mac, ip) = {
            let h = cx.net.host(host);
            (h.mac, h.ip)
        };
        // Peer count includes the sender itself (section 2, byte 0x30).
        let peers = self.peers(unit, t).len() as u8 + 1;
        let ka = match unit {
            Unit::Mixer => {
                let mut k = KeepAlive::cdj(Model::Djm900Nxs2.name(), MIXER_NUMBER, mac, ip, peers);
                k.role_flag = 2;
                k.device_type = 2;
                k
            }
            Unit::Player(i) => {
                let p = &self.players[i];
                if p.model == Model::Cdj3000 {
                    KeepAlive::cdj3000(p.model.name(), p.number, mac, ip, peers)
                } else {
                    KeepAlive::cdj(p.model.name(), p.number, mac, ip, peers)
                }
            }
        };
        cx.net.udp(
            cx.wire,
            t,
            host,
            ANNOUNCE_PORT,
            To::Subnet,
            ANNOUNCE_PORT,
            &[&ka],
        );
    }

    /// One status round: the same packet to every known peer, tens of µs apart (CAP).
    fn send_status<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, unit: Unit) {
        let peers = self.peers(unit, t);
        match unit {
            Unit::Mixer => {
                let master = self.master();
                let bpm = master
                    .and_then(|m| m.deck.effective_bpm())
                    .unwrap_or(MIXER_IDLE_BPM);
                let bar = master.map_or(0, |m| {
                    let k = m.deck.beat_at(m.deck.position_ms(t));
                    super::pdl_deck::beat_in_bar(k)
                });
                let mut s =
                    MixerStatus::new(Model::Djm900Nxs2.name(), MIXER_NUMBER, bpm, false, bar);
                if !self.mixer.master_seen {
                    s.master_handoff = 0;
                }
                let host = self.mixer.host;
                for (i, peer) in peers.iter().enumerate() {
                    let ts = t + i as i128 * 30 * US;
                    let sport = cx.net.ephemeral_port(host);
                    cx.net
                        .udp(cx.wire, ts, host, sport, To::Host(peer), STATUS_PORT, &[&s]);
                }
            }
            Unit::Player(i) => {
                let p = &mut self.players[i];
                p.packet_counter += 1;
                fill_status(
                    &mut p.status,
                    p.model.persona(),
                    &p.deck,
                    t,
                    p.packet_counter,
                );
                for (j, peer) in peers.iter().enumerate() {
                    let ts = t + j as i128 * 25 * US;
                    let sport = cx.net.ephemeral_port(p.host);
                    cx.net.udp(
                        cx.wire,
                        ts,
                        p.host,
                        sport,
                        To::Host(peer),
                        STATUS_PORT,
                        &[&p.status],
                    );
                }
                // The one-packet markers are gone once sent (4.2 ld1, ld2).
                p.deck.load_marker = false;
                p.deck.load_done = false;
            }
        }
    }

    fn broadcast_beat<W: Write, T>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        unit: Unit,
        beat: &crate::prodjlink::Beat,
    ) {
        let host = self.unit_host(unit);
        let sport = cx.net.ephemeral_port(host);
        cx.net
            .udp(cx.wire, t, host, sport, To::Subnet, BEAT_PORT, &[beat]);
    }

    fn beat<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        player: usize,
        gen: u32,
    ) {
        let p = &self.players[player];
        if gen != p.beat_gen || !p.deck.playing {
            return;
        }
        let k = p.deck.next_beat_from(t - MS);
        let beat = beat_packet(p.model.name(), p.number, &p.deck, k);
        // A few hundred µs of network and CPU jitter on each beat, never accumulating.
        let sent = t + cx.rng.below(200) as i128 * US;
        self.broadcast_beat(cx, sent, Unit::Player(player), &beat);
        let p = &self.players[player];
        if self.master().is_some_and(|m| m.number == p.number) {
            // The mixer's metronome follows the master's beat (the first one during the few
            // tens of ms of a handoff when two players say they are master, 4.2).
            let b = crate::prodjlink::Beat::new(
                Model::Djm900Nxs2.name(),
                MIXER_NUMBER,
                p.deck.effective_bpm().unwrap_or(MIXER_IDLE_BPM),
                0.0,
                beat.beat_in_bar,
            );
            self.broadcast_beat(cx, sent + 400 * US, Unit::Mixer, &b);
        }
        let p = &self.players[player];
        let next = p.deck.beat_time(k + 1);
        cx.sched.at(next, T::from(PdlTimer::Beat { player, gen }));
    }

    fn send_on_air<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let m = ChannelsOnAir::new(Model::Djm900Nxs2.name(), MIXER_NUMBER, &self.mixer.channels);
        let host = self.mixer.host;
        let sport = cx.net.ephemeral_port(host);
        cx.net
            .udp(cx.wire, t, host, sport, To::Subnet, BEAT_PORT, &[&m]);
    }

    /// Restart a player's beat and position streams from `t` (after play, pitch or load).
    fn restart_streams<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        player: usize,
    ) {
        let p = &mut self.players[player];
        p.beat_gen += 1;
        if p.deck.playing {
            let k = p.deck.next_beat_from(t);
            let at = p.deck.beat_time(k).max(t);
            cx.sched.at(
                at,
                T::from(PdlTimer::Beat {
                    player,
                    gen: p.beat_gen,
                }),
            );
        }
    }
}

#[path = "pdl_actions.rs"]
mod actions;
pub(crate) use actions::apply;
