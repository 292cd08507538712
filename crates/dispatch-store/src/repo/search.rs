//! The full-text seam: the one place where the two databases need different SQL for search.
//! SQLite uses an FTS5 index, PostgreSQL a GIN index over `to_tsvector`.

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::DbBackend;

/// Splits free text into search terms (letters and digits only, at most 8 terms).
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// A condition on `incidents` that holds when every term prefixes a word of the title or
/// description; `None` when the text holds no terms.
pub fn condition(backend: DbBackend, text: &str) -> Option<SimpleExpr> {
    let terms = terms(text);
    if terms.is_empty() {
        return None;
    }
    Some(match backend {
        DbBackend::Postgres => {
            let query = terms
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            Expr::cust_with_values(
                // PostgreSQL custom expressions number their placeholders (`$1`); SQLite takes `?`.
                "to_tsvector('simple', \"incidents\".\"title\" || ' ' || \"incidents\".\"description\") @@ to_tsquery('simple', $1)",
                [query],
            )
        }
        _ => {
            let query = terms
                .iter()
                .map(|t| format!("\"{t}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            Expr::cust_with_values(
                "\"incidents\".\"id\" IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)",
                [query],
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_punctuation_and_operators() {
        assert_eq!(
            terms("DB latency: \"spike\" OR *"),
            vec!["db", "latency", "spike", "or"]
        );
        assert!(condition(DbBackend::Sqlite, " -- ").is_none());
    }
}

#[cfg(test)]
mod sql_tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query};

    #[test]
    fn postgres_search_binds_the_query() {
        let q = Query::select()
            .expr(Expr::val(1))
            .and_where(condition(DbBackend::Postgres, "slo").unwrap())
            .to_owned();
        let (sql, _) = q.build(PostgresQueryBuilder);
        assert!(
            sql.contains("to_tsquery('simple', $2)"),
            "the term is bound after the selected value: {sql}"
        );
    }
}
