//! What a player does with what it receives (`prodjlink.md` 2-4, 7.1, 9.4): numbers and peers
//! (handed to its presence), other players' status (tempo master, sync, the handoff), the
//! handoff request, the mixer's on-air, fader-start and sync-control packets, load-track and
//! load-settings commands, media queries, and the dbserver port query.

use std::net::SocketAddrV4;

use super::player::{Other, Player};
use super::{receive, unicast, ANNOUNCE_PORT, BEAT_PORT, STATUS_PORT};
use crate::device::{Nanos, Outbox};
use crate::prodjlink::{CdjStatus, MasterHandoffResponse, MediaResponse, OpaqueStatus, Packet};

use crate::prodjlink::sync_command::{BECOME_MASTER, SYNC_OFF, SYNC_ON};
impl Player {
    pub(crate) fn input(
        &mut self,
        now: Nanos,
        from: SocketAddrV4,
        port: u16,
        payload: &[u8],
        out: &mut Outbox,
    ) {
        let to = SocketAddrV4::new(self.presence.host.ip, port);
        let Some(packet) = receive(&mut self.presence, now, from, to, payload, out) else {
            return;
        };
        if port == ANNOUNCE_PORT {
            return;
        }
        let me = self.presence.number();
        match packet {
            Packet::CdjStatus(s) if s.header.device != me => self.other_status(now, from, &s, out),
            // 9.4 step 2: the master grants the request and names the requester in M_h.
            Packet::MasterHandoffRequest(r) if self.deck.master && r.header.device != me => {
                let rsp = MasterHandoffResponse::new(self.presence.persona.name, me);
                out.datagram(0, unicast(*from.ip(), BEAT_PORT), rsp.to_bytes());
                self.deck.handoff_to = r.header.device;
                let text = format!("handing tempo master to player {}", r.header.device);
                self.note(now, text);
                self.send_status(now, out);
            }
            Packet::ChannelsOnAir(c) => {
                let on = c.channel_on_air(me as usize).unwrap_or(false);
                // Shown in the next regular status (4.2 F bit 3), as real decks do.
                self.deck.on_air = on;
            }
            Packet::FaderStart(f) if self.presence.persona.fader_start => {
                match (me as usize)
                    .checked_sub(1)
                    .and_then(|i| f.channels.get(i))
                    .copied()
                {
                    Some(0) if !self.deck.playing => {
                        let _ = self.play(now, out);
                    }
                    Some(1) => {
                        let _ = self.cue(now, out);
                    }
                    _ => {}
                }
            }
            Packet::SyncControl(c) if c.header.device != me => match c.command {
                SYNC_ON => self.sync(now, true, out),
                SYNC_OFF => self.sync(now, false, out),
                BECOME_MASTER => self.become_master(now, out),
                _ => {}
            },
            Packet::LoadTrack(l) => {
                let name = self.presence.persona.name;
                let found = self
                    .tracks
                    .track(l.source_device, l.source_slot, l.rekordbox_id);
                let (kind, text) = match found {
                    Some(t) => {
                        self.load(now, t, out);
                        (0x1a, format!("loaded track {} on command", l.rekordbox_id))
                    }
                    // 4.1 kind 1c "cannot load track" (PDJL only; body undescribed).
                    None => (
                        0x1c,
                        format!("refused to load unknown track {}", l.rekordbox_id),
                    ),
                };
                let ack = OpaqueStatus::new(kind, name, 0, me, vec![0; 4]);
                out.datagram(0, unicast(*from.ip(), STATUS_PORT), ack.to_bytes());
                self.note(now, text);
            }
            // 4.1 kind 34: My Settings pushed by rekordbox, kept for the next load.
            Packet::LoadSettings(s) if s.target == me => {
                self.my_settings = Some(s.settings);
                let text = format!("took My Settings from device {}", s.sender);
                self.note(now, text);
            }
            // 4.1 kind 05: answer the slot's owner's facts to the requester's address.
            Packet::MediaQuery(q) if q.owner == me => {
                let r = self.media_response(q.slot);
                out.datagram(0, unicast(q.requester_ip, STATUS_PORT), r.to_bytes());
                let text = format!("answered a media query from device {}", q.header.device);
                self.note(now, text);
            }
            _ => {}
        }
    }

    /// What the player says about its `slot` (4.1 kind 06): the USB stick's name, date, track
    /// count and sizes, or an empty slot.
    pub(crate) fn media_response(&self, slot: u8) -> MediaResponse {
        let me = self.presence.number();
        let usb = self.has_usb && slot == super::track::USB_SLOT;
        let mut r = MediaResponse::new(
            self.presence.persona.name,
            me,
            slot,
            if usb { "DJDISSECT" } else { "" },
            if usb { "2024-05-17" } else { "" },
        );
        if usb {
            r.track_count = self.tracks.count(me).min(u16::MAX as usize) as u16;
            // A 16 GiB stick, a quarter used; the reference gives no typical sizes.
            r.total_bytes = 16 << 30;
            r.free_bytes = 12 << 30;
        } else {
            r.media_type = 0;
            r.my_settings = 0;
        }
        r
    }

    /// Another player's status: who is master, at what tempo, and the handoff (9.4).
    fn other_status(&mut self, now: Nanos, from: SocketAddrV4, s: &CdjStatus, out: &mut Outbox) {
        let o = Other {
            number: s.header.device,
            ip: *from.ip(),
            master: s.is_master(),
            playing: s.is_playing(),
            effective_bpm: s.effective_bpm(),
            handoff_to: s.master_handoff,
            sync_counter: s.sync_counter,
        };
        match self.others.iter_mut().find(|x| x.number == o.number) {
            Some(x) => *x = o,
            None => self.others.push(o),
        }
        let me = self.presence.number();
        // Step 4: the master names us in M_h: take the role.
        if o.master && o.handoff_to == me && !self.deck.master {
            self.deck.master = true;
            self.asked_master = None;
            self.note(now, format!("took tempo master from player {}", o.number));
            self.send_status(now, out);
            return;
        }
        // Step 5: the player we named now says it is master: let go.
        if o.master && self.deck.master && self.deck.handoff_to == o.number {
            let max = self
                .others
                .iter()
                .map(|x| x.sync_counter)
                .chain([self.deck.sync_counter])
                .max()
                .unwrap_or(0);
            self.deck.master = false;
            self.deck.handoff_to = 0xff;
            self.deck.sync_counter = max.wrapping_add(1);
            self.send_status(now, out);
            return;
        }
        // A synced deck follows the master's tempo.
        if o.master && self.deck.sync && !self.deck.master {
            if let (Some(target), Some(bpm)) =
                (o.effective_bpm, self.deck.track.as_ref().map(|t| t.bpm()))
            {
                let pitch = (target / bpm - 1.0) * 100.0;
                if (pitch - self.deck.pitch_pct).abs() > 1e-6 {
                    self.deck.reanchor(now);
                    self.deck.pitch_pct = pitch;
                    self.restart_beats(now);
                }
            }
        }
    }
}
