//! Beats from the captures and libcdj, precise position from the reference.

use super::*;
use crate::prodjlink::testutil::{check, hex};
use crate::prodjlink::{dissect, Packet};

// powerup.pcapng, the DJM: 120.00 BPM, beat 2 (prodjlink.md 15).
const DJM_BEAT: &str = "5173707431576d4a4f4c28444a4d2d323030306e6578757300000000000000010021003c\
    000001f4000003e8000005dc000007d000000dac00000fa0ffffffffffffffffffffffffffffffffffffffffffffffff\
    0010000000002ee002000021";
// S10j, CDJ-2000nexus D2 at 145.00 BPM and -1.65%, beat 1.
const CDJ_BEAT: &str = "5173707431576d4a4f4c2843444a2d323030306e6578757300000000000000010002003c\
    0000019e0000033b000006770000067700000cee00000ceeffffffffffffffffffffffffffffffffffffffffffffffff\
    000fbc6a000038a401000002";

#[test]
fn mixer_beat_both_directions() {
    let b = hex(DJM_BEAT);
    let beat = Beat::parse(&b).unwrap();
    // The 120 BPM grid at beat 2 is exactly what `Beat::new` computes.
    let expected = Beat::new("DJM-2000nexus", 0x21, 120.0, 0.0, 2);
    assert_eq!(beat, expected);
    assert_eq!(expected.to_bytes(), b);
    let d = check(50001, &b);
    assert_eq!(d.type_name, "beat");
    assert_eq!(d.device, Some(0x21));
    assert_eq!(d.field("bpm"), Some(&Value::F(120.0)));
    assert_eq!(d.field("pitch"), Some(&Value::F(0.0)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::F(120.0)));
    assert_eq!(d.field("beat_in_bar").and_then(Value::as_u64), Some(2));
    assert_eq!(d.field("next_beat_ms").and_then(Value::as_u64), Some(500));
    assert_eq!(d.field("second_bar_ms").and_then(Value::as_u64), Some(3500));
    assert_eq!(
        d.summary,
        "120.00 BPM +0.00% (120.00) beat 2/4 next in 500 ms"
    );
}

#[test]
fn player_beat_with_pitch() {
    let b = hex(CDJ_BEAT);
    let beat = Beat::parse(&b).unwrap();
    assert_eq!(
        (beat.bpm, beat.pitch, beat.beat_in_bar),
        (14500, 0x0fbc6a, 1)
    );
    assert!((beat.pitch_percent() + 1.65).abs() < 0.005);
    assert_eq!(beat.to_bytes(), b);
    let d = check(50001, &b);
    assert_eq!(d.field("pitch"), Some(&Value::F(-1.65)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::F(142.61)));
}

#[test]
fn libcdj_beat_with_a_len_p_length_field() {
    // libcdj__cdj-beat.dump says 0x0060 (len_p) where players send len_r 0x3c: tolerated (1.3).
    let b = hex("5173707431576d4a4f4c2858444a2d313030300000000000000000000000000100050060000001f4000003e8\
                 000001f4000007d0000009c400000fa0ffffffffffffffffffffffffffffffffffffffffffffffff0010000000\
                 002ee004000005");
    let beat = Beat::parse(&b).unwrap();
    assert_eq!(
        (beat.header.length, beat.header.device, beat.beat_in_bar),
        (0x60, 5, 4)
    );
    let d = check(50001, &b);
    assert_eq!(d.field("length").and_then(Value::as_u64), Some(0x60));
}

#[test]
fn beat_past_track_end_is_null() {
    let mut beat = Beat::new("CDJ-3000", 3, 128.0, 2.5, 4);
    beat.eighth_beat_ms = u32::MAX;
    let b = beat.to_bytes();
    assert_eq!(Beat::parse(&b).unwrap(), beat);
    let d = check(50001, &b);
    assert_eq!(d.field("eighth_beat_ms"), Some(&Value::Null));
    assert_eq!(d.field("pitch"), Some(&Value::F(2.5)));
}

