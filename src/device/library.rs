//! The built-in demo library an emulated player "has on its USB stick": eight made-up tracks with
//! everything a client can ask a real player's dbserver about (`prodjlink.md` 7.3), plus
//! playlists, a folder tree and one 500-entry playlist to page through.
//!
//! The data is plain and deterministic: [`Library::demo`] builds the same library every time, so
//! captures written from it are reproducible. Everything that a real collection stores as
//! analysis (beat grid, waveforms) is derived here from the track's tempo, first-beat offset and
//! duration, so a player model that plays a track at a tempo and the beat grid a client fetches
//! always agree.
//!
//! Ids follow rekordbox's habits: every table (tracks, artists, albums, genres, labels, keys,
//! artwork, playlists) numbers its rows from 1; id 0 means "none".
//!
//! * `demo`: the tables of [`Library::demo`].
//! * [`artwork`]: the album covers, real baseline JPEGs encoded at start-up.
//! * [`waveform`]: preview and detail waveform columns derived from the track.

pub mod artwork;
mod demo;
pub mod waveform;

use std::collections::BTreeMap;

pub use artwork::Artwork;
pub use waveform::WaveColumn;

/// A musical key as rekordbox names it and the CDJ-3000 status encodes it (prodjlink.md 4.2).
/// (`synth::dblookup` has the same type for its scripted lookups.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MusicalKey {
    /// 0 = C ... 11 = B.
    pub note: u8,
    pub minor: bool,
}

const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

impl MusicalKey {
    pub const fn minor(note: u8) -> Self {
        Self { note, minor: true }
    }

    pub const fn major(note: u8) -> Self {
        Self { note, minor: false }
    }

    /// `Am`, `F#`, `Eb`...
    pub fn text(self) -> String {
        let name = NOTE_NAMES[(self.note % 12) as usize];
        format!("{name}{}", if self.minor { "m" } else { "" })
    }

    /// The key's row id: 1-12 major C..B, 13-24 minor C..B. (rekordbox numbers its key table in
    /// the order it first saw each key; a fixed order keeps the demo reproducible.)
    pub fn id(self) -> u32 {
        1 + (self.note % 12) as u32 + if self.minor { 12 } else { 0 }
    }
}

/// A cue point, hot cue or loop as rekordbox stores it. Positions are milliseconds from the
/// start of the track at normal tempo; the dbserver blobs convert to their own units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CuePoint {
    /// 0 for a memory point or memory loop, 1-8 for hot cues A-H.
    pub hot_cue: u8,
    pub position_ms: u32,
    /// End of the loop, for loops.
    pub loop_end_ms: Option<u32>,
    /// rekordbox colour table id (0 = none; 1 pink ... 8 purple, `prodjlink.md` 7.3 item types
    /// `0013`-`001b`).
    pub color_id: u8,
    pub comment: String,
}

/// A track with everything rekordbox knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub id: u32,
    pub title: String,
    pub artist_id: u32,
    pub album_id: u32,
    pub genre_id: u32,
    pub label_id: u32,
    pub key: MusicalKey,
    pub duration_s: u32,
    /// Tempo x 100, what status and beat packets carry.
    pub bpm_x100: u16,
    /// Where the first beat of the grid lies, in ms.
    pub first_beat_ms: u32,
    /// 0-5 stars.
    pub rating: u8,
    /// rekordbox colour id (0 none).
    pub color_id: u8,
    pub comment: String,
    pub year: u16,
    pub bitrate_kbps: u32,
    /// `YYYY-MM-DD`.
    pub date_added: String,
    /// Where the file lives on the medium, as `2102` track info answers it.
    pub file_path: String,
    pub file_size: u32,
    pub artwork_id: u32,
    pub cues: Vec<CuePoint>,
    /// Waveforms, derived on first use and kept (the detail of a long track takes milliseconds
    /// to derive; a dbserver answers it many times).
    pub derived: Derived,
}

/// Analysis derived from a track's other fields, computed once. Equal whatever it holds: it is
/// a cache of what the other fields already say.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    preview: std::sync::OnceLock<Vec<WaveColumn>>,
    detail: std::sync::OnceLock<Vec<WaveColumn>>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Derived) -> bool {
        true
    }
}

