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

/// What checking one provider found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCheck {
    /// The capability it serves.
    pub capability: Capability,
    /// The provider's slug.
    pub provider: &'static str,
    /// Whether the vendor accepted the call.
    pub ok: bool,
    /// What works, or what is wrong and which setting to look at.
    pub message: String,
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

    /// Checks each provider that calls a vendor with a cheap authenticated call: those the
    /// project with slug `project` uses, or every one this server has when `None`. Providers
    /// with nothing to check (the built-ins) are left out. An unknown project is a field error.
    pub async fn check_providers(self, project: Option<&str>) -> Result<Vec<ProviderCheck>> {
        let mut wanted: Vec<(Capability, &'static str)> = Vec::new();
        match project {
            Some(slug) => {
                let row = self.projects().get(slug).await.map_err(|e| match e {
                    crate::Error::NotFound(_) => crate::Error::from(ValidationError::field(
                        "project",
                        format!("unknown project {slug:?}"),
                    )),
                    e => e,
                })?;
                for (c, s) in self.of_project(&row).effective {
                    wanted.extend(s.map(|s| (c, s)));
                }
            }
            None => {
                for c in Capability::ALL {
                    let (slugs, _) = self.registry().available(*c);
                    wanted.extend(slugs.into_iter().map(|s| (*c, s)));
                }
            }
        }
        let mut out = Vec::new();
        for (capability, provider) in wanted {
            let found = match self.registry().check_provider(capability, provider).await {
                None | Some(Ok(None)) => continue,
                Some(found) => found,
            };
            let (ok, message) = match found {
                Ok(words) => (true, words.unwrap_or_default()),
                Err(e) => (false, e.message),
            };
            out.push(ProviderCheck {
                capability,
                provider,
                ok,
                message,
            });
        }
        Ok(out)
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
