//! Bounds on what a session remembers, so that an endless capture (`live` for hours, a file of
//! millions of frames) or a hostile one (a million distinct devices, a flag flipping on every
//! packet) cannot make the story grow without limit (issue 11, "Memory that never grows").
//!
//! Lists of happenings (timeline lines, claims, player events, exchanges...) keep their first
//! entries and their newest ones in a [`Bounded`] list, and count what fell out between the
//! two: the start of a story says how the network came up, the end says where it is now.
//! Tables keyed by identity (devices, players, connections, tracks) have a fixed size. What a
//! bound keeps out is counted (`omitted`) and said in the reports.
//!
//! The sizes are chosen so that the whole story, rendered as `--summary --format json` (the
//! largest rendering: ~0.5 KiB of `serde_json::Value` per entry), stays far below the 64 MiB
//! of peak RSS that BENCHMARKS.md promises in every mode: at most ~60 000 happenings in all.

use std::collections::{BTreeMap, VecDeque};

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Devices in the device table (Pro DJ Link numbers per address, StageLinQ units).
pub const MAX_DEVICES: usize = 4096;
/// Players followed (each keeps up to [`PlayerEvents`]).
pub const MAX_PLAYERS: usize = 32;
/// StageLinQ units followed in detail (services, decks, subscriptions).
pub const MAX_STAGELINQ_DEVICES: usize = 64;
/// dbserver connections described (each keeps up to [`Exchanges`]): the first
/// [`FIRST_CONNECTIONS`] and the newest others.
pub const MAX_CONNECTIONS: usize = 64;
pub const FIRST_CONNECTIONS: usize = 8;
/// Tracks described; past this the oldest description is forgotten.
pub const MAX_TRACKS: usize = 1024;
/// Entries per StageLinQ map (subscriptions, other paths, transfers, channels, tokens).
pub const MAX_ENTRIES: usize = 256;

/// Lines of the timeline.
pub type Timeline<T> = Bounded<T, 1_000, 9_000>;
/// Number claims, tempo-master changes, now-playing changes.
pub type Changes<T> = Bounded<T, 200, 1_800>;
/// Events of one player.
pub type PlayerEvents<T> = Bounded<T, 100, 900>;
/// Exchanges of one dbserver connection.
pub type Exchanges<T> = Bounded<T, 50, 450>;
/// Departures of one device.
pub type Departures<T> = Bounded<T, 4, 12>;

/// An entry of a [`Bounded`] list as a rendering shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shown<'a, T> {
    Entry(&'a T),
    /// This many entries fell out here.
    Gap(u64),
}

/// A list that keeps its first `HEAD` entries and its newest `TAIL` ones, and counts the
/// entries that fell out between them. Iterates (and serialises) as the kept entries in order.
#[derive(Debug, Clone)]
pub struct Bounded<T, const HEAD: usize, const TAIL: usize> {
    first: Vec<T>,
    newest: VecDeque<T>,
    left_out: u64,
}

impl<T, const HEAD: usize, const TAIL: usize> Default for Bounded<T, HEAD, TAIL> {
    fn default() -> Self {
        Bounded {
            first: Vec::new(),
            newest: VecDeque::new(),
            left_out: 0,
        }
    }
}

impl<T, const HEAD: usize, const TAIL: usize> Bounded<T, HEAD, TAIL> {
    /// The most entries kept.
    pub const CAPACITY: usize = HEAD + TAIL;

    pub fn new() -> Self {
        Self::default()
    }

    /// Append; when full, the oldest of the newest entries falls out (and is counted).
    /// Returns true when one did.
    pub fn push(&mut self, item: T) -> bool {
        if self.first.len() < HEAD {
            self.first.push(item);
            return false;
        }
        self.newest.push_back(item);
        if self.newest.len() > TAIL {
            self.newest.pop_front();
            self.left_out += 1;
            return true;
        }
        false
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.first.len() + self.newest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries that fell out (between the first and the newest).
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// Entries ever pushed: kept and left out.
    pub fn total(&self) -> u64 {
        self.len() as u64 + self.left_out
    }

    /// The kept entries, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.first.iter().chain(self.newest.iter())
    }

    /// The first entries, and the newest ones (empty until the first `HEAD` are in): the
    /// `left_out` entries were between the two.
    pub fn parts(&self) -> (&[T], impl Iterator<Item = &T> + '_) {
        (&self.first, self.newest.iter())
    }

