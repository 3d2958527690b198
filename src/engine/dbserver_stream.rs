//! dbserver messages cut from a reassembled stream, turned into records: each response paired
//! with its request (`request_frame`, `latency_ms`), completed exchanges told in words
//! (`exchange`), and the track a metadata answer described (`track`, for the session).

use std::ops::ControlFlow;

use crate::dbserver::{self, Conversation, Framed};
use crate::dissect::Depth;
use crate::dissect::{Dissection, Proto, Value};

use super::tcp::{emit, Ctx};
use super::{ReadStats, Sink};

/// One framed dbserver piece as a record, paired with its request when it is a response.
pub(super) fn dbserver_framed(
    framed: Framed,
    ctx: Ctx,
    conv: &mut Conversation,
    detail: Depth,
    stats: &mut ReadStats,
    sink: &mut Sink<'_>,
) -> ControlFlow<()> {
    match framed {
        Framed::Greeting { greeting, .. } => {
            let bytes = greeting.to_bytes();
            emit(
                stats,
                sink,
                &ctx.record(&bytes, dbserver::dissect(&bytes, detail)),
            )
        }
        Framed::Message { bytes, message, .. } => {
            let d = dbserver::dissect_parsed(&bytes, &message, detail);
            let obs = conv.observe_owned(ctx.frame, ctx.ts_ns.max(0) as u64, message);
            let mut r = ctx.record(&bytes, d);
            if let Some(req) = obs.request {
                r.extra.push(("request_frame", Value::U(req.frame)));
            }
            if let Some(l) = obs.latency_ms() {
                r.extra.push(("latency_ms", Value::round(l, 3)));
            }
            if let Some(text) = obs.completed {
                r.extra.push(("exchange", Value::Str(text.into())));
            }
            if let Some(t) = obs.track {
                r.extra.push(("track", track_value(&t)));
            }
            emit(stats, sink, &r)
        }
        Framed::Malformed { bytes, error, .. } => {
            let mut d = dbserver::dissect(&bytes, detail);
            d.set_malformed(error.to_string());
            emit(stats, sink, &ctx.record(&bytes, d))
        }
        Framed::Discarded { bytes, reason, .. } => {
            let mut d = Dissection::new(Proto::DbServer, "unknown");
            d.summary = format!(
                "{} bytes that are not a dbserver message ({reason:?})",
                bytes.len()
            );
            let mut sinkf = crate::dissect::FieldSink::new(&bytes, &mut d, detail);
            sinkf.unknown(0..bytes.len());
            emit(stats, sink, &ctx.record(&bytes, d))
        }
    }
}

fn track_value(t: &dbserver::TrackMetadata) -> Value {
    let s = |v: &Option<String>| {
        v.clone()
            .map(|s| Value::Str(s.into()))
            .unwrap_or(Value::Null)
    };
    Value::Obj(vec![
        (
            "player".into(),
            t.player.map(|p| Value::U(p as u64)).unwrap_or(Value::Null),
        ),
        ("slot".into(), Value::str(t.slot)),
        ("rekordbox_id".into(), Value::U(t.rekordbox_id as u64)),
        ("title".into(), s(&t.title)),
        ("artist".into(), s(&t.artist)),
        ("album".into(), s(&t.album)),
        ("genre".into(), s(&t.genre)),
        ("key".into(), s(&t.key)),
        (
            "bpm".into(),
            t.bpm.map(|b| Value::round(b, 2)).unwrap_or(Value::Null),
        ),
        (
            "duration_s".into(),
            t.duration_s
                .map(|d| Value::U(d as u64))
                .unwrap_or(Value::Null),
        ),
    ])
}
