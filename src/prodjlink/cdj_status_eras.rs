//! CDJ status constructors per era, built from the documented values (`prodjlink.md` 4.2, 9.3,
//! 15): [`CdjStatus::new`] for any length, [`CdjStatus::cdj3000x`] for the CDJ-3000X's 0x480-byte
//! form. The layout itself is in `cdj_status.rs`.

use super::cdj_status::{field, flag, CdjStatus, WaveformSettings};
use super::header::StatusHeader;

impl CdjStatus {
    /// A plausible status of `len` bytes (at least 0xd0) for player `device`, built from the
    /// documented values: no track loaded, stopped, pitch 0%, on-air off, media slots empty,
    /// bytes 68/75/b6 set as a virtual CDJ needs them (4.2, 9.3), settings blocks where the
    /// length has room for them. Every other byte is zero.
    pub fn new(name: &str, device: u8, len: usize) -> Self {
        let len = len.max(field::MIN_LEN);
        let mut b = vec![0u8; len];
        // The 0xd0/0xd4 samples carry subtype 03, the 0x11c ones 04 (CAP, 15); 0x200 is unknown.
        let subtype = if len <= 0xd4 { 3 } else { 4 };
        StatusHeader::with_len_r(name, subtype, device, len).emit(Self::KIND, &mut b);
        // Byte 0x26 is `01` in every sample (15).
        b[0x26] = 1;
        b[0x8a] = 0xff;
        let mut s = match CdjStatus::parse(&b) {
            Ok(s) => s,
            Err(_) => unreachable!("template is at least MIN_LEN bytes"),
        };
        s.device_copy = device;
        s.flag_68 = 1;
        s.usb_activity = 4;
        s.sd_activity = 4;
        s.usb_state = 4;
        s.sd_state = 4;
        s.link_media = 1;
        s.firmware = *b"1.00";
        s.flags = flag::ALWAYS;
        s.play_state_2 = 0x7e;
        s.pitch = 0x100000;
        s.bpm_validity = 0x7fff;
        s.bpm = 0xffff;
        s.slip_bpm_validity = 0x7fff;
        s.slip_bpm = 0xffff;
        s.fader_pitch = 0x100000;
        s.master_handoff = 0xff;
        s.beat = 0xffff_ffff;
        s.cue_countdown = 0x01ff;
        s.flag_b6 = 1;
        s.pitch_3 = 0x100000;
        s.pitch_4 = 0x100000;
        s.generation = if len >= 0x200 { 0x1f } else { 0x0f };
        let default_waveform = WaveformSettings {
            color: 1,
            position: 1,
        };
        s.waveform_1 = (len >= 0xf0).then_some(default_waveform);
        s.waveform_2 = (len >= 0x110).then_some(default_waveform);
        if len >= 0x160 {
            // 0x15f follows the key and is `01` (4.2).
            s.image[0x15f] = 1;
        }
        // Bring the image in line with the fields, so that parsing the emitted bytes gives `s`.
        s.image = s.to_bytes();
        s
    }

    /// A CDJ-3000X (firmware 1.31) status as libdjlink measured it (key2/libdjlink
    /// ARCHITECTURE.md 1.4.1): 0x480 bytes (len_r 0x45c), subtype `08`, no settings blocks,
    /// generation `1f`, firmware `1.31`. Bytes 0x200-0x47f are not described anywhere: zero.
    pub fn cdj3000x(device: u8) -> Self {
        let mut s = Self::new("CDJ-3000X", device, 0x480);
        s.header.subtype = 8;
        s.firmware = *b"1.31";
        s.waveform_1 = None;
        s.waveform_2 = None;
        for r in [
            field::SETTINGS_MARKER_1,
            field::WAVEFORM_COLOR_1,
            field::WAVEFORM_POSITION_1,
            field::SETTINGS_MARKER_2,
            field::WAVEFORM_COLOR_2,
            field::WAVEFORM_POSITION_2,
        ] {
            s.image[r].fill(0);
        }
        s.image = s.to_bytes();
        s
    }
}
