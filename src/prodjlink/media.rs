//! Port 50002 media information (`prodjlink.md` 4.1): media query 0x05, media response 0x06
//! (including the DJM's answer about its own slot, whose length bytes are swapped) and the
//! DJM-2000nexus file list 0x0d.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::dissect::Value;

use super::cdj_status_dissect::slot_name;
use super::header::{
    get_arr, get_ip, get_u16, get_u64, get_u8, need, put_tail, set_bytes, set_ip, set_u16, set_u64,
    set_u8, tail, utf16be, utf16be_field, StatusHeader,
};
use super::walker::{dissect_status, Walker};
use super::Error;

mod field {
    /// Media query 0x05 (4.1; DYS-MD).
    pub mod query {
        use std::ops::Range;
        /// The reply goes to this address.
        pub const REQUESTER_IP: Range<usize> = 0x24..0x28;
        pub const UNKNOWN_28: Range<usize> = 0x28..0x2b;
        /// Dr: the slot's owner.
        pub const OWNER: Range<usize> = 0x2b..0x2c;
        pub const UNKNOWN_2C: Range<usize> = 0x2c..0x2f;
        /// Sr.
        pub const SLOT: Range<usize> = 0x2f..0x30;
        pub const LEN: usize = 0x30;
    }
    /// Media response 0x06 (4.1; DYS-MD, UE).
    pub mod response {
        use std::ops::Range;
        pub const UNKNOWN_24: Range<usize> = 0x24..0x27;
        pub const OWNER: Range<usize> = 0x27..0x28;
        pub const UNKNOWN_28: Range<usize> = 0x28..0x2b;
        pub const SLOT: Range<usize> = 0x2b..0x2c;
        /// UTF-16BE.
        pub const MEDIA_NAME: Range<usize> = 0x2c..0x6c;
        /// UTF-16BE. 4.1 gives 0x6c-0x93, but BL reads 0x18 bytes and every capture (S16a,
        /// LinkInfo, prolink-connect) has the next string at 0x84.
        pub const CREATION_DATE: Range<usize> = 0x6c..0x84;
        /// Another UTF-16 string, often "1000" or "Ver.0.00" (at 0x84 in the captures, not 0x94).
        pub const VERSION_TEXT: Range<usize> = 0x84..0xa6;
        pub const TRACK_COUNT: Range<usize> = 0xa6..0xa8;
        pub const COLOR: Range<usize> = 0xa8..0xa9;
        pub const UNKNOWN_A9: Range<usize> = 0xa9..0xaa;
        /// Tr of the media: `01` rekordbox database, `02` plain files.
        pub const MEDIA_TYPE: Range<usize> = 0xaa..0xab;
        pub const MY_SETTINGS: Range<usize> = 0xab..0xac;
        pub const UNKNOWN_AC: Range<usize> = 0xac..0xae;
        pub const PLAYLIST_COUNT: Range<usize> = 0xae..0xb0;
        pub const TOTAL_BYTES: Range<usize> = 0xb0..0xb8;
        pub const FREE_BYTES: Range<usize> = 0xb8..0xc0;
        pub const LEN: usize = 0xc0;
    }
    /// DJM file list 0x0d, from PDJL's single 2016 dump (`CDJ_DJM_protocol.txt`): laid out like
    /// the media response, with a UTF-16BE file name and path and two short strings.
    pub mod file_list {
        use std::ops::Range;
        pub const UNKNOWN_24: Range<usize> = 0x24..0x27;
        pub const OWNER: Range<usize> = 0x27..0x28;
        pub const UNKNOWN_28: Range<usize> = 0x28..0x2b;
        pub const SLOT: Range<usize> = 0x2b..0x2c;
        pub const FILE_NAME: Range<usize> = 0x2c..0x6c;
        pub const FILE_PATH: Range<usize> = 0x6c..0xac;
        /// "00:03" in the dump.
        pub const TEXT_1: Range<usize> = 0xac..0xb8;
        /// "1536" in the dump.
        pub const TEXT_2: Range<usize> = 0xb8..0xc4;
        pub const LEN: usize = 0xc4;
    }
}

/// Media query 0x05: "tell me about slot Sr of device Dr".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaQuery {
    pub header: StatusHeader,
    pub requester_ip: Ipv4Addr,
    pub unknown_28: [u8; 3],
    pub owner: u8,
    pub unknown_2c: [u8; 3],
    pub slot: u8,
    pub extra: Vec<u8>,
}

impl MediaQuery {
    pub const KIND: u8 = 0x05;

