//! The simulated transport itself: who receives what when, and TCP without a listener.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};

use super::{Sim, LATENCY, SPACING};
use crate::device::scenario::TimedCommand;
use crate::device::{
    Command, ConnId, Destination, Device, HostAddress, Nanos, Outbox, Output, StreamEvent, SECOND,
};

type Log = Arc<Mutex<Vec<(Nanos, String)>>>;

/// A device that sends what it is told at `at`, and logs what reaches it.
struct Probe {
    host: HostAddress,
    at: Option<Nanos>,
    send: Vec<Output>,
    log: Log,
}

impl Device for Probe {
    fn label(&self) -> String {
        format!("probe {}", self.host.ip)
    }
    fn address(&self) -> HostAddress {
        self.host
    }
    fn poll_at(&self) -> Option<Nanos> {
        self.at
    }
    fn on_timer(&mut self, _now: Nanos, out: &mut Outbox) {
        self.at = None;
        for o in self.send.drain(..) {
            out.push(o);
        }
    }
    fn on_datagram(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        to: SocketAddrV4,
        p: &[u8],
        _: &mut Outbox,
    ) {
        let text = format!("{} {from} -> {to} {:?}", self.host.ip, p);
        self.log.lock().unwrap().push((now, text));
    }
    fn on_stream(&mut self, now: Nanos, conn: ConnId, event: StreamEvent<'_>, _: &mut Outbox) {
        let text = format!("{} {conn:?} {event:?}", self.host.ip);
        self.log.lock().unwrap().push((now, text));
    }
    fn command(&mut self, _: Nanos, _: &Command, _: &mut Outbox) -> bool {
        false
    }
}

fn probe(last: u8, at: Option<Nanos>, send: Vec<Output>, log: &Log) -> Box<Probe> {
    Box::new(Probe {
        host: HostAddress {
            ip: Ipv4Addr::new(169, 254, 0, last),
            mac: [2, 0, 0, 0, 0, last],
        },
        at,
        send,
        log: log.clone(),
    })
}

#[test]
fn datagrams_reach_their_receivers_one_hop_later_and_a_broadcast_reaches_all_others() {
    let log: Log = Arc::default();
    let to =
        |last| Destination::Unicast(SocketAddrV4::new(Ipv4Addr::new(169, 254, 0, last), 50002));
    let send = vec![
        Output::Datagram {
            from_port: 50000,
            to: Destination::Broadcast(50000),
            payload: vec![1],
        },
        Output::Datagram {
            from_port: 0,
            to: to(3),
            payload: vec![2],
        },
        // Nobody has this address: no frame, no delivery.
        Output::Datagram {
            from_port: 0,
            to: to(99),
            payload: vec![3],
        },
    ];
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    sim.add(probe(1, Some(SECOND), send, &log));
    sim.add(probe(2, None, Vec::new(), &log));
    sim.add(probe(3, None, Vec::new(), &log));
    sim.schedule(vec![TimedCommand {
        at: SECOND,
        device: 1,
        command: Command::Play,
    }]);
    sim.run(2 * SECOND).unwrap();
    assert_eq!(sim.refused, vec![(SECOND, 1, "play")]);
    let (_, frames, _) = sim.finish().unwrap();
    assert_eq!(frames, 2);
    let mut got = log.lock().unwrap().clone();
    got.sort();
    let b = "169.254.0.1:50000 -> 169.254.255.255:50000 [1]";
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (SECOND + LATENCY, format!("169.254.0.2 {b}")));
    assert_eq!(got[1], (SECOND + LATENCY, format!("169.254.0.3 {b}")));
    // The second datagram of the call leaves one spacing after the first, from a new port.
    assert!(
        got[2].0 == SECOND + SPACING + LATENCY && got[2].1.ends_with("-> 169.254.0.3:50002 [2]"),
        "{got:?}"
    );
}

#[test]
fn a_connection_to_a_port_nobody_listens_on_fails() {
    let log: Log = Arc::default();
    let conn = ConnId(ConnId::DEVICE_PICKED | 7);
    let to = SocketAddrV4::new(Ipv4Addr::new(169, 254, 0, 2), 1051);
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    sim.add(probe(
        1,
        Some(SECOND),
        vec![
            Output::Connect { conn, to },
            Output::Write {
                conn,
                bytes: vec![1],
            },
        ],
        &log,
    ));
    sim.add(probe(2, None, Vec::new(), &log));
    sim.run(2 * SECOND).unwrap();
    let got = log.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].1.ends_with("Closed"), "{got:?}");
    let (_, frames, _) = sim.finish().unwrap();
    // The simulation writes no SYN/RST pair for a refused connection (a real capture would show one).
    assert_eq!(frames, 0);
}
