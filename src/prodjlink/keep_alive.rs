//! Port 50000 keep-alive 0x06 in every known era (`prodjlink.md` section 2, 9.3, 9.5): the
//! 0x36-byte broadcast (nexus, CDJ-3000, DJM-A9, Stagehand, rekordbox lighting) and the 100-byte
//! "paired" unicast a DJM-A9 or CDJ-3000 sends to Stagehand, whose second block names the peer.

use std::net::Ipv4Addr;

use super::header::{
    get_arr, get_ip, get_u8, need, put_tail, set_bytes, set_ip, set_u8, tail, AnnounceHeader,
};
use super::walker::{dissect_announce, Summary, Walker};
use super::Error;
use crate::dissect::Value;

mod field {
    use std::ops::Range;

    pub const DEVICE: Range<usize> = 0x24..0x25;
    /// `01`/`02`: CDJ/mixer per dysentery, "booted alone" per UE; unexplained (13).
    pub const ROLE_FLAG: Range<usize> = 0x25..0x26;
    pub const MAC: Range<usize> = 0x26..0x2c;
    pub const IP: Range<usize> = 0x2c..0x30;
    /// Devices this unit sees, itself included.
    pub const PEERS: Range<usize> = 0x30..0x31;
    /// Mostly zero (PDJL: 0x31 = `01` from rekordbox).
    pub const UNKNOWN_31: Range<usize> = 0x31..0x34;
    pub const DEVICE_TYPE: Range<usize> = 0x34..0x35;
    /// Per-product model code (DYS-SH "model code").
    pub const MODEL: Range<usize> = 0x35..0x36;
    pub const LEN: usize = 0x36;

    /// Paired variant (DYS-SH "A9 paired keep-alive" diagram): 14 zero bytes, then the peer's
    /// block in the layout of 0x24..0x36, then 14 zero bytes.
    pub mod paired {
        use std::ops::Range;
        pub const UNKNOWN_36: Range<usize> = 0x36..0x44;
        pub const DEVICE: Range<usize> = 0x44..0x45;
        pub const ROLE_FLAG: Range<usize> = 0x45..0x46;
        pub const MAC: Range<usize> = 0x46..0x4c;
        pub const IP: Range<usize> = 0x4c..0x50;
        pub const PEERS: Range<usize> = 0x50..0x51;
        pub const UNKNOWN_51: Range<usize> = 0x51..0x54;
        pub const DEVICE_TYPE: Range<usize> = 0x54..0x55;
        pub const MODEL: Range<usize> = 0x55..0x56;
        pub const UNKNOWN_56: Range<usize> = 0x56..0x64;
        pub const LEN: usize = 0x64;
    }
}

/// Keep-alive 0x06, broadcast every 1.5-2 s by every device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepAlive {
    pub header: AnnounceHeader,
    pub device: u8,
    pub role_flag: u8,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub peers: u8,
    pub unknown_31: [u8; 3],
    /// `01` CDJ, `02` DJM-2000nexus, `03` DJM-A9, `04` rekordbox, `05` Stagehand (PPL: bit flags).
    pub device_type: u8,
    /// `00` legacy/NXS-GW, `64` CDJ-3000, `31` DJM-A9, `20` Stagehand, `08` rekordbox lighting.
    pub model: u8,
    /// The Stagehand peer block of the 100-byte paired variant.
    pub paired: Option<PairedPeer>,
    /// Bytes after the known layout.
    pub extra: Vec<u8>,
}

/// Second block of the paired keep-alive: the Stagehand peer the sender serves (DYS-SH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedPeer {
    pub unknown_36: [u8; 14],
    /// `3a`, Stagehand's symbolic number.
    pub device: u8,
    pub role_flag: u8,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub peers: u8,
    pub unknown_51: [u8; 3],
    pub device_type: u8,
    pub model: u8,
    pub unknown_56: [u8; 14],
}

impl PairedPeer {
    /// A Stagehand peer (`3a`, `01`, type `05`, model `20`) as in the DYS-SH diagram.
    pub fn stagehand(mac: [u8; 6], ip: Ipv4Addr) -> Self {
        PairedPeer {
            unknown_36: [0; 14],
            device: 0x3a,
            role_flag: 1,
            mac,
            ip,
            peers: 0,
            unknown_51: [0; 3],
            device_type: 5,
            model: 0x20,
            unknown_56: [0; 14],
        }
    }
}

impl KeepAlive {
    pub const KIND: u8 = 0x06;

    /// A nexus-era CDJ keep-alive (structure `02`, type `01`, model `00`).
    pub fn cdj(name: &str, device: u8, mac: [u8; 6], ip: Ipv4Addr, peers: u8) -> Self {
        KeepAlive {
            header: AnnounceHeader::new(name, field::LEN),
            device,
            role_flag: 1,
            mac,
            ip,
            peers,
            unknown_31: [0; 3],
            device_type: 1,
            model: 0,
            paired: None,
            extra: Vec::new(),
        }
    }

