//! The virtual network: hosts with MAC and IPv4 addresses, and the frames they send.
//!
//! Every frame is built with etherparse's `PacketBuilder` (Ethernet II / IPv4 / UDP or TCP)
//! around a payload that the project's own Reprs emitted ([`Payload`]), so the synthesiser sends
//! exactly what the dissector reads. TCP flows keep real sequence and acknowledgement numbers
//! through the handshake, data (cut at the MSS) and the FIN exchange.

use std::io::Write;
use std::net::Ipv4Addr;

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, ArpPacket, IpFragOffset, IpNumber, Ipv4Header, PacketBuilder,
    TcpOptionElement,
};

use super::wire::Wire;

/// Anything the project can emit as a UDP or TCP payload: its Reprs' `buffer_len` and `emit`.
pub trait Payload {
    fn payload_len(&self) -> usize;
    fn emit_payload(&self, buf: &mut [u8]);
}

macro_rules! payload {
    ($($t:ty),* $(,)?) => {$(
        impl Payload for $t {
            fn payload_len(&self) -> usize {
                self.buffer_len()
            }
            fn emit_payload(&self, buf: &mut [u8]) {
                self.emit(buf)
            }
        }
    )*};
}

use crate::{dbserver, prodjlink as pdl, stagelinq as slq};
payload!(
    pdl::Hello,
    pdl::ClaimMac,
    pdl::ClaimIp,
    pdl::ClaimFinal,
    pdl::KeepAlive,
    pdl::CdjStatus,
    pdl::MixerStatus,
    pdl::Beat,
    pdl::PrecisePosition,
    pdl::ChannelsOnAir,
    pdl::MasterHandoffRequest,
    pdl::MasterHandoffResponse,
    pdl::Packet,
    dbserver::Message,
    dbserver::Greeting,
    dbserver::PortQuery,
    dbserver::PortAnswer,
    slq::Message,
    slq::discovery::Discovery,
    slq::directory::DirectoryMessage,
    slq::directory::ServiceAnnouncement,
    slq::statemap::StateMapMessage,
    slq::beatinfo::BeatInfoMessage,
);

/// Bytes that belong to no project protocol (the unrelated traffic of the long scenario).
pub struct Raw<'a>(pub &'a [u8]);

impl Payload for Raw<'_> {
    fn payload_len(&self) -> usize {
        self.0.len()
    }
    fn emit_payload(&self, buf: &mut [u8]) {
        buf.copy_from_slice(self.0)
    }
}

pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// The directed broadcast of the link-local network every device here lives on.
pub const LINK_LOCAL_BROADCAST: Ipv4Addr = Ipv4Addr::new(169, 254, 255, 255);
const TTL: u8 = 64;
/// Ethernet MTU 1500 minus IPv4 and TCP headers.
pub const MSS: usize = 1460;
const WINDOW: u16 = 0x7210;

/// Index of a host in [`Net::hosts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub usize);

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    /// Next ephemeral source port.
    next_port: u16,
    port_range: (u16, u16),
}

/// Where a datagram goes.
#[derive(Debug, Clone, Copy)]
pub enum To {
    Host(HostId),
    /// 169.254.255.255 (Pro DJ Link broadcasts, the X1800's discovery).
    Subnet,
    /// 255.255.255.255 (StageLinQ player discovery).
    Limited,
    /// A multicast group (mDNS).
    Multicast(Ipv4Addr),
}

#[derive(Debug, Default)]
pub struct Net {
    pub hosts: Vec<Host>,
    scratch: Vec<u8>,
    /// The subnet's broadcast address ([`To::Subnet`]); None: 169.254.255.255.
    pub subnet_broadcast: Option<Ipv4Addr>,
}

impl Net {
    /// Add a host whose ephemeral ports count up from `first_port` and wrap inside
    /// `first_port..last_port`.
    pub fn add(&mut self, name: &str, mac: [u8; 6], ip: Ipv4Addr, ports: (u16, u16)) -> HostId {
        self.hosts.push(Host {
            name: name.to_string(),
            mac,
            ip,
            next_port: ports.0,
            port_range: ports,
        });
        HostId(self.hosts.len() - 1)
    }

    pub fn host(&self, h: HostId) -> &Host {
        &self.hosts[h.0]
    }

    /// The next ephemeral port of `h` (real decks send each status from a new port, UE §3.2).
    pub fn ephemeral_port(&mut self, h: HostId) -> u16 {
        let host = &mut self.hosts[h.0];
        let p = host.next_port;
        host.next_port = if p + 1 >= host.port_range.1 {
            host.port_range.0
        } else {
            p + 1
        };
        p
    }

