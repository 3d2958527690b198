//! The Engine library database (`Engine Library/Database2/m.db`) that an emulated unit serves
//! over FileTransfer (`stagelinq.md` 1.9 step 4), built from the demo library with SQLite
//! itself (rusqlite, bundled), in memory, the same bytes on every run.
//!
//! Schema: Engine DJ 2.18.0 as libdjinterop creates it
//! (`xsco/libdjinterop:src/djinterop/engine/schema/schema_2_18_0.cpp`), the tables and columns
//! the clients read: `Information` (the database uuid and schema version), `Track` (npm
//! `stagelinq`'s `TrackDBEntry`, `chrisle/StageLinq:types/models/Track.ts`), `AlbumArt`,
//! `Playlist` and `PlaylistEntity` (the same repository's `Playlist`/`PlaylistEntity` models),
//! plus the empty `ChangeLog`, `Pack` and `PreparelistEntity` that Engine always has.
//! Left out: Engine's triggers and views (they maintain the tables on edits; a served copy is
//! never edited) and the performance blobs (`beatData`, `quickCues`...: qCompress'd
//! structures no client here reads; NULL as in a track Engine has not analysed).

use rusqlite::{params, Connection, MAIN_DB};

use crate::device::library::{Library, MusicalKey, NodeKind, Track};

/// Engine DJ's schema version written to `Information` (the libdjinterop file above).
pub const SCHEMA_VERSION: (u32, u32, u32) = (2, 18, 0);

/// Where a unit keeps the database inside a source (`stagelinq.md` 1.9 step 2: Engine OS 2.x
/// and later; 1.x used `Engine Library/m.db`).
pub const DATABASE_PATH: &str = "Engine Library/Database2/m.db";

/// The folder of the music files inside a source; `Track.path` is relative to the database's
/// folder (`../Music/<file>`), the network path of a loaded track names
/// `<source>/Engine Library/Music/<file>` (`stagelinq.md` 1.9, unbox #126 log).
pub const MUSIC_DIR: &str = "Engine Library/Music";

/// 2025-01-01T00:00:00Z: the time every playlist was last edited (fixed, so the file is the
/// same on every run).
const EDIT_TIME: i64 = 1_735_689_600;

const DDL: &str = "
CREATE TABLE Information (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT,
  schemaVersionMajor INTEGER, schemaVersionMinor INTEGER, schemaVersionPatch INTEGER,
  currentPlayedIndiciator INTEGER, lastRekordBoxLibraryImportReadCounter INTEGER);
CREATE TABLE AlbumArt (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT, albumArt BLOB);
CREATE TABLE Track (id INTEGER PRIMARY KEY AUTOINCREMENT, playOrder INTEGER, length INTEGER,
  bpm INTEGER, year INTEGER, path TEXT, filename TEXT, bitrate INTEGER, bpmAnalyzed REAL,
  albumArtId INTEGER, fileBytes INTEGER, title TEXT, artist TEXT, album TEXT, genre TEXT,
  comment TEXT, label TEXT, composer TEXT, remixer TEXT, key INTEGER, rating INTEGER,
  albumArt TEXT, timeLastPlayed DATETIME, isPlayed BOOLEAN, fileType TEXT,
  isAnalyzed BOOLEAN, dateCreated DATETIME, dateAdded DATETIME, isAvailable BOOLEAN,
  isMetadataOfPackedTrackChanged BOOLEAN, isPerfomanceDataOfPackedTrackChanged BOOLEAN,
  playedIndicator INTEGER, isMetadataImported BOOLEAN, pdbImportKey INTEGER,
  streamingSource TEXT, uri TEXT, isBeatGridLocked BOOLEAN, originDatabaseUuid TEXT,
  originTrackId INTEGER, trackData BLOB, overviewWaveFormData BLOB, beatData BLOB,
  quickCues BLOB, loops BLOB, thirdPartySourceId INTEGER, streamingFlags INTEGER,
  explicitLyrics BOOLEAN,
  CONSTRAINT C_originDatabaseUuid_originTrackId UNIQUE (originDatabaseUuid, originTrackId),
  CONSTRAINT C_path UNIQUE (path),
  FOREIGN KEY (albumArtId) REFERENCES AlbumArt (id) ON DELETE RESTRICT);
CREATE TABLE ChangeLog (id INTEGER PRIMARY KEY AUTOINCREMENT, trackId INTEGER,
  FOREIGN KEY (trackId) REFERENCES Track (id) ON DELETE SET NULL);
