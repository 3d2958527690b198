//! Cue-list blobs: the nexus list of a `4702` answer (fixed 36-byte entries, positions in
//! 1/150 s), its companion blob of millisecond positions, and the extended (nxs2) list of a
//! `4e02` answer (variable entries with colours and comments, positions in ms).
//!
//! Readers never fail: they decode whole entries and ignore a short tail. Writers write
//! exactly `buffer_len()` bytes and return [`Error::ShortBuffer`] when the buffer is smaller.

use super::super::Error;
use super::{exact_mut, le_u16, le_u32, Emit};

/// Offsets inside one 36-byte entry of a nexus cue list (`4702`; `prodjlink.md` 7.3, BL
/// `CueList.parseNexusEntries`).
mod cue_field {
    use std::ops::Range;
    pub const ENTRY_LEN: usize = 0x24;
    pub const LOOP_FLAG: usize = 0;
    pub const CUE_FLAG: usize = 1;
    pub const HOT_CUE: usize = 2;
    /// Cue (or loop start) position, little-endian, in 1/150 s.
    pub const POSITION: Range<usize> = 0x0c..0x10;
    /// Loop end position, little-endian, in 1/150 s.
    pub const LOOP_END: Range<usize> = 0x10..0x14;
}

/// One entry of a cue list. Positions are in 1/150 s ("half frames") in the nexus list and
/// in ms in the extended list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cue {
    /// 0 for a memory point, 1-3 for hot cues A-C (1-8 in extended lists).
    pub hot_cue: u8,
    pub is_loop: bool,
    pub position: u32,
    pub loop_end: Option<u32>,
}

impl Cue {
    /// "A 0:00.25", "memory 1:19.70", "loop 0:10.00-0:12.00".
    pub fn describe(&self, units_per_second: u32) -> String {
        let t = |v: u32| {
            let hundredths = v as u64 * 100 / units_per_second.max(1) as u64;
            format!(
                "{}:{:02}.{:02}",
                hundredths / 6000,
                hundredths / 100 % 60,
                hundredths % 100
            )
        };
        let what = match self.hot_cue {
            0 if self.is_loop => "loop".to_string(),
            0 => "memory".to_string(),
            n => ((b'A' + (n - 1).min(25)) as char).to_string(),
        };
        match self.loop_end {
            Some(end) if self.is_loop => format!("{what} {}-{}", t(self.position), t(end)),
            _ => format!("{what} {}", t(self.position)),
        }
    }
}

/// Non-empty entries of a nexus cue-list blob (empty ones have no cue flag and no hot cue).
pub fn nexus_cues(b: &[u8]) -> Vec<Cue> {
    b.chunks_exact(cue_field::ENTRY_LEN)
        .filter(|e| e[cue_field::CUE_FLAG] != 0 || e[cue_field::HOT_CUE] != 0)
        .map(|e| {
            let is_loop = e[cue_field::LOOP_FLAG] != 0;
            Cue {
                hot_cue: e[cue_field::HOT_CUE],
                is_loop,
                position: le_u32(e, cue_field::POSITION.start),
                loop_end: is_loop.then(|| le_u32(e, cue_field::LOOP_END.start)),
            }
        })
        .collect()
}

/// A nexus cue list to send: one 36-byte entry per cue, every entry a set cue (the `4702`
/// answer's `arg5` is this entry length, `prodjlink.md` 7.3). `emit(parse(b)) == b` for the
/// lists real servers send (S10j: three hot cues, no empty entries).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NexusCues {
    /// Positions in 1/150 s.
    pub cues: Vec<Cue>,
}

impl NexusCues {
    pub const ENTRY_LEN: usize = cue_field::ENTRY_LEN;

    pub fn parse(b: &[u8]) -> NexusCues {
        NexusCues {
            cues: nexus_cues(b),
        }
    }

