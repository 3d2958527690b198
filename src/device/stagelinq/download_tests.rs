//! A whole FileTransfer download through a unit: announced in the directory, the session of
//! `file_transfer` behind the port, the chunks paced by the unit's own timer.

use super::persona::Service;
use super::tests::{open, run_timers, stream, unit, writes};
use super::unit::Unit;
use crate::device::{ConnId, Output, StreamEvent, MS, SECOND};

#[test]
fn filetransfer_is_announced_and_serves_the_engine_database_paced_by_the_unit() {
    use crate::stagelinq::filetransfer::{FileTransferBody as B, FileTransferMessage, CHUNK_SIZE};
    let mut u = unit("sc6000");
    run_timers(&mut u, 0);
    assert_eq!(u.services().last().unwrap().0, Service::FileTransfer);
    assert!(writes(&open(&mut u, 0, 5, Service::FileTransfer)).is_empty());
    let ask = |u: &mut Unit, body: B| -> Vec<FileTransferMessage> {
        let req = FileTransferMessage::new(0, body).to_bytes();
        let w = writes(&stream(u, MS, 5, StreamEvent::Data(&req)));
        let mut v = Vec::new();
        for mut b in w.iter().map(|w| &w[..]) {
            while b.len() >= 4 {
                let n = 4 + u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                v.push(FileTransferMessage::parse(&b[..n]).unwrap());
                b = &b[n..];
            }
        }
        v
    };
    let sources = ask(
        &mut u,
        B::ListRequest {
            path: String::new(),
        },
    );
    let B::DirectoryListing { names, .. } = &sources[0].body else {
        panic!("{sources:?}")
    };
    assert_eq!(names, &vec![super::state::SOURCE_NAME.to_string()]);
    let path = format!("/{}/Engine Library/Database2/m.db", names[0]);
    let open = ask(&mut u, B::OpenRequest { path, flags: 0 });
    let B::TransferInfo {
        size, transfer_id, ..
    } = open[0].body
    else {
        panic!("{open:?}")
    };
    let chunks = (size as u64).div_ceil(CHUNK_SIZE as u64);
    let mut file = vec![0u8; size as usize];
    let mut got = 0usize;
    let mut take = |w: &[u8]| {
        let mut b = w;
        while b.len() >= 4 {
            let n = 4 + u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            if let B::Chunk { offset, data, .. } = FileTransferMessage::parse(&b[..n]).unwrap().body
            {
                file[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
                got += data.len();
            }
            b = &b[n..];
        }
    };
    let req = FileTransferMessage::new(
        0,
        B::ChunkRequest {
            unknown_0: 0,
            unknown_1: transfer_id,
            first_chunk: 0,
            last_chunk: chunks - 1,
        },
    )
    .to_bytes();
    for w in writes(&stream(&mut u, 2 * MS, 5, StreamEvent::Data(&req))) {
        take(&w);
    }
    // The rest comes window by window on the unit's own timer.
    let mut steps = 0;
    for (_, o) in run_timers(&mut u, 10 * SECOND) {
        if let Output::Write {
            conn: ConnId(5),
            bytes,
        } = o
        {
            take(&bytes);
            steps += 1;
        }
    }
    assert_eq!(got, size as usize);
    assert!(steps >= 1);
    assert!(file.starts_with(b"SQLite format 3\0"));
}
