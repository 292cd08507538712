//! Configuration and directory commands: projects, taxonomies, tags, individuals, teams,
//! services and API tokens. Each is one transaction; uniqueness clashes become conflicts.

mod taxonomy;

use crate::{Actor, Engine, Error, Result};
use dispatch_core::{
    IndividualId, OrgRole, ProjectId, ServiceId, TeamId, TokenScope, Transport, ValidationError,
};
use dispatch_store::model::{
    api_token, incident_priority, incident_severity, incident_type, individual, project, service,
    tag, tag_type, team,
};
use dispatch_store::repo;
use dispatch_store::{Record, StoreError};

pub use crate::access::Authenticated;

impl Engine {
    /// A new project's record with the stored defaults, for the caller to fill in.
    pub fn new_project() -> project::Model {
        repo::project::new_row()
    }
}

/// A delete refused by a foreign key means the row is still in use: a conflict, not a failure.
fn still_referenced(e: StoreError, what: &str) -> Error {
    if e.is_foreign_key_violation() {
        Error::Conflict(format!("{what} is still referenced by other records"))
    } else {
        e.into()
    }
}

impl crate::Credentials<'_> {
    /// Mints a full-power API token for the person with this e-mail (created if new), whose
    /// organization role becomes `role`. Returns the secret, shown once.
    pub async fn create(
        self,
        email: &str,
        name: &str,
        role: &str,
    ) -> Result<(String, api_token::Model)> {
        let role: OrgRole = role.parse().map_err(|e: dispatch_core::UnknownVariant| {
            ValidationError::field("role", e.to_string())
        })?;
        self.create_for(email, name, Some(role), TokenScope::Admin)
            .await
    }

    /// Mints an API token with `scope` for the person with this e-mail (created if new, as a
    /// member unless `role` says otherwise; an existing person's role becomes `role` when given,
    /// audited as `user.role_changed`). Refused for a disabled account, and when it would
    /// demote the last owner.
    pub async fn create_for(
        self,
        email: &str,
        name: &str,
        role: Option<OrgRole>,
        scope: TokenScope,
    ) -> Result<(String, api_token::Model)> {
        let txn = self.db.write().await?;
        let who = repo::individual::get_or_create(&*txn, email, None).await?;
        if let Some(u) = repo::user::by_individual(&*txn, who.id).await? {
            if u.disabled_at.is_some() {
                return Err(Error::Conflict(format!(
                    "the account of {email} is disabled; enable it before minting a token"
                )));
            }
            if let Some(r) = role.filter(|r| r.as_str() != u.role) {
                if r != OrgRole::Owner {
                    crate::accounts::keep_an_owner(&*txn, &u).await?;
                }
                let mut entry = crate::accounts::audit_entry(
                    None,
                    "user.role_changed",
                    email,
                    &Default::default(),
                );
                entry.details = serde_json::json!({"from": u.role, "to": r});
                repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
            }
        }
        repo::user::ensure(&*txn, who.id, role.map(OrgRole::as_str), "person").await?;
        let out = repo::token::create(&*txn, who.id, name, scope.as_str(), None).await?;
        txn.commit().await?;
        Ok(out)
    }

    /// The caller behind a transport that vouches for people by e-mail (Slack): their user
    /// (created as a member on first contact) acting through that transport. Refused for a
    /// disabled account.
    pub async fn transport_caller(
        self,
        email: &str,
        transport: Transport,
    ) -> Result<Authenticated> {
        let address = dispatch_core::values::Email::parse("email", email).map_err(|_| {
            Error::Forbidden(format!(
                "{email:?} is not an e-mail address Dispatch can use"
            ))
        })?;
        let mut who = self
            .accounts()
            .external_user(&address, crate::access::Credential::Chat)
            .await?
            .ok_or_else(|| Error::Forbidden(format!("the account of {email} is disabled")))?;
        who.actor.transport = transport;
        Ok(who)
    }

    /// Whether any API token was ever minted.
    pub async fn any(self) -> Result<bool> {
        Ok(repo::token::any(self.db.conn()).await?)
    }

    /// The caller behind a bearer token, if it is live; records when the token was used (at
    /// most once a minute, so reads stay reads). A token seen a moment ago is not read again
    /// while this process hears of every change to credentials (see `credentials`).
    pub async fn authenticate(self, secret: &str) -> Result<Option<Authenticated>> {
        let now = dispatch_core::now();
        let hash = repo::token::hash(secret);
        let cache = self.credential_cache();
        let o = match cache.get(&hash, now) {
            Some(o) => o,
            None => {
                let generation = cache.generation();
                let Some(o) = repo::token::authenticate(self.db.conn(), secret, now).await? else {
                    return Ok(None);
                };
                cache.keep(hash.clone(), o.clone(), generation);
                o
            }
        };
        if o.last_used_at
            .is_none_or(|t| now - t > chrono::TimeDelta::seconds(60))
        {
            cache.used(&hash, now);
            // Bookkeeping, off the request's path: the request does not wait for this write
            // (nor fail with it); the next request after a minute tries again.
            let db = self.db.clone();
            let token_id = o.token_id;
            tokio::spawn(async move {
                let touched = async {
                    let txn = db.write().await?;
                    repo::token::touch(&*txn, token_id, now).await?;
                    txn.commit().await
                };
                if let Err(e) = touched.await {
                    tracing::warn!(error = %e, "cannot record when a token was last used");
                }
            });
        }
        Ok(Some(Authenticated {
            actor: Actor {
                individual_id: IndividualId(o.individual_id),
                email: o.email,
                name: o.name,
                transport: Transport::Api,
            },
            user_id: o.user_id,
            role: o.role.parse().unwrap_or(OrgRole::Member),
            scope: o.scope.parse().unwrap_or(TokenScope::Read),
            credential: crate::access::Credential::Token(o.token_id),
        }))
    }
}