#[test]
fn precise_position_from_the_reference() {
    // 3.26% is 0x146 (section 3); effective BPM x 10.
    let p = PrecisePosition::new("CDJ-3000", 5, 330, 83_456, 3.26, Some(132.2));
    let b = p.to_bytes();
    assert_eq!(b.len(), 0x3c);
    assert_eq!(&b[0x20..0x24], &[0x02, 0x05, 0x00, 0x18]);
    assert_eq!(&b[0x2c..0x30], &[0, 0, 0x01, 0x46]);
    assert_eq!(&b[0x38..0x3c], &[0, 0, 0x05, 0x2a]);
    assert_eq!(PrecisePosition::parse(&b).unwrap(), p);
    let d = check(50001, &b);
    assert_eq!(d.type_name, "precise_position");
    assert_eq!(d.field("track_length_s").and_then(Value::as_u64), Some(330));
    assert_eq!(d.field("position_ms").and_then(Value::as_u64), Some(83_456));
    assert_eq!(d.field("pitch"), Some(&Value::F(3.26)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::F(132.2)));
    assert_eq!(d.summary, "1:23.456 of 5:30 +3.26% 132.2 BPM");

    let slow = PrecisePosition::new("CDJ-3000", 6, 200, 0, -8.0, None);
    let d = check(50001, &slow.to_bytes());
    assert_eq!(d.field("pitch"), Some(&Value::F(-8.0)));
    assert_eq!(d.field("effective_bpm"), Some(&Value::Null));
}

#[test]
fn truncated_beat() {
    let b = hex(DJM_BEAT);
    assert!(matches!(
        Packet::parse(50001, &b[..0x50]),
        Err(Error::Truncated {
            kind: "beat",
            need: 0x60,
            have: 0x50
        })
    ));
    let d = dissect(50001, &b[..0x50], false);
    assert_eq!(d.type_name, "beat");
    assert!(d.malformed.as_deref().unwrap().contains("padding"));
    assert_eq!(
        d.field("eighth_beat_ms").and_then(Value::as_u64),
        Some(4000)
    );
    assert!(d.field("bpm").is_none());
    let d = dissect(
        50001,
        &PrecisePosition::new("CDJ-3000", 5, 1, 2, 0.0, None).to_bytes()[..0x30],
        false,
    );
    assert!(d.malformed.is_some());
    assert_eq!(d.field("position_ms").and_then(Value::as_u64), Some(2));
}

/// Issue 11: a track of 1.5 billion seconds and a pitch of -9 million percent are flagged, not
/// printed as facts; the wire's numbers stay in the fields.
#[test]
fn implausible_positions_are_flagged() {
    let mut p = PrecisePosition::new("CDJ-3000", 2, 1_500_000_000, 61_234, 0.0, Some(128.0));
    p.pitch = -900_000_000;
    assert!(!p.is_plausible());
    let b = p.to_bytes();
    for depth in [true, false] {
        let d = crate::prodjlink::dissect(50001, &b, depth);
        assert!(d.malformed.is_none());
        assert_eq!(
            d.summary,
            "1:01.234 128.0 BPM [implausible: track_length_s, pitch]"
        );
        assert_eq!(
            d.field("implausible"),
            Some(&Value::Str("track_length_s, pitch".into()))
        );
        assert_eq!(d.field("track_length_s"), Some(&Value::U(1_500_000_000)));
    }
    let v = crate::prodjlink::dissect(50001, &b, true);
    let pitch = v.fields.iter().find(|f| f.name == "pitch").unwrap();
    assert!(pitch.meaning.as_deref().unwrap().starts_with("implausible"));
    assert!(PrecisePosition::new("CDJ-3000", 2, 300, 1000, -3.26, Some(120.0)).is_plausible());
}

#[test]
fn an_implausible_beat_pitch_has_no_tempo() {
    let mut beat = Beat::new("CDJ-3000", 2, 128.0, 0.0, 1);
    beat.pitch = u32::MAX;
    assert_eq!(beat.effective_bpm(), None);
    let d = crate::prodjlink::dissect(50001, &beat.to_bytes(), true);
    assert_eq!(d.field("effective_bpm"), Some(&Value::Null));
    assert!(d.summary.ends_with("[implausible: pitch]"), "{}", d.summary);
    assert!(!d.summary.contains("409"), "{}", d.summary);
}
