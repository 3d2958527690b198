//! sc6000_boot.pcap decoded as stagelinq.md section 3 describes it: the 74 discovery datagrams
//! with their identities, the six announced services, every StateMap path and value of the
//! table in 3.5, all 440 BeatInfo beats at 121.975 BPM, and nothing malformed or unknown.

mod common;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use djdissect::capture::CaptureReader;
use djdissect::dissect::{Proto, Value};
use djdissect::engine::{Engine, EngineOptions};

struct Rec {
    frame: u64,
    ty: String,
    fields: Vec<(String, Value)>,
}

impl Rec {
    fn get(&self, n: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == n).map(|(_, v)| v)
    }
    fn text(&self, n: &str) -> String {
        self.get(n).map(|v| v.to_string()).unwrap_or_default()
    }
}

fn records() -> Option<Vec<Rec>> {
    let dir = common::shared_captures("sc6000_boot_as_documented")?;
    let mut r = CaptureReader::open(&dir.join("sc6000_boot.pcap")).unwrap();
    let mut e = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    let mut sink = |rec: &djdissect::record::Record<'_>| {
        assert_eq!(rec.dissection.proto, Proto::StageLinq);
        assert!(
            rec.dissection.malformed.is_none(),
            "frame {}: {:?}",
            rec.frame,
            rec.dissection.malformed
        );
        assert_ne!(rec.dissection.type_name, "unknown", "frame {}", rec.frame);
        out.push(Rec {
            frame: rec.frame,
            ty: rec.dissection.type_name.to_string(),
            fields: rec
                .dissection
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.value.clone()))
                .collect(),
        });
        ControlFlow::Continue(())
    };
    while let Some(f) = r.next_frame().unwrap() {
        let _ = e.frame(&f, &mut sink);
    }
    let _ = e.finish(&mut sink);
    Some(out)
}

