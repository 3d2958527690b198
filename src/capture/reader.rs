//! Streaming pcap / pcapng reader with damage reporting and resynchronisation.
//!
//! The reader frames blocks and records itself (pcap-parser's streaming reader reports a
//! packet block whose captured length overruns the block as "incomplete", i.e. as a truncated
//! file, and cannot skip damage): every length is checked before it is trusted, bytes are
//! read into one buffer that grows only with bytes actually present and never past
//! [`MAX_BLOCK`], and each frame is handed out as a slice of that buffer, so memory does not
//! grow with the file. Timestamps are integer nanoseconds (crates-and-conventions.md 1.1).
//!
//! Damage policy (README "Damaged captures"):
//! * pcapng: a block whose length is impossible, whose trailing length differs, or whose body
//!   contradicts its length is reported as a [`CaptureError::Skipped`] naming its offset and
//!   the byte range skipped; reading resumes at the next plausible block (known type, sane
//!   length, matching trailing length). A block that runs past the end of the file is a
//!   truncation, unless a valid block starts inside it (then its length field was damaged).
//! * classic pcap: a record header with a timestamp fraction of a second or more, or more
//!   captured bytes than the snap length allows, is damage; reading resumes at the next
//!   record header that is plausible (see `pcap.rs`) and followed by another plausible one.
//! * damage that leaves nothing valid after it ends reading with `Corrupt`; a file cut short
//!   ends it with `Truncated`. Either way every frame before the damage was handed out.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

use super::input::Input;
use super::pcap::FileHeader;
use super::pcapng::{self, SHB};
use super::{detect_format, CaptureError, Format, Frame, LinkType};

/// Largest block or record accepted. Real frames are at most 256 KiB (the largest snaplen
/// tcpdump writes); a bigger length field means the file is damaged, not that we should
/// allocate it.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// Interfaces remembered per pcapng section; packets naming one beyond are kept with an
/// unknown link type (no real capture comes near this).
pub const MAX_INTERFACES: usize = 65_536;
/// Bytes examined per step while scanning for the next valid block.
const SCAN_WINDOW: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_s: i64,
}

/// Reads frames one at a time from a pcap or pcapng stream.
pub struct CaptureReader {
    input: Input,
    format: Format,
    /// Classic pcap: the file header.
    pcap: Option<FileHeader>,
    /// pcapng: byte order and interfaces of the current section.
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// Bytes of the block handed out last, consumed by the next call.
    pending: usize,
    finished: bool,
    frames: u64,
    last_ts: i128,
    /// Classic pcap: seconds of the last good record (resynchronisation looks near it).
    last_sec: Option<u32>,
}

/// Where the current frame is, relative to the start of the input buffer.
struct FrameMeta {
    ts_ns: i128,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
    data: Range<usize>,
    block_len: usize,
}

/// What to scan for when resynchronising.
#[derive(Clone, Copy)]
enum Want {
    Block,
    Record,
}

