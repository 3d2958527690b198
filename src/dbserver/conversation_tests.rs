use super::*;
use crate::dbserver::body::Body;
use crate::dbserver::field::{DbString, Field};
use crate::dbserver::requests::*;
use crate::dbserver::responses::*;
use crate::util::parse_hex;

fn msg(hex: &str) -> Message {
    Message::parse(&parse_hex(hex).unwrap()).unwrap().0
}

fn item(parent_id: u32, id: u32, item_type: u32, label: &str) -> Message {
    item_in(0x0380_0003, parent_id, id, item_type, label)
}

fn item_in(tx: u32, parent_id: u32, id: u32, item_type: u32, label: &str) -> Message {
    MenuItem {
        parent_id,
        id,
        item_type,
        label1: DbString::new(label),
        label2: DbString::new(""),
        ..MenuItem::default()
    }
    .to_message(tx)
}

/// usr-ein S10j: a metadata request for track 182, its 4000, the render and its answer
/// (header, 13 items, footer), all real bytes.
const S10J_METADATA: &[&str] = &[
    "11872349ae11038020f31020020f02140000000c060600000000000000000000110201030111000000b6",
    "11872349ae11038020f31040000f02140000000c0606000000000000000000001100002002110000000d",
    "11872349ae11038020f41030000f06140000000c06060606060600000000000011020103011100000000110000000d1100000000110000000d1100000000",
    "11872349ae11038020f41040010f02140000000c06060000000000000000000011000000011100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000111000000b611000000222600000011004d0065006300680061006e006900630061006c0020004d0061006e0069006100001100000002260000000100001100000004110100000011000000b0110000000011000001001100000000",
    "11872349ae11038020f41041010f0c140000000c0606060206020606060606061100000001110000006e110000001026000000080036002000530045004e005300450000110000000226000000010000110000000711000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c0606060206020606060606061100000001110000004d110000002c260000001600410053005700200056006100720069006f0075007300200041007200740069007300740073002000330000110000000226000000010000110000000211000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000011000001a9110000000226000000010000110000000226000000010000110000000b11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000011000038a4110000000226000000010000110000000226000000010000110000000d11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000011000000b6110000005c260000002e00680074007400700073003a002f002f006d0075007300690063002e0079006f00750074007500620065002e0063006f006d002f00770061007400630068003f0076003d003200510054006600350033006e00760069004100670000110000000226000000010000110000002311000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c06060602060206060606060611000000011100000002110000000826000000040031003100410000110000000226000000010000110000000f11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c06060602060206060606060611000000001100000005110000000226000000010000110000000226000000010000110000000a11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c06060602060206060606060611000000001100000000110000000226000000010000110000000226000000010000110000001311000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000111000000061100000016260000000b004800610072006400670072006f006f007600650000110000000226000000010000110000000611000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c060606020602060606060606110000000111000000b61100000016260000000b0032003000320034002d00310030002d003200340000110000000226000000010000110000002e11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c06060602060206060606060611000000011100000080110000000226000000010000110000000226000000010000110000001011000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41041010f0c140000000c06060602060206060606060611000000011100000000110000000226000000010000110000000226000000010000110000000e11000000001100000000110000000011000000001100000000",
    "11872349ae11038020f41042010f00140000000c000000000000000000000000",
];
const USB: Dmst = Dmst {
    player: 3,
    menu: 1,
    slot: 3,
    track_type: 1,
};

