//! The filter language of `read --filter` and `live --filter`.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | WORD | NAME OP VALUE
//! OP      := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"      (~ = contains, case-insensitive)
//! ```
//! WORDs name message families (`beat`, `status`, `dbserver`, `statemap`...). NAMEs are record
//! keys (`device`, `port`, `kind`, `ip`, `src`, `dst`, `name`, `type`, `proto`, `frame`) or any
//! field name of the JSON `fields` object (`bpm`, `path`, `rekordbox_id`...), so one vocabulary
//! serves the output and the filter. Juxtaposed terms are not allowed: write `and`.
//!
//! A comparison on a name the record lacks (a `beat` has no `path`, a `menu_item` no
//! `device`) is false whatever the operator, `!=` included: `device!=2` keeps the records
//! that carry a device number other than 2, `not device=2` also those without one. A name no
//! message has at all, or a word compared with a number, is an error (`names.rs`).

mod names;
mod parse;
mod words;

pub use names::{BOOL_FIELDS, NUMBER_FIELDS};
pub use parse::parse;

use crate::dissect::Value;
use crate::record::Record;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Word(words::Word),
    Compare { name: String, op: Op, value: String },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

/// A bad expression, with the character position it points at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {column})")]
pub struct FilterError {
    pub message: String,
    /// 1-based column in the expression.
    pub column: usize,
}

