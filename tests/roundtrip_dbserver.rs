//! `parse(emit(r)) == r` for dbserver fields, generic messages and every typed body, over
//! values built from arbitrary fields.

use proptest::collection::vec;
use proptest::prelude::*;

use djdissect::dbserver::requests::*;
use djdissect::dbserver::responses::*;
use djdissect::dbserver::{self, Body, DbString, Dmst, Field, Greeting, MenuItem, Message};

fn db_string() -> impl Strategy<Value = DbString> {
    prop_oneof![
        // Code units as sent: unpaired surrogates and a missing NUL survive too.
        vec(any::<u16>(), 0..16).prop_map(DbString::from_units),
        ".{0,12}".prop_map(|s: String| DbString::new(&s)),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        any::<u8>().prop_map(Field::U8),
        any::<u16>().prop_map(Field::U16),
        prop_oneof![Just(0u32), any::<u32>()].prop_map(Field::U32),
        vec(any::<u8>(), 0..48).prop_map(Field::Blob),
        db_string().prop_map(Field::Str),
    ]
}

/// A message with up to 12 arguments. A declared blob may be left out (`None`) right after a
/// number 0 (its length), as senders do (`prodjlink.md` 7.2), unless a blob follows: the wire
/// cannot tell those two apart, so such a message is not built.
fn message() -> impl Strategy<Value = Message> {
    (
        any::<u32>(),
        any::<u16>(),
        vec((field(), any::<bool>()), 0..=12),
        any::<[u8; 12]>(),
    )
        .prop_map(|(tx, ty, fields, tags)| {
            let mut args: Vec<Option<Field>> = Vec::new();
            for (i, (f, omit_next)) in fields.iter().enumerate() {
                if args.len() == 12 {
                    break;
                }
                args.push(Some(f.clone()));
                let blob_next = matches!(fields.get(i + 1), Some((Field::Blob(_), _)));
                if *omit_next && f.as_number() == Some(0) && !blob_next && args.len() < 12 {
                    args.push(None);
                }
            }
            let mut m = Message::with_optional_args(tx, ty, args);
            // Tags past the argument count are free (they are kept as sent).
            let n = m.args.len();
            m.arg_tags[n..].copy_from_slice(&tags[n..]);
            m
        })
}

fn dmst() -> impl Strategy<Value = Dmst> {
    any::<[u8; 4]>().prop_map(|[player, menu, slot, track_type]| Dmst {
        player,
        menu,
        slot,
        track_type,
    })
}

fn menu_item() -> impl Strategy<Value = MenuItem> {
    (any::<[u32; 8]>(), db_string(), db_string()).prop_map(|(n, label1, label2)| MenuItem {
        parent_id: n[0],
        id: n[1],
        label1,
        label2,
        item_type: n[2],
        flags: n[3],
        artwork_id: n[4],
        position: n[5],
        unknown_11: n[6],
        unknown_12: n[7],
    })
}

