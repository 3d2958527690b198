//! Typed requests (client -> server), `prodjlink.md` 7.3 "Requests".
//!
//! Each type converts to a [`Message`] with `to_message(transaction_id)` and back with
//! `from_message`, which only succeeds when converting back gives the very same message (same
//! field widths, argument tags and trailing arguments); anything else stays a generic message.

use super::field::{DbString, Field};
use super::message::Message;

/// The first argument of most requests: requester, menu location, slot, track type, one byte
/// each of a 4-byte number (`prodjlink.md` 7.2 "DMST / r:m:s:t").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dmst {
    /// Device number of the player asking.
    pub player: u8,
    /// Menu location: 1 main, 2 right-hand submenu, 3 track preview, 8 graphics/data.
    pub menu: u8,
    /// Media slot (3 = USB, 2 = SD, 4 = rekordbox collection...).
    pub slot: u8,
    /// Track type (1 = rekordbox, 2 = unanalysed file, 5 = audio CD...).
    pub track_type: u8,
}

impl Dmst {
    pub fn from_u32(v: u32) -> Dmst {
        let [player, menu, slot, track_type] = v.to_be_bytes();
        Dmst {
            player,
            menu,
            slot,
            track_type,
        }
    }

    pub fn to_u32(self) -> u32 {
        u32::from_be_bytes([self.player, self.menu, self.slot, self.track_type])
    }
}

/// Menu locations (DMST byte 1).
pub mod menu_location {
    pub const MAIN: u8 = 1;
    pub const SUBMENU: u8 = 2;
    pub const TRACK_PREVIEW: u8 = 3;
    pub const DATA: u8 = 8;
}

/// Keep `candidate` only if it converts back to exactly `msg`.
pub(crate) fn exact<T>(msg: &Message, candidate: T, to: impl Fn(&T, u32) -> Message) -> Option<T> {
    (to(&candidate, msg.transaction_id) == *msg).then_some(candidate)
}

/// `0000` context setup, sent with transaction id `fffffffe` (`prodjlink.md` 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupRequest {
    pub requester: u32,
}

impl SetupRequest {
    pub const TYPE: u16 = 0x0000;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        Message::new(transaction_id, Self::TYPE, vec![Field::U32(self.requester)])
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        exact(
            msg,
            SetupRequest {
                requester: msg.number(0)?,
            },
            Self::to_message,
        )
    }
}

/// A menu request: DMST followed by numbers (sort order and ids). Covers the root menu
/// (`1000`), the category menus `1001`-`1014`, the drill-downs `11xx`-`18xx`, sort orders
/// `1400` and the folder menu `2006` (`prodjlink.md` 7.3); argument names come from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuRequest {
    pub message_type: u16,
    pub dmst: Dmst,
    /// Arguments after DMST; the first is the sort order for every type but `1400`.
    pub params: Vec<u32>,
}

impl MenuRequest {
    /// Root menu request as real CDJs send it: sort 0 and the constant `00ffffff` (CAP S05).
    pub fn root_menu(dmst: Dmst) -> MenuRequest {
        MenuRequest {
            message_type: 0x1000,
            dmst,
            params: vec![0, 0x00ff_ffff],
        }
    }

    pub fn is_menu_type(message_type: u16) -> bool {
        (0x1000..0x1900).contains(&message_type) && message_type != SearchRequest::TYPE
            || message_type == 0x2006
    }

    pub fn sort(&self) -> Option<u32> {
        (self.message_type != 0x1400)
            .then(|| self.params.first().copied())
            .flatten()
    }

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let mut args = vec![Field::U32(self.dmst.to_u32())];
        args.extend(self.params.iter().map(|&p| Field::U32(p)));
        Message::new(transaction_id, self.message_type, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if !Self::is_menu_type(msg.message_type) {
            return None;
        }
        let dmst = Dmst::from_u32(msg.number(0)?);
        let params = (1..msg.args.len())
            .map(|i| msg.number(i))
            .collect::<Option<Vec<_>>>()?;
        exact(
            msg,
            MenuRequest {
                message_type: msg.message_type,
                dmst,
                params,
            },
            Self::to_message,
        )
    }
}

