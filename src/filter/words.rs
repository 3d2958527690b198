//! Filter words: names for families of messages, matched on protocol and type name.

use crate::dissect::Proto;
use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    ProDjLink,
    KeepAlive,
    Hello,
    Claim,
    Beat,
    Position,
    OnAir,
    Fader,
    Sync,
    Master,
    Status,
    Mixer,
    Media,
    Load,
    Settings,
    Opus,
    Touch,
    Stagehand,
    DbServer,
    Metadata,
    Artwork,
    Menu,
    StageLinq,
    Discovery,
    StateMap,
    BeatInfo,
    FileTransfer,
    Malformed,
    Unknown,
}

const NAMES: &[(&str, Word)] = &[
    ("prodjlink", Word::ProDjLink),
    ("keepalive", Word::KeepAlive),
    ("hello", Word::Hello),
    ("claim", Word::Claim),
    ("beat", Word::Beat),
    ("position", Word::Position),
    ("onair", Word::OnAir),
    ("fader", Word::Fader),
    ("sync", Word::Sync),
    ("master", Word::Master),
    ("status", Word::Status),
    ("mixer", Word::Mixer),
    ("media", Word::Media),
    ("load", Word::Load),
    ("settings", Word::Settings),
    ("opus", Word::Opus),
    ("touch", Word::Touch),
    ("stagehand", Word::Stagehand),
    ("dbserver", Word::DbServer),
    ("metadata", Word::Metadata),
    ("artwork", Word::Artwork),
    ("menu", Word::Menu),
    ("stagelinq", Word::StageLinq),
    ("discovery", Word::Discovery),
    ("statemap", Word::StateMap),
    ("beatinfo", Word::BeatInfo),
    ("filetransfer", Word::FileTransfer),
    ("malformed", Word::Malformed),
    ("unknown", Word::Unknown),
];

impl Word {
    pub fn parse(s: &str) -> Option<Word> {
        let s = s.to_ascii_lowercase().replace(['-', '_'], "");
        NAMES.iter().find(|(n, _)| *n == s).map(|(_, w)| *w)
    }

    pub fn all_names() -> Vec<&'static str> {
        NAMES.iter().map(|(n, _)| *n).collect()
    }

    pub fn matches(self, r: &Record<'_>) -> bool {
        let d = &r.dissection;
        let t: &str = &d.type_name;
        let pdl = d.proto == Proto::ProDjLink;
        match self {
            Word::ProDjLink => pdl,
            Word::KeepAlive => t == "keep_alive",
            Word::Hello => t == "hello",
            Word::Claim => matches!(
                t,
                "claim_mac"
                    | "claim_ip"
                    | "claim_final"
                    | "mixer_assign_intent"
                    | "mixer_assign"
                    | "assignment_finished"
                    | "channel_conflict"
            ),
            // Pro DJ Link beats and StageLinQ BeatInfo alike.
            Word::Beat => t == "beat" || t == "beat_info",
            Word::Position => t == "precise_position",
            Word::OnAir => t == "channels_on_air",
            Word::Fader => t == "fader_start",
            Word::Sync => t == "sync_control",
            Word::Master => t.starts_with("master_handoff"),
            Word::Status => t == "cdj_status" || t == "mixer_status",
            Word::Mixer => {
                t == "mixer_status"
                    || t == "channels_on_air"
                    || t == "fader_start"
                    || t.starts_with("mixer_")
            }
            Word::Media => t.starts_with("media_"),
            Word::Load => t.starts_with("load_"),
            Word::Settings => t == "load_settings" || t.starts_with("device_settings"),
            Word::Opus => t.starts_with("lighting_") || t.starts_with("binary_data"),
            Word::Touch => t.starts_with("touch_audio"),
            Word::Stagehand => t.starts_with("stagehand"),
            Word::DbServer => d.proto == Proto::DbServer,
            Word::Metadata => d.proto == Proto::DbServer && t.contains("metadata"),
            Word::Artwork => d.proto == Proto::DbServer && t.contains("artwork"),
            Word::Menu => d.proto == Proto::DbServer && t.contains("menu"),
            Word::StageLinq => d.proto == Proto::StageLinq,
            Word::Discovery => d.proto == Proto::StageLinq && t == "discovery",
            Word::StateMap => t.starts_with("statemap"),
            Word::BeatInfo => t.starts_with("beat_info"),
            Word::FileTransfer => t.starts_with("file_transfer"),
            Word::Malformed => d.malformed.is_some(),
            Word::Unknown => t == "unknown",
        }
    }
}
