use super::*;
use crate::{IncidentStatus, ParticipantRole, Patch, TaskPriority};
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

fn ok(line: &str) -> ChatCommand {
    parse(line, now()).unwrap_or_else(|u| panic!("{line:?} did not parse: {}", u.text()))
}

fn usage(line: &str) -> Usage {
    match parse(line, now()) {
        Ok(c) => panic!("{line:?} parsed as {c:?}"),
        Err(u) => u,
    }
}

#[test]
fn assign_role_takes_mentions_plain_addresses_and_role_words_in_any_order() {
    for line in [
        "/dispatch-assign-role @alice@example.com scribe",
        "/dispatch-assign-role alice@example.com Scribe",
        "/dispatch-assign-role scribe @alice@example.com",
        "/dispatch-assign-role role=scribe email=alice@example.com",
    ] {
        let ChatCommand::AssignRole(a) = ok(line) else {
            panic!("{line}")
        };
        assert_eq!(
            (a.email.as_str(), a.role),
            ("alice@example.com", ParticipantRole::Scribe)
        );
    }
    let ChatCommand::AssignRole(a) = ok("/dispatch-assign-role bob@example.com incident commander")
    else {
        panic!()
    };
    assert_eq!(a.role, ParticipantRole::IncidentCommander);
    assert!(usage("/dispatch-assign-role bob@example.com chef")
        .problem
        .contains("not a role"));
    assert!(usage("/dispatch-assign-role scribe")
        .help
        .contains("/dispatch-assign-role EMAIL ROLE"));
}

#[test]
fn edit_incident_reads_field_value_pairs() {
    let ChatCommand::EditIncident(u) =
        ok("/dispatch-edit-incident priority=high severity=critical title=\"DB down\" tags=db,sev resolution=none")
    else {
        panic!()
    };
    assert_eq!(u.priority.as_deref(), Some("high"));
    assert_eq!(u.severity.as_deref(), Some("critical"));
    assert_eq!(u.title.unwrap().as_str(), "DB down");
    assert_eq!(u.tags.unwrap(), ["db", "sev"]);
    assert!(matches!(u.resolution, Patch::Null));
    let ChatCommand::EditIncident(u) = ok("/dispatch-update-incident status:stable") else {
        panic!("the alias runs the same command")
    };
    assert_eq!(u.status, Some(IncidentStatus::Stable));
    let u = usage("/dispatch-edit-incident urgent");
    assert!(u.problem.contains("not field=value"), "{}", u.problem);
    assert!(usage("/dispatch-edit-incident status=done")
        .problem
        .contains("status"));
    assert!(usage("/dispatch-edit-incident")
        .problem
        .contains("what to change"));
}

