//! A small blocking dbserver client: what a player does to read another player's library
//! (`prodjlink.md` 7.1-7.3), for tests and load measurements of emulated players.
//!
//! It asks the port on 12523, exchanges greetings, sets up a context with a requester
//! number, and sends requests with increasing transaction ids. Every message is built and read
//! with the same types `read` dissects; replies are framed with [`MessageFramer`]. Every step
//! is bounded by the timeout given to [`Client::connect`].

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::framer::{Framed, MessageFramer};
use super::message::{Greeting, Message, SETUP_TRANSACTION_ID};
use super::port_query::{PortQuery, QUERY_PORT};
use super::requests::{Dmst, MetadataRequest, RenderMenuRequest, SetupRequest};
use super::responses::MenuAvailable;

/// A connection to one player's dbserver, set up and ready for requests.
pub struct Client {
    stream: TcpStream,
    framer: MessageFramer,
    pending: std::collections::VecDeque<Message>,
    next_transaction: u32,
    /// The requester number the context was set up with.
    pub requester: u8,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Ask `ip`'s port query service (12523) where its dbserver listens (7.1).
pub fn query_port(ip: Ipv4Addr, timeout: Duration) -> io::Result<u16> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::from((ip, QUERY_PORT)), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(&PortQuery::default().to_bytes())?;
    let mut port = [0u8; 2];
    s.read_exact(&mut port)?;
    Ok(u16::from_be_bytes(port))
}

impl Client {
    /// Query the port, connect, greet and set up a context as player `requester` (7.3).
    pub fn connect(ip: Ipv4Addr, requester: u8, timeout: Duration) -> io::Result<Client> {
        let port = query_port(ip, timeout)?;
        let stream = TcpStream::connect_timeout(&SocketAddr::from((ip, port)), timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        let mut c = Client {
            stream,
            framer: MessageFramer::new(),
            pending: Default::default(),
            next_transaction: 1,
            requester,
        };
        c.stream.write_all(&Greeting::default().to_bytes())?;
        c.read_greeting()?;
        let setup = SetupRequest {
            requester: u32::from(requester),
        };
        c.send(&setup.to_message(SETUP_TRANSACTION_ID))?;
        let answer = c.read_message()?;
        if answer.message_type != MenuAvailable::TYPE {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "setup as requester {requester} answered with {:04x}",
                    answer.message_type
                ),
            ));
        }
        Ok(c)
    }

    fn read_greeting(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let mut greeted = false;
            for framed in self.framer.push(&buf[..n]) {
                match framed {
                    Framed::Greeting { .. } => greeted = true,
                    Framed::Message { message, .. } => self.pending.push_back(message),
                    _ => return Err(bad("bytes that are not a greeting")),
                }
            }
            if greeted {
                return Ok(());
            }
        }
    }

    fn send(&mut self, message: &Message) -> io::Result<()> {
        let bytes = message.to_bytes();
        self.stream.write_all(&bytes)
    }

    /// The next message the server sends.
    pub fn read_message(&mut self) -> io::Result<Message> {
        let mut buf = [0u8; 16 << 10];
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(m);
            }
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            for framed in self.framer.push(&buf[..n]) {
                match framed {
                    Framed::Message { message, .. } => self.pending.push_back(message),
                    Framed::Greeting { .. } => return Err(bad("a second greeting")),
                    _ => return Err(bad("a malformed message")),
                }
            }
        }
    }

    /// Send a request built for the next transaction id; returns that id.
    pub fn request(&mut self, build: impl FnOnce(u32) -> Message) -> io::Result<u32> {
        let id = self.next_transaction;
        self.next_transaction = self.next_transaction.wrapping_add(1);
        self.send(&build(id))?;
        Ok(id)
    }

    /// A track's metadata menu (2002, then 3000 render): the menu items, header and footer
    /// excluded.
    pub fn metadata(&mut self, slot: u8, rekordbox_id: u32) -> io::Result<Vec<Message>> {
        let dmst = Dmst {
            player: self.requester,
            menu: 1,
            slot,
            track_type: 1,
        };
        self.request(|t| MetadataRequest { dmst, rekordbox_id }.to_message(t))?;
        let available = self.read_message()?;
        if available.message_type != MenuAvailable::TYPE {
            return Err(bad(format!(
                "metadata of {rekordbox_id} answered with {:04x}",
                available.message_type
            )));
        }
        let total = available.number(1).unwrap_or(0);
        self.request(|t| RenderMenuRequest::new(dmst, 0, total.min(64), total).to_message(t))?;
        let mut items = Vec::new();
        loop {
            let m = self.read_message()?;
            match m.message_type {
                0x4001 => {}
                0x4201 => return Ok(items),
                0x4101 => items.push(m),
                other => return Err(bad(format!("unexpected {other:04x} in a menu"))),
            }
        }
    }
}
