//! The evaluation (综合评价, GB/T 30428.4): the standard indicators of areas, units and
//! positions over any period, their composite values and grades.
//!
//! The evaluation is a sum. Every timeline event adds a few [`LedgerEntry`]s, each "one more
//! of this [`Counter`], on this day, for whoever the counter is about" (the case's area and
//! unit grid, the unit, the member of staff and their position); [`entries`] is the one
//! definition of them, from the event and the case as it is after. A period's figures are the
//! sums of the entries of its days ([`Figures`]), so the store can keep them as cases move and
//! recompute them from the timelines to check, and every number can be drilled down to the
//! cases whose entries make it. [`Indicators`] turns figures into the formulas' rates, and an
//! [`EvaluationConfig`] (weights, count bands, grade cut-offs: configuration, since cities
//! localise them) into composite values and grades.
//!
//! "On time" is the workflow's own: an event that ends a stage after its deadline on the
//! working calendar is `late` on the timeline, and an event that is not late finished its
//! stage on time.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::actor::Role;
use crate::area::{AreaCode, AreaLevel};
use crate::case::{china_time, AssistState, Case, CaseState, Source, Stage, TimelineEvent};
use crate::watch::WatchFinding;
use crate::workflow::CaseCommand;
use crate::InvalidInput;

/// Everything the evaluation counts. The stored names ([`Counter::as_str`]) never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// 上报数: a report (the area's; the reporting inspector's).
    Reported,
    /// 立案数: a case filed (the area's; the shift lead's).
    Filed,
    /// A filing before the file stage's deadline (按时立案).
    FiledOnTime,
    /// A filed case later cancelled (作废): the filing shift lead's inaccuracy.
    FiledCancelled,
    /// 监督举报核实数: a citizen's report (hotline, photo) verified and filed.
    PublicVerified,
    /// 有效上报数: an inspector's report that was filed.
    ValidReport,
    /// 受理数: a report accepted by an operator.
    Accepted,
    /// A verification task sent (核实派发), and sent on time.
    VerifySent,
    VerifySentOnTime,
    /// A verification done on site (核实), and done on time.
    Verified,
    VerifiedOnTime,
    /// A check task sent (核查派发), and sent on time.
    CheckSent,
    CheckSentOnTime,
    /// A check done on site (核查), and done on time.
    Checked,
    CheckedOnTime,
    /// 派遣数: a dispatch (the dispatcher's; the unit's cases), and one on time.
    Dispatched,
    DispatchedOnTime,
    /// A dispatch the unit returned (误派 / 回退): the dispatcher's inaccuracy.
    Misdispatched,
    /// 处置数: the unit's feedback (the unit's, its handler's and the area's), and on time.
    Handled,
    HandledOnTime,
    /// 超期未处置数: a handling stage that went past its deadline unhandled. Withdrawn when
    /// the handling comes after all (late): a case counts once, where it was handled, or,
    /// while it is not, where it went overdue.
    OverdueUnhandled,
    /// 返工数: handling that failed its check and went back for rework.
    Rework,
    /// 结案数: a case closed, and closed with every stage on time (按期结案).
    Closed,
    ClosedOnTime,
    /// A case filed in an inspector's responsibility grid (the inspector's, for 漏报率).
    GridFiled,
    /// 漏报数: a case filed in an inspector's responsibility grid that someone else reported.
    Missed,
    /// An assisting unit's part (协办) assigned to it: a case given to the unit, which its
    /// areas do not count again.
    PartAssigned,
    /// An assisting unit's part fed back (the unit's and its handler's), and on time against
    /// the part's own deadline.
    PartHandled,
    PartHandledOnTime,
    /// A case closed with the assisting unit's part done in it.
    PartClosed,
    /// An assisting unit's part that went past its deadline unanswered; withdrawn, as
    /// [`Counter::OverdueUnhandled`] is, when it is fed back after all.
    PartOverdueUnhandled,
}

