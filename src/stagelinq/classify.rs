//! Which StageLinQ service a TCP byte stream carries, judged without port numbers
//! (`stagelinq.md` 0 item 6): from the service hello that opens it (1.4), from the
//! announcements of the directory connection (1.3), and from message shapes (`smaa`, `fltx`,
//! BeatInfo's `len=4,id=0` / id 2 framing). Also the "could a message start here" tests the
//! stream decoder uses to find its feet again after a gap.

use super::directory::{self, Framing, ServiceAnnouncement};
use super::wire::{self, Token};
use super::{beatinfo, broadcast, filetransfer, statemap, timesync};

/// The kind of a StageLinQ TCP connection (one per service, `stagelinq.md` 0 item 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKind {
    /// The main connection: ServicesRequest / ServiceAnnouncement / Reference, no length prefix.
    Directory,
    StateMap,
    BeatInfo,
    FileTransfer,
    TimeSynchronization,
    Broadcast,
    /// Engine DJ desktop's gRPC/HTTP library service (`stagelinq.md` 1.10); not decoded.
    Eaas,
    /// Announced by players, format unknown (`stagelinq.md` 1.3.2).
    Syncing,
    Unknown,
}

impl StreamKind {
    /// The kind behind a service name as announced or said in a hello.
    pub fn from_service_name(name: &str) -> StreamKind {
        match name {
            "StateMap" => StreamKind::StateMap,
            "BeatInfo" => StreamKind::BeatInfo,
            "FileTransfer" => StreamKind::FileTransfer,
            "TimeSynchronization" => StreamKind::TimeSynchronization,
            "Broadcast" => StreamKind::Broadcast,
            "Syncing" => StreamKind::Syncing,
            // Discovery ports, honusz's `Directory`, Resolume's `DirectoryService`
            // (`stagelinq.md` 1.3.1).
            "Directory" | "DirectoryService" => StreamKind::Directory,
            _ => StreamKind::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Directory => "directory",
            StreamKind::StateMap => "statemap",
            StreamKind::BeatInfo => "beatinfo",
            StreamKind::FileTransfer => "filetransfer",
            StreamKind::TimeSynchronization => "timesync",
            StreamKind::Broadcast => "broadcast",
            StreamKind::Eaas => "eaas",
            StreamKind::Syncing => "syncing",
            StreamKind::Unknown => "unknown",
        }
    }

    /// Services whose messages are u32 length-prefixed after the hello (`stagelinq.md` 1.4).
    pub fn is_length_prefixed(self) -> bool {
        matches!(
            self,
            StreamKind::StateMap
                | StreamKind::BeatInfo
                | StreamKind::FileTransfer
                | StreamKind::TimeSynchronization
                | StreamKind::Broadcast
                | StreamKind::Syncing
        )
    }
}

/// The service a connection carries, from its first bytes in one direction and the name the
/// directory announced for its server port (if any). A hello naming a known service wins,
/// then the announcement, then the shape of the first message. `Unknown` when nothing fits
/// (including when too few bytes have arrived to tell).
pub fn classify_stream(first_bytes: &[u8], announced: Option<&str>) -> StreamKind {
    classify(first_bytes, announced).unwrap_or(StreamKind::Unknown)
}

/// As `classify_stream`, but None while more bytes could still decide.
pub(crate) fn classify(b: &[u8], announced: Option<&str>) -> Option<StreamKind> {
    match directory::frame_announcement(b) {
        Framing::Complete(n) => {
            if let Ok(hello) = ServiceAnnouncement::parse(&b[..n]) {
                let kind = StreamKind::from_service_name(&hello.service);
                if kind != StreamKind::Unknown {
                    // A second announcement by the same token right after: this is a
                    // directory connection listing services, not a service hello.
                    return Some(if is_announcement_by(&b[n..], hello.token) {
                        StreamKind::Directory
                    } else {
                        kind
                    });
                }
            }
        }
        // Might still be a hello: wait (frame_announcement bounds the name length).
        Framing::Incomplete => return None,
        Framing::Invalid => {}
    }
    if let Some(k) = announced.map(StreamKind::from_service_name) {
        if k != StreamKind::Unknown {
            return Some(k);
        }
    }
    by_shape(b)
}

fn is_announcement_by(b: &[u8], token: Token) -> bool {
    wire::read_u32(b, 0, "id") == Ok(directory::ID_SERVICE_ANNOUNCEMENT)
        && b.get(4..20) == Some(&token.0[..])
}

