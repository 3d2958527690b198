//! Discovery datagrams on UDP 51337, magic `airD` (`stagelinq.md` 1.2).

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto, Value};

use super::models::model_for;
use super::wire::{self, Error, Result, Token};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.2
    pub const MAGIC: Range<usize> = 0..4;
    pub const TOKEN: Range<usize> = 4..20;
    /// Start of the first network string (device name); action, software name and version
    /// follow back to back, then the u16 port.
    pub const DEVICE_NAME: usize = 20;
    pub const PORT_LEN: usize = 2;
}

pub const MAGIC: &[u8; 4] = b"airD";
/// UDP port every StageLinQ unit announces on.
pub const PORT: u16 = 51337;

/// The action string of a discovery datagram (`stagelinq.md` 1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `DISCOVERER_HOWDY_`: present.
    Howdy,
    /// `DISCOVERER_EXIT_`: leaving.
    Exit,
    /// Anything else, kept verbatim (IT-EASY's `DISCOVERER_EXIT__` lands here; `is_exit` still
    /// says true for it).
    Other(String),
}

impl Action {
    pub const HOWDY: &'static str = "DISCOVERER_HOWDY_";
    pub const EXIT: &'static str = "DISCOVERER_EXIT_";

    pub fn from_wire(s: &str) -> Action {
        match s {
            Self::HOWDY => Action::Howdy,
            Self::EXIT => Action::Exit,
            other => Action::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Action::Howdy => Self::HOWDY,
            Action::Exit => Self::EXIT,
            Action::Other(s) => s,
        }
    }

    /// True for every spelling of the leave message (`stagelinq.md` 1.2: accept anything that
    /// starts with `DISCOVERER_EXIT`).
    pub fn is_exit(&self) -> bool {
        self.as_str().starts_with("DISCOVERER_EXIT")
    }

    /// Short word for summaries.
    pub fn label(&self) -> &str {
        match self {
            Action::Howdy => "HOWDY",
            a if a.is_exit() => "EXIT",
            a => a.as_str(),
        }
    }
}

/// One discovery datagram (HOWDY or EXIT; the layout is the same for devices and software).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub token: Token,
    /// Source/device name: `sc6000`, `primego`, `DN-X1800Prime`, or a host name.
    pub device_name: String,
    pub action: Action,
    /// Model code (`JP13`) or application name (`OfflineAnalyzer`).
    pub software: String,
    pub version: String,
    /// TCP port of the sender's directory service; 0 when it offers none.
    pub port: u16,
    /// Bytes after the port. None are expected (`stagelinq.md` 1.2); kept for round trips.
    pub extra: Vec<u8>,
}

