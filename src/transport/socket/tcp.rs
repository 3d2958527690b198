//! TCP connections of a rig: what the kernel does below the `Output::Listen`/`Connect`/`Write`/
//! `Close` boundary (`architecture.md`, decision 2), with the bounds a hostile peer cannot push
//! past.
//!
//! Bounds: a connection whose peer does not read keeps at most `max_buffered` unsent bytes
//! (beyond the kernel's own socket buffer); past that the rig drops the connection and tells the
//! device it closed, as a real player's dbserver gives up on a stuck client. The whole rig keeps
//! at most `max_buffered_total` unsent bytes, and at most `max_connections` connections; a peer
//! connecting beyond that is accepted and closed at once, so the listen backlog never fills
//! and well-behaved clients still get in when others leave.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};

use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Protocol, Socket, Type};

/// The limits of one rig's TCP side.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Open connections (accepted and connected) over the whole rig.
    pub max_connections: usize,
    /// Unsent bytes one connection may hold before it is dropped.
    pub max_buffered: usize,
    /// Unsent bytes over all connections.
    pub max_buffered_total: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 1024,
            // A dbserver answer is at most a few hundred KiB (waveform detail, artwork), so a
            // client that reads keeps far less than this waiting.
            max_buffered: 1 << 20,
            max_buffered_total: 16 << 20,
        }
    }
}

/// A listening socket on `ip:port` (SO_REUSEADDR so a restarted emulator gets its port back
/// while old connections sit in TIME_WAIT).
pub fn listen(ip: Ipv4Addr, port: u16) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddrV4::new(ip, port).into())?;
    socket.listen(1024)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Start connecting from the device's own address to `to` (completes when writable).
pub fn connect(from: Ipv4Addr, to: SocketAddrV4) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&SocketAddrV4::new(from, 0).into())?;
    match socket.connect(&to.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc_einprogress()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

fn libc_einprogress() -> i32 {
    nix::errno::Errno::EINPROGRESS as i32
}

/// One open connection.
#[derive(Debug)]
pub struct Conn {
    pub stream: TcpStream,
    pub peer: SocketAddrV4,
    /// False until an outgoing connect completes.
    pub connected: bool,
    /// The device asked to close: close once `pending` is written, ignore what arrives.
    pub closing: bool,
    pending: VecDeque<u8>,
}

/// What writing to a connection did.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteResult {
    /// Everything is written or waits within bounds.
    Ok,
    /// The connection failed or went past its bound: the caller drops it.
    Drop(&'static str),
}

impl Conn {
    pub fn new(stream: TcpStream, peer: SocketAddrV4) -> Conn {
        Conn {
            stream,
            peer,
            connected: true,
            closing: false,
            pending: VecDeque::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queue `bytes` and write what the kernel takes now. `room` is what the rig-wide bound
    /// still allows to wait.
    pub fn write(&mut self, bytes: &[u8], limits: &TcpLimits, room: usize) -> WriteResult {
        let mut rest = bytes;
        if self.connected && self.pending.is_empty() {
            match write_some(&mut self.stream, rest) {
                Ok(n) => rest = &rest[n..],
                Err(_) => return WriteResult::Drop("write failed"),
            }
        }
        if rest.is_empty() {
            return WriteResult::Ok;
        }
        if self.pending.len() + rest.len() > limits.max_buffered {
            return WriteResult::Drop("peer does not read (connection buffer full)");
        }
        if rest.len() > room {
            return WriteResult::Drop("peers do not read (rig buffer full)");
        }
        self.pending.extend(rest);
        WriteResult::Ok
    }

    /// Write what waits, as far as the kernel takes it.
    pub fn flush(&mut self) -> WriteResult {
        while !self.pending.is_empty() {
            let (head, _) = self.pending.as_slices();
            match write_some(&mut self.stream, head) {
                Ok(0) => break,
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(_) => return WriteResult::Drop("write failed"),
            }
        }
        WriteResult::Ok
    }

    /// True once a closing connection has nothing left to write.
    pub fn done_closing(&self) -> bool {
        self.closing && self.pending.is_empty()
    }

    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// After a writable event on an outgoing connection: did the connect succeed?
    pub fn finish_connect(&mut self) -> io::Result<bool> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(SocketAddr::V4(peer)) => {
                self.peer = peer;
                self.connected = true;
                Ok(true)
            }
            Ok(SocketAddr::V6(_)) => Err(io::Error::other("IPv6 peer")),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Read into `buf`: `Ok(Some(0))` is the peer's close, `Ok(None)` nothing waiting.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            match self.stream.read(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Write as much of `bytes` as the kernel takes now (0 when it takes nothing).
fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < bytes.len() {
        match stream.write(&bytes[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Conn, std::net::TcpStream) {
        let listener = listen(Ipv4Addr::new(127, 0, 0, 21), 0).unwrap();
        let addr = match listener.local_addr().unwrap() {
            SocketAddr::V4(a) => a,
            _ => unreachable!(),
        };
        let client = std::net::TcpStream::connect(addr).unwrap();
        let (stream, peer) = loop {
            match listener.accept() {
                Ok(s) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
        };
        let SocketAddr::V4(peer) = peer else {
            unreachable!()
        };
        (Conn::new(stream, peer), client)
    }

    #[test]
    fn a_peer_that_never_reads_is_dropped_at_the_bound() {
        let (mut conn, _client) = pair();
        let limits = TcpLimits {
            max_connections: 4,
            max_buffered: 256 << 10,
            max_buffered_total: 1 << 30,
        };
        let chunk = vec![0x55u8; 64 << 10];
        let mut dropped = None;
        // The kernel's socket buffers absorb a few MiB first; the bound must hit well before
        // 64 MiB have been offered.
        for i in 0..1024 {
            if let WriteResult::Drop(why) = conn.write(&chunk, &limits, usize::MAX) {
                dropped = Some((i, why));
                break;
            }
            assert!(conn.pending() <= limits.max_buffered);
        }
        let (_, why) = dropped.expect("never dropped");
        assert!(why.contains("does not read"), "{why}");
    }

    #[test]
    fn the_rig_wide_room_is_respected() {
        let (mut conn, _client) = pair();
        let limits = TcpLimits::default();
        let chunk = vec![1u8; 64 << 10];
        let mut result = WriteResult::Ok;
        for _ in 0..1024 {
            result = conn.write(&chunk, &limits, 10);
            if result != WriteResult::Ok {
                break;
            }
        }
        assert_eq!(
            result,
            WriteResult::Drop("peers do not read (rig buffer full)")
        );
    }

    #[test]
    fn written_bytes_arrive_in_order() {
        let (mut conn, mut client) = pair();
        let limits = TcpLimits::default();
        assert_eq!(conn.write(b"abc", &limits, 100), WriteResult::Ok);
        assert_eq!(conn.write(b"def", &limits, 100), WriteResult::Ok);
        let mut got = [0u8; 6];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcdef");
    }
}
