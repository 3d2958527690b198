//! Devices on real sockets with the wall clock: the transport `djdissect replay --as` runs.
//!
//! A [`Rig`] holds a set of [`Device`]s, each on its own address of one [`Network`]
//! (127.0.0.N on loopback by default), and carries out what they put in their outboxes with
//! the kernel's UDP and TCP. One thread, one `mio` poll loop: the loop sleeps until the
//! earliest `poll_at` of any device or until a socket is ready, so timing comes from the
//! devices' own deadlines measured against one `Instant`, never from sleep loops that drift.
//!
//! Why mio and socket2: the devices are single-threaded state machines (`architecture.md`,
//! decision 1), so a readiness loop that calls them directly is the whole runtime; an async
//! runtime would add tasks and channels only to funnel everything back to one place. socket2
//! sets what std cannot before binding (SO_REUSEADDR, SO_BROADCAST, a bound source for
//! connects).
//!
//! Every datagram goes through the kernel, including those between the rig's own devices, so
//! a capture on the interface sees the whole conversation and a device's broadcast reaches the
//! rig's other devices the way a real network loops it (see `udp.rs` for the sockets that make
//! that work).

mod events;
mod network;
mod streams;
mod tcp;
mod udp;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::device::{
    Command, ConnId, Destination, Device, Nanos, Note, Outbox, Output, StreamEvent,
};

pub use events::{Observer, RigEvent, RigStats};
pub use network::{enter_netns, in_initial_netns, Network, NetworkError};
pub use tcp::TcpLimits;

const WAKER: Token = Token(0);
/// Reads per socket per loop turn before the others get a turn (a flooding peer must not
/// starve a well-behaved one); what is left is read on the next turn without sleeping.
const UDP_READS_PER_TURN: usize = 64;
const TCP_READS_PER_TURN: usize = 8;
const ACCEPTS_PER_TURN: usize = 16;
const TCP_READ_CHUNK: usize = 64 << 10;

/// What a token stands for.
#[derive(Debug, Clone, Copy)]
enum Source {
    Waker,
    DeviceUdp { device: usize, port: u16 },
    BroadcastUdp { index: usize },
    Listener { device: usize, port: u16 },
    Conn { device: usize, id: ConnId },
}

struct Member {
    device: Box<dyn Device>,
    ip: Ipv4Addr,
    /// Ports the device receives on (broadcasts to them are handed to it).
    udp_ports: Vec<u16>,
    /// Its sockets by local port (0: the ephemeral one used when a port cannot be bound).
    udp: Vec<(u16, UdpSocket)>,
    listeners: Vec<(u16, TcpListener, Token)>,
}

/// Stops a running rig from another thread (a Ctrl-C handler, a test).
#[derive(Clone)]
pub struct Stopper {
    flag: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Stopper {
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}

/// A set of devices on one network, run by the wall clock.
pub struct Rig {
    poll: Poll,
    network: Network,
    members: Vec<Member>,
    broadcast: Vec<(u16, Ipv4Addr, UdpSocket)>,
    sources: HashMap<Token, Source>,
    next_token: usize,
    conns: HashMap<(usize, ConnId), (tcp::Conn, Token)>,
    /// Unsent bytes of all connections together (the rig-wide bound), kept as connections
    /// queue, flush and close rather than summed over every connection at each write.
    buffered: usize,
    next_accepted: u64,
    limits: TcpLimits,
    again: Vec<Token>,
    closed: VecDeque<(usize, ConnId, &'static str)>,
    outbox: Outbox,
    notes: Vec<Note>,
    /// What the DJ does, by time (ascending): a scenario's commands.
    commands: VecDeque<(Nanos, usize, Command)>,
    buf: Vec<u8>,
    epoch: Instant,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    observer: Box<dyn Observer>,
    stats: RigStats,
}

impl Rig {
    pub fn new(network: Network) -> io::Result<Rig> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut sources = HashMap::new();
        sources.insert(WAKER, Source::Waker);
        Ok(Rig {
            poll,
            network,
            members: Vec::new(),
            broadcast: Vec::new(),
            sources,
            next_token: 1,
            conns: HashMap::new(),
            buffered: 0,
            next_accepted: 1,
            limits: TcpLimits::default(),
            again: Vec::new(),
            closed: VecDeque::new(),
            outbox: Outbox::new(),
            notes: Vec::new(),
            commands: VecDeque::new(),
            buf: vec![0; udp::MAX_DATAGRAM],
            epoch: Instant::now(),
            stop: Arc::new(AtomicBool::new(false)),
            waker,
            observer: Box::new(()),
            stats: RigStats::default(),
        })
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn set_limits(&mut self, limits: TcpLimits) {
        self.limits = limits;
    }

