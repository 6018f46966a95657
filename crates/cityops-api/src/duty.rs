//! Duties: the background jobs that one node of several sharing a database runs at a time
//! (the overdue watch, retention, audit checkpoints, pruning the outbox and old readings).
//!
//! Each duty is a lease in the database ([`cityops_store::WatchStore::hold_lease`]). One
//! keeper per process renews the leases of the duties the process takes part in, every third
//! of the lease time, and records which it holds; a duty's job runs its round only while its
//! flag says held. A node that dies stops renewing, and another takes its duties over once the
//! leases run out: within the lease time, plus a renewal period. A node that stops gives its
//! leases up at once.
//!
//! The lease makes a duty single in the ordinary case, not in every case: a keeper stalled
//! past its lease still believes it holds it until its next renewal. Every duty's round is
//! therefore safe to run twice at once (each writes against what it read, or deletes what is
//! past a date), so a stall costs work, never correctness.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

use cityops_store::Lease;

use crate::metrics::DutyLabels;
use crate::AppState;

/// A job exactly one node runs at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Duty {
    /// Marks cases turning yellow and red, escalates and chases supervision notices.
    OverdueWatch,
    /// Removes reporters' contacts and patrol tracks past their retention.
    Retention,
    /// Signs audit checkpoints.
    AuditCheckpoints,
    /// Deletes outbox rows every node has relayed.
    OutboxPruning,
    /// Deletes raw readings and minute rollups past their retention.
    ReadingsPruning,
    /// Publishes the outbox to NATS JetStream, in order (with NATS only).
    OutboxRelay,
}

impl Duty {
    pub const ALL: [Duty; 6] = [
        Duty::OverdueWatch,
        Duty::Retention,
        Duty::AuditCheckpoints,
        Duty::OutboxPruning,
        Duty::ReadingsPruning,
        Duty::OutboxRelay,
    ];

    /// The duty's name on `/readyz` and `/metrics`, and its lease's in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Duty::OverdueWatch => "overdue-watch",
            Duty::Retention => "retention",
            Duty::AuditCheckpoints => "audit-checkpoints",
            Duty::OutboxPruning => "outbox-pruning",
            Duty::ReadingsPruning => "readings-pruning",
            Duty::OutboxRelay => "outbox-relay",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The lease time and this node's name among the holders.
#[derive(Debug, Clone)]
pub struct DutyConfig {
    /// How long a hold lasts unless renewed; renewed every third of it.
    pub lease: Duration,
}

impl Default for DutyConfig {
    fn default() -> DutyConfig {
        DutyConfig {
            lease: Duration::from_secs(15),
        }
    }
}

/// This process's part in the duties: which it takes part in, which it holds.
pub struct Duties {
    /// This process among the holders: the node's name and a random part, unique also among
    /// processes given the same name (and a process restarted under its old name).
    holder: String,
    started_at: DateTime<Utc>,
    taken: Mutex<BTreeSet<Duty>>,
    held: [AtomicBool; Duty::ALL.len()],
    /// Wakes the keeper when a duty is taken part in, so it is held at once, not at the
    /// next renewal.
    joined: Notify,
}

impl Duties {
    pub(crate) fn new(node_name: &str) -> Duties {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Duties {
            holder: format!("{node_name}/{}", &random[..12]),
            started_at: Utc::now(),
            taken: Mutex::default(),
            held: Default::default(),
            joined: Notify::new(),
        }
    }

    /// How this process is named as a holder of leases.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Makes this process a candidate for `duty`: the keeper holds its lease when free.
    pub fn take_part(&self, duty: Duty) {
        let new = self
            .taken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(duty);
        if new {
            self.joined.notify_one();
        }
    }

    /// Whether this process holds `duty` as of the last renewal.
    pub fn holds(&self, duty: Duty) -> bool {
        self.held[duty.index()].load(Ordering::Acquire)
    }

    fn taken(&self) -> Vec<Duty> {
        self.taken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect()
    }

    fn set(&self, state: &AppState, duty: Duty, held: bool) {
        let was = self.held[duty.index()].swap(held, Ordering::AcqRel);
        if was != held {
            if held {
                tracing::info!(duty = duty.as_str(), holder = %self.holder, "This node now holds the duty.");
            } else {
                tracing::info!(duty = duty.as_str(), holder = %self.holder, "This node no longer holds the duty.");
            }
        }
        state
            .metrics
            .duty_held
            .get_or_create(&DutyLabels::of(duty))
            .set(i64::from(held));
    }

    /// Counts a round of `duty` run on this node, for `/metrics`.
    pub fn ran(&self, state: &AppState, duty: Duty) {
        state
            .metrics
            .duty_runs
            .get_or_create(&DutyLabels::of(duty))
            .inc();
    }
}

/// Who holds a duty, as `/readyz` shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DutyHolder {
    /// The duty: overdue-watch, retention, audit-checkpoints, outbox-pruning,
    /// readings-pruning or outbox-relay.
    #[schema(value_type = String)]
    pub duty: &'static str,
    /// The holding process (`node/random`), none while nobody holds it.
    pub holder: Option<String>,
    /// When the hold runs out unless renewed.
    pub until: Option<DateTime<Utc>>,
    /// Whether this node is the holder.
    pub here: bool,
}

/// Who holds every duty now, read from the database (so every node answers the same); a
/// duty no node takes part in (the outbox relay without NATS) has no holder.
pub async fn holders(state: &AppState) -> cityops_store::StoreResult<Vec<DutyHolder>> {
    let leases = state.store.leases(Utc::now()).await?;
    Ok(duty_holders(state.duties.holder(), &leases))
}

