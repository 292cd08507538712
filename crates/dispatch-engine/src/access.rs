//! Who may see and change what. Organization roles (owner > manager > admin > member) gate
//! configuration; incident rules gate incidents: a restricted incident exists only for admins and
//! its participants (to everyone else it is *not found*, never *forbidden*, so its existence does
//! not leak); what a caller who sees it may do there is decided by the one rule of
//! [`dispatch_core::permission`]. Every per-incident route and chat command asks
//! [`Access::require`] or [`Access::incident`]; every list asks the store's
//! [`Viewer`].

use crate::{Actor, Error, Result};
use dispatch_core::permission::{self, Action, Standing, Who};
use dispatch_core::values::IncidentRef;
use dispatch_core::{CaseId, IncidentId, OrgRole, ProjectRole, TokenScope};
use dispatch_store::model::{case, incident};
use dispatch_store::repo;
pub use dispatch_store::repo::incident::Viewer;

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API token (its id).
    Token(i64),
    /// A web session (its id).
    Session(i64),
    /// A header set by a trusted authenticating proxy.
    TrustedHeader,
    /// Dispatch itself, or a command run on the server's own machine.
    Local,
    /// A chat transport (Slack) that vouches for the person by e-mail.
    Chat,
}

/// An authenticated caller: who, with which organization role, and what their credential may do.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The person, as an actor over the API.
    pub actor: Actor,
    /// Their user id.
    pub user_id: i64,
    /// Their organization role.
    pub role: OrgRole,
    /// What the credential may do (tokens can be narrower than their owner).
    pub scope: TokenScope,
    /// How they signed in.
    pub credential: Credential,
}

impl Authenticated {
    /// Whether the caller is an admin (or above): admins see every incident.
    pub fn is_admin(&self) -> bool {
        self.role.at_least(OrgRole::Admin)
    }

    /// The caller as the reader of a list.
    pub fn viewer(&self) -> Viewer {
        viewer_of(self.role, self.actor.individual_id.0)
    }
}

/// What a person with this organization role sees: admins everything, anyone else what
/// [`Viewer::Individual`] allows.
fn viewer_of(role: OrgRole, individual_id: i64) -> Viewer {
    if role.at_least(OrgRole::Admin) {
        Viewer::Everyone
    } else {
        Viewer::Individual(individual_id)
    }
}

/// *Forbidden*, naming who may do `action`, unless someone standing so may (the one rule).
fn require(action: Action, standing: &Standing) -> Result<()> {
    if permission::allows(action, standing) {
        Ok(())
    } else {
        Err(Error::Forbidden(permission::refusal(action, standing)))
    }
}

/// The caller's standing in one incident, and what it allows.
#[derive(Debug, Clone)]
pub struct IncidentAccess {
    /// The incident's id.
    pub incident_id: i64,
    /// How the caller stands in it: what [`permission::allows`] decides from.
    pub standing: Standing,
}

impl IncidentAccess {
    /// Whether the caller may do `action` (they can already see the incident): the one rule,
    /// [`permission::allows`].
    pub fn allows(&self, action: Action) -> bool {
        permission::allows(action, &self.standing)
    }

    /// *Forbidden*, naming who may do `action`, unless the caller may.
    pub fn require(&self, action: Action) -> Result<()> {
        require(action, &self.standing)
    }
}

/// The caller's standing in one case, and the case.
#[derive(Debug, Clone)]
pub struct CaseAccess {
    /// The case.
    pub case: case::Model,
    /// How the caller stands in it (their organization and project role, whether it is theirs).
    pub standing: Standing,
}

impl CaseAccess {
    /// *Forbidden*, naming who may do `action`, unless the caller may ([`permission::allows`]).
    pub fn require(&self, action: Action) -> Result<()> {
        require(action, &self.standing)
    }
}

/// The records that belong to one incident and are addressed by their own id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    /// A document.
    Document,
    /// A file.
    File,
    /// A job (some jobs belong to no incident).
    Job,
    /// A page.
    Page,
}

/// One record that belongs to an incident, by its typed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedRecord {
    /// A document.
    Document(dispatch_core::DocumentId),
    /// A file.
    File(dispatch_core::FileId),
    /// A job.
    Job(dispatch_core::JobId),
    /// A page.
    Page(dispatch_core::PageId),
}

