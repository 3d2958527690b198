//! Helpers shared by the checks: reading structured choices out of fuzzer bytes, and the
//! invariants every dissection must keep.

use djdissect::dissect::{Dissection, Knowledge};

/// Reads small values from the front of the fuzzer input; past the end everything is 0.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }
}

/// Split `data` into chunks whose sizes come from `sizes` (cycled; 0 means 1).
pub fn chunks<'a>(data: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .map_or(rest.len(), |&s| usize::from(s).max(1) * 7)
            .min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
        i += 1;
    }
    out
}

/// The dissection contract (`src/dissect/mod.rs`): every field's byte range lies inside the
/// message, and fields plus unknown ranges account for every byte of the message.
/// Every field lies inside the message; in detail dissections (where unknown ranges are
/// recorded) every byte is in some field.
pub fn check_dissection(d: &Dissection, bytes: &[u8], what: &str, detail: bool) {
    let len = bytes.len();
    let mut covered = vec![false; len];
    for f in &d.fields {
        let Some(r) = &f.range else {
            assert!(
                f.knowledge != Knowledge::Unknown,
                "{what}: unknown field {} has no range",
                f.name
            );
            continue;
        };
        assert!(
            r.start <= r.end && r.end <= len,
            "{what}: field {} at {:?} lies outside the {len}-byte message ({})",
            f.name,
            r,
            d.type_name
        );
        for c in &mut covered[r.clone()] {
            *c = true;
        }
    }
    if let Some(hole) = covered.iter().position(|c| !c).filter(|_| detail) {
        panic!(
            "{what}: byte {hole} of the {len}-byte {} message is in no field ({:?})",
            d.type_name,
            d.fields
                .iter()
                .map(|f| (f.name.to_string(), f.range.clone()))
                .collect::<Vec<_>>()
        );
    }
    assert!(!d.type_name.is_empty(), "{what}: empty type name");
}
