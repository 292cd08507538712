//! The people of a case: recorded once each, with what first brought them in.

use crate::entity::case_participant;
use crate::error::Result;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// Records people in cases in one statement (on SQLite, in [`super::rows::statement_sizes`]);
/// one already in the case stays as they joined.
pub async fn add(conn: &impl ConnectionTrait, rows: Vec<case_participant::Model>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    super::rows::in_statements(conn, rows, |part| async move {
        case_participant::Entity::insert_many(part.into_iter().map(|r| {
            case_participant::ActiveModel {
                case_id: Set(r.case_id),
                email: Set(r.email),
                added_reason: Set(r.added_reason),
                created_at: Set(r.created_at),
                ..Default::default()
            }
        }))
        .on_conflict(
            OnConflict::columns([
                case_participant::Column::CaseId,
                case_participant::Column::Email,
            ])
            .do_nothing()
            .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(conn)
        .await?;
        Ok(())
    })
    .await
}

/// A case's people, in the order they joined.
pub async fn of_case(
    conn: &impl ConnectionTrait,
    case_id: i64,
) -> Result<Vec<case_participant::Model>> {
    Ok(case_participant::Entity::find()
        .filter(case_participant::Column::CaseId.eq(case_id))
        .order_by_asc(case_participant::Column::Id)
        .all(conn)
        .await?)
}
