//! TCP: reassembled streams handed to the protocol that the conversation itself reveals.
//!
//! * TCP 12523 is the dbserver port query; its two-byte answer names the dbserver port, which
//!   is learnt (1051 on every device seen so far, but the answer decides; prodjlink.md 7.1).
//! * A connection to a learnt (or the usual) dbserver port, or one whose first bytes are the
//!   dbserver greeting or message magic, is dbserver.
//! * StageLinQ connections are recognised from the ports discovery and the directory announced,
//!   or from their first bytes (service hello, `smaa`, `fltx`, BeatInfo framing).
//! * Anything else is skipped and counted.

// Flow tables are looked up on every segment: foldhash (seeded per process) instead of SipHash.
use foldhash::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;

use crate::dbserver::{self, Conversation, MessageFramer};

use super::dbserver_stream::dbserver_framed;
use crate::dissect::{Depth, Dissection, Proto, Value};
use crate::net::tcp_reassembly::{
    ConnId, Direction, Limits, Reassembler, ReassemblyStats, StreamEvent,
};
use crate::net::TcpSegment;
use crate::record::Record;
use crate::stagelinq::filetransfer_tracker::FileTransferTracker;
use crate::stagelinq::{self, ConnectionDecoder, ServiceDirectory, Side, StreamMessage};

use super::{ReadStats, Sink};

const PORT_QUERY_PORT: u16 = 12523;
const USUAL_DBSERVER_PORT: u16 = 1051;
/// Bytes kept while deciding what an unannounced connection carries.
const CLASSIFY_BYTES: usize = 512;
/// Engine DJ desktop's library service: gRPC and HTTP (stagelinq.md 1.10).
const EAAS_PORTS: [u16; 2] = [50010, 50020];
/// A port-query direction longer than this is not a port query.
const PORT_QUERY_MAX: usize = 64;

enum Kind {
    Undecided {
        first: [Vec<u8>; 2],
    },
    PortQuery {
        buf: [Vec<u8>; 2],
        done: [bool; 2],
    },
    DbServer {
        framers: [MessageFramer; 2],
        conv: Box<Conversation>,
    },
    StageLinq {
        dec: Box<ConnectionDecoder>,
        transfers: FileTransferTracker,
    },
    Other,
}

struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    kind: Kind,
    /// Frame and time of the latest data, for records made at a gap or at close.
    last_frame: u64,
    last_ts: i128,
}

pub struct TcpStreams {
    reasm: Reassembler,
    st: State,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

fn side(dir: Direction) -> Side {
    match dir {
        Direction::ClientToServer => Side::Client,
        Direction::ServerToClient => Side::Server,
    }
}

/// dbserver streams start with the greeting `11 00 00 00 01` or a message magic.
fn looks_like_dbserver(b: &[u8]) -> bool {
    b.starts_with(&[0x11, 0x00, 0x00, 0x00, 0x01]) || b.starts_with(&[0x11, 0x87, 0x23, 0x49, 0xae])
}

/// Where a message of one direction comes from and goes to, and the output context.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) frame: u64,
    pub(super) ts_ns: i128,
    src: SocketAddr,
    dst: SocketAddr,
    port: u16,
}

impl Ctx {
    /// The context of direction `dir` of a connection, at `frame`.
    fn new(client: SocketAddr, server: SocketAddr, dir: Direction, frame: u64, ts_ns: i128) -> Ctx {
        let (src, dst) = match dir {
            Direction::ClientToServer => (client, server),
            Direction::ServerToClient => (server, client),
        };
        Ctx {
            frame,
            ts_ns,
            src,
            dst,
            port: server.port(),
        }
    }

    pub(super) fn record<'b>(&self, bytes: &'b [u8], dissection: Dissection) -> Record<'b> {
        Record {
            frame: self.frame,
            ts_ns: self.ts_ns,
            src: self.src,
            dst: self.dst,
            interface: 0,
            port: self.port,
            bytes,
            dissection,
            extra: Vec::new(),
        }
    }
}

pub(super) fn emit(stats: &mut ReadStats, sink: &mut Sink<'_>, r: &Record<'_>) -> ControlFlow<()> {
    stats.count(r);
    sink(r)
}

