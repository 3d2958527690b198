//! The `long` scenario: a night that goes on until a size or time limit. Four players (two
//! CDJ-2000NXS2 with USB sticks, two CDJ-3000) and a DJM-900NXS2 mix track after track (each
//! load preceded by a dbserver lookup, each LINK play streaming its file over NFS), an SC6000
//! and an X1800 do the same over StageLinQ, and a laptop adds mDNS, HTTP and ARP. The planner
//! makes the next transition when the previous one is done, so the set never ends by itself.
//!
//! Everything per packet reuses buffers and Reprs built once (status images, beat emits), so a
//! gigabyte takes seconds; rare events (lookups, StateMap changes) allocate.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use super::club_set::Step;
use super::dblookup::{DbLookups, MusicalKey, Track};
use super::net::{Dir, HostId, Net, Raw, TcpFlow, To};
use super::noise::{self, NFS_READ_SIZE};
use super::pdl::apply as apply_pdl;
use super::pdl::{PdlTimer, Rig, UnitSpec, MIXER_NUMBER};
use super::pdl_deck::Model;
use super::slq::{SlqRig, SlqSpec, SlqTimer};
use super::stagelinq_set::SlqStep;
use super::wire::{Rng, Sched, Wire, MS, SEC, US};
use super::{Cx, Limits, Summary};
use crate::stagelinq::Token;

/// 2024-05-18 01:30:00 UTC.
pub const START_NS: i128 = 1_715_995_800 * SEC;
const SEED: u64 = 0x010e_65e7_0003;
/// Without a limit the night lasts ten minutes.
const DEFAULT_DURATION: i128 = 600 * SEC;
/// Decks read a LINK file 8 KiB at a time, this often while playing (about 80 KB/s).
const NFS_EVERY: i128 = 100 * MS;
const NFS_PORT: u16 = 2049;
const MDNS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);

enum Timer {
    Pdl(PdlTimer),
    Slq(SlqTimer),
    PdlStep(Step),
    SlqStep(SlqStep),
    Plan,
    SlqPlan,
    Nfs { deck: u8, gen: u32 },
    Mdns,
    Arp,
    Http,
}

impl From<PdlTimer> for Timer {
    fn from(t: PdlTimer) -> Self {
        Timer::Pdl(t)
    }
}
impl From<SlqTimer> for Timer {
    fn from(t: SlqTimer) -> Self {
        Timer::Slq(t)
    }
}

const WORDS: [&str; 24] = [
    "Night", "Drive", "Signal", "Echo", "Velvet", "Tide", "Neon", "Orbit", "Glass", "Pulse",
    "Harbor", "Ember", "Static", "Bloom", "Circuit", "Mirage", "Dust", "Aurora", "Halo", "Cinder",
    "Motion", "Current", "Silk", "Vapor",
];
const ARTISTS: [&str; 12] = [
    "Aural Fixation",
    "Marisol Vega",
    "Kōji Mori",
    "Ines Okafor",
    "Teo Brandt",
    "Lumen Park",
    "Dara Quist",
    "Noor Haddad",
    "Felix Arndt",
    "Saoirse Lane",
    "Ravi Menon",
    "Hana Sato",
];
const GENRES: [&str; 4] = ["Deep House", "Tech House", "Techno", "Melodic House"];

fn new_track(rng: &mut Rng, id: u32, source_player: u8) -> Track {
    let w = |rng: &mut Rng| WORDS[rng.below(WORDS.len() as u64) as usize];
    let title = format!("{} {}", w(rng), w(rng));
    let artist = ARTISTS[rng.below(ARTISTS.len() as u64) as usize].to_string();
    Track {
        rekordbox_id: id,
        album: format!("{title} EP"),
        title,
        artist,
        genre: GENRES[rng.below(GENRES.len() as u64) as usize].to_string(),
        key: MusicalKey {
            note: rng.below(12) as u8,
            minor: rng.below(3) > 0,
        },
        bpm_x100: 12000 + 50 * rng.below(17) as u16,
        duration_s: 300 + rng.below(180) as u32,
        first_beat_ms: 40 + rng.below(200) as u32,
        source_player,
        artist_id: 10 + rng.below(400) as u32,
        album_id: 10 + rng.below(900) as u32,
        genre_id: 1 + rng.below(9) as u32,
    }
}

