//! What the blobs of artwork, beat-grid, cue-list and waveform responses mean.
//!
//! Unlike the rest of the protocol these blobs are little-endian (`prodjlink.md` 1.4). Readers
//! here never fail: they decode whole entries and ignore a short tail, which stays visible in
//! the raw bytes the message keeps.

/// Image format and size of an artwork blob (`4002`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// `jpeg`, `png`, `gif`, `bmp` or `unknown`, from the file's magic bytes.
    pub format: &'static str,
    pub bytes: usize,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Recognise an image from its magic and read its pixel size when the header gives it.
pub fn image_info(b: &[u8]) -> ImageInfo {
    let mut info = ImageInfo {
        format: "unknown",
        bytes: b.len(),
        width: None,
        height: None,
    };
    if b.starts_with(&[0xff, 0xd8, 0xff]) {
        info.format = "jpeg";
        if let Some((w, h)) = jpeg_size(b) {
            info.width = Some(w);
            info.height = Some(h);
        }
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        info.format = "png";
        // IHDR is the first chunk: width and height are big-endian at 16 and 20.
        if let Some(d) = b.get(16..24) {
            info.width = Some(u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
            info.height = Some(u32::from_be_bytes([d[4], d[5], d[6], d[7]]));
        }
    } else if b.starts_with(b"GIF8") {
        info.format = "gif";
        if let Some(d) = b.get(6..10) {
            info.width = Some(u16::from_le_bytes([d[0], d[1]]) as u32);
            info.height = Some(u16::from_le_bytes([d[2], d[3]]) as u32);
        }
    } else if b.starts_with(b"BM") {
        info.format = "bmp";
    }
    info
}

/// Walk JPEG marker segments to the first start-of-frame and read its height and width.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    while let Some(&[0xff, marker]) = b.get(at..at + 2) {
        if marker == 0xff {
            at += 1; // fill byte
            continue;
        }
        let seg_len = u16::from_be_bytes([*b.get(at + 2)?, *b.get(at + 3)?]) as usize;
        let is_sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            let d = b.get(at + 5..at + 9)?;
            let height = u16::from_be_bytes([d[0], d[1]]) as u32;
            let width = u16::from_be_bytes([d[2], d[3]]) as u32;
            return Some((width, height));
        }
        if marker == 0xda || seg_len < 2 {
            return None; // image data starts; no frame header before it
        }
        at += 2 + seg_len;
    }
    None
}

/// Offsets inside a beat-grid blob (`prodjlink.md` 7.3 `4602`: a 0x14-byte prefix, then
/// 16-byte little-endian entries).
mod beat_field {
    use std::ops::Range;
    pub const PREFIX: Range<usize> = 0..0x14;
    pub const ENTRY_LEN: usize = 16;
    pub const BEAT_IN_BAR: Range<usize> = 0..2;
    pub const BPM_X100: Range<usize> = 2..4;
    pub const TIME_MS: Range<usize> = 4..8;
    /// Eight `ff` bytes in every capture.
    pub const UNKNOWN: Range<usize> = 8..16;
}

/// One beat of a beat grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// 1-4.
    pub beat_in_bar: u16,
    pub bpm_x100: u16,
    /// Milliseconds from the start of the track at normal tempo.
    pub time_ms: u32,
    pub unknown: [u8; 8],
}

/// A decoded beat-grid blob; `emit(parse(b)) == b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeatGrid {
    /// The 0x14-byte prefix; UE F33 says its word 5 must be non-zero for a deck to draw.
    pub prefix: [u8; 0x14],
    pub beats: Vec<Beat>,
    /// Bytes after the last whole entry (none in any capture).
    pub trailing: Vec<u8>,
}

impl BeatGrid {
    pub fn parse(b: &[u8]) -> Option<BeatGrid> {
        let mut prefix = [0u8; 0x14];
        prefix.copy_from_slice(b.get(beat_field::PREFIX)?);
        let body = &b[beat_field::PREFIX.end..];
        let chunks = body.chunks_exact(beat_field::ENTRY_LEN);
        let trailing = chunks.remainder().to_vec();
        let beats = chunks
            .map(|e| {
                let u16le =
                    |r: std::ops::Range<usize>| u16::from_le_bytes([e[r.start], e[r.start + 1]]);
                let t = &e[beat_field::TIME_MS];
                let mut unknown = [0u8; 8];
                unknown.copy_from_slice(&e[beat_field::UNKNOWN]);
                Beat {
                    beat_in_bar: u16le(beat_field::BEAT_IN_BAR),
                    bpm_x100: u16le(beat_field::BPM_X100),
                    time_ms: u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
                    unknown,
                }
            })
            .collect();
        Some(BeatGrid {
            prefix,
            beats,
            trailing,
        })
    }