    /// The second blob of a `4702` answer: per entry, the position and the loop end in ms
    /// (`ffffffff` when not a loop), both little-endian. Read from S10j, whose three hot cues
    /// at 0x26, 0x2eb3 and 0x5d40 half frames come with 256, 79 704 and 159 152 ms; dysentery
    /// and BL leave this blob undescribed.
    pub fn millisecond_blob(cues_ms: &[(u32, Option<u32>)]) -> Vec<u8> {
        let mut v = Vec::with_capacity(cues_ms.len() * 8);
        for &(position, end) in cues_ms {
            v.extend_from_slice(&position.to_le_bytes());
            v.extend_from_slice(&end.unwrap_or(u32::MAX).to_le_bytes());
        }
        v
    }
}

impl Emit for NexusCues {
    fn buffer_len(&self) -> usize {
        self.cues.len() * cue_field::ENTRY_LEN
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = exact_mut(buf, len)?;
        out.fill(0);
        for (e, c) in out.chunks_exact_mut(cue_field::ENTRY_LEN).zip(&self.cues) {
            e[cue_field::LOOP_FLAG] = u8::from(c.is_loop);
            e[cue_field::CUE_FLAG] = 1;
            e[cue_field::HOT_CUE] = c.hot_cue;
            e[cue_field::POSITION].copy_from_slice(&c.position.to_le_bytes());
            if let (true, Some(end)) = (c.is_loop, c.loop_end) {
                e[cue_field::LOOP_END].copy_from_slice(&end.to_le_bytes());
            }
        }
        Ok(len)
    }
}

/// Offsets inside one variable-length entry of an extended cue list (`4e02`; `prodjlink.md`
/// 7.3; BL `CueList.parseNxs2Entries`).
mod ext_cue_field {
    use std::ops::Range;
    /// Entry length, little-endian.
    pub const LEN: Range<usize> = 0..4;
    pub const HOT_CUE: usize = 4;
    /// 1 memory point, 2 loop.
    pub const KIND: usize = 6;
    pub const POSITION: Range<usize> = 0x0c..0x10;
    pub const LOOP_END: Range<usize> = 0x10..0x14;
    pub const COLOR_ID: usize = 0x22;
    /// Comment length in bytes including its NUL, then UTF-16LE text.
    pub const COMMENT_LEN: Range<usize> = 0x48..0x4a;
    pub const COMMENT: usize = 0x4a;
    /// Four bytes of unknown meaning after the comment, then the colour code, red, green and
    /// blue of a hot cue: BL reads the code at `0x4e + comment length`.
    pub const COLOR_GAP: usize = 4;
    pub const COLOR_LEN: usize = 4;
}

/// One entry of an extended (nxs2) cue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedCue {
    pub cue: Cue,
    /// Colour table id of a memory point or loop.
    pub color_id: u8,
    pub comment: String,
    /// Colour code (BL `CueList.findRekordboxColor`'s palette, `0x01`-`0x3e`), red, green and
    /// blue, when the entry holds them.
    pub hot_cue_color: Option<[u8; 4]>,
}

impl ExtendedCue {
    fn comment_units(&self) -> Vec<u16> {
        if self.comment.is_empty() {
            return Vec::new();
        }
        self.comment.encode_utf16().chain([0]).collect()
    }

    fn buffer_len(&self) -> usize {
        let color = self
            .hot_cue_color
            .map_or(0, |_| ext_cue_field::COLOR_GAP + ext_cue_field::COLOR_LEN);
        ext_cue_field::COMMENT + self.comment_units().len() * 2 + color
    }
}

