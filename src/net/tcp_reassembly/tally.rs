//! Per-connection totals built from reassembly events: the numbers `djdissect tcp-streams`
//! prints and `scripts/tcp-crosscheck` compares with tshark's "Follow TCP stream".

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::{CloseReason, ConnId, DirCounts, StreamEvent};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionTotals {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub syn_seen: bool,
    pub bytes: DirCounts,
    pub gap_bytes: DirCounts,
    pub dropped_bytes: u64,
    pub closed: Option<CloseReason>,
}

#[derive(Clone, Debug, Default)]
pub struct StreamTally {
    conns: BTreeMap<ConnId, ConnectionTotals>,
}

impl StreamTally {
    pub fn record(&mut self, event: &StreamEvent<'_>) {
        match *event {
            StreamEvent::Opened {
                conn,
                client,
                server,
                syn_seen,
            } => {
                self.conns.insert(
                    conn,
                    ConnectionTotals {
                        client,
                        server,
                        syn_seen,
                        bytes: DirCounts::default(),
                        gap_bytes: DirCounts::default(),
                        dropped_bytes: 0,
                        closed: None,
                    },
                );
            }
            StreamEvent::Data {
                conn, dir, bytes, ..
            } => {
                if let Some(t) = self.conns.get_mut(&conn) {
                    t.bytes.add(dir, bytes.len() as u64);
                }
            }
            StreamEvent::Gap { conn, dir, len, .. } => {
                if let Some(t) = self.conns.get_mut(&conn) {
                    t.gap_bytes.add(dir, len);
                }
            }
            StreamEvent::Dropped { conn, bytes, .. } => {
                if let Some(t) = self.conns.get_mut(&conn) {
                    t.dropped_bytes += bytes;
                }
            }
            StreamEvent::Closed { conn, reason } => {
                if let Some(t) = self.conns.get_mut(&conn) {
                    t.closed = Some(reason);
                }
            }
            StreamEvent::Fin { .. } => {}
        }
    }

    pub fn connections(&self) -> impl Iterator<Item = (ConnId, &ConnectionTotals)> {
        self.conns.iter().map(|(&id, t)| (id, t))
    }

    /// `client server bytes_client_to_server bytes_server_to_client`, one line per
    /// connection, sorted as text (the format `scripts/tcp-crosscheck` reads).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .conns
            .values()
            .map(|t| {
                format!(
                    "{} {} {} {}",
                    t.client, t.server, t.bytes.client_to_server, t.bytes.server_to_client
                )
            })
            .collect();
        lines.sort();
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{CloseReason, Limits, Reassembler, Segment};
    use super::StreamTally;

    #[test]
    fn counts_bytes_per_direction_and_gaps() {
        let mut r = Reassembler::new(Limits::default());
        let mut tally = StreamTally::default();
        for (frame, s) in [Seg::c(10, b"abc"), Seg::s(99, b"hello"), Seg::c(20, b"xy")]
            .iter()
            .enumerate()
        {
            let seg = Segment {
                src: s.src,
                dst: s.dst,
                seq: s.seq,
                ack: None,
                syn: false,
                fin: false,
                rst: false,
                payload: &s.payload,
                frame: frame as u64 + 1,
                ts_ns: 0,
            };
            r.segment(&seg, &mut |e| tally.record(&e));
        }
        r.finish(&mut |e| tally.record(&e));
        assert_eq!(tally.lines(), vec![format!("{CLIENT} {SERVER} 5 5")]);
        let (id, t) = tally.connections().next().expect("one connection");
        assert_eq!(id, 0);
        assert_eq!(t.gap_bytes.client_to_server, 7); // offsets 3..10 never seen
        assert_eq!(t.closed, Some(CloseReason::EndOfInput));
        assert!(!t.syn_seen);
    }
}
