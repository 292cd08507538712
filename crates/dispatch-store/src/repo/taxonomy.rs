//! The per-project taxonomies: incident types, priorities and severities. All three share the
//! same lookups (by id, by slug or name, the default), generated once by a macro.

macro_rules! taxonomy_repo {
    ($module:ident, $entity:ident, $what:literal) => {
        /// Lookups for one taxonomy.
        pub mod $module {
            use crate::entity::$entity::{Column, Entity, Model};
            use crate::error::{Result, StoreError};
            use sea_orm::sea_query::{Expr, Func};
            use sea_orm::{
                ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
            };

            /// Every entry of a project, in view order.
            pub async fn list(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<Model>> {
                Ok(Entity::find()
                    .filter(Column::ProjectId.eq(project_id))
                    .order_by_asc(Column::ViewOrder)
                    .order_by_asc(Column::Id)
                    .all(conn)
                    .await?)
            }

            /// An entry by id.
            pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Model> {
                Entity::find_by_id(id)
                    .one(conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!(concat!($what, " {}"), id)))
            }

            /// An enabled entry whose slug or name matches `input` (case-insensitive).
            pub async fn by_name(
                conn: &impl ConnectionTrait,
                project_id: i64,
                input: &str,
            ) -> Result<Option<Model>> {
                let input = input.trim().to_lowercase();
                Ok(Entity::find()
                    .filter(Column::ProjectId.eq(project_id))
                    .filter(Column::Enabled.eq(true))
                    .filter(
                        Condition::any()
                            .add(Column::Slug.eq(input.clone()))
                            .add(Expr::expr(Func::lower(Expr::col(Column::Name))).eq(input)),
                    )
                    .one(conn)
                    .await?)
            }

            /// The project's default entry.
            pub async fn default(conn: &impl ConnectionTrait, project_id: i64) -> Result<Model> {
                Entity::find()
                    .filter(Column::ProjectId.eq(project_id))
                    .filter(Column::IsDefault.eq(true))
                    .filter(Column::Enabled.eq(true))
                    .one(conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(concat!("default ", $what).into()))
            }

            /// Inserts an entry (its id is given by the database).
            pub async fn insert(conn: &impl ConnectionTrait, row: Model) -> Result<Model> {
                crate::repo::rows::insert(conn, row).await
            }

            /// Saves the fields of an entry that differ between `before` (as read) and `after`.
            pub async fn update(
                conn: &impl ConnectionTrait,
                before: &Model,
                after: Model,
            ) -> Result<Model> {
                crate::repo::rows::update(conn, before, after).await
            }

            /// Clears the default flag on every other entry of the project.
            pub async fn clear_default(
                conn: &impl ConnectionTrait,
                project_id: i64,
                except: i64,
            ) -> Result<()> {
                Entity::update_many()
                    .col_expr(Column::IsDefault, Expr::value(false))
                    .filter(Column::ProjectId.eq(project_id))
                    .filter(Column::Id.ne(except))
                    .exec(conn)
                    .await?;
                Ok(())
            }
        }
    };
}

taxonomy_repo!(types, incident_type, "incident type");
taxonomy_repo!(priorities, incident_priority, "incident priority");
taxonomy_repo!(severities, incident_severity, "incident severity");
