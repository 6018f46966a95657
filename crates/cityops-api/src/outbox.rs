//! The outbox relay: the one source of the live stream's case events. Every case change
//! commits an outbox row with it; the relay reads the rows after its cursor, hands each to
//! this node's subscribers and records its cursor under the node's name. The node holding
//! [`Duty::OutboxPruning`] also prunes the rows every consumer has seen once they are older
//! than the retention.
//!
//! Writers in this process wake it ([`crate::AppState::outbox_written`]) so the stream stays
//! immediate; it also polls, which is how changes written by other nodes and by the command
//! line reach this node's subscribers.

use chrono::Utc;
use cityops_store::{OutboxEntry, Store};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

use crate::duty::Duty;
use crate::{AppState, CaseChange};

/// The relay's settings, from the binary's configuration.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// This node's consumer name; nodes sharing a database need different names.
    pub node_name: String,
    /// Rows younger than this are kept even when every consumer has seen them.
    pub retention: chrono::Duration,
    /// How often the relay prunes.
    pub prune_every: Duration,
    /// How often the relay looks for rows nobody woke it for (other nodes' writes).
    pub poll: Duration,
}

impl Default for OutboxConfig {
    fn default() -> OutboxConfig {
        OutboxConfig {
            node_name: "cityops".to_owned(),
            retention: chrono::Duration::hours(72),
            prune_every: Duration::from_secs(300),
            poll: Duration::from_secs(1),
        }
    }
}

/// How recently a consumer must have recorded its cursor for the pruning to wait for it:
/// the retention, and at least an hour, so that a short retention does not drop a node that
/// is merely between two recordings.
pub fn active_window(config: &OutboxConfig) -> chrono::Duration {
    config.retention.max(chrono::Duration::hours(1))
}

/// Rows read per query.
pub(crate) const BATCH: u32 = 500;

/// How long a missing id holds the relay back. On PostgreSQL ids come from a sequence when a
/// row is inserted, not when it commits: a row of another writer's transaction still in
/// flight is missing for a moment, and skipping past it would lose it for good. A row rolled
/// back never comes, so after this long the gap is passed.
const GAP_WAIT: Duration = Duration::from_secs(2);

/// The cursor is written at most this often: under a burst of writes one small write a
/// second, not one per batch.
const RECORD_EVERY: Duration = Duration::from_secs(1);

/// Wakes the relay when this process has committed case changes, and tells the live stream
/// how far the relay has handed rows on.
pub(crate) struct Wake {
    pub(crate) notify: Notify,
    /// The last row handed to this node's subscribers (or passed over); -1 until the relay
    /// has found the end of the outbox.
    pub(crate) relayed: AtomicI64,
}

impl Default for Wake {
    fn default() -> Wake {
        Wake {
            notify: Notify::new(),
            relayed: AtomicI64::new(-1),
        }
    }
}

impl Wake {
    pub(crate) fn written(&self) {
        // One stored permit: wakes a waiting relay, or makes its next wait return at once.
        self.notify.notify_one();
    }
}

/// Most rows one reconnecting subscriber is given again; further behind, it is told it
/// lagged and reloads instead.
pub(crate) const REPLAY_MAX: i64 = 10_000;

/// What a subscriber resuming after `Last-Event-ID` is given before the live changes.
pub(crate) struct Replay {
    /// The changes after its last one, up to `through`, oldest first.
    pub changes: Vec<CaseChange>,
    /// Live changes up to this row were replayed (or missed): the stream passes them over.
    pub through: i64,
    /// When it was too far behind to replay: how many rows it missed.
    pub missed: Option<u64>,
}

