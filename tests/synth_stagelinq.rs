//! The stagelinq scenario against its script: the session's StageLinQ story (loads, play and
//! stop, on and off air) at exactly the scripted times, and `captures/stagelinq-set.pcapng`
//! pinned to what the generator writes today.

use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::Path;

use djdissect::capture::CaptureReader;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::record::Record;
use djdissect::session::Session;
use djdissect::synth::stagelinq_set::stagelinq_script;
use djdissect::synth::{generate, Limits, Scenario};

fn bytes() -> Vec<u8> {
    let mut out = Vec::new();
    generate(Scenario::StageLinq, Limits::default(), &mut out).unwrap();
    out
}

fn session() -> Session {
    let mut reader = CaptureReader::new(Box::new(std::io::Cursor::new(bytes()))).unwrap();
    let mut engine = Engine::new(EngineOptions::default());
    let mut session = Session::new();
    let mut sink = |r: &Record<'_>| {
        session.observe(r);
        ControlFlow::Continue(())
    };
    while let Some(f) = reader.next_frame().unwrap() {
        let _ = engine.frame(&f, &mut sink);
    }
    let _ = engine.finish(&mut sink);
    assert_eq!(engine.stats().malformed, 0, "{}", engine.stats().line());
    assert_eq!(engine.stats().unknown, 0, "{}", engine.stats().line());
    session.finish();
    session
}

#[test]
fn deck_story_exactly_as_scripted() {
    let script = stagelinq_script();
    let s = session();
    let player = IpAddr::V4(script.units.player_ip);
    let first_step = script.steps[0].at_ns;
    let lines: Vec<(i128, String)> = s
        .timeline
        .iter()
        .filter(|e| e.ts_ns >= first_step && e.text.starts_with(&format!("{player} deck")))
        .map(|e| (e.ts_ns, e.text.clone()))
        .collect();
    let mut want: Vec<(i128, String)> = Vec::new();
    for (t, deck, track) in script.loads() {
        want.push((t, format!("{player} deck {deck} loaded '{}'", track.title)));
    }
    for (t, deck, playing) in script.transport() {
        let what = if playing { "playing" } else { "stopped" };
        want.push((t, format!("{player} deck {deck} {what}")));
    }
    for (t, deck, on) in script.on_air_changes() {
        let what = if on { "on air" } else { "off air" };
        want.push((t, format!("{player} deck {deck} {what}")));
    }
    want.sort();
    let mut got = lines;
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn decks_end_with_the_scripted_tracks_and_the_last_one_plays() {
    let script = stagelinq_script();
    let s = session();
    let player = IpAddr::V4(script.units.player_ip);
    let dev = &s.stagelinq.devices[&player];
    for (_, deck, track) in script.loads() {
        let d = &dev.decks[&(deck as u32)];
        assert_eq!(d.title.as_deref(), Some(track.title.as_str()));
        assert_eq!(d.artist.as_deref(), Some(track.artist.as_str()));
        assert_eq!(d.bpm, Some(track.bpm()));
    }
    let last = script.loads().last().unwrap().2.clone();
    assert_eq!(
        s.now_playing.render("{artist} - {title}"),
        format!("{} - {}", last.artist, last.title)
    );
    // Both units said goodbye.
    let left = s
        .timeline
        .iter()
        .filter(|e| e.text.ends_with("left the network"))
        .count();
    assert!(left >= 2, "{left} departures");
}

#[test]
fn committed_capture_is_what_the_generator_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/stagelinq-set.pcapng");
    let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        committed == bytes(),
        "captures/stagelinq-set.pcapng differs from `djdissect synth --scenario stagelinq`; \
         regenerate it with: cargo run -- synth --scenario stagelinq -o captures/stagelinq-set.pcapng"
    );
}
