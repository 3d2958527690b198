//! One-line descriptions of messages, shared by the dissection summary and the conversation.

use std::fmt::Write as _;

use super::blobs::{self, BeatGrid};
use super::catalog;
use super::field::Field;
use super::menu_item::{format_bpm, format_duration, ItemValue, MenuItem};
use super::message::Message;
use super::requests::Dmst;
use super::responses::NOT_FOUND;

/// Cues of a `4702` (positions in 1/150 s) or `4e02` (milliseconds, see `blobs::extended_cues`).
pub(crate) fn cue_list(msg: &Message) -> (Vec<blobs::Cue>, u32) {
    match msg.message_type {
        0x4702 => (msg.blob(3).map(blobs::nexus_cues).unwrap_or_default(), 150),
        _ => {
            let count = msg.number(4).unwrap_or(0);
            let cues = msg
                .blob(3)
                .map(|b| blobs::extended_cues(b, count))
                .unwrap_or_default();
            (cues.into_iter().map(|c| c.cue).collect(), 1000)
        }
    }
}

/// One-line summary of a parsed message.
pub(crate) fn summary(msg: &Message) -> String {
    use super::body::Body;
    let name = catalog::type_name(msg.message_type);
    let where_ = |d: Dmst| format!("player {} {}", d.player, catalog::slot_phrase(d.slot));
    match Body::from_message(msg) {
        Some(Body::Setup(r)) => format!("setup: player {} opens a session", r.requester),
        Some(Body::MenuClose) => "menu close".into(),
        Some(Body::Teardown) => "teardown".into(),
        Some(Body::Metadata(r)) => format!(
            "metadata of rekordbox track {} ({})",
            r.rekordbox_id,
            where_(r.dmst)
        ),
        Some(Body::UnanalyzedMetadata(r)) => {
            format!("metadata of track {} ({})", r.rekordbox_id, where_(r.dmst))
        }
        Some(Body::TrackData(r)) => {
            format!("{name} for track {} ({})", r.rekordbox_id, where_(r.dmst))
        }
        Some(Body::Artwork(r)) => format!("artwork {} ({})", r.artwork_id, where_(r.dmst)),
        Some(Body::WaveformPreview(r)) => format!(
            "waveform preview of track {} ({})",
            r.rekordbox_id,
            where_(r.dmst)
        ),
        Some(Body::AnlzTag(r)) => {
            format!(
                "ANLZ {} from .{} of track {} ({})",
                r.tag_name(),
                r.file_name(),
                r.rekordbox_id,
                where_(r.dmst)
            )
        }
        Some(Body::Menu(r)) => {
            let sort = r.sort().and_then(catalog::sort_name).unwrap_or("?");
            format!("{name} ({}), sort {sort}", where_(r.dmst))
        }
        Some(Body::Search(r)) => format!("search '{}' ({})", r.text.text(), where_(r.dmst)),
        Some(Body::RenderMenu(r)) => format!(
            "render {} items from {} of {} ({})",
            r.limit,
            r.offset,
            r.total,
            where_(r.dmst)
        ),
        Some(Body::UsbInfoRequest(r)) => format!("USB information ({})", where_(r.dmst)),
        Some(Body::MenuAvailable(r)) if r.request_type == 0 => {
            format!("setup accepted by player {}", r.count)
        }
        Some(Body::MenuAvailable(r)) => {
            let what = catalog::type_name(r.request_type as u16);
            if r.count == NOT_FOUND {
                format!("{what}: not found")
            } else {
                format!("{what}: {} items available", r.count)
            }
        }
        Some(Body::MenuHeader(_)) => "menu header".into(),
        Some(Body::MenuFooter) => "menu footer".into(),
        Some(Body::MenuItem(item)) => describe_item(&item),
        Some(Body::Unavailable(r)) => {
            format!("{} unavailable", catalog::type_name(r.request_type as u16))
        }
        Some(Body::UsbInfo(r)) => format!("USB information from player {}", r.player),
        Some(Body::CueList(_)) | Some(Body::Blob(_)) => blob_response_summary(msg),
        None => generic_summary(msg),
    }
}