/// The first metadata exchange of LinkInfo.pcapng: requests are the real bytes; the ten items
/// are rebuilt with their real values (the title item is the real message).
fn linkinfo_first_metadata() -> Vec<(u64, Message)> {
    let title = msg("11872349ae11038000031041010f0c140000000c0606060206020606060606061100000001110000003211000000722600000039005400680069006e0067002000430061006c006c006500640020004c006f0076006500200028004d006100740020005a006f002000520065006d0069007800290020005b0066006500610074002e0020005200690063006800610072006400200042006500640066006f00720064005d000011000000022600000001000011000000041101000000110000002e110000000011000001001100000000");
    let mut v = vec![
        (10, msg("11872349ae11fffffffe1000000f01140000000c0600000000000000000000001100000003")),
        (11, msg("11872349ae11fffffffe1040000f02140000000c06060000000000000000000011000000001100000002")),
        (12, msg("11872349ae11038000021020020f02140000000c06060000000000000000000011030103011100000032")),
        (13, msg("11872349ae11038000021040000f02140000000c0606000000000000000000001100002002110000000a")),
        (14, msg("11872349ae11038000031030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a1100000000")),
        (15, msg("11872349ae11038000031040010f02140000000c06060000000000000000000011000000011100000000")),
        (15, title),
    ];
    for m in [
        item(1, 50, 0x07, "Above & Beyond"),
        item(
            0,
            42,
            0x02,
            "Thing Called Love (Feat. Richard Bedford) - EP",
        ),
        item(0, 512, 0x0b, ""),
        item(0, 12800, 0x0d, ""),
        item(0, 50, 0x23, "F#, 2b, +9"),
        item(1, 19, 0x0f, "F#"),
        item(1, 2, 0x0a, ""),
        item(0, 0, 0x13, ""),
        item(1, 3, 0x06, "Trance"),
    ] {
        v.push((16, m));
    }
    v.push((
        16,
        msg("11872349ae11038000031042010f00140000000c000000000000000000000000"),
    ));
    v
}

#[test]
fn metadata_exchange_in_words() {
    let mut c = Conversation::new();
    let mut completed = Vec::new();
    let mut observations = Vec::new();
    for (frame, m) in linkinfo_first_metadata() {
        let o = c.observe(frame, frame * 1_000_000, &m);
        completed.extend(o.completed.clone());
        observations.push((m.message_type, o));
    }
    assert_eq!(
        completed,
        vec![
            "player 3 opened a session with player 2".to_string(),
            "player 3 asked player 2 for the metadata of rekordbox track 50 in the USB slot -> \
             'Thing Called Love (Mat Zo Remix) [feat. Richard Bedford]' by 'Above & Beyond', 128.00 BPM, 8:32, key F#"
                .to_string(),
        ]
    );
    // Every response points at its request; requests point nowhere.
    for (t, o) in &observations {
        match *t {
            0x4000 | 0x4001 | 0x4101 | 0x4201 => assert!(o.request.is_some(), "{t:04x}"),
            _ => assert_eq!(o.request, None),
        }
    }
    let footer = &observations.last().unwrap().1;
    assert_eq!(
        footer.request.map(|r| (r.frame, r.message_type)),
        Some((14, 0x3000))
    );
    assert_eq!(footer.latency_ns, Some(2_000_000));
    assert_eq!(footer.latency_ms(), Some(2.0));
    let setup_answer = &observations[1].1;
    assert_eq!(
        setup_answer.request.map(|r| (r.frame, r.transaction_id)),
        Some((10, 0xffff_fffe))
    );
}

