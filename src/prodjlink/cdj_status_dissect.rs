//! Field-by-field dissection of CDJ status 0x0a (`prodjlink.md` 4.2), with the same offsets as
//! the Repr in `cdj_status.rs`. Fields past 0xd0 are shown when the packet is long enough; the
//! settings blocks only when their marker is there. Everything else is marked unknown.

use crate::dissect::Value;

use super::cdj_status::{field::*, flag, SETTINGS_MARKER};
use super::header::{opus_deck, pitch_percent};
use super::plausible::{self, Flags};
use super::walker::{dissect_status, effective_bpm, Summary, Walker};

/// P1 play state names (4.2).
pub fn play_state_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x00 => "no_track",
        0x02 => "loading",
        0x03 => "playing",
        0x04 => "looping",
        0x05 => "paused",
        0x06 => "cued",
        0x07 => "cue_playing",
        0x08 => "cue_scratching",
        0x09 => "searching",
        0x0e => "spun_down",
        0x11 => "ended",
        0x12 => "emergency_loop",
        _ => return None,
    })
}

/// Models whose status carries the track's id in the Device Library Plus database
/// (`exportLibrary.db`) instead of `export.pdb`: the OPUS-QUAD (OQ README "how it works": "Track
/// IDs refer to the Device Library Plus database") and the XDJ-AZ (BL CHANGELOG 8.x: "The XDJ-AZ
/// always uses Device Library Plus IDs, so DeviceSQL downloads can't be used safely"). A
/// third-party note says the CDJ-3000X does the same; no primary source confirms it yet.
fn device_library_plus(name: Option<&str>) -> bool {
    matches!(name, Some("OPUS-QUAD" | "XDJ-AZ"))
}

/// Sr slot names (4.2; `05` is the DJM's own source per PDJL and the LinkInfo quirk, 4.1).
pub fn slot_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x00 => "none",
        0x01 => "cd",
        0x02 => "sd",
        0x03 => "usb",
        0x04 => "rekordbox",
        0x05 => "djm",
        0x06 => "streaming",
        0x07 => "usb2",
        0x09 => "beatport_link",
        _ => return None,
    })
}

/// Tr track type names (4.2).
pub fn track_type_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x00 => "none",
        0x01 => "rekordbox",
        0x02 => "unanalyzed",
        0x05 => "cd_audio",
        0x06 => "streaming",
        _ => return None,
    })
}

/// U_l / S_l media slot states (4.2).
pub fn media_state_name(v: u8) -> Option<&'static str> {
    Some(match v {
        0x00 => "mounted",
        0x02 => "unmounting",
        0x03 => "unmounted",
        0x04 => "empty",
        _ => return None,
    })
}

fn pitch_value(b: &[u8]) -> Value {
    Value::round(pitch_percent(be32(b)), 2)
}

fn be32(b: &[u8]) -> u32 {
    crate::dissect::be_uint(b) as u32
}

fn bpm_value(b: &[u8]) -> Value {
    match crate::dissect::be_uint(b) {
        0xffff => Value::Null,
        v => Value::round(v as f64 / 100.0, 2),
    }
}

fn activity_meaning(v: u64) -> Option<String> {
    Some(match v {
        0 => "idle".into(),
        1 => "playing, searching or loading".into(),
        _ => format!("{v:02x}: not described"),
    })
}

fn sort_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x00 => "default",
        0x01 => "title",
        0x02 => "artist",
        0x03 => "album",
        0x04 => "BPM",
        0x05 => "rating",
        0x0c => "key",
        _ => "not described",
    };
    Some(format!("{v:02x}: sorted by {s}"))
}

fn menu_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x02 => "artist",
        0x03 => "album",
        0x04 => "track",
        0x05 => "playlist",
        0x06 => "BPM",
        0x0c => "key",
        0x11 => "folder/CD",
        0x12 => "search song",
        0x16 => "history",
        0x1f => "search artist",
        0x20 => "search album",
        0x28 => "tag list",
        0x32 => "instant double/previous",
        _ => "not described",
    };
    Some(format!("{v:02x}: loaded from the {s} menu"))
}

fn flags_meaning(v: u64) -> Option<String> {
    let mut s = format!("{v:02x}:");
    for (bit, name) in [
        (flag::PLAYING, " playing"),
        (flag::MASTER, " master"),
        (flag::SYNC, " sync"),
        (flag::ON_AIR, " on-air"),
        (flag::BPM_SYNC, " bpm-sync"),
    ] {
        if v as u8 & bit != 0 {
            s.push_str(name);
        }
    }
    Some(s)
}