/// `1300` search by substring: DMST, sort, byte size of the string, UPPERCASE string, 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub dmst: Dmst,
    pub sort: u32,
    pub text: DbString,
    pub unknown: u32,
}

impl SearchRequest {
    pub const TYPE: u16 = 0x1300;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = vec![
            Field::U32(self.dmst.to_u32()),
            Field::U32(self.sort),
            Field::U32(self.text.byte_len() as u32),
            Field::Str(self.text.clone()),
            Field::U32(self.unknown),
        ];
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let req = SearchRequest {
            dmst: Dmst::from_u32(msg.number(0)?),
            sort: msg.number(1)?,
            text: msg.string(3)?.clone(),
            unknown: msg.number(4)?,
        };
        exact(msg, req, Self::to_message)
    }
}

/// `2002` rekordbox track metadata, or `2202` metadata of a non-rekordbox track (id is then
/// the status packet's id, or the CD track number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataRequest {
    pub dmst: Dmst,
    pub rekordbox_id: u32,
}

impl MetadataRequest {
    pub const TYPE: u16 = 0x2002;
    pub const UNANALYZED_TYPE: u16 = 0x2202;

    pub fn to_message_of_type(&self, message_type: u16, transaction_id: u32) -> Message {
        let args = vec![
            Field::U32(self.dmst.to_u32()),
            Field::U32(self.rekordbox_id),
        ];
        Message::new(transaction_id, message_type, args)
    }

    pub fn to_message(&self, transaction_id: u32) -> Message {
        self.to_message_of_type(Self::TYPE, transaction_id)
    }

    /// Reads both `2002` and `2202`; the message type tells them apart.
    pub fn from_message(msg: &Message) -> Option<Self> {
        let t = msg.message_type;
        if t != Self::TYPE && t != Self::UNANALYZED_TYPE {
            return None;
        }
        let req = MetadataRequest {
            dmst: Dmst::from_u32(msg.number(0)?),
            rekordbox_id: msg.number(1)?,
        };
        exact(msg, req, |r, tx| r.to_message_of_type(t, tx))
    }
}

/// Requests for one kind of data about a track: DMST, rekordbox id and maybe more numbers.
/// `2102` track info, `2104` cue list, `2204` beat grid, `2504` VBR index, `2904` waveform
/// detail (+0), `2b04` extended cue list (+0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackDataRequest {
    pub message_type: u16,
    pub dmst: Dmst,
    pub rekordbox_id: u32,
    /// Numbers after the id (a single unknown 0 for `2904` and `2b04`).
    pub extra: Vec<u32>,
}

impl TrackDataRequest {
    pub const TYPES: [u16; 6] = [0x2102, 0x2104, 0x2204, 0x2504, 0x2904, 0x2b04];

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let mut args = vec![
            Field::U32(self.dmst.to_u32()),
            Field::U32(self.rekordbox_id),
        ];
        args.extend(self.extra.iter().map(|&v| Field::U32(v)));
        Message::new(transaction_id, self.message_type, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if !Self::TYPES.contains(&msg.message_type) {
            return None;
        }
        let extra = (2..msg.args.len())
            .map(|i| msg.number(i))
            .collect::<Option<Vec<_>>>()?;
        let req = TrackDataRequest {
            message_type: msg.message_type,
            dmst: Dmst::from_u32(msg.number(0)?),
            rekordbox_id: msg.number(1)?,
            extra,
        };
        exact(msg, req, Self::to_message)
    }
}

/// `2003` artwork: DMST, artwork id [, 1 = 240x240 high resolution, 2 = non-rekordbox art].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtworkRequest {
    pub dmst: Dmst,
    pub artwork_id: u32,
    pub variant: Option<u32>,
}

impl ArtworkRequest {
    pub const TYPE: u16 = 0x2003;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let mut args = vec![Field::U32(self.dmst.to_u32()), Field::U32(self.artwork_id)];
        args.extend(self.variant.map(Field::U32));
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let req = ArtworkRequest {
            dmst: Dmst::from_u32(msg.number(0)?),
            artwork_id: msg.number(1)?,
            variant: msg.number(2),
        };
        exact(msg, req, Self::to_message)
    }
}

