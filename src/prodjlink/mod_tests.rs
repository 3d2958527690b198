//! Dispatch by (port, kind) and the properties every kind must have: no panic on any bytes,
//! dissections that cover the packet, parse and dissect agreeing on truncation, exact round trip.

use std::net::Ipv4Addr;

use super::*;
use crate::prodjlink::testutil::{assert_covers, check};

/// One built packet of every kind, with the port it goes to and the type name it must get.
fn samples() -> Vec<(u16, &'static str, Vec<u8>)> {
    let ip = Ipv4Addr::new(169, 254, 1, 2);
    let mac = [0x74, 0x5e, 0x1c, 1, 2, 3];
    let peer = PeerHeader::to_stagehand("CDJ-3000");
    let opaque = |kind| OpaqueStatus::new(kind, "CDJ-3000", 0, 3, vec![1, 2, 3, 4]).to_bytes();
    let frame = |kind, len: usize| PeerFrame::new(kind, peer, vec![0; len - 0x20]).to_bytes();
    vec![
        (50000, "hello", Hello::cdj3000("CDJ-3000").to_bytes()),
        (
            50000,
            "claim_mac",
            ClaimMac::new("CDJ-3000", 1, 1, mac).to_bytes(),
        ),
        (
            50000,
            "mixer_assign_intent",
            MixerAssignIntent::new("DJM-A9", ip, mac).to_bytes(),
        ),
        (
            50000,
            "claim_ip",
            ClaimIp::new("CDJ-3000", ip, mac, 5, 1, 1, false).to_bytes(),
        ),
        (
            50000,
            "mixer_assign",
            MixerAssign::new("DJM-A9", 2, 1).to_bytes(),
        ),
        (
            50000,
            "claim_final",
            ClaimFinal::new("CDJ-3000", 5, 1).to_bytes(),
        ),
        (
            50000,
            "assignment_finished",
            AssignmentFinished::new("CDJ-3000", 5, 1).to_bytes(),
        ),
        (
            50000,
            "keep_alive",
            KeepAlive::cdj3000("CDJ-3000", 5, mac, ip, 2).to_bytes(),
        ),
        (
            50000,
            "channel_conflict",
            ChannelConflict::new("CDJ-3000", 5, ip).to_bytes(),
        ),
        (
            50001,
            "beat",
            Beat::new("CDJ-3000", 5, 128.0, 0.0, 1).to_bytes(),
        ),
        (
            50001,
            "precise_position",
            PrecisePosition::new("CDJ-3000", 5, 300, 1, 0.0, None).to_bytes(),
        ),
        (
            50001,
            "fader_start",
            FaderStart::new("DJM-A9", 0x21, [2; 4]).to_bytes(),
        ),
        (
            50001,
            "channels_on_air",
            ChannelsOnAir::new("DJM-A9", 0x21, &[true; 4]).to_bytes(),
        ),
        (
            50001,
            "mixer_binding",
            OpaqueStatus::new(4, "DJM-A9", 0, 0x21, vec![0; 0x40]).to_bytes(),
        ),
        (
            50001,
            "master_handoff_request",
            MasterHandoffRequest::new("CDJ-3000", 2).to_bytes(),
        ),
        (
            50001,
            "master_handoff_response",
            MasterHandoffResponse::new("CDJ-3000", 1).to_bytes(),
        ),
        (
            50001,
            "sync_control",
            SyncControl::new("DJM-A9", 0x21, sync_command::SYNC_ON).to_bytes(),
        ),
        (
            50001,
            "stagehand_transport",
            StagehandTransport::new(peer, 0x0f, true).to_bytes(),
        ),
        (50001, "stagehand_telemetry", frame(0x0b, 68)),
        (50001, "stagehand_vu_meters", frame(0x58, 584)),
        (50001, "stagehand_heartbeat", frame(0x6a, 53)),
        (
            50002,
            "cdj_status",
            CdjStatus::new("CDJ-3000", 5, 0x200).to_bytes(),
        ),
        (
            50002,
            "mixer_status",
            MixerStatus::new("DJM-A9", 0x21, 128.0, true, 1).to_bytes(),
        ),
        (
            50002,
            "media_query",
            MediaQuery::new("CDJ-3000", 2, ip, 1, 3).to_bytes(),
        ),
        (
            50002,
            "media_response",
            MediaResponse::new("CDJ-3000", 1, 3, "USB", "2026-01-01").to_bytes(),
        ),
        (
            50002,
            "djm_file_list",
            DjmFileList::new("DJM-2000nexus", 0x21, 1, "A.WAV", "C:/A.WAV").to_bytes(),
        ),
        (50002, "lighting_hello", opaque(0x10)),
        (
            50002,
            "lighting_reply",
            LightingReply::new(LIGHTING_DEVICE, "host").to_bytes(),
        ),
        (50002, "lighting_mount", opaque(0x16)),
        (
            50002,
            "load_track",
            LoadTrack::new("rekordbox", 0x11, 1, (2, 3, 1), 7).to_bytes(),
        ),
        (50002, "load_track_ack", opaque(0x1a)),
        (50002, "load_track_refused", opaque(0x1c)),
        (50002, "kuvo_gateway_heartbeat", opaque(0x40)),
        (50002, "cue_points_changed", opaque(0x1d)),
        (
            50002,
            "load_settings",
            LoadSettings::new("rekordbox", 0x11, 1).to_bytes(),
        ),
        (
            50002,
            "device_settings_request",
            DeviceSettingsRequest::new("CDJ-3000", 2, 3).to_bytes(),
        ),
        (
            50002,
            "device_settings_reply",
            DeviceSettingsReply::new("CDJ-3000", 1, 2, 3, [0x81; 32]).to_bytes(),
        ),
        (
            50002,
            "stagehand_mixer_state",
            StagehandMixerState::new("DJM-A9", [ChannelState::centred(); 4], 0x80).to_bytes(),
        ),
        (
            50002,
            "stagehand_command",
            StagehandCommand::new("Stagehand", 0x21, 0xb1, 9).to_bytes(),
        ),
        (50002, "stagehand_short_heartbeat", frame(0x3b, 40)),
        (50002, "stagehand_track_metadata", frame(0x3d, 2572)),
        (
            50002,
            "binary_data_request",
            BinaryDataRequest::pssi(LIGHTING_DEVICE, 9, 1).to_bytes(),
        ),
        (
            50002,
            "binary_data_reply",
            BinaryDataReply::new("OPUS-QUAD", 9, 0x0a, 1, 0, 1, vec![1; 9]).to_bytes(),
        ),
        (
            50002,
            "stagehand_pref_write",
            StagehandPrefWrite::new(peer, 0x80, 0x80).to_bytes(),
        ),
        (50002, "stagehand_panel_heartbeat", frame(0x68, 68)),
        (50002, "stagehand_settings_snapshot", frame(0x69, 80)),
        (50002, "stagehand_device_list", frame(0x6c, 80)),
        (
            50004,
            "touch_audio_timing",
            TouchAudioTiming::new("DJM-A9", 0x21, 1, false, 0).to_bytes(),
        ),
        (
            50004,
            "touch_audio_data",
            TouchAudioData::new("CDJ-3000", 5, 1, true, None).to_bytes(),
        ),
        (
            50004,
            "touch_audio_handover",
            TouchAudioHandover::new("DJM-A9", 0x21).to_bytes(),
        ),
        (
            50002,
            "mixer_rekordbox_notify",
            RekordboxLink::mixer_notify("DJM-A9", 33).to_bytes(),
        ),
        (
            50002,
            "rekordbox_mixer_reply",
            RekordboxLink::mixer_reply(0x11, [0; 8]).to_bytes(),
        ),
        (
            50002,
            "player_config_reply",
            RekordboxLink::config_reply("CDJ-3000X", 1, [2, 4, 0, 0xa0]).to_bytes(),
        ),
        (
            50002,
            "rekordbox_config_request",
            RekordboxLink::config_request(0x11, [1; 32]).to_bytes(),
        ),
        (
            50002,
            "player_rekordbox_notify",
            RekordboxLink::player_notify("CDJ-3000X", 2, [0; 8]).to_bytes(),
        ),
        (50003, "unknown", opaque(0x0a)),
        (50000, "unknown", {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[0x0b, 0, 0]);
            b
        }),
    ]
}

