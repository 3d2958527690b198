//! What a Pro DJ Link player is doing, and the status, beat and precise-position Reprs that
//! say so (`prodjlink.md` 3, 4.2). A deck's play position is a straight line through an anchor
//! (time, position) with the slope of its pitch, so every packet reads the same timeline.

use super::persona::Persona;
use super::track::TrackInfo;
use crate::device::Nanos;
use crate::prodjlink::{status_flag, Beat, CdjStatus, PrecisePosition};

/// P1 play states (4.2).
pub mod play_state {
    pub const NO_TRACK: u8 = 0x00;
    pub const LOADING: u8 = 0x02;
    pub const PLAYING: u8 = 0x03;
    pub const PAUSED: u8 = 0x05;
    pub const CUED: u8 = 0x06;
    pub const ENDED: u8 = 0x11;
}

/// One player's deck.
#[derive(Debug, Clone)]
pub struct Deck {
    pub track: Option<TrackInfo>,
    /// Position of the track in the list it was loaded from (status 0x32).
    pub track_number: u16,
    pub loading: bool,
    /// `ld1` = `80` on the next status after a load starts, `ld2` = `ffff` after it ends.
    pub load_marker: bool,
    pub load_done: bool,
    pub playing: bool,
    /// Stopped somewhere other than the cue point (P1 `05` instead of `06`).
    pub paused: bool,
    /// Played to the end of the track and stopped there (P1 `11`).
    pub ended: bool,
    anchor_ns: Nanos,
    anchor_ms: f64,
    pub pitch_pct: f64,
    pub master: bool,
    pub sync: bool,
    pub on_air: bool,
    /// M_h: `ff`, or the device being handed the master role (9.4).
    pub handoff_to: u8,
    pub sync_counter: u32,
}

impl Default for Deck {
    fn default() -> Self {
        Deck {
            track: None,
            track_number: 0,
            loading: false,
            load_marker: false,
            load_done: false,
            playing: false,
            paused: false,
            ended: false,
            anchor_ns: 0,
            anchor_ms: 0.0,
            pitch_pct: 0.0,
            master: false,
            sync: false,
            on_air: false,
            handoff_to: 0xff,
            sync_counter: 1,
        }
    }
}

impl Deck {
    /// Playback speed relative to the track's tempo.
    pub fn rate(&self) -> f64 {
        1.0 + self.pitch_pct / 100.0
    }

    /// Play position in ms at `t`.
    pub fn position_ms(&self, t: Nanos) -> f64 {
        if self.playing {
            self.anchor_ms + (t - self.anchor_ns) as f64 / 1e6 * self.rate()
        } else {
            self.anchor_ms
        }
    }

    /// Move the anchor to `t` (before a change of speed or of playing state).
    pub fn reanchor(&mut self, t: Nanos) {
        self.anchor_ms = self.position_ms(t);
        self.anchor_ns = t;
    }

    /// Put the play head at `ms` at time `t`.
    pub fn cue_to(&mut self, t: Nanos, ms: f64) {
        self.anchor_ms = ms;
        self.anchor_ns = t;
    }

    /// Track tempo times pitch (4.2); None without a track.
    pub fn effective_bpm(&self) -> Option<f64> {
        self.track.as_ref().map(|t| t.bpm() * self.rate())
    }

    /// When a playing deck reaches the end of its track, if it does.
    pub fn end_time(&self) -> Option<Nanos> {
        let t = self.track.as_ref().filter(|_| self.playing)?;
        let end_ms = t.duration_s as f64 * 1000.0;
        let left = ((end_ms - self.anchor_ms) / self.rate().max(1e-6)).max(0.0);
        Some(self.anchor_ns + (left * 1e6).round() as Nanos)
    }

    /// Beat number (1-based) at position `ms`; 0 before the first beat (4.2 "0 when paused at
    /// start" is the position just before beat 1).
    pub fn beat_at(&self, ms: f64) -> u32 {
        let Some(t) = &self.track else { return 0 };
        let from_first = ms - t.first_beat_ms as f64;
        if from_first < -0.5 {
            return 0;
        }
        ((from_first + 0.5) / t.beat_ms()).floor() as u32 + 1
    }

