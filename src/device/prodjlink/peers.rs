//! The devices a unit knows: learned from their keep-alives (`prodjlink.md` 2 kind 06), dropped
//! after [`PEER_TIMEOUT`] of silence. A player sends its status only to these (4: "only to peers
//! that announced themselves"), and counts them in its own keep-alive (byte 0x30).

use std::net::Ipv4Addr;

use super::persona::PEER_TIMEOUT;
use crate::device::Nanos;
use crate::prodjlink::KeepAlive;

/// A device seen on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub number: u8,
    pub name: String,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    /// Keep-alive byte 0x34: `01` CDJ, `02`/`03` mixer, `04` rekordbox.
    pub device_type: u8,
    pub last_seen: Nanos,
}

/// What a keep-alive changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Joined,
    Refreshed,
}

/// Peers by address. Several numbers can share one address (an XDJ-XZ's decks and mixer); a
/// number seen from a new address replaces the old entry.
#[derive(Debug, Default, Clone)]
pub struct Peers {
    list: Vec<Peer>,
}

/// A table bigger than any real network (6 players, a mixer, rekordbox, tools) but bounded, so
/// a flood of forged keep-alives cannot grow it without limit.
const MAX_PEERS: usize = 64;

impl Peers {
    /// Note a keep-alive received at `now`.
    pub fn saw(&mut self, now: Nanos, k: &KeepAlive) -> Seen {
        let name = k.header.name.text();
        if let Some(p) = self
            .list
            .iter_mut()
            .find(|p| p.number == k.device && p.ip == k.ip)
        {
            p.last_seen = now;
            p.mac = k.mac;
            p.device_type = k.device_type;
            return Seen::Refreshed;
        }
        self.list.retain(|p| p.number != k.device);
        if self.list.len() >= MAX_PEERS {
            // Forget the one silent longest.
            if let Some(i) = (0..self.list.len()).min_by_key(|&i| self.list[i].last_seen) {
                self.list.remove(i);
            }
        }
        self.list.push(Peer {
            number: k.device,
            name,
            ip: k.ip,
            mac: k.mac,
            device_type: k.device_type,
            last_seen: now,
        });
        self.list.sort_by_key(|p| p.number);
        Seen::Joined
    }

    /// Remove peers silent for [`PEER_TIMEOUT`] at `now`; returns them.
    pub fn expire(&mut self, now: Nanos) -> Vec<Peer> {
        let mut gone = Vec::new();
        self.list.retain(|p| {
            let keep = now - p.last_seen < PEER_TIMEOUT;
            if !keep {
                gone.push(p.clone());
            }
            keep
        });
        gone
    }

    /// When the next peer would time out, if any.
    pub fn next_expiry(&self) -> Option<Nanos> {
        self.list.iter().map(|p| p.last_seen + PEER_TIMEOUT).min()
    }

    pub fn get(&self, number: u8) -> Option<&Peer> {
        self.list.iter().find(|p| p.number == number)
    }

    pub fn holds(&self, number: u8) -> bool {
        self.get(number).is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Peer> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Distinct addresses, in number order (one status per address, 4).
    pub fn addresses(&self) -> Vec<Ipv4Addr> {
        let mut v: Vec<Ipv4Addr> = Vec::with_capacity(self.list.len());
        for p in &self.list {
            if !v.contains(&p.ip) {
                v.push(p.ip);
            }
        }
        v
    }
}
