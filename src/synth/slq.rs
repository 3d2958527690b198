//! A StageLinQ pair: an SC6000 (JP13, two layers = decks 1 and 2) and an X1800 mixer (JM08),
//! behaving as in `stagelinq.md` section 3: HOWDYs every second (the player's from a fresh
//! port to 255.255.255.255, the mixer's from 51337 to the subnet), the mixer connecting to the
//! player's directory, then to StateMap and BeatInfo, subscriptions answered ~100 ms later,
//! the player subscribing back to the mixer's channels, References both ways, beat emits about
//! every 33 ms, and the mixer writing `ExternalMixerVolume` into the decks with `0x7d1`.

use std::io::Write;
use std::net::Ipv4Addr;

use crate::stagelinq::beatinfo::{BeatEmit, BeatInfoMessage, DeckBeat};
use crate::stagelinq::directory::{
    DirectoryMessage, Reference, ServiceAnnouncement, ServicesRequest,
};
use crate::stagelinq::discovery::{self, Action, Discovery};
use crate::stagelinq::statemap::{StateMapMessage, NO_UPDATES_INTERVAL};
use crate::stagelinq::statemap_json::{number_json_fixed, StateValue};
use crate::stagelinq::Token;

use super::net::{Dir, HostId, Net, Payload, TcpFlow, To};
pub use super::slq_deck::SlqDeck;
use super::slq_deck::IDLE_BPM;
use super::wire::{Sched, MS, SEC, US};
use super::Cx;

const MIXER_DIRECTORY_PORT: u16 = 50010;
/// The fixed service ports the X1800 names in its service hellos (`stagelinq.md` 1.4).
const MIXER_STATEMAP_PORT: u16 = 50011;
const MIXER_BEATINFO_PORT: u16 = 50012;
const ACK_DELAY: i128 = 180 * US;
const RTT: i128 = 200 * US;

/// What the mixer subscribes to on the player, one every 40-60 ms, interval 100 (3.5).
pub const MIXER_SUBSCRIBES: [&str; 17] = [
    "/Engine/Deck1/Track/SongName",
    "/Engine/Deck2/Track/SongName",
    "/Engine/Deck1/Track/ArtistName",
    "/Engine/Deck2/Track/ArtistName",
    "/Engine/Deck1/Track/CurrentBPM",
    "/Engine/Deck2/Track/CurrentBPM",
    "/Engine/Deck1/CurrentBPM",
    "/Engine/Deck2/CurrentBPM",
    "/Engine/Deck1/Play",
    "/Engine/Deck2/Play",
    "/Engine/Deck1/PlayState",
    "/Engine/Deck2/PlayState",
    "/Engine/Deck1/DeckIsMaster",
    "/Engine/Deck2/DeckIsMaster",
    "/Client/Preferences/LayerB",
    "/Engine/Sync/Network/MasterStatus",
    "/Engine/Master/MasterTempo",
];
const MIXER_SUBSCRIBE_INTERVAL: u32 = 100;

/// Where the units live and who they are.
#[derive(Debug, Clone)]
pub struct SlqSpec {
    pub player_mac: [u8; 6],
    pub player_ip: Ipv4Addr,
    pub player_token: Token,
    pub analyzer_tokens: [Token; 2],
    pub analyzer_ports: [u16; 2],
    pub directory_port: u16,
    /// StateMap, Broadcast, Syncing, TimeSynchronization, BeatInfo, FileTransfer (3.4 order).
    pub service_ports: [u16; 6],
    pub mixer_mac: [u8; 6],
    pub mixer_ip: Ipv4Addr,
    pub mixer_token: Token,
    pub mixer_boot_ns: i128,
    pub player_boot_ns: i128,
}

const SERVICES: [&str; 6] = [
    "StateMap",
    "Broadcast",
    "Syncing",
    "TimeSynchronization",
    "BeatInfo",
    "FileTransfer",
];

