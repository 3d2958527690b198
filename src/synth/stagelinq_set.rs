//! The `stagelinq` scenario: an SC6000 (two layers) and an X1800 mixer find each other, the
//! mixer connects to the player's directory, StateMap and BeatInfo, and the DJ plays two
//! tracks, deck 1 then deck 2, crossing over on the mixer. [`stagelinq_script`] is its ground
//! truth, as [`super::club_set::club_set_script`] is for Pro DJ Link.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::stagelinq::Token;

use super::dblookup::{MusicalKey, Track};
use super::net::Net;
use super::slq::{SlqRig, SlqSpec, SlqTimer};
use super::wire::{Rng, Sched, Wire, MS, SEC};
use super::{Cx, Summary};

/// 2024-06-01 20:00:00 UTC.
pub const START_NS: i128 = 1_717_272_000 * SEC;
const SEED: u64 = 0x5_1a9e_11c0_0002;

#[derive(Debug, Clone, PartialEq)]
pub enum SlqStep {
    /// `tracks[track]` loads on layer `deck` (1 = A, 2 = B).
    Load {
        deck: u8,
        track: usize,
    },
    Play {
        deck: u8,
    },
    Stop {
        deck: u8,
    },
    /// Channel `channel` (which plays deck `channel`) moves to `level` (0 = closed).
    Fader {
        channel: u8,
        level: f64,
    },
    /// EXIT from both units; the mixer closes its connections.
    Leave,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlqTimedStep {
    pub at_ns: i128,
    pub step: SlqStep,
}

#[derive(Debug, Clone)]
pub struct SlqScript {
    pub start_ns: i128,
    pub units: SlqSpec,
    pub tracks: Vec<Track>,
    pub steps: Vec<SlqTimedStep>,
}

impl SlqScript {
    pub fn end_ns(&self) -> i128 {
        self.steps
            .iter()
            .find(|s| s.step == SlqStep::End)
            .map_or(self.start_ns, |s| s.at_ns)
    }

    /// (time, deck, track) of every load.
    pub fn loads(&self) -> Vec<(i128, u8, &Track)> {
        self.steps
            .iter()
            .filter_map(|s| match s.step {
                SlqStep::Load { deck, track } => Some((s.at_ns, deck, &self.tracks[track])),
                _ => None,
            })
            .collect()
    }

    /// (time, deck, on): a deck is on air while its channel's volume is above zero.
    pub fn on_air_changes(&self) -> Vec<(i128, u8, bool)> {
        let mut level = [0.0f64; 4];
        let mut v = Vec::new();
        for s in &self.steps {
            if let SlqStep::Fader {
                channel,
                level: new,
            } = s.step
            {
                let old = level[channel as usize - 1];
                if (old > 0.0) != (new > 0.0) {
                    v.push((s.at_ns, channel, new > 0.0));
                }
                level[channel as usize - 1] = new;
            }
        }
        v
    }

