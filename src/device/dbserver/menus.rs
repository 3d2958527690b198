//! Menu rows (`4101` items) a player renders from its library: the root menu, the browse
//! menus and their drill-downs, playlists and folders, search, track metadata and track info.
//!
//! Item shapes follow real players: root entries wrapped in U+FFFA...U+FFFB with the menu's id
//! (S05; python-prodj-link#33 lists the ids), track rows as "title plus artist column" `0704`
//! with flags `01000000`, the artwork id, the 1-based position and `0x100` in argument 11
//! (S05), metadata as the 13 items of a CDJ-2000NXS fw 1.44 (`prodjlink.md` 7.3, S10j), track
//! info as S10j's six items with the path in an item of type 0 whose parent is the file size
//! (UE §5.9; prolink-connect needs that item, `clients.md` 3.3(c)).

use crate::dbserver::menu_item::MenuItem;
use crate::dbserver::requests::MenuRequest;
use crate::dbserver::DbString;
use crate::device::library::{Library, NodeKind, Track};

/// Item types (`prodjlink.md` 7.3, argument 7 of `4101`).
mod item_type {
    pub const PATH: u32 = 0x0000;
    pub const FOLDER: u32 = 0x0001;
    pub const ALBUM: u32 = 0x0002;
    pub const TITLE: u32 = 0x0004;
    pub const GENRE: u32 = 0x0006;
    pub const ARTIST: u32 = 0x0007;
    pub const PLAYLIST: u32 = 0x0008;
    pub const RATING: u32 = 0x000a;
    pub const DURATION: u32 = 0x000b;
    pub const TEMPO: u32 = 0x000d;
    pub const LABEL: u32 = 0x000e;
    pub const KEY: u32 = 0x000f;
    pub const BITRATE: u32 = 0x0010;
    /// `0013` no colour ... `001b` purple.
    pub const COLOR_NONE: u32 = 0x0013;
    pub const COMMENT: u32 = 0x0023;
    pub const DATE_ADDED: u32 = 0x002e;
    /// Sixth item of S10j's track info, meaning unknown.
    pub const TRACK_INFO_2F: u32 = 0x002f;
    /// Title with the artist column (`XX04` with `XX` = `07`).
    pub const TITLE_ARTIST: u32 = 0x0704;
}

/// The root menu: (menu id, item type, label). Ids as python-prodj-link#33 prints a real
/// XDJ's root menu (GENRE 1, ARTIST 2, ALBUM 3, TRACK 4, PLAYLIST 5, KEY 12, FOLDER 17,
/// SEARCH 18); item types `0080`... from `prodjlink.md` 7.3.
const ROOT: [(u32, u32, &str); 8] = [
    (1, 0x80, "GENRE"),
    (2, 0x81, "ARTIST"),
    (3, 0x82, "ALBUM"),
    (4, 0x83, "TRACK"),
    (12, 0x8b, "KEY"),
    (5, 0x84, "PLAYLIST"),
    (17, 0x90, "FOLDER"),
    (18, 0x91, "SEARCH"),
];

/// The root folder in a `2006` folder request.
pub const ROOT_FOLDER: u32 = 0xffff_ffff;
/// "ALL" in a depth-3 drill-down (`prodjlink.md` 7.3 `1301`).
const ALL: u32 = 0xffff_ffff;

fn row(parent_id: u32, id: u32, item_type: u32, label: &str) -> MenuItem {
    MenuItem {
        parent_id,
        id,
        label1: DbString::new(label),
        label2: DbString::new(""),
        item_type,
        ..MenuItem::default()
    }
}

/// A track row as real players list tracks: title, artist beside it.
fn track_row(lib: &Library, t: &Track, position: usize) -> MenuItem {
    MenuItem {
        parent_id: t.artist_id,
        id: t.id,
        label1: DbString::new(&t.title),
        label2: DbString::new(lib.artist_name(t)),
        item_type: item_type::TITLE_ARTIST,
        flags: 0x0100_0000,
        artwork_id: t.artwork_id,
        position: position as u32 + 1,
        unknown_11: 0x100,
        unknown_12: 0,
    }
}

fn track_rows<'a>(lib: &Library, tracks: impl IntoIterator<Item = &'a Track>) -> Vec<MenuItem> {
    tracks
        .into_iter()
        .enumerate()
        .map(|(i, t)| track_row(lib, t, i))
        .collect()
}