impl TcpStreams {
    pub fn new(limits: Limits, detail: Depth) -> Self {
        TcpStreams {
            reasm: Reassembler::new(limits)
                .with_server_ports(&[PORT_QUERY_PORT, USUAL_DBSERVER_PORT]),
            st: State {
                conns: HashMap::default(),
                by_tuple: HashMap::default(),
                dbserver_servers: HashSet::default(),
                slq: ServiceDirectory::new(),
                detail,
            },
        }
    }

    pub fn reassembly_stats(&self) -> ReassemblyStats {
        self.reasm.stats().clone()
    }

    /// StageLinQ discovery seen on UDP: remember the directory port it announced.
    pub fn learn_stagelinq(&mut self, sender: IpAddr, msg: &stagelinq::Message) {
        self.st.slq.observe(sender, msg);
    }

    pub fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        stats: &mut ReadStats,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        let mut flow = ControlFlow::Continue(());
        let TcpStreams { reasm, st } = self;
        reasm.segment(seg, &mut |ev| {
            if flow.is_continue() {
                flow = st.event(ev, stats, sink);
            }
        });
        let key = (seg.src, seg.dst);
        let id = st
            .by_tuple
            .get(&key)
            .or_else(|| st.by_tuple.get(&(seg.dst, seg.src)));
        if id
            .and_then(|id| st.conns.get(id))
            .is_none_or(|c| matches!(c.kind, Kind::Other))
            && !seg.payload.is_empty()
        {
            stats.skip("other TCP");
        }
        flow
    }

    pub fn finish(&mut self, stats: &mut ReadStats, sink: &mut Sink<'_>) -> ControlFlow<()> {
        let mut flow = ControlFlow::Continue(());
        let TcpStreams { reasm, st } = self;
        reasm.finish(&mut |ev| {
            if flow.is_continue() {
                flow = st.event(ev, stats, sink);
            }
        });
        flow
    }
}

/// Everything but the reassembler, so that the reassembler's event callback can work on it.
struct State {
    conns: HashMap<ConnId, Box<Conn>>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), ConnId>,
    dbserver_servers: HashSet<SocketAddr>,
    slq: ServiceDirectory,
    detail: Depth,
}

impl State {
    fn classify_new(&self, server: SocketAddr) -> Kind {
        if server.port() == PORT_QUERY_PORT {
            Kind::PortQuery {
                buf: [Vec::new(), Vec::new()],
                done: [false, false],
            }
        } else if self.dbserver_servers.contains(&server) || server.port() == USUAL_DBSERVER_PORT {
            Kind::DbServer {
                framers: [MessageFramer::new(), MessageFramer::new()],
                conv: Box::default(),
            }
        } else if let Some(name) = self.slq.lookup(server.ip(), server.port()) {
            Kind::StageLinq {
                dec: Box::new(ConnectionDecoder::new(Some(name), self.detail)),
                transfers: FileTransferTracker::new(),
            }
        } else {
            Kind::Undecided {
                first: [Vec::new(), Vec::new()],
            }
        }
    }

