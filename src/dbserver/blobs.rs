//! What the blobs of artwork, beat-grid, cue-list and waveform responses mean, and how to write
//! them.
//!
//! Unlike the rest of the protocol these blobs are little-endian (`prodjlink.md` 1.4). Readers
//! here never fail: they decode whole entries and ignore a short tail, which stays visible in
//! the raw bytes the message keeps. Writers (`emit`) write exactly `buffer_len()` bytes and
//! return [`Error::ShortBuffer`] when the buffer is smaller; they never panic (the [`Emit`]
//! trait, which also gives `to_bytes`).
//!
//! * this file: artwork ([`image_info`]) and beat grids ([`BeatGrid`]);
//! * [`cues`]: nexus and extended cue lists;
//! * [`waveform`]: blue waveform preview and detail.

pub mod cues;
pub mod waveform;

pub use cues::{extended_cues, nexus_cues, Cue, ExtendedCue, ExtendedCues, NexusCues};
pub use waveform::{WaveColumn, WaveformDetail, WaveformPreview};

use super::Error;

/// A blob that writes itself: `emit` writes exactly `buffer_len()` bytes at the start of
/// `buf` and returns [`Error::ShortBuffer`] when `buf` is shorter; it never panics.
pub trait Emit {
    fn buffer_len(&self) -> usize;

    /// Returns the bytes written (`buffer_len()`).
    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error>;

    fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        // The buffer has exactly the length asked for, so emit cannot refuse it.
        let _ = self.emit(&mut v);
        v
    }
}

/// Little-endian u16 at `at`; callers have checked the length.
fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Little-endian u32 at `at`; callers have checked the length.
fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The first `len` bytes of `buf`, or the error `emit` returns for a short buffer.
fn exact_mut(buf: &mut [u8], len: usize) -> Result<&mut [u8], Error> {
    let have = buf.len();
    buf.get_mut(..len)
        .ok_or(Error::ShortBuffer { need: len, have })
}

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

    /// A grid to send. The prefix is S10j's: two words of unknown meaning, the entry bytes
    /// that follow (little-endian), 1, and an unknown word kept non-zero (UE F33: a deck does
    /// not draw the grid when word 5 is zero).
    pub fn new(beats: Vec<Beat>) -> BeatGrid {
        let mut prefix = [0u8; 0x14];
        prefix[0..8].copy_from_slice(&[0x00, 0x00, 0x08, 0x00, 0x03, 0x04, 0x00, 0x00]);
        let entry_bytes = (beats.len() * beat_field::ENTRY_LEN) as u32;
        prefix[8..12].copy_from_slice(&entry_bytes.to_le_bytes());
        prefix[12..16].copy_from_slice(&1u32.to_le_bytes());
        prefix[16..20].copy_from_slice(&[0xce, 0x4f, 0x0c, 0x06]);
        BeatGrid {
            prefix,
            beats,
            trailing: Vec::new(),
        }
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

impl Emit for BeatGrid {
    fn buffer_len(&self) -> usize {
        beat_field::PREFIX.end + self.beats.len() * beat_field::ENTRY_LEN + self.trailing.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = exact_mut(buf, len)?;
        let (prefix, rest) = out.split_at_mut(beat_field::PREFIX.end);
        prefix.copy_from_slice(&self.prefix);
        let (entries, trailing) = rest.split_at_mut(self.beats.len() * beat_field::ENTRY_LEN);
        for (e, beat) in entries
            .chunks_exact_mut(beat_field::ENTRY_LEN)
            .zip(&self.beats)
        {
            e[beat_field::BEAT_IN_BAR].copy_from_slice(&beat.beat_in_bar.to_le_bytes());
            e[beat_field::BPM_X100].copy_from_slice(&beat.bpm_x100.to_le_bytes());
            e[beat_field::TIME_MS].copy_from_slice(&beat.time_ms.to_le_bytes());
            e[beat_field::UNKNOWN].copy_from_slice(&beat.unknown);
        }
        trailing.copy_from_slice(&self.trailing);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    // usr-ein S10j: first entries of a real beat grid (prefix, beats 1-3 at 145.00 BPM).
    const GRID: &str = "00000800030400003040000001000000ce4f0c06 0100a43802010000ffffffffffffffff 0200a438a0020000ffffffffffffffff 0300a4383d040000ffffffffffffffff";

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
        assert_eq!(g.to_bytes(), &b[..0x14 + 20]);
    }

    #[test]
    fn beat_grid_built_like_s10j() {
        let b = parse_hex(GRID).unwrap();
        let real = BeatGrid::parse(&b).unwrap();
        // S10j's prefix counts 1027 beats; ours counts the three kept here.
        let built = BeatGrid::new(real.beats.clone());
        assert_eq!(&built.prefix[..8], &real.prefix[..8]);
        assert_eq!(&built.prefix[12..], &real.prefix[12..]);
        assert_eq!(
            u32::from_le_bytes(built.prefix[8..12].try_into().unwrap()),
            48
        );
        assert_eq!(&built.to_bytes()[0x14..], &b[0x14..]);
        let mut short = vec![0u8; built.buffer_len() - 1];
        assert!(built.emit(&mut short).is_err());
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
