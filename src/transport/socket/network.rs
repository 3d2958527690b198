//! Which network an emulated rig lives on: the addresses its devices take, the broadcast
//! address its broadcasts go to, and the rule that keeps it from sending anywhere else.
//!
//! Loopback is the default (`architecture.md`, "Networks in tests"): Linux routes all of
//! 127.0.0.0/8 to `lo`, so every device gets its own 127.0.0.N without privileges, broadcasts to
//! 127.255.255.255 reach every listener on `lo`, and nothing can leak onto a real interface
//! (`clients.md` 2, the broadcast table). An interface is used only when the user names it, in a
//! namespace they name (`--netns`) or with an explicit permission to reach real gear.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

/// Where the rig's devices live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The interface the addresses belong to (`lo` for loopback).
    pub interface: String,
    /// The addresses devices take, in order (one per device).
    pub hosts: Vec<Ipv4Addr>,
    /// Where `Destination::Broadcast` goes.
    pub broadcast: Ipv4Addr,
    /// The subnet unicast datagrams may go to: (network address, prefix length).
    pub subnet: (Ipv4Addr, u8),
}

/// Why a network could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("loopback has no room for {count} devices from {first} (hosts run from 127.0.0.1 to 127.255.255.254)")]
    LoopbackFull { first: Ipv4Addr, count: usize },
    #[error("cannot list network interfaces: {0}")]
    List(io::Error),
    #[error("no interface named {0} with an IPv4 address (see `ip -4 addr`)")]
    NoSuchInterface(String),
    #[error(
        "interface {name} has {have} IPv4 address(es) ({list}) but {need} devices need one each; \
         add more, e.g. `ip addr add <ADDR>/{prefix} dev {name}`"
    )]
    TooFewAddresses {
        name: String,
        have: usize,
        need: usize,
        list: String,
        prefix: u8,
    },
    #[error("no interface with an IPv4 address other than loopback in this namespace; name one with --interface")]
    NoInterface,
    #[error("several interfaces could be meant ({0}); name one with --interface")]
    AmbiguousInterface(String),
    #[error("cannot enter network namespace {name}: {source}")]
    Netns { name: String, source: io::Error },
}

impl Network {
    /// `count` devices on loopback from `first` on (127.0.0.1 is left to the user's own tools
    /// by default: the CLI starts at 127.0.0.2).
    pub fn loopback(first: Ipv4Addr, count: usize) -> Result<Network, NetworkError> {
        let start = u32::from(first);
        let last = start as u64 + count as u64;
        if !first.is_loopback()
            || first.octets()[1..] == [0, 0, 0]
            || last > u32::from(Ipv4Addr::new(127, 255, 255, 255)) as u64
        {
            return Err(NetworkError::LoopbackFull { first, count });
        }
        Ok(Network {
            interface: "lo".to_string(),
            hosts: (0..count as u32)
                .map(|i| Ipv4Addr::from(start + i))
                .collect(),
            broadcast: Ipv4Addr::new(127, 255, 255, 255),
            subnet: (Ipv4Addr::new(127, 0, 0, 0), 8),
        })
    }

    /// `count` devices on the IPv4 addresses of interface `name`, in the order the kernel lists
    /// them; the interface must carry one address per device (a real device has its own IP,
    /// and each player's dbserver listens on 12523 of its own address).
    pub fn interface(name: &str, count: usize) -> Result<Network, NetworkError> {
        let mut hosts = Vec::new();
        let mut shape = None;
        for iface in if_addrs::get_if_addrs().map_err(NetworkError::List)? {
            if iface.name != name {
                continue;
            }
            if let if_addrs::IfAddr::V4(v4) = iface.addr {
                hosts.push(v4.ip);
                shape.get_or_insert((v4.ip, v4.prefixlen));
            }
        }
        let Some((ip, prefix)) = shape else {
            return Err(NetworkError::NoSuchInterface(name.to_string()));
        };
        if hosts.len() < count {
            return Err(NetworkError::TooFewAddresses {
                name: name.to_string(),
                have: hosts.len(),
                need: count,
                list: hosts
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                prefix,
            });
        }
        hosts.truncate(count);
        let mask = prefix_mask(prefix);
        let net = Ipv4Addr::from(u32::from(ip) & mask);
        Ok(Network {
            interface: name.to_string(),
            hosts,
            // The subnet's broadcast, which the kernel routes as one (`ip route show table
            // local`). Not the address getifaddrs reports: an address added without `brd`
            // reports its own IP there. A /31 or /32 has no broadcast of its own, so the
            // limited broadcast is the only way to reach the link.
            broadcast: if prefix <= 30 {
                Ipv4Addr::from(u32::from(ip) | !mask)
            } else {
                Ipv4Addr::BROADCAST
            },
            subnet: (net, prefix),
        })
    }

    /// The single non-loopback interface with an IPv4 address in this namespace (what a
    /// test-made namespace with one veth holds).
    pub fn only_interface() -> Result<String, NetworkError> {
        let mut names: Vec<String> = if_addrs::get_if_addrs()
            .map_err(NetworkError::List)?
            .into_iter()
            .filter(|i| !i.is_loopback() && matches!(i.addr, if_addrs::IfAddr::V4(_)))
            .map(|i| i.name)
            .collect();
        names.dedup();
        match names.len() {
            0 => Err(NetworkError::NoInterface),
            1 => Ok(names.remove(0)),
            _ => Err(NetworkError::AmbiguousInterface(names.join(", "))),
        }
    }

