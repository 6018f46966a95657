//! The evaluation's ledger as stored: the entries each timeline event adds
//! ([`cityops_domain::evaluation::entries`]), written in the event's own transaction, summed
//! per subject over a period's days, drilled down to the cases behind a number, and rebuilt
//! or checked against a recomputation from the timelines.

use async_trait::async_trait;
use chrono::NaiveDate;
use cityops_domain::appeal::LedgerChange;
use cityops_domain::evaluation::{Counter, LedgerEntry, Level};
use cityops_domain::{Role, TimelineEvent};

use crate::dialect::{Columns, Connection, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

/// One sum of the ledger: `n` entries of `counter` for the subject `key` (an area or grid
/// code, a unit code, or a user id with its `role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSum {
    pub key: String,
    pub role: Option<Role>,
    pub counter: Counter,
    pub n: u64,
}

/// Which cases [`EvaluationStore::ledger_cases`] lists.
#[derive(Debug, Clone)]
pub struct LedgerCases {
    pub level: Level,
    pub key: String,
    pub role: Option<Role>,
    pub counter: Counter,
    pub except: Option<Counter>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub limit: u32,
}

/// How a level groups the ledger: the SQL expression of its subject's key.
fn key_of(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::District => ("substr(area, 1, 6)", "length(area) >= 6"),
        Level::Street => ("substr(area, 1, 9)", "length(area) >= 9"),
        Level::Community => ("area", "length(area) = 12"),
        Level::Grid => ("unit_grid", "unit_grid IS NOT NULL"),
        Level::Unit => ("unit", "unit IS NOT NULL"),
        Level::Position => ("user_id", "user_id IS NOT NULL AND role IS NOT NULL"),
    }
}

