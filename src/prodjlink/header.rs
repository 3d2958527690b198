//! The two header layouts every Pro DJ Link UDP packet starts with (`prodjlink.md` 1.2), the
//! Stagehand variant of the status header, and the small byte helpers the message modules share.
//!
//! Port 50000 uses the "announce" header (sub-kind byte, name at 0x0c, length of the whole
//! packet at 0x22); ports 50001/50002/50004 use the "status" header (name at 0x0b, subtype and
//! device number at 0x20/0x21, a length field at 0x22 whose meaning depends on the subtype, 1.3).

use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::sync::OnceLock;

use crate::dissect::{ascii_trim, Dissection, Field, FieldSink, Knowledge, Value};

use super::{Error, MAGIC};

/// Offsets shared by both header layouts and each layout's own fields (`prodjlink.md` 1.1, 1.2).
pub(crate) mod field {
    use std::ops::Range;

    /// `Qspt1WmJOL` (1.1).
    pub const MAGIC: Range<usize> = 0x00..0x0a;
    /// Packet kind; means something only together with the port (1.1).
    pub const KIND: Range<usize> = 0x0a..0x0b;

    /// Port 50000 layout (1.2, left column).
    pub mod announce {
        use std::ops::Range;
        /// `00` normally, `01` in the directed 0x02/0x03 exchange with a mixer.
        pub const SUB_KIND: Range<usize> = 0x0b..0x0c;
        pub const NAME: Range<usize> = 0x0c..0x20;
        /// Constant `01`.
        pub const HEADER_TYPE: Range<usize> = 0x20..0x21;
        /// Structure/class byte: `01`..`04` depending on the device era (1.2, 13).
        pub const STRUCTURE: Range<usize> = 0x21..0x22;
        /// len_p: length of the whole packet (1.3).
        pub const LENGTH: Range<usize> = 0x22..0x24;
    }

    /// Ports 50001/50002/50004 layout (1.2, right column).
    pub mod status {
        use std::ops::Range;
        pub const NAME: Range<usize> = 0x0b..0x1f;
        /// Constant `01` (`02` in load settings 0x34, `03` in Stagehand frames).
        pub const HEADER_TYPE: Range<usize> = 0x1f..0x20;
        /// Subtype; decides whether LENGTH is len_r or len_p (1.3).
        pub const SUBTYPE: Range<usize> = 0x20..0x21;
        pub const DEVICE: Range<usize> = 0x21..0x22;
        pub const LENGTH: Range<usize> = 0x22..0x24;
    }

    /// Frames to and from the Stagehand app: the name field is one byte shorter and the byte
    /// after it names the peer (`3a` = Stagehand) (`prodjlink.md` 1.2; DYS-SH "unicast peer marker").
    pub mod peer {
        use std::ops::Range;
        pub const NAME: Range<usize> = 0x0b..0x1e;
        pub const PEER: Range<usize> = 0x1e..0x1f;
        pub const HEADER_TYPE: Range<usize> = 0x1f..0x20;
    }

    /// Both header layouts end here.
    pub const HEADER_LEN: usize = 0x24;
}

/// A 20-byte, NUL-padded ASCII device name (`prodjlink.md` 1.4). The raw bytes are kept so that
/// whatever follows the terminating NUL round-trips.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceName(pub [u8; 20]);

impl DeviceName {
    /// A name padded with NULs; longer text is cut at 20 bytes.
    pub fn new(name: &str) -> Self {
        let mut raw = [0u8; 20];
        for (dst, src) in raw.iter_mut().zip(name.bytes()) {
            *dst = src;
        }
        DeviceName(raw)
    }

    /// The name up to the first NUL, non-printable bytes replaced by `.`.
    pub fn text(&self) -> String {
        ascii_trim(&self.0)
    }
}

impl std::fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceName({:?})", self.text())
    }
}

/// Header of every port-50000 packet (`prodjlink.md` 1.2, section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceHeader {
    pub sub_kind: u8,
    pub name: DeviceName,
    /// Byte 0x20, `01` in every known packet.
    pub header_type: u8,
    /// Byte 0x21: `02` nexus era, `03` CDJ-3000-compatible forms, `04` CDJ-3000 hello (1.2).
    pub structure: u8,
    /// len_p as sent (never trusted, 1.3).
    pub length: u16,
}

impl AnnounceHeader {
    /// A nexus-era header (`01 02`) for a packet of `length` bytes.
    pub fn new(name: &str, length: usize) -> Self {
        AnnounceHeader {
            sub_kind: 0,
            name: DeviceName::new(name),
            header_type: 1,
            structure: 2,
            length: clamp_u16(length),
        }
    }

