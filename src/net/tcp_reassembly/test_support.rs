//! Helpers for the reassembler tests: crafted segments and events recorded as owned values.

use std::net::SocketAddr;

use super::{
    CloseReason, ConnId, Direction, DropReason, GapReason, Limits, Reassembler, Segment,
    StreamEvent,
};

pub const CLIENT: &str = "10.0.0.1:40000";
pub const SERVER: &str = "10.0.0.2:1051";
pub const SECOND: &str = "10.0.0.3:40001";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// A `StreamEvent` with its bytes copied, so tests can keep and compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Opened {
        conn: ConnId,
        client: SocketAddr,
        server: SocketAddr,
        syn_seen: bool,
    },
    Data {
        conn: ConnId,
        dir: Direction,
        offset: u64,
        bytes: Vec<u8>,
        frame: u64,
    },
    Gap {
        conn: ConnId,
        dir: Direction,
        offset: u64,
        len: u64,
        reason: GapReason,
    },
    Fin {
        conn: ConnId,
        dir: Direction,
        offset: u64,
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

impl From<StreamEvent<'_>> for Ev {
    fn from(e: StreamEvent<'_>) -> Self {
        match e {
            StreamEvent::Opened {
                conn,
                client,
                server,
                syn_seen,
            } => Ev::Opened {
                conn,
                client,
                server,
                syn_seen,
            },
            StreamEvent::Data {
                conn,
                dir,
                stream_offset,
                bytes,
                frame,
                ..
            } => Ev::Data {
                conn,
                dir,
                offset: stream_offset,
                bytes: bytes.to_vec(),
                frame,
            },
            StreamEvent::Gap {
                conn,
                dir,
                stream_offset,
                len,
                reason,
                ..
            } => Ev::Gap {
                conn,
                dir,
                offset: stream_offset,
                len,
                reason,
            },
            StreamEvent::Fin {
                conn,
                dir,
                stream_offset,
                ..
            } => Ev::Fin {
                conn,
                dir,
                offset: stream_offset,
            },
            StreamEvent::Closed { conn, reason } => Ev::Closed { conn, reason },
            StreamEvent::Dropped {
                conn,
                dir,
                bytes,
                reason,
            } => Ev::Dropped {
                conn,
                dir,
                bytes,
                reason,
            },
        }
    }
}

/// A segment under construction; `send` numbers frames 1, 2, 3... and ticks time by 1 ms.
#[derive(Clone, Debug)]
pub struct Seg {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: Vec<u8>,
}

impl Seg {
    pub fn new(src: &str, dst: &str, seq: u32, payload: &[u8]) -> Self {
        Seg {
            src: addr(src),
            dst: addr(dst),
            seq,
            ack: None,
            syn: false,
            fin: false,
            rst: false,
            payload: payload.to_vec(),
        }
    }

    /// Client to server.
    pub fn c(seq: u32, payload: &[u8]) -> Self {
        Seg::new(CLIENT, SERVER, seq, payload)
    }

    /// Server to client.
    pub fn s(seq: u32, payload: &[u8]) -> Self {
        Seg::new(SERVER, CLIENT, seq, payload)
    }

    pub fn syn(mut self) -> Self {
        self.syn = true;
        self
    }

    pub fn fin(mut self) -> Self {
        self.fin = true;
        self
    }

    pub fn rst(mut self) -> Self {
        self.rst = true;
        self
    }

    pub fn ack(mut self, ack: u32) -> Self {
        self.ack = Some(ack);
        self
    }
}

pub struct Harness {
    pub r: Reassembler,
    pub events: Vec<Ev>,
    pub frame: u64,
    pub ts_ns: i128,
}

impl Harness {
    pub fn new() -> Self {
        Harness::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Self {
        Harness {
            r: Reassembler::new(limits),
            events: Vec::new(),
            frame: 0,
            ts_ns: 1_000_000_000,
        }
    }

    pub fn send(&mut self, s: &Seg) -> &mut Self {
        self.frame += 1;
        self.ts_ns += 1_000_000;
        let seg = Segment {
            src: s.src,
            dst: s.dst,
            seq: s.seq,
            ack: s.ack,
            syn: s.syn,
            fin: s.fin,
            rst: s.rst,
            payload: &s.payload,
            frame: self.frame,
            ts_ns: self.ts_ns,
        };
        let events = &mut self.events;
        self.r.segment(&seg, &mut |e| events.push(Ev::from(e)));
        self
    }

    pub fn send_all(&mut self, segs: &[Seg]) -> &mut Self {
        for s in segs {
            self.send(s);
        }
        self
    }

    pub fn finish(&mut self) -> &mut Self {
        let events = &mut self.events;
        self.r.finish(&mut |e| events.push(Ev::from(e)));
        self
    }

    /// Concatenated bytes delivered on one direction, checking offsets are contiguous
    /// (gaps advance the offset without bytes).
    pub fn stream(&self, conn: ConnId, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        let mut next = 0u64;
        for e in &self.events {
            match e {
                Ev::Data {
                    conn: c,
                    dir: d,
                    offset,
                    bytes,
                    ..
                } if *c == conn && *d == dir => {
                    assert_eq!(*offset, next, "data offsets must be contiguous");
                    out.extend_from_slice(bytes);
                    next += bytes.len() as u64;
                }
                Ev::Gap {
                    conn: c,
                    dir: d,
                    offset,
                    len,
                    ..
                } if *c == conn && *d == dir => {
                    assert_eq!(*offset, next, "gap offsets must be contiguous");
                    next += len;
                }
                _ => {}
            }
        }
        out
    }

    pub fn gaps(&self) -> Vec<&Ev> {
        self.events
            .iter()
            .filter(|e| matches!(e, Ev::Gap { .. }))
            .collect()
    }

    pub fn drops(&self) -> Vec<&Ev> {
        self.events
            .iter()
            .filter(|e| matches!(e, Ev::Dropped { .. }))
            .collect()
    }

    pub fn closes(&self) -> Vec<&Ev> {
        self.events
            .iter()
            .filter(|e| matches!(e, Ev::Closed { .. }))
            .collect()
    }

    pub fn opened(&self) -> Vec<&Ev> {
        self.events
            .iter()
            .filter(|e| matches!(e, Ev::Opened { .. }))
            .collect()
    }
}

/// The usual handshake: client ISN `c_isn`, server ISN `s_isn`.
pub fn handshake(c_isn: u32, s_isn: u32) -> Vec<Seg> {
    vec![
        Seg::c(c_isn, b"").syn(),
        Seg::s(s_isn, b"").syn().ack(c_isn.wrapping_add(1)),
        Seg::c(c_isn.wrapping_add(1), b"").ack(s_isn.wrapping_add(1)),
    ]
}
