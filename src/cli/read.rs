//! `djdissect read`: dissect a capture file.

use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use super::{ColorChoice, OutputFormat, ReadArgs};
use crate::capture::{CaptureError, CaptureReader};
use crate::dissect::Depth;
use crate::engine::{self, Engine, FrameStamp};
use crate::filter::{self, Filter};
use crate::output::{self, Printer};
use crate::record::Record;
use crate::session::{report, Session};

pub const AFTER_HELP: &str = "\
Filter words: prodjlink keepalive hello claim beat position onair fader sync master status mixer
media load settings opus touch stagehand dbserver metadata artwork menu stagelinq discovery
statemap beatinfo filetransfer malformed unknown.
Comparisons: NAME=VALUE, !=, <, <=, >, >=, ~ (contains). NAME is device, port, kind, ip, src, dst,
name, type, proto, frame, len, or any JSON field name (bpm, path, rekordbox_id...; docs/json.md).
A comparison on a name the record lacks is false, != included: 'not device=2' also keeps the
records without a device number, 'device!=2' does not. Combine with and, or, not and parentheses.

Examples:
  djdissect read captures/club-set.pcapng
  djdissect read set.pcapng --filter 'beat and device=2'
  djdissect read set.pcapng -V --filter 'status and device=3' -c 2
  djdissect read set.pcapng --format json | jq .fields.bpm
  djdissect read set.pcapng --summary
  djdissect read set.pcapng --now-playing np.txt --template '{artist} - {title}'

Exit status: 0 ok; 1 damaged or truncated capture (everything before the damage is shown);
2 usage error, bad filter, or unreadable input.";

fn color_choice(c: ColorChoice) -> &'static str {
    match c {
        ColorChoice::Auto => "auto",
        ColorChoice::Always => "always",
        ColorChoice::Never => "never",
    }
}

/// What happens to each record: filter, print, feed the session, write now-playing.
struct Consumer<W: Write> {
    filter: Option<Filter>,
    printer: Option<Printer>,
    out: W,
    session: Option<Session>,
    now_playing: Option<(PathBuf, String, Option<String>)>,
    shown: u64,
    max: Option<u64>,
    error: Option<io::Error>,
    progress: super::progress::Progress,
    /// Damage the reader skipped (reading went on) and the error that ended reading.
    capture_errors: Vec<CaptureError>,
}

impl<W: Write> engine::Consumer<CaptureError> for Consumer<W> {
    fn frame(&mut self, at: &FrameStamp) {
        if at.number % 4096 == 0 {
            self.progress.tick();
        }
        if let Some(p) = &mut self.printer {
            p.set_start(at.ts_ns);
        }
    }

    fn record(&mut self, r: &Record<'_>) -> ControlFlow<()> {
        self.handle(r)
    }

    fn source_error(&mut self, error: CaptureError) {
        self.capture_errors.push(error);
    }
}

