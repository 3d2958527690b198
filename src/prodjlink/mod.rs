//! Pro DJ Link over UDP (ports 50000-50004), per `prodjlink.md` sections 1-6.
//!
//! A packet's meaning depends on its destination port and its kind byte together (1.1), so
//! [`Packet::parse`] and [`dissect`] both take the port the datagram was sent to. Every kind
//! has a Repr (a plain struct with `parse`, `buffer_len`, `emit` and `to_bytes`) in the module
//! of its family, and a dissector that reads the same `field` offsets. Bytes of unknown meaning
//! are kept in the Reprs (`unknown_*`, `extra`) so that `emit(parse(b)) == b`.

mod beat;
mod cdj_status;
mod cdj_status_dissect;
mod cdj_status_eras;
mod classify;
mod discovery;
mod header;
mod keep_alive;
mod length;
mod lighting;
mod load;
mod media;
mod mixer_control;
mod mixer_status;
mod number_assign;
mod plausible;
mod rekordbox_link;
mod stagehand;
mod stagehand_mixer;
mod touch_audio;
mod unknown;
mod walker;

pub use beat::{Beat, PrecisePosition};
pub use cdj_status::{flag as status_flag, CdjStatus, Key, WaveformSettings, SETTINGS_MARKER};
pub use cdj_status_dissect::{media_state_name, play_state_name, slot_name, track_type_name};
pub use discovery::{
    device_class_name, AssignmentFinished, ClaimFinal, ClaimIp, ClaimMac, Hello, NumberClaim,
};
pub use header::{
    opus_deck, pitch_percent, pitch_raw, AnnounceHeader, DeviceName, PeerHeader, StatusHeader,
    STAGEHAND_PEER,
};
pub use keep_alive::{KeepAlive, PairedPeer};
pub use lighting::{BinaryDataReply, BinaryDataRequest, LightingReply, LIGHTING_DEVICE};
pub use load::{DeviceSettingsReply, DeviceSettingsRequest, LoadSettings, LoadTrack, MY_SETTINGS};
pub use media::{DjmFileList, MediaQuery, MediaResponse};
pub use mixer_control::{
    fader_command, sync_command, ChannelsOnAir, FaderStart, MasterHandoffRequest,
    MasterHandoffResponse, SixChannel, SyncControl,
};
pub use mixer_status::MixerStatus;
pub use number_assign::{ChannelConflict, MixerAssign, MixerAssignIntent};
pub use plausible::{
    pitch as plausible_pitch, MAX_EFFECTIVE_BPM, MAX_PITCH_PERCENT, MAX_TRACK_SECONDS,
};
pub use rekordbox_link::RekordboxLink;
pub use stagehand::{PeerFrame, StagehandCommand, StagehandPrefWrite, StagehandTransport};
pub use stagehand_mixer::{ChannelState, StagehandMixerState};
pub use touch_audio::{TouchAudioData, TouchAudioHandover, TouchAudioTiming};
pub use unknown::{OpaqueStatus, UnknownPacket};

use crate::dissect::Depth;
use crate::dissect::{Dissection, Proto};
use classify::{classify, MessageType};
use walker::Walker;

/// The ten bytes every Pro DJ Link UDP payload starts with (1.1).
pub const MAGIC: [u8; 10] = *b"Qspt1WmJOL";

/// The UDP ports Pro DJ Link uses (sections 2-6; nothing is described on 50003).
pub const PORTS: [u16; 5] = [50000, 50001, 50002, 50003, 50004];

/// True when `payload` starts with [`MAGIC`].
pub fn has_magic(payload: &[u8]) -> bool {
    payload.starts_with(&MAGIC)
}

/// Why a payload could not be parsed into a [`Packet`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not a Pro DJ Link packet: no Qspt1WmJOL magic")]
    BadMagic,
    #[error("{kind} packet truncated: needs {need} bytes, has {have}")]
    Truncated {
        kind: &'static str,
        need: usize,
        have: usize,
    },
}

