//! The working calendar over HTTP: the shipped official schedules, an admin's import of a new
//! year (holiday-cn JSON or CSV) and every way an import is refused with nothing changed.

use cityops_test_support::{on_both_backends, TestApp, USERS};
use serde_json::{json, Value};

on_both_backends!(
    a_shipped_year_shows_its_holidays_make_up_days_and_counts,
    an_admin_imports_a_year_and_the_same_again_changes_nothing,
    a_different_schedule_replaces_only_when_asked,
    bad_files_are_refused_naming_the_fault_and_change_nothing,
    a_year_contradicting_its_neighbour_is_refused,
    only_an_admin_imports,
);

/// A schedule for 2027 in the holiday-cn format. 2027's notice is not published yet: these
/// days are made up, on the right weekdays (New Year's Day is a Friday).
fn schedule_2027() -> Value {
    json!({
        "$schema": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json",
        "year": 2027,
        "papers": ["https://www.gov.cn/zhengce/zhengceku/2027-notice.htm"],
        "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
            {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
            {"name": "元旦", "date": "2027-01-03", "isOffDay": true},
            {"name": "春节", "date": "2027-01-31", "isOffDay": false},
            {"name": "春节", "date": "2027-02-05", "isOffDay": true},
            {"name": "春节", "date": "2027-02-06", "isOffDay": true},
            {"name": "春节", "date": "2027-02-07", "isOffDay": true},
            {"name": "春节", "date": "2027-02-08", "isOffDay": true},
            {"name": "春节", "date": "2027-02-09", "isOffDay": true},
            {"name": "春节", "date": "2027-02-10", "isOffDay": true},
            {"name": "春节", "date": "2027-02-11", "isOffDay": true},
            {"name": "春节", "date": "2027-02-20", "isOffDay": false}
        ]
    })
}