    pub fn set_observer(&mut self, observer: Box<dyn Observer>) {
        self.observer = observer;
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            flag: self.stop.clone(),
            waker: self.waker.clone(),
        }
    }

    /// The rig's clock: nanoseconds since the rig was made.
    pub fn now(&self) -> Nanos {
        self.epoch.elapsed().as_nanos() as Nanos
    }

    pub fn devices(&self) -> impl Iterator<Item = &dyn Device> {
        self.members.iter().map(|m| m.device.as_ref())
    }

    /// Add a device that receives datagrams on `udp_ports` of its own address (and the
    /// broadcasts to them). Returns its index in events. Fails when a port cannot be bound:
    /// most often another Pro DJ Link program holding 0.0.0.0:5000x without SO_REUSEADDR in
    /// this namespace (prolink-connect does, `clients.md` 3.1).
    pub fn add(&mut self, device: Box<dyn Device>, udp_ports: &[u16]) -> io::Result<usize> {
        let index = self.members.len();
        let ip = device.address().ip;
        let mut udp = Vec::new();
        for &port in udp_ports {
            let mut socket = udp::bind(ip, port).map_err(|e| bind_error(e, ip, port))?;
            let token = self.token(Source::DeviceUdp {
                device: index,
                port,
            });
            self.poll
                .registry()
                .register(&mut socket, token, Interest::READABLE)?;
            udp.push((port, socket));
            self.listen_broadcast(port)?;
        }
        self.members.push(Member {
            device,
            ip,
            udp_ports: udp_ports.to_vec(),
            udp,
            listeners: Vec::new(),
        });
        Ok(index)
    }

    /// The broadcast receivers for `port`: the network's broadcast address, and on a real
    /// interface also the limited broadcast 255.255.255.255 that some gear uses.
    fn listen_broadcast(&mut self, port: u16) -> io::Result<()> {
        let mut addrs = vec![self.network.broadcast];
        if !self.network.is_loopback() && self.network.broadcast != Ipv4Addr::BROADCAST {
            addrs.push(Ipv4Addr::BROADCAST);
        }
        for addr in addrs {
            if self
                .broadcast
                .iter()
                .any(|(p, a, _)| *p == port && *a == addr)
            {
                continue;
            }
            let mut socket = udp::bind(addr, port).map_err(|e| bind_error(e, addr, port))?;
            let token = self.token(Source::BroadcastUdp {
                index: self.broadcast.len(),
            });
            self.poll
                .registry()
                .register(&mut socket, token, Interest::READABLE)?;
            self.broadcast.push((port, addr, socket));
        }
        Ok(())
    }

    /// Give device `device` `command` at `at` on the rig's clock (a scenario's steps).
    pub fn schedule(&mut self, at: Nanos, device: usize, command: Command) {
        let i = self.commands.partition_point(|(t, _, _)| *t <= at);
        self.commands.insert(i, (at, device, command));
    }

    fn token(&mut self, source: Source) -> Token {
        let token = Token(self.next_token);
        self.next_token += 1;
        self.sources.insert(token, source);
        token
    }

    /// Run until `duration` has passed (None: until stopped), then let every device leave the
    /// network the way it does when switched off.
    pub fn run(&mut self, duration: Option<Duration>) -> io::Result<RigStats> {
        let end = duration.map(|d| Instant::now() + d);
        let mut events = Events::with_capacity(256);
        let mut ready = Vec::new();
        loop {
            if self.stop.load(Ordering::SeqCst) || end.is_some_and(|e| Instant::now() >= e) {
                break;
            }
            self.run_timers();
            let timeout = self.timeout(end);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            ready.clear();
            ready.extend(events.iter().map(|e| {
                (
                    e.token(),
                    e.is_readable() || e.is_read_closed(),
                    e.is_writable(),
                )
            }));
            ready.extend(self.again.drain(..).map(|t| (t, true, false)));
            for &(token, readable, writable) in &ready {
                self.handle(token, readable, writable);
                self.deliver_closed();
            }
        }
        self.shut_down();
        Ok(self.stats)
    }

