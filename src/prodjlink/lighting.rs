//! Port 50002 rekordbox-lighting and binary-data packets (`prodjlink.md` 4.1, 9.5 OPUS-QUAD):
//! the "I can export" reply 0x11 that starts an OPUS-QUAD's status stream, the binary-data
//! request 0x55 and its chunked reply 0x56 (album art, PSSI phrase data; also used between
//! Stagehand and a CDJ-3000). The lighting hello 0x10 and mount poke 0x16 carry nothing
//! described beyond the header, so they are [`super::OpaqueStatus`] messages.

use std::fmt::Write as _;

use crate::dissect::Value;

use super::header::{
    get_arr, get_u32, get_u8, lighting_deck, need, opus_deck, put_tail, set_bytes, set_u32, set_u8,
    tail, utf16be, utf16be_field, StatusHeader,
};
use super::walker::{dissect_status, Walker};
use super::Error;

mod field {
    /// Lighting reply 0x11 (4.1; BL `rekordboxLightingRequestStatusBytes`, OQ).
    pub mod reply {
        use std::ops::Range;
        pub const DEVICE_COPY: Range<usize> = 0x24..0x25;
        /// `01 00 00`.
        pub const UNKNOWN_25: Range<usize> = 0x25..0x28;
        /// Host name, one ASCII byte in every other position: UTF-16BE.
        pub const HOST_NAME: Range<usize> = 0x28..0x128;
        pub const LEN: usize = 0x128;
    }
    /// Binary-data request 0x55 (4.1; OQ).
    pub mod request {
        use std::ops::Range;
        /// Little-endian, unlike everything else on UDP.
        pub const TRACK_ID: Range<usize> = 0x24..0x28;
        /// `0a` asks for PSSI phrase data.
        pub const DATA_TYPE: Range<usize> = 0x28..0x29;
        /// 9-12 for OPUS-QUAD decks 1-4.
        pub const DECK: Range<usize> = 0x29..0x2a;
        /// `03 01`.
        pub const UNKNOWN_2A: Range<usize> = 0x2a..0x2c;
        pub const LEN: usize = 0x2c;
    }
    /// Binary-data reply 0x56 (4.1; OQ, BL). The deck is the header's device byte 0x21.
    pub mod data {
        use std::ops::Range;
        pub const UNKNOWN_24: Range<usize> = 0x24..0x25;
        pub const DATA_TYPE: Range<usize> = 0x25..0x26;
        pub const UNKNOWN_26: Range<usize> = 0x26..0x28;
        pub const TRACK_ID: Range<usize> = 0x28..0x2c;
        pub const UNKNOWN_2C: Range<usize> = 0x2c..0x31;
        pub const CHUNK_INDEX: Range<usize> = 0x31..0x32;
        pub const UNKNOWN_32: Range<usize> = 0x32..0x33;
        pub const CHUNK_COUNT: Range<usize> = 0x33..0x34;
        /// The chunk's bytes run to the end of the packet.
        pub const DATA: usize = 0x34;
    }
}

/// The rekordbox-lighting client's device number in the OQ/Beat Link templates (1.5).
pub const LIGHTING_DEVICE: u8 = 0x17;

/// Lighting reply 0x11: "I can export", from rekordbox (or a client posing as it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightingReply {
    pub header: StatusHeader,
    pub device_copy: u8,
    pub unknown_25: [u8; 3],
    /// UTF-16BE, NUL padded.
    pub host_name: [u8; 0x100],
    pub extra: Vec<u8>,
}

impl LightingReply {
    pub const KIND: u8 = 0x11;

    /// The OQ/Beat Link packet: name `rekordbox`, `01 01 <device> 01 04 <device> 01` (4.1).
    pub fn new(device: u8, host_name: &str) -> Self {
        let mut header = StatusHeader::with_len_r("rekordbox", 1, device, field::reply::LEN);
        header.header_type = 1;
        LightingReply {
            header,
            device_copy: device,
            unknown_25: [1, 0, 0],
            host_name: utf16be_field(host_name),
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::reply::*;
        need("lighting_reply", b, LEN)?;
        Ok(LightingReply {
            header: StatusHeader::parse(b),
            device_copy: get_u8(b, DEVICE_COPY),
            unknown_25: get_arr(b, UNKNOWN_25),
            host_name: get_arr(b, HOST_NAME),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::reply::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::reply::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE_COPY, self.device_copy);
        set_bytes(buf, UNKNOWN_25, &self.unknown_25);
        set_bytes(buf, HOST_NAME, &self.host_name);
        put_tail(buf, LEN, &self.extra);
    }

    pub fn host_name(&self) -> String {
        utf16be(&self.host_name)
    }
}

pub(crate) fn dissect_reply(w: &mut Walker<'_>) {
    use field::reply::*;
    dissect_status(w);
    w.uint("device_copy", DEVICE_COPY);
    let host = w.utf16("host_name", HOST_NAME);
    w.expect_len(LEN);
    w.finish();
    w.out().summary = match host {
        Some(Value::Str(h)) => format!("can export, host \"{h}\""),
        _ => "can export".into(),
    };
}

/// Binary-data request 0x55: ask a deck for data about a track (PSSI phrases, waveforms...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryDataRequest {
    pub header: StatusHeader,
    pub track_id: u32,
    pub data_type: u8,
    /// Device number of the deck asked (9-12 on an OPUS-QUAD).
    pub deck: u8,
    pub unknown_2a: [u8; 2],
    pub extra: Vec<u8>,
}

impl BinaryDataRequest {
    pub const KIND: u8 = 0x55;

