//! `djdissect replay FILE`: the DJ datagrams of a capture re-sent onto a loopback network at
//! their recorded times (`architecture.md`: "timed re-sending of a capture, address
//! rewriting, recorded TCP answered").
//!
//! Two streamed passes over the file, neither holding more than one frame:
//! 1. the plan: which recorded hosts send in the chosen window (each gets a replay address,
//!    `addresses.rs`) and which MACs they announce;
//! 2. the sending: each selected datagram, its addresses rewritten through the message types,
//!    sent from its device's replay address at its absolute deadline (`clock.rs`), to the
//!    destination `sender.rs` chooses. `--loop N` re-opens the file.

pub mod addresses;
pub mod answers;
pub mod cli;
pub mod clock;
pub mod datagrams;
pub mod selection;
pub mod sender;
pub mod serve;
pub mod stagelinq_answers;
pub mod stagelinq_serve;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use answers::Index;
pub use stagelinq_answers::SlqIndex;

pub use addresses::AddressTable;
use datagrams::Datagrams;
use selection::{Selection, Verdict};
use sender::{Destination, Sender};

/// How to replay.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    /// 1.0: as recorded; 2.0: twice as fast.
    pub speed: f64,
    /// No waiting at all.
    pub topspeed: bool,
    /// How many times the capture is played (>= 1).
    pub loops: u64,
    pub selection: Selection,
    /// The first replay address (devices count up from it).
    pub first_address: Ipv4Addr,
    /// Where broadcasts go.
    pub broadcast: Ipv4Addr,
    /// Replay addresses to use instead of counting up (an interface's addresses).
    pub hosts: Option<Vec<Ipv4Addr>>,
    /// The stand-in for hosts outside the replay.
    pub to_host: Option<Ipv4Addr>,
    /// Serve the recorded dbserver and StageLinQ answers to live clients (`serve.rs`,
    /// `stagelinq_serve.rs`).
    pub answer: bool,
    /// How long the servers keep answering after the last datagram.
    pub linger: Duration,
}

impl Options {
    pub fn new(file: impl Into<PathBuf>) -> Options {
        Options {
            file: file.into(),
            speed: 1.0,
            topspeed: false,
            loops: 1,
            selection: Selection::default(),
            first_address: Ipv4Addr::new(127, 0, 0, 2),
            broadcast: Ipv4Addr::new(127, 255, 255, 255),
            hosts: None,
            to_host: None,
            answer: true,
            linger: Duration::ZERO,
        }
    }
}

/// What a replay did.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub sent: u64,
    /// Datagrams re-emitted with rewritten addresses.
    pub rewritten: u64,
    /// Unicast to a host outside the replay with no stand-in.
    pub undeliverable: u64,
    /// Send errors (e.g. a 64 KiB datagram on an interface with a smaller MTU).
    pub send_errors: u64,
    pub first_send_error: Option<String>,
    /// Addresses and MACs in payloads that name no replayed device (left as recorded).
    pub kept: BTreeSet<String>,
    /// How late sends were against their deadlines (ns), sender side.
    pub late_max_ns: i128,
    pub late_sum_ns: i128,
    /// Damage met in the file (first pass).
    pub damage: datagrams::Damage,
    pub errors_not_kept: u64,
    /// Loops completed.
    pub loops: u64,
    pub stopped: bool,
    /// The stand-in used for the virtual CDJ, when one announced itself.
    pub announced: Option<Ipv4Addr>,
    pub elapsed_ns: i128,
    /// What the recorded servers answered to live clients.
    pub served: Option<serve::ServeStats>,
    /// What the recorded StageLinQ units answered to live clients.
    pub served_stagelinq: Option<stagelinq_serve::SlqStats>,
}

