//! Damaged real captures: cut at many offsets (every offset inside the first and the last
//! block) and with bytes flipped. `read` must never panic, must report every packet before
//! the damage, then name the offset and the problem (exit status 1). pcapng reading resumes
//! at the next valid block after damage. Most cases run the engine in-process; a sample runs
//! the binary.

mod common;

use std::io::Cursor;
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};

use djdissect::capture::{CaptureError, CaptureReader};
use djdissect::engine::{Engine, EngineOptions};

/// What an in-process `read` reports.
#[derive(Debug, Default)]
struct Run {
    /// (frame number, type, summary) of every record made while frames were read (records
    /// made at the end of input depend on where it ended).
    lines: Vec<String>,
    /// Lines after each frame: `per_frame[k]` lines were out once frame k+1 was processed.
    per_frame: Vec<usize>,
    /// Frame bytes with their timestamps.
    frames: Vec<(i128, Vec<u8>)>,
    errors: Vec<CaptureError>,
    /// The error from opening (damaged file header).
    open_error: Option<CaptureError>,
}

fn run(bytes: &[u8], engine: bool) -> Run {
    let mut out = Run::default();
    let mut r = match CaptureReader::new(Box::new(Cursor::new(bytes.to_vec()))) {
        Ok(r) => r,
        Err(e) => {
            out.open_error = Some(e);
            return out;
        }
    };
    let mut e = Engine::new(EngineOptions::default());
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                out.frames.push((f.ts_ns, f.data.to_vec()));
                if engine {
                    let lines = &mut out.lines;
                    let _ = e.frame(&f, &mut |rec| {
                        lines.push(format!(
                            "{} {} {}",
                            rec.frame, rec.dissection.type_name, rec.dissection.summary
                        ));
                        ControlFlow::Continue(())
                    });
                }
                out.per_frame.push(out.lines.len());
            }
            Ok(None) => break,
            Err(err) => {
                let go_on = err.is_resumable();
                out.errors.push(err);
                if !go_on {
                    break;
                }
            }
        }
    }
    if engine {
        let _ = e.finish(&mut |_| ControlFlow::Continue(()));
        let _ = e.stats().line();
    }
    out
}

/// Block (pcapng) or record (pcap, the file header first) ranges, found without the reader,
/// and whether each holds a packet.
fn blocks(b: &[u8]) -> Vec<(Range<usize>, bool)> {
    let mut v = Vec::new();
    if b.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut at = 0;
        let mut be = false;
        while at + 12 <= b.len() {
            if b[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                be = b[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
            }
            let w = |o: usize| {
                let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
                if be {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            };
            let (ty, len) = (w(at), w(at + 4) as usize);
            v.push((at..at + len, matches!(ty, 2 | 3 | 6)));
            at += len;
        }
    } else {
        let be = b[0] == 0xa1;
        v.push((0..24, false));
        let mut at = 24;
        while at + 16 <= b.len() {
            let a: [u8; 4] = b[at + 8..at + 12].try_into().unwrap();
            let caplen = if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            } as usize;
            v.push((at..at + 16 + caplen, true));
            at += 16 + caplen;
        }
    }
    v
}

/// A tiny deterministic PRNG (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn captures(test: &str) -> Vec<PathBuf> {
    match common::shared_captures(test) {
        Some(d) => common::capture_files(&d),
        None => Vec::new(),
    }
}

/// The capture cut at `cut` reports exactly the frames whose blocks end before the cut, the
/// same records the whole file gave for them, then a truncation at the start of the block
/// the cut falls in (nothing when the cut falls between blocks).
fn check_cut(name: &str, bytes: &[u8], blocks: &[(Range<usize>, bool)], full: &Run, cut: usize) {
    check_cut_with(name, bytes, blocks, full, cut, true);
}

