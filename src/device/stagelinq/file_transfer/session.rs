//! One FileTransfer connection of an emulated unit (`stagelinq.md` 1.4, 1.9): the client's
//! service hello, then `fltx` requests answered from the [`Volume`].
//!
//! Answers, by request (every answer echoes the request's txid: honusz counts txids and
//! matches answers by them, npm `stagelinq` always sends 0 and reads a non-zero txid as the
//! unit asking for *its* sources, `sl:dist/services/FileTransfer.js` `parseData`):
//! * `0x7d2` with `u32 0`: `0x3` with the source names and the trailer `01 01 01` (the client
//!   asserts those three bytes).
//! * `0x7d2` with a path: `0x3` with the folder's names and `01 01 01`; for a file or a path
//!   that is not there, no names and `01 01 00`, the empty answer honusz's listener gives.
//! * `0x7d1` stat: `0x1`, 53 bytes (the client asserts the length and reads the size at 49):
//!   a file gets exists, permissions `77 55` and its size; a folder exists with is-dir set and
//!   size 0; a missing path is all zeros, size 0, which clients read as "not there" (npm
//!   `stagelinq` falls back from `Database2/m.db` to `m.db` on size 0).
//! * `0x7d4` open: `0x4` with the size and the transfer id (1, 2... per connection; the
//!   reference's example has 1); a missing path gets size 0 and id 0 ("doesn't exist or is a
//!   streaming file", as the client words it).
//! * `0x7d5` chunks `first..=last` of the open file: `0x5` messages of 4096 bytes (the last
//!   one shorter), stopping at the end of the file however far the range goes (the client
//!   over-requests on purpose: "the device stops at EOF"). The second word (1 for honusz, the
//!   transfer id for chrisle) is not checked: both name the file opened last.
//! * `0x7d6` transfer complete, `0x7d3` end of inquiry, anything else: no answer.
//!
//! Bounds: a message over [`Limits::max_message`] or bytes that are not a hello or an `fltx`
//! message close the connection (nothing past one message is buffered); a download is sent
//! [`Limits::chunk_window`] bytes at a time, more only when the transport reports the queue
//! drained ([`FileTransferSession::on_drained`]), so a client that never reads holds at most a
//! window; answers piling past [`Limits::max_backlog`] close the connection.

use std::sync::Arc;

use crate::stagelinq::directory::{self, Framing, ServiceAnnouncement};
use crate::stagelinq::filetransfer::{FileStat, FileTransferBody, FileTransferMessage, CHUNK_SIZE};
use crate::stagelinq::wire;

use super::volume::{Entry, Volume};
use super::Verdict;

/// Bounds that keep a hostile client from growing the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted (length prefix included). Requests are a path at most; real
    /// paths are well under 1 KiB.
    pub max_message: usize,
    /// Download bytes queued at once before waiting for the queue to drain.
    pub chunk_window: usize,
    /// Queued answer bytes beyond which the client counts as not reading.
    pub max_backlog: usize,
    /// Exchanges kept for [`FileTransferSession::take_exchanges`] between two takes.
    pub max_log: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 16 * 1024,
            chunk_window: 64 * 1024,
            max_backlog: 1 << 20,
            max_log: 256,
        }
    }
}

/// Why the session asked to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The first bytes were not a service hello.
    NoHello,
    /// Bytes that are not an `fltx` message (garbage, a malformed message).
    Garbage(String),
    /// A length prefix over [`Limits::max_message`] (a length of 4 GiB, say).
    TooLarge,
    /// More than [`Limits::max_backlog`] answer bytes waiting.
    NotReading,
}

/// One request and what it got, for the unit's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub txid: u32,
    pub request: u32,
    /// msg-id of the first answer; None for requests that get none.
    pub answer: Option<u32>,
}

/// The chunks still to send of one `0x7d5` request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    txid: u32,
    next: u64,
    last: u64,
}

/// One accepted FileTransfer connection.
#[derive(Debug)]
pub struct FileTransferSession {
    volume: Arc<Volume>,
    limits: Limits,
    buf: Vec<u8>,
    hello: Option<ServiceAnnouncement>,
    closed: Option<CloseReason>,
    /// The file opened last and its transfer id.
    open: Option<(String, u32)>,
    transfers: u32,
    pending: Option<Pending>,
    log: Vec<Exchange>,
}

impl FileTransferSession {
    pub fn new(volume: Arc<Volume>) -> Self {
        Self::with_limits(volume, Limits::default())
    }

    pub fn with_limits(volume: Arc<Volume>, limits: Limits) -> Self {
        FileTransferSession {
            volume,
            limits,
            buf: Vec::new(),
            hello: None,
            closed: None,
            open: None,
            transfers: 0,
            pending: None,
            log: Vec::new(),
        }
    }

    /// The client's service hello, once it came.
    pub fn hello(&self) -> Option<&ServiceAnnouncement> {
        self.hello.as_ref()
    }

    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// Bytes held waiting for the rest of a message (under two [`Limits::max_message`]).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True while a download has chunks left to send.
    pub fn sending(&self) -> bool {
        self.pending.is_some()
    }