impl Counter {
    pub const ALL: [Counter; 31] = [
        Counter::Reported,
        Counter::Filed,
        Counter::FiledOnTime,
        Counter::FiledCancelled,
        Counter::PublicVerified,
        Counter::ValidReport,
        Counter::Accepted,
        Counter::VerifySent,
        Counter::VerifySentOnTime,
        Counter::Verified,
        Counter::VerifiedOnTime,
        Counter::CheckSent,
        Counter::CheckSentOnTime,
        Counter::Checked,
        Counter::CheckedOnTime,
        Counter::Dispatched,
        Counter::DispatchedOnTime,
        Counter::Misdispatched,
        Counter::Handled,
        Counter::HandledOnTime,
        Counter::OverdueUnhandled,
        Counter::Rework,
        Counter::Closed,
        Counter::ClosedOnTime,
        Counter::GridFiled,
        Counter::Missed,
        Counter::PartAssigned,
        Counter::PartHandled,
        Counter::PartHandledOnTime,
        Counter::PartClosed,
        Counter::PartOverdueUnhandled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Reported => "reported",
            Counter::Filed => "filed",
            Counter::FiledOnTime => "filed_on_time",
            Counter::FiledCancelled => "filed_cancelled",
            Counter::PublicVerified => "public_verified",
            Counter::ValidReport => "valid_report",
            Counter::Accepted => "accepted",
            Counter::VerifySent => "verify_sent",
            Counter::VerifySentOnTime => "verify_sent_on_time",
            Counter::Verified => "verified",
            Counter::VerifiedOnTime => "verified_on_time",
            Counter::CheckSent => "check_sent",
            Counter::CheckSentOnTime => "check_sent_on_time",
            Counter::Checked => "checked",
            Counter::CheckedOnTime => "checked_on_time",
            Counter::Dispatched => "dispatched",
            Counter::DispatchedOnTime => "dispatched_on_time",
            Counter::Misdispatched => "misdispatched",
            Counter::Handled => "handled",
            Counter::HandledOnTime => "handled_on_time",
            Counter::OverdueUnhandled => "overdue_unhandled",
            Counter::Rework => "rework",
            Counter::Closed => "closed",
            Counter::ClosedOnTime => "closed_on_time",
            Counter::GridFiled => "grid_filed",
            Counter::Missed => "missed",
            Counter::PartAssigned => "part_assigned",
            Counter::PartHandled => "part_handled",
            Counter::PartHandledOnTime => "part_handled_on_time",
            Counter::PartClosed => "part_closed",
            Counter::PartOverdueUnhandled => "part_overdue_unhandled",
        }
    }

    pub fn parse(text: &str) -> Option<Counter> {
        Counter::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Who an entry counts for besides the case's area: a unit and a member of staff in a
/// position, when the counter is about them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub case_id: String,
    /// The local (Asia/Shanghai) day of the event.
    pub day: NaiveDate,
    pub counter: Counter,
    /// The case's finest area (community, street or district) and unit grid: the area
    /// levels count every entry whose counter is an area's.
    pub area: AreaCode,
    pub unit_grid: Option<String>,
    /// The unit the counter is about, when it is about one.
    pub unit: Option<String>,
    /// The member of staff the counter is about and the position they held it in.
    pub user_id: Option<String>,
    pub role: Option<Role>,
}

/// The local day of an instant, as the evaluation dates it.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_time()).date_naive()
}

