//! The TCP reassembler driven by arbitrary segment sequences (any flags, sequence and
//! acknowledgment numbers, order, overlap, timing, several connections and tight limits).
//!
//! Every payload byte is the low byte of its own sequence number, so whatever the policy
//! decides, a delivered byte must sit at the stream offset that matches its sequence number:
//! within one direction `byte - offset` is the same for every byte delivered.

use std::collections::HashMap;
use std::net::SocketAddr;

use djdissect::net::tcp_reassembly::{
    ConnId, Direction, Limits, Reassembler, Segment, StreamEvent,
};

use super::common::Bytes;

#[derive(Default)]
struct Half {
    next_offset: u64,
    /// `byte - offset` (mod 256), fixed by the first byte delivered.
    shift: Option<u8>,
    fin: bool,
}

#[derive(Default)]
struct Conn {
    halves: [Half; 2],
    closed: bool,
}

#[derive(Default)]
struct Checker {
    conns: HashMap<ConnId, Conn>,
    delivered: u64,
}

impl Checker {
    fn event(&mut self, e: StreamEvent<'_>) {
        match e {
            StreamEvent::Opened { conn, .. } => {
                assert!(
                    self.conns.insert(conn, Conn::default()).is_none(),
                    "reopened"
                );
            }
            StreamEvent::Data {
                conn,
                dir,
                stream_offset,
                bytes,
                ..
            } => {
                let h = self.half(conn, dir);
                assert!(!bytes.is_empty(), "empty data event");
                assert!(!h.fin, "data after FIN");
                assert_eq!(stream_offset, h.next_offset, "data offsets are contiguous");
                let shift = *h
                    .shift
                    .get_or_insert(bytes[0].wrapping_sub(stream_offset as u8));
                for (i, &b) in bytes.iter().enumerate() {
                    let at = stream_offset + i as u64;
                    assert_eq!(
                        b,
                        shift.wrapping_add(at as u8),
                        "byte at offset {at} misplaced"
                    );
                }
                h.next_offset += bytes.len() as u64;
                self.delivered += bytes.len() as u64;
            }
            StreamEvent::Gap {
                conn,
                dir,
                stream_offset,
                len,
                ..
            } => {
                let h = self.half(conn, dir);
                assert!(len > 0, "empty gap");
                assert!(!h.fin, "gap after FIN");
                assert_eq!(stream_offset, h.next_offset, "gap offsets are contiguous");
                h.next_offset += len;
            }
            StreamEvent::Fin {
                conn,
                dir,
                stream_offset,
                ..
            } => {
                let h = self.half(conn, dir);
                assert!(!h.fin, "second FIN");
                assert_eq!(stream_offset, h.next_offset);
                h.fin = true;
            }
            StreamEvent::Closed { conn, .. } => {
                let c = self.conns.get_mut(&conn).expect("closed before opened");
                assert!(!c.closed, "closed twice");
                c.closed = true;
            }
            StreamEvent::Dropped { conn, bytes, .. } => {
                assert!(bytes > 0);
                assert!(self.conns.contains_key(&conn));
            }
        }
    }

    fn half(&mut self, conn: ConnId, dir: Direction) -> &mut Half {
        let c = self.conns.get_mut(&conn).expect("event before Opened");
        assert!(!c.closed, "event after Closed");
        &mut c.halves[usize::from(dir == Direction::ServerToClient)]
    }
}

const HOSTS: [&str; 4] = [
    "169.254.1.1:50001",
    "169.254.1.2:1051",
    "169.254.1.3:12523",
    "169.254.1.1:50002",
];

pub fn tcp_reassembly(data: &[u8]) {
    let mut b = Bytes::new(data);
    let lim = b.u8();
    let limits = Limits {
        max_buffered_per_direction: 64 + usize::from(b.u8()) * 16,
        max_buffered_total: 128 + usize::from(b.u8()) * 64,
        max_connections: usize::from(lim % 4) + 1,
        gap_after_segments: u32::from(b.u8() % 32) + 1,
        gap_when_acked: lim & 0x10 != 0,
        idle_timeout_ns: (lim & 0x20 != 0).then_some(i128::from(b.u8()) * 1_000_000),
    };
    let max_connections = limits.max_connections;
    let mut r = Reassembler::new(limits).with_server_ports(&[1051, 12523]);
    let mut check = Checker::default();
    // Base sequence number per (host pair, direction); segments land near it.
    let mut base: HashMap<(usize, usize), u32> = HashMap::new();
    let (mut ts, mut frame) = (0i128, 0u64);
    while !b.is_empty() {
        let pair = b.u8();
        let (a, c) = (usize::from(pair & 3), usize::from((pair >> 2) & 3));
        if a == c {
            continue;
        }
        let flags = b.u8();
        let isn = *base.entry((a, c)).or_insert_with(|| b.u32());
        let seq = if flags & 0x80 != 0 {
            b.u32()
        } else {
            isn.wrapping_add(i32::from(b.u16() as i16) as u32)
        };
        let peer = base.get(&(c, a)).copied().unwrap_or(0);
        let ack = (flags & 0x08 != 0).then(|| peer.wrapping_add(u32::from(b.u16())));
        let len = usize::from(b.u8()) * if flags & 0x40 != 0 { 9 } else { 1 };
        let syn = flags & 0x01 != 0;
        // The first data byte follows the SYN's sequence number.
        let first = seq.wrapping_add(u32::from(syn));
        let payload: Vec<u8> = (0..len as u32)
            .map(|i| first.wrapping_add(i) as u8)
            .collect();
        ts += i128::from(b.u8()) * 1_000_000 - if flags & 0x20 != 0 { 50_000_000 } else { 0 };
        frame += 1;
        let seg = Segment {
            src: HOSTS[a].parse::<SocketAddr>().unwrap(),
            dst: HOSTS[c].parse::<SocketAddr>().unwrap(),
            seq,
            ack,
            syn,
            fin: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            payload: &payload,
            frame,
            ts_ns: ts,
        };
        r.segment(&seg, &mut |e| check.event(e));
        assert!(
            r.connection_count() <= max_connections,
            "connection table over its limit"
        );
    }
    r.finish(&mut |e| check.event(e));
    assert_eq!(r.stats().buffered_bytes, 0, "buffers released at the end");
    assert!(
        check.conns.values().all(|c| c.closed),
        "every connection closed"
    );
    let d = &r.stats().bytes_delivered;
    assert_eq!(d.client_to_server + d.server_to_client, check.delivered);
}
