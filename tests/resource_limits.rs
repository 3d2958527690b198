//! Lengths from the wire or the file never size an allocation beyond the bytes present or a
//! documented limit, and floods of state that never completes keep memory bounded and are
//! reported. A counting allocator measures each case's peak heap use on its own thread.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::ops::ControlFlow;

use djdissect::capture::CaptureReader;
use djdissect::dbserver::{Message, MessageFramer};
use djdissect::engine::{Engine, EngineOptions};
use djdissect::net::defrag::{DefragLimits, Defragmenter};
use djdissect::stagelinq::{self, classify::StreamKind, StreamDecoder};

struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the bookkeeping only
// touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            account(l.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            account(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        account(-(l.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            account(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap growth (bytes) while `f` runs on this thread.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get) - start;
    (out, peak.max(0) as usize)
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Read a whole capture from memory; returns frames, errors and the stats line.
fn read_all(bytes: Vec<u8>) -> (u64, usize, String) {
    let mut r = CaptureReader::new(Box::new(Cursor::new(bytes))).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let (mut frames, mut errors) = (0, 0);
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                frames += 1;
                let _ = e.frame(&f, &mut |_| ControlFlow::Continue(()));
            }
            Ok(None) => break,
            Err(err) => {
                errors += 1;
                if !err.is_resumable() {
                    break;
                }
            }
        }
    }
    let _ = e.finish(&mut |_| ControlFlow::Continue(()));
    (frames, errors, e.stats().line())
}

/// SHB + Ethernet IDB + one EPB header whose length field says `claimed`, then `tail`.
fn pcapng_claiming(claimed: u32, tail: usize) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0x0a0d0d0au32.to_le_bytes());
    f.extend_from_slice(&28u32.to_le_bytes());
    f.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
    f.extend_from_slice(&[1, 0, 0, 0]);
    f.extend_from_slice(&[0xff; 8]);
    f.extend_from_slice(&28u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&20u32.to_le_bytes());
    f.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&20u32.to_le_bytes());
    f.extend_from_slice(&6u32.to_le_bytes());
    f.extend_from_slice(&claimed.to_le_bytes());
    f.extend_from_slice(&[0; 20]);
    f.extend(std::iter::repeat_n(0x55, tail));
    f
}

#[test]
fn a_pcapng_block_claiming_2_gib_or_15_mib_allocates_little() {
    for claimed in [0x8000_0000u32, 15 * MIB as u32] {
        let bytes = pcapng_claiming(claimed, 1000);
        let ((frames, errors, _), peak) = peak_of(|| read_all(bytes));
        assert_eq!((frames, errors), (0, 1), "claimed {claimed}");
        assert!(peak < 2 * MIB, "claimed {claimed}: peak {peak} bytes");
    }
}

#[test]
fn a_classic_pcap_record_claiming_4_gib_allocates_little() {
    let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend(std::iter::repeat_n(0x55, 1000));
    let ((frames, errors, _), peak) = peak_of(|| read_all(f));
    assert_eq!((frames, errors), (0, 1));
    assert!(peak < 2 * MIB, "peak {peak} bytes");
}

/// dbserver message header (`prodjlink.md` 7.2) with one argument of type `tag`, whose
/// length field says 0xffffffff, then a few bytes.
fn dbserver_claiming(field_type: u8, arg_tag: u8) -> Vec<u8> {
    let mut m = vec![
        0x11, 0x87, 0x23, 0x49, 0xae, 0x11, 0, 0, 0, 1, 0x10, 0x40, 0x02,
    ];
    m.extend_from_slice(&[0x0f, 1, 0x14, 0, 0, 0, 12, arg_tag]);
    m.extend_from_slice(&[0; 11]);
    m.push(field_type);
    m.extend_from_slice(&u32::MAX.to_be_bytes());
    m.extend_from_slice(&[0x42; 200]);
    m
}

#[test]
fn a_dbserver_blob_or_string_claiming_4_gib_allocates_little() {
    for (ty, tag) in [(0x14, 0x03), (0x26, 0x02)] {
        let m = dbserver_claiming(ty, tag);
        let (parsed, peak) = peak_of(|| Message::parse(&m));
        assert!(parsed.unwrap_err().is_incomplete());
        assert!(peak < 4 * KIB, "parse: peak {peak}");
        let (framed, peak) = peak_of(|| {
            let mut f = MessageFramer::new();
            let mut out = f.push(&m);
            for _ in 0..64 {
                out.extend(f.push(&[0x42; 1024]));
            }
            out.extend(f.finish());
            out.len()
        });
        assert!(framed > 0);
        // The framer's documented bound is 1 MiB of buffered bytes.
        assert!(peak < 3 * MIB, "framer: peak {peak}");
        let (d, peak) = peak_of(|| djdissect::dbserver::dissect(&m, true));
        assert!(d.malformed.is_some());
        assert!(peak < 64 * KIB, "dissect: peak {peak}");
    }
}

