//! Numbers and addresses written straight into an output buffer. Every record line has two
//! socket addresses and a time; `Display` through `fmt::write` costs more than the rest of a
//! text line, so the common cases (IPv4, non-negative times, two-decimal values) are written by
//! hand here, with the formatting machinery kept for the rest. Each function's output is
//! identical to the `format!` it replaces; the tests compare them.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

/// `a.b.c.d:port` (or `[v6]:port`), as `SocketAddr`'s `Display` writes it.
pub fn push_socket_addr(out: &mut Vec<u8>, a: &SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => {
            // Built on the stack and appended once: two addresses a line made this the text
            // line's largest cost, a capacity check per byte (issue 11, callgrind).
            let mut tmp = [0u8; 21];
            let mut n = 0;
            for (i, o) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    tmp[n] = b'.';
                    n += 1;
                }
                // Three bytes copied whatever the length (the array has room): no branch.
                let d = &OCTETS[o as usize];
                tmp[n..n + 3].copy_from_slice(&d[..3]);
                n += d[3] as usize;
            }
            tmp[n] = b':';
            n += 1;
            let mut ib = itoa::Buffer::new();
            let port = ib.format(a.port()).as_bytes();
            tmp[n..n + port.len()].copy_from_slice(port);
            n += port.len();
            out.extend_from_slice(&tmp[..n]);
        }
        IpAddr::V6(_) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// Each octet's decimal digits, then their count.
static OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if v >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        v += 1;
    }
    t
};

/// Seconds from nanoseconds as `format!("{:>11.6}", ns as f64 / 1e9)` writes them: right-aligned
/// in 11 columns with six decimals.
pub fn push_seconds_11_6(out: &mut Vec<u8>, ns: i128) {
    // Integer rounding to microseconds equals the float formatting except on an exact
    // half-microsecond tie (where the float's binary approximation decides) and for values a
    // double cannot hold to the nanosecond; those go through the float formatting.
    if !(0..1_000_000_000_000_000).contains(&ns) || ns as u64 % 1000 == 500 {
        let _ = write!(out, "{:>11.6}", ns as f64 / 1e9);
        return;
    }
    // In range, so u64 arithmetic (i128 division is a library call).
    let micros = (ns as u64 + 500) / 1000;
    let mut ib = itoa::Buffer::new();
    let whole = ib.format(micros / 1_000_000);
    let width = whole.len() + 7;
    out.extend(std::iter::repeat_n(b' ', 11usize.saturating_sub(width)));
    out.extend_from_slice(whole.as_bytes());
    out.push(b'.');
    push_padded(out, micros % 1_000_000, 6);
}

/// `v` in decimal, zero-padded to `width` digits.
pub fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut ib = itoa::Buffer::new();
    let digits = ib.format(v);
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(digits.len()),
    ));
    out.extend_from_slice(digits.as_bytes());
}

/// A float as JSON, exactly as `ryu` (shortest round-trip) writes it, taking a fast path for
/// values with at most two decimals (BPMs, pitches, percentages: almost every float the
/// decoders produce, since they round to two places).
pub fn push_json_f64(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let scaled = v * 100.0;
    // For |v| < 1e13 the decimal k/100 has at most 15 significant digits, so if the double
    // nearest to k/100 is `v`, k/100 with trailing zeros removed is its shortest round-trip
    // form, which is what ryu prints (plain notation in this range, at least one decimal).
    if v != 0.0 && v.abs() >= 0.01 && v.abs() < 1e13 && scaled == scaled.round() {
        let k = scaled.round();
        if k / 100.0 == v {
            let k = k as i64;
            if k < 0 {
                out.push(b'-');
            }
            let k = k.unsigned_abs();
            let mut ib = itoa::Buffer::new();
            out.extend_from_slice(ib.format(k / 100).as_bytes());
            out.push(b'.');
            let cents = k % 100;
            if cents % 10 == 0 {
                out.push(b'0' + (cents / 10) as u8);
            } else {
                push_padded(out, cents, 2);
            }
            return;
        }
    }
    out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ryu_text(v: f64) -> String {
        if v.is_finite() {
            ryu::Buffer::new().format_finite(v).to_string()
        } else {
            "null".into()
        }
    }

    fn json_f64(v: f64) -> String {
        let mut out = Vec::new();
        push_json_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_match_ryu_on_edges() {
        for v in [
            0.0,
            -0.0,
            0.01,
            -0.01,
            0.1,
            0.5,
            1.0,
            120.0,
            128.5,
            127.99,
            -3.25,
            99.99,
            100.0,
            0.005,
            1e-7,
            1e12,
            9.99e12,
            1e13,
            1e16,
            1e300,
            5e-324,
            0.07,
            0.29,
            1.15,
            8.2,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ] {
            assert_eq!(json_f64(v), ryu_text(v), "{v:e}");
        }
    }

    #[test]
    fn addresses_match_display() {
        for a in [
            "169.254.1.2:50000",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[fe80::1]:51337",
            "[::ffff:1.2.3.4]:1",
        ] {
            let a: SocketAddr = a.parse().unwrap();
            let mut out = Vec::new();
            push_socket_addr(&mut out, &a);
            assert_eq!(String::from_utf8(out).unwrap(), a.to_string());
        }
    }

    fn seconds(ns: i128) -> String {
        let mut out = Vec::new();
        push_seconds_11_6(&mut out, ns);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn seconds_match_the_float_formatting_on_edges() {
        for ns in [
            0,
            1,
            499,
            500,
            501,
            999_999_499,
            999_999_500,
            999_999_501,
            4_737_000_000,
            -1,
            -1_500_000,
            123_456_789_012_345,
            99_999_999_999_999_999,
            1_000_000_000_000_000_000,
        ] {
            assert_eq!(seconds(ns), format!("{:>11.6}", ns as f64 / 1e9), "{ns}");
        }
    }

    proptest! {
        #[test]
        fn two_decimal_floats_match_ryu(k in -10_000_000_000i64..10_000_000_000, d in 0u32..4) {
            let v = k as f64 / 10f64.powi(d as i32);
            prop_assert_eq!(json_f64(v), ryu_text(v));
            let r = (v * 100.0).round() / 100.0;
            prop_assert_eq!(json_f64(r), ryu_text(r));
        }

        #[test]
        fn any_float_matches_ryu(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(json_f64(v), ryu_text(v));
        }

        #[test]
        fn any_v4_address_matches_display(ip in any::<u32>(), port in any::<u16>()) {
            let a = SocketAddr::from((std::net::Ipv4Addr::from(ip), port));
            let mut out = vec![b'x'];
            push_socket_addr(&mut out, &a);
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("x{a}"));
        }

        #[test]
        fn seconds_match_the_float_formatting(ns in 0i128..1_000_000_000_000_000) {
            prop_assert_eq!(seconds(ns), format!("{:>11.6}", ns as f64 / 1e9));
        }
    }
}
