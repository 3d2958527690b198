//! BeatInfo clients for emulated StageLinQ units: for each unit address, ask its directory for
//! the BeatInfo port, send the hello and the start frame, and read the beat stream for a
//! while. Prints, per unit, the emits received, their rate and the decks per emit, as JSON
//! lines (for measuring the emulator's CPU with every unit streaming).
//!
//! Usage: `cargo run --release --example beatinfo_load -- SECONDS IP...` (loopback only).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use djdissect::device::stagelinq::first_port;
use djdissect::stagelinq::beatinfo::BeatInfoMessage;
use djdissect::stagelinq::directory::{
    frame, DirectoryMessage, Framing, ServiceAnnouncement, ServicesRequest,
};
use djdissect::stagelinq::Token;

const TOKEN: Token = Token([
    0x52, 0xfd, 0xfc, 7, 0x21, 0x82, 0x65, 0x4f, 0x16, 0x3f, 0x5f, 0x0f, 0x9a, 0x62, 0x1d, 0x72,
]);

fn service_port(ip: Ipv4Addr, name: &str) -> u16 {
    // Units power on one after another (`device::roles`, POWER_ON_STAGGER): wait for this
    // one's directory rather than giving up on the first refusal.
    let addr = SocketAddrV4::new(ip, first_port(ip));
    let began = std::time::Instant::now();
    let mut s = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(_) if began.elapsed() < Duration::from_secs(15) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("directory of {ip}: {e}"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(&ServicesRequest { token: TOKEN }.to_bytes())
        .unwrap();
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
                if a.service == name {
                    return a.port;
                }
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: beatinfo_load SECONDS IP...");
    let ips: Vec<Ipv4Addr> = args.filter_map(|a| a.parse().ok()).collect();
    assert!(ips.iter().all(|ip| ip.is_loopback()), "loopback only");
    let workers: Vec<_> = ips
        .into_iter()
        .map(|ip| {
            std::thread::spawn(move || {
                let to = SocketAddrV4::new(ip, service_port(ip, "BeatInfo"));
                let mut s = TcpStream::connect(to).expect("BeatInfo");
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut b = ServiceAnnouncement::new(TOKEN, "BeatInfo", 0).to_bytes();
                b.extend(BeatInfoMessage::StartStream.to_bytes());
                s.write_all(&b).unwrap();
                let start = Instant::now();
                let (mut emits, mut decks) = (0u64, 0usize);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 16384];
                while start.elapsed() < Duration::from_secs(seconds) {
                    let Ok(n) = s.read(&mut chunk) else { break };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while buf.len() >= 4 {
                        let len = 4 + u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                        if buf.len() < len {
                            break;
                        }
                        if let Ok(BeatInfoMessage::Beat(e)) = BeatInfoMessage::parse(&buf[..len]) {
                            emits += 1;
                            decks = e.decks.len();
                        }
                        buf.drain(..len);
                    }
                }
                let secs = start.elapsed().as_secs_f64();
                println!(
                    "{{\"unit\":\"{ip}\",\"emits\":{emits},\"per_second\":{:.1},\"decks\":{decks}}}",
                    emits as f64 / secs
                );
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
