//! Tracks, and the dbserver exchange a player runs before a LINK load: the port query on TCP
//! 12523, then on TCP 1051 the greetings, the setup request, the metadata request (`2002`) and
//! the render of its answer (`4001`, items, `4201`), `prodjlink.md` 7. Every message is built
//! with the typed bodies of [`crate::dbserver`].

use std::io::Write;

use crate::dbserver::menu_item::MenuItem;
use crate::dbserver::message::SETUP_TRANSACTION_ID;
use crate::dbserver::requests::{Dmst, MetadataRequest, RenderMenuRequest, SetupRequest};
use crate::dbserver::responses::{MenuAvailable, MenuHeader, MENU_FOOTER_TYPE};
use crate::dbserver::{port_query, DbString, Greeting, Message, PortAnswer, PortQuery};

use super::net::{Dir, HostId, Net, Payload, TcpFlow};
use super::wire::{Rng, Wire, MS, US};

/// The library's key type, shared with the device models (`device::library`).
pub use crate::device::library::MusicalKey;

/// A track on some player's USB stick, with what rekordbox knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub rekordbox_id: u32,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub genre: String,
    pub key: MusicalKey,
    /// Track tempo x 100 (what status and beat packets carry).
    pub bpm_x100: u16,
    pub duration_s: u32,
    /// Position of the first beat of the grid, in ms.
    pub first_beat_ms: u32,
    /// Player whose USB holds the track (the dbserver that answers for it).
    pub source_player: u8,
    /// Row ids the metadata items point at.
    pub artist_id: u32,
    pub album_id: u32,
    pub genre_id: u32,
}

impl Track {
    /// What a player's deck needs of the track (the UDP side of the device models).
    pub fn info(&self) -> crate::device::prodjlink::track::TrackInfo {
        crate::device::prodjlink::track::TrackInfo {
            rekordbox_id: self.rekordbox_id,
            bpm_x100: self.bpm_x100,
            duration_s: self.duration_s,
            first_beat_ms: self.first_beat_ms,
            key: Some(self.key.cdj3000()),
            source_player: self.source_player,
            slot: USB_SLOT,
            artwork: Vec::new().into(),
            phrases: Vec::new().into(),
        }
    }

    pub fn bpm(&self) -> f64 {
        self.bpm_x100 as f64 / 100.0
    }

    /// Milliseconds between beats at pitch 0.
    pub fn beat_ms(&self) -> f64 {
        6_000_000.0 / self.bpm_x100.max(1) as f64
    }

    /// The metadata menu a CDJ-2000NXS2 renders for a `2002` request: 11 items (DYS-T), title
    /// first. Values follow the real LinkInfo answer's layout.
    pub fn metadata_items(&self) -> Vec<MenuItem> {
        let item = |parent_id, id, item_type, label: &str| MenuItem {
            parent_id,
            id,
            label1: DbString::new(label),
            label2: DbString::new(""),
            item_type,
            ..MenuItem::default()
        };
        let mut title = item(self.artist_id, self.rekordbox_id, 0x0004, &self.title);
        // Title rows carry flags 01000000, the artwork id and 0x100 in argument 11 (CAP).
        title.flags = 0x0100_0000;
        title.artwork_id = self.rekordbox_id + 0x20;
        title.unknown_11 = 0x100;
        vec![
            title,
            item(1, self.artist_id, 0x0007, &self.artist),
            item(0, self.album_id, 0x0002, &self.album),
            item(0, self.duration_s, 0x000b, ""),
            item(0, self.bpm_x100 as u32, 0x000d, ""),
            item(0, self.rekordbox_id, 0x0023, ""),
            item(1, self.key.note as u32 + 1, 0x000f, &self.key.text()),
            item(1, 3, 0x000a, ""),
            item(0, 0, 0x0013, ""),
            item(1, self.genre_id, 0x0006, &self.genre),
            item(1, 0, 0x002e, "2024-05-17"),
        ]
    }
}

/// The USB slot (DMST byte 2, status Sr `03`).
pub const USB_SLOT: u8 = 3;
/// Transaction ids of real CDJs start here and keep counting across connections (7.2).
const FIRST_TRANSACTION_ID: u32 = 0x0380_0001;
const RTT: i128 = 300 * US;

