//! CDJ status from the captures and fixtures (0xd4, 0x11c with zero, one and two settings
//! blocks, XDJ-1000 from libcdj) and built from the template at every known length.

use super::*;
use crate::dissect::Value;
use crate::prodjlink::testutil::{check, hex};
use crate::prodjlink::{dissect, Packet};

// to-virtual.pcapng: CDJ-2000nexus fw 1.24, player 3, no track (prodjlink.md 15).
const NEXUS_D4: &str = "5173707431576d4a4f4c0a43444a2d323030306e657875730000000000000001030300b00300010000000000000000000000\
    0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000100040400000004000000040000000000000000312e32340000000000000003008cff7e000ffdf37fffffff7fff\
    ffff000ffdf3000000ffffffffff01ff0000000000000000000000000000000001000000000000000000000ffdf3000ffdf3\
    000095970f00000000000000";
// S10j: CDJ-2000nexus fw 1.44 D2 playing a USB track of D3 as master, 145 BPM at -1.65%, beat 1.
const PLAYING_11C: &str = "5173707431576d4a4f4c0a43444a2d323030306e657875730000000000000001040200f80200000003030100000000b60000\
    000100000004000000000000000000000000000002b400000000000000000000000000000000000000000000000000000000\
    000000000100040400000004000000040000010000000003312e3434000000000000000400e4fffa000fbc6a800038a47fff\
    ffff000fbc6a000901ff0000000101ff0100000000000000000000000000000001000000000000000000000fbc6a000fbc6a\
    0000dcf50f010000123456780000000101010101020100000000000000000000000000000000000000000000000000000000\
    0000000000000000000000000000000000000000000000000005000006ce00000642";
// S16a: the same model with both settings blocks (0xd0 and 0xf0).
const TWO_BLOCKS_11C: &str = "5173707431576d4a4f4c0a43444a2d323030306e657875730000000000000001040100f80100000000000000000000000000\
    0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000100040400000004000000040000000000000000312e343400000000000000030084fffe000f83127fffffff7fff\
    ffff000f8312000000ffffffffff01ff0000000000000000000000000000000001000000000000000000000f8312000f8312\
    000022670f010000123456780000000101010101020100000000000000000000000000000000000012345678000000010101\
    01010201000000000000000000000000000000000000000000050000000000000000";

#[test]
fn nexus_0xd4_both_directions() {
    let b = hex(NEXUS_D4);
    assert_eq!(b.len(), 0xd4);
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!(
        (s.header.subtype, s.header.device, s.header.length),
        (3, 3, 0xb0)
    );
    assert_eq!((s.device_copy, s.activity, s.track_device), (3, 0, 0));
    assert_eq!((s.usb_state, s.sd_state, s.link_media), (4, 4, 0));
    assert_eq!((s.play_state, &s.firmware), (0, b"1.24"));
    assert_eq!((s.sync_counter, s.flags, s.play_state_2), (3, 0x8c, 0x7e));
    assert_eq!((s.pitch, s.bpm_validity, s.bpm), (0x0ffdf3, 0x7fff, 0xffff));
    assert_eq!(
        (s.master_mode, s.master_handoff, s.beat),
        (0, 0xff, 0xffff_ffff)
    );
    assert_eq!(
        (s.cue_countdown, s.beat_in_bar, s.generation),
        (0x01ff, 0, 0x0f)
    );
    assert_eq!(s.packet_counter, 0x9597);
    assert_eq!((s.waveform_1, s.edit_menu, s.key), (None, None, None));
    assert!(s.is_on_air() && !s.is_playing() && !s.is_master());
    assert_eq!(
        (s.bpm(), s.effective_bpm(), s.beat_number()),
        (None, None, None)
    );
    assert_eq!(s.to_bytes(), b);

    let d = check(50002, &b);
    assert_eq!(d.type_name, "cdj_status");
    assert_eq!(
        (d.device, d.name.as_deref()),
        (Some(3), Some("CDJ-2000nexus"))
    );
    assert_eq!(d.field("bpm"), Some(&Value::Null));
    assert_eq!(d.field("pitch"), Some(&Value::F(-0.05)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::Null));
    assert_eq!(d.field("beat"), Some(&Value::Null));
    assert_eq!(
        d.field("play_state").and_then(Value::as_str),
        Some("no_track")
    );
    assert_eq!(d.field("on_air"), Some(&Value::Bool(true)));
    assert_eq!(d.field("playing"), Some(&Value::Bool(false)));
    assert_eq!(d.field("track_slot").and_then(Value::as_str), Some("none"));
    assert_eq!(d.field("firmware").and_then(Value::as_str), Some("1.24"));
    assert_eq!(d.field("usb_state").and_then(Value::as_str), Some("empty"));
    assert_eq!(
        d.field("packet_counter").and_then(Value::as_u64),
        Some(0x9597)
    );
    assert_eq!(d.summary, "no_track -0.05% on-air");
}

