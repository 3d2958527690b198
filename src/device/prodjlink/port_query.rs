//! The TCP side of a unit that serves its media: the port query on 12523 (`prodjlink.md` 7.1)
//! answered with the dbserver port, every connection bounded so a hostile client cannot make it
//! hold more than a few bytes.

use super::{DB_PORT, DB_QUERY_PORT};
use crate::dbserver::port_query::REMOTE_DB_SERVER;
use crate::dbserver::{PortAnswer, PortQuery};
use crate::device::{ConnId, Outbox, Output, StreamEvent};

/// The longest port query a client can send: 4 bytes of length and "RemoteDBServer\0", with
/// room for a longer service name. Anything longer is a hostile length (7.1).
const MAX_PORT_QUERY: usize = 64;
/// Connections open at once; the oldest is closed past this (real players answer a handful).
const MAX_CONNECTIONS: usize = 64;

/// Open connections: id, local port, bytes not yet understood.
#[derive(Debug, Default)]
pub struct PortQueries {
    conns: Vec<(ConnId, u16, Vec<u8>)>,
}

impl PortQueries {
    pub fn on_stream(&mut self, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        match event {
            StreamEvent::Accepted { local_port, .. } => {
                self.conns.retain(|c| c.0 != conn);
                if self.conns.len() >= MAX_CONNECTIONS {
                    let (old, ..) = self.conns.remove(0);
                    out.push(Output::Close { conn: old });
                }
                self.conns.push((conn, local_port, Vec::new()));
            }
            StreamEvent::Data(bytes) => {
                let Some(i) = self.conns.iter().position(|c| c.0 == conn) else {
                    return;
                };
                let c = &mut self.conns[i];
                if c.1 != DB_QUERY_PORT {
                    return;
                }
                let room = MAX_PORT_QUERY.saturating_sub(c.2.len());
                c.2.extend_from_slice(&bytes[..bytes.len().min(room)]);
                match PortQuery::parse(&c.2) {
                    Ok((q, _)) => {
                        // A real player answers the one service it has, then closes (7.1).
                        if q.name == REMOTE_DB_SERVER {
                            out.write(conn, PortAnswer { port: DB_PORT }.to_bytes());
                        }
                        out.push(Output::Close { conn });
                        self.conns.remove(i);
                    }
                    Err(_) if c.2.len() < MAX_PORT_QUERY => {}
                    Err(_) => {
                        out.push(Output::Close { conn });
                        self.conns.remove(i);
                    }
                }
            }
            StreamEvent::Closed => self.conns.retain(|c| c.0 != conn),
            StreamEvent::Connected => {}
        }
    }

    pub fn open(&self) -> usize {
        self.conns.len()
    }
}
