//! The main ("directory") TCP connection (`stagelinq.md` 1.3) and the service hello that opens
//! every service connection (`stagelinq.md` 1.4). Messages here carry no length prefix: each
//! starts with a u32 id and a token, and its length follows from the id.

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto, Value};

use super::wire::{self, Error, Result, Token};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.3, table: every message starts with u32 id + token(16).
    pub const ID: Range<usize> = 0..4;
    pub const TOKEN: Range<usize> = 4..20;
    // ServiceAnnouncement / service hello: NS service name, then u16 port.
    pub const SERVICE_NAME: usize = 20;
    pub const PORT_LEN: usize = 2;
    // Reference: token2(16), u64 value (44 bytes total), stagelinq.md 1.3 and 1.3.3.
    pub const TOKEN2: Range<usize> = 20..36;
    pub const VALUE: Range<usize> = 36..44;
}

pub const ID_SERVICE_ANNOUNCEMENT: u32 = 0;
pub const ID_REFERENCE: u32 = 1;
pub const ID_SERVICES_REQUEST: u32 = 2;

pub const SERVICES_REQUEST_LEN: usize = field::TOKEN.end;
pub const REFERENCE_LEN: usize = field::VALUE.end;
/// Longest service name accepted while framing (bytes of UTF-16). The longest real one,
/// `TimeSynchronization`, takes 38; a larger count means the bytes are not a message start.
pub const MAX_SERVICE_NAME_BYTES: usize = 256;

/// "Send me your services" (id 2, `stagelinq.md` 1.3): 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServicesRequest {
    pub token: Token,
}

impl ServicesRequest {
    pub fn parse(b: &[u8]) -> Result<Self> {
        expect_id(b, ID_SERVICES_REQUEST)?;
        exact(b, SERVICES_REQUEST_LEN, "services request")?;
        Ok(ServicesRequest {
            token: token_at(b, field::TOKEN.start)?,
        })
    }

