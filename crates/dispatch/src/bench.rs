//! `dispatch bench`: latency of the main API calls beside floors measured in the same run.

/// Bench options.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Database to bench on (default: a temporary SQLite file).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Incidents to seed before measuring.
    #[arg(long, default_value_t = 10_000)]
    pub incidents: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the bench.
pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the bench is being written")
}
