//! Link, IP and transport layers: slicing, IPv4 fragment reassembly and TCP stream reassembly.
//!
//! [`NetDecoder`] turns a captured frame into a [`Transport`] (a UDP datagram or a TCP segment),
//! reassembling IPv4 fragments on the way. It is shared by file reading and live capture.

pub mod defrag;
pub mod link;
pub mod tcp_reassembly;

use std::net::{IpAddr, SocketAddr};

use etherparse::{ether_type, ArpPacketSlice, IpNumber, LaxIpSlice, TcpSlice, UdpSlice};

use crate::capture::Frame;
use defrag::{DefragLimits, Defragmenter};
pub use link::{LinkError, LinkPayload};

/// A TCP segment, with the frame it was captured in: exactly what the reassembler takes.
pub use tcp_reassembly::Segment as TcpSegment;

/// The transport-layer content of a frame.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: &'a [u8],
        /// The capture cut the datagram short (snap length) or the UDP length field lied.
        truncated: bool,
    },
    Tcp(TcpSegment<'a>),
}

impl<'a> Transport<'a> {
    /// The datagram's or the segment's payload.
    pub fn payload(&self) -> &'a [u8] {
        match self {
            Transport::Udp { payload, .. } => payload,
            Transport::Tcp(seg) => seg.payload,
        }
    }

    /// The same headers over another payload: `with_payload(&[])` detaches the headers from
    /// the frame's buffer (to hand them to another thread with a copy of the payload), and
    /// `with_payload(copy)` puts them back together.
    pub fn with_payload<'b>(self, payload: &'b [u8]) -> Transport<'b> {
        match self {
            Transport::Udp {
                src,
                dst,
                truncated,
                ..
            } => Transport::Udp {
                src,
                dst,
                payload,
                truncated,
            },
            Transport::Tcp(seg) => Transport::Tcp(TcpSegment {
                src: seg.src,
                dst: seg.dst,
                seq: seg.seq,
                ack: seg.ack,
                syn: seg.syn,
                fin: seg.fin,
                rst: seg.rst,
                payload,
                frame: seg.frame,
                ts_ns: seg.ts_ns,
            }),
        }
    }
}

/// Why a frame carried nothing for the protocol decoders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Link(LinkError),
    /// ARP and other non-IP ethertypes.
    NotIp,
    /// ICMP, IGMP and anything that is neither UDP nor TCP.
    OtherTransport(u8),
    /// An IPv4 fragment held until its datagram is complete.
    FragmentHeld,
    /// An IPv4 fragment of a datagram that is not worth reassembling.
    FragmentIgnored,
    /// IPv6 fragments are not reassembled.
    Ipv6Fragment,
    /// The IP header or the transport header was cut short.
    Truncated,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Link(e) => write!(f, "{e}"),
            Skip::NotIp => f.write_str("not IP"),
            Skip::OtherTransport(p) => write!(f, "IP protocol {p}"),
            Skip::FragmentHeld => f.write_str("IP fragment"),
            Skip::FragmentIgnored => f.write_str("IP fragment (not DJ protocol)"),
            Skip::Ipv6Fragment => f.write_str("IPv6 fragment (not reassembled)"),
            Skip::Truncated => f.write_str("truncated IP/transport header"),
        }
    }
}

/// Frame -> transport, with IPv4 defragmentation.
#[derive(Debug, Default)]
pub struct NetDecoder {
    defrag: Defragmenter,
    /// Which UDP datagrams (by source and destination port) are worth reassembling; None: all.
    udp_wanted: Option<fn(u16, u16) -> bool>,
}

impl NetDecoder {
    pub fn new(limits: DefragLimits) -> Self {
        NetDecoder {
            defrag: Defragmenter::new(limits),
            udp_wanted: None,
        }
    }

    /// Only reassemble fragmented UDP datagrams whose ports `wanted` accepts (decided on the
    /// first fragment, which carries the UDP header). A DJ network's big fragmented traffic is
    /// NFS audio, which nothing here decodes.
    pub fn with_udp_filter(mut self, wanted: fn(u16, u16) -> bool) -> Self {
        self.udp_wanted = Some(wanted);
        self
    }