impl FilterError {
    /// Two lines: the expression and a caret under the problem.
    pub fn render(&self, expr: &str) -> String {
        format!(
            "invalid filter: {}\n  {}\n  {}^",
            self.message,
            expr,
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

/// Names a comparison can use that are not fields: they come from the record and the head of its
/// dissection.
pub(crate) const HEAD_NAMES: [&str; 11] = [
    "ip", "src", "dst", "port", "device", "kind", "frame", "len", "name", "type", "proto",
];

impl Filter {
    /// Whether deciding needs the messages' field values (a comparison on a field name); words
    /// and the names above are decided on the head of a dissection alone.
    pub fn needs_fields(&self) -> bool {
        match self {
            Filter::Word(_) => false,
            Filter::Not(f) => f.needs_fields(),
            Filter::And(a, b) | Filter::Or(a, b) => a.needs_fields() || b.needs_fields(),
            Filter::Compare { name, .. } => !HEAD_NAMES.contains(&name.as_str()),
        }
    }

    pub fn matches(&self, r: &Record<'_>) -> bool {
        match self {
            Filter::Word(w) => w.matches(r),
            Filter::Not(f) => !f.matches(r),
            Filter::And(a, b) => a.matches(r) && b.matches(r),
            Filter::Or(a, b) => a.matches(r) || b.matches(r),
            Filter::Compare { name, op, value } => compare(r, name, *op, value),
        }
    }
}

/// `NAME != VALUE` is `not NAME = VALUE` among the records that have NAME; a record that lacks
/// NAME (or has it as null: "unknown") satisfies no comparison on it, whatever the operator, as
/// in Wireshark's display filters. `not NAME=VALUE` is what selects "everything else".
fn compare(r: &Record<'_>, name: &str, op: Op, want: &str) -> bool {
    match op {
        Op::Ne => test(r, name, Op::Eq, want).is_some_and(|eq| !eq),
        _ => test(r, name, op, want).unwrap_or(false),
    }
}

/// The comparison on a record's value; None when the record lacks the value.
fn test(r: &Record<'_>, name: &str, op: Op, want: &str) -> Option<bool> {
    let d = &r.dissection;
    let b = match name {
        // Addresses and ports: a message matches the ones it was sent from or to.
        "ip" => {
            cmp_str(&r.src.ip().to_string(), op, want) || cmp_str(&r.dst.ip().to_string(), op, want)
        }
        "src" => {
            cmp_str(&r.src.to_string(), op, want) || cmp_str(&r.src.ip().to_string(), op, want)
        }
        "dst" => {
            cmp_str(&r.dst.to_string(), op, want) || cmp_str(&r.dst.ip().to_string(), op, want)
        }
        "port" => match op {
            Op::Eq => [r.port, r.src.port(), r.dst.port()]
                .iter()
                .any(|p| cmp_value(&Value::U(*p as u64), op, want)),
            _ => cmp_value(&Value::U(r.port as u64), op, want),
        },
        "device" => cmp_value(&Value::U(d.device? as u64), op, want),
        "kind" => cmp_value(&Value::U(d.kind? as u64), op, want),
        "frame" => cmp_value(&Value::U(r.frame), op, want),
        "len" => cmp_value(&Value::U(r.bytes.len() as u64), op, want),
        "name" => cmp_str(d.name.as_deref()?, op, want),
        "type" => cmp_str(&d.type_name, op, want),
        "proto" => cmp_str(d.proto.as_str(), op, want),
        _ => match d.field(name).or_else(|| r.extra(name))? {
            Value::Null => return None,
            v => cmp_value(v, op, want),
        },
    };
    Some(b)
}

/// Parse a number as written in a filter: decimal, `0x` hex, or a float.
pub(crate) fn number(s: &str) -> Option<f64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    s.parse::<f64>().ok()
}

fn cmp_value(v: &Value, op: Op, want: &str) -> bool {
    match v {
        Value::U(_) | Value::I(_) | Value::F(_) => match (v.as_f64(), number(want)) {
            (Some(a), Some(b)) => cmp_ord(a.partial_cmp(&b), op),
            _ => cmp_str(&v.to_string(), op, want),
        },
        Value::Bool(b) => {
            let is = |words: [&str; 3]| words.iter().any(|w| want.eq_ignore_ascii_case(w));
            if is(["true", "1", "yes"]) {
                cmp_eq(*b, op)
            } else if is(["false", "0", "no"]) {
                cmp_eq(!*b, op)
            } else {
                false
            }
        }
        Value::Str(s) => cmp_str(s, op, want),
        Value::Null => false,
        Value::Bytes(b) => cmp_str(&crate::util::hex(b), op, want.trim_start_matches("0x")),
        Value::List(items) => match op {
            Op::Ne => items.iter().all(|i| cmp_value(i, Op::Ne, want)),
            _ => items.iter().any(|i| cmp_value(i, op, want)),
        },
        Value::Obj(items) => match op {
            Op::Contains => v.to_string().to_lowercase().contains(&want.to_lowercase()),
            Op::Ne => items.iter().all(|(_, i)| cmp_value(i, Op::Ne, want)),
            _ => items.iter().any(|(_, i)| cmp_value(i, op, want)),
        },
    }
}

fn cmp_eq(eq: bool, op: Op) -> bool {
    match op {
        Op::Eq | Op::Contains => eq,
        Op::Ne => !eq,
        _ => false,
    }
}

fn cmp_ord(o: Option<std::cmp::Ordering>, op: Op) -> bool {
    use std::cmp::Ordering::*;
    match (o, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq | Op::Contains) => o == Equal,
        (Some(o), Op::Ne) => o != Equal,
        (Some(o), Op::Lt) => o == Less,
        (Some(o), Op::Le) => o != Greater,
        (Some(o), Op::Gt) => o == Greater,
        (Some(o), Op::Ge) => o != Less,
    }
}

fn cmp_str(have: &str, op: Op, want: &str) -> bool {
    match op {
        Op::Contains => have.to_lowercase().contains(&want.to_lowercase()),
        Op::Eq => have.eq_ignore_ascii_case(want),
        Op::Ne => !have.eq_ignore_ascii_case(want),
        _ => match (number(have), number(want)) {
            (Some(a), Some(b)) => cmp_ord(a.partial_cmp(&b), op),
            _ => cmp_ord(Some(have.cmp(want)), op),
        },
    }
}

#[cfg(test)]
mod tests;