    pub(crate) fn parse(b: &[u8]) -> Self {
        use field::announce::*;
        AnnounceHeader {
            sub_kind: get_u8(b, SUB_KIND),
            name: DeviceName(get_arr(b, NAME)),
            header_type: get_u8(b, HEADER_TYPE),
            structure: get_u8(b, STRUCTURE),
            length: get_u16(b, LENGTH),
        }
    }

    pub(crate) fn emit(&self, kind: u8, buf: &mut [u8]) {
        use field::announce::*;
        set_bytes(buf, field::MAGIC, &MAGIC);
        set_u8(buf, field::KIND, kind);
        set_u8(buf, SUB_KIND, self.sub_kind);
        set_bytes(buf, NAME, &self.name.0);
        set_u8(buf, HEADER_TYPE, self.header_type);
        set_u8(buf, STRUCTURE, self.structure);
        set_u16(buf, LENGTH, self.length);
    }
}

/// Header of every port-50001/50002/50004 packet (`prodjlink.md` 1.2, 1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusHeader {
    pub name: DeviceName,
    /// Byte 0x1f: `01`, `02` in load settings.
    pub header_type: u8,
    pub subtype: u8,
    /// Device number D of the sender (byte "D", 1.5).
    pub device: u8,
    /// The length field as sent: len_r for most subtypes, len_p for some (1.3). Never trusted.
    pub length: u16,
}

impl StatusHeader {
    /// Header whose length field is len_r (bytes after 0x23) for a packet of `total` bytes.
    pub fn with_len_r(name: &str, subtype: u8, device: u8, total: usize) -> Self {
        StatusHeader {
            name: DeviceName::new(name),
            header_type: 1,
            subtype,
            device,
            length: clamp_u16(total.saturating_sub(field::HEADER_LEN)),
        }
    }

    pub(crate) fn parse(b: &[u8]) -> Self {
        use field::status::*;
        StatusHeader {
            name: DeviceName(get_arr(b, NAME)),
            header_type: get_u8(b, HEADER_TYPE),
            subtype: get_u8(b, SUBTYPE),
            device: get_u8(b, DEVICE),
            length: get_u16(b, LENGTH),
        }
    }

    pub(crate) fn emit(&self, kind: u8, buf: &mut [u8]) {
        use field::status::*;
        set_bytes(buf, field::MAGIC, &MAGIC);
        set_u8(buf, field::KIND, kind);
        set_bytes(buf, NAME, &self.name.0);
        set_u8(buf, HEADER_TYPE, self.header_type);
        set_u8(buf, SUBTYPE, self.subtype);
        set_u8(buf, DEVICE, self.device);
        set_u16(buf, LENGTH, self.length);
    }
}

/// Header of the Stagehand unicast frames (DYS-SH, `prodjlink.md` 1.2): a 19-byte name, the
/// peer byte (`3a` towards Stagehand, the target's device number from Stagehand) and a type byte.
/// What bytes 0x20..0x24 hold depends on the kind, so each message owns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerHeader {
    pub name: [u8; 19],
    pub peer: u8,
    pub header_type: u8,
}

impl PeerHeader {
    /// Header of a frame sent to Stagehand (peer `3a`, type `03`).
    pub fn to_stagehand(name: &str) -> Self {
        let mut raw = [0u8; 19];
        for (dst, src) in raw.iter_mut().zip(name.bytes()) {
            *dst = src;
        }
        PeerHeader {
            name: raw,
            peer: STAGEHAND_PEER,
            header_type: 3,
        }
    }

    pub fn name_text(&self) -> String {
        ascii_trim(&self.name)
    }

    pub(crate) fn parse(b: &[u8]) -> Self {
        use field::peer::*;
        PeerHeader {
            name: get_arr(b, NAME),
            peer: get_u8(b, PEER),
            header_type: get_u8(b, HEADER_TYPE),
        }
    }

    pub(crate) fn emit(&self, kind: u8, buf: &mut [u8]) {
        use field::peer::*;
        set_bytes(buf, field::MAGIC, &MAGIC);
        set_u8(buf, field::KIND, kind);
        set_bytes(buf, NAME, &self.name);
        set_u8(buf, PEER, self.peer);
        set_u8(buf, HEADER_TYPE, self.header_type);
    }
}

/// The peer byte of frames addressed to Stagehand: its symbolic device number (DYS-SH).
pub const STAGEHAND_PEER: u8 = 0x3a;

// ---------------------------------------------------------------------------------------------
// Byte helpers. Callers check the packet length first (`need`), so the ranges below are in bounds.

