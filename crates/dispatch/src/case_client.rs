//! `dispatch case …` and `dispatch signal send`: cases and the signal endpoints over the REST
//! API of a running server (same server, token and `--json` handling as `dispatch incident`).

use crate::client::{call_and_print, cell, output, paged, print_page, put, s, Client, Remote};
use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{json, Map, Value};

/// `dispatch case …`.
#[derive(Subcommand)]
pub enum CaseCommand {
    /// List cases, newest first.
    List {
        #[command(flatten)]
        remote: Remote,
        /// Project slug.
        #[arg(long)]
        project: Option<String>,
        /// Statuses, comma-separated (new,triage,escalated,stable,closed).
        #[arg(long)]
        status: Option<String>,
        /// Only those assigned to this e-mail address.
        #[arg(long)]
        assignee: Option<String>,
        /// Words the title or description holds.
        #[arg(long, short)]
        q: Option<String>,
        /// Page.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Rows per page (max 100).
        #[arg(long, default_value_t = 20)]
        per_page: u64,
    },
    /// Show a case: its status, signals, timeline, incident and related cases.
    Show {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
    },
    /// Start triage of a new case (acknowledge it).
    Triage {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
    },
    /// Snooze a case's signal: an active snooze filter over its first signal's labels.
    Snooze {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
        /// For how long: 30m, 2h, 1d … up to 30d.
        #[arg(long)]
        duration: String,
    },
    /// Assign a case to someone (an empty address: to no one).
    Assign {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
        /// Their e-mail address.
        email: String,
    },
    /// Add tags to a case or take them off (`name`, or `type:name` for a tag of a tag type;
    /// each one the project has). Prints the case's tags.
    Tag {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
        /// A tag to add; repeat for more.
        #[arg(long, value_name = "NAME", required_unless_present = "remove")]
        add: Vec<String>,
        /// A tag to take off; repeat for more (one the case does not carry changes nothing).
        #[arg(long, value_name = "NAME")]
        remove: Vec<String>,
    },
    /// Escalate a case to an incident (the case's type, priority and severity unless given).
    Escalate {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
        /// Incident type (slug or name).
        #[arg(long = "type")]
        incident_type: Option<String>,
        /// Priority.
        #[arg(long)]
        priority: Option<String>,
        /// Severity.
        #[arg(long)]
        severity: Option<String>,
    },
    /// Close a case with a resolution reason.
    Close {
        #[command(flatten)]
        remote: Remote,
        /// The case's id.
        id: i64,
        /// Why: benign, contained, escalated, false_positive, information_gathered,
        /// insufficient_information, mitigated, operational_error, policy_violation,
        /// user_acknowledged.
        #[arg(long)]
        reason: String,
        /// What was found or done.
        #[arg(long)]
        resolution: Option<String>,
    },
}

/// The signal endpoints.
#[derive(Clone, Copy, ValueEnum)]
pub enum Source {
    /// Prometheus Alertmanager's webhook (version 4).
    Alertmanager,
    /// Grafana Alerting's webhook contact point.
    Grafana,
    /// A PagerDuty Events API v2 event.
    Pagerduty,
    /// Any JSON, read by the definition's field paths.
    Generic,
}

impl Source {
    fn slug(self) -> &'static str {
        match self {
            Source::Alertmanager => "alertmanager",
            Source::Grafana => "grafana",
            Source::Pagerduty => "pagerduty",
            Source::Generic => "generic",
        }
    }
}

/// `dispatch signal …`.
#[derive(Subcommand)]
pub enum SignalCommand {
    /// Send an alert to a signal endpoint, to test a definition: prints what happened to each
    /// alert (new case, deduplicated, snoozed, no definition matched, …).
    Send {
        #[command(flatten)]
        remote: Remote,
        /// Project slug (the default project when absent).
        #[arg(long)]
        project: Option<String>,
        /// Which endpoint.
        #[arg(long, value_enum)]
        source: Source,
        /// A body to send as it is (`-` reads standard input).
        #[arg(long, conflicts_with_all = ["labels", "title", "resolved"])]
        file: Option<String>,
        /// A label `name=value`; repeat for more (an alert is made in the source's shape).
        #[arg(long = "label", value_name = "NAME=VALUE")]
        labels: Vec<String>,
        /// The alert's title (summary).
        #[arg(long)]
        title: Option<String>,
        /// Send it as resolved instead of firing.
        #[arg(long)]
        resolved: bool,
    },
}

