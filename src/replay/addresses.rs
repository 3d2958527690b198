//! The address table of a replay: each recorded device gets its own loopback address, and every
//! address and MAC that a payload carries is rewritten through the message types
//! (`prodjlink::Packet` parse, edit, emit), never by byte offset.
//!
//! Which fields carry addresses (`prodjlink.md` 2 and 4): keep-alive 0x06 (its own MAC and IP,
//! and the paired peer's), claim stage 1 0x00 (MAC), claim stage 2 0x02 (IP and MAC), the
//! mixer's assignment intent 0x01 (mixer IP and MAC), the number conflict 0x08 (the defender's
//! IP) and the media query 0x05 (the requester's IP). Status, beats and the rest carry device
//! numbers only. StageLinQ discovery carries a token and a TCP port, no address (`stagelinq.md`
//! 2), so it is sent as recorded.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::prodjlink::{self, Packet};
use crate::transport::socket::Network;

/// More recorded hosts than this is not a DJ network (a capture of a whole LAN): the rest are
/// not replayed, and said so.
pub const MAX_DEVICES: usize = 1024;

/// Recorded address -> replay address, and recorded MAC -> replay MAC.
#[derive(Debug, Clone, Default)]
pub struct AddressTable {
    ips: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// In the order the devices first spoke (the start table's order).
    order: Vec<Ipv4Addr>,
    /// Recorded MAC -> the recorded address of the device that announced it.
    macs: BTreeMap<[u8; 6], Ipv4Addr>,
    first: u32,
    /// Recorded hosts left out because the table was full.
    pub refused: u64,
}

/// One row of the start table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub recorded: Ipv4Addr,
    pub replay: Ipv4Addr,
    pub recorded_mac: Option<[u8; 6]>,
    pub replay_mac: [u8; 6],
}

impl AddressTable {
    /// A table whose devices count up from `first` (127.0.0.2 by default: 127.0.0.1 is the
    /// user's own tools).
    pub fn new(first: Ipv4Addr) -> AddressTable {
        AddressTable {
            first: u32::from(first),
            ..AddressTable::default()
        }
    }

    /// Give `recorded` a replay address if it has none; false when the table is full or the
    /// next address would leave 127.0.0.0/8.
    pub fn add(&mut self, recorded: Ipv4Addr) -> bool {
        if self.ips.contains_key(&recorded) {
            return true;
        }
        let next = self.first as u64 + self.order.len() as u64;
        let next_ip = Ipv4Addr::from(next.min(u32::MAX as u64) as u32);
        if self.order.len() >= MAX_DEVICES
            || next >= u32::from(Ipv4Addr::new(127, 255, 255, 255)) as u64
            || !next_ip.is_loopback()
        {
            self.refused += 1;
            return false;
        }
        self.ips.insert(recorded, next_ip);
        self.order.push(recorded);
        true
    }

    /// Use `hosts` (an interface's addresses, in order) instead of the counted-up loopback
    /// addresses; devices beyond the list are dropped from the table and counted in
    /// [`AddressTable::refused`].
    pub fn remap(&mut self, hosts: &[Ipv4Addr]) {
        self.refused += self.order.len().saturating_sub(hosts.len()) as u64;
        self.order.truncate(hosts.len());
        self.ips = self
            .order
            .iter()
            .copied()
            .zip(hosts.iter().copied())
            .collect();
    }

    /// Learn the MAC a device announced itself with (keep-alive, claims), so that the same MAC
    /// elsewhere (a paired peer) is rewritten the same way.
    pub fn learn_mac(&mut self, recorded_ip: Ipv4Addr, mac: [u8; 6]) {
        if self.ips.contains_key(&recorded_ip) {
            self.macs.entry(mac).or_insert(recorded_ip);
        }
    }

    /// Learn from one recorded payload what it says about its sender's MAC.
    pub fn learn(&mut self, src: Ipv4Addr, port: u16, payload: &[u8]) {
        let mac = match Packet::parse(port, payload) {
            Ok(Packet::KeepAlive(k)) if k.ip == src => k.mac,
            Ok(Packet::ClaimMac(c)) => c.mac,
            Ok(Packet::ClaimIp(c)) if c.ip == src => c.mac,
            Ok(Packet::MixerAssignIntent(m)) if m.mixer_ip == src => m.mixer_mac,
            _ => return,
        };
        self.learn_mac(src, mac);
    }

