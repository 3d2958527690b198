//! Framer tests over real segments of sc6000_boot.pcap: any chunking gives the same messages,
//! gaps are reported and recovered from, buffering stays bounded.

use proptest::prelude::*;

use super::beatinfo::BeatInfoMessage;
use super::directory::DirectoryMessage;
use super::stream::{StreamDecoder, StreamMessage, CLASSIFY_LIMIT};
use super::{ConnectionDecoder, Message, Side, StreamKind};
use crate::util::parse_hex;

/// f66: the mixer's BeatInfo hello (port 50012) and start frame in one segment.
const F66: &str = "000000000000000000000000800000059504141c0000001000420065006100740049006e0066006fc35c0000000400000000";
/// f70, f71, f72: the SC6000's first three beat emits.
const F70: &str = "0000005000000002000000084175e0db0000000200000000000000000000000000000000405e7e6df800000100000000000000000000000000000000405e7e6df800000100000000000000000000000000000000";
const F71: &str = "000000500000000200000008444120dc0000000200000000000000000000000000000000405e7e6df800000100000000000000000000000000000000405e7e6df800000100000000000000000000000000000000";
const F72: &str = "00000050000000020000000845ee10cd0000000200000000000000000000000000000000405e7e6df800000100000000000000000000000000000000405e7e6df800000100000000000000000000000000000000";
/// f61: the mixer's StateMap hello; f78 a subscribe; f194 three 0x7d1 writes in one segment.
const F61: &str =
    "000000000000000000000000800000059504141c0000001000530074006100740065004d00610070c35b";
const F78: &str = "0000004c736d6161000007d20000003c002f0045006e00670069006e0065002f004400650063006b0031002f0054007200610063006b002f00430075007200720065006e007400420050004d00000064";
const F194: &str = "00000072736d6161000007d100000034002f0043006c00690065006e0074002f0050007200650066006500720065006e006300650073002f0050006c00610079006500720000002e007b00220073007400720069006e00670022003a002200310022002c002200740079007000650022003a0034007d00000080736d6161000007d100000042002f0045006e00670069006e0065002f004400650063006b0032002f00450078007400650072006e0061006c004d00690078006500720056006f006c0075006d00650000002e007b002200740079007000650022003a0030002c002200760061006c007500650022003a0030002e00300030007d00000080736d6161000007d100000042002f0045006e00670069006e0065002f004400650063006b0031002f00450078007400650072006e0061006c004d00690078006500720056006f006c0075006d00650000002e007b002200740079007000650022003a0030002c002200760061006c007500650022003a0030002e00300030007d";
/// f51 (ServicesRequest + 6 announcements) and f170 (an echo) from the SC6000 on the main
/// connection.
const F51: &str = "000000028fba5ced93814d5cb3345bf935b8e49e000000008fba5ced93814d5cb3345bf935b8e49e0000001000530074006100740065004d0061007096e7000000008fba5ced93814d5cb3345bf935b8e49e0000001200420072006f006100640063006100730074b70f000000008fba5ced93814d5cb3345bf935b8e49e0000000e00530079006e00630069006e00679d5d000000008fba5ced93814d5cb3345bf935b8e49e0000002600540069006d006500530079006e006300680072006f006e0069007a006100740069006f006ea771000000008fba5ced93814d5cb3345bf935b8e49e0000001000420065006100740049006e0066006fa7a7000000008fba5ced93814d5cb3345bf935b8e49e0000001800460069006c0065005400720061006e00730066006500728267";
const F170: &str =
    "000000010000000000000000800000059504141c8fba5ced93814d5cb3345bf935b8e49e797e520000000000";

fn hex(parts: &[&str]) -> Vec<u8> {
    parts.iter().flat_map(|p| parse_hex(p).unwrap()).collect()
}

/// Push `bytes` cut at `cuts` (sorted positions) into a fresh auto decoder.
fn run(bytes: &[u8], cuts: &[usize]) -> Vec<StreamMessage> {
    let mut d = StreamDecoder::auto(None);
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let c = c.clamp(start, bytes.len());
        out.extend(d.feed(&bytes[start..c]));
        start = c;
    }
    out.extend(d.finish());
    out
}

