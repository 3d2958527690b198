//! Recorded StageLinQ units, live (issue 14, "Answering"): for each unit in the
//! [`SlqIndex`], its directory and every service it announced listen on the unit's replay
//! address at the recorded ports while the replay runs (the replayed HOWDY names that
//! directory port).
//!
//! - directory: on accept the unit's recorded ServicesRequest; on the client's ServicesRequest
//!   every recorded announcement in one write (ports rewritten when a recorded port could not
//!   be had); pings echoed as a unit does (`device/stagelinq/services.rs`);
//! - StateMap: after the client's hello, the subscriptions the unit sent on the recorded
//!   connection; on a subscribe, the value the unit sent for that path, as it sent it;
//!   unknown paths get nothing, as on a real unit (and are counted);
//! - BeatInfo: on start, the recorded beat frames at their recorded pacing; on stop, nothing
//!   more;
//! - FileTransfer: a request recorded with an answer gets it (matched by type and arguments,
//!   the live transaction id); another gets what a unit with no source answers
//!   (`device/stagelinq/file_transfer`);
//! - the other services (TimeSynchronization, Broadcast, Syncing): the connection is accepted
//!   and read, nothing is answered (not built yet).
//!
//! Bytes no message starts with close that connection only (`device/stagelinq/framing.rs`).
//! Threads and bounds as in `serve.rs`.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::addresses::AddressTable;
use super::stagelinq_answers::{ft_key, SlqIndex, Unit};
use crate::device::stagelinq::file_transfer::{FileTransferSession, Verdict as FtVerdict, Volume};
use crate::device::stagelinq::framing::{InBuf, Mode};
use crate::stagelinq::beatinfo::BeatInfoMessage;
use crate::stagelinq::directory::DirectoryMessage;
use crate::stagelinq::filetransfer::FileTransferMessage;
use crate::stagelinq::statemap::StateMapMessage;

/// Live connections at once, over all units.
pub use super::serve::MAX_CONNECTIONS;
use super::serve::{accept_loop as accept_connections, listener, Gate};
/// Distinct unanswered paths listed.
const MAX_LISTED: usize = 64;
/// The longest pause kept between two recorded beat frames.
const MAX_BEAT_GAP: Duration = Duration::from_secs(1);

/// What serving did.
#[derive(Debug, Default, Clone)]
pub struct SlqStats {
    pub connections: u64,
    /// Directory ServicesRequests answered with the recorded announcements.
    pub directories: u64,
    /// StateMap subscriptions answered with a recorded value.
    pub values: u64,
    /// StateMap subscriptions to paths with no recorded value (not answered, as a unit does).
    pub unknown_paths: u64,
    pub unknown_listed: BTreeSet<String>,
    pub beat_frames: u64,
    /// FileTransfer requests with no recorded answer, answered as a unit with no source.
    pub file_transfer_requests: u64,
    /// FileTransfer requests answered from the capture.
    pub file_transfer_recorded: u64,
    /// Connections closed for bytes no message starts with.
    pub refused: u64,
    pub errors: Vec<String>,
    /// (recorded unit, replay address, directory port) of each unit listening.
    pub listening: Vec<(Ipv4Addr, Ipv4Addr, u16)>,
}

/// The running units; [`SlqServing::stop`] ends them.
pub struct SlqServing {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub stats: Arc<Mutex<SlqStats>>,
}

struct Shared {
    stats: Arc<Mutex<SlqStats>>,
    stop: Arc<AtomicBool>,
    live: AtomicUsize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Directory,
    StateMap,
    BeatInfo,
    FileTransfer,
    Other,
}