/// `check_cut`, optionally without the engine (records are then not compared).
fn check_cut_with(
    name: &str,
    bytes: &[u8],
    blocks: &[(Range<usize>, bool)],
    full: &Run,
    cut: usize,
    engine: bool,
) {
    let got = run(&bytes[..cut], engine);
    let whole_frames = blocks
        .iter()
        .filter(|(r, frame)| *frame && r.end <= cut)
        .count();
    let ctx = format!("{name} cut at {cut}");
    if cut == 0 {
        assert!(matches!(got.open_error, Some(CaptureError::Empty)), "{ctx}");
        return;
    }
    assert_eq!(
        got.frames.len(),
        whole_frames,
        "{ctx}: frames before the cut"
    );
    assert_eq!(got.frames[..], full.frames[..whole_frames], "{ctx}");
    let lines = if whole_frames == 0 {
        0
    } else {
        full.per_frame[whole_frames - 1]
    };
    if engine {
        assert_eq!(
            got.lines[..],
            full.lines[..lines],
            "{ctx}: records before the cut"
        );
    }
    let boundary = blocks.iter().any(|(r, _)| r.end == cut);
    let err = got.open_error.iter().chain(&got.errors).collect::<Vec<_>>();
    if boundary {
        assert!(
            err.is_empty(),
            "{ctx}: a cut between blocks is a valid file: {err:?}"
        );
        return;
    }
    let start = blocks
        .iter()
        .find(|(r, _)| r.start < cut && cut < r.end)
        .map_or(0, |(r, _)| r.start);
    assert_eq!(err.len(), 1, "{ctx}: one error expected: {err:?}");
    let e = err[0];
    assert!(matches!(e, CaptureError::Truncated { .. }), "{ctx}: {e}");
    assert_eq!(e.offset(), Some(start as u64), "{ctx}: {e}");
    assert!(
        e.to_string()
            .starts_with(&format!("truncated at byte offset {start}")),
        "{e}"
    );
}

#[test]
fn cuts_at_every_offset_of_the_first_and_last_blocks_and_across_each_file() {
    let files = captures("damaged_cuts");
    std::thread::scope(|s| {
        for path in &files {
            s.spawn(move || cuts_of(path));
        }
    });
}

fn cuts_of(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let bytes = std::fs::read(path).unwrap();
    let bl = blocks(&bytes);
    assert_eq!(
        bl.last().unwrap().0.end,
        bytes.len(),
        "{name}: blocks tile the file"
    );
    let full = run(&bytes, true);
    assert!(
        full.errors.is_empty() && full.open_error.is_none(),
        "{name}"
    );
    // Every offset inside the first block, and inside the first packet's block.
    let first_frame = bl.iter().find(|(_, f)| *f).unwrap().0.clone();
    for cut in (0..=bl[0].0.end).chain(first_frame) {
        check_cut(&name, &bytes, &bl, &full, cut);
    }
    // Offsets spread over the whole file, each side of some block boundaries.
    let mut rng = Rng(bytes.len() as u64 | 1);
    for i in 0..24 {
        let cut = bytes.len() * i / 24 + rng.below(64);
        check_cut(&name, &bytes, &bl, &full, cut.min(bytes.len()));
    }
    for _ in 0..6 {
        let b = &bl[rng.below(bl.len())].0;
        for cut in [b.start + 1, b.end - 1, b.end] {
            check_cut(&name, &bytes, &bl, &full, cut);
        }
    }
    // Every offset inside the last block: the file header (and interface blocks) followed by
    // the last three blocks is a real capture's tail; cutting it at each offset exercises the
    // reader on the real last block without re-reading the whole file each time.
    let head_end = bl.iter().take_while(|(_, f)| !*f).last().unwrap().0.end;
    let tail_from = bl[bl.len().saturating_sub(3).max(1)].0.start.max(head_end);
    let mut tail = bytes[..head_end].to_vec();
    tail.extend_from_slice(&bytes[tail_from..]);
    let tail_blocks = blocks(&tail);
    let tail_full = run(&tail, true);
    assert!(tail_full.errors.is_empty(), "{name} tail");
    let last = tail_blocks.last().unwrap().0.clone();
    for cut in last.start..=last.end {
        check_cut(
            &format!("{name} (tail)"),
            &tail,
            &tail_blocks,
            &tail_full,
            cut,
        );
    }
    // And the real file at every offset of its last block: the reader alone (the engine's
    // records were compared above), then the engine at the block's first and final bytes.
    let last = bl.last().unwrap().0.clone();
    for cut in last.clone() {
        check_cut_with(&name, &bytes, &bl, &full, cut, false);
    }
    for cut in [last.start, last.start + 1, last.end - 1, last.end] {
        check_cut(&name, &bytes, &bl, &full, cut);
    }
}

/// Where in a block flipping a byte must be noticed: the leading and trailing lengths of a
/// pcapng block, the top byte of a pcap record's captured length.
fn length_bytes(bytes: &[u8], b: &Range<usize>) -> Vec<usize> {
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        (b.start + 4..b.start + 8).chain(b.end - 4..b.end).collect()
    } else if bytes[0] == 0xa1 {
        vec![b.start + 8]
    } else {
        vec![b.start + 11]
    }
}

#[test]
fn flipped_bytes_never_panic_keep_what_came_before_and_resume_after() {
    let files = captures("damaged_flips");
    std::thread::scope(|s| {
        for path in &files {
            s.spawn(move || flips_of(path));
        }
    });
}

