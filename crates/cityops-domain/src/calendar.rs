//! The working calendar: the hours a city's offices work, and per year the public holidays
//! and make-up working days (调休) the State Council announces.
//!
//! Time limits in working hours or working days run on it. Its arithmetic is in local time,
//! Asia/Shanghai, which has had no daylight saving since 1991, so the fixed offset of
//! [`china_time`] is exact and needs no time-zone database. A year without a schedule is a
//! plain week (Monday to Friday work) and is reported as not known, never an error.
//!
//! A schedule (a [`HolidayYear`]) is the official notice's list of days: `off` days are
//! holidays (weekends inside a holiday are listed too), working days listed on a weekend are
//! make-up working days; every day not listed follows the plain week. A notice may list a
//! day of the neighbouring year when a holiday crosses New Year (2023's lists 2022-12-31), so
//! a year may hold days up to [`SPILL_DAYS`] beyond its edges, and such a day must agree with
//! the neighbouring year's own schedule ([`WorkingCalendar::check_year`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::case::china_time;
use crate::InvalidInput;

/// The years a schedule may be for: the API's range, wide enough for any city's records.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// How far past its own year a schedule may list days: a New Year holiday spans at most a
/// few days of the old year (2023's began on 2022-12-31).
pub const SPILL_DAYS: i64 = 7;

/// The most days one schedule may list: every day of the year and the spill on both sides.
const MAX_DAYS: usize = 366 + 2 * SPILL_DAYS as usize;
const MAX_NAME_CHARS: usize = 50;
const MAX_PAPERS: usize = 20;
const MAX_PAPER_CHARS: usize = 500;

/// What is wrong with a schedule or working hours. `index` is the position of the day in the
/// list as given, so the caller can name it the way its input does (`days[3]`, `line 5`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the year {year} is outside {FIRST_YEAR} to {LAST_YEAR}")]
    YearOutOfRange { year: i32 },
    #[error("{date} is listed twice")]
    DateTwice { index: usize, date: NaiveDate },
    #[error(
        "{date} is not in {year} (only days of a holiday crossing the year's edge, within {SPILL_DAYS} days of it, may be listed)"
    )]
    DateOutsideYear {
        index: usize,
        date: NaiveDate,
        year: i32,
    },
    #[error("the name of {date} must have 1 to {MAX_NAME_CHARS} characters")]
    BadName { index: usize, date: NaiveDate },
    #[error("a schedule lists at most {MAX_DAYS} days")]
    TooManyDays,
    #[error("a schedule names at most {MAX_PAPERS} notices of at most {MAX_PAPER_CHARS} characters each")]
    BadPapers,
    /// The schedule and a neighbouring year's disagree on a day both decide.
    #[error("{date} is {} in {year}'s schedule but {} in {other_year}'s", off_word(*off), off_word(!*off))]
    Inconsistent {
        date: NaiveDate,
        year: i32,
        off: bool,
        other_year: i32,
    },
    #[error("working hours: {0}")]
    BadWorkingHours(String),
}

fn off_word(off: bool) -> &'static str {
    if off {
        "a day off"
    } else {
        "a working day"
    }
}

impl CalendarError {
    /// The position of the day at fault in the list as given, if one is.
    pub fn day_index(&self) -> Option<usize> {
        match self {
            CalendarError::DateTwice { index, .. }
            | CalendarError::DateOutsideYear { index, .. }
            | CalendarError::BadName { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// One stretch of work in a day, `start` up to (not including) `end`, in minutes after local
/// midnight; `end` may be 1440 (midnight at the day's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingPeriod {
    pub start: u16,
    pub end: u16,
}

impl WorkingPeriod {
    /// `08:30-12:00`.
    pub fn parse(text: &str) -> Result<WorkingPeriod, CalendarError> {
        let bad = || CalendarError::BadWorkingHours(format!("'{text}' is not HH:MM-HH:MM"));
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        Ok(WorkingPeriod {
            start: minute(start).ok_or_else(bad)?,
            end: minute(end).ok_or_else(bad)?,
        })
    }

    pub fn minutes(self) -> i64 {
        i64::from(self.end) - i64::from(self.start)
    }
}

impl std::fmt::Display for WorkingPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// A working day's hours: one or more periods in order, not overlapping (the gap between
/// them is the lunch break).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    periods: Vec<WorkingPeriod>,
}

impl Default for WorkingHours {
    /// 08:30-12:00 and 13:30-17:30, the common hours of Shanghai's offices.
    fn default() -> Self {
        WorkingHours {
            periods: vec![
                WorkingPeriod {
                    start: 8 * 60 + 30,
                    end: 12 * 60,
                },
                WorkingPeriod {
                    start: 13 * 60 + 30,
                    end: 17 * 60 + 30,
                },
            ],
        }
    }
}

impl WorkingHours {
    /// Without a period no time limit could ever end, so at least one is required.
    pub fn new(periods: Vec<WorkingPeriod>) -> Result<WorkingHours, CalendarError> {
        if periods.is_empty() {
            return Err(CalendarError::BadWorkingHours(
                "at least one period is needed".into(),
            ));
        }
        for (i, p) in periods.iter().enumerate() {
            if p.start >= p.end || p.end > 24 * 60 {
                return Err(CalendarError::BadWorkingHours(format!(
                    "{p} does not end after it starts"
                )));
            }
            if i > 0 && periods[i - 1].end > p.start {
                return Err(CalendarError::BadWorkingHours(format!(
                    "{p} must start after {} ends",
                    periods[i - 1]
                )));
            }
        }
        Ok(WorkingHours { periods })
    }

    /// `["08:30-12:00", "13:30-17:30"]`.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<WorkingHours, CalendarError> {
        WorkingHours::new(
            texts
                .iter()
                .map(|t| WorkingPeriod::parse(t.as_ref()))
                .collect::<Result<_, _>>()?,
        )
    }

    pub fn periods(&self) -> &[WorkingPeriod] {
        &self.periods
    }

    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|p| p.minutes()).sum()
    }
}

