//! The queue of case writes behind group commit (see `run_writer` in `sql.rs`).

use cityops_domain::audit::{AuditActor, AuditRecord};
use cityops_domain::{Case, TimelineEvent};
use tokio::sync::oneshot;

use crate::{Attachment, StoreError, StoreResult};

/// At most this many writes share one transaction, to bound latency under a burst.
pub(crate) const MAX_BATCH: usize = 256;
/// Writers wait (backpressure) when this many writes are queued.
pub(crate) const QUEUE: usize = 1024;

pub(crate) enum Job {
    Insert {
        case: Case,
        event: TimelineEvent,
        /// A key the case is the one answer to, claimed in the case's transaction.
        claim: Option<Box<crate::CaseClaim>>,
        /// The request behind the write, captured when it was queued.
        context: AuditActor,
        reply: oneshot::Sender<StoreResult<Case>>,
    },
    Update {
        case: Case,
        event: TimelineEvent,
        // Boxed: an attachment is far larger than the rest of the job.
        attachment: Option<Box<Attachment>>,
        context: AuditActor,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// Two case changes that land together or not at all (a merge: the report's and the
    /// master's), in the order of their case ids.
    Pair {
        changes: Box<[(Case, TimelineEvent); 2]>,
        context: AuditActor,
        reply: oneshot::Sender<StoreResult<()>>,
    },
}

pub(crate) enum Done {
    Inserted(Box<Case>),
    Updated,
}

impl Job {
    /// The event the job writes: the row that tells whether its transaction landed.
    pub(crate) fn event(&self) -> &TimelineEvent {
        match self {
            Job::Insert { event, .. } | Job::Update { event, .. } => event,
            Job::Pair { changes, .. } => &changes[0].1,
        }
    }

    /// The row the job locks first: the district's daily number row for an insert, the
    /// case row for an update. Batches written in this order take locks in one global order.
    pub(crate) fn lock_key(&self) -> (u8, &str) {
        match self {
            Job::Insert { case, .. } => (0, case.district.as_str()),
            Job::Update { case, .. } => (1, case.id.as_str()),
            Job::Pair { changes, .. } => (1, changes[0].0.id.as_str()),
        }
    }

    /// The audit records of the job, once written: the event says who acted (a user, a
    /// citizen, the system opening a case for an alarm), the request where from.
    pub(crate) fn audit_records(&self, done: &Done) -> Vec<AuditRecord> {
        match (self, done) {
            (Job::Insert { context, event, .. }, Done::Inserted(case)) => {
                vec![record_of(context, event, case.number.0.as_str())]
            }
            (
                Job::Insert {
                    context,
                    event,
                    case,
                    ..
                }
                | Job::Update {
                    context,
                    event,
                    case,
                    ..
                },
                _,
            ) => vec![record_of(context, event, case.number.0.as_str())],
            (
                Job::Pair {
                    changes, context, ..
                },
                _,
            ) => changes
                .iter()
                .map(|(case, event)| record_of(context, event, case.number.0.as_str()))
                .collect(),
        }
    }

    /// Answers the caller; one that gave up waiting (dropped its receiver) needs no answer.
    pub(crate) fn answer(self, result: StoreResult<Done>) {
        match self {
            Job::Insert { reply, .. } => {
                let _ = reply.send(result.and_then(|done| match done {
                    Done::Inserted(case) => Ok(*case),
                    Done::Updated => Err(StoreError::Commit("an insert reported an update".into())),
                }));
            }
            Job::Update { reply, .. } | Job::Pair { reply, .. } => {
                let _ = reply.send(result.map(|_| ()));
            }
        }
    }
}

fn record_of(context: &AuditActor, event: &TimelineEvent, number: &str) -> AuditRecord {
    let same_actor = context.actor == event.username;
    AuditRecord {
        at: event.at,
        actor: AuditActor {
            actor: event.username.clone(),
            role: event.role.as_str().into(),
            scope: if same_actor {
                context.scope.clone()
            } else {
                String::new()
            },
            origin: context.origin.clone(),
        },
        action: format!("case.{}", event.command.name()),
        object: format!("case:{}", event.case_id),
        result: "ok".into(),
        detail: number.into(),
    }
}
