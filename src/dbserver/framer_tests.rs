use super::*;
use crate::dbserver::body::Body;
use crate::dbserver::field::DbString;
use crate::dbserver::menu_item::MenuItem;
use crate::dbserver::responses::{BlobResponse, MenuAvailable, MenuHeader};
use crate::util::parse_hex;

/// LinkInfo.pcapng, TCP 1051, the whole client direction: greeting, setup, 3e03, and four
/// metadata requests each followed by a render (11 items, 495 bytes).
const LINKINFO_CLIENT: &str = "110000000111872349ae11fffffffe1000000f01140000000c060000000000000000000000110000000311872349ae1103800001103e030f01140000000c060000000000000000000000110301030111872349ae11038000021020020f02140000000c0606000000000000000000001103010301110000003211872349ae11038000031030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a110000000011872349ae11038000041020020f02140000000c060600000000000000000000110301030111000002ff11872349ae11038000051030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a110000000011872349ae11038000061020020f02140000000c0606000000000000000000001103010301110000036a11872349ae11038000071030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a110000000011872349ae11038000081020020f02140000000c060600000000000000000000110301030111000002f811872349ae11038000091030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a1100000000";

/// A server direction built with the Reprs: greeting, a 4000, a rendered menu of three items
/// and a blob response; returns the bytes and where each message starts.
fn server_stream() -> (Vec<u8>, Vec<usize>) {
    let mut bodies = vec![
        Body::MenuAvailable(MenuAvailable {
            request_type: 0x2002,
            count: 3,
        }),
        Body::MenuHeader(MenuHeader::default()),
    ];
    for (i, label) in ["Title", "Artist", "Album"].iter().enumerate() {
        bodies.push(Body::MenuItem(MenuItem {
            id: i as u32,
            item_type: [4, 7, 2][i],
            label1: DbString::new(label),
            label2: DbString::new(""),
            ..MenuItem::default()
        }));
    }
    bodies.push(Body::MenuFooter);
    // A blob holding a false magic, to tempt the resynchronisation.
    let mut data = vec![0xaa; 40];
    data[10..15].copy_from_slice(&MAGIC);
    bodies.push(Body::Blob(BlobResponse {
        message_type: 0x4402,
        request_type: 0x2004,
        unknown: 0,
        data,
        trailing: vec![],
    }));
    let mut bytes = Greeting::default().to_bytes();
    let mut starts = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        starts.push(bytes.len());
        bytes.extend(b.to_message(0x100 + i as u32).to_bytes());
    }
    (bytes, starts)
}

fn messages(items: &[Framed]) -> Vec<(u64, Message)> {
    items
        .iter()
        .filter_map(|f| match f {
            Framed::Message {
                offset,
                message,
                bytes,
            } => {
                assert_eq!(&message.to_bytes(), bytes);
                Some((*offset, message.clone()))
            }
            _ => None,
        })
        .collect()
}

fn feed(framer: &mut MessageFramer, chunks: &[&[u8]]) -> Vec<Framed> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend(framer.push(c));
    }
    out.extend(framer.finish());
    out
}

#[test]
fn whole_linkinfo_client_stream() {
    let b = parse_hex(LINKINFO_CLIENT).unwrap();
    let out = feed(&mut MessageFramer::new(), &[&b]);
    assert_eq!(
        out[0],
        Framed::Greeting {
            offset: 0,
            greeting: Greeting { value: 1 }
        }
    );
    let msgs = messages(&out);
    assert_eq!(msgs.len(), 10);
    assert_eq!(out.len(), 11, "nothing discarded or malformed");
    assert_eq!(msgs[0].0, 5);
    assert_eq!(
        msgs.iter()
            .filter(|(_, m)| m.message_type == 0x3000)
            .count(),
        4
    );
}

#[test]
fn every_split_point_gives_the_same_messages() {
    for b in [parse_hex(LINKINFO_CLIENT).unwrap(), server_stream().0] {
        let whole = feed(&mut MessageFramer::new(), &[&b]);
        for cut in 0..=b.len() {
            let out = feed(&mut MessageFramer::new(), &[&b[..cut], &b[cut..]]);
            assert_eq!(out, whole, "split at {cut}");
        }
        // Byte by byte, and in uneven chunks.
        let singles: Vec<&[u8]> = b.chunks(1).collect();
        assert_eq!(feed(&mut MessageFramer::new(), &singles), whole);
        let uneven: Vec<&[u8]> = b.chunks(7).collect();
        assert_eq!(feed(&mut MessageFramer::new(), &uneven), whole);
    }
}

#[test]
fn resynchronises_after_a_gap() {
    let (b, starts) = server_stream();
    let mut f = MessageFramer::new();
    // Deliver up to the middle of the second item, lose the rest of it, resume mid third item.
    let lost_from = starts[3] + 20;
    let resume_at = starts[4] + 9;
    let mut out = f.push(&b[..lost_from]);
    out.extend(f.gap());
    out.extend(f.push(&b[resume_at..]));
    out.extend(f.finish());
    let got: Vec<u16> = messages(&out).iter().map(|(_, m)| m.message_type).collect();
    assert_eq!(got, vec![0x4000, 0x4001, 0x4101, 0x4201, 0x4402]);
    let discarded: Vec<(Discard, usize)> = out
        .iter()
        .filter_map(|f| match f {
            Framed::Discarded { reason, bytes, .. } => Some((*reason, bytes.len())),
            _ => None,
        })
        .collect();
    // The partial second item, then the tail of the third item up to the footer.
    assert_eq!(
        discarded,
        vec![(Discard::Gap, 20), (Discard::Gap, starts[5] - resume_at)]
    );
}

