//! Ordering, overlaps, gaps, handshake and close rules, with crafted segment sequences.

use super::test_support::*;
use super::{CloseReason, Direction, DropReason, GapReason, Limits};
use Direction::{ClientToServer as C2S, ServerToClient as S2C};

const TEXT: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `TEXT` cut at `cuts`, as client segments after a handshake with ISN 1000.
fn pieces(cuts: &[usize]) -> Vec<Seg> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(TEXT.len());
    bounds
        .windows(2)
        .map(|w| Seg::c(1001 + w[0] as u32, &TEXT[w[0]..w[1]]))
        .collect()
}

#[test]
fn in_order_with_handshake_and_fin() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"hello").ack(5001));
    h.send(&Seg::s(5001, b"world!").ack(1006));
    h.send(&Seg::c(1006, b"").fin().ack(5007));
    h.send(&Seg::s(5007, b"").fin().ack(1007));
    h.send(&Seg::c(1007, b"").ack(5008));
    h.finish();
    assert_eq!(
        h.events,
        vec![
            Ev::Opened {
                conn: 0,
                client: addr(CLIENT),
                server: addr(SERVER),
                syn_seen: true
            },
            Ev::Data {
                conn: 0,
                dir: C2S,
                offset: 0,
                bytes: b"hello".to_vec(),
                frame: 4
            },
            Ev::Data {
                conn: 0,
                dir: S2C,
                offset: 0,
                bytes: b"world!".to_vec(),
                frame: 5
            },
            Ev::Fin {
                conn: 0,
                dir: C2S,
                offset: 5
            },
            Ev::Fin {
                conn: 0,
                dir: S2C,
                offset: 6
            },
            Ev::Closed {
                conn: 0,
                reason: CloseReason::Fin
            },
        ]
    );
    let stats = h.r.stats();
    assert_eq!(stats.bytes_delivered.get(C2S), 5);
    assert_eq!(stats.bytes_delivered.get(S2C), 6);
    assert_eq!((stats.connections_opened, stats.closed_fin), (1, 1));
    assert_eq!(
        (stats.gaps, stats.bytes_dropped, stats.bytes_retransmitted),
        (0, 0, 0)
    );
    assert_eq!(stats.segments_without_connection, 0);
}

#[test]
fn reversed_segments_are_delivered_when_the_first_arrives() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    let mut segs = pieces(&[5, 10, 20, 30]);
    segs.reverse();
    h.send_all(&segs[..4]);
    assert!(!h.events.iter().any(|e| matches!(e, Ev::Data { .. })));
    assert!(h.r.stats().buffered_bytes > 0);
    h.send(&segs[4]);
    assert_eq!(h.stream(0, C2S), TEXT);
    // Each piece keeps the frame that brought it: frames 4..=8 carried the pieces in reverse.
    let frames: Vec<u64> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Data { frame, .. } => Some(*frame),
            _ => None,
        })
        .collect();
    assert_eq!(frames, vec![8, 7, 6, 5, 4]);
    assert_eq!(h.r.stats().buffered_bytes, 0);
}

#[test]
fn shuffled_and_duplicated_segments() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    let segs = pieces(&[3, 4, 11, 17, 25, 26, 33]);
    for i in [3, 1, 6, 1, 3, 0, 7, 5, 2, 4, 0, 7, 2] {
        h.send(&segs[i]);
    }
    h.finish();
    assert_eq!(h.stream(0, C2S), TEXT);
    assert!(h.gaps().is_empty());
    assert!(h.drops().is_empty());
    // Duplicates: 1 (len 7), 3 (len 6), 0 (3), 7 (3), 2 (1).
    assert_eq!(h.r.stats().bytes_retransmitted, 7 + 6 + 3 + 3 + 1);
}

