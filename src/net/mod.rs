//! Link, IP and transport layers: slicing, IPv4 fragment reassembly and TCP stream reassembly.

pub mod tcp_reassembly;
