//! The queue of case writes behind group commit (see `run_writer` in `sql.rs`).

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
        reply: oneshot::Sender<StoreResult<Case>>,
    },
    Update {
        case: Case,
        event: TimelineEvent,
        attachment: Option<Attachment>,
        reply: oneshot::Sender<StoreResult<()>>,
    },
}

pub(crate) enum Done {
    Inserted(Box<Case>),
    Updated,
}

impl Job {
    /// The row the job locks first: the district's daily number row for an insert, the
    /// case row for an update. Batches written in this order take locks in one global order.
    pub(crate) fn lock_key(&self) -> (u8, &str) {
        match self {
            Job::Insert { case, .. } => (0, case.district.as_str()),
            Job::Update { case, .. } => (1, case.id.as_str()),
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
            Job::Update { reply, .. } => {
                let _ = reply.send(result.map(|_| ()));
            }
        }
    }
}