    fn dest(&self, to: To) -> ([u8; 6], Ipv4Addr) {
        match to {
            To::Host(h) => (self.hosts[h.0].mac, self.hosts[h.0].ip),
            To::Subnet => (
                BROADCAST_MAC,
                self.subnet_broadcast.unwrap_or(LINK_LOCAL_BROADCAST),
            ),
            To::Limited => (BROADCAST_MAC, Ipv4Addr::BROADCAST),
            To::Multicast(ip) => {
                let o = ip.octets();
                ([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]], ip)
            }
        }
    }

    /// Lay `parts` end to end in the scratch buffer.
    fn assemble(&mut self, parts: &[&dyn Payload]) {
        let len = parts.iter().map(|p| p.payload_len()).sum();
        self.scratch.clear();
        self.scratch.resize(len, 0);
        let mut at = 0;
        for p in parts {
            let n = p.payload_len();
            p.emit_payload(&mut self.scratch[at..at + n]);
            at += n;
        }
    }

    /// One UDP datagram carrying `parts` back to back.
    #[allow(clippy::too_many_arguments)]
    pub fn udp<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        ts_ns: i128,
        from: HostId,
        sport: u16,
        to: To,
        dport: u16,
        parts: &[&dyn Payload],
    ) {
        self.assemble(parts);
        let src = &self.hosts[from.0];
        let (dmac, dip) = self.dest(to);
        let frame = wire.frame(ts_ns, true);
        // Writing into a Vec cannot fail, and every payload here is far below 64 KiB.
        let _ = PacketBuilder::ethernet2(src.mac, dmac)
            .ipv4(src.ip.octets(), dip.octets(), TTL)
            .udp(sport, dport)
            .write(frame, &self.scratch);
    }

    /// A UDP datagram too big for one frame, sent as IPv4 fragments of at most 1480 bytes
    /// (an NFS read reply: real decks read 8 KiB at a time, prodjlink.md 8).
    #[allow(clippy::too_many_arguments)]
    pub fn udp_fragmented<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        ts_ns: i128,
        from: HostId,
        sport: u16,
        to: HostId,
        dport: u16,
        payload: &[u8],
        ip_id: u16,
        gap_ns: i128,
    ) {
        // The whole datagram (UDP header + payload) built once, then cut into fragments.
        let (smac, sip) = (self.hosts[from.0].mac, self.hosts[from.0].ip);
        let (dmac, dip) = (self.hosts[to.0].mac, self.hosts[to.0].ip);
        self.scratch.clear();
        let _ = PacketBuilder::ipv4(sip.octets(), dip.octets(), TTL)
            .udp(sport, dport)
            .write(&mut self.scratch, payload);
        let datagram = &self.scratch[20..];
        const CHUNK: usize = 1480;
        let mut offset = 0;
        let mut ts = ts_ns;
        while offset < datagram.len() {
            let end = (offset + CHUNK).min(datagram.len());
            let piece = &datagram[offset..end];
            let Ok(mut ip) = Ipv4Header::new(
                piece.len() as u16,
                TTL,
                IpNumber::UDP,
                sip.octets(),
                dip.octets(),
            ) else {
                return;
            };
            ip.identification = ip_id;
            ip.dont_fragment = false;
            ip.more_fragments = end < datagram.len();
            ip.fragment_offset = IpFragOffset::try_new((offset / 8) as u16).unwrap_or_default();
            ip.header_checksum = ip.calc_header_checksum();
            let frame = wire.frame(ts, false);
            frame.extend_from_slice(&dmac);
            frame.extend_from_slice(&smac);
            frame.extend_from_slice(&[0x08, 0x00]);
            let _ = ip.write(frame);
            frame.extend_from_slice(piece);
            offset = end;
            ts += gap_ns;
        }
    }

    /// An ARP request (who has `target`?) or reply.
    pub fn arp<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        ts_ns: i128,
        from: HostId,
        target_ip: Ipv4Addr,
        reply_to: Option<HostId>,
    ) {
        let src = &self.hosts[from.0];
        let (operation, dmac, target_mac) = match reply_to {
            Some(h) => (
                ArpOperation::REPLY,
                self.hosts[h.0].mac,
                self.hosts[h.0].mac,
            ),
            None => (ArpOperation::REQUEST, BROADCAST_MAC, [0; 6]),
        };
        let arp: ArpPacket = ArpEthIpv4Packet {
            operation,
            sender_mac: src.mac,
            sender_ipv4: src.ip.octets(),
            target_mac,
            target_ipv4: target_ip.octets(),
        }
        .into();
        let frame = wire.frame(ts_ns, false);
        let _ = PacketBuilder::ethernet2(src.mac, dmac)
            .arp(arp)
            .write(frame);
    }
}

/// Which way a TCP segment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

/// One TCP connection with its sequence numbers.
#[derive(Debug, Clone)]
pub struct TcpFlow {
    pub client: HostId,
    pub server: HostId,
    pub client_port: u16,
    pub server_port: u16,
    /// Next sequence number each side sends: [client, server].
    next_seq: [u32; 2],
}

impl TcpFlow {
    /// A connection from an ephemeral port of `client` to `server_port`; initial sequence
    /// numbers come from `isn` (client, server).
    pub fn new(
        net: &mut Net,
        client: HostId,
        server: HostId,
        server_port: u16,
        isn: (u32, u32),
    ) -> Self {
        TcpFlow {
            client,
            server,
            client_port: net.ephemeral_port(client),
            server_port,
            next_seq: [isn.0, isn.1],
        }
    }

