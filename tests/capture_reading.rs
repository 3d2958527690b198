//! Capture files: formats, byte orders, interfaces and link types read as the README promises.

mod common;

use djdissect::capture::{CaptureReader, Format, LinkType};

fn count(path: &std::path::Path) -> (Format, u64, Vec<LinkType>, i128) {
    let mut r = CaptureReader::open(path).unwrap();
    let fmt = r.format();
    let mut n = 0;
    let mut links = Vec::new();
    let mut first = None;
    while let Some(f) = r.next_frame().unwrap() {
        n += 1;
        assert_eq!(f.number, n);
        first.get_or_insert(f.ts_ns);
        if !links.contains(&f.link_type) {
            links.push(f.link_type);
        }
    }
    (fmt, n, links, first.unwrap_or(0))
}

#[test]
fn real_captures_have_the_documented_frame_counts() {
    let Some(dir) = common::shared_captures("real_captures_have_the_documented_frame_counts")
    else {
        return;
    };
    for (name, fmt, frames) in [
        ("powerup.pcapng", Format::PcapNg, 437),
        ("to-virtual.pcapng", Format::PcapNg, 162),
        ("LinkInfo.pcapng", Format::PcapNg, 1410),
        ("sc6000_boot.pcap", Format::Pcap, 1143),
        // pcapng files named .pcap are detected by magic. Counts from capinfos.
        ("usr-ein-S01-cold-boot-a.pcap", Format::Pcap, 75),
        ("usr-ein-S02-deck-b-joins.pcap", Format::Pcap, 163),
        ("usr-ein-S04-media-insert.pcap", Format::Pcap, 2597),
        ("usr-ein-S05-link-browse.pcap", Format::PcapNg, 3400),
        ("usr-ein-S10b-serve-to-cdj.pcap", Format::Pcap, 582),
        ("usr-ein-S10j-serve-to-cdj.pcap", Format::Pcap, 3021),
        ("usr-ein-S16a-settings-over-link.pcap", Format::PcapNg, 605),
        (
            "usr-ein-S26-initialization-both-auto.pcap",
            Format::PcapNg,
            453,
        ),
    ] {
        let (f, n, links, _) = count(&dir.join(name));
        assert_eq!(f, fmt, "{name}");
        assert_eq!(n, frames, "{name}");
        assert_eq!(links, vec![LinkType::Ethernet], "{name}");
    }
}

#[test]
fn big_endian_microsecond_timestamps_are_exact() {
    let Some(dir) = common::shared_captures("big_endian_microsecond_timestamps_are_exact") else {
        return;
    };
    let (_, _, _, first) = count(&dir.join("sc6000_boot.pcap"));
    // capinfos: first packet 2017-07-14 01:00:58.466175 UTC.
    assert_eq!(first, 1_499_994_058_466_175_000);
}
