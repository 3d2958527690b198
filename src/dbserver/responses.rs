//! Typed responses (server -> client), `prodjlink.md` 7.3 "Responses". Menu items live in
//! [`super::menu_item`]. Conversion rules are those of [`super::requests`].

use super::field::{DbString, Field};
use super::message::Message;
use super::requests::exact;

/// Count a `4000` reports when the requested track does not exist (DYS-T).
pub const NOT_FOUND: u32 = 0xffff_ffff;

/// `4000` success: the request type it answers and how many items are ready to render
/// (for the setup request: the server's device number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuAvailable {
    pub request_type: u32,
    pub count: u32,
}

impl MenuAvailable {
    pub const TYPE: u16 = 0x4000;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = vec![Field::U32(self.request_type), Field::U32(self.count)];
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let rsp = MenuAvailable {
            request_type: msg.number(0)?,
            count: msg.number(1)?,
        };
        exact(msg, rsp, Self::to_message)
    }
}

/// `4001` menu header, arguments `[1, 0]` of unknown meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuHeader {
    pub unknown: [u32; 2],
}

impl Default for MenuHeader {
    fn default() -> Self {
        MenuHeader { unknown: [1, 0] }
    }
}

impl MenuHeader {
    pub const TYPE: u16 = 0x4001;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        Message::new(
            transaction_id,
            Self::TYPE,
            self.unknown.iter().map(|&v| Field::U32(v)).collect(),
        )
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        exact(
            msg,
            MenuHeader {
                unknown: [msg.number(0)?, msg.number(1)?],
            },
            Self::to_message,
        )
    }
}

/// `4201` menu footer: no arguments.
pub const MENU_FOOTER_TYPE: u16 = 0x4201;

/// `4003` error / media unavailable: the request type, then numbers (one 0 in CAP S10b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub request_type: u32,
    pub extra: Vec<u32>,
}

impl Unavailable {
    pub const TYPE: u16 = 0x4003;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let mut args = vec![Field::U32(self.request_type)];
        args.extend(self.extra.iter().map(|&v| Field::U32(v)));
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let extra = (1..msg.args.len())
            .map(|i| msg.number(i))
            .collect::<Option<Vec<_>>>()?;
        exact(
            msg,
            Unavailable {
                request_type: msg.number(0)?,
                extra,
            },
            Self::to_message,
        )
    }
}

/// The responses that carry one blob: request type, an unknown number (0), the blob length,
/// the blob (left out when empty), then maybe more numbers.
/// `4002` artwork, `4402` waveform preview, `4502` VBR index, `4602` beat grid (+0),
/// `4a02` waveform detail, `4e02` extended cue list (+entry count), `4f02` ANLZ tag (+0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobResponse {
    pub message_type: u16,
    pub request_type: u32,
    pub unknown: u32,
    pub data: Vec<u8>,
    pub trailing: Vec<u32>,
}

impl BlobResponse {
    pub const TYPES: [u16; 7] = [0x4002, 0x4402, 0x4502, 0x4602, 0x4a02, 0x4e02, 0x4f02];

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let mut args = vec![
            Some(Field::U32(self.request_type)),
            Some(Field::U32(self.unknown)),
            Some(Field::U32(self.data.len() as u32)),
            (!self.data.is_empty()).then(|| Field::Blob(self.data.clone())),
        ];
        args.extend(self.trailing.iter().map(|&v| Some(Field::U32(v))));
        Message::with_optional_args(transaction_id, self.message_type, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if !Self::TYPES.contains(&msg.message_type) || msg.args.len() < 4 {
            return None;
        }
        let trailing = (4..msg.args.len())
            .map(|i| msg.number(i))
            .collect::<Option<Vec<_>>>()?;
        let rsp = BlobResponse {
            message_type: msg.message_type,
            request_type: msg.number(0)?,
            unknown: msg.number(1)?,
            data: msg.blob(3)?.to_vec(),
            trailing,
        };
        exact(msg, rsp, Self::to_message)
    }
}

/// `4702` cue list (nexus format): request type, unknown, entries blob (36-byte entries), an
/// unknown `0x24`, hot-cue count, memory-point count, and a second blob of unknown meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueListResponse {
    pub request_type: u32,
    pub unknown_2: u32,
    pub cues: Vec<u8>,
    pub unknown_5: u32,
    pub hot_cue_count: u32,
    pub memory_point_count: u32,
    pub extra: Vec<u8>,
}

impl CueListResponse {
    pub const TYPE: u16 = 0x4702;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let blob = |b: &Vec<u8>| (!b.is_empty()).then(|| Field::Blob(b.clone()));
        let args = vec![
            Some(Field::U32(self.request_type)),
            Some(Field::U32(self.unknown_2)),
            Some(Field::U32(self.cues.len() as u32)),
            blob(&self.cues),
            Some(Field::U32(self.unknown_5)),
            Some(Field::U32(self.hot_cue_count)),
            Some(Field::U32(self.memory_point_count)),
            Some(Field::U32(self.extra.len() as u32)),
            blob(&self.extra),
        ];
        Message::with_optional_args(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let rsp = CueListResponse {
            request_type: msg.number(0)?,
            unknown_2: msg.number(1)?,
            cues: msg.blob(3)?.to_vec(),
            unknown_5: msg.number(4)?,
            hot_cue_count: msg.number(5)?,
            memory_point_count: msg.number(6)?,
            extra: msg.blob(8)?.to_vec(),
        };
        exact(msg, rsp, Self::to_message)
    }
}

/// `4b02` answer to `3e03`: `[3e03, 0, D, ""]` (`prodjlink.md` 7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbInfo {
    pub request_type: u32,
    pub unknown_2: u32,
    pub player: u32,
    pub text: DbString,
}

impl UsbInfo {
    pub const TYPE: u16 = 0x4b02;

    pub fn to_message(&self, transaction_id: u32) -> Message {
        let args = vec![
            Field::U32(self.request_type),
            Field::U32(self.unknown_2),
            Field::U32(self.player),
            Field::Str(self.text.clone()),
        ];
        Message::new(transaction_id, Self::TYPE, args)
    }

    pub fn from_message(msg: &Message) -> Option<Self> {
        if msg.message_type != Self::TYPE {
            return None;
        }
        let rsp = UsbInfo {
            request_type: msg.number(0)?,
            unknown_2: msg.number(1)?,
            player: msg.number(2)?,
            text: msg.string(3)?.clone(),
        };
        exact(msg, rsp, Self::to_message)
    }
}