impl crate::Projects<'_> {
    /// Every project.
    pub async fn list(self) -> Result<Vec<project::Model>> {
        Ok(repo::project::list(self.db.conn()).await?)
    }

    /// A project by slug.
    pub async fn get(self, slug: &str) -> Result<project::Model> {
        repo::project::by_slug(self.db.conn(), slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("project {slug}")))
    }

    /// Creates a project (stamped now) with the default taxonomies; when it is marked default it
    /// becomes the only default project.
    pub async fn create(self, mut row: project::Model) -> Result<project::Model> {
        row.created_at = dispatch_core::now();
        let txn = self.db.write().await?;
        let p = repo::project::insert(&*txn, row).await?;
        if p.is_default {
            repo::project::set_default(&*txn, p.id).await?;
        }
        dispatch_store::seed::seed_taxonomies(&*txn, p.id).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(p)
    }

    /// Saves the changes from `before` (the project as read) to `after`. Marking it default
    /// makes it the only default project; the default project cannot stop being the default
    /// (another one is made default instead), and the key prefix is fixed once the project has
    /// incidents (their keys carry it).
    pub async fn update(
        self,
        before: &project::Model,
        after: project::Model,
    ) -> Result<project::Model> {
        let txn = self.db.write().await?;
        let current = repo::project::get(&*txn, before.id).await?;
        // The value a field will have once saved: the changed one, else the stored one.
        let is_default = if after.is_default != before.is_default {
            after.is_default
        } else {
            current.is_default
        };
        let mut e = ValidationError::default();
        if after.key_prefix != before.key_prefix
            && after.key_prefix != current.key_prefix
            && current.incident_seq > 0
        {
            e.push(
                "key_prefix",
                "cannot change once the project has incidents (their keys carry the prefix)",
            );
        }
        if current.is_default && !is_default {
            e.push(
                "default",
                "this is the default project; make another project the default instead",
            );
        }
        e.into_result()?;
        let p = repo::project::update(&*txn, before, after).await?;
        if p.is_default && !current.is_default {
            repo::project::set_default(&*txn, p.id).await?;
        }
        txn.commit().await?;
        self.invalidate_config();
        Ok(p)
    }

    /// The project with this slug, or the default one.
    pub async fn get_or_default(self, slug: Option<&str>) -> Result<project::Model> {
        match slug {
            Some(s) => self.get(s).await,
            None => Ok(repo::project::default_project(self.db.conn()).await?),
        }
    }
}

