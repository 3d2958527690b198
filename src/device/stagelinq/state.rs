//! What a unit reports on StateMap: its decks, its mixer section (all-in-ones), its client
//! preferences and library, and the catalogue that maps each path of `stagelinq.md` 1.11 to
//! its value, with the JSON type real units use (1.5 table). A path outside the catalogue has
//! no value: the unit ignores a subscription to it, as real units do (1.5 "Unknown paths are
//! silently ignored", DearingDev e04f9a8).

use crate::stagelinq::statemap_json::StateValue;
use crate::stagelinq::Token;

use super::deck::{Deck, IDLE_BPM, SAMPLE_RATE};
use super::persona::{Kind, Persona};

/// The jog colours of the capture's SC6000 (3.5 f104, f113).
const JOG_COLOUR_A: &str = "#ffea2828";
const JOG_COLOUR_B: &str = "#ff1cd2e5";
/// The name of the demo library's medium as a unit lists its sources (1.9: names look like
/// `DJ2 (USB 1)`).
pub const SOURCE_NAME: &str = "DEMO (USB 1)";

/// Everything a unit reports.
#[derive(Debug, Clone)]
pub struct UnitState {
    pub persona: &'static Persona,
    pub token: Token,
    /// `/Client/Preferences/Player` (1.11: the player number; the mixer sets it with 0x7d1).
    pub player_number: String,
    pub decks: Vec<Deck>,
    /// The unit's own channel faders (all-in-ones), 0-1.
    pub faders: Vec<f64>,
    pub crossfader: f64,
    /// 0 = layer A (Deck1), 1 = layer B (Deck2): what a player's front-panel commands drive.
    pub active_deck: usize,
}

fn flag(b: bool) -> Option<StateValue> {
    Some(StateValue::State(b))
}

fn text(s: impl Into<String>) -> Option<StateValue> {
    Some(StateValue::Text(s.into()))
}

impl UnitState {
    pub fn new(persona: &'static Persona, token: Token, player_number: u8) -> Self {
        UnitState {
            persona,
            token,
            player_number: player_number.to_string(),
            decks: vec![Deck::default(); persona.decks as usize],
            faders: vec![0.0; persona.channels as usize],
            crossfader: 0.5,
            active_deck: 0,
        }
    }

    fn master_bpm(&self) -> f64 {
        self.decks
            .iter()
            .find(|d| d.master)
            .map_or(IDLE_BPM, Deck::effective_bpm)
    }

    /// `net://<uuid>/<source>/Engine Library/Music/<file>` (1.9, unbox #126 log): the same
    /// file FileTransfer serves.
    pub fn network_path(&self, music_path: &str) -> String {
        format!("net://{}/{SOURCE_NAME}/{music_path}", self.token)
    }