/// One beat of a track's grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridBeat {
    /// 0-based beat number.
    pub index: u32,
    /// 1-4 (the demo tracks are all in 4/4 and start on a downbeat).
    pub beat_in_bar: u8,
    pub time_ms: u32,
}

impl Track {
    pub fn bpm(&self) -> f64 {
        self.bpm_x100 as f64 / 100.0
    }

    /// Milliseconds between beats at normal tempo.
    pub fn beat_ms(&self) -> f64 {
        6_000_000.0 / self.bpm_x100.max(1) as f64
    }

    pub fn duration_ms(&self) -> u32 {
        self.duration_s.saturating_mul(1000)
    }

    /// Time of beat `index` (0-based) in ms, whether or not it lies inside the track.
    pub fn beat_time_ms(&self, index: u32) -> u32 {
        (self.first_beat_ms as f64 + index as f64 * self.beat_ms()).round() as u32
    }

    /// How many beats of the grid lie inside the track.
    pub fn beat_count(&self) -> u32 {
        let span = self.duration_ms().saturating_sub(self.first_beat_ms) as f64;
        if self.duration_ms() <= self.first_beat_ms {
            return 0;
        }
        // Beats at first_beat + k * beat_ms strictly before the end.
        (span / self.beat_ms()).ceil() as u32
    }

    /// The beat playing at `time_ms` (the last one at or before it), none before the first.
    pub fn beat_at(&self, time_ms: u32) -> Option<GridBeat> {
        if time_ms < self.first_beat_ms || self.beat_count() == 0 {
            return None;
        }
        let mut index = ((time_ms - self.first_beat_ms) as f64 / self.beat_ms()).floor() as u32;
        index = index.min(self.beat_count() - 1);
        // Beat times are rounded to whole ms, which can put the estimate one beat off.
        if index > 0 && self.beat_time_ms(index) > time_ms {
            index -= 1;
        } else if index + 1 < self.beat_count() && self.beat_time_ms(index + 1) <= time_ms {
            index += 1;
        }
        Some(self.grid_beat(index))
    }

    fn grid_beat(&self, index: u32) -> GridBeat {
        GridBeat {
            index,
            beat_in_bar: (index % 4) as u8 + 1,
            time_ms: self.beat_time_ms(index),
        }
    }

    /// Every beat of the grid, in order.
    pub fn beat_grid(&self) -> impl Iterator<Item = GridBeat> + '_ {
        (0..self.beat_count()).map(|i| self.grid_beat(i))
    }

    /// The preview waveform: [`waveform::PREVIEW_COLUMNS`] columns over the whole track.
    pub fn waveform_preview(&self) -> &[WaveColumn] {
        self.derived.preview.get_or_init(|| waveform::preview(self))
    }

    /// The detail waveform: [`waveform::DETAIL_PER_SECOND`] columns per second.
    pub fn waveform_detail(&self) -> &[WaveColumn] {
        self.derived.detail.get_or_init(|| waveform::detail(self))
    }

    /// Hot cues (A-H) only, in letter order.
    pub fn hot_cues(&self) -> impl Iterator<Item = &CuePoint> {
        self.cues.iter().filter(|c| c.hot_cue != 0)
    }

    /// Memory points and memory loops only.
    pub fn memory_points(&self) -> impl Iterator<Item = &CuePoint> {
        self.cues.iter().filter(|c| c.hot_cue == 0)
    }
}

/// A row of a name table (artist, album, genre, label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: u32,
    pub name: String,
}

/// An album: its name, its artist and its cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Album {
    pub id: u32,
    pub name: String,
    pub artist_id: u32,
    pub artwork_id: u32,
}

/// A node of the playlist tree: a folder holding other nodes, or a playlist holding tracks
/// (a track may appear more than once, as rekordbox allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistNode {
    pub id: u32,
    /// The folder it sits in; 0 = the root.
    pub parent_id: u32,
    pub name: String,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Folder,
    Playlist(Vec<u32>),
}

impl PlaylistNode {
    pub fn is_folder(&self) -> bool {
        matches!(self.kind, NodeKind::Folder)
    }

    /// The track ids of a playlist in order (empty for a folder).
    pub fn track_ids(&self) -> &[u32] {
        match &self.kind {
            NodeKind::Playlist(ids) => ids,
            NodeKind::Folder => &[],
        }
    }
}

