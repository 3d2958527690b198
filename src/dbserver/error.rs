//! Why a dbserver field, message or port query could not be read.

/// A parse failure. [`Error::Incomplete`] means "wait for more bytes" (a stream framer keeps
/// buffering); every other variant means the bytes do not fit the layout of `prodjlink.md` 7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer ends inside the item. `need` is the total number of bytes (counted from the
    /// start of the buffer handed to `parse`) known to be required so far; it is a lower bound,
    /// since later fields may declare more.
    #[error("incomplete: at least {need} bytes needed")]
    Incomplete { need: usize },
    /// A field starts with a type byte that is none of `0f 10 11 14 26` (`prodjlink.md` 7.2).
    #[error("unknown field type 0x{tag:02x} at offset {offset}")]
    UnknownFieldType { offset: usize, tag: u8 },
    /// The message does not start with `11 87 23 49 ae`.
    #[error("not a dbserver message: no magic 11 87 23 49 ae")]
    BadMagic,
    /// A header field has the wrong field type (`prodjlink.md` 7.2 fixes them all).
    #[error("header field {name} at offset {offset}: expected field type 0x{expected:02x}, found 0x{found:02x}")]
    HeaderFieldType {
        name: &'static str,
        offset: usize,
        expected: u8,
        found: u8,
    },
    /// The argument-tag blob is not 12 bytes long.
    #[error("argument tag list is {len} bytes long, expected 12")]
    ArgTagsLength { len: u32 },
    /// More arguments than the 12 argument tags can describe.
    #[error("argument count {argc} is more than 12")]
    TooManyArgs { argc: u8 },
    /// A length from the wire overflows this machine's address space.
    #[error("field length {len} at offset {offset} is too large")]
    LengthOverflow { offset: usize, len: u32 },
    /// The greeting is not a 4-byte number field.
    #[error("greeting is not a 4-byte number field (first byte 0x{found:02x})")]
    BadGreeting { found: u8 },
    /// A port query (TCP 12523) whose length prefix does not match what follows.
    #[error("port query: {0}")]
    PortQuery(&'static str),
    /// `emit` was handed a buffer shorter than `buffer_len()`.
    #[error("buffer of {have} bytes is too short: {need} bytes needed")]
    ShortBuffer { need: usize, have: usize },
}

impl Error {
    /// True when more bytes could turn this into a success.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Error::Incomplete { .. })
    }
}
