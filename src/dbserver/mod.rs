//! The dbserver ("remotedb") protocol on TCP 12523 (port query) and 1051, per `prodjlink.md` section 7.
//!
//! Players ask each other (and rekordbox) for track metadata, artwork, beat grids, cue lists,
//! waveforms and menus. A client first asks TCP 12523 which port the database listens on
//! ([`port_query`]), then opens that port; both sides send a greeting ([`Greeting`]) and then
//! exchange [`Message`]s built from typed [`Field`]s.
//!
//! * [`field`]: the five field encodings; [`message`]: the generic message every type shares.
//! * [`catalog`]: every known message type with its snake_case name and argument names.
//! * [`body`] (with [`requests`], [`responses`], [`menu_item`]): typed views of known types.
//! * [`blobs`]: what artwork, beat-grid, cue-list and waveform blobs mean.
//! * [`framer`]: turns one direction of a TCP stream into messages, resynchronising after gaps.
//! * [`conversation`]: pairs responses with requests and describes each exchange in words.
//! * [`dissect()`] / [`dissect_port_query`]: the field-by-field view for the output layer.

pub mod blobs;
pub mod body;
pub mod catalog;
pub mod client;
pub mod conversation;
mod dissect;
mod error;
pub mod field;
pub mod framer;
pub mod menu_item;
pub mod message;
pub mod port_query;
pub mod requests;
pub mod responses;
mod words;

pub use body::Body;
pub use conversation::{Conversation, Observation, RequestRef, TrackMetadata};
pub use dissect::{dissect, dissect_port_query};
pub use error::Error;
pub use field::{DbString, Field};
pub use framer::{Framed, MessageFramer};
pub use menu_item::{ItemValue, MenuItem};
pub use message::{Greeting, Message};
pub use port_query::{PortAnswer, PortQuery};
pub use requests::Dmst;

#[cfg(test)]
mod capture_check;
