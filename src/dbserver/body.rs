//! Typed view of a message: which known structure it has, if any.

use super::menu_item::MenuItem;
use super::message::Message;
use super::requests::*;
use super::responses::*;

/// A message whose structure is known. [`Body::from_message`] returns `None` for unknown types
/// and for known types whose arguments differ from the documented layout; the generic
/// [`Message`] always remains available for those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Setup(SetupRequest),
    /// `0001`, no arguments, no reply.
    MenuClose,
    /// `0100`, no arguments; the server closes the connection.
    Teardown,
    Menu(MenuRequest),
    Search(SearchRequest),
    /// `2002`.
    Metadata(MetadataRequest),
    /// `2202`.
    UnanalyzedMetadata(MetadataRequest),
    TrackData(TrackDataRequest),
    Artwork(ArtworkRequest),
    WaveformPreview(WaveformPreviewRequest),
    AnlzTag(AnlzTagRequest),
    RenderMenu(RenderMenuRequest),
    UsbInfoRequest(UsbInfoRequest),
    MenuAvailable(MenuAvailable),
    MenuHeader(MenuHeader),
    MenuItem(MenuItem),
    /// `4201`, no arguments.
    MenuFooter,
    Unavailable(Unavailable),
    Blob(BlobResponse),
    CueList(CueListResponse),
    UsbInfo(UsbInfo),
}

impl Body {
    pub fn from_message(msg: &Message) -> Option<Body> {
        let no_args = msg.args.is_empty() && msg.arg_tags == [0; 12];
        Some(match msg.message_type {
            SetupRequest::TYPE => Body::Setup(SetupRequest::from_message(msg)?),
            0x0001 if no_args => Body::MenuClose,
            0x0100 if no_args => Body::Teardown,
            t if MenuRequest::is_menu_type(t) => Body::Menu(MenuRequest::from_message(msg)?),
            SearchRequest::TYPE => Body::Search(SearchRequest::from_message(msg)?),
            MetadataRequest::TYPE => Body::Metadata(MetadataRequest::from_message(msg)?),
            MetadataRequest::UNANALYZED_TYPE => {
                Body::UnanalyzedMetadata(MetadataRequest::from_message(msg)?)
            }
            t if TrackDataRequest::TYPES.contains(&t) => {
                Body::TrackData(TrackDataRequest::from_message(msg)?)
            }
            ArtworkRequest::TYPE => Body::Artwork(ArtworkRequest::from_message(msg)?),
            WaveformPreviewRequest::TYPE => {
                Body::WaveformPreview(WaveformPreviewRequest::from_message(msg)?)
            }
            AnlzTagRequest::TYPE => Body::AnlzTag(AnlzTagRequest::from_message(msg)?),
            RenderMenuRequest::TYPE => Body::RenderMenu(RenderMenuRequest::from_message(msg)?),
            UsbInfoRequest::TYPE => Body::UsbInfoRequest(UsbInfoRequest::from_message(msg)?),
            MenuAvailable::TYPE => Body::MenuAvailable(MenuAvailable::from_message(msg)?),
            MenuHeader::TYPE => Body::MenuHeader(MenuHeader::from_message(msg)?),
            MenuItem::TYPE => Body::MenuItem(MenuItem::from_message(msg)?),
            MENU_FOOTER_TYPE if no_args => Body::MenuFooter,
            Unavailable::TYPE => Body::Unavailable(Unavailable::from_message(msg)?),
            t if BlobResponse::TYPES.contains(&t) => Body::Blob(BlobResponse::from_message(msg)?),
            CueListResponse::TYPE => Body::CueList(CueListResponse::from_message(msg)?),
            UsbInfo::TYPE => Body::UsbInfo(UsbInfo::from_message(msg)?),
            _ => return None,
        })
    }

