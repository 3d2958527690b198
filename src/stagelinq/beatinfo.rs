//! BeatInfo service messages (`stagelinq.md` 1.6): `u32 len`, `u32 id`, body. No magic; the
//! device streams beat emits about 29 times a second after the client's start frame.

use crate::dissect::Depth;
use std::borrow::Cow;

use crate::dissect::{Dissection, FieldSink, Knowledge, Proto, Value};

use super::wire::{self, Error, Result};

mod field {
    use std::ops::Range;
    // stagelinq.md 1.6
    pub const LENGTH: Range<usize> = 0..4;
    pub const ID: Range<usize> = 4..8;
    // Beat emit (id 2): u64 clock, u32 n, n x {f64 beat, f64 totalBeats, f64 bpm}, n x f64.
    pub const CLOCK: Range<usize> = 8..16;
    pub const DECK_COUNT: Range<usize> = 16..20;
    pub const DECKS: usize = 20;
    pub const DECK_LEN: usize = 24;
    pub const BEAT: Range<usize> = 0..8;
    pub const TOTAL_BEATS: Range<usize> = 8..16;
    pub const BPM: Range<usize> = 16..24;
    pub const SAMPLES_LEN: usize = 8;

    /// Deck `i`'s beat/totalBeats/bpm triple.
    pub fn deck(i: usize) -> Range<usize> {
        let start = DECKS.saturating_add(i.saturating_mul(DECK_LEN));
        start..start.saturating_add(DECK_LEN)
    }

    /// Deck `i`'s play position in samples, after all `n` triples. `n` may come from a
    /// damaged message, so the arithmetic saturates (the range then lies past the end).
    pub fn samples(n: usize, i: usize) -> Range<usize> {
        let start = DECKS
            .saturating_add(n.saturating_mul(DECK_LEN))
            .saturating_add(i.saturating_mul(SAMPLES_LEN));
        start..start.saturating_add(SAMPLES_LEN)
    }
}

pub const ID_START_STREAM: u32 = 0;
pub const ID_STOP_STREAM: u32 = 1;
pub const ID_BEAT_EMIT: u32 = 2;
/// Bytes per deck in a beat emit: the triple plus the position.
pub const BYTES_PER_DECK: usize = field::DECK_LEN + field::SAMPLES_LEN;

/// One deck's beat state in a beat emit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeckBeat {
    /// Cumulative, fractional beat number (0 with no track).
    pub beat: f64,
    /// Beats in the loaded track; constant per track.
    pub total_beats: f64,
    pub bpm: f64,
    /// Play position in samples (go-stagelinq's "timeline", honusz's "samples";
    /// `stagelinq.md` 1.6 shows it equals beat x 60 / bpm seconds at the track's rate).
    pub samples: f64,
}

impl DeckBeat {
    /// Position in seconds computed from beat and BPM (None without a tempo).
    pub fn timeline_seconds(&self) -> Option<f64> {
        (self.bpm > 0.0 && self.bpm.is_finite()).then(|| self.beat * 60.0 / self.bpm)
    }
}

/// A beat emit (id 2): the device clock and every deck's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BeatEmit {
    /// Device clock in nanoseconds (`stagelinq.md` 1.6; not the Reference clock).
    pub clock: u64,
    pub decks: Vec<DeckBeat>,
}

/// One BeatInfo message.
#[derive(Debug, Clone, PartialEq)]
pub enum BeatInfoMessage {
    /// id 0, no body: start streaming. Must be exactly these 8 bytes (`stagelinq.md` 1.6).
    StartStream,
    /// id 1, no body: stop streaming.
    StopStream,
    /// id 2.
    Beat(BeatEmit),
    /// Any other id, body kept.
    Other { id: u32, body: Vec<u8> },
}

impl BeatInfoMessage {
    pub fn id(&self) -> u32 {
        match self {
            Self::StartStream => ID_START_STREAM,
            Self::StopStream => ID_STOP_STREAM,
            Self::Beat(_) => ID_BEAT_EMIT,
            Self::Other { id, .. } => *id,
        }
    }

