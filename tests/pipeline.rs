//! The pipelined run (reading and the network layers on a second thread) against the
//! single-threaded one: the same calls in the same order - every record rendered as JSON, every
//! per-frame call, every capture error where it happened - and the same statistics line, on
//! every capture, when the consumer stops early, and on truncated and damaged captures.

mod common;

use std::io::Cursor;
use std::ops::ControlFlow;

use djdissect::capture::{CaptureError, CaptureReader, Frame, LinkType};
use djdissect::engine::{Consumer, Engine, EngineOptions, FrameSource, FrameStamp};
use djdissect::output::{Format, Options, Printer};
use djdissect::record::Record;

/// Everything a run handed its consumer, one line per call.
struct Trace {
    printer: Printer,
    lines: Vec<String>,
    records: usize,
    /// Break after this many records.
    max: Option<usize>,
}

impl Trace {
    fn new(detail: bool, max: Option<usize>) -> Trace {
        Trace {
            printer: Printer::new(Options {
                format: Format::Json,
                detail,
                color: false,
            }),
            lines: Vec::new(),
            records: 0,
            max,
        }
    }
}

impl Consumer<CaptureError> for Trace {
    fn frame(&mut self, at: &FrameStamp) {
        self.printer.set_start(at.ts_ns);
        self.lines
            .push(format!("frame {} {} {}", at.number, at.ts_ns, at.interface));
    }

    fn record(&mut self, r: &Record<'_>) -> ControlFlow<()> {
        let mut out = Vec::new();
        self.printer.record(r, &mut out).unwrap();
        self.printer.flush(&mut out).unwrap();
        self.lines.push(String::from_utf8(out).unwrap());
        self.records += 1;
        if self.max.is_some_and(|m| self.records >= m) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn source_error(&mut self, error: CaptureError) {
        self.lines.push(format!("error {error}"));
    }
}

/// One run over `bytes`: (what the consumer got, the statistics line, how the run ended).
fn run(
    bytes: &[u8],
    pipelined: bool,
    detail: bool,
    max: Option<usize>,
) -> (Vec<String>, String, bool) {
    let mut reader = CaptureReader::new(Box::new(Cursor::new(bytes.to_vec()))).unwrap();
    let mut engine = Engine::new(EngineOptions {
        depth: detail.into(),
        ..Default::default()
    });
    let mut trace = Trace::new(detail, max);
    let flow = if pipelined {
        engine.run_pipelined(&mut reader, &mut trace)
    } else {
        engine.run(&mut reader, &mut trace)
    };
    (trace.lines, engine.stats().line(), flow.is_break())
}

/// Both runs, compared; returns the single-threaded one.
fn same_both_ways(
    what: &str,
    bytes: &[u8],
    detail: bool,
    max: Option<usize>,
) -> (Vec<String>, String, bool) {
    let single = run(bytes, false, detail, max);
    let piped = run(bytes, true, detail, max);
    assert_eq!(single.0.len(), piped.0.len(), "{what}: number of calls");
    for (k, (a, b)) in single.0.iter().zip(&piped.0).enumerate() {
        assert_eq!(a, b, "{what}: call {k} differs");
    }
    assert_eq!(single.1, piped.1, "{what}: statistics line");
    assert_eq!(single.2, piped.2, "{what}: stopped early");
    single
}

/// A `long` synth capture: every kind of traffic (NFS fragments, ARP, TCP...), many batches.
fn synth_long(bytes: u64) -> Vec<u8> {
    let limits = djdissect::synth::Limits {
        max_bytes: Some(bytes),
        max_duration_ns: None,
    };
    let mut out = Vec::new();
    djdissect::synth::generate(djdissect::synth::Scenario::Long, limits, &mut out).unwrap();
    out
}

#[test]
fn every_capture_gives_the_same_records_and_statistics() {
    let mut captures: Vec<(String, Vec<u8>)> = common::all_captures("pipeline")
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    captures.push(("synth long 4 MiB".into(), synth_long(4 << 20)));
    let with_records = captures.len();
    let hostile = [
        (
            "fragment trains",
            common::hostile::fragment_trains(Vec::new(), 3000),
        ),
        (
            "half-open TCP",
            common::hostile::half_open_tcp(Vec::new(), 3000),
        ),
        (
            "keep-alive flood",
            common::hostile::keep_alive_flood(Vec::new(), 3000),
        ),
    ];
    for (name, bytes) in hostile {
        captures.push((name.into(), bytes.unwrap()));
    }
    for (k, (name, bytes)) in captures.iter().enumerate() {
        for detail in [false, true] {
            let (lines, stats, stopped) = same_both_ways(name, bytes, detail, None);
            assert!(!stopped, "{name}");
            let records = lines.iter().filter(|l| l.starts_with('{')).count();
            assert!(k >= with_records || records > 0, "{name}: no records");
            assert!(stats.contains(" frames: "), "{name}: {stats}");
        }
    }
}

#[test]
fn stopping_early_gives_the_same_records_and_statistics() {
    let long = synth_long(3 << 20);
    let club = std::fs::read(common::own_captures().first().unwrap()).unwrap();
    for bytes in [&long, &club] {
        for max in [1, 2, 511, 512, 513, 1500, 4000] {
            let (lines, _, stopped) =
                same_both_ways(&format!("stop at {max}"), bytes, false, Some(max));
            assert!(stopped, "stop at {max}");
            assert_eq!(lines.iter().filter(|l| l.starts_with('{')).count(), max);
        }
    }
}

/// pcapng blocks of `b` (little-endian, as the project's writer makes them): (start, length).
fn blocks(b: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        v.push((at, len));
        at += len;
    }
    v
}