impl crate::Directory<'_> {
    /// A page of individuals.
    pub async fn individuals(
        self,
        q: Option<&str>,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<individual::Model>, u64)> {
        Ok(repo::individual::list(self.db.conn(), q, page, per_page).await?)
    }

    /// An individual by id.
    pub async fn individual(self, id: IndividualId) -> Result<individual::Model> {
        let id = id.0;
        Ok(repo::individual::get(self.db.conn(), id).await?)
    }

    /// Teams of a project.
    pub async fn teams(self, project_id: ProjectId) -> Result<Vec<team::Model>> {
        let project_id = project_id.0;
        Ok(repo::directory::teams(self.db.conn(), project_id).await?)
    }

    /// Services of a project.
    pub async fn services(self, project_id: ProjectId) -> Result<Vec<service::Model>> {
        let project_id = project_id.0;
        Ok(repo::directory::services(self.db.conn(), project_id).await?)
    }

    /// A team by id.
    pub async fn team(self, id: TeamId) -> Result<team::Model> {
        let id = id.0;
        Ok(repo::directory::team(self.db.conn(), id).await?)
    }

    /// A service by id.
    pub async fn service(self, id: ServiceId) -> Result<service::Model> {
        let id = id.0;
        Ok(repo::directory::service(self.db.conn(), id).await?)
    }

    /// Deletes a team; one that incident participants still point at is a conflict.
    pub async fn delete_team(self, id: TeamId) -> Result<()> {
        let id = id.0;
        let txn = self.db.write().await?;
        repo::directory::team(&*txn, id).await?;
        repo::directory::delete_team(&*txn, id)
            .await
            .map_err(|e| still_referenced(e, &format!("team {id}")))?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes a service; one that other records still point at is a conflict.
    pub async fn delete_service(self, id: ServiceId) -> Result<()> {
        let id = id.0;
        let txn = self.db.write().await?;
        repo::directory::service(&*txn, id).await?;
        repo::directory::delete_service(&*txn, id)
            .await
            .map_err(|e| still_referenced(e, &format!("service {id}")))?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(())
    }

    /// Inserts a configuration record (team, service, individual, tag, tag type) in its own
    /// transaction; its id is given by the database. A uniqueness clash is a conflict.
    pub async fn create<R: Record>(self, row: R) -> Result<R> {
        let txn = self.db.write().await?;
        let saved = repo::rows::insert(&*txn, row).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(saved)
    }

    /// Saves the fields of a configuration record that differ between `before` (as read) and
    /// `after`, in its own transaction. A uniqueness clash is a conflict; a record deleted
    /// meanwhile is not found.
    pub async fn update<R: Record>(self, before: &R, after: R) -> Result<R> {
        let txn = self.db.write().await?;
        let saved = repo::rows::update(&*txn, before, after).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(saved)
    }
}

impl crate::Taxonomies<'_> {
    /// Types of a project.
    pub async fn incident_types(self, project_id: ProjectId) -> Result<Vec<incident_type::Model>> {
        let project_id = project_id.0;
        self.list(dispatch_core::ProjectId(project_id)).await
    }

    /// Priorities of a project.
    pub async fn incident_priorities(
        self,
        project_id: ProjectId,
    ) -> Result<Vec<incident_priority::Model>> {
        let project_id = project_id.0;
        self.list(dispatch_core::ProjectId(project_id)).await
    }

    /// Severities of a project.
    pub async fn incident_severities(
        self,
        project_id: ProjectId,
    ) -> Result<Vec<incident_severity::Model>> {
        let project_id = project_id.0;
        self.list(dispatch_core::ProjectId(project_id)).await
    }

    /// Tags of a project.
    pub async fn tags(self, project_id: ProjectId) -> Result<Vec<tag::Model>> {
        let project_id = project_id.0;
        Ok(repo::tag::list(self.db.conn(), project_id).await?)
    }

    /// Tags of a project as they are written (`name`, or `type:name` for a typed tag), by
    /// name.
    pub async fn tags_as_written(self, project_id: ProjectId) -> Result<Vec<String>> {
        let tags = repo::tag::list_with_types(self.db.conn(), project_id.0).await?;
        Ok(tags
            .into_iter()
            .map(|(t, tt)| repo::tag::as_written(&t.name, tt.map(|tt| tt.name).as_deref()))
            .collect())
    }

    /// Tag types of a project.
    pub async fn tag_types(self, project_id: ProjectId) -> Result<Vec<tag_type::Model>> {
        let project_id = project_id.0;
        Ok(repo::tag::types(self.db.conn(), project_id).await?)
    }
}
