//! The built-in providers.

use async_trait::async_trait;
use dispatch_core::provider::{Created, IncidentContext, ProviderResult, ResourceProvider};
use sha2::{Digest, Sha256};

/// The incident's own key is its ticket.
pub struct Ticket {
    /// Public base URL.
    pub base_url: String,
}

#[async_trait]
impl ResourceProvider for Ticket {
    fn slug(&self) -> &'static str {
        "dispatch-ticket"
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        Ok(Created {
            external_id: ctx.name.clone(),
            link: Some(dispatch_core::links::incident(&self.base_url, &ctx.name)),
            ..Default::default()
        })
    }
}

/// Files attached to the incident, kept by Dispatch.
pub struct Storage {
    /// Public base URL.
    pub base_url: String,
}

#[async_trait]
impl ResourceProvider for Storage {
    fn slug(&self) -> &'static str {
        "dispatch-storage"
    }

    async fn create(&self, _key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        Ok(Created {
            external_id: format!("{}/files", ctx.name),
            link: Some(dispatch_core::links::files(&self.base_url, &ctx.name)),
            ..Default::default()
        })
    }
}

/// A meeting link made from a template such as `https://meet.jit.si/{{slug}}`.
pub struct Conference {
    /// The link template.
    pub template: String,
}

#[async_trait]
impl ResourceProvider for Conference {
    fn slug(&self) -> &'static str {
        "dispatch-conference"
    }

    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        // The same key always gives the same room; the hash keeps room names hard to guess.
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        let slug = format!("dispatch-{}-{}", ctx.name.to_lowercase(), &hash[..10]);
        Ok(Created {
            link: Some(self.template.replace("{{slug}}", &slug)),
            external_id: slug,
            ..Default::default()
        })
    }
}
