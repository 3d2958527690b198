//! The detail view: dysentery's packet window in a terminal.
//!
//! Every field with offset, length, raw bytes and meaning (a `*` before the fields that changed);
//! then a hex dump in which bytes that changed since the same device's previous packet of the
//! same port and kind to the same destination (`series.rs`) are highlighted (reverse video in
//! colour, a `*` after the byte without) and bytes of unknown meaning are marked (dim in
//! colour, a `?` without; a changed unknown byte shows both). Derived values are listed after
//! the fields.

use std::fmt::Write as _;

use super::series::Changes;
use crate::dissect::{Knowledge, Value};
use crate::record::Record;
use crate::util::hex_spaced;

const RAW_SHOWN: usize = 12;

pub fn write_detail(buf: &mut Vec<u8>, r: &Record<'_>, changes: Option<&Changes>, color: bool) {
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
    let field_changed =
        |i: usize| changes.is_some_and(|c| c.fields.get(i).copied().unwrap_or(false));
    let mut unknown = vec![false; bytes.len()];
    let mut covered = vec![false; bytes.len()];
    let mut fields: Vec<_> = d
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.range.is_some())
        .collect();
    fields.sort_by_key(|(_, f)| f.range.as_ref().map(|r| (r.start, r.end)));
    for (fi, f) in &fields {
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
        let mark = if field_changed(*fi) { '*' } else { ' ' };
        let name = if color && mark == '*' {
            format!("\x1b[7;33m{:<22}\x1b[0m", f.name)
        } else {
            format!("{:<22}", f.name)
        };
        let _ = writeln!(
            s,
            "  {mark} 0x{:04x} {:>4}  {name} {:<37} {value}{sep}{meaning}",
            range.start,
            range.len(),
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
    let changed = changes.map(|c| c.bytes.as_slice());
    hex_dump(&mut s, bytes, changed, &unknown, color);
    match (changes.is_some(), color) {
        (true, false) => s.push_str(
            "    (* changed since this device's previous packet of this kind to this destination, ? unknown meaning)\n",
        ),
        (false, false) => s.push_str(
            "    (? unknown meaning; the first packet of this kind from this device to this destination: nothing to compare)\n",
        ),
        _ => {}
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

fn hex_dump(s: &mut String, bytes: &[u8], changed: Option<&[bool]>, unknown: &[bool], color: bool) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let _ = write!(s, "    {base:04x}  ");
        for (i, &b) in chunk.iter().enumerate() {
            let at = base + i;
            let changed = changed.is_some_and(|c| c.get(at).copied().unwrap_or(false));
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
                // Two mark columns, so that a changed byte of unknown meaning shows both.
                let _ = write!(
                    s,
                    "{b:02x}{}{}",
                    if changed { '*' } else { ' ' },
                    if unk { '?' } else { ' ' }
                );
            }
            if i == 7 {
                s.push(' ');
            }
        }
        for i in chunk.len()..16 {
            s.push_str(if color { "   " } else { "    " });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::{Dissection, Field, Proto};

    fn field(name: &'static str, range: std::ops::Range<usize>, knowledge: Knowledge) -> Field {
        Field {
            name: name.into(),
            range: Some(range),
            value: Value::U(0),
            meaning: None,
            knowledge,
        }
    }

    #[test]
    fn changed_fields_and_bytes_are_marked_and_a_changed_unknown_byte_shows_both() {
        let mut d = Dissection::new(Proto::ProDjLink, "cdj_status");
        d.fields = vec![
            field("counter", 0..2, Knowledge::Known),
            field("unknown_2", 2..3, Knowledge::Unknown),
            field("steady", 3..4, Knowledge::Known),
        ];
        let bytes = [0x12, 0x34, 0x56, 0x78];
        let r = Record {
            frame: 9,
            ts_ns: 0,
            src: "169.254.1.2:50002".parse().unwrap(),
            dst: "169.254.1.3:50002".parse().unwrap(),
            interface: 0,
            port: 50002,
            bytes: &bytes,
            dissection: d,
            extra: vec![],
        };
        let changes = Changes {
            bytes: vec![false, true, true, false],
            fields: vec![true, true, false],
        };
        let mut b = Vec::new();
        write_detail(&mut b, &r, Some(&changes), false);
        let s = String::from_utf8(b).unwrap();
        let line = |name: &str| s.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(line("counter").starts_with("  * 0x0000"), "{s}");
        assert!(line("unknown_2").starts_with("  * 0x0002"), "{s}");
        assert!(line("steady").starts_with("    0x0003"), "{s}");
        // Unchanged, changed, changed and unknown, unchanged.
        assert!(s.contains("    0000  12  34* 56*?78  "), "{s}");
        // The first packet of a series: no marks, and the legend says why.
        let mut b = Vec::new();
        write_detail(&mut b, &r, None, false);
        let s = String::from_utf8(b).unwrap();
        assert!(!s.contains('*'), "{s}");
        assert!(s.contains("nothing to compare"), "{s}");
    }
}