async fn put_json(app: &TestApp, who: &str, path: &str, body: &Value) -> (u16, Value) {
    app.put_raw(
        Some(who),
        path,
        "application/json",
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

async fn put_csv(app: &TestApp, who: &str, path: &str, text: &str) -> (u16, Value) {
    app.put_raw(Some(who), path, "text/csv", text.as_bytes().to_vec())
        .await
}

/// The audit entries about a year.
async fn audited(app: &TestApp, year: i32) -> Vec<String> {
    let (status, page) = app
        .get(
            Some("admin"),
            &format!("/api/v1/audit?object=calendar:{year}&limit=100"),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn day<'v>(calendar: &'v Value, date: &str) -> Option<&'v Value> {
    calendar["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
}

async fn a_shipped_year_shows_its_holidays_make_up_days_and_counts(app: &TestApp) {
    let (status, calendar) = app.get(Some("inspector"), "/api/v1/calendar/2024").await;
    assert_eq!(status, 200, "{calendar}");
    assert_eq!(calendar["known"], true);
    assert_eq!(calendar["time_zone"], "Asia/Shanghai");
    assert_eq!(
        calendar["working_hours"],
        json!(["08:30-12:00", "13:30-17:30"])
    );
    assert_eq!(calendar["working_minutes_per_day"], 450);
    // The State Council's 2024: 251 working days, 8 make-up Saturdays and Sundays.
    assert_eq!(calendar["working_days"], 251);
    assert_eq!(calendar["days_off"], 366 - 251);
    assert_eq!(calendar["make_up_workdays"], 8);
    assert_eq!(
        day(&calendar, "2024-02-12").unwrap(),
        &json!({"date": "2024-02-12", "name": "春节", "off": true, "kind": "holiday"})
    );
    assert_eq!(
        day(&calendar, "2024-02-04").unwrap()["kind"],
        "make_up_workday"
    );
    assert!(
        day(&calendar, "2024-03-09").is_none(),
        "a plain Saturday is not listed"
    );
    assert!(calendar["papers"][0]
        .as_str()
        .unwrap()
        .starts_with("https://www.gov.cn/"));

    // 2023's notice lists 2022-12-31, so 2022's page shows it too.
    let (_, y2022) = app.get(Some("operator"), "/api/v1/calendar/2022").await;
    assert_eq!(day(&y2022, "2022-12-31").unwrap()["name"], "元旦");

    // A year without a schedule is a plain week, and says so.
    let (status, plain) = app.get(Some("operator"), "/api/v1/calendar/2030").await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(plain["known"], false);
    assert_eq!(plain["days"], json!([]));
    assert_eq!(plain["working_days"], 261);

    for (path, field) in [
        ("/api/v1/calendar/1999", "year"),
        ("/api/v1/calendar/2101", "year"),
        ("/api/v1/calendar/twenty", "year"),
    ] {
        let (status, body) = app.get(Some("operator"), path).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_input");
        assert_eq!(body["error"]["field"], field);
    }
    let (status, _) = app.get(None, "/api/v1/calendar/2024").await;
    assert_eq!(status, 401);
}

async fn an_admin_imports_a_year_and_the_same_again_changes_nothing(app: &TestApp) {
    let (status, before) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    assert_eq!((status, &before["known"]), (200, &json!(false)));

    let (status, imported) =
        put_json(app, "admin", "/api/v1/calendar/2027", &schedule_2027()).await;
    assert_eq!(status, 200, "{imported}");
    assert_eq!(imported["result"], "imported");
    let (_, calendar) = app.get(Some("dispatcher"), "/api/v1/calendar/2027").await;
    assert_eq!(calendar, imported["calendar"]);
    assert_eq!(calendar["known"], true);
    assert_eq!(calendar["days"].as_array().unwrap().len(), 12);
    assert_eq!(
        day(&calendar, "2027-02-20").unwrap()["kind"],
        "make_up_workday"
    );
    // 261 weekdays; 1-1 and 2-5, 2-8..2-11 are off; two Saturdays/Sundays work.
    assert_eq!(calendar["holidays_on_weekdays"], 6);
    assert_eq!(calendar["working_days"], 261 - 6 + 2);
    assert_eq!(audited(app, 2027).await, ["calendar.import"]);

    // The same schedule again, in JSON or as CSV: unchanged, nothing written.
    let (status, again) = put_json(app, "admin", "/api/v1/calendar/2027", &schedule_2027()).await;
    assert_eq!(
        (status, &again["result"]),
        (200, &json!("unchanged")),
        "{again}"
    );
    let csv: String = std::iter::once("date,name,off".to_owned())
        .chain(schedule_2027()["days"].as_array().unwrap().iter().map(|d| {
            format!(
                "{},{},{}",
                d["date"].as_str().unwrap(),
                d["name"].as_str().unwrap(),
                d["isOffDay"]
            )
        }))
        .collect::<Vec<_>>()
        .join("\n");
    // A CSV names no notices, so it is a different schedule from the JSON with its paper.
    let (status, body) = put_csv(app, "admin", "/api/v1/calendar/2027", &csv).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(audited(app, 2027).await, ["calendar.import"]);
    let (_, after) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    assert_eq!(after, calendar);
}

async fn a_different_schedule_replaces_only_when_asked(app: &TestApp) {
    let (status, _) = put_json(app, "admin", "/api/v1/calendar/2027", &schedule_2027()).await;
    assert_eq!(status, 200);
    let (_, before) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    // The corrected notice: Feb 11 works after all.
    let mut corrected = schedule_2027();
    corrected["days"].as_array_mut().unwrap().remove(10);
    let (status, refused) = put_json(app, "admin", "/api/v1/calendar/2027", &corrected).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "calendar_conflict");
    assert_eq!(refused["error"]["field"], "year");
    let (_, unchanged) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    assert_eq!(unchanged, before);

    let (status, replaced) = put_json(
        app,
        "admin",
        "/api/v1/calendar/2027?replace=true",
        &corrected,
    )
    .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["result"], "replaced");
    assert_eq!(replaced["calendar"]["working_days"], 261 - 5 + 2);
    assert!(day(&replaced["calendar"], "2027-02-11").is_none());
    assert_eq!(
        audited(app, 2027).await,
        ["calendar.import", "calendar.replace"]
    );

    // CSV replaces the same way.
    let csv = "\u{feff}date,name,off\n2027-01-01,元旦,true\n";
    let (status, body) = put_csv(app, "admin", "/api/v1/calendar/2027?replace=true", csv).await;
    assert_eq!(
        (status, &body["result"]),
        (200, &json!("replaced")),
        "{body}"
    );
    assert_eq!(body["calendar"]["days"].as_array().unwrap().len(), 1);
    assert_eq!(body["calendar"]["papers"], json!([]));
}

async fn bad_files_are_refused_naming_the_fault_and_change_nothing(app: &TestApp) {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut file = schedule_2027();
        change(&mut file);
        file
    };
    let json_cases: [(&str, Value, u16, &str, &str); 7] = [
        (
            "a date twice",
            with(&|f| f["days"][4]["date"] = json!("2027-01-01")),
            422,
            "invalid_file",
            "days[4].date",
        ),
        (
            "a date outside the year",
            with(&|f| f["days"][2]["date"] = json!("2028-06-01")),
            422,
            "invalid_file",
            "days[2].date",
        ),
        (
            "no such date",
            with(&|f| f["days"][1]["date"] = json!("2027-02-30")),
            422,
            "invalid_file",
            "days[1].date",
        ),
        (
            "isOffDay not a boolean",
            with(&|f| f["days"][0]["isOffDay"] = json!("yes")),
            422,
            "invalid_file",
            "days[0].isOffDay",
        ),
        (
            "an empty name",
            with(&|f| f["days"][3]["name"] = json!("")),
            422,
            "invalid_file",
            "days[3].name",
        ),
        (
            "the file of another year",
            with(&|f| f["year"] = json!(2026)),
            422,
            "invalid_file",
            "year",
        ),
        (
            "no days",
            with(&|f| {
                f.as_object_mut().unwrap().remove("days");
            }),
            422,
            "invalid_file",
            "days",
        ),
    ];
    for (what, file, status, code, field) in json_cases {
        let (got, body) = put_json(app, "admin", "/api/v1/calendar/2027", &file).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert_eq!(body["error"]["field"], field, "{what}: {body}");
    }
    let csv_cases = [
        (
            "date,name,off\n2027-01-01,元旦,true\n2027-02-30,春节,true\n",
            "line 3: date",
        ),
        (
            "date,name,off\n2027-01-01,元旦,true\n2027-01-01,元旦,true\n",
            "line 3: date",
        ),
        (
            "date,name,off\n2027-01-01,元旦,true\n2026-06-01,端午节,true\n",
            "line 3: date",
        ),
        ("date,name,off\n2027-01-01,元旦,yes\n", "line 2: off"),
        ("date,name,off\n2027-01-01,,true\n", "line 2: name"),
        ("date,name\n2027-01-01,元旦\n", "line 1"),
        ("date,name,off\n2027-01-01,元旦\n", "line 2"),
    ];
    for (csv, field) in csv_cases {
        let (status, body) = put_csv(app, "admin", "/api/v1/calendar/2027", csv).await;
        assert_eq!(status, 422, "{csv}: {body}");
        assert_eq!(body["error"]["code"], "invalid_file", "{csv}: {body}");
        assert_eq!(body["error"]["field"], field, "{csv}: {body}");
    }
    let (status, body) = app
        .put_raw(
            Some("admin"),
            "/api/v1/calendar/2027",
            "text/plain",
            b"2027-01-01".to_vec(),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (415, &json!("unsupported_media_type"))
    );
    let (status, body) = put_csv(app, "admin", "/api/v1/calendar/1999", "date,name,off\n").await;
    assert_eq!((status, &body["error"]["field"]), (422, &json!("year")));
    let (status, body) = put_csv(
        app,
        "admin",
        "/api/v1/calendar/2027?replace=maybe",
        "date,name,off\n",
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_query"))
    );

    let (_, calendar) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    assert_eq!(calendar["known"], false);
    assert_eq!(audited(app, 2027).await, Vec::<String>::new());
}

