//! What a chat form opens with. Every transport that offers a command as a form (Slack modals,
//! Teams dialogs, the web room) asks here for the current values, so a form that edits something
//! opens with what is there now: the incident's fields for the edit form, the latest report of its
//! kind for a new report (a report is usually the last one with a few lines changed).

use crate::admin::Authenticated;
use crate::{Error, Result};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ReportKind};
use std::collections::BTreeMap;

/// The form of a command, by any of its names (with or without the slash).
fn form_of(command: &str) -> &str {
    match command.trim().trim_start_matches('/') {
        "dispatch-update-incident" => "dispatch-edit-incident",
        "dispatch-report-tactical" => "dispatch-status-report",
        other => other,
    }
}

impl crate::Chat<'_> {
    /// The values the form of `command` opens with in `incident`, field by field (the fields are
    /// the command's argument names), for a caller who may see the incident; empty for a form
    /// that starts blank, or when the caller may not see the incident.
    pub async fn form_values(
        &self,
        caller: &Authenticated,
        incident: &IncidentRef,
        command: &str,
    ) -> Result<BTreeMap<String, String>> {
        if opening_values(command).is_none() {
            return Ok(BTreeMap::new());
        }
        // Blank for a caller who may not see the incident (as if it did not exist).
        let access = match self.access().incident(caller, incident).await {
            Ok(access) => access,
            Err(Error::NotFound(_)) => return Ok(BTreeMap::new()),
            Err(e) => return Err(e),
        };
        let d = self
            .incidents()
            .get(&IncidentRef::Id(IncidentId(access.incident_id)))
            .await?;
        Ok(d.form_values(command))
    }
}

/// What the form of `command` opens with: the incident's fields (`Some(None)`), the latest
/// report of a kind (`Some(Some(kind))`), or nothing, a blank form (`None`).
fn opening_values(command: &str) -> Option<Option<ReportKind>> {
    match form_of(command) {
        "dispatch-edit-incident" => Some(None),
        "dispatch-status-report" => Some(Some(ReportKind::Tactical)),
        "dispatch-report-executive" => Some(Some(ReportKind::Executive)),
        _ => None,
    }
}

impl crate::incident::IncidentDetail {
    /// The values the form of `command` opens with in this incident, field by field
    /// ([`crate::Chat::form_values`] for a caller who may see it, read already).
    pub fn form_values(&self, command: &str) -> BTreeMap<String, String> {
        let Some(kind) = opening_values(command) else {
            return BTreeMap::new();
        };
        let mut values = BTreeMap::new();
        let Some(kind) = kind else {
            let row = &self.row;
            for (k, v) in [
                ("title", row.title.as_str()),
                ("description", row.description.as_str()),
                ("resolution", row.resolution.as_deref().unwrap_or_default()),
                ("type", row.type_slug.as_str()),
                ("priority", row.priority_slug.as_str()),
                ("severity", row.severity_slug.as_str()),
                ("status", row.status.as_str()),
            ] {
                if !v.is_empty() {
                    values.insert(k.to_string(), v.to_string());
                }
            }
            return values;
        };
        let last = match kind {
            ReportKind::Tactical => &self.last_tactical_report,
            ReportKind::Executive => &self.last_executive_report,
        };
        let details: serde_json::Map<String, serde_json::Value> = last
            .as_ref()
            .and_then(|r| serde_json::from_str(&r.details).ok())
            .unwrap_or_default();
        for f in kind.fields() {
            if let Some(v) = details.get(*f).and_then(|v| v.as_str()) {
                values.insert(f.to_string(), v.to_string());
            }
        }
        values
    }
}

impl crate::Chat<'_> {
    /// Where a transport has no forms (Matrix), the form of `command` as a command line to copy,
    /// change and send: the command with its current values as `key="value"` arguments, e.g.
    /// `/dispatch-edit-incident title="Disk full" priority="high" …`; `None` when the form starts
    /// blank.
    pub async fn form_template(
        &self,
        caller: &Authenticated,
        incident: &IncidentRef,
        command: &str,
    ) -> Result<Option<String>> {
        let values = self.form_values(caller, incident, command).await?;
        if values.is_empty() {
            return Ok(None);
        }
        let args: Vec<String> = values
            .iter()
            .map(|(k, v)| format!("{k}={}", dispatch_core::chat::quote(v)))
            .collect();
        Ok(Some(format!("/{} {}", form_of(command), args.join(" "))))
    }
}
