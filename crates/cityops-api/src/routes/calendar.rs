//! The working calendar: a year's working hours, holidays and make-up working days, and an
//! admin's import of a year's official schedule (holiday-cn JSON or CSV).
//!
//! An import is all or nothing. It is refused when the file is bad (naming the field or the
//! line), when it contradicts a neighbouring year on a day both list, and when the year
//! already holds a different schedule unless the admin asks to replace it (`replace=true`);
//! the same schedule again changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use cityops_domain::calendar::{
    CalendarError, DayKind, HolidayCnDay, HolidayCnFile, HolidayYear, WorkingCalendar, FIRST_YEAR,
    LAST_YEAR,
};
use cityops_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{parse_json, CurrentUser, QueryArgs};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/calendar/{year}", get(calendar_year).put(import_year))
}

/// What a listed day makes of its date.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CalendarDayKind {
    /// A weekday the schedule confirms as working.
    WorkingDay,
    /// A day off, on a weekday or a weekend inside the holiday.
    Holiday,
    /// A Saturday or Sunday made a working day (调休).
    MakeUpWorkday,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDayView {
    pub date: NaiveDate,
    /// The holiday it belongs to (元旦, 春节...).
    pub name: String,
    pub off: bool,
    pub kind: CalendarDayKind,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarYearView {
    pub year: i32,
    /// Whether the official schedule of the year is loaded. If not, the year counts as a
    /// plain week (Monday to Friday working) until an admin imports it.
    pub known: bool,
    /// Every time of the calendar is local time in this zone.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    /// A working day's periods, local time, `HH:MM-HH:MM`.
    #[schema(example = json!(["08:30-12:00", "13:30-17:30"]))]
    pub working_hours: Vec<String>,
    pub working_minutes_per_day: i64,
    /// The notices the schedule comes from.
    pub papers: Vec<String>,
    /// Every day of the year a schedule lists: holidays (with the weekends inside them),
    /// make-up working days, in date order. Days not listed follow the plain week.
    pub days: Vec<CalendarDayView>,
    pub working_days: u32,
    pub days_off: u32,
    /// Weekdays that are holidays.
    pub holidays_on_weekdays: u32,
    pub make_up_workdays: u32,
}

/// What an import did.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum CalendarImportResult {
    /// The year had no schedule; now it has this one.
    Imported,
    /// The year's schedule was replaced (`replace=true`).
    Replaced,
    /// The year already had exactly this schedule: nothing changed.
    Unchanged,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarImportView {
    pub result: CalendarImportResult,
    pub calendar: CalendarYearView,
}

/// A year's schedule in the format of NateScarlet/holiday-cn, as the State Council's notices
/// are compiled there. Other members (`$schema`, `$id`) are ignored.
#[derive(Deserialize, ToSchema)]
pub struct HolidayScheduleFile {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// Links to the notices.
    #[serde(default)]
    pub papers: Vec<String>,
    pub days: Vec<HolidayScheduleDay>,
}

#[derive(Deserialize, ToSchema)]
pub struct HolidayScheduleDay {
    /// The holiday, e.g. 春节.
    pub name: String,
    pub date: NaiveDate,
    /// `true`: a day off; `false`: a working day (a weekend day made one).
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Replace a different schedule already stored for the year (default false: refused
    /// with `calendar_conflict`).
    replace: Option<bool>,
}

fn parse_year(text: &str) -> ApiResult<i32> {
    text.parse::<i32>()
        .ok()
        .filter(|y| (FIRST_YEAR..=LAST_YEAR).contains(y))
        .ok_or_else(|| {
            ApiError::invalid(
                "year",
                format!("the year is a number from {FIRST_YEAR} to {LAST_YEAR}"),
            )
        })
}

async fn load(state: &AppState) -> ApiResult<WorkingCalendar> {
    Ok(WorkingCalendar::new(
        state.config.working_hours.clone(),
        state.store.holiday_years().await?,
    ))
}

fn view(calendar: &WorkingCalendar, year: i32) -> CalendarYearView {
    let summary = calendar.summary(year);
    let hours = calendar.hours();
    CalendarYearView {
        year,
        known: summary.known,
        time_zone: "Asia/Shanghai".to_owned(),
        working_hours: hours.periods().iter().map(|p| p.to_string()).collect(),
        working_minutes_per_day: hours.minutes_per_day(),
        papers: summary.papers,
        days: summary
            .days
            .into_iter()
            .map(|(day, kind)| CalendarDayView {
                date: day.date,
                name: day.name,
                off: day.off,
                kind: match kind {
                    DayKind::Holiday => CalendarDayKind::Holiday,
                    DayKind::MakeUpWorkday => CalendarDayKind::MakeUpWorkday,
                    // A listed day is never a plain weekend; a listed working weekday is
                    // a working day.
                    DayKind::WorkingDay | DayKind::Weekend => CalendarDayKind::WorkingDay,
                },
            })
            .collect(),
        working_days: summary.working_days,
        days_off: summary.days_off,
        holidays_on_weekdays: summary.holidays_on_weekdays,
        make_up_workdays: summary.make_up_workdays,
    }
}

/// A year of the working calendar: working hours, the holidays and make-up working days of
/// the official schedule, and the count of working days. A year without a schedule answers
/// too, as a plain week with `known: false`.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "The year, 2000 to 2100", minimum = 2000, maximum = 2100)),
    responses((status = 200, body = CalendarYearView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn calendar_year(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(year): Path<String>,
) -> ApiResult<Json<CalendarYearView>> {
    let year = parse_year(&year)?;
    Ok(Json(view(&load(&state).await?, year)))
}

/// Import a year's official schedule (admin): JSON in the holiday-cn format
/// (`application/json`), or CSV (`text/csv`, UTF-8 with or without BOM, header
/// `date,name,off`, one listed day a line, `off` true or false). Dates are `YYYY-MM-DD` in
/// the year, or within 7 days of its edges for a holiday crossing New Year; none twice. All
/// or nothing: a bad day is named (`days[3].date`, `line 5: date`), a day contradicting a
/// neighbouring year's schedule or a different schedule already stored (without
/// `replace=true`) answers `calendar_conflict`, and nothing changes. The same schedule
/// again changes nothing (`unchanged`).
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "The year, 2000 to 2100", minimum = 2000, maximum = 2100), ImportParams),
    request_body(content(
        (HolidayScheduleFile = "application/json"),
        (String = "text/csv", example = "date,name,off\n2027-01-01,元旦,true\n2027-02-06,春节,false\n"),
    )),
    responses(
        (status = 200, body = CalendarImportView),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_year(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(year): Path<String>,
    QueryArgs(params): QueryArgs<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CalendarImportView>> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may import the working calendar",
        ));
    }
    let year = parse_year(&year)?;
    // What only reading the file shows (a day twice, a bad line) is `invalid_file`.
    let schedule = parse_schedule(year, &headers, &body).map_err(ApiError::in_file)?;
    let _guard = state.calendar_lock.lock().await;
    let calendar = load(&state).await?;
    let stored = calendar.year(year).cloned();
    let result = match &stored {
        Some(stored) if *stored == schedule => {
            return Ok(Json(CalendarImportView {
                result: CalendarImportResult::Unchanged,
                calendar: view(&calendar, year),
            }));
        }
        Some(_) if !params.replace.unwrap_or(false) => {
            return Err(ApiError::new(
                ErrorCode::CalendarConflict,
                format!(
                    "{year} already has a different schedule; import it with replace=true to replace it"
                ),
            )
            .with_field("year"));
        }
        Some(_) => CalendarImportResult::Replaced,
        None => CalendarImportResult::Imported,
    };
    calendar.check_year(&schedule).map_err(|e| match e {
        CalendarError::Inconsistent { date, .. } => {
            ApiError::new(ErrorCode::CalendarConflict, e.to_string()).with_field(date.to_string())
        }
        other => ApiError::invalid("year", other.to_string()).in_file(),
    })?;
    state
        .store
        .put_holiday_year(&schedule, stored.as_ref())
        .await?;
    state.forget_calendar();
    let calendar = load(&state).await?;
    Ok(Json(CalendarImportView {
        result,
        calendar: view(&calendar, year),
    }))
}

