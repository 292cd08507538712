//! Starting the server: open and migrate the database, seed the first start, listen, and shut
//! down gracefully on Ctrl-C or SIGTERM.

use crate::config::Config;
use anyhow::Context;
use dispatch_engine::jobs::{Runner, RunnerOptions};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use dispatch_engine::Engine;
use dispatch_store::Db;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

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
    /// The owner's e-mail.
    pub email: String,
    /// The owner's API token (shown once).
    pub token: String,
    /// The owner's one-time link to choose a password and sign in.
    pub setup_link: Option<String>,
}

/// Seeds the default project and taxonomies on an empty database; on that very first start,
/// also creates the owner with a one-time set-up link and mints their API token.
pub async fn prepare(engine: &Engine, cfg: &Config) -> anyhow::Result<Option<FirstStart>> {
    let seeded = dispatch_store::seed::ensure_defaults(engine.db()).await?;
    if !seeded || engine.credentials().any().await? {
        return Ok(None);
    }
    let email = dispatch_core::values::Email::parse("admin_email", &cfg.admin_email)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner = engine
        .accounts()
        .create(
            None,
            &email,
            dispatch_core::OrgRole::Owner,
            dispatch_engine::accounts::UserKind::Person,
            &Default::default(),
        )
        .await
        .context("cannot create the owner")?;
    let (token, _) = engine
        .credentials()
        .create(email.as_str(), "first start", "owner")
        .await
        .context("cannot mint the admin token")?;
    Ok(Some(FirstStart {
        email: email.to_string(),
        token,
        setup_link: owner.setup_link,
    }))
}

/// The built-in providers over `db`: the stateless ones and the store-backed ones.
pub fn builtin_providers(
    db: &Db,
    settings: dispatch_providers::BuiltinSettings,
) -> dispatch_core::provider::Providers {
    let stored = dispatch_store::builtin::providers(db, &settings.base_url);
    dispatch_providers::builtin(stored, settings)
}

/// Every provider this build has without external accounts (see [`dispatch_providers::registry`]).
pub fn builtin_registry(
    db: &Db,
    settings: dispatch_providers::BuiltinSettings,
) -> dispatch_core::provider::ProviderRegistry {
    let stored = dispatch_store::builtin::providers(db, &settings.base_url);
    dispatch_providers::registry(stored, settings)
}

/// Adds PagerDuty and Opsgenie to the on-call choices when they are configured (projects choose
/// them, or `[providers] oncall = "pagerduty"` makes one the default).
pub fn add_oncall_providers(
    registry: &mut dispatch_core::provider::ProviderRegistry,
    cfg: &Config,
) -> anyhow::Result<()> {
    if let Some(s) = cfg.pagerduty.settings(&cfg.base_url())? {
        tracing::info!(api = %s.api_url, events = %s.events_url, "PagerDuty is an on-call provider");
        registry.oncall.add(std::sync::Arc::new(
            dispatch_providers::pagerduty::PagerDuty::new(s),
        ));
    }
    if let Some(s) = cfg.opsgenie.settings()? {
        tracing::info!(api = %s.api_url, "Opsgenie is an on-call provider");
        registry.oncall.add(std::sync::Arc::new(
            dispatch_providers::opsgenie::Opsgenie::new(s),
        ));
    }
    Ok(())
}

/// Adds Jira to the ticket choices, Zoom to the conference choices, Confluence to the document
/// and storage choices and Google Workspace (see [`add_google_providers`]) when they are
/// configured (projects choose them, or `[providers] ticket = "jira"` makes one the default).
pub fn add_vendor_providers(
    registry: &mut dispatch_core::provider::ProviderRegistry,
    cfg: &Config,
) -> anyhow::Result<()> {
    if let Some(s) = cfg.jira.settings()? {
        tracing::info!(url = %s.url, project = %s.project.key, "Jira is a ticket provider");
        registry
            .ticket
            .add(std::sync::Arc::new(dispatch_providers::jira::Jira::new(s)));
    }
    if let Some(s) = cfg.zoom.settings()? {
        tracing::info!(api = %s.api_url, "Zoom is a conference provider");
        registry
            .conference
            .add(std::sync::Arc::new(dispatch_providers::zoom::Zoom::new(s)));
    }
    if let Some(s) = cfg.confluence.settings(&cfg.jira)? {
        tracing::info!(url = %s.url, space = %s.space_id, "Confluence is a document and storage provider");
        let confluence = std::sync::Arc::new(dispatch_providers::confluence::Confluence::new(s));
        registry.document.add(confluence.clone());
        registry.storage.add(confluence);
    }
    add_google_providers(registry, cfg)
}

