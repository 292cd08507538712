//! Inputs for the filter language (text and JSON) and what must hold for each.

use dispatch_core::filter::{Filter, FilterSubject, MAX_DEPTH, MAX_TERMS, MAX_TEXT_CHARS};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

/// Pieces filters are made of, and pieces that break them.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "((",
    "))",
    ",",
    "=",
    "==",
    "!=",
    "~",
    "!~",
    "!",
    "in",
    "IN",
    "and",
    "AND",
    "or",
    "Or",
    "not",
    "NOT",
    "all",
    "none",
    "project",
    "type",
    "incident_type",
    "priority",
    "severity",
    "status",
    "visibility",
    "tag",
    "tag:region",
    "\"tag:Data Region\"",
    "tag:",
    "tag:a:b",
    "tag_type",
    "title",
    "description",
    "text",
    "active",
    "stable",
    "closed",
    "open",
    "restricted",
    "high",
    "low",
    "eu",
    "\"",
    "'",
    "\"quoted value\"",
    "'single'",
    "\"a \\\" b\"",
    "\\",
    "\\\\",
    "#",
    "é",
    "日本",
    "🙂",
    "\u{0}",
    "-",
    "_",
    ".",
    "@",
    ":",
    "/",
    "+",
    "a_b",
    "50%",
    "x!y",
    "\u{200b}",
    "ǅ",
    "İ",
    "ß",
    "K",
    "\u{301}",
    "\"\"",
    "''",
    "in (",
    "in ()",
];
const SPACES: &[&str] = &["", " ", " ", " ", "  ", "\t", "\n", "\u{a0}", "\u{3000}"];
const OPENERS: &[&str] = &[
    "(", "not ", "not (", "((", "( not ", "NOT(", "\"", "tag in (",
];
const CLOSERS: &[&str] = &[")", "", " ) ", "))", ") and status = active", ", x"];
const JOINERS: &[&str] = &[" and ", " or ", " ", ", ", "and", " AND not "];

/// Filters that read, each a seed for mutations and long repetitions.
pub const SEEDS: &[&str] = &[
    "priority = high and (type = \"Security\" or tag:region = eu) and not status = closed",
    "title ~ \"checkout\"",
    "text ~ payments and tag_type = region",
    "severity in (high, critical)",
    "tag != pci",
    "tag:region = pci",
    "description !~ timeout",
    "all",
    "none",
    "PROJECT = default OR visibility = restricted",
    "not (type = a and (priority = b or severity = c)) or title ~ \"say \\\"hi\\\"\"",
    "type = \"and\" and \"tag:Data Region\" = \"e u\"",
    "status = active",
    "not not not status=stable",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((select(SPACES), select(TOKENS)), 0..48)
        .prop_map(|parts| parts.into_iter().flat_map(|(s, t)| [s, t]).collect())
}

/// Nesting of every depth, mostly around the bound, sometimes far past it.
fn deep() -> impl Strategy<Value = String> {
    let count = prop_oneof![3 => 0..2 * MAX_DEPTH, 1 => 0..1_000usize];
    (
        select(OPENERS),
        count.clone(),
        select(SEEDS),
        count,
        select(CLOSERS),
    )
        .prop_map(|(open, n, middle, k, close)| {
            format!("{}{middle}{}", open.repeat(n), close.repeat(k))
        })
}

/// Many terms, mostly around the bound; and texts around the length bound.
fn long() -> impl Strategy<Value = String> {
    let count = prop_oneof![3 => 0..2 * MAX_TERMS, 1 => 0..600usize];
    prop_oneof![
        20 => (select(SEEDS), count, select(JOINERS))
            .prop_map(|(seed, n, join)| vec![seed; n].join(join)),
        1 => (MAX_TEXT_CHARS - 20..MAX_TEXT_CHARS + 20, select(SEEDS))
            .prop_map(|(n, seed)| {
                let pad = n.saturating_sub(seed.chars().count());
                format!("{}{seed}", " ".repeat(pad))
            }),
    ]
}

