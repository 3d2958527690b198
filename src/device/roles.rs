//! A role list (`cdj-3000,cdj-3000,djm-900nxs2`, `sc6000,sc6000,x1800`, `prime-4`, mixed rigs
//! such as `cdj-3000,sc6000`) turned into devices: one role per device, from the Pro DJ Link
//! persona table (`prodjlink::persona`) or the StageLinQ one (`stagelinq::persona`).

use std::fmt;
use std::sync::Arc;

use super::library::Library;
use super::prodjlink::persona::{Kind, Persona, MIXER_NUMBER, REKORDBOX_NUMBER};
use super::prodjlink::track::Tracks;
use super::prodjlink::{self, Numbering};
use super::stagelinq::{self, Kind as SlqKind, Persona as SlqPersona};
use super::{Device, HostAddress, Nanos, MS};

/// Which table a role comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    ProDjLink(&'static Persona),
    StageLinq(&'static SlqPersona),
}

impl Model {
    pub fn role(&self) -> &'static str {
        match self {
            Model::ProDjLink(p) => p.role,
            Model::StageLinq(p) => p.role,
        }
    }

    /// A unit whose decks a scenario plays (players, all-in-ones).
    pub fn has_decks(&self) -> bool {
        match self {
            Model::ProDjLink(p) => p.kind == Kind::Player,
            Model::StageLinq(p) => p.kind != SlqKind::Mixer,
        }
    }

    pub fn is_mixer(&self) -> bool {
        match self {
            Model::ProDjLink(p) => p.kind == Kind::Mixer,
            Model::StageLinq(p) => p.kind == SlqKind::Mixer,
        }
    }

    /// The UDP ports the device receives on (what a socket transport binds for it).
    pub fn udp_ports(&self) -> &'static [u16] {
        match self {
            Model::ProDjLink(_) => &[
                prodjlink::ANNOUNCE_PORT,
                prodjlink::BEAT_PORT,
                prodjlink::STATUS_PORT,
            ],
            Model::StageLinq(_) => &[crate::stagelinq::discovery::PORT],
        }
    }
}

/// One entry of a role list: a persona and, when given (`cdj-3000:2`), a fixed number (the
/// Pro DJ Link device number; for a StageLinQ unit its `/Client/Preferences/Player`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub model: Model,
    pub number: Option<u8>,
}

fn known_roles() -> String {
    Persona::roles()
        .chain(SlqPersona::roles())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a role list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("unknown role '{0}' (known: {known})", known = known_roles())]
    Unknown(String),
    #[error("'{0}': the number after ':' must be 1-255")]
    BadNumber(String),
    #[error("the role list is empty")]
    Empty,
    #[error("{roles} roles but {hosts} addresses")]
    Addresses { roles: usize, hosts: usize },
}

/// `cdj-3000,cdj-3000:2,djm-900nxs2`, `sc6000,sc6000,x1800` (spaces ignored,
/// case-insensitive).
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
        let model = match (Persona::by_role(name), SlqPersona::by_role(name)) {
            (Some(p), _) => Model::ProDjLink(p),
            (None, Some(p)) => Model::StageLinq(p),
            (None, None) => return Err(RoleError::Unknown(name.to_string())),
        };
        roles.push(Role { model, number });
    }
    if roles.is_empty() {
        return Err(RoleError::Empty);
    }
    Ok(roles)
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number {
            Some(n) => write!(f, "{}:{n}", self.model.role()),
            None => f.write_str(self.model.role()),
        }
    }
}

/// How each role gets its number: fixed when the list says so; otherwise players (of either
/// protocol) count 1, 2, 3... in list order (9.1 "auto numbering is remembered"), mixers 33,
/// rekordbox 0x11.
pub fn numbering(roles: &[Role]) -> Vec<Numbering> {
    let mut next_player = 1u8;
    roles
        .iter()
        .map(|r| {
            if let Some(n) = r.number {
                return Numbering::Fixed(n);
            }
            let kind = match r.model {
                Model::ProDjLink(p) => p.kind,
                Model::StageLinq(p) if p.kind == SlqKind::Mixer => Kind::Mixer,
                Model::StageLinq(_) => Kind::Player,
            };
            Numbering::Auto(match kind {
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
/// powered on from `start` one after another; Pro DJ Link players read `tracks`, StageLinQ
/// units the demo library (the same tracks by id).
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
    let library = roles
        .iter()
        .any(|r| matches!(r.model, Model::StageLinq(_)))
        .then(|| Arc::new(Library::demo()));
    // Which player is cabled to which mixer channel: channel n plays deck 1 of the player
    // numbered n (the default scenario moves those faders).
    let cabling: Vec<stagelinq::Cable> = roles
        .iter()
        .zip(hosts)
        .zip(&numbers)
        .filter(|((r, _), _)| r.model.has_decks())
        .map(|((_, h), n)| stagelinq::Cable {
            channel: n.number(),
            ip: h.ip,
            deck: 1,
        })
        .collect();
    Ok(roles
        .iter()
        .zip(hosts)
        .zip(numbers)
        .enumerate()
        .map(|(i, ((r, &host), numbering))| {
            let power_on = start + i as Nanos * POWER_ON_STAGGER;
            match r.model {
                Model::ProDjLink(persona) => prodjlink::build(prodjlink::Setup {
                    persona,
                    host,
                    numbering,
                    power_on,
                    has_usb: persona.kind != Kind::Mixer,
                    tracks: tracks.clone(),
                }),
                Model::StageLinq(persona) => stagelinq::build(stagelinq::Setup {
                    persona,
                    host,
                    player_number: numbering.number(),
                    power_on,
                    library: library.clone().unwrap_or_else(|| Arc::new(Library::demo())),
                    cabling: cabling.clone(),
                }),
            }
        })
        .collect())
}