/// Adds Google Workspace to the storage choices, and to the document and group choices when
/// templates and a group domain are configured.
pub fn add_google_providers(
    registry: &mut dispatch_core::provider::ProviderRegistry,
    cfg: &Config,
) -> anyhow::Result<()> {
    let Some(g) = cfg.google.providers()? else {
        return Ok(());
    };
    tracing::info!(
        subject = %cfg.google.subject,
        documents = g.documents.is_some(),
        groups = g.groups.is_some(),
        "Google Workspace is a storage provider"
    );
    registry.storage.add(std::sync::Arc::new(g.storage));
    if let Some(d) = g.documents {
        registry.document.add(std::sync::Arc::new(d));
    }
    if let Some(gr) = g.groups {
        registry.group.add(std::sync::Arc::new(gr));
    }
    Ok(())
}

/// What the Slack provider remembers (user ids, posted messages), kept in `db`.
pub fn slack_conversation(
    db: &Db,
    api: dispatch_slack::SlackApi,
) -> dispatch_slack::provider::SlackConversation {
    dispatch_slack::provider::SlackConversation {
        api,
        memory: std::sync::Arc::new(dispatch_store::builtin::SlackMemory { db: db.clone() }),
    }
}

/// The Teams conversation provider over `graph` and `connector`; people's Teams ids and the
/// posted-message keys kept in `db`.
pub fn teams_conversation(
    db: &Db,
    graph: dispatch_teams::graph::Graph,
    connector: dispatch_teams::connector::Connector,
) -> dispatch_teams::provider::TeamsConversation {
    dispatch_teams::provider::TeamsConversation {
        graph,
        connector,
        memory: std::sync::Arc::new(dispatch_store::builtin::TeamsMemory { db: db.clone() }),
    }
}

/// The Matrix conversation provider over `api`, with people's Matrix IDs and the posted
/// messages kept in `db`.
pub fn matrix_conversation(
    db: &Db,
    api: dispatch_matrix::MatrixApi,
) -> dispatch_matrix::provider::MatrixConversation {
    dispatch_matrix::provider::MatrixConversation {
        api,
        memory: std::sync::Arc::new(dispatch_store::builtin::MatrixMemory { db: db.clone() }),
    }
}

