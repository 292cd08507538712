//! Per-project membership. A project's members belong to it as `member` or `admin`; a project
//! admin has the organization admin's powers over that project's configuration (taxonomies,
//! role policies, engagement and notification rules, provider selection) and manages its
//! membership, as organization managers and owners do. A members-only project's incidents are
//! seen and declared only by its members, organization admins and the incidents' participants
//! (the store's `Viewer` applies it to every read).

use crate::access::Authenticated;
use crate::audit::Origin;
use crate::{Error, Result};
use dispatch_core::{OrgRole, ProjectId, ProjectRole, UserId, ValidationError};
use dispatch_store::model::{engagement_rule, notification_rule, project};
use dispatch_store::repo;
use dispatch_store::repo::project_member::MemberRow;
use dispatch_store::Conn;

/// Whether the individual may see and declare the incidents of `project` as a matter of
/// membership: always for projects open to everyone; for a members-only project, its members
/// and organization admins (and above).
pub(crate) async fn may_use_project(
    conn: &impl Conn,
    project: &project::Model,
    individual_id: i64,
) -> Result<bool> {
    if !project.members_only {
        return Ok(true);
    }
    if let Some(u) = repo::user::by_individual(conn, individual_id).await? {
        let role: OrgRole = u.role.parse().unwrap_or(OrgRole::Member);
        if u.disabled_at.is_none() && role.at_least(OrgRole::Admin) {
            return Ok(true);
        }
    }
    Ok(
        repo::project_member::role_of_individual(conn, project.id, individual_id)
            .await?
            .is_some(),
    )
}

/// Project configuration records addressed by their own id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Configured {
    /// A role policy.
    RolePolicy,
    /// An engagement rule.
    EngagementRule,
    /// A notification rule.
    NotificationRule,
    /// A signal filter.
    SignalFilter,
}

/// One project configuration record, by its typed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfiguredRecord {
    /// A role policy.
    RolePolicy(dispatch_core::RolePolicyId),
    /// An engagement rule.
    EngagementRule(dispatch_core::RuleId),
    /// A notification rule.
    NotificationRule(dispatch_core::RuleId),
    /// A signal filter.
    SignalFilter(dispatch_core::SignalFilterId),
}

impl Configured {
    /// The record of this kind with the id `id` (as read from a path).
    pub fn record(self, id: i64) -> ConfiguredRecord {
        match self {
            Configured::RolePolicy => ConfiguredRecord::RolePolicy(id.into()),
            Configured::EngagementRule => ConfiguredRecord::EngagementRule(id.into()),
            Configured::NotificationRule => ConfiguredRecord::NotificationRule(id.into()),
            Configured::SignalFilter => ConfiguredRecord::SignalFilter(id.into()),
        }
    }
}