/// The entries one timeline event adds, from the event and the case as it is after it.
pub fn entries(event: &TimelineEvent, case: &Case) -> Vec<LedgerEntry> {
    let day = day_of(event.at);
    let on_time = !event.late;
    let actor = Some(event.user_id.clone());
    let mut out = Vec::new();
    let mut add =
        |counter: Counter, unit: Option<&str>, user: Option<&String>, role: Option<Role>| {
            out.push(LedgerEntry {
                case_id: case.id.clone(),
                day,
                counter,
                area: case.area.clone(),
                unit_grid: case.unit_grid.clone(),
                unit: unit.map(str::to_owned),
                user_id: user.cloned(),
                role,
            });
        };
    let by = |role: Role| (actor.as_ref(), Some(role));
    match &event.command {
        CaseCommand::Report(_) => {
            // A report counts for the inspector who made it; others' count for their area.
            let (user, role) = match event.role {
                Role::Inspector => by(Role::Inspector),
                _ => (None, None),
            };
            add(Counter::Reported, None, user, role);
        }
        CaseCommand::Accept { .. } => {
            let (user, role) = by(Role::Operator);
            add(Counter::Accepted, None, user, role);
        }
        CaseCommand::RequestVerification { .. } => {
            let (user, role) = by(Role::Operator);
            add(Counter::VerifySent, None, user, role);
            if on_time {
                add(Counter::VerifySentOnTime, None, user, role);
            }
        }
        CaseCommand::Verify { .. } => {
            let (user, role) = by(Role::Inspector);
            add(Counter::Verified, None, user, role);
            if on_time {
                add(Counter::VerifiedOnTime, None, user, role);
            }
        }
        CaseCommand::File { .. } => {
            let (user, role) = by(Role::ShiftLead);
            add(Counter::Filed, None, user, role);
            if on_time {
                add(Counter::FiledOnTime, None, user, role);
            }
            if matches!(case.source, Source::Hotline | Source::Photo) && case.verified {
                add(Counter::PublicVerified, None, None, None);
            }
            if let Some(inspector) = &case.grid_inspector {
                // Filed in an inspector's grid: theirs to find; missed unless they reported it.
                let whose = Some(&inspector.user_id);
                add(Counter::GridFiled, None, whose, Some(Role::Inspector));
                if case.reported_by != inspector.user_id {
                    add(Counter::Missed, None, whose, Some(Role::Inspector));
                }
            }
            if case.source == Source::Inspector {
                // The reporting inspector's report proved valid.
                let reporter = Some(case.reported_by.clone());
                add(
                    Counter::ValidReport,
                    None,
                    reporter.as_ref(),
                    Some(Role::Inspector),
                );
            }
        }
        CaseCommand::Dispatch { unit, .. } => {
            let (user, role) = by(Role::Dispatcher);
            add(Counter::Dispatched, Some(unit), user, role);
            if on_time {
                add(Counter::DispatchedOnTime, Some(unit), user, role);
            }
        }
        CaseCommand::Return { .. } => {
            // The dispatch was wrong: it counts against the dispatcher who made it.
            if let Some(dispatcher) = &case.dispatched_by {
                add(
                    Counter::Misdispatched,
                    case.unit.as_deref(),
                    Some(dispatcher),
                    Some(Role::Dispatcher),
                );
            }
        }
        CaseCommand::Feedback { .. } => {
            let (user, role) = by(Role::UnitHandler);
            let unit = case.unit.as_deref();
            add(Counter::Handled, unit, user, role);
            if on_time {
                add(Counter::HandledOnTime, unit, user, role);
            }
        }
        CaseCommand::Assist { unit, .. } => add(Counter::PartAssigned, Some(unit), None, None),
        CaseCommand::AssistFeedback { unit, .. } => {
            let (user, role) = by(Role::UnitHandler);
            add(Counter::PartHandled, Some(unit), user, role);
            if on_time {
                add(Counter::PartHandledOnTime, Some(unit), user, role);
            }
        }
        CaseCommand::SendCheck { .. } => {
            let (user, role) = by(Role::Operator);
            add(Counter::CheckSent, None, user, role);
            if on_time {
                add(Counter::CheckSentOnTime, None, user, role);
            }
        }
        CaseCommand::Check { passed, .. } => {
            let (user, role) = by(Role::Inspector);
            add(Counter::Checked, None, user, role);
            if on_time {
                add(Counter::CheckedOnTime, None, user, role);
            }
            if !passed {
                // Against the unit, and the handler whose feedback failed.
                let handler = case.handled_by.as_ref();
                add(
                    Counter::Rework,
                    case.unit.as_deref(),
                    handler,
                    handler.map(|_| Role::UnitHandler),
                );
            }
        }
        CaseCommand::Callback { .. } => match event.to {
            // An unsatisfied caller sends the handling back: a rework, as a failed check is.
            CaseState::Dispatched => {
                let handler = case.handled_by.as_ref();
                add(
                    Counter::Rework,
                    case.unit.as_deref(),
                    handler,
                    handler.map(|_| Role::UnitHandler),
                );
            }
            // No caller could be reached: the case closed with the last attempt.
            CaseState::Closed => {
                let unit = case.unit.as_deref();
                add(Counter::Closed, unit, None, None);
                if case.late_count == 0 {
                    add(Counter::ClosedOnTime, unit, None, None);
                }
                for part in case.assists.iter().filter(|p| p.state == AssistState::Done) {
                    add(Counter::PartClosed, Some(&part.unit), None, None);
                }
            }
            _ => {}
        },
        CaseCommand::Close { .. } => {
            let (user, role) = by(Role::ShiftLead);
            let unit = case.unit.as_deref();
            add(Counter::Closed, unit, user, role);
            // Closed with no stage finished late, the closing included.
            if case.late_count == 0 {
                add(Counter::ClosedOnTime, unit, user, role);
            }
            for part in case.assists.iter().filter(|p| p.state == AssistState::Done) {
                add(Counter::PartClosed, Some(&part.unit), None, None);
            }
        }
        CaseCommand::Cancel { .. } => {
            if let Some(filer) = &case.filed_by {
                add(
                    Counter::FiledCancelled,
                    None,
                    Some(filer),
                    Some(Role::ShiftLead),
                );
            }
        }
        CaseCommand::Watch {
            finding:
                WatchFinding::Overdue {
                    stage: Stage::Handling,
                    ..
                },
        } => add(Counter::OverdueUnhandled, case.unit.as_deref(), None, None),
        CaseCommand::Watch {
            finding: WatchFinding::AssistOverdue { unit },
        } => add(Counter::PartOverdueUnhandled, Some(unit), None, None),
        _ => {}
    }
    out
}

/// Every entry of a timeline, replaying it to know the case after each event. What the store
/// keeps as cases move must equal this (`cityops evaluation check`).
pub fn entries_of_timeline(
    number: crate::case::CaseNumber,
    timeline: &[TimelineEvent],
) -> Result<Vec<LedgerEntry>, crate::WorkflowError> {
    let mut out = Vec::new();
    for end in 1..=timeline.len() {
        let case = crate::workflow::replay(number.clone(), &timeline[..end])?;
        let event = &timeline[end - 1];
        out.extend(entries(event, &case));
        crate::appeal::apply_changes(&mut out, &ledger_changes(event, &case));
    }
    Ok(out)
}

