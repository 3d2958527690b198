//! The StageLinQ decoders, one target per family: each message parsed whole (parse, emit,
//! dissect), and the same bytes cut into messages by the stream decoder in random chunks,
//! with or without a gap.

use djdissect::stagelinq::classify::StreamKind;
use djdissect::stagelinq::filetransfer_tracker::FileTransferTracker;
use djdissect::stagelinq::statemap_json::StateValue;
use djdissect::stagelinq::{
    self, directory, discovery, eaas, stream, ConnectionDecoder, Message, ServiceDirectory, Side,
    StreamDecoder, StreamMessage,
};

use super::common::{check_dissection, chunks, Bytes};

/// Flags (first byte), chunk sizes (next four), then the bytes.
struct Input<'a> {
    detail: bool,
    hello: bool,
    gap: Option<u64>,
    small: bool,
    sizes: Vec<u8>,
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn read(data: &'a [u8]) -> Input<'a> {
        let mut b = Bytes::new(data);
        let flags = b.u8();
        let sizes = b.take(4).to_vec();
        Input {
            detail: flags & 1 != 0,
            hello: flags & 2 != 0,
            // A gap of unknown length (0) or of 1..=255 bytes, in the middle of the stream.
            gap: (flags & 4 != 0).then(|| u64::from(sizes.first().copied().unwrap_or(0))),
            small: flags & 8 != 0,
            sizes,
            bytes: b.rest(),
        }
    }
}

/// One framed message: the dissection stays inside it and what parses re-emits it.
fn whole(kind: StreamKind, b: &[u8], hello: bool, detail: bool) -> Option<Message> {
    let (d, m) = stream::decode(kind, b, hello, detail);
    check_dissection(&d, b, kind.as_str(), detail);
    let m = m?;
    assert_eq!(m.buffer_len(), b.len(), "{}", d.type_name);
    assert_eq!(m.to_bytes(), b, "emit(parse(b)) != b for {}", d.type_name);
    // The Reprs keep JSON text, action strings and frame bodies as bytes; the dissector also
    // judges what they say. Any other complaint about a message that parses is a disagreement
    // between parse and dissect about its layout.
    const CONTENT: [&str; 4] = [
        "invalid JSON",
        "broadcast JSON is not UTF-8",
        "unexpected action",
        "start/stop frame with a body",
    ];
    if let Some(why) = &d.malformed {
        assert!(
            CONTENT.iter().any(|c| why.starts_with(c)),
            "{} parses but dissect says malformed: {why}",
            d.type_name
        );
    }
    Some(m)
}

/// Every message a stream decoder returns keeps the contract; pieces account for every byte
/// pushed, in order.
fn check_messages(msgs: &[StreamMessage], pushed: &mut Vec<u8>) {
    let mut transfers = FileTransferTracker::new();
    for m in msgs {
        if let Some(Message::FileTransfer(ft)) = &m.message {
            let _ = transfers.observe(ft);
        }
        check_dissection(&m.dissection, &m.bytes, "stream message", false);
        if let Some(parsed) = &m.message {
            assert_eq!(parsed.to_bytes(), m.bytes, "{}", m.dissection.type_name);
        }
        assert!(
            !m.bytes.is_empty(),
            "empty piece: {} {:?}",
            m.dissection.type_name,
            m.dissection.summary
        );
        pushed.extend_from_slice(&m.bytes);
    }
}

/// Push `inp.bytes` through a decoder of `kind` (or one that recognises the stream).
fn through_stream(kind: Option<StreamKind>, inp: &Input<'_>) {
    let dec = match kind {
        Some(k) => StreamDecoder::new(k),
        None => StreamDecoder::auto(None),
    };
    let max = if inp.small {
        64 + inp.bytes.len() / 4
    } else {
        stream::DEFAULT_MAX_MESSAGE_LEN
    };
    let mut dec = dec.with_detail(inp.detail).with_max_message_len(max);
    let parts = chunks(inp.bytes, &inp.sizes);
    let gap_at = inp.gap.map(|_| parts.len() / 2);
    let mut out = Vec::new();
    let mut last_offset = 0;
    for (i, part) in parts.iter().enumerate() {
        if gap_at == Some(i) {
            match inp.gap {
                Some(0) => dec.gap(),
                Some(n) => dec.gap_len(n),
                None => {}
            }
        }
        for m in dec.feed(part) {
            assert!(m.offset >= last_offset, "offsets go forward");
            last_offset = m.offset;
            out.push(m);
        }
        assert!(
            dec.buffered() <= max.max(stream::CLASSIFY_LIMIT) + part.len(),
            "decoder holds {} bytes",
            dec.buffered()
        );
    }
    out.extend(dec.finish());
    assert_eq!(dec.buffered(), 0);
    let mut seen = Vec::new();
    check_messages(&out, &mut seen);
    assert!(seen == inp.bytes, "stream decoder lost or invented bytes");
}

