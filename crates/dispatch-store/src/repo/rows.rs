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

/// Inserts records in one statement (on SQLite, in [`statement_sizes`]), returning nothing;
/// auto-increment keys are left to the database as in [`insert`].
pub async fn insert_many<R: Record>(conn: &impl ConnectionTrait, rows: Vec<R>) -> Result<()> {
    let auto = <<R::Table as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::auto_increment();
    write_many(conn, rows, auto).await
}

/// Inserts records whose keys were taken beforehand (see
/// [`crate::repo::project::next_incident`]) in one statement, keys as given, returning nothing.
pub async fn insert_many_keyed<R: Record>(conn: &impl ConnectionTrait, rows: Vec<R>) -> Result<()> {
    write_many(conn, rows, false).await
}

/// Inserts records in one statement (on SQLite, in [`statement_sizes`]), leaving their primary
/// keys to the database when `drop_keys`.
async fn write_many<R: Record>(
    conn: &impl ConnectionTrait,
    rows: Vec<R>,
    drop_keys: bool,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let actives = rows
        .into_iter()
        .map(|row| {
            let mut active = row.unchanged().reset_all();
            if drop_keys {
                for key in <R::Table as EntityTrait>::PrimaryKey::iter() {
                    active.not_set(key.into_column());
                }
            }
            active
        })
        .collect();
    in_statements(conn, actives, |part| R::insert_many_active(part, conn)).await
}

/// Writes `rows` with `write`, a multi-row statement: once on PostgreSQL, and on SQLite once
/// per part of [`statement_sizes`].
pub async fn in_statements<T, F, Fut>(
    conn: &impl ConnectionTrait,
    rows: Vec<T>,
    mut write: F,
) -> Result<()>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    if conn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return write(rows).await;
    }
    let mut rest = rows.into_iter();
    for size in statement_sizes(rest.len()) {
        write(rest.by_ref().take(size).collect()).await?;
    }
    Ok(())
}

/// The rows per statement of a multi-row insert of `n` rows on SQLite: 64 as often as they
/// fit, then the powers of two that make up the rest (at most six more statements).
///
/// A statement's text changes with its number of rows, and SQLite prepares each new text:
/// parsing a few hundred rows' `VALUES` took a tenth of the writer's time in an alert storm.
/// Cut this way, a table is written by seven texts at most, each prepared once per connection
/// and then taken from the driver's statement cache.
pub fn statement_sizes(n: usize) -> impl Iterator<Item = usize> {
    const LARGEST: usize = 64;
    let rest = n % LARGEST;
    std::iter::repeat_n(LARGEST, n / LARGEST).chain(
        (0..LARGEST.trailing_zeros())
            .rev()
            .map(|b| 1usize << b)
            .filter(move |s| rest & s != 0),
    )
}

/// A list of values for `IN (…)`, its length rounded up to a power of two by repeating its
/// last value (which changes nothing of what `IN` matches): a statement's text changes with
/// the list's length, and each new text is prepared again (see [`statement_sizes`]).
pub fn in_list<T: Clone>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut list: Vec<T> = values.into_iter().collect();
    if let Some(last) = list.last().cloned() {
        list.resize(list.len().next_power_of_two(), last);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_sizes_cover_every_row_with_few_texts() {
        for n in 0..300 {
            let sizes: Vec<usize> = statement_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}: {sizes:?}");
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= 64));
            assert!(sizes.len() <= n / 64 + 6, "{n}: {sizes:?}");
        }
        assert_eq!(statement_sizes(200).collect::<Vec<_>>(), [64, 64, 64, 8]);
    }

    #[test]
    fn in_lists_grow_to_a_power_of_two_with_the_same_values() {
        assert_eq!(in_list([3, 1, 2]), [3, 1, 2, 2]);
        assert_eq!(in_list([5; 4]).len(), 4);
        assert!(in_list(Vec::<i64>::new()).is_empty());
        let l = in_list(0..100);
        assert_eq!(l.len(), 128);
        assert!((0..100).all(|v| l.contains(&v)) && l.iter().all(|v| *v < 100));
    }
}
