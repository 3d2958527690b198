//! Who is on the network: one entry per (IP, device number), because XDJ-XZ, OPUS-QUAD and
//! CDJ-3000 put several numbers behind one address (prodjlink.md 1.5), plus the number-claim
//! history of the power-up handshake (prodjlink.md 2, 9.1).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::prodjlink::Packet;
use crate::record::Record;
use crate::stagelinq::discovery::Discovery;
use crate::stagelinq::Message;

/// A device stops counting as present after this long without a keep-alive (Beat Link's
/// `DeviceFinder.MAXIMUM_AGE`, prodjlink.md 2 "Timing facts").
pub const KEEPALIVE_TIMEOUT_NS: i128 = 10_000_000_000;

/// A device's identity, ordered by address then number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DeviceKey {
    pub ip: IpAddr,
    /// Device number (Pro DJ Link) or 0 for StageLinQ devices, which have none.
    pub device: u32,
}

impl DeviceKey {
    /// The order of (ip, device) as integers: IPv4 before IPv6, each address by value. The
    /// same order as comparing the addresses' octets, without a byte-string comparison for
    /// every step of a lookup (every record looks its sender up).
    fn order(&self) -> (bool, u128, u32) {
        match self.ip {
            IpAddr::V4(a) => (false, u32::from(a) as u128, self.device),
            IpAddr::V6(a) => (true, u128::from(a), self.device),
        }
    }
}

impl Ord for DeviceKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

impl PartialOrd for DeviceKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub ip: IpAddr,
    pub device: u32,
    pub protocol: &'static str,
    pub name: Option<String>,
    pub model: Option<String>,
    pub role: &'static str,
    pub mac: Option<String>,
    pub firmware: Option<String>,
    /// RFC 3339 of the first and last message.
    pub first_seen: String,
    pub last_seen: String,
    #[serde(skip)]
    pub first_ns: i128,
    #[serde(skip)]
    pub last_ns: i128,
    #[serde(skip)]
    pub last_keepalive_ns: Option<i128>,
    pub packets: PacketCounts,
    /// Times the device went silent or said goodbye, and came back.
    pub departures: super::limits::Departures<Departure>,
    pub left: Option<String>,
    /// The bytes `mac` and `firmware` were made from: a packet that repeats them costs no text.
    #[serde(skip)]
    mac_raw: Option<[u8; 6]>,
    #[serde(skip)]
    firmware_raw: Option<[u8; 4]>,
}

/// Messages a device sent, counted by type. A device sends a handful of types, so the counts
/// are a short list searched by the type name's address first (type names are static text):
/// counting a status packet compares no text. Reads and serialises as a map sorted by type.
#[derive(Debug, Clone, Default)]
pub struct PacketCounts(Vec<(Cow<'static, str>, u64)>);

impl PacketCounts {
    /// Count one message of `type_name` (a `Cow`, so that a static name is kept borrowed and
    /// found by address next time).
    #[allow(clippy::ptr_arg)]
    pub fn count(&mut self, type_name: &Cow<'static, str>) {
        let t: &str = type_name;
        let same_text = |k: &Cow<'static, str>| std::ptr::eq(k.as_ref(), t);
        let i = match self.0.iter().position(|(k, _)| same_text(k)) {
            Some(i) => Some(i),
            None => self.0.iter().position(|(k, _)| k == t),
        };
        match i {
            Some(i) => self.0[i].1 += 1,
            None => self.0.push((type_name.clone(), 1)),
        }
    }

    /// (type, count), sorted by type.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.0.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
        v.sort_unstable_by_key(|&(k, _)| k);
        v.into_iter()
    }

    /// The counts, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().map(|&(_, n)| n)
    }
}

impl Serialize for PacketCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Departure {
    pub left: String,
    pub reason: String,
    pub returned: Option<String>,
}

/// One step of a number negotiation.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    pub frame: u64,
    pub ts: String,
    #[serde(skip)]
    pub ts_ns: i128,
    pub ip: IpAddr,
    pub name: Option<String>,
    pub mac: Option<String>,
    pub step: String,
    pub number: Option<u64>,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct DeviceTable {
    pub devices: BTreeMap<DeviceKey, Device>,
    pub claims: super::limits::Changes<Claim>,
    /// Devices left out by the bounds of [`super::limits`] (claims and departures count their
    /// own: [`DeviceTable::omitted_total`]).
    pub omitted: u64,
    /// Stands in for a device beyond [`super::limits::MAX_DEVICES`]; reset on every use.
    overflow: Option<Device>,
}

