//! The case desk: the task that writes what alarms ask of cases (open one, join one, note a
//! clearing on one), behind the pipeline rather than in its way.
//!
//! The pipeline plans every case write while it judges a batch (so the incident grouping
//! stays in reading order), links each alarm to its case in the batch's own commit, and only
//! then hands the writes here. The pipeline goes back to judging readings while the desk
//! waits for the case commits, so an alarm burst never delays the next alarm. Because the
//! link is durable before the case is written, a stop in between leaves an alarm linked to a
//! case that does not exist, never a case without its alarm's link: the next start finds
//! those alarms (`alarms_with_missing_case`) and opens their cases, so a stop neither loses
//! a case nor opens one twice. A write that fails on a store error is tried again at the
//! pipeline's next tick (three tries in all); a join whose case finished meanwhile is
//! planned again.

use std::sync::Arc;

use chrono::Utc;
use cityops_domain::{Actor, AreaCode, CaseCommand, CommandKind};
use cityops_store::{CaseStore, StoreError};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::TelemetryEvent;

/// A case write an alarm asks for.
#[derive(Clone)]
pub(crate) enum CaseWrite {
    Open {
        alarm_id: String,
        case: Box<cityops_domain::Case>,
        event: Box<cityops_domain::TimelineEvent>,
        /// Tries so far that failed on a store error.
        attempts: u8,
    },
    Join {
        alarm_id: String,
        case_id: String,
        text: String,
        attempts: u8,
    },
    /// A timeline note about an alarm already on the case (cleared, raised again).
    Note { case_id: String, text: String },
}

/// Why the desk could not make a write.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The case is finished (or gone): an alarm cannot join it.
    Finished,
    /// The store failed: worth another try.
    Store(String),
}

impl CaseWrite {
    /// The same write, for another try after a store error; `None` once it has had its tries.
    pub(crate) fn retry(mut self) -> Option<CaseWrite> {
        const TRIES: u8 = 3;
        match &mut self {
            CaseWrite::Open { attempts, .. } | CaseWrite::Join { attempts, .. } => {
                *attempts += 1;
                (*attempts < TRIES).then_some(self)
            }
            CaseWrite::Note { .. } => None,
        }
    }

    fn case_id(&self) -> &str {
        match self {
            CaseWrite::Open { case, .. } => &case.id,
            CaseWrite::Join { case_id, .. } | CaseWrite::Note { case_id, .. } => case_id,
        }
    }
}

/// What the pipeline hands the desk.
pub(crate) enum DeskWork {
    Write(Vec<CaseWrite>),
    /// Answered once everything handed over before it is written.
    Settle(oneshot::Sender<()>),
}

/// Starts the desk; the receiver yields the writes that failed, for the pipeline to undo
/// or plan again. The desk stops when every sender of its work is gone, after writing what
/// was queued.
pub(crate) fn spawn(
    store: Arc<dyn CaseStore>,
    events: broadcast::Sender<TelemetryEvent>,
) -> (
    mpsc::Sender<DeskWork>,
    mpsc::UnboundedReceiver<Vec<(CaseWrite, Failure)>>,
) {
    // Bounded: when the store falls this far behind an alarm storm, the pipeline waits for
    // the desk instead of piling up links to unwritten cases without limit.
    let (work, mut queue) = mpsc::channel::<DeskWork>(1024);
    let (failures, failed_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(first) = queue.recv().await {
            let mut writes = Vec::new();
            let mut settled = Vec::new();
            // Whatever queued meanwhile goes in the same round: one group commit for all.
            for item in std::iter::once(first).chain(std::iter::from_fn(|| queue.try_recv().ok())) {
                match item {
                    DeskWork::Write(more) => writes.extend(more),
                    DeskWork::Settle(reply) => settled.push(reply),
                }
            }
            let outcomes = write_cases(&store, &events, &writes).await;
            let mut failed = Vec::new();
            for (write, outcome) in writes.into_iter().zip(outcomes) {
                match (&write, outcome) {
                    (CaseWrite::Open { case, .. }, Ok(())) => {
                        tracing::info!(case = %case.number.0, "An alarm opened a case.");
                    }
                    (_, Ok(())) => {}
                    (CaseWrite::Note { case_id, .. }, Err(failure)) => {
                        tracing::warn!(?failure, case = %case_id, "Could not note an alarm change on its case.");
                    }
                    (_, Err(failure)) => failed.push((write, failure)),
                }
            }
            if !failed.is_empty() {
                let _ = failures.send(failed);
            }
            for reply in settled {
                let _ = reply.send(());
            }
        }
    });
    (work, failed_rx)
}

