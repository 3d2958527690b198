//! DJM-A9 mixer state 0x39, unicast to the Stagehand app ~4 times a second (`prodjlink.md` 4.1;
//! DYS-SH "Mixer State"): four 24-byte channel blocks and the crossfader position. The rest of
//! the master/effects block is not decoded.

use std::fmt::Write as _;

use super::header::{
    get_arr, get_u16, get_u8, need, put_tail, set_bytes, set_u16, set_u8, tail, PeerHeader,
};
use super::walker::{dissect_peer, Walker};
use super::Error;

mod field {
    /// DJM-A9 mixer state 0x39 on 50002 (266 bytes).
    pub mod mixer {
        use std::ops::Range;
        /// Length-like (`00da` at baseline; its low byte also ticks on some changes).
        pub const STATE_LENGTH: Range<usize> = 0x20..0x22;
        pub const UNKNOWN_22: Range<usize> = 0x22..0x24;
        /// Four 24-byte channel blocks.
        pub const CHANNELS: usize = 0x24;
        pub const CHANNEL_LEN: usize = 0x18;
        /// 40 reserved bytes, then the master/effects block from 0xac.
        pub const UNKNOWN_84: Range<usize> = 0x84..0xb4;
        pub const CROSSFADER: Range<usize> = 0xb4..0xb5;
        pub const UNKNOWN_B5: Range<usize> = 0xb5..0x10a;
        pub const LEN: usize = 0x10a;
    }
    /// Offsets inside one channel block of 0x39.
    pub mod channel {
        use std::ops::Range;
        /// Input source selector (hypothesis).
        pub const INPUT: Range<usize> = 0x00..0x01;
        pub const TRIM: Range<usize> = 0x01..0x02;
        pub const UNKNOWN_02: Range<usize> = 0x02..0x03;
        pub const EQ_HIGH: Range<usize> = 0x03..0x04;
        pub const EQ_MID: Range<usize> = 0x04..0x05;
        /// Centre-detented; a second mid band on 4-band mixers (hypothesis).
        pub const EQ_MID_2: Range<usize> = 0x05..0x06;
        pub const EQ_LOW: Range<usize> = 0x06..0x07;
        pub const COLOR_FX: Range<usize> = 0x07..0x08;
        pub const UNKNOWN_08: Range<usize> = 0x08..0x0b;
        pub const FADER: Range<usize> = 0x0b..0x0c;
        /// `00` THRU, `01` A, `02` B.
        pub const CROSSFADER_ASSIGN: Range<usize> = 0x0c..0x0d;
        pub const UNKNOWN_0D: Range<usize> = 0x0d..0x18;
    }
}

/// One channel block of the A9 mixer state (knob positions `00`-`ff`, `80` = unity/centre).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelState {
    pub input: u8,
    pub trim: u8,
    pub unknown_02: u8,
    pub eq_high: u8,
    pub eq_mid: u8,
    pub eq_mid_2: u8,
    pub eq_low: u8,
    pub color_fx: u8,
    pub unknown_08: [u8; 3],
    pub fader: u8,
    pub crossfader_assign: u8,
    pub unknown_0d: [u8; 11],
}

/// DJM-A9 mixer state 0x39, ~4/s to Stagehand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagehandMixerState {
    pub header: PeerHeader,
    pub state_length: u16,
    pub unknown_22: [u8; 2],
    pub channels: [ChannelState; 4],
    pub unknown_84: [u8; 0x30],
    /// `00` full A ... `ff` full B.
    pub crossfader: u8,
    pub unknown_b5: Vec<u8>,
    pub extra: Vec<u8>,
}