/// The counters a level sums, as SQL literals (stored names are fixed ASCII words).
fn counters_of(level: Level) -> String {
    Counter::ALL
        .into_iter()
        .filter(|c| cityops_domain::evaluation::counts_at(level, *c))
        .map(|c| format!("'{}'", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
pub trait EvaluationStore: Send + Sync {
    /// The sums of the ledger per subject of `level` and counter over the days `from..=to`.
    async fn ledger_sums(
        &self,
        level: Level,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<LedgerSum>>;
    /// The cases whose entries make the number of `counter` for the subject `key` of `level`
    /// (for a position, in `role`) over the days `from..=to`, at most `limit`, in case order;
    /// with `except`, only those without an entry of that counter too (handled, except on
    /// time: the late ones).
    async fn ledger_cases(&self, query: &LedgerCases) -> StoreResult<Vec<String>>;
    /// Every entry of one case, in event order.
    async fn case_ledger(&self, case_id: &str) -> StoreResult<Vec<LedgerEntry>>;
    /// Whether cases exist while the ledger holds nothing (an installation from before the
    /// ledger): two existence checks, cheap at start however large the city.
    async fn ledger_needs_filling(&self) -> StoreResult<bool>;
    /// Replaces one case's entries with those recomputed from its timeline; returns how many.
    async fn rebuild_case_ledger(&self, case_id: &str) -> StoreResult<u64>;
}

/// Writes the entries `event` adds, in the caller's transaction.
pub(crate) async fn insert_entries<D: Dialect>(
    tx: &mut Connection<D>,
    event: &TimelineEvent,
    entries: &[LedgerEntry],
) -> StoreResult<()> {
    for entry in entries {
        D::execute(
            tx,
            Statement::new(
                "INSERT INTO evaluation_ledger (case_id, seq, day, counter, area, unit_grid, unit, user_id, role)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&entry.case_id)
            .bind(event.seq)
            .bind(entry.day.to_string())
            .bind(entry.counter.as_str())
            .bind(entry.area.as_str())
            .bind(&entry.unit_grid)
            .bind(&entry.unit)
            .bind(&entry.user_id)
            .bind(entry.role.map(|r| r.as_str())),
        )
        .await?;
    }
    Ok(())
}

/// Applies what `event` changes in the case's earlier entries (an accepted appeal), in the
/// caller's transaction, as [`cityops_domain::appeal::apply_changes`] does in memory.
pub(crate) async fn apply_changes<D: Dialect>(
    tx: &mut Connection<D>,
    event: &TimelineEvent,
    changes: &[LedgerChange],
) -> StoreResult<()> {
    let withdraw = |counter: Counter, unit: &str| {
        Statement::new(
            "DELETE FROM evaluation_ledger WHERE case_id = $1 AND counter = $2 AND unit = $3",
        )
        .bind(&event.case_id)
        .bind(counter.as_str())
        .bind(unit)
    };
    for change in changes {
        match change {
            LedgerChange::Withdraw { counter, unit } => {
                D::execute(tx, withdraw(*counter, unit)).await?;
            }
            LedgerChange::Mirror { from, to, unit } => {
                D::execute(tx, withdraw(*to, unit)).await?;
                D::execute(
                    tx,
                    Statement::new(
                        "INSERT INTO evaluation_ledger (case_id, seq, day, counter, area, unit_grid, unit, user_id, role)
                         SELECT case_id, $1, day, $2, area, unit_grid, unit, user_id, role
                         FROM evaluation_ledger WHERE case_id = $3 AND counter = $4 AND unit = $5
                         ORDER BY seq",
                    )
                    .bind(event.seq)
                    .bind(to.as_str())
                    .bind(&event.case_id)
                    .bind(from.as_str())
                    .bind(unit),
                )
                .await?;
            }
        }
    }
    Ok(())
}

fn entry_of<R: Columns>(row: &R) -> StoreResult<LedgerEntry> {
    let bad = |what: &str| StoreError::Corrupt(format!("evaluation_ledger: {what}"));
    Ok(LedgerEntry {
        case_id: row.text("case_id")?,
        day: row
            .text("day")?
            .parse()
            .map_err(|_| bad("a day that is not a date"))?,
        counter: Counter::parse(&row.text("counter")?).ok_or_else(|| bad("an unknown counter"))?,
        area: cityops_domain::AreaCode::parse(&row.text("area")?)
            .map_err(|_| bad("an area that is not an area code"))?,
        unit_grid: row.text_opt("unit_grid")?,
        unit: row.text_opt("unit")?,
        user_id: row.text_opt("user_id")?,
        role: row
            .text_opt("role")?
            .map(|r| Role::parse(&r).ok_or_else(|| bad("an unknown role")))
            .transpose()?,
    })
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> EvaluationStore for SqlStore<D, A> {
    async fn ledger_sums(
        &self,
        level: Level,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<LedgerSum>> {
        let (key, present) = key_of(level);
        let rows = self
            .read_all(
                Statement::new(format!(
                    "SELECT {key} AS k, role, counter, COUNT(*) AS n FROM evaluation_ledger
                     WHERE day >= $1 AND day <= $2 AND {present} AND counter IN ({})
                     GROUP BY {key}, role, counter",
                    counters_of(level)
                ))
                .bind(from.to_string())
                .bind(to.to_string()),
            )
            .await?;
        let mut sums = Vec::with_capacity(rows.len());
        for row in &rows {
            let counter = Counter::parse(&row.text("counter")?)
                .ok_or_else(|| StoreError::Corrupt("evaluation_ledger: unknown counter".into()))?;
            // Only a position's sums are per role; the others add up over every role.
            let role = match level {
                Level::Position => row.text_opt("role")?.as_deref().and_then(Role::parse),
                _ => None,
            };
            sums.push(LedgerSum {
                key: row.text("k")?,
                role,
                counter,
                n: row.int("n")?.max(0) as u64,
            });
        }
        Ok(sums)
    }

    async fn ledger_cases(&self, q: &LedgerCases) -> StoreResult<Vec<String>> {
        let (expr, present) = key_of(q.level);
        // The same subject and days for the counter and for its exception.
        let mut scope = Statement::new("");
        let filter = |statement: &mut Statement, counter: Counter| {
            statement
                .push(" FROM evaluation_ledger WHERE day >= ")
                .push_bind(q.from.to_string())
                .push(" AND day <= ")
                .push_bind(q.to.to_string())
                .push(&format!(" AND {present} AND {expr} = "))
                .push_bind(q.key.clone())
                .push(" AND counter = ")
                .push_bind(counter.as_str());
            if let Some(role) = q.role {
                statement.push(" AND role = ").push_bind(role.as_str());
            }
        };
        scope.push("SELECT DISTINCT case_id");
        filter(&mut scope, q.counter);
        if let Some(except) = q.except {
            scope.push(" AND case_id NOT IN (SELECT case_id");
            filter(&mut scope, except);
            scope.push(")");
        }
        scope
            .push(" ORDER BY case_id LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = self.read_all(scope).await?;
        rows.iter().map(|r| r.text("case_id")).collect()
    }

    async fn case_ledger(&self, case_id: &str) -> StoreResult<Vec<LedgerEntry>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT case_id, day, counter, area, unit_grid, unit, user_id, role
                     FROM evaluation_ledger WHERE case_id = $1 ORDER BY seq, counter",
                )
                .bind(case_id),
            )
            .await?;
        rows.iter().map(entry_of).collect()
    }

    async fn ledger_needs_filling(&self) -> StoreResult<bool> {
        let row = self
            .read_one(Statement::new(
                "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM cases)
                                   AND NOT EXISTS (SELECT 1 FROM evaluation_ledger)
                              THEN 1 ELSE 0 END AS BIGINT) AS fill",
            ))
            .await?;
        Ok(row.int("fill")? == 1)
    }

    async fn rebuild_case_ledger(&self, case_id: &str) -> StoreResult<u64> {
        let number = match crate::CaseStore::case(self, case_id).await? {
            Some(case) => case.number,
            None => return Ok(0),
        };
        let timeline = crate::CaseStore::timeline(self, case_id).await?;
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new("DELETE FROM evaluation_ledger WHERE case_id = $1").bind(case_id),
        )
        .await?;
        let mut written = 0;
        for end in 1..=timeline.len() {
            let case = cityops_domain::workflow::replay(number.clone(), &timeline[..end])
                .map_err(|e| StoreError::Corrupt(format!("case {case_id}'s timeline: {e}")))?;
            let event = &timeline[end - 1];
            let entries = cityops_domain::evaluation::entries(event, &case);
            written += entries.len() as u64;
            insert_entries::<D>(&mut tx, event, &entries).await?;
            let changes = cityops_domain::evaluation::ledger_changes(event, &case);
            apply_changes::<D>(&mut tx, event, &changes).await?;
        }
        self.audit_in(
            &mut tx,
            vec![
                crate::audit::record("evaluation.rebuild", format!("case:{case_id}"))
                    .detail(format!("{written} entries")),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}
