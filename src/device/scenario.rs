//! What the emulator plays when nobody scripts it: a role list (`cdj-3000,cdj-3000,djm-900nxs2`)
//! turned into devices, and the default scenario over them (two players alternate tracks, the
//! mixer moves the faders, the tempo master hands over), parameterised by BPM and duration.
//!
//! The transports take exactly two things from here: [`build_devices`] (the devices, with the
//! addresses the transport chose) and [`Scenario::commands`] (what the DJ does when). The same
//! pair runs under the virtual clock (`transport::sim`) and the wall clock (sockets).

use super::prodjlink::track::{TrackInfo, TrackList, USB_SLOT};
use super::stagelinq::Kind as SlqKind;
use super::{Command, Nanos, MS, SECOND};

pub use super::library::Library;
pub use super::roles::{
    build_devices, numbering, parse_roles, Model, Role, RoleError, POWER_ON_STAGGER,
};

/// One step: at `at`, device `device` (index into the role list) gets `command`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedCommand {
    pub at: Nanos,
    pub device: usize,
    pub command: Command,
}

/// Timed commands and the scenario's end.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    pub commands: Vec<TimedCommand>,
    pub end: Nanos,
}

/// The tracks the emulator's players hold: the demo library (`device::library`), on every
/// player's USB stick.
pub fn demo_tracks() -> TrackList {
    TrackList::from_library(std::sync::Arc::new(Library::demo()))
}

/// The default scenario over `roles`, starting when every device is up.
///
/// The first two players alternate: the incoming one loads the next track, syncs, starts,
/// its fader goes up, it asks for tempo master (the handoff of 9.4), the outgoing fader goes
/// down and the outgoing deck stops. Each turn lasts 32 beats at `bpm`; the first player's
/// pitch is set so its track plays at `bpm`. A mixer, if any, moves the faders; without
/// one the players still play. With fewer than two players nothing alternates.
pub fn default_scenario(
    roles: &[Role],
    tracks: &TrackList,
    start: Nanos,
    bpm: f64,
    duration: Nanos,
) -> Scenario {
    // The decks that alternate: one per player; the first two decks of an all-in-one, each
    // on its own channel of the unit's mixer section.
    let mut players: Vec<Slot> = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        match r.model {
            Model::StageLinq(p) if p.kind == SlqKind::AllInOne => {
                players.extend((1..=2).map(|d| Slot {
                    device: i,
                    deck: Some(d),
                }));
            }
            m if m.has_decks() => players.push(Slot {
                device: i,
                deck: None,
            }),
            _ => {}
        }
    }
    let mixer = (0..roles.len()).find(|&i| roles[i].model.is_mixer());
    let numbers = numbering(roles);
    let up = start + roles.len() as Nanos * POWER_ON_STAGGER + 4 * SECOND;
    let end = start + duration.max(up - start + SECOND);
    let mut c = Vec::new();
    let mut push = |t: Nanos, device: usize, command: Command| {
        if t < end {
            c.push(TimedCommand {
                at: t,
                device,
                command,
            });
        }
    };
    // A deck command goes to the slot's device, wrapped for the deck of an all-in-one.
    let mut at = |t: Nanos, slot: Slot, command: Command| {
        let command = match slot.deck {
            Some(deck) => Command::OnDeck {
                deck,
                command: Box::new(command),
            },
            None => command,
        };
        push(t, slot.device, command);
    };
    let bpm = if bpm.is_finite() && bpm > 20.0 {
        bpm.min(300.0)
    } else {
        124.0
    };
    let beat = (60.0 / bpm * SECOND as f64) as Nanos;
    let turn = 32 * beat;
    let Some(&first) = players.first() else {
        return Scenario {
            commands: Vec::new(),
            end,
        };
    };
    // Who moves a slot's fader: the unit's own mixer section for an all-in-one deck, else
    // the mixer (if any) on the channel of the player's number.
    let fader = |slot: Slot, on_air: bool| -> Option<(usize, Command)> {
        let (device, channel) = match slot.deck {
            Some(deck) => (slot.device, deck),
            None => (mixer?, numbers[slot.device].number()),
        };
        Some((device, Command::Fader { channel, on_air }))
    };
    // Tracks within 8 % of the tempo, so synced decks stay inside a real pitch range (±6, ±10,
    // ±16 %); all of them when fewer than two are that close.
    let mut playable: Vec<&TrackInfo> = tracks
        .0
        .iter()
        .filter(|t| (t.bpm() / bpm - 1.0).abs() <= 0.08)
        .collect();
    if playable.len() < 2 {
        playable = tracks.0.iter().collect();
    }
    if playable.is_empty() {
        return Scenario {
            commands: Vec::new(),
            end,
        };
    }
    let track = |k: usize| playable[k % playable.len()];
    let load = |k: usize| Command::Load {
        source: 0,
        slot: USB_SLOT,
        track_id: track(k).rekordbox_id,
    };
    let pitch_for = |k: usize| (bpm / track(k).bpm() - 1.0) * 100.0;
    at(up, first, load(0));
    at(up + 500 * MS, first, Command::Pitch(pitch_for(0)));
    if let Some((d, f)) = fader(first, true) {
        push_raw(&mut at, up + 700 * MS, d, f);
    }
    at(up + 900 * MS, first, Command::BecomeMaster);
    let mut t = up + SECOND;
    at(t, first, Command::Play);
    let Some(&second) = players.get(1) else {
        return Scenario { commands: c, end };
    };
    let (mut on, mut off) = (second, first);
    let mut k = 1;
    loop {
        // The incoming deck gets ready during the first half of the turn...
        let ready = t + turn / 2;
        at(ready, on, load(k));
        at(ready + SECOND, on, Command::Sync(true));
        if matches!(roles[on.device].model, Model::StageLinq(_)) {
            // StageLinQ units sync to each other over a service nobody has decoded (Syncing,
            // `stagelinq.md` 1.3.2), which the models do not emulate: the DJ sets the tempo
            // by hand, so every deck plays at the scenario's tempo.
            at(ready + SECOND, on, Command::Pitch(pitch_for(k)));
        }
        // ...and comes in on the turn's last 8 beats.
        let go = t + turn - 8 * beat;
        if go <= ready + SECOND {
            break;
        }
        at(go, on, Command::Play);
        if let Some((d, f)) = fader(on, true) {
            push_raw(&mut at, go + 2 * beat, d, f);
        }
        at(go + 4 * beat, on, Command::BecomeMaster);
        if let Some((d, f)) = fader(off, false) {
            push_raw(&mut at, go + 6 * beat, d, f);
        }
        at(t + turn, off, Command::Pause);
        at(t + turn + beat, off, Command::Sync(false));
        t += turn;
        k += 1;
        std::mem::swap(&mut on, &mut off);
        if t >= end {
            break;
        }
    }
    c.sort_by_key(|s| s.at);
    Scenario { commands: c, end }
}

