//! The detail view: dysentery's packet window in a terminal.
//!
//! Every field with offset, length, raw bytes and meaning; then a hex dump in which bytes that
//! changed since the same device's previous packet of the same kind are highlighted (reverse
//! video in colour, a `*` after the byte without) and bytes of unknown meaning are marked
//! (dim in colour, a `?` without). Derived values are listed after the fields.

use std::fmt::Write as _;

use crate::dissect::{Knowledge, Value};
use crate::record::Record;
use crate::util::hex_spaced;

const RAW_SHOWN: usize = 12;

pub fn write_detail(buf: &mut Vec<u8>, r: &Record<'_>, prev: Option<&[u8]>, color: bool) {
    let d = &r.dissection;
    let bytes = r.bytes;
    let mut s = String::with_capacity(2048);
    let _ = writeln!(
        s,
        "    {} {} kind {} frame {} len {}",
        d.proto.as_str(),
        d.type_name,
        d.kind
            .map(|k| format!("0x{k:02x}"))
            .unwrap_or_else(|| "-".into()),
        r.frame,
        bytes.len()
    );
    let _ = writeln!(
        s,
        "    {:<6} {:>4}  {:<22} {:<37} value",
        "offset", "len", "field", "raw"
    );
    let mut unknown = vec![false; bytes.len()];
    let mut covered = vec![false; bytes.len()];
    let mut fields: Vec<_> = d.fields.iter().filter(|f| f.range.is_some()).collect();
    fields.sort_by_key(|f| f.range.as_ref().map(|r| (r.start, r.end)));
    for f in &fields {
        let range = f.range.clone().unwrap_or(0..0);
        let end = range.end.min(bytes.len());
        for i in range.start.min(end)..end {
            covered[i] = true;
            if f.knowledge == Knowledge::Unknown {
                unknown[i] = true;
            }
        }
        let raw = bytes.get(range.start.min(end)..end).unwrap_or(&[]);
        let mut raw_s = hex_spaced(&raw[..raw.len().min(RAW_SHOWN)]);
        if raw.len() > RAW_SHOWN {
            raw_s.push_str(" ..");
        }
        let value = match (&f.value, f.knowledge) {
            (_, Knowledge::Unknown) => "(unknown)".to_string(),
            (Value::Bytes(_), _) => String::new(),
            (v, _) => short(v),
        };
        let meaning = f.meaning.as_deref().unwrap_or("");
        let sep = if !value.is_empty() && !meaning.is_empty() {
            "  "
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "    0x{:04x} {:>4}  {:<22} {:<37} {value}{sep}{meaning}",
            range.start,
            range.len(),
            f.name,
            raw_s
        );
    }
    for f in d.fields.iter().filter(|f| f.range.is_none()) {
        let meaning = f
            .meaning
            .as_deref()
            .map(|m| format!("  {m}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "    {:<6} {:>4}  {:<22} {:<37} {}{meaning}",
            "",
            "",
            f.name,
            "(derived)",
            short(&f.value)
        );
    }
    // Bytes no field claims: a decoder gap, shown so that every byte is accounted for.
    let mut i = 0;
    while i < bytes.len() {
        if covered[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !covered[i] {
            unknown[i] = true;
            i += 1;
        }
        let _ = writeln!(
            s,
            "    0x{start:04x} {:>4}  {:<22} {}",
            i - start,
            "(undescribed)",
            hex_spaced(&bytes[start..i.min(start + RAW_SHOWN)])
        );
    }
    if let Some(m) = &d.malformed {
        let _ = writeln!(s, "    malformed: {m}");
    }
    hex_dump(&mut s, bytes, prev, &unknown, color);
    if !color {
        s.push_str(
            "    (* changed since this device's previous packet of this kind, ? unknown meaning)\n",
        );
    }
    s.push('\n');
    buf.extend_from_slice(s.as_bytes());
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn hex_dump(s: &mut String, bytes: &[u8], prev: Option<&[u8]>, unknown: &[bool], color: bool) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let _ = write!(s, "    {base:04x}  ");
        for (i, &b) in chunk.iter().enumerate() {
            let at = base + i;
            let changed = prev.is_some_and(|p| p.get(at) != Some(&b));
            let unk = unknown.get(at).copied().unwrap_or(false);
            if color {
                let style = match (changed, unk) {
                    (true, _) => "\x1b[7;33m",
                    (false, true) => "\x1b[2m",
                    _ => "",
                };
                let _ = write!(
                    s,
                    "{style}{b:02x}{}",
                    if style.is_empty() { "" } else { "\x1b[0m" }
                );
                s.push(' ');
            } else {
                let mark = match (changed, unk) {
                    (true, _) => '*',
                    (false, true) => '?',
                    _ => ' ',
                };
                let _ = write!(s, "{b:02x}{mark}");
            }
            if i == 7 {
                s.push(' ');
            }
        }
        for i in chunk.len()..16 {
            s.push_str("   ");
            if i == 7 {
                s.push(' ');
            }
        }
        s.push_str(" |");
        for &b in chunk {
            s.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        s.push_str("|\n");
    }
}
