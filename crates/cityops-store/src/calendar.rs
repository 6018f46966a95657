//! The working calendar's holiday schedules as stored: one document per year. Whether a
//! schedule may be imported (consistent with its neighbours, not silently replacing another)
//! is the domain's and the caller's decision; the store makes the write conditional on what
//! the caller saw, so two imports of one year cannot both win.

use async_trait::async_trait;
use chrono::Utc;
use cityops_domain::HolidayYear;

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Every stored year's schedule, in year order.
    async fn holiday_years(&self) -> StoreResult<Vec<HolidayYear>>;
    async fn holiday_year(&self, year: i32) -> StoreResult<Option<HolidayYear>>;
    /// Stores `schedule` for its year if the year still holds what the caller read
    /// (`replacing`: `None` when it had none); otherwise [`StoreError::Conflict`] and nothing
    /// changes. On the audit log as `calendar.import` or `calendar.replace`.
    async fn put_holiday_year(
        &self,
        schedule: &HolidayYear,
        replacing: Option<&HolidayYear>,
    ) -> StoreResult<()>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> CalendarStore for SqlStore<D, A> {
    async fn holiday_years(&self) -> StoreResult<Vec<HolidayYear>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT doc FROM calendar_years ORDER BY year",
            ))
            .await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn holiday_year(&self, year: i32) -> StoreResult<Option<HolidayYear>> {
        let row = self
            .read_optional(
                Statement::new("SELECT doc FROM calendar_years WHERE year = $1")
                    .bind(i64::from(year)),
            )
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn put_holiday_year(
        &self,
        schedule: &HolidayYear,
        replacing: Option<&HolidayYear>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let stored: Option<HolidayYear> = D::fetch_optional(
            &mut tx,
            Statement::new("SELECT doc FROM calendar_years WHERE year = $1")
                .bind(i64::from(schedule.year)),
        )
        .await?
        .map(|r| r.json("doc"))
        .transpose()?;
        if stored.as_ref() != replacing {
            return Err(StoreError::Conflict(format!(
                "the calendar of {} changed since it was read",
                schedule.year
            )));
        }
        let doc = crate::encode_json(schedule);
        let now = crate::millis(Utc::now());
        let statement = if stored.is_some() {
            Statement::new("UPDATE calendar_years SET doc = $2, updated_at = $3 WHERE year = $1")
        } else {
            // Of two first imports of a year on PostgreSQL, both may have read nothing; the
            // key lets one insert and the other change nothing.
            Statement::new(
                "INSERT INTO calendar_years (year, doc, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (year) DO NOTHING",
            )
        };
        let written = D::execute(
            &mut tx,
            statement.bind(i64::from(schedule.year)).bind(doc).bind(now),
        )
        .await?;
        if written != 1 {
            return Err(StoreError::Conflict(format!(
                "the calendar of {} changed since it was read",
                schedule.year
            )));
        }
        let (holidays, workdays) =
            schedule.days.iter().fold(
                (0, 0),
                |(h, w), d| {
                    if d.off {
                        (h + 1, w)
                    } else {
                        (h, w + 1)
                    }
                },
            );
        let action = if stored.is_some() {
            "calendar.replace"
        } else {
            "calendar.import"
        };
        let record = crate::audit::record(action, format!("calendar:{}", schedule.year)).detail(
            format!("{holidays} days off, {workdays} working days listed"),
        );
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }
}