/// A deck the default scenario plays: a device, and the deck of an all-in-one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    device: usize,
    deck: Option<u8>,
}

/// Send `command` to `device` as it is (a fader move), through the slot-wrapping `at`.
fn push_raw(at: &mut impl FnMut(Nanos, Slot, Command), t: Nanos, device: usize, command: Command) {
    at(t, Slot { device, deck: None }, command);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::prodjlink::track::Tracks;
    use crate::device::prodjlink::Numbering;
    use crate::device::HostAddress;
    use std::sync::Arc;

    #[test]
    fn role_lists_parse_with_numbers_and_errors() {
        let r = parse_roles("cdj-3000, CDJ-3000:5 ,djm-900nxs2").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].number, Some(5));
        assert_eq!(r[1].to_string(), "cdj-3000:5");
        let n = numbering(&r);
        assert_eq!(
            n,
            vec![Numbering::Auto(1), Numbering::Fixed(5), Numbering::Auto(33)]
        );
        assert!(matches!(parse_roles("cdj-9"), Err(RoleError::Unknown(_))));
        assert!(matches!(
            parse_roles("cdj-3000:0"),
            Err(RoleError::BadNumber(_))
        ));
        assert!(matches!(parse_roles(" , "), Err(RoleError::Empty)));
        let hosts = [HostAddress {
            ip: std::net::Ipv4Addr::new(127, 0, 0, 2),
            mac: [2, 0, 0, 0, 0, 2],
        }];
        let tracks: Tracks = Arc::new(demo_tracks());
        assert!(matches!(
            build_devices(&r, &hosts, 0, tracks),
            Err(RoleError::Addresses { roles: 3, hosts: 1 })
        ));
    }

    #[test]
    fn default_scenario_alternates_and_hands_master_over() {
        let roles = parse_roles("cdj-3000,cdj-3000,djm-900nxs2").unwrap();
        let s = default_scenario(&roles, &demo_tracks(), 0, 124.0, 120 * SECOND);
        assert!(s.commands.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(s.commands.iter().all(|c| c.at < s.end));
        let masters: Vec<usize> = s
            .commands
            .iter()
            .filter(|c| c.command == Command::BecomeMaster)
            .map(|c| c.device)
            .collect();
        assert!(masters.len() >= 3, "{masters:?}");
        assert!(masters.windows(2).all(|w| w[0] != w[1]));
        assert!(s.commands.iter().any(|c| c.device == 2
            && c.command
                == Command::Fader {
                    channel: 2,
                    on_air: true
                }));
    }
}
