//! Port 50001 mixer and sync control (`prodjlink.md` section 3, 9.4): fader start 0x02,
//! channels on air 0x03 (4 and 6 channels), tempo-master takeover request 0x26 / response 0x27
//! and sync control 0x2a.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::dissect::Value;

use super::header::{
    get_arr, get_u32, get_u8, need, put_tail, set_bytes, set_u32, set_u8, tail, StatusHeader,
};
use super::walker::{dissect_status, Walker};
use super::Error;

mod field {
    /// Fader start 0x02: one command byte per channel C1..C4 (DYS-M).
    pub mod fader {
        use std::ops::Range;
        pub const CHANNELS: Range<usize> = 0x24..0x28;
        pub const LEN: usize = 0x28;
    }
    /// Channels on air 0x03 (DYS-M; BL `BeatFinder`).
    pub mod on_air {
        use std::ops::Range;
        /// F1..F4, `01` on air.
        pub const CHANNELS_1_4: Range<usize> = 0x24..0x28;
        /// Zero.
        pub const UNKNOWN_28: Range<usize> = 0x28..0x2d;
        pub const LEN: usize = 0x2d;
        /// 6-channel form (DJM-V10 era): F5, F6, then zeros.
        pub const CHANNELS_5_6: Range<usize> = 0x2d..0x2f;
        pub const UNKNOWN_2F: Range<usize> = 0x2f..0x35;
        pub const LEN_6: usize = 0x35;
    }
    /// 0x26 request, 0x27 response and 0x2a sync control share the first part (section 3).
    pub mod control {
        use std::ops::Range;
        pub const UNKNOWN_24: Range<usize> = 0x24..0x27;
        /// Requester (0x26), responder (0x27) or sender (0x2a) D.
        pub const DEVICE: Range<usize> = 0x27..0x28;
        pub const REQUEST_LEN: usize = 0x28;
        /// 0x27: `00000001`, the only value ever seen ("granted").
        pub const GRANTED: Range<usize> = 0x28..0x2c;
        /// 0x2a: bytes before the command.
        pub const UNKNOWN_28: Range<usize> = 0x28..0x2b;
        /// 0x2a: `10` sync on, `20` sync off, `01` become tempo master.
        pub const COMMAND: Range<usize> = 0x2b..0x2c;
        pub const LEN: usize = 0x2c;
    }
}

/// Fader start command per channel byte.
pub mod fader_command {
    pub const START: u8 = 0x00;
    pub const STOP: u8 = 0x01;
    pub const LEAVE: u8 = 0x02;
}

fn fader_command_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0 => "start",
        1 => "stop",
        2 => "leave",
        _ => return None,
    })
}

/// Fader start 0x02: start (if cued), stop and return to cue, or leave each of C1..C4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaderStart {
    pub header: StatusHeader,
    /// One [`fader_command`] per channel.
    pub channels: [u8; 4],
    pub extra: Vec<u8>,
}

impl FaderStart {
    pub const KIND: u8 = 0x02;

    pub fn new(name: &str, device: u8, channels: [u8; 4]) -> Self {
        FaderStart {
            header: StatusHeader::with_len_r(name, 0, device, field::fader::LEN),
            channels,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::fader::*;
        need("fader_start", b, LEN)?;
        Ok(FaderStart {
            header: StatusHeader::parse(b),
            channels: get_arr(b, CHANNELS),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::fader::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::fader::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, CHANNELS, &self.channels);
        put_tail(buf, LEN, &self.extra);
    }
}

fn command_value(v: u8) -> Value {
    super::walker::code_value(v, fader_command_name)
}

pub(crate) fn dissect_fader_start(w: &mut Walker<'_>) {
    use field::fader::*;
    dissect_status(w);
    let list = w.value(
        "channels",
        CHANNELS,
        |b| Value::List(b.iter().map(|&c| command_value(c)).collect()),
        |_| Some("C1..C4: start = play if at cue, stop = back to cue, leave = no change".into()),
    );
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("fader start");
    if let Some(Value::List(items)) = list {
        for (i, v) in items.iter().enumerate() {
            let _ = write!(s, " {}:{v}", i + 1);
        }
    }
    w.out().summary = s;
}

/// Channels on air 0x03, 4 or 6 channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelsOnAir {
    pub header: StatusHeader,
    /// F1..F4, `01` on air.
    pub channels_1_4: [u8; 4],
    pub unknown_28: [u8; 5],
    /// The 6-channel form's F5/F6 and the zeros after them.
    pub six_channel: Option<SixChannel>,
    pub extra: Vec<u8>,
}

/// Tail of the 6-channel on-air packet (DJM-V10, CDJ-3000 era).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SixChannel {
    pub channels_5_6: [u8; 2],
    pub unknown_2f: [u8; 6],
}

impl ChannelsOnAir {
    pub const KIND: u8 = 0x03;