#[test]
fn truncated_and_damaged_captures_give_the_same_records_errors_and_statistics() {
    let bytes = synth_long(2 << 20);
    let blocks = blocks(&bytes);
    let n = blocks.len();
    for k in [n / 5, n / 2, n - 2] {
        let (start, len) = blocks[k];
        // Cut inside a block: everything before it, then the truncation error, then the end.
        let cut = &bytes[..start + len / 2];
        let (lines, _, _) = same_both_ways(&format!("cut in block {k}"), cut, false, None);
        let last = lines.iter().rposition(|l| l.starts_with("error ")).unwrap();
        assert!(
            lines[last].contains("truncated at byte offset"),
            "{}",
            lines[last]
        );
        // Stopping after the damage was read is the same too.
        let records = lines.iter().filter(|l| l.starts_with('{')).count();
        same_both_ways(
            &format!("cut in block {k}, stop"),
            cut,
            false,
            Some(records - 3),
        );
        // A damaged length field: the block is skipped and reading goes on after it.
        let mut damaged = bytes.clone();
        damaged[start + 4..start + 8].copy_from_slice(&0x0bad_f00du32.to_le_bytes());
        let (lines, _, _) = same_both_ways(&format!("damage in block {k}"), &damaged, true, None);
        let at = lines.iter().position(|l| l.starts_with("error ")).unwrap();
        assert!(lines[at].contains("reading resumed"), "{}", lines[at]);
        assert!(
            lines[at..].iter().any(|l| l.starts_with('{')),
            "records after the damage"
        );
    }
}

/// An endless source of one Pro DJ Link keep-alive; counts the frames read.
struct Endless {
    frame: Vec<u8>,
    read: u64,
}

impl FrameSource for Endless {
    type Error = CaptureError;

    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        self.read += 1;
        Ok(Some(Frame {
            number: self.read,
            ts_ns: i128::from(self.read) * 1000,
            link_type: LinkType::Ethernet,
            interface: 0,
            orig_len: self.frame.len() as u32,
            data: &self.frame,
        }))
    }

    fn is_resumable(_: &CaptureError) -> bool {
        false
    }
}

#[test]
fn stopping_stops_the_reader_thread() {
    let capture = common::hostile::keep_alive_flood(Vec::new(), 1).unwrap();
    let mut reader = CaptureReader::new(Box::new(Cursor::new(capture))).unwrap();
    let frame = reader.next_frame().unwrap().unwrap().data.to_vec();
    let mut source = Endless { frame, read: 0 };
    let mut engine = Engine::new(EngineOptions::default());
    let mut trace = Trace::new(false, Some(10));
    // Returns at all only because the reader thread stopped.
    assert!(engine.run_pipelined(&mut source, &mut trace).is_break());
    assert_eq!(engine.stats().frames, 10);
    // What the reader read ahead is bounded by the batches in flight.
    assert!(source.read < 10_000, "{} frames read", source.read);
}

/// The binary reading standard input gives what it gives reading the file.
#[test]
fn standard_input_reads_like_the_file() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let path = common::own_captures().into_iter().next().unwrap();
    let file = path.to_str().unwrap();
    for args in [
        &["--format", "json"][..],
        &["-c", "700"][..],
        &["--summary"][..],
    ] {
        let (status, expected, err) = common::run(&[&["read", file][..], args].concat());
        assert_eq!(status, 0, "{err}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_djdissect"))
            .args([&["read", "-"][..], args].concat())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // The binary may stop reading early (-c): a closed pipe is fine.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, err.replace(file, "-"), "{args:?}");
    }
}
