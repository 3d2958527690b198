//! The JSON values StateMap carries (`stagelinq.md` 1.5, "JSON value shapes"): decoding for
//! the dissector and building for emulators. Keys are written in alphabetical order, as the
//! devices do, and `type` is always present.

use std::borrow::Cow;

use crate::dissect::Value;

/// Plain name of a JSON `type` code (`stagelinq.md` 1.5 table).
pub fn type_name(code: u64) -> Cow<'static, str> {
    Cow::Borrowed(match code {
        0 => "number",
        1 => "state",
        2 => "momentary",
        3 => "track_data_flag",
        4 => "enum",
        8 => "string",
        10 => "integer",
        14 => "samples",
        16 => "colour",
        other => return Cow::Owned(format!("type_{other}")),
    })
}

/// Convert decoded JSON into a dissection value (objects keep their key order).
pub fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::U(u)
            } else if let Some(i) = n.as_i64() {
                Value::I(i)
            } else {
                Value::F(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Str(s.clone().into()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(to_value).collect()),
        serde_json::Value::Object(o) => Value::Obj(
            o.iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), to_value(v)))
                .collect(),
        ),
    }
}

/// The one value a state JSON is about (`value`, `state`, `string` or `color`), as text for
/// summaries: numbers exactly as written in `raw` (the mixer's `0.00` stays `0.00`), strings
/// quoted, colours bare.
pub fn primary_text(raw: &str, v: &serde_json::Value) -> Option<String> {
    let o = v.as_object()?;
    let (key, x) = ["value", "state", "string", "color"]
        .iter()
        .find_map(|k| o.get(*k).map(|x| (*k, x)))?;
    Some(match x {
        serde_json::Value::String(s) if key == "color" => s.clone(),
        serde_json::Value::Number(n) => raw_number(raw, key).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    })
}

/// The literal text of the number after `"key":` in `raw`.
fn raw_number(raw: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let start = raw.find(&pat)? + pat.len();
    let rest = raw.get(start..)?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// A StateMap value, typed, for building messages by hand (`stagelinq.md` 1.5 table).
#[derive(Debug, Clone, PartialEq)]
pub enum StateValue {
    /// type 0: `{"type":0,"value":<number>}` (BPM, tempo, fader and volume levels).
    Number(f64),
    /// type 1: `{"state":<bool>,"type":1}` (PlayState, DeckIsMaster, LayerB...).
    State(bool),
    /// type 2: momentary/button state.
    Momentary(bool),
    /// type 3: track-data flag.
    TrackDataFlag(bool),
    /// type 4: enum string (`/Client/Preferences/Player` "1", SyncMode "Off").
    Enum(String),
    /// type 8: free text (ArtistName, ChannelAssignmentN).
    Text(String),
    /// type 10: integer (NumberOfChannels, TrackLength).
    Integer(i64),
    /// type 14: sample-domain integer (CuePosition, SampleRate).
    Samples(i64),
    /// type 16: ARGB colour string `#aarrggbb`.
    Colour(String),
}

impl StateValue {
    pub fn type_code(&self) -> u32 {
        match self {
            StateValue::Number(_) => 0,
            StateValue::State(_) => 1,
            StateValue::Momentary(_) => 2,
            StateValue::TrackDataFlag(_) => 3,
            StateValue::Enum(_) => 4,
            StateValue::Text(_) => 8,
            StateValue::Integer(_) => 10,
            StateValue::Samples(_) => 14,
            StateValue::Colour(_) => 16,
        }
    }

    /// The JSON text a device sends for this value.
    pub fn to_json(&self) -> String {
        let t = self.type_code();
        match self {
            StateValue::Number(v) => format!("{{\"type\":{t},\"value\":{}}}", number_text(*v)),
            StateValue::State(b) | StateValue::Momentary(b) | StateValue::TrackDataFlag(b) => {
                format!("{{\"state\":{b},\"type\":{t}}}")
            }
            StateValue::Enum(s) | StateValue::Text(s) => {
                format!("{{\"string\":{},\"type\":{t}}}", json_string(s))
            }
            StateValue::Integer(v) | StateValue::Samples(v) => {
                format!("{{\"type\":{t},\"value\":{v}}}")
            }
            StateValue::Colour(c) => format!("{{\"color\":{},\"type\":{t}}}", json_string(c)),
        }
    }

    /// Read a state JSON text back into a typed value (None for shapes outside the table).
    pub fn from_json(text: &str) -> Option<StateValue> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let o = v.as_object()?;
        let t = o.get("type")?.as_u64()?;
        let state = || o.get("state").and_then(|s| s.as_bool());
        let string = || o.get("string").and_then(|s| s.as_str()).map(str::to_string);
        let int = || o.get("value").and_then(|s| s.as_i64());
        Some(match t {
            0 => StateValue::Number(o.get("value")?.as_f64()?),
            1 => StateValue::State(state()?),
            2 => StateValue::Momentary(state()?),
            3 => StateValue::TrackDataFlag(state()?),
            4 => StateValue::Enum(string()?),
            8 => StateValue::Text(string()?),
            10 => StateValue::Integer(int()?),
            14 => StateValue::Samples(int()?),
            16 => StateValue::Colour(o.get("color")?.as_str()?.to_string()),
            _ => return None,
        })
    }
}

