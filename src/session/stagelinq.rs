//! StageLinQ devices: announced services, StateMap subscriptions, per-deck state from StateMap
//! values and BeatInfo, and which deck is on air (stagelinq.md 1.5, 1.6, 1.11).
//!
//! SC5000/SC6000 players all report "Deck1"/"Deck2", so deck state is keyed by (device
//! address, deck), never by path alone. A deck is on air when the mixer writes a non-zero
//! `ExternalMixerVolume` into it, or when a mixer channel assigned to it has its fader up.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::dissect::Value;
use crate::record::Record;
use crate::stagelinq::beatinfo::BeatInfoMessage;
use crate::stagelinq::directory::DirectoryMessage;
use crate::stagelinq::statemap::StateMapMessage;
use crate::stagelinq::{statemap_json, Message};

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeckState {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub bpm: Option<f64>,
    pub playing: Option<bool>,
    pub fader: Option<f64>,
    pub master: Option<bool>,
    /// Beat position and tempo from BeatInfo.
    pub beat: Option<f64>,
    pub beatinfo_bpm: Option<f64>,
    pub on_air: bool,
    #[serde(skip)]
    pub playing_since: Option<i128>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SlqDevice {
    pub ip: Option<IpAddr>,
    pub token: Option<String>,
    pub services: BTreeMap<String, u16>,
    /// Paths this device subscribed to on others, with the requested interval.
    pub subscriptions: BTreeMap<String, u64>,
    pub decks: BTreeMap<u32, DeckState>,
    /// Mixer side: channel -> (player token, deck) and fader level.
    pub channel_assignment: BTreeMap<u32, String>,
    pub channel_fader: BTreeMap<u32, f64>,
    /// File downloads this device served (FileTransfer), by transaction id: one line each.
    pub transfers: BTreeMap<u64, String>,
    /// Values of paths outside the deck model (last value), for the summary.
    #[serde(skip)]
    pub other: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct StageLinq {
    /// Set when a deck or mixer value changed (now playing may need re-deciding).
    pub dirty: bool,
    /// Devices and entries left out by the bounds of [`super::limits`].
    pub omitted: u64,
    /// Stands in for a device beyond [`super::limits::MAX_STAGELINQ_DEVICES`]; reset on every
    /// use.
    overflow: SlqDevice,
    pub devices: BTreeMap<IpAddr, SlqDevice>,
    /// Discovery token (hex) -> address, to resolve mixer channel assignments.
    pub tokens: BTreeMap<String, IpAddr>,
}

/// The messages the session reads (discovery, service announcements, StateMap subscriptions,
/// values and writes, BeatInfo emits), parsed from the record's bytes; the head's type names the
/// family. None for everything else (FileTransfer chunks are read from what their tracker
/// attached) and for messages that do not parse.
pub fn parse(r: &Record<'_>) -> Option<Message> {
    let t: &str = &r.dissection.type_name;
    let read = matches!(
        t,
        "discovery"
            | "service_announcement"
            | "statemap_subscribe"
            | "statemap_value"
            | "statemap_set"
            | "beat_info"
    );
    read.then(|| crate::stagelinq::parse(r.bytes, t)).flatten()
}

/// The payload of a StateMap JSON value, as the dissector decodes it: `{"type":0,"value":1.5}`
/// gives 1.5, `{"state":true}`, `{"string":"x"}` and `{"color":"#ff.."}` likewise; other JSON
/// as it is, text that is not JSON as text.
fn state_of(json: &str) -> Value {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(o)) => o
            .iter()
            .find(|(k, _)| matches!(k.as_str(), "value" | "state" | "string" | "color"))
            .map_or(Value::Null, |(_, v)| statemap_json::to_value(v)),
        Ok(other) => statemap_json::to_value(&other),
        Err(_) => Value::Str(json.to_string().into()),
    }
}

/// Highest deck number followed (Prime 4 has four; anything far beyond is not a deck).
const MAX_DECK: u32 = 16;

fn deck_path(path: &str) -> Option<(u32, &str)> {
    let rest = path.strip_prefix("/Engine/Deck")?;
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let deck = rest[..digits]
        .parse()
        .ok()
        .filter(|d| (1..=MAX_DECK).contains(d))?;
    Some((deck, rest[digits..].trim_start_matches('/')))
}