    /// The message this body makes with `transaction_id`.
    pub fn to_message(&self, transaction_id: u32) -> Message {
        let bare = |t| Message::new(transaction_id, t, Vec::new());
        match self {
            Body::Setup(r) => r.to_message(transaction_id),
            Body::MenuClose => bare(0x0001),
            Body::Teardown => bare(0x0100),
            Body::Menu(r) => r.to_message(transaction_id),
            Body::Search(r) => r.to_message(transaction_id),
            Body::Metadata(r) => r.to_message(transaction_id),
            Body::UnanalyzedMetadata(r) => {
                r.to_message_of_type(MetadataRequest::UNANALYZED_TYPE, transaction_id)
            }
            Body::TrackData(r) => r.to_message(transaction_id),
            Body::Artwork(r) => r.to_message(transaction_id),
            Body::WaveformPreview(r) => r.to_message(transaction_id),
            Body::AnlzTag(r) => r.to_message(transaction_id),
            Body::RenderMenu(r) => r.to_message(transaction_id),
            Body::UsbInfoRequest(r) => r.to_message(transaction_id),
            Body::MenuAvailable(r) => r.to_message(transaction_id),
            Body::MenuHeader(r) => r.to_message(transaction_id),
            Body::MenuItem(r) => r.to_message(transaction_id),
            Body::MenuFooter => bare(MENU_FOOTER_TYPE),
            Body::Unavailable(r) => r.to_message(transaction_id),
            Body::Blob(r) => r.to_message(transaction_id),
            Body::CueList(r) => r.to_message(transaction_id),
            Body::UsbInfo(r) => r.to_message(transaction_id),
        }
    }

