//! What the city screen reads ([`ScreenFacts`]): the open cases' counts kept in `case_tallies`
//! (moved in each case write's transaction, see [`move_case`]), the overdue cases through the
//! index of running deadlines, and today's cases through the indexes of report and closing
//! times, each grouped by the screen's child areas in SQL. Each part costs what it holds, not
//! what the case table holds.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::case::{CaseState, Source};
use cityops_domain::stats::{
    grain, move_tallies, AreaUnit, CaseFact, OpenTally, ReportTally, ScreenFacts,
};
use cityops_domain::AreaCode;

use crate::cases::area_code;
use crate::dialect::{Columns, Connection, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::{Statement, Value};
use crate::{SqlStore, StoreError, StoreResult};

/// The columns [`fact_of`] reads.
const FACT_COLUMNS: &str =
    "area, unit, state, category, source, deadline, urgent, supervised, created_at, closed_at";

/// The states whose cases are no longer open, as the domain says.
fn terminal_states() -> impl Iterator<Item = &'static str> {
    CaseState::ALL
        .into_iter()
        .filter(|state| state.is_terminal())
        .map(CaseState::as_str)
}

#[async_trait]
pub trait ScreenStore {
    /// The screen's facts for the area `scope`: its open cases' counts, its cases whose
    /// running deadline is before `now`, and its cases reported or closed since `today`.
    async fn screen_facts(
        &self,
        scope: &AreaCode,
        now: DateTime<Utc>,
        today: DateTime<Utc>,
    ) -> StoreResult<ScreenFacts>;
    /// Every kept count of open cases, as stored.
    async fn open_tallies(&self) -> StoreResult<BTreeMap<OpenTally, i64>>;
    /// The same counts recomputed from the case table.
    async fn open_tallies_of_cases(&self) -> StoreResult<BTreeMap<OpenTally, i64>>;
    /// Replaces every kept count with `tallies` (on the audit log).
    async fn replace_open_tallies(&self, tallies: &BTreeMap<OpenTally, i64>) -> StoreResult<()>;
}

fn fact_of<R: Columns>(r: &R) -> StoreResult<CaseFact> {
    let state = r.text("state")?;
    let source = r.text("source")?;
    Ok(CaseFact {
        area: area_code(&r.text("area")?)?,
        unit: r.text_opt("unit")?,
        state: CaseState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        category: r.text_opt("category")?,
        source: Source::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("source {source}")))?,
        deadline: r.time_opt("deadline")?,
        urgent: r.flag("urgent")?,
        supervised: r.flag("supervised")?,
        created_at: r.time("created_at")?,
        closed_at: r.time_opt("closed_at")?,
    })
}

fn tally_of<R: Columns>(r: &R) -> StoreResult<(OpenTally, i64)> {
    let none_if_empty = |text: String| (!text.is_empty()).then_some(text);
    Ok((
        OpenTally {
            area: area_code(&r.text("area")?)?,
            unit: none_if_empty(r.text("unit")?),
            category: none_if_empty(r.text("category")?),
            urgent: r.flag("urgent")?,
            supervised: r.flag("supervised")?,
        },
        r.int("n")?,
    ))
}

fn count_of<R: Columns>(r: &R) -> StoreResult<u64> {
    Ok(u64::try_from(r.int("n")?).unwrap_or(0))
}

fn place_of<R: Columns>(r: &R) -> StoreResult<(AreaUnit, u64)> {
    Ok((
        AreaUnit {
            area: area_code(&r.text("area")?)?,
            unit: r.text_opt("unit")?,
        },
        count_of(r)?,
    ))
}

/// The stored case's facts before a write changes it, read in the writing transaction.
pub(crate) async fn fact_before<D: Dialect>(
    tx: &mut Connection<D>,
    case_id: &str,
) -> StoreResult<Option<CaseFact>> {
    let row = D::fetch_optional(
        tx,
        Statement::new(format!("SELECT {FACT_COLUMNS} FROM cases WHERE id = $1")).bind(case_id),
    )
    .await?;
    row.map(|r| fact_of(&r)).transpose()
}

