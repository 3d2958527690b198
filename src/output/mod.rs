//! Output formats, separate from dissection: one text line per record, the detail view
//! (fields with offsets and a marked hex dump), and NDJSON.

mod detail;
mod json;
mod line;
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
    /// Cut text lines to this many columns (a terminal's width).
    width: Option<usize>,
}

impl Printer {
    pub fn new(opts: Options) -> Self {
        Printer {
            opts,
            first_ts: None,
            previous: HashMap::new(),
            buf: Vec::with_capacity(BATCH + 4096),
            width: None,
        }
    }

    /// Cut the tail of text lines to `width` columns (when writing to a terminal).
    pub fn with_width(mut self, width: Option<usize>) -> Self {
        self.width = width.filter(|w| *w > 0);
        self
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
                line::text_line(&mut self.buf, r, start, self.opts.color, self.width);
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
