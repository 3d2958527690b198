//! The synthesiser's output read back through the project's own engine: deterministic, free of
//! malformed and unknown records, every message re-emitted byte for byte by its Repr, and the
//! record counts the scenarios imply.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::capture::CaptureReader;
use crate::dissect::{Proto, Value};
use crate::engine::{Engine, EngineOptions, ReadStats};
use crate::record::Record;

use super::club_set::{club_set_script, Step};
use super::pdl::{BOOT_TIME, MIXER_NUMBER};
use super::wire::{MS, SEC};
use super::{generate, Limits, Scenario};

/// What the tests keep of a record.
pub(crate) struct Seen {
    pub ts_ns: i128,
    pub proto: Proto,
    pub type_name: String,
    pub device: Option<u32>,
    pub port: u16,
    pub bytes: Vec<u8>,
    pub fields: BTreeMap<String, Value>,
}

pub(crate) fn synth(s: Scenario, limits: Limits) -> Vec<u8> {
    match generate(s, limits, Vec::new()) {
        Ok(_) => {}
        Err(e) => panic!("{s:?}: {e}"),
    }
    let mut out = Vec::new();
    generate(s, limits, &mut out).unwrap();
    out
}

pub(crate) fn read_back(bytes: &[u8]) -> (ReadStats, Vec<Seen>) {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes.to_vec()))).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut seen = Vec::new();
    let mut sink = |rec: &Record<'_>| {
        seen.push(Seen {
            ts_ns: rec.ts_ns,
            proto: rec.dissection.proto,
            type_name: rec.dissection.type_name.to_string(),
            device: rec.dissection.device,
            port: rec.port,
            bytes: rec.bytes.to_vec(),
            fields: rec
                .dissection
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.value.clone()))
                .collect(),
        });
        ControlFlow::Continue(())
    };
    while let Some(f) = r.next_frame().unwrap() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    (e.stats().clone(), seen)
}

fn count(stats: &ReadStats, proto: Proto, t: &str) -> u64 {
    stats
        .by_type()
        .get(&(proto, std::borrow::Cow::Owned(t.to_string())))
        .copied()
        .unwrap_or(0)
}

fn assert_near(what: &str, got: u64, want: f64, tolerance: f64) {
    let lo = want * (1.0 - tolerance) - 1.0;
    let hi = want * (1.0 + tolerance) + 1.0;
    assert!(
        (lo..=hi).contains(&(got as f64)),
        "{what}: {got} records, expected about {want:.0}"
    );
}

/// Every record of `seen` re-emitted by its Repr gives its own bytes back.
pub(crate) fn assert_reprs_round_trip(seen: &[Seen]) {
    use crate::{dbserver, prodjlink, stagelinq};
    for s in seen {
        let again = match s.proto {
            Proto::ProDjLink => prodjlink::Packet::parse(s.port, &s.bytes)
                .map(|p| p.to_bytes())
                .ok(),
            Proto::DbServer => match s.type_name.as_str() {
                "port_query" => dbserver::PortQuery::parse(&s.bytes)
                    .ok()
                    .map(|p| p.0.to_bytes()),
                "port_answer" => dbserver::PortAnswer::parse(&s.bytes)
                    .ok()
                    .map(|p| p.0.to_bytes()),
                "greeting" => dbserver::Greeting::parse(&s.bytes)
                    .ok()
                    .map(|g| g.0.to_bytes()),
                _ => dbserver::Message::parse(&s.bytes)
                    .ok()
                    .map(|m| m.0.to_bytes()),
            },
            Proto::StageLinq => stagelinq::reparse(&s.bytes, &s.type_name),
        };
        assert_eq!(
            again.as_deref(),
            Some(&s.bytes[..]),
            "{:?} {} does not round-trip",
            s.proto,
            s.type_name
        );
    }
}

#[test]
fn club_set_is_deterministic() {
    let a = synth(Scenario::ClubSet, Limits::default());
    let b = synth(Scenario::ClubSet, Limits::default());
    assert!(a.len() > 500_000, "{} bytes", a.len());
    assert!(a == b, "two runs differ");
}

