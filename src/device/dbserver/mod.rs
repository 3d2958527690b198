//! The dbserver an emulated player (or rekordbox) runs: the port query on TCP 12523 and the
//! database connection on the port it names, answering from a [`Library`]
//! (`prodjlink.md` 7; what clients need: `clients.md` 3.3(c)).
//!
//! Both are sessions without I/O: the device model creates one per accepted connection and
//! feeds it the bytes that arrive; the session appends its answers to the connection's send
//! queue and says whether to keep the connection.
//!
//! ```text
//! // in a player model's on_stream:
//! Accepted { local_port: 12523, .. } => PortQuerySession::new(rules.port)
//! Accepted { local_port: rules.port, .. } => DbServerSession::new(library.clone(), rules)
//! Data(bytes) => match session.on_bytes(bytes, &mut queue) {
//!     Verdict::Keep => write queue,
//!     Verdict::Close => write queue, then close,
//! }
//! ```
//!
//! * `out` is the connection's send queue: answers are appended, nothing is removed. If the
//!   transport hands in a queue that still holds more than [`Limits::max_backlog`] unsent bytes,
//!   the client is not reading, and the session closes (the same happens when one burst of
//!   pipelined requests would queue more than that).
//! * Input is framed by [`crate::dbserver::MessageFramer`] with a buffer of
//!   [`Limits::max_request`] bytes: a declared length beyond it (a 4 GiB blob), garbage, or a
//!   malformed message closes the connection at once; nothing is buffered past the bound.
//! * A session's memory is bounded whatever the client does: the framer's buffer
//!   ([`Limits::max_request`], 4 KiB), a few bytes per prepared menu ([`Limits::max_menus`]
//!   locations; rows are rebuilt from the library at a render, except the latest menu's,
//!   kept for the render that follows it: one menu, the library's longest list at most, 500
//!   rows of ~150 bytes) and a log of at most
//!   [`Limits::max_log`] exchanges. Idle or trickling clients (one byte a second) are the
//!   transport's to time out; the session keeps nothing that grows with time.
//! * Every answer is built from the project's message types ([`crate::dbserver::requests`],
//!   [`crate::dbserver::responses`], [`crate::dbserver::blobs`]), so `djdissect read` names each.
//! * Both calls are synchronous and cheap (a metadata answer is a few microseconds; see
//!   `benches/dbserver.rs`): a transport may call them inline on its event loop.
//!
//! Files: [`rules`] (who may ask, per model), [`port_query`], [`session`] (framing, setup,
//! dispatch, limits), `menus` (menu rows from the library), `answers` (blob answers).

mod answers;
mod menus;
pub mod port_query;
pub mod rules;
pub mod session;

pub use port_query::PortQuerySession;
pub use rules::{Requesters, ServerRules};
pub use session::{CloseReason, DbServerSession, Exchange, Limits};

#[cfg(doc)]
use crate::device::library::Library;

/// What the transport does with the connection after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send what was queued and keep reading.
    Keep,
    /// Send what was queued, then close the connection.
    Close,
}

#[cfg(test)]
mod tests;
