//! Write the hostile captures measured in FUZZING.md:
//!
//! ```sh
//! cargo run --release --example hostile_captures -- /tmp/hostile 1000000
//! /usr/bin/time -v target/release/djdissect read /tmp/hostile/half_open_tcp.pcapng >/dev/null
//! /usr/bin/time -v target/release/djdissect read /tmp/hostile/fragment_trains.pcapng >/dev/null
//! ```
//!
//! `half_open_tcp.pcapng`: N connections that only send their SYN; `fragment_trains.pcapng`:
//! N UDP datagrams of which only the first fragment is captured; `keep_alive_flood.pcapng`:
//! N Pro DJ Link keep-alives from N different devices.

#[path = "../tests/common/hostile.rs"]
mod hostile;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "hostile".into()));
    let n: u32 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    std::fs::create_dir_all(&dir)?;
    let tcp = dir.join("half_open_tcp.pcapng");
    hostile::half_open_tcp(BufWriter::new(File::create(&tcp)?), n)?;
    let frag = dir.join("fragment_trains.pcapng");
    hostile::fragment_trains(BufWriter::new(File::create(&frag)?), n)?;
    let keep = dir.join("keep_alive_flood.pcapng");
    hostile::keep_alive_flood(BufWriter::new(File::create(&keep)?), n)?;
    println!("{}\n{}\n{}", tcp.display(), frag.display(), keep.display());
    Ok(())
}
