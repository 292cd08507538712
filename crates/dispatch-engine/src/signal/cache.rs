//! Each project's enabled definitions and its filters, compiled (matchers, extractors), kept
//! in memory: an ingest matches alerts without reading them from the database. A change made
//! through this process clears the cache at once; one made by another replica is seen within
//! [`crate::cache::TTL`]. Who is on call for a definition's service is kept for
//! [`ONCALL_TTL`], so an alert storm asks the on-call provider once.

use crate::{Engine, Result};
use dispatch_core::signal::{Extractor, FieldMap, FilterKind, FilterMode, Matchers, SignalSource};
use dispatch_store::model::{signal_definition, signal_filter};
use dispatch_store::repo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an on-call answer is used for new cases' assignees.
pub const ONCALL_TTL: Duration = Duration::from_secs(30);

/// A definition ready to match.
#[derive(Debug)]
pub(crate) struct Definition {
    pub row: signal_definition::Model,
    pub source: SignalSource,
    pub matcher: Matchers,
    pub extractors: Vec<Extractor>,
    pub fields: FieldMap,
}

/// A filter ready to match.
#[derive(Debug)]
pub(crate) struct Filter {
    pub row: signal_filter::Model,
    pub kind: FilterKind,
    pub matcher: Matchers,
}

impl Filter {
    /// Its mode now (expired once past its expiry).
    pub fn mode(&self, now: chrono::DateTime<chrono::Utc>) -> FilterMode {
        super::filter_mode(&self.row, now)
    }
}

/// A project's signal configuration.
#[derive(Debug)]
pub(crate) struct ProjectSignals {
    pub definitions: Vec<Definition>,
    pub filters: Vec<Filter>,
}

/// The cache, by project id, with the on-call answers by service id.
#[derive(Default)]
pub(crate) struct SignalCache {
    projects: Mutex<HashMap<i64, (Instant, Arc<ProjectSignals>)>>,
    oncall: Mutex<HashMap<i64, (Instant, Option<String>)>>,
    /// Ingest's group commit.
    pub batch: super::batch::Batcher,
}

fn compile(
    defs: Vec<signal_definition::Model>,
    filters: Vec<signal_filter::Model>,
) -> ProjectSignals {
    let definitions = defs
        .into_iter()
        .map(|row| Definition {
            source: row.source.parse().unwrap_or(SignalSource::Generic),
            matcher: Matchers::parse("match", &row.matcher).unwrap_or_default(),
            extractors: super::entity_types(&row)
                .iter()
                .filter_map(|t| Extractor::new("entity_types", t).ok())
                .collect(),
            fields: super::fields(&row),
            row,
        })
        .collect();
    let filters = filters
        .into_iter()
        .filter_map(|row| {
            Some(Filter {
                kind: row.kind.parse().ok()?,
                matcher: Matchers::parse("expression", &row.expression).ok()?,
                row,
            })
        })
        .collect();
    ProjectSignals {
        definitions,
        filters,
    }
}

impl Engine {
    /// The project's compiled signal configuration.
    pub(crate) async fn project_signals(&self, project_id: i64) -> Result<Arc<ProjectSignals>> {
        let cache = self.signal_cache();
        if let Some((at, s)) = cache
            .projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&project_id)
        {
            if at.elapsed() < crate::cache::TTL {
                return Ok(s.clone());
            }
        }
        let conn = self.db().conn();
        let defs = repo::signal::enabled_definitions(conn, project_id).await?;
        let filters = repo::signal::filters(conn, Some(project_id)).await?;
        let compiled = Arc::new(compile(defs, filters));
        cache
            .projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(project_id, (Instant::now(), compiled.clone()));
        Ok(compiled)
    }

    /// Forgets every cached signal configuration (after a definition or filter changed).
    pub(crate) fn invalidate_signals(&self) {
        self.signal_cache()
            .projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Who is on call now for each of these services, from the cache or the project's on-call
    /// provider (asked outside any transaction; a failing look-up gives nobody).
    pub(crate) async fn on_call_cached(
        &self,
        project_id: i64,
        services: &[i64],
    ) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let map = self
                .signal_cache()
                .oncall
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for s in services {
                match map.get(s) {
                    Some((at, who)) if at.elapsed() < ONCALL_TTL => {
                        if let Some(w) = who {
                            out.insert(*s, w.clone());
                        }
                    }
                    _ => missing.push(*s),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let cfg = self.project_config_by_id(project_id).await?;
        let found = self
            .on_call_for_service_ids(&cfg, &missing, dispatch_core::now())
            .await?;
        let mut map = self
            .signal_cache()
            .oncall
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for s in missing {
            let who = found.get(&s).cloned();
            map.insert(s, (Instant::now(), who.clone()));
            if let Some(w) = who {
                out.insert(s, w);
            }
        }
        Ok(out)
    }
}
