//! The catalogue of workflow commands: every kind of command, its names, its rule (who may
//! issue it, from which states), how it reaches the workflow, and the happy path a case takes
//! from its report to closing.
//!
//! [`CommandKind`] is the one list. Everything that names, authorizes, offers or routes a
//! command derives from it through exhaustive `match`es, so a new kind of command does not
//! compile until each of them says what it means for the new kind. It never names an HTTP
//! endpoint: the API maps [`Channel`]s to its endpoints.

use std::fmt;

use crate::actor::Role;
use crate::case::{Case, CaseState, PendingRequest, Source};

/// Every kind of command of the case workflow, one per variant of
/// [`crate::workflow::CaseCommand`] (see [`crate::workflow::CaseCommand::kind`]).
///
/// The order of [`CommandKind::ALL`] is the order commands are offered in; a new variant goes
/// into `ALL` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandKind {
    Report,
    Accept,
    Reject,
    RequestVerification,
    Verify,
    File,
    SelfHandle,
    Dispatch,
    Sign,
    Return,
    Assist,
    SignAssist,
    AssistFeedback,
    ReturnAssist,
    ReleaseAssist,
    RequestExtension,
    DecideExtension,
    RequestPark,
    DecidePark,
    Resume,
    Feedback,
    SendCheck,
    Check,
    StartCallback,
    Callback,
    Close,
    Cancel,
    SetUrgent,
    SetFields,
    Escalate,
    Supervise,
    Attach,
    Rate,
    Note,
    ErasePersonalData,
    Relocate,
    Reassign,
    Watch,
    Merge,
    Unmerge,
    TakeReport,
    ReleaseReport,
    Appeal,
    DecideAppeal,
}

/// How a command reaches the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Named by a client on an existing case, with the command's fields as the body.
    Command,
    /// Opening a case: a report by staff, a citizen or an alarm.
    Report,
    /// Uploading a photo or file to a case, by staff or by the citizen who reported it.
    Attachment,
    /// The citizen's rating of their closed case, proved by their follow token.
    Rating,
    /// CityOps itself (an alarm's notes on its case); no client issues it.
    System,
}

/// Who may issue a command and in which states: the workflow of the standard as one table,
/// a row per [`CommandKind`] (see [`CommandKind::rule`]). `apply` refuses a command outside
/// its states; `available` lists what an actor may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRule {
    pub roles: &'static [Role],
    pub from: &'static [CaseState],
}

/// Every state a case can still change in.
const OPEN: &[CaseState] = &CaseState::OPEN;

/// The states in which a case may have counted against a unit (it was dispatched), finished
/// or not: appeals come after the evaluation's figures, often after closing.
const COUNTED: &[CaseState] = &[
    CaseState::Dispatched,
    CaseState::Handling,
    CaseState::Suspended,
    CaseState::Handled,
    CaseState::Checking,
    CaseState::Checked,
    CaseState::Callback,
    CaseState::Closed,
    CaseState::Cancelled,
];

/// The states in which an assisting unit's part may be open and worked on: beside a lead
/// (dispatched to one, handling, parked), and back with the dispatcher after the lead
/// returned the case.
const ASSISTED: &[CaseState] = &[
    CaseState::Filed,
    CaseState::Dispatched,
    CaseState::Handling,
    CaseState::Suspended,
];

const STAFF_AND_CITIZENS: &[Role] = &[
    Role::Citizen,
    Role::Inspector,
    Role::Operator,
    Role::ShiftLead,
    Role::Dispatcher,
    Role::UnitHandler,
    Role::CenterLeader,
];