/// `Err(Truncated)` unless `b` holds at least `need` bytes.
pub(crate) fn need(kind: &'static str, b: &[u8], need: usize) -> Result<(), Error> {
    if b.len() < need {
        Err(Error::Truncated {
            kind,
            need,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn get_u8(b: &[u8], r: Range<usize>) -> u8 {
    b[r.start]
}

pub(crate) fn get_u16(b: &[u8], r: Range<usize>) -> u16 {
    u16::from_be_bytes(get_arr(b, r))
}

pub(crate) fn get_u32(b: &[u8], r: Range<usize>) -> u32 {
    u32::from_be_bytes(get_arr(b, r))
}

pub(crate) fn get_u64(b: &[u8], r: Range<usize>) -> u64 {
    u64::from_be_bytes(get_arr(b, r))
}

pub(crate) fn get_ip(b: &[u8], r: Range<usize>) -> Ipv4Addr {
    Ipv4Addr::from(get_arr::<4>(b, r))
}

pub(crate) fn get_arr<const N: usize>(b: &[u8], r: Range<usize>) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[r]);
    out
}

pub(crate) fn set_u8(buf: &mut [u8], r: Range<usize>, v: u8) {
    buf[r.start] = v;
}

pub(crate) fn set_u16(buf: &mut [u8], r: Range<usize>, v: u16) {
    buf[r].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn set_u32(buf: &mut [u8], r: Range<usize>, v: u32) {
    buf[r].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn set_u64(buf: &mut [u8], r: Range<usize>, v: u64) {
    buf[r].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn set_ip(buf: &mut [u8], r: Range<usize>, ip: Ipv4Addr) {
    buf[r].copy_from_slice(&ip.octets());
}

pub(crate) fn set_bytes(buf: &mut [u8], r: Range<usize>, v: &[u8]) {
    buf[r].copy_from_slice(v);
}

/// The bytes from `start` to the end (empty when the packet is shorter).
pub(crate) fn tail(b: &[u8], start: usize) -> Vec<u8> {
    b.get(start..).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Write `tail` at `start` (the counterpart of [`tail`]).
pub(crate) fn put_tail(buf: &mut [u8], start: usize, tail: &[u8]) {
    buf[start..start + tail.len()].copy_from_slice(tail);
}

pub(crate) fn clamp_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// UTF-16BE text up to the first NUL code unit (media names, file names: 4.1).
pub(crate) fn utf16be(b: &[u8]) -> String {
    let units = b
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0);
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// `text` as NUL-padded UTF-16BE in exactly `N` bytes (cut if longer).
pub(crate) fn utf16be_field<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (slot, unit) in out.chunks_exact_mut(2).zip(text.encode_utf16()) {
        slot.copy_from_slice(&unit.to_be_bytes());
    }
    out
}

/// Pitch as sent (0x100000 = normal speed, `prodjlink.md` 3 and 4.2) as a percentage.
pub fn pitch_percent(raw: u32) -> f64 {
    (raw as f64 - 1_048_576.0) * 100.0 / 1_048_576.0
}

/// Percentage back to the wire's pitch scale.
pub fn pitch_raw(percent: f64) -> u32 {
    let v = (percent * 1_048_576.0 / 100.0 + 1_048_576.0).round();
    if v <= 0.0 {
        0
    } else if v >= u32::MAX as f64 {
        u32::MAX
    } else {
        v as u32
    }
}

// ---------------------------------------------------------------------------------------------
// Dissection helpers.

/// Walks a message's fields in ascending offset order through a [`FieldSink`], marking every
/// byte between two fields (and after the last one) as unknown, so that fields and unknown ranges
/// cover the whole message by construction.
pub(crate) struct Walker<'a> {
    pub s: FieldSink<'a>,
    pos: usize,
}

impl<'a> Walker<'a> {
    pub fn new(bytes: &'a [u8], out: &'a mut Dissection, detail: bool) -> Self {
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
    pub fn skip_to(&mut self, start: usize) {
        if start > self.pos {
            unknown(&mut self.s, self.pos..start);
            self.pos = start;
        }
    }

    /// Move past a field that was read. A field cut off by the end of the message is not
    /// passed, so the bytes of it that are present end up in an unknown range.
    fn done(&mut self, r: &Range<usize>) {
        if r.end <= self.len() {
            self.pos = self.pos.max(r.end);
        }
    }

    pub fn uint(&mut self, name: &'static str, r: Range<usize>) -> Option<u64> {
        self.skip_to(r.start);
        let v = self.s.uint(name, r.clone());
        self.done(&r);
        v
    }

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

    pub fn mac(&mut self, name: &'static str, r: Range<usize>) -> Option<Value> {
        self.value(
            name,
            r,
            |b| Value::Str(crate::util::mac(b).into()),
            |_| None,
        )
    }

    pub fn ip(&mut self, name: &'static str, r: Range<usize>) -> Option<Value> {
        self.value(
            name,
            r,
            |b| {
                let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
                Value::Str(ip.to_string().into())
            },
            |_| None,
        )
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
        if let Some(v) = v {
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

/// The value of a named one-byte code: its name, or `0x..` when the reference lists none.
pub(crate) fn code_value(v: u8, names: fn(u8) -> Option<&'static str>) -> Value {
    match names(v) {
        Some(n) => Value::Str(Cow::Borrowed(n)),
        None => Value::Str(Cow::Owned(format!("0x{v:02x}"))),
    }
}

/// Same output as [`FieldSink::unknown`], but with the field name taken from a table built once,
/// so that a status packet with dozens of unknown gaps does not format dozens of names.
pub(crate) fn unknown(s: &mut FieldSink<'_>, range: Range<usize>) {
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
    w.uint("sub_kind", SUB_KIND);
    if let Some(name) = w.ascii("name", NAME) {
        w.out().name = Some(name);
    }
    w.uint("header_type", HEADER_TYPE);
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
            format!("len_p: {v} bytes, matches the packet")
        } else {
            format!("len_p: {v} bytes, but the packet has {n}")
        })
    });
}

/// Fields of the status header; sets the dissection's name and device.
pub(crate) fn dissect_status(w: &mut Walker<'_>) {
    use field::status::*;
    dissect_magic_kind(w);
    if let Some(name) = w.ascii("name", NAME) {
        w.out().name = Some(name);
    }
    w.uint("header_type", HEADER_TYPE);
    w.uint("subtype", SUBTYPE);
    if let Some(d) = w.uint("device", DEVICE) {
        w.out().device = Some(d as u32);
    }
    let n = w.len();
    w.uint_with("length", LENGTH, move |v| {
        Some(length_meaning(v as usize, n))
    });
}

/// Whether the length field reads as len_r or len_p for this packet (1.3; never an error).
fn length_meaning(v: usize, n: usize) -> String {
    if v + field::HEADER_LEN == n {
        format!("len_r: {v} bytes follow, matches the packet")
    } else if v == n {
        format!("len_p: {v} bytes in all, matches the packet")
    } else {
        format!("declares {v}, but the packet has {n} bytes (tolerated, 1.3)")
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
    w.uint("header_type", HEADER_TYPE);
}

/// BPM x Pitch1 / 0x100000 from the raw fields (4.2), Null without a BPM.
pub(crate) fn effective_bpm(
    b: &[u8],
    bpm: std::ops::Range<usize>,
    pitch: std::ops::Range<usize>,
) -> Value {
    match (
        b.get(bpm).map(crate::dissect::be_uint),
        b.get(pitch).map(|p| crate::dissect::be_uint(p) as u32),
    ) {
        (Some(bpm), Some(pitch)) if bpm != 0xffff => {
            Value::round(bpm as f64 / 100.0 * pitch as f64 / 1_048_576.0, 2)
        }
        _ => Value::Null,
    }
}

/// OPUS-QUAD decks report device numbers 9-12; the deck is the low three bits (1.5).
pub fn opus_deck(device: u8) -> Option<u8> {
    (9..=12).contains(&device).then_some(device & 7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Proto;

    #[test]
    fn device_name_round_trips_padding() {
        let n = DeviceName::new("CDJ-3000");
        assert_eq!(n.text(), "CDJ-3000");
        assert_eq!(&n.0[8..], &[0u8; 12]);
        assert_eq!(DeviceName::new("a name that is far too long").0.len(), 20);
    }

    #[test]
    fn pitch_scale() {
        assert_eq!(pitch_percent(0x100000), 0.0);
        assert_eq!(pitch_percent(0x200000), 100.0);
        assert_eq!(pitch_percent(0), -100.0);
        assert_eq!(pitch_raw(0.0), 0x100000);
        assert_eq!(pitch_raw(-100.0), 0);
        assert_eq!(pitch_raw(pitch_percent(0x0ffdf3)), 0x0ffdf3);
    }

    #[test]
    fn walker_covers_gaps_and_tail() {
        let bytes = [1u8, 2, 3, 4, 5, 6];
        let mut d = Dissection::new(Proto::ProDjLink, "t");
        let mut w = Walker::new(&bytes, &mut d, false);
        w.uint("a", 1..2);
        w.uint("b", 3..4);
        w.finish();
        let names: Vec<_> = d.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(names, ["unknown_0", "a", "unknown_2", "b", "unknown_4"]);
        assert_eq!(d.fields[4].range, Some(4..6));
    }

    #[test]
    fn utf16_text() {
        let f: [u8; 8] = utf16be_field("SAM");
        assert_eq!(f, [0, b'S', 0, b'A', 0, b'M', 0, 0]);
        assert_eq!(utf16be(&f), "SAM");
        assert_eq!(utf16be(&[0, b'x', 0]), "x");
    }
}
