//! Opening the database (SQLite file or PostgreSQL URL), running migrations, and the write
//! transaction every command runs in.

use crate::error::Result;
use crate::migration::Migrator;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqlxPostgresConnector, SqlxSqliteConnector,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Anything a repository function can run on: the database handle's connection or a write
/// transaction. Code outside the store passes it along without running statements itself.
pub trait Conn: sea_orm::ConnectionTrait + Send + Sync {}

impl<T: sea_orm::ConnectionTrait + Send + Sync> Conn for T {}

/// Statements run through every [`Db`] of this process (queries and writes, in and out of
/// transactions; not `BEGIN`/`COMMIT`, nor the job queue's `LISTEN` connection).
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// How many statements this process has run on its databases since it started: the bench reads
/// it (through `/metrics`) to report statements per request.
pub fn statements_run() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

/// Counts every statement run through `conn`, in the process's count and in `mine` (the count
/// of the [`Db`] it belongs to).
fn counted(mut conn: DatabaseConnection, mine: &Arc<AtomicU64>) -> DatabaseConnection {
    let mine = mine.clone();
    conn.set_metric_callback(move |_| {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
        mine.fetch_add(1, Ordering::Relaxed);
    });
    conn
}

/// Which database engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// For scale-out.
    Postgres,
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite: the one connection write transactions run on, so its page cache stays warm
    /// (no other connection changes the file under it). `None` on PostgreSQL and for an
    /// in-memory SQLite database, where every connection is used for everything.
    writer: Option<DatabaseConnection>,
    backend: Backend,
    /// SQLite allows one writer: commands take this lock so that two writers never race for the
    /// file lock (which would surface as SQLITE_BUSY instead of waiting).
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite file: copies the write-ahead log into the database in the background.
    checkpointer: Option<Arc<Checkpointer>>,
    /// PostgreSQL: see [`Db::counters`].
    counters: Option<DatabaseConnection>,
    /// Statements run through this handle and its clones ([`Db::statements_run`]).
    statements: Arc<AtomicU64>,
}

