//! The command line: arguments turned into a plan and handed to library code.
//!
//! Exit status: 0 success (also when a pipe closes early); 1 the capture is damaged or truncated
//! (everything before the damage was still reported); 2 usage errors, a bad filter, an input
//! that cannot be opened or is not a capture.

mod progress;
mod read;
pub(crate) mod replay;
mod shell;
mod story;
mod synth;
mod tcp_streams;
mod write_frames;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum, ValueHint};

#[derive(Debug, Parser)]
#[command(
    name = "djdissect",
    version,
    about = "See, understand and reproduce what DJ gear says on the network (Pro DJ Link, dbserver, StageLinQ)"
)]
pub struct Cli {
    /// When to colour output: auto (a terminal and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One line per message (with -V: every field and a hex dump).
    Text,
    /// NDJSON: one JSON object per message (schema: docs/json.md).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dissect a pcap or pcapng capture ('-' reads standard input).
    #[command(after_help = read::AFTER_HELP)]
    Read(ReadArgs),
    /// Bytes reassembled per TCP connection and direction (for cross-checking with tshark).
    TcpStreams {
        /// Capture file, or '-' for standard input.
        #[arg(value_hint = ValueHint::FilePath)]
        file: PathBuf,
    },
    /// Write a made-up capture of a DJ set, built with the same message types `read` decodes.
    #[command(after_help = synth::AFTER_HELP)]
    Synth(SynthArgs),
    /// Emulated DJ gear on the network: `--as cdj-3000,cdj-3000,djm-900nxs2`.
    #[command(after_help = replay::AFTER_HELP)]
    Replay(replay::ReplayArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell); see the README.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `djdissect man > djdissect.1`.
    Man,
}

#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Capture file (pcap or pcapng, detected from its contents), or '-' for standard input.
    #[arg(value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// Show every field with offset, length, raw bytes and meaning, and a marked hex dump.
    #[arg(short = 'V', long)]
    pub detail: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Only show messages matching EXPR (e.g. 'beat and device=2', 'status or keepalive'); with
    /// --summary/--timeline/--conversations the story is built from the matching records.
    #[arg(short = 'Y', long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Stop after N records have been shown (with --summary/--timeline/--conversations: build
    /// the story from the first N records).
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub max_records: Option<u64>,
    /// Don't print the closing statistics line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Instead of packets: tables of devices, player timelines, tempo master history, dbserver
    /// sessions and StageLinQ devices (with --format json: one JSON document).
    #[arg(long, conflicts_with_all = ["timeline", "conversations"])]
    pub summary: bool,
    /// Instead of packets: the merged story of the capture in plain words (with --format json:
    /// NDJSON, one event per line).
    #[arg(long, conflicts_with = "conversations")]
    pub timeline: bool,
    /// Instead of packets: each dbserver connection with every request and its answer (with
    /// --format json: NDJSON, one exchange per line).
    #[arg(long)]
    pub conversations: bool,
    /// Write the now-playing text to FILE each time it changes (for OBS text sources).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub now_playing: Option<PathBuf>,
    /// Template for --now-playing: {artist} {title} {deck} {device} {bpm} {protocol} {text}.
    #[arg(long, default_value = "{text}", requires = "now_playing")]
    pub template: String,
    /// Width of --summary tables (default: the terminal's width, 120 when not a terminal).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<u16>,
    /// Also write the frames of the records shown (after -Y and -c) to FILE as pcapng.
    #[arg(short = 'w', long = "write", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub write: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Memory limits of reassembly. What a limit drops is reported in the closing statistics line.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// TCP connections tracked at once (oldest idle ones are evicted beyond it).
    #[arg(long, value_name = "N", default_value_t = 57_344)]
    pub tcp_max_connections: usize,
    /// Out-of-order TCP bytes buffered per connection direction.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub tcp_buffer: usize,
    /// Out-of-order TCP bytes buffered over all connections.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub tcp_buffer_total: usize,
    /// Incomplete IPv4 datagrams held for fragment reassembly.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_fragmented_datagrams: usize,
}

impl LimitArgs {
    /// Engine options with these limits.
    pub fn engine_options(&self, depth: crate::dissect::Depth) -> crate::engine::EngineOptions {
        let mut o = crate::engine::EngineOptions {
            depth,
            ..Default::default()
        };
        o.tcp.max_connections = self.tcp_max_connections.max(1);
        o.tcp.max_buffered_per_direction = self.tcp_buffer;
        o.tcp.max_buffered_total = self.tcp_buffer_total.max(self.tcp_buffer);
        o.defrag.max_datagrams = self.max_fragmented_datagrams.max(1);
        o
    }
}

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Scenario: club-set, stagelinq or long.
    #[arg(long, default_value = "club-set")]
    pub scenario: String,
    /// Output file, or '-' for standard output.
    #[arg(short, long, default_value = "-", value_hint = ValueHint::FilePath)]
    pub output: PathBuf,
    /// long only: stop once the file reaches SIZE (e.g. 1GiB, 500M; K/M/G are powers of 1024).
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
    /// long only: stop after this much capture time (e.g. 1h, 90m, 1h30m).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Don't print the closing line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Run the command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Read(args) => read::run(&args, cli.color),
        Command::TcpStreams { file } => tcp_streams::run(&file),
        Command::Synth(args) => synth::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
    }
}