    /// The CDJ-3000-compatible form: structure `03`, model `64` (9.3).
    pub fn cdj3000(name: &str, device: u8, mac: [u8; 6], ip: Ipv4Addr, peers: u8) -> Self {
        let mut k = KeepAlive::cdj(name, device, mac, ip, peers);
        k.header.structure = 3;
        k.model = 0x64;
        k
    }

    /// The rekordbox-lighting keep-alive that makes an OPUS-QUAD talk (9.5 OPUS-QUAD).
    pub fn rekordbox_lighting(mac: [u8; 6], ip: Ipv4Addr) -> Self {
        let mut k = KeepAlive::cdj("rekordbox", 0x17, mac, ip, 4);
        k.header.structure = 3;
        k.unknown_31 = [1, 0, 0];
        k.device_type = 4;
        k.model = 8;
        k
    }

    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        use field::*;
        need("keep_alive", b, LEN)?;
        let paired = (b.len() >= paired::LEN).then(|| PairedPeer {
            unknown_36: get_arr(b, paired::UNKNOWN_36),
            device: get_u8(b, paired::DEVICE),
            role_flag: get_u8(b, paired::ROLE_FLAG),
            mac: get_arr(b, paired::MAC),
            ip: get_ip(b, paired::IP),
            peers: get_u8(b, paired::PEERS),
            unknown_51: get_arr(b, paired::UNKNOWN_51),
            device_type: get_u8(b, paired::DEVICE_TYPE),
            model: get_u8(b, paired::MODEL),
            unknown_56: get_arr(b, paired::UNKNOWN_56),
        });
        let extra_at = if paired.is_some() { paired::LEN } else { LEN };
        Ok(KeepAlive {
            header: AnnounceHeader::parse(b),
            device: get_u8(b, DEVICE),
            role_flag: get_u8(b, ROLE_FLAG),
            mac: get_arr(b, MAC),
            ip: get_ip(b, IP),
            peers: get_u8(b, PEERS),
            unknown_31: get_arr(b, UNKNOWN_31),
            device_type: get_u8(b, DEVICE_TYPE),
            model: get_u8(b, MODEL),
            paired,
            extra: tail(b, extra_at),
        })
    }

    fn extra_at(&self) -> usize {
        if self.paired.is_some() {
            field::paired::LEN
        } else {
            field::LEN
        }
    }

    pub fn buffer_len(&self) -> usize {
        self.extra_at() + self.extra.len()
    }

    pub fn emit(&self, buf: &mut [u8]) {
        use field::*;
        self.header.emit(Self::KIND, buf);
        set_u8(buf, DEVICE, self.device);
        set_u8(buf, ROLE_FLAG, self.role_flag);
        set_bytes(buf, MAC, &self.mac);
        set_ip(buf, IP, self.ip);
        set_u8(buf, PEERS, self.peers);
        set_bytes(buf, UNKNOWN_31, &self.unknown_31);
        set_u8(buf, DEVICE_TYPE, self.device_type);
        set_u8(buf, MODEL, self.model);
        if let Some(p) = &self.paired {
            set_bytes(buf, paired::UNKNOWN_36, &p.unknown_36);
            set_u8(buf, paired::DEVICE, p.device);
            set_u8(buf, paired::ROLE_FLAG, p.role_flag);
            set_bytes(buf, paired::MAC, &p.mac);
            set_ip(buf, paired::IP, p.ip);
            set_u8(buf, paired::PEERS, p.peers);
            set_bytes(buf, paired::UNKNOWN_51, &p.unknown_51);
            set_u8(buf, paired::DEVICE_TYPE, p.device_type);
            set_u8(buf, paired::MODEL, p.model);
            set_bytes(buf, paired::UNKNOWN_56, &p.unknown_56);
        }
        put_tail(buf, self.extra_at(), &self.extra);
    }
}

fn device_type_meaning(v: u64) -> Option<String> {
    let enum_name = match v {
        1 => "CDJ",
        2 => "mixer (DJM-2000nexus)",
        3 => "mixer type 3 (DJM-A9)",
        4 => "rekordbox",
        5 => "Stagehand",
        _ => "not in the enum",
    };
    Some(format!(
        "{enum_name}; as flag bits: {}{}{}{}",
        if v & 1 != 0 { "player " } else { "" },
        if v & 2 != 0 { "mixer " } else { "" },
        if v & 4 != 0 { "rekordbox " } else { "" },
        if v & 8 != 0 { "NXS-GW" } else { "" },
    ))
}

