//! Broadcast service messages (`stagelinq.md` 1.8): after the hello, `u32 len` + that many
//! bytes of UTF-8 JSON (not UTF-16, unlike the rest of StageLinQ).

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Knowledge, Proto, Value};

use super::statemap_json;
use super::wire::{self, Error, Result};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.8
    pub const LENGTH: Range<usize> = 0..4;
    pub const JSON: usize = 4;
}

/// One Broadcast message: a JSON object such as `{"engine.track.changed":{...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastMessage {
    /// The JSON text, verbatim.
    pub json: String,
}

impl BroadcastMessage {
    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        let json = std::str::from_utf8(&b[field::JSON..]).map_err(|_| Error::BadUtf8 {
            what: "broadcast JSON",
        })?;
        Ok(BroadcastMessage {
            json: json.to_string(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::JSON + self.json.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        buf[field::JSON..field::JSON + self.json.len()].copy_from_slice(self.json.as_bytes());
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// True when `b` starts like a Broadcast message: a length prefix then a JSON object.
pub fn looks_like_start(b: &[u8], max_len: usize) -> bool {
    match (wire::read_u32(b, 0, "len"), b.get(field::JSON)) {
        (Ok(len), Some(b'{')) => (2..=max_len as u64).contains(&(len as u64)),
        _ => false,
    }
}

/// Dissect one Broadcast message (type `broadcast`): `value` is the decoded JSON object and
/// `event` its first key (`engine.track.changed`).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "broadcast");
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    let Some(body) = b.get(field::JSON..) else {
        d.summary = "truncated broadcast".to_string();
        return d;
    };
    let text = String::from_utf8_lossy(body).into_owned();
    let range = Some(field::JSON..b.len());
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(j) => {
            let event = j
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default();
            let t = text.clone();
            s.push(
                "value",
                range,
                statemap_json::to_value(&j),
                Knowledge::Known,
                || Some(format!("JSON {t}")),
            );
            s.derived("event", Value::Str(event.into()));
            d.summary = text.chars().take(160).collect();
        }
        Err(e) => {
            s.push(
                "value",
                range,
                Value::Str(text.clone().into()),
                Knowledge::Known,
                || None,
            );
            d.set_malformed(format!("invalid JSON: {e}"));
            d.summary = format!("{} bytes, not JSON", body.len());
        }
    }
    if std::str::from_utf8(body).is_err() {
        d.set_malformed("broadcast JSON is not UTF-8");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// SC6000 to SC6000, `chrisle/stagelinq-pcap:_scratch_pad.md` (stagelinq.md 1.8).
    const TRACK_CHANGED: &str = r#"{"engine.track.changed":{"databaseUuid":"d1682bab-5479-465d-9de7-a2dcf5614288","trackId":"44"}}"#;

    #[test]
    fn real_track_changed() {
        let mut b = parse_hex("0000005f").unwrap();
        b.extend_from_slice(TRACK_CHANGED.as_bytes());
        let m = BroadcastMessage {
            json: TRACK_CHANGED.into(),
        };
        assert_eq!(BroadcastMessage::parse(&b), Ok(m.clone()));
        assert_eq!(m.to_bytes(), b);
        let d = dissect(&b, true);
        assert_eq!(d.malformed, None);
        assert_eq!(
            d.field("event").unwrap().as_str(),
            Some("engine.track.changed")
        );
        let Some(Value::Obj(o)) = d.field("value") else {
            panic!()
        };
        assert_eq!(o[0].0, "engine.track.changed");
        assert!(looks_like_start(&b, 1 << 20));
    }

    #[test]
    fn truncation_and_garbage() {
        let b = BroadcastMessage { json: "{}".into() }.to_bytes();
        for n in 0..b.len() {
            assert!(BroadcastMessage::parse(&b[..n]).is_err(), "prefix {n}");
            assert!(dissect(&b[..n], false).malformed.is_some(), "prefix {n}");
        }
        let bad = parse_hex("00000002ff00").unwrap();
        assert_eq!(
            BroadcastMessage::parse(&bad),
            Err(Error::BadUtf8 {
                what: "broadcast JSON"
            })
        );
        assert!(dissect(&bad, false).malformed.is_some());
    }
}
