//! The recorded server side of every dbserver conversation of a capture, indexed by request
//! so that a live client is answered by *what* it asks, not by *when* (`prodjlink.md` 7.3).
//!
//! Built in one streamed pass with `read`'s own engine (TCP reassembly, the dbserver framer):
//! each request a client sent is keyed by the server's address, its type and its arguments
//! with the requester's number taken out (the player byte of DMST, the setup's requester: a
//! live client has its own number); the server messages that followed it on that connection
//! are its answer. A render (`3000`) only means something after the menu request that prepared
//! it, so its key also holds the key of the last other request on the connection. The first
//! recorded answer to a key is kept; a repeat of the same request is answered the same way.
//!
//! Bounded: at most [`MAX_ANSWER_BYTES`] of answers are kept (a capture of hours of browsing
//! would otherwise sit in memory); requests past the budget count in [`Index::over_budget`] and
//! are answered as unknown requests are.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::ControlFlow;
use std::path::Path;

use crate::capture::CaptureReader;
use crate::dbserver::{Dmst, Field, Message, PortAnswer};
use crate::dissect::Proto;
use crate::engine::{Engine, EngineOptions};

/// Answer bytes kept at most, over all servers.
pub const MAX_ANSWER_BYTES: usize = 32 << 20;

/// The render request type: its meaning depends on the request before it (7.3).
const RENDER: u16 = 0x3000;
/// Setup: argument 0 is the requester's number.
const SETUP: u16 = 0x0000;

/// What a request is matched on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub server: Ipv4Addr,
    pub message_type: u16,
    /// The arguments with the requester taken out, as emitted bytes.
    args: Vec<u8>,
    /// For a render: the hash of the key of the request that prepared the menu.
    context: u64,
}

/// The per-connection state that keys a render: for each menu location (DMST byte 1), the
/// last request that prepared a menu there (`device/dbserver/session.rs` keeps menus the same
/// way). Bounded: 256 locations at most.
#[derive(Debug, Clone, Default)]
pub struct Context(HashMap<u8, u64>);

/// Menu close: never answered, and it keeps the prepared menus (UE 5.2).
const MENU_CLOSE: u16 = 0x0001;
/// Teardown: never answered.
const TEARDOWN: u16 = 0x0100;

impl Key {
    /// The key of `request` sent to `server` on a connection in `context`; updates the context.
    pub fn of(server: Ipv4Addr, request: &Message, context: &mut Context) -> Key {
        let mut m = request.clone();
        m.transaction_id = 0;
        let mut location = 0;
        if let Some(Some(Field::U32(v))) = m.args.first_mut() {
            *v = if m.message_type == SETUP {
                0
            } else {
                // DMST: the player byte is the top one (`requests.rs` Dmst::from_u32).
                location = Dmst::from_u32(*v).menu;
                *v & 0x00ff_ffff
            };
        }
        let mut key = Key {
            server,
            message_type: m.message_type,
            args: m.to_bytes(),
            context: 0,
        };
        match m.message_type {
            RENDER => key.context = context.0.get(&location).copied().unwrap_or(0),
            MENU_CLOSE | TEARDOWN | SETUP => {}
            _ => {
                let mut h = DefaultHasher::new();
                key.hash(&mut h);
                context.0.insert(location, h.finish());
            }
        }
        key
    }
}

/// One recorded dbserver server.
#[derive(Debug, Clone, Default)]
pub struct Server {
    /// The dbserver port its port query named (1051 on every player seen so far).
    pub port: Option<u16>,
    /// Connections recorded to it.
    pub connections: u64,
}

