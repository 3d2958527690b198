//! `4101` menu items and what each item type means (`prodjlink.md` 7.3 "Menu item" and
//! "Item types"; DYS-T "Menu Item Types"; BL `Message.MenuItemType`).

use super::field::{DbString, Field};
use super::message::Message;

/// One rendered menu row. Label byte lengths (arguments 3 and 5) follow from the labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MenuItem {
    /// Argument 1: parent id (the artist of a track...); the file size on `2102` path items.
    pub parent_id: u32,
    /// Argument 2: main id (rekordbox id of a title, seconds of a duration, BPM x 100...).
    pub id: u32,
    pub label1: DbString,
    pub label2: DbString,
    /// Argument 7 as sent; CDJ-3000s put extra bits in the top half (BL), see [`MenuItem::kind`].
    pub item_type: u32,
    /// Argument 8: flags (`01000000` on track titles in every capture; meaning unclear, DYS-T).
    pub flags: u32,
    /// Argument 9: artwork id on title items.
    pub artwork_id: u32,
    /// Argument 10: playlist position.
    pub position: u32,
    pub unknown_11: u32,
    pub unknown_12: u32,
}

/// The decoded value of a menu item, by its item type.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemValue {
    /// A track row: title, plus the extra column `XX04` rows carry in label 2.
    Track {
        title: String,
        column: Option<&'static str>,
        column_text: String,
    },
    /// Text items (artist, album, genre, key, comment, label, date added, folders, root menus...).
    Text(String),
    Duration {
        seconds: u32,
    },
    Tempo {
        bpm_x100: u32,
    },
    Rating {
        stars: u32,
    },
    Bitrate {
        kbps: u32,
    },
    Year {
        year: u32,
    },
    /// Colour items `0013`-`001b`; the label is the DJ's name for the colour.
    Color {
        color: &'static str,
        label: String,
    },
    /// Item types nobody has described.
    Other {
        label1: String,
        label2: String,
    },
}

/// snake_case name of an item type (low 16 bits of argument 7).
pub fn item_kind_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        0x0001 => "folder",
        0x0002 => "album",
        0x0003 => "disc",
        0x0004 => "title",
        0x0006 => "genre",
        0x0007 => "artist",
        0x0008 => "playlist",
        0x000a => "rating",
        0x000b => "duration",
        0x000d => "tempo",
        0x000e => "label",
        0x000f => "key",
        0x0010 => "bitrate",
        0x0011 => "year",
        0x0013..=0x001b => "color",
        0x0023 => "comment",
        0x0024 => "history_playlist",
        0x0028 => "original_artist",
        0x0029 => "remixer",
        0x002e => "date_added",
        0x0080 => "genre_menu",
        0x0081 => "artist_menu",
        0x0082 => "album_menu",
        0x0083 => "track_menu",
        0x0084 => "playlist_menu",
        0x0085 => "bpm_menu",
        0x0086 => "rating_menu",
        0x0087 => "year_menu",
        0x0088 => "remixer_menu",
        0x0089 => "label_menu",
        0x008a => "original_artist_menu",
        0x008b => "key_menu",
        0x008e => "color_menu",
        0x0090 => "folder_menu",
        0x0091 => "search_menu",
        0x0092 => "time_menu",
        0x0093 => "bitrate_menu",
        0x0094 => "filename_menu",
        0x0095 => "history_menu",
        0x0097 => "play_count_menu",
        0x0098 => "hot_cue_bank_menu",
        0x00a0 => "all",
        0x00a1 => "default_sort",
        0x00a2 => "alphabet_sort",
        k if k & 0xff == 0x04 && column_name((k >> 8) as u8).is_some() => "title_with_column",
        _ => return None,
    })
}

/// The extra column of a `XX04` track row (`prodjlink.md` 7.3).
pub fn column_name(column: u8) -> Option<&'static str> {
    Some(match column {
        0x02 => "album",
        0x06 => "genre",
        0x07 => "artist",
        0x0a => "rating",
        0x0b => "time",
        0x0d => "BPM",
        0x0e => "label",
        0x0f => "key",
        0x10 => "bitrate",
        0x1a => "colour",
        0x23 => "comment",
        0x28 => "original artist",
        0x29 => "remixer",
        0x2a => "play count",
        0x2e => "date added",
        _ => return None,
    })
}

/// Colour of item types `0013`-`001b`.
pub fn color_name(kind: u16) -> Option<&'static str> {
    const COLORS: [&str; 9] = [
        "none", "pink", "red", "orange", "yellow", "green", "aqua", "blue", "purple",
    ];
    COLORS.get(kind.checked_sub(0x13)? as usize).copied()
}

