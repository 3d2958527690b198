//! Output formats, separate from dissection: one text line per record, the detail view
//! (fields with offsets and a marked hex dump), and NDJSON.

mod detail;
mod json;
mod line;
pub mod numbers;
mod series;
pub mod time;

use std::io::{self, Write};

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

/// Output is handed on in batches of this size.
const BATCH: usize = 64 * 1024;

/// Writes records in the chosen format.
pub struct Printer {
    opts: Options,
    first_ts: Option<i128>,
    /// The previous packet of each series (detail view only).
    series: series::Series,
    buf: Vec<u8>,
    /// Cut text lines to this many columns (a terminal's width).
    width: Option<usize>,
}

impl Printer {
    pub fn new(opts: Options) -> Self {
        Printer {
            opts,
            first_ts: None,
            series: series::Series::default(),
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
        let changes = if self.opts.detail {
            Some(self.series.compare_and_remember(r))
        } else {
            None
        };
        match self.opts.format {
            Format::Json => {
                json::write_record(
                    &mut self.buf,
                    r,
                    self.opts.detail,
                    changes.as_ref().and_then(|c| c.as_ref()),
                );
                self.buf.push(b'\n');
            }
            Format::Text => {
                line::text_line(&mut self.buf, r, start, self.opts.color, self.width);
                if let Some(c) = &changes {
                    detail::write_detail(&mut self.buf, r, c.as_ref(), self.opts.color);
                }
            }
        }
        if self.buf.len() >= BATCH {
            self.flush(out)?;
        }
        Ok(())
    }

    /// A record that is not shown (filtered out): the detail view still remembers it, so that
    /// the next packet of its series is compared with it.
    pub fn observe(&mut self, r: &Record<'_>) {
        if self.opts.detail {
            self.series.compare_and_remember(r);
        }
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
