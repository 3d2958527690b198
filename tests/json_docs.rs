//! Every key `read` can emit is documented in docs/json.md: the NDJSON records (top-level keys,
//! each type's `fields`, objects nested in them, `-V`'s `layout` and `changed`) and the
//! `--summary --format json` document, over every capture we have. A key a decoder starts to
//! emit fails here until the documentation names it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

const DOC: &str = include_str!("../docs/json.md");

fn captures() -> Vec<PathBuf> {
    let mut v = common::own_captures();
    if let Some(d) = common::shared_captures("json_docs") {
        v.extend(common::capture_files(&d));
    }
    assert!(!v.is_empty());
    v
}

/// Backticked words of a piece of the document.
fn ticked(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim_matches('"').to_string())
        .collect()
}

fn section<'a>(from: &str, to: &str) -> &'a str {
    let a = DOC
        .find(from)
        .unwrap_or_else(|| panic!("docs/json.md lacks {from}"));
    let b = DOC[a..].find(to).map_or(DOC.len(), |b| a + b);
    &DOC[a..b]
}

/// type -> documented field names (with the protocol's "(every message)" header row).
fn documented_fields() -> BTreeMap<String, BTreeSet<String>> {
    let mut by_type = BTreeMap::new();
    let tables = section("### Field names by message type", "## `read --summary");
    for proto in tables.split("#### ").skip(1) {
        let mut header = BTreeSet::new();
        for line in proto.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = line.split('|').collect();
            if cells.len() < 3 {
                continue;
            }
            if cells[1].contains("(every message)") {
                header = ticked(cells[2]);
            } else if let Some(t) = ticked(cells[1]).into_iter().next() {
                let mut names = ticked(cells[2]);
                names.extend(header.iter().cloned());
                by_type.insert(t, names);
            }
        }
    }
    assert!(by_type.len() > 50, "{by_type:?}");
    by_type
}

/// Every object key under `v`, except inside the values a device sends as its own JSON.
fn nested_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                nested_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| nested_keys(x, out)),
        _ => {}
    }
}

#[test]
fn every_key_of_every_record_is_documented() {
    let record_doc = section("## `read --format json`", "### Field names by message type");
    let record_keys = ticked(record_doc);
    let whole_records_doc = ticked(section("## `read --format json`", "## `read --summary"));
    let fields_doc = documented_fields();
    let mut missing = BTreeSet::new();
    // Every record without -V; with -V (which adds `layout`, `changed` and the `*_raw` blobs,
    // the same for every message of a type) the first records of each type, since parsing
    // every detail record costs minutes in a debug build.
    let mut lines = Vec::new();
    for path in captures() {
        for detail in [false, true] {
            let mut args = vec!["read", path.to_str().unwrap(), "-q", "--format", "json"];
            if detail {
                args.push("-V");
            }
            let (code, out, err) = common::run(&args);
            assert_eq!(code, 0, "{}: {err}", path.display());
            let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
            for line in out.lines() {
                if detail {
                    let t = line
                        .split("\"type\":\"")
                        .nth(1)
                        .and_then(|t| t.split('"').next());
                    let n = per_type.entry(t.unwrap_or("").to_string()).or_default();
                    *n += 1;
                    if *n > 20 {
                        continue;
                    }
                }
                lines.push(line.to_string());
            }
        }
    }
    {
        for line in &lines {
            let r: Value = serde_json::from_str(line).unwrap();
            let t = r["type"].as_str().unwrap().to_string();
            for (k, v) in r.as_object().unwrap() {
                if !record_keys.contains(k) {
                    missing.insert(format!("record key `{k}`"));
                }
                if k == "layout" {
                    for item in v.as_array().unwrap() {
                        for lk in item.as_object().unwrap().keys() {
                            if !record_doc.contains(&format!("`{lk}`")) {
                                missing.insert(format!("layout key `{lk}`"));
                            }
                        }
                    }
                }
                if k == "track" || k == "transfer" {
                    let mut keys = BTreeSet::new();
                    nested_keys(v, &mut keys);
                    for n in keys.difference(&whole_records_doc) {
                        missing.insert(format!("`{k}` key `{n}`"));
                    }
                }
            }
            for (f, v) in r["fields"].as_object().unwrap() {
                if !fields_doc.get(&t).is_some_and(|s| s.contains(f)) {
                    missing.insert(format!("field `{f}` of `{t}`"));
                }
                // A StageLinQ `value` is the device's own JSON, passed on as it came.
                if f == "value" && t.starts_with("statemap") {
                    continue;
                }
                let mut keys = BTreeSet::new();
                nested_keys(v, &mut keys);
                for n in keys.difference(&whole_records_doc) {
                    missing.insert(format!("key `{n}` inside field `{f}` of `{t}`"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/json.md does not document:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Paths of the summary whose keys are data (type names, service names, paths, numbers).
const DATA_MAPS: [&str; 6] = [
    ".devices[].packets",
    ".stagelinq[].services",
    ".stagelinq[].subscriptions",
    ".stagelinq[].decks",
    ".stagelinq[].channel_assignment",
    ".stagelinq[].channel_fader",
];

fn summary_keys(v: &Value, path: &str, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Object(m) => {
            let data = DATA_MAPS.contains(&path) || path == ".stagelinq[].transfers";
            for (k, x) in m {
                if !data {
                    out.insert((path.to_string(), k.clone()));
                    summary_keys(x, &format!("{path}.{k}"), out);
                } else {
                    // The keys are data; what they hold is described.
                    summary_keys(x, &format!("{path}.*"), out);
                }
            }
        }
        Value::Array(a) => a
            .iter()
            .for_each(|x| summary_keys(x, &format!("{path}[]"), out)),
        _ => {}
    }
}

#[test]
fn every_key_of_the_summary_document_is_documented() {
    let doc = ticked(section(
        "## `read --summary --format json`",
        "`--now-playing FILE`",
    ));
    let mut missing = BTreeSet::new();
    for path in captures() {
        let (code, out, err) = common::run(&[
            "read",
            path.to_str().unwrap(),
            "-q",
            "--summary",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{}: {err}", path.display());
        let v: Value = serde_json::from_str(&out).unwrap();
        let mut keys = BTreeSet::new();
        summary_keys(&v, "", &mut keys);
        for (p, k) in keys {
            if !doc.contains(&k) {
                missing.insert(format!("`{k}` (at {p})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/json.md does not document:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_key_of_the_timeline_and_conversation_lines_is_documented() {
    let doc = ticked(section(
        "## `read --timeline --format json`",
        "## `read --summary --format json`",
    ));
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for path in captures() {
        for view in ["--timeline", "--conversations"] {
            let (code, out, err) = common::run(&[
                "read",
                path.to_str().unwrap(),
                "-q",
                view,
                "--format",
                "json",
            ]);
            assert_eq!(code, 0, "{}: {err}", path.display());
            for line in out.lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                seen += 1;
                for k in v.as_object().unwrap().keys() {
                    if !doc.contains(k) {
                        missing.insert(format!("{view}: `{k}`"));
                    }
                }
            }
        }
    }
    assert!(seen > 100);
    assert!(
        missing.is_empty(),
        "docs/json.md does not document:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}
