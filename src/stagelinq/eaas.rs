//! EAAS discovery on UDP 11224 (`stagelinq.md` 1.10): Engine DJ desktop's library service.
//! Separate from StageLinQ proper; recognised so that it is named rather than left unknown.

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Knowledge, Proto, Value};

use super::wire::{self, Error, Result, Token};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.10: "EAAS", 01, then 00 (request) or 01 (response).
    pub const MAGIC: Range<usize> = 0..4;
    pub const VERSION: usize = 4;
    pub const KIND: usize = 5;
    // Response: token, NS hostname (UTF-16), NS URL (UTF-8), NS version (UTF-16), one byte,
    // NS extra (UTF-16).
    pub const TOKEN: Range<usize> = 6..22;
    pub const HOSTNAME: usize = 22;
    pub const FLAG_LEN: usize = 1;
}

pub const MAGIC: &[u8; 4] = b"EAAS";
pub const PORT: u16 = 11224;
const VERSION: u8 = 1;
const KIND_REQUEST: u8 = 0;
const KIND_RESPONSE: u8 = 1;

/// An EAAS beacon answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EaasResponse {
    pub token: Token,
    pub hostname: String,
    /// gRPC endpoint, e.g. `grpc://192.168.188.120:50010` (UTF-8 on the wire).
    pub url: String,
    pub software_version: String,
    /// The byte after the version: 0x01 in every example.
    pub unknown_flag: u8,
    /// Trailing string, `_` in every example.
    pub extra: String,
}

/// One EAAS discovery datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EaasDiscovery {
    Request,
    Response(EaasResponse),
}

