//! `djdissect replay FILE` from the command line: arguments to [`Options`], the start table of
//! address rewrites, Ctrl-C, and the closing report (what was sent, what could not be rewritten
//! or delivered, the damage the file had).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::selection::Bound;
use super::{AddressTable, Options, Report};
use crate::cli::replay::ReplayArgs;
use crate::cli::OutputFormat;

fn usage(message: impl std::fmt::Display) -> i32 {
    eprintln!("djdissect replay: {message}");
    2
}

fn options(file: &Path, args: &ReplayArgs) -> Result<Options, String> {
    let mut o = Options::new(file);
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err("--speed must be a number above 0 (1 = as recorded)".into());
    }
    if args.loops == 0 {
        return Err("--loop must be at least 1".into());
    }
    o.speed = args.speed;
    o.topspeed = args.topspeed;
    o.loops = args.loops;
    o.first_address = args.first_address;
    o.to_host = args.to_host;
    o.answer = !args.no_answer;
    o.linger = std::time::Duration::from_secs_f64(args.linger.max(0.0));
    let bound = |name: &str, v: &Option<String>| {
        v.as_deref()
            .map(Bound::parse)
            .transpose()
            .map_err(|e| format!("--{name}: {e}"))
    };
    o.selection.from = bound("from", &args.from)?;
    o.selection.to = bound("to", &args.to)?;
    o.selection.count = args.count;
    if let Some(expr) = &args.filter {
        o.selection.filter = Some(crate::filter::parse(expr).map_err(|e| e.render(expr))?);
    }
    if let Some(ip) = args.to_host {
        if !ip.is_loopback() && args.interface.is_none() && args.netns.is_none() {
            return Err(format!(
                "--to-host {ip} is not on loopback; the replay only sends to 127.0.0.0/8 \
                 unless --interface or --netns names another network"
            ));
        }
    }
    Ok(o)
}

pub fn run(file: &Path, args: &ReplayArgs) -> i32 {
    let mut opts = match options(file, args) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let super::Plan {
        mut table,
        damage,
        selected,
        index,
        stagelinq,
    } = match super::plan(&opts) {
        Ok(p) => p,
        Err(e) => return usage(format_args!("{}: {e}", file.display())),
    };
    let network = match crate::cli::replay::network(args, table.len()) {
        Ok(n) => n,
        Err(e) => return usage(e),
    };
    opts.broadcast = network.broadcast;
    if !network.is_loopback() {
        table.remap(&network.hosts);
        opts.hosts = Some(network.hosts.clone());
    }
    let json = args.format == OutputFormat::Json;
    if !args.quiet {
        print_table(&table, &network.interface, json);
        if !damage.errors.is_empty() {
            eprintln!(
                "replay: the file is damaged; sending what could be read: {}",
                damage.errors.join("; ")
            );
        }
        if let Some(slq) = stagelinq.as_ref().filter(|i| i.over_budget > 0) {
            eprintln!(
                "replay: {} recorded StageLinQ messages did not fit the answer budget (what they answered is answered as unrecorded)",
                slq.over_budget
            );
        }
        eprintln!("replay: {selected} datagrams selected, sending...");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        eprintln!("djdissect replay: Ctrl-C will end the process without a report: {e}");
    }
    match super::send(&opts, &table, index.as_ref(), stagelinq.as_ref(), &stop) {
        Ok(report) => {
            if !args.quiet {
                print_report(&report, &table, json);
            }
            0
        }
        Err(e) => {
            eprintln!("djdissect replay: {e}");
            1
        }
    }
}

fn mac(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

fn print_table(table: &AddressTable, interface: &str, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        for r in table.rows() {
            let line = serde_json::json!({"recorded": r.recorded.to_string(),
                "replay": r.replay.to_string(),
                "recorded_mac": r.recorded_mac.map(mac), "replay_mac": mac(r.replay_mac),
                "interface": interface});
            let _ = writeln!(out, "{line}");
        }
    } else {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header([
            "recorded address",
            "replay address",
            "recorded MAC",
            "replay MAC",
        ]);
        for r in table.rows() {
            t.add_row([
                r.recorded.to_string(),
                r.replay.to_string(),
                r.recorded_mac.map(mac).unwrap_or_else(|| "-".into()),
                mac(r.replay_mac),
            ]);
        }
        let _ = writeln!(out, "{t}");
        if table.refused > 0 {
            let _ = writeln!(
                out,
                "{} more recorded hosts are not replayed (no address left for them)",
                table.refused
            );
        }
    }
    let _ = out.flush();
}

