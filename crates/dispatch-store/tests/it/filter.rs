//! The filter language means the same in memory and in SQL: random filters over random
//! incidents select the same incidents either way, on SQLite and (with
//! `DISPATCH_TEST_DATABASE_URL`) on PostgreSQL.

use dispatch_core::filter::{Comparison, Field, Filter, Op};
use dispatch_store::model::{incident, incident_type, project, tag, tag_type};
use dispatch_store::repo::{self, incident::IncidentFilter, taxonomy};
use dispatch_store::testing::TestDb;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sea_orm::ConnectionTrait;
use std::collections::BTreeSet;

/// Words titles and descriptions are made of: mixed case and LIKE's wildcards included.
const WORDS: &[&str] = &[
    "Checkout", "checkout", "DB", "latency", "50%", "a_b", "ab", "x!y", "EU", "down", "Login",
];
/// Values comparisons use: real slugs and names in odd cases, and names nothing has.
const VALUES: &[&str] = &[
    "default",
    "DEFAULT",
    "Default",
    "ops",
    "Operations",
    "security",
    "SECURITY",
    "Database Outage",
    "outage",
    "low",
    "Medium",
    "HIGH",
    "critical",
    "undetermined",
    "active",
    "stable",
    "closed",
    "open",
    "restricted",
    "eu",
    "EU",
    "us",
    "pci",
    "db",
    "region",
    "Region",
    "team",
    "nothing",
    "check",
    "50%",
    "_",
    "!",
    "a_b",
    "x!y",
    "Down",
    "log",
];