CREATE TABLE Pack (id INTEGER PRIMARY KEY AUTOINCREMENT, packId TEXT,
  changeLogDatabaseUuid TEXT, changeLogId INTEGER);
CREATE TABLE Playlist (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT,
  parentListId INTEGER, isPersisted BOOLEAN, nextListId INTEGER, lastEditTime DATETIME,
  isExplicitlyExported BOOLEAN,
  CONSTRAINT C_NAME_UNIQUE_FOR_PARENT UNIQUE (title, parentListId),
  CONSTRAINT C_NEXT_LIST_ID_UNIQUE_FOR_PARENT UNIQUE (parentListId, nextListId));
CREATE TABLE PlaylistEntity (id INTEGER PRIMARY KEY AUTOINCREMENT, listId INTEGER,
  trackId INTEGER, databaseUuid TEXT, nextEntityId INTEGER, membershipReference INTEGER,
  CONSTRAINT C_NAME_UNIQUE_FOR_LIST UNIQUE (listId, databaseUuid, trackId),
  FOREIGN KEY (listId) REFERENCES Playlist (id) ON DELETE CASCADE);
CREATE TABLE PreparelistEntity (id INTEGER PRIMARY KEY AUTOINCREMENT, trackId INTEGER,
  trackNumber INTEGER, FOREIGN KEY (trackId) REFERENCES Track (id) ON DELETE CASCADE);
CREATE INDEX index_Track_filename ON Track (filename);
CREATE INDEX index_Track_albumArtId ON Track (albumArtId);
CREATE INDEX index_Track_uri ON Track (uri);
CREATE INDEX index_AlbumArt_hash ON AlbumArt (hash);
CREATE INDEX index_PreparelistEntity_trackId ON PreparelistEntity (trackId);
";

/// The file name a track has in the Engine library (`Loopback Anthem.mp3`): the last part of
/// the demo library's path, which already ends in the title.
pub fn file_name(track: &Track) -> &str {
    track
        .file_path
        .rsplit('/')
        .next()
        .unwrap_or(&track.file_path)
}

/// `Engine Library/Music/<file>` inside a source.
pub fn music_path(track: &Track) -> String {
    format!("{MUSIC_DIR}/{}", file_name(track))
}

/// Engine's key number: the circle of fifths, major then its relative minor (0 C, 1 Am,
/// 2 G, 3 Em ... 23 Dm; `xsco/libdjinterop:include/djinterop/musical_key.hpp`).
pub fn engine_key(key: MusicalKey) -> u32 {
    // A minor key sits beside its relative major, three semitones up.
    let major_note = if key.minor { key.note + 3 } else { key.note } as u32 % 12;
    let fifths = major_note * 7 % 12;
    fifths * 2 + key.minor as u32
}

/// Seconds since 1970 of a `YYYY-MM-DD` date at midnight UTC (Engine keeps `dateAdded` as
/// Unix seconds); None for text that is not such a date.
fn unix_date(text: &str) -> Option<i64> {
    let mut it = text.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), March-based years.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// Build the database for `library` with the database uuid `uuid`; `file_bytes(track)` is the
/// size of the file the unit serves for the track (`Track.fileBytes`). Returns the SQLite
/// file's bytes.
pub fn build(
    library: &Library,
    uuid: &str,
    file_bytes: impl Fn(&Track) -> u64,
) -> rusqlite::Result<Vec<u8>> {
    let db = Connection::open_in_memory()?;
    db.execute_batch(DDL)?;
    let (major, minor, patch) = SCHEMA_VERSION;
    db.execute(
        "INSERT INTO Information (uuid, schemaVersionMajor, schemaVersionMinor,
           schemaVersionPatch, currentPlayedIndiciator, lastRekordBoxLibraryImportReadCounter)
         VALUES (?1, ?2, ?3, ?4, 0, 0)",
        params![uuid, major, minor, patch],
    )?;
    // Engine's row 1 is the empty "no art" entry (libdjinterop inserts it the same way); the
    // demo covers follow as 2, 3..., the large ones: they also lift the file past the
    // 126 976 bytes below which honusz's `getSources` takes a database for empty
    // (`stagelinq.md` 1.9 step 2).
    db.execute(
        "INSERT INTO AlbumArt (id, hash, albumArt) VALUES (1, '', NULL)",
        [],
    )?;
    for art in &library.artwork {
        db.execute(
            "INSERT INTO AlbumArt (id, hash, albumArt) VALUES (?1, ?2, ?3)",
            params![art.id + 1, format!("demo-cover-{}", art.id), art.large],
        )?;
    }
    insert_tracks(&db, library, uuid, &file_bytes)?;
    insert_playlists(&db, library, uuid)?;
    let data = db.serialize(MAIN_DB)?;
    Ok(data.to_vec())
}

