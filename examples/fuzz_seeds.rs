//! Seed corpora for the fuzz targets (`fuzz/`), cut from real captures:
//!
//! ```sh
//! cargo run --example fuzz_seeds -- fuzz/corpus ../shared/captures/*.pcap* captures/*.pcap*
//! ```
//!
//! Writes small files into `OUTDIR/<target>/`, in each target's input encoding (see
//! `fuzz/src/*.rs`): windows of a few frames of every capture (same format and headers as the
//! original), single frames, every distinct Pro DJ Link / dbserver / StageLinQ message kind,
//! and the first bytes of each reassembled TCP direction. The captures themselves are never
//! copied whole.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Cursor;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use djdissect::capture::{CaptureReader, LinkType};
use djdissect::dissect::Proto;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::net::tcp_reassembly::{ConnId, Limits, Reassembler, StreamEvent};
use djdissect::net::{NetDecoder, Transport};
use djdissect::stagelinq::{classify_stream, StreamKind};

/// Frames per capture window, windows per capture, bytes kept per TCP direction, and seeds
/// kept per message kind.
const WINDOW: usize = 8;
const WINDOWS: usize = 6;
const STREAM_BYTES: usize = 4096;
const PER_KIND: usize = 3;

struct Seeds {
    out: PathBuf,
    /// (target, key) -> count, to keep a few seeds per message kind.
    kinds: HashMap<(String, String), usize>,
    written: BTreeMap<String, usize>,
}

impl Seeds {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.out.join(target);
        fs::create_dir_all(&dir).expect("create corpus directory");
        fs::write(dir.join(name), bytes).expect("write seed");
        *self.written.entry(target.to_string()).or_default() += 1;
    }

    /// Keep at most `PER_KIND` seeds per (target, kind).
    fn want(&mut self, target: &str, kind: String) -> bool {
        let n = self.kinds.entry((target.to_string(), kind)).or_default();
        *n += 1;
        *n <= PER_KIND
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, files)) = args.split_first() else {
        eprintln!("usage: fuzz_seeds OUTDIR CAPTURE...");
        std::process::exit(2);
    };
    let mut s = Seeds {
        out: PathBuf::from(out),
        kinds: HashMap::new(),
        written: BTreeMap::new(),
    };
    synthetic(&mut s);
    for f in files {
        capture(&mut s, Path::new(f));
    }
    for (t, n) in &s.written {
        println!("{t}: {n} seeds");
    }
}

fn stem(p: &Path) -> String {
    p.file_name()
        .map_or("x".into(), |n| n.to_string_lossy().replace('.', "_"))
}

