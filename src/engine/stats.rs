//! What the engine saw: records per protocol and type, skipped traffic, malformed and unknown
//! messages, and what the reassemblers dropped. Printed as the closing line on stderr.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::dissect::Proto;
use crate::net::defrag::DefragStats;
use crate::net::tcp_reassembly::ReassemblyStats;
use crate::record::Record;

/// Distinct record types counted in a short list; see `ReadStats::types`.
const LISTED_TYPES: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct ReadStats {
    pub frames: u64,
    pub records: u64,
    pub by_proto: BTreeMap<Proto, u64>,
    /// Records per (proto, type name), in the order types were first seen; see
    /// [`ReadStats::by_type`]. A capture has a few dozen types, and a type name is nearly always
    /// the same `&'static str`, so a short list compared by address first beats a map lookup
    /// that compares text.
    types: Vec<((Proto, Cow<'static, str>), u64)>,
    /// Types beyond the first [`LISTED_TYPES`] (only a hostile or odd capture has them), in a
    /// map so that counting stays logarithmic.
    more_types: BTreeMap<(Proto, Cow<'static, str>), u64>,
    pub malformed: u64,
    pub unknown: u64,
    /// Frames that were not DJ protocol, by what they were.
    pub skipped: BTreeMap<Cow<'static, str>, u64>,
    /// Bytes of TCP streams that no decoder claimed, per reason.
    pub stream_notes: BTreeMap<String, u64>,
    pub defrag: DefragStats,
    pub tcp: ReassemblyStats,
}

impl ReadStats {
    pub fn skip(&mut self, what: impl Into<Cow<'static, str>>) {
        let what = what.into();
        match self.skipped.get_mut(&what) {
            Some(n) => *n += 1,
            None => {
                self.skipped.insert(what, 1);
            }
        }
    }

    pub fn note(&mut self, what: impl Into<String>, n: u64) {
        *self.stream_notes.entry(what.into()).or_default() += n;
    }

    pub fn count(&mut self, r: &Record<'_>) {
        let d = &r.dissection;
        self.records += 1;
        *self.by_proto.entry(d.proto).or_default() += 1;
        let name: &str = &d.type_name;
        let same = |(p, t): &(Proto, Cow<'static, str>)| {
            *p == d.proto && (std::ptr::eq(t.as_ref(), name) || t == name)
        };
        let listed = self.types.len();
        match self.types.iter_mut().find(|(key, _)| same(key)) {
            Some((_, n)) => *n += 1,
            // Type names are almost always borrowed: cloning the Cow costs nothing.
            None if listed < LISTED_TYPES => self.types.push(((d.proto, d.type_name.clone()), 1)),
            None => {
                *self
                    .more_types
                    .entry((d.proto, d.type_name.clone()))
                    .or_default() += 1
            }
        }
        if d.malformed.is_some() {
            self.malformed += 1;
        }
        if d.type_name == "unknown" {
            self.unknown += 1;
        }
    }

    /// Records per (proto, type name).
    pub fn by_type(&self) -> BTreeMap<(Proto, Cow<'static, str>), u64> {
        let mut map = self.more_types.clone();
        for (key, n) in &self.types {
            *map.entry(key.clone()).or_default() += n;
        }
        map
    }

    /// One line: `1410 frames: 1180 prodjlink, 20 dbserver records; 0 malformed, 0 unknown;
    /// skipped 210 (150 NFS (UDP), 60 non-IP (ARP...))`.
    pub fn line(&self) -> String {
        let mut s = format!("{} frames: {} records", self.frames, self.records);
        if !self.by_proto.is_empty() {
            let parts: Vec<String> = self
                .by_proto
                .iter()
                .map(|(p, n)| format!("{n} {}", p.as_str()))
                .collect();
            let _ = write!(s, " ({})", parts.join(", "));
        }
        let _ = write!(
            s,
            "; {} malformed, {} unknown",
            self.malformed, self.unknown
        );
        let skipped: u64 = self.skipped.values().sum();
        if skipped > 0 {
            let mut parts: Vec<(&Cow<'static, str>, &u64)> = self.skipped.iter().collect();
            parts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let parts: Vec<String> = parts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let _ = write!(
                s,
                "; skipped {skipped} not DJ protocol ({})",
                parts.join(", ")
            );
        }
        let d = &self.defrag;
        if d.reassembled > 0 || d.dropped_datagrams > 0 || d.bad_fragments > 0 {
            let _ = write!(
                s,
                "; IP fragments: {} datagrams reassembled, {} dropped ({} bytes",
                d.reassembled, d.dropped_datagrams, d.dropped_bytes
            );
            if d.dropped_by_limits > 0 {
                let _ = write!(s, "; {} at the fragment buffer limits", d.dropped_by_limits);
            }
            s.push(')');
            if d.bad_fragments > 0 {
                let _ = write!(s, ", {} bad fragments ignored", d.bad_fragments);
            }
        }
        let t = &self.tcp;
        if t.closed_evicted > 0 {
            let _ = write!(
                s,
                "; TCP connection table full: {} connections evicted (at most {} held at once)",
                t.closed_evicted, t.peak_connections
            );
        }
        for (k, n) in &self.stream_notes {
            let _ = write!(s, "; {k}: {n}");
        }
        s
    }
}

#[cfg(test)]
mod type_count_tests {
    use super::*;
    use crate::dissect::Dissection;

    fn record(d: Dissection) -> Record<'static> {
        Record {
            frame: 1,
            ts_ns: 0,
            src: "1.2.3.4:1".parse().unwrap(),
            dst: "1.2.3.4:2".parse().unwrap(),
            interface: 0,
            port: 2,
            bytes: &[],
            dissection: d,
            extra: Vec::new(),
        }
    }

    #[test]
    fn types_are_counted_past_the_short_list() {
        let mut stats = ReadStats::default();
        for _ in 0..3 {
            for i in 0..100 {
                // Owned names (different addresses every time) and a borrowed one.
                stats.count(&record(Dissection::new(Proto::DbServer, format!("t{i}"))));
                stats.count(&record(Dissection::new(Proto::ProDjLink, "beat")));
            }
        }
        let by_type = stats.by_type();
        assert_eq!(by_type.len(), 101);
        assert!(by_type.values().all(|&n| n == 3 || n == 300));
        assert_eq!(by_type[&(Proto::ProDjLink, Cow::Borrowed("beat"))], 300);
        assert_eq!(stats.records, 600);
    }
}
