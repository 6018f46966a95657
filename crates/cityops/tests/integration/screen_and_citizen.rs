//! What the city screen and the citizen page read: statistics, boundaries, the live stream,
//! the public report-follow-rate flow, and the embedded UI's routing.

use cityops_test_support::{on_both_backends, TestApp};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    statistics_count_open_overdue_and_today_per_district_and_rank_them,
    a_citizen_reports_follows_adds_a_photo_and_rates_the_closed_case,
    the_live_stream_delivers_changes_within_the_subscribers_jurisdiction,
);

async fn close_a_case(app: &TestApp, case: &Value) -> Value {
    let mut case = app.ok("operator", case, "accept", json!({})).await;
    if case["source"] != "inspector" {
        case = app.verified(&case).await;
    }
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
        .await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let case = app.ok("water", &case, "sign", json!({})).await;
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已处理"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    app.ok("lead", &case, "close", json!({})).await
}

async fn statistics_count_open_overdue_and_today_per_district_and_rank_them(app: &TestApp) {
    let first = app.report("operator", "hotline").await;
    app.report("operator", "inspector").await;
    let closed = app.report("operator", "inspector").await;
    close_a_case(app, &closed).await;
    let huangpu = app.ok("operator", &first, "accept", json!({})).await;
    let huangpu = app.verified(&huangpu).await;
    app.ok("lead", &huangpu, "file", json!({"category": "20406"}))
        .await;

    let (status, city) = app.get(Some("operator"), "/api/v1/stats").await;
    assert_eq!(status, 200, "{city}");
    assert_eq!(city["area"]["code"], "310000");
    assert_eq!(city["totals"]["open"], 2);
    assert_eq!(city["totals"]["reported_today"], 3);
    assert_eq!(city["totals"]["closed_today"], 1);
    assert_eq!(city["totals"]["urgent"], 1, "road flooding is urgent");
    assert_eq!(city["by_child"].as_array().unwrap().len(), 16);
    let row = city["by_child"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "310101")
        .unwrap();
    assert_eq!(row["name"], "黄浦区");
    assert_eq!(row["open"], 2);
    assert_eq!(
        city["today_by_source"],
        json!([{"source": "hotline", "count": 1}, {"source": "inspector", "count": 2}])
    );
    let top = &city["top_categories"][0];
    assert_eq!(
        (top["code"].as_str(), top["zh"].as_str()),
        (Some("20406"), Some("道路积水"))
    );
    // The districts ranked on the evaluation of the last 30 days: Huangpu had one case handled
    // and closed on time, another filed and not yet handled (not due); two filed, one of them a
    // citizen's hotline call verified (share 0.5, the top band 1.0), two filings a month (band
    // 0.4): 100 × (0.10 × 1.0 + 0.20 × 0.4 + 0.30 × 1 + 0.40 × 1) = 88, B.
    let ranking = city["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 1);
    assert_eq!(ranking[0]["code"], "310101");
    assert_eq!(ranking[0]["due"], 1);
    assert_eq!(ranking[0]["closing_rate"], 1.0);
    assert_eq!(ranking[0]["score"], 88.0);
    assert_eq!(ranking[0]["grade"], "B");
    // A unit handler's screen ranks no areas.
    let (_, water) = app.get(Some("water"), "/api/v1/stats").await;
    assert_eq!(water["ranking"], json!([]));

    let (_, district) = app.get(Some("operator"), "/api/v1/stats?area=310101").await;
    assert_eq!(district["area"]["level"], "district");
    let street = district["by_child"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "310101002")
        .unwrap();
    assert_eq!(street["open"], 2);
    // Outside the caller's jurisdiction an area does not exist.
    let (status, _) = app
        .get(Some("xuhui_operator"), "/api/v1/stats?area=310101")
        .await;
    assert_eq!(status, 404);
    let (_, xuhui) = app.get(Some("xuhui_operator"), "/api/v1/stats").await;
    assert_eq!(xuhui["totals"]["open"], 0);

    // The open counts the screen sums are kept as the cases moved: they equal the case
    // table's; lost, the check names them and a rebuild brings the screen back.
    let checked = crate::outbox::cli(app, &["screen", "check"]);
    assert!(checked.contains("match the case table"), "{checked}");
    app.store
        .replace_open_tallies(&Default::default())
        .await
        .unwrap();
    let (_, emptied) = app.get(Some("operator"), "/api/v1/stats").await;
    assert_eq!(emptied["totals"]["open"], 0);
    let failed = std::process::Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(["screen", "check", "--data-dir"])
        .arg(&app.data_dir)
        .args(["--database", &app.database_url])
        .env("CITYOPS_LOG_FILTER", "warn")
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(
        said.contains("310101") && said.contains("kept 0, cases 1"),
        "{said}"
    );
    let rebuilt = crate::outbox::cli(app, &["screen", "rebuild"]);
    assert!(rebuilt.contains("rebuilt"), "{rebuilt}");
    let (_, again) = app.get(Some("operator"), "/api/v1/stats").await;
    assert_eq!(again["totals"], city["totals"]);
    assert_eq!(again["by_child"], city["by_child"]);
}

async fn a_citizen_reports_follows_adds_a_photo_and_rates_the_closed_case(app: &TestApp) {
    let (status, receipt) = app
        .public_report(json!({
            "description": "南京东路步行街上有个井盖松动了，踩上去会响",
            "location": {"lon": 121.4837, "lat": 31.2369},
            "contact": {"name": "刘女士", "phone": "13812345678"},
        }))
        .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["number"].as_str().unwrap().to_owned();
    let token = receipt["follow_token"].as_str().unwrap().to_owned();
    assert!(number.starts_with("310101"), "located in Huangpu: {number}");

    let (_, staff_view) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert_eq!(staff_view["source"], "photo");
    assert_eq!(staff_view["reporter_phone"], "138****5678");
    assert_eq!(staff_view["reporter_name"], "刘**");

    let path = format!("/api/v1/public/cases/{number}");
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("13812345678") && !text.contains("5678") && !text.contains("刘"),
        "{text}"
    );
    let public: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(public["state"], "reported");
    assert_eq!(public["can_rate"], false);
    // The number alone shows the state; the details need the follow token.
    assert_eq!(
        (&public["details"], &public["description"]),
        (&json!(false), &Value::Null)
    );
    let (_, followed) = app.get(None, &format!("{path}?token={token}")).await;
    assert_eq!(followed["details"], true, "{followed}");
    assert!(followed["description"]
        .as_str()
        .unwrap()
        .contains("井盖松动"));
    let (status, error) = app.get(None, &format!("{path}?token=wrong")).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (403, Some("token"))
    );

    let png = {
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 8, image::Rgb([9, 9, 9])))
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    };
    let photos = format!("{path}/photos");
    let (status, _) = app
        .post_raw(
            None,
            &format!("{photos}?token=wrong"),
            "image/png",
            png.clone(),
        )
        .await;
    assert_eq!(status, 403);
    let (status, photo) = app
        .post_raw(None, &format!("{photos}?token={token}"), "image/png", png)
        .await;
    assert_eq!(status, 201, "{photo}");

    let (status, error) = app
        .post_json(
            None,
            &format!("{path}/rating"),
            json!({"token": token, "score": 5}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("transition_not_allowed"))
    );

    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert_eq!(case["attachments"].as_array().unwrap().len(), 1);
    close_a_case(app, &case).await;
    let (_, public) = app.get(None, &format!("{path}?token={token}")).await;
    assert_eq!(public["state"], "closed");
    assert_eq!(public["can_rate"], true);
    // The class in both languages, the English name from the catalogue.
    let filed = case_class(app, &number).await;
    assert_eq!(public["category_zh"], filed["zh"], "{public}");
    assert_eq!(public["category_en"], filed["en"], "{public}");
    assert!(public["category_en"]
        .as_str()
        .is_some_and(|en| !en.is_empty()));
    let (status, error) = app
        .post_json(
            None,
            &format!("{path}/rating"),
            json!({"token": "nope", "score": 5}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (403, Some("token"))
    );
    let (status, rated) = app
        .post_json(
            None,
            &format!("{path}/rating"),
            json!({"token": token, "score": 5, "comment": "很快就修好了"}),
        )
        .await;
    assert_eq!(status, 200, "{rated}");
    assert_eq!(rated["rating"]["score"], 5);
    assert_eq!(rated["can_rate"], false);
    assert_eq!(
        rated["steps"].as_array().unwrap().last().unwrap()["action"],
        "rate"
    );
    let (status, _) = app
        .post_json(
            None,
            &format!("{path}/rating"),
            json!({"token": token, "score": 1}),
        )
        .await;
    assert_eq!(status, 409, "a case is rated once");
    let (_, staff_view) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert_eq!(staff_view["rating"]["score"], 5);
}