    pub fn parse(b: &[u8]) -> Result<Self> {
        wire::check_prefix(b)?;
        let id = wire::read_u32(b, field::ID.start, "id")?;
        let body_len = b.len() - field::ID.end;
        match id {
            ID_START_STREAM | ID_STOP_STREAM if body_len != 0 => Err(Error::TrailingBytes {
                what: "start/stop stream",
                count: body_len,
            }),
            ID_START_STREAM => Ok(Self::StartStream),
            ID_STOP_STREAM => Ok(Self::StopStream),
            ID_BEAT_EMIT => parse_emit(b).map(Self::Beat),
            id => Ok(Self::Other {
                id,
                body: b[field::ID.end..].to_vec(),
            }),
        }
    }

    pub fn buffer_len(&self) -> usize {
        field::ID.end
            + match self {
                Self::StartStream | Self::StopStream => 0,
                Self::Beat(e) => field::DECKS - field::ID.end + e.decks.len() * BYTES_PER_DECK,
                Self::Other { body, .. } => body.len(),
            }
    }

    /// Write into `buf`, which must hold `buffer_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        wire::put_u32(
            buf,
            field::LENGTH.start,
            wire::prefix_value(self.buffer_len()),
        );
        wire::put_u32(buf, field::ID.start, self.id());
        match self {
            Self::StartStream | Self::StopStream => {}
            Self::Beat(e) => {
                let n = e.decks.len();
                wire::put_u64(buf, field::CLOCK.start, e.clock);
                wire::put_u32(buf, field::DECK_COUNT.start, n as u32);
                for (i, d) in e.decks.iter().enumerate() {
                    let deck = &mut buf[field::deck(i)];
                    deck[field::BEAT].copy_from_slice(&d.beat.to_be_bytes());
                    deck[field::TOTAL_BEATS].copy_from_slice(&d.total_beats.to_be_bytes());
                    deck[field::BPM].copy_from_slice(&d.bpm.to_be_bytes());
                    buf[field::samples(n, i)].copy_from_slice(&d.samples.to_be_bytes());
                }
            }
            Self::Other { body, .. } => buf[field::ID.end..].copy_from_slice(body),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// Deck count a beat emit of `total_len` bytes must declare (len = 16 + 32 n).
fn decks_for_len(total_len: usize) -> Option<usize> {
    let rest = total_len.checked_sub(field::DECKS)?;
    (rest % BYTES_PER_DECK == 0).then_some(rest / BYTES_PER_DECK)
}

fn parse_emit(b: &[u8]) -> Result<BeatEmit> {
    let clock = wire::read_u64(b, field::CLOCK.start, "clock")?;
    let n = wire::read_u32(b, field::DECK_COUNT.start, "deck count")? as usize;
    // The deck count must match the length before anything is sized from it.
    if decks_for_len(b.len()) != Some(n) {
        return Err(Error::Invalid {
            what: "beat emit",
            reason: "deck count does not match the message length",
        });
    }
    let f = |r: std::ops::Range<usize>| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[r]);
        f64::from_be_bytes(a)
    };
    let decks = (0..n)
        .map(|i| {
            let start = field::deck(i).start;
            DeckBeat {
                beat: f(start + field::BEAT.start..start + field::BEAT.end),
                total_beats: f(start + field::TOTAL_BEATS.start..start + field::TOTAL_BEATS.end),
                bpm: f(start + field::BPM.start..start + field::BPM.end),
                samples: f(field::samples(n, i)),
            }
        })
        .collect();
    Ok(BeatEmit { clock, decks })
}

