//! The `rig` scenario: the emulator's default scenario (`device::scenario`) played by the
//! device models on the simulated transport, as a capture. What `replay --as` does on sockets,
//! here under the virtual clock: a CDJ-3000, a CDJ-2000NXS2, a DJM-900NXS2 and rekordbox power
//! up, negotiate numbers, and the two players alternate tracks with the tempo master handing
//! over at every turn.

use std::io::{self, Write};
use std::sync::Arc;

use super::club_set::START_NS;
use super::net::link_local_from_mac;
use super::Summary;
use crate::device::scenario::{build_devices, default_scenario, demo_tracks, parse_roles};
use crate::device::{HostAddress, SECOND};
use crate::transport::sim::{net::LINK_LOCAL_BROADCAST, Sim};

/// The units of the rig, in power-on order.
pub const ROLES: &str = "cdj-3000,cdj-2000nxs2,djm-900nxs2,rekordbox";
/// Tempo the players are pitched to.
pub const BPM: f64 = 124.0;
/// Length when `--duration` is not given.
pub const DEFAULT_DURATION: i128 = 90 * SECOND;

/// The address of unit `i`: a locally administered MAC, the link-local address real players
/// derive from it (prodjlink.md 2 "Timing facts").
pub fn host(i: usize) -> HostAddress {
    let mac = [0x02, 0xdd, 0x15, 0x5e, 0x01, 0x10 + i as u8];
    HostAddress {
        ip: link_local_from_mac(mac),
        mac,
    }
}

/// Write the rig playing for `duration` as pcapng.
pub fn write<W: Write>(duration: Option<i128>, out: W) -> io::Result<Summary> {
    let roles = match parse_roles(ROLES) {
        Ok(r) => r,
        Err(e) => unreachable!("the rig's own role list parses: {e}"),
    };
    let hosts: Vec<HostAddress> = (0..roles.len()).map(host).collect();
    let tracks = demo_tracks();
    let duration = duration.unwrap_or(DEFAULT_DURATION);
    let scenario = default_scenario(&roles, &tracks, START_NS, BPM, duration);
    let devices = build_devices(&roles, &hosts, START_NS, Arc::new(tracks))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut sim = Sim::new(out, LINK_LOCAL_BROADCAST)?;
    for d in devices {
        sim.add(d);
    }
    sim.schedule(scenario.commands);
    sim.run(scenario.end)?;
    let (_, frames, bytes) = sim.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: scenario.end - START_NS,
    })
}
