//! The TCP side of a [`Rig`]: listening, accepting, connecting, writing with bounds, reading
//! in fair turns, and telling devices when a connection ends (`tcp.rs` holds the bounds).

use std::io;
use std::net::{SocketAddr, SocketAddrV4};

use mio::{Interest, Token};

use super::{tcp, Rig, RigEvent, Source, ACCEPTS_PER_TURN, TCP_READS_PER_TURN, TCP_READ_CHUNK};
use crate::device::{ConnId, StreamEvent};

impl Rig {
    pub(super) fn unlisten(&mut self, device: usize, port: u16) {
        let m = &mut self.members[device];
        if let Some(i) = m.listeners.iter().position(|(p, _, _)| *p == port) {
            let (_, mut listener, token) = m.listeners.remove(i);
            let _ = self.poll.registry().deregister(&mut listener);
            self.sources.remove(&token);
        }
    }

    /// Close once what was written so far has gone out.
    pub(super) fn close(&mut self, device: usize, id: ConnId) {
        if let Some((c, _)) = self.conns.get_mut(&(device, id)) {
            c.closing = true;
            if c.done_closing() {
                self.remove_conn(device, id);
            }
        }
    }

    pub(super) fn listen(&mut self, device: usize, port: u16) {
        let ip = self.members[device].ip;
        if self.members[device]
            .listeners
            .iter()
            .any(|(p, _, _)| *p == port)
        {
            return;
        }
        match tcp::listen(ip, port) {
            Ok(mut listener) => {
                let token = self.token(Source::Listener { device, port });
                if let Err(e) =
                    self.poll
                        .registry()
                        .register(&mut listener, token, Interest::READABLE)
                {
                    return self.refuse(Some(device), format!("listen {ip}:{port}: {e}"));
                }
                self.members[device].listeners.push((port, listener, token));
            }
            Err(e) => self.refuse(Some(device), format!("listen {ip}:{port}: {e}")),
        }
    }

    /// Accept what waits, a few per loop turn: between turns the connections already open are
    /// read, so a burst of hundreds of connections cannot delay a client that is being served
    /// (nor push it out of a device's connection bound before it has said anything).
    pub(super) fn accept(&mut self, device: usize, port: u16) {
        for _ in 0..ACCEPTS_PER_TURN {
            let m = &self.members[device];
            let Some((_, listener, _)) = m.listeners.iter().find(|(p, _, _)| *p == port) else {
                return;
            };
            let local = SocketAddrV4::new(m.ip, port);
            let (mut stream, peer) = match listener.accept() {
                Ok((s, SocketAddr::V4(peer))) => (s, peer),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EMFILE and friends: say so and try again on the next readiness.
                Err(e) => return self.refuse(Some(device), format!("accept on {local}: {e}")),
            };
            if self.conns.len() >= self.limits.max_connections {
                drop(stream);
                let what = format!(
                    "connection from {peer} to {local} closed at once: {} connections open",
                    self.conns.len()
                );
                self.refuse(Some(device), what);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let id = ConnId(self.next_accepted);
            self.next_accepted += 1;
            let token = self.token(Source::Conn { device, id });
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                self.sources.remove(&token);
                self.refuse(Some(device), format!("register {peer}: {e}"));
                continue;
            }
            let conn = tcp::Conn::new(stream, peer);
            self.conns.insert((device, id), (conn, token));
            self.emit(RigEvent::Accepted {
                device,
                conn: id,
                local,
                peer,
            });
            let local_port = port;
            self.deliver_stream(device, id, StreamEvent::Accepted { local_port, peer });
            self.deliver_closed();
        }
        // More may wait: come back on the next turn without sleeping.
        if let Some(&(_, _, token)) = self.members[device]
            .listeners
            .iter()
            .find(|(p, _, _)| *p == port)
        {
            self.again.push(token);
        }
    }

