//! TimeSynchronization service messages (`stagelinq.md` 1.7, partially understood): after the
//! hello, `u32 len`, `u32 id`, then k x u64 timestamps. Never seen in sc6000_boot.pcap.

use crate::dissect::Depth;
use std::borrow::Cow;

use crate::dissect::{Dissection, FieldSink, Knowledge, Proto, Value};

use super::wire::{self, Error, Result};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.7
    pub const LENGTH: Range<usize> = 0..4;
    pub const ID: Range<usize> = 4..8;
    pub const TIMESTAMPS: usize = 8;
    pub const TIMESTAMP_LEN: usize = 8;

    pub fn timestamp(i: usize) -> Range<usize> {
        let start = TIMESTAMPS + i * TIMESTAMP_LEN;
        start..start + TIMESTAMP_LEN
    }
}

/// A query carrying one timestamp; the device sends it and the client answers with its own.
pub const ID_QUERY: u32 = 1;
/// A reply carrying two timestamps.
pub const ID_REPLY: u32 = 2;
/// Most timestamps a message is expected to carry; only used to judge message starts.
pub const MAX_TIMESTAMPS: usize = 16;

/// One TimeSynchronization message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSyncMessage {
    pub id: u32,
    pub timestamps: Vec<u64>,
}

impl TimeSyncMessage {
    pub fn query(t: u64) -> Self {
        TimeSyncMessage {
            id: ID_QUERY,
            timestamps: vec![t],
        }
    }

    pub fn reply(t1: u64, t2: u64) -> Self {
        TimeSyncMessage {
            id: ID_REPLY,
            timestamps: vec![t1, t2],
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        let id = wire::read_u32(b, field::ID.start, "id")?;
        let body = &b[field::TIMESTAMPS..];
        if body.len() % field::TIMESTAMP_LEN != 0 {
            return Err(Error::Invalid {
                what: "time sync",
                reason: "body is not a whole number of u64 timestamps",
            });
        }
        let timestamps = body
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
            .collect();
        Ok(TimeSyncMessage { id, timestamps })
    }

    pub fn buffer_len(&self) -> usize {
        field::TIMESTAMPS + self.timestamps.len() * field::TIMESTAMP_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        wire::put_u32(buf, field::ID.start, self.id);
        for (i, t) in self.timestamps.iter().enumerate() {
            wire::put_u64(buf, field::timestamp(i).start, *t);
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// True when `b` starts like a TimeSynchronization message: a known id and a small whole
/// number of timestamps.
pub fn looks_like_start(b: &[u8]) -> bool {
    let (Ok(len), Ok(id)) = (wire::read_u32(b, 0, "len"), wire::read_u32(b, 4, "id")) else {
        return false;
    };
    let body = (len as usize).wrapping_sub(4);
    matches!(id, ID_QUERY | ID_REPLY)
        && len >= 4
        && body % field::TIMESTAMP_LEN == 0
        && body / field::TIMESTAMP_LEN <= MAX_TIMESTAMPS
}

/// Dissect one TimeSynchronization message (type `time_sync`, field `message` = query/reply).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "time_sync");
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    let id = s.uint("id", field::ID);
    let what = match id.map(|v| v as u32) {
        Some(ID_QUERY) => "query",
        Some(ID_REPLY) => "reply",
        Some(_) => "other",
        None => "truncated",
    };
    s.derived("message", Value::str(what));
    let n = b.len().saturating_sub(field::TIMESTAMPS) / field::TIMESTAMP_LEN;
    let mut ts = Vec::new();
    for i in 0..n {
        let r = field::timestamp(i);
        let v = wire::read_u64(b, r.start, "timestamp").unwrap_or(0);
        let name = Cow::Owned(format!("timestamp{}", i + 1));
        s.push(name, Some(r), Value::U(v), Knowledge::Known, || None);
        ts.push(v.to_string());
    }
    s.unknown_rest(field::TIMESTAMPS + n * field::TIMESTAMP_LEN);
    if b.len() > field::TIMESTAMPS && (b.len() - field::TIMESTAMPS) % field::TIMESTAMP_LEN != 0 {
        d.set_malformed("body is not a whole number of u64 timestamps");
    }
    d.kind = id.map(|v| v as u32);
    d.summary = format!("time sync {what} [{}]", ts.join(", "));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    #[test]
    fn query_and_reply_from_the_reference() {
        // stagelinq.md 1.7: id 1 carries one timestamp, id 2 two.
        let q = parse_hex("0000000c000000010000000005f5e100").unwrap();
        assert_eq!(
            TimeSyncMessage::parse(&q),
            Ok(TimeSyncMessage::query(100_000_000))
        );
        assert_eq!(TimeSyncMessage::query(100_000_000).to_bytes(), q);
        let r = TimeSyncMessage::reply(1, 2);
        let b = r.to_bytes();
        assert_eq!(
            b,
            parse_hex("00000014000000020000000000000001 0000000000000002").unwrap()
        );
        assert_eq!(TimeSyncMessage::parse(&b), Ok(r));
        let d = dissect(&b, false);
        assert_eq!(d.field("message").unwrap().as_str(), Some("reply"));
        assert_eq!(d.field("timestamp2").unwrap().as_u64(), Some(2));
        assert_eq!(d.malformed, None);
        assert!(looks_like_start(&b) && looks_like_start(&q));
    }

    #[test]
    fn truncation_and_garbage() {
        let b = TimeSyncMessage::reply(1, 2).to_bytes();
        for n in 0..b.len() {
            assert!(TimeSyncMessage::parse(&b[..n]).is_err(), "prefix {n}");
            assert!(dissect(&b[..n], false).malformed.is_some(), "prefix {n}");
        }
        let odd = parse_hex("00000007000000010102ff").unwrap();
        assert!(TimeSyncMessage::parse(&odd).is_err());
        assert!(dissect(&odd, false).malformed.is_some());
        assert!(!looks_like_start(&odd));
    }
}
