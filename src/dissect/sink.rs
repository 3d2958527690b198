//! Building a [`Dissection`]: how much of it to build ([`Depth`]) and the bounds-checked
//! [`FieldSink`] every decoder adds its fields through (to a field list, as JSON text, or
//! nowhere, as the depth says).

use std::borrow::Cow;
use std::ops::Range;

use super::{ascii_trim, be_uint, le_uint, value, Dissection, Field, Knowledge, Value};

/// How much of a message's dissection to build. Every depth reads and bounds-checks every field
/// (so malformations are always found); they differ in what they keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Depth {
    /// What a session tracker needs: proto, kind, type, device, name and malformed. The most
    /// frequent messages (CDJ and mixer status, beats, precise positions, BeatInfo) leave their
    /// one-line summary empty; the others still have one. Nothing is printed from it.
    Identity,
    /// The head only: proto, kind, type, device, name, summary and malformed. The field list
    /// stays empty. For outputs that print no fields (the text line, filters on words and
    /// names): building ~60 fields for every status packet would cost more than all the rest.
    Head,
    /// The head, with the named fields written straight into `fields_json` as JSON (NDJSON
    /// output): no `Field` or `Value` is built for a number or a name.
    Json,
    /// The head and every named field (JSON `fields`, filters on field values).
    #[default]
    Fields,
    /// Fields plus plain-language meanings and unknown ranges (detail views).
    Detail,
}

impl Depth {
    /// Whether fields are kept in the `fields` list.
    pub fn keeps_fields(self) -> bool {
        matches!(self, Depth::Fields | Depth::Detail)
    }

    /// Whether meanings and unknown ranges are filled in.
    pub fn is_detail(self) -> bool {
        self == Depth::Detail
    }

    /// Whether the one-line summary is wanted (every depth but [`Depth::Identity`]).
    pub fn wants_summary(self) -> bool {
        self != Depth::Identity
    }
}

/// `true` is a detail view and `false` the usual field list, as the `detail` flags always were.
impl From<bool> for Depth {
    fn from(detail: bool) -> Depth {
        if detail {
            Depth::Detail
        } else {
            Depth::Fields
        }
    }
}

/// Adds bounds-checked fields to a dissection.
///
/// Every method takes the field's byte range from the message's `field` table. If the range
/// is not inside the message, the field is skipped and the dissection marked malformed
/// ("truncated: <field> needs bytes a..b, message has n"). Meanings are closures so that they
/// cost nothing unless the detail view asked for them.
pub struct FieldSink<'a> {
    pub bytes: &'a [u8],
    pub out: &'a mut Dissection,
    /// Meanings and unknown ranges are recorded ([`Depth::Detail`]).
    pub detail: bool,
    /// Fields go into the `fields` list.
    list: bool,
    /// Fields are written as JSON into `fields_json` ([`Depth::Json`]).
    json: bool,
    /// The one-line summary is wanted (not [`Depth::Identity`]).
    pub summary: bool,
}

impl<'a> FieldSink<'a> {
    pub fn new(bytes: &'a [u8], out: &'a mut Dissection, depth: impl Into<Depth>) -> Self {
        let depth = depth.into();
        FieldSink {
            bytes,
            out,
            detail: depth.is_detail(),
            list: depth.keeps_fields(),
            json: depth == Depth::Json,
            summary: depth.wants_summary(),
        }
    }

    /// Whether fields are recorded at all (not [`Depth::Head`]): callers skip building values
    /// nobody will see.
    #[inline(always)]
    pub fn wants(&self) -> bool {
        self.list || self.json
    }

    /// Start a member of the JSON `fields` object: `,"name":`.
    #[inline]
    fn json_key(&mut self, name: &str) {
        if is_identifier(name) {
            self.json_key_plain(name);
        } else {
            self.json_separator();
            value::write_json_str(&mut self.out.fields_json, name);
            self.out.fields_json.push(b':');
        }
    }

    /// `json_key` for a name known to need no escaping: the `&'static str` field names of the
    /// decoders' field tables, which are snake_case identifiers (the filter words). Checked in
    /// debug builds; `tests/dissection_depth.rs` also compares this JSON with the escaped one.
    #[inline]
    fn json_key_plain(&mut self, name: &str) {
        debug_assert!(is_identifier(name), "field name {name:?}");
        self.json_separator();
        let out = &mut self.out.fields_json;
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    }

    #[inline]
    fn json_separator(&mut self) {
        let out = &mut self.out.fields_json;
        if out.is_empty() {
            // One allocation for the whole object: a field costs about 4 bytes of message and
            // 20 of JSON.
            out.reserve(64 + self.bytes.len() * 6);
        } else {
            out.push(b',');
        }
    }