impl CommandKind {
    pub const ALL: [CommandKind; 44] = [
        CommandKind::Report,
        CommandKind::Accept,
        CommandKind::Reject,
        CommandKind::RequestVerification,
        CommandKind::Verify,
        CommandKind::File,
        CommandKind::SelfHandle,
        CommandKind::Dispatch,
        CommandKind::Sign,
        CommandKind::Return,
        CommandKind::Assist,
        CommandKind::SignAssist,
        CommandKind::AssistFeedback,
        CommandKind::ReturnAssist,
        CommandKind::ReleaseAssist,
        CommandKind::RequestExtension,
        CommandKind::DecideExtension,
        CommandKind::RequestPark,
        CommandKind::DecidePark,
        CommandKind::Resume,
        CommandKind::Feedback,
        CommandKind::SendCheck,
        CommandKind::Check,
        CommandKind::StartCallback,
        CommandKind::Callback,
        CommandKind::Close,
        CommandKind::Cancel,
        CommandKind::SetUrgent,
        CommandKind::SetFields,
        CommandKind::Escalate,
        CommandKind::Supervise,
        CommandKind::Attach,
        CommandKind::Rate,
        CommandKind::Note,
        CommandKind::ErasePersonalData,
        CommandKind::Relocate,
        CommandKind::Reassign,
        CommandKind::Watch,
        CommandKind::Merge,
        CommandKind::Unmerge,
        CommandKind::TakeReport,
        CommandKind::ReleaseReport,
        CommandKind::Appeal,
        CommandKind::DecideAppeal,
    ];

