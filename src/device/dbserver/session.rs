//! One dbserver connection: greeting, setup, requests answered from the library, teardown
//! (`prodjlink.md` 7.2-7.3).
//!
//! Answers, by request:
//! * `0000` setup: `4000 [0, own D]` for an accepted requester ([`ServerRules`]); otherwise
//!   `4003 [0]` and the connection closes (see `rules.rs` for why).
//! * menus (`1000`-`18xx`, `2006`), search `1300`, metadata `2002`, track info `2102`:
//!   `4000 [type, count]`, the rows kept for the next render at that menu location; a track
//!   that is not there gets `4000 [type, ffffffff]` (dysentery `track_metadata.adoc`).
//! * `3000` render: `4001`, the rows from `offset` (at most `limit`), `4201`.
//! * artwork, beat grid, cue lists, waveforms: the blob answers of `answers.rs`.
//! * `3e03` USB information: `4b02 [3e03, 0, own D, ""]` (LinkInfo); never `4003`, which makes
//!   a deck give up (UE F25).
//! * `3100`: a bare `4000 [3100, 0]` (`prodjlink.md` 7.3; S10j).
//! * `0001` menu close: no answer and no state dropped (UE §5.2).
//! * `0100` teardown: no answer; the server closes (`prodjlink.md` 7.3; LinkInfo2).
//! * anything else, and requests for another slot: `4003 [type]`, the error answer
//!   (`prodjlink.md` 7.3), and the connection stays open.

use std::sync::Arc;

use crate::dbserver::framer::{Discard, Framed, MessageFramer};
use crate::dbserver::menu_item::MenuItem;
use crate::dbserver::message::SETUP_TRANSACTION_ID;
use crate::dbserver::requests::{Dmst, MenuRequest, RenderMenuRequest, TrackDataRequest};
use crate::dbserver::responses::{
    MenuAvailable, MenuHeader, Unavailable, UsbInfo, MENU_FOOTER_TYPE, NOT_FOUND,
};
use crate::dbserver::{Body, DbString, Greeting, Message};
use crate::device::library::{Library, Track};

use super::{answers, menus, ServerRules, Verdict};

/// Bounds that keep a hostile client from growing the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request accepted, in bytes (the framer's buffer). Real requests are under
    /// 200 bytes; a search string is the longest.
    pub max_request: usize,
    /// Unsent answer bytes beyond which the client counts as not reading.
    pub max_backlog: usize,
    /// Menus kept at once (one per menu location byte of DMST).
    pub max_menus: usize,
    /// Exchanges kept for [`DbServerSession::take_exchanges`] between two takes.
    pub max_log: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request: 4096,
            max_backlog: 4 << 20,
            max_menus: 8,
            max_log: 256,
        }
    }
}

/// Why the session asked to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent `0100`.
    Teardown,
    /// The setup named a requester the rules refuse.
    Refused { requester: u32 },
    /// The first bytes were not a greeting.
    NoGreeting,
    /// Bytes that are not a message (garbage, a malformed message).
    Garbage,
    /// A message longer than [`Limits::max_request`] (a length of 4 GiB, say).
    TooLarge,
    /// More than [`Limits::max_backlog`] answer bytes waiting: the client does not read.
    NotReading,
}

/// One request and what it got, for the device's log ("query answered").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub transaction_id: u32,
    pub request_type: u16,
    /// Type of the first answer; `None` for requests that get none (`0001`, `0100`).
    pub answer_type: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Setup,
    Ready,
    Closed,
}

/// What a request prepared for the renders that follow. The rows are built again at each
/// render, so a session holds a few bytes per menu however long the menu (500 playlist rows
/// would be ~75 KB a menu, times locations, times connections).
#[derive(Debug, Clone)]
enum Source {
    Menu(MenuRequest),
    Search(String),
    Metadata(u32),
    TrackInfo(u32),
    /// A track that is not there: an empty menu.
    Empty,
}

#[derive(Debug, Clone)]
struct Menu {
    location: u8,
    source: Source,
}

/// One accepted dbserver connection.
#[derive(Debug)]
pub struct DbServerSession {
    library: Arc<Library>,
    rules: ServerRules,
    limits: Limits,
    framer: MessageFramer,
    state: State,
    requester: Option<u8>,
    /// Most recently prepared first.
    menus: Vec<Menu>,
    /// The rows of the latest menu, for the render that usually follows it at once.
    latest_rows: Option<(u8, Vec<MenuItem>)>,
    log: Vec<Exchange>,
    close_reason: Option<CloseReason>,
}

impl DbServerSession {
    pub fn new(library: Arc<Library>, rules: ServerRules) -> Self {
        Self::with_limits(library, rules, Limits::default())
    }

    pub fn with_limits(library: Arc<Library>, rules: ServerRules, limits: Limits) -> Self {
        DbServerSession {
            library,
            rules,
            limits,
            framer: MessageFramer::with_max_buffer(limits.max_request),
            state: State::Greeting,
            requester: None,
            menus: Vec::new(),
            latest_rows: None,
            log: Vec::new(),
            close_reason: None,
        }
    }

