//! TCP 12523: which port does the database server listen on (`prodjlink.md` 7.1)?
//!
//! The client sends a length-prefixed service name, `00 00 00 0f` + `RemoteDBServer\0`; the
//! server answers with two bytes, the port, big-endian (`04 1b` = 1051 on CDJs; rekordbox
//! answers another port, `ff f2` = 65522 in prolink-connect's fixture).

use super::Error;
use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto, Value};

mod field {
    use std::ops::Range;
    /// Big-endian length of the name that follows, NUL included (`prodjlink.md` 7.1).
    pub const LENGTH: Range<usize> = 0..4;
    pub fn name(len: usize) -> Range<usize> {
        4..4 + len
    }
    /// The answer: port, big-endian.
    pub const PORT: Range<usize> = 0..2;
}

/// The service every client asks for.
pub const REMOTE_DB_SERVER: &[u8] = b"RemoteDBServer\0";
/// The port TCP 12523 listens on.
pub const QUERY_PORT: u16 = 12523;

/// The client's question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortQuery {
    /// The service name as sent, trailing NUL included.
    pub name: Vec<u8>,
}

impl Default for PortQuery {
    fn default() -> Self {
        PortQuery {
            name: REMOTE_DB_SERVER.to_vec(),
        }
    }
}

impl PortQuery {
    pub fn parse(buf: &[u8]) -> Result<(PortQuery, usize), Error> {
        let len = buf
            .get(field::LENGTH)
            .ok_or(Error::Incomplete { need: 4 })?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let end = (len as usize)
            .checked_add(4)
            .ok_or(Error::PortQuery("length overflows"))?;
        let name = buf
            .get(field::name(len as usize))
            .ok_or(Error::Incomplete { need: end })?;
        Ok((
            PortQuery {
                name: name.to_vec(),
            },
            end,
        ))
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.name.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::LENGTH].copy_from_slice(&(self.name.len() as u32).to_be_bytes());
        buf[field::name(self.name.len())].copy_from_slice(&self.name);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// The server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortAnswer {
    pub port: u16,
}

impl PortAnswer {
    pub const LEN: usize = 2;

    pub fn parse(buf: &[u8]) -> Result<(PortAnswer, usize), Error> {
        let b = buf
            .get(field::PORT)
            .ok_or(Error::Incomplete { need: Self::LEN })?;
        Ok((
            PortAnswer {
                port: u16::from_be_bytes([b[0], b[1]]),
            },
            Self::LEN,
        ))
    }

    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::PORT].copy_from_slice(&self.port.to_be_bytes());
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.port.to_be_bytes().to_vec()
    }
}

/// Dissect one direction's bytes of a TCP 12523 exchange: two bytes are the server's answer,
/// anything else is read as the client's query.
pub fn dissect_port_query(bytes: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    super::dissect::accounted(dissect_fields(bytes, detail), bytes, detail)
}

fn dissect_fields(bytes: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    if bytes.len() == PortAnswer::LEN {
        let mut d = Dissection::new(Proto::DbServer, "port_answer");
        let mut sink = FieldSink::new(bytes, &mut d, detail);
        let port = sink.uint_with("port", field::PORT, |p| {
            Some(format!("the database server listens on TCP {p}"))
        });
        d.summary = port.map_or_else(String::new, |p| format!("dbserver is on port {p}"));
        return d;
    }
    let mut d = Dissection::new(Proto::DbServer, "port_query");
    let mut sink = FieldSink::new(bytes, &mut d, detail);
    let len = sink.uint_with("name_length", field::LENGTH, |n| {
        Some(format!("{n} bytes of name follow"))
    });
    if let Some(len) = len {
        let range = field::name(len as usize);
        let shown = range.start..range.end.min(bytes.len()).max(range.start);
        if let Some(name) = bytes.get(shown.clone()) {
            let expected = name == REMOTE_DB_SERVER;
            let text = crate::dissect::ascii_trim(name);
            sink.push(
                "service",
                Some(shown),
                Value::str(text.clone()),
                crate::dissect::Knowledge::Known,
                || {
                    Some(if expected {
                        "asks which TCP port the remote database server listens on".to_string()
                    } else {
                        "not the usual RemoteDBServer\\0".to_string()
                    })
                },
            );
            d.summary = format!("where is {text}?");
        }
        if range.end > bytes.len() {
            d.set_malformed(format!(
                "truncated: name needs bytes 0x4..0x{:x}, message has 0x{:x}",
                range.end,
                bytes.len()
            ));
        } else if range.end < bytes.len() {
            let mut sink = FieldSink::new(bytes, &mut d, detail);
            sink.unknown_rest(range.end);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    // LinkInfo.pcapng TCP 12523 (prodjlink.md 15): query and answer.
    const QUERY: &str = "0000000f52656d6f7465444253657276657200";

    #[test]
    fn query_both_ways() {
        let b = parse_hex(QUERY).unwrap();
        assert_eq!(PortQuery::parse(&b), Ok((PortQuery::default(), 19)));
        assert_eq!(PortQuery::default().to_bytes(), b);
        for cut in 0..b.len() {
            assert!(PortQuery::parse(&b[..cut]).unwrap_err().is_incomplete());
        }
        // A length of 4 GiB asks for bytes instead of allocating them.
        assert!(PortQuery::parse(&parse_hex("ffffffff00").unwrap())
            .unwrap_err()
            .is_incomplete());
    }

    #[test]
    fn answers_both_ways() {
        // CDJ answer (LinkInfo) and rekordbox answer (prolink-connect fixture, base64 "//I=").
        assert_eq!(
            PortAnswer::parse(&[0x04, 0x1b]),
            Ok((PortAnswer { port: 1051 }, 2))
        );
        assert_eq!(PortAnswer { port: 65522 }.to_bytes(), vec![0xff, 0xf2]);
        assert_eq!(PortAnswer::parse(&[4]), Err(Error::Incomplete { need: 2 }));
    }

    #[test]
    fn dissections() {
        let d = dissect_port_query(&parse_hex(QUERY).unwrap(), true);
        assert_eq!(d.type_name, "port_query");
        assert_eq!(
            d.field("service").and_then(Value::as_str),
            Some("RemoteDBServer")
        );
        assert!(d.malformed.is_none());
        let d = dissect_port_query(&[0x04, 0x1b], false);
        assert_eq!(
            (
                d.type_name.as_ref(),
                d.field("port").and_then(Value::as_u64)
            ),
            ("port_answer", Some(1051))
        );
        assert_eq!(d.summary, "dbserver is on port 1051");
        let d = dissect_port_query(&parse_hex("0000000f52656d").unwrap(), false);
        assert!(d.malformed.unwrap().contains("truncated"));
        assert_eq!(dissect_port_query(&[], false).fields.len(), 0);
    }
}
