//! `Patch<T>`: a PATCH field that tells "absent" (leave unchanged) from `null` (clear) from a value.

use serde::{Deserialize, Deserializer};

/// One field of a PATCH body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    /// The field was not in the body: keep the current value.
    #[default]
    Absent,
    /// The field was `null`: clear the value.
    Null,
    /// The field carried a value.
    Value(T),
}

impl<T> Patch<T> {
    /// True when the body did not mention the field.
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Maps the carried value, keeping absent and null as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => Patch::Value(f(v)),
        }
    }

    /// `None` when absent, `Some(None)` when null, `Some(Some(v))` with a value.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }
}

/// A create body's optional field seen as a patch over the defaults: absent stays absent.
impl<T> From<Option<T>> for Patch<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Patch::Absent, Patch::Value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only reached when the key is present (absent keys use `#[serde(default)]`).
        Ok(match Option::<T>::deserialize(d)? {
            None => Patch::Null,
            Some(v) => Patch::Value(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        a: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_are_three_different_things() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"a":null}"#).unwrap();
        let value: Body = serde_json::from_str(r#"{"a":"x"}"#).unwrap();
        assert_eq!(absent.a, Patch::Absent);
        assert_eq!(null.a, Patch::Null);
        assert_eq!(value.a, Patch::Value("x".into()));
    }
}
