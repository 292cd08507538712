//! The filter language compiled to SQL: a condition on `incidents` that holds exactly when
//! [`Filter::matches`] would say yes for the row (a property test checks the two agree on both
//! databases). Taxonomy and tag comparisons are subqueries on ids; terms use `LIKE` on the
//! lower-cased text, so both databases fold ASCII letters the way the in-memory match does.

use crate::entity::{
    incident, incident_priority, incident_severity, incident_tag, incident_type, project, tag,
    tag_type,
};
use dispatch_core::filter::{Comparison, Field, Filter, Op};
use sea_orm::sea_query::{Expr, Func, IntoColumnRef, LikeExpr, Query, SelectStatement, SimpleExpr};

/// The condition on `incidents` equivalent to the filter.
pub fn condition(f: &Filter) -> SimpleExpr {
    match f {
        Filter::And(parts) => parts
            .iter()
            .map(condition)
            .reduce(SimpleExpr::and)
            .unwrap_or_else(|| Expr::cust("1 = 1")),
        Filter::Or(parts) => parts
            .iter()
            .map(condition)
            .reduce(SimpleExpr::or)
            .unwrap_or_else(|| Expr::cust("1 = 0")),
        Filter::Not(inner) => condition(inner).not(),
        Filter::Cmp(c) => comparison(c),
    }
}

fn lower(col: impl IntoColumnRef) -> Expr {
    Expr::expr(Func::lower(Expr::col(col)))
}

fn lowered(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.to_ascii_lowercase()).collect()
}

/// `LIKE` pattern for "contains", with `!` escaping the wildcards.
fn contains(col: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    let mut pattern = String::from("%");
    for c in needle.to_ascii_lowercase().chars() {
        if matches!(c, '!' | '%' | '_') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    lower(col).like(LikeExpr::new(pattern).escape('!'))
}

/// `incidents.<column> IN (SELECT id FROM <table> WHERE lower(slug) IN (…) OR lower(name) IN (…))`.
macro_rules! named {
    ($column:expr, $entity:ident, $values:expr) => {
        Expr::col((incident::Entity, $column)).in_subquery(
            Query::select()
                .column($entity::Column::Id)
                .from($entity::Entity)
                .and_where(
                    lower($entity::Column::Slug)
                        .is_in(lowered($values))
                        .or(lower($entity::Column::Name).is_in(lowered($values))),
                )
                .to_owned(),
        )
    };
}

/// Ids of incidents carrying a tag that satisfies `cond` (over `tags` and `tag_types`).
fn tagged(cond: SimpleExpr) -> SimpleExpr {
    let sub: SelectStatement = Query::select()
        .column((incident_tag::Entity, incident_tag::Column::IncidentId))
        .from(incident_tag::Entity)
        .inner_join(
            tag::Entity,
            Expr::col((tag::Entity, tag::Column::Id))
                .equals((incident_tag::Entity, incident_tag::Column::TagId)),
        )
        .left_join(
            tag_type::Entity,
            Expr::col((tag_type::Entity, tag_type::Column::Id))
                .equals((tag::Entity, tag::Column::TagTypeId)),
        )
        .and_where(cond)
        .to_owned();
    Expr::col((incident::Entity, incident::Column::Id)).in_subquery(sub)
}

fn comparison(c: &Comparison) -> SimpleExpr {
    use incident::Column as C;
    let v = &c.values;
    let positive = match &c.field {
        Field::Project => Expr::col((incident::Entity, C::ProjectId)).in_subquery(
            Query::select()
                .column(project::Column::Id)
                .from(project::Entity)
                .and_where(
                    lower(project::Column::Slug)
                        .is_in(lowered(v))
                        .or(lower(project::Column::Name).is_in(lowered(v))),
                )
                .to_owned(),
        ),
        Field::Type => named!(C::TypeId, incident_type, v),
        Field::Priority => named!(C::PriorityId, incident_priority, v),
        Field::Severity => named!(C::SeverityId, incident_severity, v),
        Field::Status => lower((incident::Entity, C::Status)).is_in(lowered(v)),
        Field::Visibility => lower((incident::Entity, C::Visibility)).is_in(lowered(v)),
        Field::Tag(None) => tagged(lower((tag::Entity, tag::Column::Name)).is_in(lowered(v))),
        Field::Tag(Some(t)) => tagged(
            lower((tag::Entity, tag::Column::Name))
                .is_in(lowered(v))
                .and(lower((tag_type::Entity, tag_type::Column::Name)).eq(t.to_ascii_lowercase())),
        ),
        Field::TagType => {
            tagged(lower((tag_type::Entity, tag_type::Column::Name)).is_in(lowered(v)))
        }
        Field::Title => contains((incident::Entity, C::Title), &v[0]),
        Field::Description => contains((incident::Entity, C::Description), &v[0]),
        Field::Text => contains((incident::Entity, C::Title), &v[0])
            .or(contains((incident::Entity, C::Description), &v[0])),
    };
    match c.op {
        Op::Eq | Op::In | Op::Contains => positive,
        Op::Ne | Op::NotContains => positive.not(),
    }
}