fn duty_holders(here: &str, leases: &[Lease]) -> Vec<DutyHolder> {
    Duty::ALL
        .into_iter()
        .map(|duty| {
            let held = leases.iter().find(|lease| lease.name == duty.as_str());
            DutyHolder {
                duty: duty.as_str(),
                holder: held.map(|lease| lease.holder.clone()),
                until: held.map(|lease| lease.until),
                here: held.is_some_and(|lease| lease.holder == here),
            }
        })
        .collect()
}

/// What a node says of itself with its presence.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Presence {
    version: String,
    started_at: DateTime<Utc>,
}

/// The release this node runs (every crate of the workspace carries the release's version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The lease every running node renews with its duties, so that nodes holding no duty are
/// seen too.
const PRESENCE: &str = "node:";

/// A node that is running, as the administration sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RunningNode {
    /// The process as it holds leases (`node/random`).
    pub node: String,
    /// When its presence runs out unless renewed.
    pub until: DateTime<Utc>,
    /// Whether this is the node that answered.
    pub here: bool,
    /// The release it runs (during a rolling upgrade, old and new side by side).
    pub version: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// The duties it holds.
    pub duties: Vec<String>,
}

/// The nodes sharing the database and who holds each duty.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NodesReport {
    /// The node that answered.
    pub node: String,
    /// How long a hold lasts unless renewed (renewed every third of it).
    pub lease_secs: u64,
    /// The running nodes, by name.
    pub nodes: Vec<RunningNode>,
    /// Every duty, in a fixed order.
    pub duties: Vec<DutyHolder>,
}

/// The running nodes and the duties' holders, from one read of the leases.
pub async fn report(state: &AppState) -> cityops_store::StoreResult<NodesReport> {
    let leases = state.store.leases(Utc::now()).await?;
    let here = state.duties.holder();
    let duties = duty_holders(here, &leases);
    let nodes = leases
        .iter()
        .filter(|lease| lease.name.starts_with(PRESENCE))
        .map(|lease| {
            let presence = lease
                .detail
                .as_deref()
                .and_then(|detail| serde_json::from_str::<Presence>(detail).ok());
            RunningNode {
                node: lease.holder.clone(),
                until: lease.until,
                here: lease.holder == here,
                version: presence.as_ref().map(|p| p.version.clone()),
                started_at: presence.map(|p| p.started_at),
                duties: duties
                    .iter()
                    .filter(|d| d.holder.as_ref() == Some(&lease.holder))
                    .map(|d| d.duty.to_owned())
                    .collect(),
            }
        })
        .collect();
    Ok(NodesReport {
        node: here.to_owned(),
        lease_secs: state.config.duties.lease.as_secs(),
        nodes,
        duties,
    })
}

/// Starts the keeper of `state`'s leases; on shutdown it gives up what it holds.
pub(crate) fn spawn_keeper(state: AppState) {
    tokio::spawn(keep(state));
}

async fn keep(state: AppState) {
    let lease = state.config.duties.lease;
    let ttl = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(15));
    let duties = state.duties.clone();
    let presence = format!("{PRESENCE}{}", duties.holder());
    let saying = serde_json::to_string(&Presence {
        version: VERSION.to_owned(),
        started_at: duties.started_at,
    })
    .unwrap_or_default();
    let stopped = state.stopped();
    tokio::pin!(stopped);
    let mut renew = tokio::time::interval((lease / 3).max(Duration::from_millis(50)));
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = renew.tick() => {}
            _ = duties.joined.notified() => {}
            _ = &mut stopped => break,
        }
        if let Err(error) = state
            .store
            .hold_lease_saying(&presence, duties.holder(), &saying, Utc::now(), ttl)
            .await
        {
            tracing::warn!(%error, "Could not renew this node's presence.");
        }
        for duty in duties.taken() {
            let held = match state
                .store
                .hold_lease(duty.as_str(), duties.holder(), Utc::now(), ttl)
                .await
            {
                Ok(held) => held,
                Err(error) => {
                    tracing::warn!(duty = duty.as_str(), %error, "Could not renew a duty's lease.");
                    false
                }
            };
            duties.set(&state, duty, held);
        }
    }
    let _ = state
        .store
        .release_lease(&format!("{PRESENCE}{}", duties.holder()), duties.holder())
        .await;
    for duty in duties.taken() {
        if duties.holds(duty) {
            let _ = state
                .store
                .release_lease(duty.as_str(), duties.holder())
                .await;
        }
    }
}

/// Runs `round` every `every` while this node holds `duty`, until the server stops; with
/// `last_round`, once more on shutdown if held (the audit checkpoint signs the final
/// requests). The round's errors are its own to report.
pub fn run_every<F, Fut>(
    state: &AppState,
    duty: Duty,
    every: Duration,
    last_round: bool,
    mut round: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let state = state.clone();
    state.duties.take_part(duty);
    tokio::spawn(async move {
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let mut clock = tokio::time::interval(every);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A round is due when the duty is first held, then every `every`.
        let mut due = true;
        // How soon a node that takes the duty over starts its first round.
        let mut check = tokio::time::interval(Duration::from_millis(250));
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        clock.tick().await;
        loop {
            let stopping = tokio::select! {
                _ = clock.tick() => { due = true; false }
                _ = check.tick() => false,
                _ = &mut stopped => true,
            };
            if stopping {
                // The keeper gives the lease up on shutdown but leaves the flag: the last
                // round runs on what this node held.
                if last_round && state.duties.holds(duty) {
                    round().await;
                    state.duties.ran(&state, duty);
                }
                return;
            }
            if due && state.duties.holds(duty) {
                due = false;
                round().await;
                state.duties.ran(&state, duty);
            }
        }
    });
}
