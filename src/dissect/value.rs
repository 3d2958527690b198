//! Typed field values and their JSON and text renderings.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// A decoded value. JSON rendering is hand-written (no intermediate `serde_json::Value`) because
/// NDJSON output is on the hot path.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    Str(Cow<'static, str>),
    /// Raw bytes; JSON renders them as a lowercase hex string.
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Obj(Vec<(Cow<'static, str>, Value)>),
}

impl Value {
    pub fn str(s: impl Into<Cow<'static, str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::U(v) => Some(v as f64),
            Value::I(v) => Some(v as f64),
            Value::F(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U(v) => Some(v),
            Value::I(v) if v >= 0 => Some(v as u64),
            Value::Bool(b) => Some(b as u64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A float rounded to `digits` decimals (BPMs and percentages read better that way in JSON).
    #[inline]
    pub fn round(v: f64, digits: i32) -> Value {
        // Powers of ten are exact doubles; the table spares a powi call per BPM and pitch.
        const POW: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
        let p = match usize::try_from(digits).ok().and_then(|d| POW.get(d)) {
            Some(&p) => p,
            None => 10f64.powi(digits),
        };
        Value::F((v * p).round() / p)
    }

    /// Append the JSON rendering to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::U(v) => push_uint(out, *v),
            Value::I(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Value::F(v) => crate::output::numbers::push_json_f64(out, *v),
            Value::Str(s) => write_json_str(out, s),
            Value::Bytes(b) => {
                out.push(b'"');
                push_hex(out, b);
                out.push(b'"');
            }
            Value::List(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write_json(out);
                }
                out.push(b']');
            }
            Value::Obj(items) => {
                out.push(b'{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, k);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
        }
    }

    pub fn to_json_string(&self) -> String {
        let mut v = Vec::new();
        self.write_json(&mut v);
        String::from_utf8(v).expect("JSON writer emits UTF-8")
    }
}

impl fmt::Display for Value {
    /// Human text: numbers plainly, strings unquoted, bytes as spaced hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("-"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::U(v) => write!(f, "{v}"),
            Value::I(v) => write!(f, "{v}"),
            Value::F(v) => write!(f, "{v}"),
            Value::Str(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&crate::util::hex_spaced(b)),
            Value::List(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_char(']')
            }
            Value::Obj(items) => {
                f.write_char('{')?;
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_char('}')
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn push_hex(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(b.len() * 2);
    for &x in b {
        out.push(HEX[(x >> 4) as usize]);
        out.push(HEX[(x & 15) as usize]);
    }
}

/// Bytes that must be escaped in a JSON string: control characters, `"` and `\\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// `v` in decimal. Most fields are flags and small counters: one and two digits are written
/// directly.
#[inline]
pub fn push_uint(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
    } else if v < 100 {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// Index of the first byte JSON needs escaped, if any. Eight bytes at a time (a word with no
/// control byte, quote or backslash is skipped whole): field names and most values have none,
/// and every record has dozens of them.
fn first_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Exact "some byte is zero" / "some byte is below 0x20" tests (no false negatives).
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let has_control = |v: u64| v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        if has_control(v)
            || has_zero(v ^ (ONES * b'"' as u64))
            || has_zero(v ^ (ONES * b'\\' as u64))
        {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&c| NEEDS_ESCAPE[c as usize])
        .map(|p| i + p)
}

/// Append `s` as a JSON string literal.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    // Most strings (names, paths, titles) need no escaping: copy runs between escapes whole.
    while let Some(off) = first_escape(&bytes[start..]) {
        let i = start + off;
        out.extend_from_slice(&bytes[start..i]);
        let c = bytes[i];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn integers_as_itoa_writes_them(v in prop_oneof![0u64..200, any::<u64>()]) {
            let mut out = Vec::new();
            push_uint(&mut out, v);
            prop_assert_eq!(out, v.to_string().into_bytes());
        }

        #[test]
        fn escaping_finds_what_the_table_finds(s in proptest::collection::vec(any::<u8>(), 0..40)) {
            let slow = s.iter().position(|&c| NEEDS_ESCAPE[c as usize]);
            prop_assert_eq!(first_escape(&s), slow);
        }

        #[test]
        fn strings_round_trip_through_serde(s in ".{0,40}") {
            let mut out = Vec::new();
            write_json_str(&mut out, &s);
            let back: String = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(back, s);
        }
    }

    #[test]
    fn json_is_valid_and_round_trips_through_serde() {
        let v = Value::Obj(vec![
            ("a".into(), Value::U(1)),
            ("b".into(), Value::str("x\"\n\u{1}é")),
            (
                "c".into(),
                Value::List(vec![Value::Bool(true), Value::Null, Value::F(128.5)]),
            ),
            ("d".into(), Value::Bytes(vec![0xde, 0xad])),
            ("e".into(), Value::F(f64::NAN)),
            ("f".into(), Value::I(-3)),
        ]);
        let s = v.to_json_string();
        let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed["b"], "x\"\n\u{1}é");
        assert_eq!(parsed["c"][2], 128.5);
        assert_eq!(parsed["d"], "dead");
        assert!(parsed["e"].is_null());
        assert_eq!(parsed["f"], -3);
    }
}
