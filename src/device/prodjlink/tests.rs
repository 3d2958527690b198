//! The device models under a virtual clock: driven call by call, or several at once through
//! the simulated transport with the frames read back from its pcapng.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use super::mixer::Mixer;
use super::opus_quad::{OpusQuad, ART, FIRST_DECK, PSSI};
use super::player::Player;
use super::{build, Numbering, Persona, Setup, ANNOUNCE_PORT, BEAT_PORT, PERSONAS, STATUS_PORT};
use crate::capture::CaptureReader;
use crate::device::scenario::{demo_tracks, TimedCommand};
use crate::device::{Command, Destination, Device, HostAddress, Nanos, Outbox, Output, MS, SECOND};
use crate::prodjlink::{BinaryDataRequest, KeepAlive, LightingReply, Packet};
use crate::transport::sim::Sim;

pub(super) fn host(last: u8) -> HostAddress {
    HostAddress {
        ip: Ipv4Addr::new(169, 254, 1, last),
        mac: [0x74, 0x5e, 0x1c, 0, 1, last],
    }
}

pub(super) fn setup(role: &str, last: u8, numbering: Numbering, power_on: Nanos) -> Setup {
    Setup {
        persona: Persona::by_role(role).unwrap(),
        host: host(last),
        numbering,
        power_on,
        has_usb: true,
        tracks: Arc::new(demo_tracks()),
    }
}

/// Run `d`'s timers up to `until`, returning what it sent (time, output).
pub(super) fn run_timers(d: &mut dyn Device, until: Nanos) -> Vec<(Nanos, Output)> {
    let mut sent = Vec::new();
    let mut out = Outbox::new();
    while let Some(t) = d.poll_at().filter(|t| *t <= until) {
        d.on_timer(t, &mut out);
        sent.extend(out.drain().map(|o| (t, o)));
    }
    sent
}

/// Datagrams of `sent` as (destination, parsed packet).
pub(super) fn datagrams(sent: &[(Nanos, Output)]) -> Vec<(Destination, Packet)> {
    sent.iter()
        .filter_map(|(_, o)| match o {
            Output::Datagram { to, payload, .. } => {
                let port = match to {
                    Destination::Unicast(a) => a.port(),
                    Destination::Broadcast(p) => *p,
                };
                Some((
                    *to,
                    Packet::parse(port, payload).expect("models send parsable packets"),
                ))
            }
            _ => None,
        })
        .collect()
}

pub(super) fn deliver(
    d: &mut dyn Device,
    now: Nanos,
    from: Ipv4Addr,
    port: u16,
    bytes: &[u8],
) -> Vec<(Destination, Packet)> {
    let mut out = Outbox::new();
    let to = SocketAddrV4::new(d.address().ip, port);
    d.on_datagram(now, SocketAddrV4::new(from, port), to, bytes, &mut out);
    let sent: Vec<(Nanos, Output)> = out.drain().map(|o| (now, o)).collect();
    datagrams(&sent)
}

/// Every UDP frame of a pcapng as (time, source, destination port, packet).
fn frames(pcap: Vec<u8>) -> Vec<(Nanos, Ipv4Addr, u16, Packet)> {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(pcap))).unwrap();
    let mut v = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let s = etherparse::SlicedPacket::from_ethernet(f.data).unwrap();
        let (Some(etherparse::NetSlice::Ipv4(ip)), Some(etherparse::TransportSlice::Udp(u))) =
            (s.net, s.transport)
        else {
            continue;
        };
        let p = Packet::parse(u.destination_port(), u.payload()).unwrap();
        v.push((f.ts_ns, ip.header().source_addr(), u.destination_port(), p));
    }
    v
}