#[test]
fn single_response_exchanges() {
    let mut c = Conversation::new();
    c.set_server_player(2);
    let art = ArtworkRequest {
        dmst: Dmst { menu: 8, ..USB },
        artwork_id: 46,
        variant: None,
    };
    c.observe(1, 100, &art.to_message(7));
    let mut jpeg =
        parse_hex("ffd8ffe000104a46494600010100000100010000ffc0001108005000f003012200021101031101")
            .unwrap();
    jpeg.resize(1859, 0);
    let rsp = BlobResponse {
        message_type: 0x4002,
        request_type: 0x2003,
        unknown: 0,
        data: jpeg,
        trailing: vec![],
    };
    let o = c.observe(2, 350, &rsp.to_message(7));
    assert_eq!(
        o.completed.as_deref(),
        Some("player 3 asked player 2 for artwork 46 in the USB slot -> JPEG image, 1859 bytes, 240x80")
    );
    assert_eq!(
        (o.request.map(|r| r.frame), o.latency_ns),
        (Some(1), Some(250))
    );

    // Not found: the 4000 alone ends the exchange.
    c.observe(
        3,
        400,
        &MetadataRequest {
            dmst: USB,
            rekordbox_id: 999,
        }
        .to_message(8),
    );
    let o = c.observe(
        4,
        500,
        &MenuAvailable {
            request_type: 0x2002,
            count: NOT_FOUND,
        }
        .to_message(8),
    );
    assert_eq!(
        o.completed.as_deref(),
        Some("player 3 asked player 2 for the metadata of rekordbox track 999 in the USB slot -> not found")
    );

    // Unavailable.
    c.observe(5, 600, &UsbInfoRequest { dmst: USB }.to_message(9));
    let o = c.observe(
        6,
        700,
        &Unavailable {
            request_type: 0x3e03,
            extra: vec![0],
        }
        .to_message(9),
    );
    assert_eq!(
        o.completed.as_deref(),
        Some("player 3 asked player 2 for USB information about the USB slot -> unavailable")
    );

    // Requests without replies are told at once.
    let o = c.observe(7, 800, &Body::MenuClose.to_message(10));
    assert_eq!(o.completed.as_deref(), Some("player 3 closed the menu"));
}

#[test]
fn unknown_types_are_described_with_their_fields() {
    let mut c = Conversation::new();
    c.observe(
        1,
        0,
        &Message::new(5, 0x3903, vec![Field::U32(0x0301_0301), Field::U32(12)]),
    );
    let o = c.observe(
        2,
        10,
        &Message::new(
            5,
            0x4902,
            vec![Field::U32(0x3903), Field::Str(DbString::new("hi"))],
        ),
    );
    assert_eq!(
        o.completed.as_deref(),
        Some("player 3 asked the server for undocumented_3903 [50397953, 12] -> undocumented_4902 [14595, 'hi']")
    );
    assert_eq!(o.request.map(|r| r.message_type), Some(0x3903));
}

#[test]
fn menus_list_their_items_and_pages() {
    let mut c = Conversation::new();
    c.set_server_player(2);
    let root = MenuRequest::root_menu(Dmst { player: 1, ..USB });
    c.observe(1, 0, &root.to_message(0x10));
    assert_eq!(
        c.observe(
            2,
            1,
            &MenuAvailable {
                request_type: 0x1000,
                count: 12
            }
            .to_message(0x10)
        )
        .completed,
        None
    );
    c.observe(
        3,
        2,
        &RenderMenuRequest::new(Dmst { player: 1, ..USB }, 0, 3, 12).to_message(0x11),
    );
    c.observe(4, 3, &MenuHeader::default().to_message(0x11));
    for (i, name) in ["GENRE", "ARTIST", "ALBUM"].iter().enumerate() {
        let m = MenuItem {
            id: i as u32 + 1,
            item_type: 0x80 + i as u32,
            label1: DbString::new(&format!("\u{fffa}{name}\u{fffb}")),
            label2: DbString::new(""),
            ..MenuItem::default()
        };
        c.observe(4, 3, &m.to_message(0x11));
    }
    let o = c.observe(4, 3, &Body::MenuFooter.to_message(0x11));
    assert_eq!(
        o.completed.as_deref(),
        Some("player 1 asked player 2 for the root menu of the USB slot -> 3 items (from 0 of 12): GENRE, ARTIST, ALBUM")
    );
}

#[test]
fn a_render_whose_request_was_not_captured() {
    let mut c = Conversation::new();
    let o = c.observe(1, 0, &MenuHeader::default().to_message(0x22));
    assert_eq!(o.request, None);
    c.observe(1, 0, &item_in(0x22, 0, 1, 0x06, "House"));
    let o = c.observe(1, 0, &Body::MenuFooter.to_message(0x22));
    assert_eq!(
        o.completed.as_deref(),
        Some("a client asked the server something not captured -> 1 items: House")
    );
}

