//! The protocol stage: everything after the network layer. UDP datagrams are classified by
//! port and content, TCP segments go through reassembly to the per-connection decoders, and
//! frames that carry nothing for the decoders are counted by what they were.

use std::borrow::Cow;
use std::ops::ControlFlow;

use super::{tcp, EngineOptions, ReadStats, Sink};
use crate::capture::Frame;
use crate::dissect::{Depth, Dissection};
use crate::net::defrag::DefragStats;
use crate::net::{Skip, Transport};
use crate::record::Record;
use crate::{prodjlink, stagelinq};

/// What the protocol stage needs to know about the frame a transport came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStamp {
    /// 1-based frame number in the capture.
    pub number: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i128,
    /// Interface index (pcapng); 0 for classic pcap.
    pub interface: u32,
}

impl FrameStamp {
    pub fn of(frame: &Frame<'_>) -> FrameStamp {
        FrameStamp {
            number: frame.number,
            ts_ns: frame.ts_ns,
            interface: frame.interface,
        }
    }
}

pub(super) struct ProtocolStage {
    opts: EngineOptions,
    tcp: tcp::TcpStreams,
    pub(super) stats: ReadStats,
}

impl ProtocolStage {
    pub(super) fn new(opts: EngineOptions) -> Self {
        ProtocolStage {
            tcp: tcp::TcpStreams::new(opts.tcp.clone(), opts.depth),
            opts,
            stats: ReadStats::default(),
        }
    }

    pub(super) fn depth(&self) -> Depth {
        self.opts.depth
    }

    /// One frame, as the network stage left it: its transport content or why it has none.
    /// `datagram` is its dissection when [`dissect_datagram`] made it already; it is handed back
    /// there after use, so that whoever made it also frees it.
    pub(super) fn frame(
        &mut self,
        at: &FrameStamp,
        transport: Result<Transport<'_>, &Skip>,
        datagram: &mut Option<Dissection>,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        self.stats.frames += 1;
        match transport {
            Ok(Transport::Udp {
                src,
                dst,
                payload,
                truncated,
            }) => self.udp(at, src, dst, payload, truncated, datagram, sink),
            Ok(Transport::Tcp(seg)) => self.tcp.segment(&seg, &mut self.stats, sink),
            Err(skip) => {
                self.stats.skip(skip_name(skip));
                ControlFlow::Continue(())
            }
        }
    }

    /// End of input: flush what the reassembler still holds; `defrag` is what the network
    /// stage's fragment reassembly did.
    pub(super) fn finish(&mut self, defrag: DefragStats, sink: &mut Sink<'_>) -> ControlFlow<()> {
        self.stats.defrag = defrag;
        let flow = self.tcp.finish(&mut self.stats, sink);
        self.stats.tcp = self.tcp.reassembly_stats();
        flow
    }

    // The datagram's addresses and flags as the network stage gave them, plus the record's
    // context: grouping them would only move the same list into a struct.
    #[allow(clippy::too_many_arguments)]
    fn udp(
        &mut self,
        at: &FrameStamp,
        src: std::net::SocketAddr,
        dst: std::net::SocketAddr,
        payload: &[u8],
        truncated: bool,
        datagram: &mut Option<Dissection>,
        sink: &mut Sink<'_>,
    ) -> ControlFlow<()> {
        let dport = dst.port();
        let depth = self.opts.depth;
        let made = datagram.is_some();
        let mut dissection = if let Some(d) = datagram.take() {
            d
        } else if let Some(d) = prodjlink_datagram(dport, payload, depth) {
            d
        } else if let Some((d, msg)) = stagelinq::dissect_datagram(payload, depth) {
            // Discovery names the directory port that StageLinQ TCP connections will use.
            if let Some(m) = &msg {
                self.tcp.learn_stagelinq(src.ip(), m);
            }
            d
        } else {
            let service = match udp_service(dport) {
                "" => udp_service(src.port()),
                s => s,
            };
            self.stats.skip(if service.is_empty() {
                "other UDP"
            } else {
                service
            });
            return ControlFlow::Continue(());
        };
        if truncated {
            dissection.set_malformed(
                "datagram cut short by the capture (snap length) or a lying UDP length",
            );
        }
        let record = Record {
            frame: at.number,
            ts_ns: at.ts_ns,
            src,
            dst,
            interface: at.interface,
            port: dport,
            bytes: payload,
            dissection,
            extra: Vec::new(),
        };
        self.stats.count(&record);
        let flow = sink(&record);
        if made {
            *datagram = Some(record.dissection);
        }
        flow
    }
}

/// The dissection of a Pro DJ Link datagram, which depends on the datagram alone; None for
/// anything else.
fn prodjlink_datagram(dport: u16, payload: &[u8], depth: Depth) -> Option<Dissection> {
    (prodjlink::PORTS.contains(&dport) && prodjlink::has_magic(payload))
        .then(|| prodjlink::dissect(dport, payload, depth))
}

/// [`prodjlink_datagram`] for what the network stage yielded (the pipelined run makes it on the
/// reader thread).
pub(super) fn dissect_datagram(t: &Transport<'_>, depth: Depth) -> Option<Dissection> {
    match t {
        Transport::Udp { dst, payload, .. } => prodjlink_datagram(dst.port(), payload, depth),
        Transport::Tcp(_) => None,
    }
}

/// How a skipped frame is named in the statistics line.
fn skip_name(skip: &Skip) -> Cow<'static, str> {
    match skip {
        Skip::Link(e) => Cow::Owned(e.to_string()),
        Skip::NotIp => "non-IP (ARP...)".into(),
        Skip::OtherTransport(1) => "ICMP".into(),
        Skip::OtherTransport(2) => "IGMP".into(),
        Skip::OtherTransport(58) => "ICMPv6".into(),
        Skip::FragmentHeld => "IP fragment".into(),
        Skip::FragmentIgnored => "IP fragment (NFS and other non-DJ)".into(),
        Skip::Ipv6Fragment => "IPv6 fragment (not reassembled)".into(),
        Skip::Truncated => "truncated IP/transport header".into(),
        other => Cow::Owned(other.to_string()),
    }
}

/// Fragmented UDP is reassembled when it could be DJ protocol: Pro DJ Link ports, StageLinQ
/// discovery, and anything that is not a well-known other service (NFS, portmap...).
pub(super) fn udp_worth_reassembling(src: u16, dst: u16) -> bool {
    let dj = |p: u16| (50000..=50004).contains(&p) || p == 51337;
    dj(src) || dj(dst) || (udp_service(src).is_empty() && udp_service(dst).is_empty())
}

/// Well-known UDP services seen on DJ networks, named in the statistics line.
fn udp_service(port: u16) -> &'static str {
    match port {
        53 => "DNS (UDP)",
        67 | 68 => "DHCP (UDP)",
        111 => "portmap (UDP)",
        123 => "NTP (UDP)",
        137 | 138 => "NetBIOS (UDP)",
        1900 => "SSDP (UDP)",
        2049 => "NFS (UDP)",
        5353 => "mDNS (UDP)",
        5355 => "LLMNR (UDP)",
        _ => "",
    }
}
