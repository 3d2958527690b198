//! RFC 3339 timestamps from integer nanoseconds (no float rounding, no date crate).

/// `2017-07-14T01:00:58.466175000Z`: UTC with all nine fractional digits.
pub fn rfc3339(ts_ns: i128) -> String {
    let mut s = String::with_capacity(30);
    write_rfc3339(&mut s, ts_ns);
    s
}

pub fn write_rfc3339(out: &mut String, ts_ns: i128) {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days as i64);
    use std::fmt::Write;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
}

/// Append the RFC 3339 text to a byte buffer without allocating (the NDJSON hot path).
pub fn push_rfc3339(out: &mut Vec<u8>, ts_ns: i128) {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000) as u32;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400) as i64);
    let sod = secs.rem_euclid(86_400) as u32;
    let two = |out: &mut Vec<u8>, v: u32, sep: u8| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
        out.push(sep);
    };
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
        ]);
    } else {
        let mut s = String::new();
        write_rfc3339(&mut s, ts_ns);
        out.extend_from_slice(s.as_bytes());
        return;
    }
    two(out, m, b'-');
    two(out, d, b'T');
    two(out, sod / 3600, b':');
    two(out, sod / 60 % 60, b':');
    two(out, sod % 60, b'.');
    let mut digits = [b'0'; 9];
    let mut n = nanos;
    for i in (0..9).rev() {
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            super::rfc3339(1_499_994_058_466_175_000),
            "2017-07-14T01:00:58.466175000Z"
        );
        assert_eq!(
            super::rfc3339(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(super::rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        for ts in [
            0,
            1_499_994_058_466_175_000,
            951_782_400_000_000_001,
            -1,
            4_102_444_799_999_999_999,
        ] {
            let mut v = Vec::new();
            super::push_rfc3339(&mut v, ts);
            assert_eq!(String::from_utf8(v).unwrap(), super::rfc3339(ts));
        }
    }
}
