//! Inserts gathered into one statement on PostgreSQL.
//!
//! A write that inserts into several tables (a declaration: the incident, its timeline, its
//! participants and their roles, its pending resources, its jobs) costs a round trip per
//! statement, and on PostgreSQL the round trips, not the inserts, were most of its time. A
//! [`Batched`] connection holds back each plain `INSERT` it is given and sends the ones it holds
//! as one statement — each a data-modifying `WITH` part of the last — when the caller
//! [`flush`](Batched::flush)es, or before any other statement (a read sees every insert before
//! it). PostgreSQL runs every part of such a statement to completion and checks foreign keys at
//! its end, so it writes what the separate statements would have, or fails whole.
//!
//! Two inserts into one table are never sent together (a part does not see its siblings' rows,
//! which an `ON CONFLICT` would need: the first is sent before the second is held). An insert
//! held back answers that it wrote no rows, so a [`Batched`] connection is for writes whose
//! counts nobody reads. On SQLite, whose statements are calls into the same process, every
//! statement goes through at once.

use sea_orm::sqlx::postgres::PgQueryResult;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement, Value, Values,
};
use std::sync::Mutex;

/// PostgreSQL's limit on one statement's parameters.
const MAX_PARAMETERS: usize = 65_535;

/// A connection (or transaction) whose plain inserts are sent together; see the module.
pub struct Batched<'c, C> {
    conn: &'c C,
    held: Mutex<Vec<Statement>>,
}

impl<'c, C: ConnectionTrait> Batched<'c, C> {
    /// Holds back the plain inserts run through it on PostgreSQL.
    pub fn new(conn: &'c C) -> Self {
        Self {
            conn,
            held: Mutex::new(Vec::new()),
        }
    }

    /// Sends the inserts held back, as one statement. The caller flushes before it commits.
    pub async fn flush(&self) -> crate::error::Result<()> {
        Ok(self.send().await?)
    }

    /// [`Batched::flush`], in the driver's error.
    async fn send(&self) -> Result<(), DbErr> {
        let held = std::mem::take(&mut *self.held.lock().expect("batch lock"));
        match together(held) {
            Some(stmt) => self.conn.execute(stmt).await.map(drop),
            None => Ok(()),
        }
    }

    /// Whether `stmt` is held back: `None` when it runs at once (not a plain insert, or not on
    /// PostgreSQL), `Some(true)` when it goes with the inserts held, `Some(false)` when those
    /// must be sent first (one into the same table, or too many parameters together).
    fn holds(&self, stmt: &Statement) -> Option<bool> {
        if stmt.db_backend != DbBackend::Postgres {
            return None;
        }
        let table = plain_insert_into(&stmt.sql)?;
        let held = self.held.lock().expect("batch lock");
        let parameters = |s: &Statement| s.values.as_ref().map_or(0, |v| v.0.len());
        let fits = held.iter().map(parameters).sum::<usize>() + parameters(stmt) <= MAX_PARAMETERS;
        let apart = held
            .iter()
            .any(|h| plain_insert_into(&h.sql) == Some(table));
        Some(fits && !apart)
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Batched<'_, C> {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let Some(with_held) = self.holds(&stmt) else {
            self.send().await?;
            return self.conn.execute(stmt).await;
        };
        if !with_held {
            self.send().await?;
        }
        self.held.lock().expect("batch lock").push(stmt);
        Ok(ExecResult::from(PgQueryResult::default()))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.send().await?;
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.send().await?;
        self.conn.query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.send().await?;
        self.conn.query_all(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.conn.support_returning()
    }
}

/// The table a plain insert (no `RETURNING`) writes into, as written; `None` for any other
/// statement.
fn plain_insert_into(sql: &str) -> Option<&str> {
    let rest = sql.trim_start();
    let rest = rest
        .get(..12)
        .filter(|head| head.eq_ignore_ascii_case("INSERT INTO "))
        .map(|_| &rest[12..])?;
    if sql.contains(" RETURNING ") {
        return None;
    }
    rest.split([' ', '(']).next().filter(|t| !t.is_empty())
}

