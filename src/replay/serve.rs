//! Recorded dbserver servers, live: for each server in the [`Index`], the port query (TCP
//! 12523) and the dbserver port listen on the server's replay address while the replay runs,
//! and each request a live client sends gets the recorded answer to the same request
//! (`answers.rs` says what "the same" means), its transaction id taken from the live request.
//! A request never recorded gets the error answer `4003 [type]` a real player gives to an
//! unknown request (`device/dbserver/session.rs`, `prodjlink.md` 7.3) and is counted.
//!
//! Blocking sockets, one thread per listener and per connection: a replay serves a handful of
//! clients. Connections are bounded ([`MAX_CONNECTIONS`]), as is the request buffer (the
//! framer's limit), and every read times out so the threads end with the replay.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::addresses::AddressTable;
use super::answers::{Context, Index, Key};
use crate::dbserver::framer::{Framed, MessageFramer};
use crate::dbserver::message::MAGIC;
use crate::dbserver::port_query::QUERY_PORT;
use crate::dbserver::responses::Unavailable;
use crate::dbserver::{Greeting, Message};
use crate::device::dbserver::{PortQuerySession, Verdict};

/// Live connections at once, over all servers.
pub const MAX_CONNECTIONS: usize = 64;
/// Largest request accepted (real ones are under 200 bytes).
const MAX_REQUEST: usize = 4096;
/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(50);
/// Distinct unanswered request types listed.
const MAX_LISTED: usize = 64;
/// Distinct requests a connection's repeat counts are kept for.
const MAX_ASKED: usize = 4096;
/// The dbserver port when the capture did not record the port query's answer.
const DEFAULT_DB_PORT: u16 = 1051;

/// What serving did.
#[derive(Debug, Default, Clone)]
pub struct ServeStats {
    pub connections: u64,
    pub answered: u64,
    /// Requests with no recorded answer (answered `4003`).
    pub unknown: u64,
    pub unknown_types: BTreeSet<u16>,
    /// Listeners that could not be set up.
    pub errors: Vec<String>,
    /// (recorded server, replay address, dbserver port) of each server listening.
    pub listening: Vec<(Ipv4Addr, Ipv4Addr, u16)>,
}

/// The running servers; [`Serving::stop`] ends them.
pub struct Serving {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub stats: Arc<Mutex<ServeStats>>,
}

/// A non-blocking listener on a replay address (shared with `stagelinq_serve`).
pub(super) fn listener(ip: Ipv4Addr, port: u16) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddrV4::new(ip, port).into())?;
    s.listen(16)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

struct Shared {
    index: Arc<Index>,
    stats: Arc<Mutex<ServeStats>>,
    stop: Arc<AtomicBool>,
    live: AtomicUsize,
}

impl Serving {
    /// Start a server for every recorded server that has a replay address.
    pub fn start(index: Arc<Index>, table: &AddressTable) -> Serving {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(ServeStats::default()));
        let shared = Arc::new(Shared {
            index: index.clone(),
            stats: stats.clone(),
            stop: stop.clone(),
            live: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        let mut servers: Vec<_> = index.servers.iter().collect();
        servers.sort_by_key(|(ip, _)| **ip);
        for (&recorded, server) in servers {
            let Some(ip) = table.replay_ip(recorded) else {
                stats.lock().unwrap().errors.push(format!(
                    "dbserver {recorded} has no replay address (the table was full)"
                ));
                continue;
            };
            let want = server.port.unwrap_or(DEFAULT_DB_PORT);
            let db = listener(ip, want).or_else(|_| listener(ip, 0));
            let db = match db {
                Ok(l) => l,
                Err(e) => {
                    let msg = format!("dbserver {recorded} on {ip}: {e}");
                    stats.lock().unwrap().errors.push(msg);
                    continue;
                }
            };
            let port = db.local_addr().map(|a| a.port()).unwrap_or(want);
            match listener(ip, QUERY_PORT) {
                Ok(q) => {
                    let sh = shared.clone();
                    threads.push(std::thread::spawn(move || {
                        accept_loop(q, &sh, move |s, sh| port_query(s, port, sh))
                    }));
                }
                Err(e) => stats
                    .lock()
                    .unwrap()
                    .errors
                    .push(format!("port query {recorded} on {ip}:{QUERY_PORT}: {e}")),
            }
            let sh = shared.clone();
            threads.push(std::thread::spawn(move || {
                accept_loop(db, &sh, move |s, sh| dbserver(s, recorded, sh))
            }));
            stats.lock().unwrap().listening.push((recorded, ip, port));
        }
        Serving {
            stop,
            threads,
            stats,
        }
    }

    /// End every listener and connection and return what was served.
    pub fn stop(self) -> ServeStats {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let s = self.stats.lock().unwrap().clone();
        s
    }
}

/// What an accept loop needs of a server's shared state: the replay's stop flag, the count
/// of live connections (bounded by [`MAX_CONNECTIONS`]) and where accepted ones are counted.
pub(super) trait Gate: Send + Sync + 'static {
    fn stopped(&self) -> bool;
    fn live(&self) -> &AtomicUsize;
    fn accepted(&self);
}