#[test]
fn club_set_reads_back_clean_with_the_counts_the_script_implies() {
    let script = club_set_script();
    let bytes = synth(Scenario::ClubSet, Limits::default());
    let (stats, seen) = read_back(&bytes);
    assert_eq!(stats.malformed, 0, "{}", stats.line());
    assert_eq!(stats.unknown, 0, "{}", stats.line());
    // Nothing but Pro DJ Link and dbserver; TCP control segments carry no record.
    assert!(stats.skipped.is_empty(), "{}", stats.line());
    assert_reprs_round_trip(&seen);

    let pdl = |t| count(&stats, Proto::ProDjLink, t);
    let db = |t| count(&stats, Proto::DbServer, t);
    let units = script.devices.len() as u64;
    // Power-up: three of each stage per unit (prodjlink.md 9.1).
    for t in ["hello", "claim_mac", "claim_ip", "claim_final"] {
        assert_eq!(pdl(t), 3 * units, "{t}");
    }
    let steps = |f: fn(&Step) -> bool| script.steps.iter().filter(|s| f(&s.step)).count() as u64;
    assert_eq!(
        pdl("master_handoff_request"),
        steps(|s| matches!(s, Step::HandoffRequest { .. }))
    );
    assert_eq!(
        pdl("master_handoff_response"),
        steps(|s| matches!(s, Step::HandoffResponse { .. }))
    );
    // dbserver: each lookup opens its own connection here (port query, greetings, setup) and
    // asks once (2002 + render of 11 items); each connection ends with a teardown.
    let lookups = steps(|s| matches!(s, Step::MetadataLookup { .. }));
    assert_eq!(db("port_query"), lookups);
    assert_eq!(db("port_answer"), lookups);
    assert_eq!(db("greeting"), 2 * lookups);
    assert_eq!(db("setup_request"), lookups);
    assert_eq!(db("menu_available"), 2 * lookups);
    assert_eq!(db("metadata_request"), lookups);
    assert_eq!(db("render_menu_request"), lookups);
    assert_eq!(db("menu_header"), lookups);
    assert_eq!(db("menu_item"), 11 * lookups);
    assert_eq!(db("menu_footer"), lookups);
    assert_eq!(db("teardown_request"), lookups);

    // Periodic traffic, from the rates of prodjlink.md 2-4.
    let end = script.end_ns();
    let up: Vec<(u8, i128)> = script
        .devices
        .iter()
        .map(|d| {
            let on = script
                .steps
                .iter()
                .find(|s| s.step == Step::PowerOn { device: d.number })
                .unwrap()
                .at_ns;
            (d.number, on + BOOT_TIME)
        })
        .collect();
    let secs = |from: i128| (end - from) as f64 / SEC as f64;
    let keep_alives: f64 = up.iter().map(|(_, u)| secs(*u) / 1.5 + 1.0).sum();
    assert_near("keep_alive", pdl("keep_alive"), keep_alives, 0.02);
    // Status every 200 ms to every peer that is up, plus the immediate ones.
    let mut status = 0.0;
    let mut mixer_status = 0.0;
    for &(a, ua) in &up {
        for &(b, ub) in &up {
            if a != b {
                let both = secs(ua.max(ub)) / 0.2;
                if a == MIXER_NUMBER {
                    mixer_status += both;
                } else {
                    status += both;
                }
            }
        }
    }
    assert_near("cdj_status", pdl("cdj_status"), status, 0.05);
    assert_near("mixer_status", pdl("mixer_status"), mixer_status, 0.03);
    let mixer_up = up.iter().find(|(n, _)| *n == MIXER_NUMBER).unwrap().1;
    let faders = steps(|s| matches!(s, Step::Fader { .. })) as f64;
    assert_near(
        "channels_on_air",
        pdl("channels_on_air"),
        secs(mixer_up) / 0.3 + faders,
        0.02,
    );
    let load3 = script.loads().iter().find(|l| l.1 == 3).unwrap().0;
    assert_near(
        "precise_position",
        pdl("precise_position"),
        secs(load3) / 0.030,
        0.03,
    );
}

/// Beats come at the interval of the effective tempo, bar positions cycle 1-4.
#[test]
fn club_set_beats_keep_time() {
    let bytes = synth(Scenario::ClubSet, Limits::default());
    let (_, seen) = read_back(&bytes);
    let mut by_device: BTreeMap<u32, Vec<&Seen>> = BTreeMap::new();
    for s in seen.iter().filter(|s| s.type_name == "beat") {
        by_device.entry(s.device.unwrap()).or_default().push(s);
    }
    assert_eq!(by_device.len(), 4, "three decks and the mixer beat");
    for (dev, beats) in &by_device {
        let mut checked = 0;
        for w in beats.windows(2) {
            let bar = |s: &Seen| s.fields["beat_in_bar"].as_u64().unwrap();
            let eff = w[0].fields["effective_bpm"].as_f64().unwrap();
            let gap = w[1].ts_ns - w[0].ts_ns;
            let expect = (60.0 / eff * 1e9) as i128;
            // A deck that pauses and plays again leaves a longer gap, the mixer switching from
            // its idle metronome to the master's beat changes tempo; every other gap is one
            // beat (plus at most 0.2 ms jitter each side).
            let same_tempo = w[1].fields["effective_bpm"].as_f64() == Some(eff);
            if same_tempo && gap < expect + 50 * MS {
                assert!(
                    (gap - expect).abs() < 450_000,
                    "device {dev}: beat gap {gap} ns at {eff} BPM"
                );
                assert_eq!(bar(w[1]), bar(w[0]) % 4 + 1, "device {dev}");
                checked += 1;
            }
        }
        assert!(checked > 20, "device {dev}: {checked} beat pairs");
    }
}

