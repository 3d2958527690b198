//! Tokenizer and recursive-descent parser for the filter language (grammar in `mod.rs`).

use super::words::Word;
use super::{names, Filter, FilterError, Op};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Op(Op),
    /// A bare word or a quoted string (quoted: never a keyword).
    Text(String, bool),
}

fn err(message: impl Into<String>, column: usize) -> FilterError {
    FilterError {
        message: message.into(),
        column,
    }
}

fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (_, "!=") => (Tok::Op(Op::Ne), 2),
            (_, "<=") => (Tok::Op(Op::Le), 2),
            (_, ">=") => (Tok::Op(Op::Ge), 2),
            (_, "==") => (Tok::Op(Op::Eq), 2),
            (_, "&&") => (Tok::And, 2),
            (_, "||") => (Tok::Or, 2),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('=', _) => (Tok::Op(Op::Eq), 1),
            ('<', _) => (Tok::Op(Op::Lt), 1),
            ('>', _) => (Tok::Op(Op::Gt), 1),
            ('~', _) => (Tok::Op(Op::Contains), 1),
            ('!', _) => (Tok::Not, 1),
            ('"', _) | ('\'', _) => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .ok_or_else(|| err("unterminated quoted string", col))?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                (Tok::Text(text, true), end + 2)
            }
            _ => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x.is_whitespace() || "()=!<>~\"'&|".contains(x))
                    .unwrap_or(chars.len() - i);
                let word: String = chars[i..i + end].iter().collect();
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Text(word, false),
                };
                (tok, end.max(1))
            }
        };
        out.push((tok, col));
        i += len;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end_col: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|(_, c)| *c)
            .unwrap_or(self.end_col)
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let col = self.col();
        match self.toks.get(self.pos).cloned() {
            None => Err(err("expression ends where a term was expected", col)),
            Some((Tok::Not, _)) => {
                self.pos += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some((Tok::LParen, _)) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(err(
                        "expected ')' to close the '(' at column ".to_string() + &col.to_string(),
                        self.col(),
                    ));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some((Tok::Text(text, _), _)) => {
                self.pos += 1;
                if let Some(Tok::Op(op)) = self.peek().cloned() {
                    self.pos += 1;
                    let vcol = self.col();
                    return match self.toks.get(self.pos).cloned() {
                        Some((Tok::Text(v, _), _)) => {
                            self.pos += 1;
                            check_name(&text, col)?;
                            let name = text.to_ascii_lowercase();
                            names::check_name(&name, col)?;
                            names::check_value(&name, &v, vcol)?;
                            Ok(Filter::Compare { name, op, value: v })
                        }
                        _ => Err(err(
                            format!("expected a value after '{text}' and its operator"),
                            vcol,
                        )),
                    };
                }
                Word::parse(&text).map(Filter::Word).ok_or_else(|| {
                    let near = names::closest(&text, Word::all_names());
                    let hint = if near.is_empty() {
                        String::new()
                    } else {
                        format!("did you mean {}? ", names::quoted(&near))
                    };
                    err(
                        format!(
                            "unknown filter word '{text}' ({hint}known: {}; or compare a field, e.g. device=2)",
                            Word::all_names().join(", ")
                        ),
                        col,
                    )
                })
            }
            Some((Tok::RParen, _)) => Err(err("unexpected ')'", col)),
            Some((Tok::Op(_), _)) => Err(err("an operator needs a field name on its left", col)),
            Some((Tok::And | Tok::Or, _)) => Err(err("'and'/'or' needs a term on its left", col)),
        }
    }
}

/// Field names are snake_case identifiers (letters, digits, `_`, `.`).
fn check_name(name: &str, col: usize) -> Result<(), FilterError> {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        Ok(())
    } else {
        Err(err(format!("'{name}' is not a field name"), col))
    }
}

/// Parse a filter expression.
pub fn parse(expr: &str) -> Result<Filter, FilterError> {
    let toks = tokenize(expr)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end_col: expr.chars().count() + 1,
    };
    let f = p.or()?;
    if p.pos < p.toks.len() {
        let what = match &p.toks[p.pos].0 {
            Tok::RParen => "unmatched ')'".to_string(),
            _ => "expected 'and', 'or' or the end of the expression".to_string(),
        };
        return Err(err(what, p.col()));
    }
    Ok(f)
}
