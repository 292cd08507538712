//! What the database announces to every replica on PostgreSQL (`LISTEN`/`NOTIFY`). The
//! announcements are made by triggers (migration `m20261206_000260_notify_triggers`), so whatever
//! writes the rows — this process, another replica, the CLI, an operator's SQL — is heard, and no
//! request pays a round trip for them.

use crate::error::Result;

/// Jobs were enqueued to wait in the queue (an insert of `queued` jobs; a flow's next step
/// inserted already claimed by the runner that runs it is not announced).
pub const JOBS: &str = "dispatch_jobs";

/// What a bearer token authenticates as may have changed: a token revoked, expired or
/// re-scoped; its owner disabled, re-roled, renamed; one of those rows deleted.
pub const CREDENTIALS: &str = "dispatch_credentials";

/// On PostgreSQL, LISTENs on `channels` over a connection of its own; calls `listening` once the
/// connection listens, then `heard` with the channel of every announcement from any replica.
/// Returns only when the connection is lost (or could not be made, or the database is not
/// PostgreSQL): what was announced meanwhile was not heard, and the caller decides whether to
/// listen again.
pub async fn listen(
    db: &crate::Db,
    channels: &[&str],
    listening: impl FnOnce() + Send,
    heard: impl Fn(&str) + Send,
) -> Result<()> {
    use sea_orm::sqlx::postgres::PgListener;
    use sea_orm::{DbErr, RuntimeErr};
    if db.backend() != crate::Backend::Postgres {
        return Err(DbErr::Custom("notifications need PostgreSQL".into()).into());
    }
    let pool = db.conn().get_postgres_connection_pool();
    let run = async {
        let mut l = PgListener::connect_with(pool).await?;
        l.listen_all(channels.iter().copied()).await?;
        listening();
        loop {
            let n = l.recv().await?;
            heard(n.channel());
        }
    };
    let run: std::result::Result<(), sea_orm::sqlx::Error> = run.await;
    run.map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?;
    Ok(())
}
