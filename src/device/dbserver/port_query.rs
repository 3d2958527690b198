//! TCP 12523: a client asks where a service listens; the server answers exactly two bytes, the
//! big-endian port, and closes (`prodjlink.md` 7.1; `clients.md` 3.3(c) step 1: prolink-connect
//! reads once and rejects any other length; the server's close is in LinkInfo.pcapng).
//!
//! A query for another service name gets `ff ff`: a CDJ-2000NXS2 answers 65535 when it has no
//! such service (fiverecords/SuperTimecodeConverter#6). Bytes that cannot be a query (a length
//! beyond [`MAX_QUERY`], more bytes after the query) close the connection without an answer.

use crate::dbserver::port_query::{PortAnswer, PortQuery, REMOTE_DB_SERVER};

use super::Verdict;

/// The longest query accepted: the 19-byte `RemoteDBServer` query with room for longer names.
pub const MAX_QUERY: usize = 64;
/// The answer for an unknown service name.
pub const NO_SERVICE: u16 = 0xffff;

/// One accepted connection on 12523.
#[derive(Debug, Clone)]
pub struct PortQuerySession {
    port: u16,
    buf: Vec<u8>,
    answered: bool,
}

impl PortQuerySession {
    /// A session that names `port` for `RemoteDBServer`.
    pub fn new(port: u16) -> Self {
        PortQuerySession {
            port,
            buf: Vec::new(),
            answered: false,
        }
    }

    /// Feed bytes from the client; the answer, once complete, is appended to `out`.
    pub fn on_bytes(&mut self, input: &[u8], out: &mut Vec<u8>) -> Verdict {
        if self.answered {
            return Verdict::Close;
        }
        let take = input.len().min(MAX_QUERY + 1 - self.buf.len());
        self.buf.extend_from_slice(&input[..take]);
        match PortQuery::parse(&self.buf) {
            Ok((query, used)) if used == self.buf.len() && take == input.len() => {
                let port = if query.name == REMOTE_DB_SERVER {
                    self.port
                } else {
                    NO_SERVICE
                };
                out.extend_from_slice(&PortAnswer { port }.to_bytes());
                self.answered = true;
                self.buf = Vec::new();
                Verdict::Close
            }
            Err(e) if e.is_incomplete() && self.buf.len() <= MAX_QUERY => match e {
                crate::dbserver::Error::Incomplete { need } if need > MAX_QUERY => Verdict::Close,
                _ => Verdict::Keep,
            },
            // Trailing bytes, an overlong query or an impossible length.
            _ => Verdict::Close,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    const QUERY: &str = "0000000f52656d6f74654442536572766572 00";

    #[test]
    fn answers_two_bytes_and_closes() {
        let q = parse_hex(QUERY).unwrap();
        let mut s = PortQuerySession::new(1051);
        let mut out = Vec::new();
        assert_eq!(s.on_bytes(&q, &mut out), Verdict::Close);
        assert_eq!(out, [0x04, 0x1b]);
        assert_eq!(s.on_bytes(&q, &mut out), Verdict::Close);
        assert_eq!(out.len(), 2, "one answer only");
    }

    #[test]
    fn one_byte_at_a_time() {
        let q = parse_hex(QUERY).unwrap();
        let mut s = PortQuerySession::new(65522);
        let mut out = Vec::new();
        for (i, b) in q.iter().enumerate() {
            let v = s.on_bytes(std::slice::from_ref(b), &mut out);
            if i + 1 < q.len() {
                assert_eq!((v, out.len()), (Verdict::Keep, 0));
            } else {
                assert_eq!(v, Verdict::Close);
            }
        }
        assert_eq!(out, [0xff, 0xf2]);
    }

    #[test]
    fn other_names_and_garbage() {
        let mut out = Vec::new();
        let other = PortQuery {
            name: b"SomethingElse\0".to_vec(),
        };
        let v = PortQuerySession::new(1051).on_bytes(&other.to_bytes(), &mut out);
        assert_eq!((v, &out[..]), (Verdict::Close, &[0xff, 0xff][..]));
        // A length of 4 GiB - 1: closed at once, nothing buffered beyond the bound.
        let mut out = Vec::new();
        let mut s = PortQuerySession::new(1051);
        assert_eq!(
            s.on_bytes(&[0xff, 0xff, 0xff, 0xff, 0x41], &mut out),
            Verdict::Close
        );
        assert!(out.is_empty());
        // The query followed by more bytes is not a query.
        let mut q = parse_hex(QUERY).unwrap();
        q.push(0);
        assert_eq!(
            PortQuerySession::new(1051).on_bytes(&q, &mut out),
            Verdict::Close
        );
        assert!(out.is_empty());
        // A flood of bytes is cut at the bound.
        let flood = vec![0u8; 1 << 20];
        let mut s = PortQuerySession::new(1051);
        assert_eq!(s.on_bytes(&flood, &mut out), Verdict::Close);
        assert!(s.buf.len() <= MAX_QUERY + 1);
    }
}
