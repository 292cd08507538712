//! What applying a document would change: each object (a project, or one entry of one of its
//! lists, or a webhook) to create, update (field by field) or delete, compared by its key.

use super::export::export;
use super::*;
use crate::Result;
use dispatch_store::Db;
use serde_json::Map;

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It is in the file, not in the database.
    Create,
    /// Both have it, with different fields.
    Update,
    /// The database has it, the file does not, and `--prune` was given.
    Delete,
    /// The database has it, the file does not; kept because `--prune` was not given.
    Keep,
}

/// One object's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The object, e.g. `project default / incident_priorities high`.
    pub object: String,
    /// Field → (now, then); `None` for a side that has no such object.
    pub fields: Vec<(String, Option<Value>, Option<Value>)>,
}

/// Every change, in the document's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether applying would change nothing (objects merely kept do not count).
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.kind == ChangeKind::Keep)
    }

    /// How many changes of a kind.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }

    /// The plan as people read it: `+` create, `~` update, `-` delete, `=` kept.
    pub fn render(&self) -> String {
        let show = |v: &Option<Value>| match v {
            None => "(none)".to_string(),
            Some(Value::String(s)) => format!("{s:?}"),
            Some(v) => v.to_string(),
        };
        let mut out = String::new();
        for c in &self.changes {
            let sign = match c.kind {
                ChangeKind::Create => "+",
                ChangeKind::Update => "~",
                ChangeKind::Delete => "-",
                ChangeKind::Keep => "=",
            };
            let note = match c.kind {
                ChangeKind::Keep => " (not in the file; kept: --prune deletes it)",
                _ => "",
            };
            out.push_str(&format!("{sign} {}{note}\n", c.object));
            for (f, now, then) in &c.fields {
                match c.kind {
                    ChangeKind::Create => out.push_str(&format!("    {f}: {}\n", show(then))),
                    ChangeKind::Update => {
                        out.push_str(&format!("    {f}: {} -> {}\n", show(now), show(then)))
                    }
                    _ => {}
                }
            }
        }
        out.push_str(&format!(
            "Plan: {} to create, {} to update, {} to delete, {} kept.\n",
            self.count(ChangeKind::Create),
            self.count(ChangeKind::Update),
            self.count(ChangeKind::Delete),
            self.count(ChangeKind::Keep)
        ));
        out
    }
}

/// The project fields that are lists of objects of their own.
const CHILDREN: &[&str] = &[
    "incident_types",
    "incident_priorities",
    "incident_severities",
    "tag_types",
    "tags",
    "teams",
    "services",
    "role_policies",
    "notification_rules",
    "engagement_rules",
    "signal_definitions",
    "signal_filters",
];

/// The key of a list entry: its slug, else its name, else (role policies) what it applies to.
fn entry_key(list: &str, v: &Value) -> String {
    if list == "role_policies" {
        if let Ok(p) = serde_json::from_value::<RolePolicyDoc>(v.clone()) {
            return p.key();
        }
    }
    ["slug", "name", "url"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

/// Every object of a document: label → (scope, fields). The scope is the project slug (or
/// `webhooks`) an object belongs to.
fn objects(doc: &Document) -> Vec<(String, String, Map<String, Value>)> {
    let mut out = vec![];
    for p in &doc.projects {
        let Ok(Value::Object(mut fields)) = serde_json::to_value(p) else {
            continue;
        };
        let scope = p.slug.clone();
        let mut children = vec![];
        for list in CHILDREN {
            if let Some(Value::Array(items)) = fields.remove(*list) {
                for item in items {
                    let label = format!("project {scope} / {list} {}", entry_key(list, &item));
                    if let Value::Object(m) = item {
                        children.push((label, scope.clone(), m));
                    }
                }
            }
        }
        out.push((format!("project {scope}"), scope.clone(), fields));
        out.extend(children);
    }
    for w in doc.webhooks.iter().flatten() {
        if let Ok(Value::Object(m)) = serde_json::to_value(w) {
            out.push((format!("webhook {}", w.url), "webhooks".into(), m));
        }
    }
    out
}

/// The changes that take the database's configuration `now` to the document `then`.
pub(crate) fn diff(now: &Document, then: &Document, prune: bool) -> Plan {
    let current = objects(now);
    let wanted = objects(then);
    let mut scopes: Vec<String> = then.projects.iter().map(|p| p.slug.clone()).collect();
    if then.webhooks.is_some() {
        scopes.push("webhooks".into());
    }
    let mut plan = Plan::default();
    for (label, _, fields) in &wanted {
        match current.iter().find(|(l, _, _)| l == label) {
            None => plan.changes.push(Change {
                kind: ChangeKind::Create,
                object: label.clone(),
                fields: fields
                    .iter()
                    .map(|(k, v)| (k.clone(), None, Some(v.clone())))
                    .collect(),
            }),
            Some((_, _, had)) => {
                let changed: Vec<_> = fields
                    .iter()
                    .filter(|(k, v)| had.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), had.get(k).cloned(), Some(v.clone())))
                    .collect();
                if !changed.is_empty() {
                    plan.changes.push(Change {
                        kind: ChangeKind::Update,
                        object: label.clone(),
                        fields: changed,
                    });
                }
            }
        }
    }
    for (label, scope, _) in &current {
        let in_scope = scopes.contains(scope) && label.contains(" / ") || scope == "webhooks";
        if in_scope && scopes.contains(scope) && !wanted.iter().any(|(l, _, _)| l == label) {
            plan.changes.push(Change {
                kind: if prune {
                    ChangeKind::Delete
                } else {
                    ChangeKind::Keep
                },
                object: label.clone(),
                fields: vec![],
            });
        }
    }
    plan
}

/// What applying `doc` would change, without changing anything.
pub async fn plan(db: &Db, doc: &Document, prune: bool) -> Result<Plan> {
    let now = export(db, None).await?;
    super::validate::validate(doc, &now, prune)?;
    let mut then = doc.clone();
    then.sort();
    Ok(diff(&now, &then, prune))
}