    pub fn is_loopback(&self) -> bool {
        self.subnet.0.is_loopback()
    }

    /// True when a datagram may go to `ip`: the rig's own subnet or its broadcast, never
    /// anywhere else (on loopback a stray real address would leave through the default route).
    pub fn may_send_to(&self, ip: Ipv4Addr) -> bool {
        ip == self.broadcast
            || u32::from(ip) & prefix_mask(self.subnet.1) == u32::from(self.subnet.0)
    }

    /// A locally administered MAC for the device at `ip` (02:dd + the IP's four bytes): unique
    /// per address, never a real vendor's. Keep-alives and claims carry it (`prodjlink.md` 2);
    /// nothing checks it against the Ethernet header, which loopback does not even have.
    pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
        let o = ip.octets();
        [0x02, 0xdd, o[0], o[1], o[2], o[3]]
    }
}

fn prefix_mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// Move this process into the network namespace `name` (`ip netns add NAME` makes
/// `/run/netns/NAME`). Needs CAP_SYS_ADMIN; the caller does it before opening any socket.
pub fn enter_netns(name: &str) -> Result<(), NetworkError> {
    let path = if name.contains('/') {
        Path::new(name).to_path_buf()
    } else {
        Path::new("/run/netns").join(name)
    };
    let fail = |source: io::Error| NetworkError::Netns {
        name: name.to_string(),
        source,
    };
    let file = std::fs::File::open(&path).map_err(fail)?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| fail(io::Error::from_raw_os_error(e as i32)))
}

/// True when this process shares the network namespace of PID 1: the machine's real network,
/// where a non-loopback interface reaches real gear. False inside `ip netns exec` or a
/// container's own namespace. When /proc cannot tell, the answer is the careful one (true).
pub fn in_initial_netns() -> bool {
    match (
        std::fs::read_link("/proc/self/ns/net"),
        std::fs::read_link("/proc/1/ns/net"),
    ) {
        (Ok(me), Ok(init)) => me == init,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_count_up_from_first() {
        let n = Network::loopback(Ipv4Addr::new(127, 0, 0, 2), 3).unwrap();
        assert_eq!(
            n.hosts,
            vec![
                Ipv4Addr::new(127, 0, 0, 2),
                Ipv4Addr::new(127, 0, 0, 3),
                Ipv4Addr::new(127, 0, 0, 4)
            ]
        );
        assert_eq!(n.broadcast, Ipv4Addr::new(127, 255, 255, 255));
        assert!(n.is_loopback());
    }

    #[test]
    fn loopback_refuses_to_run_past_the_range() {
        let two = Ipv4Addr::new(127, 0, 0, 2);
        assert!(Network::loopback(two, 1 << 24).is_err());
        assert!(Network::loopback(Ipv4Addr::new(10, 0, 0, 2), 1).is_err());
        assert!(Network::loopback(Ipv4Addr::new(127, 0, 0, 0), 1).is_err());
        assert_eq!(
            Network::loopback(two, 300).unwrap().hosts[299],
            Ipv4Addr::new(127, 0, 1, 45)
        );
    }

    #[test]
    fn loopback_never_sends_to_a_real_address() {
        let n = Network::loopback(Ipv4Addr::new(127, 0, 0, 2), 1).unwrap();
        assert!(n.may_send_to(Ipv4Addr::new(127, 0, 0, 9)));
        assert!(n.may_send_to(Ipv4Addr::new(127, 255, 255, 255)));
        assert!(!n.may_send_to(Ipv4Addr::new(169, 254, 1, 2)));
        assert!(!n.may_send_to(Ipv4Addr::new(255, 255, 255, 255)));
        assert!(!n.may_send_to(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn an_interface_subnet_bounds_the_destinations() {
        let n = Network {
            interface: "veth0".into(),
            hosts: vec![Ipv4Addr::new(169, 254, 10, 2)],
            broadcast: Ipv4Addr::new(169, 254, 255, 255),
            subnet: (Ipv4Addr::new(169, 254, 0, 0), 16),
        };
        assert!(n.may_send_to(Ipv4Addr::new(169, 254, 10, 1)));
        assert!(n.may_send_to(Ipv4Addr::new(169, 254, 255, 255)));
        assert!(!n.may_send_to(Ipv4Addr::new(169, 255, 0, 1)));
        assert!(!n.may_send_to(Ipv4Addr::new(127, 0, 0, 1)));
    }

    #[test]
    fn loopback_interface_is_found_and_too_few_addresses_said_clearly() {
        let n = Network::interface("lo", 1).unwrap();
        assert_eq!(n.hosts, vec![Ipv4Addr::LOCALHOST]);
        assert_eq!(n.broadcast, Ipv4Addr::new(127, 255, 255, 255));
        let e = Network::interface("lo", 3).unwrap_err().to_string();
        assert!(e.contains("3 devices need one each"), "{e}");
        assert!(Network::interface("no-such-if0", 1).is_err());
    }

    #[test]
    fn macs_are_locally_administered_and_follow_the_address() {
        let m = Network::mac_for(Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(m, [0x02, 0xdd, 127, 0, 0, 2]);
        assert_eq!(m[0] & 0x03, 0x02, "locally administered, unicast");
    }
}
