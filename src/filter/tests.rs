use super::*;
use crate::dissect::{Dissection, Field, Knowledge, Proto, Value};
use crate::record::Record;

fn rec(
    proto: Proto,
    t: &'static str,
    device: Option<u32>,
    fields: Vec<(&'static str, Value)>,
) -> Record<'static> {
    let mut d = Dissection::new(proto, t);
    d.device = device;
    d.kind = Some(0x0a);
    d.name = Some("CDJ-3000".into());
    d.fields = fields
        .into_iter()
        .map(|(n, v)| Field {
            name: n.into(),
            range: None,
            value: v,
            meaning: None,
            knowledge: Knowledge::Known,
        })
        .collect();
    Record {
        frame: 7,
        ts_ns: 0,
        src: "169.254.1.2:50002".parse().unwrap(),
        dst: "169.254.1.3:50002".parse().unwrap(),
        interface: 0,
        port: 50002,
        bytes: &[],
        dissection: d,
        extra: vec![],
    }
}

fn status() -> Record<'static> {
    rec(
        Proto::ProDjLink,
        "cdj_status",
        Some(2),
        vec![
            ("bpm", Value::F(128.0)),
            ("playing", Value::Bool(true)),
            ("play_state", Value::str("playing")),
        ],
    )
}

fn m(expr: &str, r: &Record) -> bool {
    parse(expr)
        .unwrap_or_else(|e| panic!("{}", e.render(expr)))
        .matches(r)
}

#[test]
fn words_match_families() {
    let s = status();
    assert!(m("status", &s));
    assert!(!m("beat", &s));
    assert!(m("prodjlink", &s));
    let b = rec(Proto::StageLinq, "beat_info", None, vec![]);
    assert!(m("beat", &b));
    assert!(m("beatinfo and stagelinq", &b));
    assert!(!m("keepalive", &b));
}

#[test]
fn comparisons_on_record_keys_and_fields() {
    let s = status();
    assert!(m("device=2", &s));
    assert!(!m("device=3", &s));
    assert!(m("kind=0x0a", &s));
    assert!(m("kind=10", &s));
    assert!(m("port=50002", &s));
    assert!(m("ip=169.254.1.3", &s));
    assert!(m("ip!=10.0.0.1", &s));
    assert!(m("name=cdj-3000", &s));
    assert!(m("name~3000", &s));
    assert!(m("bpm>127.5 and bpm<=128", &s));
    assert!(m("playing=true", &s));
    assert!(m("play_state=playing", &s));
    assert!(m("type=cdj_status", &s));
    // A field the message does not carry satisfies no comparison, != included.
    assert!(!m("path~Deck1", &s));
    assert!(!m("path!=x", &s));
    assert!(m("not path=x", &s));
}

#[test]
fn ne_and_not_on_records_lacking_the_field_agree_for_head_names_and_fields() {
    // A dbserver menu item: no device number, no `playing`.
    let item = rec(Proto::DbServer, "menu_item", None, vec![]);
    let s = status();
    for (ne, not) in [
        ("device!=2", "not device=2"),
        ("playing!=true", "not playing=true"),
        ("bpm!=120", "not bpm=120"),
        ("name!=x", "not name=x"),
    ] {
        // Lacking the name: `!=` is false, `not =` is true (`device!=2` and `playing!=true`
        // used to disagree here).
        let mut lacking = item.clone();
        lacking.dissection.name = None;
        assert!(!m(ne, &lacking), "{ne}");
        assert!(m(not, &lacking), "{not}");
    }
    // Having it, `!=` and `not =` are the same.
    for v in ["2", "3"] {
        assert_eq!(
            m(&format!("device!={v}"), &s),
            m(&format!("not device={v}"), &s)
        );
    }
    assert!(!m("playing!=true", &s));
    assert!(m("playing!=false", &s));
    // A null ("unknown") value counts as lacking.
    let no_track = rec(
        Proto::ProDjLink,
        "cdj_status",
        Some(1),
        vec![("bpm", Value::Null)],
    );
    assert!(!m("bpm!=120", &no_track));
    assert!(!m("bpm<120", &no_track));
    assert!(m("not bpm=120", &no_track));
    // Addresses and ports: `!=` is "neither end".
    assert!(!m("port!=50002", &s));
    assert!(!m("src!=169.254.1.2", &s));
    assert!(m("dst!=169.254.1.2", &s));
    assert!(!m("ip!=169.254.1.3", &s));
}