async fn add_type(conn: &impl ConnectionTrait, project_id: i64, slug: &str, name: &str) {
    dispatch_store::repo::rows::insert(
        conn,
        incident_type::Model {
            project_id,
            slug: slug.into(),
            name: name.into(),
            description: String::new(),
            default_visibility: "open".into(),
            is_default: false,
            enabled: true,
            exclude_from_metrics: false,
            exclude_from_reminders: false,
            exclude_from_review: false,
            view_order: 0,
            created_at: dispatch_core::now(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Project),
        Just(Field::Type),
        Just(Field::Priority),
        Just(Field::Severity),
        Just(Field::Status),
        Just(Field::Visibility),
        Just(Field::Tag(None)),
        Just(Field::Tag(Some("region".into()))),
        Just(Field::Tag(Some("TEAM".into()))),
        Just(Field::TagType),
        Just(Field::Title),
        Just(Field::Description),
        Just(Field::Text),
    ]
}

fn comparison() -> impl Strategy<Value = Filter> {
    (
        field(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(VALUES), 1..4),
        prop::sample::select(WORDS),
    )
        .prop_filter_map(
            "values the field refuses",
            |(f, negate, list, values, word)| {
                let (op, values): (Op, Vec<String>) = if f.is_text() {
                    let op = if negate {
                        Op::NotContains
                    } else {
                        Op::Contains
                    };
                    // Terms are parts of the words too.
                    (op, vec![word[..word.len().div_ceil(2)].to_string()])
                } else if list {
                    (Op::In, values.iter().map(|v| v.to_string()).collect())
                } else {
                    let op = if negate { Op::Ne } else { Op::Eq };
                    (op, vec![values[0].to_string()])
                };
                Comparison::new(f, op, values).ok().map(Filter::Cmp)
            },
        )
}

fn filter() -> impl Strategy<Value = Filter> {
    comparison().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

#[tokio::test]
async fn random_filters_select_the_same_incidents_in_memory_and_in_sql() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let default = repo::project::by_slug(conn, "default")
        .await
        .unwrap()
        .unwrap();
    let now = dispatch_core::now();
    let ops = dispatch_store::repo::rows::insert(
        conn,
        project::Model {
            slug: "ops".into(),
            name: "Operations".into(),
            key_prefix: "OPS".into(),
            created_at: now,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    add_type(conn, default.id, "security", "Security").await;
    add_type(conn, default.id, "outage", "Database Outage").await;
    let types = taxonomy::types::list(conn, default.id).await.unwrap();
    let priorities = taxonomy::priorities::list(conn, default.id).await.unwrap();
    let severities = taxonomy::severities::list(conn, default.id).await.unwrap();
    let mut tag_ids = Vec::new();
    for (type_name, names) in [
        (Some("Region"), &["eu", "US"][..]),
        (Some("team"), &["db"][..]),
        (None, &["pci", "Security"][..]),
    ] {
        let type_id = match type_name {
            Some(n) => Some(
                dispatch_store::repo::rows::insert(
                    conn,
                    tag_type::Model {
                        project_id: default.id,
                        name: n.into(),
                        description: String::new(),
                        exclusive: false,
                        required: false,
                        created_at: now,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .id,
            ),
            None => None,
        };
        for name in names {
            let t = dispatch_store::repo::rows::insert(
                conn,
                tag::Model {
                    project_id: default.id,
                    tag_type_id: type_id,
                    name: name.to_string(),
                    description: String::new(),
                    created_at: now,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            tag_ids.push(t.id);
        }
    }
    let who = repo::individual::get_or_create(conn, "ic@example.com", None)
        .await
        .unwrap();

    // Random incidents, made by proptest's deterministic generator.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let mut pick = |n: usize| {
        (0..n)
            .prop_map(|i| i)
            .new_tree(&mut runner)
            .unwrap()
            .current()
    };
    for number in 1..=40_i64 {
        let words = |pick: &mut dyn FnMut(usize) -> usize| {
            (0..3)
                .map(|_| WORDS[pick(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let title = words(&mut pick);
        let description = words(&mut pick);
        let project_id = if pick(4) == 0 { ops.id } else { default.id };
        let inc = dispatch_store::repo::rows::insert(
            conn,
            incident::Model {
                title,
                description,
                status: ["active", "stable", "closed"][pick(3)].into(),
                visibility: ["open", "restricted"][pick(2)].into(),
                type_id: types[pick(types.len())].id,
                priority_id: priorities[pick(priorities.len())].id,
                severity_id: severities[pick(severities.len())].id,
                ..bare_incident(project_id, number, who.id)
            },
        )
        .await
        .unwrap();
        let tags: Vec<i64> = tag_ids.iter().copied().filter(|_| pick(3) == 0).collect();
        repo::tag::set_for_incident(conn, inc.id, &tags)
            .await
            .unwrap();
    }

    let everything = IncidentFilter {
        page: 1,
        per_page: 1000,
        viewer: repo::incident::Viewer::Everyone,
        ..Default::default()
    };
    let (rows, total) = repo::incident::list(conn, &everything).await.unwrap();
    assert_eq!(total, repo::incident::Total::exact(40));
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = repo::tag::for_incidents(conn, &ids).await.unwrap();
    let subjects: Vec<(String, _)> = rows
        .iter()
        .map(|r| {
            let t = tags.remove(&r.id).unwrap_or_default();
            (r.name.clone(), r.filter_subject(&t))
        })
        .collect();

    let strategy = filter();
    let mut matched_some = 0;
    for _ in 0..300 {
        let f = strategy.new_tree(&mut runner).unwrap().current();
        let in_memory: BTreeSet<String> = subjects
            .iter()
            .filter(|(_, s)| f.matches(s))
            .map(|(n, _)| n.clone())
            .collect();
        let q = IncidentFilter {
            filter: Some(f.clone()),
            ..everything.clone()
        };
        let in_sql: BTreeSet<String> = repo::incident::list(conn, &q)
            .await
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .0
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(in_memory, in_sql, "the filter `{f}` disagrees");
        if !in_memory.is_empty() && in_memory.len() < 40 {
            matched_some += 1;
        }
        // The text form reads back as the same filter.
        assert_eq!(
            Filter::parse(&f.to_string()).unwrap(),
            f.clone().normalized()
        );
        assert_eq!(Filter::from_json(&f.to_json()).unwrap(), f);
    }
    assert!(
        matched_some > 50,
        "too few filters selected some but not all incidents ({matched_some}): the test would prove little"
    );
}

/// Filters at the bounds of the language, as the parser reads them: the widest, the deepest, and
/// both at once.
fn filters_at_the_bounds() -> Vec<Filter> {
    use dispatch_core::filter::{MAX_DEPTH, MAX_TERMS};
    let terms = |n: usize, sep: &str, cmp: &str| vec![cmp; n].join(sep);
    let mut texts = vec![
        terms(MAX_TERMS, " or ", "status = active"),
        terms(MAX_TERMS, " and ", "title ~ x"),
        terms(MAX_TERMS, " or ", "text !~ \"50%\""),
        terms(MAX_TERMS, " and ", "not tag:region = eu"),
        format!("severity in ({})", terms(MAX_TERMS, ", ", "high")),
        terms(MAX_TERMS / 2, " or ", "type = security and priority != low"),
        format!(
            "{}status = active{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        ),
        format!("{}tag_type = region", "not ".repeat(MAX_DEPTH)),
    ];
    // 32 levels alternating `and` / `or` groups, 200 terms in all.
    let mut nested = String::from("status = active");
    for level in 0..MAX_DEPTH {
        let sep = if level % 2 == 0 { " and " } else { " or " };
        let n = if level < 7 { 7 } else { 6 };
        nested = format!("({nested}){sep}{}", terms(n, sep, "project = default"));
    }
    texts.push(nested);
    // `not (…)` 16 times around groups of 12 terms.
    let mut nots = String::from("tag = pci");
    for _ in 0..MAX_DEPTH / 2 {
        nots = format!("not ({nots} or {})", terms(12, " and ", "tag:team = db"));
    }
    texts.push(nots);
    texts
        .iter()
        .map(|t| Filter::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect()
}

#[tokio::test]
async fn filters_at_the_bounds_run_as_sql_and_agree_with_the_in_memory_match() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let default = repo::project::by_slug(conn, "default")
        .await
        .unwrap()
        .unwrap();
    add_type(conn, default.id, "security", "Security").await;
    let types = taxonomy::types::list(conn, default.id).await.unwrap();
    let priorities = taxonomy::priorities::list(conn, default.id).await.unwrap();
    let severities = taxonomy::severities::list(conn, default.id).await.unwrap();
    let who = repo::individual::get_or_create(conn, "ic@example.com", None)
        .await
        .unwrap();
    for (number, status) in [(1, "active"), (2, "closed")] {
        dispatch_store::repo::rows::insert(
            conn,
            incident::Model {
                title: "x marks 50% of it".into(),
                description: String::new(),
                status: status.into(),
                visibility: "open".into(),
                type_id: types[0].id,
                priority_id: priorities[0].id,
                severity_id: severities[0].id,
                ..bare_incident(default.id, number, who.id)
            },
        )
        .await
        .unwrap();
    }
    let everything = IncidentFilter {
        page: 1,
        per_page: 100,
        viewer: repo::incident::Viewer::Everyone,
        ..Default::default()
    };
    let (rows, _) = repo::incident::list(conn, &everything).await.unwrap();
    let subjects: Vec<_> = rows
        .iter()
        .map(|r| (r.name.clone(), r.filter_subject(&[])))
        .collect();
    for f in filters_at_the_bounds() {
        let q = IncidentFilter {
            filter: Some(f.clone()),
            ..everything.clone()
        };
        let (rows, total) = repo::incident::list(conn, &q)
            .await
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let in_sql: BTreeSet<String> = rows.into_iter().map(|r| r.name).collect();
        let in_memory: BTreeSet<String> = subjects
            .iter()
            .filter(|(_, s)| f.matches(s))
            .map(|(n, _)| n.clone())
            .collect();
        assert_eq!(in_sql, in_memory, "{f}");
        assert_eq!(total, repo::incident::Total::exact(in_sql.len() as u64));
    }
}

/// An incident row `T-{number}` commanded and reported by `who`, stamped now; the caller sets
/// its text, status, visibility and taxonomy.
fn bare_incident(project_id: i64, number: i64, who: i64) -> incident::Model {
    let now = dispatch_core::now();
    incident::Model {
        project_id,
        number,
        name: format!("T-{number}"),
        commander_id: who,
        reporter_id: who,
        reported_at: now,
        created_at: now,
        updated_at: now,
        event_seq: 0,
        last_event_hash: String::new(),
        ..Default::default()
    }
}