/// The engine with every provider this build has, as the configuration sets them up (SMTP for
/// mail when a server is configured) and with the `[providers]` defaults. Fails on SMTP settings
/// that cannot work, and on a default naming an unknown capability or provider.
pub fn engine(db: Db, cfg: &Config) -> anyhow::Result<Engine> {
    let smtp = cfg.smtp_settings()?;
    match &smtp {
        Some(_) => tracing::info!(
            smtp.host = %cfg.smtp.host,
            smtp.port = cfg.smtp.port,
            smtp.tls = %cfg.smtp.tls,
            "mail goes to the SMTP server"
        ),
        None => tracing::info!("no SMTP server configured: mail stays in the outbox"),
    }
    let settings = dispatch_providers::BuiltinSettings {
        base_url: cfg.base_url(),
        conference_template: cfg.conference_template.clone(),
        smtp,
    };
    let mut registry = builtin_registry(&db, settings);
    if !cfg.slack.bot_token.is_empty() {
        // Slack is available to every project; those that choose it (or all of them, with
        // `[providers] conversation = "slack"`) get a channel per incident.
        registry
            .conversation
            .add(std::sync::Arc::new(slack_conversation(
                &db,
                dispatch_slack::SlackApi::new(&cfg.slack.api_url, &cfg.slack.bot_token),
            )));
    }
    let teams = cfg.teams.clients()?;
    if let Some(t) = &teams {
        // Like Slack: available to every project, the default where `[providers]` says so.
        registry
            .conversation
            .add(std::sync::Arc::new(teams_conversation(
                &db,
                t.graph.clone(),
                t.connector.clone(),
            )));
    }
    let matrix = cfg.matrix.api()?;
    if let Some(api) = &matrix {
        // Like Slack: every project may choose it; `[providers] conversation = "matrix"` makes
        // it everyone's.
        tracing::info!(homeserver = %api.base(), "Matrix is a conversation provider");
        registry
            .conversation
            .add(std::sync::Arc::new(matrix_conversation(&db, api.clone())));
    }
    add_oncall_providers(&mut registry, cfg)?;
    add_vendor_providers(&mut registry, cfg)?;
    cfg.apply_provider_defaults(&mut registry)?;
    let mut engine = Engine::with_registry(db, registry)
        .with_base_url(&cfg.base_url())
        .with_session_settings(cfg.auth.sessions())
        .with_secret_key(cfg.secret_key()?);
    if !cfg.slack.bot_token.is_empty() {
        let worker = dispatch_slack::jobs::SlackWorker {
            api: dispatch_slack::SlackApi::new(&cfg.slack.api_url, &cfg.slack.bot_token),
            reaction: cfg.slack.reaction.trim_matches(':').to_string(),
        };
        for handler in dispatch_slack::jobs::handlers(worker) {
            engine = engine.with_transport_job(handler);
        }
    }
    if let Some(t) = teams {
        let worker = dispatch_teams::jobs::TeamsWorker {
            connector: t.connector,
            graph: t.graph,
        };
        for handler in dispatch_teams::jobs::handlers(worker) {
            engine = engine.with_transport_job(handler);
        }
    }
    if let Some(api) = matrix {
        let worker = dispatch_matrix::jobs::MatrixWorker {
            api,
            reaction: cfg.matrix.reaction(),
        };
        for handler in dispatch_matrix::jobs::handlers(worker) {
            engine = engine.with_transport_job(handler);
        }
    }
    Ok(engine)
}

/// The configuration with the provider credentials kept sealed in the database filled in where
/// the file and the environment left them empty.
pub async fn with_stored_credentials(db: &Db, mut cfg: Config) -> anyhow::Result<Config> {
    let engine =
        Engine::with_registry(db.clone(), Default::default()).with_secret_key(cfg.secret_key()?);
    let stored = engine
        .secrets()
        .provider_secrets()
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the stored provider credentials: {e}"))?;
    let used = cfg.use_stored_credentials(&stored)?;
    if !used.is_empty() {
        tracing::info!(credentials = ?used, "provider credentials from the database");
    }
    Ok(cfg)
}

/// Checks that the secret key is the one this database's secrets were sealed with, and seals
/// any secret an older version stored in clear.
pub async fn secure_secrets(engine: &Engine) -> anyhow::Result<()> {
    engine
        .secrets()
        .verify_key()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    engine
        .secrets()
        .seal_stored()
        .await
        .context("cannot seal the secrets stored in clear")?;
    Ok(())
}

/// Starts the job runner and the scheduler in the background, after requeueing what a crash
/// interrupted; they stop when `shutdown` turns true.
async fn spawn_runner(
    engine: &Engine,
    cfg: &Config,
    schedules: Vec<Schedule>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let timeout = std::time::Duration::from_secs(cfg.job_timeout_seconds);
    let options = RunnerOptions {
        job_timeout: timeout,
        lease: timeout * 2,
        concurrency: usize::try_from(cfg.job_concurrency).unwrap_or(usize::MAX),
        ..RunnerOptions::default()
    };
    let runner = Runner::new(engine.clone(), options);
    if let Err(e) = runner.recover().await {
        tracing::error!(error = %e, "requeueing interrupted jobs failed");
    }
    let scheduler = Scheduler::new(engine.clone(), schedules);
    let scheduler_stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::join!(
            runner.run_until(shutdown),
            scheduler.run_until(scheduler_stop)
        );
    })
}

