//! Pairs dbserver responses with their requests and tells each exchange in plain words.
//!
//! Responses echo the transaction id of their request (`prodjlink.md` 7.2). Most requests get
//! one response; a menu request gets a `4000` saying how many items are ready, and the items
//! arrive later as the answer to a separate render request (`3000`): `4001` header, `4101`
//! items, `4201` footer, all with the render's transaction id (7.3). The tracker remembers the
//! menu each `4000` prepared so that the render's items are described as the answer to it.

use super::catalog::{self, slot_phrase};
use super::menu_item::{format_bpm, format_duration, ItemValue, MenuItem};
use super::message::Message;
use super::requests::{AnlzTagRequest, Dmst};
use super::responses::NOT_FOUND;
use super::words::{blob_response_summary, describe_item, generic_summary};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

/// Requests waiting for an answer are forgotten beyond this many (`0001` never gets one).
const MAX_PENDING: usize = 1024;
/// Menu items kept per render; more are only counted (a real page is at most 64, DYS-T).
const MAX_ITEMS: usize = 256;
/// Bytes of messages one conversation keeps (requests awaiting their answer, menu items
/// awaiting their footer). Real conversations hold a few KiB; without this bound a stream of
/// 1 MiB "menu items" could make one connection hold gigabytes. Past it, the oldest waiting
/// requests are forgotten and further items are only counted.
const MAX_HELD_BYTES: usize = 1 << 20;
/// Items named in a menu description.
const ITEMS_SHOWN: usize = 6;
/// Prepared menus remembered per connection: one per (menu location, slot) a player can have
/// open at once (main menu and right-hand submenu of a few slots, `prodjlink.md` 7.2 DMST).
const MAX_PREPARED: usize = 8;

/// Where a request was seen, as the caller numbered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRef {
    pub frame: u64,
    pub ts_ns: u64,
    pub transaction_id: u32,
    pub message_type: u16,
}

/// What the tracker learnt from one message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// For a response: the request it answers.
    pub request: Option<RequestRef>,
    /// Time from that request to this response (None if unpaired or the clock went back).
    pub latency_ns: Option<u64>,
    /// The plain-words description of the exchange this message completed.
    pub completed: Option<String>,
    /// The track a completed metadata exchange described (for session tracking).
    pub track: Option<TrackMetadata>,
}

/// A track as a metadata exchange (`2002`/`2202` + render) described it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackMetadata {
    /// Player whose media holds the track (the server of the connection, when known).
    pub player: Option<u32>,
    /// Slot name as status packets call it (`usb`, `sd`, `cd`, `rekordbox`).
    pub slot: &'static str,
    pub rekordbox_id: u32,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    pub key: Option<String>,
    pub bpm: Option<f64>,
    pub duration_s: Option<u32>,
}

impl TrackMetadata {
    fn from_items(player: Option<u32>, request: &Message, items: &[Option<MenuItem>]) -> Self {
        let dmst = request.number(0).map(Dmst::from_u32);
        let slot = match dmst.map(|d| d.slot) {
            Some(1) => "cd",
            Some(2) => "sd",
            Some(3) => "usb",
            Some(4) => "rekordbox",
            Some(7) => "usb2",
            _ => "unknown",
        };
        let mut t = TrackMetadata {
            player,
            slot,
            rekordbox_id: request.number(1).unwrap_or(0),
            ..Default::default()
        };
        let text = |s: String| Some(s).filter(|s| !s.is_empty());
        for item in items.iter().flatten() {
            match (item.kind(), item.value()) {
                (_, ItemValue::Track { title, .. }) => t.title = text(title),
                (0x0002, ItemValue::Text(v)) => t.album = text(v),
                (0x0006, ItemValue::Text(v)) => t.genre = text(v),
                (0x0007, ItemValue::Text(v)) => t.artist = text(v),
                (0x000f, ItemValue::Text(v)) => t.key = text(v),
                // Values no track has are not taken as the track's (issue 11).
                (_, ItemValue::Tempo { bpm_x100 }) if super::menu_item::plausible_bpm(bpm_x100) => {
                    t.bpm = Some(bpm_x100 as f64 / 100.0)
                }
                (_, ItemValue::Duration { seconds })
                    if super::menu_item::plausible_duration(seconds) =>
                {
                    t.duration_s = Some(seconds)
                }
                _ => {}
            }
        }
        t
    }
}

impl Observation {
    pub fn latency_ms(&self) -> Option<f64> {
        self.latency_ns.map(|ns| ns as f64 / 1e6)
    }
}

