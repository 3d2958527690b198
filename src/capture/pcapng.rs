//! pcapng blocks (pcapng spec, IETF draft-ietf-opsawg-pcapng): the generic block framing with
//! its checks, the bodies djdissect needs (section header, interface description, enhanced,
//! simple and obsolete packet blocks), and the test for "a valid block starts here" that
//! resynchronisation after damage relies on.
//!
//! Every block is `type u32, total length u32, body, total length u32` in the section's byte
//! order; the total length is a multiple of 4 of at least 12 (draft section 3.1). The section
//! header's type reads the same in both orders; its byte-order magic decides the order.

use super::reader::MAX_BLOCK;

pub const SHB: u32 = 0x0A0D_0D0A;
pub const IDB: u32 = 0x0000_0001;
/// Obsolete Packet Block (draft appendix "Packet Block (obsolete)").
pub const OPB: u32 = 0x0000_0002;
pub const SPB: u32 = 0x0000_0003;
pub const NRB: u32 = 0x0000_0004;
pub const ISB: u32 = 0x0000_0005;
pub const EPB: u32 = 0x0000_0006;
/// systemd Journal Export, Decryption Secrets, Custom (copiable and not), Process Information.
const OTHER_KNOWN: [u32; 5] = [
    0x0000_0009,
    0x0000_000A,
    0x0000_0BAD,
    0x4000_0BAD,
    0x8000_0001,
];
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Read a u32 in the section's byte order.
pub fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

/// Block type and total length from the first 8 (section header: 12) bytes, in the byte
/// order the block itself uses. `Ok(None)`: too few bytes to tell.
pub fn header(b: &[u8], section_big_endian: bool) -> Result<Option<(u32, usize, bool)>, String> {
    let Some(ty) = u32_at(b, 0, section_big_endian) else {
        return Ok(None);
    };
    let big_endian = if ty == SHB {
        match u32_at(b, 8, false) {
            None => return Ok(None),
            Some(BYTE_ORDER_MAGIC) => false,
            Some(m) if m == BYTE_ORDER_MAGIC.swap_bytes() => true,
            Some(m) => {
                return Err(format!(
                    "section header block with a bad byte-order magic 0x{m:08x}"
                ))
            }
        }
    } else {
        section_big_endian
    };
    let Some(len) = u32_at(b, 4, big_endian) else {
        return Ok(None);
    };
    Ok(Some((ty, len as usize, big_endian)))
}

/// The smallest total length a block of this type can have.
fn min_len(ty: u32) -> usize {
    match ty {
        SHB => 28,
        IDB => 20,
        EPB | OPB => 32,
        SPB => 16,
        ISB => 24,
        _ => 12,
    }
}

/// Why a declared total length cannot be right, if it cannot.
pub fn length_problem(ty: u32, len: usize) -> Option<String> {
    if len % 4 != 0 || len < min_len(ty) {
        Some(format!(
            "block of type 0x{ty:08x} declares a total length of {len}, not a multiple of 4 \
             of at least {}",
            min_len(ty)
        ))
    } else if len > MAX_BLOCK {
        Some(format!(
            "block of type 0x{ty:08x} claims {len} bytes, more than the {MAX_BLOCK}-byte \
             limit (damaged length field)"
        ))
    } else {
        None
    }
}

/// Check a whole block (`b.len() == len`): trailing length and the body of the types read.
pub fn check_block(b: &[u8], ty: u32, big_endian: bool) -> Result<(), String> {
    let len = b.len();
    let trailer = u32_at(b, len - 4, big_endian).unwrap_or(0) as usize;
    if trailer != len {
        return Err(format!(
            "block of type 0x{ty:08x} and length {len} ends with the length {trailer}"
        ));
    }
    match ty {
        SHB => {
            let major = u16_at(b, 12, big_endian).unwrap_or(0);
            if major != 1 {
                return Err(format!("section header block of unknown version {major}"));
            }
        }
        EPB | OPB => {
            let caplen = u32_at(b, 20, big_endian).unwrap_or(0) as usize;
            if caplen > len - 32 {
                return Err(format!(
                    "packet block of {len} bytes claims {caplen} captured bytes"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Could a block start at `b[0]`? Only the header is looked at: a known type and a length
/// that fits. The caller then checks the whole block with [`check_block`].
pub fn plausible_start(b: &[u8], section_big_endian: bool) -> Option<(u32, usize, bool)> {
    let (ty, len, be) = header(b, section_big_endian).ok()??;
    let known = matches!(ty, SHB | IDB | OPB | SPB | NRB | ISB | EPB) || OTHER_KNOWN.contains(&ty);
    (known && length_problem(ty, len).is_none()).then_some((ty, len, be))
}

/// What an interface description block says (draft 4.2).
pub struct InterfaceDescription {
    pub link_type: u32,
    /// `if_tsresol` (default 6: microseconds).
    pub tsresol: u8,
    /// `if_tsoffset` in seconds (default 0).
    pub tsoffset: i64,
}

/// Parse an interface description block. Options that run past the block end the option
/// list without failing the block: its link type is still good, and losing the interface
/// would make every later packet undecodable.
pub fn interface_description(b: &[u8], big_endian: bool) -> InterfaceDescription {
    let mut idb = InterfaceDescription {
        link_type: u16_at(b, 8, big_endian).unwrap_or(0) as u32,
        tsresol: 6,
        tsoffset: 0,
    };
    let end = b.len().saturating_sub(4);
    let mut at = 16;
    while at + 4 <= end {
        let (Some(code), Some(olen)) = (u16_at(b, at, big_endian), u16_at(b, at + 2, big_endian))
        else {
            break;
        };
        let value = at + 4;
        let olen = olen as usize;
        let Some(v) = b.get(value..value + olen).filter(|_| value + olen <= end) else {
            break;
        };
        match (code, olen) {
            (0, _) => break,
            (9, 1) => idb.tsresol = v[0],
            (14, 8) => {
                let a: [u8; 8] = v.try_into().unwrap_or([0; 8]);
                idb.tsoffset = if big_endian {
                    i64::from_be_bytes(a)
                } else {
                    i64::from_le_bytes(a)
                };
            }
            _ => {}
        }
        at = value + olen + (4 - olen % 4) % 4;
    }
    idb
}

/// A packet block's facts; `data` is a range inside the block.
pub struct Packet {
    pub interface: u32,
    /// Raw timestamp in interface units; None for a simple packet block (it has none).
    pub ts: Option<u64>,
    pub orig_len: u32,
    pub data: std::ops::Range<usize>,
}

/// Enhanced (draft 4.3), simple (4.4) or obsolete packet block, already checked by
/// [`check_block`].
pub fn packet(b: &[u8], ty: u32, big_endian: bool) -> Packet {
    let u32_ = |at| u32_at(b, at, big_endian).unwrap_or(0);
    let len = b.len();
    match ty {
        SPB => {
            // The captured length is the smaller of the original length and the room left.
            let orig_len = u32_(8);
            let room = len - 16;
            Packet {
                interface: 0,
                ts: None,
                orig_len,
                data: 12..12 + room.min(orig_len as usize),
            }
        }
        _ => {
            let (interface, orig_len) = if ty == OPB {
                (u16_at(b, 8, big_endian).unwrap_or(0) as u32, u32_(24))
            } else {
                (u32_(8), u32_(24))
            };
            let caplen = (u32_(20) as usize).min(len - 32);
            Packet {
                interface,
                ts: Some((u64::from(u32_(12)) << 32) | u64::from(u32_(16))),
                orig_len,
                data: 28..28 + caplen,
            }
        }
    }
}