#[test]
fn a_stagelinq_length_prefix_of_0xffffffff_allocates_little() {
    for kind in [
        StreamKind::StateMap,
        StreamKind::FileTransfer,
        StreamKind::BeatInfo,
    ] {
        let mut b = u32::MAX.to_be_bytes().to_vec();
        b.extend_from_slice(b"smaa");
        b.extend_from_slice(&[0; 200]);
        let (n, peak) = peak_of(|| {
            let mut d = StreamDecoder::new(kind);
            let mut n = d.feed(&b).len();
            for _ in 0..64 {
                n += d.feed(&[0x33; 1024]).len();
            }
            n + d.finish().len()
        });
        assert!(n > 0, "{kind:?}: the bytes are reported");
        assert!(peak < 3 * MIB, "{kind:?}: peak {peak}");
    }
    // A discovery datagram whose device-name length says 0xffffffff.
    let mut b = b"airD".to_vec();
    b.extend_from_slice(&[7; 16]);
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    b.extend_from_slice(&[0, 0x41, 0, 0x42]);
    let (d, peak) = peak_of(|| stagelinq::dissect_datagram(&b, true));
    let (d, m) = d.unwrap();
    assert!(d.malformed.is_some() && m.is_none());
    assert!(peak < 64 * KIB, "discovery: peak {peak}");
}

#[test]
fn fragment_offsets_and_never_completed_trains_stay_within_the_limits() {
    let limits = DefragLimits::default();
    let (d, peak) = peak_of(|| {
        let mut d = Defragmenter::new(limits);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        // An offset at the very end of the 16-bit range with a full payload: refused.
        assert!(d.push(a, b, 17, 1, 65528, false, &[0; 1480], 0).is_none());
        // 20 000 first fragments that never complete (30 MiB offered).
        for id in 0..20_000u32 {
            let src = std::net::Ipv4Addr::from(0x0a00_0000 + id);
            d.push(src, b, 17, id as u16, 0, true, &[0; 1480], i128::from(id));
        }
        d
    });
    let s = d.stats();
    assert_eq!(s.bad_fragments, 1);
    assert!(d.pending() <= limits.max_datagrams);
    assert!(s.dropped_by_limits >= 20_000 - limits.max_datagrams as u64);
    // 1024 datagrams of 1480 bytes (1.5 MiB) plus bookkeeping.
    assert!(peak < 4 * MIB, "peak {peak}");
}

#[test]
fn many_half_open_tcp_connections_keep_memory_bounded_and_are_reported() {
    // 150 000 connections (the table holds 57 344): the million-connection file is measured
    // with the release binary in FUZZING.md.
    let bytes = common::hostile::half_open_tcp(Vec::new(), 150_000).unwrap();
    let ((frames, errors, line), peak) = peak_of(|| read_all(bytes));
    assert_eq!((frames, errors), (150_000, 0));
    assert!(
        line.contains("TCP connection table full: 92656 connections evicted"),
        "{line}"
    );
    eprintln!("peak {} MiB", peak / MIB);
    assert!(peak < 96 * MIB, "peak {} MiB", peak / MIB);
}

#[test]
fn fragment_trains_that_never_complete_keep_memory_bounded_and_are_reported() {
    let bytes = common::hostile::fragment_trains(Vec::new(), 30_000).unwrap();
    let ((frames, errors, line), peak) = peak_of(|| read_all(bytes));
    assert_eq!((frames, errors), (30_000, 0));
    assert!(
        line.contains("IP fragments: 0 datagrams reassembled, 30000 dropped"),
        "{line}"
    );
    assert!(line.contains("at the fragment buffer limits"), "{line}");
    // The default fragment buffer limit is 8 MiB.
    assert!(peak < 16 * MIB, "peak {} MiB", peak / MIB);
}

