//! The proof against a real client library (issue 12 "Proof", `clients.md` 3 and 7): the npm
//! package prolink-connect 0.11.0 runs in one network namespace, `djdissect replay --as` in
//! another, joined by a veth pair; the client must list every emulated device, report status,
//! emit nowPlaying and fetch metadata and beat grids through its dbserver client. The veth is
//! captured with tshark meanwhile, and `djdissect read` of that capture must name every packet
//! the emulator sent: 0 malformed, 0 unknown, and a summary that tells the scenario's story.
//!
//! Needs root (namespaces), node with `tests/clients/node_modules` (`npm ci --ignore-scripts`
//! in tests/clients) and tshark. Without them it says it was skipped, and fails under CI.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::netns::{in_ci, skip, NetnsPair};
use common::proof::{
    self, finish_rig, lines, read_all, start_capture, start_rig, stop_capture, summary,
};
use djdissect::device::prodjlink::Persona;
use serde_json::Value;

const TEST: &str = "prolink_connect";
const ROLES: &str = "cdj-3000,cdj-3000,djm-900nxs2,rekordbox";
/// Long enough for the first tempo-master handoff of the default scenario at 124 BPM (the
/// second player takes over about 22 s after start).
const RIG_SECONDS: u64 = 28;
const CLIENT_SECONDS: u64 = 26;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// What the test needs besides root; the reason when something is missing.
fn prerequisites() -> Result<(), String> {
    let ok = |c: &mut Command| c.stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !ok(Command::new("node").arg("--version")).is_ok_and(|s| s.success()) {
        return Err("node is not installed".into());
    }
    if !clients_dir().join("node_modules/prolink-connect").is_dir() {
        return Err(
            "prolink-connect is not installed (cd tests/clients && npm ci --ignore-scripts)".into(),
        );
    }
    if !ok(Command::new("tshark").arg("--version")).is_ok_and(|s| s.success()) {
        return Err("tshark is not installed".into());
    }
    Ok(())
}

