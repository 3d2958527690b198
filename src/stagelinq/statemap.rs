//! StateMap service messages, magic `smaa` (`stagelinq.md` 1.5): `u32 len`, `"smaa"`,
//! `u32 sub-id`, then a network-string path and an interval or a JSON value.

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Knowledge, Proto, Value};

use super::statemap_json::{self, StateValue};
use super::wire::{self, Error, Result};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.5: u32 len + "smaa" + u32 sub-id + body.
    pub const LENGTH: Range<usize> = 0..4;
    pub const MAGIC: Range<usize> = 4..8;
    pub const SUB_ID: Range<usize> = 8..12;
    /// Body start: the path network string of every known sub-id.
    pub const PATH: usize = 12;
    pub const INTERVAL_LEN: usize = 4;
}

pub const MAGIC: &[u8; 4] = b"smaa";
pub const SUB_VALUE: u32 = 0x0000_0000;
pub const SUB_SET_OR_RESPONSE: u32 = 0x0000_07d1;
pub const SUB_SUBSCRIBE: u32 = 0x0000_07d2;
/// Interval a subscriber sends when it wants no periodic updates (whatsnowplaying's
/// `NO_UPDATES_INTERVAL`; the SC6000's subscriptions in sc6000_boot.pcap).
pub const NO_UPDATES_INTERVAL: u32 = 0xffff_ffff;
/// Smallest StateMap message: the length prefix, the magic and the sub-id.
pub const HEADER_LEN: usize = field::PATH;

/// One StateMap message. The same connection carries both directions: either end subscribes,
/// emits and (the mixer) writes values (`stagelinq.md` 1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateMapMessage {
    /// 0x7d2: subscribe to `path`. `interval` is 100 from the mixer and
    /// `NO_UPDATES_INTERVAL` from the SC6000 in sc6000_boot.pcap.
    Subscribe { path: String, interval: u32 },
    /// 0x0: the current value of `path`, as UTF-16 JSON text (kept verbatim).
    Value { path: String, json: String },
    /// 0x7d1 with JSON: a value written into the peer (the mixer sets
    /// `/Client/Preferences/Player` and `ExternalMixerVolume` this way).
    Set { path: String, json: String },
    /// 0x7d1 with a u32: go-stagelinq's "subscribe response" echoing an interval.
    SubscribeResponse { path: String, interval: u32 },
    /// Any other sub-id, body kept as is.
    Other { sub_id: u32, body: Vec<u8> },
}

impl StateMapMessage {
    /// A subscription as the mixer sends it (interval 100 ms).
    pub fn subscribe(path: &str, interval: u32) -> Self {
        StateMapMessage::Subscribe {
            path: path.to_string(),
            interval,
        }
    }

    /// A value emit built from a typed value.
    pub fn value(path: &str, v: &StateValue) -> Self {
        StateMapMessage::Value {
            path: path.to_string(),
            json: v.to_json(),
        }
    }

    /// A value write (0x7d1 + JSON) built from a typed value.
    pub fn set(path: &str, v: &StateValue) -> Self {
        StateMapMessage::Set {
            path: path.to_string(),
            json: v.to_json(),
        }
    }