#[test]
fn constants() {
    assert_eq!(&MAGIC, b"Qspt1WmJOL");
    assert_eq!(PORTS, [50000, 50001, 50002, 50003, 50004]);
    assert!(has_magic(b"Qspt1WmJOL\x06"));
    assert!(!has_magic(b"Qspt1WmJO"));
}

#[test]
fn every_kind_dispatches_by_port_and_kind() {
    for (port, name, b) in samples() {
        let d = check(port, &b);
        assert_eq!(d.type_name, name, "port {port}");
        assert_eq!(d.kind, Some(b[10] as u32));
        let p = Packet::parse(port, &b).unwrap();
        assert_eq!(p.port(), port, "{name}");
        assert_eq!(p.type_name(), name);
        assert!(!d.summary.is_empty(), "{name} has no summary");
    }
    // The same kind byte means different things on different ports (1.1).
    let status = CdjStatus::new("CDJ-3000", 2, 0xd4).to_bytes();
    assert_eq!(dissect(50002, &status, false).type_name, "cdj_status");
    assert_eq!(dissect(50000, &status, false).type_name, "hello");
    assert_eq!(dissect(50001, &status, false).type_name, "unknown");
}

/// xorshift64*: a fixed, dependency-free pseudo-random sequence.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Random bodies and lengths for every kind: no panic, full coverage, parse and dissect agree
/// on truncation, the head-only dissection agrees with the full one, and whatever parses emits
/// the same bytes.
#[test]
fn random_bytes_never_panic_and_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (port, name, sample) in samples() {
        for round in 0..300 {
            let len = match round % 3 {
                0 => (rng.next() % 0x30) as usize + 11,
                1 => (rng.next() % (sample.len() as u64 + 8)) as usize,
                _ => sample.len() + (rng.next() % 0x200) as usize,
            }
            .max(11);
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            b[..11].copy_from_slice(&sample[..11]);
            // Keep the byte that routes 0x0b on 50001, so both branches see random bodies.
            if let (Some(x), Some(&y)) = (b.get_mut(0x1e), sample.get(0x1e)) {
                if rng.next() % 2 == 0 {
                    *x = y;
                }
            }
            let d = dissect(port, &b, false);
            assert_covers(&dissect(port, &b, true), b.len());
            // The head-only dissection (and its shortcut for status packets) says the same.
            let h = dissect(port, &b, crate::dissect::Depth::Head);
            let head = |d: &crate::dissect::Dissection| {
                (d.kind, d.type_name.clone(), d.device, d.name.clone())
            };
            assert_eq!(head(&h), head(&d), "{name}: head at Depth::Head, len {len}");
            assert_eq!(
                h.summary, d.summary,
                "{name}: summary at Depth::Head, len {len}"
            );
            assert_eq!(h.malformed, d.malformed, "{name}: malformed at Depth::Head");
            assert!(h.fields.is_empty() && h.fields_json.is_empty());
            // Identity: the same, but status packets may leave the summary out.
            let i = dissect(port, &b, crate::dissect::Depth::Identity);
            assert_eq!(
                head(&i),
                head(&d),
                "{name}: head at Depth::Identity, len {len}"
            );
            assert_eq!(
                i.malformed, d.malformed,
                "{name}: malformed at Depth::Identity"
            );
            assert!(i.summary.is_empty() || i.summary == d.summary);
            match Packet::parse(port, &b) {
                Ok(p) => {
                    assert_eq!(p.to_bytes(), b, "{name} round trip, len {len}");
                    // A Repr keeps a packet whose length field claims more than it holds (so
                    // that replay is faithful); the dissection says so (length.rs).
                    assert!(
                        d.malformed
                            .as_deref()
                            .is_none_or(|m| m.starts_with("length field claims")),
                        "{name}: parsed but dissected as malformed: {:?}",
                        d.malformed
                    );
                }
                Err(e) => {
                    assert!(matches!(e, Error::Truncated { .. }), "{name}: {e}");
                    assert!(
                        d.malformed.is_some(),
                        "{name}: {e} but dissection not malformed"
                    );
                }
            }
        }
    }
}

#[test]
fn short_and_empty_payloads() {
    for port in PORTS.iter().copied().chain([9, 51337]) {
        for len in 0..=11 {
            let b = &b"Qspt1WmJOL\x0a"[..len];
            let d = dissect(port, b, true);
            assert_covers(&d, len);
            let parsed = Packet::parse(port, b);
            if len < 10 {
                assert_eq!(parsed, Err(Error::BadMagic));
                assert!(d.malformed.is_some());
            }
        }
    }
    assert!(Packet::parse(50002, b"Qspt1WmJOL").is_ok_and(|p| matches!(p, Packet::Unknown(_))));
}