impl Gate for Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn live(&self) -> &AtomicUsize {
        &self.live
    }
    fn accepted(&self) {
        self.stats.lock().unwrap().connections += 1;
    }
}

/// Accept until the replay stops, each connection served on a thread of its own (blocking with
/// a read timeout of one tick, so the stop flag is seen); past [`MAX_CONNECTIONS`] a new
/// connection is closed at once. Shared by the dbserver and the StageLinQ units.
pub(super) fn accept_loop<G: Gate>(
    l: TcpListener,
    sh: &Arc<G>,
    serve: impl Fn(TcpStream, &G) + Send + Clone + 'static,
) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !sh.stopped() {
        match l.accept() {
            Ok((s, _)) => {
                if sh.live().load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    continue; // dropped: closed at once
                }
                sh.live().fetch_add(1, Ordering::SeqCst);
                sh.accepted();
                let (sh2, serve) = (sh.clone(), serve.clone());
                conns.push(std::thread::spawn(move || {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(TICK));
                    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
                    let _ = s.set_nodelay(true);
                    serve(s, &sh2);
                    sh2.live().fetch_sub(1, Ordering::SeqCst);
                }));
                conns.retain(|t| !t.is_finished());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(TICK / 5),
            Err(_) => std::thread::sleep(TICK),
        }
    }
    for t in conns {
        let _ = t.join();
    }
}

/// Read what the client sent; None when it closed, failed, or the replay ended.
fn read_some(s: &mut TcpStream, buf: &mut [u8], sh: &Shared) -> Option<usize> {
    loop {
        if sh.stop.load(Ordering::Relaxed) {
            return None;
        }
        match s.read(buf) {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn port_query(mut s: TcpStream, port: u16, sh: &Shared) {
    let mut session = PortQuerySession::new(port);
    let mut buf = [0u8; 128];
    let mut out = Vec::new();
    while let Some(n) = read_some(&mut s, &mut buf, sh) {
        let v = session.on_bytes(&buf[..n], &mut out);
        if s.write_all(&out).is_err() || v == Verdict::Close {
            return;
        }
        out.clear();
    }
}

fn dbserver(mut s: TcpStream, recorded: Ipv4Addr, sh: &Shared) {
    let mut framer = MessageFramer::with_max_buffer(MAX_REQUEST);
    let mut context = Context::default();
    let mut asked: HashMap<Key, usize> = HashMap::new();
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    let mut greeted = false;
    while let Some(n) = read_some(&mut s, &mut buf, sh) {
        // At a message boundary the client's bytes must open a message (or, first, the
        // greeting); the framer would wait for the next magic, a player closes at once.
        let at_boundary = framer.buffered() == 0;
        let avail = n.min(MAGIC.len());
        if at_boundary && greeted && buf[..avail] != MAGIC[..avail] {
            return;
        }
        greeted = true;
        let mut close = false;
        for framed in framer.push(&buf[..n]) {
            match framed {
                Framed::Greeting { .. } => out.extend_from_slice(&Greeting::default().to_bytes()),
                Framed::Message { message, .. } => {
                    close |= answer(&message, recorded, &mut context, &mut asked, sh, &mut out);
                }
                // Garbage, a malformed or oversized request: a player drops the connection.
                _ => close = true,
            }
        }
        if s.write_all(&out).is_err() || close {
            return;
        }
        out.clear();
    }
}

/// Append the answer to `request` to `out`; true when the connection should close.
fn answer(
    request: &Message,
    recorded: Ipv4Addr,
    context: &mut Context,
    asked: &mut HashMap<Key, usize>,
    sh: &Shared,
    out: &mut Vec<u8>,
) -> bool {
    let key = Key::of(recorded, request, context);
    let tx = request.transaction_id;
    // How often this connection asked before (bounded: past the bound, the last answer).
    let nth = if let Some(n) = asked.get_mut(&key) {
        *n += 1;
        *n
    } else if asked.len() < MAX_ASKED {
        asked.insert(key.clone(), 0);
        0
    } else {
        usize::MAX
    };
    match sh.index.answer(&key, nth) {
        Some(list) => {
            sh.stats.lock().unwrap().answered += 1;
            for bytes in list {
                let Ok((mut m, _)) = Message::parse(bytes) else {
                    continue;
                };
                if m.transaction_id == tx {
                    // The client replays the capture's own requests: byte for byte.
                    out.extend_from_slice(bytes);
                } else {
                    m.transaction_id = tx;
                    out.extend_from_slice(&m.to_bytes());
                }
            }
            // Teardown (`0100`): the server closes (`prodjlink.md` 7.3).
            request.message_type == 0x0100
        }
        // Menu close and teardown are never answered, recorded or not (7.3).
        None if matches!(request.message_type, 0x0001 | 0x0100) => request.message_type == 0x0100,
        None => {
            let mut st = sh.stats.lock().unwrap();
            st.unknown += 1;
            if st.unknown_types.len() < MAX_LISTED {
                st.unknown_types.insert(request.message_type);
            }
            drop(st);
            let m = Unavailable {
                request_type: u32::from(request.message_type),
                extra: Vec::new(),
            }
            .to_message(tx);
            out.extend_from_slice(&m.to_bytes());
            request.message_type == 0x0100
        }
    }
}
