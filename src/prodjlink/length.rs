//! Whether a packet's own length field agrees with the datagram that carries it (`prodjlink.md`
//! 1.2, 1.3; issue 11 "lengths that disagree").
//!
//! Port 50000 packets carry len_p (the whole packet) at 0x22. The status header of 50001,
//! 50002 and 50004 carries len_r (bytes after 0x23) or len_p at 0x22, depending on the kind
//! (1.3: rekordbox's mixer status says len_p with subtype `01`, the lighting reply says len_r
//! with the same subtype), so a field that matches either reading agrees. Stagehand frames put
//! other things in 0x20..0x24 (DYS-SH) and port 50003 has no described layout: neither is
//! checked.
//!
//! A field that claims more than the datagram holds means bytes are missing: the packet is
//! `malformed` (a reassembly or capture cut, or a lying sender), whatever its dissector made of
//! the rest. A field that claims less leaves bytes the sender did not count: a note, since
//! real players do this (XDJ-1000 status, touch-audio data saying `002c` in a 0x56c datagram,
//! 1.3) and Beat Link parses them anyway (BL `CdjStatus` constructor). A DJM-2000nexus in
//! LinkInfo sends its media response's length little-endian (`9c 00` = 156 = len_r): a note
//! too, since the count is right.

use super::classify::MessageType;
use super::header::field;
use crate::dissect::Value;

/// How a length field and its datagram disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disagreement {
    /// The field claims `claimed` bytes in all; the datagram has fewer.
    Short { claimed: usize, have: usize },
    /// The datagram has `have` bytes, more than the `claimed` its field counts.
    Extra { claimed: usize, have: usize },
    /// The count is right but written little-endian.
    LittleEndian { value: u16 },
}

impl Disagreement {
    /// The malformation reason, for a packet that cannot hold what it claims.
    pub fn malformed(self) -> Option<String> {
        match self {
            Disagreement::Short { claimed, have } => Some(format!(
                "length field claims {claimed} bytes, the datagram holds {have} ({} missing)",
                claimed - have
            )),
            _ => None,
        }
    }

    /// The note for a packet that carries more than it counts, or counts in the wrong order.
    pub fn note(self) -> Option<String> {
        match self {
            Disagreement::Extra { claimed, have } => Some(format!(
                "{} bytes beyond the {claimed} its length field counts",
                have - claimed
            )),
            Disagreement::LittleEndian { value } => {
                Some(format!("length field little-endian ({value} bytes)"))
            }
            Disagreement::Short { .. } => None,
        }
    }
}

