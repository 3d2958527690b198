//! Streaming pcap / pcapng reader on top of pcap-parser.
//!
//! pcap-parser frames the blocks; this module keeps the per-section interface table, computes
//! timestamps as integer nanoseconds (pcap-parser's own helpers round or overflow, see
//! crates-and-conventions.md 1.1), decodes the obsolete pcapng Packet Block that pcap-parser
//! leaves as unknown, tracks the byte offset of every block for error messages, and copies each
//! packet into one reused buffer so that memory does not grow with the file.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use super::{detect_format, CaptureError, Format, Frame, LinkType};

const INITIAL_BUFFER: usize = 256 * 1024;
/// Largest block accepted. Real frames are at most 256 KiB (the largest snaplen tcpdump writes);
/// a bigger length field means the file is damaged, not that we should allocate it.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// pcapng Obsolete Packet Block type (pcapng spec, appendix "Packet Block").
const OPB_TYPE: u32 = 0x0000_0002;

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_s: i64,
}

enum Inner {
    Pcap(LegacyPcapReader<Box<dyn Read>>),
    PcapNg(PcapNGReader<Box<dyn Read>>),
}

/// Reads frames one at a time from a pcap or pcapng stream.
pub struct CaptureReader {
    inner: Inner,
    format: Format,
    st: State,
    finished: bool,
}

/// Everything but the pcap-parser iterator, so a block borrowed from the iterator can update it.
struct State {
    /// Byte offset of the next block in the input.
    offset: u64,
    frames: u64,
    /// Classic pcap: link type and whether timestamps are nanoseconds.
    pcap_link: LinkType,
    pcap_nanos: bool,
    /// Classic pcap (record headers) rather than pcapng (blocks).
    legacy: bool,
    /// pcapng: interfaces of the current section. Both: the byte order.
    interfaces: Vec<Interface>,
    big_endian: bool,
    last_ts: i128,
    /// The current frame's bytes (reused).
    buf: Vec<u8>,
}

/// A `Read` adapter whose first `read` fills the whole buffer (or reaches the end): pcap-parser
/// parses the file header from a single read, which a pipe may deliver in pieces.
struct FillFirst<R> {
    inner: R,
    first: bool,
}

impl<R: Read> Read for FillFirst<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.first {
            return self.inner.read(buf);
        }
        self.first = false;
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

impl CaptureReader {
    /// Open a file, or standard input for `-`.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        Self::open_with(path, |r| r)
    }

    /// Open a file (or `-`), letting the caller wrap the byte stream (e.g. to count progress).
    pub fn open_with(
        path: &Path,
        wrap: impl FnOnce(Box<dyn Read>) -> Box<dyn Read>,
    ) -> Result<CaptureReader, CaptureError> {
        if path.as_os_str() == "-" {
            return CaptureReader::new(wrap(Box::new(io::stdin())));
        }
        let f = File::open(path)?;
        CaptureReader::new(wrap(Box::new(io::BufReader::with_capacity(1 << 16, f))))
    }

    /// Read from any byte stream; the format is detected from its magic bytes.
    pub fn new(mut input: Box<dyn Read>) -> Result<CaptureReader, CaptureError> {
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match input.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        if got == 0 {
            return Err(CaptureError::Empty);
        }
        let format = detect_format(&magic[..got]).ok_or_else(|| CaptureError::NotACapture {
            magic: crate::util::hex_spaced(&magic[..got]),
        })?;
        let stream: Box<dyn Read> = Box::new(FillFirst {
            inner: io::Cursor::new(magic).chain(input),
            first: true,
        });
        let inner = match format {
            Format::Pcap => Inner::Pcap(LegacyPcapReader::new(INITIAL_BUFFER, stream).map_err(
                |e| match e {
                    PcapError::Incomplete(_) => CaptureError::Truncated {
                        offset: 0,
                        what: "file ends inside the 24-byte pcap file header".into(),
                    },
                    e => CaptureError::Corrupt {
                        offset: 0,
                        what: format!("bad pcap file header ({e:?})"),
                    },
                },
            )?),
            Format::PcapNg => {
                Inner::PcapNg(PcapNGReader::new(INITIAL_BUFFER, stream).map_err(|e| {
                    CaptureError::Corrupt {
                        offset: 0,
                        what: format!("cannot start pcapng reader ({e:?})"),
                    }
                })?)
            }
        };
        Ok(CaptureReader {
            inner,
            format,
            st: State {
                offset: 0,
                frames: 0,
                pcap_link: LinkType::Ethernet,
                pcap_nanos: false,
                legacy: format == Format::Pcap,
                interfaces: Vec::new(),
                big_endian: false,
                last_ts: 0,
                buf: Vec::with_capacity(2048),
            },
            finished: false,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Byte offset of the next unread block.
    pub fn offset(&self) -> u64 {
        self.st.offset
    }

    /// Number of frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.st.frames
    }

    /// The next frame, `Ok(None)` at the end of the file, or the error that stopped reading.
    /// After an error, further calls return `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(meta)) => Ok(Some(Frame {
                number: self.st.frames,
                ts_ns: meta.ts_ns,
                link_type: meta.link_type,
                interface: meta.interface,
                orig_len: meta.orig_len,
                data: &self.st.buf,
            })),
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Parse blocks until one holds a packet; its bytes go to `self.st.buf`.
    fn advance(&mut self) -> Result<Option<FrameMeta>, CaptureError> {
        match &mut self.inner {
            Inner::Pcap(r) => advance(r, &mut self.st),
            Inner::PcapNg(r) => advance(r, &mut self.st),
        }
    }
}

