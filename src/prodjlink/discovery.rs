//! Port 50000 discovery and device-number claims (`prodjlink.md` section 2, 9.1): hello 0x0a,
//! claim stages 0x00/0x02/0x04 and 0x05 "the number I hold". The mixer's 0x01/0x03 assignment
//! and the 0x08 defence are in `number_assign.rs`, the keep-alive 0x06 in `keep_alive.rs`.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::header::{
    get_arr, get_ip, get_u8, need, put_tail, set_bytes, set_ip, set_u8, tail, AnnounceHeader,
};
use super::walker::{dissect_announce, Walker};
use super::Error;

mod field {
    /// Hello 0x0a (section 2): device class; the CDJ-3000 form adds one byte (`40`) after it.
    pub mod hello {
        use std::ops::Range;
        pub const DEVICE_CLASS: Range<usize> = 0x24..0x25;
        pub const LEN: usize = 0x25;
    }
    /// Claim stage 1 0x00 (section 2).
    pub mod claim_mac {
        use std::ops::Range;
        pub const COUNTER: Range<usize> = 0x24..0x25;
        pub const DEVICE_CLASS: Range<usize> = 0x25..0x26;
        pub const MAC: Range<usize> = 0x26..0x2c;
        pub const LEN: usize = 0x2c;
    }
    /// Claim stage 2 0x02 (section 2).
    pub mod claim_ip {
        use std::ops::Range;
        pub const IP: Range<usize> = 0x24..0x28;
        pub const MAC: Range<usize> = 0x28..0x2e;
        pub const DEVICE: Range<usize> = 0x2e..0x2f;
        pub const COUNTER: Range<usize> = 0x2f..0x30;
        pub const ROLE: Range<usize> = 0x30..0x31;
        pub const ASSIGNMENT: Range<usize> = 0x31..0x32;
        pub const LEN: usize = 0x32;
    }
    /// Claim stage 3 0x04 and "assignment finished" 0x05 share this layout (section 2; UE F58).
    pub mod number {
        use std::ops::Range;
        pub const DEVICE: Range<usize> = 0x24..0x25;
        pub const COUNTER: Range<usize> = 0x25..0x26;
        pub const LEN: usize = 0x26;
    }
}

/// Names of the device-class / role codes of hello (0x24), claim 1 (0x25) and claim 2 (0x30).
pub fn device_class_name(v: u8) -> Option<&'static str> {
    Some(match v {
        1 => "cdj",
        2 => "mixer",
        4 => "rekordbox",
        5 => "stagehand",
        7 => "xdj_rx",
        _ => return None,
    })
}

/// Hello 0x0a: "I am here", sent 3x at power-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub header: AnnounceHeader,
    /// `01` CDJ, `02` mixer, `05` Stagehand, `07` XDJ-RX.
    pub device_class: u8,
    /// Bytes after 0x24 (the CDJ-3000 form has one: `40`, meaning unknown).
    pub extra: Vec<u8>,
}

impl Hello {
    pub const KIND: u8 = 0x0a;

    /// The nexus-era 0x25-byte hello.
    pub fn new(name: &str, device_class: u8) -> Self {
        Hello {
            header: AnnounceHeader::new(name, field::hello::LEN),
            device_class,
            extra: Vec::new(),
        }
    }

