//! Each Pro DJ Link player's state over time, derived from CDJ status, beat and precise-position
//! packets (prodjlink.md 3, 4.2): a timeline of events plus the latest state.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::dissect::Value;
use crate::prodjlink::{Beat, CdjStatus, ChannelsOnAir, Packet, PrecisePosition};
use crate::record::Record;

use super::devices::DeviceKey;
use super::tracks::{TrackInfo, TrackKey};

/// A tempo change is an event when the effective tempo moves at least this much from the last
/// reported value (smaller moves are a DJ riding the pitch fader, or sync slewing).
pub const TEMPO_EVENT_BPM: f64 = 0.5;

#[derive(Debug, Clone, Serialize)]
pub struct PlayerEvent {
    pub frame: u64,
    pub ts: String,
    #[serde(skip)]
    pub ts_ns: i128,
    pub event: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PlayerState {
    pub track: Option<TrackKey>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub play_state: Option<String>,
    pub playing: bool,
    pub master: bool,
    pub sync: bool,
    pub on_air: Option<bool>,
    pub bpm: Option<f64>,
    pub effective_bpm: Option<f64>,
    pub pitch: Option<f64>,
    pub beat: Option<u64>,
    pub beat_in_bar: Option<u64>,
    pub position_ms: Option<u64>,
    /// When the current play started (for "most recently started" now-playing choice).
    #[serde(skip)]
    pub playing_since: Option<i128>,
    /// The P1 code `play_state` names, to notice a change without comparing text.
    #[serde(skip)]
    play_state_code: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Player {
    pub ip: IpAddr,
    pub device: u32,
    /// Deck number as the DJ sees it (OPUS-QUAD decks 9-12 are decks 1-4).
    pub deck: u32,
    pub name: Option<String>,
    pub state: PlayerState,
    /// The first and the newest events ([`super::limits::PlayerEvents`]).
    pub events: super::limits::PlayerEvents<PlayerEvent>,
    /// Events that fell out between the first and the newest.
    pub omitted_events: u64,
    /// The tempo the last tempo event (or the first reading) reported, and the track it was
    /// read on; a tempo change is measured from it.
    #[serde(skip)]
    reported: Option<TempoBase>,
}

/// The reading a tempo change is measured from.
#[derive(Debug, Clone, Copy)]
struct TempoBase {
    effective: f64,
    /// The track's own BPM at that reading, when the packet carried it.
    bpm: Option<f64>,
    pitch: Option<f64>,
}

/// A one-byte code named as the dissector names it: the reference's name, or `0x..` for a code
/// it does not list; compared and shown without allocating.
struct CodeName {
    name: Option<&'static str>,
    hex: [u8; 4],
}

impl CodeName {
    fn new(code: u8, name: Option<&'static str>) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let hex = [
            b'0',
            b'x',
            HEX[(code >> 4) as usize],
            HEX[(code & 15) as usize],
        ];
        CodeName { name, hex }
    }

    fn as_str(&self) -> &str {
        match self.name {
            Some(n) => n,
            None => std::str::from_utf8(&self.hex).unwrap_or("0x??"),
        }
    }
}

/// A value rounded as the dissection shows it ([`Value::round`]), so that the story tells the
/// numbers a reader sees in the packet list.
fn shown(v: f64, digits: i32) -> f64 {
    Value::round(v, digits).as_f64().unwrap_or(v)
}

/// The tempo a status, beat or precise-position packet reports, as the dissection shows it;
/// a pitch no player sends (prodjlink `plausible.rs`) is left out, with the tempo it makes.
#[derive(Debug, Clone, Copy)]
struct Tempo {
    bpm: Option<f64>,
    pitch: Option<f64>,
    effective: Option<f64>,
}

impl Tempo {
    fn of_status(s: &CdjStatus) -> Self {
        Tempo {
            bpm: s.bpm().map(|b| shown(b, 2)),
            pitch: s.pitch_is_plausible().then(|| shown(s.pitch_percent(), 2)),
            effective: s.effective_bpm().map(|e| shown(e, 2)),
        }
    }

    fn of_beat(b: &Beat) -> Self {
        Tempo {
            bpm: Some(shown(b.bpm(), 2)),
            pitch: crate::prodjlink::plausible_pitch(b.pitch_percent())
                .then(|| shown(b.pitch_percent(), 2)),
            effective: b.effective_bpm().map(|e| shown(e, 2)),
        }
    }

