//! Frames one direction of a dbserver TCP stream into messages.
//!
//! dbserver messages have no outer length and several can share a segment or span many
//! (`prodjlink.md` 7.2), so the framer parses fields as bytes arrive. The first bytes of a
//! direction are the greeting. After a gap in the stream (lost segments) the bytes that follow
//! are unsynchronised: the framer scans for the next message magic `11 87 23 49 ae`, and a
//! candidate only counts once its fixed header parses. It buffers at most `max_buffer` bytes and
//! reports every byte it throws away.

use super::message::{Greeting, Message, MAGIC};
use super::Error;

/// Default buffer bound. The largest real message seen is a 64 KB waveform detail (CAP S10j);
/// colour and 3-band detail waveforms of long tracks stay well under this.
pub const DEFAULT_MAX_BUFFER: usize = 1 << 20;
/// The smallest bound accepted: a message header plus a little.
const MIN_MAX_BUFFER: usize = 64;

/// Why bytes were thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// A partial message cut by a gap, or bytes after a gap before the next message.
    Gap,
    /// Bytes that do not start a message: the direction began mid-stream, or a malformed
    /// message was followed by more garbage.
    Unsynchronised,
    /// A message that needs more than `max_buffer` bytes.
    TooLarge,
    /// Bytes left when the stream ended.
    EndOfStream,
}

/// What the framer found. Offsets count the bytes pushed into this direction so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    Greeting {
        offset: u64,
        greeting: Greeting,
    },
    Message {
        offset: u64,
        bytes: Vec<u8>,
        message: Message,
    },
    /// Bytes that start with the magic but do not fit the layout (up to the next magic).
    Malformed {
        offset: u64,
        bytes: Vec<u8>,
        error: Error,
    },
    Discarded {
        offset: u64,
        bytes: Vec<u8>,
        reason: Discard,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing framed yet: a greeting or a message may come first.
    Start,
    /// The buffer starts at a message boundary.
    Synced,
    /// Looking for the next magic from `scan_from`; bytes before it are discarded for `reason`.
    Resync { scan_from: usize, reason: Discard },
}

/// Framer for one direction of one connection.
#[derive(Debug, Clone)]
pub struct MessageFramer {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    state: State,
    max_buffer: usize,
    out: Vec<Framed>,
}

impl Default for MessageFramer {
    fn default() -> Self {
        MessageFramer::new()
    }
}

impl MessageFramer {
    pub fn new() -> Self {
        MessageFramer::with_max_buffer(DEFAULT_MAX_BUFFER)
    }

    /// A framer that never holds more than `max_buffer` bytes (at least 64).
    pub fn with_max_buffer(max_buffer: usize) -> Self {
        MessageFramer {
            buf: Vec::new(),
            offset: 0,
            state: State::Start,
            max_buffer: max_buffer.max(MIN_MAX_BUFFER),
            out: Vec::new(),
        }
    }