/// The recorded answers of a capture.
#[derive(Debug, Default)]
pub struct Index {
    pub servers: HashMap<Ipv4Addr, Server>,
    /// Per request, the answer set of each time it was recorded, in order.
    answers: HashMap<Key, Vec<u32>>,
    /// Answer sets: the server messages of one recorded answer. A set equal to the one before
    /// it for the same request is not kept twice (a player polling the same request).
    sets: Vec<Vec<Vec<u8>>>,
    bytes: usize,
    /// Recorded answers that did not fit [`MAX_ANSWER_BYTES`] (the request's earlier answer
    /// serves instead).
    pub over_budget: u64,
    /// Recorded requests indexed (repeats included).
    pub requests: u64,
}

/// A recorded connection being indexed.
#[derive(Default)]
struct Conn {
    context: Context,
    /// Requests waiting for (or receiving) their answer, by transaction id, newest last: a
    /// player may send its next request before the last answer arrives, so answers are paired
    /// by id, not by order. The value is the answer set being filled (None: over budget).
    pending: Vec<(u32, Option<u32>)>,
}

/// Requests per connection waiting for an answer, at most.
const MAX_PENDING: usize = 16;

impl Index {
    /// Index the dbserver conversations of `path` (one streamed pass).
    pub fn build(path: &Path) -> Result<Index, crate::capture::CaptureError> {
        Index::build_with(path, |_| {})
    }

