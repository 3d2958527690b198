//! StageLinQ unit behaviour without I/O (Denon / Engine DJ gear, `stagelinq.md`).
//!
//! * [`file_transfer`]: the FileTransfer service (1.9) and what it serves: the Engine library
//!   database built from the demo library and the demo tracks' files.

pub mod file_transfer;
