//! A short-lived cache of each project's configuration (the project, its taxonomies and role
//! policies), read on every declaration. Changes made through this process clear it at once;
//! changes made by another replica are seen within [`TTL`].

use crate::{Engine, Error, Result};
use dispatch_store::entity::{
    incident_priority, incident_severity, incident_type, project, role_policy,
};
use dispatch_store::repo::{self, taxonomy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long another replica's configuration change may take to be seen here.
pub const TTL: Duration = Duration::from_secs(5);

/// A project's configuration as a declaration needs it.
#[derive(Debug)]
pub(crate) struct ProjectConfig {
    pub project: project::Model,
    pub types: Vec<incident_type::Model>,
    pub priorities: Vec<incident_priority::Model>,
    pub severities: Vec<incident_severity::Model>,
    pub policies: Vec<role_policy::Model>,
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
        let cfg = Arc::new(ProjectConfig {
            types: taxonomy::types::list(conn, project.id).await?,
            priorities: taxonomy::priorities::list(conn, project.id).await?,
            severities: taxonomy::severities::list(conn, project.id).await?,
            policies: repo::oncall::policies(conn, project.id).await?,
            project,
        });
        self.config_cache()
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), cfg.clone()));
        Ok(cfg)
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