/// The rows a menu request (`1000`-`18xx`, `2006`) asks for; `None` for a menu the demo
/// library cannot answer (history, BPM, year...: answered `4003` like other unknown requests).
pub fn menu(lib: &Library, req: &MenuRequest) -> Option<Vec<MenuItem>> {
    let p = |i: usize| req.params.get(i).copied().unwrap_or(0);
    let named = |rows: &[crate::device::library::Named], t| {
        rows.iter().map(|r| row(0, r.id, t, &r.name)).collect()
    };
    Some(match req.message_type {
        0x1000 => ROOT
            .iter()
            .map(|&(id, t, label)| row(0, id, t, &format!("\u{fffa}{label}\u{fffb}")))
            .collect(),
        0x1001 => named(&lib.genres, item_type::GENRE),
        0x1002 => named(&lib.artists, item_type::ARTIST),
        0x1003 => lib
            .albums
            .iter()
            .map(|a| row(a.artist_id, a.id, item_type::ALBUM, &a.name))
            .collect(),
        0x1004 => track_rows(lib, &lib.tracks),
        0x100a => named(&lib.labels, item_type::LABEL),
        0x1014 => lib
            .keys()
            .into_iter()
            .map(|(id, k)| row(0, id, item_type::KEY, &k.text()))
            .collect(),
        // Artists in a genre.
        0x1101 => lib
            .artists
            .iter()
            .filter(|a| lib.tracks_by_genre(p(1)).any(|t| t.artist_id == a.id))
            .map(|a| row(p(1), a.id, item_type::ARTIST, &a.name))
            .collect(),
        // Albums of an artist.
        0x1102 => lib
            .albums_by_artist(p(1))
            .map(|a| row(a.artist_id, a.id, item_type::ALBUM, &a.name))
            .collect(),
        // Tracks of an album.
        0x1103 => track_rows(lib, lib.tracks_by_album(p(1))),
        0x1105 => playlist_menu(lib, p(1), p(2) == 1),
        // Artists on a label.
        0x110a => lib
            .artists
            .iter()
            .filter(|a| lib.tracks_by_artist(a.id).any(|t| t.label_id == p(1)))
            .map(|a| row(p(1), a.id, item_type::ARTIST, &a.name))
            .collect(),
        // Tracks in a key (the demo has no key neighbours beyond the key itself).
        0x1114 => track_rows(lib, lib.tracks_by_key(p(1))),
        // Albums for genre + artist, tracks for artist + album.
        0x1201 => lib
            .albums_by_artist(p(2))
            .filter(|a| lib.tracks_by_album(a.id).any(|t| t.genre_id == p(1)))
            .map(|a| row(a.artist_id, a.id, item_type::ALBUM, &a.name))
            .collect(),
        0x1202 => track_rows(
            lib,
            lib.tracks_by_album(p(2)).filter(|t| t.artist_id == p(1)),
        ),
        // Tracks for genre / artist / album, each possibly ALL.
        0x1301 => {
            let fits = |want: u32, have: u32| want == ALL || want == have;
            track_rows(
                lib,
                lib.tracks.iter().filter(|t| {
                    fits(p(1), t.genre_id) && fits(p(2), t.artist_id) && fits(p(3), t.album_id)
                }),
            )
        }
        0x2006 => folder_menu(lib, p(1)),
        _ => return None,
    })
}

/// `1105`: the folders and playlists inside folder `id` (0 = the root), or a playlist's tracks.
fn playlist_menu(lib: &Library, id: u32, folder: bool) -> Vec<MenuItem> {
    let is_folder = id == 0 || folder || lib.playlist(id).is_some_and(|p| p.is_folder());
    if !is_folder {
        return track_rows(lib, lib.playlist_tracks(id));
    }
    lib.children(id)
        .map(|p| {
            let t = match p.kind {
                NodeKind::Folder => item_type::FOLDER,
                NodeKind::Playlist(_) => item_type::PLAYLIST,
            };
            row(p.parent_id, p.id, t, &p.name)
        })
        .collect()
}

/// The directories of the medium, derived from the tracks' paths: (id, parent id, name,
/// full path). Ids number the directories in path order from 1; the root is [`ROOT_FOLDER`].
fn directories(lib: &Library) -> Vec<(u32, u32, String, String)> {
    let mut paths: Vec<String> = Vec::new();
    for t in &lib.tracks {
        let mut dir = t.file_path.as_str();
        while let Some(cut) = dir.rfind('/').filter(|&c| c > 0) {
            dir = &dir[..cut];
            paths.push(dir.to_string());
        }
    }
    paths.sort();
    paths.dedup();
    let id_of = |p: &str, paths: &[String]| {
        paths
            .iter()
            .position(|q| q == p)
            .map_or(ROOT_FOLDER, |i| i as u32 + 1)
    };
    paths
        .iter()
        .map(|p| {
            let (parent, name) = p.rsplit_once('/').unwrap_or(("", p));
            (
                id_of(p, &paths),
                id_of(parent, &paths),
                name.to_string(),
                p.clone(),
            )
        })
        .collect()
}

