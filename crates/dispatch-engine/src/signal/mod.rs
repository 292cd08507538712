//! Signals: the definitions that say which alerts of a project matter and what they open, the
//! filters that merge or silence them, the instances received (the ingest is in [`ingest`]),
//! and (in [`case`]) the cases they open. Definitions and filters are kept compiled per project
//! in memory ([`cache`]) so an ingest reads none of them from the database.

pub(crate) mod batch;
pub(crate) mod cache;
pub mod case;
pub mod case_chat;
pub mod case_edit;
pub mod case_people;
mod escalate;
pub mod ingest;
pub(crate) mod names;
pub mod thread;
pub mod views;

use crate::access::Viewer;
use crate::tags::{NewTags, ProjectTags};
use crate::{Error, Result};
use dispatch_core::signal::{
    EntityType, Extractor, FieldMap, FilterAction, FilterKind, FilterMode, InstanceStatus,
    Matchers, SignalSource, DEFAULT_DEDUP_WINDOW,
};
use dispatch_core::{ServiceId, SignalDefinitionId, SignalFilterId, ValidationError};
use dispatch_store::model::{signal_definition, signal_filter, signal_instance};
use dispatch_store::repo;
use dispatch_store::repo::signal::{DefinitionFilter, FilterFilter, InstanceFilter};
use names::DefinitionNames;

/// A definition as written, parsed (for create and for a whole-record update).
#[derive(Debug, Clone)]
pub struct DefinitionInput {
    /// Its name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who owns it (free text: a team, a person).
    pub owner: String,
    /// Its runbook.
    pub runbook_url: Option<String>,
    /// Which endpoint its alerts come through.
    pub source: SignalSource,
    /// Which alerts it takes.
    pub matcher: Matchers,
    /// Whether it takes alerts.
    pub enabled: bool,
    /// Whether a new alert opens a case.
    pub create_case: bool,
    /// The case's (and escalated incident's) type slug.
    pub case_type: Option<String>,
    /// The case's priority slug.
    pub case_priority: Option<String>,
    /// The case's severity slug.
    pub case_severity: Option<String>,
    /// The on-call service whose person is the case's assignee.
    pub service_id: Option<ServiceId>,
    /// Where the case's thread goes.
    pub conversation_target: Option<String>,
    /// The tags a new case starts with (`name` or `type:name`), each one the project has.
    pub tags: Vec<String>,
    /// Entity extractors.
    pub entity_types: Vec<EntityType>,
    /// A generic source's field paths.
    pub fields: FieldMap,
    /// The deduplication window.
    pub dedup_window_seconds: i64,
}

impl DefinitionInput {
    /// A definition with these essentials and every other field at its default.
    pub fn new(name: &str, source: SignalSource, matcher: Matchers) -> Self {
        Self {
            name: name.to_string(),
            description: String::new(),
            owner: String::new(),
            runbook_url: None,
            source,
            matcher,
            enabled: true,
            create_case: true,
            case_type: None,
            case_priority: None,
            case_severity: None,
            service_id: None,
            conversation_target: None,
            tags: Vec::new(),
            entity_types: Vec::new(),
            fields: FieldMap::default(),
            dedup_window_seconds: DEFAULT_DEDUP_WINDOW,
        }
    }

    /// A stored definition read back (what a PATCH starts from).
    pub fn from_row(d: &signal_definition::Model) -> Self {
        Self {
            name: d.name.clone(),
            description: d.description.clone(),
            owner: d.owner.clone(),
            runbook_url: d.runbook_url.clone(),
            source: d.source.parse().unwrap_or(SignalSource::Generic),
            matcher: Matchers::parse("match", &d.matcher).unwrap_or_default(),
            enabled: d.enabled,
            create_case: d.create_case,
            case_type: d.case_type.clone(),
            case_priority: d.case_priority.clone(),
            case_severity: d.case_severity.clone(),
            service_id: d.service_id.map(ServiceId),
            conversation_target: d.conversation_target.clone(),
            tags: serde_json::from_str(&d.tags).unwrap_or_default(),
            entity_types: entity_types(d),
            fields: fields(d),
            dedup_window_seconds: d.dedup_window_seconds,
        }
    }

