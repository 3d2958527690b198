//! Capture files: formats, byte orders, interfaces and link types read as the README promises.

mod common;

use djdissect::capture::{CaptureReader, Format, LinkType};

fn count(path: &std::path::Path) -> (Format, u64, Vec<LinkType>, i128) {
    let mut r = CaptureReader::open(path).unwrap();
    let fmt = r.format();
    let mut n = 0;
    let mut links = Vec::new();
    let mut first = None;
    while let Some(f) = r.next_frame().unwrap() {
        n += 1;
        assert_eq!(f.number, n);
        first.get_or_insert(f.ts_ns);
        if !links.contains(&f.link_type) {
            links.push(f.link_type);
        }
    }
    (fmt, n, links, first.unwrap_or(0))
}

#[test]
fn real_captures_have_the_documented_frame_counts() {
    let Some(dir) = common::shared_captures("real_captures_have_the_documented_frame_counts")
    else {
        return;
    };
    for (name, fmt, frames) in [
        ("powerup.pcapng", Format::PcapNg, 437),
        ("to-virtual.pcapng", Format::PcapNg, 162),
        ("LinkInfo.pcapng", Format::PcapNg, 1410),
        ("sc6000_boot.pcap", Format::Pcap, 1143),
        // pcapng files named .pcap are detected by magic. Counts from capinfos.
        ("usr-ein-S01-cold-boot-a.pcap", Format::Pcap, 75),
        ("usr-ein-S02-deck-b-joins.pcap", Format::Pcap, 163),
        ("usr-ein-S04-media-insert.pcap", Format::Pcap, 2597),
        ("usr-ein-S05-link-browse.pcap", Format::PcapNg, 3400),
        ("usr-ein-S10b-serve-to-cdj.pcap", Format::Pcap, 582),
        ("usr-ein-S10j-serve-to-cdj.pcap", Format::Pcap, 3021),
        ("usr-ein-S16a-settings-over-link.pcap", Format::PcapNg, 605),
        (
            "usr-ein-S26-initialization-both-auto.pcap",
            Format::PcapNg,
            453,
        ),
    ] {
        let (f, n, links, _) = count(&dir.join(name));
        assert_eq!(f, fmt, "{name}");
        assert_eq!(n, frames, "{name}");
        assert_eq!(links, vec![LinkType::Ethernet], "{name}");
    }
}

#[test]
fn big_endian_microsecond_timestamps_are_exact() {
    let Some(dir) = common::shared_captures("big_endian_microsecond_timestamps_are_exact") else {
        return;
    };
    let (_, _, _, first) = count(&dir.join("sc6000_boot.pcap"));
    // capinfos: first packet 2017-07-14 01:00:58.466175 UTC.
    assert_eq!(first, 1_499_994_058_466_175_000);
}

// ---- hand-built files: every container feature the README promises ----

fn block(big: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    let w = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut b = Vec::new();
    b.extend_from_slice(&w(kind));
    b.extend_from_slice(&w(len));
    b.extend_from_slice(body);
    b.extend(std::iter::repeat_n(0, pad));
    b.extend_from_slice(&w(len));
    b
}

fn u16b(big: bool, v: u16) -> [u8; 2] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}
fn u32b(big: bool, v: u32) -> [u8; 4] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn shb(big: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(big, 0x1a2b3c4d));
    body.extend_from_slice(&u16b(big, 1));
    body.extend_from_slice(&u16b(big, 0));
    body.extend_from_slice(&[0xff; 8]);
    block(big, 0x0a0d0d0a, &body)
}

/// IDB with an optional if_tsresol option.
fn idb(big: bool, link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16b(big, link));
    body.extend_from_slice(&u16b(big, 0));
    body.extend_from_slice(&u32b(big, 0));
    if let Some(r) = tsresol {
        body.extend_from_slice(&u16b(big, 9));
        body.extend_from_slice(&u16b(big, 1));
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(big, 1, &body)
}