    /// How long the loop may sleep: until the earliest device deadline or the end of the run.
    fn timeout(&self, end: Option<Instant>) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        let now = self.now();
        let next = self
            .members
            .iter()
            .filter_map(|m| m.device.poll_at())
            .chain(self.commands.front().map(|(at, _, _)| *at))
            .min()
            .map(|at| Duration::from_nanos((at - now).clamp(0, u64::MAX as Nanos) as u64));
        let until_end = end.map(|e| e.saturating_duration_since(Instant::now()));
        match (next, until_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Each device whose deadline has passed does its work once per loop turn (a device that
    /// keeps asking for the past cannot lock the loop: the next turn polls without sleeping).
    fn run_timers(&mut self) {
        let now = self.now();
        while self.commands.front().is_some_and(|(at, _, _)| *at <= now) {
            let Some((_, device, command)) = self.commands.pop_front() else {
                break;
            };
            if device >= self.members.len() {
                continue;
            }
            let mut out = std::mem::take(&mut self.outbox);
            let done = self.members[device].device.command(now, &command, &mut out);
            self.emit(RigEvent::Command {
                device,
                command: &command,
                done,
            });
            self.carry_out(device, &mut out);
            self.outbox = out;
        }
        for i in 0..self.members.len() {
            if self.members[i].device.poll_at().is_some_and(|at| at <= now) {
                let mut out = std::mem::take(&mut self.outbox);
                self.members[i].device.on_timer(now, &mut out);
                self.carry_out(i, &mut out);
                self.outbox = out;
            }
        }
        self.deliver_closed();
    }

    fn handle(&mut self, token: Token, readable: bool, writable: bool) {
        let Some(&source) = self.sources.get(&token) else {
            return; // a connection closed earlier in this turn
        };
        match source {
            Source::Waker => {}
            Source::DeviceUdp { device, port } => self.read_udp(token, Some((device, port)), 0),
            Source::BroadcastUdp { index } => self.read_udp(token, None, index),
            Source::Listener { device, port } => self.accept(device, port),
            Source::Conn { device, id } => {
                if writable {
                    self.on_writable(device, id);
                }
                if readable {
                    self.on_readable(token, device, id);
                }
            }
        }
    }

    fn emit(&mut self, event: RigEvent<'_>) {
        self.stats.count(&event);
        let now = self.now();
        self.observer.event(now, &event);
    }

    fn refuse(&mut self, device: Option<usize>, what: String) {
        self.emit(RigEvent::Refused {
            device,
            what: &what,
        });
    }

    /// Read what waits on a UDP socket: a device's own (`target`) or a broadcast receiver.
    fn read_udp(&mut self, token: Token, target: Option<(usize, u16)>, bcast: usize) {
        let mut buf = std::mem::take(&mut self.buf);
        for turn in 0..UDP_READS_PER_TURN {
            let socket = match target {
                Some((d, port)) => self.members[d]
                    .udp
                    .iter()
                    .find(|(p, _)| *p == port)
                    .map(|(_, s)| s),
                None => self.broadcast.get(bcast).map(|(_, _, s)| s),
            };
            let Some(socket) = socket else { break };
            let (n, from) = match udp::recv(socket, &mut buf) {
                Ok(Some(got)) => got,
                Ok(None) => break,
                // ICMP errors of earlier sends (a peer gone) surface here; the socket is fine.
                Err(_) => continue,
            };
            let payload = &buf[..n];
            match target {
                Some((device, port)) => {
                    let to = SocketAddrV4::new(self.members[device].ip, port);
                    self.deliver_datagram(device, from, to, payload);
                }
                None => {
                    let (port, addr, _) = &self.broadcast[bcast];
                    let (port, to) = (*port, SocketAddrV4::new(*addr, *port));
                    for device in 0..self.members.len() {
                        let m = &self.members[device];
                        if m.ip != *from.ip() && m.udp_ports.contains(&port) {
                            self.deliver_datagram(device, from, to, payload);
                        }
                    }
                }
            }
            if turn + 1 == UDP_READS_PER_TURN {
                self.again.push(token);
            }
        }
        self.buf = buf;
    }

    fn deliver_datagram(
        &mut self,
        device: usize,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
    ) {
        self.emit(RigEvent::Received {
            device,
            from,
            to,
            payload,
        });
        let now = self.now();
        let mut out = std::mem::take(&mut self.outbox);
        self.members[device]
            .device
            .on_datagram(now, from, to, payload, &mut out);
        self.carry_out(device, &mut out);
        self.outbox = out;
    }

    fn deliver_stream(&mut self, device: usize, id: ConnId, event: StreamEvent<'_>) {
        let now = self.now();
        let mut out = std::mem::take(&mut self.outbox);
        self.members[device]
            .device
            .on_stream(now, id, event, &mut out);
        self.carry_out(device, &mut out);
        self.outbox = out;
    }

    /// Tell devices about connections that ended while their outputs were carried out (done
    /// after the fact so a device is never called from inside its own call).
    fn deliver_closed(&mut self) {
        while let Some((device, id, reason)) = self.closed.pop_front() {
            self.emit(RigEvent::Closed {
                device,
                conn: id,
                reason,
            });
            self.deliver_stream(device, id, StreamEvent::Closed);
        }
    }

    /// Carry out what a device asked for, in order, after reporting what it noted.
    fn carry_out(&mut self, device: usize, out: &mut Outbox) {
        self.members[device].device.take_notes(&mut self.notes);
        for note in std::mem::take(&mut self.notes) {
            self.emit(RigEvent::Note {
                device,
                at: note.at,
                text: &note.text,
            });
        }
        for item in out.drain() {
            match item {
                Output::Datagram {
                    from_port,
                    to,
                    payload,
                } => self.send_datagram(device, from_port, to, &payload),
                Output::Listen { port } => self.listen(device, port),
                Output::Unlisten { port } => self.unlisten(device, port),
                Output::Connect { conn, to } => self.connect(device, conn, to),
                Output::Write { conn, bytes } => self.write(device, conn, &bytes),
                Output::Close { conn } => self.close(device, conn),
            }
        }
    }

    fn send_datagram(&mut self, device: usize, from_port: u16, to: Destination, payload: &[u8]) {
        let to = match to {
            Destination::Unicast(addr) => addr,
            Destination::Broadcast(port) => SocketAddrV4::new(self.network.broadcast, port),
        };
        if !self.network.may_send_to(*to.ip()) {
            let what = format!("datagram to {to}: outside the rig's network, not sent");
            return self.refuse(Some(device), what);
        }
        let Some(slot) = self.udp_socket(device, from_port) else {
            return;
        };
        let m = &self.members[device];
        let (local_port, socket) = &m.udp[slot];
        let from = SocketAddrV4::new(m.ip, *local_port);
        match socket.send_to(payload, SocketAddr::V4(to)) {
            Ok(_) => self.emit(RigEvent::Sent {
                device,
                from,
                to,
                payload,
            }),
            Err(e) => self.refuse(Some(device), format!("datagram from {from} to {to}: {e}")),
        }
    }

    /// The device's socket on `port`, bound on first use. When the port cannot be bound (held
    /// by another program without SO_REUSEADDR) the device sends from an ephemeral port
    /// instead, says so once, and keeps using that socket for `port`.
    fn udp_socket(&mut self, device: usize, port: u16) -> Option<usize> {
        let m = &self.members[device];
        if let Some(i) = m.udp.iter().position(|(p, _)| *p == port) {
            return Some(i);
        }
        let ip = m.ip;
        let mut socket = match udp::bind(ip, port) {
            Ok(socket) => socket,
            Err(e) => {
                let e = bind_error(e, ip, port);
                match udp::bind(ip, 0) {
                    Ok(socket) if port != 0 => {
                        self.refuse(Some(device), format!("{e}; sending from an ephemeral port"));
                        socket
                    }
                    _ => {
                        self.refuse(Some(device), e.to_string());
                        return None;
                    }
                }
            }
        };
        let token = self.token(Source::DeviceUdp { device, port });
        let _ = self
            .poll
            .registry()
            .register(&mut socket, token, Interest::READABLE);
        let m = &mut self.members[device];
        m.udp.push((port, socket));
        Some(m.udp.len() - 1)
    }

    /// Every device leaves the network the way its model does when switched off; what that
    /// sends is sent, then every connection is closed.
    fn shut_down(&mut self) {
        let now = self.now();
        for i in 0..self.members.len() {
            let mut out = std::mem::take(&mut self.outbox);
            self.members[i].device.shut_down(now, &mut out);
            self.carry_out(i, &mut out);
            self.outbox = out;
        }
        let keys: Vec<_> = self.conns.keys().copied().collect();
        for (device, id) in keys {
            if let Some((conn, _)) = self.conns.get_mut(&(device, id)) {
                let before = conn.pending();
                let _ = conn.flush();
                self.buffered -= before - conn.pending();
            }
            self.remove_conn(device, id);
        }
        self.closed.clear();
    }
}

fn bind_error(e: io::Error, ip: Ipv4Addr, port: u16) -> io::Error {
    let hint = if e.kind() == io::ErrorKind::AddrInUse {
        " (another program holds the port without SO_REUSEADDR, as prolink-connect does with \
         0.0.0.0:50000-50002; run it in another network namespace)"
    } else if e.kind() == io::ErrorKind::AddrNotAvailable {
        " (the address is not on any interface of this namespace)"
    } else {
        ""
    };
    io::Error::new(e.kind(), format!("cannot bind {ip}:{port}: {e}{hint}"))
}

#[cfg(test)]
mod tests;
