//! The arguments of each command, read forgivingly: `key=value` or `key:value` in any order,
//! quoted or bare text, e-mails with or without a leading `@`.

use super::lex::Word;
use super::{ChatCommand, Spec, Usage};
use crate::commands::{AddTimelineEvent, AssignRole, CreateReport, CreateTask, UpdateIncident};
use crate::values::{Email, IncidentTitle, LongText};
use crate::{IncidentStatus, ParticipantRole, Patch, ReportKind, TaskPriority, Visibility};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

type Parsed = Result<ChatCommand, Usage>;

/// Reads the words of the command `s` (asked for as `alias`).
pub(super) fn parse(s: &Spec, alias: &str, words: Vec<Word>, now: DateTime<Utc>) -> Parsed {
    let bad = |problem: String| Usage::of(s, problem);
    let no_args = |c: ChatCommand| match words.first() {
        None => Ok(c),
        Some(w) => Err(bad(format!(
            "/{} takes no arguments (got {:?}).",
            s.name,
            clip(&w.text)
        ))),
    };
    match s.name {
        "dispatch-help" => Ok(ChatCommand::Help(
            words
                .first()
                .and_then(|w| super::spec(&w.text))
                .map(|s| s.name),
        )),
        "dispatch-report-incident" => report_incident(words).map_err(bad),
        "dispatch-list-incidents" => no_args(ChatCommand::ListIncidents),
        "dispatch-assign-role" => assign_role(words).map_err(bad),
        "dispatch-list-participants" => no_args(ChatCommand::ListParticipants),
        "dispatch-edit-incident" => edit(words).map_err(bad),
        "dispatch-status-report" => report(alias, words).map_err(bad),
        "dispatch-mark-stable" => no_args(ChatCommand::MarkStable),
        "dispatch-mark-closed" => no_args(ChatCommand::MarkClosed),
        "dispatch-mark-active" => no_args(ChatCommand::MarkActive),
        "dispatch-list-tasks" => no_args(ChatCommand::ListTasks { mine: false }),
        "dispatch-list-my-tasks" => no_args(ChatCommand::ListTasks { mine: true }),
        "dispatch-create-task" => create_task(words, now).map_err(bad),
        "dispatch-resolve-task" => task_id(words, true).map_err(bad),
        "dispatch-reopen-task" => task_id(words, false).map_err(bad),
        "dispatch-add-timeline-event" => timeline_event(words, now).map_err(bad),
        "dispatch-engage-oncall" => engage(words).map_err(bad),
        "dispatch-notifications-group" => group(words).map_err(bad),
        "dispatch-update-participant" => update_participant(words).map_err(bad),
        "dispatch-summary" => no_args(ChatCommand::Summary),
        "dispatch-remind-me" => remind(words).map_err(bad),
        "dispatch-join-incident" => incident_arg(words)
            .map(|incident| ChatCommand::Join { incident })
            .map_err(bad),
        "dispatch-subscribe-incident" => incident_arg(words)
            .map(|incident| ChatCommand::Subscribe { incident })
            .map_err(bad),
        "dispatch-case-triage" => case(words, |_| Ok(super::CaseOp::Triage)).map_err(bad),
        "dispatch-case-escalate" => case(words, |_| Ok(super::CaseOp::Escalate)).map_err(bad),
        "dispatch-case-snooze" => case(words, snooze).map_err(bad),
        "dispatch-case-resolve" => case(words, resolve).map_err(bad),
        "dispatch-case-assign" => case(words, assign).map_err(bad),
        other => Err(Usage::all(format!("/{other} is not available."))),
    }
}

/// The most people one command names (assignees, or people added to or removed from a group).
pub(super) const MAX_PEOPLE: usize = 50;

/// The most problems one answer lists; the rest are counted.
const MAX_PROBLEMS: usize = 5;

/// Refuses a list of more than [`MAX_PEOPLE`] people.
fn at_most_people(what: &str, n: usize) -> Result<(), String> {
    if n > MAX_PEOPLE {
        return Err(format!(
            "Name at most {MAX_PEOPLE} {what} at once (got {n})."
        ));
    }
    Ok(())
}

/// The first few problems, and how many more there are.
fn problems_text(problems: &[String]) -> String {
    let mut text = problems[..problems.len().min(MAX_PROBLEMS)].join("; ");
    if problems.len() > MAX_PROBLEMS {
        text.push_str(&format!("; and {} more", problems.len() - MAX_PROBLEMS));
    }
    text
}