#[test]
fn a_gap_inside_a_blob_skips_its_false_magic() {
    let (b, starts) = server_stream();
    let blob_msg = starts[6];
    let mut f = MessageFramer::new();
    let mut out = f.push(&b[..blob_msg + 40]);
    out.extend(f.gap());
    // Resume inside the blob, just before the false magic it contains.
    let mut tail = b[blob_msg + 45..].to_vec();
    tail.extend(MenuHeader::default().to_message(9).to_bytes());
    out.extend(f.push(&tail));
    out.extend(f.finish());
    let last = messages(&out).last().cloned().unwrap();
    assert_eq!((last.1.message_type, last.1.transaction_id), (0x4001, 9));
    assert!(!out.iter().any(|f| matches!(f, Framed::Malformed { .. })));
}

#[test]
fn mid_stream_start_and_malformed_records() {
    let (b, starts) = server_stream();
    // Starting inside the first message: bytes before the next magic are unsynchronised.
    let out = feed(&mut MessageFramer::new(), &[&b[starts[0] + 3..]]);
    assert!(
        matches!(&out[0], Framed::Discarded { reason: Discard::Unsynchronised, bytes, .. } if bytes.len() == starts[1] - starts[0] - 3)
    );
    assert_eq!(messages(&out).len(), 6);
    // A header with a wrong field type is reported as malformed up to the next magic.
    let mut bad = b.clone();
    bad[starts[2] + 10] = 0x11;
    let out = feed(&mut MessageFramer::new(), &[&bad]);
    let malformed: Vec<_> = out
        .iter()
        .filter(|f| matches!(f, Framed::Malformed { .. }))
        .collect();
    assert_eq!(malformed.len(), 1);
    assert!(
        matches!(malformed[0], Framed::Malformed { offset, bytes, .. } if *offset == starts[2] as u64 && bytes.len() == starts[3] - starts[2])
    );
    assert_eq!(messages(&out).len(), 6);
}

#[test]
fn buffering_is_bounded_and_reported() {
    let big = BlobResponse {
        message_type: 0x4a02,
        request_type: 0x2904,
        unknown: 0,
        data: vec![7; 500],
        trailing: vec![],
    };
    let mut b = big.to_message(1).to_bytes();
    let footer = Body::MenuFooter.to_message(2).to_bytes();
    b.extend(&footer);
    let mut f = MessageFramer::with_max_buffer(100);
    let mut out = Vec::new();
    for chunk in b.chunks(33) {
        out.extend(f.push(chunk));
        assert!(f.buffered() <= 100);
    }
    out.extend(f.finish());
    assert!(matches!(
        &out[0],
        Framed::Discarded {
            reason: Discard::TooLarge,
            ..
        }
    ));
    let total: usize = out
        .iter()
        .map(|f| match f {
            Framed::Discarded { bytes, .. }
            | Framed::Malformed { bytes, .. }
            | Framed::Message { bytes, .. } => bytes.len(),
            Framed::Greeting { .. } => 5,
        })
        .sum();
    assert_eq!(total, b.len(), "every byte is accounted for");
    assert_eq!(messages(&out).last().unwrap().1.message_type, 0x4201);
}

#[test]
fn end_of_stream_reports_the_partial_message() {
    let (b, starts) = server_stream();
    let out = feed(&mut MessageFramer::new(), &[&b[..starts[2] + 10]]);
    assert!(
        matches!(out.last(), Some(Framed::Malformed { error: Error::Incomplete { .. }, bytes, .. }) if bytes.len() == 10)
    );
}

#[test]
fn random_damage_never_panics_and_every_byte_is_reported() {
    let (clean, _) = server_stream();
    let mut seed = 0x2545_f491u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for round in 0..300 {
        let mut b = clean.clone();
        for _ in 0..(next() % 6) {
            let i = next() as usize % b.len();
            b[i] = [0x11, 0x14, 0x26, 0xff, 0x00, next() as u8][next() as usize % 6];
        }
        let mut f = MessageFramer::with_max_buffer(64 + next() as usize % 400);
        let mut out = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let end = (at + 1 + next() as usize % 90).min(b.len());
            out.extend(f.push(&b[at..end]));
            if next() % 40 == 0 {
                out.extend(f.gap());
            }
            at = end;
        }
        out.extend(f.finish());
        let mut expected_offset = 0u64;
        for item in &out {
            let (offset, len) = match item {
                Framed::Greeting { offset, .. } => (*offset, 5),
                Framed::Message { offset, bytes, .. }
                | Framed::Malformed { offset, bytes, .. }
                | Framed::Discarded { offset, bytes, .. } => (*offset, bytes.len()),
            };
            assert_eq!(
                offset, expected_offset,
                "round {round}: items are contiguous"
            );
            expected_offset += len as u64;
        }
        assert_eq!(
            expected_offset,
            b.len() as u64,
            "round {round}: every byte reported once"
        );
    }
}