    fn of_position(p: &PrecisePosition) -> Self {
        Tempo {
            bpm: None,
            pitch: crate::prodjlink::plausible_pitch(p.pitch_percent())
                .then(|| shown(p.pitch_percent(), 2)),
            effective: p.effective_bpm().map(|e| shown(e, 1)),
        }
    }
}

/// The deck a device number stands for (prodjlink.md 1.5: OPUS-QUAD decks are 9-12; other
/// models keep their number, see `prodjlink::opus_deck`).
pub fn deck_of(device: u32, name: Option<&str>) -> u32 {
    u8::try_from(device)
        .ok()
        .and_then(|d| crate::prodjlink::opus_deck(name, d))
        .map_or(device, u32::from)
}

fn play_event(state: &str) -> &'static str {
    match state {
        "playing" => "play",
        "paused" => "pause",
        "cued" | "cue_playing" | "cue_scratching" => "cue",
        "looping" | "emergency_loop" => "loop",
        "searching" => "search",
        "ended" => "end_of_track",
        "loading" => "loading",
        "no_track" => "no_track",
        _ => "play_state",
    }
}

impl Player {
    fn new(ip: IpAddr, device: u32, name: Option<String>) -> Self {
        Player {
            ip,
            device,
            deck: deck_of(device, name.as_deref()),
            name,
            state: PlayerState::default(),
            events: Default::default(),
            omitted_events: 0,
            reported: None,
        }
    }

    fn push(&mut self, r: &Record<'_>, event: &'static str, text: String) {
        let fell_out = self.events.push(PlayerEvent {
            frame: r.frame,
            ts: super::ts(r.ts_ns),
            ts_ns: r.ts_ns,
            event,
            text,
        });
        self.omitted_events += u64::from(fell_out);
    }

    fn label(&self) -> String {
        format!("player {}", self.deck)
    }

    fn status(
        &mut self,
        r: &Record<'_>,
        s: &CdjStatus,
        tracks: &BTreeMap<TrackKey, TrackInfo>,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        // Track: (source player, slot, rekordbox id); compared without building a key.
        let id = s.rekordbox_id;
        let player = s.track_device as u32;
        let slot = CodeName::new(s.track_slot, s.slot_name());
        let slot = slot.as_str();
        // The CDJ-3000X (fw 1.31) zeroes the track reference when a track ends (P1 `11`)
        // while keeping its beat and BPM (key2/libdjlink ARCHITECTURE.md 1.4.1): the track is
        // still loaded, not unloaded.
        let ended_blank = id == 0 && s.play_state == 0x11 && self.state.track.is_some();
        let same = ended_blank
            || match &self.state.track {
                Some(k) => id != 0 && k.rekordbox_id == id && k.player == player && k.slot == slot,
                None => id == 0,
            };
        if !same {
            let label = self.label();
            let track = (id != 0).then(|| TrackKey {
                player,
                slot: slot.to_string(),
                rekordbox_id: id,
            });
            match &track {
                Some(k) => {
                    let info = tracks.get(k);
                    self.state.title = info.and_then(|i| i.title.clone());
                    self.state.artist = info.and_then(|i| i.artist.clone());
                    let kind = CodeName::new(s.track_type, s.track_type_name());
                    let what = match info {
                        Some(i) => format!(" = {}", i.describe()),
                        None => String::new(),
                    };
                    out.push((
                        "track_loaded",
                        format!(
                            "{label} loaded {} track {} from player {} {}{what}",
                            kind.as_str(),
                            k.rekordbox_id,
                            k.player,
                            k.slot
                        ),
                    ));
                }
                None => out.push(("track_unloaded", format!("{label} unloaded its track"))),
            }
            self.state.track = track;
            // A new track's BPM is no tempo change: measure from its first reading.
            self.reported = None;
        } else if self.state.title.is_none() {
            // Metadata may arrive after the load (the dbserver lookup follows it).
            if let Some(info) = self.state.track.as_ref().and_then(|k| tracks.get(k)) {
                self.state.title = info.title.clone();
                self.state.artist = info.artist.clone();
                if info.title.is_some() {
                    out.push((
                        "track_identified",
                        format!("{}'s track is {}", self.label(), info.describe()),
                    ));
                }
            }
        }
        if self.state.play_state_code != Some(s.play_state) {
            let ps = CodeName::new(s.play_state, s.play_state_name());
            let ps = ps.as_str();
            // Two codes can read the same only if a listed name looked like `0x..`.
            if self.state.play_state.as_deref() != Some(ps) {
                let ev = play_event(ps);
                out.push((ev, format!("{} {}", self.label(), ps.replace('_', " "))));
                self.state.play_state = Some(ps.to_string());
            }
            self.state.play_state_code = Some(s.play_state);
        }
        let playing = s.is_playing();
        if playing && !self.state.playing {
            self.state.playing_since = Some(r.ts_ns);
        }
        if !playing {
            self.state.playing_since = None;
        }
        self.state.playing = playing;
        let sync = s.is_synced();
        if sync != self.state.sync {
            out.push((
                "sync",
                format!("{} sync {}", self.label(), if sync { "on" } else { "off" }),
            ));
            self.state.sync = sync;
        }
        let m = s.is_master();
        if m != self.state.master {
            out.push((
                "master",
                format!(
                    "{} {} tempo master",
                    self.label(),
                    if m { "became" } else { "is no longer" }
                ),
            ));
            self.state.master = m;
        }
        let on = s.is_on_air();
        if Some(on) != self.state.on_air {
            if self.state.on_air.is_some() || on {
                out.push((
                    "on_air",
                    format!("{} {}", self.label(), if on { "on air" } else { "off air" }),
                ));
            }
            self.state.on_air = Some(on);
        }
        self.tempo(Tempo::of_status(s), true, &mut out);
        self.state.beat = s.beat_number().map(u64::from);
        self.state.beat_in_bar = Some(s.beat_in_bar as u64);
        out
    }

