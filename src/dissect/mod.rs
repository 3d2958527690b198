//! The dissection model shared by every protocol decoder and every output format.
//!
//! A decoder turns the bytes of one message into a [`Dissection`]: a type name, a list of
//! [`Field`]s (each with its byte range inside the message, a typed [`Value`] and, in detail
//! mode, a plain-language meaning), and a malformed reason when the bytes do not fit the layout.
//! Byte ranges come from each message's `field` table, so the detail view, the hex dump's
//! "unknown" marks and the JSON `fields` object are all driven by the same description.
//!
//! Decoders add fields through a [`FieldSink`], which bounds-checks every range against the
//! message: a field that runs past the end is not read, and the dissection is marked malformed
//! with what could be read, so a short packet never panics.

mod sink;
pub(crate) mod value;

pub use sink::{Depth, FieldSink};
pub use value::Value;

use std::borrow::Cow;
use std::ops::Range;

/// How much is known about a field's bytes (drives the colours and marks of the detail view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Knowledge {
    /// Meaning documented in the protocol reference.
    Known,
    /// Bytes nobody has explained: shown as unknown, not put in the JSON `fields` object.
    Unknown,
    /// A value computed from other fields (effective BPM...): no byte range of its own.
    Derived,
}

/// One named field of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Stable snake_case name: the JSON key and the filter word.
    pub name: Cow<'static, str>,
    /// Byte range inside the message (None for derived values).
    pub range: Option<Range<usize>>,
    pub value: Value,
    /// Plain-language meaning, filled only in detail mode.
    pub meaning: Option<String>,
    pub knowledge: Knowledge,
}

/// Protocol a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    ProDjLink,
    DbServer,
    StageLinq,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::ProDjLink => "prodjlink",
            Proto::DbServer => "dbserver",
            Proto::StageLinq => "stagelinq",
        }
    }
}

/// The decoded meaning of one protocol message.
#[derive(Clone, PartialEq)]
pub struct Dissection {
    pub proto: Proto,
    /// Kind/type number as the wire has it (Pro DJ Link kind byte, dbserver message type,
    /// StageLinQ message id); None when the protocol has none.
    pub kind: Option<u32>,
    /// snake_case type name (`keep_alive`, `cdj_status`, `metadata_request`, `statemap_value`).
    pub type_name: Cow<'static, str>,
    /// Device number, when the message carries one.
    pub device: Option<u32>,
    /// Device name, when the message carries one.
    pub name: Option<String>,
    /// One-line summary of the key values (`128.00 BPM +0.00% beat 3/4 playing master`).
    pub summary: String,
    pub fields: Vec<Field>,
    /// At [`Depth::Json`], the named fields written as the members of the JSON `fields` object
    /// (`"kind":10,"name":"CDJ-2000NXS2",...`) instead of being kept in `fields`.
    pub fields_json: Vec<u8>,
    /// Why the message does not fit its layout, when it does not.
    pub malformed: Option<String>,
}

/// As derived, but `fields_json` only when it holds something (it is empty at every depth but
/// `Depth::Json`, and snapshots of dissections predate it).
impl std::fmt::Debug for Dissection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Dissection");
        d.field("proto", &self.proto)
            .field("kind", &self.kind)
            .field("type_name", &self.type_name)
            .field("device", &self.device)
            .field("name", &self.name)
            .field("summary", &self.summary)
            .field("fields", &self.fields);
        if !self.fields_json.is_empty() {
            d.field("fields_json", &String::from_utf8_lossy(&self.fields_json));
        }
        d.field("malformed", &self.malformed).finish()
    }
}

impl Dissection {
    pub fn new(proto: Proto, type_name: impl Into<Cow<'static, str>>) -> Self {
        Dissection {
            proto,
            kind: None,
            type_name: type_name.into(),
            device: None,
            name: None,
            summary: String::new(),
            fields: Vec::new(),
            fields_json: Vec::new(),
            malformed: None,
        }
    }

    /// The value of the field called `name`, if present.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }

    /// The values of several fields in one pass over the field list (the session reads a
    /// dozen fields of every status packet; one scan instead of one per name).
    pub fn fields_named<const N: usize>(&self, names: [&str; N]) -> [Option<&Value>; N] {
        let mut out = [None; N];
        let mut left = N;
        for f in &self.fields {
            if let Some(i) = names.iter().position(|n| *n == f.name) {
                if out[i].is_none() {
                    out[i] = Some(&f.value);
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
        }
        out
    }

    /// Record a malformation; the first reason wins (it is usually the cause of the others).
    pub fn set_malformed(&mut self, reason: impl Into<String>) {
        if self.malformed.is_none() {
            self.malformed = Some(reason.into());
        }
    }
}

/// Big-endian unsigned integer from up to 8 bytes.
#[inline]
pub fn be_uint(b: &[u8]) -> u64 {
    // The usual widths in one load each; anything else byte by byte.
    match *b {
        [x] => x as u64,
        [a, b] => u16::from_be_bytes([a, b]) as u64,
        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]) as u64,
        _ => b.iter().take(8).fold(0u64, |acc, &x| (acc << 8) | x as u64),
    }
}

/// Little-endian unsigned integer from up to 8 bytes.
pub fn le_uint(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// ASCII text up to the first NUL, with non-printable bytes replaced.
pub fn ascii_trim(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let text = &b[..end];
    // Device names and firmware versions are plain printable ASCII: copied whole.
    if text.iter().all(|c| (0x20..0x7f).contains(c)) {
        return String::from_utf8_lossy(text).into_owned();
    }
    text.iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_text() {
        assert_eq!(be_uint(&[0x12, 0x34]), 0x1234);
        assert_eq!(le_uint(&[0x12, 0x34]), 0x3412);
        assert_eq!(ascii_trim(b"CDJ-3000\0\0junk"), "CDJ-3000");
    }
}
