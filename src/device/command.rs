//! What a DJ does to a unit, as a value: the controls a scenario (or a test, or a user at a
//! prompt) drives emulated devices with through [`super::Device::command`].
//!
//! Commands are what happens at the front panel. What the unit then sends (an immediate status,
//! a handoff request, a channels-on-air packet) is the model's business, exactly as on real gear,
//! so the same command list drives the simulated and the socket transport.

/// One front-panel action.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Load the track with rekordbox id `track_id` from `slot` of player `source` (0: the
    /// player's own media). The player shows `loading`, then `cued` at the first beat.
    Load { source: u8, slot: u8, track_id: u32 },
    /// PLAY: start from where the deck stands.
    Play,
    /// PLAY again while playing: stop where the deck stands.
    Pause,
    /// CUE while stopped or playing: back to the cue point (the first beat), stopped.
    Cue,
    /// The tempo slider, in percent (-100..100; real ranges are ±6, ±10, ±16, wide).
    Pitch(f64),
    /// SYNC on or off: on takes the tempo master's effective tempo.
    Sync(bool),
    /// MASTER: become tempo master. Taken at once when nobody is master, otherwise asked for
    /// with the handoff exchange (`prodjlink.md` 9.4).
    BecomeMaster,
    /// A channel fader crosses the on-air threshold (mixer; channels count from 1).
    Fader { channel: u8, on_air: bool },
    /// Fader start: `start` true plays the channel's deck from its cue, false stops it and
    /// returns to the cue (mixer, `prodjlink.md` 3 kind 02).
    FaderStart { channel: u8, start: bool },
    /// A command for one deck (1-4) of an all-in-one unit (OPUS-QUAD).
    OnDeck { deck: u8, command: Box<Command> },
}

impl Command {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Load { .. } => "load",
            Command::Play => "play",
            Command::Pause => "pause",
            Command::Cue => "cue",
            Command::Pitch(_) => "pitch",
            Command::Sync(_) => "sync",
            Command::BecomeMaster => "become-master",
            Command::Fader { .. } => "fader",
            Command::FaderStart { .. } => "fader-start",
            Command::OnDeck { command, .. } => command.name(),
        }
    }
}
