//! The output side of the synthesiser: a clock-ordered queue of frames written to a pcapng
//! file, a scheduler of timed work, and a seeded random source for jitter.
//!
//! Scenario code runs timers in time order and may queue frames for any time at or after the
//! timer it is running (a TCP exchange spans several milliseconds). [`Wire::flush_through`]
//! writes every queued frame up to the next timer's time, so the file is always in time order.
//! Frame buffers are recycled, so a long run allocates nothing per packet once warm.

use std::cell::Cell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::rc::Rc;

use crate::capture::writer::PcapNgWriter;
use crate::capture::LinkType;

/// Counts the bytes that reach the underlying writer (the output file's size).
struct Counted<W: Write> {
    inner: W,
    written: Rc<Cell<u64>>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.set(self.written.get() + n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A queued frame: ordered by time, then by the order it was queued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    ts_ns: i128,
    seq: u64,
    buf: usize,
    /// The frame is an unfragmented IPv4 datagram whose identification is given when written,
    /// so each host's identifications count up in the order its frames appear.
    number_ip: bool,
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ts_ns, self.seq).cmp(&(other.ts_ns, other.seq))
    }
}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Frames on their way into a pcapng file (one Ethernet interface, nanosecond timestamps).
pub struct Wire<W: Write> {
    out: PcapNgWriter<Counted<W>>,
    iface: u32,
    queue: BinaryHeap<Reverse<Queued>>,
    bufs: Vec<Vec<u8>>,
    free: Vec<usize>,
    seq: u64,
    /// Next IPv4 identification per source address.
    ip_ids: Vec<([u8; 4], u16)>,
    frames: u64,
    written: Rc<Cell<u64>>,
    last_ts: i128,
}

/// Ethernet II + IPv4 offsets used when numbering datagrams at write time.
const ETHERTYPE: std::ops::Range<usize> = 12..14;
const IP_START: usize = 14;
const IP_ID: std::ops::Range<usize> = 18..20;
const IP_CHECKSUM: std::ops::Range<usize> = 24..26;
const IP_SRC: std::ops::Range<usize> = 26..30;

impl<W: Write> Wire<W> {
    pub fn new(out: W, interface_name: &str) -> io::Result<Self> {
        let written = Rc::new(Cell::new(0));
        let counted = Counted {
            inner: out,
            written: written.clone(),
        };
        let mut out = PcapNgWriter::new(counted, "djdissect synth")?;
        let iface = out.add_interface(LinkType::Ethernet, interface_name, 9)?;
        Ok(Wire {
            out,
            iface,
            queue: BinaryHeap::new(),
            bufs: Vec::new(),
            free: Vec::new(),
            seq: 0,
            ip_ids: Vec::new(),
            frames: 0,
            written,
            last_ts: i128::MIN,
        })
    }

