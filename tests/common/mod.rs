//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod hostile;

pub mod netns;

pub mod proof;

pub mod tcp;

use std::path::{Path, PathBuf};

use djdissect::capture::CaptureError;

/// `../shared/captures` relative to the project root, if present.
///
/// In CI (`CI` set and not `false`/`0`) a missing directory is a failure; elsewhere the caller
/// gets `None` and the test prints that it was skipped.
pub fn shared_captures(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false);
    if ci {
        panic!("{test}: ../shared/captures is missing (required when CI is set)");
    }
    // Straight to stderr: libtest captures `eprintln!` and shows it only for failing tests.
    use std::io::Write;
    let line = format!("\n{test}: SKIPPED: ../shared/captures is not present\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}

/// Every pcap/pcapng file in `dir` (by name; the format itself is detected from the magic).
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    v
}

/// The project's own captures (`captures/`).
pub fn own_captures() -> Vec<PathBuf> {
    capture_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"))
}

/// insta settings shared by every snapshot test: snapshots live in the top-level `snapshots/`.
pub fn insta_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Run the djdissect binary; returns (status, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(args)
        .output()
        .expect("run djdissect");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Dissect a capture in-process and render every record with the given printer options.
/// Returns the output and the closing statistics line.
pub fn render(path: &Path, format: djdissect::output::Format, detail: bool) -> (String, String) {
    use std::ops::ControlFlow;
    let mut r = djdissect::capture::CaptureReader::open(path).unwrap();
    let mut e = djdissect::engine::Engine::new(djdissect::engine::EngineOptions {
        depth: detail.into(),
        ..Default::default()
    });
    let mut p = djdissect::output::Printer::new(djdissect::output::Options {
        format,
        detail,
        color: false,
    });
    let mut out = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                p.set_start(f.ts_ns);
                let _ = e.frame(&f, &mut |rec| {
                    p.record(rec, &mut out).unwrap();
                    ControlFlow::Continue(())
                });
            }
            Ok(None) => break,
            Err(err) => panic!("{}: {err}", path.display()),
        }
    }
    let _ = e.finish(&mut |rec| {
        p.record(rec, &mut out).unwrap();
        ControlFlow::Continue(())
    });
    p.flush(&mut out).unwrap();
    (String::from_utf8(out).unwrap(), e.stats().line())
}

/// Every capture the snapshot tests cover: the real ones (when present) and the project's own.
/// Real captures come first, so that a message kind seen in both is taken from real bytes.
pub fn all_captures(test: &str) -> Vec<PathBuf> {
    let mut v = match shared_captures(test) {
        Some(dir) => capture_files(&dir),
        None => Vec::new(),
    };
    v.extend(own_captures());
    v
}

/// Snapshot name for a capture file: `real@LinkInfo.pcapng` or `own@club-set.pcapng`.
pub fn snapshot_name(prefix: &str, path: &Path) -> String {
    let own = path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"));
    format!(
        "{prefix}@{}{}",
        if own { "own-" } else { "" },
        path.file_name().unwrap().to_string_lossy()
    )
}

/// Run a capture through the engine (`Engine::run`), handing every record to `f`; damage in
/// the capture fails the test. Returns the engine, for its statistics.
pub fn each_record(
    path: &Path,
    options: djdissect::engine::EngineOptions,
    f: impl FnMut(&djdissect::record::Record<'_>),
) -> djdissect::engine::Engine {
    struct Each<F>(F);
    impl<F: FnMut(&djdissect::record::Record<'_>)> djdissect::engine::Consumer<CaptureError>
        for Each<F>
    {
        fn record(&mut self, r: &djdissect::record::Record<'_>) -> std::ops::ControlFlow<()> {
            (self.0)(r);
            std::ops::ControlFlow::Continue(())
        }
        fn source_error(&mut self, error: CaptureError) {
            panic!("{error}");
        }
    }
    let mut reader = djdissect::capture::CaptureReader::open(path).unwrap();
    let mut engine = djdissect::engine::Engine::new(options);
    let _ = engine.run(&mut reader, &mut Each(f));
    engine
}

/// Read a capture through the engine into a session.
pub fn session_of(path: &Path) -> djdissect::session::Session {
    session_of_records(path, djdissect::dissect::Depth::default(), false)
}

/// Like [`session_of`], with the engine dissecting to `depth`; `clear_fields` also empties
/// every record's field list before the session sees it, leaving only the dissection's head
/// (type, device, name, summary, malformed), the bytes and the stream trackers' extras.
pub fn session_of_records(
    path: &Path,
    depth: djdissect::dissect::Depth,
    clear_fields: bool,
) -> djdissect::session::Session {
    let mut s = djdissect::session::Session::new();
    let options = djdissect::engine::EngineOptions {
        depth,
        ..Default::default()
    };
    each_record(path, options, |rec| {
        if clear_fields {
            let mut rec = rec.clone();
            rec.dissection.fields.clear();
            s.observe(&rec);
        } else {
            s.observe(rec);
        }
    });
    s.finish();
    s
}

/// The detail view of one standalone message (fixtures, messages built from the reference).
pub fn detail_view(
    d: djdissect::dissect::Dissection,
    bytes: &[u8],
    src: &str,
    dst: &str,
) -> String {
    use djdissect::output::{Format, Options, Printer};
    let r = djdissect::record::Record {
        frame: 1,
        ts_ns: 0,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        interface: 0,
        port: dst
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        bytes,
        dissection: d,
        extra: Vec::new(),
    };
    let mut p = Printer::new(Options {
        format: Format::Text,
        detail: true,
        color: false,
    });
    let mut out = Vec::new();
    p.record(&r, &mut out).unwrap();
    p.flush(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}
