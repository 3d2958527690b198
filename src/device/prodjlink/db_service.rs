//! The TCP side of a unit that serves its media (`prodjlink.md` 7): the port query on 12523 and
//! the dbserver on the port it names, one session per accepted connection
//! ([`crate::device::dbserver`]), answering from the unit's library. The number of connections
//! is bounded (past it, one that never spoke or the one idle longest is closed), and each session bounds its own buffers, so a
//! hostile client can hold only a little memory.

use std::sync::Arc;

use super::persona::{Era, Kind, Persona};
use super::DB_QUERY_PORT;
use crate::device::dbserver::{DbServerSession, PortQuerySession, ServerRules, Verdict};
use crate::device::library::Library;
use crate::device::{ConnId, Nanos, Note, Outbox, Output, StreamEvent};

/// Connections open at once; past this one is closed (see `on_stream`). Real players serve a
/// handful of clients (an XDJ-AZ "answers more than three", 9.5); the emulator serves tools
/// and load tests too (issue 12 measures 100 concurrent clients), and each session holds at
/// most a few KiB (`Limits`), so 256 cost about a megabyte.
const MAX_CONNECTIONS: usize = 256;

enum Session {
    Query(PortQuerySession),
    Db(Box<DbServerSession>),
}

/// The dbserver of one unit.
pub struct DbService {
    library: Arc<Library>,
    rules: ServerRules,
    /// Open connections in eviction order: first those that have not sent a byte yet (oldest
    /// first), then the others by last activity (idle longest first).
    conns: Vec<(ConnId, Session)>,
    /// How many entries at the front of `conns` have not sent a byte yet.
    silent: usize,
}

impl DbService {
    /// The service `persona` runs as device `number`, or None for units without one (mixers,
    /// the OPUS-QUAD in lighting mode).
    pub fn new(persona: &Persona, number: u8, library: Arc<Library>) -> Option<Self> {
        let rules = match (persona.kind, persona.era) {
            (Kind::Player, Era::Cdj3000) => ServerRules::cdj3000(number),
            (Kind::Player, Era::Nexus) => ServerRules::nexus(number),
            (Kind::Rekordbox, _) => ServerRules::rekordbox(number),
            _ => return None,
        };
        Some(DbService {
            library,
            rules,
            conns: Vec::new(),
            silent: 0,
        })
    }

    /// The ports to listen on: the query port and the database's.
    pub fn ports(&self) -> [u16; 2] {
        [DB_QUERY_PORT, self.rules.port]
    }

    /// The unit's number changed (it gave way on a conflict): new sessions answer with it.
    pub fn renumber(&mut self, number: u8) {
        self.rules.own_number = number;
    }

    pub fn open(&self) -> usize {
        self.conns.len()
    }

    fn remove_at(&mut self, i: usize) -> (ConnId, Session) {
        if i < self.silent {
            self.silent -= 1;
        }
        self.conns.remove(i)
    }

    fn forget(&mut self, conn: ConnId) {
        if let Some(i) = self.conns.iter().position(|c| c.0 == conn) {
            self.remove_at(i);
        }
    }

    pub fn on_stream(
        &mut self,
        now: Nanos,
        conn: ConnId,
        event: StreamEvent<'_>,
        out: &mut Outbox,
        notes: &mut Vec<Note>,
    ) {
        match event {
            StreamEvent::Accepted { local_port, peer } => {
                self.forget(conn);
                // Past the bound the connection that never spoke goes first (a client sends
                // its query or greeting at once), then the one idle longest: a burst of
                // silent connections cannot push out a client that is being served.
                if self.conns.len() >= MAX_CONNECTIONS {
                    let (old, _) = self.remove_at(0);
                    out.push(Output::Close { conn: old });
                }
                let session = if local_port == DB_QUERY_PORT {
                    Session::Query(PortQuerySession::new(self.rules.port))
                } else if local_port == self.rules.port {
                    Session::Db(Box::new(DbServerSession::new(
                        self.library.clone(),
                        self.rules,
                    )))
                } else {
                    out.push(Output::Close { conn });
                    return;
                };
                if local_port != DB_QUERY_PORT {
                    let text = format!("dbserver client {peer} connected");
                    notes.push(Note { at: now, text });
                }
                self.conns.insert(self.silent, (conn, session));
                self.silent += 1;
            }
            StreamEvent::Data(bytes) => {
                let Some(i) = self.conns.iter().position(|c| c.0 == conn) else {
                    return;
                };
                // Most recently active last (see the bound above).
                let active = self.remove_at(i);
                self.conns.push(active);
                let i = self.conns.len() - 1;
                let mut answer = Vec::new();
                let verdict = match &mut self.conns[i].1 {
                    Session::Query(q) => q.on_bytes(bytes, &mut answer),
                    Session::Db(db) => {
                        let v = db.on_bytes(bytes, &mut answer);
                        for e in db.take_exchanges() {
                            let text = match e.answer_type {
                                Some(a) => format!(
                                    "dbserver: request {:04x} from device {} answered {a:04x}",
                                    e.request_type,
                                    db.requester().unwrap_or(0)
                                ),
                                None => format!("dbserver: request {:04x}", e.request_type),
                            };
                            notes.push(Note { at: now, text });
                        }
                        if let (Verdict::Close, Some(r)) = (v, db.close_reason()) {
                            let text = format!("dbserver connection closed: {r:?}");
                            notes.push(Note { at: now, text });
                        }
                        v
                    }
                };
                out.write(conn, answer);
                if verdict == Verdict::Close {
                    out.push(Output::Close { conn });
                    self.remove_at(i);
                }
            }
            StreamEvent::Closed => self.forget(conn),
            StreamEvent::Connected => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::port_query::PortQuery;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn closed(out: &mut Outbox) -> Vec<ConnId> {
        out.drain()
            .filter_map(|o| match o {
                Output::Close { conn } => Some(conn),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_burst_of_silent_connections_never_pushes_out_one_that_spoke() {
        let persona = Persona::by_role("cdj-3000").unwrap();
        let mut service = DbService::new(persona, 1, Arc::new(Library::demo())).unwrap();
        let (mut out, mut notes) = (Outbox::new(), Vec::new());
        let peer = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 9), 40000);
        let mut accept = |service: &mut DbService, id: u64, out: &mut Outbox| {
            let event = StreamEvent::Accepted {
                local_port: DB_QUERY_PORT,
                peer,
            };
            service.on_stream(0, ConnId(id), event, out, &mut notes);
        };
        for id in 1..=10 {
            accept(&mut service, id, &mut out);
        }
        // Connection 5 speaks (half a port query: it stays open, waiting for the rest).
        let query = PortQuery::default().to_bytes();
        let event = StreamEvent::Data(&query[..4]);
        service.on_stream(0, ConnId(5), event, &mut out, &mut Vec::new());
        for id in 11..=400 {
            accept(&mut service, id, &mut out);
        }
        let gone = closed(&mut out);
        assert_eq!(service.open(), MAX_CONNECTIONS);
        assert!(
            !gone.contains(&ConnId(5)),
            "the speaking connection was closed"
        );
        // The silent ones went oldest first.
        assert_eq!(&gone[..4], &[ConnId(1), ConnId(2), ConnId(3), ConnId(4)]);
        assert_eq!(gone[4], ConnId(6));
        assert_eq!(gone.len(), 400 - MAX_CONNECTIONS);
    }
}
