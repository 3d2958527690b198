//! Write the "real mix" that `scripts/bench` measures (issue 11, "Speed on real DJ traffic"):
//! the DJ-protocol frames of every capture in a directory (by default `../shared/captures`,
//! real hardware), repeated with increasing timestamps until at least N frames are written.
//!
//! ```sh
//! cargo run --release --example real_mix -- ../shared/captures /tmp/real-mix.pcapng 3000000
//! ```
//!
//! Which frames are DJ protocol, and how TCP connections stay coherent when repeated:
//! `tests/common/real_mix.rs`.

#[path = "../tests/common/real_mix.rs"]
mod real_mix;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use djdissect::capture::CaptureReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "../shared/captures".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "real-mix.pcapng".into()));
    let want: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 3_000_000,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for p in &paths {
        let s = real_mix::read_source(CaptureReader::open(p)?)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("{}: {} DJ-protocol frames", p.display(), s.frames.len());
        if !s.frames.is_empty() {
            sources.push(s);
        }
    }
    if sources.is_empty() {
        return Err(format!("no DJ-protocol frames in {}", dir.display()).into());
    }

    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let (_, rounds) = real_mix::write(&sources, file, want)?;
    eprintln!(
        "{}: {want} frames, {rounds} rounds of {} captures",
        out.display(),
        sources.len()
    );
    Ok(())
}