/// What an event changes in the case's earlier entries: an accepted appeal takes back what it
/// disputed, and a handling takes back the overdue-unhandled it was counted as while it
/// waited (else it would be due twice). Applied after the event's own [`entries`].
pub fn ledger_changes(event: &TimelineEvent, case: &Case) -> Vec<crate::appeal::LedgerChange> {
    use crate::appeal::LedgerChange;
    match &event.command {
        // Unconditional rather than only when late: an extension approved after the stage
        // went red makes the handling on time, and the overdue count must still go.
        CaseCommand::Feedback { .. } => case
            .unit
            .iter()
            .map(|unit| LedgerChange::Withdraw {
                counter: Counter::OverdueUnhandled,
                unit: unit.clone(),
            })
            .collect(),
        CaseCommand::AssistFeedback { unit, .. } => vec![LedgerChange::Withdraw {
            counter: Counter::PartOverdueUnhandled,
            unit: unit.clone(),
        }],
        CaseCommand::DecideAppeal {
            appeal,
            accepted: true,
            ..
        } => case
            .appeals
            .iter()
            .find(|a| a.number == *appeal)
            .map(|a| a.ground.changes(&a.unit))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// What is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    District,
    Street,
    Community,
    /// 单元网格.
    Grid,
    /// Responsible units (departments, utilities, contractors).
    Unit,
    /// Members of staff in their positions: inspector, operator, shift lead, dispatcher,
    /// unit handler.
    Position,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
        Level::Unit,
        Level::Position,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
            Level::Unit => "unit",
            Level::Position => "position",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// The area level, for the area levels.
    pub fn area_level(self) -> Option<AreaLevel> {
        match self {
            Level::District => Some(AreaLevel::District),
            Level::Street => Some(AreaLevel::Street),
            Level::Community => Some(AreaLevel::Community),
            Level::Grid | Level::Unit | Level::Position => None,
        }
    }
}

/// Who a row of the evaluation is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Area { code: String },
    Grid { code: String },
    Unit { code: String },
    Position { role: Role, user_id: String },
}

/// The counters an area is held to; the others are about units and positions only.
pub fn counts_for_area(counter: Counter) -> bool {
    matches!(
        counter,
        Counter::Reported
            | Counter::Filed
            | Counter::PublicVerified
            | Counter::Handled
            | Counter::HandledOnTime
            | Counter::OverdueUnhandled
            | Counter::Rework
            | Counter::Closed
            | Counter::ClosedOnTime
    )
}

/// The counters a unit is held to: what it was given, how it handled it (leading or
/// assisting), and what closed, on time or not.
pub fn counts_for_unit(counter: Counter) -> bool {
    matches!(
        counter,
        Counter::Dispatched
            | Counter::Handled
            | Counter::HandledOnTime
            | Counter::OverdueUnhandled
            | Counter::Rework
            | Counter::Closed
            | Counter::ClosedOnTime
            | Counter::PartAssigned
            | Counter::PartHandled
            | Counter::PartHandledOnTime
            | Counter::PartClosed
            | Counter::PartOverdueUnhandled
    )
}

/// The counters a drill-down of `counter` reads at `level`: a unit's and a handler's
/// handlings, dispatches and closings include the parts they assisted on, as their figures
/// do (see [`indicator`]); an area's never hold parts.
pub fn drilled_counters(level: Level, counter: Counter) -> Vec<Counter> {
    let part = match counter {
        Counter::Dispatched => Some(Counter::PartAssigned),
        Counter::Handled => Some(Counter::PartHandled),
        Counter::HandledOnTime => Some(Counter::PartHandledOnTime),
        Counter::Closed => Some(Counter::PartClosed),
        Counter::OverdueUnhandled => Some(Counter::PartOverdueUnhandled),
        _ => None,
    };
    match (level, part) {
        (Level::Unit | Level::Position, Some(part)) => vec![counter, part],
        _ => vec![counter],
    }
}

/// The positions the evaluation ranks.
pub const POSITIONS: [Role; 5] = [
    Role::Inspector,
    Role::Operator,
    Role::ShiftLead,
    Role::Dispatcher,
    Role::UnitHandler,
];

/// Whether `level`'s subjects are held to `counter`: an area to its intake and results, a
/// unit to what it was given and how it handled it, a member of staff to their own steps.
pub fn counts_at(level: Level, counter: Counter) -> bool {
    match level {
        Level::District | Level::Street | Level::Community | Level::Grid => {
            counts_for_area(counter)
        }
        Level::Unit => counts_for_unit(counter),
        Level::Position => true,
    }
}

/// The subject an entry counts for at `level`, if any.
pub fn subject_of(entry: &LedgerEntry, level: Level) -> Option<Subject> {
    if !counts_at(level, entry.counter) {
        return None;
    }
    match level {
        Level::District | Level::Street | Level::Community => {
            let code = match level {
                Level::District => entry.area.district(),
                Level::Street => entry.area.street(),
                _ => (entry.area.level() == AreaLevel::Community).then(|| entry.area.clone()),
            }?;
            Some(Subject::Area {
                code: code.to_string(),
            })
        }
        Level::Grid => {
            if !counts_for_area(entry.counter) {
                return None;
            }
            entry.unit_grid.clone().map(|code| Subject::Grid { code })
        }
        Level::Unit => entry.unit.clone().map(|code| Subject::Unit { code }),
        Level::Position => match (&entry.user_id, entry.role) {
            (Some(user_id), Some(role)) if POSITIONS.contains(&role) => Some(Subject::Position {
                role,
                user_id: user_id.clone(),
            }),
            _ => None,
        },
    }
}

/// The sums of a subject's counters over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures(pub BTreeMap<Counter, u64>);

impl Figures {
    pub fn get(&self, counter: Counter) -> u64 {
        self.0.get(&counter).copied().unwrap_or(0)
    }