impl EaasDiscovery {
    pub fn parse(b: &[u8]) -> Result<Self> {
        if wire::slice(b, 0, 4, "magic")? != MAGIC {
            return Err(Error::BadMagic { expected: "EAAS" });
        }
        let head = wire::slice(b, field::VERSION, 2, "kind")?;
        match (head[0], head[1]) {
            (VERSION, KIND_REQUEST) if b.len() == 6 => Ok(Self::Request),
            (VERSION, KIND_REQUEST) => Err(Error::TrailingBytes {
                what: "EAAS request",
                count: b.len() - 6,
            }),
            (VERSION, KIND_RESPONSE) => {
                let token = Token::from_slice(wire::slice(b, field::TOKEN.start, 16, "token")?)
                    .unwrap_or_default();
                let (hostname, p) = wire::read_ns(b, field::HOSTNAME, "hostname")?;
                let (url, p) = wire::read_ns_utf8(b, p, "url")?;
                let (software_version, p) = wire::read_ns(b, p, "software version")?;
                let unknown_flag = wire::slice(b, p, field::FLAG_LEN, "flag")?[0];
                let (extra, p) = wire::read_ns(b, p + field::FLAG_LEN, "extra")?;
                if p != b.len() {
                    return Err(Error::TrailingBytes {
                        what: "EAAS response",
                        count: b.len() - p,
                    });
                }
                Ok(Self::Response(EaasResponse {
                    token,
                    hostname,
                    url,
                    software_version,
                    unknown_flag,
                    extra,
                }))
            }
            _ => Err(Error::Invalid {
                what: "EAAS",
                reason: "unknown version or kind byte",
            }),
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Request => 6,
            Self::Response(r) => {
                field::HOSTNAME
                    + wire::ns_len(&r.hostname)
                    + 4
                    + r.url.len()
                    + wire::ns_len(&r.software_version)
                    + field::FLAG_LEN
                    + wire::ns_len(&r.extra)
            }
        }
    }

    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::MAGIC].copy_from_slice(MAGIC);
        buf[field::VERSION] = VERSION;
        match self {
            Self::Request => buf[field::KIND] = KIND_REQUEST,
            Self::Response(r) => {
                buf[field::KIND] = KIND_RESPONSE;
                buf[field::TOKEN].copy_from_slice(&r.token.0);
                let p = wire::write_ns(buf, field::HOSTNAME, &r.hostname);
                let p = wire::write_ns_utf8(buf, p, &r.url);
                let p = wire::write_ns(buf, p, &r.software_version);
                buf[p] = r.unknown_flag;
                wire::write_ns(buf, p + field::FLAG_LEN, &r.extra);
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Dissect an EAAS discovery datagram (types `eaas_request`, `eaas_response`).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let kind = b.get(field::KIND).copied();
    let type_name = if kind == Some(KIND_RESPONSE) {
        "eaas_response"
    } else {
        "eaas_request"
    };
    let mut d = Dissection::new(Proto::StageLinq, type_name);
    let mut s = FieldSink::new(b, &mut d, detail);
    s.constant("magic", field::MAGIC, MAGIC);
    s.uint("version", field::VERSION..field::VERSION + 1);
    s.uint_with("kind", field::KIND..field::KIND + 1, |v| {
        Some(if v == 0 { "request" } else { "response" }.to_string())
    });
    if kind != Some(KIND_RESPONSE) {
        s.unknown_rest(6);
        d.summary = "EAAS discovery request".to_string();
    } else {
        let token = wire::dissect_token(&mut s, "token", field::TOKEN.start);
        let host = wire::dissect_ns(&mut s, "hostname_len", "hostname", field::HOSTNAME);
        let url = host.as_ref().and_then(|(_, p)| {
            let n = s.uint("url_len", *p..*p + 4)? as usize;
            let (_, r, end) = wire::ns_ranges(*p, n);
            let raw = s.get("url", r.clone())?;
            let text = String::from_utf8_lossy(raw).into_owned();
            s.push(
                "url",
                Some(r),
                Value::Str(text.clone().into()),
                Knowledge::Known,
                || None,
            );
            Some((text, end))
        });
        let version = url.as_ref().and_then(|(_, p)| {
            wire::dissect_ns(&mut s, "software_version_len", "software_version", *p)
        });
        if let Some((_, p)) = &version {
            s.unknown(*p..*p + field::FLAG_LEN);
            if let Some((_, end)) =
                wire::dissect_ns(&mut s, "extra_len", "extra", *p + field::FLAG_LEN)
            {
                s.unknown_rest(end);
            }
        }
        d.name = host.as_ref().map(|(h, _)| h.clone());
        d.summary = format!(
            "EAAS {} at {} version {} token {}",
            host.map_or("?".to_string(), |(h, _)| h),
            url.map_or("?".to_string(), |(u, _)| u),
            version.map_or("?".to_string(), |(v, _)| v),
            token.map_or("?".to_string(), |t| t.to_string())
        );
    }
    if d.malformed.is_none() {
        if let Err(e) = EaasDiscovery::parse(b) {
            d.set_malformed(e.to_string());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    #[test]
    fn request_and_response_from_the_reference() {
        let req = parse_hex("454141530100").unwrap();
        assert_eq!(EaasDiscovery::parse(&req), Ok(EaasDiscovery::Request));
        assert_eq!(EaasDiscovery::Request.to_bytes(), req);
        assert_eq!(dissect(&req, false).malformed, None);
        // stagelinq.md 1.10: URL in UTF-8, version `3.4.0.f6b3dc2c20`, flag 0x01, extra `_`.
        let r = EaasDiscovery::Response(EaasResponse {
            token: Token([0x79; 16]),
            hostname: "engine-pc".into(),
            url: "grpc://192.168.188.120:50010".into(),
            software_version: "3.4.0.f6b3dc2c20".into(),
            unknown_flag: 1,
            extra: "_".into(),
        });
        let b = r.to_bytes();
        let url_at = 22 + 4 + 18;
        assert_eq!(&b[url_at..url_at + 4], [0, 0, 0, 28]);
        assert_eq!(&b[url_at + 4..url_at + 11], b"grpc://");
        assert_eq!(&b[b.len() - 7..], parse_hex("01 00000002 005f").unwrap());
        assert_eq!(EaasDiscovery::parse(&b), Ok(r));
        let d = dissect(&b, true);
        assert_eq!(d.malformed, None);
        assert_eq!(
            d.field("url").unwrap().as_str(),
            Some("grpc://192.168.188.120:50010")
        );
        let covered: usize = d
            .fields
            .iter()
            .filter_map(|f| f.range.as_ref())
            .map(|r| r.len())
            .sum();
        assert_eq!(covered, b.len());
        for n in 0..b.len() {
            assert!(EaasDiscovery::parse(&b[..n]).is_err());
            assert!(dissect(&b[..n], false).malformed.is_some(), "prefix {n}");
        }
        assert!(EaasDiscovery::parse(b"EAAS\x02\x00").is_err());
    }
}
