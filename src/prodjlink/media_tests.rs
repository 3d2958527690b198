//! Media query/response from the captures and prolink-connect, the DJM quirk, and the DJM file
//! list from PDJL's dump.

use super::*;
use crate::prodjlink::testutil::{check, hex};
use crate::prodjlink::{dissect, Packet};

// S16a: requester 2 at 169.254.202.84 asks D1 about USB (prodjlink.md 15).
const QUERY: &str = "5173707431576d4a4f4c0543444a2d323030306e6578757300000000000000010002000ca9feca540000000100000003";
// S16a: D1's USB "SAM2", 692 tracks, 35 playlists (prodjlink.md 15).
const RESPONSE: &str = "5173707431576d4a4f4c0643444a2d323030306e6578757300000000000000010001009c000000010000000300530041004d003200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000032003000320035002d00300036002d00320034000000000031003000300030000000000000000000000000000000000000000000000000000002b400000101000000230000000728ca8000000000057cfa4000";
// LinkInfo.pcapng: the DJM answers about its own slot 05 with `02 21 9c 00` (4.1 quirk).
const DJM_RESPONSE: &str = "5173707431576d4a4f4c06444a4d2d323030306e65787573000000000000000102219c0000000021000000050044004a004d002d0032003000300030000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005600650072002e0030002e003000300000000000000000000000000000000000000000000000000000000000000001000000010000000000000000";

#[test]
fn media_query_both_directions() {
    let b = hex(QUERY);
    let q = MediaQuery::new("CDJ-2000nexus", 2, Ipv4Addr::new(169, 254, 202, 84), 1, 3);
    assert_eq!(MediaQuery::parse(&b).unwrap(), q);
    assert_eq!(q.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(d.type_name, "media_query");
    assert_eq!(d.device, Some(2));
    assert_eq!(d.field("slot").and_then(Value::as_str), Some("usb"));
    assert_eq!(d.summary, "asks D1 about usb, reply to 169.254.202.84");
}

#[test]
fn media_response_both_directions() {
    let b = hex(RESPONSE);
    let r = MediaResponse::parse(&b).unwrap();
    let mut expected = MediaResponse::new("CDJ-2000nexus", 1, 3, "SAM2", "2025-06-24");
    expected.track_count = 692;
    expected.playlist_count = 35;
    expected.total_bytes = 0x0000_0007_28ca_8000;
    expected.free_bytes = 0x0000_0005_7cfa_4000;
    assert_eq!(r, expected);
    assert_eq!(expected.to_bytes(), b);
    assert_eq!(
        (r.media_name(), r.creation_date()),
        ("SAM2".into(), "2025-06-24".into())
    );
    let d = check(50002, &b);
    assert_eq!(d.field("media_name").and_then(Value::as_str), Some("SAM2"));
    assert_eq!(
        d.field("version_text").and_then(Value::as_str),
        Some("1000")
    );
    assert_eq!(d.field("color").and_then(Value::as_str), Some("default"));
    assert_eq!(
        d.summary,
        "D1 usb \"SAM2\" 692 tracks 35 playlists 23.6 GB free"
    );
}

#[test]
fn djm_answers_with_swapped_length_bytes() {
    let b = hex(DJM_RESPONSE);
    let r = MediaResponse::parse(&b).unwrap();
    assert_eq!(
        (r.header.subtype, r.header.device, r.header.length),
        (2, 0x21, 0x9c00)
    );
    assert_eq!(
        (r.owner, r.slot, r.media_name()),
        (0x21, 5, "DJM-2000".into())
    );
    assert_eq!(super::utf16be(&r.version_text), "Ver.0.00");
    assert_eq!(r.to_bytes(), b);
    let d = check(50002, &b);
    assert_eq!(d.field("slot").and_then(Value::as_str), Some("djm"));
}

#[test]
fn prolink_connect_media_fixture() {
    // prolink-connect__media-slot-usb.dat: D2's USB, 76 tracks.
    let b = hex(
        "5173707431576d4a4f4c0643444a2d323030306e6578757300000000000000010002009c000000020000000300000000\
         000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
         0000000000000000000000000032003000320030002d00310030002d0031003000000000003100300030003000000000\
         00000000000000000000000000000000000000000000004c00000101000000010000000e9a1600000000000e36c68000",
    );
    let r = MediaResponse::parse(&b).unwrap();
    assert_eq!((r.owner, r.track_count, r.playlist_count), (2, 76, 1));
    assert_eq!(r.media_name(), "");
    assert_eq!(r.to_bytes(), b);
    check(50002, &b);
}

#[test]
fn djm_file_list_from_pdjl() {
    // PDJL CDJ_DJM_protocol.txt, "50002 0x0d": 0xc4 bytes (238 is the Ethernet frame length).
    let b = hex("5173707431576d4a4f4c0d444a4d2d323030306e6578757300000000000000010121e0ff00000021000000010044004a\
                 004d00460049004c0045002e005700410056000000000000000000000000000000000000000000000000000000000000\
                 0000000000000000000000000043003a002f0044004a004d00460049004c0045002e0057004100560000000000000000\
                 0000000000000000000000000000000000000000000000000000000000300030003a0030003300000031003500330036\
                 00000000");
    let f = DjmFileList::parse(&b).unwrap();
    assert_eq!(f.header.length, 0xe0ff);
    assert_eq!(super::utf16be(&f.file_name), "DJMFILE.WAV");
    assert_eq!(super::utf16be(&f.file_path), "C:/DJMFILE.WAV");
    assert_eq!(f.to_bytes(), b);
    let d = crate::prodjlink::dissect(50002, &b, true);
    crate::prodjlink::testutil::assert_covers(&d, b.len());
    // Its length field (e0ff) claims far more than the dump holds (prodjlink.md 4.1 says the
    // packet is 238 bytes; the dump has 196): every field is read, the packet is malformed.
    assert_eq!(
        d.malformed.as_deref(),
        Some("length field claims 57599 bytes, the datagram holds 196 (57403 missing)")
    );
    assert_eq!(d.type_name, "djm_file_list");
    assert_eq!(d.field("text_1").and_then(Value::as_str), Some("00:03"));
    assert_eq!(d.field("text_2").and_then(Value::as_str), Some("1536"));
    assert_eq!(d.summary, "file \"DJMFILE.WAV\" at \"C:/DJMFILE.WAV\"");

    let built = DjmFileList::new("DJM-2000nexus", 0x21, 1, "DJMFILE.WAV", "C:/DJMFILE.WAV");
    assert_eq!(DjmFileList::parse(&built.to_bytes()).unwrap(), built);
}

#[test]
fn truncated_media_response() {
    let b = hex(RESPONSE);
    assert!(matches!(
        Packet::parse(50002, &b[..0xa0]),
        Err(Error::Truncated {
            kind: "media_response",
            need: 0xc0,
            have: 0xa0
        })
    ));
    let d = dissect(50002, &b[..0xa0], false);
    assert!(d.malformed.is_some());
    assert_eq!(d.field("media_name").and_then(Value::as_str), Some("SAM2"));
    assert!(d.field("track_count").is_none());
}
