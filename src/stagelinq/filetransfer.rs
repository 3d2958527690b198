//! FileTransfer service messages, magic `fltx` (`stagelinq.md` 1.9): `u32 len`, `"fltx"`,
//! `u32 txid`, `u32 msg-id`, body. Used to pull the Engine database; no such traffic is in
//! sc6000_boot.pcap, so layouts follow the reference and the bytes quoted there.

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto, Value};

use super::filetransfer_dissect;
use super::wire::{self, Error, Result};

pub(super) mod field {
    use std::ops::Range;
    // stagelinq.md 1.9
    pub const LENGTH: Range<usize> = 0..4;
    pub const MAGIC: Range<usize> = 4..8;
    pub const TXID: Range<usize> = 8..12;
    pub const MSG_ID: Range<usize> = 12..16;
    pub const BODY: usize = 16;
    // 0x1 FileStat: the size is the last 8 bytes (whatsnowplaying); the 45 bytes before it are
    // exists, is-dir, 2 zero bytes, 2 permission bytes, three 13-byte time blocks.
    pub const STAT_SIZE_LEN: usize = 8;
    pub const STAT_HEAD_LEN: usize = 45;
    pub const STAT_EXISTS: usize = 0;
    pub const STAT_IS_DIR: usize = 1;
    pub const STAT_UNKNOWN: Range<usize> = 2..4;
    pub const STAT_PERMISSIONS: Range<usize> = 4..6;
    pub const STAT_TIMES: Range<usize> = 6..45;
    // 0x3 directory listing: u32 count, count x NS name, 3 flag bytes.
    pub const LISTING_TRAILER_LEN: usize = 3;
    // 0x4 transfer info: u32 0, u32 size, u32 transfer id.
    pub const INFO_LEN: usize = 12;
    // 0x5 chunk: u32 0, u32 offset, u32 chunk size, data.
    pub const CHUNK_HEADER_LEN: usize = 12;
    // 0x7d5 chunk request: u32 0, u32 1 (or txid), u64 first chunk, u64 last chunk.
    pub const CHUNK_REQUEST_LEN: usize = 24;
}

pub const MAGIC: &[u8; 4] = b"fltx";
pub const HEADER_LEN: usize = field::BODY;
/// Chunk size of database downloads (`stagelinq.md` 1.9).
pub const CHUNK_SIZE: usize = 4096;

pub const ID_FILE_STAT: u32 = 0x1;
pub const ID_FRAME_END: u32 = 0x2;
pub const ID_DIRECTORY_LISTING: u32 = 0x3;
pub const ID_TRANSFER_INFO: u32 = 0x4;
pub const ID_CHUNK: u32 = 0x5;
pub const ID_STAT_REQUEST: u32 = 0x7d1;
pub const ID_LIST_REQUEST: u32 = 0x7d2;
pub const ID_END_INQUIRY: u32 = 0x7d3;
pub const ID_OPEN_REQUEST: u32 = 0x7d4;
pub const ID_CHUNK_REQUEST: u32 = 0x7d5;
pub const ID_TRANSFER_COMPLETE: u32 = 0x7d6;

/// The 0x1 FileStat answer: everything before the size kept as is, because only the size is
/// agreed on by the sources (`stagelinq.md` 1.9, 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// The bytes before the size (45 in the reference's 53-byte layout).
    pub head: Vec<u8>,
    /// File size (u64 BE, the last 8 bytes; chrisle's last u32 agrees below 4 GiB).
    pub size: u64,
}

impl FileStat {
    /// A stat of an existing regular file as a device would answer it: exists, not a
    /// directory, permissions 77 55 (whatsnowplaying's observation), zero times.
    pub fn file(size: u64) -> Self {
        let mut head = vec![0; field::STAT_HEAD_LEN];
        head[field::STAT_EXISTS] = 1;
        head[field::STAT_PERMISSIONS].copy_from_slice(&[0x77, 0x55]);
        FileStat { head, size }
    }

    /// A stat of a folder: exists, is a directory, size 0.
    pub fn directory() -> Self {
        let mut s = Self::file(0);
        s.head[field::STAT_IS_DIR] = 1;
        s
    }

    /// A stat of a path that is not there: every byte zero, so clients that read only the
    /// size see 0 (npm `stagelinq` then tries the next database path).
    pub fn missing() -> Self {
        FileStat {
            head: vec![0; field::STAT_HEAD_LEN],
            size: 0,
        }
    }

    pub fn exists(&self) -> Option<bool> {
        self.head.get(field::STAT_EXISTS).map(|&b| b != 0)
    }

