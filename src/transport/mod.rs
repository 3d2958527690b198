//! Where device output goes (`architecture.md`, "The shape to grow into").
//!
//! `socket`: real UDP and TCP on loopback (127.0.0.N per device) or an interface the user
//! names, driven by the wall clock; what `djdissect replay --as` runs. The simulated transport
//! that writes pcapng (what `synth` writes) sits beside it.

pub mod socket;
