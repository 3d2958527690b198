//! A dissected message in its capture context: the unit every output, filter and session
//! tracker consumes, whether it came from a file, a live interface or the emulator.

use std::net::SocketAddr;

use crate::dissect::{Dissection, Value};

#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// 1-based frame number in the capture (for TCP messages: the frame with the last byte).
    pub frame: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i128,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Capture interface the frame came from (pcapng interface id; 0 for classic pcap).
    pub interface: u32,
    /// The protocol port: destination port for UDP, the server's port for TCP.
    pub port: u16,
    /// The message's bytes (what offsets in the dissection refer to).
    pub bytes: &'a [u8],
    pub dissection: Dissection,
    /// Context added by stream trackers (`request_frame`, `latency_ms`, `stream`...).
    pub extra: Vec<(&'static str, Value)>,
}

impl Record<'_> {
    pub fn extra(&self, name: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}