/// Applies edits (insert a token, delete, duplicate a stretch, replace a character) to a text.
pub fn mutate(seed: &str, edits: &[(Index, &str, u8, usize)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for (at, token, op, len) in edits {
        let i = at.index(chars.len() + 1);
        match op % 4 {
            0 => {
                chars.splice(i..i, token.chars());
            }
            1 => {
                let end = (i + len % 8).min(chars.len());
                chars.drain(i..end);
            }
            2 => {
                let end = (i + len % 64).min(chars.len());
                let stretch: Vec<char> = chars[i..end].to_vec();
                for _ in 0..len % 5 {
                    chars.splice(i..i, stretch.iter().copied());
                }
            }
            _ => {
                if i < chars.len() {
                    chars.splice(i..=i, token.chars());
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(Index, &'static str, u8, usize)>> {
    prop::collection::vec(
        (any::<Index>(), select(TOKENS), any::<u8>(), 0..200usize),
        1..8,
    )
}

fn mutated() -> impl Strategy<Value = String> {
    (select(SEEDS), edits()).prop_map(|(seed, e)| mutate(seed, &e))
}

/// Text inputs: soups of tokens, mutations of real filters, deep and long ones.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => soup(), 4 => mutated(), 1 => deep(), 1 => long()]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (select(&["status", "priority", "tag", "tag:region", "title", "text", "nope", ""][..]),
              select(&["=", "!=", "in", "~", "!~", "<", ""][..]),
              select(&["active", "high", "eu", "", "x"][..]), any::<u8>())
            .prop_map(|(field, op, value, shape)| match shape % 5 {
                0 => json!({"field": field, "op": op, "value": value}),
                1 => json!({"field": field, "op": op, "values": [value, "b"]}),
                2 => json!({"field": field, "value": value}),
                3 => json!({"field": field, "op": op, "values": value}),
                _ => json!({"field": 7, "op": [op], "value": null}),
            }),
        1 => select(SEEDS).prop_map(|s| json!(s)),
        // Deep texts end chains (below); long ones are the text generator's.
        1 => prop_oneof![soup(), mutated()].prop_map(Value::String),
        1 => Just(json!({"and": []})),
        1 => Just(json!({"or": []})),
        1 => prop_oneof![Just(Value::Null), Just(json!(1)), Just(json!([])), Just(json!({}))],
    ]
}

/// A JSON filter: random trees, and chains of groups of every depth.
pub fn json_filter() -> impl Strategy<Value = Value> {
    let tree = json_leaf().prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| json!({"or": v})),
            inner.clone().prop_map(|f| json!({"not": f})),
            (inner.clone(), inner).prop_map(|(a, b)| json!({"and": a, "or": b})),
        ]
    });
    let chain = (
        prop_oneof![4 => json_leaf(), 1 => deep().prop_map(Value::String)],
        prop::collection::vec(0..4u8, 0..3 * MAX_DEPTH),
    )
        .prop_map(|(leaf, steps)| {
            steps.into_iter().fold(leaf, |f, s| match s {
                0 => json!({"not": f}),
                1 => json!({"and": [f]}),
                2 => json!({"or": [f, {"field": "tag", "value": "x"}]}),
                _ => json!({"and": [f, "status = active"]}),
            })
        });
    let wide = (json_leaf(), 0..2 * MAX_TERMS, any::<bool>())
        .prop_map(|(leaf, n, and)| json!({ if and { "and" } else { "or" }: vec![leaf; n] }));
    prop_oneof![4 => tree, 2 => chain, 1 => wide]
}

fn depth(f: &Filter) -> usize {
    match f {
        Filter::And(v) | Filter::Or(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        Filter::Not(f) => 1 + depth(f),
        Filter::Cmp(_) => 1,
    }
}

fn terms(f: &Filter) -> usize {
    match f {
        Filter::And(v) | Filter::Or(v) if v.is_empty() => 1,
        Filter::And(v) | Filter::Or(v) => v.iter().map(terms).sum(),
        Filter::Not(f) => terms(f),
        Filter::Cmp(c) => c.values.len(),
    }
}

/// What holds for every filter that reads: within the bounds, prints and reads back the same
/// (normalized), goes to JSON and back unchanged, and matches without trouble.
fn check_filter(f: &Filter, input: &dyn std::fmt::Debug) {
    assert!(depth(f) <= 2 * MAX_DEPTH + 3, "{input:?} is too deep");
    assert!(terms(f) <= MAX_TERMS, "{input:?} has too many terms");
    let printed = f.to_string();
    let again = Filter::parse(&printed)
        .unwrap_or_else(|e| panic!("{input:?} prints as {printed:?}, which does not read: {e}"));
    assert_eq!(again, f.clone().normalized(), "{input:?} → {printed:?}");
    let back = Filter::from_json(&f.to_json())
        .unwrap_or_else(|e| panic!("{input:?} in JSON does not read: {e}"));
    assert_eq!(&back, f, "{input:?} through JSON");
    let _ = f.matches(&FilterSubject::default());
}

/// Reads a text filter: a filter that holds up, or an error with a position within the text.
pub fn check_text(s: &str) {
    match Filter::parse(s) {
        Ok(f) => check_filter(&f, &s),
        Err(e) => {
            let n = s.chars().count();
            assert!(
                (1..=n + 1).contains(&e.position),
                "{s:?}: position {} outside 1..={}",
                e.position,
                n + 1
            );
            assert!(!e.message.is_empty(), "{s:?}: an empty message");
        }
    }
}

/// Reads a JSON filter (as a value and as a body): a filter that holds up, or an error naming
/// the JSON path or, for a whole text filter, the position.
pub fn check_json(v: &Value) {
    let read = Filter::from_json(v);
    match &read {
        Ok(f) => check_filter(f, v),
        Err(e) => assert!(
            e.starts_with('$') || e.starts_with("at position "),
            "{v}: the error names no path: {e}"
        ),
    }
    let body = v.to_string();
    match serde_json::from_str::<Filter>(&body) {
        Ok(f) => assert_eq!(Some(&f), read.as_ref().ok(), "{body}"),
        // serde_json stops at 128 levels of its own before the filter is read.
        Err(e) => assert!(read.is_err() || e.is_syntax(), "{body}: {e}"),
    }
}
