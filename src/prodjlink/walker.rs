//! Dissection helpers shared by every Pro DJ Link message: the [`Walker`] that accounts for
//! every byte, the header dissectors, and small value builders.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use crate::dissect::{Depth, Dissection, Field, FieldSink, Knowledge, Value};

use super::header::{field, utf16be, STAGEHAND_PEER};
use super::MAGIC;

/// Walks a message's fields in ascending offset order through a [`FieldSink`], marking every
/// byte between two fields (and after the last one) as unknown, so that fields and unknown ranges
/// cover the whole message by construction.
pub(crate) struct Walker<'a> {
    pub s: FieldSink<'a>,
    pos: usize,
}

impl<'a> Walker<'a> {
    pub fn new(bytes: &'a [u8], out: &'a mut Dissection, detail: impl Into<Depth>) -> Self {
        Walker {
            s: FieldSink::new(bytes, out, detail),
            pos: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.s.bytes.len()
    }

    /// True when the whole of `r` is inside the message (for fields that exist only in longer
    /// variants, which are not an error when absent).
    pub fn has(&self, r: &Range<usize>) -> bool {
        r.end <= self.len()
    }

    /// Mark the bytes from the current position to `start` unknown.
    #[inline]
    pub fn skip_to(&mut self, start: usize) {
        if start > self.pos {
            if self.s.detail {
                unknown(&mut self.s, self.pos..start);
            }
            self.pos = start;
        }
    }

    /// Move past a field that was read. A field cut off by the end of the message is not
    /// passed, so the bytes of it that are present end up in an unknown range.
    #[inline]
    fn done(&mut self, r: &Range<usize>) {
        if r.end <= self.len() {
            self.pos = self.pos.max(r.end);
        }
    }

    #[inline]
    pub fn uint(&mut self, name: &'static str, r: Range<usize>) -> Option<u64> {
        self.skip_to(r.start);
        let v = self.s.uint(name, r.clone());
        self.done(&r);
        v
    }

    #[inline]
    pub fn uint_with(
        &mut self,
        name: &'static str,
        r: Range<usize>,
        meaning: impl FnOnce(u64) -> Option<String>,
    ) -> Option<u64> {
        self.skip_to(r.start);
        let v = self.s.uint_with(name, r.clone(), meaning);
        self.done(&r);
        v
    }

    /// A little-endian unsigned integer (the OPUS-QUAD track id in 0x55, 4.1).
    pub fn uint_le(&mut self, name: &'static str, r: Range<usize>) -> Option<u64> {
        self.skip_to(r.start);
        let v = self.s.uint_le(name, r.clone());
        self.done(&r);
        v
    }

    pub fn value(
        &mut self,
        name: &'static str,
        r: Range<usize>,
        f: impl FnOnce(&[u8]) -> Value,
        meaning: impl FnOnce(&Value) -> Option<String>,
    ) -> Option<Value> {
        self.skip_to(r.start);
        let v = self.s.value(name, r.clone(), f, meaning);
        self.done(&r);
        v
    }

    pub fn ascii(&mut self, name: &'static str, r: Range<usize>) -> Option<String> {
        self.skip_to(r.start);
        let v = self.s.ascii(name, r.clone());
        self.done(&r);
        v
    }

    pub fn bytes(&mut self, name: &'static str, r: Range<usize>) -> Option<&'a [u8]> {
        self.skip_to(r.start);
        let v = self.s.bytes(name, r.clone());
        self.done(&r);
        v
    }

    pub fn constant(&mut self, name: &'static str, r: Range<usize>, expected: &[u8]) {
        self.skip_to(r.start);
        self.s.constant(name, r.clone(), expected);
        self.done(&r);
    }

    /// A MAC address as `aa:bb:cc:dd:ee:ff`.
    pub fn mac(&mut self, name: &'static str, r: Range<usize>) -> Option<Value> {
        self.value(name, r, |b| Value::Str(mac_text(b).into()), |_| None)
    }

    /// An IPv4 address as dotted text.
    pub fn ip(&mut self, name: &'static str, r: Range<usize>) -> Option<Value> {
        self.value(name, r, |b| Value::Str(ip_text(b).into()), |_| None)
    }

    /// NUL-terminated UTF-16BE text.
    pub fn utf16(&mut self, name: &'static str, r: Range<usize>) -> Option<Value> {
        self.value(name, r, |b| Value::Str(utf16be(b).into()), |_| None)
    }

    /// A one-byte code whose value names something: JSON gets the name, `0x..` when not listed.
    pub fn named(
        &mut self,
        name: &'static str,
        r: Range<usize>,
        names: fn(u8) -> Option<&'static str>,
    ) -> Option<u8> {
        self.skip_to(r.start);
        let v = self.s.get(name, r.clone()).and_then(|b| b.first().copied());
        if let (Some(v), true) = (v, self.s.writes_json()) {
            match names(v) {
                Some(code) => self.s.json_code(name, code),
                None => self.s.json_code(name, &format!("0x{v:02x}")),
            }
        } else if let Some(v) = v.filter(|_| self.s.wants()) {
            self.s.push(
                name,
                Some(r.clone()),
                code_value(v, names),
                Knowledge::Known,
                || Some(format!("code 0x{v:02x}")),
            );
        }
        self.done(&r);
        v
    }

    pub fn derived(&mut self, name: &'static str, v: Value) {
        self.s.derived(name, v);
    }

    /// Mark the dissection truncated when the message is shorter than `len`, the minimum its
    /// Repr's `parse` demands, unless a missing field already did (the first reason wins).
    pub fn expect_len(&mut self, len: usize) {
        let n = self.len();
        if n < len {
            self.out().set_malformed(format!(
                "truncated: layout needs 0x{len:x} bytes, message has 0x{n:x}"
            ));
        }
    }

    /// Everything after the last field is unknown.
    pub fn finish(&mut self) {
        let end = self.len();
        self.skip_to(end);
    }

    pub fn out(&mut self) -> &mut Dissection {
        self.s.out
    }
}

/// `aa:bb:..` without `format!` (keep-alives are a quarter of all traffic).
fn mac_text(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 3);
    for (i, &x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

/// Dotted quad from four bytes.
fn ip_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(15);
    for (i, &x) in b.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(itoa::Buffer::new().format(x));
    }
    s
}

/// The value of a named one-byte code: its name, or `0x..` when the reference lists none.
pub(crate) fn code_value(v: u8, names: fn(u8) -> Option<&'static str>) -> Value {
    match names(v) {
        Some(n) => Value::Str(Cow::Borrowed(n)),
        None => Value::Str(Cow::Owned(format!("0x{v:02x}"))),
    }
}

/// Same output as [`FieldSink::unknown`], but with the field name taken from a table built once,
/// so that a status packet with dozens of unknown gaps does not format dozens of names.
#[inline]
pub(crate) fn unknown(s: &mut FieldSink<'_>, range: Range<usize>) {
    if !s.detail {
        // Outside detail views unknown bytes are not recorded (FieldSink::unknown).
        return;
    }
    let end = range.end.min(s.bytes.len());
    if range.start >= end {
        return;
    }
    let name = unknown_name(range.start);
    s.out.fields.push(Field {
        name,
        range: Some(range.start..end),
        value: Value::Bytes(s.bytes[range.start..end].to_vec()),
        meaning: None,
        knowledge: Knowledge::Unknown,
    });
}

fn unknown_name(start: usize) -> Cow<'static, str> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (0..0x600).map(|i| format!("unknown_{i:x}")).collect());
    match names.get(start) {
        Some(n) => Cow::Borrowed(n.as_str()),
        None => Cow::Owned(format!("unknown_{start:x}")),
    }
}

