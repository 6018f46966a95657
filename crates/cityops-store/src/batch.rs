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
    Inserted(Case),
    Updated,
}

/// Answers every caller of a batch: their own result if the batch committed, the failure
/// otherwise (then nothing of the batch was written). Jobs the batch never reached (`unrun`,
/// left when the transaction failed early) get the failure too.
pub(crate) fn answer(
    done: Vec<(Job, StoreResult<Done>)>,
    unrun: impl IntoIterator<Item = Job>,
    outcome: StoreResult<()>,
) {
    let failure = outcome.err().map(|e| e.to_string());
    let jobs = done
        .into_iter()
        .map(|(job, result)| (job, Some(result)))
        .chain(unrun.into_iter().map(|job| (job, None)));
    for (job, result) in jobs {
        let result = match (&failure, result) {
            (None, Some(result)) => result,
            (Some(message), _) => Err(StoreError::Commit(message.clone())),
            (None, None) => Err(StoreError::Commit(
                "the batch ended before this write ran".into(),
            )),
        };
        // A caller that gave up waiting (dropped its receiver) needs no answer.
        match job {
            Job::Insert { reply, .. } => {
                let _ = reply.send(result.and_then(|done| match done {
                    Done::Inserted(case) => Ok(case),
                    Done::Updated => Err(StoreError::Commit("an insert reported an update".into())),
                }));
            }
            Job::Update { reply, .. } => {
                let _ = reply.send(result.map(|_| ()));
            }
        }
    }
}
