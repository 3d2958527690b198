//! CDJ status 0x0a on port 50002 (`prodjlink.md` 4.2): every known length (0xd0 pre-nexus,
//! 0xd4 nexus, 0x11b XDJ-1000, 0x11c, 0x124, 0x200 CDJ-3000, 0x480 CDJ-3000X with subtype `08`
//! and no settings blocks per key2/libdjlink ARCHITECTURE.md 1.4.1, and anything longer).
//!
//! The packet has dozens of undescribed gaps, so the Repr keeps the whole packet image in
//! [`CdjStatus::image`]: it fixes the length and supplies every byte no typed field covers, and
//! `emit` writes the typed fields over it. Fields past 0xd0 are `Option`s, present when the
//! packet is long enough. The constructors per era (`cdj_status_eras.rs`) build plausible
//! images from the documented values (4.2, 9.3, 15). The dissector and the value names are in
//! `cdj_status_dissect.rs`.

use super::header::{
    get_arr, get_u16, get_u32, get_u64, get_u8, need, pitch_percent, pitch_raw, set_bytes, set_u16,
    set_u32, set_u64, set_u8, StatusHeader,
};
use super::Error;

/// Absolute offsets (`prodjlink.md` 4.2). The names are the JSON field names.
pub(crate) mod field {
    use std::ops::Range;

    pub const DEVICE_COPY: Range<usize> = 0x24..0x25;
    pub const ACTIVITY: Range<usize> = 0x27..0x28;
    pub const TRACK_DEVICE: Range<usize> = 0x28..0x29;
    pub const TRACK_SLOT: Range<usize> = 0x29..0x2a;
    pub const TRACK_TYPE: Range<usize> = 0x2a..0x2b;
    pub const REKORDBOX_ID: Range<usize> = 0x2c..0x30;
    pub const TRACK_NUMBER: Range<usize> = 0x32..0x34;
    pub const SORT_ORDER: Range<usize> = 0x35..0x36;
    pub const TRACK_MENU: Range<usize> = 0x37..0x38;
    pub const CATEGORY_1: Range<usize> = 0x38..0x3c;
    pub const CATEGORY_2: Range<usize> = 0x3c..0x40;
    pub const LIST_COUNT: Range<usize> = 0x46..0x48;
    pub const LOAD_MARKER: Range<usize> = 0x58..0x59;
    pub const CUE_CHANGE: Range<usize> = 0x5a..0x5c;
    pub const TAG_CHANGE: Range<usize> = 0x5e..0x60;
    pub const LOAD_DONE: Range<usize> = 0x66..0x68;
    /// Must be 1 in a virtual CDJ's status (4.2, 9.3).
    pub const FLAG_68: Range<usize> = 0x68..0x69;
    pub const USB_ACTIVITY: Range<usize> = 0x6a..0x6b;
    pub const SD_ACTIVITY: Range<usize> = 0x6b..0x6c;
    pub const USB_STATE: Range<usize> = 0x6f..0x70;
    pub const SD_STATE: Range<usize> = 0x73..0x74;
    pub const LINK_MEDIA: Range<usize> = 0x75..0x76;
    pub const PLAY_STATE: Range<usize> = 0x7b..0x7c;
    pub const FIRMWARE: Range<usize> = 0x7c..0x80;
    pub const SYNC_COUNTER: Range<usize> = 0x84..0x88;
    pub const FLAGS: Range<usize> = 0x89..0x8a;
    pub const PLAY_STATE_2: Range<usize> = 0x8b..0x8c;
    pub const PITCH: Range<usize> = 0x8c..0x90;
    pub const BPM_VALIDITY: Range<usize> = 0x90..0x92;
    pub const BPM: Range<usize> = 0x92..0x94;
    pub const SLIP_BPM_VALIDITY: Range<usize> = 0x94..0x96;
    pub const SLIP_BPM: Range<usize> = 0x96..0x98;
    pub const FADER_PITCH: Range<usize> = 0x98..0x9c;
    pub const PLAY_STATE_3: Range<usize> = 0x9d..0x9e;
    pub const MASTER_MODE: Range<usize> = 0x9e..0x9f;
    pub const MASTER_HANDOFF: Range<usize> = 0x9f..0xa0;
    pub const BEAT: Range<usize> = 0xa0..0xa4;
    pub const CUE_COUNTDOWN: Range<usize> = 0xa4..0xa6;
    pub const BEAT_IN_BAR: Range<usize> = 0xa6..0xa7;
    pub const GRID_CHANGED: Range<usize> = 0xb3..0xb4;
    /// Must be 1 or CDJs claim "older firmware" (4.2).
    pub const FLAG_B6: Range<usize> = 0xb6..0xb7;
    pub const MEDIA_PRESENCE: Range<usize> = 0xb7..0xb8;
    pub const USB_UNSAFE_EJECT: Range<usize> = 0xb8..0xb9;
    pub const SD_UNSAFE_EJECT: Range<usize> = 0xb9..0xba;
    pub const EMERGENCY_LOOP: Range<usize> = 0xba..0xbb;
    pub const PITCH_3: Range<usize> = 0xc0..0xc4;
    pub const PITCH_4: Range<usize> = 0xc4..0xc8;
    pub const PACKET_COUNTER: Range<usize> = 0xc8..0xcc;
    pub const GENERATION: Range<usize> = 0xcc..0xcd;
    pub const CAPABILITIES: Range<usize> = 0xcd..0xce;
    /// The shortest known status (pre-nexus) ends here.
    pub const MIN_LEN: usize = 0xd0;

