//! The recorded StageLinQ units served to live clients (`src/replay/stagelinq_serve.rs`): a
//! client that replays the capture's own client side of the directory and StateMap connections
//! gets byte-identical answers; a subscription to a recorded path gets its value; BeatInfo
//! streams the recorded frames on start; garbage closes that connection only. Each test has its
//! own 127.0.14X.0/24.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use djdissect::capture::CaptureReader;
use djdissect::dissect::Proto;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::replay::stagelinq_serve::SlqServing;
use djdissect::replay::{self, Options};
use djdissect::stagelinq::directory::{DirectoryMessage, ServiceAnnouncement};
use djdissect::stagelinq::statemap::StateMapMessage;

const T: Duration = Duration::from_secs(5);

/// One recorded StageLinQ TCP connection: (client, server) and its messages in order as
/// (from the client?, bytes).
type Conversation = ((SocketAddr, SocketAddr), Messages);
type Messages = Vec<(bool, Vec<u8>)>;

/// Every StageLinQ TCP conversation of a capture, the "client" being the side that sent the
/// first message on the connection (a directory's unit may speak first: `directory_conv`).
fn conversations(file: &Path) -> Vec<Conversation> {
    let mut r = CaptureReader::open(file).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut order: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    let mut convs: HashMap<(SocketAddr, SocketAddr), Messages> = HashMap::new();
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        if rec.dissection.proto == Proto::StageLinq
            && rec.src.port() != 51337
            && rec.dst.port() != 51337
        {
            if let Some(c) = convs.get_mut(&(rec.dst, rec.src)) {
                c.push((false, rec.bytes.to_vec()));
            } else {
                let k = (rec.src, rec.dst);
                if !convs.contains_key(&k) {
                    order.push(k);
                }
                convs.entry(k).or_default().push((true, rec.bytes.to_vec()));
            }
        }
        ControlFlow::Continue(())
    };
    while let Ok(Some(f)) = r.next_frame() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    order
        .into_iter()
        .map(|k| {
            let v = convs.remove(&k).unwrap();
            (k, v)
        })
        .collect()
}

fn v4(a: SocketAddr) -> Ipv4Addr {
    match a.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => panic!("IPv6"),
    }
}

fn serve(file: &Path, first: Ipv4Addr) -> (SlqServing, replay::AddressTable) {
    let mut opts = Options::new(file);
    opts.first_address = first;
    let plan = replay::plan(&opts).unwrap();
    let index = plan.stagelinq.unwrap();
    assert!(!index.is_empty(), "no StageLinQ unit indexed");
    (SlqServing::start(index, &plan.table), plan.table)
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

/// Nothing more arrives within 300 ms.
fn nothing_more(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) | Err(_) => {}
        Ok(_) => panic!("the server sent more than was recorded"),
    }
}

/// The directory connection of a conversation list, its server being the side that sent the
/// announcements (a unit may speak first: its own ServicesRequest on accept).
fn directory_conv(convs: &[Conversation]) -> Option<Conversation> {
    for ((a, b), m) in convs {
        let from = m.iter().find(|(_, x)| {
            matches!(
                DirectoryMessage::parse(x),
                Ok(DirectoryMessage::ServiceAnnouncement(_))
            )
        });
        match from {
            Some((false, _)) => return Some(((*a, *b), m.clone())),
            Some((true, _)) => {
                let flipped = m.iter().map(|(c, x)| (!c, x.clone())).collect();
                return Some(((*b, *a), flipped));
            }
            None => {}
        }
    }
    None
}

