//! NDJSON records (schema in docs/json.md). Written by hand into a reused buffer: this is the
//! hot path of `read --format json`.

use std::io::Write as _;

use super::series::Changes;
use crate::dissect::value::write_json_str;
use crate::dissect::{Knowledge, Value};
use crate::record::Record;

pub fn write_record(out: &mut Vec<u8>, r: &Record<'_>, detail: bool, changes: Option<&Changes>) {
    let d = &r.dissection;
    let mut ib = itoa::Buffer::new();
    out.extend_from_slice(b"{\"frame\":");
    out.extend_from_slice(ib.format(r.frame).as_bytes());
    out.extend_from_slice(b",\"ts\":\"");
    super::time::push_rfc3339(out, r.ts_ns);
    out.extend_from_slice(b"\",\"src\":\"");
    // Socket addresses contain nothing JSON needs escaped.
    super::numbers::push_socket_addr(out, &r.src);
    out.extend_from_slice(b"\",\"dst\":\"");
    super::numbers::push_socket_addr(out, &r.dst);
    out.push(b'"');
    out.extend_from_slice(b",\"proto\":\"");
    out.extend_from_slice(d.proto.as_str().as_bytes());
    out.extend_from_slice(b"\",\"port\":");
    out.extend_from_slice(ib.format(r.port).as_bytes());
    out.extend_from_slice(b",\"kind\":");
    match d.kind {
        Some(k) => {
            // `"0x{k:02x}"` without the formatting machinery.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\"0x");
            if k > 0xff {
                let _ = write!(out, "{k:02x}");
            } else {
                out.push(HEX[(k >> 4) as usize]);
                out.push(HEX[(k & 15) as usize]);
            }
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"type\":");
    write_json_str(out, &d.type_name);
    out.extend_from_slice(b",\"device\":");
    match d.device {
        Some(v) => out.extend_from_slice(ib.format(v).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"name\":");
    match &d.name {
        Some(n) => write_json_str(out, n),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"len\":");
    out.extend_from_slice(ib.format(r.bytes.len()).as_bytes());
    out.extend_from_slice(b",\"summary\":");
    write_json_str(out, &d.summary);
    out.extend_from_slice(b",\"fields\":{");
    // Fields written as JSON by the dissector (Depth::Json), then any kept as a list.
    out.extend_from_slice(&d.fields_json);
    let mut first = d.fields_json.is_empty();
    for f in d
        .fields
        .iter()
        .filter(|f| f.knowledge != Knowledge::Unknown)
    {
        if !first {
            out.push(b',');
        }
        first = false;
        write_json_str(out, &f.name);
        out.push(b':');
        f.value.write_json(out);
    }
    out.push(b'}');
    for (k, v) in &r.extra {
        out.push(b',');
        write_json_str(out, k);
        out.push(b':');
        v.write_json(out);
    }
    if let Some(m) = &d.malformed {
        out.extend_from_slice(b",\"malformed\":");
        write_json_str(out, m);
    }
    if detail {
        out.extend_from_slice(b",\"layout\":[");
        let mut first = true;
        for (fi, f) in d.fields.iter().enumerate() {
            let Some(range) = &f.range else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\"name\":");
            write_json_str(out, &f.name);
            out.extend_from_slice(b",\"offset\":");
            out.extend_from_slice(ib.format(range.start).as_bytes());
            out.extend_from_slice(b",\"len\":");
            out.extend_from_slice(ib.format(range.len()).as_bytes());
            out.extend_from_slice(b",\"hex\":");
            Value::Bytes(r.bytes.get(range.clone()).unwrap_or(&[]).to_vec()).write_json(out);
            out.extend_from_slice(b",\"known\":");
            out.extend_from_slice(if f.knowledge == Knowledge::Unknown {
                b"false"
            } else {
                b"true"
            });
            if let Some(m) = &f.meaning {
                out.extend_from_slice(b",\"meaning\":");
                write_json_str(out, m);
            }
            if changes.is_some_and(|c| c.fields.get(fi) == Some(&true)) {
                out.extend_from_slice(b",\"changed\":true");
            }
            out.push(b'}');
        }
        out.push(b']');
        if let Some(c) = changes {
            out.extend_from_slice(b",\"changed\":[");
            let mut first = true;
            for (i, _) in c.bytes.iter().enumerate().filter(|(_, c)| **c) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(ib.format(i).as_bytes());
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}
