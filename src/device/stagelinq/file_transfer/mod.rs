//! The FileTransfer service of an emulated Engine DJ unit (`stagelinq.md` 1.9): what a client
//! such as npm `stagelinq` uses to download the Engine library database and track files.
//!
//! * [`engine_db`]: the Engine library database (SQLite, Engine DJ 2.18 schema) built from the
//!   demo library.
//! * [`audio`]: the small stand-in audio file served for each demo track.
//! * [`volume`]: the unit's media as FileTransfer names it: sources, folders, files.
//! * [`session`]: one FileTransfer connection, request -> answers, bounded against hostile
//!   clients.
//!
//! Wiring (`unit.rs` builds the volume once per unit; `services.rs` runs the sessions):
//! ```text
//! let volume = Arc::new(Volume::demo(&library, SOURCE, &uuid)?);   // once per unit
//! Accepted on the announced FileTransfer port => FileTransferSession::new(volume.clone())
//! Data(bytes)  => session.on_bytes(bytes, &mut queue)  // Close => send the queue, close
//! room to send => session.on_drained(&mut queue)        // the next window of a download
//! ```
//! The Device interface has no "queue drained" event, so units call `on_drained` from their
//! timer (a 64 KiB window every 5 ms, about the 10 MB/s honusz measured on real units).

pub mod audio;
pub mod engine_db;
pub mod session;
pub mod volume;

#[cfg(test)]
mod tests;

pub use session::{CloseReason, Exchange, FileTransferSession, Limits};
pub use volume::{Entry, Volume};

/// What the transport does after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send what was queued and keep reading.
    Keep,
    /// Send what was queued, then close the connection.
    Close,
}