    /// Checks what a single field cannot: the entity types compile, the window is sane.
    pub fn check(&self) -> Result<(), ValidationError> {
        let mut e = ValidationError::default();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            e.push("name", "must be 1-200 characters");
        }
        if !(0..=30 * 86_400).contains(&self.dedup_window_seconds) {
            e.push(
                "dedup_window_seconds",
                "must be between 0 and 2592000 (30 days)",
            );
        }
        for (i, t) in self.entity_types.iter().enumerate() {
            if let Err(err) = Extractor::new(&format!("entity_types[{i}]"), t) {
                e.fields.extend(err.fields);
            }
        }
        if let Err(err) = self.fields.check("fields") {
            e.fields.extend(err.fields);
        }
        e.into_result()
    }

    fn into_row(self, project_id: i64, base: signal_definition::Model) -> signal_definition::Model {
        signal_definition::Model {
            project_id,
            name: self.name.trim().to_string(),
            description: self.description,
            owner: self.owner,
            runbook_url: self.runbook_url,
            source: self.source.as_str().into(),
            matcher: self.matcher.to_string(),
            enabled: self.enabled,
            create_case: self.create_case,
            case_type: self.case_type,
            case_priority: self.case_priority,
            case_severity: self.case_severity,
            service_id: self.service_id.map(|s| s.0),
            conversation_target: self.conversation_target,
            tags: serde_json::to_string(&self.tags).unwrap_or_else(|_| "[]".into()),
            entity_types: serde_json::to_string(&self.entity_types).unwrap_or_else(|_| "[]".into()),
            fields: serde_json::to_string(&self.fields).unwrap_or_else(|_| "{}".into()),
            dedup_window_seconds: self.dedup_window_seconds,
            ..base
        }
    }
}

/// A stored definition's entity types.
pub fn entity_types(d: &signal_definition::Model) -> Vec<EntityType> {
    serde_json::from_str(&d.entity_types).unwrap_or_default()
}

/// A stored definition's generic field paths.
pub fn fields(d: &signal_definition::Model) -> FieldMap {
    serde_json::from_str(&d.fields).unwrap_or_default()
}

/// A filter as written, parsed.
#[derive(Debug, Clone)]
pub struct FilterInput {
    /// The project it filters.
    pub project: Option<String>,
    /// Its name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Snooze or deduplicate.
    pub kind: FilterKind,
    /// Which alerts (labels, and entities by type name) it takes.
    pub expression: Matchers,
    /// Active, monitor or inactive.
    pub mode: FilterMode,
    /// When it stops acting.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A deduplicate filter's window.
    pub window_seconds: i64,
}

/// A filter's mode as it stands now: `expired` once its expiry passed.
pub fn filter_mode(f: &signal_filter::Model, now: chrono::DateTime<chrono::Utc>) -> FilterMode {
    if f.expires_at.is_some_and(|e| e <= now) {
        return FilterMode::Expired;
    }
    f.mode.parse().unwrap_or(FilterMode::Inactive)
}

