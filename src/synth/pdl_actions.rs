//! What the DJ does on a Pro DJ Link rig. Each action sends what a real unit would send at
//! that moment: a status at once when what a player reports changes, the unicast 0x26/0x27 of
//! a master handoff (prodjlink.md 9.4), the mixer's channels-on-air packet.

use std::io::Write;

use crate::prodjlink::{MasterHandoffRequest, MasterHandoffResponse};

use super::super::club_set::Step;
use super::super::dblookup::{DbLookups, Track};
use super::super::net::To;
use super::super::pdl_deck::{beat_in_bar, Model};
use super::super::wire::MS;
use super::super::Cx;
use super::{PdlTimer, Rig, Unit, BEAT_PORT, LOAD_TIME};

impl Rig {
    /// The first downbeat of player `number` at or after `after` while it plays at its
    /// present tempo (to start a synced deck in phase).
    pub fn next_downbeat(&self, number: u8, after: i128) -> Option<i128> {
        let d = &self.players[self.player_index(number)].deck;
        if !d.playing {
            return None;
        }
        let mut k = d.next_beat_from(after);
        while beat_in_bar(k) != 1 {
            k += 1;
        }
        Some(d.beat_time(k))
    }

    // ---- What the DJ does. Each sends what a real unit would send at that moment. ----

    /// Load `track` onto player `number`: `loading` now, `cued` at the first beat after
    /// [`LOAD_TIME`].
    pub fn load<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        number: u8,
        track: Track,
        track_number: u16,
    ) {
        let i = self.player_index(number);
        let p = &mut self.players[i];
        p.deck.playing = false;
        p.deck.paused = false;
        p.deck.pitch_pct = 0.0;
        p.deck.cue_to(t, track.first_beat_ms as f64);
        p.deck.track = Some(track.info());
        p.deck.track_number = track_number;
        p.deck.loading = true;
        p.deck.load_marker = true;
        p.pos_gen += 1;
        if p.model == Model::Cdj3000 {
            // Precise position runs whenever a track is loaded (section 3, kind 0b).
            let gen = p.pos_gen;
            cx.sched
                .at(t + 5 * MS, T::from(PdlTimer::Position { player: i, gen }));
        }
        cx.sched
            .at(t + LOAD_TIME, T::from(PdlTimer::LoadDone { player: i }));
        self.send_status(cx, t, Unit::Player(i));
    }

    pub fn play<W: Write, T: From<PdlTimer>>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, n: u8) {
        let i = self.player_index(n);
        let d = &mut self.players[i].deck;
        d.reanchor(t);
        d.playing = true;
        d.paused = false;
        self.restart_streams(cx, t, i);
        self.send_status(cx, t, Unit::Player(i));
    }

    pub fn pause<W: Write, T: From<PdlTimer>>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, n: u8) {
        let i = self.player_index(n);
        let d = &mut self.players[i].deck;
        d.reanchor(t);
        d.playing = false;
        d.paused = true;
        self.restart_streams(cx, t, i);
        self.send_status(cx, t, Unit::Player(i));
    }

    /// Sync on: the deck matches the master's tempo (its pitch slews so BPM x pitch equals the
    /// master's, UE F51).
    pub fn sync<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        n: u8,
        on: bool,
    ) {
        let target = self
            .master()
            .filter(|m| m.number != n)
            .and_then(|m| m.deck.effective_bpm());
        let i = self.player_index(n);
        let d = &mut self.players[i].deck;
        d.reanchor(t);
        d.sync = on;
        if let (true, Some(target), Some(bpm)) = (on, target, d.track.as_ref().map(|t| t.bpm())) {
            d.pitch_pct = (target / bpm - 1.0) * 100.0;
        }
        self.restart_streams(cx, t, i);
        self.send_status(cx, t, Unit::Player(i));
    }

    /// A player becomes tempo master while nobody is (MASTER pressed, or first to sync).
    pub fn take_master<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        n: u8,
    ) {
        let i = self.player_index(n);
        self.players[i].deck.master = true;
        self.mixer.master_seen = true;
        self.send_status(cx, t, Unit::Player(i));
    }

    /// 9.4 step 1: the would-be master asks the master (0x26, unicast on 50001).
    pub fn handoff_request<W: Write, T>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        requester: u8,
        master: u8,
    ) {
        let r = &self.players[self.player_index(requester)];
        let req = MasterHandoffRequest::new(r.model.name(), requester);
        let (from, to) = (r.host, self.host_of(master));
        let sport = cx.net.ephemeral_port(from);
        cx.net
            .udp(cx.wire, t, from, sport, To::Host(to), BEAT_PORT, &[&req]);
    }

    /// Step 2: the master grants it (0x27 `00000001`).
    pub fn handoff_response<W: Write, T>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        master: u8,
        requester: u8,
    ) {
        let m = &self.players[self.player_index(master)];
        let rsp = MasterHandoffResponse::new(m.model.name(), master);
        let (from, to) = (m.host, self.host_of(requester));
        let sport = cx.net.ephemeral_port(from);
        cx.net
            .udp(cx.wire, t, from, sport, To::Host(to), BEAT_PORT, &[&rsp]);
    }

    /// Step 3: the master, still master, names the requester in M_h (status 9f).
    pub fn handoff_yield<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        master: u8,
        requester: u8,
    ) {
        let i = self.player_index(master);
        self.players[i].deck.handoff_to = requester;
        self.send_status(cx, t, Unit::Player(i));
    }

    /// Step 4: the requester, seeing its number in M_h, sets its master bits.
    pub fn handoff_take<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        requester: u8,
    ) {
        let i = self.player_index(requester);
        self.players[i].deck.master = true;
        self.send_status(cx, t, Unit::Player(i));
    }

    /// Step 5: the old master clears its bits, M_h back to `ff`, Sync_n = max + 1.
    pub fn handoff_release<W: Write, T: From<PdlTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        old: u8,
    ) {
        let max = self
            .players
            .iter()
            .map(|p| p.deck.sync_counter)
            .max()
            .unwrap_or(0);
        let i = self.player_index(old);
        let d = &mut self.players[i].deck;
        d.master = false;
        d.handoff_to = 0xff;
        d.sync_counter = max + 1;
        self.send_status(cx, t, Unit::Player(i));
    }

    /// A channel fader crosses the on-air threshold: the mixer says so at once (kind 03); each
    /// player shows it in its next status.
    pub fn fader<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, channel: u8, on: bool) {
        if let Some(c) = self.mixer.channels.get_mut(channel as usize - 1) {
            *c = on;
        }
        if let Some(p) = self.players.iter_mut().find(|p| p.number == channel) {
            p.deck.on_air = on;
        }
        self.send_on_air(cx, t);
    }
}

