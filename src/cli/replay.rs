//! `djdissect replay --as ROLES`: emulated DJ gear on real sockets.
//!
//! The devices come from `device::scenario` (role list -> models, default scenario), the
//! sockets and the wall clock from `transport::socket`. This module only turns arguments into
//! a network, a rig and a schedule, prints the start table and one log line per notable
//! exchange, and leaves the network on Ctrl-C the way switched-off gear does.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::device::scenario::{self, Role};
use crate::device::{HostAddress, Nanos, SECOND};
use crate::transport::socket::{self as sock, Network, Observer, Rig, RigEvent};

pub const AFTER_HELP: &str = "\
Examples:
  djdissect replay --as cdj-3000,cdj-3000,djm-900nxs2
  djdissect replay --as cdj-2000nxs2,rekordbox --duration 2m --format json
  djdissect replay --as cdj-3000 --device 5 --netns djtest

Each device gets its own address: 127.0.0.2, .3, ... on loopback (no privileges needed; tools
on the same machine see them there). With --netns NAME the rig runs inside that network
namespace, on its one interface (or --interface); a client in another namespace joined by a
veth pair can then bind 50000-50002 itself. An interface in this machine's own namespace can
reach real gear and needs --allow-real-network.

Roles: cdj-2000nxs2, cdj-3000, xdj-1000mk2, djm-900nxs2, djm-v10, rekordbox, opus-quad,
sc5000, sc6000, prime-4, prime-2, prime-go, x1800, x1850
(cdj-3000:2 fixes a number). Scenarios: default (two players alternate tracks, the mixer
moves faders, tempo master hands over), idle (devices only: they join and announce).
Ctrl-C: the devices fall silent as switched-off gear does; exit status 0.";

/// The options of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A capture whose DJ datagrams are re-sent at their recorded times (pcap or pcapng).
    pub file: Option<PathBuf>,
    /// Replay speed: 2 plays twice as fast, 0.5 half as fast (FILE only).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Send as fast as possible, without waiting for recorded times (FILE only).
    #[arg(long)]
    pub topspeed: bool,
    /// Play the capture N times (FILE only).
    #[arg(long = "loop", value_name = "N", default_value_t = 1)]
    pub loops: u64,
    /// Only the datagrams this `read` filter keeps (FILE only), e.g. 'keepalive or status'.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Start at this capture time (90s, 1m30s) or frame number (#1200) (FILE only).
    #[arg(long, value_name = "TIME|#FRAME")]
    pub from: Option<String>,
    /// Stop after this capture time or frame number (FILE only).
    #[arg(long, value_name = "TIME|#FRAME")]
    pub to: Option<String>,
    /// Send at most N datagrams (FILE only).
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,
    /// Where status recorded to a host outside the replay goes (default: whoever announces
    /// itself with a keep-alive on the replay network) (FILE only).
    #[arg(long, value_name = "ADDR")]
    pub to_host: Option<Ipv4Addr>,
    /// Do not answer dbserver and StageLinQ clients from the capture's recorded server side
    /// (FILE only).
    #[arg(long)]
    pub no_answer: bool,
    /// Keep answering dbserver and StageLinQ clients this many seconds after the last datagram
    /// (FILE only).
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub linger: f64,
    /// Devices to emulate, comma separated (cdj-3000,cdj-3000,djm-900nxs2).
    #[arg(long = "as", value_name = "ROLES")]
    pub roles: Option<String>,
    /// Fixed device numbers, in the order of the roles (e.g. 2,3); the rest take theirs
    /// automatically.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub device: Vec<u8>,
    /// What the DJ does: default or idle.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// The tempo the scenario plays at.
    #[arg(long, default_value_t = 124.0)]
    pub bpm: f64,
    /// Stop after this long (e.g. 90s, 10m); default: until Ctrl-C.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Run inside this network namespace (`ip netns add NAME`; needs root).
    #[arg(long, value_name = "NAME")]
    pub netns: Option<String>,
    /// Put the devices on this interface's IPv4 addresses (one address per device).
    #[arg(long, value_name = "IFACE")]
    pub interface: Option<String>,
    /// Allow an interface of this machine's own network namespace, which may reach real gear.
    #[arg(long)]
    pub allow_real_network: bool,
    /// First loopback address (the devices count up from it).
    #[arg(long, value_name = "IP", default_value = "127.0.0.2")]
    pub first_address: Ipv4Addr,
    /// Log format on stderr: text or json (one object per line).
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Text)]
    pub format: super::OutputFormat,
    /// No start table and no closing line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// What stands in the way of starting (exit status 2).