fn play_state_2_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x6a | 0x7a | 0xfa | 0x9a => "moving",
        0x6e | 0x7e | 0xfe | 0x9e => "stopped",
        _ => "not described",
    };
    Some(format!(
        "{v:02x}: {s} (6x pre-nexus, 7x nexus, fx nxs2, 9x XDJ-XZ)"
    ))
}

fn bpm_validity_meaning(v: u64) -> Option<String> {
    Some(match v {
        0x8000 => "8000: rekordbox track, tempo usable as master".into(),
        0x0000 => "0000: non-rekordbox track".into(),
        0x7fff => "7fff: nothing loaded".into(),
        _ => format!("{v:04x}: not described"),
    })
}

fn play_state_3_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x00 => "none",
        0x01 => "paused or reverse",
        0x09 => "forward, vinyl mode",
        0x0b => "slipping",
        0x0d => "forward, CDJ mode",
        _ => "not described",
    };
    Some(format!("{v:02x}: {s}"))
}

fn master_mode_meaning(v: u64) -> Option<String> {
    let s = match v {
        0 => "not master",
        1 => "master with usable tempo",
        2 => "master, non-rekordbox track",
        _ => "not described",
    };
    Some(format!("{v:02x}: {s}"))
}

fn handoff_meaning(v: u64) -> Option<String> {
    Some(if v == 0xff {
        "ff: no handoff".into()
    } else {
        format!("handing the master role to device {v}")
    })
}

fn cue_meaning(v: u64) -> Option<String> {
    Some(if v == 0x01ff {
        "01ff: no memory cue ahead".into()
    } else {
        format!("{v} beats to the next memory cue")
    })
}

fn generation_meaning(v: u64) -> Option<String> {
    let s = match v {
        0x05 => "pre-nexus",
        0x0f => "nexus",
        0x1f => "XDJ-XZ / XDJ-AZ / CDJ-3000",
        _ => "not described",
    };
    Some(format!("{v:02x}: {s}"))
}

fn loop_ms(b: &[u8]) -> Value {
    Value::round(crate::dissect::be_uint(b) as f64 * 65536.0 / 1000.0, 1)
}

/// `playing 128.00 BPM +0.00% (128.00) beat 57 1/4 master track 2/usb#123`: the line every
/// output shows, read from the bytes (a field cut off by the end of the packet is left out).
pub(crate) fn summary(b: &[u8]) -> String {
    let uint = |r: std::ops::Range<usize>| b.get(r).map(crate::dissect::be_uint);
    let mut s = Summary::new();
    let play_state = uint(PLAY_STATE).map(|v| v as u8);
    s.text(play_state.and_then(play_state_name).unwrap_or("?"));
    if let Some(Value::F(bpm)) = b.get(BPM).map(bpm_value) {
        s.text(" ").fixed(bpm, 2, false).text(" BPM");
    }
    let pitch_ok = b.get(PITCH).is_none_or(|p| plausible::pitch_raw(be32(p)));
    if let (Some(Value::F(p)), true) = (b.get(PITCH).map(pitch_value), pitch_ok) {
        s.text(" ").fixed(p, 2, true).text("%");
    }
    if let Value::F(e) = effective_bpm(b, BPM, PITCH) {
        s.text(" (").fixed(e, 2, false).text(")");
    }
    if let Some(beat) = uint(BEAT).filter(|&v| v != 0xffff_ffff) {
        s.text(" beat ").uint(beat);
    }
    if let Some(bb) = uint(BEAT_IN_BAR).filter(|&b| b > 0) {
        s.text(" ").uint(bb).text("/4");
    }
    if let Some(f) = uint(FLAGS).map(|v| v as u8) {
        for (bit, name) in [
            (flag::MASTER, " master"),
            (flag::SYNC, " sync"),
            (flag::ON_AIR, " on-air"),
        ] {
            if f & bit != 0 {
                s.text(name);
            }
        }
    }
    if let (Some(d), Some(sl), Some(id)) =
        (uint(TRACK_DEVICE), uint(TRACK_SLOT), uint(REKORDBOX_ID))
    {
        if d != 0 {
            s.text(" track ").uint(d).text("/");
            s.text(slot_name(sl as u8).unwrap_or("?"))
                .text("#")
                .uint(id);
        }
    }
    s.finish() + &implausible_pitches(b).summary_tail()
}

/// The effective pitch Pitch1 (4.2), flagged when no player could send it (plausible.rs).
/// Only Pitch1 is bounded: a real CDJ-2000nexus (usr-ein S10j, frames 1666-1690) sends the
/// fader pitch and Pitch4 at up to +227 % while paused as master, so nothing is known to bound
/// them.
fn implausible_pitches(b: &[u8]) -> Flags {
    let mut flags = Flags::new();
    if let Some(p) = b.get(PITCH) {
        flags.check("pitch", plausible::pitch_raw(be32(p)));
    }
    flags
}

