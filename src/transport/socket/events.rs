//! What a rig reports while it runs: every datagram and stream chunk in and out, connections
//! opening and closing, and what it refused. The replay command turns these into its log
//! lines; tests count them.

use std::net::SocketAddrV4;

use crate::device::{Command, ConnId, Nanos};

/// One thing that happened on the rig's sockets. `device` is the index the device got from
/// [`super::Rig::add`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RigEvent<'a> {
    /// A device sent a datagram (`to` is the broadcast address for a broadcast).
    Sent {
        device: usize,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &'a [u8],
    },
    /// A datagram was handed to a device.
    Received {
        device: usize,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &'a [u8],
    },
    /// A peer connected to a port a device listens on.
    Accepted {
        device: usize,
        conn: ConnId,
        local: SocketAddrV4,
        peer: SocketAddrV4,
    },
    /// A connection a device asked for is open.
    Connected {
        device: usize,
        conn: ConnId,
        peer: SocketAddrV4,
    },
    /// Bytes on a connection: `inbound` from the peer, else written by the device.
    Data {
        device: usize,
        conn: ConnId,
        inbound: bool,
        bytes: &'a [u8],
    },
    /// A connection ended (`reason` says who or what ended it).
    Closed {
        device: usize,
        conn: ConnId,
        reason: &'static str,
    },
    /// A device noted something notable (peer joined, number taken, query answered).
    Note {
        device: usize,
        at: Nanos,
        text: &'a str,
    },
    /// A scheduled command was given to a device (`done` false: it has no such control).
    Command {
        device: usize,
        command: &'a Command,
        done: bool,
    },
    /// Something the rig would not or could not do (a send outside the network, a port that
    /// cannot be bound, a connection beyond the limit). Never fatal.
    Refused {
        device: Option<usize>,
        what: &'a str,
    },
}

/// Receives a rig's events, in order, with the rig's clock.
pub trait Observer {
    fn event(&mut self, now: Nanos, event: &RigEvent<'_>);
}

/// An observer that ignores everything.
impl Observer for () {
    fn event(&mut self, _now: Nanos, _event: &RigEvent<'_>) {}
}

/// Counts of what a rig did, for the closing line and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RigStats {
    pub datagrams_sent: u64,
    pub datagrams_received: u64,
    pub connections_accepted: u64,
    pub connections_dropped: u64,
    pub refused: u64,
}

impl RigStats {
    pub(super) fn count(&mut self, event: &RigEvent<'_>) {
        match event {
            RigEvent::Sent { .. } => self.datagrams_sent += 1,
            RigEvent::Received { .. } => self.datagrams_received += 1,
            RigEvent::Accepted { .. } => self.connections_accepted += 1,
            RigEvent::Closed { reason, .. } if reason.contains("does not read") => {
                self.connections_dropped += 1
            }
            RigEvent::Refused { .. } => self.refused += 1,
            _ => {}
        }
    }
}
