//! What tracks are, as dbserver answers in the same capture revealed them.
//!
//! The dbserver stream tracker attaches a `track` object to the record that completes a
//! metadata exchange (`player`, `slot`, `rekordbox_id`, `title`, `artist`, `album`, `bpm`,
//! `duration_s`, `key`, `genre`); the session keeps them by (player, slot, rekordbox id) so a
//! deck's load event can name its track.

use serde::Serialize;

use crate::dissect::Value;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TrackKey {
    /// Player whose media holds the track.
    pub player: u32,
    /// Slot name as the status packet gives it (`usb`, `sd`, `rekordbox`...).
    pub slot: String,
    pub rekordbox_id: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackInfo {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    pub key: Option<String>,
    pub bpm: Option<f64>,
    pub duration_s: Option<u64>,
}

impl TrackInfo {
    /// `'Title' by 'Artist', 128.00 BPM, 4:32, key Am`
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut head = match &self.title {
            Some(t) => format!("'{t}'"),
            None => "untitled".to_string(),
        };
        if let Some(a) = &self.artist {
            head.push_str(&format!(" by '{a}'"));
        }
        parts.push(head);
        if let Some(b) = self.bpm {
            parts.push(format!("{b:.2} BPM"));
        }
        if let Some(d) = self.duration_s {
            parts.push(format!("{}:{:02}", d / 60, d % 60));
        }
        if let Some(k) = &self.key {
            parts.push(format!("key {k}"));
        }
        parts.join(", ")
    }

    /// From the `track` object a dbserver record carries.
    pub fn from_value(v: &Value) -> Option<(TrackKey, TrackInfo)> {
        let Value::Obj(items) = v else { return None };
        let get = |n: &str| items.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        let text = |n: &str| {
            get(n)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let key = TrackKey {
            player: get("player")?.as_u64()? as u32,
            slot: text("slot")?,
            rekordbox_id: get("rekordbox_id")?.as_u64()? as u32,
        };
        Some((
            key,
            TrackInfo {
                title: text("title"),
                artist: text("artist"),
                album: text("album"),
                genre: text("genre"),
                key: text("key"),
                bpm: get("bpm").and_then(Value::as_f64),
                duration_s: get("duration_s").and_then(Value::as_u64),
            },
        ))
    }
}