fn capture(s: &mut Seeds, path: &Path) {
    let Ok(bytes) = fs::read(path) else {
        eprintln!("{}: cannot read, skipped", path.display());
        return;
    };
    let name = stem(path);
    // Block boundaries: end offset of each frame's block, and where the first frame starts.
    let mut r = match CaptureReader::new(Box::new(Cursor::new(bytes.clone()))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}, skipped", path.display());
            return;
        }
    };
    let mut ends = Vec::new();
    let mut first_start = None;
    let mut net = NetDecoder::default();
    let mut streams = Streams::default();
    let mut engine = Engine::new(EngineOptions::default());
    let mut messages: Vec<(Proto, String, u16, Vec<u8>)> = Vec::new();
    loop {
        let start = r.offset();
        let frame = match r.next_frame() {
            Ok(Some(f)) => f,
            _ => break,
        };
        first_start.get_or_insert(start);
        let link = frame.link_type;
        if ends.len() % 97 == 0 {
            // A few raw frames for the link/IP target.
            let mut seed = vec![7, 0, 64, 200];
            net_frame(&mut seed, link, frame.data);
            s.write("net_layer", &format!("{name}_{}", ends.len()), &seed);
        }
        let _ = net.decode(&frame, |t| streams.transport(&t));
        let _ = engine.frame(&frame, &mut |rec| {
            messages.push((
                rec.dissection.proto,
                rec.dissection.type_name.to_string(),
                rec.port,
                rec.bytes.to_vec(),
            ));
            ControlFlow::Continue(())
        });
        ends.push(r.offset());
    }
    let header_end = first_start.unwrap_or(0) as usize;
    // Windows of frames behind the original file header (pcapng: SHB and IDBs).
    for w in 0..WINDOWS {
        if ends.is_empty() {
            break;
        }
        let first = ends.len() * w / WINDOWS;
        let last = (first + WINDOW).min(ends.len()) - 1;
        let from = if first == 0 {
            header_end
        } else {
            ends[first - 1] as usize
        };
        let mut seed = bytes[..header_end].to_vec();
        seed.extend_from_slice(&bytes[from..ends[last] as usize]);
        s.write("capture_reader", &format!("{name}_{w}"), &seed);
    }
    for (proto, type_name, port, b) in messages {
        match proto {
            Proto::ProDjLink => {
                if s.want("prodjlink_udp", format!("{port}{type_name}{}", b.len())) {
                    let mut seed = vec![(port.saturating_sub(50000) & 7) as u8];
                    seed.extend_from_slice(&b);
                    s.write(
                        "prodjlink_udp",
                        &format!("{name}_{type_name}_{}", b.len()),
                        &seed,
                    );
                }
            }
            Proto::DbServer => {
                if s.want("dbserver_message", type_name.clone()) {
                    let mut seed = vec![0, 3, 9, 40, 200];
                    seed.extend_from_slice(&b);
                    s.write("dbserver_message", &format!("{name}_{type_name}"), &seed);
                }
            }
            Proto::StageLinq => {
                let target = match type_name.as_str() {
                    "discovery" => "stagelinq_discovery",
                    t if t.starts_with("eaas") => "stagelinq_discovery",
                    t if t.starts_with("statemap") => "stagelinq_statemap",
                    t if t.starts_with("beat_info") => "stagelinq_beatinfo",
                    "file_transfer" => "stagelinq_filetransfer",
                    "service_hello" => "stagelinq_directory",
                    t if ["services_request", "service_announcement", "reference"].contains(&t) => {
                        "stagelinq_directory"
                    }
                    _ => continue,
                };
                if s.want(target, format!("{type_name}{}", b.len().min(64))) {
                    let hello = if type_name == "service_hello" { 2 } else { 0 };
                    let mut seed = vec![hello, 5, 11, 60, 255];
                    seed.extend_from_slice(&b);
                    s.write(target, &format!("{name}_{type_name}_{}", b.len()), &seed);
                }
            }
        }
    }
    streams.finish();
    for ((id, dir), (server_port, b)) in streams.bytes {
        let target = if matches!(server_port, 1051 | 12523) || b.starts_with(&[0x11, 0, 0, 0, 1]) {
            "dbserver_message"
        } else {
            match classify_stream(&b, None) {
                StreamKind::Directory => "stagelinq_directory",
                StreamKind::StateMap => "stagelinq_statemap",
                StreamKind::BeatInfo => "stagelinq_beatinfo",
                StreamKind::FileTransfer => "stagelinq_filetransfer",
                _ => continue,
            }
        };
        if !s.want(target, format!("stream{server_port}{dir:?}")) {
            continue;
        }
        let mut seed = vec![0, 3, 9, 40, 200];
        seed.extend_from_slice(&b);
        s.write(target, &format!("{name}_stream_{id}_{dir:?}"), &seed);
    }
}

/// The first bytes of every TCP direction, as the reassembler delivers them.
#[derive(Default)]
struct Streams {
    r: Option<Reassembler>,
    servers: HashMap<ConnId, u16>,
    bytes: BTreeMap<(ConnId, u8), (u16, Vec<u8>)>,
}

impl Streams {
    fn transport(&mut self, t: &Transport<'_>) {
        let Transport::Tcp(seg) = t else { return };
        let r = self.r.get_or_insert_with(|| {
            Reassembler::new(Limits::default()).with_server_ports(&[1051, 12523])
        });
        let (servers, bytes) = (&mut self.servers, &mut self.bytes);
        r.segment(seg, &mut |e| collect(servers, bytes, e));
    }

