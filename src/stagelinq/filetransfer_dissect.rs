//! Field-by-field view of FileTransfer bodies (`stagelinq.md` 1.9), used by
//! `filetransfer::dissect`. Offsets are the body offsets of `filetransfer::field` shifted by the
//! 16-byte header.

use std::borrow::Cow;

use crate::dissect::{FieldSink, Knowledge, Value};

use super::filetransfer::{self as ft, field};
use super::wire;

const B: usize = field::BODY;

/// Add the body fields of message `msg_id`; returns the summary tail.
pub(super) fn body(s: &mut FieldSink<'_>, msg_id: u32) -> String {
    let len = s.bytes.len();
    match msg_id {
        ft::ID_STAT_REQUEST | ft::ID_LIST_REQUEST => {
            match wire::dissect_ns(s, "path_len", "path", B) {
                Some((path, end)) => {
                    s.unknown_rest(end);
                    if path.is_empty() {
                        "(sources)".to_string()
                    } else {
                        path
                    }
                }
                None => String::new(),
            }
        }
        ft::ID_OPEN_REQUEST => match wire::dissect_ns(s, "path_len", "path", B) {
            Some((path, end)) => {
                s.uint("flags", end..end + 4);
                s.unknown_rest(end + 4);
                path
            }
            None => String::new(),
        },
        ft::ID_CHUNK_REQUEST => {
            s.unknown(B..B + 8);
            let first = s.uint("first_chunk", B + 8..B + 16);
            let last = s.uint("last_chunk", B + 16..B + 24);
            s.unknown_rest(B + 24);
            match (first, last) {
                (Some(f), Some(l)) => format!("chunks {f}..={l}"),
                _ => String::new(),
            }
        }
        ft::ID_FILE_STAT => file_stat(s),
        ft::ID_DIRECTORY_LISTING => listing(s),
        ft::ID_TRANSFER_INFO => {
            s.unknown(B..B + 4);
            let size = s.uint_with("size", B + 4..B + 8, |v| Some(format!("{v} bytes")));
            s.uint("transfer_id", B + 8..B + 12);
            s.unknown_rest(B + 12);
            size.map_or(String::new(), |v| format!("size {v}"))
        }
        ft::ID_CHUNK => {
            s.unknown(B..B + 4);
            let offset = s.uint("offset", B + 4..B + 8);
            let size = s.uint("chunk_size", B + 8..B + 12);
            let data_end = size.map_or(len, |n| (B + 12).saturating_add(n as usize));
            if let Some(data) = s.get("data", B + 12..data_end) {
                // Chunk data stays out of the JSON: its length and first bytes say enough.
                let shown = format!(
                    "{} bytes, starting {}",
                    data.len(),
                    crate::util::hex(&data[..data.len().min(8)])
                );
                s.push(
                    "data",
                    Some(B + 12..data_end),
                    Value::Str(shown.into()),
                    Knowledge::Known,
                    || None,
                );
                s.unknown_rest(data_end);
            }
            match (offset, size) {
                (Some(o), Some(n)) => format!("offset {o} size {n}"),
                _ => String::new(),
            }
        }
        _ => {
            s.unknown_rest(B);
            format!("{} body bytes", len.saturating_sub(B))
        }
    }
}

fn file_stat(s: &mut FieldSink<'_>) -> String {
    let len = s.bytes.len();
    let Some(size_at) = len.checked_sub(field::STAT_SIZE_LEN).filter(|&p| p >= B) else {
        s.get("size", B..B + field::STAT_SIZE_LEN);
        return String::new();
    };
    if size_at - B == field::STAT_HEAD_LEN {
        // The reference's 53-byte layout (whatsnowplaying's reading, unverified in part).
        let flag = |v: u64| Some(if v != 0 { "yes" } else { "no" }.to_string());
        s.uint_with(
            "exists",
            B + field::STAT_EXISTS..B + field::STAT_EXISTS + 1,
            flag,
        );
        s.uint_with(
            "is_dir",
            B + field::STAT_IS_DIR..B + field::STAT_IS_DIR + 1,
            flag,
        );
        s.unknown(B + field::STAT_UNKNOWN.start..B + field::STAT_UNKNOWN.end);
        s.uint(
            "permissions",
            B + field::STAT_PERMISSIONS.start..B + field::STAT_PERMISSIONS.end,
        );
        s.unknown(B + field::STAT_TIMES.start..B + field::STAT_TIMES.end);
    } else {
        s.unknown(B..size_at);
    }
    let size = s.uint_with("size", size_at..len, |v| Some(format!("{v} bytes")));
    size.map_or(String::new(), |v| format!("size {v}"))
}