#[test]
fn playing_master_0x11c() {
    let b = hex(PLAYING_11C);
    assert_eq!(b.len(), 0x11c);
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!((s.track_device, s.track_slot, s.track_type), (3, 3, 1));
    assert_eq!((s.play_state, s.flags, s.master_mode), (3, 0xe4, 1));
    assert_eq!((s.beat, s.beat_in_bar, s.play_state_3), (1, 1, 9));
    assert_eq!(s.bpm(), Some(145.0));
    assert!(s.is_playing() && s.is_master() && !s.is_synced() && !s.is_on_air());
    assert_eq!(
        s.waveform_1,
        Some(WaveformSettings {
            color: 1,
            position: 1
        })
    );
    assert_eq!(s.waveform_2, None);
    assert_eq!((s.edit_menu, s.play_state_4), (Some([0, 0, 0]), Some(5)));
    assert_eq!(
        (s.bar_time_steps, s.bar_position),
        (Some(0x06ce), Some(0x0642))
    );
    assert_eq!((s.next_memory_point, s.needle_position), (None, None));
    assert_eq!(s.to_bytes(), b);

    let d = check(50002, &b);
    assert_eq!(d.field("bpm"), Some(&Value::F(145.0)));
    assert_eq!(d.field("pitch"), Some(&Value::F(-1.65)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::F(142.61)));
    assert_eq!(d.field("beat").and_then(Value::as_u64), Some(1));
    assert_eq!(d.field("master"), Some(&Value::Bool(true)));
    assert_eq!(d.field("sync"), Some(&Value::Bool(false)));
    assert_eq!(
        d.field("track_type").and_then(Value::as_str),
        Some("rekordbox")
    );
    assert_eq!(d.field("track_slot").and_then(Value::as_str), Some("usb"));
    assert_eq!(
        d.field("rekordbox_id").and_then(Value::as_u64),
        Some(s.rekordbox_id as u64)
    );
    assert_eq!(
        d.field("waveform_position_1").and_then(Value::as_u64),
        Some(1)
    );
    assert!(d.field("waveform_color_2").is_none());
    assert_eq!(
        d.field("bar_position").and_then(Value::as_u64),
        Some(0x0642)
    );
    assert_eq!(
        d.summary,
        format!(
            "playing 145.00 BPM -1.65% (142.61) beat 1 1/4 master track 3/usb#{}",
            s.rekordbox_id
        )
    );
}

#[test]
fn both_settings_blocks() {
    let b = hex(TWO_BLOCKS_11C);
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!(
        s.waveform_1,
        Some(WaveformSettings {
            color: 1,
            position: 1
        })
    );
    assert_eq!(
        s.waveform_2,
        Some(WaveformSettings {
            color: 1,
            position: 1
        })
    );
    assert_eq!(s.to_bytes(), b);
    let d = check(50002, &b);
    assert!(d.field("settings_marker_2").is_some());
}

