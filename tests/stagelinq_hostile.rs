//! Hostile StageLinQ clients against `djdissect replay --as sc6000` on loopback (issue 13
//! "Hostile clients"): datagrams of every length on 51337, garbage on the directory and every
//! service port, truncated messages and 4 GiB length prefixes, 500 connections at once, a
//! client sending one byte at a time and a client that asks for the Engine database again and
//! again without reading. The emulator must not panic, its peak memory (VmHWM) must stay
//! bounded, and a well-behaved client (directory, StateMap value, FileTransfer stat) must be
//! served after every phase; Ctrl-C then ends it with status 0.
//!
//! The time bound on the good client is functional with a wide margin (a round takes a few
//! milliseconds on loopback), not a benchmark. Everything goes to 127.0.89.0/24 only.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::hostile::{vm_hwm_kib, Noise};
use common::proof::Reaped as Emulator;
use djdissect::device::stagelinq::first_port;
use djdissect::stagelinq::directory::{
    frame, DirectoryMessage, Framing, ServiceAnnouncement, ServicesRequest,
};
use djdissect::stagelinq::filetransfer::{FileTransferBody, FileTransferMessage};
use djdissect::stagelinq::statemap::StateMapMessage;
use djdissect::stagelinq::Token;

const UNIT: Ipv4Addr = Ipv4Addr::new(127, 0, 89, 2);
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 89, 200);
const CLIENT: Token = Token([0x52; 16]);
const SERVED_WITHIN: Duration = Duration::from_secs(2);
/// Peak memory the emulator may reach over the whole test (measured: 19.7 MiB).
const MAX_HWM_KIB: u64 = 40 * 1024;
const DB: &str = "/DEMO (USB 1)/Engine Library/Database2/m.db";

fn connect(port: u16) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&SocketAddrV4::new(UNIT, port).into(), SERVED_WITHIN)?;
    s.set_read_timeout(Some(SERVED_WITHIN))?;
    s.set_write_timeout(Some(SERVED_WITHIN))?;
    Ok(s)
}

