//! The Stagehand iPad app's unicast frames (`prodjlink.md` sections 3 and 4.1; DYS-SH). They
//! use the peer header (`header.rs`): a 19-byte name, the peer byte and a type byte, with bytes
//! 0x20..0x24 owned by each kind. Known: transport 0x07, the command 0x3a and the preference
//! write 0x6b (the A9 mixer state 0x39 is in `stagehand_mixer.rs`). The rest (telemetry 0x0b, VU 0x58, heartbeats 0x6a/0x3b,
//! metadata 0x3d, panel frames 0x68/0x69/0x6c/0x6d) are [`PeerFrame`]s with their few
//! described bytes named in the dissection.

use std::fmt::Write as _;

use crate::dissect::Value;

use super::header::{
    get_arr, get_u16, get_u32, get_u8, need, put_tail, set_bytes, set_u16, set_u32, set_u8, tail,
    PeerHeader,
};
use super::walker::{dissect_peer, Walker};
use super::Error;

mod field {
    use std::ops::Range;

    /// Every peer frame has at least the header up to 0x20.
    pub const PEER_HEADER_LEN: usize = 0x20;

    /// Transport command 0x07 on 50001 (56 bytes).
    pub mod transport {
        use std::ops::Range;
        pub const UNKNOWN_20: Range<usize> = 0x20..0x21;
        /// Sub-type / view-state hash that correlates with the action.
        pub const VIEW_STATE: Range<usize> = 0x21..0x22;
        pub const UNKNOWN_22: Range<usize> = 0x22..0x2b;
        pub const ACTION: Range<usize> = 0x2b..0x2c;
        pub const UNKNOWN_2C: Range<usize> = 0x2c..0x2d;
        /// `01` press, `00` release.
        pub const PRESSED: Range<usize> = 0x2d..0x2e;
        pub const UNKNOWN_2E: Range<usize> = 0x2e..0x38;
        pub const LEN: usize = 0x38;
    }
    /// Stagehand -> A9 command 0x3a (40 bytes).
    pub mod command {
        use std::ops::Range;
        pub const OPCODE: Range<usize> = 0x20..0x22;
        pub const LENGTH: Range<usize> = 0x22..0x24;
        pub const ARGUMENT: Range<usize> = 0x24..0x28;
        pub const LEN: usize = 0x28;
    }
    /// Preference write 0x6b (124 bytes from the iPad; a 68-byte form also exists).
    pub mod pref {
        use std::ops::Range;
        pub const UNKNOWN_20: Range<usize> = 0x20..0x24;
        /// `01` write, `00` poll.
        pub const WRITE: Range<usize> = 0x24..0x25;
        pub const UNKNOWN_25: Range<usize> = 0x25..0x2c;
        /// `80` off, `81` on.
        pub const ON_AIR_DISPLAY: Range<usize> = 0x2c..0x2d;
        pub const UNKNOWN_2D: Range<usize> = 0x2d..0x3c;
        /// `80 | index`: `80` = 1, `81` = 1/2, `82` = 1/4...
        pub const QUANTIZE: Range<usize> = 0x3c..0x3d;
        pub const LEN: usize = 0x3d;
    }
    /// Short heartbeat 0x3b: a 4-byte payload whose second byte counts.
    pub const HEARTBEAT_COUNTER: Range<usize> = 0x25..0x26;
    /// Track metadata push 0x3d: two mirrored 16-bit fields, almost certainly the track id.
    pub const METADATA_TRACK_ID: Range<usize> = 0x2a..0x2c;
    pub const METADATA_TRACK_ID_COPY: Range<usize> = 0x56..0x58;
    /// 0x69 settings snapshot: flag bytes that toggle when the iPad changes a preference.
    pub const SNAPSHOT_FLAGS_1: Range<usize> = 0x24..0x26;
    pub const SNAPSHOT_FLAGS_2: Range<usize> = 0x2e..0x30;
    /// 0x0b telemetry: byte 36 (0x24) selects the round-robin sub-stream (with a byte not located).
    pub const TELEMETRY_SUBSTREAM: Range<usize> = 0x24..0x25;
}

/// A Stagehand frame whose body is mostly undescribed: the peer header and the bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFrame {
    pub kind: u8,
    pub header: PeerHeader,
    /// Everything from 0x20 on.
    pub body: Vec<u8>,
}

