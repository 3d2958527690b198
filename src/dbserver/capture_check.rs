//! One-off check over every dbserver message of the real captures (run by hand, needs tshark
//! dumps): `cargo test --lib dbserver::capture_check -- --ignored --nocapture`.
//!
//! `DBSERVER_SEGS_DIR` (default `/tmp/dbs`) holds `*.segs` files, one TCP connection each, one
//! line per segment with payload: `frame ts_ns ip:port seq_raw payload_hex`, as written by
//! `tshark -Y 'tcp.len>0' -T fields -e tcp.stream -e frame.number -e frame.time_epoch -e ip.src
//! -e tcp.srcport -e tcp.seq_raw -e tcp.payload` split by stream.

use super::*;
use crate::dissect::Knowledge;
use std::collections::BTreeMap;

#[derive(Default, Debug)]
struct Stats {
    messages: usize,
    greetings: usize,
    malformed: usize,
    discarded_bytes: usize,
    round_trip_failures: usize,
    dissect_malformed: usize,
    coverage_failures: usize,
    typed: usize,
    untyped_known: BTreeMap<String, usize>,
    unknown_types: BTreeMap<String, usize>,
    responses: usize,
    paired_responses: usize,
    descriptions: usize,
    gaps: usize,
    retransmitted_segments: usize,
}

fn covered(d: &crate::dissect::Dissection, len: usize) -> bool {
    let mut c = vec![false; len];
    for f in &d.fields {
        if let Some(r) = &f.range {
            if r.end > len {
                return false;
            }
            c[r.clone()].iter_mut().for_each(|x| *x = true);
        }
    }
    c.iter().all(|&x| x)
        && d.fields
            .iter()
            .all(|f| f.knowledge != Knowledge::Unknown || f.range.is_some())
}

fn check_connection(path: &std::path::Path, total: &mut Stats) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut endpoints: Vec<String> = Vec::new();
    let mut framers = [MessageFramer::new(), MessageFramer::new()];
    let mut next_seq: [Option<u32>; 2] = [None, None];
    let mut conv = Conversation::new();
    let mut stats = Stats::default();
    let mut shown = 0;
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let (frame, ts_ns, endpoint, seq): (u64, u64, &str, u32) = (
            parts[0].parse().unwrap(),
            parts[1].parse().unwrap(),
            parts[2],
            parts[3].parse().unwrap(),
        );
        let mut payload = crate::util::parse_hex(parts[4]).unwrap();
        if !endpoints.iter().any(|e| e == endpoint) {
            endpoints.push(endpoint.to_string());
        }
        let dir = endpoints.iter().position(|e| e == endpoint).unwrap();
        let mut out = Vec::new();
        if let Some(expected) = next_seq[dir] {
            let ahead = seq.wrapping_sub(expected) as i32;
            if ahead > 0 {
                stats.gaps += 1;
                out.extend(framers[dir].gap());
            } else if ahead < 0 {
                // Retransmission: keep only what is new.
                stats.retransmitted_segments += 1;
                let overlap = (-(ahead as i64)) as usize;
                if overlap >= payload.len() {
                    continue;
                }
                payload.drain(..overlap);
            }
        }
        next_seq[dir] = Some(seq.wrapping_add(parts[4].len() as u32 / 2));
        out.extend(framers[dir].push(&payload));
        for f in out {
            match f {
                Framed::Greeting { .. } => stats.greetings += 1,
                Framed::Malformed { bytes, error, .. } => {
                    stats.malformed += 1;
                    println!(
                        "  malformed at frame {frame}: {error} ({} bytes)",
                        bytes.len()
                    );
                }
                Framed::Discarded { bytes, reason, .. } => {
                    stats.discarded_bytes += bytes.len();
                    println!(
                        "  discarded {} bytes ({reason:?}) at frame {frame}",
                        bytes.len()
                    );
                }
                Framed::Message { bytes, message, .. } => {
                    stats.messages += 1;
                    if message.to_bytes() != bytes {
                        stats.round_trip_failures += 1;
                    }
                    let d = dissect(&bytes, true);
                    if d.malformed.is_some() {
                        stats.dissect_malformed += 1;
                        println!("  dissect malformed: {:?}", d.malformed);
                    }
                    if !covered(&d, bytes.len()) {
                        stats.coverage_failures += 1;
                    }
                    let name = catalog::type_name(message.message_type).into_owned();
                    match (
                        Body::from_message(&message),
                        catalog::kind(message.message_type),
                    ) {
                        (Some(body), _) => {
                            stats.typed += 1;
                            assert_eq!(body.to_message(message.transaction_id).to_bytes(), bytes);
                        }
                        (None, Some(_)) => *stats.untyped_known.entry(name).or_default() += 1,
                        (None, None) => *stats.unknown_types.entry(name).or_default() += 1,
                    }
                    let o = conv.observe(frame, ts_ns, &message);
                    if message.is_response() {
                        stats.responses += 1;
                        stats.paired_responses += o.request.is_some() as usize;
                    }
                    if let Some(text) = &o.completed {
                        stats.descriptions += 1;
                        if shown < 6
                            || text.contains("metadata") && shown < 12
                            || std::env::var_os("DBSERVER_SHOW_ALL").is_some()
                        {
                            shown += 1;
                            println!(
                                "  frame {frame} ({:.2} ms): {text}",
                                o.latency_ms().unwrap_or(-1.0)
                            );
                        }
                    }
                }
            }
        }
    }
    for f in framers.iter_mut() {
        for rest in f.finish() {
            println!("  left at end: {rest:?}");
            stats.malformed += 1;
        }
    }
    println!("{}: {stats:?}", path.display());
    total.messages += stats.messages;
    total.greetings += stats.greetings;
    total.malformed += stats.malformed;
    total.discarded_bytes += stats.discarded_bytes;
    total.round_trip_failures += stats.round_trip_failures;
    total.dissect_malformed += stats.dissect_malformed;
    total.coverage_failures += stats.coverage_failures;
    total.typed += stats.typed;
    total.responses += stats.responses;
    total.paired_responses += stats.paired_responses;
    total.descriptions += stats.descriptions;
    total.gaps += stats.gaps;
    for (k, v) in stats.untyped_known {
        *total.untyped_known.entry(k).or_default() += v;
    }
    for (k, v) in stats.unknown_types {
        *total.unknown_types.entry(k).or_default() += v;
    }
}

