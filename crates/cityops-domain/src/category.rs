//! The standard component (部件) and event (事件) classification.
//!
//! Codes are `[T][BB][SS]`: T = 1 component, 2 event; BB big class; SS small class. The
//! catalogue is versioned data (`data/categories/categories.toml`) a city may edit; every
//! small class carries the default deadlines of its stages and its urgency.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::calendar::WorkingCalendar;
use crate::case::Stage;
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

/// How a stage's time limit is counted: natural time, or the city's working time (its
/// working hours on its working days, holidays and make-up days included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermUnit {
    /// Minutes of natural time.
    Minutes,
    /// Hours of natural time (连续小时).
    Hours,
    /// Hours of working time (工作小时).
    WorkingHours,
    /// Working days (工作日): to the end of that many working days after the day the stage
    /// starts (the start day does not count, as for periods in days in Chinese law).
    WorkingDays,
}

impl TermUnit {
    pub const ALL: [TermUnit; 4] = [
        TermUnit::Minutes,
        TermUnit::Hours,
        TermUnit::WorkingHours,
        TermUnit::WorkingDays,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TermUnit::Minutes => "minutes",
            TermUnit::Hours => "hours",
            TermUnit::WorkingHours => "working_hours",
            TermUnit::WorkingDays => "working_days",
        }
    }

    pub fn parse(text: &str) -> Option<TermUnit> {
        TermUnit::ALL.into_iter().find(|u| u.as_str() == text)
    }

    /// The most of this unit a term may be: about one year.
    fn most(self) -> u32 {
        match self {
            TermUnit::Minutes => 525_600,
            TermUnit::Hours | TermUnit::WorkingHours => 8_760,
            TermUnit::WorkingDays => 366,
        }
    }
}

/// A stage's time limit: `amount` of `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub amount: u32,
    pub unit: TermUnit,
}

impl Term {
    pub fn minutes(amount: u32) -> Term {
        Term {
            amount,
            unit: TermUnit::Minutes,
        }
    }

    pub fn check(self, field: &str) -> Result<Term, InvalidInput> {
        let most = self.unit.most();
        if self.amount == 0 || self.amount > TermUnit::Minutes.most() {
            return Err(InvalidInput::new(
                field,
                format!(
                    "a term is 1 to {} (a year of minutes)",
                    TermUnit::Minutes.most()
                ),
            ));
        }
        // Within a year of minutes, the limit depends on the unit: a rule across two fields.
        if self.amount > most {
            return Err(InvalidInput::inconsistent(
                field,
                format!(
                    "a term in {} is 1 to {most} (about a year)",
                    self.unit.as_str()
                ),
            ));
        }
        Ok(self)
    }

    /// The term's length in natural minutes, a working hour as an hour and a working day as
    /// a day: a yardstick to order terms of different units by, not a deadline.
    pub fn natural_minutes(self) -> u64 {
        let amount = u64::from(self.amount);
        match self.unit {
            TermUnit::Minutes => amount,
            TermUnit::Hours | TermUnit::WorkingHours => amount * 60,
            TermUnit::WorkingDays => amount * 1440,
        }
    }

    /// Whether the term runs on the working calendar; `continuous` (an urgent class or
    /// case) makes every term run on natural time, a working hour counted as an hour and a
    /// working day as a day.
    pub fn on_working_time(self, continuous: bool) -> bool {
        !continuous && matches!(self.unit, TermUnit::WorkingHours | TermUnit::WorkingDays)
    }

    /// When the term ends if it starts at `start`.
    pub fn deadline(
        self,
        start: DateTime<Utc>,
        calendar: &WorkingCalendar,
        continuous: bool,
    ) -> DateTime<Utc> {
        let amount = i64::from(self.amount);
        let natural = |d: Duration| start.checked_add_signed(d).unwrap_or(start);
        match (self.unit, continuous) {
            (TermUnit::Minutes, _) => natural(Duration::minutes(amount)),
            (TermUnit::Hours, _) | (TermUnit::WorkingHours, true) => {
                natural(Duration::hours(amount))
            }
            (TermUnit::WorkingDays, true) => natural(Duration::days(amount)),
            (TermUnit::WorkingHours, false) => {
                calendar.add_working_duration(start, self.amount.saturating_mul(60))
            }
            (TermUnit::WorkingDays, false) => calendar.add_working_days(start, self.amount),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.amount,
            self.unit.as_str().replace('_', " ")
        )
    }
}

