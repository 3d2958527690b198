//! The demo collection's data: which tracks, by whom, on which albums, in which playlists, and
//! where their cue points sit. Plain tables, so a reader sees the whole library on one page.

use super::{Album, Artwork, CuePoint, Library, MusicalKey, Named, NodeKind, PlaylistNode, Track};
use super::{MARATHON_LEN, MARATHON_PLAYLIST};

impl Library {
    /// The demo collection: eight tracks by four artists on five albums in five genres.
    pub fn demo() -> Library {
        let named = |names: &[&str]| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| Named {
                    id: i as u32 + 1,
                    name: n.to_string(),
                })
                .collect::<Vec<_>>()
        };
        let artists = named(&["Null Modem", "Sync Bit", "Qspt Collective", "Opus Four"]);
        let genres = named(&["Techno", "House", "Deep House", "Drum & Bass", "Ambient"]);
        let labels = named(&["Port 1051 Records", "Fader Start Audio", "Mixer Status"]);
        // (name, artist id); the album's cover has the album's id.
        let album_rows = [
            ("Handshake EP", 1),
            ("Beat Packets", 2),
            ("Big Endian", 3),
            ("Channel Two", 4),
            ("Link Info", 1),
        ];
        let albums: Vec<Album> = album_rows
            .iter()
            .enumerate()
            .map(|(i, (name, artist_id))| Album {
                id: i as u32 + 1,
                name: name.to_string(),
                artist_id: *artist_id,
                artwork_id: i as u32 + 1,
            })
            .collect();
        let artwork = albums
            .iter()
            .map(|a| Artwork::generate(a.artwork_id))
            .collect();

        // (title, album, genre, label, key, bpm x100, duration s, first beat ms, rating, colour,
        // year, comment)
        type Row = (
            &'static str,
            u32,
            u32,
            u32,
            MusicalKey,
            u16,
            u32,
            u32,
            u8,
            u8,
            u16,
            &'static str,
        );
        let rows: [Row; 8] = [
            (
                "Loopback Anthem",
                1,
                1,
                1,
                MusicalKey::minor(9),
                12400,
                245,
                120,
                5,
                6,
                2024,
                "opener",
            ),
            (
                "Keep Alive",
                1,
                1,
                1,
                MusicalKey::minor(5),
                12600,
                312,
                48,
                4,
                0,
                2024,
                "long blend out",
            ),
            (
                "Tempo Master",
                2,
                2,
                2,
                MusicalKey::major(0),
                12200,
                388,
                250,
                3,
                3,
                2023,
                "vocal at 2:10",
            ),
            (
                "Half Frames",
                2,
                2,
                2,
                MusicalKey::major(7),
                12050,
                275,
                0,
                4,
                0,
                2023,
                "",
            ),
            (
                "Magic Header",
                3,
                3,
                1,
                MusicalKey::minor(3),
                11800,
                421,
                312,
                5,
                8,
                2022,
                "deep, warm-up",
            ),
            (
                "Precise Position",
                4,
                4,
                3,
                MusicalKey::minor(6),
                17400,
                298,
                86,
                4,
                2,
                2025,
                "rollers",
            ),
            (
                "Claim Stage Three",
                4,
                4,
                3,
                MusicalKey::major(10),
                17200,
                256,
                174,
                3,
                0,
                2025,
                "",
            ),
            (
                "Departure",
                5,
                5,
                1,
                MusicalKey::major(2),
                9200,
                512,
                1000,
                2,
                7,
                2021,
                "closer",
            ),
        ];
        let tracks: Vec<Track> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (title, album_id, genre_id, label_id, key, bpm_x100, duration_s) =
                    (r.0, r.1, r.2, r.3, r.4, r.5, r.6);
                let album = &albums[album_id as usize - 1];
                let id = i as u32 + 1;
                let artist = &artists[album.artist_id as usize - 1].name;
                // 320 kbps MP3: 40 000 bytes a second plus a 4 KiB tag.
                let file_size = duration_s * 40_000 + 4096;
                let mut track = Track {
                    id,
                    title: title.to_string(),
                    artist_id: album.artist_id,
                    album_id,
                    genre_id,
                    label_id,
                    key,
                    duration_s,
                    bpm_x100,
                    first_beat_ms: r.7,
                    rating: r.8,
                    color_id: r.9,
                    comment: r.11.to_string(),
                    year: r.10,
                    bitrate_kbps: 320,
                    date_added: format!("2025-0{}-1{}", 1 + i % 9, i % 10),
                    file_path: format!("/Contents/{artist}/{}/{title}.mp3", album.name),
                    file_size,
                    artwork_id: album.artwork_id,
                    cues: Vec::new(),
                    derived: Default::default(),
                };
                track.cues = demo_cues(&track);
                track
            })
            .collect();

        let all: Vec<u32> = tracks.iter().map(|t| t.id).collect();
        let marathon: Vec<u32> = (0..MARATHON_LEN)
            .map(|i| all[(i * 3) % all.len()])
            .collect();
        let node = |id, parent_id, name: &str, kind| PlaylistNode {
            id,
            parent_id,
            name: name.to_string(),
            kind,
        };
        let playlists = vec![
            node(1, 0, "Sets", NodeKind::Folder),
            node(2, 1, "Warm Up", NodeKind::Playlist(vec![5, 4, 3, 8])),
            node(3, 1, "Peak Time", NodeKind::Playlist(vec![1, 2, 6, 7])),
            node(4, 0, "All Demo Tracks", NodeKind::Playlist(all)),
            node(5, 0, "By Genre", NodeKind::Folder),
            node(6, 5, "Bass", NodeKind::Folder),
            node(7, 6, "Drum & Bass", NodeKind::Playlist(vec![6, 7])),
            node(
                MARATHON_PLAYLIST,
                0,
                "Marathon (500)",
                NodeKind::Playlist(marathon),
            ),
        ];

        Library {
            tracks,
            artists,
            albums,
            genres,
            labels,
            artwork,
            playlists,
        }
    }
}

/// Cue points the way a DJ would set them on a 4/4 track: a memory point and hot cue A on the
/// first beat, hot cue B 16 bars in, hot cue C a third of the way in (coloured, with a comment,
/// which only the extended list carries), and a 4-bar memory loop 32 bars in.
fn demo_cues(t: &Track) -> Vec<CuePoint> {
    let bar = |n: u32| t.beat_time_ms(n * 4);
    let third_bar = t.beat_count() / 12;
    let cue = |hot_cue, position_ms, color_id, comment: &str| CuePoint {
        hot_cue,
        position_ms,
        loop_end_ms: None,
        color_id,
        comment: comment.to_string(),
    };
    vec![
        cue(0, t.first_beat_ms, 0, ""),
        cue(1, t.first_beat_ms, 0, ""),
        cue(2, bar(16), 0, ""),
        cue(3, bar(third_bar), 5, "drop"),
        CuePoint {
            loop_end_ms: Some(bar(36)),
            ..cue(0, bar(32), 0, "4-bar loop")
        },
    ]
}
