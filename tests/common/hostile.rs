//! Hostile captures written with the project's own pcapng writer: floods of state that never
//! completes (half-open TCP connections, IP fragment trains without their last fragment); and
//! what the hostile-peer tests of the emulators share (garbage bytes, a process's peak memory).
//! Used by `tests/resource_limits.rs` and by `examples/hostile_captures.rs` (which writes
//! the million-connection files measured in FUZZING.md).

use std::io::{self, Write};

use djdissect::capture::writer::PcapNgWriter;
use djdissect::capture::LinkType;

/// Capture time of the first frame (2024-01-01); frames follow 1 µs apart, so no timeout
/// ever helps: only the limits keep memory bounded.
const T0: i128 = 1_704_067_200_000_000_000;

fn ethernet_ipv4(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    id: u16,
    flags_offset: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(&flags_offset.to_be_bytes());
    f.extend_from_slice(&[64, proto, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(payload);
    f
}

/// `n` connections that only ever send their SYN (distinct client address and port each),
/// to the dbserver port of one player.
pub fn half_open_tcp<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapNgWriter::new(out, "djdissect hostile_captures")?;
    let i = w.add_interface(LinkType::Ethernet, "eth0", 6)?;
    for k in 0..n {
        let src = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
        let sport = 1024 + (k % 60000) as u16;
        let mut tcp = Vec::with_capacity(20);
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&1051u16.to_be_bytes());
        tcp.extend_from_slice(&k.wrapping_mul(2_654_435_761).to_be_bytes()); // seq
        tcp.extend_from_slice(&0u32.to_be_bytes()); // ack
        tcp.extend_from_slice(&[0x50, 0x02]); // 20-byte header, SYN
        tcp.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window, checksum, urgent
        let frame = ethernet_ipv4(src, [169, 254, 1, 2], 6, k as u16, 0x4000, &tcp);
        w.write_packet(i, T0 + i128::from(k) * 1000, &frame)?;
    }
    w.into_inner()
}

/// `n` UDP datagrams to Pro DJ Link's status port of which only the first 1480-byte
/// fragment is captured (more fragments flag set, the rest never comes).
pub fn fragment_trains<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapNgWriter::new(out, "djdissect hostile_captures")?;
    let i = w.add_interface(LinkType::Ethernet, "eth0", 6)?;
    let mut payload = vec![0u8; 1480];
    payload[..8].copy_from_slice(&[0xc3, 0x50, 0xc3, 0x52, 0x0b, 0xb8, 0, 0]); // UDP 50000->50002
    for k in 0..n {
        let src = [10, 1, (k >> 24) as u8 | 0x80, (k >> 16) as u8];
        payload[8..12].copy_from_slice(&k.to_be_bytes());
        let frame = ethernet_ipv4(src, [169, 254, 255, 255], 17, k as u16, 0x2000, &payload);
        w.write_packet(i, T0 + i128::from(k) * 1000, &frame)?;
    }
    w.into_inner()
}

/// `n` Pro DJ Link keep-alives, each from a different address and claiming a different
/// device number and name: state kept per device (the session's device table, the detail
/// view's previous packet per device) meets as many devices as there are packets.
pub fn keep_alive_flood<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapNgWriter::new(out, "djdissect hostile_captures")?;
    let i = w.add_interface(LinkType::Ethernet, "eth0", 6)?;
    for k in 0..n {
        let ip = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
        // prodjlink.md 2.4: magic, kind 06, 00, name, 01 02, length 0x36, device, 01, MAC,
        // IP, peers, 3 bytes, device type, model.
        let mut p = b"Qspt1WmJOL".to_vec();
        p.extend_from_slice(&[0x06, 0x00]);
        let mut name = format!("CDJ-{k}").into_bytes();
        name.resize(20, 0);
        p.extend_from_slice(&name);
        p.extend_from_slice(&[0x01, 0x02, 0x00, 0x36, (k % 255) as u8 + 1, 0x01]);
        p.extend_from_slice(&[0x02, 0, ip[0], ip[1], ip[2], ip[3]]);
        p.extend_from_slice(&ip);
        p.extend_from_slice(&[1, 0, 0, 0, 1, 0]);
        let mut udp = Vec::with_capacity(8 + p.len());
        udp.extend_from_slice(&50000u16.to_be_bytes());
        udp.extend_from_slice(&50000u16.to_be_bytes());
        udp.extend_from_slice(&((8 + p.len()) as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&p);
        let frame = ethernet_ipv4(ip, [10, 255, 255, 255], 17, k as u16, 0, &udp);
        w.write_packet(i, T0 + i128::from(k) * 1000, &frame)?;
    }
    w.into_inner()
}

/// Peak resident memory of a process (VmHWM), in KiB.
pub fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// xorshift: reproducible garbage without a dependency.
pub struct Noise(pub u64);

impl Noise {
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}