/// The X1800/X1850 mixer writes numbers with two fixed decimals (`{"type":0,"value":0.00}`,
/// `stagelinq.md` 1.5); this builds that exact text.
pub fn number_json_fixed(v: f64, decimals: usize) -> String {
    format!("{{\"type\":0,\"value\":{v:.decimals$}}}")
}

/// Numbers as the players print them: integral values without a fraction, others in the
/// shortest form that reads back exactly (`121.9754638671875` in sc6000_boot.pcap).
fn number_text(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        super::wire::f64_text(v)
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_texts_seen_in_the_capture() {
        // Every value shape of sc6000_boot.pcap section 3.5.
        let cases = [
            (
                StateValue::Number(121.9754638671875),
                r#"{"type":0,"value":121.9754638671875}"#,
            ),
            (
                StateValue::Number(132.935546875),
                r#"{"type":0,"value":132.935546875}"#,
            ),
            (
                StateValue::Colour("#ffea2828".into()),
                r##"{"color":"#ffea2828","type":16}"##,
            ),
            (StateValue::State(false), r#"{"state":false,"type":1}"#),
            (StateValue::State(true), r#"{"state":true,"type":1}"#),
            (StateValue::Integer(4), r#"{"type":10,"value":4}"#),
            (StateValue::Text(",1".into()), r#"{"string":",1","type":8}"#),
            (StateValue::Enum("1".into()), r#"{"string":"1","type":4}"#),
        ];
        for (v, text) in cases {
            assert_eq!(v.to_json(), text);
            assert_eq!(StateValue::from_json(text), Some(v));
        }
        assert_eq!(number_json_fixed(0.0, 2), r#"{"type":0,"value":0.00}"#);
        assert_eq!(
            StateValue::from_json(r#"{"type":0,"value":0.00}"#),
            Some(StateValue::Number(0.0))
        );
        assert_eq!(
            StateValue::Text("a\"b".into()).to_json(),
            r#"{"string":"a\"b","type":8}"#
        );
    }

    #[test]
    fn decodes_into_dissection_values() {
        let raw = r#"{"type":0,"value":0.00}"#;
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(
            to_value(&v),
            Value::Obj(vec![
                ("type".into(), Value::U(0)),
                ("value".into(), Value::F(0.0))
            ])
        );
        assert_eq!(primary_text(raw, &v).as_deref(), Some("0.00"));
        let raw = r##"{"color":"#ff1cd2e5","type":16}"##;
        let c: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(primary_text(raw, &c).as_deref(), Some("#ff1cd2e5"));
        let raw = r#"{"string":"1","type":4}"#;
        let c: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(primary_text(raw, &c).as_deref(), Some("\"1\""));
        assert_eq!(type_name(16), "colour");
        assert_eq!(type_name(99), "type_99");
        assert_eq!(StateValue::from_json("[1]"), None);
        assert_eq!(StateValue::from_json(r#"{"type":77}"#), None);
    }
}
