//! The proof against real StageLinQ client libraries (issue 13 "Proof", `clients.md` 4, 5, 7):
//! `djdissect replay --as` in one network namespace, a client in another, joined by a veth
//! pair that tshark captures.
//!
//! * npm `stagelinq` 3.5.5 against `sc6000,sc6000,x1800` and against `prime-go`: `connected`,
//!   `ready`, StateMap values for every deck (song name and artist included), `trackLoaded`,
//!   `nowPlaying`, BeatInfo beats at the scenario's tempo, and each unit's Engine database
//!   downloaded over FileTransfer, opened with SQLite, holding the demo library's tracks.
//! * PyStageLinQ 0.2.1 against `sc6000`: the device with its service list, StateMap values.
//! * `djdissect read` of every capture: 0 malformed, 0 unknown, every record the emulator sent
//!   named; the summary names the units and what played.
//!
//! Needs root (namespaces), node with `tests/clients/node_modules` (`npm ci --ignore-scripts`
//! in tests/clients), `tests/clients/venv` with PyStageLinQ 0.2.1, and tshark. Without them each
//! test says it was skipped, and fails under CI (`.ci/run` installs them).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::netns::{in_ci, skip, NetnsPair};
use common::proof::{self, lines};
use serde_json::Value;

/// The scenario's tempo (`replay --bpm`, default 124).
const BPM: f64 = 124.0;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn python() -> PathBuf {
    clients_dir().join("venv/bin/python")
}

/// What a test needs besides root; the reason when something is missing.
fn prerequisites(npm: bool) -> Result<(), String> {
    let ok = |c: &mut Command| c.stdout(Stdio::null()).stderr(Stdio::null()).status();
    if npm {
        if !ok(Command::new("node").arg("--version")).is_ok_and(|s| s.success()) {
            return Err("node is not installed".into());
        }
        if !clients_dir().join("node_modules/stagelinq").is_dir() {
            return Err(
                "stagelinq is not installed (cd tests/clients && npm ci --ignore-scripts)".into(),
            );
        }
    } else if !ok(Command::new(python()).args(["-c", "import PyStageLinQ"]))
        .is_ok_and(|s| s.success())
    {
        return Err(
            "PyStageLinQ is not installed (python3 -m venv tests/clients/venv && \
                    tests/clients/venv/bin/pip install PyStageLinQ==0.2.1)"
                .into(),
        );
    }
    if !ok(Command::new("tshark").arg("--version")).is_ok_and(|s| s.success()) {
        return Err("tshark is not installed".into());
    }
    Ok(())
}

/// One run: the rig for `rig_seconds`, the client command after half a second (clients.md 7.2:
/// start the emulator first), the capture stopped after both ended. Returns the client's
/// stdout and the capture's records checked as in [`proof::check_capture`].
struct Run {
    client_out: String,
    types: BTreeSet<String>,
    summary: String,
    _dir: tempfile::TempDir,
}

