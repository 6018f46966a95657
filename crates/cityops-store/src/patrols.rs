//! Patrols and their tracks, as stored: a patrol is a JSON document beside the columns its
//! reads filter on; its track is one row per fix. Going on and off duty is on the audit log;
//! the fixes themselves are not (one every few seconds), and the reads of a track are
//! audited by the server, which knows who reads whose.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::patrol::{Fix, Patrol};
use cityops_domain::{AreaCode, Location};

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

/// Which patrols to read.
#[derive(Debug, Clone)]
pub struct PatrolQuery {
    /// Patrols of inspectors whose jurisdiction lies within this area.
    pub within: AreaCode,
    /// Only this inspector's (a user id).
    pub user_id: Option<String>,
    /// Patrols that ran at some time in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only the open ones (`true`) or the ended ones (`false`).
    pub open: Option<bool>,
    pub limit: u32,
}

#[async_trait]
pub trait PatrolStore: Send + Sync {
    /// Puts the inspector on duty with `patrol`, unless they already are: then their open
    /// patrol is answered and `false`. On the audit log as `patrol.start`.
    async fn start_patrol(&self, patrol: &Patrol) -> StoreResult<(Patrol, bool)>;
    async fn patrol(&self, id: &str) -> StoreResult<Option<Patrol>>;
    /// The patrols the query asks for, the latest started first.
    async fn patrols(&self, query: &PatrolQuery) -> StoreResult<Vec<Patrol>>;
    /// Adds fixes to a patrol's track, skipping those whose time it already holds, and
    /// recomputes its figures from the whole track, in one transaction. Answers how many were
    /// new and the patrol; `None` when there is no such patrol.
    async fn add_fixes(&self, id: &str, fixes: &[Fix]) -> StoreResult<Option<(u32, Patrol)>>;
    /// Takes the inspector off duty; an ended patrol is answered unchanged. On the audit log
    /// as `patrol.end`.
    async fn end_patrol(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<Patrol>>;
    /// A patrol's track in time order.
    async fn track(&self, id: &str) -> StoreResult<Vec<Fix>>;
    /// Deletes the patrols that ended before `before`, with their tracks: a worker's
    /// whereabouts are kept no longer than the evaluation needs them.
    async fn delete_patrols_ended_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

fn fix_of(row: &impl Columns) -> StoreResult<Fix> {
    Ok(Fix {
        at: row.time("at")?,
        location: Location {
            lon: row.real("lon")?,
            lat: row.real("lat")?,
        },
        accuracy_m: row.real("accuracy_m")?,
    })
}

const TRACK: &str =
    "SELECT at, lon, lat, accuracy_m FROM patrol_fixes WHERE patrol_id = $1 ORDER BY at";

#[async_trait]
impl<D: Dialect, A: AuditPolicy> PatrolStore for SqlStore<D, A> {
    async fn start_patrol(&self, patrol: &Patrol) -> StoreResult<(Patrol, bool)> {
        let mut tx = self.writer.begin().await?;
        // The partial unique index keeps one open patrol per inspector, also against two
        // taps on two phones at once.
        let written = D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO patrols (id, user_id, area, started_at, ended_at, doc)
                 VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&patrol.id)
            .bind(&patrol.user_id)
            .bind(patrol.area.as_str())
            .bind(crate::millis(patrol.started_at))
            .bind(crate::encode_json(patrol)),
        )
        .await?;
        if written == 0 {
            let open = D::fetch_optional(
                &mut tx,
                Statement::new("SELECT doc FROM patrols WHERE user_id = $1 AND ended_at IS NULL")
                    .bind(&patrol.user_id),
            )
            .await?
            .ok_or(StoreError::Duplicate { field: "id" })?;
            return Ok((open.json("doc")?, false));
        }
        let record = crate::audit::record("patrol.start", format!("patrol:{}", patrol.id))
            .detail(format!("inspector {}", patrol.username));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok((patrol.clone(), true))
    }

