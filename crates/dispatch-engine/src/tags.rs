//! Tag names as people write them — `name`, or `type:name` for a tag of a tag type — read
//! against a project's tags and tag types. Incidents (declared or edited, from the API, the UI
//! or chat), cases and signal definitions take their tags through here, and a configuration's
//! apply checks its definitions' tags by the same rules.

use crate::Result;
use dispatch_core::ValidationError;
use dispatch_store::model::{tag, tag_type};
use dispatch_store::repo;
use dispatch_store::Conn;

/// The longest tag name, in characters.
const MAX_NAME: usize = 120;

/// What resolving tag names does with a name the project has no tag of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewTags {
    /// Creates it (a declaration or an incident's edit).
    Create,
    /// Refuses it as a field error on `tags` (a case and a definition take only the project's
    /// tags).
    Refuse,
}

/// A project's tags and tag types, as far as a list of names needs them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProjectTags {
    /// Its tags: every one where a name it lacks is refused (the error lists them), else at
    /// least those the names name.
    pub tags: Vec<tag::Model>,
    /// Every tag type it has ([`ProjectTags::load_named`]: those of its `tags`).
    pub types: Vec<tag_type::Model>,
}

/// What one name comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Named {
    /// A tag the project has, by id.
    Tag(i64),
    /// A tag it lacks, to be made (of the tag type a `type:name` gives it).
    New {
        name: String,
        tag_type_id: Option<i64>,
    },
}

/// A name as written, trimmed: its tag type (written `type:name`) and its tag's name.
fn split(raw: &str) -> (Option<&str>, &str) {
    let raw = raw.trim();
    match raw.split_once(':') {
        Some((t, n)) if !t.trim().is_empty() => (Some(t.trim()), n.trim()),
        _ => (None, raw),
    }
}

impl ProjectTags {
    /// Reads what resolving `names` in a project needs (nothing for no names).
    pub async fn load(
        conn: &impl Conn,
        project_id: i64,
        names: &[String],
        new_tags: NewTags,
    ) -> Result<Self> {
        if names.is_empty() {
            return Ok(Self::default());
        }
        let tags = match new_tags {
            NewTags::Refuse => repo::tag::list(conn, project_id).await?,
            NewTags::Create => {
                let wanted: Vec<String> = names.iter().map(|n| split(n).1.to_string()).collect();
                repo::tag::by_names(conn, project_id, &wanted).await?
            }
        };
        let types = repo::tag::types(conn, project_id).await?;
        Ok(Self { tags, types })
    }

    /// Reads, in one statement, the tags `names` name and their tag types: enough to tell
    /// which names are the project's tags ([`ProjectTags::existing`]), not to say why another
    /// is not (a type no named tag has reads as one the project lacks).
    pub async fn load_named(conn: &impl Conn, project_id: i64, names: &[String]) -> Result<Self> {
        if names.is_empty() {
            return Ok(Self::default());
        }
        let wanted: Vec<String> = names.iter().map(|n| split(n).1.to_string()).collect();
        let mut out = Self::default();
        for (tag, tag_type) in repo::tag::by_names_with_types(conn, project_id, &wanted).await? {
            if let Some(tt) = tag_type.filter(|tt| !out.types.contains(tt)) {
                out.types.push(tt);
            }
            out.tags.push(tag);
        }
        Ok(out)
    }

    /// The ids of the project's tags that `names` name, once each, as [`ProjectTags::resolve`]
    /// reads them; a name that is no tag of the project (or `type:name` of a tag of another
    /// type) is left out rather than refused.
    pub fn existing(&self, names: &[String]) -> Vec<i64> {
        let mut ignored = ValidationError::default();
        self.resolve(names, NewTags::Refuse, &mut ignored)
            .into_iter()
            .filter_map(|named| match named {
                Named::Tag(id) => Some(id),
                Named::New { .. } => None,
            })
            .collect()
    }