struct FrameMeta {
    ts_ns: i128,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
}

fn advance<I: PcapReaderIterator>(
    r: &mut I,
    st: &mut State,
) -> Result<Option<FrameMeta>, CaptureError> {
    loop {
        let (len, meta) = match r.next() {
            Ok((len, block)) => (len, st.block(block)?),
            Err(PcapError::Eof) => return Ok(None),
            Err(PcapError::Incomplete(_)) => {
                r.refill().map_err(|_| read_error(st.offset))?;
                continue;
            }
            Err(PcapError::BufferTooSmall) => {
                let want = declared_len(r.data(), st).unwrap_or(usize::MAX);
                if want <= MAX_BLOCK && r.grow(want.next_power_of_two().max(INITIAL_BUFFER * 2)) {
                    continue;
                }
                return Err(CaptureError::Corrupt {
                    offset: st.offset,
                    what: match declared_len(r.data(), st) {
                        Some(n) => format!(
                            "block claims {n} bytes, more than the {MAX_BLOCK}-byte limit (damaged length field)"
                        ),
                        None => "block too large".into(),
                    },
                });
            }
            Err(PcapError::UnexpectedEof) => {
                let have = r.data().len();
                return Err(CaptureError::Truncated {
                    offset: st.offset,
                    what: match declared_len(r.data(), st) {
                        Some(n) => format!(
                            "file ends inside a {} of {n} bytes ({have} bytes present)",
                            st.block_word()
                        ),
                        None => format!(
                            "file ends inside a {} header ({have} bytes present)",
                            st.block_word()
                        ),
                    },
                });
            }
            Err(PcapError::ReadError) => return Err(read_error(st.offset)),
            Err(e) => {
                let kind = match e {
                    PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => format!("{k:?}"),
                    PcapError::HeaderNotRecognized => "header not recognized".into(),
                    _ => "unexpected parser state".into(),
                };
                let what = describe_bad_block(r.data(), st, &kind);
                return Err(CaptureError::Corrupt {
                    offset: st.offset,
                    what,
                });
            }
        };
        r.consume(len);
        st.offset += len as u64;
        if let Some(m) = meta {
            return Ok(Some(m));
        }
    }
}

fn read_error(offset: u64) -> CaptureError {
    CaptureError::Io(io::Error::other(format!(
        "read failed at byte offset {offset}"
    )))
}

