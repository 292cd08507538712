//! The per-project taxonomies: incident types, priorities and severities. All three share the
//! same lookups (by id, by slug or name, the default), written once over [`Taxonomy`]; each kind
//! only says which table and columns it has. The modules `types`, `priorities` and `severities`
//! name the lookups of one kind.

use crate::error::{Result, StoreError};
use crate::repo::rows::Record;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The columns every taxonomy table has.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Col {
    /// `id`.
    Id,
    /// `project_id`.
    ProjectId,
    /// `slug`.
    Slug,
    /// `name`.
    Name,
    /// `is_default`.
    IsDefault,
    /// `enabled`.
    Enabled,
    /// `view_order`.
    ViewOrder,
}

/// An entry of a per-project taxonomy (an incident type, priority or severity): a record with
/// an id, a project, a slug and a name, a default flag and an enabled flag.
pub trait Taxonomy: Record + Default {
    /// What one entry is called in messages (`incident type`).
    const WHAT: &'static str;
    /// The typed id of an entry.
    type Id: Copy + From<i64> + Into<i64> + Send;
    /// The table's column for a shared column.
    #[doc(hidden)]
    fn column(c: Col) -> <Self::Table as EntityTrait>::Column;
    /// Its id.
    fn id(&self) -> i64;
    /// Its project.
    fn project_id(&self) -> i64;
    /// Whether it is its project's default.
    fn is_default(&self) -> bool;
    /// Makes it the default (or not).
    fn set_default(&mut self, is_default: bool);
    /// Whether it is offered.
    fn enabled(&self) -> bool;
    /// Its slug.
    fn slug(&self) -> &str;
    /// Places a new entry in a project, created at `now`.
    fn stamp(&mut self, project_id: i64, now: chrono::DateTime<chrono::Utc>);
}

fn col<T: Taxonomy>(c: Col) -> <T::Table as EntityTrait>::Column {
    T::column(c)
}

/// Every entry of a project, in view order.
pub async fn list<T: Taxonomy>(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<T>> {
    Ok(T::Table::find()
        .filter(col::<T>(Col::ProjectId).eq(project_id))
        .order_by_asc(col::<T>(Col::ViewOrder))
        .order_by_asc(col::<T>(Col::Id))
        .all(conn)
        .await?)
}

/// An entry by id.
pub async fn get<T: Taxonomy>(conn: &impl ConnectionTrait, id: i64) -> Result<T> {
    T::Table::find()
        .filter(col::<T>(Col::Id).eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{} {id}", T::WHAT)))
}

/// An enabled entry whose slug or name matches `input` (case-insensitive).
pub async fn by_name<T: Taxonomy>(
    conn: &impl ConnectionTrait,
    project_id: i64,
    input: &str,
) -> Result<Option<T>> {
    let input = input.trim().to_lowercase();
    Ok(T::Table::find()
        .filter(col::<T>(Col::ProjectId).eq(project_id))
        .filter(col::<T>(Col::Enabled).eq(true))
        .filter(
            Condition::any()
                .add(col::<T>(Col::Slug).eq(input.clone()))
                .add(Expr::expr(Func::lower(Expr::col(col::<T>(Col::Name)))).eq(input)),
        )
        .one(conn)
        .await?)
}

/// The project's default entry.
pub async fn default<T: Taxonomy>(conn: &impl ConnectionTrait, project_id: i64) -> Result<T> {
    T::Table::find()
        .filter(col::<T>(Col::ProjectId).eq(project_id))
        .filter(col::<T>(Col::IsDefault).eq(true))
        .filter(col::<T>(Col::Enabled).eq(true))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("default {}", T::WHAT)))
}

/// Inserts an entry (its id is given by the database).
pub async fn insert<T: Taxonomy>(conn: &impl ConnectionTrait, row: T) -> Result<T> {
    crate::repo::rows::insert(conn, row).await
}

/// Saves the fields of an entry that differ between `before` (as read) and `after`.
pub async fn update<T: Taxonomy>(conn: &impl ConnectionTrait, before: &T, after: T) -> Result<T> {
    crate::repo::rows::update(conn, before, after).await
}

/// Clears the default flag on every other entry of the project.
pub async fn clear_default<T: Taxonomy>(
    conn: &impl ConnectionTrait,
    project_id: i64,
    except: i64,
) -> Result<()> {
    T::Table::update_many()
        .col_expr(col::<T>(Col::IsDefault), Expr::value(false))
        .filter(col::<T>(Col::ProjectId).eq(project_id))
        .filter(col::<T>(Col::Id).ne(except))
        .exec(conn)
        .await?;
    Ok(())
}

/// Declares one taxonomy: its table's columns, and a module naming its lookups.
macro_rules! taxonomy {
    ($module:ident, $entity:ident, $id:ident, $what:literal) => {
        impl Taxonomy for crate::entity::$entity::Model {
            const WHAT: &'static str = $what;
            type Id = dispatch_core::$id;
            fn column(c: Col) -> crate::entity::$entity::Column {
                use crate::entity::$entity::Column;
                match c {
                    Col::Id => Column::Id,
                    Col::ProjectId => Column::ProjectId,
                    Col::Slug => Column::Slug,
                    Col::Name => Column::Name,
                    Col::IsDefault => Column::IsDefault,
                    Col::Enabled => Column::Enabled,
                    Col::ViewOrder => Column::ViewOrder,
                }
            }
            fn id(&self) -> i64 {
                self.id
            }
            fn project_id(&self) -> i64 {
                self.project_id
            }
            fn is_default(&self) -> bool {
                self.is_default
            }
            fn set_default(&mut self, is_default: bool) {
                self.is_default = is_default;
            }
            fn enabled(&self) -> bool {
                self.enabled
            }
            fn slug(&self) -> &str {
                &self.slug
            }
            fn stamp(&mut self, project_id: i64, now: chrono::DateTime<chrono::Utc>) {
                self.project_id = project_id;
                self.created_at = now;
            }
        }

        #[doc = concat!("The lookups of the ", $what, " taxonomy.")]
        pub mod $module {
            use crate::entity::$entity::Model;
            use crate::error::Result;
            use sea_orm::ConnectionTrait;

            /// Every entry of a project, in view order.
            pub async fn list(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<Model>> {
                super::list(conn, project_id).await
            }

            /// An entry by id.
            pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Model> {
                super::get(conn, id).await
            }

            /// An enabled entry whose slug or name matches `input` (case-insensitive).
            pub async fn by_name(
                conn: &impl ConnectionTrait,
                project_id: i64,
                input: &str,
            ) -> Result<Option<Model>> {
                super::by_name(conn, project_id, input).await
            }

            /// The project's default entry.
            pub async fn default(conn: &impl ConnectionTrait, project_id: i64) -> Result<Model> {
                super::default(conn, project_id).await
            }

            /// Inserts an entry (its id is given by the database).
            pub async fn insert(conn: &impl ConnectionTrait, row: Model) -> Result<Model> {
                super::insert(conn, row).await
            }
        }
    };
}

taxonomy!(types, incident_type, IncidentTypeId, "incident type");
taxonomy!(
    priorities,
    incident_priority,
    IncidentPriorityId,
    "incident priority"
);
taxonomy!(
    severities,
    incident_severity,
    IncidentSeverityId,
    "incident severity"
);
