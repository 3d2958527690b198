//! One-off check of every StageLinQ message in sc6000_boot.pcap against `stagelinq.md` section
//! 3. It needs tshark dumps, so it is ignored by default. To run it:
//!
//! ```sh
//! mkdir -p /tmp/slq && cd /tmp/slq
//! P=/work/shared/captures/sc6000_boot.pcap
//! tshark -r $P -Y 'udp.port==51337' -T fields -e frame.number -e ip.src -e udp.srcport -e udp.payload > discovery.txt
//! for i in 0 1 2; do tshark -r $P -q -z follow,tcp,raw,$i > follow$i.txt; done
//! cargo test --lib stagelinq::capture_check -- --ignored --nocapture
//! # SLQ_PRINT=1 also prints every message's summary line
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::beatinfo::BeatInfoMessage;
use super::directory::DirectoryMessage;
use super::statemap::StateMapMessage;
use super::{dissect_datagram, ConnectionDecoder, Message, ServiceDirectory, Side, StreamKind};
use crate::util::parse_hex;

const DIR: &str = "/tmp/slq";

fn read(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("{path} is missing: produce the tshark dumps described in capture_check.rs")
    })
}

/// Segments of a `follow,tcp,raw` dump: (side, bytes), in capture order.
fn segments(name: &str) -> Vec<(Side, Vec<u8>)> {
    read(name)
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim().bytes().all(|c| c.is_ascii_hexdigit()))
        .map(|l| {
            let side = if l.starts_with('\t') {
                Side::Server
            } else {
                Side::Client
            };
            (side, parse_hex(l.trim()).expect("hex"))
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    messages: usize,
    malformed: usize,
    unknown: usize,
    round_trip_failures: usize,
}

/// Decode one connection, pushing the segments split as `split` says; checks every message
/// round-trips and returns the messages with their side.
fn decode(
    name: &str,
    announced: Option<&str>,
    split: impl Fn(&[u8]) -> Vec<&[u8]>,
    tally: &mut Tally,
) -> (Option<StreamKind>, Vec<(Side, Message)>) {
    let mut conn = ConnectionDecoder::new(announced, true);
    let mut out = Vec::new();
    let mut all = Vec::new();
    for (side, seg) in segments(name) {
        for piece in split(&seg) {
            all.extend(conn.push(side, piece));
        }
    }
    all.extend(conn.finish());
    for (side, m) in all {
        tally.messages += 1;
        assert_covered(&m.dissection, m.bytes.len());
        if std::env::var_os("SLQ_PRINT").is_some() {
            println!(
                "{side:?} {} {}",
                m.dissection.type_name, m.dissection.summary
            );
        }
        if m.dissection.malformed.is_some() {
            tally.malformed += 1;
            eprintln!(
                "malformed: {:?} {}",
                m.dissection.malformed, m.dissection.summary
            );
        }
        if m.dissection.type_name == "unknown" {
            tally.unknown += 1;
            eprintln!("unknown: {}", m.dissection.summary);
        }
        match m.message {
            Some(msg) => {
                if msg.to_bytes() != m.bytes {
                    tally.round_trip_failures += 1;
                }
                out.push((side, msg));
            }
            None => tally.round_trip_failures += 1,
        }
    }
    (conn.kind(), out)
}

/// Fields and unknown ranges together name every byte of the message.
fn assert_covered(d: &crate::dissect::Dissection, len: usize) {
    let mut seen = vec![false; len];
    for r in d.fields.iter().filter_map(|f| f.range.clone()) {
        seen[r].iter_mut().for_each(|x| *x = true);
    }
    assert!(seen.iter().all(|x| *x), "uncovered bytes in {}", d.summary);
}

fn whole(b: &[u8]) -> Vec<&[u8]> {
    vec![b]
}

fn bytewise(b: &[u8]) -> Vec<&[u8]> {
    b.chunks(1).collect()
}

fn odd_splits(b: &[u8]) -> Vec<&[u8]> {
    b.chunks(7).collect()
}

#[test]
#[ignore = "needs tshark dumps of sc6000_boot.pcap in /tmp/slq (see the module doc)"]
fn sc6000_boot_matches_section_3() {
    let mixer: IpAddr = "169.254.128.36".parse().unwrap();
    let player: IpAddr = "169.254.69.199".parse().unwrap();
    let mut services = ServiceDirectory::new();

    // 3.2/3.3: 74 discovery datagrams, three identities on the player, one on the mixer.
    let mut identities: BTreeMap<(String, String, String, u16), usize> = BTreeMap::new();
    let mut disc = Tally::default();
    for line in read("discovery.txt").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let payload = parse_hex(cols[3]).unwrap();
        let (d, m) = dissect_datagram(&payload, true).expect("airD");
        assert_covered(&d, payload.len());
        if std::env::var_os("SLQ_PRINT").is_some() {
            println!("{} {}", d.type_name, d.summary);
        }
        disc.messages += 1;
        disc.malformed += d.malformed.is_some() as usize;
        let Some(Message::Discovery(x)) = m else {
            panic!("discovery does not parse: {}", d.summary)
        };
        assert_eq!(Message::Discovery(x.clone()).to_bytes(), payload);
        services.observe(cols[1].parse().unwrap(), &Message::Discovery(x.clone()));
        let model = d.field("model").map(|v| v.to_string()).unwrap_or_default();
        *identities
            .entry((x.device_name, x.software, model, x.port))
            .or_default() += 1;
    }
    println!(
        "discovery: {} datagrams, {} malformed",
        disc.messages, disc.malformed
    );
    for (k, n) in &identities {
        println!("  {k:?} x{n}");
    }
    assert_eq!((disc.messages, disc.malformed), (74, 0));
    let count = |name: &str, sw: &str, port: u16| {
        identities
            .iter()
            .filter(|((n, s, _, p), _)| n == name && s == sw && *p == port)
            .map(|(_, c)| *c)
            .sum::<usize>()
    };
    assert_eq!(count("DN-X1800Prime", "JM08", 50010), 23);
    assert_eq!(count("sc6000", "JP13", 42923), 17);
    assert_eq!(count("sc6000", "OfflineAnalyzer", 41339), 17);
    assert_eq!(count("sc6000", "OfflineAnalyzer", 46815), 17);
    assert_eq!(services.lookup(player, 42923), Some("Directory"));

    let mut tcp = Tally::default();
    // 3.4: the main connection, recognised from the discovery port.
    let (kind, dir) = decode(
        "follow0.txt",
        services.lookup(player, 42923),
        whole,
        &mut tcp,
    );
    assert_eq!(kind, Some(StreamKind::Directory));
    let mut by_side: BTreeMap<(bool, &str), usize> = BTreeMap::new();
    for (side, m) in &dir {
        let Message::Directory(d) = m else {
            panic!("{m:?}")
        };
        if side == &Side::Server {
            services.observe(player, m);
        } else {
            services.observe(mixer, m);
        }
        let what = match d {
            DirectoryMessage::ServicesRequest(_) => "request",
            DirectoryMessage::ServiceAnnouncement(_) => "announcement",
            DirectoryMessage::Reference(r) if r.is_ping() => "ping",
            DirectoryMessage::Reference(_) => "echo",
        };
        *by_side.entry((side == &Side::Client, what)).or_default() += 1;
    }
    println!("directory: {by_side:?}");
    let n = |client: bool, what: &str| by_side.get(&(client, what)).copied().unwrap_or(0);
    assert_eq!(
        (n(true, "request"), n(true, "ping"), n(true, "echo")),
        (1, 10, 3)
    );
    assert_eq!(
        (
            n(false, "request"),
            n(false, "announcement"),
            n(false, "echo"),
            n(false, "ping")
        ),
        (1, 6, 10, 3)
    );
    println!("services: {:?}", services.services_of(player));
    assert_eq!(
        services.services_of(player),
        [
            (33383, "FileTransfer"),
            (38631, "StateMap"),
            (40285, "Syncing"),
            // The two OfflineAnalyzer identities' discovery ports.
            (41339, "Directory"),
            (42865, "TimeSynchronization"),
            (42919, "BeatInfo"),
            (42923, "Directory"),
            (46815, "Directory"),
            (46863, "Broadcast"),
        ]
    );
    assert_eq!(services.lookup(mixer, 50010), Some("Directory"));

    // 3.5: StateMap, recognised from the announcement and, separately, from the hello alone.
    for (announced, split) in [
        (
            services.lookup(player, 38631),
            whole as fn(&[u8]) -> Vec<&[u8]>,
        ),
        (None, bytewise),
        (None, odd_splits),
    ] {
        let mut t = Tally::default();
        let (kind, sm) = decode("follow1.txt", announced, split, &mut t);
        assert_eq!(kind, Some(StreamKind::StateMap));
        assert_eq!((t.malformed, t.unknown, t.round_trip_failures), (0, 0, 0));
        check_statemap(&sm);
    }
    let (_, sm) = decode(
        "follow1.txt",
        services.lookup(player, 38631),
        whole,
        &mut tcp,
    );

    // 3.6: BeatInfo.
    let (kind, bi) = decode(
        "follow2.txt",
        services.lookup(player, 42919),
        whole,
        &mut tcp,
    );
    assert_eq!(kind, Some(StreamKind::BeatInfo));
    let mut t = Tally::default();
    let (_, bi_bytewise) = decode("follow2.txt", None, odd_splits, &mut t);
    assert_eq!(bi_bytewise, bi);
    assert_eq!((t.malformed, t.unknown, t.round_trip_failures), (0, 0, 0));
    let (clocks, bpms) = check_beatinfo(&bi);

    println!(
        "tcp: {} messages ({} directory, {} statemap incl. hello, {} beatinfo incl. hello+start), {} malformed, {} unknown, {} round-trip failures",
        tcp.messages, dir.len(), sm.len(), bi.len(), tcp.malformed, tcp.unknown, tcp.round_trip_failures
    );
    println!("beatinfo: clock {:?}, BPMs {bpms:?}", clocks);
    assert_eq!(
        (tcp.malformed, tcp.unknown, tcp.round_trip_failures),
        (0, 0, 0)
    );
}

