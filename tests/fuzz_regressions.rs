//! Every input a fuzz target ever failed on (`fuzz/regressions/<target>/`), run through the
//! same checks the target runs (`fuzz/src/`), on the stable toolchain. The named tests below
//! are the findings in readable form; FUZZING.md tells what each was and how it was fixed.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::path::Path;

use djdissect::util::parse_hex;
use fuzz_checks::TARGETS;

#[test]
fn every_saved_failing_input_now_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut ran = 0;
    for (name, check) in TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        let mut files: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            eprintln!("{name}: {}", f.display());
            check(&bytes);
            ran += 1;
        }
    }
    assert!(
        ran > 0,
        "no regression inputs found under {}",
        root.display()
    );
}

/// StageLinQ discovery whose version string claims more bytes than the datagram holds: the
/// dissector stopped at the truncated string and left its bytes in no field.
#[test]
fn truncated_discovery_string_stays_accounted_for() {
    // sc6000_boot.pcap f33 (an SC6000 OfflineAnalyzer HOWDY) cut inside the version string,
    // with the version length raised to 0x7f.
    let b = parse_hex(concat!(
        "61697244041235e3ef634a11bcc707b2004ebd260000000c007300630036003000300030000000220044",
        "004900530043004f00560045005200450052005f0048004f005700440059005f0000001e004f00660066",
        "006c0069006e00650041006e0061006c0079007a00650072",
        "0000007f0031002e0030"
    ))
    .unwrap();
    let mut data = vec![0, 0, 0, 0, 0];
    data.extend_from_slice(&b);
    fuzz_checks::stagelinq_discovery(&data);
}

/// One byte on a TCP 12523 connection: the port-query dissection had no field at all.
#[test]
fn one_byte_port_query_stays_accounted_for() {
    let d = djdissect::dbserver::dissect_port_query(&[0x00], true);
    assert!(d.malformed.is_some());
    assert_eq!(d.fields.len(), 1);
    assert_eq!(d.fields[0].range, Some(0..1));
}

/// A StageLinQ message longer than the decoder buffers, arriving whole in one push: the
/// decoder reported it, then an empty "rest of the message" piece.
#[test]
fn an_oversize_message_arriving_whole_leaves_no_empty_piece() {
    use djdissect::stagelinq::{classify::StreamKind, StreamDecoder};
    let mut msg = 100u32.to_be_bytes().to_vec();
    msg.extend_from_slice(b"smaa");
    msg.extend_from_slice(&[0; 96]);
    msg.extend_from_slice(&8u32.to_be_bytes());
    msg.extend_from_slice(b"smaa\0\0\0\0");
    let mut d = StreamDecoder::new(StreamKind::StateMap).with_max_message_len(64);
    let mut out = d.feed(&msg);
    out.extend(d.finish());
    assert!(out.iter().all(|m| !m.bytes.is_empty()), "{out:#?}");
    assert_eq!(
        out.iter().flat_map(|m| m.bytes.clone()).collect::<Vec<_>>(),
        msg
    );
}

/// The `dbserver_server` target's checks on the shapes its seeds take: a whole lookup after
/// the setup, each model's rules, chunked delivery, garbage, a 4 GiB length, a small backlog.
#[test]
fn dbserver_server_checks_hold_on_hand_made_inputs() {
    use djdissect::dbserver::requests::{Dmst, MetadataRequest, RenderMenuRequest};
    let dmst = Dmst {
        player: 1,
        menu: 1,
        slot: 3,
        track_type: 1,
    };
    let mut lookup = MetadataRequest {
        dmst,
        rekordbox_id: 1,
    }
    .to_message(1)
    .to_bytes();
    lookup.extend(
        RenderMenuRequest::new(dmst, 0, 13, 13)
            .to_message(2)
            .to_bytes(),
    );
    let four_gib = parse_hex(
        "11872349ae1100000001102002 0f02 140000000c060300000000000000000000 1101030301 14ffffffff",
    )
    .unwrap();
    for flags in 0..16u8 {
        for body in [
            &lookup[..],
            &four_gib[..],
            b"\x11\x00\x00\x00\x01garbage",
            &[][..],
        ] {
            for sizes in [[0u8; 4], [1, 2, 3, 200]] {
                let mut input = vec![flags];
                input.extend(sizes);
                input.extend(body);
                fuzz_checks::dbserver_server(&input);
            }
        }
    }
}