    pub fn add(&mut self, counter: Counter, n: u64) {
        *self.0.entry(counter).or_default() += n;
    }
}

/// Sums `entries` of the days `from..=to` per subject at `level`.
pub fn figures<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
    level: Level,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<Subject, Figures> {
    let mut out: BTreeMap<Subject, Figures> = BTreeMap::new();
    for entry in entries {
        if entry.day < from || entry.day > to {
            continue;
        }
        if let Some(subject) = subject_of(entry, level) {
            out.entry(subject).or_default().add(entry.counter, 1);
        }
    }
    out
}

/// One of the formulas' indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 立案率 = 立案数 / 上报数.
    FilingRate,
    /// 监督举报率 = 监督举报核实数 / 立案数.
    PublicReportShare,
    /// 结案率 = 结案数 / 应结案数 (应结案数 = 处置数 + 超期未处置数).
    ClosingRate,
    /// 按期结案率 = 按期结案数 / 应结案数.
    OnTimeClosingRate,
    /// 处置率 = 处置数 / 应处置数 (应处置数 = 处置数 + 超期未处置数).
    HandlingRate,
    /// 按期处置率 = 按期处置数 / 应处置数.
    OnTimeHandlingRate,
    /// 返工率 = 返工数 / 处置数.
    ReworkRate,
    /// 有效上报率 = 有效上报数 / 上报数.
    ValidReportRate,
    /// 漏报率 = 漏报数 / 立案数 (the cases filed in the inspector's responsibility grids).
    MissedReportRate,
    /// 按时核实率 = 按时核实数 / 应核实数.
    OnTimeVerifyRate,
    /// 按时核查率 = 按时核查数 / 应核查数.
    OnTimeCheckRate,
    /// 核实按时派发率.
    OnTimeVerifySendRate,
    /// 核查按时派发率.
    OnTimeCheckSendRate,
    /// 按时立案率 = 按时立案数 / 立案数.
    OnTimeFilingRate,
    /// 准确立案率 = (立案数 − 作废数) / 立案数.
    AccurateFilingRate,
    /// 按时结案率 (a shift lead's closings).
    OnTimeCloseRate,
    /// 按时派遣率 = 按时派遣数 / 派遣数.
    OnTimeDispatchRate,
    /// 准确派遣率 = (派遣数 − 误派数) / 派遣数.
    AccurateDispatchRate,
    /// 立案数分值, 受理数分值, 派遣数分值, 监督举报率分值: a count (or share) scored on the
    /// configured bands, 0 to 1.
    FiledScore,
    AcceptedScore,
    DispatchedScore,
    PublicReportScore,
}

impl Indicator {
    pub const ALL: [Indicator; 22] = ALL_INDICATORS;

    /// A count or share scored on bands, rather than a rate of what was due.
    pub fn is_score(self) -> bool {
        matches!(
            self,
            Indicator::FiledScore
                | Indicator::AcceptedScore
                | Indicator::DispatchedScore
                | Indicator::PublicReportScore
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::FilingRate => "filing_rate",
            Indicator::PublicReportShare => "public_report_share",
            Indicator::ClosingRate => "closing_rate",
            Indicator::OnTimeClosingRate => "on_time_closing_rate",
            Indicator::HandlingRate => "handling_rate",
            Indicator::OnTimeHandlingRate => "on_time_handling_rate",
            Indicator::ReworkRate => "rework_rate",
            Indicator::ValidReportRate => "valid_report_rate",
            Indicator::MissedReportRate => "missed_report_rate",
            Indicator::OnTimeVerifyRate => "on_time_verify_rate",
            Indicator::OnTimeCheckRate => "on_time_check_rate",
            Indicator::OnTimeVerifySendRate => "on_time_verify_send_rate",
            Indicator::OnTimeCheckSendRate => "on_time_check_send_rate",
            Indicator::OnTimeFilingRate => "on_time_filing_rate",
            Indicator::AccurateFilingRate => "accurate_filing_rate",
            Indicator::OnTimeCloseRate => "on_time_close_rate",
            Indicator::OnTimeDispatchRate => "on_time_dispatch_rate",
            Indicator::AccurateDispatchRate => "accurate_dispatch_rate",
            Indicator::FiledScore => "filed_score",
            Indicator::AcceptedScore => "accepted_score",
            Indicator::DispatchedScore => "dispatched_score",
            Indicator::PublicReportScore => "public_report_score",
        }
    }

    pub fn parse(text: &str) -> Option<Indicator> {
        ALL_INDICATORS.into_iter().find(|i| i.as_str() == text)
    }
}

pub const ALL_INDICATORS: [Indicator; 22] = [
    Indicator::FilingRate,
    Indicator::PublicReportShare,
    Indicator::ClosingRate,
    Indicator::OnTimeClosingRate,
    Indicator::HandlingRate,
    Indicator::OnTimeHandlingRate,
    Indicator::ReworkRate,
    Indicator::ValidReportRate,
    Indicator::MissedReportRate,
    Indicator::OnTimeVerifyRate,
    Indicator::OnTimeCheckRate,
    Indicator::OnTimeVerifySendRate,
    Indicator::OnTimeCheckSendRate,
    Indicator::OnTimeFilingRate,
    Indicator::AccurateFilingRate,
    Indicator::OnTimeCloseRate,
    Indicator::OnTimeDispatchRate,
    Indicator::AccurateDispatchRate,
    Indicator::FiledScore,
    Indicator::AcceptedScore,
    Indicator::DispatchedScore,
    Indicator::PublicReportScore,
];