/// At most this many distinct kept addresses are listed.
const MAX_KEPT: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Capture(#[from] crate::capture::CaptureError),
    #[error(
        "the capture holds no DJ datagram to replay (Pro DJ Link 50000-50004, StageLinQ 51337){0}"
    )]
    Nothing(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the passes before sending found.
#[derive(Debug)]
pub struct Plan {
    pub table: AddressTable,
    pub damage: datagrams::Damage,
    /// Datagrams in the window.
    pub selected: u64,
    /// The recorded dbserver answers (None with `answer` off).
    pub index: Option<Arc<Index>>,
    /// The recorded StageLinQ units' answers (None with `answer` off).
    pub stagelinq: Option<Arc<SlqIndex>>,
}

/// Pass 1: the address table of the hosts that send in the window; pass 2 (with `answer`):
/// the index of recorded dbserver answers and StageLinQ units, whose servers join the table.
pub fn plan(opts: &Options) -> Result<Plan, ReplayError> {
    let mut table = AddressTable::new(opts.first_address);
    let mut src = Datagrams::open(&opts.file)?;
    let mut selected = 0u64;
    while let Some(d) = src.next_datagram() {
        match opts.selection.judge(&d, d.start_ns) {
            Verdict::End => break,
            Verdict::Skip => continue,
            Verdict::Send => {}
        }
        selected += 1;
        if table.add(d.src) {
            table.learn(d.src, d.dst_port, d.payload);
        }
        if opts.selection.count.is_some_and(|c| selected >= c) {
            break;
        }
    }
    let (index, stagelinq) = if opts.answer {
        // One pass for both: the dbserver answers and the StageLinQ units.
        let mut slq = SlqIndex::default();
        let index = Index::build_with(&opts.file, |rec| slq.record(rec))?;
        for ip in index.servers.keys() {
            table.add(*ip);
        }
        for ip in slq.units.keys() {
            table.add(*ip);
        }
        (Some(Arc::new(index)), Some(Arc::new(slq)))
    } else {
        (None, None)
    };
    if let Some(hosts) = &opts.hosts {
        table.remap(hosts);
    }
    let damage = src.damage.clone();
    if selected == 0 {
        let why = match damage.errors.first() {
            Some(e) => format!(" (the file is damaged: {e})"),
            None => String::new(),
        };
        return Err(ReplayError::Nothing(why));
    }
    Ok(Plan {
        table,
        damage,
        selected,
        index,
        stagelinq,
    })
}

/// Pass 2: send. `stop` ends the replay early (Ctrl-C).
pub fn send(
    opts: &Options,
    table: &AddressTable,
    index: Option<&Arc<Index>>,
    stagelinq: Option<&Arc<SlqIndex>>,
    stop: &Arc<AtomicBool>,
) -> Result<Report, ReplayError> {
    let serving = index
        .filter(|i| !i.is_empty())
        .map(|i| serve::Serving::start(i.clone(), table));
    let serving_slq = stagelinq
        .filter(|i| !i.is_empty())
        .map(|i| stagelinq_serve::SlqServing::start(i.clone(), table));
    let result = send_datagrams(opts, table, stop);
    if !opts.linger.is_zero() && (serving.is_some() || serving_slq.is_some()) {
        let until = std::time::Instant::now() + opts.linger;
        while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let served = serving.map(serve::Serving::stop);
    let served_stagelinq = serving_slq.map(stagelinq_serve::SlqServing::stop);
    let mut report = result?;
    report.served = served;
    report.served_stagelinq = served_stagelinq;
    Ok(report)
}

fn send_datagrams(
    opts: &Options,
    table: &AddressTable,
    stop: &Arc<AtomicBool>,
) -> Result<Report, ReplayError> {
    let mut report = Report::default();
    let mut sender = Sender::new(opts.broadcast, opts.to_host, table);
    let mut out = Vec::with_capacity(2048);
    let speed = if opts.speed > 0.0 { opts.speed } else { 1.0 };
    clock::tighten_timer_slack();
    let started = clock::now_ns();
    let mut schedule: Option<clock::Schedule> = None;
    let mut offset: i128 = 0;
    let mut sent_total = 0u64;
    'loops: for _ in 0..opts.loops.max(1) {
        let mut src = Datagrams::open(&opts.file)?;
        let mut last_ts = None;
        let mut in_loop = 0u64;
        while let Some(d) = src.next_datagram() {
            if stop.load(Ordering::Relaxed) {
                report.stopped = true;
                break 'loops;
            }
            match opts.selection.judge(&d, d.start_ns) {
                Verdict::End => break,
                Verdict::Skip => continue,
                Verdict::Send => {}
            }
            let Some(from) = table.replay_ip(d.src) else {
                continue;
            };
            let s = *schedule.get_or_insert(clock::Schedule {
                start: clock::now_ns(),
                t0: d.ts_ns,
                speed,
                top: opts.topspeed,
            });
            last_ts = Some(d.ts_ns);
            let rw = table.rewrite(d.dst_port, d.payload, &mut out);
            for k in rw.kept {
                if report.kept.len() < MAX_KEPT {
                    report.kept.insert(k);
                }
            }
            let payload: &[u8] = if rw.rewritten {
                report.rewritten += 1;
                &out
            } else {
                d.payload
            };
            if !s.top {
                let late = clock::wait_until(s.deadline(d.ts_ns, offset));
                report.late_max_ns = report.late_max_ns.max(late);
                report.late_sum_ns += late;
            }
            sender.hear_announcements();
            let to = match sender.destination(table, d.dst, d.dst_port) {
                Destination::Broadcast(a) | Destination::Device(a) | Destination::StandIn(a) => a,
                Destination::Nobody => {
                    report.undeliverable += 1;
                    continue;
                }
            };
            match sender.send(from, d.src_port, to, payload) {
                Ok(_) => report.sent += 1,
                Err(e) => {
                    report.send_errors += 1;
                    report
                        .first_send_error
                        .get_or_insert_with(|| format!("frame {}: {e}", d.frame));
                }
            }
            in_loop += 1;
            sent_total += 1;
            if opts.selection.count.is_some_and(|c| sent_total >= c) {
                report.loops += 1;
                break 'loops;
            }
        }
        report.damage = src.damage.clone();
        report.errors_not_kept = src.errors_not_kept;
        report.loops += 1;
        if let (Some(s), Some(last)) = (schedule, last_ts) {
            // The next loop starts right after this one's last datagram.
            offset += last - s.t0 + 1;
            let _ = in_loop;
        }
    }
    report.announced = sender.announced();
    report.elapsed_ns = clock::now_ns() - started;
    Ok(report)
}

/// Plan and send in one call (tests, the bench).
pub fn replay(opts: &Options) -> Result<(AddressTable, Report), ReplayError> {
    let p = plan(opts)?;
    let stop = Arc::new(AtomicBool::new(false));
    let report = send(
        opts,
        &p.table,
        p.index.as_ref(),
        p.stagelinq.as_ref(),
        &stop,
    )?;
    Ok((p.table, report))
}

/// The file name for messages.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}
