//! The `club-set` scenario: a DJM-900NXS2 (#33), two CDJ-2000NXS2 (#1, #2) and a CDJ-3000
//! (#3) power up one after another and play a one-minute set.
//!
//! [`club_set_script`] is the ground truth: every step the generator takes, at the exact time
//! it takes it. A step that changes what a player reports is the time of the first packet
//! showing it (the unit sends a status at once), so session tests can compare times exactly.

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::sync::Arc;

use super::dblookup::{DbLookups, MusicalKey, Track};
use super::net::{link_local_from_mac, LINK_LOCAL_BROADCAST};
use super::pdl::MIXER_NUMBER;
use super::pdl_deck::Model;
use super::wire::{Rng, MS, SEC};
use super::Summary;
use crate::device::prodjlink::track::{TrackList, Tracks, USB_SLOT};
use crate::device::prodjlink::{build, Numbering, Setup};
use crate::device::scenario::TimedCommand;
use crate::device::{Command, HostAddress};
use crate::transport::sim::{Sim, LATENCY, SPACING};

/// 2024-05-17 22:00:00 UTC: the capture's first instant (no wall clock is ever read).
pub const START_NS: i128 = 1_715_983_200 * SEC;
const SEED: u64 = 0x00c1_0b5e_7000_0001;

/// What happens at one moment of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The unit is switched on: hello, claims, then keep-alives 3.6 s later.
    PowerOn {
        device: u8,
    },
    /// `client` asks `server`'s dbserver for the metadata of `tracks[track]` (port query on
    /// the first lookup, then `2002` and its render).
    MetadataLookup {
        client: u8,
        server: u8,
        track: usize,
    },
    /// `tracks[track]` loads on `deck`: `loading` now, `cued` 400 ms later.
    Load {
        deck: u8,
        track: usize,
    },
    /// SYNC on: the deck takes the master's tempo.
    Sync {
        deck: u8,
    },
    /// The deck becomes tempo master while nobody is.
    TakeMaster {
        deck: u8,
    },
    Play {
        deck: u8,
    },
    Pause {
        deck: u8,
    },
    /// The channel fader crosses the on-air threshold (mixer packet 0x03 at once).
    Fader {
        channel: u8,
        on_air: bool,
    },
    /// prodjlink.md 9.4, in its five steps.
    HandoffRequest {
        requester: u8,
        master: u8,
    },
    HandoffResponse {
        master: u8,
        requester: u8,
    },
    HandoffYield {
        master: u8,
        requester: u8,
    },
    HandoffTake {
        requester: u8,
    },
    HandoffRelease {
        old_master: u8,
    },
    /// dbserver teardown and close of every open connection.
    CloseConnections,
    /// Last instant of the capture.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedStep {
    /// Nanoseconds since the Unix epoch.
    pub at_ns: i128,
    pub step: Step,
}

/// A unit of the rig as the script places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptDevice {
    pub number: u8,
    pub model: Model,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    /// Whether a USB stick is in it (its tracks are served over the link).
    pub has_usb: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub start_ns: i128,
    pub devices: Vec<ScriptDevice>,
    pub tracks: Vec<Track>,
    pub steps: Vec<TimedStep>,
}

impl Script {
    pub fn end_ns(&self) -> i128 {
        self.steps
            .iter()
            .find(|s| s.step == Step::End)
            .map_or(self.start_ns, |s| s.at_ns)
    }

    /// Who became tempo master when: (time, player).
    pub fn master_changes(&self) -> Vec<(i128, u8)> {
        self.steps
            .iter()
            .filter_map(|s| match s.step {
                Step::TakeMaster { deck } => Some((s.at_ns, deck)),
                Step::HandoffTake { requester } => Some((s.at_ns, requester)),
                _ => None,
            })
            .collect()
    }

    /// Channels going on or off air: (time, channel, on).
    pub fn on_air_changes(&self) -> Vec<(i128, u8, bool)> {
        self.steps
            .iter()
            .filter_map(|s| match s.step {
                Step::Fader { channel, on_air } => Some((s.at_ns, channel, on_air)),
                _ => None,
            })
            .collect()
    }

    /// Track loads: (time, deck, track).
    pub fn loads(&self) -> Vec<(i128, u8, &Track)> {
        self.steps
            .iter()
            .filter_map(|s| match s.step {
                Step::Load { deck, track } => Some((s.at_ns, deck, &self.tracks[track])),
                _ => None,
            })
            .collect()
    }

    /// The index of device `number` in [`Script::devices`] (its node on the network).
    fn node(&self, number: u8) -> usize {
        match self.devices.iter().position(|d| d.number == number) {
            Some(i) => i,
            None => panic!("script step names device {number}, which is not in the script"),
        }
    }

    fn power_on(&self, number: u8) -> i128 {
        self.steps
            .iter()
            .find(|s| s.step == Step::PowerOn { device: number })
            .map_or(self.start_ns, |s| s.at_ns)
    }
}

