//! Waveforms of the demo tracks, derived from the track so that they look like music and line
//! up with its beat grid: a kick on every beat, an arrangement of intro, main part, breakdown,
//! second main part and outro, and a little deterministic texture from the track id.
//!
//! The columns are what the blue (nexus-era) waveforms hold: a height 0-31 and a "whiteness"
//! 0-7 (`prodjlink.md` 7.3: preview `4402` is 400 columns of height and whiteness, detail
//! `4a02` is 150 columns a second of 3-bit colour and 5-bit height). How they are packed into
//! bytes is the dbserver blob's business (`dbserver::blobs`).

use super::Track;

pub use crate::dbserver::blobs::waveform::PREVIEW_COLUMNS;
/// Columns per second of a detail waveform (half frames, `prodjlink.md` 7.3 `4a02`).
pub const DETAIL_PER_SECOND: u32 = crate::dbserver::blobs::WaveformDetail::PER_SECOND;

/// One column of a blue waveform: the type the dbserver blobs carry.
pub use crate::dbserver::blobs::WaveColumn;

/// A small hash (splitmix64's finaliser) for texture: the same track gives the same noise.
fn noise(track_id: u32, i: u64) -> f64 {
    let mut z = (track_id as u64) << 40 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Loudness of the arrangement at fraction `f` (0-1) of the track.
fn arrangement(f: f64) -> f64 {
    match f {
        f if f < 0.10 => 0.45,               // intro: drums only
        f if f < 0.45 => 0.90,               // first main part
        f if f < 0.55 => 0.35,               // breakdown
        f if f < 0.88 => 1.00,               // second main part
        f => 0.90 - (f - 0.88) / 0.12 * 0.6, // outro fading to 0.3
    }
}

/// Amplitude (0-1) and brightness (0-1) at `ms` into the track.
fn sample(t: &Track, ms: f64, i: u64) -> (f64, f64) {
    let dur = t.duration_ms().max(1) as f64;
    if ms < 0.0 || ms >= dur {
        return (0.0, 0.0);
    }
    let level = arrangement(ms / dur);
    // Distance into the current beat, 0-1; kicks decay over the first quarter of a beat.
    let kick = if ms < t.first_beat_ms as f64 {
        0.0
    } else {
        let phase = ((ms - t.first_beat_ms as f64) / t.beat_ms()).fract();
        (1.0 - phase * 4.0).max(0.0)
    };
    let grain = noise(t.id, i);
    let amp = (level * (0.55 + 0.45 * kick) + 0.08 * grain).min(1.0);
    let bright = (0.25 + 0.5 * (1.0 - kick) * level + 0.25 * grain).min(1.0);
    (amp, bright)
}

fn column(amp: f64, bright: f64) -> WaveColumn {
    WaveColumn {
        height: (amp * 31.0).round().clamp(0.0, 31.0) as u8,
        whiteness: (bright * 7.0).round().clamp(0.0, 7.0) as u8,
    }
}

/// [`PREVIEW_COLUMNS`] columns, each the loudest of a few samples across its span.
pub fn preview(t: &Track) -> Vec<WaveColumn> {
    let span = t.duration_ms() as f64 / PREVIEW_COLUMNS as f64;
    (0..PREVIEW_COLUMNS)
        .map(|c| {
            let (mut amp, mut bright) = (0.0f64, 0.0f64);
            for s in 0..8u64 {
                let ms = (c as f64 + s as f64 / 8.0) * span;
                let (a, b) = sample(t, ms, c as u64 * 8 + s);
                amp = amp.max(a);
                bright += b / 8.0;
            }
            column(amp, bright)
        })
        .collect()
}

/// [`DETAIL_PER_SECOND`] columns for every second of the track.
pub fn detail(t: &Track) -> Vec<WaveColumn> {
    let n = (t.duration_s * DETAIL_PER_SECOND) as usize;
    let step = 1000.0 / DETAIL_PER_SECOND as f64;
    (0..n)
        .map(|i| {
            let (a, b) = sample(t, i as f64 * step, 1 << 32 | i as u64);
            column(a, b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::library::Library;

    #[test]
    fn sizes_and_ranges() {
        let lib = Library::demo();
        let t = lib.track(1).unwrap();
        let p = t.waveform_preview();
        assert_eq!(p.len(), PREVIEW_COLUMNS);
        let d = t.waveform_detail();
        assert_eq!(d.len(), 245 * 150);
        assert!(p
            .iter()
            .chain(d)
            .all(|c| c.height <= 31 && c.whiteness <= 7));
        assert_eq!(p, t.waveform_preview(), "deterministic");
        assert_ne!(p, lib.track(2).unwrap().waveform_preview());
        // The cache is kept (same slice) and does not make a library unequal to a fresh one.
        assert!(std::ptr::eq(d, t.waveform_detail()));
        assert_eq!(lib, Library::demo());
    }

    #[test]
    fn kicks_land_on_the_beat_grid() {
        let lib = Library::demo();
        let t = lib.track(3).unwrap();
        let d = t.waveform_detail();
        // In the first main part, the column at a beat is taller than the one half a beat on.
        let beat = t.beat_grid().nth(200).unwrap();
        let at = |ms: f64| d[(ms * 150.0 / 1000.0) as usize].height;
        let on = at(beat.time_ms as f64 + 3.0);
        let off = at(beat.time_ms as f64 + t.beat_ms() / 2.0);
        assert!(on > off + 5, "on-beat {on} vs off-beat {off}");
        // The breakdown is quieter than the main part in the preview.
        let p = t.waveform_preview();
        let avg = |r: std::ops::Range<usize>| {
            p[r.clone()].iter().map(|c| c.height as u32).sum::<u32>() / r.len() as u32
        };
        assert!(avg(200..216) < avg(100..116));
    }
}
