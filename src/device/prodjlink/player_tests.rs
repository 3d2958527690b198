//! What a player does with what it receives, call by call under a virtual clock: load-track
//! and load-settings commands, media queries, fader start, sync control, and the dbserver port
//! query over the simulated transport's TCP.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::player::Player;
use super::tests::{deliver, run_timers, setup};
use super::{build, Numbering, ANNOUNCE_PORT, BEAT_PORT, DB_PORT, DB_QUERY_PORT, STATUS_PORT};
use crate::dbserver::PortQuery;
use crate::device::{
    Command, ConnId, Destination, Device, HostAddress, Nanos, Outbox, Output, StreamEvent, SECOND,
};
use crate::prodjlink::{
    fader_command, sync_command, FaderStart, KeepAlive, LoadSettings, LoadTrack, MediaQuery,
    Packet, SyncControl,
};
use crate::transport::sim::Sim;

const TOOL: Ipv4Addr = Ipv4Addr::new(169, 254, 9, 9);

/// A player that is up and knows the tool at [`TOOL`] as a peer.
fn player(role: &str) -> Player {
    let mut p = Player::new(setup(role, 1, Numbering::Auto(1), 0));
    run_timers(&mut p, 5 * SECOND);
    let ka = KeepAlive::cdj("tool", 5, [2, 0, 0, 0, 0, 5], TOOL, 1).to_bytes();
    deliver(&mut p, 5 * SECOND, TOOL, ANNOUNCE_PORT, &ka);
    p
}

