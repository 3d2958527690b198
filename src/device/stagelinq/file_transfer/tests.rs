//! The FileTransfer session against a client's real request bytes, whole downloads the way
//! npm `stagelinq` and honusz make them, and hostile clients.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use rusqlite::{Connection, MAIN_DB};

use super::*;
use crate::device::library::Library;
use crate::stagelinq::directory::ServiceAnnouncement;
use crate::stagelinq::filetransfer::{
    self as ft, FileTransferBody as B, FileTransferMessage, CHUNK_SIZE,
};
use crate::stagelinq::Token;
use crate::util::parse_hex;

/// The source name of the real requests below.
const SOURCE: &str = "DJ2 (USB 1)";
const DB2: &str = "/DJ2 (USB 1)/Engine Library/Database2/m.db";
/// 0x7d1 stat and 0x7d4 open of `/DJ2 (USB 1)/Engine Library/m.db` from a real SC6000 session
/// (`whatsnowplaying/stagelinq:tests/fixtures/tcp_packets.py`, the same bytes as
/// `stagelinq/filetransfer_dissect.rs`'s tests).
const STAT_1X: &str = "00000050666c747800000000000007d100000040002f0044004a003200200028005500530042002000310029002f0045006e00670069006e00650020004c006900620072006100720079002f006d002e00640062";
const OPEN_1X: &str = "00000054666c747800000000000007d400000040002f0044004a003200200028005500530042002000310029002f0045006e00670069006e00650020004c006900620072006100720079002f006d002e0064006200000000";
/// 0x7d5 from go-stagelinq issue #8: txid 0x66, words 0 and 1, chunk 0x18..=0x18.
const CHUNK_18: &str = "00000024666c747800000066000007d500000000000000010000000000000018\
                        0000000000000018";

/// Built once for all tests, as a unit builds it once per run.
fn volume() -> Arc<Volume> {
    static VOLUME: OnceLock<Arc<Volume>> = OnceLock::new();
    VOLUME
        .get_or_init(|| Arc::new(Volume::demo(&Library::demo(), SOURCE, "slqft-test").unwrap()))
        .clone()
}

fn hello() -> Vec<u8> {
    ServiceAnnouncement::new(Token([0x52; 16]), "FileTransfer", 50123).to_bytes()
}

fn request(txid: u32, body: B) -> Vec<u8> {
    FileTransferMessage::new(txid, body).to_bytes()
}

/// Cut the session's output into messages, checking each parses and dissects as a named,
/// well-formed `file_transfer` frame (what `djdissect read` shows).
fn answers(out: &[u8]) -> Vec<FileTransferMessage> {
    let mut v = Vec::new();
    let mut p = 0;
    while p < out.len() {
        let n = u32::from_be_bytes(out[p..p + 4].try_into().unwrap()) as usize + 4;
        let bytes = &out[p..p + n];
        let d = ft::dissect(bytes, true);
        assert_eq!(d.malformed, None, "{}", d.summary);
        assert_ne!(d.field("message").unwrap().as_str(), Some("unknown"));
        v.push(FileTransferMessage::parse(bytes).unwrap());
        p += n;
    }
    v
}

fn session() -> (FileTransferSession, Vec<u8>) {
    let mut s = FileTransferSession::new(volume());
    let mut out = Vec::new();
    assert_eq!(s.on_bytes(&hello(), &mut out), Verdict::Keep);
    assert!(out.is_empty(), "the unit answers nothing to the hello");
    assert_eq!(s.hello().unwrap().service, "FileTransfer");
    (s, out)
}

/// Send one request and take what it got.
fn ask(s: &mut FileTransferSession, bytes: &[u8]) -> Vec<FileTransferMessage> {
    let mut out = Vec::new();
    assert_eq!(s.on_bytes(bytes, &mut out), Verdict::Keep);
    answers(&out)
}

