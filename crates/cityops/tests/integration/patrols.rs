//! Patrols over HTTP: an inspector goes on duty, their phone sends positions (twice, out of
//! order, after going off duty), and the shift lead over their jurisdiction reads the track,
//! each read on the audit log; nobody else sees it, and bad positions change nothing. A photo
//! sent again by a phone that did not hear the answer is attached once.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_inspectors_patrol_is_tracked_and_read_by_those_over_them,
    bad_positions_are_refused_and_change_nothing,
    a_photo_sent_twice_is_attached_once,
    a_phones_report_keeps_the_accuracy_of_its_position,
);

/// `n` positions eastwards along 南京东路, ten seconds apart, ending `end_seconds_ago`: each
/// step is 0.001° of longitude, about 95 m.
fn walk(n: usize, end_seconds_ago: i64, accuracy_m: f64) -> Vec<Value> {
    let end = chrono::Utc::now() - chrono::Duration::seconds(end_seconds_ago);
    (0..n)
        .map(|i| {
            let at = end - chrono::Duration::seconds(10 * (n - 1 - i) as i64);
            json!({"at": at.to_rfc3339(), "lon": 121.478 + 0.001 * i as f64,
                   "lat": 31.2385, "accuracy_m": accuracy_m})
        })
        .collect()
}

async fn go_on_duty(app: &TestApp) -> Value {
    let (status, patrol) = app
        .post_json(Some("inspector"), "/api/v1/patrols", json!({}))
        .await;
    assert_eq!(status, 201, "{patrol}");
    patrol
}

async fn send(app: &TestApp, who: &str, id: &str, positions: Vec<Value>) -> (u16, Value) {
    app.post_json(
        Some(who),
        &format!("/api/v1/patrols/{id}/positions"),
        json!({ "positions": positions }),
    )
    .await
}