fn statuses(d: &[(Destination, Packet)]) -> Vec<crate::prodjlink::CdjStatus> {
    d.iter()
        .filter_map(|x| match &x.1 {
            Packet::CdjStatus(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_load_track_command_is_obeyed_and_acknowledged() {
    let mut p = player("cdj-2000nxs2");
    let cmd = LoadTrack::new("rekordbox", 0x11, 1, (1, 3, 1), 2).to_bytes();
    let d = deliver(&mut p, 6 * SECOND, TOOL, STATUS_PORT, &cmd);
    let s = statuses(&d);
    assert_eq!(
        (s[0].rekordbox_id, s[0].track_device, s[0].track_slot),
        (2, 1, 3)
    );
    let ack = d
        .iter()
        .find(|x| x.1.type_name() == "load_track_ack")
        .expect("0x1a");
    assert_eq!(
        ack.0,
        Destination::Unicast(SocketAddrV4::new(TOOL, STATUS_PORT))
    );
    assert_eq!(p.deck().track.as_ref().map(|t| t.bpm_x100), Some(12600));
    // An id no medium holds is refused with 0x1c, and the deck keeps its track.
    let cmd = LoadTrack::new("rekordbox", 0x11, 1, (1, 3, 1), 9999).to_bytes();
    let d = deliver(&mut p, 7 * SECOND, TOOL, STATUS_PORT, &cmd);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].1.type_name(), "load_track_refused");
    assert_eq!(p.deck().track.as_ref().map(|t| t.rekordbox_id), Some(2));
    // My Settings addressed to us are kept; to another player, ignored.
    let mut other = LoadSettings::new("rekordbox", 0x11, 2);
    deliver(&mut p, 7 * SECOND, TOOL, STATUS_PORT, &other.to_bytes());
    assert!(p.my_settings.is_none());
    other.target = 1;
    deliver(&mut p, 7 * SECOND, TOOL, STATUS_PORT, &other.to_bytes());
    assert_eq!(p.my_settings, Some(other.settings));
}

#[test]
fn a_media_query_is_answered_to_the_requesters_address() {
    let mut p = player("cdj-3000");
    let q = MediaQuery::new("tool", 5, TOOL, 1, 3).to_bytes();
    let d = deliver(&mut p, 6 * SECOND, TOOL, STATUS_PORT, &q);
    let Packet::MediaResponse(r) = &d[0].1 else {
        panic!("{d:?}")
    };
    assert_eq!(
        d[0].0,
        Destination::Unicast(SocketAddrV4::new(TOOL, STATUS_PORT))
    );
    assert_eq!((r.owner, r.slot), (1, 3));
    assert_eq!(r.track_count, 8, "the demo library");
    assert_eq!(r.media_name(), "DJDISSECT");
    // A query about another player's slot is not ours to answer.
    let q = MediaQuery::new("tool", 5, TOOL, 2, 3).to_bytes();
    assert!(deliver(&mut p, 6 * SECOND, TOOL, STATUS_PORT, &q).is_empty());
}

#[test]
fn fader_start_plays_from_cue_and_stops_back_to_it_where_the_model_obeys() {
    let mut p = player("cdj-2000nxs2");
    let mut out = Outbox::new();
    assert!(p.command(
        6 * SECOND,
        &Command::Load {
            source: 0,
            slot: 0,
            track_id: 1
        },
        &mut out
    ));
    run_timers(&mut p, 7 * SECOND);
    let start = FaderStart::new("DJM-900NXS2", 33, [fader_command::START, 2, 2, 2]);
    let d = deliver(&mut p, 7 * SECOND, TOOL, BEAT_PORT, &start.to_bytes());
    assert!(statuses(&d)[0].is_playing());
    let stop = FaderStart::new("DJM-900NXS2", 33, [fader_command::STOP, 2, 2, 2]);
    let d = deliver(&mut p, 9 * SECOND, TOOL, BEAT_PORT, &stop.to_bytes());
    assert!(!statuses(&d)[0].is_playing());
    assert_eq!(
        p.deck().position_ms(9 * SECOND),
        120.0,
        "back at the first beat"
    );
    // 3: "not honoured by XDJ-XZ or CDJ-3000".
    let mut c = player("cdj-3000");
    c.command(
        6 * SECOND,
        &Command::Load {
            source: 0,
            slot: 0,
            track_id: 1,
        },
        &mut out,
    );
    run_timers(&mut c, 7 * SECOND);
    assert!(deliver(&mut c, 7 * SECOND, TOOL, BEAT_PORT, &start.to_bytes()).is_empty());
    assert!(!c.deck().playing);
}

#[test]
fn sync_control_from_a_mixer_turns_sync_on_and_appoints_the_master() {
    let mut p = player("cdj-2000nxs2");
    let on = SyncControl::new("DJM-900NXS2", 33, sync_command::SYNC_ON).to_bytes();
    let s = statuses(&deliver(&mut p, 6 * SECOND, TOOL, BEAT_PORT, &on));
    assert!(s[0].is_synced() && !s[0].is_master());
    let master = SyncControl::new("DJM-900NXS2", 33, sync_command::BECOME_MASTER).to_bytes();
    let s = statuses(&deliver(&mut p, 6 * SECOND, TOOL, BEAT_PORT, &master));
    assert!(s[0].is_master());
    let off = SyncControl::new("DJM-900NXS2", 33, sync_command::SYNC_OFF).to_bytes();
    let s = statuses(&deliver(&mut p, 6 * SECOND, TOOL, BEAT_PORT, &off));
    assert!(!s[0].is_synced());
}

/// A client that connects to `to`, sends `query`, and keeps what comes back.
struct Client {
    host: HostAddress,
    to: SocketAddrV4,
    query: Vec<u8>,
    at: Option<Nanos>,
    got: std::sync::Arc<std::sync::Mutex<(Vec<u8>, bool)>>,
}

impl Device for Client {
    fn label(&self) -> String {
        "client".into()
    }
    fn address(&self) -> HostAddress {
        self.host
    }
    fn poll_at(&self) -> Option<Nanos> {
        self.at
    }
    fn on_timer(&mut self, _now: Nanos, out: &mut Outbox) {
        self.at = None;
        out.push(Output::Connect {
            conn: ConnId(ConnId::DEVICE_PICKED | 1),
            to: self.to,
        });
    }
    fn on_datagram(
        &mut self,
        _: Nanos,
        _: SocketAddrV4,
        _: SocketAddrV4,
        _: &[u8],
        _: &mut Outbox,
    ) {
    }
    fn on_stream(&mut self, _now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        let mut got = self.got.lock().unwrap();
        match event {
            StreamEvent::Connected => out.write(conn, self.query.clone()),
            StreamEvent::Data(b) => got.0.extend_from_slice(b),
            StreamEvent::Closed => got.1 = true,
            StreamEvent::Accepted { .. } => {}
        }
    }
}

/// Run a player and a client asking `query` on 12523 through the simulated TCP.
fn port_query(query: Vec<u8>) -> (Vec<u8>, bool, Vec<u8>) {
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    let p = sim.add(build(setup("cdj-2000nxs2", 1, Numbering::Auto(1), 0)));
    let got = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), false)));
    sim.add(Box::new(Client {
        host: super::tests::host(9),
        to: SocketAddrV4::new(sim.device(p).address().ip, DB_QUERY_PORT),
        query,
        at: Some(5 * SECOND),
        got: got.clone(),
    }));
    sim.run(6 * SECOND).unwrap();
    let (pcap, ..) = sim.finish().unwrap();
    let g = got.lock().unwrap();
    (g.0.clone(), g.1, pcap)
}

