//! The session's steady state allocates nothing of its own: once the players, mixer and
//! devices are known and nothing changes, feeding it keep-alives, CDJ status, beats, precise
//! positions and mixer status costs no allocation beyond the one the CDJ status Repr makes for
//! its packet image. A counting allocator counts the allocations of this thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr};

use djdissect::dissect::Depth;
use djdissect::prodjlink::{self, Beat, CdjStatus, KeepAlive, MixerStatus, PrecisePosition};
use djdissect::record::Record;
use djdissect::session::Session;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the bookkeeping only
// touches a const-initialised thread-local, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// One round of what a playing CDJ-3000 (player 2) and a DJM (33) send, round `n`: nothing in
/// it changes anything the session tells, except the beat and the playhead.
fn round(n: u32) -> Vec<(u16, [u8; 4], Vec<u8>)> {
    let cdj = [192, 168, 1, 12];
    let djm = [192, 168, 1, 33];
    let mut status = CdjStatus::new("CDJ-3000", 2, 0x200);
    status.track_device = 2;
    status.track_slot = 3;
    status.track_type = 1;
    status.rekordbox_id = 42;
    status.play_state = 3;
    status.bpm_validity = 0x8000;
    status.set_tempo(Some(128.0), 1.5);
    status.set_flag(prodjlink::status_flag::PLAYING, true);
    status.set_flag(prodjlink::status_flag::ON_AIR, true);
    status.beat = n;
    status.beat_in_bar = (n % 4 + 1) as u8;
    let keep_alive = KeepAlive::cdj(
        "CDJ-3000",
        2,
        [0, 0xe0, 0x36, 1, 2, 3],
        Ipv4Addr::from(cdj),
        2,
    );
    let beat = Beat::new("CDJ-3000", 2, 128.0, 1.5, (n % 4 + 1) as u8);
    let position = PrecisePosition::new("CDJ-3000", 2, 300, 1000 + n * 30, 1.5, Some(129.9));
    let mixer = MixerStatus::new("DJM-V10", 33, 128.0, false, (n % 4 + 1) as u8);
    vec![
        (50000, cdj, keep_alive.to_bytes()),
        (50002, cdj, status.to_bytes()),
        (50001, cdj, beat.to_bytes()),
        (50001, cdj, position.to_bytes()),
        (50002, djm, mixer.to_bytes()),
    ]
}

#[test]
fn the_steady_state_of_status_packets_allocates_only_the_status_image() {
    const WARM_UP: u32 = 50;
    const ROUNDS: u32 = 1000;
    // Every record is built before counting: dissecting (the engine's part) allocates.
    let mut packets = Vec::new();
    for n in 0..WARM_UP + ROUNDS {
        packets.extend(round(n));
    }
    let records: Vec<Record<'_>> = packets
        .iter()
        .enumerate()
        .map(|(i, (port, ip, bytes))| Record {
            frame: i as u64 + 1,
            // 1 ms apart: a few records in the duplicate window at any time.
            ts_ns: 1_700_000_000_000_000_000 + i as i128 * 1_000_000,
            src: SocketAddr::from((*ip, *port)),
            dst: SocketAddr::from(([192, 168, 1, 255], *port)),
            interface: 0,
            port: *port,
            bytes,
            dissection: prodjlink::dissect(*port, bytes, Depth::Head),
            extra: Vec::new(),
        })
        .collect();
    let per_round = records.len() / (WARM_UP + ROUNDS) as usize;
    let (warm_up, steady) = records.split_at(WARM_UP as usize * per_round);
    let mut s = Session::new();
    for r in warm_up {
        s.observe(r);
    }
    let events = s.timeline.len();
    assert!(events > 0, "the warm-up introduces the player");
    let before = allocations();
    for r in steady {
        s.observe(r);
    }
    let made = allocations() - before;
    assert_eq!(
        s.timeline.len(),
        events,
        "{:#?}",
        s.timeline.iter().skip(events).collect::<Vec<_>>()
    );
    let statuses = ROUNDS as u64;
    // The status Repr keeps its packet image (one allocation); the duplicate window's table
    // may grow once or twice.
    assert!(
        made <= statuses + 4,
        "{made} allocations for {} records ({statuses} CDJ status)",
        steady.len()
    );
}