/// Every typed body, from arbitrary values within each type's layout.
fn body() -> impl Strategy<Value = Body> {
    let menu_type = prop_oneof![0x1000u16..0x1900, Just(0x2006)]
        .prop_filter("menu type", |t| MenuRequest::is_menu_type(*t));
    prop_oneof![
        any::<u32>().prop_map(|requester| Body::Setup(SetupRequest { requester })),
        Just(Body::MenuClose),
        Just(Body::Teardown),
        (menu_type, dmst(), vec(any::<u32>(), 0..=11)).prop_map(|(message_type, dmst, params)| {
            Body::Menu(MenuRequest {
                message_type,
                dmst,
                params,
            })
        }),
        (dmst(), any::<u32>(), db_string(), any::<u32>()).prop_map(
            |(dmst, sort, text, unknown)| Body::Search(SearchRequest {
                dmst,
                sort,
                text,
                unknown
            })
        ),
        (dmst(), any::<u32>()).prop_map(|(dmst, rekordbox_id)| Body::Metadata(MetadataRequest {
            dmst,
            rekordbox_id
        })),
        (dmst(), any::<u32>()).prop_map(|(dmst, rekordbox_id)| {
            Body::UnanalyzedMetadata(MetadataRequest { dmst, rekordbox_id })
        }),
        (
            0..TrackDataRequest::TYPES.len(),
            dmst(),
            any::<u32>(),
            vec(any::<u32>(), 0..=10)
        )
            .prop_map(
                |(i, dmst, rekordbox_id, extra)| Body::TrackData(TrackDataRequest {
                    message_type: TrackDataRequest::TYPES[i],
                    dmst,
                    rekordbox_id,
                    extra,
                })
            ),
        (dmst(), any::<u32>(), proptest::option::of(any::<u32>())).prop_map(
            |(dmst, artwork_id, variant)| Body::Artwork(ArtworkRequest {
                dmst,
                artwork_id,
                variant
            })
        ),
        (dmst(), any::<u32>(), any::<u32>()).prop_map(|(dmst, unknown, rekordbox_id)| {
            Body::WaveformPreview(WaveformPreviewRequest {
                dmst,
                unknown,
                rekordbox_id,
            })
        }),
        (dmst(), any::<[u32; 3]>()).prop_map(|(dmst, [rekordbox_id, tag, file])| {
            Body::AnlzTag(AnlzTagRequest {
                dmst,
                rekordbox_id,
                tag,
                file,
            })
        }),
        (dmst(), any::<[u32; 5]>()).prop_map(|(dmst, n)| Body::RenderMenu(RenderMenuRequest {
            dmst,
            offset: n[0],
            limit: n[1],
            unknown_4: n[2],
            total: n[3],
            unknown_6: n[4],
        })),
        dmst().prop_map(|dmst| Body::UsbInfoRequest(UsbInfoRequest { dmst })),
        any::<[u32; 2]>().prop_map(|[request_type, count]| {
            Body::MenuAvailable(MenuAvailable {
                request_type,
                count,
            })
        }),
        any::<[u32; 2]>().prop_map(|unknown| Body::MenuHeader(MenuHeader { unknown })),
        menu_item().prop_map(Body::MenuItem),
        Just(Body::MenuFooter),
        (any::<u32>(), vec(any::<u32>(), 0..=11)).prop_map(|(request_type, extra)| {
            Body::Unavailable(Unavailable {
                request_type,
                extra,
            })
        }),
        (
            0..BlobResponse::TYPES.len(),
            any::<[u32; 2]>(),
            vec(any::<u8>(), 0..64),
            vec(any::<u32>(), 0..=8)
        )
            .prop_map(|(i, [request_type, unknown], data, trailing)| {
                Body::Blob(BlobResponse {
                    message_type: BlobResponse::TYPES[i],
                    request_type,
                    unknown,
                    data,
                    trailing,
                })
            }),
        (
            any::<[u32; 5]>(),
            vec(any::<u8>(), 0..64),
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(n, cues, extra)| Body::CueList(CueListResponse {
                request_type: n[0],
                unknown_2: n[1],
                cues,
                unknown_5: n[2],
                hot_cue_count: n[3],
                memory_point_count: n[4],
                extra,
            })),
        (any::<[u32; 3]>(), db_string()).prop_map(|([request_type, unknown_2, player], text)| {
            Body::UsbInfo(UsbInfo {
                request_type,
                unknown_2,
                player,
                text,
            })
        }),
    ]
}

proptest! {
    #[test]
    fn field_round_trips(f in field()) {
        let b = f.to_bytes();
        prop_assert_eq!(b.len(), f.buffer_len());
        prop_assert_eq!(Field::parse(&b), Ok((f, b.len())));
    }

    #[test]
    fn message_round_trips(m in message()) {
        let b = m.to_bytes();
        prop_assert_eq!(b.len(), m.buffer_len());
        prop_assert_eq!(Message::parse(&b), Ok((m.clone(), b.len())));
        let d = dbserver::dissect(&b, true);
        prop_assert!(d.malformed.is_none(), "{:?}", d.malformed);
    }

    /// A typed body makes a message that parses back into the same body.
    #[test]
    fn typed_body_round_trips(body in body(), tx in any::<u32>()) {
        let m = body.to_message(tx);
        let b = m.to_bytes();
        let (parsed, n) = Message::parse(&b).unwrap();
        prop_assert_eq!(n, b.len());
        prop_assert_eq!(&parsed, &m);
        prop_assert_eq!(Body::from_message(&parsed), Some(body));
        let d = dbserver::dissect(&b, true);
        prop_assert!(d.malformed.is_none(), "{:?}", d.malformed);
    }

    #[test]
    fn greeting_and_port_query_round_trip(value in any::<u32>(), port in any::<u16>()) {
        let g = Greeting { value };
        prop_assert_eq!(Greeting::parse(&g.to_bytes()), Ok((g, 5)));
        let a = dbserver::PortAnswer { port };
        prop_assert_eq!(dbserver::PortAnswer::parse(&a.to_bytes()), Ok((a, 2)));
    }
}