#[derive(Debug, Clone)]
struct Pending {
    request: Option<RequestRef>,
    message: Option<Message>,
    /// For a render: the menu request whose items it fetches, and the count it announced.
    menu: Option<(Message, u32)>,
    items: Vec<Message>,
    /// Items beyond `MAX_ITEMS` (or `MAX_HELD_BYTES`), counted but not kept.
    more_items: usize,
}

impl Pending {
    /// Wire bytes of the messages it keeps (counted against `MAX_HELD_BYTES`).
    fn held_bytes(&self) -> usize {
        self.message.as_ref().map_or(0, Message::buffer_len)
            + self.menu.as_ref().map_or(0, |(m, _)| m.buffer_len())
            + self.items.iter().map(Message::buffer_len).sum::<usize>()
    }
}

/// The tracker for one TCP connection (both directions).
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pending: HashMap<u32, Pending>,
    order: VecDeque<u32>,
    /// The menus `4000`s prepared, with their item counts, newest last: at most one per
    /// (menu location, slot) of the request's DMST, since a player keeps its main menu and its
    /// right-hand submenu open at once and renders either (`prodjlink.md` 7.2, 7.3).
    prepared: Vec<(Message, u32)>,
    client_player: Option<u32>,
    server_player: Option<u32>,
    /// Sum of `Pending::held_bytes` over `pending`.
    held: usize,
}

impl Conversation {
    pub fn new() -> Self {
        Conversation::default()
    }

    /// Device number of the server when the setup exchange was not captured.
    pub fn set_server_player(&mut self, player: u8) {
        self.server_player = Some(player as u32);
    }

    /// Feed every message of the connection, both directions, in capture order.
    pub fn observe(&mut self, frame: u64, ts_ns: u64, msg: &Message) -> Observation {
        self.observe_cow(frame, ts_ns, Cow::Borrowed(msg))
    }

    /// [`Conversation::observe`] taking the message: requests and menu items are kept until
    /// their answer, and a caller done with the message spares their copy (issue 11).
    pub fn observe_owned(&mut self, frame: u64, ts_ns: u64, msg: Message) -> Observation {
        self.observe_cow(frame, ts_ns, Cow::Owned(msg))
    }

    fn observe_cow(&mut self, frame: u64, ts_ns: u64, msg: Cow<'_, Message>) -> Observation {
        if msg.is_response() {
            self.response(ts_ns, msg)
        } else {
            self.request(frame, ts_ns, msg)
        }
    }

