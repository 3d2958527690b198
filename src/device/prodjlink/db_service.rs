//! The TCP side of a unit that serves its media (`prodjlink.md` 7): the port query on 12523 and
//! the dbserver on the port it names, one session per accepted connection
//! ([`crate::device::dbserver`]), answering from the unit's library. The number of connections
//! is bounded (the oldest is closed past it), and each session bounds its own buffers, so a
//! hostile client can hold only a little memory.

use std::sync::Arc;

use super::persona::{Era, Kind, Persona};
use super::DB_QUERY_PORT;
use crate::device::dbserver::{DbServerSession, PortQuerySession, ServerRules, Verdict};
use crate::device::library::Library;
use crate::device::{ConnId, Nanos, Note, Outbox, Output, StreamEvent};

/// Connections open at once; past this the oldest is closed. Real players serve a handful of
/// clients (an XDJ-AZ "answers more than three", 9.5); 64 leaves room for tools.
const MAX_CONNECTIONS: usize = 64;

enum Session {
    Query(PortQuerySession),
    Db(Box<DbServerSession>),
}

/// The dbserver of one unit.
pub struct DbService {
    library: Arc<Library>,
    rules: ServerRules,
    conns: Vec<(ConnId, Session)>,
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
                self.conns.retain(|c| c.0 != conn);
                if self.conns.len() >= MAX_CONNECTIONS {
                    let (old, _) = self.conns.remove(0);
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
                self.conns.push((conn, session));
            }
            StreamEvent::Data(bytes) => {
                let Some(i) = self.conns.iter().position(|c| c.0 == conn) else {
                    return;
                };
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
                    self.conns.remove(i);
                }
            }
            StreamEvent::Closed => self.conns.retain(|c| c.0 != conn),
            StreamEvent::Connected => {}
        }
    }
}
