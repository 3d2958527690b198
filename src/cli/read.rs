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
use crate::session::Session;

use super::write_frames::FrameSet;

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
  djdissect read set.pcapng -Y 'frame=1234' -V
  djdissect read set.pcapng -Y 'dbserver or status' -w cut.pcapng
  djdissect read set.pcapng --summary
  djdissect read set.pcapng --timeline --format json | jq .text
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
    /// The story views are built from the records the filter keeps (and `-c` counts those).
    story: bool,
    shown: u64,
    max: Option<u64>,
    /// Frames of the records shown, for `-w`.
    frames: Option<FrameSet>,
    error: Option<io::Error>,
    /// A now-playing file that could not be written (reading stops there).
    now_playing_error: Option<String>,
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
        // `-c 0` shows nothing; `-c N` stops once N were shown.
        if self.max.is_some_and(|m| self.shown >= m) {
            return ControlFlow::Break(());
        }
        let keep = self.filter.as_ref().is_none_or(|f| f.matches(r));
        if let Some(s) = &mut self.session {
            // A story is told from the kept records; now-playing beside the packet view
            // follows every record.
            if keep || !self.story {
                let changed = s.observe(r);
                if changed {
                    if let Err(e) = self.write_now_playing() {
                        self.now_playing_error = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        if !keep {
            // -V marks what changed since the previous packet of a series, shown or not.
            if let Some(p) = &mut self.printer {
                p.observe(r);
            }
            return ControlFlow::Continue(());
        }
        if let Some(printer) = &mut self.printer {
            if let Err(e) = printer.record(r, &mut self.out) {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        if let Some(f) = &mut self.frames {
            f.insert(r.frame);
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
    /// The error names the file that could not be written.
    fn write_now_playing(&mut self) -> Result<(), String> {
        let (Some((path, template, last)), Some(s)) = (&mut self.now_playing, &self.session) else {
            return Ok(());
        };
        let text = s.now_playing.render(template);
        if last.as_deref() == Some(&text) {
            return Ok(());
        }
        let tmp = path.with_extension("tmp~");
        fs::write(&tmp, format!("{text}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        fs::rename(&tmp, &*path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })?;
        *last = Some(text);
        Ok(())
    }
}

/// Options that would be silently ignored in this combination are refused instead.
fn check_combination(args: &ReadArgs) -> Result<(), String> {
    let story = if args.summary {
        Some("--summary")
    } else if args.timeline {
        Some("--timeline")
    } else if args.conversations {
        Some("--conversations")
    } else {
        None
    };
    if args.width.is_some() && !(args.summary && args.format == OutputFormat::Text) {
        return Err(
            "--width sets the width of --summary's text tables; it has no effect here \
                    (text lines take the terminal's width)"
                .into(),
        );
    }
    if let Some(view) = story {
        if args.detail {
            return Err(format!(
                "-V shows packets in detail; {view} shows the story instead: use one or the other"
            ));
        }
        if args.write.is_some() {
            return Err(format!(
                "-w writes the frames of the packets shown; {view} shows none: leave out {view}"
            ));
        }
    }
    if args.write.is_some() && args.file.as_os_str() == "-" {
        return Err(
            "-w reads the input a second time to copy its frames: give a file, not '-'".into(),
        );
    }
    Ok(())
}

pub fn run(args: &ReadArgs, color: ColorChoice) -> i32 {
    if let Err(e) = check_combination(args) {
        eprintln!("djdissect: {e}");
        return 2;
    }
    if let Err(e) = now_playing_template(args) {
        eprintln!("djdissect: {e}");
        return 2;
    }
    // The output file is created before reading, so that a path that cannot be written is
    // reported at once.
    let write_to = match &args.write {
        Some(p) => match fs::File::create(p) {
            Ok(f) => Some((p, f)),
            Err(e) => {
                eprintln!("djdissect: cannot write {}: {e}", p.display());
                return 2;
            }
        },
        None => None,
    };
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
        story,
        shown: 0,
        max: args.max_records,
        frames: write_to.is_some().then(FrameSet::default),
        error: None,
        now_playing_error: None,
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
    if c.error.is_none() && c.now_playing_error.is_none() {
        if let Some(s) = &c.session {
            let width = args.width.or_else(|| {
                terminal_width(&io::stdout()).map(|w| w.clamp(40, u16::MAX as usize) as u16)
            });
            if let Err(e) = super::story::write(args, s, width.unwrap_or(120), &mut c.out) {
                c.error = Some(e);
            }
        }
        // The last state when the file ends.
        if c.now_playing_error.is_none() {
            if let Err(e) = c.write_now_playing() {
                c.now_playing_error = Some(e);
            }
        }
    }
    let flushed = c.out.flush();
    // The frames of what was shown are written whatever ended the run (`-c`, a closed pipe,
    // damage), so that the file holds what the user saw.
    let written = match (write_to, &c.frames) {
        (Some((path, file)), Some(frames)) => {
            Some((path, super::write_frames::write(&args.file, frames, file)))
        }
        _ => None,
    };
    if let Some(e) = &c.now_playing_error {
        eprintln!("djdissect: --now-playing: {e}");
        return 2;
    }
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
    match written {
        Some((path, Ok(n))) if !args.quiet => {
            let s = if n == 1 { "" } else { "s" };
            eprintln!("djdissect: wrote {n} frame{s} to {}", path.display())
        }
        Some((path, Err(e))) => {
            eprintln!("djdissect: cannot write {}: {e}", path.display());
            return 2;
        }
        _ => {}
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

/// A `--template` placeholder `render` would leave as it is is refused, naming the known ones.
fn now_playing_template(args: &ReadArgs) -> Result<(), String> {
    if args.now_playing.is_none() {
        return Ok(());
    }
    crate::session::NowPlaying::check_template(&args.template)
        .map_err(|e| format!("--template: {e}"))
}

fn is_story(args: &ReadArgs) -> bool {
    args.summary || args.timeline || args.conversations
}
