//! Bounds on what a session remembers, so that a hostile or endless capture (a million
//! distinct devices, a flag flipping on every packet) cannot make the story grow without limit.
//! What a bound keeps out is counted (`omitted`) and said in the reports.

use std::collections::BTreeMap;

/// Devices in the device table (Pro DJ Link numbers per address, StageLinQ units).
pub const MAX_DEVICES: usize = 4096;
/// Players followed.
pub const MAX_PLAYERS: usize = 256;
/// Events kept per player, lines in the timeline, claims, exchanges per dbserver connection,
/// tempo-master and now-playing changes, departures per device.
pub const MAX_EVENTS: usize = 100_000;
/// dbserver connections and tracks described.
pub const MAX_CONNECTIONS: usize = 4096;
pub const MAX_TRACKS: usize = 65_536;
/// Entries per StageLinQ map (subscriptions, other paths, transfers, channels, tokens).
pub const MAX_ENTRIES: usize = 4096;

/// Push unless the vector is full; count what is left out.
pub fn push<T>(v: &mut Vec<T>, item: T, cap: usize, omitted: &mut u64) {
    if v.len() < cap {
        v.push(item);
    } else {
        *omitted += 1;
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