/// An open dbserver connection from one player to another.
struct DbLink {
    client: u8,
    server: u8,
    flow: TcpFlow,
}

/// The dbserver connections of a network, kept open between lookups as real decks do.
#[derive(Default)]
pub struct DbLookups {
    links: Vec<DbLink>,
    /// Next transaction id per client player.
    tx: Vec<(u8, u32)>,
}

impl DbLookups {
    fn next_tx(&mut self, client: u8) -> u32 {
        let slot = match self.tx.iter().position(|(c, _)| *c == client) {
            Some(i) => i,
            None => {
                self.tx.push((client, FIRST_TRANSACTION_ID));
                self.tx.len() - 1
            }
        };
        let id = self.tx[slot].1;
        self.tx[slot].1 += 1;
        id
    }

    /// Player `client` (device number, host) asks player `server` for the metadata of
    /// `track`, starting at `ts_ns`; opens the connection first if there is none.
    /// Returns the time of the last frame.
    #[allow(clippy::too_many_arguments)]
    pub fn lookup<W: Write>(
        &mut self,
        net: &mut Net,
        wire: &mut Wire<W>,
        rng: &mut Rng,
        ts_ns: i128,
        client: (u8, HostId),
        server: (u8, HostId),
        track: &Track,
    ) -> i128 {
        let mut t = ts_ns;
        let link = match self
            .links
            .iter()
            .position(|l| l.client == client.0 && l.server == server.0)
        {
            Some(i) => i,
            None => {
                t = self.open(net, wire, rng, t, client, server);
                self.links.len() - 1
            }
        };
        let dmst = Dmst {
            player: client.0,
            menu: 1,
            slot: USB_SLOT,
            track_type: 1,
        };
        let items = track.metadata_items();
        let ask_tx = self.next_tx(client.0);
        let render_tx = self.next_tx(client.0);
        let flow = &mut self.links[link].flow;
        let ask = MetadataRequest {
            dmst,
            rekordbox_id: track.rekordbox_id,
        }
        .to_message(ask_tx);
        t = flow.send(net, wire, t, Dir::ToServer, &[&ask], 0);
        let count = MenuAvailable {
            request_type: MetadataRequest::TYPE as u32,
            count: items.len() as u32,
        }
        .to_message(ask_tx);
        t += 2 * MS + rng.below(3000) as i128 * US;
        t = flow.send(net, wire, t, Dir::ToClient, &[&count], 0);
        flow.ack(net, wire, t + RTT, Dir::ToServer);
        let render = RenderMenuRequest::new(dmst, 0, items.len() as u32, items.len() as u32)
            .to_message(render_tx);
        t += 8 * MS + rng.below(4000) as i128 * US;
        t = flow.send(net, wire, t, Dir::ToServer, &[&render], 0);
        // Header, items and footer leave in one write (CAP LinkInfo: one 1302-byte segment).
        let header = MenuHeader::default().to_message(render_tx);
        let rows: Vec<Message> = items.iter().map(|i| i.to_message(render_tx)).collect();
        let footer = Message::new(render_tx, MENU_FOOTER_TYPE, Vec::new());
        let mut parts: Vec<&dyn Payload> = vec![&header];
        parts.extend(rows.iter().map(|m| m as &dyn Payload));
        parts.push(&footer);
        t += 10 * MS + rng.below(5000) as i128 * US;
        t = flow.send(net, wire, t, Dir::ToClient, &parts, 40 * US);
        flow.ack(net, wire, t + RTT, Dir::ToServer);
        t + RTT
    }