fn epb(big: bool, if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(big, if_id));
    body.extend_from_slice(&u32b(big, (ts >> 32) as u32));
    body.extend_from_slice(&u32b(big, ts as u32));
    body.extend_from_slice(&u32b(big, data.len() as u32));
    body.extend_from_slice(&u32b(big, data.len() as u32));
    body.extend_from_slice(data);
    block(big, 6, &body)
}

fn spb(big: bool, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(big, data.len() as u32));
    body.extend_from_slice(data);
    block(big, 3, &body)
}

fn opb(big: bool, if_id: u16, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16b(big, if_id));
    body.extend_from_slice(&u16b(big, 0));
    body.extend_from_slice(&u32b(big, (ts >> 32) as u32));
    body.extend_from_slice(&u32b(big, ts as u32));
    body.extend_from_slice(&u32b(big, data.len() as u32));
    body.extend_from_slice(&u32b(big, data.len() as u32));
    body.extend_from_slice(data);
    block(big, 2, &body)
}

type Got = Vec<(u64, i128, LinkType, u32, Vec<u8>)>;

fn read_bytes(bytes: Vec<u8>) -> (Got, Option<djdissect::capture::CaptureError>) {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
    let mut v = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => v.push((f.number, f.ts_ns, f.link_type, f.interface, f.data.to_vec())),
            Ok(None) => return (v, None),
            Err(e) => return (v, Some(e)),
        }
    }
}

#[test]
fn pcapng_sections_of_both_byte_orders_with_all_packet_blocks() {
    let mut f = Vec::new();
    // Section 1, little-endian: Ethernet in µs (default) and raw IP in ns.
    f.extend(shb(false));
    f.extend(idb(false, 1, None));
    f.extend(idb(false, 101, Some(9)));
    f.extend(epb(false, 0, 1_000_000, b"one"));
    f.extend(epb(false, 1, 2_000_000_001, b"two"));
    f.extend(spb(false, b"three"));
    // Section 2, big-endian: interfaces restart; SLL2 with 2^-10 s units; an obsolete packet block.
    f.extend(shb(true));
    f.extend(idb(true, 276, Some(0x80 | 10)));
    f.extend(opb(true, 0, 1024 * 5, b"four"));
    f.extend(epb(true, 0, 512, b"five"));
    let (got, err) = read_bytes(f);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        got,
        vec![
            (1, 1_000_000_000, LinkType::Ethernet, 0, b"one".to_vec()),
            (2, 2_000_000_001, LinkType::Raw, 1, b"two".to_vec()),
            // A simple packet block has no time: the previous frame's is kept.
            (3, 2_000_000_001, LinkType::Ethernet, 0, b"three".to_vec()),
            (4, 5_000_000_000, LinkType::LinuxSll2, 0, b"four".to_vec()),
            (5, 500_000_000, LinkType::LinuxSll2, 0, b"five".to_vec()),
        ]
    );
}

#[test]
fn packet_on_an_undefined_interface_is_kept_not_dropped() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 3, 0, b"x"));
    let (got, err) = read_bytes(f);
    assert!(err.is_none());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, LinkType::Other(u32::MAX));
}

#[test]
fn truncated_pcapng_reports_packets_before_and_the_offset() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    let first = f.len();
    f.extend(epb(false, 0, 0, b"complete"));
    let second = f.len() as u64;
    f.extend(epb(false, 0, 0, b"cut off here"));
    let _ = first;
    f.truncate(second as usize + 20);
    let (got, err) = read_bytes(f);
    assert_eq!(got.len(), 1);
    let err = err.expect("truncation is an error");
    assert_eq!(err.offset(), Some(second), "{err}");
    assert!(
        err.to_string().contains("truncated at byte offset"),
        "{err}"
    );
}

#[test]
fn corrupt_block_length_is_named_with_its_offset() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 0, b"good"));
    let bad = f.len() as u64;
    let mut b = epb(false, 0, 0, b"bad!");
    b[4..8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    f.extend(b);
    let (got, err) = read_bytes(f);
    assert_eq!(got.len(), 1);
    let err = err.expect("corruption is an error");
    assert_eq!(err.offset(), Some(bad), "{err}");
}

