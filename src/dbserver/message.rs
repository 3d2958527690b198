//! The generic dbserver message and the connection greeting (`prodjlink.md` 7.2).
//!
//! A message is a header of five fields at fixed offsets (magic, transaction id, type, argument
//! count, 12-byte argument-tag blob) followed by the arguments. There is no outer length: the
//! end of a message is where its last argument ends, so a stream is framed by parsing fields.

use super::field::{arg_tag, field_type, DbString, Field};
use super::Error;

/// Byte ranges of the header; each covers the whole field (type byte and value).
pub(crate) mod field {
    use std::ops::Range;
    /// `11 87 23 49 ae`: a 4-byte number field holding the magic `872349ae` (`prodjlink.md` 7.2).
    pub const MAGIC: Range<usize> = 0..5;
    /// 4-byte number field: transaction id, echoed by every response (7.2).
    pub const TRANSACTION_ID: Range<usize> = 5..10;
    /// 2-byte number field: message type (7.3).
    pub const MESSAGE_TYPE: Range<usize> = 10..13;
    /// 1-byte number field: number of arguments declared.
    pub const ARG_COUNT: Range<usize> = 13..15;
    /// Blob field header `14 00 00 00 0c` of the argument-tag list.
    pub const ARG_TAGS_HEADER: Range<usize> = 15..20;
    /// The 12 argument tags (`02` string, `03` blob, `06` 4-byte number, `00` unused).
    pub const ARG_TAGS: Range<usize> = 20..32;
    /// Arguments start here.
    pub const ARGS: usize = 32;
}

/// The magic field that starts every message.
pub const MAGIC: [u8; 5] = [0x11, 0x87, 0x23, 0x49, 0xae];
/// Transaction id of setup and teardown requests (`prodjlink.md` 7.2).
pub const SETUP_TRANSACTION_ID: u32 = 0xffff_fffe;
/// Size of a message with no arguments.
pub const HEADER_LEN: usize = field::ARGS;

/// The greeting each side sends when a dbserver connection opens: a 4-byte number field, 1 in
/// every capture (`prodjlink.md` 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    pub value: u32,
}

impl Default for Greeting {
    fn default() -> Self {
        Greeting { value: 1 }
    }
}

impl Greeting {
    pub const LEN: usize = 5;

    /// Parse a greeting at the start of `buf`. A message magic is not a greeting.
    pub fn parse(buf: &[u8]) -> Result<(Greeting, usize), Error> {
        let first = *buf.first().ok_or(Error::Incomplete { need: Self::LEN })?;
        if first != field_type::NUMBER_4 {
            return Err(Error::BadGreeting { found: first });
        }
        let b = buf
            .get(..Self::LEN)
            .ok_or(Error::Incomplete { need: Self::LEN })?;
        if b == MAGIC {
            return Err(Error::BadGreeting { found: first });
        }
        let value = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
        Ok((Greeting { value }, Self::LEN))
    }

    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        Field::U32(self.value).emit(buf);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        Field::U32(self.value).to_bytes()
    }
}

/// One dbserver message, any type.
///
/// `args` holds one entry per declared argument. `None` is a blob the header declares but the
/// sender left out because the number before it (its length) is 0 (`prodjlink.md` 7.2: "a
/// zero-length blob argument is omitted entirely").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub transaction_id: u32,
    pub message_type: u16,
    /// The 12 argument tags as sent (tags past the argument count are normally 0).
    pub arg_tags: [u8; 12],
    pub args: Vec<Option<Field>>,
}

impl Message {
    /// A message whose argument tags follow from its arguments; every argument present.
    pub fn new(transaction_id: u32, message_type: u16, args: Vec<Field>) -> Message {
        Message::with_optional_args(
            transaction_id,
            message_type,
            args.into_iter().map(Some).collect(),
        )
    }

    /// Like [`Message::new`]; `None` arguments are declared blobs left out of the message.
    pub fn with_optional_args(
        transaction_id: u32,
        message_type: u16,
        args: Vec<Option<Field>>,
    ) -> Message {
        let mut arg_tags = [0u8; 12];
        for (tag, arg) in arg_tags.iter_mut().zip(&args) {
            *tag = arg.as_ref().map_or(arg_tag::BLOB, Field::arg_tag);
        }
        Message {
            transaction_id,
            message_type,
            arg_tags,
            args,
        }
    }

