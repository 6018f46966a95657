//! Properties of working-time arithmetic on the real schedules of 2020 to 2026 (and the plain
//! weeks around them): a deadline is never before its start, grows with the duration, and
//! the working time from the start to it is exactly the duration asked for.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::calendar::{HolidayCnFile, WorkingCalendar, WorkingHours, WorkingPeriod};
use proptest::prelude::*;

const SHIPPED: [&str; 7] = [
    include_str!("../../../data/calendar/2020.json"),
    include_str!("../../../data/calendar/2021.json"),
    include_str!("../../../data/calendar/2022.json"),
    include_str!("../../../data/calendar/2023.json"),
    include_str!("../../../data/calendar/2024.json"),
    include_str!("../../../data/calendar/2025.json"),
    include_str!("../../../data/calendar/2026.json"),
];

fn shipped(hours: WorkingHours) -> WorkingCalendar {
    let years = SHIPPED.iter().map(|text| {
        serde_json::from_str::<HolidayCnFile>(text)
            .unwrap()
            .into_year()
            .unwrap()
    });
    WorkingCalendar::new(hours, years)
}

/// Every shipped year is valid and agrees with its neighbours.
#[test]
fn the_shipped_years_are_consistent() {
    let calendar = shipped(WorkingHours::default());
    for year in 2020..=2026 {
        let schedule = calendar.year(year).unwrap().clone();
        calendar.check_year(&schedule).unwrap();
        assert!(calendar.knows(year));
    }
    // 2024 had 251 working days (the State Council's count).
    assert_eq!(calendar.summary(2024).working_days, 251);
}

/// Any instant from 2019 to 2027, to the second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let from = Utc
        .with_ymd_and_hms(2019, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let to = Utc
        .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (from..to).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// The default hours, or one to three other periods.
fn hours() -> impl Strategy<Value = WorkingHours> {
    prop_oneof![
        Just(WorkingHours::default()),
        proptest::collection::btree_set(0u16..=1440, 2..=6).prop_filter_map(
            "an even number of distinct minutes",
            |minutes| {
                let minutes: Vec<u16> = minutes.into_iter().collect();
                let periods = minutes
                    .chunks_exact(2)
                    .map(|pair| WorkingPeriod {
                        start: pair[0],
                        end: pair[1],
                    })
                    .collect();
                WorkingHours::new(periods).ok()
            }
        ),
    ]
}

proptest! {
    #[test]
    fn deadlines_never_precede_grow_and_invert(
        hours in hours(),
        start in instant(),
        // Up to about two years of working time: starts late in the range reach past the
        // schedules, where whole weeks are skipped.
        a in 0u32..250_000,
        b in 0u32..250_000,
    ) {
        let calendar = shipped(hours);
        let (short, long) = (a.min(b), a.max(b));
        let early = calendar.add_working_duration(start, short);
        let late = calendar.add_working_duration(start, long);
        prop_assert!(early >= start);
        prop_assert!(late >= early, "{start} + {short} = {early} but + {long} = {late}");
        prop_assert_eq!(calendar.working_minutes_between(start, early), i64::from(short));
        prop_assert_eq!(calendar.working_minutes_between(start, late), i64::from(long));
        // A positive duration ends in working time: the second before the deadline is in a
        // working day (the deadline itself may be the midnight ending a period at 24:00).
        if long > 0 {
            let local = late + Duration::hours(8) - Duration::seconds(1);
            prop_assert!(calendar.is_working_day(local.date_naive()), "{late} is on a day off");
        }
    }

    #[test]
    fn working_days_never_precede_and_grow(start in instant(), a in 0u32..400, b in 0u32..400) {
        let calendar = shipped(WorkingHours::default());
        let (short, long) = (a.min(b), a.max(b));
        let early = calendar.add_working_days(start, short);
        let late = calendar.add_working_days(start, long);
        prop_assert!(early >= start);
        prop_assert!(late >= early);
        if short < long {
            prop_assert!(late > early);
        }
    }
}
