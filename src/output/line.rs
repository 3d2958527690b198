//! The text line: one per record, in steady columns, as tshark users read them.
//!
//! ```text
//!        time  frame source                   destination           sender              type                 summary
//!   12.345678     42 169.254.1.2:50000     -> 169.254.255.255:50000 CDJ-2000nexus #2    keep_alive           D2 at ...
//! ```
//! The frame number is the capture's (as Wireshark counts), so `-Y frame=42` and `-V` find the
//! line again. Columns are padded to a fixed width (longer values push the rest right rather
//! than being cut: an address is never split); on a terminal the tail (summary and context) is
//! cut at the terminal's width with `…`, the whole value being in `-V` and JSON. The
//! `[MALFORMED ...]` mark is kept whole even then.

use std::io::Write as _;

use super::numbers;
use crate::record::Record;

/// Column widths: `255.255.255.255:65535` is 21 characters; a sender is a model name and a
/// device number (`CDJ-2000nexus #2`); most type names fit 20.
const FRAME: usize = 6;
const ADDR: usize = 21;
const SENDER: usize = 19;
const TYPE: usize = 20;

/// Append one record's line to `buf`. `width`: cut the tail to fit this many columns.
pub fn text_line(
    buf: &mut Vec<u8>,
    r: &Record<'_>,
    start: i128,
    color: bool,
    width: Option<usize>,
) {
    let d = &r.dissection;
    let line_start = buf.len();
    numbers::push_seconds_11_6(buf, r.ts_ns - start);
    buf.push(b' ');
    let mut ib = itoa::Buffer::new();
    pad_left(buf, ib.format(r.frame).as_bytes(), FRAME);
    buf.push(b' ');
    let at = buf.len();
    numbers::push_socket_addr(buf, &r.src);
    pad_to(buf, at, ADDR);
    buf.extend_from_slice(b" -> ");
    let at = buf.len();
    numbers::push_socket_addr(buf, &r.dst);
    pad_to(buf, at, ADDR);
    buf.push(b' ');
    let at = buf.len();
    if let Some(n) = &d.name {
        buf.extend_from_slice(n.as_bytes());
    }
    if let Some(dev) = d.device {
        if d.name.is_some() {
            buf.push(b' ');
        }
        buf.push(b'#');
        buf.extend_from_slice(ib.format(dev).as_bytes());
    }
    if buf.len() == at {
        buf.push(b'-');
    }
    // Names may hold non-ASCII characters: pad by characters, not bytes.
    let sender_chars = if d.name.as_deref().is_some_and(|n| !n.is_ascii()) {
        String::from_utf8_lossy(&buf[at..]).chars().count()
    } else {
        buf.len() - at
    };
    push_spaces(buf, SENDER.saturating_sub(sender_chars) + 1);
    if color {
        buf.extend_from_slice(b"\x1b[1m");
    }
    buf.extend_from_slice(d.type_name.as_bytes());
    if color {
        buf.extend_from_slice(b"\x1b[0m");
    }
    let tail_start = buf.len();
    if !d.summary.is_empty() || !r.extra.is_empty() {
        push_spaces(buf, TYPE.saturating_sub(d.type_name.len()) + 1);
    }
    buf.extend_from_slice(d.summary.as_bytes());
    for (k, v) in &r.extra {
        // Straight into the line: the key is plain text, only the value needs `Display`.
        buf.push(b' ');
        buf.extend_from_slice(k.as_bytes());
        buf.push(b'=');
        let _ = write!(buf, "{v}");
    }
    if let Some(w) = width {
        cut_tail(
            buf,
            line_start,
            tail_start,
            w,
            d.malformed.as_deref().map(mark_len),
        );
    }
    if let Some(m) = &d.malformed {
        if color {
            buf.extend_from_slice(b"\x1b[31m");
        }
        buf.extend_from_slice(b"  [MALFORMED: ");
        buf.extend_from_slice(m.as_bytes());
        buf.push(b']');
        if color {
            buf.extend_from_slice(b"\x1b[0m");
        }
    }
    buf.push(b'\n');
}

/// Visible width of `  [MALFORMED: m]`.
fn mark_len(m: &str) -> usize {
    15 + m.chars().count()
}

fn push_spaces(buf: &mut Vec<u8>, n: usize) {
    buf.extend(std::iter::repeat_n(b' ', n));
}

/// Pad what was written since `at` (ASCII: an address) to `width` columns.
fn pad_to(buf: &mut Vec<u8>, at: usize, width: usize) {
    push_spaces(buf, width.saturating_sub(buf.len() - at));
}

