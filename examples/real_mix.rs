//! Write the "real mix" that `scripts/bench` measures (issue 11, "Speed on real DJ traffic"):
//! the DJ-protocol frames of every capture in a directory (by default `../shared/captures`,
//! real hardware), repeated with increasing timestamps until at least N frames are written.
//!
//! ```sh
//! cargo run --release --example real_mix -- ../shared/captures /tmp/real-mix.pcapng 3000000
//! ```
//!
//! Which frames are DJ protocol: UDP to or from a Pro DJ Link port (50000-50002) or the
//! StageLinQ discovery port (51337), and every TCP segment (in these captures TCP carries only
//! the dbserver, its port query and StageLinQ services). The rest (NFS, DHCP, mDNS, ARP, IP
//! fragments of NFS replies) is left out: the synthetic mix measures skipping it.
//!
//! Repeating a TCP connection with the same ports would look to reassembly like a second SYN
//! or old sequence numbers on a live flow (garbage); so each repetition of a connection gets a
//! client port of its own (a counter over 1024-65535, never reused within 64,512 connections)
//! and its TCP checksum is adjusted for the new port (RFC 1624 eqn. 3). The server side (the
//! dbserver's 1051, the port query's 12523, a StageLinQ service port the directory announced)
//! keeps its port, so announcements inside the payloads stay true.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

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
struct Kept {
    /// Capture time relative to the capture's first frame.
    rel_ns: i128,
    link: LinkType,
    interface: u32,
    data: Vec<u8>,
    /// For a TCP segment: the byte offset of its client port field and the connection.
    tcp: Option<(usize, usize, Conn)>,
}

struct Source {
    frames: Vec<Kept>,
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

fn read_source(path: &Path) -> Result<Source, Box<dyn std::error::Error>> {
    let mut reader = CaptureReader::open(path)?;
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
fn adjust_checksum(sum: u16, old: u16, new: u16) -> u16 {
    let mut s = (!sum as u32) + (!old as u32 & 0xffff) + new as u32;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "../shared/captures".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "real-mix.pcapng".into()));
    let want: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 3_000_000,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for p in &paths {
        let s = read_source(p).map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("{}: {} DJ-protocol frames", p.display(), s.frames.len());
        if !s.frames.is_empty() {
            sources.push(s);
        }
    }
    if sources.is_empty() {
        return Err(format!("no DJ-protocol frames in {}", dir.display()).into());
    }

    let mut w = PcapNgWriter::new(
        BufWriter::with_capacity(1 << 20, File::create(&out)?),
        "djdissect real_mix",
    )?;
    let mut interfaces: HashMap<(u32, u32), u32> = HashMap::new();
    let mut next_port: u32 = 0;
    // 2026-01-01T00:00:00Z
    let mut t0: i128 = 1_767_225_600_000_000_000;
    let mut written = 0u64;
    let mut rounds = 0u64;
    'outer: loop {
        rounds += 1;
        for s in &sources {
            let mut ports: HashMap<Conn, u16> = HashMap::new();
            for k in &s.frames {
                let key = (k.link.number(), k.interface);
                let iface = match interfaces.get(&key) {
                    Some(&i) => i,
                    None => {
                        let name = format!("mix{}", interfaces.len());
                        let i = w.add_interface(k.link, &name, 9)?;
                        interfaces.insert(key, i);
                        i
                    }
                };
                let mut data = k.data.clone();
                if let Some((port_at, sum_at, conn)) = k.tcp {
                    let port = *ports.entry(conn).or_insert_with(|| {
                        let p = 1024 + (next_port % (65536 - 1024)) as u16;
                        next_port += 1;
                        p
                    });
                    let old = u16::from_be_bytes([data[port_at], data[port_at + 1]]);
                    data[port_at..port_at + 2].copy_from_slice(&port.to_be_bytes());
                    if let Some(b) = data.get(sum_at..sum_at + 2) {
                        let sum = u16::from_be_bytes([b[0], b[1]]);
                        let sum = adjust_checksum(sum, old, port);
                        data[sum_at..sum_at + 2].copy_from_slice(&sum.to_be_bytes());
                    }
                }
                w.write_packet(iface, t0 + k.rel_ns, &data)?;
                written += 1;
                if written >= want {
                    break 'outer;
                }
            }
            t0 += s.span_ns + GAP_NS;
        }
    }
    w.into_inner()?;
    eprintln!(
        "{}: {written} frames, {rounds} rounds of {} captures",
        out.display(),
        sources.len()
    );
    Ok(())
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