    /// The bytes of `range`, or None (and the dissection marked truncated) if they are not all there.
    #[inline]
    pub fn get(&mut self, name: &str, range: Range<usize>) -> Option<&'a [u8]> {
        let bytes: &'a [u8] = self.bytes;
        match bytes.get(range.clone()) {
            Some(b) => Some(b),
            None => {
                self.truncated(name, range);
                None
            }
        }
    }

    #[cold]
    fn truncated(&mut self, name: &str, range: Range<usize>) {
        let n = self.bytes.len();
        self.out.set_malformed(format!(
            "truncated: {name} needs bytes 0x{:x}..0x{:x}, message has 0x{n:x}",
            range.start, range.end
        ));
    }

    /// A member whose value is a name from a decoder's table or `0x..`: a snake_case word, so
    /// written without an escaping scan (checked in debug builds).
    pub fn json_code(&mut self, name: &'static str, code: &str) {
        debug_assert!(is_identifier(code), "code name {code:?}");
        self.json_key_plain(name);
        let out = &mut self.out.fields_json;
        out.push(b'"');
        out.extend_from_slice(code.as_bytes());
        out.push(b'"');
    }

    /// Whether fields are written as JSON text ([`Depth::Json`]).
    pub fn writes_json(&self) -> bool {
        self.json
    }

    /// A JSON member whose value is bytes as a hex string (what `Value::Bytes` renders).
    fn json_hex(&mut self, name: &'static str, b: &[u8]) {
        self.json_key_plain(name);
        let out = &mut self.out.fields_json;
        out.push(b'"');
        value::push_hex(out, b);
        out.push(b'"');
    }

    /// Push a field whose value the caller already computed. Inlined so that, when fields are
    /// not kept, building and dropping the value compiles away.
    #[inline(always)]
    pub fn push(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        range: Option<Range<usize>>,
        value: Value,
        knowledge: Knowledge,
        meaning: impl FnOnce() -> Option<String>,
    ) {
        if self.json {
            // Unknown ranges are not members of the JSON `fields` object.
            if knowledge != Knowledge::Unknown {
                match name.into() {
                    Cow::Borrowed(n) => self.json_key_plain(n),
                    Cow::Owned(n) => self.json_key(&n),
                }
                value.write_json(&mut self.out.fields_json);
            }
            return;
        }
        if !self.list {
            return;
        }
        let meaning = if self.detail { meaning() } else { None };
        self.out.fields.push(Field {
            name: name.into(),
            range,
            value,
            meaning,
            knowledge,
        });
    }

    /// Unsigned big-endian integer of 1..=8 bytes.
    #[inline]
    pub fn uint(&mut self, name: &'static str, range: Range<usize>) -> Option<u64> {
        self.uint_with(name, range, |_| None)
    }

    /// Unsigned big-endian integer with a meaning.
    #[inline]
    pub fn uint_with(
        &mut self,
        name: &'static str,
        range: Range<usize>,
        meaning: impl FnOnce(u64) -> Option<String>,
    ) -> Option<u64> {
        let b = self.get(name, range.clone())?;
        let v = be_uint(b);
        if self.json {
            self.json_key_plain(name);
            value::push_uint(&mut self.out.fields_json, v);
        } else if self.list {
            self.push(name, Some(range), Value::U(v), Knowledge::Known, || {
                meaning(v)
            });
        }
        Some(v)
    }

    /// Unsigned little-endian integer of 1..=8 bytes.
    pub fn uint_le(&mut self, name: &'static str, range: Range<usize>) -> Option<u64> {
        let b = self.get(name, range.clone())?;
        let v = le_uint(b);
        if self.wants() {
            self.push(name, Some(range), Value::U(v), Knowledge::Known, || None);
        }
        Some(v)
    }

    /// A value computed by the caller from the bytes of `range`.
    pub fn value(
        &mut self,
        name: &'static str,
        range: Range<usize>,
        f: impl FnOnce(&[u8]) -> Value,
        meaning: impl FnOnce(&Value) -> Option<String>,
    ) -> Option<Value> {
        let b = self.get(name, range.clone())?;
        let v = f(b);
        if self.json {
            self.json_key_plain(name);
            v.write_json(&mut self.out.fields_json);
        } else if self.list {
            let m = if self.detail { meaning(&v) } else { None };
            self.out.fields.push(Field {
                name: name.into(),
                range: Some(range),
                value: v.clone(),
                meaning: m,
                knowledge: Knowledge::Known,
            });
        }
        Some(v)
    }

    /// NUL-padded ASCII text.
    pub fn ascii(&mut self, name: &'static str, range: Range<usize>) -> Option<String> {
        let b = self.get(name, range.clone())?;
        let s = ascii_trim(b);
        if self.json {
            self.json_key_plain(name);
            value::write_json_str(&mut self.out.fields_json, &s);
        } else if self.list {
            let v = Value::Str(s.clone().into());
            self.push(name, Some(range), v, Knowledge::Known, || None);
        }
        Some(s)
    }

    /// Raw bytes shown as hex (known meaning, e.g. a MAC or a magic).
    pub fn bytes(&mut self, name: &'static str, range: Range<usize>) -> Option<&'a [u8]> {
        let b = self.get(name, range.clone())?;
        if self.json {
            self.json_hex(name, b);
        } else if self.list {
            let v = Value::Bytes(b.to_vec());
            self.push(name, Some(range), v, Knowledge::Known, || None);
        }
        Some(b)
    }

    /// A constant the reference says is always the same; the meaning notes when it differs.
    pub fn constant(&mut self, name: &'static str, range: Range<usize>, expected: &[u8]) {
        let Some(b) = self.get(name, range.clone()) else {
            return;
        };
        if self.json {
            self.json_hex(name, b);
        } else if self.list {
            let same = b == expected;
            let v = Value::Bytes(b.to_vec());
            self.push(name, Some(range), v, Knowledge::Known, || {
                Some(if same {
                    "constant, as expected".to_string()
                } else {
                    format!("expected {}", crate::util::hex(expected))
                })
            });
        }
    }

    /// Bytes whose meaning nobody has described. Clipped to what is present (never malformed):
    /// an unknown tail that is shorter than usual is not an error. Only detail views record
    /// them (the field table then covers every byte); elsewhere they carry nothing and are
    /// skipped, which keeps the hot path free of them.
    pub fn unknown(&mut self, range: Range<usize>) {
        if !self.detail {
            return;
        }
        let end = range.end.min(self.bytes.len());
        if range.start >= end {
            return;
        }
        self.out.fields.push(Field {
            name: Cow::Owned(format!("unknown_{:x}", range.start)),
            range: Some(range.start..end),
            value: Value::Bytes(self.bytes[range.start..end].to_vec()),
            meaning: None,
            knowledge: Knowledge::Unknown,
        });
    }

    /// Every byte from `start` to the end of the message is unknown.
    pub fn unknown_rest(&mut self, start: usize) {
        self.unknown(start..self.bytes.len());
    }

    /// A derived value (no bytes of its own), e.g. effective BPM.
    pub fn derived(&mut self, name: &'static str, value: Value) {
        self.push(name, None, value, Knowledge::Derived, || None);
    }

    /// Mark every byte that no field covers as unknown. For dissectors that stop at a
    /// truncated field (a length that runs past the message): the bytes after it stay
    /// accounted for. Only needed on the malformed path; complete messages are covered field
    /// by field.
    pub fn unknown_holes(&mut self) {
        let mut ranges: Vec<Range<usize>> = self
            .out
            .fields
            .iter()
            .filter_map(|f| f.range.clone())
            .collect();
        ranges.sort_unstable_by_key(|r| r.start);
        let mut holes = Vec::new();
        let mut at = 0;
        for r in ranges {
            if r.start > at {
                holes.push(at..r.start);
            }
            at = at.max(r.end);
        }
        holes.push(at..self.bytes.len());
        for h in holes {
            self.unknown(h);
        }
    }
}