/// The directory: the unit's own ServicesRequest on accept, then on the client's recorded
/// ServicesRequest the recorded announcements, byte for byte.
fn directory_is_byte_identical(file: PathBuf, first: Ipv4Addr) -> Vec<Conversation> {
    let convs = conversations(&file);
    let (serving, table) = serve(&file, first);
    let dir = directory_conv(&convs).expect("a recorded directory connection");
    let ((_, server), msgs) = &dir;
    let ip = table.replay_ip(v4(*server)).unwrap();
    let mut s = TcpStream::connect((ip, server.port())).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let server_side: Vec<u8> = msgs
        .iter()
        .filter(|(c, b)| {
            !c && matches!(
                DirectoryMessage::parse(b),
                Ok(DirectoryMessage::ServicesRequest(_) | DirectoryMessage::ServiceAnnouncement(_))
            )
        })
        .flat_map(|(_, b)| b.clone())
        .collect();
    let request = msgs
        .iter()
        .find(|(c, b)| {
            *c && matches!(
                DirectoryMessage::parse(b),
                Ok(DirectoryMessage::ServicesRequest(_))
            )
        })
        .map(|(_, b)| b.clone())
        .unwrap();
    // The unit's own request first (20 bytes), then the announcements.
    let own = read_n(&mut s, 20);
    assert_eq!(own, server_side[..20], "the unit's own ServicesRequest");
    s.write_all(&request).unwrap();
    let rest = read_n(&mut s, server_side.len() - 20);
    assert_eq!(rest, server_side[20..], "the recorded announcements");
    nothing_more(&mut s);
    let st = serving.stop();
    assert_eq!(st.directories, 1, "{st:?}");
    assert!(st.errors.is_empty(), "{st:?}");
    convs
}

#[test]
fn sc6000_directory_answers_byte_identical() {
    let Some(dir) = common::shared_captures("replay_stagelinq") else {
        return;
    };
    directory_is_byte_identical(dir.join("sc6000_boot.pcap"), Ipv4Addr::new(127, 0, 140, 2));
}

#[test]
fn own_capture_directory_answers_byte_identical() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/stagelinq-set.pcapng");
    directory_is_byte_identical(file, Ipv4Addr::new(127, 0, 141, 2));
}

/// The StateMap connection: the client's recorded hello and subscriptions get the unit's own
/// subscriptions and the first value of each subscribed path the unit sent, byte for byte.
fn statemap_is_byte_identical(file: PathBuf, first: Ipv4Addr) {
    let convs = conversations(&file);
    let (serving, table) = serve(&file, first);
    let sm = convs
        .iter()
        .find(|((_, _), m)| {
            m.first().is_some_and(|(c, b)| {
                *c && ServiceAnnouncement::parse(b).is_ok_and(|a| a.service == "StateMap")
            })
        })
        .expect("a recorded StateMap connection");
    let ((_, server), msgs) = sm;
    let ip = table.replay_ip(v4(*server)).unwrap();
    let mut s = TcpStream::connect((ip, server.port())).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    // What the unit sent: its own subscriptions, then the first value of each path.
    let mut want = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut subscribed = std::collections::HashSet::new();
    for (c, b) in msgs {
        if let Ok(StateMapMessage::Subscribe { path, .. }) = StateMapMessage::parse(b) {
            if *c {
                subscribed.insert(path);
            } else {
                want.push(b.clone());
            }
        }
    }
    let mut values = Vec::new();
    for (c, b) in msgs {
        if let (false, Ok(StateMapMessage::Value { path, .. })) = (c, StateMapMessage::parse(b)) {
            if subscribed.contains(&path) && seen.insert(path) {
                values.push(b.clone());
            }
        }
    }
    assert!(!values.is_empty(), "no recorded value");
    want.extend(values.iter().cloned());
    let want: Vec<u8> = want.concat();
    for (c, b) in msgs {
        if *c {
            s.write_all(b).unwrap();
        }
    }
    let got = read_n(&mut s, want.len());
    assert_eq!(got, want, "the StateMap answers");
    nothing_more(&mut s);
    let st = serving.stop();
    assert_eq!(st.values as usize, values.len(), "{st:?}");
}

#[test]
fn sc6000_statemap_answers_byte_identical() {
    let Some(dir) = common::shared_captures("replay_stagelinq") else {
        return;
    };
    statemap_is_byte_identical(dir.join("sc6000_boot.pcap"), Ipv4Addr::new(127, 0, 142, 2));
}

#[test]
fn own_capture_statemap_answers_byte_identical() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/stagelinq-set.pcapng");
    statemap_is_byte_identical(file, Ipv4Addr::new(127, 0, 143, 2));
}