fn usage(message: impl std::fmt::Display) -> i32 {
    eprintln!("djdissect replay: {message}");
    2
}

pub fn run(args: &ReplayArgs) -> i32 {
    if let Some(file) = &args.file {
        if args.roles.is_some() {
            return usage("give either a capture FILE or --as ROLES, not both");
        }
        return crate::replay::cli::run(file, args);
    }
    let Some(list) = &args.roles else {
        return usage("say which devices to emulate: --as cdj-3000,cdj-3000,djm-900nxs2");
    };
    let mut roles = match scenario::parse_roles(list) {
        Ok(r) => r,
        Err(e) => return usage(format_args!("--as: {e}")),
    };
    if args.device.len() > roles.len() {
        return usage(format_args!(
            "--device gives {} numbers for {} roles",
            args.device.len(),
            roles.len()
        ));
    }
    for (role, &n) in roles.iter_mut().zip(&args.device) {
        if n == 0 {
            return usage("--device: numbers are 1-255");
        }
        role.number = Some(n);
    }
    let duration = match args.duration.as_deref().map(crate::synth::parse_duration) {
        None => None,
        Some(Ok(ns)) if ns > 0 => Some(ns),
        Some(Ok(_)) => return usage("--duration must be more than 0"),
        Some(Err(e)) => return usage(format_args!("--duration: {e}")),
    };
    let network = match network(args, roles.len()) {
        Ok(n) => n,
        Err(e) => return usage(e),
    };
    let mut rig = match build(args, &roles, network, duration) {
        Ok(rig) => rig,
        Err(e) => return usage(e),
    };
    if !args.quiet {
        print_table(&rig, &roles);
    }
    let stopper = rig.stopper();
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler = ctrlc::set_handler(move || {
        // A second Ctrl-C while the devices leave: don't wait any longer.
        if stopping.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
        stopper.stop();
    });
    if let Err(e) = handler {
        eprintln!("djdissect replay: Ctrl-C will end the process without a clean exit: {e}");
    }
    let run_for = duration.map(|ns| Duration::from_nanos(ns as u64));
    let started = std::time::Instant::now();
    match rig.run(run_for) {
        Ok(stats) => {
            if !args.quiet {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "replay: {} devices for {secs:.1} s: {} datagrams sent, {} received, {} connections accepted, {} dropped, {} refused",
                    roles.len(),
                    stats.datagrams_sent,
                    stats.datagrams_received,
                    stats.connections_accepted,
                    stats.connections_dropped,
                    stats.refused
                );
            }
            0
        }
        Err(e) => {
            eprintln!("djdissect replay: {e}");
            1
        }
    }
}

/// The network the devices live on, from --netns / --interface / loopback.
pub(crate) fn network(args: &ReplayArgs, count: usize) -> Result<Network, String> {
    if let Some(ns) = &args.netns {
        sock::enter_netns(ns).map_err(|e| e.to_string())?;
    }
    let interface = match (&args.interface, &args.netns) {
        (Some(name), _) => Some(name.clone()),
        // Inside a namespace the user named: its one interface, or its loopback.
        (None, Some(_)) => Network::only_interface().ok(),
        (None, None) => None,
    };
    let Some(name) = interface.filter(|n| n != "lo") else {
        return Network::loopback(args.first_address, count).map_err(|e| e.to_string());
    };
    let network = Network::interface(&name, count).map_err(|e| e.to_string())?;
    if args.netns.is_none() && sock::in_initial_netns() && !args.allow_real_network {
        return Err(format!(
            "{name} is an interface of this machine's own network, where real DJ gear may \
             listen; add --allow-real-network if that is meant, or use a namespace (--netns)"
        ));
    }
    Ok(network)
}