/// A case's tags as the API answers them (`name`, or `type:name` for a typed tag).
fn tags_of(c: &Value) -> Vec<&str> {
    c["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn print_case(c: &Value) {
    let or = |v: &Value| v.as_str().unwrap_or("—").to_string();
    println!("Case {}  {}", c["id"], s(&c["title"]));
    println!(
        "  status {}  priority {}  severity {}  type {}",
        s(&c["status"]),
        or(&c["priority"]),
        or(&c["severity"]),
        or(&c["type"])
    );
    println!(
        "  assignee {}  reporter {}  opened {}",
        or(&c["assignee"]),
        s(&c["reporter"]),
        s(&c["created_at"])
    );
    let tags = tags_of(c);
    if !tags.is_empty() {
        println!("  tags {}", tags.join(", "));
    }
    if let Some(i) = c["incident"].as_str() {
        println!("  incident {i}");
    }
    if let Some(r) = c["resolution_reason"].as_str() {
        println!("  resolution {r}: {}", or(&c["resolution"]));
    }
}

fn print_detail(c: &Value) {
    print_case(c);
    let signals = c["signals"].as_array().cloned().unwrap_or_default();
    println!("\nSignals ({}):", signals.len());
    for i in &signals {
        println!(
            "  #{} {} {} [{}] {}",
            i["id"],
            s(&i["received_at"]),
            s(&i["status"]),
            s(&i["filter_action"]),
            s(&i["title"])
        );
    }
    let people = c["participants"].as_array().cloned().unwrap_or_default();
    if !people.is_empty() {
        println!("\nParticipants ({}):", people.len());
        for p in &people {
            println!(
                "  {} ({}, joined {})",
                s(&p["email"]),
                s(&p["added_reason"]),
                s(&p["joined_at"])
            );
        }
    }
    println!("\nTimeline:");
    for e in c["timeline"].as_array().into_iter().flatten() {
        println!(
            "  {} {:<20} {}",
            s(&e["occurred_at"]),
            s(&e["kind"]),
            s(&e["description"])
        );
    }
    if let Some(r) = c["related_cases"].as_array().filter(|r| !r.is_empty()) {
        let ids: Vec<String> = r.iter().map(|v| v.to_string()).collect();
        println!("\nRelated cases: {}", ids.join(", "));
    }
}

/// Runs a case subcommand.
pub async fn run_case(cmd: CaseCommand) -> anyhow::Result<()> {
    match cmd {
        CaseCommand::List {
            remote,
            project,
            status,
            assignee,
            q,
            page,
            per_page,
        } => {
            let c = Client::new(&remote)?;
            let query = paged(
                page,
                per_page,
                [
                    ("project", project),
                    ("status", status),
                    ("assignee", assignee),
                    ("q", q),
                ],
            );
            let v = c.call(Method::GET, "/cases", &query, None).await?;
            output(&remote, &v, |v| {
                print_page(
                    v,
                    format!(
                        "{:<6} {:<10} {:<9} {:<26} {:<10} TITLE",
                        "CASE", "STATUS", "PRIORITY", "ASSIGNEE", "INCIDENT"
                    ),
                    |i| {
                        format!(
                            "{:<6} {:<10} {:<9} {:<26} {:<10} {}",
                            cell(&i["id"]),
                            s(&i["status"]),
                            i["priority"].as_str().unwrap_or("—"),
                            i["assignee"].as_str().unwrap_or("—"),
                            i["incident_id"]
                                .as_i64()
                                .map_or("—".into(), |n| n.to_string()),
                            s(&i["title"])
                        )
                    },
                )
            });
        }
        CaseCommand::Show { remote, id } => {
            call_and_print(
                &remote,
                Method::GET,
                &format!("/cases/{id}"),
                None,
                print_detail,
            )
            .await?
        }
        CaseCommand::Triage { remote, id } => {
            let path = format!("/cases/{id}/triage");
            call_and_print(&remote, Method::POST, &path, None, |v| {
                println!("Case {} is now {}", v["id"], s(&v["status"]))
            })
            .await?
        }
        CaseCommand::Snooze {
            remote,
            id,
            duration,
        } => {
            let body = json!({ "duration": duration });
            let path = format!("/cases/{id}/snooze");
            call_and_print(&remote, Method::POST, &path, Some(body), |v| {
                println!(
                    "Snoozed by filter {} until {}: {}",
                    v["filter_id"],
                    s(&v["expires_at"]),
                    s(&v["expression"])
                )
            })
            .await?;
        }
        CaseCommand::Assign { remote, id, email } => {
            let body = json!({ "assignee": email });
            let path = format!("/cases/{id}");
            call_and_print(&remote, Method::PATCH, &path, Some(body), |v| {
                println!(
                    "Case {} is assigned to {}",
                    v["id"],
                    v["assignee"].as_str().unwrap_or("no one")
                )
            })
            .await?;
        }
        CaseCommand::Tag {
            remote,
            id,
            add,
            remove,
        } => {
            // The API takes a case's whole set of tags: read it, change it, send it back.
            let c = Client::new(&remote)?;
            let path = format!("/cases/{id}");
            let case = c.call(Method::GET, &path, &[], None).await?;
            let tags = retagged(&tags_of(&case), &add, &remove);
            let v = c
                .call(Method::PATCH, &path, &[], Some(json!({ "tags": tags })))
                .await?;
            output(&remote, &v, |v| {
                let tags = tags_of(v);
                if tags.is_empty() {
                    println!("Case {} has no tags", v["id"]);
                } else {
                    println!("Case {} tags: {}", v["id"], tags.join(", "));
                }
            });
        }
        CaseCommand::Escalate {
            remote,
            id,
            incident_type,
            priority,
            severity,
        } => {
            let c = Client::new(&remote)?;
            let mut body = Map::new();
            put(&mut body, "incident_type", incident_type);
            put(&mut body, "priority", priority);
            put(&mut body, "severity", severity);
            let v = c
                .call(
                    Method::POST,
                    &format!("/cases/{id}/escalate"),
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            output(&remote, &v, |v| {
                let i = &v["incident"];
                println!(
                    "Case {id} escalated to {}: {}",
                    s(&i["name"]),
                    s(&i["title"])
                );
                println!(
                    "  commander {}  {}/incidents/{}",
                    s(&i["commander"]["email"]),
                    c.base,
                    s(&i["name"])
                );
            });
        }
        CaseCommand::Close {
            remote,
            id,
            reason,
            resolution,
        } => {
            let mut body = Map::new();
            put(&mut body, "resolution_reason", Some(reason));
            put(&mut body, "resolution", resolution);
            let path = format!("/cases/{id}/close");
            call_and_print(
                &remote,
                Method::POST,
                &path,
                Some(Value::Object(body)),
                |v| {
                    println!(
                        "Case {} is now {} ({})",
                        v["id"],
                        s(&v["status"]),
                        s(&v["resolution_reason"])
                    )
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// A tag as written, trimmed: its tag type (`type:name`), if given, and its name.
fn tag_parts(tag: &str) -> (Option<&str>, &str) {
    let tag = tag.trim();
    match tag.split_once(':') {
        Some((t, name)) if !t.trim().is_empty() => (Some(t.trim()), name.trim()),
        _ => (None, tag),
    }
}

/// Whether `given` names the tag `carried` (as the API writes it: `type:name` for a tag of a
/// type): its name, with no type or with the tag's (`prod` and `env:prod` name `env:prod`;
/// `team:prod` does not, nor does `env:db` name `db`).
fn names(carried: &str, given: &str) -> bool {
    let ((tc, nc), (tg, ng)) = (tag_parts(carried), tag_parts(given));
    nc == ng && (tg.is_none() || tg == tc)
}

/// A case's tags (as the API writes them) without those `remove` names, then with each of
/// `add` that names none of them. The server checks what is sent.
fn retagged(carried: &[&str], add: &[String], remove: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = carried
        .iter()
        .filter(|t| !remove.iter().any(|r| names(t, r)))
        .map(|t| t.to_string())
        .collect();
    for a in add {
        if !tags.iter().any(|t| names(t, a)) {
            tags.push(a.trim().to_string());
        }
    }
    tags
}

/// `name=value` pairs as a JSON object, or which one is not a pair.
fn labels_of(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut m = Map::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            bail!("--label {p:?}: write it as name=value");
        };
        m.insert(k.trim().to_string(), Value::from(v));
    }
    Ok(m)
}

/// One alert in the shape `source` sends, from labels and a title.
fn alert_body(
    source: Source,
    labels: Map<String, Value>,
    title: Option<String>,
    resolved: bool,
) -> Value {
    let now = chrono::Utc::now().to_rfc3339();
    let status = if resolved { "resolved" } else { "firing" };
    match source {
        Source::Alertmanager | Source::Grafana => {
            let mut annotations = Map::new();
            put(&mut annotations, "summary", title);
            json!({
                "version": "4", "status": status, "receiver": "dispatch-cli",
                "groupKey": "dispatch-cli", "groupLabels": {}, "commonLabels": labels,
                "commonAnnotations": annotations,
                "alerts": [{"status": status, "labels": labels, "annotations": annotations,
                    "startsAt": now, "endsAt": if resolved { now.clone() } else { "0001-01-01T00:00:00Z".into() }}]
            })
        }
        Source::Pagerduty => {
            let summary = title
                .or_else(|| {
                    labels
                        .get("alertname")
                        .and_then(|v| v.as_str())
                        .map(String::from)
                })
                .unwrap_or_else(|| "Test alert from dispatch signal send".into());
            json!({
                "routing_key": "dispatch-cli",
                "event_action": if resolved { "resolve" } else { "trigger" },
                "payload": {"summary": summary, "source": "dispatch-cli", "severity": "warning",
                    "timestamp": now, "custom_details": labels}
            })
        }
        Source::Generic => {
            let mut m = Map::new();
            put(&mut m, "title", title);
            m.insert("labels".into(), Value::Object(labels));
            m.insert("status".into(), Value::from(status));
            Value::Object(m)
        }
    }
}

/// One alert's outcome as a line.
fn outcome_line(a: &Value) -> String {
    let mut line = format!(
        "alert {}: {}",
        a["index"],
        s(&a["outcome"]).replace('_', " ")
    );
    let mut put = |label: &str, key: &str| {
        if let Some(n) = a[key].as_i64() {
            line.push_str(&format!(", {label} {n}"));
        }
    };
    put("definition", "definition_id");
    put("instance", "instance_id");
    put("duplicate of instance", "duplicate_of");
    put("case", "case_id");
    put("filter", "filter_id");
    put("monitored by filter", "monitored_by");
    if let Some(list) = a["instances"].as_array().filter(|l| !l.is_empty()) {
        let ids: Vec<String> = list.iter().map(|v| v.to_string()).collect();
        line.push_str(&format!(", instances {}", ids.join(", ")));
    }
    if let Some(f) = a["fingerprint"].as_str() {
        line.push_str(&format!(" (fingerprint {f})"));
    }
    line
}

/// Runs a signal subcommand.
pub async fn run_signal(cmd: SignalCommand) -> anyhow::Result<()> {
    let SignalCommand::Send {
        remote,
        project,
        source,
        file,
        labels,
        title,
        resolved,
    } = cmd;
    let body = match file {
        Some(path) => {
            let text = if path == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading standard input")?
            } else {
                std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?
            };
            serde_json::from_str::<Value>(&text).with_context(|| format!("{path} is not JSON"))?
        }
        None if labels.is_empty() && title.is_none() => {
            bail!("nothing to send: pass --file body.json, or --label name=value (repeat) and --title")
        }
        None => alert_body(source, labels_of(&labels)?, title, resolved),
    };
    let c = Client::new(&remote)?;
    let mut query = Vec::new();
    if let Some(p) = project {
        query.push(("project", p));
    }
    let v = c
        .call(
            Method::POST,
            &format!("/signals/{}", source.slug()),
            &query,
            Some(body),
        )
        .await?;
    output(&remote, &v, |v| {
        let alerts = v["alerts"].as_array().cloned().unwrap_or_default();
        println!("{} alert(s) received", v["received"]);
        for a in &alerts {
            println!("  {}", outcome_line(a));
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_must_be_pairs() {
        let m = labels_of(&["alertname=Disk".into(), "env=prod=eu".into()]).unwrap();
        assert_eq!(m["alertname"], "Disk");
        assert_eq!(m["env"], "prod=eu", "only the first = splits");
        assert!(labels_of(&["nothing".into()]).is_err());
        assert!(labels_of(&["=x".into()]).is_err());
    }

    #[test]
    fn a_case_s_tags_lose_those_removed_and_gain_those_added_once() {
        let v = |l: &[&str]| l.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let carried = ["db", "env:prod", "team:payments"];
        assert_eq!(
            retagged(
                &carried,
                &v(&["prod", " cache ", "team:search"]),
                &v(&["payments"])
            ),
            v(&["db", "env:prod", "cache", "team:search"]),
            "prod is env:prod, carried already"
        );
        assert_eq!(
            retagged(
                &carried,
                &v(&["team:prod"]),
                &v(&["env:db", "team:prod", "gone"])
            ),
            v(&["db", "env:prod", "team:payments", "team:prod"]),
            "another type's spelling is another tag: sent, for the server to refuse"
        );
        assert_eq!(
            retagged(&carried, &[], &v(&["db", "env:prod", "team:payments"])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_outcome_names_what_happened_to_the_alert() {
        let a = json!({"index": 1, "outcome": "deduplicated", "definition_id": 2, "instance_id": 8,
            "case_id": 3, "duplicate_of": 7, "filter_id": null, "monitored_by": null, "fingerprint": "ab"});
        assert_eq!(
            outcome_line(&a),
            "alert 1: deduplicated, definition 2, instance 8, duplicate of instance 7, case 3 (fingerprint ab)"
        );
    }
}