fn run(
    test: &str,
    tag: &str,
    roles: &str,
    rig_seconds: u64,
    client: &[&str],
    min_records: usize,
) -> Option<Run> {
    let npm = client[0] == "node";
    if let Err(why) = prerequisites(npm) {
        if in_ci() {
            panic!("{test}: {why} (required when CI is set; .ci/run installs it)");
        }
        skip(test, &why);
        return None;
    }
    let pair = NetnsPair::create(test, tag, roles.split(',').count())?;
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("veth.pcapng");
    let out_dir = dir.path().join("downloads");
    std::fs::create_dir(&out_dir).unwrap();
    let mut tshark = proof::start_capture(&pair, &capture);
    let mut rig = proof::start_rig(&pair, roles, rig_seconds);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = pair
        .exec(&pair.client, "timeout")
        .arg(format!("{}", rig_seconds + 15))
        .args(client)
        .current_dir(clients_dir())
        .env("OUT_DIR", &out_dir)
        .output()
        .expect("run the client harness");
    let client_out = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("--- {test}: client ---\n{client_out}");
    proof::finish_rig(&mut rig, rig_seconds);
    proof::stop_capture(&mut tshark);
    assert!(
        out.status.success(),
        "harness exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let events = lines(&client_out);
    assert!(
        events.iter().all(|e| e["event"] != "uncaught"),
        "the client crashed:\n{client_out}"
    );
    let types = proof::check_capture(&capture, &pair, min_records);
    let summary = proof::summary(&capture);
    eprintln!("--- {test}: summary of the capture ---\n{summary}");
    Some(Run {
        client_out,
        types,
        summary,
        _dir: dir,
    })
}

fn of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// StateMap values per unit address: path -> the values seen, in order.
fn statemap(events: &[Value]) -> BTreeMap<String, BTreeMap<String, Vec<Value>>> {
    let mut m: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for e in of(events, "statemap") {
        let address = e["address"].as_str().unwrap_or("").to_string();
        let name = e["name"].as_str().unwrap().to_string();
        m.entry(address)
            .or_default()
            .entry(name)
            .or_default()
            .push(e["json"].clone());
    }
    m
}

/// Each downloaded database opens with SQLite, carries the unit's token as its uuid and lists
/// the demo library's tracks.
fn check_databases(events: &[Value], units: usize) {
    let demo: Vec<String> = djdissect::device::library::Library::demo()
        .tracks
        .into_iter()
        .map(|t| t.title)
        .collect();
    let dbs = of(events, "database");
    let devices: BTreeSet<&str> = dbs
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap())
        .collect();
    assert_eq!(devices.len(), units, "a database from each unit: {dbs:?}");
    for d in dbs {
        assert_eq!(d["size"], d["announced"], "{d}");
        assert_eq!(
            d["location"], "/DEMO (USB 1)/Engine Library/Database2/m.db",
            "{d}"
        );
        let db = rusqlite::Connection::open(d["file"].as_str().unwrap()).unwrap();
        let titles: Vec<String> = db
            .prepare("SELECT title FROM Track ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(titles, demo, "{d}");
        let uuid: String = db
            .query_row("SELECT uuid FROM Information", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            format!("net://{uuid}"),
            d["deviceId"].as_str().unwrap(),
            "the database is the unit's own"
        );
    }
}

/// Every deck of every unit reported song name and artist; the decks that loaded a track
/// reported a title from the demo library, with its artist.
fn check_decks(events: &[Value], units: &[&str], decks: u8, loaded_at_least: usize) {
    let lib = djdissect::device::library::Library::demo();
    let sm = statemap(events);
    let mut loaded = 0;
    for unit in units {
        let values = sm
            .get(*unit)
            .unwrap_or_else(|| panic!("no StateMap values from {unit}"));
        for d in 1..=decks {
            for leaf in [
                "Track/SongName",
                "Track/ArtistName",
                "PlayState",
                "CurrentBPM",
            ] {
                let path = format!("/Engine/Deck{d}/{leaf}");
                assert!(values.contains_key(&path), "{unit} never sent {path}");
            }
            let songs = &values[&format!("/Engine/Deck{d}/Track/SongName")];
            if let Some(title) = songs
                .iter()
                .filter_map(|v| v["string"].as_str())
                .find(|s| !s.is_empty())
            {
                let track = lib.tracks.iter().find(|t| t.title == title);
                let track = track.unwrap_or_else(|| panic!("{title} is not a demo track"));
                let artists = &values[&format!("/Engine/Deck{d}/Track/ArtistName")];
                assert!(
                    artists
                        .iter()
                        .any(|a| a["string"] == lib.artist_name(track)),
                    "{unit} deck {d}: {title} without its artist"
                );
                loaded += 1;
            }
        }
    }
    assert!(loaded >= loaded_at_least, "{loaded} decks loaded a track");
}

/// BeatInfo: a deck of `unit` playing at the scenario's tempo, its beat counting up.
fn check_beats(events: &[Value], unit: &str) {
    let summaries: Vec<&Value> = of(events, "beats")
        .into_iter()
        .filter(|b| b["address"] == unit)
        .collect();
    let last = summaries
        .last()
        .unwrap_or_else(|| panic!("no BeatInfo from {unit}"));
    assert!(last["frames"].as_u64().unwrap() > 50, "{last}");
    let playing = last["decks"]
        .as_array()
        .unwrap()
        .iter()
        .position(|d| d["bpm"].as_f64() == Some(BPM) && d["beat"].as_f64().unwrap() > 1.0);
    assert!(
        playing.is_some(),
        "no deck of {unit} beating at {BPM}: {last}"
    );
}

fn check_story(run: &Run, needles: &[&str]) {
    for t in ["discovery", "statemap_value", "beat_info", "file_transfer"] {
        assert!(
            run.types.contains(t),
            "no {t} from the emulator: {:?}",
            run.types
        );
    }
    for needle in needles {
        assert!(
            run.summary.contains(needle),
            "summary lacks '{needle}':\n{}",
            run.summary
        );
    }
}

#[test]
fn stagelinq_npm_follows_two_sc6000_and_an_x1800() {
    const SECONDS: u64 = 30;
    let Some(run) = run(
        "stagelinq_npm_follows_two_sc6000_and_an_x1800",
        "sl",
        "sc6000,sc6000,x1800",
        SECONDS,
        &["node", "stagelinq-harness.js", &(SECONDS - 2).to_string()],
        200,
    ) else {
        return;
    };
    let events = lines(&run.client_out);
    let units = ["169.254.10.2", "169.254.10.3"];
    // The X1800 announces JM08, which the library ignores by design (clients.md 4.1).
    let connected: BTreeSet<&str> = of(&events, "connected")
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(connected, BTreeSet::from(units), "{}", run.client_out);
    for c in of(&events, "connected") {
        assert_eq!(
            (c["software"].as_str(), c["version"].as_str()),
            (Some("JP13"), Some("2.3.1"))
        );
    }
    assert_eq!(of(&events, "ready").len(), 1);
    check_decks(&events, &units, 2, 2);
    let loaded = of(&events, "trackLoaded");
    assert!(!loaded.is_empty(), "no trackLoaded");
    for l in &loaded {
        let path = l["trackNetworkPath"].as_str().unwrap();
        assert!(
            path.starts_with(l["deviceId"].as_str().unwrap())
                && path.contains("/DEMO (USB 1)/Engine Library/Music/"),
            "{l}"
        );
    }
    let playing = of(&events, "nowPlaying");
    let players: BTreeSet<&str> = playing
        .iter()
        .map(|p| p["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        players,
        BTreeSet::from(units),
        "both players played: {playing:?}"
    );
    check_beats(&events, units[0]);
    check_databases(&events, 2);
    let summary = of(&events, "summary");
    assert_eq!(summary.last().unwrap()["errors"], 0, "{}", run.client_out);
    check_story(
        &run,
        &[
            "sc6000",
            "DN-X1800Prime",
            "Loopback Anthem",
            "Keep Alive",
            "database transfer",
            "complete",
        ],
    );
}

#[test]
fn stagelinq_npm_follows_a_prime_go() {
    const SECONDS: u64 = 14;
    let Some(run) = run(
        "stagelinq_npm_follows_a_prime_go",
        "sg",
        "prime-go",
        SECONDS,
        &["node", "stagelinq-harness.js", &(SECONDS - 2).to_string()],
        100,
    ) else {
        return;
    };
    let events = lines(&run.client_out);
    let unit = "169.254.10.2";
    assert_eq!(of(&events, "connected").len(), 1, "{}", run.client_out);
    assert_eq!(of(&events, "connected")[0]["software"], "JP11");
    assert_eq!(of(&events, "ready").len(), 1);
    check_decks(&events, &[unit], 2, 1);
    assert!(!of(&events, "trackLoaded").is_empty(), "no trackLoaded");
    assert!(!of(&events, "nowPlaying").is_empty(), "no nowPlaying");
    check_beats(&events, unit);
    check_databases(&events, 1);
    check_story(
        &run,
        &[
            "PRIME GO",
            "Now playing: Null Modem - Loopback Anthem",
            "database transfer",
            "complete",
        ],
    );
}

#[test]
fn pystagelinq_lists_the_sc6000_and_its_values() {
    const SECONDS: u64 = 8;
    let py = python();
    let Some(run) = run(
        "pystagelinq_lists_the_sc6000_and_its_values",
        "py",
        "sc6000",
        SECONDS,
        &[
            py.to_str().unwrap(),
            "pystagelinq-harness.py",
            "169.254.10.1",
            &(SECONDS - 2).to_string(),
        ],
        20,
    ) else {
        return;
    };
    let events = lines(&run.client_out);
    let devices = of(&events, "device");
    let own = devices
        .iter()
        .find(|d| d["software"] == "JP13")
        .unwrap_or_else(|| panic!("no SC6000 device:\n{}", run.client_out));
    assert_eq!(
        (own["ip"].as_str(), own["name"].as_str()),
        (Some("169.254.10.2"), Some("sc6000"))
    );
    let services: Vec<&str> = own["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        [
            "StateMap",
            "Broadcast",
            "Syncing",
            "TimeSynchronization",
            "BeatInfo",
            "FileTransfer"
        ]
    );
    let values: BTreeMap<&str, Vec<&Value>> =
        of(&events, "statemap")
            .iter()
            .fold(BTreeMap::new(), |mut m, e| {
                m.entry(e["name"].as_str().unwrap())
                    .or_default()
                    .push(&e["json"]);
                m
            });
    for path in [
        "/Engine/Deck1/Track/SongName",
        "/Engine/Deck1/Track/ArtistName",
        "/Engine/Deck2/Track/SongName",
        "/Engine/Master/MasterTempo",
    ] {
        assert!(values.contains_key(path), "no {path}:\n{}", run.client_out);
    }
    assert!(
        values["/Engine/Deck1/Track/SongName"]
            .iter()
            .any(|v| v["string"] == "Loopback Anthem"),
        "{}",
        run.client_out
    );
    assert!(
        values["/Engine/Master/MasterTempo"]
            .iter()
            .any(|v| v["value"].as_f64() == Some(BPM)),
        "{}",
        run.client_out
    );
    assert!(run.types.contains("statemap_value"), "{:?}", run.types);
}
