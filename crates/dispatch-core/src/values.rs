//! Parsed values: raw input becomes one of these once, at the edge, and the core trusts it after.

use crate::error::ValidationError;
use crate::ids::IncidentId;
use serde::Serialize;
use std::fmt;

/// Generates a trimmed, length-bounded text type.
macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, min = $min:expr, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Shortest accepted length, in characters, after trimming.
            pub const MIN: usize = $min;
            /// Longest accepted length, in characters.
            pub const MAX: usize = $max;

            /// Trims and checks the length; `field` names the input in the error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
                let s = raw.trim();
                let n = s.chars().count();
                if n < Self::MIN {
                    return Err(ValidationError::field(field, if Self::MIN == 1 {
                        "must not be empty".to_string()
                    } else {
                        format!("must be at least {} characters", Self::MIN)
                    }));
                }
                if n > Self::MAX {
                    return Err(ValidationError::field(field, format!("must be at most {} characters (got {n})", Self::MAX)));
                }
                if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    return Err(ValidationError::field(field, "must not contain control characters"));
                }
                Ok(Self(s.to_string()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned text.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// An incident title: one line that says what is wrong.
    IncidentTitle, min = 1, max = 200
);
bounded_text!(
    /// A long free text (description, resolution, report fields).
    LongText, min = 1, max = 20_000
);
bounded_text!(
    /// A short name (taxonomy entries, teams, services, tags).
    Name, min = 1, max = 120
);

/// An e-mail address, lower-cased: the identity of an individual.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Checks the shape `local@domain.tld` loosely (deliverability is the mail server's job).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    && domain
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                    && !local.contains('@')
            });
        if ok {
            Ok(Self(s))
        } else {
            Err(ValidationError::field(
                field,
                "must be an e-mail address like alice@example.com",
            ))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URL-safe identifier: lower-case letters, digits and dashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Accepts `[a-z0-9-]{1,60}`, not starting or ending with a dash.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = (1..=60).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ValidationError::field(
                field,
                "must be 1-60 lower-case letters, digits or dashes",
            ))
        }
    }

    /// Derives a slug from a display name (`"High Impact"` → `high-impact`).
    pub fn from_name(name: &str) -> Self {
        let mut out = String::new();
        for c in name.trim().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out = out
            .trim_end_matches('-')
            .chars()
            .take(60)
            .collect::<String>();
        Self(if out.is_empty() { "x".into() } else { out })
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The prefix of a project's incident keys (`SEC` in `SEC-42`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Accepts 2-10 ASCII letters or digits starting with a letter; stored upper-case.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_uppercase();
        let ok = (2..=10).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(Self(s))
        } else {
            Err(ValidationError::field(
                field,
                "must be 2-10 letters or digits, starting with a letter (e.g. SEC)",
            ))
        }
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display colour as `#rrggbb` (`#rgb` is expanded), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Color(String);

impl Color {
    /// Accepts `#rgb` or `#rrggbb` in hexadecimal digits.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        let hex = s.strip_prefix('#').unwrap_or("");
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ValidationError::field(
                field,
                "must be a colour like #e5484d",
            ));
        }
        match hex.len() {
            6 => Ok(Self(s)),
            3 => Ok(Self(hex.chars().fold("#".to_string(), |mut out, c| {
                out.push(c);
                out.push(c);
                out
            }))),
            _ => Err(ValidationError::field(
                field,
                "must be a colour like #e5484d",
            )),
        }
    }

    /// The colour.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link to a web page about something (a person's profile, a runbook): `http(s)://…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebLink(String);

/// A Microsoft Entra (Azure AD) object id, the id Teams and Graph know a person by: a GUID
/// (`8-4-4-4-12` hex digits), kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadObjectId(String);

