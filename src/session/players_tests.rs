//! The player story told from status packets: tempo events, the playing rule, deck numbers.

use super::*;
use crate::dissect::{Dissection, Proto};
use crate::prodjlink::status_flag;

fn record(frame: u64, bytes: &[u8]) -> Record<'_> {
    Record {
        frame,
        ts_ns: frame as i128 * 200_000_000,
        src: "10.0.0.2:50002".parse().unwrap(),
        dst: "10.0.0.255:50002".parse().unwrap(),
        interface: 0,
        port: 50002,
        bytes,
        dissection: Dissection::new(Proto::ProDjLink, "cdj_status"),
        extra: Vec::new(),
    }
}

/// A nexus status of player 2 with `track` loaded from its USB at `bpm` and `pitch` percent.
fn status(track: u32, p1: u8, bpm: f64, pitch: f64) -> CdjStatus {
    let mut s = CdjStatus::new("CDJ-2000nexus", 2, 0xd4);
    s.track_device = 2;
    s.track_slot = 3;
    s.track_type = 1;
    s.rekordbox_id = track;
    s.play_state = p1;
    s.set_tempo(Some(bpm), pitch);
    s
}

/// Feed statuses in order; the events they caused, by name and text.
fn story(statuses: &[CdjStatus]) -> Vec<(&'static str, String)> {
    let mut p = Player::new("10.0.0.2".parse().unwrap(), 2, Some("CDJ-2000nexus".into()));
    let tracks = BTreeMap::new();
    let mut out = Vec::new();
    for (i, s) in statuses.iter().enumerate() {
        let bytes = s.to_bytes();
        out.extend(p.status(&record(i as u64, &bytes), s, &tracks));
    }
    out
}

fn tempo_events(events: &[(&'static str, String)]) -> Vec<String> {
    events
        .iter()
        .filter(|(e, _)| *e == "tempo")
        .map(|(_, t)| t.clone())
        .collect()
}

/// LinkInfo at 37.09 s: a new track loads while the status still reports the old track's
/// BPM, then its own (119 -> 127 at pitch 0). That is a track change, not a tempo change.
#[test]
fn a_new_tracks_bpm_is_not_a_tempo_change() {
    let events = story(&[
        status(767, 0x03, 119.0, 0.0),
        status(874, 0x02, 119.0, 0.0),
        status(874, 0x06, 127.0, 0.0),
        status(874, 0x03, 127.0, 0.0),
    ]);
    assert!(tempo_events(&events).is_empty(), "{events:?}");
    assert!(events.iter().any(|(e, _)| *e == "track_loaded"));
}

/// S10j at 28.39 s: the same track, its BPM corrected after the load (140 -> 145, pitch
/// unchanged): no event. A pitch move of the same track afterwards is one.
#[test]
fn tempo_events_are_pitch_moves_of_the_same_track() {
    let events = story(&[
        status(182, 0x03, 140.0, -1.65),
        status(182, 0x03, 145.0, -1.65),
        status(182, 0x03, 145.0, -1.65),
        status(182, 0x03, 145.0, -5.0),
    ]);
    assert_eq!(
        tempo_events(&events),
        ["player 2 tempo 142.61 -> 137.75 BPM (pitch -5.00%)"]
    );
}

/// The playing rule reaches the story: an OPUS-style status that plays with the bit clear.
#[test]
fn playing_state_follows_the_rule_not_the_bit() {
    let mut p = Player::new("10.0.0.2".parse().unwrap(), 2, None);
    let tracks = BTreeMap::new();
    let mut s = status(5, 0x03, 128.0, 0.0);
    s.set_flag(status_flag::PLAYING, false);
    let bytes = s.to_bytes();
    p.status(&record(1, &bytes), &s, &tracks);
    assert!(p.state.playing && p.state.playing_since.is_some());
    let mut s = status(5, 0x05, 128.0, 0.0);
    s.set_flag(status_flag::PLAYING, true);
    let bytes = s.to_bytes();
    p.status(&record(2, &bytes), &s, &tracks);
    assert!(!p.state.playing);
}

#[test]
fn decks_9_to_12_are_renumbered_only_for_the_opus_quad() {
    assert_eq!(deck_of(10, Some("OPUS-QUAD")), 2);
    assert_eq!(deck_of(10, Some("XDJ-XZ")), 10);
    assert_eq!(deck_of(9, Some("CDJ-3000")), 9);
    assert_eq!(deck_of(9, None), 9);
    assert_eq!(deck_of(3, Some("OPUS-QUAD")), 3);
}

/// A precise position no player sends is not taken as the player's playhead or tempo.
#[test]
fn implausible_positions_are_not_taken() {
    let mut p = Player::new("10.0.0.2".parse().unwrap(), 2, Some("CDJ-3000".into()));
    let good = PrecisePosition::new("CDJ-3000", 2, 300, 61_000, 0.0, Some(128.0));
    p.position(&good);
    assert_eq!(p.state.position_ms, Some(61_000));
    let mut bad = PrecisePosition::new("CDJ-3000", 2, 1_500_000_000, 62_000, 0.0, Some(128.0));
    bad.pitch = -900_000_000;
    assert!(p.position(&bad).is_empty());
    assert_eq!(p.state.position_ms, Some(61_000));
    assert_eq!(p.state.pitch, Some(0.0));
}

/// A CDJ-3000X at the end of a track reports no track reference (libdjlink 1.4.1): the track
/// stays loaded; the end is told, no unload.
#[test]
fn a_track_end_without_reference_is_no_unload() {
    let mut ended = status(0, 0x11, 128.0, 0.0);
    ended.track_device = 0;
    ended.track_slot = 0;
    ended.track_type = 0;
    let events = story(&[status(182, 0x03, 128.0, 0.0), ended]);
    let names: Vec<&str> = events.iter().map(|(e, _)| *e).collect();
    assert!(names.contains(&"end_of_track"), "{names:?}");
    assert!(!names.contains(&"track_unloaded"), "{names:?}");
    // An empty deck (P1 no track) still unloads.
    let mut empty = status(0, 0x00, 128.0, 0.0);
    empty.track_device = 0;
    let events = story(&[status(182, 0x03, 128.0, 0.0), empty]);
    assert!(events.iter().any(|(e, _)| *e == "track_unloaded"));
}

/// A CDJ-3000 interleaves precise positions (no track BPM) with its statuses: a position read
/// between the status that still shows the old BPM and the one with the new BPM must not turn
/// the new BPM into a tempo event.
#[test]
fn positions_between_statuses_keep_the_track_bpm() {
    let mut p = Player::new("10.0.0.2".parse().unwrap(), 2, Some("CDJ-3000".into()));
    let tracks = BTreeMap::new();
    let mut out = Vec::new();
    for (i, s) in [status(767, 0x03, 119.0, 0.0), status(874, 0x02, 119.0, 0.0)]
        .iter()
        .enumerate()
    {
        let b = s.to_bytes();
        out.extend(p.status(&record(i as u64, &b), s, &tracks));
    }
    out.extend(p.position(&PrecisePosition::new(
        "CDJ-3000",
        2,
        300,
        0,
        0.0,
        Some(119.0),
    )));
    let s = status(874, 0x06, 127.0, 0.0);
    let b = s.to_bytes();
    out.extend(p.status(&record(3, &b), &s, &tracks));
    assert!(tempo_events(&out).is_empty(), "{out:?}");
}