/// The whole collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    /// By id, in id order.
    pub tracks: Vec<Track>,
    pub artists: Vec<Named>,
    pub albums: Vec<Album>,
    pub genres: Vec<Named>,
    pub labels: Vec<Named>,
    pub artwork: Vec<Artwork>,
    /// Folders and playlists, parents before children, in the order a player lists them.
    pub playlists: Vec<PlaylistNode>,
}

/// The id of the 500-entry playlist ([`Library::demo`]), the one to page through.
pub const MARATHON_PLAYLIST: u32 = 8;
/// How many entries it has.
pub const MARATHON_LEN: usize = 500;

fn find<T>(rows: &[T], id: u32, id_of: impl Fn(&T) -> u32) -> Option<&T> {
    rows.iter().find(|r| id_of(r) == id)
}

impl Library {
    pub fn track(&self, id: u32) -> Option<&Track> {
        find(&self.tracks, id, |t| t.id)
    }

    pub fn artist(&self, id: u32) -> Option<&Named> {
        find(&self.artists, id, |r| r.id)
    }

    pub fn album(&self, id: u32) -> Option<&Album> {
        find(&self.albums, id, |r| r.id)
    }

    pub fn genre(&self, id: u32) -> Option<&Named> {
        find(&self.genres, id, |r| r.id)
    }

    pub fn label(&self, id: u32) -> Option<&Named> {
        find(&self.labels, id, |r| r.id)
    }

    pub fn artwork(&self, id: u32) -> Option<&Artwork> {
        find(&self.artwork, id, |r| r.id)
    }

    pub fn playlist(&self, id: u32) -> Option<&PlaylistNode> {
        find(&self.playlists, id, |r| r.id)
    }

    /// Folders and playlists directly inside folder `parent_id` (0 = the root), in order.
    pub fn children(&self, parent_id: u32) -> impl Iterator<Item = &PlaylistNode> {
        self.playlists
            .iter()
            .filter(move |p| p.parent_id == parent_id)
    }

    /// The tracks of a playlist in playlist order (with repeats); none for a folder or an
    /// unknown id.
    pub fn playlist_tracks(&self, id: u32) -> Vec<&Track> {
        self.playlist(id)
            .map(|p| {
                p.track_ids()
                    .iter()
                    .filter_map(|&t| self.track(t))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn tracks_by_artist(&self, artist_id: u32) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(move |t| t.artist_id == artist_id)
    }

    pub fn tracks_by_album(&self, album_id: u32) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(move |t| t.album_id == album_id)
    }

    pub fn tracks_by_genre(&self, genre_id: u32) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(move |t| t.genre_id == genre_id)
    }

