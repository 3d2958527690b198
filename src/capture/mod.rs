//! Capture sources: pcap and pcapng files (any byte order, any time resolution, several
//! interfaces), read as a stream of [`Frame`]s with bounded memory.
//!
//! The format is detected from the magic bytes, never the file name. Errors name the byte offset
//! of the damaged block; every frame before the damage has already been handed out. After
//! damage that can be skipped ([`CaptureError::Skipped`]) reading goes on with the next valid
//! block (see `reader.rs` for the policy).

mod input;
mod link_type;
mod pcap;
mod pcapng;
mod reader;
pub mod writer;

pub use link_type::LinkType;
pub use reader::{CaptureReader, MAX_BLOCK, MAX_INTERFACES};

/// One captured frame, as the capture file holds it.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number in the file (every packet block counts, as in Wireshark).
    pub number: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i128,
    pub link_type: LinkType,
    /// Interface index (pcapng); 0 for classic pcap.
    pub interface: u32,
    /// Length on the wire (may exceed `data.len()` when the capture was snapped).
    pub orig_len: u32,
    pub data: &'a [u8],
}

/// Container format, from the magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

/// What went wrong reading a capture file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng file: the first bytes are {magic}")]
    NotACapture { magic: String },
    #[error("file is empty")]
    Empty,
    #[error("truncated at byte offset {offset}: {what}")]
    Truncated { offset: u64, what: String },
    #[error("corrupt at byte offset {offset}: {what}")]
    Corrupt { offset: u64, what: String },
    /// Damage that was skipped: `len` bytes from `offset` were not read; reading goes on.
    #[error("corrupt at byte offset {offset}: {what}; skipped {len} bytes, reading resumed at byte offset {}", offset + len)]
    Skipped { offset: u64, len: u64, what: String },
}

impl CaptureError {
    /// Byte offset of the damage, when the error is about the file's contents.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Truncated { offset, .. }
            | CaptureError::Corrupt { offset, .. }
            | CaptureError::Skipped { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// True when reading can go on after this error (the damage was skipped).
    pub fn is_resumable(&self) -> bool {
        matches!(self, CaptureError::Skipped { .. })
    }
}

/// Detect the container format from the first four bytes.
pub fn detect_format(magic: &[u8]) -> Option<Format> {
    match magic.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x34, 0xcd, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xcd, 0x34] => Some(Format::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Format::PcapNg),
        _ => None,
    }
}
