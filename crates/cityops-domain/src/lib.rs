//! The CityOps domain: areas, units, categories, actors, cases and the case workflow.
//!
//! This crate is pure. It never touches a file, a socket, a clock or a database: callers pass
//! in the time, the actor and the data they loaded, and get back values or typed errors. That
//! is what lets the workflow be property-tested and replayed from its timeline.

pub mod actor;
pub mod appeal;
pub mod area;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod category;
pub mod classify;
pub mod command;
pub mod component;
pub mod csv_file;
pub mod duplicates;
pub mod emergency;
pub mod evaluation;
pub mod form;
pub mod knowledge;
pub mod patrol;
pub mod personal_text;
pub mod routing;
pub mod stats;
pub mod telemetry;
pub mod unit;
pub mod watch;
pub mod workflow;

pub use actor::{Actor, Role};
pub use area::{Area, AreaCode, AreaLevel};
pub use calendar::{CalendarDay, CalendarError, HolidayYear, WorkingCalendar, WorkingHours};
pub use case::{
    mask_name, mask_phone, AssistPart, AssistState, Call, CallbackOutcome, CallbackProgress, Case,
    CaseNumber, CaseState, ClockChange, ClockReason, DeadlineMark, FiledClass, GridInspector,
    Location, MergeLink, MergedReport, PendingRequest, Rating, RejectReason, Reporter,
    Satisfaction, Source, Stage, TicketKind, TimeLeft, TimelineEvent,
};
pub use category::{
    Category, CategoryCatalog, CategoryCode, CategoryKind, IntakeTerms, StageTerms, Term, TermUnit,
    Urgency,
};
pub use command::{Channel, CommandKind};
pub use component::{Component, ComponentStatus, ComponentUnits};
pub use personal_text::{mask_personal_text, normalize_phone, phone_key, scrub_subject};
pub use unit::{Organization, Retirement, Unit, UnitContacts, UnitKind};
pub use workflow::{
    decide, decide_on, merge_on, report, report_on, unmerge_on, CaseCommand, Clock, NewReport,
    PairedChange, WorkflowError,
};

/// A value in a domain constructor was not acceptable. `field` names the offending input
/// the way the API spells it, so the HTTP layer can point the user at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: String,
    pub reason: String,
    pub fault: InputFault,
}

/// What kind of rule refused an input. The API tells them apart because a client can check
/// only the first against the published schema before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFault {
    /// The value itself: its form, length or range.
    Value,
    /// It names something (an indicator, an area, a unit) that does not exist.
    UnknownReference,
    /// Each value is fine, but it does not go with another field (`clear` above `value`).
    Inconsistent,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidInput {
            field: field.into(),
            reason: reason.into(),
            fault: InputFault::Value,
        }
    }

    pub fn unknown(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidInput {
            fault: InputFault::UnknownReference,
            ..InvalidInput::new(field, reason)
        }
    }

    pub fn inconsistent(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidInput {
            fault: InputFault::Inconsistent,
            ..InvalidInput::new(field, reason)
        }
    }
}