/// Drop every `n`th segment of a connection (calling `gap()` instead): the framer must pick up
/// again at the next message. Returns (messages, malformed, discarded bytes).
fn check_with_lost_segments(path: &std::path::Path, n: usize) -> (usize, usize, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut endpoints: Vec<String> = Vec::new();
    let mut framers = [MessageFramer::new(), MessageFramer::new()];
    let (mut messages, mut malformed, mut discarded) = (0, 0, 0);
    for (i, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split(' ').collect();
        if !endpoints.iter().any(|e| e == parts[2]) {
            endpoints.push(parts[2].to_string());
        }
        let dir = endpoints.iter().position(|e| e == parts[2]).unwrap();
        let out = if i % n == n - 1 {
            framers[dir].gap()
        } else {
            framers[dir].push(&crate::util::parse_hex(parts[4]).unwrap())
        };
        for f in out {
            match f {
                Framed::Message { bytes, message, .. } => {
                    messages += 1;
                    assert_eq!(message.to_bytes(), bytes);
                }
                Framed::Malformed { .. } => malformed += 1,
                Framed::Discarded { bytes, .. } => discarded += bytes.len(),
                Framed::Greeting { .. } => {}
            }
        }
    }
    (messages, malformed, discarded)
}

/// Frame the same bytes in uneven chunks: the messages must not change.
fn check_chunking(bytes: &[u8]) -> usize {
    let whole: Vec<Framed> = {
        let mut f = MessageFramer::new();
        let mut v = f.push(bytes);
        v.extend(f.finish());
        v
    };
    let mut f = MessageFramer::new();
    let mut chunked = Vec::new();
    let (mut at, mut seed) = (0usize, 12345u32);
    while at < bytes.len() {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = 1 + (seed >> 16) as usize % 1500;
        let end = (at + n).min(bytes.len());
        chunked.extend(f.push(&bytes[at..end]));
        at = end;
    }
    chunked.extend(f.finish());
    assert_eq!(whole, chunked);
    whole
        .iter()
        .filter(|f| matches!(f, Framed::Message { .. }))
        .count()
}

#[test]
#[ignore = "needs tshark dumps of the captures in DBSERVER_SEGS_DIR"]
fn every_real_dbserver_message() {
    let dir = std::env::var("DBSERVER_SEGS_DIR").unwrap_or_else(|_| "/tmp/dbs".into());
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "segs"))
        .collect();
    paths.sort();
    let mut total = Stats::default();
    for p in &paths {
        check_connection(p, &mut total);
    }
    println!("TOTAL over {} connections: {total:#?}", paths.len());
    let mut chunked = 0;
    for p in std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
    {
        if p.extension().is_some_and(|e| e == "bin") {
            let b = std::fs::read(&p).unwrap();
            if b.len() > 19 {
                chunked += check_chunking(&b);
            }
        }
    }
    for p in &paths {
        let (m, bad, lost) = check_with_lost_segments(p, 7);
        println!(
            "{} with every 7th segment lost: {m} messages, {bad} malformed, {lost} bytes discarded",
            p.display()
        );
    }
    println!("chunked re-framing of the follow-stream dumps: {chunked} messages identical");
    assert!(total.messages > 0);
    assert_eq!(
        (
            total.malformed,
            total.round_trip_failures,
            total.dissect_malformed,
            total.coverage_failures
        ),
        (0, 0, 0, 0)
    );
}
