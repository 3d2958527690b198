//! Checks shared by the Pro DJ Link unit tests.

use crate::dissect::{Dissection, Knowledge};

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
    assert_covers(&d, b.len());
    assert_eq!(p.type_name(), d.type_name);
    let detailed = dissect(port, b, true);
    assert_eq!(detailed.fields.len(), d.fields.len());
    for (a, b) in detailed.fields.iter().zip(&d.fields) {
        assert_eq!(a.knowledge, b.knowledge);
        if a.knowledge == Knowledge::Unknown {
            // Unknown bytes carry their name and bytes only in detail views; the range always.
            assert_eq!(a.range, b.range);
            assert_eq!(
                a.value,
                crate::dissect::Value::Bytes(b_bytes(packet, &a.range))
            );
            continue;
        }
        assert_eq!((&a.name, &a.range, &a.value), (&b.name, &b.range, &b.value));
        assert_eq!(
            b.meaning, None,
            "meaning formatted without detail: {}",
            b.name
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