/// Copies SQLite's write-ahead log into the database file on a connection of its own, shortly
/// after writes commit, so that the writer never does it. Left to SQLite, the connection whose
/// commit crosses the log's threshold copies the whole log (and flushes the file to disk)
/// before its commit returns, and every writer waiting on the one writer lock waits with it: in
/// an alert storm that was a tenth of the writer's time. A passive checkpoint blocks neither the
/// writer nor readers, but while writes go on it never catches up with the log's end, and SQLite
/// starts the log over only once all of it is copied: so once the log is long
/// ([`RESTART_PAGES`]) and nearly copied, the last few pages are copied holding the writer lock
/// (a millisecond or two), and the next write starts the log over. The writer still
/// checkpoints itself if the log ever grows past [`WRITER_CHECKPOINT_PAGES`] (the background
/// one failing or far behind).
struct Checkpointer {
    wake: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// The SQLite writer's page cache, in KiB (as `PRAGMA cache_size` takes it, negative).
///
/// Not larger, because a commit can cost a walk over the whole cache: when an insert splits a
/// b-tree page and SQLite renumbers the pages it made, it parks one for a moment at the page
/// number of the locking byte (1 GiB in), the cache then believes it holds a page that far
/// out, and the commit's trim of pages past the database's end walks every slot and page of
/// the cache. Measured (perf, share of the server's CPU): in a storm of one-alert requests
/// (PagerDuty events) the walk took 11.9 % with 16 MB and 3.3 % with 4 MB, page reads 0.3 %
/// and 1.8 %; with 10–50-alert notifications the walk took 3.9–4.4 % and 0.6–1.4 %, page
/// reads 2.1–2.3 % and 6.5–7.0 % (about even there); in `dispatch bench` (declares and their
/// sagas, many small commits) the walk took 3.5 % of the whole run with 16 MB.
const WRITER_CACHE_KIB: &str = "-4000";

/// Log pages past which the SQLite writer checkpoints on its own (SQLite's default is 1,000).
const WRITER_CHECKPOINT_PAGES: i64 = 20_000;

/// Log pages past which the checkpointer finishes a pass under the writer lock, so that the log
/// starts over; and how few pages may be left to copy for it to do so.
const RESTART_PAGES: i64 = 4_096;
const FINISH_PAGES: i64 = 1_024;

impl Checkpointer {
    /// Starts checkpointing the database of `opts` on a connection of its own; `write_lock` is
    /// the lock every writer takes.
    async fn start(
        opts: SqliteConnectOptions,
        write_lock: Arc<Mutex<()>>,
    ) -> std::result::Result<Self, sea_orm::sqlx::Error> {
        use sea_orm::sqlx::{ConnectOptions, SqliteConnection};
        /// One passive checkpoint: the log's length and how much of it is copied, in pages.
        async fn pass(
            conn: &mut SqliteConnection,
        ) -> std::result::Result<(i64, i64), sea_orm::sqlx::Error> {
            let (_busy, log, copied): (i64, i64, i64) =
                sea_orm::sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(conn)
                    .await?;
            Ok((log, copied))
        }
        let mut conn = opts.pragma("cache_size", "-256").connect().await?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let heard = wake.clone();
        let task = tokio::spawn(async move {
            loop {
                heard.notified().await;
                // Let the writes that follow a commit (a storm's next batches) join this pass.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let done = match pass(&mut conn).await {
                    Ok((log, copied)) if log >= RESTART_PAGES && log - copied <= FINISH_PAGES => {
                        let _writer = write_lock.lock().await;
                        pass(&mut conn).await
                    }
                    other => other,
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "SQLite checkpoint failed (the writer will do it)");
                }
            }
        });
        Ok(Self { wake, task })
    }

    /// A write committed: checkpoint soon.
    fn committed(&self) {
        self.wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A write transaction; on SQLite it also holds the process-wide writer lock until it ends.
pub struct WriteTxn {
    /// The transaction; repositories take `&txn.txn` (it is a `ConnectionTrait`).
    pub txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
    checkpointer: Option<Arc<Checkpointer>>,
}

impl WriteTxn {
    /// Commits every write made in the transaction — with the audit entry of the request being
    /// handled, when one is still pending (see [`crate::repo::audit::with_pending`]).
    pub async fn commit(self) -> Result<()> {
        crate::repo::audit::append_pending(&self.txn).await?;
        self.txn.commit().await?;
        if let Some(c) = &self.checkpointer {
            c.committed();
        }
        Ok(())
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Db {
    /// Opens `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        Self::connect_with(url, None).await
    }

    /// Like [`Db::connect`], with an explicit pool size.
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> Result<Self, DbErr> {
        let err =
            |e: sea_orm::sqlx::Error| DbErr::Custom(format!("cannot open {}: {e}", redact(url)));
        let statements = Arc::new(AtomicU64::new(0));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Joins are planned in the order they are written (each query names its driving
            // table first and joins its look-ups by key): searching every join order of an
            // incident page (incident, project, type, priority, severity, commander, reporter)
            // cost PostgreSQL 7–11 ms of planning on every execution, ten times running it.
            let opts = PgConnectOptions::from_str(url)
                .map_err(err)?
                .options([("join_collapse_limit", "1")]);
            // No ping before each use: a broken connection fails its query, which is retried
            // by the caller or the job queue; the ping would double every round trip.
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(max_connections.unwrap_or(16))
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.clone())
                .await
                .map_err(err)?;
            // Opened on first use; a statement on it never waits for the main pool (two: a
            // declaration's read beside its `BEGIN`, see `Db::beside`). Its
            // commits do not wait for the disk: the transaction that uses the number commits
            // after it, durably, which writes the log up to and past the counter's change — and
            // a counter lost with a transaction that never committed is a number not skipped.
            let counters = PgPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(2)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy_with(opts.options([("synchronous_commit", "off")]));
            Ok(Db {
                conn: counted(
                    SqlxPostgresConnector::from_sqlx_postgres_pool(pool),
                    &statements,
                ),
                writer: None,
                backend: Backend::Postgres,
                write_lock: None,
                checkpointer: None,
                counters: Some(counted(
                    SqlxPostgresConnector::from_sqlx_postgres_pool(counters),
                    &statements,
                )),
                statements,
            })
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-4000");
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let write_lock = Arc::new(Mutex::new(()));
            let (writer, checkpointer) = if in_memory {
                (None, None)
            } else {
                // Writes read the pages they change: a larger cache on the one writer keeps
                // the indexes' upper levels and the tables' ends in memory. A multi-row insert
                // keeps a statement journal (to undo itself alone): in memory, not a temp file.
                let writer_opts = opts
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_KIB)
                    .pragma("temp_store", "memory")
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string());
                let pool = SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(1)
                    .min_connections(1)
                    .connect_with(writer_opts)
                    .await
                    .map_err(err)?;
                let checkpointer = Checkpointer::start(opts.clone(), write_lock.clone())
                    .await
                    .map_err(err)?;
                (
                    Some(counted(
                        SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
                        &statements,
                    )),
                    Some(Arc::new(checkpointer)),
                )
            };
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(max_connections.unwrap_or(4))
                .min_connections(1)
                .connect_with(opts)
                .await
                .map_err(err)?;
            Ok(Db {
                conn: counted(
                    SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
                    &statements,
                ),
                writer,
                backend: Backend::Sqlite,
                write_lock: Some(write_lock),
                checkpointer,
                counters: None,
                statements,
            })
        } else {
            Err(DbErr::Custom(format!(
                "unsupported database URL {}: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB",
                redact(url)
            )))
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// The connection pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// PostgreSQL: a connection of its own for a counter taken in a statement that commits at
    /// once, outside the caller's transaction (an incident's number), so that the counter's row
    /// is locked for that statement only, not until the caller's transaction ends. Taking it
    /// from the main pool while holding one of its connections could wait forever once every
    /// connection is held the same way; this one is held by no transaction. `None` on SQLite,
    /// whose one writer serializes write transactions anyway: count inside the transaction.
    pub fn counters(&self) -> Option<&DatabaseConnection> {
        self.counters.as_ref()
    }

    /// For a short read made while the caller holds (or is starting) a write transaction — a
    /// declaration reads its webhook subscriptions while its `BEGIN` is on the way. On
    /// PostgreSQL the counters' connections ([`Db::counters`]), which no transaction holds:
    /// a read from the main pool could wait forever once every connection there is held by a
    /// transaction waiting for such a read. On SQLite the readers' pool, apart from the writer.
    pub fn beside(&self) -> &DatabaseConnection {
        self.counters.as_ref().unwrap_or(&self.conn)
    }

    /// How many statements this handle (and its clones) has run: [`statements_run`] for one
    /// handle alone, unmoved by other handles of the same process (tests running side by side).
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts the transaction a command writes in. Every write goes through here: on SQLite the
    /// writer lock it takes (and the file's write lock, taken first, for other processes) is what
    /// keeps a transaction that read first from failing to upgrade (SQLITE_BUSY) because another
    /// connection wrote in between.
    pub async fn write(&self) -> Result<WriteTxn> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.writer.as_ref().unwrap_or(&self.conn).begin().await?;
        if self.backend == Backend::Sqlite {
            take_sqlite_write_lock(&txn).await?;
        }
        Ok(WriteTxn {
            txn,
            _guard: guard,
            checkpointer: self.checkpointer.clone(),
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        use sea_orm::ConnectionTrait;
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(writer) = self.writer {
            writer.close().await?;
        }
        if let Some(counters) = self.counters {
            counters.close().await?;
        }
        self.conn.close().await
    }
}

/// SQLite: takes the database's write lock as the transaction's first statement, as
/// `BEGIN IMMEDIATE` would (sea-orm begins with a plain, deferred `BEGIN`). The writer lock of
/// [`Db::write`] orders this process's writers only; another process on the same file (the
/// CLI beside a running server) could otherwise commit between a transaction's first read and
/// its first write, and that write would fail at once with "database is locked" (a snapshot
/// cannot be upgraded), whatever the busy timeout. Taken first, the lock is waited for instead.
/// An update of no row takes it; a database not migrated yet has no table to name and keeps
/// the deferred transaction.
async fn take_sqlite_write_lock(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    use sea_orm::{ConnectionTrait, Statement};
    let lock = Statement::from_string(
        sea_orm::DbBackend::Sqlite,
        "UPDATE seaql_migrations SET version = version WHERE 0",
    );
    match txn.execute(lock).await {
        Err(e) if e.to_string().contains("no such table") => Ok(()),
        r => r.map(|_| ()),
    }
}

/// A database URL with its password hidden, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, Db};

    /// A fresh directory for a test's database file.
    fn temp_dir(what: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dispatch-{what}-{}-{}",
            std::process::id(),
            dispatch_core::now()
                .timestamp_nanos_opt()
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A commit's pages reach the database file within moments, copied by the checkpointer:
    /// the writer itself would not copy them until the log held 20,000 pages.
    #[tokio::test]
    async fn sqlite_writes_reach_the_database_file_without_the_writer_copying_them() {
        use sea_orm::ConnectionTrait;
        let dir = temp_dir("checkpoint");
        let file = dir.join("t.db");
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let txn = db.write().await.unwrap();
        txn.execute_unprepared("CREATE TABLE t (b TEXT NOT NULL)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        // About 2 MB: a few hundred pages, far below the writer's own threshold.
        let txn = db.write().await.unwrap();
        txn.execute_unprepared(
            "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
             WHERE i < 1000) SELECT hex(randomblob(1000)) FROM n",
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut size = before;
        while size < before + 2_000_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            size = std::fs::metadata(&file).unwrap().len();
        }
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            size >= before + 2_000_000,
            "the database file is still {size} bytes (was {before}): the log was not copied"
        );
    }

    /// Two processes on one SQLite file (here two handles): a transaction that reads, then
    /// writes, is not failed by the other's commit in between; the other waits for it.
    #[tokio::test]
    async fn a_sqlite_write_transaction_that_reads_first_is_not_failed_by_another_process() {
        use sea_orm::ConnectionTrait;
        let dir = temp_dir("writers");
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let a = Db::connect(&url).await.unwrap();
        let b = Db::connect(&url).await.unwrap();
        let setup = a.write().await.unwrap();
        setup
            .execute_unprepared(
                "CREATE TABLE seaql_migrations (version TEXT); CREATE TABLE t (n INTEGER)",
            )
            .await
            .unwrap();
        setup.commit().await.unwrap();

        let first = a.write().await.unwrap();
        first
            .query_one(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT count(*) FROM t",
            ))
            .await
            .unwrap();
        let other = tokio::spawn(async move {
            let txn = b.write().await?;
            txn.execute_unprepared("INSERT INTO t VALUES (2)").await?;
            txn.commit().await?;
            b.close().await?;
            Ok::<_, crate::error::StoreError>(())
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let wrote = first.execute_unprepared("INSERT INTO t VALUES (1)").await;
        let committed = first.commit().await;
        let other = other.await.unwrap();
        let n = a
            .conn()
            .query_one(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT count(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        a.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(wrote.is_ok(), "the first writer's insert: {wrote:?}");
        assert!(
            committed.is_ok(),
            "the first writer's commit: {committed:?}"
        );
        assert!(other.is_ok(), "the other process's write: {other:?}");
        assert_eq!(n, 2);
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://dispatch.db"), "sqlite://dispatch.db");
    }
}