/// Judge by the first message alone.
fn by_shape(b: &[u8]) -> Option<StreamKind> {
    if b.len() < 8 {
        return None;
    }
    for (kind, magic) in [
        (StreamKind::StateMap, statemap::MAGIC),
        (StreamKind::FileTransfer, filetransfer::MAGIC),
    ] {
        if &b[4..8] == magic {
            return Some(kind);
        }
    }
    if b.starts_with(b"PRI * HTTP/2.0") || b.starts_with(b"GET /") || b.starts_with(b"HTTP/1.") {
        return Some(StreamKind::Eaas);
    }
    let first = wire::read_u32(b, 0, "first word").ok()?;
    // Directory messages: ServicesRequest (20 bytes) or Reference (44) by id; a length prefix
    // of 1 or 2 would be too short for any service message.
    if first == directory::ID_SERVICES_REQUEST || first == directory::ID_REFERENCE {
        return Some(StreamKind::Directory);
    }
    if b.len() < 20 && wire::read_u32(b, 4, "id") == Ok(beatinfo::ID_BEAT_EMIT) {
        return None;
    }
    if beatinfo::looks_like_start(b, MAX_DECKS) {
        return Some(StreamKind::BeatInfo);
    }
    if timesync::looks_like_start(b) {
        return Some(StreamKind::TimeSynchronization);
    }
    if broadcast::looks_like_start(b, usize::MAX) {
        return Some(StreamKind::Broadcast);
    }
    // Undecided: the other direction's hello may still name the service.
    None
}

/// Most decks a BeatInfo emit is believed to carry (4 on a Prime 4); only for judging starts.
pub const MAX_DECKS: usize = 8;
/// Longest Syncing frame accepted as a message start after a gap (its format is unknown).
pub const MAX_SYNCING_START_LEN: u32 = 64 * 1024;

/// Whether a message of `kind` could start at `b[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidate {
    Yes,
    No,
    NeedMore,
}

/// Could a message of this stream start at `b[0]`? `tokens` are the tokens already seen on
/// the stream (directory messages start with one); `max_len` bounds length prefixes.
pub(crate) fn candidate(kind: StreamKind, b: &[u8], tokens: &[Token], max_len: usize) -> Candidate {
    use Candidate::*;
    let need = |n: usize| b.len() < n;
    let len = || wire::read_u32(b, 0, "len").map(|v| v as usize).unwrap_or(0);
    match kind {
        StreamKind::StateMap | StreamKind::FileTransfer => {
            if need(8) {
                return NeedMore;
            }
            let (magic, min) = if kind == StreamKind::StateMap {
                (statemap::MAGIC, statemap::HEADER_LEN)
            } else {
                (filetransfer::MAGIC, filetransfer::HEADER_LEN)
            };
            let ok = &b[4..8] == magic && (min - 4..=max_len).contains(&len());
            if ok {
                Yes
            } else {
                No
            }
        }
        StreamKind::BeatInfo => {
            if need(8) {
                return NeedMore;
            }
            if wire::read_u32(b, 4, "id") == Ok(beatinfo::ID_BEAT_EMIT) && need(20) {
                return NeedMore;
            }
            yes_if(beatinfo::looks_like_start(b, MAX_DECKS))
        }
        StreamKind::TimeSynchronization => {
            if need(8) {
                return NeedMore;
            }
            yes_if(timesync::looks_like_start(b))
        }
        StreamKind::Broadcast => {
            if need(5) {
                return NeedMore;
            }
            yes_if(broadcast::looks_like_start(b, max_len))
        }
        StreamKind::Syncing => {
            if need(4) {
                return NeedMore;
            }
            yes_if(len() as u64 <= u64::from(MAX_SYNCING_START_LEN))
        }
        StreamKind::Directory => directory_candidate(b, tokens),
        StreamKind::Eaas | StreamKind::Unknown => No,
    }
}

fn yes_if(ok: bool) -> Candidate {
    if ok {
        Candidate::Yes
    } else {
        Candidate::No
    }
}