/// Root-menu labels come wrapped in U+FFFA ... U+FFFB (`prodjlink.md` 7.3; UE §5.5).
pub fn strip_menu_marks(s: &str) -> String {
    s.trim_start_matches('\u{fffa}')
        .trim_end_matches('\u{fffb}')
        .to_string()
}

impl MenuItem {
    pub const TYPE: u16 = 0x4101;

    /// Item type without the CDJ-3000 high bits (BL `getMenuItemType` masks with `ffff`).
    pub fn kind(&self) -> u16 {
        (self.item_type & 0xffff) as u16
    }

    pub fn kind_name(&self) -> Option<&'static str> {
        item_kind_name(self.kind())
    }

    pub fn value(&self) -> ItemValue {
        let kind = self.kind();
        // Most labels carry no menu marks: keep the decoded text rather than copy it again.
        let text = || {
            let t = self.label1.text();
            if t.starts_with('\u{fffa}') || t.ends_with('\u{fffb}') {
                strip_menu_marks(&t)
            } else {
                t
            }
        };
        match kind {
            0x0004 => ItemValue::Track {
                title: text(),
                column: None,
                column_text: self.label2.text(),
            },
            k if k & 0xff == 0x04 && column_name((k >> 8) as u8).is_some() => ItemValue::Track {
                title: text(),
                column: column_name((k >> 8) as u8),
                column_text: self.label2.text(),
            },
            0x000a => ItemValue::Rating { stars: self.id },
            0x000b => ItemValue::Duration { seconds: self.id },
            0x000d => ItemValue::Tempo { bpm_x100: self.id },
            0x0010 => ItemValue::Bitrate { kbps: self.id },
            0x0011 => ItemValue::Year { year: self.id },
            k @ 0x0013..=0x001b => ItemValue::Color {
                color: color_name(k).unwrap_or("?"),
                label: text(),
            },
            k if item_kind_name(k).is_some() => ItemValue::Text(text()),
            _ => ItemValue::Other {
                label1: self.label1.text(),
                label2: self.label2.text(),
            },
        }
    }

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = vec![
            Field::U32(self.parent_id),
            Field::U32(self.id),
            Field::U32(self.label1.byte_len() as u32),
            Field::Str(self.label1.clone()),
            Field::U32(self.label2.byte_len() as u32),
            Field::Str(self.label2.clone()),
            Field::U32(self.item_type),
            Field::U32(self.flags),
            Field::U32(self.artwork_id),
            Field::U32(self.position),
            Field::U32(self.unknown_11),
            Field::U32(self.unknown_12),
        ];
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE || !Self::is_canonical(msg) {
            return None;
        }
        Self::read_fields(msg)
    }

    /// The item's fields, read without checking that the message holds nothing else.
    fn read_fields(msg: &Message) -> Option<Self> {
        let n = |i| msg.number(i);
        let item = MenuItem {
            parent_id: n(0)?,
            id: n(1)?,
            label1: msg.string(3)?.clone(),
            label2: msg.string(5)?.clone(),
            item_type: n(6)?,
            flags: n(7)?,
            artwork_id: n(8)?,
            position: n(9)?,
            unknown_11: n(10)?,
            unknown_12: n(11)?,
        };
        Some(item)
    }

    /// Whether `to_message` gives `msg` back exactly (what `requests::exact` checks by building
    /// the message), decided in place: menu items are the most frequent dbserver message and
    /// every view reads them, so cloning both labels and twelve fields to compare cost ~1.5 k
    /// instructions an item (issue 11, callgrind). The layout is `to_message`'s: twelve
    /// arguments, all 4-byte numbers but the two labels, each label preceded by its byte length.
    fn is_canonical(msg: &Message) -> bool {
        use super::field::arg_tag::{NUMBER_4 as N, STRING as S};
        const TAGS: [u8; 12] = [N, N, N, S, N, S, N, N, N, N, N, N];
        if msg.arg_tags != TAGS || msg.args.len() != TAGS.len() {
            return false;
        }
        let label_len = |i: usize| match &msg.args[i] {
            Some(Field::Str(s)) => Some(s.byte_len()),
            _ => None,
        };
        msg.args
            .iter()
            .zip(TAGS)
            .enumerate()
            .all(|(i, (a, t))| match (a, t) {
                (Some(Field::U32(v)), N) => match i {
                    2 | 4 => label_len(i + 1).is_some_and(|l| l as u32 == *v),
                    _ => true,
                },
                (Some(Field::Str(_)), S) => true,
                _ => false,
            })
    }
}