fn types(ms: &[StreamMessage]) -> Vec<String> {
    ms.iter()
        .map(|m| m.dissection.type_name.to_string())
        .collect()
}

#[test]
fn every_single_split_point_gives_the_same_messages() {
    for (stream, want) in [
        (hex(&[F66]), vec!["service_hello", "beat_info_start"]),
        (hex(&[F70, F71, F72]), vec!["beat_info"; 3]),
        (hex(&[F61, F78, F194]), {
            let mut v = vec!["service_hello", "statemap_subscribe"];
            v.extend(["statemap_set"; 3]);
            v
        }),
        (hex(&[F51, F170]), {
            let mut v = vec!["services_request"];
            v.extend(["service_announcement"; 6]);
            v.push("reference");
            v
        }),
    ] {
        let whole = run(&stream, &[]);
        assert_eq!(types(&whole), want);
        let joined: Vec<u8> = whole.iter().flat_map(|m| m.bytes.clone()).collect();
        assert_eq!(joined, stream);
        for m in &whole {
            assert_eq!(m.dissection.malformed, None);
            assert_eq!(m.message.as_ref().unwrap().to_bytes(), m.bytes);
        }
        for cut in 0..=stream.len() {
            assert_eq!(run(&stream, &[cut]), whole, "cut at {cut}");
        }
    }
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_messages(mut cuts in proptest::collection::vec(0usize..700, 0..40)) {
        let stream = hex(&[F61, F78, F194]);
        cuts.sort_unstable();
        prop_assert_eq!(run(&stream, &cuts), run(&stream, &[]));
        let beats = hex(&[F66]);
        prop_assert_eq!(run(&beats, &cuts), run(&beats, &[]));
    }

    #[test]
    fn garbage_never_panics_and_every_byte_comes_out(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        cuts in proptest::collection::vec(0usize..2000, 0..10),
        kind in 0usize..9,
    ) {
        let kinds = [
            StreamKind::Directory, StreamKind::StateMap, StreamKind::BeatInfo,
            StreamKind::FileTransfer, StreamKind::TimeSynchronization, StreamKind::Broadcast,
            StreamKind::Eaas, StreamKind::Syncing, StreamKind::Unknown,
        ];
        let mut d = StreamDecoder::new(kinds[kind]).with_max_message_len(256);
        let mut out = Vec::new();
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut start = 0;
        for (i, &c) in cuts.iter().enumerate() {
            let c = c.clamp(start, bytes.len());
            out.extend(d.feed(&bytes[start..c]));
            match i % 3 {
                2 => d.gap(),
                1 => d.gap_len(c as u64 % 50),
                _ => {}
            }
            prop_assert!(d.buffered() <= 256 + c - start);
            start = c;
        }
        out.extend(d.feed(&bytes[start..]));
        out.extend(d.finish());
        let joined: Vec<u8> = out.iter().flat_map(|m| m.bytes.clone()).collect();
        prop_assert_eq!(joined, bytes);
    }
}

proptest! {
    #[test]
    fn every_decoder_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use super::*;
        let _ = super::dissect_datagram(&bytes, true);
        let _ = discovery::Discovery::parse(&bytes);
        let _ = eaas::EaasDiscovery::parse(&bytes);
        for kind in [
            StreamKind::Directory, StreamKind::StateMap, StreamKind::BeatInfo,
            StreamKind::FileTransfer, StreamKind::TimeSynchronization, StreamKind::Broadcast,
            StreamKind::Syncing, StreamKind::Unknown,
        ] {
            for hello in [false, true] {
                let (d, m) = stream::decode(kind, &bytes, hello, true);
                if let Some(m) = m {
                    // Whatever parses emits the same bytes.
                    prop_assert_eq!(m.to_bytes(), bytes.clone());
                } else {
                    prop_assert!(d.malformed.is_some() || d.type_name == "unknown");
                }
            }
        }
        // Valid headers with garbage bodies reach deeper into each parser.
        for magic in [&b"smaa"[..], b"fltx"] {
            let mut b = ((bytes.len() + 4) as u32).to_be_bytes().to_vec();
            b.extend(magic);
            b.extend(&bytes);
            let _ = statemap::dissect(&b, true);
            let _ = filetransfer::dissect(&b, true);
            if let Ok(m) = statemap::StateMapMessage::parse(&b) {
                prop_assert_eq!(m.to_bytes(), b.clone());
            }
            if let Ok(m) = filetransfer::FileTransferMessage::parse(&b) {
                prop_assert_eq!(m.to_bytes(), b.clone());
            }
        }
    }
}