/// Magic and kind: the first two fields of every dissection.
pub(crate) fn dissect_magic_kind(w: &mut Walker<'_>) {
    w.constant("magic", field::MAGIC, &MAGIC);
    w.uint("kind", field::KIND);
}

/// Fields of the port-50000 header; sets the dissection's name.
pub(crate) fn dissect_announce(w: &mut Walker<'_>) {
    use field::announce::*;
    dissect_magic_kind(w);
    w.uint_with("sub_kind", SUB_KIND, |v| {
        Some(match v {
            0 => "00: normal".into(),
            // prodjlink.md 9.2: channel-specific mixer ports.
            1 => "01: an exchange directed at a mixer".into(),
            _ => format!("{v:02x}: not seen before"),
        })
    });
    if let Some(name) = w.ascii("name", NAME) {
        w.out().name = Some(name);
    }
    w.uint_with("header_type", HEADER_TYPE, header_type_meaning);
    w.uint_with("structure", STRUCTURE, |v| {
        Some(
            match v {
                1 => "01: DJM-2000nexus (2016 dump)",
                2 => "02: nexus-era CDJ/DJM",
                3 => "03: CDJ-3000-compatible form (also rekordbox lighting, Stagehand, XDJ-RX)",
                4 => "04: CDJ-3000 hello",
                _ => "not seen before",
            }
            .to_string(),
        )
    });
    let n = w.len();
    w.uint_with("length", LENGTH, move |v| {
        Some(if v as usize == n {
            format!("{v} bytes in all, as received")
        } else {
            format!(
                "declares {v} bytes in all, but the packet has {n} (see length_note or malformed)"
            )
        })
    });
}

