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

#[test]
fn count_zero_prints_nothing_and_count_limits_the_story_too() {
    let Some(f) = capture("count_zero", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    for format in ["text", "json"] {
        let (code, out, _) = run(&["read", &f, "-q", "-c", "0", "--format", format]);
        assert_eq!(code, 0);
        assert!(out.is_empty(), "{format}: {out}");
    }
    let (_, out, _) = run(&["read", &f, "-q", "-c", "3"]);
    assert_eq!(out.lines().count(), 3);
    // The story of the first 10 records is shorter than the whole story.
    let (_, all, _) = run(&["read", &f, "-q", "--timeline"]);
    let (_, first, _) = run(&["read", &f, "-q", "--timeline", "-c", "10"]);
    assert!(first.lines().count() < all.lines().count());
    assert!(all.starts_with(&first), "the same events, cut short");
}

#[test]
fn timeline_and_conversations_as_ndjson() {
    let Some(f) = capture("story_json", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let (code, text, _) = run(&["read", &f, "-q", "--timeline"]);
    assert_eq!(code, 0);
    let (_, json, _) = run(&["read", &f, "-q", "--timeline", "--format", "json"]);
    assert_eq!(json.lines().count(), text.lines().count());
    for (j, t) in json.lines().zip(text.lines()) {
        let v: serde_json::Value = serde_json::from_str(j).unwrap();
        assert!(v["frame"].is_u64() && v["ts"].is_string(), "{j}");
        assert!(t.ends_with(v["text"].as_str().unwrap()), "{t} / {j}");
    }
    let (_, text, _) = run(&["read", &f, "-q", "--conversations"]);
    let (_, json, _) = run(&["read", &f, "-q", "--conversations", "--format", "json"]);
    let exchanges = text.lines().filter(|l| l.starts_with("  frame")).count();
    assert!(exchanges > 100);
    assert_eq!(json.lines().count(), exchanges);
    for j in json.lines() {
        let v: serde_json::Value = serde_json::from_str(j).unwrap();
        for k in ["client", "server", "frame", "ts", "text"] {
            assert!(!v[k].is_null(), "{k} in {j}");
        }
        assert!(text.contains(v["text"].as_str().unwrap()));
    }
}

#[test]
fn filter_applies_to_the_records_the_story_is_built_from() {
    let Some(f) = capture("story_filter", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let (_, all, _) = run(&["read", &f, "-q", "--summary", "--format", "json"]);
    let (_, only2, _) = run(&[
        "read",
        &f,
        "-q",
        "--summary",
        "--format",
        "json",
        "-Y",
        "ip=169.254.202.84",
    ]);
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    let only2: serde_json::Value = serde_json::from_str(&only2).unwrap();
    assert!(only2["records"].as_u64() < all["records"].as_u64());
    let (_, kept, _) = run(&["read", &f, "-q", "-Y", "ip=169.254.202.84"]);
    // Every kept record went into the story (repeats from a second interface counted apart).
    let told = only2["records"].as_u64().unwrap() + only2["duplicates"].as_u64().unwrap();
    assert_eq!(told, kept.lines().count() as u64);
    // Without the dbserver records the story tells no request.
    let (_, story, _) = run(&["read", &f, "-q", "--timeline", "-Y", "not dbserver"]);
    assert!(!story.contains("asked player"), "{story}");
}

#[test]
fn options_that_would_be_ignored_are_refused() {
    let Some(f) = capture("ignored_options", "LinkInfo.pcapng") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let w = out.path().join("x.pcapng");
    let w = w.to_str().unwrap();
    for (args, needle) in [
        (vec!["--width", "80"], "--width"),
        (
            vec!["--summary", "--format", "json", "--width", "80"],
            "--width",
        ),
        (vec!["--timeline", "--width", "80"], "--width"),
        (vec!["--summary", "-V"], "-V"),
        (vec!["--conversations", "-V"], "-V"),
        (vec!["--timeline", "-w", w], "-w"),
        (
            vec!["--now-playing", "np.txt", "--template", "{artst} - {title}"],
            "{artist}",
        ),
    ] {
        let mut a = vec!["read", f.as_str()];
        a.extend(&args);
        let (code, stdout, err) = run(&a);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(stdout.is_empty());
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (code, _, err) = run(&["read", "-", "-w", w]);
    assert_eq!(code, 2);
    assert!(err.contains("give a file"), "{err}");
    // --width where it means something.
    let (code, out, _) = run(&["read", &f, "-q", "--summary", "--width", "60"]);
    assert_eq!(code, 0);
    let (_, wide, _) = run(&["read", &f, "-q", "--summary", "--width", "200"]);
    assert_ne!(out, wide);
}

#[test]
fn now_playing_names_the_file_it_cannot_write() {
    let Some(f) = capture("now_playing_unwritable", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let (code, _, err) = run(&["read", &f, "-q", "--now-playing", "/nonexistent/dir/np.txt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/dir/np.txt"), "{err}");
}

#[test]
fn write_keeps_the_frames_of_the_records_shown() {
    let Some(f) = capture("write_pcapng", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcapng");
    let cut_s = cut.to_str().unwrap();
    let expr = "keepalive or (status and device=2)";
    let (code, shown, err) = run(&["read", &f, "-Y", expr, "-c", "50", "-w", cut_s]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 50 frames"), "{err}");
    // Read back: the same messages, in the same order, frame numbers counted anew.
    let (code, again, _) = run(&["read", cut_s, "-q"]);
    assert_eq!(code, 0);
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(strip(&again), strip(&shown));
    let first_frames: Vec<u64> = frames_of(&again).iter().map(|(f, _)| *f).collect();
    assert_eq!(first_frames, (1..=50).collect::<Vec<_>>());
    // Times are kept: the JSON timestamps agree.
    let ts = |file: &str| -> Vec<String> {
        run(&[
            "read", file, "-q", "--format", "json", "-Y", expr, "-c", "50",
        ])
        .1
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["ts"].to_string())
        .collect()
    };
    assert_eq!(ts(cut_s), ts(&f));
    // A path that cannot be written is an error before anything is read.
    let (code, out, err) = run(&["read", &f, "-w", "/nonexistent/dir/x.pcapng"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("/nonexistent/dir/x.pcapng"), "{err}");
}

#[test]
fn summary_tables_keep_addresses_whole_players_in_order_and_say_utc() {
    let Some(f) = capture("summary_tables", "LinkInfo.pcapng") else {
        return;
    };
    let (code, out, _) = run(&["read", &f, "-q", "--summary", "--width", "70"]);
    assert_eq!(code, 0);
    // Every IP and MAC address of the devices is on one line, even in a narrow table.
    let (_, json, _) = run(&["read", &f, "-q", "--summary", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    for d in doc["devices"].as_array().unwrap() {
        let ip = d["ip"].as_str().unwrap();
        assert!(out.contains(ip), "{ip} was split:\n{out}");
        if let Some(mac) = d["mac"].as_str() {
            assert!(out.contains(mac), "{mac} was split:\n{out}");
        }
    }
    // Players in number order, in the text and the JSON.
    let decks: Vec<u32> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Player "))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(decks.len() >= 2, "{out}");
    assert!(decks.windows(2).all(|w| w[0] <= w[1]), "{decks:?}");
    let json_decks: Vec<u64> = doc["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["deck"].as_u64().unwrap())
        .collect();
    assert!(
        json_decks.windows(2).all(|w| w[0] <= w[1]),
        "{json_decks:?}"
    );
    // Times are labelled UTC and the heading gives their date.
    let first = out.lines().nth(1).unwrap();
    let date = &doc["first"].as_str().unwrap()[..10];
    assert!(first.contains(date) && first.ends_with("UTC"), "{first}");
    assert!(out.contains("Devices (times UTC)"));
    // Header words are never cut: "firmware" is whole.
    assert!(out.contains("firmware"), "{out}");
    assert!(!out.contains(" 1 events"), "{out}");
}

/// Run djdissect with standard output on a pseudo-terminal of `cols` columns (util-linux
/// `script`); None where `script` is missing.
fn on_terminal(cols: u16, args: &[&str]) -> Option<String> {
    let cmd = format!(
        "stty cols {cols} rows 40; {} {}",
        env!("CARGO_BIN_EXE_djdissect"),
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

#[test]
fn on_a_terminal_lines_and_tables_take_its_width() {
    let Some(f) = capture("terminal_width", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let Some(text) = on_terminal(130, &["read", &f, "-q", "--color", "never", "-c", "200"]) else {
        eprintln!("terminal_width: SKIPPED: no `script` to make a terminal");
        return;
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 200);
    assert!(lines.iter().all(|l| l.chars().count() <= 130), "{text}");
    assert!(
        lines.iter().any(|l| l.ends_with('…')),
        "long tails are cut: {text}"
    );
    // Piped, the same lines are whole.
    let (_, piped, _) = run(&["read", &f, "-q", "-c", "200"]);
    assert!(piped.lines().any(|l| l.chars().count() > 130));
    for (cut, whole) in lines.iter().zip(piped.lines()) {
        assert!(
            whole.starts_with(cut.trim_end_matches('…')),
            "{cut}\n{whole}"
        );
    }
    // The summary's tables take the terminal's width, as --width would set it.
    let narrow = on_terminal(100, &["read", &f, "-q", "--summary"]).unwrap();
    let wide = on_terminal(200, &["read", &f, "-q", "--summary"]).unwrap();
    let (_, width_100, _) = run(&["read", &f, "-q", "--summary", "--width", "100"]);
    assert_eq!(narrow, width_100);
    assert_ne!(narrow, wide);
    let (_, piped, _) = run(&["read", &f, "-q", "--summary"]);
    let (_, width_120, _) = run(&["read", &f, "-q", "--summary", "--width", "120"]);
    assert_eq!(piped, width_120, "piped, tables are 120 columns wide");
}

#[test]
fn detail_marks_compare_with_the_previous_packet_of_the_series_shown_or_not() {
    let Some(f) = capture("detail_marks", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    // The second status packet of player 2 to player 1, shown alone.
    let (_, frames, _) = run(&[
        "read",
        &f,
        "-q",
        "--format",
        "json",
        "-Y",
        "type=cdj_status and device=2",
        "-c",
        "2",
    ]);
    let second: u64 = frames
        .lines()
        .nth(1)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["frame"]
                .as_u64()
                .unwrap()
        })
        .unwrap();
    let only = format!("frame={second}");
    let (_, json, _) = run(&["read", &f, "-q", "--format", "json", "-V", "-Y", &only]);
    let r: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    let changed: Vec<u64> = r["changed"]
        .as_array()
        .expect("compared with the packet before, though it was not shown")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(!changed.is_empty() && changed.len() < 16, "{changed:?}");
    let counter = r["layout"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "packet_counter")
        .unwrap();
    assert_eq!(counter["changed"], true, "{counter}");
    assert!(changed.contains(&(counter["offset"].as_u64().unwrap() + 3)));
    let (_, text, _) = run(&["read", &f, "-q", "-V", "--color", "never", "-Y", &only]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("  * ") && l.contains("packet_counter")),
        "{text}"
    );
    assert!(!text.contains("nothing to compare"), "{text}");
}

#[test]
fn meanings_are_plain_words_without_the_references_abbreviations() {
    let Some(dir) = common::shared_captures("plain_meanings") else {
        return;
    };
    let abbreviations = [
        "len_r",
        "len_p",
        "DYS",
        "PPL",
        " UE",
        "BLT",
        "WSD",
        "PDJL",
        "CAP)",
        "per dysentery",
    ];
    for name in [
        "usr-ein-S05-link-browse.pcap",
        "LinkInfo.pcapng",
        "usr-ein-S26-initialization-both-auto.pcap",
    ] {
        let f = dir.join(name).display().to_string();
        let (_, json, _) = run(&["read", &f, "-q", "--format", "json", "-V"]);
        for line in json.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            for l in r["layout"].as_array().unwrap() {
                let m = l["meaning"].as_str().unwrap_or("");
                for a in abbreviations {
                    assert!(!m.contains(a), "{name}: {} means {m:?}", l["name"]);
                }
                // A section number of the reference, such as "(4.3)".
                let section = m.split('(').skip(1).any(|p| {
                    p.split(')').next().is_some_and(|x| {
                        x.split('.').count() == 2
                            && x.split('.')
                                .all(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
                    })
                });
                assert!(!section, "{name}: {} means {m:?}", l["name"]);
            }
        }
    }
}

#[test]
fn fields_the_filter_checks_as_numbers_or_booleans_are_so_in_every_capture() {
    let Some(dir) = common::shared_captures("typed_fields") else {
        return;
    };
    let mut files = common::capture_files(&dir);
    files.extend(common::own_captures());
    let mut seen = std::collections::BTreeSet::new();
    for path in files {
        let (_, json, _) = run(&["read", path.to_str().unwrap(), "-q", "--format", "json"]);
        for line in json.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut values: Vec<(&str, &serde_json::Value)> = r["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            for k in ["latency_ms", "request_frame"] {
                if let Some(v) = r.get(k) {
                    values.push((k, v));
                }
            }
            for (k, v) in values {
                if djdissect::filter::NUMBER_FIELDS.contains(&k) {
                    assert!(v.is_number() || v.is_null(), "{k} = {v} in {line}");
                    seen.insert(k.to_string());
                }
                if djdissect::filter::BOOL_FIELDS.contains(&k) {
                    assert!(v.is_boolean() || v.is_null(), "{k} = {v} in {line}");
                    seen.insert(k.to_string());
                }
            }
        }
    }
    // Most of the list occurs in the captures (the rest in decoders' unit tests).
    assert!(seen.len() >= 18, "{seen:?}");
}

#[test]
fn write_still_holds_what_was_shown_when_the_pipe_closes_early() {
    use std::io::{BufRead, BufReader};
    let Some(f) = capture("write_closed_pipe", "usr-ein-S05-link-browse.pcap") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcapng");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args(["read", &f, "-q", "-w", cut.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone: djdissect meets a closed pipe.
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let (code, again, _) = run(&["read", cut.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0);
    assert!(
        again.lines().count() >= 1,
        "the file is a capture of what was shown"
    );
    let strip = |l: &str| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
    assert_eq!(strip(again.lines().next().unwrap()), strip(&first));
}
