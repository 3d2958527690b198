//! Measurements of `djdissect replay FILE` (`scripts/bench replay` runs this; never a timed
//! test). Loopback only: every address is in 127.0.92.0/24.
//!
//! `replay_timing timing FILE [SPEED [SECONDS]]`: replays FILE (its first SECONDS) in-process at SPEED (default 1) while
//! sockets on 0.0.0.0:50000-50002 and :51337 receive with kernel timestamps (SO_TIMESTAMPNS).
//! Each received datagram is paired with the datagram the capture holds at that place in the
//! send order (same port and length; the replay rewrites addresses without changing lengths),
//! and its send-time error is `(rx - rx0) - (t - t0) / SPEED`: how far the datagram's spacing
//! from the first one is off the recorded spacing. Prints p50, p99 and max |error| in us.
//!
//! `replay_timing topspeed FILE [SECONDS]`: datagrams/s of the replay at --topspeed (looped
//! over FILE for about SECONDS), and of a plain `sendmmsg` loop over the same payloads to the
//! same ports (the limit). One JSON line.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use djdissect::replay::datagrams::Datagrams;
use djdissect::replay::{self, Options};
use socket2::{Domain, Protocol, Socket, Type};

const FIRST: Ipv4Addr = Ipv4Addr::new(127, 0, 92, 2);
const STAND_IN: Ipv4Addr = Ipv4Addr::new(127, 0, 92, 1);
const PORTS: [u16; 4] = [50000, 50001, 50002, 51337];

fn receiver(port: u16) -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_recv_buffer_size(8 << 20).unwrap();
    s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())
        .unwrap();
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value of the size given.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &on as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    s.into()
}

/// One datagram and its kernel receive time (ns, CLOCK_REALTIME); datagrams from outside
/// 127.0.92.0/24 (other programs on this loopback) are read and given as length 0.
fn recv_ts(s: &UdpSocket, buf: &mut [u8]) -> Option<(usize, i128)> {
    // SAFETY: sockaddr_in is plain data.
    let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let mut cmsg = [0u8; 128];
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut from as *mut _ as *mut libc::c_void;
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = cmsg.len() as _;
    // SAFETY: a valid socket and msghdr.
    let n = unsafe { libc::recvmsg(s.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return None;
    }
    if u32::from_be(from.sin_addr.s_addr) >> 8 != u32::from(FIRST) >> 8 {
        return Some((0, 0));
    }
    // SAFETY: walking the control messages the kernel wrote into `cmsg`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SO_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                return Some((
                    n as usize,
                    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128,
                ));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Some((n as usize, 0))
}

fn pct(sorted: &[i128], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1e3
}

fn timing(file: &Path, speed: f64, window_s: Option<f64>) {
    let window_ns = window_s.map(|w| (w * 1e9) as i128);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for port in PORTS {
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            let s = receiver(port);
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some((n, ts)) = recv_ts(&s, &mut buf) {
                    if n > 0 {
                        got.push((ts, port, n));
                    }
                }
            }
            while let Some((n, ts)) = recv_ts(&s, &mut buf) {
                if n > 0 {
                    got.push((ts, port, n));
                }
            }
            got
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut opts = Options::new(file);
    opts.first_address = FIRST;
    opts.to_host = Some(STAND_IN);
    opts.speed = speed;
    opts.answer = false;
    opts.selection.to = window_ns.map(replay::selection::Bound::Time);
    let (_, report) = replay::replay(&opts).expect("replay");
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let mut got: Vec<(i128, u16, usize)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    got.sort();
    // The send order: every datagram of the capture, as the replay reads it.
    let mut expected = VecDeque::new();
    let mut src = Datagrams::open(file).unwrap();
    while let Some(d) = src.next_datagram() {
        if window_ns.is_some_and(|w| d.ts_ns - d.start_ns > w) {
            break;
        }
        expected.push_back((d.ts_ns, d.dst_port, d.payload.len()));
    }
    let mut errors = Vec::new();
    let mut first: Option<(i128, i128)> = None;
    let mut unmatched = 0;
    for (rx, port, len) in got {
        let Some(pos) = expected
            .iter()
            .take(64)
            .position(|&(_, p, l)| p == port && l == len)
        else {
            unmatched += 1;
            continue;
        };
        let (t, _, _) = expected[pos];
        expected.drain(..=pos);
        let (rx0, t0) = *first.get_or_insert((rx, t));
        errors.push(((rx - rx0) - ((t - t0) as f64 / speed) as i128).abs());
    }
    errors.sort();
    println!(
        "{{\"file\":{:?},\"speed\":{speed},\"sent\":{},\"received\":{},\"unmatched\":{unmatched},\"p50_us\":{:.1},\"p99_us\":{:.1},\"max_us\":{:.1},\"sender_late_max_us\":{:.1}}}",
        file.display().to_string(),
        report.sent,
        errors.len(),
        pct(&errors, 0.5),
        pct(&errors, 0.99),
        pct(&errors, 1.0),
        report.late_max_ns as f64 / 1e3
    );
}

