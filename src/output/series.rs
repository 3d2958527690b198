//! Changed-byte marks of the detail view: what changed since the same device's previous packet
//! of the same port and kind to the same destination (dysentery's packet window, as
//! `prodjlink.md` 11.1 describes it).
//!
//! Every record is remembered, shown or not, so that a filtered view marks what changed since
//! the packet before, not since the packet shown before. Messages whose length varies (menu
//! items, StageLinQ values, status packets of other firmware) are compared field by field: a
//! field's bytes are compared with the bytes of the field of the same name (and the same
//! occurrence) in the previous packet, wherever each lies; bytes no field claims are compared
//! at the same offset.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;

use crate::dissect::Proto;
use crate::record::Record;

/// Series whose previous packet is remembered; a hostile capture could invent millions, so past
/// the bound the memory starts afresh (only the marks of the next packet of each are lost).
const MAX_SERIES: usize = 4096;

/// "The same device's packet of the same port and kind to the same destination".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    proto: Proto,
    src: IpAddr,
    dst: IpAddr,
    device: Option<u32>,
    port: u16,
    kind: Option<u32>,
    type_name: String,
}

impl SeriesKey {
    fn of(r: &Record<'_>) -> Self {
        let d = &r.dissection;
        SeriesKey {
            proto: d.proto,
            src: r.src.ip(),
            dst: r.dst.ip(),
            device: d.device,
            port: r.port,
            kind: d.kind,
            type_name: d.type_name.to_string(),
        }
    }
}

/// A packet as remembered: its bytes and where each field lay.
#[derive(Debug, Default)]
struct Previous {
    bytes: Vec<u8>,
    fields: Vec<(Box<str>, Range<usize>)>,
}

/// What changed in one packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Per byte of the packet.
    pub bytes: Vec<bool>,
    /// Per field of the dissection (in its order): whether any of its bytes changed.
    pub fields: Vec<bool>,
}

#[derive(Debug, Default)]
pub struct Series {
    previous: HashMap<SeriesKey, Previous>,
}

impl Series {
    /// Compare `r` with its series' previous packet (None for the first of a series), then
    /// remember it in its place.
    pub fn compare_and_remember(&mut self, r: &Record<'_>) -> Option<Changes> {
        let key = SeriesKey::of(r);
        if self.previous.len() >= MAX_SERIES && !self.previous.contains_key(&key) {
            self.previous.clear();
        }
        let slot = self.previous.entry(key).or_default();
        let had = !slot.bytes.is_empty() || !slot.fields.is_empty();
        let changes = had.then(|| compare(slot, r));
        slot.bytes.clear();
        slot.bytes.extend_from_slice(r.bytes);
        slot.fields.clear();
        slot.fields.extend(
            r.dissection
                .fields
                .iter()
                .filter_map(|f| Some((Box::from(&*f.name), f.range.clone()?))),
        );
        changes
    }
}

fn compare(prev: &Previous, r: &Record<'_>) -> Changes {
    let bytes = r.bytes;
    let mut changed = vec![false; bytes.len()];
    let mut covered = vec![false; bytes.len()];
    let mut fields = vec![false; r.dissection.fields.len()];
    // How many fields of each name came before: the n-th `label` is compared with the n-th.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (fi, f) in r.dissection.fields.iter().enumerate() {
        let Some(range) = f.range.clone() else {
            continue;
        };
        let n = seen.entry(&f.name).or_insert(0);
        let before = prev
            .fields
            .iter()
            .filter(|(name, _)| **name == *f.name)
            .nth(*n)
            .map(|(_, r)| r.clone());
        *n += 1;
        let end = range.end.min(bytes.len());
        for (i, at) in (range.start.min(end)..end).enumerate() {
            covered[at] = true;
            let old = before
                .as_ref()
                .and_then(|b| (i < b.len()).then(|| prev.bytes.get(b.start + i)).flatten());
            if old != Some(&bytes[at]) {
                changed[at] = true;
                fields[fi] = true;
            }
        }
        // A field that was longer before changed too, even where the bytes agree.
        if before.is_some_and(|b| b.len() != range.len()) {
            fields[fi] = true;
        }
    }
    for (at, b) in bytes.iter().enumerate() {
        if !covered[at] && prev.bytes.get(at) != Some(b) {
            changed[at] = true;
        }
    }
    Changes {
        bytes: changed,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::{Dissection, Field, Knowledge, Value};

    fn record<'a>(
        bytes: &'a [u8],
        fields: &[(&'static str, Range<usize>)],
        dst: &str,
    ) -> Record<'a> {
        let mut d = Dissection::new(Proto::DbServer, "menu_item");
        d.fields = fields
            .iter()
            .map(|(n, r)| Field {
                name: (*n).into(),
                range: Some(r.clone()),
                value: Value::Null,
                meaning: None,
                knowledge: Knowledge::Known,
            })
            .collect();
        Record {
            frame: 1,
            ts_ns: 0,
            src: "169.254.1.2:1051".parse().unwrap(),
            dst: dst.parse().unwrap(),
            interface: 0,
            port: 1051,
            bytes,
            dissection: d,
            extra: vec![],
        }
    }

    #[test]
    fn variable_length_messages_are_compared_field_by_field() {
        let mut s = Series::default();
        // A label of 3 bytes, then an id; next time a label of 5 bytes, the same id.
        let a = [3, b'a', b'b', b'c', 0, 7];
        let b = [5, b'a', b'b', b'c', b'd', b'e', 0, 7];
        let fa = [("label_len", 0..1), ("label", 1..4), ("id", 4..6)];
        let fb = [("label_len", 0..1), ("label", 1..6), ("id", 6..8)];
        assert_eq!(
            s.compare_and_remember(&record(&a, &fa, "169.254.1.3:1")),
            None
        );
        let c = s
            .compare_and_remember(&record(&b, &fb, "169.254.1.3:1"))
            .unwrap();
        // By offset everything after byte 0 would differ; by field only the length byte and
        // the label's two new bytes do, and the id is unchanged.
        assert_eq!(
            c.bytes,
            [true, false, false, false, true, true, false, false]
        );
        assert_eq!(c.fields, [true, true, false]);
    }

    #[test]
    fn series_are_per_destination_and_unmarked_bytes_compare_by_offset() {
        let mut s = Series::default();
        let f = [("id", 0..1)];
        s.compare_and_remember(&record(&[1, 9], &f, "169.254.1.3:1"));
        // Another destination: a series of its own, nothing to compare with.
        assert_eq!(
            s.compare_and_remember(&record(&[2, 9], &f, "169.254.1.4:1")),
            None
        );
        let c = s
            .compare_and_remember(&record(&[1, 8], &f, "169.254.1.3:1"))
            .unwrap();
        assert_eq!(c.bytes, [false, true]);
        assert_eq!(c.fields, [false]);
    }
}
