//! The dissection engine: frames in, [`Record`]s out.
//!
//! One engine serves `read` (files) and `live` (interfaces): it owns the network decoder
//! (fragments), the TCP reassembler and the per-connection protocol decoders, classifies UDP by
//! destination port and TCP by what the conversation itself announces, and counts what it skips.

mod dbserver_stream;
mod stats;
mod tcp;

use std::borrow::Cow;
use std::ops::ControlFlow;

pub use stats::ReadStats;

use crate::capture::Frame;
use crate::dissect::Depth;
use crate::net::defrag::DefragLimits;
use crate::net::{NetDecoder, Skip, Transport};
use crate::record::Record;
use crate::{prodjlink, stagelinq};

/// What the engine should do beyond decoding.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// How much of each message to dissect: the head only, fields, or fields with meanings and
    /// unknown ranges (detail views).
    pub depth: Depth,
    pub defrag: DefragLimits,
    pub tcp: crate::net::tcp_reassembly::Limits,
}

/// Receives each record; `Break` stops the engine (e.g. `-c N` reached, or a closed pipe).
pub type Sink<'s> = dyn FnMut(&Record<'_>) -> ControlFlow<()> + 's;

pub struct Engine {
    opts: EngineOptions,
    net: NetDecoder,
    tcp: tcp::TcpStreams,
    stats: ReadStats,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            net: NetDecoder::new(opts.defrag).with_udp_filter(udp_worth_reassembling),
            tcp: tcp::TcpStreams::new(opts.tcp.clone(), opts.depth),
            opts,
            stats: ReadStats::default(),
        }
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Decode one frame, handing every record it yields to `sink`.
    pub fn frame(&mut self, frame: &Frame<'_>, sink: &mut Sink<'_>) -> ControlFlow<()> {
        self.stats.frames += 1;
        let Engine {
            opts,
            net,
            tcp,
            stats,
        } = self;
        let result = net.decode(frame, |t| match t {
            Transport::Udp {
                src,
                dst,
                payload,
                truncated,
            } => udp(opts, tcp, stats, frame, src, dst, payload, truncated, sink),
            Transport::Tcp(seg) => tcp.segment(&seg, stats, sink),
        });
        match result {
            Ok(flow) => flow,
            Err(skip) => {
                stats.skip(match skip {
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
                });
                ControlFlow::Continue(())
            }
        }
    }

    /// End of input: flush what the reassembler still holds, drop partial fragments (counted).
    pub fn finish(&mut self, sink: &mut Sink<'_>) -> ControlFlow<()> {
        self.net.finish();
        self.stats.defrag = self.net.defrag_stats();
        let flow = self.tcp.finish(&mut self.stats, sink);
        self.stats.tcp = self.tcp.reassembly_stats();
        flow
    }
}

/// Fragmented UDP is reassembled when it could be DJ protocol: Pro DJ Link ports, StageLinQ
/// discovery, and anything that is not a well-known other service (NFS, portmap...).
fn udp_worth_reassembling(src: u16, dst: u16) -> bool {
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

#[allow(clippy::too_many_arguments)]
fn udp(
    opts: &EngineOptions,
    tcp: &mut tcp::TcpStreams,
    stats: &mut ReadStats,
    frame: &Frame<'_>,
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    payload: &[u8],
    truncated: bool,
    sink: &mut Sink<'_>,
) -> ControlFlow<()> {
    let dport = dst.port();
    let mut dissection = if prodjlink::PORTS.contains(&dport) && prodjlink::has_magic(payload) {
        prodjlink::dissect(dport, payload, opts.depth)
    } else if let Some((d, msg)) = stagelinq::dissect_datagram(payload, opts.depth) {
        // Discovery names the directory port that StageLinQ TCP connections will use.
        if let Some(m) = &msg {
            tcp.learn_stagelinq(src.ip(), m);
        }
        d
    } else {
        let service = match udp_service(dport) {
            "" => udp_service(src.port()),
            s => s,
        };
        stats.skip(if service.is_empty() {
            "other UDP"
        } else {
            service
        });
        return ControlFlow::Continue(());
    };
    if truncated {
        dissection
            .set_malformed("datagram cut short by the capture (snap length) or a lying UDP length");
    }
    let record = Record {
        frame: frame.number,
        ts_ns: frame.ts_ns,
        src,
        dst,
        interface: frame.interface,
        port: dport,
        bytes: payload,
        dissection,
        extra: Vec::new(),
    };
    stats.count(&record);
    sink(&record)
}
