//! TCP stream reassembly, shared by every TCP protocol (dbserver, StageLinQ).
//!
//! The read loop feeds one [`Segment`] per captured TCP packet; the [`Reassembler`] answers with
//! [`StreamEvent`]s in the order a decoder needs them: bytes of each direction in sequence
//! order as soon as they are contiguous (not when acknowledged, so one-sided captures work),
//! holes reported as [`StreamEvent::Gap`] so decoders can resync, and the end of each
//! direction and connection. Design notes: crates-and-conventions.md §2.1.
//!
//! Policies, in brief:
//! * overlapping or retransmitted bytes: the first copy seen wins (Wireshark's default);
//! * a connection without a captured SYN starts at the first data segment of each direction;
//! * a hole is given up (Gap) when the other side acknowledged past it, when
//!   [`Limits::gap_after_segments`] segments went by, when a buffer limit is reached, or when
//!   the connection ends. Memory limits therefore never throw away captured bytes: they force
//!   an early Gap instead. Bytes that cannot be delivered at all (before the stream start, past
//!   a FIN, after close, or a retransmission arriving after its hole was skipped) are reported
//!   as [`StreamEvent::Dropped`];
//! * the connection table is bounded: the least recently active connection is evicted.
//!   Connections closed by FIN or RST stay in the table (without buffers) until they idle out,
//!   so that late retransmissions are recognised instead of starting a new connection.
//!
//! Events per connection come in this order: `Opened`, then `Data`/`Gap` per direction with
//! contiguous `stream_offset`s (a Gap advances the offset without bytes), `Fin` when a
//! direction's bytes up to its FIN were all handed out, and finally `Closed`. In-order bytes
//! are handed out straight from the segment's payload; only out-of-order bytes are copied.
//! [`StreamTally`] sums the events per connection (for a `tcp-streams` listing).

mod half_stream;
mod table;
mod tally;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_captures;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_properties;

use std::collections::BTreeSet;

// Looked up on every segment: foldhash (seeded per process) instead of SipHash.
use foldhash::HashMap;
use std::net::{IpAddr, SocketAddr};

use half_stream::{HalfStream, Out};
pub use tally::{ConnectionTotals, StreamTally};

/// Identifies one connection for its whole life; never reused within a `Reassembler`.
pub type ConnId = u64;

/// Estimated bookkeeping cost of one buffered chunk (map node and vector header), counted
/// against the memory limits so that many tiny segments cannot exceed them.
const CHUNK_OVERHEAD: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Direction {
    /// From the side that sent the SYN (or, without a SYN, the first data sender, unless a
    /// known server port says otherwise).
    ClientToServer,
    ServerToClient,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }

    fn from_index(i: usize) -> Self {
        if i == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    pub fn reverse(self) -> Self {
        Self::from_index(1 - self.index())
    }
}

/// One captured TCP segment, as the read loop parsed it.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    /// The acknowledgment number when the ACK flag is set.
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    /// Capture frame number (1-based, as Wireshark counts).
    pub frame: u64,
    /// Capture timestamp in nanoseconds since the Unix epoch.
    pub ts_ns: i128,
}