async fn an_inspectors_patrol_is_tracked_and_read_by_those_over_them(app: &TestApp) {
    // Only an inspector goes on patrol, and only once at a time.
    let (status, refused) = app
        .post_json(Some("operator"), "/api/v1/patrols", json!({}))
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("role_not_allowed")),
        "{refused}"
    );
    let patrol = go_on_duty(app).await;
    let id = patrol["id"].as_str().unwrap().to_owned();
    assert_eq!(patrol["username"], "inspector");
    assert_eq!(patrol["area"], "310101");
    assert_eq!(patrol["interval_seconds"], 30);
    assert!(patrol["ended_at"].is_null() && patrol["last"].is_null());
    let (status, again) = app
        .post_json(Some("inspector"), "/api/v1/patrols", json!({}))
        .await;
    assert_eq!((status, again["id"].as_str()), (200, Some(id.as_str())));

    // Five positions sent once, then again with a sixth: the second time adds only it.
    // Positions a few seconds before going on duty are the phone's clock, and are taken.
    let track = walk(6, 60, 8.0);
    let (status, first) = send(app, "inspector", &id, track[..5].to_vec()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["accepted"], 5);
    assert_eq!(first["patrol"]["positions"], 5);
    let four_steps = first["patrol"]["distance_m"].as_f64().unwrap();
    assert!((370.0..390.0).contains(&four_steps), "{first}");
    let mut resent = track.clone();
    resent.reverse();
    let (status, second) = send(app, "inspector", &id, resent).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["accepted"], 1);
    assert_eq!(second["patrol"]["positions"], 6);
    let five_steps = second["patrol"]["distance_m"].as_f64().unwrap();
    assert!((five_steps - four_steps * 1.25).abs() < 1.0, "{second}");
    assert_eq!(second["patrol"]["last"]["lon"], track[5]["lon"]);

    // Standing at the last kerb with a few metres of noise walks nowhere.
    let now = chrono::Utc::now();
    let standing: Vec<Value> = [0.00003, -0.00004]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"at": (now - chrono::Duration::seconds(20 - 10 * i as i64)).to_rfc3339(),
                   "lon": 121.483 + d, "lat": 31.2385 - d, "accuracy_m": 15.0})
        })
        .collect();
    let (_, still) = send(app, "inspector", &id, standing).await;
    assert_eq!(still["patrol"]["positions"], 8);
    assert_eq!(
        still["patrol"]["distance_m"],
        second["patrol"]["distance_m"]
    );

    // Off duty; again changes nothing; positions taken before the end still arrive.
    let (status, ended) = app
        .post_json(
            Some("inspector"),
            &format!("/api/v1/patrols/{id}/end"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{ended}");
    assert!(ended["ended_at"].is_string());
    let (_, again) = app
        .post_json(
            Some("inspector"),
            &format!("/api/v1/patrols/{id}/end"),
            json!({}),
        )
        .await;
    assert_eq!(again["ended_at"], ended["ended_at"]);
    let late = json!({"at": (now - chrono::Duration::seconds(5)).to_rfc3339(),
                      "lon": 121.4831, "lat": 31.2386, "accuracy_m": 5.0});
    let (status, after) = send(app, "inspector", &id, vec![late]).await;
    assert_eq!(
        (status, after["accepted"].as_u64()),
        (200, Some(1)),
        "{after}"
    );

    // The inspector lists their own; the shift lead over Huangpu lists and reads the track.
    let (_, own) = app.get(Some("inspector"), "/api/v1/patrols").await;
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own[0]["positions"], 9);
    let (status, refused) = app
        .get(Some("inspector"), "/api/v1/patrols?user=lead")
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (403, Some("user"))
    );
    let (status, listed) = app
        .get(Some("huangpu_lead"), "/api/v1/patrols?user=inspector")
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["id"], id.as_str());
    let (_, nobody) = app
        .get(Some("huangpu_lead"), "/api/v1/patrols?user=nobody-at-all")
        .await;
    assert_eq!(nobody, json!([]));
    let (_, on_duty) = app
        .get(Some("huangpu_lead"), "/api/v1/patrols?open=true")
        .await;
    assert_eq!(on_duty, json!([]), "the inspector is off duty");

    let audited = |body: Value| body["items"].as_array().unwrap().clone();
    let (_, before) = app
        .get(Some("auditor"), "/api/v1/audit?action=patrol.read")
        .await;
    let before = audited(before);
    let (status, feature) = app
        .get(Some("huangpu_lead"), &format!("/api/v1/patrols/{id}"))
        .await;
    assert_eq!(status, 200, "{feature}");
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["geometry"]["type"], "LineString");
    let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coordinates.len(), 9);
    assert_eq!(coordinates[0], json!([121.478, 31.2385]));
    let times: Vec<&str> = feature["properties"]["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 9);
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(feature["properties"]["username"], "inspector");
    assert_eq!(feature["properties"]["accuracy_m"][0], 8.0);
    let (_, after) = app
        .get(Some("auditor"), "/api/v1/audit?action=patrol.read")
        .await;
    let read = audited(after);
    assert_eq!(read.len(), before.len() + 1, "{read:?}");
    assert!(
        read.iter().any(|e| e["object"] == format!("patrol:{id}")
            && e["actor"].as_str().unwrap().contains("huangpu_lead")
            && e["detail"].as_str().unwrap().contains("inspector")),
        "{read:?}"
    );
    // The inspector reading their own track is not a read of someone else's whereabouts.
    let (status, _) = app
        .get(Some("inspector"), &format!("/api/v1/patrols/{id}"))
        .await;
    assert_eq!(status, 200);
    let (_, unchanged) = app
        .get(Some("auditor"), "/api/v1/audit?action=patrol.read")
        .await;
    assert_eq!(audited(unchanged).len(), read.len());
    let (_, started) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?object=patrol:{id}&action=patrol.start"),
        )
        .await;
    assert_eq!(audited(started.clone()).len(), 1, "{started}");

    // Nobody else: a dispatcher, a unit, a shift lead of another district.
    for who in ["dispatcher", "water", "evaluator"] {
        let (status, body) = app.get(Some(who), "/api/v1/patrols").await;
        assert_eq!(status, 403, "{who}: {body}");
        let (status, body) = app.get(Some(who), &format!("/api/v1/patrols/{id}")).await;
        assert_eq!(status, 404, "{who}: {body}");
    }
    let (status, user) = app
        .post_json(
            Some("admin"),
            "/api/v1/users",
            json!({"username": "xuhui-lead", "display_name": "徐汇值班长", "role": "shift_lead",
                   "scope": "310104", "password": "patrol-lead-2026!"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let token = sign_in(app, "xuhui-lead", "patrol-lead-2026!").await;
    let client = reqwest::Client::new();
    let listed: Value = client
        .get(format!("{}/api/v1/patrols", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let status = client
        .get(format!("{}/api/v1/patrols/{id}", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);

    // Back on duty is a new patrol.
    let next = go_on_duty(app).await;
    assert_ne!(next["id"], id.as_str());
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let (status, session) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    session["token"].as_str().unwrap().to_owned()
}

async fn bad_positions_are_refused_and_change_nothing(app: &TestApp) {
    let patrol = go_on_duty(app).await;
    let id = patrol["id"].as_str().unwrap().to_owned();
    let (_, first) = send(app, "inspector", &id, walk(2, 0, 10.0)).await;
    assert_eq!(first["accepted"], 2, "{first}");
    let good = walk(1, 0, 10.0).remove(0);
    let with = |field: &str, value: Value| {
        let mut position = good.clone();
        position[field] = value;
        position
    };
    let hour = chrono::Duration::hours(1);
    let cases: Vec<(Vec<Value>, u16, &str)> = vec![
        (vec![], 422, "positions"),
        (vec![good.clone(); 501], 422, "positions"),
        // Beijing's Tiananmen: not in this city.
        (
            vec![good.clone(), with("lon", json!(116.3975))],
            422,
            "positions[1].lon",
        ),
        (vec![with("lat", json!(95.0))], 422, "positions[0].lat"),
        (
            vec![with("accuracy_m", json!(-1.0))],
            422,
            "positions[0].accuracy_m",
        ),
        (
            vec![with("accuracy_m", json!(9000.0))],
            422,
            "positions[0].accuracy_m",
        ),
        (
            vec![with("at", json!((chrono::Utc::now() + hour).to_rfc3339()))],
            422,
            "positions[0].at",
        ),
        (
            vec![with(
                "at",
                json!((chrono::Utc::now() - hour * 24).to_rfc3339()),
            )],
            422,
            "positions[0].at",
        ),
        (vec![with("at", json!("yesterday"))], 422, ""),
        (vec![with("heading", json!(90))], 422, ""),
    ];
    for (positions, status, field) in cases {
        let (got, body) = send(app, "inspector", &id, positions.clone()).await;
        assert_eq!(got, status, "{positions:?}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{positions:?}: {body}");
        }
    }
    // Another person's patrol is not theirs to write; an unknown one is not found.
    let (status, _) = send(app, "huangpu_lead", &id, vec![good.clone()]).await;
    assert_eq!(status, 403);
    let (status, _) = send(app, "inspector", "no-such-patrol", vec![good.clone()]).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_json(
            Some("huangpu_lead"),
            &format!("/api/v1/patrols/{id}/end"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .get(
            Some("huangpu_lead"),
            "/api/v1/patrols?from=2026-03-02&to=2026-03-01",
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("from"))
    );
    let (status, body) = app
        .get(
            Some("huangpu_lead"),
            "/api/v1/patrols?from=2026-01-01&to=2026-03-01",
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("to")));

    let (_, feature) = app
        .get(Some("inspector"), &format!("/api/v1/patrols/{id}"))
        .await;
    assert_eq!(feature["properties"]["positions"], 2, "{feature}");
    assert_eq!(feature["properties"]["ended_at"], Value::Null);
}

async fn a_photo_sent_twice_is_attached_once(app: &TestApp) {
    let case = app.report("inspector", "inspector").await;
    let id = case["id"].as_str().unwrap();
    let photo = crate::photos::jpeg(48, 32);
    let path = format!("/api/v1/cases/{id}/attachments?version=1&file_name=kerb.jpg");
    let (status, first) = app
        .post_raw(Some("inspector"), &path, "image/jpeg", photo.clone())
        .await;
    assert_eq!(status, 201, "{first}");
    // The answer was lost: the phone sends the same photo with the version it knew.
    let (status, again) = app
        .post_raw(Some("inspector"), &path, "image/jpeg", photo)
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    let (_, list) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}/attachments"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // Another photo with the stale version is a conflict, as before.
    let (status, body) = app
        .post_raw(
            Some("inspector"),
            &path,
            "image/jpeg",
            crate::photos::jpeg(40, 40),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

/// The phone's report says how far off its GPS position may be; the case keeps it, and an
/// accuracy that is no distance is refused naming the field, with no case opened.
async fn a_phones_report_keeps_the_accuracy_of_its_position(app: &TestApp) {
    let report = |accuracy: Value| {
        json!({"source": "inspector", "description": "精度测试：南京东路井盖松动",
               "location": {"lon": 121.4919, "lat": 31.2150}, "area": "310101002001",
               "location_accuracy_m": accuracy})
    };
    let (status, case) = app
        .post_json(Some("inspector"), "/api/v1/cases", report(json!(12.5)))
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["location_accuracy_m"], 12.5);
    let (_, read) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(read["location_accuracy_m"], 12.5);
    for bad in [json!(-1.0), json!(6000.0), json!("near")] {
        let (status, body) = app
            .post_json(Some("inspector"), "/api/v1/cases", report(bad.clone()))
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(
            body["error"]["field"]
                .as_str()
                .is_some_and(|f| f.contains("location_accuracy_m")),
            "{bad}: {body}"
        );
    }
    let (_, list) = app
        .get(
            Some("operator"),
            "/api/v1/cases?q=%E7%B2%BE%E5%BA%A6%E6%B5%8B%E8%AF%95",
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}