async fn a_year_contradicting_its_neighbour_is_refused(app: &TestApp) {
    // Thursday 2026-12-31 is a working day in the shipped 2026; a 2027 that starts its New
    // Year holiday there contradicts it.
    let mut file = schedule_2027();
    file["days"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "元旦", "date": "2026-12-31", "isOffDay": true}));
    let (status, body) = put_json(app, "admin", "/api/v1/calendar/2027", &file).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "calendar_conflict");
    assert_eq!(body["error"]["field"], "2026-12-31");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("2026"),
        "{body}"
    );
    let (_, calendar) = app.get(Some("admin"), "/api/v1/calendar/2027").await;
    assert_eq!(calendar["known"], false);

    // Saturday 2027-01-02 being off agrees with a plain 2026 ... and with a 2028 that lists
    // nothing of 2027. A 2028 that makes Thursday 2027-12-30 a day off does not agree with
    // the 2027 just imported.
    let (status, _) = put_json(app, "admin", "/api/v1/calendar/2027", &schedule_2027()).await;
    assert_eq!(status, 200);
    let (status, body) = put_csv(
        app,
        "admin",
        "/api/v1/calendar/2028",
        "date,name,off\n2027-12-30,元旦,true\n2028-01-01,元旦,true\n",
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["field"], "2027-12-30");
    let (status, body) = put_csv(
        app,
        "admin",
        "/api/v1/calendar/2028",
        "date,name,off\n2028-01-01,元旦,true\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn only_an_admin_imports(app: &TestApp) {
    for (user, role, ..) in USERS {
        let (status, body) = put_json(app, user, "/api/v1/calendar/2027", &schedule_2027()).await;
        let want = if role == "admin" { 200 } else { 403 };
        assert_eq!(status, want, "{user} ({role}): {body}");
        if role == "admin" {
            // Import once, then check the others cannot replace it either.
            let mut other = schedule_2027();
            other["days"].as_array_mut().unwrap().truncate(1);
            for (user, role, ..) in USERS.iter().filter(|u| u.1 != "admin") {
                let (status, _) =
                    put_json(app, user, "/api/v1/calendar/2027?replace=true", &other).await;
                assert_eq!(status, 403, "{user} ({role})");
            }
        }
        // Every signed-in user reads the calendar.
        let (status, _) = app.get(Some(user), "/api/v1/calendar/2027").await;
        assert_eq!(status, 200, "{user}");
    }
    assert_eq!(audited(app, 2027).await, ["calendar.import"]);
}