/// Role from the keep-alive device type (prodjlink.md 2, byte 0x34) or from the name.
fn role_of(device_type: Option<u64>, name: Option<&str>, device: u32) -> &'static str {
    match device_type {
        Some(1) => return "player",
        Some(2) | Some(3) => return "mixer",
        Some(4) => return "rekordbox",
        Some(5) => return "stagehand",
        _ => {}
    }
    let n = name.unwrap_or("").to_ascii_lowercase();
    if n.starts_with("djm") || device == 33 {
        "mixer"
    } else if n.contains("rekordbox") {
        "rekordbox"
    } else if n.contains("showkontrol") || n.contains("stagehand") {
        "stagehand"
    } else if n.starts_with("nxs-gw") {
        "gateway"
    } else {
        "player"
    }
}

/// Text that says something: None when empty.
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The step of the number negotiation a Pro DJ Link message type is (prodjlink.md 2, 9.1).
fn claim_step(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "hello" => "hello",
        "claim_mac" => "claim stage 1 (MAC)",
        "claim_ip" => "claim stage 2 (IP)",
        "claim_final" => "claim stage 3 (final)",
        "mixer_assign_intent" => "mixer will assign",
        "mixer_assign" => "mixer assigned",
        "assignment_finished" => "number held",
        "channel_conflict" => "number conflict",
        _ => return None,
    })
}

impl DeviceTable {
    /// The device's entry; `first_seen`/`last_seen` text is filled by [`DeviceTable::finish`]
    /// (formatting a time per record would dominate the session's cost).
    fn entry(&mut self, key: DeviceKey, r: &Record<'_>, protocol: &'static str) -> &mut Device {
        let full =
            self.devices.len() >= super::limits::MAX_DEVICES && !self.devices.contains_key(&key);
        let make = || Device {
            ip: key.ip,
            device: key.device,
            protocol,
            name: None,
            model: None,
            role: "player",
            mac: None,
            firmware: None,
            first_seen: String::new(),
            last_seen: String::new(),
            first_ns: r.ts_ns,
            last_ns: r.ts_ns,
            last_keepalive_ns: None,
            packets: PacketCounts::default(),
            departures: Default::default(),
            left: None,
            mac_raw: None,
            firmware_raw: None,
        };
        let d = if full {
            // Beyond the bound: the record still works on a scratch row that is not kept.
            self.omitted += 1;
            self.overflow.insert(make())
        } else {
            self.devices.entry(key).or_insert_with(make)
        };
        d.first_ns = d.first_ns.min(r.ts_ns);
        d.last_ns = d.last_ns.max(r.ts_ns);
        d
    }

    /// A StageLinQ record and its message as `session::stagelinq::parse` gives it; returns a
    /// timeline line when something about presence changed.
    pub fn observe_stagelinq(
        &mut self,
        r: &Record<'_>,
        message: Option<&Message>,
    ) -> Option<String> {
        if r.dissection.type_name == "discovery" {
            let discovery = match message {
                Some(Message::Discovery(d)) => Some(d),
                _ => None,
            };
            return self.observe_discovery(r, discovery);
        }
        // Any StageLinQ message refreshes its sender, if discovery introduced it.
        let key = DeviceKey {
            ip: r.src.ip(),
            device: 0,
        };
        if let Some(d) = self.devices.get_mut(&key) {
            d.last_ns = d.last_ns.max(r.ts_ns);
        }
        None
    }

    /// A claim step: its line, and the claim kept for the device it turns out to be.
    fn claim(&mut self, r: &Record<'_>, step: &'static str, packet: Option<&Packet>) -> String {
        let dis = &r.dissection;
        let t: &str = &dis.type_name;
        // The number the step names (claimed, assigned, contested, held); the head's device
        // holds the same when the message is cut short.
        let number = match packet {
            Some(Packet::ClaimIp(c)) => Some(c.device),
            Some(Packet::ClaimFinal(c)) => Some(c.device),
            Some(Packet::AssignmentFinished(c)) => Some(c.device),
            Some(Packet::MixerAssign(c)) => Some(c.device),
            Some(Packet::ChannelConflict(c)) => Some(c.device),
            _ => None,
        }
        .map(u64::from)
        .or(dis.device.map(u64::from))
        .filter(|&n| n != 0);
        let name = dis.name.clone().filter(|n| !n.is_empty());
        let (mac, counter) = match packet {
            Some(Packet::ClaimMac(c)) => (Some(crate::util::mac(&c.mac)), Some(c.counter)),
            Some(Packet::ClaimIp(c)) => (Some(crate::util::mac(&c.mac)), None),
            _ => (None, None),
        };
        let who = match &name {
            Some(n) => format!("{n} ({})", r.src.ip()),
            None => r.src.ip().to_string(),
        };
        let text = match (t, number) {
            ("hello", _) => format!("{who} says hello"),
            ("claim_mac", _) => match counter {
                Some(c) => format!("{who}: {step}, packet {c}"),
                None => format!("{who}: {step}"),
            },
            ("channel_conflict", Some(n)) => format!("{who} says number {n} is already taken"),
            ("mixer_assign", Some(n)) => format!("{who} assigns number {n} to {}", r.dst.ip()),
            ("assignment_finished", Some(n)) => {
                format!("{who} tells {} it holds number {n}", r.dst.ip())
            }
            (_, Some(n)) => format!("{who}: {step}, number {n}"),
            (_, None) => format!("{who}: {step}"),
        };
        let claim = Claim {
            frame: r.frame,
            ts: super::ts(r.ts_ns),
            ts_ns: r.ts_ns,
            ip: r.src.ip(),
            name,
            mac,
            step: step.to_string(),
            number,
            text: text.clone(),
        };
        self.claims.push(claim);
        text
    }

