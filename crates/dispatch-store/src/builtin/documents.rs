//! Markdown documents stored by Dispatch, rendered from templates and kept current.

use crate::entity::document;
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{
    Created, DocumentProvider, IncidentContext, ProviderError, ProviderResult,
};
use dispatch_core::{template, ResourceKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// The built-in document provider.
pub struct Documents {
    /// Where documents are kept.
    pub db: Db,
    /// Public base URL.
    pub base_url: String,
}

const SLUG: &str = "dispatch-document";

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

impl Documents {
    async fn get(&self, external_id: &str) -> ProviderResult<document::Model> {
        let id: i64 = external_id
            .parse()
            .map_err(|_| err(format!("bad document id {external_id:?}")))?;
        document::Entity::find_by_id(id)
            .one(self.db.conn())
            .await
            .map_err(err)?
            .ok_or_else(|| err(format!("document {id} does not exist")))
    }

    fn created(&self, d: &document::Model) -> Created {
        Created {
            external_id: d.id.to_string(),
            link: Some(dispatch_core::links::document(&self.base_url, d.id)),
            ..Default::default()
        }
    }
}

#[async_trait]
impl DocumentProvider for Documents {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(
        &self,
        key: &str,
        kind: ResourceKind,
        tpl: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        // The look-up and the insert share one write transaction, so two calls with one key
        // cannot both insert.
        let txn = self.db.write().await.map_err(err)?;
        let conn = &*txn;
        if let Some(d) = document::Entity::find()
            .filter(document::Column::IdempotencyKey.eq(key))
            .one(conn)
            .await
            .map_err(err)?
        {
            return Ok(self.created(&d));
        }
        let title = match kind {
            ResourceKind::ReviewDocument => format!("{} post-incident review", ctx.name),
            ResourceKind::ExecutiveDocument => format!("{} executive summary", ctx.name),
            _ => format!("{} incident document", ctx.name),
        };
        let now = dispatch_core::now();
        let d = document::ActiveModel {
            incident_id: Set(ctx.id),
            kind: Set(kind.as_str().into()),
            idempotency_key: Set(key.into()),
            title: Set(title),
            template: Set(tpl.into()),
            body: Set(template::render(tpl, ctx)),
            read_only: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(self.created(&d))
    }

    async fn update(&self, external_id: &str, ctx: &IncidentContext) -> ProviderResult<()> {
        let d = self.get(external_id).await?;
        // A document someone edited by hand is theirs: re-rendering the template would silently
        // overwrite the edit, so it is kept as written (the edit is on the timeline).
        if d.read_only || d.edited_at.is_some() {
            return Ok(());
        }
        let body = template::render(&d.template, ctx);
        if body != d.body {
            // Conditional on "still not edited": an edit that lands between the read above and
            // this write wins.
            let txn = self.db.write().await.map_err(err)?;
            document::Entity::update_many()
                .col_expr(document::Column::Body, Expr::value(body))
                .col_expr(
                    document::Column::UpdatedAt,
                    Expr::value(dispatch_core::now()),
                )
                .filter(document::Column::Id.eq(d.id))
                .filter(document::Column::EditedAt.is_null())
                .filter(document::Column::ReadOnly.eq(false))
                .exec(&*txn)
                .await
                .map_err(err)?;
            txn.commit().await.map_err(err)?;
        }
        Ok(())
    }

    async fn set_read_only(&self, external_id: &str, read_only: bool) -> ProviderResult<()> {
        let d = self.get(external_id).await?;
        if d.read_only != read_only {
            let mut row: document::ActiveModel = d.into();
            row.read_only = Set(read_only);
            row.updated_at = Set(dispatch_core::now());
            let txn = self.db.write().await.map_err(err)?;
            row.update(&*txn).await.map_err(err)?;
            txn.commit().await.map_err(err)?;
        }
        Ok(())
    }
}
