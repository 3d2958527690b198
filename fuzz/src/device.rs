//! The emulated dbserver (`djdissect::device::dbserver`): a hostile client's bytes into a
//! port-query session and a database session.

use std::sync::{Arc, OnceLock};

use djdissect::dbserver::message::SETUP_TRANSACTION_ID;
use djdissect::dbserver::requests::SetupRequest;
use djdissect::dbserver::{self, Framed, Greeting, MessageFramer};
use djdissect::device::dbserver::{
    DbServerSession, Limits, PortQuerySession, ServerRules, Verdict,
};
use djdissect::device::library::Library;

use super::common::{chunks, Bytes};

/// The largest single answer the demo library gives (the detail waveform of its longest
/// track, 512 s x 150 columns, with headers), the most a backlog can pass its bound by.
const LARGEST_ANSWER: usize = 512 * 150 + 4096;

fn library() -> Arc<Library> {
    static LIB: OnceLock<Arc<Library>> = OnceLock::new();
    LIB.get_or_init(|| Arc::new(Library::demo())).clone()
}

/// First byte: flags (which model's rules, whether a greeting and setup come first, a small
/// backlog bound); next four: chunk sizes; the rest: what the client sends.
pub fn dbserver_server(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let sizes = b.take(4).to_vec();
    let bytes = b.rest();
    let rules = match flags & 3 {
        0 => ServerRules::nexus(2),
        1 => ServerRules::cdj3000(2),
        _ => ServerRules::rekordbox(17),
    };
    let limits = Limits {
        max_backlog: if flags & 8 != 0 {
            4096
        } else {
            Limits::default().max_backlog
        },
        ..Limits::default()
    };
    let mut s = DbServerSession::with_limits(library(), rules, limits);
    let mut out = Vec::new();
    if flags & 4 != 0 {
        let mut hello = Greeting::default().to_bytes();
        hello.extend(
            SetupRequest { requester: 1 }
                .to_message(SETUP_TRANSACTION_ID)
                .to_bytes(),
        );
        assert_eq!(s.on_bytes(&hello, &mut out), Verdict::Keep);
    }
    let mut closed = false;
    for c in chunks(bytes, &sizes) {
        let before = out.len();
        let v = s.on_bytes(c, &mut out);
        if closed {
            assert_eq!(v, Verdict::Close, "a closed session stays closed");
            assert_eq!(out.len(), before, "a closed session sends nothing");
        }
        closed |= v == Verdict::Close;
        assert!(s.buffered() <= limits.max_request, "buffer past its bound");
        assert!(
            out.len() <= limits.max_backlog + LARGEST_ANSWER,
            "backlog past its bound"
        );
    }
    // Everything sent is a greeting or a message that re-emits its bytes and dissects cleanly.
    let mut f = MessageFramer::new();
    for x in f.push(&out).into_iter().chain(f.finish()) {
        match x {
            Framed::Greeting { .. } => {}
            Framed::Message { bytes, message, .. } => {
                assert_eq!(message.to_bytes(), bytes, "answer re-emits");
                let d = dbserver::dissect(&bytes, false);
                assert!(d.malformed.is_none(), "answer dissects: {:?}", d.malformed);
                assert_ne!(d.type_name, "unknown");
            }
            other => panic!("unreadable answer: {other:?}"),
        }
    }

    // The port query: at most one answer of exactly two bytes, and only with a close.
    let mut q = PortQuerySession::new(rules.port);
    let mut answer = Vec::new();
    for c in chunks(bytes, &sizes) {
        if q.on_bytes(c, &mut answer) == Verdict::Close {
            break;
        }
        assert!(answer.is_empty());
    }
    assert!(answer.is_empty() || answer.len() == 2);
}