    /// A Pro DJ Link record and its packet (None when it does not parse); returns a timeline
    /// line when something about presence changed.
    pub fn observe_prodjlink(&mut self, r: &Record<'_>, packet: Option<&Packet>) -> Option<String> {
        let dis = &r.dissection;
        let t: &str = &dis.type_name;
        // By the head's type, so that a claim cut short still counts as a step.
        if let Some(step) = claim_step(t) {
            return Some(self.claim(r, step, packet));
        }
        let device = dis.device?;
        // Claims before the number is settled carry no usable device number; everything else
        // identifies its sender by (source IP, number).
        if device == 0 {
            return None;
        }
        let key = DeviceKey {
            ip: r.src.ip(),
            device,
        };
        let ts_ns = r.ts_ns;
        // Keep-alives carry the type and MAC, status packets the firmware.
        let (device_type, mac, firmware) = match packet {
            Some(Packet::KeepAlive(k)) => (Some(k.device_type as u64), Some(&k.mac), None),
            Some(Packet::CdjStatus(s)) => (None, None, Some(s)),
            _ => (None, None, None),
        };
        let name = dis.name.as_deref().filter(|n| !n.is_empty());
        let is_keepalive = t == "keep_alive";
        let d = self.entry(key, r, "prodjlink");
        d.packets.count(&dis.type_name);
        if let Some(n) = name {
            if d.name.is_none() {
                d.model = Some(n.to_string());
                d.role = role_of(device_type, Some(n), device);
            }
            if d.name.as_deref() != Some(n) {
                d.name = Some(n.to_string());
            }
        }
        if device_type.is_some() {
            d.role = role_of(device_type, d.name.as_deref(), device);
        }
        if let Some(mac) = mac.filter(|&m| d.mac_raw.as_ref() != Some(m)) {
            d.mac = Some(crate::util::mac(mac));
            d.mac_raw = Some(*mac);
        }
        if let Some(s) = firmware.filter(|s| d.firmware_raw != Some(s.firmware)) {
            // Empty text (all NULs) leaves what an earlier status said.
            if let Some(text) = non_empty(&s.firmware_text()) {
                d.firmware = Some(text);
            }
            d.firmware_raw = Some(s.firmware);
        }
        let mut line = None;
        if is_keepalive {
            if let Some(prev) = d.last_keepalive_ns {
                if ts_ns - prev > KEEPALIVE_TIMEOUT_NS {
                    d.departures.push(Departure {
                        left: super::ts(prev + KEEPALIVE_TIMEOUT_NS),
                        reason: "keep-alives stopped".into(),
                        returned: Some(super::ts(ts_ns)),
                    });
                    line = Some(format!(
                        "{} #{device} came back after {:.1} s without keep-alives",
                        d.name.as_deref().unwrap_or("device"),
                        (ts_ns - prev) as f64 / 1e9
                    ));
                }
            } else {
                line = Some(format!(
                    "{} #{device} ({}) is on the network as a {}",
                    d.name.as_deref().unwrap_or("device"),
                    key.ip,
                    d.role
                ));
            }
            d.last_keepalive_ns = Some(ts_ns);
        }
        line
    }

