//! `dispatch config export | plan | apply`: configuration as code, as YAML, on the database
//! directly (see `dispatch_engine::config_code`).

use crate::cli::DbArgs;
use crate::config::{Config, Overrides};
use anyhow::Context;
use dispatch_engine::config_code::{self, Document};
use std::path::{Path, PathBuf};

/// The YAML file's first lines.
const HEADER: &str = "# Dispatch configuration (`dispatch config export`). Apply with `dispatch config apply -f FILE`.\n";

/// What to do with the configuration.
pub enum Action {
    /// Print the configuration as YAML.
    Export { project: Option<String> },
    /// Print what applying a file would change.
    Plan { file: PathBuf, prune: bool },
    /// Apply a file.
    Apply { file: PathBuf, prune: bool },
}

/// The document as YAML.
pub fn to_yaml(doc: &Document) -> anyhow::Result<String> {
    Ok(format!("{HEADER}{}", serde_norway::to_string(doc)?))
}

/// Reads a YAML document; errors name the file and where in it.
pub fn read(file: &Path) -> anyhow::Result<Document> {
    let text = if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read standard input")?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// An engine error, with the file named before each bad field.
fn explain(file: &Path, e: dispatch_engine::Error) -> anyhow::Error {
    match e {
        dispatch_engine::Error::Validation(v) => anyhow::anyhow!(
            "{} has errors; nothing was applied:\n{}",
            file.display(),
            v.fields
                .iter()
                .map(|f| format!("  {}: {}: {}", file.display(), f.field, f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        e => anyhow::anyhow!("{}: {e}; nothing was applied", file.display()),
    }
}

/// Runs a configuration action on the configured database.
pub async fn run(config_path: Option<&Path>, db: DbArgs, action: Action) -> anyhow::Result<()> {
    let cfg = Config::load(
        config_path,
        &Overrides {
            database_url: db.database_url,
            ..Default::default()
        },
    )?;
    let database = crate::server::open_db(&cfg).await?;
    match action {
        Action::Export { project } => {
            let doc = config_code::export(&database, project.as_deref().map(str::trim)).await?;
            print!("{}", to_yaml(&doc)?);
        }
        Action::Plan { file, prune } => {
            let doc = read(&file)?;
            let plan = config_code::plan(&database, &doc, prune)
                .await
                .map_err(|e| explain(&file, e))?;
            print!("{}", plan.render());
        }
        Action::Apply { file, prune } => {
            let doc = read(&file)?;
            let engine = dispatch_engine::Engine::with_registry(database, Default::default())
                .with_secret_key(cfg.secret_key()?);
            crate::server::secure_secrets(&engine).await?;
            let applied = config_code::apply(&engine, &doc, prune)
                .await
                .map_err(|e| explain(&file, e))?;
            print!("{}", applied.plan.render());
            print!("{}", applied.render_secrets());
            println!("Applied {}.", file.display());
        }
    }
    Ok(())
}