fn directory_candidate(b: &[u8], tokens: &[Token]) -> Candidate {
    if b.len() < 20 {
        return Candidate::NeedMore;
    }
    let id = wire::read_u32(b, 0, "id").unwrap_or(u32::MAX);
    if id > directory::ID_SERVICES_REQUEST {
        return Candidate::No;
    }
    // Every directory message carries a peer's token right after the id; a Reference echo
    // carries the originator's there and the echoer's second (`stagelinq.md` 1.3.3).
    if !tokens.is_empty() {
        let known =
            |r: std::ops::Range<usize>| tokens.iter().any(|t| b.get(r.clone()) == Some(&t.0[..]));
        if id == directory::ID_REFERENCE && b.len() < 36 {
            return Candidate::NeedMore;
        }
        return yes_if(known(4..20) || (id == directory::ID_REFERENCE && known(20..36)));
    }
    match directory::frame(b) {
        Framing::Invalid => Candidate::No,
        Framing::Incomplete if id == directory::ID_SERVICE_ANNOUNCEMENT => Candidate::NeedMore,
        _ => Candidate::Yes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// sc6000_boot.pcap f61: the mixer's StateMap hello.
    const HELLO_STATEMAP: &str =
        "000000000000000000000000800000059504141c0000001000530074006100740065004d00610070c35b";

    #[test]
    fn classifies_the_captures_first_bytes() {
        let hello = parse_hex(HELLO_STATEMAP).unwrap();
        assert_eq!(classify_stream(&hello, None), StreamKind::StateMap);
        // The hello wins over a (wrong) announcement; a partial hello is not yet decidable.
        assert_eq!(
            classify_stream(&hello, Some("BeatInfo")),
            StreamKind::StateMap
        );
        assert_eq!(classify(&hello[..30], None), None);
        // f49: the mixer's ServicesRequest on the main connection.
        let req = parse_hex("000000020000000000000000800000059504141c").unwrap();
        assert_eq!(classify_stream(&req, None), StreamKind::Directory);
        // f70: a beat emit, the first thing the SC6000 sends on BeatInfo.
        let emit = parse_hex("0000005000000002000000084175e0db00000002").unwrap();
        assert_eq!(classify_stream(&emit, None), StreamKind::BeatInfo);
        assert_eq!(classify(&emit[..12], None), None);
        // f69: the SC6000's first StateMap message, a subscribe.
        assert_eq!(
            classify_stream(b"\0\0\0\x3esmaa\0\0\x07\xd2", None),
            StreamKind::StateMap
        );
        // The server side of an announced Broadcast port says nothing by itself.
        assert_eq!(
            classify_stream(b"\0\0\0\x05hello", Some("Broadcast")),
            StreamKind::Broadcast
        );
        assert_eq!(
            classify_stream(&[1, 2, 3, 4, 5, 6, 7, 8, 9], None),
            StreamKind::Unknown
        );
        assert_eq!(classify_stream(&[], None), StreamKind::Unknown);
    }

    #[test]
    fn a_directory_listing_is_not_a_hello() {
        // f51 starts with a ServicesRequest; a peer that announces first (Resolume's
        // `DirectoryService` hello, chrisle/stagelinq-pcap _scratch_pad.md) or lists several
        // services is a directory too.
        let t = Token([0x88; 16]);
        let dir = ServiceAnnouncement::new(t, "DirectoryService", 53471).to_bytes();
        assert_eq!(classify_stream(&dir, None), StreamKind::Directory);
        let mut two = ServiceAnnouncement::new(t, "StateMap", 1).to_bytes();
        two.extend(ServiceAnnouncement::new(t, "BeatInfo", 2).to_bytes());
        assert_eq!(classify_stream(&two, None), StreamKind::Directory);
    }

    #[test]
    fn candidates() {
        let t = Token([9; 16]);
        let r = directory::Reference::ping(t, 5).to_bytes();
        assert_eq!(
            candidate(StreamKind::Directory, &r, &[t], 1 << 20),
            Candidate::Yes
        );
        assert_eq!(
            candidate(StreamKind::Directory, &r, &[Token([1; 16])], 1 << 20),
            Candidate::No
        );
        assert_eq!(
            candidate(StreamKind::Directory, &r[..30], &[t], 1 << 20),
            Candidate::NeedMore
        );
        // An echo of someone else's ping is found by the echoer's token.
        let echo = directory::Reference::ping(Token([1; 16]), 5)
            .echo(t)
            .to_bytes();
        assert_eq!(
            candidate(StreamKind::Directory, &echo, &[t], 1 << 20),
            Candidate::Yes
        );
        let sm = b"\0\0\0\x3esmaa\0\0\x07\xd2";
        assert_eq!(
            candidate(StreamKind::StateMap, sm, &[], 1 << 20),
            Candidate::Yes
        );
        assert_eq!(candidate(StreamKind::StateMap, sm, &[], 16), Candidate::No);
        assert_eq!(
            candidate(StreamKind::FileTransfer, sm, &[], 1 << 20),
            Candidate::No
        );
        assert_eq!(
            candidate(StreamKind::BeatInfo, &[0, 0, 0, 4, 0, 0, 0, 0], &[], 99),
            Candidate::Yes
        );
        assert_eq!(candidate(StreamKind::Eaas, sm, &[], 99), Candidate::No);
    }
}
