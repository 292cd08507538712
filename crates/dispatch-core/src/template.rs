//! Document templates: `{{placeholder}}` replaced with the incident's current values.

use crate::provider::IncidentContext;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "name",
    "title",
    "description",
    "resolution",
    "status",
    "visibility",
    "type",
    "priority",
    "severity",
    "commander",
    "reporter",
    "participants",
    "links",
    "timeline",
    "project",
    "conditions",
    "actions",
    "needs",
    "current_status",
    "overview",
    "next_steps",
];

/// Fills every known `{{placeholder}}` (spaces inside the braces allowed); unknown ones stay as written.
pub fn render(template: &str, ctx: &IncidentContext) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match value(key, ctx) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn value(key: &str, c: &IncidentContext) -> Option<String> {
    let person = |p: &crate::provider::Person| format!("{} <{}>", p.name, p.email);
    Some(match key {
        "name" => c.name.clone(),
        "title" => c.title.clone(),
        "description" => c.description.clone(),
        "resolution" => c
            .resolution
            .clone()
            .unwrap_or_else(|| "Not resolved yet.".into()),
        "status" => c.status.clone(),
        "visibility" => c.visibility.clone(),
        "type" => c.incident_type.clone(),
        "priority" => c.priority.clone(),
        "severity" => c.severity.clone(),
        "project" => c.project.clone(),
        "commander" => person(&c.commander),
        "reporter" => person(&c.reporter),
        "participants" => c
            .participants
            .iter()
            .map(|(p, roles)| format!("- {} ({})", person(p), roles.join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        "links" => c
            .links
            .iter()
            .map(|(k, l)| format!("- {}: {l}", k.as_str().replace('_', " ")))
            .collect::<Vec<_>>()
            .join("\n"),
        "timeline" => c
            .timeline
            .iter()
            .map(|l| format!("- {} {}", l.at.format("%Y-%m-%d %H:%M UTC"), l.text))
            .collect::<Vec<_>>()
            .join("\n"),
        "conditions" | "actions" | "needs" | "current_status" | "overview" | "next_steps" => c
            .report_fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "No report yet.".into()),
        _ => return None,
    })
}

/// The default incident document.
pub const INCIDENT_DOCUMENT: &str = "# {{name}}: {{title}}\n\n| | |\n|---|---|\n| Status | {{status}} |\n| Type | {{type}} |\n| Priority | {{priority}} |\n| Severity | {{severity}} |\n| Commander | {{commander}} |\n| Reporter | {{reporter}} |\n\n## Description\n\n{{description}}\n\n## Participants\n\n{{participants}}\n\n## Links\n\n{{links}}\n\n## Timeline\n\n{{timeline}}\n";

/// The default post-incident review document.
pub const REVIEW_DOCUMENT: &str = "# Post-incident review: {{name}} — {{title}}\n\nStatus: {{status}} · Severity: {{severity}} · Priority: {{priority}} · Commander: {{commander}}\n\n## Summary\n\n{{description}}\n\n## Resolution\n\n{{resolution}}\n\n## Timeline\n\n{{timeline}}\n\n## What went well\n\n## What went wrong\n\n## Follow-up actions\n\n## Links\n\n{{links}}\n";

/// The default executive report document.
pub const EXECUTIVE_DOCUMENT: &str = "# Executive summary: {{name}} — {{title}}\n\nStatus: {{status}} · Severity: {{severity}} · Priority: {{priority}} · Commander: {{commander}}\n\n## Current status\n\n{{current_status}}\n\n## Overview\n\n{{overview}}\n\n## Next steps\n\n{{next_steps}}\n\n## Links\n\n{{links}}\n";
