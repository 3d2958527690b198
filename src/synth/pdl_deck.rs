//! The models the synth's scripted rig uses, mapped to the device personas; the deck itself
//! (position, status, beat and precise-position packets) lives with the device models in
//! `device::prodjlink::deck`.

pub use crate::device::prodjlink::deck::*;
use crate::device::prodjlink::persona::Persona;

/// The models the scenarios use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Djm900Nxs2,
    Cdj2000Nxs2,
    Cdj3000,
}

impl Model {
    /// The persona whose packets this model sends.
    pub fn persona(self) -> &'static Persona {
        let role = match self {
            Model::Djm900Nxs2 => "djm-900nxs2",
            Model::Cdj2000Nxs2 => "cdj-2000nxs2",
            Model::Cdj3000 => "cdj-3000",
        };
        match Persona::by_role(role) {
            Some(p) => p,
            None => unreachable!("{role} is in the persona table"),
        }
    }

    /// The name the device puts in every packet header (prodjlink.md 1.4).
    pub fn name(self) -> &'static str {
        self.persona().name
    }
}
