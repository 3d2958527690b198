//! The connection table: finding or starting the connection of a segment, handshake and close
//! rules, idle expiry and the table-wide limits.

use std::collections::{BTreeSet, HashMap};

use super::half_stream::{HalfStream, Out};
use super::{
    CloseReason, ConnId, Connection, ConnectionInfo, Direction, FlowKey, GapReason, Limits,
    Reassembler, ReassemblyStats, Segment, StreamEvent,
};

impl Reassembler {
    pub fn new(limits: Limits) -> Self {
        Reassembler {
            limits,
            server_ports: Vec::new(),
            by_key: HashMap::default(),
            conns: HashMap::default(),
            by_activity: BTreeSet::new(),
            next_id: 0,
            clock: None,
            stats: ReassemblyStats::default(),
        }
    }

    /// Ports known to be servers (e.g. dbserver 1051 and 12523): when a connection is picked
    /// up without its handshake, the side using one of them is the server.
    pub fn with_server_ports(mut self, ports: &[u16]) -> Self {
        self.server_ports = ports.to_vec();
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// A connection still in the table (open, or closed by FIN/RST and not yet forgotten).
    pub fn connection(&self, id: ConnId) -> Option<ConnectionInfo> {
        self.conns.get(&id).map(|c| c.info())
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Feed one captured segment.
    pub fn segment<F: FnMut(StreamEvent<'_>)>(&mut self, seg: &Segment<'_>, sink: &mut F) {
        self.stats.segments += 1;
        let now = self.clock.map_or(seg.ts_ns, |c| c.max(seg.ts_ns));
        self.clock = Some(now);
        self.expire_idle(now, sink);

        let key = FlowKey::new(seg.src, seg.dst);
        let existing = self.by_key.get(&key).copied();
        let id = match existing {
            Some(id) if self.starts_new_connection(id, seg) => {
                self.retire(id, CloseReason::PortReuse, sink);
                self.open(key, seg, sink)
            }
            Some(id) => id,
            None if seg.syn || (!seg.payload.is_empty() && !seg.rst) => self.open(key, seg, sink),
            None => {
                self.stats.segments_without_connection += 1;
                return;
            }
        };
        self.touch(id, seg);
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.closed.is_some() {
            after_close(conn, seg, &mut self.stats, sink);
        } else {
            on_segment(conn, seg, &self.limits, &mut self.stats, sink);
        }
        if self.stats.buffered_bytes > self.limits.max_buffered_total {
            self.relieve_memory(sink);
        }
    }

    /// End of input: deliver everything buffered past its holes and close every connection.
    pub fn finish<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        let mut ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.retire(id, CloseReason::EndOfInput, sink);
        }
        debug_assert_eq!(self.stats.buffered_bytes, 0);
    }

    /// A SYN whose sequence number differs from the initial sequence number already known
    /// for its side starts a new connection; so does any SYN on a closed connection.
    fn starts_new_connection(&self, id: ConnId, seg: &Segment<'_>) -> bool {
        let Some(conn) = self.conns.get(&id) else {
            return true;
        };
        if !seg.syn {
            return false;
        }
        if conn.closed.is_some() {
            return true;
        }
        let half = &conn.halves[conn.dir_of(seg.src).index()];
        half.started && half.isn != Some(seg.seq)
    }

