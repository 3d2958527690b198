//! A Pro DJ Link player (CDJ-2000NXS2, CDJ-3000, XDJ-1000MK2): status every 200 ms to each
//! peer that announced itself (`prodjlink.md` 4), beats on the beat at the effective tempo (3
//! kind 28), CDJ-3000 precise position every 30 ms (3 kind 0b), sync, tempo master and the
//! handoff exchange (9.4), on-air from the mixer, load commands, media queries.
//!
//! Whatever changes what the player reports sends a status at once (as a real deck does when a
//! button is pressed), so a scenario's step time is the time of the first packet showing it.
//! What arrives from the network is in `player_input.rs`.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::db_service::DbService;
use super::deck::{beat_in_bar, beat_packet, fill_status, position_packet, status_template, Deck};
use super::persona::{PRECISE_POSITION_EVERY, STATUS_EVERY};
use super::presence::Presence;
use super::track::{resolve_load, TrackInfo, Tracks, USB_SLOT};
use super::{send_to_peers, unicast, Numbering, Setup, BEAT_PORT, STATUS_PORT};
use crate::device::{
    Command, ConnId, Destination, Device, HostAddress, Nanos, Note, Outbox, StreamEvent, MS,
};
use crate::prodjlink::{CdjStatus, MasterHandoffRequest};

/// How long a load takes from `loading` to `cued` (not in the reference; a USB load of an
/// analysed track takes a few hundred ms on nxs2 decks).
pub const LOAD_TIME: Nanos = 400 * MS;

/// What the player knows of another player from its status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Other {
    pub number: u8,
    pub ip: Ipv4Addr,
    pub master: bool,
    pub playing: bool,
    pub effective_bpm: Option<f64>,
    pub handoff_to: u8,
    pub sync_counter: u32,
}

pub struct Player {
    pub(crate) presence: Presence,
    pub(crate) tracks: Tracks,
    pub(crate) deck: Deck,
    status: CdjStatus,
    packet_counter: u32,
    /// Next regular status round, once up.
    status_due: Option<Nanos>,
    /// Next beat: (time, beat number).
    beat_due: Option<(Nanos, u32)>,
    position_due: Option<Nanos>,
    load_done_at: Option<Nanos>,
    /// Other players' last status, by number.
    pub(crate) others: Vec<Other>,
    /// The master we asked for the role (9.4 step 1), until we hold it.
    pub(crate) asked_master: Option<u8>,
    pub(crate) has_usb: bool,
    media_announced: bool,
    listening: bool,
    /// The dbserver, when the tracks come with a library to serve (7).
    db: Option<DbService>,
    /// My Settings last pushed by rekordbox (4.1 kind 34).
    pub(crate) my_settings: Option<[u8; 0x24]>,
}

impl Player {
    pub fn new(s: Setup) -> Self {
        let number = s.numbering.number();
        let fixed = matches!(s.numbering, Numbering::Fixed(_));
        let db = s
            .tracks
            .library()
            .and_then(|lib| DbService::new(s.persona, number, lib));
        Player {
            presence: Presence::new(s.persona, s.host, number, fixed, s.power_on),
            tracks: s.tracks,
            deck: Deck::default(),
            status: status_template(s.persona, number, s.has_usb),
            packet_counter: 0,
            status_due: None,
            beat_due: None,
            position_due: None,
            load_done_at: None,
            others: Vec::new(),
            asked_master: None,
            has_usb: s.has_usb,
            media_announced: false,
            listening: false,
            db,
            my_settings: None,
        }
    }

    pub fn number(&self) -> u8 {
        self.presence.number()
    }

