//! The parsing limit for `scripts/bench`: iterate a capture with pcap-parser + etherparse and
//! touch every transport payload, nothing else. Prints `packets bytes seconds` on stdout.
//!
//! `djdissect read` is measured against this: the same container parsing and slicing with no
//! dissection, session tracking or output.

use std::fs::File;
use std::io::Read;
use std::time::Instant;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

fn touch(link: u32, data: &[u8], sum: &mut u64) {
    let sliced = match link {
        1 => etherparse::LaxSlicedPacket::from_ethernet(data).ok(),
        101 | 228 | 229 => etherparse::LaxSlicedPacket::from_ip(data).ok(),
        _ => None,
    };
    if let Some(p) = sliced {
        let payload: &[u8] = match &p.transport {
            Some(etherparse::TransportSlice::Udp(u)) => u.payload(),
            Some(etherparse::TransportSlice::Tcp(t)) => t.payload(),
            _ => &[],
        };
        // Touch every byte so the payload is really read.
        *sum = sum.wrapping_add(payload.iter().map(|&b| b as u64).sum::<u64>());
    }
}

fn run<R: PcapReaderIterator>(mut r: R, ng: bool) -> (u64, u64) {
    let (mut packets, mut sum) = (0u64, 0u64);
    let mut links: Vec<u32> = Vec::new();
    let mut legacy_link = 1u32;
    loop {
        match r.next() {
            Ok((off, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => legacy_link = h.network.0 as u32,
                    PcapBlockOwned::Legacy(b) => {
                        packets += 1;
                        touch(legacy_link, b.data, &mut sum);
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => links.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(i)) => {
                        links.push(i.linktype.0 as u32)
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(e)) => {
                        packets += 1;
                        touch(
                            links.get(e.if_id as usize).copied().unwrap_or(0),
                            e.packet_data(),
                            &mut sum,
                        );
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(s)) => {
                        packets += 1;
                        touch(
                            links.first().copied().unwrap_or(0),
                            s.packet_data(),
                            &mut sum,
                        );
                    }
                    _ => {}
                }
                r.consume(off);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if r.refill().is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = ng;
    (packets, sum)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: djdissect-limit FILE");
        std::process::exit(2);
    };
    let mut f = File::open(&path).unwrap_or_else(|e| {
        eprintln!("djdissect-limit: {path}: {e}");
        std::process::exit(2)
    });
    let bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut magic = [0u8; 4];
    let _ = f.read_exact(&mut magic);
    drop(f);
    let f = std::io::BufReader::with_capacity(1 << 16, File::open(&path).unwrap());
    let start = Instant::now();
    let (packets, sum) = if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        run(PcapNGReader::new(1 << 20, f).expect("pcapng"), true)
    } else {
        run(LegacyPcapReader::new(1 << 20, f).expect("pcap"), false)
    };
    let secs = start.elapsed().as_secs_f64();
    eprintln!("checksum {sum}");
    println!("{packets} {bytes} {secs:.6}");
}
