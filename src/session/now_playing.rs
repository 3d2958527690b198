//! "Now playing": the track on the deck that is on air; when several are, the tempo master,
//! then the loudest fader (StageLinQ), then the one that started playing last. When a network
//! has no mixer telling what is on air, a playing deck counts as on air.

use serde::Serialize;

use super::players::Players;
use super::stagelinq::StageLinq;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NowPlayingEntry {
    pub protocol: &'static str,
    pub deck: u32,
    pub device: String,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub bpm: Option<f64>,
    /// Default rendering: `Artist - Title`.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NowPlayingChange {
    pub ts: String,
    pub entry: Option<NowPlayingEntry>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct NowPlaying {
    pub current: Option<NowPlayingEntry>,
    /// The first and the newest changes ([`super::limits::Changes`]).
    pub history: super::limits::Changes<NowPlayingChange>,
    /// Changes that fell out of `history` between the first and the newest.
    #[serde(skip)]
    pub omitted: u64,
}

struct Candidate {
    entry: NowPlayingEntry,
    master: bool,
    level: f64,
    since: i128,
}

fn text(title: &Option<String>, artist: &Option<String>, fallback: String) -> String {
    match (artist, title) {
        (Some(a), Some(t)) => format!("{a} - {t}"),
        (None, Some(t)) => t.clone(),
        _ => fallback,
    }
}

impl NowPlaying {
    /// Re-evaluate; true when the answer changed.
    pub fn update(&mut self, ts_ns: i128, players: &Players, slq: &StageLinq) -> bool {
        let mut cands: Vec<Candidate> = Vec::new();
        let any_on_air_info = players.players.values().any(|p| p.state.on_air.is_some());
        for p in players.players.values() {
            let st = &p.state;
            let on_air = st.on_air.unwrap_or(!any_on_air_info);
            if !(st.playing && on_air) {
                continue;
            }
            let Some(track) = &st.track else { continue };
            let fallback = format!(
                "rekordbox track {} (player {} {})",
                track.rekordbox_id, track.player, track.slot
            );
            cands.push(Candidate {
                entry: NowPlayingEntry {
                    protocol: "prodjlink",
                    deck: p.deck,
                    device: format!("{} #{}", p.name.as_deref().unwrap_or("player"), p.device),
                    title: st.title.clone(),
                    artist: st.artist.clone(),
                    bpm: st.effective_bpm,
                    text: text(&st.title, &st.artist, fallback),
                },
                master: st.master,
                level: 1.0,
                since: st.playing_since.unwrap_or(0),
            });
        }
        let by_mixer = slq.on_air_by_mixer();
        for (ip, dev) in &slq.devices {
            for (deck, st) in &dev.decks {
                let mixer_level = by_mixer
                    .iter()
                    .find(|((i, d), _)| i == ip && d == deck)
                    .map(|(_, l)| *l);
                let level = mixer_level.or(st.fader).unwrap_or(0.0);
                let on_air = st.on_air || level > 0.0;
                if !(st.playing == Some(true) && on_air) || st.title.is_none() {
                    continue;
                }
                cands.push(Candidate {
                    entry: NowPlayingEntry {
                        protocol: "stagelinq",
                        deck: *deck,
                        device: ip.to_string(),
                        title: st.title.clone(),
                        artist: st.artist.clone(),
                        bpm: st.bpm.or(st.beatinfo_bpm),
                        text: text(&st.title, &st.artist, String::new()),
                    },
                    master: st.master == Some(true),
                    level,
                    since: st.playing_since.unwrap_or(0),
                });
            }
        }
        let best = cands
            .into_iter()
            .max_by(|a, b| {
                (a.master, a.level, a.since)
                    .partial_cmp(&(b.master, b.level, b.since))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|c| c.entry);
        let changed = best.as_ref().map(|e| (&e.text, e.deck, &e.device))
            != self.current.as_ref().map(|e| (&e.text, e.deck, &e.device));
        if changed {
            let change = NowPlayingChange {
                ts: super::ts(ts_ns),
                entry: best.clone(),
            };
            self.omitted += u64::from(self.history.push(change));
        }
        // Keep the tempo fresh without calling it a change.
        self.current = best;
        changed
    }

    /// The placeholders [`NowPlaying::render`] fills.
    pub const PLACEHOLDERS: [&'static str; 7] = [
        "artist", "title", "deck", "device", "bpm", "protocol", "text",
    ];

    /// A `{word}` that is not a placeholder would be written as it is, every time: an error
    /// naming it and the known ones.
    pub fn check_template(template: &str) -> Result<(), String> {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let word = &after[..close];
            if !Self::PLACEHOLDERS.contains(&word) {
                let known: Vec<String> = Self::PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect();
                return Err(format!(
                    "unknown placeholder {{{word}}} (known: {})",
                    known.join(" ")
                ));
            }
            rest = &after[close + 1..];
        }
        Ok(())
    }

    /// Render with a template: `{artist}`, `{title}`, `{deck}`, `{device}`, `{bpm}`,
    /// `{protocol}`; empty when nothing plays.
    pub fn render(&self, template: &str) -> String {
        let Some(e) = &self.current else {
            return String::new();
        };
        template
            .replace("{artist}", e.artist.as_deref().unwrap_or(""))
            .replace("{title}", e.title.as_deref().unwrap_or(&e.text))
            .replace("{deck}", &e.deck.to_string())
            .replace("{device}", &e.device)
            .replace(
                "{bpm}",
                &e.bpm.map(|b| format!("{b:.2}")).unwrap_or_default(),
            )
            .replace("{protocol}", e.protocol)
            .replace("{text}", &e.text)
    }
}
