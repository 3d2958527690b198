//! The "real mix" of `scripts/bench` (issue 11, "Speed on real DJ traffic"): the DJ-protocol
//! frames of real captures, repeated with increasing timestamps. Used by
//! `examples/real_mix.rs` (which writes the benchmark file from `../shared/captures`) and by
//! `tests/resource_limits.rs` (the session's bounds on a long input, from the project's own
//! captures).
//!
//! Which frames are DJ protocol: UDP to or from a Pro DJ Link port (50000-50002) or the
//! StageLinQ discovery port (51337), and every TCP segment (in the shared captures TCP carries
//! only the dbserver, its port query and StageLinQ services). The rest (NFS, DHCP, mDNS, ARP,
//! IP fragments of NFS replies) is left out: the synthetic mix measures skipping it.
//!
//! Repeating a TCP connection with the same ports would look to reassembly like a second SYN
//! or old sequence numbers on a live flow (garbage); so each repetition of a connection gets a
//! client port of its own (a counter over 1024-65535, never reused within 64,512 connections)
//! and its TCP checksum is adjusted for the new port (RFC 1624 eqn. 3). The server side (the
//! dbserver's 1051, the port query's 12523, a StageLinQ service port the directory announced)
//! keeps its port, so announcements inside the payloads stay true.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;

use djdissect::capture::writer::PcapNgWriter;
use djdissect::capture::{CaptureReader, LinkType};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// Ports whose UDP datagrams are DJ protocol (prodjlink.md 2, stagelinq.md 2).
const DJ_UDP_PORTS: [u16; 4] = [50000, 50001, 50002, 51337];
/// TCP ports that are always the server side (dbserver, its port query).
const SERVER_PORTS: [u16; 2] = [1051, 12523];
/// Capture time between the end of one capture and the start of the next.
const GAP_NS: i128 = 1_000_000_000;

/// One TCP connection of a source capture: (client ip, client port, server ip, server port).
type Conn = (IpAddr, u16, IpAddr, u16);

/// A DJ-protocol frame of a source capture, ready to be written again.
pub struct Kept {
    /// Capture time relative to the capture's first frame.
    rel_ns: i128,
    link: LinkType,
    interface: u32,
    data: Vec<u8>,
    /// For a TCP segment: the byte offset of its client port field and the connection.
    tcp: Option<(usize, usize, Conn)>,
}

pub struct Source {
    pub frames: Vec<Kept>,
    span_ns: i128,
}

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// Which side of a TCP segment is the client: the one that is not on a known server port; for
/// others (StageLinQ services) the side that sent the connection's first SYN, else the higher
/// port.
fn client_is_source(
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    syn: bool,
    ack: bool,
    servers: &mut HashMap<(IpAddr, u16, IpAddr, u16), bool>,
) -> bool {
    if SERVER_PORTS.contains(&dst.1) {
        return true;
    }
    if SERVER_PORTS.contains(&src.1) {
        return false;
    }
    let key = if (src.0, src.1) < (dst.0, dst.1) {
        (src.0, src.1, dst.0, dst.1)
    } else {
        (dst.0, dst.1, src.0, src.1)
    };
    // `true` in the map: the lower (address, port) side is the client.
    let lower_is_client = *servers.entry(key).or_insert_with(|| {
        if syn && !ack {
            (src.0, src.1) < (dst.0, dst.1)
        } else {
            // No SYN seen: the higher port is the ephemeral one.
            let src_is_client = src.1 > dst.1;
            src_is_client == ((src.0, src.1) < (dst.0, dst.1))
        }
    });
    lower_is_client == ((src.0, src.1) < (dst.0, dst.1))
}

