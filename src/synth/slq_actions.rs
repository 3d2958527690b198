//! What the DJ does on the StageLinQ pair: loads, play and stop (the player emits the changed
//! values the mixer subscribed to), fader moves (the mixer emits the position and writes the
//! deck's `ExternalMixerVolume`), and leaving (EXIT, then the connections close).

use std::io::Write;

use crate::stagelinq::statemap::StateMapMessage;
use crate::stagelinq::statemap_json::StateValue;

use super::super::dblookup::Track;
use super::super::net::{Dir, Payload};
use super::super::wire::{MS, US};
use super::super::Cx;
use super::{SlqRig, MIXER_DIRECTORY_PORT, MIXER_SUBSCRIBES, RTT};

impl SlqRig {
    /// The player emits the current values of `paths` that the mixer has had answered.
    fn emit_changes<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, paths: &[String]) {
        let live: Vec<StateMapMessage> = paths
            .iter()
            .filter(|p| MIXER_SUBSCRIBES[..self.answered].iter().any(|s| s == p))
            .map(|p| StateMapMessage::value(p, &self.value_of(p)))
            .collect();
        if live.is_empty() {
            return;
        }
        let parts: Vec<&dyn Payload> = live.iter().map(|m| m as &dyn Payload).collect();
        self.statemap(cx, t, Dir::ToClient, &parts);
    }

    // ---- What the DJ does. ----

    pub fn load<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, deck: usize, track: Track) {
        let d = &mut self.decks[deck - 1];
        d.track = Some(track);
        d.playing = false;
        d.anchor_ns = t;
        d.anchor_s = 0.0;
        let paths: Vec<String> = [
            "Track/SongName",
            "Track/ArtistName",
            "Track/CurrentBPM",
            "CurrentBPM",
        ]
        .iter()
        .map(|s| format!("/Engine/Deck{deck}/{s}"))
        .collect();
        self.emit_changes(cx, t, &paths);
    }

    /// Play (or stop): the deck with nobody else playing becomes the sync master.
    pub fn play<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, deck: usize, on: bool) {
        let others_master = self
            .decks
            .iter()
            .enumerate()
            .any(|(i, d)| i != deck - 1 && d.master);
        let d = &mut self.decks[deck - 1];
        d.anchor_s = d.position_s(t);
        d.anchor_ns = t;
        d.playing = on;
        let mut paths: Vec<String> = ["Play", "PlayState"]
            .iter()
            .map(|s| format!("/Engine/Deck{deck}/{s}"))
            .collect();
        let master = on && !others_master;
        if master != d.master && (on || d.master) {
            d.master = master;
            paths.push(format!("/Engine/Deck{deck}/DeckIsMaster"));
            paths.push("/Engine/Master/MasterTempo".to_string());
        }
        self.emit_changes(cx, t, &paths);
    }

    /// A channel fader moves to `level`: the mixer tells the subscribed player the position
    /// and writes the deck's `ExternalMixerVolume` into it (3.5 f194).
    pub fn fader<W: Write, T>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        channel: usize,
        level: f64,
    ) {
        self.faders[channel - 1] = level;
        let path = format!("/Mixer/CH{channel}faderPosition");
        let position = StateMapMessage::value(&path, &StateValue::Number(level));
        let volume = self.volume_set(channel);
        if self.channels_subscribed {
            self.statemap(cx, t, Dir::ToServer, &[&position, &volume]);
        } else {
            self.statemap(cx, t, Dir::ToServer, &[&volume]);
        }
    }

    /// Both units say goodbye (EXIT) and the mixer closes its connections.
    pub fn leave<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        self.left = true;
        let s = self.spec.clone();
        let mixer = self.howdy(s.mixer_token, "JM08", "1.00", MIXER_DIRECTORY_PORT, true);
        self.announce(cx, t, &mixer, true);
        let player = self.howdy(s.player_token, "JP13", "2.3.1", s.directory_port, false);
        self.announce(cx, t + 3 * MS, &player, false);
        for i in 0..2 {
            let a = self.howdy(
                s.analyzer_tokens[i],
                "OfflineAnalyzer",
                "1.0.0",
                s.analyzer_ports[i],
                false,
            );
            self.announce(cx, t + 3 * MS + (i as i128 + 1) * 180 * US, &a, false);
        }
        if let Some(mut l) = self.links.take() {
            let mut at = t + 20 * MS;
            for flow in [&mut l.beatinfo, &mut l.statemap, &mut l.directory] {
                flow.close(cx.net, cx.wire, at, Dir::ToServer, RTT);
                at += MS;
            }
        }
    }
}