#[test]
fn truncated_classic_pcap_names_the_record_offset() {
    let mut w =
        djdissect::capture::writer::PcapWriter::new(Vec::new(), LinkType::Ethernet, true, false)
            .unwrap();
    w.write_packet(0, &[1; 60]).unwrap();
    w.write_packet(0, &[2; 60]).unwrap();
    let mut bytes = w.into_inner().unwrap();
    bytes.truncate(24 + 76 + 30);
    let (got, err) = read_bytes(bytes);
    assert_eq!(got.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.offset(), Some(100), "{err}");
    assert!(
        err.to_string().contains("packet record of 76 bytes"),
        "{err}"
    );
}

#[test]
fn not_a_capture_and_empty_input_are_clear_errors() {
    let e = CaptureReader::new(Box::new(std::io::Cursor::new(b"GET / HTTP/1.1".to_vec())))
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a pcap or pcapng file"), "{e}");
    let e = CaptureReader::new(Box::new(std::io::Cursor::new(Vec::new())))
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "file is empty");
    let e = CaptureReader::new(Box::new(std::io::Cursor::new(vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0,
    ])))
    .err()
    .unwrap();
    assert!(e.to_string().contains("file header"), "{e}");
}

/// A reader that hands out one byte per call, like a slow pipe.
struct Trickle(Vec<u8>, usize);
impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1 >= self.0.len() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[self.1];
        self.1 += 1;
        Ok(1)
    }
}

#[test]
fn slow_pipes_are_read_completely() {
    for ng in [false, true] {
        let bytes = if ng {
            let mut w = djdissect::capture::writer::PcapNgWriter::new(Vec::new(), "t").unwrap();
            let i = w.add_interface(LinkType::Ethernet, "e", 6).unwrap();
            w.write_packet(i, 7_000, b"abc").unwrap();
            w.into_inner().unwrap()
        } else {
            let mut w = djdissect::capture::writer::PcapWriter::new(
                Vec::new(),
                LinkType::Ethernet,
                false,
                true,
            )
            .unwrap();
            w.write_packet(7_000, b"abc").unwrap();
            w.into_inner().unwrap()
        };
        let mut r = CaptureReader::new(Box::new(Trickle(bytes, 0))).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!((f.ts_ns, f.data), (7_000, &b"abc"[..]));
        assert!(r.next_frame().unwrap().is_none());
    }
}

// ---- damage: what is reported, and where reading resumes ----

/// Every frame and every error, going on after skipped damage.
fn read_through(bytes: Vec<u8>) -> (Got, Vec<djdissect::capture::CaptureError>) {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
    let (mut v, mut errors) = (Vec::new(), Vec::new());
    loop {
        match r.next_frame() {
            Ok(Some(f)) => v.push((f.number, f.ts_ns, f.link_type, f.interface, f.data.to_vec())),
            Ok(None) => return (v, errors),
            Err(e) => {
                let go_on = e.is_resumable();
                errors.push(e);
                if !go_on {
                    return (v, errors);
                }
            }
        }
    }
}

fn datas(got: &Got) -> Vec<&[u8]> {
    got.iter().map(|g| &g.4[..]).collect()
}

#[test]
fn pcapng_block_with_a_wrong_trailing_length_is_skipped_and_reading_resumes() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 0, b"one"));
    let bad = f.len();
    let mut b = epb(false, 0, 0, b"two");
    let n = b.len();
    b[n - 4] ^= 0x10;
    f.extend(&b);
    f.extend(epb(false, 0, 0, b"three"));
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&b"one"[..], b"three"]);
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(e.is_resumable());
    assert_eq!(e.offset(), Some(bad as u64));
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("corrupt at byte offset {bad}:")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "skipped {n} bytes, reading resumed at byte offset {}",
            bad + n
        )),
        "{text}"
    );
}

#[test]
fn pcapng_block_claiming_2_gib_is_skipped() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    let bad = f.len();
    let mut b = epb(false, 0, 0, b"huge?");
    b[4..8].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    f.extend(&b);
    f.extend(epb(false, 0, 0, b"after"));
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&b"after"[..]]);
    assert_eq!(errors[0].offset(), Some(bad as u64));
    assert!(
        errors[0].to_string().contains("2147483648 bytes"),
        "{}",
        errors[0]
    );
}