/// True when `b` starts like a BeatInfo message (`stagelinq.md` 0 item 6: `len=4,id=0|1`, or
/// id 2 with a length that fits the deck count). `max_decks` bounds the plausible count.
pub fn looks_like_start(b: &[u8], max_decks: usize) -> bool {
    let (Ok(len), Ok(id)) = (wire::read_u32(b, 0, "len"), wire::read_u32(b, 4, "id")) else {
        return false;
    };
    match id {
        ID_START_STREAM | ID_STOP_STREAM => len == 4,
        ID_BEAT_EMIT => match wire::read_u32(b, field::DECK_COUNT.start, "n") {
            Ok(n) => {
                (n as usize) <= max_decks && decks_for_len(len as usize + 4) == Some(n as usize)
            }
            Err(_) => decks_for_len(len as usize + 4).is_some_and(|n| n <= max_decks),
        },
        _ => false,
    }
}

fn f64_at(b: &[u8]) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    f64::from_be_bytes(a)
}

/// Dissect one BeatInfo message (types `beat_info_start`, `beat_info_stop`, `beat_info`,
/// `beat_info_other`).
pub fn dissect(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    wire::accounted(dissect_fields(b, detail), b, detail)
}

fn dissect_fields(b: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    let id = wire::read_u32(b, field::ID.start, "id").ok();
    let type_name = match id {
        Some(ID_START_STREAM) => "beat_info_start",
        Some(ID_STOP_STREAM) => "beat_info_stop",
        Some(ID_BEAT_EMIT) => "beat_info",
        Some(_) => "beat_info_other",
        None => "beat_info",
    };
    let mut d = Dissection::new(Proto::StageLinq, type_name);
    d.kind = id;
    let mut s = FieldSink::new(b, &mut d, detail);
    wire::dissect_prefix(&mut s);
    s.uint_with("id", field::ID, |v| {
        Some(
            match v as u32 {
                ID_START_STREAM => "start stream",
                ID_STOP_STREAM => "stop stream",
                ID_BEAT_EMIT => "beat emit",
                _ => "unknown id",
            }
            .to_string(),
        )
    });
    match id {
        Some(ID_START_STREAM) | Some(ID_STOP_STREAM) => {
            s.unknown_rest(field::ID.end);
            if b.len() > field::ID.end {
                d.set_malformed("start/stop frame with a body (devices ignore such frames)");
            }
            d.summary = format!("{} stream", if id == Some(0) { "start" } else { "stop" });
        }
        Some(ID_BEAT_EMIT) => dissect_emit(&mut s),
        Some(other) => {
            s.unknown_rest(field::ID.end);
            d.summary = format!("id {other:#x}, {} body bytes", b.len() - field::ID.end);
        }
        None => d.summary = "truncated BeatInfo message".to_string(),
    }
    d
}

/// Field names of the first decks' values, so that naming them allocates nothing.
const DECK_NAMES: [[&str; 4]; 4] = [
    [
        "deck1_beat",
        "deck1_total_beats",
        "deck1_bpm",
        "deck1_samples",
    ],
    [
        "deck2_beat",
        "deck2_total_beats",
        "deck2_bpm",
        "deck2_samples",
    ],
    [
        "deck3_beat",
        "deck3_total_beats",
        "deck3_bpm",
        "deck3_samples",
    ],
    [
        "deck4_beat",
        "deck4_total_beats",
        "deck4_bpm",
        "deck4_samples",
    ],
];

fn deck_field_name(deck: usize, what: usize) -> Cow<'static, str> {
    match DECK_NAMES.get(deck) {
        Some(names) => Cow::Borrowed(names[what]),
        None => {
            let suffix = ["beat", "total_beats", "bpm", "samples"][what];
            Cow::Owned(format!("deck{}_{suffix}", deck + 1))
        }
    }
}