#[test]
fn real_requests_for_the_1x_database_find_nothing_there() {
    let (mut s, _) = session();
    let stat = ask(&mut s, &parse_hex(STAT_1X).unwrap());
    assert_eq!(stat.len(), 1);
    let B::FileStat(st) = &stat[0].body else {
        panic!("{stat:?}")
    };
    assert_eq!((st.exists(), st.size), (Some(false), 0));
    assert_eq!(stat[0].to_bytes().len(), 16 + 53, "53-byte stat body");
    let open = ask(&mut s, &parse_hex(OPEN_1X).unwrap());
    assert_eq!(
        open[0].body,
        B::TransferInfo {
            unknown_0: 0,
            size: 0,
            transfer_id: 0
        }
    );
    // Chunks of nothing opened: no answer.
    assert!(ask(&mut s, &parse_hex(CHUNK_18).unwrap()).is_empty());
}

#[test]
fn real_chunk_request_gets_that_chunk_with_its_txid() {
    let (mut s, _) = session();
    let open = ask(
        &mut s,
        &request(
            0x65,
            B::OpenRequest {
                path: DB2.into(),
                flags: 0,
            },
        ),
    );
    let B::TransferInfo {
        size, transfer_id, ..
    } = open[0].body
    else {
        panic!("{open:?}")
    };
    assert_eq!((open[0].txid, transfer_id), (0x65, 1));
    let db = volume().database().unwrap().to_vec();
    assert_eq!(size as usize, db.len());
    assert!(
        db.len() > 0x19 * CHUNK_SIZE,
        "the database reaches chunk 0x18"
    );
    let got = ask(&mut s, &parse_hex(CHUNK_18).unwrap());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].txid, 0x66);
    let start = 0x18 * CHUNK_SIZE;
    assert_eq!(
        got[0].body,
        B::Chunk {
            unknown_0: 0,
            offset: start as u32,
            data: db[start..start + CHUNK_SIZE].to_vec()
        }
    );
}

