//! Stage clocks over HTTP: an admin gives a class terms in working time, and a case's
//! deadline is reckoned on the city's working calendar (the shipped holiday schedules), with
//! the term and the reason on its timeline.

use cityops_domain::calendar::{HolidayYear, WorkingCalendar, WorkingHours};
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(a_handling_deadline_in_working_days_follows_the_citys_calendar);

async fn a_handling_deadline_in_working_days_follows_the_citys_calendar(app: &TestApp) {
    // 20101 is a class of normal urgency: its terms run on working time.
    let (status, class) = app
        .put_json(
            Some("admin"),
            "/api/v1/categories/20101",
            json!({"urgency": "normal",
               "terms": {"handling": {"amount": 2, "unit": "working_days"}}}),
        )
        .await;
    assert_eq!(status, 200, "{class}");
    assert_eq!(
        class["terms"]["handling"],
        json!({"amount": 2, "unit": "working_days"})
    );

    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "20101"}))
        .await;
    assert_eq!(
        case["category"]["terms"]["handling"],
        json!({"amount": 2, "unit": "working_days"}),
        "the case copies the class's terms when filed"
    );
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let case = app.ok("water", &case, "sign", json!({})).await;
    assert_eq!(case["stage"], "handling");

    // The same reckoning on the shipped schedules, independently of the server's cache.
    let years: Vec<HolidayYear> = app.store.holiday_years().await.unwrap();
    assert!(years.len() >= 7, "the shipped years are seeded");
    let calendar = WorkingCalendar::new(WorkingHours::default(), years);
    let timeline = app.timeline(&case).await;
    let sign = timeline.last().unwrap();
    let signed_at: chrono::DateTime<chrono::Utc> = sign["at"].as_str().unwrap().parse().unwrap();
    let expected = calendar.add_working_days(signed_at, 2);
    let deadline: chrono::DateTime<chrono::Utc> =
        case["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, expected);
    // The clock also records when the stage turns yellow: before the deadline.
    let warning: chrono::DateTime<chrono::Utc> =
        sign["clock"]["warning"].as_str().unwrap().parse().unwrap();
    assert!(signed_at < warning && warning < deadline);
    assert_eq!(
        sign["clock"],
        json!({"stage": "handling", "deadline": case["deadline"], "warning": sign["clock"]["warning"],
               "reason": {"kind": "started", "term": {"amount": 2, "unit": "working_days"},
                          "working_time": true}})
    );
    // The countdown in working minutes, as of the answer.
    assert_eq!(
        case["time_left"],
        json!({"stage": "handling", "deadline": case["deadline"],
               "term": {"amount": 2, "unit": "working_days"}, "working_time": true,
               "minutes_left": calendar.working_minutes_between(signed_at, deadline),
               "used": 0.0, "mark": "on_time"})
    );
    // Two working days end at the close of a working day.
    let local = deadline.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    assert_eq!(local.format("%H:%M").to_string(), "17:30");

    // Feedback stops the clock, on the record.
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已拆除"}))
        .await;
    assert_eq!(case["deadline"], Value::Null);
    assert_eq!(case["time_left"], Value::Null);
    let timeline = app.timeline(&case).await;
    assert_eq!(
        timeline.last().unwrap()["clock"],
        json!({"stage": null, "deadline": null, "warning": null, "reason": {"kind": "stopped"}})
    );
}
