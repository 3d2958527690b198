//! `parse(emit(r)) == r` for every Pro DJ Link packet type, over Reprs built from arbitrary
//! field values (the other direction, `emit(parse(b)) == b` for real bytes, is in the unit
//! tests). Each case also checks that `Packet::parse` on the packet's own port picks the same
//! variant and that `dissect` reads it without complaint.

use std::net::Ipv4Addr;

use proptest::collection::vec;
use proptest::prelude::*;

use djdissect::prodjlink::{self, *};

fn arr<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    vec(any::<u8>(), N).prop_map(|v| v.try_into().unwrap())
}

/// Trailing bytes a Repr keeps after its last field (`extra`), up to `max`.
fn tail(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn extra() -> impl Strategy<Value = Vec<u8>> {
    tail(24)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn announce() -> impl Strategy<Value = AnnounceHeader> {
    (
        any::<u8>(),
        arr::<20>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
    )
        .prop_map(
            |(sub_kind, name, header_type, structure, length)| AnnounceHeader {
                sub_kind,
                name: DeviceName(name),
                header_type,
                structure,
                length,
            },
        )
}

fn status() -> impl Strategy<Value = StatusHeader> {
    (
        arr::<20>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
    )
        .prop_map(
            |(name, header_type, subtype, device, length)| StatusHeader {
                name: DeviceName(name),
                header_type,
                subtype,
                device,
                length,
            },
        )
}

/// A status header whose last name byte is not Stagehand's peer marker: byte 0x1e decides
/// between a precise position and Stagehand telemetry on port 50001 (`classify.rs`).
fn status_not_to_stagehand() -> impl Strategy<Value = StatusHeader> {
    status().prop_filter("0x1e is the Stagehand peer marker", |h| {
        h.name.0[19] != STAGEHAND_PEER
    })
}

fn peer() -> impl Strategy<Value = PeerHeader> {
    (arr::<19>(), any::<u8>(), any::<u8>()).prop_map(|(name, peer, header_type)| PeerHeader {
        name,
        peer,
        header_type,
    })
}

/// A packet of `len` bytes: magic, `kind`, zeros. Parsing the shortest one a type accepts
/// gives the length of its fixed-size byte blocks.
fn template(kind: u8, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[..10].copy_from_slice(&MAGIC);
    b[10] = kind;
    b
}

/// The shortest packet of `kind` on `port` that parses as a described type (every longer
/// one parses too, so a binary search finds it).
fn shortest(port: u16, kind: u8) -> Vec<u8> {
    let parses = |n| {
        !matches!(
            Packet::parse(port, &template(kind, n)),
            Ok(Packet::Unknown(_)) | Err(_)
        )
    };
    let (mut lo, mut hi) = (11usize, 0x10000usize);
    assert!(parses(hi), "no length parses");
    while lo < hi {
        let mid = (lo + hi) / 2;
        if parses(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    template(kind, lo)
}

/// Everything a Repr round trip promises, for packet `p`.
fn check(p: Packet) -> Result<(), TestCaseError> {
    let b = p.to_bytes();
    prop_assert_eq!(b.len(), p.buffer_len());
    prop_assert_eq!(Packet::parse(p.port(), &b), Ok(p.clone()));
    let d = prodjlink::dissect(p.port(), &b, true);
    prop_assert_eq!(d.type_name.as_ref(), p.type_name());
    // Random headers carry random length fields: a claim beyond the datagram is the only
    // malformation a Repr's own bytes may show (prodjlink/length.rs).
    prop_assert!(
        d.malformed
            .as_deref()
            .is_none_or(|m| m.starts_with("length field claims")),
        "{:?}",
        d.malformed
    );
    Ok(())
}

/// One proptest per type: the Repr parses back from its own bytes, and as a `Packet`.
macro_rules! roundtrip {
    ($($test:ident: $ty:ident => $variant:ident, $strategy:expr;)*) => {$(
        proptest! {
            #[test]
            fn $test(v in $strategy) {
                let b = v.to_bytes();
                prop_assert_eq!(b.len(), v.buffer_len());
                prop_assert_eq!($ty::parse(&b), Ok(v.clone()));
                check(Packet::$variant(v))?;
            }
        }
    )*};
}

roundtrip! {
    hello: Hello => Hello,
        (announce(), any::<u8>(), extra())
            .prop_map(|(header, device_class, extra)| Hello { header, device_class, extra });
    claim_mac: ClaimMac => ClaimMac,
        (announce(), any::<u8>(), any::<u8>(), arr::<6>(), extra()).prop_map(
            |(header, counter, device_class, mac, extra)| ClaimMac {
                header, counter, device_class, mac, extra,
            });
    claim_ip: ClaimIp => ClaimIp,
        (announce(), ip(), arr::<6>(), any::<[u8; 4]>(), extra()).prop_map(
            |(header, ip, mac, [device, counter, role, assignment], extra)| ClaimIp {
                header, ip, mac, device, counter, role, assignment, extra,
            });
    claim_final: ClaimFinal => ClaimFinal,
        (announce(), any::<u8>(), any::<u8>(), extra())
            .prop_map(|(header, device, counter, extra)| ClaimFinal {
                header, device, counter, extra,
            });
    assignment_finished: AssignmentFinished => AssignmentFinished,
        (announce(), any::<u8>(), any::<u8>(), extra())
            .prop_map(|(header, device, counter, extra)| AssignmentFinished {
                header, device, counter, extra,
            });
    mixer_assign_intent: MixerAssignIntent => MixerAssignIntent,
        (announce(), ip(), arr::<6>(), any::<u8>(), extra()).prop_map(
            |(header, mixer_ip, mixer_mac, unknown_2e, extra)| MixerAssignIntent {
                header, mixer_ip, mixer_mac, unknown_2e, extra,
            });
    mixer_assign: MixerAssign => MixerAssign,
        (announce(), any::<[u8; 3]>(), extra()).prop_map(
            |(header, [device, counter, unknown_26], extra)| MixerAssign {
                header, device, counter, unknown_26, extra,
            });
    channel_conflict: ChannelConflict => ChannelConflict,
        (announce(), any::<u8>(), ip(), extra()).prop_map(
            |(header, device, defender_ip, extra)| ChannelConflict {
                header, device, defender_ip, extra,
            });
    beat: Beat => Beat,
        (status(), any::<[u32; 6]>(), arr::<24>(), any::<(u32, u16, u16, u8)>(), arr::<2>(),
         any::<u8>(), extra()).prop_map(
            |(header, t, padding, (pitch, scratch, bpm, beat_in_bar), unknown_5d, device_copy,
              extra)| Beat {
                header,
                next_beat_ms: t[0],
                second_beat_ms: t[1],
                next_bar_ms: t[2],
                fourth_beat_ms: t[3],
                second_bar_ms: t[4],
                eighth_beat_ms: t[5],
                padding, pitch, scratch, bpm, beat_in_bar, unknown_5d, device_copy, extra,
            });
    precise_position: PrecisePosition => PrecisePosition,
        (status_not_to_stagehand(), any::<(u32, u32, i32, u32)>(), arr::<8>(), extra())
            .prop_map(|(header, (track_length_s, position_ms, pitch, effective_bpm),
                        unknown_30, extra)| PrecisePosition {
                header, track_length_s, position_ms, pitch, unknown_30, effective_bpm, extra,
            });
    fader_start: FaderStart => FaderStart,
        (status(), arr::<4>(), extra())
            .prop_map(|(header, channels, extra)| FaderStart { header, channels, extra });
    master_handoff_request: MasterHandoffRequest => MasterHandoffRequest,
        (status(), arr::<3>(), any::<u8>(), extra()).prop_map(
            |(header, unknown_24, requester, extra)| MasterHandoffRequest {
                header, unknown_24, requester, extra,
            });
    master_handoff_response: MasterHandoffResponse => MasterHandoffResponse,
        (status(), arr::<3>(), any::<u8>(), any::<u32>(), extra()).prop_map(
            |(header, unknown_24, responder, granted, extra)| MasterHandoffResponse {
                header, unknown_24, responder, granted, extra,
            });
    sync_control: SyncControl => SyncControl,
        (status(), arr::<3>(), any::<u8>(), arr::<3>(), any::<u8>(), extra()).prop_map(
            |(header, unknown_24, sender, unknown_28, command, extra)| SyncControl {
                header, unknown_24, sender, unknown_28, command, extra,
            });
    stagehand_transport: StagehandTransport => StagehandTransport,
        (peer(), any::<[u8; 5]>(), arr::<9>(), arr::<10>(), extra()).prop_map(
            |(header, [unknown_20, view_state, action, unknown_2c, pressed], unknown_22,
              unknown_2e, extra)| StagehandTransport {
                header, unknown_20, view_state, unknown_22, action, unknown_2c, pressed,
                unknown_2e, extra,
            });
    mixer_status: MixerStatus => MixerStatus,
        (status(), any::<(u8, u8, u32, u16, u16, u8, u8)>(), arr::<2>(), arr::<6>(), extra())
            .prop_map(|(header, (device_copy, flags, pitch, bpm_validity, bpm, master_handoff,
                                 beat_in_bar), unknown_25, unknown_30, extra)| MixerStatus {
                header, device_copy, unknown_25, flags, pitch, bpm_validity, bpm, unknown_30,
                master_handoff, beat_in_bar, extra,
            });
    media_query: MediaQuery => MediaQuery,
        (status(), ip(), arr::<3>(), any::<u8>(), arr::<3>(), any::<u8>(), extra()).prop_map(
            |(header, requester_ip, unknown_28, owner, unknown_2c, slot, extra)| MediaQuery {
                header, requester_ip, unknown_28, owner, unknown_2c, slot, extra,
            });
    media_response: MediaResponse => MediaResponse,
        ((status(), arr::<3>(), any::<u8>(), arr::<3>(), any::<u8>()),
         (arr::<0x40>(), arr::<0x18>(), arr::<0x22>()),
         (any::<(u16, u8, u8, u8, u8, u16, u64, u64)>(), arr::<2>(), extra())).prop_map(
            |((header, unknown_24, owner, unknown_28, slot),
              (media_name, creation_date, version_text),
              ((track_count, color, unknown_a9, media_type, my_settings, playlist_count,
                total_bytes, free_bytes), unknown_ac, extra))| MediaResponse {
                header, unknown_24, owner, unknown_28, slot, media_name, creation_date,
                version_text, track_count, color, unknown_a9, media_type, my_settings,
                unknown_ac, playlist_count, total_bytes, free_bytes, extra,
            });
    djm_file_list: DjmFileList => DjmFileList,
        ((status(), arr::<3>(), any::<u8>(), arr::<3>(), any::<u8>()),
         (arr::<0x40>(), arr::<0x40>(), arr::<0x0c>(), arr::<0x0c>(), extra())).prop_map(
            |((header, unknown_24, owner, unknown_28, slot),
              (file_name, file_path, text_1, text_2, extra))| DjmFileList {
                header, unknown_24, owner, unknown_28, slot, file_name, file_path, text_1,
                text_2, extra,
            });
    lighting_reply: LightingReply => LightingReply,
        (status(), any::<u8>(), arr::<3>(), arr::<0x100>(), extra()).prop_map(
            |(header, device_copy, unknown_25, host_name, extra)| LightingReply {
                header, device_copy, unknown_25, host_name, extra,
            });
    binary_data_request: BinaryDataRequest => BinaryDataRequest,
        (status(), any::<(u32, u8, u8)>(), arr::<2>(), extra()).prop_map(
            |(header, (track_id, data_type, deck), unknown_2a, extra)| BinaryDataRequest {
                header, track_id, data_type, deck, unknown_2a, extra,
            });
    binary_data_reply: BinaryDataReply => BinaryDataReply,
        (status(), any::<(u8, u8, u32, u8, u8, u8)>(), arr::<2>(), arr::<5>(), tail(200))
            .prop_map(|(header, (unknown_24, data_type, track_id, chunk_index, unknown_32,
                                 chunk_count), unknown_26, unknown_2c, data)| BinaryDataReply {
                header, unknown_24, data_type, unknown_26, track_id, unknown_2c, chunk_index,
                unknown_32, chunk_count, data,
            });
    load_track: LoadTrack => LoadTrack,
        (status(), any::<(u8, u8, u8, u8, u8, u32, u8)>(), arr::<3>(), arr::<0x10>(),
         arr::<0x17>(), extra()).prop_map(
            |(header, (device_copy, source_device, source_slot, track_type, unknown_2b,
                       rekordbox_id, target_index), unknown_25, unknown_30, unknown_41,
              extra)| LoadTrack {
                header, device_copy, unknown_25, source_device, source_slot, track_type,
                unknown_2b, rekordbox_id, unknown_30, target_index, unknown_41, extra,
            });
    load_settings: LoadSettings => LoadSettings,
        (arr::<20>(), any::<(u8, u8, u8, u16)>(), arr::<8>(), arr::<0x24>(), arr::<0x24>(),
         extra()).prop_map(
            |(name, (header_type, sender, target, length), marker, settings, unknown_50,
              extra)| LoadSettings {
                name: DeviceName(name), header_type, sender, target, length, marker, settings,
                unknown_50, extra,
            });
    device_settings_request: DeviceSettingsRequest => DeviceSettingsRequest,
        (status(), any::<(u8, u8)>(), arr::<2>(), extra()).prop_map(
            |(header, (requester, slot), unknown_26, extra)| DeviceSettingsRequest {
                header, requester, slot, unknown_26, extra,
            });
    device_settings_reply: DeviceSettingsReply => DeviceSettingsReply,
        (status(), any::<(u8, u8)>(), arr::<2>(), arr::<8>(), arr::<32>(), extra()).prop_map(
            |(header, (requester, slot), unknown_26, marker, settings, extra)| {
                DeviceSettingsReply { header, requester, slot, unknown_26, marker, settings, extra }
            });
    stagehand_command: StagehandCommand => StagehandCommand,
        (peer(), any::<(u16, u16, u32)>(), extra()).prop_map(
            |(header, (opcode, length, argument), extra)| StagehandCommand {
                header, opcode, length, argument, extra,
            });
    stagehand_pref_write: StagehandPrefWrite => StagehandPrefWrite,
        (peer(), arr::<4>(), any::<(u8, u8, u8)>(), arr::<7>(), arr::<15>(), tail(64))
            .prop_map(|(header, unknown_20, (write, on_air_display, quantize), unknown_25,
                        unknown_2d, rest)| StagehandPrefWrite {
                header, unknown_20, write, unknown_25, on_air_display, unknown_2d, quantize,
                rest,
            });
    touch_audio_timing: TouchAudioTiming => TouchAudioTiming,
        (status(), any::<(u32, u8, u8)>(), extra()).prop_map(
            |(header, (counter, link_cue, elected), extra)| TouchAudioTiming {
                header, counter, link_cue, elected, extra,
            });
    touch_audio_handover: TouchAudioHandover => TouchAudioHandover,
        (status(), extra()).prop_map(|(header, extra)| TouchAudioHandover { header, extra });
}

proptest! {
    /// The six-channel block is there exactly when the packet is long enough for it, so a
    /// four-channel Repr keeps fewer trailing bytes than the block's size.
    #[test]
    fn channels_on_air(
        header in status(),
        channels_1_4 in arr::<4>(),
        unknown_28 in arr::<5>(),
        six in proptest::option::of((arr::<2>(), arr::<6>())),
        extra in extra(),
    ) {
        let mut extra = extra;
        if six.is_none() {
            extra.truncate(7);
        }
        let v = ChannelsOnAir {
            header, channels_1_4, unknown_28,
            six_channel: six.map(|(channels_5_6, unknown_2f)| SixChannel { channels_5_6, unknown_2f }),
            extra,
        };
        prop_assert_eq!(ChannelsOnAir::parse(&v.to_bytes()), Ok(v.clone()));
        check(Packet::ChannelsOnAir(v))?;
    }

    /// The paired-peer block likewise (newer keep-alives).
    #[test]
    fn keep_alive(
        header in announce(),
        bytes in any::<[u8; 5]>(),
        mac in arr::<6>(),
        ip in ip(),
        unknown_31 in arr::<3>(),
        paired in proptest::option::of((arr::<14>(), any::<[u8; 5]>(), arr::<6>(), any::<u32>(),
                                        arr::<3>(), arr::<14>())),
        extra in extra(),
    ) {
        let [device, role_flag, peers, device_type, model] = bytes;
        let paired = paired.map(|(unknown_36, b, mac, ip, unknown_51, unknown_56)| PairedPeer {
            unknown_36, device: b[0], role_flag: b[1], mac, ip: Ipv4Addr::from(ip), peers: b[2],
            unknown_51, device_type: b[3], model: b[4], unknown_56,
        });
        let mut extra = extra;
        if paired.is_none() {
            extra.truncate(45);
        }
        let v = KeepAlive {
            header, device, role_flag, mac, ip, peers, unknown_31, device_type, model, paired,
            extra,
        };
        prop_assert_eq!(KeepAlive::parse(&v.to_bytes()), Ok(v.clone()));
        check(Packet::KeepAlive(v))?;
    }

    /// Fixed-size blocks kept as vectors (their size comes from the shortest packet).
    #[test]
    fn stagehand_mixer_state(
        header in peer(),
        state_length in any::<u16>(),
        unknown_22 in arr::<2>(),
        channels in vec((arr::<11>(), arr::<3>(), arr::<2>(), arr::<11>()), 4),
        unknown_84 in arr::<0x30>(),
        crossfader in any::<u8>(),
        b5 in vec(any::<u8>(), 0x200),
        extra in extra(),
    ) {
        let b5_len = StagehandMixerState::parse(&shortest(50002, 0x39)).unwrap().unknown_b5.len();
        let ch: Vec<ChannelState> = channels.into_iter().map(|(a, unknown_08, b, unknown_0d)| {
            ChannelState {
                input: a[0], trim: a[1], unknown_02: a[2], eq_high: a[3], eq_mid: a[4],
                eq_mid_2: a[5], eq_low: a[6], color_fx: a[7], unknown_08, fader: b[0],
                crossfader_assign: b[1], unknown_0d,
            }
        }).collect();
        let v = StagehandMixerState {
            header, state_length, unknown_22, channels: ch.try_into().unwrap(), unknown_84,
            crossfader, unknown_b5: b5[..b5_len].to_vec(), extra,
        };
        prop_assert_eq!(StagehandMixerState::parse(&v.to_bytes()), Ok(v.clone()));
        check(Packet::StagehandMixerState(v))?;
    }

    #[test]
    fn touch_audio_data(
        header in status(),
        first in any::<u8>(),
        unknown_25 in arr::<3>(),
        counter in any::<u32>(),
        pcm in vec(any::<u8>(), 0x1000),
        extra in extra(),
    ) {
        let pcm_len = TouchAudioData::parse(&shortest(50004, 0x1e)).unwrap().pcm.len();
        let v = TouchAudioData {
            header, first, unknown_25, counter, pcm: pcm[..pcm_len].to_vec(), extra,
        };
        prop_assert_eq!(TouchAudioData::parse(&v.to_bytes()), Ok(v.clone()));
        check(Packet::TouchAudioData(v))?;
    }

    /// The containers: undescribed status kinds, Stagehand frames, unknown kinds.
    #[test]
    fn opaque_status(i in 0..7usize, header in status(), body in tail(64)) {
        let (port, kind) = [(50001, 0x04), (50002, 0x10), (50002, 0x16), (50002, 0x1a),
                            (50002, 0x1c), (50002, 0x1d), (50002, 0x40)][i];
        let v = OpaqueStatus { kind, header, body };
        let p = match kind {
            0x04 => Packet::MixerBinding(v),
            0x10 => Packet::LightingHello(v),
            0x16 => Packet::LightingMount(v),
            0x1a => Packet::LoadTrackAck(v),
            0x1c => Packet::LoadTrackRefused(v),
            0x40 => Packet::KuvoGateway(v),
            _ => Packet::CuePointsChanged(v),
        };
        prop_assert_eq!(p.port(), port);
        check(p)?;
    }

    #[test]
    fn peer_frames(i in 0..9usize, header in peer(), body in tail(64)) {
        let kind = [0x0b, 0x58, 0x6a, 0x3b, 0x3d, 0x68, 0x69, 0x6c, 0x6d][i];
        let mut header = header;
        if kind == 0x0b {
            // Telemetry is the 0x0b that carries Stagehand's peer marker.
            header.peer = STAGEHAND_PEER;
        }
        let v = PeerFrame { kind, header, body };
        check(match kind {
            0x0b => Packet::StagehandTelemetry(v),
            0x58 => Packet::StagehandVuMeters(v),
            0x6a => Packet::StagehandHeartbeat(v),
            0x3b => Packet::StagehandShortHeartbeat(v),
            0x3d => Packet::StagehandTrackMetadata(v),
            _ => Packet::StagehandPanel(v),
        })?;
    }

    /// rekordbox LINK control (0x30, 0x31, 0x46, 0x47, 0x80): header and payload kept whole.
    #[test]
    fn rekordbox_link(i in 0..5usize, header in status(), payload in tail(64)) {
        let kind = [0x30, 0x31, 0x46, 0x47, 0x80][i];
        let v = RekordboxLink { kind, header, payload };
        prop_assert_eq!(RekordboxLink::parse(&v.to_bytes()), Ok(v.clone()));
        check(Packet::RekordboxLink(v))?;
    }

    /// Any bytes on 50003, or a kind nobody described, or no magic: kept whole.
    #[test]
    fn unknown(port in 50000u16..=50004, kind in any::<u8>(), body in tail(64), magic in any::<bool>()) {
        let mut bytes = if magic { MAGIC.to_vec() } else { Vec::new() };
        bytes.push(kind);
        bytes.extend(body);
        let p = Packet::Unknown(UnknownPacket { port, bytes: bytes.clone() });
        prop_assert_eq!(p.to_bytes(), bytes.clone());
        if let Ok(Packet::Unknown(u)) = Packet::parse(port, &bytes) {
            prop_assert_eq!(Packet::Unknown(u), p);
        }
    }

    /// CDJ status keeps the whole packet image: any length from the shortest layout on, any
    /// image, typed fields set to arbitrary values (the optional ones where the length has
    /// room), then the image brought in line with the fields.
    #[test]
    fn cdj_status(
        len in prop_oneof![Just(0xd0usize), Just(0xd4), Just(0x11c), Just(0x124), Just(0x200),
                           0xd0usize..0x240],
        image in vec(any::<u8>(), 0x240),
        header in status(),
        small in vec(any::<u8>(), 40),
        wide in vec(any::<u32>(), 16),
        opt in vec(any::<u32>(), 20),
    ) {
        let mut b = image[..len].to_vec();
        b[..10].copy_from_slice(&MAGIC);
        b[10] = 0x0a;
        let mut s = CdjStatus::parse(&b).unwrap();
        s.header = header;
        let u8s = &small;
        s.device_copy = u8s[0]; s.activity = u8s[1]; s.track_device = u8s[2];
        s.track_slot = u8s[3]; s.track_type = u8s[4]; s.sort_order = u8s[5];
        s.track_menu = u8s[6]; s.load_marker = u8s[7]; s.flag_68 = u8s[8];
        s.usb_activity = u8s[9]; s.sd_activity = u8s[10]; s.usb_state = u8s[11];
        s.sd_state = u8s[12]; s.link_media = u8s[13]; s.play_state = u8s[14];
        s.firmware = [u8s[15], u8s[16], u8s[17], u8s[18]]; s.flags = u8s[19];
        s.play_state_2 = u8s[20]; s.play_state_3 = u8s[21]; s.master_mode = u8s[22];
        s.master_handoff = u8s[23]; s.beat_in_bar = u8s[24]; s.grid_changed = u8s[25];
        s.flag_b6 = u8s[26]; s.media_presence = u8s[27]; s.usb_unsafe_eject = u8s[28];
        s.sd_unsafe_eject = u8s[29]; s.emergency_loop = u8s[30]; s.generation = u8s[31];
        s.capabilities = u8s[32];
        let w = &wide;
        s.rekordbox_id = w[0]; s.track_number = w[1] as u16; s.category_1 = w[2];
        s.category_2 = w[3]; s.list_count = w[4] as u16; s.cue_change = w[5] as u16;
        s.tag_change = w[6] as u16; s.load_done = w[7] as u16; s.sync_counter = w[8];
        s.pitch = w[9]; s.bpm_validity = w[10] as u16; s.bpm = (w[10] >> 16) as u16;
        s.slip_bpm_validity = w[11] as u16; s.slip_bpm = (w[11] >> 16) as u16;
        s.fader_pitch = w[12]; s.beat = w[13]; s.cue_countdown = w[14] as u16;
        s.pitch_3 = w[15]; s.pitch_4 = w[14]; s.packet_counter = w[13] ^ w[0];
        // Optional fields: new values only where parsing found them (the length has room).
        let o = &opt;
        let set8 = |f: &mut Option<u8>, v: u32| if f.is_some() { *f = Some(v as u8) };
        let set16 = |f: &mut Option<u16>, v: u32| if f.is_some() { *f = Some(v as u16) };
        let set32 = |f: &mut Option<u32>, v: u32| if f.is_some() { *f = Some(v) };
        if s.waveform_1.is_some() {
            s.waveform_1 = Some(WaveformSettings { color: o[0] as u8, position: o[1] as u8 });
        }
        if s.waveform_2.is_some() {
            s.waveform_2 = Some(WaveformSettings { color: o[2] as u8, position: o[3] as u8 });
        }
        if s.edit_menu.is_some() {
            s.edit_menu = Some([o[4] as u8, o[5] as u8, o[6] as u8]);
        }
        set8(&mut s.play_state_4, o[7]);
        set16(&mut s.bar_time_steps, o[8]);
        set16(&mut s.bar_position, o[9]);
        set8(&mut s.next_memory_point, o[10]);
        set8(&mut s.buffered_ahead, o[11]);
        set8(&mut s.buffered_behind, o[12]);
        set8(&mut s.buffer_state, o[13]);
        set32(&mut s.needle_position, o[14]);
        set8(&mut s.master_tempo, o[15]);
        if s.key.is_some() {
            s.key = Some(Key { note: o[16] as u8, mode: o[17] as u8, accidental: o[18] as u8 });
        }
        if s.key_shift.is_some() {
            s.key_shift = Some(i64::from(o[19] as i32) << 8);
        }
        set32(&mut s.loop_start, o[0] ^ o[19]);
        set32(&mut s.loop_end, o[1] ^ o[19]);
        set16(&mut s.loop_beats, o[2] ^ o[19]);
        s.image = s.to_bytes();
        prop_assert_eq!(s.image.len(), len);
        prop_assert_eq!(CdjStatus::parse(&s.image), Ok(s.clone()));
        check(Packet::CdjStatus(s))?;
    }
}

/// `CdjStatus::new` (what an emulator starts from) is a valid packet at every length.
#[test]
fn cdj_status_new_is_valid_at_every_length() {
    for len in [
        0xd0usize, 0xd4, 0xf0, 0x11b, 0x11c, 0x124, 0x160, 0x200, 0x240,
    ] {
        let s = CdjStatus::new("CDJ-3000", 3, len);
        assert_eq!(
            CdjStatus::parse(&s.to_bytes()),
            Ok(s.clone()),
            "len {len:#x}"
        );
        check(Packet::CdjStatus(s)).unwrap();
    }
}
