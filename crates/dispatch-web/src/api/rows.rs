//! Writing parsed request values into records with PATCH semantics: a value sets the field,
//! `null` clears a nullable one, absent leaves it as it is.

use dispatch_core::values::Slug;
use dispatch_core::Patch;

/// Sets the field when a value arrived.
pub fn set<V>(slot: &mut V, v: Option<V>) {
    if let Some(v) = v {
        *slot = v;
    }
}

/// Sets or clears a nullable field.
pub fn set_opt<V>(slot: &mut Option<V>, v: Patch<V>) {
    if let Some(v) = v.into_option() {
        *slot = v;
    }
}

/// Gives a new record without a slug (an empty one) the slug derived from its name, when it has
/// one (`"High Impact"` → `high-impact`).
pub fn slug_from_name(slug: &mut String, name: &str) {
    if slug.is_empty() && !name.is_empty() {
        *slug = Slug::from_name(name).as_str().to_string();
    }
}
