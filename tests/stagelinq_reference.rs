//! Detail-view snapshots of the StageLinQ messages that the real capture does not contain,
//! built from the reference (stagelinq.md 1.5-1.10) with the project's own Reprs. Each is
//! decoded as its service stream would decode it, and must round-trip.

mod common;

use djdissect::stagelinq::beatinfo::BeatInfoMessage;
use djdissect::stagelinq::broadcast::BroadcastMessage;
use djdissect::stagelinq::eaas::{EaasDiscovery, EaasResponse};
use djdissect::stagelinq::filetransfer::{FileStat, FileTransferBody, FileTransferMessage};
use djdissect::stagelinq::statemap::StateMapMessage;
use djdissect::stagelinq::stream::decode;
use djdissect::stagelinq::syncing::SyncingMessage;
use djdissect::stagelinq::timesync::TimeSyncMessage;
use djdissect::stagelinq::{StreamKind, Token};

fn shown(kind: StreamKind, b: &[u8]) -> String {
    let (d, m) = decode(kind, b, false, true);
    assert!(d.malformed.is_none(), "{}: {:?}", d.type_name, d.malformed);
    assert_ne!(d.type_name, "unknown");
    assert_eq!(m.expect("parses").to_bytes(), b, "{}", d.type_name);
    common::detail_view(d, b, "169.254.1.1:40000", "169.254.1.2:50000")
}

#[test]
fn messages_built_from_the_reference() {
    let ft = |txid, body| FileTransferMessage { txid, body }.to_bytes();
    let cases: Vec<(&str, StreamKind, Vec<u8>)> = vec![
        (
            "statemap_subscribe_response",
            StreamKind::StateMap,
            StateMapMessage::SubscribeResponse {
                path: "/Engine/Deck1/Play".into(),
                interval: 0,
            }
            .to_bytes(),
        ),
        (
            "beat_info_stop",
            StreamKind::BeatInfo,
            BeatInfoMessage::StopStream.to_bytes(),
        ),
        (
            "time_sync_query",
            StreamKind::TimeSynchronization,
            TimeSyncMessage::query(123_456_789).to_bytes(),
        ),
        (
            "time_sync_reply",
            StreamKind::TimeSynchronization,
            TimeSyncMessage::reply(1, 2).to_bytes(),
        ),
        (
            "broadcast",
            StreamKind::Broadcast,
            BroadcastMessage {
                json: r#"{"engine.track.changed":{"deck":1}}"#.into(),
            }
            .to_bytes(),
        ),
        (
            "syncing",
            StreamKind::Syncing,
            SyncingMessage {
                body: vec![0, 0, 0, 1, 0xab],
            }
            .to_bytes(),
        ),
        (
            "file_transfer_stat_request",
            StreamKind::FileTransfer,
            ft(
                1,
                FileTransferBody::StatRequest {
                    path: "/DJ/Engine Library/Database2/m.db".into(),
                },
            ),
        ),
        (
            "file_transfer_file_stat",
            StreamKind::FileTransfer,
            ft(1, FileTransferBody::FileStat(FileStat::file(4_194_304))),
        ),
        (
            "file_transfer_open_request",
            StreamKind::FileTransfer,
            ft(
                2,
                FileTransferBody::OpenRequest {
                    path: "/DJ/Engine Library/Database2/m.db".into(),
                    flags: 0,
                },
            ),
        ),
        (
            "file_transfer_transfer_info",
            StreamKind::FileTransfer,
            ft(
                2,
                FileTransferBody::TransferInfo {
                    unknown_0: 0,
                    size: 4_194_304,
                    transfer_id: 1,
                },
            ),
        ),
        (
            "file_transfer_chunk_request",
            StreamKind::FileTransfer,
            ft(
                2,
                FileTransferBody::ChunkRequest {
                    unknown_0: 0,
                    unknown_1: 1,
                    first_chunk: 0,
                    last_chunk: 3,
                },
            ),
        ),
        (
            "file_transfer_chunk",
            StreamKind::FileTransfer,
            ft(
                2,
                FileTransferBody::Chunk {
                    unknown_0: 0,
                    offset: 0,
                    data: b"SQLite format 3\0".to_vec(),
                },
            ),
        ),
        (
            "file_transfer_complete",
            StreamKind::FileTransfer,
            ft(2, FileTransferBody::TransferComplete),
        ),
        (
            "file_transfer_listing",
            StreamKind::FileTransfer,
            ft(
                3,
                FileTransferBody::DirectoryListing {
                    names: vec!["Engine Library".into()],
                    first: 1,
                    last: 1,
                    is_directory: 1,
                },
            ),
        ),
    ];
    let settings = common::insta_settings();
    settings.bind(|| {
        for (name, kind, bytes) in &cases {
            insta::assert_snapshot!(format!("stagelinq-reference@{name}"), shown(*kind, bytes));
        }
        // EAAS discovery is a datagram, not a stream message.
        for (name, m) in [
            ("eaas_request", EaasDiscovery::Request),
            (
                "eaas_response",
                EaasDiscovery::Response(EaasResponse {
                    token: Token([0x11; 16]),
                    hostname: "studio-pc".into(),
                    url: "grpc://169.254.1.1:50010".into(),
                    software_version: "3.4.0".into(),
                    unknown_flag: 1,
                    extra: "_".into(),
                }),
            ),
        ] {
            let b = m.to_bytes();
            let (d, parsed) = djdissect::stagelinq::dissect_datagram(&b, true).expect("EAAS magic");
            assert!(d.malformed.is_none(), "{name}: {:?}", d.malformed);
            assert_eq!(parsed.expect("parses").to_bytes(), b);
            insta::assert_snapshot!(format!("stagelinq-reference@{name}"), format!("{d:#?}"));
        }
    });
}