    pub fn is_dir(&self) -> Option<bool> {
        self.head.get(field::STAT_IS_DIR).map(|&b| b != 0)
    }
}

/// The body of a FileTransfer message, by msg-id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTransferBody {
    /// 0x7d1: stat a path; answered by 0x1.
    StatRequest { path: String },
    /// 0x7d2: list a directory; an empty path (the bytes `u32 0`) lists the sources.
    ListRequest { path: String },
    /// 0x7d3: end of an inquiry, no response.
    EndInquiry,
    /// 0x7d4: open for transfer; answered by 0x4. `flags` is `u32 0` in every example.
    OpenRequest { path: String, flags: u32 },
    /// 0x7d5: request chunks `first_chunk..=last_chunk` of 4096 bytes. `unknown_0` is 0;
    /// `unknown_1` is 1 (honusz) or the txid (chrisle).
    ChunkRequest {
        unknown_0: u32,
        unknown_1: u32,
        first_chunk: u64,
        last_chunk: u64,
    },
    /// 0x7d6: transfer complete.
    TransferComplete,
    /// 0x1: file stat.
    FileStat(FileStat),
    /// 0x2: end of message / frame end; body kept (a success flag per whatsnowplaying).
    FrameEnd { body: Vec<u8> },
    /// 0x3: names, then the first-chunk, last-chunk and is-directory flags (`01 01 01` for a
    /// source list).
    DirectoryListing {
        names: Vec<String>,
        first: u8,
        last: u8,
        is_directory: u8,
    },
    /// 0x4: the opened file's size and transfer id.
    TransferInfo {
        unknown_0: u32,
        size: u32,
        transfer_id: u32,
    },
    /// 0x5: `data` at byte `offset` of the file (at most 4096 bytes).
    Chunk {
        unknown_0: u32,
        offset: u32,
        data: Vec<u8>,
    },
    /// Any other msg-id (0x6 update, 0x8, 0x9 storage removed, 0x7d8/0x7d9/0xa...), body kept.
    Other { msg_id: u32, body: Vec<u8> },
}

/// One FileTransfer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTransferMessage {
    /// Transaction id: per request for honusz, always 0 for chrisle; answers echo it.
    pub txid: u32,
    pub body: FileTransferBody,
}

/// Plain name of a msg-id (the `message` field of the dissection).
pub fn message_name(msg_id: u32, body_len: usize) -> &'static str {
    match msg_id {
        ID_STAT_REQUEST => "stat_request",
        ID_LIST_REQUEST if body_len == 4 => "list_sources",
        ID_LIST_REQUEST => "list_request",
        ID_END_INQUIRY => "end_inquiry",
        ID_OPEN_REQUEST => "open_request",
        ID_CHUNK_REQUEST => "chunk_request",
        ID_TRANSFER_COMPLETE => "transfer_complete",
        ID_FILE_STAT => "file_stat",
        ID_FRAME_END => "frame_end",
        ID_DIRECTORY_LISTING => "directory_listing",
        ID_TRANSFER_INFO => "transfer_info",
        ID_CHUNK => "chunk",
        0x6 => "data_update",
        0x8 => "sources_changed",
        0x9 => "storage_removed",
        0x7d8 => "pause_transfer",
        0x7d9 => "resume_transfer",
        0xa => "status_query",
        _ => "unknown",
    }
}

impl FileTransferBody {
    pub fn msg_id(&self) -> u32 {
        match self {
            Self::StatRequest { .. } => ID_STAT_REQUEST,
            Self::ListRequest { .. } => ID_LIST_REQUEST,
            Self::EndInquiry => ID_END_INQUIRY,
            Self::OpenRequest { .. } => ID_OPEN_REQUEST,
            Self::ChunkRequest { .. } => ID_CHUNK_REQUEST,
            Self::TransferComplete => ID_TRANSFER_COMPLETE,
            Self::FileStat(_) => ID_FILE_STAT,
            Self::FrameEnd { .. } => ID_FRAME_END,
            Self::DirectoryListing { .. } => ID_DIRECTORY_LISTING,
            Self::TransferInfo { .. } => ID_TRANSFER_INFO,
            Self::Chunk { .. } => ID_CHUNK,
            Self::Other { msg_id, .. } => *msg_id,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::StatRequest { path } | Self::ListRequest { path } => wire::ns_len(path),
            Self::EndInquiry | Self::TransferComplete => 0,
            Self::OpenRequest { path, .. } => wire::ns_len(path) + 4,
            Self::ChunkRequest { .. } => field::CHUNK_REQUEST_LEN,
            Self::FileStat(s) => s.head.len() + field::STAT_SIZE_LEN,
            Self::FrameEnd { body } | Self::Other { body, .. } => body.len(),
            Self::DirectoryListing { names, .. } => {
                4 + names.iter().map(|n| wire::ns_len(n)).sum::<usize>()
                    + field::LISTING_TRAILER_LEN
            }
            Self::TransferInfo { .. } => field::INFO_LEN,
            Self::Chunk { data, .. } => field::CHUNK_HEADER_LEN + data.len(),
        }
    }

