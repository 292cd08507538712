//! The cost catalogue of a project: its cost models (response time per activity kind, and the
//! incident types they cost) and its cost types ("Response Cost", the computed one, first).

use crate::{Error, Result};
use dispatch_core::ValidationError;
use dispatch_store::model::{cost_model, cost_type, incident_type};
use dispatch_store::repo;

/// A name no other record of the project has (case-insensitive); `own` is the record's id
/// when it is being changed.
fn unique_name<'a>(
    what: &str,
    name: &str,
    others: impl Iterator<Item = (i64, &'a str)>,
    own: Option<i64>,
) -> std::result::Result<(), ValidationError> {
    let mut others = others;
    if others.any(|(id, n)| n.eq_ignore_ascii_case(name) && Some(id) != own) {
        return Err(ValidationError::field(
            "name",
            format!("a {what} named {name:?} exists"),
        ));
    }
    Ok(())
}

impl crate::Costs<'_> {
    /// The cost models of a project.
    pub async fn models(self, project_id: i64) -> Result<Vec<cost_model::Model>> {
        Ok(repo::cost::models(self.db().conn(), project_id).await?)
    }

    /// The slugs of the incident types that use a cost model.
    pub async fn types_using(self, m: &cost_model::Model) -> Result<Vec<String>> {
        let all: Vec<incident_type::Model> =
            repo::taxonomy::types::list(self.db().conn(), m.project_id).await?;
        Ok(all
            .into_iter()
            .filter(|t| t.cost_model_id == Some(m.id))
            .map(|t| t.slug)
            .collect())
    }

    /// A cost model of the project `project_id` (not found when it is another project's).
    pub async fn model(self, project_id: i64, id: i64) -> Result<cost_model::Model> {
        let m = repo::cost::model(self.db().conn(), id).await?;
        if m.project_id != project_id {
            return Err(Error::NotFound(format!("cost model {id}")));
        }
        Ok(m)
    }

    /// Saves a cost model: a new one when `before` is `None`. Its name is unique in the project.
    /// `types` (slugs or names), when given, are the incident types that use it from now on
    /// (types it leaves out that used it go back to the classic model).
    pub async fn save_model(
        self,
        before: Option<&cost_model::Model>,
        row: cost_model::Model,
        types: Option<Vec<String>>,
    ) -> Result<cost_model::Model> {
        let txn = self.db().write().await?;
        let all: Vec<incident_type::Model> =
            repo::taxonomy::types::list(&*txn, row.project_id).await?;
        let mut chosen = Vec::new();
        if let Some(names) = &types {
            let mut e = ValidationError::default();
            for n in names {
                let n = n.trim();
                match all
                    .iter()
                    .find(|t| t.slug == n.to_lowercase() || t.name.eq_ignore_ascii_case(n))
                {
                    Some(t) => chosen.push(t.id),
                    None => e.push("incident_types", format!("no incident type {n:?}")),
                }
            }
            e.into_result()?;
        }
        let others = repo::cost::models(&*txn, row.project_id).await?;
        unique_name(
            "cost model",
            &row.name,
            others.iter().map(|m| (m.id, m.name.as_str())),
            before.map(|b| b.id),
        )?;
        let saved = match before {
            Some(b) => repo::cost::update_model(&*txn, b, row).await?,
            None => repo::cost::insert_model(&*txn, row).await?,
        };
        if types.is_some() {
            for t in all {
                let uses = chosen.contains(&t.id);
                let used = t.cost_model_id == Some(saved.id);
                if uses != used {
                    let after = incident_type::Model {
                        cost_model_id: uses.then_some(saved.id),
                        ..t.clone()
                    };
                    repo::taxonomy::update(&*txn, &t, after).await?;
                }
            }
        }
        txn.commit().await?;
        Ok(saved)
    }

    /// Deletes a cost model; the incident types that used it go back to the classic model.
    pub async fn delete_model(self, m: &cost_model::Model) -> Result<()> {
        let txn = self.db().write().await?;
        repo::cost::delete_model(&*txn, m.id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The cost types of a project (its default one made when missing), the default first.
    pub async fn types(self, project_id: i64) -> Result<Vec<cost_type::Model>> {
        let txn = self.db().write().await?;
        repo::cost::default_type(&*txn, project_id, dispatch_core::now()).await?;
        let types = repo::cost::types(&*txn, project_id).await?;
        txn.commit().await?;
        Ok(types)
    }

    /// A cost type of the project `project_id` (not found when it is another project's).
    pub async fn cost_type(self, project_id: i64, id: i64) -> Result<cost_type::Model> {
        let t = repo::cost::cost_type(self.db().conn(), id).await?;
        if t.project_id != project_id {
            return Err(Error::NotFound(format!("cost type {id}")));
        }
        Ok(t)
    }

    /// Saves a cost type: a new one when `before` is `None`. Its name is unique in the project.
    pub async fn save_type(
        self,
        before: Option<&cost_type::Model>,
        row: cost_type::Model,
    ) -> Result<cost_type::Model> {
        let txn = self.db().write().await?;
        repo::cost::default_type(&*txn, row.project_id, dispatch_core::now()).await?;
        let others = repo::cost::types(&*txn, row.project_id).await?;
        unique_name(
            "cost type",
            &row.name,
            others.iter().map(|t| (t.id, t.name.as_str())),
            before.map(|b| b.id),
        )?;
        let saved = match before {
            Some(b) => repo::cost::update_type(&*txn, b, row).await?,
            None => repo::cost::insert_type(&*txn, row).await?,
        };
        txn.commit().await?;
        Ok(saved)
    }

    /// Deletes a cost type and the incidents' costs of that type; the default one stays.
    pub async fn delete_type(self, t: &cost_type::Model) -> Result<()> {
        if t.is_default {
            return Err(Error::Conflict(format!(
                "{:?} is the project's default cost type, computed by the cost models; it cannot be deleted",
                t.name
            )));
        }
        let txn = self.db().write().await?;
        repo::cost::delete_type(&*txn, t.id).await?;
        txn.commit().await?;
        Ok(())
    }
}