    pub fn replay_ip(&self, recorded: Ipv4Addr) -> Option<Ipv4Addr> {
        self.ips.get(&recorded).copied()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn replay_ips(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.order.iter().map(|ip| self.ips[ip])
    }

    pub fn rows(&self) -> Vec<Row> {
        self.order
            .iter()
            .map(|&recorded| {
                let replay = self.ips[&recorded];
                let replay_mac = Network::mac_for(replay);
                let recorded_mac = self
                    .macs
                    .iter()
                    .find(|(_, &ip)| ip == recorded)
                    .map(|(&m, _)| m);
                Row {
                    recorded,
                    replay,
                    recorded_mac,
                    replay_mac,
                }
            })
            .collect()
    }

    /// An address as the replay shows it: a replayed device's own address; any other address
    /// unchanged (it names a host outside the replay, e.g. the recording computer, and is
    /// listed by [`Rewrite::kept`]).
    fn ip(&self, ip: Ipv4Addr, out: &mut Rewrite) -> Ipv4Addr {
        match self.ips.get(&ip) {
            Some(&new) => {
                out.changed += 1;
                new
            }
            None if ip.is_unspecified() => ip,
            None => {
                out.kept.push(format!("address {ip}"));
                ip
            }
        }
    }

    fn mac(&self, mac: [u8; 6], out: &mut Rewrite) -> [u8; 6] {
        match self.macs.get(&mac).and_then(|ip| self.ips.get(ip)) {
            Some(&new) => {
                out.changed += 1;
                Network::mac_for(new)
            }
            None if mac == [0; 6] => mac,
            None => {
                out.kept
                    .push(format!("MAC {}", mac.map(|b| format!("{b:02x}")).join(":")));
                mac
            }
        }
    }

    /// Rewrite the addresses `payload` (sent to `port`) carries into `buf`. `Unchanged` when
    /// the message carries none (or is not Pro DJ Link): the recorded bytes go out as they are.
    pub fn rewrite(&self, port: u16, payload: &[u8], buf: &mut Vec<u8>) -> Rewrite {
        let mut out = Rewrite::default();
        if !prodjlink::has_magic(payload) {
            return out;
        }
        let mut packet = match Packet::parse(port, payload) {
            Ok(p) => p,
            Err(_) => return out,
        };
        match &mut packet {
            Packet::KeepAlive(k) => {
                k.ip = self.ip(k.ip, &mut out);
                k.mac = self.mac(k.mac, &mut out);
                if let Some(p) = &mut k.paired {
                    p.ip = self.ip(p.ip, &mut out);
                    p.mac = self.mac(p.mac, &mut out);
                }
            }
            Packet::ClaimMac(c) => c.mac = self.mac(c.mac, &mut out),
            Packet::ClaimIp(c) => {
                c.ip = self.ip(c.ip, &mut out);
                c.mac = self.mac(c.mac, &mut out);
            }
            Packet::MixerAssignIntent(m) => {
                m.mixer_ip = self.ip(m.mixer_ip, &mut out);
                m.mixer_mac = self.mac(m.mixer_mac, &mut out);
            }
            Packet::ChannelConflict(c) => c.defender_ip = self.ip(c.defender_ip, &mut out),
            Packet::MediaQuery(q) => q.requester_ip = self.ip(q.requester_ip, &mut out),
            _ => return out,
        }
        if out.changed > 0 {
            buf.clear();
            buf.resize(packet.buffer_len(), 0);
            packet.emit(buf);
            out.rewritten = true;
        }
        out
    }
}

/// What rewriting one payload did.
#[derive(Debug, Default)]
pub struct Rewrite {
    /// The payload was re-emitted into the buffer.
    pub rewritten: bool,
    /// Addresses and MACs replaced.
    pub changed: u32,
    /// Addresses and MACs that name no replayed device and were left as recorded.
    pub kept: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::KeepAlive;

    const CDJ: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 5);
    const CDJ_MAC: [u8; 6] = [0x00, 0xe0, 0x36, 0x01, 0x02, 0x03];

    #[test]
    fn keep_alive_gets_the_replay_address_and_mac_through_the_type() {
        let mut t = AddressTable::new(Ipv4Addr::new(127, 0, 0, 2));
        assert!(t.add(CDJ));
        let ka = KeepAlive::cdj3000("CDJ-3000", 2, CDJ_MAC, CDJ, 2).to_bytes();
        t.learn(CDJ, 50000, &ka);
        let mut buf = Vec::new();
        let r = t.rewrite(50000, &ka, &mut buf);
        assert!(r.rewritten);
        assert_eq!(r.changed, 2);
        assert!(r.kept.is_empty(), "{:?}", r.kept);
        let Ok(Packet::KeepAlive(k)) = Packet::parse(50000, &buf) else {
            panic!("not a keep-alive after rewriting")
        };
        assert_eq!(k.ip, Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(k.mac, Network::mac_for(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(k.device, 2);
        assert_eq!(buf.len(), ka.len());
        let rows = t.rows();
        assert_eq!(rows[0].recorded_mac, Some(CDJ_MAC));
    }

    #[test]
    fn an_address_outside_the_replay_is_kept_and_listed() {
        let mut t = AddressTable::new(Ipv4Addr::new(127, 0, 0, 2));
        t.add(CDJ);
        let other = Ipv4Addr::new(10, 0, 0, 9);
        let ka = KeepAlive::cdj("CDJ-2000NXS2", 3, [2, 2, 2, 2, 2, 2], other, 2).to_bytes();
        let mut buf = Vec::new();
        let r = t.rewrite(50000, &ka, &mut buf);
        assert!(!r.rewritten);
        assert_eq!(r.kept.len(), 2, "{:?}", r.kept);
        assert!(r.kept[0].contains("10.0.0.9"));
    }

    #[test]
    fn garbage_and_other_protocols_pass_unchanged() {
        let t = AddressTable::new(Ipv4Addr::new(127, 0, 0, 2));
        let mut buf = Vec::new();
        for p in [&b""[..], b"Qspt1WmJOL", b"airD\0\0\0\0", &[0xff; 40]] {
            let r = t.rewrite(50000, p, &mut buf);
            assert!(!r.rewritten);
        }
    }

    #[test]
    fn the_table_stays_inside_loopback() {
        let mut t = AddressTable::new(Ipv4Addr::new(127, 255, 255, 253));
        assert!(t.add(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(t.add(Ipv4Addr::new(10, 0, 0, 2)));
        assert!(!t.add(Ipv4Addr::new(10, 0, 0, 3)));
        assert_eq!(t.refused, 1);
        assert_eq!(t.len(), 2);
    }
}