fn topspeed(file: &Path, seconds: f64) {
    // The replay: loops of the file until about `seconds`.
    let mut opts = Options::new(file);
    opts.first_address = FIRST;
    opts.to_host = Some(STAND_IN);
    opts.topspeed = true;
    opts.answer = false;
    let t = Instant::now();
    let (_, one) = replay::replay(&opts).expect("replay");
    let per_loop = t.elapsed().as_secs_f64().max(1e-6);
    opts.loops = ((seconds / per_loop).ceil() as u64).max(1);
    let t = Instant::now();
    let (_, r) = replay::replay(&opts).expect("replay");
    let replay_secs = t.elapsed().as_secs_f64();
    let replay_rate = r.sent as f64 / replay_secs;

    // The limit: sendmmsg of the same payloads, 64 at a time, to the same ports.
    let mut payloads = Vec::new();
    let mut src = Datagrams::open(file).unwrap();
    while let Some(d) = src.next_datagram() {
        payloads.push((d.payload.to_vec(), d.dst_port));
    }
    let sock = UdpSocket::bind((FIRST, 0)).unwrap();
    sock.set_broadcast(true).unwrap();
    let addrs: Vec<libc::sockaddr_in> = payloads
        .iter()
        .map(|(_, port)| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(STAND_IN).to_be(),
            },
            sin_zero: [0; 8],
        })
        .collect();
    let total = r.sent;
    let mut sent = 0u64;
    let t = Instant::now();
    let mut i = 0usize;
    while sent < total {
        let batch = 64.min(payloads.len());
        let mut iovs: Vec<libc::iovec> = Vec::with_capacity(batch);
        let mut hdrs: Vec<libc::mmsghdr> = Vec::with_capacity(batch);
        for k in 0..batch {
            let j = (i + k) % payloads.len();
            iovs.push(libc::iovec {
                iov_base: payloads[j].0.as_ptr() as *mut libc::c_void,
                iov_len: payloads[j].0.len(),
            });
        }
        for (k, iov) in iovs.iter_mut().enumerate() {
            let j = (i + k) % payloads.len();
            // SAFETY: plain data, filled below.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = &addrs[j] as *const _ as *mut libc::c_void;
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            hdrs.push(h);
        }
        // SAFETY: `hdrs` points at live iovecs and addresses for the duration of the call.
        let n = unsafe { libc::sendmmsg(sock.as_raw_fd(), hdrs.as_mut_ptr(), batch as u32, 0) };
        if n <= 0 {
            break;
        }
        sent += n as u64;
        i = (i + n as usize) % payloads.len();
    }
    let limit_rate = sent as f64 / t.elapsed().as_secs_f64();
    println!(
        "{{\"file\":{:?},\"datagrams_per_loop\":{},\"replay_sent\":{},\"replay_per_s\":{replay_rate:.0},\"sendmmsg_per_s\":{limit_rate:.0},\"share\":{:.3}}}",
        file.display().to_string(),
        one.sent,
        r.sent,
        replay_rate / limit_rate
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: replay_timing timing FILE [SPEED] | topspeed FILE [SECONDS]";
    let (Some(mode), Some(file)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let file = PathBuf::from(file);
    let n: Option<f64> = args.get(2).and_then(|a| a.parse().ok());
    match mode.as_str() {
        "timing" => timing(
            &file,
            n.unwrap_or(1.0),
            args.get(3).and_then(|a| a.parse().ok()),
        ),
        "topspeed" => topspeed(&file, n.unwrap_or(5.0)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
