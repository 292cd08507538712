//! Dispatch's own contact directory: its individuals.

use crate::repo;
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{Contact, ContactProvider, ProviderError, ProviderResult};

/// The slug of the built-in directory.
pub const SLUG: &str = "dispatch-directory";

/// The built-in contact provider.
pub struct Directory {
    /// Where individuals are kept.
    pub db: Db,
}

#[async_trait]
impl ContactProvider for Directory {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn lookup(&self, email: &str) -> ProviderResult<Option<Contact>> {
        let found = repo::individual::by_email(self.db.conn(), &email.trim().to_lowercase())
            .await
            .map_err(|e| ProviderError::new(SLUG, e.to_string()))?;
        Ok(found.map(|i| Contact {
            email: i.email,
            name: i.name,
            title: i.title,
            // Dispatch's teams are shared addresses, not memberships: no team to name.
            team: None,
            weblink: i.weblink,
        }))
    }
}