/// Moves the kept counts for a case going from `before` (none: a new case) to `after`, in the
/// caller's transaction; a count that reaches zero goes.
pub(crate) async fn move_case<D: Dialect>(
    tx: &mut Connection<D>,
    before: Option<&CaseFact>,
    after: &CaseFact,
) -> StoreResult<()> {
    let mut delta = BTreeMap::new();
    move_tallies(before, after, &mut delta);
    for (tally, n) in delta {
        let key = [
            ("area", Value::from(tally.area.as_str())),
            ("unit", Value::from(tally.unit.clone().unwrap_or_default())),
            (
                "category",
                Value::from(tally.category.clone().unwrap_or_default()),
            ),
            ("urgent", Value::from(i64::from(tally.urgent))),
            ("supervised", Value::from(i64::from(tally.supervised))),
        ];
        crate::sql::add_to_count::<D>(tx, "case_tallies", &key, n).await?;
    }
    Ok(())
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> ScreenStore for SqlStore<D, A> {
    async fn screen_facts(
        &self,
        scope: &AreaCode,
        now: DateTime<Utc>,
        today: DateTime<Utc>,
    ) -> StoreResult<ScreenFacts> {
        let prefix = format!("{}%", scope.subtree_prefix());
        // Grouped by the area of the screen's child level: a number the domain gives, safe to
        // write into the text (and PostgreSQL's substr takes no bigint parameter).
        let at = format!("substr(area, 1, {})", grain(scope.level()));
        let open = self
            .read_all(
                Statement::new(format!(
                    "SELECT {at} AS area, unit, category, urgent, supervised,
                            CAST(SUM(n) AS BIGINT) AS n
                     FROM case_tallies WHERE area LIKE $1
                     GROUP BY {at}, unit, category, urgent, supervised"
                ))
                .bind(prefix.as_str()),
            )
            .await?
            .iter()
            .map(|r| {
                let (tally, n) = tally_of(r)?;
                Ok((tally, u64::try_from(n).unwrap_or(0)))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let overdue = self
            .read_all(
                Statement::new(format!(
                    "SELECT {at} AS area, unit, COUNT(*) AS n FROM cases
                     WHERE deadline IS NOT NULL AND deadline < $1 AND area LIKE $2
                     GROUP BY {at}, unit"
                ))
                .bind(crate::millis(now))
                .bind(prefix.as_str()),
            )
            .await?;
        let reported = self
            .read_all(
                Statement::new(format!(
                    "SELECT {at} AS area, unit, source, category, COUNT(*) AS n FROM cases
                     WHERE created_at >= $1 AND area LIKE $2
                     GROUP BY {at}, unit, source, category"
                ))
                .bind(crate::millis(today))
                .bind(prefix.as_str()),
            )
            .await?;
        let closed = self
            .read_all(
                Statement::new(format!(
                    "SELECT {at} AS area, unit, COUNT(*) AS n FROM cases
                     WHERE closed_at >= $1 AND state = $2 AND area LIKE $3
                     GROUP BY {at}, unit"
                ))
                .bind(crate::millis(today))
                .bind(CaseState::Closed.as_str())
                .bind(prefix.as_str()),
            )
            .await?;
        Ok(ScreenFacts {
            open,
            overdue: overdue.iter().map(place_of).collect::<StoreResult<_>>()?,
            reported_today: reported
                .iter()
                .map(|r| {
                    let source = r.text("source")?;
                    Ok((
                        ReportTally {
                            area: area_code(&r.text("area")?)?,
                            unit: r.text_opt("unit")?,
                            source: Source::parse(&source)
                                .ok_or_else(|| StoreError::Corrupt(format!("source {source}")))?,
                            category: r.text_opt("category")?,
                        },
                        count_of(r)?,
                    ))
                })
                .collect::<StoreResult<_>>()?,
            closed_today: closed.iter().map(place_of).collect::<StoreResult<_>>()?,
        })
    }

    async fn open_tallies(&self) -> StoreResult<BTreeMap<OpenTally, i64>> {
        self.read_all(Statement::new(
            "SELECT area, unit, category, urgent, supervised, n FROM case_tallies",
        ))
        .await?
        .iter()
        .map(tally_of)
        .collect()
    }

    async fn open_tallies_of_cases(&self) -> StoreResult<BTreeMap<OpenTally, i64>> {
        let mut statement = Statement::new(
            "SELECT area, COALESCE(unit, '') AS unit, COALESCE(category, '') AS category,
                    urgent, supervised, COUNT(*) AS n
             FROM cases WHERE state NOT",
        );
        statement
            .push_in(terminal_states())
            .push(" GROUP BY area, COALESCE(unit, ''), COALESCE(category, ''), urgent, supervised");
        self.read_all(statement)
            .await?
            .iter()
            .map(tally_of)
            .collect()
    }

    async fn replace_open_tallies(&self, tallies: &BTreeMap<OpenTally, i64>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(&mut tx, Statement::new("DELETE FROM case_tallies")).await?;
        let rows: Vec<_> = tallies.iter().filter(|(_, n)| **n != 0).collect();
        for chunk in rows.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO case_tallies (area, unit, category, urgent, supervised, n) ",
            );
            statement.push_values(chunk, |row, (tally, n)| {
                row.bind(tally.area.as_str())
                    .bind(tally.unit.clone().unwrap_or_default())
                    .bind(tally.category.clone().unwrap_or_default())
                    .bind(i64::from(tally.urgent))
                    .bind(i64::from(tally.supervised))
                    .bind(**n);
            });
            D::execute(&mut tx, statement).await?;
        }
        self.audit_in(
            &mut tx,
            vec![crate::audit::record("screen.rebuild", "case_tallies")
                .detail(format!("{} counts of open cases", rows.len()))],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
