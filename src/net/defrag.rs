//! IPv4 fragment reassembly with bounded memory and timeouts.
//!
//! etherparse's defrag pool is documented as not OOM-safe, so this small one holds at most
//! `max_datagrams` partial datagrams and `max_bytes` of fragment data; whatever a limit or the
//! timeout throws away is counted in [`DefragStats`] so it can be reported.

// Looked up on every fragment: foldhash (seeded per process) instead of SipHash.
use foldhash::HashMap;
use std::net::Ipv4Addr;

/// Limits of the fragment buffer. Defaults fit any DJ network many times over.
#[derive(Debug, Clone, Copy)]
pub struct DefragLimits {
    pub max_datagrams: usize,
    pub max_bytes: usize,
    /// A partial datagram older than this (capture time) is dropped.
    pub timeout_ns: i128,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            max_datagrams: 1024,
            max_bytes: 8 << 20,
            timeout_ns: 30_000_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Partial datagrams thrown away (timeout, limits, end of input).
    pub dropped_datagrams: u64,
    pub dropped_bytes: u64,
    /// Of the dropped datagrams, those thrown away to respect `max_datagrams`, `max_bytes`
    /// or `MAX_PIECES` (the rest timed out or were incomplete at the end of input).
    pub dropped_by_limits: u64,
    /// Fragments that made no sense (beyond 64 KiB, data after the last fragment).
    pub bad_fragments: u64,
    /// Fragments of datagrams the caller said it does not want (e.g. NFS replies).
    pub ignored_fragments: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
}

#[derive(Debug)]
struct Partial {
    first_ts: i128,
    /// (byte offset, bytes), in arrival order: on overlap the first arrival wins.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Total payload length, known once the last fragment (MF clear) arrived.
    total: Option<usize>,
    bytes: usize,
}

/// Largest IPv4 payload: 65535 minus the minimal header.
const MAX_PAYLOAD: usize = 65515;
/// Fragments kept per datagram. A 64 KiB datagram in 1480-byte fragments has 45; a sender
/// cutting it into 8-byte pieces (or repeating fragments) would make every arrival re-check
/// thousands of pieces, so such a datagram is given up instead.
pub const MAX_PIECES: usize = 256;

