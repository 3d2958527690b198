//! `emit(parse(b)) == b` for every beat-grid, cue-list and waveform blob that real servers sent
//! in `../shared/captures` (S10j holds one of each: a 4702 cue list with its millisecond blob, a
//! 900-byte 4402 preview, a 63 776-byte 4a02 detail, a 1027-beat 4602 grid).

mod common;

use std::collections::BTreeMap;

use djdissect::dbserver::blobs::{
    BeatGrid, Emit, ExtendedCues, NexusCues, WaveformDetail, WaveformPreview,
};
use djdissect::dbserver::Message;
use djdissect::dissect::Proto;

#[test]
fn real_blobs_round_trip_through_emit() {
    let Some(dir) = common::shared_captures("real_blobs_round_trip_through_emit") else {
        return;
    };
    let mut seen: BTreeMap<u16, usize> = BTreeMap::new();
    for path in common::capture_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        common::each_record(&path, Default::default(), |r| {
            if r.dissection.proto != Proto::DbServer {
                return;
            }
            let Ok((m, _)) = Message::parse(r.bytes) else {
                return;
            };
            let Some(blob) = m.blob(3) else {
                return;
            };
            let again = match m.message_type {
                0x4402 => WaveformPreview::parse(blob).to_bytes(),
                0x4a02 => WaveformDetail::parse(blob).unwrap().to_bytes(),
                0x4602 => BeatGrid::parse(blob).unwrap().to_bytes(),
                0x4702 => {
                    let list = NexusCues::parse(blob);
                    // The companion blob: position and loop end in ms for each entry.
                    let ms = m.blob(8).unwrap();
                    assert_eq!(ms.len(), list.cues.len() * 8, "{name} frame {}", r.frame);
                    list.to_bytes()
                }
                0x4e02 => {
                    let count = m.number(4).unwrap_or(0);
                    ExtendedCues::parse(blob, count).to_bytes()
                }
                _ => return,
            };
            assert_eq!(
                again, blob,
                "{name} frame {} type {:04x}: emit(parse(b)) != b",
                r.frame, m.message_type
            );
            *seen.entry(m.message_type).or_default() += 1;
        });
    }
    for kind in [0x4402u16, 0x4a02, 0x4602, 0x4702] {
        assert!(
            seen.get(&kind).copied().unwrap_or(0) > 0,
            "no {kind:04x} blob in the captures: {seen:?}"
        );
    }
}