fn build(
    args: &ReplayArgs,
    roles: &[Role],
    network: Network,
    duration: Option<Nanos>,
) -> Result<Rig, String> {
    let hosts: Vec<HostAddress> = network
        .hosts
        .iter()
        .map(|&ip| HostAddress {
            ip,
            mac: Network::mac_for(ip),
        })
        .collect();
    let mut rig = Rig::new(network).map_err(|e| e.to_string())?;
    let start = rig.now();
    let list = scenario::demo_tracks();
    let devices = scenario::build_devices(roles, &hosts, start, Arc::new(list.clone()))
        .map_err(|e| e.to_string())?;
    for (device, role) in devices.into_iter().zip(roles) {
        rig.add(device, role.model.udp_ports())
            .map_err(|e| e.to_string())?;
    }
    match args.scenario.as_str() {
        "idle" => {}
        "default" => {
            // Without --duration the scenario is written for four hours; the devices keep
            // playing their last track after it.
            let length = duration.unwrap_or(4 * 3600 * SECOND);
            let s = scenario::default_scenario(roles, &list, start, args.bpm, length);
            for step in s.commands {
                rig.schedule(step.at, step.device, step.command);
            }
        }
        other => return Err(format!("unknown scenario '{other}' (known: default, idle)")),
    }
    rig.set_observer(Box::new(Log::new(&rig, args.format)));
    Ok(rig)
}

fn print_table(rig: &Rig, roles: &[Role]) {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(["device", "role", "number", "address", "MAC", "network"]);
    let net = rig.network();
    for (device, role) in rig.devices().zip(roles) {
        let a = device.address();
        let number = match role.number {
            Some(n) => format!("{n} (fixed)"),
            None => "auto".to_string(),
        };
        let mac = a.mac.map(|b| format!("{b:02x}")).join(":");
        let where_ = format!("{} bcast {}", net.interface, net.broadcast);
        table.add_row([
            device.label(),
            role.to_string(),
            number,
            a.ip.to_string(),
            mac,
            where_,
        ]);
    }
    println!("{table}");
    let _ = std::io::stdout().flush();
}

/// One line per notable exchange on stderr.
struct Log {
    names: Vec<(String, Ipv4Addr)>,
    json: bool,
}

impl Log {
    fn new(rig: &Rig, format: super::OutputFormat) -> Log {
        Log {
            names: rig.devices().map(|d| (d.label(), d.address().ip)).collect(),
            json: format == super::OutputFormat::Json,
        }
    }

    fn line(&self, now: Nanos, device: Option<usize>, kind: &str, text: &str) {
        let (name, ip) = device
            .and_then(|d| self.names.get(d))
            .map(|(n, ip)| (n.as_str(), ip.to_string()))
            .unwrap_or(("rig", String::new()));
        let t = now as f64 / SECOND as f64;
        let line = if self.json {
            serde_json::json!({"t": (t * 1000.0).round() / 1000.0, "device": name, "ip": ip,
                "event": kind, "text": text})
            .to_string()
        } else {
            format!("[{t:9.3}s] {name} {ip}: {text}")
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

impl Observer for Log {
    fn event(&mut self, now: Nanos, event: &RigEvent<'_>) {
        match *event {
            RigEvent::Note { device, at, text } => self.line(at, Some(device), "note", text),
            RigEvent::Command {
                device,
                command,
                done,
            } => {
                let text = if done {
                    format!("DJ: {command:?}")
                } else {
                    format!("DJ: {command:?}: this model has no such control")
                };
                self.line(now, Some(device), "command", &text);
            }
            RigEvent::Accepted {
                device,
                local,
                peer,
                ..
            } => {
                let text = format!("connection from {peer} on port {}", local.port());
                self.line(now, Some(device), "accepted", &text);
            }
            RigEvent::Closed { device, reason, .. } if reason.contains("does not read") => {
                self.line(now, Some(device), "dropped", reason)
            }
            RigEvent::Refused { device, what } => self.line(now, device, "refused", what),
            _ => {}
        }
    }
}