/// npm `stagelinq`'s `getSources` + `getFile` (txid 0, the transfer id as the second word,
/// chunks 0..ceil(size/4096)-1), the transport draining the queue between rounds.
#[test]
fn whole_database_download_opens_with_sqlite_and_lists_the_demo_tracks() {
    let (mut s, _) = session();
    let sources = ask(
        &mut s,
        &request(
            0,
            B::ListRequest {
                path: String::new(),
            },
        ),
    );
    assert_eq!(
        sources[0].body,
        B::DirectoryListing {
            names: vec![SOURCE.into()],
            first: 1,
            last: 1,
            is_directory: 1
        }
    );
    let stat = ask(&mut s, &request(0, B::StatRequest { path: DB2.into() }));
    let B::FileStat(st) = &stat[0].body else {
        panic!()
    };
    assert_eq!(st.exists(), Some(true));
    let open = ask(
        &mut s,
        &request(
            0,
            B::OpenRequest {
                path: DB2.into(),
                flags: 0,
            },
        ),
    );
    let B::TransferInfo {
        size, transfer_id, ..
    } = open[0].body
    else {
        panic!()
    };
    assert_eq!(u64::from(size), st.size);
    let chunks = (size as u64).div_ceil(CHUNK_SIZE as u64);
    let mut file = vec![0u8; size as usize];
    let mut out = Vec::new();
    let ask_chunks = request(
        0,
        B::ChunkRequest {
            unknown_0: 0,
            unknown_1: transfer_id,
            first_chunk: 0,
            last_chunk: chunks - 1,
        },
    );
    assert_eq!(s.on_bytes(&ask_chunks, &mut out), Verdict::Keep);
    let mut received = 0;
    let mut rounds = 0;
    loop {
        for m in answers(&out) {
            let B::Chunk { offset, data, .. } = m.body else {
                panic!("{m:?}")
            };
            assert!(data.len() <= CHUNK_SIZE);
            file[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
            received += data.len();
        }
        out.clear();
        if !s.sending() {
            break;
        }
        rounds += 1;
        assert_eq!(s.on_drained(&mut out), Verdict::Keep);
    }
    assert_eq!(received, size as usize);
    assert!(
        rounds > 0,
        "a download larger than the window goes in rounds"
    );
    assert!(ask(&mut s, &request(0, B::TransferComplete)).is_empty());

    let mut db = Connection::open_in_memory().unwrap();
    db.deserialize_read_exact(MAIN_DB, &file[..], file.len(), true)
        .unwrap();
    let titles: Vec<String> = db
        .prepare("SELECT title FROM Track ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let demo: Vec<String> = Library::demo()
        .tracks
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles, demo);
}

#[test]
fn folders_track_files_and_unknown_paths() {
    let (mut s, _) = session();
    let music = ask(
        &mut s,
        &request(
            7,
            B::ListRequest {
                path: "/DJ2 (USB 1)/Engine Library/Music".into(),
            },
        ),
    );
    let B::DirectoryListing {
        names,
        is_directory,
        ..
    } = &music[0].body
    else {
        panic!()
    };
    assert_eq!((names.len(), *is_directory, music[0].txid), (8, 1, 7));
    let track = "/DJ2 (USB 1)/Engine Library/Music/Keep Alive.mp3";
    let nothing = ask(&mut s, &request(8, B::ListRequest { path: track.into() }));
    assert_eq!(
        nothing[0].body,
        B::DirectoryListing {
            names: vec![],
            first: 1,
            last: 1,
            is_directory: 0
        }
    );
    let dir = ask(
        &mut s,
        &request(
            9,
            B::StatRequest {
                path: "/DJ2 (USB 1)".into(),
            },
        ),
    );
    let B::FileStat(st) = &dir[0].body else {
        panic!()
    };
    assert_eq!(
        (st.exists(), st.is_dir(), st.size),
        (Some(true), Some(true), 0)
    );
    // A track file: opened, fetched in one request past its end, served up to its end only.
    let open = ask(
        &mut s,
        &request(
            10,
            B::OpenRequest {
                path: track.into(),
                flags: 0,
            },
        ),
    );
    let B::TransferInfo { size, .. } = open[0].body else {
        panic!()
    };
    assert_eq!(size as usize, audio::silent_mp3().len());
    let got = ask(
        &mut s,
        &request(
            11,
            B::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0,
                last_chunk: u64::MAX,
            },
        ),
    );
    let bytes: Vec<u8> = got
        .into_iter()
        .flat_map(|m| match m.body {
            B::Chunk { data, .. } => data,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(bytes, audio::silent_mp3());
    assert!(!s.sending());
    // Messages a unit sends, and unknown ids, get no answer and keep the connection.
    for body in [
        B::EndInquiry,
        B::FileStat(ft::FileStat::file(3)),
        B::Other {
            msg_id: 0x7d8,
            body: vec![1, 2],
        },
    ] {
        assert!(ask(&mut s, &request(12, body)).is_empty());
    }
    let log = s.take_exchanges();
    assert_eq!(
        log[0],
        Exchange {
            txid: 7,
            request: ft::ID_LIST_REQUEST,
            answer: Some(ft::ID_DIRECTORY_LISTING)
        }
    );
    assert_eq!(log.len(), 8);
}

#[test]
fn one_byte_at_a_time_gets_the_same_answers() {
    let mut wire = hello();
    wire.extend(request(
        0,
        B::ListRequest {
            path: String::new(),
        },
    ));
    wire.extend(request(3, B::StatRequest { path: DB2.into() }));
    let mut whole = FileTransferSession::new(volume());
    let mut expected = Vec::new();
    whole.on_bytes(&wire, &mut expected);
    let mut s = FileTransferSession::new(volume());
    let mut out = Vec::new();
    for b in &wire {
        assert_eq!(s.on_bytes(&[*b], &mut out), Verdict::Keep);
    }
    assert_eq!(out, expected);
    assert_eq!(answers(&out).len(), 2);
    assert_eq!(s.buffered(), 0);
}

#[test]
fn garbage_huge_and_truncated_input_close_or_wait_within_bounds() {
    // Not a hello.
    let mut s = FileTransferSession::new(volume());
    assert_eq!(
        s.on_bytes(b"GET / HTTP/1.1\r\n\r\n", &mut Vec::new()),
        Verdict::Close
    );
    assert_eq!(s.close_reason(), Some(&CloseReason::NoHello));
    assert_eq!(
        s.on_bytes(&hello(), &mut Vec::new()),
        Verdict::Close,
        "stays closed"
    );
    // A 4 GiB length prefix after the hello.
    let (mut s, mut out) = session();
    assert_eq!(
        s.on_bytes(&[0xff, 0xff, 0xff, 0xff, b'f'], &mut out),
        Verdict::Close
    );
    assert_eq!(s.close_reason(), Some(&CloseReason::TooLarge));
    assert_eq!(s.buffered(), 0);
    // A length that fits but a body that is not fltx.
    let (mut s, mut out) = session();
    assert_eq!(
        s.on_bytes(&[0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8], &mut out),
        Verdict::Close
    );
    assert!(matches!(s.close_reason(), Some(CloseReason::Garbage(_))));
    // A truncated request waits, holding only its bytes.
    let (mut s, mut out) = session();
    let stat = request(0, B::StatRequest { path: DB2.into() });
    assert_eq!(s.on_bytes(&stat[..stat.len() - 1], &mut out), Verdict::Keep);
    assert!(out.is_empty());
    assert_eq!(s.buffered(), stat.len() - 1);
    // A stat whose path length runs past its message: malformed, closed.
    let mut bad = stat.clone();
    bad[16..20].copy_from_slice(&0x1000u32.to_be_bytes());
    let (mut s, mut out) = session();
    assert_eq!(s.on_bytes(&bad, &mut out), Verdict::Close);
}

#[test]
fn a_client_that_never_reads_holds_a_window_then_is_dropped() {
    let limits = Limits::default();
    let (mut s, mut out) = session();
    s.on_bytes(
        &request(
            0,
            B::OpenRequest {
                path: DB2.into(),
                flags: 0,
            },
        ),
        &mut out,
    );
    s.on_bytes(
        &request(
            0,
            B::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0,
                last_chunk: u64::MAX,
            },
        ),
        &mut out,
    );
    let one_chunk = 4 + 16 + 12 + CHUNK_SIZE;
    assert!(out.len() < limits.chunk_window + one_chunk, "{}", out.len());
    // Not drained: more calls queue nothing more.
    let before = out.len();
    s.on_drained(&mut out);
    assert_eq!(out.len(), before);
    // Requests keep coming, nobody reads: closed once the backlog passes the bound.
    let stat = request(0, B::StatRequest { path: DB2.into() });
    let mut verdict = Verdict::Keep;
    for _ in 0..100_000 {
        verdict = s.on_bytes(&stat, &mut out);
        if verdict == Verdict::Close {
            break;
        }
    }
    assert_eq!(verdict, Verdict::Close);
    assert_eq!(s.close_reason(), Some(&CloseReason::NotReading));
    assert!(out.len() <= limits.max_backlog + 200);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_after_a_hello_never_panic(chunks in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
        let (mut s, mut out) = session();
        for c in &chunks {
            if s.on_bytes(c, &mut out) == Verdict::Close {
                break;
            }
            prop_assert!(s.buffered() <= 2 * Limits::default().max_message);
        }
        s.on_drained(&mut out);
    }

    /// Well-framed fltx messages with random ids and bodies: answered or ignored, never a
    /// panic, every answer a named well-formed frame.
    #[test]
    fn random_requests_get_well_formed_answers(msgs in proptest::collection::vec(
        (0x7d0u32..0x7d8, proptest::collection::vec(any::<u8>(), 0..40)), 0..12)) {
        let (mut s, mut out) = session();
        for (id, body) in msgs {
            let mut m = vec![0u8; 16 + body.len()];
            m[..4].copy_from_slice(&(12 + body.len() as u32).to_be_bytes());
            m[4..8].copy_from_slice(b"fltx");
            m[12..16].copy_from_slice(&id.to_be_bytes());
            m[16..].copy_from_slice(&body);
            if s.on_bytes(&m, &mut out) == Verdict::Close {
                break;
            }
        }
        answers(&out);
    }
}