    pub fn defrag_stats(&self) -> defrag::DefragStats {
        self.defrag.stats()
    }

    /// End of input: drop (and count) what never completed.
    pub fn finish(&mut self) {
        self.defrag.finish();
    }

    /// Decode one frame and hand its transport content to `f`.
    pub fn decode<R>(
        &mut self,
        frame: &Frame<'_>,
        f: impl FnOnce(Transport<'_>) -> R,
    ) -> Result<R, Skip> {
        let (ip, _) = match link::slice(frame.link_type, frame.data).map_err(Skip::Link)? {
            LinkPayload::Ip(bytes) => {
                LaxIpSlice::from_slice(bytes).map_err(|_| Skip::Link(LinkError::NotIp))?
            }
            LinkPayload::Ether(ether_type::IPV4 | ether_type::IPV6, bytes) => {
                LaxIpSlice::from_slice(bytes).map_err(|_| Skip::Truncated)?
            }
            LinkPayload::Ether(ether_type::ARP, bytes) => {
                return Err(match ArpPacketSlice::from_slice(bytes) {
                    Ok(_) => Skip::NotIp,
                    Err(_) => Skip::Truncated,
                })
            }
            LinkPayload::Ether(..) | LinkPayload::Unreadable => return Err(Skip::NotIp),
            LinkPayload::ExtensionCutShort => return Err(Skip::Truncated),
        };
        let (src_ip, dst_ip, payload) = match &ip {
            LaxIpSlice::Ipv4(v4) => {
                let h = v4.header();
                let (s, d) = (h.source_addr(), h.destination_addr());
                let pl = v4.payload();
                if pl.fragmented {
                    let offset = h.fragments_offset().byte_offset() as usize;
                    if let (0, IpNumber::UDP, Some(wanted), Some(p)) =
                        (offset, pl.ip_number, self.udp_wanted, pl.payload.get(..4))
                    {
                        let sp = u16::from_be_bytes([p[0], p[1]]);
                        let dp = u16::from_be_bytes([p[2], p[3]]);
                        if !wanted(sp, dp) {
                            self.defrag
                                .ignore(s, d, 17, h.identification(), frame.ts_ns);
                            return Err(Skip::FragmentIgnored);
                        }
                    }
                    if self
                        .defrag
                        .is_ignored(s, d, pl.ip_number.0, h.identification())
                    {
                        self.defrag.push(
                            s,
                            d,
                            pl.ip_number.0,
                            h.identification(),
                            offset,
                            true,
                            &[],
                            frame.ts_ns,
                        );
                        return Err(Skip::FragmentIgnored);
                    }
                    let whole = self.defrag.push(
                        s,
                        d,
                        pl.ip_number.0,
                        h.identification(),
                        offset,
                        h.more_fragments(),
                        pl.payload,
                        frame.ts_ns,
                    );
                    return match whole {
                        Some(bytes) => transport_of(
                            frame,
                            IpAddr::V4(s),
                            IpAddr::V4(d),
                            pl.ip_number,
                            &bytes,
                            false,
                            f,
                        ),
                        None => Err(Skip::FragmentHeld),
                    };
                }
                (IpAddr::V4(s), IpAddr::V4(d), pl)
            }
            LaxIpSlice::Ipv6(v6) => {
                let h = v6.header();
                let pl = v6.payload();
                if pl.fragmented {
                    return Err(Skip::Ipv6Fragment);
                }
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    pl,
                )
            }
        };
        transport_of(
            frame,
            src_ip,
            dst_ip,
            payload.ip_number,
            payload.payload,
            payload.incomplete,
            f,
        )
    }
}

fn tcp_segment<'a>(
    src: IpAddr,
    dst: IpAddr,
    t: &TcpSlice<'a>,
    frame: &Frame<'_>,
) -> TcpSegment<'a> {
    TcpSegment::from_tcp(src, dst, t, frame.number, frame.ts_ns)
}

