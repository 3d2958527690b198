//! Which service listens on which (IP, port), learned from the traffic itself
//! (`stagelinq.md` 0 item 6): discovery names each unit's directory port (1.2), and the
//! directory connection announces every service port (1.3). Ports are ephemeral and change
//! when a unit reboots, so a newer announcement replaces an older one (2.2).

use std::collections::HashMap;
use std::net::IpAddr;

use super::directory::{DirectoryMessage, ServiceAnnouncement};
use super::discovery::Discovery;
use super::{Message, Token};

/// Most (IP, port) entries kept; announcements beyond are ignored.
pub const MAX_ENTRIES: usize = 1024;

/// What is known about one listening port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// `Directory` for discovery ports, else the announced name (`StateMap`...).
    pub service: String,
    /// The token of the unit that announced it.
    pub token: Token,
}

/// Announced (IP, port) -> service name.
#[derive(Debug, Clone, Default)]
pub struct ServiceDirectory {
    entries: HashMap<(IpAddr, u16), ServiceEntry>,
}

impl ServiceDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// The service announced for this server address.
    pub fn lookup(&self, ip: IpAddr, port: u16) -> Option<&str> {
        self.entries.get(&(ip, port)).map(|e| e.service.as_str())
    }

    pub fn entry(&self, ip: IpAddr, port: u16) -> Option<&ServiceEntry> {
        self.entries.get(&(ip, port))
    }

    /// Every known service of one IP, by port.
    pub fn services_of(&self, ip: IpAddr) -> Vec<(u16, &str)> {
        let mut v: Vec<(u16, &str)> = self
            .entries
            .iter()
            .filter(|((i, _), _)| *i == ip)
            .map(|((_, p), e)| (*p, e.service.as_str()))
            .collect();
        v.sort();
        v
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Learn from any message sent by `sender` (the source IP of its datagram or of its
    /// direction of the connection). Service hellos are ignored: their port is not a
    /// listening port (`stagelinq.md` 1.4).
    pub fn observe(&mut self, sender: IpAddr, msg: &Message) {
        match msg {
            Message::Discovery(d) => self.learn_discovery(sender, d),
            Message::Directory(DirectoryMessage::ServiceAnnouncement(a)) => {
                self.learn_announcement(sender, a)
            }
            _ => {}
        }
    }

    /// A HOWDY names the sender's directory port (0 = none); an EXIT withdraws it.
    pub fn learn_discovery(&mut self, sender: IpAddr, d: &Discovery) {
        if d.port == 0 {
            return;
        }
        if d.action.is_exit() {
            self.entries.retain(|_, e| e.token != d.token);
            return;
        }
        self.insert(sender, d.port, "Directory", d.token);
    }

    /// A directory announcement of one of the sender's services.
    pub fn learn_announcement(&mut self, sender: IpAddr, a: &ServiceAnnouncement) {
        self.insert(sender, a.port, &a.service, a.token);
    }

    fn insert(&mut self, ip: IpAddr, port: u16, service: &str, token: Token) {
        // A unit that re-announces a service on a new port (after a reboot) moves it.
        self.entries.retain(|(i, p), e| {
            !(*i == ip && e.service == service && e.token == token && *p != port)
        });
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&(ip, port)) {
            return;
        }
        self.entries.insert(
            (ip, port),
            ServiceEntry {
                service: service.to_string(),
                token,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_the_fixtures_services() {
        let sc: IpAddr = "169.254.69.199".parse().unwrap();
        let t = Token([0x8f; 16]);
        let mut dir = ServiceDirectory::new();
        let howdy = Discovery::howdy(t, "sc6000", "JP13", "2.3.1", 42923);
        dir.observe(sc, &Message::Discovery(howdy.clone()));
        // sc6000_boot.pcap section 3.4.
        for (name, port) in [
            ("StateMap", 38631),
            ("Broadcast", 46863),
            ("Syncing", 40285),
            ("TimeSynchronization", 42865),
            ("BeatInfo", 42919),
            ("FileTransfer", 33383),
        ] {
            let a = ServiceAnnouncement::new(t, name, port);
            dir.observe(
                sc,
                &Message::Directory(DirectoryMessage::ServiceAnnouncement(a)),
            );
        }
        // A hello's port is not a listening port.
        dir.observe(
            sc,
            &Message::Hello(ServiceAnnouncement::new(t, "StateMap", 50011)),
        );
        assert_eq!(dir.len(), 7);
        assert_eq!(dir.lookup(sc, 42923), Some("Directory"));
        assert_eq!(dir.lookup(sc, 42919), Some("BeatInfo"));
        assert_eq!(dir.lookup(sc, 50011), None);
        assert_eq!(dir.services_of(sc)[0], (33383, "FileTransfer"));
        // After a reboot the player announces StateMap on a new port.
        dir.learn_announcement(sc, &ServiceAnnouncement::new(t, "StateMap", 40000));
        assert_eq!(
            (dir.lookup(sc, 38631), dir.lookup(sc, 40000)),
            (None, Some("StateMap"))
        );
        let mut exit = howdy;
        exit.action = super::super::discovery::Action::Exit;
        dir.learn_discovery(sc, &exit);
        assert!(dir.is_empty());
    }
}