    /// Time of beat `k` (1-based) on the current anchor line (meaningful while playing).
    pub fn beat_time(&self, k: u32) -> Nanos {
        let Some(t) = &self.track else {
            return self.anchor_ns;
        };
        let grid = t.first_beat_ms as f64 + (k.max(1) - 1) as f64 * t.beat_ms();
        self.anchor_ns + ((grid - self.anchor_ms) / self.rate() * 1e6).round() as Nanos
    }

    /// The first beat at or after `t`'s position.
    pub fn next_beat_from(&self, t: Nanos) -> u32 {
        let Some(tr) = &self.track else { return 1 };
        let from_first = self.position_ms(t) - tr.first_beat_ms as f64;
        if from_first <= 0.0 {
            1
        } else {
            (from_first / tr.beat_ms() - 1e-6).ceil() as u32 + 1
        }
    }

    pub fn play_state(&self) -> u8 {
        match (&self.track, self.loading, self.playing, self.paused) {
            (None, ..) => play_state::NO_TRACK,
            (_, true, ..) => play_state::LOADING,
            (_, _, true, _) => play_state::PLAYING,
            _ if self.ended => play_state::ENDED,
            (_, _, _, true) => play_state::PAUSED,
            _ => play_state::CUED,
        }
    }
}

/// Beat within a 4/4 bar of beat `k` (grids here start on a downbeat).
pub fn beat_in_bar(k: u32) -> u8 {
    if k == 0 {
        0
    } else {
        ((k - 1) % 4) as u8 + 1
    }
}

/// A fresh status template for player `number` of `persona` (CdjStatus::new fills the
/// documented defaults; these are the values that stay fixed for this unit).
pub fn status_template(persona: &Persona, number: u8, has_usb: bool) -> CdjStatus {
    let mut s = CdjStatus::new(persona.name, number, persona.status_len);
    s.firmware = persona.firmware;
    if has_usb {
        s.usb_state = 0;
        s.usb_activity = 4;
    }
    if persona.is_cdj3000_era() {
        // CDJ-3000: local media bitmask (bit1 USB) and Touch Audio support (bit5 of 0xcd).
        s.media_presence = if has_usb { 0x02 } else { 0 };
        s.capabilities = 0x20;
        s.master_tempo = Some(0);
    }
    s
}

/// Write the deck's state at `t` into `s` (4.2). The packet counter stays 0 on units that
/// fix it (CDJ-3000, 9.5).
pub fn fill_status(
    s: &mut CdjStatus,
    persona: &Persona,
    deck: &Deck,
    t: Nanos,
    packet_counter: u32,
) {
    let pos = deck.position_ms(t);
    match &deck.track {
        None => {
            s.track_device = 0;
            s.track_slot = 0;
            s.track_type = 0;
            s.rekordbox_id = 0;
            s.track_number = 0;
            s.track_menu = 0;
            s.bpm_validity = 0x7fff;
            s.set_tempo(None, deck.pitch_pct);
            s.beat = 0xffff_ffff;
            s.beat_in_bar = 0;
        }
        Some(tr) => {
            s.track_device = tr.source_player;
            s.track_slot = tr.slot;
            s.track_type = 1;
            s.rekordbox_id = tr.rekordbox_id;
            s.track_number = deck.track_number;
            // t_src `04`: loaded from the track menu (4.2).
            s.track_menu = 0x04;
            s.bpm_validity = 0x8000;
            s.set_tempo(Some(tr.bpm()), deck.pitch_pct);
            let k = deck.beat_at(pos);
            s.beat = k;
            s.beat_in_bar = beat_in_bar(k);
            if s.key.is_some() || persona.is_cdj3000_era() {
                s.key = tr.key;
            }
        }
    }
    s.play_state = deck.play_state();
    s.activity = u8::from(deck.loading || deck.playing);
    let mut flags = status_flag::ALWAYS;
    for (on, bit) in [
        (deck.playing, status_flag::PLAYING),
        (deck.master, status_flag::MASTER),
        (deck.sync, status_flag::SYNC),
        (deck.on_air, status_flag::ON_AIR),
    ] {
        if on {
            flags |= bit;
        }
    }
    s.flags = flags;
    // P2 `fa` playing / `fe` stopped on nxs2 (4.2); P3 `0d` forward, `01` paused.
    s.play_state_2 = if deck.playing { 0xfa } else { 0xfe };
    s.play_state_3 = match (&deck.track, deck.playing) {
        (None, _) => 0x00,
        (_, true) => 0x0d,
        _ => 0x01,
    };
    s.master_mode = u8::from(deck.master);
    s.master_handoff = deck.handoff_to;
    s.sync_counter = deck.sync_counter;
    s.load_marker = if deck.load_marker { 0x80 } else { 0 };
    s.load_done = if deck.load_done { 0xffff } else { 0 };
    s.packet_counter = if persona.counts_packets {
        packet_counter
    } else {
        0
    };
}

