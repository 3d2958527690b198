//! Every dbserver message type the reference lists (`prodjlink.md` 7.3, with argument names
//! from DYS-T/DYS-MN and BL `Message.KnownType`), and the names of the small enumerations the
//! arguments carry (slots, menus, sort orders, item types).

/// What an argument holds; drives its meaning in the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// requester:menu:slot:track-type packed in a 4-byte number (`prodjlink.md` 7.2).
    Dmst,
    /// Message type of the request being answered.
    RequestType,
    /// Number of results; `ffffffff` means "not found" (DYS-T).
    Count,
    /// Sort order id (`prodjlink.md` 7.3 "Sort ids").
    Sort,
    /// A number with the meaning its name gives.
    Number,
    /// A number whose purpose nobody knows (it is still decoded).
    Unknown,
    /// Byte length of the string or blob that follows.
    Length,
    /// UTF-16 text.
    Text,
    /// A blob, interpreted by its kind.
    Blob(BlobKind),
    /// Menu item type (`prodjlink.md` 7.3 "Item types").
    ItemType,
    /// ANLZ section tag, four ASCII characters byte-reversed (`2c04`).
    AnlzTag,
    /// ANLZ file extension, byte-reversed (`DAT`, `EXT`, `2EX`).
    AnlzFile,
}

/// What a blob argument contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    Artwork,
    WaveformPreview,
    WaveformDetail,
    BeatGrid,
    CueList,
    ExtendedCueList,
    AnlzTag,
    VbrIndex,
    /// A blob whose content nobody has described.
    Opaque,
}

/// A known message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageKind {
    pub code: u16,
    /// Stable snake_case name (the Dissection `type_name`).
    pub name: &'static str,
    /// Plain-language description.
    pub description: &'static str,
    /// Argument names and roles, in order; arguments past the list are shown as `argN`.
    pub args: &'static [(&'static str, Role)],
}

use BlobKind as B;
use Role::*;

const SORT: (&str, Role) = ("sort", Sort);
const DMST: (&str, Role) = ("dmst", Dmst);

macro_rules! kinds {
    ($( $code:literal $name:literal $desc:literal [ $($arg:expr),* ] ;)*) => {
        /// Every message type `prodjlink.md` 7.3 lists, in code order.
        pub const KINDS: &[MessageKind] = &[
            $( MessageKind { code: $code, name: $name, description: $desc, args: &[$($arg),*] }, )*
        ];
    };
}

