//! The command line: `serve`, `migrate`, `token create`, `config …`, `incident …`, `task …`,
//! `bench`.

use crate::bench::BenchArgs;
use crate::case_client::{CaseCommand, SignalCommand};
use crate::client::{IncidentCommand, TaskCommand};
use crate::config::{Config, Overrides};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Dispatch: incident-management orchestration.
#[derive(Parser)]
#[command(name = "dispatch", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: ./dispatch.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Database flags shared by the commands that open the database.
#[derive(clap::Args, Clone, Default)]
pub struct DbArgs {
    /// `sqlite://PATH` or `postgres://…` (env DISPATCH_DATABASE_URL; default sqlite://dispatch.db).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Run the server (API) on the configured database; migrates and seeds it first.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on (env DISPATCH_LISTEN; default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// `pretty` or `json` (env DISPATCH_LOG_FORMAT).
        #[arg(long)]
        log_format: Option<String>,
        /// Serve the API only; run the jobs with `dispatch worker` elsewhere.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run the job runner only (no API), on the configured database.
    Worker {
        #[command(flatten)]
        db: DbArgs,
        /// `pretty` or `json` (env DISPATCH_LOG_FORMAT).
        #[arg(long)]
        log_format: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// People who sign in.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Bring another tool's records into Dispatch.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Incidents, over the API of a running server.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// External providers (Jira, Zoom, PagerDuty, Opsgenie).
    Providers {
        #[command(subcommand)]
        command: ProvidersCommand,
    },
    /// Slack set-up.
    Slack {
        #[command(subcommand)]
        command: SlackCommand,
    },
    /// Cases (alerts being looked at), over the API of a running server.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Send a test alert to a signal endpoint of a running server.
    Signal {
        #[command(subcommand)]
        command: SignalCommand,
    },
    /// Tasks across incidents, over the API of a running server.
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
    /// Measure the API against floors taken in the same run.
    Bench(BenchArgs),
}

/// `dispatch import …`.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a Netflix Dispatch database (one organization): projects, taxonomies, tags,
    /// people, teams, services, notifications, engagement filters, incident roles, and incidents
    /// with participants, roles, timeline, tasks, reports, feedback and resource links. A second
    /// run updates what the first created; nothing is written on any error.
    NetflixDispatch {
        /// The original's PostgreSQL database, `postgres://USER:PASSWORD@HOST/DB`.
        #[arg(long)]
        from: String,
        /// The organization to import (its schema is `dispatch_organization_<slug>`).
        #[arg(long, default_value = "default")]
        organization: String,
        /// Print what would be imported, per entity, and what cannot be carried over; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Let the original's projects overwrite the name, description and self-join setting of
        /// projects of the same slug that were here before (by default those are kept).
        #[arg(long)]
        update_existing_projects: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `dispatch providers …`.
#[derive(Subcommand)]
pub enum ProvidersCommand {
    /// Call a cheap authenticated endpoint of each configured provider (Jira `myself`,
    /// PagerDuty `abilities`, Opsgenie `account`, Zoom `users/me`) and say what works and what
    /// does not; exits non-zero when any check fails.
    Check {
        /// Only the providers this project uses (its slug).
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Keep a provider credential in the database, sealed with the server's secret key
    /// (used when neither the configuration file nor the environment sets it; read at start).
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

/// `dispatch providers secret …`.
#[derive(Subcommand)]
pub enum SecretCommand {
    /// Store a credential, read from standard input (never from the command line), e.g.
    /// `printf %s "$TOKEN" | dispatch providers secret set DISPATCH_JIRA_API_TOKEN`.
    Set {
        /// The setting's variable name (see `dispatch providers secret list`).
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The credentials stored (names and when they were set, never the values), and the names
    /// that may be stored.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove a stored credential.
    Unset {
        /// The setting's variable name.
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `dispatch slack …`.
#[derive(Subcommand)]
pub enum SlackCommand {
    /// Print the Slack app manifest (JSON) to paste into "Create an app → From a manifest".
    Manifest {
        /// The server's public URL; Slack sends commands, events and interactions there.
        /// Without it the manifest turns on Socket Mode (no public URL needed).
        #[arg(long)]
        url: Option<String>,
    },
}

/// `dispatch token …`.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Mint an API token for a person (created if new); the token is the last line printed.
    Create {
        /// The person's e-mail.
        #[arg(long)]
        email: String,
        /// The person's organization role (member, admin, manager or owner); a new person is a
        /// member when absent, an existing one keeps theirs.
        #[arg(long)]
        role: Option<String>,
        /// What the token may do: read, write or admin.
        #[arg(long, default_value = "admin")]
        scope: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `dispatch user …`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a person who signs in; prints a one-time link to choose a password (last line).
    Create {
        /// The person's e-mail.
        #[arg(long)]
        email: String,
        /// Organization role: member, admin, manager or owner.
        #[arg(long, default_value = "member")]
        role: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print a fresh one-time set-up link for a person who has not chosen a password yet (the
    /// link printed before expired or was lost); the previous link stops working.
    SetupLink {
        /// The person's e-mail.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `dispatch config …`.
#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print a documented sample dispatch.toml.
    Example,
    /// Print the effective configuration (secrets hidden).
    Show {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print everything configured in the database (projects, taxonomies, tags, teams,
    /// services, role policies, rules, signal definitions and filters, webhooks without their
    /// secrets) as YAML, sorted by name: `dispatch config export > dispatch.yaml`.
    Export {
        /// Only this project (its slug); webhooks are left out.
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the JSON Schema of the file `config export` writes, for editors:
    /// `dispatch config schema > dispatch.schema.json`.
    Schema,
    /// Show what applying a file would change: objects to create, update (field by field) or
    /// delete.
    Plan {
        /// The YAML file (`-` for standard input).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Also list what is in the database but not in the file as deleted.
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Apply a file in one transaction: all of it, or nothing on any error.
    Apply {
        /// The YAML file (`-` for standard input).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Delete what the file's projects (and webhooks) no longer have.
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(cli_config: Option<&std::path::Path>, o: Overrides) -> anyhow::Result<Config> {
    Config::load(cli_config, &o)
}

fn init_logs(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(format!(
        "{},sqlx=warn,sea_orm=warn,sea_orm_migration=warn",
        cfg.log_level
    ))
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = cli.config.as_deref();
    match cli.command {
        Command::Serve {
            db,
            listen,
            log_format,
            no_worker,
        } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    listen,
                    log_format,
                },
            )?;
            init_logs(&cfg);
            crate::server::serve(cfg, no_worker).await
        }
        Command::Worker { db, log_format } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    log_format,
                    ..Default::default()
                },
            )?;
            init_logs(&cfg);
            crate::server::work(cfg).await
        }
        Command::Migrate { db } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    ..Default::default()
                },
            )?;
            crate::server::open_db(&cfg).await?;
            println!("migrated {}", dispatch_store::db::redact(&cfg.database_url));
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    role,
                    scope,
                    name,
                    db,
                },
        } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    ..Default::default()
                },
            )?;
            let email = dispatch_core::values::Email::parse("email", &email)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let role = role
                .map(|r| r.parse::<dispatch_core::OrgRole>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--role {e}"))?;
            let scope: dispatch_core::TokenScope =
                scope.parse().map_err(|e| anyhow::anyhow!("--scope {e}"))?;
            let database = crate::server::open_db(&cfg).await?;
            let engine = dispatch_engine::Engine::new(database);
            dispatch_store::seed::ensure_defaults(engine.db()).await?;
            let (token, row) = engine
                .credentials()
                .create_for(email.as_str(), &name, role, scope)
                .await?;
            eprintln!(
                "API token {} for {} (scope {scope}); it is shown only once:",
                row.prefix, email
            );
            println!("{token}");
            Ok(())
        }
        Command::User { command } => {
            let (email, db) = match &command {
                UserCommand::Create { email, db, .. } | UserCommand::SetupLink { email, db } => {
                    (email, db)
                }
            };
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url.clone(),
                    ..Default::default()
                },
            )?;
            let email = dispatch_core::values::Email::parse("email", email)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let database = crate::server::open_db(&cfg).await?;
            let engine = dispatch_engine::Engine::new(database).with_base_url(&cfg.base_url());
            dispatch_store::seed::ensure_defaults(engine.db()).await?;
            let (issued, role) = match command {
                UserCommand::Create { role, .. } => {
                    let role: dispatch_core::OrgRole =
                        role.parse().map_err(|e| anyhow::anyhow!("--role {e}"))?;
                    let created = engine
                        .accounts()
                        .create(
                            None,
                            &email,
                            role,
                            dispatch_engine::accounts::UserKind::Person,
                            &Default::default(),
                        )
                        .await
                        .map_err(|e| match e {
                            dispatch_engine::Error::Conflict(m) => anyhow::anyhow!(
                                "{m}; for a new set-up link (no password chosen yet) run \
                                 `dispatch user setup-link --email {email}`"
                            ),
                            e => e.into(),
                        })?;
                    (created, role.to_string())
                }
                UserCommand::SetupLink { .. } => {
                    let user = engine
                        .accounts()
                        .by_email(&email)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("{email} has no account"))?;
                    let issued = engine
                        .accounts()
                        .new_setup_link(None, dispatch_core::UserId(user.id), &Default::default())
                        .await?;
                    let role = issued.user.role.clone();
                    (issued, role)
                }
            };
            eprintln!(
                "{email} ({role}) can choose a password within {} hours at this one-time link:",
                dispatch_engine::accounts::SETUP_LINK_HOURS
            );
            println!("{}", issued.setup_link.unwrap_or_default());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", crate::config::EXAMPLE);
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Schema,
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&dispatch_engine::config_code::schema())?
            );
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Export { project, db },
        } => {
            crate::config_code::run(
                config_path,
                db,
                crate::config_code::Action::Export { project },
            )
            .await
        }
        Command::Config {
            command: ConfigCommand::Plan { file, prune, db },
        } => {
            crate::config_code::run(
                config_path,
                db,
                crate::config_code::Action::Plan { file, prune },
            )
            .await
        }
        Command::Config {
            command: ConfigCommand::Apply { file, prune, db },
        } => {
            crate::config_code::run(
                config_path,
                db,
                crate::config_code::Action::Apply { file, prune },
            )
            .await
        }
        Command::Config {
            command: ConfigCommand::Show { db },
        } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    ..Default::default()
                },
            )?;
            print!("{}", cfg.redacted_toml());
            Ok(())
        }
        Command::Providers {
            command: ProvidersCommand::Check { project, db },
        } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    ..Default::default()
                },
            )?;
            let database = crate::server::open_db(&cfg).await?;
            let cfg = crate::server::with_stored_credentials(&database, cfg).await?;
            let engine = crate::server::engine(database, &cfg)?;
            dispatch_store::seed::ensure_defaults(engine.db()).await?;
            let found = engine
                .integrations()
                .check_providers(project.as_deref().map(str::trim))
                .await
                .map_err(|e| match e {
                    dispatch_engine::Error::Validation(v) => anyhow::anyhow!(
                        "{}",
                        v.fields
                            .iter()
                            .map(|f| format!("--{}: {}", f.field, f.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    e => e.into(),
                })?;
            if found.is_empty() {
                println!(
                    "No provider here calls a vendor: configure Jira, Zoom, PagerDuty or Opsgenie (docs/providers.md)."
                );
                return Ok(());
            }
            for c in &found {
                let verdict = if c.ok { "OK    " } else { "FAILED" };
                println!("{verdict} {} ({}): {}", c.provider, c.capability, c.message);
            }
            let failed = found.iter().filter(|c| !c.ok).count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} provider checks failed", found.len());
            }
            Ok(())
        }
        Command::Providers {
            command: ProvidersCommand::Secret { command },
        } => secret(config_path, command).await,
        Command::Slack {
            command: SlackCommand::Manifest { url },
        } => {
            let m = dispatch_slack::manifest::manifest(
                url.as_deref(),
                &dispatch_slack::manifest::commands(),
            );
            println!("{}", serde_json::to_string_pretty(&m)?);
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::NetflixDispatch {
                    from,
                    organization,
                    dry_run,
                    update_existing_projects,
                    db,
                },
        } => {
            let cfg = load(
                config_path,
                Overrides {
                    database_url: db.database_url,
                    ..Default::default()
                },
            )?;
            let database = crate::server::open_db(&cfg).await?;
            dispatch_store::seed::ensure_defaults(&database).await?;
            let report = dispatch_store::import::netflix_dispatch(
                &database,
                &from,
                &dispatch_store::import::Options {
                    organization: organization.trim().to_string(),
                    dry_run,
                    update_existing_projects,
                },
            )
            .await?;
            print!("{}", report.render(dry_run));
            Ok(())
        }
        Command::Incident { command } => crate::client::run(command).await,
        Command::Task { command } => crate::client::run_task(command).await,
        Command::Case { command } => crate::case_client::run_case(command).await,
        Command::Signal { command } => crate::case_client::run_signal(command).await,
        Command::Bench(args) => crate::bench::run(args).await,
    }
}

