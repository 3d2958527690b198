//! One direction of a TCP connection: maps sequence numbers to stream offsets, delivers bytes
//! as soon as they are contiguous, buffers what arrives early and decides when a hole is lost.
//!
//! Positions are kept as 64-bit stream offsets (0 = first byte after the SYN, or the first byte
//! seen when the capture started mid-stream). A sequence number is placed by its signed 32-bit
//! distance from the next expected one (serial number arithmetic, RFC 1982 / RFC 793 §3.3), so
//! wrapping across 2^32 needs no special case and the out-of-order buffer is keyed by plain u64.

use std::collections::BTreeMap;

use super::{
    ConnId, Direction, DropReason, GapReason, Limits, ReassemblyStats, StreamEvent, CHUNK_OVERHEAD,
};

/// How many skipped ranges each direction remembers, to tell a retransmission that arrives too
/// late to be delivered (reported as dropped) from a plain duplicate of delivered bytes.
const RECENT_GAPS: usize = 4;

/// Where events of one direction go, with the counters they update.
pub(super) struct Out<'r, F> {
    pub conn: ConnId,
    pub dir: Direction,
    pub stats: &'r mut ReassemblyStats,
    pub sink: &'r mut F,
}

impl<'r, F> Out<'r, F> {
    pub fn new(
        conn: ConnId,
        dir: Direction,
        stats: &'r mut ReassemblyStats,
        sink: &'r mut F,
    ) -> Self {
        Out {
            conn,
            dir,
            stats,
            sink,
        }
    }
}

/// Bytes that arrived ahead of a hole, with the frame that brought them.
struct Chunk {
    data: Vec<u8>,
    frame: u64,
    ts_ns: i128,
}

impl Chunk {
    fn cost(&self) -> usize {
        self.data.len() + CHUNK_OVERHEAD
    }
}

#[derive(Default)]
pub(super) struct HalfStream {
    /// Any segment came from this side (a side never seen does not hold a connection open).
    pub seen: bool,
    /// `next_seq` is anchored, by a SYN or by the first data (or FIN) segment.
    pub started: bool,
    /// Sequence number of the SYN, when the handshake was captured.
    pub isn: Option<u32>,
    /// All bytes up to the FIN were delivered (or skipped as a gap).
    pub finished: bool,
    next_seq: u32,
    /// Stream offset of `next_seq`: bytes delivered plus bytes skipped as gaps.
    offset: u64,
    fin_offset: Option<u64>,
    /// Early bytes by stream offset; never overlapping each other nor anything delivered.
    pending: BTreeMap<u64, Chunk>,
    pending_cost: usize,
    /// Segments seen on the connection since the current hole appeared.
    hole_age: u32,
    /// Highest stream offset the other side acknowledged (it received everything before).
    peer_ack: Option<u64>,
    recent_gaps: [(u64, u64); RECENT_GAPS],
    recent_gap_cursor: usize,
    pub delivered: u64,
    pub gap_bytes: u64,
}

impl HalfStream {
    pub fn start_at_syn(&mut self, isn: u32) {
        self.isn = Some(isn);
        self.start_at(isn.wrapping_add(1)); // the SYN consumes one sequence number
    }

    /// Anchor at the first byte seen (mid-stream pickup).
    pub fn start_at(&mut self, seq: u32) {
        self.started = true;
        self.next_seq = seq;
        self.offset = 0;
    }

    /// Stream offset of a sequence number (negative: before the stream's first byte).
    fn locate(&self, seq: u32) -> i64 {
        self.offset as i64 + i64::from(seq.wrapping_sub(self.next_seq) as i32)
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Take the payload of a segment whose first byte has sequence number `seq`.
    pub fn accept_data<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        limits: &Limits,
        seq: u32,
        payload: &[u8],
        frame: u64,
        ts_ns: i128,
    ) {
        let (start, mut bytes) = self.trim_old(out, self.locate(seq), payload);
        if bytes.is_empty() {
            return;
        }
        if let Some(fin) = self.fin_offset {
            let room = fin.saturating_sub(start);
            if (bytes.len() as u64) > room {
                let beyond = bytes.len() as u64 - room;
                drop_bytes(out, beyond, DropReason::BeyondFin);
                bytes = &bytes[..room as usize];
            }
        }
        if bytes.is_empty() {
            return;
        }
        if start == self.offset {
            self.deliver_in_order(out, bytes, frame, ts_ns);
        } else {
            self.buffer(out, start, bytes, frame, ts_ns);
            while self.pending_cost > limits.max_buffered_per_direction
                && self.skip_hole(out, GapReason::BufferLimit)
            {}
        }
    }