impl Owned {
    /// The record of this kind with the id `id` (as read from a path).
    pub fn record(self, id: i64) -> OwnedRecord {
        match self {
            Owned::Document => OwnedRecord::Document(id.into()),
            Owned::File => OwnedRecord::File(id.into()),
            Owned::Job => OwnedRecord::Job(id.into()),
            Owned::Page => OwnedRecord::Page(id.into()),
        }
    }
}

impl crate::Access<'_> {
    /// The caller's standing in an incident. An incident the caller may not see is *not found*,
    /// exactly like one that does not exist. Two reads (the incident, if visible, and the
    /// caller's roles in force in it), three for someone below the admin role (whether they
    /// administer its project).
    pub async fn incident(self, who: &Authenticated, r: &IncidentRef) -> Result<IncidentAccess> {
        let row = self.visible(who.viewer(), r).await?;
        let keys = [row.id, row.project_id, row.commander_id, row.reporter_id];
        self.standing(who, keys).await
    }

    /// The caller's standing in an incident read as they may see it
    /// ([`crate::Incidents::get_visible`]): one read (the caller's roles in force in it), two
    /// for someone below the admin role.
    pub async fn in_detail(
        self,
        who: &Authenticated,
        d: &crate::incident::IncidentDetail,
    ) -> Result<IncidentAccess> {
        let row = &d.row;
        let keys = [row.id, row.project_id, row.commander_id, row.reporter_id];
        self.standing(who, keys).await
    }

    /// The caller's standing in the incident `id` of `project_id` whose commander and reporter
    /// of record are `commander` and `reporter`: their roles in force in it, and whether they
    /// administer its project.
    async fn standing(
        self,
        who: &Authenticated,
        [id, project_id, commander, reporter]: [i64; 4],
    ) -> Result<IncidentAccess> {
        let me = who.actor.individual_id.0;
        let roles = repo::participant::roles_in_force(self.db().conn(), id, me).await?;
        let project_admin = self.project_admin(who, project_id).await?;
        Ok(IncidentAccess {
            incident_id: id,
            standing: Standing {
                roles,
                commander_of_record: commander == me,
                reporter_of_record: reporter == me,
                org_role: who.role,
                project_admin,
                assignee: false,
            },
        })
    }

    /// Whether the caller, below the organization's admin role, administers the project.
    async fn project_admin(self, who: &Authenticated, project_id: i64) -> Result<bool> {
        Ok(!who.is_admin()
            && self
                .projects()
                .role_by_id(who, dispatch_core::ProjectId(project_id))
                .await?
                == Some(ProjectRole::Admin))
    }

    /// The incident, if `viewer` may see it; *not found* otherwise, exactly like an incident
    /// that does not exist. One read.
    pub async fn visible(self, viewer: Viewer, r: &IncidentRef) -> Result<incident::Model> {
        repo::incident::visible_row(self.db().conn(), viewer, r)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {r}")))
    }

    /// The caller again, as their credential stands now: `None` once it was revoked or expired,
    /// the session ended or the account was disabled; their role as it is now otherwise. One
    /// read; what a long-lived request (a live stream) asks as it goes, since every other
    /// request authenticates afresh.
    pub async fn reauthenticate(self, who: &Authenticated) -> Result<Option<Authenticated>> {
        use repo::user::LiveCheck;
        let now = dispatch_core::now();
        let check = match who.credential {
            Credential::Token(id) => LiveCheck::Token(id),
            Credential::Session(id) => LiveCheck::Session {
                id,
                idle_since: now - self.session_settings().idle,
            },
            Credential::TrustedHeader | Credential::Chat => LiveCheck::User(who.user_id),
            Credential::Local => return Ok(Some(who.clone())),
        };
        let role = repo::user::role_while_live(self.db().conn(), check, now).await?;
        Ok(role.map(|role| Authenticated {
            role: role.parse().unwrap_or(OrgRole::Member),
            ..who.clone()
        }))
    }

    /// Whether the person with this e-mail may hear of the incident now, by mail or direct
    /// message: someone who may see it (a disabled account may see nothing). An address that is
    /// no one's hears only of incidents open to everyone. Asked when the message is sent, not
    /// when it was queued, so access that ended meanwhile ends the mail too.
    pub async fn may_hear(self, incident_id: IncidentId, email: &str) -> Result<bool> {
        let incident_id = incident_id.0;
        let conn = self.db().conn();
        let email = email.trim().to_lowercase();
        let viewer = match repo::individual::by_email(conn, &email).await? {
            None => Viewer::OpenOnly,
            Some(person) => match repo::user::by_individual(conn, person.id).await? {
                Some(u) if u.disabled_at.is_some() => return Ok(false),
                Some(u) => viewer_of(u.role.parse().unwrap_or(OrgRole::Member), person.id),
                None => Viewer::Individual(person.id),
            },
        };
        Ok(repo::incident::visible(conn, viewer, incident_id).await?)
    }

    /// Checks that the caller may do `action` in an incident: *not found* when they may not see
    /// it, *forbidden* (naming who may) when they see it but may not do this
    /// ([`permission::allows`] decides).
    pub async fn require(self, who: &Authenticated, r: &IncidentRef, action: Action) -> Result<()> {
        if action.who() == Who::Anyone || who.is_admin() {
            // Seeing it is all this needs: no look at the caller's roles in it.
            self.visible(who.viewer(), r).await?;
            return Ok(());
        }
        self.incident(who, r).await?.require(action)
    }

    /// The caller's standing in a case. A case of a members-only project the caller does not use
    /// is *not found*, exactly like one that does not exist. The caller is its assignee when the
    /// case names them, or names no one.
    pub async fn case(self, who: &Authenticated, id: CaseId) -> Result<CaseAccess> {
        let conn = self.db().conn();
        let missing = || Error::NotFound(format!("case {id}"));
        let row = repo::signal::case(conn, id.0).await?;
        let project = repo::project::get(conn, row.project_id).await?;
        let me = who.actor.individual_id.0;
        if !crate::accounts::projects::may_use_project(conn, &project, me).await? {
            return Err(missing());
        }
        let project_admin = self.project_admin(who, row.project_id).await?;
        let assignee = row
            .assignee
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case(who.actor.email.as_str()));
        Ok(CaseAccess {
            standing: Standing {
                org_role: who.role,
                project_admin,
                assignee,
                ..Standing::default()
            },
            case: row,
        })
    }

    /// Checks that the caller may do the case `action` in a case (*not found* when they may
    /// not see it, *forbidden* naming who may otherwise), and answers the case as it is.
    pub async fn require_case(
        self,
        who: &Authenticated,
        id: CaseId,
        action: Action,
    ) -> Result<case::Model> {
        let access = self.case(who, id).await?;
        access.require(action)?;
        Ok(access.case)
    }

    /// Checks that the caller may do every one of `actions` in an incident, as
    /// [`Access::require`] does for one (one look at their standing for all of them).
    pub async fn require_all(
        self,
        who: &Authenticated,
        r: &IncidentRef,
        actions: &[Action],
    ) -> Result<()> {
        if actions.iter().all(|a| a.who() == Who::Anyone) || who.is_admin() {
            self.visible(who.viewer(), r).await?;
            return Ok(());
        }
        let access = self.incident(who, r).await?;
        actions.iter().try_for_each(|a| access.require(*a))
    }

    /// The incident a document, file, job or page belongs to (`None` for a job of no incident);
    /// a missing record is *not found*.
    pub async fn owner_incident(self, record: OwnedRecord) -> Result<Option<IncidentId>> {
        let conn = self.db().conn();
        let missing = || {
            let (what, id) = match record {
                OwnedRecord::Document(id) => ("document", id.0),
                OwnedRecord::File(id) => ("file", id.0),
                OwnedRecord::Job(id) => ("job", id.0),
                OwnedRecord::Page(id) => ("page", id.0),
            };
            Error::NotFound(format!("{what} {id}"))
        };
        let incident: Option<i64> = match record {
            OwnedRecord::Document(id) => repo::document::incident_of(conn, id.0).await?.map(Some),
            OwnedRecord::File(id) => repo::file::incident_of(conn, id.0).await?.map(Some),
            OwnedRecord::Page(id) => repo::oncall::page_incident_of(conn, id.0).await?.map(Some),
            OwnedRecord::Job(id) => repo::job::incident_of(conn, id.0).await?,
        }
        .ok_or_else(missing)?;
        Ok(incident.map(IncidentId))
    }
}