impl SlqServing {
    /// Start every recorded unit that has a replay address.
    pub fn start(index: Arc<SlqIndex>, table: &AddressTable) -> SlqServing {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(SlqStats::default()));
        let shared = Arc::new(Shared {
            stats: stats.clone(),
            stop: stop.clone(),
            live: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        let mut units: Vec<_> = index.units.iter().collect();
        units.sort_by_key(|(ip, _)| **ip);
        for (&recorded, unit) in units {
            let Some(ip) = table.replay_ip(recorded) else {
                stats.lock().unwrap().errors.push(format!(
                    "StageLinQ unit {recorded} has no replay address (the table was full)"
                ));
                continue;
            };
            // The services first: the announcements name the ports they got.
            // The index is shared, not copied: only the announcements are the unit's own.
            let mut announcements = Vec::new();
            let mut listeners = Vec::new();
            for a in &unit.services {
                let l = match listener(ip, a.port).or_else(|_| listener(ip, 0)) {
                    Ok(l) => l,
                    Err(e) => {
                        let msg = format!("{} of {recorded} on {ip}: {e}", a.service);
                        stats.lock().unwrap().errors.push(msg);
                        continue;
                    }
                };
                let port = l.local_addr().map(|x| x.port()).unwrap_or(a.port);
                match DirectoryMessage::parse(&a.bytes) {
                    Ok(DirectoryMessage::ServiceAnnouncement(mut m)) if port != a.port => {
                        m.port = port;
                        announcements.extend_from_slice(&m.to_bytes());
                    }
                    _ => announcements.extend_from_slice(&a.bytes),
                }
                let kind = match a.service.as_str() {
                    "StateMap" => Kind::StateMap,
                    "BeatInfo" => Kind::BeatInfo,
                    "FileTransfer" => Kind::FileTransfer,
                    _ => Kind::Other,
                };
                listeners.push((l, kind));
            }
            let dir = match listener(ip, unit.directory_port).or_else(|_| listener(ip, 0)) {
                Ok(l) => l,
                Err(e) => {
                    let msg = format!("StageLinQ directory of {recorded} on {ip}: {e}");
                    stats.lock().unwrap().errors.push(msg);
                    continue;
                }
            };
            let dir_port = dir
                .local_addr()
                .map(|x| x.port())
                .unwrap_or(unit.directory_port);
            listeners.push((dir, Kind::Directory));
            let live = Arc::new(Live {
                index: index.clone(),
                recorded,
                announcements,
            });
            for (l, kind) in listeners {
                let (sh, live) = (shared.clone(), live.clone());
                threads.push(std::thread::spawn(move || accept_loop(l, kind, &live, &sh)));
            }
            stats
                .lock()
                .unwrap()
                .listening
                .push((recorded, ip, dir_port));
        }
        SlqServing {
            stop,
            threads,
            stats,
        }
    }

    /// End every listener and connection and return what was served.
    pub fn stop(self) -> SlqStats {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let s = self.stats.lock().unwrap().clone();
        s
    }
}

/// One unit being served.
struct Live {
    index: Arc<SlqIndex>,
    recorded: Ipv4Addr,
    /// Its announcements as served (ports rewritten where the recorded one was taken).
    announcements: Vec<u8>,
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

/// A service of a unit, on the accept loop the dbserver uses too.
fn accept_loop(l: TcpListener, kind: Kind, live: &Arc<Live>, sh: &Arc<Shared>) {
    let live = live.clone();
    accept_connections(l, sh, move |s, sh| {
        if let Some(unit) = live.index.units.get(&live.recorded) {
            serve(s, kind, unit, &live.announcements, sh);
        }
    });
}

/// Read what the client sent: Some(0) when nothing came within a tick, None when it closed,
/// failed, or the replay ended.
fn read_some(s: &mut TcpStream, buf: &mut [u8], sh: &Shared) -> Option<usize> {
    if sh.stop.load(Ordering::Relaxed) {
        return None;
    }
    match s.read(buf) {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ) =>
        {
            Some(0)
        }
        Err(_) => None,
    }
}

/// A beat stream being sent: the next frame and when the stream started.
struct Beats {
    next: usize,
    start: Instant,
}

/// FileTransfer: a request the unit answered in the capture (same type and arguments) gets
/// that answer with the live transaction id; any other gets what a unit with no source
/// answers (`device/stagelinq/file_transfer`: an empty source list, "no such file" for a
/// path), and is counted. The session's bounds close a hostile client.
fn file_transfer(mut s: TcpStream, unit: &Unit, sh: &Shared) {
    let mut session = FileTransferSession::new(Arc::new(Volume::empty()));
    let mut inbuf = InBuf::new(Mode::ServiceHello);
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    loop {
        let Some(n) = read_some(&mut s, &mut buf, sh) else {
            return;
        };
        if n == 0 {
            continue;
        }
        let mut messages = Vec::new();
        let bad = inbuf.feed(&buf[..n], |m| messages.push(m)).is_err();
        let mut close = false;
        for m in messages {
            let recorded = ft_key(&m).and_then(|(tx, key)| {
                let a = unit.ft_answers.get(&key).filter(|a| !a.is_empty())?;
                Some((tx, a))
            });
            match recorded {
                Some((tx, answers)) => {
                    for a in answers {
                        match FileTransferMessage::parse(a) {
                            Ok(m) if m.txid != tx => out.extend_from_slice(
                                &FileTransferMessage { txid: tx, ..m }.to_bytes(),
                            ),
                            _ => out.extend_from_slice(a),
                        }
                    }
                    sh.stats.lock().unwrap().file_transfer_recorded += 1;
                }
                None => {
                    // The hello, or a request never recorded: the unit-without-source session.
                    close |= session.on_bytes(&m, &mut out) == FtVerdict::Close;
                    let n_ex = session.take_exchanges().len() as u64;
                    sh.stats.lock().unwrap().file_transfer_requests += n_ex;
                }
            }
            if close {
                break;
            }
        }
        if !out.is_empty() && s.write_all(&out).is_err() {
            return;
        }
        out.clear();
        if bad || close {
            sh.stats.lock().unwrap().refused += 1;
            return;
        }
    }
}

fn serve(mut s: TcpStream, kind: Kind, unit: &Unit, announcements: &[u8], sh: &Shared) {
    if kind == Kind::FileTransfer {
        return file_transfer(s, unit, sh);
    }
    let mode = match kind {
        Kind::Directory => Mode::Directory,
        _ => Mode::ServiceHello,
    };
    let mut inbuf = InBuf::new(mode);
    let mut out = Vec::new();
    if kind == Kind::Directory {
        if let Some(r) = &unit.own_request {
            if s.write_all(r).is_err() {
                return;
            }
        }
    }
    let mut buf = vec![0u8; 4096];
    let mut beats: Option<Beats> = None;
    let mut hello = kind != Kind::Directory;
    loop {
        let Some(n) = read_some(&mut s, &mut buf, sh) else {
            return;
        };
        let mut messages = Vec::new();
        let bad = inbuf.feed(&buf[..n], |m| messages.push(m)).is_err();
        for m in messages {
            if hello {
                // The client's service hello opens the connection; on StateMap the unit's own
                // subscriptions follow it.
                hello = false;
                if kind == Kind::StateMap {
                    for sub in &unit.own_subscriptions {
                        out.extend_from_slice(sub);
                    }
                }
                continue;
            }
            answer(kind, unit, announcements, &m, &mut beats, sh, &mut out);
        }
        if let Some(b) = &mut beats {
            let elapsed = b.start.elapsed();
            while let Some((at, frame)) = unit.beats.get(b.next) {
                let at = Duration::from_nanos((*at).max(0) as u64);
                if at > elapsed {
                    // A recorded pause longer than a second is cut short.
                    if at - elapsed > MAX_BEAT_GAP {
                        if let Some(t) = b.start.checked_sub(at - elapsed - MAX_BEAT_GAP) {
                            b.start = t;
                        }
                    }
                    break;
                }
                out.extend_from_slice(frame);
                b.next += 1;
                sh.stats.lock().unwrap().beat_frames += 1;
            }
            if b.next >= unit.beats.len() {
                beats = None;
            }
        }
        if !out.is_empty() && s.write_all(&out).is_err() {
            return;
        }
        out.clear();
        if bad {
            sh.stats.lock().unwrap().refused += 1;
            return;
        }
    }
}

fn answer(
    kind: Kind,
    unit: &Unit,
    announcements: &[u8],
    m: &[u8],
    beats: &mut Option<Beats>,
    sh: &Shared,
    out: &mut Vec<u8>,
) {
    match kind {
        Kind::Directory => match DirectoryMessage::parse(m) {
            Ok(DirectoryMessage::ServicesRequest(_)) => {
                out.extend_from_slice(announcements);
                sh.stats.lock().unwrap().directories += 1;
            }
            Ok(DirectoryMessage::Reference(r)) if r.is_ping() && Some(r.token) != unit.token => {
                if let Some(own) = unit.token {
                    out.extend_from_slice(&r.echo(own).to_bytes());
                }
            }
            _ => {}
        },
        Kind::StateMap => {
            // Values and sets the client sends need no answer.
            let Ok(StateMapMessage::Subscribe { path, .. }) = StateMapMessage::parse(m) else {
                return;
            };
            match unit.values.get(&path) {
                Some(v) => {
                    out.extend_from_slice(v);
                    sh.stats.lock().unwrap().values += 1;
                }
                None => {
                    let mut st = sh.stats.lock().unwrap();
                    st.unknown_paths += 1;
                    if st.unknown_listed.len() < MAX_LISTED {
                        st.unknown_listed.insert(path);
                    }
                }
            }
        }
        Kind::BeatInfo => match BeatInfoMessage::parse(m) {
            Ok(BeatInfoMessage::StartStream) => {
                *beats = Some(Beats {
                    next: 0,
                    start: Instant::now(),
                })
            }
            Ok(BeatInfoMessage::StopStream) => *beats = None,
            _ => {}
        },
        Kind::FileTransfer | Kind::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stagelinq::directory::ServiceAnnouncement;
    use crate::stagelinq::filetransfer::{FileStat, FileTransferBody as B};
    use crate::stagelinq::Token;
    use std::collections::HashMap;
    use std::net::SocketAddr;

    fn read_message(s: &mut TcpStream) -> FileTransferMessage {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut m = len.to_vec();
        m.resize(4 + u32::from_be_bytes(len) as usize, 0);
        s.read_exact(&mut m[4..]).unwrap();
        FileTransferMessage::parse(&m).unwrap()
    }

    #[test]
    fn file_transfer_answers_recorded_requests_with_the_live_txid() {
        let recorded = Ipv4Addr::new(10, 0, 0, 2);
        let unit: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let ft: SocketAddr = "10.0.0.2:41001".parse().unwrap();
        let client: SocketAddr = "10.0.0.3:50000".parse().unwrap();
        let mut index = SlqIndex::default();
        let mut req = HashMap::new();
        let a = ServiceAnnouncement::new(Token([1; 16]), "FileTransfer", 41001).to_bytes();
        index.take(unit, client, 0, &a, &mut req);
        let stat = |tx| {
            FileTransferMessage::new(
                tx,
                B::StatRequest {
                    path: "/USB/Engine Library/Database2/m.db".into(),
                },
            )
            .to_bytes()
        };
        index.take(client, ft, 0, &stat(5), &mut req);
        let answer = FileTransferMessage::new(5, B::FileStat(FileStat::file(12345))).to_bytes();
        index.take(ft, client, 0, &answer, &mut req);
        let mut table = AddressTable::new(Ipv4Addr::new(127, 0, 148, 2));
        table.add(recorded);
        let ip = table.replay_ip(recorded).unwrap();
        let serving = SlqServing::start(Arc::new(index), &table);
        let mut s = TcpStream::connect((ip, 41001)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(&ServiceAnnouncement::new(Token([9; 16]), "FileTransfer", 1).to_bytes())
            .unwrap();
        s.write_all(&stat(99)).unwrap();
        let m = read_message(&mut s);
        assert_eq!(m.txid, 99);
        assert_eq!(m.body, B::FileStat(FileStat::file(12345)));
        // Unrecorded: a unit without the path.
        let other = FileTransferMessage::new(
            7,
            B::StatRequest {
                path: "/X/y".into(),
            },
        );
        s.write_all(&other.to_bytes()).unwrap();
        let m = read_message(&mut s);
        assert_eq!(m.txid, 7);
        assert_eq!(m.body, B::FileStat(FileStat::missing()));
        drop(s);
        let st = serving.stop();
        assert_eq!(
            (st.file_transfer_recorded, st.file_transfer_requests),
            (1, 1),
            "{st:?}"
        );
    }
}
