//! Extra fields per small class (表单构建): what a city asks about a class beyond the standard
//! report (a manhole's diameter, a billboard's owner), defined by an admin on the class, filled
//! on intake and on the case page, kept with the case and exported with it.
//!
//! A definition lives in the catalogue ([`crate::Category::fields`]); a case keeps the values
//! alone ([`crate::Case::fields`]), so a field an admin removes later stays readable on the
//! cases that have it. Values are checked here against the class's definitions; a photo
//! field's value names one of the case's attachments, which only the caller can check.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::InvalidInput;

/// At most this many extra fields per class: a form an inspector fills on a phone.
pub const MAX_FIELDS: usize = 20;
/// At most this many choices per choice field.
pub const MAX_CHOICES: usize = 50;
/// The longest text value.
pub const MAX_TEXT: usize = 500;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    /// One of the field's `choices`.
    Choice,
    /// A calendar day, `YYYY-MM-DD`.
    Date,
    /// One of the case's photos, by its attachment id.
    Photo,
}

impl FieldKind {
    pub const ALL: [FieldKind; 5] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Choice,
        FieldKind::Date,
        FieldKind::Photo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Choice => "choice",
            FieldKind::Date => "date",
            FieldKind::Photo => "photo",
        }
    }

    pub fn parse(text: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One extra field of a small class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraField {
    /// Its name in values and exports: `[a-z][a-z0-9_]{0,31}`, unique within the class.
    pub key: String,
    pub zh: String,
    pub en: String,
    pub kind: FieldKind,
    /// A case of the class is filed only once the field has a value.
    #[serde(default)]
    pub required: bool,
    /// The values a choice field takes, in the order offered; empty for other kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

impl ExtraField {
    /// The label in the language asked for (`en`, else Chinese).
    pub fn label(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.en
        } else {
            &self.zh
        }
    }
}

/// A value as a case keeps it: a number, or text (the text, the choice, the day as
/// `YYYY-MM-DD`, the photo's attachment id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Number(f64),
    Text(String),
}

impl FieldValue {
    /// As written in an export cell.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Number(n) => n.to_string(),
            FieldValue::Text(text) => text.clone(),
        }
    }
}

/// A case's values by field key.
pub type FieldValues = BTreeMap<String, FieldValue>;