/// Adds `to_bytes` to Reprs whose `emit` takes only the buffer.
macro_rules! to_bytes {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// The packet as bytes (`emit` into a buffer of `buffer_len`).
            pub fn to_bytes(&self) -> Vec<u8> {
                let mut buf = vec![0u8; self.buffer_len()];
                self.emit(&mut buf);
                buf
            }
        }
    )*};
}

to_bytes!(
    Hello,
    ClaimMac,
    MixerAssignIntent,
    ClaimIp,
    MixerAssign,
    ChannelConflict,
    KeepAlive,
    Beat,
    PrecisePosition,
    FaderStart,
    ChannelsOnAir,
    MasterHandoffRequest,
    MasterHandoffResponse,
    SyncControl,
    CdjStatus,
    MixerStatus,
    MediaQuery,
    MediaResponse,
    DjmFileList,
    LightingReply,
    BinaryDataRequest,
    BinaryDataReply,
    LoadTrack,
    LoadSettings,
    DeviceSettingsRequest,
    DeviceSettingsReply,
    TouchAudioTiming,
    TouchAudioData,
    TouchAudioHandover,
    PeerFrame,
    StagehandTransport,
    StagehandMixerState,
    StagehandCommand,
    StagehandPrefWrite,
    OpaqueStatus,
    RekordboxLink,
    UnknownPacket,
);

/// Every known kind, keyed by (destination port, kind byte). The variant fixes the kind byte
/// and the port, except for the containers ([`OpaqueStatus`], [`PeerFrame`], [`UnknownPacket`])
/// that carry their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    // Port 50000 (section 2).
    Hello(Hello),
    ClaimMac(ClaimMac),
    MixerAssignIntent(MixerAssignIntent),
    ClaimIp(ClaimIp),
    MixerAssign(MixerAssign),
    ClaimFinal(ClaimFinal),
    AssignmentFinished(AssignmentFinished),
    KeepAlive(KeepAlive),
    ChannelConflict(ChannelConflict),
    // Port 50001 (section 3).
    Beat(Beat),
    PrecisePosition(PrecisePosition),
    FaderStart(FaderStart),
    ChannelsOnAir(ChannelsOnAir),
    /// Mixer 0x04 "binding table", undecoded.
    MixerBinding(OpaqueStatus),
    MasterHandoffRequest(MasterHandoffRequest),
    MasterHandoffResponse(MasterHandoffResponse),
    SyncControl(SyncControl),
    StagehandTransport(StagehandTransport),
    /// 68-byte 0x0b from a CDJ-3000 to Stagehand.
    StagehandTelemetry(PeerFrame),
    /// A9 VU stream 0x58.
    StagehandVuMeters(PeerFrame),
    /// 0x6a heartbeat.
    StagehandHeartbeat(PeerFrame),
    // Port 50002 (section 4).
    CdjStatus(CdjStatus),
    MixerStatus(MixerStatus),
    MediaQuery(MediaQuery),
    MediaResponse(MediaResponse),
    DjmFileList(DjmFileList),
    /// 0x10, undescribed beyond the header.
    LightingHello(OpaqueStatus),
    LightingReply(LightingReply),
    /// 0x16 "mount please", undescribed beyond the header.
    LightingMount(OpaqueStatus),
    LoadTrack(LoadTrack),
    /// 0x1a.
    LoadTrackAck(OpaqueStatus),
    /// 0x1c "cannot load track" (PDJL only).
    LoadTrackRefused(OpaqueStatus),
    /// 0x40, the heartbeat of the Kuvo gateway (`NXS-GW`) a CDJ-3000 runs, about every three
    /// minutes (key2/libdjlink ARCHITECTURE.md 1.3 "Port 50002", `src/wire.c`
    /// `DJL_PKT_KUVO_GATEWAY`); undescribed beyond the header.
    KuvoGateway(OpaqueStatus),
    /// 0x1d "cue points modified" (PDJL only).
    CuePointsChanged(OpaqueStatus),
    LoadSettings(LoadSettings),
    DeviceSettingsRequest(DeviceSettingsRequest),
    DeviceSettingsReply(DeviceSettingsReply),
    StagehandMixerState(StagehandMixerState),
    StagehandCommand(StagehandCommand),
    /// A9 short heartbeat 0x3b.
    StagehandShortHeartbeat(PeerFrame),
    /// CDJ-3000 track metadata push 0x3d.
    StagehandTrackMetadata(PeerFrame),
    BinaryDataRequest(BinaryDataRequest),
    BinaryDataReply(BinaryDataReply),
    StagehandPrefWrite(StagehandPrefWrite),
    /// Settings-panel frames 0x68, 0x69, 0x6c, 0x6d.
    StagehandPanel(PeerFrame),
    // Port 50004 (section 6).
    TouchAudioTiming(TouchAudioTiming),
    TouchAudioData(TouchAudioData),
    TouchAudioHandover(TouchAudioHandover),
    /// rekordbox 6/7 LINK control on 50002: 0x30, 0x31, 0x46, 0x47, 0x80.
    RekordboxLink(RekordboxLink),
    /// Any (port, kind) nobody described, and everything on 50003 (section 5).
    Unknown(UnknownPacket),
}