/// The directory: the unit's ServicesRequest, then ours, then its announcements.
fn services() -> Result<Vec<(String, u16)>, String> {
    let mut s = connect(first_port(UNIT)).map_err(|e| format!("directory: {e}"))?;
    let mut buf = Vec::new();
    let mut found = Vec::new();
    let mut asked = false;
    let mut chunk = [0u8; 4096];
    loop {
        loop {
            match frame(&buf) {
                Framing::Complete(n) => {
                    let m = buf.drain(..n).collect::<Vec<u8>>();
                    match DirectoryMessage::parse(&m) {
                        Ok(DirectoryMessage::ServicesRequest(_)) if !asked => {
                            asked = true;
                            s.write_all(&ServicesRequest { token: CLIENT }.to_bytes())
                                .map_err(|e| e.to_string())?;
                        }
                        Ok(DirectoryMessage::ServiceAnnouncement(a)) => {
                            found.push((a.service, a.port))
                        }
                        Ok(_) => {}
                        Err(e) => return Err(format!("directory: {e}")),
                    }
                }
                Framing::Incomplete => break,
                Framing::Invalid => return Err("directory: bytes that are no message".into()),
            }
        }
        // The SC6000's six services (stagelinq.md 1.3.2) come in one write.
        if found.len() >= 6 {
            return Ok(found);
        }
        let n = s.read(&mut chunk).map_err(|e| {
            format!("directory read: {e} (asked {asked}, found {found:?}, held {buf:?})")
        })?;
        if n == 0 {
            return Err("directory closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Read one length-prefixed message.
fn read_message(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).map_err(|e| e.to_string())?;
    let n = u32::from_be_bytes(len) as usize;
    let mut m = len.to_vec();
    m.resize(4 + n, 0);
    s.read_exact(&mut m[4..]).map_err(|e| e.to_string())?;
    Ok(m)
}

fn port_of(services: &[(String, u16)], name: &str) -> u16 {
    services.iter().find(|(s, _)| s == name).unwrap().1
}

/// One round of a well-behaved client: the directory, a StateMap value, a FileTransfer stat.
fn good_round(phase: &str) -> Duration {
    let started = Instant::now();
    let result = (|| -> Result<(), String> {
        let svc = services()?;
        let mut sm = connect(port_of(&svc, "StateMap")).map_err(|e| e.to_string())?;
        let hello = ServiceAnnouncement::new(CLIENT, "StateMap", 0).to_bytes();
        sm.write_all(&hello).map_err(|e| e.to_string())?;
        let sub = StateMapMessage::subscribe("/Engine/Deck1/CurrentBPM", 0).to_bytes();
        sm.write_all(&sub).map_err(|e| e.to_string())?;
        match StateMapMessage::parse(&read_message(&mut sm)?) {
            Ok(StateMapMessage::Value { path, .. }) if path == "/Engine/Deck1/CurrentBPM" => {}
            other => return Err(format!("StateMap answered {other:?}")),
        }
        let mut ft = connect(port_of(&svc, "FileTransfer")).map_err(|e| e.to_string())?;
        let hello = ServiceAnnouncement::new(CLIENT, "FileTransfer", 0).to_bytes();
        ft.write_all(&hello).map_err(|e| e.to_string())?;
        let stat = FileTransferMessage::new(0, FileTransferBody::StatRequest { path: DB.into() });
        ft.write_all(&stat.to_bytes()).map_err(|e| e.to_string())?;
        match FileTransferMessage::parse(&read_message(&mut ft)?) {
            Ok(FileTransferMessage {
                body: FileTransferBody::FileStat(st),
                ..
            }) if st.size > 0 => Ok(()),
            other => Err(format!("FileTransfer answered {other:?}")),
        }
    })();
    let took = started.elapsed();
    if let Err(e) = result {
        panic!("{phase}: the good client was not served: {e}");
    }
    assert!(took < SERVED_WITHIN, "{phase}: a round took {took:?}");
    took
}

fn wait_until_up(emulator: &mut Child) {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if let Ok(Some(status)) = emulator.try_wait() {
            panic!("emulator ended early: {status}");
        }
        if services().is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the emulated SC6000 did not serve its directory within 20 s");
}

#[test]
fn hostile_stagelinq_clients_do_not_stop_the_emulator() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut emulator = Emulator(
        Command::new(env!("CARGO_BIN_EXE_djdissect"))
            .args(["replay", "--as", "sc6000", "--scenario", "idle"])
            .args(["--first-address", &UNIT.to_string(), "--duration", "3m"])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("start the emulator"),
    );
    wait_until_up(&mut emulator.0);
    let pid = emulator.0.id();
    let svc = services().unwrap();
    let ports: Vec<u16> = std::iter::once(first_port(UNIT))
        .chain(svc.iter().map(|(_, p)| *p))
        .collect();
    good_round("start");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);

    // Datagrams of every length 0-1500 on 51337, unicast and to the loopback broadcast.
    let udp = UdpSocket::bind(SocketAddrV4::new(ATTACKER, 0)).unwrap();
    udp.set_broadcast(true).unwrap();
    for n in 0..=1500 {
        let junk = noise.bytes(n);
        let _ = udp.send_to(&junk, SocketAddrV4::new(UNIT, 51337));
        let _ = udp.send_to(
            &junk,
            SocketAddrV4::new(Ipv4Addr::new(127, 255, 255, 255), 51337),
        );
        // A HOWDY-looking start followed by garbage.
        let mut airdish = b"airD".to_vec();
        airdish.extend_from_slice(&junk);
        let _ = udp.send_to(&airdish, SocketAddrV4::new(UNIT, 51337));
    }
    good_round("datagrams on 51337");

    // Garbage, truncated messages and 4 GiB lengths on the directory and every service port.
    for &port in &ports {
        let hello = ServiceAnnouncement::new(CLIENT, "FileTransfer", 0).to_bytes();
        let attacks: Vec<Vec<u8>> = vec![
            noise.bytes(4096),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            [hello.clone(), vec![0xff, 0xff, 0xff, 0xff, 0, 0]].concat(),
            [hello.clone(), vec![0, 0, 0, 0x40, b'f', b'l', b't', b'x']].concat(),
            hello[..hello.len() - 3].to_vec(),
            vec![0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ];
        for a in attacks {
            if let Ok(mut s) = connect(port) {
                let _ = s.write_all(&a);
                let _ = s.shutdown(Shutdown::Write);
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
                assert!(sink.len() < 1 << 20, "{port}: {} bytes back", sink.len());
            }
        }
    }
    good_round("garbage on every port");

    // 500 connections at once, spread over the ports, held open while the good client works.
    let mut held = Vec::new();
    for k in 0..500 {
        if let Ok(s) = connect(ports[k % ports.len()]) {
            held.push(s);
        }
    }
    assert!(held.len() >= 400, "only {} of 500 connected", held.len());
    good_round("500 connections held");
    drop(held);

    // A slow client: a StateMap subscription one byte at a time, 20 ms apart; and clients that
    // ask for the whole database again and again and never read.
    let ft_port = port_of(&svc, "FileTransfer");
    let mut greedy = Vec::new();
    for _ in 0..8 {
        if let Ok(mut s) = connect(ft_port) {
            let _ = s.write_all(&ServiceAnnouncement::new(CLIENT, "FileTransfer", 0).to_bytes());
            let open = FileTransferBody::OpenRequest {
                path: DB.into(),
                flags: 0,
            };
            let _ = s.write_all(&FileTransferMessage::new(0, open).to_bytes());
            let chunks = FileTransferBody::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0,
                last_chunk: u64::MAX,
            };
            let bytes = FileTransferMessage::new(0, chunks).to_bytes();
            for _ in 0..64 {
                if s.write_all(&bytes).is_err() {
                    break;
                }
            }
            greedy.push(s);
        }
    }
    let mut slow = connect(port_of(&svc, "StateMap")).unwrap();
    let mut wire = ServiceAnnouncement::new(CLIENT, "StateMap", 0).to_bytes();
    wire.extend(StateMapMessage::subscribe("/Engine/Deck1/Track/SongName", 0).to_bytes());
    for b in &wire {
        slow.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let value = StateMapMessage::parse(&read_message(&mut slow).unwrap()).unwrap();
    assert!(matches!(value, StateMapMessage::Value { .. }), "{value:?}");
    good_round("slow and greedy clients");
    drop(greedy);
    good_round("after");

    let hwm = vm_hwm_kib(pid);
    eprintln!("stagelinq_hostile: emulator VmHWM {hwm} KiB");
    assert!(hwm < MAX_HWM_KIB, "peak memory {hwm} KiB");
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(s)) = emulator.0.try_wait() {
            break s;
        }
        assert!(Instant::now() < end, "no exit 10 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(status.code(), Some(0), "{text}");
}