impl CaptureReader {
    /// Open a file, or standard input for `-`.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        Self::open_with(path, |r| r)
    }

    /// Open a file (or `-`), letting the caller wrap the byte stream (e.g. to count progress).
    pub fn open_with(
        path: &Path,
        wrap: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        if path.as_os_str() == "-" {
            return CaptureReader::new(wrap(Box::new(io::stdin())));
        }
        let f = File::open(path)?;
        CaptureReader::new(wrap(Box::new(io::BufReader::with_capacity(1 << 16, f))))
    }

    /// Read from any byte stream; the format is detected from its magic bytes. A classic pcap
    /// file header is read here; a pcapng section header comes with the first frame.
    pub fn new(input: Box<dyn Read + Send>) -> Result<CaptureReader, CaptureError> {
        let mut input = Input::new(input);
        let got = input.fill(4)?;
        let magic = &input.data()[..got.min(4)];
        if got == 0 {
            return Err(CaptureError::Empty);
        }
        let format = match detect_format(magic) {
            Some(f) => f,
            None if got < 4 && is_magic_prefix(magic) => {
                return Err(CaptureError::Truncated {
                    offset: 0,
                    what: format!("file ends inside the 4-byte magic number ({got} bytes)"),
                })
            }
            None => {
                return Err(CaptureError::NotACapture {
                    magic: crate::util::hex_spaced(magic),
                })
            }
        };
        let pcap = match format {
            Format::PcapNg => None,
            Format::Pcap => {
                let got = input.fill(FileHeader::LEN)?;
                if got < FileHeader::LEN {
                    return Err(CaptureError::Truncated {
                        offset: 0,
                        what: format!(
                            "file ends inside the 24-byte pcap file header ({got} bytes present)"
                        ),
                    });
                }
                let h = FileHeader::parse(input.data()).ok_or(CaptureError::Corrupt {
                    offset: 0,
                    what: "bad pcap file header".into(),
                })?;
                input.consume(FileHeader::LEN);
                Some(h)
            }
        };
        Ok(CaptureReader {
            input,
            format,
            pcap,
            big_endian: false,
            interfaces: Vec::new(),
            pending: 0,
            finished: false,
            frames: 0,
            last_ts: 0,
            last_sec: None,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Byte offset of the next unread block.
    pub fn offset(&self) -> u64 {
        self.input.pos() + self.pending as u64
    }

    /// Number of frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// The next frame, `Ok(None)` at the end of the file, or an error about the file's bytes.
    ///
    /// After [`CaptureError::Skipped`] reading goes on: call again for the frames after the
    /// damage. After any other error, further calls return `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.pending > 0 {
            self.input.consume(self.pending);
            self.pending = 0;
        }
        if self.finished {
            return Ok(None);
        }
        let result = match self.pcap {
            Some(h) => self.next_record(h),
            None => self.next_block(),
        };
        match result {
            Ok(Some(m)) => {
                self.frames += 1;
                self.last_ts = m.ts_ns;
                self.pending = m.block_len;
                Ok(Some(Frame {
                    number: self.frames,
                    ts_ns: m.ts_ns,
                    link_type: m.link_type,
                    interface: m.interface,
                    orig_len: m.orig_len,
                    data: &self.input.data()[m.data],
                }))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                if !matches!(e, CaptureError::Skipped { .. }) {
                    self.finished = true;
                }
                Err(e)
            }
        }
    }

    /// Classic pcap: the next record.
    fn next_record(&mut self, h: FileHeader) -> Result<Option<FrameMeta>, CaptureError> {
        let at = self.input.pos();
        let hlen = h.record_header_len();
        let have = self.input.fill(hlen)?;
        if have == 0 {
            return Ok(None);
        }
        if have < hlen {
            return Err(CaptureError::Truncated {
                offset: at,
                what: format!(
                    "file ends inside a packet record header ({have} of {hlen} bytes present)"
                ),
            });
        }
        let Some(r) = h.record(self.input.data()) else {
            return Ok(None);
        };
        if let Some(problem) = h.record_problem(&r) {
            return Err(self.damaged(at, problem, Want::Record));
        }
        let total = hlen + r.caplen;
        let have = self.input.fill(total)?;
        if have < total {
            let what =
                format!("file ends inside a packet record of {total} bytes ({have} bytes present)");
            return Err(self.cut_short(at, what, Want::Record));
        }
        self.last_sec = Some(r.ts_sec);
        Ok(Some(FrameMeta {
            ts_ns: h.ts_ns(&r),
            link_type: LinkType::from_number(h.link_type),
            interface: 0,
            orig_len: r.orig_len,
            data: hlen..total,
            block_len: total,
        }))
    }

    /// pcapng: blocks until one holds a packet.
    fn next_block(&mut self) -> Result<Option<FrameMeta>, CaptureError> {
        loop {
            let at = self.input.pos();
            let have = self.input.fill(12)?;
            if have == 0 {
                return Ok(None);
            }
            let (ty, len, big_endian) = match pcapng::header(self.input.data(), self.big_endian) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    return Err(CaptureError::Truncated {
                        offset: at,
                        what: format!("file ends inside a block header ({have} bytes present)"),
                    })
                }
                Err(problem) => return Err(self.damaged(at, problem, Want::Block)),
            };
            if let Some(problem) = pcapng::length_problem(ty, len) {
                return Err(self.damaged(at, problem, Want::Block));
            }
            let have = self.input.fill(len)?;
            if have < len {
                let what =
                    format!("file ends inside a block of {len} bytes ({have} bytes present)");
                return Err(self.cut_short(at, what, Want::Block));
            }
            let block = &self.input.data()[..len];
            if let Err(problem) = pcapng::check_block(block, ty, big_endian) {
                return Err(self.damaged(at, problem, Want::Block));
            }
            match ty {
                SHB => {
                    self.big_endian = big_endian;
                    self.interfaces.clear();
                }
                pcapng::IDB => {
                    let idb = pcapng::interface_description(block, big_endian);
                    if self.interfaces.len() < MAX_INTERFACES {
                        self.interfaces.push(Interface {
                            link_type: LinkType::from_number(idb.link_type),
                            units_per_sec: ts_units_per_sec(idb.tsresol),
                            offset_s: idb.tsoffset,
                        });
                    }
                }
                pcapng::EPB | pcapng::SPB | pcapng::OPB => {
                    let p = pcapng::packet(block, ty, big_endian);
                    let (ts_ns, link_type) = match p.ts {
                        Some(raw) => self.ng_time(p.interface, raw),
                        // No timestamp in a simple packet block: keep the previous frame's.
                        None => (
                            self.last_ts,
                            self.interface(0)
                                .map_or(LinkType::Other(u32::MAX), |i| i.link_type),
                        ),
                    };
                    return Ok(Some(FrameMeta {
                        ts_ns,
                        link_type,
                        interface: p.interface,
                        orig_len: p.orig_len,
                        data: p.data,
                        block_len: len,
                    }));
                }
                // Name resolution, statistics, secrets, custom and unknown blocks carry no
                // packets (unknown types must be skipped, pcapng draft 3.1).
                _ => {}
            }
            self.input.consume(len);
        }
    }

    fn interface(&self, id: u32) -> Option<&Interface> {
        self.interfaces.get(id as usize)
    }

    /// Timestamp in ns and link type for a pcapng packet on interface `if_id`. A packet naming
    /// an interface that no IDB described gets link type `Other(u32::MAX)` and is reported
    /// later as undecodable, not dropped.
    fn ng_time(&self, if_id: u32, raw: u64) -> (i128, LinkType) {
        match self.interface(if_id) {
            Some(i) => {
                let units = i.units_per_sec as i128;
                let raw = raw as i128;
                let ts = i.offset_s as i128 * 1_000_000_000
                    + (raw / units) * 1_000_000_000
                    + (raw % units) * 1_000_000_000 / units;
                (ts, i.link_type)
            }
            None => (raw as i128 * 1000, LinkType::Other(u32::MAX)),
        }
    }

    /// The block or record at `at` is damaged: find the next valid one. Returns `Skipped`
    /// (reading goes on from there) or, when nothing valid follows, a final `Corrupt`.
    fn damaged(&mut self, at: u64, problem: String, want: Want) -> CaptureError {
        match self.resync(want) {
            Ok(true) => self.skipped(at, problem),
            Ok(false) => CaptureError::Corrupt {
                offset: at,
                what: format!(
                    "{problem}; nothing valid follows in the remaining {} bytes",
                    self.input.pos() - at
                ),
            },
            Err(e) => e.into(),
        }
    }

    /// The block or record at `at` runs past the end of the file: a truncation, unless a
    /// valid one starts inside it (then its length field was damaged).
    fn cut_short(&mut self, at: u64, problem: String, want: Want) -> CaptureError {
        match self.resync(want) {
            Ok(true) => self.skipped(
                at,
                format!("{problem}, but a valid one starts inside it: damaged length field"),
            ),
            Ok(false) => CaptureError::Truncated {
                offset: at,
                what: problem,
            },
            Err(e) => e.into(),
        }
    }

    fn skipped(&self, at: u64, what: String) -> CaptureError {
        CaptureError::Skipped {
            offset: at,
            len: self.input.pos() - at,
            what,
        }
    }

    /// Scan forward from one byte after the current position for the next valid block or
    /// record; true when one was found (the input then starts at it), false at end of file.
    fn resync(&mut self, want: Want) -> io::Result<bool> {
        self.input.consume(1);
        loop {
            let have = self.input.fill(SCAN_WINDOW)?;
            let min = match (want, self.pcap) {
                (Want::Record, Some(h)) => h.record_header_len(),
                _ => 12,
            };
            if have < min {
                self.input.consume(have);
                return Ok(false);
            }
            let found =
                (0..=have - min).find(|&p| self.plausible_start(&self.input.data()[p..], want));
            let Some(p) = found else {
                // Keep the last bytes: a header may straddle the window.
                self.input.consume(have - min + 1);
                continue;
            };
            self.input.consume(p);
            if self.confirm(want)? {
                return Ok(true);
            }
            self.input.consume(1);
        }
    }

    /// A cheap look at the header only.
    fn plausible_start(&self, b: &[u8], want: Want) -> bool {
        match (want, self.pcap) {
            (Want::Record, Some(h)) => h.record(b).is_some_and(|r| h.plausible(&r, self.last_sec)),
            _ => pcapng::plausible_start(b, self.big_endian).is_some(),
        }
    }

    /// The whole check of a candidate at the start of the input.
    fn confirm(&mut self, want: Want) -> io::Result<bool> {
        match (want, self.pcap) {
            (Want::Record, Some(h)) => {
                let hlen = h.record_header_len();
                let Some(r) = h.record(self.input.data()) else {
                    return Ok(false);
                };
                let end = hlen + r.caplen;
                let have = self.input.fill(end + hlen)?;
                if have == end && self.input.eof() {
                    return Ok(true);
                }
                Ok(have >= end + hlen
                    && h.record(&self.input.data()[end..])
                        .is_some_and(|next| h.plausible(&next, Some(r.ts_sec))))
            }
            _ => {
                let Some((ty, len, be)) =
                    pcapng::plausible_start(self.input.data(), self.big_endian)
                else {
                    return Ok(false);
                };
                let have = self.input.fill(len)?;
                Ok(have >= len && pcapng::check_block(&self.input.data()[..len], ty, be).is_ok())
            }
        }
    }
}

/// True when `b` (shorter than 4 bytes) could be the start of a pcap or pcapng magic.
fn is_magic_prefix(b: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xcd, 0x34],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    MAGICS.iter().any(|m| m.starts_with(b))
}

/// Units per second from `if_tsresol` (pcapng 4.2): 10^n, or 2^n when the top bit is set.
/// (pcap-parser's own helper rejects every 2^n value.) Out-of-range values fall back to µs.
fn ts_units_per_sec(tsresol: u8) -> u64 {
    let n = (tsresol & 0x7f) as u32;
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n).unwrap_or(1_000_000)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64).unwrap_or(1_000_000)
    }
}
