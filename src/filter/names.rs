//! The names a comparison may use, and the errors for names and values that cannot match.
//!
//! Field names come from docs/json.md's "Field names by message type" tables (the document a
//! test keeps complete against every capture), so the filter, the JSON and its documentation
//! share one vocabulary. A name no message has (`bmp`, `fields.bpm`) and a word where a number
//! belongs (`device=two`) would silently match nothing; they are errors that point at the
//! problem and name the closest known names.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::{FilterError, HEAD_NAMES};

const JSON_DOC: &str = include_str!("../../docs/json.md");

/// Context a stream tracker adds beside `fields` (docs/json.md, record keys).
const CONTEXT_NAMES: [&str; 5] = [
    "request_frame",
    "latency_ms",
    "exchange",
    "track",
    "transfer",
];

/// Head names whose values are numbers.
const NUMERIC: [&str; 5] = ["device", "port", "kind", "frame", "len"];

/// Fields that are numbers (or null) in every message that has them: a word compared with one
/// is an error. A test over every capture keeps this list true.
pub const NUMBER_FIELDS: [&str; 20] = [
    "bpm",
    "pitch",
    "effective_bpm",
    "beat",
    "beat_in_bar",
    "rekordbox_id",
    "latency_ms",
    "request_frame",
    "position_ms",
    "track_length_s",
    "track_number",
    "packet_counter",
    "playlist_id",
    "artwork_id",
    "duration_s",
    "track_count",
    "interval",
    "transaction_id",
    "next_beat_ms",
    "track_device",
];

/// Fields that are true or false (or null) in every message that has them.
pub const BOOL_FIELDS: [&str; 4] = ["playing", "master", "sync", "on_air"];

/// Every name a comparison may use: the record's head, its context, and every field name.
pub fn known() -> &'static BTreeSet<&'static str> {
    static NAMES: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: BTreeSet<&'static str> = HEAD_NAMES.into_iter().collect();
        names.extend(CONTEXT_NAMES);
        names.extend(documented_fields(JSON_DOC));
        names
    })
}

/// The backticked names in the second column of the field tables.
fn documented_fields(doc: &'static str) -> impl Iterator<Item = &'static str> {
    let start = doc
        .find("### Field names by message type")
        .unwrap_or(doc.len());
    let end = doc[start..].find("\n## ").map_or(doc.len(), |e| start + e);
    doc[start..end]
        .lines()
        .filter(|l| l.starts_with("| "))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The known names closest to `name`, best first (at most three).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let name = name.to_ascii_lowercase();
    // `fields.bpm` is written as `bpm`: the last part of a dotted name is the best guess.
    let tail = name.rsplit('.').next().unwrap_or(&name).to_string();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d =
                strsim::damerau_levenshtein(&tail, c).min(strsim::damerau_levenshtein(&name, c));
            let prefix = c.starts_with(&tail) || tail.starts_with(c);
            let near = d <= tail.len().div_ceil(3).max(1) || (prefix && tail.len() >= 3);
            near.then_some((if prefix { d.min(1) } else { d }, c))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// A comparison's name must be one some message has.
pub fn check_name(name: &str, col: usize) -> Result<(), FilterError> {
    if known().contains(name) {
        return Ok(());
    }
    let near = closest(name, known().iter().copied());
    let hint = if near.is_empty() {
        "field names are listed in docs/json.md".to_string()
    } else {
        format!("did you mean {}?", quoted(&near))
    };
    Err(FilterError {
        message: format!("no message has a field '{name}' ({hint})"),
        column: col,
    })
}

/// A number-valued name compared with a word, or a true/false one with anything else, can
/// never match.
pub fn check_value(name: &str, value: &str, col: usize) -> Result<(), FilterError> {
    let is_bool = |v: &str| {
        ["true", "false", "yes", "no", "1", "0"]
            .iter()
            .any(|w| v.eq_ignore_ascii_case(w))
    };
    if BOOL_FIELDS.contains(&name) && !is_bool(value) {
        return Err(FilterError {
            message: format!("'{name}' is true or false, not '{value}' (e.g. {name}=true)"),
            column: col,
        });
    }
    if (NUMERIC.contains(&name) || NUMBER_FIELDS.contains(&name)) && super::number(value).is_none()
    {
        return Err(FilterError {
            message: format!(
                "'{name}' is a number and '{value}' is not (e.g. {name}=2, {name}=0x0a)"
            ),
            column: col,
        });
    }
    Ok(())
}

pub fn quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_holds_the_documented_fields_and_not_prose() {
        for n in [
            "bpm",
            "rekordbox_id",
            "path",
            "play_state",
            "device",
            "latency_ms",
        ] {
            assert!(known().contains(n), "{n}");
        }
        for n in ["bmp", "fields", "prodjlink", "cdj_status"] {
            assert!(!known().contains(n), "{n}");
        }
        assert!(known().len() > 200);
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("bmp", known().iter().copied())[0], "bpm");
        assert_eq!(closest("fields.bpm", known().iter().copied())[0], "bpm");
        assert_eq!(
            closest("rekordboxid", known().iter().copied())[0],
            "rekordbox_id"
        );
        assert!(closest("zzzzzzzz", known().iter().copied()).is_empty());
    }
}
