use super::*;
use crate::util::parse_hex;

// LinkInfo.pcapng TCP 1051 (prodjlink.md 15).
const METADATA_REQ: &str =
    "11872349ae11038000021020020f02140000000c06060000000000000000000011030103011100000032";
const SETUP_RSP: &str =
    "11872349ae11fffffffe1040000f02140000000c06060000000000000000000011000000001100000002";
const TITLE_ITEM: &str = "11872349ae11038000031041010f0c140000000c0606060206020606060606061100000001110000003211000000722600000039005400680069006e0067002000430061006c006c006500640020004c006f0076006500200028004d006100740020005a006f002000520065006d0069007800290020005b0066006500610074002e0020005200690063006800610072006400200042006500640066006f00720064005d000011000000022600000001000011000000041101000000110000002e110000000011000001001100000000";
// usr-ein S10j: waveform preview request with a declared but absent blob, and a cue list.
const PREVIEW_REQ: &str = "11872349ae11038020f11020040f05140000000c0606060603000000000000001102080301110000000311000000b61100000000";
const CUE_LIST: &str = "11872349ae11038020f21047020f09140000000c06060603060606060300000011000021041100000000110000006c140000006c000101000000000000000000260000000000000000000000000000000000000000000000000102000000000000000000b32e00000000000000000000000000000000000000000000000103000000000000000000405d000000000000000000000000000000000000000000001100000024110000000311000000001100000018140000001800010000ffffffff58370100ffffffffb06d0200ffffffff";

/// Every byte of the message belongs to some field (known or unknown).
fn assert_covered(d: &Dissection, len: usize) {
    let mut covered = vec![false; len];
    for f in &d.fields {
        if let Some(r) = &f.range {
            assert!(r.end <= len, "{} runs past the message", f.name);
            covered[r.clone()].iter_mut().for_each(|c| *c = true);
        }
    }
    let missing: Vec<usize> = (0..len).filter(|&i| !covered[i]).collect();
    assert!(missing.is_empty(), "bytes not covered: {missing:?}");
}

#[test]
fn metadata_request_fields() {
    let b = parse_hex(METADATA_REQ).unwrap();
    let d = dissect(&b, true);
    assert_eq!(d.proto, Proto::DbServer);
    assert_eq!(
        (d.kind, d.type_name.as_ref()),
        (Some(0x2002), "metadata_request")
    );
    assert_eq!(d.device, Some(3));
    assert_eq!(
        d.field("transaction_id").and_then(Value::as_u64),
        Some(0x0380_0002)
    );
    assert_eq!(d.field("rekordbox_id").and_then(Value::as_u64), Some(50));
    assert_eq!(d.field("slot").and_then(Value::as_u64), Some(3));
    assert_eq!(d.field("menu").and_then(Value::as_u64), Some(1));
    let dmst = d.fields.iter().find(|f| f.name == "dmst").unwrap();
    assert_eq!(dmst.range, Some(32..37));
    assert!(dmst.meaning.as_deref().unwrap().contains("the USB slot"));
    assert_eq!(
        d.summary,
        "tx 03800002 metadata of rekordbox track 50 (player 3 the USB slot)"
    );
    assert!(d.malformed.is_none());
    assert_covered(&d, b.len());
}

#[test]
fn setup_answer_names_the_server() {
    let d = dissect(&parse_hex(SETUP_RSP).unwrap(), true);
    assert_eq!(d.type_name, "menu_available");
    let count = d.fields.iter().find(|f| f.name == "count").unwrap();
    assert_eq!(
        count.meaning.as_deref(),
        Some("setup accepted; the server is player 2")
    );
    assert_eq!(d.summary, "tx fffffffe setup accepted by player 2");
    assert_eq!(d.device, Some(2));
}

#[test]
fn menu_item_fields_and_meaning() {
    let b = parse_hex(TITLE_ITEM).unwrap();
    let d = dissect(&b, false);
    assert_eq!(d.type_name, "menu_item");
    assert_eq!(
        d.field("label1").and_then(Value::as_str),
        Some("Thing Called Love (Mat Zo Remix) [feat. Richard Bedford]")
    );
    assert_eq!(d.field("item_kind").and_then(Value::as_str), Some("title"));
    assert_eq!(d.field("artwork_id").and_then(Value::as_u64), Some(46));
    assert!(d.field("title").is_some());
    // Arguments 11 and 12 are decoded but their meaning is unknown.
    let arg11 = d.fields.iter().find(|f| f.name == "arg11").unwrap();
    assert_eq!(
        (arg11.knowledge, &arg11.value),
        (Knowledge::Unknown, &Value::U(0x100))
    );
    assert!(d.summary.contains("title 'Thing Called Love"));
    assert_covered(&d, b.len());
}

#[test]
fn omitted_blob_is_shown_without_bytes() {
    let b = parse_hex(PREVIEW_REQ).unwrap();
    let d = dissect(&b, true);
    assert_eq!(d.type_name, "waveform_preview_request");
    let blob = d.fields.iter().find(|f| f.name == "blob").unwrap();
    assert_eq!(
        (blob.range.clone(), blob.knowledge),
        (None, Knowledge::Derived)
    );
    assert!(d.malformed.is_none());
    assert_covered(&d, b.len());
}