impl<W: Write> Consumer<W> {
    fn handle(&mut self, r: &Record<'_>) -> ControlFlow<()> {
        if let Some(s) = &mut self.session {
            let changed = s.observe(r);
            if changed {
                if let Err(e) = self.write_now_playing() {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        let Some(printer) = &mut self.printer else {
            return ControlFlow::Continue(());
        };
        if self.filter.as_ref().is_some_and(|f| !f.matches(r)) {
            return ControlFlow::Continue(());
        }
        if let Err(e) = printer.record(r, &mut self.out) {
            self.error = Some(e);
            return ControlFlow::Break(());
        }
        self.shown += 1;
        if self.max.is_some_and(|m| self.shown >= m) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// Hand the printer's batch to the output.
    fn flush_printer(&mut self) {
        if let Some(p) = &mut self.printer {
            if let Err(e) = p.flush(&mut self.out) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Rewrite the now-playing file when its text changed (write then rename, so a reader
    /// never sees half a line).
    fn write_now_playing(&mut self) -> io::Result<()> {
        let (Some((path, template, last)), Some(s)) = (&mut self.now_playing, &self.session) else {
            return Ok(());
        };
        let text = s.now_playing.render(template);
        if last.as_deref() == Some(&text) {
            return Ok(());
        }
        let tmp = path.with_extension("tmp~");
        fs::write(&tmp, format!("{text}\n"))?;
        fs::rename(&tmp, &*path)?;
        *last = Some(text);
        Ok(())
    }
}

pub fn run(args: &ReadArgs, color: ColorChoice) -> i32 {
    let filter: Option<Filter> = match &args.filter {
        Some(expr) => match filter::parse(expr) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("djdissect: {}", e.render(expr));
                return 2;
            }
        },
        None => None,
    };
    let name = args.file.display().to_string();
    let progress = super::progress::Progress::new(&args.file, args.quiet);
    let mut reader = match CaptureReader::open_with(&args.file, |r| progress.wrap(r)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("djdissect: {name}: {e}");
            // A capture damaged in its file header is a damaged capture, not a usage error.
            return if e.offset().is_some() { 1 } else { 2 };
        }
    };
    let stdout = io::stdout();
    let color = output::use_color(color_choice(color), stdout.is_terminal());
    let story = is_story(args);
    let mut c = Consumer {
        filter,
        printer: (!story).then(|| {
            Printer::new(output::Options {
                format: match args.format {
                    OutputFormat::Text => output::Format::Text,
                    OutputFormat::Json => output::Format::Json,
                },
                detail: args.detail,
                color: color && args.format == OutputFormat::Text,
            })
            .with_width(terminal_width(&stdout))
        }),
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        session: (story || args.now_playing.is_some()).then(Session::new),
        now_playing: args
            .now_playing
            .clone()
            .map(|p| (p, args.template.clone(), None)),
        shown: 0,
        max: args.max_records,
        error: None,
        progress,
        capture_errors: Vec::new(),
    };
    let depth = depth_needed(args, c.filter.as_ref(), c.session.is_some());
    let mut engine = Engine::new(args.limits.engine_options(depth));
    // With a second core, reading and the network layers run on a thread of their own.
    if std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
        let _ = engine.run_pipelined(&mut reader, &mut c);
    } else {
        let _ = engine.run(&mut reader, &mut c);
    }
    c.progress.finish();
    c.flush_printer();
    if let Some(s) = &mut c.session {
        s.finish();
    }
    if c.error.is_none() {
        if let Err(e) = write_story(args, &mut c) {
            c.error = Some(e);
        }
    }
    let flushed = c.out.flush();
    if let Some(e) = c.error.take().or(flushed.err()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return 0;
        }
        eprintln!("djdissect: cannot write output: {e}");
        return 2;
    }
    if !args.quiet {
        eprintln!("djdissect: {name}: {}", engine.stats().line());
    }
    let capture_errors = c.capture_errors;
    if capture_errors.is_empty() {
        return 0;
    }
    // Every damaged region is named, up to a bound (a file of garbage could have many).
    const SHOWN: usize = 20;
    for e in capture_errors.iter().take(SHOWN) {
        eprintln!("djdissect: {name}: {e}");
    }
    if capture_errors.len() > SHOWN {
        eprintln!(
            "djdissect: {name}: {} more damaged regions not listed",
            capture_errors.len() - SHOWN
        );
    }
    1
}

/// How much of each message to dissect: only what the chosen output and filter read. The text
/// line, the session and filters on words or record names need the head of each dissection;
/// JSON needs the fields as JSON text; filters on field values need them as values; detail
/// views need everything.
fn depth_needed(args: &ReadArgs, filter: Option<&Filter>, session: bool) -> Depth {
    if args.detail {
        Depth::Detail
    } else if filter.is_some_and(Filter::needs_fields) || session && Session::NEEDS_FIELDS {
        Depth::Fields
    } else if args.format == OutputFormat::Json && !is_story(args) {
        Depth::Json
    } else if is_story(args) {
        // Only the session reads the records: no line prints their summaries.
        Depth::Identity
    } else {
        Depth::Head
    }
}

/// The terminal's width in columns when standard output is one (text lines are cut to it);
/// None for a pipe or a file, which get whole lines.
fn terminal_width(stdout: &io::Stdout) -> Option<usize> {
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(stdout).map(|(w, _)| w.0 as usize)
}

fn is_story(args: &ReadArgs) -> bool {
    args.summary || args.timeline || args.conversations
}

/// The session views, written once the whole capture has been read.
fn write_story<W: Write>(args: &ReadArgs, c: &mut Consumer<W>) -> io::Result<()> {
    let Some(s) = &c.session else { return Ok(()) };
    if args.summary {
        match args.format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut c.out, &report::summary_json(s))?;
                c.out.write_all(b"\n")?;
            }
            OutputFormat::Text => c
                .out
                .write_all(report::summary_text(s, args.width).as_bytes())?,
        }
    } else if args.timeline {
        c.out.write_all(report::timeline_text(s).as_bytes())?;
    } else if args.conversations {
        c.out.write_all(report::conversations_text(s).as_bytes())?;
    }
    // The last state when the file ends.
    c.write_now_playing()
}
