//! The control exchange rekordbox 6/7 holds on port 50002 with CDJ-3000X players and a DJM-A9
//! when it is the collection source (kinds `30`, `31`, `46`, `47`, `80`).
//!
//! Source: libdjlink's measurements on a capture taken on a Windows rekordbox host with two
//! CDJ-3000X (players 1, 2), a DJM-A9 (33) and rekordbox as device `11` (key2/libdjlink
//! `ARCHITECTURE.md` section 1.11 "rekordbox EXPORT / LINK — measured (2026-08-27)" and
//! `captures/rekordbox-NOTES.md` item 3, cited below as LDL). Nothing else public describes
//! these kinds (dysentery's packet table, beat-link's `Util.PacketType` and prolink-connect
//! list none of them). LDL gives for each its direction, its length, and that it "carries the
//! standard magic + name; body starts at 0x1f = 01, subtype, Dr, len_r, payload", i.e. the
//! status header of `prodjlink.md` 1.2; the payloads are not decoded.
//!
//! | kind | from → to | bytes | what is known (LDL) | name here |
//! |---|---|---|---|---|
//! | `30` | DJM-A9 → rekordbox | 36 | a notification; header only | `mixer_rekordbox_notify` |
//! | `31` | rekordbox → DJM-A9 | 44 | paired with `30` | `rekordbox_mixer_reply` |
//! | `46` | CDJ → rekordbox | 40 | "short reply to `47` (`…020400a0`)" | `player_config_reply` |
//! | `47` | rekordbox → CDJ | 72 | "request/config; payload carries the `12 34 56 78` settings marker + an `01`-run" | `rekordbox_config_request` |
//! | `80` | CDJ → rekordbox | 44 | "player → rekordbox notification, references rekordbox's device number `11`" | `player_rekordbox_notify` |
//!
//! Field table (absolute offsets, every kind):
//!
//! | bytes | field | source |
//! |---|---|---|
//! | 00-09 | magic | `prodjlink.md` 1.1 |
//! | 0a | kind | 1.1 |
//! | 0b-1e | device name | 1.2; LDL "standard magic + name" |
//! | 1f | header type, `01` | 1.2; LDL "0x1f = 01" |
//! | 20 | subtype | 1.2; LDL |
//! | 21 | sender's device number | 1.2 (LDL writes `Dr`) |
//! | 22-23 | len_r, bytes after 0x23 | 1.3; LDL |
//! | 24-27 | `47` only: the settings marker `12 34 56 78` when present there | LDL; the same marker opens My Settings in `34` (DYS-L) and the CDJ status settings blocks (4.2) |
//! | 24- | payload, not decoded | LDL |
//!
//! Unknown and said so: every payload byte (LDL publishes lengths and the hints quoted above,
//! not the bytes); where in `80` the rekordbox device number sits; where in `46` the quoted
//! `02 04 00 a0` sits; what the `01`-run of `47` counts. LDL places the `47` marker only "in
//! the payload"; this decoder names it at 0x24, where the other settings messages put it, and
//! leaves the payload unknown when it is not there.

use crate::dissect::Value;

use super::header::{field::HEADER_LEN, need, put_tail, tail, StatusHeader};
use super::walker::{dissect_status, Walker};
use super::Error;

/// The settings marker: the first four bytes of [`super::SETTINGS_MARKER`] (4.2, DYS-L).
const MARKER: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// Offsets of the one field known past the status header.
pub(crate) mod field {
    use std::ops::Range;
    /// `47` only: the settings marker, where the other settings messages put it.
    pub const SETTINGS_MARKER: Range<usize> = 0x24..0x28;
}

/// The five kinds and their names, directions and measured lengths (LDL).
const KINDS: [(u8, &str, &str, usize); 5] = [
    (
        0x30,
        "mixer_rekordbox_notify",
        "mixer notifies rekordbox",
        36,
    ),
    (
        0x31,
        "rekordbox_mixer_reply",
        "rekordbox answers the mixer",
        44,
    ),
    (
        0x46,
        "player_config_reply",
        "player answers rekordbox's config request",
        40,
    ),
    (
        0x47,
        "rekordbox_config_request",
        "rekordbox config request",
        72,
    ),
    (
        0x80,
        "player_rekordbox_notify",
        "player notifies rekordbox",
        44,
    ),
];

