//! The `stagelinq` scenario: an SC6000 (two layers) and an X1800 mixer, the device models of
//! `device::stagelinq` on the simulated transport. The mixer hears the player, connects to its
//! directory, StateMap and BeatInfo, and the DJ plays two tracks of the demo library, deck 1
//! then deck 2, crossing over on the mixer (channel n plays layer n, as the capture's SC6000
//! sat on two channels). [`stagelinq_script`] is its ground truth, as
//! [`super::club_set::club_set_script`] is for Pro DJ Link: a step that changes what the
//! player reports is the time of the first packet showing it.

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::device::library::Library;
use crate::device::scenario::TimedCommand;
use crate::device::stagelinq::{self as slq, Cable, Persona};
use crate::device::{Command, HostAddress};
use crate::transport::sim::Sim;

use super::dblookup::{MusicalKey, Track};
use super::net::LINK_LOCAL_BROADCAST;
use super::wire::{MS, SEC};
use super::Summary;

/// 2024-06-01 20:00:00 UTC.
pub const START_NS: i128 = 1_717_272_000 * SEC;

/// Where the two units live and when they are switched on.
#[derive(Debug, Clone)]
pub struct SetUnits {
    pub player_mac: [u8; 6],
    pub player_ip: Ipv4Addr,
    pub mixer_mac: [u8; 6],
    pub mixer_ip: Ipv4Addr,
    pub mixer_boot_ns: i128,
    pub player_boot_ns: i128,
}

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
    pub units: SetUnits,
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

/// A demo-library track as the script names it (title, artist, tempo).
fn script_track(lib: &Library, t: &crate::device::library::Track) -> Track {
    Track {
        rekordbox_id: t.id,
        title: t.title.clone(),
        artist: lib.artist_name(t).to_string(),
        album: lib.album_name(t).to_string(),
        genre: String::new(),
        key: MusicalKey {
            note: t.key.note,
            minor: t.key.minor,
        },
        bpm_x100: t.bpm_x100,
        duration_s: t.duration_s,
        first_beat_ms: t.first_beat_ms,
        source_player: 0,
        artist_id: t.artist_id,
        album_id: t.album_id,
        genre_id: t.genre_id,
    }
}

/// The units (the mixer's token embeds its MAC, like the fixture's, `stagelinq.md` 2.2) and
/// the set.
pub fn stagelinq_script() -> SlqScript {
    let s = |secs: f64| START_NS + (secs * 1000.0).round() as i128 * MS;
    let units = SetUnits {
        player_mac: [0x00, 0x05, 0x95, 0x3c, 0x71, 0xe2],
        player_ip: Ipv4Addr::new(169, 254, 71, 204),
        mixer_mac: [0x00, 0x05, 0x95, 0x1a, 0x2b, 0x3c],
        mixer_ip: Ipv4Addr::new(169, 254, 131, 17),
        mixer_boot_ns: s(0.2),
        player_boot_ns: s(2.56),
    };
    // Two tracks of the demo library (the first two, 128 and 126 BPM: both play unpitched).
    let lib = Library::demo();
    let tracks = lib.tracks[..2]
        .iter()
        .map(|t| script_track(&lib, t))
        .collect();
    use SlqStep::*;
    let steps = vec![
        (s(8.0), Load { deck: 1, track: 0 }),
        (s(10.0), Play { deck: 1 }),
        (
            s(11.0),
            Fader {
                channel: 1,
                level: 1.0,
            },
        ),
        (s(20.0), Load { deck: 2, track: 1 }),
        (s(26.0), Play { deck: 2 }),
        (
            s(30.0),
            Fader {
                channel: 2,
                level: 1.0,
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

/// The scenario's command for a step on the player (device 1) or the mixer (device 0).
fn command(script: &SlqScript, step: &SlqStep) -> Option<(usize, Command)> {
    let on = |deck: u8, c: Command| Command::OnDeck {
        deck,
        command: Box::new(c),
    };
    Some(match *step {
        SlqStep::Load { deck, track } => (
            1,
            on(
                deck,
                Command::Load {
                    source: 0,
                    slot: 0,
                    track_id: script.tracks[track].rekordbox_id,
                },
            ),
        ),
        SlqStep::Play { deck } => (1, on(deck, Command::Play)),
        SlqStep::Stop { deck } => (1, on(deck, Command::Pause)),
        SlqStep::Fader { channel, level } => (
            0,
            Command::Fader {
                channel,
                on_air: level > 0.0,
            },
        ),
        SlqStep::Leave | SlqStep::End => return None,
    })
}

pub fn write<W: Write>(out: W) -> io::Result<Summary> {
    run(&stagelinq_script(), out)
}

pub fn run<W: Write>(script: &SlqScript, out: W) -> io::Result<Summary> {
    let u = &script.units;
    let persona = |role: &str| {
        Persona::by_role(role)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, role.to_string()))
    };
    let library = Arc::new(Library::demo());
    let mixer = slq::build(slq::Setup {
        persona: persona("x1800")?,
        host: HostAddress {
            ip: u.mixer_ip,
            mac: u.mixer_mac,
        },
        player_number: 0,
        power_on: u.mixer_boot_ns,
        library: library.clone(),
        cabling: (1..=2)
            .map(|n| Cable {
                channel: n,
                ip: u.player_ip,
                deck: n,
            })
            .collect(),
    });
    let player = slq::build(slq::Setup {
        persona: persona("sc6000")?,
        host: HostAddress {
            ip: u.player_ip,
            mac: u.player_mac,
        },
        player_number: 1,
        power_on: u.player_boot_ns,
        library,
        cabling: Vec::new(),
    });
    let mut sim = Sim::new(out, LINK_LOCAL_BROADCAST)?;
    sim.add(mixer);
    sim.add(player);
    let mut commands = Vec::new();
    for s in &script.steps {
        match command(script, &s.step) {
            Some((device, command)) => commands.push(TimedCommand {
                at: s.at_ns,
                device,
                command,
            }),
            None if s.step == SlqStep::Leave => {
                // EXIT from both units; the mixer closes its connections (1.2).
                sim.at_hook(s.at_ns, 1);
                sim.at_hook(s.at_ns + 10 * MS, 0);
            }
            None => {}
        }
    }
    sim.schedule(commands);
    let end = script.end_ns();
    sim.run_with(end, |sim, now, node| sim.shut_down(node, now))?;
    if let Some((at, device, what)) = sim.refused.first() {
        return Err(io::Error::other(format!(
            "device {device} refused {what} at {at}"
        )));
    }
    let (_, frames, bytes) = sim.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: end - script.start_ns,
    })
}
