//! `djdissect read`: dissect a capture file.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;

use super::{ColorChoice, OutputFormat, ReadArgs};
use crate::capture::CaptureReader;
use crate::engine::{Engine, EngineOptions};
use crate::filter::{self, Filter};
use crate::output::{self, Printer};

pub const AFTER_HELP: &str = "\
Filter words: prodjlink keepalive hello claim beat position onair fader sync master status mixer
media load settings opus touch stagehand dbserver metadata artwork menu stagelinq discovery
statemap beatinfo filetransfer malformed unknown.
Comparisons: NAME=VALUE, !=, <, <=, >, >=, ~ (contains). NAME is device, port, kind, ip, src, dst,
name, type, proto, frame, len, or any JSON field name (bpm, path, rekordbox_id...).
Combine with and, or, not and parentheses.

Examples:
  djdissect read captures/club-set.pcapng
  djdissect read set.pcapng --filter 'beat and device=2'
  djdissect read set.pcapng -V --filter 'status and device=3' -c 2
  djdissect read set.pcapng --format json | jq .fields.bpm

Exit status: 0 ok; 1 damaged or truncated capture (everything before the damage is shown);
2 usage error, bad filter, or unreadable input.";

fn color_choice(c: ColorChoice) -> &'static str {
    match c {
        ColorChoice::Auto => "auto",
        ColorChoice::Always => "always",
        ColorChoice::Never => "never",
    }
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
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
    let mut reader = match CaptureReader::open(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("djdissect: {name}: {e}");
            return 2;
        }
    };
    let stdout = io::stdout();
    let color = output::use_color(color_choice(color), stdout.is_terminal());
    let mut printer = Printer::new(output::Options {
        format: match args.format {
            OutputFormat::Text => output::Format::Text,
            OutputFormat::Json => output::Format::Json,
        },
        detail: args.detail,
        color: color && args.format == OutputFormat::Text,
    });
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut engine = Engine::new(EngineOptions {
        detail: args.detail,
        ..Default::default()
    });
    let mut shown = 0u64;
    let mut write_error: Option<io::Error> = None;
    let max = args.max_records;
    let mut sink = |r: &crate::record::Record<'_>| {
        if filter.as_ref().is_some_and(|f| !f.matches(r)) {
            return ControlFlow::Continue(());
        }
        if let Err(e) = printer.record(r, &mut out) {
            write_error = Some(e);
            return ControlFlow::Break(());
        }
        shown += 1;
        if max.is_some_and(|m| shown >= m) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let mut capture_error = None;
    let mut stopped = false;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                if engine.frame(&frame, &mut sink).is_break() {
                    stopped = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                capture_error = Some(e);
                break;
            }
        }
    }
    if !stopped {
        let _ = engine.finish(&mut sink);
    }
    drop(sink);
    let flushed = out.flush();
    if let Some(e) = write_error.or(flushed.err()) {
        if is_broken_pipe(&e) {
            return 0;
        }
        eprintln!("djdissect: cannot write output: {e}");
        return 2;
    }
    if !args.quiet {
        eprintln!("djdissect: {name}: {}", engine.stats().line());
    }
    if let Some(e) = capture_error {
        eprintln!("djdissect: {name}: {e}");
        return 1;
    }
    0
}
