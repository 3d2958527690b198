//! Port 50001 timing packets (`prodjlink.md` section 3): the beat 0x28 every player and mixer
//! broadcasts, and the CDJ-3000's precise position 0x0b (the 68-byte Stagehand variant of 0x0b
//! is in `stagehand.rs`).

use crate::dissect::{be_uint, Value};

use super::header::{
    get_arr, get_u16, get_u32, get_u8, need, pitch_percent, pitch_raw, put_tail, set_bytes,
    set_u16, set_u32, set_u8, tail, StatusHeader,
};
use super::plausible::{self, Flags};
use super::walker::{dissect_status, effective_bpm, Summary, Walker};
use super::Error;

pub(crate) mod field {
    /// Beat 0x28 (section 3; DYS-B). Beat times are in ms at pitch 0, `ffffffff` past the end.
    pub mod beat {
        use std::ops::Range;
        pub const NEXT_BEAT: Range<usize> = 0x24..0x28;
        pub const SECOND_BEAT: Range<usize> = 0x28..0x2c;
        pub const NEXT_BAR: Range<usize> = 0x2c..0x30;
        pub const FOURTH_BEAT: Range<usize> = 0x30..0x34;
        pub const SECOND_BAR: Range<usize> = 0x34..0x38;
        pub const EIGHTH_BEAT: Range<usize> = 0x38..0x3c;
        /// 24 x `ff`.
        pub const PADDING: Range<usize> = 0x3c..0x54;
        /// 0x100000 = 0%.
        pub const PITCH: Range<usize> = 0x54..0x58;
        /// `0000`, `ffff` while scratching (PPL, UE).
        pub const SCRATCH: Range<usize> = 0x58..0x5a;
        /// Track BPM x 100.
        pub const BPM: Range<usize> = 0x5a..0x5c;
        pub const BEAT_IN_BAR: Range<usize> = 0x5c..0x5d;
        /// `0000`/`ffff`, meaning not described.
        pub const UNKNOWN_5D: Range<usize> = 0x5d..0x5f;
        /// D again.
        pub const DEVICE_COPY: Range<usize> = 0x5f..0x60;
        pub const LEN: usize = 0x60;
    }
    /// Precise position 0x0b (section 3; DYS-B, BL `PrecisePosition`).
    pub mod position {
        use std::ops::Range;
        pub const TRACK_LENGTH: Range<usize> = 0x24..0x28;
        pub const POSITION: Range<usize> = 0x28..0x2c;
        /// Signed, percent x 100.
        pub const PITCH: Range<usize> = 0x2c..0x30;
        /// Zero in every description; meaning not described.
        pub const UNKNOWN_30: Range<usize> = 0x30..0x38;
        /// Effective BPM x 10, `ffffffff` unknown.
        pub const EFFECTIVE_BPM: Range<usize> = 0x38..0x3c;
        pub const LEN: usize = 0x3c;
    }
}

/// Beat 0x28: sent on every beat, with the time to the next beats and bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat {
    pub header: StatusHeader,
    pub next_beat_ms: u32,
    pub second_beat_ms: u32,
    pub next_bar_ms: u32,
    pub fourth_beat_ms: u32,
    pub second_bar_ms: u32,
    pub eighth_beat_ms: u32,
    /// 0x3c..0x54, 24 x `ff`.
    pub padding: [u8; 24],
    /// 0x100000 = 0%.
    pub pitch: u32,
    /// `ffff` while scratching.
    pub scratch: u16,
    /// Track BPM x 100.
    pub bpm: u16,
    pub beat_in_bar: u8,
    pub unknown_5d: [u8; 2],
    pub device_copy: u8,
    pub extra: Vec<u8>,
}

impl Beat {
    pub const KIND: u8 = 0x28;