impl PeerFrame {
    pub fn new(kind: u8, header: PeerHeader, body: Vec<u8>) -> Self {
        PeerFrame { kind, header, body }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("stagehand", b, field::PEER_HEADER_LEN)?;
        Ok(PeerFrame {
            kind: get_u8(b, super::header::field::KIND),
            header: PeerHeader::parse(b),
            body: tail(b, field::PEER_HEADER_LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::PEER_HEADER_LEN + self.body.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        self.header.emit(self.kind, buf);
        put_tail(buf, field::PEER_HEADER_LEN, &self.body);
    }
}

/// Dissect a [`PeerFrame`] of any kind, naming the bytes DYS-SH describes.
pub(crate) fn dissect_frame(w: &mut Walker<'_>, kind: u8) {
    dissect_peer(w);
    // The bytes DYS-SH names are shown when the frame reaches them; their absence is no error
    // because the frames' lengths are not fixed.
    let what = match kind {
        0x0b => {
            if w.has(&field::TELEMETRY_SUBSTREAM) {
                w.uint_with("substream", field::TELEMETRY_SUBSTREAM, |_| {
                    Some("round-robin sub-stream selector (a guess, not confirmed)".into())
                });
            }
            "telemetry"
        }
        0x58 => "VU meters",
        0x6a => "heartbeat",
        0x3b => {
            if w.has(&field::HEARTBEAT_COUNTER) {
                w.uint("counter", field::HEARTBEAT_COUNTER);
            }
            "short heartbeat"
        }
        0x3d => {
            if w.has(&field::METADATA_TRACK_ID_COPY) {
                w.uint("track_id", field::METADATA_TRACK_ID);
                w.uint("track_id_copy", field::METADATA_TRACK_ID_COPY);
            }
            "track metadata"
        }
        0x68 => "panel heartbeat",
        0x69 => {
            if w.has(&field::SNAPSHOT_FLAGS_2) {
                w.bytes("pref_flags_1", field::SNAPSHOT_FLAGS_1);
                w.bytes("pref_flags_2", field::SNAPSHOT_FLAGS_2);
            }
            "settings snapshot"
        }
        _ => "device list",
    };
    w.expect_len(field::PEER_HEADER_LEN);
    w.finish();
    let n = w.len();
    w.out().summary = format!("stagehand {what}, {n} bytes");
}

/// Transport command 0x07: play, skip and seek from the iPad to a CDJ-3000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagehandTransport {
    pub header: PeerHeader,
    pub unknown_20: u8,
    pub view_state: u8,
    pub unknown_22: [u8; 9],
    /// `0f`/`14` play, `18` skip forward, `19` skip back, `1a` seek forward, `1b` seek back.
    pub action: u8,
    pub unknown_2c: u8,
    pub pressed: u8,
    pub unknown_2e: [u8; 10],
    pub extra: Vec<u8>,
}

impl StagehandTransport {
    pub const KIND: u8 = 0x07;

    pub fn new(header: PeerHeader, action: u8, pressed: bool) -> Self {
        StagehandTransport {
            header,
            unknown_20: 0,
            view_state: 0,
            unknown_22: [0; 9],
            action,
            unknown_2c: 0,
            pressed: pressed as u8,
            unknown_2e: [0; 10],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::transport::*;
        need("stagehand_transport", b, LEN)?;
        Ok(StagehandTransport {
            header: PeerHeader::parse(b),
            unknown_20: get_u8(b, UNKNOWN_20),
            view_state: get_u8(b, VIEW_STATE),
            unknown_22: get_arr(b, UNKNOWN_22),
            action: get_u8(b, ACTION),
            unknown_2c: get_u8(b, UNKNOWN_2C),
            pressed: get_u8(b, PRESSED),
            unknown_2e: get_arr(b, UNKNOWN_2E),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::transport::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::transport::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, UNKNOWN_20, self.unknown_20);
        set_u8(buf, VIEW_STATE, self.view_state);
        set_bytes(buf, UNKNOWN_22, &self.unknown_22);
        set_u8(buf, ACTION, self.action);
        set_u8(buf, UNKNOWN_2C, self.unknown_2c);
        set_u8(buf, PRESSED, self.pressed);
        set_bytes(buf, UNKNOWN_2E, &self.unknown_2e);
        put_tail(buf, LEN, &self.extra);
    }
}

fn action_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x0f | 0x14 => "play",
        0x18 => "skip_forward",
        0x19 => "skip_back",
        0x1a => "seek_forward",
        0x1b => "seek_back",
        _ => return None,
    })
}

pub(crate) fn dissect_transport(w: &mut Walker<'_>) {
    use field::transport::*;
    dissect_peer(w);
    w.uint("view_state", VIEW_STATE);
    let a = w.named("action", ACTION, action_name);
    let p = w.uint("pressed", PRESSED);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("stagehand transport");
    if let Some(a) = a {
        let _ = write!(s, " {}", action_name(a).unwrap_or("?"));
    }
    if let Some(p) = p {
        s.push_str(if p == 1 { " press" } else { " release" });
    }
    w.out().summary = s;
}

/// Stagehand -> A9 command 0x3a: a 2-byte opcode with a 4-byte argument; the peer byte is the
/// A9's device number and the type byte `02`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagehandCommand {
    pub header: PeerHeader,
    pub opcode: u16,
    /// len_r, bytes after 0x23.
    pub length: u16,
    pub argument: u32,
    pub extra: Vec<u8>,
}