impl StageLinq {
    fn device(&mut self, ip: IpAddr) -> &mut SlqDevice {
        if self.devices.len() >= super::limits::MAX_STAGELINQ_DEVICES
            && !self.devices.contains_key(&ip)
        {
            self.omitted += 1;
            self.overflow = SlqDevice::default();
            return &mut self.overflow;
        }
        self.devices.entry(ip).or_insert_with(|| SlqDevice {
            ip: Some(ip),
            ..Default::default()
        })
    }

    /// Feed a StageLinQ record and its message ([`parse`]); returns timeline lines.
    pub fn observe(&mut self, r: &Record<'_>, message: Option<&Message>) -> Vec<String> {
        if r.dissection.type_name == "file_transfer" {
            return self.file_transfer(r);
        }
        let mut out = Vec::new();
        match message {
            Some(Message::Discovery(d)) => {
                // Keys are lowercase hex of the 16 token bytes.
                let tok = crate::util::hex(&d.token.0);
                let ip = r.src.ip();
                super::limits::insert(
                    &mut self.tokens,
                    tok.clone(),
                    ip,
                    super::limits::MAX_ENTRIES,
                    &mut self.omitted,
                );
                let dev = self.device(ip);
                if dev.token.is_none() {
                    dev.token = Some(tok);
                }
            }
            Some(Message::Directory(DirectoryMessage::ServiceAnnouncement(a))) => {
                let dev = self.device(r.src.ip());
                let new = !dev.services.contains_key(&a.service);
                let mut omitted = 0;
                super::limits::insert(
                    &mut dev.services,
                    a.service.clone(),
                    a.port,
                    super::limits::MAX_ENTRIES,
                    &mut omitted,
                );
                self.omitted += omitted;
                if new && omitted == 0 {
                    out.push(format!(
                        "{} offers StageLinQ service {} on port {}",
                        r.src.ip(),
                        a.service,
                        a.port
                    ));
                }
            }
            Some(Message::StateMap(StateMapMessage::Subscribe { path, interval })) => {
                let dev = self.device(r.src.ip());
                let mut omitted = 0;
                super::limits::insert(
                    &mut dev.subscriptions,
                    path.clone(),
                    *interval as u64,
                    super::limits::MAX_ENTRIES,
                    &mut omitted,
                );
                self.omitted += omitted;
            }
            Some(Message::StateMap(StateMapMessage::Value { path, json })) => {
                out.extend(self.state_value(r, false, path, &state_of(json)));
            }
            Some(Message::StateMap(StateMapMessage::Set { path, json })) => {
                out.extend(self.state_value(r, true, path, &state_of(json)));
            }
            Some(Message::BeatInfo(BeatInfoMessage::Beat(e))) => {
                let dev = self.device(r.src.ip());
                // Players have 1-4 decks; a longer list is not a deck table worth keeping.
                for (i, deck) in e.decks.iter().enumerate().take(MAX_DECK as usize) {
                    let st = dev.decks.entry(i as u32 + 1).or_default();
                    st.beat = Some(deck.beat);
                    st.beatinfo_bpm = Some(deck.bpm);
                }
            }
            _ => {}
        }
        out
    }

    /// A FileTransfer message: the download it belongs to, as its tracker attached it.
    fn file_transfer(&mut self, r: &Record<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let Some(Value::Obj(t)) = r.extra("transfer") else {
            return out;
        };
        let get = |n: &str| t.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        let (Some(txid), Some(summary)) = (
            get("txid").and_then(Value::as_u64),
            get("summary").and_then(Value::as_str),
        ) else {
            return out;
        };
        // The device serving the file is the server of the connection.
        let server = if r.src.port() == r.port {
            r.src.ip()
        } else {
            r.dst.ip()
        };
        let complete = get("complete").and_then(Value::as_bool) == Some(true);
        let dev = self.device(server);
        let was_complete = dev
            .transfers
            .get(&txid)
            .is_some_and(|s| s.ends_with("complete"));
        let mut omitted = 0;
        super::limits::insert(
            &mut dev.transfers,
            txid,
            summary.to_string(),
            super::limits::MAX_ENTRIES,
            &mut omitted,
        );
        self.omitted += omitted;
        if complete && !was_complete {
            out.push(format!("{server} served {summary}"));
        }
        out
    }