/// "title 'X' (id 50, artwork 46)", "tempo 128.00 BPM", "duration 8:32"...
pub(crate) fn describe_item(item: &MenuItem) -> String {
    match item.value() {
        ItemValue::Track {
            title,
            column,
            column_text,
        } => {
            // One buffer of the right size: the most frequent dbserver summary (issue 11).
            let mut s = String::with_capacity(title.len() + column_text.len() + 64);
            s.push_str("title '");
            s.push_str(&title);
            s.push('\'');
            if let Some(c) = column {
                let _ = write!(s, ", {c} '{column_text}'");
            }
            let _ = write!(s, " (id {}, artwork {})", item.id, item.artwork_id);
            s
        }
        ItemValue::Text(t) => {
            let kind = item.kind_name().unwrap_or("text");
            let mut s = String::with_capacity(kind.len() + t.len() + 24);
            let _ = write!(s, "{kind} '{t}' (id {})", item.id);
            s
        }
        ItemValue::Duration { seconds } => format!("duration {}", format_duration(seconds)),
        ItemValue::Tempo { bpm_x100 } => format!("tempo {} BPM", format_bpm(bpm_x100)),
        ItemValue::Rating { stars } => format!("rating {stars} stars"),
        ItemValue::Bitrate { kbps } => format!("bitrate {kbps} kbps"),
        ItemValue::Year { year } => format!("year {year}"),
        ItemValue::Color { color, label } => format!("colour {color} '{label}'"),
        ItemValue::Other { label1, label2 } => format!(
            "item type {:04x} '{label1}' '{label2}' (parent {}, id {})",
            item.kind(),
            item.parent_id,
            item.id
        ),
    }
}

/// Words for the blob of a blob response.
pub(crate) fn blob_response_summary(msg: &Message) -> String {
    let b = msg.blob(3).unwrap_or(&[]);
    match msg.message_type {
        0x4002 => {
            let i = blobs::image_info(b);
            let format = i.format.to_uppercase();
            match (i.width, i.height) {
                (Some(w), Some(h)) => format!("{format} image, {} bytes, {w}x{h}", i.bytes),
                _ => format!("{format} image, {} bytes", i.bytes),
            }
        }
        0x4602 => match BeatGrid::parse(b) {
            Some(g) => {
                let tempos: Vec<String> = g
                    .tempo_changes(4)
                    .iter()
                    .map(|&(_, t)| format_bpm(t as u32))
                    .collect();
                let first = g.beats.first().map_or(String::new(), |f| {
                    format!(", first beat at {} ms", f.time_ms)
                });
                format!(
                    "beat grid: {} beats, {} BPM{first}",
                    g.beats.len(),
                    tempos.join("/")
                )
            }
            None => format!("beat grid: {} bytes", b.len()),
        },
        0x4702 | 0x4e02 => {
            let (cues, units) = cue_list(msg);
            let hot = cues.iter().filter(|c| c.hot_cue != 0).count();
            let list: Vec<String> = cues.iter().take(8).map(|c| c.describe(units)).collect();
            format!(
                "{hot} hot cues, {} memory points: {}",
                cues.len() - hot,
                list.join(", ")
            )
        }
        0x4402 => format!("waveform preview, {} bytes", b.len()),
        0x4a02 => format!("waveform detail, {} bytes", b.len()),
        0x4502 => format!("VBR index, {} bytes", b.len()),
        0x4f02 => format!("ANLZ section, {} bytes", b.len()),
        _ => generic_summary(msg),
    }
}

/// "unknown_3903 [1, 'x', <12 bytes>]".
pub(crate) fn generic_summary(msg: &Message) -> String {
    let args: Vec<String> = msg
        .args
        .iter()
        .map(|a| match a {
            None => "<omitted blob>".to_string(),
            Some(Field::Str(s)) => format!("'{}'", s.text()),
            Some(Field::Blob(b)) => format!("<{} bytes>", b.len()),
            Some(f) => f.as_number().map_or(String::new(), |n| n.to_string()),
        })
        .collect();
    format!(
        "{} [{}]",
        catalog::type_name(msg.message_type),
        args.join(", ")
    )
}
