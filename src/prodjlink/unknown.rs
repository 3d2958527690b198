//! Packets nobody has described: [`UnknownPacket`] (an unknown (port, kind), anything on port
//! 50003, a payload without the magic) and [`OpaqueStatus`] (a known kind on the status ports
//! whose body is not described: the mixer's 0x04 on 50001; 0x10, 0x16, 0x1a, 0x1c, 0x1d on 50002).

use super::header::{need, put_tail, tail, StatusHeader};
use super::walker::{dissect_announce, dissect_magic_kind, dissect_peer, dissect_status, Walker};
use super::{has_magic, Error};

/// A datagram of an undescribed kind, kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPacket {
    /// Destination port it was sent to.
    pub port: u16,
    /// Every byte, magic included.
    pub bytes: Vec<u8>,
}

impl UnknownPacket {
    pub fn buffer_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        buf[..self.bytes.len()].copy_from_slice(&self.bytes);
    }

    /// The kind byte, when the packet is long enough to have one.
    pub fn kind(&self) -> Option<u8> {
        self.bytes.get(super::header::field::KIND.start).copied()
    }
}

/// The common header of an undescribed kind, where its port has one (`prodjlink.md` 1.2): the
/// announce header on 50000 (name, structure, length), the Stagehand peer header when the
/// frame is marked as one (name, peer), else the status header on 50001/50002/50004 (name,
/// subtype, device number, length); the rest unknown. 50003 has no described layout (5), so
/// only magic and kind are named there, as in a packet too short for its header.
pub(crate) fn dissect_unknown(w: &mut Walker<'_>, port: u16) {
    if has_magic(w.s.bytes) {
        let header = w.len() >= super::header::field::HEADER_LEN;
        let stagehand = w.s.bytes.get(super::header::field::peer::PEER.start)
            == Some(&super::STAGEHAND_PEER)
            || w.s
                .bytes
                .get(super::header::field::status::HEADER_TYPE.start)
                == Some(&3);
        match port {
            50000 if header => dissect_announce(w),
            50001 | 50002 | 50004 if header && stagehand => dissect_peer(w),
            50001 | 50002 | 50004 if header => dissect_status(w),
            _ => dissect_magic_kind(w),
        }
    } else {
        w.out()
            .set_malformed("no Qspt1WmJOL magic: not a Pro DJ Link packet");
    }
    w.finish();
    let n = w.len();
    let kind = w.s.bytes.get(super::header::field::KIND.start).copied();
    let from = match (w.out().name.clone(), w.out().device) {
        (Some(name), Some(d)) if !name.is_empty() => format!(" from {name} D{d}"),
        (Some(name), _) if !name.is_empty() => format!(" from {name}"),
        (_, Some(d)) => format!(" from D{d}"),
        _ => String::new(),
    };
    w.out().summary = match kind {
        Some(k) => format!("undescribed kind {k:02x} on port {port}{from}, {n} bytes"),
        None => format!("{n} bytes on port {port}"),
    };
}

/// A status-header packet whose body is not described (kept as bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueStatus {
    pub kind: u8,
    pub header: StatusHeader,
    /// Everything after the header (0x24 on).
    pub body: Vec<u8>,
}

impl OpaqueStatus {
    const BODY: usize = super::header::field::HEADER_LEN;

