//! `djdissect tcp-streams FILE`: per TCP connection, the bytes the reassembler delivered in each
//! direction (`client server bytes_c2s bytes_s2c`); `scripts/tcp-crosscheck` compares it with
//! tshark's "Follow TCP stream".

use std::io::{self, Write};
use std::path::Path;

use crate::capture::CaptureReader;
use crate::net::tcp_reassembly::{Limits, Reassembler, StreamTally};
use crate::net::{NetDecoder, Transport};

pub fn run(file: &Path) -> i32 {
    let name = file.display();
    let mut reader = match CaptureReader::open(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("djdissect: {name}: {e}");
            return if e.offset().is_some() { 1 } else { 2 };
        }
    };
    let mut net = NetDecoder::default();
    let mut reasm = Reassembler::new(Limits::default()).with_server_ports(&[12523, 1051]);
    let mut tally = StreamTally::default();
    let mut status = 0;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                let _ = net.decode(&frame, |t| {
                    if let Transport::Tcp(s) = t {
                        reasm.segment(&s, &mut |ev| tally.record(&ev));
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("djdissect: {name}: {e}");
                status = 1;
                if !e.is_resumable() {
                    break;
                }
            }
        }
    }
    reasm.finish(&mut |ev| tally.record(&ev));
    let mut out = io::stdout().lock();
    for line in tally.lines() {
        if writeln!(out, "{line}").is_err() {
            return 0;
        }
    }
    status
}