/// Every StateMap message against the table of `stagelinq.md` 3.5, in wire order per side.
fn check_statemap(sm: &[(Side, Message)]) {
    use Side::{Client as MX, Server as SC};
    let sub =
        |side, path: &str, interval| (side, "subscribe", path.to_string(), format!("{interval}"));
    let val = |side, path: &str, json: &str| (side, "value", path.to_string(), json.to_string());
    let set = |path: &str, json: &str| (MX, "set", path.to_string(), json.to_string());
    let e = |d: &str| format!("/Engine/Deck{d}");
    let bpm = r#"{"type":0,"value":121.9754638671875}"#;
    let off = r#"{"state":false,"type":1}"#;
    let zero = r#"{"type":0,"value":0.00}"#;
    let uuid = "{8fba5ced-9381-4d5c-b334-5bf935b8e49e}";
    let expected = vec![
        sub(SC, "/Mixer/NumberOfChannels", 0xffff_ffffu32),
        sub(MX, &(e("1") + "/Track/CurrentBPM"), 100),
        sub(MX, &(e("2") + "/Track/CurrentBPM"), 100),
        sub(MX, "/Client/Preferences/PlayerJogColorA", 100),
        val(SC, &(e("1") + "/Track/CurrentBPM"), bpm),
        val(SC, &(e("2") + "/Track/CurrentBPM"), bpm),
        sub(MX, "/Client/Preferences/PlayerJogColorB", 100),
        sub(MX, &(e("1") + "/DeckIsMaster"), 100),
        val(
            SC,
            "/Client/Preferences/PlayerJogColorA",
            r##"{"color":"#ffea2828","type":16}"##,
        ),
        sub(MX, &(e("2") + "/DeckIsMaster"), 100),
        val(
            SC,
            "/Client/Preferences/PlayerJogColorB",
            r##"{"color":"#ff1cd2e5","type":16}"##,
        ),
        sub(MX, &(e("1") + "/PlayState"), 100),
        val(SC, &(e("1") + "/DeckIsMaster"), off),
        sub(MX, &(e("2") + "/PlayState"), 100),
        val(SC, &(e("2") + "/DeckIsMaster"), off),
        val(SC, &(e("1") + "/PlayState"), off),
        sub(MX, "/Client/Preferences/LayerB", 100),
        sub(MX, "/Engine/Sync/Network/MasterStatus", 100),
        val(SC, &(e("2") + "/PlayState"), off),
        sub(MX, &(e("1") + "/Track/LoopEnableState"), 100),
        val(
            SC,
            "/Client/Preferences/LayerB",
            r#"{"state":true,"type":1}"#,
        ),
        sub(MX, &(e("2") + "/Track/LoopEnableState"), 100),
        val(SC, "/Engine/Sync/Network/MasterStatus", off),
        sub(MX, "/Engine/Master/MasterTempo", 100),
        val(SC, &(e("1") + "/Track/LoopEnableState"), off),
        val(SC, &(e("2") + "/Track/LoopEnableState"), off),
        val(
            SC,
            "/Engine/Master/MasterTempo",
            r#"{"type":0,"value":132.935546875}"#,
        ),
        val(MX, "/Mixer/NumberOfChannels", r#"{"type":10,"value":4}"#),
        sub(SC, "/Mixer/ChannelAssignment1", 0xffff_ffff),
        val(
            MX,
            "/Mixer/ChannelAssignment1",
            &format!(r#"{{"string":"{uuid},2","type":8}}"#),
        ),
        sub(SC, "/Mixer/ChannelAssignment2", 0xffff_ffff),
        sub(SC, "/Mixer/ChannelAssignment3", 0xffff_ffff),
        sub(SC, "/Mixer/ChannelAssignment4", 0xffff_ffff),
        val(
            MX,
            "/Mixer/ChannelAssignment2",
            &format!(r#"{{"string":"{uuid},1","type":8}}"#),
        ),
        val(
            MX,
            "/Mixer/ChannelAssignment3",
            r#"{"string":",1","type":8}"#,
        ),
        val(
            MX,
            "/Mixer/ChannelAssignment4",
            r#"{"string":",1","type":8}"#,
        ),
        set("/Client/Preferences/Player", r#"{"string":"1","type":4}"#),
        set(&(e("2") + "/ExternalMixerVolume"), zero),
        set(&(e("1") + "/ExternalMixerVolume"), zero),
        set(&(e("1") + "/ExternalMixerVolume"), zero),
    ];
    let mut got = Vec::new();
    let mut hellos = 0;
    for (side, m) in sm {
        match m {
            Message::Hello(h) => {
                assert_eq!((side, h.service.as_str(), h.port), (&MX, "StateMap", 50011));
                hellos += 1;
            }
            Message::StateMap(StateMapMessage::Subscribe { path, interval }) => {
                got.push((*side, "subscribe", path.clone(), interval.to_string()))
            }
            Message::StateMap(StateMapMessage::Value { path, json }) => {
                got.push((*side, "value", path.clone(), json.clone()))
            }
            Message::StateMap(StateMapMessage::Set { path, json }) => {
                got.push((*side, "set", path.clone(), json.clone()))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(hellos, 1);
    assert_eq!(got.len(), 40);
    // Order across the two directions depends on segment interleaving; compare per side.
    for side in [MX, SC] {
        let g: Vec<_> = got.iter().filter(|x| x.0 == side).collect();
        let w: Vec<_> = expected.iter().filter(|x| x.0 == side).collect();
        assert_eq!(g, w, "{side:?}");
    }
    let paths: BTreeSet<&String> = got.iter().map(|x| &x.2).collect();
    assert_eq!(paths.len(), 21);
}

/// 440 beat emits with the clocks and BPM of `stagelinq.md` 3.6.
fn check_beatinfo(bi: &[(Side, Message)]) -> ((u64, u64), BTreeSet<String>) {
    let mut emits = Vec::new();
    let mut client = Vec::new();
    for (side, m) in bi {
        match (side, m) {
            (Side::Server, Message::BeatInfo(BeatInfoMessage::Beat(e))) => emits.push(e.clone()),
            (Side::Client, m) => client.push(m.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        matches!(&client[..], [Message::Hello(h), Message::BeatInfo(BeatInfoMessage::StartStream)]
        if h.service == "BeatInfo" && h.port == 50012)
    );
    assert_eq!(emits.len(), 440);
    let mut bpms = BTreeSet::new();
    for w in emits.windows(2) {
        assert!(w[1].clock > w[0].clock);
    }
    for e in &emits {
        assert_eq!(e.decks.len(), 2);
        for d in &e.decks {
            assert!((60.0..=200.0).contains(&d.bpm), "{}", d.bpm);
            assert_eq!((d.beat, d.total_beats, d.samples), (0.0, 0.0, 0.0));
            bpms.insert(format!("{:.6}", d.bpm));
        }
    }
    let clocks = (emits[0].clock, emits[emits.len() - 1].clock);
    assert_eq!(clocks, (35_457_982_683, 50_726_048_149));
    (clocks, bpms)
}
