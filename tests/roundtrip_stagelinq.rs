//! `parse(emit(r)) == r` for every StageLinQ Repr (discovery, EAAS, directory, StateMap,
//! BeatInfo, FileTransfer, TimeSynchronization, Broadcast, Syncing), over values built from
//! arbitrary fields. Each message also goes through the stream decoder of its connection
//! kind, which must cut it out whole and parse it to the same value.

use proptest::collection::vec;
use proptest::prelude::*;

use djdissect::stagelinq::beatinfo::{BeatEmit, BeatInfoMessage, DeckBeat};
use djdissect::stagelinq::broadcast::BroadcastMessage;
use djdissect::stagelinq::classify::StreamKind;
use djdissect::stagelinq::directory::{
    DirectoryMessage, Reference, ServiceAnnouncement, ServicesRequest,
};
use djdissect::stagelinq::discovery::{Action, Discovery};
use djdissect::stagelinq::eaas::{EaasDiscovery, EaasResponse};
use djdissect::stagelinq::filetransfer::{FileStat, FileTransferBody, FileTransferMessage};
use djdissect::stagelinq::statemap::StateMapMessage;
use djdissect::stagelinq::statemap_json::StateValue;
use djdissect::stagelinq::syncing::SyncingMessage;
use djdissect::stagelinq::timesync::TimeSyncMessage;
use djdissect::stagelinq::{Message, StreamDecoder, Token};

fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..16).prop_map(String::from_iter)
}

fn token() -> impl Strategy<Value = Token> {
    any::<[u8; 16]>().prop_map(Token)
}

/// Finite numbers (a NaN is not equal to itself; its bytes are checked by the fuzzer).
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        Just(0.0),
        Just(-1.0),
        Just(128.0)
    ]
}

fn discovery() -> impl Strategy<Value = Discovery> {
    let action = prop_oneof![
        Just(Action::Howdy),
        Just(Action::Exit),
        text()
            .prop_filter("the named actions", |s| s != Action::HOWDY
                && s != Action::EXIT)
            .prop_map(Action::Other),
    ];
    (
        token(),
        text(),
        action,
        text(),
        text(),
        any::<u16>(),
        vec(any::<u8>(), 0..8),
    )
        .prop_map(
            |(token, device_name, action, software, version, port, extra)| Discovery {
                token,
                device_name,
                action,
                software,
                version,
                port,
                extra,
            },
        )
}

fn eaas() -> impl Strategy<Value = EaasDiscovery> {
    prop_oneof![
        Just(EaasDiscovery::Request),
        (token(), text(), text(), text(), any::<u8>(), text()).prop_map(
            |(token, hostname, url, software_version, unknown_flag, extra)| {
                EaasDiscovery::Response(EaasResponse {
                    token,
                    hostname,
                    url,
                    software_version,
                    unknown_flag,
                    extra,
                })
            }
        ),
    ]
}

fn directory() -> impl Strategy<Value = DirectoryMessage> {
    prop_oneof![
        (token(), text(), any::<u16>()).prop_map(|(token, service, port)| {
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement {
                token,
                service,
                port,
            })
        }),
        (token(), token(), any::<u64>()).prop_map(|(token, token2, value)| {
            DirectoryMessage::Reference(Reference {
                token,
                token2,
                value,
            })
        }),
        token().prop_map(|token| DirectoryMessage::ServicesRequest(ServicesRequest { token })),
    ]
}

/// The JSON text a StateMap value carries: any typed value of the table (`stagelinq.md` 1.5).
fn state_json() -> impl Strategy<Value = String> {
    prop_oneof![
        number().prop_map(StateValue::Number),
        any::<bool>().prop_map(StateValue::State),
        any::<bool>().prop_map(StateValue::Momentary),
        any::<bool>().prop_map(StateValue::TrackDataFlag),
        text().prop_map(StateValue::Enum),
        text().prop_map(StateValue::Text),
        any::<i64>().prop_map(StateValue::Integer),
        any::<i64>().prop_map(StateValue::Samples),
        text().prop_map(StateValue::Colour),
    ]
    .prop_map(|v| v.to_json())
}