    fn open<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        key: FlowKey,
        seg: &Segment<'_>,
        sink: &mut F,
    ) -> ConnId {
        while self.conns.len() >= self.limits.max_connections.max(1) {
            let Some(&(_, oldest)) = self.by_activity.first() else {
                break;
            };
            self.retire(oldest, CloseReason::Evicted, sink);
        }
        // The SYN sender is the client; a SYN-ACK comes from the server; otherwise the first
        // data sender is the client unless a known server port says otherwise.
        let src_is_client = if seg.syn {
            seg.ack.is_none()
        } else {
            self.server_ports.contains(&seg.dst.port())
                || !self.server_ports.contains(&seg.src.port())
        };
        let (client, server) = if src_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let id = self.next_id;
        self.next_id += 1;
        self.conns.insert(
            id,
            Box::new(Connection {
                id,
                client,
                server,
                syn_seen: seg.syn,
                closed: None,
                halves: [HalfStream::default(), HalfStream::default()],
                first_frame: seg.frame,
                last_frame: seg.frame,
                last_ts: seg.ts_ns,
            }),
        );
        self.by_key.insert(key, id);
        self.by_activity.insert((seg.ts_ns, id));
        self.stats.connections_opened += 1;
        if !seg.syn {
            self.stats.connections_mid_stream += 1;
        }
        self.stats.peak_connections = self.stats.peak_connections.max(self.conns.len());
        sink(StreamEvent::Opened {
            conn: id,
            client,
            server,
            syn_seen: seg.syn,
        });
        id
    }

    fn touch(&mut self, id: ConnId, seg: &Segment<'_>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.last_frame = seg.frame;
        if seg.ts_ns > conn.last_ts {
            self.by_activity.remove(&(conn.last_ts, id));
            conn.last_ts = seg.ts_ns;
            self.by_activity.insert((conn.last_ts, id));
        }
    }

    /// Take a connection out of the table; an open one is flushed and reported closed.
    fn retire<F: FnMut(StreamEvent<'_>)>(&mut self, id: ConnId, reason: CloseReason, sink: &mut F) {
        let Some(mut conn) = self.conns.remove(&id) else {
            return;
        };
        self.by_activity.remove(&(conn.last_ts, id));
        let key = FlowKey::new(conn.client, conn.server);
        if self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
        if conn.closed.is_none() {
            let gap_reason = match reason {
                CloseReason::Evicted => GapReason::ConnectionLimit,
                _ => GapReason::End,
            };
            conn.close(reason, gap_reason, &mut self.stats, sink);
        }
    }

    fn expire_idle<F: FnMut(StreamEvent<'_>)>(&mut self, now: i128, sink: &mut F) {
        let Some(timeout) = self.limits.idle_timeout_ns else {
            return;
        };
        while let Some(&(last, id)) = self.by_activity.first() {
            if now.saturating_sub(last) <= timeout {
                break;
            }
            self.retire(id, CloseReason::Timeout, sink);
        }
    }

    /// Over the total buffer limit: the least recently active connections give up their
    /// holes (Gap, then delivery of what they buffered) until usage is under 3/4 of it.
    fn relieve_memory<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        let target = self.limits.max_buffered_total / 4 * 3;
        let victims: Vec<ConnId> = self
            .by_activity
            .iter()
            .map(|&(_, id)| id)
            .filter(|id| self.conns.get(id).is_some_and(|c| c.has_pending()))
            .collect();
        for id in victims {
            if self.stats.buffered_bytes <= target {
                break;
            }
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            for i in 0..2 {
                let mut out = Out::new(id, Direction::from_index(i), &mut self.stats, sink);
                conn.halves[i].skip_all_holes(&mut out, GapReason::TotalBufferLimit);
            }
        }
    }
}

/// A segment of an open connection.
fn on_segment<F: FnMut(StreamEvent<'_>)>(
    conn: &mut Connection,
    seg: &Segment<'_>,
    limits: &Limits,
    stats: &mut ReassemblyStats,
    sink: &mut F,
) {
    let dir = conn.dir_of(seg.src);
    let (i, peer) = (dir.index(), dir.reverse().index());
    let half = &mut conn.halves[i];
    half.seen = true;
    if seg.syn {
        if !half.started {
            half.start_at_syn(seg.seq);
            conn.syn_seen = true;
        }
    } else if !half.started && (!seg.payload.is_empty() || seg.fin) && !seg.rst {
        // Mid-stream pickup; a bare ACK does not anchor (keep-alive probes sit one byte back).
        half.start_at(seg.seq);
    }
    if let Some(ack) = seg.ack {
        conn.halves[peer].note_peer_ack(ack);
    }
    if seg.rst {
        // An RST's payload is a diagnostic, not stream data.
        conn.close(CloseReason::Rst, GapReason::End, stats, sink);
        return;
    }
    let half = &mut conn.halves[i];
    if half.started {
        let data_seq = seg.seq.wrapping_add(u32::from(seg.syn));
        let mut out = Out::new(conn.id, dir, stats, sink);
        if !seg.payload.is_empty() {
            half.accept_data(
                &mut out,
                limits,
                data_seq,
                seg.payload,
                seg.frame,
                seg.ts_ns,
            );
        }
        if seg.fin {
            // Wire lengths are below 2^16, so the cast is exact.
            let fin_seq = data_seq.wrapping_add(seg.payload.len() as u32);
            half.note_fin(&mut out, fin_seq, seg.frame);
        }
    }
    for i in 0..2 {
        let mut out = Out::new(conn.id, Direction::from_index(i), stats, sink);
        conn.halves[i].age_hole(&mut out, limits);
    }
    let ended = |h: &HalfStream| h.finished || !h.seen;
    if conn.halves.iter().any(|h| h.finished) && conn.halves.iter().all(ended) {
        conn.close(CloseReason::Fin, GapReason::End, stats, sink);
    }
}

/// A segment for a connection closed by FIN or RST: a new SYN was handled before; here only
/// late bytes are accounted for.
fn after_close<F: FnMut(StreamEvent<'_>)>(
    conn: &mut Connection,
    seg: &Segment<'_>,
    stats: &mut ReassemblyStats,
    sink: &mut F,
) {
    if seg.payload.is_empty() || seg.rst {
        return;
    }
    let dir = conn.dir_of(seg.src);
    let mut out = Out::new(conn.id, dir, stats, sink);
    let data_seq = seg.seq.wrapping_add(u32::from(seg.syn));
    conn.halves[dir.index()].accept_after_close(&mut out, data_seq, seg.payload);
}