impl crate::Signals<'_> {
    /// Writes a definition or filter — new, or changed from `before` as read — in its own
    /// transaction, and drops the cached definitions and filters.
    async fn save<R: dispatch_store::Record>(self, before: Option<&R>, row: R) -> Result<R> {
        let txn = self.db().write().await?;
        let saved = match before {
            None => repo::signal::insert(&*txn, row).await,
            Some(before) => repo::signal::update(&*txn, before, row).await,
        }
        .map_err(named_conflict)?;
        txn.commit().await?;
        self.invalidate_signals();
        Ok(saved)
    }

    /// The slug of the project a request names (the default project's when it names none);
    /// *not found* for a project that does not exist.
    pub async fn project_slug(self, project: Option<&str>) -> Result<String> {
        Ok(self.project_config(project).await?.project.slug.clone())
    }

    /// A project's definitions, by name, for `viewer`: a members-only project they do not use
    /// is *not found*, exactly like one that does not exist.
    pub async fn definitions(
        self,
        viewer: Viewer,
        project: &str,
    ) -> Result<Vec<signal_definition::Model>> {
        let cfg = self.project_seen_by(viewer, project).await?;
        Ok(repo::signal::definitions(self.db().conn(), cfg.project.id).await?)
    }

    /// The project named, if `viewer` may use it; *not found* otherwise, exactly like a project
    /// that does not exist (a members-only project's definitions are its members').
    async fn project_seen_by(
        self,
        viewer: Viewer,
        project: &str,
    ) -> Result<std::sync::Arc<crate::cache::ProjectConfig>> {
        let cfg = self.project_config(Some(project)).await?;
        if !self.sees(viewer, &cfg.project).await? {
            return Err(Error::NotFound(format!("project {project}")));
        }
        Ok(cfg)
    }

    /// Whether `viewer` may see the signal configuration of `project` (a members-only
    /// project's is its members').
    async fn sees(
        self,
        viewer: Viewer,
        project: &dispatch_store::model::project::Model,
    ) -> Result<bool> {
        Ok(match viewer {
            Viewer::Everyone => true,
            Viewer::OpenOnly => !project.members_only,
            Viewer::Individual(who) => {
                crate::accounts::projects::may_use_project(self.db().conn(), project, who).await?
            }
        })
    }

    /// A page of definitions, by project and name, and how many match in all.
    pub async fn definition_list(
        self,
        q: &DefinitionQuery,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<signal_definition::Model>, u64)> {
        let f = DefinitionFilter {
            project_id: self.project_id(q.project.as_deref()).await?,
            sources: q.sources.iter().map(|s| s.as_str().into()).collect(),
            enabled: q.enabled,
            viewer: q.viewer,
        };
        Ok(repo::signal::definitions_page(self.db().conn(), &f, page, per_page).await?)
    }

    /// The id of the project named, if one is (*not found* for one that does not exist).
    async fn project_id(self, project: Option<&str>) -> Result<Option<i64>> {
        Ok(match project {
            Some(p) => Some(self.project_config(Some(p)).await?.project.id),
            None => None,
        })
    }

    /// A definition of the project by id, for `viewer` (one of another project, or of a
    /// members-only project they do not use, is not found).
    pub async fn definition(
        self,
        viewer: Viewer,
        project: &str,
        id: SignalDefinitionId,
    ) -> Result<signal_definition::Model> {
        let cfg = self.project_seen_by(viewer, project).await?;
        let d = repo::signal::definition(self.db().conn(), id.0).await?;
        if d.project_id != cfg.project.id {
            return Err(Error::NotFound(format!("signal definition {id}")));
        }
        Ok(d)
    }

    /// Checks the definition's service belongs to the project.
    async fn check_service(&self, project_id: i64, input: &DefinitionInput) -> Result<()> {
        if let Some(s) = input.service_id {
            let found = repo::directory::service(self.db().conn(), s.0).await.ok();
            if found.is_none_or(|svc| svc.project_id != project_id) {
                return Err(ValidationError::field(
                    "service_id",
                    format!("no on-call service {s} in this project"),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Checks the names a definition refers to — its case type, priority and severity, and its
    /// tags — are the project's, each wrong one a field error, all of them found before anything
    /// is written. Those `current` already names may stay as they are.
    async fn check_names(
        &self,
        cfg: &crate::cache::ProjectConfig,
        input: &DefinitionInput,
        current: Option<&signal_definition::Model>,
    ) -> Result<()> {
        let names = DefinitionNames::of_input(input);
        let tags = ProjectTags::load(
            self.db().conn(),
            cfg.project.id,
            &names.tags,
            NewTags::Refuse,
        )
        .await?;
        let mut e = ValidationError::default();
        names.check(
            cfg,
            &tags,
            current.map(DefinitionNames::of_row).as_ref(),
            &mut e,
        );
        Ok(e.into_result()?)
    }

    /// Creates a definition.
    pub async fn create_definition(
        self,
        project: &str,
        input: DefinitionInput,
    ) -> Result<signal_definition::Model> {
        input.check()?;
        let cfg = self.project_config(Some(project)).await?;
        self.check_service(cfg.project.id, &input).await?;
        self.check_names(&cfg, &input, None).await?;
        let now = dispatch_core::now();
        let row = input.into_row(
            cfg.project.id,
            signal_definition::Model {
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
        );
        self.save(None, row).await
    }

    /// Replaces a definition's fields.
    pub async fn update_definition(
        self,
        project: &str,
        id: SignalDefinitionId,
        input: DefinitionInput,
    ) -> Result<signal_definition::Model> {
        input.check()?;
        let current = self.definition(Viewer::Everyone, project, id).await?;
        self.check_service(current.project_id, &input).await?;
        let cfg = self.project_config(Some(project)).await?;
        self.check_names(&cfg, &input, Some(&current)).await?;
        let row = input.into_row(
            current.project_id,
            signal_definition::Model {
                updated_at: dispatch_core::now(),
                ..current.clone()
            },
        );
        self.save(Some(&current), row).await
    }

    /// Deletes a definition and its instances (its cases stay).
    pub async fn delete_definition(self, project: &str, id: SignalDefinitionId) -> Result<()> {
        self.definition(Viewer::Everyone, project, id).await?;
        let txn = self.db().write().await?;
        repo::signal::delete_definition(&*txn, id.0).await?;
        txn.commit().await?;
        self.invalidate_signals();
        Ok(())
    }

    /// A project's filters, by name, for `viewer`: a members-only project they do not use is
    /// *not found*, exactly like one that does not exist.
    pub async fn filters(self, viewer: Viewer, project: &str) -> Result<Vec<signal_filter::Model>> {
        let cfg = self.project_seen_by(viewer, project).await?;
        Ok(repo::signal::filters(self.db().conn(), Some(cfg.project.id)).await?)
    }

    /// A page of filters, by project and name, and how many match in all (modes as they stand
    /// now).
    pub async fn filter_list(
        self,
        q: &FilterQuery,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<signal_filter::Model>, u64)> {
        let f = FilterFilter {
            project_id: self.project_id(q.project.as_deref()).await?,
            kinds: q.kinds.iter().map(|k| k.as_str().into()).collect(),
            modes: q.modes.iter().map(|m| m.as_str().into()).collect(),
            now: dispatch_core::now(),
            viewer: q.viewer,
        };
        Ok(repo::signal::filters_page(self.db().conn(), &f, page, per_page).await?)
    }

    /// A filter by id.
    pub async fn filter(self, viewer: Viewer, id: SignalFilterId) -> Result<signal_filter::Model> {
        let f = repo::signal::filter(self.db().conn(), id.0).await?;
        let cfg = self.project_config_by_id(f.project_id).await?;
        if !self.sees(viewer, &cfg.project).await? {
            return Err(Error::NotFound(format!("signal filter {id}")));
        }
        Ok(f)
    }

    /// Creates a filter; `by` is who made it.
    pub async fn create_filter(self, input: FilterInput, by: &str) -> Result<signal_filter::Model> {
        let cfg = self.project_config(input.project.as_deref()).await?;
        let now = dispatch_core::now();
        let row = filter_row(
            input,
            signal_filter::Model {
                project_id: cfg.project.id,
                created_by: Some(by.to_string()),
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
        );
        self.save(None, row).await
    }

    /// Replaces a filter's fields (its project stays).
    pub async fn update_filter(
        self,
        id: SignalFilterId,
        input: FilterInput,
    ) -> Result<signal_filter::Model> {
        let current = self.filter(Viewer::Everyone, id).await?;
        let row = filter_row(
            input,
            signal_filter::Model {
                updated_at: dispatch_core::now(),
                ..current.clone()
            },
        );
        self.save(Some(&current), row).await
    }

    /// Deletes a filter (instances it acted on keep their action).
    pub async fn delete_filter(self, id: SignalFilterId) -> Result<()> {
        self.filter(Viewer::Everyone, id).await?;
        let txn = self.db().write().await?;
        repo::signal::delete_filter(&*txn, id.0).await?;
        txn.commit().await?;
        self.invalidate_signals();
        Ok(())
    }

    /// A page of instances, newest first, and the total: those the query's viewer may see (a
    /// members-only project's only for its members and admins).
    pub async fn instances(
        self,
        q: &InstanceQuery,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<signal_instance::Model>, u64)> {
        let project_id = self.project_id(q.project.as_deref()).await?;
        let f = InstanceFilter {
            definition_id: q.definition.map(|d| d.0),
            case_id: q.case.map(|c| c.0),
            project_id,
            statuses: q.statuses.iter().map(|s| s.as_str().into()).collect(),
            actions: q.actions.iter().map(|a| a.as_str().into()).collect(),
            viewer: q.viewer,
        };
        Ok(repo::signal::instances(self.db().conn(), &f, page, per_page).await?)
    }
}

/// Which definitions to list: each part narrows the list; an empty one does not.
#[derive(Debug, Clone, Default)]
pub struct DefinitionQuery {
    /// Of this project (by slug).
    pub project: Option<String>,
    /// Of one of these sources.
    pub sources: Vec<SignalSource>,
    /// Enabled, or not.
    pub enabled: Option<bool>,
    /// Who lists them: a members-only project's definitions are listed to its members only.
    pub viewer: crate::access::Viewer,
}

/// Which filters to list: each part narrows the list; an empty one does not.
#[derive(Debug, Clone, Default)]
pub struct FilterQuery {
    /// Of this project (by slug).
    pub project: Option<String>,
    /// Of one of these kinds.
    pub kinds: Vec<FilterKind>,
    /// In one of these modes, as they stand now.
    pub modes: Vec<FilterMode>,
    /// Who lists them: a members-only project's filters are listed to its members only.
    pub viewer: crate::access::Viewer,
}

/// Which instances to list: each part narrows the list; an empty one does not.
#[derive(Debug, Clone)]
pub struct InstanceQuery {
    /// Of this definition.
    pub definition: Option<SignalDefinitionId>,
    /// On this case.
    pub case: Option<dispatch_core::CaseId>,
    /// Of this project (by slug).
    pub project: Option<String>,
    /// In one of these statuses.
    pub statuses: Vec<InstanceStatus>,
    /// With one of these filter actions.
    pub actions: Vec<FilterAction>,
    /// Who lists them.
    pub viewer: crate::access::Viewer,
}

impl InstanceQuery {
    /// Every instance `viewer` may see.
    pub fn seen_by(viewer: crate::access::Viewer) -> Self {
        Self {
            definition: None,
            case: None,
            project: None,
            statuses: Vec::new(),
            actions: Vec::new(),
            viewer,
        }
    }
}

fn filter_row(input: FilterInput, base: signal_filter::Model) -> signal_filter::Model {
    signal_filter::Model {
        name: input.name.trim().to_string(),
        description: input.description,
        kind: input.kind.as_str().into(),
        expression: input.expression.to_string(),
        mode: input.mode.as_str().into(),
        expires_at: input.expires_at,
        window_seconds: input.window_seconds,
        ..base
    }
}

/// A unique-name violation, as the name field's error.
pub(crate) fn named_conflict(e: dispatch_store::StoreError) -> Error {
    match e {
        dispatch_store::StoreError::Conflict(_) => {
            ValidationError::field("name", "another one in this project has this name").into()
        }
        other => other.into(),
    }
}