#[test]
fn unknown_names_and_words_for_numbers_are_errors_with_suggestions() {
    for (expr, col, needles) in [
        ("bmp>120", 1, vec!["no message has a field 'bmp'", "'bpm'"]),
        (
            "beat and fields.bpm>100",
            10,
            vec!["'fields.bpm'", "did you mean 'bpm'"],
        ),
        ("rekordboxid=5", 1, vec!["'rekordbox_id'"]),
        (
            "device=two",
            8,
            vec!["'device' is a number and 'two' is not"],
        ),
        ("port>high", 6, vec!["'port' is a number"]),
        ("bpm>fast", 5, vec!["'bpm' is a number and 'fast' is not"]),
        (
            "status and playing=maybe",
            20,
            vec!["'playing' is true or false"],
        ),
        ("beet", 1, vec!["did you mean 'beat'"]),
        ("zzqqxx=1", 1, vec!["docs/json.md"]),
    ] {
        let e = parse(expr).expect_err(expr);
        assert_eq!(e.column, col, "{expr}: {e}");
        for n in needles {
            assert!(e.message.contains(n), "{expr}: {e}");
        }
        assert!(e.render(expr).lines().nth(2).unwrap().ends_with('^'));
    }
    for ok in [
        "device=0x0a",
        "frame>=10",
        "len<1.5e3",
        "kind=10",
        "latency_ms>20",
        "exchange~playlist",
    ] {
        parse(ok).unwrap_or_else(|e| panic!("{}", e.render(ok)));
    }
}

#[test]
fn boolean_structure_and_precedence() {
    let s = status();
    assert!(m("beat or status and device=2", &s));
    assert!(!m("(beat or status) and device=3", &s));
    assert!(m("not beat", &s));
    assert!(m("not (beat or keepalive)", &s));
    assert!(m("!beat && (status || hello)", &s));
    assert!(m("name = \"CDJ-3000\"", &s));
}

#[test]
fn statemap_path_contains() {
    let r = rec(
        Proto::StageLinq,
        "statemap_value",
        None,
        vec![("path", Value::str("/Engine/Deck1/Play"))],
    );
    assert!(m("path~deck1/play", &r));
    assert!(m("statemap and path~Deck1", &r));
    assert!(!m("path~Deck2", &r));
}

#[test]
fn bad_expressions_point_at_the_problem() {
    for (expr, col, needle) in [
        ("", 1, "ends where a term"),
        ("beet", 1, "unknown filter word 'beet'"),
        ("beat and", 9, "ends where a term"),
        ("(beat or status", 16, "expected ')'"),
        ("beat)", 5, "unmatched ')'"),
        ("device=", 8, "expected a value"),
        ("=2", 1, "operator needs a field"),
        ("beat status", 6, "expected 'and', 'or'"),
        ("name=\"open", 6, "unterminated"),
        ("or beat", 1, "needs a term on its left"),
    ] {
        let e = parse(expr).expect_err(expr);
        assert_eq!(e.column, col, "{expr}: {e}");
        assert!(e.message.contains(needle), "{expr}: {e}");
        let shown = e.render(expr);
        assert!(shown.lines().nth(2).unwrap().ends_with('^'));
    }
}

#[test]
fn only_comparisons_on_field_names_need_fields() {
    for expr in [
        "beat",
        "status and not master",
        "device == 2",
        "type == cdj_status or name ~ CDJ",
        "ip == 169.254.1.2 and port == 50002 and len > 10 and frame < 9 and kind == 0x0a",
        "proto == stagelinq and src ~ 51337 and dst ~ 1",
    ] {
        assert!(!parse(expr).unwrap().needs_fields(), "{expr}");
    }
    for expr in [
        "bpm > 120",
        "beat and not pitch == 0",
        "device == 1 or rekordbox_id == 5",
    ] {
        assert!(parse(expr).unwrap().needs_fields(), "{expr}");
    }
}