/// Performs the writes: those about one case in order (its opening, then the alarms that
/// join it, then notes), different cases side by side, so the store's group commit takes
/// them together. Each outcome in the order of `writes`.
pub(crate) async fn write_cases(
    store: &Arc<dyn CaseStore>,
    events: &broadcast::Sender<TelemetryEvent>,
    writes: &[CaseWrite],
) -> Vec<Result<(), Failure>> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, write) in writes.iter().enumerate() {
        let case_id = write.case_id();
        match groups.iter_mut().find(|(id, _)| *id == case_id) {
            Some((_, members)) => members.push(i),
            None => groups.push((case_id, vec![i])),
        }
    }
    let mut writers = tokio::task::JoinSet::new();
    for (_, members) in groups {
        let (store, events) = (store.clone(), events.clone());
        let jobs: Vec<(usize, CaseWrite)> = members
            .into_iter()
            .map(|i| (i, writes[i].clone()))
            .collect();
        writers.spawn(async move {
            let mut outcomes = Vec::with_capacity(jobs.len());
            for (i, write) in jobs {
                let outcome = match write {
                    CaseWrite::Open { case, event, .. } => {
                        match store.insert_case(*case, *event).await {
                            Ok(case) => {
                                let _ = events.send(TelemetryEvent::Case(
                                    Arc::new(case),
                                    CommandKind::Report,
                                ));
                                Ok(())
                            }
                            Err(error) => Err(Failure::Store(error.to_string())),
                        }
                    }
                    CaseWrite::Join { case_id, text, .. } | CaseWrite::Note { case_id, text } => {
                        note_case(&store, &events, &case_id, text).await
                    }
                };
                outcomes.push((i, outcome));
            }
            outcomes
        });
    }
    let mut outcomes =
        vec![Err(Failure::Store("the write did not finish".to_owned())); writes.len()];
    while let Some(done) = writers.join_next().await {
        for (i, outcome) in done.unwrap_or_default() {
            outcomes[i] = outcome;
        }
    }
    outcomes
}

/// Adds a timeline note to an open case.
async fn note_case(
    store: &Arc<dyn CaseStore>,
    events: &broadcast::Sender<TelemetryEvent>,
    case_id: &str,
    text: String,
) -> Result<(), Failure> {
    for _ in 0..5 {
        let case = match store.case(case_id).await {
            Ok(Some(case)) if !case.state.is_terminal() => case,
            Ok(_) => return Err(Failure::Finished),
            Err(error) => return Err(Failure::Store(error.to_string())),
        };
        let actor = system_actor(&case.area);
        let Ok((next, event)) = cityops_domain::decide(
            &case,
            CaseCommand::Note { text: text.clone() },
            &actor,
            Utc::now(),
        ) else {
            return Err(Failure::Finished);
        };
        match store.update_case(&next, &event, None).await {
            Ok(()) => {
                let _ = events.send(TelemetryEvent::Case(Arc::new(next), CommandKind::Note));
                return Ok(());
            }
            // Someone else changed the case meanwhile: read it again.
            Err(StoreError::Conflict(_)) => continue,
            Err(error) => return Err(Failure::Store(error.to_string())),
        }
    }
    Err(Failure::Store(format!(
        "case {case_id} kept changing under the note"
    )))
}

/// CityOps itself, within the city of `area`.
pub(crate) fn system_actor(area: &AreaCode) -> Actor {
    Actor::system(area.city())
}