/// Values to set, or (`None`) to clear, by field key.
pub type FieldChanges = BTreeMap<String, Option<FieldValue>>;

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Checks a class's definitions: at most [`MAX_FIELDS`], keys well formed and unique, labels
/// of 1 to 40 characters, choices (1 to [`MAX_CHOICES`], unique, 1 to 40 characters) on
/// choice fields and on no other.
pub fn check_definitions(fields: &[ExtraField]) -> Result<(), InvalidInput> {
    if fields.len() > MAX_FIELDS {
        return Err(InvalidInput::new(
            "fields",
            format!("a class has at most {MAX_FIELDS} extra fields"),
        ));
    }
    let mut keys = HashSet::new();
    for (i, field) in fields.iter().enumerate() {
        let at = |name: &str| format!("fields[{i}].{name}");
        if !is_key(&field.key) {
            return Err(InvalidInput::new(
                at("key"),
                "a field key is a lower-case letter, then up to 31 lower-case letters, digits or _",
            ));
        }
        if !keys.insert(field.key.as_str()) {
            return Err(InvalidInput::inconsistent(
                at("key"),
                format!("the key {} appears twice in the class", field.key),
            ));
        }
        for (name, label) in [("zh", &field.zh), ("en", &field.en)] {
            if label.trim().is_empty() || label.chars().count() > 40 {
                return Err(InvalidInput::new(
                    at(name),
                    "a label has 1 to 40 characters",
                ));
            }
        }
        match (field.kind, field.choices.len()) {
            (FieldKind::Choice, 0) => {
                return Err(InvalidInput::inconsistent(
                    at("choices"),
                    "a choice field lists the values it takes",
                ))
            }
            (FieldKind::Choice, n) if n > MAX_CHOICES => {
                return Err(InvalidInput::new(
                    at("choices"),
                    format!("a choice field has at most {MAX_CHOICES} choices"),
                ))
            }
            (FieldKind::Choice, _) => {
                let mut seen = HashSet::new();
                for choice in &field.choices {
                    if choice.trim().is_empty() || choice.chars().count() > 40 {
                        return Err(InvalidInput::new(
                            at("choices"),
                            "a choice has 1 to 40 characters",
                        ));
                    }
                    if !seen.insert(choice.as_str()) {
                        return Err(InvalidInput::inconsistent(
                            at("choices"),
                            format!("the choice {choice} appears twice"),
                        ));
                    }
                }
            }
            (_, 0) => {}
            (kind, _) => {
                return Err(InvalidInput::inconsistent(
                    at("choices"),
                    format!(
                        "only a choice field has choices, not a {} field",
                        kind.as_str()
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// A value as a client sent it, before it is read against its field: the domain does not
/// know the wire format, the API turns its JSON into these.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenValue {
    /// `null`: clear the field.
    Clear,
    Number(f64),
    Text(String),
    /// Anything else (a boolean, a list, an object).
    Other,
}

/// Reads values sent for a class with definitions `fields`: each key must be one of the
/// class's and each value of its kind. A [`GivenValue::Clear`] asks to clear the field
/// (`None`). Refusals name `fields.<key>`.
pub fn read_values(
    fields: &[ExtraField],
    given: &BTreeMap<String, GivenValue>,
) -> Result<FieldChanges, InvalidInput> {
    let mut values = BTreeMap::new();
    for (key, value) in given {
        let at = format!("fields.{key}");
        let field = fields.iter().find(|f| &f.key == key).ok_or_else(|| {
            InvalidInput::unknown(&at, format!("the class has no extra field {key}"))
        })?;
        let wrong = |what: &str| {
            InvalidInput::inconsistent(
                &at,
                format!("{key} is a {} field: {what}", field.kind.as_str()),
            )
        };
        let read = match (field.kind, value) {
            (_, GivenValue::Clear) => None,
            (FieldKind::Number, GivenValue::Number(n)) => Some(FieldValue::Number(
                Some(*n)
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| wrong("its value is a finite number"))?,
            )),
            (FieldKind::Number, _) => return Err(wrong("its value is a number")),
            (kind, GivenValue::Text(text)) => {
                let text = text.trim();
                let ok = match kind {
                    FieldKind::Text => !text.is_empty() && text.chars().count() <= MAX_TEXT,
                    FieldKind::Choice => field.choices.iter().any(|c| c == text),
                    FieldKind::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                    FieldKind::Photo => {
                        (1..=64).contains(&text.len())
                            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    }
                    FieldKind::Number => false,
                };
                if !ok {
                    return Err(wrong(match kind {
                        FieldKind::Text => "its value has 1 to 500 characters",
                        FieldKind::Choice => "its value is one of its choices",
                        FieldKind::Date => "its value is a day, YYYY-MM-DD",
                        FieldKind::Photo | FieldKind::Number => {
                            "its value is the id of one of the case's photos"
                        }
                    }));
                }
                Some(FieldValue::Text(text.to_owned()))
            }
            (_, _) => return Err(wrong("its value is a string")),
        };
        values.insert(key.clone(), read);
    }
    Ok(values)
}

/// `values` with `changes` applied: a value set, `None` cleared.
pub fn merged(values: &FieldValues, changes: &FieldChanges) -> FieldValues {
    let mut next = values.clone();
    for (key, change) in changes {
        match change {
            Some(value) => {
                next.insert(key.clone(), value.clone());
            }
            None => {
                next.remove(key);
            }
        }
    }
    next
}

/// The first required field of `fields` that `values` leave empty.
pub fn missing_required<'a>(
    fields: &'a [ExtraField],
    values: &FieldValues,
) -> Option<&'a ExtraField> {
    fields
        .iter()
        .find(|f| f.required && !values.contains_key(&f.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<ExtraField> {
        vec![
            ExtraField {
                key: "diameter_mm".into(),
                zh: "管径".into(),
                en: "Diameter".into(),
                kind: FieldKind::Number,
                required: true,
                choices: vec![],
            },
            ExtraField {
                key: "material".into(),
                zh: "材质".into(),
                en: "Material".into(),
                kind: FieldKind::Choice,
                required: false,
                choices: vec!["铸铁".into(), "复合".into()],
            },
            ExtraField {
                key: "installed".into(),
                zh: "安装日期".into(),
                en: "Installed".into(),
                kind: FieldKind::Date,
                required: false,
                choices: vec![],
            },
        ]
    }

    fn given(value: serde_json::Value) -> BTreeMap<String, GivenValue> {
        let serde_json::Value::Object(values) = value else {
            panic!("an object")
        };
        values
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::Null => GivenValue::Clear,
                    serde_json::Value::Number(n) => GivenValue::Number(n.as_f64().unwrap()),
                    serde_json::Value::String(text) => GivenValue::Text(text),
                    _ => GivenValue::Other,
                };
                (key, value)
            })
            .collect()
    }

    #[test]
    fn every_kind_round_trips_its_name() {
        for kind in FieldKind::ALL {
            assert_eq!(FieldKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn values_of_the_right_kind_are_read_and_others_named() {
        let read = read_values(
            &defs(),
            &given(json!({"diameter_mm": 600, "material": "铸铁", "installed": "2019-05-01"})),
        )
        .unwrap();
        assert_eq!(read["diameter_mm"], Some(FieldValue::Number(600.0)));
        assert_eq!(read["material"], Some(FieldValue::Text("铸铁".into())));
        for (bad, field) in [
            (json!({"diameter_mm": "600"}), "fields.diameter_mm"),
            (json!({"material": "木"}), "fields.material"),
            (json!({"installed": "2019-13-01"}), "fields.installed"),
            (json!({"colour": "red"}), "fields.colour"),
        ] {
            assert_eq!(read_values(&defs(), &given(bad)).unwrap_err().field, field);
        }
        let cleared = read_values(&defs(), &given(json!({"material": null}))).unwrap();
        assert_eq!(cleared["material"], None);
    }

    #[test]
    fn a_required_field_is_missing_until_set_and_after_it_is_cleared() {
        let defs = defs();
        let empty = FieldValues::new();
        assert_eq!(missing_required(&defs, &empty).unwrap().key, "diameter_mm");
        let set = merged(
            &empty,
            &read_values(&defs, &given(json!({"diameter_mm": 700}))).unwrap(),
        );
        assert!(missing_required(&defs, &set).is_none());
        let cleared = merged(
            &set,
            &read_values(&defs, &given(json!({"diameter_mm": null}))).unwrap(),
        );
        assert!(missing_required(&defs, &cleared).is_some());
    }

    #[test]
    fn definitions_are_checked() {
        assert!(check_definitions(&defs()).is_ok());
        let mut twice = defs();
        twice[1].key = "diameter_mm".into();
        assert_eq!(
            check_definitions(&twice).unwrap_err().field,
            "fields[1].key"
        );
        let mut no_choices = defs();
        no_choices[1].choices.clear();
        assert_eq!(
            check_definitions(&no_choices).unwrap_err().field,
            "fields[1].choices"
        );
        let mut stray = defs();
        stray[0].choices = vec!["a".into()];
        assert_eq!(
            check_definitions(&stray).unwrap_err().field,
            "fields[0].choices"
        );
        let mut bad_key = defs();
        bad_key[2].key = "Installed".into();
        assert_eq!(
            check_definitions(&bad_key).unwrap_err().field,
            "fields[2].key"
        );
    }
}
