//! The socket transport against a small test device on loopback: broadcasts between a rig's
//! devices, unicast, TCP in both directions, a peer that never reads, sends outside the
//! network refused, and stopping. Each test uses its own 127.0.x.y addresses and ports so the
//! tests can run in parallel.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::device::{HostAddress, MS};

type Log = Arc<Mutex<Vec<String>>>;

/// A device that does what a test switches on, and writes down everything it sees.
#[derive(Default)]
struct Probe {
    ip: Option<Ipv4Addr>,
    log: Log,
    /// Broadcast "beacon" on this port every `period`.
    beacon: Option<u16>,
    period: Nanos,
    next: Nanos,
    /// Listen on this TCP port at the first timer.
    listen: Option<u16>,
    /// Connect here at the first timer and write "hello".
    connect: Option<SocketAddrV4>,
    /// Write 64 KiB to every accepted connection at every timer.
    flood: bool,
    /// Unicast "stray" to this address at every timer.
    stray: Option<SocketAddrV4>,
    accepted: Vec<ConnId>,
    started: bool,
}

impl Probe {
    fn new(ip: Ipv4Addr, log: &Log) -> Probe {
        Probe {
            ip: Some(ip),
            log: log.clone(),
            period: 20 * MS,
            ..Probe::default()
        }
    }

    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

impl Device for Probe {
    fn label(&self) -> String {
        format!("probe {}", self.ip.unwrap())
    }

    fn address(&self) -> HostAddress {
        HostAddress {
            ip: self.ip.unwrap(),
            mac: Network::mac_for(self.ip.unwrap()),
        }
    }

    fn poll_at(&self) -> Option<Nanos> {
        Some(self.next)
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        self.next = now + self.period;
        if !self.started {
            self.started = true;
            if let Some(port) = self.listen {
                out.push(Output::Listen { port });
            }
            if let Some(to) = self.connect {
                out.push(Output::Connect {
                    conn: ConnId(ConnId::DEVICE_PICKED | 1),
                    to,
                });
            }
        }
        if let Some(port) = self.beacon {
            let payload = format!("beacon {}", self.ip.unwrap()).into_bytes();
            out.datagram(port, Destination::Broadcast(port), payload);
        }
        if let Some(to) = self.stray {
            out.datagram(0, Destination::Unicast(to), b"stray".to_vec());
        }
        if self.flood {
            for &conn in &self.accepted {
                out.write(conn, vec![0xaa; 64 << 10]);
            }
        }
    }

    fn on_datagram(
        &mut self,
        _now: Nanos,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
        out: &mut Outbox,
    ) {
        let text = String::from_utf8_lossy(payload).into_owned();
        self.note(format!("dgram {from} -> {to}: {text}"));
        if text.starts_with("ping") {
            let reply = format!("echo {text}").into_bytes();
            out.datagram(to.port(), Destination::Unicast(from), reply);
        }
    }

    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        match event {
            StreamEvent::Accepted { local_port, peer } => {
                self.accepted.push(conn);
                self.note(format!(
                    "accepted {} on {local_port} from {}",
                    conn.0,
                    peer.ip()
                ));
            }
            StreamEvent::Connected => {
                self.note("connected".into());
                out.write(conn, b"hello".to_vec());
            }
            StreamEvent::Data(bytes) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                self.note(format!("data {}: {text}", conn.0 & !ConnId::DEVICE_PICKED));
                if !self.flood {
                    out.write(conn, text.to_uppercase().into_bytes());
                }
                if text.contains("bye") {
                    out.push(Output::Close { conn });
                }
            }
            StreamEvent::Closed => {
                self.accepted.retain(|c| *c != conn);
                self.note(format!("closed {}", conn.0 & !ConnId::DEVICE_PICKED));
            }
        }
    }

    fn shut_down(&mut self, _now: Nanos, out: &mut Outbox) {
        self.note("shut down".into());
        if let Some(port) = self.beacon {
            out.datagram(port, Destination::Broadcast(port), b"goodbye".to_vec());
        }
    }
}

fn ip(c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, c, d)
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn rig() -> Rig {
    Rig::new(Network::loopback(ip(0, 2), 1).unwrap()).unwrap()
}