    /// Bytes currently held waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feed the next bytes of the stream; returns what they completed, in stream order.
    pub fn push(&mut self, data: &[u8]) -> Vec<Framed> {
        let mut rest = data;
        loop {
            let take = (self.max_buffer - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.process();
            if self.buf.len() >= self.max_buffer {
                self.overflow();
            }
            if rest.is_empty() {
                break;
            }
        }
        std::mem::take(&mut self.out)
    }

    /// Bytes are missing here: drop any partial message and resynchronise on the next magic.
    pub fn gap(&mut self) -> Vec<Framed> {
        if !self.buf.is_empty() {
            self.discard(self.buf.len(), Discard::Gap);
        }
        self.state = State::Resync {
            scan_from: 0,
            reason: Discard::Gap,
        };
        std::mem::take(&mut self.out)
    }

    /// The stream ended: report whatever is left.
    pub fn finish(&mut self) -> Vec<Framed> {
        if !self.buf.is_empty() {
            match (self.state, Message::parse(&self.buf)) {
                (State::Synced, Err(error)) => {
                    let bytes = std::mem::take(&mut self.buf);
                    let offset = self.offset;
                    self.offset += bytes.len() as u64;
                    self.out.push(Framed::Malformed {
                        offset,
                        bytes,
                        error,
                    });
                }
                _ => self.discard(self.buf.len(), Discard::EndOfStream),
            }
        }
        std::mem::take(&mut self.out)
    }

    fn process(&mut self) {
        loop {
            let progressed = match self.state {
                State::Start => self.start(),
                State::Synced => self.synced(),
                State::Resync { scan_from, reason } => self.resync(scan_from, reason),
            };
            if !progressed || self.buf.is_empty() {
                return;
            }
        }
    }

    /// Greeting, message or mid-stream start.
    fn start(&mut self) -> bool {
        let avail = self.buf.len().min(MAGIC.len());
        if self.buf[..avail] == MAGIC[..avail] {
            if avail < MAGIC.len() {
                return false;
            }
            self.state = State::Synced;
            return true;
        }
        match Greeting::parse(&self.buf) {
            Ok((greeting, n)) => {
                self.out.push(Framed::Greeting {
                    offset: self.offset,
                    greeting,
                });
                self.drain(n);
                self.state = State::Synced;
            }
            Err(e) if e.is_incomplete() => return false,
            Err(_) => {
                self.state = State::Resync {
                    scan_from: 0,
                    reason: Discard::Unsynchronised,
                }
            }
        }
        true
    }

    fn synced(&mut self) -> bool {
        match Message::parse(&self.buf) {
            Ok((message, n)) => {
                let bytes = self.buf[..n].to_vec();
                self.out.push(Framed::Message {
                    offset: self.offset,
                    bytes,
                    message,
                });
                self.drain(n);
                true
            }
            Err(Error::Incomplete { need }) => {
                if need > self.max_buffer {
                    self.discard(self.buf.len(), Discard::TooLarge);
                    self.state = State::Resync {
                        scan_from: 0,
                        reason: Discard::TooLarge,
                    };
                }
                false
            }
            Err(error) => {
                // The malformed record runs to the next magic; without one in sight, keep the
                // last four bytes (a magic may straddle the next push) and resynchronise.
                let end = find_magic(&self.buf, 1)
                    .unwrap_or(self.buf.len().saturating_sub(MAGIC.len() - 1).max(1));
                let bytes = self.buf[..end].to_vec();
                self.out.push(Framed::Malformed {
                    offset: self.offset,
                    bytes,
                    error,
                });
                self.drain(end);
                self.state = State::Resync {
                    scan_from: 0,
                    reason: Discard::Unsynchronised,
                };
                true
            }
        }
    }

    fn resync(&mut self, scan_from: usize, reason: Discard) -> bool {
        let Some(at) = find_magic(&self.buf, scan_from) else {
            let keep = MAGIC.len() - 1;
            if self.buf.len() > keep {
                self.discard(self.buf.len() - keep, reason);
            }
            self.state = State::Resync {
                scan_from: 0,
                reason,
            };
            return false;
        };
        match Message::parse(&self.buf[at..]) {
            Ok(_) => {
                if at > 0 {
                    self.discard(at, reason);
                }
                self.state = State::Synced;
                true
            }
            Err(Error::Incomplete { need }) if need.saturating_add(at) <= self.max_buffer => {
                // A plausible header: wait for the rest, giving back the bytes before it.
                if at > 0 {
                    self.discard(at, reason);
                }
                self.state = State::Resync {
                    scan_from: 0,
                    reason,
                };
                false
            }
            // A magic inside some other data: keep looking after it.
            Err(_) => {
                self.state = State::Resync {
                    scan_from: at + 1,
                    reason,
                };
                true
            }
        }
    }

    /// The buffer is full and still holds no complete message.
    fn overflow(&mut self) {
        let reason = match self.state {
            State::Resync { reason, .. } => reason,
            _ => Discard::TooLarge,
        };
        self.discard(self.buf.len(), reason);
        self.state = State::Resync {
            scan_from: 0,
            reason,
        };
    }

    fn discard(&mut self, n: usize, reason: Discard) {
        let bytes = self.buf[..n].to_vec();
        self.out.push(Framed::Discarded {
            offset: self.offset,
            bytes,
            reason,
        });
        self.drain(n);
    }

    fn drain(&mut self, n: usize) {
        self.buf.drain(..n);
        self.offset += n as u64;
    }
}

/// Position of the first message magic at or after `from`.
fn find_magic(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(MAGIC.len())
        .position(|w| w == MAGIC)
        .map(|p| p + from)
}

#[cfg(test)]
#[path = "framer_tests.rs"]
mod tests;
