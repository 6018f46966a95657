//! The overdue watch (超期督办): what it has announced about a case's running stage clock, a
//! leader's supervision notice (督办单) with its own reply deadline, the escalation policy for
//! overdue cases, and the one decision the watch makes about a case at a given moment
//! ([`watch_finding`]).
//!
//! The watch never scans every case. A case states the next moment the watch must look at it
//! ([`Case::watch_at`]): the yellow point of its running stage, then the deadline, then each
//! escalation step, an open supervision notice's deadline, and each assisting unit's part's
//! yellow point and deadline (协办, which turn yellow and red on their own clocks; escalation
//! stays with the lead's stage). The store indexes the earliest of these; the watch reads only
//! the cases whose moment has come, records what it finds as a
//! [`crate::workflow::CaseCommand::Watch`] event (which moves the moment on), and the event
//! reaches the live stream and the units' queues like every other change.
//!
//! Every finding is taken from times the timeline already fixed (the stage's and the parts'
//! deadlines and yellow points as reckoned when their clocks started, the notice's deadline):
//! a calendar changed later moves none of them. Only the escalation steps are reckoned when
//! the stage goes red, on the calendar of that day, and the event records them.

use chrono::{DateTime, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use crate::area::AreaCode;
use crate::calendar::WorkingCalendar;
use crate::case::{AssistPart, AssistState, Case, DeadlineMark, Stage};
use crate::category::Term;
use crate::InvalidInput;

/// What the watch has announced about the running stage, and when it looks again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchState {
    pub stage: Stage,
    /// The last mark announced: due (yellow) or overdue (red).
    pub mark: DeadlineMark,
    /// Escalation steps taken since the stage went red.
    #[serde(default)]
    pub steps: u32,
    /// Where the last step escalated to.
    #[serde(default)]
    pub escalated: Option<Escalation>,
    /// When the next escalation step is due; none when the policy has no further step.
    #[serde(default)]
    pub next: Option<DateTime<Utc>>,
}

/// Who an overdue case is escalated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTarget {
    /// The head of the unit that holds the case (催办): the case is marked urged in the
    /// unit's queue.
    UnitHead,
    /// The next-level center (a street's district, a district's city): the case is listed in
    /// that center's overdue escalations.
    NextCenter,
}

impl EscalationTarget {
    pub const ALL: [EscalationTarget; 2] =
        [EscalationTarget::UnitHead, EscalationTarget::NextCenter];

    pub fn as_str(self) -> &'static str {
        match self {
            EscalationTarget::UnitHead => "unit_head",
            EscalationTarget::NextCenter => "next_center",
        }
    }
}

/// One escalation: to whom, and for the next-level center, which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub to: EscalationTarget,
    /// The center's area when `to` is the next-level center.
    #[serde(default)]
    pub center: Option<AreaCode>,
    pub at: DateTime<Utc>,
}

/// One step of the escalation policy: `after` this long past the stage's deadline (counted
/// as the stage's term counts: working time unless the case runs on natural time), escalate
/// to `to`. Steps are taken in order; each `after` is counted from the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationStep {
    pub after: Term,
    pub to: EscalationTarget,
}

/// The policy a city starts with: the unit's head after four working hours overdue, the
/// next-level center after a working day.
pub fn default_escalation() -> Vec<EscalationStep> {
    vec![
        EscalationStep {
            after: Term {
                amount: 4,
                unit: crate::category::TermUnit::WorkingHours,
            },
            to: EscalationTarget::UnitHead,
        },
        EscalationStep {
            after: Term {
                amount: 1,
                unit: crate::category::TermUnit::WorkingDays,
            },
            to: EscalationTarget::NextCenter,
        },
    ]
}

/// Checks a policy: at most eight steps, each term valid, later steps no sooner than earlier
/// ones (compared in minutes of natural time, a working day as a day).
pub fn check_escalation(steps: &[EscalationStep]) -> Result<(), InvalidInput> {
    if steps.len() > 8 {
        return Err(InvalidInput::new(
            "overdue_escalation",
            "an escalation policy has at most 8 steps",
        ));
    }
    let mut last = 0;
    for (i, step) in steps.iter().enumerate() {
        step.after
            .check(&format!("overdue_escalation[{i}].after"))?;
        let minutes = step.after.natural_minutes();
        if minutes < last {
            return Err(InvalidInput::inconsistent(
                format!("overdue_escalation[{i}].after"),
                "each escalation step comes no sooner than the one before it",
            ));
        }
        last = minutes;
    }
    Ok(())
}

/// A leader's supervision notice (督办单): the unit must answer (its feedback) by the
/// deadline; the watch announces it when it does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    pub at: DateTime<Utc>,
    /// The answer is due by then; none when the leader set no term.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    /// The unit's feedback answered it, or the case finished.
    #[serde(default)]
    pub answered_at: Option<DateTime<Utc>>,
    /// The watch announced that the deadline passed unanswered.
    #[serde(default)]
    pub overdue: bool,
}

