//! Validation errors that name each offending field; every layer reports bad input with these.

use serde::Serialize;

/// One field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as the caller spelled it (e.g. `title`, `priority`).
    pub field: String,
    /// What is wrong, in a sentence a person can act on.
    pub message: String,
}

/// Bad input: one or more fields failed validation. Nothing is written when this is returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("validation failed: {}", .fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationError {
    /// Every offending field.
    pub fields: Vec<FieldError>,
}

impl ValidationError {
    /// An error about a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.push(field, message);
        e
    }

    /// Adds one more offending field.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.fields.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// True when no field has been reported.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Records the error of a parse, returning the parsed value when it succeeded.
    pub fn check<T>(&mut self, r: Result<T, ValidationError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fields.extend(e.fields);
                None
            }
        }
    }
}
