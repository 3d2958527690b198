//! `djdissect replay FILE` checked from the wire: every real capture is replayed at top speed
//! (one at 1x, a short window) while `dumpcap` records the replay's addresses on `lo`; `read`
//! of that recording must give the original's DJ datagram records, in order, apart from
//! addresses, ports and times (the recorded addresses and MACs are mapped through the replay's
//! start table before comparing, so a rewrite that went wrong shows as a difference).
//! Damaged captures: the replay sends what `read` could read, reports the damage, no panic.
//! Each test uses its own 127.0.X.0/24 so tests can run in parallel.

mod common;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djdissect::capture::CaptureReader;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::replay::{self, datagrams::is_dj_port, Options};

/// `dumpcap` on `lo`, keeping only UDP from one replay's /24.
struct Dumpcap {
    child: Child,
    path: PathBuf,
}

impl Dumpcap {
    fn start(net: u8, path: &Path) -> Option<Dumpcap> {
        let filter = format!("udp and src net 127.0.{net}.0/24");
        let child = Command::new("dumpcap")
            .args(["-q", "-i", "lo", "-B", "64", "-f", &filter, "-w"])
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("dumpcap is not installed (.ci/run installs tshark): SKIPPED");
            return None;
        };
        let d = Dumpcap {
            child,
            path: path.to_path_buf(),
        };
        // dumpcap writes the file's header once the capture runs.
        let t = Instant::now();
        while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "dumpcap did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        Some(d)
    }

    fn stop(mut self) -> PathBuf {
        // Let the last datagrams reach the capture buffer, then end it as Ctrl-C would.
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: kill(2) on the pid of our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        self.path.clone()
    }
}

impl Drop for Dumpcap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (type, summary) of every DJ-port datagram record in a capture, with `map` applied to each
/// word of the summary (recorded address or MAC -> replay one), up to `window_ns` after the
/// first frame.
fn records(
    path: &Path,
    map: &HashMap<String, String>,
    window_ns: Option<i128>,
) -> Vec<(String, String)> {
    let mut r = CaptureReader::open(path).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    let mut start = None;
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        let t0 = *start.get_or_insert(rec.ts_ns);
        let inside = window_ns.is_none_or(|w| rec.ts_ns - t0 <= w);
        if is_dj_port(rec.dst.port()) && inside {
            let summary: Vec<String> = rec
                .dissection
                .summary
                .split(' ')
                .map(|w| {
                    let core = w.trim_end_matches([',', ';', ')']);
                    match map.get(core) {
                        Some(new) => format!("{new}{}", &w[core.len()..]),
                        None => w.to_string(),
                    }
                })
                .collect();
            out.push((rec.dissection.type_name.to_string(), summary.join(" ")));
        }
        ControlFlow::Continue(())
    };
    while let Ok(Some(f)) = r.next_frame() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    out
}

