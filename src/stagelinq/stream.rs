//! Cuts one direction of a StageLinQ TCP connection into messages. Push the reassembled bytes
//! in whatever chunks they arrive; call `gap()` where bytes are missing. Each complete message
//! comes out with its bytes, its dissection and (when it parses) its Repr. Nothing is
//! dropped: bytes that do not form a message are reported as `unknown` pieces.
//!
//! Framing (`stagelinq.md` 0 item 2, 1.3, 1.4): the directory connection has no length
//! prefix (the id says the length); every service connection may open with a hello (id 0, no
//! prefix) and is then u32 length-prefixed. Buffering is bounded: a message longer than
//! `max_message_len` is reported as `oversize` and its body passed on in pieces as it arrives.

use std::collections::VecDeque;

use crate::dissect::{Depth, Dissection, FieldSink, Proto, Value};

use super::classify::{self, Candidate, StreamKind};
use super::directory::{self, DirectoryMessage, Framing, ServiceAnnouncement};
use super::wire::{self, Token};
use super::{beatinfo, broadcast, filetransfer, statemap, syncing, timesync, Message};

/// Longest message buffered whole (1 MiB). StateMap values, FileTransfer chunks (4096 bytes
/// of data) and BeatInfo emits are far smaller.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 1 << 20;
/// A length prefix above this (64 MiB) is taken as lost framing rather than a real message.
pub const MAX_PLAUSIBLE_LEN: u64 = 64 << 20;
/// Bytes an unclassified stream may buffer while waiting to be recognised.
pub const CLASSIFY_LIMIT: usize = 512;
/// Tokens remembered per stream for finding directory messages after a gap.
const MAX_TOKENS: usize = 8;

/// One message (or undecodable piece) cut from a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamMessage {
    /// Bytes of this direction seen before it (bytes lost in gaps are not counted).
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub dissection: Dissection,
    /// The parsed message; None for unknown pieces and messages that do not parse.
    pub message: Option<Message>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Framing,
    /// Looking for the next message start, from this buffer offset.
    Resync {
        from: usize,
    },
    /// Passing on the rest of an oversize message.
    Skip {
        remaining: u64,
    },
}

/// What the framer found at the start of the buffer.
enum Next {
    Message { len: usize, hello: bool },
    NeedMore,
    Oversize { len: u64 },
    Invalid,
}

/// Per-direction message framer and decoder.
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    kind: Option<StreamKind>,
    announced: Option<String>,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    state: State,
    tokens: Vec<Token>,
    detail: Depth,
    max_message_len: usize,
    out: VecDeque<StreamMessage>,
}

impl StreamDecoder {
    /// A decoder for a stream whose kind is already known.
    pub fn new(kind: StreamKind) -> Self {
        let mut d = Self::auto(None);
        d.kind = Some(kind);
        d
    }

    /// A decoder that recognises the stream from its first bytes; `announced` is the service
    /// name the directory gave for the connection's server port, if any.
    pub fn auto(announced: Option<&str>) -> Self {
        StreamDecoder {
            kind: None,
            announced: announced.map(str::to_string),
            buf: Vec::new(),
            offset: 0,
            state: State::Framing,
            tokens: Vec::new(),
            detail: Depth::Fields,
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            out: VecDeque::new(),
        }
    }

    /// Fill in plain-language meanings (the detail view).
    pub fn with_detail(mut self, detail: impl Into<Depth>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn with_max_message_len(mut self, max: usize) -> Self {
        self.max_message_len = max.max(64);
        self
    }

    /// The stream's kind, once recognised.
    pub fn kind(&self) -> Option<StreamKind> {
        self.kind
    }

    /// Adopt a kind learned elsewhere (e.g. from the other direction of the connection); no
    /// effect once the stream is recognised.
    pub fn set_kind(&mut self, kind: StreamKind) {
        if self.kind.is_none() {
            self.kind = Some(kind);
            self.process();
        }
    }

    /// Bytes waiting for the rest of their message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Add the next bytes of the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.process();
    }

    /// The next complete message, if any.
    pub fn next_message(&mut self) -> Option<StreamMessage> {
        self.out.pop_front()
    }

    /// Push and collect every message completed by these bytes.
    pub fn feed(&mut self, data: &[u8]) -> Vec<StreamMessage> {
        self.push(data);
        self.out.drain(..).collect()
    }