    pub(super) fn connect(&mut self, device: usize, id: ConnId, to: SocketAddrV4) {
        if !self.network.may_send_to(*to.ip()) || self.conns.len() >= self.limits.max_connections {
            self.refuse(Some(device), format!("connect to {to}: refused"));
            return self.closed.push_back((device, id, "connect refused"));
        }
        let mut stream = match tcp::connect(self.members[device].ip, to) {
            Ok(s) => s,
            Err(e) => {
                self.refuse(Some(device), format!("connect to {to}: {e}"));
                return self.closed.push_back((device, id, "connect failed"));
            }
        };
        let token = self.token(Source::Conn { device, id });
        if self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            self.sources.remove(&token);
            return self.closed.push_back((device, id, "connect failed"));
        }
        let mut conn = tcp::Conn::new(stream, to);
        conn.connected = false;
        self.conns.insert((device, id), (conn, token));
    }

    pub(super) fn write(&mut self, device: usize, id: ConnId, bytes: &[u8]) {
        let room = self.limits.max_buffered_total.saturating_sub(self.buffered);
        let limits = self.limits;
        let Some((conn, _)) = self.conns.get_mut(&(device, id)) else {
            return; // closed already; the device has been or will be told
        };
        if conn.closing {
            return;
        }
        let before = conn.pending();
        let written = conn.write(bytes, &limits, room);
        self.buffered = self.buffered + conn.pending() - before;
        match written {
            tcp::WriteResult::Ok => self.emit(RigEvent::Data {
                device,
                conn: id,
                inbound: false,
                bytes,
            }),
            tcp::WriteResult::Drop(why) => {
                self.remove_conn(device, id);
                self.closed.push_back((device, id, why));
            }
        }
    }

    pub(super) fn on_writable(&mut self, device: usize, id: ConnId) {
        let Some((conn, _)) = self.conns.get_mut(&(device, id)) else {
            return;
        };
        if !conn.connected {
            match conn.finish_connect() {
                Ok(true) => {
                    let peer = conn.peer;
                    self.emit(RigEvent::Connected {
                        device,
                        conn: id,
                        peer,
                    });
                    self.deliver_stream(device, id, StreamEvent::Connected);
                }
                Ok(false) => return,
                Err(_) => {
                    self.remove_conn(device, id);
                    return self.closed.push_back((device, id, "connect failed"));
                }
            }
        }
        let Some((conn, _)) = self.conns.get_mut(&(device, id)) else {
            return;
        };
        let before = conn.pending();
        let flushed = conn.flush();
        self.buffered -= before - conn.pending();
        match flushed {
            tcp::WriteResult::Ok if conn.done_closing() => self.remove_conn(device, id),
            tcp::WriteResult::Ok => {}
            tcp::WriteResult::Drop(why) => {
                self.remove_conn(device, id);
                self.closed.push_back((device, id, why));
            }
        }
    }

    pub(super) fn on_readable(&mut self, token: Token, device: usize, id: ConnId) {
        let mut buf = std::mem::take(&mut self.buf);
        for turn in 0..TCP_READS_PER_TURN {
            let Some((conn, _)) = self.conns.get_mut(&(device, id)) else {
                break;
            };
            if !conn.connected {
                break;
            }
            let closing = conn.closing;
            match conn.read(&mut buf[..TCP_READ_CHUNK]) {
                Ok(None) => break,
                Ok(Some(0)) | Err(_) => {
                    self.remove_conn(device, id);
                    if !closing {
                        self.closed.push_back((device, id, "peer closed"));
                    }
                    break;
                }
                // What arrives after the device closed is read and dropped.
                Ok(Some(_)) if closing => {}
                Ok(Some(n)) => {
                    let bytes = &buf[..n];
                    self.emit(RigEvent::Data {
                        device,
                        conn: id,
                        inbound: true,
                        bytes,
                    });
                    self.deliver_stream(device, id, StreamEvent::Data(bytes));
                }
            }
            if turn + 1 == TCP_READS_PER_TURN {
                self.again.push(token);
            }
        }
        self.buf = buf;
    }

    pub(super) fn remove_conn(&mut self, device: usize, id: ConnId) {
        if let Some((mut conn, token)) = self.conns.remove(&(device, id)) {
            self.buffered -= conn.pending();
            conn.shutdown();
            let _ = self.poll.registry().deregister(&mut conn.stream);
            self.sources.remove(&token);
        }
    }
}
