//! The standard component (部件) and event (事件) classification.
//!
//! Codes are `[T][BB][SS]`: T = 1 component, 2 event; BB big class; SS small class. The
//! catalogue is versioned data (`data/categories/categories.toml`) a city may edit; every
//! small class carries the default deadlines of its stages and its urgency.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::unit::UnitKind;
use crate::InvalidInput;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub fn parse(text: &str) -> Result<CategoryCode, InvalidInput> {
        let digits = text.len() == 5 && text.bytes().all(|b| b.is_ascii_digit());
        if !digits || !matches!(&text[..1], "1" | "2") {
            return Err(InvalidInput::new(
                "category",
                format!("'{text}' is not a small-class code: expected 5 digits, the first 1 (component) or 2 (event), e.g. 10101 or 20406"),
            ));
        }
        Ok(CategoryCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> CategoryKind {
        if self.0.starts_with('1') {
            CategoryKind::Component
        } else {
            CategoryKind::Event
        }
    }

    pub fn big_class(&self) -> &str {
        &self.0[..3]
    }
}

impl fmt::Display for CategoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CategoryCode {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CategoryCode::parse(&value)
    }
}

impl From<CategoryCode> for String {
    fn from(value: CategoryCode) -> String {
        value.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    Component,
    Event,
}

impl CategoryKind {
    pub const ALL: [CategoryKind; 2] = [CategoryKind::Component, CategoryKind::Event];

    pub fn as_str(self) -> &'static str {
        match self {
            CategoryKind::Component => "component",
            CategoryKind::Event => "event",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Normal,
    Urgent,
}

impl Urgency {
    pub const ALL: [Urgency; 2] = [Urgency::Normal, Urgency::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| u.as_str() == text)
    }
}

/// The time allowed for each stage, in minutes of natural time (the working calendar
/// comes later and will reinterpret these numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTerms {
    pub dispatch_minutes: u32,
    pub handling_minutes: u32,
    pub check_minutes: u32,
    /// The time to reach a hotline caller once the call-back starts. Classes and filed
    /// cases from before call-backs had a clock take the default.
    #[serde(default = "StageTerms::default_callback_minutes")]
    pub callback_minutes: u32,
}

impl StageTerms {
    /// One day: the call-back term when a class states none.
    pub const DEFAULT_CALLBACK_MINUTES: u32 = 1440;

    fn default_callback_minutes() -> u32 {
        StageTerms::DEFAULT_CALLBACK_MINUTES
    }

    pub fn validate(&self) -> Result<(), InvalidInput> {
        for (field, minutes) in [
            ("dispatch_minutes", self.dispatch_minutes),
            ("handling_minutes", self.handling_minutes),
            ("check_minutes", self.check_minutes),
            ("callback_minutes", self.callback_minutes),
        ] {
            if minutes == 0 || minutes > 525_600 {
                return Err(InvalidInput::new(
                    field,
                    "must be between 1 minute and 525600 (one year)",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BigClass {
    pub kind: CategoryKind,
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: CategoryCode,
    pub zh: String,
    pub en: String,
    pub urgency: Urgency,
    #[serde(flatten)]
    pub terms: StageTerms,
    pub unit_kind: UnitKind,
}

impl Category {
    pub fn kind(&self) -> CategoryKind {
        self.code.kind()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCatalog {
    pub version: String,
    pub big: Vec<BigClass>,
    pub small: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalogue is not valid TOML of the expected shape: {0}")]
    Syntax(String),
    #[error("small class {code}: {reason}")]
    BadClass { code: String, reason: String },
}

const DEFAULT_CATALOG: &str = include_str!("../../../data/categories/categories.toml");

impl CategoryCatalog {
    pub fn parse_toml(text: &str) -> Result<CategoryCatalog, CatalogError> {
        let catalog: CategoryCatalog =
            toml::from_str(text).map_err(|e| CatalogError::Syntax(e.to_string()))?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// The shipped default catalogue. It is checked by a test, so this cannot fail at run time.
    pub fn shipped() -> CategoryCatalog {
        CategoryCatalog::parse_toml(DEFAULT_CATALOG).expect("the shipped catalogue is valid")
    }

    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = std::collections::HashSet::new();
        for class in &self.small {
            let bad = |reason: &str| CatalogError::BadClass {
                code: class.code.to_string(),
                reason: reason.to_owned(),
            };
            if !seen.insert(class.code.clone()) {
                return Err(bad("appears twice"));
            }
            if !self.big.iter().any(|b| b.code == class.code.big_class()) {
                return Err(bad("its big class is not in the catalogue"));
            }
            class
                .terms
                .validate()
                .map_err(|e| bad(&format!("{}: {}", e.field, e.reason)))?;
        }
        Ok(())
    }

    pub fn get(&self, code: &CategoryCode) -> Option<&Category> {
        self.small.iter().find(|c| &c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_and_urgencies_are_listed() {
        // Exhaustive: a new kind or urgency does not compile until it has its place in the
        // sequence, and then this fails until `ALL` lists it there too.
        let next_kind = |kind: CategoryKind| match kind {
            CategoryKind::Component => Some(CategoryKind::Event),
            CategoryKind::Event => None,
        };
        let kinds: Vec<CategoryKind> =
            std::iter::successors(Some(CategoryKind::Component), |k| next_kind(*k)).collect();
        assert_eq!(kinds, CategoryKind::ALL);
        let next_urgency = |urgency: Urgency| match urgency {
            Urgency::Normal => Some(Urgency::Urgent),
            Urgency::Urgent => None,
        };
        let urgencies: Vec<Urgency> =
            std::iter::successors(Some(Urgency::Normal), |u| next_urgency(*u)).collect();
        assert_eq!(urgencies, Urgency::ALL);
        for urgency in Urgency::ALL {
            assert_eq!(Urgency::parse(urgency.as_str()), Some(urgency));
        }
    }

    #[test]
    fn the_shipped_catalogue_parses_and_covers_both_kinds() {
        let catalog = CategoryCatalog::shipped();
        assert!(catalog.small.len() > 100);
        let cover = catalog.get(&CategoryCode::parse("10101").unwrap()).unwrap();
        assert_eq!(cover.zh, "上水井盖");
        let flooding = catalog.get(&CategoryCode::parse("20406").unwrap()).unwrap();
        assert_eq!(flooding.kind(), CategoryKind::Event);
        assert_eq!(flooding.urgency, Urgency::Urgent);
    }

    #[test]
    fn category_codes_are_five_digits_of_a_known_type() {
        assert!(CategoryCode::parse("10101").is_ok());
        assert!(CategoryCode::parse("30101").is_err());
        assert!(CategoryCode::parse("1010").is_err());
    }
}
