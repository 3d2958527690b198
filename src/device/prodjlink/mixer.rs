//! A DJM mixer (DJM-900NXS2 with 4 channels, DJM-V10 with 6): mixer status every 200 ms to each
//! peer (`prodjlink.md` 4.3), channels on air (3 kind 03) at once when a fader crosses the
//! threshold and periodically, beats as backup metronome (3 kind 28: "the mixer, always"),
//! fader start (3 kind 02), and number assignment to players on its channel ports (9.2).

use std::net::SocketAddrV4;

use super::persona::{MIXER_NUMBER, STATUS_EVERY};
use super::presence::Presence;
use super::{
    receive, send_to_peers, unicast, Numbering, Setup, ANNOUNCE_PORT, BEAT_PORT, STATUS_PORT,
};
use crate::device::{
    Command, ConnId, Destination, Device, HostAddress, Nanos, Note, Outbox, StreamEvent, MS,
};
use crate::prodjlink::{
    fader_command, AssignmentFinished, Beat, ChannelsOnAir, FaderStart, MixerAssign,
    MixerAssignIntent, MixerStatus, Packet,
};

/// Period of the unsolicited channels-on-air broadcast. The reference says "mixer broadcast"
/// without a period; 300 ms is what the club-set synth has always used.
const ON_AIR_EVERY: Nanos = 300 * MS;
/// The backup metronome's tempo while no master plays (the reference does not say what a DJM
/// beats at with no source; 120 BPM).
const IDLE_BPM: f64 = 120.0;

/// A player on one of the mixer's channel ports (9.2): its MAC, and how far its assignment got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChannelPort {
    channel: u8,
    mac: [u8; 6],
    /// 0x01 sent, waiting for the player's "please assign me" 0x02.
    intent_sent: bool,
}

pub struct Mixer {
    presence: Presence,
    on_air: Vec<bool>,
    status_due: Option<Nanos>,
    on_air_due: Option<Nanos>,
    metronome_due: Option<Nanos>,
    next_idle_beat: u32,
    /// The tempo master's number, effective BPM and last beat in bar (from status and beats).
    master: Option<(u8, f64)>,
    master_playing: bool,
    last_bar_beat: u8,
    /// Set once some player has been tempo master (M_h `00` before, 4.3).
    master_seen: bool,
    ports: Vec<ChannelPort>,
}

impl Mixer {
    pub fn new(s: Setup) -> Self {
        let fixed = matches!(s.numbering, Numbering::Fixed(_));
        let number = if s.numbering.number() == 0 {
            MIXER_NUMBER
        } else {
            s.numbering.number()
        };
        Mixer {
            presence: Presence::new(s.persona, s.host, number, fixed, s.power_on),
            on_air: vec![false; s.persona.channels.max(1) as usize],
            status_due: None,
            on_air_due: None,
            metronome_due: None,
            next_idle_beat: 1,
            master: None,
            master_playing: false,
            last_bar_beat: 0,
            master_seen: false,
            ports: Vec::new(),
        }
    }

    /// Players with these MACs sit on channel ports 1, 2, ... and get their numbers from the
    /// mixer (9.2; DJM-2000nexus and XDJ-XZ CH3/CH4 do this, the 900NXS2 does not).
    pub fn with_channel_ports(mut self, macs: &[[u8; 6]]) -> Self {
        self.ports = macs
            .iter()
            .enumerate()
            .map(|(i, &mac)| ChannelPort {
                channel: i as u8 + 1,
                mac,
                intent_sent: false,
            })
            .collect();
        self
    }

    pub fn on_air(&self) -> &[bool] {
        &self.on_air
    }

    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    fn name(&self) -> &'static str {
        self.presence.persona.name
    }

    fn send_on_air(&self, out: &mut Outbox) {
        let m = ChannelsOnAir::new(self.name(), self.presence.number(), &self.on_air);
        out.datagram(0, Destination::Broadcast(BEAT_PORT), m.to_bytes());
    }

    fn send_status(&self, out: &mut Outbox) {
        let bpm = self.master.map_or(IDLE_BPM, |m| m.1);
        let mut s = MixerStatus::new(
            self.name(),
            self.presence.number(),
            bpm,
            false,
            self.last_bar_beat,
        );
        if !self.master_seen {
            s.master_handoff = 0;
        }
        send_to_peers(
            out,
            &self.presence.peers,
            self.presence.host.ip,
            STATUS_PORT,
            &s.to_bytes(),
        );
    }

    fn send_beat(&self, bpm: f64, beat_in_bar: u8, out: &mut Outbox) {
        let b = Beat::new(self.name(), self.presence.number(), bpm, 0.0, beat_in_bar);
        out.datagram(0, Destination::Broadcast(BEAT_PORT), b.to_bytes());
    }

    /// 9.2: a player on a channel port sent its claim; walk it through 01/03/05.
    fn assign(&mut self, now: Nanos, from: SocketAddrV4, packet: &Packet, out: &mut Outbox) {
        let name = self.presence.persona.name;
        let host = self.presence.host;
        let me = self.presence.number();
        match packet {
            Packet::ClaimMac(c) => {
                if let Some(p) = self
                    .ports
                    .iter_mut()
                    .find(|p| p.mac == c.mac && !p.intent_sent)
                {
                    p.intent_sent = true;
                    let m = MixerAssignIntent::new(name, host.ip, host.mac);
                    out.datagram(
                        ANNOUNCE_PORT,
                        unicast(*from.ip(), ANNOUNCE_PORT),
                        m.to_bytes(),
                    );
                }
            }
            Packet::ClaimIp(c) if c.header.sub_kind == 1 && c.device == 0 => {
                if let Some(p) = self.ports.iter().find(|p| p.mac == c.mac && p.intent_sent) {
                    let a = MixerAssign::new(name, p.channel, c.counter);
                    out.datagram(ANNOUNCE_PORT, unicast(c.ip, ANNOUNCE_PORT), a.to_bytes());
                    let text = format!(
                        "assigned number {} to {} on its channel port",
                        p.channel, c.ip
                    );
                    self.presence.notes.push(Note { at: now, text });
                }
            }
            Packet::ClaimFinal(c)
                if self
                    .ports
                    .iter()
                    .any(|p| p.channel == c.device && p.intent_sent) =>
            {
                // "Assignment finished": the mixer's own D at 24, `01` at 25 (2, DYS-S).
                let f = AssignmentFinished::new(name, me, 1);
                out.datagram(
                    ANNOUNCE_PORT,
                    unicast(*from.ip(), ANNOUNCE_PORT),
                    f.to_bytes(),
                );
                if let Some(p) = self.ports.iter_mut().find(|p| p.channel == c.device) {
                    p.intent_sent = false;
                }
            }
            _ => {}
        }
    }
}