#[test]
fn stagelinq_is_deterministic_and_reads_back_clean() {
    use super::stagelinq_set::{stagelinq_script, SlqStep};
    use crate::device::stagelinq::mixer::SUBSCRIBES as MIXER_SUBSCRIBES;
    use crate::device::stagelinq::Persona as SlqPersona;
    let a = synth(Scenario::StageLinq, Limits::default());
    assert!(
        a == synth(Scenario::StageLinq, Limits::default()),
        "two runs differ"
    );
    let (stats, seen) = read_back(&a);
    assert_eq!(stats.malformed, 0, "{}", stats.line());
    assert_eq!(stats.unknown, 0, "{}", stats.line());
    assert!(stats.skipped.is_empty(), "{}", stats.line());
    assert_reprs_round_trip(&seen);
    let n = |t| count(&stats, Proto::StageLinq, t);
    // Directory: each side's services request, the player's services (3.4, FileTransfer
    // aside until its session lands).
    assert_eq!(n("services_request"), 2);
    let services = SlqPersona::by_role("sc6000").unwrap().services.len() as u64;
    assert_eq!(n("service_announcement"), services);
    assert_eq!(n("service_hello"), 2);
    assert_eq!(n("beat_info_start"), 1);
    // The mixer's subscriptions, the player's channel count and 4 assignments (3.5).
    assert_eq!(n("statemap_subscribe"), MIXER_SUBSCRIBES.len() as u64 + 5);
    let script = stagelinq_script();
    let faders = script
        .steps
        .iter()
        .filter(|s| matches!(s.step, SlqStep::Fader { .. }))
        .count() as u64;
    // Player number and both cabled volumes at start, then one volume write per fader move.
    assert_eq!(n("statemap_set"), 3 + faders);
    let loads = script.loads().len() as u64;
    let transport = script.transport().len() as u64;
    // Each subscription answered once; a load changes song, artist and both tempos; play and
    // stop change PlayState; switching layers (deck 2 and back) LayerB, at most twice per
    // transport step.
    let least = MIXER_SUBSCRIBES.len() as u64 + 5 + 4 * loads + transport;
    let values = n("statemap_value");
    assert!(
        (least..=least + 2 * transport).contains(&values),
        "{values} statemap values, expected {least}..{}",
        least + 2 * transport
    );
    // Periodic: HOWDY every second from 4 identities, References 1.5 s / 5 s with echoes,
    // a beat emit every ~33 ms (stagelinq.md 1.2, 1.3.3, 1.6).
    let u = &script.units;
    let leave = script
        .steps
        .iter()
        .find(|s| s.step == SlqStep::Leave)
        .unwrap()
        .at_ns;
    let secs = |from: i128| (leave - from) as f64 / SEC as f64;
    let howdies = secs(u.mixer_boot_ns) + 3.0 * secs(u.player_boot_ns) + 4.0;
    assert_near("discovery", n("discovery"), howdies, 0.03);
    // The mixer connects on the player's first HOWDY (3.3: 0.8 ms after it).
    let connected = u.player_boot_ns;
    assert_near(
        "reference",
        n("reference"),
        2.0 * (secs(connected) / 1.5 + secs(connected) / 5.0),
        0.06,
    );
    assert_near("beat_info", n("beat_info"), secs(connected) / 0.033, 0.03);
    // Beat emits advance with the tempo: beat x 60 / bpm = samples / 44100 (1.6).
    for s in seen.iter().filter(|s| s.type_name == "beat_info") {
        let Some(Value::List(decks)) = s.fields.get("decks") else {
            panic!("beat_info without decks")
        };
        assert_eq!(decks.len(), 2);
        for d in decks {
            let Value::Obj(items) = d else { panic!() };
            let get = |k: &str| {
                items
                    .iter()
                    .find(|(n, _)| n == k)
                    .unwrap()
                    .1
                    .as_f64()
                    .unwrap()
            };
            let (beat, bpm) = (get("beat"), get("bpm"));
            let samples = items
                .iter()
                .find(|(n, _)| n.starts_with("samples") || n.starts_with("timeline"))
                .map(|(_, v)| v.as_f64().unwrap())
                .unwrap();
            assert!((beat * 60.0 / bpm - samples / 44_100.0).abs() < 1e-6);
        }
    }
}