fn print_report(r: &Report, table: &AddressTable, json: bool) {
    let secs = r.elapsed_ns as f64 / 1e9;
    let mean_late_us = if r.sent > 0 {
        r.late_sum_ns as f64 / r.sent as f64 / 1e3
    } else {
        0.0
    };
    if json {
        let line = serde_json::json!({"event": "done", "sent": r.sent, "rewritten": r.rewritten,
            "undeliverable": r.undeliverable, "send_errors": r.send_errors,
            "first_send_error": r.first_send_error, "devices": table.len(),
            "not_rewritten": r.kept, "damage": r.damage.errors, "truncated": r.damage.truncated,
            "loops": r.loops, "stopped": r.stopped, "seconds": secs,
            "late_mean_us": mean_late_us, "late_max_us": r.late_max_ns as f64 / 1e3,
            "stand_in": r.announced.map(|a| a.to_string()),
            "dbserver": r.served.as_ref().map(|s| serde_json::json!({
                "connections": s.connections, "answered": s.answered, "unknown": s.unknown,
                "unknown_types": s.unknown_types.iter().map(|t| format!("{t:04x}")).collect::<Vec<_>>(),
                "errors": s.errors})),
            "stagelinq": r.served_stagelinq.as_ref().map(|s| serde_json::json!({
                "connections": s.connections, "directories": s.directories,
                "values": s.values, "unknown_paths": s.unknown_paths,
                "unknown_listed": s.unknown_listed, "beat_frames": s.beat_frames,
                "file_transfer_recorded": s.file_transfer_recorded,
                "file_transfer_unrecorded": s.file_transfer_requests,
                "refused": s.refused, "errors": s.errors}))});
        eprintln!("{line}");
        return;
    }
    eprintln!(
        "replay: {} datagrams sent from {} devices in {secs:.2} s ({} loops), {} with rewritten addresses; lateness mean {mean_late_us:.1} us, max {:.1} us",
        r.sent,
        table.len(),
        r.loops,
        r.rewritten,
        r.late_max_ns as f64 / 1e3
    );
    if r.undeliverable > 0 {
        eprintln!(
            "replay: {} datagrams were sent unicast to a host outside the replay and nobody \
             announced itself to take them (use --to-host ADDR)",
            r.undeliverable
        );
    }
    if let Some(a) = r.announced {
        eprintln!(
            "replay: status meant for the recording host went to {a}, which announced itself"
        );
    }
    if !r.kept.is_empty() {
        let list: Vec<&str> = r.kept.iter().map(String::as_str).collect();
        eprintln!(
            "replay: not rewritten (no replayed device has them): {}",
            list.join(", ")
        );
    }
    if r.send_errors > 0 {
        eprintln!(
            "replay: {} sends failed, first: {}",
            r.send_errors,
            r.first_send_error.as_deref().unwrap_or("")
        );
    }
    if r.damage.truncated > 0 {
        eprintln!(
            "replay: {} datagrams were cut short in the capture and sent as captured",
            r.damage.truncated
        );
    }
    for e in &r.damage.errors {
        eprintln!("replay: damage: {e}");
    }
    if r.errors_not_kept > 0 {
        eprintln!("replay: {} more damage reports", r.errors_not_kept);
    }
    if let Some(s) = &r.served {
        for (rec, ip, port) in &s.listening {
            eprintln!("replay: dbserver of {rec} answered on {ip}:{port} (port query on 12523)");
        }
        eprintln!(
            "replay: {} dbserver connections, {} requests answered from the capture, {} not recorded (answered 4003)",
            s.connections, s.answered, s.unknown
        );
        if !s.unknown_types.is_empty() {
            let t: Vec<String> = s.unknown_types.iter().map(|t| format!("{t:04x}")).collect();
            eprintln!(
                "replay: request types with no recorded answer: {}",
                t.join(", ")
            );
        }
        for e in &s.errors {
            eprintln!("replay: not served: {e}");
        }
    }
    if let Some(s) = &r.served_stagelinq {
        for (rec, ip, port) in &s.listening {
            eprintln!("replay: StageLinQ unit {rec} answered on {ip} (directory port {port})");
        }
        eprintln!(
            "replay: {} StageLinQ connections: {} directory requests, {} StateMap subscriptions answered from the capture, {} to unrecorded paths (not answered, as a unit does), {} beat frames, {} FileTransfer requests answered from the capture, {} not recorded (answered as a unit without the path); TimeSynchronization, Broadcast and Syncing are accepted but not answered",
            s.connections, s.directories, s.values, s.unknown_paths, s.beat_frames,
            s.file_transfer_recorded, s.file_transfer_requests
        );
        if !s.unknown_listed.is_empty() {
            let t: Vec<&str> = s.unknown_listed.iter().map(String::as_str).collect();
            eprintln!(
                "replay: StateMap paths with no recorded value: {}",
                t.join(", ")
            );
        }
        for e in &s.errors {
            eprintln!("replay: not served: {e}");
        }
    }
    if r.stopped {
        eprintln!("replay: stopped by Ctrl-C");
    }
}