/// Shortens echoed input.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// An e-mail address, with or without a leading `@` (as chat mentions write it).
fn email(raw: &str) -> Option<Email> {
    let raw = raw
        .trim()
        .trim_start_matches('@')
        .trim_end_matches([',', ';']);
    Email::parse("email", raw).ok()
}

fn looks_like_email(w: &Word) -> bool {
    !w.quoted && w.text.contains('@') && email(&w.text).is_some()
}

fn first_message(e: crate::ValidationError) -> String {
    e.fields
        .into_iter()
        .map(|f| format!("{} {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn long_text(field: &str, raw: &str) -> Result<LongText, String> {
    LongText::parse(field, raw).map_err(first_message)
}

fn role(raw: &str) -> Option<ParticipantRole> {
    let n = raw
        .trim()
        .to_lowercase()
        .replace(['-', ' '], "_")
        .trim_start_matches('@')
        .to_string();
    match n.as_str() {
        "ic" | "commander" | "incident_commander" | "incidentcommander" => {
            Some(ParticipantRole::IncidentCommander)
        }
        other => other.parse().ok(),
    }
}

fn report_incident(words: Vec<Word>) -> Result<ChatCommand, String> {
    let keys = ["title", "description", "priority", "type", "severity"];
    let (mut title, mut description) = (None, None);
    let (mut priority, mut incident_type, mut severity) = (None, None, None);
    let mut rest = Vec::new();
    for w in words {
        match w.pair(&keys) {
            Some((k, v)) => match k.as_str() {
                "title" => title = Some(v),
                "description" => description = Some(v),
                "priority" => priority = Some(v),
                "type" => incident_type = Some(v),
                _ => severity = Some(v),
            },
            None => rest.push(w.text),
        }
    }
    // Bare words: the first quoted group (or every bare word) is the title, the next the
    // description.
    let mut rest = rest.into_iter();
    let title = title.or_else(|| rest.next()).unwrap_or_default();
    let description = description
        .or_else(|| {
            let more: Vec<String> = rest.collect();
            (!more.is_empty()).then(|| more.join(" "))
        })
        .unwrap_or_else(|| "Reported with /dispatch-report-incident.".into());
    Ok(ChatCommand::ReportIncident {
        title: IncidentTitle::parse("title", &title).map_err(first_message)?,
        description: long_text("description", &description)?,
        priority,
        incident_type,
        severity,
    })
}

fn assign_role(words: Vec<Word>) -> Result<ChatCommand, String> {
    let (mut who, mut what) = (None, Vec::new());
    for w in &words {
        if let Some((k, v)) = w.pair(&["email", "role", "user"]) {
            if k == "role" {
                what.push(v);
            } else {
                who = email(&v).or(who);
            }
        } else if looks_like_email(w) && who.is_none() {
            who = email(&w.text);
        } else {
            what.push(w.text.clone());
        }
    }
    let who = who.ok_or("Name the person by e-mail, e.g. bob@example.com.")?;
    let wanted = what.join(" ");
    let role = role(&wanted).ok_or_else(|| {
        format!(
            "{:?} is not a role; roles: ic (incident_commander), {}.",
            clip(&wanted),
            ParticipantRole::NAMES[1..].join(", ")
        )
    })?;
    Ok(ChatCommand::AssignRole(AssignRole { email: who, role }))
}

const EDIT_KEYS: &[&str] = &[
    "title",
    "description",
    "resolution",
    "type",
    "priority",
    "severity",
    "status",
    "visibility",
    "tags",
    "tag",
];

fn edit(words: Vec<Word>) -> Result<ChatCommand, String> {
    let mut cmd = UpdateIncident::default();
    let mut problems = Vec::new();
    for w in words {
        let Some((k, v)) = w.pair(EDIT_KEYS) else {
            problems.push(format!(
                "{:?} is not field=value (fields: {})",
                clip(&w.text),
                EDIT_KEYS[..9].join(", ")
            ));
            continue;
        };
        let v = v.trim().to_string();
        match k.as_str() {
            "title" => match IncidentTitle::parse("title", &v) {
                Ok(t) => cmd.title = Some(t),
                Err(e) => problems.push(first_message(e)),
            },
            "description" => match long_text("description", &v) {
                Ok(t) => cmd.description = Some(t),
                Err(e) => problems.push(e),
            },
            "resolution" if v.is_empty() || v.eq_ignore_ascii_case("none") => {
                cmd.resolution = Patch::Null
            }
            "resolution" => match long_text("resolution", &v) {
                Ok(t) => cmd.resolution = Patch::Value(t),
                Err(e) => problems.push(e),
            },
            "type" => cmd.incident_type = Some(v),
            "priority" => cmd.priority = Some(v),
            "severity" => cmd.severity = Some(v),
            "status" => match v.parse::<IncidentStatus>() {
                Ok(s) => cmd.status = Some(s),
                Err(e) => problems.push(format!("status {e}")),
            },
            "visibility" => match v.parse::<Visibility>() {
                Ok(s) => cmd.visibility = Some(s),
                Err(e) => problems.push(format!("visibility {e}")),
            },
            _ => {
                cmd.tags = Some(
                    v.split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect(),
                )
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems_text(&problems));
    }
    if cmd.is_empty() {
        return Err("Say what to change, e.g. priority=high severity=critical.".into());
    }
    Ok(ChatCommand::EditIncident(cmd))
}

/// Report field aliases: (what people type, the field).
const REPORT_KEYS: &[(&str, &str)] = &[
    ("conditions", "conditions"),
    ("condition", "conditions"),
    ("actions", "actions"),
    ("action", "actions"),
    ("needs", "needs"),
    ("need", "needs"),
    ("current_status", "current_status"),
    ("status", "current_status"),
    ("current", "current_status"),
    ("overview", "overview"),
    ("next_steps", "next_steps"),
    ("next", "next_steps"),
    ("nextsteps", "next_steps"),
    ("kind", "kind"),
    ("type", "kind"),
];

fn report(alias: &str, words: Vec<Word>) -> Result<ChatCommand, String> {
    let keys: Vec<&str> = REPORT_KEYS.iter().map(|(k, _)| *k).collect();
    let mut given: Vec<(&'static str, String)> = Vec::new();
    let mut bare = Vec::new();
    let mut kind = match alias.strip_prefix("dispatch-").unwrap_or(alias) {
        "report-executive" => Some(ReportKind::Executive),
        "report-tactical" => Some(ReportKind::Tactical),
        _ => None,
    };
    for w in words {
        match w.pair(&keys) {
            Some((k, v)) => {
                let field = REPORT_KEYS.iter().find(|(a, _)| *a == k).map(|(_, f)| *f);
                match field {
                    Some("kind") => {
                        kind = Some(v.parse().map_err(|e| format!("kind {e}"))?);
                    }
                    Some(f) => given.push((f, v)),
                    None => bare.push(w.text),
                }
            }
            None => bare.push(w.text),
        }
    }
    let executive_field = given
        .iter()
        .any(|(f, _)| ReportKind::Executive.fields().contains(f));
    let kind = kind.unwrap_or(if executive_field {
        ReportKind::Executive
    } else {
        ReportKind::Tactical
    });
    if let Some((f, _)) = given.iter().find(|(f, _)| !kind.fields().contains(f)) {
        return Err(format!("{f} is not part of a {kind} report"));
    }
    // Bare texts fill the fields not given, in order.
    let mut bare = bare.into_iter();
    let mut fields = Vec::new();
    let mut missing = Vec::new();
    for name in kind.fields() {
        let value = given
            .iter()
            .rev()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.clone())
            .or_else(|| bare.next());
        match value {
            Some(v) => fields.push((*name, long_text(name, &v)?)),
            None => missing.push(*name),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "A {kind} report needs {}; missing: {}.",
            kind.fields().join(", "),
            missing.join(", ")
        ));
    }
    if let Some(extra) = bare.next() {
        return Err(format!(
            "{:?} is left over; quote each field's text.",
            clip(&extra)
        ));
    }
    Ok(ChatCommand::StatusReport(CreateReport { kind, fields }))
}

/// A due or event time: RFC 3339, a date, `HH:MM` today (UTC), or relative (`+2d`, `4h`, `30m`,
/// `1w`).
pub(super) fn time(raw: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if let Ok(t) = NaiveTime::parse_from_str(raw, "%H:%M") {
        return Some(now.date_naive().and_time(t).and_utc());
    }
    let rel = raw.strip_prefix('+').unwrap_or(raw).to_lowercase();
    let split = rel.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = rel[..split].parse().ok().filter(|n| *n <= 10_000)?;
    let d = match rel[split..].trim() {
        "m" | "min" | "mins" | "minutes" => Duration::minutes(n),
        "h" | "hour" | "hours" => Duration::hours(n),
        "d" | "day" | "days" => Duration::days(n),
        "w" | "week" | "weeks" => Duration::weeks(n),
        _ => return None,
    };
    Some(now + d)
}

fn create_task(words: Vec<Word>, now: DateTime<Utc>) -> Result<ChatCommand, String> {
    let keys = [
        "due",
        "by",
        "resolve_by",
        "priority",
        "owner",
        "assignees",
        "assignee",
    ];
    let mut assignees: Vec<Email> = Vec::new();
    let (mut due, mut priority, mut owner) = (None, TaskPriority::Medium, None);
    let mut text = Vec::new();
    for w in words {
        match w.pair(&keys) {
            Some((k, v)) => {
                match k.as_str() {
                    "due" | "by" | "resolve_by" => {
                        due = Some(time(&v, now).ok_or_else(|| {
                            format!(
                                "due {:?} is not a time (2026-12-01, 2026-12-01T10:00Z, +2d, 4h)",
                                clip(&v)
                            )
                        })?)
                    }
                    "priority" => priority = v.parse().map_err(|e| format!("priority {e}"))?,
                    "owner" => owner = Some(email(&v).ok_or("owner must be an e-mail address")?),
                    _ => {
                        for part in v.split(',').filter(|p| !p.trim().is_empty()) {
                            assignees.push(email(part).ok_or_else(|| {
                                format!("{:?} is not an e-mail address", clip(part))
                            })?);
                        }
                    }
                }
            }
            None if looks_like_email(&w) && text.is_empty() => {
                assignees.extend(email(&w.text));
            }
            None => text.push(w.text),
        }
    }
    if text.is_empty() {
        return Err("Say what to do, e.g. bob@example.com \"Roll back the deploy\".".into());
    }
    at_most_people("assignees", assignees.len())?;
    Ok(ChatCommand::CreateTask(CreateTask {
        description: long_text("description", &text.join(" "))?,
        assignees,
        owner,
        resolve_by: due,
        priority,
    }))
}

fn task_id(words: Vec<Word>, resolve: bool) -> Result<ChatCommand, String> {
    let raw = words
        .first()
        .map(|w| w.text.trim_start_matches('#').to_string());
    let task_id = raw
        .as_deref()
        .and_then(|r| r.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or("Give the task's number, as /dispatch-list-tasks shows it.")?;
    Ok(ChatCommand::SetTaskStatus { task_id, resolve })
}

fn timeline_event(words: Vec<Word>, now: DateTime<Utc>) -> Result<ChatCommand, String> {
    let mut at = None;
    let mut text = Vec::new();
    for (i, w) in words.into_iter().enumerate() {
        if let Some((_, v)) = w.pair(&["at", "time", "when"]) {
            at = Some(time(&v, now).ok_or_else(|| format!("{:?} is not a time", clip(&v)))?);
        } else if i == 0 && !w.quoted && time(&w.text, now).is_some() {
            at = time(&w.text, now);
        } else {
            text.push(w.text);
        }
    }
    if text.is_empty() {
        return Err("Say what happened, e.g. at=10:05 \"Deploy rolled back\".".into());
    }
    Ok(ChatCommand::AddTimelineEvent(AddTimelineEvent {
        occurred_at: at.unwrap_or(now),
        description: long_text("description", &text.join(" "))?,
        details: None,
        pinned: false,
    }))
}

/// An optional incident key (`INC-7`), alone.
fn incident_arg(words: Vec<Word>) -> Result<Option<String>, String> {
    match words.as_slice() {
        [] => Ok(None),
        [w] if !w.text.trim().is_empty() && w.text.chars().count() <= 64 => {
            Ok(Some(w.text.trim().to_string()))
        }
        _ => Err("Name one incident, e.g. INC-7, or run it in the incident's room.".into()),
    }
}

fn engage(words: Vec<Word>) -> Result<ChatCommand, String> {
    let mut page = false;
    let mut name = Vec::new();
    for w in words {
        match w.text.to_lowercase().trim_start_matches('-') {
            "page" | "page=yes" | "page=true" => page = true,
            _ => name.push(w.text),
        }
    }
    if name.is_empty() {
        return Err("Name the on-call service.".into());
    }
    Ok(ChatCommand::EngageOncall {
        service: name.join(" "),
        page,
    })
}

fn group(words: Vec<Word>) -> Result<ChatCommand, String> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    let mut adding = true;
    for w in words {
        let t = w.text.to_lowercase();
        match t.as_str() {
            "add" | "+" => adding = true,
            "remove" | "rm" | "-" => adding = false,
            _ => {
                let (list, raw) = match t.strip_prefix('-') {
                    Some(r) => (&mut remove, r.to_string()),
                    None => (
                        if adding { &mut add } else { &mut remove },
                        t.trim_start_matches('+').to_string(),
                    ),
                };
                list.push(
                    email(&raw)
                        .ok_or_else(|| format!("{:?} is not an e-mail address", clip(&raw)))?,
                );
            }
        }
    }
    if add.is_empty() && remove.is_empty() {
        return Err("Name who to add or remove.".into());
    }
    at_most_people("people to add", add.len())?;
    at_most_people("people to remove", remove.len())?;
    Ok(ChatCommand::NotificationsGroup { add, remove })
}

fn update_participant(words: Vec<Word>) -> Result<ChatCommand, String> {
    let (mut who, mut reason) = (None, Vec::new());
    for w in words {
        if let Some((_, v)) = w.pair(&["reason", "added_reason"]) {
            reason.push(v);
        } else if who.is_none() && looks_like_email(&w) {
            who = email(&w.text);
        } else {
            reason.push(w.text);
        }
    }
    let email = who.ok_or("Name the participant by e-mail.")?;
    if reason.is_empty() {
        return Err("Give the reason they are in the incident.".into());
    }
    Ok(ChatCommand::UpdateParticipant {
        email,
        reason: long_text("reason", &reason.join(" "))?,
    })
}

fn remind(words: Vec<Word>) -> Result<ChatCommand, String> {
    let mut kind = ReportKind::Tactical;
    let mut hours = None;
    let texts: Vec<String> = words.into_iter().map(|w| w.text.to_lowercase()).collect();
    for t in &texts {
        if let Ok(k) = t.parse::<ReportKind>() {
            kind = k;
        } else if let Some(n) = t
            .trim_end_matches(['h', 'H'])
            .parse::<u32>()
            .ok()
            .or_else(|| t.strip_suffix("hours").and_then(|n| n.parse().ok()))
        {
            hours = Some(n);
        } else if !(matches!(t.as_str(), "in" | "report") || t.starts_with("hour")) {
            return Err(format!("{:?} is not understood.", clip(t)));
        }
    }
    match hours {
        Some(h) if (1..=168).contains(&h) => Ok(ChatCommand::RemindMe { kind, hours: h }),
        _ => Err("Say in how many hours (1 to 168), e.g. tactical in 4 hours.".into()),
    }
}

/// A case command: the case when named (`#12`, `12`, `case=12`, first), then its own words.
fn case(
    words: Vec<Word>,
    op: impl Fn(Vec<Word>) -> Result<super::CaseOp, String>,
) -> Result<ChatCommand, String> {
    let mut case = None;
    let mut rest = Vec::new();
    for (i, w) in words.into_iter().enumerate() {
        let named = match w.pair(&["case"]) {
            Some((_, v)) => Some(v),
            None if i == 0
                && !w.quoted
                && w.text.trim_start_matches('#').parse::<i64>().is_ok() =>
            {
                Some(w.text.clone())
            }
            None => None,
        };
        match named {
            Some(v) => {
                let id = v
                    .trim()
                    .trim_start_matches('#')
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| format!("{:?} is not a case number", clip(&v)))?;
                case = Some(id);
            }
            None => rest.push(w),
        }
    }
    Ok(ChatCommand::Case {
        case,
        op: op(rest)?,
    })
}

fn snooze(words: Vec<Word>) -> Result<super::CaseOp, String> {
    match words.as_slice() {
        [w] => crate::signal::parse_snooze("duration", &w.text)
            .map(super::CaseOp::Snooze)
            .map_err(first_message),
        [] => Err("Say for how long: 30m, 2h, 1d … up to 30d.".into()),
        _ => Err("Give one length: 30m, 2h, 1d … up to 30d.".into()),
    }
}

fn resolve(words: Vec<Word>) -> Result<super::CaseOp, String> {
    let mut words = words.into_iter();
    let reason = words
        .next()
        .ok_or("Give the resolution reason, e.g. false_positive.")?;
    let reason = reason
        .text
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
        .parse::<crate::signal::ResolutionReason>()
        .map_err(|_| format!("{:?} is not a resolution reason", clip(&reason.text)))?;
    let text: Vec<String> = words.map(|w| w.text).collect();
    let text = match text.join(" ").trim() {
        "" => None,
        t => Some(long_text("text", t)?),
    };
    Ok(super::CaseOp::Resolve { reason, text })
}

fn assign(words: Vec<Word>) -> Result<super::CaseOp, String> {
    match words.as_slice() {
        [w] if matches!(w.text.to_lowercase().as_str(), "none" | "nobody" | "-") => {
            Ok(super::CaseOp::Assign(None))
        }
        [w] => email(&w.text)
            .map(|e| super::CaseOp::Assign(Some(e)))
            .ok_or_else(|| format!("{:?} is not an e-mail address", clip(&w.text))),
        _ => Err("Name one person by e-mail (or none).".into()),
    }
}