    /// `from_status`: a CDJ status, whose tempo means nothing while no track is loaded.
    ///
    /// A tempo event is the DJ (or sync) moving the tempo of the same track: the effective BPM
    /// moves by [`TEMPO_EVENT_BPM`] while the track's own BPM stays. When the track's BPM
    /// changes (a new track, whose status may keep the old BPM for a few packets after the
    /// load, or a grid with several tempos), or, for packets that carry no track BPM (precise
    /// position), when the effective BPM moves with the pitch unchanged, the reading becomes
    /// the new reference without an event (issue 11: a load told as "tempo 119.00 -> 127.00").
    fn tempo(&mut self, t: Tempo, from_status: bool, out: &mut Vec<(&'static str, String)>) {
        self.state.bpm = t.bpm.or(self.state.bpm);
        self.state.pitch = t.pitch.or(self.state.pitch);
        let Some(eff) = t.effective else {
            return;
        };
        self.state.effective_bpm = Some(eff);
        // No track: no tempo to speak of.
        if self.state.track.is_none() && from_status {
            return;
        }
        let Some(base) = self.reported else {
            self.reported = Some(TempoBase {
                effective: eff,
                bpm: t.bpm,
                pitch: t.pitch,
            });
            return;
        };
        // A reading without the track's BPM (precise position) keeps the one last known, so
        // that a status after it still tells a new BPM from a tempo move.
        let reading = TempoBase {
            effective: eff,
            bpm: t.bpm.or(base.bpm),
            pitch: t.pitch,
        };
        let differ = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some((a - b).abs() >= 0.005),
            _ => None,
        };
        let track_bpm_moved = differ(t.bpm, base.bpm) == Some(true)
            || (t.bpm.is_none() && differ(t.pitch, base.pitch) == Some(false));
        if track_bpm_moved {
            self.reported = Some(reading);
            return;
        }
        if (eff - base.effective).abs() >= TEMPO_EVENT_BPM {
            out.push((
                "tempo",
                format!(
                    "{} tempo {:.2} -> {eff:.2} BPM (pitch {:+.2}%)",
                    self.label(),
                    base.effective,
                    self.state.pitch.unwrap_or(0.0)
                ),
            ));
            self.reported = Some(reading);
        } else if base.bpm.is_none() && t.bpm.is_some() {
            // Learn the track's BPM for the reference without moving it.
            self.reported = Some(TempoBase { bpm: t.bpm, ..base });
        }
    }

