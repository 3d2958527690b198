//! djdissect: see, understand and reproduce what DJ gear says on the network.
//!
//! The pipeline, one module per stage:
//! `capture` (pcap/pcapng files, later live) -> `net` (link/IP/UDP/TCP, fragments, reassembly)
//! -> protocol decoders (`prodjlink`, `dbserver`, `stagelinq`) -> `dissect` (fields with byte
//! ranges) -> `session` trackers -> `output` (text, detail, JSON). The emulator and replayer
//! send with the same message types the decoders parse.

pub mod capture;
pub mod cli;
pub mod dbserver;
pub mod device;
pub mod dissect;
pub mod engine;
pub mod filter;
pub mod net;
pub mod output;
pub mod prodjlink;
pub mod record;
pub mod replay;
pub mod session;
pub mod stagelinq;
pub mod synth;
pub mod transport;
pub mod util;
