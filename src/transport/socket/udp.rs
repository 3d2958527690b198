//! UDP sockets of a rig: one per device and port, bound to the device's own address, and one
//! per port bound to the network's broadcast address.
//!
//! Why two kinds (`clients.md` 2, measured on this kernel): a socket bound to a unicast
//! address never receives broadcasts, and a socket bound to 0.0.0.0 would also receive
//! whatever real gear says on every other interface. A socket bound to the broadcast address
//! itself (127.255.255.255 on loopback, the subnet's broadcast on an interface) receives exactly
//! the broadcasts of the rig's network; the rig hands each one to every device listening on
//! that port except the sender, the way a switch floods a broadcast to every other port.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use mio::net::UdpSocket;
use socket2::{Domain, Protocol, Socket, Type};

/// A non-blocking UDP socket bound to `ip:port` (port 0: an ephemeral one) that may send
/// broadcasts. SO_REUSEADDR lets several rigs (or a rig and the user's own listener on the
/// broadcast address) share a port the way the kernel allows for UDP.
pub fn bind(ip: Ipv4Addr, port: u16) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_broadcast(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddrV4::new(ip, port).into())?;
    Ok(UdpSocket::from_std(socket.into()))
}

/// The largest datagram the rig reads. Loopback's MTU is 64 KiB, so a hostile peer can send
/// that much; reading less would silently cut the datagram, and the device must see its real
/// length to call it malformed.
pub const MAX_DATAGRAM: usize = 65_536;

/// Receive one datagram into `buf`: `Ok(None)` when none is waiting.
pub fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddrV4)>> {
    loop {
        match socket.recv_from(buf) {
            Ok((n, SocketAddr::V4(from))) => return Ok(Some((n, from))),
            // An IPv4 socket only hears IPv4 peers; skip anything else rather than stop.
            Ok((_, SocketAddr::V6(_))) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The measured fact the design rests on: a broadcast from a device's own socket reaches
    /// the broadcast-bound socket, and not another device's unicast-bound socket.
    #[test]
    fn broadcast_reaches_the_broadcast_socket_only() {
        let port = 50_900 + (std::process::id() % 50) as u16;
        let bcast = Ipv4Addr::new(127, 255, 255, 255);
        let listener = std::net::UdpSocket::from(
            bind_blocking(bcast, port).expect("bind the broadcast address"),
        );
        let other = std::net::UdpSocket::from(
            bind_blocking(Ipv4Addr::new(127, 0, 0, 13), port).expect("bind a device address"),
        );
        listener
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        other
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let sender = std::net::UdpSocket::from(
            bind_blocking(Ipv4Addr::new(127, 0, 0, 12), port).expect("bind a sender"),
        );
        sender.send_to(b"hello", (bcast, port)).unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = listener.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(from, SocketAddr::from((Ipv4Addr::new(127, 0, 0, 12), port)));
        assert!(
            other.recv_from(&mut buf).is_err(),
            "unicast-bound socket got a broadcast"
        );
    }

    fn bind_blocking(ip: Ipv4Addr, port: u16) -> io::Result<Socket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.set_broadcast(true)?;
        socket.bind(&SocketAddrV4::new(ip, port).into())?;
        Ok(socket)
    }
}
