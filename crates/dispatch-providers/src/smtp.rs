//! E-mail over SMTP (lettre, rustls): one server with the chosen TLS mode and optional
//! credentials, a connection per mail (incident mail is rare; nothing idles between mails). Each mail's `Message-ID` is derived from its idempotency key, so a
//! mail re-sent after a crash is recognisable as the same one.

use async_trait::async_trait;
use dispatch_core::provider::{Email, EmailProvider, ProviderError, ProviderResult};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// The slug recorded with mail sent over SMTP.
pub const SLUG: &str = "smtp";

fn err(message: impl Into<String>) -> ProviderError {
    ProviderError::new(SLUG, message)
}

/// How the connection to the server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a trusted network.
    None,
    /// Plain text upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl SmtpTls {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

impl std::str::FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!(
                "{other:?} is not a TLS mode; use starttls, tls or none"
            )),
        }
    }
}

/// Checked SMTP settings: [`SmtpSettings::new`] parses the sender and prepares TLS, so the
/// provider built from them starts without error. The password never appears in `Debug`.
#[derive(Clone)]
pub struct SmtpSettings {
    host: String,
    port: u16,
    mode: SmtpTls,
    tls: Tls,
    from: Mailbox,
    credentials: Option<Credentials>,
    timeout: Duration,
}

impl SmtpSettings {
    /// Settings for `host:port` with a TLS mode and a sender (`dispatch@example.com` or
    /// `Dispatch <dispatch@example.com>`); no credentials, a 10 s timeout.
    pub fn new(host: &str, port: u16, mode: SmtpTls, from: &str) -> ProviderResult<Self> {
        let host = host.trim();
        if host.is_empty() {
            return Err(err("the SMTP host is empty"));
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| err(format!("the sender {from:?} is not an address: {e}")))?;
        let params = || {
            TlsParameters::new(host.to_string())
                .map_err(|e| err(format!("cannot set up TLS for {host:?}: {e}")))
        };
        let tls = match mode {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(params()?),
            SmtpTls::Tls => Tls::Wrapper(params()?),
        };
        Ok(Self {
            host: host.to_string(),
            port,
            mode,
            tls,
            from,
            credentials: None,
            timeout: Duration::from_secs(10),
        })
    }

    /// Logs in with these credentials (PLAIN or LOGIN, whichever the server offers).
    pub fn with_credentials(mut self, username: &str, password: &str) -> Self {
        self.credentials = Some(Credentials::new(username.into(), password.into()));
        self
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.mode.as_str())
            .field("from", &self.from.to_string())
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The SMTP e-mail provider.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// A provider sending through the server the settings name; nothing connects until a mail
    /// is sent.
    pub fn new(settings: SmtpSettings) -> Self {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host)
            .port(settings.port)
            .tls(settings.tls)
            .timeout(Some(settings.timeout));
        if let Some(c) = settings.credentials {
            builder = builder.credentials(c);
        }
        Self {
            transport: builder.build(),
            from: settings.from,
        }
    }

    /// The message as sent: text, or text and HTML as alternatives.
    fn message(&self, key: &str, mail: &Email) -> ProviderResult<Message> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(dispatch_core::email::header_safe(&mail.subject))
            .message_id(Some(dispatch_core::email::message_id(
                key,
                self.from.email.domain(),
            )));
        if let Some(root) = mail.thread.as_deref().filter(|root| *root != key) {
            // The thread's root is its first mail: every later one answers it, so clients
            // group them (even when the root itself was deleted).
            let root = dispatch_core::email::message_id(root, self.from.email.domain());
            b = b.in_reply_to(root.clone()).references(root);
        }
        if let Some(url) = &mail.unsubscribe {
            // RFC 2369 and RFC 8058: clients offer "unsubscribe", and POST to the link.
            b = b
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{}>", dispatch_core::email::header_safe(url)),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        if mail.to.is_empty() {
            return Err(err("the mail has no recipient"));
        }
        for to in &mail.to {
            let mbox: Mailbox = to
                .parse()
                .map_err(|e| err(format!("recipient {to:?} is not an address: {e}")))?;
            b = b.to(mbox);
        }
        let built = match &mail.html {
            Some(html) => b.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            None => b.singlepart(SinglePart::plain(mail.text.clone())),
        };
        built.map_err(|e| err(format!("cannot build the message: {e}")))
    }
}