#[test]
fn a_devices_broadcast_reaches_the_others_and_not_itself() {
    let (la, lb) = (Log::default(), Log::default());
    let port = 50_810;
    let mut a = Probe::new(ip(31, 1), &la);
    a.beacon = Some(port);
    let b = Probe::new(ip(31, 2), &lb);
    let mut rig = rig();
    rig.add(Box::new(a), &[port]).unwrap();
    rig.add(Box::new(b), &[port]).unwrap();
    let stats = rig.run(Some(Duration::from_millis(200))).unwrap();
    let b_lines = lines(&lb);
    assert!(
        b_lines.iter().any(|l| l
            == &format!("dgram 127.0.31.1:{port} -> 127.255.255.255:{port}: beacon 127.0.31.1")),
        "{b_lines:?}"
    );
    assert!(
        !lines(&la).iter().any(|l| l.starts_with("dgram")),
        "a device heard its own broadcast"
    );
    assert!(
        stats.datagrams_sent >= 2 && stats.datagrams_received >= 2,
        "{stats:?}"
    );
    // Shutting down sends the device's goodbye; the rig ends after it.
    assert!(lines(&la).contains(&"shut down".to_string()));
}

#[test]
fn unicast_from_outside_is_answered_from_the_devices_own_address() {
    let log = Log::default();
    let port = 50_811;
    let device = ip(32, 1);
    let mut rig = rig();
    rig.add(Box::new(Probe::new(device, &log)), &[port])
        .unwrap();
    let client = std::thread::spawn(move || {
        let s = std::net::UdpSocket::bind((ip(32, 9), 0)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.send_to(b"ping 1", (device, port)).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = s.recv_from(&mut buf).unwrap();
        (String::from_utf8_lossy(&buf[..n]).into_owned(), from)
    });
    rig.run(Some(Duration::from_millis(300))).unwrap();
    let (reply, from) = client.join().unwrap();
    assert_eq!(reply, "echo ping 1");
    assert_eq!(from, std::net::SocketAddr::from((device, port)));
}

#[test]
fn tcp_accepts_echoes_and_closes_when_the_device_asks() {
    let log = Log::default();
    let device = ip(33, 1);
    let mut probe = Probe::new(device, &log);
    probe.listen = Some(40_812);
    let mut rig = rig();
    rig.add(Box::new(probe), &[]).unwrap();
    let client = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(60));
        let mut s = TcpStream::connect((device, 40_812)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(b"abc bye").unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap(); // ends when the device closes
        String::from_utf8(got).unwrap()
    });
    let stats = rig.run(Some(Duration::from_millis(400))).unwrap();
    assert_eq!(client.join().unwrap(), "ABC BYE");
    let l = lines(&log);
    assert!(
        l.iter()
            .any(|x| x.starts_with("accepted 1 on 40812 from 127.0.0.1")),
        "{l:?}"
    );
    assert!(l.contains(&"data 1: abc bye".to_string()), "{l:?}");
    assert_eq!(stats.connections_accepted, 1);
}

#[test]
fn a_device_connects_to_another_device_of_the_rig() {
    let (ls, lc) = (Log::default(), Log::default());
    let server = ip(34, 1);
    let mut s = Probe::new(server, &ls);
    s.listen = Some(40_813);
    let mut c = Probe::new(ip(34, 2), &lc);
    c.connect = Some(SocketAddrV4::new(server, 40_813));
    let mut rig = rig();
    rig.add(Box::new(s), &[]).unwrap();
    rig.add(Box::new(c), &[]).unwrap();
    rig.run(Some(Duration::from_millis(300))).unwrap();
    // The server saw the connection come from the client device's own address.
    assert!(lines(&ls)
        .iter()
        .any(|l| l.starts_with("accepted") && l.ends_with("127.0.34.2")));
    assert!(
        lines(&ls).contains(&"data 1: hello".to_string()),
        "{:?}",
        lines(&ls)
    );
    let c_lines = lines(&lc);
    assert!(c_lines.contains(&"connected".to_string()), "{c_lines:?}");
    assert!(
        c_lines.contains(&"data 1: HELLO".to_string()),
        "{c_lines:?}"
    );
}

