//! Which providers a project uses: its own choices (stored on the project, checked against the
//! server's registry when saved) over the server's defaults. Jobs take the providers of their
//! incident's project through the project configuration cache, so choosing costs no query on
//! the declare path. Also the read side of the built-in providers' own data that is not about
//! one incident's room: direct messages and contact look-ups.

use crate::cache::ProjectConfig;
use crate::{Engine, Result};
use dispatch_core::provider::{parse_selection, Contact, Providers, Selection};
use dispatch_core::{Capability, ResourceKind, ValidationError};
use dispatch_store::model::{direct_message, participant_group, project};
use dispatch_store::repo;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The capability whose provider creates a resource of `kind`.
pub fn capability_of(kind: ResourceKind) -> Capability {
    match kind {
        ResourceKind::Ticket => Capability::Ticket,
        ResourceKind::Storage => Capability::Storage,
        ResourceKind::Conference => Capability::Conference,
        ResourceKind::Conversation => Capability::Conversation,
        ResourceKind::Group => Capability::Group,
        ResourceKind::Document | ResourceKind::ReviewDocument | ResourceKind::ExecutiveDocument => {
            Capability::Document
        }
    }
}

/// What a project uses for each capability.
#[derive(Debug, Clone)]
pub struct ProjectProviders {
    /// The project's own choices.
    pub chosen: Selection,
    /// Per capability, the provider used (its choice, else the default); `None` when this
    /// server has none (or no longer has the one chosen).
    pub effective: BTreeMap<Capability, Option<&'static str>>,
}

impl Engine {
    /// The slug a pending resource of `kind` shows before its job runs, for a project with
    /// this configuration.
    pub(crate) fn pending_slug(&self, cfg: &ProjectConfig, kind: ResourceKind) -> String {
        self.registry()
            .slug_for(capability_of(kind), &cfg.selection)
            .map(String::from)
            .unwrap_or_else(|| crate::flows::pending_provider(kind))
    }

    /// The providers of the project with this slug (the default project when `None`).
    pub(crate) async fn providers_of_project(&self, slug: Option<&str>) -> Result<Providers> {
        let cfg = self.project_config(slug).await?;
        self.providers_for(&cfg)
    }

    /// The providers of a project whose configuration is at hand.
    pub(crate) fn providers_for(&self, cfg: &ProjectConfig) -> Result<Providers> {
        Ok(self.registry().select(&cfg.selection)?)
    }

    /// The providers of the incident's project.
    pub(crate) async fn providers_of_incident(&self, incident_id: i64) -> Result<Providers> {
        let cfg = self.incident_config(incident_id).await?;
        self.providers_for(&cfg)
    }

    /// The configuration of the incident's project.
    pub(crate) async fn incident_config(&self, incident_id: i64) -> Result<Arc<ProjectConfig>> {
        let r = dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(incident_id));
        let project_id = repo::incident::row(self.db().conn(), &r).await?.project_id;
        self.project_config_by_id(project_id).await
    }
}

impl crate::Integrations<'_> {
    /// Checks a project's provider choices given over a transport (a JSON object of capability
    /// → slug); every bad entry is a field error named `providers.<capability>`.
    pub fn check(self, value: &serde_json::Value, errors: &mut ValidationError) -> Selection {
        parse_selection(self.registry(), value, errors)
    }

    /// What `project` uses for each capability.
    pub fn of_project(self, project: &project::Model) -> ProjectProviders {
        let chosen = crate::cache::stored_selection(&project.providers);
        let effective = Capability::ALL
            .iter()
            .map(|c| (*c, self.registry().slug_for(*c, &chosen)))
            .collect();
        ProjectProviders { chosen, effective }
    }

    /// A person as the project's contact directory knows them.
    pub async fn contact(self, project: Option<&str>, email: &str) -> Result<Option<Contact>> {
        let cfg = match self.project_config(project).await {
            Err(crate::Error::NotFound(_)) => {
                return Err(ValidationError::field(
                    "project",
                    format!("unknown project {:?}", project.unwrap_or_default()),
                )
                .into())
            }
            other => other?,
        };
        let p = self.providers_for(&cfg)?;
        Ok(p.contact.lookup(email).await?)
    }

    /// Direct messages the built-in conversation provider keeps for a person, newest first.
    pub async fn direct_messages(
        self,
        email: &str,
        limit: u64,
    ) -> Result<Vec<direct_message::Model>> {
        let email = email.trim().to_lowercase();
        Ok(repo::direct_message::for_email(self.db().conn(), &email, limit).await?)
    }

    /// The incident's group as the built-in group provider keeps it, with its members; `None`
    /// when it has none there (not created yet, or made by another provider).
    pub async fn builtin_group(
        self,
        r: &dispatch_core::values::IncidentRef,
    ) -> Result<Option<(participant_group::Model, Vec<String>)>> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        let Some(g) = repo::participant_group::of_incident(
            conn,
            inc.id,
            dispatch_core::GroupPurpose::Tactical,
        )
        .await?
        else {
            return Ok(None);
        };
        let members = repo::participant_group::member_emails(conn, g.id).await?;
        Ok(Some((g, members)))
    }
}
