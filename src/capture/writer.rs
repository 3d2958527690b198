//! Capture writers: pcapng (used by `synth`, later `live --write`) and classic pcap (tests of
//! byte orders and time resolutions). Frames are built with etherparse's `PacketBuilder` by the
//! callers; these writers only frame them.

use std::io::{self, Write};

use super::LinkType;

/// Writes a little-endian pcapng file: one section, any number of interfaces.
pub struct PcapNgWriter<W: Write> {
    out: W,
    /// Per interface: timestamp units per second.
    resolutions: Vec<u64>,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl<W: Write> PcapNgWriter<W> {
    /// Start a file: writes the section header block.
    pub fn new(mut out: W, application: &str) -> io::Result<Self> {
        let mut opts = Vec::new();
        push_option(&mut opts, 4, application.as_bytes()); // shb_userappl
        push_option(&mut opts, 0, &[]); // opt_endofopt
        let len = 28 + opts.len();
        let mut b = Vec::with_capacity(len);
        b.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        b.extend_from_slice(&opts);
        b.extend_from_slice(&(len as u32).to_le_bytes());
        out.write_all(&b)?;
        Ok(PcapNgWriter {
            out,
            resolutions: Vec::new(),
        })
    }

    /// Add an interface; `tsresol_exp10` is the `if_tsresol` exponent (6 = µs, 9 = ns).
    /// Returns the interface id.
    pub fn add_interface(
        &mut self,
        link: LinkType,
        name: &str,
        tsresol_exp10: u8,
    ) -> io::Result<u32> {
        let mut opts = Vec::new();
        push_option(&mut opts, 2, name.as_bytes()); // if_name
        push_option(&mut opts, 9, &[tsresol_exp10]); // if_tsresol
        push_option(&mut opts, 0, &[]);
        let len = 20 + opts.len();
        let mut b = Vec::with_capacity(len);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&(link.number() as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // snaplen: unlimited
        b.extend_from_slice(&opts);
        b.extend_from_slice(&(len as u32).to_le_bytes());
        self.out.write_all(&b)?;
        self.resolutions
            .push(10u64.pow(tsresol_exp10.min(19) as u32));
        Ok(self.resolutions.len() as u32 - 1)
    }

    /// Write one frame as an enhanced packet block.
    pub fn write_packet(&mut self, interface: u32, ts_ns: i128, data: &[u8]) -> io::Result<()> {
        let res = *self
            .resolutions
            .get(interface as usize)
            .ok_or_else(|| io::Error::other("write_packet: unknown interface"))?;
        let units = (ts_ns.max(0) as u128 * res as u128 / 1_000_000_000) as u64;
        let pad = pad4(data.len());
        let len = 32 + data.len() + pad;
        let mut hdr = [0u8; 28];
        hdr[0..4].copy_from_slice(&6u32.to_le_bytes());
        hdr[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        hdr[8..12].copy_from_slice(&interface.to_le_bytes());
        hdr[12..16].copy_from_slice(&((units >> 32) as u32).to_le_bytes());
        hdr[16..20].copy_from_slice(&(units as u32).to_le_bytes());
        hdr[20..24].copy_from_slice(&(data.len() as u32).to_le_bytes());
        hdr[24..28].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&hdr)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        self.out.write_all(&(len as u32).to_le_bytes())
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.extend(std::iter::repeat_n(0u8, pad4(value.len())));
}

/// Writes a classic pcap file in either byte order and time resolution.
pub struct PcapWriter<W: Write> {
    out: W,
    big_endian: bool,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, link: LinkType, big_endian: bool, nanos: bool) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut h = Vec::with_capacity(24);
        let put32 = |h: &mut Vec<u8>, v: u32| {
            h.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        put32(&mut h, magic);
        let (maj, min) = (2u16, 4u16);
        h.extend_from_slice(&if big_endian {
            maj.to_be_bytes()
        } else {
            maj.to_le_bytes()
        });
        h.extend_from_slice(&if big_endian {
            min.to_be_bytes()
        } else {
            min.to_le_bytes()
        });
        put32(&mut h, 0); // thiszone
        put32(&mut h, 0); // sigfigs
        put32(&mut h, 262_144); // snaplen
        put32(&mut h, link.number());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            big_endian,
            nanos,
        })
    }

    pub fn write_packet(&mut self, ts_ns: i128, data: &[u8]) -> io::Result<()> {
        let ts = ts_ns.max(0);
        let secs = (ts / 1_000_000_000) as u32;
        let frac = (ts % 1_000_000_000) as u32;
        let frac = if self.nanos { frac } else { frac / 1000 };
        let mut h = Vec::with_capacity(16);
        for v in [secs, frac, data.len() as u32, data.len() as u32] {
            h.extend_from_slice(&if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            });
        }
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureReader, Format};

    type Frames = Vec<(i128, LinkType, u32, Vec<u8>)>;

    fn read_all(bytes: Vec<u8>) -> (Format, Frames) {
        let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut v = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            v.push((f.ts_ns, f.link_type, f.interface, f.data.to_vec()));
        }
        (r.format(), v)
    }

    #[test]
    fn pcapng_round_trip_with_two_interfaces_and_resolutions() {
        let mut w = PcapNgWriter::new(Vec::new(), "test").unwrap();
        let eth = w.add_interface(LinkType::Ethernet, "eth0", 6).unwrap();
        let raw = w.add_interface(LinkType::Raw, "tun0", 9).unwrap();
        w.write_packet(eth, 1_700_000_000_123_456_000, b"abc")
            .unwrap();
        w.write_packet(raw, 1_700_000_000_123_456_789, b"defgh")
            .unwrap();
        let (fmt, frames) = read_all(w.into_inner().unwrap());
        assert_eq!(fmt, Format::PcapNg);
        assert_eq!(
            frames,
            vec![
                (
                    1_700_000_000_123_456_000,
                    LinkType::Ethernet,
                    0,
                    b"abc".to_vec()
                ),
                (
                    1_700_000_000_123_456_789,
                    LinkType::Raw,
                    1,
                    b"defgh".to_vec()
                ),
            ]
        );
    }

    #[test]
    fn classic_pcap_every_byte_order_and_resolution() {
        for be in [false, true] {
            for nanos in [false, true] {
                let mut w = PcapWriter::new(Vec::new(), LinkType::LinuxSll2, be, nanos).unwrap();
                w.write_packet(1_000_000_001_999_999_999, b"xyz").unwrap();
                let (fmt, frames) = read_all(w.into_inner().unwrap());
                assert_eq!(fmt, Format::Pcap);
                let want = if nanos {
                    1_000_000_001_999_999_999
                } else {
                    1_000_000_001_999_999_000
                };
                assert_eq!(
                    frames,
                    vec![(want, LinkType::LinuxSll2, 0, b"xyz".to_vec())],
                    "be={be} ns={nanos}"
                );
            }
        }
    }
}