    pub fn new(name: &str, requester: u8, requester_ip: Ipv4Addr, owner: u8, slot: u8) -> Self {
        MediaQuery {
            header: StatusHeader::with_len_r(name, 0, requester, field::query::LEN),
            requester_ip,
            unknown_28: [0; 3],
            owner,
            unknown_2c: [0; 3],
            slot,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::query::*;
        need("media_query", b, LEN)?;
        Ok(MediaQuery {
            header: StatusHeader::parse(b),
            requester_ip: get_ip(b, REQUESTER_IP),
            unknown_28: get_arr(b, UNKNOWN_28),
            owner: get_u8(b, OWNER),
            unknown_2c: get_arr(b, UNKNOWN_2C),
            slot: get_u8(b, SLOT),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::query::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::query::*;
        self.header.emit(Self::KIND, buf);
        set_ip(buf, REQUESTER_IP, self.requester_ip);
        set_bytes(buf, UNKNOWN_28, &self.unknown_28);
        set_u8(buf, OWNER, self.owner);
        set_bytes(buf, UNKNOWN_2C, &self.unknown_2c);
        set_u8(buf, SLOT, self.slot);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_query(w: &mut Walker<'_>) {
    use field::query::*;
    dissect_status(w);
    let ip = w.ip("requester_ip", REQUESTER_IP);
    let owner = w.uint("owner", OWNER);
    let slot = w.named("slot", SLOT, slot_name);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("asks");
    if let Some(o) = owner {
        let _ = write!(s, " D{o}");
    }
    if let Some(sl) = slot {
        let _ = write!(s, " about {}", slot_name(sl).unwrap_or("slot ?"));
    }
    if let Some(ip) = ip {
        let _ = write!(s, ", reply to {ip}");
    }
    w.out().summary = s;
}

/// Media response 0x06: name, date, counts and sizes of one media slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaResponse {
    pub header: StatusHeader,
    pub unknown_24: [u8; 3],
    pub owner: u8,
    pub unknown_28: [u8; 3],
    pub slot: u8,
    /// UTF-16BE, NUL padded (see [`MediaResponse::media_name`]).
    pub media_name: [u8; 0x40],
    pub creation_date: [u8; 0x18],
    pub version_text: [u8; 0x22],
    pub track_count: u16,
    /// `00` default, `01` pink ... `08` purple.
    pub color: u8,
    pub unknown_a9: u8,
    pub media_type: u8,
    pub my_settings: u8,
    pub unknown_ac: [u8; 2],
    pub playlist_count: u16,
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub extra: Vec<u8>,
}

impl MediaResponse {
    pub const KIND: u8 = 0x06;

    /// A response about `slot` of `owner`, with the texts given; counts and sizes zero.
    pub fn new(name: &str, owner: u8, slot: u8, media_name: &str, creation_date: &str) -> Self {
        MediaResponse {
            header: StatusHeader::with_len_r(name, 0, owner, field::response::LEN),
            unknown_24: [0; 3],
            owner,
            unknown_28: [0; 3],
            slot,
            media_name: utf16be_field(media_name),
            creation_date: utf16be_field(creation_date),
            version_text: utf16be_field("1000"),
            track_count: 0,
            color: 0,
            unknown_a9: 0,
            media_type: 1,
            my_settings: 1,
            unknown_ac: [0; 2],
            playlist_count: 0,
            total_bytes: 0,
            free_bytes: 0,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::response::*;
        need("media_response", b, LEN)?;
        Ok(MediaResponse {
            header: StatusHeader::parse(b),
            unknown_24: get_arr(b, UNKNOWN_24),
            owner: get_u8(b, OWNER),
            unknown_28: get_arr(b, UNKNOWN_28),
            slot: get_u8(b, SLOT),
            media_name: get_arr(b, MEDIA_NAME),
            creation_date: get_arr(b, CREATION_DATE),
            version_text: get_arr(b, VERSION_TEXT),
            track_count: get_u16(b, TRACK_COUNT),
            color: get_u8(b, COLOR),
            unknown_a9: get_u8(b, UNKNOWN_A9),
            media_type: get_u8(b, MEDIA_TYPE),
            my_settings: get_u8(b, MY_SETTINGS),
            unknown_ac: get_arr(b, UNKNOWN_AC),
            playlist_count: get_u16(b, PLAYLIST_COUNT),
            total_bytes: get_u64(b, TOTAL_BYTES),
            free_bytes: get_u64(b, FREE_BYTES),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::response::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::response::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_24, &self.unknown_24);
        set_u8(buf, OWNER, self.owner);
        set_bytes(buf, UNKNOWN_28, &self.unknown_28);
        set_u8(buf, SLOT, self.slot);
        set_bytes(buf, MEDIA_NAME, &self.media_name);
        set_bytes(buf, CREATION_DATE, &self.creation_date);
        set_bytes(buf, VERSION_TEXT, &self.version_text);
        set_u16(buf, TRACK_COUNT, self.track_count);
        set_u8(buf, COLOR, self.color);
        set_u8(buf, UNKNOWN_A9, self.unknown_a9);
        set_u8(buf, MEDIA_TYPE, self.media_type);
        set_u8(buf, MY_SETTINGS, self.my_settings);
        set_bytes(buf, UNKNOWN_AC, &self.unknown_ac);
        set_u16(buf, PLAYLIST_COUNT, self.playlist_count);
        set_u64(buf, TOTAL_BYTES, self.total_bytes);
        set_u64(buf, FREE_BYTES, self.free_bytes);
        put_tail(buf, LEN, &self.extra);
    }

    pub fn media_name(&self) -> String {
        utf16be(&self.media_name)
    }

    pub fn creation_date(&self) -> String {
        utf16be(&self.creation_date)
    }
}

fn color_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0 => "default",
        1 => "pink",
        2 => "red",
        3 => "orange",
        4 => "yellow",
        5 => "green",
        6 => "aqua",
        7 => "blue",
        8 => "purple",
        _ => return None,
    })
}

pub(crate) fn dissect_response(w: &mut Walker<'_>) {
    use field::response::*;
    dissect_status(w);
    let owner = w.uint("owner", OWNER);
    let slot = w.named("slot", SLOT, slot_name);
    let media = w.utf16("media_name", MEDIA_NAME);
    w.utf16("creation_date", CREATION_DATE);
    w.utf16("version_text", VERSION_TEXT);
    let tracks = w.uint("track_count", TRACK_COUNT);
    w.named("color", COLOR, color_name);
    w.uint_with("media_type", MEDIA_TYPE, |v| {
        Some(match v {
            1 => "01: rekordbox database".into(),
            2 => "02: plain files".into(),
            _ => format!("{v:02x}: not described"),
        })
    });
    w.uint("my_settings", MY_SETTINGS);
    let playlists = w.uint("playlist_count", PLAYLIST_COUNT);
    w.uint("total_bytes", TOTAL_BYTES);
    let free = w.uint("free_bytes", FREE_BYTES);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::new();
    if let Some(o) = owner {
        let _ = write!(s, "D{o}");
    }
    if let Some(sl) = slot {
        let _ = write!(s, " {}", slot_name(sl).unwrap_or("slot ?"));
    }
    if let Some(Value::Str(m)) = media {
        let _ = write!(s, " \"{m}\"");
    }
    if let Some(t) = tracks {
        let _ = write!(s, " {t} tracks");
    }
    if let Some(p) = playlists {
        let _ = write!(s, " {p} playlists");
    }
    if let Some(f) = free {
        let _ = write!(s, " {:.1} GB free", f as f64 / 1e9);
    }
    w.out().summary = s;
}

/// DJM file list 0x0d (DJM-2000nexus -> CDJ; only in PDJL's 2016 notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjmFileList {
    pub header: StatusHeader,
    pub unknown_24: [u8; 3],
    pub owner: u8,
    pub unknown_28: [u8; 3],
    pub slot: u8,
    pub file_name: [u8; 0x40],
    pub file_path: [u8; 0x40],
    pub text_1: [u8; 0x0c],
    pub text_2: [u8; 0x0c],
    pub extra: Vec<u8>,
}

impl DjmFileList {
    pub const KIND: u8 = 0x0d;

    pub fn new(name: &str, owner: u8, slot: u8, file_name: &str, file_path: &str) -> Self {
        DjmFileList {
            header: StatusHeader::with_len_r(name, 1, owner, field::file_list::LEN),
            unknown_24: [0; 3],
            owner,
            unknown_28: [0; 3],
            slot,
            file_name: utf16be_field(file_name),
            file_path: utf16be_field(file_path),
            text_1: [0; 0x0c],
            text_2: [0; 0x0c],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::file_list::*;
        need("djm_file_list", b, LEN)?;
        Ok(DjmFileList {
            header: StatusHeader::parse(b),
            unknown_24: get_arr(b, UNKNOWN_24),
            owner: get_u8(b, OWNER),
            unknown_28: get_arr(b, UNKNOWN_28),
            slot: get_u8(b, SLOT),
            file_name: get_arr(b, FILE_NAME),
            file_path: get_arr(b, FILE_PATH),
            text_1: get_arr(b, TEXT_1),
            text_2: get_arr(b, TEXT_2),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::file_list::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::file_list::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_24, &self.unknown_24);
        set_u8(buf, OWNER, self.owner);
        set_bytes(buf, UNKNOWN_28, &self.unknown_28);
        set_u8(buf, SLOT, self.slot);
        set_bytes(buf, FILE_NAME, &self.file_name);
        set_bytes(buf, FILE_PATH, &self.file_path);
        set_bytes(buf, TEXT_1, &self.text_1);
        set_bytes(buf, TEXT_2, &self.text_2);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_file_list(w: &mut Walker<'_>) {
    use field::file_list::*;
    dissect_status(w);
    w.uint("owner", OWNER);
    w.named("slot", SLOT, slot_name);
    let name = w.utf16("file_name", FILE_NAME);
    let path = w.utf16("file_path", FILE_PATH);
    w.value(
        "text_1",
        TEXT_1,
        |b| Value::Str(utf16be(b).into()),
        // "00:03" in node-pdjl's dump (prodjlink.md 0, PDJL).
        |_| Some("perhaps a duration (\"00:03\" in the one published dump)".into()),
    );
    w.value(
        "text_2",
        TEXT_2,
        |b| Value::Str(utf16be(b).into()),
        // "1536" in node-pdjl's dump.
        |_| Some("perhaps a bit rate in kbit/s (\"1536\" in the one published dump)".into()),
    );
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("file");
    if let Some(Value::Str(n)) = name {
        let _ = write!(s, " \"{n}\"");
    }
    if let Some(Value::Str(p)) = path {
        let _ = write!(s, " at \"{p}\"");
    }
    w.out().summary = s;
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