    /// A packet of `kind` whose length field is len_r.
    pub fn new(kind: u8, name: &str, subtype: u8, device: u8, body: Vec<u8>) -> Self {
        let total = Self::BODY + body.len();
        OpaqueStatus {
            kind,
            header: StatusHeader::with_len_r(name, subtype, device, total),
            body,
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("status", b, Self::BODY)?;
        Ok(OpaqueStatus {
            kind: b[super::header::field::KIND.start],
            header: StatusHeader::parse(b),
            body: tail(b, Self::BODY),
        })
    }

    pub fn buffer_len(&self) -> usize {
        Self::BODY + self.body.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        self.header.emit(self.kind, buf);
        put_tail(buf, Self::BODY, &self.body);
    }
}

/// The header's fields, the body unknown; `what` leads the summary.
pub(crate) fn dissect_opaque(w: &mut Walker<'_>, what: &str) {
    dissect_status(w);
    w.expect_len(OpaqueStatus::BODY);
    w.finish();
    let body = w.len().saturating_sub(OpaqueStatus::BODY);
    let summary = match w.out().device {
        Some(d) => format!("{what} from D{d}, {body} bytes undescribed"),
        None => format!("{what}, {body} bytes undescribed"),
    };
    w.out().summary = summary;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::check;
    use crate::prodjlink::{dissect, DeviceName, Packet};

    #[test]
    fn unknown_kind_keeps_every_byte() {
        // Kind 0x0b on port 50000 (XDJ-AZ, undescribed: section 2).
        let mut b = crate::prodjlink::MAGIC.to_vec();
        b.extend_from_slice(&[0x0b, 0, 1, 2, 3]);
        let p = Packet::parse(50000, &b).unwrap();
        assert_eq!(
            p,
            Packet::Unknown(UnknownPacket {
                port: 50000,
                bytes: b.clone()
            })
        );
        assert_eq!(p.to_bytes(), b);
        let d = check(50000, &b);
        assert_eq!(d.type_name, "unknown");
        assert_eq!(d.kind, Some(0x0b));
        let d = crate::prodjlink::dissect(50000, &b, true);
        assert_eq!(d.fields.last().map(|f| f.range.clone()), Some(Some(11..15)));
    }

    /// Issue 11: an undescribed kind keeps the common header of its port: name, device number,
    /// length in the line (summary, name, device), the JSON fields and `-V`; the body unknown.
    #[test]
    fn unknown_kinds_keep_their_header() {
        let b = OpaqueStatus::new(0x7f, "XDJ-AZ", 0, 2, vec![9; 12]).to_bytes();
        let d = check(50002, &b);
        assert_eq!(d.type_name, "unknown");
        assert_eq!((d.name.as_deref(), d.device), (Some("XDJ-AZ"), Some(2)));
        assert_eq!(
            d.summary,
            "undescribed kind 7f on port 50002 from XDJ-AZ D2, 48 bytes"
        );
        let named: Vec<&str> = d.fields.iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(
            &named[..7],
            [
                "magic",
                "kind",
                "name",
                "header_type",
                "subtype",
                "device",
                "length"
            ]
        );
        let v = dissect(50002, &b, true);
        assert_eq!(
            v.fields.last().map(|f| f.range.clone()),
            Some(Some(0x24..0x30))
        );
        let j = dissect(50002, &b, crate::dissect::Depth::Json);
        let json = String::from_utf8_lossy(&j.fields_json);
        assert!(json.contains("\"name\":\"XDJ-AZ\"") && json.contains("\"device\":2"));

        // Port 50000: the announce header (name at 0x0c, len_p).
        let mut a = crate::prodjlink::MAGIC.to_vec();
        a.extend_from_slice(&[0x0b, 0]);
        a.extend_from_slice(&DeviceName::new("XDJ-AZ").0);
        a.extend_from_slice(&[1, 3, 0, 0x28, 1, 2, 3, 4]);
        let d = check(50000, &a);
        assert_eq!(d.name.as_deref(), Some("XDJ-AZ"));
        assert_eq!(
            d.summary,
            "undescribed kind 0b on port 50000 from XDJ-AZ, 40 bytes"
        );

        // A Stagehand-marked frame: the peer header, not a status device number.
        let mut p = b.clone();
        p[0x1e] = crate::prodjlink::STAGEHAND_PEER;
        p[0x1f] = 3;
        let d = check(50002, &p);
        assert_eq!(d.device, None);
        assert!(d.fields.iter().any(|f| f.name == "peer"));
    }

    #[test]
    fn port_50003_is_logged_as_unknown() {
        let b = OpaqueStatus::new(0x0a, "CDJ-3000", 0, 3, vec![1, 2, 3]).to_bytes();
        let p = Packet::parse(50003, &b).unwrap();
        assert!(matches!(p, Packet::Unknown(_)));
        assert_eq!(p.port(), 50003);
        assert_eq!(dissect(50003, &b, false).type_name, "unknown");
    }

    #[test]
    fn no_magic_is_malformed_but_shown() {
        let b = b"hello world, not DJ Link";
        assert!(matches!(Packet::parse(50001, b), Err(Error::BadMagic)));
        let d = dissect(50001, b, true);
        assert_eq!(d.type_name, "unknown");
        assert!(d.malformed.is_some());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].range, Some(0..b.len()));
    }

    #[test]
    fn opaque_status_round_trips() {
        let o = OpaqueStatus::new(0x1a, "CDJ-2000nexus", 0, 2, vec![0, 0, 0, 2]);
        let b = o.to_bytes();
        assert_eq!(OpaqueStatus::parse(&b).unwrap(), o);
        let d = check(50002, &b);
        assert_eq!(d.type_name, "load_track_ack");
        assert_eq!(d.summary, "load track ack from D2, 4 bytes undescribed");
    }
}
