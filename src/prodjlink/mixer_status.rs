//! Mixer status 0x29 on port 50002 (`prodjlink.md` 4.3), also sent by rekordbox (subtype `01`,
//! device 0x11, with len_p instead of len_r: 1.3).

use crate::dissect::{be_uint, Value};

use super::header::{
    get_arr, get_u16, get_u32, get_u8, need, pitch_percent, put_tail, set_bytes, set_u16, set_u32,
    set_u8, tail, StatusHeader,
};
use super::walker::{dissect_status, effective_bpm, Summary, Walker};
use super::Error;

pub(crate) mod field {
    use std::ops::Range;

    pub const DEVICE_COPY: Range<usize> = 0x24..0x25;
    pub const UNKNOWN_25: Range<usize> = 0x25..0x27;
    /// F: `f0` master, `d0` not master on a DJM; rekordbox sends `c0`.
    pub const FLAGS: Range<usize> = 0x27..0x28;
    /// Always 0% (0x100000).
    pub const PITCH: Range<usize> = 0x28..0x2c;
    /// `8000`.
    pub const BPM_VALIDITY: Range<usize> = 0x2c..0x2e;
    /// BPM x 100, valid only for rekordbox-analysed sources.
    pub const BPM: Range<usize> = 0x2e..0x30;
    /// `00 10 00 00 00 09` in every description; meaning not described.
    pub const UNKNOWN_30: Range<usize> = 0x30..0x36;
    /// M_h: `00` no master yet, `ff` normal, D during a handoff.
    pub const MASTER_HANDOFF: Range<usize> = 0x36..0x37;
    /// Beat in bar, not aligned with the players (4.3).
    pub const BEAT_IN_BAR: Range<usize> = 0x37..0x38;
    pub const LEN: usize = 0x38;
}

/// The master bit of F (4.3: `f0` master vs `d0`).
pub const MASTER_FLAG: u8 = 0x20;

/// Mixer (or rekordbox) status 0x29, every ~200 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerStatus {
    pub header: StatusHeader,
    pub device_copy: u8,
    pub unknown_25: [u8; 2],
    pub flags: u8,
    pub pitch: u32,
    pub bpm_validity: u16,
    /// BPM x 100.
    pub bpm: u16,
    pub unknown_30: [u8; 6],
    pub master_handoff: u8,
    pub beat_in_bar: u8,
    pub extra: Vec<u8>,
}

impl MixerStatus {
    pub const KIND: u8 = 0x29;

    /// A DJM's status (subtype `00`, len_r) as in the to-virtual sample (15).
    pub fn new(name: &str, device: u8, bpm: f64, master: bool, beat_in_bar: u8) -> Self {
        MixerStatus {
            header: StatusHeader::with_len_r(name, 0, device, field::LEN),
            device_copy: device,
            unknown_25: [0; 2],
            flags: if master { 0xf0 } else { 0xd0 },
            pitch: 0x100000,
            bpm_validity: 0x8000,
            bpm: (bpm * 100.0).round().clamp(0.0, 65535.0) as u16,
            unknown_30: [0x00, 0x10, 0x00, 0x00, 0x00, 0x09],
            master_handoff: 0xff,
            beat_in_bar,
            extra: Vec::new(),
        }
    }

