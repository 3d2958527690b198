//! Field-by-field dissection of one dbserver message (`prodjlink.md` 7.2-7.3).
//!
//! Every field's range covers its whole encoding (type byte, length, value), so the header
//! fields and arguments together account for every byte; arguments are named from the
//! [`catalog`], bytes after the last argument are marked unknown.

use super::blobs::{self, BeatGrid};
use super::catalog::{self, BlobKind, Role};
use super::field::{arg_tag, field_type, Field};
use super::menu_item::{ItemValue, MenuItem};
use super::message::{blob_omitted, field, Greeting, Message, MAGIC, SETUP_TRANSACTION_ID};
use super::requests::Dmst;
use super::responses::NOT_FOUND;
use super::words::{cue_list, summary};
use crate::dissect::Depth;
use crate::dissect::{be_uint, Dissection, FieldSink, Knowledge, Proto, Value};
use std::borrow::Cow;
use std::ops::Range;

pub use super::port_query::dissect_port_query;

/// Dissect the bytes of one message (or of a 5-byte greeting) as the framer delivered them.
pub fn dissect(msg_bytes: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    accounted(dissect_fields(msg_bytes, detail, None), msg_bytes, detail)
}

/// The head of a message the framer has parsed, at [`Depth::Identity`] and [`Depth::Head`]:
/// what the field walk of [`dissect`] puts in the head, read from the parsed message instead
/// of walking the bytes a second time (on the real mix the walk was a third of the text run).
/// A parsed message is never malformed for the walk: it checks what `Message::parse` checks,
/// in the same order. Deeper depths, and bytes the message does not account for, walk.
/// `tests/dissection_depth.rs` compares the two on every capture.
pub fn dissect_parsed(msg_bytes: &[u8], msg: &Message, detail: impl Into<Depth>) -> Dissection {
    let depth: Depth = detail.into();
    if msg.buffer_len() != msg_bytes.len() {
        return dissect(msg_bytes, depth);
    }
    if !matches!(depth, Depth::Identity | Depth::Head) {
        // The walk still lists every field, but the derived fields and the summary come from
        // the message already parsed rather than a second `Message::parse` (issue 11: NDJSON).
        return accounted(
            dissect_fields(msg_bytes, depth, Some(msg)),
            msg_bytes,
            depth,
        );
    }
    let t = msg.message_type;
    let mut d = Dissection::new(Proto::DbServer, "unknown");
    d.kind = Some(t as u32);
    d.type_name = catalog::type_name(t);
    // As `dissect_args` (`push_dmst`): the first D-M-S-T argument present names the player.
    if let Some(kind) = catalog::kind(t) {
        let dmst = msg
            .args
            .iter()
            .enumerate()
            .find_map(|(i, arg)| match (kind.args.get(i), arg) {
                (Some(&(_, Role::Dmst)), Some(f)) => Some(f),
                _ => None,
            });
        if let Some(f) = dmst {
            d.device = Some(Dmst::from_u32(f.as_number().unwrap_or(0)).player as u32);
        }
    }
    set_device_of_setup(&mut d, msg);
    if depth.wants_summary() {
        d.summary = format!("tx {:08x} {}", msg.transaction_id, summary(msg));
    }
    d
}

/// The setup names the client; its answer names the server (prodjlink.md 7.3).
fn set_device_of_setup(d: &mut Dissection, msg: &Message) {
    match (msg.message_type, msg.number(0), msg.number(1)) {
        (0x0000, Some(requester), _) => d.device = Some(requester),
        (0x4000, Some(0), Some(server)) if msg.transaction_id == SETUP_TRANSACTION_ID => {
            d.device = Some(server)
        }
        _ => {}
    }
}

/// Every byte accounted for even when dissection stopped at a truncated field (the malformed
/// path): the bytes in no field become unknown.
pub(super) fn accounted(mut d: Dissection, b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    if d.malformed.is_some() {
        FieldSink::new(b, &mut d, detail).unknown_holes();
    }
    d
}

