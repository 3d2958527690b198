//! Port 50000 device numbers assigned by a mixer and defended by their holders (`prodjlink.md`
//! section 2, 9.2): the mixer's "I will assign your number" 0x01 and assignment 0x03 on its
//! channel ports, and the 0x08 "number in use" a holder sends to a claimant.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::header::{
    get_arr, get_ip, get_u8, need, put_tail, set_bytes, set_ip, set_u8, tail, AnnounceHeader,
};
use super::walker::{dissect_announce, Walker};
use super::Error;

mod field {
    /// Mixer "I will assign your number" 0x01 (section 2, 9.2).
    pub mod assign_intent {
        use std::ops::Range;
        pub const MIXER_IP: Range<usize> = 0x24..0x28;
        pub const MIXER_MAC: Range<usize> = 0x28..0x2e;
        /// Always `01`; meaning not described.
        pub const UNKNOWN_2E: Range<usize> = 0x2e..0x2f;
        pub const LEN: usize = 0x2f;
    }
    /// Mixer assigns number 0x03 (section 2).
    pub mod assign {
        use std::ops::Range;
        pub const DEVICE: Range<usize> = 0x24..0x25;
        pub const COUNTER: Range<usize> = 0x25..0x26;
        /// Always `00`; meaning not described.
        pub const UNKNOWN_26: Range<usize> = 0x26..0x27;
        pub const LEN: usize = 0x27;
    }
    /// Channel conflict 0x08 (section 2).
    pub mod conflict {
        use std::ops::Range;
        pub const DEVICE: Range<usize> = 0x24..0x25;
        pub const DEFENDER_IP: Range<usize> = 0x25..0x29;
        pub const LEN: usize = 0x29;
    }
}

/// 0x01: a mixer tells a player on one of its channel ports that it will assign its number
/// (unicast, 9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerAssignIntent {
    pub header: AnnounceHeader,
    pub mixer_ip: Ipv4Addr,
    pub mixer_mac: [u8; 6],
    /// Byte 0x2e, `01` in every sample.
    pub unknown_2e: u8,
    pub extra: Vec<u8>,
}

impl MixerAssignIntent {
    pub const KIND: u8 = 0x01;

    pub fn new(name: &str, mixer_ip: Ipv4Addr, mixer_mac: [u8; 6]) -> Self {
        MixerAssignIntent {
            header: AnnounceHeader::new(name, field::assign_intent::LEN),
            mixer_ip,
            mixer_mac,
            unknown_2e: 1,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::assign_intent::*;
        need("mixer_assign_intent", b, LEN)?;
        Ok(MixerAssignIntent {
            header: AnnounceHeader::parse(b),
            mixer_ip: get_ip(b, MIXER_IP),
            mixer_mac: get_arr(b, MIXER_MAC),
            unknown_2e: get_u8(b, UNKNOWN_2E),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::assign_intent::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::assign_intent::*;
        self.header.emit(Self::KIND, buf);
        set_ip(buf, MIXER_IP, self.mixer_ip);
        set_bytes(buf, MIXER_MAC, &self.mixer_mac);
        set_u8(buf, UNKNOWN_2E, self.unknown_2e);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_mixer_assign_intent(w: &mut Walker<'_>) {
    use field::assign_intent::*;
    dissect_announce(w);
    let ip = w.ip("mixer_ip", MIXER_IP);
    w.mac("mixer_mac", MIXER_MAC);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("mixer");
    if let Some(ip) = ip {
        let _ = write!(s, " {ip}");
    }
    s.push_str(" will assign the number");
    w.out().summary = s;
}

/// 0x03: the mixer assigns a number to the player on one of its channel ports (9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerAssign {
    pub header: AnnounceHeader,
    pub device: u8,
    pub counter: u8,
    /// Byte 0x26, `00` in every sample.
    pub unknown_26: u8,
    pub extra: Vec<u8>,
}

impl MixerAssign {
    pub const KIND: u8 = 0x03;

    pub fn new(name: &str, device: u8, counter: u8) -> Self {
        let mut header = AnnounceHeader::new(name, field::assign::LEN);
        header.sub_kind = 1;
        MixerAssign {
            header,
            device,
            counter,
            unknown_26: 0,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::assign::*;
        need("mixer_assign", b, LEN)?;
        Ok(MixerAssign {
            header: AnnounceHeader::parse(b),
            device: get_u8(b, DEVICE),
            counter: get_u8(b, COUNTER),
            unknown_26: get_u8(b, UNKNOWN_26),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::assign::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::assign::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE, self.device);
        set_u8(buf, COUNTER, self.counter);
        set_u8(buf, UNKNOWN_26, self.unknown_26);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_mixer_assign(w: &mut Walker<'_>) {
    use field::assign::*;
    dissect_announce(w);
    let d = w.uint("assigned_device", DEVICE);
    if let Some(d) = d {
        w.out().device = Some(d as u32);
    }
    w.uint("counter", COUNTER);
    w.expect_len(LEN);
    w.finish();
    w.out().summary = match d {
        Some(d) => format!("mixer assigns D{d}"),
        None => "mixer assigns a number".into(),
    };
}

/// 0x08: "D is mine" from the holder of a number to a device claiming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConflict {
    pub header: AnnounceHeader,
    /// The contested device number.
    pub device: u8,
    pub defender_ip: Ipv4Addr,
    pub extra: Vec<u8>,
}

impl ChannelConflict {
    pub const KIND: u8 = 0x08;

    pub fn new(name: &str, device: u8, defender_ip: Ipv4Addr) -> Self {
        ChannelConflict {
            header: AnnounceHeader::new(name, field::conflict::LEN),
            device,
            defender_ip,
            extra: Vec::new(),
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::conflict::*;
        need("channel_conflict", b, LEN)?;
        Ok(ChannelConflict {
            header: AnnounceHeader::parse(b),
            device: get_u8(b, DEVICE),
            defender_ip: get_ip(b, DEFENDER_IP),
            extra: tail(b, LEN),
        })
    }

    pub fn buffer_len(&self) -> usize {
        field::conflict::LEN + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::conflict::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE, self.device);
        set_ip(buf, DEFENDER_IP, self.defender_ip);
        put_tail(buf, LEN, &self.extra);
    }
}

pub(crate) fn dissect_channel_conflict(w: &mut Walker<'_>) {
    use field::conflict::*;
    dissect_announce(w);
    let d = w.uint("contested_device", DEVICE);
    if let Some(d) = d {
        w.out().device = Some(d as u32);
    }
    let ip = w.ip("defender_ip", DEFENDER_IP);
    w.expect_len(LEN);
    w.finish();
    let mut s = String::from("number");
    if let Some(d) = d {
        let _ = write!(s, " D{d}");
    }
    s.push_str(" is in use");
    if let Some(ip) = ip {
        let _ = write!(s, " by {ip}");
    }
    w.out().summary = s;
}

#[cfg(test)]
#[path = "number_assign_tests.rs"]
mod tests;