    /// Account for the part of a segment that lies before what is still expected, and return
    /// where the remainder starts with the remainder itself.
    fn trim_old<'p, F: FnMut(StreamEvent<'_>)>(
        &self,
        out: &mut Out<'_, F>,
        start: i64,
        payload: &'p [u8],
    ) -> (u64, &'p [u8]) {
        let end = start + payload.len() as i64;
        let mut cut = 0i64;
        if start < 0 {
            // Before the SYN or before the point a mid-stream pickup anchored on.
            let before = end.min(0) - start;
            drop_bytes(out, before as u64, DropReason::BeforeStreamStart);
            cut = before;
        }
        let old_end = end.min(self.offset as i64);
        if start + cut < old_end {
            let (from, to) = ((start + cut) as u64, old_end as u64);
            let late = self.overlap_with_gaps(from, to);
            if late > 0 {
                drop_bytes(out, late, DropReason::LateAfterGap);
            }
            out.stats.bytes_retransmitted += (to - from) - late;
            cut = old_end - start;
        }
        let cut = cut.clamp(0, payload.len() as i64) as usize;
        ((start + cut as i64).max(0) as u64, &payload[cut..])
    }

    fn overlap_with_gaps(&self, from: u64, to: u64) -> u64 {
        self.recent_gaps
            .iter()
            .map(|&(a, b)| b.min(to).saturating_sub(a.max(from)))
            .sum()
    }

    /// Deliver bytes starting exactly at the next expected offset, then whatever buffered
    /// bytes became contiguous. Buffered bytes win where they overlap (they arrived first).
    fn deliver_in_order<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        bytes: &[u8],
        frame: u64,
        ts_ns: i128,
    ) {
        let start = self.offset;
        let end = start + bytes.len() as u64;
        while self.offset < end {
            let pos = self.offset;
            match self.pending.first_key_value().map(|(&k, _)| k) {
                Some(k) if k <= pos => {
                    let covered = self.pending_end(k).min(end).saturating_sub(pos);
                    out.stats.bytes_retransmitted += covered;
                    self.deliver_first_pending(out);
                }
                next => {
                    let until = next.map_or(end, |k| k.min(end));
                    let piece = &bytes[(pos - start) as usize..(until - start) as usize];
                    self.emit_data(out, piece, frame, ts_ns);
                }
            }
        }
        self.drain_contiguous(out);
        self.check_fin(out, frame);
    }

    fn pending_end(&self, key: u64) -> u64 {
        self.pending
            .get(&key)
            .map_or(key, |c| key + c.data.len() as u64)
    }

    fn drain_contiguous<F: FnMut(StreamEvent<'_>)>(&mut self, out: &mut Out<'_, F>) {
        while self
            .pending
            .first_key_value()
            .is_some_and(|(&k, _)| k <= self.offset)
        {
            self.deliver_first_pending(out);
        }
        if self.pending.is_empty() {
            self.hole_age = 0;
        }
    }

    fn deliver_first_pending<F: FnMut(StreamEvent<'_>)>(&mut self, out: &mut Out<'_, F>) {
        let Some((key, chunk)) = self.pending.pop_first() else {
            return;
        };
        self.release(out, chunk.cost());
        // Invariant: buffered chunks never start before the next expected offset.
        debug_assert_eq!(key, self.offset);
        let skip = (self.offset.saturating_sub(key) as usize).min(chunk.data.len());
        self.emit_data(out, &chunk.data[skip..], chunk.frame, chunk.ts_ns);
    }

    fn emit_data<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        bytes: &[u8],
        frame: u64,
        ts_ns: i128,
    ) {
        if bytes.is_empty() {
            return;
        }
        (out.sink)(StreamEvent::Data {
            conn: out.conn,
            dir: out.dir,
            stream_offset: self.offset,
            bytes,
            frame,
            ts_ns,
        });
        let n = bytes.len() as u64;
        out.stats.bytes_delivered.add(out.dir, n);
        self.delivered += n;
        self.advance(n);
    }

    fn advance(&mut self, n: u64) {
        self.offset += n;
        // Offsets only move within 2^31 of the anchor per step, so truncation is exact mod 2^32.
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    /// Keep bytes that arrived ahead of a hole; where they overlap bytes already buffered,
    /// the buffered ones stay (first wins) and the overlap counts as retransmitted.
    fn buffer<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        start: u64,
        bytes: &[u8],
        frame: u64,
        ts_ns: i128,
    ) {
        let end = start + bytes.len() as u64;
        let was_empty = self.pending.is_empty();
        let mut pos = start;
        if let Some((&k, c)) = self.pending.range(..pos).next_back() {
            let covered_to = (k + c.data.len() as u64).min(end);
            if covered_to > pos {
                out.stats.bytes_retransmitted += covered_to - pos;
                pos = covered_to;
            }
        }
        while pos < end {
            let next = self
                .pending
                .range(pos..end)
                .next()
                .map(|(&k, c)| (k, k + c.data.len() as u64));
            let (piece_end, covered_to) = match next {
                Some((k, chunk_end)) => (k, chunk_end.min(end)),
                None => (end, end),
            };
            if piece_end > pos {
                let data = bytes[(pos - start) as usize..(piece_end - start) as usize].to_vec();
                let chunk = Chunk { data, frame, ts_ns };
                self.pending_cost += chunk.cost();
                out.stats.add_buffered(chunk.cost());
                self.pending.insert(pos, chunk);
            }
            out.stats.bytes_retransmitted += covered_to - piece_end;
            pos = covered_to;
        }
        if was_empty && !self.pending.is_empty() {
            self.hole_age = 0;
        }
    }

    fn release<F>(&mut self, out: &mut Out<'_, F>, cost: usize) {
        self.pending_cost -= cost;
        out.stats.buffered_bytes -= cost;
    }

    /// Give up on the hole before the first buffered chunk: report it and deliver what follows.
    pub fn skip_hole<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        reason: GapReason,
    ) -> bool {
        self.skip_hole_until(out, reason, None)
    }

    /// Skip the first hole, or only its part before stream offset `until`: bytes the other
    /// side acknowledged were sent and will not come, but the rest of the hole still may.
    fn skip_hole_until<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        reason: GapReason,
        until: Option<u64>,
    ) -> bool {
        let Some((&key, chunk)) = self.pending.first_key_value() else {
            return false;
        };
        let frame = chunk.frame;
        let end = until.map_or(key, |u| u.min(key));
        if end <= self.offset {
            return false;
        }
        self.emit_gap(out, end - self.offset, frame, reason);
        if end == key {
            self.drain_contiguous(out);
        }
        self.hole_age = 0;
        self.check_fin(out, frame);
        true
    }

    fn emit_gap<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        len: u64,
        frame: u64,
        reason: GapReason,
    ) {
        if len == 0 {
            return;
        }
        (out.sink)(StreamEvent::Gap {
            conn: out.conn,
            dir: out.dir,
            stream_offset: self.offset,
            len,
            frame,
            reason,
        });
        out.stats.gaps += 1;
        out.stats.gap_bytes += len;
        if reason.is_limit() {
            out.stats.gaps_forced_by_limits += 1;
        }
        self.gap_bytes += len;
        self.recent_gaps[self.recent_gap_cursor] = (self.offset, self.offset + len);
        self.recent_gap_cursor = (self.recent_gap_cursor + 1) % RECENT_GAPS;
        self.advance(len);
    }

    /// Record the FIN, which sits at sequence number `fin_seq` (after the segment's data).
    pub fn note_fin<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        fin_seq: u32,
        frame: u64,
    ) {
        if self.finished || self.fin_offset.is_some() {
            return; // a retransmitted FIN; the first one stands
        }
        let fin = self.locate(fin_seq).max(self.offset as i64) as u64;
        self.fin_offset = Some(fin);
        // Nothing can follow a FIN: buffered bytes past it are not stream data.
        while let Some(entry) = self.pending.last_entry() {
            let key = *entry.key();
            if key + entry.get().data.len() as u64 <= fin {
                break;
            }
            let mut chunk = entry.remove();
            let cost = chunk.cost();
            self.release(out, cost);
            let keep = fin.saturating_sub(key) as usize;
            drop_bytes(out, (chunk.data.len() - keep) as u64, DropReason::BeyondFin);
            if keep > 0 {
                chunk.data.truncate(keep);
                self.pending_cost += chunk.cost();
                out.stats.add_buffered(chunk.cost());
                self.pending.insert(key, chunk);
            }
        }
        self.check_fin(out, frame);
    }

    fn check_fin<F: FnMut(StreamEvent<'_>)>(&mut self, out: &mut Out<'_, F>, frame: u64) {
        if !self.finished && self.fin_offset == Some(self.offset) {
            self.finished = true;
            (out.sink)(StreamEvent::Fin {
                conn: out.conn,
                dir: out.dir,
                stream_offset: self.offset,
                frame,
            });
        }
    }

    /// The other side acknowledged everything before `ack`.
    pub fn note_peer_ack(&mut self, ack: u32) {
        if !self.started {
            return;
        }
        let pos = self.locate(ack);
        if pos > self.offset as i64 {
            let pos = pos as u64;
            self.peer_ack = Some(self.peer_ack.map_or(pos, |a| a.max(pos)));
        }
    }

    /// Called once per segment of the connection: skip a hole that the other side already
    /// acknowledged (the capture lost it, no retransmission will come) or that outlived
    /// `Limits::gap_after_segments`.
    pub fn age_hole<F: FnMut(StreamEvent<'_>)>(&mut self, out: &mut Out<'_, F>, limits: &Limits) {
        if self.pending.is_empty() {
            self.hole_age = 0;
            return;
        }
        self.hole_age = self.hole_age.saturating_add(1);
        loop {
            let acked = self.peer_ack.filter(|&a| a > self.offset);
            let (reason, until) = match acked {
                Some(a) if limits.gap_when_acked => (GapReason::AckedUnseen, Some(a)),
                _ if self.hole_age >= limits.gap_after_segments => (GapReason::SegmentLimit, None),
                _ => break,
            };
            if !self.skip_hole_until(out, reason, until) {
                break;
            }
        }
    }

    /// Skip every hole so that all buffered bytes are delivered (memory pressure).
    pub fn skip_all_holes<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        reason: GapReason,
    ) {
        while self.skip_hole(out, reason) {}
    }

    /// The direction ends (close, timeout, eviction, end of input): deliver everything
    /// buffered past its holes, then report bytes known to be missing at the end (before a
    /// seen FIN, or acknowledged by the other side but never captured).
    pub fn flush<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        reason: GapReason,
        last_frame: u64,
    ) {
        self.skip_all_holes(out, reason);
        if let Some(end) = self.fin_offset.or(self.peer_ack) {
            if end > self.offset {
                self.emit_gap(out, end - self.offset, last_frame, reason);
            }
        }
        self.check_fin(out, last_frame);
    }

    /// Bytes for a connection that is already closed: old ones are retransmissions, new ones
    /// cannot be delivered.
    pub fn accept_after_close<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        out: &mut Out<'_, F>,
        seq: u32,
        payload: &[u8],
    ) {
        let rest = if self.started {
            self.trim_old(out, self.locate(seq), payload).1
        } else {
            payload
        };
        drop_bytes(out, rest.len() as u64, DropReason::AfterClose);
    }
}

pub(super) fn drop_bytes<F: FnMut(StreamEvent<'_>)>(
    out: &mut Out<'_, F>,
    bytes: u64,
    reason: DropReason,
) {
    if bytes == 0 {
        return;
    }
    (out.sink)(StreamEvent::Dropped {
        conn: out.conn,
        dir: out.dir,
        bytes,
        reason,
    });
    out.stats.bytes_dropped += bytes;
}
