//! Discovery packets from the captures (prodjlink.md 15 annotates most of them) and the libcdj
//! fixtures, both directions.

use super::*;
use crate::dissect::Knowledge;
use crate::dissect::Value;
use crate::prodjlink::testutil::{check, hex};
use crate::prodjlink::{dissect, Packet};

const MAC_S01: [u8; 6] = [0x74, 0x5e, 0x1c, 0x56, 0x67, 0xac];
const MAC_DJM: [u8; 6] = [0x74, 0x5e, 0x1c, 0x35, 0x63, 0x3c];

// S01-cold-boot-a, CDJ-2000nexus fw 1.44 (corpus `djl/hello`).
const HELLO_CDJ: &str =
    "5173707431576d4a4f4c0a0043444a2d323030306e65787573000000000000000102002501";
// powerup.pcapng, DJM-2000nexus.
const HELLO_DJM: &str =
    "5173707431576d4a4f4c0a00444a4d2d323030306e65787573000000000000000102002502";

#[test]
fn hello_both_directions() {
    let b = hex(HELLO_CDJ);
    assert_eq!(Hello::parse(&b).unwrap(), Hello::new("CDJ-2000nexus", 1));
    assert_eq!(Hello::new("CDJ-2000nexus", 1).to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(d.type_name, "hello");
    assert_eq!(d.kind, Some(0x0a));
    assert_eq!(d.name.as_deref(), Some("CDJ-2000nexus"));
    assert_eq!(d.device, None);
    assert_eq!(d.field("device_class").and_then(Value::as_str), Some("cdj"));
    assert_eq!(d.summary, "hello from a cdj");

    let b = hex(HELLO_DJM);
    assert_eq!(Hello::new("DJM-2000nexus", 2).to_bytes(), b);
    assert_eq!(check(50000, &b).summary, "hello from a mixer");

    // libcdj__cdj-discovery.dump (XDJ-1000).
    let b = hex("5173707431576d4a4f4c0a0058444a2d313030300000000000000000000000000102002501");
    assert_eq!(Hello::parse(&b).unwrap(), Hello::new("XDJ-1000", 1));
}

#[test]
fn cdj3000_hello_is_one_byte_longer() {
    let h = Hello::cdj3000("CDJ-3000");
    let b = h.to_bytes();
    assert_eq!(&b[0x20..], &[0x01, 0x04, 0x00, 0x26, 0x01, 0x40]);
    assert_eq!(Hello::parse(&b).unwrap(), h);
    check(50000, &b);
    let d = dissect(50000, &b, true);
    let last = d.fields.last().unwrap();
    assert_eq!(
        (last.knowledge, last.range.clone()),
        (Knowledge::Unknown, Some(0x25..0x26))
    );
}

#[test]
fn claim_mac_both_directions() {
    // S01 frame 35 (corpus `djl/claim_mac`): N=1, class CDJ.
    let b = hex(
        "5173707431576d4a4f4c000043444a2d323030306e65787573000000000000000102002c0101745e1c5667ac",
    );
    let c = ClaimMac::new("CDJ-2000nexus", 1, 1, MAC_S01);
    assert_eq!(ClaimMac::parse(&b).unwrap(), c);
    assert_eq!(c.to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(
        d.field("mac").and_then(Value::as_str),
        Some("74:5e:1c:56:67:ac")
    );
    assert_eq!(d.summary, "claim 1 #1 mac 74:5e:1c:56:67:ac");

    // powerup.pcapng, the mixer: class 02.
    let b = hex(
        "5173707431576d4a4f4c0000444a4d2d323030306e65787573000000000000000102002c0102745e1c35633c",
    );
    assert_eq!(ClaimMac::new("DJM-2000nexus", 1, 2, MAC_DJM).to_bytes(), b);
    check(50000, &b);
}

#[test]
fn claim_ip_both_directions() {
    // S26: wants D2, N=1, role CDJ, auto (prodjlink.md 15).
    let b = hex("5173707431576d4a4f4c020043444a2d323030306e657875730000000000000001020032a9feca54745e1c56ca54020101\
                 01");
    let c = ClaimIp::new(
        "CDJ-2000nexus",
        Ipv4Addr::new(169, 254, 202, 84),
        [0x74, 0x5e, 0x1c, 0x56, 0xca, 0x54],
        2,
        1,
        1,
        true,
    );
    assert_eq!(ClaimIp::parse(&b).unwrap(), c);
    assert_eq!(c.to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!(d.device, Some(2));
    assert_eq!(d.field("assignment").and_then(Value::as_str), Some("auto"));
    assert_eq!(d.summary, "claim 2 #1: wants D2 (auto) at 169.254.202.84");

    // powerup.pcapng: the DJM claims 0x21 with role 02, a=01.
    let b = hex("5173707431576d4a4f4c0200444a4d2d323030306e657875730000000000000001020032ac102a03745e1c35633c21010201");
    let c = ClaimIp::parse(&b).unwrap();
    assert_eq!((c.device, c.counter, c.role, c.assignment), (0x21, 1, 2, 1));
    assert_eq!(c.to_bytes(), b);

    // libcdj__cdj-id-use-req.dump: XDJ-1000 wants D5, specific.
    let b = hex("5173707431576d4a4f4c020058444a2d3130303000000000000000000000000001020032c0a8012112131415161705010101");
    let c = ClaimIp::parse(&b).unwrap();
    assert_eq!(
        (c.ip, c.device, c.assignment),
        (Ipv4Addr::new(192, 168, 1, 33), 5, 1)
    );
    check(50000, &b);
}

#[test]
fn claim_final_and_assignment_finished() {
    // S01 frame 41 (corpus `djl/claim_number`): D1 N1.
    let b = hex("5173707431576d4a4f4c040043444a2d323030306e6578757300000000000000010200260101");
    assert_eq!(
        ClaimFinal::parse(&b).unwrap(),
        ClaimFinal::new("CDJ-2000nexus", 1, 1)
    );
    assert_eq!(ClaimFinal::new("CDJ-2000nexus", 1, 1).to_bytes(), b);
    let d = check(50000, &b);
    assert_eq!((d.type_name.as_ref(), d.device), ("claim_final", Some(1)));
    assert_eq!(d.summary, "claim 3 #1: takes D1");

    // LinkInfo.pcapng: player 2 tells the newcomer it holds D2 (prodjlink.md 15, 9.2).
    let b = hex("5173707431576d4a4f4c050043444a2d323030306e6578757300000000000000010200260201");
    let a = AssignmentFinished::new("CDJ-2000nexus", 2, 1);
    assert_eq!(AssignmentFinished::parse(&b).unwrap(), a);
    assert_eq!(a.to_bytes(), b);
    assert!(matches!(
        Packet::parse(50000, &b),
        Ok(Packet::AssignmentFinished(_))
    ));
    let d = check(50000, &b);
    assert_eq!(
        (d.type_name.as_ref(), d.summary.as_str()),
        ("assignment_finished", "holds D2")
    );

    // libcdj__cdj-id-set-req.dump.
    let b = hex("5173707431576d4a4f4c040058444a2d31303030000000000000000000000000010200260501");
    assert_eq!(ClaimFinal::parse(&b).unwrap().device, 5);
}

#[test]
fn stagehand_claim_built_from_the_reference() {
    // DYS-SH: structure 03, D = 3a always, role 05 unknown to the enum.
    let mut c = ClaimIp::new(
        "Stagehand",
        Ipv4Addr::new(10, 0, 0, 9),
        [0xc8, 0x3d, 0xfc, 1, 2, 3],
        0x3a,
        2,
        5,
        true,
    );
    c.header.structure = 3;
    let b = c.to_bytes();
    assert_eq!(ClaimIp::parse(&b).unwrap(), c);
    let d = check(50000, &b);
    assert_eq!(d.field("role").and_then(Value::as_str), Some("stagehand"));
}

#[test]
fn truncated_discovery_packets_are_malformed_not_dropped() {
    let b = hex("5173707431576d4a4f4c020043444a2d323030306e657875730000000000000001020032a9feca54745e1c56ca54020101");
    assert!(matches!(
        ClaimIp::parse(&b),
        Err(Error::Truncated {
            kind: "claim_ip",
            need: 0x32,
            have: 0x31
        })
    ));
    let d = dissect(50000, &b, false);
    assert_eq!(d.type_name, "claim_ip");
    assert!(d.malformed.as_deref().unwrap().contains("assignment"));
    assert_eq!(d.field("counter").and_then(Value::as_u64), Some(1));
    // Only the magic: header fields missing, still a dissection.
    let d = dissect(50000, &hex("5173707431576d4a4f4c0a"), false);
    assert_eq!(d.type_name, "hello");
    assert!(d.malformed.is_some());
}