#[test]
fn a_number_in_use_is_defended_and_the_newcomer_gives_way() {
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    // The first holds 1. The second is configured to 1: it claims it, is told off with an
    // 08 and moves to 2. The third remembers 1 on AUTO: it sees 1 and 2 held and takes 3
    // without a fight.
    sim.add(build(setup("cdj-2000nxs2", 1, Numbering::Auto(1), 0)));
    sim.add(build(setup(
        "cdj-2000nxs2",
        2,
        Numbering::Fixed(1),
        5 * SECOND,
    )));
    sim.add(build(setup(
        "cdj-2000nxs2",
        3,
        Numbering::Auto(1),
        10 * SECOND,
    )));
    sim.run(20 * SECOND).unwrap();
    assert_eq!(sim.device(0).label(), "CDJ-2000NXS2 #1");
    assert_eq!(sim.device(1).label(), "CDJ-2000NXS2 #2");
    assert_eq!(sim.device(2).label(), "CDJ-2000NXS2 #3");
    let notes: Vec<String> = sim
        .notes
        .iter()
        .map(|(l, n)| format!("{l}: {}", n.text))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("defended number 1 against 169.254.1.2")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("number 1 was defended: claiming 2 instead")),
        "{notes:?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("against 169.254.1.3")),
        "{notes:?}"
    );
    let (out, ..) = sim.finish().unwrap();
    let f = frames(out);
    let conflict = f
        .iter()
        .find(|x| matches!(x.3, Packet::ChannelConflict(_)))
        .expect("an 08 was sent");
    assert_eq!(conflict.1, host(1).ip);
    // The newcomer's keep-alives carry its new number, and nobody's carry a duplicate.
    let last_ka: Vec<(Ipv4Addr, u8)> = f
        .iter()
        .rev()
        .filter_map(|x| match &x.3 {
            Packet::KeepAlive(k) => Some((x.1, k.device)),
            _ => None,
        })
        .take(3)
        .collect();
    for n in 1..=3u8 {
        assert!(last_ka.contains(&(host(n).ip, n)), "{last_ka:?}");
    }
    assert_eq!(
        f.iter()
            .filter(|x| matches!(x.3, Packet::ChannelConflict(_)))
            .count(),
        1
    );
}

#[test]
fn a_fixed_number_taken_by_the_mixer_port_is_replaced_by_the_mixers_choice() {
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    let mixer = Mixer::new(setup("djm-900nxs2", 33, Numbering::Fixed(33), 0))
        .with_channel_ports(&[[0; 6], host(2).mac]);
    sim.add(Box::new(mixer));
    sim.add(build(setup("cdj-3000", 2, Numbering::Fixed(5), 5 * SECOND)));
    sim.run(12 * SECOND).unwrap();
    // 9.2: 01 -> 02 (D 0) -> 03 with the port's number -> one 04 -> 05.
    assert_eq!(sim.device(1).label(), "CDJ-3000 #2");
    let (out, ..) = sim.finish().unwrap();
    let kinds: Vec<&'static str> = frames(out)
        .iter()
        .filter(|x| {
            x.2 == ANNOUNCE_PORT
                && !matches!(
                    x.3,
                    Packet::KeepAlive(_) | Packet::Hello(_) | Packet::ClaimMac(_)
                )
        })
        .map(|x| x.3.type_name())
        .collect();
    let want = [
        "mixer_assign_intent",
        "claim_ip",
        "mixer_assign",
        "claim_final",
        "assignment_finished",
    ];
    let at = kinds
        .iter()
        .position(|k| *k == want[0])
        .expect("the mixer announced the assignment");
    assert_eq!(&kinds[at..at + 5], &want, "{kinds:?}");
}

