//! The cost of the emulated dbserver's answers (`djdissect::device::dbserver`): what one
//! request costs the device that answers it, without sockets. Loopback latency with many
//! clients is measured by the socket transport's bench; this is the floor under it.
//!
//! `cargo bench --bench dbserver -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use djdissect::dbserver::message::SETUP_TRANSACTION_ID;
use djdissect::dbserver::requests::{
    Dmst, MenuRequest, MetadataRequest, RenderMenuRequest, SetupRequest, TrackDataRequest,
};
use djdissect::dbserver::Greeting;
use djdissect::device::dbserver::{DbServerSession, ServerRules, Verdict};
use djdissect::device::library::{Library, MARATHON_LEN, MARATHON_PLAYLIST};

const DMST: Dmst = Dmst {
    player: 1,
    menu: 1,
    slot: 3,
    track_type: 1,
};

fn session(lib: &Arc<Library>) -> DbServerSession {
    let mut s = DbServerSession::new(lib.clone(), ServerRules::nexus(2));
    let mut hello = Greeting::default().to_bytes();
    hello.extend(
        SetupRequest { requester: 1 }
            .to_message(SETUP_TRANSACTION_ID)
            .to_bytes(),
    );
    assert_eq!(s.on_bytes(&hello, &mut Vec::new()), Verdict::Keep);
    s
}

fn answers(c: &mut Criterion) {
    let lib = Arc::new(Library::demo());
    let mut g = c.benchmark_group("dbserver");
    let mut out = Vec::with_capacity(1 << 20);

    // A metadata lookup as prolink-connect does it: 2002, then the render of its 13 items.
    let mut lookup = MetadataRequest {
        dmst: DMST,
        rekordbox_id: 1,
    }
    .to_message(1)
    .to_bytes();
    lookup.extend(
        RenderMenuRequest::new(DMST, 0, 13, 13)
            .to_message(2)
            .to_bytes(),
    );
    let mut s = session(&lib);
    g.throughput(Throughput::Elements(1));
    g.bench_function("metadata lookup (2002 + render of 13 items)", |b| {
        b.iter(|| {
            out.clear();
            black_box(s.on_bytes(black_box(&lookup), &mut out));
        })
    });

    // The 500-entry playlist: 1105, then one render of all 500 rows.
    let mut big = MenuRequest {
        message_type: 0x1105,
        dmst: DMST,
        params: vec![0, MARATHON_PLAYLIST, 0],
    }
    .to_message(3)
    .to_bytes();
    let n = MARATHON_LEN as u32;
    big.extend(
        RenderMenuRequest::new(DMST, 0, n, n)
            .to_message(4)
            .to_bytes(),
    );
    let mut s = session(&lib);
    g.bench_function("500-item menu (1105 + one render of 500 rows)", |b| {
        b.iter(|| {
            out.clear();
            black_box(s.on_bytes(black_box(&big), &mut out));
        })
    });

    // A beat grid and a detail waveform: the largest blob answers.
    let grid = TrackDataRequest {
        message_type: 0x2204,
        dmst: DMST,
        rekordbox_id: 1,
        extra: vec![],
    }
    .to_message(5)
    .to_bytes();
    let detail = TrackDataRequest {
        message_type: 0x2904,
        dmst: DMST,
        rekordbox_id: 1,
        extra: vec![0],
    }
    .to_message(6)
    .to_bytes();
    let mut s = session(&lib);
    g.bench_function("beat grid (2204, 507 beats)", |b| {
        b.iter(|| {
            out.clear();
            black_box(s.on_bytes(black_box(&grid), &mut out));
        })
    });
    g.bench_function("waveform detail (2904, 245 s)", |b| {
        b.iter(|| {
            out.clear();
            black_box(s.on_bytes(black_box(&detail), &mut out));
        })
    });

    // A whole connection: greeting, setup, one lookup.
    let mut whole = Greeting::default().to_bytes();
    whole.extend(
        SetupRequest { requester: 1 }
            .to_message(SETUP_TRANSACTION_ID)
            .to_bytes(),
    );
    whole.extend(&lookup);
    g.bench_function("new connection + setup + metadata lookup", |b| {
        b.iter(|| {
            out.clear();
            let mut s = DbServerSession::new(lib.clone(), ServerRules::nexus(2));
            black_box(s.on_bytes(black_box(&whole), &mut out));
        })
    });
    g.finish();
}

criterion_group!(benches, answers);
criterion_main!(benches);