    /// The device number of the client, once its setup was accepted.
    pub fn requester(&self) -> Option<u8> {
        self.requester
    }

    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// Bytes held waiting for the rest of a request (at most [`Limits::max_request`]).
    pub fn buffered(&self) -> usize {
        self.framer.buffered()
    }

    /// The exchanges since the last call (the oldest are dropped past [`Limits::max_log`]).
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.log)
    }

    /// Feed bytes from the client; answers are appended to `out`, the connection's send queue.
    pub fn on_bytes(&mut self, input: &[u8], out: &mut Vec<u8>) -> Verdict {
        if self.state == State::Closed {
            return Verdict::Close;
        }
        if out.len() > self.limits.max_backlog {
            return self.close(CloseReason::NotReading);
        }
        for framed in self.framer.push(input) {
            let verdict = match framed {
                Framed::Greeting { .. } if self.state == State::Greeting => {
                    out.extend_from_slice(&Greeting::default().to_bytes());
                    self.state = State::Setup;
                    Verdict::Keep
                }
                Framed::Greeting { .. } | Framed::Malformed { .. } => {
                    self.close(CloseReason::Garbage)
                }
                Framed::Message { .. } if self.state == State::Greeting => {
                    self.close(CloseReason::NoGreeting)
                }
                Framed::Message { message, .. } => self.on_message(&message, out),
                Framed::Discarded {
                    reason: Discard::TooLarge,
                    ..
                } => self.close(CloseReason::TooLarge),
                Framed::Discarded { .. } => self.close(CloseReason::Garbage),
            };
            if verdict == Verdict::Close {
                return Verdict::Close;
            }
            if out.len() > self.limits.max_backlog {
                return self.close(CloseReason::NotReading);
            }
        }
        Verdict::Keep
    }

    fn close(&mut self, reason: CloseReason) -> Verdict {
        self.state = State::Closed;
        self.close_reason.get_or_insert(reason);
        self.menus = Vec::new();
        self.latest_rows = None;
        Verdict::Close
    }

    fn record(&mut self, m: &Message, answer_type: Option<u16>) {
        if self.log.len() >= self.limits.max_log {
            self.log.remove(0);
        }
        self.log.push(Exchange {
            transaction_id: m.transaction_id,
            request_type: m.message_type,
            answer_type,
        });
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<u8>) -> Verdict {
        let tx = m.transaction_id;
        let body = Body::from_message(m);
        if self.state == State::Setup {
            let Some(Body::Setup(setup)) = body else {
                // Nothing is answered before the setup names the requester.
                return self.answer(m, out, unavailable(tx, m.message_type));
            };
            if !self.rules.accepts(setup.requester) {
                self.answer(m, out, unavailable(tx, m.message_type));
                return self.close(CloseReason::Refused {
                    requester: setup.requester,
                });
            }
            self.requester = Some(setup.requester as u8);
            self.state = State::Ready;
            return self.answer(m, out, self.setup_answer());
        }
        let answer = match body {
            Some(Body::Setup(setup)) if self.rules.accepts(setup.requester) => self.setup_answer(),
            Some(Body::MenuClose) => {
                self.record(m, None);
                return Verdict::Keep;
            }
            Some(Body::Teardown) => {
                self.record(m, None);
                return self.close(CloseReason::Teardown);
            }
            Some(Body::RenderMenu(r)) => return self.render(m, &r, out),
            Some(Body::UsbInfoRequest(_)) => UsbInfo {
                request_type: m.message_type as u32,
                unknown_2: 0,
                player: self.rules.own_number as u32,
                text: DbString::new(""),
            }
            .to_message(tx),
            Some(b) if b.dmst().is_some_and(|d| d.slot != self.rules.slot) => {
                unavailable(tx, m.message_type)
            }
            Some(Body::Menu(r)) => match menus::menu(&self.library, &r) {
                Some(items) => self.prepare(m, r.dmst, Source::Menu(r), items),
                None => unavailable(tx, m.message_type),
            },
            Some(Body::Search(r)) => {
                let text = r.text.text();
                let items = menus::search(&self.library, &text);
                self.prepare(m, r.dmst, Source::Search(text), items)
            }
            Some(Body::Metadata(r)) => match self.library.track(r.rekordbox_id) {
                Some(t) => {
                    let items = menus::metadata(&self.library, t);
                    self.prepare(m, r.dmst, Source::Metadata(t.id), items)
                }
                None => self.not_found(m, r.dmst),
            },
            // The demo library holds rekordbox tracks only.
            Some(Body::UnanalyzedMetadata(r)) => self.not_found(m, r.dmst),
            Some(Body::TrackData(r)) => self.track_data(m, &r),
            Some(Body::Artwork(r)) => match self.library.artwork(r.artwork_id) {
                Some(art) => answers::artwork(tx, art, r.variant == Some(1)),
                None => unavailable(tx, m.message_type),
            },
            Some(Body::WaveformPreview(r)) => match self.library.track(r.rekordbox_id) {
                Some(t) => answers::waveform_preview(tx, t),
                None => unavailable(tx, m.message_type),
            },
            None if m.message_type == 0x3100 => MenuAvailable {
                request_type: 0x3100,
                count: 0,
            }
            .to_message(tx),
            // `0001` with arguments is still a menu close: never answered.
            None if m.message_type == 0x0001 => {
                self.record(m, None);
                return Verdict::Keep;
            }
            // Colour and 3-band waveforms (2c04), VBR indexes (2504), responses sent to a
            // server, unknown types: the error answer.
            _ => unavailable(tx, m.message_type),
        };
        self.answer(m, out, answer)
    }

    fn setup_answer(&self) -> Message {
        MenuAvailable {
            request_type: 0,
            count: self.rules.own_number as u32,
        }
        .to_message(SETUP_TRANSACTION_ID)
    }

    fn answer(&mut self, request: &Message, out: &mut Vec<u8>, answer: Message) -> Verdict {
        self.record(request, Some(answer.message_type));
        put(out, &answer);
        Verdict::Keep
    }

    /// Keep `source` for the renders at the request's menu location (and its rows for the
    /// next one) and say how many rows it has.
    fn prepare(&mut self, m: &Message, dmst: Dmst, source: Source, rows: Vec<MenuItem>) -> Message {
        let count = rows.len() as u32;
        self.keep_menu(dmst.menu, source);
        self.latest_rows = Some((dmst.menu, rows));
        MenuAvailable {
            request_type: m.message_type as u32,
            count,
        }
        .to_message(m.transaction_id)
    }

    fn not_found(&mut self, m: &Message, dmst: Dmst) -> Message {
        self.keep_menu(dmst.menu, Source::Empty);
        MenuAvailable {
            request_type: m.message_type as u32,
            count: NOT_FOUND,
        }
        .to_message(m.transaction_id)
    }

    fn keep_menu(&mut self, location: u8, source: Source) {
        self.latest_rows = None;
        self.menus.retain(|menu| menu.location != location);
        self.menus.truncate(self.limits.max_menus.saturating_sub(1));
        self.menus.insert(0, Menu { location, source });
    }

    fn track_data(&mut self, m: &Message, r: &TrackDataRequest) -> Message {
        let tx = m.transaction_id;
        let Some(t): Option<&Track> = self.library.track(r.rekordbox_id) else {
            return match r.message_type {
                0x2102 => self.not_found(m, r.dmst),
                _ => unavailable(tx, m.message_type),
            };
        };
        match r.message_type {
            0x2102 => {
                let items = menus::track_info(t);
                self.prepare(m, r.dmst, Source::TrackInfo(t.id), items)
            }
            0x2104 => answers::cue_list(tx, t),
            0x2204 => answers::beat_grid(tx, t),
            0x2904 => answers::waveform_detail(tx, t),
            0x2b04 => answers::extended_cue_list(tx, t),
            // 2504: the demo files are constant-bitrate; no VBR index to give.
            _ => unavailable(tx, m.message_type),
        }
    }

    /// `4001`, the rows `offset..offset + limit` of the menu at the request's location, `4201`.
    /// A render with no menu prepared gets an empty one.
    fn render(&mut self, m: &Message, r: &RenderMenuRequest, out: &mut Vec<u8>) -> Verdict {
        let tx = m.transaction_id;
        self.record(m, Some(MenuHeader::TYPE));
        put(out, &MenuHeader::default().to_message(tx));
        if let Some(menu) = self.menus.iter().find(|menu| menu.location == r.dmst.menu) {
            let items = match &self.latest_rows {
                Some((location, rows)) if *location == menu.location => {
                    std::borrow::Cow::Borrowed(rows)
                }
                _ => std::borrow::Cow::Owned(self.rows(&menu.source)),
            };
            let from = (r.offset as usize).min(items.len());
            let to = from.saturating_add(r.limit as usize).min(items.len());
            for item in &items[from..to] {
                put(out, &item.to_message(tx));
            }
        }
        put(out, &Message::new(tx, MENU_FOOTER_TYPE, Vec::new()));
        Verdict::Keep
    }
}

impl DbServerSession {
    /// The rows of a prepared menu, built from the library as the request asked.
    fn rows(&self, source: &Source) -> Vec<MenuItem> {
        let lib = &self.library;
        match source {
            Source::Menu(r) => menus::menu(lib, r).unwrap_or_default(),
            Source::Search(text) => menus::search(lib, text),
            Source::Metadata(id) => lib
                .track(*id)
                .map_or_else(Vec::new, |t| menus::metadata(lib, t)),
            Source::TrackInfo(id) => lib.track(*id).map_or_else(Vec::new, menus::track_info),
            Source::Empty => Vec::new(),
        }
    }
}

fn unavailable(tx: u32, request_type: u16) -> Message {
    Unavailable {
        request_type: request_type as u32,
        extra: Vec::new(),
    }
    .to_message(tx)
}

/// Append a message to the send queue, written in place at its exact length.
fn put(out: &mut Vec<u8>, m: &Message) {
    let at = out.len();
    out.resize(at + m.buffer_len(), 0);
    m.emit(&mut out[at..]);
}
