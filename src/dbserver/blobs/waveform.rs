//! Blue (nexus-era) waveform blobs: the preview of a `4402` answer and the detail of a `4a02`
//! answer (`prodjlink.md` 7.3).
//!
//! Preview, 900 bytes in every capture: 400 columns of two bytes (height 0-31, whiteness 0-7),
//! then a 100-byte "tiny preview" of heights 0-15 (S10j).
//!
//! Detail: a 20-byte little-endian header, then one byte per 1/150 s, 3-bit whiteness over a
//! 5-bit height. Header words as S10j holds them: entry count, entry size (1), entry count
//! again, entries per second (150), and a word of unknown meaning. BL skips 19 bytes
//! (`WaveformDetail.LEADING_DBSERVER_JUNK_BYTES`), so its first column is the unknown word's
//! top byte; S10j's count (63 756 entries in a 63 776-byte blob) places the data at 20.

use super::super::Error;
use super::{exact_mut, le_u32, Emit};

/// One column of a blue waveform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaveColumn {
    /// 0-31 (a preview keeps whatever byte was sent).
    pub height: u8,
    /// 0-7: how bright the column is drawn (a preview keeps whatever byte was sent).
    pub whiteness: u8,
}

/// Columns of a preview before the tiny preview.
pub const PREVIEW_COLUMNS: usize = 400;
/// Length of the tiny preview after the columns.
pub const TINY_PREVIEW_LEN: usize = 100;

/// A decoded waveform preview; `emit(parse(b)) == b` for any bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaveformPreview {
    /// Up to [`PREVIEW_COLUMNS`] (fewer only in a short blob).
    pub columns: Vec<WaveColumn>,
    /// Bytes after the columns: the tiny preview (heights 0-15).
    pub tiny: Vec<u8>,
}

impl WaveformPreview {
    pub fn parse(b: &[u8]) -> WaveformPreview {
        let pairs = (b.len() / 2).min(PREVIEW_COLUMNS);
        let columns = b[..pairs * 2]
            .chunks_exact(2)
            .map(|p| WaveColumn {
                height: p[0],
                whiteness: p[1],
            })
            .collect();
        WaveformPreview {
            columns,
            tiny: b[pairs * 2..].to_vec(),
        }
    }

    /// A preview from its columns, with the tiny preview derived from them: each of its 100
    /// bytes is the tallest of four columns, halved to 0-15 (how S10j's tiny preview tracks its
    /// columns; no reference describes it).
    pub fn from_columns(columns: Vec<WaveColumn>) -> WaveformPreview {
        let per = columns.len().div_ceil(TINY_PREVIEW_LEN).max(1);
        let mut tiny: Vec<u8> = columns
            .chunks(per)
            .map(|c| c.iter().map(|c| c.height.min(31)).max().unwrap_or(0) / 2)
            .collect();
        tiny.resize(TINY_PREVIEW_LEN, 0);
        WaveformPreview { columns, tiny }
    }
}

impl Emit for WaveformPreview {
    fn buffer_len(&self) -> usize {
        self.columns.len() * 2 + self.tiny.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = exact_mut(buf, len)?;
        let (cols, tiny) = out.split_at_mut(self.columns.len() * 2);
        for (p, c) in cols.chunks_exact_mut(2).zip(&self.columns) {
            p[0] = c.height;
            p[1] = c.whiteness;
        }
        tiny.copy_from_slice(&self.tiny);
        Ok(len)
    }
}

/// Length of the detail header.
pub const DETAIL_HEADER_LEN: usize = 20;

/// A decoded detail waveform; `emit(parse(b)) == b` for any blob of at least 20 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaveformDetail {
    /// The five header words as sent (see the module header).
    pub header: [u32; 5],
    pub columns: Vec<WaveColumn>,
}

impl WaveformDetail {
    /// Columns per second.
    pub const PER_SECOND: u32 = 150;