/// A share, or none when its denominator is zero (nothing to hold the subject to).
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part.min(whole) as f64 / whole as f64)
}

/// The value of one indicator from a subject's figures over a period of `days` days: a share
/// from 0 to 1, or none when nothing was due. Count scores use `config`'s bands.
pub fn indicator(
    which: Indicator,
    f: &Figures,
    days: u32,
    config: &EvaluationConfig,
) -> Option<f64> {
    use Counter as C;
    // A unit's (and its handler's) work includes its assisting parts; an area has none.
    let handled = f.get(C::Handled) + f.get(C::PartHandled);
    let handled_on_time = f.get(C::HandledOnTime) + f.get(C::PartHandledOnTime);
    let closed = f.get(C::Closed) + f.get(C::PartClosed);
    let due_closing = handled + f.get(C::OverdueUnhandled) + f.get(C::PartOverdueUnhandled);
    match which {
        Indicator::FilingRate => share(f.get(C::Filed), f.get(C::Reported)),
        Indicator::PublicReportShare => share(f.get(C::PublicVerified), f.get(C::Filed)),
        Indicator::ClosingRate => share(closed, due_closing),
        Indicator::OnTimeClosingRate => share(f.get(C::ClosedOnTime), due_closing),
        Indicator::HandlingRate => share(handled, due_closing),
        Indicator::OnTimeHandlingRate => share(handled_on_time, due_closing),
        Indicator::ReworkRate => share(f.get(C::Rework), handled),
        Indicator::ValidReportRate => share(f.get(C::ValidReport), f.get(C::Reported)),
        Indicator::MissedReportRate => share(f.get(C::Missed), f.get(C::GridFiled)),
        Indicator::OnTimeVerifyRate => share(f.get(C::VerifiedOnTime), f.get(C::Verified)),
        Indicator::OnTimeCheckRate => share(f.get(C::CheckedOnTime), f.get(C::Checked)),
        Indicator::OnTimeVerifySendRate => share(f.get(C::VerifySentOnTime), f.get(C::VerifySent)),
        Indicator::OnTimeCheckSendRate => share(f.get(C::CheckSentOnTime), f.get(C::CheckSent)),
        Indicator::OnTimeFilingRate => share(f.get(C::FiledOnTime), f.get(C::Filed)),
        Indicator::AccurateFilingRate => share(
            f.get(C::Filed).saturating_sub(f.get(C::FiledCancelled)),
            f.get(C::Filed),
        ),
        Indicator::OnTimeCloseRate => share(f.get(C::ClosedOnTime), f.get(C::Closed)),
        Indicator::OnTimeDispatchRate => share(f.get(C::DispatchedOnTime), f.get(C::Dispatched)),
        Indicator::AccurateDispatchRate => share(
            f.get(C::Dispatched).saturating_sub(f.get(C::Misdispatched)),
            f.get(C::Dispatched),
        ),
        Indicator::FiledScore => Some(config.count_bands.score(f.get(C::Filed), days)),
        Indicator::AcceptedScore => Some(config.count_bands.score(f.get(C::Accepted), days)),
        Indicator::DispatchedScore => Some(
            config
                .count_bands
                .score(f.get(C::Dispatched) + f.get(C::PartAssigned), days),
        ),
        Indicator::PublicReportScore => {
            share(f.get(C::PublicVerified), f.get(C::Filed)).map(|s| config.share_bands.score(s))
        }
    }
}

/// A composite's term: a weight on an indicator, or on its complement (1 − the rate, for the
/// rates where less is better: 返工率, 漏报率).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub indicator: Indicator,
    pub weight: f64,
    #[serde(default)]
    pub complement: bool,
}

/// Count bands: a count per 30 days at or above `at_least` scores `score` (0 to 1); the
/// highest band reached counts. A period's count is scaled to 30 days first, so a week and a
/// year are scored alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountBands(pub Vec<(u64, f64)>);

impl CountBands {
    pub fn score(&self, count: u64, days: u32) -> f64 {
        let per_30 = count as f64 * 30.0 / f64::from(days.max(1));
        self.0
            .iter()
            .filter(|(at_least, _)| per_30 >= *at_least as f64)
            .map(|(_, score)| *score)
            .fold(0.0, f64::max)
    }
}

/// Share bands: a share at or above `at_least` scores `score` (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareBands(pub Vec<(f64, f64)>);

impl ShareBands {
    pub fn score(&self, share: f64) -> f64 {
        self.0
            .iter()
            .filter(|(at_least, _)| share >= *at_least)
            .map(|(_, score)| *score)
            .fold(0.0, f64::max)
    }
}

