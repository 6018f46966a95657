//! The case workflow as a pure state machine.
//!
//! [`decide`] takes a case, a command and the actor issuing it, and returns the new case and
//! the timeline event recording the change, or a [`WorkflowError`] saying why not. It is
//! split in two on purpose: [`authorize`] (may this actor issue this command on this case?)
//! and [`apply`] (what does the command do to the case?). Replaying a timeline runs only
//! `apply`, because the authority was checked when the command was first accepted.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::area::AreaCode;
use crate::calendar::{WorkingCalendar, WorkingHours};
use crate::case::{
    CallbackOutcome, CallbackProgress, Case, CaseNumber, CaseState, ClockChange, ClockReason,
    FiledClass, Location, MergeLink, MergedReport, PendingRequest, Rating, RejectReason, Reporter,
    Satisfaction, Source, Stage, TimelineEvent,
};
use crate::category::{CategoryCode, IntakeTerms, Urgency};
pub use crate::command::{
    happy_path, happy_path_to, next_happy_step, Channel, CommandKind, CommandRule, Step,
};
use crate::form::{FieldChanges, FieldValue, FieldValues};
use crate::InvalidInput;

const MAX_TEXT: usize = 2000;
const MAX_REASON: usize = 500;
/// The reply owed to a caller: a sentence or two, as the hotline's ticket field holds.
const MAX_REPLY_OWED: usize = 500;

/// Failed call-back attempts before a case closes as unreachable, when a timeline recorded
/// none (call-backs started before the policy existed) and by default.
pub const DEFAULT_CALLBACK_ATTEMPTS: u32 = 3;
/// The most failed attempts a call-back policy may allow.
pub const MAX_CALLBACK_ATTEMPTS: u32 = 10;

fn default_callback_attempts() -> u32 {
    DEFAULT_CALLBACK_ATTEMPTS
}

/// When a command is decided, and the working calendar that working-time terms run on.
#[derive(Debug, Clone, Copy)]
pub struct Clock<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a WorkingCalendar,
    /// The city's terms of the stages before filing and of closing, which a new report
    /// copies.
    pub intake: IntakeTerms,
    /// The share of a stage's time after which it is yellow (临期).
    pub warning_share: f64,
}

/// The share of a stage's time after which it is yellow, unless the city sets its own.
pub const DEFAULT_WARNING_SHARE: f64 = 0.75;

static PLAIN_WEEK: std::sync::LazyLock<WorkingCalendar> =
    std::sync::LazyLock::new(|| WorkingCalendar::new(WorkingHours::default(), []));

impl<'a> Clock<'a> {
    pub fn new(now: DateTime<Utc>, calendar: &'a WorkingCalendar) -> Clock<'a> {
        Clock {
            now,
            calendar,
            intake: IntakeTerms::default(),
            warning_share: DEFAULT_WARNING_SHARE,
        }
    }

    /// The clock with the city's own share for yellow.
    pub fn with_warning_share(self, warning_share: f64) -> Clock<'a> {
        Clock {
            warning_share,
            ..self
        }
    }

    /// The clock with the city's own intake terms.
    pub fn with_intake(self, intake: IntakeTerms) -> Clock<'a> {
        Clock { intake, ..self }
    }
}

impl Clock<'static> {
    /// A calendar of plain weeks (weekends off, no holidays, the default working hours), for
    /// tools and tests that have no city calendar.
    pub fn plain_week(now: DateTime<Utc>) -> Clock<'static> {
        Clock::new(now, &PLAIN_WEEK)
    }
}

/// What a reporter supplies for a new case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub source: Source,
    pub description: String,
    pub address: Option<String>,
    pub location: Location,
    /// How far off `location` may be, in metres, when a phone's GPS gave it (the radius the
    /// Geolocation API reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_accuracy_m: Option<f32>,
    pub area: AreaCode,
    pub category_hint: Option<CategoryCode>,
    pub component_id: Option<String>,
    #[serde(default)]
    pub reporter: Option<Reporter>,
    #[serde(default)]
    pub unit_grid: Option<String>,
    /// The id of the 12345 hotline ticket the report came as (hotline reports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotline_ticket: Option<String>,
    /// The city's terms of the stages before filing and of closing, set from the clock when
    /// the report is decided (whatever the reporter sent) and kept with the case (boxed: every
    /// command is as large as the largest, and a report is the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_terms: Option<Box<IntakeTerms>>,
    /// The inspector (网格监督员) assigned to the responsibility grid the report lies in, set
    /// by the caller from the assignments when the report is taken: its verification and
    /// check go to them, and a problem they did not report themselves is one they missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_inspector: Option<Box<crate::case::GridInspector>>,
    /// The kind of call and the reply owed, for a hotline or department report (boxed: most
    /// reports have none, and every command is as large as the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<crate::case::Call>>,
    /// The values of the class's extra fields given with the report, checked by the caller
    /// against the class of `category_hint`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: FieldValues,
}

