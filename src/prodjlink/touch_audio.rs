//! Port 50004 Touch Audio between a CDJ-3000 and a DJM-900NXS2/V10/A9 (`prodjlink.md`
//! section 6; DYS-TA): the mixer's 7 ms timing tick 0x20 (also unicast by a CDJ-3000 to
//! Stagehand), the elected player's audio data 0x1e and the mixer's handover 0x1f.

use std::fmt::Write as _;

use super::header::{
    get_arr, get_u32, get_u8, need, put_tail, set_bytes, set_u32, set_u8, tail, StatusHeader,
};
use super::walker::{dissect_status, Summary, Walker};
use super::Error;

mod field {
    /// Audio timing 0x20.
    pub mod timing {
        use std::ops::Range;
        /// C: 7 ms ticks since the mixer powered on.
        pub const COUNTER: Range<usize> = 0x24..0x28;
        /// E: "Link Cue" button on (`01`) or off.
        pub const LINK_CUE: Range<usize> = 0x28..0x29;
        /// T: elected sending player, 0 none.
        pub const ELECTED: Range<usize> = 0x29..0x2a;
        pub const LEN: usize = 0x2a;
    }
    /// Audio data 0x1e: always 0x56c bytes, whatever its length field says.
    pub mod data {
        use std::ops::Range;
        /// I: `01` on the first packet of an engagement.
        pub const FIRST: Range<usize> = 0x24..0x25;
        pub const UNKNOWN_25: Range<usize> = 0x25..0x28;
        /// The timing counter C being answered.
        pub const COUNTER: Range<usize> = 0x28..0x2c;
        /// 336 stereo frames of signed 16-bit little-endian PCM at 48 kHz, or zeros.
        pub const PCM: Range<usize> = 0x2c..0x56c;
        pub const LEN: usize = 0x56c;
    }
    /// Audio handover 0x1f: header only.
    pub const HANDOVER_LEN: usize = 0x24;
}

/// Audio timing 0x20: the mixer's tick to every supporting player, every 7 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchAudioTiming {
    pub header: StatusHeader,
    pub counter: u32,
    pub link_cue: u8,
    pub elected: u8,
    pub extra: Vec<u8>,
}

impl TouchAudioTiming {
    pub const KIND: u8 = 0x20;

