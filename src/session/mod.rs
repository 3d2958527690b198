//! The story of a capture, built from records: devices, player timelines, tempo master history,
//! dbserver sessions, StageLinQ devices and what is playing now. One engine for `read` and
//! `live`: feed it every record with [`Session::observe`], call [`Session::finish`] at the end.

pub mod devices;
pub mod limits;
mod now_playing;
pub mod players;
pub mod report;
pub mod stagelinq;
pub mod tracks;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::net::SocketAddr;

use serde::Serialize;

use crate::dissect::{Proto, Value};
use crate::prodjlink::Packet;
use crate::record::Record;

pub use now_playing::{NowPlaying, NowPlayingEntry};

/// The same datagram seen again on another capture interface within this window (same source,
/// destination and bytes) is the capture's second copy, not a second packet.
pub const DUPLICATE_WINDOW_NS: i128 = 2_000_000;
/// Most records remembered for duplicate detection.
const RECENT_MAX: usize = 4096;
/// Up to this many records in the duplicate window are simply scanned; a longer window (a
/// burst, or a hostile file giving every packet one timestamp) keeps a set of fingerprints.
const RECENT_SCAN_MAX: usize = 32;

pub(crate) fn ts(ns: i128) -> String {
    crate::output::time::rfc3339(ns)
}

/// One line of the merged story.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub frame: u64,
    pub ts: String,
    #[serde(skip)]
    pub ts_ns: i128,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MasterChange {
    pub frame: u64,
    pub ts: String,
    /// Deck that became master (None: nobody is master any more).
    pub player: Option<u32>,
    pub text: String,
}

/// Per dbserver connection counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DbSession {
    pub client: String,
    pub server: String,
    pub requests: u64,
    pub answers: u64,
    pub errors: u64,
    pub mean_latency_ms: Option<f64>,
    pub worst_latency_ms: Option<f64>,
    #[serde(skip)]
    latency_sum: f64,
    #[serde(skip)]
    latencies: u64,
    /// Request frames answered lately (a menu answer spans several messages; requests on one
    /// connection are answered in order, so a short memory suffices).
    #[serde(skip)]
    answered: VecDeque<u64>,
    /// Order in which the session first saw the connection (the first ones are always kept).
    #[serde(skip)]
    opened: u64,
    pub exchanges: limits::Exchanges<Exchange>,
}

/// Request frames remembered per connection as answered.
const ANSWERED_MAX: usize = 64;

/// One request and its answer, in plain words.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub frame: u64,
    pub ts: String,
    pub request_frame: Option<u64>,
    pub latency_ms: Option<f64>,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Session {
    pub devices: devices::DeviceTable,
    pub players: players::Players,
    pub stagelinq: stagelinq::StageLinq,
    pub tracks: BTreeMap<tracks::TrackKey, tracks::TrackInfo>,
    /// The keys of `tracks`, oldest description first (the first to forget when full).
    track_order: VecDeque<tracks::TrackKey>,
    pub master_history: limits::Changes<MasterChange>,
    pub dbserver: BTreeMap<(SocketAddr, SocketAddr), DbSession>,
    /// dbserver connections seen (kept or not).
    connections_seen: u64,
    /// dbserver connections left out: neither among the first nor the newest.
    pub connections_left_out: u64,
    pub timeline: limits::Timeline<TimelineEntry>,
    pub now_playing: NowPlaying,
    pub records: u64,
    pub duplicates: u64,
    /// Tracks forgotten by the bounds of [`limits`] (the lists count their own).
    pub omitted: u64,
    pub first_ns: Option<i128>,
    pub last_ns: Option<i128>,
    current_master: Option<u32>,
    recent: VecDeque<(i128, u64, u32)>,
    /// How many records of `recent` have each fingerprint, while `recent_indexed` (the window
    /// is long); empty otherwise.
    recent_set: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    recent_indexed: bool,
}

