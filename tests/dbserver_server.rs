//! The emulated dbserver against the client side of every real dbserver conversation in
//! `../shared/captures` (a CDJ browsing another in S05, LinkInfo's Link Info lookup, a CDJ
//! loading from a computer in S10b/S10j, S16a, S26): each recorded request is fed to a
//! `DbServerSession` as it arrived, and each gets an answer of the kind the real server gave,
//! or `4003` where the request names a track or cover the demo library does not hold. Every
//! byte the session sends is read back as named messages with no malformed field.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use djdissect::dbserver::requests::SetupRequest;
use djdissect::dbserver::{self, Body, Framed, Message, MessageFramer, PortAnswer};
use djdissect::device::dbserver::{DbServerSession, PortQuerySession, ServerRules, Verdict};
use djdissect::device::library::Library;
use djdissect::dissect::{Depth, Proto};

/// One recorded record of a dbserver connection.
struct Rec {
    from_client: bool,
    type_name: String,
    bytes: Vec<u8>,
}

/// Records of each TCP connection, in capture order, keyed by (client, server).
fn connections(path: &std::path::Path) -> BTreeMap<(SocketAddr, SocketAddr), Vec<Rec>> {
    let mut conns: BTreeMap<(SocketAddr, SocketAddr), Vec<Rec>> = BTreeMap::new();
    common::each_record(path, Default::default(), |r| {
        if r.dissection.proto != Proto::DbServer {
            return;
        }
        // The client speaks first on both ports (query, greeting): its side names the key.
        let (a, b) = (r.src, r.dst);
        let key = if conns.contains_key(&(b, a)) {
            (b, a)
        } else {
            (a, b)
        };
        conns.entry(key).or_default().push(Rec {
            from_client: key.0 == a,
            type_name: r.dissection.type_name.to_string(),
            bytes: r.bytes.to_vec(),
        });
    });
    conns
}

/// Message types of everything the session wrote, checking each dissects as a named kind.
fn kinds(bytes: &[u8]) -> Vec<u16> {
    let mut f = MessageFramer::new();
    let mut out = Vec::new();
    for x in f.push(bytes).into_iter().chain(f.finish()) {
        match x {
            Framed::Greeting { .. } => out.push(0xffff),
            Framed::Message { bytes, message, .. } => {
                let d = dbserver::dissect(&bytes, Depth::default());
                assert_ne!(d.type_name, "unknown", "{:04x}", message.message_type);
                assert!(
                    d.malformed.is_none(),
                    "{:04x}: {:?}",
                    message.message_type,
                    d.malformed
                );
                out.push(message.message_type);
            }
            other => panic!("unreadable answer: {other:?}"),
        }
    }
    out
}

/// The id a request names that the demo library lacks, if any.
fn names_missing(lib: &Library, m: &Message) -> bool {
    match Body::from_message(m) {
        Some(Body::Metadata(r)) | Some(Body::UnanalyzedMetadata(r)) => {
            lib.track(r.rekordbox_id).is_none()
        }
        Some(Body::TrackData(r)) => lib.track(r.rekordbox_id).is_none() || r.message_type == 0x2504,
        Some(Body::WaveformPreview(r)) => lib.track(r.rekordbox_id).is_none(),
        Some(Body::Artwork(r)) => lib.artwork(r.artwork_id).is_none(),
        Some(Body::AnlzTag(_)) => true,
        _ => false,
    }
}

/// The answer type a real player gives a request (`prodjlink.md` 7.3); `None`: no answer.
fn expected(ty: u16) -> Option<u16> {
    Some(match ty {
        0x0001 | 0x0100 => return None,
        0x0000 | 0x2002 | 0x2202 | 0x2102 | 0x2006 | 0x3100 => 0x4000,
        0x1000..=0x18ff => 0x4000,
        0x3000 => 0x4001,
        0x2003 => 0x4002,
        0x2004 => 0x4402,
        0x2104 => 0x4702,
        0x2204 => 0x4602,
        0x2504 => 0x4502,
        0x2904 => 0x4a02,
        0x2b04 => 0x4e02,
        0x2c04 => 0x4f02,
        0x3e03 => 0x4b02,
        _ => 0x4003,
    })
}

