//! The recorded server side of every StageLinQ unit of a capture (issue 14, "Answering"),
//! indexed so that a live client is answered by what it asks: the directory (the unit's own
//! ServicesRequest and its service announcements), StateMap (per path, the value the unit
//! sent; the unit's own subscriptions on a connection a client opened) and BeatInfo (the
//! recorded beat frames with their times).
//!
//! Built in one streamed pass with `read`'s own engine (TCP reassembly, the StageLinQ stream
//! framers): a record is the server side of a service when it comes from an address and port
//! the unit announced on its directory connection (the directory's server is the side that
//! sends announcements). Every message is kept as the unit sent it, so a client that replays
//! the capture's own client side gets byte-identical answers.
//!
//! Bounded: at most [`MAX_BYTES`] of recorded messages over all units, [`MAX_SERVICES`]
//! announcements per unit, [`MAX_PATHS`] StateMap paths per unit; what does not fit counts in
//! [`SlqIndex::over_budget`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::ControlFlow;
use std::path::Path;

use crate::capture::CaptureReader;
use crate::dissect::Proto;
use crate::engine::{Engine, EngineOptions};
use crate::stagelinq::beatinfo::BeatInfoMessage;
use crate::stagelinq::directory::DirectoryMessage;
use crate::stagelinq::filetransfer::FileTransferMessage;
use crate::stagelinq::statemap::StateMapMessage;
use crate::stagelinq::wire::Token;

/// Recorded message bytes kept at most, over all units.
pub const MAX_BYTES: usize = 16 << 20;
/// Announcements kept per unit (real units announce six).
pub const MAX_SERVICES: usize = 32;
/// StateMap paths kept per unit.
pub const MAX_PATHS: usize = 4096;
/// The unit's own subscriptions kept per unit.
const MAX_OWN_SUBSCRIPTIONS: usize = 64;
/// Beat frames kept per unit.
pub const MAX_BEATS: usize = 100_000;
/// Directory connections looked at before an announcement names the server.
const MAX_PENDING: usize = 256;

/// The discovery port: its datagrams are not a service's.
const DISCOVERY_PORT: u16 = 51337;

/// One recorded service a unit announced.
#[derive(Debug, Clone)]
pub struct Announced {
    pub service: String,
    pub port: u16,
    /// The announcement as the unit sent it.
    pub bytes: Vec<u8>,
}

/// One recorded StageLinQ unit (one address may hold several when a capture holds them; the
/// first directory recorded is kept).
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// The directory port the unit answered on.
    pub directory_port: u16,
    pub token: Option<Token>,
    /// The unit's own ServicesRequest as sent on accept.
    pub own_request: Option<Vec<u8>>,
    pub services: Vec<Announced>,
    /// StateMap: per path, the value message (length prefix included) the unit first sent:
    /// the answer to the first subscription to it.
    pub values: HashMap<String, Vec<u8>>,
    /// StateMap: the subscriptions the unit itself sent on the first StateMap connection.
    pub own_subscriptions: Vec<Vec<u8>>,
    /// BeatInfo: the beat frames of the first BeatInfo connection, (ns since the first, bytes).
    pub beats: Vec<(i128, Vec<u8>)>,
    /// FileTransfer: per request (its bytes with the transaction id 0, [`ft_key`]), the
    /// messages the unit answered the first time it was asked. A request whose answer did not
    /// fit the budget is not kept (it is answered as unrecorded).
    pub ft_answers: HashMap<Vec<u8>, Vec<Vec<u8>>>,
}

/// What a FileTransfer request is matched on: the request with its transaction id taken out
/// (a live client has its own ids). None for what is not a request.
pub fn ft_key(bytes: &[u8]) -> Option<(u32, Vec<u8>)> {
    let mut m = FileTransferMessage::parse(bytes).ok()?;
    if !(0x7d1..=0x7d6).contains(&m.body.msg_id()) {
        return None;
    }
    let tx = m.txid;
    m.txid = 0;
    Some((tx, m.to_bytes()))
}

impl Unit {
    /// The port a service was announced on.
    pub fn service_of(&self, port: u16) -> Option<&str> {
        self.services
            .iter()
            .find(|a| a.port == port)
            .map(|a| a.service.as_str())
    }
}

/// The recorded StageLinQ answers of a capture.
#[derive(Debug, Default)]
pub struct SlqIndex {
    pub units: HashMap<Ipv4Addr, Unit>,
    bytes: usize,
    /// Recorded messages that did not fit a bound.
    pub over_budget: u64,
    /// The first StateMap / BeatInfo connection of each unit (its later ones are not indexed
    /// for the unit's own subscriptions and beats: one stream each is enough to serve).
    first_statemap: HashMap<Ipv4Addr, SocketAddr>,
    first_beatinfo: HashMap<Ipv4Addr, (SocketAddr, i128)>,
    /// FileTransfer requests waiting for their answer, by client: (unit, txid, key).
    ft_pending: HashMap<SocketAddr, (Ipv4Addr, u32, Vec<u8>)>,
    /// Directory connections whose server is not known yet: the ServicesRequest each side
    /// sent, by sender.
    dir_requests: HashMap<SocketAddr, Vec<u8>>,
}