    fn finish(&mut self) {
        if let Some(r) = &mut self.r {
            let (servers, bytes) = (&mut self.servers, &mut self.bytes);
            r.finish(&mut |e| collect(servers, bytes, e));
        }
    }
}

fn collect(
    servers: &mut HashMap<ConnId, u16>,
    bytes: &mut BTreeMap<(ConnId, u8), (u16, Vec<u8>)>,
    e: StreamEvent<'_>,
) {
    match e {
        StreamEvent::Opened { conn, server, .. } => {
            servers.insert(conn, server.port());
        }
        StreamEvent::Data {
            conn,
            dir,
            bytes: b,
            ..
        } => {
            let port = servers.get(&conn).copied().unwrap_or(0);
            let (_, v) = bytes.entry((conn, dir as u8)).or_insert((port, Vec::new()));
            let room = STREAM_BYTES.saturating_sub(v.len());
            v.extend_from_slice(&b[..b.len().min(room)]);
        }
        _ => {}
    }
}

/// One raw-frame operation of the `net_layer` encoding: time step, op 0, link, length, bytes.
fn net_frame(seed: &mut Vec<u8>, link: LinkType, data: &[u8]) {
    let index = match link {
        LinkType::Ethernet => 0,
        LinkType::Raw => 1,
        LinkType::LinuxSll => 2,
        LinkType::LinuxSll2 => 3,
        LinkType::Null => 4,
        LinkType::Loop => 5,
        LinkType::Ipv4 => 6,
        LinkType::Ipv6 => 7,
        LinkType::Other(_) => 8,
    };
    let data = &data[..data.len().min(1599)];
    seed.extend_from_slice(&[1, 0, index]);
    seed.extend_from_slice(&(data.len() as u16).to_be_bytes());
    seed.extend_from_slice(data);
}

/// Seeds no capture holds: IPv4 fragment trains and TCP segment sequences in the targets'
/// own encodings.
fn synthetic(s: &mut Seeds) {
    // net_layer: a datagram in three fragments, to the model (op 1) and as frames (op 2),
    // out of order.
    let mut seed = vec![7, 0, 64, 200];
    for op in [1u8, 2] {
        for (offset_units, len, more) in [(185u16, 100u16, 0u8), (0, 1480, 1), (0, 1480, 1)] {
            seed.extend_from_slice(&[1, op, 1, 2]);
            seed.extend_from_slice(&offset_units.to_be_bytes());
            seed.extend_from_slice(&len.to_be_bytes());
            seed.push(more);
        }
    }
    s.write("net_layer", "fragments", &seed);
    // tcp_reassembly: handshake, data both ways (one segment out of order), FINs.
    let mut seed = vec![0x33, 20, 40, 16, 50];
    let segs: [(u8, u8, u16, u8); 7] = [
        (0x04, 0x01, 0, 0),   // client SYN
        (0x01, 0x09, 0, 0),   // server SYN-ACK
        (0x04, 0x08, 21, 30), // client data, out of order
        (0x04, 0x08, 1, 20),  // client data
        (0x01, 0x08, 1, 40),  // server data
        (0x04, 0x0a, 51, 0),  // client FIN
        (0x01, 0x0a, 41, 0),  // server FIN
    ];
    // The first segment of each direction carries that direction's base sequence number.
    let mut based = std::collections::HashSet::new();
    for (pair, flags, delta, len) in segs {
        seed.extend_from_slice(&[pair, flags]);
        if based.insert(pair) {
            seed.extend_from_slice(&0x1000_0000u32.to_be_bytes());
        }
        seed.extend_from_slice(&delta.to_be_bytes());
        if flags & 0x08 != 0 {
            seed.extend_from_slice(&1u16.to_be_bytes());
        }
        seed.extend_from_slice(&[len, 3]);
    }
    s.write("tcp_reassembly", "handshake", &seed);
}