fn channel_at(b: &[u8], base: usize) -> ChannelState {
    use field::channel::*;
    let r = |x: std::ops::Range<usize>| base + x.start..base + x.end;
    ChannelState {
        input: get_u8(b, r(INPUT)),
        trim: get_u8(b, r(TRIM)),
        unknown_02: get_u8(b, r(UNKNOWN_02)),
        eq_high: get_u8(b, r(EQ_HIGH)),
        eq_mid: get_u8(b, r(EQ_MID)),
        eq_mid_2: get_u8(b, r(EQ_MID_2)),
        eq_low: get_u8(b, r(EQ_LOW)),
        color_fx: get_u8(b, r(COLOR_FX)),
        unknown_08: get_arr(b, r(UNKNOWN_08)),
        fader: get_u8(b, r(FADER)),
        crossfader_assign: get_u8(b, r(CROSSFADER_ASSIGN)),
        unknown_0d: get_arr(b, r(UNKNOWN_0D)),
    }
}

fn put_channel(buf: &mut [u8], base: usize, c: &ChannelState) {
    use field::channel::*;
    let r = |x: std::ops::Range<usize>| base + x.start..base + x.end;
    set_u8(buf, r(INPUT), c.input);
    set_u8(buf, r(TRIM), c.trim);
    set_u8(buf, r(UNKNOWN_02), c.unknown_02);
    set_u8(buf, r(EQ_HIGH), c.eq_high);
    set_u8(buf, r(EQ_MID), c.eq_mid);
    set_u8(buf, r(EQ_MID_2), c.eq_mid_2);
    set_u8(buf, r(EQ_LOW), c.eq_low);
    set_u8(buf, r(COLOR_FX), c.color_fx);
    set_bytes(buf, r(UNKNOWN_08), &c.unknown_08);
    set_u8(buf, r(FADER), c.fader);
    set_u8(buf, r(CROSSFADER_ASSIGN), c.crossfader_assign);
    set_bytes(buf, r(UNKNOWN_0D), &c.unknown_0d);
}

impl ChannelState {
    /// Every knob at unity/centre, fader down, THRU.
    pub fn centred() -> Self {
        ChannelState {
            input: 0,
            trim: 0x80,
            unknown_02: 0,
            eq_high: 0x80,
            eq_mid: 0x80,
            eq_mid_2: 0x80,
            eq_low: 0x80,
            color_fx: 0x80,
            unknown_08: [0; 3],
            fader: 0,
            crossfader_assign: 0,
            unknown_0d: [0; 11],
        }
    }
}

impl StagehandMixerState {
    pub const KIND: u8 = 0x39;

