//! LOAD SETTINGS over Link from S16a, load track and load settings built from the reference.

use super::*;
use crate::dissect::Knowledge;
use crate::dissect::Value;
use crate::prodjlink::testutil::{check, hex};
use crate::prodjlink::{dissect, OpaqueStatus, Packet};

// S16a frame 352 (corpus `status/settings_query`): player 2 asks for the settings on slot 3.
const REQUEST: &str =
    "5173707431576d4a4f4c3543444a2d323030306e6578757300000000000000010002000402030000";
// S16a frame 356 (corpus `status/settings_response`): player 1 answers with MYSETTING.DAT.
const REPLY: &str =
    "5173707431576d4a4f4c3643444a2d323030306e6578757300000000000000010001002c02030000\
    12345678000000028181818881018181810101018080808180818000008000008181818181800000";

#[test]
fn device_settings_request_both_directions() {
    let b = hex(REQUEST);
    let r = DeviceSettingsRequest::new("CDJ-2000nexus", 2, 3);
    assert_eq!(DeviceSettingsRequest::parse(&b).unwrap(), r);
    assert_eq!(r.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(d.type_name, "device_settings_request");
    assert_eq!(d.summary, "asks for settings of usb");
}

#[test]
fn device_settings_reply_both_directions() {
    let b = hex(REPLY);
    let mut settings = [0u8; 32];
    settings.copy_from_slice(&b[0x30..0x50]);
    let r = DeviceSettingsReply::new("CDJ-2000nexus", 1, 2, 3, settings);
    assert_eq!(DeviceSettingsReply::parse(&b).unwrap(), r);
    assert_eq!(r.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(d.device, Some(1));
    assert_eq!(d.field("requester").and_then(Value::as_u64), Some(2));
    assert_eq!(d.field("settings"), Some(&Value::Bytes(settings.to_vec())));
    assert_eq!(d.summary, "settings of usb for D2");
}

#[test]
fn load_track_built_from_the_reference() {
    // rekordbox (D 0x11) loads track 0x1234 from player 3's USB onto player 2 (DYS-L).
    let l = LoadTrack::new("rekordbox", 0x11, 2, (3, 3, 1), 0x1234);
    let b = l.to_bytes();
    assert_eq!(b.len(), 0x58);
    assert_eq!(&b[0x20..0x24], &[0, 0x11, 0, 0x34]);
    assert_eq!(
        &b[0x24..0x34],
        &[0x11, 0, 0, 0, 3, 3, 1, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0x32]
    );
    assert_eq!(b[0x40], 1);
    assert_eq!(LoadTrack::parse(&b).unwrap(), l);
    let d = check(50002, &b);
    assert_eq!(d.type_name, "load_track");
    assert_eq!(d.summary, "load #4660 from D3 usb on player 2");
}

#[test]
fn load_settings_matches_the_reference_diagram() {
    let l = LoadSettings::new("rekordbox", 0x11, 2);
    let b = l.to_bytes();
    assert_eq!(b.len(), 0x74);
    // 1f = 02, 20 = sender, 21 = target, len_r 0x50, then the marker (4.1).
    assert_eq!(
        &b[0x1f..0x2c],
        &[2, 0x11, 2, 0, 0x50, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 3]
    );
    assert_eq!(
        &b[0x44..0x50],
        &[0x81, 0x81, 0x81, 0x81, 0x82, 0x80, 0, 0, 0x81, 0x80, 0x83, 0x83]
    );
    assert!(b[0x50..].iter().all(|&x| x == 0));
    assert_eq!(LoadSettings::parse(&b).unwrap(), l);
    assert_eq!(l.setting("tempo_range"), Some(0x82));
    let mut changed = l.clone();
    assert!(changed.set_setting("quantize", 0x80));
    assert!(!changed.set_setting("no_such_setting", 1));
    assert_eq!(changed.to_bytes()[0x2e], 0x80);

    let d = check(50002, &b);
    assert_eq!(d.type_name, "load_settings");
    assert_eq!(
        (d.device, d.name.as_deref()),
        (Some(0x11), Some("rekordbox"))
    );
    assert_eq!(d.field("target").and_then(Value::as_u64), Some(2));
    assert_eq!(d.field("language").and_then(Value::as_u64), Some(0x81));
    assert_eq!(
        d.field("jog_lcd_brightness").and_then(Value::as_u64),
        Some(0x83)
    );
    assert_eq!(d.summary, "load settings on D2");
}

#[test]
fn undescribed_acks_are_kept_whole() {
    for (kind, name) in [
        (0x1a, "load_track_ack"),
        (0x1c, "load_track_refused"),
        (0x1d, "cue_points_changed"),
        (0x10, "lighting_hello"),
        (0x16, "lighting_mount"),
    ] {
        let o = OpaqueStatus::new(kind, "CDJ-2000nexus", 0, 2, vec![0, 0, 0, 7]);
        let b = o.to_bytes();
        let d = check(50002, &b);
        assert_eq!(d.type_name, name);
        let d = crate::prodjlink::dissect(50002, &b, true);
        let last = d.fields.last().unwrap();
        assert_eq!(
            (last.knowledge, last.range.clone()),
            (Knowledge::Unknown, Some(0x24..0x28))
        );
    }
    let o = OpaqueStatus::new(0x04, "DJM-900NXS2", 0, 0x21, vec![0; 0x40]);
    let d = check(50001, &o.to_bytes());
    assert_eq!(d.type_name, "mixer_binding");
}

#[test]
fn truncated_settings_reply() {
    let b = hex(REPLY);
    assert!(matches!(
        Packet::parse(50002, &b[..0x40]),
        Err(Error::Truncated {
            kind: "device_settings_reply",
            ..
        })
    ));
    let d = dissect(50002, &b[..0x40], false);
    assert!(d.malformed.as_deref().unwrap().contains("settings"));
    assert_eq!(d.field("slot").and_then(Value::as_str), Some("usb"));
}