    /// The 4-channel form (subtype `00`, 0x2d bytes) or, with 6 flags, the 6-channel form
    /// (subtype `03`, 0x35 bytes).
    pub fn new(name: &str, device: u8, on_air: &[bool]) -> Self {
        let flag = |i: usize| on_air.get(i).copied().unwrap_or(false) as u8;
        let six = on_air.len() > 4;
        let (subtype, len) = if six {
            (3, field::on_air::LEN_6)
        } else {
            (0, field::on_air::LEN)
        };
        ChannelsOnAir {
            header: StatusHeader::with_len_r(name, subtype, device, len),
            channels_1_4: [flag(0), flag(1), flag(2), flag(3)],
            unknown_28: [0; 5],
            six_channel: six.then(|| SixChannel {
                channels_5_6: [flag(4), flag(5)],
                unknown_2f: [0; 6],
            }),
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::on_air::*;
        need("channels_on_air", b, LEN)?;
        let six = b.len() >= LEN_6;
        Ok(ChannelsOnAir {
            header: StatusHeader::parse(b),
            channels_1_4: get_arr(b, CHANNELS_1_4),
            unknown_28: get_arr(b, UNKNOWN_28),
            six_channel: six.then(|| SixChannel {
                channels_5_6: get_arr(b, CHANNELS_5_6),
                unknown_2f: get_arr(b, UNKNOWN_2F),
            }),
            extra: tail(b, if six { LEN_6 } else { LEN }),
        })
    }

    fn extra_at(&self) -> usize {
        if self.six_channel.is_some() {
            field::on_air::LEN_6
        } else {
            field::on_air::LEN
        }
    }

    pub fn buffer_len(&self) -> usize {
        self.extra_at() + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::on_air::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, CHANNELS_1_4, &self.channels_1_4);
        set_bytes(buf, UNKNOWN_28, &self.unknown_28);
        if let Some(six) = &self.six_channel {
            set_bytes(buf, CHANNELS_5_6, &six.channels_5_6);
            set_bytes(buf, UNKNOWN_2F, &six.unknown_2f);
        }
        put_tail(buf, self.extra_at(), &self.extra);
    }

    /// Whether channel `n` (1-based) is on air; None past the channels this form carries.
    pub fn channel_on_air(&self, n: usize) -> Option<bool> {
        let five_six = self.six_channel.as_ref().map(|s| &s.channels_5_6[..]);
        let flag = match n.checked_sub(1)? {
            i @ 0..=3 => self.channels_1_4[i],
            i => *five_six?.get(i - 4)?,
        };
        Some(flag != 0)
    }

    /// On-air state per channel (4 or 6 entries).
    pub fn on_air(&self) -> Vec<bool> {
        let mut v: Vec<bool> = self.channels_1_4.iter().map(|&f| f != 0).collect();
        if let Some(six) = &self.six_channel {
            v.extend(six.channels_5_6.iter().map(|&f| f != 0));
        }
        v
    }
}

const CHANNEL_NAMES: [&str; 6] = [
    "channel_1",
    "channel_2",
    "channel_3",
    "channel_4",
    "channel_5",
    "channel_6",
];

pub(crate) fn dissect_channels_on_air(w: &mut Walker<'_>) {
    use field::on_air::*;
    dissect_status(w);
    let mut list = Vec::with_capacity(6);
    let six = w.len() >= LEN_6;
    let mut ranges: Vec<std::ops::Range<usize>> = CHANNELS_1_4.map(|i| i..i + 1).collect();
    if six {
        ranges.extend(CHANNELS_5_6.map(|i| i..i + 1));
    }
    for (name, r) in CHANNEL_NAMES.iter().zip(ranges) {
        if let Some(v) = w.value(name, r, |b| Value::Bool(b[0] != 0), |_| None) {
            list.push(v);
        }
    }
    let summary = list
        .iter()
        .enumerate()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(i, _)| (i + 1).to_string())
        .collect::<Vec<_>>();
    w.derived("channels", Value::List(list));
    w.expect_len(LEN);
    w.finish();
    w.out().summary = if summary.is_empty() {
        "no channel on air".into()
    } else {
        format!("on air: {}", summary.join(","))
    };
}

/// Tempo-master takeover request 0x26 (9.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterHandoffRequest {
    pub header: StatusHeader,
    pub unknown_24: [u8; 3],
    pub requester: u8,
    pub extra: Vec<u8>,
}

impl MasterHandoffRequest {
    pub const KIND: u8 = 0x26;