    /// The stored name: the `command` tag of timeline events, the outbox topic
    /// `case.<name>` and the audit action `case.<name>`. Stored data depends on these strings:
    /// they never change.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Report => "report",
            CommandKind::Accept => "accept",
            CommandKind::Reject => "reject",
            CommandKind::RequestVerification => "request_verification",
            CommandKind::Verify => "verify",
            CommandKind::File => "file",
            CommandKind::SelfHandle => "self_handle",
            CommandKind::Dispatch => "dispatch",
            CommandKind::Sign => "sign",
            CommandKind::Return => "return",
            CommandKind::Assist => "assist",
            CommandKind::SignAssist => "sign_assist",
            CommandKind::AssistFeedback => "assist_feedback",
            CommandKind::ReturnAssist => "return_assist",
            CommandKind::ReleaseAssist => "release_assist",
            CommandKind::RequestExtension => "request_extension",
            CommandKind::DecideExtension => "decide_extension",
            CommandKind::RequestPark => "request_park",
            CommandKind::DecidePark => "decide_park",
            CommandKind::Resume => "resume",
            CommandKind::Feedback => "feedback",
            CommandKind::SendCheck => "send_check",
            CommandKind::Check => "check",
            CommandKind::StartCallback => "start_callback",
            CommandKind::Callback => "callback",
            CommandKind::Close => "close",
            CommandKind::Cancel => "cancel",
            CommandKind::SetUrgent => "set_urgent",
            CommandKind::SetFields => "set_fields",
            CommandKind::Escalate => "escalate",
            CommandKind::Supervise => "supervise",
            CommandKind::Attach => "attach",
            CommandKind::Rate => "rate",
            CommandKind::Note => "note",
            CommandKind::ErasePersonalData => "erase_personal_data",
            CommandKind::Relocate => "relocate",
            CommandKind::Reassign => "reassign",
            CommandKind::Watch => "watch",
            CommandKind::Merge => "merge",
            CommandKind::Unmerge => "unmerge",
            CommandKind::TakeReport => "take_report",
            CommandKind::ReleaseReport => "release_report",
            CommandKind::Appeal => "appeal",
            CommandKind::DecideAppeal => "decide_appeal",
        }
    }

    /// The name clients use, e.g. `request-extension` in `POST .../cases/{id}/request-extension`.
    pub fn wire_name(self) -> &'static str {
        match self {
            CommandKind::Report => "report",
            CommandKind::Accept => "accept",
            CommandKind::Reject => "reject",
            CommandKind::RequestVerification => "request-verification",
            CommandKind::Verify => "verify",
            CommandKind::File => "file",
            CommandKind::SelfHandle => "self-handle",
            CommandKind::Dispatch => "dispatch",
            CommandKind::Sign => "sign",
            CommandKind::Return => "return",
            CommandKind::Assist => "assist",
            CommandKind::SignAssist => "sign-assist",
            CommandKind::AssistFeedback => "assist-feedback",
            CommandKind::ReturnAssist => "return-assist",
            CommandKind::ReleaseAssist => "release-assist",
            CommandKind::RequestExtension => "request-extension",
            CommandKind::DecideExtension => "decide-extension",
            CommandKind::RequestPark => "request-park",
            CommandKind::DecidePark => "decide-park",
            CommandKind::Resume => "resume",
            CommandKind::Feedback => "feedback",
            CommandKind::SendCheck => "send-check",
            CommandKind::Check => "check",
            CommandKind::StartCallback => "start-callback",
            CommandKind::Callback => "callback",
            CommandKind::Close => "close",
            CommandKind::Cancel => "cancel",
            CommandKind::SetUrgent => "set-urgent",
            CommandKind::SetFields => "set-fields",
            CommandKind::Escalate => "escalate",
            CommandKind::Supervise => "supervise",
            CommandKind::Attach => "attach",
            CommandKind::Rate => "rate",
            CommandKind::Note => "note",
            CommandKind::ErasePersonalData => "erase-personal-data",
            CommandKind::Relocate => "relocate",
            CommandKind::Reassign => "reassign",
            CommandKind::Watch => "watch",
            CommandKind::Merge => "merge",
            CommandKind::Unmerge => "unmerge",
            CommandKind::TakeReport => "take-report",
            CommandKind::ReleaseReport => "release-report",
            CommandKind::Appeal => "appeal",
            CommandKind::DecideAppeal => "decide-appeal",
        }
    }

    /// The kind a client's name stands for, whatever its channel.
    pub fn from_wire_name(name: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .into_iter()
            .find(|kind| kind.wire_name() == name)
    }

    /// The kind a stored name stands for.
    pub fn parse(name: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// How the command reaches the workflow.
    pub fn channel(self) -> Channel {
        match self {
            CommandKind::Report => Channel::Report,
            CommandKind::Attach => Channel::Attachment,
            CommandKind::Rate => Channel::Rating,
            CommandKind::Note
            | CommandKind::ErasePersonalData
            | CommandKind::Relocate
            | CommandKind::Reassign
            | CommandKind::TakeReport
            | CommandKind::ReleaseReport
            | CommandKind::Watch => Channel::System,
            CommandKind::Accept
            | CommandKind::Reject
            | CommandKind::RequestVerification
            | CommandKind::Verify
            | CommandKind::File
            | CommandKind::SelfHandle
            | CommandKind::Dispatch
            | CommandKind::Sign
            | CommandKind::Return
            | CommandKind::Assist
            | CommandKind::SignAssist
            | CommandKind::AssistFeedback
            | CommandKind::ReturnAssist
            | CommandKind::ReleaseAssist
            | CommandKind::RequestExtension
            | CommandKind::DecideExtension
            | CommandKind::RequestPark
            | CommandKind::DecidePark
            | CommandKind::Resume
            | CommandKind::Feedback
            | CommandKind::SendCheck
            | CommandKind::Check
            | CommandKind::StartCallback
            | CommandKind::Callback
            | CommandKind::Close
            | CommandKind::Cancel
            | CommandKind::SetUrgent
            | CommandKind::SetFields
            | CommandKind::Escalate
            | CommandKind::Supervise
            | CommandKind::Merge
            | CommandKind::Unmerge
            | CommandKind::Appeal
            | CommandKind::DecideAppeal => Channel::Command,
        }
    }

    /// Who may issue the command, and in which states.
    pub fn rule(self) -> CommandRule {
        use CaseState::*;
        use Role::*;
        let (roles, from): (&'static [Role], &'static [CaseState]) = match self {
            CommandKind::Report => (
                &[
                    Citizen,
                    Inspector,
                    Operator,
                    ShiftLead,
                    UnitHandler,
                    CenterLeader,
                    System,
                ],
                &[],
            ),
            CommandKind::Accept | CommandKind::Reject => (&[Operator], &[Reported]),
            CommandKind::RequestVerification => (&[Operator], &[Accepted]),
            CommandKind::Verify => (&[Inspector], &[Verifying]),
            CommandKind::File => (&[ShiftLead], &[Accepted]),
            CommandKind::SelfHandle => (&[Inspector], &[Accepted]),
            CommandKind::Dispatch | CommandKind::Escalate => (&[Dispatcher], &[Filed]),
            CommandKind::Sign => (&[UnitHandler], &[Dispatched]),
            CommandKind::Return => (&[UnitHandler], &[Dispatched, Handling]),
            // Beside a lead that has the case; a lead's feedback waits for the parts.
            CommandKind::Assist => (&[Dispatcher], &[Dispatched, Handling, Suspended]),
            // The system releases the parts of a unit retired without a successor.
            CommandKind::ReleaseAssist => (&[Dispatcher, System], ASSISTED),
            CommandKind::SignAssist | CommandKind::AssistFeedback | CommandKind::ReturnAssist => {
                (&[UnitHandler], ASSISTED)
            }
            CommandKind::RequestExtension | CommandKind::RequestPark | CommandKind::Feedback => {
                (&[UnitHandler], &[Handling])
            }
            CommandKind::DecideExtension | CommandKind::DecidePark => (&[ShiftLead], &[Handling]),
            CommandKind::Resume => (&[ShiftLead, UnitHandler], &[Suspended]),
            CommandKind::SendCheck => (&[Operator], &[Handled]),
            CommandKind::Check => (&[Inspector], &[Checking]),
            CommandKind::StartCallback => (&[Operator], &[Checked]),
            CommandKind::Callback => (&[Operator], &[CaseState::Callback]),
            CommandKind::Close => (&[ShiftLead], &[Checked]),
            CommandKind::Cancel | CommandKind::SetUrgent => (&[ShiftLead], OPEN),
            CommandKind::Supervise => (&[CenterLeader], OPEN),
            // Whoever takes, verifies or files the report completes its class's form.
            CommandKind::SetFields => (&[Inspector, Operator, ShiftLead], OPEN),
            CommandKind::Attach => (STAFF_AND_CITIZENS, OPEN),
            CommandKind::Rate => (&[Citizen], &[Closed]),
            CommandKind::Note => (&[System], OPEN),
            CommandKind::ErasePersonalData => (
                &[DataSteward, System],
                &[Invalid, Closed, Cancelled, Merged],
            ),
            CommandKind::Relocate | CommandKind::Reassign => (&[Admin, System], OPEN),
            CommandKind::Watch => (&[System], OPEN),
            // A report not yet filed: once filed, it has its own place in the evaluation.
            CommandKind::Merge => (&[Operator, ShiftLead], &[Reported, Accepted, Verifying]),
            CommandKind::Unmerge => (&[ShiftLead], &[Merged]),
            // Written with the report's merge by whoever merged; no client names them.
            CommandKind::TakeReport | CommandKind::ReleaseReport => (&[System], OPEN),
            CommandKind::Appeal => (&[UnitHandler], COUNTED),
            CommandKind::DecideAppeal => (&[Evaluator], COUNTED),
        };
        CommandRule { roles, from }
    }

    /// A unit handler may issue the command only on a case dispatched to their own unit.
    pub fn needs_assigned_unit(self) -> bool {
        match self {
            CommandKind::Sign
            | CommandKind::Return
            | CommandKind::RequestExtension
            | CommandKind::RequestPark
            | CommandKind::Feedback
            | CommandKind::Resume
            | CommandKind::Attach => true,
            // An assisting unit's handler acts on their own unit's part instead (see
            // [`CommandKind::needs_own_part`]).
            CommandKind::Assist
            | CommandKind::SignAssist
            | CommandKind::AssistFeedback
            | CommandKind::ReturnAssist
            | CommandKind::ReleaseAssist => false,
            CommandKind::Report
            | CommandKind::Accept
            | CommandKind::Reject
            | CommandKind::RequestVerification
            | CommandKind::Verify
            | CommandKind::File
            | CommandKind::SelfHandle
            | CommandKind::Dispatch
            | CommandKind::DecideExtension
            | CommandKind::DecidePark
            | CommandKind::SendCheck
            | CommandKind::Check
            | CommandKind::StartCallback
            | CommandKind::Callback
            | CommandKind::Close
            | CommandKind::Cancel
            | CommandKind::SetUrgent
            | CommandKind::SetFields
            | CommandKind::Escalate
            | CommandKind::Supervise
            | CommandKind::Rate
            | CommandKind::Note
            | CommandKind::ErasePersonalData
            | CommandKind::Relocate
            | CommandKind::Reassign
            | CommandKind::Watch
            | CommandKind::Merge
            | CommandKind::Unmerge
            | CommandKind::TakeReport
            | CommandKind::ReleaseReport
            | CommandKind::Appeal
            | CommandKind::DecideAppeal => false,
        }
    }

    /// Whether the case as it is now takes the command, whoever issues it: its state is one
    /// the command is accepted in, and the case meets the command's own precondition (a
    /// request pending or not, the source, a verification, a call-back, a rating). What
    /// `available` offers; `apply` checks the same and says why not.
    pub fn admits(self, case: &Case) -> bool {
        if !self.rule().from.contains(&case.state) {
            return false;
        }
        match self {
            CommandKind::RequestExtension | CommandKind::RequestPark => case.pending.is_none(),
            CommandKind::DecideExtension => {
                matches!(case.pending, Some(PendingRequest::Extension { .. }))
            }
            CommandKind::DecidePark => matches!(case.pending, Some(PendingRequest::Park { .. })),
            CommandKind::StartCallback => case.callbacks_owed(),
            CommandKind::Close => !case.callbacks_owed() || case.callback_satisfied == Some(true),
            CommandKind::Rate => case.rating.is_none(),
            CommandKind::SelfHandle => case.source == Source::Inspector,
            CommandKind::File => !case.source.needs_verification() || case.verified,
            CommandKind::Feedback => case.open_assists().next().is_none(),
            CommandKind::Assist => case.unit.is_some(),
            CommandKind::SignAssist => case
                .assists
                .iter()
                .any(|p| p.state == crate::case::AssistState::Assigned),
            CommandKind::AssistFeedback => case
                .assists
                .iter()
                .any(|p| p.state == crate::case::AssistState::Handling),
            CommandKind::ReturnAssist | CommandKind::ReleaseAssist => {
                case.open_assists().next().is_some()
            }
            CommandKind::Report
            | CommandKind::Accept
            | CommandKind::Reject
            | CommandKind::RequestVerification
            | CommandKind::Verify
            | CommandKind::Dispatch
            | CommandKind::Sign
            | CommandKind::Return
            | CommandKind::Resume
            | CommandKind::SendCheck
            | CommandKind::Check
            | CommandKind::Callback
            | CommandKind::Cancel
            | CommandKind::SetUrgent
            | CommandKind::SetFields
            | CommandKind::Escalate
            | CommandKind::Supervise
            | CommandKind::Attach
            | CommandKind::Note
            | CommandKind::Relocate
            | CommandKind::Watch
            | CommandKind::Unmerge
            | CommandKind::TakeReport
            | CommandKind::ReleaseReport
            | CommandKind::Appeal => true,
            // A master answers for the reports merged into it: it is merged into no other.
            CommandKind::Merge => case.merged_reports.is_empty(),
            CommandKind::DecideAppeal => case.appeals.iter().any(|a| a.decision.is_none()),
            CommandKind::Reassign => case.unit.is_some() || case.open_assists().next().is_some(),
            CommandKind::ErasePersonalData => case
                .reporter
                .as_ref()
                .is_some_and(|r| r.name.is_some() || r.phone.is_some()),
        }
    }
}