/// Entries of an extended cue-list blob; `count` is the response's entry count. Positions are
/// taken in milliseconds, as BL reads them; `prodjlink.md` 7.3 says 1/150 s (see the report).
pub fn extended_cues(b: &[u8], count: u32) -> Vec<ExtendedCue> {
    let mut out = Vec::new();
    let mut at = 0usize;
    for _ in 0..count {
        let Some(len_bytes) = b.get(at + ext_cue_field::LEN.start..at + ext_cue_field::LEN.end)
        else {
            break;
        };
        let len =
            u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        // A length that does not cover the fixed part or runs past the blob ends the walk.
        let Some(e) = b.get(at..at.saturating_add(len)) else {
            break;
        };
        if len < ext_cue_field::LOOP_END.end {
            break;
        }
        let is_loop = e[ext_cue_field::KIND] == 2;
        let comment_len = e
            .get(ext_cue_field::COMMENT_LEN)
            .map_or(0, |_| le_u16(e, ext_cue_field::COMMENT_LEN.start) as usize);
        let comment = e
            .get(ext_cue_field::COMMENT..ext_cue_field::COMMENT + comment_len.saturating_sub(2))
            .map(|t| {
                let units: Vec<u16> = t
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            })
            .unwrap_or_default();
        let color_at = ext_cue_field::COMMENT + comment_len + ext_cue_field::COLOR_GAP;
        let hot_cue_color = e
            .get(color_at..color_at + ext_cue_field::COLOR_LEN)
            .map(|c| [c[0], c[1], c[2], c[3]]);
        out.push(ExtendedCue {
            cue: Cue {
                hot_cue: e[ext_cue_field::HOT_CUE],
                is_loop,
                position: le_u32(e, ext_cue_field::POSITION.start),
                loop_end: is_loop.then(|| le_u32(e, ext_cue_field::LOOP_END.start)),
            },
            color_id: e.get(ext_cue_field::COLOR_ID).copied().unwrap_or(0),
            comment,
            hot_cue_color,
        });
        at += len;
    }
    out
}

/// An extended cue list to send: each entry the fixed 0x4a bytes, the comment (UTF-16LE with
/// its NUL, none when empty) and, when there is one, four zero bytes and the hot-cue colour.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtendedCues {
    /// Positions in ms.
    pub cues: Vec<ExtendedCue>,
}

impl ExtendedCues {
    pub fn parse(b: &[u8], count: u32) -> ExtendedCues {
        ExtendedCues {
            cues: extended_cues(b, count),
        }
    }
}