fn statemap() -> impl Strategy<Value = StateMapMessage> {
    prop_oneof![
        (text(), any::<u32>())
            .prop_map(|(path, interval)| StateMapMessage::Subscribe { path, interval }),
        (text(), state_json()).prop_map(|(path, json)| StateMapMessage::Value { path, json }),
        // (A set with an empty JSON text would take 4 bytes, like a subscribe response's
        // interval: the wire cannot tell them apart, stagelinq.md 1.5. JSON is never empty.)
        (text(), state_json()).prop_map(|(path, json)| StateMapMessage::Set { path, json }),
        (text(), any::<u32>())
            .prop_map(|(path, interval)| StateMapMessage::SubscribeResponse { path, interval }),
        (
            any::<u32>().prop_filter("unknown sub-id", |id| ![0, 0x7d1, 0x7d2].contains(id)),
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(sub_id, body)| StateMapMessage::Other { sub_id, body }),
    ]
}

fn beatinfo() -> impl Strategy<Value = BeatInfoMessage> {
    let deck =
        (number(), number(), number(), number()).prop_map(|(beat, total_beats, bpm, samples)| {
            DeckBeat {
                beat,
                total_beats,
                bpm,
                samples,
            }
        });
    prop_oneof![
        Just(BeatInfoMessage::StartStream),
        Just(BeatInfoMessage::StopStream),
        (any::<u64>(), vec(deck, 0..=8))
            .prop_map(|(clock, decks)| BeatInfoMessage::Beat(BeatEmit { clock, decks })),
        (
            any::<u32>().prop_filter("unknown id", |id| *id > 2),
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(id, body)| BeatInfoMessage::Other { id, body }),
    ]
}

fn filetransfer() -> impl Strategy<Value = FileTransferMessage> {
    let typed_ids = [
        0x1u32, 0x2, 0x3, 0x4, 0x5, 0x7d1, 0x7d2, 0x7d3, 0x7d4, 0x7d5, 0x7d6,
    ];
    let body = prop_oneof![
        text().prop_map(|path| FileTransferBody::StatRequest { path }),
        text().prop_map(|path| FileTransferBody::ListRequest { path }),
        Just(FileTransferBody::EndInquiry),
        (text(), any::<u32>())
            .prop_map(|(path, flags)| FileTransferBody::OpenRequest { path, flags }),
        any::<(u32, u32, u64, u64)>().prop_map(
            |(unknown_0, unknown_1, first_chunk, last_chunk)| {
                FileTransferBody::ChunkRequest {
                    unknown_0,
                    unknown_1,
                    first_chunk,
                    last_chunk,
                }
            }
        ),
        Just(FileTransferBody::TransferComplete),
        (vec(any::<u8>(), 0..24), any::<u64>())
            .prop_map(|(head, size)| FileTransferBody::FileStat(FileStat { head, size })),
        vec(any::<u8>(), 0..24).prop_map(|body| FileTransferBody::FrameEnd { body }),
        (vec(text(), 0..5), any::<[u8; 3]>()).prop_map(|(names, [first, last, is_directory])| {
            FileTransferBody::DirectoryListing {
                names,
                first,
                last,
                is_directory,
            }
        }),
        any::<[u32; 3]>().prop_map(|[unknown_0, size, transfer_id]| {
            FileTransferBody::TransferInfo {
                unknown_0,
                size,
                transfer_id,
            }
        }),
        (any::<u32>(), any::<u32>(), vec(any::<u8>(), 0..64)).prop_map(
            |(unknown_0, offset, data)| FileTransferBody::Chunk {
                unknown_0,
                offset,
                data
            }
        ),
        (
            any::<u32>().prop_filter("unknown id", move |id| !typed_ids.contains(id)),
            vec(any::<u8>(), 0..24)
        )
            .prop_map(|(msg_id, body)| FileTransferBody::Other { msg_id, body }),
    ];
    (any::<u32>(), body).prop_map(|(txid, body)| FileTransferMessage { txid, body })
}

