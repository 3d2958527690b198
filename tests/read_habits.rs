//! Habits tshark and ripgrep users bring to `djdissect read`: frame numbers on every line,
//! steady columns, filter errors that point and suggest, no option silently ignored, `-w`.

mod common;

use common::run;

fn capture(test: &str, name: &str) -> Option<String> {
    common::shared_captures(test).map(|d| d.join(name).display().to_string())
}

/// (frame, line) for every text line.
fn frames_of(text: &str) -> Vec<(u64, &str)> {
    text.lines()
        .map(|l| {
            let f = l.split_whitespace().nth(1).unwrap_or("");
            (
                f.parse().unwrap_or_else(|_| panic!("no frame column: {l}")),
                l,
            )
        })
        .collect()
}

#[test]
fn every_text_line_carries_its_frame_and_frame_filter_finds_it_again() {
    let Some(f) = capture("frame_column", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let (code, text, _) = run(&["read", &f, "-q"]);
    assert_eq!(code, 0);
    let (_, json, _) = run(&["read", &f, "-q", "--format", "json"]);
    let json_frames: Vec<u64> = json
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["frame"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let lines = frames_of(&text);
    assert_eq!(
        lines.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
        json_frames,
        "the text lines' frames are the JSON records' frames"
    );
    // Any line is found again with -Y frame=N (and in -V's header).
    let (n, line) = lines[lines.len() / 2];
    let (_, again, _) = run(&["read", &f, "-q", "-Y", &format!("frame={n}")]);
    assert!(again.lines().any(|l| l == line), "{line}\n{again}");
    let (_, detail, _) = run(&["read", &f, "-q", "-V", "-Y", &format!("frame={n}")]);
    assert!(detail.contains(&format!(" frame {n} ")), "{detail}");
}

#[test]
fn columns_are_steady_across_message_types() {
    let Some(f) = capture("steady_columns", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let (_, text, _) = run(&["read", &f, "-q"]);
    // Source, arrow and destination start in the same column on every line; so does the type
    // column wherever the sender fits its width.
    let arrows: std::collections::BTreeSet<usize> =
        text.lines().map(|l| l.find(" -> ").unwrap()).collect();
    assert_eq!(arrows.len(), 1, "{arrows:?}");
    let types: std::collections::BTreeSet<usize> = text
        .lines()
        .filter_map(|l| {
            [
                "cdj_status",
                "keep_alive",
                "menu_item",
                "render_menu_request",
            ]
            .iter()
            .find_map(|t| l.find(&format!(" {t} ")))
        })
        .collect();
    assert_eq!(types.len(), 1, "{types:?}");
}

#[test]
fn unknown_field_or_word_for_a_number_is_exit_2_with_a_caret_and_suggestions() {
    let Some(f) = capture("filter_errors", "LinkInfo.pcapng") else {
        return;
    };
    for (expr, caret_col, hint) in [
        ("bmp>120", 0, "'bpm'"),
        ("fields.bpm>100", 0, "'bpm'"),
        ("device=two", 7, "is a number"),
    ] {
        let (code, out, err) = run(&["read", &f, "-Y", expr]);
        assert_eq!(code, 2, "{expr}: {err}");
        assert!(out.is_empty(), "{expr}: nothing is read");
        assert!(err.contains(hint), "{expr}: {err}");
        let caret = err.lines().nth(2).unwrap_or_default();
        assert_eq!(caret.find('^'), Some(2 + caret_col), "{expr}: {err}");
    }
}

#[test]
fn ne_keeps_only_records_that_have_the_field() {
    let Some(f) = capture("ne_semantics", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let count = |expr: &str| run(&["read", &f, "-q", "-Y", expr]).1.lines().count();
    let all = count("frame>0");
    // dbserver answers carry no device number and no `playing`: `!=` leaves them out, `not`
    // keeps them, and both names behave alike.
    assert_eq!(count("device!=2") + count("device=2"), count("device>=0"));
    assert_eq!(count("not device=2") + count("device=2"), all);
    assert_eq!(
        count("playing!=true") + count("playing=true"),
        count("type=cdj_status")
    );
    assert_eq!(count("not playing=true") + count("playing=true"), all);
    assert!(
        count("device>=0") < all,
        "some records lack a device number"
    );
}