/// Whether `kind` on port 50002 is one of this exchange's.
pub(crate) fn is_link_kind(kind: u8) -> bool {
    KINDS.iter().any(|k| k.0 == kind)
}

/// The snake_case name of a kind of this exchange.
pub(crate) fn type_name(kind: u8) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or("rekordbox_link", |k| k.1)
}

/// One message of the rekordbox LINK control exchange: the status header and its payload,
/// kept whole (nothing in it is decoded, see the module table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekordboxLink {
    /// `30`, `31`, `46`, `47` or `80`.
    pub kind: u8,
    pub header: StatusHeader,
    /// Everything after the header (0x24 on).
    pub payload: Vec<u8>,
}

impl RekordboxLink {
    /// A message of `kind` whose length field is len_r for `payload`.
    pub fn new(kind: u8, name: &str, device: u8, payload: Vec<u8>) -> Self {
        let total = HEADER_LEN + payload.len();
        RekordboxLink {
            kind,
            header: StatusHeader::with_len_r(name, 0, device, total),
            payload,
        }
    }

    /// The DJM-A9's 36-byte notification to rekordbox (header only, LDL).
    pub fn mixer_notify(name: &str, device: u8) -> Self {
        Self::new(0x30, name, device, Vec::new())
    }

    /// rekordbox's 44-byte answer to the mixer; its 8 payload bytes are not published.
    pub fn mixer_reply(device: u8, payload: [u8; 8]) -> Self {
        Self::new(0x31, "rekordbox", device, payload.to_vec())
    }

    /// A player's 40-byte reply to `47`; its 4 payload bytes are not published.
    pub fn config_reply(name: &str, device: u8, payload: [u8; 4]) -> Self {
        Self::new(0x46, name, device, payload.to_vec())
    }

    /// rekordbox's 72-byte config request: the settings marker, then 32 bytes not published.
    pub fn config_request(device: u8, rest: [u8; 32]) -> Self {
        let mut payload = MARKER.to_vec();
        payload.extend_from_slice(&rest);
        Self::new(0x47, "rekordbox", device, payload)
    }