    // Present only in longer packets. Settings blocks start with a marker (4.2, CAP: S16a has
    // them at 0xd0 and 0xf0); dysentery's diagram and WSD agree on 0xf0 for the second one.
    pub const SETTINGS_MARKER_1: Range<usize> = 0xd0..0xd8;
    pub const WAVEFORM_COLOR_1: Range<usize> = 0xda..0xdb;
    pub const WAVEFORM_POSITION_1: Range<usize> = 0xdd..0xde;
    pub const SETTINGS_MARKER_2: Range<usize> = 0xf0..0xf8;
    pub const WAVEFORM_COLOR_2: Range<usize> = 0xfa..0xfb;
    pub const WAVEFORM_POSITION_2: Range<usize> = 0xfd..0xfe;
    pub const EDIT_MENU: Range<usize> = 0x110..0x113;
    pub const PLAY_STATE_4: Range<usize> = 0x113..0x114;
    pub const BAR_TIME_STEPS: Range<usize> = 0x116..0x118;
    pub const BAR_POSITION: Range<usize> = 0x11a..0x11c;
    pub const NEXT_MEMORY_POINT: Range<usize> = 0x11c..0x11d;
    pub const BUFFERED_AHEAD: Range<usize> = 0x11d..0x11e;
    pub const BUFFERED_BEHIND: Range<usize> = 0x11e..0x11f;
    pub const BUFFER_STATE: Range<usize> = 0x11f..0x120;
    pub const NEEDLE_POSITION: Range<usize> = 0x120..0x124;
    pub const MASTER_TEMPO: Range<usize> = 0x158..0x159;
    pub const KEY_NOTE: Range<usize> = 0x15c..0x15d;
    pub const KEY_MODE: Range<usize> = 0x15d..0x15e;
    pub const KEY_ACCIDENTAL: Range<usize> = 0x15e..0x15f;
    pub const KEY_SHIFT: Range<usize> = 0x164..0x16c;
    pub const LOOP_START: Range<usize> = 0x1b6..0x1ba;
    pub const LOOP_END: Range<usize> = 0x1be..0x1c2;
    pub const LOOP_BEATS: Range<usize> = 0x1c8..0x1ca;
}