impl Packet {
    /// Parse one UDP payload sent to `port`. Unknown kinds become [`Packet::Unknown`]; a known
    /// kind shorter than its layout is [`Error::Truncated`]; length fields are never trusted.
    pub fn parse(port: u16, bytes: &[u8]) -> Result<Packet, Error> {
        use MessageType as T;
        if !has_magic(bytes) {
            return Err(Error::BadMagic);
        }
        let unknown = || UnknownPacket {
            port,
            bytes: bytes.to_vec(),
        };
        Ok(match classify(port, bytes) {
            T::Hello => Packet::Hello(Hello::parse(bytes)?),
            T::ClaimMac => Packet::ClaimMac(ClaimMac::parse(bytes)?),
            T::MixerAssignIntent => Packet::MixerAssignIntent(MixerAssignIntent::parse(bytes)?),
            T::ClaimIp => Packet::ClaimIp(ClaimIp::parse(bytes)?),
            T::MixerAssign => Packet::MixerAssign(MixerAssign::parse(bytes)?),
            T::ClaimFinal => Packet::ClaimFinal(ClaimFinal::parse(bytes)?),
            T::AssignmentFinished => Packet::AssignmentFinished(AssignmentFinished::parse(bytes)?),
            T::KeepAlive => Packet::KeepAlive(KeepAlive::parse(bytes)?),
            T::ChannelConflict => Packet::ChannelConflict(ChannelConflict::parse(bytes)?),
            T::Beat => Packet::Beat(Beat::parse(bytes)?),
            T::PrecisePosition => Packet::PrecisePosition(PrecisePosition::parse(bytes)?),
            T::FaderStart => Packet::FaderStart(FaderStart::parse(bytes)?),
            T::ChannelsOnAir => Packet::ChannelsOnAir(ChannelsOnAir::parse(bytes)?),
            T::MixerBinding => Packet::MixerBinding(OpaqueStatus::parse(bytes)?),
            T::MasterHandoffRequest => {
                Packet::MasterHandoffRequest(MasterHandoffRequest::parse(bytes)?)
            }
            T::MasterHandoffResponse => {
                Packet::MasterHandoffResponse(MasterHandoffResponse::parse(bytes)?)
            }
            T::SyncControl => Packet::SyncControl(SyncControl::parse(bytes)?),
            T::StagehandTransport => Packet::StagehandTransport(StagehandTransport::parse(bytes)?),
            T::StagehandTelemetry => Packet::StagehandTelemetry(PeerFrame::parse(bytes)?),
            T::StagehandVuMeters => Packet::StagehandVuMeters(PeerFrame::parse(bytes)?),
            T::StagehandHeartbeat => Packet::StagehandHeartbeat(PeerFrame::parse(bytes)?),
            T::CdjStatus => Packet::CdjStatus(CdjStatus::parse(bytes)?),
            T::MixerStatus => Packet::MixerStatus(MixerStatus::parse(bytes)?),
            T::MediaQuery => Packet::MediaQuery(MediaQuery::parse(bytes)?),
            T::MediaResponse => Packet::MediaResponse(MediaResponse::parse(bytes)?),
            T::DjmFileList => Packet::DjmFileList(DjmFileList::parse(bytes)?),
            T::LightingHello => Packet::LightingHello(OpaqueStatus::parse(bytes)?),
            T::LightingReply => Packet::LightingReply(LightingReply::parse(bytes)?),
            T::LightingMount => Packet::LightingMount(OpaqueStatus::parse(bytes)?),
            T::LoadTrack => Packet::LoadTrack(LoadTrack::parse(bytes)?),
            T::LoadTrackAck => Packet::LoadTrackAck(OpaqueStatus::parse(bytes)?),
            T::LoadTrackRefused => Packet::LoadTrackRefused(OpaqueStatus::parse(bytes)?),
            T::KuvoGateway => Packet::KuvoGateway(OpaqueStatus::parse(bytes)?),
            T::CuePointsChanged => Packet::CuePointsChanged(OpaqueStatus::parse(bytes)?),
            T::LoadSettings => Packet::LoadSettings(LoadSettings::parse(bytes)?),
            T::DeviceSettingsRequest => {
                Packet::DeviceSettingsRequest(DeviceSettingsRequest::parse(bytes)?)
            }
            T::DeviceSettingsReply => {
                Packet::DeviceSettingsReply(DeviceSettingsReply::parse(bytes)?)
            }
            T::StagehandMixerState => {
                Packet::StagehandMixerState(StagehandMixerState::parse(bytes)?)
            }
            T::StagehandCommand => Packet::StagehandCommand(StagehandCommand::parse(bytes)?),
            T::StagehandShortHeartbeat => Packet::StagehandShortHeartbeat(PeerFrame::parse(bytes)?),
            T::StagehandTrackMetadata => Packet::StagehandTrackMetadata(PeerFrame::parse(bytes)?),
            T::BinaryDataRequest => Packet::BinaryDataRequest(BinaryDataRequest::parse(bytes)?),
            T::BinaryDataReply => Packet::BinaryDataReply(BinaryDataReply::parse(bytes)?),
            T::StagehandPrefWrite => Packet::StagehandPrefWrite(StagehandPrefWrite::parse(bytes)?),
            T::StagehandPanel => Packet::StagehandPanel(PeerFrame::parse(bytes)?),
            T::TouchAudioTiming => Packet::TouchAudioTiming(TouchAudioTiming::parse(bytes)?),
            T::TouchAudioData => Packet::TouchAudioData(TouchAudioData::parse(bytes)?),
            T::TouchAudioHandover => Packet::TouchAudioHandover(TouchAudioHandover::parse(bytes)?),
            T::RekordboxLink => Packet::RekordboxLink(RekordboxLink::parse(bytes)?),
            T::Unknown => Packet::Unknown(unknown()),
        })
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Packet::Hello(p) => p.buffer_len(),
            Packet::ClaimMac(p) => p.buffer_len(),
            Packet::MixerAssignIntent(p) => p.buffer_len(),
            Packet::ClaimIp(p) => p.buffer_len(),
            Packet::MixerAssign(p) => p.buffer_len(),
            Packet::ClaimFinal(p) => p.buffer_len(),
            Packet::AssignmentFinished(p) => p.buffer_len(),
            Packet::KeepAlive(p) => p.buffer_len(),
            Packet::ChannelConflict(p) => p.buffer_len(),
            Packet::Beat(p) => p.buffer_len(),
            Packet::PrecisePosition(p) => p.buffer_len(),
            Packet::FaderStart(p) => p.buffer_len(),
            Packet::ChannelsOnAir(p) => p.buffer_len(),
            Packet::MasterHandoffRequest(p) => p.buffer_len(),
            Packet::MasterHandoffResponse(p) => p.buffer_len(),
            Packet::SyncControl(p) => p.buffer_len(),
            Packet::StagehandTransport(p) => p.buffer_len(),
            Packet::CdjStatus(p) => p.buffer_len(),
            Packet::MixerStatus(p) => p.buffer_len(),
            Packet::MediaQuery(p) => p.buffer_len(),
            Packet::MediaResponse(p) => p.buffer_len(),
            Packet::DjmFileList(p) => p.buffer_len(),
            Packet::LightingReply(p) => p.buffer_len(),
            Packet::LoadTrack(p) => p.buffer_len(),
            Packet::LoadSettings(p) => p.buffer_len(),
            Packet::DeviceSettingsRequest(p) => p.buffer_len(),
            Packet::DeviceSettingsReply(p) => p.buffer_len(),
            Packet::StagehandMixerState(p) => p.buffer_len(),
            Packet::StagehandCommand(p) => p.buffer_len(),
            Packet::BinaryDataRequest(p) => p.buffer_len(),
            Packet::BinaryDataReply(p) => p.buffer_len(),
            Packet::StagehandPrefWrite(p) => p.buffer_len(),
            Packet::TouchAudioTiming(p) => p.buffer_len(),
            Packet::TouchAudioData(p) => p.buffer_len(),
            Packet::TouchAudioHandover(p) => p.buffer_len(),
            Packet::RekordboxLink(p) => p.buffer_len(),
            Packet::MixerBinding(p)
            | Packet::LightingHello(p)
            | Packet::LightingMount(p)
            | Packet::LoadTrackAck(p)
            | Packet::LoadTrackRefused(p)
            | Packet::KuvoGateway(p)
            | Packet::CuePointsChanged(p) => p.buffer_len(),
            Packet::StagehandTelemetry(p)
            | Packet::StagehandVuMeters(p)
            | Packet::StagehandHeartbeat(p)
            | Packet::StagehandShortHeartbeat(p)
            | Packet::StagehandTrackMetadata(p)
            | Packet::StagehandPanel(p) => p.buffer_len(),
            Packet::Unknown(p) => p.buffer_len(),
        }
    }

    /// Write the packet into `buf`, which must hold at least [`Packet::buffer_len`] bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            Packet::Hello(p) => p.emit(buf),
            Packet::ClaimMac(p) => p.emit(buf),
            Packet::MixerAssignIntent(p) => p.emit(buf),
            Packet::ClaimIp(p) => p.emit(buf),
            Packet::MixerAssign(p) => p.emit(buf),
            Packet::ClaimFinal(p) => p.emit(buf),
            Packet::AssignmentFinished(p) => p.emit(buf),
            Packet::KeepAlive(p) => p.emit(buf),
            Packet::ChannelConflict(p) => p.emit(buf),
            Packet::Beat(p) => p.emit(buf),
            Packet::PrecisePosition(p) => p.emit(buf),
            Packet::FaderStart(p) => p.emit(buf),
            Packet::ChannelsOnAir(p) => p.emit(buf),
            Packet::MasterHandoffRequest(p) => p.emit(buf),
            Packet::MasterHandoffResponse(p) => p.emit(buf),
            Packet::SyncControl(p) => p.emit(buf),
            Packet::StagehandTransport(p) => p.emit(buf),
            Packet::CdjStatus(p) => p.emit(buf),
            Packet::MixerStatus(p) => p.emit(buf),
            Packet::MediaQuery(p) => p.emit(buf),
            Packet::MediaResponse(p) => p.emit(buf),
            Packet::DjmFileList(p) => p.emit(buf),
            Packet::LightingReply(p) => p.emit(buf),
            Packet::LoadTrack(p) => p.emit(buf),
            Packet::LoadSettings(p) => p.emit(buf),
            Packet::DeviceSettingsRequest(p) => p.emit(buf),
            Packet::DeviceSettingsReply(p) => p.emit(buf),
            Packet::StagehandMixerState(p) => p.emit(buf),
            Packet::StagehandCommand(p) => p.emit(buf),
            Packet::BinaryDataRequest(p) => p.emit(buf),
            Packet::BinaryDataReply(p) => p.emit(buf),
            Packet::StagehandPrefWrite(p) => p.emit(buf),
            Packet::TouchAudioTiming(p) => p.emit(buf),
            Packet::TouchAudioData(p) => p.emit(buf),
            Packet::TouchAudioHandover(p) => p.emit(buf),
            Packet::RekordboxLink(p) => p.emit(buf),
            Packet::MixerBinding(p)
            | Packet::LightingHello(p)
            | Packet::LightingMount(p)
            | Packet::LoadTrackAck(p)
            | Packet::LoadTrackRefused(p)
            | Packet::KuvoGateway(p)
            | Packet::CuePointsChanged(p) => p.emit(buf),
            Packet::StagehandTelemetry(p)
            | Packet::StagehandVuMeters(p)
            | Packet::StagehandHeartbeat(p)
            | Packet::StagehandShortHeartbeat(p)
            | Packet::StagehandTrackMetadata(p)
            | Packet::StagehandPanel(p) => p.emit(buf),
            Packet::Unknown(p) => p.emit(buf),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.buffer_len()];
        self.emit(&mut buf);
        buf
    }

    /// The destination port the packet is sent to.
    pub fn port(&self) -> u16 {
        match self {
            Packet::Hello(_)
            | Packet::ClaimMac(_)
            | Packet::MixerAssignIntent(_)
            | Packet::ClaimIp(_)
            | Packet::MixerAssign(_)
            | Packet::ClaimFinal(_)
            | Packet::AssignmentFinished(_)
            | Packet::KeepAlive(_)
            | Packet::ChannelConflict(_) => 50000,
            Packet::Beat(_)
            | Packet::PrecisePosition(_)
            | Packet::FaderStart(_)
            | Packet::ChannelsOnAir(_)
            | Packet::MixerBinding(_)
            | Packet::MasterHandoffRequest(_)
            | Packet::MasterHandoffResponse(_)
            | Packet::SyncControl(_)
            | Packet::StagehandTransport(_)
            | Packet::StagehandTelemetry(_)
            | Packet::StagehandVuMeters(_)
            | Packet::StagehandHeartbeat(_) => 50001,
            Packet::TouchAudioTiming(_)
            | Packet::TouchAudioData(_)
            | Packet::TouchAudioHandover(_) => 50004,
            Packet::Unknown(p) => p.port,
            _ => 50002,
        }
    }
}