#[test]
fn cue_list_summarised_with_raw_bytes_in_detail() {
    let b = parse_hex(CUE_LIST).unwrap();
    let d = dissect(&b, true);
    assert_eq!(d.type_name, "cue_list");
    assert_eq!(d.field("hot_cue_count").and_then(Value::as_u64), Some(3));
    assert_eq!(d.field("cue_count").and_then(Value::as_u64), Some(3));
    assert!(matches!(d.field("cues_raw"), Some(Value::Bytes(raw)) if raw.len() == 108));
    assert_eq!(
        d.field("cues"),
        Some(&Value::Obj(vec![
            ("bytes".into(), Value::U(108)),
            ("cues".into(), Value::U(3))
        ]))
    );
    assert_eq!(
        d.summary,
        "tx 038020f2 3 hot cues, 0 memory points: A 0:00.25, B 1:19.70, C 2:39.14"
    );
    // Without detail the raw bytes stay out of the fields.
    assert!(dissect(&b, false).field("cues_raw").is_none());
    assert_covered(&d, b.len());
}

#[test]
fn unknown_types_keep_every_argument() {
    let msg = Message::new(
        0x0380_0005,
        0x3903,
        vec![
            Field::U32(7),
            Field::Str(crate::dbserver::DbString::new("x")),
        ],
    );
    let b = msg.to_bytes();
    let d = dissect(&b, false);
    assert_eq!(d.type_name, "undocumented_3903");
    assert_eq!(d.field("arg1").and_then(Value::as_u64), Some(7));
    assert_eq!(d.field("arg2").and_then(Value::as_str), Some("x"));
    assert!(d
        .fields
        .iter()
        .filter(|f| f.name.starts_with("arg"))
        .all(|f| f.knowledge == Knowledge::Known));
    assert_eq!(d.summary, "tx 03800005 undocumented_3903 [7, 'x']");
    let d = dissect(&Message::new(1, 0x7777, vec![]).to_bytes(), false);
    assert_eq!(
        (d.type_name.as_ref(), d.kind),
        ("unknown_7777", Some(0x7777))
    );
}

#[test]
fn greeting() {
    let d = dissect(&[0x11, 0, 0, 0, 1], false);
    assert_eq!(
        (d.type_name.as_ref(), d.summary.as_str()),
        ("greeting", "greeting 1")
    );
    assert_eq!(d.field("greeting").and_then(Value::as_u64), Some(1));
}

#[test]
fn truncated_and_corrupted_messages_never_panic() {
    for hex in [METADATA_REQ, SETUP_RSP, TITLE_ITEM, PREVIEW_REQ, CUE_LIST] {
        let b = parse_hex(hex).unwrap();
        for cut in 0..b.len() {
            let d = dissect(&b[..cut], true);
            assert!(d.malformed.is_some(), "cut {cut} of {hex:.20}");
            assert_covered(&d, cut);
        }
        for i in 0..b.len() {
            for x in [0x00, 0x0f, 0x10, 0x11, 0x14, 0x26, 0xff] {
                let mut bad = b.clone();
                bad[i] = x;
                let d = dissect(&bad, true);
                assert_covered(&d, bad.len());
            }
        }
    }
    let mut trailing = parse_hex(METADATA_REQ).unwrap();
    trailing.extend([1, 2, 3]);
    let d = dissect(&trailing, true);
    assert!(d
        .fields
        .iter()
        .any(|f| f.knowledge == Knowledge::Unknown && f.range == Some(42..45)));
}

/// From a parsed message, the deep depths give exactly what the byte walk gives (they reuse the
/// parsed message for the derived fields and the summary instead of parsing again, issue 11);
/// the shallow ones, which skip the walk, the same head.
#[test]
fn parsed_messages_dissect_like_their_bytes() {
    for hex in [METADATA_REQ, SETUP_RSP, TITLE_ITEM, PREVIEW_REQ, CUE_LIST] {
        let b = parse_hex(hex).unwrap();
        let (msg, n) = Message::parse(&b).unwrap();
        assert_eq!(n, b.len());
        for depth in [Depth::Fields, Depth::Json, Depth::Detail] {
            let (parsed, walked) = (dissect_parsed(&b, &msg, depth), dissect(&b, depth));
            assert!(parsed == walked, "{hex} at {depth:?}");
            assert!(depth != Depth::Detail || !parsed.fields.is_empty());
        }
        // Identity needs no summary, so only the fast path leaves it out.
        for depth in [Depth::Identity, Depth::Head] {
            let (parsed, walked) = (dissect_parsed(&b, &msg, depth), dissect(&b, depth));
            let head = |d: &Dissection| (d.type_name.clone(), d.device, d.kind);
            assert_eq!(head(&parsed), head(&walked), "{hex} at {depth:?}");
            if depth == Depth::Head {
                assert_eq!(parsed.summary, walked.summary);
            }
        }
    }
}