#[test]
fn overlapping_buffered_bytes_win_over_later_copies() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    // Offsets 10..20 buffered first; 15..25 starts inside it and disagrees on 15..20; 5..15
    // disagrees on 10..15; then 0..12 fills the hole and disagrees on 5..12: what arrived
    // first is kept everywhere.
    h.send(&Seg::c(1011, b"KLMNOPQRST"));
    h.send(&Seg::c(1016, b"#####UVWXY"));
    h.send(&Seg::c(1006, b"fghij-----"));
    h.send(&Seg::c(1001, b"abcde*******"));
    assert_eq!(h.stream(0, C2S), b"abcdefghijKLMNOPQRSTUVWXY");
    assert_eq!(h.r.stats().bytes_retransmitted, 5 + 5 + 7);
}

#[test]
fn retransmission_of_delivered_bytes_is_ignored_even_if_different() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"abcdef"));
    h.send(&Seg::c(1003, b"XXXXghi")); // partial overlap: only "ghi" is new
    h.send(&Seg::c(1001, b"ZZ")); // full duplicate
    assert_eq!(h.stream(0, C2S), b"abcdefghi");
    assert_eq!(h.r.stats().bytes_retransmitted, 4 + 2);
}

#[test]
fn in_order_segment_spanning_buffered_ones() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1004, b"DE"));
    h.send(&Seg::c(1008, b"HI"));
    h.send(&Seg::c(1001, b"abcdefghijkl"));
    assert_eq!(h.stream(0, C2S), b"abcDEfgHIjkl");
    // The long segment is split around the buffered pieces, each piece with its frame.
    let frames: Vec<u64> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Data { frame, .. } => Some(*frame),
            _ => None,
        })
        .collect();
    assert_eq!(frames, vec![6, 4, 6, 5, 6]);
}

#[test]
fn gap_reported_at_end_of_input_with_right_length() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"0123456789"));
    h.send(&Seg::c(1021, b"klmnopqrst")); // offsets 10..20 never arrive
    h.send(&Seg::c(1031, b"uvw"));
    assert!(h.gaps().is_empty());
    h.finish();
    assert_eq!(
        h.gaps(),
        vec![&Ev::Gap {
            conn: 0,
            dir: C2S,
            offset: 10,
            len: 10,
            reason: GapReason::End
        }]
    );
    assert_eq!(h.stream(0, C2S), b"0123456789klmnopqrstuvw");
    assert_eq!(h.r.stats().gap_bytes, 10);
    assert_eq!(h.closes().len(), 1);
}

#[test]
fn gap_skipped_when_peer_acknowledged_the_lost_bytes() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"req1"));
    // "req2" (1005..1009) is lost by the capture but the server got it and answers.
    h.send(&Seg::s(5001, b"resp").ack(1009));
    assert!(
        h.gaps().is_empty(),
        "no gap until data after the hole arrives"
    );
    h.send(&Seg::c(1009, b"req3").ack(5005));
    assert_eq!(
        h.gaps(),
        vec![&Ev::Gap {
            conn: 0,
            dir: C2S,
            offset: 4,
            len: 4,
            reason: GapReason::AckedUnseen
        }]
    );
    assert_eq!(h.stream(0, C2S), b"req1req3");
}

#[test]
fn acknowledged_part_of_a_hole_is_skipped_the_rest_still_awaited() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"req1"));
    // "req2" (1005..1009) is lost; the server acknowledges it.
    h.send(&Seg::s(5001, b"resp").ack(1009));
    // "req3" is sent in two segments; its second half (1011..1013) is captured first.
    h.send(&Seg::c(1011, b"q3").ack(5005));
    // Only the acknowledged 4 bytes are a gap: 1009..1011 was not acknowledged and may come.
    assert_eq!(
        h.gaps(),
        vec![&Ev::Gap {
            conn: 0,
            dir: C2S,
            offset: 4,
            len: 4,
            reason: GapReason::AckedUnseen
        }]
    );
    h.send(&Seg::c(1009, b"re").ack(5005));
    assert_eq!(h.gaps().len(), 1);
    assert_eq!(h.stream(0, C2S), b"req1req3");
}