#[test]
fn garbage_between_pcapng_blocks_is_skipped_with_its_exact_range() {
    let mut f = shb(true);
    f.extend(idb(true, 1, None));
    f.extend(epb(true, 0, 0, b"before"));
    let at = f.len();
    f.extend((0..333u32).map(|i| (i * 7 + 3) as u8));
    f.extend(epb(true, 0, 0, b"after"));
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&b"before"[..], b"after"]);
    assert_eq!(errors.len(), 1);
    match &errors[0] {
        djdissect::capture::CaptureError::Skipped { offset, len, .. } => {
            assert_eq!((*offset, *len), (at as u64, 333));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn damage_with_nothing_valid_after_it_ends_reading() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 0, b"good"));
    let bad = f.len();
    f.extend([0xee; 40]);
    let (got, errors) = read_through(f);
    assert_eq!(got.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(!errors[0].is_resumable());
    assert_eq!(errors[0].offset(), Some(bad as u64));
    assert!(
        errors[0]
            .to_string()
            .contains("nothing valid follows in the remaining 40 bytes"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_length_past_the_end_with_valid_blocks_inside_is_damage_not_truncation() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    let bad = f.len();
    let mut b = epb(false, 0, 0, b"lying");
    b[4..8].copy_from_slice(&4096u32.to_le_bytes());
    f.extend(&b);
    f.extend(epb(false, 0, 0, b"real"));
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&b"real"[..]]);
    assert!(errors[0].is_resumable(), "{}", errors[0]);
    assert_eq!(errors[0].offset(), Some(bad as u64));
    assert!(
        errors[0].to_string().contains("damaged length field"),
        "{}",
        errors[0]
    );
}

#[test]
fn damaged_section_header_resynchronises_on_the_next_block() {
    let mut f = shb(false);
    f[8] ^= 0xff; // byte-order magic
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 0, b"kept"));
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&b"kept"[..]]);
    assert_eq!(got[0].2, LinkType::Ethernet);
    assert_eq!(errors[0].offset(), Some(0));
    assert!(
        errors[0].to_string().contains("byte-order magic"),
        "{}",
        errors[0]
    );
}

fn classic(records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut w =
        djdissect::capture::writer::PcapWriter::new(Vec::new(), LinkType::Ethernet, false, false)
            .unwrap();
    for (s, us, d) in records {
        w.write_packet(*s as i128 * 1_000_000_000 + *us as i128 * 1000, d)
            .unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn classic_pcap_resynchronises_on_a_plausible_record_chain() {
    let recs: [(u32, u32, &[u8]); 4] = [
        (1_700_000_000, 1, &[1; 60]),
        (1_700_000_001, 2, &[2; 60]),
        (1_700_000_002, 3, &[3; 60]),
        (1_700_000_003, 4, &[4; 60]),
    ];
    let mut f = classic(&recs);
    // Second record: microseconds of a second or more.
    let second = 24 + 76;
    f[second + 4..second + 8].copy_from_slice(&2_000_000u32.to_le_bytes());
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&[1u8; 60][..], &[3; 60], &[4; 60]]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].offset(), Some(second as u64));
    assert!(
        errors[0].to_string().contains("timestamp fraction"),
        "{}",
        errors[0]
    );
    // Garbage inserted between records is skipped exactly.
    let mut f = classic(&recs);
    let at = 24 + 76 * 2;
    f.splice(at..at, [0x5a; 50]);
    let (got, errors) = read_through(f);
    assert_eq!(got.len(), 4);
    match &errors[..] {
        [djdissect::capture::CaptureError::Skipped { offset, len, .. }] => {
            assert_eq!((*offset, *len), (at as u64, 50));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn classic_pcap_record_claiming_4_gib_is_damage() {
    let mut f = classic(&[(1, 0, &[1; 20]), (2, 0, &[2; 20])]);
    f[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (got, errors) = read_through(f);
    assert_eq!(datas(&got), [&[2u8; 20][..]]);
    assert!(
        errors[0].to_string().contains("4294967295 captured bytes"),
        "{}",
        errors[0]
    );
}