/// `dispatch providers secret …`: on the database directly, sealed with the server's key.
async fn secret(
    config_path: Option<&std::path::Path>,
    command: SecretCommand,
) -> anyhow::Result<()> {
    let db = match &command {
        SecretCommand::Set { db, .. }
        | SecretCommand::List { db }
        | SecretCommand::Unset { db, .. } => db.database_url.clone(),
    };
    let cfg = load(
        config_path,
        Overrides {
            database_url: db,
            ..Default::default()
        },
    )?;
    let database = crate::server::open_db(&cfg).await?;
    let engine = dispatch_engine::Engine::with_registry(database, Default::default())
        .with_secret_key(cfg.secret_key()?);
    crate::server::secure_secrets(&engine).await?;
    let known = || crate::config::CREDENTIALS.join(", ");
    let checked = |name: &str| -> anyhow::Result<String> {
        let name = name.trim().to_ascii_uppercase();
        match crate::config::credential_key(&name) {
            Some(_) => Ok(name),
            None => anyhow::bail!(
                "{name:?} is not a provider credential; these are: {}",
                known()
            ),
        }
    };
    match command {
        SecretCommand::Set { name, .. } => {
            let name = checked(&name)?;
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)
                .context("cannot read the value from standard input")?;
            engine
                .secrets()
                .set_provider_secret(&name, &value)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{name} stored, sealed; the server uses it from its next start (the file and the environment come first).");
        }
        SecretCommand::Unset { name, .. } => {
            let name = checked(&name)?;
            let had = engine
                .secrets()
                .unset_provider_secret(&name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if had {
                println!("{name} removed.");
            } else {
                println!("{name} was not stored.");
            }
        }
        SecretCommand::List { .. } => {
            let stored = engine
                .secrets()
                .provider_secret_names()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if stored.is_empty() {
                println!("No credential is stored.");
            }
            for (name, at) in &stored {
                println!("{name}  set {}", at.format("%Y-%m-%d %H:%M UTC"));
            }
            println!("May be stored: {}", known());
        }
    }
    Ok(())
}
