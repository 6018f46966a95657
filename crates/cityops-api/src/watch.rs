//! The overdue watch (超期督办) as a background duty: every tick, the one process holding the
//! watch's lease in the database reads the cases whose watch moment has come (the store's
//! `watch_at` index, never a scan of every case), and records on each what the domain's
//! [`cityops_domain::watch::watch_finding`] finds: yellow, red, an escalation step, or a
//! supervision notice gone unanswered. Each finding is an ordinary case change, so it reaches
//! the live stream (through the outbox) and the unit's queue like any other.
//!
//! Several processes may serve one database; the lease makes exactly one of them watch. The
//! lease is also not what keeps findings single: each is written against the case version it
//! was found on and refused by the workflow once stale, so even two watchers at once (a lease
//! that ran out mid-sweep) record each mark once.

use chrono::{DateTime, Utc};
use cityops_domain::watch::{watch_finding, EscalationStep};
use cityops_domain::{Actor, Case, CaseCommand, WorkflowError};
use cityops_store::{StoreError, WatchCursor};
use std::time::Duration;

use crate::duty::Duty;
use crate::error::ApiError;
use crate::AppState;

/// The watch's lease's name in the database.
pub const LEASE: &str = Duty::OverdueWatch.as_str();

/// The watch's settings, from the binary's configuration.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Whether this process takes part in the watch at all.
    pub enabled: bool,
    /// How often the watch looks.
    pub every: Duration,
    /// The escalation policy for overdue stages.
    pub escalation: Vec<EscalationStep>,
}

impl Default for WatchConfig {
    fn default() -> WatchConfig {
        WatchConfig {
            enabled: true,
            every: Duration::from_secs(30),
            escalation: cityops_domain::watch::default_escalation(),
        }
    }
}

/// Cases read per page of a sweep.
const PAGE: u32 = 200;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Cases whose watch moment had come.
    pub looked_at: u64,
    /// Findings recorded on their timelines.
    pub recorded: u64,
}

/// Starts the watch of `state`'s process when the configuration enables it: a round every
/// `every` while this node holds the duty; it ends when the server stops.
pub(crate) fn spawn(state: AppState) {
    if !state.config.watch.enabled {
        return;
    }
    let watcher = state.clone();
    crate::duty::run_every(
        &state,
        Duty::OverdueWatch,
        state.config.watch.every,
        false,
        move || {
            let state = watcher.clone();
            async move {
                match sweep(&state, Utc::now(), true).await {
                    Ok(done) if done.recorded > 0 => {
                        tracing::info!(
                            looked_at = done.looked_at,
                            recorded = done.recorded,
                            "The overdue watch recorded its findings."
                        );
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e.message, "The overdue watch's sweep failed; retrying.")
                    }
                }
            }
        },
    );
}

/// Looks at every case whose watch moment is at or before `now` and records what is found.
/// With `leased`, stops between pages once this node no longer holds the watch.
pub async fn sweep(state: &AppState, now: DateTime<Utc>, leased: bool) -> Result<Sweep, ApiError> {
    let calendar = state.working_calendar().await?;
    let policy = &state.config.watch.escalation;
    let mut done = Sweep::default();
    let mut cursor: Option<WatchCursor> = None;
    loop {
        if leased && !state.duties.holds(Duty::OverdueWatch) {
            return Ok(done);
        }
        let (cases, next) = state
            .store
            .cases_to_watch(now, cursor.as_ref(), PAGE)
            .await?;
        for case in cases {
            done.looked_at += 1;
            done.recorded += record(state, case, now, &calendar, policy).await?;
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(done),
        }
    }
}

/// Records every finding about `case` at `now`, reading it again when it changed meanwhile;
/// returns how many were recorded.
async fn record(
    state: &AppState,
    mut case: Case,
    now: DateTime<Utc>,
    calendar: &cityops_domain::WorkingCalendar,
    policy: &[EscalationStep],
) -> Result<u64, ApiError> {
    let actor = Actor::system(case.area.city());
    let mut recorded = 0;
    // A finding per step, and a few re-reads: bounded, so a case that keeps changing under
    // the watch is left for the next tick rather than holding up the others.
    for _ in 0..(policy.len() + 8) {
        let Some(finding) = watch_finding(&case, now, calendar, policy) else {
            return Ok(recorded);
        };
        let decided = cityops_domain::decide_on(
            &case,
            CaseCommand::Watch { finding },
            &actor,
            state.clock(now, calendar),
        );
        let (next, event) = match decided {
            Ok(decided) => decided,
            // Nothing to record after all: the case moved on since it was read.
            Err(WorkflowError::Precondition(_) | WorkflowError::NotAllowedInState { .. }) => {
                return Ok(recorded)
            }
            Err(e) => return Err(e.into()),
        };
        match state.store.update_case(&next, &event, None).await {
            Ok(()) => {
                state.outbox_written();
                recorded += 1;
                case = next;
            }
            Err(StoreError::Conflict(_)) => match state.store.case(&case.id).await? {
                Some(fresh) => case = fresh,
                None => return Ok(recorded),
            },
            Err(e) => return Err(e.into()),
        }
    }
    Ok(recorded)
}
