//! StageLinQ unit models (Denon / Engine DJ): players, all-in-one units and the X1800/X1850
//! mixer, each a [`crate::device::Device`] without I/O (`architecture.md` "Three decisions").
//!
//! * [`persona`]: the table of models (discovery strings, analyzers, services, decks).
//! * [`discovery`]: HOWDY every second per identity, EXIT on shutdown (`stagelinq.md` 1.2).
//! * [`framing`]: directory and service byte streams cut into messages, bounded.
//! * [`deck`], [`state`]: what a unit plays and the StateMap catalogue of 1.11.
//! * [`unit`]: players and all-in-ones: the directory server (1.3), StateMap (1.5), BeatInfo
//!   (1.6), TimeSynchronization (1.7), Broadcast (1.8), Syncing (accepted, never understood).
//! * [`services`]: what each service connection of a unit answers.
//! * [`mixer`]: the mixer, which refuses its own port and connects to the players (1.3.4).
//! * [`file_transfer`]: the FileTransfer service (1.9) and what it serves: the Engine library
//!   database built from the demo library and the demo tracks' files.
//!
//! Every byte sent is built with the message types of [`crate::stagelinq`] and every byte
//! received is parsed with them; garbage closes the connection it came on, never panics.

pub mod deck;
pub mod discovery;
pub mod file_transfer;
pub mod framing;
pub mod mixer;
pub mod persona;
mod services;
pub mod state;
pub mod unit;

#[cfg(test)]
mod download_tests;
#[cfg(test)]
mod rig_tests;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::device::library::Library;
use crate::device::{Device, HostAddress, Nanos};
use crate::stagelinq::Token;

pub use persona::{Kind, Persona, Service, PERSONAS};

/// Everything a model needs to start.
#[derive(Clone)]
pub struct Setup {
    pub persona: &'static Persona,
    pub host: HostAddress,
    /// `/Client/Preferences/Player` until a mixer sets it (1.11): the unit's place in the rig.
    pub player_number: u8,
    /// When the unit is switched on.
    pub power_on: Nanos,
    /// Where the decks find the tracks a load names (the demo library).
    pub library: Arc<Library>,
    /// A mixer's cabling: which deck of which player (by address) plays on which channel.
    /// A player it hears that is not cabled gets the next free channel for each of its decks.
    pub cabling: Vec<Cable>,
}

/// One mixer channel's input: deck `deck` (1-based) of the unit at `ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cable {
    pub channel: u8,
    pub ip: Ipv4Addr,
    pub deck: u8,
}

/// Build the model a persona describes.
pub fn build(setup: Setup) -> Box<dyn Device + Send> {
    match setup.persona.kind {
        Kind::Player | Kind::AllInOne => Box::new(unit::Unit::new(setup)),
        Kind::Mixer => Box::new(mixer::Mixer::new(setup)),
    }
}

/// splitmix64: a fixed, well-mixed sequence from a seed (tokens and ports are derived from
/// the unit's address, so a run is reproducible and two units never share them).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The token of identity `n` (0: the unit, 1..: its analyzers) of the unit at `ip`.
///
/// Token rules (`stagelinq.md` 2.2 "Token constraints", 6): a ServicesRequest whose token has
/// the top bit of byte 0 set is ignored by devices (PyStageLinQ), PyStageLinQ's generator
/// also clears the top two bits of byte 8, and an all-zero token crashes PyStageLinQ
/// (`clients.md` 5.2 item 2). Real units' own tokens often have the top bit set ([capture]
/// `8fba5ced...`); the emulator keeps to the stricter rule so its tokens work on either side.
pub fn token_for(ip: Ipv4Addr, n: u8) -> Token {
    let seed = (u32::from(ip) as u64) << 8 | n as u64;
    let a = mix(seed ^ 0x5354_4147_454c_494e);
    let b = mix(a);
    let mut t = [0u8; 16];
    t[..8].copy_from_slice(&a.to_be_bytes());
    t[8..].copy_from_slice(&b.to_be_bytes());
    valid_token(Token(t))
}

/// `t` with the token rules applied: top bit of byte 0 and top two bits of byte 8 clear,
/// never all zero.
pub fn valid_token(mut t: Token) -> Token {
    t.0[0] &= 0x7f;
    t.0[8] &= 0x3f;
    if t.is_zero() {
        t.0[15] = 1;
    }
    t
}

/// Whether `t` keeps the token rules.
pub fn is_valid_token(t: &Token) -> bool {
    !t.is_zero() && t.0[0] & 0x80 == 0 && t.0[8] & 0xc0 == 0
}

/// The first of the unit's TCP ports: real units announce ports from the Linux ephemeral
/// range, new at each boot (3.4: 38631, 46863, 40285...; 2.2 "Reconnection after reboot").
/// The emulator derives them from the address so runs are reproducible; the unit takes
/// `first .. first + identities + services`.
pub fn first_port(ip: Ipv4Addr) -> u16 {
    32_768 + (mix(u32::from(ip) as u64) % 24_000) as u16
}