    /// Resolves tag names, once each. Every mistake is a field error on `tags` naming the tag
    /// as written: a name empty or too long, a tag type the project lacks, `type:name` for a
    /// tag that is not of that type, two tags of an exclusive type, and (when `new_tags`
    /// refuses them) a tag the project lacks.
    pub fn resolve(
        &self,
        names: &[String],
        new_tags: NewTags,
        errors: &mut ValidationError,
    ) -> Vec<Named> {
        let mut out: Vec<Named> = Vec::new();
        let mut exclusive_seen: Vec<(i64, String)> = Vec::new();
        for raw in names {
            let raw = raw.trim();
            let (type_name, name) = split(raw);
            if name.is_empty() || name.chars().count() > MAX_NAME {
                errors.push(
                    "tags",
                    format!("tag {raw:?} must be 1-{MAX_NAME} characters"),
                );
                continue;
            }
            let tag_type = match type_name {
                None => None,
                Some(t) => match self.types.iter().find(|tt| tt.name == t) {
                    Some(tt) => Some(tt),
                    None => {
                        errors.push("tags", format!("unknown tag type {t:?} in {raw:?}"));
                        continue;
                    }
                },
            };
            // The tag of that name: the project's, or one an earlier name makes.
            let found = self
                .tags
                .iter()
                .find(|t| t.name == name)
                .map(|t| (Named::Tag(t.id), t.tag_type_id))
                .or_else(|| {
                    out.iter().find_map(|n| match n {
                        Named::New {
                            name: made,
                            tag_type_id,
                        } if made == name => Some((n.clone(), *tag_type_id)),
                        _ => None,
                    })
                });
            let (named, type_id) = match found {
                Some((named, type_id)) => {
                    if let Some(want) = tag_type.filter(|want| type_id != Some(want.id)) {
                        errors.push("tags", self.of_another_type(raw, name, type_id, want));
                        continue;
                    }
                    (named, type_id)
                }
                None if new_tags == NewTags::Refuse => {
                    errors.push("tags", self.unknown(name));
                    continue;
                }
                None => {
                    let tag_type_id = tag_type.map(|t| t.id);
                    let name = name.to_string();
                    (Named::New { name, tag_type_id }, tag_type_id)
                }
            };
            if out.contains(&named) {
                continue;
            }
            if let Some(tt) = self
                .types
                .iter()
                .find(|t| Some(t.id) == type_id && t.exclusive)
            {
                if let Some((_, other)) = exclusive_seen.iter().find(|(id, _)| *id == tt.id) {
                    errors.push(
                        "tags",
                        format!(
                            "tag type {:?} is exclusive: {other:?} and {name:?} cannot both be set",
                            tt.name
                        ),
                    );
                }
                exclusive_seen.push((tt.id, name.to_string()));
            }
            out.push(named);
        }
        out
    }

    /// The error for `type:name` naming a tag of another type (or of none).
    fn of_another_type(
        &self,
        raw: &str,
        name: &str,
        type_id: Option<i64>,
        want: &tag_type::Model,
    ) -> String {
        match self.types.iter().find(|t| Some(t.id) == type_id) {
            Some(has) => format!(
                "tag {raw:?}: {name:?} is a tag of type {:?}, not {:?} (write \"{}:{name}\")",
                has.name, want.name, has.name
            ),
            None => format!(
                "tag {raw:?}: {name:?} is a tag of no type, not of {:?} (write {name:?})",
                want.name
            ),
        }
    }

