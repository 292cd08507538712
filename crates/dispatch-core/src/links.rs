//! The addresses people click: every link Dispatch hands a person (in chat, e-mail, a pager, a
//! resource list) opens a page of the web UI, never the JSON API. A page sits at its API
//! resource's path without the `/api/v1` prefix.

/// The incident's page.
pub fn incident(base: &str, name: &str) -> String {
    format!("{base}/incidents/{name}")
}

/// The incident's room, full screen (the built-in conversation).
pub fn room(base: &str, name: &str) -> String {
    format!("{base}/incidents/{name}/room")
}

/// The incident's files: a list with upload and download.
pub fn files(base: &str, name: &str) -> String {
    format!("{base}/incidents/{name}/files")
}

/// The incident's participant groups and their members.
pub fn group(base: &str, name: &str) -> String {
    format!("{base}/incidents/{name}/group")
}

/// One built-in document, rendered, with its edit form.
pub fn document(base: &str, id: i64) -> String {
    format!("{base}/documents/{id}")
}

/// The feedback form on a closed incident's page.
pub fn feedback(base: &str, name: &str) -> String {
    format!("{base}/incidents/{name}#feedback")
}

/// A page (an on-call notification), with its Acknowledge button.
pub fn page(base: &str, id: i64) -> String {
    format!("{base}/pages/{id}")
}

/// The reader's open tasks.
pub fn my_tasks(base: &str) -> String {
    format!("{base}/tasks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_sit_at_the_api_path_without_its_prefix() {
        let base = "https://dispatch.example";
        assert_eq!(
            incident(base, "INC-7"),
            "https://dispatch.example/incidents/INC-7"
        );
        assert_eq!(
            files(base, "INC-7"),
            "https://dispatch.example/incidents/INC-7/files"
        );
        assert_eq!(document(base, 3), "https://dispatch.example/documents/3");
        assert!(![
            incident(base, "INC-7"),
            room(base, "INC-7"),
            group(base, "INC-7"),
            page(base, 1)
        ]
        .iter()
        .any(|l| l.contains("/api/")));
    }
}
