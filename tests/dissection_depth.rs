//! The dissection depths agree: a record's head (type, device, name, summary, malformed) does
//! not depend on how much of its dissection was built; `Depth::Head` keeps no fields;
//! `Depth::Fields` keeps the named fields of a detail dissection; and `Depth::Json` writes the
//! same NDJSON as the field list does. `read` picks the depth its output needs, so this is what
//! makes the fast paths print the same thing as the full one.

mod common;

use std::path::Path;

use djdissect::dissect::{Depth, Dissection, Field, Knowledge};
use djdissect::engine::EngineOptions;
use djdissect::output::{Format, Options, Printer};

/// Everything of a dissection but its fields.
type Head = (
    &'static str,
    Option<u32>,
    String,
    Option<u32>,
    Option<String>,
    String,
    Option<String>,
);

struct Run {
    heads: Vec<(u64, Head, String)>,
    fields: Vec<Vec<Field>>,
    /// Every record as an NDJSON line.
    json: String,
    stats: String,
}

fn head(d: &Dissection) -> Head {
    (
        d.proto.as_str(),
        d.kind,
        d.type_name.to_string(),
        d.device,
        d.name.clone(),
        d.summary.clone(),
        d.malformed.clone(),
    )
}

fn run(path: &Path, depth: Depth) -> Run {
    let mut heads = Vec::new();
    let mut fields = Vec::new();
    let mut printer = Printer::new(Options {
        format: Format::Json,
        detail: false,
        color: false,
    });
    let mut json = Vec::new();
    let options = EngineOptions {
        depth,
        ..Default::default()
    };
    let engine = common::each_record(path, options, |r| {
        heads.push((r.frame, head(&r.dissection), format!("{:?}", r.extra)));
        fields.push(r.dissection.fields.clone());
        printer.record(r, &mut json).unwrap();
    });
    printer.flush(&mut json).unwrap();
    Run {
        heads,
        fields,
        json: String::from_utf8(json).unwrap(),
        stats: engine.stats().line(),
    }
}

/// The named fields of a dissection without their meanings (which only detail views fill).
/// Unknown ranges are left out: outside detail views only some decoders keep them (dbserver
/// arguments of unknown meaning), and no output shows them there.
fn named(fields: &[Field]) -> Vec<Field> {
    fields
        .iter()
        .filter(|f| f.knowledge != Knowledge::Unknown)
        .map(|f| Field {
            meaning: None,
            ..f.clone()
        })
        .collect()
}

#[test]
fn every_depth_gives_the_same_heads_and_the_fields_it_promises() {
    let captures = common::all_captures("dissection_depth");
    assert!(!captures.is_empty());
    let mut records = 0;
    for path in captures {
        let name = path.display().to_string();
        let head_only = run(&path, Depth::Head);
        let identity = run(&path, Depth::Identity);
        let json = run(&path, Depth::Json);
        let fields = run(&path, Depth::Fields);
        let detail = run(&path, Depth::Detail);
        assert_eq!(
            head_only.heads, fields.heads,
            "{name}: heads, Head vs Fields"
        );
        assert_eq!(
            head_only.heads, detail.heads,
            "{name}: heads, Head vs Detail"
        );
        assert_eq!(head_only.stats, fields.stats, "{name}: statistics");
        assert_eq!(head_only.stats, detail.stats, "{name}: statistics");
        assert_eq!(head_only.heads, json.heads, "{name}: heads, Head vs Json");
        // Identity: the same heads, but a summary may be left out.
        for (i, (a, b)) in identity.heads.iter().zip(&head_only.heads).enumerate() {
            let (mut a, b) = (a.clone(), b.clone());
            if a.1 .5.is_empty() {
                a.1 .5.clone_from(&b.1 .5);
            }
            assert_eq!(a, b, "{name}: record {i}, Identity vs Head");
        }
        assert_eq!(identity.heads.len(), head_only.heads.len());
        assert_eq!(identity.stats, head_only.stats, "{name}: statistics");
        assert!(identity.fields.iter().all(Vec::is_empty));
        // NDJSON written from fields_json is the NDJSON written from the field list.
        for (i, (a, b)) in json.json.lines().zip(fields.json.lines()).enumerate() {
            assert_eq!(
                a, b,
                "{name}: JSON of record {i}, Depth::Json vs Depth::Fields"
            );
        }
        assert_eq!(json.json.lines().count(), fields.json.lines().count());
        assert!(
            head_only.fields.iter().all(Vec::is_empty),
            "{name}: Depth::Head kept fields"
        );
        for (i, (f, d)) in fields.fields.iter().zip(&detail.fields).enumerate() {
            // Detail views may add fields of their own (dbserver's raw image bytes); every
            // field the usual dissection keeps must be in the detail one, value and range alike.
            let d = named(d);
            for field in named(f) {
                assert!(
                    d.contains(&field),
                    "{name}: record {i} (frame {}): field {} is not in the detail dissection",
                    fields.heads[i].0,
                    field.name
                );
            }
        }
        records += fields.heads.len();
    }
    assert!(records > 1000, "only {records} records compared");
}