    /// The value of `path` now, or None for a path the unit does not publish.
    pub fn value(&self, path: &str) -> Option<StateValue> {
        if let Some((n, suffix)) = path
            .strip_prefix("/Engine/Deck")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(n, s)| Some((n.parse::<usize>().ok()?, s)))
        {
            let deck = self.decks.get(n.checked_sub(1)?)?;
            return self.deck_value(deck, suffix);
        }
        if let Some(rest) = path.strip_prefix("/Mixer/") {
            return self.mixer_value(rest);
        }
        let layer_b = self.active_deck == 1;
        match path {
            "/Engine/DeckCount" => Some(StateValue::Integer(self.decks.len() as i64)),
            "/Engine/Master/MasterTempo" => Some(StateValue::Number(self.master_bpm())),
            "/Engine/Sync/Network/MasterStatus" => flag(self.decks.iter().any(|d| d.master)),
            "/Client/Preferences/Player" => Some(StateValue::Enum(self.player_number.clone())),
            "/Client/Preferences/LayerA" => flag(!layer_b),
            "/Client/Preferences/LayerB" => flag(layer_b),
            "/Client/Preferences/PlayerJogColorA" => Some(StateValue::Colour(JOG_COLOUR_A.into())),
            "/Client/Preferences/PlayerJogColorB" => Some(StateValue::Colour(JOG_COLOUR_B.into())),
            "/Client/Preferences/Profile/Application/SyncMode" => {
                Some(StateValue::Enum("Beat".into()))
            }
            "/Client/Librarian/DevicesController/CurrentDevice" => {
                text(format!("/media/{SOURCE_NAME}"))
            }
            "/Client/Librarian/DevicesController/HasSDCardConnected" => flag(false),
            "/Client/Librarian/DevicesController/HasUsbDeviceConnected" => flag(true),
            "/GUI/Decks/Deck/ActiveDeck" => text((self.active_deck + 1).to_string()),
            "/GUI/ViewLayer/LayerB" => flag(layer_b),
            _ => None,
        }
    }

    fn deck_value(&self, d: &Deck, suffix: &str) -> Option<StateValue> {
        let t = d.track.as_deref();
        let s = |f: &dyn Fn(&super::deck::LoadedTrack) -> String| {
            StateValue::Text(t.map(f).unwrap_or_default())
        };
        let n = |v: f64| Some(StateValue::Number(v));
        Some(match suffix {
            "CurrentBPM" | "Track/CurrentBPM" => StateValue::Number(d.effective_bpm()),
            "DeckIsMaster" => StateValue::State(d.master),
            "ExternalMixerVolume" => return n(d.volume),
            "Play" | "PlayState" | "Track/PlayPauseLEDState" => StateValue::State(d.playing),
            "SpeedState" => StateValue::Number(d.pitch),
            "SpeedRange" => StateValue::Enum("8".into()),
            "SyncMode" => StateValue::Enum(if d.sync { "BeatOrBarSync" } else { "Off" }.into()),
            "Pads/View" => StateValue::Enum("CUES".into()),
            "Track/ArtistName" => s(&|t| t.artist.clone()),
            "Track/SongName" => s(&|t| t.title.clone()),
            // Unverified name (1.11: chrisle's prose docs, whats-now-playing's subscriber).
            "Track/AlbumName" => s(&|t| t.album.clone()),
            "Track/TrackName" => s(&|t| t.file_path.clone()),
            "Track/TrackNetworkPath" => s(&|t| self.network_path(&t.music_path)),
            "Track/TrackUri" => StateValue::Text(String::new()),
            "Track/CurrentKey" => s(&|t| t.key.clone()),
            "Track/CurrentKeyIndex" => StateValue::Integer(t.map_or(0, |t| t.key_index)),
            "Track/SongLoaded" => StateValue::State(t.is_some()),
            "Track/SongAnalyzed" => StateValue::State(t.is_some()),
            "Track/TrackData" => StateValue::TrackDataFlag(t.is_some()),
            "Track/TrackWasPlayed" => StateValue::State(d.was_played),
            "Track/LoopEnableState" | "Track/KeyLock" => StateValue::State(false),
            "Track/TrackLength" => StateValue::Integer(t.map_or(0, |t| t.duration_s as i64)),
            "Track/TrackBytes" => StateValue::Integer(t.map_or(0, |t| t.file_size as i64)),
            "Track/SampleRate" => StateValue::Samples(SAMPLE_RATE as i64),
            "Track/CuePosition" => StateValue::Samples(
                t.map_or(0, |t| t.first_beat_ms as i64 * SAMPLE_RATE as i64 / 1000),
            ),
            // Seconds (1.11, go-stagelinq's 2026 doc comments): the position at the last
            // change (load, play, pause, cue, pitch); BeatInfo carries it continuously.
            "Track/TrackData/PlayheadPosition" => StateValue::Number(d.anchored_position_s()),
            "Track/TrackData/TrackLength" => {
                StateValue::Number(t.map_or(0.0, |t| t.duration_s as f64))
            }
            _ => return None,
        })
    }

    fn mixer_value(&self, rest: &str) -> Option<StateValue> {
        if self.persona.kind != Kind::AllInOne {
            return None;
        }
        // Channel n plays deck n of the unit itself (3.5: `{uuid},deck`).
        let me = format!("{{{}}}", self.token);
        mixer_path_value(rest, &self.faders, self.crossfader, |ch| (me.clone(), ch))
    }
}

