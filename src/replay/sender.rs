//! The sockets a replay sends from, and where each datagram goes.
//!
//! Each replayed device sends from its own address and, where the port is free, from the
//! protocol port it used in the capture (keep-alives from 50000, which some listeners check;
//! other source ports, ephemeral in the capture, become one ephemeral port per device);
//! SO_REUSEADDR lets the replay share those ports with listeners on the same machine.
//! Destinations (`clients.md` 2, measured on this kernel):
//! * a broadcast goes to the network's broadcast address (127.255.255.255 on loopback), which
//!   reaches every socket bound to 0.0.0.0 or to that address on the port;
//! * unicast to a replayed device goes to its replay address;
//! * unicast to a host that is not in the replay (the computer that recorded, posing as a
//!   player) goes to `--to-host`, or else to the last host that announced itself on the replay
//!   network with a keep-alive from an address the replay does not use, as a real player sends
//!   its status to whoever joined the network. With neither, it is counted as undeliverable.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use super::addresses::AddressTable;
use crate::prodjlink::{self, Packet};

/// Where one datagram is sent, or why it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Broadcast(SocketAddrV4),
    Device(SocketAddrV4),
    /// The host standing in for one that is not in the replay.
    StandIn(SocketAddrV4),
    /// Unicast to a host outside the replay, and nobody to give it to.
    Nobody,
}

pub struct Sender {
    broadcast: Ipv4Addr,
    to_host: Option<Ipv4Addr>,
    /// The last host that announced itself from outside the replay.
    announced: Option<Ipv4Addr>,
    /// Hears keep-alives on the broadcast address, to learn `announced`.
    listener: Option<UdpSocket>,
    sockets: HashMap<(Ipv4Addr, u16), UdpSocket>,
    replay_ips: Vec<Ipv4Addr>,
    buf: Vec<u8>,
}

/// Sockets kept at most (the default limit of open files is 1024); past it, a device's
/// protocol ports share its ephemeral socket.
const MAX_SOCKETS: usize = 512;

fn socket(ip: Ipv4Addr, port: u16, nonblocking: bool) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_broadcast(true)?;
    s.set_nonblocking(nonblocking)?;
    s.bind(&SocketAddrV4::new(ip, port).into())?;
    Ok(s.into())
}

impl Sender {
    pub fn new(broadcast: Ipv4Addr, to_host: Option<Ipv4Addr>, table: &AddressTable) -> Sender {
        // Without a listener the stand-in can still come from --to-host; a failure to bind is
        // reported by the caller through `listening()`.
        let listener = match to_host {
            Some(_) => None,
            None => socket(broadcast, prodjlink_announce_port(), true).ok(),
        };
        Sender {
            broadcast,
            to_host,
            announced: None,
            listener,
            sockets: HashMap::new(),
            replay_ips: table.replay_ips().collect(),
            buf: vec![0; 2048],
        }
    }

    /// Whether announcements are being listened for.
    pub fn listening(&self) -> bool {
        self.listener.is_some()
    }

    pub fn announced(&self) -> Option<Ipv4Addr> {
        self.announced
    }

    /// Read the keep-alives that arrived since the last call (non-blocking).
    pub fn hear_announcements(&mut self) {
        let Some(l) = &self.listener else { return };
        while let Ok((n, from)) = l.recv_from(&mut self.buf) {
            let std::net::SocketAddr::V4(from) = from else {
                continue;
            };
            if self.replay_ips.contains(from.ip()) {
                continue;
            }
            if let Ok(Packet::KeepAlive(_)) =
                Packet::parse(prodjlink_announce_port(), &self.buf[..n])
            {
                self.announced = Some(*from.ip());
            }
        }
    }

    /// Where a datagram recorded from `src` to `dst:port` goes.
    pub fn destination(&self, table: &AddressTable, dst: Ipv4Addr, port: u16) -> Destination {
        if let Some(ip) = table.replay_ip(dst) {
            return Destination::Device(SocketAddrV4::new(ip, port));
        }
        if dst.is_broadcast() || dst.octets()[3] == 255 || dst.is_multicast() {
            return Destination::Broadcast(SocketAddrV4::new(self.broadcast, port));
        }
        match self.to_host.or(self.announced) {
            Some(ip) => Destination::StandIn(SocketAddrV4::new(ip, port)),
            None => Destination::Nobody,
        }
    }

    /// Send `payload` from the device at replay address `from` (recorded source port
    /// `src_port`) to `to`.
    pub fn send(
        &mut self,
        from: Ipv4Addr,
        src_port: u16,
        to: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<usize> {
        // Only the protocol's own ports are kept: a player sends status from a fresh ephemeral
        // port each time (S05: 9559, 9560, ...), and a socket per recorded port would run out
        // of file descriptors on a long capture. One ephemeral socket per device serves those.
        let src_port = if super::datagrams::is_dj_port(src_port) && self.sockets.len() < MAX_SOCKETS
        {
            src_port
        } else {
            0
        };
        let s = match self.sockets.entry((from, src_port)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                // The recorded port may be held by a listener without SO_REUSEADDR: an
                // ephemeral port then, as a device behind a NAT would appear.
                let s = socket(from, src_port, false).or_else(|_| socket(from, 0, false))?;
                e.insert(s)
            }
        };
        s.send_to(payload, to)
    }
}

fn prodjlink_announce_port() -> u16 {
    prodjlink::PORTS[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_the_table() {
        let mut t = AddressTable::new(Ipv4Addr::new(127, 0, 91, 2));
        t.add(Ipv4Addr::new(169, 254, 1, 5));
        let bcast = Ipv4Addr::new(127, 255, 255, 255);
        let s = Sender::new(bcast, Some(Ipv4Addr::new(127, 0, 91, 1)), &t);
        assert_eq!(
            s.destination(&t, Ipv4Addr::new(169, 254, 1, 5), 50002),
            Destination::Device(SocketAddrV4::new(Ipv4Addr::new(127, 0, 91, 2), 50002))
        );
        assert_eq!(
            s.destination(&t, Ipv4Addr::new(169, 254, 255, 255), 50000),
            Destination::Broadcast(SocketAddrV4::new(bcast, 50000))
        );
        assert_eq!(
            s.destination(&t, Ipv4Addr::new(169, 254, 1, 9), 50002),
            Destination::StandIn(SocketAddrV4::new(Ipv4Addr::new(127, 0, 91, 1), 50002))
        );
        let s = Sender {
            listener: None,
            ..Sender::new(bcast, None, &t)
        };
        assert_eq!(
            s.destination(&t, Ipv4Addr::new(169, 254, 1, 9), 50002),
            Destination::Nobody
        );
    }

    #[test]
    fn ephemeral_source_ports_share_one_socket_per_device() {
        // A player's status comes from a new ephemeral port each time: 2000 of them must not
        // open 2000 sockets (the 1 GiB synthetic capture ran out of file descriptors).
        let mut t = AddressTable::new(Ipv4Addr::new(127, 0, 93, 2));
        t.add(Ipv4Addr::new(169, 254, 1, 5));
        let mut s = Sender::new(
            Ipv4Addr::new(127, 255, 255, 255),
            Some(Ipv4Addr::LOCALHOST),
            &t,
        );
        let to = SocketAddrV4::new(Ipv4Addr::new(127, 0, 93, 1), 50002);
        for port in 9000..11000 {
            s.send(Ipv4Addr::new(127, 0, 93, 2), port, to, b"x")
                .unwrap();
        }
        s.send(Ipv4Addr::new(127, 0, 93, 2), 50000, to, b"x")
            .unwrap();
        assert_eq!(s.sockets.len(), 2);
    }
}
