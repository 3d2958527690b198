//! Every Pro DJ Link UDP decoder: `Packet::parse` for each (port, kind) and `dissect`.

use djdissect::prodjlink::{self, Packet, MAGIC, PORTS};

use super::common::{check_dissection, Bytes};

/// First byte: the port (one of 50000-50004, or any port for 1 in 8 inputs), whether to put
/// the magic in front (so every kind is reachable without the fuzzer finding it) and whether
/// to ask for the detail view. The rest is the payload.
pub fn prodjlink_udp(data: &[u8]) {
    let mut b = Bytes::new(data);
    let sel = b.u8();
    let port = if sel & 0xe0 == 0xe0 {
        b.u16()
    } else {
        PORTS[usize::from(sel & 7) % PORTS.len()]
    };
    let detail = sel & 0x08 != 0;
    let mut payload = Vec::new();
    if sel & 0x10 != 0 {
        payload.extend_from_slice(&MAGIC);
    }
    payload.extend_from_slice(b.rest());
    check(port, &payload, detail);
}

pub fn check(port: u16, payload: &[u8], detail: bool) {
    let d = prodjlink::dissect(port, payload, detail);
    check_dissection(&d, payload, "prodjlink dissect", detail);
    // The head-only dissection `read` uses for text and sessions says the same.
    let h = prodjlink::dissect(port, payload, djdissect::dissect::Depth::Head);
    assert_eq!(
        (
            &h.type_name,
            h.kind,
            h.device,
            &h.name,
            &h.summary,
            &h.malformed
        ),
        (
            &d.type_name,
            d.kind,
            d.device,
            &d.name,
            &d.summary,
            &d.malformed
        ),
        "head at Depth::Head"
    );
    // The session's depth: the same identity; status packets may leave the summary out.
    let i = prodjlink::dissect(port, payload, djdissect::dissect::Depth::Identity);
    assert_eq!(
        (&i.type_name, i.kind, i.device, &i.name, &i.malformed),
        (&d.type_name, d.kind, d.device, &d.name, &d.malformed),
        "head at Depth::Identity"
    );
    assert!(i.summary.is_empty() || i.summary == d.summary);
    if let Ok(p) = Packet::parse(port, payload) {
        // Anything that parses re-emits the same bytes, and parses back to itself.
        assert_eq!(p.buffer_len(), payload.len(), "{}", p.type_name());
        let bytes = p.to_bytes();
        assert_eq!(bytes, payload, "emit(parse(b)) != b for {}", p.type_name());
        assert_eq!(Packet::parse(port, &bytes).as_ref(), Ok(&p));
        assert_eq!(
            p.type_name(),
            d.type_name,
            "parse and dissect agree on the type"
        );
        assert_eq!(p.port(), port, "{} is sent to its own port", p.type_name());
        // `Unknown` keeps any bytes at all (even a bare magic without a kind byte), which
        // dissect may rightly call truncated; every described kind must dissect cleanly, but
        // for a length field claiming more than the datagram holds (prodjlink/length.rs),
        // which the Repr keeps as sent.
        let length_claim = d
            .malformed
            .as_deref()
            .is_some_and(|m| m.starts_with("length field claims"));
        assert!(
            matches!(p, Packet::Unknown(_)) || d.malformed.is_none() || length_claim,
            "{} parses but dissect calls it malformed: {:?}",
            p.type_name(),
            d.malformed
        );
    }
}