impl<'a> Segment<'a> {
    /// Build from etherparse's TCP view; `tcp.payload()` is already bounded by the IP length,
    /// so Ethernet padding is not taken as data.
    pub fn from_tcp(
        src_ip: IpAddr,
        dst_ip: IpAddr,
        tcp: &etherparse::TcpSlice<'a>,
        frame: u64,
        ts_ns: i128,
    ) -> Self {
        Segment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            seq: tcp.sequence_number(),
            ack: tcp.ack().then(|| tcp.acknowledgment_number()),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
            frame,
            ts_ns,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CloseReason {
    /// Both directions sent FIN (a side never seen in the capture does not count).
    Fin,
    Rst,
    /// No segment for `Limits::idle_timeout_ns` of capture time.
    Timeout,
    /// Removed to respect `Limits::max_connections`.
    Evicted,
    /// A SYN with a new initial sequence number arrived for the same address pair.
    PortReuse,
    EndOfInput,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DropReason {
    /// Bytes before the SYN, or before the point where a mid-stream pickup started.
    BeforeStreamStart,
    /// A retransmission of bytes that were already reported as a Gap.
    LateAfterGap,
    /// Bytes past the sequence number of the FIN.
    BeyondFin,
    /// New bytes for a connection already closed by FIN or RST.
    AfterClose,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GapReason {
    /// The other side acknowledged bytes the capture never saw.
    AckedUnseen,
    /// The hole stayed open for `Limits::gap_after_segments` segments.
    SegmentLimit,
    /// The direction's buffer reached `Limits::max_buffered_per_direction`.
    BufferLimit,
    /// All buffers together reached `Limits::max_buffered_total`.
    TotalBufferLimit,
    /// The connection was evicted for `Limits::max_connections`.
    ConnectionLimit,
    /// The connection ended (FIN, RST, timeout, port reuse, end of input).
    End,
}

impl GapReason {
    /// Whether raising a limit could have avoided this gap.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            GapReason::BufferLimit | GapReason::TotalBufferLimit | GapReason::ConnectionLimit
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    Opened {
        conn: ConnId,
        client: SocketAddr,
        server: SocketAddr,
        syn_seen: bool,
    },
    /// Bytes at `stream_offset` of one direction, brought by capture frame `frame`.
    Data {
        conn: ConnId,
        dir: Direction,
        stream_offset: u64,
        bytes: &'a [u8],
        frame: u64,
        ts_ns: i128,
    },
    /// `len` bytes at `stream_offset` were never captured; delivery resumes after them.
    /// `frame` brought the first byte after the hole (or, at the end, the last frame seen).
    Gap {
        conn: ConnId,
        dir: Direction,
        stream_offset: u64,
        len: u64,
        frame: u64,
        reason: GapReason,
    },
    /// Everything this direction sent before its FIN was delivered.
    Fin {
        conn: ConnId,
        dir: Direction,
        stream_offset: u64,
        frame: u64,
    },
    Closed {
        conn: ConnId,
        reason: CloseReason,
    },
    Dropped {
        conn: ConnId,
        dir: Direction,
        bytes: u64,
        reason: DropReason,
    },
}

/// Bounds on memory and on how long a hole is waited for; raise them for unusual captures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Out-of-order bytes buffered per direction (plus `CHUNK_OVERHEAD` per chunk).
    pub max_buffered_per_direction: usize,
    /// Out-of-order bytes buffered over all connections; when exceeded, the least recently
    /// active connections give up their holes until usage is back under 3/4 of this.
    pub max_buffered_total: usize,
    /// Connections (open, or closed and kept to absorb late retransmissions) in the table.
    pub max_connections: usize,
    /// A hole is given up after this many further segments on its connection.
    pub gap_after_segments: u32,
    /// Give up a hole at once when the other side acknowledged past it.
    pub gap_when_acked: bool,
    /// Close connections idle for this long (capture time); `None` keeps them until the end.
    pub idle_timeout_ns: Option<i128>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffered_per_direction: 1 << 20,
            max_buffered_total: 64 << 20,
            // 7/8 of 2^16: the connection tables (hash maps with a 7/8 load factor) then
            // fill 2^16 buckets exactly instead of doubling to 2^17 for the last few.
            max_connections: 57_344,
            gap_after_segments: 128,
            gap_when_acked: true,
            idle_timeout_ns: Some(600 * 1_000_000_000),
        }
    }
}

/// A pair of counters, one per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirCounts {
    pub client_to_server: u64,
    pub server_to_client: u64,
}

impl DirCounts {
    pub fn get(&self, dir: Direction) -> u64 {
        match dir {
            Direction::ClientToServer => self.client_to_server,
            Direction::ServerToClient => self.server_to_client,
        }
    }