pub fn stagelinq_discovery(data: &[u8]) {
    let inp = Input::read(data);
    let b = inp.bytes;
    let mut dir = ServiceDirectory::new();
    check_dissection(
        &discovery::dissect(b, inp.detail),
        b,
        "discovery",
        inp.detail,
    );
    check_dissection(&eaas::dissect(b, inp.detail), b, "eaas", inp.detail);
    if let Ok(d) = discovery::Discovery::parse(b) {
        assert_eq!(d.to_bytes(), b, "discovery");
        dir.observe("10.0.0.1".parse().unwrap(), &Message::Discovery(d));
    }
    if let Ok(e) = eaas::EaasDiscovery::parse(b) {
        assert_eq!(e.to_bytes(), b, "eaas");
    }
    if let Some((d, m)) = stagelinq::dissect_datagram(b, inp.detail) {
        check_dissection(&d, b, "datagram", inp.detail);
        if let Some(m) = m {
            assert_eq!(m.to_bytes(), b);
        }
    }
}

pub fn stagelinq_directory(data: &[u8]) {
    let inp = Input::read(data);
    let b = inp.bytes;
    let _ = whole(StreamKind::Directory, b, inp.hello, inp.detail);
    for framing in [directory::frame(b), directory::frame_announcement(b)] {
        if let directory::Framing::Complete(n) = framing {
            assert!(n <= b.len());
            let _ = whole(StreamKind::Directory, &b[..n], inp.hello, inp.detail);
        }
    }
    if inp.small {
        // Both directions of a connection nobody announced: recognised from the bytes.
        let mut c = ConnectionDecoder::new(None, inp.detail);
        let half = b.len() / 2;
        let mut seen = [Vec::new(), Vec::new()];
        let mut got = c.push(Side::Client, &b[..half]);
        got.extend(c.push(Side::Server, &b[half..]));
        got.extend(c.finish());
        for (side, m) in got {
            check_messages(
                std::slice::from_ref(&m),
                &mut seen[usize::from(side == Side::Server)],
            );
        }
        assert!(
            seen[0] == b[..half] && seen[1] == b[half..],
            "connection lost bytes"
        );
    } else {
        through_stream(Some(StreamKind::Directory), &inp);
    }
}

pub fn stagelinq_statemap(data: &[u8]) {
    let inp = Input::read(data);
    if let Some(Message::StateMap(m)) =
        whole(StreamKind::StateMap, inp.bytes, inp.hello, inp.detail)
    {
        use djdissect::stagelinq::statemap::StateMapMessage as S;
        if let S::Value { json, .. } | S::Set { json, .. } = &m {
            // A typed value read from the JSON gives the same value back from its own text.
            if let Some(v) = StateValue::from_json(json) {
                let again = StateValue::from_json(&v.to_json());
                assert!(
                    again.as_ref() == Some(&v) || matches!(v, StateValue::Number(f) if f.is_nan()),
                    "{v:?} -> {} -> {again:?}",
                    v.to_json()
                );
            }
        }
    }
    through_stream(Some(StreamKind::StateMap), &inp);
}

pub fn stagelinq_beatinfo(data: &[u8]) {
    let inp = Input::read(data);
    let _ = whole(StreamKind::BeatInfo, inp.bytes, inp.hello, inp.detail);
    through_stream(
        if inp.hello {
            None
        } else {
            Some(StreamKind::BeatInfo)
        },
        &inp,
    );
}

pub fn stagelinq_filetransfer(data: &[u8]) {
    let inp = Input::read(data);
    let mut t = FileTransferTracker::new();
    if let Some(Message::FileTransfer(m)) =
        whole(StreamKind::FileTransfer, inp.bytes, inp.hello, inp.detail)
    {
        let _ = t.observe(&m);
    }
    through_stream(Some(StreamKind::FileTransfer), &inp);
}