/// Where the next Pro DJ Link transition stands.
struct Plan {
    master: Option<u8>,
    next_deck: u8,
    tracks: Vec<Track>,
    /// NFS streaming per deck 1-4: generation (bumped on play and pause) and playing flag.
    nfs: [(u32, bool, u32); 5],
    slq_deck: Option<u8>,
    slq_tracks: Vec<Track>,
    xid: u32,
}

/// The USB a deck loads from: players 1 and 2 hold sticks; nobody loads from itself.
fn source_of(deck: u8) -> u8 {
    if deck == 1 || deck == 4 {
        2
    } else {
        1
    }
}

fn pioneer(last: [u8; 3]) -> [u8; 6] {
    [0x74, 0x5e, 0x1c, last[0], last[1], last[2]]
}

fn token(seed: u8) -> Token {
    let mut t = [0u8; 16];
    for (i, b) in t.iter_mut().enumerate() {
        *b = seed.wrapping_mul(37).wrapping_add(i as u8 * 11) ^ 0x5a;
    }
    Token(t)
}

/// Write the long scenario until `limits` (ten minutes of capture when none is given).
pub fn write<W: Write>(limits: Limits, out: W) -> io::Result<Summary> {
    let max_ns = match (limits.max_duration_ns, limits.max_bytes) {
        (Some(d), _) => d,
        (None, Some(_)) => i128::MAX / 4,
        (None, None) => DEFAULT_DURATION,
    };
    let max_bytes = limits.max_bytes.unwrap_or(u64::MAX);
    let mut wire = Wire::new(out, "eth0")?;
    let mut net = Net::default();
    let mut sched: Sched<Timer> = Sched::default();
    let mut rng = Rng::new(SEED);
    let s = |secs: f64| START_NS + (secs * 1e3) as i128 * MS;
    let unit = |number, model, last, boot, has_usb| UnitSpec {
        number,
        model,
        mac: pioneer(last),
        boot_ns: s(boot),
        has_usb,
    };
    let mut rig = Rig::new(
        &mut net,
        &mut sched,
        unit(
            MIXER_NUMBER,
            Model::Djm900Nxs2,
            [0x30, 0x21, 0x0a],
            0.5,
            false,
        ),
        &[
            unit(1, Model::Cdj2000Nxs2, [0x41, 0xa0, 0x11], 1.0, true),
            unit(2, Model::Cdj2000Nxs2, [0x41, 0xb3, 0x12], 1.5, true),
            unit(3, Model::Cdj3000, [0x7c, 0x51, 0x13], 2.0, false),
            unit(4, Model::Cdj3000, [0x7c, 0x62, 0x14], 2.5, false),
        ],
    );
    let mut slq = SlqRig::new(
        &mut net,
        &mut sched,
        SlqSpec {
            player_mac: [0x00, 0x05, 0x95, 0x44, 0x10, 0x21],
            player_ip: Ipv4Addr::new(169, 254, 88, 140),
            player_token: token(1),
            analyzer_tokens: [token(2), token(3)],
            analyzer_ports: [40113, 45987],
            directory_port: 41009,
            service_ports: [36011, 44321, 39874, 42210, 43007, 35112],
            mixer_mac: [0x00, 0x05, 0x95, 0x44, 0x20, 0x32],
            mixer_ip: Ipv4Addr::new(169, 254, 140, 7),
            mixer_token: Token([
                0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 5, 0x95, 0x44, 0x20, 0x32,
            ]),
            mixer_boot_ns: s(0.3),
            player_boot_ns: s(3.1),
        },
    );
    let laptop = net.add(
        "DJ-Laptop",
        [0xa4, 0x83, 0xe7, 0x4f, 0x2a, 0x91],
        Ipv4Addr::new(169, 254, 42, 17),
        (50100, 60000),
    );
    let lightbox = net.add(
        "lightbox",
        [0xb8, 0x27, 0xeb, 0x6c, 0x05, 0x3e],
        Ipv4Addr::new(169, 254, 42, 80),
        (40000, 45000),
    );
    sched.at(s(10.0), Timer::Plan);
    sched.at(s(20.0), Timer::SlqPlan);
    sched.at(s(1.2), Timer::Mdns);
    sched.at(s(4.0), Timer::Arp);
    sched.at(s(6.0), Timer::Http);
    let mut plan = Plan {
        master: None,
        next_deck: 1,
        tracks: Vec::new(),
        nfs: [(0, false, 0); 5],
        slq_deck: None,
        slq_tracks: Vec::new(),
        xid: 0x5c1e_0000,
    };
    let mut db = DbLookups::default();
    let mut scratch = Vec::with_capacity(NFS_READ_SIZE + 200);
    // What the decks stream: the same 8 KiB of "audio" each time (built once).
    let audio: Vec<u8> = (0..NFS_READ_SIZE)
        .map(|i| ((i * 7919) >> 3) as u8 ^ (i as u8))
        .collect();
    let mut last_ts = START_NS;
    while let Some((t, timer)) = sched.pop() {
        if t - START_NS >= max_ns || wire.bytes() >= max_bytes {
            break;
        }
        wire.flush_through(t)?;
        last_ts = t;
        let mut cx = Cx {
            net: &mut net,
            wire: &mut wire,
            sched: &mut sched,
            rng: &mut rng,
        };
        match timer {
            Timer::Pdl(p) => rig.fire(&mut cx, t, p),
            Timer::Slq(x) => slq.fire(&mut cx, t, x),
            Timer::PdlStep(step) => {
                apply_pdl(&mut rig, &mut db, &mut cx, &plan.tracks, t, &step);
                // LINK playback streams the file from the source player (prodjlink.md 8).
                let streaming = match step {
                    Step::Play { deck } => Some((deck, true)),
                    Step::Pause { deck } => Some((deck, false)),
                    _ => None,
                };
                if let Some((deck, on)) = streaming {
                    let n = &mut plan.nfs[deck as usize];
                    n.0 += 1;
                    n.1 = on;
                    if on {
                        let gen = n.0;
                        cx.sched.at(t + 3 * MS, Timer::Nfs { deck, gen });
                    }
                }
            }
            Timer::SlqStep(step) => match step {
                SlqStep::Load { deck, track } => {
                    slq.load(&mut cx, t, deck as usize, plan.slq_tracks[track].clone())
                }
                SlqStep::Play { deck } => slq.play(&mut cx, t, deck as usize, true),
                SlqStep::Stop { deck } => slq.play(&mut cx, t, deck as usize, false),
                SlqStep::Fader { channel, level } => slq.fader(&mut cx, t, channel as usize, level),
                SlqStep::Leave => slq.leave(&mut cx, t),
                SlqStep::End => {}
            },
            Timer::Plan => plan_transition(&mut plan, &rig, &mut cx, t),
            Timer::SlqPlan => plan_slq(&mut plan, &mut cx, t),
            Timer::Nfs { deck, gen } => {
                let n = plan.nfs[deck as usize];
                if n.0 != gen || !n.1 {
                    continue;
                }
                let src = source_of(deck);
                let (client, server) = (rig.host_of(deck), rig.host_of(src));
                let offset = n.2;
                plan.nfs[deck as usize].2 = offset.wrapping_add(NFS_READ_SIZE as u32);
                plan.xid = plan.xid.wrapping_add(1);
                let mut handle = [0u8; 32];
                handle[..4].copy_from_slice(&plan.xid.to_be_bytes());
                handle[4] = deck;
                noise::nfs_read_call(&mut scratch, plan.xid, (t / SEC) as u32, &handle, offset);
                // Real decks keep the first 12 bytes of the handle only (prodjlink.md 8).
                handle[12..].fill(0);
                let call_port = 1000 + deck as u16;
                cx.net.udp(
                    cx.wire,
                    t,
                    client,
                    call_port,
                    To::Host(server),
                    NFS_PORT,
                    &[&Raw(&scratch)],
                );
                noise::nfs_read_reply(&mut scratch, plan.xid, 40_000_000, &audio);
                let ip_id = (plan.xid & 0xffff) as u16;
                let at = t + 900 * US + cx.rng.below(600) as i128 * US;
                cx.net.udp_fragmented(
                    cx.wire,
                    at,
                    server,
                    NFS_PORT,
                    client,
                    call_port,
                    &scratch,
                    ip_id,
                    12 * US,
                );
                cx.sched.at(
                    t + NFS_EVERY + cx.rng.jitter(4 * MS),
                    Timer::Nfs { deck, gen },
                );
            }
            Timer::Mdns => {
                let m = noise::mdns_announcement("DJ-Laptop", [169, 254, 42, 17], 80);
                cx.net.udp(
                    cx.wire,
                    t,
                    laptop,
                    5353,
                    To::Multicast(MDNS),
                    5353,
                    &[&Raw(&m)],
                );
                cx.sched
                    .at(t + 30 * SEC + cx.rng.jitter(2 * SEC), Timer::Mdns);
            }
            Timer::Arp => {
                // Somebody refreshes somebody's address (every unicast talker does, now and then).
                let n = cx.net.hosts.len() as u64;
                let a = HostId(cx.rng.below(n) as usize);
                let b = HostId((a.0 + 1 + cx.rng.below(n - 1) as usize) % n as usize);
                let target = cx.net.host(b).ip;
                let asker = cx.net.host(a).ip;
                cx.net.arp(cx.wire, t, a, target, None);
                cx.net.arp(cx.wire, t + 300 * US, b, asker, Some(a));
                cx.sched
                    .at(t + 20 * SEC + cx.rng.jitter(5 * SEC), Timer::Arp);
            }
            Timer::Http => {
                http_poll(&mut cx, t, laptop, lightbox);
                cx.sched
                    .at(t + 5 * SEC + cx.rng.jitter(200 * MS), Timer::Http);
            }
        }
    }
    let (_, frames, bytes) = wire.finish()?;
    Ok(Summary {
        frames,
        bytes,
        duration_ns: last_ts - START_NS,
    })
}