#[derive(Debug, Clone, Copy)]
pub enum SlqTimer {
    MixerHowdy,
    PlayerHowdy,
    AnalyzerHowdy,
    Connect,
    Subscribe(usize),
    Answer(usize),
    ChannelCount,
    /// The player subscribes to the mixer's channel assignments and faders.
    ChannelSubscribe,
    /// The mixer answers them.
    ChannelValues,
    InitialSets,
    MixerPing,
    PlayerPing,
    /// The echo of a Reference ping (`to_server`: the mixer pinged, the player echoes).
    Echo {
        to_server: bool,
        value: u64,
    },
    Beat,
}

struct Links {
    directory: TcpFlow,
    statemap: TcpFlow,
    beatinfo: TcpFlow,
    /// BeatInfo segments since the mixer last acknowledged (it acks every second one).
    unacked_beats: u32,
}

pub struct SlqRig {
    pub spec: SlqSpec,
    pub player: HostId,
    pub mixer: HostId,
    pub decks: [SlqDeck; 2],
    /// Channel fader levels 1-4 (channel n plays deck n).
    pub faders: [f64; 4],
    links: Option<Links>,
    /// The mixer's subscriptions answered so far (values change only once answered).
    answered: usize,
    /// The player subscribed to the mixer's channels.
    channels_subscribed: bool,
    beat_emit: BeatInfoMessage,
    left: bool,
}

impl SlqRig {
    pub fn new<T: From<SlqTimer>>(net: &mut Net, sched: &mut Sched<T>, spec: SlqSpec) -> SlqRig {
        let player = net.add("sc6000", spec.player_mac, spec.player_ip, (32768, 60999));
        let mixer = net.add(
            "DN-X1800Prime",
            spec.mixer_mac,
            spec.mixer_ip,
            (49153, 65000),
        );
        // The mixer announces every second from power-on, the player once booted; the
        // player's analyzers half a second out of phase with it (2.2, 3.3).
        sched.at(spec.mixer_boot_ns, T::from(SlqTimer::MixerHowdy));
        sched.at(spec.player_boot_ns, T::from(SlqTimer::AnalyzerHowdy));
        sched.at(
            spec.player_boot_ns + 440 * MS,
            T::from(SlqTimer::PlayerHowdy),
        );
        SlqRig {
            spec,
            player,
            mixer,
            decks: [SlqDeck::default(), SlqDeck::default()],
            faders: [0.0; 4],
            links: None,
            answered: 0,
            channels_subscribed: false,
            beat_emit: BeatInfoMessage::Beat(BeatEmit {
                clock: 0,
                decks: vec![DeckBeat::default(); 2],
            }),
            left: false,
        }
    }

    fn howdy(
        &self,
        token: Token,
        software: &str,
        version: &str,
        port: u16,
        mixer: bool,
    ) -> Discovery {
        let name = if mixer { "DN-X1800Prime" } else { "sc6000" };
        let mut d = Discovery::howdy(token, name, software, version, port);
        if self.left {
            d.action = Action::Exit;
        }
        d
    }

    fn announce<W: Write, T>(&self, cx: &mut Cx<'_, W, T>, t: i128, d: &Discovery, mixer: bool) {
        if mixer {
            // The mixer sends from 51337 to the subnet broadcast (1.2).
            cx.net.udp(
                cx.wire,
                t,
                self.mixer,
                discovery::PORT,
                To::Subnet,
                discovery::PORT,
                &[d],
            );
        } else {
            // Players use a fresh ephemeral port each time, to 255.255.255.255 (1.2).
            let sport = cx.net.ephemeral_port(self.player);
            cx.net.udp(
                cx.wire,
                t,
                self.player,
                sport,
                To::Limited,
                discovery::PORT,
                &[d],
            );
        }
    }

