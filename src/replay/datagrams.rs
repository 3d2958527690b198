//! The capture as a stream of DJ-protocol datagrams: frames are read one at a time
//! (`capture::CaptureReader`, bounded memory on any size), sliced and defragmented by the same
//! network stage `read` uses (`net::NetDecoder`), and the UDP datagrams on the Pro DJ Link
//! ports (50000-50004) and StageLinQ discovery (51337) are handed out with their frame number
//! and time. Damage in the file is reported and skipped where the reader can resume, so the
//! replay sends exactly what `read` could read.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use crate::capture::{CaptureError, CaptureReader};
use crate::net::defrag::DefragLimits;
use crate::net::{NetDecoder, Transport};

/// StageLinQ discovery's UDP port (`stagelinq.md` 2).
pub const STAGELINQ_PORT: u16 = 51337;

/// True for a datagram the replay sends: Pro DJ Link (`prodjlink.md` 1.1, by destination port)
/// or StageLinQ discovery.
pub fn is_dj_port(dst_port: u16) -> bool {
    (50000..=50004).contains(&dst_port) || dst_port == STAGELINQ_PORT
}

/// One datagram to send, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    pub frame: u64,
    pub ts_ns: i128,
    /// The time of the capture's first frame (of any kind): `--from`/`--to` count from it, as
    /// `read`'s relative times do.
    pub start_ns: i128,
    pub src: Ipv4Addr,
    pub src_port: u16,
    pub dst: Ipv4Addr,
    pub dst_port: u16,
    pub payload: &'a [u8],
    /// The capture cut it short (snap length): sent as far as it was captured.
    pub truncated: bool,
}

/// What reading the file met besides datagrams.
#[derive(Debug, Default, Clone)]
pub struct Damage {
    /// Errors of the capture file, in order (the last one may have ended reading).
    pub errors: Vec<String>,
    pub frames: u64,
    /// DJ datagrams the capture cut short.
    pub truncated: u64,
    /// IPv6 DJ datagrams: loopback replay is IPv4 (no DJ gear speaks IPv6).
    pub ipv6: u64,
}

/// At most this many damage messages are kept (a shredded file would otherwise fill memory);
/// the rest are counted.
const MAX_ERRORS: usize = 64;

pub struct Datagrams {
    reader: CaptureReader,
    net: NetDecoder,
    pub damage: Damage,
    /// Errors beyond [`MAX_ERRORS`].
    pub errors_not_kept: u64,
    done: bool,
    start_ns: Option<i128>,
    /// The current datagram's payload (defragmented datagrams are not in the frame's buffer).
    buf: Vec<u8>,
}

impl Datagrams {
    pub fn open(path: &Path) -> Result<Datagrams, CaptureError> {
        Ok(Datagrams {
            reader: CaptureReader::open(path)?,
            net: NetDecoder::new(DefragLimits::default()),
            damage: Damage::default(),
            errors_not_kept: 0,
            done: false,
            start_ns: None,
            buf: Vec::with_capacity(2048),
        })
    }

    fn note(&mut self, e: &CaptureError) {
        if self.damage.errors.len() < MAX_ERRORS {
            self.damage.errors.push(e.to_string());
        } else {
            self.errors_not_kept += 1;
        }
    }

    /// The next DJ datagram, or None at the end of the file (or at damage that ends reading,
    /// which is in [`Damage::errors`]).
    pub fn next_datagram(&mut self) -> Option<Datagram<'_>> {
        while !self.done {
            let frame = match self.reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let resumable = e.is_resumable();
                    self.note(&e);
                    if resumable {
                        continue;
                    }
                    break;
                }
            };
            self.damage.frames += 1;
            let (number, ts_ns) = (frame.number, frame.ts_ns);
            let start_ns = *self.start_ns.get_or_insert(ts_ns);
            let buf = &mut self.buf;
            let found = self.net.decode(&frame, |t| match t {
                Transport::Udp {
                    src,
                    dst,
                    payload,
                    truncated,
                } if is_dj_port(dst.port()) => {
                    buf.clear();
                    buf.extend_from_slice(payload);
                    Some((src, dst, truncated))
                }
                _ => None,
            });
            let Ok(Some((src, dst, truncated))) = found else {
                continue;
            };
            let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
                self.damage.ipv6 += 1;
                continue;
            };
            self.damage.truncated += u64::from(truncated);
            return Some(Datagram {
                frame: number,
                ts_ns,
                start_ns,
                src: s,
                src_port: src.port(),
                dst: d,
                dst_port: dst.port(),
                payload: &self.buf,
                truncated,
            });
        }
        self.done = true;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_no_capture_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pcap");
        std::fs::write(&p, b"hello, this is not a capture").unwrap();
        assert!(Datagrams::open(&p).is_err());
    }

    #[test]
    fn only_dj_ports_are_replayed() {
        assert!(is_dj_port(50000) && is_dj_port(50002) && is_dj_port(51337));
        assert!(!is_dj_port(12523) && !is_dj_port(53) && !is_dj_port(50005));
    }
}
