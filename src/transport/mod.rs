//! Where device output goes (`../shared/docs/architecture.md`): [`sim`] runs device models
//! under a virtual clock on a simulated network and writes every frame to pcapng (what
//! `synth` writes); the socket transport (branch `sock`) runs the same models on real sockets.

pub mod sim;