#[test]
fn every_recorded_request_gets_an_answer_of_the_right_kind() {
    let Some(dir) = common::shared_captures("every_recorded_request_gets_an_answer") else {
        return;
    };
    let lib = Arc::new(Library::demo());
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for path in common::capture_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for ((client, server), recs) in connections(&path) {
            let what = format!("{name} {client} -> {server}");
            if recs[0].type_name == "port_query" {
                // 12523: the same two bytes as the real answer's length, naming our port.
                let mut s = PortQuerySession::new(1051);
                let mut out = Vec::new();
                let mut verdict = Verdict::Keep;
                for r in recs.iter().filter(|r| r.from_client) {
                    verdict = s.on_bytes(&r.bytes, &mut out);
                }
                assert_eq!(verdict, Verdict::Close, "{what}");
                assert_eq!(PortAnswer::parse(&out).unwrap().0.port, 1051, "{what}");
                *totals.entry("port queries").or_default() += 1;
                continue;
            }
            // The real server's number from its setup answer; the requester from the setup.
            let own = recs
                .iter()
                .filter(|r| !r.from_client)
                .find_map(|r| {
                    Message::parse(&r.bytes).ok().filter(|(m, _)| {
                        m.message_type == 0x4000 && m.transaction_id == 0xffff_fffe
                    })
                })
                .map(|(m, _)| m.number(1).unwrap() as u8)
                // No setup in the capture: any player but the requester (a nexus refuses itself).
                .unwrap_or_else(|| {
                    let first = Message::parse(&recs[0].bytes).unwrap().0;
                    if first.number(0).unwrap() >> 24 == 1 {
                        2
                    } else {
                        1
                    }
                });
            let mut s = DbServerSession::new(lib.clone(), ServerRules::nexus(own));
            let mut out = Vec::new();
            if recs[0].type_name != "greeting" {
                // The capture starts mid-connection (S16a): open the session the way the
                // client did before the capture began, as the player its requests name.
                let first = Message::parse(&recs[0].bytes).unwrap().0;
                let requester = first.number(0).unwrap() >> 24;
                let mut hello = djdissect::dbserver::Greeting::default().to_bytes();
                hello.extend(
                    SetupRequest { requester }
                        .to_message(0xffff_fffe)
                        .to_bytes(),
                );
                assert_eq!(s.on_bytes(&hello, &mut Vec::new()), Verdict::Keep, "{what}");
                *totals.entry("joined mid-connection").or_default() += 1;
            }
            let mut i = 0;
            while i < recs.len() {
                let r = &recs[i];
                assert!(r.from_client, "{what}: answers before any request");
                let real: Vec<&Rec> = recs[i + 1..]
                    .iter()
                    .take_while(|a| !a.from_client)
                    .collect();
                let before = out.len();
                let verdict = s.on_bytes(&r.bytes, &mut out);
                let ours = kinds(&out[before..]);
                let real_first = real.first().map(|a| match a.type_name.as_str() {
                    "greeting" => 0xffff,
                    _ => Message::parse(&a.bytes).unwrap().0.message_type,
                });
                if r.type_name == "greeting" {
                    assert_eq!(ours, [0xffff], "{what}");
                } else {
                    let m = Message::parse(&r.bytes).unwrap().0;
                    let ty = m.message_type;
                    let got = ours.first().copied();
                    let missing = got == Some(0x4003) && names_missing(&lib, &m);
                    // What a real player answers (prodjlink.md 7.3).
                    let want = expected(ty);
                    assert!(
                        got == want || missing,
                        "{what}: {ty:04x} got {got:04x?}, a player answers {want:04x?}"
                    );
                    // Where the server is a real CDJ (port 1051; S10b/S10j serve from a
                    // computer posing as one), the same kind as its recorded answer.
                    if server.port() == 1051 && real_first.is_some() {
                        assert!(
                            got == real_first || missing,
                            "{what}: {ty:04x} got {got:04x?}, real {real_first:04x?}"
                        );
                    }
                    *totals.entry("requests").or_default() += 1;
                    if ours.first() == real_first.as_ref() {
                        *totals.entry("same kind as the real server").or_default() += 1;
                    }
                }
                let teardown =
                    Message::parse(&r.bytes).is_ok_and(|(m, _)| m.message_type == 0x0100);
                if teardown {
                    // The server closes on 0100 (prodjlink.md 7.3); nothing follows.
                    assert_eq!(verdict, Verdict::Close, "{what}");
                    assert!(recs[i + 1..].iter().all(|r| !r.from_client), "{what}");
                    *totals.entry("teardowns").or_default() += 1;
                    break;
                }
                assert_eq!(
                    verdict,
                    Verdict::Keep,
                    "{what}: closed after {}",
                    r.type_name
                );
                i += 1 + real.len();
            }
            *totals.entry("connections").or_default() += 1;
        }
    }
    eprintln!("{totals:?}");
    // S05 alone holds 743 messages, LinkInfo 20: both conversations must have been replayed.
    assert!(
        totals.get("connections").copied().unwrap_or(0) >= 5,
        "{totals:?}"
    );
    assert!(
        totals.get("requests").copied().unwrap_or(0) >= 400,
        "{totals:?}"
    );
}

/// prolink-connect's own recording of its dbserver client against a real rekordbox: the bytes
/// it sends get the very bytes rekordbox answered (port `ff f2`, the greeting).
#[test]
fn prolink_connect_fixture_gets_rekordbox_answers() {
    use base64::Engine as _;
    let Some(dir) = common::shared_captures("prolink_connect_fixture_gets_rekordbox_answers")
    else {
        return;
    };
    let text =
        std::fs::read_to_string(dir.join("fixtures/prolink-connect__dbserver-rekordbox.ndjson"))
            .unwrap();
    let lib = Arc::new(Library::demo());
    let rules = ServerRules::rekordbox(17);
    let mut query = PortQuerySession::new(rules.port);
    let mut db = DbServerSession::new(lib, rules);
    let mut answered = Vec::new();
    let mut checked = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["bytes"].as_str().unwrap())
            .unwrap();
        let phase = v["phase"].as_str().unwrap();
        if v["dir"] == "send" {
            answered.clear();
            match phase {
                "dbserver-port-query" => query.on_bytes(&bytes, &mut answered),
                _ => db.on_bytes(&bytes, &mut answered),
            };
        } else {
            assert_eq!(answered, bytes, "{phase}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
}