/// The time limit of each stage a class's case passes once filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredTerms")]
pub struct StageTerms {
    /// Filing to dispatch.
    pub dispatch: Term,
    /// Signing for the case to the unit's feedback.
    pub handling: Term,
    /// Sending to check to the field check.
    pub check: Term,
    /// The start of the call-back to the caller reached (hotline cases).
    pub callback: Term,
}

/// What catalogues and filed cases hold: a term per stage, or, from before terms had
/// units, `*_minutes` of natural time, which they keep (a case filed then keeps its terms).
#[derive(Deserialize)]
struct StoredTerms {
    dispatch: Option<Term>,
    handling: Option<Term>,
    check: Option<Term>,
    callback: Option<Term>,
    dispatch_minutes: Option<u32>,
    handling_minutes: Option<u32>,
    check_minutes: Option<u32>,
    callback_minutes: Option<u32>,
}

impl From<StoredTerms> for StageTerms {
    fn from(s: StoredTerms) -> StageTerms {
        let term = |term: Option<Term>, minutes: Option<u32>, default: Term| {
            term.or(minutes.map(Term::minutes)).unwrap_or(default)
        };
        StageTerms {
            dispatch: term(s.dispatch, s.dispatch_minutes, Term::minutes(60)),
            handling: term(s.handling, s.handling_minutes, Term::minutes(1440)),
            check: term(s.check, s.check_minutes, Term::minutes(120)),
            callback: term(s.callback, s.callback_minutes, StageTerms::DEFAULT_CALLBACK),
        }
    }
}

/// The terms of the stages before a case has a class, and of closing it: the city's, not a
/// class's. A case copies them when it is reported and keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeTerms {
    /// Reported to accepted (or rejected).
    pub accept: Term,
    /// Sent for verification to verified on site.
    pub verify: Term,
    /// Accepted (and verified) to filed.
    pub file: Term,
    /// Checked (and called back) to closed.
    pub close: Term,
}

impl Default for IntakeTerms {
    fn default() -> IntakeTerms {
        let working_hours = |amount| Term {
            amount,
            unit: TermUnit::WorkingHours,
        };
        IntakeTerms {
            accept: working_hours(1),
            verify: working_hours(2),
            file: working_hours(1),
            close: Term {
                amount: 1,
                unit: TermUnit::WorkingDays,
            },
        }
    }
}

impl IntakeTerms {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        self.accept.check("accept")?;
        self.verify.check("verify")?;
        self.file.check("file")?;
        self.close.check("close")?;
        Ok(())
    }
}

impl StageTerms {
    /// One working day: the call-back term when a class states none.
    pub const DEFAULT_CALLBACK: Term = Term {
        amount: 1,
        unit: TermUnit::WorkingDays,
    };

    pub fn validate(&self) -> Result<(), InvalidInput> {
        self.dispatch.check("dispatch")?;
        self.handling.check("handling")?;
        self.check.check("check")?;
        self.callback.check("callback")?;
        Ok(())
    }

    /// The term of a stage, when a class gives it (see [`IntakeTerms`] for the others).
    pub fn of(&self, stage: Stage) -> Option<Term> {
        match stage {
            Stage::Dispatch => Some(self.dispatch),
            Stage::Handling => Some(self.handling),
            Stage::Check => Some(self.check),
            Stage::Callback => Some(self.callback),
            Stage::Accept | Stage::Verify | Stage::File | Stage::Close => None,
        }
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
    /// What the city asks about the class beyond the standard report (表单构建).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::form::ExtraField>,
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
            crate::form::check_definitions(&class.fields)
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