#[test]
fn a_failed_connect_is_reported_as_closed() {
    let log = Log::default();
    let mut c = Probe::new(ip(35, 2), &log);
    c.connect = Some(SocketAddrV4::new(ip(35, 1), 40_814)); // nobody listens
    let mut rig = rig();
    rig.add(Box::new(c), &[]).unwrap();
    rig.run(Some(Duration::from_millis(200))).unwrap();
    assert!(
        lines(&log).contains(&"closed 1".to_string()),
        "{:?}",
        lines(&log)
    );
}

#[test]
fn a_peer_that_never_reads_is_dropped_and_memory_stays_bounded() {
    let log = Log::default();
    let device = ip(36, 1);
    let mut probe = Probe::new(device, &log);
    probe.listen = Some(40_815);
    probe.flood = true;
    probe.period = MS;
    let mut rig = rig();
    rig.set_limits(TcpLimits {
        max_connections: 16,
        max_buffered: 512 << 10,
        max_buffered_total: 4 << 20,
    });
    rig.add(Box::new(probe), &[]).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let client = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let s = TcpStream::connect((device, 40_815)).unwrap();
        // Never read; hold the connection until the test is done.
        let _ = rx.recv_timeout(Duration::from_secs(10));
        drop(s);
    });
    let stats = rig.run(Some(Duration::from_millis(1500))).unwrap();
    tx.send(()).unwrap();
    client.join().unwrap();
    assert_eq!(stats.connections_dropped, 1, "{stats:?}");
    assert!(lines(&log).contains(&"closed 1".to_string()));
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    let log = Log::default();
    let device = ip(37, 1);
    let mut probe = Probe::new(device, &log);
    probe.listen = Some(40_816);
    let mut rig = rig();
    rig.set_limits(TcpLimits {
        max_connections: 3,
        ..TcpLimits::default()
    });
    rig.add(Box::new(probe), &[]).unwrap();
    let client = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let held: Vec<_> = (0..6)
            .map(|_| TcpStream::connect((device, 40_816)).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        held.len()
    });
    let stats = rig.run(Some(Duration::from_millis(500))).unwrap();
    assert_eq!(client.join().unwrap(), 6);
    assert_eq!(stats.connections_accepted, 3, "{stats:?}");
    assert_eq!(stats.refused, 3, "{stats:?}");
}

#[test]
fn sends_outside_the_loopback_network_are_refused() {
    struct Refusals(Arc<Mutex<Vec<String>>>);
    impl Observer for Refusals {
        fn event(&mut self, _now: Nanos, event: &RigEvent<'_>) {
            match event {
                RigEvent::Refused { what, .. } => self.0.lock().unwrap().push(what.to_string()),
                RigEvent::Sent { to, .. } => self.0.lock().unwrap().push(format!("SENT {to}")),
                _ => {}
            }
        }
    }
    let log = Log::default();
    let mut probe = Probe::new(ip(38, 1), &log);
    probe.stray = Some(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 50_000));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut rig = rig();
    rig.set_observer(Box::new(Refusals(seen.clone())));
    rig.add(Box::new(probe), &[]).unwrap();
    let stats = rig.run(Some(Duration::from_millis(100))).unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|l| !l.starts_with("SENT")), "{seen:?}");
    assert!(seen[0].contains("outside the rig's network"), "{seen:?}");
    assert_eq!(stats.datagrams_sent, 0);
}

#[test]
fn a_stopper_ends_the_run_from_another_thread() {
    let log = Log::default();
    let mut rig = rig();
    rig.add(Box::new(Probe::new(ip(39, 1), &log)), &[]).unwrap();
    let stopper = rig.stopper();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stopper.stop();
    });
    let started = std::time::Instant::now();
    rig.run(None).unwrap();
    t.join().unwrap();
    // Functional bound (the run has no end of its own): it must not wait for anything else.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(lines(&log).contains(&"shut down".to_string()));
}

#[test]
fn a_port_held_elsewhere_is_a_clear_error() {
    let holder = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 50_817)).unwrap();
    let mut rig = rig();
    let e = match rig.add(Box::new(Probe::new(ip(40, 1), &Log::default())), &[50_817]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("bound a port another socket holds without SO_REUSEADDR"),
    };
    drop(holder);
    assert!(e.contains("cannot bind 127.0.40.1:50817"), "{e}");
    assert!(e.contains("another network namespace"), "{e}");
}
