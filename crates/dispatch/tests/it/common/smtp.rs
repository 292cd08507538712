//! A real SMTP server for the e-mail tests (aiosmtpd via `tests/support/smtp_sink.py`) and the
//! SMTP provider that sends to it.

use dispatch_core::provider::Providers;
use dispatch_providers::smtp::{Smtp, SmtpSettings, SmtpTls};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// A real SMTP server: aiosmtpd writing each accepted message to a directory as JSON. Killed
/// when dropped, so a failing test does not leave it running.
pub struct SmtpSink {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts the server on a free port and waits until it accepts connections. Installs
    /// nothing: without aiosmtpd it fails saying how to set it up (`.ci/run` installs it).
    pub fn start() -> SmtpSink {
        let has_aiosmtpd = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .expect("python3 runs")
            .success();
        assert!(
            has_aiosmtpd,
            "the e-mail tests need aiosmtpd, the SMTP server they start; install it once with \
             `python3 -m pip install aiosmtpd` (`.ci/run` does this in its set-up)"
        );
        let dir = std::env::temp_dir().join(format!(
            "dispatch-smtp-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP server");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .expect("read the SMTP server's output");
        let port = ready
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok());
        // Owned before the port is checked, so the server is killed if it is not.
        let mut sink = SmtpSink {
            port: 0,
            dir,
            child,
        };
        sink.port = port.unwrap_or_else(|| panic!("the SMTP server did not start: {ready:?}"));
        sink
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An SMTP provider sending through 127.0.0.1:`port` without TLS, from dispatch@example.org.
pub fn smtp(port: u16) -> Smtp {
    let settings = SmtpSettings::new(
        "127.0.0.1",
        port,
        SmtpTls::None,
        "Dispatch <dispatch@example.org>",
    )
    .expect("SMTP settings");
    Smtp::new(settings)
}

/// For [`TestAppBuilder::providers`](super::TestAppBuilder::providers): the built-in
/// providers with their mail sent to `sink`.
pub fn mailing_to(sink: &SmtpSink) -> impl FnOnce(Providers) -> Providers + 'static {
    let port = sink.port;
    move |mut p| {
        p.email = Arc::new(smtp(port));
        p
    }
}