#[test]
fn status_goes_only_to_peers_that_announced_themselves_and_a_silent_peer_leaves() {
    let mut p = Player::new(setup("cdj-2000nxs2", 1, Numbering::Auto(1), 0));
    let sent = run_timers(&mut p, 6 * SECOND);
    assert!(p.presence().is_up());
    // Up and alone: keep-alives, but no status to anyone.
    let d = datagrams(&sent);
    assert!(d.iter().any(|x| matches!(x.1, Packet::KeepAlive(_))));
    assert!(!d.iter().any(|x| matches!(x.1, Packet::CdjStatus(_))));
    // A virtual CDJ announces itself: status goes to it, unicast, from then on.
    let vcdj = Ipv4Addr::new(169, 254, 9, 9);
    let ka = KeepAlive::cdj("prolink-typescript", 7, [2, 0, 0, 0, 0, 7], vcdj, 1).to_bytes();
    deliver(&mut p, 6 * SECOND, vcdj, ANNOUNCE_PORT, &ka);
    let d = datagrams(&run_timers(&mut p, 7 * SECOND));
    let status: Vec<&Destination> = d
        .iter()
        .filter(|x| matches!(x.1, Packet::CdjStatus(_)))
        .map(|x| &x.0)
        .collect();
    assert!(status.len() >= 4, "{} status packets", status.len());
    assert!(status
        .iter()
        .all(|to| **to == Destination::Unicast(SocketAddrV4::new(vcdj, STATUS_PORT))));
    let ka = d.iter().rev().find_map(|x| match &x.1 {
        Packet::KeepAlive(k) => Some(k.peers),
        _ => None,
    });
    assert_eq!(ka, Some(2), "peer count counts the vCDJ and itself");
    // It falls silent: 10 s later it is gone, and status stops.
    let d = datagrams(&run_timers(&mut p, 16_100 * MS));
    let last_status = d
        .iter()
        .filter(|x| matches!(x.1, Packet::CdjStatus(_)))
        .count();
    assert!(last_status > 0);
    assert!(p.presence().peers.is_empty());
    let d = datagrams(&run_timers(&mut p, 18 * SECOND));
    assert!(!d.iter().any(|x| matches!(x.1, Packet::CdjStatus(_))));
    let mut notes = Vec::new();
    p.take_notes(&mut notes);
    assert!(notes
        .iter()
        .any(|n| n.text.contains("left (silent 10 s)") && n.at >= 16 * SECOND));
}

#[test]
fn the_master_hands_over_on_request() {
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    sim.add(build(setup("cdj-2000nxs2", 1, Numbering::Auto(1), 0)));
    sim.add(build(setup("cdj-3000", 2, Numbering::Auto(2), 0)));
    let load = |id| Command::Load {
        source: 0,
        slot: 0,
        track_id: id,
    };
    let c = |s: f64, device, command| TimedCommand {
        at: (s * 1e9) as Nanos,
        device,
        command,
    };
    sim.schedule(vec![
        c(6.0, 0, load(1)),
        c(7.0, 0, Command::BecomeMaster),
        c(7.5, 0, Command::Play),
        c(8.0, 1, load(2)),
        c(9.0, 1, Command::Sync(true)),
        c(9.5, 1, Command::Play),
        c(11.0, 1, Command::BecomeMaster),
    ]);
    sim.run(13 * SECOND).unwrap();
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);
    let (out, ..) = sim.finish().unwrap();
    let f = frames(out);
    let (p1, p2) = (host(1).ip, host(2).ip);
    let req = f
        .iter()
        .position(|x| matches!(x.3, Packet::MasterHandoffRequest(_)))
        .expect("0x26");
    assert_eq!((f[req].1, f[req].2), (p2, BEAT_PORT));
    let rsp = f
        .iter()
        .position(|x| matches!(x.3, Packet::MasterHandoffResponse(_)))
        .expect("0x27");
    assert!(rsp > req);
    assert_eq!(f[rsp].1, p1);
    // Then the flags move: player 1 names 2 in M_h, 2 takes master, 1 lets go.
    let status = |from: Ipv4Addr| {
        f.iter()
            .skip(rsp)
            .filter(move |x| x.1 == from)
            .filter_map(|x| match &x.3 {
                Packet::CdjStatus(s) => Some((x.0, s.is_master(), s.master_handoff)),
                _ => None,
            })
    };
    let yielded = status(p1).find(|s| s.2 == 2).expect("M_h names player 2");
    assert!(yielded.1, "still master while yielding");
    let took = status(p2).find(|s| s.1).expect("player 2 takes master");
    let released = status(p1).find(|s| !s.1).expect("player 1 lets go");
    assert!(yielded.0 <= took.0 && took.0 < released.0);
    assert_eq!(released.2, 0xff);
    // Synced to the master, player 2 plays at its tempo: 124 BPM.
    let bpm = f.iter().rev().find_map(|x| match &x.3 {
        Packet::CdjStatus(s) if x.1 == p2 => s.effective_bpm(),
        _ => None,
    });
    assert!((bpm.unwrap() - 124.0).abs() < 0.01, "{bpm:?}");
}