/// Runs only the job runner (`dispatch worker`) until Ctrl-C or SIGTERM.
pub async fn work(cfg: Config) -> anyhow::Result<()> {
    let db = open_db(&cfg).await?;
    let cfg = with_stored_credentials(&db, cfg).await?;
    let engine = engine(db.clone(), &cfg)?;
    secure_secrets(&engine).await?;
    let (stop, stopped) = watch::channel(false);
    let runner = spawn_runner(&engine, &cfg, cfg.schedules()?, stopped).await;
    println!(
        "Dispatch worker is running jobs on {}",
        dispatch_store::db::redact(&cfg.database_url)
    );
    shutdown_signal().await;
    let _ = stop.send(true);
    runner.await?;
    db.close().await?;
    Ok(())
}

/// Runs the HTTP server (and, unless `no_worker`, the job runner) until Ctrl-C or SIGTERM.
pub async fn serve(cfg: Config, no_worker: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = open_db(&cfg).await?;
    let cfg = with_stored_credentials(&db, cfg).await?;
    let engine = engine(db.clone(), &cfg)?;
    secure_secrets(&engine).await?;
    let web_auth = cfg.auth.web(&cfg.base_url())?;
    let first = prepare(&engine, &cfg).await?;
    let listener = TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("Dispatch is listening on http://{addr} (API docs: http://{addr}/api/v1/docs)");
    if let Some(f) = first {
        if let Some(link) = &f.setup_link {
            println!(
                "First start: {} is the owner. Choose a password and sign in (link valid {} hours, once):",
                f.email,
                dispatch_engine::accounts::SETUP_LINK_HOURS
            );
            println!("  {link}");
        }
        println!(
            "First start: an owner API token for {} (shown only this once):",
            f.email
        );
        println!("  export DISPATCH_TOKEN={}", f.token);
    }
    tracing::info!(listen = %addr, backend = ?db.backend(), ready_ms = started.elapsed().as_millis() as u64, "ready");
    let (stop, stopped) = watch::channel(false);
    let runner = if no_worker {
        // No runner to listen: the API still hears of credential changes (its token cache).
        let _detached = engine.listen_for_announcements();
        None
    } else {
        Some(spawn_runner(&engine, &cfg, cfg.schedules()?, stopped.clone()).await)
    };
    let socket = (!cfg.slack.app_token.is_empty()).then(|| {
        tracing::info!("Slack Socket Mode: connecting with the app token");
        let api = dispatch_slack::SlackApi::new(&cfg.slack.api_url, &cfg.slack.app_token);
        let engine = engine.clone();
        tokio::spawn(dispatch_slack::socket::run(
            api,
            move |e| {
                let engine = engine.clone();
                async move { dispatch_slack::transport::take_envelope(&engine, e).await }
            },
            stopped.clone(),
        ))
    });
    // The Matrix rooms are read by the server (not `dispatch worker`): one /sync loop per bot.
    let matrix = cfg.matrix.api()?.map(|api| {
        tracing::info!(homeserver = %api.base(), "Matrix: reading the bot's rooms (/sync)");
        tokio::spawn(dispatch_matrix::sync::run(
            api,
            engine.clone(),
            Default::default(),
            stopped.clone(),
        ))
    });
    let app = dispatch_web::app_with(
        engine,
        dispatch_web::WebOptions {
            slack: cfg.slack_settings(),
            teams: cfg
                .teams
                .clients()?
                .map(|t| dispatch_teams::transport::TeamsSettings {
                    auth: std::sync::Arc::new(t.auth),
                    graph: t.graph,
                }),
            auth: web_auth,
            public_url: Some(cfg.public_url.clone()).filter(|u| !u.is_empty()),
            pagerduty: cfg.pagerduty.webhook(),
            signal_rate: cfg.signals.rate(),
            signal_secrets: cfg.signals.signing_secrets.clone().into_iter().collect(),
        },
    )
    .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The runner finishes the job step in progress before it returns.
    let _ = stop.send(true);
    if let Some(r) = runner {
        r.await?;
    }
    if let Some(s) = socket {
        s.await?;
    }
    if let Some(m) = matrix {
        m.await?;
    }
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