kinds! {
    0x0000 "setup_request" "context setup" [("requester", Number)];
    0x0001 "menu_close" "menu close (no reply)" [];
    0x0100 "teardown_request" "teardown" [];
    0x1000 "root_menu_request" "root menu" [DMST, SORT, ("arg3", Unknown)];
    0x1001 "genre_menu_request" "genre menu" [DMST, SORT];
    0x1002 "artist_menu_request" "artist menu" [DMST, SORT];
    0x1003 "album_menu_request" "album menu" [DMST, SORT];
    0x1004 "track_menu_request" "track menu" [DMST, SORT];
    0x1006 "bpm_menu_request" "BPM menu" [DMST, SORT];
    0x1007 "rating_menu_request" "rating menu" [DMST, SORT];
    0x1008 "year_menu_request" "year menu" [DMST, SORT];
    0x100a "label_menu_request" "label menu" [DMST, SORT];
    0x100d "color_menu_request" "colour menu" [DMST, SORT];
    0x1010 "time_menu_request" "time menu" [DMST, SORT];
    0x1011 "bitrate_menu_request" "bitrate menu" [DMST, SORT];
    0x1012 "history_menu_request" "history menu" [DMST, SORT];
    0x1013 "filename_menu_request" "filename menu" [DMST, SORT];
    0x1014 "key_menu_request" "key menu" [DMST, SORT];
    0x1101 "artists_for_genre_request" "artists for a genre" [DMST, SORT, ("genre_id", Number)];
    0x1102 "albums_for_artist_request" "albums for an artist" [DMST, SORT, ("artist_id", Number)];
    0x1103 "tracks_for_album_request" "tracks for an album" [DMST, SORT, ("album_id", Number)];
    0x1105 "playlist_request" "playlist or folder" [DMST, SORT, ("playlist_id", Number), ("is_folder", Number)];
    0x1106 "bpm_range_request" "tempo ranges around a tempo" [DMST, SORT, ("tempo", Number)];
    0x1107 "tracks_for_rating_request" "tracks for a rating" [DMST, SORT, ("rating_id", Number)];
    0x1108 "years_for_decade_request" "years for a decade" [DMST, SORT, ("decade", Number)];
    0x110a "artists_for_label_request" "artists for a label" [DMST, SORT, ("label_id", Number)];
    0x110d "tracks_for_color_request" "tracks for a colour" [DMST, SORT, ("color_id", Number)];
    0x1110 "tracks_for_time_request" "tracks for a time" [DMST, SORT, ("time", Number)];
    0x1111 "tracks_for_bitrate_request" "tracks for a bitrate" [DMST, SORT, ("bitrate", Number)];
    0x1112 "tracks_for_history_request" "tracks for a history entry" [DMST, SORT, ("history_id", Number)];
    0x1114 "key_neighbours_request" "key neighbours" [DMST, SORT, ("key_id", Number)];
    0x1201 "albums_for_genre_artist_request" "albums for a genre and artist" [DMST, SORT, ("genre_id", Number), ("artist_id", Number)];
    0x1202 "tracks_for_artist_album_request" "tracks for an artist and album" [DMST, SORT, ("artist_id", Number), ("album_id", Number)];
    0x1206 "tracks_for_bpm_distance_request" "tracks within a tempo distance" [DMST, SORT, ("bpm_id", Number), ("distance", Number)];
    0x1208 "tracks_for_decade_year_request" "tracks for a decade and year" [DMST, SORT, ("decade", Number), ("year", Number)];
    0x120a "albums_for_label_artist_request" "albums for a label and artist" [DMST, SORT, ("label_id", Number), ("artist_id", Number)];
    0x1214 "tracks_near_key_request" "tracks near a key" [DMST, SORT, ("key_id", Number), ("distance", Number)];
    0x1300 "search_request" "search by substring" [DMST, SORT, ("search_bytes", Length), ("search_text", Text), ("arg5", Unknown)];
    0x1301 "tracks_for_genre_artist_album_request" "tracks for a genre, artist and album" [DMST, SORT, ("genre_id", Number), ("artist_id", Number), ("album_id", Number)];
    0x1302 "original_artist_menu_request" "original artist menu" [DMST, SORT];
    0x130a "tracks_for_label_artist_album_request" "tracks for a label, artist and album" [DMST, SORT, ("label_id", Number), ("artist_id", Number), ("album_id", Number)];
    0x1400 "sort_orders_request" "available sort orders" [DMST, ("arg2", Unknown), ("arg3", Unknown)];
    0x1402 "albums_for_original_artist_request" "albums for an original artist" [DMST, SORT, ("artist_id", Number)];
    0x1502 "tracks_for_original_artist_album_request" "tracks for an original artist and album" [DMST, SORT, ("artist_id", Number), ("album_id", Number)];
    0x1602 "remixer_menu_request" "remixer menu" [DMST, SORT];
    0x1702 "albums_for_remixer_request" "albums for a remixer" [DMST, SORT, ("artist_id", Number)];
    0x1802 "tracks_for_remixer_album_request" "tracks for a remixer and album" [DMST, SORT, ("artist_id", Number), ("album_id", Number)];
    0x2001 "hot_cue_bank_request" "hot-cue bank" [];
    0x2002 "metadata_request" "track metadata" [DMST, ("rekordbox_id", Number)];
    0x2003 "artwork_request" "artwork" [DMST, ("artwork_id", Number), ("artwork_variant", Number)];
    0x2004 "waveform_preview_request" "waveform preview" [DMST, ("arg2", Unknown), ("rekordbox_id", Number), ("blob_bytes", Length), ("blob", Blob(B::Opaque))];
    0x2006 "folder_menu_request" "folder menu" [DMST, SORT, ("folder_id", Number), ("arg4", Unknown)];
    0x2102 "track_info_request" "track file information" [DMST, ("rekordbox_id", Number)];
    0x2104 "cue_list_request" "cue list" [DMST, ("rekordbox_id", Number)];
    0x2202 "unanalyzed_metadata_request" "metadata of a non-rekordbox track" [DMST, ("track_id", Number)];
    0x2204 "beat_grid_request" "beat grid" [DMST, ("rekordbox_id", Number)];
    0x2504 "vbr_index_request" "MP3 VBR seek index" [DMST, ("rekordbox_id", Number)];
    0x2904 "waveform_detail_request" "waveform detail" [DMST, ("rekordbox_id", Number), ("arg3", Unknown)];
    0x2b04 "extended_cue_list_request" "extended cue list" [DMST, ("rekordbox_id", Number), ("arg3", Unknown)];
    0x2c04 "anlz_tag_request" "ANLZ file section" [DMST, ("rekordbox_id", Number), ("anlz_tag", AnlzTag), ("anlz_file", AnlzFile)];
    0x3000 "render_menu_request" "render menu" [DMST, ("offset", Number), ("limit", Number), ("arg4", Unknown), ("total", Number), ("arg6", Unknown)];
    0x3001 "undocumented_3001" "undocumented request 3001" [];
    0x3100 "undocumented_3100" "undocumented request 3100" [];
    0x3401 "undocumented_3401" "undocumented request 3401" [];
    0x3903 "undocumented_3903" "undocumented request 3903" [];
    0x3b03 "undocumented_3b03" "undocumented request 3b03" [];
    0x3d03 "undocumented_3d03" "undocumented request 3d03" [];
    0x3e03 "usb_info_request" "USB information" [DMST];
    0x4000 "menu_available" "success / menu available" [("request_type", RequestType), ("count", Count)];
    0x4001 "menu_header" "menu header" [("arg1", Unknown), ("arg2", Unknown)];
    0x4002 "artwork" "artwork" [("request_type", RequestType), ("arg2", Unknown), ("image_bytes", Length), ("image", Blob(B::Artwork))];
    0x4003 "unavailable" "error / media unavailable" [("request_type", RequestType), ("arg2", Unknown)];
    0x4101 "menu_item" "menu item" [("parent_id", Number), ("id", Number), ("label1_bytes", Length), ("label1", Text), ("label2_bytes", Length), ("label2", Text), ("item_type", ItemType), ("flags", Number), ("artwork_id", Number), ("position", Number), ("arg11", Unknown), ("arg12", Unknown)];
    0x4201 "menu_footer" "menu footer" [];
    0x4402 "waveform_preview" "waveform preview" [("request_type", RequestType), ("arg2", Unknown), ("waveform_bytes", Length), ("waveform", Blob(B::WaveformPreview))];
    0x4502 "vbr_index" "MP3 VBR seek index" [("request_type", RequestType), ("arg2", Unknown), ("index_bytes", Length), ("index", Blob(B::VbrIndex))];
    0x4602 "beat_grid" "beat grid" [("request_type", RequestType), ("arg2", Unknown), ("beat_grid_bytes", Length), ("beat_grid", Blob(B::BeatGrid)), ("arg5", Unknown)];
    0x4702 "cue_list" "cue list" [("request_type", RequestType), ("arg2", Unknown), ("cues_bytes", Length), ("cues", Blob(B::CueList)), ("arg5", Unknown), ("hot_cue_count", Number), ("memory_point_count", Number), ("extra_bytes", Length), ("extra", Blob(B::Opaque))];
    0x4902 "undocumented_4902" "reply to 3903" [];
    0x4a02 "waveform_detail" "waveform detail" [("request_type", RequestType), ("arg2", Unknown), ("waveform_bytes", Length), ("waveform", Blob(B::WaveformDetail))];
    0x4b02 "usb_info" "USB information" [("request_type", RequestType), ("arg2", Unknown), ("player", Number), ("arg4", Unknown)];
    0x4e02 "extended_cue_list" "extended cue list" [("request_type", RequestType), ("arg2", Unknown), ("cues_bytes", Length), ("cues", Blob(B::ExtendedCueList)), ("cue_count", Number)];
    0x4f02 "anlz_tag" "ANLZ file section" [("request_type", RequestType), ("arg2", Unknown), ("tag_bytes", Length), ("tag_data", Blob(B::AnlzTag)), ("arg5", Unknown)];
}