/// The outbox rows after `after` that this node's relay has already handed on, as changes:
/// those a subscriber that saw row `after` (on any node: the ids are the database's) did not
/// see. Call it after subscribing to [`AppState::changes`], so that every later row arrives
/// there and nothing falls between the two.
pub(crate) async fn replay(state: &AppState, after: i64) -> cityops_store::StoreResult<Replay> {
    // A node just started has not found the end of the outbox yet: wait for it briefly.
    let mut through = state.outbox.relayed.load(Ordering::Acquire);
    for _ in 0..50 {
        if through >= 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        through = state.outbox.relayed.load(Ordering::Acquire);
    }
    let mut replay = Replay {
        changes: Vec::new(),
        through: through.max(after),
        missed: None,
    };
    if through <= after {
        // Ahead of this node (another node handed more on): the rows between come live. An
        // id the database never gave (a database restored from before it) is not waited for:
        // the subscriber starts from now.
        if after > state.store.outbox_end().await? {
            replay.through = through;
        }
        return Ok(replay);
    }
    if through - after > REPLAY_MAX {
        replay.missed = Some(u64::try_from(through - after).unwrap_or(u64::MAX));
        return Ok(replay);
    }
    let mut cursor = after;
    while cursor < through {
        let rows = state.store.outbox_after(cursor, BATCH).await?;
        if rows.is_empty() {
            break;
        }
        for entry in rows {
            if entry.id > through {
                return Ok(replay);
            }
            cursor = entry.id;
            if let Some(change) = change_of(&state.store, entry).await? {
                replay.changes.push(change);
            }
        }
    }
    Ok(replay)
}

/// Starts the relay of `state`'s node, and its part in pruning; they end when the server
/// stops.
pub(crate) fn spawn(state: AppState, wake: Arc<Wake>) {
    if let Some(config) = state.config.jetstream.clone() {
        crate::jetstream::spawn(state.clone(), wake.clone(), config);
    }
    let store = state.store.clone();
    let config = state.config.outbox.clone();
    crate::duty::run_every(
        &state,
        Duty::OutboxPruning,
        config.prune_every,
        false,
        move || {
            let (store, config) = (store.clone(), config.clone());
            async move {
                let now = Utc::now();
                match store
                    .outbox_prune(now - config.retention, now - active_window(&config))
                    .await
                {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::info!(deleted, "Outbox rows every consumer has seen pruned.")
                    }
                    Err(e) => tracing::warn!(error = %e, "The outbox could not be pruned."),
                }
            }
        },
    );
    if state.config.jetstream.is_none() {
        tokio::spawn(run(state, wake));
    }
}

async fn run(state: AppState, wake: Arc<Wake>) {
    let config = state.config.outbox.clone();
    let store = state.store.clone();
    let stopped = state.stopped();
    tokio::pin!(stopped);
    // The live stream shows what happens from now on: a node starts at the end, never
    // replaying what was written while it was down.
    let mut cursor = loop {
        match store.outbox_end().await {
            Ok(end) => {
                wake.relayed.store(end, Ordering::Release);
                break end;
            }
            Err(e) => {
                tracing::warn!(error = %e, "The outbox relay cannot read the outbox; retrying.");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = &mut stopped => return,
                }
            }
        }
    };
    let mut recorded = None;
    let mut last_record = Instant::now() - RECORD_EVERY;
    let mut gap_since: Option<Instant> = None;
    let mut alive = tokio::time::interval(config.prune_every);
    alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        match relay(&state, &store, &mut cursor, &mut gap_since).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "The outbox relay could not read; retrying."),
        }
        if recorded != Some(cursor) && last_record.elapsed() >= RECORD_EVERY {
            match store
                .outbox_seen(&config.node_name, cursor, Utc::now())
                .await
            {
                Ok(()) => recorded = Some(cursor),
                Err(e) => {
                    tracing::warn!(error = %e, "The outbox relay could not record its cursor.")
                }
            }
            last_record = Instant::now();
        }
        let wait = match (gap_since, recorded == Some(cursor)) {
            (Some(_), _) => Duration::from_millis(100),
            // A cursor not yet recorded is written at the next turn.
            (None, false) => RECORD_EVERY.min(config.poll),
            (None, true) => config.poll,
        };
        tokio::select! {
            _ = wake.notify.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = alive.tick() => {
                // A sign of life: an idle node is still a consumer the pruning waits for.
                recorded = None;
            }
            _ = &mut stopped => {
                if recorded != Some(cursor) {
                    let _ = store.outbox_seen(&config.node_name, cursor, Utc::now()).await;
                }
                return;
            }
        }
    }
}