/// Each settings block starts with these bytes (4.2).
pub const SETTINGS_MARKER: [u8; 8] = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1];

/// Bits of the F byte 0x89 (4.2).
pub mod flag {
    pub const PLAYING: u8 = 0x40;
    pub const MASTER: u8 = 0x20;
    pub const SYNC: u8 = 0x10;
    pub const ON_AIR: u8 = 0x08;
    pub const BPM_SYNC: u8 = 0x02;
    /// `80` and `04` are always set from nexus on (UE).
    pub const ALWAYS: u8 = 0x84;
}

/// Whether a deck is playing, from the flag byte F (0x89) and the play state P1 (0x7b)
/// together (`prodjlink.md` 4.2; issue 11).
///
/// F's playing bit alone is wrong on some models: pre-nexus players send F = `00`, the
/// OPUS-QUAD sometimes sends F = `00` or clears the bit while it plays (BL
/// `CdjStatus.isPlaying`, which trusts F only from 0xd4 bytes on, and `PlayState2.OPUS_MOVING`:
/// "the main status flag lies about that fact"; BL `VirtualRekordbox.buildUpdate`). P1 names
/// the state itself, so:
/// * P1 `03` playing, `04` looping, `12` emergency loop: playing, whatever the bit says;
/// * P1 `00` no track, `02` loading, `05` paused, `06` cued, `0e` spun down, `11` ended:
///   not playing, whatever the bit says (nothing can move);
/// * any other P1 (`07` cue play and `08` cue scratch while the cue button is held, `09`
///   searching, codes nobody described): the bit decides.
pub fn playing(flags: u8, play_state: u8) -> bool {
    match play_state {
        0x03 | 0x04 | 0x12 => true,
        0x00 | 0x02 | 0x05 | 0x06 | 0x0e | 0x11 => false,
        _ => flags & flag::PLAYING != 0,
    }
}

/// Waveform settings of one settings block (block offsets 0a and 0d, 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaveformSettings {
    /// `01` blue, `03` RGB, `04` 3-band.
    pub color: u8,
    /// `01` centre, `02` left.
    pub position: u8,
}

/// CDJ-3000 key (0x15c-0x15e): note 0-11, mode `00` minor / `01` major, accidental.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub note: u8,
    pub mode: u8,
    /// `00` natural, `01` sharp, `ff` flat.
    pub accidental: u8,
}