#[test]
fn sc6000_boot_as_documented() {
    let Some(recs) = records() else { return };
    // 3.2 / 3.3: 74 discovery datagrams, 23 + 17 + 17 + 17 by identity.
    let mut ids: BTreeMap<(String, String, String, String), u32> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.ty == "discovery") {
        let key = (
            r.text("device_name"),
            r.text("software"),
            r.text("version"),
            r.text("port"),
        );
        *ids.entry(key).or_default() += 1;
    }
    let k = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(
        ids,
        BTreeMap::from([
            (k("DN-X1800Prime", "JM08", "1.00", "50010"), 23),
            (k("sc6000", "JP13", "2.3.1", "42923"), 17),
            (k("sc6000", "OfflineAnalyzer", "1.0.0", "41339"), 17),
            (k("sc6000", "OfflineAnalyzer", "1.0.0", "46815"), 17),
        ])
    );
    // 3.4: the six announced services and the directory's messages.
    let mut services: Vec<(String, String)> = recs
        .iter()
        .filter(|r| r.ty == "service_announcement")
        .map(|r| (r.text("service"), r.text("port")))
        .collect();
    services.sort();
    let want = [
        ("BeatInfo", "42919"),
        ("Broadcast", "46863"),
        ("FileTransfer", "33383"),
        ("StateMap", "38631"),
        ("Syncing", "40285"),
        ("TimeSynchronization", "42865"),
    ];
    assert_eq!(services, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let count = |t: &str| recs.iter().filter(|r| r.ty == t).count();
    assert_eq!(count("services_request"), 2);
    assert_eq!(count("reference"), 26);
    assert_eq!(count("service_hello"), 2);
    // 3.5: the StateMap values and writes, in wire order (frame, path, JSON value).
    let values: Vec<(u64, String, String)> = recs
        .iter()
        .filter(|r| r.ty == "statemap_value" || r.ty == "statemap_set")
        .map(|r| {
            (
                r.frame,
                r.text("path"),
                r.get("value")
                    .map(|v| v.to_json_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let num = |v: &str| format!(r#"{{"type":0,"value":{v}}}"#);
    let state = |b: bool| format!(r#"{{"state":{b},"type":1}}"#);
    let string = |s: &str, t: u8| format!(r#"{{"string":"{s}","type":{t}}}"#);
    let want: Vec<(u64, &str, String)> = vec![
        (
            91,
            "/Engine/Deck1/Track/CurrentBPM",
            num("121.9754638671875"),
        ),
        (
            96,
            "/Engine/Deck2/Track/CurrentBPM",
            num("121.9754638671875"),
        ),
        (
            104,
            "/Client/Preferences/PlayerJogColorA",
            r##"{"color":"#ffea2828","type":16}"##.to_string(),
        ),
        (
            113,
            "/Client/Preferences/PlayerJogColorB",
            r##"{"color":"#ff1cd2e5","type":16}"##.to_string(),
        ),
        (117, "/Engine/Deck1/DeckIsMaster", state(false)),
        (122, "/Engine/Deck2/DeckIsMaster", state(false)),
        (126, "/Engine/Deck1/PlayState", state(false)),
        (137, "/Engine/Deck2/PlayState", state(false)),
        (145, "/Client/Preferences/LayerB", state(true)),
        (152, "/Engine/Sync/Network/MasterStatus", state(false)),
        (160, "/Engine/Deck1/Track/LoopEnableState", state(false)),
        (163, "/Engine/Deck2/Track/LoopEnableState", state(false)),
        (174, "/Engine/Master/MasterTempo", num("132.935546875")),
        (
            178,
            "/Mixer/NumberOfChannels",
            r#"{"type":10,"value":4}"#.to_string(),
        ),
        (
            180,
            "/Mixer/ChannelAssignment1",
            string("{8fba5ced-9381-4d5c-b334-5bf935b8e49e},2", 8),
        ),
        (
            182,
            "/Mixer/ChannelAssignment2",
            string("{8fba5ced-9381-4d5c-b334-5bf935b8e49e},1", 8),
        ),
        (182, "/Mixer/ChannelAssignment3", string(",1", 8)),
        (182, "/Mixer/ChannelAssignment4", string(",1", 8)),
        (194, "/Client/Preferences/Player", string("1", 4)),
        // The mixer writes 0.00; the JSON value is the number 0.
        (194, "/Engine/Deck2/ExternalMixerVolume", num("0.0")),
        (194, "/Engine/Deck1/ExternalMixerVolume", num("0.0")),
        (201, "/Engine/Deck1/ExternalMixerVolume", num("0.0")),
    ];
    let want: Vec<(u64, String, String)> = want
        .into_iter()
        .map(|(f, p, v)| (f, p.to_string(), v))
        .collect();
    assert_eq!(values, want);
    // 18 subscriptions (13 by the mixer, 5 by the SC6000) over 21 distinct paths in all.
    assert_eq!(count("statemap_subscribe"), 18);
    let paths: std::collections::BTreeSet<String> = recs
        .iter()
        .filter(|r| r.ty.starts_with("statemap"))
        .map(|r| r.text("path"))
        .collect();
    assert_eq!(paths.len(), 21);
    // 3.6: 440 beats, two decks each at 121.975 BPM, clock from 35,457,982,683 to 50,726,048,149.
    let beats: Vec<&Rec> = recs.iter().filter(|r| r.ty == "beat_info").collect();
    assert_eq!(beats.len(), 440);
    assert_eq!(count("beat_info_start"), 1);
    for b in &beats {
        let Some(Value::List(decks)) = b.get("decks") else {
            panic!("frame {}", b.frame)
        };
        assert_eq!(decks.len(), 2);
        for d in decks {
            let Value::Obj(items) = d else { panic!() };
            let bpm = items
                .iter()
                .find(|(k, _)| k == "bpm")
                .and_then(|(_, v)| v.as_f64())
                .unwrap();
            assert!((bpm - 121.975).abs() < 0.001, "frame {}: {bpm}", b.frame);
        }
    }
    assert_eq!(
        beats[0].get("clock").and_then(Value::as_u64),
        Some(35_457_982_683)
    );
    assert_eq!(
        beats[439].get("clock").and_then(Value::as_u64),
        Some(50_726_048_149)
    );
    assert_eq!((beats[0].frame, beats[439].frame), (70, 1143));
    // Absent (3.7): FileTransfer, TimeSync, Broadcast, Syncing.
    for t in ["file_transfer", "time_sync", "broadcast", "syncing"] {
        assert_eq!(count(t), 0, "{t}");
    }
}
