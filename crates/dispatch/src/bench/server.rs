//! The server under test: `dispatch serve` run as a child process of the bench, its start-up time
//! and its memory (read from `/proc`).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A running `dispatch serve`; killed when dropped.
pub struct ServerProcess {
    child: Child,
    pid: u32,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// The HTTP client of a load of `concurrency` senders: straight to loopback (no proxy from the
/// environment), no Nagle delay, enough idle connections kept for every sender.
pub fn load_client(concurrency: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency * 2)
        .timeout(Duration::from_secs(60))
        .build()
}

/// A free loopback port: bind port 0 and let it go.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

/// A `/proc/PID/status` field in kB (`VmRSS`, `VmHWM`) of process `pid`, as MB.
pub fn memory_mb(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read the server's /proc status (Linux only)")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb / 1024.0)
}

impl ServerProcess {
    /// Spawns this very binary as `serve` on `database_url`, logging to `log`.
    pub fn spawn(database_url: &str, log: &Path) -> anyhow::Result<Self> {
        Self::spawn_at(database_url, log, free_port()?)
    }

    /// Spawns this very binary as a whole replica (`serve` with its workers and scheduler).
    pub fn spawn_replica(database_url: &str, log: &Path) -> anyhow::Result<Self> {
        Self::spawn_with(database_url, log, free_port()?, true, &[])
    }

    /// Spawns a whole replica on this port with these extra environment variables (a
    /// restarted replica takes its old port), appending to `log`.
    pub fn spawn_replica_at(
        database_url: &str,
        log: &Path,
        port: u16,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        Self::spawn_with(database_url, log, port, true, env)
    }

    /// Spawns the server on this loopback port (a restarted server takes its old one),
    /// appending to `log`.
    pub fn spawn_at(database_url: &str, log: &Path, port: u16) -> anyhow::Result<Self> {
        Self::spawn_with(database_url, log, port, false, &[])
    }

    /// Spawns the server on this port, with or without its workers.
    fn spawn_with(
        database_url: &str,
        log: &Path,
        port: u16,
        workers: bool,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the dispatch binary")?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve");
        if !workers {
            // The API alone: the declare saga's jobs would otherwise run beside the timed
            // requests on the same two cores. (They stay queued in the bench's scratch database.)
            cmd.arg("--no-worker");
        }
        let child = cmd
            .envs(env.iter().copied())
            .arg("--database-url")
            .arg(database_url)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the server")?;
        let pid = child.id().context("the server exited at once")?;
        Ok(Self {
            child,
            pid,
            log: log.to_path_buf(),
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Polls `GET /healthz` every ~2 ms until it answers 200; returns the time since `spawned`.
    pub async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
        spawned: Instant,
    ) -> anyhow::Result<Duration> {
        let url = format!("{}/healthz", self.base);
        let deadline = spawned + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(spawned.elapsed());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited with {status} before it was ready{}",
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!("the server was not ready after 30 s{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; server log:\n  {tail}")
        }
    }

    /// A `/proc/PID/status` field in kB (`VmRSS`, `VmHWM`), as MB.
    pub fn memory_mb(&self, field: &str) -> anyhow::Result<f64> {
        memory_mb(self.pid, field)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    }

    /// Kills the server with SIGKILL (no chance to finish anything) and waits for it to die.
    pub async fn kill9(&mut self) -> anyhow::Result<()> {
        self.child.start_kill().context("cannot kill the server")?;
        self.child.wait().await?;
        Ok(())
    }

    /// Stops the server.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_none() {
            self.child.kill().await.context("cannot stop the server")?;
        }
        Ok(())
    }
}
