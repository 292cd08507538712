//! Drive v3: a folder per incident (`files.create` with the folder MIME type, in the folder of
//! the incident's first tag that has one, else of its type, else the configured folder or
//! shared drive, `supportsAllDrives=true`), marked with app properties
//! (`dispatchIncident`, `dispatchKind`) so a retried job finds it (`files.list` with
//! `q=appProperties has {…}`, following `nextPageToken`) instead of making a second one.
//! Participants get access as they join (`permissions.create`, `sendNotificationEmail=false`):
//! writer for those with a role, commenter for those who only observe, and the incident's
//! Google Groups (writer for the responders, reader for the stakeholders); a changed role
//! changes the permission (`permissions.update`). On close the folder moves to the archive folder
//! (`files.update` with `addParents`/`removeParents`, and back on re-open), or the people lose
//! their access (`permissions.delete`), as configured.

use super::{Api, FolderOnClose, Google, SCOPE_DRIVE, SLUG};
use async_trait::async_trait;
use dispatch_core::provider::{Created, IncidentContext, ProviderResult, ResourceProvider};
use dispatch_core::ResourceKind;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The MIME type of a Drive folder.
pub const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// The most pages read of one listing.
const MAX_PAGES: usize = 20;

const SCOPES: &[&str] = &[SCOPE_DRIVE];

/// Roles Dispatch never changes or removes.
const KEPT_ROLES: &[&str] = &["owner", "organizer", "fileOrganizer"];

/// A Drive permission.
#[derive(Debug, Clone)]
pub struct Permission {
    /// Its id.
    pub id: String,
    /// `user`, `group`, `domain`, `anyone`.
    pub kind: String,
    /// `owner`, `organizer`, `fileOrganizer`, `writer`, `commenter`, `reader`.
    pub role: String,
    /// The e-mail of a user or group.
    pub email: String,
}

/// The role a participant gets: commenter for those who only observe, writer otherwise.
pub fn role_for(roles: &[String]) -> &'static str {
    if !roles.is_empty() && roles.iter().all(|r| r == "observer") {
        "commenter"
    } else {
        "writer"
    }
}

/// Who should have access to the incident's folder, as (e-mail, permission type, role): each
/// participant ([`role_for`]), and when the incident's group is a Google Group (its link says
/// so), that responders' group as writer and the notifications group beside it as reader.
pub fn wanted(ctx: &IncidentContext) -> Vec<(String, &'static str, &'static str)> {
    let mut out: Vec<(String, &'static str, &'static str)> = ctx
        .participants
        .iter()
        .map(|(p, roles)| (p.email.to_lowercase(), "user", role_for(roles)))
        .collect();
    let group = ctx
        .links
        .iter()
        .find(|(k, _)| *k == ResourceKind::Group)
        .and_then(|(_, link)| super::directory::address_of_link(link));
    if let Some(responders) = group {
        let notifications = super::directory::notifications_address(&responders);
        out.push((responders, "group", "writer"));
        out.push((notifications, "group", "reader"));
    }
    out
}

/// The `files.list` query for the file of one incident and kind.
pub fn marked(incident: i64, kind: &str) -> String {
    format!(
        "appProperties has {{ key='dispatchIncident' and value='{incident}' }} and appProperties has {{ key='dispatchKind' and value='{kind}' }} and trashed = false"
    )
}

/// The folder's or document's name: the incident's name and title.
pub fn title(ctx: &IncidentContext, what: Option<&str>) -> String {
    let name = match what {
        Some(w) => format!("{} {w}: {}", ctx.name, ctx.title),
        None => format!("{}: {}", ctx.name, ctx.title),
    };
    name.chars().take(200).collect()
}

impl Google {
    /// The first file (not trashed) `files.list` finds for `q`.
    pub async fn find_file(&self, scopes: &[&str], q: &str) -> ProviderResult<Option<Value>> {
        let query = [
            ("q", q),
            ("supportsAllDrives", "true"),
            ("includeItemsFromAllDrives", "true"),
            ("corpora", "allDrives"),
            ("pageSize", "100"),
            (
                "fields",
                "nextPageToken,files(id,name,mimeType,webViewLink,parents,appProperties)",
            ),
        ];
        let files = self
            .listing(
                "looking for the incident's file",
                scopes,
                (Api::Drive, "/files"),
                &query,
                ("files", MAX_PAGES),
            )
            .await?;
        Ok(files.into_iter().next())
    }