/// The message parses back from its bytes, and the stream decoder of `kind` cuts it out whole
/// and parses it to the same message.
fn check(m: Message, bytes: Vec<u8>, kind: Option<StreamKind>) -> Result<(), TestCaseError> {
    prop_assert_eq!(bytes.len(), m.buffer_len());
    prop_assert_eq!(&m.to_bytes(), &bytes);
    if let Some(kind) = kind {
        let mut d = StreamDecoder::new(kind).with_detail(true);
        let mut out = d.feed(&bytes);
        out.extend(d.finish());
        prop_assert_eq!(out.len(), 1, "{:#?}", out);
        prop_assert_eq!(&out[0].bytes, &bytes);
        prop_assert_eq!(out[0].message.as_ref(), Some(&m));
        prop_assert!(
            out[0].dissection.malformed.is_none(),
            "{:?}",
            out[0].dissection.malformed
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn discovery_round_trips(v in discovery()) {
        let b = v.to_bytes();
        prop_assert_eq!(Discovery::parse(&b), Ok(v.clone()));
        let (d, m) = djdissect::stagelinq::dissect_datagram(&b, true).unwrap();
        prop_assert_eq!(m, Some(Message::Discovery(v.clone())));
        // The action text itself may be judged ("unexpected action"); the layout may not.
        prop_assert!(d.malformed.as_deref().is_none_or(|w| w.starts_with("unexpected action")));
        check(Message::Discovery(v), b, None)?;
    }

    #[test]
    fn eaas_round_trips(v in eaas()) {
        let b = v.to_bytes();
        prop_assert_eq!(EaasDiscovery::parse(&b), Ok(v.clone()));
        let (d, m) = djdissect::stagelinq::dissect_datagram(&b, true).unwrap();
        prop_assert_eq!(m, Some(Message::Eaas(v.clone())));
        prop_assert!(d.malformed.is_none(), "{:?}", d.malformed);
        check(Message::Eaas(v), b, None)?;
    }

    #[test]
    fn directory_round_trips(v in directory()) {
        let b = v.to_bytes();
        prop_assert_eq!(DirectoryMessage::parse(&b), Ok(v.clone()));
        check(Message::Directory(v), b, Some(StreamKind::Directory))?;
    }

    /// The hello that opens a service connection is a service announcement.
    #[test]
    fn service_hello_round_trips(token in token(), service in text(), port in any::<u16>()) {
        let v = ServiceAnnouncement { token, service, port };
        let b = v.to_bytes();
        prop_assert_eq!(ServiceAnnouncement::parse(&b), Ok(v.clone()));
        check(Message::Hello(v), b, None)?;
    }

    #[test]
    fn statemap_round_trips(v in statemap()) {
        let b = v.to_bytes();
        prop_assert_eq!(StateMapMessage::parse(&b), Ok(v.clone()));
        let kind = (!matches!(v, StateMapMessage::Other { .. })).then_some(StreamKind::StateMap);
        check(Message::StateMap(v), b, kind)?;
    }

    #[test]
    fn beatinfo_round_trips(v in beatinfo()) {
        let b = v.to_bytes();
        prop_assert_eq!(BeatInfoMessage::parse(&b), Ok(v.clone()));
        let kind = (!matches!(v, BeatInfoMessage::Other { .. })).then_some(StreamKind::BeatInfo);
        check(Message::BeatInfo(v), b, kind)?;
    }

    #[test]
    fn filetransfer_round_trips(v in filetransfer()) {
        let b = v.to_bytes();
        prop_assert_eq!(FileTransferMessage::parse(&b), Ok(v.clone()));
        check(Message::FileTransfer(v), b, Some(StreamKind::FileTransfer))?;
    }

    #[test]
    fn timesync_broadcast_syncing_round_trip(
        id in any::<u32>(),
        timestamps in vec(any::<u64>(), 0..4),
        json in text(),
        body in vec(any::<u8>(), 0..32),
    ) {
        let t = TimeSyncMessage { id, timestamps };
        prop_assert_eq!(TimeSyncMessage::parse(&t.to_bytes()), Ok(t.clone()));
        check(Message::TimeSync(t.clone()), t.to_bytes(), None)?;
        let bc = BroadcastMessage { json };
        prop_assert_eq!(BroadcastMessage::parse(&bc.to_bytes()), Ok(bc.clone()));
        check(Message::Broadcast(bc.clone()), bc.to_bytes(), None)?;
        // In a service stream a length of 0 where a message starts reads as the hello's id 0
        // (stagelinq.md 1.4), so only a non-empty message is cut out by the stream decoder.
        let kind = (!body.is_empty()).then_some(StreamKind::Syncing);
        let s = SyncingMessage { body };
        prop_assert_eq!(SyncingMessage::parse(&s.to_bytes()), Ok(s.clone()));
        check(Message::Syncing(s.clone()), s.to_bytes(), kind)?;
    }
}