/// A snake_case identifier (letters, digits, `_`): what every field name should be.
fn is_identifier(name: &str) -> bool {
    name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Proto;

    #[test]
    fn sink_marks_truncation_and_keeps_what_fits() {
        let bytes = [1u8, 2, 3];
        let mut d = Dissection::new(Proto::ProDjLink, "test");
        let mut s = FieldSink::new(&bytes, &mut d, false);
        assert_eq!(s.uint("a", 0..2), Some(0x0102));
        assert_eq!(s.uint("b", 2..4), None);
        s.unknown(2..10);
        // Outside detail views unknown bytes are not recorded.
        assert_eq!(d.fields.len(), 1);
        let mut s = FieldSink::new(&bytes, &mut d, true);
        s.unknown(2..10);
        assert_eq!(d.fields.len(), 2);
        assert_eq!(d.fields[1].range, Some(2..3));
        assert!(d
            .malformed
            .as_deref()
            .unwrap()
            .contains("b needs bytes 0x2..0x4"));
    }

    #[test]
    fn holes_become_unknown() {
        let bytes = [0u8; 10];
        let mut d = Dissection::new(Proto::StageLinq, "test");
        let mut s = FieldSink::new(&bytes, &mut d, true);
        s.uint("a", 2..4);
        s.uint("b", 3..6);
        s.unknown_holes();
        let ranges: Vec<_> = d.fields.iter().map(|f| f.range.clone().unwrap()).collect();
        assert_eq!(ranges, vec![2..4, 3..6, 0..2, 6..10]);
        // Outside detail views holes are not recorded (like every unknown range).
        let mut d = Dissection::new(Proto::StageLinq, "test");
        let mut s = FieldSink::new(&bytes, &mut d, false);
        s.uint("a", 2..4);
        s.unknown_holes();
        assert_eq!(d.fields.len(), 1);
    }

    #[test]
    fn several_fields_in_one_pass() {
        let bytes = [1u8, 2, 3];
        let mut d = Dissection::new(Proto::ProDjLink, "test");
        let mut s = FieldSink::new(&bytes, &mut d, false);
        s.uint("a", 0..1);
        s.uint("b", 1..2);
        let [b, z, a] = d.fields_named(["b", "z", "a"]);
        assert_eq!((a, b, z), (Some(&Value::U(1)), Some(&Value::U(2)), None));
    }
}