    /// Parse one message at the start of `buf`; returns it and the number of bytes it used.
    pub fn parse(buf: &[u8]) -> Result<(Message, usize), Error> {
        let magic = buf.get(field::MAGIC);
        match magic {
            Some(m) if m != MAGIC => return Err(Error::BadMagic),
            None if !MAGIC.starts_with(buf) => return Err(Error::BadMagic),
            None => return Err(Error::Incomplete { need: HEADER_LEN }),
            Some(_) => {}
        }
        // The rest of the header has fixed field types; check each before trusting it, so that
        // a false magic found while resynchronising is rejected early.
        let header_number = |name, range: std::ops::Range<usize>, expected| {
            let incomplete = Error::Incomplete { need: HEADER_LEN };
            let found = *buf.get(range.start).ok_or(incomplete.clone())?;
            if found != expected {
                return Err(Error::HeaderFieldType {
                    name,
                    offset: range.start,
                    expected,
                    found,
                });
            }
            let value = buf.get(range.start + 1..range.end).ok_or(incomplete)?;
            Ok(value.iter().fold(0u32, |acc, &x| (acc << 8) | x as u32))
        };
        let transaction_id = header_number(
            "transaction_id",
            field::TRANSACTION_ID,
            field_type::NUMBER_4,
        )?;
        let message_type =
            header_number("message_type", field::MESSAGE_TYPE, field_type::NUMBER_2)? as u16;
        let argc = header_number("arg_count", field::ARG_COUNT, field_type::NUMBER_1)? as u8;
        let tags_at = field::ARG_TAGS_HEADER.start;
        let tag_type = *buf
            .get(tags_at)
            .ok_or(Error::Incomplete { need: HEADER_LEN })?;
        if tag_type != field_type::BLOB {
            return Err(Error::HeaderFieldType {
                name: "arg_tags",
                offset: tags_at,
                expected: field_type::BLOB,
                found: tag_type,
            });
        }
        let len_bytes = buf
            .get(tags_at + 1..field::ARG_TAGS_HEADER.end)
            .ok_or(Error::Incomplete { need: HEADER_LEN })?;
        let tags_len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        if tags_len != 12 {
            return Err(Error::ArgTagsLength { len: tags_len });
        }
        if argc > 12 {
            return Err(Error::TooManyArgs { argc });
        }
        let mut arg_tags = [0u8; 12];
        arg_tags.copy_from_slice(
            buf.get(field::ARG_TAGS)
                .ok_or(Error::Incomplete { need: HEADER_LEN })?,
        );

        let mut args = Vec::with_capacity(argc as usize);
        let mut at = field::ARGS;
        let mut previous: Option<u32> = None;
        for &tag in arg_tags.iter().take(argc as usize) {
            if tag == arg_tag::BLOB && blob_omitted(previous, buf.get(at).copied()) {
                args.push(None);
                previous = None;
                continue;
            }
            let (f, end) = Field::parse_at(buf, at)?;
            previous = f.as_number();
            args.push(Some(f));
            at = end;
        }
        Ok((
            Message {
                transaction_id,
                message_type,
                arg_tags,
                args,
            },
            at,
        ))
    }

    /// Bytes the message takes on the wire.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self
                .args
                .iter()
                .flatten()
                .map(Field::buffer_len)
                .sum::<usize>()
    }

    /// Write the message at the start of `buf` (at least `buffer_len()` bytes).
    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::MAGIC].copy_from_slice(&MAGIC);
        Field::U32(self.transaction_id).emit(&mut buf[field::TRANSACTION_ID]);
        Field::U16(self.message_type).emit(&mut buf[field::MESSAGE_TYPE]);
        Field::U8(self.args.len().min(255) as u8).emit(&mut buf[field::ARG_COUNT]);
        buf[field::ARG_TAGS_HEADER.start] = field_type::BLOB;
        buf[field::ARG_TAGS_HEADER.start + 1..field::ARG_TAGS_HEADER.end]
            .copy_from_slice(&12u32.to_be_bytes());
        buf[field::ARG_TAGS].copy_from_slice(&self.arg_tags);
        let mut at = field::ARGS;
        for f in self.args.iter().flatten() {
            at += f.emit(&mut buf[at..]);
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }

    /// Argument `i` (0-based), if present.
    pub fn arg(&self, i: usize) -> Option<&Field> {
        self.args.get(i).and_then(Option::as_ref)
    }

    /// Argument `i` as a number of any width.
    pub fn number(&self, i: usize) -> Option<u32> {
        self.arg(i).and_then(Field::as_number)
    }

    /// Argument `i` as a string.
    pub fn string(&self, i: usize) -> Option<&DbString> {
        self.arg(i).and_then(Field::as_str)
    }

    /// Argument `i` as a blob; an omitted blob reads as empty.
    pub fn blob(&self, i: usize) -> Option<&[u8]> {
        match self.args.get(i)? {
            None => Some(&[]),
            Some(f) => f.as_blob(),
        }
    }

    /// True for responses (types `4xxx`, `prodjlink.md` 7.3); everything else is a request.
    pub fn is_response(&self) -> bool {
        is_response_type(self.message_type)
    }
}

/// True for response message types (`prodjlink.md` 7.3 lists every response as `4xxx`).
pub fn is_response_type(message_type: u16) -> bool {
    message_type & 0xf000 == 0x4000
}