    pub fn buffer_len(&self) -> usize {
        beat_field::PREFIX.end + self.beats.len() * beat_field::ENTRY_LEN + self.trailing.len()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.buffer_len());
        v.extend_from_slice(&self.prefix);
        for beat in &self.beats {
            v.extend_from_slice(&beat.beat_in_bar.to_le_bytes());
            v.extend_from_slice(&beat.bpm_x100.to_le_bytes());
            v.extend_from_slice(&beat.time_ms.to_le_bytes());
            v.extend_from_slice(&beat.unknown);
        }
        v.extend_from_slice(&self.trailing);
        v
    }

    /// (beat index, BPM x 100) at the first beat and wherever the tempo changes, at most `max`.
    pub fn tempo_changes(&self, max: usize) -> Vec<(usize, u16)> {
        let mut out: Vec<(usize, u16)> = Vec::new();
        for (i, beat) in self.beats.iter().enumerate() {
            if out.len() >= max {
                break;
            }
            if out.last().is_none_or(|&(_, bpm)| bpm != beat.bpm_x100) {
                out.push((i, beat.bpm_x100));
            }
        }
        out
    }
}

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

/// One entry of a cue list. Positions are in 1/150 s ("half frames").
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
            let le = |r: std::ops::Range<usize>| {
                u32::from_le_bytes([e[r.start], e[r.start + 1], e[r.start + 2], e[r.start + 3]])
            };
            let is_loop = e[cue_field::LOOP_FLAG] != 0;
            Cue {
                hot_cue: e[cue_field::HOT_CUE],
                is_loop,
                position: le(cue_field::POSITION),
                loop_end: is_loop.then(|| le(cue_field::LOOP_END)),
            }
        })
        .collect()
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
}

/// One entry of an extended (nxs2) cue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedCue {
    pub cue: Cue,
    /// Colour table id of a memory point or loop.
    pub color_id: u8,
    pub comment: String,
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
        let le = |r: std::ops::Range<usize>| {
            u32::from_le_bytes([e[r.start], e[r.start + 1], e[r.start + 2], e[r.start + 3]])
        };
        let is_loop = e[ext_cue_field::KIND] == 2;
        let comment = e
            .get(ext_cue_field::COMMENT_LEN)
            .map(|n| u16::from_le_bytes([n[0], n[1]]) as usize)
            .and_then(|n| {
                e.get(ext_cue_field::COMMENT..ext_cue_field::COMMENT + n.saturating_sub(2))
            })
            .map(|t| {
                let units: Vec<u16> = t
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            })
            .unwrap_or_default();
        out.push(ExtendedCue {
            cue: Cue {
                hot_cue: e[ext_cue_field::HOT_CUE],
                is_loop,
                position: le(ext_cue_field::POSITION),
                loop_end: is_loop.then(|| le(ext_cue_field::LOOP_END)),
            },
            color_id: e.get(ext_cue_field::COLOR_ID).copied().unwrap_or(0),
            comment,
        });
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    // usr-ein S10j: first entries of a real beat grid (prefix, beats 1-3 at 145.00 BPM).
    const GRID: &str = "00000800030400003040000001000000ce4f0c06 0100a43802010000ffffffffffffffff 0200a438a0020000ffffffffffffffff 0300a4383d040000ffffffffffffffff";
    // usr-ein S10j: the cue blob of a 4702 answer (hot cues A-C).
    const CUES: &str = "000101000000000000000000260000000000000000000000000000000000000000000000000102000000000000000000b32e00000000000000000000000000000000000000000000000103000000000000000000405d00000000000000000000000000000000000000000000";

    #[test]
    fn beat_grid_decodes_little_endian_and_round_trips() {
        let b = parse_hex(GRID).unwrap();
        let g = BeatGrid::parse(&b).unwrap();
        assert_eq!(g.beats.len(), 3);
        assert_eq!(
            g.beats[0],
            Beat {
                beat_in_bar: 1,
                bpm_x100: 14500,
                time_ms: 258,
                unknown: [0xff; 8]
            }
        );
        assert_eq!(g.beats[2].time_ms, 0x043d);
        assert_eq!(g.tempo_changes(8), vec![(0, 14500)]);
        assert_eq!(g.to_bytes(), b);
        assert!(BeatGrid::parse(&b[..0x13]).is_none());
        let g = BeatGrid::parse(&b[..0x14 + 20]).unwrap();
        assert_eq!((g.beats.len(), g.trailing.len()), (1, 4));
    }

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
        assert_eq!(cues[1].color_id, 3);
        // A zero length or a count larger than the entries never loops or panics.
        assert!(extended_cues(&[0u8; 8], 5).is_empty());
        assert_eq!(extended_cues(&blob, 9).len(), 2);
    }

    #[test]
    fn images_by_magic() {
        // First bytes of S10j's artwork: JFIF header, then a quantisation table.
        let mut jpeg = parse_hex("ffd8ffe000104a46494600010100000100010000").unwrap();
        assert_eq!(image_info(&jpeg).format, "jpeg");
        assert_eq!(image_info(&jpeg).width, None);
        jpeg.extend(parse_hex("ffc0001108005000f003012200021101031101").unwrap());
        let info = image_info(&jpeg);
        assert_eq!((info.width, info.height), (Some(240), Some(80)));
        let png = parse_hex("89504e470d0a1a0a0000000d49484452000000f0000000f0").unwrap();
        assert_eq!(image_info(&png).width, Some(240));
        assert_eq!(image_info(b"xyz").format, "unknown");
        // A JPEG whose segment lengths run off the end stops quietly.
        assert_eq!(image_info(&parse_hex("ffd8ffe0ffff").unwrap()).width, None);
    }
}
