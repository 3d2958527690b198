//! The typed fields every dbserver message is built from (`prodjlink.md` 7.2).
//!
//! A field is a type byte followed by its value: `0f` + 1-byte number, `10` + 2-byte number,
//! `11` + 4-byte number (all big-endian), `14` + 4-byte length + blob, `26` + 4-byte count of
//! UTF-16 code units (including the trailing NUL) + UTF-16BE text.

use super::Error;

/// Field type bytes (`prodjlink.md` 7.2).
pub mod field_type {
    pub const NUMBER_1: u8 = 0x0f;
    pub const NUMBER_2: u8 = 0x10;
    pub const NUMBER_4: u8 = 0x11;
    pub const BLOB: u8 = 0x14;
    pub const STRING: u8 = 0x26;
}

/// Argument tags in the 12-byte tag list of a message header (`prodjlink.md` 7.2). They differ
/// from the field type bytes; 1- and 2-byte number tags have never been seen.
pub mod arg_tag {
    pub const STRING: u8 = 0x02;
    pub const BLOB: u8 = 0x03;
    pub const NUMBER_4: u8 = 0x06;
}

/// A dbserver string: the UTF-16 code units exactly as sent, including the trailing NUL, so
/// that unpaired surrogates and missing terminators survive a round trip.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbString {
    units: Vec<u16>,
}

impl DbString {
    /// The wire form of `text`: its UTF-16 code units plus the NUL every real string ends with.
    pub fn new(text: &str) -> DbString {
        let mut units: Vec<u16> = text.encode_utf16().collect();
        units.push(0);
        DbString { units }
    }

    /// Code units as they appear on the wire (a terminator is not added).
    pub fn from_units(units: Vec<u16>) -> DbString {
        DbString { units }
    }

    /// Code units including the trailing NUL.
    pub fn units(&self) -> &[u16] {
        &self.units
    }

    /// Length in code units, the number the wire carries.
    pub fn unit_len(&self) -> usize {
        self.units.len()
    }

    /// Length in bytes (what menu items put in their "label length" arguments).
    pub fn byte_len(&self) -> usize {
        self.units.len() * 2
    }

    /// The text up to the first NUL; invalid UTF-16 becomes U+FFFD.
    pub fn text(&self) -> String {
        let end = self
            .units
            .iter()
            .position(|&u| u == 0)
            .unwrap_or(self.units.len());
        String::from_utf16_lossy(&self.units[..end])
    }

    /// True when the text before the NUL is empty.
    pub fn is_empty(&self) -> bool {
        self.units.first().is_none_or(|&u| u == 0)
    }
}

/// One typed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    U8(u8),
    U16(u16),
    U32(u32),
    Blob(Vec<u8>),
    Str(DbString),
}

impl Field {
    /// Parse the field at the start of `buf`; returns it and the number of bytes it used.
    pub fn parse(buf: &[u8]) -> Result<(Field, usize), Error> {
        Field::parse_at(buf, 0)
    }

    /// Parse the field starting at `offset`; returns it and the offset just past it. Error
    /// offsets and `Incomplete::need` count from the start of `buf`.
    pub fn parse_at(buf: &[u8], offset: usize) -> Result<(Field, usize), Error> {
        let tag = *buf
            .get(offset)
            .ok_or(Error::Incomplete { need: offset + 1 })?;
        let value_at = offset + 1;
        let number = |len: usize| -> Result<u32, Error> {
            let b = buf.get(value_at..value_at + len).ok_or(Error::Incomplete {
                need: value_at + len,
            })?;
            Ok(b.iter().fold(0u32, |acc, &x| (acc << 8) | x as u32))
        };
        match tag {
            field_type::NUMBER_1 => Ok((Field::U8(number(1)? as u8), value_at + 1)),
            field_type::NUMBER_2 => Ok((Field::U16(number(2)? as u16), value_at + 2)),
            field_type::NUMBER_4 => Ok((Field::U32(number(4)?), value_at + 4)),
            field_type::BLOB | field_type::STRING => {
                let len = number(4)?;
                let unit = if tag == field_type::BLOB { 1 } else { 2 };
                // Lengths come from the wire: compute the end without overflow and check it
                // against the bytes present before allocating anything.
                let end = (len as usize)
                    .checked_mul(unit)
                    .and_then(|n| n.checked_add(value_at + 4))
                    .ok_or(Error::LengthOverflow { offset, len })?;
                let body = buf
                    .get(value_at + 4..end)
                    .ok_or(Error::Incomplete { need: end })?;
                let field = if tag == field_type::BLOB {
                    Field::Blob(body.to_vec())
                } else {
                    let units = body
                        .chunks_exact(2)
                        .map(|p| u16::from_be_bytes([p[0], p[1]]))
                        .collect();
                    Field::Str(DbString::from_units(units))
                };
                Ok((field, end))
            }
            _ => Err(Error::UnknownFieldType { offset, tag }),
        }
    }