    pub fn fire<W: Write, T: From<SlqTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        timer: SlqTimer,
    ) {
        if self.left {
            return;
        }
        let s = &self.spec;
        match timer {
            SlqTimer::MixerHowdy => {
                let d = self.howdy(s.mixer_token, "JM08", "1.00", MIXER_DIRECTORY_PORT, true);
                self.announce(cx, t, &d, true);
                cx.sched
                    .at(t + SEC + cx.rng.jitter(200 * US), T::from(timer));
            }
            SlqTimer::AnalyzerHowdy => {
                // Two OfflineAnalyzer identities, back to back (2.2).
                for i in 0..2 {
                    let d = self.howdy(
                        s.analyzer_tokens[i],
                        "OfflineAnalyzer",
                        "1.0.0",
                        s.analyzer_ports[i],
                        false,
                    );
                    self.announce(cx, t + i as i128 * 180 * US, &d, false);
                }
                cx.sched
                    .at(t + SEC + cx.rng.jitter(200 * US), T::from(timer));
            }
            SlqTimer::PlayerHowdy => {
                let d = self.howdy(s.player_token, "JP13", "2.3.1", s.directory_port, false);
                self.announce(cx, t, &d, false);
                if self.links.is_none() {
                    // The mixer connects within a millisecond of the first HOWDY (3.3).
                    cx.sched.at(t + 800 * US, T::from(SlqTimer::Connect));
                }
                cx.sched
                    .at(t + SEC + cx.rng.jitter(200 * US), T::from(timer));
            }
            SlqTimer::Connect => self.connect(cx, t),
            SlqTimer::Subscribe(i) => {
                let m = StateMapMessage::subscribe(MIXER_SUBSCRIBES[i], MIXER_SUBSCRIBE_INTERVAL);
                self.statemap(cx, t, Dir::ToServer, &[&m]);
                // Answered once with the current value 101-125 ms later (1.5).
                let answer = t + 101 * MS + cx.rng.below(24_000) as i128 * US;
                cx.sched.at(answer, T::from(SlqTimer::Answer(i)));
                if i + 1 < MIXER_SUBSCRIBES.len() {
                    let next = t + 40 * MS + cx.rng.below(20_000) as i128 * US;
                    cx.sched.at(next, T::from(SlqTimer::Subscribe(i + 1)));
                }
            }
            SlqTimer::Answer(i) => {
                let path = MIXER_SUBSCRIBES[i];
                let m = StateMapMessage::value(path, &self.value_of(path));
                self.statemap(cx, t, Dir::ToClient, &[&m]);
                self.answered = self.answered.max(i + 1);
            }
            SlqTimer::ChannelCount => self.channel_count(cx, t),
            SlqTimer::ChannelSubscribe => self.channel_subscribe(cx, t),
            SlqTimer::ChannelValues => self.channel_values(cx, t),
            SlqTimer::InitialSets => {
                let player = StateMapMessage::set(
                    "/Client/Preferences/Player",
                    &StateValue::Enum("1".into()),
                );
                let v2 = self.volume_set(2);
                let v1 = self.volume_set(1);
                self.statemap(cx, t, Dir::ToServer, &[&player, &v2, &v1]);
            }
            SlqTimer::MixerPing => {
                // 10 kHz ticks of mixer uptime, little-endian (1.3.3).
                let ticks = ((t - s.mixer_boot_ns) / (100 * US)) as u64 + 5_400_000;
                let ping = Reference::ping_le(s.mixer_token, ticks);
                self.reference(cx, t, Dir::ToServer, ping);
                cx.sched
                    .at(t + 1500 * MS + cx.rng.jitter(300 * US), T::from(timer));
            }
            SlqTimer::PlayerPing => {
                let ns = (t - s.player_boot_ns) as u64 + 2_400_000_000;
                let ping = Reference::ping(s.player_token, ns);
                self.reference(cx, t, Dir::ToClient, ping);
                cx.sched.at(t + 5 * SEC + cx.rng.jitter(MS), T::from(timer));
            }
            SlqTimer::Echo { to_server, value } => self.echo(cx, t, to_server, value),
            SlqTimer::Beat => {
                self.beat(cx, t);
                // One emit every ~33 ms (29.9-46.4 ms in the capture, 1.6).
                let next = t + 33 * MS + cx.rng.jitter(3 * MS);
                cx.sched.at(next, T::from(timer));
            }
        }
    }

    /// Send on the StateMap connection; the other side acknowledges.
    fn statemap<W: Write, T>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        dir: Dir,
        parts: &[&dyn Payload],
    ) {
        let Some(l) = &mut self.links else { return };
        let end = l.statemap.send(cx.net, cx.wire, t, dir, parts, 30 * US);
        let back = if dir == Dir::ToServer {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        l.statemap.ack(cx.net, cx.wire, end + ACK_DELAY, back);
    }

    /// A Reference ping on the directory connection; the echo follows about a millisecond
    /// later (1.3.3).
    fn reference<W: Write, T: From<SlqTimer>>(
        &mut self,
        cx: &mut Cx<'_, W, T>,
        t: i128,
        dir: Dir,
        ping: Reference,
    ) {
        let Some(l) = &mut self.links else { return };
        let msg = DirectoryMessage::Reference(ping);
        let end = l.directory.send(cx.net, cx.wire, t, dir, &[&msg], 0);
        let echo = end + 600 * US + cx.rng.below(500) as i128 * US;
        cx.sched.at(
            echo,
            T::from(SlqTimer::Echo {
                to_server: dir == Dir::ToServer,
                value: ping.value,
            }),
        );
    }

    fn echo<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128, to_server: bool, value: u64) {
        let s = &self.spec;
        // The echo goes back the other way: originator's token first, echoer's second.
        let (ping, echoer, back, dir) = if to_server {
            (
                Reference::ping(s.mixer_token, value),
                s.player_token,
                Dir::ToClient,
                Dir::ToServer,
            )
        } else {
            (
                Reference::ping(s.player_token, value),
                s.mixer_token,
                Dir::ToServer,
                Dir::ToClient,
            )
        };
        let echo = DirectoryMessage::Reference(ping.echo(echoer));
        let Some(l) = &mut self.links else { return };
        let end = l.directory.send(cx.net, cx.wire, t, back, &[&echo], 0);
        l.directory.ack(cx.net, cx.wire, end + ACK_DELAY, dir);
    }

    /// Directory, then StateMap and BeatInfo, as the mixer opens them (3.3).
    fn connect<W: Write, T: From<SlqTimer>>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let s = self.spec.clone();
        let isn = |rng: &mut super::wire::Rng| (rng.next_u64() as u32, rng.next_u64() as u32);
        let isn_directory = isn(cx.rng);
        let mut directory = TcpFlow::new(
            cx.net,
            self.mixer,
            self.player,
            s.directory_port,
            isn_directory,
        );
        directory.connect(cx.net, cx.wire, t, RTT);
        let ask = ServicesRequest {
            token: s.mixer_token,
        };
        let mut at = directory.send(
            cx.net,
            cx.wire,
            t + 700 * US,
            Dir::ToServer,
            &[&DirectoryMessage::ServicesRequest(ask)],
            0,
        );
        // The player answers with its own request and every service in one segment (3.4).
        let own = DirectoryMessage::ServicesRequest(ServicesRequest {
            token: s.player_token,
        });
        let services: Vec<ServiceAnnouncement> = SERVICES
            .iter()
            .zip(s.service_ports)
            .map(|(name, port)| ServiceAnnouncement::new(s.player_token, name, port))
            .collect();
        let mut parts: Vec<&dyn Payload> = vec![&own];
        parts.extend(services.iter().map(|a| a as &dyn Payload));
        at = directory.send(cx.net, cx.wire, at + 1100 * US, Dir::ToClient, &parts, 0);
        directory.ack(cx.net, cx.wire, at + ACK_DELAY, Dir::ToServer);

        let hello = ServiceAnnouncement::new(s.mixer_token, "StateMap", MIXER_STATEMAP_PORT);
        let (from, to) = (self.mixer, self.player);
        let statemap = open_service(cx, (from, to, s.service_ports[0]), at + 2 * MS, &[&hello]);
        let hello = ServiceAnnouncement::new(s.mixer_token, "BeatInfo", MIXER_BEATINFO_PORT);
        // Hello and start-stream leave in one segment (3.3, f66).
        let start = BeatInfoMessage::StartStream;
        let parts: [&dyn Payload; 2] = [&hello, &start];
        let beatinfo = open_service(cx, (from, to, s.service_ports[4]), at + 2300 * US, &parts);
        self.links = Some(Links {
            directory,
            statemap,
            beatinfo,
            unacked_beats: 0,
        });
        // The player asks for the mixer's channel count first (f69), interval 0xffffffff.
        let ask = StateMapMessage::subscribe("/Mixer/NumberOfChannels", NO_UPDATES_INTERVAL);
        self.statemap(cx, t + 14 * MS, Dir::ToClient, &[&ask]);
        cx.sched.at(t + 18 * MS, T::from(SlqTimer::Beat));
        cx.sched.at(t + 100 * MS, T::from(SlqTimer::Subscribe(0)));
        // The mixer answers the channel count late (859 ms in 3.3).
        cx.sched.at(t + 870 * MS, T::from(SlqTimer::ChannelCount));
        cx.sched.at(t + 810 * MS, T::from(SlqTimer::MixerPing));
        cx.sched.at(t + 1010 * MS, T::from(SlqTimer::InitialSets));
        cx.sched.at(t + 4550 * MS, T::from(SlqTimer::PlayerPing));
    }

    /// The mixer says it has 4 channels; the player then subscribes to their assignments and
    /// faders, and the mixer answers each at once (3.3, f178-f182).
    fn channel_count<W: Write, T: From<SlqTimer>>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let n = StateMapMessage::value("/Mixer/NumberOfChannels", &StateValue::Integer(4));
        self.statemap(cx, t, Dir::ToServer, &[&n]);
        cx.sched
            .at(t + 11 * MS, T::from(SlqTimer::ChannelSubscribe));
    }

    fn channel_paths() -> impl Iterator<Item = String> {
        (1..=4)
            .map(|c| format!("/Mixer/ChannelAssignment{c}"))
            .chain((1..=4).map(|c| format!("/Mixer/CH{c}faderPosition")))
    }

    fn channel_subscribe<W: Write, T: From<SlqTimer>>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let subs: Vec<StateMapMessage> = Self::channel_paths()
            .map(|p| StateMapMessage::subscribe(&p, NO_UPDATES_INTERVAL))
            .collect();
        let parts: Vec<&dyn Payload> = subs.iter().map(|m| m as &dyn Payload).collect();
        self.statemap(cx, t, Dir::ToClient, &parts);
        cx.sched.at(t + MS, T::from(SlqTimer::ChannelValues));
    }

    fn channel_values<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let values: Vec<StateMapMessage> = Self::channel_paths()
            .map(|p| StateMapMessage::value(&p, &self.mixer_value(&p)))
            .collect();
        let parts: Vec<&dyn Payload> = values.iter().map(|m| m as &dyn Payload).collect();
        self.statemap(cx, t, Dir::ToServer, &parts);
        self.channels_subscribed = true;
    }

    fn beat<W: Write, T>(&mut self, cx: &mut Cx<'_, W, T>, t: i128) {
        let clock = (t - self.spec.player_boot_ns) as u64 + 35_000_000_000;
        if let BeatInfoMessage::Beat(e) = &mut self.beat_emit {
            e.clock = clock;
            for (slot, deck) in e.decks.iter_mut().zip(&self.decks) {
                *slot = deck.beat(t);
            }
        }
        let Some(l) = &mut self.links else { return };
        let end = l
            .beatinfo
            .send(cx.net, cx.wire, t, Dir::ToClient, &[&self.beat_emit], 0);
        l.unacked_beats += 1;
        if l.unacked_beats >= 2 {
            l.beatinfo
                .ack(cx.net, cx.wire, end + ACK_DELAY, Dir::ToServer);
            l.unacked_beats = 0;
        }
    }

    /// The player's current value of a path the mixer subscribed to.
    fn value_of(&self, path: &str) -> StateValue {
        let deck = |n: usize| &self.decks[n];
        let which = if path.starts_with("/Engine/Deck2/") {
            1
        } else {
            0
        };
        let d = deck(which);
        let suffix = path
            .rsplit_once("/Deck")
            .map_or(path, |(_, r)| r.get(2..).unwrap_or(""));
        match suffix {
            "Track/SongName" => {
                StateValue::Text(d.track.as_ref().map_or(String::new(), |t| t.title.clone()))
            }
            "Track/ArtistName" => {
                StateValue::Text(d.track.as_ref().map_or(String::new(), |t| t.artist.clone()))
            }
            "Track/CurrentBPM" | "CurrentBPM" => StateValue::Number(d.bpm()),
            "Play" | "PlayState" => StateValue::State(d.playing),
            "DeckIsMaster" => StateValue::State(d.master),
            _ => match path {
                "/Client/Preferences/LayerB" => StateValue::State(false),
                "/Engine/Sync/Network/MasterStatus" => {
                    StateValue::State(self.decks.iter().any(|d| d.master))
                }
                "/Engine/Master/MasterTempo" => StateValue::Number(
                    self.decks
                        .iter()
                        .find(|d| d.master)
                        .map_or(IDLE_BPM, SlqDeck::bpm),
                ),
                _ => StateValue::Text(String::new()),
            },
        }
    }

    /// The mixer's value of one of its own paths.
    fn mixer_value(&self, path: &str) -> StateValue {
        if let Some(c) = path.strip_prefix("/Mixer/ChannelAssignment") {
            // Channel n plays layer n of the player: "{uuid},n"; ",1" would be unassigned.
            let c: usize = c.parse().unwrap_or(0);
            return StateValue::Text(if (1..=2).contains(&c) {
                format!("{{{}}},{c}", self.spec.player_token)
            } else {
                ",1".to_string()
            });
        }
        let c: usize = path
            .trim_start_matches("/Mixer/CH")
            .trim_end_matches("faderPosition")
            .parse()
            .unwrap_or(0);
        StateValue::Number(self.faders.get(c.wrapping_sub(1)).copied().unwrap_or(0.0))
    }

    /// `0x7d1` write of a deck's volume, two fixed decimals as the mixer prints them (1.5).
    fn volume_set(&self, deck: usize) -> StateMapMessage {
        StateMapMessage::Set {
            path: format!("/Engine/Deck{deck}/ExternalMixerVolume"),
            json: number_json_fixed(self.faders[deck - 1], 2),
        }
    }
}

#[path = "slq_actions.rs"]
mod actions;

/// A connection from `client` to `server`'s service `port`: the handshake at `at`, then the
/// client's `parts` in one segment once it is up, acknowledged by the server.
fn open_service<W: Write, T>(
    cx: &mut Cx<'_, W, T>,
    (client, server, port): (HostId, HostId, u16),
    at: i128,
    parts: &[&dyn Payload],
) -> TcpFlow {
    let isn = (cx.rng.next_u64() as u32, cx.rng.next_u64() as u32);
    let mut flow = TcpFlow::new(cx.net, client, server, port, isn);
    flow.connect(cx.net, cx.wire, at, RTT);
    let sent = flow.send(cx.net, cx.wire, at + 3 * RTT, Dir::ToServer, parts, 0);
    flow.ack(cx.net, cx.wire, sent + ACK_DELAY, Dir::ToClient);
    flow
}
