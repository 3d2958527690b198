//! Link-layer slicing: every supported link type down to what its header carries, an
//! EtherType and its payload or a bare IP packet.
//!
//! Ethernet (with VLAN and MACsec headers), Linux SLL, SLL2 and the BSD loopback headers are
//! sliced here (crates-and-conventions.md 1.3) with etherparse's small per-header slices; the
//! rules are those of etherparse's `LaxSlicedPacket` (at most three VLAN/MACsec headers, an
//! encrypted MACsec payload ends slicing), without building and moving that whole structure
//! for every frame.

use etherparse::{
    ether_type, EtherType, Ethernet2Slice, LaxMacsecPayloadSlice, LaxMacsecSlice, SingleVlanSlice,
};

use crate::capture::LinkType;

/// Why a frame could not be sliced down to IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    Unsupported(u32),
    Short {
        link: &'static str,
        need: usize,
        have: usize,
    },
    NotIp,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Unsupported(n) if *n == u32::MAX => {
                f.write_str("packet names an interface no interface block described")
            }
            LinkError::Unsupported(n) => write!(f, "unsupported link type {n}"),
            LinkError::Short { link, need, have } => {
                write!(f, "{link} header needs {need} bytes, frame has {have}")
            }
            LinkError::NotIp => f.write_str("not IP"),
        }
    }
}