/// A day a schedule lists: a holiday (`off`), or a working day on a weekend (make-up day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// The holiday it belongs to: 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节...
    pub name: String,
    pub off: bool,
}

/// One year's official schedule, checked: in range, no date twice, every date in the year or
/// its spill, names present. Days are kept in date order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayYear {
    pub year: i32,
    /// The notices it comes from (links to the State Council's pages).
    pub papers: Vec<String>,
    pub days: Vec<CalendarDay>,
}

impl HolidayYear {
    pub fn new(
        year: i32,
        papers: Vec<String>,
        days: Vec<CalendarDay>,
    ) -> Result<HolidayYear, CalendarError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(CalendarError::YearOutOfRange { year });
        }
        if days.len() > MAX_DAYS {
            return Err(CalendarError::TooManyDays);
        }
        if papers.len() > MAX_PAPERS
            || papers
                .iter()
                .any(|p| p.trim().is_empty() || p.chars().count() > MAX_PAPER_CHARS)
        {
            return Err(CalendarError::BadPapers);
        }
        let (first, last) = spill_range(year);
        let mut seen = BTreeMap::new();
        for (index, day) in days.iter().enumerate() {
            if day.date < first || day.date > last {
                return Err(CalendarError::DateOutsideYear {
                    index,
                    date: day.date,
                    year,
                });
            }
            let chars = day.name.trim().chars().count();
            if chars == 0 || chars > MAX_NAME_CHARS {
                return Err(CalendarError::BadName {
                    index,
                    date: day.date,
                });
            }
            if seen.insert(day.date, index).is_some() {
                return Err(CalendarError::DateTwice {
                    index,
                    date: day.date,
                });
            }
        }
        let mut days: Vec<CalendarDay> = days
            .into_iter()
            .map(|d| CalendarDay {
                name: d.name.trim().to_owned(),
                ..d
            })
            .collect();
        days.sort_by_key(|d| d.date);
        Ok(HolidayYear {
            year,
            papers: papers.into_iter().map(|p| p.trim().to_owned()).collect(),
            days,
        })
    }

    /// Reads a schedule from CSV with the header `date,name,off`: one listed day a line,
    /// `off` is `true` (a holiday) or `false` (a working day). A CSV names no notices.
    /// Faults name their line.
    pub fn from_csv(year: i32, text: &str) -> Result<HolidayYear, InvalidInput> {
        let mut reader = crate::csv_file::with_header(text, &["date", "name", "off"])?;
        let mut days = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                InvalidInput::new(format!("line {line}"), e.to_string())
            })?;
            let record = crate::csv_file::unescape(record);
            let line = record.position().map_or(0, |p| p.line());
            let date = NaiveDate::parse_from_str(&record[0], "%Y-%m-%d").map_err(|_| {
                InvalidInput::new(
                    format!("line {line}: date"),
                    format!("'{}' is not a date YYYY-MM-DD", &record[0]),
                )
            })?;
            let off = match record[2].to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(InvalidInput::new(
                        format!("line {line}: off"),
                        format!("'{other}' is neither true nor false"),
                    ))
                }
            };
            days.push(CalendarDay {
                date,
                name: record[1].to_owned(),
                off,
            });
            lines.push(line);
        }
        HolidayYear::new(year, Vec::new(), days).map_err(|e| {
            let field = match e.day_index() {
                Some(i) => {
                    let column = if matches!(e, CalendarError::BadName { .. }) {
                        "name"
                    } else {
                        "date"
                    };
                    format!("line {}: {column}", lines[i])
                }
                None => "year".to_owned(),
            };
            InvalidInput::new(field, e.to_string())
        })
    }

    /// The day as this schedule lists it, if it does.
    pub fn listed(&self, date: NaiveDate) -> Option<&CalendarDay> {
        self.days
            .binary_search_by_key(&date, |d| d.date)
            .ok()
            .map(|i| &self.days[i])
    }

    /// Whether `date` is off by this schedule: as listed, else by the plain week.
    fn is_off(&self, date: NaiveDate) -> bool {
        self.listed(date)
            .map_or_else(|| is_weekend(date), |d| d.off)
    }
}

