//! One StageLinQ player deck of the synthetic rig: what is loaded, whether it plays, and the
//! beat position BeatInfo reports for it (stagelinq.md 1.6).

use crate::stagelinq::beatinfo::DeckBeat;

use super::dblookup::Track;

const SAMPLE_RATE: f64 = 44_100.0;
/// Empty decks still report a tempo in BeatInfo (sc6000_boot.pcap: 121.975 with no track).
pub(super) const IDLE_BPM: f64 = 120.0;

#[derive(Debug, Clone, Default)]
pub struct SlqDeck {
    pub track: Option<Track>,
    pub playing: bool,
    pub master: bool,
    pub(super) anchor_ns: i128,
    pub(super) anchor_s: f64,
}

impl SlqDeck {
    pub(super) fn position_s(&self, t: i128) -> f64 {
        if self.playing {
            self.anchor_s + (t - self.anchor_ns) as f64 / 1e9
        } else {
            self.anchor_s
        }
    }

    pub(super) fn bpm(&self) -> f64 {
        self.track.as_ref().map_or(IDLE_BPM, Track::bpm)
    }

    pub(super) fn beat(&self, t: i128) -> DeckBeat {
        let Some(tr) = &self.track else {
            return DeckBeat {
                bpm: IDLE_BPM,
                ..DeckBeat::default()
            };
        };
        let pos = self.position_s(t);
        // beat x 60 / bpm = samples / rate (stagelinq.md 1.6).
        DeckBeat {
            beat: pos * tr.bpm() / 60.0,
            total_beats: tr.duration_s as f64 * tr.bpm() / 60.0,
            bpm: tr.bpm(),
            samples: pos * SAMPLE_RATE,
        }
    }
}