/// What a link-layer header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPayload<'a> {
    /// The EtherType after the link header and its VLAN/MACsec headers, and what follows.
    Ether(EtherType, &'a [u8]),
    /// An IP packet with no EtherType before it (raw IP, BSD loopback).
    Ip(&'a [u8]),
    /// A VLAN or MACsec header cut short.
    ExtensionCutShort,
    /// Nothing readable follows: more than three VLAN/MACsec headers, or a MACsec payload
    /// that is encrypted (or otherwise modified).
    Unreadable,
}

/// Linux cooked capture v1: 16-byte header, protocol type at bytes 14-15.
const SLL_LEN: usize = 16;
/// Linux cooked capture v2: 20-byte header, protocol type at bytes 0-1.
const SLL2_LEN: usize = 20;
/// BSD NULL / LOOP: 4-byte address family.
const NULL_LEN: usize = 4;
/// VLAN and MACsec headers followed in one frame (as etherparse's `LaxSlicedPacket`).
const MAX_EXTENSIONS: usize = 3;

/// Slice a frame of the given link type.
pub fn slice(link: LinkType, data: &[u8]) -> Result<LinkPayload<'_>, LinkError> {
    match link {
        LinkType::Ethernet => {
            let eth =
                Ethernet2Slice::from_slice_without_fcs(data).map_err(|_| LinkError::Short {
                    link: "Ethernet",
                    need: 14,
                    have: data.len(),
                })?;
            Ok(extensions(eth.ether_type(), eth.payload_slice()))
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => Ok(LinkPayload::Ip(data)),
        LinkType::LinuxSll => {
            let hdr = data.get(..SLL_LEN).ok_or(LinkError::Short {
                link: "Linux SLL",
                need: SLL_LEN,
                have: data.len(),
            })?;
            let proto = u16::from_be_bytes([hdr[14], hdr[15]]);
            Ok(extensions(EtherType(proto), &data[SLL_LEN..]))
        }
        LinkType::LinuxSll2 => {
            let hdr = data.get(..SLL2_LEN).ok_or(LinkError::Short {
                link: "Linux SLL2",
                need: SLL2_LEN,
                have: data.len(),
            })?;
            let proto = u16::from_be_bytes([hdr[0], hdr[1]]);
            Ok(extensions(EtherType(proto), &data[SLL2_LEN..]))
        }
        LinkType::Null | LinkType::Loop => {
            // The address family is in the writer's byte order for NULL and big-endian for
            // LOOP; rather than guess the writer, let the IP version nibble decide.
            let body = data.get(NULL_LEN..).ok_or(LinkError::Short {
                link: "loopback",
                need: NULL_LEN,
                have: data.len(),
            })?;
            Ok(LinkPayload::Ip(body))
        }
        LinkType::Other(n) => Err(LinkError::Unsupported(n)),
    }
}

/// Step over VLAN and MACsec headers to the EtherType that says what the frame carries.
fn extensions(mut ty: EtherType, mut payload: &[u8]) -> LinkPayload<'_> {
    use ether_type::{MACSEC, PROVIDER_BRIDGING, VLAN_DOUBLE_TAGGED_FRAME, VLAN_TAGGED_FRAME};
    let mut seen = 0;
    loop {
        match ty {
            VLAN_TAGGED_FRAME | PROVIDER_BRIDGING | VLAN_DOUBLE_TAGGED_FRAME | MACSEC
                if seen == MAX_EXTENSIONS =>
            {
                return LinkPayload::Unreadable
            }
            VLAN_TAGGED_FRAME | PROVIDER_BRIDGING | VLAN_DOUBLE_TAGGED_FRAME => {
                let Ok(vlan) = SingleVlanSlice::from_slice(payload) else {
                    return LinkPayload::ExtensionCutShort;
                };
                (ty, payload) = (vlan.ether_type(), vlan.payload_slice());
            }
            MACSEC => match LaxMacsecSlice::from_slice(payload) {
                Err(_) => return LinkPayload::ExtensionCutShort,
                Ok(LaxMacsecSlice {
                    payload: LaxMacsecPayloadSlice::Unmodified(e),
                    ..
                }) => (ty, payload) = (e.ether_type, e.payload),
                Ok(_) => return LinkPayload::Unreadable,
            },
            _ => return LinkPayload::Ether(ty, payload),
        }
        seen += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn udp_ip() -> Vec<u8> {
        let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).udp(1000, 50000);
        let mut v = Vec::new();
        b.write(&mut v, b"hi").unwrap();
        v
    }

    fn ip_of(p: LinkPayload<'_>) -> &[u8] {
        match p {
            LinkPayload::Ip(ip) | LinkPayload::Ether(ether_type::IPV4, ip) => ip,
            other => panic!("no IPv4: {other:?}"),
        }
    }

    #[test]
    fn every_link_type_reaches_ip() {
        let ip = udp_ip();
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip);
        let mut lo = vec![0, 0, 0, 2];
        lo.extend_from_slice(&ip);
        let mut eth_vlan = vec![0xff; 12];
        eth_vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        eth_vlan.extend_from_slice(&ip);
        let mut sll_qinq = vec![0u8; 14];
        sll_qinq.extend_from_slice(&[0x88, 0xa8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00]);
        sll_qinq.extend_from_slice(&ip);
        for (lt, d) in [
            (LinkType::Raw, &ip),
            (LinkType::LinuxSll, &sll),
            (LinkType::LinuxSll2, &sll2),
            (LinkType::Null, &null),
            (LinkType::Loop, &lo),
            (LinkType::Ethernet, &eth_vlan),
            (LinkType::LinuxSll, &sll_qinq),
        ] {
            assert_eq!(ip_of(slice(lt, d).unwrap()), &ip[..], "{lt:?}");
        }
    }

    #[test]
    fn vlan_headers_are_followed_three_deep() {
        let ip = udp_ip();
        let tagged = |n: usize, cut: bool| {
            let mut f = vec![0xff; 12];
            for _ in 0..n {
                f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
            }
            f.extend_from_slice(&[0x08, 0x00]);
            if cut {
                f.truncate(f.len() - 4);
            } else {
                f.extend_from_slice(&ip);
            }
            f
        };
        assert_eq!(
            ip_of(slice(LinkType::Ethernet, &tagged(3, false)).unwrap()),
            &ip[..]
        );
        assert_eq!(
            slice(LinkType::Ethernet, &tagged(4, false)),
            Ok(LinkPayload::Unreadable)
        );
        assert_eq!(
            slice(LinkType::Ethernet, &tagged(2, true)),
            Ok(LinkPayload::ExtensionCutShort)
        );
    }

    #[test]
    fn short_and_unsupported_frames_are_errors() {
        assert!(matches!(
            slice(LinkType::LinuxSll2, &[0; 5]),
            Err(LinkError::Short { .. })
        ));
        assert!(matches!(
            slice(LinkType::Other(147), &[0; 5]),
            Err(LinkError::Unsupported(147))
        ));
        assert!(slice(LinkType::Null, &[2, 0]).is_err());
        assert!(slice(LinkType::Ethernet, &[0; 13]).is_err());
    }
}