    /// (time, deck, playing).
    pub fn transport(&self) -> Vec<(i128, u8, bool)> {
        self.steps
            .iter()
            .filter_map(|s| match s.step {
                SlqStep::Play { deck } => Some((s.at_ns, deck, true)),
                SlqStep::Stop { deck } => Some((s.at_ns, deck, false)),
                _ => None,
            })
            .collect()
    }
}

fn token(hex: &str) -> Token {
    let mut t = [0u8; 16];
    for (i, b) in t.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    Token(t)
}

fn track(id: u32, title: &str, artist: &str, bpm_x100: u16, duration_s: u32) -> Track {
    Track {
        rekordbox_id: id,
        title: title.to_string(),
        artist: artist.to_string(),
        album: String::new(),
        genre: String::new(),
        key: MusicalKey {
            note: 2,
            minor: true,
        },
        bpm_x100,
        duration_s,
        first_beat_ms: 0,
        source_player: 0,
        artist_id: 0,
        album_id: 0,
        genre_id: 0,
    }
}

/// The units (the mixer's token embeds its MAC, like the fixture's, `stagelinq.md` 2.2) and
/// the set.
pub fn stagelinq_script() -> SlqScript {
    let s = |secs: f64| START_NS + (secs * 1000.0).round() as i128 * MS;
    let units = SlqSpec {
        player_mac: [0x00, 0x05, 0x95, 0x3c, 0x71, 0xe2],
        player_ip: Ipv4Addr::new(169, 254, 71, 204),
        player_token: token("9a4c71e203b54f0da6e85c21f7d09b3e"),
        analyzer_tokens: [
            token("1d7e02c4a9f6493b8e21c5d0b7f3a614"),
            token("c2b85e1f07d4462a9b3f81e6d05c7a29"),
        ],
        analyzer_ports: [39427, 46003],
        directory_port: 40741,
        service_ports: [37019, 45211, 41677, 43353, 44087, 34561],
        mixer_mac: [0x00, 0x05, 0x95, 0x1a, 0x2b, 0x3c],
        mixer_ip: Ipv4Addr::new(169, 254, 131, 17),
        mixer_token: token("000000000000000080000005951a2b3c"),
        mixer_boot_ns: s(0.2),
        player_boot_ns: s(2.56),
    };
    let tracks = vec![
        track(1, "Solar Wind", "Ines Okafor", 12200, 412),
        track(2, "Glasshouse", "Teo Brandt", 12200, 388),
    ];
    use SlqStep::*;
    let steps = vec![
        (s(8.0), Load { deck: 1, track: 0 }),
        (s(10.0), Play { deck: 1 }),
        (
            s(11.0),
            Fader {
                channel: 1,
                level: 0.85,
            },
        ),
        (s(20.0), Load { deck: 2, track: 1 }),
        (s(26.0), Play { deck: 2 }),
        (
            s(30.0),
            Fader {
                channel: 2,
                level: 0.9,
            },
        ),
        (
            s(36.0),
            Fader {
                channel: 1,
                level: 0.0,
            },
        ),
        (s(40.0), Stop { deck: 1 }),
        (s(46.0), Leave),
        (s(47.0), End),
    ];
    SlqScript {
        start_ns: START_NS,
        units,
        tracks,
        steps: steps
            .into_iter()
            .map(|(at_ns, step)| SlqTimedStep { at_ns, step })
            .collect(),
    }
}

enum Timer {
    Slq(SlqTimer),
    Step(usize),
}

impl From<SlqTimer> for Timer {
    fn from(t: SlqTimer) -> Self {
        Timer::Slq(t)
    }
}

pub fn write<W: Write>(out: W) -> io::Result<Summary> {
    run(&stagelinq_script(), out)
}

pub fn run<W: Write>(script: &SlqScript, out: W) -> io::Result<Summary> {
    let mut wire = Wire::new(out, "eth0")?;
    let mut net = Net::default();
    let mut sched: Sched<Timer> = Sched::default();
    let mut rng = Rng::new(SEED);
    let mut rig = SlqRig::new(&mut net, &mut sched, script.units.clone());
    for (i, s) in script.steps.iter().enumerate() {
        sched.at(s.at_ns, Timer::Step(i));
    }
    let end = script.end_ns();
    while let Some((t, timer)) = sched.pop() {
        if t > end {
            break;
        }
        wire.flush_through(t)?;
        let mut cx = Cx {
            net: &mut net,
            wire: &mut wire,
            sched: &mut sched,
            rng: &mut rng,
        };
        match timer {
            Timer::Slq(x) => rig.fire(&mut cx, t, x),
            Timer::Step(i) => match script.steps[i].step {
                SlqStep::Load { deck, track } => {
                    rig.load(&mut cx, t, deck as usize, script.tracks[track].clone())
                }
                SlqStep::Play { deck } => rig.play(&mut cx, t, deck as usize, true),
                SlqStep::Stop { deck } => rig.play(&mut cx, t, deck as usize, false),
                SlqStep::Fader { channel, level } => rig.fader(&mut cx, t, channel as usize, level),
                SlqStep::Leave => rig.leave(&mut cx, t),
                SlqStep::End => {}
            },
        }
    }
    let (_, frames, bytes) = wire.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: end - script.start_ns,
    })
}