fn mac(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

/// Replay `file` on 127.0.`net`.0/24 under dumpcap and compare. `extra` goes to the command.
/// `window_ns`: the `--to` given in `extra`.
fn replay_and_compare(file: &Path, net: u8, extra: &[&str], window_ns: Option<i128>) {
    let dir = tempfile::tempdir().unwrap();
    let Some(cap) = Dumpcap::start(net, &dir.path().join("replay.pcapng")) else {
        return;
    };
    let first = format!("127.0.{net}.2");
    let stand_in = format!("127.0.{net}.1");
    let o = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["replay", "--quiet", "--first-address", &first])
        .args(["--to-host", &stand_in])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let recorded = cap.stop();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );

    let mut opts = Options::new(file);
    opts.first_address = first.parse().unwrap();
    let table = replay::plan(&opts).unwrap().table;
    let mut map = HashMap::new();
    for row in table.rows() {
        map.insert(row.recorded.to_string(), row.replay.to_string());
        if let Some(m) = row.recorded_mac {
            map.insert(mac(m), mac(row.replay_mac));
        }
    }
    let want = records(file, &map, window_ns);
    let got = records(&recorded, &HashMap::new(), None);
    assert!(!want.is_empty(), "{}: no DJ datagram", file.display());
    let first_diff = want.iter().zip(&got).position(|(a, b)| a != b);
    assert!(
        want.len() == got.len() && first_diff.is_none(),
        "{}: {} records recorded, {} replayed; first difference at {:?}: {:?} vs {:?}",
        file.display(),
        want.len(),
        got.len(),
        first_diff,
        first_diff.map(|i| &want[i]),
        first_diff.map(|i| &got[i]),
    );
    // Every replayed device sent from its own replay address, and only those did.
    let mut r = CaptureReader::open(&recorded).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut sources = std::collections::BTreeSet::new();
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        sources.insert(rec.src.ip());
        ControlFlow::Continue(())
    };
    while let Ok(Some(f)) = r.next_frame() {
        let _ = e.frame(&f, &mut sink);
    }
    let replay_ips: std::collections::BTreeSet<_> =
        table.replay_ips().map(std::net::IpAddr::V4).collect();
    assert!(
        sources.is_subset(&replay_ips),
        "{sources:?} vs {replay_ips:?}"
    );
}

#[test]
fn every_real_capture_replays_at_top_speed_with_the_same_records() {
    let Some(dir) = common::shared_captures("replay_loopback") else {
        return;
    };
    for (i, file) in common::capture_files(&dir).iter().enumerate() {
        replay_and_compare(file, 120 + i as u8, &["--topspeed"], None);
    }
}

#[test]
fn a_short_window_replays_at_recorded_speed() {
    let Some(dir) = common::shared_captures("replay_loopback") else {
        return;
    };
    // The first 3 s of a two-player capture: status every 200 ms, keep-alives every 1.5 s.
    let file = dir.join("usr-ein-S05-link-browse.pcap");
    let t = Instant::now();
    replay_and_compare(&file, 119, &["--to", "3s"], Some(3_000_000_000));
    let secs = t.elapsed().as_secs_f64();
    assert!(secs >= 2.5, "a 3 s window at 1x took only {secs:.2} s");
}

#[test]
fn a_damaged_capture_sends_what_read_could_read_and_says_so() {
    let Some(dir) = common::shared_captures("replay_loopback") else {
        return;
    };
    let bytes = std::fs::read(dir.join("usr-ein-S02-deck-b-joins.pcap")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Cut in the middle of a record, and garbage over a record header.
    let cut = tmp.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let mut garbled = bytes.clone();
    let mid = bytes.len() / 2;
    garbled[mid..mid + 64].fill(0xff);
    let garbled_path = tmp.path().join("garbled.pcap");
    std::fs::write(&garbled_path, &garbled).unwrap();
    for (i, p) in [&cut, &garbled_path].into_iter().enumerate() {
        let o = Command::new(env!("CARGO_BIN_EXE_djdissect"))
            .args(["replay", "--topspeed", "--first-address"])
            .arg(format!("127.0.{}.2", 117 - i))
            .args(["--to-host", &format!("127.0.{}.1", 117 - i)])
            .arg(p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{}: {err}", p.display());
        assert!(err.contains("damage"), "{}: {err}", p.display());
        let sent: u64 = err
            .split("replay: ")
            .find_map(|l| l.split(" datagrams sent").next()?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no count in {err}"));
        let mut src = replay::datagrams::Datagrams::open(p).unwrap();
        let mut readable = 0u64;
        while src.next_datagram().is_some() {
            readable += 1;
        }
        assert!(
            !src.damage.errors.is_empty(),
            "{}: not damaged",
            p.display()
        );
        assert!(
            sent > 0 && sent == readable,
            "{sent} sent, {readable} readable: {err}"
        );
    }
    // Hostile: a file that is no capture at all is a usage error, not a panic.
    let junk = tmp.path().join("junk.pcap");
    std::fs::write(&junk, [0xa1u8; 100]).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["replay", "--topspeed"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