    pub fn new(name: &str, requester: u8) -> Self {
        MasterHandoffRequest {
            header: StatusHeader::with_len_r(name, 0, requester, field::control::REQUEST_LEN),
            unknown_24: [0; 3],
            requester,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::control::*;
        need("master_handoff_request", b, REQUEST_LEN)?;
        Ok(MasterHandoffRequest {
            header: StatusHeader::parse(b),
            unknown_24: get_arr(b, UNKNOWN_24),
            requester: get_u8(b, DEVICE),
            extra: tail(b, REQUEST_LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::control::REQUEST_LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::control::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_24, &self.unknown_24);
        set_u8(buf, DEVICE, self.requester);
        put_tail(buf, REQUEST_LEN, &self.extra);
    }
}

/// Takeover response 0x27: the current master grants the role (9.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterHandoffResponse {
    pub header: StatusHeader,
    pub unknown_24: [u8; 3],
    pub responder: u8,
    /// `1`: granted (the only value ever seen).
    pub granted: u32,
    pub extra: Vec<u8>,
}

impl MasterHandoffResponse {
    pub const KIND: u8 = 0x27;

    pub fn new(name: &str, responder: u8) -> Self {
        MasterHandoffResponse {
            header: StatusHeader::with_len_r(name, 0, responder, field::control::LEN),
            unknown_24: [0; 3],
            responder,
            granted: 1,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::control::*;
        need("master_handoff_response", b, LEN)?;
        Ok(MasterHandoffResponse {
            header: StatusHeader::parse(b),
            unknown_24: get_arr(b, UNKNOWN_24),
            responder: get_u8(b, DEVICE),
            granted: get_u32(b, GRANTED),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::control::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::control::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_24, &self.unknown_24);
        set_u8(buf, DEVICE, self.responder);
        set_u32(buf, GRANTED, self.granted);
        put_tail(buf, LEN, &self.extra);
    }
}

/// Sync control 0x2a: turn sync on/off, or appoint the tempo master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncControl {
    pub header: StatusHeader,
    pub unknown_24: [u8; 3],
    pub sender: u8,
    pub unknown_28: [u8; 3],
    /// One of [`sync_command`].
    pub command: u8,
    pub extra: Vec<u8>,
}

/// Sync control commands (byte 0x2b).
pub mod sync_command {
    pub const SYNC_ON: u8 = 0x10;
    pub const SYNC_OFF: u8 = 0x20;
    pub const BECOME_MASTER: u8 = 0x01;
}

impl SyncControl {
    pub const KIND: u8 = 0x2a;

    /// Sent to the player (or mixer) that should act; `sender` is the sender's own number.
    pub fn new(name: &str, sender: u8, command: u8) -> Self {
        SyncControl {
            header: StatusHeader::with_len_r(name, 0, sender, field::control::LEN),
            unknown_24: [0; 3],
            sender,
            unknown_28: [0; 3],
            command,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::control::*;
        need("sync_control", b, LEN)?;
        Ok(SyncControl {
            header: StatusHeader::parse(b),
            unknown_24: get_arr(b, UNKNOWN_24),
            sender: get_u8(b, DEVICE),
            unknown_28: get_arr(b, UNKNOWN_28),
            command: get_u8(b, COMMAND),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::control::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::control::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_24, &self.unknown_24);
        set_u8(buf, DEVICE, self.sender);
        set_bytes(buf, UNKNOWN_28, &self.unknown_28);
        set_u8(buf, COMMAND, self.command);
        put_tail(buf, LEN, &self.extra);
    }
}

fn sync_command_name(v: u8) -> Option<&'static str> {
    Some(match v {
        sync_command::SYNC_ON => "sync_on",
        sync_command::SYNC_OFF => "sync_off",
        sync_command::BECOME_MASTER => "become_master",
        _ => return None,
    })
}

/// 0x26, 0x27 and 0x2a: which one decides the name of byte 0x27 and what follows.
#[derive(Clone, Copy)]
pub(crate) enum Control {
    Request,
    Response,
    Sync,
}

pub(crate) fn dissect_control(w: &mut Walker<'_>, which: Control) {
    use field::control::*;
    dissect_status(w);
    let name = match which {
        Control::Request => "requester",
        Control::Response => "responder",
        Control::Sync => "sender",
    };
    let d = w.uint(name, DEVICE);
    let mut detail: Cow<'static, str> = Cow::Borrowed("");
    match which {
        Control::Request => {}
        Control::Response => {
            if let Some(g) = w.uint_with("granted", GRANTED, |v| {
                Some(if v == 1 { "granted" } else { "not seen before" }.into())
            }) {
                detail = if g == 1 {
                    " granted".into()
                } else {
                    format!(" answer {g}").into()
                };
            }
        }
        Control::Sync => {
            if let Some(c) = w.named("command", COMMAND, sync_command_name) {
                detail = match sync_command_name(c) {
                    Some(n) => format!(" {n}").into(),
                    None => format!(" command {c:02x}").into(),
                };
            }
        }
    }
    w.expect_len(match which {
        Control::Request => REQUEST_LEN,
        _ => LEN,
    });
    w.finish();
    let what = match which {
        Control::Request => "master takeover request from",
        Control::Response => "master takeover response from",
        Control::Sync => "sync control from",
    };
    let mut s = String::from(what);
    if let Some(d) = d {
        let _ = write!(s, " D{d}");
    }
    s.push_str(&detail);
    w.out().summary = s;
}

#[cfg(test)]
#[path = "mixer_control_tests.rs"]
mod tests;
