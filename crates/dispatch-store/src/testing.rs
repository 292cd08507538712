//! Test support (feature `testing`): a fresh database per test on the backend the environment
//! selects — a temporary SQLite file, or a new PostgreSQL database when
//! `DISPATCH_TEST_DATABASE_URL` names a server where the user may create databases.

use crate::Db;
use sea_orm::ConnectionTrait;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    /// The URL the server uses.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, empty database on the backend the environment selects.
    pub async fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let tag = format!("{}_{n}_{nanos}", std::process::id());
        match std::env::var("DISPATCH_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("dispatch_test_{tag}");
                let admin = Db::connect_with(&admin_url, Some(1))
                    .await
                    .expect("connect to DISPATCH_TEST_DATABASE_URL");
                admin
                    .conn()
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = format!(
                    "{}/{name}",
                    admin_url.rsplit_once('/').expect("URL with a database").0
                );
                TestDb {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("dispatch-test-{tag}.db"));
                TestDb {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
        }
    }

    /// Opens and migrates it.
    pub async fn open(&self) -> Db {
        let db = Db::connect(&self.url).await.expect("open test database");
        db.migrate().await.expect("migrate test database");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a separate thread with its own runtime
                // may block on the DROP without stalling it.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Db::connect_with(&admin_url, Some(1)).await {
                            let _ = admin
                                .conn()
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Runs statements as written (tests that tamper with stored rows); returns the rows affected.
pub async fn execute(db: &Db, sql: &str) -> u64 {
    db.conn()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

/// Sets a time column of the rows `condition` picks (`UPDATE table SET column = t WHERE
/// condition`), the time bound as the application binds it (tests with hand-set timestamps);
/// returns the rows changed.
pub async fn set_time(
    db: &Db,
    table: &str,
    column: &str,
    t: chrono::DateTime<chrono::Utc>,
    condition: &str,
) -> u64 {
    let backend = db.conn().get_database_backend();
    let p = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!("UPDATE {table} SET {column} = {p} WHERE {condition}");
    db.conn()
        .execute(sea_orm::Statement::from_sql_and_values(
            backend,
            &sql,
            [t.into()],
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

/// The first column of every row a query returns, as text (`NULL` as `None`).
pub async fn column(db: &Db, sql: &str) -> Vec<Option<String>> {
    let rows = db
        .conn()
        .query_all(sea_orm::Statement::from_string(
            db.conn().get_database_backend(),
            sql,
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| {
            r.try_get_by_index::<Option<String>>(0)
                .or_else(|_| {
                    r.try_get_by_index::<Option<i64>>(0)
                        .map(|v| v.map(|v| v.to_string()))
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .collect()
}

/// The number of rows in `table`.
pub async fn count(db: &Db, table: &str) -> u64 {
    column(db, &format!("SELECT COUNT(*) FROM {table}")).await[0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("count of {table}"))
}

/// The jobs of the database at `url` that have not succeeded (failed, queued or running),
/// oldest first, read over a fresh connection of its own: a test harness checks them at the end
/// of a test, outside the test's runtime and pools.
pub async fn jobs_not_succeeded(url: &str) -> Vec<crate::model::job::Model> {
    use crate::entity::job;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let db = Db::connect_with(url, Some(1))
        .await
        .unwrap_or_else(|e| panic!("open {url} to check its jobs: {e}"));
    let jobs = job::Entity::find()
        .filter(job::Column::State.ne("succeeded"))
        .order_by_asc(job::Column::Id)
        .all(db.conn())
        .await
        .unwrap_or_else(|e| panic!("read the jobs of {url}: {e}"));
    db.close().await.ok();
    jobs
}