#[test]
fn status_reports_take_named_or_positional_fields_and_aliases_pick_the_kind() {
    let ChatCommand::StatusReport(r) = ok(
        r#"/dispatch-status-report conditions="Checkout failing" actions="Rolling back" needs="DB team""#,
    ) else {
        panic!()
    };
    assert_eq!(r.kind, ReportKind::Tactical);
    let f: Vec<(&str, &str)> = r.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        f,
        [
            ("conditions", "Checkout failing"),
            ("actions", "Rolling back"),
            ("needs", "DB team")
        ]
    );
    let ChatCommand::StatusReport(r) =
        ok(r#"/dispatch-report-executive "Contained" "Checkout was down 20 min" "Review Friday""#)
    else {
        panic!()
    };
    assert_eq!(r.kind, ReportKind::Executive);
    assert_eq!(r.fields[2].0, "next_steps");
    let ChatCommand::StatusReport(r) =
        ok(r#"/dispatch-status-report current_status=ok overview="all good" next_steps=none"#)
    else {
        panic!()
    };
    assert_eq!(
        r.kind,
        ReportKind::Executive,
        "executive fields make an executive report"
    );
    let u = usage(r#"/dispatch-report-tactical conditions="x""#);
    assert!(
        u.problem.contains("missing: actions, needs"),
        "{}",
        u.problem
    );
    assert!(usage(r#"/dispatch-report-tactical overview=x a b"#)
        .problem
        .contains("overview"));
}

#[test]
fn create_task_reads_assignees_text_due_and_priority() {
    let ChatCommand::CreateTask(t) = ok(
        r#"/dispatch-create-task bob@example.com @ann@example.com "Roll back the deploy" due=+2d priority=high"#,
    ) else {
        panic!()
    };
    let who: Vec<&str> = t.assignees.iter().map(|e| e.as_str()).collect();
    assert_eq!(who, ["bob@example.com", "ann@example.com"]);
    assert_eq!(t.description.as_str(), "Roll back the deploy");
    assert_eq!(t.resolve_by, Some(now() + chrono::Duration::days(2)));
    assert_eq!(t.priority, TaskPriority::High);
    let ChatCommand::CreateTask(t) = ok("/dispatch-create-task check the dashboards") else {
        panic!()
    };
    assert!(t.assignees.is_empty() && t.resolve_by.is_none());
    assert_eq!(t.description.as_str(), "check the dashboards");
    assert!(usage("/dispatch-create-task bob@example.com")
        .problem
        .contains("what to do"));
    assert!(usage("/dispatch-create-task x due=someday")
        .problem
        .contains("not a time"));
}

#[test]
fn quoted_text_keeps_escapes() {
    let ChatCommand::AddTimelineEvent(e) =
        ok(r#"/dispatch-add-timeline-event at=2026-11-25T09:30:00Z "Deploy \"v2\" rolled back""#)
    else {
        panic!()
    };
    assert_eq!(e.description.as_str(), "Deploy \"v2\" rolled back");
    assert_eq!(
        e.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap()
    );
    let ChatCommand::AddTimelineEvent(e) = ok("/dispatch-add-timeline-event 08:15 paged DBA")
    else {
        panic!()
    };
    assert_eq!(
        e.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 25, 8, 15, 0).unwrap()
    );
    assert_eq!(e.description.as_str(), "paged DBA");
}

#[test]
fn the_other_commands_parse() {
    assert!(matches!(
        ok("/dispatch-list-participants"),
        ChatCommand::ListParticipants
    ));
    assert!(matches!(
        ok("/DISPATCH_LIST_MY_TASKS"),
        ChatCommand::ListTasks { mine: true }
    ));
    assert!(matches!(
        ok("/list-tasks"),
        ChatCommand::ListTasks { mine: false }
    ));
    assert!(matches!(
        ok("/dispatch-mark-stable"),
        ChatCommand::MarkStable
    ));
    assert!(matches!(
        ok("/dispatch-resolve-task #3"),
        ChatCommand::SetTaskStatus {
            task_id: 3,
            resolve: true
        }
    ));
    assert!(matches!(
        ok("/dispatch-engage-oncall payments oncall page"),
        ChatCommand::EngageOncall { ref service, page: true } if service == "payments oncall"
    ));
    assert!(matches!(
        ok("/dispatch-remind-me executive in 4 hours"),
        ChatCommand::RemindMe {
            kind: ReportKind::Executive,
            hours: 4
        }
    ));
    assert!(matches!(
        ok("/dispatch-snooze-reminder 2h"),
        ChatCommand::RemindMe {
            kind: ReportKind::Tactical,
            hours: 2
        }
    ));
    let ChatCommand::NotificationsGroup { add, remove } =
        ok("/dispatch-notifications-group add a@example.com remove b@example.com")
    else {
        panic!()
    };
    assert_eq!((add.len(), remove.len()), (1, 1));
    let ChatCommand::ReportIncident {
        title,
        description,
        priority,
        ..
    } = ok(r#"/dispatch-report-incident "Login outage" "SSO down" priority=high"#)
    else {
        panic!()
    };
    assert_eq!(
        (title.as_str(), description.as_str()),
        ("Login outage", "SSO down")
    );
    assert_eq!(priority.as_deref(), Some("high"));
    assert!(matches!(
        ok("/dispatch-help assign-role"),
        ChatCommand::Help(Some("dispatch-assign-role"))
    ));
    assert!(usage("/dispatch-mark-stable now")
        .problem
        .contains("takes no arguments"));
}

#[test]
fn an_unknown_command_lists_every_command() {
    let u = usage("/dispatch-frobnicate ]]]");
    assert!(u.problem.contains("Unknown command /dispatch-frobnicate"));
    for s in COMMANDS {
        assert!(
            u.help.contains(&format!("/{}", s.name)),
            "{} missing from help",
            s.name
        );
    }
    assert!(usage("hello").help.contains("/dispatch-list-tasks"));
}

/// A small deterministic generator (xorshift), so the garbage is the same on every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn line(&mut self) -> String {
        const PIECES: &[&str] = &[
            "/",
            "/dispatch-",
            "dispatch-",
            "assign-role",
            "edit-incident",
            "status-report",
            "create-task",
            "report-tactical",
            "add-timeline-event",
            "remind-me",
            "=",
            ":",
            "\"",
            "'",
            "“",
            "\\",
            "@",
            "@a@b.co",
            "bob@example.com",
            " ",
            "  ",
            "\t",
            "\n",
            "x=",
            "due=",
            "+",
            "-",
            "#",
            "999999999999999999999",
            "-1",
            "0",
            "4h",
            "2026-13-45",
            "25:99",
            "priority=",
            "high",
            "scribe",
            "ic",
            "é",
            "🚒",
            "\u{0}",
            "]]]",
            "title=",
            "tags=,,",
            "conditions=",
            "kind=",
            "page",
            "in",
            "hours",
            "remove",
            "add",
        ];
        let n = (self.next() % 12) as usize;
        let mut s = String::new();
        for _ in 0..n {
            if self.next().is_multiple_of(5) {
                // A random character, any plane.
                s.push(char::from_u32((self.next() % 0x11_0000) as u32).unwrap_or('?'));
            } else {
                s.push_str(PIECES[(self.next() % PIECES.len() as u64) as usize]);
            }
        }
        s
    }
}

#[test]
fn garbage_never_panics_and_always_yields_a_command_or_usage_help() {
    let mut g = Garbage(0x9E37_79B9_7F4A_7C15);
    for _ in 0..50_000 {
        let line = g.line();
        match std::panic::catch_unwind(|| parse(&line, now())) {
            Err(_) => panic!("the parser panicked on {line:?}"),
            Ok(Ok(cmd)) => assert!(spec(cmd.name()).is_some()),
            Ok(Err(u)) => {
                assert!(!u.problem.is_empty(), "no problem named for {line:?}");
                assert!(u.help.contains("/dispatch-"), "no usage help for {line:?}");
            }
        }
    }
}

#[test]
fn long_lines_and_long_lists_are_refused_with_a_short_answer() {
    let long = format!(
        "/dispatch-add-timeline-event \"{}\"",
        "x".repeat(MAX_LINE_CHARS)
    );
    let u = usage(&long);
    assert!(
        u.problem.contains("at most 20000 characters"),
        "{}",
        u.problem
    );
    // Every word a problem: the answer lists a few and counts the rest.
    let u = usage(&format!(
        "/dispatch-edit-incident {}",
        "oops ".repeat(3_000)
    ));
    assert!(u.problem.ends_with("; and 2995 more"), "{}", u.problem);
    assert!(u.problem.len() < 1_000, "{}", u.problem.len());
    let people = |n: usize| {
        (0..n)
            .map(|i| format!("p{i}@example.com"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let u = usage(&format!(
        "/dispatch-create-task {} \"Roll back\"",
        people(51)
    ));
    assert!(u.problem.contains("at most 50 assignees"), "{}", u.problem);
    assert!(matches!(
        ok(&format!("/dispatch-create-task {} \"Roll back\"", people(50))),
        ChatCommand::CreateTask(t) if t.assignees.len() == 50
    ));
    let u = usage(&format!("/dispatch-notifications-group add {}", people(51)));
    assert!(
        u.problem.contains("at most 50 people to add"),
        "{}",
        u.problem
    );
    // An unclosed quote runs to the end, however long the line.
    let open = format!("/dispatch-add-timeline-event \"{}", "y ".repeat(9_000));
    assert!(matches!(ok(&open), ChatCommand::AddTimelineEvent(_)));
}

fn case(line: &str) -> (Option<i64>, CaseOp) {
    match ok(line) {
        ChatCommand::Case { case, op } => (case, op),
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

#[test]
fn case_commands_take_the_threads_case_or_name_one() {
    assert_eq!(case("/dispatch-case-triage"), (None, CaseOp::Triage));
    assert_eq!(case("/dispatch-case-ack #12"), (Some(12), CaseOp::Triage));
    assert_eq!(
        case("/dispatch-case-escalate case=7"),
        (Some(7), CaseOp::Escalate)
    );
    assert_eq!(
        case("/dispatch-case-snooze #3 2h"),
        (Some(3), CaseOp::Snooze(chrono::Duration::hours(2)))
    );
    assert_eq!(
        case("/dispatch-case-snooze 30m"),
        (None, CaseOp::Snooze(chrono::Duration::minutes(30)))
    );
    let (named, op) = case("/dispatch-case-resolve 4 false-positive \"load test\" case=4");
    assert_eq!(named, Some(4));
    let CaseOp::Resolve { reason, text } = op else {
        panic!("{op:?}")
    };
    assert_eq!(reason, crate::signal::ResolutionReason::FalsePositive);
    assert_eq!(text.unwrap().as_str(), "load test");
    assert_eq!(
        case("/dispatch-case-assign @ann@example.com").1,
        CaseOp::Assign(Some(Email::parse("email", "ann@example.com").unwrap()))
    );
    assert_eq!(
        case("/dispatch-case-assign #2 none"),
        (Some(2), CaseOp::Assign(None))
    );
    assert!(is_case_command("/dispatch-case-close benign"));
    assert!(!is_case_command("/dispatch-mark-closed"));
    assert_eq!(
        ok("/dispatch-case-close #1 benign").name(),
        "dispatch-case-resolve"
    );
}

#[test]
fn a_case_command_without_what_it_needs_shows_its_usage() {
    let u = usage("/dispatch-case-snooze");
    assert!(u.problem.contains("for how long"), "{u:?}");
    assert!(
        u.help
            .starts_with("Usage: /dispatch-case-snooze [CASE] DURATION"),
        "{u:?}"
    );
    assert!(usage("/dispatch-case-snooze forever")
        .problem
        .contains("30m"));
    assert!(usage("/dispatch-case-resolve")
        .problem
        .contains("resolution reason"));
    assert!(usage("/dispatch-case-resolve meh")
        .problem
        .contains("is not a resolution reason"));
    assert!(usage("/dispatch-case-triage case=x")
        .problem
        .contains("not a case number"));
    assert!(usage("/dispatch-case-assign nobody-at-all")
        .problem
        .contains("e-mail"));
}

#[test]
fn incident_names_are_found_in_a_message_once_each_and_bounded() {
    assert_eq!(
        incident_names("is INC-12 the same as sec-3? See INC-12 again.", 5),
        vec!["INC-12".to_string(), "SEC-3".to_string()]
    );
    assert_eq!(
        incident_names("(INC-7), INC-8: and INC-9", 2),
        vec!["INC-7".to_string(), "INC-8".to_string()]
    );
    for none in [
        "a_INC-12",
        "INC-12a",
        "INC-",
        "2026-12-03",
        "INC_12",
        "-12",
        "",
    ] {
        assert!(incident_names(none, 5).is_empty(), "{none:?}");
    }
}