    fn request(&mut self, frame: u64, ts_ns: u64, msg: Cow<'_, Message>) -> Observation {
        let tx = msg.transaction_id;
        let reference = RequestRef {
            frame,
            ts_ns,
            transaction_id: tx,
            message_type: msg.message_type,
        };
        if self.client_player.is_none() && msg.arg_tags[0] == super::field::arg_tag::NUMBER_4 {
            // Most requests start with DMST; its first byte is the requester (7.2).
            self.client_player = msg
                .number(0)
                .map(|v| Dmst::from_u32(v).player as u32)
                .filter(|&p| p != 0);
        }
        match msg.message_type {
            0x0000 => self.client_player = msg.number(0),
            // No reply comes for these (prodjlink.md 7.3): the request alone is the exchange.
            0x0001 => return completed(format!("{} closed the menu", self.client(&msg))),
            0x0100 => return completed(format!("{} ended the session", self.client(&msg))),
            _ => {}
        }
        let menu = (msg.message_type == 0x3000)
            .then(|| self.menu_rendered_by(&msg))
            .flatten();
        let pending = Pending {
            request: Some(reference),
            message: Some(msg.into_owned()),
            menu,
            items: Vec::new(),
            more_items: 0,
        };
        self.held += pending.held_bytes();
        match self.pending.insert(tx, pending) {
            Some(old) => self.held -= old.held_bytes(),
            None => self.order.push_back(tx),
        }
        while self.order.len() > MAX_PENDING || self.held > MAX_HELD_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(p) = self.pending.remove(&old) {
                self.held -= p.held_bytes();
            }
        }
        Observation::default()
    }

    fn response(&mut self, ts_ns: u64, msg: Cow<'_, Message>) -> Observation {
        let tx = msg.transaction_id;
        if msg.message_type == 0x4001 && !self.pending.contains_key(&tx) {
            // A render whose request was not captured: still gather its items.
            self.pending.insert(
                tx,
                Pending {
                    request: None,
                    message: None,
                    menu: None,
                    items: Vec::new(),
                    more_items: 0,
                },
            );
            self.order.push_back(tx);
        }
        let request = self.pending.get(&tx).and_then(|p| p.request);
        let latency_ns = request.and_then(|r| ts_ns.checked_sub(r.ts_ns));
        let mut obs = Observation {
            request,
            latency_ns,
            completed: None,
            track: None,
        };
        match msg.message_type {
            0x4001 => {}
            0x4101 => {
                if let Some(p) = self.pending.get_mut(&tx) {
                    let size = msg.buffer_len();
                    if p.items.len() < MAX_ITEMS && self.held + size <= MAX_HELD_BYTES {
                        p.items.push(msg.into_owned());
                        self.held += size;
                    } else {
                        p.more_items += 1;
                    }
                }
            }
            0x4201 => {
                let p = self.take(tx);
                obs.completed = Some(self.describe_render(p.as_ref()));
                obs.track = p.as_ref().and_then(|p| {
                    let (req, _) = p.menu.as_ref()?;
                    if req.message_type != 0x2002 && req.message_type != 0x2202 {
                        return None;
                    }
                    let items: Vec<Option<MenuItem>> =
                        p.items.iter().map(MenuItem::from_message).collect();
                    Some(TrackMetadata::from_items(self.server_player, req, &items))
                });
            }
            0x4000 => {
                let p = self.take(tx);
                let count = msg.number(1).unwrap_or(0);
                let request = p.as_ref().and_then(|p| p.message.as_ref());
                match request {
                    _ if msg.number(0) == Some(0) => {
                        self.server_player = Some(count);
                        let who = self.client_opt(request);
                        obs.completed =
                            Some(format!("{who} opened a session with {}", self.server()));
                    }
                    // Items come with the next render; the exchange is described then.
                    Some(req)
                        if is_menu_like(req.message_type) && count != 0 && count != NOT_FOUND =>
                    {
                        self.remember_prepared(req, count);
                    }
                    _ => {
                        let menu = request.is_some_and(|r| is_menu_like(r.message_type));
                        let result = match count {
                            NOT_FOUND => "not found".to_string(),
                            0 if menu => "nothing".to_string(),
                            n => format!("success (count {n})"),
                        };
                        obs.completed = Some(format!("{} -> {result}", self.asked(request)));
                    }
                }
            }
            _ => {
                let p = self.take(tx);
                let request = p
                    .as_ref()
                    .and_then(|p| p.message.as_ref().or(p.menu.as_ref().map(|m| &m.0)));
                obs.completed = Some(format!("{} -> {}", self.asked(request), result(&msg)));
            }
        }
        obs
    }

    /// Keep the menu a `4000` prepared, replacing the one prepared before at the same menu
    /// location of the same slot (the server holds one menu per location, 7.3).
    fn remember_prepared(&mut self, req: &Message, count: u32) {
        let place = menu_place(req);
        self.prepared.retain(|(m, _)| menu_place(m) != place);
        if self.prepared.len() >= MAX_PREPARED {
            self.prepared.remove(0);
        }
        self.prepared.push((req.clone(), count));
    }

    /// The prepared menu a render (`3000`) fetches items of. The render's DMST names the menu
    /// location and slot and its `total` argument repeats the count the `4000` announced
    /// (DYS-T "render menu request"), so the menu is the newest prepared one at that place;
    /// when the render names no known place, the newest whose count matches its total; else
    /// the newest. Pairing with the newest alone pinned submenu renders on the main menu
    /// (issue 11: S05 frame 711, "from 12 of 9").
    fn menu_rendered_by(&self, render: &Message) -> Option<(Message, u32)> {
        let place = menu_place(render);
        let total = render.number(4);
        let newest = |ok: &dyn Fn(&(Message, u32)) -> bool| {
            self.prepared.iter().rev().find(|p| ok(p)).cloned()
        };
        newest(&|(m, n)| menu_place(m) == place && total.is_none_or(|t| t == *n))
            .or_else(|| newest(&|(m, _)| menu_place(m) == place))
            .or_else(|| newest(&|(_, n)| total == Some(*n)))
            .or_else(|| self.prepared.last().cloned())
    }

    fn take(&mut self, tx: u32) -> Option<Pending> {
        let p = self.pending.remove(&tx);
        if let Some(p) = &p {
            self.held -= p.held_bytes();
            self.order.retain(|&t| t != tx);
        }
        p
    }

    fn client(&self, msg: &Message) -> String {
        self.client_opt(Some(msg))
    }

    /// "player 3": the requester in the DMST, else the one the setup named.
    fn client_opt(&self, msg: Option<&Message>) -> String {
        let from_dmst = msg
            .filter(|m| {
                m.message_type != 0x0000 && m.arg_tags[0] == super::field::arg_tag::NUMBER_4
            })
            .and_then(|m| m.number(0))
            .map(|v| Dmst::from_u32(v).player as u32);
        let from_setup = msg
            .filter(|m| m.message_type == 0x0000)
            .and_then(|m| m.number(0));
        match from_setup
            .or(from_dmst)
            .filter(|&p| p != 0)
            .or(self.client_player)
        {
            Some(p) => format!("player {p}"),
            None => "a client".into(),
        }
    }

    fn server(&self) -> String {
        self.server_player
            .map_or("the server".into(), |p| format!("player {p}"))
    }

    /// "player 3 asked player 2 for the metadata of rekordbox track 50 in the USB slot".
    fn asked(&self, request: Option<&Message>) -> String {
        let who = format!("{} asked {}", self.client_opt(request), self.server());
        match request {
            Some(req) => format!("{who} for {}", what_was_asked(req)),
            None => format!("{who} something not captured"),
        }
    }

    fn describe_render(&self, p: Option<&Pending>) -> String {
        let Some(p) = p else {
            return format!(
                "{} asked {} for menu items not captured",
                self.client_opt(None),
                self.server()
            );
        };
        let menu = p.menu.as_ref();
        let head = self.asked(menu.map(|m| &m.0));
        if menu.is_some_and(|(m, _)| m.message_type == 0x2002 || m.message_type == 0x2202) {
            let items: Vec<Option<MenuItem>> = p.items.iter().map(MenuItem::from_message).collect();
            return format!("{head} -> {}", metadata_words(&items));
        }
        // Only the items named are parsed: a menu page holds up to `MAX_ITEMS` of them and
        // parsing every one cost ~13 k instructions a render (issue 11, callgrind).
        let shown: Vec<String> = p
            .items
            .iter()
            .take(ITEMS_SHOWN)
            .map(|raw| {
                MenuItem::from_message(raw)
                    .as_ref()
                    .map_or_else(|| generic_summary(raw), short_label)
            })
            .collect();
        let count = p.items.len() + p.more_items;
        let more = if count > ITEMS_SHOWN { ", ..." } else { "" };
        // The render's own total (argument 4) is what the page is "of"; the prepared count
        // stands in when the render is shorter.
        let render = p.message.as_ref();
        let total = render.and_then(|m| m.number(4)).or(menu.map(|(_, n)| *n));
        let of = match (total, render.and_then(|m| m.number(1))) {
            (Some(total), Some(offset)) if total as usize != count => {
                format!(" (from {offset} of {total})")
            }
            _ => String::new(),
        };
        format!("{head} -> {count} items{of}: {}{more}", shown.join(", "))
    }
}