/// `parsed`: the message `Message::parse` makes of `msg_bytes`, when the caller has it.
fn dissect_fields(
    msg_bytes: &[u8],
    detail: impl Into<Depth>,
    parsed: Option<&Message>,
) -> Dissection {
    let detail: Depth = detail.into();
    if msg_bytes.len() == Greeting::LEN {
        if let Ok((g, _)) = Greeting::parse(msg_bytes) {
            return dissect_greeting(msg_bytes, g, detail);
        }
    }
    let mut d = Dissection::new(Proto::DbServer, "unknown");
    let mut sink = FieldSink::new(msg_bytes, &mut d, detail);
    sink.constant("magic", field::MAGIC, &MAGIC);
    if msg_bytes.get(field::MAGIC).is_some_and(|m| m != MAGIC) {
        sink.out.set_malformed("no dbserver magic 11 87 23 49 ae");
    }
    let tx = header_number(
        &mut sink,
        "transaction_id",
        field::TRANSACTION_ID,
        field_type::NUMBER_4,
        |v| {
            Some(if v == SETUP_TRANSACTION_ID as u64 {
                "setup/teardown transaction (fffffffe)".to_string()
            } else {
                "chosen by the client; responses echo it".to_string()
            })
        },
    );
    let message_type = header_number(
        &mut sink,
        "message_type",
        field::MESSAGE_TYPE,
        field_type::NUMBER_2,
        |v| {
            Some(
                catalog::kind(v as u16).map_or("not in the reference".to_string(), |k| {
                    k.description.to_string()
                }),
            )
        },
    )
    .map(|v| v as u16);
    let argc = header_number(
        &mut sink,
        "arg_count",
        field::ARG_COUNT,
        field_type::NUMBER_1,
        |_| None,
    );
    let tags = arg_tags(&mut sink);
    if let Some(t) = message_type {
        sink.out.kind = Some(t as u32);
        sink.out.type_name = catalog::type_name(t);
    }
    let (Some(message_type), Some(argc), Some(tags)) = (message_type, argc, tags) else {
        // A truncated header: the bytes after the last whole header field are unknown.
        let end = sink
            .out
            .fields
            .iter()
            .filter_map(|f| f.range.as_ref().map(|r| r.end))
            .max();
        sink.unknown_rest(end.unwrap_or(0));
        return d;
    };
    let end = dissect_args(&mut sink, message_type, argc.min(12) as usize, &tags);
    sink.unknown_rest(end);

    let reparsed;
    let msg = match parsed {
        Some(m) => Ok(m),
        None => {
            reparsed = Message::parse(msg_bytes);
            reparsed.as_ref().map(|(m, _)| m).map_err(|e| e.clone())
        }
    };
    match msg {
        Ok(msg) => {
            add_derived(&mut sink, msg);
            d.summary = summary(msg);
        }
        Err(e) => {
            d.set_malformed(e.to_string());
            d.summary = format!("{} (malformed)", d.type_name);
        }
    }
    if let Some(tx) = tx {
        d.summary = format!("tx {tx:08x} {}", d.summary);
    }
    d
}

fn dissect_greeting(bytes: &[u8], g: Greeting, detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::DbServer, "greeting");
    let mut sink = FieldSink::new(bytes, &mut d, detail);
    header_number(
        &mut sink,
        "greeting",
        0..Greeting::LEN,
        field_type::NUMBER_4,
        |v| {
            Some(if v == 1 {
                "4-byte number 1, sent by each side when the connection opens (prodjlink.md 7.2)"
                    .into()
            } else {
                "greetings are always 1 in the captures".into()
            })
        },
    );
    d.summary = format!("greeting {}", g.value);
    d
}