/// A pitch field: its percentage; for Pitch1, why it cannot be when no player sends it.
fn pitch_field(w: &mut Walker<'_>, name: &'static str, r: std::ops::Range<usize>) {
    let bounded = r == PITCH;
    w.value(name, r, pitch_value, |v| match v {
        Value::F(p) if bounded && !plausible::pitch(*p) => {
            plausible::meaning("a pitch beyond ±100 %")
        }
        _ => None,
    });
}

pub(crate) fn dissect(w: &mut Walker<'_>) {
    dissect_status(w);
    let device = w.out().device;
    let name = w.out().name.clone();
    // An OPUS-QUAD's deck is read from the copy of D at 0x24 as Beat Link does (BL
    // `DeviceUpdate`), else from D.
    let copy = w.s.bytes.get(DEVICE_COPY.start).copied();
    let deck = copy
        .and_then(|c| opus_deck(name.as_deref(), c))
        .or_else(|| device.and_then(|d| opus_deck(name.as_deref(), d as u8)));
    if let Some(deck) = deck {
        w.derived("deck", Value::U(deck as u64));
    }
    w.uint("device_copy", DEVICE_COPY);
    w.uint_with("activity", ACTIVITY, activity_meaning);
    w.uint("track_device", TRACK_DEVICE);
    w.named("track_slot", TRACK_SLOT, slot_name);
    w.named("track_type", TRACK_TYPE, track_type_name);
    w.uint_with("rekordbox_id", REKORDBOX_ID, |_| {
        device_library_plus(name.as_deref()).then(|| {
            "a Device Library Plus id (exportLibrary.db), not an export.pdb id".to_string()
        })
    });
    w.uint("track_number", TRACK_NUMBER);
    w.uint_with("sort_order", SORT_ORDER, sort_meaning);
    w.uint_with("track_menu", TRACK_MENU, menu_meaning);
    w.uint("category_1", CATEGORY_1);
    w.uint("category_2", CATEGORY_2);
    w.uint("list_count", LIST_COUNT);
    w.uint("load_marker", LOAD_MARKER);
    w.uint("cue_change", CUE_CHANGE);
    w.uint("tag_change", TAG_CHANGE);
    w.uint("load_done", LOAD_DONE);
    w.uint("flag_68", FLAG_68);
    w.uint("usb_activity", USB_ACTIVITY);
    w.uint("sd_activity", SD_ACTIVITY);
    w.named("usb_state", USB_STATE, media_state_name);
    w.named("sd_state", SD_STATE, media_state_name);
    w.uint("link_media", LINK_MEDIA);
    w.named("play_state", PLAY_STATE, play_state_name);
    w.ascii("firmware", FIRMWARE);
    w.uint("sync_counter", SYNC_COUNTER);
    let flags = w.uint_with("flags", FLAGS, flags_meaning).map(|v| v as u8);
    if let Some(f) = flags {
        // `playing` decides from F and P1 together (the rule is `cdj_status::playing`); the
        // raw bit stays visible as `playing_flag`.
        let p1 = w.s.bytes[PLAY_STATE.start];
        w.derived("playing", Value::Bool(super::cdj_status::playing(f, p1)));
        w.derived("playing_flag", Value::Bool(f & flag::PLAYING != 0));
        w.derived("master", Value::Bool(f & flag::MASTER != 0));
        w.derived("sync", Value::Bool(f & flag::SYNC != 0));
        w.derived("on_air", Value::Bool(f & flag::ON_AIR != 0));
        w.derived("bpm_sync", Value::Bool(f & flag::BPM_SYNC != 0));
    }
    w.uint_with("play_state_2", PLAY_STATE_2, play_state_2_meaning);
    pitch_field(w, "pitch", PITCH);
    w.uint_with("bpm_validity", BPM_VALIDITY, bpm_validity_meaning);
    w.value("bpm", BPM, bpm_value, |_| None);
    w.uint_with("slip_bpm_validity", SLIP_BPM_VALIDITY, bpm_validity_meaning);
    w.value("slip_bpm", SLIP_BPM, bpm_value, |_| None);
    pitch_field(w, "fader_pitch", FADER_PITCH);
    w.uint_with("play_state_3", PLAY_STATE_3, play_state_3_meaning);
    w.uint_with("master_mode", MASTER_MODE, master_mode_meaning);
    w.uint_with("master_handoff", MASTER_HANDOFF, handoff_meaning);
    w.value(
        "beat",
        BEAT,
        |b| match crate::dissect::be_uint(b) {
            0xffff_ffff => Value::Null,
            v => Value::U(v),
        },
        |_| None,
    );
    w.uint_with("cue_countdown", CUE_COUNTDOWN, cue_meaning);
    w.uint("beat_in_bar", BEAT_IN_BAR);
    w.uint("grid_changed", GRID_CHANGED);
    w.uint("flag_b6", FLAG_B6);
    w.uint("media_presence", MEDIA_PRESENCE);
    w.uint("usb_unsafe_eject", USB_UNSAFE_EJECT);
    w.uint("sd_unsafe_eject", SD_UNSAFE_EJECT);
    w.uint("emergency_loop", EMERGENCY_LOOP);
    pitch_field(w, "pitch_3", PITCH_3);
    pitch_field(w, "pitch_4", PITCH_4);
    w.uint("packet_counter", PACKET_COUNTER);
    w.uint_with("generation", GENERATION, generation_meaning);
    if let Some(c) = w.uint("capabilities", CAPABILITIES) {
        w.derived("touch_audio", Value::Bool(c & 0x20 != 0));
    }
    let effective = effective_bpm(w.s.bytes, BPM, PITCH);
    w.derived("effective_bpm", effective.clone());
    implausible_pitches(w.s.bytes).record(w);
    dissect_tail(w);
    w.expect_len(MIN_LEN);
    w.finish();

    w.out().summary = summary(w.s.bytes);
}