    /// OQ's PSSI request as the lighting client `device` (4.1).
    pub fn pssi(device: u8, deck: u8, track_id: u32) -> Self {
        BinaryDataRequest {
            header: StatusHeader::with_len_r("rekordbox", 0, device, field::request::LEN),
            track_id,
            data_type: 0x0a,
            deck,
            unknown_2a: [3, 1],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::request::*;
        need("binary_data_request", b, LEN)?;
        Ok(BinaryDataRequest {
            header: StatusHeader::parse(b),
            track_id: u32::from_le_bytes(get_arr(b, TRACK_ID)),
            data_type: get_u8(b, DATA_TYPE),
            deck: get_u8(b, DECK),
            unknown_2a: get_arr(b, UNKNOWN_2A),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::request::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::request::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, TRACK_ID, &self.track_id.to_le_bytes());
        set_u8(buf, DATA_TYPE, self.data_type);
        set_u8(buf, DECK, self.deck);
        set_bytes(buf, UNKNOWN_2A, &self.unknown_2a);
        put_tail(buf, LEN, &self.extra);
    }
}

fn data_type_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x01 => "sent once per song change (BL)",
        0x02 => "album art",
        0x04 | 0x06 => "not described",
        0x0a => "PSSI phrase data",
        _ => "not described (Stagehand uses opcodes 01-08)",
    };
    Some(format!("{v:02x}: {s}"))
}

pub(crate) fn dissect_request(w: &mut Walker<'_>) {
    use field::request::*;
    dissect_status(w);
    let id = w.uint_le("track_id", TRACK_ID);
    let t = w.uint_with("data_type", DATA_TYPE, data_type_meaning);
    // The wire holds the deck's device number (9-12); `deck` is 1-4 as everywhere else.
    let deck = w.uint("deck_device", DECK);
    if let Some(d) = deck.and_then(|d| lighting_deck(d as u8)) {
        w.derived("deck", Value::U(d as u64));
    }
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("asks");
    if let Some(d) = deck {
        let _ = write!(s, " D{d}");
    }
    if let Some(t) = t {
        let _ = write!(s, " for data type {t:02x}");
    }
    if let Some(id) = id {
        let _ = write!(s, " of track {id}");
    }
    w.out().summary = s;
}

/// Binary-data reply 0x56: one chunk of the data a deck sends about a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryDataReply {
    /// The header's device byte is the deck (9-12 on an OPUS-QUAD).
    pub header: StatusHeader,
    pub unknown_24: u8,
    pub data_type: u8,
    pub unknown_26: [u8; 2],
    pub track_id: u32,
    pub unknown_2c: [u8; 5],
    pub chunk_index: u8,
    pub unknown_32: u8,
    pub chunk_count: u8,
    pub data: Vec<u8>,
}

