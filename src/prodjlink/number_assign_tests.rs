//! The mixer-port assignment from LinkInfo.pcapng and the libcdj collision fixture.

use super::*;
use crate::dissect::Value;
use crate::prodjlink::testutil::{check, hex};

const MAC_DJM: [u8; 6] = [0x74, 0x5e, 0x1c, 0x35, 0x63, 0x3c];

#[test]
fn mixer_assign_intent_both_directions() {
    // LinkInfo.pcapng: DJM 169.254.99.60 -> new CDJ (prodjlink.md 15).
    let b = hex("5173707431576d4a4f4c0100444a4d2d323030306e65787573000000000000000102002fa9fe633c745e1c35633c01");
    let m = MixerAssignIntent::new("DJM-2000nexus", Ipv4Addr::new(169, 254, 99, 60), MAC_DJM);
    assert_eq!(MixerAssignIntent::parse(&b).unwrap(), m);
    assert_eq!(m.to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(d.type_name, "mixer_assign_intent");
    assert_eq!(d.summary, "mixer 169.254.99.60 will assign the number");
}

#[test]
fn mixer_assign_both_directions() {
    // LinkInfo.pcapng: D=3, N=1, sub-kind 01 (prodjlink.md 15).
    let b = hex("5173707431576d4a4f4c0301444a4d2d323030306e657875730000000000000001020027030100");
    let m = MixerAssign::new("DJM-2000nexus", 3, 1);
    assert_eq!(MixerAssign::parse(&b).unwrap(), m);
    assert_eq!(m.to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(d.field("sub_kind").and_then(Value::as_u64), Some(1));
    assert_eq!(d.summary, "mixer assigns D3");
}

#[test]
fn channel_conflict_from_libcdj() {
    // libcdj__cdj-collision.dump: D5 is held by 192.168.1.33.
    let b =
        hex("5173707431576d4a4f4c080058444a2d313030300000000000000000000000000102002905c0a80121");
    let c = ChannelConflict::new("XDJ-1000", 5, Ipv4Addr::new(192, 168, 1, 33));
    assert_eq!(ChannelConflict::parse(&b).unwrap(), c);
    assert_eq!(c.to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(d.summary, "number D5 is in use by 192.168.1.33");
}