    pub fn tracks_by_key(&self, key_id: u32) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(move |t| t.key.id() == key_id)
    }

    /// Albums of one artist.
    pub fn albums_by_artist(&self, artist_id: u32) -> impl Iterator<Item = &Album> {
        self.albums.iter().filter(move |a| a.artist_id == artist_id)
    }

    /// The keys that some track is in, by key id, with their names (the key browse menu).
    pub fn keys(&self) -> BTreeMap<u32, MusicalKey> {
        self.tracks.iter().map(|t| (t.key.id(), t.key)).collect()
    }

    pub fn artist_name(&self, track: &Track) -> &str {
        self.artist(track.artist_id).map_or("", |a| &a.name)
    }

    pub fn album_name(&self, track: &Track) -> &str {
        self.album(track.album_id).map_or("", |a| &a.name)
    }

    pub fn genre_name(&self, track: &Track) -> &str {
        self.genre(track.genre_id).map_or("", |g| &g.name)
    }

    pub fn label_name(&self, track: &Track) -> &str {
        self.label(track.label_id).map_or("", |l| &l.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_consistent() {
        let lib = Library::demo();
        assert_eq!(lib, Library::demo());
        assert_eq!(lib.tracks.len(), 8);
        for t in &lib.tracks {
            assert!(lib.artist(t.artist_id).is_some(), "{}", t.title);
            assert!(lib.album(t.album_id).is_some());
            assert!(lib.genre(t.genre_id).is_some());
            assert!(lib.label(t.label_id).is_some());
            assert!(lib.artwork(t.artwork_id).is_some());
            assert!(t.file_path.ends_with(".mp3") && t.file_path.contains(&t.title));
            assert_eq!(t.hot_cues().count(), 3);
            assert_eq!(t.memory_points().count(), 2);
            assert!(t.cues.iter().all(|c| c.position_ms < t.duration_ms()));
        }
        for p in &lib.playlists {
            assert!(p.parent_id == 0 || lib.playlist(p.parent_id).unwrap().is_folder());
        }
    }

    #[test]
    fn beat_grid_follows_tempo_and_first_beat() {
        let lib = Library::demo();
        let t = lib.track(1).unwrap(); // 124 BPM, first beat 120 ms, 245 s
        let grid: Vec<GridBeat> = t.beat_grid().collect();
        assert_eq!(grid.len() as u32, t.beat_count());
        // (245 000 - 120) / 483.87 -> 506.1 -> 507 beats before the end.
        assert_eq!(grid.len(), 507);
        assert_eq!(grid[0].time_ms, 120);
        assert_eq!(grid[1].time_ms, 604); // 120 + 483.87
        assert_eq!(grid[4].beat_in_bar, 1);
        assert_eq!(grid[6].beat_in_bar, 3);
        assert!(grid.last().unwrap().time_ms < t.duration_ms());
        assert!(grid.windows(2).all(|w| w[1].time_ms > w[0].time_ms));
        // beat_at is the beat at or before a time.
        assert_eq!(t.beat_at(119), None);
        assert_eq!(t.beat_at(120).unwrap().index, 0);
        assert_eq!(t.beat_at(603).unwrap().index, 0);
        assert_eq!(t.beat_at(604).unwrap().index, 1);
        assert_eq!(t.beat_at(u32::MAX).unwrap().index, 506);
        for b in &grid {
            assert_eq!(t.beat_at(b.time_ms), Some(*b));
        }
    }

    #[test]
    fn lookups_by_row() {
        let lib = Library::demo();
        let titles = |it: &mut dyn Iterator<Item = &Track>| -> Vec<String> {
            it.map(|t| t.title.clone()).collect()
        };
        assert_eq!(
            titles(&mut lib.tracks_by_artist(1)),
            ["Loopback Anthem", "Keep Alive", "Departure"]
        );
        assert_eq!(titles(&mut lib.tracks_by_album(4)).len(), 2);
        assert_eq!(
            titles(&mut lib.tracks_by_genre(4)),
            ["Precise Position", "Claim Stage Three"]
        );
        let am = MusicalKey::minor(9);
        assert_eq!(am.text(), "Am");
        assert_eq!(titles(&mut lib.tracks_by_key(am.id())), ["Loopback Anthem"]);
        assert_eq!(lib.keys().len(), 8);
        assert_eq!(lib.albums_by_artist(1).count(), 2);
        assert_eq!(lib.artist_name(lib.track(6).unwrap()), "Opus Four");
        assert!(lib.track(0).is_none() && lib.track(9).is_none());
    }

    #[test]
    fn folder_tree_and_playlists() {
        let lib = Library::demo();
        let names = |parent| -> Vec<&str> { lib.children(parent).map(|p| &p.name[..]).collect() };
        assert_eq!(
            names(0),
            ["Sets", "All Demo Tracks", "By Genre", "Marathon (500)"]
        );
        assert_eq!(names(1), ["Warm Up", "Peak Time"]);
        assert_eq!(names(6), ["Drum & Bass"]);
        assert_eq!(lib.playlist_tracks(2)[0].title, "Magic Header");
        assert!(lib.playlist_tracks(1).is_empty(), "a folder has no tracks");
        let marathon = lib.playlist_tracks(MARATHON_PLAYLIST);
        assert_eq!(marathon.len(), MARATHON_LEN);
        assert_eq!(marathon[1].id, 4);
    }

    #[test]
    fn cues_sit_on_beats() {
        let lib = Library::demo();
        let t = lib.track(3).unwrap();
        let ks: Vec<u32> = t.beat_grid().map(|b| b.time_ms).collect();
        for c in &t.cues {
            assert!(ks.contains(&c.position_ms), "{c:?}");
            if let Some(end) = c.loop_end_ms {
                assert!(ks.contains(&end));
                assert_eq!(
                    t.beat_at(end).unwrap().index - t.beat_at(c.position_ms).unwrap().index,
                    16
                );
            }
        }
    }
}