/// A client of its own: a subscription to a recorded path gets the recorded value, one to an
/// unknown path nothing; garbage on another connection closes that one only; BeatInfo start
/// streams the recorded frames.
#[test]
fn a_client_of_its_own_and_garbage() {
    let Some(dir) = common::shared_captures("replay_stagelinq") else {
        return;
    };
    let file = dir.join("sc6000_boot.pcap");
    let convs = conversations(&file);
    let (serving, table) = serve(&file, Ipv4Addr::new(127, 0, 144, 2));
    let hello_to = |service: &str| {
        convs
            .iter()
            .find(|(_, m)| {
                m.first().is_some_and(|(c, b)| {
                    *c && ServiceAnnouncement::parse(b).is_ok_and(|a| a.service == service)
                })
            })
            .map(|((_, server), _)| *server)
            .unwrap()
    };
    let sm = hello_to("StateMap");
    let ip = table.replay_ip(v4(sm)).unwrap();
    let token = djdissect::stagelinq::Token([0x42; 16]);
    let hello = |service: &str| ServiceAnnouncement::new(token, service, 50123).to_bytes();
    let mut a = TcpStream::connect((ip, sm.port())).unwrap();
    a.set_read_timeout(Some(T)).unwrap();
    a.write_all(&hello("StateMap")).unwrap();
    // The unit's own subscriptions come after the hello.
    let own = convs
        .iter()
        .find(|((_, server), _)| *server == sm)
        .map(|(_, m)| {
            m.iter()
                .filter(|(c, b)| {
                    !c && matches!(
                        StateMapMessage::parse(b),
                        Ok(StateMapMessage::Subscribe { .. })
                    )
                })
                .count()
        })
        .unwrap();
    assert!(own >= 1);
    for _ in 0..own {
        let mut m = read_n(&mut a, 4);
        let n = u32::from_be_bytes(m[..4].try_into().unwrap()) as usize;
        m.extend(read_n(&mut a, n));
        assert!(matches!(
            StateMapMessage::parse(&m),
            Ok(StateMapMessage::Subscribe { .. })
        ));
    }
    // Garbage on another connection: closed.
    let mut g = TcpStream::connect((ip, sm.port())).unwrap();
    g.set_read_timeout(Some(T)).unwrap();
    g.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut b = [0u8; 64];
    let closed = loop {
        match g.read(&mut b) {
            Ok(0) | Err(_) => break true,
            Ok(_) => continue,
        }
    };
    assert!(closed);
    // The first connection still answers.
    a.write_all(&StateMapMessage::subscribe("/No/Such/Path", 100).to_bytes())
        .unwrap();
    a.write_all(&StateMapMessage::subscribe("/Engine/Deck1/Track/CurrentBPM", 100).to_bytes())
        .unwrap();
    let mut got = read_n(&mut a, 4);
    let n = u32::from_be_bytes(got[..4].try_into().unwrap()) as usize;
    got.extend(read_n(&mut a, n));
    match StateMapMessage::parse(&got).unwrap() {
        StateMapMessage::Value { path, json } => {
            assert_eq!(path, "/Engine/Deck1/Track/CurrentBPM");
            assert!(json.contains("121.97"), "{json}");
        }
        other => panic!("{other:?}"),
    }
    // BeatInfo: start streams recorded frames.
    let bi = hello_to("BeatInfo");
    let mut c = TcpStream::connect((ip, bi.port())).unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    c.write_all(&hello("BeatInfo")).unwrap();
    c.write_all(&djdissect::stagelinq::beatinfo::BeatInfoMessage::StartStream.to_bytes())
        .unwrap();
    let mut first = read_n(&mut c, 4);
    let n = u32::from_be_bytes(first[..4].try_into().unwrap()) as usize;
    first.extend(read_n(&mut c, n));
    let recorded_first = convs
        .iter()
        .find(|((_, server), _)| *server == bi)
        .and_then(|(_, m)| {
            m.iter().find(|(c, b)| {
                !c && matches!(
                    djdissect::stagelinq::beatinfo::BeatInfoMessage::parse(b),
                    Ok(djdissect::stagelinq::beatinfo::BeatInfoMessage::Beat(_))
                )
            })
        })
        .map(|(_, b)| b.clone())
        .unwrap();
    assert_eq!(first, recorded_first, "the first recorded beat frame");
    // Stop: the stream ends (what was in flight drains within a tick).
    c.write_all(&djdissect::stagelinq::beatinfo::BeatInfoMessage::StopStream.to_bytes())
        .unwrap();
    c.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let mut b = [0u8; 4096];
    let t = std::time::Instant::now();
    loop {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(_) => assert!(
                t.elapsed() < Duration::from_secs(2),
                "beat frames go on after stop"
            ),
        }
    }
    drop((a, c));
    let st = serving.stop();
    assert_eq!(st.unknown_paths, 1, "{st:?}");
    assert_eq!(st.refused, 1, "{st:?}");
    assert!(st.beat_frames >= 1);
}

