//! StageLinQ rigs on the simulated transport, read back with the project's engine: every
//! frame a named type, 0 malformed, 0 unknown, and the session's story.

use std::net::Ipv4Addr;
use std::ops::ControlFlow;
use std::sync::Arc;

use crate::capture::CaptureReader;
use crate::device::scenario::{build_devices, default_scenario, demo_tracks, parse_roles};
use crate::device::{HostAddress, SECOND};
use crate::engine::{Engine, EngineOptions};
use crate::record::Record;
use crate::transport::sim::Sim;

fn host(last: u8) -> HostAddress {
    HostAddress {
        ip: Ipv4Addr::new(127, 0, 0, last),
        mac: [2, 0, 0, 0, 0, last],
    }
}

/// A rig on the simulated transport for `seconds`, read back with the engine: the kinds seen,
/// the session, and the devices' notes.
fn sim_rig(
    roles: &str,
    seconds: i128,
) -> (std::collections::BTreeSet<String>, crate::session::Session) {
    let roles = parse_roles(roles).unwrap();
    let hosts: Vec<HostAddress> = (0..roles.len()).map(|i| host(10 + i as u8)).collect();
    let tracks = demo_tracks();
    let start = 1_700_000_000 * SECOND;
    let s = default_scenario(&roles, &tracks, start, 124.0, seconds * SECOND);
    let devices = build_devices(&roles, &hosts, start, Arc::new(tracks)).unwrap();
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(127, 255, 255, 255)).unwrap();
    for d in devices {
        sim.add(d);
    }
    sim.schedule(s.commands);
    sim.run(s.end).unwrap();
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);
    let (pcap, _, _) = sim.finish().unwrap();
    let mut reader = CaptureReader::new(Box::new(std::io::Cursor::new(pcap))).unwrap();
    let mut engine = Engine::new(EngineOptions::default());
    let mut session = crate::session::Session::new();
    let mut kinds = std::collections::BTreeSet::new();
    let mut sink = |r: &Record<'_>| {
        session.observe(r);
        kinds.insert(r.dissection.type_name.to_string());
        ControlFlow::Continue(())
    };
    while let Some(f) = reader.next_frame().unwrap() {
        let _ = engine.frame(&f, &mut sink);
    }
    let _ = engine.finish(&mut sink);
    let stats = engine.stats();
    assert_eq!(stats.malformed, 0, "{}", stats.line());
    assert_eq!(stats.unknown, 0, "{}", stats.line());
    session.finish();
    (kinds, session)
}

#[test]
fn two_sc6000s_and_an_x1800_on_the_simulated_network_read_back_clean() {
    let (kinds, session) = sim_rig("sc6000,sc6000,x1800", 60);
    for k in [
        "discovery",
        "services_request",
        "service_announcement",
        "service_hello",
        "reference",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    assert!(kinds.iter().any(|k| k.starts_with("statemap")), "{kinds:?}");
    assert!(
        kinds.iter().any(|k| k.starts_with("beat_info")),
        "{kinds:?}"
    );
    // Both players, each with deck 1, told apart by address; both played and went on air.
    let players: Vec<_> = session
        .stagelinq
        .devices
        .iter()
        .filter(|(_, d)| d.decks.contains_key(&1))
        .collect();
    assert_eq!(players.len(), 2, "{:?}", session.stagelinq.devices.keys());
    for (ip, d) in players {
        let deck = &d.decks[&1];
        assert!(deck.title.is_some(), "{ip}: {deck:?}");
        // BeatInfo at the scenario's tempo (the track pitched to 124 BPM).
        let bpm = deck.beatinfo_bpm.unwrap();
        assert!((bpm - 124.0).abs() < 1e-6, "{ip}: {bpm}");
    }
    let on_air = session
        .timeline
        .iter()
        .filter(|e| e.text.contains("on air"))
        .count();
    assert!(
        on_air >= 2,
        "{:?}",
        session.timeline.iter().map(|e| &e.text).collect::<Vec<_>>()
    );
}

#[test]
fn all_in_ones_and_a_mixed_rig_read_back_clean() {
    for roles in [
        "prime-4",
        "prime-go",
        "prime-2,sc5000,x1850",
        "cdj-3000,sc6000",
    ] {
        let (kinds, _) = sim_rig(roles, 40);
        assert!(kinds.contains("discovery"), "{roles}: {kinds:?}");
    }
}
