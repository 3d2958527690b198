//! `djdissect replay` from the outside: usage errors, the start table and JSON log lines of a
//! short loopback run, and Ctrl-C ending a run with status 0. Each run uses its own
//! 127.0.89.x addresses.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn replay(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let o = replay(&["capture.pcapng"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("capture.pcapng"),
        "{}",
        stderr_of(&o)
    );

    let o = replay(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_of(&o).contains("--as"), "{}", stderr_of(&o));

    let o = replay(&["--as", "cdj-9999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("unknown role 'cdj-9999'"),
        "{}",
        stderr_of(&o)
    );

    let o = replay(&["--as", "cdj-3000", "--device", "2,3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("2 numbers for 1 roles"),
        "{}",
        stderr_of(&o)
    );

    let o = replay(&[
        "--as",
        "cdj-3000",
        "--scenario",
        "nope",
        "--first-address",
        "127.0.89.40",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("unknown scenario"),
        "{}",
        stderr_of(&o)
    );

    let o = replay(&["--as", "cdj-3000", "--first-address", "10.0.0.2"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a non-loopback first address is refused"
    );

    let o = replay(&["--as", "cdj-3000", "--interface", "no-such-if0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_of(&o).contains("no-such-if0"), "{}", stderr_of(&o));
}

#[test]
fn a_short_run_prints_the_table_and_json_log_lines() {
    let o = replay(&[
        "--as",
        "cdj-3000,djm-900nxs2",
        "--device",
        "3",
        "--scenario",
        "idle",
        "--first-address",
        "127.0.89.2",
        "--duration",
        "7s",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "127.0.89.2",
        "127.0.89.3",
        "cdj-3000",
        "djm-900nxs2",
        "3 (fixed)",
    ] {
        assert!(table.contains(needle), "table lacks {needle}:\n{table}");
    }
    let err = stderr_of(&o);
    let log: Vec<serde_json::Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let took = |ip: &str, text: &str| {
        log.iter()
            .any(|l| l["ip"] == ip && l["event"] == "note" && l["text"].as_str() == Some(text))
    };
    assert!(took("127.0.89.2", "took number 3"), "{err}");
    assert!(took("127.0.89.3", "took number 33"), "{err}");
    assert!(
        log.iter()
            .any(|l| l["ip"] == "127.0.89.2"
                && l["text"].as_str().is_some_and(|t| t.contains("joined"))),
        "the player saw the mixer join: {err}"
    );
    assert!(err.contains("2 devices for 7.0 s"), "closing line: {err}");
}

#[test]
fn ctrl_c_leaves_the_network_and_exits_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args([
            "replay",
            "--as",
            "cdj-2000nxs2",
            "--first-address",
            "127.0.89.20",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("Ctrl-C did not end replay within 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("replay: 1 devices for"), "{err}");
}