/// The answer of a single-message response in words.
fn result(msg: &Message) -> String {
    match msg.message_type {
        0x4003 => "unavailable".into(),
        0x4002 | 0x4402 | 0x4502 | 0x4602 | 0x4702 | 0x4a02 | 0x4e02 | 0x4f02 => {
            blob_response_summary(msg)
        }
        0x4b02 => format!("USB information (player {})", msg.number(2).unwrap_or(0)),
        _ => generic_summary(msg),
    }
}

fn completed(description: String) -> Observation {
    Observation {
        completed: Some(description),
        ..Observation::default()
    }
}

/// (menu location, slot) of a request's DMST: which of the server's open menus it concerns.
fn menu_place(req: &Message) -> Option<(u8, u8)> {
    if req.arg_tags[0] != super::field::arg_tag::NUMBER_4 {
        return None;
    }
    req.number(0).map(Dmst::from_u32).map(|d| (d.menu, d.slot))
}

/// Requests answered by a `4000` and then rendered (menus, metadata, track info).
fn is_menu_like(message_type: u16) -> bool {
    (0x1000..0x2000).contains(&message_type)
        || matches!(message_type, 0x2002 | 0x2006 | 0x2102 | 0x2202)
}

/// "the metadata of rekordbox track 50 in the USB slot", "the root menu of the USB slot"...
pub fn what_was_asked(req: &Message) -> String {
    let dmst = req.number(0).map(Dmst::from_u32).unwrap_or_default();
    let slot = slot_phrase(dmst.slot);
    let id = req.number(1).unwrap_or(0);
    let track = |what: &str| format!("the {what} of rekordbox track {id} in {slot}");
    match req.message_type {
        0x0000 => "a session".into(),
        0x2002 => track("metadata"),
        0x2202 => format!("the metadata of non-rekordbox track {id} in {slot}"),
        0x2003 => format!("artwork {id} in {slot}"),
        0x2004 => format!(
            "the waveform preview of rekordbox track {} in {slot}",
            req.number(2).unwrap_or(0)
        ),
        0x2102 => track("file information"),
        0x2104 => track("cue list"),
        0x2204 => track("beat grid"),
        0x2504 => track("VBR index"),
        0x2904 => track("waveform detail"),
        0x2b04 => track("extended cue list"),
        0x2c04 => match AnlzTagRequest::from_message(req) {
            Some(r) => {
                let tag = r.tag_name();
                let what = catalog::anlz_tag_meaning(&tag).unwrap_or("section");
                format!(
                    "the {tag} ({what}) from the .{} file of rekordbox track {id} in {slot}",
                    r.file_name()
                )
            }
            None => track("ANLZ section"),
        },
        0x1300 => {
            let text = req.string(3).map(|s| s.text()).unwrap_or_default();
            format!("tracks matching '{text}' in {slot}")
        }
        0x3e03 => format!("USB information about {slot}"),
        0x1105 => match req.number(3) {
            Some(1) => format!(
                "folder {} of playlists in {slot}",
                req.number(2).unwrap_or(0)
            ),
            _ => format!("playlist {} in {slot}", req.number(2).unwrap_or(0)),
        },
        0x3000 => "menu items".into(),
        t => match catalog::kind(t) {
            Some(k) if MenuRequestWords::applies(t) => {
                MenuRequestWords(k, req).to_string() + &format!(" of {slot}")
            }
            _ => generic_summary(req),
        },
    }
}

