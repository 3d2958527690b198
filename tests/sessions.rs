//! Sessions: snapshots of --summary (text and JSON) and --timeline for every capture, and facts
//! asserted from the real captures.

mod common;

use djdissect::session::report;

#[test]
fn summary_and_timeline_of_every_capture() {
    let settings = common::insta_settings();
    settings.bind(|| {
        for path in common::all_captures("summary_and_timeline_of_every_capture") {
            let s = common::session_of(&path);
            insta::assert_snapshot!(
                common::snapshot_name("summary", &path),
                report::summary_text(&s, 140)
            );
            let json = serde_json::to_string_pretty(&report::summary_json(&s)).unwrap();
            insta::assert_snapshot!(common::snapshot_name("summary-json", &path), json);
            insta::assert_snapshot!(
                common::snapshot_name("timeline", &path),
                report::timeline_text(&s)
            );
        }
    });
}

/// The session reads typed values parsed from the bytes, never the dissection's field list:
/// with every record's fields removed, or never built (the head-only depth `--summary` reads
/// at), it tells exactly the same story.
#[test]
fn the_session_tells_the_same_story_without_the_field_list() {
    use djdissect::dissect::Depth;
    const { assert!(!djdissect::session::Session::NEEDS_FIELDS) };
    for path in common::all_captures("the_session_tells_the_same_story_without_the_field_list") {
        let with = common::session_of_records(&path, Depth::Fields, false);
        assert!(with.records > 0, "{}: no records", path.display());
        for (how, without) in [
            (
                "fields cleared",
                common::session_of_records(&path, Depth::Fields, true),
            ),
            (
                "head only",
                common::session_of_records(&path, Depth::Head, false),
            ),
            (
                "identity only",
                common::session_of_records(&path, Depth::Identity, false),
            ),
        ] {
            let name = format!("{} ({how})", path.display());
            assert_eq!(
                serde_json::to_string_pretty(&report::summary_json(&with)).unwrap(),
                serde_json::to_string_pretty(&report::summary_json(&without)).unwrap(),
                "{name}: summary JSON"
            );
            assert_eq!(
                report::timeline_text(&with),
                report::timeline_text(&without),
                "{name}: timeline"
            );
            assert_eq!(
                report::summary_text(&with, 140),
                report::summary_text(&without, 140),
                "{name}: summary text"
            );
            assert_eq!(
                report::conversations_text(&with),
                report::conversations_text(&without),
                "{name}: conversations"
            );
            assert_eq!(
                with.now_playing.current, without.now_playing.current,
                "{name}: now playing"
            );
        }
    }
}

#[test]
fn conversations_of_the_dbserver_captures() {
    let Some(dir) = common::shared_captures("conversations") else {
        return;
    };
    let settings = common::insta_settings();
    settings.bind(|| {
        for name in [
            "LinkInfo.pcapng",
            "usr-ein-S05-link-browse.pcap",
            "usr-ein-S10j-serve-to-cdj.pcap",
        ] {
            let s = common::session_of(&dir.join(name));
            let text = report::conversations_text(&s);
            // A page is a window of the menu it renders: "from OFFSET of TOTAL" with the
            // offset inside the total (issue 11: S05 frame 711 said "from 12 of 9" when the
            // render was paired with the wrong menu).
            for line in text.lines() {
                if let Some(rest) = line.split(" (from ").nth(1) {
                    let nums: Vec<u64> = rest
                        .split([' ', ')'])
                        .filter_map(|w| w.parse().ok())
                        .take(2)
                        .collect();
                    assert!(nums.len() < 2 || nums[0] < nums[1], "{name}: {line}");
                }
            }
            insta::assert_snapshot!(format!("conversations@{name}"), text);
        }
    });
}

#[test]
fn powerup_has_the_mixer_and_two_players_and_claims_in_order() {
    let Some(dir) = common::shared_captures("powerup_facts") else {
        return;
    };
    let s = common::session_of(&dir.join("powerup.pcapng"));
    let devs: Vec<(String, u32, String, &str)> = s
        .devices
        .devices
        .values()
        .map(|d| {
            (
                d.ip.to_string(),
                d.device,
                d.name.clone().unwrap_or_default(),
                d.role,
            )
        })
        .collect();
    assert_eq!(
        devs,
        vec![
            ("172.16.42.3".into(), 33, "DJM-2000nexus".into(), "mixer"),
            ("172.16.42.4".into(), 3, "CDJ-2000nexus".into(), "player"),
            ("172.16.42.5".into(), 2, "CDJ-2000nexus".into(), "player"),
        ]
    );
    // The power-up claims, in order: each device's hellos, then its claim stages.
    let steps: Vec<(String, String, Option<u64>)> = s
        .devices
        .claims
        .iter()
        .map(|c| (c.ip.to_string(), c.step.clone(), c.number))
        .collect();
    let order: Vec<&str> = steps.iter().map(|(ip, _, _)| ip.as_str()).collect();
    let first = |ip: &str| order.iter().position(|x| *x == ip).unwrap();
    assert!(
        first("172.16.42.3") < first("172.16.42.4") && first("172.16.42.4") < first("172.16.42.5")
    );
    let of = |ip: &str| -> Vec<(String, Option<u64>)> {
        steps
            .iter()
            .filter(|(i, _, _)| i == ip)
            .map(|(_, s, n)| (s.clone(), *n))
            .collect()
    };
    let mixer = of("172.16.42.3");
    assert_eq!(mixer.len(), 12);
    assert!(mixer[..3].iter().all(|(s, _)| s == "hello"));
    assert!(mixer[3..6]
        .iter()
        .all(|(s, _)| s.starts_with("claim stage 1")));
    assert!(mixer[6..9]
        .iter()
        .all(|(s, n)| s.starts_with("claim stage 2") && *n == Some(33)));
    assert!(mixer[9..]
        .iter()
        .all(|(s, n)| s.starts_with("claim stage 3") && *n == Some(33)));
    assert_eq!(
        of("172.16.42.4").last().unwrap(),
        &("claim stage 3 (final)".to_string(), Some(3))
    );
    assert_eq!(
        of("172.16.42.5").last().unwrap(),
        &("claim stage 3 (final)".to_string(), Some(2))
    );
}

