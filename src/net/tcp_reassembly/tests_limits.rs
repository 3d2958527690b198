//! Memory and table limits, eviction and idle timeout.

use super::test_support::*;
use super::{CloseReason, Direction, GapReason, Limits, CHUNK_OVERHEAD};
use Direction::ClientToServer as C2S;

#[test]
fn per_direction_limit_forces_a_gap_without_losing_bytes() {
    let mut h = Harness::with_limits(Limits {
        max_buffered_per_direction: 2 * (10 + CHUNK_OVERHEAD),
        ..Limits::default()
    });
    h.send(&Seg::c(100, b"start"));
    // Hole at 5..10, then three 10-byte chunks: the third goes over the limit.
    h.send(&Seg::c(110, b"AAAAAAAAAA"));
    h.send(&Seg::c(130, b"CCCCCCCCCC")); // second hole at 25..30
    assert!(h.gaps().is_empty());
    h.send(&Seg::c(150, b"EEEEEEEEEE"));
    assert_eq!(
        h.gaps(),
        vec![&Ev::Gap {
            conn: 0,
            dir: C2S,
            offset: 5,
            len: 5,
            reason: GapReason::BufferLimit
        }]
    );
    assert_eq!(h.stream(0, C2S), b"startAAAAAAAAAA");
    assert!(h.drops().is_empty());
    assert_eq!(h.r.stats().gaps_forced_by_limits, 1);
    // Nothing else had to go: two chunks fit.
    assert_eq!(h.r.stats().buffered_bytes, 2 * (10 + CHUNK_OVERHEAD));
    h.finish();
    assert_eq!(
        h.stream(0, C2S),
        b"startAAAAAAAAAACCCCCCCCCCEEEEEEEEEE".to_vec()
    );
    assert_eq!(h.r.stats().gap_bytes, 5 + 10 + 10);
    assert_eq!(h.r.stats().peak_buffered_bytes, 3 * (10 + CHUNK_OVERHEAD));
}

#[test]
fn total_limit_makes_the_least_recently_active_connection_give_up_its_holes() {
    let chunk = 100 + CHUNK_OVERHEAD;
    let mut h = Harness::with_limits(Limits {
        max_buffered_total: 4 * chunk,
        ..Limits::default()
    });
    let old = |seq: u32, payload: &[u8]| Seg::new(SECOND, SERVER, seq, payload);
    h.send(&old(1, b"x")); // conn 0, the older one: two holes
    h.send(&old(10, &[b'o'; 100]));
    h.send(&old(200, &[b'o'; 100]));
    h.send(&Seg::c(1, b"y")); // conn 1, more recent
    h.send(&Seg::c(10, &[b'n'; 100]));
    h.send(&Seg::c(300, &[b'n'; 100]));
    assert!(h.gaps().is_empty());
    // Five chunks > four: the older connection gives up its holes, which brings usage to
    // 3 chunks = 3/4 of the limit, so the newer one keeps waiting for its hole.
    h.send(&Seg::c(500, &[b'n'; 100]));
    let gap = |offset, len| Ev::Gap {
        conn: 0,
        dir: C2S,
        offset,
        len,
        reason: GapReason::TotalBufferLimit,
    };
    assert_eq!(h.gaps(), vec![&gap(1, 8), &gap(109, 90)]);
    assert_eq!(h.stream(0, C2S).len(), 201);
    assert_eq!(h.stream(1, C2S), b"y");
    assert_eq!(h.r.stats().buffered_bytes, 3 * chunk);
    assert!(h.drops().is_empty());
}

#[test]
fn connection_limit_evicts_the_oldest_and_reports_it() {
    let mut h = Harness::with_limits(Limits {
        max_connections: 2,
        ..Limits::default()
    });
    h.send(&Seg::new("10.0.0.5:1", SERVER, 10, b"a")); // conn 0
    h.send(&Seg::new("10.0.0.6:1", SERVER, 10, b"b")); // conn 1
    h.send(&Seg::new("10.0.0.6:1", SERVER, 20, b"buffered")); // conn 1 gets a hole
    h.send(&Seg::new("10.0.0.5:1", SERVER, 11, b"c")); // conn 0 is now the most recent
    h.send(&Seg::new("10.0.0.7:1", SERVER, 10, b"d")); // conn 2 evicts conn 1
    assert_eq!(
        h.events[h.events.len() - 5..],
        [
            Ev::Gap {
                conn: 1,
                dir: C2S,
                offset: 1,
                len: 9,
                reason: GapReason::ConnectionLimit
            },
            Ev::Data {
                conn: 1,
                dir: C2S,
                offset: 10,
                bytes: b"buffered".to_vec(),
                frame: 3
            },
            Ev::Closed {
                conn: 1,
                reason: CloseReason::Evicted
            },
            Ev::Opened {
                conn: 2,
                client: addr("10.0.0.7:1"),
                server: addr(SERVER),
                syn_seen: false
            },
            Ev::Data {
                conn: 2,
                dir: C2S,
                offset: 0,
                bytes: b"d".to_vec(),
                frame: 5
            },
        ]
    );
    assert_eq!(h.r.connection_count(), 2);
    assert_eq!(h.r.stats().closed_evicted, 1);
}

