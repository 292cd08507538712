//! A short-lived cache of each project's configuration (the project, its taxonomies, role
//! policies, the services they page and its provider choices), read on every declaration and
//! by every job that calls a provider. Changes made through this process clear it at once;
//! changes made by another replica are seen within [`TTL`].

use crate::{Engine, Error, Result};
use dispatch_core::provider::Selection;
use dispatch_core::Capability;
use dispatch_store::model::{
    incident_priority, incident_severity, incident_type, project, role_policy, service,
};
use dispatch_store::repo::{self, taxonomy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long another replica's configuration change may take to be seen here.
pub const TTL: Duration = Duration::from_secs(5);

/// A project's configuration as a declaration needs it.
#[derive(Debug, Default)]
pub(crate) struct ProjectConfig {
    pub project: project::Model,
    pub types: Vec<incident_type::Model>,
    pub priorities: Vec<incident_priority::Model>,
    pub severities: Vec<incident_severity::Model>,
    pub policies: Vec<role_policy::Model>,
    /// The services the enabled role policies take people from.
    pub services: Vec<service::Model>,
    /// The providers the project chose (the rest are the server's defaults).
    pub selection: Selection,
}

/// A stored selection (checked when it was saved). A capability this build does not know is
/// skipped; a slug it does not know is kept, so the job that needs it says so.
pub(crate) fn stored_selection(json: &str) -> Selection {
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(json).unwrap_or_default();
    map.into_iter()
        .filter_map(|(k, v)| Some((k.parse::<Capability>().ok()?, v)))
        .collect()
}

/// A cached configuration and when it was read.
type Entry = (Instant, Arc<ProjectConfig>);

/// The cache: by project slug (`None` = the default project).
#[derive(Default)]
pub(crate) struct ConfigCache {
    entries: Mutex<HashMap<Option<String>, Entry>>,
}

fn by_name<'a, T>(
    list: &'a [T],
    input: &str,
    slug: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
    enabled: impl Fn(&T) -> bool,
) -> Option<&'a T> {
    let input = input.trim().to_lowercase();
    list.iter()
        .find(|e| enabled(e) && (slug(e) == input || name(e).to_lowercase() == input))
}

impl ProjectConfig {
    /// The enabled type named (by slug or name) `input`.
    pub fn type_named(&self, input: &str) -> Option<&incident_type::Model> {
        by_name(&self.types, input, |t| &t.slug, |t| &t.name, |t| t.enabled)
    }

    /// The enabled priority named `input`.
    pub fn priority_named(&self, input: &str) -> Option<&incident_priority::Model> {
        by_name(
            &self.priorities,
            input,
            |t| &t.slug,
            |t| &t.name,
            |t| t.enabled,
        )
    }

    /// The enabled severity named `input`.
    pub fn severity_named(&self, input: &str) -> Option<&incident_severity::Model> {
        by_name(
            &self.severities,
            input,
            |t| &t.slug,
            |t| &t.name,
            |t| t.enabled,
        )
    }
}

impl Engine {
    /// The configuration of the project named `slug` (the default project when `None`).
    pub(crate) async fn project_config(&self, slug: Option<&str>) -> Result<Arc<ProjectConfig>> {
        let key = slug.map(str::to_lowercase);
        if let Some((at, cfg)) = self
            .config_cache()
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if at.elapsed() < TTL {
                return Ok(cfg.clone());
            }
        }
        let conn = self.db().conn();
        let project = match &key {
            None => repo::project::default_project(conn).await?,
            Some(s) => repo::project::by_slug(conn, s)
                .await?
                .ok_or_else(|| Error::NotFound(format!("project {s}")))?,
        };
        let policies = repo::oncall::policies(conn, project.id).await?;
        let mut service_ids: Vec<i64> = policies
            .iter()
            .filter(|p| p.enabled)
            .filter_map(|p| p.service_id)
            .collect();
        service_ids.sort_unstable();
        service_ids.dedup();
        let services = repo::directory::services_by_ids(conn, &service_ids).await?;
        let cfg = Arc::new(ProjectConfig {
            types: taxonomy::types::list(conn, project.id).await?,
            priorities: taxonomy::priorities::list(conn, project.id).await?,
            severities: taxonomy::severities::list(conn, project.id).await?,
            policies,
            services,
            selection: stored_selection(&project.providers),
            project,
        });
        self.config_cache()
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), cfg.clone()));
        Ok(cfg)
    }

    /// The configuration of the project with this id.
    pub(crate) async fn project_config_by_id(&self, id: i64) -> Result<Arc<ProjectConfig>> {
        let cached = self
            .config_cache()
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(|(at, cfg)| cfg.project.id == id && at.elapsed() < TTL)
            .map(|(_, cfg)| cfg.clone());
        if let Some(cfg) = cached {
            return Ok(cfg);
        }
        let project = repo::project::get(self.db().conn(), id).await?;
        self.project_config(Some(&project.slug)).await
    }

    /// Forgets every cached project configuration (after any configuration change).
    pub(crate) fn invalidate_config(&self) {
        self.config_cache()
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