impl Supervision {
    /// Open: neither answered nor announced overdue.
    pub fn is_open(&self) -> bool {
        self.answered_at.is_none() && !self.overdue
    }
}

/// What the watch found about a case; recorded on its timeline by the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum WatchFinding {
    /// 临期 (yellow): the warning share of the stage's time is used.
    Due { stage: Stage },
    /// 超期 (red): the stage's deadline passed. `next` is when the first escalation step is
    /// due, if the policy has one.
    Overdue {
        stage: Stage,
        next: Option<DateTime<Utc>>,
    },
    /// A step of the escalation policy was taken; `next` is when the following one is due.
    Escalated {
        stage: Stage,
        to: EscalationTarget,
        center: Option<AreaCode>,
        next: Option<DateTime<Utc>>,
    },
    /// A supervision notice's deadline passed unanswered.
    SupervisionOverdue,
    /// 临期: an assisting unit's part in hand has used the warning share of its time.
    AssistDue { unit: String },
    /// 超期: an assisting unit's part passed its deadline unanswered.
    AssistOverdue { unit: String },
}

impl WatchFinding {
    pub fn as_str(&self) -> &'static str {
        match self {
            WatchFinding::Due { .. } => "due",
            WatchFinding::Overdue { .. } => "overdue",
            WatchFinding::Escalated { .. } => "escalated",
            WatchFinding::SupervisionOverdue => "supervision_overdue",
            WatchFinding::AssistDue { .. } => "assist_due",
            WatchFinding::AssistOverdue { .. } => "assist_overdue",
        }
    }
}

impl Case {
    /// What the watch announced about the stage whose clock runs now; none once that clock
    /// stopped or another stage's runs.
    pub fn announced(&self) -> Option<&WatchState> {
        self.watch
            .as_ref()
            .filter(|w| self.running_deadline().is_some() && self.stage == Some(w.stage))
    }

    /// The next moment the overdue watch must look at the case: what the store indexes.
    /// None when there is nothing left to watch. [`watch_finding`] finds something exactly
    /// when this moment has come (to the millisecond the store keeps), so the index and the
    /// decision never disagree.
    pub fn watch_at(&self) -> Option<DateTime<Utc>> {
        let stage = self.running_deadline().and_then(|deadline| {
            let yellow = self.warning_at.map_or(deadline, |w| w.min(deadline));
            match &self.watch {
                Some(watch) if Some(watch.stage) == self.stage => match watch.mark {
                    DeadlineMark::OnTime => Some(yellow),
                    DeadlineMark::Due => Some(past(deadline)),
                    DeadlineMark::Overdue => watch.next,
                },
                _ => Some(yellow),
            }
        });
        let supervision = self
            .supervision
            .as_ref()
            .filter(|s| s.is_open() && !self.state.is_terminal())
            .and_then(|s| s.deadline)
            .map(past);
        let parts = self
            .assists
            .iter()
            .filter(|_| !self.state.is_terminal())
            .filter_map(AssistPart::watch_at)
            .min();
        [stage, supervision, parts].into_iter().flatten().min()
    }

    /// The first moment at or after `from` at which the running stage is yellow
    /// ([`Case::time_left`]'s mark is no longer on time), to the minute; the deadline when
    /// the stage has no term to take a share of. None when no clock runs.
    pub fn warning_time(
        &self,
        from: DateTime<Utc>,
        calendar: &WorkingCalendar,
        share: f64,
    ) -> Option<DateTime<Utc>> {
        let deadline = self.running_deadline()?;
        Some(first_yellow(from, deadline, |at| {
            self.time_left(at, calendar, share)
                .is_some_and(|left| left.mark != DeadlineMark::OnTime)
        }))
    }

    /// [`Case::warning_time`] for an assisting unit's part in hand, on its own deadline.
    pub fn assist_warning_time(
        &self,
        part: &AssistPart,
        from: DateTime<Utc>,
        calendar: &WorkingCalendar,
        share: f64,
    ) -> Option<DateTime<Utc>> {
        let deadline = part
            .deadline
            .filter(|_| part.state == AssistState::Handling)?;
        Some(first_yellow(from, deadline, |at| {
            self.assist_time_left(part, at, calendar, share)
                .is_some_and(|left| left.mark != DeadlineMark::OnTime)
        }))
    }

    /// The center an overdue case escalates to: the next level above the center that answers
    /// for the case's area (its street's, or its district's when it lies in no street).
    pub fn next_center(&self) -> Option<AreaCode> {
        let own = self
            .area
            .street()
            .or_else(|| self.area.district())
            .unwrap_or_else(|| self.area.city());
        crate::workflow::escalation_target(&own)
    }
}

