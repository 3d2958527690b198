//! What the discovery "software name" says about the sender (`stagelinq.md` 2.1).

/// What kind of unit announces a software code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Stand-alone media player (SC5000, SC6000...).
    Player,
    /// All-in-one controller with its own decks and mixer (Prime 4, Prime Go...).
    Controller,
    /// Mixer: connects out to players, refuses inbound connections (`stagelinq.md` 2.2).
    Mixer,
    /// Hardware with no decks (LC6000).
    Other,
    /// A program: the players' own OfflineAnalyzer, SoundSwitch, Resolume, now-playing tools.
    Software,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Player => "player",
            Role::Controller => "controller",
            Role::Mixer => "mixer",
            Role::Other => "other",
            Role::Software => "software",
        }
    }
}

/// One row of the model table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// The code as announced (`JP13`).
    pub code: &'static str,
    /// Unit name (`SC6000`).
    pub unit: &'static str,
    pub role: Role,
    /// Decks the unit reports over StateMap/BeatInfo.
    pub decks: u8,
}

const fn m(code: &'static str, unit: &'static str, role: Role, decks: u8) -> Model {
    Model {
        code,
        unit,
        role,
        decks,
    }
}

/// Hardware codes, `stagelinq.md` 2.1 (primary source honusz `types/models/Unit.ts`).
/// JM08 is named with both mixers: the fixture's X1850 announces JM08, so the code alone does
/// not tell the two apart (`stagelinq.md` 2.1 notes).
pub const MODELS: &[Model] = &[
    m("JC11", "PRIME 4", Role::Controller, 4),
    m("JC16", "PRIME 2", Role::Controller, 2),
    m("JC20", "LC6000", Role::Other, 0),
    m("JP07", "SC5000", Role::Player, 2),
    m("JP08", "SC5000M", Role::Player, 2),
    m("JP11", "PRIME GO", Role::Controller, 2),
    m("JP11S", "PRIME GO+", Role::Controller, 2),
    m("JP13", "SC6000", Role::Player, 2),
    m("JP14", "SC6000M", Role::Player, 2),
    m("JP20", "SC LIVE 2", Role::Controller, 2),
    m("JP21", "SC LIVE 4", Role::Controller, 4),
    m("NH08", "MIXSTREAM PRO", Role::Controller, 2),
    m("NH09", "MIXSTREAM PRO+", Role::Controller, 2),
    m("NH10", "MIXSTREAM PRO GO", Role::Controller, 2),
    m("JM08", "DN-X1800Prime/X1850Prime", Role::Mixer, 0),
    m("JM10", "DN-X1850Prime", Role::Mixer, 0),
];

/// Software announcers seen in the wild (`stagelinq.md` 2.1 notes), matched by prefix.
const SOFTWARE: &[Model] = &[
    m(
        "OfflineAnalyzer",
        "player's OfflineAnalyzer",
        Role::Software,
        0,
    ),
    m("SSS0", "SoundSwitch (embedded)", Role::Software, 0),
    m("SoundSwitch", "SoundSwitch", Role::Software, 0),
    m("Resolume", "Resolume", Role::Software, 0),
    m("Now Playing", "Now Playing", Role::Software, 0),
    m("nowplaying", "Now Playing", Role::Software, 0),
];

/// The unit behind a discovery software name, if known.
pub fn model_for(software: &str) -> Option<&'static Model> {
    MODELS
        .iter()
        .find(|m| m.code == software)
        .or_else(|| SOFTWARE.iter().find(|m| software.starts_with(m.code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_the_fixture_and_reference() {
        assert_eq!(model_for("JP13").map(|m| m.unit), Some("SC6000"));
        assert_eq!(model_for("JP11").map(|m| m.unit), Some("PRIME GO"));
        assert_eq!(
            model_for("JC11").map(|m| (m.unit, m.decks)),
            Some(("PRIME 4", 4))
        );
        assert_eq!(model_for("JM08").map(|m| m.role), Some(Role::Mixer));
        assert_eq!(model_for("JP11S").map(|m| m.unit), Some("PRIME GO+"));
        assert_eq!(
            model_for("OfflineAnalyzer").map(|m| m.role),
            Some(Role::Software)
        );
        assert_eq!(
            model_for("Resolume Arena").map(|m| m.unit),
            Some("Resolume")
        );
        assert_eq!(model_for("JP99"), None);
    }
}