#[test]
fn the_port_query_is_answered_over_simulated_tcp_and_hostile_lengths_are_cut_off() {
    let (answer, closed, pcap) = port_query(PortQuery::default().to_bytes());
    assert_eq!(answer, DB_PORT.to_be_bytes(), "two bytes, big-endian 1051");
    assert!(closed);
    // The frames hold the handshake, both directions' data with ACKs, and the FIN exchange.
    let mut r = crate::capture::CaptureReader::new(Box::new(std::io::Cursor::new(pcap))).unwrap();
    let mut flags = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let s = etherparse::SlicedPacket::from_ethernet(f.data).unwrap();
        if let Some(etherparse::TransportSlice::Tcp(t)) = s.transport {
            flags.push((t.syn(), t.ack(), t.fin(), t.payload().len()));
        }
    }
    assert_eq!(
        &flags[..3],
        &[
            (true, false, false, 0),
            (true, true, false, 0),
            (false, true, false, 0)
        ]
    );
    assert!(
        flags.contains(&(false, true, false, 19)),
        "the query: {flags:?}"
    );
    assert!(
        flags.contains(&(false, true, false, 2)),
        "the answer: {flags:?}"
    );
    assert_eq!(
        flags.iter().filter(|f| f.2).count(),
        2,
        "FIN both ways: {flags:?}"
    );
    // A 4 GiB name length: the player reads at most 64 bytes, then hangs up without answering.
    let mut hostile = vec![0xff, 0xff, 0xff, 0xff];
    hostile.extend(std::iter::repeat_n(b'A', 200));
    let (answer, closed, _) = port_query(hostile);
    assert!(answer.is_empty());
    assert!(closed);
}

/// A client on port 1051 asking for the metadata of track 1 as device `requester`; returns the
/// dbserver record types the engine reads from the capture, in order.
fn metadata_lookup(role: &str, requester: u8) -> Vec<String> {
    use crate::dbserver::message::SETUP_TRANSACTION_ID;
    use crate::dbserver::requests::{Dmst, MetadataRequest, SetupRequest};
    use crate::dbserver::Greeting;
    let mut ask = Greeting::default().to_bytes();
    ask.extend(
        SetupRequest {
            requester: requester as u32,
        }
        .to_message(SETUP_TRANSACTION_ID)
        .to_bytes(),
    );
    let dmst = Dmst {
        player: requester,
        menu: 1,
        slot: 3,
        track_type: 1,
    };
    ask.extend(
        MetadataRequest {
            dmst,
            rekordbox_id: 1,
        }
        .to_message(1)
        .to_bytes(),
    );
    let mut sim = Sim::new(Vec::new(), Ipv4Addr::new(169, 254, 255, 255)).unwrap();
    let p = sim.add(build(setup(role, 1, Numbering::Auto(1), 0)));
    let got = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), false)));
    sim.add(Box::new(Client {
        host: super::tests::host(9),
        to: SocketAddrV4::new(sim.device(p).address().ip, DB_PORT),
        query: ask,
        at: Some(5 * SECOND),
        got,
    }));
    sim.run(6 * SECOND).unwrap();
    let notes: Vec<String> = sim.notes.iter().map(|n| n.1.text.clone()).collect();
    let (pcap, ..) = sim.finish().unwrap();
    let mut reader =
        crate::capture::CaptureReader::new(Box::new(std::io::Cursor::new(pcap))).unwrap();
    let mut engine = crate::engine::Engine::new(crate::engine::EngineOptions::default());
    let mut kinds = Vec::new();
    let mut sink = |r: &crate::record::Record<'_>| {
        if r.dissection.proto == crate::dissect::Proto::DbServer {
            kinds.push(r.dissection.type_name.to_string());
        }
        std::ops::ControlFlow::Continue(())
    };
    while let Some(f) = reader.next_frame().unwrap() {
        let _ = engine.frame(&f, &mut sink);
    }
    let _ = engine.finish(&mut sink);
    assert_eq!(engine.stats().malformed, 0, "{}", engine.stats().line());
    kinds.push(notes.join(" | "));
    kinds
}

