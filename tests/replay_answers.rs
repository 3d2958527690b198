//! The recorded dbserver server side served to live clients (`src/replay/serve.rs`): a client
//! that replays the capture's own requests gets byte-identical answers; a client with another
//! requester number and its own transaction ids gets the recorded titles; a request never
//! recorded gets `4003`; garbage closes that connection only. Each test has its own
//! 127.0.9X.0/24.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use djdissect::capture::CaptureReader;
use djdissect::dbserver::client::{query_port, Client};
use djdissect::dbserver::{Field, Greeting, Message};
use djdissect::dissect::{Depth, Proto};
use djdissect::engine::{Engine, EngineOptions};
use djdissect::replay::serve::Serving;
use djdissect::replay::{self, Options};

const T: Duration = Duration::from_secs(5);

/// The dbserver messages of the capture's first dbserver connection, in order, as
/// (from the client?, bytes).
fn first_conversation(file: &Path) -> (Ipv4Addr, Vec<(bool, Vec<u8>)>) {
    let mut r = CaptureReader::open(file).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut conn: Option<(SocketAddr, SocketAddr)> = None;
    let mut out = Vec::new();
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        let is_msg = Message::parse(rec.bytes).is_ok();
        if rec.dissection.proto == Proto::DbServer && is_msg && rec.dst.port() != 12523 {
            let (c, s) =
                *conn.get_or_insert(if Message::parse(rec.bytes).unwrap().0.is_response() {
                    (rec.dst, rec.src)
                } else {
                    (rec.src, rec.dst)
                });
            if (rec.src, rec.dst) == (c, s) {
                out.push((true, rec.bytes.to_vec()));
            } else if (rec.src, rec.dst) == (s, c) {
                out.push((false, rec.bytes.to_vec()));
            }
        }
        ControlFlow::Continue(())
    };
    while let Ok(Some(f)) = r.next_frame() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    let IpAddr::V4(server) = conn.unwrap().1.ip() else {
        panic!("IPv6 server")
    };
    (server, out)
}

fn serve(file: &Path, first: Ipv4Addr) -> (Serving, replay::AddressTable) {
    let mut opts = Options::new(file);
    opts.first_address = first;
    let plan = replay::plan(&opts).unwrap();
    let index = plan.index.unwrap();
    assert!(
        index.distinct_requests() > 0,
        "no recorded dbserver answer indexed"
    );
    (Serving::start(index, &plan.table), plan.table)
}