/// The next deck loads, syncs, starts on the master's downbeat, goes on air, takes master
/// (prodjlink.md 9.4) and the old deck fades out and stops.
fn plan_transition<W: Write>(plan: &mut Plan, rig: &Rig, cx: &mut Cx<'_, W, Timer>, t: i128) {
    let deck = plan.next_deck;
    let src = source_of(deck);
    let id = 3000 + plan.tracks.len() as u32 * 7;
    plan.tracks.push(new_track(cx.rng, id, src));
    let track = plan.tracks.len() - 1;
    let mut at = |dt: i128, step: Step| cx.sched.at(t + dt, Timer::PdlStep(step));
    at(
        0,
        Step::MetadataLookup {
            client: deck,
            server: src,
            track,
        },
    );
    at(600 * MS, Step::Load { deck, track });
    let playing_master = plan
        .master
        .filter(|&m| rig.next_downbeat(m, t + 4 * SEC).is_some());
    match playing_master {
        None => {
            at(
                2 * SEC,
                Step::Fader {
                    channel: deck,
                    on_air: true,
                },
            );
            at(3 * SEC, Step::TakeMaster { deck });
            at(4 * SEC, Step::Play { deck });
        }
        Some(m) => {
            at(2 * SEC, Step::Sync { deck });
            let play = rig.next_downbeat(m, t + 4 * SEC).unwrap_or(t + 4 * SEC) - t;
            at(play, Step::Play { deck });
            at(
                play + 16 * SEC,
                Step::Fader {
                    channel: deck,
                    on_air: true,
                },
            );
            let h = play + 40 * SEC;
            at(
                h,
                Step::HandoffRequest {
                    requester: deck,
                    master: m,
                },
            );
            at(
                h + 2 * MS,
                Step::HandoffResponse {
                    master: m,
                    requester: deck,
                },
            );
            at(
                h + 15 * MS,
                Step::HandoffYield {
                    master: m,
                    requester: deck,
                },
            );
            at(h + 60 * MS, Step::HandoffTake { requester: deck });
            at(h + 125 * MS, Step::HandoffRelease { old_master: m });
            at(
                play + 50 * SEC,
                Step::Fader {
                    channel: m,
                    on_air: false,
                },
            );
            at(play + 70 * SEC, Step::Pause { deck: m });
        }
    }
    plan.master = Some(deck);
    plan.next_deck = deck % 4 + 1;
    let next = t + 150 * SEC + cx.rng.below(60) as i128 * SEC;
    cx.sched.at(next, Timer::Plan);
}

