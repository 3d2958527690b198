//! Who is on the network: one entry per (IP, device number), because XDJ-XZ, OPUS-QUAD and
//! CDJ-3000 put several numbers behind one address (prodjlink.md 1.5), plus the number-claim
//! history of the power-up handshake (prodjlink.md 2, 9.1).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::dissect::{Proto, Value};
use crate::record::Record;

/// A device stops counting as present after this long without a keep-alive (Beat Link's
/// `DeviceFinder.MAXIMUM_AGE`, prodjlink.md 2 "Timing facts").
pub const KEEPALIVE_TIMEOUT_NS: i128 = 10_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DeviceKey {
    pub ip: IpAddr,
    /// Device number (Pro DJ Link) or 0 for StageLinQ devices, which have none.
    pub device: u32,
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
    pub packets: BTreeMap<std::borrow::Cow<'static, str>, u64>,
    /// Times the device went silent or said goodbye, and came back.
    pub departures: Vec<Departure>,
    pub left: Option<String>,
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
    pub claims: Vec<Claim>,
    /// Devices, claims and departures left out by the bounds of [`super::limits`].
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

fn str_field(r: &Record<'_>, name: &str) -> Option<String> {
    r.dissection.field(name).and_then(|v| match v {
        Value::Str(s) if !s.is_empty() => Some(s.to_string()),
        _ => None,
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
            packets: BTreeMap::new(),
            departures: Vec::new(),
            left: None,
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

    /// Returns a timeline line when something about presence changed.
    pub fn observe(&mut self, r: &Record<'_>) -> Option<String> {
        let dis = &r.dissection;
        match dis.proto {
            Proto::ProDjLink => self.observe_prodjlink(r),
            Proto::StageLinq if dis.type_name == "discovery" => self.observe_discovery(r),
            Proto::StageLinq => {
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
            Proto::DbServer => None,
        }
    }

    fn observe_prodjlink(&mut self, r: &Record<'_>) -> Option<String> {
        let dis = &r.dissection;
        let t: &str = &dis.type_name;
        let claim_step = match t {
            "hello" => Some("hello"),
            "claim_mac" => Some("claim stage 1 (MAC)"),
            "claim_ip" => Some("claim stage 2 (IP)"),
            "claim_final" => Some("claim stage 3 (final)"),
            "mixer_assign_intent" => Some("mixer will assign"),
            "mixer_assign" => Some("mixer assigned"),
            "assignment_finished" => Some("number held"),
            "channel_conflict" => Some("number conflict"),
            _ => None,
        };
        if let Some(step) = claim_step {
            let number = [
                "claimed_device",
                "assigned_device",
                "contested_device",
                "device_number",
            ]
            .iter()
            .find_map(|n| dis.field(n).and_then(Value::as_u64))
            .or(dis.device.map(|d| d as u64))
            .filter(|&n| n != 0);
            let name = dis.name.clone().filter(|n| !n.is_empty());
            let mac = str_field(r, "mac");
            let who = match &name {
                Some(n) => format!("{n} ({})", r.src.ip()),
                None => r.src.ip().to_string(),
            };
            let counter = dis.field("counter").and_then(Value::as_u64);
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
            super::limits::push(
                &mut self.claims,
                claim,
                super::limits::MAX_EVENTS,
                &mut self.omitted,
            );
            return Some(text);
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
        // Keep-alives carry the type and MAC, status packets the firmware: one pass each, and
        // nothing to look for in other packets.
        let (device_type, mac, firmware) = match t {
            "keep_alive" => {
                let [ty, mac] = dis.fields_named(["device_type", "mac"]);
                let mac = mac
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                (ty.and_then(Value::as_u64), mac, None)
            }
            "cdj_status" => (None, None, str_field(r, "firmware")),
            _ => (None, None, None),
        };
        let name = dis.name.clone().filter(|n| !n.is_empty());
        let is_keepalive = t == "keep_alive";
        let d = self.entry(key, r, "prodjlink");
        *d.packets.entry(dis.type_name.clone()).or_default() += 1;
        if let Some(n) = name {
            if d.name.is_none() {
                d.model = Some(n.clone());
                d.role = role_of(device_type, Some(&n), device);
            }
            d.name = Some(n);
        }
        if device_type.is_some() {
            d.role = role_of(device_type, d.name.as_deref(), device);
        }
        if mac.is_some() {
            d.mac = mac;
        }
        if firmware.is_some() {
            d.firmware = firmware;
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

    fn observe_discovery(&mut self, r: &Record<'_>) -> Option<String> {
        let key = DeviceKey {
            ip: r.src.ip(),
            device: 0,
        };
        let name = str_field(r, "device_name");
        let software = str_field(r, "software");
        let model = str_field(r, "model");
        let version = str_field(r, "version");
        let action = str_field(r, "action").unwrap_or_default();
        let ts_ns = r.ts_ns;
        let d = self.entry(key, r, "stagelinq");
        *d.packets
            .entry(std::borrow::Cow::Borrowed("discovery"))
            .or_default() += 1;
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