    /// Every permission of a file.
    pub async fn permissions(&self, file: &str) -> ProviderResult<Vec<Permission>> {
        let path = format!("/files/{}/permissions", super::segment(file));
        let query = [
            ("supportsAllDrives", "true"),
            ("pageSize", "100"),
            (
                "fields",
                "nextPageToken,permissions(id,type,role,emailAddress)",
            ),
        ];
        let list = self
            .listing(
                "reading who has access",
                SCOPES,
                (Api::Drive, &path),
                &query,
                ("permissions", MAX_PAGES),
            )
            .await?;
        Ok(list
            .iter()
            .map(|p| Permission {
                id: p["id"].as_str().unwrap_or_default().into(),
                kind: p["type"].as_str().unwrap_or_default().into(),
                role: p["role"].as_str().unwrap_or_default().into(),
                email: p["emailAddress"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
            })
            .collect())
    }

    /// Gives each participant of `ctx` access to `file` with [`role_for`] their roles, and the
    /// incident's Google Groups theirs ([`wanted`]): a new permission (no notification mail)
    /// or a changed role. Never takes access away.
    pub async fn share(&self, file: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let have = self.permissions(file).await?;
        let path = format!("/files/{}/permissions", super::segment(file));
        for (email, kind, want) in wanted(ctx) {
            match have.iter().find(|p| p.email == email && p.kind == kind) {
                Some(p) if p.role == want || KEPT_ROLES.contains(&p.role.as_str()) => {}
                Some(p) => {
                    let change = json!({ "role": want });
                    let what = format!("giving {email} {want} access");
                    self.call_ok(
                        &what,
                        SCOPES,
                        Method::PATCH,
                        (Api::Drive, &format!("{path}/{}", super::segment(&p.id))),
                        &[("supportsAllDrives", "true")],
                        Some(&change),
                    )
                    .await?;
                }
                None => {
                    let new = json!({"type": kind, "role": want, "emailAddress": email});
                    let what = format!("sharing with {email}");
                    self.call_ok(
                        &what,
                        SCOPES,
                        Method::POST,
                        (Api::Drive, &path),
                        &[
                            ("sendNotificationEmail", "false"),
                            ("supportsAllDrives", "true"),
                        ],
                        Some(&new),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// The folder of the incident `ctx`, if Dispatch made one: its id.
    pub async fn incident_folder(&self, incident: i64) -> ProviderResult<Option<String>> {
        let q = format!(
            "{} and mimeType = '{FOLDER_MIME}'",
            marked(incident, "storage")
        );
        Ok(self
            .find_file(SCOPES, &q)
            .await?
            .and_then(|f| f["id"].as_str().map(str::to_string)))
    }

    /// The folder new incident folders go in: the first of the incident's tags that has a
    /// folder, else its type's, else the configured one (empty: My Drive).
    fn parent_for(&self, ctx: &IncidentContext) -> String {
        let s = self.settings();
        let slug = |t: &str| t.trim().to_lowercase().replace([' ', '_'], "-");
        let by = |map: &BTreeMap<String, String>, name: &str| {
            map.iter()
                .find(|(k, _)| slug(k) == slug(name))
                .map(|(_, v)| v.clone())
        };
        ctx.tags
            .iter()
            .find_map(|t| by(&s.folders_by_tag, t))
            .or_else(|| by(&s.folders_by_type, &ctx.incident_type))
            .unwrap_or_else(|| s.folder_id.clone())
    }
}

/// Drive folders, one per incident.
pub struct GoogleStorage {
    google: Arc<Google>,
}

impl GoogleStorage {
    /// Storage through this client.
    pub fn new(google: Arc<Google>) -> Self {
        Self { google }
    }
}

fn created(f: &Value) -> Created {
    let id = f["id"].as_str().unwrap_or_default().to_string();
    Created {
        link: Some(
            f["webViewLink"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("https://drive.google.com/drive/folders/{id}")),
        ),
        external_id: id,
        ..Default::default()
    }
}

#[async_trait]
impl ResourceProvider for GoogleStorage {
    fn slug(&self) -> &'static str {
        SLUG
    }

    /// A token, and `about.get` (who Dispatch acts as), and the parent folder when one is set.
    async fn check(&self) -> ProviderResult<Option<String>> {
        let g = &self.google;
        self.google.forget_tokens();
        let about = g
            .call_ok(
                "checking Drive access",
                SCOPES,
                Method::GET,
                (Api::Drive, "/about"),
                &[("fields", "user(emailAddress)")],
                None,
            )
            .await?;
        let who = about["user"]["emailAddress"].as_str().unwrap_or_default();
        let folder = &g.settings().folder_id;
        if folder.is_empty() {
            return Ok(Some(format!(
                "Drive works as {who}; incident folders go in their My Drive"
            )));
        }
        let f = g
            .call(
                "reading the parent folder",
                SCOPES,
                Method::GET,
                (Api::Drive, &format!("/files/{}", super::segment(folder))),
                &[("supportsAllDrives", "true"), ("fields", "id,name")],
                None,
            )
            .await?;
        if !(200..300).contains(&f.status) {
            return Err(g.error(format!(
                "the parent folder {folder} (DISPATCH_GOOGLE_FOLDER_ID) cannot be read by {who}: Google answered {}{}; share the folder (or add {who} to the shared drive) or fix the id",
                f.status,
                super::detail(&f.body)
            )));
        }
        Ok(Some(format!(
            "Drive works as {who}; incident folders go in {:?}",
            f.body["name"].as_str().unwrap_or(folder)
        )))
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        let g = &self.google;
        let q = format!(
            "{} and mimeType = '{FOLDER_MIME}'",
            marked(ctx.id, "storage")
        );
        let folder = match g.find_file(SCOPES, &q).await? {
            Some(f) => f,
            None => {
                let parent = g.parent_for(ctx);
                let mut body = json!({
                    "name": title(ctx, None),
                    "mimeType": FOLDER_MIME,
                    "appProperties": {"dispatchIncident": ctx.id.to_string(),
                                      "dispatchKind": "storage",
                                      "dispatchParent": parent},
                });
                if !parent.is_empty() {
                    body["parents"] = json!([parent]);
                }
                let what = "creating the incident's folder";
                let a = g
                    .call(
                        what,
                        SCOPES,
                        Method::POST,
                        (Api::Drive, "/files"),
                        &[
                            ("supportsAllDrives", "true"),
                            ("fields", "id,name,webViewLink,parents"),
                        ],
                        Some(&body),
                    )
                    .await?;
                match a.status {
                    200..=299 => a.body,
                    // The parent is not there for the subject, or they may not add to it.
                    403 | 404
                        if !parent.is_empty()
                            && super::reasons(&a.body).iter().all(|r| {
                                !r.contains("RateLimitExceeded") && r != "rateLimitExceeded"
                            }) =>
                    {
                        let subject = &g.settings().subject;
                        return Err(g.error(format!(
                            "{what}: the folder {parent} cannot be added to by {subject}: Google answered {}{}; check the id (DISPATCH_GOOGLE_FOLDER_ID, or the type's or tag's in DISPATCH_GOOGLE_TYPE_FOLDERS / DISPATCH_GOOGLE_TAG_FOLDERS), and share the folder with {subject} as editor (in a shared drive: make them a content manager): https://drive.google.com/drive/folders/{parent}",
                            a.status,
                            super::detail(&a.body)
                        )));
                    }
                    _ => return Err(g.failed(what, &a, SCOPES)),
                }
            }
        };
        let made = created(&folder);
        if made.external_id.is_empty() {
            return Err(g.error("creating the incident's folder: Google gave no file id"));
        }
        g.share(&made.external_id, ctx).await?;
        Ok(made)
    }

    /// The folder's name follows the title; participants who joined get access.
    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let g = &self.google;
        let path = format!("/files/{}", super::segment(external_id));
        let a = g
            .call(
                "reading the incident's folder",
                SCOPES,
                Method::GET,
                (Api::Drive, &path),
                &[("supportsAllDrives", "true"), ("fields", "id,name")],
                None,
            )
            .await?;
        match a.status {
            200..=299 => {}
            404 => return Ok(()),
            _ => return Err(g.failed("reading the incident's folder", &a, SCOPES)),
        }
        let want = title(ctx, None);
        if a.body["name"].as_str() != Some(want.as_str()) {
            g.call_ok(
                "renaming the incident's folder",
                SCOPES,
                Method::PATCH,
                (Api::Drive, &path),
                &[("supportsAllDrives", "true")],
                Some(&json!({ "name": want })),
            )
            .await?;
        }
        if ctx.status != "closed" {
            g.share(external_id, ctx).await?;
        }
        Ok(())
    }

    async fn archive(&self, external_id: &str, archive: bool) -> ProviderResult<()> {
        let g = &self.google;
        let path = format!("/files/{}", super::segment(external_id));
        match &g.settings().on_close {
            FolderOnClose::Keep => Ok(()),
            FolderOnClose::Archive(archive_folder) => {
                let a = g
                    .call(
                        "reading the incident's folder",
                        SCOPES,
                        Method::GET,
                        (Api::Drive, &path),
                        &[
                            ("supportsAllDrives", "true"),
                            ("fields", "id,parents,appProperties"),
                        ],
                        None,
                    )
                    .await?;
                match a.status {
                    200..=299 => {}
                    404 => return Ok(()),
                    _ => return Err(g.failed("reading the incident's folder", &a, SCOPES)),
                }
                let parents: Vec<String> = a.body["parents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect();
                let home = a.body["appProperties"]["dispatchParent"]
                    .as_str()
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| g.settings().folder_id.clone());
                let to = if archive {
                    archive_folder.clone()
                } else {
                    home
                };
                if to.is_empty() || parents.contains(&to) {
                    return Ok(());
                }
                let remove = parents.join(",");
                let what = if archive {
                    "moving the folder to the archive folder (DISPATCH_GOOGLE_ARCHIVE_FOLDER_ID)"
                } else {
                    "moving the folder back out of the archive"
                };
                g.call_ok(
                    what,
                    SCOPES,
                    Method::PATCH,
                    (Api::Drive, &path),
                    &[
                        ("supportsAllDrives", "true"),
                        ("addParents", to.as_str()),
                        ("removeParents", remove.as_str()),
                        ("fields", "id,parents"),
                    ],
                    Some(&json!({})),
                )
                .await?;
                Ok(())
            }
            FolderOnClose::Revoke => {
                if !archive {
                    // The next refresh shares the folder with the participants again.
                    return Ok(());
                }
                let subject = g.settings().subject.to_lowercase();
                for p in g.permissions(external_id).await? {
                    if KEPT_ROLES.contains(&p.role.as_str())
                        || !(p.kind == "user" || p.kind == "group")
                        || p.email == subject
                    {
                        continue;
                    }
                    let a = g
                        .call(
                            "taking access away",
                            SCOPES,
                            Method::DELETE,
                            (
                                Api::Drive,
                                &format!("{path}/permissions/{}", super::segment(&p.id)),
                            ),
                            &[("supportsAllDrives", "true")],
                            None,
                        )
                        .await?;
                    if !(200..300).contains(&a.status) && a.status != 404 {
                        return Err(g.failed("taking access away", &a, SCOPES));
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observers_comment_and_everyone_else_writes() {
        assert_eq!(role_for(&["observer".into()]), "commenter");
        assert_eq!(role_for(&["observer".into(), "scribe".into()]), "writer");
        assert_eq!(role_for(&["incident_commander".into()]), "writer");
        assert_eq!(role_for(&[]), "writer");
        assert!(marked(7, "storage").contains("value='7'"));
    }
}