#[test]
fn the_session_and_detail_view_stay_bounded_on_a_flood_of_distinct_devices() {
    use djdissect::output::{Format, Options, Printer};
    use djdissect::session::{limits, Session};
    // Keep-alives from 20 000 different devices: more than the session follows.
    let n = 20_000u32;
    let bytes = common::hostile::keep_alive_flood(Vec::new(), n).unwrap();
    let (s, peak) = peak_of(|| {
        let mut r = CaptureReader::new(Box::new(Cursor::new(bytes))).unwrap();
        let mut e = Engine::new(EngineOptions {
            depth: djdissect::dissect::Depth::Detail,
            ..Default::default()
        });
        let mut s = Session::new();
        let mut p = Printer::new(Options {
            format: Format::Text,
            detail: true,
            color: false,
        });
        let mut sink = std::io::sink();
        while let Some(f) = r.next_frame().unwrap() {
            let _ = e.frame(&f, &mut |rec| {
                s.observe(rec);
                p.record(rec, &mut sink).unwrap();
                ControlFlow::Continue(())
            });
        }
        s.finish();
        s
    });
    assert_eq!(s.devices.devices.len(), limits::MAX_DEVICES);
    // Every device beyond the table is counted, and said in the summary.
    assert!(s.omitted_total() >= u64::from(n) - limits::MAX_DEVICES as u64);
    let text = djdissect::session::report::summary_text(&s, 120);
    assert!(
        text.contains("were not kept"),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    eprintln!("peak {} MiB", peak / MIB);
    assert!(peak < 48 * MIB, "peak {} MiB", peak / MIB);
}

#[path = "common/real_mix.rs"]
#[allow(dead_code)] // `write` serves examples/real_mix.rs
mod real_mix;

/// Issue 11, "Memory that never grows": the project's own club set and StageLinQ set (players
/// booting and claiming numbers, loads with dbserver lookups, master handoffs, a StageLinQ
/// pair), repeated with new connections for as long as `live` might run, fed to the engine and
/// the session as `--summary` reads them. Every list stays within its bound, keeps its first
/// and its newest entries, and counts what it left out; the heap in use stops growing once the
/// bounds are reached (by round 100: the timeline gets ~110 lines a round), and the peak (the
/// `--summary` JSON document included) stays small.
#[test]
fn the_story_of_an_endless_capture_keeps_its_first_and_newest_entries_in_bounded_memory() {
    use djdissect::dissect::Depth;
    use djdissect::session::{limits, report, Session};

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let sources: Vec<real_mix::Source> = ["club-set.pcapng", "stagelinq-set.pcapng"]
        .iter()
        .map(|f| real_mix::read_source(CaptureReader::open(&dir.join(f)).unwrap()).unwrap())
        .collect();
    let (rounds, checkpoints) = (120, [100u64, 120]);
    let start = CURRENT.with(Cell::get);
    let ((s, retained), peak) = peak_of(|| {
        let mut e = Engine::new(EngineOptions {
            depth: Depth::Identity,
            ..Default::default()
        });
        let mut s = Session::new();
        let mut mixer = real_mix::Mixer::new(&sources);
        let mut number = 0;
        let mut retained = Vec::new();
        for _ in 0..rounds {
            mixer
                .round(|link_type, interface, ts_ns, data| {
                    number += 1;
                    let f = djdissect::capture::Frame {
                        number,
                        ts_ns,
                        link_type,
                        interface,
                        orig_len: data.len() as u32,
                        data,
                    };
                    let _ = e.frame(&f, &mut |rec| {
                        s.observe(rec);
                        ControlFlow::Continue(())
                    });
                    Ok::<_, ()>(true)
                })
                .unwrap();
            if checkpoints.contains(&mixer.rounds) {
                retained.push(CURRENT.with(Cell::get) - start);
            }
        }
        let _ = e.finish(&mut |rec| {
            s.observe(rec);
            ControlFlow::Continue(())
        });
        s.finish();
        // The largest rendering is built inside the measured span.
        let json = serde_json::to_string(&report::summary_json(&s)).unwrap();
        assert!(json.contains("\"omitted\""));
        (s, retained)
    });

    // Every list reached its bound, kept the first and the newest, and counted the rest.
    assert_eq!(s.timeline.len(), limits::Timeline::<()>::CAPACITY);
    assert!(s.timeline.left_out() > 0);
    let first = s.timeline.iter().next().unwrap();
    let newest = s.timeline.last().unwrap();
    assert!(
        first.frame < 4681,
        "the first line is from the first round: {first:?}"
    );
    assert!(
        newest.frame > (rounds - 1) * 7000,
        "the newest line is from the last round: {newest:?}"
    );
    assert_eq!(s.devices.claims.len(), limits::Changes::<()>::CAPACITY);
    assert!(s.devices.claims.left_out() > 0);
    assert!(s.dbserver.len() <= limits::MAX_CONNECTIONS);
    assert!(s.connections_left_out > 0);
    for p in s.players.players.values() {
        assert!(p.events.len() <= limits::PlayerEvents::<()>::CAPACITY);
        assert_eq!(p.events.left_out(), p.omitted_events);
    }
    assert!(s.players.players.values().any(|p| p.omitted_events > 0));
    for d in s.dbserver.values() {
        assert!(d.exchanges.len() <= limits::Exchanges::<()>::CAPACITY);
    }
    assert!(s.omitted_total() > s.timeline.left_out() + s.devices.claims.left_out());

    // The renderings say what they left out.
    let timeline = report::timeline_text(&s);
    assert!(timeline.contains(&format!("{} lines left out", s.timeline.left_out())));
    assert_eq!(timeline.lines().count(), s.timeline.len() + 1);
    let summary = report::summary_text(&s, 120);
    assert!(summary.contains("claims left out"), "{summary}");
    assert!(summary.contains("were not kept"));
    let conversations = report::conversations_text(&s);
    assert!(conversations.contains("dbserver connections left out"));

    // Memory: what the session holds stops growing once the bounds are reached, and the peak
    // stays far below the 64 MiB of BENCHMARKS.md.
    let (half, full) = (retained[0], retained[1]);
    eprintln!(
        "retained {} KiB after {} rounds, {} KiB after {}; peak {} MiB",
        half / 1024,
        checkpoints[0],
        full / 1024,
        checkpoints[1],
        peak / MIB
    );
    assert!(
        full <= half + half / 16,
        "grew from {half} to {full} bytes between rounds {} and {}",
        checkpoints[0],
        checkpoints[1]
    );
    assert!(peak < 32 * MIB, "peak {} MiB", peak / MIB);
}
