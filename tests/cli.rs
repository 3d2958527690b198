//! The binary's behaviour: exit codes, errors, filters, pipes, colour, truncated input.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::run;

fn shared(name: &str) -> Option<String> {
    common::shared_captures(name).map(|d| d.join("LinkInfo.pcapng").display().to_string())
}

#[test]
fn bad_filter_is_a_clear_error_with_status_2() {
    let Some(f) = shared("bad_filter") else {
        return;
    };
    let (code, out, err) = run(&["read", &f, "--filter", "beat and (status or"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("invalid filter"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn missing_file_and_non_capture_are_status_2() {
    let (code, _, err) = run(&["read", "/nonexistent/x.pcap"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.pcap");
    std::fs::write(&p, "hello, this is text").unwrap();
    let (code, _, err) = run(&["read", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a pcap or pcapng file"), "{err}");
}

#[test]
fn truncated_capture_reports_everything_before_then_status_1() {
    let Some(dir) = common::shared_captures("truncated_capture") else {
        return;
    };
    let bytes = std::fs::read(dir.join("powerup.pcapng")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cut = tmp.path().join("cut.pcapng");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let (full_code, full, _) = run(&[
        "read",
        dir.join("powerup.pcapng").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(full_code, 0);
    let (code, out, err) = run(&["read", cut.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("truncated at byte offset"), "{err}");
    // Every line printed is a prefix of the complete output.
    assert!(!out.is_empty());
    assert!(full.starts_with(&out));
}

#[test]
fn count_filter_and_json_shape() {
    let Some(f) = shared("count_filter_json") else {
        return;
    };
    let (code, out, _) = run(&[
        "read",
        &f,
        "--format",
        "json",
        "--filter",
        "status and device=2",
        "-c",
        "3",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for v in &lines {
        assert_eq!(v["type"], "cdj_status");
        assert_eq!(v["device"], 2);
        assert_eq!(v["proto"], "prodjlink");
        assert_eq!(v["kind"], "0x0a");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        for k in [
            "bpm",
            "pitch",
            "effective_bpm",
            "beat",
            "beat_in_bar",
            "play_state",
            "playing",
            "master",
            "sync",
            "on_air",
            "rekordbox_id",
            "track_device",
            "track_slot",
            "track_type",
            "firmware",
            "packet_counter",
        ] {
            assert!(v["fields"].get(k).is_some(), "cdj_status lacks {k}: {v}");
        }
    }
}

#[test]
fn closed_pipe_ends_quietly_with_status_0() {
    let Some(f) = shared("closed_pipe") else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["read", &f, "-V"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close our end.
    {
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0u8; 64];
        let _ = std::io::Read::read(&mut stdout, &mut buf);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn stdin_and_colour_choices() {
    let Some(f) = shared("stdin_and_colour") else {
        return;
    };
    let bytes = std::fs::read(&f).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["read", "-", "-c", "2", "--color", "always"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.contains("\x1b["),
        "--color always colours even into a pipe"
    );
    let (_, plain, _) = run(&["read", &f, "-c", "2"]);
    assert!(
        !plain.contains("\x1b["),
        "auto is off when stdout is not a terminal"
    );
}

#[test]
fn non_dj_traffic_is_counted_in_the_closing_line() {
    let Some(dir) = common::shared_captures("non_dj_counted") else {
        return;
    };
    let (code, _, err) = run(&[
        "read",
        dir.join("usr-ein-S04-media-insert.pcap").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(err.contains("2597 frames: 844 records"), "{err}");
    assert!(err.contains("1690 NFS (UDP)"), "{err}");
    let (_, _, quiet) = run(&[
        "read",
        dir.join("usr-ein-S04-media-insert.pcap").to_str().unwrap(),
        "-q",
        "-c",
        "1",
    ]);
    assert!(quiet.is_empty());
}