    /// Parse a body (the bytes after the msg-id).
    fn parse(msg_id: u32, b: &[u8]) -> Result<Self> {
        Ok(match msg_id {
            ID_STAT_REQUEST => Self::StatRequest {
                path: whole_ns(b, "path")?,
            },
            ID_LIST_REQUEST => Self::ListRequest {
                path: whole_ns(b, "path")?,
            },
            ID_END_INQUIRY => empty(b, Self::EndInquiry)?,
            ID_TRANSFER_COMPLETE => empty(b, Self::TransferComplete)?,
            ID_OPEN_REQUEST => {
                let (path, p) = wire::read_ns(b, 0, "path")?;
                let flags = wire::read_u32(b, p, "flags")?;
                done(b, p + 4)?;
                Self::OpenRequest { path, flags }
            }
            ID_CHUNK_REQUEST => {
                done(b, field::CHUNK_REQUEST_LEN)?;
                Self::ChunkRequest {
                    unknown_0: wire::read_u32(b, 0, "chunk request")?,
                    unknown_1: wire::read_u32(b, 4, "chunk request")?,
                    first_chunk: wire::read_u64(b, 8, "first chunk")?,
                    last_chunk: wire::read_u64(b, 16, "last chunk")?,
                }
            }
            ID_FILE_STAT => {
                let head_len =
                    b.len()
                        .checked_sub(field::STAT_SIZE_LEN)
                        .ok_or(Error::Truncated {
                            what: "file stat",
                            needed: field::STAT_SIZE_LEN,
                            have: b.len(),
                        })?;
                Self::FileStat(FileStat {
                    head: b[..head_len].to_vec(),
                    size: wire::read_u64(b, head_len, "size")?,
                })
            }
            ID_FRAME_END => Self::FrameEnd { body: b.to_vec() },
            ID_DIRECTORY_LISTING => parse_listing(b)?,
            ID_TRANSFER_INFO => {
                done(b, field::INFO_LEN)?;
                Self::TransferInfo {
                    unknown_0: wire::read_u32(b, 0, "transfer info")?,
                    size: wire::read_u32(b, 4, "size")?,
                    transfer_id: wire::read_u32(b, 8, "transfer id")?,
                }
            }
            ID_CHUNK => {
                let n = wire::read_u32(b, 8, "chunk size")? as usize;
                let data = wire::slice(b, field::CHUNK_HEADER_LEN, n, "chunk data")?;
                done(b, field::CHUNK_HEADER_LEN + n)?;
                Self::Chunk {
                    unknown_0: wire::read_u32(b, 0, "chunk")?,
                    offset: wire::read_u32(b, 4, "offset")?,
                    data: data.to_vec(),
                }
            }
            msg_id => Self::Other {
                msg_id,
                body: b.to_vec(),
            },
        })
    }

    fn emit(&self, buf: &mut [u8]) {
        match self {
            Self::StatRequest { path } | Self::ListRequest { path } => {
                wire::write_ns(buf, 0, path);
            }
            Self::EndInquiry | Self::TransferComplete => {}
            Self::OpenRequest { path, flags } => {
                let p = wire::write_ns(buf, 0, path);
                wire::put_u32(buf, p, *flags);
            }
            Self::ChunkRequest {
                unknown_0,
                unknown_1,
                first_chunk,
                last_chunk,
            } => {
                wire::put_u32(buf, 0, *unknown_0);
                wire::put_u32(buf, 4, *unknown_1);
                wire::put_u64(buf, 8, *first_chunk);
                wire::put_u64(buf, 16, *last_chunk);
            }
            Self::FileStat(s) => {
                buf[..s.head.len()].copy_from_slice(&s.head);
                wire::put_u64(buf, s.head.len(), s.size);
            }
            Self::FrameEnd { body } | Self::Other { body, .. } => {
                buf[..body.len()].copy_from_slice(body)
            }
            Self::DirectoryListing {
                names,
                first,
                last,
                is_directory,
            } => {
                wire::put_u32(buf, 0, names.len() as u32);
                let mut p = 4;
                for n in names {
                    p = wire::write_ns(buf, p, n);
                }
                buf[p..p + 3].copy_from_slice(&[*first, *last, *is_directory]);
            }
            Self::TransferInfo {
                unknown_0,
                size,
                transfer_id,
            } => {
                wire::put_u32(buf, 0, *unknown_0);
                wire::put_u32(buf, 4, *size);
                wire::put_u32(buf, 8, *transfer_id);
            }
            Self::Chunk {
                unknown_0,
                offset,
                data,
            } => {
                wire::put_u32(buf, 0, *unknown_0);
                wire::put_u32(buf, 4, *offset);
                wire::put_u32(buf, 8, data.len() as u32);
                buf[12..12 + data.len()].copy_from_slice(data);
            }
        }
    }
}

