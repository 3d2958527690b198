//! The `rig` scenario: the emulator's device models and default scenario on the simulated
//! transport. Every packet the models sent must read back through the project's own engine as a
//! named kind (0 malformed, 0 unknown), and the session must tell the scenario's story: four
//! devices with their numbers, alternating players, a master handoff at every turn, the
//! mixer's on-air changes.

use std::ops::ControlFlow;

use djdissect::capture::CaptureReader;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::record::Record;
use djdissect::session::Session;
use djdissect::synth::{generate, Limits, Scenario};

fn rig(seconds: i128) -> Vec<u8> {
    let mut out = Vec::new();
    let limits = Limits {
        max_bytes: None,
        max_duration_ns: Some(seconds * 1_000_000_000),
    };
    generate(Scenario::Rig, limits, &mut out).unwrap();
    out
}

#[test]
fn every_packet_of_the_rig_is_a_named_kind_and_the_session_tells_the_story() {
    let bytes = rig(90);
    let mut reader = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
    let mut engine = Engine::new(EngineOptions::default());
    let mut session = Session::new();
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
    for k in [
        "hello",
        "claim_mac",
        "claim_ip",
        "claim_final",
        "keep_alive",
        "cdj_status",
        "mixer_status",
        "beat",
        "precise_position",
        "channels_on_air",
        "master_handoff_request",
        "master_handoff_response",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    // The four units with the numbers they negotiated.
    let mut devices: Vec<(u32, String)> = session
        .devices
        .devices
        .values()
        .map(|d| (d.device, d.name.clone().unwrap_or_default()))
        .collect();
    devices.sort();
    assert_eq!(
        devices,
        [
            (1, "CDJ-3000".to_string()),
            (2, "CDJ-2000NXS2".to_string()),
            (17, "rekordbox".to_string()),
            (33, "DJM-900NXS2".to_string()),
        ]
    );
    // Player 1 is master first, then the role alternates with a handoff at every turn.
    let masters: Vec<Option<u32>> = session.master_history.iter().map(|m| m.player).collect();
    assert!(masters.len() >= 5, "{masters:?}");
    assert_eq!(masters[0], Some(1));
    assert!(masters.windows(2).all(|w| w[0] != w[1] && w[1].is_some()));
    assert!(session.master_history[1]
        .text
        .contains("handed from player 1 to player 2"));
}

#[test]
fn the_rig_is_deterministic() {
    assert!(rig(20) == rig(20));
}