    /// A player's 44-byte notification to rekordbox; its 8 payload bytes are not published.
    pub fn player_notify(name: &str, device: u8, payload: [u8; 8]) -> Self {
        Self::new(0x80, name, device, payload.to_vec())
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("rekordbox_link", b, HEADER_LEN)?;
        Ok(RekordboxLink {
            kind: b[super::header::field::KIND.start],
            header: StatusHeader::parse(b),
            payload: tail(b, HEADER_LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        self.header.emit(self.kind, buf);
        put_tail(buf, HEADER_LEN, &self.payload);
    }

    /// `47` whose payload opens with the settings marker.
    pub fn has_settings_marker(&self) -> bool {
        self.kind == 0x47 && self.payload.starts_with(&MARKER)
    }

    /// The length LDL measured for this kind.
    pub fn measured_len(&self) -> Option<usize> {
        KINDS.iter().find(|k| k.0 == self.kind).map(|k| k.3)
    }
}

/// The header, the `47` marker where it sits, the payload unknown; the summary says who
/// talks to whom and how the length compares with the measured one.
pub(crate) fn dissect(w: &mut Walker<'_>, kind: u8) {
    dissect_status(w);
    if kind == 0x47 && w.s.bytes.get(field::SETTINGS_MARKER) == Some(&MARKER[..]) {
        w.constant("settings_marker", field::SETTINGS_MARKER, &MARKER);
    }
    w.expect_len(HEADER_LEN);
    w.finish();
    let Some(&(_, _, what, measured)) = KINDS.iter().find(|k| k.0 == kind) else {
        return;
    };
    let n = w.len();
    let payload = n.saturating_sub(HEADER_LEN);
    let from = match (w.out().name.clone(), w.out().device) {
        (Some(name), Some(d)) if !name.is_empty() => format!(" from {name} D{d}"),
        (_, Some(d)) => format!(" from D{d}"),
        _ => String::new(),
    };
    let size = if n == measured {
        format!("{payload} payload bytes undescribed")
    } else {
        format!("{payload} payload bytes undescribed, {n} bytes where {measured} were measured")
    };
    w.out().summary = format!("{what}{from}, {size}");
    if n != measured {
        w.derived("measured_len", Value::U(measured as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::{assert_covers, check, hex};
    use crate::prodjlink::{dissect, Packet};

    /// Each kind built from the LDL table: the measured length, a round trip through `parse`
    /// and `Packet`, its name on port 50002 and `unknown` on the others.
    #[test]
    fn every_kind_round_trips_at_its_measured_length() {
        let built = [
            RekordboxLink::mixer_notify("DJM-A9", 33),
            RekordboxLink::mixer_reply(0x11, [0; 8]),
            RekordboxLink::config_reply("CDJ-3000X", 1, [0x02, 0x04, 0x00, 0xa0]),
            RekordboxLink::config_request(0x11, [1; 32]),
            RekordboxLink::player_notify("CDJ-3000X", 2, [0, 0, 0, 0x11, 0, 0, 0, 0]),
        ];
        for (m, (kind, name, _, len)) in built.iter().zip(KINDS) {
            let b = m.to_bytes();
            assert_eq!((m.kind, b.len(), m.measured_len()), (kind, len, Some(len)));
            assert_eq!(RekordboxLink::parse(&b).unwrap(), *m);
            let p = Packet::parse(50002, &b).unwrap();
            assert_eq!(p, Packet::RekordboxLink(m.clone()));
            assert_eq!(
                (p.port(), p.type_name(), p.to_bytes()),
                (50002, name, b.clone())
            );
            let d = check(50002, &b);
            assert_eq!(d.type_name, name);
            assert!(d.malformed.is_none() && d.field("measured_len").is_none());
            assert_eq!(dissect(50001, &b, false).type_name, "unknown");
            assert_covers(&dissect(50002, &b, true), b.len());
        }
    }

    /// rekordbox's `47` as LDL describes it (marker, then a run of `01`), built byte by byte.
    #[test]
    fn config_request_from_the_documented_layout() {
        let b = hex("5173707431576d4a4f4c47\
             72656b6f7264626f780000000000000000000000\
             01 00 11 0024\
             12345678\
             0101010101010101010101010101010101010101010101010101010101010101");
        assert_eq!(b.len(), 72);
        let m = RekordboxLink::parse(&b).unwrap();
        assert!(m.has_settings_marker());
        assert_eq!(m, RekordboxLink::config_request(0x11, [1; 32]));
        let d = check(50002, &b);
        assert_eq!(d.type_name, "rekordbox_config_request");
        assert_eq!(
            (d.name.as_deref(), d.device),
            (Some("rekordbox"), Some(0x11))
        );
        assert_eq!(
            d.summary,
            "rekordbox config request from rekordbox D17, 36 payload bytes undescribed"
        );
        let v = dissect(50002, &b, true);
        assert!(v.fields.iter().any(|f| f.name == "settings_marker"));
        assert_eq!(
            v.fields.last().map(|f| f.range.clone()),
            Some(Some(0x28..72))
        );
    }

    #[test]
    fn other_lengths_are_shown_not_rejected() {
        // A longer 80 (a later firmware may add bytes): named, and the difference said.
        let m = RekordboxLink::new(0x80, "CDJ-3000X", 2, vec![0; 12]);
        let d = check(50002, &m.to_bytes());
        assert_eq!(d.field("measured_len"), Some(&Value::U(44)));
        assert!(
            d.summary.ends_with("48 bytes where 44 were measured"),
            "{}",
            d.summary
        );
        // Shorter than the header: truncated.
        let b = &m.to_bytes()[..0x20];
        assert!(matches!(
            Packet::parse(50002, b),
            Err(Error::Truncated { .. })
        ));
        assert!(dissect(50002, b, false).malformed.is_some());
    }
}