    /// The exchanges since the last call (the oldest dropped past [`Limits::max_log`]).
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.log)
    }

    /// Feed bytes from the client; answers are appended to `out`, the connection's send
    /// queue (whatever it still holds counts against the bounds).
    pub fn on_bytes(&mut self, input: &[u8], out: &mut Vec<u8>) -> Verdict {
        if self.closed.is_some() {
            return Verdict::Close;
        }
        // At most one bound's worth of new bytes at a time, so the buffer stays under two.
        for part in input.chunks(self.limits.max_message) {
            self.buf.extend_from_slice(part);
            while let Some(len) = match self.next_len() {
                Ok(len) => len,
                Err(reason) => return self.close(reason),
            } {
                let rest = self.buf.split_off(len);
                let message = std::mem::replace(&mut self.buf, rest);
                if self.on_message(&message, out) == Verdict::Close {
                    return Verdict::Close;
                }
                if out.len() > self.limits.max_backlog {
                    return self.close(CloseReason::NotReading);
                }
            }
        }
        self.pump(out);
        Verdict::Keep
    }

    /// The transport sent some of the queue: queue the next chunks of a download, up to the
    /// window.
    pub fn on_drained(&mut self, out: &mut Vec<u8>) -> Verdict {
        if self.closed.is_some() {
            return Verdict::Close;
        }
        self.pump(out);
        Verdict::Keep
    }

    /// Length of the next whole message in the buffer; Ok(None) when more bytes are needed.
    fn next_len(&self) -> Result<Option<usize>, CloseReason> {
        if self.hello.is_none() {
            return match directory::frame_announcement(&self.buf) {
                Framing::Complete(n) => Ok(Some(n)),
                Framing::Incomplete => Ok(None),
                Framing::Invalid => Err(CloseReason::NoHello),
            };
        }
        let Ok(n) = wire::read_u32(&self.buf, 0, "length") else {
            return Ok(None);
        };
        let total = (n as usize).saturating_add(4);
        if total > self.limits.max_message {
            return Err(CloseReason::TooLarge);
        }
        Ok((self.buf.len() >= total).then_some(total))
    }

    fn close(&mut self, reason: CloseReason) -> Verdict {
        self.closed.get_or_insert(reason);
        self.buf = Vec::new();
        self.pending = None;
        self.open = None;
        Verdict::Close
    }

    fn record(&mut self, txid: u32, request: u32, answer: Option<u32>) {
        if self.log.len() >= self.limits.max_log {
            self.log.remove(0);
        }
        self.log.push(Exchange {
            txid,
            request,
            answer,
        });
    }

    fn on_message(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Verdict {
        if self.hello.is_none() {
            return match ServiceAnnouncement::parse(bytes) {
                Ok(h) => {
                    self.hello = Some(h);
                    Verdict::Keep
                }
                Err(_) => self.close(CloseReason::NoHello),
            };
        }
        let m = match FileTransferMessage::parse(bytes) {
            Ok(m) => m,
            Err(e) => return self.close(CloseReason::Garbage(e.to_string())),
        };
        let request = m.body.msg_id();
        let answer = match m.body {
            FileTransferBody::ListRequest { path } => Some(self.listing(&path)),
            FileTransferBody::StatRequest { path } => Some(self.stat(&path)),
            FileTransferBody::OpenRequest { path, .. } => Some(self.open(&path)),
            FileTransferBody::ChunkRequest {
                first_chunk,
                last_chunk,
                ..
            } => {
                self.pending = self.open.as_ref().map(|_| Pending {
                    txid: m.txid,
                    next: first_chunk,
                    last: last_chunk,
                });
                self.record(m.txid, request, None);
                return Verdict::Keep;
            }
            FileTransferBody::TransferComplete => {
                self.pending = None;
                self.open = None;
                None
            }
            _ => None,
        };
        self.record(
            m.txid,
            request,
            answer.as_ref().map(FileTransferBody::msg_id),
        );
        if let Some(body) = answer {
            out.extend_from_slice(&FileTransferMessage::new(m.txid, body).to_bytes());
        }
        Verdict::Keep
    }

    fn listing(&self, path: &str) -> FileTransferBody {
        let (names, is_directory) = if path.is_empty() {
            (self.volume.sources().to_vec(), 1)
        } else {
            match self.volume.list(path) {
                Some(names) => (names, 1),
                None => (Vec::new(), 0),
            }
        };
        FileTransferBody::DirectoryListing {
            names,
            first: 1,
            last: 1,
            is_directory,
        }
    }

    fn stat(&self, path: &str) -> FileTransferBody {
        FileTransferBody::FileStat(match self.volume.lookup(path) {
            Some(Entry::File(f)) => FileStat::file(f.len() as u64),
            Some(Entry::Directory) => FileStat::directory(),
            None => FileStat::missing(),
        })
    }

    fn open(&mut self, path: &str) -> FileTransferBody {
        self.pending = None;
        let (size, transfer_id) = match self.volume.lookup(path) {
            Some(Entry::File(f)) => {
                self.transfers = self.transfers.wrapping_add(1).max(1);
                self.open = Some((path.to_string(), self.transfers));
                (f.len() as u32, self.transfers)
            }
            _ => {
                self.open = None;
                (0, 0)
            }
        };
        FileTransferBody::TransferInfo {
            unknown_0: 0,
            size,
            transfer_id,
        }
    }

    /// Queue chunks of the pending download until the window is full or the range (or the
    /// file) ends.
    fn pump(&mut self, out: &mut Vec<u8>) {
        let (Some(mut p), Some((path, _))) = (self.pending, self.open.as_ref()) else {
            self.pending = None;
            return;
        };
        let Some(Entry::File(file)) = self.volume.lookup(path) else {
            self.pending = None;
            return;
        };
        while out.len() < self.limits.chunk_window {
            let start = p.next.saturating_mul(CHUNK_SIZE as u64);
            if p.next > p.last || start >= file.len() as u64 {
                self.pending = None;
                return;
            }
            let start = start as usize;
            let data = &file[start..(start + CHUNK_SIZE).min(file.len())];
            let chunk = FileTransferBody::Chunk {
                unknown_0: 0,
                offset: start as u32,
                data: data.to_vec(),
            };
            out.extend_from_slice(&FileTransferMessage::new(p.txid, chunk).to_bytes());
            p.next += 1;
        }
        self.pending = Some(p);
    }
}
