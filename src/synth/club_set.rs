//! The `club-set` scenario: a DJM-900NXS2 (#33), two CDJ-2000NXS2 (#1, #2) and a CDJ-3000
//! (#3) power up one after another and play a one-minute set.
//!
//! [`club_set_script`] is the ground truth: every step the generator takes, at the exact time
//! it takes it. A step that changes what a player reports is the time of the first packet
//! showing it (the unit sends a status at once), so session tests can compare times exactly.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use super::dblookup::{DbLookups, MusicalKey, Track};
use super::net::{link_local_from_mac, Net};
use super::pdl::{PdlTimer, Rig, UnitSpec, MIXER_NUMBER};
use super::pdl_deck::Model;
use super::wire::{Rng, Sched, Wire, MS, SEC};
use super::{Cx, Summary};

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

    fn device(&self, number: u8) -> &ScriptDevice {
        match self.devices.iter().find(|d| d.number == number) {
            Some(d) => d,
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
        (
            handoff + 2 * MS,
            HandoffResponse {
                master: 1,
                requester: 2,
            },
        ),
        (
            handoff + 15 * MS,
            HandoffYield {
                master: 1,
                requester: 2,
            },
        ),
        (handoff + 60 * MS, HandoffTake { requester: 2 }),
        (handoff + 125 * MS, HandoffRelease { old_master: 1 }),
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

enum Timer {
    Pdl(PdlTimer),
    Step(usize),
}

impl From<PdlTimer> for Timer {
    fn from(t: PdlTimer) -> Self {
        Timer::Pdl(t)
    }
}

/// Write the club set as pcapng.
pub fn write<W: Write>(out: W) -> io::Result<Summary> {
    run(&club_set_script(), out)
}

/// Play `script` on a rig built from its devices.
pub fn run<W: Write>(script: &Script, out: W) -> io::Result<Summary> {
    let mut wire = Wire::new(out, "eth0")?;
    let mut net = Net::default();
    let mut sched: Sched<Timer> = Sched::default();
    let mut rng = Rng::new(SEED);
    let spec = |d: &ScriptDevice| UnitSpec {
        number: d.number,
        model: d.model,
        mac: d.mac,
        boot_ns: script.power_on(d.number),
        has_usb: d.has_usb,
    };
    let mixer = spec(script.device(MIXER_NUMBER));
    let players: Vec<UnitSpec> = script
        .devices
        .iter()
        .filter(|d| d.number != MIXER_NUMBER)
        .map(spec)
        .collect();
    let mut rig = Rig::new(&mut net, &mut sched, mixer, &players);
    for (i, s) in script.steps.iter().enumerate() {
        sched.at(s.at_ns, Timer::Step(i));
    }
    let mut db = DbLookups::default();
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
            Timer::Pdl(p) => rig.fire(&mut cx, t, p),
            Timer::Step(i) => apply(
                &mut rig,
                &mut db,
                &mut cx,
                &script.tracks,
                t,
                &script.steps[i].step,
            ),
        }
    }
    let (_, frames, bytes) = wire.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: end - script.start_ns,
    })
}

/// Carry out one step at `t` on the rig (and its dbserver connections).
pub(crate) fn apply<W: Write, T: From<PdlTimer>>(
    rig: &mut Rig,
    db: &mut DbLookups,
    cx: &mut Cx<'_, W, T>,
    tracks: &[Track],
    t: i128,
    step: &Step,
) {
    match *step {
        // Boots were scheduled from the devices' power-on times.
        Step::PowerOn { .. } | Step::End => {}
        Step::MetadataLookup {
            client,
            server,
            track,
        } => {
            db.lookup(
                cx.net,
                cx.wire,
                cx.rng,
                t,
                (client, rig.host_of(client)),
                (server, rig.host_of(server)),
                &tracks[track],
            );
        }
        Step::Load { deck, track } => {
            rig.load(cx, t, deck, tracks[track].clone(), track as u16 + 1)
        }
        Step::Sync { deck } => rig.sync(cx, t, deck, true),
        Step::TakeMaster { deck } => rig.take_master(cx, t, deck),
        Step::Play { deck } => rig.play(cx, t, deck),
        Step::Pause { deck } => rig.pause(cx, t, deck),
        Step::Fader { channel, on_air } => rig.fader(cx, t, channel, on_air),
        Step::HandoffRequest { requester, master } => rig.handoff_request(cx, t, requester, master),
        Step::HandoffResponse { master, requester } => {
            rig.handoff_response(cx, t, master, requester)
        }
        Step::HandoffYield { master, requester } => rig.handoff_yield(cx, t, master, requester),
        Step::HandoffTake { requester } => rig.handoff_take(cx, t, requester),
        Step::HandoffRelease { old_master } => rig.handoff_release(cx, t, old_master),
        Step::CloseConnections => db.close_all(cx.net, cx.wire, t),
    }
}