#[test]
fn forgotten_requests_are_bounded() {
    let mut c = Conversation::new();
    for tx in 0..(MAX_PENDING as u32 + 10) {
        c.observe(tx as u64, 0, &Message::new(tx, 0x3100, vec![]));
    }
    assert_eq!(c.pending.len(), MAX_PENDING);
    assert_eq!(
        c.observe(
            0,
            0,
            &MenuAvailable {
                request_type: 0x3100,
                count: 0
            }
            .to_message(0)
        )
        .request,
        None
    );
}

#[test]
fn s10j_thirteen_item_metadata() {
    let mut c = Conversation::new();
    let mut kinds = Vec::new();
    let mut last = Observation::default();
    for (i, hex) in S10J_METADATA.iter().enumerate() {
        let b = parse_hex(hex).unwrap();
        let (m, n) = Message::parse(&b).unwrap();
        assert_eq!((n, m.to_bytes()), (b.len(), b.clone()));
        let body = Body::from_message(&m).unwrap();
        assert_eq!(body.to_message(m.transaction_id).to_bytes(), b);
        if let Body::MenuItem(item) = body {
            kinds.push(item.kind_name().unwrap_or("?"));
        }
        last = c.observe(i as u64, i as u64 * 1000, &m);
    }
    assert_eq!(
        kinds,
        [
            "title",
            "artist",
            "album",
            "duration",
            "tempo",
            "comment",
            "key",
            "rating",
            "color",
            "genre",
            "date_added",
            "bitrate",
            "label"
        ]
    );
    assert_eq!(
        last.completed.as_deref(),
        Some("player 2 asked the server for the metadata of rekordbox track 182 in the USB slot -> 'Mechanical Mania' by '6 SENSE', 145.00 BPM, 7:05, key 11A")
    );
    assert_eq!(
        last.request.map(|r| (r.frame, r.transaction_id)),
        Some((2, 0x0380_20f4))
    );
    assert_eq!(last.latency_ns, Some(15_000));
}

/// A hostile stream: renders whose requests were not captured, each followed by many huge
/// "menu items", and huge requests that are never answered. What the conversation keeps
/// stays within its byte budget (it would otherwise grow to gigabytes).
#[test]
fn held_messages_stay_within_the_byte_budget() {
    let mut c = Conversation::new();
    let big = Field::Blob(vec![0x42; 64 * 1024]);
    for tx in 0..40u32 {
        c.observe(1, 0, &Message::new(tx, 0x4001, Vec::new()));
        for _ in 0..300 {
            c.observe(1, 0, &Message::new(tx, 0x4101, vec![big.clone()]));
            assert!(c.held <= MAX_HELD_BYTES, "{}", c.held);
        }
    }
    for tx in 100..2000u32 {
        c.observe(
            1,
            0,
            &Message::new(tx, 0x2002, vec![Field::U32(0), big.clone()]),
        );
        assert!(c.held <= MAX_HELD_BYTES, "{}", c.held);
    }
    let expected: usize = c.pending.values().map(Pending::held_bytes).sum();
    assert_eq!(c.held, expected);
    // Answers still pair with what is kept.
    let last = c.observe(
        2,
        10,
        &Message::new(1999, 0x4000, vec![Field::U32(1), Field::U32(0)]),
    );
    assert!(last.request.is_some());
    assert_eq!(
        c.held,
        c.pending.values().map(Pending::held_bytes).sum::<usize>()
    );
}