impl SlqIndex {
    /// Index the StageLinQ services of `path` (one streamed pass; `replay::plan` builds it in
    /// the dbserver index's pass with [`SlqIndex::record`] instead).
    pub fn build(path: &Path) -> Result<SlqIndex, crate::capture::CaptureError> {
        let mut reader = CaptureReader::open(path)?;
        let mut engine = Engine::new(EngineOptions::default());
        let mut index = SlqIndex::default();
        let mut sink = |rec: &crate::record::Record<'_>| {
            index.record(rec);
            ControlFlow::Continue(())
        };
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    let _ = engine.frame(&f, &mut sink);
                }
                Ok(None) => break,
                Err(e) if e.is_resumable() => continue,
                Err(_) => break,
            }
        }
        let _ = engine.finish(&mut sink);
        Ok(index)
    }

    /// Index one record of `read`'s engine (records of other protocols are ignored).
    pub fn record(&mut self, rec: &crate::record::Record<'_>) {
        if rec.dissection.proto == Proto::StageLinq
            && rec.src.port() != DISCOVERY_PORT
            && rec.dst.port() != DISCOVERY_PORT
        {
            let mut requests = std::mem::take(&mut self.dir_requests);
            self.take(rec.src, rec.dst, rec.ts_ns, rec.bytes, &mut requests);
            self.dir_requests = requests;
        }
    }

    fn budget(&mut self, n: usize) -> bool {
        if self.bytes + n > MAX_BYTES {
            self.over_budget += 1;
            return false;
        }
        self.bytes += n;
        true
    }

    pub(crate) fn take(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        ts_ns: i128,
        bytes: &[u8],
        requests: &mut HashMap<SocketAddr, Vec<u8>>,
    ) {
        let (IpAddr::V4(src_ip), IpAddr::V4(_)) = (src.ip(), dst.ip()) else {
            return;
        };
        // From a recorded service of the unit at `src`?
        let service = self
            .units
            .get(&src_ip)
            .and_then(|u| u.service_of(src.port()))
            .map(str::to_owned);
        match service.as_deref() {
            Some("StateMap") => return self.statemap(src_ip, src, dst, bytes),
            Some("BeatInfo") => return self.beatinfo(src_ip, dst, ts_ns, bytes),
            Some("FileTransfer") => return self.ft_answer(src_ip, dst, bytes),
            Some(_) => return,
            None => {}
        }
        // A request to a recorded FileTransfer service?
        if let IpAddr::V4(d) = dst.ip() {
            let ft = self
                .units
                .get(&d)
                .and_then(|u| u.service_of(dst.port()))
                .is_some_and(|s| s == "FileTransfer");
            if ft {
                if let Some((tx, key)) = ft_key(bytes) {
                    let known = self
                        .units
                        .get(&d)
                        .is_some_and(|u| u.ft_answers.contains_key(&key));
                    if known {
                        // A repeat: the first answer serves.
                        self.ft_pending.remove(&src);
                    } else if self.ft_pending.len() < MAX_PENDING
                        || self.ft_pending.contains_key(&src)
                    {
                        if let Some(u) = self.units.get_mut(&d) {
                            u.ft_answers.insert(key.clone(), Vec::new());
                        }
                        self.ft_pending.insert(src, (d, tx, key));
                    }
                }
                return;
            }
        }
        // A directory message?
        match DirectoryMessage::parse(bytes) {
            Ok(DirectoryMessage::ServicesRequest(r)) => {
                if requests.len() < MAX_PENDING || requests.contains_key(&src) {
                    requests.entry(src).or_insert_with(|| bytes.to_vec());
                }
                let _ = r;
            }
            Ok(DirectoryMessage::ServiceAnnouncement(a)) => {
                // An announcement comes from the directory's server; a service hello (same
                // layout) from a client to a recorded service port is not one.
                let to_service = match dst.ip() {
                    IpAddr::V4(d) => self
                        .units
                        .get(&d)
                        .is_some_and(|u| u.service_of(dst.port()).is_some()),
                    IpAddr::V6(_) => false,
                };
                if to_service {
                    return;
                }
                let own = requests.get(&src).cloned();
                let unit = self.units.entry(src_ip).or_default();
                if unit.directory_port == 0 {
                    unit.directory_port = src.port();
                    unit.token = Some(a.token);
                    unit.own_request = own;
                }
                if unit.directory_port != src.port()
                    || unit.services.iter().any(|s| s.service == a.service)
                {
                    return;
                }
                if unit.services.len() >= MAX_SERVICES {
                    self.over_budget += 1;
                    return;
                }
                if !self.budget(bytes.len()) {
                    return;
                }
                let unit = self.units.entry(src_ip).or_default();
                unit.services.push(Announced {
                    service: a.service,
                    port: a.port,
                    bytes: bytes.to_vec(),
                });
            }
            _ => {}
        }
    }

    fn statemap(&mut self, unit_ip: Ipv4Addr, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        let Ok(m) = StateMapMessage::parse(bytes) else {
            return;
        };
        match m {
            StateMapMessage::Value { path, .. } => {
                let Some(u) = self.units.get(&unit_ip) else {
                    return;
                };
                if u.values.contains_key(&path) {
                    return;
                }
                if u.values.len() >= MAX_PATHS {
                    self.over_budget += 1;
                    return;
                }
                if !self.budget(bytes.len() + path.len()) {
                    return;
                }
                if let Some(u) = self.units.get_mut(&unit_ip) {
                    u.values.insert(path, bytes.to_vec());
                }
            }
            StateMapMessage::Subscribe { .. } => {
                let first = *self.first_statemap.entry(unit_ip).or_insert(dst);
                let full = self
                    .units
                    .get(&unit_ip)
                    .is_none_or(|u| u.own_subscriptions.len() >= MAX_OWN_SUBSCRIPTIONS);
                if first != dst || full || !self.budget(bytes.len()) {
                    return;
                }
                let _ = src;
                if let Some(u) = self.units.get_mut(&unit_ip) {
                    u.own_subscriptions.push(bytes.to_vec());
                }
            }
            _ => {}
        }
    }

    fn beatinfo(&mut self, unit_ip: Ipv4Addr, dst: SocketAddr, ts_ns: i128, bytes: &[u8]) {
        if !matches!(BeatInfoMessage::parse(bytes), Ok(BeatInfoMessage::Beat(_))) {
            return;
        }
        let (first, t0) = *self.first_beatinfo.entry(unit_ip).or_insert((dst, ts_ns));
        if first != dst {
            return;
        }
        let full = self
            .units
            .get(&unit_ip)
            .is_none_or(|u| u.beats.len() >= MAX_BEATS);
        if full || !self.budget(bytes.len()) {
            if !full {
                return;
            }
            self.over_budget += 1;
            return;
        }
        if let Some(u) = self.units.get_mut(&unit_ip) {
            u.beats.push((ts_ns - t0, bytes.to_vec()));
        }
    }

    fn ft_answer(&mut self, unit_ip: Ipv4Addr, client: SocketAddr, bytes: &[u8]) {
        let Some((unit, tx, key)) = self.ft_pending.get(&client).cloned() else {
            return;
        };
        let Ok(m) = FileTransferMessage::parse(bytes) else {
            return;
        };
        if unit != unit_ip || m.txid != tx {
            return;
        }
        if !self.budget(bytes.len()) {
            // An answer cut short would mislead: the request is answered as unrecorded.
            if let Some(u) = self.units.get_mut(&unit) {
                u.ft_answers.remove(&key);
            }
            self.ft_pending.remove(&client);
            return;
        }
        if let Some(v) = self
            .units
            .get_mut(&unit)
            .and_then(|u| u.ft_answers.get_mut(&key))
        {
            v.push(bytes.to_vec());
        }
    }

    /// No unit with a recorded directory.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Bytes of recorded messages kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_capture_indexes_its_unit_within_bounds() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/stagelinq-set.pcapng");
        let index = SlqIndex::build(&file).unwrap();
        assert!(!index.is_empty());
        for u in index.units.values() {
            assert!(u.directory_port != 0);
            assert!(u.own_request.is_some(), "the unit's own ServicesRequest");
            assert!(u.services.iter().any(|a| a.service == "StateMap"));
            assert!(u.services.len() <= MAX_SERVICES);
            assert!(u.values.len() <= MAX_PATHS);
            assert!(u.beats.len() <= MAX_BEATS);
        }
        assert!(index.units.values().any(|u| !u.values.is_empty()));
        assert!(index.bytes() <= MAX_BYTES);
        assert_eq!(index.over_budget, 0);
    }

    #[test]
    fn a_service_hello_is_not_taken_for_an_announcement() {
        use crate::stagelinq::directory::ServiceAnnouncement;
        let mut index = SlqIndex::default();
        let mut requests = HashMap::new();
        let unit: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let client: SocketAddr = "10.0.0.3:50000".parse().unwrap();
        let a = ServiceAnnouncement::new(Token([1; 16]), "StateMap", 41000).to_bytes();
        index.take(unit, client, 0, &a, &mut requests);
        // The client's hello to the announced port has the same layout.
        let hello = ServiceAnnouncement::new(Token([2; 16]), "StateMap", 50001).to_bytes();
        let to: SocketAddr = "10.0.0.2:41000".parse().unwrap();
        index.take(client, to, 0, &hello, &mut requests);
        assert_eq!(index.units.len(), 1);
        let u = &index.units[&Ipv4Addr::new(10, 0, 0, 2)];
        assert_eq!(u.directory_port, 40000);
        assert_eq!(u.services.len(), 1);
    }
}