    fn add(&mut self, dir: Direction, n: u64) {
        match dir {
            Direction::ClientToServer => self.client_to_server += n,
            Direction::ServerToClient => self.server_to_client += n,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub segments: u64,
    /// Segments that belong to no connection and cannot start one (no SYN and no data).
    pub segments_without_connection: u64,
    pub connections_opened: u64,
    /// Of those, opened without a captured SYN or SYN-ACK.
    pub connections_mid_stream: u64,
    pub closed_fin: u64,
    pub closed_rst: u64,
    pub closed_timeout: u64,
    pub closed_evicted: u64,
    pub closed_port_reuse: u64,
    pub closed_end_of_input: u64,
    pub bytes_delivered: DirCounts,
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Gaps that a higher limit might have avoided.
    pub gaps_forced_by_limits: u64,
    /// Bytes seen again (retransmissions, duplicates, overlaps); the first copy was used.
    pub bytes_retransmitted: u64,
    /// Bytes reported in `Dropped` events.
    pub bytes_dropped: u64,
    /// Out-of-order buffer usage now, overhead included.
    pub buffered_bytes: usize,
    pub peak_buffered_bytes: usize,
    pub peak_connections: usize,
}

impl ReassemblyStats {
    fn add_buffered(&mut self, n: usize) {
        self.buffered_bytes += n;
        self.peak_buffered_bytes = self.peak_buffered_bytes.max(self.buffered_bytes);
    }

    fn count_close(&mut self, reason: CloseReason) {
        let counter = match reason {
            CloseReason::Fin => &mut self.closed_fin,
            CloseReason::Rst => &mut self.closed_rst,
            CloseReason::Timeout => &mut self.closed_timeout,
            CloseReason::Evicted => &mut self.closed_evicted,
            CloseReason::PortReuse => &mut self.closed_port_reuse,
            CloseReason::EndOfInput => &mut self.closed_end_of_input,
        };
        *counter += 1;
    }
}

/// What is known about a connection still in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub id: ConnId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub syn_seen: bool,
    /// `Some` once closed by FIN or RST (kept a while to absorb late retransmissions).
    pub closed: Option<CloseReason>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub bytes_delivered: DirCounts,
    pub gap_bytes: DirCounts,
}

/// The address pair, smaller address first, so both directions find the same entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct FlowKey(SocketAddr, SocketAddr);

impl FlowKey {
    fn new(a: SocketAddr, b: SocketAddr) -> Self {
        if a <= b {
            FlowKey(a, b)
        } else {
            FlowKey(b, a)
        }
    }
}

struct Connection {
    id: ConnId,
    client: SocketAddr,
    server: SocketAddr,
    syn_seen: bool,
    closed: Option<CloseReason>,
    /// Indexed by `Direction::index`.
    halves: [HalfStream; 2],
    first_frame: u64,
    last_frame: u64,
    last_ts: i128,
}

impl Connection {
    fn dir_of(&self, src: SocketAddr) -> Direction {
        if src == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    fn info(&self) -> ConnectionInfo {
        let counts = |f: fn(&HalfStream) -> u64| DirCounts {
            client_to_server: f(&self.halves[0]),
            server_to_client: f(&self.halves[1]),
        };
        ConnectionInfo {
            id: self.id,
            client: self.client,
            server: self.server,
            syn_seen: self.syn_seen,
            closed: self.closed,
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            bytes_delivered: counts(|h| h.delivered),
            gap_bytes: counts(|h| h.gap_bytes),
        }
    }

    fn has_pending(&self) -> bool {
        self.halves.iter().any(HalfStream::has_pending)
    }

    /// Deliver what can be delivered in both directions, then report the close.
    fn close<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        reason: CloseReason,
        gap_reason: GapReason,
        stats: &mut ReassemblyStats,
        sink: &mut F,
    ) {
        for i in 0..2 {
            let dir = Direction::from_index(i);
            let last_frame = self.last_frame;
            let mut out = Out::new(self.id, dir, stats, sink);
            self.halves[i].flush(&mut out, gap_reason, last_frame);
        }
        self.closed = Some(reason);
        stats.count_close(reason);
        sink(StreamEvent::Closed {
            conn: self.id,
            reason,
        });
    }
}

/// Reassembles every TCP connection of a capture; see the module documentation.
///
/// ```
/// use djdissect::net::tcp_reassembly::{Limits, Reassembler, Segment, StreamEvent};
///
/// let mut r = Reassembler::new(Limits::default()).with_server_ports(&[1051, 12523]);
/// let mut received = Vec::new();
/// let mut on_event = |e: StreamEvent<'_>| {
///     if let StreamEvent::Data { bytes, frame, .. } = e {
///         received.push((frame, bytes.to_vec()));
///     }
/// };
/// let seg = |seq, payload, frame| Segment {
///     src: "169.254.1.2:40000".parse().unwrap(),
///     dst: "169.254.3.4:1051".parse().unwrap(),
///     seq,
///     ack: None,
///     syn: false,
///     fin: false,
///     rst: false,
///     payload,
///     frame,
///     ts_ns: 0,
/// };
/// r.segment(&seg(100, b"first", 1), &mut on_event);
/// r.segment(&seg(110, b"third", 2), &mut on_event); // ahead of a hole: buffered
/// r.segment(&seg(105, b"-two-", 3), &mut on_event); // fills the hole
/// r.finish(&mut on_event);
/// assert_eq!(
///     received,
///     [(1, b"first".to_vec()), (3, b"-two-".to_vec()), (2, b"third".to_vec())]
/// );
/// ```
pub struct Reassembler {
    limits: Limits,
    server_ports: Vec<u16>,
    by_key: HashMap<FlowKey, ConnId>,
    /// Boxed: a table of tens of thousands of mostly idle connections then costs a pointer
    /// per bucket instead of a whole connection (memory with many half-open connections).
    conns: HashMap<ConnId, Box<Connection>>,
    /// (last activity, id), oldest first: idle expiry and eviction order.
    by_activity: BTreeSet<(i128, ConnId)>,
    next_id: ConnId,
    /// Latest capture timestamp seen (captures from several interfaces are not monotonic).
    clock: Option<i128>,
    stats: ReassemblyStats,
}