/// The StageLinQ room: the other layer loads, plays, crossfades in, the old one stops.
fn plan_slq<W: Write>(plan: &mut Plan, cx: &mut Cx<'_, W, Timer>, t: i128) {
    let deck = if plan.slq_deck == Some(1) { 2 } else { 1 };
    let id = 1 + plan.slq_tracks.len() as u32;
    plan.slq_tracks.push(new_track(cx.rng, id, 0));
    let track = plan.slq_tracks.len() - 1;
    let mut at = |dt: i128, step: SlqStep| cx.sched.at(t + dt, Timer::SlqStep(step));
    at(0, SlqStep::Load { deck, track });
    match plan.slq_deck {
        None => {
            at(
                3 * SEC,
                SlqStep::Fader {
                    channel: deck,
                    level: 0.9,
                },
            );
            at(5 * SEC, SlqStep::Play { deck });
        }
        Some(old) => {
            at(10 * SEC, SlqStep::Play { deck });
            at(
                20 * SEC,
                SlqStep::Fader {
                    channel: deck,
                    level: 0.9,
                },
            );
            at(
                35 * SEC,
                SlqStep::Fader {
                    channel: old,
                    level: 0.0,
                },
            );
            at(45 * SEC, SlqStep::Stop { deck: old });
        }
    }
    plan.slq_deck = Some(deck);
    let next = t + 180 * SEC + cx.rng.below(60) as i128 * SEC;
    cx.sched.at(next, Timer::SlqPlan);
}