fn model_meaning(v: u64) -> Option<String> {
    Some(
        match v {
            0x00 => "00: legacy / NXS-GW",
            0x08 => "08: rekordbox lighting",
            0x20 => "20: Stagehand",
            0x31 => "31: DJM-A9",
            0x64 => "64: CDJ-3000",
            // The CDJ-3000X (fw 1.31) and a DJM-A9 beside it send the codes above with the
            // high bit set (key2/libdjlink ARCHITECTURE.md 1.4.1).
            0xe4 => "e4: CDJ-3000X (64 with the high bit set)",
            0xb1 => "b1: DJM-A9 (31 with the high bit set)",
            _ => "model code not seen before",
        }
        .to_string(),
    )
}

fn role_meaning(v: u64) -> Option<String> {
    Some(format!(
        "{v:02x}: meaning unsettled: a CDJ or a mixer by one account, a device that started alone by another"
    ))
}

pub(crate) fn dissect(w: &mut Walker<'_>) {
    use field::*;
    dissect_announce(w);
    let d = w.uint("device_number", DEVICE);
    if let Some(d) = d {
        w.out().device = Some(d as u32);
        let name = w.out().name.clone();
        if let Some(deck) = super::header::opus_deck(name.as_deref(), d as u8) {
            w.derived("deck", crate::dissect::Value::U(deck as u64));
        }
    }
    w.uint_with("role_flag", ROLE_FLAG, role_meaning);
    let mac = w.mac("mac", MAC);
    let ip = w.ip("ip", IP);
    let peers = w.uint("peers", PEERS);
    w.uint_with("device_type", DEVICE_TYPE, device_type_meaning);
    w.uint_with("model", MODEL, model_meaning);
    let mut peer = None;
    if w.len() >= paired::LEN {
        use paired::*;
        w.skip_to(DEVICE.start);
        peer = w.uint("peer_device", DEVICE);
        w.uint_with("peer_role_flag", ROLE_FLAG, role_meaning);
        w.mac("peer_mac", MAC);
        let peer_ip = w.ip("peer_ip", IP);
        w.uint("peer_peers", PEERS);
        w.skip_to(DEVICE_TYPE.start);
        w.uint_with("peer_device_type", DEVICE_TYPE, device_type_meaning);
        w.uint_with("peer_model", MODEL, model_meaning);
        peer = peer.zip(peer_ip).map(|(d, _)| d);
    }
    w.expect_len(LEN);
    w.finish();
    let mut s = Summary::new();
    if let Some(d) = d {
        s.text("D").uint(d);
    }
    if let Some(Value::Str(ip)) = &ip {
        s.text(" at ").text(ip);
    }
    if let Some(Value::Str(m)) = &mac {
        s.text(" ").text(m);
    }
    if let Some(p) = peers {
        s.text(", sees ").uint(p);
    }
    if let Some(p) = peer {
        s.text(", paired with peer ").hex2(p as u8);
    }
    w.out().summary = s.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prodjlink::testutil::{check, hex};

    // S01-cold-boot-a, CDJ-2000nexus fw 1.44 (prodjlink.md 15).
    const NEXUS: &str = "5173707431576d4a4f4c060043444a2d323030306e6578757300000000000000010200360102745e1c5667aca9fe67ac010000000100";
    // powerup.pcapng, DJM-2000nexus: D=0x21, type 02.
    const DJM: &str = "5173707431576d4a4f4c0600444a4d2d323030306e6578757300000000000000010200362102745e1c35633cac102a03010000000200";

    #[test]
    fn nexus_keep_alive_both_directions() {
        let b = hex(NEXUS);
        let k = KeepAlive::parse(&b).unwrap();
        let mut expected = KeepAlive::cdj(
            "CDJ-2000nexus",
            1,
            [0x74, 0x5e, 0x1c, 0x56, 0x67, 0xac],
            Ipv4Addr::new(169, 254, 103, 172),
            1,
        );
        expected.role_flag = 2;
        assert_eq!(k, expected);
        assert_eq!(expected.to_bytes(), b);
        let d = check(50000, &b);
        assert_eq!(d.type_name, "keep_alive");
        assert_eq!(d.device, Some(1));
        assert_eq!(d.field("ip").unwrap().as_str(), Some("169.254.103.172"));
        assert_eq!(d.field("mac").unwrap().as_str(), Some("74:5e:1c:56:67:ac"));
        assert_eq!(d.field("peers").unwrap().as_u64(), Some(1));
        assert_eq!(d.field("device_type").unwrap().as_u64(), Some(1));
    }

    #[test]
    fn mixer_keep_alive() {
        let b = hex(DJM);
        let k = KeepAlive::parse(&b).unwrap();
        assert_eq!((k.device, k.device_type, k.peers), (0x21, 2, 1));
        assert_eq!(k.ip, Ipv4Addr::new(172, 16, 42, 3));
        assert_eq!(k.to_bytes(), b);
        check(50000, &b);
    }

    #[test]
    fn prolink_connect_and_libcdj_fixtures() {
        // prolink-connect__announce-cdj-2.dat: CDJ-2000nexus D2 at 10.0.0.207, 4 peers.
        let b = hex("5173707431576d4a4f4c060043444a2d323030306e6578757300000000000000010200360202745e1c5782d80a0000cf040000000100");
        let k = KeepAlive::parse(&b).unwrap();
        assert_eq!((k.device, k.peers), (2, 4));
        assert_eq!(k.ip, Ipv4Addr::new(10, 0, 0, 207));
        assert_eq!(k.to_bytes(), b);
        // libcdj__cdj-keep-alive.dump: XDJ-1000 D5.
        let b = hex("5173707431576d4a4f4c060058444a2d31303030000000000000000000000000010200360502121314151617c0a80121030000000100");
        let k = KeepAlive::parse(&b).unwrap();
        assert_eq!(k.header.name.text(), "XDJ-1000");
        assert_eq!((k.device, k.peers), (5, 3));
        assert_eq!(k.to_bytes(), b);
        check(50000, &b);
    }

    #[test]
    fn built_variants_round_trip() {
        let mac = [0xc8, 0x3d, 0xfc, 1, 2, 3];
        let ip = Ipv4Addr::new(169, 254, 1, 5);
        let cdj3000 = KeepAlive::cdj3000("CDJ-3000", 5, mac, ip, 3);
        let b = cdj3000.to_bytes();
        assert_eq!((b[0x21], b[0x34], b[0x35]), (3, 1, 0x64));
        assert_eq!(KeepAlive::parse(&b).unwrap(), cdj3000);
        check(50000, &b);

        // The rekordbox-lighting template bytes 0x30..0x36 are `04 01 00 00 04 08` (9.5).
        let rb = KeepAlive::rekordbox_lighting(mac, ip).to_bytes();
        assert_eq!(&rb[0x30..0x36], &[4, 1, 0, 0, 4, 8]);
        assert_eq!((rb[0x21], rb[0x24]), (3, 0x17));

        let mut a9 = KeepAlive::cdj("DJM-A9", 0x21, mac, ip, 2);
        a9.role_flag = 2;
        a9.device_type = 3;
        a9.model = 0x31;
        a9.paired = Some(PairedPeer::stagehand(
            [0xc8, 0x3d, 0xfc, 9, 9, 9],
            Ipv4Addr::new(169, 254, 1, 9),
        ));
        a9.header.length = 0x64;
        let b = a9.to_bytes();
        assert_eq!(b.len(), 100);
        assert_eq!((b[0x44], b[0x45], b[0x54], b[0x55]), (0x3a, 1, 5, 0x20));
        assert_eq!(KeepAlive::parse(&b).unwrap(), a9);
        let d = check(50000, &b);
        assert_eq!(d.field("peer_ip").unwrap().as_str(), Some("169.254.1.9"));
        assert!(d.summary.contains("paired with peer 3a"), "{}", d.summary);
    }

    #[test]
    fn truncated_keep_alive() {
        let b = hex(NEXUS);
        assert!(matches!(
            KeepAlive::parse(&b[..0x30]),
            Err(Error::Truncated {
                need: 0x36,
                have: 0x30,
                ..
            })
        ));
        let d = crate::prodjlink::dissect(50000, &b[..0x30], false);
        assert_eq!(d.type_name, "keep_alive");
        assert!(d.malformed.is_some());
        assert_eq!(d.field("mac").unwrap().as_str(), Some("74:5e:1c:56:67:ac"));
        assert!(d.field("peers").is_none());
    }

    /// The CDJ-3000X and the DJM-A9 beside it send their model codes with the high bit set
    /// (key2/libdjlink ARCHITECTURE.md 1.4.1): named, not "not seen before".
    #[test]
    fn cdj_3000x_and_a9_model_codes() {
        let ip = std::net::Ipv4Addr::new(169, 254, 7, 185);
        for (name, model, words) in [("CDJ-3000X", 0xe4, "CDJ-3000X"), ("DJM-A9", 0xb1, "DJM-A9")] {
            let mut k = KeepAlive::cdj3000(name, 1, [0; 6], ip, 4);
            k.model = model;
            let b = k.to_bytes();
            assert_eq!(KeepAlive::parse(&b).unwrap(), k);
            let d = crate::prodjlink::dissect(50000, &b, true);
            let f = d.fields.iter().find(|f| f.name == "model").unwrap();
            assert!(
                f.meaning.as_deref().unwrap().contains(words),
                "{:?}",
                f.meaning
            );
        }
    }
}
