//! Writing parsed request values into store rows with PATCH semantics: a value sets the column,
//! `null` clears a nullable one, absent leaves it as stored.

use dispatch_core::values::Slug;
use dispatch_core::Patch;
use sea_orm::ActiveValue;

/// Sets the column when a value arrived.
pub fn set<V: Into<sea_orm::Value>>(slot: &mut ActiveValue<V>, v: Option<V>) {
    if let Some(v) = v {
        *slot = ActiveValue::Set(v);
    }
}

/// Sets or clears a nullable column.
pub fn set_opt<V>(slot: &mut ActiveValue<Option<V>>, v: Patch<V>)
where
    Option<V>: Into<sea_orm::Value>,
{
    if let Some(v) = v.into_option() {
        *slot = ActiveValue::Set(v);
    }
}

/// Gives a new row without a slug the one derived from its name (`"High Impact"` → `high-impact`).
pub fn slug_from_name(slug: &mut ActiveValue<String>, name: &ActiveValue<String>) {
    if let (true, Some(name)) = (slug.is_not_set(), name.try_as_ref()) {
        *slug = ActiveValue::Set(Slug::from_name(name).as_str().to_string());
    }
}