fn whole_ns(b: &[u8], what: &'static str) -> Result<String> {
    let (s, p) = wire::read_ns(b, 0, what)?;
    done(b, p)?;
    Ok(s)
}

fn empty(b: &[u8], v: FileTransferBody) -> Result<FileTransferBody> {
    done(b, 0)?;
    Ok(v)
}

fn done(b: &[u8], end: usize) -> Result<()> {
    match b.len().checked_sub(end) {
        Some(0) => Ok(()),
        Some(count) => Err(Error::TrailingBytes {
            what: "file transfer message",
            count,
        }),
        None => Err(Error::Truncated {
            what: "file transfer message",
            needed: end,
            have: b.len(),
        }),
    }
}

fn parse_listing(b: &[u8]) -> Result<FileTransferBody> {
    let count = wire::read_u32(b, 0, "count")?;
    let mut names = Vec::new();
    let mut p = 4;
    // Each name takes at least 4 bytes, so the loop is bounded by the bytes present.
    for _ in 0..count {
        let (n, next) = wire::read_ns(b, p, "name")?;
        names.push(n);
        p = next;
    }
    let t = wire::slice(b, p, field::LISTING_TRAILER_LEN, "listing flags")?;
    let (first, last, is_directory) = (t[0], t[1], t[2]);
    done(b, p + field::LISTING_TRAILER_LEN)?;
    Ok(FileTransferBody::DirectoryListing {
        names,
        first,
        last,
        is_directory,
    })
}

impl FileTransferMessage {
    pub fn new(txid: u32, body: FileTransferBody) -> Self {
        FileTransferMessage { txid, body }
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        if wire::slice(b, field::MAGIC.start, 4, "magic")? != MAGIC {
            return Err(Error::BadMagic { expected: "fltx" });
        }
        let txid = wire::read_u32(b, field::TXID.start, "txid")?;
        let msg_id = wire::read_u32(b, field::MSG_ID.start, "msg-id")?;
        let body = FileTransferBody::parse(msg_id, &b[field::BODY..])?;
        Ok(FileTransferMessage { txid, body })
    }

    pub fn buffer_len(&self) -> usize {
        field::BODY + self.body.len()
    }

    /// Write into `buf`, which must hold `buffer_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        buf[field::MAGIC].copy_from_slice(MAGIC);
        wire::put_u32(buf, field::TXID.start, self.txid);
        wire::put_u32(buf, field::MSG_ID.start, self.body.msg_id());
        self.body.emit(&mut buf[field::BODY..]);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Dissect one FileTransfer message (type `file_transfer`; the `message` field names it:
/// `stat_request`, `chunk`, `directory_listing`...).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "file_transfer");
    let msg_id = wire::read_u32(b, field::MSG_ID.start, "msg-id").ok();
    d.kind = msg_id;
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    s.constant("magic", field::MAGIC, MAGIC);
    let txid = s.uint("txid", field::TXID);
    let body_len = b.len().saturating_sub(field::BODY);
    let name = msg_id.map_or("truncated", |id| message_name(id, body_len));
    s.uint_with("msg_id", field::MSG_ID, |_| Some(name.to_string()));
    s.derived("message", Value::str(name));
    let detail_summary = match msg_id {
        Some(id) => filetransfer_dissect::body(&mut s, id),
        None => String::new(),
    };
    if d.malformed.is_none() && msg_id.is_some() {
        if let Err(e) = FileTransferMessage::parse(b) {
            d.set_malformed(e.to_string());
        }
    }
    d.summary = format!(
        "{name} txid {} {detail_summary}",
        txid.map_or("?".to_string(), |t| t.to_string())
    )
    .trim_end()
    .to_string();
    d
}