#[test]
fn gap_skipped_after_segment_limit() {
    let mut h = Harness::with_limits(Limits {
        gap_after_segments: 3,
        ..Limits::default()
    });
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1011, b"late")); // hole 0..10, age 1
    h.send(&Seg::s(5001, b"x")); // age 2
    assert!(h.gaps().is_empty());
    h.send(&Seg::s(5002, b"y")); // age 3
    assert_eq!(
        h.gaps(),
        vec![&Ev::Gap {
            conn: 0,
            dir: C2S,
            offset: 0,
            len: 10,
            reason: GapReason::SegmentLimit
        }]
    );
    assert_eq!(h.stream(0, C2S), b"late");
    // The retransmission of the skipped bytes comes too late: dropped, and said so.
    h.send(&Seg::c(1001, b"0123456789"));
    assert_eq!(
        h.drops(),
        vec![&Ev::Dropped {
            conn: 0,
            dir: C2S,
            bytes: 10,
            reason: DropReason::LateAfterGap
        }]
    );
    assert_eq!(h.r.stats().bytes_dropped, 10);
}

#[test]
fn mid_stream_start_without_syn() {
    let mut h = Harness::new();
    h.send(&Seg::s(777_000, b"").ack(9000)); // bare ACK: starts nothing
    assert!(h.events.is_empty());
    assert_eq!(h.r.stats().segments_without_connection, 1);
    h.send(&Seg::c(123_456, b"middle").ack(777_000));
    h.send(&Seg::s(777_000, b"reply").ack(123_462));
    h.send(&Seg::c(123_450, b"before")); // precedes the pickup point
    h.send(&Seg::c(123_462, b"-more"));
    assert_eq!(
        h.opened(),
        vec![&Ev::Opened {
            conn: 0,
            client: addr(CLIENT),
            server: addr(SERVER),
            syn_seen: false
        }]
    );
    assert_eq!(h.stream(0, C2S), b"middle-more");
    assert_eq!(h.stream(0, S2C), b"reply");
    assert_eq!(
        h.drops(),
        vec![&Ev::Dropped {
            conn: 0,
            dir: C2S,
            bytes: 6,
            reason: DropReason::BeforeStreamStart
        }]
    );
    assert_eq!(h.r.stats().connections_mid_stream, 1);
}

#[test]
fn known_server_port_sets_the_client_without_syn() {
    let mut h = Harness::new();
    h.r = super::Reassembler::new(Limits::default()).with_server_ports(&[1051]);
    h.send(&Seg::s(10, b"response first"));
    assert_eq!(
        h.opened(),
        vec![&Ev::Opened {
            conn: 0,
            client: addr(CLIENT),
            server: addr(SERVER),
            syn_seen: false
        }]
    );
    assert_eq!(h.stream(0, S2C), b"response first");
}

#[test]
fn syn_ack_seen_first_makes_its_receiver_the_client() {
    let mut h = Harness::new();
    h.send(&Seg::s(5000, b"").syn().ack(1001));
    h.send(&Seg::c(1000, b"").syn()); // the SYN, reordered after the SYN-ACK
    h.send(&Seg::c(1001, b"abc"));
    h.send(&Seg::s(5001, b"def"));
    assert_eq!(h.opened().len(), 1);
    assert!(
        matches!(h.opened()[0], Ev::Opened { client, syn_seen: true, .. } if *client == addr(CLIENT))
    );
    assert_eq!(h.stream(0, C2S), b"abc");
    assert_eq!(h.stream(0, S2C), b"def");
}

#[test]
fn data_on_syn_and_retransmitted_syn() {
    let mut h = Harness::new();
    h.send(&Seg::c(1000, b"early").syn());
    h.send(&Seg::c(1000, b"early").syn()); // retransmitted SYN: same ISN, same connection
    h.send(&Seg::c(1006, b"-late"));
    assert_eq!(h.opened().len(), 1);
    assert_eq!(h.stream(0, C2S), b"early-late");
    assert_eq!(h.r.stats().bytes_retransmitted, 5);
}

