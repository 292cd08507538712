//! The full-text seam: the one place where the two databases need different SQL for search.
//! SQLite uses an FTS5 index, PostgreSQL a GIN index over a stored `tsvector` column; both cover an
//! incident's title, description and resolution.

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, JoinType, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::DbBackend;

/// The document PostgreSQL's GIN index covers: a generated column (migration
/// `000250_search_vector`) holding the title, description and resolution's `tsvector`.
const PG_DOCUMENT: &str = "\"incidents\".\"search_vector\"";

/// Ranked matching looks at the most recent this many matches only: ranking costs a little for
/// every match, and a query made of an incident's words can match most of the table.
pub const RANK_WINDOW: u64 = 500;

/// Splits free text into search terms (letters and digits only, at most 8 terms).
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// A condition on `incidents` that holds when every term prefixes a word of the title,
/// description or resolution; `None` when the text holds no terms.
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
                format!("{PG_DOCUMENT} @@ to_tsquery('simple', $1)"),
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

/// Words too common to tell incidents apart.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in",
    "is", "it", "its", "no", "not", "of", "on", "or", "so", "that", "the", "this", "to", "was",
    "we", "were", "with",
];

/// The distinct words of a text that say something (no stop words, at least two characters),
/// lower-case, in order, at most `max`.
pub fn keywords(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in text.split(|c: char| !c.is_alphanumeric()) {
        let t = t.to_lowercase();
        if t.chars().count() < 2 || STOP_WORDS.contains(&t.as_str()) || out.contains(&t) {
            continue;
        }
        out.push(t);
        if out.len() == max {
            break;
        }
    }
    out
}

/// The incidents with a word that any of `terms` prefixes, among the [`RANK_WINDOW`] most recent
/// such incidents, with their text rank (PostgreSQL's `ts_rank`; higher is better) as `rank`:
/// `(window, rank)`, where `window` selects every column of those incidents and `rank` is an
/// expression over the window read as `"incidents"`. PostgreSQL only (see [`rank_any_sqlite`]).
pub fn ranked_window_postgres(terms: &[String]) -> (SelectStatement, SimpleExpr) {
    // The query is written into the statement rather than bound. Bound, PostgreSQL plans the
    // prepared statement generically from its sixth run on a connection whenever that looks no
    // dearer, and a generic plan parses `to_tsquery` again for every row the filter and
    // `ts_rank` look at: 500 parses made a lookup among 1,000 alike incidents 9 ms instead of 1.
    // Computed once in a sub-select instead, the query is unknown to the planner, which then
    // guesses few matches and reads every match through the index, sorting them all (10 ms
    // among 4,500 matches where reading the newest incidents backwards takes 1.5). Written in,
    // every run is planned with the query's statistics and parses it once. Each term is kept to
    // its letters and digits, so the literal holds no quote.
    let query = terms
        .iter()
        .map(|t| {
            t.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(" | ");
    let tsquery = format!("to_tsquery('simple', '{query}')");
    let mut window = Query::select();
    window
        .column(Asterisk)
        .from(Alias::new("incidents"))
        .and_where(Expr::cust(format!("{PG_DOCUMENT} @@ {tsquery}")))
        .order_by((Alias::new("incidents"), Alias::new("id")), Order::Desc)
        .limit(RANK_WINDOW);
    let rank = Expr::cust(format!("ts_rank({PG_DOCUMENT}, {tsquery})"));
    (window, rank)
}

/// Restricts a select over `incidents` to those with a word that any of `terms` prefixes, among
/// the [`RANK_WINDOW`] most recent such incidents, best text matches first (FTS5's `rank`).
/// SQLite only (see [`ranked_window_postgres`]); nothing is added for no terms.
pub fn rank_any_sqlite(q: &mut SelectStatement, terms: &[String]) {
    if terms.is_empty() {
        return;
    }
    let query = terms
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" OR ");
    q.join(
        JoinType::InnerJoin,
        Alias::new("incidents_fts"),
        Expr::cust("\"incidents_fts\".\"rowid\" = \"incidents\".\"id\""),
    )
    .and_where(Expr::cust_with_values(
        "\"incidents_fts\" MATCH ?",
        [query.clone()],
    ))
    .and_where(Expr::cust_with_values(
        format!(
            "\"incidents_fts\".\"rowid\" >= coalesce((SELECT min(\"rowid\") FROM \
             (SELECT \"rowid\" FROM \"incidents_fts\" WHERE \"incidents_fts\" MATCH ? \
             ORDER BY \"rowid\" DESC LIMIT {RANK_WINDOW})), 0)"
        ),
        [query],
    ))
    .order_by_expr(Expr::cust("\"incidents_fts\".\"rank\""), Order::Asc);
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

    #[test]
    fn keywords_leave_out_stop_words_and_repeats() {
        assert_eq!(
            keywords("The 502 from the gateway: 502 again", 8),
            vec!["502", "gateway", "again"]
        );
        assert_eq!(keywords("db db cpu disk", 2), vec!["db", "cpu"]);
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

    #[test]
    fn postgres_similar_window_writes_its_query_in_without_quotes() {
        let (window, rank) =
            ranked_window_postgres(&["db".into(), "it's".into(), "'--".into(), "502".into()]);
        let (sql, values) = window.build(PostgresQueryBuilder);
        assert!(
            sql.contains("to_tsquery('simple', 'db:* | its:* | 502:*')"),
            "{sql}"
        );
        assert!(values.0.iter().all(|v| !format!("{v:?}").contains("db")));
        let (rank_sql, _) = Query::select()
            .expr(rank)
            .to_owned()
            .build(PostgresQueryBuilder);
        assert!(rank_sql.contains("to_tsquery('simple', 'db:* | its:* | 502:*')"));
    }
}