    pub fn deck(&self) -> &Deck {
        &self.deck
    }

    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    fn name(&self) -> &'static str {
        self.presence.persona.name
    }

    pub(crate) fn note(&mut self, at: Nanos, text: String) {
        self.presence.notes.push(Note { at, text });
    }

    /// One status to every peer, now (4).
    pub(crate) fn send_status(&mut self, now: Nanos, out: &mut Outbox) {
        if !self.presence.is_up() {
            return;
        }
        self.packet_counter = self.packet_counter.wrapping_add(1);
        let number = self.presence.number();
        self.status.header.device = number;
        self.status.device_copy = number;
        fill_status(
            &mut self.status,
            self.presence.persona,
            &self.deck,
            now,
            self.packet_counter,
        );
        let bytes = self.status.to_bytes();
        send_to_peers(
            out,
            &self.presence.peers,
            self.presence.host.ip,
            STATUS_PORT,
            &bytes,
        );
        // The one-packet markers are gone once sent (4.2 ld1, ld2).
        self.deck.load_marker = false;
        self.deck.load_done = false;
    }

    /// Restart the beat stream from `now` (after play, pitch or load).
    pub(crate) fn restart_beats(&mut self, now: Nanos) {
        self.beat_due = None;
        if self.deck.playing && self.deck.track.is_some() {
            let k = self.deck.next_beat_from(now);
            self.beat_due = Some((self.deck.beat_time(k).max(now), k));
        }
    }

    /// The tempo master among the others, if any.
    pub(crate) fn other_master(&self) -> Option<Other> {
        self.others.iter().copied().find(|o| o.master)
    }

    // ---- What the DJ does. ----

    pub(crate) fn load(&mut self, now: Nanos, track: TrackInfo, out: &mut Outbox) {
        let d = &mut self.deck;
        d.playing = false;
        d.paused = false;
        d.ended = false;
        d.cue_to(now, track.first_beat_ms as f64);
        d.track_number = d.track_number.wrapping_add(1).max(1);
        d.track = Some(track);
        d.loading = true;
        d.load_marker = true;
        self.load_done_at = Some(now + LOAD_TIME);
        self.beat_due = None;
        if self.presence.persona.precise_position {
            // Precise position runs whenever a track is loaded (3 kind 0b).
            self.position_due = Some(now + 5 * MS);
        }
        self.send_status(now, out);
    }

    pub(crate) fn play(&mut self, now: Nanos, out: &mut Outbox) -> bool {
        if self.deck.track.is_none() || self.deck.loading || self.deck.ended {
            return false;
        }
        self.deck.reanchor(now);
        self.deck.playing = true;
        self.deck.paused = false;
        self.restart_beats(now);
        self.send_status(now, out);
        true
    }

    fn pause(&mut self, now: Nanos, out: &mut Outbox) -> bool {
        if self.deck.track.is_none() {
            return false;
        }
        self.deck.reanchor(now);
        self.deck.playing = false;
        self.deck.paused = true;
        self.restart_beats(now);
        self.send_status(now, out);
        true
    }

    pub(crate) fn cue(&mut self, now: Nanos, out: &mut Outbox) -> bool {
        let Some(first) = self.deck.track.as_ref().map(|t| t.first_beat_ms) else {
            return false;
        };
        self.deck.playing = false;
        self.deck.paused = false;
        self.deck.ended = false;
        self.deck.cue_to(now, first as f64);
        self.restart_beats(now);
        self.send_status(now, out);
        true
    }

    pub(crate) fn set_pitch(&mut self, now: Nanos, pct: f64, out: &mut Outbox) {
        self.deck.reanchor(now);
        self.deck.pitch_pct = pct.clamp(-100.0, 100.0);
        self.restart_beats(now);
        self.send_status(now, out);
    }

    /// SYNC: on takes the master's effective tempo (its pitch moves so that BPM x pitch equals
    /// the master's, UE F51).
    pub(crate) fn sync(&mut self, now: Nanos, on: bool, out: &mut Outbox) {
        self.deck.reanchor(now);
        self.deck.sync = on;
        let target = self.other_master().and_then(|m| m.effective_bpm);
        if let (true, Some(target), Some(bpm)) =
            (on, target, self.deck.track.as_ref().map(TrackInfo::bpm))
        {
            self.deck.pitch_pct = (target / bpm - 1.0) * 100.0;
        }
        self.restart_beats(now);
        self.send_status(now, out);
    }

    /// MASTER: taken at once while nobody is master, else asked for (9.4 step 1).
    pub(crate) fn become_master(&mut self, now: Nanos, out: &mut Outbox) {
        if self.deck.master {
            return;
        }
        match self.other_master() {
            None => {
                self.deck.master = true;
                self.send_status(now, out);
                self.note(now, "became tempo master".into());
            }
            Some(m) => {
                let req = MasterHandoffRequest::new(self.name(), self.presence.number());
                out.datagram(0, unicast(m.ip, BEAT_PORT), req.to_bytes());
                self.asked_master = Some(m.number);
                let text = format!("asked player {} for the tempo master role", m.number);
                self.note(now, text);
            }
        }
    }

    fn on_load_done(&mut self, now: Nanos, out: &mut Outbox) {
        self.load_done_at = None;
        self.deck.loading = false;
        self.deck.load_done = true;
        self.send_status(now, out);
    }

    fn on_beat(&mut self, k: u32, out: &mut Outbox) {
        let number = self.presence.number();
        let beat = beat_packet(self.name(), number, &self.deck, k);
        out.datagram(0, Destination::Broadcast(BEAT_PORT), beat.to_bytes());
        self.beat_due = Some((self.deck.beat_time(k + 1), k + 1));
    }

    /// The track ran out: the deck stops at its end (P1 `11`), beats stop.
    fn on_end(&mut self, at: Nanos, out: &mut Outbox) {
        self.deck.reanchor(at);
        self.deck.playing = false;
        self.deck.ended = true;
        self.beat_due = None;
        self.send_status(at, out);
    }

    /// The first downbeat at or after `after` while playing at the present tempo (to start a
    /// synced deck in phase).
    pub fn next_downbeat(&self, after: Nanos) -> Option<Nanos> {
        if !self.deck.playing {
            return None;
        }
        let mut k = self.deck.next_beat_from(after);
        while beat_in_bar(k) != 1 {
            k += 1;
        }
        Some(self.deck.beat_time(k))
    }
}