    /// Port query on 12523 (answer 1051, then the server closes), then the 1051 connection
    /// with greetings and the setup exchange. Returns the time it is ready.
    fn open<W: Write>(
        &mut self,
        net: &mut Net,
        wire: &mut Wire<W>,
        rng: &mut Rng,
        ts_ns: i128,
        client: (u8, HostId),
        server: (u8, HostId),
    ) -> i128 {
        let isn = |rng: &mut Rng| (rng.next_u64() as u32, rng.next_u64() as u32);
        let mut t = ts_ns;
        let mut q = TcpFlow::new(net, client.1, server.1, port_query::QUERY_PORT, isn(rng));
        q.connect(net, wire, t, RTT);
        t += 2 * RTT + 100 * US;
        t = q.send(net, wire, t, Dir::ToServer, &[&PortQuery::default()], 0);
        t += RTT;
        t = q.send(
            net,
            wire,
            t,
            Dir::ToClient,
            &[&PortAnswer { port: 1051 }],
            0,
        );
        q.close(net, wire, t + 50 * US, Dir::ToClient, RTT);
        t += 3 * RTT + 200 * US;

        let mut flow = TcpFlow::new(net, client.1, server.1, 1051, isn(rng));
        flow.connect(net, wire, t, RTT);
        t += 2 * RTT + 600 * US;
        t = flow.send(net, wire, t, Dir::ToServer, &[&Greeting::default()], 0);
        t += MS;
        t = flow.send(net, wire, t, Dir::ToClient, &[&Greeting::default()], 0);
        let setup = SetupRequest {
            requester: client.0 as u32,
        }
        .to_message(SETUP_TRANSACTION_ID);
        t += 400 * US;
        t = flow.send(net, wire, t, Dir::ToServer, &[&setup], 0);
        // The setup answer names the server's device number (7.3).
        let answer = MenuAvailable {
            request_type: 0,
            count: server.0 as u32,
        }
        .to_message(SETUP_TRANSACTION_ID);
        t += 400 * US;
        t = flow.send(net, wire, t, Dir::ToClient, &[&answer], 0);
        flow.ack(net, wire, t + RTT, Dir::ToServer);
        self.links.push(DbLink {
            client: client.0,
            server: server.0,
            flow,
        });
        t + 5 * MS
    }

    /// Teardown (`0100`) on every open connection and close it; the server closes (7.3).
    pub fn close_all<W: Write>(&mut self, net: &mut Net, wire: &mut Wire<W>, ts_ns: i128) {
        let mut t = ts_ns;
        for link in &mut self.links {
            let bye = Message::new(SETUP_TRANSACTION_ID, 0x0100, Vec::new());
            t = link.flow.send(net, wire, t, Dir::ToServer, &[&bye], 0);
            link.flow.close(net, wire, t + 500 * US, Dir::ToClient, RTT);
            t += 5 * MS;
        }
        self.links.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::menu_item::ItemValue;

    #[test]
    fn keys_in_both_notations() {
        let am = MusicalKey {
            note: 9,
            minor: true,
        };
        assert_eq!(am.text(), "Am");
        assert_eq!(
            am.cdj3000(),
            crate::prodjlink::Key {
                note: 9,
                mode: 0,
                accidental: 0
            }
        );
        let fs = MusicalKey {
            note: 6,
            minor: false,
        };
        assert_eq!(fs.text(), "F#");
        assert_eq!(fs.cdj3000().accidental, 0x01);
        assert_eq!(
            MusicalKey {
                note: 3,
                minor: false
            }
            .cdj3000()
            .accidental,
            0xff
        );
    }

    #[test]
    fn metadata_items_read_back_as_the_track() {
        let t = Track {
            rekordbox_id: 77,
            title: "Night Drive".into(),
            artist: "Aural Fixation".into(),
            album: "Late".into(),
            genre: "Techno".into(),
            key: MusicalKey {
                note: 9,
                minor: true,
            },
            bpm_x100: 12400,
            duration_s: 391,
            first_beat_ms: 120,
            source_player: 2,
            artist_id: 5,
            album_id: 6,
            genre_id: 7,
        };
        let items = t.metadata_items();
        assert_eq!(items.len(), 11);
        // Through the wire and back: every item parses as the same typed body.
        for i in &items {
            let bytes = i.to_message(9).to_bytes();
            let (m, used) = Message::parse(&bytes).unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(MenuItem::from_message(&m).as_ref(), Some(i));
        }
        assert!(
            matches!(items[0].value(), ItemValue::Track { ref title, .. } if title == "Night Drive")
        );
        assert_eq!(items[4].value(), ItemValue::Tempo { bpm_x100: 12400 });
    }
}