impl StagehandCommand {
    pub const KIND: u8 = 0x3a;

    pub fn new(name: &str, target: u8, opcode: u16, argument: u32) -> Self {
        let mut header = PeerHeader::to_stagehand(name);
        header.peer = target;
        header.header_type = 2;
        StagehandCommand {
            header,
            opcode,
            length: 4,
            argument,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::command::*;
        need("stagehand_command", b, LEN)?;
        Ok(StagehandCommand {
            header: PeerHeader::parse(b),
            opcode: get_u16(b, OPCODE),
            length: get_u16(b, LENGTH),
            argument: get_u32(b, ARGUMENT),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::command::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::command::*;
        self.header.emit(Self::KIND, buf);
        set_u16(buf, OPCODE, self.opcode);
        set_u16(buf, LENGTH, self.length);
        set_u32(buf, ARGUMENT, self.argument);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_command(w: &mut Walker<'_>) {
    use field::command::*;
    dissect_peer(w);
    let op = w.uint("opcode", OPCODE);
    w.uint("length", LENGTH);
    let arg = w.uint("argument", ARGUMENT);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("stagehand command");
    if let Some(op) = op {
        let _ = write!(s, " {op:04x}");
    }
    if let Some(a) = arg {
        let _ = write!(s, " arg {a:08x}");
    }
    w.out().summary = s;
}

/// Preference write 0x6b: the iPad writes (or polls) CDJ-3000 preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagehandPrefWrite {
    pub header: PeerHeader,
    pub unknown_20: [u8; 4],
    /// `01` write, `00` poll.
    pub write: u8,
    pub unknown_25: [u8; 7],
    pub on_air_display: u8,
    pub unknown_2d: [u8; 15],
    pub quantize: u8,
    /// Bytes after 0x3c (0x3f more in the 124-byte form).
    pub rest: Vec<u8>,
}

impl StagehandPrefWrite {
    pub const KIND: u8 = 0x6b;

    /// A 124-byte write with the two verified preferences (`80`-based values).
    pub fn new(header: PeerHeader, on_air_display: u8, quantize: u8) -> Self {
        StagehandPrefWrite {
            header,
            unknown_20: [0; 4],
            write: 1,
            unknown_25: [0; 7],
            on_air_display,
            unknown_2d: [0; 15],
            quantize,
            rest: vec![0; 124 - field::pref::LEN],
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::pref::*;
        need("stagehand_pref_write", b, LEN)?;
        Ok(StagehandPrefWrite {
            header: PeerHeader::parse(b),
            unknown_20: get_arr(b, UNKNOWN_20),
            write: get_u8(b, WRITE),
            unknown_25: get_arr(b, UNKNOWN_25),
            on_air_display: get_u8(b, ON_AIR_DISPLAY),
            unknown_2d: get_arr(b, UNKNOWN_2D),
            quantize: get_u8(b, QUANTIZE),
            rest: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::pref::LEN + self.rest.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::pref::*;
        self.header.emit(Self::KIND, buf);
        set_bytes(buf, UNKNOWN_20, &self.unknown_20);
        set_u8(buf, WRITE, self.write);
        set_bytes(buf, UNKNOWN_25, &self.unknown_25);
        set_u8(buf, ON_AIR_DISPLAY, self.on_air_display);
        set_bytes(buf, UNKNOWN_2D, &self.unknown_2d);
        set_u8(buf, QUANTIZE, self.quantize);
        put_tail(buf, LEN, &self.rest);
    }
}

pub(crate) fn dissect_pref_write(w: &mut Walker<'_>) {
    use field::pref::*;
    dissect_peer(w);
    let write = w.uint_with("write", WRITE, |v| {
        Some(if v == 1 { "write" } else { "poll" }.into())
    });
    w.value(
        "on_air_display",
        ON_AIR_DISPLAY,
        |b| Value::Bool(b[0] == 0x81),
        |_| Some("80 off, 81 on".into()),
    );
    w.uint_with("quantize", QUANTIZE, |v| {
        Some(format!("{v:02x}: quantize value index {}", v as i64 - 0x80))
    });
    w.expect_len(LEN);
    w.finish();
    w.out().summary = match write {
        Some(1) => "stagehand preference write".into(),
        Some(_) => "stagehand preference poll".into(),
        None => "stagehand preferences".into(),
    };
}

#[cfg(test)]
#[path = "stagehand_tests.rs"]
mod tests;
