//! A unit's FileTransfer connections: the unit's framer (`framing.rs`) cuts the stream, each
//! whole message goes to the connection's [`FileTransferSession`].
//!
//! The transports have no "queue drained" signal yet, so a chunk request is answered in full
//! right away, in writes of one window each. That stays bounded: a range stops at the end of
//! the file (the largest is the database, well under 1 MiB), and the socket transport drops a
//! connection whose peer leaves more than 1 MiB unread (`transport/socket/tcp.rs`), which is
//! what a client that asks again and again without reading runs into.

use crate::device::{ConnId, Nanos, Outbox, Output};
use crate::stagelinq::Token;

use super::super::unit::Unit;
use super::{FileTransferSession, Verdict};

impl Unit {
    /// The client's hello on the FileTransfer port: the session starts with it.
    pub(in crate::device::stagelinq) fn file_transfer_hello(
        &mut self,
        now: Nanos,
        conn: ConnId,
        token: Token,
        hello: &[u8],
        out: &mut Outbox,
    ) {
        let Some(volume) = self.volume.clone() else {
            self.conns.remove(&conn);
            out.push(Output::Close { conn });
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.token = Some(token);
        c.file_transfer = Some(Box::new(FileTransferSession::new(volume)));
        self.file_transfer(now, conn, hello, out);
    }

    /// One whole message from the client.
    pub(in crate::device::stagelinq) fn file_transfer(
        &mut self,
        now: Nanos,
        conn: ConnId,
        message: &[u8],
        out: &mut Outbox,
    ) {
        let Some(session) = self
            .conns
            .get_mut(&conn)
            .and_then(|c| c.file_transfer.as_mut())
        else {
            return;
        };
        let mut queue = Vec::new();
        let mut verdict = session.on_bytes(message, &mut queue);
        while verdict == Verdict::Keep && session.sending() {
            out.write(conn, std::mem::take(&mut queue));
            verdict = session.on_drained(&mut queue);
        }
        out.write(conn, queue);
        let opened = session
            .take_exchanges()
            .iter()
            .filter(|e| e.request == crate::stagelinq::filetransfer::ID_OPEN_REQUEST)
            .count();
        let reason = session.close_reason().cloned();
        if opened > 0 {
            self.note(
                now,
                format!("FileTransfer on {conn:?}: {opened} file(s) opened"),
            );
        }
        if verdict == Verdict::Close {
            self.note(now, format!("FileTransfer on {conn:?} closed: {reason:?}"));
            self.conns.remove(&conn);
            out.push(Output::Close { conn });
        }
    }
}