/// Name and device from the status header, for a status packet long enough that its walk could
/// not find it malformed (the shortcuts of `prodjlink::dissect`).
pub(crate) fn status_identity(b: &[u8], out: &mut Dissection) {
    use field::status::{DEVICE, NAME};
    out.name = b.get(NAME).map(crate::dissect::ascii_trim);
    out.device = b.get(DEVICE).map(|d| d[0] as u32);
}

/// Fields of the status header; sets the dissection's name and device.
pub(crate) fn dissect_status(w: &mut Walker<'_>) {
    use field::status::*;
    dissect_magic_kind(w);
    if let Some(name) = w.ascii("name", NAME) {
        w.out().name = Some(name);
    }
    w.uint_with("header_type", HEADER_TYPE, header_type_meaning);
    w.uint_with("subtype", SUBTYPE, |v| {
        Some(format!(
            "{v:02x}: tells whether the length counts the whole packet or what follows the header (03-06 on CDJ status, 08 on the CDJ-3000X's)"
        ))
    });
    if let Some(d) = w.uint("device", DEVICE) {
        w.out().device = Some(d as u32);
    }
    let n = w.len();
    w.uint_with("length", LENGTH, move |v| {
        Some(length_meaning(v as usize, n))
    });
}

fn header_type_meaning(v: u64) -> Option<String> {
    Some(match v {
        1 => "01: usual".into(),
        2 => "02: load settings, Stagehand command".into(),
        3 => "03: Stagehand frame".into(),
        _ => format!("{v:02x}: not seen before"),
    })
}

/// Whether the length field reads as len_r or len_p for this packet (1.3; never an error).
fn length_meaning(v: usize, n: usize) -> String {
    if v + field::HEADER_LEN == n {
        format!("{v} bytes follow the header, as received")
    } else if v == n {
        format!("{v} bytes in all, as received")
    } else {
        format!("declares {v}, but the packet has {n} bytes (see length_note or malformed)")
    }
}

/// Fields of the Stagehand peer header; sets the dissection's name.
pub(crate) fn dissect_peer(w: &mut Walker<'_>) {
    use field::peer::*;
    dissect_magic_kind(w);
    if let Some(name) = w.ascii("name", NAME) {
        w.out().name = Some(name);
    }
    w.uint_with("peer", PEER, |v| {
        Some(if v == STAGEHAND_PEER as u64 {
            "3a: addressed to Stagehand".to_string()
        } else {
            format!("device {v} (target of a Stagehand command)")
        })
    });
    w.uint_with("header_type", HEADER_TYPE, header_type_meaning);
}

