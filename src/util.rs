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
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trip() {
        assert_eq!(super::hex(&[0, 0xab]), "00ab");
        assert_eq!(super::hex_spaced(&[0, 0xab]), "00 ab");
        assert_eq!(super::parse_hex("00 a\nb"), Some(vec![0, 0xab]));
        assert_eq!(super::parse_hex("0"), None);
        assert_eq!(super::mac(&[1, 2, 3, 4, 5, 0xff]), "01:02:03:04:05:ff");
    }
}
