//! Who a dbserver answers, per model, and what its port query names.
//!
//! * CDJ nexus / NXS2 / XDJ: requester D must be 1-4 and not the server itself (dysentery
//!   `track_metadata.adoc`, "Query context setup": "a valid player number between 1 and 4 ...
//!   must not be the same player"; fiverecords/SuperTimecodeConverter#2: "NXS2 rejects player
//!   5" and partly refuses queries "from itself").
//! * CDJ-3000: 1-6 (`prodjlink.md` 7.2; BL `DeviceFinder.METADATA_FLEXIBLE_DEVICES`), and its
//!   own number too: BL 8 (`ConnectionManager.chooseAskingPlayerNumber`) asks a CDJ-3000 posing
//!   as that very player when its virtual CDJ is above 4.
//! * rekordbox: any requester (BL `chooseAskingPlayerNumber`: the number "can be anything if we
//!   are talking to rekordbox").
//!
//! How a real player refuses is not described by any public reference (dysentery only says
//! the request "must" come from 1-4; clients see a setup answer that is not `4000`: BL
//! `Client.performSetupExchange` throws on it, prolink-connect waits for `4000`). The emulator
//! answers the setup with `4003` naming the setup request type and closes the connection, so
//! a client fails at once and clearly instead of waiting.

/// The dbserver port of CDJs (`prodjlink.md` 7.1: always `04 1b`).
pub const CDJ_PORT: u16 = 1051;
/// The port the rekordbox in prolink-connect's fixture answered (`ff f2`); rekordbox picks
/// its own (`prodjlink.md` 7.1), this one keeps the emulator reproducible.
pub const REKORDBOX_PORT: u16 = 65522;

/// The media slot byte of DMST (`prodjlink.md` 7.2) the library is served from.
pub mod slot {
    pub const SD: u8 = 2;
    pub const USB: u8 = 3;
    /// rekordbox's own collection.
    pub const COLLECTION: u8 = 4;
}

/// Which requesting device numbers the setup accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requesters {
    /// `first..=last`, and the server's own number only when `allow_self`.
    Range {
        first: u8,
        last: u8,
        allow_self: bool,
    },
    /// Any non-zero number.
    Any,
}

/// How one server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRules {
    /// The server's device number, returned by the setup answer (`4000 [0, D]`).
    pub own_number: u8,
    pub requesters: Requesters,
    /// The slot (DMST byte 2) that holds the library; requests for other slots get `4003`.
    pub slot: u8,
    /// What the 12523 port query answers, and where the database listens.
    pub port: u16,
}

impl ServerRules {
    /// CDJ-2000nexus, CDJ-2000NXS2, XDJ-1000mk2 serving a USB stick.
    pub fn nexus(own_number: u8) -> ServerRules {
        ServerRules {
            own_number,
            requesters: Requesters::Range {
                first: 1,
                last: 4,
                allow_self: false,
            },
            slot: slot::USB,
            port: CDJ_PORT,
        }
    }

    /// CDJ-3000 serving a USB stick.
    pub fn cdj3000(own_number: u8) -> ServerRules {
        ServerRules {
            requesters: Requesters::Range {
                first: 1,
                last: 6,
                allow_self: true,
            },
            ..ServerRules::nexus(own_number)
        }
    }

    /// rekordbox serving its collection.
    pub fn rekordbox(own_number: u8) -> ServerRules {
        ServerRules {
            own_number,
            requesters: Requesters::Any,
            slot: slot::COLLECTION,
            port: REKORDBOX_PORT,
        }
    }

    /// Whether a setup from `requester` is answered.
    pub fn accepts(&self, requester: u32) -> bool {
        let Ok(d) = u8::try_from(requester) else {
            return false;
        };
        match self.requesters {
            Requesters::Any => d != 0,
            Requesters::Range {
                first,
                last,
                allow_self,
            } => (first..=last).contains(&d) && (allow_self || d != self.own_number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requester_rules_per_model() {
        let nexus = ServerRules::nexus(2);
        assert!(nexus.accepts(1) && nexus.accepts(4));
        assert!(!nexus.accepts(2), "not itself");
        assert!(!nexus.accepts(5) && !nexus.accepts(0) && !nexus.accepts(0x103));
        let cdj3000 = ServerRules::cdj3000(2);
        assert!(cdj3000.accepts(2) && cdj3000.accepts(6));
        assert!(!cdj3000.accepts(7));
        let rb = ServerRules::rekordbox(17);
        assert!(rb.accepts(7) && rb.accepts(17) && rb.accepts(255));
        assert!(!rb.accepts(0) && !rb.accepts(256));
        assert_eq!((nexus.port, rb.port), (1051, 65522));
    }
}
