//! StageLinQ (Denon / Engine DJ), per `stagelinq.md`.

pub mod discovery;
pub mod models;
pub mod wire;

pub use wire::{Error, Token};
