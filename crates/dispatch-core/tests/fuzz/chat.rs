//! Inputs for the chat command parser and what must hold for each.

use super::filter::mutate;
use chrono::{DateTime, TimeZone, Utc};
use dispatch_core::chat::{self, ChatCommand, MAX_LINE_CHARS};
use proptest::prelude::*;
use proptest::sample::{select, Index};

/// Pieces command lines are made of, and pieces that break them.
const TOKENS: &[&str] = &[
    "/dispatch-help",
    "/help",
    "/dispatch-report-incident",
    "/dispatch-assign-role",
    "/dispatch-edit-incident",
    "/dispatch-status-report",
    "/dispatch-report-executive",
    "/dispatch-create-task",
    "/dispatch-resolve-task",
    "/dispatch-add-timeline-event",
    "/dispatch-engage-oncall",
    "/dispatch-notifications-group",
    "/dispatch-update-participant",
    "/dispatch-remind-me",
    "/dispatch-join-incident",
    "/DISPATCH_MARK_STABLE",
    "/",
    "//",
    "title=",
    "description=",
    "priority=high",
    "type:",
    "severity=",
    "status=closed",
    "visibility=restricted",
    "tags=a,b",
    "resolution=none",
    "conditions=",
    "actions:",
    "needs=",
    "current_status=",
    "overview=",
    "next-steps=",
    "kind=executive",
    "due=+2d",
    "due=2026-12-01",
    "at=10:00",
    "at=2026-11-25T10:00Z",
    "4h",
    "99999999999h",
    "+10001d",
    "owner=",
    "assignees=a@example.com,b@example.com",
    "@alice@example.com",
    "bob@example.com",
    "a@b",
    "@",
    "ic",
    "scribe",
    "observer",
    "add",
    "remove",
    "-",
    "+",
    "-x@example.com",
    "page",
    "in",
    "4",
    "hours",
    "tactical",
    "#12",
    "0",
    "-1",
    "9223372036854775808",
    "INC-7",
    "\"",
    "'",
    "“",
    "”",
    "„",
    "‘",
    "’",
    "\\",
    "\\n",
    "\\\"",
    "=",
    ":",
    "\"quoted text\"",
    "é",
    "日本",
    "🙂",
    "\u{0}",
    "\u{200b}",
    "\u{301}",
    "ǅ",
    "İ",
];
const SPACES: &[&str] = &["", " ", " ", " ", "  ", "\t", "\n", "\u{a0}", "\u{3000}"];

/// Commands that read, each a seed for mutations and long repetitions.
pub const SEEDS: &[&str] = &[
    "/dispatch-assign-role @alice@example.com scribe",
    "/dispatch-report-incident \"Checkout down\" \"EU only\" priority=high",
    "/dispatch-edit-incident priority=high severity=critical title=\"New title\"",
    "/dispatch-status-report conditions=\"c\" actions=\"a\" needs=\"n\"",
    "/dispatch-report-executive current_status=\"s\" overview=\"o\" next_steps=\"n\"",
    "/dispatch-create-task bob@example.com \"Roll back\" due=+2d priority=high",
    "/dispatch-resolve-task #3",
    "/dispatch-add-timeline-event at=10:05 \"Deploy rolled back\"",
    "/dispatch-engage-oncall payments page",
    "/dispatch-notifications-group add a@example.com remove b@example.com",
    "/dispatch-update-participant bob@example.com \"Knows the DB\"",
    "/dispatch-remind-me tactical in 4 hours",
    "/dispatch-join-incident INC-7",
    "/dispatch-help create-task",
];

/// The fixed clock relative times are read against.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

fn soup() -> impl Strategy<Value = String> {
    (
        select(SEEDS),
        prop::collection::vec((select(SPACES), select(TOKENS)), 0..40),
    )
        .prop_map(|(seed, parts)| {
            let head = seed.split(' ').next().unwrap_or_default().to_string();
            head + &parts
                .into_iter()
                .flat_map(|(s, t)| [s, t])
                .collect::<String>()
        })
}

fn mutated() -> impl Strategy<Value = String> {
    (
        select(SEEDS),
        prop::collection::vec(
            (any::<Index>(), select(TOKENS), any::<u8>(), 0..200usize),
            1..8,
        ),
    )
        .prop_map(|(seed, edits)| mutate(seed, &edits))
}

/// Long lines: many words, long quoted texts, lines around the length bound.
fn long() -> impl Strategy<Value = String> {
    let count = prop_oneof![3 => 0..200usize, 1 => 0..4_000usize];
    prop_oneof![
        3 => (select(SEEDS), select(TOKENS), count)
            .prop_map(|(seed, word, n)| format!("{seed} {}", vec![word; n].join(" "))),
        1 => (select(SEEDS), MAX_LINE_CHARS - 20..MAX_LINE_CHARS + 20, select(&["x", "\"", " ", "a@example.com "][..]))
            .prop_map(|(seed, n, fill)| {
                let missing = n.saturating_sub(seed.chars().count());
                let fills = missing.div_ceil(fill.chars().count());
                format!("{seed}{}", fill.repeat(fills))
            }),
    ]
}

/// Command lines: soups of tokens after a real command, mutations of real commands, long lines.
pub fn line() -> impl Strategy<Value = String> {
    prop_oneof![4 => soup(), 4 => mutated(), 1 => long()]
}

/// Reads a command line: a command whose spec exists, or a usage answer that is short and says
/// what was wrong.
pub fn check(line: &str) {
    match chat::parse(line, now()) {
        Ok(cmd) => {
            let spec = cmd.spec();
            assert!(chat::spec(spec.name).is_some(), "{line:?}");
            if let ChatCommand::CreateTask(t) = &cmd {
                assert!(t.assignees.len() <= 50, "{line:?}");
            }
        }
        Err(u) => {
            assert!(!u.problem.trim().is_empty(), "{line:?}: no problem stated");
            assert!(!u.help.is_empty(), "{line:?}: no help");
            assert!(
                u.problem.chars().count() <= 2_000,
                "{line:?}: a {}-character answer",
                u.problem.chars().count()
            );
        }
    }
}
