//! Renderings of a [`Session`]: `--summary` tables, the `--summary --format json` document
//! (schema in docs/json.md) and the `--timeline` story.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, Width};
use serde_json::{json, Value as Json};

use super::limits::Shown;
use super::Session;

/// Columns whose values are never wrapped: addresses, times, numbers and counts (a split IP or
/// MAC address cannot be copied, and reads as two).
const WHOLE: [&str; 13] = [
    "ip",
    "mac",
    "from",
    "client",
    "server",
    "frame",
    "#",
    "time",
    "first seen",
    "last seen",
    "left",
    "master",
    "number",
];

fn table(header: &[&str], width: u16) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.to_vec());
    for (i, h) in header.iter().enumerate() {
        let Some(c) = t.column_mut(i) else { continue };
        if WHOLE.contains(h) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        } else {
            // A header word is never cut in two either (the width counts the padding).
            let longest = h.split(' ').map(str::len).max().unwrap_or(1) as u16;
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(longest + 2)));
        }
    }
    t
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Players in number order (deck, then device number), whatever their addresses.
fn players_in_order(s: &Session) -> Vec<&super::players::Player> {
    let mut v: Vec<_> = s.players.players.values().collect();
    v.sort_by_key(|p| (p.deck, p.device, p.ip));
    v
}