impl CommandKind {
    /// A unit handler may issue the command only for their own unit's part, in the state the
    /// command acts on: an assigned part is signed for, a part in hand fed back, an open one
    /// returned.
    pub fn needs_own_part(self) -> Option<&'static [crate::case::AssistState]> {
        use crate::case::AssistState::*;
        match self {
            CommandKind::SignAssist => Some(&[Assigned]),
            CommandKind::AssistFeedback => Some(&[Handling]),
            CommandKind::ReturnAssist => Some(&[Assigned, Handling]),
            _ => None,
        }
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of the happy path: who issues which command, and the state it leaves the case in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub role: Role,
    pub command: CommandKind,
    pub to: CaseState,
}

/// The happy path of a case reported from `source`, from its report to closing: accepted,
/// verified on site when its source needs that, filed, dispatched, signed for, handled,
/// checked, called back when it came from the hotline, and closed. The one script the demo
/// seeds, the property test drives and the benchmark times.
pub fn happy_path(source: Source) -> Vec<Step> {
    let step = |role, command, to| Step { role, command, to };
    let mut steps = vec![step(
        Role::Operator,
        CommandKind::Accept,
        CaseState::Accepted,
    )];
    if source.needs_verification() {
        steps.push(step(
            Role::Operator,
            CommandKind::RequestVerification,
            CaseState::Verifying,
        ));
        steps.push(step(
            Role::Inspector,
            CommandKind::Verify,
            CaseState::Accepted,
        ));
    }
    steps.extend([
        step(Role::ShiftLead, CommandKind::File, CaseState::Filed),
        step(
            Role::Dispatcher,
            CommandKind::Dispatch,
            CaseState::Dispatched,
        ),
        step(Role::UnitHandler, CommandKind::Sign, CaseState::Handling),
        step(Role::UnitHandler, CommandKind::Feedback, CaseState::Handled),
        step(Role::Operator, CommandKind::SendCheck, CaseState::Checking),
        step(Role::Inspector, CommandKind::Check, CaseState::Checked),
    ]);
    if source == Source::Hotline {
        steps.push(step(
            Role::Operator,
            CommandKind::StartCallback,
            CaseState::Callback,
        ));
        steps.push(step(
            Role::Operator,
            CommandKind::Callback,
            CaseState::Checked,
        ));
    }
    steps.push(step(Role::ShiftLead, CommandKind::Close, CaseState::Closed));
    steps
}