    /// Bytes are missing here: report what was buffered, then look for the next message start.
    pub fn gap(&mut self) {
        if !self.buf.is_empty() {
            let n = self.buf.len();
            self.emit_piece(n, "cut short by a gap in the capture");
        }
        self.state = State::Resync { from: 0 };
        self.process();
    }

    /// `len` bytes are missing here (the reassembler knows how many). When the gap ends
    /// inside a message whose length is already known, framing resumes exactly after that
    /// message; otherwise as `gap()`. Stream offsets count the missing bytes, so they match
    /// the reassembler's.
    pub fn gap_len(&mut self, len: u64) {
        let held = self.buf.len() as u64;
        let pending = match self.state {
            State::Framing => self.pending_total(self.kind),
            _ => None,
        };
        match self.state {
            State::Skip { remaining } if len <= remaining => {
                self.offset = self.offset.saturating_add(len);
                self.state = match remaining - len {
                    0 => State::Framing,
                    remaining => State::Skip { remaining },
                };
                self.process();
            }
            State::Framing if pending.is_some_and(|total| held.saturating_add(len) < total) => {
                let total = pending.unwrap_or(0);
                if held > 0 {
                    self.emit_piece(held as usize, "start of a message cut by a gap");
                }
                self.offset = self.offset.saturating_add(len);
                self.state = State::Skip {
                    remaining: total - held - len,
                };
                self.process();
            }
            _ => {
                self.gap();
                self.offset = self.offset.saturating_add(len);
            }
        }
    }

    /// Total length of the message the buffer starts with, once its header is trustworthy.
    /// Before the stream is recognised, only a hello's length is known.
    fn pending_total(&self, kind: Option<StreamKind>) -> Option<u64> {
        let b = &self.buf;
        let first = wire::read_u32(b, 0, "first word").ok()?;
        let announcement = || match wire::read_u32(b, 20, "name length") {
            Ok(n) if n as usize <= directory::MAX_SERVICE_NAME_BYTES => Some(u64::from(n) + 26),
            _ => None,
        };
        let Some(kind) = kind else {
            return if first == 0 { announcement() } else { None };
        };
        match kind {
            StreamKind::Directory => match first {
                directory::ID_SERVICES_REQUEST => Some(directory::SERVICES_REQUEST_LEN as u64),
                directory::ID_REFERENCE => Some(directory::REFERENCE_LEN as u64),
                directory::ID_SERVICE_ANNOUNCEMENT => announcement(),
                _ => None,
            },
            _ if first == 0 && kind.is_length_prefixed() => announcement(),
            _ if kind.is_length_prefixed() => {
                let ok = classify::candidate(kind, b, &self.tokens, self.max_message_len);
                (ok == Candidate::Yes).then_some(u64::from(first) + 4)
            }
            _ => None,
        }
    }

    /// End of the stream: report whatever is left as unknown.
    pub fn finish(&mut self) -> Vec<StreamMessage> {
        if !self.buf.is_empty() {
            let n = self.buf.len();
            self.emit_piece(n, "incomplete at the end of the stream");
        }
        self.out.drain(..).collect()
    }

    fn process(&mut self) {
        loop {
            if self.buf.is_empty() {
                return;
            }
            // The rest of a message of known length needs no recognising.
            if let State::Skip { remaining } = self.state {
                let n = (self.buf.len() as u64).min(remaining) as usize;
                self.emit_piece(n, "rest of a message too long to buffer or cut by a gap");
                let remaining = remaining - n as u64;
                self.state = if remaining == 0 {
                    State::Framing
                } else {
                    State::Skip { remaining }
                };
                continue;
            }
            let Some(kind) = self.kind.or_else(|| self.try_classify()) else {
                return;
            };
            match self.state {
                State::Skip { .. } => {}
                State::Resync { from } => {
                    if !self.resync(kind, from) {
                        return;
                    }
                }
                State::Framing if matches!(kind, StreamKind::Eaas | StreamKind::Unknown) => {
                    // No framing known: pass the bytes on as they come, in bounded pieces.
                    let n = self.buf.len().min(self.max_message_len);
                    self.emit_piece(n, "stream not recognised as a StageLinQ service");
                }
                State::Framing => match self.next(kind) {
                    Next::Message { len, hello } => self.emit_message(kind, len, hello),
                    Next::NeedMore => return,
                    Next::Oversize { len } => {
                        let n = (self.buf.len() as u64).min(len) as usize;
                        self.emit_oversize(kind, n, len);
                        // An oversize message that arrived whole has no rest to pass on.
                        self.state = match len - n as u64 {
                            0 => State::Framing,
                            remaining => State::Skip { remaining },
                        };
                    }
                    Next::Invalid => self.state = State::Resync { from: 1 },
                },
            }
        }
    }

