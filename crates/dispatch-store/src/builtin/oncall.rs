//! Dispatch's own on-call: each service's rotation (members, shift length, hand-off time, time
//! zone) with its overrides. Pages are Dispatch's page records; the engine tells the person by
//! e-mail and direct message, so paging here has nothing more to do.

use crate::entity::oncall_schedule;
use crate::repo;
use crate::Db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dispatch_core::oncall::{Override, Rotation, Shift};
use dispatch_core::provider::{
    OnCallProvider, OnCallService, PageRequest, ProviderError, ProviderResult,
};
use sea_orm::ConnectionTrait;

/// The slug of Dispatch's own on-call.
pub const SLUG: &str = "dispatch-oncall";

/// The built-in on-call provider.
pub struct OnCall {
    /// Where rotations are kept.
    pub db: Db,
}

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

/// A stored schedule as a rotation.
pub fn rotation(s: &oncall_schedule::Model) -> Result<Rotation, dispatch_core::ValidationError> {
    let members: Vec<String> = serde_json::from_str(&s.members).unwrap_or_default();
    Rotation::parse(
        &members,
        i64::from(s.shift_hours),
        &s.handoff_time,
        &s.start_date,
        &s.time_zone,
    )
}

/// The shift at `at` and the one after it, overrides included.
pub async fn shifts(
    conn: &impl ConnectionTrait,
    s: &oncall_schedule::Model,
    at: DateTime<Utc>,
) -> ProviderResult<(Shift, Shift)> {
    let r = rotation(s).map_err(err)?;
    let overrides: Vec<Override> =
        repo::oncall::overrides(conn, s.id, at - chrono::Duration::days(60))
            .await
            .map_err(err)?
            .into_iter()
            .map(|o| Override {
                email: o.email,
                starts_at: o.starts_at,
                ends_at: o.ends_at,
            })
            .collect();
    Ok((r.on_call(&overrides, at), r.next(&overrides, at)))
}

impl OnCall {
    async fn both(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<(Shift, Shift)>> {
        let conn = self.db.conn();
        match repo::oncall::schedule(conn, service.id)
            .await
            .map_err(err)?
        {
            Some(s) => Ok(Some(shifts(conn, &s, at).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl OnCallProvider for OnCall {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn on_call(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        Ok(self.both(service, at).await?.map(|(now, _)| now))
    }

    async fn next(
        &self,
        service: &OnCallService,
        at: DateTime<Utc>,
    ) -> ProviderResult<Option<Shift>> {
        Ok(self.both(service, at).await?.map(|(_, next)| next))
    }

    async fn page(&self, _page: &PageRequest) -> ProviderResult<Option<String>> {
        Ok(None)
    }
}
