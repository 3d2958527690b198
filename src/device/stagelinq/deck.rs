//! One deck of a StageLinQ unit (a player layer or an all-in-one deck): the track loaded
//! from the demo library, play state, pitch, tempo master, the mixer volume the unit knows,
//! and the play position as a function of time, which BeatInfo and the StateMap read.

use std::sync::Arc;

use crate::device::library::{Library, Track};
use crate::device::{Nanos, SECOND};
use crate::stagelinq::beatinfo::DeckBeat;

use super::file_transfer::engine_db;

/// The tempo an empty deck reports. The capture's SC6000 reported 121.975 BPM with nothing
/// loaded (`stagelinq.md` 3.6); an empty emulated deck reports a round 120.
pub const IDLE_BPM: f64 = 120.0;
/// The sample rate the timeline counts in (1.6: go-stagelinq's PRIME 4 vector divides by
/// 44 100; `Track/SampleRate` in the logs is 48 000 for other files). The demo tracks are
/// 44.1 kHz files.
pub const SAMPLE_RATE: u32 = 44_100;

/// What a deck knows of its track (from [`Library`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTrack {
    pub id: u32,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub key: String,
    /// Engine's key number (1.11 `CurrentKeyIndex`, the number the Engine database stores).
    pub key_index: i64,
    pub bpm: f64,
    pub duration_s: u32,
    pub first_beat_ms: u32,
    pub file_path: String,
    /// Where the file lies inside its source (`Engine Library/Music/...`, what FileTransfer
    /// serves and `TrackNetworkPath` names).
    pub music_path: String,
    pub file_size: u32,
}

impl LoadedTrack {
    pub fn from_library(lib: &Library, t: &Track) -> Self {
        LoadedTrack {
            id: t.id,
            title: t.title.clone(),
            artist: lib.artist_name(t).to_string(),
            album: lib.album_name(t).to_string(),
            key: t.key.text(),
            key_index: engine_db::engine_key(t.key) as i64,
            bpm: t.bpm(),
            duration_s: t.duration_s,
            first_beat_ms: t.first_beat_ms,
            file_path: t.file_path.clone(),
            music_path: engine_db::music_path(t),
            file_size: t.file_size,
        }
    }

    /// Beats in the track at its own tempo (BeatInfo `totalBeats`, constant per track, 1.6).
    pub fn total_beats(&self) -> f64 {
        let span = self.duration_s as f64 - self.first_beat_ms as f64 / 1000.0;
        (span.max(0.0) * self.bpm / 60.0).floor()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Deck {
    pub track: Option<Arc<LoadedTrack>>,
    pub playing: bool,
    /// Tempo slider, percent.
    pub pitch: f64,
    pub sync: bool,
    pub master: bool,
    /// `ExternalMixerVolume` (0-1): written by the mixer (3.5 `0x7d1`), or the unit's own
    /// channel fader on an all-in-one.
    pub volume: f64,
    pub was_played: bool,
    /// Play position (s) at `anchor`.
    position_s: f64,
    anchor: Nanos,
}

impl Deck {
    pub fn effective_bpm(&self) -> f64 {
        match &self.track {
            Some(t) => t.bpm * (1.0 + self.pitch / 100.0),
            None => IDLE_BPM,
        }
    }

    /// Play position in seconds of the track at `now`, clamped to the track.
    pub fn position_s(&self, now: Nanos) -> f64 {
        let Some(t) = &self.track else { return 0.0 };
        let mut p = self.position_s;
        if self.playing {
            let rate = 1.0 + self.pitch / 100.0;
            p += (now - self.anchor).max(0) as f64 / SECOND as f64 * rate;
        }
        p.clamp(0.0, t.duration_s as f64)
    }

    /// The position the StateMap reports (`PlayheadPosition`): the one at the last change, so
    /// a subscriber gets updates on events, not every sample.
    pub fn anchored_position_s(&self) -> f64 {
        self.position_s
    }

    fn reanchor(&mut self, now: Nanos) {
        self.position_s = self.position_s(now);
        self.anchor = now;
    }

    /// The cue point: the first beat.
    fn cue_s(&self) -> f64 {
        self.track
            .as_ref()
            .map_or(0.0, |t| t.first_beat_ms as f64 / 1000.0)
    }

    pub fn load(&mut self, now: Nanos, track: LoadedTrack) {
        self.track = Some(Arc::new(track));
        self.playing = false;
        self.was_played = false;
        self.position_s = self.cue_s();
        self.anchor = now;
    }

    /// False when nothing is loaded or it already plays.
    pub fn play(&mut self, now: Nanos) -> bool {
        if self.track.is_none() || self.playing {
            return false;
        }
        self.reanchor(now);
        self.playing = true;
        self.was_played = true;
        true
    }

    pub fn pause(&mut self, now: Nanos) -> bool {
        if !self.playing {
            return false;
        }
        self.reanchor(now);
        self.playing = false;
        true
    }

    pub fn cue(&mut self, now: Nanos) -> bool {
        if self.track.is_none() {
            return false;
        }
        self.playing = false;
        self.position_s = self.cue_s();
        self.anchor = now;
        true
    }

    pub fn set_pitch(&mut self, now: Nanos, pitch: f64) {
        self.reanchor(now);
        self.pitch = pitch.clamp(-100.0, 100.0);
    }

    /// The deck's BeatInfo entry at `now` (1.6): the beat counted at the track's own tempo
    /// from the start of the file, fractional (so `beat x 60 / bpm` = `timeline / 44100` at
    /// pitch 0, as in go-stagelinq's PRIME 4 vector); totalBeats per track; the effective
    /// tempo; the timeline in samples.
    pub fn beat(&self, now: Nanos) -> DeckBeat {
        match &self.track {
            None => DeckBeat {
                beat: 0.0,
                total_beats: 0.0,
                bpm: IDLE_BPM,
                samples: 0.0,
            },
            Some(t) => {
                let p = self.position_s(now);
                DeckBeat {
                    beat: p * t.bpm / 60.0,
                    total_beats: t.total_beats(),
                    bpm: self.effective_bpm(),
                    samples: p * SAMPLE_RATE as f64,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_and_beats_follow_the_effective_tempo() {
        let lib = Library::demo();
        let t = &lib.tracks[0];
        let mut d = Deck::default();
        d.load(0, LoadedTrack::from_library(&lib, t));
        d.set_pitch(0, 10.0);
        assert!(d.play(0));
        let b0 = d.beat(0).beat;
        let b = d.beat(60 * SECOND);
        // One minute at +10 %: 1.1 minutes of track, track tempo x 1.1 beats.
        assert!((b.beat - b0 - t.bpm() * 1.1).abs() < 1e-6, "{b:?}");
        assert!((b.bpm - t.bpm() * 1.1).abs() < 1e-9);
        assert!(d.pause(60 * SECOND));
        assert_eq!(d.beat(90 * SECOND).beat, b.beat);
        assert!(d.cue(91 * SECOND));
        let cue = t.first_beat_ms as f64 / 1000.0 * t.bpm() / 60.0;
        assert!((d.beat(92 * SECOND).beat - cue).abs() < 1e-9);
    }
}