/// Carry out one club-set step at `t` on the scripted rig (and its dbserver connections): the
/// `long` scenario's Pro DJ Link part.
pub(crate) fn apply<W: Write, T: From<PdlTimer>>(
    rig: &mut Rig,
    db: &mut DbLookups,
    cx: &mut Cx<'_, W, T>,
    tracks: &[Track],
    t: i128,
    step: &Step,
) {
    match *step {
        // Boots were scheduled from the devices' power-on times.
        Step::PowerOn { .. } | Step::End => {}
        Step::MetadataLookup {
            client,
            server,
            track,
        } => {
            db.lookup(
                cx.net,
                cx.wire,
                cx.rng,
                t,
                (client, rig.host_of(client)),
                (server, rig.host_of(server)),
                &tracks[track],
            );
        }
        Step::Load { deck, track } => {
            rig.load(cx, t, deck, tracks[track].clone(), track as u16 + 1)
        }
        Step::Sync { deck } => rig.sync(cx, t, deck, true),
        Step::TakeMaster { deck } => rig.take_master(cx, t, deck),
        Step::Play { deck } => rig.play(cx, t, deck),
        Step::Pause { deck } => rig.pause(cx, t, deck),
        Step::Fader { channel, on_air } => rig.fader(cx, t, channel, on_air),
        Step::HandoffRequest { requester, master } => rig.handoff_request(cx, t, requester, master),
        Step::HandoffResponse { master, requester } => {
            rig.handoff_response(cx, t, master, requester)
        }
        Step::HandoffYield { master, requester } => rig.handoff_yield(cx, t, master, requester),
        Step::HandoffTake { requester } => rig.handoff_take(cx, t, requester),
        Step::HandoffRelease { old_master } => rig.handoff_release(cx, t, old_master),
        Step::CloseConnections => db.close_all(cx.net, cx.wire, t),
    }
}