/// CDJ status. Integer fields hold the wire values; see the methods for BPM, pitch and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdjStatus {
    pub header: StatusHeader,
    /// D again at 0x24.
    pub device_copy: u8,
    /// A: `00` idle, `01` playing/searching/loading.
    pub activity: u8,
    /// Dr: player the track came from (`00` nothing loaded).
    pub track_device: u8,
    /// Sr, see [`slot_name`].
    pub track_slot: u8,
    /// Tr, see [`track_type_name`].
    pub track_type: u8,
    pub rekordbox_id: u32,
    /// Position in the list the track was loaded from.
    pub track_number: u16,
    /// t_srt: browse sort when loaded.
    pub sort_order: u8,
    /// t_src: menu the track was loaded from.
    pub track_menu: u8,
    pub category_1: u32,
    pub category_2: u32,
    /// d_n: item count of the list on the sender's screen.
    pub list_count: u16,
    /// ld1: `80` for one packet when a new song loads.
    pub load_marker: u8,
    /// u_c1: `ffff` for one packet when a cue is added/removed.
    pub cue_change: u16,
    /// u_t: `00ff` -> `ff00` -> `0000` when a track is tagged.
    pub tag_change: u16,
    /// ld2: `ffff` for one packet when loading completes.
    pub load_done: u16,
    pub flag_68: u8,
    pub usb_activity: u8,
    pub sd_activity: u8,
    /// U_l: `00` mounted, `02`/`03` unmounting, `04` empty.
    pub usb_state: u8,
    pub sd_state: u8,
    /// L: `01` when any player on the network has media.
    pub link_media: u8,
    /// P1, see [`play_state_name`].
    pub play_state: u8,
    /// ASCII, e.g. `1.44`.
    pub firmware: [u8; 4],
    /// Sync_n: bumped to max+1 whenever the player gives up master.
    pub sync_counter: u32,
    /// F, see [`flag`].
    pub flags: u8,
    /// P2 play-state bitfield.
    pub play_state_2: u8,
    /// Pitch1: effective pitch, 0x100000 = 0%.
    pub pitch: u32,
    /// M_v: `8000` rekordbox track, `0000` other, `7fff` nothing.
    pub bpm_validity: u16,
    /// Track BPM x 100, `ffff` none.
    pub bpm: u16,
    pub slip_bpm_validity: u16,
    pub slip_bpm: u16,
    /// Pitch2: pitch-fader position.
    pub fader_pitch: u32,
    /// P3: `00` none, `01` paused/reverse, `09` vinyl, `0b` slipping, `0d` CDJ mode.
    pub play_state_3: u8,
    /// M_m: `00` not master, `01` master, `02` master with a non-rekordbox track.
    pub master_mode: u8,
    /// M_h: `ff`, or D of the device being handed the master role.
    pub master_handoff: u8,
    /// Beat number in the track, `ffffffff` none.
    pub beat: u32,
    /// Beats to the next memory cue, `01ff` none.
    pub cue_countdown: u16,
    /// B_b: 1-4, 0 without analysis.
    pub beat_in_bar: u8,
    pub grid_changed: u8,
    pub flag_b6: u8,
    /// M_p: CDJ-3000 local media bitmask, bit1 USB, bit0 SD.
    pub media_presence: u8,
    pub usb_unsafe_eject: u8,
    pub sd_unsafe_eject: u8,
    pub emergency_loop: u8,
    pub pitch_3: u32,
    pub pitch_4: u32,
    /// Fixed 0 on CDJ-3000.
    pub packet_counter: u32,
    /// nx: `05` pre-nexus, `0f` nexus, `1f` XDJ-XZ/AZ/CDJ-3000.
    pub generation: u8,
    /// t: bit5 = supports Touch Audio.
    pub capabilities: u8,
    pub waveform_1: Option<WaveformSettings>,
    pub waveform_2: Option<WaveformSettings>,
    pub edit_menu: Option<[u8; 3]>,
    pub play_state_4: Option<u8>,
    pub bar_time_steps: Option<u16>,
    pub bar_position: Option<u16>,
    pub next_memory_point: Option<u8>,
    pub buffered_ahead: Option<u8>,
    pub buffered_behind: Option<u8>,
    pub buffer_state: Option<u8>,
    pub needle_position: Option<u32>,
    pub master_tempo: Option<u8>,
    pub key: Option<Key>,
    /// Signed cents, +-100 per semitone.
    pub key_shift: Option<i64>,
    /// Loop bounds on the 65536/1000 ms scale (see [`CdjStatus::loop_ms`]).
    pub loop_start: Option<u32>,
    pub loop_end: Option<u32>,
    pub loop_beats: Option<u16>,
    /// The whole packet as sent: its length is the packet length, and it supplies every byte no
    /// field above covers. `emit` writes the fields over it.
    pub image: Vec<u8>,
}

/// Reads an optional field when the packet is long enough.
fn opt<T>(
    b: &[u8],
    r: std::ops::Range<usize>,
    read: fn(&[u8], std::ops::Range<usize>) -> T,
) -> Option<T> {
    (r.end <= b.len()).then(|| read(b, r))
}

