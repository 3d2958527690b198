//! `djdissect synth`: write a made-up but protocol-exact capture (see `crate::synth`).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};

use super::SynthArgs;
use crate::synth::{self, Limits, Scenario};

pub const AFTER_HELP: &str = "\
Scenarios:
  club-set   DJM-900NXS2 + 2x CDJ-2000NXS2 + CDJ-3000 power up and play a one-minute set:
             loads with dbserver lookups, sync, on-air changes, a tempo-master handoff.
  stagelinq  SC6000 + X1800 over StageLinQ: discovery, directory, StateMap, BeatInfo, a
             two-track crossfade.
  long       hours of mixed traffic (4 players, mixer, StageLinQ units, NFS, mDNS, ARP, HTTP);
             size it with --size and/or --duration (default 10m), it stops at the first limit.
  rig        the emulator's device models on a simulated network: CDJ-3000, CDJ-2000NXS2,
             DJM-900NXS2 and rekordbox negotiate numbers, two players alternate tracks at
             124 BPM, the tempo master hands over each turn; --duration (default 90s).

The output is byte-identical on every run (fixed start time, seeded jitter).

Examples:
  djdissect synth -o club-set.pcapng
  djdissect synth --scenario stagelinq -o - | djdissect read - --summary
  djdissect synth --scenario long --size 1GiB -o big.pcapng

Exit status: 0 ok; 2 usage error or the output cannot be written.";

/// Buffer size for the output: big writes keep gigabyte runs fast.
const OUT_BUFFER: usize = 4 << 20;

pub fn run(args: &SynthArgs) -> i32 {
    let Some(scenario) = Scenario::from_name(&args.scenario) else {
        eprintln!(
            "djdissect: unknown scenario '{}' (choose one of: {})",
            args.scenario,
            Scenario::NAMES.join(", ")
        );
        return 2;
    };
    let mut limits = Limits::default();
    if let Some(s) = &args.size {
        match synth::parse_size(s) {
            Ok(b) => limits.max_bytes = Some(b),
            Err(e) => {
                eprintln!("djdissect: --size: {e}");
                return 2;
            }
        }
    }
    if let Some(d) = &args.duration {
        match synth::parse_duration(d) {
            Ok(ns) => limits.max_duration_ns = Some(ns),
            Err(e) => {
                eprintln!("djdissect: --duration: {e}");
                return 2;
            }
        }
    }
    if scenario != Scenario::Long && limits.max_bytes.is_some() {
        eprintln!("djdissect: --size only applies to --scenario long");
        return 2;
    }
    if !matches!(scenario, Scenario::Long | Scenario::Rig) && limits.max_duration_ns.is_some() {
        eprintln!("djdissect: --duration only applies to --scenario long and rig");
        return 2;
    }
    let to_stdout = args.output.as_os_str() == "-";
    let result = if to_stdout {
        let stdout = io::stdout();
        if stdout.is_terminal() {
            eprintln!("djdissect: refusing to write a binary capture to a terminal; use -o FILE or a pipe");
            return 2;
        }
        synth::generate(
            scenario,
            limits,
            BufWriter::with_capacity(OUT_BUFFER, stdout.lock()),
        )
    } else {
        match File::create(&args.output) {
            Ok(f) => synth::generate(scenario, limits, BufWriter::with_capacity(OUT_BUFFER, f)),
            Err(e) => {
                eprintln!("djdissect: {}: {e}", args.output.display());
                return 2;
            }
        }
    };
    match result {
        Ok(s) => {
            if !args.quiet {
                eprintln!(
                    "djdissect: {}: {} frames, {} bytes, {:.1} s of capture",
                    if to_stdout {
                        "stdout".to_string()
                    } else {
                        args.output.display().to_string()
                    },
                    s.frames,
                    s.bytes,
                    s.duration_ns as f64 / 1e9
                );
            }
            let _ = io::stderr().flush();
            0
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("djdissect: cannot write {}: {e}", args.output.display());
            2
        }
    }
}