fn flips_of(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let bytes = std::fs::read(path).unwrap();
    let bl = blocks(&bytes);
    let full = run(&bytes, true);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
    let packet_blocks: Vec<usize> = (0..bl.len()).filter(|&i| bl[i].1).collect();
    for round in 0..40 {
        // Half the flips anywhere, half in a length field of a packet block.
        let (p, structural) = if round % 2 == 0 {
            (rng.below(bytes.len()), false)
        } else {
            let b = &bl[packet_blocks[rng.below(packet_blocks.len())]].0;
            let l = length_bytes(&bytes, b);
            (l[rng.below(l.len())], true)
        };
        let mut damaged = bytes.clone();
        damaged[p] ^= 1 + rng.below(255) as u8;
        let ctx = format!("{name}: byte {p} flipped");
        let got = run(&damaged, true);
        let k = bl.iter().position(|(r, _)| r.contains(&p)).unwrap();
        let block = bl[k].0.clone();
        let before = bl[..k].iter().filter(|(_, f)| *f).count();
        assert!(
            got.frames.len() >= before,
            "{ctx}: frames before the damage"
        );
        assert_eq!(got.frames[..before], full.frames[..before], "{ctx}");
        let lines = if before == 0 {
            0
        } else {
            full.per_frame[before - 1]
        };
        assert_eq!(
            got.lines[..lines],
            full.lines[..lines],
            "{ctx}: records before"
        );
        let errors: Vec<&CaptureError> = got.open_error.iter().chain(&got.errors).collect();
        for e in &errors {
            assert!(
                e.offset().unwrap() >= block.start as u64,
                "{ctx}: {e} before the damage"
            );
        }
        if !structural || k == 0 {
            continue;
        }
        // A damaged length is always noticed, at the block it damaged, and reading resumes
        // with the next block: every later frame is read as it was.
        let first = errors
            .first()
            .unwrap_or_else(|| panic!("{ctx}: not noticed"));
        assert_eq!(first.offset(), Some(block.start as u64), "{ctx}: {first}");
        let after = bl[k + 1..].iter().filter(|(_, f)| *f).count();
        if after > 0 {
            assert!(first.is_resumable(), "{ctx}: {first}");
            let tail = &full.frames[full.frames.len() - after..];
            assert!(got.frames.len() >= before + after, "{ctx}: frames after");
            assert_eq!(
                got.frames[got.frames.len() - after..],
                *tail,
                "{ctx}: frames after"
            );
        }
    }
}

/// Run the binary on a damaged file: (status, stdout, stderr).
fn read_file(bytes: &[u8], dir: &Path, name: &str) -> (i32, String, String) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    common::run(&["read", p.to_str().unwrap(), "--format", "json"])
}

#[test]
fn the_binary_reports_damage_with_status_1_and_resumes_pcapng() {
    let files = captures("damaged_binary");
    let tmp = tempfile::tempdir().unwrap();
    for path in files.iter().filter(|p| {
        let n = p.file_name().unwrap().to_string_lossy();
        n == "powerup.pcapng" || n == "sc6000_boot.pcap" || n.contains("S02")
    }) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let bl = blocks(&bytes);
        let (code, full, _) = common::run(&["read", path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{name}");
        // Cut inside the file header, in the middle, and inside the last block.
        let mid = &bl[bl.len() / 2].0;
        for cut in [10, mid.start + 5, bytes.len() - 3] {
            let (code, out, err) = read_file(&bytes[..cut], tmp.path(), &name);
            assert_eq!(code, 1, "{name} cut at {cut}: {err}");
            assert!(
                full.starts_with(&out),
                "{name} cut at {cut}: output is a prefix"
            );
            let start = bl.iter().find(|(r, _)| r.contains(&cut)).unwrap().0.start;
            assert!(
                err.contains(&format!("truncated at byte offset {start}")),
                "{name} cut at {cut}: {err}"
            );
        }
        // A damaged length in the middle: status 1, the offset named, and (pcapng) what
        // follows the damage is still reported.
        let mut damaged = bytes.clone();
        let at = length_bytes(&bytes, mid)[0];
        damaged[at] ^= 0x40;
        let (code, out, err) = read_file(&damaged, tmp.path(), &name);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(
            err.contains(&format!("corrupt at byte offset {}", mid.start)),
            "{name}: {err}"
        );
        if name.ends_with(".pcapng") || bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
            assert!(err.contains("skipped"), "{name}: {err}");
        }
        let first_lines: Vec<&str> = out.lines().take(5).collect();
        let full_first: Vec<&str> = full.lines().take(5).collect();
        assert_eq!(first_lines, full_first, "{name}: records before the damage");
        assert!(
            out.lines().count() > full.lines().count() / 2,
            "{name}: reading went on"
        );
    }
}