/// Weights, bands and grade cut-offs: the implementation weights of the standard's
/// composites by default (to be checked against GB/T 30428.4 before use), all of them
/// configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaluationConfig {
    pub area: Vec<Term>,
    pub unit: Vec<Term>,
    pub inspector: Vec<Term>,
    pub operator: Vec<Term>,
    pub shift_lead: Vec<Term>,
    pub dispatcher: Vec<Term>,
    pub unit_handler: Vec<Term>,
    pub count_bands: CountBands,
    pub share_bands: ShareBands,
    /// Grade cut-offs on the composite (0 to 100), highest first: A, B, C, D; below the last
    /// is E.
    pub grades: Vec<(String, f64)>,
    /// The longest period one evaluation covers, in days.
    pub max_days: u32,
}

fn term(indicator: Indicator, weight: f64) -> Term {
    Term {
        indicator,
        weight,
        complement: false,
    }
}

impl Default for EvaluationConfig {
    fn default() -> EvaluationConfig {
        use Indicator as I;
        EvaluationConfig {
            // 0.10·监督举报率分值 + 0.20·立案数分值 + 0.30·结案率 + 0.40·按期结案率
            area: vec![
                term(I::PublicReportScore, 0.10),
                term(I::FiledScore, 0.20),
                term(I::ClosingRate, 0.30),
                term(I::OnTimeClosingRate, 0.40),
            ],
            // 立案数分值 (0–10) + 0.30·结案率 + 0.30·按期处置率 + 0.30·(1 − 返工率); a unit's
            // 立案数 is the cases dispatched to it.
            unit: vec![
                term(I::DispatchedScore, 0.10),
                term(I::ClosingRate, 0.30),
                term(I::OnTimeHandlingRate, 0.30),
                Term {
                    indicator: I::ReworkRate,
                    weight: 0.30,
                    complement: true,
                },
            ],
            // 0.40·有效上报率 + 0.20·(1 − 漏报率) + 0.20·按时核实率 + 0.20·按时核查率; an
            // inspector with no responsibility grid assigned has no 漏报率, and the other
            // weights are shared out in proportion.
            inspector: vec![
                term(I::ValidReportRate, 0.40),
                Term {
                    indicator: I::MissedReportRate,
                    weight: 0.20,
                    complement: true,
                },
                term(I::OnTimeVerifyRate, 0.20),
                term(I::OnTimeCheckRate, 0.20),
            ],
            // 0.25·受理数分值 + 0.40·核实按时派发率 + 0.35·核查按时派发率
            operator: vec![
                term(I::AcceptedScore, 0.25),
                term(I::OnTimeVerifySendRate, 0.40),
                term(I::OnTimeCheckSendRate, 0.35),
            ],
            // 0.25·按时立案率 + 0.40·准确立案率 + 0.35·按时结案率
            shift_lead: vec![
                term(I::OnTimeFilingRate, 0.25),
                term(I::AccurateFilingRate, 0.40),
                term(I::OnTimeCloseRate, 0.35),
            ],
            // 0.20·派遣数分值 + 0.40·按时派遣率 + 0.40·准确派遣率
            dispatcher: vec![
                term(I::DispatchedScore, 0.20),
                term(I::OnTimeDispatchRate, 0.40),
                term(I::AccurateDispatchRate, 0.40),
            ],
            // A unit's handler on the unit's handling terms.
            unit_handler: vec![
                term(I::OnTimeHandlingRate, 0.50),
                Term {
                    indicator: I::ReworkRate,
                    weight: 0.50,
                    complement: true,
                },
            ],
            count_bands: CountBands(vec![(1, 0.4), (10, 0.6), (30, 0.8), (60, 1.0)]),
            share_bands: ShareBands(vec![(0.0, 0.4), (0.1, 0.6), (0.2, 0.8), (0.3, 1.0)]),
            grades: vec![
                ("A".into(), 90.0),
                ("B".into(), 75.0),
                ("C".into(), 60.0),
                ("D".into(), 40.0),
            ],
            max_days: 366,
        }
    }
}

impl EvaluationConfig {
    /// The composite's terms for a subject.
    pub fn terms_for(&self, subject: &Subject) -> &[Term] {
        match subject {
            Subject::Area { .. } | Subject::Grid { .. } => &self.area,
            Subject::Unit { .. } => &self.unit,
            Subject::Position { role, .. } => match role {
                Role::Inspector => &self.inspector,
                Role::Operator => &self.operator,
                Role::ShiftLead => &self.shift_lead,
                Role::Dispatcher => &self.dispatcher,
                _ => &self.unit_handler,
            },
        }
    }