/// The DJ-protocol frames of one capture.
pub fn read_source(mut reader: CaptureReader) -> Result<Source, Box<dyn std::error::Error>> {
    let mut frames = Vec::new();
    let mut first: Option<i128> = None;
    let mut last = 0;
    let mut servers = HashMap::new();
    while let Some(f) = reader.next_frame()? {
        let sliced = match f.link_type {
            LinkType::Ethernet => SlicedPacket::from_ethernet(f.data),
            _ => SlicedPacket::from_ip(f.data),
        };
        let Ok(p) = sliced else { continue };
        let (src_ip, dst_ip) = match &p.net {
            Some(NetSlice::Ipv4(ip)) => (
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
            ),
            _ => continue,
        };
        let tcp = match &p.transport {
            Some(TransportSlice::Udp(u))
                if DJ_UDP_PORTS.contains(&u.source_port())
                    || DJ_UDP_PORTS.contains(&u.destination_port()) =>
            {
                None
            }
            Some(TransportSlice::Tcp(t)) => {
                let src = (src_ip, t.source_port());
                let dst = (dst_ip, t.destination_port());
                let at = offset_in(f.data, t.slice());
                let client_src = client_is_source(src, dst, t.syn(), t.ack(), &mut servers);
                let (port_at, conn) = if client_src {
                    (at, (src.0, src.1, dst.0, dst.1))
                } else {
                    (at + 2, (dst.0, dst.1, src.0, src.1))
                };
                Some((port_at, at + 16, conn))
            }
            _ => continue,
        };
        let start = *first.get_or_insert(f.ts_ns);
        last = last.max(f.ts_ns - start);
        frames.push(Kept {
            rel_ns: f.ts_ns - start,
            link: f.link_type,
            interface: f.interface,
            data: f.data.to_vec(),
            tcp,
        });
    }
    Ok(Source {
        frames,
        span_ns: last,
    })
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changed.
pub fn adjust_checksum(sum: u16, old: u16, new: u16) -> u16 {
    let mut s = (!sum as u32) + (!old as u32 & 0xffff) + new as u32;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Plays the sources one after the other, again and again: each round's frames with rising
/// timestamps and fresh client ports.
pub struct Mixer<'a> {
    sources: &'a [Source],
    next_port: u32,
    /// Capture time where the next source starts.
    t0: i128,
    /// Rounds begun.
    pub rounds: u64,
}

impl<'a> Mixer<'a> {
    pub fn new(sources: &'a [Source]) -> Self {
        assert!(
            sources.iter().any(|s| !s.frames.is_empty()),
            "no DJ-protocol frames"
        );
        Mixer {
            sources,
            next_port: 0,
            // 2026-01-01T00:00:00Z
            t0: 1_767_225_600_000_000_000,
            rounds: 0,
        }
    }

    /// One round: `each(link, source interface, ts_ns, frame)` for every frame, until it
    /// returns false (then false).
    pub fn round<E>(
        &mut self,
        mut each: impl FnMut(LinkType, u32, i128, &[u8]) -> Result<bool, E>,
    ) -> Result<bool, E> {
        self.rounds += 1;
        let mut data = Vec::new();
        for s in self.sources {
            let mut ports: HashMap<Conn, u16> = HashMap::new();
            for k in &s.frames {
                data.clear();
                data.extend_from_slice(&k.data);
                if let Some((port_at, sum_at, conn)) = k.tcp {
                    let next_port = &mut self.next_port;
                    let port = *ports.entry(conn).or_insert_with(|| {
                        let p = 1024 + (*next_port % (65536 - 1024)) as u16;
                        *next_port += 1;
                        p
                    });
                    let old = u16::from_be_bytes([data[port_at], data[port_at + 1]]);
                    data[port_at..port_at + 2].copy_from_slice(&port.to_be_bytes());
                    if let Some(b) = data.get(sum_at..sum_at + 2) {
                        let sum = adjust_checksum(u16::from_be_bytes([b[0], b[1]]), old, port);
                        data[sum_at..sum_at + 2].copy_from_slice(&sum.to_be_bytes());
                    }
                }
                if !each(k.link, k.interface, self.t0 + k.rel_ns, &data)? {
                    return Ok(false);
                }
            }
            self.t0 += s.span_ns + GAP_NS;
        }
        Ok(true)
    }
}

/// Write the sources, one after the other and again, as one pcapng capture of exactly `want`
/// frames; returns the writer's output and the rounds begun.
pub fn write<W: Write>(
    sources: &[Source],
    out: W,
    want: u64,
) -> Result<(W, u64), Box<dyn std::error::Error>> {
    let mut w = PcapNgWriter::new(out, "djdissect real_mix")?;
    let mut interfaces: HashMap<(u32, u32), u32> = HashMap::new();
    let mut mixer = Mixer::new(sources);
    let mut written = 0u64;
    while written < want {
        mixer.round(|link, interface, ts_ns, data| {
            let key = (link.number(), interface);
            let iface = match interfaces.get(&key) {
                Some(&i) => i,
                None => {
                    let i = w.add_interface(link, &format!("mix{}", interfaces.len()), 9)?;
                    interfaces.insert(key, i);
                    i
                }
            };
            w.write_packet(iface, ts_ns, data)?;
            written += 1;
            Ok::<_, std::io::Error>(written < want)
        })?;
    }
    Ok((w.into_inner()?, mixer.rounds))
}

#[cfg(test)]
mod tests {
    use super::adjust_checksum;

    /// The incremental update gives the checksum computed from scratch.
    #[test]
    fn checksum_adjusts_like_a_full_sum() {
        let full = |words: &[u16]| {
            let mut s: u32 = words.iter().map(|&w| w as u32).sum();
            while s > 0xffff {
                s = (s & 0xffff) + (s >> 16);
            }
            !(s as u16)
        };
        let words = [0x4500u16, 0xc0a8, 0x0101, 0xbeef, 0x041b, 0xffff, 0x0001];
        let before = full(&words);
        for new in [0u16, 1, 0x041b, 0xfffe, 0xffff, 49152] {
            let old = words[3];
            let mut changed = words;
            changed[3] = new;
            assert_eq!(adjust_checksum(before, old, new), full(&changed), "{new}");
        }
    }
}
