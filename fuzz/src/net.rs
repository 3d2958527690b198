//! The link and IP layers: arbitrary frames of every link type through `NetDecoder`, and
//! IPv4 fragment trains (as frames, and straight into the `Defragmenter` against a model).

use std::net::Ipv4Addr;

use djdissect::capture::{Frame, LinkType};
use djdissect::net::defrag::{DefragLimits, Defragmenter};
use djdissect::net::{NetDecoder, Transport};

use super::common::Bytes;

const LINKS: [LinkType; 9] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Other(147),
];

/// Largest IPv4 payload.
const MAX_PAYLOAD: usize = 65515;

/// The byte every fragment of datagram `id` carries at payload position `pos`: reassembly
/// must put each byte back where it came from, whichever copy of it won.
fn model_byte(id: u16, pos: usize) -> u8 {
    (pos as u8) ^ (pos >> 8) as u8 ^ (id as u8).rotate_left(3)
}

pub fn net_layer(data: &[u8]) {
    let mut b = Bytes::new(data);
    let limits = DefragLimits {
        max_datagrams: usize::from(b.u8() % 8) + 1,
        max_bytes: usize::from(b.u16()) * 4 + 64,
        timeout_ns: i128::from(b.u8()) * 1_000_000,
    };
    let mut net = NetDecoder::new(limits);
    let mut model = Defragmenter::new(limits);
    let mut ts: i128 = 0;
    let mut number = 0;
    let mut pushes = 0u64;
    while !b.is_empty() {
        ts += i128::from(b.u8()) * 100_000;
        number += 1;
        match b.u8() % 3 {
            0 => {
                let link = LINKS[usize::from(b.u8()) % LINKS.len()];
                let len = usize::from(b.u16() % 1600);
                let bytes = b.take(len).to_vec();
                decode(&mut net, link, &bytes, ts, number);
            }
            1 => {
                let f = Fragment::read(&mut b);
                pushes += 1;
                let payload: Vec<u8> = (f.offset..f.offset + f.len)
                    .map(|p| model_byte(f.id, p))
                    .collect();
                let whole = model.push(f.src(), f.dst(), 17, f.id, f.offset, f.more, &payload, ts);
                if let Some(whole) = whole {
                    assert!(whole.len() <= MAX_PAYLOAD);
                    for (p, &byte) in whole.iter().enumerate() {
                        assert_eq!(byte, model_byte(f.id, p), "reassembled byte {p}");
                    }
                }
                assert!(model.pending() <= limits.max_datagrams);
                let s = model.stats();
                assert_eq!(s.fragments, pushes);
            }
            _ => {
                let f = Fragment::read(&mut b);
                let frame = f.frame();
                decode(&mut net, LinkType::Ethernet, &frame, ts, number);
            }
        }
    }
    net.finish();
    model.finish();
    assert_eq!(model.pending(), 0);
}

fn decode(net: &mut NetDecoder, link: LinkType, bytes: &[u8], ts: i128, number: u64) {
    let frame = Frame {
        number,
        ts_ns: ts,
        link_type: link,
        interface: 0,
        orig_len: bytes.len() as u32,
        data: bytes,
    };
    let _ = net.decode(&frame, |t| {
        let payload = match t {
            Transport::Udp { payload, .. } => payload,
            Transport::Tcp(s) => s.payload,
        };
        // A payload is a slice of the frame or a reassembled datagram; neither can exceed
        // the largest IPv4 payload.
        assert!(payload.len() <= MAX_PAYLOAD);
    });
}

/// An IPv4 fragment described by the fuzzer.
struct Fragment {
    key: u8,
    id: u16,
    offset: usize,
    len: usize,
    more: bool,
}

impl Fragment {
    fn read(b: &mut Bytes<'_>) -> Fragment {
        let key = b.u8() % 4;
        Fragment {
            key,
            id: u16::from(b.u8() % 4),
            // Offsets count 8-byte units on the wire (13 bits).
            offset: usize::from(b.u16() & 0x1fff) * 8,
            len: usize::from(b.u16() % 1500),
            more: b.bool(),
        }
    }

    fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(169, 254, 0, self.key)
    }

    fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(169, 254, 0, 255)
    }

    /// Ethernet + IPv4 header (no options) + the payload bytes at this offset.
    fn frame(&self) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, self.key]);
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + self.len) as u16;
        let flags_offset = (u16::from(self.more) << 13) | ((self.offset / 8) as u16 & 0x1fff);
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&self.id.to_be_bytes());
        f.extend_from_slice(&flags_offset.to_be_bytes());
        f.extend_from_slice(&[64, 17, 0, 0]);
        f.extend_from_slice(&self.src().octets());
        f.extend_from_slice(&self.dst().octets());
        f.extend((self.offset..self.offset + self.len).map(|p| model_byte(self.id, p)));
        f
    }
}