#[derive(Debug, Default)]
pub struct Defragmenter {
    limits: DefragLimits,
    pending: HashMap<Key, Partial>,
    /// Datagrams not worth reassembling, with the time they were marked.
    ignored: HashMap<Key, i128>,
    /// Capture time of the last sweep for expired entries.
    last_sweep: i128,
    bytes: usize,
    stats: DefragStats,
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            limits,
            ..Default::default()
        }
    }

    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Partial datagrams currently held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Add one fragment (`offset` in bytes, `more` = the MF flag); returns the whole IP payload
    /// once every byte is there.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: u8,
        id: u16,
        offset: usize,
        more: bool,
        data: &[u8],
        ts_ns: i128,
    ) -> Option<Vec<u8>> {
        self.stats.fragments += 1;
        if !self.ignored.is_empty()
            && self.ignored.contains_key(&Key {
                src,
                dst,
                proto,
                id,
            })
        {
            self.stats.ignored_fragments += 1;
            return None;
        }
        // Sweeping is O(entries): once per second of capture time is plenty for a 30 s timeout.
        if ts_ns - self.last_sweep >= 1_000_000_000 || ts_ns < self.last_sweep {
            self.expire(ts_ns);
            self.last_sweep = ts_ns;
        }
        let end = offset.saturating_add(data.len());
        if end > MAX_PAYLOAD || (more && data.is_empty()) {
            self.stats.bad_fragments += 1;
            return None;
        }
        let key = Key {
            src,
            dst,
            proto,
            id,
        };
        if let Some(p) = self.pending.get(&key) {
            // A repeat of bytes already held adds nothing (the first copy wins anyway). The
            // last fragment is always looked at: it carries the datagram's length.
            if more && p.covers(offset, end) {
                return None;
            }
            if p.pieces.len() >= MAX_PIECES {
                // The datagram is counted as dropped once, with this fragment's bytes.
                self.drop_datagram(&key, true);
                self.stats.dropped_bytes += data.len() as u64;
                return None;
            }
        }
        // Room for the new bytes: evict the oldest partial datagrams (never the one this
        // fragment belongs to) while a limit would be passed.
        while self.pending.len() + usize::from(!self.pending.contains_key(&key))
            > self.limits.max_datagrams
            || self.bytes + data.len() > self.limits.max_bytes
        {
            if !self.evict_oldest(&key) {
                break;
            }
        }
        if self.bytes + data.len() > self.limits.max_bytes
            || self.pending.len() + usize::from(!self.pending.contains_key(&key))
                > self.limits.max_datagrams
        {
            // Not even room for this datagram alone: give it up (counted once).
            if self.pending.contains_key(&key) {
                self.drop_datagram(&key, true);
            } else {
                self.stats.dropped_datagrams += 1;
                self.stats.dropped_by_limits += 1;
            }
            self.stats.dropped_bytes += data.len() as u64;
            return None;
        }
        let p = self.pending.entry(key).or_insert_with(|| Partial {
            first_ts: ts_ns,
            pieces: Vec::new(),
            total: None,
            bytes: 0,
        });
        if !more {
            if p.total.is_some_and(|t| t != end) {
                self.stats.bad_fragments += 1;
                return None;
            }
            p.total = Some(end);
        }
        p.pieces.push((offset, data.to_vec()));
        p.bytes += data.len();
        self.bytes += data.len();
        let total = p.total?;
        // Complete when the pieces cover 0..total without a hole.
        let mut spans: Vec<(usize, usize)> =
            p.pieces.iter().map(|(o, d)| (*o, o + d.len())).collect();
        spans.sort_unstable();
        let mut covered = 0;
        for (s, e) in spans {
            if s > covered {
                return None;
            }
            covered = covered.max(e);
        }
        if covered < total {
            return None;
        }
        let p = self.pending.remove(&key)?;
        self.bytes -= p.bytes;
        // First arrival wins: copy the pieces latest first, so earlier ones overwrite them.
        let mut out = vec![0u8; total];
        for (o, d) in p.pieces.iter().rev() {
            let end = (o + d.len()).min(total);
            if *o < end {
                out[*o..end].copy_from_slice(&d[..end - o]);
            }
        }
        self.stats.reassembled += 1;
        Some(out)
    }

    /// True when fragments of this datagram are being ignored.
    pub fn is_ignored(&self, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16) -> bool {
        !self.ignored.is_empty()
            && self.ignored.contains_key(&Key {
                src,
                dst,
                proto,
                id,
            })
    }

    /// Stop collecting the datagram this fragment belongs to (its first fragment showed it is
    /// of no interest): what is buffered is freed and later fragments are only counted.
    pub fn ignore(&mut self, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, ts_ns: i128) {
        self.stats.fragments += 1;
        self.stats.ignored_fragments += 1;
        let key = Key {
            src,
            dst,
            proto,
            id,
        };
        if let Some(p) = self.pending.remove(&key) {
            self.bytes -= p.bytes;
            self.stats.ignored_fragments += p.pieces.len() as u64;
        }
        if self.ignored.len() >= self.limits.max_datagrams {
            let timeout = self.limits.timeout_ns;
            self.ignored.retain(|_, t| ts_ns - *t <= timeout / 8);
            if self.ignored.len() >= self.limits.max_datagrams {
                self.ignored.clear();
            }
        }
        self.ignored.insert(key, ts_ns);
    }

    /// Drop partial datagrams older than the timeout.
    pub fn expire(&mut self, now_ns: i128) {
        let timeout = self.limits.timeout_ns;
        self.ignored.retain(|_, t| now_ns - *t <= timeout);
        let mut dropped = (0u64, 0usize);
        self.pending.retain(|_, p| {
            // Capture times can be anything a file says (a negative `if_tsoffset`...).
            let keep = now_ns.saturating_sub(p.first_ts) <= timeout;
            if !keep {
                dropped.0 += 1;
                dropped.1 += p.bytes;
            }
            keep
        });
        self.bytes -= dropped.1;
        self.stats.dropped_datagrams += dropped.0;
        self.stats.dropped_bytes += dropped.1 as u64;
    }

    /// End of input: everything still partial is dropped (and counted).
    pub fn finish(&mut self) {
        self.expire(i128::MAX);
    }

    /// Evict the oldest partial datagram other than `keep`; false when there is none.
    fn evict_oldest(&mut self, keep: &Key) -> bool {
        let Some(key) = self
            .pending
            .iter()
            .filter(|(k, _)| *k != keep)
            .min_by_key(|(_, p)| p.first_ts)
            .map(|(k, _)| *k)
        else {
            return false;
        };
        self.drop_datagram(&key, true);
        true
    }

    /// Throw away a partial datagram, counting it (`by_limit`: to respect a limit).
    fn drop_datagram(&mut self, key: &Key, by_limit: bool) {
        if let Some(p) = self.pending.remove(key) {
            self.bytes -= p.bytes;
            self.stats.dropped_datagrams += 1;
            self.stats.dropped_by_limits += u64::from(by_limit);
            self.stats.dropped_bytes += p.bytes as u64;
        }
    }
}