    /// rekordbox's variant: subtype `01` with len_p, F = `c0` (4.3, 1.3).
    pub fn rekordbox(device: u8, bpm: f64, beat_in_bar: u8) -> Self {
        let mut s = MixerStatus::new("rekordbox", device, bpm, false, beat_in_bar);
        s.header.subtype = 1;
        s.header.length = field::LEN as u16;
        s.flags = 0xc0;
        s
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::*;
        need("mixer_status", b, LEN)?;
        Ok(MixerStatus {
            header: StatusHeader::parse(b),
            device_copy: get_u8(b, DEVICE_COPY),
            unknown_25: get_arr(b, UNKNOWN_25),
            flags: get_u8(b, FLAGS),
            pitch: get_u32(b, PITCH),
            bpm_validity: get_u16(b, BPM_VALIDITY),
            bpm: get_u16(b, BPM),
            unknown_30: get_arr(b, UNKNOWN_30),
            master_handoff: get_u8(b, MASTER_HANDOFF),
            beat_in_bar: get_u8(b, BEAT_IN_BAR),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE_COPY, self.device_copy);
        set_bytes(buf, UNKNOWN_25, &self.unknown_25);
        set_u8(buf, FLAGS, self.flags);
        set_u32(buf, PITCH, self.pitch);
        set_u16(buf, BPM_VALIDITY, self.bpm_validity);
        set_u16(buf, BPM, self.bpm);
        set_bytes(buf, UNKNOWN_30, &self.unknown_30);
        set_u8(buf, MASTER_HANDOFF, self.master_handoff);
        set_u8(buf, BEAT_IN_BAR, self.beat_in_bar);
        put_tail(buf, LEN, &self.extra);
    }

    pub fn bpm(&self) -> f64 {
        self.bpm as f64 / 100.0
    }

    pub fn is_master(&self) -> bool {
        self.flags & MASTER_FLAG != 0
    }
}

pub(crate) fn dissect(w: &mut Walker<'_>) {
    use field::*;
    dissect_status(w);
    w.uint("device_copy", DEVICE_COPY);
    let flags = w.uint_with("flags", FLAGS, |v| {
        Some(match v {
            0xf0 => "f0: tempo master".into(),
            0xd0 => "d0: not master".into(),
            0xc0 => "c0: rekordbox".into(),
            _ => format!("{v:02x}: master bit {}", v as u8 & MASTER_FLAG != 0),
        })
    });
    let master = flags.map(|f| f as u8 & MASTER_FLAG != 0);
    if let Some(m) = master {
        w.derived("master", Value::Bool(m));
    }
    // A pitch no device sends is flagged, and makes no effective tempo (plausible.rs).
    let mut implausible = super::plausible::Flags::new();
    let pitch_ok =
        w.s.bytes.get(PITCH).is_none_or(|b| {
            implausible.check("pitch", super::plausible::pitch_raw(be_uint(b) as u32))
        });
    w.value(
        "pitch",
        PITCH,
        |b| Value::round(pitch_percent(be_uint(b) as u32), 2),
        |_| {
            (!pitch_ok)
                .then(|| super::plausible::meaning("a pitch beyond ±100 %"))
                .flatten()
        },
    );
    w.uint("bpm_validity", BPM_VALIDITY);
    let bpm = w.value(
        "bpm",
        BPM,
        |b| match be_uint(b) {
            0xffff => Value::Null,
            v => Value::round(v as f64 / 100.0, 2),
        },
        |_| Some("valid only for tracks rekordbox analysed".into()),
    );
    w.uint_with("master_handoff", MASTER_HANDOFF, |v| {
        Some(match v {
            0x00 => "00: no master yet".into(),
            0xff => "ff: no handoff".into(),
            _ => format!("handing the master role to device {v}"),
        })
    });
    let bib = w.uint_with("beat_in_bar", BEAT_IN_BAR, |_| {
        Some("counted by the mixer itself, not aligned with the players".into())
    });
    w.derived("effective_bpm", effective_bpm(w.s.bytes, BPM, PITCH));
    implausible.record(w);
    w.expect_len(LEN);
    w.finish();

    let mut s = Summary::new();
    if let Some(Value::F(b)) = bpm {
        s.fixed(b, 2, false).text(" BPM");
    }
    if let Some(b) = bib {
        s.text(" beat ").uint(b).text("/4");
    }
    if master == Some(true) {
        s.text(" master");
    }
    let tail = implausible.summary_tail();
    w.out().summary = s.finish() + &tail;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::{check, hex};

    // to-virtual.pcapng: DJM-2000nexus, F=d0, 120.00 BPM, M_h=00, beat 3 (prodjlink.md 15).
    const DJM: &str = "5173707431576d4a4f4c29444a4d2d323030306e65787573000000000000000100210014210000d00010000080002ee00010000000090003";

    #[test]
    fn djm_status_both_directions() {
        let b = hex(DJM);
        let s = MixerStatus::parse(&b).unwrap();
        let mut expected = MixerStatus::new("DJM-2000nexus", 0x21, 120.0, false, 3);
        expected.master_handoff = 0;
        assert_eq!(s, expected);
        assert_eq!(expected.to_bytes(), b);
        let d = check(50002, &b);
        assert_eq!(d.type_name, "mixer_status");
        assert_eq!(d.device, Some(0x21));
        assert_eq!(d.field("bpm"), Some(&Value::F(120.0)));
        assert_eq!(d.field("master"), Some(&Value::Bool(false)));
        assert_eq!(d.field("beat_in_bar").and_then(Value::as_u64), Some(3));
        assert_eq!(d.field("effective_bpm"), Some(&Value::F(120.0)));
        assert_eq!(d.summary, "120.00 BPM beat 3/4");
    }

    #[test]
    fn an_implausible_mixer_pitch_is_flagged() {
        let mut s = MixerStatus::new("DJM-A9", 0x21, 128.0, true, 1);
        s.pitch = 0x7fff_ffff;
        let d = check(50002, &s.to_bytes());
        assert_eq!(d.field("implausible"), Some(&Value::Str("pitch".into())));
        assert_eq!(d.field("effective_bpm"), Some(&Value::Null));
        assert_eq!(d.summary, "128.00 BPM beat 1/4 master [implausible: pitch]");
    }

    #[test]
    fn rekordbox_status_round_trips() {
        let s = MixerStatus::rekordbox(0x11, 128.0, 1);
        let b = s.to_bytes();
        assert_eq!(
            (b[0x20], b[0x21], b[0x22], b[0x23], b[0x27]),
            (1, 0x11, 0, 0x38, 0xc0)
        );
        assert_eq!(MixerStatus::parse(&b).unwrap(), s);
        let d = check(50002, &b);
        assert_eq!(d.name.as_deref(), Some("rekordbox"));
        assert_eq!(d.field("master"), Some(&Value::Bool(false)));
    }

    #[test]
    fn truncated_mixer_status() {
        let b = hex(DJM);
        assert!(MixerStatus::parse(&b[..0x37]).is_err());
        let d = crate::prodjlink::dissect(50002, &b[..0x30], false);
        assert!(d.malformed.is_some());
        assert_eq!(d.field("bpm"), Some(&Value::F(120.0)));
        assert!(d.field("beat_in_bar").is_none());
    }
}
