//! Where device output goes (`../shared/docs/architecture.md`, "The shape to grow into"): the
//! same device models under two clocks.
//!
//! * [`sim`]: a virtual clock on a simulated network, every frame written to pcapng (what
//!   `synth` writes).
//! * [`socket`]: real UDP and TCP on loopback (127.0.0.N per device) or an interface the user
//!   names, driven by the wall clock; what `djdissect replay --as` runs.

pub mod sim;
pub mod socket;