/// The held inserts as one statement: every one but the last a `WITH` part of the last, their
/// parameters renumbered in order. `None` when nothing is held.
fn together(mut held: Vec<Statement>) -> Option<Statement> {
    let last = held.pop()?;
    if held.is_empty() {
        return Some(last);
    }
    let mut sql = String::from("WITH ");
    let mut values: Vec<Value> = Vec::new();
    for (i, stmt) in held.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("dispatch_batch_{i} AS ("));
        sql.push_str(&renumbered(&stmt.sql, values.len()));
        sql.push(')');
        values.extend(stmt.values.map(|v| v.0).unwrap_or_default());
    }
    sql.push(' ');
    sql.push_str(&renumbered(&last.sql, values.len()));
    values.extend(last.values.map(|v| v.0).unwrap_or_default());
    Some(Statement {
        sql,
        values: Some(Values(values)),
        db_backend: last.db_backend,
    })
}

/// `sql` with each parameter `$n` outside quotes made `$(n + by)`.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut n = 0usize;
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    n = n * 10 + d.to_digit(10).expect("a digit") as usize;
                    chars.next();
                }
                out.push_str(&format!("${}", n + by));
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    #[test]
    fn only_plain_inserts_are_held() {
        let table = |sql| plain_insert_into(sql);
        assert_eq!(
            table(r#"INSERT INTO "events" ("a") VALUES ($1)"#),
            Some(r#""events""#)
        );
        assert_eq!(
            table("insert into jobs(a) VALUES ($1) ON CONFLICT DO NOTHING"),
            Some("jobs")
        );
        assert_eq!(
            table(r#"INSERT INTO "t" ("a") VALUES ($1) RETURNING "id""#),
            None
        );
        assert_eq!(table("UPDATE t SET a = 1"), None);
        assert_eq!(table("SELECT 1"), None);
    }

    #[test]
    fn parameters_are_renumbered_outside_quotes() {
        assert_eq!(
            renumbered(
                r#"INSERT INTO "t" ("a", "b$1") VALUES ($1, '$2'), ($2, $10)"#,
                3
            ),
            r#"INSERT INTO "t" ("a", "b$1") VALUES ($4, '$2'), ($5, $13)"#
        );
        assert_eq!(renumbered("VALUES ($1)", 0), "VALUES ($1)");
    }

    #[test]
    fn held_inserts_become_one_statement_in_their_order() {
        let a = pg(
            r#"INSERT INTO "a" ("x") VALUES ($1), ($2)"#,
            vec![1.into(), 2.into()],
        );
        let b = pg(r#"INSERT INTO "b" ("y") VALUES ($1)"#, vec!["z".into()]);
        let one = together(vec![a, b]).expect("a statement");
        assert_eq!(
            one.sql,
            r#"WITH dispatch_batch_0 AS (INSERT INTO "a" ("x") VALUES ($1), ($2)) INSERT INTO "b" ("y") VALUES ($3)"#
        );
        assert_eq!(
            one.values.expect("values").0,
            vec![Value::from(1), Value::from(2), Value::from("z")]
        );
        assert!(together(vec![]).is_none());
    }

    #[test]
    fn a_second_insert_into_one_table_is_not_held_with_the_first() {
        struct NoConn;
        #[async_trait::async_trait]
        impl ConnectionTrait for NoConn {
            fn get_database_backend(&self) -> DbBackend {
                DbBackend::Postgres
            }
            async fn execute(&self, _: Statement) -> Result<ExecResult, DbErr> {
                unreachable!()
            }
            async fn execute_unprepared(&self, _: &str) -> Result<ExecResult, DbErr> {
                unreachable!()
            }
            async fn query_one(&self, _: Statement) -> Result<Option<QueryResult>, DbErr> {
                unreachable!()
            }
            async fn query_all(&self, _: Statement) -> Result<Vec<QueryResult>, DbErr> {
                unreachable!()
            }
        }
        let batch = Batched::new(&NoConn);
        let ins = |t: &str| pg(&format!("INSERT INTO {t} (x) VALUES ($1)"), vec![1.into()]);
        assert_eq!(batch.holds(&ins("a")), Some(true));
        batch.held.lock().unwrap().push(ins("a"));
        assert_eq!(batch.holds(&ins("b")), Some(true));
        assert_eq!(batch.holds(&ins("a")), Some(false));
        let many = pg(
            "INSERT INTO b (x) VALUES ($1)",
            vec![Value::from(1); MAX_PARAMETERS],
        );
        assert_eq!(batch.holds(&many), Some(false));
        let sqlite = Statement::from_string(DbBackend::Sqlite, "INSERT INTO c (x) VALUES (1)");
        assert_eq!(batch.holds(&sqlite), None);
        assert_eq!(batch.holds(&pg("UPDATE a SET x = 1", vec![])), None);
    }
}
