//! On-air from the captures; fader start, handoff and sync control built from the reference.

use super::*;
use crate::prodjlink::dissect;
use crate::prodjlink::testutil::{check, hex};

#[test]
fn four_channel_on_air_from_the_djm() {
    // LinkInfo.pcapng: channel 1 off, 2-4 on. Byte 0x20 is `02` in every DJM-2000nexus
    // on-air packet captured, where prodjlink.md 3 and 15 say `00`.
    let b = hex("5173707431576d4a4f4c03444a4d2d323030306e65787573000000000000000102210009000101010000000000");
    let mut on_air = ChannelsOnAir::new("DJM-2000nexus", 0x21, &[false, true, true, true]);
    on_air.header.subtype = 2;
    assert_eq!(ChannelsOnAir::parse(&b).unwrap(), on_air);
    assert_eq!(on_air.to_bytes(), b);
    assert_eq!(on_air.on_air(), [false, true, true, true]);
    let d = check(50001, &b);
    assert_eq!(d.type_name, "channels_on_air");
    assert_eq!(
        d.field("channels"),
        Some(&Value::List(vec![
            Value::Bool(false),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true)
        ]))
    );
    assert_eq!(d.summary, "on air: 2,3,4");
}

#[test]
fn six_channel_on_air() {
    let on_air = ChannelsOnAir::new("DJM-V10", 0x21, &[true, false, false, false, false, true]);
    let b = on_air.to_bytes();
    assert_eq!(b.len(), 0x35);
    assert_eq!(&b[0x20..0x24], &[3, 0x21, 0, 0x11]);
    assert_eq!((b[0x24], b[0x2d], b[0x2e]), (1, 0, 1));
    assert_eq!(ChannelsOnAir::parse(&b).unwrap(), on_air);
    let d = check(50001, &b);
    match d.field("channels") {
        Some(Value::List(l)) => assert_eq!(l.len(), 6),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.field("channel_6"), Some(&Value::Bool(true)));
    assert_eq!(d.summary, "on air: 1,6");
}

#[test]
fn fader_start_command() {
    use fader_command::*;
    let f = FaderStart::new("DJM-2000nexus", 0x21, [START, STOP, LEAVE, LEAVE]);
    let b = f.to_bytes();
    assert_eq!(&b[0x20..], &[0, 0x21, 0, 4, 0, 1, 2, 2]);
    assert_eq!(FaderStart::parse(&b).unwrap(), f);
    let d = check(50001, &b);
    assert_eq!(d.summary, "fader start 1:start 2:stop 3:leave 4:leave");
}

#[test]
fn master_handoff_and_sync_control() {
    let r = MasterHandoffRequest::new("CDJ-2000nexus", 3);
    let b = r.to_bytes();
    assert_eq!((b.len(), b[0x21], b[0x23], b[0x27]), (0x28, 3, 4, 3));
    assert_eq!(MasterHandoffRequest::parse(&b).unwrap(), r);
    let d = check(50001, &b);
    assert_eq!(d.type_name, "master_handoff_request");
    assert_eq!(d.summary, "master takeover request from D3");

    let r = MasterHandoffResponse::new("CDJ-2000nexus", 2);
    let b = r.to_bytes();
    assert_eq!(&b[0x22..], &[0, 8, 0, 0, 0, 2, 0, 0, 0, 1]);
    assert_eq!(MasterHandoffResponse::parse(&b).unwrap(), r);
    assert_eq!(
        check(50001, &b).summary,
        "master takeover response from D2 granted"
    );

    let s = SyncControl::new("DJM-2000nexus", 0x21, sync_command::BECOME_MASTER);
    let b = s.to_bytes();
    assert_eq!((b.len(), b[0x27], b[0x2b]), (0x2c, 0x21, 1));
    assert_eq!(SyncControl::parse(&b).unwrap(), s);
    let d = check(50001, &b);
    assert_eq!(
        d.field("command").and_then(Value::as_str),
        Some("become_master")
    );
    assert_eq!(d.summary, "sync control from D33 become_master");
}

#[test]
fn truncated_control_packets() {
    let b = SyncControl::new("x", 1, sync_command::SYNC_ON).to_bytes();
    assert!(SyncControl::parse(&b[..0x2b]).is_err());
    let d = dissect(50001, &b[..0x2b], false);
    assert!(d.malformed.is_some());
    assert_eq!(d.field("sender").and_then(Value::as_u64), Some(1));
    let b = ChannelsOnAir::new("x", 0x21, &[true; 4]).to_bytes();
    let d = dissect(50001, &b[..0x26], false);
    assert!(d.malformed.is_some());
    assert_eq!(d.field("channel_2"), Some(&Value::Bool(true)));
}
