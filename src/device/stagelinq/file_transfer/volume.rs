//! The media of an emulated unit as FileTransfer sees it (`stagelinq.md` 1.9): one source (a
//! USB stick named like `DJ2 (USB 1)`) holding `Engine Library/Database2/m.db` and the demo
//! tracks under `Engine Library/Music/`. Paths are absolute, `/<source>/...`, as clients
//! write them (npm `stagelinq` `getSources`: `/${source}/Engine Library/Database2/m.db`).
//! Built once per run and shared by every connection.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::device::library::Library;

use super::{audio, engine_db};

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A source or a folder.
    Directory,
    /// A file and its bytes.
    File(&'a [u8]),
}

/// The files of a unit, by absolute path.
#[derive(Debug, Clone)]
pub struct Volume {
    sources: Vec<String>,
    files: BTreeMap<String, Arc<[u8]>>,
}

impl Volume {
    /// A unit with `library` on one source named `source`; `uuid` is the Engine database's
    /// uuid (the unit's token as text makes it unique per unit).
    pub fn demo(library: &Library, source: &str, uuid: &str) -> rusqlite::Result<Volume> {
        let track_file: Arc<[u8]> = audio::silent_mp3().into();
        let size = track_file.len() as u64;
        let db = engine_db::build(library, uuid, |_| size)?;
        let mut files = BTreeMap::new();
        files.insert(
            format!("/{source}/{}", engine_db::DATABASE_PATH),
            Arc::from(db),
        );
        for t in &library.tracks {
            files.insert(
                format!("/{source}/{}", engine_db::music_path(t)),
                track_file.clone(),
            );
        }
        Ok(Volume {
            sources: vec![source.to_string()],
            files,
        })
    }

    /// A unit with no source and no file: every path is missing (`replay` answers FileTransfer
    /// requests it has no recording of this way).
    pub fn empty() -> Volume {
        Volume {
            sources: Vec::new(),
            files: BTreeMap::new(),
        }
    }

    /// The source names, as the `0x3` answer to a source list gives them.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The database file of the first source.
    pub fn database(&self) -> Option<&[u8]> {
        let source = self.sources.first()?;
        let path = format!("/{source}/{}", engine_db::DATABASE_PATH);
        self.files.get(&path).map(|f| &f[..])
    }

    /// What `path` names, if anything. A trailing `/` is ignored; nothing else is normalised
    /// (a real unit's file system matches exactly).
    pub fn lookup(&self, path: &str) -> Option<Entry<'_>> {
        let path = trim(path);
        if let Some(f) = self.files.get(path) {
            return Some(Entry::File(f));
        }
        if self.is_directory(path) {
            return Some(Entry::Directory);
        }
        None
    }

    fn is_directory(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        path.len() > 1
            && self
                .files
                .range(prefix.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The names directly inside folder `path`, in name order; None when `path` is not a
    /// folder.
    pub fn list(&self, path: &str) -> Option<Vec<String>> {
        let path = trim(path);
        if !self.is_directory(path) {
            return None;
        }
        let prefix = format!("{path}/");
        let mut names: Vec<String> = Vec::new();
        for (k, _) in self.files.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            let name = rest.split('/').next().unwrap_or(rest);
            if names.last().map(String::as_str) != Some(name) {
                names.push(name.to_string());
            }
        }
        Some(names)
    }
}

fn trim(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_files_and_nothing_else() {
        let v = Volume::demo(&Library::demo(), "DEMO (USB 1)", "u").unwrap();
        assert_eq!(v.sources(), ["DEMO (USB 1)"]);
        assert_eq!(v.lookup("/DEMO (USB 1)"), Some(Entry::Directory));
        assert_eq!(v.lookup("/DEMO (USB 1)/"), Some(Entry::Directory));
        assert_eq!(
            v.list("/DEMO (USB 1)/Engine Library").unwrap(),
            ["Database2", "Music"]
        );
        let music = v.list("/DEMO (USB 1)/Engine Library/Music").unwrap();
        assert_eq!(music.len(), 8);
        assert!(music.contains(&"Loopback Anthem.mp3".to_string()));
        let Some(Entry::File(db)) = v.lookup("/DEMO (USB 1)/Engine Library/Database2/m.db") else {
            panic!("no database");
        };
        assert_eq!(&db[..6], b"SQLite");
        assert_eq!(v.database(), Some(db));
        // Engine OS 1.x's place, a prefix of a name, a case change, the root: nothing there.
        for missing in [
            "/DEMO (USB 1)/Engine Library/m.db",
            "/DEMO (USB 1)/Engine Lib",
            "/demo (usb 1)",
            "/",
            "",
        ] {
            assert_eq!(v.lookup(missing), None, "{missing}");
        }
        assert_eq!(v.list("/DEMO (USB 1)/Engine Library/Database2/m.db"), None);
    }
}
