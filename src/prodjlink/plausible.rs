//! Values no device can send, flagged instead of shown as facts (issue 11 "plausibility").
//!
//! The wire formats can hold numbers far outside what any player produces: a pitch field is a
//! u32 on a scale where 0x100000 is normal speed, so `ffffffff` reads as +409,500 %; a precise
//! position's track length is a u32 of seconds (136 years at the top). A dissector that prints
//! those as facts misleads; one that rejects the packet loses the rest of it. So the value is
//! kept (JSON and `-V` show the wire's number), its meaning says why it cannot be, the record
//! gets an `implausible` field naming the values, the summary names them instead of printing
//! them, and derived values (effective BPM) are left out. The session does not take them.

use crate::dissect::Value;

use super::walker::Walker;

/// Players vary their speed by at most ±100 % (the widest tempo range; the pitch scale puts
/// -100 % at 0 and +100 % at 0x200000, `prodjlink.md` 3 and 4.2).
pub const MAX_PITCH_PERCENT: f64 = 100.0;

/// The longest track a player reports, in seconds. Nothing in the references bounds it; a day
/// is far beyond any recording a DJ loads (a 1.5-billion-second "track" is 47 years), and the
/// precise position's u32 playhead in milliseconds wraps after 49 days.
pub const MAX_TRACK_SECONDS: u64 = 24 * 3600;

/// The fastest effective tempo: the BPM field's maximum (u16 / 100 = 655.35, 4.2) at +100 %.
pub const MAX_EFFECTIVE_BPM: f64 = 655.35 * 2.0;

/// Whether a pitch in percent is one a player can send.
pub fn pitch(percent: f64) -> bool {
    percent.is_finite() && percent.abs() <= MAX_PITCH_PERCENT
}

/// Whether a raw pitch on the 0x100000 scale (status, beat) is one a player can send.
pub fn pitch_raw(raw: u32) -> bool {
    raw <= 0x20_0000
}

/// Whether a track length in seconds is one a player can send.
pub fn track_seconds(s: u64) -> bool {
    s <= MAX_TRACK_SECONDS
}

/// Whether a playhead in milliseconds is one a player can send.
pub fn position_ms(ms: u64) -> bool {
    ms <= MAX_TRACK_SECONDS * 1000
}

/// Whether an effective tempo is one a player can send.
pub fn effective_bpm(bpm: f64) -> bool {
    bpm.is_finite() && (0.0..=MAX_EFFECTIVE_BPM).contains(&bpm)
}

/// The meaning of a value that fails its bound (`what` names the bound).
pub(crate) fn meaning(what: &str) -> Option<String> {
    Some(format!("implausible: {what}; not a value a device sends"))
}

/// The value names a record flags, collected while its fields are read.
#[derive(Debug, Default)]
pub(crate) struct Flags(Vec<&'static str>);

impl Flags {
    pub fn new() -> Self {
        Flags(Vec::new())
    }

    /// Note `name` as implausible unless `ok`; returns `ok`.
    pub fn check(&mut self, name: &'static str, ok: bool) -> bool {
        if !ok && !self.0.contains(&name) {
            self.0.push(name);
        }
        ok
    }

    /// Add the `implausible` field (names, comma separated) when anything was flagged.
    pub fn record(&self, w: &mut Walker<'_>) {
        if !self.0.is_empty() {
            w.derived("implausible", Value::Str(self.0.join(", ").into()));
        }
    }

    /// ` [implausible: pitch, track_length_s]`, or nothing.
    pub fn summary_tail(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!(" [implausible: {}]", self.0.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(pitch(-100.0) && pitch(100.0) && pitch(3.26));
        assert!(!pitch(-9_000_000.0) && !pitch(f64::NAN));
        assert!(pitch_raw(0) && pitch_raw(0x20_0000) && !pitch_raw(0x20_0001));
        assert!(track_seconds(7 * 60 + 21) && !track_seconds(1_500_000_000));
        assert!(position_ms(3_600_000) && !position_ms(u32::MAX as u64));
        assert!(effective_bpm(128.0) && !effective_bpm(400_000_000.0));
    }
}