/// Whether a track can last `seconds` (at most a day, `prodjlink::MAX_TRACK_SECONDS`).
pub fn plausible_duration(seconds: u32) -> bool {
    u64::from(seconds) <= crate::prodjlink::MAX_TRACK_SECONDS
}

/// Whether a track can have this BPM x 100: the players carry a track's BPM in 16 bits
/// (`prodjlink.md` 4.2), so nothing above 655.35 can be played as a tempo.
pub fn plausible_bpm(bpm_x100: u32) -> bool {
    bpm_x100 <= u32::from(u16::MAX)
}

/// `m:ss` for a duration in seconds; a duration no track has is flagged, not shown as a time
/// (issue 11: "a track of 1.5 billion seconds").
pub fn format_duration(seconds: u32) -> String {
    if plausible_duration(seconds) {
        format!("{}:{:02}", seconds / 60, seconds % 60)
    } else {
        format!("{seconds} s (implausible)")
    }
}

/// `128.00` for BPM x 100; a tempo no player can carry is flagged.
pub fn format_bpm(bpm_x100: u32) -> String {
    let bpm = format!("{}.{:02}", bpm_x100 / 100, bpm_x100 % 100);
    if plausible_bpm(bpm_x100) {
        bpm
    } else {
        format!("{bpm} (implausible)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    // LinkInfo.pcapng: the title item of the first metadata render (track 50, artwork 46).
    const TITLE: &str = "11872349ae11038000031041010f0c140000000c0606060206020606060606061100000001110000003211000000722600000039005400680069006e0067002000430061006c006c006500640020004c006f0076006500200028004d006100740020005a006f002000520065006d0069007800290020005b0066006500610074002e0020005200690063006800610072006400200042006500640066006f00720064005d000011000000022600000001000011000000041101000000110000002e110000000011000001001100000000";
    // LinkInfo: the duration item (512 s) of the same render.
    const DURATION: &str = "11872349ae11038000031041010f0c140000000c06060602060206060606060611000000001100000200110000000226000000010000110000000226000000010000110000000b11000000001100000000110000000011000000001100000000";

    /// `from_message` as it was: candidate item, kept when `to_message` rebuilds `msg` exactly.
    fn by_rebuilding(msg: &Message) -> Option<MenuItem> {
        let item = MenuItem::read_fields(msg)?;
        (msg.message_type == MenuItem::TYPE)
            .then_some(())
            .and_then(|_| crate::dbserver::requests::exact(msg, item, MenuItem::to_message))
    }

    /// The in-place check accepts exactly the messages the rebuilding one did: real items and
    /// every one-argument change of them (other widths, kinds, wrong label lengths, missing or
    /// extra arguments, other tags).
    #[test]
    fn canonical_check_agrees_with_rebuilding() {
        let mut cases = Vec::new();
        for hex in [TITLE, DURATION] {
            let (msg, _) = Message::parse(&parse_hex(hex).unwrap()).unwrap();
            cases.push(msg.clone());
            let mut other = msg.clone();
            other.message_type = 0x4102;
            cases.push(other);
            for i in 0..12 {
                let v = msg.number(i).unwrap_or(7);
                for f in [
                    None,
                    Some(Field::U8(v as u8)),
                    Some(Field::U16(v as u16)),
                    Some(Field::U32(v.wrapping_add(1))),
                    Some(Field::U32(v.wrapping_sub(1))),
                    Some(Field::Blob(vec![1, 2])),
                    Some(Field::Str(DbString::new("ab"))),
                ] {
                    let mut m = msg.clone();
                    m.args[i] = f.clone();
                    cases.push(m.clone());
                    m.arg_tags[i] = f.as_ref().map_or(0x03, Field::arg_tag);
                    cases.push(m);
                }
                let mut m = msg.clone();
                m.arg_tags[i] ^= 0x01;
                cases.push(m);
            }
            let mut m = msg.clone();
            m.args.pop();
            cases.push(m.clone());
            m.arg_tags[11] = 0;
            cases.push(m);
            let mut m = msg.clone();
            m.args.push(Some(Field::U32(0)));
            cases.push(m);
        }
        let mut kept = 0;
        for m in &cases {
            assert_eq!(MenuItem::from_message(m), by_rebuilding(m), "{m:?}");
            kept += usize::from(MenuItem::from_message(m).is_some());
        }
        // Both real items, and the changes that keep an item (another value of a number).
        assert!(
            kept >= 2 && kept < cases.len() / 2,
            "{kept} of {}",
            cases.len()
        );
    }

    #[test]
    fn title_item_both_ways() {
        let b = parse_hex(TITLE).unwrap();
        let (msg, n) = Message::parse(&b).unwrap();
        assert_eq!(n, b.len());
        let item = MenuItem::from_message(&msg).unwrap();
        let expected = MenuItem {
            parent_id: 1,
            id: 50,
            label1: DbString::new("Thing Called Love (Mat Zo Remix) [feat. Richard Bedford]"),
            label2: DbString::new(""),
            item_type: 4,
            flags: 0x0100_0000,
            artwork_id: 46,
            position: 0,
            unknown_11: 0x100,
            unknown_12: 0,
        };
        assert_eq!(item, expected);
        assert_eq!(expected.to_message(0x0380_0003).to_bytes(), b);
        assert_eq!(item.kind_name(), Some("title"));
        assert!(
            matches!(item.value(), ItemValue::Track { ref title, column: None, .. } if title.starts_with("Thing"))
        );
    }

    #[test]
    fn duration_item_both_ways() {
        let b = parse_hex(DURATION).unwrap();
        let (msg, _) = Message::parse(&b).unwrap();
        let item = MenuItem::from_message(&msg).unwrap();
        assert_eq!(item.value(), ItemValue::Duration { seconds: 512 });
        let expected = MenuItem {
            id: 512,
            item_type: 0x0b,
            ..MenuItem::default()
        };
        let expected = MenuItem {
            label1: DbString::new(""),
            label2: DbString::new(""),
            ..expected
        };
        assert_eq!(item, expected);
        assert_eq!(expected.to_message(0x0380_0003).to_bytes(), b);
        assert_eq!(format_duration(512), "8:32");
        assert_eq!(format_duration(1_500_000_000), "1500000000 s (implausible)");
        assert_eq!(format_bpm(100_000_000), "1000000.00 (implausible)");
    }

    #[test]
    fn root_menu_item_from_s05() {
        // usr-ein S05: the PLAYLIST entry of deck B's root menu, label wrapped in FFFA/FFFB.
        let b = parse_hex("11872349ae11038001a91041010f0c140000000c060606020602060606060606110000000011000000051100000016260000000bfffa0050004c00410059004c004900530054fffb0000110000000226000000010000110000008411000000001100000000110000000011000000001100000000").unwrap();
        let (msg, _) = Message::parse(&b).unwrap();
        let item = MenuItem::from_message(&msg).unwrap();
        let expected = MenuItem {
            id: 5,
            label1: DbString::new("\u{fffa}PLAYLIST\u{fffb}"),
            label2: DbString::new(""),
            item_type: 0x84,
            ..MenuItem::default()
        };
        assert_eq!(item, expected);
        assert_eq!(expected.to_message(0x0380_01a9).to_bytes(), b);
        assert_eq!(item.kind_name(), Some("playlist_menu"));
        assert_eq!(item.value(), ItemValue::Text("PLAYLIST".into()));
    }

    #[test]
    fn decoding_by_item_type() {
        let item = |item_type, id, l1: &str, l2: &str| MenuItem {
            id,
            item_type,
            label1: DbString::new(l1),
            label2: DbString::new(l2),
            ..MenuItem::default()
        };
        assert_eq!(
            item(0x0d, 12800, "", "").value(),
            ItemValue::Tempo { bpm_x100: 12800 }
        );
        assert_eq!(format_bpm(12800), "128.00");
        assert_eq!(
            item(0x0f, 19, "F#", "").value(),
            ItemValue::Text("F#".into())
        );
        assert_eq!(
            item(0x15, 0, "hot", "").value(),
            ItemValue::Color {
                color: "red",
                label: "hot".into()
            }
        );
        // S05: root-menu labels are wrapped in U+FFFA/U+FFFB.
        assert_eq!(
            item(0x80, 1, "\u{fffa}GENRE\u{fffb}", "").value(),
            ItemValue::Text("GENRE".into())
        );
        // S05: title plus artist column, and a CDJ-3000 style high half that must be masked.
        let row = item(0x0001_0704, 1, "Mary Lynne", "Anf");
        assert_eq!(row.kind(), 0x0704);
        assert_eq!(
            row.value(),
            ItemValue::Track {
                title: "Mary Lynne".into(),
                column: Some("artist"),
                column_text: "Anf".into()
            }
        );
        assert_eq!(
            item(0x2f, 1, "x", "y").value(),
            ItemValue::Other {
                label1: "x".into(),
                label2: "y".into()
            }
        );
    }

    #[test]
    fn inconsistent_label_length_stays_generic() {
        let mut msg = Message::parse(&parse_hex(DURATION).unwrap()).unwrap().0;
        msg.args[2] = Some(Field::U32(4));
        assert_eq!(MenuItem::from_message(&msg), None);
    }
}