fn listing(s: &mut FieldSink<'_>) -> String {
    let Some(count) = s.uint("count", B..B + 4) else {
        return String::new();
    };
    let mut names = Vec::new();
    let mut p = B + 4;
    for i in 0..count {
        let Ok((name, next)) = wire::read_ns(s.bytes, p, "name") else {
            s.get("name", p..p.saturating_add(4));
            s.out
                .set_malformed(format!("listing name {} of {count} does not fit", i + 1));
            return format!("{count} names (damaged)");
        };
        let label = Cow::Owned(format!("name{}", i + 1));
        s.push(
            label,
            Some(p..next),
            Value::Str(name.clone().into()),
            Knowledge::Known,
            || None,
        );
        names.push(Value::Str(name.into()));
        p = next;
    }
    s.derived("names", Value::List(names.clone()));
    s.uint_with("first", p..p + 1, |v| {
        Some(format!("first part of the answer: {}", v != 0))
    });
    s.uint_with("last", p + 1..p + 2, |v| {
        Some(format!("last part of the answer: {}", v != 0))
    });
    s.uint_with("is_directory", p + 2..p + 3, |v| {
        Some(format!("entries are directories/sources: {}", v != 0))
    });
    s.unknown_rest(p + 3);
    let shown: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    format!("[{}]", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::filetransfer::*;
    use crate::util::parse_hex;

    /// 0x7d1 stat and 0x7d4 open requests for `/DJ2 (USB 1)/Engine Library/m.db`, captured from
    /// a real SC6000 session (`whatsnowplaying/stagelinq:tests/fixtures/tcp_packets.py`,
    /// stagelinq.md 1.9).
    const STAT: &str = "00000050666c747800000000000007d100000040002f0044004a003200200028005500530042002000310029002f0045006e00670069006e00650020004c006900620072006100720079002f006d002e00640062";
    const OPEN: &str = "00000054666c747800000000000007d400000040002f0044004a003200200028005500530042002000310029002f0045006e00670069006e00650020004c006900620072006100720079002f006d002e0064006200000000";
    const DB: &str = "/DJ2 (USB 1)/Engine Library/m.db";

    fn check(bytes: &[u8], repr: &FileTransferMessage, message: &str) {
        assert_eq!(&FileTransferMessage::parse(bytes).unwrap(), repr);
        assert_eq!(repr.buffer_len(), bytes.len());
        assert_eq!(repr.to_bytes(), bytes);
        let d = dissect(bytes, true);
        assert_eq!(d.malformed, None, "{message}: {}", d.summary);
        assert_eq!(d.field("message").unwrap().as_str(), Some(message));
        let covered: usize = d
            .fields
            .iter()
            .filter_map(|f| f.range.as_ref())
            .map(|r| r.len())
            .sum();
        assert_eq!(covered, bytes.len(), "{message}: every byte named");
        for n in 0..bytes.len() {
            assert!(
                FileTransferMessage::parse(&bytes[..n]).is_err(),
                "{message} prefix {n}"
            );
            assert!(
                dissect(&bytes[..n], false).malformed.is_some(),
                "{message} prefix {n}"
            );
        }
    }

    #[test]
    fn real_stat_and_open_requests() {
        let stat = FileTransferMessage::new(0, FileTransferBody::StatRequest { path: DB.into() });
        check(&parse_hex(STAT).unwrap(), &stat, "stat_request");
        let open = FileTransferMessage::new(
            0,
            FileTransferBody::OpenRequest {
                path: DB.into(),
                flags: 0,
            },
        );
        check(&parse_hex(OPEN).unwrap(), &open, "open_request");
        assert_eq!(
            dissect(&parse_hex(OPEN).unwrap(), false)
                .field("path")
                .unwrap()
                .as_str(),
            Some(DB)
        );
    }

    #[test]
    fn requests_from_the_reference() {
        // List sources: `u32 0` after the msg-id, i.e. an empty path (whatsnowplaying's
        // "simple request" bytes).
        let list = FileTransferMessage::new(
            0,
            FileTransferBody::ListRequest {
                path: String::new(),
            },
        );
        check(
            &parse_hex("00000010666c747800000000000007d200000000").unwrap(),
            &list,
            "list_sources",
        );
        // go-stagelinq issue #8: txid 0x66, then 0, 1, chunk 0x18..0x18.
        let chunk_req = FileTransferMessage::new(
            0x66,
            FileTransferBody::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0x18,
                last_chunk: 0x18,
            },
        );
        let b = parse_hex(
            "00000024666c747800000066000007d5 00000000 00000001 0000000000000018 0000000000000018",
        )
        .unwrap();
        check(&b, &chunk_req, "chunk_request");
        check(
            &parse_hex("0000000c666c747800000066000007d3").unwrap(),
            &FileTransferMessage::new(0x66, FileTransferBody::EndInquiry),
            "end_inquiry",
        );
        check(
            &parse_hex("0000000c666c747800000066000007d6").unwrap(),
            &FileTransferMessage::new(0x66, FileTransferBody::TransferComplete),
            "transfer_complete",
        );
    }

    #[test]
    fn responses_from_the_reference() {
        let stat =
            FileTransferMessage::new(0, FileTransferBody::FileStat(FileStat::file(1_234_567)));
        let b = stat.to_bytes();
        assert_eq!(b.len(), 16 + 53);
        assert_eq!(&b[b.len() - 4..], 1_234_567u32.to_be_bytes());
        check(&b, &stat, "file_stat");
        assert_eq!(
            dissect(&b, false).field("size").unwrap().as_u64(),
            Some(1_234_567)
        );
        assert_eq!(
            dissect(&b, false).field("exists").unwrap().as_u64(),
            Some(1)
        );

        let sources = FileTransferMessage::new(
            0,
            FileTransferBody::DirectoryListing {
                names: vec!["DJ2 (USB 1)".into(), "PRIME 4 (Internal)".into()],
                first: 1,
                last: 1,
                is_directory: 1,
            },
        );
        check(&sources.to_bytes(), &sources, "directory_listing");
        let d = dissect(&sources.to_bytes(), false);
        assert_eq!(
            d.summary,
            "directory_listing txid 0 [DJ2 (USB 1), PRIME 4 (Internal)]"
        );

        let info = FileTransferMessage::new(
            0,
            FileTransferBody::TransferInfo {
                unknown_0: 0,
                size: 1_234_567,
                transfer_id: 1,
            },
        );
        check(
            &parse_hex("00000018666c74780000000000000004000000000012d68700000001").unwrap(),
            &info,
            "transfer_info",
        );

        let chunk = FileTransferMessage::new(
            0,
            FileTransferBody::Chunk {
                unknown_0: 0,
                offset: 4096,
                data: b"SQLite format 3\0".to_vec(),
            },
        );
        check(&chunk.to_bytes(), &chunk, "chunk");
        assert_eq!(
            dissect(&chunk.to_bytes(), false).summary,
            "chunk txid 0 offset 4096 size 16"
        );
        let end = FileTransferMessage::new(7, FileTransferBody::FrameEnd { body: vec![1] });
        check(&end.to_bytes(), &end, "frame_end");
        let gone = FileTransferMessage::new(
            7,
            FileTransferBody::Other {
                msg_id: 9,
                body: vec![],
            },
        );
        check(&gone.to_bytes(), &gone, "storage_removed");
    }

    #[test]
    fn garbage() {
        let mut b = parse_hex(STAT).unwrap();
        b[4] = b'F';
        assert_eq!(
            FileTransferMessage::parse(&b),
            Err(crate::stagelinq::Error::BadMagic { expected: "fltx" })
        );
        assert!(dissect(&b, false).malformed.is_some());
        // A chunk whose size field runs past the end, and a listing with a wild count.
        let mut chunk = FileTransferMessage::new(
            0,
            FileTransferBody::Chunk {
                unknown_0: 0,
                offset: 0,
                data: vec![1, 2],
            },
        )
        .to_bytes();
        chunk[24..28].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(FileTransferMessage::parse(&chunk).is_err());
        assert!(dissect(&chunk, true).malformed.is_some());
        let mut listing = FileTransferMessage::new(
            0,
            FileTransferBody::DirectoryListing {
                names: vec![],
                first: 1,
                last: 1,
                is_directory: 0,
            },
        )
        .to_bytes();
        listing[16..20].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(FileTransferMessage::parse(&listing).is_err());
        assert!(dissect(&listing, true).malformed.is_some());
    }
}
