//! StateMap fan-out against an emulated unit (issue 13 "Measured", `scripts/bench stagelinq`):
//! CLIENTS StateMap connections subscribe to PATHS paths each; a control connection then
//! writes `/Engine/Deck1/ExternalMixerVolume` (0x7d1, the way the X1800 sets it,
//! `stagelinq.md` 1.5) CHANGES times, 20 ms apart, and every client times the arrival of each
//! new value. Prints one JSON object: p50, p99 and max delay from the write to the delivery,
//! deliveries and misses.
//!
//! Usage: statemap_fanout IP [CLIENTS] [PATHS] [CHANGES]   (defaults 100, 50, 200; loopback)

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use djdissect::device::stagelinq::first_port;
use djdissect::stagelinq::directory::{
    frame, DirectoryMessage, Framing, ServiceAnnouncement, ServicesRequest,
};
use djdissect::stagelinq::statemap::StateMapMessage;
use djdissect::stagelinq::Token;

const CLIENT: Token = Token([0x52; 16]);
const CHANGED: &str = "/Engine/Deck1/ExternalMixerVolume";
const LEAFS: [&str; 16] = [
    "PlayState",
    "CurrentBPM",
    "ExternalMixerVolume",
    "Track/SongName",
    "Track/ArtistName",
    "Track/AlbumName",
    "Track/CurrentBPM",
    "Track/SongLoaded",
    "Track/TrackNetworkPath",
    "Track/CurrentKeyIndex",
    "Track/TrackLength",
    "Track/SampleRate",
    "Track/PlayPauseLEDState",
    "Track/TrackData/PlayheadPosition",
    "SyncMode",
    "SpeedState",
];

fn statemap_port(ip: Ipv4Addr) -> u16 {
    let mut s = TcpStream::connect(SocketAddrV4::new(ip, first_port(ip))).expect("directory");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Framing::Complete(n) = frame(&buf) {
            let m: Vec<u8> = buf.drain(..n).collect();
            match DirectoryMessage::parse(&m) {
                Ok(DirectoryMessage::ServicesRequest(_)) => s
                    .write_all(&ServicesRequest { token: CLIENT }.to_bytes())
                    .unwrap(),
                Ok(DirectoryMessage::ServiceAnnouncement(a)) if a.service == "StateMap" => {
                    return a.port
                }
                _ => {}
            }
        }
        let n = s.read(&mut chunk).expect("directory read");
        assert!(n > 0, "directory closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn open(ip: Ipv4Addr, port: u16) -> TcpStream {
    let mut s = TcpStream::connect(SocketAddrV4::new(ip, port)).expect("StateMap");
    s.set_nodelay(true).unwrap();
    s.write_all(&ServiceAnnouncement::new(CLIENT, "StateMap", 0).to_bytes())
        .unwrap();
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ip: Ipv4Addr = args.get(1).expect("IP").parse().expect("an IPv4 address");
    let arg = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (clients, paths, changes) = (arg(2, 100), arg(3, 50), arg(4, 200));
    let port = statemap_port(ip);
    let mut list = vec![CHANGED.to_string()];
    'fill: for deck in 1..=4 {
        for leaf in LEAFS {
            if list.len() >= paths {
                break 'fill;
            }
            let p = format!("/Engine/Deck{deck}/{leaf}");
            if p != CHANGED {
                list.push(p);
            }
        }
    }
    // Arrival times of each volume value, per client.
    let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for _ in 0..clients {
        let mut s = open(ip, port);
        let mut subs = Vec::new();
        for p in &list {
            subs.extend(StateMapMessage::subscribe(p, 0).to_bytes());
        }
        s.write_all(&subs).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let arrivals = arrivals.clone();
        let stop = Instant::now() + Duration::from_millis(3000 + 20 * changes as u64);
        threads.push(std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            while Instant::now() < stop {
                let n = match s.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(_) => continue,
                };
                let at = Instant::now();
                buf.extend_from_slice(&chunk[..n]);
                while buf.len() >= 4 {
                    let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize + 4;
                    if buf.len() < len {
                        break;
                    }
                    let m: Vec<u8> = buf.drain(..len).collect();
                    if let Ok(StateMapMessage::Value { path, json }) = StateMapMessage::parse(&m) {
                        if path == CHANGED {
                            arrivals.lock().unwrap().push((json, at));
                        }
                    }
                }
            }
        }));
    }
    // Let every subscription be answered before the first change.
    std::thread::sleep(Duration::from_millis(1500));
    arrivals.lock().unwrap().clear();
    let mut control = open(ip, port);
    let mut sent: Vec<(String, Instant)> = Vec::new();
    for k in 0..changes {
        let value = 0.25 + 0.5 * (k as f64 + 1.0) / (changes as f64 + 1.0);
        let json = format!("{{\"type\":0,\"value\":{value}}}");
        let m = StateMapMessage::Set {
            path: CHANGED.into(),
            json: json.clone(),
        };
        let at = Instant::now();
        control.write_all(&m.to_bytes()).unwrap();
        sent.push((value.to_string(), at));
        std::thread::sleep(Duration::from_millis(20));
    }
    for t in threads {
        let _ = t.join();
    }
    let got = arrivals.lock().unwrap();
    let mut delays: Vec<f64> = Vec::new();
    for (json, at) in got.iter() {
        // The unit re-encodes the number; match it by value.
        let v: Option<f64> = serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|j| j["value"].as_f64());
        let Some(v) = v else { continue };
        if let Some((_, t0)) = sent
            .iter()
            .find(|(s, _)| (s.parse::<f64>().unwrap() - v).abs() < 1e-9)
        {
            delays.push(at.duration_since(*t0).as_secs_f64() * 1000.0);
        }
    }
    delays.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |f: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * f).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let expected = clients * changes;
    println!(
        "{{\"clients\":{clients},\"paths\":{},\"changes\":{changes},\"deliveries\":{},\"missed\":{},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        list.len(),
        delays.len(),
        expected.saturating_sub(delays.len()),
        q(0.5),
        q(0.99),
        delays.last().copied().unwrap_or(f64::NAN)
    );
}