    /// A beat at `bpm` (track tempo) and `pitch_percent`, on beat `beat_in_bar` (1-4) of a 4/4
    /// bar. The look-ahead times are at pitch 0 (section 3), computed from the beat interval.
    pub fn new(name: &str, device: u8, bpm: f64, pitch_percent: f64, beat_in_bar: u8) -> Self {
        let interval = if bpm > 0.0 { 60_000.0 / bpm } else { 0.0 };
        let ms = |beats: f64| (interval * beats).round().clamp(0.0, u32::MAX as f64) as u32;
        let to_bar = 5.0 - beat_in_bar.clamp(1, 4) as f64;
        Beat {
            header: StatusHeader::with_len_r(name, 0, device, field::beat::LEN),
            next_beat_ms: ms(1.0),
            second_beat_ms: ms(2.0),
            next_bar_ms: ms(to_bar),
            fourth_beat_ms: ms(4.0),
            second_bar_ms: ms(to_bar + 4.0),
            eighth_beat_ms: ms(8.0),
            padding: [0xff; 24],
            pitch: pitch_raw(pitch_percent),
            scratch: 0,
            bpm: (bpm * 100.0).round().clamp(0.0, 65535.0) as u16,
            beat_in_bar,
            unknown_5d: [0; 2],
            device_copy: device,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::beat::*;
        need("beat", b, LEN)?;
        Ok(Beat {
            header: StatusHeader::parse(b),
            next_beat_ms: get_u32(b, NEXT_BEAT),
            second_beat_ms: get_u32(b, SECOND_BEAT),
            next_bar_ms: get_u32(b, NEXT_BAR),
            fourth_beat_ms: get_u32(b, FOURTH_BEAT),
            second_bar_ms: get_u32(b, SECOND_BAR),
            eighth_beat_ms: get_u32(b, EIGHTH_BEAT),
            padding: get_arr(b, PADDING),
            pitch: get_u32(b, PITCH),
            scratch: get_u16(b, SCRATCH),
            bpm: get_u16(b, BPM),
            beat_in_bar: get_u8(b, BEAT_IN_BAR),
            unknown_5d: get_arr(b, UNKNOWN_5D),
            device_copy: get_u8(b, DEVICE_COPY),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::beat::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::beat::*;
        self.header.emit(Self::KIND, buf);
        set_u32(buf, NEXT_BEAT, self.next_beat_ms);
        set_u32(buf, SECOND_BEAT, self.second_beat_ms);
        set_u32(buf, NEXT_BAR, self.next_bar_ms);
        set_u32(buf, FOURTH_BEAT, self.fourth_beat_ms);
        set_u32(buf, SECOND_BAR, self.second_bar_ms);
        set_u32(buf, EIGHTH_BEAT, self.eighth_beat_ms);
        set_bytes(buf, PADDING, &self.padding);
        set_u32(buf, PITCH, self.pitch);
        set_u16(buf, SCRATCH, self.scratch);
        set_u16(buf, BPM, self.bpm);
        set_u8(buf, BEAT_IN_BAR, self.beat_in_bar);
        set_bytes(buf, UNKNOWN_5D, &self.unknown_5d);
        set_u8(buf, DEVICE_COPY, self.device_copy);
        put_tail(buf, LEN, &self.extra);
    }

    pub fn bpm(&self) -> f64 {
        self.bpm as f64 / 100.0
    }

    pub fn pitch_percent(&self) -> f64 {
        pitch_percent(self.pitch)
    }

    /// BPM x pitch, None when the player reports no BPM (`ffff`) or a pitch no player sends
    /// (plausible.rs), as for [`super::CdjStatus`].
    pub fn effective_bpm(&self) -> Option<f64> {
        (self.bpm != 0xffff && plausible::pitch_raw(self.pitch))
            .then(|| self.bpm() * self.pitch as f64 / 1_048_576.0)
    }
}

fn ms_value(b: &[u8]) -> Value {
    match be_uint(b) {
        0xffff_ffff => Value::Null,
        v => Value::U(v),
    }
}

pub(crate) fn dissect_beat(w: &mut Walker<'_>) {
    use field::beat::*;
    dissect_status(w);
    let next = w.value("next_beat_ms", NEXT_BEAT, ms_value, |_| None);
    w.value("second_beat_ms", SECOND_BEAT, ms_value, |_| None);
    w.value("next_bar_ms", NEXT_BAR, ms_value, |_| None);
    w.value("fourth_beat_ms", FOURTH_BEAT, ms_value, |_| None);
    w.value("second_bar_ms", SECOND_BAR, ms_value, |_| None);
    w.value("eighth_beat_ms", EIGHTH_BEAT, ms_value, |_| None);
    w.constant("padding", PADDING, &[0xff; 24]);
    let mut flags = Flags::new();
    let pitch_ok =
        w.s.bytes
            .get(PITCH)
            .is_none_or(|b| flags.check("pitch", plausible::pitch_raw(be_uint(b) as u32)));
    let pitch = w.value(
        "pitch",
        PITCH,
        |b| Value::round(pitch_percent(be_uint(b) as u32), 2),
        |_| (!pitch_ok).then(pitch_meaning).flatten(),
    );
    w.uint_with("scratch", SCRATCH, |v| {
        Some(
            if v == 0xffff {
                "scratching"
            } else {
                "not scratching"
            }
            .into(),
        )
    });
    let bpm = w.value(
        "bpm",
        BPM,
        |b| Value::round(be_uint(b) as f64 / 100.0, 2),
        |_| None,
    );
    let bib = w.uint("beat_in_bar", BEAT_IN_BAR);
    w.uint("device_copy", DEVICE_COPY);
    let effective = effective_bpm(w.s.bytes, BPM, PITCH);
    w.derived("effective_bpm", effective.clone());
    flags.record(w);
    w.expect_len(LEN);
    w.finish();

    let mut s = Summary::new();
    if let Some(Value::F(b)) = bpm {
        s.fixed(b, 2, false).text(" BPM");
    }
    if let (Some(Value::F(p)), true) = (pitch, pitch_ok) {
        s.text(" ").fixed(p, 2, true).text("%");
    }
    if let Value::F(e) = effective {
        s.text(" (").fixed(e, 2, false).text(")");
    }
    if let Some(b) = bib {
        s.text(" beat ").uint(b).text("/4");
    }
    if let Some(Value::U(n)) = next {
        s.text(" next in ").uint(n).text(" ms");
    }
    let tail = flags.summary_tail();
    w.out().summary = s.finish() + &tail;
}

fn pitch_meaning() -> Option<String> {
    plausible::meaning("a pitch beyond ±100 %")
}

/// Precise position 0x0b: CDJ-3000 playhead every ~30 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecisePosition {
    pub header: StatusHeader,
    pub track_length_s: u32,
    pub position_ms: u32,
    /// Percent x 100, signed (3.26% = 326).
    pub pitch: i32,
    pub unknown_30: [u8; 8],
    /// Effective BPM x 10, `ffffffff` unknown.
    pub effective_bpm: u32,
    pub extra: Vec<u8>,
}

impl PrecisePosition {
    pub const KIND: u8 = 0x0b;

    pub fn new(
        name: &str,
        device: u8,
        track_length_s: u32,
        position_ms: u32,
        pitch_percent: f64,
        effective_bpm: Option<f64>,
    ) -> Self {
        PrecisePosition {
            header: StatusHeader::with_len_r(name, 2, device, field::position::LEN),
            track_length_s,
            position_ms,
            pitch: (pitch_percent * 100.0).round() as i32,
            unknown_30: [0; 8],
            effective_bpm: effective_bpm.map_or(u32::MAX, |b| (b * 10.0).round().max(0.0) as u32),
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::position::*;
        need("precise_position", b, LEN)?;
        Ok(PrecisePosition {
            header: StatusHeader::parse(b),
            track_length_s: get_u32(b, TRACK_LENGTH),
            position_ms: get_u32(b, POSITION),
            pitch: get_u32(b, PITCH) as i32,
            unknown_30: get_arr(b, UNKNOWN_30),
            effective_bpm: get_u32(b, EFFECTIVE_BPM),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::position::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::position::*;
        self.header.emit(Self::KIND, buf);
        set_u32(buf, TRACK_LENGTH, self.track_length_s);
        set_u32(buf, POSITION, self.position_ms);
        set_u32(buf, PITCH, self.pitch as u32);
        set_bytes(buf, UNKNOWN_30, &self.unknown_30);
        set_u32(buf, EFFECTIVE_BPM, self.effective_bpm);
        put_tail(buf, LEN, &self.extra);
    }

    /// Pitch in percent (the wire holds percent x 100, signed).
    pub fn pitch_percent(&self) -> f64 {
        self.pitch as f64 / 100.0
    }

    /// Effective BPM, None when unknown (`ffffffff`; the wire holds BPM x 10) or beyond what a
    /// player sends (plausible.rs).
    pub fn effective_bpm(&self) -> Option<f64> {
        (self.effective_bpm != u32::MAX)
            .then(|| self.effective_bpm as f64 / 10.0)
            .filter(|&b| plausible::effective_bpm(b))
    }

    /// Whether every value is one a player can send (plausible.rs): the session takes only
    /// those.
    pub fn is_plausible(&self) -> bool {
        plausible::track_seconds(self.track_length_s as u64)
            && plausible::position_ms(self.position_ms as u64)
            && plausible::pitch(self.pitch_percent())
    }
}

pub(crate) fn dissect_precise_position(w: &mut Walker<'_>) {
    use field::position::*;
    dissect_status(w);
    let mut flags = Flags::new();
    let b = w.s.bytes;
    let raw = |r: std::ops::Range<usize>| b.get(r).map(be_uint);
    let len_ok = raw(TRACK_LENGTH)
        .is_none_or(|v| flags.check("track_length_s", plausible::track_seconds(v)));
    let pos_ok =
        raw(POSITION).is_none_or(|v| flags.check("position_ms", plausible::position_ms(v)));
    let pitch_ok = raw(PITCH)
        .is_none_or(|v| flags.check("pitch", plausible::pitch(v as u32 as i32 as f64 / 100.0)));
    let bpm_ok = raw(EFFECTIVE_BPM).is_none_or(|v| {
        v == 0xffff_ffff || flags.check("effective_bpm", plausible::effective_bpm(v as f64 / 10.0))
    });
    let len = w.value(
        "track_length_s",
        TRACK_LENGTH,
        |b| Value::U(be_uint(b)),
        |_| {
            (!len_ok)
                .then(|| plausible::meaning("a track longer than a day"))
                .flatten()
        },
    );
    let pos = w.value(
        "position_ms",
        POSITION,
        |b| Value::U(be_uint(b)),
        |_| {
            (!pos_ok)
                .then(|| plausible::meaning("a playhead past a day"))
                .flatten()
        },
    );
    let pitch = w.value(
        "pitch",
        PITCH,
        |b| Value::round(be_uint(b) as u32 as i32 as f64 / 100.0, 2),
        |_| (!pitch_ok).then(pitch_meaning).flatten(),
    );
    let bpm = w.value(
        "effective_bpm",
        EFFECTIVE_BPM,
        |b| match be_uint(b) {
            0xffff_ffff => Value::Null,
            v => Value::round(v as f64 / 10.0, 1),
        },
        |_| {
            (!bpm_ok)
                .then(|| plausible::meaning("a tempo beyond 1310.7 BPM"))
                .flatten()
        },
    );
    flags.record(w);
    w.expect_len(LEN);
    w.finish();

    // Only plausible values are printed; the flagged ones are named after the summary.
    let mut s = Summary::new();
    if let (Some(Value::U(p)), true) = (pos, pos_ok) {
        s.uint(p / 60_000).text(":").padded(p / 1000 % 60, 2);
        s.text(".").padded(p % 1000, 3);
    }
    if let (Some(Value::U(l)), true) = (len, len_ok) {
        s.text(" of ").uint(l / 60).text(":").padded(l % 60, 2);
    }
    if let (Some(Value::F(p)), true) = (pitch, pitch_ok) {
        s.text(" ").fixed(p, 2, true).text("%");
    }
    if let (Some(Value::F(b)), true) = (bpm, bpm_ok) {
        s.text(" ").fixed(b, 1, false).text(" BPM");
    }
    let tail = flags.summary_tail();
    let text = s.finish() + &tail;
    w.out().summary = text.trim_start().to_string();
}

#[cfg(test)]
#[path = "beat_tests.rs"]
mod tests;
