//! The StageLinQ unit models under a virtual clock: driven call by call as a client would
//! drive them, and a whole rig on the simulated transport read back with the engine.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use super::discovery::HOWDY_EVERY;
use super::framing::MAX_MESSAGE;
use super::persona::Service;
use super::unit::{Unit, BEAT_EVERY};
use super::{build, is_valid_token, Persona, Setup, PERSONAS};
use crate::device::library::Library;
use crate::device::{
    Command, ConnId, Destination, Device, HostAddress, Nanos, Outbox, Output, StreamEvent, MS,
    SECOND,
};
use crate::stagelinq::beatinfo::BeatInfoMessage;
use crate::stagelinq::directory::{
    frame, DirectoryMessage, Framing, Reference, ServiceAnnouncement, ServicesRequest,
};
use crate::stagelinq::discovery::{Discovery, PORT};
use crate::stagelinq::statemap::{StateMapMessage, SUB_SUBSCRIBE};
use crate::stagelinq::statemap_json::StateValue;
use crate::stagelinq::Token;

const CLIENT: Token = Token([
    0x52, 0xfd, 0xfc, 7, 0x21, 0x82, 0x65, 0x4f, 0x16, 0x3f, 0x5f, 0x0f, 0x9a, 0x62, 0x1d, 0x72,
]);

fn host(last: u8) -> HostAddress {
    HostAddress {
        ip: Ipv4Addr::new(127, 0, 0, last),
        mac: [2, 0, 0, 0, 0, last],
    }
}

pub(super) fn unit(role: &str) -> Unit {
    Unit::new(Setup {
        persona: Persona::by_role(role).unwrap(),
        host: host(2),
        player_number: 1,
        power_on: 0,
        library: Arc::new(Library::demo()),
        cabling: Vec::new(),
    })
}

fn peer() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 9), 40000)
}

/// Everything `d` sent, with the time.
pub(super) fn run_timers(d: &mut dyn Device, until: Nanos) -> Vec<(Nanos, Output)> {
    let mut sent = Vec::new();
    let mut out = Outbox::new();
    while let Some(t) = d.poll_at().filter(|t| *t <= until) {
        d.on_timer(t, &mut out);
        sent.extend(out.drain().map(|o| (t, o)));
    }
    sent
}

pub(super) fn stream(
    d: &mut dyn Device,
    now: Nanos,
    conn: u64,
    ev: StreamEvent<'_>,
) -> Vec<Output> {
    let mut out = Outbox::new();
    d.on_stream(now, ConnId(conn), ev, &mut out);
    out.drain().collect()
}

pub(super) fn writes(outs: &[Output]) -> Vec<Vec<u8>> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Write { bytes, .. } => Some(bytes.clone()),
            _ => None,
        })
        .collect()
}

fn closed(outs: &[Output]) -> bool {
    outs.iter().any(|o| matches!(o, Output::Close { .. }))
}

/// Directory messages in one write, in order.
fn directory_messages(mut b: &[u8]) -> Vec<DirectoryMessage> {
    let mut v = Vec::new();
    while let Framing::Complete(n) = frame(b) {
        v.push(DirectoryMessage::parse(&b[..n]).unwrap());
        b = &b[n..];
    }
    assert!(b.is_empty(), "trailing directory bytes");
    v
}

/// Length-prefixed StateMap messages in one write.
fn statemap_messages(mut b: &[u8]) -> Vec<StateMapMessage> {
    let mut v = Vec::new();
    while b.len() >= 4 {
        let n = 4 + u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        v.push(StateMapMessage::parse(&b[..n]).unwrap());
        b = &b[n..];
    }
    v
}

fn port_of(u: &Unit, s: Service) -> u16 {
    u.services().iter().find(|x| x.0 == s).unwrap().1
}

