//! `djdissect synth`: deterministic captures of made-up DJ sets, built packet by packet with the
//! project's own Reprs, so that the emulator side sends exactly what the dissector reads.
//!
//! * [`club_set`]: a DJM-900NXS2, two CDJ-2000NXS2 and a CDJ-3000 power up and play a short set
//!   (loads, sync, on-air changes, a tempo-master handoff, dbserver lookups). Its
//!   [`club_set::club_set_script`] is the ground truth the session tests compare against.
//! * [`stagelinq_set`]: an SC6000 and an X1800 mixer over StageLinQ (discovery, directory,
//!   StateMap, BeatInfo) playing two tracks with a crossfade; also scripted.
//! * [`rig`]: the emulator's default scenario played by the device models on the simulated
//!   transport (CDJ-3000, CDJ-2000NXS2, DJM-900NXS2, rekordbox); `--duration` sets its length.
//! * [`long`]: hours of mixed traffic (four players, a mixer, StageLinQ units, NFS, mDNS, ARP,
//!   HTTP) sized by `--size` and/or `--duration`, written fast enough for gigabyte files.
//!
//! Shared parts (the first two in `transport::sim`): [`wire`] (time-ordered frame queue into pcapng, scheduler, seeded jitter),
//! [`net`] (hosts, UDP and TCP frames via etherparse), [`pdl`]/[`pdl_deck`] (Pro DJ Link units
//! and what the DJ does to them), [`dblookup`] (tracks and dbserver metadata lookups), [`slq`]
//! (StageLinQ units), [`noise`] (the non-DJ traffic of `long`). Timestamps start at a fixed
//! epoch and every random choice comes from a fixed seed: the same command writes the same
//! bytes every time.
//!
//! How a scenario runs: units schedule their own periodic work (keep-alives, status rounds,
//! beats, emits) on a [`wire::Sched`]; the scenario schedules the script's steps on the same
//! clock; the loop pops work in time order and each piece queues the frames it sends on the
//! [`wire::Wire`], which writes them out in time order.

pub mod club_set;
pub mod dblookup;
pub mod long;
pub mod noise;
pub mod pdl;
pub mod pdl_deck;
pub mod rig;
pub mod slq;
pub mod slq_deck;
pub mod stagelinq_set;

/// The virtual network and the pcapng output moved to the simulated transport; scenarios
/// reach them under their old names.
pub use crate::transport::sim::{net, wire};

#[cfg(test)]
mod tests;

use std::io::{self, Write};

use net::Net;
use wire::{Rng, Sched, Wire};

/// What timed work needs: the network, the output queue, the scheduler and the jitter source.
pub struct Cx<'a, W: Write, T> {
    pub net: &'a mut Net,
    pub wire: &'a mut Wire<W>,
    pub sched: &'a mut Sched<T>,
    pub rng: &'a mut Rng,
}

/// The scenarios `djdissect synth --scenario` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    ClubSet,
    StageLinq,
    Long,
    /// The emulator's default scenario on the device models (`rig`).
    Rig,
}

impl Scenario {
    pub const NAMES: [&'static str; 4] = ["club-set", "stagelinq", "long", "rig"];

    pub fn from_name(name: &str) -> Option<Scenario> {
        match name {
            "club-set" => Some(Scenario::ClubSet),
            "stagelinq" => Some(Scenario::StageLinq),
            "long" => Some(Scenario::Long),
            "rig" => Some(Scenario::Rig),
            _ => None,
        }
    }
}

/// Limits of the `long` scenario: it stops at whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub max_bytes: Option<u64>,
    pub max_duration_ns: Option<i128>,
}

/// What a run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub frames: u64,
    pub bytes: u64,
    /// Capture time covered, first frame to last.
    pub duration_ns: i128,
}

/// Write `scenario` as pcapng to `out` (pass a buffered writer).
pub fn generate<W: Write>(scenario: Scenario, limits: Limits, out: W) -> io::Result<Summary> {
    match scenario {
        Scenario::ClubSet => club_set::write(out),
        Scenario::StageLinq => stagelinq_set::write(out),
        Scenario::Long => long::write(limits, out),
        Scenario::Rig => rig::write(limits.max_duration_ns, out),
    }
}

/// `1GiB`, `500M`, `64k`, `1000` (bytes): K/M/G/T suffixes are powers of 1024, with or without
/// `i`/`B` (`1G`, `1GB`, `1GiB` are all 2^30).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a size (try 1GiB, 500M, 64K)"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches('b').trim_end_matches('i');
    let scale: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(format!("unknown size unit in '{text}' (use K, M, G or T)")),
    };
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("size '{text}' is out of range"));
    }
    Ok(bytes as u64)
}

/// `1h`, `90m`, `45s`, `1h30m`, `2500ms`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<i128, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".to_string());
    }
    let bad = || format!("'{text}' is not a duration (try 1h, 90m, 45s, 1h30m)");
    let mut total: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..u] {
            "" | "s" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        rest = &rest[u..];
        total += value * secs;
    }
    let ns = total * 1e9;
    if !ns.is_finite() || !(1e6..=1e18).contains(&ns) {
        return Err(format!("duration '{text}' is out of range"));
    }
    Ok(ns as i128)
}