fn insert_tracks(
    db: &Connection,
    library: &Library,
    uuid: &str,
    file_bytes: &dyn Fn(&Track) -> u64,
) -> rusqlite::Result<()> {
    let mut insert = db.prepare(
        "INSERT INTO Track (id, length, bpm, year, path, filename, bitrate, bpmAnalyzed,
           albumArtId, fileBytes, title, artist, album, genre, comment, label, composer,
           remixer, key, rating, albumArt, isPlayed, fileType, isAnalyzed, dateCreated,
           dateAdded, isAvailable, isMetadataOfPackedTrackChanged,
           isPerfomanceDataOfPackedTrackChanged, isMetadataImported, pdbImportKey,
           isBeatGridLocked, originDatabaseUuid, originTrackId, streamingFlags, explicitLyrics)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, '', '',
           ?17, ?18, '', 0, 'mp3', 1, ?19, ?19, 1, 0, 0, 1, 0, 0, ?20, ?1, 0, 0)",
    )?;
    for t in &library.tracks {
        let added = unix_date(&t.date_added).unwrap_or(EDIT_TIME);
        insert.execute(params![
            t.id,
            t.duration_s,
            t.bpm().round() as i64,
            t.year,
            format!("../Music/{}", file_name(t)),
            file_name(t),
            t.bitrate_kbps,
            t.bpm(),
            t.artwork_id + 1,
            file_bytes(t) as i64,
            t.title,
            library.artist_name(t),
            library.album_name(t),
            library.genre_name(t),
            t.comment,
            library.label_name(t),
            engine_key(t.key),
            // Engine rates 0-100 in steps of 20; the demo library 0-5 stars.
            u32::from(t.rating.min(5)) * 20,
            added,
            uuid,
        ])?;
    }
    Ok(())
}

