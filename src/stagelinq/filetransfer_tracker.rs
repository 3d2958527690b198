//! Follows FileTransfer messages of one connection (both directions) and shows each download,
//! typically the Engine database (`stagelinq.md` 1.9 "Database download flow"), as one
//! transfer with its path, size and progress.

use std::collections::{BTreeSet, HashMap};

use super::filetransfer::{FileTransferBody, FileTransferMessage, CHUNK_SIZE};

/// Most transfers remembered per connection; the oldest are forgotten first.
pub const MAX_TRANSFERS: usize = 64;
/// Most distinct chunk offsets remembered per transfer (a 4 GiB file at 4096 bytes per chunk).
pub const MAX_CHUNKS: usize = 1 << 20;

/// One file download.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transfer {
    pub txid: u32,
    /// The path from the open request (0x7d4); None if the capture began later.
    pub path: Option<String>,
    /// Size from the transfer info (0x4), else from an earlier stat (0x1) of the same path.
    pub size: Option<u64>,
    /// Distinct data bytes received (a re-sent chunk counts once).
    pub received: u64,
    /// Chunk messages seen, duplicates included.
    pub chunks: u64,
    /// The last chunk range requested (0x7d5), inclusive.
    pub requested: Option<(u64, u64)>,
    /// The client sent 0x7d6.
    pub complete: bool,
    offsets: BTreeSet<u32>,
}

impl Transfer {
    /// Fraction of the file received, when the size is known.
    pub fn progress(&self) -> Option<f64> {
        match self.size {
            Some(0) => Some(1.0),
            Some(n) => Some((self.received as f64 / n as f64).min(1.0)),
            None => None,
        }
    }

    /// True for the Engine library database (`Engine Library/m.db` or `Database2/m.db`).
    pub fn is_database(&self) -> bool {
        self.path.as_deref().is_some_and(|p| p.ends_with("/m.db"))
    }

    /// Chunks the whole file takes.
    pub fn total_chunks(&self) -> Option<u64> {
        self.size.map(|n| n.div_ceil(CHUNK_SIZE as u64))
    }

    /// One line: what, how big, how far.
    pub fn summary(&self) -> String {
        let what = if self.is_database() { "database " } else { "" };
        let path = self.path.as_deref().unwrap_or("?");
        let size = self
            .size
            .map_or("size ?".to_string(), |n| format!("{n} bytes"));
        let progress = self
            .progress()
            .map_or(String::new(), |p| format!(", {:.1}%", p * 100.0));
        let state = if self.complete { ", complete" } else { "" };
        format!(
            "{what}transfer txid {} {path} {size}, {} bytes received in {} chunks{progress}{state}",
            self.txid, self.received, self.chunks
        )
    }
}

/// Watches one FileTransfer connection.
#[derive(Debug, Default)]
pub struct FileTransferTracker {
    transfers: Vec<Transfer>,
    /// Sizes learned from stat answers, by path (stat request txid -> path first).
    stat_paths: HashMap<u32, String>,
    stat_sizes: HashMap<String, u64>,
}

