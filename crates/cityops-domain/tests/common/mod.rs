//! What the domain's integration tests share: the shipped 2026 holiday schedule on the default
//! working hours, and Beijing times in 2026.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cityops_domain::calendar::{HolidayCnFile, WorkingCalendar, WorkingHours};

/// The working calendar of 2026 as shipped (`data/calendar/2026.json`), 08:30-12:00 and
/// 13:30-17:30. Not every test file reckons working time.
#[allow(dead_code)]
pub fn shipped_2026() -> WorkingCalendar {
    let year =
        serde_json::from_str::<HolidayCnFile>(include_str!("../../../../data/calendar/2026.json"))
            .unwrap()
            .into_year()
            .unwrap();
    WorkingCalendar::new(WorkingHours::default(), [year])
}

/// Beijing local time on a day of 2026.
pub fn at(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .from_local_datetime(
            &NaiveDate::from_ymd_opt(2026, month, day)
                .unwrap()
                .and_hms_opt(hour, minute, 0)
                .unwrap(),
        )
        .unwrap()
        .with_timezone(&Utc)
}