    fn side(dir: Dir) -> (usize, usize) {
        match dir {
            Dir::ToServer => (0, 1),
            Dir::ToClient => (1, 0),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn segment<W: Write>(
        &self,
        net: &Net,
        wire: &mut Wire<W>,
        ts_ns: i128,
        dir: Dir,
        seq: u32,
        flags: Flags,
        payload: &[u8],
    ) {
        let (from, to, sport, dport) = match dir {
            Dir::ToServer => (self.client, self.server, self.client_port, self.server_port),
            Dir::ToClient => (self.server, self.client, self.server_port, self.client_port),
        };
        let (a, b) = (&net.hosts[from.0], &net.hosts[to.0]);
        let (_, other) = Self::side(dir);
        let mut tcp = PacketBuilder::ethernet2(a.mac, b.mac)
            .ipv4(a.ip.octets(), b.ip.octets(), TTL)
            .tcp(sport, dport, seq, WINDOW);
        if flags.syn {
            tcp = tcp.syn();
            // Real decks announce an MSS of 1460 on SYN and SYN-ACK (CAP LinkInfo).
            tcp = match tcp.options(&[TcpOptionElement::MaximumSegmentSize(MSS as u16)]) {
                Ok(t) => t,
                Err(_) => unreachable!("one MSS option always fits"),
            };
        }
        if flags.ack {
            tcp = tcp.ack(self.next_seq[other]);
        }
        if flags.psh {
            tcp = tcp.psh();
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        let frame = wire.frame(ts_ns, true);
        let _ = tcp.write(frame, payload);
    }

    /// SYN, SYN-ACK, ACK at `ts_ns`, +`rtt`, +2 `rtt`.
    pub fn connect<W: Write>(&mut self, net: &Net, wire: &mut Wire<W>, ts_ns: i128, rtt: i128) {
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        self.segment(net, wire, ts_ns, Dir::ToServer, self.next_seq[0], syn, &[]);
        self.next_seq[0] = self.next_seq[0].wrapping_add(1);
        let syn_ack = Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        };
        self.segment(
            net,
            wire,
            ts_ns + rtt,
            Dir::ToClient,
            self.next_seq[1],
            syn_ack,
            &[],
        );
        self.next_seq[1] = self.next_seq[1].wrapping_add(1);
        self.ack(net, wire, ts_ns + 2 * rtt, Dir::ToServer);
    }

    /// Send `parts` back to back from one side, cut into MSS-sized segments `gap` apart.
    /// Returns the time of the last segment.
    #[allow(clippy::too_many_arguments)]
    pub fn send<W: Write>(
        &mut self,
        net: &mut Net,
        wire: &mut Wire<W>,
        ts_ns: i128,
        dir: Dir,
        parts: &[&dyn Payload],
        gap: i128,
    ) -> i128 {
        net.assemble(parts);
        let data = std::mem::take(&mut net.scratch);
        let (me, _) = Self::side(dir);
        let mut ts = ts_ns;
        for (i, chunk) in data.chunks(MSS).enumerate() {
            if i > 0 {
                ts += gap;
            }
            let flags = Flags {
                ack: true,
                psh: true,
                ..Flags::default()
            };
            self.segment(net, wire, ts, dir, self.next_seq[me], flags, chunk);
            self.next_seq[me] = self.next_seq[me].wrapping_add(chunk.len() as u32);
        }
        net.scratch = data;
        ts
    }

    /// A bare acknowledgement from the side sending in `dir`.
    pub fn ack<W: Write>(&self, net: &Net, wire: &mut Wire<W>, ts_ns: i128, dir: Dir) {
        let (me, _) = Self::side(dir);
        let flags = Flags {
            ack: true,
            ..Flags::default()
        };
        self.segment(net, wire, ts_ns, dir, self.next_seq[me], flags, &[]);
    }

    /// FIN from the side sending in `dir`, FIN-ACK back, final ACK, `rtt` apart.
    pub fn close<W: Write>(
        &mut self,
        net: &Net,
        wire: &mut Wire<W>,
        ts_ns: i128,
        dir: Dir,
        rtt: i128,
    ) {
        let back = match dir {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        };
        let fin = Flags {
            ack: true,
            fin: true,
            ..Flags::default()
        };
        let (me, other) = Self::side(dir);
        self.segment(net, wire, ts_ns, dir, self.next_seq[me], fin, &[]);
        self.next_seq[me] = self.next_seq[me].wrapping_add(1);
        self.segment(net, wire, ts_ns + rtt, back, self.next_seq[other], fin, &[]);
        self.next_seq[other] = self.next_seq[other].wrapping_add(1);
        self.ack(net, wire, ts_ns + 2 * rtt, dir);
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
}

/// A link-local address derived from the MAC's last two bytes, as Pioneer players pick theirs
/// (prodjlink.md 2 "Timing facts"; CAP: 74:5e:1c:56:c0:70 -> 169.254.192.112).
pub fn link_local_from_mac(mac: [u8; 6]) -> Ipv4Addr {
    Ipv4Addr::new(169, 254, mac[4].clamp(1, 254), mac[5].clamp(1, 254))
}