/// A header number field: checks its field type and pushes its value over the whole field.
fn header_number(
    sink: &mut FieldSink,
    name: &'static str,
    range: Range<usize>,
    expected_type: u8,
    meaning: impl FnOnce(u64) -> Option<String>,
) -> Option<u64> {
    let b = sink.get(name, range.clone())?;
    if b[0] != expected_type {
        sink.out.set_malformed(format!(
            "{name}: field type 0x{:02x}, expected 0x{expected_type:02x}",
            b[0]
        ));
    }
    let v = be_uint(&b[1..]);
    sink.push(name, Some(range), Value::U(v), Knowledge::Known, || {
        meaning(v)
    });
    Some(v)
}

fn arg_tags(sink: &mut FieldSink) -> Option<[u8; 12]> {
    let range = field::ARG_TAGS_HEADER.start..field::ARG_TAGS.end;
    let b = sink.get("arg_tags", range.clone())?;
    if b[..5] != [field_type::BLOB, 0, 0, 0, 12] {
        sink.out.set_malformed("arg_tags: not a 12-byte blob field");
    }
    let mut tags = [0u8; 12];
    tags.copy_from_slice(&b[5..]);
    sink.push(
        "arg_tags",
        Some(range),
        Value::Bytes(tags.to_vec()),
        Knowledge::Known,
        || {
            let names: Vec<&str> = tags
                .iter()
                .take_while(|&&t| t != 0)
                .map(|&t| match t {
                    arg_tag::NUMBER_4 => "number",
                    arg_tag::STRING => "string",
                    arg_tag::BLOB => "blob",
                    _ => "?",
                })
                .collect();
            Some(format!(
                "argument types: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
        },
    );
    Some(tags)
}

/// Walk the arguments like `Message::parse`, pushing one field per argument; returns where the
/// last readable argument ends.
fn dissect_args(sink: &mut FieldSink, message_type: u16, argc: usize, tags: &[u8; 12]) -> usize {
    let kind = catalog::kind(message_type);
    let bytes = sink.bytes;
    let mut at = field::ARGS;
    let mut previous: Option<u32> = None;
    let mut numbers: Vec<Option<u32>> = Vec::with_capacity(argc);
    for (i, &tag) in tags.iter().enumerate().take(argc) {
        let spec = kind.and_then(|k| k.args.get(i));
        let (name, role, knowledge): (Cow<'static, str>, Role, Knowledge) = match spec {
            Some(&(_, Role::Unknown)) | None => {
                let known = if spec.is_some() {
                    Knowledge::Unknown
                } else {
                    Knowledge::Known
                };
                (format!("arg{}", i + 1).into(), Role::Unknown, known)
            }
            Some(&(name, role)) => (name.into(), role, Knowledge::Known),
        };
        if tag == arg_tag::BLOB && blob_omitted(previous, bytes.get(at).copied()) {
            sink.push(name, None, Value::Null, Knowledge::Derived, || {
                Some("declared blob left out because its length is 0 (prodjlink.md 7.2)".into())
            });
            numbers.push(None);
            previous = None;
            continue;
        }
        let (f, end) = match Field::parse_at(bytes, at) {
            Ok(ok) => ok,
            Err(e) => {
                sink.out
                    .set_malformed(format!("argument {} ({name}): {e}", i + 1));
                return at;
            }
        };
        let range = at..end;
        previous = f.as_number();
        numbers.push(previous);
        let value = match (&f, role) {
            (Field::Blob(b), Role::Blob(kind)) => blob_summary(b, kind),
            (Field::Blob(b), _) => blob_summary(b, BlobKind::Opaque),
            (Field::Str(s), _) => Value::str(s.text()),
            (n, _) => Value::U(n.as_number().unwrap_or(0) as u64),
        };
        sink.push(name.clone(), Some(range.clone()), value, knowledge, || {
            meaning(role, &f, message_type, &numbers)
        });
        if sink.detail {
            if let Field::Blob(b) = &f {
                let raw_name = format!("{name}_raw");
                sink.push(
                    raw_name,
                    Some(range.clone()),
                    Value::Bytes(b.clone()),
                    Knowledge::Known,
                    || None,
                );
            }
        }
        if role == Role::Dmst {
            push_dmst(sink, Dmst::from_u32(previous.unwrap_or(0)));
        }
        at = end;
    }
    at
}

fn push_dmst(sink: &mut FieldSink, d: Dmst) {
    let mut derived = |name: &'static str, v: u8, m: Option<String>| {
        sink.push(name, None, Value::U(v as u64), Knowledge::Derived, || m);
    };
    derived(
        "player",
        d.player,
        Some(format!("player {} asks", d.player)),
    );
    derived(
        "menu",
        d.menu,
        catalog::menu_name(d.menu).map(str::to_string),
    );
    derived("slot", d.slot, Some(catalog::slot_phrase(d.slot)));
    derived(
        "track_type",
        d.track_type,
        catalog::track_type_name(d.track_type).map(str::to_string),
    );
    if sink.out.device.is_none() {
        sink.out.device = Some(d.player as u32);
    }
}

/// Plain-language meaning of one argument, given the numbers read so far.
fn meaning(role: Role, f: &Field, message_type: u16, numbers: &[Option<u32>]) -> Option<String> {
    let n = f.as_number();
    match (role, n) {
        (Role::Dmst, Some(v)) => {
            let d = Dmst::from_u32(v);
            Some(format!(
                "player {}, {}, {}, {} track",
                d.player,
                catalog::menu_name(d.menu).unwrap_or("menu ?"),
                catalog::slot_phrase(d.slot),
                catalog::track_type_name(d.track_type).unwrap_or("?")
            ))
        }
        (Role::RequestType, Some(v)) => Some(format!(
            "answers {} ({v:04x})",
            catalog::type_name(v as u16)
        )),
        (Role::Count, Some(NOT_FOUND)) => Some("not found".into()),
        (Role::Count, Some(v)) if message_type == 0x4000 && numbers.first() == Some(&Some(0)) => {
            Some(format!("setup accepted; the server is player {v}"))
        }
        (Role::Count, Some(v)) => Some(format!("{v} items ready to render")),
        (Role::Sort, Some(v)) => Some(format!("sort by {}", catalog::sort_name(v).unwrap_or("?"))),
        (Role::Length, Some(v)) => Some(format!("{v} bytes follow")),
        (Role::ItemType, Some(v)) => {
            let kind = (v & 0xffff) as u16;
            let name = super::menu_item::item_kind_name(kind).unwrap_or("undocumented item type");
            Some(if v > 0xffff {
                format!("{name} (high bits {:04x})", v >> 16)
            } else {
                name.into()
            })
        }
        (Role::AnlzTag, Some(v)) => {
            let t = catalog::reversed_fourcc(v);
            Some(format!(
                "{t}: {}",
                catalog::anlz_tag_meaning(&t).unwrap_or("undocumented section")
            ))
        }
        (Role::AnlzFile, Some(v)) => Some(format!("ANLZ file .{}", catalog::reversed_fourcc(v))),
        (Role::Unknown, _) => Some("meaning unknown".into()),
        (Role::Blob(BlobKind::WaveformPreview), _) => {
            Some("400 columns (height 0-31, whiteness 0-7) + 100-byte tiny preview".into())
        }
        (Role::Blob(BlobKind::WaveformDetail), _) => {
            Some("150 segments per second: 3-bit colour + 5-bit height".into())
        }
        _ => None,
    }
}

/// The JSON-friendly summary of a blob (its raw bytes go to `<name>_raw` in detail mode).
fn blob_summary(b: &[u8], kind: BlobKind) -> Value {
    let mut obj: Vec<(Cow<'static, str>, Value)> = vec![("bytes".into(), Value::U(b.len() as u64))];
    match kind {
        BlobKind::Artwork => {
            let info = blobs::image_info(b);
            obj.push(("format".into(), Value::str(info.format)));
            if let (Some(w), Some(h)) = (info.width, info.height) {
                obj.push(("width".into(), Value::U(w as u64)));
                obj.push(("height".into(), Value::U(h as u64)));
            }
        }
        BlobKind::BeatGrid => {
            if let Some(g) = BeatGrid::parse(b) {
                obj.push(("beats".into(), Value::U(g.beats.len() as u64)));
            }
        }
        BlobKind::CueList => obj.push(("cues".into(), Value::U(blobs::nexus_cues(b).len() as u64))),
        _ => {}
    }
    Value::Obj(obj)
}

/// Values computed from a fully parsed message: menu item meanings and blob contents.
fn add_derived(sink: &mut FieldSink, msg: &Message) {
    set_device_of_setup(sink.out, msg);
    if let Some(item) = MenuItem::from_message(msg) {
        sink.derived(
            "item_kind",
            Value::str(item.kind_name().unwrap_or("undocumented")),
        );
        match item.value() {
            ItemValue::Track {
                title,
                column,
                column_text,
            } => {
                sink.derived("title", Value::str(title));
                if let Some(c) = column {
                    sink.derived("column", Value::str(c));
                    sink.derived("column_text", Value::str(column_text));
                }
            }
            ItemValue::Text(t) => {
                let name = item.kind_name().unwrap_or("text");
                sink.push(name, None, Value::str(t), Knowledge::Derived, || None);
            }
            ItemValue::Duration { seconds } => sink.derived("duration_s", Value::U(seconds as u64)),
            ItemValue::Tempo { bpm_x100 } => {
                sink.derived("bpm", Value::round(bpm_x100 as f64 / 100.0, 2))
            }
            ItemValue::Rating { stars } => sink.derived("rating", Value::U(stars as u64)),
            ItemValue::Bitrate { kbps } => sink.derived("bitrate_kbps", Value::U(kbps as u64)),
            ItemValue::Year { year } => sink.derived("year", Value::U(year as u64)),
            ItemValue::Color { color, label } => {
                sink.derived("color", Value::str(color));
                sink.derived("color_label", Value::str(label));
            }
            ItemValue::Other { .. } => {}
        }
    }
    match msg.message_type {
        0x4602 => {
            if let Some(g) = msg.blob(3).and_then(BeatGrid::parse) {
                sink.derived("beat_count", Value::U(g.beats.len() as u64));
                let beat = |b: &blobs::Beat| {
                    Value::Obj(vec![
                        ("beat_in_bar".into(), Value::U(b.beat_in_bar as u64)),
                        ("bpm".into(), Value::round(b.bpm_x100 as f64 / 100.0, 2)),
                        ("time_ms".into(), Value::U(b.time_ms as u64)),
                    ])
                };
                sink.derived(
                    "first_beats",
                    Value::List(g.beats.iter().take(4).map(beat).collect()),
                );
                let tempos = g.tempo_changes(16).into_iter().map(|(i, bpm)| {
                    Value::Obj(vec![
                        ("beat".into(), Value::U(i as u64 + 1)),
                        ("bpm".into(), Value::round(bpm as f64 / 100.0, 2)),
                    ])
                });
                sink.derived("tempos", Value::List(tempos.collect()));
            }
        }
        0x4702 | 0x4e02 => {
            let (cues, units) = cue_list(msg);
            sink.derived("cue_count", Value::U(cues.len() as u64));
            let list = cues.iter().map(|c| Value::str(c.describe(units))).collect();
            sink.derived("cue_points", Value::List(list));
        }
        0x4002 => {
            if let Some(b) = msg.blob(3) {
                let info = blobs::image_info(b);
                sink.derived("image_format", Value::str(info.format));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "dissect_tests.rs"]
mod tests;