/// The catalogue entry for a message type.
pub fn kind(code: u16) -> Option<&'static MessageKind> {
    KINDS
        .binary_search_by_key(&code, |k| k.code)
        .ok()
        .map(|i| &KINDS[i])
}

/// snake_case name of a message type; unknown types read `unknown_xxxx`.
pub fn type_name(code: u16) -> std::borrow::Cow<'static, str> {
    match kind(code) {
        Some(k) => k.name.into(),
        None => format!("unknown_{code:04x}").into(),
    }
}

/// Media slot (DMST byte 2; same values as CDJ status byte 0x29, `prodjlink.md` 4.2).
pub fn slot_name(slot: u8) -> Option<&'static str> {
    Some(match slot {
        0 => "none",
        1 => "CD",
        2 => "SD",
        3 => "USB",
        4 => "rekordbox collection",
        6 => "Streaming Direct Play",
        7 => "USB 2",
        9 => "Beatport LINK",
        _ => return None,
    })
}

/// "the USB slot", "slot 5".
pub fn slot_phrase(slot: u8) -> String {
    match slot_name(slot) {
        Some(name) if slot != 0 => format!("the {name} slot"),
        _ => format!("slot {slot}"),
    }
}

/// Track type (DMST byte 3; CDJ status byte 0x2a, `prodjlink.md` 4.2).
pub fn track_type_name(track_type: u8) -> Option<&'static str> {
    Some(match track_type {
        0 => "none",
        1 => "rekordbox",
        2 => "unanalysed file",
        5 => "audio CD",
        6 => "streaming",
        _ => return None,
    })
}

