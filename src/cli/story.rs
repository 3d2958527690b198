//! The session views `read` writes once the whole capture has been read: `--summary`,
//! `--timeline` and `--conversations`, as text or JSON (docs/json.md).

use std::io::{self, Write};

use serde::Serialize;

use super::{OutputFormat, ReadArgs};
use crate::session::{report, Session};

/// Write the view the arguments ask for. `width`: columns of the summary's tables.
pub fn write(args: &ReadArgs, s: &Session, width: u16, out: &mut impl Write) -> io::Result<()> {
    let json = args.format == OutputFormat::Json;
    if args.summary {
        if json {
            serde_json::to_writer_pretty(&mut *out, &report::summary_json(s))?;
            out.write_all(b"\n")?;
        } else {
            out.write_all(report::summary_text(s, width).as_bytes())?;
        }
    } else if args.timeline {
        if json {
            // NDJSON: one event per line, `frame`, `ts`, `text`.
            for e in &s.timeline {
                json_line(out, e)?;
            }
        } else {
            out.write_all(report::timeline_text(s).as_bytes())?;
        }
    } else if args.conversations {
        if json {
            // NDJSON: one exchange per line, with the connection it belongs to.
            for d in s.dbserver.values() {
                for e in &d.exchanges {
                    json_line(
                        out,
                        &ConversationLine {
                            client: &d.client,
                            server: &d.server,
                            exchange: e,
                        },
                    )?;
                }
            }
        } else {
            out.write_all(report::conversations_text(s).as_bytes())?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ConversationLine<'a> {
    client: &'a str,
    server: &'a str,
    #[serde(flatten)]
    exchange: &'a crate::session::Exchange,
}

fn json_line(out: &mut impl Write, v: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    out.write_all(b"\n")
}