/// Reads SSE `case` events from `response` until one satisfies `want`.
async fn next_case_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
) -> Value {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: case") {
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn the_live_stream_delivers_changes_within_the_subscribers_jurisdiction(app: &TestApp) {
    let (status, _) = app.get(None, "/api/v1/stream").await;
    assert_eq!(status, 401);
    let open = |who: &str| {
        app.client
            .get(format!(
                "{}/api/v1/stream?access_token={}",
                app.base, app.tokens[who]
            ))
            .send()
    };
    let city = open("operator").await.unwrap();
    assert_eq!(city.headers()["content-type"], "text/event-stream");
    let xuhui = open("xuhui_operator").await.unwrap();
    let mut city = city.bytes_stream();
    let mut xuhui = xuhui.bytes_stream();
    let (mut city_buffer, mut xuhui_buffer) = (String::new(), String::new());

    let huangpu_case = app.report("operator", "hotline").await;
    let (_, xuhui_case) = app
        .post_json(
            Some("xuhui_operator"),
            "/api/v1/cases",
            json!({"source": "photo", "description": "徐家汇天桥下堆放垃圾", "location": {"lon": 121.437, "lat": 31.195}, "area": "310104"}),
        )
        .await;
    let event = next_case_event(&mut city, &mut city_buffer).await;
    assert_eq!(event["number"], huangpu_case["number"]);
    assert_eq!(event["action"], "report");
    assert_eq!(event["state_zh"], "待受理");
    let event = next_case_event(&mut city, &mut city_buffer).await;
    assert_eq!(event["number"], xuhui_case["number"]);
    // Xuhui's operator never hears of the Huangpu case: the first event is Xuhui's own.
    let event = next_case_event(&mut xuhui, &mut xuhui_buffer).await;
    assert_eq!(event["number"], xuhui_case["number"]);
    let accepted = app.ok("operator", &huangpu_case, "accept", json!({})).await;
    let event = next_case_event(&mut city, &mut city_buffer).await;
    assert_eq!(
        (event["action"].as_str(), event["state"].as_str()),
        (Some("accept"), Some("accepted"))
    );
    assert_eq!(event["id"], accepted["id"]);
}

#[tokio::test]
async fn boundaries_are_public_geojson_and_the_ui_never_answers_api_paths() {
    let app = TestApp::spawn(cityops_test_support::Backend::Sqlite)
        .await
        .unwrap();
    let (status, districts) = app.get(None, "/api/v1/geo/areas?level=district").await;
    assert_eq!(status, 200);
    assert_eq!(districts["type"], "FeatureCollection");
    let names: Vec<&str> = districts["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 16);
    assert!(names.contains(&"崇明区"));
    let (status, streets) = app.get(None, "/api/v1/geo/areas?level=street").await;
    assert_eq!(status, 200);
    assert_eq!(streets["features"].as_array().unwrap().len(), 234);
    let (status, error) = app.get(None, "/api/v1/geo/areas?level=planet").await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("level"))
    );

    for page in ["/", "/screen", "/cases/abc", "/citizen/3101012026112500001"] {
        let response = app
            .client
            .get(format!("{}{page}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(response.headers()["cache-control"], "no-cache");
    }
    for api in ["/api/nothing", "/api/v1/nothing", "/api"] {
        let (status, body) = app.get(None, api).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{api}"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn points_resolve_to_grid_community_street_and_district_and_layers_serve_the_generated_city()
{
    let app = TestApp::spawn(cityops_test_support::Backend::Sqlite)
        .await
        .unwrap();
    // The Bund, in WGS-84 and as AMap shows it (GCJ-02).
    let (status, here) = app
        .get(None, "/api/v1/geo/locate?lon=121.4860&lat=31.2380")
        .await;
    assert_eq!(status, 200, "{here}");
    assert_eq!(here["district"]["name"], "黄浦区");
    let grid = here["unit_grid"].as_str().unwrap();
    assert_eq!(grid.len(), 14);
    assert!(grid.starts_with(here["community"]["code"].as_str().unwrap()));
    assert!(here["community"]["name"].is_string() && here["street"]["name"].is_string());
    let gcj = cityops_geo::crs::wgs84_to_gcj02(121.4860, 31.2380);
    let (_, same) = app
        .get(
            None,
            &format!("/api/v1/geo/locate?lon={}&lat={}&crs=gcj02", gcj.0, gcj.1),
        )
        .await;
    assert_eq!(same["unit_grid"], here["unit_grid"]);
    let (status, error) = app
        .get(None, "/api/v1/geo/locate?lon=116.39&lat=39.91")
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (404, Some("location")),
        "Beijing is not in Shanghai"
    );

    let (_, streets) = app
        .get(None, "/api/v1/geo/areas?level=street&parent=310101")
        .await;
    let streets = streets["features"].as_array().unwrap();
    let (_, known) = app
        .get(Some("operator"), "/api/v1/areas?parent=310101")
        .await;
    assert_eq!(streets.len(), known.as_array().unwrap().len());
    assert!(streets
        .iter()
        .all(|s| s["properties"]["name"].is_string() && s["geometry"]["type"] == "MultiPolygon"));
    let (_, grids) = app
        .get(
            None,
            "/api/v1/geo/areas?level=grid&bbox=121.48,31.23,121.49,31.24",
        )
        .await;
    let grids = grids["features"].as_array().unwrap();
    assert!(
        grids.len() > 20 && grids.len() < 400,
        "{} grids in a 1 km box",
        grids.len()
    );
    assert!(grids
        .iter()
        .any(|g| g["properties"]["code"] == here["unit_grid"]));
    let (status, _) = app.get(None, "/api/v1/geo/areas?level=grid").await;
    assert_eq!(status, 422, "all grids of the city at once is refused");
    let (status, error) = app
        .get(None, "/api/v1/geo/areas?level=grid&bbox=1,2,3")
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("bbox"))
    );

    let (_, geometry) = app.get(None, &format!("/api/v1/geo/areas/{grid}")).await;
    assert_eq!(geometry["level"], "grid");
    let [min_lon, min_lat, max_lon, max_lat] =
        [0, 1, 2, 3].map(|i| geometry["bbox"][i].as_f64().unwrap());
    assert!(min_lon <= 121.4860 && 121.4860 <= max_lon && min_lat <= 31.2380 && 31.2380 <= max_lat);
    let (status, _) = app.get(None, "/api/v1/geo/areas/310101002").await;
    assert_eq!(status, 200);

    // A report without an area code is placed by its location.
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "外滩观景平台栏杆松动", "location": {"lon": 121.4860, "lat": 31.2380}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["area"], here["community"]["code"]);
    assert_eq!(case["unit_grid"], here["unit_grid"]);
    app.finish().await;
}

/// Signing out ends an open live stream within seconds.
#[tokio::test]
async fn signing_out_ends_the_live_stream() {
    let app = TestApp::spawn(cityops_test_support::Backend::Sqlite)
        .await
        .unwrap();
    let (status, session) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": "leader", "password": cityops_test_support::PASSWORD}),
        )
        .await;
    assert_eq!(status, 201);
    let token = session["token"].as_str().unwrap().to_owned();
    let response = app
        .client
        .get(format!("{}/api/v1/stream?access_token={token}", app.base))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let out = app
        .client
        .delete(format!("{}/api/v1/sessions/current", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream was still open 15 s after signing out"
    );
    app.finish().await;
}

/// The catalogue's entry for the class a case was filed under.
async fn case_class(app: &TestApp, number: &str) -> Value {
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    let code = case["category"]["code"].as_str().unwrap().to_owned();
    let (status, class) = app
        .get(Some("operator"), &format!("/api/v1/categories/{code}"))
        .await;
    assert_eq!(status, 200, "{class}");
    class
}