    /// Index the dbserver conversations of `path` in one streamed pass that also hands every
    /// other record to `other` (the StageLinQ index is built in the same pass).
    pub fn build_with(
        path: &Path,
        mut other: impl FnMut(&crate::record::Record<'_>),
    ) -> Result<Index, crate::capture::CaptureError> {
        let mut reader = CaptureReader::open(path)?;
        let mut engine = Engine::new(EngineOptions::default());
        let mut index = Index::default();
        let mut conns: HashMap<(SocketAddr, SocketAddr), Conn> = HashMap::new();
        let mut sink = |rec: &crate::record::Record<'_>| {
            if rec.dissection.proto == Proto::DbServer {
                index.take(rec.src, rec.dst, rec.bytes, &mut conns);
            } else {
                other(rec);
            }
            ControlFlow::Continue(())
        };
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    let _ = engine.frame(&f, &mut sink);
                }
                Ok(None) => break,
                Err(e) if e.is_resumable() => continue,
                // Damage that ends reading: what was read is indexed (`send` reports it).
                Err(_) => break,
            }
        }
        let _ = engine.finish(&mut sink);
        Ok(index)
    }

    fn take(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        bytes: &[u8],
        conns: &mut HashMap<(SocketAddr, SocketAddr), Conn>,
    ) {
        let (IpAddr::V4(src_ip), IpAddr::V4(dst_ip)) = (src.ip(), dst.ip()) else {
            return;
        };
        if src.port() == crate::dbserver::port_query::QUERY_PORT {
            if let Ok((a, _)) = PortAnswer::parse(bytes) {
                self.servers.entry(src_ip).or_default().port = Some(a.port);
            }
            return;
        }
        let Ok((m, _)) = Message::parse(bytes) else {
            return;
        };
        if m.is_response() {
            // Server -> client: the answer of the latest request with its transaction id.
            let Some(conn) = conns.get_mut(&(dst, src)) else {
                return;
            };
            let tx = m.transaction_id;
            let Some((_, Some(set))) = conn.pending.iter().rev().find(|(t, _)| *t == tx) else {
                return;
            };
            if self.bytes + bytes.len() > MAX_ANSWER_BYTES {
                self.over_budget += 1;
                return;
            }
            self.bytes += bytes.len();
            self.sets[*set as usize].push(bytes.to_vec());
            return;
        }
        let conn = conns.entry((src, dst)).or_insert_with(|| {
            self.servers.entry(dst_ip).or_default().connections += 1;
            Conn::default()
        });
        let key = Key::of(dst_ip, &m, &mut conn.context);
        self.requests += 1;
        if m.message_type == MENU_CLOSE {
            // Never answered; it shares the id of the request it closes.
            self.answers.entry(key).or_default();
            return;
        }
        let occurrences = self.answers.entry(key).or_default();
        // The previous answer to this request is complete by now: drop it if it repeats the
        // one before it.
        if let [.., a, b] = occurrences.as_slice() {
            let (a, b) = (*a, *b);
            if a != b
                && self.sets[a as usize] == self.sets[b as usize]
                && b as usize + 1 == self.sets.len()
            {
                let dropped = self.sets.pop().unwrap_or_default();
                self.bytes -= dropped.iter().map(Vec::len).sum::<usize>();
                *occurrences.last_mut().unwrap() = a;
            }
        }
        let set = if self.bytes >= MAX_ANSWER_BYTES {
            occurrences.last().copied()
        } else {
            self.sets.push(Vec::new());
            Some(self.sets.len() as u32 - 1)
        };
        if let Some(set) = set {
            occurrences.push(set);
        }
        if conn.pending.len() >= MAX_PENDING {
            conn.pending.remove(0);
        }
        let filling =
            set.filter(|s| *s as usize + 1 == self.sets.len() && self.sets[*s as usize].is_empty());
        conn.pending.push((m.transaction_id, filling));
    }

    /// The recorded answer messages for the `nth` time (from 0) a connection asks `key`: the
    /// nth recorded answer, so a client that replays the capture's own requests gets what the
    /// capture got; past the recorded ones, the last one that had an answer. Empty: recorded
    /// without an answer (`0001`, `0100`, a request the player cancelled); None: never recorded.
    pub fn answer(&self, key: &Key, nth: usize) -> Option<&[Vec<u8>]> {
        let occ = self.answers.get(key)?;
        let set = match occ.get(nth) {
            Some(&s) => s,
            None => occ
                .iter()
                .rev()
                .find(|&&s| !self.sets[s as usize].is_empty())
                .or(occ.last())
                .copied()
                .unwrap_or(u32::MAX),
        };
        Some(self.sets.get(set as usize).map_or(&[][..], Vec::as_slice))
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Distinct requests recorded.
    pub fn distinct_requests(&self) -> usize {
        self.answers.len()
    }

    /// Bytes of answers kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::requests::SetupRequest;

    #[test]
    fn the_requester_and_transaction_do_not_change_the_key() {
        let server = Ipv4Addr::new(10, 0, 0, 2);
        let a = SetupRequest { requester: 1 }.to_message(0xfffffffe);
        let b = SetupRequest { requester: 5 }.to_message(0xfffffffe);
        let (mut c1, mut c2) = (Context::default(), Context::default());
        assert_eq!(Key::of(server, &a, &mut c1), Key::of(server, &b, &mut c2));
        let menu =
            |player: u32, tx| Message::new(tx, 0x1000, vec![Field::U32(player << 24 | 0x01_03_01)]);
        assert_eq!(
            Key::of(server, &menu(1, 7), &mut c1),
            Key::of(server, &menu(3, 99), &mut c2)
        );
        let other = Message::new(1, 0x1000, vec![Field::U32(1 << 24 | 0x01_02_01)]);
        assert_ne!(
            Key::of(server, &menu(1, 7), &mut c1),
            Key::of(server, &other, &mut c2)
        );
    }

    #[test]
    fn a_render_is_keyed_by_the_menu_it_renders() {
        let server = Ipv4Addr::new(10, 0, 0, 2);
        let render = Message::new(
            9,
            RENDER,
            vec![
                Field::U32(1 << 24 | 0x01_03_01),
                Field::U32(0),
                Field::U32(6),
            ],
        );
        let mut c = Context::default();
        Key::of(
            server,
            &Message::new(1, 0x1000, vec![Field::U32(0x01_03_01)]),
            &mut c,
        );
        let after_root = Key::of(server, &render, &mut c);
        Key::of(
            server,
            &Message::new(2, 0x1105, vec![Field::U32(0x01_03_01)]),
            &mut c,
        );
        let after_playlist = Key::of(server, &render, &mut c);
        assert_ne!(after_root, after_playlist);
    }
}
