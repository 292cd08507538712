//! Saved views: a person names the incidents list's current filters and comes back to them.

use crate::access::Authenticated;
use crate::{Error, Result};
use dispatch_core::values::Name;
use dispatch_core::{ValidationError, ViewId};
use dispatch_store::model::saved_view;
use dispatch_store::repo;

/// The longest query string a view keeps.
pub const MAX_VIEW_QUERY: usize = 2_000;

impl crate::Accounts<'_> {
    /// The caller's saved views, by name.
    pub async fn saved_views(self, who: &Authenticated) -> Result<Vec<saved_view::Model>> {
        Ok(repo::saved_view::list(self.db().conn(), who.user_id).await?)
    }

    /// Saves the list's query string (already checked by the caller as a valid list query)
    /// under `name`; a view of the same name is replaced.
    pub async fn save_view(self, who: &Authenticated, name: &str, query: &str) -> Result<()> {
        let mut e = ValidationError::default();
        let name = e.check(Name::parse("name", name.trim()));
        let query = query.trim().trim_start_matches('?');
        if query.len() > MAX_VIEW_QUERY {
            e.push(
                "query",
                format!("a view keeps at most {MAX_VIEW_QUERY} characters of filters"),
            );
        }
        let (Some(name), true) = (name, e.is_empty()) else {
            return Err(e.into());
        };
        let txn = self.db().write().await?;
        repo::saved_view::save(
            &*txn,
            who.user_id,
            name.as_str(),
            query,
            dispatch_core::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes one of the caller's views; *not found* for anyone else's.
    pub async fn delete_view(self, who: &Authenticated, id: ViewId) -> Result<()> {
        let id = id.0;
        let txn = self.db().write().await?;
        if !repo::saved_view::delete(&*txn, who.user_id, id).await? {
            return Err(Error::NotFound(format!("saved view {id}")));
        }
        txn.commit().await?;
        Ok(())
    }
}
