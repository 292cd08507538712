//! Document templates: `{{placeholder}}` replaced with the incident's current values. One pass,
//! no recursion (a value is never read as a template); bounded, so a template that repeats a
//! long placeholder cannot make a document of gigabytes.

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
    "metrics",
    "cost",
];

/// The most placeholders a template may use.
pub const MAX_PLACEHOLDERS: usize = 200;

/// The longest document a template renders to, in bytes; the rest is cut, with a note saying so.
pub const MAX_RENDERED_BYTES: usize = 2_000_000;

/// The placeholders of `template` (known or not), in order.
fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    let mut rest = template;
    std::iter::from_fn(move || {
        let start = rest.find("{{")?;
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        rest = &after[end + 2..];
        Some(after[..end].trim())
    })
}

/// Checks a template before it is saved: at most [`MAX_PLACEHOLDERS`] known placeholders.
pub fn check(template: &str) -> Result<(), String> {
    let n = placeholders(template)
        .filter(|k| PLACEHOLDERS.contains(k))
        .count();
    if n > MAX_PLACEHOLDERS {
        return Err(format!(
            "may use at most {MAX_PLACEHOLDERS} placeholders (it uses {n})"
        ));
    }
    Ok(())
}

/// Fills every known `{{placeholder}}` (spaces inside the braces allowed); unknown ones stay as
/// written. A document longer than [`MAX_RENDERED_BYTES`] is cut there, with a note.
pub fn render(template: &str, ctx: &IncidentContext) -> String {
    render_with(template, ctx, |v| v.to_string())
}

/// Like [`render`], each value passed through `escape` first (e.g. XML-escaped for a format
/// that is markup, such as Confluence's storage format).
pub fn render_with(
    template: &str,
    ctx: &IncidentContext,
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len().min(MAX_RENDERED_BYTES) + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let whole = &rest[..start + 2 + end + 2];
        let key = after[..end].trim();
        let filled = match value(key, ctx) {
            Some(v) => {
                push_bounded(&mut out, &rest[..start]) && push_bounded(&mut out, &escape(&v))
            }
            None => push_bounded(&mut out, whole),
        };
        if !filled {
            return out;
        }
        rest = &after[end + 2..];
    }
    push_bounded(&mut out, rest);
    out
}

/// Appends `s` unless the document would grow past its bound; then cuts it with a note and
/// answers false.
fn push_bounded(out: &mut String, s: &str) -> bool {
    if out.len() + s.len() <= MAX_RENDERED_BYTES {
        out.push_str(s);
        return true;
    }
    let mut cut = MAX_RENDERED_BYTES.saturating_sub(out.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&s[..cut]);
    out.push_str(&format!(
        "\n\n[The document was cut at {MAX_RENDERED_BYTES} bytes: its template repeats long placeholders.]\n"
    ));
    false
}

/// The incident's value for the placeholder `key`; `None` for an unknown one.
pub fn value(key: &str, c: &IncidentContext) -> Option<String> {
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
        "metrics" if c.metrics.is_empty() => "No figures yet.".into(),
        "metrics" => c
            .metrics
            .iter()
            .map(|(k, v)| format!("- {k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
        "cost" => c.cost.clone().unwrap_or_else(|| "not computed yet".into()),
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
pub const REVIEW_DOCUMENT: &str = "# Post-incident review: {{name}} — {{title}}\n\nStatus: {{status}} · Severity: {{severity}} · Priority: {{priority}} · Commander: {{commander}}\n\n## Summary\n\n{{description}}\n\n## Resolution\n\n{{resolution}}\n\n## Key figures\n\n{{metrics}}\n- Response cost: {{cost}}\n\n## Participants\n\n{{participants}}\n\n## Timeline\n\n{{timeline}}\n\n## What went well\n\n## What went wrong\n\n## Follow-up actions\n\n## Links\n\n{{links}}\n";

/// The default executive report document.
pub const EXECUTIVE_DOCUMENT: &str = "# Executive summary: {{name}} — {{title}}\n\nStatus: {{status}} · Severity: {{severity}} · Priority: {{priority}} · Commander: {{commander}}\n\n## Current status\n\n{{current_status}}\n\n## Overview\n\n{{overview}}\n\n## Next steps\n\n{{next_steps}}\n\n## Links\n\n{{links}}\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(timeline_lines: usize) -> IncidentContext {
        let ann = crate::provider::Person {
            email: "ann@example.com".into(),
            name: "Ann".into(),
        };
        let s = |v: &str| v.to_string();
        IncidentContext {
            id: 1,
            name: s("INC-1"),
            project: s("default"),
            title: s("Checkout {{title}} down"),
            description: s("d"),
            resolution: None,
            status: s("active"),
            visibility: s("open"),
            incident_type: s("t"),
            priority: s("p"),
            severity: s("s"),
            commander: ann.clone(),
            reporter: ann,
            participants: vec![],
            links: vec![],
            timeline: (0..timeline_lines)
                .map(|i| crate::provider::TimelineLine {
                    at: chrono::DateTime::UNIX_EPOCH,
                    actor: None,
                    text: format!("event {i} {}", "x".repeat(100)),
                })
                .collect(),
            report_fields: vec![],
            metrics: vec![],
            cost: None,
            tags: vec![],
            base_url: s("http://localhost"),
            settings: Default::default(),
        }
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_read_as_templates() {
        let c = ctx(0);
        assert_eq!(
            render("# {{ name }}: {{title}} {{nope}} {{", &c),
            format!("# INC-1: {} {{{{nope}}}} {{{{", c.title)
        );
    }

    #[test]
    fn a_template_repeating_a_long_placeholder_is_cut_at_the_bound() {
        let c = ctx(2_000);
        let template = "{{timeline}}".repeat(8_000);
        assert!(check(&template)
            .unwrap_err()
            .contains("at most 200 placeholders"));
        let out = render(&template, &c);
        assert!(out.len() < MAX_RENDERED_BYTES + 200, "{}", out.len());
        assert!(out.ends_with("its template repeats long placeholders.]\n"));
        assert!(check(&"{{timeline}} {{nope}}".repeat(200)).is_ok());
    }
}
