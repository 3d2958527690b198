//! Device behaviour without I/O: the emulated players, mixers, all-in-one units, rekordbox and
//! StageLinQ units that `synth` scripts and `replay --as` runs on sockets.
//!
//! The shape (`../shared/docs/architecture.md`, "Three decisions"): a device model is a state
//! machine in the smoltcp / quinn-proto / rustls style. It never touches a socket or a clock.
//! Time comes in as a value ([`Nanos`]), input comes in through [`Device::on_datagram`] and
//! [`Device::on_stream`], and everything the device wants to send is pushed into an [`Outbox`].
//! The same model then runs under a virtual clock into a pcapng file (`transport::sim`, what
//! `synth` writes) and under the wall clock on real sockets (`transport::socket`), and every
//! behaviour can be unit-tested by calling the four methods with made-up times.
//!
//! The transport boundary is at message level: datagrams and byte streams. TCP handshakes and
//! ACKs live below it (simulated in `transport::sim`, the kernel's for sockets).
//!
//! * [`prodjlink`]: the Pro DJ Link models (players, mixers, rekordbox, OPUS-QUAD), their
//!   personas and number negotiation.
//! * [`library`] and [`dbserver`]: the demo library the players hold and the dbserver sessions
//!   that serve it.
//! * [`command`]: what a DJ does ([`Command`], given through [`Device::command`]).
//! * [`scenario`]: a role list turned into devices, and the default scenario's timed commands:
//!   all a transport needs to run an emulated rig.

pub mod dbserver;
pub mod library;

use std::net::{Ipv4Addr, SocketAddrV4};

pub mod command;
pub mod prodjlink;
pub mod roles;
pub mod scenario;
pub mod stagelinq;

pub use command::Command;

/// Time as nanoseconds since an epoch the transport chooses (the capture's start for the
/// simulated transport, the process start for sockets). Signed and wide like the capture
/// timestamps the read side uses, so differences never overflow.
pub type Nanos = i128;

pub const US: Nanos = 1_000;
pub const MS: Nanos = 1_000_000;
pub const SECOND: Nanos = 1_000_000_000;

/// A TCP connection, named by the transport (accepted) or by the device (connecting).
/// Numbers a device picks for its own connects have the top bit set, so they never meet the
/// numbers a transport gives accepted connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl ConnId {
    pub const DEVICE_PICKED: u64 = 1 << 63;
}

/// Where a datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// One host.
    Unicast(SocketAddrV4),
    /// Every host of the device's network on this port (the transport picks the address:
    /// 127.255.255.255 on loopback, the subnet's broadcast on an interface).
    Broadcast(u16),
}

/// What a device asks its transport to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `payload` from the device's own address and `from_port`; `from_port` 0 means any
    /// ephemeral port the transport picks (real decks send status and beats from ever new
    /// source ports, `prodjlink.md` 4).
    Datagram {
        from_port: u16,
        to: Destination,
        payload: Vec<u8>,
    },
    /// Accept TCP connections on the device's own address and `port` (reported as
    /// [`StreamEvent::Accepted`]).
    Listen { port: u16 },
    /// Stop accepting on `port` (connections already open stay).
    Unlisten { port: u16 },
    /// Open a TCP connection to `to`; [`StreamEvent::Connected`] or [`StreamEvent::Closed`]
    /// follows.
    Connect { conn: ConnId, to: SocketAddrV4 },
    /// Write bytes on an open connection, in order.
    Write { conn: ConnId, bytes: Vec<u8> },
    /// Close a connection after what was written so far.
    Close { conn: ConnId },
}

/// Everything a device wants to send, in the order it asked.
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<Output>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, output: Output) {
        self.items.push(output);
    }

    pub fn datagram(&mut self, from_port: u16, to: Destination, payload: Vec<u8>) {
        self.push(Output::Datagram {
            from_port,
            to,
            payload,
        });
    }

    pub fn write(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.push(Output::Write { conn, bytes });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Output> {
        self.items.iter()
    }

    /// Take everything queued so far, leaving the outbox empty (and its allocation in place).
    pub fn drain(&mut self) -> std::vec::Drain<'_, Output> {
        self.items.drain(..)
    }
}

/// What happened on a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// A peer connected to a port the device listens on.
    Accepted { local_port: u16, peer: SocketAddrV4 },
    /// A connection the device asked for is open.
    Connected,
    /// Bytes arrived, in order.
    Data(&'a [u8]),
    /// The peer closed, the connection failed, or the transport gave up on it.
    Closed,
}

/// Something notable a device did or saw (peer joined, number taken, query answered), for
/// the one log line per exchange a transport prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub at: Nanos,
    pub text: String,
}

/// Where a device lives on its network: what it puts in keep-alives and claims
/// (`prodjlink.md` 2), what StageLinQ announcements carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostAddress {
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
}

/// A device model: a state machine without I/O.
///
/// The driver (simulated or real) loops: deliver input as it arrives, call [`on_timer`] when
/// the clock passes [`poll_at`], and carry out what the outbox holds after every call.
///
/// [`on_timer`]: Device::on_timer
/// [`poll_at`]: Device::poll_at
pub trait Device {
    /// A short name for logs (`"CDJ-3000 #2"`).
    fn label(&self) -> String;

    /// The device's own address.
    fn address(&self) -> HostAddress;

    /// The earliest time at which [`Device::on_timer`] has work to do, if any.
    fn poll_at(&self) -> Option<Nanos>;

    /// Do the work that is due at `now` (keep-alives, status rounds, beats, expiries).
    fn on_timer(&mut self, now: Nanos, out: &mut Outbox);

    /// A UDP datagram reached the device (`to` is its own address or a broadcast).
    fn on_datagram(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
        out: &mut Outbox,
    );

    /// Something happened on one of the device's TCP connections.
    fn on_stream(&mut self, now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox);

    /// Do what a DJ (or a scenario) asks: load, play, faders... Returns false when the model
    /// has no such control (a mixer asked to play), so a scenario can say so; the device
    /// state is then unchanged. Default: no controls.
    fn command(&mut self, _now: Nanos, _command: &Command, _out: &mut Outbox) -> bool {
        false
    }

    /// Move the notes gathered since the last call into `into` (default: none kept).
    fn take_notes(&mut self, _into: &mut Vec<Note>) {}

    /// Leave the network the way the model does when switched off (StageLinQ sends EXIT; Pro
    /// DJ Link devices just fall silent). Default: nothing to send.
    fn shut_down(&mut self, _now: Nanos, _out: &mut Outbox) {}
}
