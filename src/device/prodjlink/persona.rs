//! The models an emulated Pro DJ Link device can pose as, in one table: what each puts in its
//! packets (name, class, device type, model byte, status length, firmware) and its timing, with
//! the `prodjlink.md` section each value comes from. Where the reference is silent the entry
//! says so and names the value chosen.

use crate::device::{Nanos, MS};

/// What a persona does on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Player,
    Mixer,
    /// A rekordbox laptop (device type 4, mixer-style status, 9.5).
    Rekordbox,
    /// An OPUS-QUAD in rekordbox-lighting mode (9.5): four decks 9-12 behind one address.
    OpusQuad,
}

/// Which packet forms the unit uses on 50000 (9.3): nexus-era (structure `02`) or the
/// CDJ-3000-compatible ones (hello structure `04` with `40`, claims `03`, keep-alive model `64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Nexus,
    Cdj3000,
}

/// One model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// The role name on the command line (`cdj-3000`).
    pub role: &'static str,
    /// The name in every packet header (1.4).
    pub name: &'static str,
    pub kind: Kind,
    pub era: Era,
    /// Hello/claim class byte: `01` CDJ, `02` mixer, `04` rekordbox (2).
    pub class: u8,
    /// Keep-alive byte 0x34 (2).
    pub device_type: u8,
    /// Keep-alive byte 0x35 (2).
    pub model_code: u8,
    /// CDJ status length (4.1); 0 for units that send no CDJ status.
    pub status_len: usize,
    /// Status bytes 0x7c-0x7f (4.2).
    pub firmware: [u8; 4],
    /// The numbers the unit takes by itself when set to AUTO, lowest first (1.5).
    pub auto_numbers: (u8, u8),
    /// Mixer channels (3 kind 03: 4 or 6).
    pub channels: u8,
    /// Sends precise position 0x0b every [`PRECISE_POSITION_EVERY`] while a track is loaded (3).
    pub precise_position: bool,
    /// Counts status packets at 0xc8 (nxs2) instead of fixing 0 (CDJ-3000, 9.5).
    pub counts_packets: bool,
    /// Obeys fader start 0x02 (3: not honoured by XDJ-XZ or CDJ-3000).
    pub fader_start: bool,
    /// Highest requester number its dbserver answers (9.3: 1-4 nexus, 1-6 CDJ-3000).
    pub max_requester: u8,
    /// Broadcasts its media slot (4.1 kind 06) when media goes in: "standalone CDJs ... on
    /// insert/eject and periodically; XDJ-XZ, XDJ-RX, OPUS-QUAD never do" (DYS-MD).
    pub announces_media: bool,
}

/// Keep-alive period: "every ~1.5 s" (2, DYS); UE measured 2.0 s on one CDJ-2000NXS.
pub const KEEP_ALIVE_EVERY: Nanos = 1500 * MS;
/// CDJ and mixer status period (4.1 "~200 ms").
pub const STATUS_EVERY: Nanos = 200 * MS;
/// CDJ-3000 precise position period (3 kind 0b "~30 ms").
pub const PRECISE_POSITION_EVERY: Nanos = 30 * MS;
/// Time between the packets of each claim stage (2 "Timing facts": ~300 ms).
pub const CLAIM_STEP: Nanos = 300 * MS;
/// A peer silent this long has left. Beat Link ages out after 10 s, dysentery after 5 s (2);
/// real units drop the peer count "~10 s after a peer leaves" (2, byte 0x30).
pub const PEER_TIMEOUT: Nanos = 10_000 * MS;
/// The mixer's device number (1.5).
pub const MIXER_NUMBER: u8 = 33;
/// The first rekordbox laptop's number (1.5).
pub const REKORDBOX_NUMBER: u8 = 0x11;

const fn player(
    role: &'static str,
    name: &'static str,
    era: Era,
    status_len: usize,
    firmware: [u8; 4],
    announces_media: bool,
) -> Persona {
    let cdj3000 = matches!(era, Era::Cdj3000);
    Persona {
        role,
        name,
        kind: Kind::Player,
        era,
        class: 1,
        device_type: 1,
        model_code: if cdj3000 { 0x64 } else { 0 },
        status_len,
        firmware,
        auto_numbers: if cdj3000 { (1, 6) } else { (1, 4) },
        channels: 0,
        precise_position: cdj3000,
        counts_packets: !cdj3000,
        fader_start: !cdj3000,
        max_requester: if cdj3000 { 6 } else { 4 },
        announces_media,
    }
}

