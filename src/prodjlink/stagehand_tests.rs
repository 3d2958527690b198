//! Stagehand frames built from DYS-SH (no public capture holds any).

use super::*;
use crate::prodjlink::testutil::check;
use crate::prodjlink::{dissect, Packet, PrecisePosition};

#[test]
fn transport_command() {
    let mut header = PeerHeader::to_stagehand("Stagehand");
    header.peer = 2;
    let t = StagehandTransport::new(header, 0x18, true);
    let b = t.to_bytes();
    assert_eq!(b.len(), 56);
    assert_eq!((b[0x1e], b[0x2b], b[0x2d]), (2, 0x18, 1));
    assert_eq!(StagehandTransport::parse(&b).unwrap(), t);
    let d = check(50001, &b);
    assert_eq!(d.type_name, "stagehand_transport");
    assert_eq!(
        d.field("action").and_then(Value::as_str),
        Some("skip_forward")
    );
    assert_eq!(d.summary, "stagehand transport skip_forward press");
}

#[test]
fn command_to_the_a9() {
    let c = StagehandCommand::new("Stagehand", 0x21, 0x00b4, 0x000a_0000);
    let b = c.to_bytes();
    assert_eq!(&b[0x1e..], &[0x21, 2, 0, 0xb4, 0, 4, 0, 0x0a, 0, 0]);
    assert_eq!(StagehandCommand::parse(&b).unwrap(), c);
    assert_eq!(
        check(50002, &b).summary,
        "stagehand command 00b4 arg 000a0000"
    );
}

#[test]
fn preference_write() {
    let p = StagehandPrefWrite::new(PeerHeader::to_stagehand("Stagehand"), 0x81, 0x82);
    let b = p.to_bytes();
    assert_eq!(b.len(), 124);
    assert_eq!((b[0x24], b[0x2c], b[0x3c]), (1, 0x81, 0x82));
    assert_eq!(StagehandPrefWrite::parse(&b).unwrap(), p);
    let d = check(50002, &b);
    assert_eq!(d.field("on_air_display"), Some(&Value::Bool(true)));
    assert_eq!(d.summary, "stagehand preference write");
}

#[test]
fn opaque_frames_by_kind() {
    let h = PeerHeader::to_stagehand("CDJ-3000");
    for (port, kind, len, name) in [
        (50001, 0x0b, 68, "stagehand_telemetry"),
        (50001, 0x58, 584, "stagehand_vu_meters"),
        (50001, 0x6a, 53, "stagehand_heartbeat"),
        (50002, 0x3b, 40, "stagehand_short_heartbeat"),
        (50002, 0x3d, 2572, "stagehand_track_metadata"),
        (50002, 0x68, 68, "stagehand_panel_heartbeat"),
        (50002, 0x69, 90, "stagehand_settings_snapshot"),
        (50002, 0x6c, 70, "stagehand_device_list"),
        (50002, 0x6d, 70, "stagehand_device_list"),
    ] {
        let body: Vec<u8> = (0..len - 0x20).map(|i| i as u8).collect();
        let f = PeerFrame::new(kind, h, body);
        let b = f.to_bytes();
        assert_eq!(b.len(), len);
        assert_eq!(PeerFrame::parse(&b).unwrap(), f);
        let p = Packet::parse(port, &b).unwrap();
        assert_eq!(p.port(), port);
        let d = check(port, &b);
        assert_eq!(d.type_name, name);
    }
    let meta = PeerFrame::new(0x3d, h, vec![0; 2572 - 0x20]).to_bytes();
    let d = dissect(50002, &meta, false);
    assert!(d.field("track_id").is_some() && d.field("track_id_copy").is_some());
}

#[test]
fn the_peer_marker_separates_the_two_0x0b_packets() {
    let telemetry = PeerFrame::new(0x0b, PeerHeader::to_stagehand("CDJ-3000"), vec![0; 36]);
    assert!(matches!(
        Packet::parse(50001, &telemetry.to_bytes()),
        Ok(Packet::StagehandTelemetry(_))
    ));
    let position = PrecisePosition::new("CDJ-3000", 3, 1, 2, 0.0, None);
    assert!(matches!(
        Packet::parse(50001, &position.to_bytes()),
        Ok(Packet::PrecisePosition(_))
    ));
}

#[test]
fn truncated_stagehand_frames() {
    let c = StagehandCommand::new("Stagehand", 0x21, 0xb1, 1).to_bytes();
    assert!(StagehandCommand::parse(&c[..0x26]).is_err());
    let d = dissect(50002, &c[..0x26], false);
    assert!(d.malformed.is_some());
    assert_eq!(d.field("opcode").and_then(Value::as_u64), Some(0xb1));
    assert!(PeerFrame::parse(&c[..0x1f]).is_err());
}