    /// An empty buffer for a frame sent at `ts_ns`; fill it before the next flush.
    /// `number_ip`: give the IPv4 header its identification when written.
    pub fn frame(&mut self, ts_ns: i128, number_ip: bool) -> &mut Vec<u8> {
        let buf = match self.free.pop() {
            Some(i) => i,
            None => {
                self.bufs.push(Vec::with_capacity(1600));
                self.bufs.len() - 1
            }
        };
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            ts_ns,
            seq: self.seq,
            buf,
            number_ip,
        }));
        let b = &mut self.bufs[buf];
        b.clear();
        b
    }

    /// Write every queued frame sent at or before `ts_ns`.
    pub fn flush_through(&mut self, ts_ns: i128) -> io::Result<()> {
        while let Some(Reverse(q)) = self.queue.peek().copied() {
            if q.ts_ns > ts_ns {
                break;
            }
            self.queue.pop();
            self.write(q)?;
        }
        Ok(())
    }

    fn write(&mut self, q: Queued) -> io::Result<()> {
        debug_assert!(q.ts_ns >= self.last_ts, "frames must leave in time order");
        self.last_ts = q.ts_ns;
        if q.number_ip {
            self.number_ip(q.buf);
        }
        self.out
            .write_packet(self.iface, q.ts_ns, &self.bufs[q.buf])?;
        self.frames += 1;
        self.free.push(q.buf);
        Ok(())
    }

    /// Give an IPv4 frame the next identification of its source and fix the header checksum.
    fn number_ip(&mut self, buf: usize) {
        let b = &mut self.bufs[buf];
        if b.len() < IP_START + 20 || b[ETHERTYPE] != [0x08, 0x00] {
            return;
        }
        let src: [u8; 4] = [b[26], b[27], b[28], b[29]];
        debug_assert_eq!(&b[IP_SRC], &src);
        let id = match self.ip_ids.iter_mut().find(|(ip, _)| *ip == src) {
            Some((_, id)) => {
                *id = id.wrapping_add(1);
                *id
            }
            None => {
                // Start each host somewhere of its own, as real stacks do.
                let start = u16::from_be_bytes([src[2], src[3]]).wrapping_mul(251);
                self.ip_ids.push((src, start));
                start
            }
        };
        b[IP_ID].copy_from_slice(&id.to_be_bytes());
        b[IP_CHECKSUM].copy_from_slice(&[0, 0]);
        let ihl = ((b[IP_START] & 0x0f) as usize * 4).max(20);
        let sum = ipv4_checksum(&b[IP_START..IP_START + ihl.min(b.len() - IP_START)]);
        b[IP_CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written to the output so far (the pcapng blocks of the frames written).
    pub fn bytes(&self) -> u64 {
        self.written.get()
    }

    /// Write what is still queued and flush; returns the output.
    pub fn finish(mut self) -> io::Result<(W, u64, u64)> {
        self.flush_through(i128::MAX)?;
        let frames = self.frames;
        let counted = self.out.into_inner()?;
        Ok((counted.inner, frames, counted.written.get()))
    }
}

/// The Internet checksum of an IPv4 header whose checksum field is zero.
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in header.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += word as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Timed work of type `T`, popped in time order (ties in the order they were scheduled).
pub struct Sched<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    seq: u64,
}

struct Entry<T> {
    ts_ns: i128,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.ts_ns, self.seq) == (other.ts_ns, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ts_ns, self.seq).cmp(&(other.ts_ns, other.seq))
    }
}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Default for Sched<T> {
    fn default() -> Self {
        Sched {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<T> Sched<T> {
    pub fn at(&mut self, ts_ns: i128, item: T) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            ts_ns,
            seq: self.seq,
            item,
        }));
    }

    pub fn pop(&mut self) -> Option<(i128, T)> {
        self.heap.pop().map(|Reverse(e)| (e.ts_ns, e.item))
    }

    pub fn peek_time(&self) -> Option<i128> {
        self.heap.peek().map(|Reverse(e)| e.ts_ns)
    }
}

/// SplitMix64: a tiny, seeded, platform-independent generator for jitter and choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `-max..=max` nanoseconds.
    pub fn jitter(&mut self, max_ns: i128) -> i128 {
        if max_ns <= 0 {
            return 0;
        }
        self.below((2 * max_ns + 1) as u64) as i128 - max_ns
    }
}

pub const MS: i128 = 1_000_000;
pub const US: i128 = 1_000;
pub const SEC: i128 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_header() {
        // RFC 1071 style example: a real IPv4 header with its checksum zeroed.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_checksum(&h), 0xb861);
    }

    #[test]
    fn sched_pops_in_time_then_insertion_order() {
        let mut s = Sched::default();
        s.at(5, 'a');
        s.at(1, 'b');
        s.at(5, 'c');
        s.at(1, 'd');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, c)| c)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    #[test]
    fn rng_is_seeded_and_bounded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let j = a.jitter(3);
            assert_eq!(j, b.jitter(3));
            assert!((-3..=3).contains(&j));
        }
    }
}