fn mac(last: [u8; 3]) -> [u8; 6] {
    // 74:5e:1c is the Pioneer prefix of every device in the public captures (CAP).
    [0x74, 0x5e, 0x1c, last[0], last[1], last[2]]
}

fn device(number: u8, model: Model, last: [u8; 3], has_usb: bool) -> ScriptDevice {
    let mac = mac(last);
    ScriptDevice {
        number,
        model,
        mac,
        ip: link_local_from_mac(mac),
        has_usb,
    }
}

#[allow(clippy::too_many_arguments)]
fn track(
    rekordbox_id: u32,
    title: &str,
    artist: &str,
    album: &str,
    genre: &str,
    key: (u8, bool),
    bpm_x100: u16,
    duration_s: u32,
    source_player: u8,
) -> Track {
    Track {
        rekordbox_id,
        title: title.to_string(),
        artist: artist.to_string(),
        album: album.to_string(),
        genre: genre.to_string(),
        key: MusicalKey {
            note: key.0,
            minor: key.1,
        },
        bpm_x100,
        duration_s,
        first_beat_ms: 60 + rekordbox_id % 200,
        source_player,
        artist_id: rekordbox_id / 10,
        album_id: rekordbox_id / 7,
        genre_id: 1 + rekordbox_id % 5,
    }
}

/// Nanoseconds that `beats` beats take at `bpm_x100` and `pitch_pct` (to start a synced deck
/// on the master's beat).
pub fn beats_ns(bpm_x100: u16, pitch_pct: f64, beats: u32) -> i128 {
    let beat_ms = 6_000_000.0 / bpm_x100 as f64;
    (beats as f64 * beat_ms / (1.0 + pitch_pct / 100.0) * 1e6).round() as i128
}

/// The set, step by step.
pub fn club_set_script() -> Script {
    let s = |secs: f64| START_NS + (secs * 1000.0).round() as i128 * MS;
    let devices = vec![
        device(MIXER_NUMBER, Model::Djm900Nxs2, [0x21, 0x63, 0x3c], false),
        device(1, Model::Cdj2000Nxs2, [0x56, 0xc0, 0x70], true),
        device(2, Model::Cdj2000Nxs2, [0x56, 0xf4, 0xb5], true),
        device(3, Model::Cdj3000, [0x5a, 0x67, 0xac], false),
    ];
    let tracks = vec![
        track(
            1401,
            "Night Drive",
            "Aural Fixation",
            "Late Hours EP",
            "Deep House",
            (9, true),
            12400,
            391,
            2,
        ),
        track(
            2212,
            "Low Tide",
            "Marisol Vega",
            "Coastline",
            "Tech House",
            (6, true),
            12600,
            402,
            1,
        ),
        track(
            2230,
            "Lantern (Extended Mix)",
            "Kōji Mori",
            "Lantern",
            "Techno",
            (7, true),
            12800,
            355,
            1,
        ),
    ];
    // Deck 1 plays at 124 BPM from t1; deck 2 (126 BPM synced to 124) starts on deck 1's 25th
    // beat; deck 3 (128 BPM synced to 124) on deck 2's 41st: each on a downbeat of the master.
    let t1 = s(13.0);
    let t2 = t1 + beats_ns(12400, 0.0, 24);
    let pitch2 = (124.0 / 126.0 - 1.0) * 100.0;
    let t3 = t2 + beats_ns(12600, pitch2, 40);
    let handoff = s(36.0);
    use Step::*;
    let steps = vec![
        (
            s(0.5),
            PowerOn {
                device: MIXER_NUMBER,
            },
        ),
        (s(1.5), PowerOn { device: 1 }),
        (s(2.5), PowerOn { device: 2 }),
        (s(3.5), PowerOn { device: 3 }),
        (
            s(9.0),
            MetadataLookup {
                client: 1,
                server: 2,
                track: 0,
            },
        ),
        (s(9.6), Load { deck: 1, track: 0 }),
        (
            s(11.0),
            Fader {
                channel: 1,
                on_air: true,
            },
        ),
        (s(12.0), TakeMaster { deck: 1 }),
        (t1, Play { deck: 1 }),
        (
            s(18.0),
            MetadataLookup {
                client: 2,
                server: 1,
                track: 1,
            },
        ),
        (s(18.6), Load { deck: 2, track: 1 }),
        (s(20.0), Sync { deck: 2 }),
        (t2, Play { deck: 2 }),
        (
            s(30.0),
            Fader {
                channel: 2,
                on_air: true,
            },
        ),
        (
            s(34.0),
            Fader {
                channel: 1,
                on_air: false,
            },
        ),
        (
            handoff,
            HandoffRequest {
                requester: 2,
                master: 1,
            },
        ),
        // The master answers when the request reaches it, with the 0x27 first and then its
        // status naming the requester; the requester takes the role when that status reaches
        // it, and the old master lets go when the new one's status arrives (9.4). Each hop
        // is the transport's delay; each second packet of a reaction one spacing later.
        (
            handoff + LATENCY,
            HandoffResponse {
                master: 1,
                requester: 2,
            },
        ),
        (
            handoff + LATENCY + SPACING,
            HandoffYield {
                master: 1,
                requester: 2,
            },
        ),
        (
            handoff + 2 * LATENCY + SPACING,
            HandoffTake { requester: 2 },
        ),
        (
            handoff + 3 * LATENCY + SPACING,
            HandoffRelease { old_master: 1 },
        ),
        (
            s(40.0),
            MetadataLookup {
                client: 3,
                server: 1,
                track: 2,
            },
        ),
        (s(40.6), Load { deck: 3, track: 2 }),
        (s(42.0), Sync { deck: 3 }),
        (t3, Play { deck: 3 }),
        (
            s(50.0),
            Fader {
                channel: 3,
                on_air: true,
            },
        ),
        (s(54.0), Pause { deck: 1 }),
        (s(58.5), CloseConnections),
        (s(60.0), End),
    ];
    Script {
        start_ns: START_NS,
        devices,
        tracks,
        steps: steps
            .into_iter()
            .map(|(at_ns, step)| TimedStep { at_ns, step })
            .collect(),
    }
}

