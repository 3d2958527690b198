//! The club-set scenario is the ground truth of the session tracker: run what `synth --scenario
//! club-set` writes through the engine and the session, and compare with its script exactly
//! (times to the nanosecond, who, in what order). Also pins `captures/club-set.pcapng` to what
//! the generator writes today.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use djdissect::capture::CaptureReader;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::record::Record;
use djdissect::session::Session;
use djdissect::synth::club_set::{club_set_script, Script, Step};
use djdissect::synth::pdl::MIXER_NUMBER;
use djdissect::synth::{generate, Limits, Scenario};

/// What the session made of the capture, and each frame's time, type and sender.
struct Outcome {
    session: Session,
    frames: BTreeMap<u64, (i128, String, Option<u32>)>,
}

fn club_set_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    generate(Scenario::ClubSet, Limits::default(), &mut out).unwrap();
    out
}

fn observe(bytes: Vec<u8>) -> Outcome {
    let mut reader = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
    let mut engine = Engine::new(EngineOptions::default());
    let mut session = Session::new();
    let mut frames = BTreeMap::new();
    let mut sink = |r: &Record<'_>| {
        session.observe(r);
        frames.entry(r.frame).or_insert((
            r.ts_ns,
            r.dissection.type_name.to_string(),
            r.dissection.device,
        ));
        ControlFlow::Continue(())
    };
    while let Some(f) = reader.next_frame().unwrap() {
        let _ = engine.frame(&f, &mut sink);
    }
    let _ = engine.finish(&mut sink);
    assert_eq!(engine.stats().malformed, 0, "{}", engine.stats().line());
    assert_eq!(engine.stats().unknown, 0, "{}", engine.stats().line());
    session.finish();
    Outcome { session, frames }
}

/// (time, deck, event, text) of every player event, in capture order.
fn player_events(o: &Outcome) -> Vec<(i128, u32, &'static str, String)> {
    let mut v: Vec<_> = o
        .session
        .players
        .players
        .values()
        .flat_map(|p| {
            p.events
                .iter()
                .map(move |e| (e.ts_ns, p.deck, e.event, e.text.clone()))
        })
        .collect();
    v.sort_by_key(|e| e.0);
    v
}

#[test]
fn tempo_master_changes_exactly_as_scripted() {
    let script = club_set_script();
    let o = observe(club_set_bytes());
    let got: Vec<(i128, u8)> = o
        .session
        .master_history
        .iter()
        .map(|m| {
            let (ts, ty, dev) = o.frames[&m.frame].clone();
            // The change is read from the new master's own status packet.
            assert_eq!(ty, "cdj_status", "frame {}", m.frame);
            assert_eq!(dev, m.player, "frame {}", m.frame);
            (
                ts,
                m.player.expect("nobody lost master without a successor") as u8,
            )
        })
        .collect();
    assert_eq!(got, script.master_changes());
    // The handoff took the protocol's way: request, response, then the flags (9.4).
    let texts: Vec<&str> = o
        .session
        .master_history
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "player 1 is tempo master",
            "tempo master handed from player 1 to player 2"
        ]
    );
    let handoff_steps: Vec<i128> = script
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.step,
                Step::HandoffRequest { .. } | Step::HandoffResponse { .. }
            )
        })
        .map(|s| s.at_ns)
        .collect();
    let handoff_frames: Vec<i128> = o
        .frames
        .values()
        .filter(|(_, t, _)| t.starts_with("master_handoff"))
        .map(|(ts, _, _)| *ts)
        .collect();
    assert_eq!(handoff_frames, handoff_steps);
    // The old master lets go after the new one took over, within the ~80 ms of 4.2.
    let released = player_events(&o)
        .into_iter()
        .find(|e| e.3 == "player 1 is no longer tempo master")
        .expect("player 1 releases master")
        .0;
    let take = script.master_changes()[1].0;
    assert!(released > take && released - take < 81_000_000);
}

#[test]
fn on_air_changes_exactly_as_scripted() {
    let script = club_set_script();
    let o = observe(club_set_bytes());
    let got: Vec<(i128, u8, bool)> = player_events(&o)
        .into_iter()
        .filter(|e| e.2 == "on_air")
        .map(|(ts, deck, _, text)| (ts, deck as u8, text.contains(" on air")))
        .collect();
    assert_eq!(got, script.on_air_changes());
    // Each change is the mixer's channels-on-air packet, sent the moment the fader moved.
    for (ts, _, _) in script.on_air_changes() {
        let (_, ty, dev) = o.frames.values().find(|f| f.0 == ts).unwrap().clone();
        assert_eq!(
            (ty.as_str(), dev),
            ("channels_on_air", Some(MIXER_NUMBER as u32))
        );
    }
}

#[test]
fn player_timelines_name_the_scripted_tracks() {
    let script = club_set_script();
    let o = observe(club_set_bytes());
    let events = player_events(&o);
    let loads: Vec<(i128, u32, &String)> = script
        .loads()
        .into_iter()
        .map(|(ts, deck, t)| (ts, deck as u32, &t.title))
        .collect();
    let got: Vec<(i128, u32, String)> = events
        .iter()
        .filter(|e| e.2 == "track_loaded")
        .map(|e| (e.0, e.1, e.3.clone()))
        .collect();
    assert_eq!(got.len(), loads.len());
    for ((ts, deck, text), (want_ts, want_deck, title)) in got.iter().zip(&loads) {
        assert_eq!((ts, deck), (want_ts, want_deck));
        // The dbserver lookup came first, so the load event already names the track.
        assert!(text.contains(&format!("'{title}'")), "{text}");
    }
    for (_, deck, track) in script.loads() {
        let p = o
            .session
            .players
            .players
            .values()
            .find(|p| p.deck == deck as u32)
            .unwrap();
        assert_eq!(p.state.title.as_deref(), Some(track.title.as_str()));
        assert_eq!(p.state.artist.as_deref(), Some(track.artist.as_str()));
    }
    // Play and pause as scripted, nothing else.
    let want: Vec<(i128, u32, &str)> = script
        .steps
        .iter()
        .filter_map(|s| match s.step {
            Step::Play { deck } => Some((s.at_ns, deck as u32, "play")),
            Step::Pause { deck } => Some((s.at_ns, deck as u32, "pause")),
            _ => None,
        })
        .collect();
    let got: Vec<(i128, u32, &str)> = events
        .iter()
        .filter(|e| e.2 == "play" || e.2 == "pause")
        .map(|e| (e.0, e.1, e.2))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn tempo_of_synced_decks_is_the_masters() {
    let script: Script = club_set_script();
    let o = observe(club_set_bytes());
    for (_, deck, _) in script.loads() {
        let p = o
            .session
            .players
            .players
            .values()
            .find(|p| p.deck == deck as u32)
            .unwrap();
        let eff = p.state.effective_bpm.unwrap();
        assert!((eff - 124.0).abs() < 0.01, "deck {deck} at {eff}");
    }
}

#[test]
fn committed_capture_is_what_the_generator_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/club-set.pcapng");
    let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        committed == club_set_bytes(),
        "captures/club-set.pcapng differs from `djdissect synth --scenario club-set`; \
         regenerate it with: cargo run -- synth -o captures/club-set.pcapng"
    );
}