/// Start-up seeds the shipped years a store lacks, never overwrites a stored one, and leaves
/// out a shipped year that contradicts what the city stored next to it.
#[tokio::test]
async fn seeding_keeps_the_citys_years_and_skips_a_contradicted_one() {
    use cityops_domain::{CalendarDay, HolidayYear};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cityops.db").display());
    let keys = cityops_store::PiiKeys::parse(&cityops_store::PiiKeys::new_key_line("k1")).unwrap();
    let store = cityops_store::open(&url, keys).await.unwrap();
    // The city's own 2023 starts its New Year holiday on Friday 2022-12-30, which the shipped
    // 2022 has as a working day.
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let own_2023 = HolidayYear::new(
        2023,
        vec![],
        vec![CalendarDay {
            date: date("2022-12-30"),
            name: "元旦".into(),
            off: true,
        }],
    )
    .unwrap();
    store.put_holiday_year(&own_2023, None).await.unwrap();

    let seeded = cityops::reference::seed_holiday_years(store.as_ref())
        .await
        .unwrap();
    assert_eq!(seeded, 5);
    let years: Vec<i32> = store
        .holiday_years()
        .await
        .unwrap()
        .iter()
        .map(|y| y.year)
        .collect();
    assert_eq!(years, [2020, 2021, 2023, 2024, 2025, 2026]);
    assert_eq!(store.holiday_year(2023).await.unwrap(), Some(own_2023));
    // Idempotent: the next start seeds nothing.
    assert_eq!(
        cityops::reference::seed_holiday_years(store.as_ref())
            .await
            .unwrap(),
        0
    );
}