#[async_trait]
impl EmailProvider for Smtp {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn send(&self, key: &str, mail: &Email) -> ProviderResult<()> {
        let message = self.message(key, mail)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| err(format!("the server did not take the mail: {e}")))?;
        tracing::debug!(
            mail.key = key,
            recipients = mail.to.len(),
            "mail sent over SMTP"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(html: Option<&str>) -> Email {
        Email {
            to: vec!["bea@example.com".into(), "Carl <carl@example.com>".into()],
            subject: "INC-1: welcome".into(),
            text: "You are the scribe.".into(),
            html: html.map(String::from),
            thread: None,
            unsubscribe: None,
        }
    }

    fn smtp() -> Smtp {
        Smtp::new(
            SmtpSettings::new(
                "127.0.0.1",
                2525,
                SmtpTls::None,
                "Dispatch <dispatch@example.org>",
            )
            .unwrap(),
        )
    }

    #[test]
    fn tls_modes_parse_from_their_configuration_names() {
        for m in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            assert_eq!(m.as_str().parse::<SmtpTls>().unwrap(), m);
        }
        assert_eq!("STARTTLS".parse::<SmtpTls>().unwrap(), SmtpTls::StartTls);
        assert!("ssl"
            .parse::<SmtpTls>()
            .unwrap_err()
            .contains("starttls, tls or none"));
    }

    #[test]
    fn bad_senders_and_empty_hosts_are_refused_up_front() {
        assert!(
            SmtpSettings::new("mail.example.org", 587, SmtpTls::StartTls, "not an address")
                .is_err()
        );
        assert!(SmtpSettings::new(" ", 587, SmtpTls::None, "a@example.org").is_err());
        assert!(SmtpSettings::new("mail.example.org", 465, SmtpTls::Tls, "a@example.org").is_ok());
    }

    #[test]
    fn the_password_is_not_in_the_debug_output() {
        let s = SmtpSettings::new("mail.example.org", 587, SmtpTls::StartTls, "a@example.org")
            .unwrap()
            .with_credentials("dispatch", "hunter2");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
    }

    #[test]
    fn mail_of_a_thread_answers_the_threads_root_and_other_mail_answers_nothing() {
        let mut m = mail(None);
        let raw = String::from_utf8(smtp().message("k1", &m).unwrap().formatted()).unwrap();
        assert!(!raw.contains("In-Reply-To:"), "{raw}");
        // The root itself answers nothing.
        m.thread = Some("k1".into());
        let raw = String::from_utf8(smtp().message("k1", &m).unwrap().formatted()).unwrap();
        assert!(!raw.contains("In-Reply-To:"), "{raw}");
        let raw = String::from_utf8(smtp().message("k2", &m).unwrap().formatted()).unwrap();
        let root = dispatch_core::email::message_id("k1", "example.org");
        assert!(raw.contains(&format!("In-Reply-To: {root}")), "{raw}");
        assert!(raw.contains(&format!("References: {root}")), "{raw}");
        let own = dispatch_core::email::message_id("k2", "example.org");
        assert!(raw.contains(&format!("Message-ID: {own}")), "{raw}");
    }

    #[test]
    fn a_mail_with_an_unsubscribe_link_offers_one_click_unsubscribe() {
        let mut m = mail(None);
        let raw = String::from_utf8(smtp().message("k1", &m).unwrap().formatted()).unwrap();
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
        m.unsubscribe = Some("https://dispatch.example.org/unsubscribe?token=abc".into());
        let raw = String::from_utf8(smtp().message("k1", &m).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://dispatch.example.org/unsubscribe?token=abc>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
    }

    #[test]
    fn the_message_id_comes_from_the_key_and_the_senders_domain() {
        let raw =
            String::from_utf8(smtp().message("k1", &mail(None)).unwrap().formatted()).unwrap();
        let id = dispatch_core::email::message_id("k1", "example.org");
        assert!(raw.contains(&format!("Message-ID: {id}")), "{raw}");
        assert!(
            raw.contains("To: bea@example.com, Carl <carl@example.com>"),
            "{raw}"
        );
        assert!(
            raw.contains("From: Dispatch <dispatch@example.org>"),
            "{raw}"
        );
        assert!(raw.contains("You are the scribe."), "{raw}");
    }

    #[test]
    fn html_goes_as_an_alternative_to_the_text() {
        let raw = String::from_utf8(
            smtp()
                .message("k1", &mail(Some("<p>You are the scribe.</p>")))
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
    }

    #[test]
    fn a_mail_without_recipients_or_with_a_bad_one_is_refused() {
        let mut m = mail(None);
        m.to.clear();
        assert!(smtp().message("k", &m).is_err());
        m.to.push("nobody".into());
        assert!(smtp().message("k", &m).is_err());
    }
}