/// `2017-07-14 01:00:58 UTC`, or the span `from ... to ...` with the second date only when it
/// differs: the tables give times of day, this line gives their date.
fn span_utc(first: i128, last: i128) -> String {
    let (a, b) = (super::ts(first), super::ts(last));
    let day = |t: &str| t.get(..10).unwrap_or(t).to_string();
    let time = |t: &str| t.get(11..23).unwrap_or(t).to_string();
    if day(&a) == day(&b) {
        format!(
            "Captured on {} from {} to {} UTC",
            day(&a),
            time(&a),
            time(&b)
        )
    } else {
        format!(
            "Captured from {} {} to {} {} UTC",
            day(&a),
            time(&a),
            day(&b),
            time(&b)
        )
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

/// The `--summary` text: one table per part of the story.
pub fn summary_text(s: &Session, width: u16) -> String {
    let mut out = String::new();
    let span = match (s.first_ns, s.last_ns) {
        (Some(a), Some(b)) => format!("{:.3} s\n{}", (b - a) as f64 / 1e9, span_utc(a, b)),
        _ => "empty".into(),
    };
    out.push_str(&format!(
        "{} records ({} duplicate frames from a second capture interface counted once), {span}\n\n",
        s.records, s.duplicates
    ));

    out.push_str("Devices (times UTC)\n");
    let mut t = table(
        &[
            "ip",
            "#",
            "name",
            "role",
            "mac",
            "firmware",
            "first seen",
            "last seen",
            "left",
            "packets",
        ],
        width,
    );
    for d in s.devices.devices.values() {
        let packets: u64 = d.packets.values().sum();
        t.add_row(vec![
            d.ip.to_string(),
            if d.protocol == "stagelinq" {
                "-".into()
            } else {
                d.device.to_string()
            },
            opt(&d.name),
            if d.protocol == "stagelinq" {
                format!("stagelinq {}", opt(&d.model))
            } else {
                d.role.to_string()
            },
            opt(&d.mac),
            opt(&d.firmware),
            short_ts(&d.first_seen),
            short_ts(&d.last_seen),
            d.left
                .as_deref()
                .map(short_ts)
                .unwrap_or_else(|| "-".into()),
            packets.to_string(),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');

    if !s.devices.claims.is_empty() {
        out.push_str("\nNumber claims (times UTC)\n");
        let mut t = table(&["frame", "time", "from", "step", "number", "what"], width);
        for c in s.devices.claims.shown() {
            t.add_row(match c {
                Shown::Entry(c) => vec![
                    c.frame.to_string(),
                    short_ts(&c.ts),
                    c.ip.to_string(),
                    c.step.clone(),
                    opt(&c.number),
                    c.text.clone(),
                ],
                Shown::Gap(n) => gap_row(6, n, "claims"),
            });
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    for p in players_in_order(s) {
        out.push_str(&format!(
            "\nPlayer {} ({} #{} at {}): {} (times UTC)\n",
            p.deck,
            p.name.as_deref().unwrap_or("?"),
            p.device,
            p.ip,
            plural(p.events.total() as usize, "event", "events")
        ));
        if p.events.is_empty() {
            continue;
        }
        let mut t = table(&["frame", "time", "event", "what"], width);
        for e in p.events.shown() {
            t.add_row(match e {
                Shown::Entry(e) => vec![
                    e.frame.to_string(),
                    short_ts(&e.ts),
                    e.event.to_string(),
                    e.text.clone(),
                ],
                Shown::Gap(n) => gap_row(4, n, "events"),
            });
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    if !s.master_history.is_empty() {
        out.push_str("\nTempo master (times UTC)\n");
        let mut t = table(&["frame", "time", "master", "what"], width);
        for m in s.master_history.shown() {
            t.add_row(match m {
                Shown::Entry(m) => vec![
                    m.frame.to_string(),
                    short_ts(&m.ts),
                    opt(&m.player),
                    m.text.clone(),
                ],
                Shown::Gap(n) => gap_row(4, n, "changes"),
            });
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    if !s.dbserver.is_empty() {
        out.push_str("\ndbserver sessions\n");
        if s.connections_left_out > 0 {
            out.push_str(&format!(
                "({} more connections left out: the first {} and the newest are kept)\n",
                s.connections_left_out,
                super::limits::FIRST_CONNECTIONS
            ));
        }
        let mut t = table(
            &[
                "client", "server", "requests", "answers", "errors", "mean ms", "worst ms",
            ],
            width,
        );
        for d in s.dbserver.values() {
            t.add_row(vec![
                d.client.clone(),
                d.server.clone(),
                d.requests.to_string(),
                d.answers.to_string(),
                d.errors.to_string(),
                d.mean_latency_ms
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "-".into()),
                d.worst_latency_ms
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    if !s.stagelinq.devices.is_empty() {
        out.push_str("\nStageLinQ devices\n");
        let mut t = table(
            &[
                "ip",
                "services",
                "subscriptions",
                "deck",
                "title",
                "artist",
                "bpm",
                "playing",
                "on air",
            ],
            width,
        );
        for (ip, d) in &s.stagelinq.devices {
            let services: Vec<String> =
                d.services.iter().map(|(n, p)| format!("{n}:{p}")).collect();
            let subs = d.subscriptions.len().to_string();
            if d.decks.is_empty() {
                t.add_row(vec![
                    ip.to_string(),
                    services.join(" "),
                    subs.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            for (n, deck) in &d.decks {
                t.add_row(vec![
                    ip.to_string(),
                    services.join(" "),
                    subs.clone(),
                    n.to_string(),
                    opt(&deck.title),
                    opt(&deck.artist),
                    deck.bpm
                        .or(deck.beatinfo_bpm)
                        .map(|b| format!("{b:.2}"))
                        .unwrap_or_else(|| "-".into()),
                    opt(&deck.playing),
                    deck.on_air.to_string(),
                ]);
            }
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    let transfers: Vec<String> = s
        .stagelinq
        .devices
        .iter()
        .flat_map(|(ip, d)| d.transfers.values().map(move |t| format!("  {ip}: {t}\n")))
        .collect();
    if !transfers.is_empty() {
        out.push_str("\nStageLinQ file transfers\n");
        out.extend(transfers);
    }

    let omitted = s.omitted_total();
    if omitted > 0 {
        out.push_str(&format!(
            "\n{omitted} devices, events or entries were not kept: the story's bounds were reached (devices {}, players {}, dbserver connections {}, tracks {}; of each list of events the first and the newest are kept: timeline {}, claims and changes {}, events per player {}, exchanges per connection {})\n",
            super::limits::MAX_DEVICES,
            super::limits::MAX_PLAYERS,
            super::limits::MAX_CONNECTIONS,
            super::limits::MAX_TRACKS,
            super::limits::Timeline::<()>::CAPACITY,
            super::limits::Changes::<()>::CAPACITY,
            super::limits::PlayerEvents::<()>::CAPACITY,
            super::limits::Exchanges::<()>::CAPACITY,
        ));
    }

    out.push_str("\nNow playing: ");
    match &s.now_playing.current {
        Some(e) => out.push_str(&format!("{} (deck {}, {})\n", e.text, e.deck, e.device)),
        None => out.push_str("nothing on air\n"),
    }
    out
}

/// The table row standing for `n` entries left out between the first and the newest.
fn gap_row(columns: usize, n: u64, what: &str) -> Vec<String> {
    let mut row = vec!["...".to_string(); columns - 1];
    row.push(format!(
        "{n} {what} left out (the first and the newest are kept)"
    ));
    row
}

/// `2017-07-14T01:00:58.466175000Z` -> `01:00:58.466`
fn short_ts(ts: &str) -> String {
    ts.get(11..23).unwrap_or(ts).to_string()
}

/// The `--summary --format json` document.
pub fn summary_json(s: &Session) -> Json {
    let devices: Vec<Json> = s
        .devices
        .devices
        .values()
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or(Json::Null);
            let claims: Vec<Json> = s
                .devices
                .claims_of(d)
                .into_iter()
                .map(|c| serde_json::to_value(c).unwrap_or(Json::Null))
                .collect();
            v["claims"] = Json::Array(claims);
            v
        })
        .collect();
    json!({
        "records": s.records,
        "duplicates": s.duplicates,
        "omitted": s.omitted_total(),
        "first": s.first_ns.map(super::ts),
        "last": s.last_ns.map(super::ts),
        "devices": devices,
        "claims": s.devices.claims,
        "players": players_in_order(s),
        "tempo_master": s.master_history,
        "dbserver": s.dbserver.values().collect::<Vec<_>>(),
        "tracks": s.tracks.iter().map(|(k, v)| json!({"track": k, "info": v})).collect::<Vec<_>>(),
        "stagelinq": s.stagelinq.devices.values().collect::<Vec<_>>(),
        "now_playing": s.now_playing.current,
        "now_playing_history": s.now_playing.history,
    })
}

/// The `--timeline` story: one line per event, in time order.
pub fn timeline_text(s: &Session) -> String {
    let start = s.first_ns.unwrap_or(0);
    let mut out = String::new();
    for e in s.timeline.shown() {
        match e {
            Shown::Entry(e) => out.push_str(&format!(
                "{:>11.6}  {}  {}\n",
                (e.ts_ns - start) as f64 / 1e9,
                short_ts(&e.ts),
                e.text
            )),
            Shown::Gap(n) => out.push_str(&format!(
                "        ...  ...           {n} lines left out (the first and the newest are kept)\n"
            )),
        }
    }
    out
}

/// `--conversations`: one block per dbserver connection, each request with its answer.
pub fn conversations_text(s: &Session) -> String {
    let mut out = String::new();
    if s.dbserver.is_empty() {
        out.push_str("no dbserver conversations in this capture\n");
    }
    if s.connections_left_out > 0 {
        out.push_str(&format!(
            "{} dbserver connections left out: the first {} and the newest {} are shown\n\n",
            s.connections_left_out,
            super::limits::FIRST_CONNECTIONS,
            super::limits::MAX_CONNECTIONS - super::limits::FIRST_CONNECTIONS
        ));
    }
    for d in s.dbserver.values() {
        out.push_str(&format!(
            "dbserver {} -> {}: {} requests, {} answers, {} errors, latency mean {} worst {}\n",
            d.client,
            d.server,
            d.requests,
            d.answers,
            d.errors,
            d.mean_latency_ms
                .map(|v| format!("{v:.2} ms"))
                .unwrap_or_else(|| "-".into()),
            d.worst_latency_ms
                .map(|v| format!("{v:.2} ms"))
                .unwrap_or_else(|| "-".into()),
        ));
        for e in d.exchanges.shown() {
            let e = match e {
                Shown::Entry(e) => e,
                Shown::Gap(n) => {
                    out.push_str(&format!(
                        "  ...  {n} exchanges left out (the first and the newest are kept)\n"
                    ));
                    continue;
                }
            };
            let lat = e
                .latency_ms
                .map(|l| format!(" ({l:.1} ms)"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  frame {:>6}  {}  {}{lat}\n",
                e.frame,
                short_ts(&e.ts),
                e.text
            ));
        }
        out.push('\n');
    }
    out
}
