//! Link-layer header types (the tcpdump.org LINKTYPE_ numbers) that djdissect can slice.

/// A capture's link type. Unsupported types are kept by number so they can be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    Null,
    Ethernet,
    /// Raw IP (LINKTYPE_RAW 101, and the old DLT_RAW values 12/14).
    Raw,
    /// OpenBSD loopback: 4-byte address family, big-endian.
    Loop,
    LinuxSll,
    LinuxSll2,
    Ipv4,
    Ipv6,
    Other(u32),
}

impl LinkType {
    pub fn from_number(n: u32) -> LinkType {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            n => LinkType::Other(n),
        }
    }

    pub fn number(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Other(n) => n,
        }
    }
}