    pub fn parse(b: &[u8]) -> Option<WaveformDetail> {
        let head = b.get(..DETAIL_HEADER_LEN)?;
        let mut header = [0u32; 5];
        for (i, w) in header.iter_mut().enumerate() {
            *w = le_u32(head, i * 4);
        }
        let columns = b[DETAIL_HEADER_LEN..]
            .iter()
            .map(|&v| WaveColumn {
                height: v & 0x1f,
                whiteness: v >> 5,
            })
            .collect();
        Some(WaveformDetail { header, columns })
    }

    /// A detail waveform from its columns, header filled in as S10j's (unknown word 0).
    pub fn from_columns(columns: Vec<WaveColumn>) -> WaveformDetail {
        let n = columns.len() as u32;
        WaveformDetail {
            header: [n, 1, n, Self::PER_SECOND, 0],
            columns,
        }
    }
}

impl Emit for WaveformDetail {
    fn buffer_len(&self) -> usize {
        DETAIL_HEADER_LEN + self.columns.len()
    }

    /// Heights above 31 and whiteness above 7 are cut to their bit widths.
    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = exact_mut(buf, len)?;
        let (head, body) = out.split_at_mut(DETAIL_HEADER_LEN);
        for (i, w) in self.header.iter().enumerate() {
            head[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        for (b, c) in body.iter_mut().zip(&self.columns) {
            *b = (c.whiteness << 5) | (c.height & 0x1f);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// usr-ein S10j: the start of the 4a02 blob (header, then the first columns).
    const DETAIL_START: &str = "0cf90000010000000cf9000096000000b4c90d06e0e0e0e0";

    #[test]
    fn detail_header_from_real_bytes() {
        let b = parse_hex(DETAIL_START).unwrap();
        let d = WaveformDetail::parse(&b).unwrap();
        assert_eq!(d.header, [63_756, 1, 63_756, 150, 0x060d_c9b4]);
        assert_eq!(
            d.columns[0],
            WaveColumn {
                height: 0,
                whiteness: 7
            }
        );
        assert_eq!(d.to_bytes(), b);
        assert!(WaveformDetail::parse(&b[..19]).is_none());
        // Every byte value survives the split into whiteness and height.
        let all: Vec<u8> = (0..DETAIL_HEADER_LEN as u8).chain(0..=255).collect();
        assert_eq!(WaveformDetail::parse(&all).unwrap().to_bytes(), all);
    }

    #[test]
    fn preview_round_trips_any_bytes_and_builds_the_tiny_preview() {
        let b: Vec<u8> = (0..900u32).map(|i| (i * 7 % 32) as u8).collect();
        let p = WaveformPreview::parse(&b);
        assert_eq!((p.columns.len(), p.tiny.len()), (400, 100));
        assert_eq!(p.to_bytes(), b);
        assert_eq!(WaveformPreview::parse(&b[..7]).to_bytes(), &b[..7]);
        let cols = vec![
            WaveColumn {
                height: 30,
                whiteness: 5
            };
            400
        ];
        let p = WaveformPreview::from_columns(cols);
        assert_eq!(p.buffer_len(), 900);
        assert!(p.tiny.iter().all(|&t| t == 15));
        let mut short = [0u8; 899];
        assert_eq!(
            p.emit(&mut short),
            Err(Error::ShortBuffer {
                need: 900,
                have: 899
            })
        );
    }

    #[test]
    fn detail_from_columns() {
        let cols = vec![
            WaveColumn {
                height: 31,
                whiteness: 7,
            },
            WaveColumn {
                height: 1,
                whiteness: 0,
            },
        ];
        let d = WaveformDetail::from_columns(cols.clone());
        let b = d.to_bytes();
        assert_eq!(&b[20..], &[0xff, 0x01]);
        assert_eq!(WaveformDetail::parse(&b).unwrap().columns, cols);
        assert!(d.emit(&mut [0u8; 21]).is_err());
    }
}
