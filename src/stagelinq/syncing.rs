//! The `Syncing` service (`stagelinq.md` 1.3.2): announced by SC6000 players, never connected
//! to in any public capture, format unknown. Its messages are taken as the usual u32
//! length-prefixed frames that follow a service hello (`stagelinq.md` 1.4) and kept whole.

use crate::dissect::Depth;
use crate::dissect::{Dissection, FieldSink, Proto};

use super::wire::{self, Result};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.1: length-prefixed message.
    pub const LENGTH: Range<usize> = 0..4;
    pub const BODY: usize = 4;
}

/// One Syncing frame; the body's meaning is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncingMessage {
    pub body: Vec<u8>,
}

impl SyncingMessage {
    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        Ok(SyncingMessage {
            body: b[field::BODY..].to_vec(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::BODY + self.body.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        buf[field::BODY..field::BODY + self.body.len()].copy_from_slice(&self.body);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Dissect one Syncing frame (type `syncing`): the length, then the body as unknown bytes.
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let mut d = Dissection::new(Proto::StageLinq, "syncing");
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    s.unknown_rest(field::BODY);
    d.summary = format!(
        "Syncing frame, {} body bytes (format unknown)",
        b.len().saturating_sub(field::BODY)
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_truncation() {
        let m = SyncingMessage {
            body: vec![0, 0, 0, 1, 0xab],
        };
        let b = m.to_bytes();
        assert_eq!(b, [0, 0, 0, 5, 0, 0, 0, 1, 0xab]);
        assert_eq!(SyncingMessage::parse(&b), Ok(m));
        let d = dissect(&b, false);
        assert_eq!(
            (d.type_name.as_ref(), d.malformed.as_deref()),
            ("syncing", None)
        );
        let d = dissect(&b, true);
        assert_eq!(d.fields.last().unwrap().range, Some(4..9));
        for n in 0..b.len() {
            assert!(SyncingMessage::parse(&b[..n]).is_err());
            assert!(dissect(&b[..n], false).malformed.is_some());
        }
    }
}