    fn beat(&mut self, b: &Beat) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        self.tempo(Tempo::of_beat(b), false, &mut out);
        self.state.beat_in_bar = Some(b.beat_in_bar as u64);
        out
    }

    fn position(&mut self, p: &PrecisePosition) -> Vec<(&'static str, String)> {
        // A playhead, length or pitch no player sends is not taken as the player's state.
        if !p.is_plausible() {
            return Vec::new();
        }
        self.state.position_ms = Some(p.position_ms as u64);
        let mut out = Vec::new();
        self.tempo(Tempo::of_position(p), false, &mut out);
        out
    }
}

#[derive(Debug, Default)]
pub struct Players {
    pub players: BTreeMap<DeviceKey, Player>,
    /// Records of players beyond [`super::limits::MAX_PLAYERS`], not followed.
    pub omitted: u64,
}

impl Players {
    /// Feed a Pro DJ Link packet (CDJ status, beat or precise position; others are ignored);
    /// returns the (deck, event, text) it caused.
    pub fn observe(
        &mut self,
        r: &Record<'_>,
        packet: &Packet,
        tracks: &BTreeMap<TrackKey, TrackInfo>,
    ) -> Vec<(u32, &'static str, String)> {
        if !matches!(
            packet,
            Packet::CdjStatus(_) | Packet::Beat(_) | Packet::PrecisePosition(_)
        ) {
            return Vec::new();
        }
        let Some(device) = r.dissection.device.filter(|&d| d != 0) else {
            return Vec::new();
        };
        // Mixers send beats too (backup metronome); they are not decks.
        if device == 33
            || r.dissection
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("DJM"))
        {
            return Vec::new();
        }
        let key = DeviceKey {
            ip: r.src.ip(),
            device,
        };
        if self.players.len() >= super::limits::MAX_PLAYERS && !self.players.contains_key(&key) {
            self.omitted += 1;
            return Vec::new();
        }
        let p = self
            .players
            .entry(key)
            .or_insert_with(|| Player::new(key.ip, device, r.dissection.name.clone()));
        let evs = match packet {
            Packet::CdjStatus(s) => p.status(r, s, tracks),
            Packet::Beat(b) => p.beat(b),
            Packet::PrecisePosition(pos) => p.position(pos),
            _ => Vec::new(),
        };
        if evs.is_empty() {
            return Vec::new();
        }
        let deck = p.deck;
        for (ev, text) in &evs {
            p.push(r, ev, text.clone());
        }
        evs.into_iter().map(|(e, t)| (deck, e, t)).collect()
    }

    /// Apply a mixer's channels-on-air packet: channel N is player N (prodjlink.md 3, kind 03).
    pub fn channels_on_air(
        &mut self,
        r: &Record<'_>,
        c: &ChannelsOnAir,
    ) -> Vec<(u32, &'static str, String)> {
        let mut out = Vec::new();
        for p in self.players.values_mut() {
            let Some(on) = c.channel_on_air(p.deck as usize) else {
                continue;
            };
            if Some(on) != p.state.on_air {
                let text = format!(
                    "player {} {} (mixer)",
                    p.deck,
                    if on { "on air" } else { "off air" }
                );
                if p.state.on_air.is_some() || on {
                    p.push(r, "on_air", text.clone());
                    out.push((p.deck, "on_air", text));
                }
                p.state.on_air = Some(on);
            }
        }
        out
    }

    /// Name the loaded tracks that a dbserver answer just identified; returns the events.
    pub fn refresh_titles(
        &mut self,
        r: &Record<'_>,
        tracks: &BTreeMap<TrackKey, TrackInfo>,
    ) -> Vec<(u32, &'static str, String)> {
        let mut out = Vec::new();
        for p in self.players.values_mut() {
            let Some(info) = p.state.track.as_ref().and_then(|k| tracks.get(k)) else {
                continue;
            };
            if info.title.is_some() && info.title != p.state.title {
                p.state.title = info.title.clone();
                p.state.artist = info.artist.clone();
                let text = format!("{}'s track is {}", p.label(), info.describe());
                p.push(r, "track_identified", text.clone());
                out.push((p.deck, "track_identified", text));
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "players_tests.rs"]
mod tests;