/// The first and last day a schedule for `year` may list.
fn spill_range(year: i32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    (
        first - Duration::days(SPILL_DAYS),
        last + Duration::days(SPILL_DAYS),
    )
}

pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// What a day is for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A weekday no schedule changes (or one a schedule confirms as working).
    WorkingDay,
    /// A Saturday or Sunday no schedule changes.
    Weekend,
    /// A day off by a schedule, weekday or weekend inside a holiday.
    Holiday,
    /// A Saturday or Sunday a schedule makes a working day (调休).
    MakeUpWorkday,
}

impl DayKind {
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::WorkingDay | DayKind::MakeUpWorkday)
    }
}

/// A year as the calendar page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSummary {
    pub year: i32,
    /// Whether a schedule for the year is loaded; if not, it is a plain week.
    pub known: bool,
    pub papers: Vec<String>,
    /// Every day of the year a schedule lists (this year's and a neighbour's spill), in
    /// order, with what it makes of the day.
    pub days: Vec<(CalendarDay, DayKind)>,
    pub working_days: u32,
    pub days_off: u32,
    /// Weekdays off by the schedule.
    pub holidays_on_weekdays: u32,
    pub make_up_workdays: u32,
}

/// Working hours and the loaded schedules: what a time limit in working time runs on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkingCalendar {
    hours: WorkingHours,
    years: BTreeMap<i32, HolidayYear>,
    /// Every listed day by date. A year's own listing wins over a neighbour's spill, though
    /// imports keep the two in agreement ([`WorkingCalendar::check_year`]).
    days: BTreeMap<NaiveDate, CalendarDay>,
}