/// Hands every row after `cursor` to the subscribers, up to the first gap still young.
async fn relay(
    state: &AppState,
    store: &Arc<dyn Store>,
    cursor: &mut i64,
    gap_since: &mut Option<Instant>,
) -> cityops_store::StoreResult<()> {
    loop {
        let (rows, more) = ready_rows(store, *cursor, gap_since).await?;
        for entry in rows {
            *cursor = entry.id;
            // Before the send: a subscriber reading this sees the row in the outbox or in
            // its channel, and passes over the copy.
            state.outbox.relayed.store(entry.id, Ordering::Release);
            deliver(state, store, entry).await?;
        }
        if !more {
            return Ok(());
        }
    }
}

/// The rows after `cursor` that may be handed on now, in order: up to the first gap still
/// young (see [`GAP_WAIT`]); and whether more may follow at once.
pub(crate) async fn ready_rows(
    store: &Arc<dyn Store>,
    cursor: i64,
    gap_since: &mut Option<Instant>,
) -> cityops_store::StoreResult<(Vec<OutboxEntry>, bool)> {
    let rows = store.outbox_after(cursor, BATCH).await?;
    let full = rows.len() == BATCH as usize;
    let mut ready = Vec::with_capacity(rows.len());
    let mut last = cursor;
    for entry in rows {
        if entry.id != last + 1 {
            let since = *gap_since.get_or_insert_with(Instant::now);
            if since.elapsed() < GAP_WAIT {
                return Ok((ready, false));
            }
        }
        *gap_since = None;
        last = entry.id;
        ready.push(entry);
    }
    Ok((ready, full))
}

pub(crate) async fn deliver_change(state: &AppState, change: CaseChange) {
    state.outbox.relayed.store(change.seq, Ordering::Release);
    // No subscriber is not an error.
    let _ = state.changes.send(change);
}

async fn deliver(
    state: &AppState,
    store: &Arc<dyn Store>,
    entry: OutboxEntry,
) -> cityops_store::StoreResult<()> {
    // Nobody listening on this node: nothing to read the case for.
    if state.changes.receiver_count() == 0 {
        return Ok(());
    }
    if let Some(change) = change_of(store, entry).await? {
        // No subscriber is not an error.
        let _ = state.changes.send(change);
    }
    Ok(())
}

/// The change an outbox row records, with the case in the state the row's event left it.
pub(crate) async fn change_of(
    store: &Arc<dyn Store>,
    entry: OutboxEntry,
) -> cityops_store::StoreResult<Option<CaseChange>> {
    let Some(event) = entry.event else {
        tracing::warn!(
            id = entry.id,
            "An outbox row could not be read; passed over."
        );
        return Ok(None);
    };
    let Some(case) = case_as_of(store, &entry.case_id, &event).await? else {
        return Ok(None);
    };
    Ok(Some(CaseChange {
        seq: entry.id,
        case: Arc::new(case),
        action: event.command.kind(),
        at: event.at,
    }))
}

/// The case in the state `event` left it in (it may have moved on since).
pub(crate) async fn case_as_of(
    store: &Arc<dyn Store>,
    case_id: &str,
    event: &cityops_domain::TimelineEvent,
) -> cityops_store::StoreResult<Option<cityops_domain::Case>> {
    let Some(mut case) = store.case(case_id).await? else {
        return Ok(None);
    };
    if case.version != event.seq {
        case.state = event.to;
    }
    Ok(Some(case))
}