#[test]
fn fin_before_the_last_data_waits_for_it() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1004, b"def").fin());
    assert!(!h.events.iter().any(|e| matches!(e, Ev::Fin { .. })));
    h.send(&Seg::c(1001, b"abc"));
    assert_eq!(h.stream(0, C2S), b"abcdef");
    assert_eq!(
        h.events.last(),
        Some(&Ev::Fin {
            conn: 0,
            dir: C2S,
            offset: 6
        })
    );
    // The server was seen (SYN-ACK) and has not finished: the connection stays open.
    assert!(h.closes().is_empty());
    h.send(&Seg::c(1007, b"junk")); // past the FIN
    assert_eq!(
        h.drops(),
        vec![&Ev::Dropped {
            conn: 0,
            dir: C2S,
            bytes: 4,
            reason: DropReason::BeyondFin
        }]
    );
    h.send(&Seg::s(5001, b"bye").fin());
    assert_eq!(
        h.closes(),
        vec![&Ev::Closed {
            conn: 0,
            reason: CloseReason::Fin
        }]
    );
}

#[test]
fn fin_of_the_only_side_seen_closes() {
    let mut h = Harness::new();
    h.send(&Seg::c(42, b"one-sided"));
    h.send(&Seg::c(51, b"").fin());
    assert_eq!(
        h.closes(),
        vec![&Ev::Closed {
            conn: 0,
            reason: CloseReason::Fin
        }]
    );
    // After the close, a retransmission is counted, new bytes are dropped and reported.
    h.send(&Seg::c(42, b"one"));
    h.send(&Seg::s(7, b"stray"));
    assert_eq!(h.r.stats().bytes_retransmitted, 3);
    assert_eq!(
        h.drops(),
        vec![&Ev::Dropped {
            conn: 0,
            dir: S2C,
            bytes: 5,
            reason: DropReason::AfterClose
        }]
    );
}

#[test]
fn rst_flushes_buffered_bytes_and_closes() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"ab"));
    h.send(&Seg::c(1005, b"ef"));
    h.send(&Seg::s(5001, b"diagnostic").rst());
    assert_eq!(h.stream(0, C2S), b"abef");
    assert_eq!(h.stream(0, S2C), b"");
    assert!(matches!(
        h.gaps()[..],
        [Ev::Gap {
            offset: 2,
            len: 2,
            reason: GapReason::End,
            ..
        }]
    ));
    assert_eq!(
        h.events.last(),
        Some(&Ev::Closed {
            conn: 0,
            reason: CloseReason::Rst
        })
    );
    assert_eq!(h.r.stats().buffered_bytes, 0);
}

#[test]
fn new_syn_on_closed_tuple_starts_a_new_connection() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"first"));
    h.send(&Seg::s(5001, b"").rst());
    assert_eq!(
        h.r.connection(0).and_then(|c| c.closed),
        Some(CloseReason::Rst)
    );
    h.send_all(&handshake(90_000, 70_000));
    h.send(&Seg::c(90_001, b"second"));
    assert_eq!(h.opened().len(), 2);
    assert_eq!(h.stream(0, C2S), b"first");
    assert_eq!(h.stream(1, C2S), b"second");
    assert_eq!(h.r.connection(1).map(|c| c.syn_seen), Some(true));
    // The closed connection made room for the new one on the same address pair.
    assert!(h.r.connection(0).is_none());
    assert_eq!(h.r.stats().closed_rst, 1);
}

#[test]
fn syn_with_new_isn_on_open_tuple_reuses_the_port() {
    let mut h = Harness::new();
    h.send_all(&handshake(1000, 5000));
    h.send(&Seg::c(1001, b"abc"));
    h.send(&Seg::c(1011, b"xyz")); // buffered behind a hole
    h.send(&Seg::c(400, b"").syn());
    assert_eq!(
        h.events[h.events.len() - 4..],
        [
            Ev::Gap {
                conn: 0,
                dir: C2S,
                offset: 3,
                len: 7,
                reason: GapReason::End
            },
            Ev::Data {
                conn: 0,
                dir: C2S,
                offset: 10,
                bytes: b"xyz".to_vec(),
                frame: 5
            },
            Ev::Closed {
                conn: 0,
                reason: CloseReason::PortReuse
            },
            Ev::Opened {
                conn: 1,
                client: addr(CLIENT),
                server: addr(SERVER),
                syn_seen: true
            },
        ]
    );
    assert!(h.r.connection(0).is_none());
}