#[test]
fn a_flood_of_half_open_connections_stays_bounded() {
    let max = 1000;
    let mut h = Harness::with_limits(Limits {
        max_connections: max,
        ..Limits::default()
    });
    let mut events = 0u64;
    for i in 0..200_000u32 {
        let src = format!(
            "10.{}.{}.{}:{}",
            i >> 16 & 0xff,
            i >> 8 & 0xff,
            i & 0xff,
            1024 + i % 7
        );
        h.send(&Seg::new(&src, SERVER, i, b"").syn());
        if h.events.len() > 10_000 {
            events += h.events.len() as u64;
            h.events.clear();
        }
    }
    events += h.events.len() as u64;
    assert_eq!(h.r.connection_count(), max);
    let stats = h.r.stats();
    assert_eq!(stats.connections_opened, 200_000);
    assert_eq!(stats.closed_evicted, 200_000 - max as u64);
    assert_eq!(stats.peak_connections, max);
    // One Opened per connection and one Closed per eviction: every eviction was reported.
    assert_eq!(events, 200_000 + 200_000 - max as u64);
}

#[test]
fn idle_connections_time_out_by_capture_time() {
    let mut h = Harness::with_limits(Limits {
        idle_timeout_ns: Some(5_000_000_000),
        ..Limits::default()
    });
    h.send(&Seg::c(100, b"abc"));
    h.send(&Seg::c(110, b"buffered"));
    h.send(&Seg::new(SECOND, SERVER, 7, b"other"));
    h.ts_ns += 10_000_000_000;
    h.send(&Seg::c(118, b"resumed")); // both are idle: closed first, then a new connection
    assert_eq!(
        h.closes(),
        vec![
            &Ev::Closed {
                conn: 0,
                reason: CloseReason::Timeout
            },
            &Ev::Closed {
                conn: 1,
                reason: CloseReason::Timeout
            }
        ]
    );
    assert_eq!(h.stream(0, C2S), b"abcbuffered");
    assert_eq!(h.stream(2, C2S), b"resumed");
    assert_eq!(h.r.stats().closed_timeout, 2);
    assert_eq!(h.r.connection_count(), 1);
}

#[test]
fn closed_connections_are_forgotten_after_the_timeout_without_events() {
    let mut h = Harness::with_limits(Limits {
        idle_timeout_ns: Some(1_000_000_000),
        ..Limits::default()
    });
    h.send(&Seg::c(1, b"x").rst()); // an RST starts nothing, even with a payload
    assert_eq!(h.r.stats().segments_without_connection, 1);
    h.send(&Seg::c(1, b"x"));
    h.send(&Seg::c(1, b"").rst());
    h.ts_ns += 2_000_000_000;
    let before = h.events.len();
    h.send(&Seg::s(1, b"").ack(2));
    assert_eq!(h.events.len(), before);
    assert_eq!(h.r.connection_count(), 0);
    assert_eq!(h.r.stats().closed_timeout, 0);
}

/// Throughput, for the report: `cargo test --release --lib tcp_reassembly::tests_limits::throughput -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, not a check"]
fn throughput() {
    use super::{Reassembler, Segment};
    let payload = vec![0x5a; 1000];
    let n = 2_000_000u32;
    for (label, reorder) in [("in order", false), ("pairs swapped", true)] {
        let mut r = Reassembler::new(Limits::default());
        let mut delivered = 0u64;
        let syn = Segment {
            src: addr(CLIENT),
            dst: addr(SERVER),
            seq: u32::MAX, // data starts at 0
            ack: None,
            syn: true,
            fin: false,
            rst: false,
            payload: &[],
            frame: 0,
            ts_ns: 0,
        };
        r.segment(&syn, &mut |_| {});
        let started = std::time::Instant::now();
        for i in 0..n {
            // Swapping neighbours sends every other segment through the out-of-order buffer.
            let k = if reorder { i ^ 1 } else { i };
            let seg = Segment {
                src: addr(CLIENT),
                dst: addr(SERVER),
                seq: k.wrapping_mul(1000),
                ack: None,
                syn: false,
                fin: false,
                rst: false,
                payload: &payload,
                frame: u64::from(i),
                ts_ns: i128::from(i) * 1000,
            };
            r.segment(&seg, &mut |e| {
                if let super::StreamEvent::Data { bytes, .. } = e {
                    delivered += bytes.len() as u64;
                }
            });
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{label}: {n} segments in {secs:.3} s = {:.2} Mseg/s, {:.0} MB/s",
            f64::from(n) / secs / 1e6,
            delivered as f64 / secs / 1e6
        );
        assert_eq!(delivered, u64::from(n) * 1000);
    }
}
