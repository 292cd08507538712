//! The filter's text form: a small recursive-descent parser with positions in its errors, and
//! the printer that writes what the parser reads back (`parse(print(f)) == f.normalized()`).
//! The parser counts how deep it is and how many terms it has read, and stops at the bounds
//! (see [`super::MAX_DEPTH`]), so its own recursion never goes deeper than they allow.

use super::{Comparison, Field, Filter, Op, MAX_DEPTH, MAX_TERMS, MAX_TEXT_CHARS};
use std::fmt;

/// A text filter that does not parse: where (1-based character column) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based character position of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("{w:?}"),
            Tok::Str(s) => format!("the text {s:?}"),
            Tok::Op(o) => format!("{:?}", o.as_str()),
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::End => "the end".into(),
        }
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(k))
    }
}

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "all", "none"];

fn bare_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | ':' | '/' | '+')
}

fn err(position: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position,
        message: message.into(),
    }
}

/// Reads tokens one at a time, as the parser asks for them: a filter refused at a bound is not
/// read any further.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    /// The 1-based position of the next character.
    pos: usize,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        self.pos += 1;
        Some(c)
    }

    /// Consumes the next character when it is `c`.
    fn eat(&mut self, c: char) -> bool {
        let next = self.chars.next_if_eq(&c).is_some();
        if next {
            self.pos += 1;
        }
        next
    }

    /// The next token and its 1-based position.
    fn token(&mut self) -> Result<(Tok, usize), ParseError> {
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {
            self.pos += 1;
        }
        let pos = self.pos;
        let Some(c) = self.bump() else {
            return Ok((Tok::End, pos));
        };
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => {
                self.eat('=');
                Tok::Op(Op::Eq)
            }
            '~' => Tok::Op(Op::Contains),
            '!' if self.eat('=') => Tok::Op(Op::Ne),
            '!' if self.eat('~') => Tok::Op(Op::NotContains),
            '!' => return Err(err(pos, "\"!\" must be followed by \"=\" or \"~\"")),
            '"' | '\'' => {
                let mut s = String::new();
                loop {
                    let at = self.pos;
                    match self.bump() {
                        None => return Err(err(pos, "this quoted text is not closed")),
                        Some('\\') => match self.bump() {
                            Some(n @ ('\\' | '"' | '\'')) => s.push(n),
                            _ => {
                                return Err(err(
                                    at,
                                    "a backslash in quotes must be followed by \\, \" or '",
                                ))
                            }
                        },
                        Some(q) if q == c => break,
                        Some(other) => s.push(other),
                    }
                }
                Tok::Str(s)
            }
            c if bare_char(c) => {
                let mut w = String::from(c);
                while let Some(n) = self.chars.next_if(|n| bare_char(*n)) {
                    self.pos += 1;
                    w.push(n);
                }
                Tok::Word(w)
            }
            other => {
                return Err(err(
                    pos,
                    format!("unexpected character {other:?}; quote values that contain it"),
                ))
            }
        };
        Ok((tok, pos))
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The token looked at, and its position.
    current: (Tok, usize),
    /// How many `(` and `not` enclose the token being read (plus the JSON nesting around).
    depth: usize,
    /// Terms read so far (shared with the JSON reader around).
    terms: &'a mut usize,
}

