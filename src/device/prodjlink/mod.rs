//! Pro DJ Link device models: players, mixers, rekordbox and the OPUS-QUAD, each a
//! [`crate::device::Device`] without I/O (`architecture.md` "Three decisions").
//!
//! * [`presence`]: power-up, number negotiation and keep-alives, shared by every model.
//! * [`peers`]: who announced themselves (status goes only to them).
//! * [`deck`]: the play position and what status, beat and precise-position packets say.
//! * [`player`]: CDJ-2000NXS2, CDJ-3000, XDJ-1000MK2.
//! * [`mixer`]: DJM-900NXS2 (4 channels), DJM-V10 (6 channels).
//! * [`rekordbox`]: a rekordbox laptop (device type 4).
//! * [`opus_quad`]: an OPUS-QUAD in rekordbox-lighting mode.
//! * [`persona`]: the table of models, their bytes and timing.
//! * [`track`]: what a deck knows of a track, and where players find tracks.
//!
//! Every byte sent is built with the Reprs of [`crate::prodjlink`], and every datagram that
//! reaches a model is parsed with [`crate::prodjlink::Packet::parse`]: garbage is dropped
//! without a panic, a truncated packet likewise.

pub mod deck;
pub mod mixer;
pub mod opus_quad;
pub mod peers;
pub mod persona;
pub mod phrases;
pub mod player;
mod player_input;
pub mod port_query;
pub mod presence;
pub mod rekordbox;
pub mod track;

#[cfg(test)]
mod player_tests;
#[cfg(test)]
mod tests;

use std::net::SocketAddrV4;

use crate::device::{Destination, Device, HostAddress, Nanos, Outbox};
use crate::prodjlink::Packet;

pub use persona::{Kind, Persona, PERSONAS};
pub use track::{TrackInfo, TrackList, TrackSource, Tracks};

/// Discovery, numbers and keep-alives (2).
pub const ANNOUNCE_PORT: u16 = 50000;
/// Beats, precise position, mixer control, handoff (3).
pub const BEAT_PORT: u16 = 50001;
/// Status, media, load commands, lighting (4).
pub const STATUS_PORT: u16 = 50002;
/// The dbserver port query (7.1).
pub const DB_QUERY_PORT: u16 = 12523;
/// The port the query answers with: 1051 on every player seen (7.1).
pub const DB_PORT: u16 = 1051;

/// Parse a datagram that reached a device on `port`; None for anything that is not a
/// well-formed Pro DJ Link packet (garbage, truncation): dropped as a real unit drops it.
pub(crate) fn parse(port: u16, payload: &[u8]) -> Option<Packet> {
    Packet::parse(port, payload).ok()
}

pub(crate) fn unicast(to: std::net::Ipv4Addr, port: u16) -> Destination {
    Destination::Unicast(SocketAddrV4::new(to, port))
}

/// How a device gets its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// AUTO: start from this number (the one remembered from last time) and give way when it
    /// is taken.
    Auto(u8),
    /// Configured on the unit (`--device N`): claimed as "specific" (2 kind 02 a=`02`).
    Fixed(u8),
}

impl Numbering {
    pub fn number(self) -> u8 {
        match self {
            Numbering::Auto(n) | Numbering::Fixed(n) => n,
        }
    }
}

/// Everything a model needs to start.
#[derive(Clone)]
pub struct Setup {
    pub persona: &'static Persona,
    pub host: HostAddress,
    pub numbering: Numbering,
    /// When the unit is switched on.
    pub power_on: Nanos,
    /// Whether a USB stick is in it (players: its tracks are served over the link).
    pub has_usb: bool,
    /// Where the players find the tracks a load names.
    pub tracks: Tracks,
}

/// Build the model a persona describes.
pub fn build(setup: Setup) -> Box<dyn Device + Send> {
    match setup.persona.kind {
        Kind::Player => Box::new(player::Player::new(setup)),
        Kind::Mixer => Box::new(mixer::Mixer::new(setup)),
        Kind::Rekordbox => Box::new(rekordbox::Rekordbox::new(setup)),
        Kind::OpusQuad => Box::new(opus_quad::OpusQuad::new(setup)),
    }
}

/// A model with a closure over its outbox: shared by the model files for the status round.
pub(crate) fn send_to_peers(
    out: &mut Outbox,
    peers: &peers::Peers,
    own: std::net::Ipv4Addr,
    port: u16,
    payload: &[u8],
) {
    for ip in peers.addresses() {
        if ip != own {
            out.datagram(0, unicast(ip, port), payload.to_vec());
        }
    }
}