/// BPM x Pitch1 / 0x100000 from the raw fields (4.2), Null without a BPM or with a pitch no
/// player sends (plausible.rs).
pub(crate) fn effective_bpm(
    b: &[u8],
    bpm: std::ops::Range<usize>,
    pitch: std::ops::Range<usize>,
) -> Value {
    match (
        b.get(bpm).map(crate::dissect::be_uint),
        b.get(pitch).map(|p| crate::dissect::be_uint(p) as u32),
    ) {
        (Some(bpm), Some(pitch)) if bpm != 0xffff && super::plausible::pitch_raw(pitch) => {
            Value::round(bpm as f64 / 100.0 * pitch as f64 / 1_048_576.0, 2)
        }
        _ => Value::Null,
    }
}

/// Builds a one-line summary with `itoa` and integer arithmetic instead of `format!`: every
/// packet gets one, so it has to be cheap.
pub(crate) struct Summary(String);

impl Summary {
    pub fn new() -> Self {
        Summary(String::with_capacity(64))
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.0.push_str(s);
        self
    }

    pub fn uint(&mut self, v: u64) -> &mut Self {
        self.0.push_str(itoa::Buffer::new().format(v));
        self
    }

    /// `v` with `decimals` (at most 3) digits after the point; `signed` adds `+` to positives.
    pub fn fixed(&mut self, v: f64, decimals: u32, signed: bool) -> &mut Self {
        if !v.is_finite() {
            self.0.push('?');
            return self;
        }
        let decimals = decimals.min(3);
        let scale = 10u64.pow(decimals);
        let scaled = (v.abs() * scale as f64).round();
        let n = if scaled >= u64::MAX as f64 {
            u64::MAX
        } else {
            scaled as u64
        };
        if v < 0.0 && n != 0 {
            self.0.push('-');
        } else if signed {
            self.0.push('+');
        }
        self.uint(n / scale);
        if decimals > 0 {
            self.0.push('.');
            self.padded(n % scale, decimals as usize);
        }
        self
    }

    /// `v` in decimal, zero-padded to `width` digits.
    pub fn padded(&mut self, v: u64, width: usize) -> &mut Self {
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(v);
        for _ in digits.len()..width {
            self.0.push('0');
        }
        self.0.push_str(digits);
        self
    }

    /// Two lowercase hex digits.
    pub fn hex2(&mut self, v: u8) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.0.push(HEX[(v >> 4) as usize] as char);
        self.0.push(HEX[(v & 15) as usize] as char);
        self
    }

    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Proto;

    #[test]
    fn summary_numbers() {
        let mut s = Summary::new();
        s.fixed(128.0, 2, false)
            .text(" ")
            .fixed(-1.654, 2, true)
            .text(" ");
        s.fixed(0.004, 2, true)
            .text(" ")
            .fixed(-0.001, 1, false)
            .text(" ")
            .uint(42);
        s.text(" ")
            .fixed(f64::NAN, 2, false)
            .text(" ")
            .fixed(3.06, 1, false);
        assert_eq!(s.finish(), "128.00 -1.65 +0.00 0.0 42 ? 3.1");
    }

    #[test]
    fn walker_covers_gaps_and_tail() {
        let bytes = [1u8, 2, 3, 4, 5, 6];
        let mut d = Dissection::new(Proto::ProDjLink, "t");
        let mut w = Walker::new(&bytes, &mut d, true);
        w.uint("a", 1..2);
        w.uint("b", 3..4);
        w.finish();
        let names: Vec<_> = d.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(names, ["unknown_0", "a", "unknown_2", "b", "unknown_4"]);
        assert_eq!(d.fields[4].range, Some(4..6));
    }
}
