//! The outbox as read: every case change writes an outbox row in its own transaction
//! (`cases::insert_event`); consumers read the rows after their cursor, record how far they
//! have read, and rows every consumer has seen are pruned once older than the retention.
//!
//! A consumer that has not recorded its cursor for longer than the retention holds nothing
//! back: a node taken out of service must not make the outbox grow for ever (and
//! `cityops outbox forget` drops it at once).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::TimelineEvent;

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreResult};

/// One outbox row: a committed case change.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// Increasing in commit order on one writer; on PostgreSQL with several writers an id
    /// may become visible after a higher one (see the relay).
    pub id: i64,
    pub topic: String,
    pub case_id: String,
    /// The timeline event as stored (its personal data sealed); `None` when the payload
    /// cannot be read, so one bad row never stops a consumer.
    pub event: Option<TimelineEvent>,
    pub created_at: DateTime<Utc>,
}

/// A consumer of the outbox and how far it has read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConsumer {
    pub name: String,
    pub last_seen: i64,
    pub updated_at: DateTime<Utc>,
}

/// What the outbox holds, for operators.
#[derive(Debug, Clone)]
pub struct OutboxStatus {
    pub rows: i64,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    pub oldest: Option<DateTime<Utc>>,
    pub consumers: Vec<OutboxConsumer>,
}

/// Rows deleted per statement while pruning: short transactions, so the one SQLite writer is
/// never held for long.
const PRUNE_CHUNK: i64 = 5_000;

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// The id of the newest row (0 when the outbox is empty).
    async fn outbox_end(&self) -> StoreResult<i64>;
    /// Up to `limit` rows after `after`, in id order.
    async fn outbox_after(&self, after: i64, limit: u32) -> StoreResult<Vec<OutboxEntry>>;
    /// Records that `consumer` has seen every row up to `last_seen` (registering it when new).
    async fn outbox_seen(
        &self,
        consumer: &str,
        last_seen: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes the rows created before `before` that every consumer active since
    /// `active_since` has seen; returns how many.
    async fn outbox_prune(
        &self,
        before: DateTime<Utc>,
        active_since: DateTime<Utc>,
    ) -> StoreResult<u64>;
    async fn outbox_status(&self) -> StoreResult<OutboxStatus>;
    /// Drops a consumer (a node taken out of service); false when there was none.
    async fn outbox_forget(&self, consumer: &str) -> StoreResult<bool>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> OutboxStore for SqlStore<D, A> {
    async fn outbox_end(&self) -> StoreResult<i64> {
        let row = self
            .read_one(Statement::new(
                "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS last FROM outbox",
            ))
            .await?;
        row.int("last")
    }

    async fn outbox_after(&self, after: i64, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, topic, case_id, payload, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(limit)),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.int("id")?,
                    topic: r.text("topic")?,
                    case_id: r.text("case_id")?,
                    event: r.json("payload").ok(),
                    created_at: r.time("created_at")?,
                })
            })
            .collect()
    }

    async fn outbox_seen(
        &self,
        consumer: &str,
        last_seen: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        D::execute(
            &mut conn,
            Statement::new(
                "INSERT INTO outbox_consumers (name, last_seen, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen, updated_at = excluded.updated_at",
            )
            .bind(consumer)
            .bind(last_seen)
            .bind(crate::millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn outbox_prune(
        &self,
        before: DateTime<Utc>,
        active_since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let bound = self
            .read_one(
                Statement::new(
                    "SELECT CAST(MIN(last_seen) AS BIGINT) AS bound, COUNT(*) AS consumers FROM outbox_consumers WHERE updated_at >= $1",
                )
                .bind(crate::millis(active_since)),
            )
            .await?;
        // No active consumer: nobody waits for anything, the retention alone decides.
        let bound = bound.int_opt("bound")?.unwrap_or(i64::MAX);
        let cut = crate::millis(before);
        let mut deleted = 0;
        let mut from = 0i64;
        // Rows are read from the oldest id on, so the cost is the rows deleted plus one
        // chunk, never a scan of the whole table. `created_at` follows id order closely but
        // not exactly (it is the request's time): the pass stops at the first row young
        // enough to keep, and a slightly older row after it goes with a later pass.
        loop {
            let rows = self
                .read_all(
                    Statement::new(
                        "SELECT id, created_at FROM outbox WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
                    )
                    .bind(from)
                    .bind(bound)
                    .bind(PRUNE_CHUNK),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            let mut upto = None;
            let mut young = false;
            for row in &rows {
                if row.int("created_at")? >= cut {
                    young = true;
                    break;
                }
                upto = Some(row.int("id")?);
            }
            let Some(upto) = upto else { break };
            let mut conn = self.writer.acquire().await?;
            deleted += D::execute(
                &mut conn,
                Statement::new("DELETE FROM outbox WHERE id > $1 AND id <= $2 AND created_at < $3")
                    .bind(from)
                    .bind(upto)
                    .bind(cut),
            )
            .await?;
            if young || rows.len() < PRUNE_CHUNK as usize {
                break;
            }
            from = last.int("id")?;
        }
        Ok(deleted)
    }

    async fn outbox_status(&self) -> StoreResult<OutboxStatus> {
        let row = self
            .read_one(Statement::new(
                "SELECT COUNT(*) AS n, CAST(MIN(id) AS BIGINT) AS first, CAST(MAX(id) AS BIGINT) AS last, CAST(MIN(created_at) AS BIGINT) AS oldest FROM outbox",
            ))
            .await?;
        let consumers = self
            .read_all(Statement::new(
                "SELECT name, last_seen, updated_at FROM outbox_consumers ORDER BY name",
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(OutboxConsumer {
                    name: r.text("name")?,
                    last_seen: r.int("last_seen")?,
                    updated_at: r.time("updated_at")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(OutboxStatus {
            rows: row.int("n")?,
            first_id: row.int_opt("first")?,
            last_id: row.int_opt("last")?,
            oldest: row.time_opt("oldest")?,
            consumers,
        })
    }

    async fn outbox_forget(&self, consumer: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let gone = D::execute(
            &mut tx,
            Statement::new("DELETE FROM outbox_consumers WHERE name = $1").bind(consumer),
        )
        .await?;
        if gone > 0 {
            self.audit_in(
                &mut tx,
                vec![crate::audit::record("outbox.forget", consumer)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(gone > 0)
    }
}