    /// Checks the configuration: each composite's weights are positive and sum to 1, bands
    /// score 0 to 1, grade cut-offs fall from 100 to 0.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        for (name, terms) in [
            ("area", &self.area),
            ("unit", &self.unit),
            ("inspector", &self.inspector),
            ("operator", &self.operator),
            ("shift_lead", &self.shift_lead),
            ("dispatcher", &self.dispatcher),
            ("unit_handler", &self.unit_handler),
        ] {
            if terms.is_empty() || terms.iter().any(|t| !(t.weight > 0.0 && t.weight <= 1.0)) {
                return Err(InvalidInput::new(
                    format!("evaluation.{name}"),
                    "a composite has terms, each weighing above 0 and at most 1",
                ));
            }
            let sum: f64 = terms.iter().map(|t| t.weight).sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(InvalidInput::inconsistent(
                    format!("evaluation.{name}"),
                    format!("the weights of a composite sum to 1, not {sum}"),
                ));
            }
        }
        let band_ok = |s: f64| (0.0..=1.0).contains(&s);
        if !self.count_bands.0.iter().all(|(_, s)| band_ok(*s))
            || !self.share_bands.0.iter().all(|(_, s)| band_ok(*s))
        {
            return Err(InvalidInput::new(
                "evaluation.bands",
                "a band scores 0 to 1",
            ));
        }
        let cuts: Vec<f64> = self.grades.iter().map(|(_, c)| *c).collect();
        if cuts.is_empty()
            || !cuts.windows(2).all(|w| w[0] > w[1])
            || cuts.iter().any(|c| !(0.0..=100.0).contains(c))
        {
            return Err(InvalidInput::inconsistent(
                "evaluation.grades",
                "grade cut-offs fall from at most 100 to at least 0",
            ));
        }
        if !(1..=3660).contains(&self.max_days) {
            return Err(InvalidInput::new(
                "evaluation.max_days",
                "the longest period is 1 to 3660 days",
            ));
        }
        Ok(())
    }

    /// The grade of a composite value.
    pub fn grade(&self, value: f64) -> String {
        self.grades
            .iter()
            .find(|(_, cut)| value >= *cut)
            .map(|(g, _)| g.clone())
            .unwrap_or_else(|| "E".into())
    }
}

/// A subject's evaluation over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub subject: Subject,
    pub figures: Figures,
    /// Every indicator that has a value for this subject (0 to 1).
    pub indicators: BTreeMap<Indicator, f64>,
    /// The composite (0 to 100) over the composite's terms that have a value, the weights of
    /// the others shared out in proportion; none when no rate has one (only counts scored).
    pub composite: Option<f64>,
    pub grade: Option<String>,
    /// The composite's terms without a value (nothing was due).
    pub unmeasured: Vec<Indicator>,
}

/// Rates a subject's figures over `days` days.
pub fn rate(subject: Subject, figures: Figures, days: u32, config: &EvaluationConfig) -> Rating {
    let mut indicators = BTreeMap::new();
    for which in ALL_INDICATORS {
        if let Some(value) = indicator(which, &figures, days, config) {
            indicators.insert(which, value);
        }
    }
    let mut weighted = 0.0;
    let mut weight = 0.0;
    let mut unmeasured = Vec::new();
    for t in config.terms_for(&subject) {
        match indicators.get(&t.indicator) {
            Some(value) => {
                let value = if t.complement { 1.0 - value } else { *value };
                weighted += t.weight * value;
                weight += t.weight;
            }
            None => unmeasured.push(t.indicator),
        }
    }
    // Scores of counts alone say nothing of how the subject did: with no rate measured (no
    // case was due), the subject is not rated.
    let rated = config
        .terms_for(&subject)
        .iter()
        .any(|t| !t.indicator.is_score() && indicators.contains_key(&t.indicator));
    let composite =
        (rated && weight > 0.0).then(|| (100.0 * weighted / weight * 100.0).round() / 100.0);
    let grade = composite.map(|c| config.grade(c));
    Rating {
        subject,
        figures,
        indicators,
        composite,
        grade,
        unmeasured,
    }
}

/// A period of days, both ends included, checked against the configuration.
pub fn period(
    from: NaiveDate,
    to: NaiveDate,
    config: &EvaluationConfig,
) -> Result<u32, InvalidInput> {
    if from > to {
        return Err(InvalidInput::inconsistent(
            "from",
            "the period's start (from) is after its end (to)",
        ));
    }
    let days = (to - from).num_days() + 1;
    if days > i64::from(config.max_days) {
        return Err(InvalidInput::new(
            "to",
            format!("a period is at most {} days", config.max_days),
        ));
    }
    Ok(days as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_valid_and_weights_sum_to_one() {
        EvaluationConfig::default().validate().unwrap();
        let mut bad = EvaluationConfig::default();
        bad.area[0].weight = 0.5;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn a_subject_with_nothing_due_is_not_rated() {
        let config = EvaluationConfig::default();
        let mut figures = Figures::default();
        figures.add(Counter::Dispatched, 3);
        let unit = Subject::Unit {
            code: "310101-ZLS".into(),
        };
        let rating = rate(unit.clone(), figures.clone(), 30, &config);
        assert_eq!((rating.composite, rating.grade), (None, None));
        figures.add(Counter::Handled, 1);
        assert!(rate(unit, figures, 30, &config).composite.is_some());
    }

    #[test]
    fn counts_are_scored_per_30_days() {
        let bands = EvaluationConfig::default().count_bands;
        assert_eq!(bands.score(0, 30), 0.0);
        assert_eq!(bands.score(10, 30), 0.6);
        // Ten in a week is forty-three in thirty days.
        assert_eq!(bands.score(10, 7), 0.8);
    }
}