#[test]
fn long_stops_at_the_first_limit_and_is_deterministic() {
    let by_size = Limits {
        max_bytes: Some(3 << 20),
        max_duration_ns: None,
    };
    let a = synth(Scenario::Long, by_size);
    assert!(a == synth(Scenario::Long, by_size), "two runs differ");
    // It stops at the first timer past the limit: a few frames over at most.
    assert!(
        a.len() >= 3 << 20 && a.len() < (3 << 20) + (64 << 10),
        "{}",
        a.len()
    );
    let by_time = Limits {
        max_bytes: Some(1 << 40),
        max_duration_ns: Some(20 * SEC),
    };
    let mut out = Vec::new();
    let s = generate(Scenario::Long, by_time, &mut out).unwrap();
    assert!(s.duration_ns < 20 * SEC && s.duration_ns > 19 * SEC);
    assert_eq!(s.bytes, out.len() as u64);
}

#[test]
fn long_reads_back_clean_and_skips_the_unrelated_traffic() {
    let limits = Limits {
        max_bytes: None,
        max_duration_ns: Some(480 * SEC),
    };
    let bytes = synth(Scenario::Long, limits);
    let (stats, seen) = read_back(&bytes);
    assert_eq!(stats.malformed, 0, "{}", stats.line());
    assert_eq!(stats.unknown, 0, "{}", stats.line());
    assert_reprs_round_trip(&seen);
    // Everything that is not DJ protocol is skipped, by what it is.
    for what in [
        "NFS (UDP)",
        "IP fragment (NFS and other non-DJ)",
        "mDNS (UDP)",
        "non-IP (ARP...)",
        "other TCP",
    ] {
        assert!(
            stats.skipped.get(what).copied().unwrap_or(0) > 0,
            "{what}: {}",
            stats.line()
        );
    }
    assert_eq!(stats.defrag.dropped_datagrams, 0, "{}", stats.line());
    // Every NFS read reply (8 KiB + headers) arrives as six fragments; the first shows NFS
    // ports, so none of the train is buffered or reassembled, and all six are counted.
    let ignored = stats.skipped["IP fragment (NFS and other non-DJ)"];
    assert_eq!(stats.defrag.reassembled, 0, "{}", stats.line());
    assert_eq!(stats.defrag.ignored_fragments, ignored, "{}", stats.line());
    assert!(ignored > 0 && ignored % 6 == 0, "{}", stats.line());
    let pdl = |t| count(&stats, Proto::ProDjLink, t);
    let slq = |t| count(&stats, Proto::StageLinq, t);
    // Four players and a mixer boot; StageLinQ streams; a transition every 150-210 s, each
    // with its dbserver lookup and a master change; the third loads a CDJ-3000.
    assert_eq!(pdl("hello"), 15);
    assert!(pdl("cdj_status") > 35_000, "{}", pdl("cdj_status"));
    assert!(
        pdl("precise_position") > 1_000,
        "{}",
        pdl("precise_position")
    );
    assert!(slq("beat_info") > 12_000 && slq("statemap_value") > 40);
    let lookups = count(&stats, Proto::DbServer, "metadata_request");
    assert!(lookups >= 3, "{lookups} lookups");
    assert_eq!(count(&stats, Proto::DbServer, "menu_item"), 11 * lookups);
    assert!(pdl("master_handoff_request") >= 2);
}

#[test]
fn sizes_and_durations_parse() {
    use super::{parse_duration, parse_size};
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("1G"), Ok(1 << 30));
    assert_eq!(parse_size("500M"), Ok(500 << 20));
    assert_eq!(parse_size("64k"), Ok(64 << 10));
    assert_eq!(parse_size("1000"), Ok(1000));
    assert_eq!(parse_size("1.5K"), Ok(1536));
    assert!(parse_size("1Q").is_err() && parse_size("GiB").is_err() && parse_size("0").is_err());
    assert_eq!(parse_duration("1h"), Ok(3600 * SEC));
    assert_eq!(parse_duration("1h30m"), Ok(5400 * SEC));
    assert_eq!(parse_duration("45s"), Ok(45 * SEC));
    assert_eq!(parse_duration("90"), Ok(90 * SEC));
    assert_eq!(parse_duration("2500ms"), Ok(2500 * MS));
    assert!(parse_duration("h").is_err() && parse_duration("5 parsecs").is_err());
}