impl FileTransferTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every transfer seen, oldest first.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Take one message (either direction); returns the transfer it moved, if any.
    pub fn observe(&mut self, msg: &FileTransferMessage) -> Option<&Transfer> {
        let txid = msg.txid;
        match &msg.body {
            FileTransferBody::StatRequest { path } => {
                if self.stat_paths.len() < MAX_TRANSFERS {
                    self.stat_paths.insert(txid, path.clone());
                }
                None
            }
            FileTransferBody::FileStat(stat) => {
                if let Some(path) = self.stat_paths.remove(&txid) {
                    if self.stat_sizes.len() < MAX_TRANSFERS {
                        self.stat_sizes.insert(path, stat.size);
                    }
                }
                None
            }
            FileTransferBody::OpenRequest { path, .. } => {
                if self.transfers.len() >= MAX_TRANSFERS {
                    self.transfers.remove(0);
                }
                self.transfers.push(Transfer {
                    txid,
                    path: Some(path.clone()),
                    size: self.stat_sizes.get(path).copied(),
                    ..Transfer::default()
                });
                self.transfers.last()
            }
            FileTransferBody::TransferInfo { size, .. } => {
                let t = self.current(txid);
                t.size = Some(u64::from(*size));
                Some(t)
            }
            FileTransferBody::ChunkRequest {
                first_chunk,
                last_chunk,
                ..
            } => {
                let t = self.current(txid);
                t.requested = Some((*first_chunk, *last_chunk));
                Some(t)
            }
            FileTransferBody::Chunk { offset, data, .. } => {
                let t = self.current(txid);
                t.chunks += 1;
                if t.offsets.len() < MAX_CHUNKS && t.offsets.insert(*offset) {
                    t.received += data.len() as u64;
                }
                Some(t)
            }
            FileTransferBody::TransferComplete => {
                let t = self.current(txid);
                t.complete = true;
                Some(t)
            }
            _ => None,
        }
    }

    /// The open transfer with this txid, created when the capture missed its open request.
    fn current(&mut self, txid: u32) -> &mut Transfer {
        let found = self
            .transfers
            .iter()
            .rposition(|t| t.txid == txid && !t.complete);
        let i = match found {
            Some(i) => i,
            None => {
                if self.transfers.len() >= MAX_TRANSFERS {
                    self.transfers.remove(0);
                }
                self.transfers.push(Transfer {
                    txid,
                    ..Transfer::default()
                });
                self.transfers.len() - 1
            }
        };
        &mut self.transfers[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stagelinq::filetransfer::FileStat;

    fn msg(txid: u32, body: FileTransferBody) -> FileTransferMessage {
        FileTransferMessage::new(txid, body)
    }

    #[test]
    fn a_database_download_is_one_transfer() {
        // The flow of stagelinq.md 1.9: stat, open, size, chunk requests, chunks, complete.
        let db = "/DJ2 (USB 1)/Engine Library/Database2/m.db";
        let size = 2 * CHUNK_SIZE as u32 + 100;
        let mut t = FileTransferTracker::new();
        t.observe(&msg(1, FileTransferBody::StatRequest { path: db.into() }));
        t.observe(&msg(
            1,
            FileTransferBody::FileStat(FileStat::file(size.into())),
        ));
        let open = t.observe(&msg(
            2,
            FileTransferBody::OpenRequest {
                path: db.into(),
                flags: 0,
            },
        ));
        assert_eq!(open.unwrap().size, Some(size.into()));
        t.observe(&msg(
            2,
            FileTransferBody::TransferInfo {
                unknown_0: 0,
                size,
                transfer_id: 1,
            },
        ));
        t.observe(&msg(
            2,
            FileTransferBody::ChunkRequest {
                unknown_0: 0,
                unknown_1: 1,
                first_chunk: 0,
                last_chunk: 2,
            },
        ));
        // The second chunk arrives twice: it counts once.
        let c = CHUNK_SIZE as u32;
        for (offset, len) in [
            (0, CHUNK_SIZE),
            (c, CHUNK_SIZE),
            (c, CHUNK_SIZE),
            (2 * c, 100),
        ] {
            let data = vec![0; len];
            let chunk = msg(
                2,
                FileTransferBody::Chunk {
                    unknown_0: 0,
                    offset,
                    data,
                },
            );
            assert!(t.observe(&chunk).unwrap().progress().unwrap() > 0.0);
        }
        let done = t
            .observe(&msg(2, FileTransferBody::TransferComplete))
            .unwrap()
            .clone();
        assert_eq!(t.transfers().len(), 1);
        assert!(done.is_database() && done.complete);
        assert_eq!((done.received, done.chunks), (u64::from(size), 4));
        assert_eq!(done.progress(), Some(1.0));
        assert_eq!(done.total_chunks(), Some(3));
        assert_eq!(
            done.summary(),
            format!("database transfer txid 2 {db} {size} bytes, {size} bytes received in 4 chunks, 100.0%, complete")
        );
    }

    #[test]
    fn chunks_without_an_open_request_still_show() {
        let mut t = FileTransferTracker::new();
        let tr = t
            .observe(&msg(
                0,
                FileTransferBody::Chunk {
                    unknown_0: 0,
                    offset: 0,
                    data: vec![1; 10],
                },
            ))
            .unwrap();
        assert_eq!(
            (tr.path.as_deref(), tr.received, tr.progress()),
            (None, 10, None)
        );
        for i in 0..(MAX_TRANSFERS as u32 + 5) {
            t.observe(&msg(
                i,
                FileTransferBody::OpenRequest {
                    path: "/a".into(),
                    flags: 0,
                },
            ));
        }
        assert_eq!(t.transfers().len(), MAX_TRANSFERS);
    }
}
