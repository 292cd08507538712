//! Reading a Netflix Dispatch database: the tables of one organization's schema
//! (`dispatch_organization_<slug>`) into plain records, with one query per entity. Only the
//! columns Dispatch carries over are read; the schema is the original's, as its dump shows it.

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement};

/// One row as read: typed getters over a query result that name the column in errors.
pub struct Row(QueryResult);

impl Row {
    fn get<T: sea_orm::TryGetable>(&self, col: &str) -> anyhow::Result<T> {
        self.0
            .try_get::<T>("", col)
            .map_err(|e| anyhow::anyhow!("column {col}: {e}"))
    }
    /// An integer column (ids).
    pub fn int(&self, col: &str) -> anyhow::Result<Option<i64>> {
        Ok(self.get::<Option<i32>>(col)?.map(i64::from))
    }
    /// A text column; NULL is empty.
    pub fn text(&self, col: &str) -> anyhow::Result<String> {
        Ok(self.get::<Option<String>>(col)?.unwrap_or_default())
    }
    /// A text column that may be NULL (or blank, taken as NULL).
    pub fn opt(&self, col: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .get::<Option<String>>(col)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }
    /// A boolean column; NULL is `default`.
    pub fn flag(&self, col: &str, default: bool) -> anyhow::Result<bool> {
        Ok(self.get::<Option<bool>>(col)?.unwrap_or(default))
    }
    /// A `timestamp without time zone` column, taken as UTC.
    pub fn at(&self, col: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
        Ok(self.get::<Option<NaiveDateTime>>(col)?.map(|t| t.and_utc()))
    }
}

/// The original's database, narrowed to one organization's schema.
pub struct Source {
    conn: DatabaseConnection,
    schema: String,
}

impl Source {
    /// Opens `url` and checks that the organization's schema is there.
    pub async fn open(url: &str, organization: &str) -> anyhow::Result<Self> {
        if organization.is_empty()
            || !organization
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            anyhow::bail!("--organization: {organization:?} is not an organization slug");
        }
        let conn = sea_orm::Database::connect(url)
            .await
            .with_context(|| format!("--from: cannot open {}", crate::db::redact(url)))?;
        let schema = format!("dispatch_organization_{organization}");
        let source = Source { conn, schema };
        let found = source
            .rows(
                "SELECT schema_name::text AS name FROM information_schema.schemata \
                 WHERE schema_name LIKE 'dispatch_organization_%' ORDER BY 1",
            )
            .await?;
        let names: Vec<String> = found
            .iter()
            .map(|r| r.text("name"))
            .collect::<anyhow::Result<_>>()?;
        if !names.contains(&source.schema) {
            let known: Vec<&str> = names
                .iter()
                .map(|n| n.trim_start_matches("dispatch_organization_"))
                .collect();
            anyhow::bail!(
                "--organization: the source has no organization {organization:?} (schema {}); it has: {}",
                source.schema,
                if known.is_empty() { "none (is this a Netflix Dispatch database?)".to_string() } else { known.join(", ") }
            );
        }
        Ok(source)
    }

    /// Runs a query; `{s}` in it stands for the organization's schema.
    pub async fn rows(&self, sql: &str) -> anyhow::Result<Vec<Row>> {
        let sql = sql.replace("{s}", &self.schema);
        let found = self
            .conn
            .query_all(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql.clone(),
            ))
            .await
            .with_context(|| format!("reading the source: {sql}"))?;
        Ok(found.into_iter().map(Row).collect())
    }

    /// Whether the schema has a table (older versions of the original lack some).
    pub async fn has_table(&self, table: &str) -> anyhow::Result<bool> {
        let found = self
            .rows(&format!(
                "SELECT 1 AS one FROM information_schema.tables WHERE table_schema = '{{s}}' \
                 AND table_name = '{}'",
                table.replace('\'', "")
            ))
            .await?;
        Ok(!found.is_empty())
    }

    /// Counts the rows of a table (0 when the table is missing).
    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        if !self.has_table(table).await? {
            return Ok(0);
        }
        let found = self
            .rows(&format!("SELECT count(*)::int AS n FROM {{s}}.\"{table}\""))
            .await?;
        Ok(found
            .first()
            .map(|r| r.int("n"))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }
}
