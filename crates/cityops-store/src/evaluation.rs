//! The evaluation's ledger as stored: the entries each timeline event adds
//! ([`cityops_domain::evaluation::entries`]), written in the event's own transaction, summed
//! per subject over a period's days, drilled down to the cases behind a number, and rebuilt
//! or checked against a recomputation from the timelines.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use cityops_domain::appeal::LedgerChange;
use cityops_domain::evaluation::{Counter, LedgerEntry, Level};
use cityops_domain::{Role, TimelineEvent};

use crate::dialect::{Columns, Connection, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::{Statement, Value};
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

/// One daily sum: a level's name, the day, the subject's key (an area or grid code, a unit
/// code, a user id), the position's role (`""` but for positions) and the counter.
pub type DailyKey = (&'static str, NaiveDate, String, &'static str, &'static str);

/// Adds `sign` for every daily sum each of `entries` counts in: one per level it counts at
/// ([`cityops_domain::evaluation::subject_of`]).
pub fn add_daily<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
    sign: i64,
    into: &mut BTreeMap<DailyKey, i64>,
) {
    use cityops_domain::evaluation::{subject_of, Subject};
    for entry in entries {
        for level in Level::ALL {
            let Some(subject) = subject_of(entry, level) else {
                continue;
            };
            let (key, role) = match subject {
                Subject::Area { code } | Subject::Grid { code } | Subject::Unit { code } => {
                    (code, "")
                }
                Subject::Position { role, user_id } => (user_id, role.as_str()),
            };
            *into
                .entry((level.as_str(), entry.day, key, role, entry.counter.as_str()))
                .or_default() += sign;
        }
    }
}

/// One monthly sum: a daily sum's key with the month (`YYYY-MM`) for the day.
pub type MonthlyKey = (&'static str, String, String, &'static str, &'static str);

/// The monthly sums of daily sums (what `evaluation_monthly` holds for `evaluation_daily`).
pub fn monthly_of(daily: &BTreeMap<DailyKey, i64>) -> BTreeMap<MonthlyKey, i64> {
    let mut monthly = BTreeMap::new();
    for ((level, day, subject, role, counter), n) in daily {
        *monthly
            .entry((*level, month_of(*day), subject.clone(), *role, *counter))
            .or_default() += n;
    }
    monthly.retain(|_, n| *n != 0);
    monthly
}

fn month_of(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

/// The whole months inside a period (its first and last, `YYYY-MM`).
type Months = Option<(String, String)>;

/// A period as the sums read it: the whole months inside it and the days outside them (at
/// most two stretches, at its start and its end).
fn split_period(from: NaiveDate, to: NaiveDate) -> (Months, Vec<(NaiveDate, NaiveDate)>) {
    use chrono::Datelike;
    let first_of_month = |d: NaiveDate| d.with_day(1).expect("every month has a first day");
    let next_month = |d: NaiveDate| {
        let first = first_of_month(d);
        first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    };
    // The first day of the first whole month, and the day after the last whole month.
    let start = if from.day() == 1 {
        from
    } else {
        next_month(from)
    };
    let end = match to.succ_opt() {
        Some(next) if next.day() == 1 => next,
        _ => first_of_month(to),
    };
    if from > to || start >= end {
        return (None, vec![(from, to)]);
    }
    let last_month = end.pred_opt().expect("a month starts after the minimum");
    let mut days = Vec::new();
    if from < start {
        days.push((from, start.pred_opt().expect("after from")));
    }
    if end <= to {
        days.push((end, to));
    }
    (Some((month_of(start), month_of(last_month))), days)
}

/// Moves the daily sums by `delta` in the caller's transaction; a sum that reaches zero goes.
async fn apply_daily<D: Dialect>(
    tx: &mut Connection<D>,
    delta: &BTreeMap<DailyKey, i64>,
) -> StoreResult<()> {
    apply_monthly::<D>(tx, delta).await?;
    for ((level, day, subject, role, counter), n) in delta {
        let key = [
            ("level", Value::from(*level)),
            ("day", Value::from(day.to_string())),
            ("subject", Value::from(subject.as_str())),
            ("role", Value::from(*role)),
            ("counter", Value::from(*counter)),
        ];
        crate::sql::add_to_count::<D>(tx, "evaluation_daily", &key, *n).await?;
    }
    Ok(())
}

/// Moves the monthly sums by the months of `delta`, in the caller's transaction.
async fn apply_monthly<D: Dialect>(
    tx: &mut Connection<D>,
    delta: &BTreeMap<DailyKey, i64>,
) -> StoreResult<()> {
    for ((level, month, subject, role, counter), n) in monthly_of(delta) {
        let key = [
            ("level", Value::from(level)),
            ("month", Value::from(month.as_str())),
            ("subject", Value::from(subject.as_str())),
            ("role", Value::from(role)),
            ("counter", Value::from(counter)),
        ];
        crate::sql::add_to_count::<D>(tx, "evaluation_monthly", &key, n).await?;
    }
    Ok(())
}

/// One case's entries as the transaction sees them.
async fn case_entries<D: Dialect>(
    tx: &mut Connection<D>,
    case_id: &str,
) -> StoreResult<Vec<LedgerEntry>> {
    D::fetch_all(
        tx,
        Statement::new(
            "SELECT case_id, day, counter, area, unit_grid, unit, user_id, role
             FROM evaluation_ledger WHERE case_id = $1 ORDER BY seq, counter",
        )
        .bind(case_id),
    )
    .await?
    .iter()
    .map(entry_of)
    .collect()
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
    /// Replaces one case's entries with those recomputed from its timeline (moving the daily
    /// sums with them); returns how many.
    async fn rebuild_case_ledger(&self, case_id: &str) -> StoreResult<u64>;
    /// Every daily sum as stored.
    async fn daily_sums(&self) -> StoreResult<BTreeMap<DailyKey, i64>>;
    /// Every monthly sum as stored.
    async fn monthly_sums(&self) -> StoreResult<BTreeMap<MonthlyKey, i64>>;
    /// Replaces every daily sum with `sums` (those recomputed from the ledger), and the
    /// monthly sums with theirs.
    async fn replace_daily_sums(&self, sums: &BTreeMap<DailyKey, i64>) -> StoreResult<()>;
    /// Whether the ledger holds entries while no daily sum exists (an installation from
    /// before the daily sums).
    async fn daily_sums_need_filling(&self) -> StoreResult<bool>;
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
    let mut delta = BTreeMap::new();
    add_daily(entries, 1, &mut delta);
    apply_daily::<D>(tx, &delta).await
}

/// Applies what `event` changes in the case's earlier entries (an accepted appeal), in the
/// caller's transaction, as [`cityops_domain::appeal::apply_changes`] does in memory.
pub(crate) async fn apply_changes<D: Dialect>(
    tx: &mut Connection<D>,
    event: &TimelineEvent,
    changes: &[LedgerChange],
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let before = case_entries::<D>(tx, &event.case_id).await?;
    let mut after = before.clone();
    cityops_domain::appeal::apply_changes(&mut after, changes);
    let mut delta = BTreeMap::new();
    add_daily(&before, -1, &mut delta);
    add_daily(&after, 1, &mut delta);
    apply_daily::<D>(tx, &delta).await?;
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

/// The level, role, counter and count of a row of `table` (the daily or the monthly sums),
/// as the names the sums' keys hold.
fn sum_of<R: Columns>(
    row: &R,
    table: &str,
) -> StoreResult<(&'static str, &'static str, &'static str, i64)> {
    let bad = |what: &str| StoreError::Corrupt(format!("{table}: {what}"));
    let level = Level::parse(&row.text("level")?).ok_or_else(|| bad("an unknown level"))?;
    let role = match row.text("role")?.as_str() {
        "" => "",
        name => Role::parse(name)
            .ok_or_else(|| bad("an unknown role"))?
            .as_str(),
    };
    let counter = Counter::parse(&row.text("counter")?).ok_or_else(|| bad("an unknown counter"))?;
    Ok((level.as_str(), role, counter.as_str(), row.int("n")?))
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
        // The sums kept with the ledger: a period reads a row per subject and counter for
        // each whole month and for each day outside them, however many cases moved.
        let (months, days) = split_period(from, to);
        let mut query = Statement::new(
            "SELECT k, role, counter, CAST(SUM(n) AS BIGINT) AS n FROM (
               SELECT subject AS k, role, counter, n FROM evaluation_daily WHERE level = ",
        );
        query.push_bind(level.as_str()).push(" AND (");
        for (i, (first, last)) in days.iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query
                .push("(day >= ")
                .push_bind(first.to_string())
                .push(" AND day <= ")
                .push_bind(last.to_string())
                .push(")");
        }
        if days.is_empty() {
            query.push("1 = 0");
        }
        query.push(")");
        if let Some((first, last)) = months {
            query
                .push(
                    " UNION ALL SELECT subject AS k, role, counter, n FROM evaluation_monthly WHERE level = ",
                )
                .push_bind(level.as_str())
                .push(" AND month >= ")
                .push_bind(first)
                .push(" AND month <= ")
                .push_bind(last);
        }
        query.push(") AS sums GROUP BY k, role, counter");
        let rows = self.read_all(query).await?;
        let mut sums = Vec::with_capacity(rows.len());
        for row in &rows {
            let counter = Counter::parse(&row.text("counter")?)
                .ok_or_else(|| StoreError::Corrupt("evaluation_daily: unknown counter".into()))?;
            // Only a position's sums are per role; the others add up over every role.
            let role = match level {
                Level::Position => Role::parse(&row.text("role")?),
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
        // A unit's or a handler's handlings (and dispatches, closings) include the parts
        // they assisted on, as their figures do.
        let filter = |statement: &mut Statement, counter: Counter| {
            statement
                .push(" FROM evaluation_ledger WHERE day >= ")
                .push_bind(q.from.to_string())
                .push(" AND day <= ")
                .push_bind(q.to.to_string())
                .push(&format!(" AND {present} AND {expr} = "))
                .push_bind(q.key.clone())
                .push(" AND counter")
                .push_in(
                    cityops_domain::evaluation::drilled_counters(q.level, counter)
                        .into_iter()
                        .map(Counter::as_str),
                );
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
        let old = case_entries::<D>(&mut tx, case_id).await?;
        let mut delta = BTreeMap::new();
        add_daily(&old, -1, &mut delta);
        apply_daily::<D>(&mut tx, &delta).await?;
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

    async fn daily_sums(&self) -> StoreResult<BTreeMap<DailyKey, i64>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT level, day, subject, role, counter, n FROM evaluation_daily",
            ))
            .await?;
        let mut sums = BTreeMap::new();
        for row in &rows {
            let (level, role, counter, n) = sum_of(row, "evaluation_daily")?;
            let day = row.text("day")?.parse().map_err(|_| {
                StoreError::Corrupt("evaluation_daily: a day that is not a date".into())
            })?;
            sums.insert((level, day, row.text("subject")?, role, counter), n);
        }
        Ok(sums)
    }

    async fn monthly_sums(&self) -> StoreResult<BTreeMap<MonthlyKey, i64>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT level, month, subject, role, counter, n FROM evaluation_monthly",
            ))
            .await?;
        let mut sums = BTreeMap::new();
        for row in &rows {
            let (level, role, counter, n) = sum_of(row, "evaluation_monthly")?;
            sums.insert(
                (
                    level,
                    row.text("month")?,
                    row.text("subject")?,
                    role,
                    counter,
                ),
                n,
            );
        }
        Ok(sums)
    }

    async fn replace_daily_sums(&self, sums: &BTreeMap<DailyKey, i64>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(&mut tx, Statement::new("DELETE FROM evaluation_daily")).await?;
        D::execute(&mut tx, Statement::new("DELETE FROM evaluation_monthly")).await?;
        let monthly: Vec<_> = monthly_of(sums).into_iter().collect();
        for chunk in monthly.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO evaluation_monthly (level, month, subject, role, counter, n) ",
            );
            statement.push_values(chunk, |row, ((level, month, subject, role, counter), n)| {
                row.bind(*level)
                    .bind(month.as_str())
                    .bind(subject.as_str())
                    .bind(*role)
                    .bind(*counter)
                    .bind(*n);
            });
            D::execute(&mut tx, statement).await?;
        }
        let rows: Vec<_> = sums.iter().filter(|(_, n)| **n != 0).collect();
        for chunk in rows.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO evaluation_daily (level, day, subject, role, counter, n) ",
            );
            statement.push_values(chunk, |row, ((level, day, subject, role, counter), n)| {
                row.bind(*level)
                    .bind(day.to_string())
                    .bind(subject.as_str())
                    .bind(*role)
                    .bind(*counter)
                    .bind(**n);
            });
            D::execute(&mut tx, statement).await?;
        }
        self.audit_in(
            &mut tx,
            vec![
                crate::audit::record("evaluation.rebuild", "evaluation_daily")
                    .detail(format!("{} daily sums", rows.len())),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn daily_sums_need_filling(&self) -> StoreResult<bool> {
        let row = self
            .read_one(Statement::new(
                "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM evaluation_ledger)
                                   AND NOT EXISTS (SELECT 1 FROM evaluation_daily)
                              THEN 1 ELSE 0 END AS BIGINT) AS fill",
            ))
            .await?;
        Ok(row.int("fill")? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::split_period;
    use chrono::NaiveDate;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_period_reads_whole_months_and_the_days_around_them() {
        let months = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        // One whole month, nothing else.
        assert_eq!(
            split_period(d("2025-06-01"), d("2025-06-30")),
            (months("2025-06", "2025-06"), vec![])
        );
        // A year: twelve months; February's end in a leap year is a month's end.
        assert_eq!(
            split_period(d("2024-01-01"), d("2024-12-31")),
            (months("2024-01", "2024-12"), vec![])
        );
        assert_eq!(
            split_period(d("2024-02-01"), d("2024-02-29")),
            (months("2024-02", "2024-02"), vec![])
        );
        // Days before and after the whole months.
        assert_eq!(
            split_period(d("2025-05-20"), d("2025-08-10")),
            (
                months("2025-06", "2025-07"),
                vec![
                    (d("2025-05-20"), d("2025-05-31")),
                    (d("2025-08-01"), d("2025-08-10"))
                ]
            )
        );
        // Across a year's end.
        assert_eq!(
            split_period(d("2025-12-15"), d("2026-02-28")),
            (
                months("2026-01", "2026-02"),
                vec![(d("2025-12-15"), d("2025-12-31"))]
            )
        );
        // No whole month: the days alone, within one month or across two.
        assert_eq!(
            split_period(d("2025-06-02"), d("2025-06-29")),
            (None, vec![(d("2025-06-02"), d("2025-06-29"))])
        );
        assert_eq!(
            split_period(d("2025-06-15"), d("2025-07-14")),
            (None, vec![(d("2025-06-15"), d("2025-07-14"))])
        );
        assert_eq!(
            split_period(d("2025-06-15"), d("2025-06-15")),
            (None, vec![(d("2025-06-15"), d("2025-06-15"))])
        );
    }
}