impl Discovery {
    /// A HOWDY as a unit sends it every second.
    pub fn howdy(
        token: Token,
        device_name: &str,
        software: &str,
        version: &str,
        port: u16,
    ) -> Self {
        Discovery {
            token,
            device_name: device_name.to_string(),
            action: Action::Howdy,
            software: software.to_string(),
            version: version.to_string(),
            port,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        if wire::slice(b, field::MAGIC.start, 4, "magic")? != MAGIC {
            return Err(Error::BadMagic { expected: "airD" });
        }
        let token =
            Token::from_slice(wire::slice(b, field::TOKEN.start, 16, "token")?).unwrap_or_default();
        let (device_name, p) = wire::read_ns(b, field::DEVICE_NAME, "device name")?;
        let (action, p) = wire::read_ns(b, p, "action")?;
        let (software, p) = wire::read_ns(b, p, "software name")?;
        let (version, p) = wire::read_ns(b, p, "software version")?;
        let port = wire::read_u16(b, p, "port")?;
        Ok(Discovery {
            token,
            device_name,
            action: Action::from_wire(&action),
            software,
            version,
            port,
            extra: b[p + field::PORT_LEN..].to_vec(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::DEVICE_NAME
            + wire::ns_len(&self.device_name)
            + wire::ns_len(self.action.as_str())
            + wire::ns_len(&self.software)
            + wire::ns_len(&self.version)
            + field::PORT_LEN
            + self.extra.len()
    }

    /// Write into `buf`, which must hold `buffer_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::MAGIC].copy_from_slice(MAGIC);
        buf[field::TOKEN].copy_from_slice(&self.token.0);
        let p = wire::write_ns(buf, field::DEVICE_NAME, &self.device_name);
        let p = wire::write_ns(buf, p, self.action.as_str());
        let p = wire::write_ns(buf, p, &self.software);
        let p = wire::write_ns(buf, p, &self.version);
        wire::put_u16(buf, p, self.port);
        let p = p + field::PORT_LEN;
        buf[p..p + self.extra.len()].copy_from_slice(&self.extra);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Dissect a discovery datagram (type `discovery`).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "discovery");
    let mut s = FieldSink::new(b, &mut d, detail);
    s.constant("magic", field::MAGIC, MAGIC);
    let token = wire::dissect_token(&mut s, "token", field::TOKEN.start);
    let name = wire::dissect_ns(&mut s, "device_name_len", "device_name", field::DEVICE_NAME);
    let action = name
        .as_ref()
        .and_then(|(_, p)| wire::dissect_ns(&mut s, "action_len", "action", *p));
    let software = action
        .as_ref()
        .and_then(|(_, p)| wire::dissect_ns(&mut s, "software_len", "software", *p));
    let version = software
        .as_ref()
        .and_then(|(_, p)| wire::dissect_ns(&mut s, "version_len", "version", *p));
    let mut port = None;
    if let Some((_, p)) = version {
        port = s.uint_with("port", p..p + field::PORT_LEN, |v| {
            Some(if v == 0 {
                "no directory service offered".to_string()
            } else {
                format!("TCP port of the sender's directory service ({v})")
            })
        });
        s.unknown_rest(p + field::PORT_LEN);
    }
    let model = software.as_ref().and_then(|(sw, _)| model_for(sw));
    if let Some(m) = model {
        s.derived("model", Value::str(m.unit));
        s.derived("role", Value::str(m.role.as_str()));
    }
    if let Some((a, _)) = &action {
        if !a.starts_with("DISCOVERER_") {
            d.set_malformed(format!("unexpected action {a:?}"));
        }
    }
    d.name = name.as_ref().map(|(n, _)| n.clone());
    let action = action.map(|(a, _)| Action::from_wire(&a));
    d.summary = format!(
        "{} {:?} {} {} {} port {} token {}",
        action.as_ref().map_or("?", |a| a.label()),
        d.name.as_deref().unwrap_or("?"),
        software.as_ref().map_or("?", |(s, _)| s.as_str()),
        model.map_or(String::new(), |m| format!("({})", m.unit)),
        version.as_ref().map_or("?", |(v, _)| v.as_str()),
        port.map_or("?".to_string(), |p| p.to_string()),
        token.map_or("?".to_string(), |t| t.to_string()),
    )
    .replace("  ", " ");
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// sc6000_boot.pcap f19: the mixer's HOWDY (114 bytes).
    const MIXER: &str = "616972440000000000000000800000059504141c0000001a0044004e002d00580031003800300030005000720069006d0065000000220044004900530043004f00560045005200450052005f0048004f005700440059005f00000008004a004d00300038000000080031002e00300030c35a";
    /// sc6000_boot.pcap f41: the SC6000's player identity (102 bytes).
    const SC6000: &str = "616972448fba5ced93814d5cb3345bf935b8e49e0000000c007300630036003000300030000000220044004900530043004f00560045005200450052005f0048004f005700440059005f00000008004a0050003100330000000a0032002e0033002e0031a7ab";
    /// sc6000_boot.pcap f33: one of the SC6000's two OfflineAnalyzer identities (124 bytes).
    const ANALYZER: &str = "61697244041235e3ef634a11bcc707b2004ebd260000000c007300630036003000300030000000220044004900530043004f00560045005200450052005f0048004f005700440059005f0000001e004f00660066006c0069006e00650041006e0061006c0079007a006500720000000a0031002e0030002e0030a17b";

    fn token(h: &str) -> Token {
        Token::from_slice(&parse_hex(h).unwrap()).unwrap()
    }

    #[test]
    fn real_datagrams_both_directions() {
        let cases = [
            (
                MIXER,
                Discovery::howdy(
                    token("0000000000000000800000059504141c"),
                    "DN-X1800Prime",
                    "JM08",
                    "1.00",
                    50010,
                ),
                114,
            ),
            (
                SC6000,
                Discovery::howdy(
                    token("8fba5ced93814d5cb3345bf935b8e49e"),
                    "sc6000",
                    "JP13",
                    "2.3.1",
                    42923,
                ),
                102,
            ),
            (
                ANALYZER,
                Discovery::howdy(
                    token("041235e3ef634a11bcc707b2004ebd26"),
                    "sc6000",
                    "OfflineAnalyzer",
                    "1.0.0",
                    41339,
                ),
                124,
            ),
        ];
        for (hex, repr, len) in cases {
            let bytes = parse_hex(hex).unwrap();
            assert_eq!(bytes.len(), len);
            assert_eq!(Discovery::parse(&bytes).unwrap(), repr);
            assert_eq!(repr.buffer_len(), len);
            assert_eq!(repr.to_bytes(), bytes);
        }
    }

    #[test]
    fn dissection_names_every_byte() {
        let bytes = parse_hex(SC6000).unwrap();
        let d = dissect(&bytes, true);
        assert_eq!(d.malformed, None);
        assert_eq!(d.field("device_name").unwrap().as_str(), Some("sc6000"));
        assert_eq!(
            d.field("action").unwrap().as_str(),
            Some("DISCOVERER_HOWDY_")
        );
        assert_eq!(d.field("software").unwrap().as_str(), Some("JP13"));
        assert_eq!(d.field("version").unwrap().as_str(), Some("2.3.1"));
        assert_eq!(d.field("port").unwrap().as_u64(), Some(42923));
        assert_eq!(d.field("model").unwrap().as_str(), Some("SC6000"));
        assert_eq!(
            d.field("token"),
            Some(&Value::Bytes(
                parse_hex("8fba5ced93814d5cb3345bf935b8e49e").unwrap()
            ))
        );
        let covered: usize = d
            .fields
            .iter()
            .filter_map(|f| f.range.as_ref())
            .map(|r| r.len())
            .sum();
        assert_eq!(covered, bytes.len());
        assert_eq!(
            d.summary,
            "HOWDY \"sc6000\" JP13 (SC6000) 2.3.1 port 42923 token 8fba5ced-9381-4d5c-b334-5bf935b8e49e"
        );
    }

    #[test]
    fn exit_and_extra_bytes_round_trip() {
        let mut r = Discovery::howdy(Token([7; 16]), "primego", "JP11", "2.1.1", 0);
        r.action = Action::Exit;
        let b = r.to_bytes();
        assert_eq!(Discovery::parse(&b).unwrap(), r);
        r.action = Action::from_wire("DISCOVERER_EXIT__");
        r.extra = vec![1, 2];
        assert!(r.action.is_exit());
        let b = r.to_bytes();
        assert_eq!(Discovery::parse(&b).unwrap(), r);
        assert_eq!(
            dissect(&b, false).field("model").unwrap().as_str(),
            Some("PRIME GO")
        );
    }

    #[test]
    fn truncation_and_garbage() {
        let bytes = parse_hex(MIXER).unwrap();
        for n in 0..bytes.len() {
            assert!(Discovery::parse(&bytes[..n]).is_err(), "prefix {n}");
            let d = dissect(&bytes[..n], false);
            assert!(d.malformed.is_some(), "prefix {n}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'x';
        assert_eq!(
            Discovery::parse(&bad),
            Err(Error::BadMagic { expected: "airD" })
        );
        // A huge string length must not allocate or panic.
        let mut huge = bytes.clone();
        huge[20..24].copy_from_slice(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(Discovery::parse(&huge).is_err());
        assert!(dissect(&huge, true).malformed.is_some());
    }
}
