//! The filter's stored JSON form: `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`, and
//! comparisons `{"field": "priority", "op": "=", "value": "high"}` (`"values": [...]` for `in`).
//! Reading also accepts a string in the text form anywhere a filter is expected. The reader
//! keeps the same bounds as the text parser, counted over the whole filter, and refuses a filter
//! beyond them before going any deeper.

use super::text::{depth_message, terms_message};
use super::{Comparison, Field, Filter, Op, MAX_DEPTH, MAX_TERMS};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

impl Filter {
    /// The stored JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Filter::And(v) => json!({"and": v.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Or(v) => json!({"or": v.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Not(f) => json!({"not": f.to_json()}),
            Filter::Cmp(c) if c.op == Op::In => {
                json!({"field": c.field.to_string(), "op": "in", "values": c.values})
            }
            Filter::Cmp(c) => json!({
                "field": c.field.to_string(),
                "op": c.op.as_str(),
                "value": c.values.first(),
            }),
        }
    }

    /// Reads the JSON form (or a string in the text form); the error names the JSON path.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        read(v, "$", Within::Top, 0, &mut 0)
    }
}

/// Counts `n` more terms for the filter at `path`.
fn count(terms: &mut usize, n: usize, path: &str) -> Result<(), String> {
    *terms = terms.saturating_add(n);
    if *terms > MAX_TERMS {
        return Err(format!("{path}: {}", terms_message()));
    }
    Ok(())
}

/// Where a filter sits: what the text form would put around it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Top,
    And,
    Or,
    Not,
}

/// Reads the filter at `path` (inside `within`), `depth` levels deep, `terms` terms read before
/// it. Depth is counted as the text form counts it (each `not`, each pair of parentheses the
/// printed text needs; a one-part `and`/`or`, which the text drops, counts a level too), so a
/// filter one form accepts, the other accepts too.
fn read(
    v: &Value,
    path: &str,
    within: Within,
    depth: usize,
    terms: &mut usize,
) -> Result<Filter, String> {
    let deeper = |levels: usize| {
        if depth + levels > MAX_DEPTH {
            Err(format!("{path}: {}", depth_message()))
        } else {
            Ok(depth + levels)
        }
    };
    match v {
        // A whole filter in the text form: its error names the position, no path needed.
        Value::String(s) if within == Within::Top => {
            super::text::parse(s, depth, terms).map_err(|e| e.to_string())
        }
        // Inside a group it may need parentheses when printed: one level more.
        Value::String(s) => {
            super::text::parse(s, deeper(1)?, terms).map_err(|e| format!("{path}: {e}"))
        }
        Value::Object(o) if o.len() == 1 && (o.contains_key("and") || o.contains_key("or")) => {
            let (k, list) = o.iter().next().expect("one key");
            let items = list
                .as_array()
                .ok_or_else(|| format!("{path}.{k}: must be a list of filters"))?;
            let is_and = k == "and";
            let levels = match (items.len(), within) {
                // `all` or `none`.
                (0, _) => {
                    count(terms, 1, path)?;
                    0
                }
                (1, _) => 1,
                (_, Within::Top) => 0,
                (_, Within::Or) if is_and => 0,
                _ => 1,
            };
            let inner = deeper(levels)?;
            let here = if is_and { Within::And } else { Within::Or };
            let parts = items
                .iter()
                .enumerate()
                .map(|(i, f)| read(f, &format!("{path}.{k}[{i}]"), here, inner, terms))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if is_and {
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            })
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("not") => Ok(Filter::Not(Box::new(
            read(&o["not"], &format!("{path}.not"), Within::Not, deeper(1)?, terms)?,
        ))),
        Value::Object(o) if o.contains_key("field") => {
            let field_name = o["field"]
                .as_str()
                .ok_or_else(|| format!("{path}.field: must be a string"))?;
            let field = Field::parse(field_name).ok_or_else(|| {
                format!(
                    "{path}.field: unknown field {field_name:?}; known: {}, tag:TYPE",
                    Field::NAMES.join(", ")
                )
            })?;
            let op = match o.get("op") {
                None => Op::Eq,
                Some(op) => op
                    .as_str()
                    .and_then(Op::parse)
                    .ok_or_else(|| format!("{path}.op: must be one of =, !=, in, ~, !~"))?,
            };
            let values = match (o.get("value"), o.get("values")) {
                (Some(Value::String(s)), None) => {
                    count(terms, 1, path)?;
                    vec![s.clone()]
                }
                (None, Some(Value::Array(a))) => {
                    count(terms, a.len(), &format!("{path}.values"))?;
                    a.iter()
                        .map(|x| {
                            x.as_str()
                                .map(String::from)
                                .ok_or_else(|| format!("{path}.values: must be strings"))
                        })
                        .collect::<Result<_, _>>()?
                }
                _ => {
                    return Err(format!(
                        "{path}: give \"value\" (a string) or \"values\" (a list of strings)"
                    ))
                }
            };
            Comparison::new(field, op, values)
                .map(Filter::Cmp)
                .map_err(|m| format!("{path}: {m}"))
        }
        _ => Err(format!(
            "{path}: expected {{\"and\": [...]}}, {{\"or\": [...]}}, {{\"not\": ...}}, a comparison {{\"field\", \"op\", \"value\"}} or a text filter"
        )),
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Filter::from_json(&v).map_err(serde::de::Error::custom)
    }
}
