//! `read -w FILE`: the frames of the records shown, as pcapng, the way a user cuts a capture
//! down before replaying or sharing it.
//!
//! The first pass (the normal read) marks the frame numbers of the records shown, after the
//! filter and `-c`; a second pass over the input copies those frames, whole and with their
//! own time and link type, into the new file. A TCP message is marked at the frame that
//! carried its last byte, as tshark's `-Y ... -w` keeps the frame where reassembly completed.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use crate::capture::writer::PcapNgWriter;
use crate::capture::CaptureReader;

/// Frame numbers, one bit each (a million frames cost 125 KiB).
#[derive(Debug, Default)]
pub struct FrameSet {
    bits: Vec<u64>,
    count: u64,
}

impl FrameSet {
    pub fn insert(&mut self, frame: u64) {
        let (word, bit) = ((frame / 64) as usize, frame % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.count += 1;
        }
    }

    pub fn contains(&self, frame: u64) -> bool {
        self.bits
            .get((frame / 64) as usize)
            .is_some_and(|w| w & (1 << (frame % 64)) != 0)
    }

    pub fn len(&self) -> u64 {
        self.count
    }
}

/// Copy the frames in `frames` from `input` to `out` (already created, so that a path that
/// cannot be written is reported before reading). Returns the number of frames written.
pub fn write(input: &Path, frames: &FrameSet, out: File) -> io::Result<u64> {
    let mut reader = CaptureReader::open(input).map_err(io::Error::other)?;
    let mut w = PcapNgWriter::new(BufWriter::new(out), "djdissect read -w")?;
    // Input interface -> (link type, interface in the new file); created when first used.
    let mut interfaces: Vec<(u32, crate::capture::LinkType, u32)> = Vec::new();
    let mut written = 0;
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // Damage was reported by the first pass; what could be read is copied.
            Err(e) if e.is_resumable() => continue,
            Err(_) => break,
        };
        if !frames.contains(frame.number) {
            continue;
        }
        let id = match interfaces
            .iter()
            .find(|(i, l, _)| *i == frame.interface && *l == frame.link_type)
        {
            Some((_, _, id)) => *id,
            None => {
                let name = format!("interface {}", frame.interface);
                let id = w.add_interface(frame.link_type, &name, 9)?;
                interfaces.push((frame.interface, frame.link_type, id));
                id
            }
        };
        w.write_packet(id, frame.ts_ns, frame.data)?;
        written += 1;
        if written == frames.len() {
            break;
        }
    }
    w.into_inner()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::FrameSet;

    #[test]
    fn frame_set() {
        let mut s = FrameSet::default();
        for f in [1, 64, 65, 1_000_000, 64] {
            s.insert(f);
        }
        assert_eq!(s.len(), 4);
        assert!(s.contains(1) && s.contains(64) && s.contains(65) && s.contains(1_000_000));
        assert!(!s.contains(0) && !s.contains(2) && !s.contains(2_000_000));
    }
}
