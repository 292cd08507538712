//! The built-in e-mail provider: mail is kept in Dispatch's outbox table, readable over the API
//! (`GET /api/v1/outbox`), for deployments without an SMTP server.

use crate::repo::outbox::{self, NewMail};
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{Email, EmailProvider, ProviderError, ProviderResult};

/// The built-in e-mail provider.
pub struct Outbox {
    /// Where mail is kept.
    pub db: Db,
}

/// The slug recorded with mail the outbox kept.
pub const SLUG: &str = "dispatch-outbox";

#[async_trait]
impl EmailProvider for Outbox {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn send(&self, key: &str, message: &Email) -> ProviderResult<()> {
        let err = |e: crate::StoreError| ProviderError::new(SLUG, e.to_string());
        // Through the writer lock: on SQLite every write must be.
        let txn = self.db.write().await.map_err(err)?;
        let mail = NewMail {
            key,
            email: message,
            provider: SLUG,
            incident_id: None,
        };
        outbox::record(&*txn, mail, dispatch_core::now())
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::outbox::OutboxFilter;
    use crate::testing::TestDb;

    fn mail(subject: &str) -> Email {
        Email {
            to: vec!["Bea_O@Example.com".into()],
            subject: subject.into(),
            text: "hello".into(),
            html: None,
            thread: None,
            unsubscribe: None,
        }
    }

    #[tokio::test]
    async fn sending_twice_with_one_key_keeps_one_mail() {
        let t = TestDb::new().await;
        let outbox = Outbox { db: t.open().await };
        outbox.send("k1", &mail("first")).await.unwrap();
        outbox.send("k1", &mail("again")).await.unwrap();
        outbox.send("k2", &mail("second")).await.unwrap();
        let f = OutboxFilter {
            limit: 10,
            viewer: crate::repo::incident::Viewer::Everyone,
            ..Default::default()
        };
        let rows = outbox::list(outbox.db.conn(), &f).await.unwrap();
        let subjects: Vec<_> = rows.iter().map(|(r, _)| r.subject.as_str()).collect();
        assert_eq!(subjects, ["second", "first"]);
        assert_eq!(outbox::recipients(&rows[0].0), ["bea_o@example.com"]);
        assert_eq!(rows[0].0.provider, SLUG);
    }

    #[tokio::test]
    async fn the_recipient_filter_matches_whole_addresses_only() {
        let t = TestDb::new().await;
        let outbox = Outbox { db: t.open().await };
        outbox.send("k1", &mail("to bea")).await.unwrap();
        let find = |to: &str| OutboxFilter {
            to: Some(to.into()),
            limit: 10,
            viewer: crate::repo::incident::Viewer::Everyone,
            ..Default::default()
        };
        let conn = outbox.db.conn();
        assert_eq!(
            outbox::list(conn, &find("BEA_O@example.com"))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(outbox::list(conn, &find("beaxo@example.com"))
            .await
            .unwrap()
            .is_empty());
        assert!(outbox::list(conn, &find("o@example.com"))
            .await
            .unwrap()
            .is_empty());
    }
}
