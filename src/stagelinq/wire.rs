//! Primitives shared by every StageLinQ message (`stagelinq.md` 1.1): the 16-byte token, the
//! network string (u32 BE byte count + UTF-16BE text), big-endian integers, and the error type.

use crate::dissect::Depth;
use std::fmt;
use std::ops::Range;

use crate::dissect::{Dissection, FieldSink, Knowledge, Value};

/// Why bytes do not fit a StageLinQ message layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("truncated: {what} needs {needed} bytes, message has {have}")]
    Truncated {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    #[error("bad magic: expected {expected:?}")]
    BadMagic { expected: &'static str },
    #[error("length field says {declared} bytes follow, message has {actual}")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("{what}: UTF-16 byte count {len} is odd")]
    OddStringLength { what: &'static str, len: usize },
    #[error("{what}: invalid UTF-16")]
    BadUtf16 { what: &'static str },
    #[error("{what}: invalid UTF-8")]
    BadUtf8 { what: &'static str },
    #[error("unknown message id 0x{id:x}")]
    UnknownId { id: u32 },
    #[error("{count} bytes left over after {what}")]
    TrailingBytes { what: &'static str, count: usize },
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Device or application identity (`stagelinq.md` 1.1): 16 raw bytes, printed as a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Token(pub [u8; 16]);

impl Token {
    pub const LEN: usize = 16;
    /// All zero: the "no peer" second token of a Reference ping (`stagelinq.md` 1.3.3).
    pub const ZERO: Token = Token([0; 16]);

    pub fn from_slice(b: &[u8]) -> Option<Token> {
        b.try_into().ok().map(Token)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    /// Lowercase hex without separators.
    pub fn hex(&self) -> String {
        crate::util::hex(&self.0)
    }
}

impl fmt::Display for Token {
    /// UUID form `8fba5ced-9381-4d5c-b334-5bf935b8e49e`, as the tokens appear inside StateMap
    /// values (`stagelinq.md` 1.1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Big-endian u32 at `off`, or a truncation error naming `what`.
pub fn read_u32(b: &[u8], off: usize, what: &'static str) -> Result<u32> {
    let end = off.checked_add(4).ok_or(Error::Invalid {
        what,
        reason: "offset overflow",
    })?;
    match b.get(off..end) {
        Some(s) => Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
        None => Err(Error::Truncated {
            what,
            needed: end,
            have: b.len(),
        }),
    }
}

/// Big-endian u64 at `off`.
pub fn read_u64(b: &[u8], off: usize, what: &'static str) -> Result<u64> {
    let s = slice(b, off, 8, what)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_be_bytes(a))
}

/// Big-endian u16 at `off`.
pub fn read_u16(b: &[u8], off: usize, what: &'static str) -> Result<u16> {
    let s = slice(b, off, 2, what)?;
    Ok(u16::from_be_bytes([s[0], s[1]]))
}

/// `n` bytes at `off`, or a truncation error (never panics, even for huge wire lengths).
pub fn slice<'a>(b: &'a [u8], off: usize, n: usize, what: &'static str) -> Result<&'a [u8]> {
    let end = off.checked_add(n).ok_or(Error::Truncated {
        what,
        needed: usize::MAX,
        have: b.len(),
    })?;
    b.get(off..end).ok_or(Error::Truncated {
        what,
        needed: end,
        have: b.len(),
    })
}

/// The byte ranges of a network string starting at `start` whose text is `nbytes` long:
/// (length prefix, text, offset just after). `nbytes` comes from the wire, so saturate.
pub fn ns_ranges(start: usize, nbytes: usize) -> (Range<usize>, Range<usize>, usize) {
    let text_start = start.saturating_add(4);
    let end = text_start.saturating_add(nbytes);
    (start..text_start, text_start..end, end)
}

/// Decode UTF-16BE text (`stagelinq.md` 1.1: no BOM, no terminator).
pub fn decode_utf16be(b: &[u8], what: &'static str) -> Result<String> {
    if b.len() % 2 != 0 {
        return Err(Error::OddStringLength { what, len: b.len() });
    }
    let units = b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<std::result::Result<String, _>>()
        .map_err(|_| Error::BadUtf16 { what })
}

/// Lossy UTF-16BE decode for display of damaged strings.
pub fn decode_utf16be_lossy(b: &[u8]) -> String {
    let units = b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Read a network string at `off`: returns the text and the offset after it.
pub fn read_ns(b: &[u8], off: usize, what: &'static str) -> Result<(String, usize)> {
    let n = read_u32(b, off, what)? as usize;
    let text = slice(b, off + 4, n, what)?;
    Ok((decode_utf16be(text, what)?, off + 4 + n))
}

/// Read a u32-length-prefixed UTF-8 string (the EAAS URL, `stagelinq.md` 1.10).
pub fn read_ns_utf8(b: &[u8], off: usize, what: &'static str) -> Result<(String, usize)> {
    let n = read_u32(b, off, what)? as usize;
    let text = slice(b, off + 4, n, what)?;
    let s = std::str::from_utf8(text).map_err(|_| Error::BadUtf8 { what })?;
    Ok((s.to_string(), off + 4 + n))
}

/// Bytes a network string takes on the wire (prefix + UTF-16 code units).
pub fn ns_len(s: &str) -> usize {
    4 + 2 * s.encode_utf16().count()
}

/// Write a network string at `off`; returns the offset after it.
/// Panics if `buf` is shorter than `off + ns_len(s)` (callers size it with `buffer_len`).
pub fn write_ns(buf: &mut [u8], off: usize, s: &str) -> usize {
    let n = 2 * s.encode_utf16().count();
    put_u32(buf, off, n as u32);
    let mut p = off + 4;
    for u in s.encode_utf16() {
        buf[p..p + 2].copy_from_slice(&u.to_be_bytes());
        p += 2;
    }
    p
}

/// Write a u32-length-prefixed UTF-8 string; returns the offset after it.
pub fn write_ns_utf8(buf: &mut [u8], off: usize, s: &str) -> usize {
    put_u32(buf, off, s.len() as u32);
    let p = off + 4;
    buf[p..p + s.len()].copy_from_slice(s.as_bytes());
    p + s.len()
}

pub fn put_u16(buf: &mut [u8], off: usize, v: u16) {
    buf[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

pub fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

pub fn put_u64(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_be_bytes());
}

/// Length of a length-prefixed message as the u32 prefix must say it (`stagelinq.md` 1.1:
/// `len` excludes itself). Saturates for absurd hand-built sizes instead of wrapping.
pub fn prefix_value(total_len: usize) -> u32 {
    u32::try_from(total_len.saturating_sub(4)).unwrap_or(u32::MAX)
}

/// Check that a length-prefixed message's prefix matches the bytes present.
pub fn check_prefix(b: &[u8]) -> Result<()> {
    let declared = read_u32(b, 0, "length prefix")? as usize;
    let actual = b.len() - 4;
    if declared != actual {
        return Err(Error::LengthMismatch { declared, actual });
    }
    Ok(())
}

/// Every byte accounted for even when a dissector stopped at a truncated field (the
/// malformed path): the bytes in no field become unknown.
pub fn accounted(mut d: Dissection, b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    if d.malformed.is_some() {
        FieldSink::new(b, &mut d, detail).unknown_holes();
    }
    d
}

/// Dissect a network string at `start`: pushes `len_name` (the byte count) and `name` (the
/// text). Returns the text (lossy if damaged) and the offset after it; None if truncated.
pub fn dissect_ns(
    sink: &mut FieldSink<'_>,
    len_name: &'static str,
    name: &'static str,
    start: usize,
) -> Option<(String, usize)> {
    let n = sink.uint(len_name, start..start.saturating_add(4))? as usize;
    let (_, text_range, end) = ns_ranges(start, n);
    let b = sink.get(name, text_range.clone())?;
    let text = match decode_utf16be(b, name) {
        Ok(s) => s,
        Err(e) => {
            sink.out.set_malformed(e.to_string());
            decode_utf16be_lossy(b)
        }
    };
    sink.push(
        name,
        Some(text_range),
        Value::Str(text.clone().into()),
        Knowledge::Known,
        || None,
    );
    Some((text, end))
}

/// Dissect a 16-byte token at `start` as hex bytes, with the UUID form as its meaning.
pub fn dissect_token(sink: &mut FieldSink<'_>, name: &'static str, start: usize) -> Option<Token> {
    let b = sink.get(name, start..start + Token::LEN)?;
    let t = Token::from_slice(b)?;
    sink.push(
        name,
        Some(start..start + Token::LEN),
        Value::Bytes(t.0.to_vec()),
        Knowledge::Known,
        || Some(format!("token {t}")),
    );
    Some(t)
}

/// Dissect the u32 length prefix of a length-prefixed message and flag a mismatch.
pub fn dissect_prefix(sink: &mut FieldSink<'_>) -> Option<u64> {
    let have = sink.bytes.len();
    let v = sink.uint_with("length", 0..4, |v| {
        Some(format!("{v} bytes follow the length field"))
    })?;
    if v as usize != have.saturating_sub(4) {
        sink.out.set_malformed(format!(
            "length field says {v} bytes follow, message has {}",
            have.saturating_sub(4)
        ));
    }
    Some(v)
}

/// Format a float the way StageLinQ JSON does for doubles (shortest round-trip form).
pub fn f64_text(v: f64) -> String {
    if v.is_finite() {
        ryu::Buffer::new().format_finite(v).to_string()
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_string_round_trip() {
        // "StateMap" as the SC6000 announces it, sc6000_boot.pcap f51.
        let bytes = crate::util::parse_hex("0000001000530074006100740065004d00610070").unwrap();
        let (s, end) = read_ns(&bytes, 0, "name").unwrap();
        assert_eq!((s.as_str(), end), ("StateMap", 20));
        let mut out = vec![0; ns_len("StateMap")];
        assert_eq!(write_ns(&mut out, 0, "StateMap"), 20);
        assert_eq!(out, bytes);
    }

    #[test]
    fn network_string_errors() {
        assert!(matches!(
            read_ns(&[0, 0, 0, 3, 0, 0x41, 0], 0, "x"),
            Err(Error::OddStringLength { .. })
        ));
        assert!(matches!(
            read_ns(&[0xff, 0xff, 0xff, 0xff, 0, 0x41], 0, "x"),
            Err(Error::Truncated { .. })
        ));
        // A lone high surrogate.
        assert!(matches!(
            read_ns(&[0, 0, 0, 2, 0xd8, 0x00], 0, "x"),
            Err(Error::BadUtf16 { .. })
        ));
        assert!(read_ns(&[0, 0], 0, "x").is_err());
    }

    #[test]
    fn token_prints_as_uuid() {
        let t = Token(*b"\x8f\xba\x5c\xed\x93\x81\x4d\x5c\xb3\x34\x5b\xf9\x35\xb8\xe4\x9e");
        assert_eq!(t.to_string(), "8fba5ced-9381-4d5c-b334-5bf935b8e49e");
        assert_eq!(t.hex(), "8fba5ced93814d5cb3345bf935b8e49e");
    }
}