/// `2006`: sub-folders, then the files, of one folder of the medium.
fn folder_menu(lib: &Library, folder_id: u32) -> Vec<MenuItem> {
    let dirs = directories(lib);
    let path = dirs
        .iter()
        .find(|d| d.0 == folder_id)
        .map_or(String::new(), |d| d.3.clone());
    if folder_id != ROOT_FOLDER && path.is_empty() {
        return Vec::new();
    }
    let mut items: Vec<MenuItem> = dirs
        .iter()
        .filter(|d| d.1 == folder_id)
        .map(|d| row(folder_id, d.0, item_type::FOLDER, &d.2))
        .collect();
    let files = lib
        .tracks
        .iter()
        .filter(|t| t.file_path.rsplit_once('/').map(|(dir, _)| dir) == Some(path.as_str()));
    for t in files {
        let name = t.file_path.rsplit('/').next().unwrap_or("");
        items.push(MenuItem {
            artwork_id: t.artwork_id,
            ..row(folder_id, t.id, item_type::TITLE, name)
        });
    }
    items
}

/// `1300`: tracks whose title or artist holds `text` (the client sends it in capitals).
pub fn search(lib: &Library, text: &str) -> Vec<MenuItem> {
    let needle = text.trim_end_matches('\0').to_uppercase();
    track_rows(
        lib,
        lib.tracks.iter().filter(|t| {
            t.title.to_uppercase().contains(&needle)
                || lib.artist_name(t).to_uppercase().contains(&needle)
        }),
    )
}

/// `2002`: the 13 metadata items, title first (S10j's order).
pub fn metadata(lib: &Library, t: &Track) -> Vec<MenuItem> {
    let title = MenuItem {
        artwork_id: t.artwork_id,
        flags: 0x0100_0000,
        unknown_11: 0x100,
        ..row(t.artist_id, t.id, item_type::TITLE, &t.title)
    };
    vec![
        title,
        row(1, t.artist_id, item_type::ARTIST, lib.artist_name(t)),
        row(0, t.album_id, item_type::ALBUM, lib.album_name(t)),
        row(0, t.duration_s, item_type::DURATION, ""),
        row(0, t.bpm_x100 as u32, item_type::TEMPO, ""),
        row(0, t.id, item_type::COMMENT, &t.comment),
        row(1, t.key.id(), item_type::KEY, &t.key.text()),
        row(0, t.rating as u32, item_type::RATING, ""),
        row(0, 0, item_type::COLOR_NONE + t.color_id.min(8) as u32, ""),
        row(1, t.genre_id, item_type::GENRE, lib.genre_name(t)),
        row(0, t.id, item_type::DATE_ADDED, &t.date_added),
        row(0, t.bitrate_kbps, item_type::BITRATE, ""),
        row(0, t.label_id, item_type::LABEL, lib.label_name(t)),
    ]
}

