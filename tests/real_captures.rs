//! Facts about the real captures in ../shared/captures: the Pro DJ Link census of its README,
//! no unknown or malformed messages, and emit(parse(b)) == b for every message of every protocol.

mod common;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use djdissect::capture::CaptureReader;
use djdissect::dissect::Proto;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::record::Record;

/// Every record of a capture, with its bytes, as (proto, port, type, kind, bytes, malformed).
struct Seen {
    proto: Proto,
    dst_port: u16,
    type_name: String,
    kind: Option<u32>,
    bytes: Vec<u8>,
    malformed: Option<String>,
    frame: u64,
}

fn read_all(path: &Path) -> Vec<Seen> {
    let mut r = CaptureReader::open(path).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    let mut sink = |rec: &Record<'_>| {
        out.push(Seen {
            proto: rec.dissection.proto,
            dst_port: rec.dst.port(),
            type_name: rec.dissection.type_name.to_string(),
            kind: rec.dissection.kind,
            bytes: rec.bytes.to_vec(),
            malformed: rec.dissection.malformed.clone(),
            frame: rec.frame,
        });
        ControlFlow::Continue(())
    };
    while let Some(f) = r.next_frame().unwrap() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    out
}

/// The census table of ../shared/captures/README.md: file -> "port kind/len" -> count.
fn readme_census(dir: &Path) -> BTreeMap<String, BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut out = BTreeMap::new();
    let section = text
        .split("## Census")
        .nth(1)
        .expect("README has a census section");
    for line in section
        .lines()
        .filter(|l| l.starts_with('|') && l.contains('['))
    {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (file, census) = (cols[1], cols[2]);
        let mut m = BTreeMap::new();
        for port_part in census.split("];") {
            let port_part = port_part.trim().trim_end_matches(']');
            let Some((port, items)) = port_part.split_once('[') else {
                continue;
            };
            for item in items.split(',') {
                let item = item.trim();
                let (kl, n) = item.split_once('x').unwrap();
                m.insert(format!("{} {kl}", port.trim()), n.parse::<u64>().unwrap());
            }
        }
        out.insert(file.to_string(), m);
    }
    out
}

#[test]
fn prodjlink_census_matches_the_readme_with_nothing_unknown_or_malformed() {
    let Some(dir) = common::shared_captures("prodjlink_census") else {
        return;
    };
    let census = readme_census(&dir);
    assert!(census.len() >= 11, "census rows parsed: {}", census.len());
    for (file, want) in &census {
        let seen = read_all(&dir.join(file));
        let mut got: BTreeMap<String, u64> = BTreeMap::new();
        for s in seen.iter().filter(|s| s.proto == Proto::ProDjLink) {
            *got.entry(format!(
                "{} {:02x}/{}",
                s.dst_port,
                s.kind.unwrap(),
                s.bytes.len()
            ))
            .or_default() += 1;
            assert_ne!(
                s.type_name, "unknown",
                "{file} frame {}: unknown kind",
                s.frame
            );
            assert!(
                s.malformed.is_none(),
                "{file} frame {}: {:?}",
                s.frame,
                s.malformed
            );
        }
        assert_eq!(&got, want, "{file}");
    }
}

#[test]
fn every_message_in_every_capture_round_trips() {
    let Some(dir) = common::shared_captures("every_message_round_trips") else {
        return;
    };
    let mut totals: BTreeMap<Proto, u64> = BTreeMap::new();
    for path in common::capture_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for s in read_all(&path) {
            assert!(
                s.malformed.is_none(),
                "{name} frame {} {}: {:?}",
                s.frame,
                s.type_name,
                s.malformed
            );
            assert_ne!(s.type_name, "unknown", "{name} frame {}", s.frame);
            let again = match s.proto {
                Proto::ProDjLink => djdissect::prodjlink::Packet::parse(s.dst_port, &s.bytes)
                    .unwrap_or_else(|e| panic!("{name} frame {}: {e}", s.frame))
                    .to_bytes(),
                Proto::DbServer => match s.type_name.as_str() {
                    "greeting" => djdissect::dbserver::Greeting::parse(&s.bytes)
                        .unwrap()
                        .0
                        .to_bytes(),
                    "port_query" => djdissect::dbserver::PortQuery::parse(&s.bytes)
                        .unwrap()
                        .0
                        .to_bytes(),
                    "port_answer" => djdissect::dbserver::PortAnswer::parse(&s.bytes)
                        .unwrap()
                        .0
                        .to_bytes(),
                    _ => djdissect::dbserver::Message::parse(&s.bytes)
                        .unwrap_or_else(|e| panic!("{name} frame {}: {e}", s.frame))
                        .0
                        .to_bytes(),
                },
                Proto::StageLinq => djdissect::stagelinq::reparse(&s.bytes, &s.type_name)
                    .unwrap_or_else(|| {
                        panic!("{name} frame {} {}: does not parse", s.frame, s.type_name)
                    }),
            };
            assert_eq!(
                again, s.bytes,
                "{name} frame {} {}: emit(parse(b)) != b",
                s.frame, s.type_name
            );
            *totals.entry(s.proto).or_default() += 1;
        }
    }
    eprintln!("round-tripped: {totals:?}");
    // Every record of the twelve captures: Pro DJ Link datagrams; dbserver messages, greetings
    // and port queries; StageLinQ discovery and stream messages.
    assert_eq!(totals[&Proto::ProDjLink], 7224);
    assert_eq!(totals[&Proto::DbServer], 2888);
    assert_eq!(totals[&Proto::StageLinq], 591);
}