    pub fn new(name: &str, mixer: u8, counter: u32, link_cue: bool, elected: u8) -> Self {
        TouchAudioTiming {
            header: StatusHeader::with_len_r(name, 0, mixer, field::timing::LEN),
            counter,
            link_cue: link_cue as u8,
            elected,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::timing::*;
        need("touch_audio_timing", b, LEN)?;
        Ok(TouchAudioTiming {
            header: StatusHeader::parse(b),
            counter: get_u32(b, COUNTER),
            link_cue: get_u8(b, LINK_CUE),
            elected: get_u8(b, ELECTED),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::timing::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::timing::*;
        self.header.emit(Self::KIND, buf);
        set_u32(buf, COUNTER, self.counter);
        set_u8(buf, LINK_CUE, self.link_cue);
        set_u8(buf, ELECTED, self.elected);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_timing(w: &mut Walker<'_>) {
    use field::timing::*;
    dissect_status(w);
    let c = w.uint_with("counter", COUNTER, |v| {
        Some(format!("{:.3} s of 7 ms ticks", v as f64 * 0.007))
    });
    let cue = w.uint("link_cue", LINK_CUE);
    let t = w.uint_with("elected", ELECTED, |v| {
        Some(if v == 0 {
            "no player elected".into()
        } else {
            format!("player {v} sends audio")
        })
    });
    w.expect_len(LEN);
    w.finish();
    let mut s = Summary::new();
    s.text("tick");
    if let Some(c) = c {
        s.text(" ").uint(c);
    }
    if cue == Some(1) {
        s.text(" link-cue");
    }
    if let Some(t) = t.filter(|&t| t != 0) {
        s.text(" elected D").uint(t);
    }
    w.out().summary = s.finish();
}

/// Audio data 0x1e: the elected player's answer to a timing tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchAudioData {
    pub header: StatusHeader,
    pub first: u8,
    pub unknown_25: [u8; 3],
    pub counter: u32,
    /// 0x540 bytes of PCM (shorter is padded with zeros on emit, longer is cut).
    pub pcm: Vec<u8>,
    pub extra: Vec<u8>,
}

impl TouchAudioData {
    pub const KIND: u8 = 0x1e;

    /// A packet answering tick `counter`; `pcm` None sends silence with the header-only
    /// length `002c` (DYS-TA).
    pub fn new(name: &str, player: u8, counter: u32, first: bool, pcm: Option<Vec<u8>>) -> Self {
        let length = if pcm.is_some() { 0x56c } else { 0x2c };
        let header = StatusHeader {
            length,
            ..StatusHeader::with_len_r(name, 6, player, field::data::LEN)
        };
        TouchAudioData {
            header,
            first: first as u8,
            unknown_25: [0; 3],
            counter,
            pcm: pcm.unwrap_or_else(|| vec![0; field::data::PCM.len()]),
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::data::*;
        need("touch_audio_data", b, LEN)?;
        Ok(TouchAudioData {
            header: StatusHeader::parse(b),
            first: get_u8(b, FIRST),
            unknown_25: get_arr(b, UNKNOWN_25),
            counter: get_u32(b, COUNTER),
            pcm: b[PCM].to_vec(),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::data::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::data::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, FIRST, self.first);
        set_bytes(buf, UNKNOWN_25, &self.unknown_25);
        set_u32(buf, COUNTER, self.counter);
        let pcm = &mut buf[PCM];
        let n = self.pcm.len().min(pcm.len());
        pcm[..n].copy_from_slice(&self.pcm[..n]);
        pcm[n..].fill(0);
        put_tail(buf, LEN, &self.extra);
    }

    /// The PCM as (left, right) sample pairs.
    pub fn frames(&self) -> impl Iterator<Item = (i16, i16)> + '_ {
        self.pcm.chunks_exact(4).map(|f| {
            (
                i16::from_le_bytes([f[0], f[1]]),
                i16::from_le_bytes([f[2], f[3]]),
            )
        })
    }
}

pub(crate) fn dissect_data(w: &mut Walker<'_>) {
    use field::data::*;
    dissect_status(w);
    let first = w.uint("first", FIRST);
    let c = w.uint("counter", COUNTER);
    let pcm = w.bytes("pcm", PCM);
    let silent = pcm.map(|p| p.iter().all(|&x| x == 0));
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("audio");
    if let Some(c) = c {
        let _ = write!(s, " for tick {c}");
    }
    if first == Some(1) {
        s.push_str(" (first)");
    }
    match silent {
        Some(true) => s.push_str(", silence"),
        Some(false) => s.push_str(", 336 frames"),
        None => {}
    }
    w.out().summary = s;
}

/// Audio handover 0x1f: the mixer tells a player it is not the elected sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchAudioHandover {
    pub header: StatusHeader,
    pub extra: Vec<u8>,
}

impl TouchAudioHandover {
    pub const KIND: u8 = 0x1f;

    pub fn new(name: &str, mixer: u8) -> Self {
        TouchAudioHandover {
            header: StatusHeader::with_len_r(name, 0, mixer, field::HANDOVER_LEN),
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("touch_audio_handover", b, field::HANDOVER_LEN)?;
        Ok(TouchAudioHandover {
            header: StatusHeader::parse(b),
            extra: tail(b, field::HANDOVER_LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::HANDOVER_LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        self.header.emit(Self::KIND, buf);
        put_tail(buf, field::HANDOVER_LEN, &self.extra);
    }
}

pub(crate) fn dissect_handover(w: &mut Walker<'_>) {
    dissect_status(w);
    w.expect_len(field::HANDOVER_LEN);
    w.finish();
    w.out().summary = match w.out().device {
        Some(d) => format!("handover from mixer D{d}"),
        None => "handover".into(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Value;
    use crate::prodjlink::testutil::check;

    #[test]
    fn timing_tick_layout() {
        let t = TouchAudioTiming::new("DJM-V10", 0x21, 0x0001_0000, true, 3);
        let b = t.to_bytes();
        assert_eq!(b.len(), 0x2a);
        assert_eq!(&b[0x1f..0x2a], &[1, 0, 0x21, 0, 6, 0, 1, 0, 0, 1, 3]);
        assert_eq!(TouchAudioTiming::parse(&b).unwrap(), t);
        let d = check(50004, &b);
        assert_eq!(d.type_name, "touch_audio_timing");
        assert_eq!(d.summary, "tick 65536 link-cue elected D3");
    }

    #[test]
    fn audio_data_is_always_0x56c_bytes() {
        let pcm: Vec<u8> = (0..0x540u32).map(|i| i as u8).collect();
        let a = TouchAudioData::new("CDJ-3000", 2, 99, true, Some(pcm));
        let b = a.to_bytes();
        assert_eq!(b.len(), 0x56c);
        assert_eq!(&b[0x20..0x24], &[6, 2, 0x05, 0x6c]);
        assert_eq!(TouchAudioData::parse(&b).unwrap(), a);
        assert_eq!(a.frames().next(), Some((0x0100, 0x0302)));
        let d = check(50004, &b);
        assert_eq!(d.field("counter").and_then(Value::as_u64), Some(99));

        // Header-only length field, silent body: still a full-size datagram (6).
        let silent = TouchAudioData::new("CDJ-3000", 2, 100, false, None).to_bytes();
        assert_eq!((silent.len(), silent[0x22], silent[0x23]), (0x56c, 0, 0x2c));
        // Its length field counts the header only: a note after the summary (length.rs).
        let d = check(50004, &silent);
        assert!(d.summary.contains("silence") && d.field("length_note").is_some());
        assert!(TouchAudioData::parse(&silent[..0x100]).is_err());
        assert!(crate::prodjlink::dissect(50004, &silent[..0x100], false)
            .malformed
            .is_some());
    }

    #[test]
    fn handover_is_a_bare_header() {
        let h = TouchAudioHandover::new("DJM-A9", 0x21);
        let b = h.to_bytes();
        assert_eq!(b.len(), 0x24);
        assert_eq!(TouchAudioHandover::parse(&b).unwrap(), h);
        assert_eq!(check(50004, &b).summary, "handover from mixer D33");
    }
}