    /// A StageLinQ discovery datagram; `discovery` is None when it does not parse (the device
    /// still counts as seen).
    fn observe_discovery(
        &mut self,
        r: &Record<'_>,
        discovery: Option<&Discovery>,
    ) -> Option<String> {
        let key = DeviceKey {
            ip: r.src.ip(),
            device: 0,
        };
        let name = discovery.and_then(|d| non_empty(&d.device_name));
        let software = discovery.and_then(|d| non_empty(&d.software));
        let model = discovery
            .and_then(|d| crate::stagelinq::models::model_for(&d.software))
            .and_then(|m| non_empty(m.unit));
        let version = discovery.and_then(|d| non_empty(&d.version));
        let action = discovery.map_or("", |d| d.action.as_str());
        let ts_ns = r.ts_ns;
        let d = self.entry(key, r, "stagelinq");
        d.packets.count(&Cow::Borrowed("discovery"));
        let new = d.name.is_none();
        // The SC6000 announces its player and two "OfflineAnalyzer" helpers from one address
        // (stagelinq.md 3): the player identity wins; a helper only fills an empty row.
        let helper = software
            .as_deref()
            .is_some_and(|s| s.contains("OfflineAnalyzer"));
        if d.name.is_none() || !helper {
            if name.is_some() {
                d.name = name;
            }
            d.model = model.or(software.clone()).or(d.model.take());
            if version.is_some() {
                d.firmware = version;
            }
        }
        d.role = "stagelinq";
        if action.contains("EXIT") {
            if d.left.is_some() {
                // The same unit's other identities saying goodbye too.
                return None;
            }
            d.left = Some(super::ts(ts_ns));
            d.departures.push(Departure {
                left: super::ts(ts_ns),
                reason: "said goodbye (DISCOVERER_EXIT_)".into(),
                returned: None,
            });
            return Some(format!(
                "{} ({}) left the network",
                d.name.as_deref().unwrap_or("device"),
                key.ip
            ));
        }
        if let Some(dep) = d.departures.last_mut() {
            if dep.returned.is_none() {
                dep.returned = Some(super::ts(ts_ns));
                d.left = None;
            }
        }
        new.then(|| {
            format!(
                "StageLinQ {} {} ({}) announces itself",
                d.model.as_deref().unwrap_or("device"),
                d.name.as_deref().unwrap_or(""),
                key.ip
            )
        })
    }

    /// End of input: Pro DJ Link devices whose keep-alives stopped long before the end left.
    pub fn finish(&mut self, end_ns: i128) -> Vec<(i128, String)> {
        let mut lines = Vec::new();
        self.refresh_times();
        for d in self.devices.values_mut() {
            if let Some(last) = d.last_keepalive_ns {
                if end_ns - last > KEEPALIVE_TIMEOUT_NS && d.left.is_none() {
                    let at = last + KEEPALIVE_TIMEOUT_NS;
                    d.left = Some(super::ts(at));
                    d.departures.push(Departure {
                        left: super::ts(at),
                        reason: "keep-alives stopped".into(),
                        returned: None,
                    });
                    lines.push((
                        at,
                        format!(
                            "{} #{} left (no keep-alive for 10 s)",
                            d.name.as_deref().unwrap_or("device"),
                            d.device
                        ),
                    ));
                }
            }
        }
        lines
    }

    /// Fill the `first_seen`/`last_seen` text from the times (call before reporting).
    pub fn refresh_times(&mut self) {
        for d in self.devices.values_mut() {
            d.first_seen = super::ts(d.first_ns);
            d.last_seen = super::ts(d.last_ns);
        }
    }

    /// Devices, claims and departures left out by the bounds of [`super::limits`].
    pub fn omitted_total(&self) -> u64 {
        self.omitted
            + self.claims.left_out()
            + self
                .devices
                .values()
                .map(|d| d.departures.left_out())
                .sum::<u64>()
    }

    /// Attach claims to devices by MAC or name (claims are sent before the number is settled).
    pub fn claims_of(&self, d: &Device) -> Vec<&Claim> {
        self.claims
            .iter()
            .filter(|c| {
                (c.mac.is_some() && c.mac == d.mac)
                    || (c.ip == d.ip && c.name.is_some() && c.name == d.name)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_keys_sort_as_address_then_number() {
        let ips = [
            "10.0.0.2",
            "9.255.255.255",
            "10.0.0.10",
            "::1",
            "fe80::1",
            "0.0.0.0",
        ];
        let mut keys: Vec<DeviceKey> = ips
            .iter()
            .flat_map(|ip| {
                [3, 1, 33].map(|device| DeviceKey {
                    ip: ip.parse().unwrap(),
                    device,
                })
            })
            .collect();
        let mut tuples: Vec<(IpAddr, u32)> = keys.iter().map(|k| (k.ip, k.device)).collect();
        keys.sort();
        tuples.sort();
        assert_eq!(
            keys.iter().map(|k| (k.ip, k.device)).collect::<Vec<_>>(),
            tuples
        );
    }
}