impl WorkingCalendar {
    pub fn new(hours: WorkingHours, years: impl IntoIterator<Item = HolidayYear>) -> Self {
        let years: BTreeMap<i32, HolidayYear> = years.into_iter().map(|y| (y.year, y)).collect();
        let mut days = BTreeMap::new();
        for own in [false, true] {
            for y in years.values() {
                for d in &y.days {
                    if (d.date.year() == y.year) == own {
                        days.insert(d.date, d.clone());
                    }
                }
            }
        }
        WorkingCalendar { hours, years, days }
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    pub fn year(&self, year: i32) -> Option<&HolidayYear> {
        self.years.get(&year)
    }

    pub fn knows(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `candidate` may join the calendar (replacing its year's schedule, if any): every
    /// day it lists in a neighbouring year agrees with that year's schedule, and every day a
    /// neighbour lists in its year agrees with it. A neighbour not loaded has nothing to
    /// disagree with; it is checked when it comes.
    pub fn check_year(&self, candidate: &HolidayYear) -> Result<(), CalendarError> {
        for neighbour in [candidate.year - 1, candidate.year + 1] {
            let Some(other) = self.years.get(&neighbour) else {
                continue;
            };
            for d in candidate.days.iter().filter(|d| d.date.year() == neighbour) {
                if other.is_off(d.date) != d.off {
                    return Err(CalendarError::Inconsistent {
                        date: d.date,
                        year: candidate.year,
                        off: d.off,
                        other_year: neighbour,
                    });
                }
            }
            for d in other
                .days
                .iter()
                .filter(|d| d.date.year() == candidate.year)
            {
                if candidate.is_off(d.date) == d.off {
                    continue;
                }
                return Err(CalendarError::Inconsistent {
                    date: d.date,
                    year: candidate.year,
                    off: !d.off,
                    other_year: neighbour,
                });
            }
        }
        Ok(())
    }

    /// What `date` is for work, and the holiday's name when a schedule lists it.
    pub fn day(&self, date: NaiveDate) -> (DayKind, Option<&str>) {
        match self.days.get(&date) {
            Some(d) => {
                let kind = match (d.off, is_weekend(date)) {
                    (true, _) => DayKind::Holiday,
                    (false, true) => DayKind::MakeUpWorkday,
                    (false, false) => DayKind::WorkingDay,
                };
                (kind, Some(d.name.as_str()))
            }
            None if is_weekend(date) => (DayKind::Weekend, None),
            None => (DayKind::WorkingDay, None),
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day(date).0.is_working()
    }

    /// The summary of one year, known or not.
    pub fn summary(&self, year: i32) -> YearSummary {
        let mut summary = YearSummary {
            year,
            known: self.knows(year),
            papers: self
                .years
                .get(&year)
                .map(|y| y.papers.clone())
                .unwrap_or_default(),
            days: Vec::new(),
            working_days: 0,
            days_off: 0,
            holidays_on_weekdays: 0,
            make_up_workdays: 0,
        };
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return summary;
        };
        for date in first.iter_days().take_while(|d| *d <= last) {
            let (kind, _) = self.day(date);
            if kind.is_working() {
                summary.working_days += 1;
            } else {
                summary.days_off += 1;
            }
            match kind {
                DayKind::Holiday if !is_weekend(date) => summary.holidays_on_weekdays += 1,
                DayKind::MakeUpWorkday => summary.make_up_workdays += 1,
                _ => {}
            }
            if let Some(listed) = self.days.get(&date) {
                summary.days.push((listed.clone(), kind));
            }
        }
        summary
    }

    /// Whether every day after `date` follows the plain week: no schedule lists any. Past it,
    /// seven days always hold five working days, so long limits skip whole weeks instead of
    /// walking every day (a limit of years would otherwise take seconds).
    fn plain_after(&self, date: NaiveDate) -> bool {
        self.days
            .keys()
            .next_back()
            .is_none_or(|last| *last <= date)
    }

    /// A working week's time, beyond the schedules.
    fn plain_week(&self) -> Duration {
        Duration::minutes(5 * self.hours.minutes_per_day())
    }

    /// `date` plus `weeks` weeks, if representable.
    fn weeks_after(date: NaiveDate, weeks: i64) -> Option<NaiveDate> {
        date.checked_add_signed(Duration::try_days(weeks.checked_mul(7)?)?)
    }

    /// The working periods of `date` as local instants; none on a day off.
    /// A period past the last representable instant is left out.
    fn periods_of(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + '_ {
        let midnight = date.and_time(NaiveTime::MIN);
        let working = self.is_working_day(date);
        let at =
            move |minute: u16| midnight.checked_add_signed(Duration::minutes(i64::from(minute)));
        self.hours
            .periods
            .iter()
            .filter(move |_| working)
            .filter_map(move |p| Some((at(p.start)?, at(p.end)?)))
    }

    /// The instant `minutes` of working time after `start`: counting runs only inside working
    /// periods of working days, so a limit set at 17:00 runs on the next working morning. A
    /// limit ending exactly when a period ends ends then, not at the next period's start.
    /// Zero minutes is `start` itself.
    pub fn add_working_duration(&self, start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        self.add_working(start, Duration::minutes(i64::from(minutes)))
    }

    fn add_working(&self, start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        if duration <= Duration::zero() {
            return start;
        }
        let Some(local) = to_local(start) else {
            return MAX_UTC;
        };
        let mut remaining = duration;
        let mut date = local.date();
        let week = self.plain_week();
        loop {
            // From a whole plain day on, skip the weeks the limit outlasts (strictly: the
            // day it ends in is walked, so it ends at a period's end, not the next start).
            if date > local.date() && self.plain_after(date - Duration::days(1)) {
                let weeks = (remaining.num_milliseconds() - 1) / week.num_milliseconds();
                if weeks > 0 {
                    let Some(later) = Self::weeks_after(date, weeks) else {
                        return MAX_UTC;
                    };
                    date = later;
                    remaining -= Duration::milliseconds(week.num_milliseconds() * weeks);
                }
            }
            for (begin, end) in self.periods_of(date) {
                let begin = begin.max(local);
                if begin >= end {
                    continue;
                }
                let available = end - begin;
                if remaining <= available {
                    return begin.checked_add_signed(remaining).map_or(MAX_UTC, to_utc);
                }
                remaining -= available;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return MAX_UTC,
            }
        }
    }

    /// The end of the `days`-th working day after the day of `start`. The day the limit is set
    /// does not count, as for periods in days in Chinese law (民法典 第二百零一条): the count
    /// starts the next day. Zero days is `start` itself.
    pub fn add_working_days(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        if days == 0 {
            return start;
        }
        let Some(mut date) = to_local(start).map(|t| t.date()) else {
            return MAX_UTC;
        };
        let mut counted = 0;
        while counted < days {
            // Past the schedules, a week is five working days; the last is counted by day.
            if self.plain_after(date) {
                let weeks = i64::from((days - counted - 1) / 5);
                if weeks > 0 {
                    let Some(later) = Self::weeks_after(date, weeks) else {
                        return MAX_UTC;
                    };
                    date = later;
                    counted += 5 * (weeks as u32);
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return MAX_UTC,
            }
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        match self.periods_of(date).last() {
            Some((_, end)) => to_utc(end),
            None => MAX_UTC,
        }
    }

    /// Whole minutes of working time from `from` up to `to`; zero if `to` is not after
    /// `from`. The inverse of [`WorkingCalendar::add_working_duration`].
    pub fn working_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        // Local time of the last instants is past chrono's range; no working time is there.
        let Some(from) = to_local(from) else {
            return 0;
        };
        let to = to_local(to).unwrap_or(NaiveDateTime::MAX);
        let mut total = Duration::zero();
        let mut date = from.date();
        while date <= to.date() {
            // Whole plain weeks strictly between the first and the last day count alike.
            if date > from.date() && self.plain_after(date - Duration::days(1)) {
                let weeks = (to.date() - date).num_days() / 7;
                if weeks > 0 {
                    let Some(later) = Self::weeks_after(date, weeks) else {
                        break;
                    };
                    total += Duration::milliseconds(self.plain_week().num_milliseconds() * weeks);
                    date = later;
                    continue;
                }
            }
            for (begin, end) in self.periods_of(date) {
                let (begin, end) = (begin.max(from), end.min(to));
                if begin < end {
                    total += end - begin;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total.num_minutes()
    }
}

/// Where a limit cannot end within chrono's range of dates: the latest instant stands for
/// "never" rather than a panic.
const MAX_UTC: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

/// The local time of an instant, if within chrono's range.
fn to_local(at: DateTime<Utc>) -> Option<NaiveDateTime> {
    at.naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(china_time().local_minus_utc())))
}

/// The instant of a local time. A fixed offset maps every local time to exactly one.
fn to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .checked_sub_signed(Duration::seconds(i64::from(china_time().local_minus_utc())))
        .map_or(MAX_UTC, |utc| utc.and_utc())
}

/// A schedule in the format of NateScarlet/holiday-cn (`{year, papers, days: [{name, date,
/// isOffDay}]}`), the form the shipped years come in and admins import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayCnFile {
    pub year: i32,
    #[serde(default)]
    pub papers: Vec<String>,
    pub days: Vec<HolidayCnDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayCnDay {
    pub name: String,
    pub date: NaiveDate,
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
}

impl HolidayCnFile {
    pub fn into_year(self) -> Result<HolidayYear, CalendarError> {
        HolidayYear::new(
            self.year,
            self.papers,
            self.days
                .into_iter()
                .map(|d| CalendarDay {
                    date: d.date,
                    name: d.name,
                    off: d.is_off_day,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// A local (Asia/Shanghai) instant, `2024-12-31 17:00`.
    fn at(text: &str) -> DateTime<Utc> {
        china_time()
            .from_local_datetime(&NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day(d: &str, name: &str, off: bool) -> CalendarDay {
        CalendarDay {
            date: date(d),
            name: name.into(),
            off,
        }
    }

    /// The official 2024 and 2025 schedules' days that matter here, and 2023's spill.
    fn calendar() -> WorkingCalendar {
        let y2024 = HolidayYear::new(
            2024,
            vec![],
            vec![
                day("2024-01-01", "元旦", true),
                day("2024-02-04", "春节", false),
                day("2024-02-10", "春节", true),
                day("2024-02-11", "春节", true),
                day("2024-02-12", "春节", true),
                day("2024-02-13", "春节", true),
                day("2024-02-14", "春节", true),
                day("2024-02-15", "春节", true),
                day("2024-02-16", "春节", true),
                day("2024-02-17", "春节", true),
                day("2024-02-18", "春节", false),
                day("2024-09-29", "国庆节", false),
                day("2024-10-01", "国庆节", true),
                day("2024-10-02", "国庆节", true),
                day("2024-10-03", "国庆节", true),
                day("2024-10-04", "国庆节", true),
                day("2024-10-05", "国庆节", true),
                day("2024-10-06", "国庆节", true),
                day("2024-10-07", "国庆节", true),
                day("2024-10-12", "国庆节", false),
            ],
        )
        .unwrap();
        let y2025 = HolidayYear::new(
            2025,
            vec![],
            vec![
                day("2025-01-01", "元旦", true),
                day("2025-01-26", "春节", false),
            ],
        )
        .unwrap();
        WorkingCalendar::new(WorkingHours::default(), [y2024, y2025])
    }

    #[test]
    fn add_working_duration_table() {
        let cal = calendar();
        // (start, working minutes, deadline), local times.
        let table = [
            // Inside the morning period.
            ("2024-03-05 09:00", 60, "2024-03-05 10:00"),
            // Ends exactly when the morning ends: at 12:00, not at 13:30.
            ("2024-03-05 11:00", 60, "2024-03-05 12:00"),
            // Runs over the lunch break.
            ("2024-03-05 11:30", 60, "2024-03-05 14:00"),
            // Set during lunch: counting starts at 13:30.
            ("2024-03-05 12:15", 30, "2024-03-05 14:00"),
            // Set before work: counting starts at 08:30.
            ("2024-03-05 06:00", 30, "2024-03-05 09:00"),
            // Set after work: the next morning.
            ("2024-03-05 20:00", 30, "2024-03-06 09:00"),
            // Across midnight from the evening.
            ("2024-03-05 17:00", 60, "2024-03-06 09:00"),
            // Set at midnight exactly.
            ("2024-03-06 00:00", 1, "2024-03-06 08:31"),
            // Friday evening: over the weekend to Monday.
            ("2024-03-08 17:00", 60, "2024-03-11 09:00"),
            // A whole working day (450 minutes) from a morning's start.
            ("2024-03-05 08:30", 450, "2024-03-05 17:30"),
            ("2024-03-05 08:30", 451, "2024-03-06 08:31"),
            // Year end: Dec 31 has 30 minutes left, Jan 1 is 元旦, 90 more on Jan 2.
            ("2024-12-31 17:00", 120, "2025-01-02 10:00"),
            // Spring Festival 2024: Friday 2-9 afternoon, then 2-10..17 off; Sunday 2-18 is a
            // make-up working day.
            ("2024-02-09 17:00", 60, "2024-02-18 09:00"),
            // Saturday 2-04 is a make-up working day.
            ("2024-02-03 10:00", 30, "2024-02-04 09:00"),
            // National Day: Sunday 9-29 works, 10-1..7 off, Saturday 10-12 works.
            ("2024-09-28 10:00", 30, "2024-09-29 09:00"),
            ("2024-09-30 17:00", 60, "2024-10-08 09:00"),
            ("2024-10-11 17:00", 60, "2024-10-12 09:00"),
            // A year without a schedule (2030) is a plain week: Tuesday Jan 1 works.
            ("2029-12-31 17:00", 60, "2030-01-01 09:00"),
            // Zero minutes is the start itself, even outside working hours.
            ("2024-10-03 03:00", 0, "2024-10-03 03:00"),
        ];
        for (start, minutes, deadline) in table {
            assert_eq!(
                cal.add_working_duration(at(start), minutes),
                at(deadline),
                "{start} + {minutes} min"
            );
            if minutes > 0 {
                assert_eq!(
                    cal.working_minutes_between(at(start), at(deadline)),
                    i64::from(minutes),
                    "{start} .. {deadline}"
                );
            }
        }
    }

    #[test]
    fn add_working_days_table() {
        let cal = calendar();
        let table = [
            // The start's own day does not count.
            ("2024-03-05 09:00", 1, "2024-03-06 17:30"),
            ("2024-03-05 23:00", 1, "2024-03-06 17:30"),
            // Friday + 1 is Monday.
            ("2024-03-08 10:00", 1, "2024-03-11 17:30"),
            ("2024-03-08 10:00", 3, "2024-03-13 17:30"),
            // Over 元旦 2025.
            ("2024-12-31 09:00", 1, "2025-01-02 17:30"),
            // Over the Spring Festival to the make-up Sunday.
            ("2024-02-08 09:00", 2, "2024-02-18 17:30"),
            // Set on a holiday: the first working day after it.
            ("2024-10-03 10:00", 1, "2024-10-08 17:30"),
            ("2024-10-03 10:00", 0, "2024-10-03 10:00"),
        ];
        for (start, days, deadline) in table {
            assert_eq!(
                cal.add_working_days(at(start), days),
                at(deadline),
                "{start} + {days} days"
            );
        }
    }

    #[test]
    fn working_minutes_between_table() {
        let cal = calendar();
        let table = [
            ("2024-03-05 08:00", "2024-03-05 18:00", 450),
            ("2024-03-05 12:00", "2024-03-05 13:30", 0),
            ("2024-03-05 11:59", "2024-03-05 13:31", 2),
            // A whole week: five days.
            ("2024-03-04 00:00", "2024-03-11 00:00", 5 * 450),
            // The Spring Festival week: nothing from 2-10 to 2-17.
            ("2024-02-10 00:00", "2024-02-18 00:00", 0),
            // Backwards is zero.
            ("2024-03-05 12:00", "2024-03-05 09:00", 0),
        ];
        for (from, to, minutes) in table {
            assert_eq!(
                cal.working_minutes_between(at(from), at(to)),
                minutes,
                "{from} .. {to}"
            );
        }
    }

    #[test]
    fn days_are_classified() {
        let cal = calendar();
        assert_eq!(
            cal.day(date("2024-02-12")),
            (DayKind::Holiday, Some("春节"))
        );
        assert_eq!(
            cal.day(date("2024-02-10")),
            (DayKind::Holiday, Some("春节"))
        );
        assert_eq!(
            cal.day(date("2024-02-04")),
            (DayKind::MakeUpWorkday, Some("春节"))
        );
        assert_eq!(cal.day(date("2024-03-09")), (DayKind::Weekend, None));
        assert_eq!(cal.day(date("2024-03-08")), (DayKind::WorkingDay, None));
        assert!(!cal.is_working_day(date("2025-01-01")));
        assert!(cal.is_working_day(date("2025-01-26")));
        assert!(cal.knows(2024) && !cal.knows(2030));
    }

    #[test]
    fn a_summary_counts_the_year() {
        let cal = calendar();
        let summary = cal.summary(2025);
        assert!(summary.known);
        assert_eq!(summary.days.len(), 2);
        assert_eq!(summary.holidays_on_weekdays, 1);
        assert_eq!(summary.make_up_workdays, 1);
        // 2025 has 261 weekdays; one is 元旦 and one Sunday works.
        assert_eq!(summary.working_days, 261);
        assert_eq!(summary.working_days + summary.days_off, 365);
        let unknown = cal.summary(2031);
        assert!(!unknown.known && unknown.days.is_empty());
        assert_eq!(unknown.working_days, 261);
    }

    #[test]
    fn a_schedule_with_a_date_twice_is_refused() {
        let err = HolidayYear::new(
            2027,
            vec![],
            vec![
                day("2027-01-01", "元旦", true),
                day("2027-01-01", "元旦", true),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err,
            CalendarError::DateTwice {
                index: 1,
                date: date("2027-01-01")
            }
        );
    }

    #[test]
    fn dates_outside_the_year_and_its_edges_are_refused() {
        let refused = |d: &str| {
            matches!(
                HolidayYear::new(2027, vec![], vec![day(d, "x", true)]),
                Err(CalendarError::DateOutsideYear { index: 0, .. })
            )
        };
        assert!(refused("2026-06-01"));
        assert!(refused("2028-03-01"));
        assert!(refused("2026-12-24"));
        assert!(refused("2028-01-08"));
        assert!(!refused("2026-12-25"));
        assert!(!refused("2028-01-07"));
        assert!(matches!(
            HolidayYear::new(1999, vec![], vec![]),
            Err(CalendarError::YearOutOfRange { year: 1999 })
        ));
        assert!(matches!(
            HolidayYear::new(2027, vec![], vec![day("2027-05-01", " ", true)]),
            Err(CalendarError::BadName { index: 0, .. })
        ));
    }

    #[test]
    fn spill_into_a_neighbour_must_agree_with_it() {
        let y2022 =
            HolidayYear::new(2022, vec![], vec![day("2022-10-01", "国庆节", true)]).unwrap();
        let cal = WorkingCalendar::new(WorkingHours::default(), [y2022.clone()]);
        // 2023's file lists Saturday 2022-12-31 as off: the plain week agrees.
        let y2023 = HolidayYear::new(2023, vec![], vec![day("2022-12-31", "元旦", true)]).unwrap();
        assert_eq!(cal.check_year(&y2023), Ok(()));
        // Listing Friday 2022-12-30 as off contradicts 2022, which has it working.
        let wrong = HolidayYear::new(2023, vec![], vec![day("2022-12-30", "元旦", true)]).unwrap();
        assert_eq!(
            cal.check_year(&wrong),
            Err(CalendarError::Inconsistent {
                date: date("2022-12-30"),
                year: 2023,
                off: true,
                other_year: 2022
            })
        );
        // The other way round: 2023 is loaded with its spill, then a 2022 that works that
        // Saturday is refused.
        let cal = WorkingCalendar::new(WorkingHours::default(), [y2023]);
        let y2022_working =
            HolidayYear::new(2022, vec![], vec![day("2022-12-31", "调休", false)]).unwrap();
        assert!(matches!(
            cal.check_year(&y2022_working),
            Err(CalendarError::Inconsistent {
                other_year: 2023,
                ..
            })
        ));
        assert_eq!(cal.check_year(&y2022), Ok(()));
        // The spill counts where the neighbour is not loaded.
        assert!(!cal.is_working_day(date("2022-12-31")));
    }

    #[test]
    fn csv_reads_and_names_the_line() {
        let year = HolidayYear::from_csv(
            2027,
            "\u{feff}date,name,off\n2027-01-01,元旦,true\n2027-02-07,春节,FALSE\n",
        )
        .unwrap();
        assert_eq!(year.days.len(), 2);
        assert!(!year.days[1].off);
        let err = HolidayYear::from_csv(
            2027,
            "date,name,off\n2027-01-01,元旦,true\n2027-13-01,x,true\n",
        )
        .unwrap_err();
        assert_eq!(err.field, "line 3: date");
        let err =
            HolidayYear::from_csv(2027, "date,name,off\n2027-01-01,元旦,maybe\n").unwrap_err();
        assert_eq!(err.field, "line 2: off");
        let err = HolidayYear::from_csv(
            2027,
            "date,name,off\n2027-01-01,元旦,true\n2027-01-01,元旦,true\n",
        )
        .unwrap_err();
        assert_eq!(err.field, "line 3: date");
        assert!(err.reason.contains("twice"), "{}", err.reason);
        let err = HolidayYear::from_csv(2027, "day,name,off\n").unwrap_err();
        assert_eq!(err.field, "line 1");
        let err = HolidayYear::from_csv(2027, "date,name,off\n2027-01-01,元旦\n").unwrap_err();
        assert_eq!(err.field, "line 2");
    }

    #[test]
    fn working_hours_are_checked() {
        assert_eq!(WorkingHours::default().minutes_per_day(), 450);
        let hours = WorkingHours::parse(&["08:00-12:00", "14:00-18:00"]).unwrap();
        assert_eq!(hours.periods()[1].to_string(), "14:00-18:00");
        for bad in [
            &["12:00-08:00"][..],
            &["08:00-12:00", "11:00-13:00"],
            &["8-12"],
            &["08:00-24:01"],
            &[],
        ] {
            assert!(WorkingHours::parse(bad).is_err(), "{bad:?}");
        }
        let night = WorkingHours::parse(&["22:00-24:00"]).unwrap();
        let cal = WorkingCalendar::new(night, []);
        assert_eq!(
            cal.add_working_duration(at("2030-01-01 23:00"), 90),
            at("2030-01-02 22:30")
        );
    }

    /// Beyond the schedules whole weeks are skipped; the answers are those of walking every
    /// day, and a limit of thousands of years answers at once.
    #[test]
    fn far_limits_agree_with_counting_every_day() {
        let cal = calendar();
        let start = at("2024-12-30 10:15");
        let end = at("2031-03-05 09:00");
        let mut walked = 0;
        let mut date = date("2024-12-31");
        while date < self::date("2031-03-05") {
            if cal.is_working_day(date) {
                walked += 450;
            }
            date = date.succ_opt().unwrap();
        }
        // 2024-12-30 10:15-17:30 less the lunch break, and 2031-03-05 08:30-09:00.
        let expected = walked + (105 + 240) + 30;
        assert_eq!(cal.working_minutes_between(start, end), expected);
        let minutes = u32::try_from(expected).unwrap();
        assert_eq!(cal.add_working_duration(start, minutes), end);
        // Ending exactly at a Friday's close, not the next Monday's opening.
        let friday = at("2030-01-04 17:30");
        let minutes = u32::try_from(cal.working_minutes_between(start, friday)).unwrap();
        assert_eq!(cal.add_working_duration(start, minutes), friday);
        // Working days: 2030-01-02 (Wednesday) + 10 working days is 2030-01-16.
        assert_eq!(
            cal.add_working_days(at("2030-01-02 09:00"), 10),
            at("2030-01-16 17:30")
        );
        let mut counted = 0;
        let mut date = self::date("2024-12-30");
        while counted < 1000 {
            date = date.succ_opt().unwrap();
            if cal.is_working_day(date) {
                counted += 1;
            }
        }
        assert_eq!(
            cal.add_working_days(at("2024-12-30 09:00"), 1000)
                .date_naive(),
            date
        );
        let far = cal.add_working_duration(start, u32::MAX);
        assert!(far > at("9999-01-01 00:00"));
        assert_eq!(cal.working_minutes_between(start, far), i64::from(u32::MAX));
        assert!(cal.add_working_days(start, u32::MAX) > far);
    }

    #[test]
    fn the_end_of_time_does_not_panic() {
        let cal = WorkingCalendar::default();
        let end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(cal.add_working_duration(end, 600), DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.add_working_days(end, 3), DateTime::<Utc>::MAX_UTC);
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(cal.working_minutes_between(end, start), 0);
    }
}