/// The laptop asks the lighting box for its status: one short HTTP/1.1 exchange per
/// connection (port 80 is nobody's DJ protocol; the engine skips it).
fn http_poll<W: Write>(cx: &mut Cx<'_, W, Timer>, t: i128, client: HostId, server: HostId) {
    let isn = (cx.rng.next_u64() as u32, cx.rng.next_u64() as u32);
    let mut flow = TcpFlow::new(cx.net, client, server, 80, isn);
    let rtt = 250 * US;
    flow.connect(cx.net, cx.wire, t, rtt);
    let get = noise::http_get("169.254.42.80", "/api/status");
    let sent = flow.send(
        cx.net,
        cx.wire,
        t + 3 * rtt,
        Dir::ToServer,
        &[&Raw(&get)],
        0,
    );
    let scene = (t / SEC) % 17;
    let body = format!("{{\"scene\":{scene},\"dmx\":\"ok\",\"fixtures\":24}}");
    let ok = noise::http_ok(&body);
    let answered = flow.send(
        cx.net,
        cx.wire,
        sent + 2 * MS,
        Dir::ToClient,
        &[&Raw(&ok)],
        0,
    );
    flow.ack(cx.net, cx.wire, answered + rtt, Dir::ToServer);
    flow.close(cx.net, cx.wire, answered + 2 * rtt, Dir::ToClient, rtt);
}