/// Every command of the workflow, in the domain's words. The wire form of a command is the
/// same JSON with the command name given by the URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CaseCommand {
    Report(NewReport),
    Accept {
        opinion: Option<String>,
    },
    Reject {
        reason: RejectReason,
        duplicate_of: Option<String>,
        opinion: Option<String>,
    },
    RequestVerification {
        opinion: Option<String>,
    },
    Verify {
        exists: bool,
        opinion: Option<String>,
    },
    File {
        class: FiledClass,
        opinion: Option<String>,
        /// Extra fields set (or, `None`, cleared) with the filing, checked by the caller
        /// against the class; the class's required fields must all have values after them.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        fields: FieldChanges,
    },
    SelfHandle {
        opinion: String,
    },
    Dispatch {
        unit: String,
        unit_jurisdiction: AreaCode,
        opinion: Option<String>,
    },
    Sign,
    Return {
        reason: String,
    },
    /// A dispatcher names an assisting unit (协办) beside the lead: it gets a part of its own.
    Assist {
        unit: String,
        unit_jurisdiction: AreaCode,
        opinion: Option<String>,
    },
    /// The assisting unit signs for its part; its deadline starts. The workflow records the
    /// deadline it reckoned, so that replaying the timeline never reckons it again.
    SignAssist {
        unit: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// The assisting unit feeds back its part: done.
    AssistFeedback {
        unit: String,
        opinion: String,
    },
    /// The assisting unit returns its part: not theirs.
    ReturnAssist {
        unit: String,
        reason: String,
    },
    /// The dispatcher takes an assisting unit's open part back: not needed.
    ReleaseAssist {
        unit: String,
        reason: String,
    },
    RequestExtension {
        until: DateTime<Utc>,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        opinion: Option<String>,
    },
    RequestPark {
        reason: String,
    },
    DecidePark {
        approve: bool,
        opinion: Option<String>,
    },
    Resume {
        opinion: Option<String>,
    },
    Feedback {
        opinion: String,
        attachments: Vec<String>,
    },
    SendCheck {
        opinion: Option<String>,
    },
    Check {
        passed: bool,
        opinion: Option<String>,
    },
    /// Starts the call-back clock. `attempts_allowed` is the city's policy when it starts,
    /// kept with the case so a later change of policy never rewrites a running call-back.
    StartCallback {
        #[serde(default = "default_callback_attempts")]
        attempts_allowed: u32,
    },
    /// One call-back attempt. Timelines from before attempts were told apart hold only
    /// `satisfied: bool`, which reads as a reached caller's satisfaction.
    Callback {
        #[serde(default)]
        outcome: CallbackOutcome,
        #[serde(default, alias = "satisfied")]
        satisfaction: Option<Satisfaction>,
        opinion: Option<String>,
        /// The merged report whose caller was called: a master calls back the callers of the
        /// hotline reports merged into it too. None for the case's own caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        report: Option<String>,
    },
    Close {
        opinion: Option<String>,
    },
    Cancel {
        reason: String,
    },
    SetUrgent {
        urgent: bool,
    },
    /// A leader's supervision notice (督办单); the unit's feedback answers it, within `term`
    /// when one is set.
    Supervise {
        opinion: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<crate::category::Term>,
        /// The answer's deadline as reckoned from `term` on the calendar of the day; the
        /// workflow records it so that replaying the timeline never reckons it again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// What the overdue watch found: yellow, red, an escalation step, or a supervision notice
    /// gone unanswered. Issued by the system only.
    Watch {
        #[serde(flatten)]
        finding: crate::watch::WatchFinding,
    },
    /// Sends a filed case up to the next-level center's coordination queue: responsibility is
    /// unclear or spans areas. `to` is that center's area (see [`escalation_target`]).
    Escalate {
        to: AreaCode,
        reason: String,
    },
    Attach {
        attachment_id: String,
    },
    Rate {
        score: u8,
        comment: Option<String>,
    },
    /// Extra fields of the case's class set or (`None`) cleared, checked by the caller.
    SetFields {
        fields: FieldChanges,
    },
    /// A note on the timeline that changes nothing else, e.g. "the alarm cleared".
    Note {
        text: String,
    },
    /// The reporter's personal data is erased from a finished case (the citizen asked, or
    /// retention ran out): their contact, and their name and number wherever the texts of the
    /// case hold them. The event says that it happened and why, never what was erased.
    ErasePersonalData {
        reason: String,
    },
    /// The case is placed anew after the city imported new boundaries: the area its point
    /// now lies in and the unit grid under it. Within its district only, since the district
    /// numbers the case and names the center that answers for it.
    Relocate {
        area: AreaCode,
        unit_grid: Option<String>,
        reason: String,
    },
    /// The case's unit was retired and `unit`, its successor, takes the case over where it
    /// stands: the state and deadlines stay, only who answers for it changes. With `from`,
    /// the retired unit is that one: the lead, or an assisting unit whose open part the
    /// successor takes over (or which is released, when the successor already has a part or
    /// leads).
    Reassign {
        unit: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// The report is merged into `master`, a case that reported the same problem first:
    /// the master's handling answers it. Issued on the report; [`merge_on`] writes the
    /// master's [`CaseCommand::TakeReport`] with it. `master_id` is filled in by the caller
    /// from the master it found by number.
    Merge {
        master: String,
        #[serde(default)]
        master_id: String,
        opinion: Option<String>,
    },
    /// A shift lead undoes a merge: the report returns to the state it was merged from.
    /// [`unmerge_on`] writes the master's [`CaseCommand::ReleaseReport`] with it.
    Unmerge {
        reason: String,
    },
    /// The master's side of a merge: `report` (a number) is now answered by this case.
    TakeReport {
        report: String,
        report_id: String,
        source: Source,
    },
    /// The master's side of an undone merge.
    ReleaseReport {
        report: String,
        report_id: String,
        reason: String,
    },
    /// A unit's appeal (申诉) against what the case counted against it in the evaluation.
    Appeal {
        ground: crate::appeal::AppealGround,
        /// The appealing unit: the unit handler's own.
        unit: String,
        reason: String,
    },
    /// An evaluator's decision on appeal number `appeal`; an accepted one takes the count
    /// back (see [`crate::appeal::AppealGround::changes`]).
    DecideAppeal {
        appeal: u32,
        accepted: bool,
        opinion: String,
    },
}

impl CaseCommand {
    /// The kind of this command: what names, authorizes and offers it.
    pub fn kind(&self) -> CommandKind {
        match self {
            CaseCommand::Report(_) => CommandKind::Report,
            CaseCommand::Accept { .. } => CommandKind::Accept,
            CaseCommand::Reject { .. } => CommandKind::Reject,
            CaseCommand::RequestVerification { .. } => CommandKind::RequestVerification,
            CaseCommand::Verify { .. } => CommandKind::Verify,
            CaseCommand::File { .. } => CommandKind::File,
            CaseCommand::SelfHandle { .. } => CommandKind::SelfHandle,
            CaseCommand::Dispatch { .. } => CommandKind::Dispatch,
            CaseCommand::Sign => CommandKind::Sign,
            CaseCommand::Return { .. } => CommandKind::Return,
            CaseCommand::Assist { .. } => CommandKind::Assist,
            CaseCommand::SignAssist { .. } => CommandKind::SignAssist,
            CaseCommand::AssistFeedback { .. } => CommandKind::AssistFeedback,
            CaseCommand::ReturnAssist { .. } => CommandKind::ReturnAssist,
            CaseCommand::ReleaseAssist { .. } => CommandKind::ReleaseAssist,
            CaseCommand::RequestExtension { .. } => CommandKind::RequestExtension,
            CaseCommand::DecideExtension { .. } => CommandKind::DecideExtension,
            CaseCommand::RequestPark { .. } => CommandKind::RequestPark,
            CaseCommand::DecidePark { .. } => CommandKind::DecidePark,
            CaseCommand::Resume { .. } => CommandKind::Resume,
            CaseCommand::Feedback { .. } => CommandKind::Feedback,
            CaseCommand::SendCheck { .. } => CommandKind::SendCheck,
            CaseCommand::Check { .. } => CommandKind::Check,
            CaseCommand::StartCallback { .. } => CommandKind::StartCallback,
            CaseCommand::Callback { .. } => CommandKind::Callback,
            CaseCommand::Close { .. } => CommandKind::Close,
            CaseCommand::Cancel { .. } => CommandKind::Cancel,
            CaseCommand::SetUrgent { .. } => CommandKind::SetUrgent,
            CaseCommand::Supervise { .. } => CommandKind::Supervise,
            CaseCommand::Watch { .. } => CommandKind::Watch,
            CaseCommand::Escalate { .. } => CommandKind::Escalate,
            CaseCommand::Attach { .. } => CommandKind::Attach,
            CaseCommand::Rate { .. } => CommandKind::Rate,
            CaseCommand::Note { .. } => CommandKind::Note,
            CaseCommand::SetFields { .. } => CommandKind::SetFields,
            CaseCommand::ErasePersonalData { .. } => CommandKind::ErasePersonalData,
            CaseCommand::Relocate { .. } => CommandKind::Relocate,
            CaseCommand::Reassign { .. } => CommandKind::Reassign,
            CaseCommand::Merge { .. } => CommandKind::Merge,
            CaseCommand::Unmerge { .. } => CommandKind::Unmerge,
            CaseCommand::TakeReport { .. } => CommandKind::TakeReport,
            CaseCommand::ReleaseReport { .. } => CommandKind::ReleaseReport,
            CaseCommand::Appeal { .. } => CommandKind::Appeal,
            CaseCommand::DecideAppeal { .. } => CommandKind::DecideAppeal,
        }
    }

    /// The free texts of the command that people write into (descriptions, opinions,
    /// reasons, comments), by the field name the API uses. Exhaustive, so a new command's
    /// texts are masked like the others.
    pub fn texts_mut(&mut self) -> Vec<(Cow<'static, str>, &mut String)> {
        let mut texts: Vec<(Cow<'static, str>, &mut String)> = Vec::new();
        match self {
            CaseCommand::Report(report) => {
                texts.push(("description".into(), &mut report.description));
                if let Some(reply) = report.call.as_mut().and_then(|c| c.reply_owed.as_mut()) {
                    texts.push(("call.reply_owed".into(), reply));
                }
                texts.extend(field_texts(
                    report.fields.iter_mut().map(|(k, v)| (k, Some(v))),
                ));
            }
            CaseCommand::File {
                opinion, fields, ..
            } => {
                if let Some(opinion) = opinion {
                    texts.push(("opinion".into(), opinion));
                }
                texts.extend(field_texts(fields.iter_mut().map(|(k, v)| (k, v.as_mut()))));
            }
            CaseCommand::SetFields { fields } => {
                texts.extend(field_texts(fields.iter_mut().map(|(k, v)| (k, v.as_mut()))));
            }
            CaseCommand::Accept { opinion }
            | CaseCommand::Reject { opinion, .. }
            | CaseCommand::RequestVerification { opinion }
            | CaseCommand::Verify { opinion, .. }
            | CaseCommand::Dispatch { opinion, .. }
            | CaseCommand::Assist { opinion, .. }
            | CaseCommand::DecideExtension { opinion, .. }
            | CaseCommand::DecidePark { opinion, .. }
            | CaseCommand::Resume { opinion }
            | CaseCommand::SendCheck { opinion }
            | CaseCommand::Check { opinion, .. }
            | CaseCommand::Callback { opinion, .. }
            | CaseCommand::Merge { opinion, .. }
            | CaseCommand::Close { opinion } => {
                if let Some(opinion) = opinion {
                    texts.push(("opinion".into(), opinion));
                }
            }
            CaseCommand::SelfHandle { opinion }
            | CaseCommand::Feedback { opinion, .. }
            | CaseCommand::AssistFeedback { opinion, .. }
            | CaseCommand::Supervise { opinion, .. }
            | CaseCommand::DecideAppeal { opinion, .. } => texts.push(("opinion".into(), opinion)),
            CaseCommand::Return { reason }
            | CaseCommand::ReturnAssist { reason, .. }
            | CaseCommand::ReleaseAssist { reason, .. }
            | CaseCommand::RequestExtension { reason, .. }
            | CaseCommand::RequestPark { reason }
            | CaseCommand::Cancel { reason }
            | CaseCommand::Escalate { reason, .. }
            | CaseCommand::ErasePersonalData { reason }
            | CaseCommand::Relocate { reason, .. }
            | CaseCommand::Reassign { reason, .. }
            | CaseCommand::Unmerge { reason }
            | CaseCommand::ReleaseReport { reason, .. }
            | CaseCommand::Appeal { reason, .. } => texts.push(("reason".into(), reason)),
            CaseCommand::Rate { comment, .. } => {
                if let Some(comment) = comment {
                    texts.push(("comment".into(), comment));
                }
            }
            CaseCommand::Note { text } => texts.push(("text".into(), text)),
            CaseCommand::Sign
            | CaseCommand::SignAssist { .. }
            | CaseCommand::StartCallback { .. }
            | CaseCommand::SetUrgent { .. }
            | CaseCommand::Attach { .. }
            | CaseCommand::TakeReport { .. }
            | CaseCommand::Watch { .. } => {}
        }
        texts
    }

    /// The command with the personal data in its texts masked, and the clear texts it had
    /// (by field), which only the event keeps, sealed at rest.
    pub fn masked(mut self) -> (CaseCommand, BTreeMap<String, String>) {
        let mut clear = BTreeMap::new();
        for (field, text) in self.texts_mut() {
            if let Some(masked) = crate::personal_text::mask_personal_text(text) {
                clear.insert(field.into_owned(), std::mem::replace(text, masked));
            }
        }
        (self, clear)
    }

    /// The stored name (see [`CommandKind::as_str`]): the serde tag of this command, the
    /// outbox topic and the audit action.
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Which roles may issue the command.
    pub fn allowed_roles(&self) -> &'static [Role] {
        self.kind().rule().roles
    }
}

/// The text values of extra fields, as texts people write into (`fields.<key>`). Photo
/// values, attachment ids, are left out: an id's digits are no phone number.
fn field_texts<'a>(
    values: impl Iterator<Item = (&'a String, Option<&'a mut FieldValue>)>,
) -> Vec<(Cow<'static, str>, &'a mut String)> {
    values
        .filter_map(|(key, value)| match value {
            Some(FieldValue::Text(text)) if !uuid_like(text) => {
                Some((Cow::Owned(format!("fields.{key}")), text))
            }
            _ => None,
        })
        .collect()
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Removes the reporter's contact from the case and their name and number from its texts
/// (the description and the rating comment, already masked by pattern; this catches the
/// spellings patterns miss). The timeline's texts are scrubbed the same way by the store,
/// which holds them.
pub fn erase_personal_data(case: &mut Case) {
    let (phone, name) = match &case.reporter {
        Some(reporter) => (reporter.phone.clone(), reporter.name.clone()),
        None => (None, None),
    };
    let scrub =
        |text: &str| crate::personal_text::scrub_subject(text, phone.as_deref(), name.as_deref());
    case.description = scrub(&case.description);
    for value in case.fields.values_mut() {
        if let FieldValue::Text(text) = value {
            *text = scrub(text);
        }
    }
    if let Some(comment) = case.rating.as_mut().and_then(|r| r.comment.as_mut()) {
        *comment = scrub(comment);
    }
    if let Some(reporter) = &mut case.reporter {
        reporter.name = None;
        reporter.phone = None;
    }
}

/// The same scrubbing for an event of the case's timeline: its texts, its clear texts
/// dropped, and the contact a report carried.
pub fn erase_personal_data_from_event(
    event: &mut TimelineEvent,
    phone: Option<&str>,
    name: Option<&str>,
) {
    for (_, text) in event.command.texts_mut() {
        *text = crate::personal_text::scrub_subject(text, phone, name);
    }
    event.clear_text.clear();
    if let CaseCommand::Report(report) = &mut event.command {
        if let Some(reporter) = &mut report.reporter {
            reporter.name = None;
            reporter.phone = None;
        }
    }
}

/// The center a dispatcher acting within `scope` escalates to: a street's district, a
/// district's city. The city has none: it decides.
pub fn escalation_target(scope: &AreaCode) -> Option<AreaCode> {
    match scope.level() {
        crate::area::AreaLevel::City => None,
        crate::area::AreaLevel::District => Some(scope.city()),
        _ => scope.district(),
    }
}

/// The commands `actor` may issue on `case` now: right role, in scope, on their own unit's
/// case, a case that admits the command ([`CommandKind::admits`]), and for dispatching and
/// escalating, the center the case waits for. What a workbench shows as buttons.
pub fn available(case: &Case, actor: &Actor) -> Vec<CommandKind> {
    if !actor.can_see(&case.area) {
        return Vec::new();
    }
    let own_unit = case.unit.is_some() && actor.unit == case.unit;
    // Only the center an escalated case waits for (or one above it) decides.
    let decides = case
        .coordination
        .as_ref()
        .is_none_or(|waiting| actor.scope.contains(&waiting.center));
    CommandKind::ALL
        .into_iter()
        .filter(|kind| kind.rule().roles.contains(&actor.role) && kind.admits(case))
        .filter(|kind| actor.role != Role::UnitHandler || !kind.needs_assigned_unit() || own_unit)
        .filter(
            |kind| match (kind.needs_own_part(), actor.unit.as_deref()) {
                (None, _) => true,
                (Some(states), Some(unit)) => case
                    .assists
                    .iter()
                    .any(|p| p.unit == unit && states.contains(&p.state)),
                (Some(_), None) => false,
            },
        )
        .filter(|kind| match kind {
            CommandKind::Dispatch => decides,
            CommandKind::Escalate => decides && escalation_target(&actor.scope).is_some(),
            _ => true,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    #[error("a {role} may not {command}; only {allowed} may")]
    RoleNotAllowed {
        command: CommandKind,
        role: &'static str,
        allowed: String,
    },
    #[error("cannot {command} a case that is {state}")]
    NotAllowedInState {
        command: CommandKind,
        state: &'static str,
    },
    #[error("the case is not dispatched to your unit")]
    NotAssignedUnit,
    #[error("the case is outside your jurisdiction")]
    OutOfScope,
    #[error("{0}")]
    Precondition(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

fn text(field: &str, value: &str, max: usize) -> Result<(), InvalidInput> {
    let length = value.trim().chars().count();
    if length == 0 {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// A text a command needs: whether it may be left out depends on the command, not on the
/// value, so a missing one is an inconsistency between the command and its fields.
fn needed_text(field: &str, value: &str, max: usize) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(InvalidInput::inconsistent(field, "this command needs it"));
    }
    text(field, value, max)
}

fn optional_text(field: &str, value: &Option<String>, max: usize) -> Result<(), InvalidInput> {
    match value {
        Some(v) if v.chars().count() > max => Err(InvalidInput::new(
            field,
            format!("is longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// Opens a case from a report. The number is a placeholder until the store assigns one.
pub fn report(
    id: String,
    report: NewReport,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Case, TimelineEvent), WorkflowError> {
    report_on(id, report, actor, Clock::plain_week(now))
}

/// [`report`] with the acceptance deadline reckoned on `clock`'s calendar, and the clock's
/// intake terms copied to the case.
pub fn report_on(
    id: String,
    report: NewReport,
    actor: &Actor,
    clock: Clock<'_>,
) -> Result<(Case, TimelineEvent), WorkflowError> {
    let now = clock.now;
    let mut report = report;
    report.intake_terms = Some(Box::new(clock.intake));
    if let Some(reporter) = &mut report.reporter {
        reporter.validate()?;
        if let Some(phone) = &mut reporter.phone {
            *phone = crate::personal_text::normalize_phone(phone)?;
        }
    }
    let (command, clear_text) = CaseCommand::Report(report).masked();
    check_role(command.kind(), actor)?;
    let CaseCommand::Report(report) = &command else {
        unreachable!("constructed above")
    };
    if !actor.can_see(&report.area) {
        return Err(WorkflowError::OutOfScope);
    }
    let mut case = open(
        id,
        CaseNumber::unassigned(),
        report,
        &actor.user_id,
        now,
        clock.calendar,
    )?;
    case.warning_at = case.warning_time(now, clock.calendar, clock.warning_share);
    let mut event = event_for(&case, None, actor, command, now, false);
    event.clear_text = clear_text;
    event.clock = case.deadline.map(|deadline| ClockChange {
        stage: case.stage,
        deadline: Some(deadline),
        warning: case.warning_at,
        reason: started(&case, Stage::Accept),
    });
    Ok((case, event))
}

fn open(
    id: String,
    number: CaseNumber,
    report: &NewReport,
    reported_by: &str,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
) -> Result<Case, WorkflowError> {
    text("description", &report.description, MAX_TEXT)?;
    optional_text("address", &report.address, 200)?;
    if let Some(reporter) = &report.reporter {
        reporter.validate()?;
    }
    if let Some(ticket) = &report.hotline_ticket {
        if report.source != Source::Hotline {
            return Err(InvalidInput::inconsistent(
                "hotline_ticket",
                "only a hotline report carries a 12345 ticket id",
            )
            .into());
        }
        let valid =
            (1..=64).contains(&ticket.len()) && ticket.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(InvalidInput::new(
                "hotline_ticket",
                "a ticket id is 1 to 64 visible ASCII characters",
            )
            .into());
        }
    }
    if let Some(call) = &report.call {
        if !matches!(report.source, Source::Hotline | Source::Department) {
            return Err(InvalidInput::inconsistent(
                "call",
                "only a hotline or department report is taken down from a call",
            )
            .into());
        }
        if call.kind == crate::case::TicketKind::Enquiry {
            return Err(InvalidInput::inconsistent(
                "call.kind",
                "an enquiry is answered on the call, not opened as a case",
            )
            .into());
        }
        if let Some(reply) = &call.reply_owed {
            text("call.reply_owed", reply, MAX_REPLY_OWED)?;
        }
    }
    if let Some(grid) = &report.unit_grid {
        let valid = grid.len() == 14
            && grid.bytes().all(|b| b.is_ascii_digit())
            && grid.starts_with(report.area.subtree_prefix());
        if !valid {
            return Err(InvalidInput::new(
                "unit_grid",
                "a unit grid has 14 digits and lies in the case's area",
            )
            .into());
        }
    }
    let district = report.area.district().ok_or_else(|| {
        InvalidInput::new("area", "a case must lie in a district, street or community")
    })?;
    let location = Location::new(report.location.lon, report.location.lat)?;
    if let Some(accuracy) = report.location_accuracy_m {
        if !(0.0..=crate::patrol::MAX_ACCURACY_M).contains(&f64::from(accuracy)) {
            return Err(InvalidInput::new(
                "location_accuracy_m",
                "the accuracy is a number of metres from 0 to 5000",
            )
            .into());
        }
    }
    if let Some(component) = &report.component_id {
        let valid = component.len() == 16 && component.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(InvalidInput::new(
                "component_id",
                "a component id has 16 digits (area 6 + big class 2 + small class 2 + number 6)",
            )
            .into());
        }
    }
    let mut case = Case {
        id,
        number,
        version: 1,
        state: CaseState::Reported,
        source: report.source,
        description: report.description.trim().to_owned(),
        address: report.address.clone(),
        location,
        location_accuracy_m: report.location_accuracy_m,
        area: report.area.clone(),
        unit_grid: report.unit_grid.clone(),
        district,
        category_hint: report.category_hint.clone(),
        category: None,
        component_id: report.component_id.clone(),
        unit: None,
        urgent: false,
        supervised: false,
        self_handled: false,
        rework_count: 0,
        return_count: 0,
        extension_count: 0,
        pending: None,
        stage: None,
        deadline: None,
        warning_at: None,
        watch: None,
        supervision: None,
        appeals: Vec::new(),
        filed_by: None,
        dispatched_by: None,
        handled_by: None,
        suspended_remaining_secs: None,
        suspended_on_working_time: false,
        callback_satisfied: None,
        callback: None,
        intake_terms: report.intake_terms.as_deref().copied(),
        reject_reason: None,
        duplicate_of: None,
        merged_into: None,
        merged_reports: Vec::new(),
        assists: Vec::new(),
        grid_inspector: report.grid_inspector.as_deref().cloned(),
        attachments: Vec::new(),
        fields: report.fields.clone(),
        late_count: 0,
        reporter: report.reporter.clone(),
        hotline_ticket: report.hotline_ticket.clone(),
        call: report.call.as_deref().cloned(),
        rating: None,
        coordination: None,
        verified: false,
        reported_by: reported_by.to_owned(),
        created_at: now,
        updated_at: now,
        closed_at: None,
    };
    if case.intake_terms.is_some() {
        case.start_stage(Stage::Accept, now, calendar);
    }
    Ok(case)
}

/// May `actor`'s role issue commands of `kind` at all? Checked first, so that a refused caller
/// learns nothing else about the case.
pub fn check_role(kind: CommandKind, actor: &Actor) -> Result<(), WorkflowError> {
    let allowed = kind.rule().roles;
    if allowed.contains(&actor.role) {
        return Ok(());
    }
    Err(WorkflowError::RoleNotAllowed {
        command: kind,
        role: actor.role.as_str(),
        allowed: allowed
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// May `actor` issue `command` on `case`? Role first, then jurisdiction, then unit.
pub fn authorize(case: &Case, command: &CaseCommand, actor: &Actor) -> Result<(), WorkflowError> {
    if !actor.can_see(&case.area) {
        return Err(WorkflowError::OutOfScope);
    }
    check_role(command.kind(), actor)?;
    if let (Some(waiting), CaseCommand::Dispatch { .. } | CaseCommand::Escalate { .. }) =
        (&case.coordination, command)
    {
        // Only the center the case was escalated to (or one above it) decides.
        if !actor.scope.contains(&waiting.center) {
            return Err(WorkflowError::Precondition(format!(
                "the case waits for the coordination of the {} center",
                waiting.center
            )));
        }
    }
    if let CaseCommand::Appeal { unit, .. }
    | CaseCommand::SignAssist { unit, .. }
    | CaseCommand::AssistFeedback { unit, .. }
    | CaseCommand::ReturnAssist { unit, .. } = command
    {
        // A unit appeals for itself only, and works on its own part only.
        if actor.unit.as_deref() != Some(unit.as_str()) {
            return Err(WorkflowError::NotAssignedUnit);
        }
    }
    if actor.role == Role::UnitHandler
        && command.kind().needs_assigned_unit()
        && (case.unit.is_none() || actor.unit != case.unit)
    {
        return Err(WorkflowError::NotAssignedUnit);
    }
    Ok(())
}

/// Authorizes and applies a command on a calendar of plain weeks (see [`decide_on`]).
pub fn decide(
    case: &Case,
    command: CaseCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Case, TimelineEvent), WorkflowError> {
    decide_on(case, command, actor, Clock::plain_week(now))
}

/// Authorizes and applies a command: the one way a case changes. Stage deadlines are
/// reckoned on `clock`'s calendar, and the event records every change of them.
pub fn decide_on(
    case: &Case,
    command: CaseCommand,
    actor: &Actor,
    clock: Clock<'_>,
) -> Result<(Case, TimelineEvent), WorkflowError> {
    authorize(case, &command, actor)?;
    let (command, clear_text) = command.masked();
    let (mut next, late) = apply_on(case, &command, clock)?;
    remember_actor(&mut next, &command, &actor.user_id);
    let mut command = command;
    if let CaseCommand::Supervise { deadline, .. } = &mut command {
        *deadline = next.supervision.as_ref().and_then(|s| s.deadline);
    }
    if let CaseCommand::SignAssist { unit, deadline } = &mut command {
        // The part just signed: the unit's one open part, not an earlier finished one of the
        // same unit (a part handed on at a retirement may sit before it).
        *deadline = next
            .assists
            .iter()
            .find(|p| &p.unit == unit && p.state == crate::case::AssistState::Handling)
            .and_then(|p| p.deadline);
    }
    let mut event = event_for(&next, Some(case.state), actor, command, clock.now, late);
    event.clear_text = clear_text;
    event.clock = clock_change(case, &next, &event.command);
    Ok((next, event))
}

/// Whether a caller's call-back is done with a verdict that lets the case close.
fn accepted(progress: &Option<CallbackProgress>) -> bool {
    progress.is_some_and(|p| p.satisfaction.is_some_and(|s| s.accepts()))
}

/// Ends a call-back once every caller owed one is done: satisfied or basically satisfied, or
/// unreachable after the attempts allowed. When no caller could be reached, the case closes
/// as unreachable; otherwise it waits to be closed, call-back passed.
fn settle_callback(
    next: &mut Case,
    now: DateTime<Utc>,
    calendar: &crate::calendar::WorkingCalendar,
) {
    let own = (next.source == Source::Hotline).then_some(next.callback);
    let parties: Vec<Option<CallbackProgress>> = own
        .into_iter()
        .chain(
            next.merged_reports
                .iter()
                .filter(|r| r.source == Source::Hotline)
                .map(|r| r.callback),
        )
        .collect();
    let done = |p: &Option<CallbackProgress>| p.is_some_and(|p| p.unreachable) || accepted(p);
    if !parties.iter().all(done) {
        return;
    }
    next.stop_clock();
    if !parties.is_empty() && parties.iter().all(|p| p.is_some_and(|p| p.unreachable)) {
        // The handling is done and checked; only the callers' verdict is missing, and no
        // more calls will get it.
        next.state = CaseState::Closed;
    } else {
        next.state = CaseState::Checked;
        next.callback_satisfied = (!parties.is_empty()).then_some(true);
        next.start_stage(Stage::Close, now, calendar);
    }
}

/// A change of two cases written together: a merge or its undoing, the report's event and
/// the master's. Neither is written without the other.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedChange {
    pub report: (Case, TimelineEvent),
    pub master: (Case, TimelineEvent),
}

/// Merges `report` into `master` (合并): the report is answered by the master's handling and
/// the master lists it. A master is open and merged into no other; a report merged into a
/// master is no master itself, so no report ever has two masters and no chain forms.
pub fn merge_on(
    report: &Case,
    master: &Case,
    opinion: Option<String>,
    actor: &Actor,
    clock: Clock<'_>,
) -> Result<PairedChange, WorkflowError> {
    let command = CaseCommand::Merge {
        master: master.number.0.clone(),
        master_id: master.id.clone(),
        opinion,
    };
    authorize(report, &command, actor)?;
    if !actor.can_see(&master.area) {
        return Err(WorkflowError::OutOfScope);
    }
    if master.id == report.id {
        return Err(WorkflowError::Precondition(
            "a report cannot be merged into itself".into(),
        ));
    }
    if master.state.is_terminal() {
        return Err(WorkflowError::Precondition(format!(
            "case {} is {} ({}): a report is merged only into an open case",
            master.number,
            master.state.as_str(),
            master.state.zh()
        )));
    }
    let report_change = decide_on(report, command, actor, clock)?;
    let take = CaseCommand::TakeReport {
        report: report.number.0.clone(),
        report_id: report.id.clone(),
        source: report.source,
    };
    let master_change = system_side(master, take, actor, clock)?;
    Ok(PairedChange {
        report: report_change,
        master: master_change,
    })
}

/// Undoes the merge of `report` into `master` (a shift lead's decision): the report returns
/// to the state it was merged from and the master no longer lists it. Only while the master
/// is open: once it finished, its result has answered the report.
pub fn unmerge_on(
    report: &Case,
    master: &Case,
    reason: String,
    actor: &Actor,
    clock: Clock<'_>,
) -> Result<PairedChange, WorkflowError> {
    let command = CaseCommand::Unmerge { reason };
    authorize(report, &command, actor)?;
    match &report.merged_into {
        Some(link) if link.master_id == master.id => {}
        _ => {
            return Err(WorkflowError::Precondition(format!(
                "case {} is not merged into case {}",
                report.number, master.number
            )))
        }
    }
    if master.state.is_terminal() {
        return Err(WorkflowError::Precondition(format!(
            "case {} is already {} ({}): its result answered the merged report",
            master.number,
            master.state.as_str(),
            master.state.zh()
        )));
    }
    let report_change = decide_on(report, command, actor, clock)?;
    let CaseCommand::Unmerge { reason } = &report_change.1.command else {
        unreachable!("decided above")
    };
    let release = CaseCommand::ReleaseReport {
        report: report.number.0.clone(),
        report_id: report.id.clone(),
        reason: reason.clone(),
    };
    let mut master_change = system_side(master, release, actor, clock)?;
    master_change.1.clear_text = report_change.1.clear_text.clone();
    Ok(PairedChange {
        report: report_change,
        master: master_change,
    })
}

/// The master's side of a paired change: applied without asking who may issue it (no
/// client names it), recorded as done by the actor of the report's side.
fn system_side(
    case: &Case,
    command: CaseCommand,
    actor: &Actor,
    clock: Clock<'_>,
) -> Result<(Case, TimelineEvent), WorkflowError> {
    let (next, late) = apply_on(case, &command, clock)?;
    let mut event = event_for(&next, Some(case.state), actor, command, clock.now, late);
    event.clock = clock_change(case, &next, &event.command);
    Ok((next, event))
}

/// Why a stage's clock runs: it started with the case's term for it.
fn started(case: &Case, stage: Stage) -> ClockReason {
    match case.term(stage) {
        Some(term) => ClockReason::Started {
            term,
            working_time: term.on_working_time(case.runs_continuously()),
        },
        None => ClockReason::Stopped,
    }
}

/// What a command did to the stage clock, for the timeline; none if nothing.
fn clock_change(before: &Case, after: &Case, command: &CaseCommand) -> Option<ClockChange> {
    if (before.stage, before.deadline) == (after.stage, after.deadline)
        && after.suspended_remaining_secs == before.suspended_remaining_secs
    {
        return None;
    }
    let reason = match command {
        CaseCommand::DecideExtension { .. } => ClockReason::Extended,
        CaseCommand::DecidePark { .. } => ClockReason::Parked {
            remaining_secs: after.suspended_remaining_secs,
            working_time: after.suspended_on_working_time,
        },
        CaseCommand::Resume { .. } => ClockReason::Resumed,
        _ => match (after.stage, after.deadline) {
            (Some(stage), Some(_)) => started(after, stage),
            _ => ClockReason::Stopped,
        },
    };
    Some(ClockChange {
        stage: after.stage,
        deadline: after.deadline,
        warning: after.warning_at,
        reason,
    })
}

fn event_for(
    case: &Case,
    from: Option<CaseState>,
    actor: &Actor,
    command: CaseCommand,
    now: DateTime<Utc>,
    late: bool,
) -> TimelineEvent {
    TimelineEvent {
        case_id: case.id.clone(),
        seq: case.version,
        at: now,
        user_id: actor.user_id.clone(),
        username: actor.username.clone(),
        role: actor.role,
        unit: actor.unit.clone(),
        command,
        from,
        to: case.state,
        late,
        clear_text: BTreeMap::new(),
        clock: None,
    }
}

/// What a command does to a case, without asking who issues it. Returns the new case and
/// whether the stage the command ended had passed its deadline.
pub fn apply(
    case: &Case,
    command: &CaseCommand,
    now: DateTime<Utc>,
) -> Result<(Case, bool), WorkflowError> {
    apply_on(case, command, Clock::plain_week(now))
}

/// [`apply`] with stage deadlines reckoned on `clock`'s calendar.
pub fn apply_on(
    case: &Case,
    command: &CaseCommand,
    clock: Clock<'_>,
) -> Result<(Case, bool), WorkflowError> {
    use CaseState::*;
    let now = clock.now;
    let calendar = clock.calendar;
    let from = case.state;
    let not_here = || WorkflowError::NotAllowedInState {
        command: command.kind(),
        state: from.as_str(),
    };
    if !command.kind().rule().from.contains(&from) {
        return Err(not_here());
    }
    let mut next = case.clone();
    match command {
        CaseCommand::Report(_) => return Err(not_here()),
        CaseCommand::Accept { opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            next.state = Accepted;
            next.start_stage(Stage::File, now, calendar);
        }
        CaseCommand::Reject {
            reason,
            duplicate_of,
            opinion,
        } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if *reason == RejectReason::Duplicate && duplicate_of.is_none() {
                return Err(InvalidInput::new(
                    "duplicate_of",
                    "name the case number this report duplicates",
                )
                .into());
            }
            optional_text("duplicate_of", duplicate_of, 40)?;
            next.state = Invalid;
            next.reject_reason = Some(*reason);
            next.duplicate_of = duplicate_of.clone();
        }
        CaseCommand::RequestVerification { opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            next.state = Verifying;
            next.start_stage(Stage::Verify, now, calendar);
        }
        CaseCommand::Verify { exists, opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if *exists {
                next.state = Accepted;
                next.verified = true;
                next.start_stage(Stage::File, now, calendar);
            } else {
                next.state = Invalid;
                next.reject_reason = Some(RejectReason::Invalid);
            }
        }
        CaseCommand::File {
            class,
            opinion,
            fields,
        } => {
            if case.source.needs_verification() && !case.verified {
                return Err(WorkflowError::Precondition(format!(
                    "a {} report is verified on site before it is filed: request verification first",
                    case.source.as_str()
                )));
            }
            optional_text("opinion", opinion, MAX_TEXT)?;
            class.terms.validate()?;
            next.urgent |= class.urgency == Urgency::Urgent;
            next.category = Some(class.clone());
            next.fields = crate::form::merged(&case.fields, fields);
            next.state = Filed;
            next.start_stage(Stage::Dispatch, now, calendar);
        }
        CaseCommand::SelfHandle { opinion } => {
            needed_text("opinion", opinion, MAX_TEXT)?;
            // Only what an inspector found on patrol: a citizen's or the hotline's case is
            // checked and, for the hotline, called back before it closes.
            if case.source != Source::Inspector {
                return Err(WorkflowError::Precondition(
                    "only cases an inspector reported on patrol may be self-handled".into(),
                ));
            }
            next.state = Closed;
            next.self_handled = true;
            next.stop_clock();
        }
        CaseCommand::Dispatch {
            unit,
            unit_jurisdiction,
            opinion,
        } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if !unit_jurisdiction.contains(&case.area) {
                return Err(WorkflowError::Precondition(format!(
                    "unit {unit} answers for {unit_jurisdiction}, which does not include the case's area {}",
                    case.area
                )));
            }
            if case.open_assist(unit).is_some() {
                return Err(WorkflowError::Precondition(format!(
                    "unit {unit} assists on this case: release its part before it leads"
                )));
            }
            next.unit = Some(unit.clone());
            next.coordination = None;
            next.state = Dispatched;
            next.stop_clock();
        }
        CaseCommand::Assist {
            unit,
            unit_jurisdiction,
            opinion,
        } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            crate::unit::check_unit_code(unit).map_err(|e| InvalidInput::new("unit", e.reason))?;
            if !unit_jurisdiction.contains(&case.area) {
                return Err(WorkflowError::Precondition(format!(
                    "unit {unit} answers for {unit_jurisdiction}, which does not include the case's area {}",
                    case.area
                )));
            }
            if case.unit.as_deref() == Some(unit.as_str()) {
                return Err(WorkflowError::Precondition(format!(
                    "unit {unit} leads this case: it cannot assist on it too"
                )));
            }
            if case.open_assist(unit).is_some() {
                return Err(WorkflowError::Precondition(format!(
                    "unit {unit} already has an open part of this case"
                )));
            }
            if case.open_assists().count() >= MAX_OPEN_ASSISTS {
                return Err(WorkflowError::Precondition(format!(
                    "a case has at most {MAX_OPEN_ASSISTS} assisting units at a time"
                )));
            }
            next.assists.push(crate::case::AssistPart {
                unit: unit.clone(),
                unit_jurisdiction: unit_jurisdiction.clone(),
                state: crate::case::AssistState::Assigned,
                assigned_at: now,
                deadline: None,
                warning_at: None,
                mark: crate::case::DeadlineMark::OnTime,
                finished_at: None,
                handled_by: None,
                opinion: opinion.clone(),
            });
        }
        CaseCommand::SignAssist { unit, deadline } => {
            let part = open_part(&mut next, unit, &[crate::case::AssistState::Assigned])?;
            part.state = crate::case::AssistState::Handling;
            part.deadline = deadline.or_else(|| {
                case.term(Stage::Handling)
                    .map(|term| term.deadline(now, calendar, case.runs_continuously()))
            });
            part.warning_at = case.assist_warning_time(part, now, calendar, clock.warning_share);
        }
        CaseCommand::AssistFeedback { unit, opinion } => {
            needed_text("opinion", opinion, MAX_TEXT)?;
            let part = open_part(&mut next, unit, &[crate::case::AssistState::Handling])?;
            part.state = crate::case::AssistState::Done;
            part.finished_at = Some(now);
            part.opinion = Some(opinion.clone());
        }
        CaseCommand::ReturnAssist { unit, reason }
        | CaseCommand::ReleaseAssist { unit, reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            let part = open_part(
                &mut next,
                unit,
                &[
                    crate::case::AssistState::Assigned,
                    crate::case::AssistState::Handling,
                ],
            )?;
            part.state = if matches!(command, CaseCommand::ReturnAssist { .. }) {
                crate::case::AssistState::Returned
            } else {
                crate::case::AssistState::Released
            };
            part.finished_at = Some(now);
            part.opinion = Some(reason.clone());
        }
        CaseCommand::Sign => {
            next.state = Handling;
            next.start_stage(Stage::Handling, now, calendar);
        }
        CaseCommand::Return { reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            next.state = Filed;
            next.unit = None;
            next.pending = None;
            next.return_count += 1;
            next.start_stage(Stage::Dispatch, now, calendar);
        }
        CaseCommand::RequestExtension { until, reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            if case.pending.is_some() {
                return Err(WorkflowError::Precondition(
                    "another request is waiting for the shift lead".into(),
                ));
            }
            let floor = case.deadline.unwrap_or(now).max(now);
            if *until > now + chrono::Duration::days(366) {
                return Err(InvalidInput::new(
                    "until",
                    "an extension reaches at most one year ahead",
                )
                .into());
            }
            if *until <= floor {
                return Err(InvalidInput::new(
                    "until",
                    "the new deadline must be later than the current one",
                )
                .into());
            }
            next.pending = Some(PendingRequest::Extension {
                until: *until,
                reason: reason.clone(),
            });
        }
        CaseCommand::DecideExtension { approve, opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            let Some(PendingRequest::Extension { until, .. }) = &case.pending else {
                return Err(WorkflowError::Precondition(
                    "no extension request is waiting".into(),
                ));
            };
            if *approve {
                next.deadline = Some(*until);
                next.extension_count += 1;
            }
            next.pending = None;
        }
        CaseCommand::RequestPark { reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            if case.pending.is_some() {
                return Err(WorkflowError::Precondition(
                    "another request is waiting for the shift lead".into(),
                ));
            }
            next.pending = Some(PendingRequest::Park {
                reason: reason.clone(),
            });
        }
        CaseCommand::DecidePark { approve, opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if !matches!(case.pending, Some(PendingRequest::Park { .. })) {
                return Err(WorkflowError::Precondition(
                    "no parking request is waiting".into(),
                ));
            }
            if *approve {
                next.state = Suspended;
                // Working-time terms keep working time: a case parked on Friday evening with
                // two working hours left has two working hours left when it resumes.
                let working = case
                    .stage
                    .and_then(|stage| case.term(stage))
                    .is_some_and(|term| term.on_working_time(case.runs_continuously()));
                next.suspended_remaining_secs = case.deadline.map(|deadline| {
                    if working {
                        calendar.working_minutes_between(now, deadline).max(0) * 60
                    } else {
                        (deadline - now).num_seconds().max(0)
                    }
                });
                next.suspended_on_working_time = working && next.suspended_remaining_secs.is_some();
                next.deadline = None;
            }
            next.pending = None;
        }
        CaseCommand::Resume { opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            next.state = Handling;
            next.stage = Some(Stage::Handling);
            next.deadline = case.suspended_remaining_secs.and_then(|secs| {
                if case.suspended_on_working_time {
                    let minutes = u32::try_from(secs / 60).unwrap_or(u32::MAX);
                    Some(calendar.add_working_duration(now, minutes))
                } else {
                    now.checked_add_signed(chrono::Duration::seconds(secs))
                }
            });
            next.suspended_remaining_secs = None;
            next.suspended_on_working_time = false;
        }
        CaseCommand::Feedback {
            opinion,
            attachments,
        } => {
            needed_text("opinion", opinion, MAX_TEXT)?;
            if let Some(unknown) = attachments.iter().find(|a| !case.attachments.contains(a)) {
                return Err(InvalidInput::new(
                    "attachments",
                    format!("attachment {unknown} is not attached to this case; upload it first"),
                )
                .into());
            }
            let open: Vec<&str> = case.open_assists().map(|p| p.unit.as_str()).collect();
            if !open.is_empty() {
                return Err(WorkflowError::Precondition(format!(
                    "the assisting units {} have not finished their parts: wait for their feedback or have the dispatcher release them",
                    open.join(", ")
                )));
            }
            next.state = Handled;
            next.pending = None;
            next.stop_clock();
        }
        CaseCommand::SendCheck { opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            next.state = Checking;
            next.start_stage(Stage::Check, now, calendar);
        }
        CaseCommand::Check { passed, opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            next.stop_clock();
            if *passed {
                next.state = Checked;
                // A hotline caller is called back before closing; the call-back's time runs
                // from the check.
                let waiting = if case.source == Source::Hotline {
                    Stage::Callback
                } else {
                    Stage::Close
                };
                next.start_stage(waiting, now, calendar);
            } else {
                next.state = Dispatched;
                next.rework_count += 1;
            }
        }
        CaseCommand::StartCallback { attempts_allowed } => {
            if !case.callbacks_owed() {
                return Err(WorkflowError::Precondition(
                    "call-back is for hotline cases and cases with hotline reports merged into them"
                        .into(),
                ));
            }
            if !(1..=MAX_CALLBACK_ATTEMPTS).contains(attempts_allowed) {
                return Err(InvalidInput::new(
                    "attempts_allowed",
                    format!("a call-back allows 1 to {MAX_CALLBACK_ATTEMPTS} failed attempts"),
                )
                .into());
            }
            next.state = Callback;
            if case.stage != Some(Stage::Callback) {
                next.start_stage(Stage::Callback, now, calendar);
            }
            let fresh = CallbackProgress {
                attempts_allowed: *attempts_allowed,
                failed_attempts: 0,
                last_outcome: None,
                satisfaction: None,
                unreachable: false,
            };
            // A caller already satisfied is not called again: only one merged in since is.
            if case.source == Source::Hotline && !accepted(&case.callback) {
                next.callback = Some(fresh);
            }
            for merged in next.merged_reports.iter_mut() {
                if merged.source == Source::Hotline && !accepted(&merged.callback) {
                    merged.callback = Some(fresh);
                }
            }
        }
        CaseCommand::Callback {
            outcome,
            satisfaction,
            opinion,
            report,
        } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            let default = CallbackProgress {
                attempts_allowed: case
                    .callback
                    .map_or(DEFAULT_CALLBACK_ATTEMPTS, |p| p.attempts_allowed),
                failed_attempts: 0,
                last_outcome: None,
                satisfaction: None,
                unreachable: false,
            };
            let slot = match report {
                None => {
                    if case.source != Source::Hotline {
                        return Err(InvalidInput::inconsistent(
                            "report",
                            "the case's own reporter is not called back: name the merged hotline report whose caller was called",
                        )
                        .into());
                    }
                    &mut next.callback
                }
                Some(number) => {
                    let Some(merged) = next.merged_reports.iter_mut().find(|r| r.number == *number)
                    else {
                        return Err(InvalidInput::unknown(
                            "report",
                            format!("no report {number} is merged into this case"),
                        )
                        .into());
                    };
                    if merged.source != Source::Hotline {
                        return Err(InvalidInput::inconsistent(
                            "report",
                            format!("report {number} did not come from the hotline: no caller is owed a call-back"),
                        )
                        .into());
                    }
                    &mut merged.callback
                }
            };
            let mut progress = slot.unwrap_or(default);
            progress.last_outcome = Some(*outcome);
            match (outcome, satisfaction) {
                (CallbackOutcome::Reached, None) => {
                    return Err(InvalidInput::inconsistent(
                        "satisfaction",
                        "a caller who was reached gives their satisfaction: satisfied, basically_satisfied or unsatisfied",
                    )
                    .into());
                }
                (CallbackOutcome::Reached, Some(satisfaction)) => {
                    progress.satisfaction = Some(*satisfaction);
                }
                (CallbackOutcome::NoAnswer | CallbackOutcome::WrongNumber, Some(_)) => {
                    return Err(InvalidInput::inconsistent(
                        "satisfaction",
                        "only a caller who was reached gives a satisfaction",
                    )
                    .into());
                }
                (CallbackOutcome::NoAnswer | CallbackOutcome::WrongNumber, None) => {
                    progress.failed_attempts += 1;
                    // No more calls will get this caller's verdict.
                    progress.unreachable = progress.failed_attempts >= progress.attempts_allowed;
                }
            }
            *slot = Some(progress);
            if progress.satisfaction.is_some_and(|s| !s.accepts()) {
                // One caller unsatisfied sends the case back; after the rework every caller
                // is called again.
                next.stop_clock();
                next.state = Dispatched;
                next.rework_count += 1;
                next.callback_satisfied = None;
                for merged in next.merged_reports.iter_mut() {
                    merged.callback = None;
                }
            } else {
                settle_callback(&mut next, now, calendar);
            }
        }
        CaseCommand::Close { opinion } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if case.callbacks_owed() && case.callback_satisfied != Some(true) {
                return Err(WorkflowError::Precondition(
                    "a hotline case, or one with hotline reports merged into it, is closed only after its call-back".into(),
                ));
            }
            next.state = Closed;
        }
        CaseCommand::Cancel { reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            next.state = Cancelled;
            next.pending = None;
            next.stop_clock();
        }
        CaseCommand::SetUrgent { urgent } => {
            next.urgent = *urgent;
        }
        CaseCommand::Escalate { to, reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            let higher = case
                .coordination
                .as_ref()
                .is_none_or(|waiting| !waiting.center.contains(to) && to.contains(&waiting.center));
            if !to.contains(&case.area) || !higher || to.level() > crate::area::AreaLevel::District
            {
                return Err(WorkflowError::Precondition(format!(
                    "{to} is not a higher-level center above this case"
                )));
            }
            next.coordination = Some(crate::case::Coordination {
                center: to.clone(),
                reason: reason.clone(),
                since: now,
            });
        }
        CaseCommand::Supervise {
            opinion,
            term,
            deadline,
        } => {
            needed_text("opinion", opinion, MAX_TEXT)?;
            if let Some(term) = term {
                term.check("term")?;
            }
            next.supervised = true;
            next.supervision = Some(crate::watch::Supervision {
                at: now,
                deadline: deadline
                    .or_else(|| term.map(|t| t.deadline(now, calendar, case.runs_continuously()))),
                answered_at: None,
                overdue: false,
            });
        }
        CaseCommand::Watch { finding } => apply_watch(&mut next, finding, now)?,
        CaseCommand::Merge {
            master,
            master_id,
            opinion,
        } => {
            optional_text("opinion", opinion, MAX_TEXT)?;
            if master.trim().is_empty() || master_id.is_empty() {
                return Err(InvalidInput::inconsistent(
                    "master",
                    "name the number of the case the report is merged into",
                )
                .into());
            }
            if *master_id == case.id || *master == case.number.0 {
                return Err(WorkflowError::Precondition(
                    "a report cannot be merged into itself".into(),
                ));
            }
            if !case.merged_reports.is_empty() {
                return Err(WorkflowError::Precondition(format!(
                    "{} reports are merged into case {}: it is their master; undo those merges first",
                    case.merged_reports.len(),
                    case.number
                )));
            }
            next.state = Merged;
            next.pending = None;
            next.merged_into = Some(MergeLink {
                master_id: master_id.clone(),
                master: master.clone(),
                state_before: from,
            });
        }
        CaseCommand::Unmerge { reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            let Some(link) = &case.merged_into else {
                return Err(WorkflowError::Precondition(
                    "the case was not merged into another".into(),
                ));
            };
            next.state = link.state_before;
            next.merged_into = None;
            next.closed_at = None;
            // The report waits again where it was merged from, with that stage's full term.
            let stage = match link.state_before {
                Verifying => Stage::Verify,
                Accepted => Stage::File,
                _ => Stage::Accept,
            };
            if next.intake_terms.is_some() {
                next.start_stage(stage, now, calendar);
            }
        }
        CaseCommand::TakeReport {
            report,
            report_id,
            source,
        } => {
            if case.merged_reports.iter().any(|r| r.case_id == *report_id) {
                return Err(WorkflowError::Precondition(format!(
                    "report {report} is already merged into case {}",
                    case.number
                )));
            }
            // A caller merged in during or after the call-back is owed one too.
            let callback =
                (*source == Source::Hotline && case.state == Callback).then(|| CallbackProgress {
                    attempts_allowed: case
                        .callback
                        .map_or(DEFAULT_CALLBACK_ATTEMPTS, |p| p.attempts_allowed),
                    failed_attempts: 0,
                    last_outcome: None,
                    satisfaction: None,
                    unreachable: false,
                });
            if *source == Source::Hotline {
                next.callback_satisfied = None;
            }
            next.merged_reports.push(MergedReport {
                case_id: report_id.clone(),
                number: report.clone(),
                source: *source,
                at: now,
                callback,
            });
        }
        CaseCommand::ReleaseReport {
            report,
            report_id,
            reason,
        } => {
            needed_text("reason", reason, MAX_REASON)?;
            next.merged_reports.retain(|r| r.case_id != *report_id);
            if next.merged_reports.len() == case.merged_reports.len() {
                return Err(WorkflowError::Precondition(format!(
                    "report {report} is not merged into case {}",
                    case.number
                )));
            }
            // The caller released may have been the last one the call-back waited for.
            if case.state == Callback {
                settle_callback(&mut next, now, calendar);
            }
        }
        CaseCommand::Appeal {
            ground,
            unit,
            reason,
        } => {
            needed_text("reason", reason, MAX_REASON)?;
            crate::unit::check_unit_code(unit).map_err(|e| InvalidInput::new("unit", e.reason))?;
            let earlier = case
                .appeals
                .iter()
                .find(|a| a.unit == *unit && a.ground == *ground);
            if let Some(earlier) = earlier {
                return Err(WorkflowError::Precondition(format!(
                    "appeal {} of unit {unit} on {} is {}",
                    earlier.number,
                    ground.as_str(),
                    match &earlier.decision {
                        None => "still waiting for its decision",
                        Some(d) if d.accepted => "already accepted",
                        Some(_) => "already decided (refused)",
                    }
                )));
            }
            next.appeals.push(crate::appeal::Appeal {
                number: case.appeals.len() as u32 + 1,
                unit: unit.clone(),
                ground: *ground,
                reason: reason.clone(),
                filed_at: now,
                filed_by: String::new(),
                decision: None,
            });
        }
        CaseCommand::DecideAppeal {
            appeal,
            accepted,
            opinion,
        } => {
            needed_text("opinion", opinion, MAX_TEXT)?;
            let Some(filed) = next.appeals.iter_mut().find(|a| a.number == *appeal) else {
                return Err(InvalidInput::new(
                    "appeal",
                    format!("the case has no appeal {appeal}"),
                )
                .into());
            };
            if filed.decision.is_some() {
                return Err(WorkflowError::Precondition(format!(
                    "appeal {appeal} is already decided"
                )));
            }
            filed.decision = Some(crate::appeal::AppealDecision {
                accepted: *accepted,
                opinion: opinion.clone(),
                at: now,
                by: String::new(),
            });
        }
        CaseCommand::Attach { attachment_id } => {
            if case.attachments.contains(attachment_id) {
                return Err(WorkflowError::Precondition(format!(
                    "attachment {attachment_id} is already attached"
                )));
            }
            next.attachments.push(attachment_id.clone());
        }
        CaseCommand::Note { text: note } => {
            needed_text("text", note, MAX_TEXT)?;
        }
        CaseCommand::SetFields { fields } => {
            if fields.is_empty() {
                return Err(InvalidInput::inconsistent(
                    "fields",
                    "name at least one field to set or clear",
                )
                .into());
            }
            next.fields = crate::form::merged(&case.fields, fields);
        }
        CaseCommand::ErasePersonalData { reason } => {
            needed_text("reason", reason, MAX_REASON)?;
            if !command.kind().admits(case) {
                return Err(WorkflowError::Precondition(
                    "the case holds no contact of its reporter to erase".into(),
                ));
            }
            erase_personal_data(&mut next);
        }
        CaseCommand::Relocate {
            area,
            unit_grid,
            reason,
        } => {
            needed_text("reason", reason, MAX_REASON)?;
            if !case.district.contains(area) {
                return Err(InvalidInput::new(
                    "area",
                    format!("{area} is not in the case's district {}", case.district),
                )
                .into());
            }
            if let Some(grid) = unit_grid {
                if !grid.starts_with(area.subtree_prefix()) {
                    return Err(InvalidInput::new(
                        "unit_grid",
                        format!("unit grid {grid} is not in area {area}"),
                    )
                    .into());
                }
            }
            if *area == case.area && *unit_grid == case.unit_grid {
                return Err(WorkflowError::Precondition(
                    "the case already lies in that area and unit grid".into(),
                ));
            }
            next.area = area.clone();
            next.unit_grid = unit_grid.clone();
        }
        CaseCommand::Reassign { unit, reason, from } => {
            needed_text("reason", reason, MAX_REASON)?;
            crate::unit::check_unit_code(unit).map_err(|e| InvalidInput::new("unit", e.reason))?;
            let retired = from.as_ref().or(case.unit.as_ref()).ok_or_else(|| {
                WorkflowError::Precondition("the case has no unit to hand over".into())
            })?;
            if retired == unit {
                return Err(WorkflowError::Precondition(format!(
                    "the case is already with unit {unit}"
                )));
            }
            let leads = case.unit.as_ref() == Some(retired);
            if !leads && case.open_assist(retired).is_none() {
                return Err(WorkflowError::Precondition(format!(
                    "unit {retired} neither leads this case nor has an open part of it"
                )));
            }
            // The successor answers once: a part it already had, or the retired unit's part
            // beside the successor's lead, is released.
            let release = |part: &mut crate::case::AssistPart| {
                part.state = crate::case::AssistState::Released;
                part.finished_at = Some(now);
                part.opinion = Some(reason.clone());
            };
            if leads {
                if let Some(part) = next
                    .assists
                    .iter_mut()
                    .find(|p| &p.unit == unit && p.state.is_open())
                {
                    release(part);
                }
                next.unit = Some(unit.clone());
            }
            if let Some(part) = next
                .assists
                .iter_mut()
                .find(|p| &p.unit == retired && p.state.is_open())
            {
                let successor_busy =
                    case.unit.as_ref() == Some(unit) || case.open_assist(unit).is_some();
                if successor_busy {
                    release(part);
                } else {
                    part.unit = unit.clone();
                }
            }
        }
        CaseCommand::Rate { score, comment } => {
            if case.rating.is_some() {
                return Err(WorkflowError::Precondition(
                    "the case is already rated".into(),
                ));
            }
            if !(1..=5).contains(score) {
                return Err(InvalidInput::new("score", "a rating is 1 to 5").into());
            }
            optional_text("comment", comment, 500)?;
            next.rating = Some(Rating {
                score: *score,
                comment: comment.clone(),
                at: now,
            });
        }
    }
    if next.state.is_terminal() && !from.is_terminal() {
        next.closed_at = Some(now);
        next.stop_clock();
        // A case that ends (cancelled) ends every part still open with it.
        for part in next.assists.iter_mut().filter(|p| p.state.is_open()) {
            part.state = crate::case::AssistState::Released;
            part.finished_at = Some(now);
        }
    }
    // The unit's feedback answers a supervision notice, and so does the end of the case.
    if matches!(command, CaseCommand::Feedback { .. }) || next.state.is_terminal() {
        if let Some(supervision) = next.supervision.as_mut().filter(|s| s.is_open()) {
            supervision.answered_at = Some(now);
        }
    }
    // A clock that started, moved or stopped is watched afresh from its own yellow point.
    if (next.stage, next.deadline) != (case.stage, case.deadline) {
        next.watch = None;
        next.warning_at = next.warning_time(now, calendar, clock.warning_share);
    }
    // Late: the stage whose clock ran ended (or started over) after its deadline. An
    // assisting unit's feedback is late against its part's own deadline, which is the
    // unit's to answer for, not the case's.
    let late = if let CaseCommand::AssistFeedback { unit, .. } = command {
        case.open_assist(unit)
            .and_then(|p| p.deadline)
            .is_some_and(|deadline| now > deadline)
    } else {
        let late = case.is_overdue(now)
            && (next.stage != case.stage || (next.state != from && next.deadline != case.deadline));
        if late {
            next.late_count += 1;
        }
        late
    };
    next.version += 1;
    next.updated_at = now;
    Ok((next, late))
}

/// Records what the overdue watch found. Each finding must still hold for the case as it is
/// (the stage it names still runs, a notice is still open), so that a watch that read the case
/// a moment ago cannot record a stale finding.
fn apply_watch(
    next: &mut Case,
    finding: &crate::watch::WatchFinding,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    use crate::case::DeadlineMark;
    use crate::watch::{Escalation, WatchFinding, WatchState};
    let stale =
        |what: &str| WorkflowError::Precondition(format!("the watch's finding is stale: {what}"));
    let running = |stage: Stage| next.running_deadline().is_some() && next.stage == Some(stage);
    match finding {
        WatchFinding::SupervisionOverdue => {
            let Some(supervision) = next.supervision.as_mut().filter(|s| s.is_open()) else {
                return Err(stale("no supervision notice is open"));
            };
            supervision.overdue = true;
        }
        WatchFinding::Due { stage } => {
            if !running(*stage) {
                return Err(stale("that stage's clock no longer runs"));
            }
            next.watch = Some(WatchState {
                stage: *stage,
                mark: DeadlineMark::Due,
                steps: 0,
                escalated: None,
                next: None,
            });
        }
        WatchFinding::Overdue { stage, next: due } => {
            if !running(*stage) {
                return Err(stale("that stage's clock no longer runs"));
            }
            next.watch = Some(WatchState {
                stage: *stage,
                mark: DeadlineMark::Overdue,
                steps: 0,
                escalated: None,
                next: *due,
            });
        }
        WatchFinding::AssistDue { unit } | WatchFinding::AssistOverdue { unit } => {
            let overdue = matches!(finding, WatchFinding::AssistOverdue { .. });
            let part = next
                .assists
                .iter_mut()
                .find(|p| &p.unit == unit && p.state == crate::case::AssistState::Handling)
                .filter(|p| {
                    p.mark != DeadlineMark::Overdue && (overdue || p.mark == DeadlineMark::OnTime)
                })
                .ok_or_else(|| stale("that part is not in hand or already announced"))?;
            part.mark = if overdue {
                DeadlineMark::Overdue
            } else {
                DeadlineMark::Due
            };
        }
        WatchFinding::Escalated {
            stage,
            to,
            center,
            next: due,
        } => {
            let watch = next
                .watch
                .as_mut()
                .filter(|w| w.stage == *stage && w.mark == DeadlineMark::Overdue)
                .ok_or_else(|| stale("that stage is not overdue"))?;
            watch.steps += 1;
            watch.escalated = Some(Escalation {
                to: *to,
                center: center.clone(),
                at: now,
            });
            watch.next = *due;
        }
    }
    Ok(())
}

/// Keeps who filed, dispatched and handled the case: the evaluation holds a later
/// cancellation against the filing, a return against the dispatch and a failed check against
/// the handling.
/// The open part of `unit` in one of `states`, to change.
fn open_part<'a>(
    case: &'a mut Case,
    unit: &str,
    states: &[crate::case::AssistState],
) -> Result<&'a mut crate::case::AssistPart, WorkflowError> {
    let part = case
        .assists
        .iter_mut()
        .find(|p| p.unit == unit && p.state.is_open())
        .ok_or_else(|| {
            WorkflowError::Precondition(format!("unit {unit} has no open part of this case"))
        })?;
    if !states.contains(&part.state) {
        return Err(WorkflowError::Precondition(format!(
            "unit {unit}'s part is {}",
            part.state.as_str()
        )));
    }
    Ok(part)
}

/// The most assisting units a case has open at once.
pub const MAX_OPEN_ASSISTS: usize = 10;

fn remember_actor(case: &mut Case, command: &CaseCommand, user_id: &str) {
    match command {
        CaseCommand::AssistFeedback { unit, .. } => {
            // The part just fed back: the unit's latest finished (an earlier part of the same
            // unit, handed on at a retirement, may come after it in the list).
            if let Some(part) = case
                .assists
                .iter_mut()
                .filter(|p| &p.unit == unit && p.state == crate::case::AssistState::Done)
                .max_by_key(|p| p.finished_at)
            {
                part.handled_by = Some(user_id.to_owned());
            }
        }
        CaseCommand::File { .. } => case.filed_by = Some(user_id.to_owned()),
        CaseCommand::Dispatch { .. } => case.dispatched_by = Some(user_id.to_owned()),
        CaseCommand::Feedback { .. } => case.handled_by = Some(user_id.to_owned()),
        CaseCommand::Appeal { .. } => {
            if let Some(appeal) = case.appeals.last_mut() {
                appeal.filed_by = user_id.to_owned();
            }
        }
        CaseCommand::DecideAppeal { appeal, .. } => {
            if let Some(decision) = case
                .appeals
                .iter_mut()
                .find(|a| a.number == *appeal)
                .and_then(|a| a.decision.as_mut())
            {
                decision.by = user_id.to_owned();
            }
        }
        _ => {}
    }
}

/// Rebuilds a case from its timeline. Used to prove the timeline is complete.
pub fn replay(number: CaseNumber, events: &[TimelineEvent]) -> Result<Case, WorkflowError> {
    let mut events = events.iter();
    let first = events
        .next()
        .ok_or_else(|| WorkflowError::Precondition("an empty timeline has no case".into()))?;
    let CaseCommand::Report(report) = &first.command else {
        return Err(WorkflowError::Precondition(
            "a timeline starts with the report".into(),
        ));
    };
    let mut case = open(
        first.case_id.clone(),
        number,
        report,
        &first.user_id,
        first.at,
        &PLAIN_WEEK,
    )?;
    if let Some(change) = &first.clock {
        case.stage = change.stage;
        case.deadline = change.deadline;
        case.warning_at = change.warning;
    }
    for event in events {
        case = apply(&case, &event.command, event.at)?.0;
        remember_actor(&mut case, &event.command, &event.user_id);
        // The deadlines as they were reckoned then, on the calendar of the day.
        if let Some(change) = &event.clock {
            case.stage = change.stage;
            case.deadline = change.deadline;
            case.warning_at = change.warning;
            if let ClockReason::Parked {
                remaining_secs,
                working_time,
            } = change.reason
            {
                case.suspended_remaining_secs = remaining_secs;
                case.suspended_on_working_time = working_time;
            }
        }
    }
    Ok(case)
}
