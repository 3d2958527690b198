//! Load on an emulated player's dbserver: N concurrent clients, each with its own connection,
//! asking track metadata (a `2002` request and its `3000` render, answered by `4000`, `4001`,
//! the items and `4201`) for a fixed time. Prints the p50, p99 and worst latency of a lookup
//! and the lookups per second, as one JSON line (`scripts/bench emulator` reads it).
//!
//! Without RATE every client asks again as soon as it has its answer (closed loop: the
//! server's throughput; with N clients waiting on one single-threaded server, latency is then
//! about N / throughput by construction). With RATE each client asks RATE times a second (open
//! loop: the latency a client sees while N others are served).
//!
//! Usage: cargo run --release --example dbserver_load -- IP [CLIENTS] [SECONDS] [RATE]
//! (IP must be on loopback: this only ever talks to 127.0.0.0/8.)

use std::net::Ipv4Addr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use djdissect::dbserver::client::Client;

fn main() {
    let mut args = std::env::args().skip(1);
    let ip: Ipv4Addr = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: dbserver_load IP [CLIENTS] [SECONDS]");
    assert!(ip.is_loopback(), "dbserver_load only talks to loopback");
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let rate: Option<f64> = args
        .next()
        .and_then(|a| a.parse().ok())
        .filter(|r| *r > 0.0);
    let run_for = Duration::from_secs(seconds);
    let start = Arc::new(Barrier::new(clients + 1));

    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || -> Result<Vec<u32>, String> {
                // Requesters 1-4 are the numbers every player model answers (prodjlink.md 9.3).
                let requester = 1 + (i % 4) as u8;
                let connected = Client::connect(ip, requester, Duration::from_secs(5));
                start.wait();
                let mut c = connected.map_err(|e| format!("client {i}: {e}"))?;
                let mut micros = Vec::with_capacity(4096);
                let began = Instant::now();
                let mut id = 1 + (i % 8) as u32;
                let period = rate.map(|r| Duration::from_secs_f64(1.0 / r));
                // Paced clients start spread over one period, not all at once.
                let mut next =
                    began + period.map_or(Duration::ZERO, |p| p * i as u32 / clients as u32);
                while began.elapsed() < run_for {
                    if let Some(p) = period {
                        if let Some(wait) = next.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        next += p;
                    }
                    let t = Instant::now();
                    let items = c.metadata(3, id).map_err(|e| format!("client {i}: {e}"))?;
                    micros.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    if items.is_empty() {
                        return Err(format!("client {i}: track {id} has no metadata"));
                    }
                    id = id % 8 + 1;
                }
                Ok(micros)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for w in workers {
        match w.join() {
            Ok(Ok(m)) => all.extend(m),
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("a client thread panicked".to_string()),
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i] as f64 / 1000.0
    };
    println!(
        "{}",
        serde_json::json!({
            "clients": clients,
            "rate_per_client": rate,
            "seconds": elapsed,
            "lookups": all.len(),
            "lookups_per_s": all.len() as f64 / elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
            "errors": errors.len(),
            "first_error": errors.first(),
        })
    );
    if !errors.is_empty() {
        std::process::exit(1);
    }
}
