//! StateMap fan-out of an emulated StageLinQ player: N clients each subscribe to 50 of its
//! paths, one more connection writes `/Engine/Deck1/ExternalMixerVolume` (0x7d1, as a mixer
//! does) every 20 ms, and every client times the update from the write to its arrival. Prints
//! the p50, p99 and worst delay and the deliveries as one JSON line.
//!
//! Usage: run `djdissect replay --as sc6000 --first-address IP --duration 60s` first, then
//! `cargo run --release --example statemap_fanout -- IP [CLIENTS] [CHANGES]`.
//! (IP must be on loopback: this only ever talks to 127.0.0.0/8.)

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use djdissect::device::stagelinq::first_port;
use djdissect::stagelinq::directory::{
    frame, DirectoryMessage, Framing, ServiceAnnouncement, ServicesRequest,
};
use djdissect::stagelinq::statemap::StateMapMessage;
use djdissect::stagelinq::statemap_json::StateValue;
use djdissect::stagelinq::Token;

const VOLUME: &str = "/Engine/Deck1/ExternalMixerVolume";
/// 49 other paths of the catalogue (`device::stagelinq::state`), plus the volume: 50.
const OTHERS: [&str; 49] = [
    "/Engine/Deck1/CurrentBPM",
    "/Engine/Deck1/DeckIsMaster",
    "/Engine/Deck1/Play",
    "/Engine/Deck1/PlayState",
    "/Engine/Deck1/SpeedState",
    "/Engine/Deck1/SpeedRange",
    "/Engine/Deck1/SyncMode",
    "/Engine/Deck1/Pads/View",
    "/Engine/Deck1/Track/ArtistName",
    "/Engine/Deck1/Track/SongName",
    "/Engine/Deck1/Track/AlbumName",
    "/Engine/Deck1/Track/TrackName",
    "/Engine/Deck1/Track/TrackNetworkPath",
    "/Engine/Deck1/Track/TrackUri",
    "/Engine/Deck1/Track/CurrentKey",
    "/Engine/Deck1/Track/CurrentKeyIndex",
    "/Engine/Deck1/Track/CurrentBPM",
    "/Engine/Deck1/Track/SongLoaded",
    "/Engine/Deck1/Track/SongAnalyzed",
    "/Engine/Deck1/Track/TrackData",
    "/Engine/Deck1/Track/TrackWasPlayed",
    "/Engine/Deck1/Track/LoopEnableState",
    "/Engine/Deck1/Track/TrackLength",
    "/Engine/Deck1/Track/SampleRate",
    "/Engine/Deck1/Track/CuePosition",
    "/Engine/Deck2/CurrentBPM",
    "/Engine/Deck2/DeckIsMaster",
    "/Engine/Deck2/Play",
    "/Engine/Deck2/PlayState",
    "/Engine/Deck2/ExternalMixerVolume",
    "/Engine/Deck2/Track/ArtistName",
    "/Engine/Deck2/Track/SongName",
    "/Engine/Deck2/Track/AlbumName",
    "/Engine/Deck2/Track/TrackNetworkPath",
    "/Engine/Deck2/Track/CurrentKey",
    "/Engine/Deck2/Track/CurrentBPM",
    "/Engine/Deck2/Track/SongLoaded",
    "/Engine/Deck2/Track/TrackLength",
    "/Engine/DeckCount",
    "/Engine/Master/MasterTempo",
    "/Engine/Sync/Network/MasterStatus",
    "/Client/Preferences/Player",
    "/Client/Preferences/LayerA",
    "/Client/Preferences/LayerB",
    "/Client/Preferences/PlayerJogColorA",
    "/Client/Preferences/PlayerJogColorB",
    "/Client/Librarian/DevicesController/CurrentDevice",
    "/Client/Librarian/DevicesController/HasUsbDeviceConnected",
    "/GUI/Decks/Deck/ActiveDeck",
];

