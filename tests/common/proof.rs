//! Running a real client against `djdissect replay --as` in a namespace pair, with the veth
//! captured by tshark (`clients.md` 7.2, 7.5): the bounded child processes and the capture's
//! read-back that every client proof shares.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::netns::NetnsPair;

/// Kills a child on drop (a failing assertion must not leave processes behind).
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

pub fn read_all(pipe: Option<impl std::io::Read>) -> String {
    let mut s = String::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_string(&mut s);
    }
    s
}

/// The JSON objects among `out`'s lines.
pub fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// Start tshark on the client's end of the veth, writing `file`, and wait (bounded) until it
/// captures.
pub fn start_capture(pair: &NetnsPair, file: &Path) -> Reaped {
    let mut tshark = Reaped(
        pair.exec(&pair.client, "timeout")
            .args([
                "-s",
                "INT",
                "90",
                "tshark",
                "-q",
                "-i",
                &pair.client_if,
                "-w",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tshark"),
    );
    let end = Instant::now() + Duration::from_secs(15);
    while Instant::now() < end {
        if file.exists() {
            // The file appears when dumpcap opened the interface.
            std::thread::sleep(Duration::from_millis(300));
            return tshark;
        }
        if let Ok(Some(status)) = tshark.0.try_wait() {
            let err = read_all(tshark.0.stderr.take());
            panic!("tshark ended before capturing ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("tshark did not start capturing within 15 s");
}

pub fn stop_capture(tshark: &mut Reaped) {
    // `timeout` passes SIGINT on to tshark, which then closes the file cleanly.
    let _ = Command::new("kill")
        .args(["-INT", &tshark.0.id().to_string()])
        .status();
    wait_bounded(&mut tshark.0, Duration::from_secs(10));
}

/// `djdissect replay --as ROLES` for `seconds` in the pair's device namespace.
pub fn start_rig(pair: &NetnsPair, roles: &str, seconds: u64) -> Reaped {
    Reaped(
        Command::new("timeout")
            .arg(format!("{}", seconds + 20))
            .arg(env!("CARGO_BIN_EXE_djdissect"))
            .args(["replay", "--as", roles, "--format", "json", "--duration"])
            .arg(format!("{seconds}s"))
            .args(["--netns", &pair.device])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the emulator"),
    )
}

/// Wait for the rig to end and check it ended cleanly; returns its log.
pub fn finish_rig(rig: &mut Reaped, seconds: u64) -> String {
    let status = wait_bounded(&mut rig.0, Duration::from_secs(seconds + 15));
    let log = read_all(rig.0.stderr.take());
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "emulator did not end cleanly:\n{log}"
    );
    log
}

/// `djdissect read` of the capture: 0 malformed, 0 unknown, every record the emulator sent a
/// named, well-formed type. Returns the set of type names the emulator sent.
pub fn check_capture(capture: &Path, pair: &NetnsPair, min_records: usize) -> BTreeSet<String> {
    let json = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["read", "--format", "json"])
        .arg(capture)
        .output()
        .unwrap();
    let closing = String::from_utf8_lossy(&json.stderr).into_owned();
    assert!(closing.contains("0 malformed, 0 unknown"), "{closing}");
    let ours: Vec<String> = pair.device_ips.iter().map(|ip| format!("{ip}:")).collect();
    let mut types = BTreeSet::new();
    let mut sent = 0;
    for r in lines(&String::from_utf8_lossy(&json.stdout)) {
        let src = r["src"].as_str().unwrap_or("");
        if !ours.iter().any(|p| src.starts_with(p.as_str())) {
            continue;
        }
        sent += 1;
        assert!(r.get("malformed").is_none(), "malformed: {r}");
        let t = r["type"].as_str().unwrap_or("").to_string();
        assert!(!t.is_empty() && t != "unknown", "unnamed: {r}");
        types.insert(t);
    }
    assert!(
        sent >= min_records,
        "only {sent} records from the emulator in the capture"
    );
    types
}

/// `djdissect read --summary` of the capture.
pub fn summary(capture: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["read", "--summary", "--width", "200"])
        .arg(capture)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
