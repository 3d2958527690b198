//! What the fuzz targets run: each function takes the raw fuzzer input, drives one layer of
//! djdissect with it and asserts that layer's invariants (a failed assertion is a finding,
//! exactly like a panic). The stable regression tests (`../tests/fuzz_regressions.rs`)
//! include this file and run the same functions on every input the fuzzers ever crashed on.
//!
//! Modules are named with explicit paths so that the file can be included from elsewhere.

#[path = "capture.rs"]
mod capture;
#[path = "common.rs"]
pub mod common;
#[path = "dbserver.rs"]
mod dbserver;
#[path = "device.rs"]
mod device;
#[path = "net.rs"]
mod net;
#[path = "prodjlink.rs"]
mod prodjlink;
#[path = "stagelinq.rs"]
mod stagelinq;
#[path = "tcp.rs"]
mod tcp;

pub use capture::capture_reader;
pub use dbserver::dbserver_message;
pub use device::dbserver_server;
pub use net::net_layer;
pub use prodjlink::prodjlink_udp;
pub use stagelinq::{
    stagelinq_beatinfo, stagelinq_directory, stagelinq_discovery, stagelinq_filetransfer,
    stagelinq_statemap,
};
pub use tcp::tcp_reassembly;

/// What a target runs on one input.
pub type Check = fn(&[u8]);

/// Every target by name, for the regression runner.
pub const TARGETS: &[(&str, Check)] = &[
    ("capture_reader", capture_reader),
    ("net_layer", net_layer),
    ("prodjlink_udp", prodjlink_udp),
    ("dbserver_message", dbserver_message),
    ("dbserver_server", dbserver_server),
    ("tcp_reassembly", tcp_reassembly),
    ("stagelinq_discovery", stagelinq_discovery),
    ("stagelinq_directory", stagelinq_directory),
    ("stagelinq_statemap", stagelinq_statemap),
    ("stagelinq_beatinfo", stagelinq_beatinfo),
    ("stagelinq_filetransfer", stagelinq_filetransfer),
];