/// The StateMap port from the unit's directory (its own ServicesRequest, then ours).
fn statemap_port(ip: Ipv4Addr, token: Token) -> u16 {
    let mut s = TcpStream::connect(SocketAddrV4::new(ip, first_port(ip))).expect("directory");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(&ServicesRequest { token }.to_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("directory answer");
        assert!(n > 0, "directory closed");
        buf.extend_from_slice(&chunk[..n]);
        while let Framing::Complete(len) = frame(&buf) {
            let m = DirectoryMessage::parse(&buf[..len]).unwrap();
            buf.drain(..len);
            if let DirectoryMessage::ServiceAnnouncement(a) = m {
                if a.service == "StateMap" {
                    return a.port;
                }
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let ip: Ipv4Addr = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: statemap_fanout IP [CLIENTS] [CHANGES]");
    assert!(ip.is_loopback(), "statemap_fanout only talks to loopback");
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let changes: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(190)
        .min(190);
    let token = Token([
        0x52, 0xfd, 0xfc, 7, 0x21, 0x82, 0x65, 0x4f, 0x16, 0x3f, 0x5f, 0x0f, 0x9a, 0x62, 0x1d, 0x72,
    ]);
    let port = statemap_port(ip, token);
    let to = SocketAddrV4::new(ip, port);
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; 200]));
    let ready = Arc::new(Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (sent, ready) = (sent.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(to).expect("StateMap");
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut b = ServiceAnnouncement::new(token, "StateMap", 0).to_bytes();
                for p in std::iter::once(VOLUME).chain(OTHERS) {
                    b.extend(StateMapMessage::subscribe(p, 0).to_bytes());
                }
                s.write_all(&b).unwrap();
                let mut delays = Vec::new();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                let mut waiting = true;
                let mut seen = 0;
                loop {
                    let n = match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let now = Instant::now();
                    buf.extend_from_slice(&chunk[..n]);
                    while buf.len() >= 4 {
                        let len = 4 + u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                        if buf.len() < len {
                            break;
                        }
                        let m = StateMapMessage::parse(&buf[..len]).unwrap();
                        buf.drain(..len);
                        seen += 1;
                        if let StateMapMessage::Value { path, json } = m {
                            if path != VOLUME {
                                continue;
                            }
                            let Some(StateValue::Number(v)) = StateValue::from_json(&json) else {
                                continue;
                            };
                            let k = (v * 100.0).round() as usize;
                            if let Some(Some(t)) = sent.lock().unwrap().get(k) {
                                delays.push(now.duration_since(*t));
                            }
                        }
                    }
                    if waiting && seen >= 50 {
                        waiting = false;
                        ready.wait();
                    }
                }
                delays
            })
        })
        .collect();
    ready.wait();
    // The "mixer": a value write every 20 ms, each a new level (0.01, 0.02, ...).
    let mut mixer = TcpStream::connect(to).expect("StateMap");
    mixer
        .write_all(&ServiceAnnouncement::new(Token([0x11; 16]), "StateMap", 50011).to_bytes())
        .unwrap();
    for k in 1..=changes {
        let set = StateMapMessage::Set {
            path: VOLUME.into(),
            json: format!("{{\"type\":0,\"value\":{:.2}}}", k as f64 / 100.0),
        };
        sent.lock().unwrap()[k] = Some(Instant::now());
        mixer.write_all(&set.to_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut all: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort();
    let q = |f: f64| all.get(((all.len() as f64 * f) as usize).min(all.len().saturating_sub(1)));
    let us = |d: Option<&Duration>| d.map_or(-1.0, |d| d.as_secs_f64() * 1e6);
    println!(
        "{{\"clients\":{clients},\"paths\":50,\"changes\":{changes},\"deliveries\":{},\"p50_us\":{:.0},\"p99_us\":{:.0},\"max_us\":{:.0}}}",
        all.len(),
        us(q(0.5)),
        us(q(0.99)),
        us(all.last())
    );
}