    async fn patrol(&self, id: &str) -> StoreResult<Option<Patrol>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM patrols WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn patrols(&self, q: &PatrolQuery) -> StoreResult<Vec<Patrol>> {
        let mut statement = Statement::new("SELECT doc FROM patrols WHERE area LIKE ");
        statement
            .push_bind(format!("{}%", q.within.subtree_prefix()))
            .push(" AND started_at < ")
            .push_bind(crate::millis(q.to))
            .push(" AND (ended_at IS NULL OR ended_at >= ")
            .push_bind(crate::millis(q.from))
            .push(")");
        if let Some(user_id) = &q.user_id {
            statement
                .push(" AND user_id = ")
                .push_bind(user_id.as_str());
        }
        match q.open {
            Some(true) => {
                statement.push(" AND ended_at IS NULL");
            }
            Some(false) => {
                statement.push(" AND ended_at IS NOT NULL");
            }
            None => {}
        }
        statement
            .push(" ORDER BY started_at DESC, id LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = self.read_all(statement).await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn add_fixes(&self, id: &str, fixes: &[Fix]) -> StoreResult<Option<(u32, Patrol)>> {
        let mut tx = self.writer.begin().await?;
        // Writing the row first holds it (PostgreSQL's row lock; SQLite has one writer), so
        // two batches of one patrol are summarized one after the other, each from the
        // whole track.
        let held = D::execute(
            &mut tx,
            Statement::new("UPDATE patrols SET doc = doc WHERE id = $1").bind(id),
        )
        .await?;
        if held == 0 {
            return Ok(None);
        }
        let mut accepted = 0;
        if !fixes.is_empty() {
            let mut insert =
                Statement::new("INSERT INTO patrol_fixes (patrol_id, at, lon, lat, accuracy_m) ");
            insert.push_values(fixes, |row, fix| {
                row.bind(id)
                    .bind(crate::millis(fix.at))
                    .bind(fix.location.lon)
                    .bind(fix.location.lat)
                    .bind(fix.accuracy_m);
            });
            insert.push(" ON CONFLICT (patrol_id, at) DO NOTHING");
            accepted = D::execute(&mut tx, insert).await?;
        }
        let doc = D::fetch_optional(
            &mut tx,
            Statement::new("SELECT doc FROM patrols WHERE id = $1").bind(id),
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("patrol {id} vanished")))?;
        let mut patrol: Patrol = doc.json("doc")?;
        let track = D::fetch_all(&mut tx, Statement::new(TRACK).bind(id))
            .await?
            .iter()
            .map(fix_of)
            .collect::<StoreResult<Vec<_>>>()?;
        patrol.summarize(&track);
        D::execute(
            &mut tx,
            Statement::new("UPDATE patrols SET doc = $1 WHERE id = $2")
                .bind(crate::encode_json(&patrol))
                .bind(id),
        )
        .await?;
        tx.commit().await?;
        Ok(Some((u32::try_from(accepted).unwrap_or(u32::MAX), patrol)))
    }

    async fn end_patrol(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<Patrol>> {
        let mut tx = self.writer.begin().await?;
        let held = D::execute(
            &mut tx,
            Statement::new("UPDATE patrols SET doc = doc WHERE id = $1").bind(id),
        )
        .await?;
        if held == 0 {
            return Ok(None);
        }
        let row = D::fetch_optional(
            &mut tx,
            Statement::new("SELECT doc FROM patrols WHERE id = $1").bind(id),
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("patrol {id} vanished")))?;
        let mut patrol: Patrol = row.json("doc")?;
        if !patrol.is_open() {
            return Ok(Some(patrol));
        }
        patrol.end(at);
        let ended = patrol.ended_at.map(crate::millis);
        D::execute(
            &mut tx,
            Statement::new("UPDATE patrols SET ended_at = $1, doc = $2 WHERE id = $3")
                .bind(ended)
                .bind(crate::encode_json(&patrol))
                .bind(id),
        )
        .await?;
        let record = crate::audit::record("patrol.end", format!("patrol:{id}")).detail(format!(
            "inspector {}, {} positions, {:.0} m",
            patrol.username, patrol.positions, patrol.distance_m
        ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(Some(patrol))
    }

    async fn track(&self, id: &str) -> StoreResult<Vec<Fix>> {
        let rows = self.read_all(Statement::new(TRACK).bind(id)).await?;
        rows.iter().map(fix_of).collect()
    }

    async fn delete_patrols_ended_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let cutoff = crate::millis(before);
        // Tracks first: SQLite enforces the cascade only where foreign keys are on, and
        // the delete must not depend on it.
        D::execute(
            &mut tx,
            Statement::new(
                "DELETE FROM patrol_fixes WHERE patrol_id IN
                 (SELECT id FROM patrols WHERE ended_at IS NOT NULL AND ended_at < $1)",
            )
            .bind(cutoff),
        )
        .await?;
        let deleted = D::execute(
            &mut tx,
            Statement::new("DELETE FROM patrols WHERE ended_at IS NOT NULL AND ended_at < $1")
                .bind(cutoff),
        )
        .await?;
        if deleted > 0 {
            let record = crate::audit::record("patrol.expire", "patrols")
                .detail(format!("{deleted} patrols ended before {before}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