    pub fn sub_id(&self) -> u32 {
        match self {
            Self::Subscribe { .. } => SUB_SUBSCRIBE,
            Self::Value { .. } => SUB_VALUE,
            Self::Set { .. } | Self::SubscribeResponse { .. } => SUB_SET_OR_RESPONSE,
            Self::Other { sub_id, .. } => *sub_id,
        }
    }

    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Subscribe { path, .. }
            | Self::Value { path, .. }
            | Self::Set { path, .. }
            | Self::SubscribeResponse { path, .. } => Some(path),
            Self::Other { .. } => None,
        }
    }

    /// Parse one whole message, length prefix included.
    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        if wire::slice(b, field::MAGIC.start, 4, "magic")? != MAGIC {
            return Err(Error::BadMagic { expected: "smaa" });
        }
        let sub_id = wire::read_u32(b, field::SUB_ID.start, "sub-id")?;
        let msg = match sub_id {
            SUB_SUBSCRIBE => {
                let (path, p) = wire::read_ns(b, field::PATH, "path")?;
                let interval = wire::read_u32(b, p, "interval")?;
                end(b, p + field::INTERVAL_LEN)?;
                Self::Subscribe { path, interval }
            }
            SUB_VALUE => {
                let (path, p) = wire::read_ns(b, field::PATH, "path")?;
                let (json, p) = wire::read_ns(b, p, "json")?;
                end(b, p)?;
                Self::Value { path, json }
            }
            SUB_SET_OR_RESPONSE => {
                let (path, p) = wire::read_ns(b, field::PATH, "path")?;
                // stagelinq.md 1.5: decode 0x7d1 by the remaining length, 4 bytes -> u32.
                if b.len() - p == field::INTERVAL_LEN {
                    let interval = wire::read_u32(b, p, "interval")?;
                    Self::SubscribeResponse { path, interval }
                } else {
                    let (json, p) = wire::read_ns(b, p, "json")?;
                    end(b, p)?;
                    Self::Set { path, json }
                }
            }
            sub_id => Self::Other {
                sub_id,
                body: b[field::PATH..].to_vec(),
            },
        };
        Ok(msg)
    }

    pub fn buffer_len(&self) -> usize {
        field::PATH
            + match self {
                Self::Subscribe { path, .. } | Self::SubscribeResponse { path, .. } => {
                    wire::ns_len(path) + field::INTERVAL_LEN
                }
                Self::Value { path, json } | Self::Set { path, json } => {
                    wire::ns_len(path) + wire::ns_len(json)
                }
                Self::Other { body, .. } => body.len(),
            }
    }

    /// Write into `buf`, which must hold `buffer_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        buf[field::MAGIC].copy_from_slice(MAGIC);
        wire::put_u32(buf, field::SUB_ID.start, self.sub_id());
        match self {
            Self::Subscribe { path, interval } | Self::SubscribeResponse { path, interval } => {
                let p = wire::write_ns(buf, field::PATH, path);
                wire::put_u32(buf, p, *interval);
            }
            Self::Value { path, json } | Self::Set { path, json } => {
                let p = wire::write_ns(buf, field::PATH, path);
                wire::write_ns(buf, p, json);
            }
            Self::Other { body, .. } => {
                buf[field::PATH..field::PATH + body.len()].copy_from_slice(body)
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

fn end(b: &[u8], p: usize) -> Result<()> {
    match b.len().checked_sub(p) {
        Some(0) => Ok(()),
        Some(count) => Err(Error::TrailingBytes {
            what: "statemap message",
            count,
        }),
        None => Err(Error::Truncated {
            what: "statemap message",
            needed: p,
            have: b.len(),
        }),
    }
}

fn interval_meaning(v: u64) -> String {
    match v as u32 {
        0 => "0: updates on change only".to_string(),
        NO_UPDATES_INTERVAL => "0xffffffff: no periodic updates".to_string(),
        ms => format!("{ms} ms minimum repeat (not observed to repeat in practice)"),
    }
}

/// Dissect one StateMap message (types `statemap_subscribe`, `statemap_value`,
/// `statemap_set`, `statemap_subscribe_response`, `statemap_other`). Every type that carries
/// a path exposes it as the `path` field.
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let sub_id = wire::read_u32(b, field::SUB_ID.start, "sub-id").ok();
    let body_len = b.len().saturating_sub(field::PATH);
    let type_name = match sub_id {
        Some(SUB_SUBSCRIBE) => "statemap_subscribe",
        Some(SUB_VALUE) => "statemap_value",
        Some(SUB_SET_OR_RESPONSE) if value_is_u32(b) => "statemap_subscribe_response",
        Some(SUB_SET_OR_RESPONSE) => "statemap_set",
        Some(_) => "statemap_other",
        None => "statemap",
    };
    let mut d = Dissection::new(Proto::StageLinq, type_name);
    d.kind = sub_id;
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    s.constant("magic", field::MAGIC, MAGIC);
    s.uint_with("sub_id", field::SUB_ID, |v| {
        Some(
            match v as u32 {
                SUB_SUBSCRIBE => "0x7d2 subscribe",
                SUB_VALUE => "0x0 value emit",
                SUB_SET_OR_RESPONSE => "0x7d1 value write (JSON) or subscribe response (u32)",
                _ => "unknown sub-id",
            }
            .to_string(),
        )
    });
    let Some(sub_id) = sub_id else {
        d.summary = "truncated StateMap message".to_string();
        return d;
    };
    if sub_id != SUB_SUBSCRIBE && sub_id != SUB_VALUE && sub_id != SUB_SET_OR_RESPONSE {
        // Unknown sub-id: show a leading path when there is one, everything else unknown.
        let path = wire::read_ns(b, field::PATH, "path").ok();
        match &path {
            Some((_, p)) => {
                wire::dissect_ns(&mut s, "path_len", "path", field::PATH);
                s.unknown_rest(*p);
            }
            None => s.unknown_rest(field::PATH),
        }
        d.summary = format!(
            "sub-id {sub_id:#x} {}({body_len} body bytes)",
            path.map_or(String::new(), |(p, _)| format!("{p} "))
        );
        return d;
    }
    let Some((path, p)) = wire::dissect_ns(&mut s, "path_len", "path", field::PATH) else {
        d.summary = "truncated StateMap message".to_string();
        return d;
    };
    let mut summary = None;
    if sub_id == SUB_SUBSCRIBE || type_name == "statemap_subscribe_response" {
        if let Some(v) = s.uint_with("interval", p..p + field::INTERVAL_LEN, |v| {
            Some(interval_meaning(v))
        }) {
            let verb = if sub_id == SUB_SUBSCRIBE {
                "subscribe"
            } else {
                "subscribe response"
            };
            summary = Some(format!("{verb} {path} interval {}", interval_text(v)));
        }
        s.unknown_rest(p + field::INTERVAL_LEN);
    } else if let Some((shown, value_type)) = dissect_json(&mut s, p) {
        let verb = if sub_id == SUB_VALUE { "" } else { "set " };
        summary = Some(format!("{verb}{path} = {shown} ({value_type})"));
    }
    if b.len() > field::PATH && d.malformed.is_none() {
        if let Err(e) = StateMapMessage::parse(b) {
            d.set_malformed(e.to_string());
        }
    }
    d.summary = summary.unwrap_or_else(|| format!("truncated StateMap message for {path}"));
    d
}

fn interval_text(v: u64) -> String {
    if v as u32 == NO_UPDATES_INTERVAL {
        "0xffffffff (no updates)".to_string()
    } else {
        format!("{v} ms")
    }
}

/// True when a 0x7d1 message's body after the path is exactly 4 bytes (the u32 shape).
fn value_is_u32(b: &[u8]) -> bool {
    match wire::read_u32(b, field::PATH, "path") {
        Ok(n) => (n as usize)
            .checked_add(field::PATH + 4 + field::INTERVAL_LEN)
            .is_some_and(|end| end == b.len()),
        Err(_) => false,
    }
}

/// Dissect the JSON network string at `start`: `json_len`, `value` (decoded object, over the
/// JSON text's bytes) and derived `value_type`. Returns the value as text for the summary and
/// the type name.
fn dissect_json(s: &mut FieldSink<'_>, start: usize) -> Option<(String, String)> {
    let n = s.uint("json_len", start..start.saturating_add(4))? as usize;
    let (_, range, end) = wire::ns_ranges(start, n);
    let raw = s.get("value", range.clone())?;
    let text = match wire::decode_utf16be(raw, "json") {
        Ok(t) => t,
        Err(e) => {
            s.out.set_malformed(e.to_string());
            wire::decode_utf16be_lossy(raw)
        }
    };
    let (value, value_type, shown) = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(j) => {
            let ty = j
                .get("type")
                .and_then(|t| t.as_u64())
                .map_or("untyped".into(), statemap_json::type_name);
            let shown = statemap_json::primary_text(&text, &j).unwrap_or_else(|| text.clone());
            (statemap_json::to_value(&j), ty, shown)
        }
        Err(e) => {
            s.out.set_malformed(format!("invalid JSON: {e}"));
            (
                Value::Str(text.clone().into()),
                "invalid_json".into(),
                text.clone(),
            )
        }
    };
    let detail_text = text.clone();
    s.push("value", Some(range), value, Knowledge::Known, || {
        Some(format!("JSON {detail_text}"))
    });
    s.derived("value_type", Value::Str(value_type.clone()));
    s.unknown_rest(end);
    Some((shown, value_type.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// sc6000_boot.pcap f69: the SC6000 subscribes to the mixer's channel count.
    const F69: &str = "0000003e736d6161000007d20000002e002f004d0069007800650072002f004e0075006d006200650072004f0066004300680061006e006e0065006c0073ffffffff";
    /// f78: the mixer subscribes to deck 1's BPM every 100 ms.
    const F78: &str = "0000004c736d6161000007d20000003c002f0045006e00670069006e0065002f004400650063006b0031002f0054007200610063006b002f00430075007200720065006e007400420050004d00000064";
    /// f91: the SC6000 answers with the value.
    const F91: &str = "00000094736d6161000000000000003c002f0045006e00670069006e0065002f004400650063006b0031002f0054007200610063006b002f00430075007200720065006e007400420050004d00000048007b002200740079007000650022003a0030002c002200760061006c007500650022003a003100320031002e0039003700350034003600330038003600370031003800370035007d";

    fn utf16(s: &str) -> String {
        s.encode_utf16().map(|u| format!("{u:04x}")).collect()
    }

    #[test]
    fn real_subscribes_and_value() {
        let cases = [
            (
                F69,
                StateMapMessage::subscribe("/Mixer/NumberOfChannels", NO_UPDATES_INTERVAL),
            ),
            (
                F78,
                StateMapMessage::subscribe("/Engine/Deck1/Track/CurrentBPM", 100),
            ),
            (
                F91,
                StateMapMessage::value(
                    "/Engine/Deck1/Track/CurrentBPM",
                    &StateValue::Number(121.9754638671875),
                ),
            ),
        ];
        for (hex, repr) in cases {
            let b = parse_hex(hex).unwrap();
            assert_eq!(StateMapMessage::parse(&b).unwrap(), repr);
            assert_eq!(repr.to_bytes(), b);
            let d = dissect(&b, true);
            assert_eq!(d.malformed, None, "{}", d.summary);
            assert_eq!(d.field("path").unwrap().as_str(), repr.path());
        }
        let d = dissect(&parse_hex(F91).unwrap(), false);
        assert_eq!(d.type_name, "statemap_value");
        assert_eq!(d.field("value_type").unwrap().as_str(), Some("number"));
        assert_eq!(
            d.field("value"),
            Some(&Value::Obj(vec![
                ("type".into(), Value::U(0)),
                ("value".into(), Value::F(121.9754638671875))
            ]))
        );
        assert_eq!(
            d.summary,
            "/Engine/Deck1/Track/CurrentBPM = 121.9754638671875 (number)"
        );
        let d = dissect(&parse_hex(F69).unwrap(), false);
        assert_eq!(d.type_name, "statemap_subscribe");
        assert_eq!(d.field("interval").unwrap().as_u64(), Some(0xffff_ffff));
    }

    #[test]
    fn real_mixer_writes_f194_f201() {
        // f201 in full; f194 carries three such messages back to back.
        let path = "/Engine/Deck1/ExternalMixerVolume";
        let json = r#"{"type":0,"value":0.00}"#;
        let hex = format!(
            "00000080736d6161000007d1{:08x}{}{:08x}{}",
            path.len() * 2,
            utf16(path),
            json.len() * 2,
            utf16(json)
        );
        let b = parse_hex(&hex).unwrap();
        assert_eq!(b.len(), 132);
        let repr = StateMapMessage::Set {
            path: path.into(),
            json: statemap_json::number_json_fixed(0.0, 2),
        };
        assert_eq!(StateMapMessage::parse(&b).unwrap(), repr);
        assert_eq!(repr.to_bytes(), b);
        let d = dissect(&b, false);
        assert_eq!(d.type_name, "statemap_set");
        assert_eq!(
            d.summary,
            "set /Engine/Deck1/ExternalMixerVolume = 0.00 (number)"
        );
        let player =
            StateMapMessage::set("/Client/Preferences/Player", &StateValue::Enum("1".into()));
        assert_eq!(player.buffer_len(), 118);
    }

    #[test]
    fn subscribe_response_u32_shape() {
        // go-stagelinq's test vector shape: path + echoed interval 0xffffffff.
        let m = StateMapMessage::SubscribeResponse {
            path: "/Client/Preferences/Player".into(),
            interval: NO_UPDATES_INTERVAL,
        };
        let b = m.to_bytes();
        assert_eq!(&b[..12], parse_hex("00000044736d6161000007d1").unwrap());
        assert_eq!(StateMapMessage::parse(&b).unwrap(), m);
        let d = dissect(&b, false);
        assert_eq!(d.type_name, "statemap_subscribe_response");
        assert_eq!(
            d.field("path").unwrap().as_str(),
            Some("/Client/Preferences/Player")
        );
    }

    #[test]
    fn other_sub_ids_are_kept() {
        let mut b = StateMapMessage::subscribe("/X", 0).to_bytes();
        b[8..12].copy_from_slice(&0x7d3u32.to_be_bytes());
        let m = StateMapMessage::parse(&b).unwrap();
        assert_eq!(
            m,
            StateMapMessage::Other {
                sub_id: 0x7d3,
                body: b[12..].to_vec()
            }
        );
        assert_eq!(m.to_bytes(), b);
        let d = dissect(&b, false);
        assert_eq!(d.type_name, "statemap_other");
        assert_eq!(d.field("path").unwrap().as_str(), Some("/X"));
    }

    #[test]
    fn truncation_and_garbage() {
        let b = parse_hex(F91).unwrap();
        for n in 0..b.len() {
            assert!(StateMapMessage::parse(&b[..n]).is_err(), "prefix {n}");
            assert!(dissect(&b[..n], false).malformed.is_some(), "prefix {n}");
        }
        let mut bad = b.clone();
        bad[4] = b'x';
        assert_eq!(
            StateMapMessage::parse(&bad),
            Err(Error::BadMagic { expected: "smaa" })
        );
        assert!(dissect(&bad, false).malformed.is_some());
        // JSON that is not JSON: the message still round-trips, the dissection says why.
        let m = StateMapMessage::Value {
            path: "/A".into(),
            json: "{oops".into(),
        };
        let d = dissect(&m.to_bytes(), false);
        assert!(d.malformed.as_deref().unwrap().starts_with("invalid JSON"));
        assert_eq!(
            d.field("value_type").unwrap().as_str(),
            Some("invalid_json")
        );
        // A path length far past the end.
        let mut huge = b.clone();
        huge[12..16].copy_from_slice(&[0x7f, 0xff, 0xff, 0xfe]);
        assert!(StateMapMessage::parse(&huge).is_err());
        assert!(dissect(&huge, true).malformed.is_some());
    }
}
