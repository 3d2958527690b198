//! Sessions driven with real client request bytes (prolink-connect's, a CDJ's from the
//! captures) and with hostile input; every answer is read back with the project's parser.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::dbserver::blobs::{
    extended_cues, nexus_cues, BeatGrid, Emit, WaveformDetail, WaveformPreview,
};
use crate::dbserver::requests::*;
use crate::dbserver::responses::*;
use crate::dbserver::{Body, Framed, Greeting, Message, MessageFramer};
use crate::device::library::{Library, MARATHON_LEN, MARATHON_PLAYLIST};
use crate::util::parse_hex;

/// Built once: the covers are encoded when the library is built.
fn library() -> Arc<Library> {
    static LIB: std::sync::OnceLock<Arc<Library>> = std::sync::OnceLock::new();
    LIB.get_or_init(|| Arc::new(Library::demo())).clone()
}

/// Every message in `bytes`, after the greeting; panics on anything the framer does not name.
fn answers(bytes: &[u8]) -> Vec<Message> {
    let mut f = MessageFramer::new();
    let mut out = Vec::new();
    for x in f.push(bytes).into_iter().chain(f.finish()) {
        match x {
            Framed::Message { message, bytes, .. } => {
                assert_eq!(message.to_bytes(), bytes);
                out.push(message);
            }
            Framed::Greeting { greeting, .. } => assert_eq!(greeting, Greeting::default()),
            other => panic!("server sent something unreadable: {other:?}"),
        }
    }
    out
}

/// A session past greeting and setup with requester `d`.
fn ready(rules: ServerRules, d: u32) -> (DbServerSession, Vec<u8>) {
    let mut s = DbServerSession::new(library(), rules);
    let mut out = Vec::new();
    let mut hello = Greeting::default().to_bytes();
    hello.extend(
        SetupRequest { requester: d }
            .to_message(SETUP_TX)
            .to_bytes(),
    );
    assert_eq!(s.on_bytes(&hello, &mut out), Verdict::Keep);
    let got = answers(&out);
    assert_eq!(
        got,
        [MenuAvailable {
            request_type: 0,
            count: rules.own_number as u32
        }
        .to_message(SETUP_TX)]
    );
    assert_eq!(s.requester(), Some(d as u8));
    (s, Vec::new())
}

const SETUP_TX: u32 = crate::dbserver::message::SETUP_TRANSACTION_ID;

/// prolink-connect's DMST (`clients.md` 3.3(c)): requester 5, menu 1, USB, rekordbox.
const PC_DMST: Dmst = Dmst {
    player: 5,
    menu: 1,
    slot: 3,
    track_type: 1,
};

fn ask(s: &mut DbServerSession, m: Message) -> Vec<Message> {
    let mut out = Vec::new();
    assert_eq!(s.on_bytes(&m.to_bytes(), &mut out), Verdict::Keep);
    answers(&out)
}

