//! The audio file an emulated unit serves for a demo track: one second of silence as MPEG-1
//! Layer III, so a client that downloads "the track" gets a file that decoders accept, without
//! the emulator holding megabytes per track. What the track is (title, artist, length, tempo)
//! lives in the Engine database, where Engine keeps it; `Track.fileBytes` there is this file's
//! size.
//!
//! Frame layout (ISO/IEC 11172-3 2.4.1.3, header; 2.4.1.7, side information): a 4-byte
//! header, 17 bytes of mono side information, main data. All-zero side information means
//! `part2_3_length` 0 and `global_gain` 0 for every granule: no Huffman data, silence.

/// `FF FB`: sync, MPEG-1, Layer III, no CRC; `90`: 128 kbps, 44.1 kHz, no padding;
/// `C0`: mono, no emphasis.
const HEADER: [u8; 4] = [0xff, 0xfb, 0x90, 0xc0];
/// 144 * 128 000 / 44 100, rounded down (no padding bit).
pub const FRAME_LEN: usize = 417;
/// 44 100 / 1152 frames a second, rounded up: one second of audio.
pub const FRAMES: usize = 39;

/// The file: the same bytes for every track (the content says nothing of the track).
pub fn silent_mp3() -> Vec<u8> {
    let mut frame = vec![0u8; FRAME_LEN];
    frame[..4].copy_from_slice(&HEADER);
    frame.repeat(FRAMES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_each_other_at_the_header_length() {
        let f = silent_mp3();
        assert_eq!(f.len(), FRAME_LEN * FRAMES);
        for frame in f.chunks(FRAME_LEN) {
            assert_eq!(frame[..4], HEADER);
            assert!(frame[4..].iter().all(|&b| b == 0));
        }
        // Bitrate index 9 (128 kbps), sample-rate index 0 (44.1 kHz), mono: the frame length
        // the header implies is the one used.
        assert_eq!(HEADER[2] >> 4, 9);
        assert_eq!((HEADER[2] >> 2) & 3, 0);
        assert_eq!(HEADER[3] >> 6, 3);
        assert_eq!(144 * 128_000 / 44_100, FRAME_LEN);
    }
}
