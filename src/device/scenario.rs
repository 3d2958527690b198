//! What the emulator plays when nobody scripts it: a role list (`cdj-3000,cdj-3000,djm-900nxs2`)
//! turned into devices, and the default scenario over them (two players alternate tracks, the
//! mixer moves the faders, the tempo master hands over), parameterised by BPM and duration.
//!
//! The transports take exactly two things from here: [`build_devices`] (the devices, with the
//! addresses the transport chose) and [`Scenario::commands`] (what the DJ does when). The same
//! pair runs under the virtual clock (`transport::sim`) and the wall clock (sockets).

use std::fmt;

use super::library::Library;
use super::prodjlink::persona::{Kind, Persona, MIXER_NUMBER, REKORDBOX_NUMBER};
use super::prodjlink::track::{TrackInfo, TrackList, Tracks, USB_SLOT};
use super::prodjlink::{build, Numbering, Setup};
use super::{Command, Device, HostAddress, Nanos, MS, SECOND};

/// One entry of a role list: a persona and, when given (`cdj-3000:2`), a fixed number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub persona: &'static Persona,
    pub number: Option<u8>,
}

/// Why a role list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("unknown role '{0}' (known: {known})", known = Persona::roles().collect::<Vec<_>>().join(", "))]
    Unknown(String),
    #[error("'{0}': the number after ':' must be 1-255")]
    BadNumber(String),
    #[error("the role list is empty")]
    Empty,
    #[error("{roles} roles but {hosts} addresses")]
    Addresses { roles: usize, hosts: usize },
}

/// `cdj-3000,cdj-3000:2,djm-900nxs2` (spaces ignored, case-insensitive).
pub fn parse_roles(list: &str) -> Result<Vec<Role>, RoleError> {
    let mut roles = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, number) = match item.split_once(':') {
            Some((n, d)) => {
                let d: u8 = d
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&d| d > 0)
                    .ok_or_else(|| RoleError::BadNumber(item.to_string()))?;
                (n.trim(), Some(d))
            }
            None => (item, None),
        };
        let persona = Persona::by_role(name).ok_or_else(|| RoleError::Unknown(name.to_string()))?;
        roles.push(Role { persona, number });
    }
    if roles.is_empty() {
        return Err(RoleError::Empty);
    }
    Ok(roles)
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number {
            Some(n) => write!(f, "{}:{n}", self.persona.role),
            None => f.write_str(self.persona.role),
        }
    }
}

/// How each role gets its number: fixed when the list says so; otherwise players remember
/// 1, 2, 3... in list order (9.1 "auto numbering is remembered"), mixers 33, rekordbox 0x11.
pub fn numbering(roles: &[Role]) -> Vec<Numbering> {
    let mut next_player = 1u8;
    roles
        .iter()
        .map(|r| {
            if let Some(n) = r.number {
                return Numbering::Fixed(n);
            }
            Numbering::Auto(match r.persona.kind {
                Kind::Player | Kind::OpusQuad => {
                    let n = next_player;
                    next_player = next_player.saturating_add(1);
                    n
                }
                Kind::Mixer => MIXER_NUMBER,
                Kind::Rekordbox => REKORDBOX_NUMBER,
            })
        })
        .collect()
}

/// Time between two devices' power-on (a rig is switched on unit by unit).
pub const POWER_ON_STAGGER: Nanos = 1000 * MS;

/// The devices of `roles`, at the addresses the transport chose (`hosts[i]` for `roles[i]`),
/// powered on from `start` one after another, players reading `tracks`.
pub fn build_devices(
    roles: &[Role],
    hosts: &[HostAddress],
    start: Nanos,
    tracks: Tracks,
) -> Result<Vec<Box<dyn Device + Send>>, RoleError> {
    if roles.len() != hosts.len() {
        return Err(RoleError::Addresses {
            roles: roles.len(),
            hosts: hosts.len(),
        });
    }
    let numbers = numbering(roles);
    Ok(roles
        .iter()
        .zip(hosts)
        .zip(numbers)
        .enumerate()
        .map(|(i, ((r, &host), numbering))| {
            build(Setup {
                persona: r.persona,
                host,
                numbering,
                power_on: start + i as Nanos * POWER_ON_STAGGER,
                has_usb: r.persona.kind != Kind::Mixer,
                tracks: tracks.clone(),
            })
        })
        .collect())
}

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
    TrackList::from_library(&Library::demo())
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
    let players: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].persona.kind == Kind::Player)
        .collect();
    let mixer = (0..roles.len()).find(|&i| roles[i].persona.kind == Kind::Mixer);
    let numbers = numbering(roles);
    let up = start + roles.len() as Nanos * POWER_ON_STAGGER + 4 * SECOND;
    let end = start + duration.max(up - start + SECOND);
    let mut c = Vec::new();
    let mut at = |t: Nanos, device: usize, command: Command| {
        if t < end {
            c.push(TimedCommand {
                at: t,
                device,
                command,
            });
        }
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
    let channel = |i: usize| numbers[i].number();
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
    if let Some(m) = mixer {
        at(
            up + 700 * MS,
            m,
            Command::Fader {
                channel: channel(first),
                on_air: true,
            },
        );
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
        // ...and comes in on the turn's last 8 beats.
        let go = t + turn - 8 * beat;
        if go <= ready + SECOND {
            break;
        }
        at(go, on, Command::Play);
        if let Some(m) = mixer {
            at(
                go + 2 * beat,
                m,
                Command::Fader {
                    channel: channel(on),
                    on_air: true,
                },
            );
        }
        at(go + 4 * beat, on, Command::BecomeMaster);
        if let Some(m) = mixer {
            at(
                go + 6 * beat,
                m,
                Command::Fader {
                    channel: channel(off),
                    on_air: false,
                },
            );
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

#[cfg(test)]
mod tests {
    use super::*;
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
