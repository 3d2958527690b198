//! Checks shared by the Pro DJ Link unit tests.

use crate::dissect::{Dissection, Field, Knowledge};

use super::{dissect, Packet};

/// Bytes from hex text (whitespace ignored); panics on bad hex, which is a broken test.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    crate::util::parse_hex(s).expect("valid hex in test")
}

/// The checks every well-formed packet must pass, returning the dissection for more asserts:
/// * it parses, and emitting the Repr gives the same bytes;
/// * the dissection is not malformed, and its byte ranges (fields and unknown ranges, in order)
///   cover the packet exactly once;
/// * the detail dissection has the same fields and values, plus meanings;
/// * the Packet's type name matches the dissection's.
pub(crate) fn check(port: u16, b: &[u8]) -> Dissection {
    let packet = b;
    let p = Packet::parse(port, b).unwrap_or_else(|e| panic!("parse failed: {e}"));
    assert_eq!(p.to_bytes(), b, "emit(parse(b)) != b for {p:?}");
    let d = dissect(port, b, false);
    assert_eq!(d.malformed, None, "{d:#?}");
    assert_eq!(p.type_name(), d.type_name);
    let detailed = dissect(port, b, true);
    assert_covers(&detailed, b.len());
    // Unknown ranges exist only in the detail view; every other field is the same in both.
    let known = |d: &Dissection| -> Vec<Field> {
        d.fields
            .iter()
            .filter(|f| f.knowledge != Knowledge::Unknown)
            .cloned()
            .collect()
    };
    assert!(d.fields.iter().all(|f| f.knowledge != Knowledge::Unknown));
    let (a_fields, b_fields) = (known(&detailed), known(&d));
    assert_eq!(a_fields.len(), b_fields.len());
    for (a, b) in a_fields.iter().zip(&b_fields) {
        assert_eq!((&a.name, &a.range, &a.value), (&b.name, &b.range, &b.value));
        assert_eq!(
            b.meaning, None,
            "meaning formatted without detail: {}",
            b.name
        );
    }
    for u in detailed
        .fields
        .iter()
        .filter(|f| f.knowledge == Knowledge::Unknown)
    {
        assert_eq!(
            u.value,
            crate::dissect::Value::Bytes(b_bytes(packet, &u.range))
        );
    }
    assert_eq!(detailed.summary, d.summary);
    d
}

fn b_bytes(packet: &[u8], r: &Option<std::ops::Range<usize>>) -> Vec<u8> {
    r.clone()
        .and_then(|r| packet.get(r))
        .unwrap_or(&[])
        .to_vec()
}

/// Fields with byte ranges are in ascending order, do not overlap, and cover `0..len`.
pub(crate) fn assert_covers(d: &Dissection, len: usize) {
    let mut pos = 0;
    for f in &d.fields {
        let Some(r) = &f.range else {
            assert_eq!(f.knowledge, Knowledge::Derived, "{} has no range", f.name);
            continue;
        };
        assert_eq!(r.start, pos, "gap or overlap before {} in {d:#?}", f.name);
        assert!(r.end > r.start, "empty range for {}", f.name);
        pos = r.end;
    }
    assert_eq!(pos, len, "fields stop at 0x{pos:x} of 0x{len:x}");
}