impl BinaryDataReply {
    pub const KIND: u8 = 0x56;

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        deck: u8,
        data_type: u8,
        track_id: u32,
        chunk_index: u8,
        chunk_count: u8,
        data: Vec<u8>,
    ) -> Self {
        let total = field::data::DATA + data.len();
        BinaryDataReply {
            header: StatusHeader::with_len_r(name, 0, deck, total),
            unknown_24: 0,
            data_type,
            unknown_26: [0; 2],
            track_id,
            unknown_2c: [0; 5],
            chunk_index,
            unknown_32: 0,
            chunk_count,
            data,
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::data::*;
        need("binary_data_reply", b, DATA)?;
        Ok(BinaryDataReply {
            header: StatusHeader::parse(b),
            unknown_24: get_u8(b, UNKNOWN_24),
            data_type: get_u8(b, DATA_TYPE),
            unknown_26: get_arr(b, UNKNOWN_26),
            track_id: get_u32(b, TRACK_ID),
            unknown_2c: get_arr(b, UNKNOWN_2C),
            chunk_index: get_u8(b, CHUNK_INDEX),
            unknown_32: get_u8(b, UNKNOWN_32),
            chunk_count: get_u8(b, CHUNK_COUNT),
            data: tail(b, DATA),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::data::DATA + self.data.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::data::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, UNKNOWN_24, self.unknown_24);
        set_u8(buf, DATA_TYPE, self.data_type);
        set_bytes(buf, UNKNOWN_26, &self.unknown_26);
        set_u32(buf, TRACK_ID, self.track_id);
        set_bytes(buf, UNKNOWN_2C, &self.unknown_2c);
        set_u8(buf, CHUNK_INDEX, self.chunk_index);
        set_u8(buf, UNKNOWN_32, self.unknown_32);
        set_u8(buf, CHUNK_COUNT, self.chunk_count);
        put_tail(buf, DATA, &self.data);
    }
}

pub(crate) fn dissect_data(w: &mut Walker<'_>) {
    use field::data::*;
    dissect_status(w);
    let name = w.out().name.clone();
    if let Some(d) = w
        .out()
        .device
        .and_then(|d| opus_deck(name.as_deref(), d as u8))
    {
        w.derived("deck", Value::U(d as u64));
    }
    let t = w.uint_with("data_type", DATA_TYPE, data_type_meaning);
    let id = w.uint("track_id", TRACK_ID);
    let i = w.uint("chunk_index", CHUNK_INDEX);
    let n = w.uint("chunk_count", CHUNK_COUNT);
    let len = w.len();
    if len > DATA {
        w.bytes("data", DATA..len);
    }
    w.expect_len(DATA);
    w.finish();
    let mut s = String::new();
    if let Some(t) = t {
        let _ = write!(s, "data type {t:02x}");
    }
    if let Some(id) = id {
        let _ = write!(s, " track {id}");
    }
    if let (Some(i), Some(n)) = (i, n) {
        let _ = write!(s, " chunk {i}/{n}");
    }
    let _ = write!(s, ", {} bytes", len.saturating_sub(DATA));
    w.out().summary = s;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::{check, hex};

    #[test]
    fn lighting_reply_matches_the_published_template() {
        // First 0x30 bytes of the 296-byte OQ / Beat Link template for host "macbook pro".
        let start = hex(
            "5173707431576d4a4f4c11 7265 6b6f7264626f78 0000000000000000000000 \
             01 01 17 01 04 17 01 00 00 00 6d 00 61 00 63 00 62 00",
        );
        let r = LightingReply::new(LIGHTING_DEVICE, "macbook pro");
        let b = r.to_bytes();
        assert_eq!(b.len(), 0x128);
        assert_eq!(&b[..start.len()], &start[..]);
        assert_eq!(r.host_name(), "macbook pro");
        assert_eq!(LightingReply::parse(&b).unwrap(), r);
        let d = check(50002, &b);
        assert_eq!(d.type_name, "lighting_reply");
        assert_eq!(
            d.field("host_name").and_then(Value::as_str),
            Some("macbook pro")
        );
    }

    #[test]
    fn pssi_request_layout() {
        // OQ: `01 00 17 00 08`, LE track id, `0a`, deck, `03 01` (4.1).
        let r = BinaryDataRequest::pssi(LIGHTING_DEVICE, 10, 0x01020304);
        let b = r.to_bytes();
        assert_eq!(&b[0x1f..0x24], &[1, 0, 0x17, 0, 8]);
        assert_eq!(&b[0x24..0x2c], &[4, 3, 2, 1, 0x0a, 10, 3, 1]);
        assert_eq!(BinaryDataRequest::parse(&b).unwrap(), r);
        let d = check(50002, &b);
        assert_eq!(
            d.field("track_id").and_then(Value::as_u64),
            Some(0x01020304)
        );
        assert_eq!(d.field("deck_device").and_then(Value::as_u64), Some(10));
        assert_eq!(d.field("deck").and_then(Value::as_u64), Some(2));
    }

    #[test]
    fn binary_reply_chunks() {
        let r = BinaryDataReply::new("OPUS-QUAD", 11, 2, 77, 1, 3, vec![0xff, 0xd8, 0xff]);
        let b = r.to_bytes();
        assert_eq!(
            (b[0x21], b[0x25], b[0x2b], b[0x31], b[0x33]),
            (11, 2, 77, 1, 3)
        );
        assert_eq!(BinaryDataReply::parse(&b).unwrap(), r);
        let d = check(50002, &b);
        assert_eq!(d.field("deck").and_then(Value::as_u64), Some(3));
        assert_eq!(d.summary, "data type 02 track 77 chunk 1/3, 3 bytes");
        assert!(BinaryDataReply::parse(&b[..0x33]).is_err());
        let d = crate::prodjlink::dissect(50002, &b[..0x30], false);
        assert!(d.malformed.is_some());
    }
}