#[test]
fn automatic_numbering_in_s26_gives_each_deck_its_number() {
    let Some(dir) = common::shared_captures("s26_facts") else {
        return;
    };
    let s = common::session_of(&dir.join("usr-ein-S26-initialization-both-auto.pcap"));
    let finals: Vec<(String, Option<u64>)> = s
        .devices
        .claims
        .iter()
        .filter(|c| c.step.starts_with("claim stage 3"))
        .map(|c| (c.ip.to_string(), c.number))
        .collect();
    assert!(finals
        .iter()
        .filter(|(ip, _)| ip == "169.254.202.84")
        .all(|(_, n)| *n == Some(2)));
    assert!(finals
        .iter()
        .filter(|(ip, _)| ip == "169.254.103.172")
        .all(|(_, n)| *n == Some(1)));
    let numbers: Vec<(String, u32)> = s
        .devices
        .devices
        .values()
        .map(|d| (d.ip.to_string(), d.device))
        .collect();
    assert_eq!(
        numbers,
        vec![("169.254.103.172".into(), 1), ("169.254.202.84".into(), 2)]
    );
    // The 90 broadcasts on 50000 are in the file twice (two interfaces) but counted once.
    assert_eq!(s.duplicates, 45);
    let held = s
        .devices
        .claims
        .iter()
        .find(|c| c.step == "number held")
        .unwrap();
    assert_eq!(
        (held.ip.to_string(), held.number),
        ("169.254.103.172".into(), Some(1))
    );
}

#[test]
fn linkinfo_lookup_names_the_track() {
    let Some(dir) = common::shared_captures("linkinfo_facts") else {
        return;
    };
    let s = common::session_of(&dir.join("LinkInfo.pcapng"));
    let title = "Thing Called Love (Mat Zo Remix) [feat. Richard Bedford]";
    let p2 = s.players.players.values().find(|p| p.device == 2).unwrap();
    let ev = p2
        .events
        .iter()
        .find(|e| e.event == "track_identified")
        .unwrap();
    assert!(
        ev.text.contains(title) && ev.text.contains("Above & Beyond"),
        "{}",
        ev.text
    );
    let info = s
        .tracks
        .iter()
        .find(|(k, _)| k.rekordbox_id == 50)
        .unwrap()
        .1;
    assert_eq!(info.title.as_deref(), Some(title));
    assert_eq!(info.bpm, Some(128.0));
    assert_eq!(info.duration_s, Some(512));
    let db = s
        .dbserver
        .values()
        .find(|d| d.server.ends_with(":1051"))
        .unwrap();
    assert_eq!((db.requests, db.answers, db.errors), (10, 10, 0));
    assert!(db
        .exchanges
        .iter()
        .any(|e| e.text.contains("for the metadata of rekordbox track 50")));
}

#[test]
fn sc6000_boot_has_both_devices_their_services_and_deck_state() {
    let Some(dir) = common::shared_captures("sc6000_facts") else {
        return;
    };
    let s = common::session_of(&dir.join("sc6000_boot.pcap"));
    let devs: Vec<(String, Option<String>, Option<String>)> = s
        .devices
        .devices
        .values()
        .map(|d| (d.ip.to_string(), d.name.clone(), d.firmware.clone()))
        .collect();
    assert!(
        devs.contains(&(
            "169.254.69.199".into(),
            Some("sc6000".into()),
            Some("2.3.1".into())
        )),
        "{devs:?}"
    );
    assert!(
        devs.contains(&(
            "169.254.128.36".into(),
            Some("DN-X1800Prime".into()),
            Some("1.00".into())
        )),
        "{devs:?}"
    );
    let player = &s.stagelinq.devices[&"169.254.69.199".parse().unwrap()];
    let services: Vec<(&str, u16)> = player
        .services
        .iter()
        .map(|(n, p)| (n.as_str(), *p))
        .collect();
    assert_eq!(
        services,
        vec![
            ("BeatInfo", 42919),
            ("Broadcast", 46863),
            ("FileTransfer", 33383),
            ("StateMap", 38631),
            ("Syncing", 40285),
            ("TimeSynchronization", 42865)
        ]
    );
    for deck in [1, 2] {
        let st = &player.decks[&deck];
        assert!((st.bpm.unwrap() - 121.975).abs() < 0.01, "{st:?}");
        assert!((st.beatinfo_bpm.unwrap() - 121.975).abs() < 0.01, "{st:?}");
    }
    let mixer = &s.stagelinq.devices[&"169.254.128.36".parse().unwrap()];
    assert!(mixer
        .subscriptions
        .contains_key("/Engine/Deck1/Track/CurrentBPM"));
}