    fn event(
        &mut self,
        ev: StreamEvent<'_>,
        stats: &mut ReadStats,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        match ev {
            StreamEvent::Opened {
                conn,
                client,
                server,
                ..
            } => {
                let kind = self.classify_new(server);
                self.by_tuple.insert((client, server), conn);
                self.conns.insert(
                    conn,
                    Box::new(Conn {
                        client,
                        server,
                        kind,
                        last_frame: 0,
                        last_ts: 0,
                    }),
                );
                ControlFlow::Continue(())
            }
            StreamEvent::Data {
                conn,
                dir,
                bytes,
                frame,
                ts_ns,
                ..
            } => self.data(conn, dir, bytes, frame, ts_ns, stats, sink),
            StreamEvent::Gap {
                conn,
                dir,
                stream_offset,
                len,
                frame,
                reason,
            } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return ControlFlow::Continue(());
                };
                let ctx = Ctx::new(c.client, c.server, dir, frame, c.last_ts);
                // Bytes given up at a memory limit were captured; the others never were.
                stats.note(
                    if reason.is_limit() {
                        format!("TCP bytes skipped at a reassembly memory limit ({reason:?})")
                    } else {
                        format!("TCP bytes lost in capture ({reason:?})")
                    },
                    len,
                );
                // What the decoders held before the hole comes out first, then the gap itself.
                let proto = match &mut c.kind {
                    Kind::DbServer { framers, conv } => {
                        for framed in framers[idx(dir)].gap() {
                            dbserver_framed(framed, ctx, conv, self.detail, stats, sink)?;
                        }
                        Proto::DbServer
                    }
                    Kind::StageLinq { dec, transfers } => {
                        for (_, m) in dec.gap_len(side(dir), len) {
                            stagelinq_record(ctx, m, transfers, stats, sink)?;
                        }
                        Proto::StageLinq
                    }
                    Kind::PortQuery { .. } => Proto::DbServer,
                    _ => return ControlFlow::Continue(()),
                };
                let mut d = Dissection::new(proto, "gap");
                d.summary = format!("{len} bytes missing from the capture at stream offset {stream_offset}; decoding resumes at the next message");
                d.fields.push(crate::dissect::Field {
                    name: "lost_bytes".into(),
                    range: None,
                    value: Value::U(len),
                    meaning: None,
                    knowledge: crate::dissect::Knowledge::Derived,
                });
                emit(stats, sink, &ctx.record(&[], d))
            }
            StreamEvent::Fin { .. } => ControlFlow::Continue(()),
            StreamEvent::Closed { conn, .. } => {
                let mut flow = ControlFlow::Continue(());
                if let Some(mut c) = self.conns.remove(&conn) {
                    self.by_tuple.remove(&(c.client, c.server));
                    flow = self.flush(&mut c, stats, sink);
                }
                flow
            }
            StreamEvent::Dropped { bytes, reason, .. } => {
                stats.note(format!("TCP bytes dropped ({reason:?})"), bytes);
                ControlFlow::Continue(())
            }
        }
    }

    /// At close: messages still buffered, and bytes that never formed one.
    fn flush(
        &mut self,
        c: &mut Conn,
        stats: &mut ReadStats,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        let (client, server) = (c.client, c.server);
        let (frame, ts_ns) = (c.last_frame, c.last_ts);
        match &mut c.kind {
            Kind::DbServer { framers, conv } => {
                for (i, f) in framers.iter_mut().enumerate() {
                    let dir = if i == 0 {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    };
                    let ctx = Ctx::new(client, server, dir, frame, ts_ns);
                    for framed in f.finish() {
                        dbserver_framed(framed, ctx, conv, self.detail, stats, sink)?;
                    }
                }
                ControlFlow::Continue(())
            }
            Kind::StageLinq { dec, transfers } => {
                for (s, m) in dec.finish() {
                    let dir = if s == Side::Client {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    };
                    let ctx = Ctx::new(client, server, dir, frame, ts_ns);
                    stagelinq_record(ctx, m, transfers, stats, sink)?;
                }
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Continue(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn data(
        &mut self,
        conn: ConnId,
        dir: Direction,
        bytes: &[u8],
        frame: u64,
        ts_ns: i128,
        stats: &mut ReadStats,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        let detail = self.detail;
        let Some(c) = self.conns.get_mut(&conn) else {
            return ControlFlow::Continue(());
        };
        c.last_frame = frame;
        c.last_ts = ts_ns;
        let ctx = Ctx::new(c.client, c.server, dir, frame, ts_ns);
        if let Kind::Undecided { first } = &mut c.kind {
            let i = idx(dir);
            let before = first[i].len();
            let buf = &mut first[i];
            buf.extend_from_slice(&bytes[..bytes.len().min(CLASSIFY_BYTES - before)]);
            let kind = if looks_like_dbserver(buf) {
                Some(Kind::DbServer {
                    framers: [MessageFramer::new(), MessageFramer::new()],
                    conv: Box::default(),
                })
            } else {
                match stagelinq::classify_stream(buf, None) {
                    stagelinq::StreamKind::Unknown if buf.len() >= CLASSIFY_BYTES => {
                        Some(Kind::Other)
                    }
                    // HTTP is only Engine DJ's library service on its own ports (stagelinq.md
                    // 1.10: gRPC 50010, HTTP 50020); elsewhere it is somebody's web traffic.
                    stagelinq::StreamKind::Eaas if !EAAS_PORTS.contains(&c.server.port()) => {
                        Some(Kind::Other)
                    }
                    stagelinq::StreamKind::Unknown => None,
                    _ => Some(Kind::StageLinq {
                        dec: Box::new(ConnectionDecoder::new(None, detail)),
                        transfers: FileTransferTracker::new(),
                    }),
                }
            };
            let Some(kind) = kind else {
                return ControlFlow::Continue(());
            };
            // Replay what was held back (without this chunk) through the chosen decoder, then
            // this chunk.
            let mut held = std::mem::take(first);
            held[i].truncate(before);
            c.kind = kind;
            for (j, b) in held.iter().enumerate() {
                if !b.is_empty() {
                    let d = if j == 0 {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    };
                    self.data(conn, d, b, frame, ts_ns, stats, sink)?;
                }
            }
            return self.data(conn, dir, bytes, frame, ts_ns, stats, sink);
        }
        match &mut c.kind {
            Kind::Undecided { .. } | Kind::Other => ControlFlow::Continue(()),
            Kind::PortQuery { buf, done } => {
                let i = idx(dir);
                if done[i] {
                    return ControlFlow::Continue(());
                }
                buf[i].extend_from_slice(bytes);
                let complete = if dir == Direction::ClientToServer {
                    dbserver::PortQuery::parse(&buf[i]).ok().map(|(_, n)| n)
                } else {
                    match dbserver::PortAnswer::parse(&buf[i]) {
                        Ok((a, n)) => {
                            // The answer names the dbserver port on the same host.
                            self.dbserver_servers
                                .insert(SocketAddr::new(c.server.ip(), a.port));
                            Some(n)
                        }
                        Err(_) => None,
                    }
                };
                let n = match complete {
                    Some(n) => n,
                    None if buf[i].len() > PORT_QUERY_MAX => buf[i].len(),
                    None => return ControlFlow::Continue(()),
                };
                done[i] = true;
                let msg: Vec<u8> = buf[i].drain(..n.min(buf[i].len())).collect();
                let d = dbserver::dissect_port_query(&msg, detail);
                emit(stats, sink, &ctx.record(&msg, d))
            }
            Kind::DbServer { framers, conv } => {
                for framed in framers[idx(dir)].push(bytes) {
                    dbserver_framed(framed, ctx, conv, detail, stats, sink)?;
                }
                ControlFlow::Continue(())
            }
            Kind::StageLinq { dec, transfers } => {
                for (_, m) in dec.push(side(dir), bytes) {
                    stagelinq_record(ctx, m, transfers, stats, sink)?;
                }
                ControlFlow::Continue(())
            }
        }
    }
}

/// A StageLinQ stream message as a record; FileTransfer messages carry the download they
/// belong to (`transfer`: path, size, bytes received, progress, complete), so that a database
/// download reads as one transfer with its progress (stagelinq.md 1.9).
fn stagelinq_record(
    ctx: Ctx,
    m: StreamMessage,
    transfers: &mut FileTransferTracker,
    stats: &mut ReadStats,
    sink: &mut Sink<'_>,
) -> ControlFlow<()> {
    let mut r = ctx.record(&m.bytes, m.dissection);
    if let Some(stagelinq::Message::FileTransfer(ft)) = &m.message {
        if let Some(t) = transfers.observe(ft) {
            let opt_u = |v: Option<u64>| v.map_or(Value::Null, Value::U);
            r.extra.push((
                "transfer",
                Value::Obj(vec![
                    ("txid".into(), Value::U(t.txid as u64)),
                    (
                        "path".into(),
                        t.path.clone().map_or(Value::Null, |p| Value::Str(p.into())),
                    ),
                    ("size".into(), opt_u(t.size)),
                    ("received".into(), Value::U(t.received)),
                    ("chunks".into(), Value::U(t.chunks)),
                    (
                        "progress".into(),
                        t.progress()
                            .map_or(Value::Null, |p| Value::round(p * 100.0, 1)),
                    ),
                    ("complete".into(), Value::Bool(t.complete)),
                    ("database".into(), Value::Bool(t.is_database())),
                    ("summary".into(), Value::Str(t.summary().into())),
                ]),
            ));
        }
    }
    emit(stats, sink, &r)
}
