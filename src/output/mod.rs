//! Output formats, separate from dissection: one text line per record, the detail view
//! (fields with offsets and a marked hex dump), and NDJSON.

mod detail;
mod json;
pub mod numbers;
pub mod time;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;

use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: Format,
    /// Every field with offsets, plus the hex dump (text); the `layout` array (JSON).
    pub detail: bool,
    pub color: bool,
}

/// Series (device, kind) whose previous packet the detail view remembers.
const MAX_SERIES: usize = 4096;

/// Output is handed on in batches of this size.
const BATCH: usize = 64 * 1024;

/// Identity of "the same device's packet of the same kind", for changed-byte marks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    proto: crate::dissect::Proto,
    ip: IpAddr,
    device: Option<u32>,
    port: u16,
    kind: Option<u32>,
    type_name: String,
}

/// Writes records in the chosen format.
pub struct Printer {
    opts: Options,
    first_ts: Option<i128>,
    /// Previous bytes per series (detail view only).
    previous: HashMap<SeriesKey, Vec<u8>>,
    buf: Vec<u8>,
}

impl Printer {
    pub fn new(opts: Options) -> Self {
        Printer {
            opts,
            first_ts: None,
            previous: HashMap::new(),
            buf: Vec::with_capacity(BATCH + 4096),
        }
    }

    /// Set the time that relative times count from (the capture's first frame).
    pub fn set_start(&mut self, ts_ns: i128) {
        self.first_ts.get_or_insert(ts_ns);
    }

    /// Render one record. Output is collected in the printer's own buffer and written to `out`
    /// in 64 KiB batches (one copy instead of two per record); call [`Printer::flush`] at the
    /// end, or after each record when output must appear at once (live views).
    pub fn record(&mut self, r: &Record<'_>, out: &mut impl Write) -> io::Result<()> {
        let start = *self.first_ts.get_or_insert(r.ts_ns);
        let changed = if self.opts.detail {
            let key = SeriesKey {
                proto: r.dissection.proto,
                ip: r.src.ip(),
                device: r.dissection.device,
                port: r.port,
                kind: r.dissection.kind,
                type_name: r.dissection.type_name.to_string(),
            };
            // One entry per (device, kind) series; a hostile capture could invent millions, so
            // past the bound the memory of earlier packets starts afresh (only the change
            // marks of the next packet of each series are lost).
            if self.previous.len() >= MAX_SERIES && !self.previous.contains_key(&key) {
                self.previous.clear();
            }
            let prev = self.previous.insert(key, r.bytes.to_vec());
            Some(prev)
        } else {
            None
        };
        match self.opts.format {
            Format::Json => {
                json::write_record(
                    &mut self.buf,
                    r,
                    self.opts.detail,
                    changed.as_ref().and_then(|p| p.as_deref()),
                );
                self.buf.push(b'\n');
            }
            Format::Text => {
                text_line(&mut self.buf, r, start, self.opts.color);
                if let Some(prev) = &changed {
                    detail::write_detail(&mut self.buf, r, prev.as_deref(), self.opts.color);
                }
            }
        }
        if self.buf.len() >= BATCH {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Write out what is buffered.
    pub fn flush(&mut self, out: &mut impl Write) -> io::Result<()> {
        let r = out.write_all(&self.buf);
        self.buf.clear();
        r
    }
}

/// `  12.345678 169.254.1.2:50000 -> 169.254.255.255:50000 CDJ-2000nexus #2 keep_alive ...`
fn text_line(buf: &mut Vec<u8>, r: &Record<'_>, start: i128, color: bool) {
    use std::fmt::Write as _;
    let d = &r.dissection;
    numbers::push_seconds_11_6(buf, r.ts_ns - start);
    buf.push(b' ');
    numbers::push_socket_addr(buf, &r.src);
    buf.extend_from_slice(b" -> ");
    numbers::push_socket_addr(buf, &r.dst);
    buf.push(b' ');
    if let Some(n) = &d.name {
        buf.extend_from_slice(n.as_bytes());
        buf.push(b' ');
    }
    if let Some(dev) = d.device {
        buf.push(b'#');
        buf.extend_from_slice(itoa::Buffer::new().format(dev).as_bytes());
        buf.push(b' ');
    }
    if color {
        buf.extend_from_slice(b"\x1b[1m");
    }
    buf.extend_from_slice(d.type_name.as_bytes());
    if color {
        buf.extend_from_slice(b"\x1b[0m");
    }
    if !d.summary.is_empty() {
        buf.extend_from_slice(b"  ");
        buf.extend_from_slice(d.summary.as_bytes());
    }
    if !r.extra.is_empty() || d.malformed.is_some() {
        let mut s = String::new();
        for (k, v) in &r.extra {
            let _ = write!(s, " {k}={v}");
        }
        if let Some(m) = &d.malformed {
            if color {
                s.push_str("\x1b[31m");
            }
            let _ = write!(s, "  [MALFORMED: {m}]");
            if color {
                s.push_str("\x1b[0m");
            }
        }
        buf.extend_from_slice(s.as_bytes());
    }
    buf.push(b'\n');
}

/// Decide colour once: `always`, `never`, or `auto` (a terminal, `NO_COLOR` unset or empty,
/// `TERM` not `dumb`).
pub fn use_color(choice: &str, stdout_is_tty: bool) -> bool {
    match choice {
        "always" => true,
        "never" => false,
        _ => {
            stdout_is_tty
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    }
}