/// The steps that take a new case reported from `source` to `state` on the happy path: its
/// shortest beginning that ends in `state` (none for `reported`). `None` when the happy path
/// never passes `state` (rejected, parked, cancelled; verifying for a source that needs no
/// verification).
pub fn happy_path_to(source: Source, state: CaseState) -> Option<Vec<Step>> {
    if state == CaseState::Reported {
        return Some(Vec::new());
    }
    let mut steps = happy_path(source);
    let end = steps.iter().position(|step| step.to == state)?;
    steps.truncate(end + 1);
    Some(steps)
}

/// The next step of the happy path for `case` as it is now: the furthest step of its source's
/// path that the case admits. `None` when the case is finished, parked, or otherwise off the
/// path.
pub fn next_happy_step(case: &Case) -> Option<Step> {
    happy_path(case.source)
        .into_iter()
        .rev()
        .find(|step| step.command.admits(case))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_one_stored_name_and_one_wire_name_that_read_back() {
        let stored: HashSet<_> = CommandKind::ALL.iter().map(|k| k.as_str()).collect();
        let wire: HashSet<_> = CommandKind::ALL.iter().map(|k| k.wire_name()).collect();
        assert_eq!(stored.len(), CommandKind::ALL.len());
        assert_eq!(wire.len(), CommandKind::ALL.len());
        for kind in CommandKind::ALL {
            assert_eq!(CommandKind::parse(kind.as_str()), Some(kind));
            assert_eq!(CommandKind::from_wire_name(kind.wire_name()), Some(kind));
            assert_eq!(kind.wire_name(), kind.as_str().replace('_', "-"));
        }
    }

    #[test]
    fn only_the_system_issues_notes_and_only_citizens_rate() {
        assert_eq!(CommandKind::Note.rule().roles, &[Role::System]);
        assert_eq!(CommandKind::Rate.rule().roles, &[Role::Citizen]);
        assert_eq!(CommandKind::Note.channel(), Channel::System);
        assert_eq!(CommandKind::Rate.channel(), Channel::Rating);
    }

    #[test]
    fn the_happy_path_of_a_hotline_report_is_verified_and_called_back() {
        let kinds: Vec<_> = happy_path(Source::Hotline)
            .iter()
            .map(|s| s.command)
            .collect();
        assert_eq!(kinds.len(), 12);
        assert!(kinds.contains(&CommandKind::Verify));
        assert!(kinds.contains(&CommandKind::Callback));
        let inspector: Vec<_> = happy_path(Source::Inspector)
            .iter()
            .map(|s| s.command)
            .collect();
        assert_eq!(inspector.len(), 8);
        assert!(!inspector.contains(&CommandKind::Verify));
        assert_eq!(inspector.last(), Some(&CommandKind::Close));
    }

    #[test]
    fn the_path_to_a_state_stops_at_its_first_arrival() {
        let to_accepted = happy_path_to(Source::Photo, CaseState::Accepted).unwrap();
        assert_eq!(to_accepted.len(), 1);
        assert!(happy_path_to(Source::Inspector, CaseState::Verifying).is_none());
        assert!(happy_path_to(Source::Hotline, CaseState::Suspended).is_none());
        assert_eq!(
            happy_path_to(Source::Hotline, CaseState::Closed).unwrap(),
            happy_path(Source::Hotline)
        );
    }
}
