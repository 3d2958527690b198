//! The simulated transport: device models on virtual hosts, a virtual clock, datagrams carried
//! between them in-process (a broadcast reaches every other host), simulated TCP (handshake,
//! ACKs, MSS segmentation, FIN) below the message-level boundary, and every frame written to a
//! pcapng file as it would appear on the wire.
//!
//! * [`net`]: hosts and the Ethernet/IPv4/UDP/TCP frames (etherparse).
//! * [`wire`]: the time-ordered frame queue into pcapng, the scheduler, seeded jitter.
//! * [`Sim`]: the driver: deliver input, fire timers at `poll_at`, carry out outboxes, apply
//!   a scenario's timed commands.
//!
//! Timing of the wire: the datagrams of one device call leave [`SPACING`] apart (a real stack
//! serialises them), and reach their receivers [`LATENCY`] after they left. Both are fixed, so
//! a run is deterministic: the same devices and commands write the same bytes.

pub mod net;
pub mod wire;

#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::device::scenario::TimedCommand;
use crate::device::{
    ConnId, Destination, Device, HostAddress, Nanos, Note, Outbox, Output, StreamEvent, US,
};
use net::{Dir, HostId, Net, Raw, TcpFlow, To};
use wire::{Sched, Wire};

/// Gap between consecutive datagrams of one device call.
pub const SPACING: Nanos = 25 * US;
/// One-way delay from a frame on the wire to its delivery.
pub const LATENCY: Nanos = 50 * US;
/// Gap between the TCP segments of one write.
const SEGMENT_GAP: Nanos = 20 * US;

/// A device on its virtual host.
struct Node {
    device: Box<dyn Device + Send>,
    host: HostId,
    ip: Ipv4Addr,
    listens: Vec<u16>,
    /// Skip timers before this time (a device whose `poll_at` did not move after a timer).
    hold_until: Nanos,
}

/// A simulated TCP connection: both ends' ids and the frames' sequence numbers.
struct Conn {
    flow: TcpFlow,
    client: (usize, ConnId),
    server: (usize, ConnId),
    open: bool,
    /// Time of the last segment sent, so later writes follow it on the wire.
    busy_until: Nanos,
}

enum Event {
    Datagram {
        node: usize,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: Vec<u8>,
    },
    Stream {
        node: usize,
        conn: ConnId,
        event: OwnedEvent,
    },
    Command(usize),
    /// Scenario work outside the device models (`Sim::at_hook`).
    Hook(usize),
}

enum OwnedEvent {
    Accepted { local_port: u16, peer: SocketAddrV4 },
    Connected,
    Data(Vec<u8>),
    Closed,
}

/// The driver: devices, the network between them and the clock.
pub struct Sim<W: Write> {
    pub net: Net,
    pub wire: Wire<W>,
    nodes: Vec<Node>,
    conns: Vec<Conn>,
    sched: Sched<Event>,
    commands: Vec<TimedCommand>,
    next_accepted: u64,
    /// Notes of every device, with its label, in time order.
    pub notes: Vec<(String, Note)>,
    /// Commands a device had no control for: (time, device index, command name).
    pub refused: Vec<(Nanos, usize, &'static str)>,
    now: Nanos,
    outbox: Outbox,
}

impl<W: Write> Sim<W> {
    /// An empty network writing pcapng to `out`; `broadcast` is the subnet's broadcast
    /// address (169.254.255.255 for link-local hosts, 127.255.255.255 on loopback).
    pub fn new(out: W, broadcast: Ipv4Addr) -> io::Result<Self> {
        let mut net = Net::default();
        net.subnet_broadcast = Some(broadcast);
        Ok(Sim {
            net,
            wire: Wire::new(out, "eth0")?,
            nodes: Vec::new(),
            conns: Vec::new(),
            sched: Sched::default(),
            commands: Vec::new(),
            next_accepted: 1,
            notes: Vec::new(),
            refused: Vec::new(),
            now: Nanos::MIN,
            outbox: Outbox::new(),
        })
    }