/// `2004` blue waveform preview: DMST, 4 or 3 (meaning unknown), rekordbox id, 0, and a blob
/// that is declared but never sent (`prodjlink.md` 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaveformPreviewRequest {
    pub dmst: Dmst,
    pub unknown: u32,
    pub rekordbox_id: u32,
}

impl WaveformPreviewRequest {
    pub const TYPE: u16 = 0x2004;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = vec![
            Some(Field::U32(self.dmst.to_u32())),
            Some(Field::U32(self.unknown)),
            Some(Field::U32(self.rekordbox_id)),
            Some(Field::U32(0)),
            None,
        ];
        Message::with_optional_args(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let req = WaveformPreviewRequest {
            dmst: Dmst::from_u32(msg.number(0)?),
            unknown: msg.number(1)?,
            rekordbox_id: msg.number(2)?,
        };
        exact(msg, req, Self::to_message)
    }
}

/// `2c04` one section of a track's ANLZ file (colour and 3-band waveforms, phrases...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnlzTagRequest {
    pub dmst: Dmst,
    pub rekordbox_id: u32,
    /// Section tag, ASCII byte-reversed (`PWV4` = `0x34565750`).
    pub tag: u32,
    /// File extension, ASCII byte-reversed (`EXT` = `0x00545845`).
    pub file: u32,
}

impl AnlzTagRequest {
    pub const TYPE: u16 = 0x2c04;

    pub fn tag_name(&self) -> String {
        super::catalog::reversed_fourcc(self.tag)
    }

    pub fn file_name(&self) -> String {
        super::catalog::reversed_fourcc(self.file)
    }

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = [self.dmst.to_u32(), self.rekordbox_id, self.tag, self.file];
        Message::new(
            transaction_id,
            Self::TYPE,
            args.into_iter().map(Field::U32).collect(),
        )
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let req = AnlzTagRequest {
            dmst: Dmst::from_u32(msg.number(0)?),
            rekordbox_id: msg.number(1)?,
            tag: msg.number(2)?,
            file: msg.number(3)?,
        };
        exact(msg, req, Self::to_message)
    }
}

/// `3000` render the menu the last request prepared: DMST, offset, limit, 0, total, 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderMenuRequest {
    pub dmst: Dmst,
    pub offset: u32,
    pub limit: u32,
    pub unknown_4: u32,
    /// Usually the count the `4000` reported (a copy of `limit` works too, DYS-T).
    pub total: u32,
    pub unknown_6: u32,
}

impl RenderMenuRequest {
    pub const TYPE: u16 = 0x3000;

    /// Render `limit` items from `offset` out of `total`, as players send it.
    pub fn new(dmst: Dmst, offset: u32, limit: u32, total: u32) -> RenderMenuRequest {
        RenderMenuRequest {
            dmst,
            offset,
            limit,
            unknown_4: 0,
            total,
            unknown_6: 0,
        }
    }

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = [
            self.dmst.to_u32(),
            self.offset,
            self.limit,
            self.unknown_4,
            self.total,
            self.unknown_6,
        ];
        Message::new(
            transaction_id,
            Self::TYPE,
            args.into_iter().map(Field::U32).collect(),
        )
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let n = |i| msg.number(i);
        let req = RenderMenuRequest {
            dmst: Dmst::from_u32(n(0)?),
            offset: n(1)?,
            limit: n(2)?,
            unknown_4: n(3)?,
            total: n(4)?,
            unknown_6: n(5)?,
        };
        exact(msg, req, Self::to_message)
    }
}

/// `3e03` "request USB information", sent first on a foreign device (`prodjlink.md` 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbInfoRequest {
    pub dmst: Dmst,
}

impl UsbInfoRequest {
    pub const TYPE: u16 = 0x3e03;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        Message::new(
            transaction_id,
            Self::TYPE,
            vec![Field::U32(self.dmst.to_u32())],
        )
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        exact(
            msg,
            UsbInfoRequest {
                dmst: Dmst::from_u32(msg.number(0)?),
            },
            Self::to_message,
        )
    }
}
