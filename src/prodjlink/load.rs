//! Port 50002 remote control (`prodjlink.md` 4.1): load track 0x19, load settings 0x34 and the
//! LOAD SETTINGS over Link exchange 0x35/0x36. The undescribed acknowledgements 0x1a, 0x1c and
//! 0x1d are [`super::OpaqueStatus`] messages.

use std::fmt::Write as _;

use super::cdj_status_dissect::{slot_name, track_type_name};
use super::header::{
    get_arr, get_u16, get_u32, get_u8, need, put_tail, set_bytes, set_u32, set_u8, tail,
    DeviceName, StatusHeader,
};
use super::walker::{dissect_magic_kind, dissect_status, Walker};
use super::Error;

mod field {
    /// Load track 0x19 (4.1; DYS-L).
    pub mod load {
        use std::ops::Range;
        pub const DEVICE_COPY: Range<usize> = 0x24..0x25;
        pub const UNKNOWN_25: Range<usize> = 0x25..0x28;
        /// Dr, Sr, Tr as in CDJ status.
        pub const SOURCE_DEVICE: Range<usize> = 0x28..0x29;
        pub const SOURCE_SLOT: Range<usize> = 0x29..0x2a;
        pub const TRACK_TYPE: Range<usize> = 0x2a..0x2b;
        pub const UNKNOWN_2B: Range<usize> = 0x2b..0x2c;
        pub const REKORDBOX_ID: Range<usize> = 0x2c..0x30;
        /// `00000032` then zeros; meaning not described.
        pub const UNKNOWN_30: Range<usize> = 0x30..0x40;
        /// Target player - 1 (ignored by players).
        pub const TARGET_INDEX: Range<usize> = 0x40..0x41;
        /// Zeros (0x4b = `32` in the XDJ-XZ variant).
        pub const UNKNOWN_41: Range<usize> = 0x41..0x58;
        pub const LEN: usize = 0x58;
    }
    /// Load settings 0x34 (4.1; DYS-L): its own header use of 0x20/0x21.
    pub mod settings {
        use std::ops::Range;
        pub const SENDER: Range<usize> = 0x20..0x21;
        pub const TARGET: Range<usize> = 0x21..0x22;
        pub const LENGTH: Range<usize> = 0x22..0x24;
        /// `12 34 56 78 00 00 00 03`.
        pub const MARKER: Range<usize> = 0x24..0x2c;
        pub const SETTINGS: Range<usize> = 0x2c..0x50;
        /// Zeros.
        pub const UNKNOWN_50: Range<usize> = 0x50..0x74;
        pub const LEN: usize = 0x74;
    }
    /// Device-settings request 0x35 (4.1; UE 3.4).
    pub mod request {
        use std::ops::Range;
        pub const REQUESTER: Range<usize> = 0x24..0x25;
        pub const SLOT: Range<usize> = 0x25..0x26;
        pub const UNKNOWN_26: Range<usize> = 0x26..0x28;
        pub const LEN: usize = 0x28;
    }
    /// Device-settings reply 0x36 (4.1; UE 3.4, 7.3).
    pub mod reply {
        use std::ops::Range;
        pub const REQUESTER: Range<usize> = 0x24..0x25;
        pub const SLOT: Range<usize> = 0x25..0x26;
        pub const UNKNOWN_26: Range<usize> = 0x26..0x28;
        /// `12 34 56 78 00 00 00 02`.
        pub const MARKER: Range<usize> = 0x28..0x30;
        /// 32 bytes of `PIONEER/MYSETTING.DAT`.
        pub const SETTINGS: Range<usize> = 0x30..0x50;
        pub const LEN: usize = 0x50;
    }
}

/// Load track 0x19: make the target player load a track from any source on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadTrack {
    pub header: StatusHeader,
    pub device_copy: u8,
    pub unknown_25: [u8; 3],
    pub source_device: u8,
    pub source_slot: u8,
    pub track_type: u8,
    pub unknown_2b: u8,
    pub rekordbox_id: u32,
    pub unknown_30: [u8; 0x10],
    /// Target player - 1.
    pub target_index: u8,
    pub unknown_41: [u8; 0x17],
    pub extra: Vec<u8>,
}

