//! Starting the server: open and migrate the database, seed the first start, listen, and shut
//! down gracefully on Ctrl-C or SIGTERM.

use crate::config::Config;
use anyhow::Context;
use dispatch_engine::Engine;
use dispatch_store::Db;
use std::time::Instant;
use tokio::net::TcpListener;

/// Opens the database named by the configuration and applies pending migrations.
pub async fn open_db(cfg: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&cfg.database_url)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot migrate the database")?;
    Ok(db)
}

/// What the first start produced.
pub struct FirstStart {
    /// The admin's e-mail.
    pub email: String,
    /// The admin's API token (shown once).
    pub token: String,
}

/// Seeds the default project and taxonomies on an empty database; on that very first start,
/// also mints an admin token.
pub async fn prepare(engine: &Engine, cfg: &Config) -> anyhow::Result<Option<FirstStart>> {
    let seeded = dispatch_store::seed::ensure_defaults(engine.db()).await?;
    if !seeded || engine.has_tokens().await? {
        return Ok(None);
    }
    let (token, _) = engine
        .create_token(&cfg.admin_email.to_lowercase(), "first start", "owner")
        .await
        .context("cannot mint the admin token")?;
    Ok(Some(FirstStart {
        email: cfg.admin_email.clone(),
        token,
    }))
}

/// Runs the HTTP server until Ctrl-C or SIGTERM.
pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = open_db(&cfg).await?;
    let engine = Engine::new(db.clone());
    let first = prepare(&engine, &cfg).await?;
    let listener = TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("Dispatch is listening on http://{addr} (API docs: http://{addr}/api/v1/docs)");
    if let Some(f) = first {
        println!(
            "First start: an admin API token for {} (shown only this once):",
            f.email
        );
        println!("  export DISPATCH_TOKEN={}", f.token);
    }
    tracing::info!(listen = %addr, backend = ?db.backend(), ready_ms = started.elapsed().as_millis() as u64, "ready");
    axum::serve(listener, dispatch_web::app(engine))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    db.close().await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