/// The value of `/Mixer/<rest>` on a mixer section with `faders` (0-1 each) and
/// `crossfader` (1.11 "Mixer paths"); `assigned(channel)` names the unit token (in braces,
/// empty when none) and deck a channel plays, for `ChannelAssignmentN` (`"{uuid},deck"`,
/// 3.5 f180-f182).
pub fn mixer_path_value(
    rest: &str,
    faders: &[f64],
    crossfader: f64,
    assigned: impl Fn(u8) -> (String, u8),
) -> Option<StateValue> {
    match rest {
        "NumberOfChannels" => return Some(StateValue::Integer(faders.len() as i64)),
        "CrossfaderPosition" => return Some(StateValue::Number(crossfader)),
        _ => {}
    }
    if let Some(n) = rest
        .strip_prefix("CH")
        .and_then(|r| r.strip_suffix("faderPosition"))
    {
        let ch: usize = n.parse().ok()?;
        return faders
            .get(ch.checked_sub(1)?)
            .map(|v| StateValue::Number(*v));
    }
    let ch: u8 = rest.strip_prefix("ChannelAssignment")?.parse().ok()?;
    if ch == 0 || ch as usize > faders.len() {
        return None;
    }
    let (who, deck) = assigned(ch);
    Some(StateValue::Text(format!("{who},{deck}")))
}

/// Every path the unit publishes, for tests and for the fan-out bench: the catalogue above
/// with its deck and channel numbers spelled out.
pub fn published_paths(state: &UnitState) -> Vec<String> {
    const DECK: [&str; 31] = [
        "CurrentBPM",
        "DeckIsMaster",
        "ExternalMixerVolume",
        "Play",
        "PlayState",
        "SpeedState",
        "SpeedRange",
        "SyncMode",
        "Pads/View",
        "Track/ArtistName",
        "Track/SongName",
        "Track/AlbumName",
        "Track/TrackName",
        "Track/TrackNetworkPath",
        "Track/TrackUri",
        "Track/CurrentKey",
        "Track/CurrentKeyIndex",
        "Track/CurrentBPM",
        "Track/SongLoaded",
        "Track/SongAnalyzed",
        "Track/TrackData",
        "Track/TrackWasPlayed",
        "Track/LoopEnableState",
        "Track/KeyLock",
        "Track/TrackLength",
        "Track/TrackBytes",
        "Track/SampleRate",
        "Track/CuePosition",
        "Track/PlayPauseLEDState",
        "Track/TrackData/PlayheadPosition",
        "Track/TrackData/TrackLength",
    ];
    const GLOBAL: [&str; 15] = [
        "/Engine/DeckCount",
        "/Engine/Master/MasterTempo",
        "/Engine/Sync/Network/MasterStatus",
        "/Client/Preferences/Player",
        "/Client/Preferences/LayerA",
        "/Client/Preferences/LayerB",
        "/Client/Preferences/PlayerJogColorA",
        "/Client/Preferences/PlayerJogColorB",
        "/Client/Preferences/Profile/Application/SyncMode",
        "/Client/Librarian/DevicesController/CurrentDevice",
        "/Client/Librarian/DevicesController/HasSDCardConnected",
        "/Client/Librarian/DevicesController/HasUsbDeviceConnected",
        "/GUI/Decks/Deck/ActiveDeck",
        "/GUI/ViewLayer/LayerB",
        "/Mixer/NumberOfChannels",
    ];
    let mut v: Vec<String> = Vec::new();
    for n in 1..=state.decks.len() {
        v.extend(DECK.iter().map(|s| format!("/Engine/Deck{n}/{s}")));
    }
    v.extend(GLOBAL.iter().map(|s| s.to_string()));
    for n in 1..=state.faders.len() {
        v.push(format!("/Mixer/CH{n}faderPosition"));
        v.push(format!("/Mixer/ChannelAssignment{n}"));
    }
    if !state.faders.is_empty() {
        v.push("/Mixer/CrossfaderPosition".into());
    }
    v.retain(|p| state.value(p).is_some());
    v
}
