//! Snapshot regression over real and project-made captures (snapshots live in `snapshots/`).
//!
//! * `json@<capture>`: the complete `read --format json` output of every capture.
//! * `kind@<proto>-...`: the detail view (every field with offsets, marked hex dump) of the
//!   first message of each distinct kind found in the captures (Pro DJ Link: per port, type and
//!   length).

mod common;

use std::collections::BTreeSet;

use djdissect::output::Format;

#[test]
fn json_output_of_every_capture() {
    let settings = common::insta_settings();
    settings.bind(|| {
        for path in common::all_captures("json_output_of_every_capture") {
            let (out, stats) = common::render(&path, Format::Json, false);
            let name = common::snapshot_name("json", &path);
            insta::assert_snapshot!(name, format!("# {stats}\n{out}"));
        }
    });
}

#[test]
fn detail_view_of_each_message_kind() {
    let settings = common::insta_settings();
    let mut seen = BTreeSet::new();
    // Which capture a kind is first seen in decides its snapshot; without the real captures
    // the project's own would stand in for them under the same names, so the test needs both.
    let Some(real) = common::shared_captures("detail_view_of_each_message_kind") else {
        return;
    };
    let mut captures = common::capture_files(&real);
    captures.extend(common::own_captures());
    settings.bind(|| {
        for path in captures {
            let (out, _) = common::render(&path, Format::Text, true);
            // Records are separated by a blank line; the first line names the message.
            for block in out.split("\n\n").filter(|b| !b.trim().is_empty()) {
                let mut lines = block.lines();
                let (Some(_), Some(head)) = (lines.next(), lines.next()) else {
                    continue;
                };
                // "    prodjlink cdj_status kind 0x0a frame 2 len 212"
                let w: Vec<&str> = head.split_whitespace().collect();
                if w.len() < 8 {
                    continue;
                }
                let (proto, ty, len) = (w[0], w[1], w[7]);
                let port = block
                    .lines()
                    .next()
                    .and_then(|l| l.split(" -> ").nth(1))
                    .and_then(|d| d.split_whitespace().next())
                    .and_then(|d| d.rsplit(':').next())
                    .unwrap_or("0")
                    .to_string();
                // Pro DJ Link kinds come in several lengths (status 0xd4, 0x11c, 0x200...);
                // stream messages vary in length with their content, so they go by type.
                let key = if proto == "prodjlink" {
                    format!("{proto}-{port}-{ty}-{len}")
                } else {
                    format!("{proto}-{ty}")
                };
                if seen.insert(key.clone()) {
                    let source = path.file_name().unwrap().to_string_lossy();
                    insta::assert_snapshot!(
                        format!("kind@{key}"),
                        format!("# from {source}\n{block}\n")
                    );
                }
            }
        }
    });
    assert!(seen.len() > 30, "only {} kinds", seen.len());
}