    /// Put a device on its own host; returns its index (the scenario's device number).
    pub fn add(&mut self, device: Box<dyn Device + Send>) -> usize {
        let a: HostAddress = device.address();
        // Real decks count source ports up from a few thousand (UE §3.2, CAP).
        let first = 1024 + (a.mac[5] as u16) * 20;
        let host = self.net.add(&device.label(), a.mac, a.ip, (first, 65000));
        self.nodes.push(Node {
            device,
            host,
            ip: a.ip,
            listens: Vec::new(),
            hold_until: Nanos::MIN,
        });
        self.nodes.len() - 1
    }

    pub fn host_of(&self, node: usize) -> HostId {
        self.nodes[node].host
    }

    pub fn device(&self, node: usize) -> &dyn Device {
        self.nodes[node].device.as_ref()
    }

    pub fn device_mut(&mut self, node: usize) -> &mut (dyn Device + Send) {
        self.nodes[node].device.as_mut()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Give `commands` to the devices at their times.
    pub fn schedule(&mut self, commands: Vec<TimedCommand>) {
        for c in commands {
            let i = self.commands.len();
            self.sched.at(c.at, Event::Command(i));
            self.commands.push(c);
        }
    }

    /// Switch device `node` off at `now` the way its model leaves (a StageLinQ unit's EXIT and
    /// closed connections); meant for a [`Sim::run_with`] hook.
    pub fn shut_down(&mut self, node: usize, now: Nanos) {
        if node >= self.nodes.len() {
            return;
        }
        let mut out = std::mem::take(&mut self.outbox);
        self.nodes[node].device.shut_down(now, &mut out);
        self.carry_out(now, node, &mut out);
        self.outbox = out;
    }

    /// Call the hook of [`Sim::run_with`] with `id` at `at`.
    pub fn at_hook(&mut self, at: Nanos, id: usize) {
        self.sched.at(at, Event::Hook(id));
    }

    /// Run until the clock passes `end` (nothing at or after it happens).
    pub fn run(&mut self, end: Nanos) -> io::Result<()> {
        self.run_with(end, |_, _, _| {})
    }

    /// Run until `end`, calling `hook(self, now, id)` for every [`Sim::at_hook`].
    pub fn run_with(
        &mut self,
        end: Nanos,
        mut hook: impl FnMut(&mut Self, Nanos, usize),
    ) -> io::Result<()> {
        loop {
            let ev = self.sched.peek_time();
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.device.poll_at().map(|t| (t.max(n.hold_until), i)))
                .min();
            let t = match (ev, timer) {
                (None, None) => break,
                (Some(e), Some((d, _))) => e.min(d),
                (Some(e), None) => e,
                (None, Some((d, _))) => d,
            };
            if t >= end {
                break;
            }
            let t = t.max(self.now);
            self.now = t;
            self.wire.flush_through(t)?;
            match (ev, timer) {
                (Some(e), _) if e <= t => {
                    if let Some((_, event)) = self.sched.pop() {
                        self.handle(t, event, &mut hook);
                    }
                }
                (_, Some((_, i))) => {
                    let mut out = std::mem::take(&mut self.outbox);
                    self.nodes[i].device.on_timer(t, &mut out);
                    if self.nodes[i].device.poll_at().is_some_and(|p| p <= t) {
                        self.nodes[i].hold_until = t + 1;
                    }
                    self.carry_out(t, i, &mut out);
                    self.outbox = out;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Write what is still queued; returns the output, frames and bytes written.
    pub fn finish(self) -> io::Result<(W, u64, u64)> {
        self.wire.finish()
    }

    fn handle(&mut self, t: Nanos, event: Event, hook: &mut impl FnMut(&mut Self, Nanos, usize)) {
        let mut out = std::mem::take(&mut self.outbox);
        let node = match event {
            Event::Datagram {
                node,
                from,
                to,
                payload,
            } => {
                self.nodes[node]
                    .device
                    .on_datagram(t, from, to, &payload, &mut out);
                node
            }
            Event::Stream { node, conn, event } => {
                let e = match &event {
                    OwnedEvent::Accepted { local_port, peer } => StreamEvent::Accepted {
                        local_port: *local_port,
                        peer: *peer,
                    },
                    OwnedEvent::Connected => StreamEvent::Connected,
                    OwnedEvent::Data(d) => StreamEvent::Data(d),
                    OwnedEvent::Closed => StreamEvent::Closed,
                };
                self.nodes[node].device.on_stream(t, conn, e, &mut out);
                node
            }
            Event::Command(i) => {
                let c = self.commands[i].clone();
                let Some(n) = self.nodes.get_mut(c.device) else {
                    self.refused.push((t, c.device, c.command.name()));
                    self.outbox = out;
                    return;
                };
                if !n.device.command(t, &c.command, &mut out) {
                    self.refused.push((t, c.device, c.command.name()));
                }
                c.device
            }
            Event::Hook(id) => {
                self.outbox = out;
                hook(self, t, id);
                return;
            }
        };
        self.carry_out(t, node, &mut out);
        self.outbox = out;
    }

    /// Carry out what node `i` asked for at `t`.
    fn carry_out(&mut self, t: Nanos, i: usize, out: &mut Outbox) {
        let mut notes = Vec::new();
        self.nodes[i].device.take_notes(&mut notes);
        if !notes.is_empty() {
            let label = self.nodes[i].device.label();
            self.notes
                .extend(notes.into_iter().map(|n| (label.clone(), n)));
        }
        let mut k: Nanos = 0;
        for o in out.drain() {
            let ts = t + k * SPACING;
            match o {
                Output::Datagram {
                    from_port,
                    to,
                    payload,
                } => {
                    k += 1;
                    self.datagram(ts, i, from_port, to, payload);
                }
                Output::Listen { port } => {
                    if !self.nodes[i].listens.contains(&port) {
                        self.nodes[i].listens.push(port);
                    }
                }
                Output::Unlisten { port } => self.nodes[i].listens.retain(|p| *p != port),
                Output::Connect { conn, to } => {
                    k += 1;
                    self.connect(ts, i, conn, to);
                }
                Output::Write { conn, bytes } => {
                    k += 1;
                    self.write(ts, i, conn, &bytes);
                }
                Output::Close { conn } => {
                    k += 1;
                    self.close(ts, i, conn);
                }
            }
        }
    }

    fn datagram(&mut self, ts: Nanos, i: usize, from_port: u16, to: Destination, payload: Vec<u8>) {
        let host = self.nodes[i].host;
        let sport = if from_port == 0 {
            self.net.ephemeral_port(host)
        } else {
            from_port
        };
        let from = SocketAddrV4::new(self.nodes[i].ip, sport);
        let (to_host, dest, port) = match to {
            Destination::Unicast(a) => {
                let n = self.nodes.iter().position(|n| n.ip == *a.ip());
                (n, *a.ip(), a.port())
            }
            Destination::Broadcast(p) => (
                None,
                self.net
                    .subnet_broadcast
                    .unwrap_or(net::LINK_LOCAL_BROADCAST),
                p,
            ),
        };
        let target = match (to, to_host) {
            (Destination::Unicast(_), Some(n)) => To::Host(self.nodes[n].host),
            (Destination::Unicast(a), None) => {
                // A host the simulation does not model: nothing to deliver to, and no frame
                // (there is no MAC to address it with).
                let _ = a;
                return;
            }
            (Destination::Broadcast(_), _) => To::Subnet,
        };
        self.net.udp(
            &mut self.wire,
            ts,
            host,
            sport,
            target,
            port,
            &[&Raw(&payload)],
        );
        let to_addr = SocketAddrV4::new(dest, port);
        let receivers: Vec<usize> = match to {
            Destination::Unicast(_) => to_host.into_iter().collect(),
            Destination::Broadcast(_) => (0..self.nodes.len()).filter(|&n| n != i).collect(),
        };
        for node in receivers {
            self.sched.at(
                ts + LATENCY,
                Event::Datagram {
                    node,
                    from,
                    to: to_addr,
                    payload: payload.clone(),
                },
            );
        }
    }

    fn stream_event(&mut self, at: Nanos, node: usize, conn: ConnId, event: OwnedEvent) {
        self.sched.at(at, Event::Stream { node, conn, event });
    }

    fn connect(&mut self, ts: Nanos, i: usize, conn: ConnId, to: SocketAddrV4) {
        let server = self
            .nodes
            .iter()
            .position(|n| n.ip == *to.ip() && n.listens.contains(&to.port()));
        let Some(s) = server else {
            // Nobody listens: the connection fails (a real stack would see a RST).
            self.stream_event(ts + 2 * LATENCY, i, conn, OwnedEvent::Closed);
            return;
        };
        let isn = (
            0x1000_0000 ^ (conn.0 as u32).wrapping_mul(2_654_435_761),
            0x2000_0000 ^ (self.next_accepted as u32).wrapping_mul(2_246_822_519),
        );
        let (ch, sh) = (self.nodes[i].host, self.nodes[s].host);
        let mut flow = TcpFlow::new(&mut self.net, ch, sh, to.port(), isn);
        flow.connect(&self.net, &mut self.wire, ts, LATENCY);
        let accepted = ConnId(self.next_accepted);
        self.next_accepted += 1;
        let peer = SocketAddrV4::new(self.nodes[i].ip, flow.client_port);
        self.conns.push(Conn {
            flow,
            client: (i, conn),
            server: (s, accepted),
            open: true,
            busy_until: ts + 2 * LATENCY,
        });
        self.stream_event(
            ts + LATENCY,
            s,
            accepted,
            OwnedEvent::Accepted {
                local_port: to.port(),
                peer,
            },
        );
        self.stream_event(ts + 2 * LATENCY, i, conn, OwnedEvent::Connected);
    }

    /// The connection `conn` of node `i`, and which way its data goes.
    fn find(&self, i: usize, conn: ConnId) -> Option<(usize, Dir)> {
        self.conns
            .iter()
            .position(|c| c.open && (c.client == (i, conn) || c.server == (i, conn)))
            .map(|k| {
                let dir = if self.conns[k].client == (i, conn) {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                (k, dir)
            })
    }

    fn write(&mut self, ts: Nanos, i: usize, conn: ConnId, bytes: &[u8]) {
        let Some((k, dir)) = self.find(i, conn) else {
            return;
        };
        let c = &mut self.conns[k];
        let ts = ts.max(c.busy_until + SEGMENT_GAP);
        let last = c.flow.send(
            &mut self.net,
            &mut self.wire,
            ts,
            dir,
            &[&Raw(bytes)],
            SEGMENT_GAP,
        );
        c.busy_until = last + LATENCY;
        // The receiver acknowledges the last segment (a delayed ACK would do the same).
        c.flow
            .ack(&self.net, &mut self.wire, last + LATENCY, flip(dir));
        let (node, id) = match dir {
            Dir::ToServer => c.server,
            Dir::ToClient => c.client,
        };
        self.stream_event(last + LATENCY, node, id, OwnedEvent::Data(bytes.to_vec()));
    }

    fn close(&mut self, ts: Nanos, i: usize, conn: ConnId) {
        let Some((k, dir)) = self.find(i, conn) else {
            return;
        };
        let c = &mut self.conns[k];
        c.open = false;
        let ts = ts.max(c.busy_until + SEGMENT_GAP);
        c.flow.close(&self.net, &mut self.wire, ts, dir, LATENCY);
        let (node, id) = match dir {
            Dir::ToServer => c.server,
            Dir::ToClient => c.client,
        };
        self.stream_event(ts + LATENCY, node, id, OwnedEvent::Closed);
        self.conns.retain(|c| c.open);
    }
}

fn flip(d: Dir) -> Dir {
    match d {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    }
}