/// "the artist menu", "the playlist or folder (playlist_id 12, is_folder 0)".
struct MenuRequestWords<'a>(&'static catalog::MessageKind, &'a Message);

impl MenuRequestWords<'_> {
    fn applies(t: u16) -> bool {
        super::requests::MenuRequest::is_menu_type(t)
    }
}

impl std::fmt::Display for MenuRequestWords<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, msg) = (self.0, self.1);
        write!(f, "the {}", kind.description)?;
        let params: Vec<String> = kind
            .args
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, (name, role))| *name != "sort" && *role != catalog::Role::Unknown)
            .filter_map(|(i, (name, _))| msg.number(i).map(|v| format!("{name} {v}")))
            .collect();
        if !params.is_empty() {
            write!(f, " ({})", params.join(", "))?;
        }
        Ok(())
    }
}

/// "'Title' by 'Artist', 128.00 BPM, 4:32, key Am".
fn metadata_words(items: &[Option<MenuItem>]) -> String {
    let mut title = None;
    let mut artist = None;
    let mut parts = Vec::new();
    let (mut bpm, mut duration, mut key) = (None, None, None);
    for item in items.iter().flatten() {
        match (item.kind(), item.value()) {
            (_, ItemValue::Track { title: t, .. }) => title = Some(t),
            (0x0007, ItemValue::Text(a)) => artist = Some(a),
            (0x000f, ItemValue::Text(k)) => key = Some(k),
            (_, ItemValue::Tempo { bpm_x100 }) => {
                bpm = Some(format!("{} BPM", format_bpm(bpm_x100)))
            }
            (_, ItemValue::Duration { seconds }) => duration = Some(format_duration(seconds)),
            _ => {}
        }
    }
    match (title, artist) {
        (Some(t), Some(a)) if !a.is_empty() => parts.push(format!("'{t}' by '{a}'")),
        (Some(t), _) => parts.push(format!("'{t}'")),
        _ => {}
    }
    parts.extend(bpm);
    parts.extend(duration);
    parts.extend(key.filter(|k| !k.is_empty()).map(|k| format!("key {k}")));
    if parts.is_empty() {
        format!("{} items", items.len())
    } else {
        parts.join(", ")
    }
}

/// A menu item in a few words for menu listings.
fn short_label(item: &MenuItem) -> String {
    match item.value() {
        ItemValue::Track { title, .. } => format!("'{title}'"),
        ItemValue::Text(t) if !t.is_empty() => t,
        ItemValue::Other { label1, .. } if !label1.is_empty() => format!("'{label1}'"),
        _ => describe_item(item),
    }
}

#[cfg(test)]
#[path = "conversation_tests.rs"]
mod tests;
