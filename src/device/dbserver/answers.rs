//! Blob answers from the library: artwork (`4002`), beat grid (`4602`), cue lists (`4702`,
//! `4e02`) and blue waveforms (`4402`, `4a02`), argument layouts as `prodjlink.md` 7.3 and the
//! S10j answers a CDJ accepted: `[request type, 0, blob length, blob]`, the grid with a
//! trailing 0 (prolink-connect reads `4602 [2204, 0, len, blob, 0]`, `clients.md` 3.3(c)),
//! the extended list with its entry count.

use crate::dbserver::blobs::{
    Beat, BeatGrid, Cue, Emit, ExtendedCue, ExtendedCues, NexusCues, WaveformDetail,
    WaveformPreview,
};
use crate::dbserver::responses::{BlobResponse, CueListResponse};
use crate::dbserver::Message;
use crate::device::library::{Artwork, CuePoint, Track};

fn blob(message_type: u16, request_type: u16, data: Vec<u8>, trailing: Vec<u32>) -> BlobResponse {
    BlobResponse {
        message_type,
        request_type: request_type as u32,
        unknown: 0,
        data,
        trailing,
    }
}

pub fn artwork(tx: u32, art: &Artwork, hi_res: bool) -> Message {
    blob(0x4002, 0x2003, art.jpeg(hi_res).to_vec(), Vec::new()).to_message(tx)
}

/// Every beat at the track's own tempo; the unknown eight bytes are `ff` as in every capture.
pub fn beat_grid(tx: u32, t: &Track) -> Message {
    let beats = t
        .beat_grid()
        .map(|b| Beat {
            beat_in_bar: b.beat_in_bar as u16,
            bpm_x100: t.bpm_x100,
            time_ms: b.time_ms,
            unknown: [0xff; 8],
        })
        .collect();
    blob(0x4602, 0x2204, BeatGrid::new(beats).to_bytes(), vec![0]).to_message(tx)
}

/// Milliseconds to the nexus list's 1/150 s.
fn half_frames(ms: u32) -> u32 {
    (ms as u64 * 150 / 1000) as u32
}

fn nexus_cue(c: &CuePoint) -> Cue {
    Cue {
        hot_cue: c.hot_cue,
        is_loop: c.loop_end_ms.is_some(),
        position: half_frames(c.position_ms),
        loop_end: c.loop_end_ms.map(half_frames),
    }
}

/// The nexus list: hot cues A-C and memory points; its entry length (0x24) in argument 5 and
/// the millisecond companion blob last, as S10j's answer.
pub fn cue_list(tx: u32, t: &Track) -> Message {
    let kept: Vec<&CuePoint> = t.cues.iter().filter(|c| c.hot_cue <= 3).collect();
    let list = NexusCues {
        cues: kept.iter().map(|c| nexus_cue(c)).collect(),
    };
    let ms: Vec<(u32, Option<u32>)> = kept
        .iter()
        .map(|c| (c.position_ms, c.loop_end_ms))
        .collect();
    CueListResponse {
        request_type: 0x2104,
        unknown_2: 0,
        cues: list.to_bytes(),
        unknown_5: NexusCues::ENTRY_LEN as u32,
        hot_cue_count: kept.iter().filter(|c| c.hot_cue != 0).count() as u32,
        memory_point_count: kept.iter().filter(|c| c.hot_cue == 0).count() as u32,
        extra: NexusCues::millisecond_blob(&ms),
    }
    .to_message(tx)
}

/// The hot-cue colour (code, red, green, blue) for a library colour id. Hot cues use another
/// palette than memory points: codes and RGB from BL `CueList.findRekordboxColor`, which warns
/// when the RGB does not match the code. Red, orange and yellow have no code here (no entry of
/// that table was at hand to check), so they go out without a colour (code 0, RGB 0), which BL
/// accepts as the older players' default green.
fn hot_cue_color(color_id: u8) -> [u8; 4] {
    match color_id {
        1 => [0x31, 0xde, 0x44, 0xcf], // pink: magenta
        5 => [0x16, 0x28, 0xe2, 0x14], // green
        6 => [0x09, 0x00, 0xe0, 0xff], // aqua
        7 => [0x01, 0x30, 0x5a, 0xff], // blue
        8 => [0x38, 0x84, 0x32, 0xff], // purple: violet
        _ => [0, 0, 0, 0],
    }
}

/// The extended (nxs2) list: every cue, positions in ms, colours and comments.
pub fn extended_cue_list(tx: u32, t: &Track) -> Message {
    let list = ExtendedCues {
        cues: t
            .cues
            .iter()
            .map(|c| ExtendedCue {
                cue: Cue {
                    hot_cue: c.hot_cue,
                    is_loop: c.loop_end_ms.is_some(),
                    position: c.position_ms,
                    loop_end: c.loop_end_ms,
                },
                color_id: c.color_id,
                comment: c.comment.clone(),
                hot_cue_color: (c.hot_cue != 0).then(|| hot_cue_color(c.color_id)),
            })
            .collect(),
    };
    let count = list.cues.len() as u32;
    blob(0x4e02, 0x2b04, list.to_bytes(), vec![count]).to_message(tx)
}

pub fn waveform_preview(tx: u32, t: &Track) -> Message {
    let preview = WaveformPreview::from_columns(t.waveform_preview().to_vec());
    blob(0x4402, 0x2004, preview.to_bytes(), Vec::new()).to_message(tx)
}

pub fn waveform_detail(tx: u32, t: &Track) -> Message {
    let detail = WaveformDetail::from_columns(t.waveform_detail().to_vec());
    blob(0x4a02, 0x2904, detail.to_bytes(), Vec::new()).to_message(tx)
}
