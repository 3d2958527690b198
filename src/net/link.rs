//! Link-layer slicing: every supported link type down to an etherparse `LaxSlicedPacket`.
//!
//! etherparse handles Ethernet (with VLAN tags) and raw IP; Linux SLL, SLL2 and the BSD
//! loopback headers are sliced here (crates-and-conventions.md 1.3).

use etherparse::{EtherType, LaxSlicedPacket};

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

/// Linux cooked capture v1: 16-byte header, protocol type at bytes 14-15.
const SLL_LEN: usize = 16;
/// Linux cooked capture v2: 20-byte header, protocol type at bytes 0-1.
const SLL2_LEN: usize = 20;
/// BSD NULL / LOOP: 4-byte address family.
const NULL_LEN: usize = 4;

/// Slice a frame of the given link type.
pub fn slice(link: LinkType, data: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(data).map_err(|_| LinkError::Short {
            link: "Ethernet",
            need: 14,
            have: data.len(),
        }),
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => {
            LaxSlicedPacket::from_ip(data).map_err(|_| LinkError::NotIp)
        }
        LinkType::LinuxSll => {
            let hdr = data.get(..SLL_LEN).ok_or(LinkError::Short {
                link: "Linux SLL",
                need: SLL_LEN,
                have: data.len(),
            })?;
            let proto = u16::from_be_bytes([hdr[14], hdr[15]]);
            Ok(LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                &data[SLL_LEN..],
            ))
        }
        LinkType::LinuxSll2 => {
            let hdr = data.get(..SLL2_LEN).ok_or(LinkError::Short {
                link: "Linux SLL2",
                need: SLL2_LEN,
                have: data.len(),
            })?;
            let proto = u16::from_be_bytes([hdr[0], hdr[1]]);
            Ok(LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                &data[SLL2_LEN..],
            ))
        }
        LinkType::Null | LinkType::Loop => {
            // The address family is in the writer's byte order for NULL and big-endian for
            // LOOP; rather than guess the writer, let the IP version nibble decide.
            let body = data.get(NULL_LEN..).ok_or(LinkError::Short {
                link: "loopback",
                need: NULL_LEN,
                have: data.len(),
            })?;
            LaxSlicedPacket::from_ip(body).map_err(|_| LinkError::NotIp)
        }
        LinkType::Other(n) => Err(LinkError::Unsupported(n)),
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

    fn udp_of(p: &LaxSlicedPacket) -> (u16, Vec<u8>) {
        match &p.transport {
            Some(etherparse::TransportSlice::Udp(u)) => {
                (u.destination_port(), u.payload().to_vec())
            }
            other => panic!("no udp: {other:?}"),
        }
    }

    #[test]
    fn every_link_type_reaches_udp() {
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
        for (lt, d) in [
            (LinkType::Raw, &ip),
            (LinkType::LinuxSll, &sll),
            (LinkType::LinuxSll2, &sll2),
            (LinkType::Null, &null),
            (LinkType::Loop, &lo),
            (LinkType::Ethernet, &eth_vlan),
        ] {
            let p = slice(lt, d).unwrap();
            assert_eq!(udp_of(&p), (50000, b"hi".to_vec()), "{lt:?}");
        }
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
    }
}