/// Whether a blob argument was left out: the number before it (its length) is 0 and no blob
/// field follows (`prodjlink.md` 7.2). A `14` type byte right after a 0 is an empty blob that
/// was sent anyway; a message never starts with `14`, so this cannot eat the next message.
pub(crate) fn blob_omitted(previous_number: Option<u32>, next_byte: Option<u8>) -> bool {
    previous_number == Some(0) && next_byte != Some(field_type::BLOB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    // LinkInfo.pcapng, TCP 1051, CDJ 3 -> CDJ 2: setup request and its answer.
    const SETUP_REQ: &str =
        "11872349ae11fffffffe1000000f01140000000c0600000000000000000000001100000003";
    const SETUP_RSP: &str =
        "11872349ae11fffffffe1040000f02140000000c06060000000000000000000011000000001100000002";
    // LinkInfo: menu footer of the first metadata render.
    const FOOTER: &str = "11872349ae11038000031042010f00140000000c000000000000000000000000";
    // usr-ein S10j: a waveform preview request declaring a blob it does not send.
    const PREVIEW_REQ: &str = "11872349ae11038020f11020040f05140000000c0606060603000000000000001102080301110000000311000000b61100000000";

    #[test]
    fn setup_both_ways() {
        let b = hex(SETUP_REQ);
        let (m, n) = Message::parse(&b).unwrap();
        assert_eq!(n, b.len());
        let expected = Message::new(SETUP_TRANSACTION_ID, 0x0000, vec![Field::U32(3)]);
        assert_eq!(m, expected);
        assert_eq!(expected.to_bytes(), b);
        assert!(!m.is_response());

        let b = hex(SETUP_RSP);
        let (m, _) = Message::parse(&b).unwrap();
        let expected = Message::new(
            SETUP_TRANSACTION_ID,
            0x4000,
            vec![Field::U32(0), Field::U32(2)],
        );
        assert_eq!(m, expected);
        assert_eq!(expected.to_bytes(), b);
        assert!(m.is_response());
    }

    #[test]
    fn footer_has_no_arguments() {
        let b = hex(FOOTER);
        let (m, n) = Message::parse(&b).unwrap();
        assert_eq!(
            (n, m.message_type, m.transaction_id),
            (32, 0x4201, 0x0380_0003)
        );
        assert!(m.args.is_empty());
        assert_eq!(m.to_bytes(), b);
    }

    #[test]
    fn omitted_blob_is_declared_but_absent() {
        let b = hex(PREVIEW_REQ);
        let (m, n) = Message::parse(&b).unwrap();
        assert_eq!(n, b.len());
        let expected = Message::with_optional_args(
            0x0380_20f1,
            0x2004,
            vec![
                Some(Field::U32(0x0208_0301)),
                Some(Field::U32(3)),
                Some(Field::U32(182)),
                Some(Field::U32(0)),
                None,
            ],
        );
        assert_eq!(m, expected);
        assert_eq!(m.blob(4), Some(&[][..]));
        assert_eq!(expected.to_bytes(), b);
        // Followed by another message, the omitted blob still reads as omitted.
        let mut two = b.clone();
        two.extend(hex(FOOTER));
        assert_eq!(Message::parse(&two).unwrap().1, b.len());
    }

    #[test]
    fn greeting_both_ways() {
        assert_eq!(
            Greeting::parse(&hex("11 00 00 00 01")),
            Ok((Greeting { value: 1 }, 5))
        );
        assert_eq!(Greeting::default().to_bytes(), hex("11 00 00 00 01"));
        assert!(Greeting::parse(&hex(SETUP_REQ)).is_err());
        assert_eq!(
            Greeting::parse(&hex("11 00")),
            Err(Error::Incomplete { need: 5 })
        );
    }

    #[test]
    fn every_truncation_is_incomplete_and_garbage_is_rejected() {
        for b in [hex(SETUP_REQ), hex(SETUP_RSP), hex(PREVIEW_REQ)] {
            for cut in 0..b.len() {
                match Message::parse(&b[..cut]) {
                    Err(Error::Incomplete { need }) => assert!(need > cut, "cut {cut} need {need}"),
                    other => panic!("cut {cut}: {other:?}"),
                }
            }
        }
        assert_eq!(Message::parse(&hex("11 00 00 00 01")), Err(Error::BadMagic));
        let mut bad = hex(SETUP_REQ);
        bad[10] = 0x11;
        assert!(matches!(
            Message::parse(&bad),
            Err(Error::HeaderFieldType {
                name: "message_type",
                ..
            })
        ));
        let mut bad = hex(SETUP_REQ);
        bad[19] = 0x0d;
        assert_eq!(Message::parse(&bad), Err(Error::ArgTagsLength { len: 13 }));
        // A blob where the transaction id belongs is rejected at once, whatever length it claims.
        let mut bad = hex(SETUP_REQ);
        bad[5] = 0x14;
        assert!(matches!(
            Message::parse(&bad),
            Err(Error::HeaderFieldType {
                name: "transaction_id",
                ..
            })
        ));
        let mut bad = hex(SETUP_REQ);
        bad[14] = 13;
        assert_eq!(Message::parse(&bad), Err(Error::TooManyArgs { argc: 13 }));
        let mut bad = hex(SETUP_REQ);
        bad[32] = 0x42;
        assert_eq!(
            Message::parse(&bad),
            Err(Error::UnknownFieldType {
                offset: 32,
                tag: 0x42
            })
        );
    }
}