/// `2102`: track info, six items as S10j's server sends them, the path in the type-0 item.
pub fn track_info(t: &Track) -> Vec<MenuItem> {
    vec![
        row(0, t.id, item_type::TITLE, &t.title),
        row(0, t.duration_s, item_type::DURATION, ""),
        row(0, t.bpm_x100 as u32, item_type::TEMPO, ""),
        row(0, t.id, item_type::COMMENT, &t.comment),
        row(t.file_size, t.id, item_type::PATH, &t.file_path),
        row(0, 1, item_type::TRACK_INFO_2F, ""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::menu_item::ItemValue;
    use crate::dbserver::requests::Dmst;

    fn req(message_type: u16, params: &[u32]) -> MenuRequest {
        MenuRequest {
            message_type,
            dmst: Dmst::default(),
            params: params.to_vec(),
        }
    }

    fn labels(items: &[MenuItem]) -> Vec<String> {
        items.iter().map(|i| i.label1.text()).collect()
    }

    #[test]
    fn browse_menus() {
        let lib = Library::demo();
        let root = menu(&lib, &MenuRequest::root_menu(Dmst::default())).unwrap();
        assert_eq!(root.len(), 8);
        assert_eq!(root[0].kind_name(), Some("genre_menu"));
        assert_eq!(root[0].label1.text(), "\u{fffa}GENRE\u{fffb}");
        assert_eq!(menu(&lib, &req(0x1002, &[0])).unwrap().len(), 4);
        assert_eq!(
            labels(&menu(&lib, &req(0x1102, &[0, 1])).unwrap()),
            ["Handshake EP", "Link Info"]
        );
        assert_eq!(menu(&lib, &req(0x1103, &[0, 2])).unwrap().len(), 2);
        assert_eq!(
            labels(&menu(&lib, &req(0x1101, &[0, 4])).unwrap()),
            ["Opus Four"]
        );
        assert_eq!(menu(&lib, &req(0x1014, &[0])).unwrap().len(), 8);
        assert_eq!(menu(&lib, &req(0x100a, &[0])).unwrap().len(), 3);
        assert_eq!(
            labels(&menu(&lib, &req(0x110a, &[0, 3])).unwrap()),
            ["Opus Four"]
        );
        let am = crate::device::library::MusicalKey::minor(9).id();
        assert_eq!(
            labels(&menu(&lib, &req(0x1114, &[0, am])).unwrap()),
            ["Loopback Anthem"]
        );
        assert_eq!(menu(&lib, &req(0x1202, &[0, 1, 5])).unwrap().len(), 1);
        assert_eq!(
            menu(&lib, &req(0x1301, &[0, ALL, 1, ALL])).unwrap().len(),
            3
        );
        assert!(menu(&lib, &req(0x1008, &[0])).is_none(), "no year menu");
        let rows = menu(&lib, &req(0x1004, &[0])).unwrap();
        assert!(
            matches!(rows[0].value(), ItemValue::Track { ref title, .. } if title == "Loopback Anthem")
        );
        assert_eq!(rows[7].position, 8);
    }

    #[test]
    fn playlists_and_folders() {
        let lib = Library::demo();
        let top = menu(&lib, &req(0x1105, &[0, 0, 0])).unwrap();
        assert_eq!(
            labels(&top),
            ["Sets", "All Demo Tracks", "By Genre", "Marathon (500)"]
        );
        assert_eq!(top[0].kind_name(), Some("folder"));
        assert_eq!(top[1].kind_name(), Some("playlist"));
        assert_eq!(
            labels(&menu(&lib, &req(0x1105, &[0, 1, 1])).unwrap()),
            ["Warm Up", "Peak Time"]
        );
        let marathon = menu(&lib, &req(0x1105, &[0, 8, 0])).unwrap();
        assert_eq!(marathon.len(), 500);
        assert_eq!(marathon[499].position, 500);
        // The medium's folders: /Contents, then artists, albums, files.
        let root = menu(&lib, &req(0x2006, &[0, ROOT_FOLDER, 0])).unwrap();
        assert_eq!(labels(&root), ["Contents"]);
        let artists = menu(&lib, &req(0x2006, &[0, root[0].id, 0])).unwrap();
        assert_eq!(artists.len(), 4);
        let albums = menu(&lib, &req(0x2006, &[0, artists[0].id, 0])).unwrap();
        let files = menu(&lib, &req(0x2006, &[0, albums[0].id, 0])).unwrap();
        assert!(
            files.iter().all(|f| f.label1.text().ends_with(".mp3")),
            "{:?}",
            labels(&files)
        );
        assert!(menu(&lib, &req(0x2006, &[0, 999, 0])).unwrap().is_empty());
    }

    #[test]
    fn metadata_and_track_info_hold_what_clients_need() {
        let lib = Library::demo();
        let t = lib.track(1).unwrap();
        let items = metadata(&lib, t);
        // prolink-connect's mandatory items: title, duration, tempo, comment, rating.
        for kind in [0x04, 0x0b, 0x0d, 0x23, 0x0a] {
            assert!(items.iter().any(|i| i.kind() == kind), "{kind:02x}");
        }
        assert_eq!(items[4].value(), ItemValue::Tempo { bpm_x100: 12400 });
        let info = track_info(t);
        let path = info.iter().find(|i| i.kind() == 0).unwrap();
        assert_eq!(path.label1.text(), t.file_path);
        assert_eq!(path.parent_id, t.file_size);
        assert_eq!(labels(&search(&lib, "MODEM")).len(), 3);
        assert_eq!(labels(&search(&lib, "ANTHEM")), ["Loopback Anthem"]);
    }
}
