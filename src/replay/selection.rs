//! Which datagrams a replay sends: `--from`/`--to` (capture time since the first frame, or a
//! frame number `#N`), `--filter` (the `read` filter language, `filter/`, decided on the same
//! records `read` makes) and `--count`.

use std::net::SocketAddr;

use crate::dissect::{Depth, Dissection};
use crate::filter::Filter;
use crate::record::Record;
use crate::{prodjlink, stagelinq};

use super::datagrams::Datagram;

/// One end of the replayed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Nanoseconds after the capture's first frame.
    Time(i128),
    /// A frame number, as `read` prints it.
    Frame(u64),
}

impl Bound {
    /// `90s`, `1m30s`, `250ms`, `0` (a duration), or `#1200` / `frame:1200` (a frame number).
    pub fn parse(text: &str) -> Result<Bound, String> {
        let t = text.trim();
        if let Some(n) = t.strip_prefix('#').or_else(|| t.strip_prefix("frame:")) {
            return n
                .parse()
                .map(Bound::Frame)
                .map_err(|_| format!("'{text}' is not a frame number (try #1200)"));
        }
        if t == "0" {
            return Ok(Bound::Time(0));
        }
        crate::synth::parse_duration(t)
            .map(Bound::Time)
            .map_err(|e| format!("{e}, or a frame number such as #1200"))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    pub filter: Option<Filter>,
    pub count: Option<u64>,
}

/// Where a datagram stands against the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    Skip,
    /// Past `--to`: nothing later is sent.
    End,
}

impl Selection {
    /// Decide on `d`; `first_ts` is the capture's first frame time (what `Time` bounds count
    /// from).
    pub fn judge(&self, d: &Datagram<'_>, first_ts: i128) -> Verdict {
        let at = |b: Bound| match b {
            Bound::Time(ns) => (d.ts_ns - first_ts).cmp(&ns),
            Bound::Frame(n) => d.frame.cmp(&n),
        };
        if self.to.is_some_and(|b| at(b).is_gt()) {
            return Verdict::End;
        }
        if self.from.is_some_and(|b| at(b).is_lt()) {
            return Verdict::Skip;
        }
        match &self.filter {
            Some(f) if !f.matches(&record(d, depth(f))) => Verdict::Skip,
            _ => Verdict::Send,
        }
    }
}

fn depth(f: &Filter) -> Depth {
    if f.needs_fields() {
        Depth::Fields
    } else {
        Depth::Head
    }
}

/// The record `read` would make of this datagram (protocols.rs: Pro DJ Link by port and magic,
/// then StageLinQ discovery).
fn record<'a>(d: &Datagram<'a>, depth: Depth) -> Record<'a> {
    let dissection = if d.dst_port != stagelinq_port() && prodjlink::has_magic(d.payload) {
        prodjlink::dissect(d.dst_port, d.payload, depth)
    } else if let Some((dis, _)) = stagelinq::dissect_datagram(d.payload, depth) {
        dis
    } else {
        Dissection::new(crate::dissect::Proto::ProDjLink, "unknown")
    };
    Record {
        frame: d.frame,
        ts_ns: d.ts_ns,
        src: SocketAddr::from((d.src, d.src_port)),
        dst: SocketAddr::from((d.dst, d.dst_port)),
        interface: 0,
        port: d.dst_port,
        bytes: d.payload,
        dissection,
        extra: Vec::new(),
    }
}

fn stagelinq_port() -> u16 {
    super::datagrams::STAGELINQ_PORT
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn dg(frame: u64, ts_ns: i128, payload: &[u8]) -> Datagram<'_> {
        Datagram {
            frame,
            ts_ns,
            start_ns: 0,
            src: Ipv4Addr::new(10, 0, 0, 2),
            src_port: 50001,
            dst: Ipv4Addr::new(10, 0, 0, 255),
            dst_port: 50001,
            payload,
            truncated: false,
        }
    }

    #[test]
    fn bounds_parse_times_and_frames() {
        assert_eq!(Bound::parse("#12"), Ok(Bound::Frame(12)));
        assert_eq!(Bound::parse("frame:7"), Ok(Bound::Frame(7)));
        assert_eq!(Bound::parse("1m30s"), Ok(Bound::Time(90_000_000_000)));
        assert_eq!(Bound::parse("0"), Ok(Bound::Time(0)));
        assert!(Bound::parse("#x").is_err());
        assert!(Bound::parse("soon").is_err());
    }

    #[test]
    fn window_by_time_and_frame() {
        let s = Selection {
            from: Some(Bound::Time(1_000_000_000)),
            to: Some(Bound::Frame(10)),
            ..Selection::default()
        };
        assert_eq!(s.judge(&dg(1, 0, b""), 0), Verdict::Skip);
        assert_eq!(s.judge(&dg(5, 1_000_000_000, b""), 0), Verdict::Send);
        assert_eq!(s.judge(&dg(10, 2_000_000_000, b""), 0), Verdict::Send);
        assert_eq!(s.judge(&dg(11, 2_000_000_000, b""), 0), Verdict::End);
    }

    #[test]
    fn the_read_filter_decides_on_the_dissected_datagram() {
        let bytes = crate::prodjlink::Beat::new("CDJ-3000", 2, 124.0, 0.0, 1).to_bytes();
        let beat_only = Selection {
            filter: Some(crate::filter::parse("beat").unwrap()),
            ..Selection::default()
        };
        let status_only = Selection {
            filter: Some(crate::filter::parse("status").unwrap()),
            ..Selection::default()
        };
        assert_eq!(beat_only.judge(&dg(1, 0, &bytes), 0), Verdict::Send);
        assert_eq!(status_only.judge(&dg(1, 0, &bytes), 0), Verdict::Skip);
    }
}