impl State {
    fn block_word(&self) -> &'static str {
        if self.offset == 0 {
            "header"
        } else if self.legacy {
            "packet record"
        } else {
            "block"
        }
    }

    /// Handle one block; Some when it held a packet (copied into `self.buf`).
    fn block(&mut self, block: PcapBlockOwned<'_>) -> Result<Option<FrameMeta>, CaptureError> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.pcap_link = LinkType::from_number(h.network.0 as u32);
                self.pcap_nanos = h.is_nanosecond_precision();
                self.big_endian = h.is_bigendian();
                Ok(None)
            }
            PcapBlockOwned::Legacy(b) => {
                let sub = if self.pcap_nanos { 1 } else { 1000 };
                let ts = b.ts_sec as i128 * 1_000_000_000 + b.ts_usec as i128 * sub;
                Ok(Some(self.packet(ts, self.pcap_link, 0, b.origlen, b.data)))
            }
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                self.interfaces.clear();
                self.big_endian = shb.big_endian();
                Ok(None)
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    link_type: LinkType::from_number(idb.linktype.0 as u32),
                    units_per_sec: ts_units_per_sec(idb.if_tsresol),
                    offset_s: idb.ts_offset(),
                });
                Ok(None)
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let raw = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                let (ts, lt) = self.ng_time(epb.if_id, raw);
                Ok(Some(self.packet(
                    ts,
                    lt,
                    epb.if_id,
                    epb.origlen,
                    epb.packet_data(),
                )))
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                // No timestamp in an SPB: keep the previous frame's time.
                let lt = self
                    .interface(0)
                    .map(|i| i.link_type)
                    .unwrap_or(LinkType::Other(u32::MAX));
                let data = spb.packet_data();
                Ok(Some(self.packet(self.last_ts, lt, 0, spb.origlen, data)))
            }
            // pcap-parser reads an unknown block's type little-endian whatever the section.
            PcapBlockOwned::NG(Block::Unknown(u))
                if (if self.big_endian {
                    u.block_type.swap_bytes()
                } else {
                    u.block_type
                }) == OPB_TYPE =>
            {
                // Obsolete Packet Block: if_id u16, drops u16, ts_high u32, ts_low u32,
                // caplen u32, len u32, data (pcapng draft, "Packet Block (obsolete)").
                let d = u.data;
                if d.len() < 20 {
                    return Err(CaptureError::Corrupt {
                        offset: self.offset,
                        what: format!("obsolete packet block body is {} bytes, needs 20", d.len()),
                    });
                }
                let rd16 = |b: &[u8]| {
                    if self.big_endian {
                        u16::from_be_bytes([b[0], b[1]])
                    } else {
                        u16::from_le_bytes([b[0], b[1]])
                    }
                };
                let rd32 = |b: &[u8]| {
                    let a = [b[0], b[1], b[2], b[3]];
                    if self.big_endian {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    }
                };
                let if_id = rd16(&d[0..2]) as u32;
                let raw = ((rd32(&d[4..8]) as u64) << 32) | rd32(&d[8..12]) as u64;
                let caplen = rd32(&d[12..16]) as usize;
                let origlen = rd32(&d[16..20]);
                let data = &d[20..];
                let data = &data[..caplen.min(data.len())];
                let (ts, lt) = self.ng_time(if_id, raw);
                Ok(Some(self.packet(ts, lt, if_id, origlen, data)))
            }
            _ => Ok(None),
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

    fn packet(
        &mut self,
        ts: i128,
        lt: LinkType,
        iface: u32,
        orig_len: u32,
        data: &[u8],
    ) -> FrameMeta {
        self.frames += 1;
        self.last_ts = ts;
        self.buf.clear();
        self.buf.extend_from_slice(data);
        FrameMeta {
            ts_ns: ts,
            link_type: lt,
            interface: iface,
            orig_len,
        }
    }
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

/// The length a damaged or partial block declares, read from its header.
fn declared_len(data: &[u8], st: &State) -> Option<usize> {
    if st.legacy {
        // Classic pcap record header: ts_sec, ts_usec, caplen, origlen.
        let b = data.get(8..12)?;
        let a = [b[0], b[1], b[2], b[3]];
        return Some(
            16 + if st.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            } as usize,
        );
    }
    let b = data.get(4..8)?;
    let a = [b[0], b[1], b[2], b[3]];
    Some(if st.big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    } as usize)
}

fn describe_bad_block(data: &[u8], st: &State, err: &str) -> String {
    if st.legacy {
        return match declared_len(data, st) {
            Some(n) => format!(
                "bad packet record header (declares {} captured bytes): {err}",
                n - 16
            ),
            None => format!("bad packet record: {err}"),
        };
    }
    let rd = |r: std::ops::Range<usize>| {
        data.get(r).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if st.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        })
    };
    match (rd(0..4), rd(4..8)) {
        (Some(t), Some(len)) => {
            let trailer = (len as usize).checked_sub(4).and_then(|o| rd(o..o + 4));
            let mut s = format!("bad pcapng block (type 0x{t:08x}, length {len})");
            if len % 4 != 0 || len < 12 {
                s.push_str(": length is not a multiple of 4 of at least 12");
            } else if let Some(t2) = trailer {
                if t2 != len {
                    s.push_str(&format!(": trailing length {t2} differs"));
                }
            }
            s
        }
        _ => format!("bad pcapng block: {err}"),
    }
}