impl Partial {
    /// True when the pieces held already cover `start..end` (a repeated fragment).
    fn covers(&self, start: usize, end: usize) -> bool {
        let mut spans: Vec<(usize, usize)> = self
            .pieces
            .iter()
            .map(|(o, d)| (*o, o + d.len()))
            .filter(|&(s, e)| e > start && s < end)
            .collect();
        spans.sort_unstable();
        let mut covered = start;
        for (s, e) in spans {
            if s > covered {
                return false;
            }
            covered = covered.max(e);
        }
        covered >= end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    #[test]
    fn reassembles_in_any_order_first_wins() {
        let data: Vec<u8> = (0..100).collect();
        let mut d = Defragmenter::default();
        assert!(d.push(A, B, 17, 7, 48, false, &data[48..], 0).is_none());
        // Overlapping retransmission with different bytes: the first arrival wins.
        assert!(d.push(A, B, 17, 7, 40, true, &[0xee; 16], 1).is_none());
        let out = d.push(A, B, 17, 7, 0, true, &data[..40], 2).unwrap();
        assert_eq!(&out[..40], &data[..40]);
        assert_eq!(&out[40..48], &[0xee; 8]);
        assert_eq!(&out[48..], &data[48..]);
        assert_eq!(d.pending(), 0);
        assert_eq!(d.stats().reassembled, 1);
    }

    #[test]
    fn ignored_datagrams_free_their_fragments_and_skip_the_rest() {
        let mut d = Defragmenter::default();
        assert!(d.push(A, B, 17, 1, 1480, true, &[1; 1480], 0).is_none());
        d.ignore(A, B, 17, 1, 1);
        assert_eq!(d.pending(), 0);
        assert!(d.push(A, B, 17, 1, 2960, false, &[2; 100], 2).is_none());
        assert_eq!(d.pending(), 0);
        assert_eq!(d.stats().ignored_fragments, 3);
        // Another datagram is unaffected.
        assert!(d.push(A, B, 17, 2, 0, false, &[3; 8], 3).is_some());
    }

    #[test]
    fn limits_and_timeouts_drop_and_count() {
        let mut d = Defragmenter::new(DefragLimits {
            max_datagrams: 2,
            max_bytes: 1000,
            timeout_ns: 10,
        });
        for id in 0..5u16 {
            d.push(A, B, 17, id, 0, true, &[0; 8], id as i128);
        }
        assert_eq!(d.pending(), 2);
        assert_eq!(d.stats().dropped_datagrams, 3);
        d.expire(100);
        assert_eq!(d.pending(), 0);
        assert_eq!(d.stats().dropped_datagrams, 5);
        assert_eq!(d.stats().dropped_bytes, 40);
        // Beyond the largest IPv4 payload: refused outright.
        assert!(d.push(A, B, 17, 9, 65512, false, &[0; 16], 200).is_none());
        assert_eq!(d.stats().bad_fragments, 1);
    }

    #[test]
    fn times_before_the_epoch_expire_without_overflow() {
        let mut d = Defragmenter::default();
        d.push(A, B, 17, 1, 0, true, &[0; 8], -5_000_000_000);
        d.push(A, B, 17, 2, 0, true, &[0; 8], i128::MIN);
        d.finish();
        assert_eq!(d.pending(), 0);
        assert_eq!(d.stats().dropped_datagrams, 2);
    }

    #[test]
    fn repeated_and_tiny_fragments_stay_bounded() {
        let mut d = Defragmenter::default();
        // The same fragment a thousand times is held once.
        for _ in 0..1000 {
            d.push(A, B, 17, 1, 0, true, &[1; 64], 0);
        }
        assert_eq!(d.stats().dropped_datagrams, 0);
        assert_eq!(d.bytes, 64);
        // A datagram cut into ever more 8-byte pieces is given up at MAX_PIECES.
        for i in 0..(MAX_PIECES + 10) {
            d.push(A, B, 17, 2, i * 16, true, &[2; 8], 1);
        }
        assert!(
            d.pending
                .get(&Key {
                    src: A,
                    dst: B,
                    proto: 17,
                    id: 2
                })
                .map_or(0, |p| p.pieces.len())
                < MAX_PIECES
        );
        assert_eq!(d.stats().dropped_by_limits, 1);
        // A zero-length last fragment still completes a datagram.
        assert!(d.push(A, B, 17, 3, 0, true, &[3; 8], 2).is_none());
        assert_eq!(d.push(A, B, 17, 3, 8, false, &[], 2), Some(vec![3; 8]));
    }
}