#[test]
fn sequence_numbers_wrap_around() {
    let isn = u32::MAX - 5;
    let mut h = Harness::new();
    h.send_all(&handshake(isn, u32::MAX));
    // Client data starts at MAX-4 and crosses 2^32; sent out of order around the wrap.
    let data = b"wrapping-around-zero";
    let start = isn.wrapping_add(1);
    h.send(&Seg::c(start.wrapping_add(8), &data[8..]));
    h.send(&Seg::c(start.wrapping_add(3), &data[3..10])); // overlaps the buffered bytes
    h.send(&Seg::c(start, &data[..3]));
    // Server data starts exactly at 0 (its SYN took MAX).
    h.send(&Seg::s(0, b"srv"));
    h.send(&Seg::c(start.wrapping_add(data.len() as u32), b"").fin());
    h.finish();
    assert_eq!(h.stream(0, C2S), data);
    assert_eq!(h.stream(0, S2C), b"srv");
    assert!(h.gaps().is_empty() && h.drops().is_empty());
    assert!(h.events.contains(&Ev::Fin {
        conn: 0,
        dir: C2S,
        offset: data.len() as u64
    }));
}

#[test]
fn keep_alive_probe_is_a_duplicate_byte() {
    let mut h = Harness::new();
    h.send(&Seg::c(100, b"abc"));
    h.send(&Seg::c(102, b"\0")); // keep-alive: one byte back, garbage
    h.send(&Seg::c(103, b"d"));
    assert_eq!(h.stream(0, C2S), b"abcd");
    assert_eq!(h.r.stats().bytes_retransmitted, 1);
}

#[test]
fn end_of_input_reports_bytes_acknowledged_but_never_captured() {
    let mut h = Harness::new();
    h.send(&Seg::c(100, b"abc"));
    h.send(&Seg::s(9, b"ok").ack(110)); // the server got 7 bytes more than we saw
    h.finish();
    assert!(matches!(
        h.gaps()[..],
        [Ev::Gap {
            dir: C2S,
            offset: 3,
            len: 7,
            ..
        }]
    ));
    assert_eq!(
        h.closes(),
        vec![&Ev::Closed {
            conn: 0,
            reason: CloseReason::EndOfInput
        }]
    );
    assert_eq!(h.r.connection_count(), 0);
}

#[test]
fn segment_from_etherparse_ignores_ethernet_padding() {
    use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};
    let builder = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([169, 254, 1, 2], [169, 254, 3, 4], 64)
        .tcp(40000, 1051, 0xffff_fff0, 1024)
        .ack(77)
        .fin();
    let mut frame = Vec::new();
    builder.write(&mut frame, b"hi").expect("frame");
    frame.extend_from_slice(&[0xaa; 10]); // trailer padding, as real 60-byte frames carry
    let packet = SlicedPacket::from_ethernet(&frame).expect("sliced");
    let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
        panic!("tcp expected");
    };
    let seg = super::Segment::from_tcp(
        [169, 254, 1, 2].into(),
        [169, 254, 3, 4].into(),
        tcp,
        9,
        123,
    );
    assert_eq!(seg.payload, b"hi");
    assert_eq!(seg.src, addr("169.254.1.2:40000"));
    assert_eq!(seg.dst, addr("169.254.3.4:1051"));
    assert_eq!((seg.seq, seg.ack), (0xffff_fff0, Some(77)));
    assert_eq!((seg.syn, seg.fin, seg.rst), (false, true, false));
    assert_eq!((seg.frame, seg.ts_ns), (9, 123));
}