/// Open service `s` on `u` as a client does: accept, hello.
pub(super) fn open(u: &mut Unit, now: Nanos, conn: u64, s: Service) -> Vec<Output> {
    let port = port_of(u, s);
    stream(
        u,
        now,
        conn,
        StreamEvent::Accepted {
            local_port: port,
            peer: peer(),
        },
    );
    let hello = ServiceAnnouncement::new(CLIENT, s.name(), 40001).to_bytes();
    stream(u, now, conn, StreamEvent::Data(&hello))
}

#[test]
fn directory_sends_its_services_request_first_then_every_service_in_one_write() {
    for p in PERSONAS.iter().filter(|p| p.kind != super::Kind::Mixer) {
        let mut u = unit(p.role);
        run_timers(&mut u, 0);
        let port = u.directory_port();
        let first = stream(
            &mut u,
            10 * MS,
            1,
            StreamEvent::Accepted {
                local_port: port,
                peer: peer(),
            },
        );
        let w = writes(&first);
        assert_eq!(w.len(), 1, "{}", p.role);
        let own = match &directory_messages(&w[0])[..] {
            [DirectoryMessage::ServicesRequest(r)] => r.token,
            other => panic!("{}: {other:?}", p.role),
        };
        assert!(is_valid_token(&own), "{}: {own}", p.role);
        assert_eq!(own, u.token());
        // The client's request, split in two writes: answered at once, in one write.
        let req = ServicesRequest { token: CLIENT }.to_bytes();
        assert!(stream(&mut u, 20 * MS, 1, StreamEvent::Data(&req[..7])).is_empty());
        let answer = writes(&stream(&mut u, 21 * MS, 1, StreamEvent::Data(&req[7..])));
        assert_eq!(answer.len(), 1);
        let names: Vec<String> = directory_messages(&answer[0])
            .into_iter()
            .map(|m| match m {
                DirectoryMessage::ServiceAnnouncement(a) => {
                    assert_eq!(a.token, own);
                    assert_ne!(a.port, 0);
                    a.service
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(names.len() > 3, "{}: {names:?}", p.role);
        assert_eq!(names[0], "StateMap");
        assert!(names.iter().any(|n| n == "BeatInfo"));
        // A ping is echoed with the unit's token; the unit pings every 5 s after the request.
        let ping = Reference::ping(CLIENT, 77).to_bytes();
        let echo = writes(&stream(&mut u, 30 * MS, 1, StreamEvent::Data(&ping)));
        assert_eq!(echo, vec![Reference::ping(CLIENT, 77).echo(own).to_bytes()]);
        let pings: Vec<_> = run_timers(&mut u, 5 * SECOND)
            .into_iter()
            .filter(|(_, o)| matches!(o, Output::Write { .. }))
            .collect();
        assert_eq!(pings.len(), 1, "{}", p.role);
    }
}

#[test]
fn howdy_every_second_from_ephemeral_ports_unicast_to_clients_and_exit_on_shutdown() {
    let mut u = unit("sc6000");
    let sent = run_timers(&mut u, 3 * SECOND);
    let howdys: Vec<(Nanos, Discovery, u16, Destination)> = sent
        .iter()
        .filter_map(|(t, o)| match o {
            Output::Datagram {
                from_port,
                to,
                payload,
            } => Some((*t, Discovery::parse(payload).unwrap(), *from_port, *to)),
            _ => None,
        })
        .collect();
    // Own identity at 0, 1, 2, 3 s; two analyzers at 0.5, 1.5, 2.5 s.
    let own: Vec<Nanos> = howdys
        .iter()
        .filter(|h| h.1.software == "JP13")
        .map(|h| h.0)
        .collect();
    assert_eq!(own, vec![0, HOWDY_EVERY, 2 * HOWDY_EVERY, 3 * HOWDY_EVERY]);
    let analyzers = howdys
        .iter()
        .filter(|h| h.1.software == "OfflineAnalyzer")
        .count();
    assert_eq!(analyzers, 6);
    for (_, d, from, to) in &howdys {
        assert_eq!(*from, 0, "a fresh ephemeral port per datagram");
        assert_eq!(*to, Destination::Broadcast(PORT));
        assert_eq!(d.device_name, "sc6000");
        assert!(is_valid_token(&d.token));
        assert_ne!(d.port, 0);
        assert!(d.extra.is_empty());
    }
    // A software client announces itself (PyStageLinQ: port 0, bound to its address): it
    // gets unicast copies from then on; a hardware HOWDY does not.
    let client = Discovery::howdy(CLIENT, "djdissect-test", "Python", "1.0.0", 0).to_bytes();
    let hw = Discovery::howdy(Token([3; 16]), "sc6000", "JP13", "2.3.1", 4000).to_bytes();
    let mut out = Outbox::new();
    let me = SocketAddrV4::new(u.address().ip, PORT);
    u.on_datagram(
        3 * SECOND,
        SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 9), 5000),
        me,
        &client,
        &mut out,
    );
    u.on_datagram(
        3 * SECOND,
        SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 8), 5000),
        me,
        &hw,
        &mut out,
    );
    let sent = run_timers(&mut u, 4 * SECOND);
    let unicast: Vec<Ipv4Addr> = sent
        .iter()
        .filter_map(|(_, o)| match o {
            Output::Datagram {
                to: Destination::Unicast(a),
                ..
            } => Some(*a.ip()),
            _ => None,
        })
        .collect();
    assert_eq!(unicast, vec![Ipv4Addr::new(127, 0, 0, 9); 3]);
    let mut out = Outbox::new();
    u.shut_down(4 * SECOND, &mut out);
    let exits: Vec<Discovery> = out
        .drain()
        .filter_map(|o| match o {
            Output::Datagram {
                to: Destination::Broadcast(_),
                payload,
                ..
            } => Some(Discovery::parse(&payload).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(exits.len(), 3);
    assert!(exits.iter().all(|d| d.action.is_exit()));
    assert_eq!(u.poll_at(), None);
}

#[test]
fn statemap_answers_known_paths_updates_on_change_and_ignores_unknown_ones() {
    let mut u = unit("sc6000");
    run_timers(&mut u, 0);
    assert!(
        writes(&open(&mut u, 0, 1, Service::StateMap)).is_empty(),
        "never subscribes to a client"
    );
    let mut sub = Vec::new();
    for p in [
        "/Engine/Deck1/Track/SongName",
        "/Engine/Deck1/Track/ArtistName",
        "/Engine/Deck1/PlayState",
        "/Engine/Deck1/Track/CurrentBPM",
        "/Engine/Deck1/ExternalMixerVolume",
        "/Engine/Deck9/Track/SongName",
        "/Not/A/Path",
    ] {
        sub.extend(StateMapMessage::subscribe(p, 0).to_bytes());
    }
    // One byte at a time, as a slow client.
    let mut got = Vec::new();
    for b in &sub {
        got.extend(writes(&stream(
            &mut u,
            MS,
            1,
            StreamEvent::Data(std::slice::from_ref(b)),
        )));
    }
    let values: Vec<StateMapMessage> = got.iter().flat_map(|w| statemap_messages(w)).collect();
    assert_eq!(values.len(), 5, "unknown paths get nothing: {values:?}");
    assert!(values.iter().all(|m| m.sub_id() != SUB_SUBSCRIBE));
    assert_eq!(
        values[0],
        StateMapMessage::value(
            "/Engine/Deck1/Track/SongName",
            &StateValue::Text(String::new())
        )
    );
    // Load and play: the changed values come again, nothing else.
    let lib = Library::demo();
    let t = &lib.tracks[1];
    let mut out = Outbox::new();
    assert!(u.command(
        SECOND,
        &Command::Load {
            source: 0,
            slot: 3,
            track_id: t.id
        },
        &mut out
    ));
    let w: Vec<Output> = out.drain().collect();
    let changed = statemap_messages(&writes(&w)[0]);
    let paths: Vec<&str> = changed.iter().filter_map(|m| m.path()).collect();
    assert_eq!(
        paths,
        [
            "/Engine/Deck1/Track/ArtistName",
            "/Engine/Deck1/Track/CurrentBPM",
            "/Engine/Deck1/Track/SongName"
        ]
    );
    assert!(changed.contains(&StateMapMessage::value(
        "/Engine/Deck1/Track/SongName",
        &StateValue::Text(t.title.clone())
    )));
    assert!(u.command(2 * SECOND, &Command::Play, &mut out));
    let w: Vec<Output> = out.drain().collect();
    assert_eq!(
        statemap_messages(&writes(&w)[0]),
        vec![StateMapMessage::value(
            "/Engine/Deck1/PlayState",
            &StateValue::State(true)
        )]
    );
    // A value written by a mixer (0x7d1): ExternalMixerVolume follows.
    let set = StateMapMessage::Set {
        path: "/Engine/Deck1/ExternalMixerVolume".into(),
        json: "{\"type\":0,\"value\":1.00}".into(),
    };
    let w = writes(&stream(
        &mut u,
        3 * SECOND,
        1,
        StreamEvent::Data(&set.to_bytes()),
    ));
    assert_eq!(
        statemap_messages(&w[0]),
        vec![StateMapMessage::value(
            "/Engine/Deck1/ExternalMixerVolume",
            &StateValue::Number(1.0)
        )]
    );
}

#[test]
fn beatinfo_streams_at_the_effective_tempo_after_start_and_stops() {
    let mut u = unit("prime-4");
    run_timers(&mut u, 0);
    let lib = Library::demo();
    let t = &lib.tracks[0];
    let mut out = Outbox::new();
    for d in 1..=4u8 {
        let on = |c: Command| Command::OnDeck {
            deck: d,
            command: Box::new(c),
        };
        assert!(u.command(
            0,
            &on(Command::Load {
                source: 0,
                slot: 3,
                track_id: t.id
            }),
            &mut out
        ));
        assert!(u.command(0, &on(Command::Pitch(4.0)), &mut out));
        assert!(u.command(0, &on(Command::Play), &mut out));
    }
    assert!(
        writes(&open(&mut u, 0, 7, Service::BeatInfo)).is_empty(),
        "silent before start"
    );
    let first = writes(&stream(
        &mut u,
        0,
        7,
        StreamEvent::Data(&BeatInfoMessage::StartStream.to_bytes()),
    ));
    assert_eq!(first.len(), 1);
    let sent = run_timers(&mut u, SECOND);
    let emits: Vec<(Nanos, BeatInfoMessage)> = sent
        .into_iter()
        .filter_map(|(t, o)| match o {
            Output::Write {
                conn: ConnId(7),
                bytes,
            } => Some((t, BeatInfoMessage::parse(&bytes).unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(emits.len() as i128, SECOND / BEAT_EVERY);
    let bpm = t.bpm() * 1.04;
    let beat = |m: &BeatInfoMessage| match m {
        BeatInfoMessage::Beat(b) => b.clone(),
        _ => panic!(),
    };
    let (t0, b0) = (emits[0].0, beat(&emits[0].1));
    let (t1, b1) = (emits.last().unwrap().0, beat(&emits.last().unwrap().1));
    assert_eq!(b0.decks.len(), 4);
    for d in 0..4 {
        assert!((b1.decks[d].bpm - bpm).abs() < 1e-9);
        let beats = (b1.decks[d].beat - b0.decks[d].beat) / ((t1 - t0) as f64 / SECOND as f64);
        assert!((beats - bpm / 60.0).abs() < 1e-6, "{beats}");
    }
    assert_eq!(b1.clock - b0.clock, (t1 - t0) as u64);
    stream(
        &mut u,
        SECOND,
        7,
        StreamEvent::Data(&BeatInfoMessage::StopStream.to_bytes()),
    );
    let later = run_timers(&mut u, 2 * SECOND);
    assert!(later.iter().all(|(_, o)| !matches!(
        o,
        Output::Write {
            conn: ConnId(7),
            ..
        }
    )));
}

#[test]
fn garbage_huge_prefixes_and_floods_close_the_connection_and_a_good_client_is_still_served() {
    let mut u = unit("sc6000");
    run_timers(&mut u, 0);
    let mut conn = 100;
    // Garbage and huge length prefixes on every port.
    let ports: Vec<u16> = std::iter::once(u.directory_port())
        .chain(u.services().iter().map(|s| s.1))
        .collect();
    let hostile: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\n\r\n",
        &[0xff; 64],
        &[0, 0, 0, 0, 1, 2],
        &[0; 4096],
    ];
    for port in &ports {
        for h in hostile {
            conn += 1;
            stream(
                &mut u,
                MS,
                conn,
                StreamEvent::Accepted {
                    local_port: *port,
                    peer: peer(),
                },
            );
            let outs = stream(&mut u, MS, conn, StreamEvent::Data(h));
            // Either refused at once or still waiting for a plausible message, never more
            // than one message's worth buffered.
            let _ = closed(&outs);
        }
        // A service hello followed by a 4 GiB length prefix, then a flood of bytes.
        conn += 1;
        stream(
            &mut u,
            MS,
            conn,
            StreamEvent::Accepted {
                local_port: *port,
                peer: peer(),
            },
        );
        let mut b = ServiceAnnouncement::new(CLIENT, "StateMap", 1).to_bytes();
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        let outs = stream(&mut u, MS, conn, StreamEvent::Data(&b));
        let outs2 = stream(
            &mut u,
            MS,
            conn,
            StreamEvent::Data(&vec![0x41; 3 * MAX_MESSAGE]),
        );
        assert!(closed(&outs) || closed(&outs2), "port {port}");
    }
    // 500 connections that never speak.
    for _ in 0..500 {
        conn += 1;
        stream(
            &mut u,
            MS,
            conn,
            StreamEvent::Accepted {
                local_port: ports[1],
                peer: peer(),
            },
        );
    }
    assert!(u
        .conns
        .values()
        .all(|c| c.inbuf.buffered() <= MAX_MESSAGE + 4));
    // A good client still gets its value.
    let w = writes(&open(&mut u, 2 * MS, 1, Service::StateMap));
    assert!(w.is_empty());
    let sub = StateMapMessage::subscribe("/Engine/DeckCount", 0).to_bytes();
    let w = writes(&stream(&mut u, 3 * MS, 1, StreamEvent::Data(&sub)));
    assert_eq!(
        statemap_messages(&w[0]),
        vec![StateMapMessage::value(
            "/Engine/DeckCount",
            &StateValue::Integer(2)
        )]
    );
    // Garbage datagrams on 51337 are dropped.
    let mut out = Outbox::new();
    for g in [
        &b"airD"[..],
        &[0u8; 3][..],
        &[b'a', b'i', b'r', b'D', 0, 0, 0, 0xff, 0xff][..],
    ] {
        u.on_datagram(
            MS,
            peer(),
            SocketAddrV4::new(u.address().ip, PORT),
            g,
            &mut out,
        );
    }
    assert!(out.is_empty());
}

#[test]
fn every_persona_builds_and_announces_valid_tokens() {
    for p in &PERSONAS {
        let mut d = build(Setup {
            persona: p,
            host: host(3),
            player_number: 1,
            power_on: 0,
            library: Arc::new(Library::demo()),
            cabling: Vec::new(),
        });
        let sent = run_timers(d.as_mut(), 2 * SECOND);
        let mut n = 0;
        for (_, o) in &sent {
            if let Output::Datagram { payload, .. } = o {
                let h = Discovery::parse(payload).unwrap();
                assert!(is_valid_token(&h.token), "{}", p.role);
                n += 1;
            }
        }
        assert!(n >= 3, "{}", p.role);
    }
}
