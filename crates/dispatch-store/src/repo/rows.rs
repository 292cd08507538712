//! Writing whole records: insert a new row, or save the columns that changed between two
//! versions of one. The rest of Dispatch builds plain records (`model::…::Model`) and never sees
//! the ORM's change-tracking types.

use crate::error::Result;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable,
    ModelTrait, PrimaryKeyToColumn, PrimaryKeyTrait,
};

/// A stored record that can be written whole. Every `model::…::Model` is one; its methods are
/// the store's business.
#[async_trait::async_trait]
pub trait Record: Clone + Send + Sync + 'static {
    /// The table.
    #[doc(hidden)]
    type Table: EntityTrait<Model = Self>;
    /// The table's change-tracking row.
    #[doc(hidden)]
    type Active: ActiveModelTrait<Entity = Self::Table> + ActiveModelBehavior + Send + 'static;
    /// A column's value.
    #[doc(hidden)]
    fn value(&self, column: <Self::Table as EntityTrait>::Column) -> sea_orm::Value;
    /// The row as unchanged.
    #[doc(hidden)]
    fn unchanged(self) -> Self::Active;
    /// Inserts the row.
    #[doc(hidden)]
    async fn insert_active<C: ConnectionTrait>(active: Self::Active, conn: &C) -> Result<Self>;
    /// Updates the row.
    #[doc(hidden)]
    async fn update_active<C: ConnectionTrait>(active: Self::Active, conn: &C) -> Result<Self>;
    /// Inserts rows in one statement.
    #[doc(hidden)]
    async fn insert_many_active<C: ConnectionTrait>(
        actives: Vec<Self::Active>,
        conn: &C,
    ) -> Result<()>;
}

#[async_trait::async_trait]
impl<M, E, A> Record for M
where
    M: ModelTrait<Entity = E> + IntoActiveModel<A> + Clone + Send + Sync + 'static,
    E: EntityTrait<Model = M, ActiveModel = A>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + From<M> + Send + 'static,
{
    type Table = E;
    type Active = A;
    fn value(&self, column: E::Column) -> sea_orm::Value {
        self.get(column)
    }
    fn unchanged(self) -> A {
        self.into()
    }
    async fn insert_active<C: ConnectionTrait>(active: A, conn: &C) -> Result<M> {
        Ok(active.insert(conn).await?)
    }
    async fn update_active<C: ConnectionTrait>(active: A, conn: &C) -> Result<M> {
        Ok(active.update(conn).await?)
    }
    async fn insert_many_active<C: ConnectionTrait>(actives: Vec<A>, conn: &C) -> Result<()> {
        E::insert_many(actives).exec_without_returning(conn).await?;
        Ok(())
    }
}

/// A record whose primary key is one integer id.
pub trait Keyed: Record {
    /// The primary key's value for an id.
    #[doc(hidden)]
    fn key(id: i64) -> <<Self::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType;
}

impl<R: Record> Keyed for R
where
    <<R::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    fn key(id: i64) -> <<R::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType {
        id.into()
    }
}

/// A record by its id.
pub async fn find<R: Keyed>(conn: &impl ConnectionTrait, id: i64) -> Result<Option<R>> {
    Ok(R::Table::find_by_id(R::key(id)).one(conn).await?)
}

/// Deletes a record by its id.
pub async fn delete<R: Keyed>(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    R::Table::delete_by_id(R::key(id)).exec(conn).await?;
    Ok(())
}

/// Inserts a record. An auto-increment primary key is left to the database (its value in `row`
/// is ignored); every other column is written as given. Returns the stored row.
pub async fn insert<R: Record>(conn: &impl ConnectionTrait, row: R) -> Result<R> {
    let mut active = row.unchanged().reset_all();
    if <<R::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::auto_increment() {
        for key in <R::Table as EntityTrait>::PrimaryKey::iter() {
            active.not_set(key.into_column());
        }
    }
    R::insert_active(active, conn).await
}

/// Saves the columns of `after` that differ from `before` (the row as read), so a concurrent
/// change to another column is kept. Nothing is written when nothing changed.
pub async fn update<R: Record>(conn: &impl ConnectionTrait, before: &R, after: R) -> Result<R> {
    let mut active = before.clone().unchanged();
    for column in <R::Table as EntityTrait>::Column::iter() {
        let value = after.value(column);
        if value != before.value(column) {
            active.set(column, value);
        }
    }
    if !active.is_changed() {
        return Ok(after);
    }
    R::update_active(active, conn).await
}

/// The columns of `after` that differ from `before`, by name (for audit details and tests).
pub fn changed_columns<R: Record>(before: &R, after: &R) -> Vec<String> {
    use sea_orm::IdenStatic;
    <R::Table as EntityTrait>::Column::iter()
        .filter(|c| after.value(*c) != before.value(*c))
        .map(|c| c.as_str().to_string())
        .collect()
}

/// Inserts records in one statement, returning nothing; auto-increment keys are left to the
/// database as in [`insert`].
pub async fn insert_many<R: Record>(conn: &impl ConnectionTrait, rows: Vec<R>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let auto = <<R::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::auto_increment();
    let actives = rows
        .into_iter()
        .map(|row| {
            let mut active = row.unchanged().reset_all();
            if auto {
                for key in <R::Table as EntityTrait>::PrimaryKey::iter() {
                    active.not_set(key.into_column());
                }
            }
            active
        })
        .collect();
    R::insert_many_active(actives, conn).await
}