#[test]
fn the_dbserver_answers_allowed_requesters_and_refuses_others_as_the_model_does() {
    // A CDJ-2000NXS2 answers requesters 1-4: greeting, setup answer, metadata count.
    let k = metadata_lookup("cdj-2000nxs2", 2);
    assert!(k.contains(&"setup_request".to_string()), "{k:?}");
    assert_eq!(
        k.iter().filter(|t| *t == "menu_available").count(),
        2,
        "{k:?}"
    );
    assert!(
        k.last()
            .unwrap()
            .contains("request 2002 from device 2 answered 4000"),
        "{k:?}"
    );
    // Requester 5 is refused: no setup answer, the connection is closed.
    let k = metadata_lookup("cdj-2000nxs2", 5);
    assert_eq!(
        k.iter().filter(|t| *t == "menu_available").count(),
        0,
        "{k:?}"
    );
    assert!(
        k.last().unwrap().contains("Refused { requester: 5 }"),
        "{k:?}"
    );
    // A CDJ-3000 takes 5 and 6 (9.3).
    let k = metadata_lookup("cdj-3000", 5);
    assert_eq!(
        k.iter().filter(|t| *t == "menu_available").count(),
        2,
        "{k:?}"
    );
}

#[test]
fn cdjs_announce_their_usb_stick_at_power_up_and_xdjs_do_not() {
    for (role, announces) in [
        ("cdj-2000nxs2", true),
        ("cdj-3000", true),
        ("xdj-1000mk2", false),
    ] {
        let mut p = Player::new(setup(role, 1, Numbering::Auto(1), 0));
        let d = super::tests::datagrams(&run_timers(&mut p, 6 * SECOND));
        let media: Vec<_> = d
            .iter()
            .filter_map(|x| match &x.1 {
                Packet::MediaResponse(r) => Some((x.0, r.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(media.len(), usize::from(announces), "{role}");
        if let Some((to, r)) = media.first() {
            assert_eq!(*to, Destination::Broadcast(STATUS_PORT));
            assert_eq!(
                (r.slot, r.track_count, r.media_name().as_str()),
                (3, 8, "DJDISSECT")
            );
        }
    }
}

#[test]
fn a_track_played_to_its_end_stops_there_and_the_beats_stop() {
    let mut p = player("cdj-3000");
    let mut out = Outbox::new();
    assert!(p.command(
        6 * SECOND,
        &Command::Load {
            source: 0,
            slot: 0,
            track_id: 1
        },
        &mut out
    ));
    run_timers(&mut p, 7 * SECOND);
    // Track 1 lasts 245 s: start 2 s before its end.
    p.deck.cue_to(7 * SECOND, 243_000.0);
    assert!(p.command(7 * SECOND, &Command::Play, &mut out));
    let sent = run_timers(&mut p, 12 * SECOND);
    let beats: Vec<Nanos> = sent
        .iter()
        .filter(|(_, o)| matches!(o, Output::Datagram { to: Destination::Broadcast(BEAT_PORT), payload, .. } if payload[0x0a] == 0x28))
        .map(|(t, _)| *t)
        .collect();
    assert!(
        !beats.is_empty() && beats.iter().all(|&t| t <= 9 * SECOND),
        "{beats:?}"
    );
    let last = statuses(&super::tests::datagrams(&sent)).pop().unwrap();
    assert_eq!(last.play_state, 0x11, "end of track");
    assert!(!last.is_playing());
    assert!(
        !p.command(12 * SECOND, &Command::Play, &mut out),
        "PLAY at the end does nothing"
    );
    assert!(p.command(12 * SECOND, &Command::Cue, &mut out));
    assert!(p.command(12 * SECOND, &Command::Play, &mut out));
}
