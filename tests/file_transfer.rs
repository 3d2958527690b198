//! A StageLinQ FileTransfer download (stagelinq.md 1.9), built with the project's Reprs and sent
//! over a crafted TCP connection on an unannounced port: the stream is recognised by its
//! service hello, every message decodes, the download reads as one transfer with its size and
//! progress, and the session lists it.

mod common;

use std::ops::ControlFlow;

use djdissect::capture::CaptureReader;
use djdissect::dissect::Value;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::session::Session;
use djdissect::stagelinq::directory::ServiceAnnouncement;
use djdissect::stagelinq::filetransfer::{FileStat, FileTransferBody, FileTransferMessage};
use djdissect::stagelinq::Token;

const DB: &str = "/DJ/Engine Library/Database2/m.db";

fn capture() -> Vec<u8> {
    let mut c =
        common::tcp::Conversation::new(([169, 254, 1, 1], 50100), ([169, 254, 1, 2], 33383));
    let ft = |txid, body| FileTransferMessage { txid, body }.to_bytes();
    c.send(
        true,
        &ServiceAnnouncement::new(Token([7; 16]), "FileTransfer", 50100).to_bytes(),
    );
    c.send(
        true,
        &ft(1, FileTransferBody::StatRequest { path: DB.into() }),
    );
    c.send(
        false,
        &ft(1, FileTransferBody::FileStat(FileStat::file(6000))),
    );
    c.send(
        true,
        &ft(
            2,
            FileTransferBody::OpenRequest {
                path: DB.into(),
                flags: 0,
            },
        ),
    );
    c.send(
        false,
        &ft(
            2,
            FileTransferBody::TransferInfo {
                unknown_0: 0,
                size: 6000,
                transfer_id: 1,
            },
        ),
    );
    c.send(
        true,
        &ft(
            2,
            FileTransferBody::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0,
                last_chunk: 1,
            },
        ),
    );
    c.send(
        false,
        &ft(
            2,
            FileTransferBody::Chunk {
                unknown_0: 0,
                offset: 0,
                data: vec![0x53; 4096],
            },
        ),
    );
    c.send(
        false,
        &ft(
            2,
            FileTransferBody::Chunk {
                unknown_0: 0,
                offset: 4096,
                data: vec![0x51; 1904],
            },
        ),
    );
    c.send(true, &ft(2, FileTransferBody::TransferComplete));
    c.finish()
}

#[test]
fn a_database_download_reads_as_one_transfer_with_progress() {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(capture()))).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut s = Session::new();
    let mut seen: Vec<(String, Option<Value>)> = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let _ = e.frame(&f, &mut |rec| {
            assert!(rec.dissection.malformed.is_none(), "{:?}", rec.dissection);
            seen.push((
                rec.dissection.type_name.to_string(),
                rec.extra("transfer").cloned(),
            ));
            s.observe(rec);
            ControlFlow::Continue(())
        });
    }
    let _ = e.finish(&mut |rec| {
        s.observe(rec);
        ControlFlow::Continue(())
    });
    s.finish();
    let types: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types[0], "service_hello");
    assert!(
        types[1..].iter().all(|t| *t == "file_transfer"),
        "{types:?}"
    );
    assert_eq!(types.len(), 9);
    let last = seen
        .last()
        .unwrap()
        .1
        .clone()
        .expect("transfer on the completing message");
    let Value::Obj(items) = last else { panic!() };
    let get = |n: &str| items.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("path"), Value::str(DB));
    assert_eq!(get("size"), Value::U(6000));
    assert_eq!(get("received"), Value::U(6000));
    assert_eq!(get("progress"), Value::F(100.0));
    assert_eq!(get("complete"), Value::Bool(true));
    assert_eq!(get("database"), Value::Bool(true));
    // Halfway: after the first chunk, 4096 of 6000 bytes.
    let Some(Value::Obj(mid)) = seen[6].1.clone() else {
        panic!("{:?}", seen[6])
    };
    assert_eq!(
        mid.iter().find(|(k, _)| k == "progress").unwrap().1,
        Value::F(68.3)
    );
    let server = &s.stagelinq.devices[&"169.254.1.2".parse().unwrap()];
    assert!(
        server.transfers[&2].contains("database transfer"),
        "{:?}",
        server.transfers
    );
    assert!(s
        .timeline
        .iter()
        .any(|l| l.text.contains("served database transfer")));
}
