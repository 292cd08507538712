//! The bounds of the filter language: each reader stops at them with an error that says where,
//! and a filter at the bounds goes through everything that walks it.

use super::*;
use serde_json::{json, Value};

fn parse_err(text: &str) -> ParseError {
    Filter::parse(text).expect_err("beyond the bounds")
}

/// How deep the tree is (a comparison is 1).
fn depth(f: &Filter) -> usize {
    match f {
        Filter::And(v) | Filter::Or(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        Filter::Not(f) => 1 + depth(f),
        Filter::Cmp(_) => 1,
    }
}

#[test]
fn the_deep_filters_of_the_security_probe_are_refused_where_they_go_too_deep() {
    let deep = format!("{}status = active{}", "(".repeat(3000), ")".repeat(3000));
    let unclosed = "(".repeat(3000);
    let nots = format!("{}status = active", "not ".repeat(6400));
    for (text, position) in [(&deep, 33), (&unclosed, 33), (&nots, 4 * 32 + 1)] {
        let e = parse_err(text);
        assert_eq!(e.position, position, "{e}");
        assert!(e.message.contains("deeper than 32 levels"), "{e}");
    }
}

#[test]
fn a_filter_at_the_depth_bound_parses_and_one_level_more_does_not() {
    let parens = |n: usize| format!("{}status = active{}", "(".repeat(n), ")".repeat(n));
    assert!(Filter::parse(&parens(MAX_DEPTH)).is_ok());
    assert_eq!(parse_err(&parens(MAX_DEPTH + 1)).position, MAX_DEPTH + 1);
    let nots = |n: usize| format!("{}status = active", "not ".repeat(n));
    assert_eq!(
        depth(&Filter::parse(&nots(MAX_DEPTH)).unwrap()),
        MAX_DEPTH + 1
    );
    assert_eq!(parse_err(&nots(MAX_DEPTH + 1)).position, 4 * MAX_DEPTH + 1);
    // Parentheses and `not`s count together.
    let mixed = format!("{}status = active{}", "not (".repeat(16), ")".repeat(16));
    assert!(Filter::parse(&mixed).is_ok());
    let mixed = format!("not {mixed}");
    assert!(parse_err(&mixed).message.contains("deeper"));
}

#[test]
fn a_filter_at_the_term_bound_parses_and_one_term_more_does_not() {
    let terms = |n: usize, sep: &str| vec!["status = active"; n].join(sep);
    for sep in [" or ", " and "] {
        assert!(Filter::parse(&terms(MAX_TERMS, sep)).is_ok());
        let e = parse_err(&terms(MAX_TERMS + 1, sep));
        let last = terms(MAX_TERMS, sep).chars().count() + sep.len() + "status = ".len() + 1;
        assert_eq!(e.position, last, "{e}");
        assert!(e.message.contains("more than 200 terms"), "{e}");
    }
    // `all`, `none` and each value of an `in` list are terms too.
    assert!(parse_err(&vec!["all"; MAX_TERMS + 1].join(" or "))
        .message
        .contains("terms"));
    assert!(parse_err(&vec!["none"; MAX_TERMS + 1].join(" and "))
        .message
        .contains("terms"));
    let list = |n: usize| format!("tag in ({})", vec!["x"; n].join(", "));
    assert!(Filter::parse(&list(MAX_TERMS)).is_ok());
    assert!(parse_err(&list(MAX_TERMS + 1)).message.contains("terms"));
}

#[test]
fn a_text_longer_than_the_bound_is_refused_at_the_bound() {
    let long = format!("title ~ \"{}\"", " ".repeat(MAX_TEXT_CHARS));
    let e = parse_err(&long);
    assert_eq!(e.position, MAX_TEXT_CHARS + 1);
    assert!(e.message.contains("longer than 200000 characters"), "{e}");
    // Spaces are characters: a padded filter within the bound is fine.
    let padded = format!("{}status = active", " ".repeat(MAX_TEXT_CHARS - 15));
    assert!(Filter::parse(&padded).is_ok());
}

fn nest(key: &str, n: usize, inner: Value) -> Value {
    (0..n).fold(inner, |f, _| {
        if key == "not" {
            json!({ "not": f })
        } else {
            json!({ key: [f] })
        }
    })
}

#[test]
fn the_json_form_keeps_the_same_bounds_and_names_the_path() {
    let cmp = json!({"field": "status", "value": "active"});
    for key in ["not", "and", "or"] {
        assert!(Filter::from_json(&nest(key, MAX_DEPTH, cmp.clone())).is_ok());
        let e = Filter::from_json(&nest(key, MAX_DEPTH + 1, cmp.clone())).unwrap_err();
        let step = if key == "not" {
            ".not".to_string()
        } else {
            format!(".{key}[0]")
        };
        let path = format!("${}", step.repeat(MAX_DEPTH));
        assert!(
            e.starts_with(&format!("{path}: the filter nests deeper")),
            "{e}"
        );
    }
    let many = json!({"or": vec![cmp.clone(); MAX_TERMS + 1]});
    let e = Filter::from_json(&many).unwrap_err();
    assert!(
        e.starts_with("$.or[200]: the filter has more than 200 terms"),
        "{e}"
    );
    let values = json!({"field": "tag", "op": "in", "values": vec!["x"; MAX_TERMS + 1]});
    assert!(Filter::from_json(&values)
        .unwrap_err()
        .starts_with("$.values: "));
    let empties = json!({"and": vec![json!({"or": []}); MAX_TERMS + 1]});
    assert!(Filter::from_json(&empties).unwrap_err().contains("terms"));
}

#[test]
fn text_inside_the_json_form_counts_on_from_where_it_is() {
    // Depth: `not` objects, then text with three more levels.
    // Text inside a group counts one level more: it may need parentheses when printed.
    let text = json!("not (not status = active)");
    let e = Filter::from_json(&nest("not", 29, text.clone())).unwrap_err();
    assert!(e.contains("at position 6: the filter nests deeper"), "{e}");
    assert!(Filter::from_json(&nest("not", 28, text)).is_ok());
    // Terms: two texts of 150 terms each are more than 200 together.
    let half = json!(vec!["status = active"; 150].join(" or "));
    let e = Filter::from_json(&json!({"and": [half, half]})).unwrap_err();
    assert!(e.starts_with("$.and[1]: at position "), "{e}");
    assert!(e.contains("more than 200 terms"), "{e}");
    // Groups count as the text form would write them: `or` inside `and` needs parentheses,
    // `and` inside `or` does not.
    let cmp = json!({"field": "status", "value": "active"});
    let alternating = |n: usize| {
        (0..n).fold(cmp.clone(), |f, i| {
            let k = if i % 2 == 0 { "and" } else { "or" };
            json!({ k: [f, cmp.clone()] })
        })
    };
    let f = Filter::from_json(&alternating(2 * MAX_DEPTH + 1)).unwrap();
    assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
    assert!(Filter::from_json(&alternating(2 * MAX_DEPTH + 3)).is_err());
    // Deserializing reads the same way.
    let deep = nest("not", MAX_DEPTH + 1, json!("all")).to_string();
    let e = serde_json::from_str::<Filter>(&deep).unwrap_err();
    assert!(e.to_string().contains("nests deeper"), "{e}");
}

#[test]
fn a_filter_at_every_bound_prints_reads_back_and_matches() {
    // 32 levels, alternating `and` / `or` groups, 200 terms in all.
    let mut text = String::from("status = active");
    for level in 0..MAX_DEPTH {
        let sep = if level % 2 == 0 { "and" } else { "or" };
        // 1 + 7 × 7 + 25 × 6 = 200 terms.
        let n = if level < 7 { 7 } else { 6 };
        let more = vec!["priority = high"; n].join(&format!(" {sep} "));
        text = format!("({text}) {sep} {more}");
    }
    let f = Filter::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(Filter::parse(&format!("{text} or status = active")).is_err());
    let printed = f.to_string();
    assert_eq!(Filter::parse(&printed).unwrap(), f.clone().normalized());
    assert_eq!(Filter::from_json(&f.to_json()).unwrap(), f);
    let _ = f.matches(&FilterSubject::default());
}