fn read_exact_timed(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn replaying_the_captures_own_requests_gets_byte_identical_answers() {
    let Some(dir) = common::shared_captures("replay_answers") else {
        return;
    };
    let file = dir.join("usr-ein-S05-link-browse.pcap");
    let (server, conv) = first_conversation(&file);
    let (serving, table) = serve(&file, Ipv4Addr::new(127, 0, 95, 2));
    let ip = table.replay_ip(server).unwrap();
    let port = query_port(ip, T).unwrap();
    assert_eq!(port, 1051, "the recorded dbserver port");
    let mut s = TcpStream::connect((ip, port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(&Greeting::default().to_bytes()).unwrap();
    let g = Greeting::default().to_bytes();
    assert_eq!(read_exact_timed(&mut s, g.len()), g);
    // Each request's recorded answer: the server messages with its transaction id that
    // follow it (a menu close shares the id of the request it closes and is never answered).
    let tx = |b: &[u8]| Message::parse(b).unwrap().0;
    let mut requests = 0;
    for (i, (from_client, req)) in conv.iter().enumerate() {
        if !from_client {
            continue;
        }
        let m = tx(req);
        let mut want = Vec::new();
        if m.message_type != 0x0001 {
            for (fc, b) in &conv[i + 1..] {
                let a = tx(b);
                if *fc && a.transaction_id == m.transaction_id && a.message_type != 0x0001 {
                    break;
                }
                if !fc && a.transaction_id == m.transaction_id {
                    want.extend_from_slice(b);
                }
            }
        }
        s.write_all(req).unwrap();
        requests += 1;
        let got = read_exact_timed(&mut s, want.len());
        if got != want {
            let show = |b: &[u8]| {
                djdissect::dbserver::dissect(b, Depth::Head)
                    .summary
                    .to_string()
            };
            panic!(
                "request {requests} ({}): answer differs: want {}, got {}",
                show(req),
                show(&want),
                show(&got)
            );
        }
    }
    // Nothing more than the recorded answers.
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut extra = [0u8; 1];
    assert!(
        s.read(&mut extra).is_err(),
        "the server sent more than was recorded"
    );
    assert!(
        requests >= 10,
        "only {requests} requests in the conversation"
    );
    let stats = serving.stop();
    assert_eq!(stats.unknown, 0, "{stats:?}");
    assert!(stats.answered >= requests as u64);
}

/// The recorded request of `kind` with player byte `player` in DMST.
fn as_player(m: &Message, player: u8, tx: u32) -> Message {
    let mut m = m.clone();
    m.transaction_id = tx;
    if let Some(Some(Field::U32(v))) = m.args.first_mut() {
        *v = (*v & 0x00ff_ffff) | (u32::from(player) << 24);
    }
    m
}

#[test]
fn a_client_of_its_own_gets_the_recorded_titles_and_4003_for_the_unrecorded() {
    let Some(dir) = common::shared_captures("replay_answers") else {
        return;
    };
    let file = dir.join("usr-ein-S05-link-browse.pcap");
    let (server, conv) = first_conversation(&file);
    let (serving, table) = serve(&file, Ipv4Addr::new(127, 0, 96, 2));
    let ip = table.replay_ip(server).unwrap();
    let mut c = Client::connect(ip, 3, T).unwrap();
    // The recorded playlist request (1105) and the render after it, as player 3 with its own
    // transaction ids.
    let parsed: Vec<Message> = conv
        .iter()
        .filter(|(from_client, _)| *from_client)
        .map(|(_, b)| Message::parse(b).unwrap().0)
        .collect();
    let at = parsed
        .iter()
        .position(|m| m.message_type == 0x1105)
        .unwrap();
    let (playlist, render) = (&parsed[at], &parsed[at + 1]);
    assert_eq!(render.message_type, 0x3000);
    let tx = c.request(|tx| as_player(playlist, 3, tx)).unwrap();
    let a = c.read_message().unwrap();
    assert_eq!((a.transaction_id, a.message_type), (tx, 0x4000));
    let tx = c.request(|tx| as_player(render, 3, tx)).unwrap();
    let mut titles = Vec::new();
    loop {
        let m = c.read_message().unwrap();
        assert_eq!(m.transaction_id, tx);
        titles.push(
            djdissect::dbserver::dissect(&m.to_bytes(), Depth::Head)
                .summary
                .to_string(),
        );
        if m.message_type == 0x4201 {
            break;
        }
    }
    let all = titles.join("\n");
    assert!(
        all.contains("DomSam1") && all.contains("techno night"),
        "{all}"
    );
    // Never recorded: a waveform request for a track id nobody asked for.
    let tx = c
        .request(|tx| {
            Message::new(
                tx,
                0x2c04,
                vec![Field::U32(0x0308_0301), Field::U32(999_999)],
            )
        })
        .unwrap();
    let a = c.read_message().unwrap();
    assert_eq!((a.transaction_id, a.message_type), (tx, 0x4003));
    let stats = serving.stop();
    assert_eq!(stats.unknown, 1);
    assert!(stats.unknown_types.contains(&0x2c04));
}

#[test]
fn garbage_closes_one_connection_and_the_server_goes_on() {
    let Some(dir) = common::shared_captures("replay_answers") else {
        return;
    };
    let file = dir.join("LinkInfo.pcapng");
    let (server, _) = first_conversation(&file);
    let (serving, table) = serve(&file, Ipv4Addr::new(127, 0, 97, 2));
    let ip = table.replay_ip(server).unwrap();
    let port = query_port(ip, T).unwrap();
    for garbage in [&[0xffu8; 300][..], b"GET / HTTP/1.1\r\n\r\n"] {
        let mut s = TcpStream::connect((ip, port)).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        s.write_all(&Greeting::default().to_bytes()).unwrap();
        let _ = read_exact_timed(&mut s, 5);
        let _ = s.write_all(garbage);
        let mut rest = Vec::new();
        // The server closes: read ends (0 bytes or a reset), never hangs until the timeout.
        let t = std::time::Instant::now();
        let _ = s.read_to_end(&mut rest);
        assert!(t.elapsed() < T, "the server kept a garbage connection open");
    }
    // Still serving.
    let c = Client::connect(ip, 4, T);
    assert!(c.is_ok(), "{:?}", c.err());
    drop(c);
    let stats = serving.stop();
    assert!(stats.connections >= 3);
}

#[test]
fn the_command_answers_while_it_replays_and_reports_what_it_served() {
    let Some(dir) = common::shared_captures("replay_answers") else {
        return;
    };
    let file = dir.join("usr-ein-S05-link-browse.pcap");
    let (server, _) = first_conversation(&file);
    let mut opts = Options::new(&file);
    opts.first_address = Ipv4Addr::new(127, 0, 98, 2);
    let ip = replay::plan(&opts)
        .unwrap()
        .table
        .replay_ip(server)
        .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_djdissect"))
        .args([
            "replay",
            "--topspeed",
            "--linger",
            "3",
            "--first-address",
            "127.0.98.2",
        ])
        .args(["--to-host", "127.0.98.1"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let port = loop {
        match query_port(ip, T) {
            Ok(p) => break p,
            Err(_) if t.elapsed() < T => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the replay's port query never answered: {e}"),
        }
    };
    assert_eq!(port, 1051);
    let mut c = Client::connect(ip, 2, T).unwrap();
    let tx = c
        .request(|tx| Message::new(tx, 0x2c04, vec![Field::U32(0x0208_0301), Field::U32(1)]))
        .unwrap();
    assert_eq!(c.read_message().unwrap().transaction_id, tx);
    drop(c);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 requests answered from the capture, 1 not recorded"),
        "{err}"
    );
    assert!(
        err.contains("request types with no recorded answer: 2c04"),
        "{err}"
    );
}