/// The first moment at or after `from` at which `yellow` holds, to the minute, and never
/// after `deadline`. `yellow` must stay true once true (time used only grows as the moment
/// moves on), which lets the search halve its range.
fn first_yellow(
    from: DateTime<Utc>,
    deadline: DateTime<Utc>,
    yellow: impl Fn(DateTime<Utc>) -> bool,
) -> DateTime<Utc> {
    if from >= deadline || yellow(from) {
        return from.min(deadline);
    }
    // Time left is counted in whole minutes: search the first whole minute after `from` at
    // which the used share is reached.
    let first = from
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap_or(from)
        + chrono::Duration::minutes(1);
    let minute = |k: i64| first + chrono::Duration::minutes(k);
    let (mut on_time, mut reached) = (-1, (deadline - first).num_minutes().max(0));
    if !yellow(minute(reached)) {
        return deadline;
    }
    while reached - on_time > 1 {
        let middle = on_time + (reached - on_time) / 2;
        if yellow(minute(middle)) {
            reached = middle;
        } else {
            on_time = middle;
        }
    }
    minute(reached).min(deadline)
}

impl AssistPart {
    /// The next moment the watch must look at the part: its yellow point, then its deadline;
    /// none unless it is in hand and not yet announced overdue.
    fn watch_at(&self) -> Option<DateTime<Utc>> {
        let deadline = self
            .deadline
            .filter(|_| self.state == AssistState::Handling)?;
        match self.mark {
            DeadlineMark::OnTime => Some(self.warning_at.map_or(deadline, |w| w.min(deadline))),
            DeadlineMark::Due => Some(past(deadline)),
            DeadlineMark::Overdue => None,
        }
    }

    /// What the watch finds about the part at `now`: its red, else its yellow.
    fn finding(&self, now: DateTime<Utc>) -> Option<WatchFinding> {
        let deadline = self
            .deadline
            .filter(|_| self.state == AssistState::Handling)?;
        let unit = self.unit.clone();
        match self.mark {
            DeadlineMark::Overdue => None,
            _ if now > deadline => Some(WatchFinding::AssistOverdue { unit }),
            DeadlineMark::OnTime
                if now >= self.warning_at.map_or(deadline, |w| w.min(deadline)) =>
            {
                Some(WatchFinding::AssistDue { unit })
            }
            _ => None,
        }
    }
}

/// Overdue is strictly past a deadline: the first millisecond after it, the store's
/// precision.
fn past(deadline: DateTime<Utc>) -> DateTime<Utc> {
    deadline + chrono::Duration::milliseconds(1)
}

/// What the watch finds about `case` at `now`, if anything: a supervision notice gone
/// unanswered, the stage's red, its yellow, or the escalation step that is due, then an
/// assisting unit's part's red or yellow. One finding at a time: after it is recorded the
/// watch asks again.
pub fn watch_finding(
    case: &Case,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
    policy: &[EscalationStep],
) -> Option<WatchFinding> {
    if case.state.is_terminal() {
        return None;
    }
    if case
        .supervision
        .as_ref()
        .is_some_and(|s| s.is_open() && s.deadline.is_some_and(|d| now > d))
    {
        return Some(WatchFinding::SupervisionOverdue);
    }
    stage_finding(case, now, calendar, policy)
        .or_else(|| case.assists.iter().find_map(|part| part.finding(now)))
}

/// What the watch finds about the running stage's clock: its red, an escalation step, or its
/// yellow.
fn stage_finding(
    case: &Case,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
    policy: &[EscalationStep],
) -> Option<WatchFinding> {
    let deadline = case.running_deadline()?;
    let stage = case.stage?;
    let watch = case.watch.as_ref().filter(|w| w.stage == stage);
    let mark = watch.map_or(DeadlineMark::OnTime, |w| w.mark);
    let step_time = |i: usize| {
        policy.get(i).map(|step| {
            step.after
                .deadline(deadline, calendar, case.runs_continuously())
        })
    };
    if now > deadline {
        return match (mark, watch) {
            (DeadlineMark::Overdue, Some(watch)) => {
                let taken = usize::try_from(watch.steps).unwrap_or(usize::MAX);
                let step = policy.get(taken)?;
                if watch.next.is_none_or(|next| now < next) {
                    return None;
                }
                Some(WatchFinding::Escalated {
                    stage,
                    to: step.to,
                    center: match step.to {
                        EscalationTarget::NextCenter => case.next_center(),
                        EscalationTarget::UnitHead => None,
                    },
                    next: step_time(taken + 1),
                })
            }
            _ => Some(WatchFinding::Overdue {
                stage,
                next: step_time(0),
            }),
        };
    }
    let yellow = case.warning_at.map_or(deadline, |w| w.min(deadline));
    (mark == DeadlineMark::OnTime && now >= yellow).then_some(WatchFinding::Due { stage })
}