impl Emit for ExtendedCues {
    fn buffer_len(&self) -> usize {
        self.cues.iter().map(ExtendedCue::buffer_len).sum()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        use ext_cue_field::*;
        let len = self.buffer_len();
        let out = exact_mut(buf, len)?;
        out.fill(0);
        let mut at = 0;
        for c in &self.cues {
            let n = c.buffer_len();
            let e = &mut out[at..at + n];
            e[LEN].copy_from_slice(&(n as u32).to_le_bytes());
            e[HOT_CUE] = c.cue.hot_cue;
            e[KIND] = if c.cue.is_loop { 2 } else { 1 };
            e[POSITION].copy_from_slice(&c.cue.position.to_le_bytes());
            let end = c.cue.loop_end.filter(|_| c.cue.is_loop).unwrap_or(u32::MAX);
            e[LOOP_END].copy_from_slice(&end.to_le_bytes());
            e[COLOR_ID] = c.color_id;
            let units = c.comment_units();
            e[COMMENT_LEN].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
            for (i, u) in units.iter().enumerate() {
                e[COMMENT + 2 * i..COMMENT + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
            }
            if let Some(color) = c.hot_cue_color {
                let c_at = COMMENT + units.len() * 2 + COLOR_GAP;
                e[c_at..c_at + COLOR_LEN].copy_from_slice(&color);
            }
            at += n;
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    // usr-ein S10j: the cue blob of a 4702 answer (hot cues A-C), and its millisecond blob.
    const CUES: &str = "000101000000000000000000260000000000000000000000000000000000000000000000000102000000000000000000b32e00000000000000000000000000000000000000000000000103000000000000000000405d00000000000000000000000000000000000000000000";
    const CUES_MS: &str = "00010000ffffffff58370100ffffffffb06d0200ffffffff";

    #[test]
    fn nexus_cues_from_real_blob() {
        let cues = nexus_cues(&parse_hex(CUES).unwrap());
        assert_eq!(cues.len(), 3);
        assert_eq!(
            cues[0],
            Cue {
                hot_cue: 1,
                is_loop: false,
                position: 0x26,
                loop_end: None
            }
        );
        assert_eq!(cues[1].describe(150), "B 1:19.70");
        assert_eq!(cues[2].position, 0x5d40);
        let l = Cue {
            hot_cue: 0,
            is_loop: true,
            position: 1500,
            loop_end: Some(1800),
        };
        assert_eq!(l.describe(150), "loop 0:10.00-0:12.00");
    }

    #[test]
    fn nexus_cues_round_trip_on_real_bytes() {
        let b = parse_hex(CUES).unwrap();
        let list = NexusCues::parse(&b);
        assert_eq!(list.buffer_len(), b.len());
        assert_eq!(list.to_bytes(), b);
        let ms = NexusCues::millisecond_blob(&[(256, None), (79_704, None), (159_152, None)]);
        assert_eq!(ms, parse_hex(CUES_MS).unwrap());
        // A loop keeps its end; a memory point has no hot cue.
        let looped = NexusCues {
            cues: vec![Cue {
                hot_cue: 0,
                is_loop: true,
                position: 1500,
                loop_end: Some(1800),
            }],
        };
        assert_eq!(NexusCues::parse(&looped.to_bytes()), looped);
    }

    #[test]
    fn emit_refuses_short_buffers() {
        let list = NexusCues::parse(&parse_hex(CUES).unwrap());
        let mut small = vec![0u8; list.buffer_len() - 1];
        assert_eq!(
            list.emit(&mut small),
            Err(Error::ShortBuffer {
                need: 108,
                have: 107
            })
        );
        let mut big = vec![0xaa; 200];
        assert_eq!(list.emit(&mut big), Ok(108));
        assert!(
            big[108..].iter().all(|&b| b == 0xaa),
            "writes exactly buffer_len bytes"
        );
        let ext = ExtendedCues {
            cues: vec![memory(10)],
        };
        assert!(ext.emit(&mut [0u8; 10]).is_err());
        assert!(NexusCues::default().emit(&mut []).is_ok());
    }

    fn memory(position: u32) -> ExtendedCue {
        ExtendedCue {
            cue: Cue {
                hot_cue: 0,
                is_loop: false,
                position,
                loop_end: None,
            },
            color_id: 3,
            comment: String::new(),
            hot_cue_color: None,
        }
    }

    #[test]
    fn extended_cues_follow_entry_lengths() {
        // Built from BL's layout: a hot-cue loop with a comment "hi", then a memory point.
        let mut e1 = vec![0u8; 0x58];
        e1[0] = 0x58;
        e1[4] = 2;
        e1[6] = 2;
        e1[0x0c..0x10].copy_from_slice(&1000u32.to_le_bytes());
        e1[0x10..0x14].copy_from_slice(&3000u32.to_le_bytes());
        e1[0x48] = 6;
        e1[0x4a..0x50].copy_from_slice(&[b'h', 0, b'i', 0, 0, 0]);
        let mut e2 = vec![0u8; 0x38];
        e2[0] = 0x38;
        e2[6] = 1;
        e2[0x22] = 3;
        let blob = [e1, e2].concat();
        let cues = extended_cues(&blob, 2);
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].comment, "hi");
        assert_eq!(cues[0].cue.describe(1000), "B 0:01.00-0:03.00");
        assert_eq!(cues[0].hot_cue_color, Some([0; 4]));
        assert_eq!(cues[1].color_id, 3);
        assert_eq!(cues[1].hot_cue_color, None);
        // A zero length or a count larger than the entries never loops or panics.
        assert!(extended_cues(&[0u8; 8], 5).is_empty());
        assert_eq!(extended_cues(&blob, 9).len(), 2);
    }

    #[test]
    fn extended_cues_round_trip() {
        let list = ExtendedCues {
            cues: vec![
                memory(1234),
                ExtendedCue {
                    cue: Cue {
                        hot_cue: 3,
                        is_loop: true,
                        position: 60_000,
                        loop_end: Some(62_000),
                    },
                    color_id: 0,
                    comment: "drop ✓".into(),
                    hot_cue_color: Some([0x2a, 0xff, 0x80, 0x00]),
                },
            ],
        };
        let b = list.to_bytes();
        assert_eq!(b.len(), list.buffer_len());
        assert_eq!(b.len(), 0x4a + (0x4a + 14 + 4 + 4));
        // BL reads the colour code at 0x4e + comment length.
        assert_eq!(b[0x4a + 0x4e + 14], 0x2a);
        assert_eq!(ExtendedCues::parse(&b, 2), list);
        assert_eq!(le_u32(&b, 0), 0x4a);
        assert_eq!(le_u32(&b, 0x10), u32::MAX, "a memory point has no loop end");
    }
}