fn dissect_emit(s: &mut FieldSink<'_>) {
    let clock = s.uint_with("clock", field::CLOCK, |v| {
        Some(format!(
            "device clock {}.{:09} s (nanoseconds)",
            v / 1_000_000_000,
            v % 1_000_000_000
        ))
    });
    let n = s.uint("deck_count", field::DECK_COUNT);
    let total = s.bytes.len();
    let mut decks = Vec::new();
    // `clock 35.457982 s deck1 121.98 BPM beat 1.00/0 | deck2 ...`
    let mut summary = String::new();
    match clock.filter(|_| s.summary) {
        Some(c) => {
            summary.reserve(96);
            summary.push_str("clock ");
            summary.push_str(itoa::Buffer::new().format(c / 1_000_000_000));
            summary.push('.');
            let micros = c % 1_000_000_000 / 1000;
            let mut ib = itoa::Buffer::new();
            let digits = ib.format(micros);
            for _ in digits.len()..6 {
                summary.push('0');
            }
            summary.push_str(digits);
            summary.push_str(" s ");
        }
        None if s.summary => summary.push_str("clock ? "),
        None => {}
    }
    if let Some(n) = n {
        if decks_for_len(total) != Some(n as usize) {
            s.out.set_malformed(format!(
                "deck count {n} does not fit a {total}-byte beat emit"
            ));
        }
        // Only decks whose bytes are present are read, so a wild count costs nothing.
        let n = n as usize;
        let present = total.saturating_sub(field::DECKS) / BYTES_PER_DECK;
        for i in 0..n.min(present) {
            let deck = field::deck(i);
            let mut get = |what: usize, r: std::ops::Range<usize>| -> Option<f64> {
                let name = deck_field_name(i, what);
                let v = f64_at(s.get(&name, r.clone())?);
                if s.wants() {
                    s.push(name, Some(r), Value::F(v), Knowledge::Known, || None);
                }
                Some(v)
            };
            let (Some(beat), Some(total_beats), Some(bpm), Some(samples)) = (
                get(0, deck.start..deck.start + 8),
                get(1, deck.start + 8..deck.start + 16),
                get(2, deck.start + 16..deck.end),
                get(3, field::samples(n, i)),
            ) else {
                break;
            };
            if s.wants() {
                let db = DeckBeat {
                    beat,
                    total_beats,
                    bpm,
                    samples,
                };
                decks.push(Value::Obj(vec![
                    ("beat".into(), Value::F(beat)),
                    ("total_beats".into(), Value::F(total_beats)),
                    ("bpm".into(), Value::F(bpm)),
                    ("samples".into(), Value::F(samples)),
                    (
                        "timeline".into(),
                        db.timeline_seconds().map_or(Value::Null, Value::F),
                    ),
                ]));
            }
            if !s.summary {
                continue;
            }
            if i > 0 {
                summary.push_str(" | ");
            }
            summary.push_str("deck");
            summary.push_str(itoa::Buffer::new().format(i + 1));
            summary.push(' ');
            crate::util::push_fixed(&mut summary, bpm, 2);
            summary.push_str(" BPM beat ");
            crate::util::push_fixed(&mut summary, beat, 2);
            summary.push('/');
            crate::util::push_fixed(&mut summary, total_beats, 0);
        }
        s.unknown_rest(field::DECKS.saturating_add(n.saturating_mul(BYTES_PER_DECK)));
    }
    if s.wants() {
        s.derived("decks", Value::List(decks));
    }
    if s.summary {
        s.out.summary = summary;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parse_hex;

    /// sc6000_boot.pcap f70: the first beat emit (2 decks, no track, 121.975 BPM).
    const F70: &str = "0000005000000002000000084175e0db0000000200000000000000000000000000000000405e7e6df800000100000000000000000000000000000000405e7e6df800000100000000000000000000000000000000";

    fn sc6000_deck() -> DeckBeat {
        DeckBeat {
            bpm: 121.97546195983888,
            ..DeckBeat::default()
        }
    }

    #[test]
    fn real_beat_emit_f70() {
        let b = parse_hex(F70).unwrap();
        let repr = BeatInfoMessage::Beat(BeatEmit {
            clock: 35_457_982_683,
            decks: vec![sc6000_deck(), sc6000_deck()],
        });
        assert_eq!(BeatInfoMessage::parse(&b).unwrap(), repr);
        assert_eq!(repr.to_bytes(), b);
        let d = dissect(&b, true);
        assert_eq!(
            (d.type_name.as_ref(), d.malformed.as_deref()),
            ("beat_info", None)
        );
        assert_eq!(d.field("clock").unwrap().as_u64(), Some(35_457_982_683));
        let Some(Value::List(decks)) = d.field("decks") else {
            panic!("no decks")
        };
        assert_eq!(decks.len(), 2);
        let Value::Obj(deck) = &decks[0] else {
            panic!()
        };
        let names: Vec<&str> = deck.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["beat", "total_beats", "bpm", "samples", "timeline"]);
        assert_eq!(deck[2].1, Value::F(121.97546195983888));
        let covered: usize = d
            .fields
            .iter()
            .filter_map(|f| f.range.as_ref())
            .map(|r| r.len())
            .sum();
        assert_eq!(covered, b.len());
        assert_eq!(
            d.summary,
            "clock 35.457982 s deck1 121.98 BPM beat 0.00/0 | deck2 121.98 BPM beat 0.00/0"
        );
    }

    #[test]
    fn real_start_frame_f66_and_stop() {
        // f66 ends with the start frame right after the hello.
        let start = parse_hex("0000000400000000").unwrap();
        assert_eq!(
            BeatInfoMessage::parse(&start),
            Ok(BeatInfoMessage::StartStream)
        );
        assert_eq!(BeatInfoMessage::StartStream.to_bytes(), start);
        assert_eq!(dissect(&start, false).type_name, "beat_info_start");
        let stop = parse_hex("0000000400000001").unwrap();
        assert_eq!(BeatInfoMessage::StopStream.to_bytes(), stop);
        assert_eq!(
            BeatInfoMessage::parse(&stop),
            Ok(BeatInfoMessage::StopStream)
        );
        assert!(looks_like_start(&start, 8) && looks_like_start(&stop, 8));
        assert!(looks_like_start(&parse_hex(F70).unwrap(), 8));
    }

    #[test]
    fn four_deck_emit_from_the_reference() {
        // stagelinq.md 1.6: a Prime 4 sends 4 decks (len 144); deck 1 at 110 BPM, beat
        // 285.4148, position 6,865,523.5 samples = 155.68 s at 44.1 kHz.
        let deck1 = DeckBeat {
            beat: 285.41480920379786,
            total_beats: 400.99265306122453,
            bpm: 110.0,
            samples: 6865523.501393173,
        };
        let e = BeatInfoMessage::Beat(BeatEmit {
            clock: 7_095_225_450_924,
            decks: vec![
                deck1,
                DeckBeat::default(),
                DeckBeat::default(),
                DeckBeat::default(),
            ],
        });
        let b = e.to_bytes();
        assert_eq!(&b[..8], parse_hex("0000009000000002").unwrap());
        assert_eq!(BeatInfoMessage::parse(&b).unwrap(), e);
        let t = deck1.timeline_seconds().unwrap();
        assert!((t - deck1.samples / 44_100.0).abs() < 0.01, "{t}");
    }

    #[test]
    fn truncation_and_garbage() {
        let b = parse_hex(F70).unwrap();
        for n in 0..b.len() {
            assert!(BeatInfoMessage::parse(&b[..n]).is_err(), "prefix {n}");
            assert!(dissect(&b[..n], false).malformed.is_some(), "prefix {n}");
        }
        // A deck count that disagrees with the length: error, no huge allocation.
        let mut wild = b.clone();
        wild[16..20].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(BeatInfoMessage::parse(&wild).is_err());
        let d = dissect(&wild, false);
        assert!(d.malformed.is_some());
        assert!(!looks_like_start(&wild, 8));
        let other = parse_hex("000000060000000901ff").unwrap();
        let m = BeatInfoMessage::parse(&other).unwrap();
        assert_eq!(
            m,
            BeatInfoMessage::Other {
                id: 9,
                body: vec![1, 0xff]
            }
        );
        assert_eq!(m.to_bytes(), other);
        assert!(BeatInfoMessage::parse(&parse_hex("000000050000000001").unwrap()).is_err());
    }
}
