//! StageLinQ (Denon / Engine DJ), per `stagelinq.md`.

pub mod beatinfo;
pub mod broadcast;
pub mod directory;
pub mod discovery;
pub mod eaas;
pub mod filetransfer;
mod filetransfer_dissect;
pub mod filetransfer_tracker;
pub mod models;
pub mod statemap;
pub mod statemap_json;
pub mod syncing;
pub mod timesync;
pub mod wire;

pub use wire::{Error, Token};

use crate::dissect::{Dissection, FieldSink, Proto, Value};

/// Report bytes nobody could decode (type `unknown`), keeping every byte: `stream` names the
/// connection kind they came from, `reason` why they were not decoded.
pub fn dissect_unknown(b: &[u8], stream: &str, detail: bool, reason: &str) -> Dissection {
    let mut d = Dissection::new(Proto::StageLinq, "unknown");
    let mut s = FieldSink::new(b, &mut d, detail);
    s.derived("stream", Value::str(stream.to_string()));
    s.unknown_rest(0);
    d.summary = format!("{} unknown bytes on {stream}: {reason}", b.len());
    d
}