/// Menu location (DMST byte 1, `prodjlink.md` 7.2).
pub fn menu_name(menu: u8) -> Option<&'static str> {
    Some(match menu {
        1 => "main menu",
        2 => "right-hand submenu",
        3 => "track preview",
        8 => "graphics/data",
        _ => return None,
    })
}

/// Sort order (`prodjlink.md` 7.3 "Sort ids").
pub fn sort_name(sort: u32) -> Option<&'static str> {
    Some(match sort {
        0x00 => "default",
        0x01 => "title",
        0x02 => "artist",
        0x03 => "album",
        0x04 => "BPM",
        0x05 => "rating",
        0x06 => "genre",
        0x07 => "comment",
        0x08 => "time",
        0x09 => "remixer",
        0x0a => "label",
        0x0b => "original artist",
        0x0c => "key",
        0x0d => "bitrate",
        0x10 => "play count",
        0x11 => "date added",
        _ => return None,
    })
}

/// ANLZ tag and file arguments are ASCII stored byte-reversed (`PWV4` is `0x34565750`).
pub fn reversed_fourcc(v: u32) -> String {
    v.to_le_bytes()
        .iter()
        .filter(|&&c| c != 0)
        .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' })
        .collect()
}

/// What an ANLZ section holds (`prodjlink.md` 7.3, `2c04`).
pub fn anlz_tag_meaning(fourcc: &str) -> Option<&'static str> {
    Some(match fourcc {
        "PWV4" => "colour waveform preview",
        "PWV5" => "colour waveform detail",
        "PWV6" => "3-band waveform preview",
        "PWV7" => "3-band waveform detail",
        "PSSI" => "song structure (phrases)",
        "PWVC" => "vocal configuration",
        "PCO2" => "extended cues",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(KINDS.windows(2).all(|w| w[0].code < w[1].code));
        let mut names: Vec<_> = KINDS.iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        assert!(KINDS.iter().all(|k| k.args.len() <= 12));
        assert_eq!(kind(0x2002).unwrap().name, "metadata_request");
        assert_eq!(kind(0x4101).unwrap().args.len(), 12);
        assert_eq!(type_name(0x7777), "unknown_7777");
    }

    #[test]
    fn fourcc_is_byte_reversed() {
        assert_eq!(reversed_fourcc(0x3456_5750), "PWV4");
        assert_eq!(reversed_fourcc(0x0054_5845), "EXT");
        assert_eq!(reversed_fourcc(0x0058_4532), "2EX");
        assert_eq!(anlz_tag_meaning("PWV5"), Some("colour waveform detail"));
    }
}