#[test]
fn fixtures_from_prolink_connect_and_libcdj() {
    // prolink-connect__status-simple.dat: player 3, 0x11c, no settings blocks.
    let b = hex("5173707431576d4a4f4c0a43444a2d323030306e657875730000000000000001040300f80300000000000000000000000000\
                 0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
                 000000000100040400000004000000040001000000000000312e343300000000000000030084fffe001000007fffffff7fff\
                 ffff00100000000000ffffffffff01ff00000000000000000000000000000000010000000000000000000010000000100000\
                 0001217c0f010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
                 00000000000000000000000000000000000000000000000000050000000000000000");
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!(
        (s.header.device, s.link_media, &s.firmware),
        (3, 1, b"1.43")
    );
    assert_eq!(
        (s.pitch, s.packet_counter, s.waveform_1),
        (0x100000, 0x1217c, None)
    );
    assert_eq!(s.to_bytes(), b);
    check(50002, &b);

    // libcdj__cdj-status.dump: XDJ-1000 D5, 0xd4 bytes with a len_p length field (1.3).
    let b = hex("5173707431576d4a4f4c0a58444a2d3130303000000000000000000000000001030500d40500000105030100000000010000\
                 0001000000050000a00000000000000000000000000800000000000000000000000000000000000000000000000000000000\
                 000000000100000000000000000000040001000001000004312e3035000000000000006300c4ff000010000080002ee07fff\
                 ffff00100000000900ff00000000000004000000000000000000000000000000000000000000000000000010000000100000\
                 000000630f00000000000000");
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!(
        (
            s.header.length,
            s.track_device,
            s.track_slot,
            s.rekordbox_id
        ),
        (0xd4, 5, 3, 1)
    );
    assert_eq!((s.play_state, s.flags, s.bpm()), (4, 0xc4, Some(120.0)));
    assert_eq!(s.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(
        d.field("play_state").and_then(Value::as_str),
        Some("looping")
    );
}

#[test]
fn template_builds_every_known_length() {
    for len in [0xd0, 0xd4, 0x11b, 0x11c, 0x124, 0x200, 0x230] {
        let mut s = CdjStatus::new("CDJ-3000", 2, len);
        assert_eq!(s.buffer_len(), len);
        let b = s.to_bytes();
        assert_eq!(CdjStatus::parse(&b).unwrap(), s, "length 0x{len:x}");
        let d = check(50002, &b);
        assert_eq!(
            d.field("play_state").and_then(Value::as_str),
            Some("no_track")
        );
        assert_eq!(
            d.field("length").and_then(Value::as_u64),
            Some(len as u64 - 0x24)
        );
        // Bytes 68, 75 and b6 must be 1 for a virtual CDJ (9.3).
        assert_eq!((b[0x68], b[0x75], b[0xb6]), (1, 1, 1));

        s.set_tempo(Some(128.0), 2.0);
        s.set_flag(flag::PLAYING, true);
        s.set_flag(flag::MASTER, true);
        s.play_state = 3;
        s.beat = 17;
        s.beat_in_bar = 1;
        let d = check(50002, &s.to_bytes());
        assert_eq!(d.field("effective_bpm"), Some(&Value::F(130.56)));
        assert_eq!(d.field("playing"), Some(&Value::Bool(true)));
    }
}

#[test]
fn cdj3000_fields_round_trip() {
    let mut s = CdjStatus::new("CDJ-3000", 5, 0x200);
    assert_eq!((s.generation, s.waveform_2.is_some()), (0x1f, true));
    s.key = Some(Key {
        note: 9,
        mode: 0,
        accidental: 0xff,
    });
    s.key_shift = Some(-150);
    s.loop_start = Some(1000);
    s.loop_end = Some(2000);
    s.loop_beats = Some(4);
    s.master_tempo = Some(1);
    s.needle_position = Some(0x1234);
    s.buffer_state = Some(1);
    let b = s.to_bytes();
    assert_eq!(&b[0x15c..0x160], &[9, 0, 0xff, 1]);
    let back = CdjStatus::parse(&b).unwrap();
    assert_eq!(back.key, s.key);
    assert_eq!(back.key_shift, Some(-150));
    assert_eq!(back.loop_ms(), Some((65536.0, 131072.0)));
    assert_eq!(back.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(d.field("key_shift_cents"), Some(&Value::I(-150)));
    assert_eq!(d.field("loop_end_ms"), Some(&Value::F(131072.0)));
    assert_eq!(d.field("loop_beats").and_then(Value::as_u64), Some(4));
}

#[test]
fn opus_quad_decks_keep_their_wire_number() {
    let s = CdjStatus::new("OPUS-QUAD", 11, 0xd4);
    assert_eq!(s.deck(), Some(3));
    let d = check(50002, &s.to_bytes());
    assert_eq!(d.device, Some(11));
    assert_eq!(d.field("deck").and_then(Value::as_u64), Some(3));
}

#[test]
fn truncated_and_lying_status() {
    let b = hex(PLAYING_11C);
    assert!(matches!(
        Packet::parse(50002, &b[..0x90]),
        Err(Error::Truncated {
            kind: "cdj_status",
            need: 0xd0,
            have: 0x90
        })
    ));
    let d = dissect(50002, &b[..0x90], false);
    assert!(d.malformed.as_deref().unwrap().contains("bpm_validity"));
    assert_eq!(
        d.field("play_state").and_then(Value::as_str),
        Some("playing")
    );
    assert!(d.field("bpm").is_none());
    crate::prodjlink::testutil::assert_covers(&dissect(50002, &b[..0x90], true), 0x90);

    // A length field that disagrees with the datagram is shown, never rejected (1.3): here it
    // counts fewer bytes than the packet has, a note (length.rs).
    let mut lying = b.clone();
    lying[0x22] = 0;
    lying[0x23] = 0x10;
    let d = check(50002, &lying);
    assert!(dissect(50002, &lying, true)
        .fields
        .iter()
        .any(|f| f.name == "length" && f.meaning.as_deref().unwrap_or("").contains("length_note")));
    assert!(d.malformed.is_none() && d.field("length_note").is_some());
    assert_eq!(d.field("bpm"), Some(&Value::F(145.0)));
}

#[test]
fn decks_9_to_12_only_for_the_models_that_number_them_so() {
    // A virtual CDJ or any other player may hold number 9-12 as itself (prodjlink.md 1.5).
    for name in ["CDJ-3000", "XDJ-XZ", "beat-link"] {
        let s = CdjStatus::new(name, 10, 0xd4);
        assert_eq!(s.deck(), None, "{name}");
        let d = check(50002, &s.to_bytes());
        assert_eq!(d.device, Some(10));
        assert_eq!(d.field("deck"), None, "{name}");
    }
    // The OPUS-QUAD's decks 1-4 report 9-12; numbers outside that range are themselves.
    assert_eq!(CdjStatus::new("OPUS-QUAD", 12, 0xd4).deck(), Some(4));
    assert_eq!(CdjStatus::new("OPUS-QUAD", 2, 0xd4).deck(), None);
}

/// The playing rule (`cdj_status::playing`): P1 decides when it names a moving or a still
/// state; the F bit decides otherwise; the raw bit is kept as `playing_flag`.
#[test]
fn playing_decides_from_flag_and_play_state() {
    let status = |p1: u8, bit: bool| {
        let mut s = CdjStatus::new("OPUS-QUAD", 9, 0xd4);
        s.play_state = p1;
        s.set_flag(flag::PLAYING, bit);
        s
    };
    // OPUS-QUAD playing with the bit clear (BL PlayState2.OPUS_MOVING): playing.
    let s = status(0x03, false);
    assert!(s.is_playing() && !s.playing_flag());
    let d = check(50002, &s.to_bytes());
    assert_eq!(d.field("playing"), Some(&Value::Bool(true)));
    assert_eq!(d.field("playing_flag"), Some(&Value::Bool(false)));
    // Paused or cued with the bit set: nothing moves.
    for p1 in [0x00, 0x02, 0x05, 0x06, 0x0e, 0x11] {
        let s = status(p1, true);
        assert!(!s.is_playing() && s.playing_flag(), "P1 {p1:02x}");
        let d = check(50002, &s.to_bytes());
        assert_eq!(d.field("playing"), Some(&Value::Bool(false)));
        assert_eq!(d.field("playing_flag"), Some(&Value::Bool(true)));
    }
    // Looping and emergency loop play; cue play and searching follow the bit.
    assert!(status(0x04, false).is_playing() && status(0x12, false).is_playing());
    for p1 in [0x07, 0x08, 0x09, 0x42] {
        assert!(status(p1, true).is_playing(), "P1 {p1:02x}");
        assert!(!status(p1, false).is_playing(), "P1 {p1:02x}");
    }
}

/// A status whose pitch no player sends: flagged in the summary, the field's meaning and the
/// `implausible` field; no effective tempo is made from it.
#[test]
fn implausible_pitches_are_flagged() {
    let mut s = CdjStatus::new("CDJ-2000nexus", 2, 0xd4);
    s.set_tempo(Some(128.0), 0.0);
    s.pitch = 0xffff_fff0;
    assert_eq!(s.effective_bpm(), None);
    assert!(!s.pitch_is_plausible());
    let b = s.to_bytes();
    for depth in [
        crate::dissect::Depth::Head,
        crate::dissect::Depth::Fields,
        crate::dissect::Depth::Detail,
    ] {
        let d = dissect(50002, &b, depth);
        assert_eq!(
            d.summary, "no_track 128.00 BPM [implausible: pitch]",
            "{depth:?}"
        );
    }
    let d = check(50002, &b);
    assert_eq!(d.field("implausible"), Some(&Value::Str("pitch".into())));
    assert_eq!(d.field("effective_bpm"), Some(&Value::Null));
}

/// The CDJ-3000X (firmware 1.31) status as libdjlink measured it (key2/libdjlink
/// `ARCHITECTURE.md` 1.4.1): 0x480 bytes, subtype `08`, no settings blocks, the packet counter
/// counting, the CDJ-3000 fields at their offsets. Built from that description: every field
/// is read, nothing is malformed, the settings blocks are not invented.
#[test]
fn cdj_3000x_status_layout() {
    let x = CdjStatus::cdj3000x(1);
    assert_eq!(CdjStatus::parse(&x.to_bytes()).unwrap(), x);
    let mut b = x.to_bytes();
    assert_eq!((b.len(), b[0x20], &b[0x7c..0x80]), (0x480, 8, &b"1.31"[..]));
    b[0x7b] = 0x11; // P1 ended
    b[0xc8..0xcc].copy_from_slice(&0x6942_8259u32.to_be_bytes()); // counter counts on the X
    b[0xcc] = 0x1f;
    b[0x15c] = 1; // key note
    b[0x15d] = 1; // major
    let s = CdjStatus::parse(&b).unwrap();
    assert_eq!(s.to_bytes(), b);
    assert_eq!((s.header.subtype, s.header.length), (8, 0x480 - 0x24));
    assert_eq!((s.waveform_1, s.waveform_2), (None, None));
    assert_eq!(s.packet_counter, 0x6942_8259);
    let d = check(50002, &b);
    assert_eq!(d.name.as_deref(), Some("CDJ-3000X"));
    assert!(d.field("length_note").is_none() && d.field("settings_marker_1").is_none());
    assert_eq!(d.field("key_mode").and_then(Value::as_u64), Some(1));
    assert_eq!(d.field("loop_beats").and_then(Value::as_u64), Some(0));
    assert_eq!(d.field("play_state").and_then(Value::as_str), Some("ended"));
    assert_eq!(d.field("deck"), None);
}

/// An OPUS-QUAD's deck comes from the copy of D at 0x24, as Beat Link reads it; the track id of
/// an OPUS-QUAD or XDJ-AZ is said to be a Device Library Plus id.
#[test]
fn opus_quad_deck_from_the_copy_and_device_library_plus_ids() {
    let mut s = CdjStatus::new("OPUS-QUAD", 9, 0xd4);
    s.device_copy = 10;
    s.rekordbox_id = 829;
    assert_eq!(s.deck(), Some(2));
    let b = s.to_bytes();
    let d = check(50002, &b);
    assert_eq!(d.field("deck").and_then(Value::as_u64), Some(2));
    let id_meaning = |name: &str| {
        let mut s = CdjStatus::new(name, 1, 0xd4);
        s.rekordbox_id = 829;
        let d = dissect(50002, &s.to_bytes(), true);
        let f = d.fields.iter().find(|f| f.name == "rekordbox_id").unwrap();
        f.meaning.clone()
    };
    assert!(id_meaning("XDJ-AZ")
        .unwrap()
        .contains("Device Library Plus"));
    assert!(id_meaning("OPUS-QUAD")
        .unwrap()
        .contains("Device Library Plus"));
    assert_eq!(id_meaning("CDJ-3000"), None);
}