impl AadObjectId {
    /// Accepts a GUID such as `6e2a4b1c-0f3d-4e5a-9b8c-7d6e5f4a3b2c`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let groups: Vec<&str> = s.split('-').collect();
        let ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
        if ok {
            Ok(Self(s))
        } else {
            Err(ValidationError::field(
                field,
                "must be an Azure AD object id like 6e2a4b1c-0f3d-4e5a-9b8c-7d6e5f4a3b2c",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl WebLink {
    /// Longest accepted link, in bytes.
    pub const MAX: usize = 2000;

    /// Accepts an `http://` or `https://` URL with a host and no whitespace.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let ok = s.len() <= Self::MAX
            && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ValidationError::field(
                field,
                "must be a web address like https://example.com/alice",
            ))
        }
    }

    /// The link.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Matrix user ID, `@localpart:server` (the Matrix spec's user identifier grammar: the local
/// part in lower case `a-z 0-9 . _ = - /`, a server name of at least one character, at most 255
/// bytes in all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MatrixId(String);

impl MatrixId {
    /// Longest user ID the spec allows, in bytes.
    pub const MAX: usize = 255;

    /// Accepts `@localpart:server`, e.g. `@alice:example.org` or `@bot:localhost:8448`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = s.len() <= Self::MAX
            && s.strip_prefix('@')
                .and_then(|rest| rest.split_once(':'))
                .is_some_and(|(local, server)| {
                    !local.is_empty()
                        && local.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "._=-/+".contains(c)
                        })
                        && !server.is_empty()
                        && server
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
                });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ValidationError::field(
                field,
                "must be a Matrix user ID like @alice:example.org",
            ))
        }
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a caller names an incident in a path: by row id (`42`) or by human key (`SEC-42`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentRef {
    /// The row id.
    Id(IncidentId),
    /// The human key, upper-cased.
    Key(String),
}

impl IncidentRef {
    /// All digits is an id; anything else is treated as a key.
    pub fn parse(raw: &str) -> Self {
        let s = raw.trim();
        match s.parse::<i64>() {
            Ok(id) if !s.starts_with(['+', '-']) => IncidentRef::Id(IncidentId(id)),
            _ => IncidentRef::Key(s.to_ascii_uppercase()),
        }
    }
}

impl fmt::Display for IncidentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IncidentRef::Id(id) => id.fmt(f),
            IncidentRef::Key(k) => f.write_str(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            IncidentTitle::parse("title", "  Disk full ")
                .unwrap()
                .as_str(),
            "Disk full"
        );
        let empty = IncidentTitle::parse("title", "   ").unwrap_err();
        assert_eq!(empty.fields[0].field, "title");
        assert!(IncidentTitle::parse("title", &"x".repeat(201)).is_err());
        assert!(IncidentTitle::parse("title", &"é".repeat(200)).is_ok());
    }

    #[test]
    fn emails_are_lower_cased_and_shape_checked() {
        assert_eq!(
            Email::parse("email", " Alice@Example.COM ")
                .unwrap()
                .as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a b@example.com",
            "a@example",
            "a@@example.com",
        ] {
            assert!(
                Email::parse("email", bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn incident_refs_tell_ids_from_keys() {
        assert_eq!(IncidentRef::parse("42"), IncidentRef::Id(IncidentId(42)));
        assert_eq!(
            IncidentRef::parse("sec-42"),
            IncidentRef::Key("SEC-42".into())
        );
        assert_eq!(IncidentRef::parse("-1"), IncidentRef::Key("-1".into()));
    }

    #[test]
    fn slugs_derive_from_names() {
        assert_eq!(Slug::from_name("High Impact!").as_str(), "high-impact");
        assert!(Slug::parse("slug", "Bad Slug").is_err());
        assert!(KeyPrefix::parse("key_prefix", "sec").is_ok());
        assert!(KeyPrefix::parse("key_prefix", "1SEC").is_err());
    }

    #[test]
    fn colours_and_links_are_shape_checked() {
        assert_eq!(
            Color::parse("color", "#E5484D").unwrap().as_str(),
            "#e5484d"
        );
        assert_eq!(Color::parse("color", "#abc").unwrap().as_str(), "#aabbcc");
        for bad in ["", "red", "#12345", "e5484d", "#ggg"] {
            assert!(
                Color::parse("color", bad).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(WebLink::parse("weblink", "https://example.com/alice").is_ok());
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "https://",
            "https://a b",
        ] {
            assert!(
                WebLink::parse("weblink", bad).is_err(),
                "{bad} should be refused"
            );
        }
    }
}

#[cfg(test)]
mod matrix_id_tests {
    use super::MatrixId;

    #[test]
    fn a_matrix_id_is_an_at_sign_a_lower_case_local_part_a_colon_and_a_server() {
        for ok in [
            "@alice:example.org",
            "@bot:localhost:8448",
            " @a.b_c=d-e/f:x.y ",
        ] {
            assert!(MatrixId::parse("matrix_id", ok).is_ok(), "{ok}");
        }
        for bad in [
            "alice:example.org",
            "@alice",
            "@:example.org",
            "@Alice:example.org",
            "@alice:",
            "@al ice:x",
            "alice@example.org",
        ] {
            let e = MatrixId::parse("matrix_id", bad).unwrap_err();
            assert_eq!(e.fields[0].field, "matrix_id", "{bad}");
        }
    }
}