    /// The error for a tag the project lacks, naming those it has as a list of names takes
    /// them (`env:prod`, `db`).
    fn unknown(&self, name: &str) -> String {
        let known: Vec<String> = self
            .tags
            .iter()
            .map(|t| {
                let tag_type = t
                    .tag_type_id
                    .and_then(|id| self.types.iter().find(|tt| tt.id == id));
                repo::tag::as_written(&t.name, tag_type.map(|tt| tt.name.as_str()))
            })
            .collect();
        format!(
            "unknown tag {name:?}; the project's tags: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    }
}

/// Resolves tag names (`name` or `type:name`) to tag ids, creating plain tags that do not exist
/// yet, and checks exclusive tag types. Unknown tag types become field errors.
pub(crate) async fn resolve_tags(
    conn: &impl Conn,
    project_id: i64,
    names: &[String],
    errors: &mut ValidationError,
) -> Result<Vec<i64>> {
    resolve_tags_as(conn, project_id, names, NewTags::Create, errors).await
}

/// [`resolve_tags`], with a name the project has no tag of created or refused.
pub(crate) async fn resolve_tags_as(
    conn: &impl Conn,
    project_id: i64,
    names: &[String],
    new_tags: NewTags,
    errors: &mut ValidationError,
) -> Result<Vec<i64>> {
    let project = ProjectTags::load(conn, project_id, names, new_tags).await?;
    let mut ids = Vec::new();
    for named in project.resolve(names, new_tags, errors) {
        ids.push(match named {
            Named::Tag(id) => id,
            Named::New { name, tag_type_id } => {
                let row = tag::Model {
                    project_id,
                    tag_type_id,
                    name,
                    description: String::new(),
                    created_at: dispatch_core::now(),
                    ..Default::default()
                };
                repo::tag::insert(conn, row).await?.id
            }
        });
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with tag types `env` (exclusive) and `team`, and tags `prod` and `staging`
    /// (env), `payments` (team) and `db` (no type).
    fn project() -> ProjectTags {
        let tt = |id, name: &str, exclusive| tag_type::Model {
            id,
            name: name.into(),
            exclusive,
            ..Default::default()
        };
        let tag = |id, name: &str, tag_type_id| tag::Model {
            id,
            name: name.into(),
            tag_type_id,
            ..Default::default()
        };
        ProjectTags {
            tags: vec![
                tag(1, "prod", Some(1)),
                tag(2, "staging", Some(1)),
                tag(3, "payments", Some(2)),
                tag(4, "db", None),
            ],
            types: vec![tt(1, "env", true), tt(2, "team", false)],
        }
    }

    fn resolve(names: &[&str], new_tags: NewTags) -> (Vec<Named>, Vec<String>) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut e = ValidationError::default();
        let named = project().resolve(&names, new_tags, &mut e);
        assert!(e.fields.iter().all(|f| f.field == "tags"), "{e:?}");
        (named, e.fields.into_iter().map(|f| f.message).collect())
    }

    #[test]
    fn a_tag_is_named_by_its_name_or_by_its_type_and_name() {
        let (named, errors) = resolve(
            &["prod", " env:prod ", "team:payments", "db"],
            NewTags::Refuse,
        );
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(named, [Named::Tag(1), Named::Tag(3), Named::Tag(4)]);
    }

    #[test]
    fn type_and_name_must_be_a_tag_of_that_type() {
        for new_tags in [NewTags::Refuse, NewTags::Create] {
            let (named, errors) = resolve(&["team:prod", "env:db", "payments"], new_tags);
            assert_eq!(named, [Named::Tag(3)], "the others are refused, not made");
            assert_eq!(
                errors,
                [
                    r#"tag "team:prod": "prod" is a tag of type "env", not "team" (write "env:prod")"#,
                    r#"tag "env:db": "db" is a tag of no type, not of "env" (write "db")"#,
                ]
            );
        }
    }

    #[test]
    fn a_tag_the_project_lacks_is_made_of_its_type_or_refused_naming_the_project_s_tags() {
        let (named, errors) = resolve(&["team:search", "team:search", "cache"], NewTags::Create);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(
            named,
            [
                Named::New {
                    name: "search".into(),
                    tag_type_id: Some(2)
                },
                Named::New {
                    name: "cache".into(),
                    tag_type_id: None
                },
            ]
        );
        // Made once: a second spelling of another type is refused as a tag of another's.
        let (named, errors) = resolve(&["team:search", "env:search"], NewTags::Create);
        assert_eq!(named.len(), 1);
        assert_eq!(
            errors,
            [
                r#"tag "env:search": "search" is a tag of type "team", not "env" (write "team:search")"#
            ]
        );
        let (named, errors) = resolve(&["cache", "region:eu"], NewTags::Refuse);
        assert_eq!(named, []);
        assert_eq!(
            errors,
            [
                r#"unknown tag "cache"; the project's tags: env:prod, env:staging, team:payments, db"#,
                r#"unknown tag type "region" in "region:eu""#,
            ]
        );
    }

    #[test]
    fn the_existing_tags_are_those_names_resolve_to_and_the_rest_are_left_out() {
        let names: Vec<String> = ["team:prod", "env:db", "region:eu", "gone", "", "prod", "db"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(project().existing(&names), [1, 4]);
        assert_eq!(project().existing(&[]), Vec::<i64>::new());
    }

    #[test]
    fn an_exclusive_type_takes_one_tag_and_a_name_must_be_1_to_120_characters() {
        let (_, errors) = resolve(&["prod", "env:staging", "env:prod"], NewTags::Refuse);
        assert_eq!(
            errors,
            [r#"tag type "env" is exclusive: "prod" and "staging" cannot both be set"#]
        );
        let long = "x".repeat(121);
        let (_, errors) = resolve(&["env:", &long], NewTags::Create);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains(r#""env:" must be 1-120"#), "{errors:?}");
    }
}