impl LoadTrack {
    pub const KIND: u8 = 0x19;

    /// The command as dysentery describes it (subtype `00`).
    pub fn new(
        name: &str,
        sender: u8,
        target: u8,
        source: (u8, u8, u8),
        rekordbox_id: u32,
    ) -> Self {
        let mut unknown_30 = [0u8; 0x10];
        unknown_30[3] = 0x32;
        LoadTrack {
            header: StatusHeader::with_len_r(name, 0, sender, field::load::LEN),
            device_copy: sender,
            unknown_25: [0; 3],
            source_device: source.0,
            source_slot: source.1,
            track_type: source.2,
            unknown_2b: 0,
            rekordbox_id,
            unknown_30,
            target_index: target.saturating_sub(1),
            unknown_41: [0; 0x17],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::load::*;
        need("load_track", b, LEN)?;
        Ok(LoadTrack {
            header: StatusHeader::parse(b),
            device_copy: get_u8(b, DEVICE_COPY),
            unknown_25: get_arr(b, UNKNOWN_25),
            source_device: get_u8(b, SOURCE_DEVICE),
            source_slot: get_u8(b, SOURCE_SLOT),
            track_type: get_u8(b, TRACK_TYPE),
            unknown_2b: get_u8(b, UNKNOWN_2B),
            rekordbox_id: get_u32(b, REKORDBOX_ID),
            unknown_30: get_arr(b, UNKNOWN_30),
            target_index: get_u8(b, TARGET_INDEX),
            unknown_41: get_arr(b, UNKNOWN_41),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::load::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::load::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE_COPY, self.device_copy);
        set_bytes(buf, UNKNOWN_25, &self.unknown_25);
        set_u8(buf, SOURCE_DEVICE, self.source_device);
        set_u8(buf, SOURCE_SLOT, self.source_slot);
        set_u8(buf, TRACK_TYPE, self.track_type);
        set_u8(buf, UNKNOWN_2B, self.unknown_2b);
        set_u32(buf, REKORDBOX_ID, self.rekordbox_id);
        set_bytes(buf, UNKNOWN_30, &self.unknown_30);
        set_u8(buf, TARGET_INDEX, self.target_index);
        set_bytes(buf, UNKNOWN_41, &self.unknown_41);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_load_track(w: &mut Walker<'_>) {
    use field::load::*;
    dissect_status(w);
    w.uint("device_copy", DEVICE_COPY);
    let src = w.uint("source_device", SOURCE_DEVICE);
    let slot = w.named("source_slot", SOURCE_SLOT, slot_name);
    w.named("track_type", TRACK_TYPE, track_type_name);
    let id = w.uint("rekordbox_id", REKORDBOX_ID);
    let target = w.uint_with("target_index", TARGET_INDEX, |v| {
        Some(format!("player {} (zero-based; players ignore it)", v + 1))
    });
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("load");
    if let Some(id) = id {
        let _ = write!(s, " #{id}");
    }
    if let (Some(d), Some(sl)) = (src, slot) {
        let _ = write!(s, " from D{d} {}", slot_name(sl).unwrap_or("slot ?"));
    }
    if let Some(t) = target {
        let _ = write!(s, " on player {}", t + 1);
    }
    w.out().summary = s;
}

/// My Settings values and their offsets inside the settings block (4.1 row 0x34, from 0x2c).
/// Values are `80`-based enums.
pub const MY_SETTINGS: [(&str, usize); 26] = [
    ("on_air_display", 0x00),
    ("lcd_brightness", 0x01),
    ("quantize", 0x02),
    ("auto_cue_level", 0x03),
    ("language", 0x04),
    ("jog_ring_brightness", 0x06),
    ("jog_indicator", 0x07),
    ("slip_flashing", 0x08),
    ("disc_slot_light", 0x0c),
    ("eject_lock", 0x0d),
    ("sync", 0x0e),
    ("auto_play", 0x0f),
    ("quantize_beat_value", 0x10),
    ("hot_cue_auto_load", 0x11),
    ("hot_cue_color", 0x12),
    ("needle_lock", 0x15),
    ("time_mode", 0x18),
    ("jog_mode", 0x19),
    ("auto_cue", 0x1a),
    ("master_tempo", 0x1b),
    ("tempo_range", 0x1c),
    ("phase_meter", 0x1d),
    ("vinyl_speed_adjust", 0x20),
    ("jog_display", 0x21),
    ("pad_brightness", 0x22),
    ("jog_lcd_brightness", 0x23),
];

/// Load settings 0x34: rekordbox pushes My Settings to a player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSettings {
    pub name: DeviceName,
    /// Byte 0x1f, `02` here.
    pub header_type: u8,
    pub sender: u8,
    pub target: u8,
    /// len_r as sent.
    pub length: u16,
    pub marker: [u8; 8],
    /// 0x2c..0x50; see [`MY_SETTINGS`] and [`LoadSettings::setting`].
    pub settings: [u8; 0x24],
    pub unknown_50: [u8; 0x24],
    pub extra: Vec<u8>,
}

impl LoadSettings {
    pub const KIND: u8 = 0x34;

    /// The packet of dysentery's diagram (DYS-L), with on-air display, quantize and the
    /// memory auto-cue level on, English, medium LCD and bright jog ring.
    pub fn new(name: &str, sender: u8, target: u8) -> Self {
        let mut settings = [0u8; 0x24];
        settings[..0x05].copy_from_slice(&[0x81, 0x83, 0x81, 0x88, 0x81]);
        settings[0x05..0x08].copy_from_slice(&[0x01, 0x82, 0x81]);
        settings[0x08..0x18].copy_from_slice(&[
            0x81, 0x01, 0x01, 0x01, 0x81, 0x81, 0x81, 0x81, 0x80, 0x81, 0x80, 0x00, 0x00, 0x81,
            0x00, 0x00,
        ]);
        settings[0x18..0x24].copy_from_slice(&[
            0x81, 0x81, 0x81, 0x81, 0x82, 0x80, 0x00, 0x00, 0x81, 0x80, 0x83, 0x83,
        ]);
        LoadSettings {
            name: DeviceName::new(name),
            header_type: 2,
            sender,
            target,
            length: (field::settings::LEN - 0x24) as u16,
            marker: [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 3],
            settings,
            unknown_50: [0; 0x24],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::settings::*;
        need("load_settings", b, LEN)?;
        let header = StatusHeader::parse(b);
        Ok(LoadSettings {
            name: header.name,
            header_type: header.header_type,
            sender: get_u8(b, SENDER),
            target: get_u8(b, TARGET),
            length: get_u16(b, LENGTH),
            marker: get_arr(b, MARKER),
            settings: get_arr(b, SETTINGS),
            unknown_50: get_arr(b, UNKNOWN_50),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::settings::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::settings::*;
        // The status header's subtype and device bytes hold sender and target here (SENDER, TARGET).
        StatusHeader {
            name: self.name,
            header_type: self.header_type,
            subtype: self.sender,
            device: self.target,
            length: self.length,
        }
        .emit(Self::KIND, buf);
        set_bytes(buf, MARKER, &self.marker);
        set_bytes(buf, SETTINGS, &self.settings);
        set_bytes(buf, UNKNOWN_50, &self.unknown_50);
        put_tail(buf, LEN, &self.extra);
    }

    /// The value of a named setting (see [`MY_SETTINGS`]).
    pub fn setting(&self, name: &str) -> Option<u8> {
        let (_, at) = MY_SETTINGS.iter().find(|(n, _)| *n == name)?;
        self.settings.get(*at).copied()
    }

    /// Set a named setting; false if there is no setting of that name.
    pub fn set_setting(&mut self, name: &str, value: u8) -> bool {
        match MY_SETTINGS.iter().find(|(n, _)| *n == name) {
            Some(&(_, at)) => {
                self.settings[at] = value;
                true
            }
            None => false,
        }
    }
}

pub(crate) fn dissect_load_settings(w: &mut Walker<'_>) {
    use super::header::field::status;
    use field::settings::*;
    dissect_magic_kind(w);
    if let Some(n) = w.ascii("name", status::NAME) {
        w.out().name = Some(n);
    }
    w.uint("header_type", status::HEADER_TYPE);
    let sender = w.uint("sender", SENDER);
    w.out().device = sender.map(|d| d as u32);
    let target = w.uint("target", TARGET);
    w.uint("length", LENGTH);
    w.constant("marker", MARKER, &[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 3]);
    for (name, at) in MY_SETTINGS {
        let at = SETTINGS.start + at;
        w.uint_with(name, at..at + 1, |v| {
            Some(format!("{v:02x}: enum value {}", v as i64 - 0x80))
        });
    }
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("load settings");
    if let Some(t) = target {
        let _ = write!(s, " on D{t}");
    }
    w.out().summary = s;
}

/// Device-settings request 0x35: a player asks the owner of a slot for its My Settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettingsRequest {
    pub header: StatusHeader,
    pub requester: u8,
    pub slot: u8,
    pub unknown_26: [u8; 2],
    pub extra: Vec<u8>,
}

impl DeviceSettingsRequest {
    pub const KIND: u8 = 0x35;

    pub fn new(name: &str, requester: u8, slot: u8) -> Self {
        DeviceSettingsRequest {
            header: StatusHeader::with_len_r(name, 0, requester, field::request::LEN),
            requester,
            slot,
            unknown_26: [0; 2],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::request::*;
        need("device_settings_request", b, LEN)?;
        Ok(DeviceSettingsRequest {
            header: StatusHeader::parse(b),
            requester: get_u8(b, REQUESTER),
            slot: get_u8(b, SLOT),
            unknown_26: get_arr(b, UNKNOWN_26),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::request::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::request::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, REQUESTER, self.requester);
        set_u8(buf, SLOT, self.slot);
        set_bytes(buf, UNKNOWN_26, &self.unknown_26);
        put_tail(buf, LEN, &self.extra);
    }
}

/// Device-settings reply 0x36: the slot owner answers with the settings file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettingsReply {
    pub header: StatusHeader,
    pub requester: u8,
    pub slot: u8,
    pub unknown_26: [u8; 2],
    pub marker: [u8; 8],
    /// 32 bytes of `PIONEER/MYSETTING.DAT`.
    pub settings: [u8; 32],
    pub extra: Vec<u8>,
}

impl DeviceSettingsReply {
    pub const KIND: u8 = 0x36;

    pub fn new(name: &str, owner: u8, requester: u8, slot: u8, settings: [u8; 32]) -> Self {
        DeviceSettingsReply {
            header: StatusHeader::with_len_r(name, 0, owner, field::reply::LEN),
            requester,
            slot,
            unknown_26: [0; 2],
            marker: [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 2],
            settings,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::reply::*;
        need("device_settings_reply", b, LEN)?;
        Ok(DeviceSettingsReply {
            header: StatusHeader::parse(b),
            requester: get_u8(b, REQUESTER),
            slot: get_u8(b, SLOT),
            unknown_26: get_arr(b, UNKNOWN_26),
            marker: get_arr(b, MARKER),
            settings: get_arr(b, SETTINGS),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::reply::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::reply::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, REQUESTER, self.requester);
        set_u8(buf, SLOT, self.slot);
        set_bytes(buf, UNKNOWN_26, &self.unknown_26);
        set_bytes(buf, MARKER, &self.marker);
        set_bytes(buf, SETTINGS, &self.settings);
        put_tail(buf, LEN, &self.extra);
    }
}

/// 0x35 and 0x36 share their first fields; `reply` adds the marker and the settings bytes.
pub(crate) fn dissect_device_settings(w: &mut Walker<'_>, reply: bool) {
    use field::request::{REQUESTER, SLOT};
    dissect_status(w);
    let requester = w.uint("requester", REQUESTER);
    let slot = w.named("slot", SLOT, slot_name);
    if reply {
        w.constant(
            "marker",
            field::reply::MARKER,
            &[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 2],
        );
        w.bytes("settings", field::reply::SETTINGS);
    }
    w.expect_len(if reply {
        field::reply::LEN
    } else {
        field::request::LEN
    });
    w.finish();
    let slot = slot.and_then(slot_name).unwrap_or("slot ?");
    let mut s = String::from(if reply {
        "settings of"
    } else {
        "asks for settings of"
    });
    let _ = write!(s, " {slot}");
    if let (true, Some(r)) = (reply, requester) {
        let _ = write!(s, " for D{r}");
    }
    w.out().summary = s;
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
