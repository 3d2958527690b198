//! Criterion benches of the read path's hot functions. Whole-program numbers (records/s, MB/s,
//! peak RSS, ratios to the parsing limit and to tshark) come from `scripts/bench`.

use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use djdissect::capture::{writer::PcapNgWriter, CaptureReader, LinkType};
use djdissect::dissect::Depth;
use djdissect::engine::{Engine, EngineOptions};
use djdissect::output::{Format, Options, Printer};
use djdissect::prodjlink::{self, CdjStatus};

fn status_bytes() -> Vec<u8> {
    CdjStatus::new("CDJ-2000nexus", 2, 0x11c).to_bytes()
}

/// A small in-memory capture: status, beats and keep-alives from the club-set scenario when it
/// exists, else a synthetic mix.
fn capture_bytes() -> Vec<u8> {
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/club-set.pcapng");
    if let Ok(b) = std::fs::read(own) {
        return b;
    }
    let mut w = PcapNgWriter::new(Vec::new(), "bench").unwrap();
    let i = w.add_interface(LinkType::Ethernet, "eth0", 9).unwrap();
    let status = status_bytes();
    for n in 0..5000u32 {
        let b = etherparse::PacketBuilder::ethernet2([2; 6], [0xff; 6])
            .ipv4([169, 254, 1, 2], [169, 254, 1, 3], 64)
            .udp(50002, 50002);
        let mut frame = Vec::new();
        b.write(&mut frame, &status).unwrap();
        w.write_packet(i, n as i128 * 1_000_000, &frame).unwrap();
    }
    w.into_inner().unwrap()
}

fn dissect(c: &mut Criterion) {
    let status = status_bytes();
    let mut g = c.benchmark_group("prodjlink");
    g.throughput(Throughput::Elements(1));
    for (name, depth) in [
        ("identity", Depth::Identity),
        ("head", Depth::Head),
        ("json", Depth::Json),
        ("fields", Depth::Fields),
        ("detail", Depth::Detail),
    ] {
        g.bench_function(format!("dissect cdj_status 0x11c, depth {name}"), |b| {
            b.iter(|| prodjlink::dissect(50002, black_box(&status), depth))
        });
    }
    g.bench_function("parse cdj_status 0x11c", |b| {
        b.iter(|| prodjlink::Packet::parse(50002, black_box(&status)))
    });
    g.finish();
}

fn engine_and_output(c: &mut Criterion) {
    let bytes = capture_bytes();
    let frames = {
        let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes.clone()))).unwrap();
        let mut n = 0u64;
        while r.next_frame().unwrap().is_some() {
            n += 1;
        }
        n
    };
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(frames));
    g.bench_function("engine only", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes.clone()))).unwrap();
            let mut e = Engine::new(EngineOptions::default());
            let mut n = 0u64;
            while let Some(f) = r.next_frame().unwrap() {
                let _ = e.frame(&f, &mut |_| {
                    n += 1;
                    ControlFlow::Continue(())
                });
            }
            n
        })
    });
    g.bench_function("engine + json", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes.clone()))).unwrap();
            // The depth `read --format json` uses.
            let mut e = Engine::new(EngineOptions {
                depth: Depth::Json,
                ..Default::default()
            });
            let mut p = Printer::new(Options {
                format: Format::Json,
                detail: false,
                color: false,
            });
            let mut out = Vec::with_capacity(1 << 20);
            while let Some(f) = r.next_frame().unwrap() {
                let _ = e.frame(&f, &mut |rec| {
                    p.record(rec, &mut out).unwrap();
                    if out.len() > 1 << 20 {
                        out.clear();
                    }
                    ControlFlow::Continue(())
                });
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, dissect, engine_and_output);
criterion_main!(benches);