fn pad_left(buf: &mut Vec<u8>, s: &[u8], width: usize) {
    push_spaces(buf, width.saturating_sub(s.len()));
    buf.extend_from_slice(s);
}

/// Columns the text occupies, not counting colour escapes (`ESC [ ... m`).
fn visible(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Cut the tail (from `tail_start`) so that the line, with a mark of `keep` columns still to
/// come, fits `width` columns; a cut tail ends in `…`.
fn cut_tail(
    buf: &mut Vec<u8>,
    line_start: usize,
    tail_start: usize,
    width: usize,
    keep: Option<usize>,
) {
    let head = visible(&String::from_utf8_lossy(&buf[line_start..tail_start]));
    let tail = String::from_utf8_lossy(&buf[tail_start..]).into_owned();
    let room = width.saturating_sub(head + keep.unwrap_or(0));
    if tail.chars().count() <= room {
        return;
    }
    buf.truncate(tail_start);
    if room == 0 {
        // The columns alone fill the width: the mark still says a tail was cut.
        buf.extend_from_slice(" …".as_bytes());
        return;
    }
    let kept: String = tail.chars().take(room.saturating_sub(1)).collect();
    buf.extend_from_slice(kept.as_bytes());
    buf.extend_from_slice("…".as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::{Dissection, Proto, Value};

    fn record(name: Option<&str>, device: Option<u32>, summary: &str) -> Record<'static> {
        let mut d = Dissection::new(Proto::ProDjLink, "keep_alive");
        d.name = name.map(str::to_string);
        d.device = device;
        d.summary = summary.to_string();
        Record {
            frame: 42,
            ts_ns: 1_500_000_000,
            src: "169.254.1.2:50000".parse().unwrap(),
            dst: "169.254.255.255:50000".parse().unwrap(),
            interface: 0,
            port: 50000,
            bytes: &[],
            dissection: d,
            extra: vec![],
        }
    }

    fn line(r: &Record<'_>, width: Option<usize>) -> String {
        let mut b = Vec::new();
        text_line(&mut b, r, 0, false, width);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn columns_are_steady() {
        let a = line(&record(Some("CDJ-2000nexus"), Some(2), "D2 at x"), None);
        let b = line(&record(None, None, "short"), None);
        assert_eq!(
            a,
            "   1.500000     42 169.254.1.2:50000     -> 169.254.255.255:50000 CDJ-2000nexus #2    keep_alive           D2 at x\n"
        );
        // The type and the summary start in the same column whatever the sender.
        assert_eq!(a.find("keep_alive"), b.find("keep_alive"));
        assert_eq!(a.find("D2 at"), b.find("short"));
        assert!(b.contains(" - "), "an absent sender is a '-': {b}");
    }

    #[test]
    fn frame_number_is_on_the_line() {
        let mut r = record(None, Some(1), "x");
        r.frame = 1_234_567;
        assert!(line(&r, None).contains(" 1234567 169.254.1.2:50000"));
    }

    #[test]
    fn long_tails_are_cut_at_the_width_but_the_malformed_mark_is_kept() {
        let long = "x".repeat(300);
        let r = record(Some("CDJ"), Some(1), &long);
        let full = line(&r, None);
        assert!(full.contains(&long));
        let cut = line(&r, Some(120));
        assert_eq!(cut.trim_end().chars().count(), 120, "{cut}");
        assert!(cut.trim_end().ends_with('…'));
        let mut r = r;
        r.dissection.malformed = Some("too short".into());
        let cut = line(&r, Some(140));
        assert_eq!(cut.trim_end().chars().count(), 140, "{cut}");
        assert!(
            cut.trim_end().ends_with("…  [MALFORMED: too short]"),
            "{cut}"
        );
        // When the columns and the mark fill the width, the line still says it was cut.
        let cut = line(&r, Some(100));
        assert!(
            cut.trim_end().ends_with(" …  [MALFORMED: too short]"),
            "{cut}"
        );
        // A line that fits is not touched.
        let r = record(Some("CDJ"), Some(1), "short");
        assert_eq!(line(&r, Some(120)), line(&r, None));
        // Colour escapes take no columns.
        let mut b = Vec::new();
        text_line(
            &mut b,
            &record(Some("CDJ"), Some(1), &long),
            0,
            true,
            Some(120),
        );
        assert_eq!(visible(String::from_utf8(b).unwrap().trim_end()), 120);
    }

    #[test]
    fn context_follows_the_summary() {
        let mut r = record(None, None, "answer");
        r.extra.push(("latency_ms", Value::F(1.5)));
        assert!(line(&r, None).ends_with("answer latency_ms=1.5\n"));
    }
}