/// Write the club set as pcapng.
pub fn write<W: Write>(out: W) -> io::Result<Summary> {
    run(&club_set_script(), out)
}

/// Play `script` with the device models on the simulated transport.
///
/// The DJ's steps become commands to the models; the handoff's answer steps (response, yield,
/// take, release) are what the models do by themselves, at the times the script computed from
/// the transport's delays. dbserver lookups are still scripted on both ends ([`DbLookups`])
/// and written into the same network.
pub fn run<W: Write>(script: &Script, out: W) -> io::Result<Summary> {
    let tracks: Tracks = Arc::new(TrackList(
        script.tracks.iter().map(Track::info).collect(),
        None,
    ));
    let mut sim = Sim::new(out, LINK_LOCAL_BROADCAST)?;
    for d in &script.devices {
        sim.add(build(Setup {
            persona: d.model.persona(),
            host: HostAddress {
                ip: d.ip,
                mac: d.mac,
            },
            // Every unit of the set is on AUTO and remembers its number (9.1).
            numbering: Numbering::Auto(d.number),
            power_on: script.power_on(d.number),
            has_usb: d.has_usb,
            tracks: tracks.clone(),
        }));
    }
    let node = |number: u8| script.node(number);
    let mut commands = Vec::new();
    for (i, s) in script.steps.iter().enumerate() {
        let mut command = |device, command| {
            commands.push(TimedCommand {
                at: s.at_ns,
                device,
                command,
            })
        };
        match s.step {
            Step::Load { deck, track } => {
                let t = &script.tracks[track];
                let load = Command::Load {
                    source: t.source_player,
                    slot: USB_SLOT,
                    track_id: t.rekordbox_id,
                };
                command(node(deck), load)
            }
            Step::Sync { deck } => command(node(deck), Command::Sync(true)),
            Step::TakeMaster { deck } => command(node(deck), Command::BecomeMaster),
            Step::HandoffRequest { requester, .. } => {
                command(node(requester), Command::BecomeMaster)
            }
            Step::Play { deck } => command(node(deck), Command::Play),
            Step::Pause { deck } => command(node(deck), Command::Pause),
            Step::Fader { channel, on_air } => {
                command(node(MIXER_NUMBER), Command::Fader { channel, on_air })
            }
            Step::MetadataLookup { .. } | Step::CloseConnections => sim.at_hook(s.at_ns, i),
            Step::PowerOn { .. }
            | Step::HandoffResponse { .. }
            | Step::HandoffYield { .. }
            | Step::HandoffTake { .. }
            | Step::HandoffRelease { .. }
            | Step::End => {}
        }
    }
    sim.schedule(commands);
    let mut db = DbLookups::default();
    let mut rng = Rng::new(SEED);
    let end = script.end_ns();
    sim.run_with(end + 1, |sim, t, i| match script.steps[i].step {
        Step::MetadataLookup {
            client,
            server,
            track,
        } => {
            let (c, s) = (sim.host_of(node(client)), sim.host_of(node(server)));
            db.lookup(
                &mut sim.net,
                &mut sim.wire,
                &mut rng,
                t,
                (client, c),
                (server, s),
                &script.tracks[track],
            );
        }
        Step::CloseConnections => db.close_all(&mut sim.net, &mut sim.wire, t),
        _ => {}
    })?;
    if let Some((at, device, command)) = sim.refused.first() {
        return Err(io::Error::other(format!(
            "the club set's step at {at} ns asked device {device} to {command}, which it cannot"
        )));
    }
    let (_, frames, bytes) = sim.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: end - script.start_ns,
    })
}
