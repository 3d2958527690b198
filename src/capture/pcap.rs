//! Classic pcap (libpcap format, draft-ietf-opsawg-pcap): the 24-byte file header, the packet
//! record headers, and what counts as a plausible record header.
//!
//! Records have no marker and no trailing length, so damage shows only as a header that
//! makes no sense: a timestamp fraction of a second or more, or more captured bytes than the
//! snap length allows. Resynchronisation is therefore conservative: a record header is
//! accepted after damage only when its lengths are sane, its time is within a day of the last
//! good packet, and the record after it is plausible too (or the file ends exactly there).

use super::reader::MAX_BLOCK;

/// Largest record accepted whatever the header's snap length says: libpcap's and Wireshark's
/// largest snap length (262144).
const LARGEST_SNAPLEN: usize = 262_144;
/// How far (in seconds) a resynchronised record's time may be from the previous packet's.
const RESYNC_WINDOW_S: u32 = 86_400;

/// What the file header says.
#[derive(Debug, Clone, Copy)]
pub struct FileHeader {
    pub big_endian: bool,
    pub nanos: bool,
    /// Kuznetzov's "modified" format: 24-byte record headers (magic 0xa1b2cd34).
    pub modified: bool,
    pub link_type: u32,
    /// Largest captured length a record may claim.
    pub record_limit: usize,
}

impl FileHeader {
    pub const LEN: usize = 24;

    /// Parse the file header (`b` holds at least 24 bytes and starts with a known magic).
    pub fn parse(b: &[u8]) -> Option<FileHeader> {
        let magic: [u8; 4] = b.get(0..4)?.try_into().ok()?;
        let m = u32::from_le_bytes(magic);
        let (big_endian, m) = match m {
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 => (false, m),
            _ => (true, m.swap_bytes()),
        };
        let (nanos, modified) = match m {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (true, false),
            0xa1b2_cd34 => (false, true),
            _ => return None,
        };
        let rd = |at: usize| -> Option<u32> {
            let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
            Some(if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        };
        let snaplen = rd(16)? as usize;
        Some(FileHeader {
            big_endian,
            nanos,
            modified,
            // The low 16 bits are the link type; the upper ones carry FCS information.
            link_type: rd(20)? & 0xffff,
            record_limit: snaplen.clamp(LARGEST_SNAPLEN, MAX_BLOCK),
        })
    }

    pub fn record_header_len(&self) -> usize {
        if self.modified {
            24
        } else {
            16
        }
    }

    fn frac_limit(&self) -> u32 {
        if self.nanos {
            1_000_000_000
        } else {
            1_000_000
        }
    }

    /// Parse a record header (`b` holds at least `record_header_len()` bytes).
    pub fn record(&self, b: &[u8]) -> Option<Record> {
        let rd = |at: usize| -> Option<u32> {
            let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
            Some(if self.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        };
        Some(Record {
            ts_sec: rd(0)?,
            frac: rd(4)?,
            caplen: rd(8)? as usize,
            orig_len: rd(12)?,
        })
    }

    /// Why a record header read in sequence cannot be right, if it cannot.
    pub fn record_problem(&self, r: &Record) -> Option<String> {
        if r.frac >= self.frac_limit() {
            Some(format!(
                "bad packet record header: timestamp fraction {} is not below {}",
                r.frac,
                self.frac_limit()
            ))
        } else if r.caplen > self.record_limit {
            Some(format!(
                "bad packet record header: it claims {} captured bytes, more than the \
                 {}-byte limit (damaged length field)",
                r.caplen, self.record_limit
            ))
        } else {
            None
        }
    }

    /// Stricter test for a record header found by scanning after damage: sane lengths
    /// (something captured, no more than was on the wire) and a time near `near_s`.
    pub fn plausible(&self, r: &Record, near_s: Option<u32>) -> bool {
        self.record_problem(r).is_none()
            && r.caplen > 0
            && r.caplen as u64 <= u64::from(r.orig_len)
            && r.orig_len as usize <= self.record_limit
            && near_s.is_none_or(|t| t.abs_diff(r.ts_sec) <= RESYNC_WINDOW_S)
    }

    /// Timestamp in nanoseconds since the epoch.
    pub fn ts_ns(&self, r: &Record) -> i128 {
        let sub = if self.nanos { 1 } else { 1000 };
        i128::from(r.ts_sec) * 1_000_000_000 + i128::from(r.frac) * sub
    }
}

/// One packet record header.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    pub ts_sec: u32,
    pub frac: u32,
    pub caplen: usize,
    pub orig_len: u32,
}