/// The beat packet of beat `k` (section 3, kind 28).
pub fn beat_packet(name: &str, number: u8, deck: &Deck, k: u32) -> Beat {
    let bpm = deck.track.as_ref().map_or(120.0, TrackInfo::bpm);
    Beat::new(name, number, bpm, deck.pitch_pct, beat_in_bar(k))
}

/// Absolute position (section 3, kind 0b).
pub fn position_packet(name: &str, number: u8, deck: &Deck, t: Nanos) -> PrecisePosition {
    let length = deck.track.as_ref().map_or(0, |t| t.duration_s);
    PrecisePosition::new(
        name,
        number,
        length,
        deck.position_ms(t).max(0.0).round() as u32,
        deck.pitch_pct,
        deck.effective_bpm(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::prodjlink::persona::Persona;
    use crate::device::prodjlink::track::USB_SLOT;

    fn track() -> TrackInfo {
        TrackInfo {
            rekordbox_id: 1,
            bpm_x100: 12000,
            duration_s: 300,
            first_beat_ms: 100,
            key: None,
            source_player: 1,
            slot: USB_SLOT,
            artwork: Vec::new().into(),
            phrases: Vec::new().into(),
        }
    }

    #[test]
    fn beats_follow_the_grid_at_the_playing_speed() {
        let mut d = Deck {
            track: Some(track()),
            ..Deck::default()
        };
        d.cue_to(0, 100.0);
        assert_eq!(d.beat_at(d.position_ms(0)), 1);
        d.playing = true;
        d.pitch_pct = 25.0; // 150 BPM effective: 400 ms per beat
        assert_eq!(d.beat_time(1), 0);
        assert_eq!(d.beat_time(2), 400_000_000);
        assert_eq!(d.beat_time(5), 1_600_000_000);
        assert_eq!(d.next_beat_from(1_000_000), 2);
        assert_eq!(d.next_beat_from(400_000_000), 2);
        assert_eq!(beat_in_bar(5), 1);
        assert_eq!(beat_in_bar(8), 4);
        assert_eq!(d.effective_bpm(), Some(150.0));
    }

    #[test]
    fn status_carries_the_deck() {
        let mut d = Deck {
            track: Some(track()),
            playing: true,
            master: true,
            on_air: true,
            ..Deck::default()
        };
        d.cue_to(0, 100.0);
        let nxs2 = Persona::by_role("cdj-2000nxs2").unwrap();
        let mut s = status_template(nxs2, 2, true);
        fill_status(&mut s, nxs2, &d, 1_000_000_000, 7);
        let back = CdjStatus::parse(&s.to_bytes()).unwrap();
        assert_eq!(back.to_bytes().len(), 0x11c);
        assert!(back.is_playing() && back.is_master() && back.is_on_air());
        assert_eq!(back.beat_number(), Some(3));
        assert_eq!(back.beat_in_bar, 3);
        assert_eq!(back.bpm(), Some(120.0));
        assert_eq!(back.play_state, play_state::PLAYING);
        assert_eq!(back.usb_state, 0);
        assert_eq!(back.packet_counter, 7);
    }
}
