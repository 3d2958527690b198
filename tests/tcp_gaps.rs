//! TCP reassembly end to end (prodjlink.md 7, crates-and-conventions.md 2.1): a dbserver
//! conversation with a lost segment and out-of-order delivery, on a port only the port query
//! names. The loss is reported as a gap, decoding resumes at the next message, segments
//! arriving out of order are put back in order, and answers stay paired with their requests.

mod common;

use std::ops::ControlFlow;

use djdissect::capture::CaptureReader;
use djdissect::dbserver::requests::{Dmst, MetadataRequest};
use djdissect::dbserver::responses::MenuAvailable;
use djdissect::dbserver::{Greeting, PortAnswer, PortQuery};
use djdissect::dissect::Value;
use djdissect::engine::{Engine, EngineOptions};

/// (type, frame, request_frame, malformed, lost_bytes) of each record.
type Seen = (String, u64, Option<u64>, Option<String>, Option<u64>);

fn records(bytes: Vec<u8>) -> Vec<Seen> {
    let mut r = CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        out.push((
            rec.dissection.type_name.to_string(),
            rec.frame,
            rec.extra("request_frame").and_then(Value::as_u64),
            rec.dissection.malformed.clone(),
            rec.dissection.field("lost_bytes").and_then(Value::as_u64),
        ));
        ControlFlow::Continue(())
    };
    while let Some(f) = r.next_frame().unwrap() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    out
}

fn request(tx: u32, id: u32) -> Vec<u8> {
    let dmst = Dmst {
        player: 3,
        menu: 1,
        slot: 3,
        track_type: 1,
    };
    MetadataRequest {
        dmst,
        rekordbox_id: id,
    }
    .to_message(tx)
    .to_bytes()
}

fn answer(tx: u32) -> Vec<u8> {
    MenuAvailable {
        request_type: 0x2002,
        count: 10,
    }
    .to_message(tx)
    .to_bytes()
}

#[test]
fn a_lost_segment_is_a_gap_and_decoding_resumes() {
    const DB_PORT: u16 = 40_001;
    let client = [169, 254, 1, 3];
    let server = [169, 254, 1, 2];
    // The port query names an unusual dbserver port; the engine must take the answer.
    let mut q = common::tcp::Conversation::new((client, 50_200), (server, 12523));
    q.send(true, &PortQuery::default().to_bytes());
    q.send(false, &PortAnswer { port: DB_PORT }.to_bytes());
    let mut frames = q.finish();
    let mut c = common::tcp::Conversation::new((client, 50_201), (server, DB_PORT));
    c.send(true, &Greeting::default().to_bytes());
    c.send(false, &Greeting::default().to_bytes());
    c.send(true, &request(1, 50));
    c.send(false, &answer(1));
    // This request never reaches the capture: a gap of its length.
    let lost = request(2, 51);
    c.lose(true, &lost);
    c.send(false, &answer(2));
    // The next request arrives in two segments, the second before the first.
    let third = request(3, 52);
    c.hold(true, &third[..10]);
    c.send(true, &third[10..]);
    c.release();
    c.send(false, &answer(3));
    let conversation = c.finish();
    // Two captures in one: append the second file's blocks after the first's section header.
    frames.extend_from_slice(&conversation);
    let recs = records(frames);
    let types: Vec<&str> = recs.iter().map(|r| r.0.as_str()).collect();
    assert!(recs.iter().all(|r| r.3.is_none()), "{recs:?}");
    assert_eq!(
        types,
        [
            "port_query",
            "port_answer",
            "greeting",
            "greeting",
            "metadata_request",
            "menu_available",
            "menu_available",
            "gap",
            "metadata_request",
            "menu_available"
        ],
        "{recs:?}"
    );
    let gap = recs.iter().find(|r| r.0 == "gap").unwrap();
    assert_eq!(gap.4, Some(lost.len() as u64));
    // Answers are paired with their requests; the answer to the lost request has none.
    let req1 = recs[4].1;
    assert_eq!(recs[5].2, Some(req1));
    assert_eq!(recs[6].2, None);
    assert_eq!(recs[9].2, Some(recs[8].1));
}
