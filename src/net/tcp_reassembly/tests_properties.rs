//! Properties: any segmentation, order and duplication gives back the original bytes;
//! arbitrary segments never break the accounting.

use proptest::prelude::*;

use super::test_support::*;
use super::{Direction, Limits};

/// A random byte string, the segments (start, end) to send it in, and the ISN. The segments
/// are a cover of the data by random cuts, some of them repeated, plus random ranges that
/// overlap them, all shuffled.
fn arb_case() -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize)>, u32)> {
    let isn = prop_oneof![any::<u32>(), (u32::MAX - 700)..=u32::MAX]; // often wraps
    (proptest::collection::vec(any::<u8>(), 0..600), isn).prop_flat_map(|(data, isn)| {
        let len = data.len();
        let cuts = proptest::collection::vec(0..=len, 0..12);
        let repeats = proptest::collection::vec(any::<prop::sample::Index>(), 0..6);
        let overlaps = proptest::collection::vec((0..=len, 0..=len), 0..8);
        (Just(data), cuts, repeats, overlaps, Just(isn)).prop_flat_map(
            |(data, mut cuts, repeats, overlaps, isn)| {
                cuts.push(0);
                cuts.push(data.len());
                cuts.sort_unstable();
                let cover: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
                let mut ranges = cover.clone();
                ranges.extend(repeats.iter().map(|i| *i.get(&cover)));
                ranges.extend(overlaps.into_iter().map(|(a, b)| (a.min(b), a.max(b))));
                (Just(data), Just(ranges).prop_shuffle(), Just(isn))
            },
        )
    })
}

proptest! {
    #[test]
    fn any_order_with_duplicates_gives_the_original((data, ranges, isn) in arb_case()) {
        let mut h = Harness::with_limits(Limits {
            gap_after_segments: u32::MAX,
            ..Limits::default()
        });
        h.send(&Seg::c(isn, b"").syn());
        let first = isn.wrapping_add(1);
        for (a, b) in &ranges {
            h.send(&Seg::c(first.wrapping_add(*a as u32), &data[*a..*b]));
        }
        h.finish();
        prop_assert_eq!(h.stream(0, Direction::ClientToServer), data);
        prop_assert!(h.gaps().is_empty());
        prop_assert!(h.drops().is_empty());
        prop_assert_eq!(h.r.stats().buffered_bytes, 0);
    }

    /// Arbitrary segments (any flags, sequence numbers near each other) never panic, keep
    /// each direction's offsets contiguous and release every buffer at the end.
    #[test]
    fn arbitrary_segments_keep_the_books_straight(
        segs in proptest::collection::vec(
            (any::<bool>(), 0u32..64, any::<[bool; 4]>(), 0usize..20, 0u32..80),
            0..80,
        ),
        small_limits in any::<bool>(),
    ) {
        let limits = if small_limits {
            Limits {
                max_buffered_per_direction: 200,
                max_buffered_total: 400,
                max_connections: 1,
                gap_after_segments: 5,
                ..Limits::default()
            }
        } else {
            Limits::default()
        };
        let mut h = Harness::with_limits(limits);
        for (from_client, seq, [syn, fin, rst, has_ack], len, ack) in segs {
            let payload = vec![b'x'; len];
            let base = if from_client { Seg::c(seq, &payload) } else { Seg::s(seq, &payload) };
            let mut s = base;
            s.syn = syn;
            s.fin = fin;
            s.rst = rst;
            s.ack = has_ack.then_some(ack);
            h.send(&s);
        }
        h.finish();
        let conns = h.r.stats().connections_opened;
        for conn in 0..conns {
            // `stream` asserts contiguity of Data and Gap offsets.
            h.stream(conn, Direction::ClientToServer);
            h.stream(conn, Direction::ServerToClient);
        }
        prop_assert_eq!(h.r.stats().buffered_bytes, 0);
        prop_assert_eq!(h.closes().len() as u64, conns);
    }
}