/// The schedule in the body, by its content type; faults name the field or the line.
fn parse_schedule(year: i32, headers: &HeaderMap, body: &[u8]) -> ApiResult<HolidayYear> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match content_type.as_str() {
        "application/json" => {
            let file: HolidayScheduleFile = parse_json(body)?;
            if file.year != year {
                return Err(ApiError::invalid(
                    "year",
                    format!("the file is for {}, not {year}", file.year),
                ));
            }
            let file = HolidayCnFile {
                year: file.year,
                papers: file.papers,
                days: file
                    .days
                    .into_iter()
                    .map(|d| HolidayCnDay {
                        name: d.name,
                        date: d.date,
                        is_off_day: d.is_off_day,
                    })
                    .collect(),
            };
            file.into_year().map_err(|e| {
                let field = match (&e, e.day_index()) {
                    (CalendarError::BadName { .. }, Some(i)) => format!("days[{i}].name"),
                    (_, Some(i)) => format!("days[{i}].date"),
                    (CalendarError::BadPapers, None) => "papers".to_owned(),
                    (CalendarError::TooManyDays, None) => "days".to_owned(),
                    _ => "year".to_owned(),
                };
                ApiError::invalid(field, e.to_string())
            })
        }
        "text/csv" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::invalid("file", "the CSV must be UTF-8"))?;
            Ok(HolidayYear::from_csv(year, text)?)
        }
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "a calendar is application/json (the holiday-cn format) or text/csv",
        )),
    }
}