    /// `set`: a write (0x7d1 with JSON) rather than a value emit.
    fn state_value(&mut self, r: &Record<'_>, set: bool, path: &str, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        // A value emit reports the sender's own state; a set (0x7d1 with JSON) writes into the
        // receiver's state, as the mixer does with ExternalMixerVolume (stagelinq.md 1.5).
        let ip = if set { r.dst.ip() } else { r.src.ip() };
        if deck_path(path).is_some() || path.starts_with("/Mixer/") {
            self.dirty = true;
        }
        if let Some((deck, suffix)) = deck_path(path) {
            let dev = self.device(ip);
            let st = dev.decks.entry(deck).or_default();
            let label = format!("{ip} deck {deck}");
            match suffix {
                "Track/SongName" => {
                    let t = v.as_str().map(str::to_string).filter(|s| !s.is_empty());
                    if t != st.title {
                        if let Some(t) = &t {
                            out.push(format!("{label} loaded '{t}'"));
                        }
                        st.title = t;
                    }
                }
                "Track/ArtistName" => {
                    st.artist = v.as_str().map(str::to_string).filter(|s| !s.is_empty())
                }
                "CurrentBPM" | "Track/CurrentBPM" if suffix == "CurrentBPM" || st.bpm.is_none() => {
                    st.bpm = v.as_f64()
                }
                "Play" | "PlayState" => {
                    let p = v.as_bool();
                    if p.is_some() && p != st.playing {
                        out.push(format!(
                            "{label} {}",
                            if p == Some(true) {
                                "playing"
                            } else {
                                "stopped"
                            }
                        ));
                        st.playing_since = (p == Some(true)).then_some(r.ts_ns);
                        st.playing = p;
                    }
                }
                "DeckIsMaster" => st.master = v.as_bool(),
                "ExternalMixerVolume" => {
                    let level = v.as_f64().unwrap_or(0.0);
                    st.fader = Some(level);
                    let on = level > 0.0;
                    if on != st.on_air {
                        out.push(format!("{label} {}", if on { "on air" } else { "off air" }));
                        st.on_air = on;
                    }
                }
                _ => {}
            }
            return out;
        }
        if let Some(ch) = path
            .strip_prefix("/Mixer/CH")
            .and_then(|p| p.strip_suffix("faderPosition"))
        {
            if let (Ok(ch), Some(level)) = (ch.parse::<u32>(), v.as_f64()) {
                let dev = self.device(ip);
                let mut omitted = 0;
                super::limits::insert(
                    &mut dev.channel_fader,
                    ch,
                    level,
                    super::limits::MAX_ENTRIES,
                    &mut omitted,
                );
                self.omitted += omitted;
            }
            return out;
        }
        if let Some(ch) = path.strip_prefix("/Mixer/ChannelAssignment") {
            if let (Ok(ch), Some(a)) = (ch.parse::<u32>(), v.as_str()) {
                let dev = self.device(ip);
                let mut omitted = 0;
                super::limits::insert(
                    &mut dev.channel_assignment,
                    ch,
                    a.to_string(),
                    super::limits::MAX_ENTRIES,
                    &mut omitted,
                );
                self.omitted += omitted;
            }
            return out;
        }
        let dev = self.device(ip);
        let mut omitted = 0;
        super::limits::insert(
            &mut dev.other,
            path.to_string(),
            v.to_string(),
            super::limits::MAX_ENTRIES,
            &mut omitted,
        );
        self.omitted += omitted;
        out
    }

    /// Decks on air through a mixer channel assignment with the fader up: (player ip, deck).
    pub fn on_air_by_mixer(&self) -> Vec<((IpAddr, u32), f64)> {
        let mut v = Vec::new();
        for mixer in self.devices.values() {
            for (ch, a) in &mixer.channel_assignment {
                let level = mixer.channel_fader.get(ch).copied().unwrap_or(0.0);
                // "{uuid},deck"; ",1" means unassigned (stagelinq.md 1.11).
                let Some((tok, deck)) = a.rsplit_once(',') else {
                    continue;
                };
                let tok: String = tok
                    .chars()
                    .filter(|c| c.is_ascii_hexdigit())
                    .collect::<String>()
                    .to_lowercase();
                let Ok(deck) = deck.trim().parse::<u32>() else {
                    continue;
                };
                if tok.is_empty() {
                    continue;
                }
                if let Some(ip) = self
                    .tokens
                    .iter()
                    .find(|(t, _)| t.to_lowercase() == tok)
                    .map(|(_, ip)| *ip)
                {
                    v.push(((ip, deck), level));
                }
            }
        }
        v
    }
}