    /// The Dmst of a request that carries one.
    pub fn dmst(&self) -> Option<Dmst> {
        Some(match self {
            Body::Menu(r) => r.dmst,
            Body::Search(r) => r.dmst,
            Body::Metadata(r) | Body::UnanalyzedMetadata(r) => r.dmst,
            Body::TrackData(r) => r.dmst,
            Body::Artwork(r) => r.dmst,
            Body::WaveformPreview(r) => r.dmst,
            Body::AnlzTag(r) => r.dmst,
            Body::RenderMenu(r) => r.dmst,
            Body::UsbInfoRequest(r) => r.dmst,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::field::{DbString, Field};
    use crate::util::parse_hex;

    /// Parse real bytes, check the typed view equals `expected`, and that it emits the bytes.
    fn check(hex: &str, tx: u32, expected: Body) {
        let b = parse_hex(hex).unwrap();
        let (msg, n) = Message::parse(&b).unwrap();
        assert_eq!(n, b.len());
        assert_eq!(msg.transaction_id, tx);
        assert_eq!(Body::from_message(&msg), Some(expected.clone()));
        assert_eq!(expected.to_message(tx).to_bytes(), b);
    }

    fn dmst(player: u8, menu: u8, slot: u8, track_type: u8) -> Dmst {
        Dmst {
            player,
            menu,
            slot,
            track_type,
        }
    }

    #[test]
    fn linkinfo_requests() {
        // LinkInfo.pcapng TCP 1051: CDJ 3 asks CDJ 2 (prodjlink.md 15).
        check(
            "11872349ae1103800001103e030f01140000000c0600000000000000000000001103010301",
            0x0380_0001,
            Body::UsbInfoRequest(UsbInfoRequest {
                dmst: dmst(3, 1, 3, 1),
            }),
        );
        check(
            "11872349ae11038000021020020f02140000000c06060000000000000000000011030103011100000032",
            0x0380_0002,
            Body::Metadata(MetadataRequest {
                dmst: dmst(3, 1, 3, 1),
                rekordbox_id: 0x32,
            }),
        );
        check(
            "11872349ae11038000031030000f06140000000c06060606060600000000000011030103011100000000110000000a1100000000110000000a1100000000",
            0x0380_0003,
            Body::RenderMenu(RenderMenuRequest::new(dmst(3, 1, 3, 1), 0, 10, 10)),
        );
    }

    #[test]
    fn linkinfo_responses() {
        check(
            "11872349ae11fffffffe1040000f02140000000c06060000000000000000000011000000001100000002",
            0xffff_fffe,
            Body::MenuAvailable(MenuAvailable {
                request_type: 0,
                count: 2,
            }),
        );
        check(
            "11872349ae1103800001104b020f04140000000c0606060200000000000000001100003e031100000000110000000226000000010000",
            0x0380_0001,
            Body::UsbInfo(UsbInfo { request_type: 0x3e03, unknown_2: 0, player: 2, text: DbString::new("") }),
        );
        check(
            "11872349ae11038000031040010f02140000000c06060000000000000000000011000000011100000000",
            0x0380_0003,
            Body::MenuHeader(MenuHeader::default()),
        );
        check(
            "11872349ae11038000031042010f00140000000c000000000000000000000000",
            0x0380_0003,
            Body::MenuFooter,
        );
    }

    #[test]
    fn s10_requests_and_responses() {
        // usr-ein S10j: waveform preview request with its declared-but-absent blob.
        check(
            "11872349ae11038020f11020040f05140000000c0606060603000000000000001102080301110000000311000000b61100000000",
            0x0380_20f1,
            Body::WaveformPreview(WaveformPreviewRequest { dmst: dmst(2, 8, 3, 1), unknown: 3, rekordbox_id: 182 }),
        );
        // usr-ein S10b: the computer answers 3e03 with 4003 [3e03, 0].
        check(
            "11872349ae11038000141040030f02140000000c0606000000000000000000001100003e031100000000",
            0x0380_0014,
            Body::Unavailable(Unavailable {
                request_type: 0x3e03,
                extra: vec![0],
            }),
        );
        // usr-ein S10j: the nexus cue list, three hot cues and a 24-byte second blob.
        let cues = parse_hex("000101000000000000000000260000000000000000000000000000000000000000000000000102000000000000000000b32e00000000000000000000000000000000000000000000000103000000000000000000405d00000000000000000000000000000000000000000000").unwrap();
        check(
            "11872349ae11038020f21047020f09140000000c06060603060606060300000011000021041100000000110000006c140000006c000101000000000000000000260000000000000000000000000000000000000000000000000102000000000000000000b32e00000000000000000000000000000000000000000000000103000000000000000000405d000000000000000000000000000000000000000000001100000024110000000311000000001100000018140000001800010000ffffffff58370100ffffffffb06d0200ffffffff",
            0x0380_20f2,
            Body::CueList(CueListResponse {
                request_type: 0x2104,
                unknown_2: 0,
                cues,
                unknown_5: 0x24,
                hot_cue_count: 3,
                memory_point_count: 0,
                extra: parse_hex("00010000ffffffff58370100ffffffffb06d0200ffffffff").unwrap(),
            }),
        );
        // usr-ein S05: root menu request (player 1, slot 3).
        check(
            "11872349ae11038001a81010000f03140000000c060606000000000000000000110101030111000000001100ffffff",
            0x0380_01a8,
            Body::Menu(MenuRequest::root_menu(dmst(1, 1, 3, 1))),
        );
    }

    #[test]
    fn hand_built_messages_are_valid() {
        let bodies = [
            Body::Setup(SetupRequest { requester: 5 }),
            Body::Teardown,
            Body::Search(SearchRequest {
                dmst: dmst(1, 1, 3, 1),
                sort: 0,
                text: DbString::new("LOVE"),
                unknown: 0,
            }),
            Body::AnlzTag(AnlzTagRequest {
                dmst: dmst(1, 1, 3, 1),
                rekordbox_id: 9,
                tag: 0x3456_5750,
                file: 0x0054_5845,
            }),
            Body::Blob(BlobResponse {
                message_type: 0x4602,
                request_type: 0x2204,
                unknown: 0,
                data: vec![],
                trailing: vec![0],
            }),
            Body::Artwork(ArtworkRequest {
                dmst: dmst(1, 8, 3, 1),
                artwork_id: 4,
                variant: Some(1),
            }),
        ];
        for body in bodies {
            let bytes = body.to_message(7).to_bytes();
            let (msg, n) = Message::parse(&bytes).unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(Body::from_message(&msg), Some(body));
        }
    }

    #[test]
    fn unknown_or_odd_layouts_stay_generic() {
        assert_eq!(
            Body::from_message(&Message::new(1, 0x3903, vec![Field::U32(1)])),
            None
        );
        // A metadata request whose id is a 2-byte number is not the documented layout.
        let odd = Message::new(1, 0x2002, vec![Field::U32(0x0301_0301), Field::U16(5)]);
        assert_eq!(Body::from_message(&odd), None);
    }
}