/// The exchange S05 shows at frames 692-711: the main menu holds the playlist folder (27
/// items) while the right-hand submenu opens playlist 17 (9 items); the next render asks the
/// main menu for items 12-17 of 27. Its answer belongs to the folder, not to playlist 17.
#[test]
fn renders_pair_with_the_menu_at_their_location() {
    let mut c = Conversation::new();
    c.set_server_player(2);
    let main = Dmst { player: 1, ..USB };
    let sub = Dmst {
        menu: menu_location::SUBMENU,
        ..main
    };
    let playlist = |dmst, id, folder| MenuRequest {
        message_type: 0x1105,
        dmst,
        params: vec![0, id, folder],
    };
    let available = |count| MenuAvailable {
        request_type: 0x1105,
        count,
    };
    let render = |c: &mut Conversation, frame, tx, dmst, offset, total, names: &[&str]| {
        c.observe(
            frame,
            0,
            &RenderMenuRequest::new(dmst, offset, 6, total).to_message(tx),
        );
        c.observe(frame + 1, 1, &MenuHeader::default().to_message(tx));
        for (i, name) in names.iter().enumerate() {
            c.observe(frame + 1, 1, &item_in(tx, 0, i as u32, 0x01, name));
        }
        c.observe(frame + 1, 1, &Body::MenuFooter.to_message(tx))
            .completed
            .unwrap()
    };
    c.observe(1, 0, &playlist(main, 0, 1).to_message(0x20));
    c.observe(2, 0, &available(27).to_message(0x20));
    c.observe(3, 0, &playlist(sub, 17, 0).to_message(0x21));
    c.observe(4, 0, &available(9).to_message(0x21));
    let submenu = render(&mut c, 5, 0x22, sub, 0, 9, &["Freaking"]);
    assert!(submenu.contains("playlist 17"), "{submenu}");
    let main_page = render(&mut c, 7, 0x23, main, 12, 27, &["Vocals", "PunchyBass"]);
    assert_eq!(
        main_page,
        "player 1 asked player 2 for folder 0 of playlists in the USB slot -> 2 items (from 12 of 27): Vocals, PunchyBass"
    );
    // A new menu at the main location replaces the folder there; the submenu's stays.
    c.observe(9, 0, &playlist(main, 3, 0).to_message(0x24));
    c.observe(10, 0, &available(15).to_message(0x24));
    let again = render(&mut c, 11, 0x25, sub, 6, 9, &["Clsd"]);
    assert!(
        again.contains("playlist 17") && again.contains("(from 6 of 9)"),
        "{again}"
    );
    assert_eq!(c.prepared.len(), 2);
}

/// Issue 11: a metadata answer that gives a track 1.5 billion seconds (and a tempo no player
/// can carry) is told with those values flagged, and the track does not take them.
#[test]
fn implausible_metadata_is_flagged_not_taken() {
    let mut c = Conversation::new();
    c.set_server_player(2);
    let dmst = Dmst { player: 3, ..USB };
    let request = MetadataRequest {
        dmst,
        rekordbox_id: 50,
    };
    c.observe(1, 0, &request.to_message(0x30));
    c.observe(
        2,
        1,
        &MenuAvailable {
            request_type: u32::from(MetadataRequest::TYPE),
            count: 3,
        }
        .to_message(0x30),
    );
    c.observe(
        3,
        2,
        &RenderMenuRequest::new(dmst, 0, 3, 3).to_message(0x31),
    );
    c.observe(4, 3, &MenuHeader::default().to_message(0x31));
    for m in [
        item_in(0x31, 0, 50, 0x04, "Long One"),
        item_in(0x31, 0, 1_500_000_000, 0x0b, ""),
        item_in(0x31, 0, 100_000_000, 0x0d, ""),
    ] {
        c.observe(4, 3, &m);
    }
    let o = c.observe(4, 3, &Body::MenuFooter.to_message(0x31));
    assert_eq!(
        o.completed.as_deref(),
        Some("player 3 asked player 2 for the metadata of rekordbox track 50 in the USB slot -> 'Long One', 1000000.00 (implausible) BPM, 1500000000 s (implausible)")
    );
    let track = o.track.unwrap();
    assert_eq!(
        (track.title.as_deref(), track.duration_s, track.bpm),
        (Some("Long One"), None, None)
    );
}