    pub fn new(name: &str, channels: [ChannelState; 4], crossfader: u8) -> Self {
        StagehandMixerState {
            header: PeerHeader::to_stagehand(name),
            state_length: 0xda,
            unknown_22: [0, 0xe6],
            channels,
            unknown_84: [0; 0x30],
            crossfader,
            unknown_b5: vec![0; field::mixer::UNKNOWN_B5.len()],
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::mixer::*;
        need("stagehand_mixer_state", b, LEN)?;
        let ch = |i: usize| channel_at(b, CHANNELS + i * CHANNEL_LEN);
        Ok(StagehandMixerState {
            header: PeerHeader::parse(b),
            state_length: get_u16(b, STATE_LENGTH),
            unknown_22: get_arr(b, UNKNOWN_22),
            channels: [ch(0), ch(1), ch(2), ch(3)],
            unknown_84: get_arr(b, UNKNOWN_84),
            crossfader: get_u8(b, CROSSFADER),
            unknown_b5: b[UNKNOWN_B5].to_vec(),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::mixer::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::mixer::*;
        self.header.emit(Self::KIND, buf);
        set_u16(buf, STATE_LENGTH, self.state_length);
        set_bytes(buf, UNKNOWN_22, &self.unknown_22);
        for (i, c) in self.channels.iter().enumerate() {
            put_channel(buf, CHANNELS + i * CHANNEL_LEN, c);
        }
        set_bytes(buf, UNKNOWN_84, &self.unknown_84);
        set_u8(buf, CROSSFADER, self.crossfader);
        let rest = &mut buf[UNKNOWN_B5];
        let n = self.unknown_b5.len().min(rest.len());
        rest[..n].copy_from_slice(&self.unknown_b5[..n]);
        rest[n..].fill(0);
        put_tail(buf, LEN, &self.extra);
    }
}

macro_rules! channel_names {
    ($n:literal) => {
        [
            concat!("ch", $n, "_input"),
            concat!("ch", $n, "_trim"),
            concat!("ch", $n, "_eq_high"),
            concat!("ch", $n, "_eq_mid"),
            concat!("ch", $n, "_eq_mid_2"),
            concat!("ch", $n, "_eq_low"),
            concat!("ch", $n, "_color_fx"),
            concat!("ch", $n, "_fader"),
            concat!("ch", $n, "_crossfader_assign"),
        ]
    };
}

const CHANNEL_NAMES: [[&str; 9]; 4] = [
    channel_names!("1"),
    channel_names!("2"),
    channel_names!("3"),
    channel_names!("4"),
];

pub(crate) fn dissect_mixer_state(w: &mut Walker<'_>) {
    use field::channel::*;
    use field::mixer::{CHANNELS, CHANNEL_LEN, CROSSFADER, STATE_LENGTH};
    dissect_peer(w);
    w.uint("state_length", STATE_LENGTH);
    let mut faders = [None; 4];
    for (i, names) in CHANNEL_NAMES.iter().enumerate() {
        let base = CHANNELS + i * CHANNEL_LEN;
        let r = |x: std::ops::Range<usize>| base + x.start..base + x.end;
        let ranges = [
            INPUT,
            TRIM,
            EQ_HIGH,
            EQ_MID,
            EQ_MID_2,
            EQ_LOW,
            COLOR_FX,
            FADER,
            CROSSFADER_ASSIGN,
        ];
        for (name, range) in names.iter().zip(ranges) {
            let v = w.uint(name, r(range.clone()));
            if range == FADER {
                faders[i] = v;
            }
        }
    }
    let x = w.uint_with("crossfader", CROSSFADER, |v| {
        Some(format!("{v:02x}: 00 full A, ff full B"))
    });
    w.expect_len(field::mixer::LEN);
    w.finish();
    let mut s = String::from("A9 faders");
    for f in faders {
        match f {
            Some(f) => {
                let _ = write!(s, " {f}");
            }
            None => s.push_str(" ?"),
        }
    }
    if let Some(x) = x {
        let _ = write!(s, " crossfader {x}");
    }
    w.out().summary = s;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Value;
    use crate::prodjlink::dissect;
    use crate::prodjlink::testutil::check;

    #[test]
    fn a9_mixer_state() {
        let mut ch = [ChannelState::centred(); 4];
        ch[1].fader = 0xff;
        ch[2].crossfader_assign = 2;
        let m = StagehandMixerState::new("DJM-A9", ch, 0x78);
        let b = m.to_bytes();
        assert_eq!(b.len(), 266);
        // CH2's fader at 60 + 0x0b = 71 (DYS-SH verified the stride the same way).
        assert_eq!(
            (b[0x1e], b[0x1f], b[71], b[84 + 0x0c], b[0xb4]),
            (0x3a, 3, 0xff, 2, 0x78)
        );
        assert_eq!(StagehandMixerState::parse(&b).unwrap(), m);
        let d = check(50002, &b);
        assert_eq!(d.type_name, "stagehand_mixer_state");
        assert_eq!(d.field("ch2_fader").and_then(Value::as_u64), Some(0xff));
        assert_eq!(d.field("ch4_trim").and_then(Value::as_u64), Some(0x80));
        assert_eq!(d.summary, "A9 faders 0 255 0 0 crossfader 120");
    }

    #[test]
    fn truncated_mixer_state() {
        let m = StagehandMixerState::new("DJM-A9", [ChannelState::centred(); 4], 0).to_bytes();
        assert!(StagehandMixerState::parse(&m[..0x80]).is_err());
        let d = dissect(50002, &m[..0x80], false);
        assert!(d.malformed.is_some());
        assert_eq!(d.field("ch3_fader").and_then(Value::as_u64), Some(0));
    }
}