/// Hasher for keys that are hashes already (the duplicate fingerprints): passes them through.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A fast, non-cryptographic fingerprint of (source, destination, bytes) for duplicate
/// detection: multiply and rotate, eight bytes at a time in four independent lanes so that a
/// 0x200-byte status is not one long chain of multiplications (collisions only cost a
/// miscount).
fn fingerprint(r: &Record<'_>) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(K).rotate_left(29);
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    let addr = |a: &SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => u32::from(ip) as u64,
        std::net::IpAddr::V6(ip) => {
            let v = u128::from(ip);
            (v as u64) ^ ((v >> 64) as u64)
        }
    } << 16
        | a.port() as u64;
    let mut lanes = [
        mix(r.bytes.len() as u64, addr(&r.src)),
        addr(&r.dst),
        K,
        K.rotate_left(32),
    ];
    let mut blocks = r.bytes.chunks_exact(32);
    for b in &mut blocks {
        for (lane, c) in lanes.iter_mut().zip(b.chunks_exact(8)) {
            *lane = mix(*lane, word(c));
        }
    }
    // The last 0-31 bytes: whole words, then the rest zero-padded.
    for (lane, c) in lanes.iter_mut().zip(blocks.remainder().chunks(8)) {
        *lane = mix(*lane, word(c));
    }
    lanes.iter().fold(0, |h, &l| mix(h, l))
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    /// True when this record repeats one seen within [`DUPLICATE_WINDOW_NS`] (two capture
    /// interfaces); such records are counted once.
    fn is_duplicate(&mut self, r: &Record<'_>) -> bool {
        // The window is 2 ms of capture time, and at most RECENT_MAX records (a hostile file
        // can give a million packets one timestamp).
        while let Some(&(t, fp, _)) = self.recent.front() {
            if r.ts_ns - t <= DUPLICATE_WINDOW_NS && self.recent.len() < RECENT_MAX {
                break;
            }
            self.recent.pop_front();
            if self.recent_indexed {
                if let Some(n) = self.recent_set.get_mut(&fp) {
                    *n -= 1;
                    if *n == 0 {
                        self.recent_set.remove(&fp);
                    }
                }
            }
        }
        // A short window (a few records in 2 ms) is scanned; a long one is indexed, from when
        // it reaches RECENT_SCAN_MAX until it is back under half of that (so that a window
        // hovering at the limit is not indexed anew every record).
        if self.recent_indexed && self.recent.len() < RECENT_SCAN_MAX / 2 {
            self.recent_indexed = false;
            self.recent_set.clear();
        } else if !self.recent_indexed && self.recent.len() >= RECENT_SCAN_MAX {
            self.recent_indexed = true;
            for &(_, fp, _) in &self.recent {
                *self.recent_set.entry(fp).or_default() += 1;
            }
        }
        let fp = fingerprint(r);
        let maybe = !self.recent_indexed || self.recent_set.contains_key(&fp);
        let dup = maybe
            && self
                .recent
                .iter()
                .any(|&(_, f, i)| f == fp && i != r.interface);
        self.recent.push_back((r.ts_ns, fp, r.interface));
        if self.recent_indexed {
            *self.recent_set.entry(fp).or_default() += 1;
        }
        dup
    }

    fn line(&mut self, r: &Record<'_>, text: String) {
        let entry = TimelineEntry {
            frame: r.frame,
            ts: ts(r.ts_ns),
            ts_ns: r.ts_ns,
            text,
        };
        self.timeline.push(entry);
    }

    /// Everything the bounds of [`limits`] left out of the story: devices, players,
    /// connections, tracks and entries not kept, and the happenings that fell out of the lists
    /// between their first and newest entries (exchanges of a connection left out count with
    /// it).
    pub fn omitted_total(&self) -> u64 {
        self.omitted
            + self.timeline.left_out()
            + self.master_history.left_out()
            + self.connections_left_out
            + self
                .dbserver
                .values()
                .map(|d| d.exchanges.left_out())
                .sum::<u64>()
            + self.devices.omitted_total()
            + self.players.omitted
            + self
                .players
                .players
                .values()
                .map(|p| p.omitted_events)
                .sum::<u64>()
            + self.stagelinq.omitted
            + self.now_playing.omitted
    }

    /// Whether [`Session::observe`] reads field values (rather than the head of the
    /// dissection and the message's bytes). The reader dissects fields only when it does. It
    /// does not: the trackers read the message as its Reprs parse it.
    pub const NEEDS_FIELDS: bool = false;

    /// Feed one record. Returns true when the now-playing text changed.
    pub fn observe(&mut self, r: &Record<'_>) -> bool {
        if self.is_duplicate(r) {
            self.duplicates += 1;
            return false;
        }
        self.records += 1;
        self.first_ns.get_or_insert(r.ts_ns);
        self.last_ns = Some(self.last_ns.map_or(r.ts_ns, |l| l.max(r.ts_ns)));
        let events_before = self.timeline.total();
        // A dbserver exchange is a timeline line, but only a track title it brings changes
        // what the players show.
        let mut titles_changed = false;
        // Each message is parsed once, with its protocol's Reprs, for every tracker: the session
        // reads typed values and the head of the dissection (type, device, name, summary),
        // never its field list. The parsed message stays where it was made (a Pro DJ Link
        // packet is some 300 bytes; moving it costs more than reading it).
        match r.dissection.proto {
            Proto::ProDjLink => {
                let packet = Packet::parse(r.port, r.bytes);
                let packet = packet.as_ref().ok();
                if let Some(text) = self.devices.observe_prodjlink(r, packet) {
                    self.line(r, text);
                }
                self.prodjlink(r, packet);
            }
            Proto::DbServer => titles_changed = self.dbserver(r),
            Proto::StageLinq => {
                let message = stagelinq::parse(r);
                if let Some(text) = self.devices.observe_stagelinq(r, message.as_ref()) {
                    self.line(r, text);
                }
                for text in self.stagelinq.observe(r, message.as_ref()) {
                    self.line(r, text);
                }
            }
        }
        // What plays only changes with an event (load, play, on air, master...) or a StageLinQ
        // deck value; re-deciding on every status packet would dominate the session's cost.
        let lines = match r.dissection.proto {
            Proto::DbServer => titles_changed,
            _ => self.timeline.total() != events_before,
        };
        let moved = lines || std::mem::take(&mut self.stagelinq.dirty);
        moved
            && self
                .now_playing
                .update(r.ts_ns, &self.players, &self.stagelinq)
    }

    fn prodjlink(&mut self, r: &Record<'_>, packet: Option<&Packet>) {
        let events = match packet {
            Some(Packet::ChannelsOnAir(c)) => self.players.channels_on_air(r, c),
            Some(p) => self.players.observe(r, p, &self.tracks),
            None => Vec::new(),
        };
        for (deck, ev, text) in events {
            if ev == "master" {
                self.master_from_players(r, Some(deck));
            }
            self.line(r, text);
        }
        // From the head, so that a handoff cut short is still told.
        let t: &str = &r.dissection.type_name;
        if t.starts_with("master_handoff") || t == "sync_control" {
            let text = format!(
                "{}{}",
                if r.dissection.summary.is_empty() {
                    t.replace('_', " ")
                } else {
                    String::new()
                },
                r.dissection.summary
            );
            self.line(r, text.trim().to_string());
        }
    }

    /// Recompute the tempo master after a player's master flag changed.
    fn master_from_players(&mut self, r: &Record<'_>, changed: Option<u32>) {
        let masters: Vec<u32> = self
            .players
            .players
            .values()
            .filter(|p| p.state.master)
            .map(|p| p.deck)
            .collect();
        // During a handoff two players can report master for ~80 ms (prodjlink.md 4.2): the
        // one that just changed wins.
        let now = match masters.len() {
            0 => None,
            1 => Some(masters[0]),
            _ => changed.filter(|c| masters.contains(c)).or(Some(masters[0])),
        };
        if now != self.current_master {
            let text = match (self.current_master, now) {
                (Some(a), Some(b)) => format!("tempo master handed from player {a} to player {b}"),
                (None, Some(b)) => format!("player {b} is tempo master"),
                (Some(a), None) => format!("player {a} gave up tempo master; no master"),
                (None, None) => unreachable!("guarded by now != current"),
            };
            let change = MasterChange {
                frame: r.frame,
                ts: ts(r.ts_ns),
                player: now,
                text,
            };
            self.master_history.push(change);
            self.current_master = now;
        }
    }

    /// A dbserver record; true when a track it described renamed what a player shows.
    fn dbserver(&mut self, r: &Record<'_>) -> bool {
        let key = if r.port == r.dst.port() {
            (r.src, r.dst)
        } else {
            (r.dst, r.src)
        };
        if !self.dbserver.contains_key(&key) {
            self.forget_a_connection();
            self.connections_seen += 1;
        }
        let opened = self.connections_seen - 1;
        let s = self.dbserver.entry(key).or_insert_with(|| DbSession {
            client: key.0.to_string(),
            server: key.1.to_string(),
            opened,
            ..Default::default()
        });
        let d = &r.dissection;
        // Everything the client sends after its greeting is a request; a request counts as
        // answered at its first response (a menu answer spans several messages).
        if r.dst == key.1 && d.type_name != "greeting" {
            s.requests += 1;
        }
        if d.type_name == "port_answer" {
            s.answers += 1;
        }
        let first_answer = r
            .extra("request_frame")
            .and_then(Value::as_u64)
            .is_some_and(|f| {
                if s.answered.contains(&f) {
                    return false;
                }
                if s.answered.len() == ANSWERED_MAX {
                    s.answered.pop_front();
                }
                s.answered.push_back(f);
                true
            });
        if let Some(lat) = r
            .extra("latency_ms")
            .and_then(Value::as_f64)
            .filter(|_| first_answer)
        {
            s.answers += 1;
            s.latency_sum += lat;
            s.latencies += 1;
            s.mean_latency_ms = Some(s.latency_sum / s.latencies as f64);
            s.worst_latency_ms = Some(s.worst_latency_ms.map_or(lat, |w| w.max(lat)));
        }
        if d.malformed.is_some()
            || d.type_name.contains("not_found")
            || d.type_name.contains("error")
        {
            s.errors += 1;
        }
        if let Some(Value::Str(text)) = r.extra("exchange") {
            let exchange = Exchange {
                frame: r.frame,
                ts: ts(r.ts_ns),
                request_frame: r.extra("request_frame").and_then(Value::as_u64),
                latency_ms: r.extra("latency_ms").and_then(Value::as_f64),
                text: text.to_string(),
            };
            s.exchanges.push(exchange);
            let text = text.to_string();
            self.line(r, text);
        }
        let mut titles_changed = false;
        if let Some((key, info)) = r.extra("track").and_then(tracks::TrackInfo::from_value) {
            self.describe_track(key, info);
            for (_, _, text) in self.players.refresh_titles(r, &self.tracks) {
                self.line(r, text);
                titles_changed = true;
            }
        }
        titles_changed
    }

    /// Before a new dbserver connection is followed: when the table is full, the oldest
    /// connection that is not one of the first [`limits::FIRST_CONNECTIONS`] is left out.
    fn forget_a_connection(&mut self) {
        if self.dbserver.len() < limits::MAX_CONNECTIONS {
            return;
        }
        let oldest = self
            .dbserver
            .iter()
            .filter(|(_, d)| d.opened >= limits::FIRST_CONNECTIONS as u64)
            .min_by_key(|(_, d)| d.opened)
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            self.dbserver.remove(&k);
            self.connections_left_out += 1;
        }
    }

    /// Remember what a track is; past [`limits::MAX_TRACKS`] the oldest description is
    /// forgotten (a deck loading it again is told without its title).
    fn describe_track(&mut self, key: tracks::TrackKey, info: tracks::TrackInfo) {
        if let Some(old) = self.tracks.get_mut(&key) {
            *old = info;
            return;
        }
        if self.tracks.len() >= limits::MAX_TRACKS {
            if let Some(oldest) = self.track_order.pop_front() {
                self.tracks.remove(&oldest);
                self.omitted += 1;
            }
        }
        self.track_order.push_back(key.clone());
        self.tracks.insert(key, info);
    }

    /// End of input: devices whose keep-alives stopped are marked as gone.
    pub fn finish(&mut self) {
        let Some(end) = self.last_ns else { return };
        for (at, text) in self.devices.finish(end) {
            self.timeline.push(TimelineEntry {
                frame: 0,
                ts: ts(at),
                ts_ns: at,
                text,
            });
        }
        self.timeline.sort_by_key(|e| e.ts_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Dissection;

    fn record(bytes: &[u8], ts_ns: i128, interface: u32) -> Record<'_> {
        Record {
            frame: 1,
            ts_ns,
            src: "10.0.0.1:50000".parse().unwrap(),
            dst: "10.0.0.255:50000".parse().unwrap(),
            interface,
            port: 50000,
            bytes,
            dissection: Dissection::new(Proto::ProDjLink, "unknown"),
            extra: Vec::new(),
        }
    }

    /// The same datagram on a second interface within the window is a duplicate, whether the
    /// window is short (scanned) or long (indexed), and across the change between the two.
    #[test]
    fn duplicates_in_short_and_long_windows() {
        let mut s = Session::new();
        let packets: Vec<[u8; 4]> = (0..200u32).map(|i| i.to_be_bytes()).collect();
        // Short window: 1 ms apart, the copy right after its original.
        assert!(!s.is_duplicate(&record(&packets[0], 0, 0)));
        assert!(
            !s.is_duplicate(&record(&packets[0], 10, 0)),
            "same interface"
        );
        assert!(s.is_duplicate(&record(&packets[0], 20, 1)));
        assert!(
            !s.is_duplicate(&record(&packets[0], 5_000_000, 1)),
            "window passed"
        );
        // A burst of 100 distinct packets at one time: the window grows past the scan limit.
        let t = 10_000_000;
        for p in &packets[..100] {
            assert!(!s.is_duplicate(&record(p, t, 0)));
        }
        assert!(s.recent_indexed);
        for p in &packets[..100] {
            assert!(s.is_duplicate(&record(p, t + 1, 1)));
        }
        assert!(!s.is_duplicate(&record(&packets[150], t + 1, 1)));
        // Back to a quiet network: the window shrinks and is scanned again.
        assert!(!s.is_duplicate(&record(&packets[160], t + 10_000_000, 0)));
        assert!(!s.recent_indexed && s.recent_set.is_empty());
        assert!(s.is_duplicate(&record(&packets[160], t + 10_000_001, 1)));
    }
}