/// Folders and playlists are all `Playlist` rows in Engine (a folder is a list with
/// children), ordered within a parent by `nextListId` (0 ends the chain); a list's tracks are
/// ordered by `nextEntityId`. Engine keeps a track at most once per list
/// (`C_NAME_UNIQUE_FOR_LIST`), so repeats of the demo's marathon list are dropped.
fn insert_playlists(db: &Connection, library: &Library, uuid: &str) -> rusqlite::Result<()> {
    let mut list = db.prepare(
        "INSERT INTO Playlist (id, title, parentListId, isPersisted, nextListId, lastEditTime,
           isExplicitlyExported) VALUES (?1, ?2, ?3, 1, ?4, ?5, 1)",
    )?;
    let mut entity = db.prepare(
        "INSERT INTO PlaylistEntity (id, listId, trackId, databaseUuid, nextEntityId,
           membershipReference) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
    )?;
    let mut entity_id = 0u32;
    for node in &library.playlists {
        let siblings: Vec<u32> = library.children(node.parent_id).map(|p| p.id).collect();
        let next = siblings
            .iter()
            .position(|&id| id == node.id)
            .and_then(|i| siblings.get(i + 1))
            .copied()
            .unwrap_or(0);
        list.execute(params![node.id, node.name, node.parent_id, next, EDIT_TIME])?;
        let NodeKind::Playlist(ids) = &node.kind else {
            continue;
        };
        let mut seen = Vec::new();
        for &t in ids {
            if !seen.contains(&t) && library.track(t).is_some() {
                seen.push(t);
            }
        }
        let first = entity_id + 1;
        for (i, t) in seen.iter().enumerate() {
            let id = first + i as u32;
            let next = if i + 1 < seen.len() { id + 1 } else { 0 };
            entity.execute(params![id, node.id, t, uuid, next])?;
        }
        entity_id += seen.len() as u32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(bytes: &[u8]) -> Connection {
        let mut db = Connection::open_in_memory().unwrap();
        db.deserialize_read_exact(MAIN_DB, bytes, bytes.len(), true)
            .unwrap();
        db
    }

    fn demo_db() -> Vec<u8> {
        build(&Library::demo(), "demo-uuid", |t| u64::from(t.id) * 1000).unwrap()
    }

    #[test]
    fn same_bytes_every_run_and_a_real_sqlite_file() {
        let a = demo_db();
        assert_eq!(a, demo_db());
        assert_eq!(&a[..16], b"SQLite format 3\0");
        assert_eq!(a.len() % 4096, 0, "whole pages");
        assert!(
            a.len() > 126_976,
            "honusz skips smaller databases: {}",
            a.len()
        );
    }

    #[test]
    fn tracks_in_engine_columns() {
        let lib = Library::demo();
        let db = open(&demo_db());
        type Row = (i64, String, String, String, i64, f64, i64, String, i64, i64);
        let rows: Vec<Row> = db
            .prepare(
                "SELECT id, title, artist, album, bpm, bpmAnalyzed, length, path, key, fileBytes
                 FROM Track ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), lib.tracks.len());
        let first = &rows[0];
        assert_eq!(first.1, "Loopback Anthem");
        assert_eq!(first.2, "Null Modem");
        assert_eq!(first.3, "Handshake EP");
        assert_eq!((first.4, first.5, first.6), (124, 124.0, 245));
        assert_eq!(first.7, "../Music/Loopback Anthem.mp3");
        assert_eq!(first.8, 1, "A minor is Engine key 1");
        assert_eq!(first.9, 1000);
        for (row, t) in rows.iter().zip(&lib.tracks) {
            assert_eq!(row.1, t.title);
            assert_eq!(row.5, t.bpm());
        }
        let (uuid, major, minor): (String, u32, u32) = db
            .query_row(
                "SELECT uuid, schemaVersionMajor, schemaVersionMinor FROM Information",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((uuid.as_str(), major, minor), ("demo-uuid", 2, 18));
        let (origin, art): (String, Vec<u8>) = db
            .query_row(
                "SELECT t.originDatabaseUuid, a.albumArt FROM Track t
                 JOIN AlbumArt a ON a.id = t.albumArtId WHERE t.id = 6",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(origin, "demo-uuid");
        assert_eq!(&art[..2], [0xff, 0xd8], "a JPEG cover");
    }

    #[test]
    fn playlists_in_order_with_their_tracks() {
        let lib = Library::demo();
        let db = open(&demo_db());
        // Walk the root's chain from the list nobody points at.
        let mut titles = Vec::new();
        let mut id: i64 = db
            .query_row(
                "SELECT id FROM Playlist p WHERE parentListId = 0 AND NOT EXISTS
                 (SELECT 1 FROM Playlist q WHERE q.parentListId = 0 AND q.nextListId = p.id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        while id != 0 {
            let (title, next): (String, i64) = db
                .query_row(
                    "SELECT title, nextListId FROM Playlist WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            titles.push(title);
            id = next;
        }
        assert_eq!(
            titles,
            ["Sets", "All Demo Tracks", "By Genre", "Marathon (500)"]
        );
        let warm_up: Vec<String> = db
            .prepare(
                "WITH RECURSIVE chain(id, trackId, n) AS (
                   SELECT e.id, e.trackId, 0 FROM PlaylistEntity e WHERE e.listId = 2
                     AND NOT EXISTS (SELECT 1 FROM PlaylistEntity f
                                     WHERE f.listId = 2 AND f.nextEntityId = e.id)
                   UNION ALL SELECT e.id, e.trackId, n + 1 FROM PlaylistEntity e
                     JOIN chain c ON e.id = (SELECT nextEntityId FROM PlaylistEntity
                                             WHERE id = c.id))
                 SELECT t.title FROM chain JOIN Track t ON t.id = chain.trackId ORDER BY n",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected: Vec<String> = lib
            .playlist_tracks(2)
            .iter()
            .map(|t| t.title.clone())
            .collect();
        assert_eq!(warm_up, expected);
        let marathon: i64 = db
            .query_row(
                "SELECT count(*) FROM PlaylistEntity WHERE listId = 8",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(marathon, 8, "each track once, as Engine keeps it");
    }

    #[test]
    fn engine_keys_and_dates() {
        assert_eq!(engine_key(MusicalKey::major(0)), 0);
        assert_eq!(engine_key(MusicalKey::minor(9)), 1);
        assert_eq!(engine_key(MusicalKey::major(7)), 2);
        assert_eq!(engine_key(MusicalKey::minor(4)), 3);
        assert_eq!(engine_key(MusicalKey::minor(6)), 7);
        assert_eq!(engine_key(MusicalKey::minor(2)), 23);
        assert_eq!(unix_date("1970-01-01"), Some(0));
        assert_eq!(unix_date("2025-01-01"), Some(EDIT_TIME));
        assert_eq!(unix_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(unix_date("2025-13-01"), None);
        assert_eq!(unix_date("soon"), None);
    }
}