impl Device for Mixer {
    fn label(&self) -> String {
        format!("{} #{}", self.name(), self.presence.number())
    }

    fn address(&self) -> HostAddress {
        self.presence.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        [
            self.status_due,
            self.on_air_due,
            self.metronome_due,
            self.presence.poll_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        let was_up = self.presence.is_up();
        self.presence.on_timer(now, out);
        if !was_up && self.presence.is_up() {
            let phase = 20 * MS + (self.presence.host.mac[5] as Nanos % 150) * MS;
            self.status_due = Some(now + phase);
            self.on_air_due = Some(now + 40 * MS);
            self.metronome_due = Some(now + 250 * MS);
        }
        if let Some(t) = self.on_air_due.filter(|t| *t <= now) {
            self.send_on_air(out);
            self.on_air_due = Some(t + ON_AIR_EVERY);
        }
        if let Some(t) = self.metronome_due.filter(|t| *t <= now) {
            // The backup metronome is heard only while no master plays; the master's beats
            // drive the mixer's otherwise (see on_datagram).
            if !self.master_playing {
                let k = self.next_idle_beat;
                self.send_beat(IDLE_BPM, super::deck::beat_in_bar(k), out);
                self.next_idle_beat = k + 1;
            }
            self.metronome_due = Some(t + (60_000.0 / IDLE_BPM * 1e6) as Nanos);
        }
        if let Some(t) = self.status_due.filter(|t| *t <= now) {
            self.send_status(out);
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
            self.assign(now, from, &packet, out);
            return;
        }
        match packet {
            Packet::CdjStatus(s) => {
                let d = s.header.device;
                if s.is_master() {
                    self.master_seen = true;
                    self.master = s.effective_bpm().map(|b| (d, b)).or(self.master);
                    self.master_playing = s.is_playing();
                } else if self.master.is_some_and(|m| m.0 == d) {
                    self.master = None;
                    self.master_playing = false;
                }
            }
            // The metronome follows the master's beat.
            Packet::Beat(b) if self.master.is_some_and(|m| m.0 == b.header.device) => {
                self.last_bar_beat = b.beat_in_bar;
                let bpm = b.effective_bpm().unwrap_or(IDLE_BPM);
                self.send_beat(bpm, b.beat_in_bar, out);
            }
            _ => {}
        }
    }

    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        // A DJM runs no TCP service on the link: whatever connects is closed.
        if let StreamEvent::Accepted { .. } = event {
            out.push(crate::device::Output::Close { conn });
        }
    }

    fn command(&mut self, now: Nanos, command: &Command, out: &mut Outbox) -> bool {
        match *command {
            Command::Fader { channel, on_air } => {
                let Some(c) = (channel as usize)
                    .checked_sub(1)
                    .and_then(|i| self.on_air.get_mut(i))
                else {
                    return false;
                };
                *c = on_air;
                if self.presence.is_up() {
                    self.send_on_air(out);
                }
                let state = if on_air { "on air" } else { "off air" };
                self.presence.notes.push(Note {
                    at: now,
                    text: format!("channel {channel} {state}"),
                });
                true
            }
            Command::FaderStart { channel, start } => {
                let Some(i) = (channel as usize).checked_sub(1).filter(|&i| i < 4) else {
                    return false;
                };
                let mut c = [fader_command::LEAVE; 4];
                c[i] = if start {
                    fader_command::START
                } else {
                    fader_command::STOP
                };
                let f = FaderStart::new(self.name(), self.presence.number(), c);
                out.datagram(0, Destination::Broadcast(BEAT_PORT), f.to_bytes());
                true
            }
            _ => false,
        }
    }

    fn take_notes(&mut self, into: &mut Vec<Note>) {
        into.append(&mut self.presence.notes);
    }
}