    /// The CDJ-3000 form: structure `04`, class `01`, one more byte `40` (9.3).
    pub fn cdj3000(name: &str) -> Self {
        let mut h = Hello::new(name, 1);
        h.header.structure = 4;
        h.header.length = 0x26;
        h.extra = vec![0x40];
        h
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("hello", b, field::hello::LEN)?;
        Ok(Hello {
            header: AnnounceHeader::parse(b),
            device_class: get_u8(b, field::hello::DEVICE_CLASS),
            extra: tail(b, field::hello::LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::hello::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        self.header.emit(Self::KIND, buf);
        set_u8(buf, field::hello::DEVICE_CLASS, self.device_class);
        put_tail(buf, field::hello::LEN, &self.extra);
    }
}

pub(crate) fn dissect_hello(w: &mut Walker<'_>) {
    dissect_announce(w);
    let class = w.named(
        "device_class",
        field::hello::DEVICE_CLASS,
        device_class_name,
    );
    w.expect_len(field::hello::LEN);
    w.finish();
    let mut s = String::from("hello");
    if let Some(c) = class {
        let _ = write!(s, " from a {}", device_class_name(c).unwrap_or("device"));
    }
    w.out().summary = s;
}

/// Claim stage 1 0x00: publishes the MAC, N = 1..3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMac {
    pub header: AnnounceHeader,
    /// N: which of the three repetitions this is.
    pub counter: u8,
    /// `01` CDJ, `02` mixer, `04` rekordbox.
    pub device_class: u8,
    pub mac: [u8; 6],
    pub extra: Vec<u8>,
}

impl ClaimMac {
    pub const KIND: u8 = 0x00;

    pub fn new(name: &str, counter: u8, device_class: u8, mac: [u8; 6]) -> Self {
        ClaimMac {
            header: AnnounceHeader::new(name, field::claim_mac::LEN),
            counter,
            device_class,
            mac,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::claim_mac::*;
        need("claim_mac", b, LEN)?;
        Ok(ClaimMac {
            header: AnnounceHeader::parse(b),
            counter: get_u8(b, COUNTER),
            device_class: get_u8(b, DEVICE_CLASS),
            mac: get_arr(b, MAC),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::claim_mac::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::claim_mac::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, COUNTER, self.counter);
        set_u8(buf, DEVICE_CLASS, self.device_class);
        set_bytes(buf, MAC, &self.mac);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_claim_mac(w: &mut Walker<'_>) {
    use field::claim_mac::*;
    dissect_announce(w);
    let n = w.uint("counter", COUNTER);
    w.named("device_class", DEVICE_CLASS, device_class_name);
    let mac = w.mac("mac", MAC);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("claim 1");
    if let Some(n) = n {
        let _ = write!(s, " #{n}");
    }
    if let Some(m) = mac {
        let _ = write!(s, " mac {m}");
    }
    w.out().summary = s;
}

/// Claim stage 2 0x02: IP, MAC and the wanted device number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimIp {
    pub header: AnnounceHeader,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    /// D being claimed (`00` in the reply to a mixer, `3a` from Stagehand).
    pub device: u8,
    pub counter: u8,
    /// `01` CDJ, `02` DJM, `04` rekordbox.
    pub role: u8,
    /// `01` auto-assign, `02` a specific (configured) number.
    pub assignment: u8,
    pub extra: Vec<u8>,
}

impl ClaimIp {
    pub const KIND: u8 = 0x02;

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        ip: Ipv4Addr,
        mac: [u8; 6],
        device: u8,
        counter: u8,
        role: u8,
        auto: bool,
    ) -> Self {
        ClaimIp {
            header: AnnounceHeader::new(name, field::claim_ip::LEN),
            ip,
            mac,
            device,
            counter,
            role,
            assignment: if auto { 1 } else { 2 },
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::claim_ip::*;
        need("claim_ip", b, LEN)?;
        Ok(ClaimIp {
            header: AnnounceHeader::parse(b),
            ip: get_ip(b, IP),
            mac: get_arr(b, MAC),
            device: get_u8(b, DEVICE),
            counter: get_u8(b, COUNTER),
            role: get_u8(b, ROLE),
            assignment: get_u8(b, ASSIGNMENT),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::claim_ip::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::claim_ip::*;
        self.header.emit(Self::KIND, buf);
        set_ip(buf, IP, self.ip);
        set_bytes(buf, MAC, &self.mac);
        set_u8(buf, DEVICE, self.device);
        set_u8(buf, COUNTER, self.counter);
        set_u8(buf, ROLE, self.role);
        set_u8(buf, ASSIGNMENT, self.assignment);
        put_tail(buf, LEN, &self.extra);
    }
}

fn assignment_name(v: u8) -> Option<&'static str> {
    Some(match v {
        1 => "auto",
        2 => "specific",
        _ => return None,
    })
}

pub(crate) fn dissect_claim_ip(w: &mut Walker<'_>) {
    use field::claim_ip::*;
    dissect_announce(w);
    let ip = w.ip("ip", IP);
    w.mac("mac", MAC);
    let d = w.uint_with("claimed_device", DEVICE, |v| {
        Some(match v {
            0 => "00: asks the mixer to assign a number".to_string(),
            0x3a => "3a: Stagehand's symbolic claim".to_string(),
            _ => format!("wants device number {v}"),
        })
    });
    if let Some(d) = d {
        w.out().device = Some(d as u32);
    }
    let n = w.uint("counter", COUNTER);
    w.named("role", ROLE, device_class_name);
    let a = w.named("assignment", ASSIGNMENT, assignment_name);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("claim 2");
    if let Some(n) = n {
        let _ = write!(s, " #{n}");
    }
    if let Some(d) = d {
        let _ = write!(s, ": wants D{d}");
    }
    if let Some(a) = a.and_then(assignment_name) {
        let _ = write!(s, " ({a})");
    }
    if let Some(ip) = ip {
        let _ = write!(s, " at {ip}");
    }
    w.out().summary = s;
}

/// Claim stage 3 (0x04) or "the number I hold is D" (0x05): both carry D and N. `KIND` is
/// the kind byte; use the aliases [`ClaimFinal`] and [`AssignmentFinished`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberClaim<const KIND: u8> {
    pub header: AnnounceHeader,
    pub device: u8,
    pub counter: u8,
    pub extra: Vec<u8>,
}

/// Claim stage 3, kind 0x04.
pub type ClaimFinal = NumberClaim<0x04>;
/// Assignment finished / "the number I hold is D", kind 0x05.
pub type AssignmentFinished = NumberClaim<0x05>;

impl<const KIND: u8> NumberClaim<KIND> {
    pub const KIND: u8 = KIND;

    pub fn new(name: &str, device: u8, counter: u8) -> Self {
        NumberClaim {
            header: AnnounceHeader::new(name, field::number::LEN),
            device,
            counter,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::number::*;
        let kind = if KIND == 0x05 {
            "assignment_finished"
        } else {
            "claim_final"
        };
        need(kind, b, LEN)?;
        Ok(NumberClaim {
            header: AnnounceHeader::parse(b),
            device: get_u8(b, DEVICE),
            counter: get_u8(b, COUNTER),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::number::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::number::*;
        self.header.emit(KIND, buf);
        set_u8(buf, DEVICE, self.device);
        set_u8(buf, COUNTER, self.counter);
        put_tail(buf, LEN, &self.extra);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.buffer_len()];
        self.emit(&mut buf);
        buf
    }
}

/// Claim stage 3 (0x04) and number held (0x05); `finished` tells them apart for the summary.
pub(crate) fn dissect_number(w: &mut Walker<'_>, finished: bool) {
    use field::number::*;
    dissect_announce(w);
    let d = w.uint("device_number", DEVICE);
    if let Some(d) = d {
        w.out().device = Some(d as u32);
    }
    let n = w.uint("counter", COUNTER);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from(if finished { "holds" } else { "claim 3" });
    if !finished {
        if let Some(n) = n {
            let _ = write!(s, " #{n}: takes");
        }
    }
    if let Some(d) = d {
        let _ = write!(s, " D{d}");
    }
    w.out().summary = s;
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
