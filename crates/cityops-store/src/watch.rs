//! The overdue watch's side of the store: the cases whose watch moment has come, read from
//! the `watch_at` index ([`cityops_domain::Case::watch_at`], written with every case change),
//! and the leases that let exactly one process of several sharing the database run a duty.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::Case;

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreResult};

/// Where a page of [`WatchStore::cases_to_watch`] ended: the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchCursor {
    pub watch_at: i64,
    pub id: String,
}

#[async_trait]
pub trait WatchStore: Send + Sync {
    /// Up to `limit` cases whose watch moment is at or before `now`, earliest first, after
    /// `after`; with the cursor to pass for the next page.
    async fn cases_to_watch(
        &self,
        now: DateTime<Utc>,
        after: Option<&WatchCursor>,
        limit: u32,
    ) -> StoreResult<(Vec<Case>, Option<WatchCursor>)>;
    /// Takes or renews the lease `name` for `holder` until `now + ttl`: true when `holder`
    /// holds it now (it held it already, or the last holder's lease ran out).
    async fn hold_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool>;
    /// Gives the lease up at once if `holder` holds it, so another process need not wait for
    /// it to run out.
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
    /// Who holds the lease `name` and until when, if anyone does at `now`.
    async fn lease_holder(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(String, DateTime<Utc>)>>;
    /// [`WatchStore::hold_lease`], the holder saying `detail` of itself with it.
    async fn hold_lease_saying(
        &self,
        name: &str,
        holder: &str,
        detail: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool>;
    /// Every lease held at `now`, by name.
    async fn leases(&self, now: DateTime<Utc>) -> StoreResult<Vec<Lease>>;
}

/// A lease held at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub until: DateTime<Utc>,
    /// What the holder says of itself with the lease, if anything.
    pub detail: Option<String>,
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> WatchStore for SqlStore<D, A> {
    async fn cases_to_watch(
        &self,
        now: DateTime<Utc>,
        after: Option<&WatchCursor>,
        limit: u32,
    ) -> StoreResult<(Vec<Case>, Option<WatchCursor>)> {
        let mut statement =
            Statement::new("SELECT id, watch_at, doc FROM cases WHERE watch_at <= ");
        statement.push_bind(crate::millis(now));
        if let Some(after) = after {
            statement
                .push(" AND (watch_at > ")
                .push_bind(after.watch_at)
                .push(" OR (watch_at = ")
                .push_bind(after.watch_at)
                .push(" AND id > ")
                .push_bind(after.id.clone())
                .push("))");
        }
        statement
            .push(" ORDER BY watch_at, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = self.read_all(statement).await?;
        let mut cases = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
            last = Some(WatchCursor {
                watch_at: row.int("watch_at")?,
                id: row.text("id")?,
            });
            cases.push(self.open_case_doc(&row.text("doc")?)?);
        }
        let next = if rows.len() as u32 == limit {
            last
        } else {
            None
        };
        Ok((cases, next))
    }

    async fn hold_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool> {
        self.take_lease(name, holder, None, now, ttl).await
    }

    async fn hold_lease_saying(
        &self,
        name: &str,
        holder: &str,
        detail: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool> {
        self.take_lease(name, holder, Some(detail), now, ttl).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        D::execute(
            &mut conn,
            Statement::new("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder),
        )
        .await?;
        Ok(())
    }

    async fn lease_holder(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let row = self
            .read_optional(
                Statement::new(
                    "SELECT holder, expires_at FROM leases WHERE name = $1 AND expires_at >= $2",
                )
                .bind(name)
                .bind(crate::millis(now)),
            )
            .await?;
        row.map(|r| Ok((r.text("holder")?, r.time("expires_at")?)))
            .transpose()
    }

    async fn leases(&self, now: DateTime<Utc>) -> StoreResult<Vec<Lease>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT name, holder, expires_at, detail FROM leases WHERE expires_at >= $1 ORDER BY name",
                )
                .bind(crate::millis(now)),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    name: r.text("name")?,
                    holder: r.text("holder")?,
                    until: r.time("expires_at")?,
                    detail: r.text_opt("detail")?,
                })
            })
            .collect()
    }
}

impl<D: Dialect, A: AuditPolicy> SqlStore<D, A> {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        detail: Option<&str>,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await?;
        // One statement, so that two processes taking a lease that ran out cannot both win:
        // the row is inserted, or updated only if it is ours or expired.
        let taken = D::execute(
            &mut conn,
            Statement::new(
                "INSERT INTO leases (name, holder, expires_at, detail) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, detail = excluded.detail
                 WHERE leases.holder = excluded.holder OR leases.expires_at < $5",
            )
            .bind(name)
            .bind(holder)
            .bind(crate::millis(now + ttl))
            .bind(detail.map(str::to_owned))
            .bind(crate::millis(now)),
        )
        .await?;
        Ok(taken == 1)
    }
}