impl Parser<'_> {
    /// One more level of nesting, opened at `pos`.
    fn enter(&mut self, pos: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(pos, depth_message()));
        }
        Ok(())
    }

    /// One more term, at `pos`.
    fn term(&mut self, pos: usize) -> Result<(), ParseError> {
        *self.terms += 1;
        if *self.terms > MAX_TERMS {
            return Err(err(pos, terms_message()));
        }
        Ok(())
    }

    fn peek(&self) -> &Tok {
        &self.current.0
    }

    fn pos(&self) -> usize {
        self.current.1
    }

    /// The token looked at; the one after it is read.
    fn next(&mut self) -> Result<(Tok, usize), ParseError> {
        let after = self.lexer.token()?;
        Ok(std::mem::replace(&mut self.current, after))
    }

    fn or(&mut self) -> Result<Filter, ParseError> {
        let mut parts = vec![self.and()?];
        while self.peek().keyword("or") {
            self.next()?;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter, ParseError> {
        let mut parts = vec![self.not()?];
        while self.peek().keyword("and") {
            self.next()?;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Filter::And(parts)
        })
    }

    fn not(&mut self) -> Result<Filter, ParseError> {
        // A loop, not recursion: `not not … x` costs no stack.
        let mut nots = 0;
        while self.peek().keyword("not") {
            let pos = self.pos();
            self.next()?;
            self.enter(pos)?;
            nots += 1;
        }
        let mut f = self.primary()?;
        self.depth -= nots;
        for _ in 0..nots {
            f = Filter::Not(Box::new(f));
        }
        Ok(f)
    }

    fn primary(&mut self) -> Result<Filter, ParseError> {
        let (tok, pos) = self.next()?;
        match tok {
            Tok::LParen => {
                self.enter(pos)?;
                let inner = self.or()?;
                self.depth -= 1;
                let (close, at) = self.next()?;
                if close != Tok::RParen {
                    return Err(err(
                        at,
                        format!(
                            "expected \")\" to close the \"(\" at position {pos}, found {}",
                            close.describe()
                        ),
                    ));
                }
                Ok(inner)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("all") => {
                self.term(pos)?;
                Ok(Filter::And(vec![]))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("none") => {
                self.term(pos)?;
                Ok(Filter::Or(vec![]))
            }
            Tok::Word(name) | Tok::Str(name)
                if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&name)) =>
            {
                let field = Field::parse(&name).ok_or_else(|| {
                    err(
                        pos,
                        format!(
                            "unknown field {name:?}; known: {}, tag:TYPE",
                            Field::NAMES.join(", ")
                        ),
                    )
                })?;
                self.comparison(field, pos)
            }
            other => Err(err(
                pos,
                format!(
                    "expected a comparison (e.g. priority = high), \"(\", \"not\", \"all\" or \"none\", found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn value(&mut self) -> Result<String, ParseError> {
        let (tok, pos) = self.next()?;
        match tok {
            Tok::Word(w) | Tok::Str(w) => {
                self.term(pos)?;
                Ok(w)
            }
            other => Err(err(
                pos,
                format!("expected a value, found {}", other.describe()),
            )),
        }
    }

    fn comparison(&mut self, field: Field, field_pos: usize) -> Result<Filter, ParseError> {
        let (tok, pos) = self.next()?;
        let (op, values) = match tok {
            Tok::Op(op) => (op, vec![self.value()?]),
            t if t.keyword("in") => {
                let (open, at) = self.next()?;
                if open != Tok::LParen {
                    return Err(err(
                        at,
                        format!("expected \"(\" after \"in\", found {}", open.describe()),
                    ));
                }
                let mut values = vec![self.value()?];
                loop {
                    let (t, at) = self.next()?;
                    match t {
                        Tok::Comma => values.push(self.value()?),
                        Tok::RParen => break,
                        other => {
                            return Err(err(
                                at,
                                format!(
                                    "expected \",\" or \")\" in the list, found {}",
                                    other.describe()
                                ),
                            ))
                        }
                    }
                }
                (Op::In, values)
            }
            other => {
                return Err(err(
                    pos,
                    format!(
                        "expected an operator (=, !=, in, ~, !~) after {field}, found {}",
                        other.describe()
                    ),
                ))
            }
        };
        Comparison::new(field, op, values)
            .map(Filter::Cmp)
            .map_err(|m| err(field_pos, m))
    }
}

/// The error of a filter nested too deep.
pub(super) fn depth_message() -> String {
    format!("the filter nests deeper than {MAX_DEPTH} levels (each \"(\" and \"not\" is a level)")
}

/// The error of a filter with too many terms.
pub(super) fn terms_message() -> String {
    format!(
        "the filter has more than {MAX_TERMS} terms (each value compared, \"all\" and \"none\" is a term)"
    )
}

/// Parses the text form, `depth` levels deep in a JSON filter (0 alone) that has read `terms`
/// terms so far.
pub(super) fn parse(text: &str, depth: usize, terms: &mut usize) -> Result<Filter, ParseError> {
    if text.chars().nth(MAX_TEXT_CHARS).is_some() {
        return Err(err(
            MAX_TEXT_CHARS + 1,
            format!("the filter is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    let mut lexer = Lexer {
        chars: text.chars().peekable(),
        pos: 1,
    };
    let current = lexer.token()?;
    let mut p = Parser {
        lexer,
        current,
        depth,
        terms,
    };
    if *p.peek() == Tok::End {
        return Err(err(
            1,
            "the filter is empty; write \"all\" to match everything",
        ));
    }
    let f = p.or()?;
    if *p.peek() != Tok::End {
        let found = p.peek().describe();
        return Err(err(
            p.pos(),
            format!("expected \"and\", \"or\" or the end, found {found}"),
        ));
    }
    Ok(f)
}

/// A value (or field) as written: bare when it can be, else double-quoted.
fn word(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars().all(bare_char)
        && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s));
    if bare {
        s.to_string()
    } else {
        let mut out = String::from("\"");
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }
}

/// Binding strength: or < and < not < comparison.
fn level(f: &Filter) -> u8 {
    match f {
        Filter::Or(v) if !v.is_empty() => 1,
        Filter::And(v) if !v.is_empty() => 2,
        Filter::Not(_) => 3,
        _ => 4,
    }
}

fn child(f: &Filter, above: u8) -> String {
    // Equal levels are parenthesised too, so nested and/or read back as nested.
    let s = print(f);
    if level(f) <= above {
        format!("({s})")
    } else {
        s
    }
}

/// Writes the text form.
pub(super) fn print(f: &Filter) -> String {
    match f {
        Filter::And(v) if v.is_empty() => "all".into(),
        Filter::Or(v) if v.is_empty() => "none".into(),
        Filter::And(v) if v.len() == 1 => print(&v[0]),
        Filter::Or(v) if v.len() == 1 => print(&v[0]),
        Filter::And(v) => v
            .iter()
            .map(|c| child(c, 2))
            .collect::<Vec<_>>()
            .join(" and "),
        Filter::Or(v) => v
            .iter()
            .map(|c| child(c, 1))
            .collect::<Vec<_>>()
            .join(" or "),
        Filter::Not(inner) => format!("not {}", child(inner, 2)),
        Filter::Cmp(c) => {
            let field = word(&c.field.to_string());
            if c.op == Op::In {
                let vals: Vec<String> = c.values.iter().map(|v| word(v)).collect();
                format!("{field} in ({})", vals.join(", "))
            } else {
                format!(
                    "{field} {} {}",
                    c.op.as_str(),
                    word(c.values.first().map(String::as_str).unwrap_or(""))
                )
            }
        }
    }
}
