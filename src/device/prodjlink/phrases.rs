//! PSSI phrase data for the OPUS-QUAD's 0x55/0x56 exchange (`prodjlink.md` 4.1 kind 55/56, 9.5):
//! the rekordbox song-structure tag a lighting client asks for, built from a track's beat grid.
//!
//! The reference names the tag and its chunked transport but not its layout; the layout below
//! is rekordbox's ANLZ `PSSI` tag as the public analysis of the export format describes it (a
//! 32-byte header, then 24-byte entries: index, first beat, phrase kind, ...). rekordbox 6
//! exports mask the entry bytes; a phrase source that is not an export has no reason to, so these
//! are plain. The phrases are made up: one every 16 bars, a "high" mood arc (intro, up, down,
//! chorus, ..., outro).

use super::track::TrackInfo;

/// Beats per phrase: 16 bars of 4/4.
const PHRASE_BEATS: u32 = 64;
const HEADER_LEN: u32 = 0x20;
const ENTRY_LEN: u32 = 0x18;
/// Mood `high` (1) and its phrase kinds: intro 1, up 2, down 3, chorus 5, outro 6.
const MOOD_HIGH: u16 = 1;
const INTRO: u16 = 1;
const UP: u16 = 2;
const DOWN: u16 = 3;
const CHORUS: u16 = 5;
const OUTRO: u16 = 6;

/// The PSSI tag of `track`: its beat count from duration and tempo, a phrase every 64 beats.
pub fn pssi(track: &TrackInfo) -> Vec<u8> {
    let beat_ms = track.beat_ms();
    let span_ms = (track.duration_s as f64 * 1000.0 - track.first_beat_ms as f64).max(0.0);
    let beats = ((span_ms / beat_ms) as u32).clamp(1, u16::MAX as u32);
    let phrases = beats.div_ceil(PHRASE_BEATS).clamp(1, 255);
    let len_tag = HEADER_LEN + phrases * ENTRY_LEN;
    let mut v = Vec::with_capacity(len_tag as usize);
    v.extend_from_slice(b"PSSI");
    v.extend_from_slice(&HEADER_LEN.to_be_bytes());
    v.extend_from_slice(&len_tag.to_be_bytes());
    v.extend_from_slice(&ENTRY_LEN.to_be_bytes());
    v.extend_from_slice(&(phrases as u16).to_be_bytes());
    v.extend_from_slice(&MOOD_HIGH.to_be_bytes());
    v.extend_from_slice(&[0; 6]);
    // End beat of the last phrase, then two unknown bytes, the bank and one unknown byte.
    v.extend_from_slice(&(beats.min(u16::MAX as u32) as u16).to_be_bytes());
    v.extend_from_slice(&[0; 4]);
    debug_assert_eq!(v.len() as u32, HEADER_LEN);
    for i in 0..phrases {
        let kind = match i {
            0 => INTRO,
            _ if i + 1 == phrases => OUTRO,
            _ => [UP, DOWN, CHORUS][(i as usize - 1) % 3],
        };
        let first_beat = (1 + i * PHRASE_BEATS).min(u16::MAX as u32) as u16;
        v.extend_from_slice(&(i as u16 + 1).to_be_bytes());
        v.extend_from_slice(&first_beat.to_be_bytes());
        v.extend_from_slice(&kind.to_be_bytes());
        // Variation, beat and fill fields: none.
        v.extend_from_slice(&[0; (ENTRY_LEN - 6) as usize]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::prodjlink::track::USB_SLOT;

    #[test]
    fn a_phrase_every_sixteen_bars() {
        let t = TrackInfo {
            rekordbox_id: 1,
            bpm_x100: 12000,
            duration_s: 300,
            first_beat_ms: 0,
            key: None,
            source_player: 0,
            slot: USB_SLOT,
            artwork: Vec::new().into(),
            phrases: Vec::new().into(),
        };
        let p = pssi(&t);
        // 600 beats at 120 BPM in 5 min: 10 phrases.
        assert_eq!(&p[..4], b"PSSI");
        assert_eq!(u16::from_be_bytes([p[16], p[17]]), 10);
        assert_eq!(p.len(), 0x20 + 10 * 0x18);
        assert_eq!(
            u32::from_be_bytes([p[8], p[9], p[10], p[11]]) as usize,
            p.len()
        );
        let entry = |i: usize| &p[0x20 + i * 0x18..];
        assert_eq!(&entry(0)[..6], &[0, 1, 0, 1, 0, INTRO as u8]);
        assert_eq!(&entry(9)[4..6], &[0, OUTRO as u8]);
        assert_eq!(u16::from_be_bytes([entry(1)[2], entry(1)[3]]), 65);
    }
}