#[test]
fn a_djm_v10_reports_six_channels_on_air() {
    let mut m = Mixer::new(setup("djm-v10", 33, Numbering::Fixed(33), 0));
    run_timers(&mut m, 5 * SECOND);
    let mut out = Outbox::new();
    assert!(m.command(
        5 * SECOND,
        &Command::Fader {
            channel: 6,
            on_air: true
        },
        &mut out
    ));
    assert!(m.command(
        5 * SECOND,
        &Command::Fader {
            channel: 2,
            on_air: true
        },
        &mut out
    ));
    assert!(!m.command(
        5 * SECOND,
        &Command::Fader {
            channel: 7,
            on_air: true
        },
        &mut out
    ));
    assert!(!m.command(5 * SECOND, &Command::Play, &mut out));
    let sent: Vec<(Nanos, Output)> = out.drain().map(|o| (0, o)).collect();
    let d = datagrams(&sent);
    let Packet::ChannelsOnAir(c) = &d.last().unwrap().1 else {
        panic!("{d:?}")
    };
    assert_eq!(c.to_bytes().len(), 0x35);
    assert_eq!(c.on_air(), vec![false, true, false, false, false, true]);
    assert_eq!(d.last().unwrap().0, Destination::Broadcast(BEAT_PORT));
    // And a 4-channel DJM-900NXS2 sends the short form.
    let mut m = Mixer::new(setup("djm-900nxs2", 33, Numbering::Fixed(33), 0));
    run_timers(&mut m, 5 * SECOND);
    assert!(m.command(
        5 * SECOND,
        &Command::Fader {
            channel: 4,
            on_air: true
        },
        &mut out
    ));
    assert!(!m.command(
        5 * SECOND,
        &Command::Fader {
            channel: 5,
            on_air: true
        },
        &mut out
    ));
    let sent: Vec<(Nanos, Output)> = out.drain().map(|o| (0, o)).collect();
    let Packet::ChannelsOnAir(c) = &datagrams(&sent)[0].1 else {
        panic!()
    };
    assert_eq!(c.to_bytes().len(), 0x2d);
    // Fader start for channel 2 (3 kind 02): start there, leave the others.
    assert!(m.command(
        6 * SECOND,
        &Command::FaderStart {
            channel: 2,
            start: true
        },
        &mut out
    ));
    assert!(!m.command(
        6 * SECOND,
        &Command::FaderStart {
            channel: 5,
            start: true
        },
        &mut out
    ));
    let sent: Vec<(Nanos, Output)> = out.drain().map(|o| (0, o)).collect();
    let d = datagrams(&sent);
    let Packet::FaderStart(f) = &d[0].1 else {
        panic!("{d:?}")
    };
    assert_eq!(f.channels, [2, 0, 2, 2]);
    assert_eq!(d[0].0, Destination::Broadcast(BEAT_PORT));
}

