//! Small formatting helpers shared by decoders and printers.

/// Lowercase hex without separators.
pub fn hex(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len() * 2);
    crate::dissect::value::push_hex(&mut out, b);
    String::from_utf8(out).expect("hex is ASCII")
}

/// Lowercase hex with a space between bytes (`de ad be ef`).
pub fn hex_spaced(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Parse hex text, ignoring whitespace (test fixtures and `--hex` input).
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Append `v` with `decimals` digits after the point, exactly as `write!(out, "{v:.N}")` does
/// (summaries of every BeatInfo and status packet use it, so the usual case avoids the float
/// formatting machinery): away from a rounding tie, rounding the scaled value is exact; near one,
/// and for large or odd values, the standard formatting decides.
pub fn push_fixed(out: &mut String, v: f64, decimals: u32) {
    use std::fmt::Write as _;
    if decimals <= 6 && v.is_finite() {
        let scale = 10f64.powi(decimals as i32);
        let scaled = v.abs() * scale;
        // Below 1e9 the product is within 1.2e-7 of the exact value, far from the margin.
        if scaled < 1e9 {
            let floor = scaled.floor();
            let frac = scaled - floor;
            if (frac - 0.5).abs() > 1e-6 {
                let n = floor as u64 + u64::from(frac > 0.5);
                let unit = 10u64.pow(decimals);
                if v.is_sign_negative() {
                    out.push('-');
                }
                out.push_str(itoa::Buffer::new().format(n / unit));
                if decimals > 0 {
                    out.push('.');
                    let mut ib = itoa::Buffer::new();
                    let digits = ib.format(n % unit);
                    for _ in digits.len()..decimals as usize {
                        out.push('0');
                    }
                    out.push_str(digits);
                }
                return;
            }
        }
    }
    let _ = write!(out, "{v:.*}", decimals as usize);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut s = String::new();
        super::push_fixed(&mut s, v, d);
        s
    }

    #[test]
    fn fixed_matches_the_standard_formatting_on_edges() {
        for v in [
            0.0,
            -0.0,
            0.005,
            0.015,
            -0.001,
            121.975,
            0.125,
            2.5,
            -2.5,
            1e-9,
            999_999.995,
            1e9,
            1e20,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            f64::MIN_POSITIVE,
            128.0,
        ] {
            for d in 0..=7 {
                assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v:e} .{d}");
            }
        }
    }

    proptest! {
        #[test]
        fn fixed_matches_the_standard_formatting(bits in any::<u64>(), d in 0u32..8) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(fixed(v, d), format!("{v:.*}", d as usize));
        }

        #[test]
        fn fixed_matches_on_everyday_values(k in -100_000_000i64..100_000_000, d in 0u32..4, e in 0i32..6) {
            let v = k as f64 / 10f64.powi(e);
            prop_assert_eq!(fixed(v, d), format!("{v:.*}", d as usize));
        }
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(super::hex(&[0, 0xab]), "00ab");
        assert_eq!(super::hex_spaced(&[0, 0xab]), "00 ab");
        assert_eq!(super::parse_hex("00 a\nb"), Some(vec![0, 0xab]));
        assert_eq!(super::parse_hex("0"), None);
        assert_eq!(super::mac(&[1, 2, 3, 4, 5, 0xff]), "01:02:03:04:05:ff");
    }
}
