//! The two header layouts every Pro DJ Link UDP packet starts with (`prodjlink.md` 1.2), the
//! Stagehand variant of the status header, and the small byte helpers the message modules share.
//!
//! Port 50000 uses the "announce" header (sub-kind byte, name at 0x0c, length of the whole
//! packet at 0x22); ports 50001/50002/50004 use the "status" header (name at 0x0b, subtype and
//! device number at 0x20/0x21, a length field at 0x22 whose meaning depends on the subtype, 1.3).
//! The dissection helpers that read these fields are in `walker.rs`.

use std::net::Ipv4Addr;
use std::ops::Range;

use crate::dissect::ascii_trim;

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

/// Models whose single unit reports its decks as device numbers 9-12 (`prodjlink.md` 1.5; OQ
/// README section 3; BL `DeviceUpdate`, which translates the number only when the packet's name
/// is `OPUS-QUAD`). Other devices may hold numbers 9-12 as themselves (virtual CDJs take 7-15,
/// 1.5), so the name decides, not the number.
pub const DECKS_AS_9_TO_12: &[&str] = &["OPUS-QUAD"];

/// The deck 1-4 that device number `device` stands for when `name` is a model that numbers
/// its decks 9-12 (the deck is the low three bits, BL `Util.translateOpusPlayerNumbers`);
/// None for every other model or number.
pub fn opus_deck(name: Option<&str>, device: u8) -> Option<u8> {
    let model = name.is_some_and(|n| DECKS_AS_9_TO_12.contains(&n));
    (model && (9..=12).contains(&device)).then_some(device & 7)
}

/// The deck a lighting data request (0x55) names: that kind is only sent to a unit in
/// rekordbox-lighting mode, which numbers its decks 9-12 (OQ section 3), so no name is needed.
pub(crate) fn lighting_deck(device: u8) -> Option<u8> {
    (9..=12).contains(&device).then_some(device & 7)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn utf16_text() {
        let f: [u8; 8] = utf16be_field("SAM");
        assert_eq!(f, [0, b'S', 0, b'A', 0, b'M', 0, 0]);
        assert_eq!(utf16be(&f), "SAM");
        assert_eq!(utf16be(&[0, b'x', 0]), "x");
    }
}