    /// The kept entries in order, with a [`Shown::Gap`] where entries fell out (between the
    /// first and the newest), so that a rendering says what it does not show.
    pub fn shown(&self) -> impl Iterator<Item = Shown<'_, T>> + '_ {
        let gap = (self.left_out > 0).then_some(Shown::Gap(self.left_out));
        self.first
            .iter()
            .map(Shown::Entry)
            .chain(gap)
            .chain(self.newest.iter().map(Shown::Entry))
    }

    pub fn last(&self) -> Option<&T> {
        self.newest.back().or(self.first.last())
    }

    pub fn last_mut(&mut self) -> Option<&mut T> {
        match self.newest.back_mut() {
            Some(x) => Some(x),
            None => self.first.last_mut(),
        }
    }

    /// Sort (stable): the whole list while nothing fell out, else each part on its own (an
    /// entry pushed late whose key belongs before the newest part stays at its start).
    pub fn sort_by_key<K: Ord>(&mut self, mut f: impl FnMut(&T) -> K) {
        if self.left_out == 0 {
            let mut all: Vec<T> = self.first.drain(..).chain(self.newest.drain(..)).collect();
            all.sort_by_key(&mut f);
            for x in all {
                self.push(x);
            }
        } else {
            self.first.sort_by_key(&mut f);
            self.newest.make_contiguous().sort_by_key(f);
        }
    }
}

impl<T: Serialize, const HEAD: usize, const TAIL: usize> Serialize for Bounded<T, HEAD, TAIL> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for x in self.iter() {
            seq.serialize_element(x)?;
        }
        seq.end()
    }
}

/// The `i`-th kept entry, in order (the first entries, then the newest).
impl<T, const HEAD: usize, const TAIL: usize> std::ops::Index<usize> for Bounded<T, HEAD, TAIL> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        match i.checked_sub(self.first.len()) {
            None => &self.first[i],
            Some(j) => &self.newest[j],
        }
    }
}

impl<'a, T, const HEAD: usize, const TAIL: usize> IntoIterator for &'a Bounded<T, HEAD, TAIL> {
    type Item = &'a T;
    type IntoIter =
        std::iter::Chain<std::slice::Iter<'a, T>, std::collections::vec_deque::Iter<'a, T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.iter().chain(self.newest.iter())
    }
}

/// Insert (or replace) unless the map is full and the key is new; count what is left out.
pub fn insert<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, v: V, cap: usize, omitted: &mut u64) {
    if m.len() < cap || m.contains_key(&k) {
        m.insert(k, v);
    } else {
        *omitted += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_and_the_newest_and_counts_the_rest() {
        let mut b: Bounded<u32, 2, 3> = Bounded::new();
        assert!(b.is_empty() && b.last().is_none());
        for i in 0..4 {
            assert!(!b.push(i));
        }
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert!(!b.push(4));
        assert!(b.push(5));
        assert!(b.push(6));
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [0, 1, 4, 5, 6]);
        assert_eq!((b.len(), b.left_out(), b.total()), (5, 2, 7));
        assert_eq!((b[0], b[1], b[2], b[4]), (0, 1, 4, 6));
        let (first, newest) = b.parts();
        assert_eq!(
            (first, newest.copied().collect::<Vec<_>>()),
            (&[0, 1][..], vec![4, 5, 6])
        );
        *b.last_mut().unwrap() = 9;
        assert_eq!(b.last(), Some(&9));
        assert_eq!(serde_json::to_string(&b).unwrap(), "[0,1,4,5,9]");
        let seen: Vec<i64> = b
            .shown()
            .map(|x| match x {
                Shown::Entry(&x) => x as i64,
                Shown::Gap(n) => -(n as i64),
            })
            .collect();
        assert_eq!(seen, [0, 1, -2, 4, 5, 9]);
        b.sort_by_key(|&x| std::cmp::Reverse(x));
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [1, 0, 9, 5, 4]);
        // Nothing left out: sorted as one list, across the parts.
        let mut c: Bounded<u32, 2, 3> = Bounded::new();
        for i in [5, 4, 3, 2, 1] {
            c.push(i);
        }
        c.sort_by_key(|&x| x);
        assert_eq!(c.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(Bounded::<u8, 2, 3>::CAPACITY, 5);
    }

    #[test]
    fn a_list_with_no_head_keeps_the_newest_alone() {
        let mut b: Bounded<u32, 0, 2> = Bounded::new();
        for i in 0..10 {
            b.push(i);
        }
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [8, 9]);
        assert_eq!(b.left_out(), 8);
        assert_eq!(b.last_mut().copied(), Some(9));
    }
}