    pub fn buffer_len(&self) -> usize {
        SERVICES_REQUEST_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(buf, field::ID.start, ID_SERVICES_REQUEST);
        buf[field::TOKEN].copy_from_slice(&self.token.0);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// A service and its TCP port (id 0). On the directory connection it announces one of the
/// sender's services (`stagelinq.md` 1.3); as the first message of a service connection it is
/// the "service hello" (`stagelinq.md` 1.4), whose port is the sender's own choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAnnouncement {
    pub token: Token,
    /// `StateMap`, `BeatInfo`, `FileTransfer`, `Broadcast`, `TimeSynchronization`, `Syncing`...
    pub service: String,
    pub port: u16,
}

impl ServiceAnnouncement {
    pub fn new(token: Token, service: &str, port: u16) -> Self {
        ServiceAnnouncement {
            token,
            service: service.to_string(),
            port,
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        expect_id(b, ID_SERVICE_ANNOUNCEMENT)?;
        let token = token_at(b, field::TOKEN.start)?;
        let (service, p) = wire::read_ns(b, field::SERVICE_NAME, "service name")?;
        let port = wire::read_u16(b, p, "port")?;
        exact(b, p + field::PORT_LEN, "service announcement")?;
        Ok(ServiceAnnouncement {
            token,
            service,
            port,
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::SERVICE_NAME + wire::ns_len(&self.service) + field::PORT_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(buf, field::ID.start, ID_SERVICE_ANNOUNCEMENT);
        buf[field::TOKEN].copy_from_slice(&self.token.0);
        let p = wire::write_ns(buf, field::SERVICE_NAME, &self.service);
        wire::put_u16(buf, p, self.port);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Keep-alive ping/echo (id 1, `stagelinq.md` 1.3.3): 44 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The originator's token (in an echo too).
    pub token: Token,
    /// Zero in a ping; the echoer's token in an echo.
    pub token2: Token,
    /// The 8 value bytes read big-endian. The SC6000 sends BE nanoseconds; the X1800/X1850
    /// mixer's value only makes sense little-endian (`value_le`).
    pub value: u64,
}

impl Reference {
    /// A ping carrying a big-endian clock value (SC6000 style).
    pub fn ping(token: Token, value: u64) -> Self {
        Reference {
            token,
            token2: Token::ZERO,
            value,
        }
    }

    /// A ping carrying a little-endian value (X1800/X1850 mixer style, 10 kHz ticks).
    pub fn ping_le(token: Token, value_le: u64) -> Self {
        Self::ping(token, u64::from_be_bytes(value_le.to_le_bytes()))
    }

    /// The echo a peer sends back: same token and value, its own token as token2.
    pub fn echo(&self, echoer: Token) -> Self {
        Reference {
            token2: echoer,
            ..*self
        }
    }

    pub fn is_ping(&self) -> bool {
        self.token2.is_zero()
    }

    /// The value bytes read little-endian.
    pub fn value_le(&self) -> u64 {
        u64::from_le_bytes(self.value.to_be_bytes())
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        expect_id(b, ID_REFERENCE)?;
        exact(b, REFERENCE_LEN, "reference")?;
        Ok(Reference {
            token: token_at(b, field::TOKEN.start)?,
            token2: token_at(b, field::TOKEN2.start)?,
            value: wire::read_u64(b, field::VALUE.start, "value")?,
        })
    }

    pub fn buffer_len(&self) -> usize {
        REFERENCE_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(buf, field::ID.start, ID_REFERENCE);
        buf[field::TOKEN].copy_from_slice(&self.token.0);
        buf[field::TOKEN2].copy_from_slice(&self.token2.0);
        wire::put_u64(buf, field::VALUE.start, self.value);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Any message of the directory connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryMessage {
    ServiceAnnouncement(ServiceAnnouncement),
    Reference(Reference),
    ServicesRequest(ServicesRequest),
}

impl DirectoryMessage {
    pub fn parse(b: &[u8]) -> Result<Self> {
        match wire::read_u32(b, field::ID.start, "id")? {
            ID_SERVICE_ANNOUNCEMENT => ServiceAnnouncement::parse(b).map(Self::ServiceAnnouncement),
            ID_REFERENCE => Reference::parse(b).map(Self::Reference),
            ID_SERVICES_REQUEST => ServicesRequest::parse(b).map(Self::ServicesRequest),
            id => Err(Error::UnknownId { id }),
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Self::ServiceAnnouncement(m) => m.buffer_len(),
            Self::Reference(m) => m.buffer_len(),
            Self::ServicesRequest(m) => m.buffer_len(),
        }
    }

    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            Self::ServiceAnnouncement(m) => m.emit(buf),
            Self::Reference(m) => m.emit(buf),
            Self::ServicesRequest(m) => m.emit(buf),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// How much of a buffer the next message takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The next message is this many bytes long, all present.
    Complete(usize),
    /// More bytes are needed to know or to have the whole message.
    Incomplete,
    /// The bytes cannot start a message of this connection.
    Invalid,
}

/// Length of the directory message at the start of `b` (`stagelinq.md` 1.3: no length prefix,
/// the id says the layout).
pub fn frame(b: &[u8]) -> Framing {
    let Ok(id) = wire::read_u32(b, 0, "id") else {
        return Framing::Incomplete;
    };
    let len = match id {
        ID_SERVICES_REQUEST => SERVICES_REQUEST_LEN,
        ID_REFERENCE => REFERENCE_LEN,
        ID_SERVICE_ANNOUNCEMENT => return frame_announcement(b),
        _ => return Framing::Invalid,
    };
    if b.len() >= len {
        Framing::Complete(len)
    } else {
        Framing::Incomplete
    }
}

/// Length of a ServiceAnnouncement / service hello at the start of `b`, judged the way
/// `stagelinq.md` 1.4 describes: id 0, then a plausible (even, small) name length at 20..24.
pub fn frame_announcement(b: &[u8]) -> Framing {
    match wire::read_u32(b, 0, "id") {
        Ok(ID_SERVICE_ANNOUNCEMENT) => {}
        Ok(_) => return Framing::Invalid,
        Err(_) => return Framing::Incomplete,
    }
    let Ok(n) = wire::read_u32(b, field::SERVICE_NAME, "name length") else {
        return Framing::Incomplete;
    };
    let n = n as usize;
    if n % 2 != 0 || n > MAX_SERVICE_NAME_BYTES {
        return Framing::Invalid;
    }
    let len = field::SERVICE_NAME + 4 + n + field::PORT_LEN;
    if b.len() >= len {
        Framing::Complete(len)
    } else {
        Framing::Incomplete
    }
}

fn expect_id(b: &[u8], want: u32) -> Result<()> {
    let id = wire::read_u32(b, field::ID.start, "id")?;
    if id != want {
        return Err(Error::UnknownId { id });
    }
    Ok(())
}

fn exact(b: &[u8], len: usize, what: &'static str) -> Result<()> {
    if b.len() < len {
        return Err(Error::Truncated {
            what,
            needed: len,
            have: b.len(),
        });
    }
    if b.len() > len {
        return Err(Error::TrailingBytes {
            what,
            count: b.len() - len,
        });
    }
    Ok(())
}

fn token_at(b: &[u8], off: usize) -> Result<Token> {
    Ok(Token::from_slice(wire::slice(b, off, Token::LEN, "token")?).unwrap_or_default())
}

/// Dissect one message of the directory connection (types `services_request`,
/// `service_announcement`, `reference`).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let id = wire::read_u32(b, 0, "id").ok();
    match id {
        Some(ID_SERVICE_ANNOUNCEMENT) => dissect_announcement(b, detail, "service_announcement"),
        Some(ID_REFERENCE) => dissect_reference(b, detail),
        Some(ID_SERVICES_REQUEST) => dissect_services_request(b, detail),
        Some(_) => super::dissect_unknown(b, "directory", detail, "not a directory message"),
        None => {
            let mut d = super::dissect_unknown(b, "directory", detail, "too short for an id");
            d.set_malformed(format!(
                "truncated: id needs 4 bytes, message has {}",
                b.len()
            ));
            d
        }
    }
}

/// Dissect the hello that opens a service connection (type `service_hello`).
pub fn dissect_hello(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_hello_fields(b, detail), b, detail)
}

fn dissect_hello_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    dissect_announcement(b, detail, "service_hello")
}

fn dissect_id(s: &mut FieldSink<'_>) -> Option<u64> {
    s.uint_with("id", field::ID, |v| {
        Some(
            match v as u32 {
                ID_SERVICE_ANNOUNCEMENT => "service announcement",
                ID_REFERENCE => "reference (keep-alive ping/echo)",
                ID_SERVICES_REQUEST => "services request",
                _ => "unknown",
            }
            .to_string(),
        )
    })
}

fn trailing(d: &mut Dissection, s_len: usize, end: usize) {
    if s_len > end {
        d.set_malformed(format!("{} bytes after the message", s_len - end));
    }
}

fn dissect_services_request(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "services_request");
    d.kind = Some(ID_SERVICES_REQUEST);
    let mut s = FieldSink::new(b, &mut d, detail);
    dissect_id(&mut s);
    let token = wire::dissect_token(&mut s, "token", field::TOKEN.start);
    s.unknown_rest(SERVICES_REQUEST_LEN);
    trailing(&mut d, b.len(), SERVICES_REQUEST_LEN);
    d.summary = format!(
        "services request from {}",
        token.map_or("?".to_string(), |t| t.to_string())
    );
    d
}

fn dissect_announcement(b: &[u8], detail: impl Into<Depth>, type_name: &'static str) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, type_name);
    d.kind = Some(ID_SERVICE_ANNOUNCEMENT);
    let mut s = FieldSink::new(b, &mut d, detail);
    dissect_id(&mut s);
    let token = wire::dissect_token(&mut s, "token", field::TOKEN.start);
    let name = wire::dissect_ns(&mut s, "service_len", "service", field::SERVICE_NAME);
    let mut port = None;
    if let Some((_, p)) = &name {
        let hello = type_name == "service_hello";
        port = s.uint_with("port", *p..*p + field::PORT_LEN, |v| {
            Some(if hello {
                format!("port the connecting side names for itself ({v}); any value works")
            } else {
                format!("TCP port of this service ({v})")
            })
        });
        s.unknown_rest(*p + field::PORT_LEN);
        trailing(&mut d, b.len(), *p + field::PORT_LEN);
    }
    d.summary = format!(
        "{}{} port {} token {}",
        if type_name == "service_hello" {
            "hello "
        } else {
            ""
        },
        name.map_or("?".to_string(), |(n, _)| n),
        port.map_or("?".to_string(), |p| p.to_string()),
        token.map_or("?".to_string(), |t| t.to_string()),
    );
    d
}

fn dissect_reference(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "reference");
    d.kind = Some(ID_REFERENCE);
    let mut s = FieldSink::new(b, &mut d, detail);
    dissect_id(&mut s);
    let token = wire::dissect_token(&mut s, "token", field::TOKEN.start);
    let token2 = wire::dissect_token(&mut s, "token2", field::TOKEN2.start);
    let value = s.uint_with("value", field::VALUE, |v| {
        let le = u64::from_le_bytes(v.to_be_bytes());
        Some(format!(
            "as BE nanoseconds {}.{:09} s (SC6000); as LE {le} (mixer, 10 kHz ticks = {:.1} s)",
            v / 1_000_000_000,
            v % 1_000_000_000,
            le as f64 / 10_000.0
        ))
    });
    if let Some(v) = value {
        s.derived("value_le", Value::U(u64::from_le_bytes(v.to_be_bytes())));
    }
    let ping = token2.map(|t| t.is_zero());
    if let Some(p) = ping {
        s.derived("role", Value::str(if p { "ping" } else { "echo" }));
    }
    s.unknown_rest(REFERENCE_LEN);
    trailing(&mut d, b.len(), REFERENCE_LEN);
    // Both readings, as the reference suggests (`stagelinq.md` 1.3.3): BE nanoseconds for
    // players, LE 10 kHz ticks for the mixer.
    let both = |v: u64| {
        format!(
            "BE {}.{:09} s / LE {}",
            v / 1_000_000_000,
            v % 1_000_000_000,
            v.swap_bytes()
        )
    };
    d.summary = match (ping, token, token2, value) {
        (Some(true), Some(t), _, Some(v)) => format!("ping from {t}: {}", both(v)),
        (Some(false), Some(t), Some(t2), Some(v)) => {
            format!("echo by {t2} of {t}'s ping: {}", both(v))
        }
        _ => "reference (truncated)".to_string(),
    };
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    const MIXER: &str = "0000000000000000800000059504141c";
    const SC6000: &str = "8fba5ced93814d5cb3345bf935b8e49e";

    fn token(h: &str) -> Token {
        Token::from_slice(&parse_hex(h).unwrap()).unwrap()
    }

    /// sc6000_boot.pcap f51: the SC6000's answer, a ServicesRequest and six announcements.
    const F51: &str = "000000028fba5ced93814d5cb3345bf935b8e49e000000008fba5ced93814d5cb3345bf935b8e49e0000001000530074006100740065004d0061007096e7000000008fba5ced93814d5cb3345bf935b8e49e0000001200420072006f006100640063006100730074b70f000000008fba5ced93814d5cb3345bf935b8e49e0000000e00530079006e00630069006e00679d5d000000008fba5ced93814d5cb3345bf935b8e49e0000002600540069006d006500530079006e006300680072006f006e0069007a006100740069006f006ea771000000008fba5ced93814d5cb3345bf935b8e49e0000001000420065006100740049006e0066006fa7a7000000008fba5ced93814d5cb3345bf935b8e49e0000001800460069006c0065005400720061006e00730066006500728267";

    #[test]
    fn real_services_request_f49() {
        let b = parse_hex(&format!("00000002{MIXER}")).unwrap();
        let r = ServicesRequest {
            token: token(MIXER),
        };
        assert_eq!(
            DirectoryMessage::parse(&b),
            Ok(DirectoryMessage::ServicesRequest(r))
        );
        assert_eq!(r.to_bytes(), b);
        let d = dissect(&b, true);
        assert_eq!(
            (d.type_name.as_ref(), d.malformed.as_deref()),
            ("services_request", None)
        );
    }

    #[test]
    fn real_announcements_f51() {
        let b = parse_hex(F51).unwrap();
        assert_eq!(b.len(), 302);
        let sc = token(SC6000);
        let expected = [
            DirectoryMessage::ServicesRequest(ServicesRequest { token: sc }),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(sc, "StateMap", 38631)),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(sc, "Broadcast", 46863)),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(sc, "Syncing", 40285)),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(
                sc,
                "TimeSynchronization",
                42865,
            )),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(sc, "BeatInfo", 42919)),
            DirectoryMessage::ServiceAnnouncement(ServiceAnnouncement::new(
                sc,
                "FileTransfer",
                33383,
            )),
        ];
        let mut rest = &b[..];
        let mut emitted = Vec::new();
        for want in &expected {
            let Framing::Complete(n) = frame(rest) else {
                panic!("framing failed at {}", b.len() - rest.len())
            };
            assert_eq!(&DirectoryMessage::parse(&rest[..n]).unwrap(), want);
            let d = dissect(&rest[..n], false);
            assert_eq!(d.malformed, None);
            emitted.extend(want.to_bytes());
            rest = &rest[n..];
        }
        assert!(rest.is_empty());
        assert_eq!(emitted, b);
        let d = dissect(&b[20..62], false);
        assert_eq!(d.type_name, "service_announcement");
        assert_eq!(d.field("service").unwrap().as_str(), Some("StateMap"));
        assert_eq!(d.field("port").unwrap().as_u64(), Some(38631));
    }

    #[test]
    fn real_reference_ping_and_echo() {
        // f168: the mixer's first ping (LE value 5,406,329); f170 the SC6000's echo.
        let ping = parse_hex(&format!(
            "00000001{MIXER}{}797e520000000000",
            "00".repeat(16)
        ))
        .unwrap();
        let echo = parse_hex(&format!("00000001{MIXER}{SC6000}797e520000000000")).unwrap();
        let r = Reference::ping_le(token(MIXER), 5_406_329);
        assert_eq!(Reference::parse(&ping), Ok(r));
        assert_eq!(r.to_bytes(), ping);
        assert_eq!(r.echo(token(SC6000)).to_bytes(), echo);
        let d = dissect(&ping, true);
        assert_eq!(d.field("role").unwrap().as_str(), Some("ping"));
        assert_eq!(d.field("value_le").unwrap().as_u64(), Some(5_406_329));
        assert_eq!(
            dissect(&echo, false).field("role").unwrap().as_str(),
            Some("echo")
        );
        // f431: the SC6000's first ping, BE nanoseconds 25,472,891,220.
        let sc = parse_hex(&format!(
            "00000001{SC6000}{}00000005ee4d7954",
            "00".repeat(16)
        ))
        .unwrap();
        let r = Reference::parse(&sc).unwrap();
        assert_eq!((r.value, r.is_ping()), (25_472_891_220, true));
        assert_eq!(r.to_bytes(), sc);
    }

    #[test]
    fn truncation_and_garbage() {
        let b = parse_hex(F51).unwrap();
        let first = &b[20..62];
        for n in 0..first.len() {
            assert!(ServiceAnnouncement::parse(&first[..n]).is_err());
            assert!(dissect(&first[..n], false).malformed.is_some());
            assert_eq!(frame(&first[..n]), Framing::Incomplete);
        }
        assert!(dissect(&[], false).malformed.is_some());
        assert_eq!(frame(&[0, 0, 0, 9, 1]), Framing::Invalid);
        let mut odd = first.to_vec();
        odd[23] = 0x11;
        assert_eq!(frame(&odd), Framing::Invalid);
        assert_eq!(
            DirectoryMessage::parse(&[0, 0, 0, 7]),
            Err(Error::UnknownId { id: 7 })
        );
        assert!(matches!(
            ServicesRequest::parse(&b[..21]),
            Err(Error::TrailingBytes { .. })
        ));
    }
}