/// FileTransfer: nothing recorded, so a stat of any path gets what a unit answers for a
/// missing one, with the live request's transaction id.
#[test]
fn file_transfer_answers_a_missing_path() {
    use djdissect::stagelinq::filetransfer::{FileTransferBody, FileTransferMessage};
    let Some(dir) = common::shared_captures("replay_stagelinq") else {
        return;
    };
    let file = dir.join("sc6000_boot.pcap");
    let (serving, table) = serve(&file, Ipv4Addr::new(127, 0, 145, 2));
    let mut opts = Options::new(&file);
    opts.first_address = Ipv4Addr::new(127, 0, 146, 2);
    let index = replay::plan(&opts).unwrap().stagelinq.unwrap();
    let (recorded, port) = index
        .units
        .iter()
        .find_map(|(ip, u)| {
            u.services
                .iter()
                .find(|a| a.service == "FileTransfer")
                .map(|a| (*ip, a.port))
        })
        .expect("an announced FileTransfer");
    let ip = table.replay_ip(recorded).unwrap();
    let mut s = TcpStream::connect((ip, port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let token = djdissect::stagelinq::Token([0x42; 16]);
    s.write_all(&ServiceAnnouncement::new(token, "FileTransfer", 50123).to_bytes())
        .unwrap();
    let req = FileTransferMessage::new(
        77,
        FileTransferBody::StatRequest {
            path: "/No Source/Engine Library/Database2/m.db".into(),
        },
    );
    s.write_all(&req.to_bytes()).unwrap();
    let mut got = read_n(&mut s, 4);
    let n = u32::from_be_bytes(got[..4].try_into().unwrap()) as usize;
    got.extend(read_n(&mut s, n));
    let m = FileTransferMessage::parse(&got).unwrap();
    assert_eq!(m.txid, 77);
    match m.body {
        FileTransferBody::FileStat(st) => assert_eq!(st.exists(), Some(false), "{st:?}"),
        other => panic!("{other:?}"),
    }
    let st = serving.stop();
    assert_eq!(st.file_transfer_requests, 1, "{st:?}");
}

/// The command: while it replays (the replayed HOWDY names the directory port), the unit's
/// directory answers at the replay address, and the closing report says what was served.
#[test]
fn the_command_answers_stagelinq_while_it_replays_and_reports_it() {
    let Some(dir) = common::shared_captures("replay_stagelinq") else {
        return;
    };
    let file = dir.join("sc6000_boot.pcap");
    let convs = conversations(&file);
    let ((_, server), msgs) = directory_conv(&convs).unwrap();
    let mut opts = Options::new(&file);
    opts.first_address = Ipv4Addr::new(127, 0, 147, 2);
    let ip = replay::plan(&opts)
        .unwrap()
        .table
        .replay_ip(v4(server))
        .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args([
            "replay",
            "--topspeed",
            "--linger",
            "3",
            "--first-address",
            "127.0.147.2",
        ])
        .args(["--to-host", "127.0.147.1"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let mut s = loop {
        match TcpStream::connect((ip, server.port())) {
            Ok(s) => break s,
            Err(_) if t.elapsed() < T => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the replay's directory never answered: {e}"),
        }
    };
    s.set_read_timeout(Some(T)).unwrap();
    let own = read_n(&mut s, 20);
    assert!(matches!(
        DirectoryMessage::parse(&own),
        Ok(DirectoryMessage::ServicesRequest(_))
    ));
    let request = msgs
        .iter()
        .find(|(c, b)| *c && DirectoryMessage::parse(b).is_ok())
        .map(|(_, b)| b.clone())
        .unwrap();
    s.write_all(&request).unwrap();
    let mut first = [0u8; 4];
    s.read_exact(&mut first).unwrap();
    drop(s);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("StageLinQ unit {} answered on {ip}", v4(server))),
        "{err}"
    );
    assert!(
        err.contains("1 StageLinQ connections: 1 directory requests"),
        "{err}"
    );
}