#[test]
fn gap_in_a_beat_emit_is_reported_then_framing_resumes() {
    let (f70, f71, f72) = (hex(&[F70]), hex(&[F71]), hex(&[F72]));
    let mut d = StreamDecoder::new(StreamKind::BeatInfo);
    let mut out = d.feed(&f70);
    out.extend(d.feed(&f71[..30]));
    d.gap();
    out.extend(d.feed(&f71[64..]));
    out.extend(d.feed(&f72));
    assert_eq!(
        types(&out),
        ["beat_info", "unknown", "unknown", "beat_info"]
    );
    assert_eq!((out[1].bytes.len(), out[2].bytes.len()), (30, 20));
    assert!(out[1].dissection.summary.contains("gap"));
    let Some(Message::BeatInfo(BeatInfoMessage::Beat(e))) = &out[3].message else {
        panic!()
    };
    assert_eq!(e.clock, 0x0000_0008_45ee_10cd);
}

#[test]
fn a_gap_of_known_length_keeps_the_framing() {
    // The reassembler knows how many bytes are missing: framing resumes right after the
    // damaged message, and offsets stay those of the stream.
    let stream = hex(&[F70, F71, F72]);
    let mut d = StreamDecoder::new(StreamKind::BeatInfo);
    let mut out = d.feed(&stream[..84 + 30]);
    d.gap_len(10);
    out.extend(d.feed(&stream[84 + 40..]));
    assert_eq!(
        types(&out),
        ["beat_info", "unknown", "unknown", "beat_info"]
    );
    let offsets: Vec<u64> = out.iter().map(|m| m.offset).collect();
    assert_eq!(offsets, [0, 84, 124, 168]);
    assert_eq!(out[3].bytes, hex(&[F72]));
    // The same for the hello + subscribe of a StateMap stream, the gap in the hello.
    let stream = hex(&[F61, F78]);
    let mut d = StreamDecoder::auto(None);
    let mut out = d.feed(&stream[..30]);
    d.gap_len(5);
    out.extend(d.feed(&stream[35..]));
    assert_eq!(d.kind(), Some(StreamKind::StateMap));
    assert_eq!(types(&out), ["unknown", "unknown", "statemap_subscribe"]);
    // A gap across a message boundary cannot keep the framing: resync as after `gap()`.
    let stream = hex(&[F70, F71, F72]);
    let mut d = StreamDecoder::new(StreamKind::BeatInfo);
    let mut out = d.feed(&stream[..80]);
    d.gap_len(20);
    out.extend(d.feed(&stream[100..]));
    assert_eq!(types(&out), ["unknown", "unknown", "beat_info"]);
    assert_eq!(out[2].offset, 168);
}