#[test]
fn prolink_connect_accepts_the_emulated_rig() {
    if let Err(why) = prerequisites() {
        if in_ci() {
            panic!("{TEST}: {why} (required when CI is set; .ci/run installs it)");
        }
        return skip(TEST, &why);
    }
    let roles: Vec<&Persona> = ROLES
        .split(',')
        .map(|r| Persona::by_role(r).unwrap())
        .collect();
    let Some(pair) = NetnsPair::create(TEST, "pc", roles.len()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("veth.pcapng");

    // The capture runs on the client's end of the veth: everything between client and rig.
    let mut tshark = start_capture(&pair, &capture);
    let mut rig = start_rig(&pair, ROLES, RIG_SECONDS);
    // clients.md 7.2: start the emulator first.
    std::thread::sleep(Duration::from_millis(500));
    let client = pair
        .exec(&pair.client, "timeout")
        .arg(format!("{}", CLIENT_SECONDS + 15))
        .args(["node", "prolink-harness.js", &CLIENT_SECONDS.to_string()])
        .current_dir(clients_dir())
        .env("VCDJ_ID", "5")
        .output()
        .expect("run the prolink-connect harness");
    let client_out = String::from_utf8_lossy(&client.stdout).into_owned();
    eprintln!("--- prolink-connect harness ---\n{client_out}");

    stop_capture(&mut tshark);

    assert!(
        client.status.success(),
        "harness exit {:?}: {}",
        client.status,
        String::from_utf8_lossy(&client.stderr)
    );
    finish_rig(&mut rig, RIG_SECONDS);
    let rig_table = read_all(rig.0.stdout.take());
    check_start_table(&rig_table, &pair);
    check_capture(&capture, &pair);
    check_client(&client_out, &roles, &pair);
}

fn check_start_table(table: &str, pair: &NetnsPair) {
    for ip in &pair.device_ips {
        assert!(
            table.contains(&ip.to_string()),
            "start table lacks {ip}:\n{table}"
        );
    }
}

fn check_client(out: &str, roles: &[&Persona], pair: &NetnsPair) {
    let events = lines(out);
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == kind).collect() };
    assert!(of("uncaught").is_empty(), "the client crashed:\n{out}");

    // Every emulated device, with the number, name, type and address the rig gave it.
    let devices: BTreeMap<u64, &Value> = of("device")
        .into_iter()
        .map(|d| (d["number"].as_u64().unwrap(), d))
        .collect();
    assert_eq!(devices.len(), roles.len(), "devices seen:\n{out}");
    let expected_numbers = [1u64, 2, 33, 17];
    for ((persona, ip), number) in roles.iter().zip(&pair.device_ips).zip(expected_numbers) {
        let d = devices
            .get(&number)
            .unwrap_or_else(|| panic!("no device {number}:\n{out}"));
        assert_eq!(d["name"], persona.name, "{d}");
        assert_eq!(
            d["type"].as_u64(),
            Some(u64::from(persona.device_type)),
            "{d}"
        );
        assert_eq!(d["ip"], ip.to_string(), "{d}");
    }

    // Status: a player playing at the scenario's tempo, on air, tempo master, with a track
    // from its own USB stick; then the handoff to the other player.
    let status = of("status");
    let playing_master = status.iter().find(|s| {
        s["playing"] == true && s["onAir"] == true && s["master"] == true && s["bpm"] == 124
    });
    let s = playing_master.unwrap_or_else(|| panic!("no playing on-air master:\n{out}"));
    assert!(s["trackId"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(
        s["trackDeviceId"], s["deviceId"],
        "own media: Dr is the player itself: {s}"
    );
    assert_eq!(s["trackSlot"], 3, "usb: {s}");
    assert_eq!(s["trackType"], 1, "rekordbox track: {s}");
    assert!(s["beat"].as_u64().is_some(), "{s}");
    let masters: BTreeSet<u64> = status
        .iter()
        .filter(|s| s["master"] == true)
        .map(|s| s["deviceId"].as_u64().unwrap())
        .collect();
    assert_eq!(
        masters,
        BTreeSet::from([1, 2]),
        "tempo master handed over:\n{out}"
    );
    assert!(
        status.iter().any(|s| s["sync"] == true),
        "a synced deck:\n{out}"
    );
    assert!(!of("nowPlaying").is_empty(), "no nowPlaying:\n{out}");
    // Metadata and beat grids through the client's dbserver code, from a CDJ and from rekordbox.
    let meta = of("metadata");
    for via in ["remotedb", "db.getMetadata"] {
        let m = meta
            .iter()
            .find(|m| m["via"] == via)
            .unwrap_or_else(|| panic!("no metadata via {via}:\n{out}"));
        for field in ["title", "artist", "key"] {
            assert!(
                m[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {m}"
            );
        }
        assert!(m["duration"].as_u64().is_some_and(|d| d > 0), "{m}");
        assert!(m["tempo"].as_f64().is_some_and(|t| t > 0.0), "{m}");
        assert!(
            m["beatGrid"]["beats"].as_u64().is_some_and(|b| b > 16),
            "{m}"
        );
    }
    let errors = of("error");
    assert!(errors.is_empty(), "client errors:\n{out}");
}

fn check_capture(capture: &Path, pair: &NetnsPair) {
    let types = proof::check_capture(capture, pair, 101);
    for t in ["keep_alive", "cdj_status", "beat", "mixer_status"] {
        assert!(types.contains(t), "no {t} from the emulator: {types:?}");
    }

    let story = summary(capture);
    for needle in [
        "CDJ-3000",
        "DJM-900NXS2",
        "rekordbox",
        "loaded rekordbox track",
        "playing",
        "on air (mixer)",
        "tempo master handed from player 1 to player 2",
    ] {
        assert!(story.contains(needle), "summary lacks '{needle}':\n{story}");
    }
}