    fn try_classify(&mut self) -> Option<StreamKind> {
        let k = classify::classify(&self.buf, self.announced.as_deref());
        let k = match k {
            None if self.buf.len() >= CLASSIFY_LIMIT => Some(StreamKind::Unknown),
            k => k,
        };
        self.kind = k;
        k
    }

    /// Find the next plausible message start at or after `from`; report the bytes before it.
    /// Returns false when more bytes are needed to go on. Skipped bytes are held back (so
    /// that one stretch of garbage comes out as one piece) until a start is found or they
    /// exceed `max_message_len`.
    fn resync(&mut self, kind: StreamKind, from: usize) -> bool {
        let mut p = from.min(self.buf.len());
        let found = loop {
            if p >= self.buf.len() {
                break false;
            }
            let c = classify::candidate(kind, &self.buf[p..], &self.tokens, self.max_message_len);
            match c {
                Candidate::Yes => break true,
                Candidate::NeedMore => break false,
                Candidate::No => p += 1,
            }
        };
        if found || self.buf.len() > self.max_message_len {
            if p > 0 {
                self.emit_piece(p, "not a message start (looking for the next one)");
            }
            p = 0;
        }
        self.state = if found {
            State::Framing
        } else {
            State::Resync { from: p }
        };
        found
    }

    fn next(&self, kind: StreamKind) -> Next {
        let b = &self.buf;
        match kind {
            StreamKind::Directory => match directory::frame(b) {
                Framing::Complete(len) => Next::Message { len, hello: false },
                Framing::Incomplete => Next::NeedMore,
                Framing::Invalid => Next::Invalid,
            },
            _ => self.next_prefixed(kind),
        }
    }

    fn next_prefixed(&self, kind: StreamKind) -> Next {
        let b = &self.buf;
        let Ok(len) = wire::read_u32(b, 0, "len") else {
            return Next::NeedMore;
        };
        if len == 0 {
            // A zero first word cannot be a length: it is the hello (`stagelinq.md` 1.4).
            return match directory::frame_announcement(b) {
                Framing::Complete(len) => Next::Message { len, hello: true },
                Framing::Incomplete => Next::NeedMore,
                Framing::Invalid if kind == StreamKind::Syncing => Next::Message {
                    len: 4,
                    hello: false,
                },
                Framing::Invalid => Next::Invalid,
            };
        }
        let total = u64::from(len) + 4;
        // Kinds with a magic or a known header are checked before trusting the length.
        let header_ok = match kind {
            StreamKind::StateMap | StreamKind::FileTransfer | StreamKind::BeatInfo => {
                match classify::candidate(kind, b, &self.tokens, usize::MAX) {
                    Candidate::Yes => true,
                    Candidate::NeedMore => return Next::NeedMore,
                    Candidate::No => false,
                }
            }
            StreamKind::TimeSynchronization => {
                b.len() < 8 || wire::read_u32(b, 4, "id").is_ok_and(|id| id < 16)
            }
            StreamKind::Broadcast => b.get(4).is_none_or(|&c| c == b'{'),
            _ => true,
        };
        if !header_ok || total > MAX_PLAUSIBLE_LEN {
            return Next::Invalid;
        }
        if total > self.max_message_len as u64 {
            return Next::Oversize { len: total };
        }
        if (b.len() as u64) < total {
            return Next::NeedMore;
        }
        Next::Message {
            len: total as usize,
            hello: false,
        }
    }

    fn take(&mut self, n: usize) -> (u64, Vec<u8>) {
        let offset = self.offset;
        let bytes: Vec<u8> = self.buf.drain(..n).collect();
        self.offset += n as u64;
        (offset, bytes)
    }

    fn emit_message(&mut self, kind: StreamKind, len: usize, hello: bool) {
        let (offset, bytes) = self.take(len);
        let (dissection, message) = decode(kind, &bytes, hello, self.detail);
        if let Some(m) = &message {
            self.learn_tokens(m);
        }
        self.out.push_back(StreamMessage {
            offset,
            bytes,
            dissection,
            message,
        });
    }