/// Whether a packet of type `t` and `len` bytes is a status-header packet with every field of
/// its layout present, so that walking it could not find it malformed (the dissection depth
/// tests and the prodjlink fuzz target compare the shortcut with the walk).
fn complete_status(t: MessageType, len: usize) -> bool {
    let full = match t {
        MessageType::CdjStatus => cdj_status::field::MIN_LEN,
        MessageType::MixerStatus => mixer_status::field::LEN,
        MessageType::Beat => beat::field::beat::LEN,
        MessageType::PrecisePosition => beat::field::position::LEN,
        _ => return false,
    };
    len >= full
}

/// Dissect one UDP payload sent to `port` (classify by the DESTINATION port, 1.1). Never fails:
/// unknown kinds are reported as `unknown` with their bytes, short packets are dissected as far
/// as they go and marked malformed. `detail` asks for plain-language meanings.
pub fn dissect(port: u16, bytes: &[u8], detail: impl Into<Depth>) -> Dissection {
    let detail: Depth = detail.into();
    use MessageType as T;
    let t = if has_magic(bytes) {
        classify(port, bytes)
    } else {
        T::Unknown
    };
    let kind = bytes.get(header::field::KIND.start).copied();
    let mut out = Dissection::new(Proto::ProDjLink, t.type_name(kind.unwrap_or(0)));
    if has_magic(bytes) {
        out.kind = kind.map(u32::from);
    }
    // A length field that disagrees with the datagram is told at every depth (length.rs).
    let disagreement = if has_magic(bytes) {
        length::check(port, t, bytes)
    } else {
        None
    };
    // The most frequent packets, when long enough that no field can be missing and with a
    // length field that agrees, are identified from their status header without a walk over
    // their fields (and a CDJ status's summary is read straight from its bytes).
    if disagreement.is_none() && complete_status(t, bytes.len()) {
        match detail {
            Depth::Identity => {
                walker::status_identity(bytes, &mut out);
                return out;
            }
            Depth::Head if t == T::CdjStatus => {
                walker::status_identity(bytes, &mut out);
                out.summary = cdj_status_dissect::summary(bytes);
                return out;
            }
            _ => {}
        }
    }
    // One allocation for the field list: a field every four bytes is about what the status
    // packets need (each unknown gap is a field too).
    if detail.keeps_fields() {
        out.fields.reserve(16 + bytes.len().min(0x600) / 4);
    }
    {
        let w = &mut Walker::new(bytes, &mut out, detail);
        match t {
            T::Hello => discovery::dissect_hello(w),
            T::ClaimMac => discovery::dissect_claim_mac(w),
            T::MixerAssignIntent => number_assign::dissect_mixer_assign_intent(w),
            T::ClaimIp => discovery::dissect_claim_ip(w),
            T::MixerAssign => number_assign::dissect_mixer_assign(w),
            T::ClaimFinal => discovery::dissect_number(w, false),
            T::AssignmentFinished => discovery::dissect_number(w, true),
            T::KeepAlive => keep_alive::dissect(w),
            T::ChannelConflict => number_assign::dissect_channel_conflict(w),
            T::Beat => beat::dissect_beat(w),
            T::PrecisePosition => beat::dissect_precise_position(w),
            T::FaderStart => mixer_control::dissect_fader_start(w),
            T::ChannelsOnAir => mixer_control::dissect_channels_on_air(w),
            T::MixerBinding => unknown::dissect_opaque(w, "mixer binding table"),
            T::MasterHandoffRequest => {
                mixer_control::dissect_control(w, mixer_control::Control::Request)
            }
            T::MasterHandoffResponse => {
                mixer_control::dissect_control(w, mixer_control::Control::Response)
            }
            T::SyncControl => mixer_control::dissect_control(w, mixer_control::Control::Sync),
            T::StagehandTransport => stagehand::dissect_transport(w),
            T::StagehandTelemetry
            | T::StagehandVuMeters
            | T::StagehandHeartbeat
            | T::StagehandShortHeartbeat
            | T::StagehandTrackMetadata
            | T::StagehandPanel => stagehand::dissect_frame(w, kind.unwrap_or(0)),
            T::CdjStatus => cdj_status_dissect::dissect(w),
            T::MixerStatus => mixer_status::dissect(w),
            T::MediaQuery => media::dissect_query(w),
            T::MediaResponse => media::dissect_response(w),
            T::DjmFileList => media::dissect_file_list(w),
            T::LightingHello => unknown::dissect_opaque(w, "lighting hello"),
            T::LightingReply => lighting::dissect_reply(w),
            T::LightingMount => unknown::dissect_opaque(w, "lighting mount request"),
            T::LoadTrack => load::dissect_load_track(w),
            T::LoadTrackAck => unknown::dissect_opaque(w, "load track ack"),
            T::LoadTrackRefused => unknown::dissect_opaque(w, "cannot load track"),
            T::KuvoGateway => unknown::dissect_opaque(w, "Kuvo gateway heartbeat"),
            T::CuePointsChanged => unknown::dissect_opaque(w, "cue points changed"),
            T::LoadSettings => load::dissect_load_settings(w),
            T::DeviceSettingsRequest => load::dissect_device_settings(w, false),
            T::DeviceSettingsReply => load::dissect_device_settings(w, true),
            T::StagehandMixerState => stagehand_mixer::dissect_mixer_state(w),
            T::StagehandCommand => stagehand::dissect_command(w),
            T::BinaryDataRequest => lighting::dissect_request(w),
            T::BinaryDataReply => lighting::dissect_data(w),
            T::StagehandPrefWrite => stagehand::dissect_pref_write(w),
            T::TouchAudioTiming => touch_audio::dissect_timing(w),
            T::TouchAudioData => touch_audio::dissect_data(w),
            T::TouchAudioHandover => touch_audio::dissect_handover(w),
            T::RekordboxLink => rekordbox_link::dissect(w, kind.unwrap_or(0)),
            T::Unknown => unknown::dissect_unknown(w, port),
        }
        // Each dissector ends with its own `finish`; this one only guarantees coverage.
        w.finish();
        if let Some(d) = disagreement {
            length::annotate(w, d);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
