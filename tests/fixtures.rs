//! Detail-view snapshots of the single packets in ../shared/captures/fixtures (real bytes from
//! libcdj's XDJ-1000 dumps, prolink-connect's payloads and usr-ein's corpus), so kinds and
//! lengths that no capture holds (the XDJ-1000's status and beat, a channel conflict) are
//! guarded too. Each must round-trip and dissect without being unknown or malformed.

mod common;

use djdissect::dissect::{Dissection, Proto};

fn render(d: Dissection, bytes: &[u8], port: u16) -> String {
    common::detail_view(d, bytes, "0.0.0.0:0", &format!("0.0.0.0:{port}"))
}

/// A Pro DJ Link payload: round trip, known kind, not malformed; returns the detail view.
fn prodjlink(name: &str, port: u16, b: &[u8]) -> String {
    let p = djdissect::prodjlink::Packet::parse(port, b).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(p.to_bytes(), b, "{name}: emit(parse(b)) != b");
    let d = djdissect::prodjlink::dissect(port, b, true);
    assert_ne!(d.type_name, "unknown", "{name}");
    assert!(d.malformed.is_none(), "{name}: {:?}", d.malformed);
    render(d, b, port)
}

/// libcdj's annotated dumps: `0x..` tokens, `#` comment lines.
fn libcdj_bytes(text: &str) -> Vec<u8> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|t| {
            t.strip_prefix("0x")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// usr-ein's corpus: `label = hex`, continuation lines indented by two spaces.
fn corpus(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("  ") {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line.trim());
            }
        } else if let Some((label, hex)) = line.split_once(" = ") {
            if !line.starts_with('#') {
                out.push((label.trim().to_string(), hex.trim().to_string()));
            }
        }
    }
    out.into_iter()
        .map(|(l, h)| (l, djdissect::util::parse_hex(&h).expect("corpus hex")))
        .collect()
}

#[test]
fn every_fixture_packet_dissects_and_round_trips() {
    let Some(dir) = common::shared_captures("fixtures") else {
        return;
    };
    let dir = dir.join("fixtures");
    let settings = common::insta_settings();
    settings.bind(|| {
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if let Some(stem) = name
                .strip_prefix("libcdj__")
                .and_then(|s| s.strip_suffix(".dump"))
            {
                let b = libcdj_bytes(&std::fs::read_to_string(&path).unwrap());
                let port = match stem {
                    "cdj-beat" => 50001,
                    "cdj-status" => 50002,
                    _ => 50000,
                };
                insta::assert_snapshot!(format!("fixture@{stem}"), prodjlink(&name, port, &b));
                n += 1;
            } else if name.ends_with(".dat") {
                let b = std::fs::read(&path).unwrap();
                let port = if b.len() == 54 { 50000 } else { 50002 };
                let stem = name.trim_end_matches(".dat");
                insta::assert_snapshot!(format!("fixture@{stem}"), prodjlink(&name, port, &b));
                n += 1;
            } else if name == "prolink__corpus-fixtures.hex" {
                for (label, b) in corpus(&std::fs::read_to_string(&path).unwrap()) {
                    let shown = match label.split('/').next() {
                        Some("djl") => prodjlink(&label, 50000, &b),
                        Some("status") => prodjlink(&label, 50002, &b),
                        Some("dbserver") => dbserver(&label, &b),
                        // ONC RPC / NFS is not decoded (prodjlink.md 8): nothing to snapshot.
                        _ => continue,
                    };
                    insta::assert_snapshot!(
                        format!("fixture@corpus-{}", label.replace('/', "-")),
                        shown
                    );
                    n += 1;
                }
            }
        }
        assert!(n >= 25, "only {n} fixture packets");
    });
}

/// A dbserver byte string (possibly greeting + message): framed, each piece dissected.
fn dbserver(label: &str, b: &[u8]) -> String {
    let mut f = djdissect::dbserver::MessageFramer::new();
    let mut out = String::new();
    let mut pieces = f.push(b);
    pieces.extend(f.finish());
    for piece in pieces {
        let bytes = match piece {
            djdissect::dbserver::Framed::Greeting { greeting, .. } => greeting.to_bytes(),
            djdissect::dbserver::Framed::Message { bytes, message, .. } => {
                assert_eq!(message.to_bytes(), bytes, "{label}");
                bytes
            }
            other => panic!("{label}: {other:?}"),
        };
        let d = djdissect::dbserver::dissect(&bytes, true);
        assert_eq!(d.proto, Proto::DbServer);
        assert!(d.malformed.is_none(), "{label}: {:?}", d.malformed);
        out.push_str(&render(d, &bytes, 1051));
    }
    out
}