impl crate::Projects<'_> {
    /// The caller's role in the project `slug` (`None`: not a member, or no such project).
    pub async fn role(self, who: &Authenticated, slug: &str) -> Result<Option<ProjectRole>> {
        let conn = self.db().conn();
        let Some(p) = repo::project::by_slug(conn, slug).await? else {
            return Ok(None);
        };
        self.role_by_id(who, dispatch_core::ProjectId(p.id)).await
    }

    /// The caller's role in the project with this id.
    pub async fn role_by_id(
        self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> Result<Option<ProjectRole>> {
        let project_id = project_id.0;
        let role = repo::project_member::get(self.db().conn(), project_id, who.user_id).await?;
        Ok(role.and_then(|m| m.role.parse().ok()))
    }

    /// The members of a project.
    pub async fn members(self, slug: &str) -> Result<Vec<MemberRow>> {
        let p = self.get(slug).await?;
        Ok(repo::project_member::list(self.db().conn(), p.id).await?)
    }

    /// Adds the user to the project with `role`, or changes their role; audited.
    pub async fn set_member(
        self,
        by: &Authenticated,
        slug: &str,
        user_id: UserId,
        role: Option<&str>,
        origin: &Origin,
    ) -> Result<MemberRow> {
        let user_id = user_id.0;
        let p = self.get(slug).await?;
        let mut e = ValidationError::default();
        let role: Option<ProjectRole> = match role {
            None => {
                e.push("role", "is required: admin or member");
                None
            }
            Some(r) => match r.trim().to_ascii_lowercase().parse() {
                Ok(r) => Some(r),
                Err(_) => {
                    e.push("role", "must be one of: admin, member");
                    None
                }
            },
        };
        let txn = self.db().write().await?;
        let user = match repo::user::get(&*txn, user_id).await {
            Ok(u) => Some(u),
            Err(dispatch_store::StoreError::NotFound(_)) => {
                e.push("user_id", format!("no user has id {user_id}"));
                None
            }
            Err(other) => return Err(other.into()),
        };
        e.into_result()?;
        let (role, _user) = (role.expect("validated"), user.expect("validated"));
        let now = dispatch_core::now();
        let (member, before) =
            repo::project_member::set(&*txn, p.id, user_id, role.as_str(), now).await?;
        let row = repo::user::row(&*txn, user_id).await?;
        if before.as_deref() != Some(role.as_str()) {
            let mut entry = by.audit(
                if before.is_some() {
                    "project.member_role_changed"
                } else {
                    "project.member_added"
                },
                format!("project {} member {}", p.slug, row.email),
                origin,
            );
            entry.details = serde_json::json!({"project": p.slug, "user_id": user_id,
                "email": row.email, "from": before, "to": role});
            repo::audit::append(&*txn, entry, now).await?;
        }
        txn.commit().await?;
        Ok(MemberRow { member, user: row })
    }

    /// Removes the user from the project; audited. *Not found* when they do not belong.
    pub async fn remove_member(
        self,
        by: &Authenticated,
        slug: &str,
        user_id: UserId,
        origin: &Origin,
    ) -> Result<()> {
        let user_id = user_id.0;
        let p = self.get(slug).await?;
        let txn = self.db().write().await?;
        let Some(before) = repo::project_member::remove(&*txn, p.id, user_id).await? else {
            return Err(Error::NotFound(format!(
                "member {user_id} of project {}",
                p.slug
            )));
        };
        let email = repo::user::row(&*txn, user_id).await?.email;
        let mut entry = by.audit(
            "project.member_removed",
            format!("project {} member {email}", p.slug),
            origin,
        );
        entry.details = serde_json::json!({"project": p.slug, "user_id": user_id, "email": email, "from": before});
        repo::audit::append(&*txn, entry, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The project a configuration record belongs to (`None` when there is no such record).
    pub async fn configured(self, record: ConfiguredRecord) -> Result<Option<ProjectId>> {
        let conn = self.db().conn();
        let project = match record {
            ConfiguredRecord::RolePolicy(id) => repo::oncall::policy_project(conn, id.0).await?,
            ConfiguredRecord::EngagementRule(id) => {
                repo::rules::project_of::<engagement_rule::Model>(conn, id.0).await?
            }
            ConfiguredRecord::NotificationRule(id) => {
                repo::rules::project_of::<notification_rule::Model>(conn, id.0).await?
            }
            ConfiguredRecord::SignalFilter(id) => repo::signal::filter_project(conn, id.0).await?,
        };
        Ok(project.map(ProjectId))
    }

    /// Whether the caller is the admin of at least one project.
    pub async fn admins_any(self, who: &Authenticated) -> Result<bool> {
        Ok(repo::project_member::has_role_anywhere(
            self.db().conn(),
            who.user_id,
            ProjectRole::Admin.as_str(),
        )
        .await?)
    }

    /// Whether the caller may change the configuration of the project `slug`: organization
    /// admins (and above) everywhere, project admins in their project.
    pub async fn may_configure(self, who: &Authenticated, slug: &str) -> Result<bool> {
        Ok(who.is_admin() || self.role(who, slug).await? == Some(ProjectRole::Admin))
    }
}