    /// Bytes the field takes on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Field::U8(_) => 2,
            Field::U16(_) => 3,
            Field::U32(_) => 5,
            Field::Blob(b) => 5 + b.len(),
            Field::Str(s) => 5 + s.byte_len(),
        }
    }

    /// Write the field at the start of `buf` (at least `buffer_len()` bytes); returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let n = self.buffer_len();
        let out = &mut buf[..n];
        match self {
            Field::U8(v) => {
                out[0] = field_type::NUMBER_1;
                out[1] = *v;
            }
            Field::U16(v) => {
                out[0] = field_type::NUMBER_2;
                out[1..3].copy_from_slice(&v.to_be_bytes());
            }
            Field::U32(v) => {
                out[0] = field_type::NUMBER_4;
                out[1..5].copy_from_slice(&v.to_be_bytes());
            }
            Field::Blob(b) => {
                out[0] = field_type::BLOB;
                out[1..5].copy_from_slice(&(b.len() as u32).to_be_bytes());
                out[5..].copy_from_slice(b);
            }
            Field::Str(s) => {
                out[0] = field_type::STRING;
                out[1..5].copy_from_slice(&(s.unit_len() as u32).to_be_bytes());
                for (dst, u) in out[5..].chunks_exact_mut(2).zip(s.units()) {
                    dst.copy_from_slice(&u.to_be_bytes());
                }
            }
        }
        n
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }

    /// The field type byte.
    pub fn field_type(&self) -> u8 {
        match self {
            Field::U8(_) => field_type::NUMBER_1,
            Field::U16(_) => field_type::NUMBER_2,
            Field::U32(_) => field_type::NUMBER_4,
            Field::Blob(_) => field_type::BLOB,
            Field::Str(_) => field_type::STRING,
        }
    }

    /// The argument tag a message header uses for this field. 1- and 2-byte numbers have never
    /// been seen as arguments; dysentery guesses `04` and `05` for them (DYS-T).
    pub fn arg_tag(&self) -> u8 {
        match self {
            Field::U8(_) => 0x04,
            Field::U16(_) => 0x05,
            Field::U32(_) => arg_tag::NUMBER_4,
            Field::Blob(_) => arg_tag::BLOB,
            Field::Str(_) => arg_tag::STRING,
        }
    }

    /// The value of a number field of any width.
    pub fn as_number(&self) -> Option<u32> {
        match *self {
            Field::U8(v) => Some(v as u32),
            Field::U16(v) => Some(v as u32),
            Field::U32(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_blob(&self) -> Option<&[u8]> {
        match self {
            Field::Blob(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&DbString> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    #[test]
    fn numbers_both_ways() {
        // The greeting (prodjlink.md 7.2, CAP LinkInfo) is a 4-byte number field holding 1.
        let b = hex("11 00 00 00 01");
        assert_eq!(Field::parse(&b), Ok((Field::U32(1), 5)));
        assert_eq!(Field::U32(1).to_bytes(), b);
        // Message type and argument count from a real header (LinkInfo 2002 request).
        assert_eq!(Field::parse(&hex("10 20 02")), Ok((Field::U16(0x2002), 3)));
        assert_eq!(Field::U16(0x2002).to_bytes(), hex("10 20 02"));
        assert_eq!(Field::parse(&hex("0f 02")), Ok((Field::U8(2), 2)));
        assert_eq!(Field::U8(2).to_bytes(), hex("0f 02"));
    }

    #[test]
    fn string_from_linkinfo_menu_item() {
        // Genre label of a LinkInfo metadata item: 7 code units "Trance" + NUL.
        let b = hex("26 00 00 00 07 00 54 00 72 00 61 00 6e 00 63 00 65 00 00");
        let (f, n) = Field::parse(&b).unwrap();
        assert_eq!(n, b.len());
        let s = f.as_str().unwrap();
        assert_eq!(s.text(), "Trance");
        assert_eq!(s.byte_len(), 14);
        assert_eq!(f, Field::Str(DbString::new("Trance")));
        assert_eq!(f.to_bytes(), b);
        // The empty label every item carries: one NUL.
        let empty = hex("26 00 00 00 01 00 00");
        assert_eq!(
            Field::parse(&empty).unwrap().0,
            Field::Str(DbString::new(""))
        );
        assert!(DbString::new("").is_empty());
    }

    #[test]
    fn blob_and_unpaired_surrogate_round_trip() {
        // Argument tags blob of a LinkInfo setup request.
        let b = hex("14 00 00 00 0c 06 00 00 00 00 00 00 00 00 00 00 00");
        let (f, n) = Field::parse(&b).unwrap();
        assert_eq!(n, 17);
        assert_eq!(f.as_blob().unwrap()[0], 6);
        assert_eq!(f.to_bytes(), b);
        let odd = hex("26 00 00 00 02 d8 00 00 00");
        let (f, _) = Field::parse(&odd).unwrap();
        assert_eq!(f.to_bytes(), odd);
        assert_eq!(f.as_str().unwrap().text(), "\u{fffd}");
    }

    #[test]
    fn truncation_and_garbage() {
        assert_eq!(Field::parse(&[]), Err(Error::Incomplete { need: 1 }));
        assert_eq!(
            Field::parse(&hex("11 00 00")),
            Err(Error::Incomplete { need: 5 })
        );
        // A blob claiming 4 GiB allocates nothing and asks for the bytes it declared.
        let huge = hex("14 ff ff ff ff 00");
        match Field::parse(&huge) {
            Err(Error::Incomplete { need }) => assert_eq!(need, 5 + 0xffff_ffff),
            Err(Error::LengthOverflow { .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(
            Field::parse(&hex("26 00 00 00 02 00 41")),
            Err(Error::Incomplete { need: 9 })
        );
        assert_eq!(
            Field::parse_at(&hex("00 12"), 1),
            Err(Error::UnknownFieldType {
                offset: 1,
                tag: 0x12
            })
        );
    }
}
