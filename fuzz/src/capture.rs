//! Whole capture files through what `djdissect read` does: the reader, the engine, an
//! output format and (for some inputs) the session views.

use std::io::Cursor;
use std::ops::ControlFlow;

use djdissect::capture::writer::PcapNgWriter;
use djdissect::capture::{CaptureError, CaptureReader, LinkType, MAX_BLOCK};
use djdissect::dissect::Depth;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::output::{self, Printer};
use djdissect::record::Record;
use djdissect::session::{report, Session};

use super::common::check_dissection;

/// One frame as read, for the write-and-read-back comparison.
type Owned = (i128, LinkType, Vec<u8>);

pub fn capture_reader(data: &[u8]) {
    let mut r = match CaptureReader::new(Box::new(Cursor::new(data.to_vec()))) {
        Ok(r) => r,
        Err(e) => {
            check_error(&e, data.len());
            return;
        }
    };
    // The input length picks what `read` would be asked to do, so that every mode is fuzzed
    // without changing the file format.
    let mode = data.len() % 4;
    let detail = mode == 2;
    let mut printer = Printer::new(output::Options {
        format: if mode == 1 {
            output::Format::Json
        } else {
            output::Format::Text
        },
        detail,
        color: mode == 2,
    });
    let mut session = (mode == 3).then(Session::new);
    let mut engine = Engine::new(EngineOptions {
        // Text lines need only the head of each dissection (what `read` builds for them).
        depth: match mode {
            0 => Depth::Head,
            2 => Depth::Detail,
            _ => Depth::Fields,
        },
        ..Default::default()
    });
    let mut out = Vec::new();
    let mut frames: Vec<Owned> = Vec::new();
    let mut damaged = false;
    let mut last_offset = 0u64;
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(f.number, frames.len() as u64 + 1, "frame numbers count up");
                assert!(f.data.len() <= MAX_BLOCK && f.data.len() <= data.len());
                frames.push((f.ts_ns, f.link_type, f.data.to_vec()));
                printer.set_start(f.ts_ns);
                let _ = engine.frame(&f, &mut |rec| {
                    consume(rec, &mut printer, &mut out, session.as_mut());
                    ControlFlow::Continue(())
                });
            }
            Ok(None) => break,
            Err(e) => {
                check_error(&e, data.len());
                let at = e.offset().unwrap_or(0);
                assert!(at >= last_offset, "damage reported out of order: {e}");
                last_offset = at;
                damaged = true;
                if !e.is_resumable() {
                    break;
                }
            }
        }
        assert!(r.offset() <= data.len() as u64);
    }
    assert!(r.next_frame().unwrap().is_none(), "reading ended for good");
    let _ = engine.finish(&mut |rec| {
        consume(rec, &mut printer, &mut out, session.as_mut());
        ControlFlow::Continue(())
    });
    let _ = engine.stats().line();
    if mode == 1 {
        for line in String::from_utf8(out)
            .expect("JSON output is UTF-8")
            .lines()
        {
            serde_json::from_str::<serde_json::Value>(line).expect("each JSON line parses");
        }
    }
    if let Some(mut s) = session {
        s.finish();
        let _ = report::summary_text(&s, 100);
        let _ = report::summary_json(&s);
        let _ = report::timeline_text(&s);
        let _ = report::conversations_text(&s);
    }
    if !damaged {
        write_and_read_back(&frames);
    }
}

fn consume(rec: &Record<'_>, p: &mut Printer, out: &mut Vec<u8>, s: Option<&mut Session>) {
    check_dissection(&rec.dissection, rec.bytes, "record", false);
    p.record(rec, out).expect("printing to memory");
    if let Some(s) = s {
        s.observe(rec);
    }
}

fn check_error(e: &CaptureError, len: usize) {
    let text = e.to_string();
    assert!(!text.is_empty());
    if let Some(at) = e.offset() {
        assert!(at <= len as u64, "{text}");
        assert!(text.contains("byte offset"), "{text}");
    }
    if let CaptureError::Skipped { offset, len: n, .. } = e {
        assert!(*n > 0 && offset + n <= len as u64, "{text}");
    }
}

/// What an undamaged file yields survives our own writer: written as pcapng with one
/// interface per link type and read back, the frames are the same.
fn write_and_read_back(frames: &[Owned]) {
    let keep: Vec<&Owned> = frames
        .iter()
        .filter(|(ts, lt, _)| *ts >= 0 && *ts <= u64::MAX as i128 && lt.number() <= 0xffff)
        .collect();
    let mut w = PcapNgWriter::new(Vec::new(), "fuzz").unwrap();
    let mut ifaces: Vec<LinkType> = Vec::new();
    for (ts, lt, d) in &keep {
        let i = match ifaces.iter().position(|l| l == lt) {
            Some(i) => i,
            None => {
                w.add_interface(*lt, "x", 9).unwrap();
                ifaces.push(*lt);
                ifaces.len() - 1
            }
        };
        w.write_packet(i as u32, *ts, d).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let mut r = CaptureReader::new(Box::new(Cursor::new(bytes))).unwrap();
    for (ts, lt, d) in keep {
        let f = r.next_frame().unwrap().expect("as many frames as written");
        assert_eq!((f.ts_ns, f.link_type, f.data), (*ts, *lt, &d[..]));
    }
    assert!(r.next_frame().unwrap().is_none());
}