    fn emit_piece(&mut self, n: usize, reason: &str) {
        if n == 0 {
            return;
        }
        let kind = self.kind.unwrap_or(StreamKind::Unknown);
        let (offset, bytes) = self.take(n);
        let dissection = if kind == StreamKind::Eaas {
            let mut d = super::dissect_unknown(&bytes, "eaas", self.detail, reason);
            d.type_name = "eaas_data".into();
            d.summary = format!("{} bytes of EAAS gRPC/HTTP (not decoded)", bytes.len());
            d
        } else {
            super::dissect_unknown(&bytes, kind.as_str(), self.detail, reason)
        };
        self.out.push_back(StreamMessage {
            offset,
            bytes,
            dissection,
            message: None,
        });
    }

    fn emit_oversize(&mut self, kind: StreamKind, n: usize, declared: u64) {
        let (offset, bytes) = self.take(n);
        let mut d = Dissection::new(Proto::StageLinq, "oversize");
        let mut s = FieldSink::new(&bytes, &mut d, self.detail);
        wire::dissect_prefix(&mut s);
        s.derived("stream", Value::str(kind.as_str()));
        s.derived("limit", Value::U(self.max_message_len as u64));
        s.unknown_rest(4);
        d.malformed = None;
        d.summary = format!(
            "{declared}-byte {} message exceeds the {}-byte buffering limit; passed on in pieces",
            kind.as_str(),
            self.max_message_len
        );
        self.out.push_back(StreamMessage {
            offset,
            bytes,
            dissection: d,
            message: None,
        });
    }

    fn learn_tokens(&mut self, m: &Message) {
        let found: &[Token] = match m {
            Message::Directory(DirectoryMessage::ServicesRequest(r)) => &[r.token],
            Message::Directory(DirectoryMessage::ServiceAnnouncement(a)) | Message::Hello(a) => {
                &[a.token]
            }
            Message::Directory(DirectoryMessage::Reference(r)) => &[r.token, r.token2],
            _ => &[],
        };
        for t in found {
            if !t.is_zero() && !self.tokens.contains(t) && self.tokens.len() < MAX_TOKENS {
                self.tokens.push(*t);
            }
        }
    }
}

/// Dissect and parse one framed message of a stream of `kind`.
pub fn decode(
    kind: StreamKind,
    b: &[u8],
    hello: bool,
    detail: impl Into<Depth>,
) -> (Dissection, Option<Message>) {
    let (mut d, parsed) = if hello {
        (
            directory::dissect_hello(b, detail),
            ServiceAnnouncement::parse(b).map(Message::Hello),
        )
    } else {
        match kind {
            StreamKind::Directory => (
                directory::dissect(b, detail),
                DirectoryMessage::parse(b).map(Message::Directory),
            ),
            StreamKind::StateMap => (
                statemap::dissect(b, detail),
                statemap::StateMapMessage::parse(b).map(Message::StateMap),
            ),
            StreamKind::BeatInfo => (
                beatinfo::dissect(b, detail),
                beatinfo::BeatInfoMessage::parse(b).map(Message::BeatInfo),
            ),
            StreamKind::FileTransfer => (
                filetransfer::dissect(b, detail),
                filetransfer::FileTransferMessage::parse(b).map(Message::FileTransfer),
            ),
            StreamKind::TimeSynchronization => (
                timesync::dissect(b, detail),
                timesync::TimeSyncMessage::parse(b).map(Message::TimeSync),
            ),
            StreamKind::Broadcast => (
                broadcast::dissect(b, detail),
                broadcast::BroadcastMessage::parse(b).map(Message::Broadcast),
            ),
            StreamKind::Syncing => (
                syncing::dissect(b, detail),
                syncing::SyncingMessage::parse(b).map(Message::Syncing),
            ),
            StreamKind::Eaas | StreamKind::Unknown => {
                return (
                    super::dissect_unknown(b, kind.as_str(), detail, "stream not recognised"),
                    None,
                )
            }
        }
    };
    match parsed {
        Ok(m) => (d, Some(m)),
        Err(e) => {
            d.set_malformed(e.to_string());
            (d, None)
        }
    }
}