#[test]
fn gap_in_statemap_and_directory_streams_resyncs_on_the_next_message() {
    let stream = hex(&[F61, F78, F194]);
    let mut d = StreamDecoder::auto(None);
    // Hello (42 bytes), subscribe (80), then 8 bytes of the first 0x7d1 write (118).
    let mut out = d.feed(&stream[..130]);
    d.gap();
    // Resume in the middle of that write: its tail is unknown, the next two decode.
    out.extend(d.feed(&stream[42 + 80 + 50..]));
    assert_eq!(
        types(&out),
        [
            "service_hello",
            "statemap_subscribe",
            "unknown",
            "unknown",
            "statemap_set",
            "statemap_set"
        ]
    );
    assert_eq!((out[2].bytes.len(), out[3].bytes.len()), (8, 118 - 50));

    // Directory: after a gap, the next message is found by the tokens seen before it.
    let mut d = StreamDecoder::auto(None);
    let main = hex(&[F51, F170, F170]);
    let mut out = d.feed(&main[..70]);
    d.gap();
    out.extend(d.feed(&main[302 + 10..]));
    let t = types(&out);
    assert_eq!(t[..2], ["services_request", "service_announcement"]);
    assert_eq!(t[2..], ["unknown", "unknown", "reference"]);
    assert!(matches!(
        out[4].message,
        Some(Message::Directory(DirectoryMessage::Reference(_)))
    ));
}

#[test]
fn oversize_messages_are_reported_not_buffered() {
    let stream = hex(&[F78, F194]);
    let mut d = StreamDecoder::new(StreamKind::StateMap).with_max_message_len(100);
    let mut out = Vec::new();
    for b in stream.chunks(10) {
        out.extend(d.feed(b));
        assert!(d.buffered() < 100 + 10);
    }
    out.extend(d.finish());
    let t = types(&out);
    // F78 (80 bytes) fits; the first write (118 bytes) is oversize and passed on in pieces;
    // the other two writes (132 bytes each) too.
    assert_eq!(t[0], "statemap_subscribe");
    assert_eq!(t[1], "oversize");
    assert!(t.iter().filter(|t| *t == "oversize").count() == 3);
    let joined: Vec<u8> = out.iter().flat_map(|m| m.bytes.clone()).collect();
    assert_eq!(joined, stream);
    // A length prefix past the plausible limit is lost framing, not a message to wait for.
    let mut d = StreamDecoder::new(StreamKind::Broadcast);
    let mut junk = vec![0x7f, 0xff, 0xff, 0xff, b'{'];
    junk.extend(hex(&["00000002"]));
    junk.extend(b"{}");
    let out = d.feed(&junk);
    assert_eq!(types(&out), ["unknown", "broadcast"]);
    assert_eq!(d.buffered(), 0);
}

#[test]
fn unrecognised_streams_pass_their_bytes_on() {
    let junk: Vec<u8> = (0..CLASSIFY_LIMIT as u32 + 100)
        .map(|i| (i * 7 + 3) as u8)
        .collect();
    let mut d = StreamDecoder::auto(None);
    let out = d.feed(&junk[..CLASSIFY_LIMIT - 1]);
    assert!(out.is_empty() && d.kind().is_none());
    let mut out = d.feed(&junk[CLASSIFY_LIMIT - 1..]);
    out.extend(d.finish());
    assert_eq!(d.kind(), Some(StreamKind::Unknown));
    assert!(out.iter().all(|m| m.dissection.type_name == "unknown"));
    assert_eq!(out.iter().map(|m| m.bytes.len()).sum::<usize>(), junk.len());
}

#[test]
fn the_hello_side_names_the_other_side() {
    // A Syncing connection: the server's first bytes mean nothing by themselves; the
    // client's hello (sent later in this capture order) tells both sides.
    let mut c = ConnectionDecoder::new(None, false);
    assert!(c.push(Side::Server, &hex(&["00000003010203"])).is_empty());
    let hello = super::directory::ServiceAnnouncement::new(super::Token([5; 16]), "Syncing", 1);
    let out = c.push(Side::Client, &hello.to_bytes());
    assert_eq!(c.kind(), Some(StreamKind::Syncing));
    let sides: Vec<(Side, String)> = out
        .iter()
        .map(|(s, m)| (*s, m.dissection.type_name.to_string()))
        .collect();
    assert_eq!(
        sides,
        [
            (Side::Client, "service_hello".to_string()),
            (Side::Server, "syncing".to_string())
        ]
    );
}