fn waveform(
    b: &[u8],
    marker: std::ops::Range<usize>,
    color: std::ops::Range<usize>,
    position: std::ops::Range<usize>,
) -> Option<WaveformSettings> {
    let present = b.get(marker) == Some(&SETTINGS_MARKER[..]) && position.end <= b.len();
    present.then(|| WaveformSettings {
        color: get_u8(b, color),
        position: get_u8(b, position),
    })
}

impl CdjStatus {
    pub const KIND: u8 = 0x0a;

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::*;
        need("cdj_status", b, MIN_LEN)?;
        let key = (KEY_ACCIDENTAL.end <= b.len()).then(|| Key {
            note: get_u8(b, KEY_NOTE),
            mode: get_u8(b, KEY_MODE),
            accidental: get_u8(b, KEY_ACCIDENTAL),
        });
        Ok(CdjStatus {
            header: StatusHeader::parse(b),
            device_copy: get_u8(b, DEVICE_COPY),
            activity: get_u8(b, ACTIVITY),
            track_device: get_u8(b, TRACK_DEVICE),
            track_slot: get_u8(b, TRACK_SLOT),
            track_type: get_u8(b, TRACK_TYPE),
            rekordbox_id: get_u32(b, REKORDBOX_ID),
            track_number: get_u16(b, TRACK_NUMBER),
            sort_order: get_u8(b, SORT_ORDER),
            track_menu: get_u8(b, TRACK_MENU),
            category_1: get_u32(b, CATEGORY_1),
            category_2: get_u32(b, CATEGORY_2),
            list_count: get_u16(b, LIST_COUNT),
            load_marker: get_u8(b, LOAD_MARKER),
            cue_change: get_u16(b, CUE_CHANGE),
            tag_change: get_u16(b, TAG_CHANGE),
            load_done: get_u16(b, LOAD_DONE),
            flag_68: get_u8(b, FLAG_68),
            usb_activity: get_u8(b, USB_ACTIVITY),
            sd_activity: get_u8(b, SD_ACTIVITY),
            usb_state: get_u8(b, USB_STATE),
            sd_state: get_u8(b, SD_STATE),
            link_media: get_u8(b, LINK_MEDIA),
            play_state: get_u8(b, PLAY_STATE),
            firmware: get_arr(b, FIRMWARE),
            sync_counter: get_u32(b, SYNC_COUNTER),
            flags: get_u8(b, FLAGS),
            play_state_2: get_u8(b, PLAY_STATE_2),
            pitch: get_u32(b, PITCH),
            bpm_validity: get_u16(b, BPM_VALIDITY),
            bpm: get_u16(b, BPM),
            slip_bpm_validity: get_u16(b, SLIP_BPM_VALIDITY),
            slip_bpm: get_u16(b, SLIP_BPM),
            fader_pitch: get_u32(b, FADER_PITCH),
            play_state_3: get_u8(b, PLAY_STATE_3),
            master_mode: get_u8(b, MASTER_MODE),
            master_handoff: get_u8(b, MASTER_HANDOFF),
            beat: get_u32(b, BEAT),
            cue_countdown: get_u16(b, CUE_COUNTDOWN),
            beat_in_bar: get_u8(b, BEAT_IN_BAR),
            grid_changed: get_u8(b, GRID_CHANGED),
            flag_b6: get_u8(b, FLAG_B6),
            media_presence: get_u8(b, MEDIA_PRESENCE),
            usb_unsafe_eject: get_u8(b, USB_UNSAFE_EJECT),
            sd_unsafe_eject: get_u8(b, SD_UNSAFE_EJECT),
            emergency_loop: get_u8(b, EMERGENCY_LOOP),
            pitch_3: get_u32(b, PITCH_3),
            pitch_4: get_u32(b, PITCH_4),
            packet_counter: get_u32(b, PACKET_COUNTER),
            generation: get_u8(b, GENERATION),
            capabilities: get_u8(b, CAPABILITIES),
            waveform_1: waveform(b, SETTINGS_MARKER_1, WAVEFORM_COLOR_1, WAVEFORM_POSITION_1),
            waveform_2: waveform(b, SETTINGS_MARKER_2, WAVEFORM_COLOR_2, WAVEFORM_POSITION_2),
            edit_menu: opt(b, EDIT_MENU, get_arr),
            play_state_4: opt(b, PLAY_STATE_4, get_u8),
            bar_time_steps: opt(b, BAR_TIME_STEPS, get_u16),
            bar_position: opt(b, BAR_POSITION, get_u16),
            next_memory_point: opt(b, NEXT_MEMORY_POINT, get_u8),
            buffered_ahead: opt(b, BUFFERED_AHEAD, get_u8),
            buffered_behind: opt(b, BUFFERED_BEHIND, get_u8),
            buffer_state: opt(b, BUFFER_STATE, get_u8),
            needle_position: opt(b, NEEDLE_POSITION, get_u32),
            master_tempo: opt(b, MASTER_TEMPO, get_u8),
            key,
            key_shift: opt(b, KEY_SHIFT, get_u64).map(|v| v as i64),
            loop_start: opt(b, LOOP_START, get_u32),
            loop_end: opt(b, LOOP_END, get_u32),
            loop_beats: opt(b, LOOP_BEATS, get_u16),
            image: b.to_vec(),
        })
    }

    /// The image's length, or the shortest known layout if the image is shorter.
    pub fn buffer_len(&self) -> usize {
        self.image.len().max(field::MIN_LEN)
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::*;
        let len = self.buffer_len();
        let buf = &mut buf[..len];
        buf.fill(0);
        buf[..self.image.len()].copy_from_slice(&self.image);
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE_COPY, self.device_copy);
        set_u8(buf, ACTIVITY, self.activity);
        set_u8(buf, TRACK_DEVICE, self.track_device);
        set_u8(buf, TRACK_SLOT, self.track_slot);
        set_u8(buf, TRACK_TYPE, self.track_type);
        set_u32(buf, REKORDBOX_ID, self.rekordbox_id);
        set_u16(buf, TRACK_NUMBER, self.track_number);
        set_u8(buf, SORT_ORDER, self.sort_order);
        set_u8(buf, TRACK_MENU, self.track_menu);
        set_u32(buf, CATEGORY_1, self.category_1);
        set_u32(buf, CATEGORY_2, self.category_2);
        set_u16(buf, LIST_COUNT, self.list_count);
        set_u8(buf, LOAD_MARKER, self.load_marker);
        set_u16(buf, CUE_CHANGE, self.cue_change);
        set_u16(buf, TAG_CHANGE, self.tag_change);
        set_u16(buf, LOAD_DONE, self.load_done);
        set_u8(buf, FLAG_68, self.flag_68);
        set_u8(buf, USB_ACTIVITY, self.usb_activity);
        set_u8(buf, SD_ACTIVITY, self.sd_activity);
        set_u8(buf, USB_STATE, self.usb_state);
        set_u8(buf, SD_STATE, self.sd_state);
        set_u8(buf, LINK_MEDIA, self.link_media);
        set_u8(buf, PLAY_STATE, self.play_state);
        set_bytes(buf, FIRMWARE, &self.firmware);
        set_u32(buf, SYNC_COUNTER, self.sync_counter);
        set_u8(buf, FLAGS, self.flags);
        set_u8(buf, PLAY_STATE_2, self.play_state_2);
        set_u32(buf, PITCH, self.pitch);
        set_u16(buf, BPM_VALIDITY, self.bpm_validity);
        set_u16(buf, BPM, self.bpm);
        set_u16(buf, SLIP_BPM_VALIDITY, self.slip_bpm_validity);
        set_u16(buf, SLIP_BPM, self.slip_bpm);
        set_u32(buf, FADER_PITCH, self.fader_pitch);
        set_u8(buf, PLAY_STATE_3, self.play_state_3);
        set_u8(buf, MASTER_MODE, self.master_mode);
        set_u8(buf, MASTER_HANDOFF, self.master_handoff);
        set_u32(buf, BEAT, self.beat);
        set_u16(buf, CUE_COUNTDOWN, self.cue_countdown);
        set_u8(buf, BEAT_IN_BAR, self.beat_in_bar);
        set_u8(buf, GRID_CHANGED, self.grid_changed);
        set_u8(buf, FLAG_B6, self.flag_b6);
        set_u8(buf, MEDIA_PRESENCE, self.media_presence);
        set_u8(buf, USB_UNSAFE_EJECT, self.usb_unsafe_eject);
        set_u8(buf, SD_UNSAFE_EJECT, self.sd_unsafe_eject);
        set_u8(buf, EMERGENCY_LOOP, self.emergency_loop);
        set_u32(buf, PITCH_3, self.pitch_3);
        set_u32(buf, PITCH_4, self.pitch_4);
        set_u32(buf, PACKET_COUNTER, self.packet_counter);
        set_u8(buf, GENERATION, self.generation);
        set_u8(buf, CAPABILITIES, self.capabilities);
        // Optional fields: written only where the image is long enough to hold them.
        let fits = |r: &std::ops::Range<usize>| r.end <= len;
        for (w, marker, color, position) in [
            (
                self.waveform_1,
                SETTINGS_MARKER_1,
                WAVEFORM_COLOR_1,
                WAVEFORM_POSITION_1,
            ),
            (
                self.waveform_2,
                SETTINGS_MARKER_2,
                WAVEFORM_COLOR_2,
                WAVEFORM_POSITION_2,
            ),
        ] {
            if let Some(w) = w.filter(|_| fits(&position)) {
                set_bytes(buf, marker, &SETTINGS_MARKER);
                set_u8(buf, color, w.color);
                set_u8(buf, position, w.position);
            }
        }
        macro_rules! put {
            ($value:expr, $range:expr, $set:ident) => {
                if let Some(v) = $value.filter(|_| fits(&$range)) {
                    $set(buf, $range, v);
                }
            };
        }
        if let Some(v) = self.edit_menu.filter(|_| fits(&EDIT_MENU)) {
            set_bytes(buf, EDIT_MENU, &v);
        }
        put!(self.play_state_4, PLAY_STATE_4, set_u8);
        put!(self.bar_time_steps, BAR_TIME_STEPS, set_u16);
        put!(self.bar_position, BAR_POSITION, set_u16);
        put!(self.next_memory_point, NEXT_MEMORY_POINT, set_u8);
        put!(self.buffered_ahead, BUFFERED_AHEAD, set_u8);
        put!(self.buffered_behind, BUFFERED_BEHIND, set_u8);
        put!(self.buffer_state, BUFFER_STATE, set_u8);
        put!(self.needle_position, NEEDLE_POSITION, set_u32);
        put!(self.master_tempo, MASTER_TEMPO, set_u8);
        if let Some(k) = self.key.filter(|_| fits(&KEY_ACCIDENTAL)) {
            set_u8(buf, KEY_NOTE, k.note);
            set_u8(buf, KEY_MODE, k.mode);
            set_u8(buf, KEY_ACCIDENTAL, k.accidental);
        }
        put!(self.key_shift.map(|v| v as u64), KEY_SHIFT, set_u64);
        put!(self.loop_start, LOOP_START, set_u32);
        put!(self.loop_end, LOOP_END, set_u32);
        put!(self.loop_beats, LOOP_BEATS, set_u16);
    }

    /// Track BPM, None when the player reports none (`ffff`).
    pub fn bpm(&self) -> Option<f64> {
        (self.bpm != 0xffff).then(|| self.bpm as f64 / 100.0)
    }

    /// Effective pitch (Pitch1) in percent.
    pub fn pitch_percent(&self) -> f64 {
        pitch_percent(self.pitch)
    }

    /// BPM x pitch: the tempo the player is actually playing at (4.2); None without a BPM or
    /// with a pitch no player sends (plausible.rs).
    pub fn effective_bpm(&self) -> Option<f64> {
        self.bpm()
            .filter(|_| super::plausible::pitch_raw(self.pitch))
            .map(|b| b * self.pitch as f64 / 1_048_576.0)
    }

    /// Whether the effective pitch is one a player can send (plausible.rs).
    pub fn pitch_is_plausible(&self) -> bool {
        super::plausible::pitch_raw(self.pitch)
    }

    /// Set BPM, effective pitch and pitch-fader pitch together.
    pub fn set_tempo(&mut self, bpm: Option<f64>, pitch_percent: f64) {
        self.bpm = bpm.map_or(0xffff, |b| (b * 100.0).round().clamp(0.0, 65534.0) as u16);
        let raw = pitch_raw(pitch_percent);
        self.pitch = raw;
        self.fader_pitch = raw;
        self.pitch_3 = raw;
        self.pitch_4 = raw;
    }

    /// Whether the deck is playing, by [`playing`] from F and P1 together.
    pub fn is_playing(&self) -> bool {
        playing(self.flags, self.play_state)
    }
    /// The raw playing bit of F (0x89), as sent.
    pub fn playing_flag(&self) -> bool {
        self.flags & flag::PLAYING != 0
    }
    pub fn is_master(&self) -> bool {
        self.flags & flag::MASTER != 0
    }
    pub fn is_synced(&self) -> bool {
        self.flags & flag::SYNC != 0
    }
    pub fn is_on_air(&self) -> bool {
        self.flags & flag::ON_AIR != 0
    }

    /// Set or clear one bit of the F byte.
    pub fn set_flag(&mut self, bit: u8, on: bool) {
        if on {
            self.flags |= bit;
        } else {
            self.flags &= !bit;
        }
    }

    /// Beat number, None when `ffffffff`.
    pub fn beat_number(&self) -> Option<u32> {
        (self.beat != 0xffff_ffff).then_some(self.beat)
    }

    /// P1 as the dissector names it (`playing`, `cued`...), None for codes 4.2 does not list.
    pub fn play_state_name(&self) -> Option<&'static str> {
        super::play_state_name(self.play_state)
    }

    /// Sr as the dissector names it (`usb`, `sd`, `rekordbox`...).
    pub fn slot_name(&self) -> Option<&'static str> {
        super::slot_name(self.track_slot)
    }

    /// Tr as the dissector names it (`rekordbox`, `unanalyzed`...).
    pub fn track_type_name(&self) -> Option<&'static str> {
        super::track_type_name(self.track_type)
    }

    /// The firmware version as text (`1.44`), as the dissector shows it.
    pub fn firmware_text(&self) -> String {
        crate::dissect::ascii_trim(&self.firmware)
    }

    /// Loop start and end in milliseconds (value x 65536 / 1000, 4.2).
    pub fn loop_ms(&self) -> Option<(f64, f64)> {
        let to_ms = |v: u32| v as f64 * 65536.0 / 1000.0;
        Some((to_ms(self.loop_start?), to_ms(self.loop_end?)))
    }

    /// OPUS-QUAD deck 1-4 for device numbers 9-12 (1.5); None for other models.
    /// The deck is read from the copy of D at 0x24, as Beat Link reads an OPUS-QUAD's status
    /// (BL `DeviceUpdate`: `packetBytes[0x24]` for status, 0x21 for precise position), and
    /// from D itself when the copy names no deck.
    pub fn deck(&self) -> Option<u8> {
        let name = self.header.name.text();
        super::header::opus_deck(Some(&name), self.device_copy)
            .or_else(|| super::header::opus_deck(Some(&name), self.header.device))
    }
}

#[cfg(test)]
#[path = "cdj_status_tests.rs"]
mod tests;