/// Slice UDP or TCP out of a whole IP payload (of the frame, or reassembled from fragments).
#[allow(clippy::too_many_arguments)]
fn transport_of<R>(
    frame: &Frame<'_>,
    src: IpAddr,
    dst: IpAddr,
    proto: IpNumber,
    bytes: &[u8],
    incomplete: bool,
    f: impl FnOnce(Transport<'_>) -> R,
) -> Result<R, Skip> {
    match proto {
        IpNumber::UDP => {
            let u = UdpSlice::from_slice_lax(bytes).map_err(|_| Skip::Truncated)?;
            let truncated = incomplete || u.payload().len() + 8 < u.length() as usize;
            Ok(f(Transport::Udp {
                src: SocketAddr::new(src, u.source_port()),
                dst: SocketAddr::new(dst, u.destination_port()),
                payload: u.payload(),
                truncated,
            }))
        }
        IpNumber::TCP => {
            let t = TcpSlice::from_slice(bytes).map_err(|_| Skip::Truncated)?;
            Ok(f(Transport::Tcp(tcp_segment(src, dst, &t, frame))))
        }
        p => Err(Skip::OtherTransport(p.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    fn decode(link_type: LinkType, data: &[u8]) -> Result<String, Skip> {
        let frame = Frame {
            number: 1,
            ts_ns: 0,
            link_type,
            interface: 0,
            orig_len: data.len() as u32,
            data,
        };
        NetDecoder::default().decode(&frame, |t| match t {
            Transport::Udp { dst, payload, .. } => format!("udp {dst} {payload:?}"),
            Transport::Tcp(s) => format!("tcp {} {:?}", s.dst, s.payload),
        })
    }

    fn ethernet(ether_type: [u8; 2], body: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(&ether_type);
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn what_each_kind_of_frame_becomes() {
        let mut ip = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000, 50000)
            .write(&mut ip, b"hi")
            .unwrap();
        let mut icmp = ip.clone();
        icmp[9] = 1;
        let vlans = |n: usize, body: &[u8]| {
            let mut tags = [0x81, 0x00, 0x00, 0x05].repeat(n);
            tags.extend_from_slice(&[0x08, 0x00]);
            tags.extend_from_slice(body);
            ethernet([0x81, 0x00], &tags[2..])
        };
        let arp = [0, 1, 8, 0, 6, 4, 0, 1];
        let cases: [(LinkType, Vec<u8>, Result<String, Skip>); 9] = [
            (
                LinkType::Ethernet,
                ethernet([0x08, 0x00], &ip),
                Ok("udp 10.0.0.2:50000 [104, 105]".into()),
            ),
            (
                LinkType::Ethernet,
                vlans(3, &ip),
                Ok("udp 10.0.0.2:50000 [104, 105]".into()),
            ),
            (LinkType::Ethernet, vlans(4, &ip), Err(Skip::NotIp)),
            (
                LinkType::Ethernet,
                vlans(2, &[])[..20].to_vec(),
                Err(Skip::Truncated),
            ),
            (
                LinkType::Ethernet,
                ethernet([0x08, 0x06], &[&arp[..], &[0; 20]].concat()),
                Err(Skip::NotIp),
            ),
            (
                LinkType::Ethernet,
                ethernet([0x08, 0x06], &arp[..5]),
                Err(Skip::Truncated),
            ),
            (
                LinkType::Ethernet,
                ethernet([0x08, 0x00], &ip[..12]),
                Err(Skip::Truncated),
            ),
            (LinkType::Raw, icmp, Err(Skip::OtherTransport(1))),
            (
                LinkType::Raw,
                vec![0x00; 30],
                Err(Skip::Link(LinkError::NotIp)),
            ),
        ];
        for (k, (lt, frame, want)) in cases.into_iter().enumerate() {
            assert_eq!(decode(lt, &frame), want, "case {k}");
        }
    }
}