/// Which layout's length field a packet of type `t` on `port` has, if any.
fn layout(port: u16, t: MessageType, b: &[u8]) -> Option<Layout> {
    use MessageType as T;
    match port {
        50000 => Some(Layout::Announce),
        50001 | 50002 | 50004 => match t {
            T::StagehandTransport
            | T::StagehandTelemetry
            | T::StagehandVuMeters
            | T::StagehandHeartbeat
            | T::StagehandMixerState
            | T::StagehandCommand
            | T::StagehandShortHeartbeat
            | T::StagehandTrackMetadata
            | T::StagehandPrefWrite
            | T::StagehandPanel => None,
            // An undescribed kind in a Stagehand frame (peer byte `3a` or header type `03`,
            // 1.2) has no status length either.
            T::Unknown
                if b.get(field::peer::PEER.start) == Some(&super::STAGEHAND_PEER)
                    || b.get(field::status::HEADER_TYPE.start) == Some(&3) =>
            {
                None
            }
            _ => Some(Layout::Status),
        },
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// len_p only (1.2, port 50000).
    Announce,
    /// len_r or len_p (1.3).
    Status,
}

/// Compare the length field of a packet (with the magic) with its size; None when they agree,
/// when the layout has no length field, or when the packet is too short to hold the field (the
/// dissector reports that truncation itself).
pub(crate) fn check(port: u16, t: MessageType, b: &[u8]) -> Option<Disagreement> {
    let layout = layout(port, t, b)?;
    let raw = b.get(field::status::LENGTH)?;
    let v = u16::from_be_bytes([raw[0], raw[1]]) as usize;
    let n = b.len();
    let agrees = |v: usize| match layout {
        Layout::Announce => v == n,
        Layout::Status => v == n || v + field::HEADER_LEN == n,
    };
    if agrees(v) {
        return None;
    }
    let swapped = u16::from_le_bytes([raw[0], raw[1]]);
    if agrees(swapped as usize) {
        return Some(Disagreement::LittleEndian { value: swapped });
    }
    // The total the field claims. When len_r says short and len_p says extra, the subtype
    // decides: `01` is the len_p form (1.3).
    let claimed = match layout {
        Layout::Announce => v,
        Layout::Status if v > n => v,
        Layout::Status if v + field::HEADER_LEN < n => v + field::HEADER_LEN,
        Layout::Status if b.get(field::status::SUBTYPE.start) == Some(&1) => v,
        Layout::Status => v + field::HEADER_LEN,
    };
    Some(if claimed > n {
        Disagreement::Short { claimed, have: n }
    } else {
        Disagreement::Extra { claimed, have: n }
    })
}

/// Put a disagreement on the dissection: `malformed` for a short packet; for extra bytes or a
/// little-endian count, a `length_note` field and the note after the summary, so that the
/// line, the JSON and `-V` all show it.
pub(crate) fn annotate(w: &mut super::walker::Walker<'_>, d: Disagreement) {
    if let Some(reason) = d.malformed() {
        w.out().set_malformed(reason);
    }
    if let Some(note) = d.note() {
        let out = w.out();
        if !out.summary.is_empty() {
            out.summary.push(' ');
        }
        out.summary.push('(');
        out.summary.push_str(&note);
        out.summary.push(')');
        w.derived("length_note", Value::Str(note.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::hex;
    use crate::prodjlink::{dissect, OpaqueStatus};

    /// A status-header packet of kind `kind` on 50002 whose length field says `len`.
    fn status(kind: u8, subtype: u8, len: u16, body: usize) -> Vec<u8> {
        let mut b = OpaqueStatus::new(kind, "XDJ-AZ", subtype, 2, vec![0; body]).to_bytes();
        b[0x22..0x24].copy_from_slice(&len.to_be_bytes());
        b
    }

    #[test]
    fn agreeing_lengths_say_nothing() {
        // len_r and len_p readings both agree (1.3).
        assert_eq!(
            check(50002, MessageType::Unknown, &status(0x47, 0, 12, 12)),
            None
        );
        assert_eq!(
            check(50002, MessageType::Unknown, &status(0x47, 1, 48, 12)),
            None
        );
        let d = dissect(50002, &status(0x47, 0, 12, 12), true);
        assert!(d.malformed.is_none() && d.field("length_note").is_none());
    }

    /// Issue 11: an album-art chunk (0x56) that claims 1384 bytes and carries 124.
    #[test]
    fn a_packet_shorter_than_its_length_is_malformed() {
        let b = status(0x56, 0, 1384, 124 - 0x24);
        assert_eq!(b.len(), 124);
        assert_eq!(
            check(50002, MessageType::BinaryDataReply, &b),
            Some(Disagreement::Short {
                claimed: 1384,
                have: 124
            })
        );
        for depth in [true, false] {
            let d = dissect(50002, &b, depth);
            assert_eq!(
                d.malformed.as_deref(),
                Some("length field claims 1384 bytes, the datagram holds 124 (1260 missing)")
            );
        }
    }

    /// Issue 11: a packet that declares 0 and carries 12: a note in the summary and the fields.
    #[test]
    fn extra_bytes_are_a_note() {
        let b = status(0x1a, 0, 0, 12);
        let d = dissect(50002, &b, true);
        assert!(d.malformed.is_none());
        assert_eq!(
            d.field("length_note"),
            Some(&Value::Str(
                "12 bytes beyond the 36 its length field counts".into()
            ))
        );
        assert!(d
            .summary
            .ends_with("(12 bytes beyond the 36 its length field counts)"));
        // The same at the depth the text line uses.
        let d = dissect(50002, &b, crate::dissect::Depth::Head);
        assert!(
            d.summary.ends_with("its length field counts)"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn a_cdj_status_that_lies_is_walked_not_shortcut() {
        // A full 0xd4 status claiming 0x200 (the shortcut would otherwise skip the check).
        let mut s = crate::prodjlink::CdjStatus::new("CDJ-3000", 3, 0xd4).to_bytes();
        s[0x22..0x24].copy_from_slice(&(0x200u16 - 0x24).to_be_bytes());
        for depth in [
            crate::dissect::Depth::Identity,
            crate::dissect::Depth::Head,
            crate::dissect::Depth::Detail,
        ] {
            let d = dissect(50002, &s, depth);
            assert!(d.malformed.is_some(), "{depth:?}");
        }
    }

    #[test]
    fn announce_lengths_are_len_p() {
        // A keep-alive (0x36 bytes) that says 0x30: 6 bytes beyond.
        let ip = std::net::Ipv4Addr::new(10, 0, 0, 3);
        let mut b = crate::prodjlink::KeepAlive::cdj("CDJ-3000", 3, [0; 6], ip, 2).to_bytes();
        assert_eq!(b.len(), 0x36);
        b[0x22..0x24].copy_from_slice(&0x30u16.to_be_bytes());
        assert_eq!(
            check(50000, MessageType::KeepAlive, &b),
            Some(Disagreement::Extra {
                claimed: 0x30,
                have: 0x36
            })
        );
        b[0x22..0x24].copy_from_slice(&0x40u16.to_be_bytes());
        assert!(dissect(50000, &b, true).malformed.is_some());
    }

    #[test]
    fn little_endian_counts_are_a_note() {
        // LinkInfo frame 166: DJM-2000nexus media response, length `9c 00` in 192 bytes.
        let mut b = status(0x06, 2, 0, 192 - 0x24);
        b[0x22..0x24].copy_from_slice(&hex("9c00"));
        assert_eq!(
            check(50002, MessageType::MediaResponse, &b),
            Some(Disagreement::LittleEndian { value: 156 })
        );
    }

    #[test]
    fn stagehand_frames_and_port_50003_are_not_checked() {
        let b = status(0x39, 0, 0xffff, 12);
        assert_eq!(check(50002, MessageType::StagehandMixerState, &b), None);
        assert_eq!(check(50003, MessageType::Unknown, &b), None);
    }
}
