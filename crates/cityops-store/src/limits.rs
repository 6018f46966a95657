//! The limits that must hold across every node sharing the database: failed sign-ins of a
//! (account, address) pair and their alerts (counts), and the public per-address budgets
//! (a GCRA, the algorithm of the in-process limiter, kept as one "theoretical arrival time"
//! per key). Each operation is one statement, so two nodes counting the same key at once both
//! count: neither overwrites the other.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreResult};

/// What a count starts again from after `forget`: the last time it was counted (a pair's
/// consecutive failures), or the first (failures within a window, for alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountWindow {
    SinceLast,
    SinceFirst,
}

#[async_trait]
pub trait LimitStore: Send + Sync {
    /// Counts one more for `key` at `now`, starting again from one if the count is older than
    /// `forget` (as `window` measures it); the count it reached.
    async fn count_one(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget: Duration,
        window: CountWindow,
    ) -> StoreResult<u32>;
    /// `key`'s count and when it was last counted, if it has one.
    async fn count_of(&self, key: &str) -> StoreResult<Option<(u32, DateTime<Utc>)>>;
    /// Forgets `key`'s count.
    async fn forget_count(&self, key: &str) -> StoreResult<()>;
    /// Spends one unit of `key`'s budget (one unit every `interval`, up to `burst` at once):
    /// false, spending nothing, when none is left.
    async fn spend(
        &self,
        key: &str,
        now: DateTime<Utc>,
        interval: Duration,
        burst: u32,
    ) -> StoreResult<bool>;
    /// Deletes counts last counted before `counted_before` and budgets full again at `now`;
    /// how many rows went.
    async fn prune_limits(
        &self,
        now: DateTime<Utc>,
        counted_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> LimitStore for SqlStore<D, A> {
    async fn count_one(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget: Duration,
        window: CountWindow,
    ) -> StoreResult<u32> {
        let basis = match window {
            CountWindow::SinceLast => "limit_counts.last_at",
            CountWindow::SinceFirst => "limit_counts.first_at",
        };
        let mut conn = self.writer.acquire().await?;
        let row = D::fetch_optional(
            &mut conn,
            Statement::new(format!(
                "INSERT INTO limit_counts (key, count, first_at, last_at) VALUES ($1, 1, $2, $2)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN {basis} < $3 THEN 1 ELSE limit_counts.count + 1 END,
                   first_at = CASE WHEN {basis} < $3 THEN $2 ELSE limit_counts.first_at END,
                   last_at = $2
                 RETURNING count"
            ))
            .bind(key)
            .bind(crate::millis(now))
            .bind(crate::millis(now - forget)),
        )
        .await?;
        let count = match row {
            Some(row) => row.int("count")?,
            None => 1,
        };
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn count_of(&self, key: &str) -> StoreResult<Option<(u32, DateTime<Utc>)>> {
        // From the writer: a count made a moment ago on another node must be seen.
        let mut conn = self.writer.acquire().await?;
        let row = D::fetch_optional(
            &mut conn,
            Statement::new("SELECT count, last_at FROM limit_counts WHERE key = $1").bind(key),
        )
        .await?;
        row.map(|r| {
            Ok((
                u32::try_from(r.int("count")?).unwrap_or(u32::MAX),
                r.time("last_at")?,
            ))
        })
        .transpose()
    }

    async fn forget_count(&self, key: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        D::execute(
            &mut conn,
            Statement::new("DELETE FROM limit_counts WHERE key = $1").bind(key),
        )
        .await?;
        Ok(())
    }

    async fn spend(
        &self,
        key: &str,
        now: DateTime<Utc>,
        interval: Duration,
        burst: u32,
    ) -> StoreResult<bool> {
        // GCRA: the key's theoretical arrival time moves on by one interval per request; a
        // request is admitted while it stays within `burst` intervals of now.
        let now_ms = crate::millis(now);
        let interval_ms = interval.num_milliseconds().max(1);
        let tolerance_ms = interval_ms.saturating_mul(i64::from(burst.max(1)));
        let mut conn = self.writer.acquire().await?;
        let admitted = D::execute(
            &mut conn,
            Statement::new(
                "INSERT INTO limit_budgets (key, tat) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET
                   tat = CASE WHEN limit_budgets.tat > $3 THEN limit_budgets.tat ELSE $3 END + $4
                 WHERE CASE WHEN limit_budgets.tat > $3 THEN limit_budgets.tat ELSE $3 END + $4 - $5 <= $3",
            )
            .bind(key)
            .bind(now_ms + interval_ms)
            .bind(now_ms)
            .bind(interval_ms)
            .bind(tolerance_ms),
        )
        .await?;
        Ok(admitted == 1)
    }

    async fn prune_limits(
        &self,
        now: DateTime<Utc>,
        counted_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await?;
        let counts = D::execute(
            &mut conn,
            Statement::new("DELETE FROM limit_counts WHERE last_at < $1")
                .bind(crate::millis(counted_before)),
        )
        .await?;
        let budgets = D::execute(
            &mut conn,
            Statement::new("DELETE FROM limit_budgets WHERE tat < $1").bind(crate::millis(now)),
        )
        .await?;
        Ok(counts + budgets)
    }
}
