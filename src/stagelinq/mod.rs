//! StageLinQ (Denon / Engine DJ), per `stagelinq.md`.
//!
//! * UDP: `discovery` (`airD` on 51337) and `eaas` (11224); `dissect_datagram` picks by magic.
//! * TCP: one `StreamDecoder` per direction of each connection (`stream`), which recognises the
//!   service (`classify`, helped by a `ServiceDirectory` of announced ports) and cuts the bytes
//!   into `directory`, `statemap`, `beatinfo`, `filetransfer`, `timesync`, `broadcast` and
//!   `syncing` messages. `ConnectionDecoder` pairs the two directions.
//! * Every message type has a Repr with `parse`, `buffer_len`, `emit` and `to_bytes`, so an
//!   emulator sends exactly what the dissector reads; `Message` wraps them all.
//!
//! Wiring it to a capture:
//! 1. For each UDP payload, `dissect_datagram`; feed the parsed `Message` to
//!    `ServiceDirectory::observe(source_ip, ..)` (discovery names each unit's directory port).
//! 2. For each new TCP connection, `ConnectionDecoder::new(services.lookup(server_ip,
//!    server_port), detail)`; push each direction's reassembled bytes with `push(side, ..)`,
//!    call `gap(side)` where bytes are missing and `finish()` at the end.
//! 3. Feed every returned message's `message` to `ServiceDirectory::observe(sender_ip, ..)`
//!    too (directory announcements name the service ports), and FileTransfer messages to a
//!    `filetransfer_tracker::FileTransferTracker` per connection.

pub mod beatinfo;
pub mod broadcast;
pub mod classify;
pub mod connection;
pub mod directory;
pub mod discovery;
pub mod eaas;
pub mod filetransfer;
mod filetransfer_dissect;
pub mod filetransfer_tracker;
pub mod models;
pub mod service_directory;
pub mod statemap;
pub mod statemap_json;
pub mod stream;
pub mod syncing;
pub mod timesync;
pub mod wire;

#[cfg(test)]
mod capture_check;
#[cfg(test)]
mod stream_tests;

pub use classify::{classify_stream, StreamKind};
pub use connection::{ConnectionDecoder, Side};
pub use service_directory::ServiceDirectory;
pub use stream::{StreamDecoder, StreamMessage};
pub use wire::{Error, Token};

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto, Value};

/// Any StageLinQ message, as parsed from the wire or built to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Discovery(discovery::Discovery),
    Eaas(eaas::EaasDiscovery),
    Directory(directory::DirectoryMessage),
    /// The service hello that opens a service connection (`stagelinq.md` 1.4).
    Hello(directory::ServiceAnnouncement),
    StateMap(statemap::StateMapMessage),
    BeatInfo(beatinfo::BeatInfoMessage),
    FileTransfer(filetransfer::FileTransferMessage),
    TimeSync(timesync::TimeSyncMessage),
    Broadcast(broadcast::BroadcastMessage),
    Syncing(syncing::SyncingMessage),
}

impl Message {
    pub fn buffer_len(&self) -> usize {
        match self {
            Message::Discovery(m) => m.buffer_len(),
            Message::Eaas(m) => m.buffer_len(),
            Message::Directory(m) => m.buffer_len(),
            Message::Hello(m) => m.buffer_len(),
            Message::StateMap(m) => m.buffer_len(),
            Message::BeatInfo(m) => m.buffer_len(),
            Message::FileTransfer(m) => m.buffer_len(),
            Message::TimeSync(m) => m.buffer_len(),
            Message::Broadcast(m) => m.buffer_len(),
            Message::Syncing(m) => m.buffer_len(),
        }
    }

    /// Write into `buf`, which must hold `buffer_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            Message::Discovery(m) => m.emit(buf),
            Message::Eaas(m) => m.emit(buf),
            Message::Directory(m) => m.emit(buf),
            Message::Hello(m) => m.emit(buf),
            Message::StateMap(m) => m.emit(buf),
            Message::BeatInfo(m) => m.emit(buf),
            Message::FileTransfer(m) => m.emit(buf),
            Message::TimeSync(m) => m.emit(buf),
            Message::Broadcast(m) => m.emit(buf),
            Message::Syncing(m) => m.emit(buf),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Dissect a UDP payload that starts with a StageLinQ magic (`airD` discovery or `EAAS`),
/// whatever the port; None for anything else.
pub fn dissect_datagram(
    payload: &[u8],
    detail: impl Into<Depth>,
) -> Option<(Dissection, Option<Message>)> {
    let detail: Depth = detail.into();
    if payload.starts_with(discovery::MAGIC) {
        let m = discovery::Discovery::parse(payload)
            .ok()
            .map(Message::Discovery);
        Some((discovery::dissect(payload, detail), m))
    } else if payload.starts_with(eaas::MAGIC) {
        let m = eaas::EaasDiscovery::parse(payload).ok().map(Message::Eaas);
        Some((eaas::dissect(payload, detail), m))
    } else {
        None
    }
}

/// Report bytes nobody could decode (type `unknown`), keeping every byte: `stream` names the
/// connection kind they came from, `reason` why they were not decoded.
pub fn dissect_unknown(
    b: &[u8],
    stream: &str,
    detail: impl Into<Depth>,
    reason: &str,
) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "unknown");
    let mut s = FieldSink::new(b, &mut d, detail);
    s.derived("stream", Value::str(stream.to_string()));
    s.unknown_rest(0);
    d.summary = format!("{} unknown bytes on {stream}: {reason}", b.len());
    d
}

/// Parse `bytes` as the StageLinQ message family that `type_name` (a dissection's type) names.
/// None when the type names no family or the bytes do not parse.
pub fn parse(bytes: &[u8], type_name: &str) -> Option<Message> {
    let t = type_name;
    Some(if t == "discovery" {
        Message::Discovery(discovery::Discovery::parse(bytes).ok()?)
    } else if t.starts_with("eaas") {
        Message::Eaas(eaas::EaasDiscovery::parse(bytes).ok()?)
    } else if matches!(
        t,
        "services_request" | "service_announcement" | "service_hello" | "reference"
    ) {
        Message::Directory(directory::DirectoryMessage::parse(bytes).ok()?)
    } else if t.starts_with("statemap") {
        Message::StateMap(statemap::StateMapMessage::parse(bytes).ok()?)
    } else if t.starts_with("beat_info") {
        Message::BeatInfo(beatinfo::BeatInfoMessage::parse(bytes).ok()?)
    } else if t == "time_sync" {
        Message::TimeSync(timesync::TimeSyncMessage::parse(bytes).ok()?)
    } else if t == "broadcast" {
        Message::Broadcast(broadcast::BroadcastMessage::parse(bytes).ok()?)
    } else if t == "syncing" {
        Message::Syncing(syncing::SyncingMessage::parse(bytes).ok()?)
    } else if t == "file_transfer" {
        Message::FileTransfer(filetransfer::FileTransferMessage::parse(bytes).ok()?)
    } else {
        return None;
    })
}

/// Parse `bytes` as the StageLinQ message family that `type_name` (a dissection's type) names
/// and emit it again: the round-trip check the emulator relies on. None when it does not parse.
pub fn reparse(bytes: &[u8], type_name: &str) -> Option<Vec<u8>> {
    parse(bytes, type_name).map(|m| m.to_bytes())
}
