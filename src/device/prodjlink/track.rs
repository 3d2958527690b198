//! What a player needs to know about a track to play it and report it on UDP: its id, tempo,
//! beat grid, length, key and where it lives. The dbserver side (titles, menus, artwork,
//! waveforms) reads the full library; the UDP side reads only this, so the player is fed from
//! whatever library the scenario has through the small [`Tracks`] interface.

use std::sync::Arc;

use crate::device::library::{Library, Track};
use crate::prodjlink::Key;

/// The USB slot (status Sr `03`, DMST byte 2; `prodjlink.md` 4.2).
pub const USB_SLOT: u8 = 3;

/// One track as a player's deck sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    pub rekordbox_id: u32,
    /// Track tempo x 100 (status 0x92, beat 0x5a).
    pub bpm_x100: u16,
    /// Whole seconds (precise position 0x24).
    pub duration_s: u32,
    /// Position of the grid's first beat (a downbeat), in ms.
    pub first_beat_ms: u32,
    /// The CDJ-3000 key fields (4.2 0x15c-0x15e).
    pub key: Option<Key>,
    /// Player whose media holds the track (status Dr), and the slot (Sr).
    pub source_player: u8,
    pub slot: u8,
    /// Album art (JPEG) an OPUS-QUAD sends in 0x56 chunks on load (9.5); empty when none.
    pub artwork: Arc<[u8]>,
    /// PSSI phrase data an OPUS-QUAD answers 0x55 requests with (9.5); empty when none.
    pub phrases: Arc<[u8]>,
}

impl TrackInfo {
    pub fn bpm(&self) -> f64 {
        self.bpm_x100 as f64 / 100.0
    }

    /// Milliseconds between beats at pitch 0.
    pub fn beat_ms(&self) -> f64 {
        6_000_000.0 / self.bpm_x100.max(1) as f64
    }
}

impl TrackInfo {
    /// A library track as a deck sees it, on every player's media (source 0), with its small
    /// cover as album art and PSSI phrases made from its grid.
    pub fn from_library(lib: &Library, t: &Track) -> TrackInfo {
        let name = t.key.text();
        let accidental = if name.contains('#') {
            0x01
        } else if name.trim_end_matches('m').len() > 1 {
            0xff
        } else {
            0x00
        };
        let mut info = TrackInfo {
            rekordbox_id: t.id,
            bpm_x100: t.bpm_x100,
            duration_s: t.duration_s,
            first_beat_ms: t.first_beat_ms,
            // CDJ-3000 key fields: note, `00` minor / `01` major, accidental (4.2).
            key: Some(Key {
                note: t.key.note % 12,
                mode: u8::from(!t.key.minor),
                accidental,
            }),
            source_player: 0,
            slot: USB_SLOT,
            artwork: lib
                .artwork(t.artwork_id)
                .map_or_else(|| Arc::from(&[][..]), |a| Arc::from(&a.small[..])),
            phrases: Arc::from(&[][..]),
        };
        info.phrases = super::phrases::pssi(&info).into();
        info
    }
}

/// Where players find tracks by id: the demo library, a synth scenario's track list.
pub trait TrackSource: Send + Sync {
    /// The track with `rekordbox_id` on `slot` of player `source`.
    fn track(&self, source: u8, slot: u8, rekordbox_id: u32) -> Option<TrackInfo>;
    /// How many tracks the media of player `source` holds (media response 0xa6).
    fn count(&self, source: u8) -> usize;
}

/// A shared track source.
pub type Tracks = Arc<dyn TrackSource>;

/// A fixed list of tracks, each tagged with the player whose media holds it.
#[derive(Debug, Clone, Default)]
pub struct TrackList(pub Vec<TrackInfo>);

impl TrackList {
    /// Every track of `lib`, on every player's media.
    pub fn from_library(lib: &Library) -> Self {
        TrackList(
            lib.tracks
                .iter()
                .map(|t| TrackInfo::from_library(lib, t))
                .collect(),
        )
    }
}

impl TrackSource for TrackList {
    fn track(&self, source: u8, slot: u8, rekordbox_id: u32) -> Option<TrackInfo> {
        // A track of source 0 is on every player's media (the emulator's demo library); a
        // request with source 0 takes the track wherever it is.
        self.0
            .iter()
            .find(|t| {
                t.rekordbox_id == rekordbox_id
                    && (source == 0 || t.source_player == 0 || t.source_player == source)
            })
            .map(|t| {
                let mut t = t.clone();
                if source != 0 {
                    t.source_player = source;
                }
                if slot != 0 {
                    t.slot = slot;
                }
                t
            })
    }

    fn count(&self, source: u8) -> usize {
        self.0
            .iter()
            .filter(|t| t.source_player == source || t.source_player == 0)
            .count()
    }
}
