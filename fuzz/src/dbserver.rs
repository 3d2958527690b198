//! The dbserver decoders: fields, messages (generic and typed bodies), greeting, port query,
//! the dissector, the stream framer and the conversation tracker.

use djdissect::dbserver::{
    self, Body, Conversation, Field, Framed, Greeting, Message, MessageFramer, PortAnswer,
    PortQuery,
};

use super::common::{check_dissection, chunks, Bytes};

/// First byte: flags (detail view, a gap in the stream, a small framer buffer); next four:
/// chunk sizes for the framer; the rest: the bytes.
pub fn dbserver_message(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let sizes = b.take(4).to_vec();
    let bytes = b.rest();
    let detail = flags & 1 != 0;

    check_dissection(
        &dbserver::dissect(bytes, detail),
        bytes,
        "dbserver dissect",
        detail,
    );
    check_dissection(
        &dbserver::dissect_port_query(bytes, detail),
        bytes,
        "port query dissect",
        detail,
    );
    message(bytes, detail);
    if let Ok((f, n)) = Field::parse(bytes) {
        assert_eq!(f.to_bytes(), &bytes[..n], "field");
        assert_eq!(f.buffer_len(), n);
    }
    if let Ok((g, n)) = Greeting::parse(bytes) {
        assert_eq!(g.to_bytes(), &bytes[..n], "greeting");
    }
    if let Ok((q, n)) = PortQuery::parse(bytes) {
        assert_eq!(q.to_bytes(), &bytes[..n], "port query");
    }
    if let Ok((a, n)) = PortAnswer::parse(bytes) {
        assert_eq!(a.to_bytes(), &bytes[..n], "port answer");
    }
    framer(bytes, &sizes, flags);
}

/// A message that parses re-emits its bytes; so does its typed body.
pub fn message(bytes: &[u8], detail: bool) {
    let Ok((m, n)) = Message::parse(bytes) else {
        return;
    };
    let own = &bytes[..n];
    assert_eq!(m.buffer_len(), n);
    assert_eq!(m.to_bytes(), own, "emit(parse(b)) != b");
    assert_eq!(Message::parse(own), Ok((m.clone(), n)));
    if let Some(body) = Body::from_message(&m) {
        assert_eq!(
            body.to_message(m.transaction_id),
            m,
            "typed body {body:?} does not give back its message"
        );
    }
    let d = dbserver::dissect(own, detail);
    check_dissection(&d, own, "dbserver message dissect", detail);
    assert!(
        d.malformed.is_none(),
        "parses but dissect says malformed: {:?}",
        d.malformed
    );
}

/// Push the bytes in chunks (maybe with a gap in the middle): every byte comes out exactly
/// once, in order, as a greeting, message, malformed or discarded piece.
fn framer(bytes: &[u8], sizes: &[u8], flags: u8) {
    let max = if flags & 4 != 0 {
        64 + usize::from(flags) * 4
    } else {
        dbserver::framer::DEFAULT_MAX_BUFFER
    };
    let mut f = MessageFramer::with_max_buffer(max);
    let mut conv = Conversation::default();
    let mut seen = Vec::with_capacity(bytes.len());
    let parts = chunks(bytes, sizes);
    let gap_at = (flags & 2 != 0).then_some(parts.len() / 2);
    for (i, part) in parts.iter().enumerate() {
        if gap_at == Some(i) {
            take(f.gap(), &mut seen, &mut conv);
        }
        take(f.push(part), &mut seen, &mut conv);
        assert!(f.buffered() <= max, "the framer holds at most its bound");
    }
    take(f.finish(), &mut seen, &mut conv);
    assert_eq!(f.buffered(), 0);
    assert!(seen == bytes, "framer lost or invented bytes");
}

fn take(framed: Vec<Framed>, seen: &mut Vec<u8>, conv: &mut Conversation) {
    for fr in framed {
        let (offset, piece) = match fr {
            Framed::Greeting { offset, greeting } => (offset, greeting.to_bytes()),
            Framed::Message {
                offset,
                bytes,
                message,
            } => {
                assert_eq!(
                    message.to_bytes(),
                    bytes,
                    "framed message re-emits its bytes"
                );
                let _ = conv.observe(offset, offset, &message);
                (offset, bytes)
            }
            Framed::Malformed { offset, bytes, .. } | Framed::Discarded { offset, bytes, .. } => {
                (offset, bytes)
            }
        };
        assert_eq!(offset, seen.len() as u64, "pieces are contiguous");
        assert!(!piece.is_empty(), "empty piece");
        seen.extend_from_slice(&piece);
    }
}
