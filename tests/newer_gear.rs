//! Issue 11's answers end to end, through `read` as a user runs it: newer gear's kinds named in
//! the line, the JSON and `-V`; an undescribed kind with its header; a length that claims too
//! much (malformed) or too little (a note); values no device sends flagged, not printed. The
//! capture is written here with the project's pcapng writer from packets built from their
//! documented layouts (no real bytes of these kinds are public).

use djdissect::capture::writer::PcapNgWriter;
use djdissect::capture::LinkType;
use djdissect::prodjlink::{
    BinaryDataReply, CdjStatus, OpaqueStatus, PrecisePosition, RekordboxLink,
};

mod common;

/// UDP datagrams (source address, destination port, payload) as an Ethernet pcapng file.
fn capture(datagrams: &[([u8; 4], u16, Vec<u8>)]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".pcapng")
        .tempfile()
        .unwrap();
    let mut w = PcapNgWriter::new(file.reopen().unwrap(), "newer_gear test").unwrap();
    let i = w.add_interface(LinkType::Ethernet, "eth0", 9).unwrap();
    for (n, (src, port, payload)) in datagrams.iter().enumerate() {
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(*src, [169, 254, 255, 255], 64)
            .udp(50002, *port);
        let mut frame = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut frame, payload).unwrap();
        w.write_packet(i, 1_790_000_000_000_000_000 + n as i128 * 1_000_000, &frame)
            .unwrap();
    }
    w.into_inner().unwrap();
    file
}

fn lines_of(path: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["read", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, out, err) = common::run(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn newer_gear_and_doubtful_values_through_read() {
    let rekordbox = [169, 254, 185, 63];
    let cdj = [169, 254, 7, 185];
    let mut position = PrecisePosition::new("CDJ-3000X", 1, 1_500_000_000, 61_234, 0.0, None);
    position.pitch = -900_000_000;
    let art = BinaryDataReply::new("OPUS-QUAD", 9, 2, 7, 1, 3, vec![0xff; 124 - 0x34]);
    let mut art = art.to_bytes();
    art[0x22..0x24].copy_from_slice(&1384u16.to_be_bytes());
    let mut declares_zero = OpaqueStatus::new(0x1a, "CDJ-3000X", 0, 1, vec![0; 12]).to_bytes();
    declares_zero[0x22..0x24].copy_from_slice(&[0, 0]);
    let path = capture(&[
        (
            rekordbox,
            50002,
            RekordboxLink::config_request(0x11, [1; 32]).to_bytes(),
        ),
        (
            cdj,
            50002,
            RekordboxLink::player_notify("CDJ-3000X", 1, [0; 8]).to_bytes(),
        ),
        (cdj, 50002, CdjStatus::cdj3000x(1).to_bytes()),
        (
            cdj,
            50002,
            OpaqueStatus::new(0x7f, "XDJ-AZ", 0, 2, vec![9; 12]).to_bytes(),
        ),
        (cdj, 50001, position.to_bytes()),
        (cdj, 50002, art),
        (cdj, 50002, declares_zero),
    ]);
    let text = lines_of(path.path(), &[]);
    let find = |what: &str| {
        text.iter()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}:\n{}", text.join("\n")))
            .clone()
    };
    assert!(find("rekordbox_config_request").contains("rekordbox config request"));
    assert!(find("player_rekordbox_notify").contains("CDJ-3000X"));
    assert!(find("cdj_status").contains("CDJ-3000X"));
    let unknown = find("undescribed kind 7f");
    assert!(
        unknown.contains("XDJ-AZ") && unknown.contains("#2"),
        "{unknown}"
    );
    let pos = find("precise_position");
    assert!(
        pos.contains("[implausible: track_length_s, pitch]"),
        "{pos}"
    );
    assert!(!pos.contains("-9000000"), "{pos}");
    let art = find("binary_data_reply");
    assert!(
        art.contains("MALFORMED: length field claims 1384 bytes, the datagram holds 124"),
        "{art}"
    );
    assert!(find("load_track_ack").contains("(12 bytes beyond the 36 its length field counts)"));

    let json = lines_of(path.path(), &["--format", "json"]);
    let records: Vec<serde_json::Value> = json
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |t: &str| records.iter().find(|r| r["type"] == t).unwrap().clone();
    assert_eq!(of("rekordbox_config_request")["device"], 0x11);
    assert_eq!(of("unknown")["name"], "XDJ-AZ");
    assert_eq!(of("unknown")["device"], 2);
    assert_eq!(
        of("precise_position")["fields"]["implausible"],
        "track_length_s, pitch"
    );
    assert_eq!(
        of("load_track_ack")["fields"]["length_note"],
        "12 bytes beyond the 36 its length field counts"
    );
    assert!(of("binary_data_reply")["malformed"].is_string());
    assert_eq!(of("cdj_status")["fields"]["playing_flag"], false);

    let detail = lines_of(path.path(), &["-V"]).join("\n");
    assert!(detail.contains("settings_marker"), "{detail}");
    assert!(
        detail.contains("implausible: a track longer than a day"),
        "{detail}"
    );
}