#[test]
fn prolink_connect_metadata_lookup() {
    // The steps of clients.md 3.3(c) against a CDJ-3000 (requester 5 is accepted there).
    let (mut s, _) = ready(ServerRules::cdj3000(2), 5);
    let got = ask(
        &mut s,
        MetadataRequest {
            dmst: PC_DMST,
            rekordbox_id: 1,
        }
        .to_message(1),
    );
    assert_eq!(
        Body::from_message(&got[0]),
        Some(Body::MenuAvailable(MenuAvailable {
            request_type: 0x2002,
            count: 13
        }))
    );
    // prolink-connect's render: offset 0, count, 0, total, 0x0c.
    let mut render = RenderMenuRequest::new(PC_DMST, 0, 13, 13);
    render.unknown_6 = 0x0c;
    let got = ask(&mut s, render.to_message(2));
    assert_eq!(got.len(), 15);
    assert_eq!(got[0].message_type, MenuHeader::TYPE);
    assert_eq!(got[14].message_type, MENU_FOOTER_TYPE);
    let items: Vec<_> = got[1..14]
        .iter()
        .map(|m| match Body::from_message(m) {
            Some(Body::MenuItem(i)) => i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(items[0].label1.text(), "Loopback Anthem");
    for kind in [0x04, 0x0b, 0x0d, 0x23, 0x0a] {
        assert!(items.iter().any(|i| i.kind() == kind), "item {kind:02x}");
    }
    assert!(got.iter().all(|m| m.transaction_id == 2));
    let ex = s.take_exchanges();
    assert_eq!(ex.len(), 3);
    assert_eq!(ex[1].answer_type, Some(0x4000));
}

#[test]
fn data_answers_parse_as_their_kinds() {
    let lib = library();
    let t = lib.track(3).unwrap().clone();
    let (mut s, _) = ready(ServerRules::nexus(2), 3);
    let dmst = Dmst {
        player: 3,
        menu: 8,
        slot: 3,
        track_type: 1,
    };
    let data = |ty, extra: Vec<u32>| TrackDataRequest {
        message_type: ty,
        dmst,
        rekordbox_id: 3,
        extra,
    };
    // Beat grid: every beat of the library's grid.
    let got = ask(&mut s, data(0x2204, vec![]).to_message(10));
    let grid = BeatGrid::parse(got[0].blob(3).unwrap()).unwrap();
    assert_eq!(got[0].message_type, 0x4602);
    assert_eq!(grid.beats.len() as u32, t.beat_count());
    assert_eq!(grid.beats[5].time_ms, t.beat_time_ms(5));
    assert_eq!(grid.beats[5].beat_in_bar, 2);
    assert_eq!(got[0].number(4), Some(0));
    // Nexus cue list: hot cues A-C and the two memory points, in 1/150 s.
    let got = ask(&mut s, data(0x2104, vec![]).to_message(11));
    let Some(Body::CueList(list)) = Body::from_message(&got[0]) else {
        panic!("{:?}", got[0]);
    };
    assert_eq!((list.hot_cue_count, list.memory_point_count), (3, 2));
    let cues = nexus_cues(&list.cues);
    assert_eq!(cues.len(), 5);
    assert_eq!(cues[0].position, t.first_beat_ms * 150 / 1000);
    assert!(cues[4].is_loop && cues[4].loop_end.is_some());
    // Extended list: comments and colours survive.
    let got = ask(&mut s, data(0x2b04, vec![0]).to_message(12));
    assert_eq!(got[0].message_type, 0x4e02);
    let ext = extended_cues(got[0].blob(3).unwrap(), got[0].number(4).unwrap());
    assert_eq!(ext.len(), 5);
    let drop = ext.iter().find(|c| c.comment == "drop").unwrap();
    assert_eq!(
        drop.hot_cue_color,
        Some([0x16, 0x28, 0xe2, 0x14]),
        "green, BL's code 0x16"
    );
    assert!(ext
        .iter()
        .filter(|c| c.cue.hot_cue == 0)
        .all(|c| c.hot_cue_color.is_none()));
    // Waveforms.
    let got = ask(
        &mut s,
        WaveformPreviewRequest {
            dmst,
            unknown: 4,
            rekordbox_id: 3,
        }
        .to_message(13),
    );
    assert_eq!(got[0].message_type, 0x4402);
    assert_eq!(
        WaveformPreview::parse(got[0].blob(3).unwrap())
            .to_bytes()
            .len(),
        900
    );
    let got = ask(&mut s, data(0x2904, vec![0]).to_message(14));
    let detail = WaveformDetail::parse(got[0].blob(3).unwrap()).unwrap();
    assert_eq!(detail.columns.len() as u32, t.duration_s * 150);
    // Artwork, normal and hi-res.
    for (variant, side) in [(None, 80), (Some(1), 240)] {
        let got = ask(
            &mut s,
            ArtworkRequest {
                dmst,
                artwork_id: t.artwork_id,
                variant,
            }
            .to_message(15),
        );
        let info = crate::dbserver::blobs::image_info(got[0].blob(3).unwrap());
        assert_eq!((info.format, info.width), ("jpeg", Some(side)));
    }
    // Track info carries the path.
    let got = ask(&mut s, data(0x2102, vec![]).to_message(16));
    assert_eq!(got[0].number(1), Some(6));
    let got = ask(&mut s, RenderMenuRequest::new(dmst, 0, 6, 6).to_message(17));
    assert!(got
        .iter()
        .any(|m| m.string(3).is_some_and(|p| p.text() == t.file_path)));
}

#[test]
fn paging_through_a_500_item_menu() {
    let (mut s, _) = ready(ServerRules::nexus(2), 1);
    let dmst = Dmst {
        player: 1,
        menu: 1,
        slot: 3,
        track_type: 1,
    };
    let playlist = MenuRequest {
        message_type: 0x1105,
        dmst,
        params: vec![0, MARATHON_PLAYLIST, 0],
    };
    let got = ask(&mut s, playlist.to_message(0x0380_0001));
    assert_eq!(got[0].number(1), Some(MARATHON_LEN as u32));
    let lib = library();
    let want = lib.playlist_tracks(MARATHON_PLAYLIST);
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < MARATHON_LEN as u32 {
        let got = ask(
            &mut s,
            RenderMenuRequest::new(dmst, offset, 64, 500).to_message(offset + 2),
        );
        let rows: Vec<_> = got
            .iter()
            .filter_map(|m| match Body::from_message(m) {
                Some(Body::MenuItem(i)) => Some(i),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), (MARATHON_LEN - offset as usize).min(64));
        seen.extend(rows);
        offset += 64;
    }
    assert_eq!(seen.len(), 500);
    for (i, row) in seen.iter().enumerate() {
        assert_eq!((row.id, row.position), (want[i].id, i as u32 + 1));
    }
    // Past the end: header and footer only. A different menu location keeps its own menu.
    let got = ask(
        &mut s,
        RenderMenuRequest::new(dmst, 600, 64, 500).to_message(99),
    );
    assert_eq!(got.len(), 2);
    let other = Dmst { menu: 2, ..dmst };
    ask(&mut s, MenuRequest::root_menu(other).to_message(100));
    let got = ask(
        &mut s,
        RenderMenuRequest::new(dmst, 499, 64, 500).to_message(101),
    );
    assert_eq!(got.len(), 3, "menu 1 still holds the playlist");
}

#[test]
fn refused_requesters() {
    for (rules, d) in [
        (ServerRules::nexus(2), 5),
        (ServerRules::nexus(2), 2),
        (ServerRules::cdj3000(2), 7),
        (ServerRules::rekordbox(17), 0),
    ] {
        let mut s = DbServerSession::new(library(), rules);
        let mut out = Vec::new();
        let mut b = Greeting::default().to_bytes();
        b.extend(
            SetupRequest { requester: d }
                .to_message(SETUP_TX)
                .to_bytes(),
        );
        // A request pipelined behind the refused setup is never answered.
        b.extend(MenuRequest::root_menu(PC_DMST).to_message(1).to_bytes());
        assert_eq!(s.on_bytes(&b, &mut out), Verdict::Close, "{rules:?} {d}");
        let got = answers(&out);
        assert_eq!(got.len(), 1);
        assert_eq!(
            Body::from_message(&got[0]),
            Some(Body::Unavailable(Unavailable {
                request_type: 0,
                extra: vec![]
            }))
        );
        assert_eq!(
            s.close_reason(),
            Some(&CloseReason::Refused { requester: d })
        );
        assert_eq!(s.on_bytes(&b, &mut out), Verdict::Close);
    }
    ready(ServerRules::rekordbox(17), 7);
}

#[test]
fn unknown_and_special_requests() {
    let (mut s, _) = ready(ServerRules::nexus(3), 2);
    // S10j's 3100 and its bare 4000.
    let req3100 = parse_hex("11872349ae11038020fb1031000f04140000000c060606060000000000000000110203030111000000b611000000001100000000").unwrap();
    let mut out = Vec::new();
    assert_eq!(s.on_bytes(&req3100, &mut out), Verdict::Keep);
    let got = answers(&out);
    assert_eq!(
        got[0],
        MenuAvailable {
            request_type: 0x3100,
            count: 0
        }
        .to_message(0x0380_20fb)
    );
    // LinkInfo's 3e03 and the 4b02 naming the server.
    let usb =
        parse_hex("11872349ae1103800001103e030f01140000000c0600000000000000000000001103010301")
            .unwrap();
    let mut out = Vec::new();
    s.on_bytes(&usb, &mut out);
    assert!(
        matches!(Body::from_message(&answers(&out)[0]), Some(Body::UsbInfo(u)) if u.player == 3)
    );
    // Unknown types, colour waveforms, VBR, another slot, a missing track: 4003 naming it.
    let anlz = AnlzTagRequest {
        dmst: PC_DMST,
        rekordbox_id: 1,
        tag: 0x3456_5750,
        file: 0x0054_5845,
    };
    let sd = Dmst { slot: 2, ..PC_DMST };
    for (m, ty) in [
        (Message::new(7, 0x7777, vec![]), 0x7777),
        (anlz.to_message(8), 0x2c04),
        (
            TrackDataRequest {
                message_type: 0x2504,
                dmst: PC_DMST,
                rekordbox_id: 1,
                extra: vec![],
            }
            .to_message(9),
            0x2504,
        ),
        (MenuRequest::root_menu(sd).to_message(10), 0x1000),
        (
            TrackDataRequest {
                message_type: 0x2204,
                dmst: PC_DMST,
                rekordbox_id: 99,
                extra: vec![],
            }
            .to_message(11),
            0x2204,
        ),
        (
            MenuAvailable {
                request_type: 1,
                count: 2,
            }
            .to_message(12),
            0x4000,
        ),
    ] {
        let got = ask(&mut s, m);
        assert_eq!(got[0].message_type, Unavailable::TYPE);
        assert_eq!(got[0].number(0), Some(ty));
    }
    // A missing track's metadata: 4000 with ffffffff.
    let got = ask(
        &mut s,
        MetadataRequest {
            dmst: PC_DMST,
            rekordbox_id: 99,
        }
        .to_message(13),
    );
    assert_eq!(got[0].number(1), Some(NOT_FOUND));
    // Menu close: no answer. Teardown: no answer, close.
    let mut out = Vec::new();
    assert_eq!(
        s.on_bytes(&Message::new(14, 0x0001, vec![]).to_bytes(), &mut out),
        Verdict::Keep
    );
    assert!(out.is_empty());
    assert_eq!(
        s.on_bytes(&Message::new(SETUP_TX, 0x0100, vec![]).to_bytes(), &mut out),
        Verdict::Close
    );
    assert!(out.is_empty());
    assert_eq!(s.close_reason(), Some(&CloseReason::Teardown));
}

#[test]
fn hostile_input_closes_cleanly() {
    // Garbage instead of a greeting.
    let mut s = DbServerSession::new(library(), ServerRules::nexus(2));
    let mut out = Vec::new();
    assert_eq!(
        s.on_bytes(b"GET / HTTP/1.1\r\n\r\n", &mut out),
        Verdict::Close
    );
    assert!(out.is_empty());
    // A blob of 4 GiB - 1: closed at once, nothing buffered.
    let (mut s, mut out) = ready(ServerRules::nexus(2), 1);
    let mut m = parse_hex(
        "11872349ae1100000001102002 0f02 140000000c060300000000000000000000 1101030301 14ffffffff",
    )
    .unwrap();
    m.extend([0u8; 100]);
    assert_eq!(s.on_bytes(&m, &mut out), Verdict::Close);
    assert_eq!(s.close_reason(), Some(&CloseReason::TooLarge));
    assert!(out.is_empty());
    // A message without a greeting.
    let mut s = DbServerSession::new(library(), ServerRules::nexus(2));
    let b = MenuRequest::root_menu(PC_DMST).to_message(1).to_bytes();
    assert_eq!(s.on_bytes(&b, &mut Vec::new()), Verdict::Close);
    assert_eq!(s.close_reason(), Some(&CloseReason::NoGreeting));
    // A client that never reads: its queue grows past the bound, the session closes.
    let limits = Limits {
        max_backlog: 64 << 10,
        ..Limits::default()
    };
    let mut s = DbServerSession::with_limits(library(), ServerRules::nexus(2), limits);
    let mut queue = Vec::new();
    let mut hello = Greeting::default().to_bytes();
    hello.extend(
        SetupRequest { requester: 1 }
            .to_message(SETUP_TX)
            .to_bytes(),
    );
    s.on_bytes(&hello, &mut queue);
    let detail = TrackDataRequest {
        message_type: 0x2904,
        dmst: PC_DMST,
        rekordbox_id: 8,
        extra: vec![0],
    };
    let mut rounds = 0;
    while s.on_bytes(&detail.to_message(rounds).to_bytes(), &mut queue) == Verdict::Keep {
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(s.close_reason(), Some(&CloseReason::NotReading));
    assert!(queue.len() < limits.max_backlog + 200_000);
}

#[test]
fn one_byte_at_a_time_gives_the_same_answers() {
    let mut client = Greeting::default().to_bytes();
    client.extend(
        SetupRequest { requester: 2 }
            .to_message(SETUP_TX)
            .to_bytes(),
    );
    client.extend(
        MetadataRequest {
            dmst: PC_DMST,
            rekordbox_id: 2,
        }
        .to_message(1)
        .to_bytes(),
    );
    client.extend(
        RenderMenuRequest::new(PC_DMST, 0, 13, 13)
            .to_message(2)
            .to_bytes(),
    );
    let whole = {
        let mut s = DbServerSession::new(library(), ServerRules::nexus(3));
        let mut out = Vec::new();
        assert_eq!(s.on_bytes(&client, &mut out), Verdict::Keep);
        out
    };
    let mut s = DbServerSession::new(library(), ServerRules::nexus(3));
    let mut out = Vec::new();
    for b in &client {
        assert_eq!(s.on_bytes(std::slice::from_ref(b), &mut out), Verdict::Keep);
        assert!(s.buffered() <= client.len());
    }
    assert_eq!(out, whole);
    assert_eq!(answers(&out).len(), 2 + 15);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes, whole or in pieces, before or after a proper setup: no panic, the
    /// buffer stays within its bound, and everything sent parses as messages.
    #[test]
    fn arbitrary_bytes_never_panic(
        setup in any::<bool>(),
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
    ) {
        let limits = Limits::default();
        let mut s = DbServerSession::new(library(), ServerRules::nexus(2));
        let mut out = Vec::new();
        if setup {
            let mut hello = Greeting::default().to_bytes();
            hello.extend(SetupRequest { requester: 1 }.to_message(SETUP_TX).to_bytes());
            s.on_bytes(&hello, &mut out);
        }
        for c in &chunks {
            if s.on_bytes(c, &mut out) == Verdict::Close {
                break;
            }
            prop_assert!(s.buffered() <= limits.max_request);
        }
        prop_assert!(out.len() <= limits.max_backlog + 200_000);
        answers(&out);
    }

    /// Well-formed requests of any type with arbitrary number arguments: every one answered
    /// (or, for 0001/0100, deliberately not), never a panic.
    #[test]
    fn arbitrary_requests_are_answered(ty in any::<u16>(), args in proptest::collection::vec(any::<u32>(), 0..6)) {
        let (mut s, _) = ready(ServerRules::rekordbox(17), 5);
        let m = Message::new(42, ty, args.into_iter().map(crate::dbserver::Field::U32).collect());
        let mut out = Vec::new();
        let v = s.on_bytes(&m.to_bytes(), &mut out);
        let got = answers(&out);
        if ty == 0x0001 || (ty == 0x0100 && m.args.is_empty()) {
            prop_assert!(got.is_empty());
        } else {
            prop_assert_eq!(v, Verdict::Keep);
            prop_assert!(!got.is_empty());
        }
    }
}