#[test]
fn an_opus_quad_answers_the_lighting_handshake_and_phrase_requests() {
    let mut o = OpusQuad::new(setup("opus-quad", 1, Numbering::Auto(1), 0));
    run_timers(&mut o, 5 * SECOND);
    let client = Ipv4Addr::new(169, 254, 9, 17);
    let ka = KeepAlive::rekordbox_lighting([2, 0, 0, 0, 0, 0x17], client).to_bytes();
    assert!(deliver(&mut o, 5 * SECOND, client, ANNOUNCE_PORT, &ka).is_empty());
    // 0x10 to the client until it answers.
    let d = datagrams(&run_timers(&mut o, 5 * SECOND));
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].0,
        Destination::Unicast(SocketAddrV4::new(client, STATUS_PORT))
    );
    assert_eq!(d[0].1.type_name(), "lighting_hello");
    let reply = LightingReply::new(0x17, "client").to_bytes();
    deliver(&mut o, 5_100 * MS, client, STATUS_PORT, &reply);
    // Status for decks 9-12 to the client.
    let d = datagrams(&run_timers(&mut o, 5_300 * MS));
    let decks: Vec<u8> = d
        .iter()
        .filter_map(|x| match &x.1 {
            Packet::CdjStatus(s) => Some(s.header.device),
            _ => None,
        })
        .collect();
    assert_eq!(&decks[..4], &[9, 10, 11, 12]);
    // Album art in 0x56 chunks on load.
    let mut out = Outbox::new();
    let load = Command::OnDeck {
        deck: 2,
        command: Box::new(Command::Load {
            source: 0,
            slot: 0,
            track_id: 3,
        }),
    };
    assert!(o.command(5_400 * MS, &load, &mut out));
    let sent: Vec<(Nanos, Output)> = out.drain().map(|x| (0, x)).collect();
    let art = datagrams(&sent)
        .into_iter()
        .find_map(|x| match x.1 {
            Packet::BinaryDataReply(r) => Some(r),
            _ => None,
        })
        .expect("album art sent on load");
    assert_eq!(
        (art.header.device, art.data_type, art.track_id),
        (FIRST_DECK + 1, ART, 3)
    );
    assert!(art.data.starts_with(&[0xff, 0xd8]));
    // A PSSI request for the loaded track is answered; one for another track is not.
    let q = BinaryDataRequest::pssi(0x17, FIRST_DECK + 1, 3).to_bytes();
    let d = deliver(&mut o, 5_500 * MS, client, STATUS_PORT, &q);
    let Packet::BinaryDataReply(r) = &d[0].1 else {
        panic!("{d:?}")
    };
    assert_eq!((r.data_type, r.track_id, r.chunk_count), (PSSI, 3, 1));
    assert!(r.data.starts_with(b"PSSI"));
    let q = BinaryDataRequest::pssi(0x17, FIRST_DECK + 1, 999).to_bytes();
    assert!(deliver(&mut o, 5_600 * MS, client, STATUS_PORT, &q).is_empty());
}

#[test]
fn garbage_and_truncated_datagrams_of_every_length_are_dropped_by_every_persona() {
    let from = Ipv4Addr::new(169, 254, 9, 9);
    // Real packets of the kinds models act on, cut at every length, and junk of every length
    // 0-1500 with and without the magic.
    let status = crate::prodjlink::CdjStatus::new("x", 2, 0x200).to_bytes();
    let ka = KeepAlive::cdj("x", 7, [2, 0, 0, 0, 0, 7], from, 1).to_bytes();
    let load = crate::prodjlink::LoadTrack::new("x", 7, 1, (1, 3, 1), 1).to_bytes();
    let mut magic_junk = b"Qspt1WmJOL".to_vec();
    magic_junk.extend((0..1490u32).map(|i| (i * 7) as u8));
    for persona in &PERSONAS {
        let mut d = build(setup(persona.role, 1, Numbering::Auto(1), 0));
        run_timers(d.as_mut(), 5 * SECOND);
        let mut out = Outbox::new();
        for port in [ANNOUNCE_PORT, BEAT_PORT, STATUS_PORT, 50003, 50004, 9] {
            let to = SocketAddrV4::new(d.address().ip, port);
            let f = SocketAddrV4::new(from, port);
            for real in [&status, &ka, &load] {
                for len in 0..real.len() {
                    d.on_datagram(5 * SECOND, f, to, &real[..len], &mut out);
                }
            }
            for len in 0..=1500 {
                d.on_datagram(
                    5 * SECOND,
                    f,
                    to,
                    &magic_junk[..len.min(magic_junk.len())],
                    &mut out,
                );
                d.on_datagram(5 * SECOND, f, to, &vec![0xa5; len], &mut out);
            }
        }
        // Nothing was answered and the unit keeps running.
        assert!(out.is_empty(), "{}: {:?}", persona.role, out.iter().next());
        run_timers(d.as_mut(), 7 * SECOND);
    }
}