impl Device for Player {
    fn label(&self) -> String {
        format!("{} #{}", self.name(), self.presence.number())
    }

    fn address(&self) -> HostAddress {
        self.presence.host
    }

    fn poll_at(&self) -> Option<Nanos> {
        let mut at = self.presence.poll_at();
        for t in [
            self.status_due,
            self.beat_due.map(|b| b.0),
            self.deck.end_time(),
            self.position_due,
            self.load_done_at,
        ]
        .into_iter()
        .flatten()
        {
            at = Some(at.map_or(t, |a: Nanos| a.min(t)));
        }
        at
    }

    fn on_timer(&mut self, now: Nanos, out: &mut Outbox) {
        let was_up = self.presence.is_up();
        self.presence.on_timer(now, out);
        if !was_up && self.presence.is_up() {
            // Status starts with the keep-alives, each unit at its own phase.
            let phase = 20 * MS + (self.presence.host.mac[5] as Nanos % 150) * MS;
            self.status_due = Some(now + phase);
            if let (false, Some(db)) = (self.listening, self.db.as_mut()) {
                // The dbserver answers once the player is on the network (7.1).
                self.listening = true;
                db.renumber(self.presence.number());
                for port in db.ports() {
                    out.push(crate::device::Output::Listen { port });
                }
            }
        }
        if self.load_done_at.is_some_and(|t| t <= now) {
            self.on_load_done(now, out);
        }
        while let Some((t, k)) = self.beat_due {
            if t > now {
                break;
            }
            if self.deck.end_time().is_some_and(|e| e <= t) {
                break;
            }
            self.on_beat(k, out);
        }
        if let Some(e) = self.deck.end_time().filter(|e| *e <= now) {
            self.on_end(e, out);
        }
        if let Some(t) = self.position_due.filter(|t| *t <= now) {
            if self.deck.track.is_some() {
                let number = self.presence.number();
                let p = position_packet(self.name(), number, &self.deck, now);
                out.datagram(0, Destination::Broadcast(BEAT_PORT), p.to_bytes());
                self.position_due = Some(t + PRECISE_POSITION_EVERY);
            } else {
                self.position_due = None;
            }
        }
        if let Some(t) = self.status_due.filter(|t| *t <= now) {
            if !self.media_announced {
                // The stick was in at power-on: it is announced with the first status round.
                self.media_announced = true;
                if self.has_usb && self.presence.persona.announces_media {
                    let r = self.media_response(USB_SLOT);
                    out.datagram(0, Destination::Broadcast(STATUS_PORT), r.to_bytes());
                }
            }
            self.send_status(now, out);
            self.status_due = Some(t + STATUS_EVERY);
        }
    }

    fn on_datagram(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
        out: &mut Outbox,
    ) {
        self.input(now, from, to.port(), payload, out);
    }

    fn on_stream(&mut self, now: Nanos, conn: ConnId, event: StreamEvent<'_>, out: &mut Outbox) {
        match self.db.as_mut() {
            Some(db) => db.on_stream(now, conn, event, out, &mut self.presence.notes),
            None => {
                if let StreamEvent::Accepted { .. } = event {
                    out.push(crate::device::Output::Close { conn });
                }
            }
        }
    }

    fn command(&mut self, now: Nanos, command: &Command, out: &mut Outbox) -> bool {
        match *command {
            Command::Load {
                source,
                slot,
                track_id,
            } => {
                let own = self.presence.number();
                match resolve_load(self.tracks.as_ref(), own, source, slot, track_id) {
                    Some(t) => {
                        self.load(now, t, out);
                        true
                    }
                    None => false,
                }
            }
            Command::Play => self.play(now, out),
            Command::Pause => self.pause(now, out),
            Command::Cue => self.cue(now, out),
            Command::Pitch(p) => {
                self.set_pitch(now, p, out);
                true
            }
            Command::Sync(on) => {
                self.sync(now, on, out);
                true
            }
            Command::BecomeMaster => {
                self.become_master(now, out);
                true
            }
            Command::Fader { .. } | Command::FaderStart { .. } | Command::OnDeck { .. } => false,
        }
    }

    fn take_notes(&mut self, into: &mut Vec<Note>) {
        into.append(&mut self.presence.notes);
    }
}