/// Fields that exist only in longer packets (0x11b, 0x11c, 0x124, 0x200...).
fn dissect_tail(w: &mut Walker<'_>) {
    for (marker, color, position, names) in [
        (
            SETTINGS_MARKER_1,
            WAVEFORM_COLOR_1,
            WAVEFORM_POSITION_1,
            [
                "settings_marker_1",
                "waveform_color_1",
                "waveform_position_1",
            ],
        ),
        (
            SETTINGS_MARKER_2,
            WAVEFORM_COLOR_2,
            WAVEFORM_POSITION_2,
            [
                "settings_marker_2",
                "waveform_color_2",
                "waveform_position_2",
            ],
        ),
    ] {
        let present = w.s.bytes.get(marker.clone()) == Some(&SETTINGS_MARKER[..]);
        if present && w.has(&position) {
            w.constant(names[0], marker, &SETTINGS_MARKER);
            w.uint_with(names[1], color, |v| {
                Some(match v {
                    1 => "01: blue".into(),
                    3 => "03: RGB".into(),
                    4 => "04: 3-band".into(),
                    _ => format!("{v:02x}: not described"),
                })
            });
            w.uint_with(names[2], position, |v| {
                Some(match v {
                    1 => "01: centre".into(),
                    2 => "02: left".into(),
                    _ => format!("{v:02x}: not described"),
                })
            });
        }
    }
    macro_rules! opt {
        ($name:literal, $range:expr) => {
            if w.has(&$range) {
                w.uint($name, $range);
            }
        };
    }
    if w.has(&EDIT_MENU) {
        w.bytes("edit_menu", EDIT_MENU);
    }
    opt!("play_state_4", PLAY_STATE_4);
    opt!("bar_time_steps", BAR_TIME_STEPS);
    opt!("bar_position", BAR_POSITION);
    opt!("next_memory_point", NEXT_MEMORY_POINT);
    opt!("buffered_ahead", BUFFERED_AHEAD);
    opt!("buffered_behind", BUFFERED_BEHIND);
    opt!("buffer_state", BUFFER_STATE);
    opt!("needle_position", NEEDLE_POSITION);
    opt!("master_tempo", MASTER_TEMPO);
    opt!("key_note", KEY_NOTE);
    if w.has(&KEY_MODE) {
        w.uint_with("key_mode", KEY_MODE, |v| {
            Some(match v {
                0 => "minor".into(),
                1 => "major".into(),
                _ => format!("{v:02x}: not described"),
            })
        });
    }
    if w.has(&KEY_ACCIDENTAL) {
        w.uint_with("key_accidental", KEY_ACCIDENTAL, |v| {
            Some(match v {
                0x00 => "natural".into(),
                0x01 => "sharp".into(),
                0xff => "flat".into(),
                0x64 => "64: tempo moved the key (master tempo off)".into(),
                _ => format!("{v:02x}: not described"),
            })
        });
    }
    if w.has(&KEY_SHIFT) {
        w.value(
            "key_shift_cents",
            KEY_SHIFT,
            |b| Value::I(crate::dissect::be_uint(b) as i64),
            |_| None,
        );
    }
    if w.has(&LOOP_START) {
        w.value("loop_start_ms", LOOP_START, loop_ms, |_| None);
    }
    if w.has(&LOOP_END) {
        w.value("loop_end_ms", LOOP_END, loop_ms, |_| None);
    }
    opt!("loop_beats", LOOP_BEATS);
}