/// Every persona, in the order `--as` help lists them.
pub const PERSONAS: [Persona; 7] = [
    // Status 0x11c for nxs2 firmware (4.1); firmware "1.85" as in the club-set synth. The
    // reference gives no firmware string for this model: 1.85 is a plausible nxs2 release.
    player(
        "cdj-2000nxs2",
        "CDJ-2000NXS2",
        Era::Nexus,
        0x11c,
        *b"1.85",
        true,
    ),
    // Status 0x200, packet counter fixed at 0, numbers 1-6, precise position (9.5). The
    // reference gives no firmware string: "3.19" is a plausible release.
    player("cdj-3000", "CDJ-3000", Era::Cdj3000, 0x200, *b"3.19", true),
    // 4.1 lists 0x11b for the XDJ-1000 and is silent on the MK2: the MK2 shares the nxs2
    // firmware generation, so it gets the 0x11c layout; firmware string not in the reference.
    // The XDJ family is named among the units that never announce their media (4.1 kind 06);
    // the reference is silent on the XDJ-1000MK2 itself, so it follows its family.
    player(
        "xdj-1000mk2",
        "XDJ-1000MK2",
        Era::Nexus,
        0x11c,
        *b"1.20",
        false,
    ),
    // Keep-alive type `02`, class `02` (2, as the DJM-2000nexus); D 33 (1.5).
    Persona {
        role: "djm-900nxs2",
        name: "DJM-900NXS2",
        kind: Kind::Mixer,
        era: Era::Nexus,
        class: 2,
        device_type: 2,
        model_code: 0,
        status_len: 0,
        firmware: [0; 4],
        auto_numbers: (MIXER_NUMBER, MIXER_NUMBER),
        channels: 4,
        precise_position: false,
        counts_packets: false,
        fader_start: false,
        max_requester: 0,
        announces_media: false,
    },
    // Six channels (3 kind 03, subtype 03). The reference names no device type or model byte
    // for the V10: it gets type `03` ("mixer type 3" of the CDJ-3000-era mixers, 2) and
    // model `00`.
    Persona {
        role: "djm-v10",
        name: "DJM-V10",
        kind: Kind::Mixer,
        era: Era::Cdj3000,
        class: 2,
        device_type: 3,
        model_code: 0,
        status_len: 0,
        firmware: [0; 4],
        auto_numbers: (MIXER_NUMBER, MIXER_NUMBER),
        channels: 6,
        precise_position: false,
        counts_packets: false,
        fader_start: false,
        max_requester: 0,
        announces_media: false,
    },
    // D 0x11, type `04`, class `04`, keep-alive 0x31 = `01` (2, 1.5, 9.5); mixer-style status.
    // The model byte of a laptop's keep-alive is not in the reference (`08` is the lighting
    // template's): `00`.
    Persona {
        role: "rekordbox",
        name: "rekordbox",
        kind: Kind::Rekordbox,
        era: Era::Cdj3000,
        class: 4,
        device_type: 4,
        model_code: 0,
        status_len: 0,
        firmware: [0; 4],
        auto_numbers: (REKORDBOX_NUMBER, 0x1f),
        channels: 0,
        precise_position: false,
        counts_packets: false,
        fader_start: false,
        max_requester: 0x1f,
        announces_media: false,
    },
    // Announces itself as player 1 (9.5 "exposes D 1, 2 and 33"); its decks report as 9-12 in
    // status. The status length of an OPUS-QUAD is not in the reference: the CDJ-3000's 0x200
    // (same generation), firmware string unknown ("1.00").
    Persona {
        role: "opus-quad",
        name: "OPUS-QUAD",
        kind: Kind::OpusQuad,
        era: Era::Cdj3000,
        class: 1,
        device_type: 1,
        model_code: 0,
        status_len: 0x200,
        firmware: *b"1.00",
        auto_numbers: (1, 1),
        channels: 4,
        precise_position: false,
        counts_packets: false,
        fader_start: false,
        max_requester: 6,
        announces_media: false,
    },
];

impl Persona {
    /// The persona of a role name (`cdj-3000`), case-insensitive.
    pub fn by_role(role: &str) -> Option<&'static Persona> {
        PERSONAS.iter().find(|p| p.role.eq_ignore_ascii_case(role))
    }

    /// The role names, for help texts and errors.
    pub fn roles() -> impl Iterator<Item = &'static str> {
        PERSONAS.iter().map(|p| p.role)
    }

    pub fn is_cdj3000_era(&self) -> bool {
        self.era == Era::Cdj3000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_found_and_unique() {
        for p in &PERSONAS {
            assert_eq!(Persona::by_role(p.role), Some(p));
            assert!(p.name.len() <= 20, "{} does not fit the name field", p.name);
        }
        assert_eq!(Persona::roles().count(), 7);
        assert!(Persona::by_role("CDJ-3000").is_some());
        assert!(Persona::by_role("cdj-9000").is_none());
    }
}
