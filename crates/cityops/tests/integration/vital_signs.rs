//! Digital vital signs end to end: devices, HTTP and MQTT ingestion, rules, alarms that open
//! routed cases, incidents, vital signs, dead letters, restarts of CityOps and of the broker.

use chrono::{Duration, Utc};
use cityops_test_support::mqtt::mqtt_url;
use cityops_test_support::{on_both_backends, Backend, TestApp};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

on_both_backends!(
    an_alarm_opens_a_routed_case_and_nearby_alarms_join_it,
    bad_readings_are_counted_kept_and_never_stop_the_pipeline,
    rules_change_through_the_api_without_restart,
);

/// A gas detector near Nanjing Road East, Huangpu.
async fn register(app: &TestApp, id: &str, lon: f64) -> Value {
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": id, "kind": "gas_detector", "name": "南京东路燃气监测点", "location": {"lon": lon, "lat": 31.2369}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    device
}

fn reading(device: &str, metric: &str, value: f64, at: chrono::DateTime<Utc>) -> Value {
    json!({"device": device, "metric": metric, "value": value, "ts": at.to_rfc3339()})
}

async fn ingest(app: &TestApp, readings: Value) -> Value {
    let (status, report) = app
        .post_json(Some("admin"), "/api/v1/telemetry", readings)
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

/// Polls `path` until `done` holds (the pipeline opens cases right after its commit).
async fn eventually(app: &TestApp, who: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (status, body) = app.get(Some(who), path).await;
        if status == 200 && done(&body) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{path} never reached the expected state: {}",
        app.get(Some(who), path).await.1
    );
}

fn alarm_of<'a>(alarms: &'a Value, device: &str, rule: &str) -> Option<&'a Value> {
    alarms
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["device_id"] == device && a["rule_id"] == rule)
}

async fn an_alarm_opens_a_routed_case_and_nearby_alarms_join_it(app: &TestApp) {
    let first = register(app, "HP-GAS-1", 121.4837).await;
    assert!(
        first["area"].as_str().unwrap().starts_with("310101"),
        "{first}"
    );
    assert_eq!(first["unit_grid"].as_str().unwrap().len(), 14);
    register(app, "HP-GAS-2", 121.4847).await;
    let t0 = Utc::now() - Duration::seconds(60);
    let batch = json!([
        reading("HP-GAS-1", "gas_concentration", 2.0, t0),
        reading(
            "HP-GAS-1",
            "gas_concentration",
            30.0,
            t0 + Duration::seconds(10)
        )
    ]);
    let report = ingest(app, batch.clone()).await;
    assert_eq!(report["accepted"], 2, "{report}");
    // A redelivered batch changes nothing.
    let report = ingest(app, batch).await;
    assert_eq!(
        (report["accepted"].as_u64(), report["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{report}"
    );

    let alarms = eventually(app, "operator", "/api/v1/alarms?active=true", |a| {
        alarm_of(a, "HP-GAS-1", "gas-danger").is_some_and(|a| a["case_id"].is_string())
    })
    .await;
    let alarm = alarm_of(&alarms, "HP-GAS-1", "gas-danger").unwrap().clone();
    assert_eq!(alarm["level"], "red");
    assert_eq!(alarm["state"], "active_unacknowledged");
    let case_id = alarm["case_id"].as_str().unwrap().to_owned();
    // The link is committed with the alarm; the case desk writes the case right after.
    let case = eventually(app, "operator", &format!("/api/v1/cases/{case_id}"), |c| {
        c["id"] == case_id.as_str()
    })
    .await;
    assert_eq!(case["source"], "iot");
    assert_eq!(
        case["category_hint"], "20403",
        "classified by the indicator's category: {case}"
    );
    assert_eq!(case["area"], first["area"]);
    assert_eq!(case["unit_grid"], first["unit_grid"]);
    let (status, routing) = app
        .get(
            Some("dispatcher"),
            &format!("/api/v1/cases/{case_id}/routing"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        routing["unit"]
            .as_str()
            .is_some_and(|u| u.starts_with("310101")),
        "routed to a Huangpu unit: {routing}"
    );

    // The neighbour's alarm is the same incident: it joins the case instead of opening one.
    ingest(
        app,
        json!([reading(
            "HP-GAS-2",
            "gas_concentration",
            40.0,
            t0 + Duration::seconds(20)
        )]),
    )
    .await;
    let alarms = eventually(app, "operator", "/api/v1/alarms?active=true", |a| {
        alarm_of(a, "HP-GAS-2", "gas-danger").is_some_and(|a| a["case_id"].is_string())
    })
    .await;
    assert_eq!(
        alarm_of(&alarms, "HP-GAS-2", "gas-danger").unwrap()["case_id"],
        case_id.as_str()
    );
    let (_, iot_cases) = app.get(Some("operator"), "/api/v1/cases?source=iot").await;
    assert_eq!(
        iot_cases["items"].as_array().map(Vec::len),
        Some(1),
        "{iot_cases}"
    );

    // A repeat updates the alarm; clearing it notes the case.
    ingest(
        app,
        json!([
            reading(
                "HP-GAS-1",
                "gas_concentration",
                35.0,
                t0 + Duration::seconds(25)
            ),
            reading(
                "HP-GAS-1",
                "gas_concentration",
                3.0,
                t0 + Duration::seconds(30)
            )
        ]),
    )
    .await;
    let id = alarm["id"].as_str().unwrap();
    let cleared = eventually(app, "operator", &format!("/api/v1/alarms/{id}"), |a| {
        a["active"] == false
    })
    .await;
    assert_eq!(cleared["max_value"], 35.0);
    assert_eq!(cleared["state"], "cleared_unacknowledged");
    let timeline = eventually(
        app,
        "operator",
        &format!("/api/v1/cases/{case_id}/timeline"),
        |t| {
            t.as_array().unwrap().iter().any(|e| {
                e["action"] == "note" && e["details"]["text"].as_str().unwrap().contains("已解除")
            })
        },
    )
    .await;
    let notes: Vec<&Value> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "note")
        .collect();
    assert!(
        notes
            .iter()
            .any(|e| e["details"]["text"].as_str().unwrap().contains("并入")),
        "{timeline}"
    );
    assert!(notes.iter().all(|e| e["role"] == "system"));

    // Acknowledged once, by someone who may.
    let path = format!("/api/v1/alarms/{id}/acknowledge");
    let (status, _) = app.post_json(Some("inspector"), &path, json!({})).await;
    assert_eq!(status, 403);
    let (status, acked) = app.post_json(Some("operator"), &path, json!({})).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "cleared_acknowledged");
    assert_eq!(acked["acknowledged_by"], "operator");
    let (status, again) = app.post_json(Some("operator"), &path, json!({})).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("alarm_state"))
    );

    // Vital signs and history of the district.
    let vitals = eventually(app, "leader", "/api/v1/vital-signs?area=310101", |v| {
        v["signs"].as_array().unwrap().iter().any(|s| {
            s["area"] == "310101" && s["indicator"] == "gas_concentration" && s["devices"] == 2
        })
    })
    .await;
    assert!(vitals["signs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["area"].as_str().unwrap().starts_with("310101")));
    let from = (t0 - Duration::minutes(2)).to_rfc3339();
    // Rollups are written every few seconds with their watermark.
    let path = format!(
        "/api/v1/vital-signs/history?indicator=gas_concentration&area=310101&from={}",
        urlencode(&from)
    );
    let history = eventually(app, "leader", &path, |h| {
        h.as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .sum::<i64>()
            == 5
    })
    .await;
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["resolution"] == "minute"));
    let (_, readings) = app
        .get(
            Some("operator"),
            &format!(
                "/api/v1/devices/HP-GAS-1/readings?indicator=gas_concentration&from={}",
                urlencode(&from)
            ),
        )
        .await;
    assert_eq!(readings.as_array().map(Vec::len), Some(4), "{readings}");

    // Another district sees none of it, exactly as if it did not exist.
    assert_eq!(
        app.get(Some("xuhui_operator"), "/api/v1/devices/HP-GAS-1")
            .await
            .0,
        404
    );
    assert_eq!(
        app.get(Some("xuhui_operator"), &format!("/api/v1/alarms/{id}"))
            .await
            .0,
        404
    );
    let (_, theirs) = app.get(Some("xuhui_operator"), "/api/v1/alarms").await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(0));
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

async fn metric(app: &TestApp, line_start: &str) -> u64 {
    let (_, text) = app.get_text(Some("admin"), "/metrics").await;
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn bad_readings_are_counted_kept_and_never_stop_the_pipeline(app: &TestApp) {
    register(app, "HP-GAS-1", 121.4837).await;
    let (status, _) = app
        .post_json(Some("admin"), "/api/v1/devices", json!({"id": "HP-OLD", "kind": "gas_detector", "name": "已报废", "location": {"lon": 121.4837, "lat": 31.2369}, "status": "retired"}))
        .await;
    assert_eq!(status, 201);
    let now = Utc::now();
    // (body, the reason each bad reading is counted under)
    let corpus: Vec<(Value, &str)> = vec![
        (
            json!([{"device": "HP-GAS-1", "metric": "gas_concentration", "value": "high", "ts": now.to_rfc3339()}]),
            "malformed",
        ),
        (
            json!([{"device": "HP-GAS-1", "metric": "gas_concentration", "value": 1}]),
            "malformed",
        ),
        (
            json!([{"metric": "gas_concentration", "value": 1, "ts": 1}]),
            "malformed",
        ),
        (
            json!([{"device": "HP-GAS-1", "values": {}, "ts": now.to_rfc3339()}]),
            "malformed",
        ),
        (
            json!([{"device": "NOBODY", "metric": "gas_concentration", "value": 1, "ts": now.to_rfc3339()}]),
            "unknown_device",
        ),
        (
            json!([{"device": "HP-GAS-1", "metric": "rainfall", "value": 1, "ts": now.to_rfc3339()}]),
            "unknown_indicator",
        ),
        (
            json!([{"device": "HP-GAS-1", "metric": "gas_concentration", "value": 1, "ts": "2000-01-01T00:00:00Z"}]),
            "timestamp_out_of_range",
        ),
        (
            json!([{"device": "HP-GAS-1", "metric": "gas_concentration", "value": 1, "ts": (now + Duration::days(1)).to_rfc3339()}]),
            "timestamp_out_of_range",
        ),
        (
            json!([{"device": "HP-OLD", "metric": "gas_concentration", "value": 1, "ts": now.to_rfc3339()}]),
            "retired_device",
        ),
    ];
    let mut expected = std::collections::HashMap::<&str, u64>::new();
    for (body, reason) in &corpus {
        let report = ingest(app, body.clone()).await;
        assert_eq!(report["accepted"], 0, "{body}");
        assert_eq!(report["rejected"][0]["reason"], *reason, "{body}: {report}");
        *expected.entry(reason).or_default() += 1;
    }
    // A body that is no JSON at all: 422 naming it, and still a dead letter.
    let (status, error) = app
        .post_raw(
            Some("admin"),
            "/api/v1/telemetry",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("body")),
        "{error}"
    );
    *expected.entry("malformed").or_default() += 1;
    let (status, _) = app
        .post_raw(
            Some("admin"),
            "/api/v1/telemetry",
            "text/plain",
            b"1".to_vec(),
        )
        .await;
    assert_eq!(status, 415);
    // NDJSON with one good and one bad line: the good one is kept.
    let ndjson = format!(
        "{}\n{{\"device\": \"HP-GAS-1\"}}\n",
        reading("HP-GAS-1", "gas_concentration", 1.0, now)
    );
    let (status, report) = app
        .post_raw(
            Some("admin"),
            "/api/v1/telemetry",
            "application/x-ndjson",
            ndjson.into_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            report["accepted"].as_u64(),
            report["rejected"][0]["index"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
    *expected.entry("malformed").or_default() += 1;
    for (reason, n) in &expected {
        assert_eq!(
            metric(
                app,
                &format!("cityops_telemetry_rejected_total{{reason=\"{reason}\"}}")
            )
            .await,
            *n,
            "{reason}"
        );
    }
    let (status, letters) = app
        .get(Some("admin"), "/api/v1/telemetry/dead-letters?limit=100")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        letters.as_array().unwrap().len() as u64,
        expected.values().sum::<u64>(),
        "{letters}"
    );
    let (_, unknown) = app
        .get(
            Some("admin"),
            "/api/v1/telemetry/dead-letters?reason=unknown_device",
        )
        .await;
    assert!(
        unknown[0]["payload"].as_str().unwrap().contains("NOBODY"),
        "{unknown}"
    );
    assert_eq!(
        app.get(Some("operator"), "/api/v1/telemetry/dead-letters")
            .await
            .0,
        403
    );
    assert_eq!(
        app.get(Some("admin"), "/api/v1/telemetry/dead-letters?reason=bogus")
            .await
            .0,
        422
    );
    // And the pipeline keeps going.
    let report = ingest(
        app,
        json!([reading(
            "HP-GAS-1",
            "gas_concentration",
            2.0,
            now + Duration::seconds(1)
        )]),
    )
    .await;
    assert_eq!(report["accepted"], 1);
    assert_eq!(
        metric(
            app,
            "cityops_telemetry_readings_total{outcome=\"accepted\"}"
        )
        .await,
        2
    );
}

async fn rules_change_through_the_api_without_restart(app: &TestApp) {
    register(app, "HP-GAS-1", 121.4837).await;
    let rule = json!({
        "id": "gas-7", "name": "燃气浓度超过7%LEL", "indicator": "gas_concentration",
        "scope": {"kind": "area", "area": "310101"},
        "condition": {"kind": "above", "value": 7, "clear": 9}, "level": "yellow"
    });
    let (status, error) = app
        .post_json(Some("admin"), "/api/v1/telemetry/rules", rule.clone())
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("condition.clear")),
        "{error}"
    );
    let mut good = rule.clone();
    good["condition"]["clear"] = json!(5);
    assert_eq!(
        app.post_json(Some("operator"), "/api/v1/telemetry/rules", good.clone())
            .await
            .0,
        403
    );
    let (status, created) = app
        .post_json(Some("admin"), "/api/v1/telemetry/rules", good.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        app.post_json(Some("admin"), "/api/v1/telemetry/rules", good.clone())
            .await
            .0,
        409
    );
    let t0 = Utc::now() - Duration::seconds(30);
    ingest(
        app,
        json!([reading("HP-GAS-1", "gas_concentration", 8.0, t0)]),
    )
    .await;
    let alarms = eventually(app, "operator", "/api/v1/alarms", |a| {
        alarm_of(a, "HP-GAS-1", "gas-7").is_some()
    })
    .await;
    let alarm = alarm_of(&alarms, "HP-GAS-1", "gas-7").unwrap();
    assert_eq!(alarm["level"], "yellow");
    assert!(alarm["case_id"].is_null(), "yellow is below the case level");
    // Raised to orange: the running alarm keeps going under the changed rule.
    good["level"] = json!("orange");
    let request = app
        .client
        .put(format!("{}/api/v1/telemetry/rules/gas-7", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&good);
    assert_eq!(request.send().await.unwrap().status(), 200);
    let (_, fetched) = app
        .get(Some("operator"), "/api/v1/telemetry/rules/gas-7")
        .await;
    assert_eq!(fetched["level"], "orange");
    let delete = || {
        app.client
            .delete(format!("{}/api/v1/telemetry/rules/gas-7", app.base))
            .bearer_auth(&app.tokens["admin"])
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 204);
    assert_eq!(delete().await.unwrap().status(), 404);
    ingest(
        app,
        json!([reading(
            "HP-GAS-1",
            "gas_concentration",
            8.5,
            t0 + Duration::seconds(5)
        )]),
    )
    .await;
    let (_, alarms) = app.get(Some("operator"), "/api/v1/alarms").await;
    assert_eq!(
        alarms
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["rule_id"] == "gas-7")
            .count(),
        1,
        "no new alarm from a deleted rule"
    );
}

/// Publishes each message with Debian's `mosquitto_pub`, an MQTT client independent of CityOps.
pub(crate) fn mosquitto_pub(url: &str, topic: &str, qos: u8, messages: &[String]) {
    let (host, port) = cityops_test_support::mqtt::mqtt_host_port(url).unwrap();
    let mut child = Command::new("mosquitto_pub")
        .args([
            "-h",
            &host,
            "-p",
            &port.to_string(),
            "-q",
            &qos.to_string(),
            "-t",
            topic,
            "-l",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("mosquitto_pub (Debian mosquitto-clients) is installed");
    let mut stdin = child.stdin.take().unwrap();
    for message in messages {
        writeln!(stdin, "{message}").unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn mqtt_readings_from_an_independent_client_raise_alarms_and_cases() {
    let Some(url) = mqtt_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (client_id, prefix) = (format!("cityops-test-{tag}"), format!("cityops-test/{tag}"));
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.mqtt = Some(url.clone());
        config.mqtt_client_id = client_id.clone();
        config.mqtt_topic_prefix = prefix.clone();
    })
    .await
    .unwrap();
    register(&app, "HP-GAS-1", 121.4837).await;
    register(&app, "HP-GAS-2", 121.4847).await;
    // Wait for the subscription before publishing: QoS 1 only holds for subscribed sessions.
    for _ in 0..100 {
        if metric(&app, "cityops_telemetry_mqtt_connections_total").await >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let t0 = Utc::now() - Duration::seconds(30);
    let ms = |s: i64| (t0 + Duration::seconds(s)).timestamp_millis();
    mosquitto_pub(
        &url,
        &format!("{prefix}/devices/HP-GAS-1/telemetry"),
        1,
        &[
            json!({"metric": "gas_concentration", "value": 2.0, "ts": ms(0), "seq": 1}).to_string(),
            "this is not JSON".to_owned(),
            json!({"device": "HP-GAS-2", "metric": "gas_concentration", "value": 1.0, "ts": ms(0)})
                .to_string(),
            json!({"metric": "gas_concentration", "value": 31.0, "ts": ms(10), "seq": 2})
                .to_string(),
        ],
    );
    // A gateway batches readings of several devices into one message.
    mosquitto_pub(&url, &format!("{prefix}/gateways/gw-1/telemetry"), 1, &[
        json!([{"device": "HP-GAS-2", "metric": "gas_concentration", "value": 1.5, "ts": ms(5)}, {"device": "HP-GAS-2", "metric": "gas_concentration", "value": 1.6, "ts": ms(6), "seq": 9}]).to_string(),
    ]);
    // At QoS 0 nothing is acknowledged, and the pipeline commits it without anyone waiting
    // (`hand_over`).
    mosquitto_pub(
        &url,
        &format!("{prefix}/devices/HP-GAS-2/telemetry"),
        0,
        &[json!({"metric": "gas_concentration", "value": 1.7, "ts": ms(7)}).to_string()],
    );
    let alarms = eventually(&app, "operator", "/api/v1/alarms?active=true", |a| {
        alarm_of(a, "HP-GAS-1", "gas-danger").is_some_and(|a| a["case_id"].is_string())
    })
    .await;
    let case_id = alarm_of(&alarms, "HP-GAS-1", "gas-danger").unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = eventually(&app, "operator", &format!("/api/v1/cases/{case_id}"), |c| {
        c["id"] == case_id.as_str()
    })
    .await;
    assert_eq!(
        (case["source"].as_str(), case["category_hint"].as_str()),
        (Some("iot"), Some("20403"))
    );
    for _ in 0..50 {
        if metric(
            &app,
            "cityops_telemetry_readings_total{outcome=\"accepted\"}",
        )
        .await
            >= 5
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(
            &app,
            "cityops_telemetry_readings_total{outcome=\"accepted\"}"
        )
        .await,
        5
    );
    // The bad message, and the device speaking for another on its own topic, are counted.
    assert_eq!(
        metric(
            &app,
            "cityops_telemetry_rejected_total{reason=\"malformed\"}"
        )
        .await,
        2
    );
    app.finish().await;
    cityops_test_support::mqtt::clear_mqtt_session(&url, &client_id).await;
}

fn cityops(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cityops"));
    command.args(args).env("CITYOPS_LOG_FILTER", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

fn serve(data_dir: &str, env: &[(&str, String)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = cityops(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        env,
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("CityOps listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    (child, url)
}

/// A fresh CityOps in `data_dir` with an admin (signed in) and the gas detector HP-GAS-1.
async fn serve_with_gas_detector(
    data_dir: &str,
    env: &[(&str, String)],
) -> (std::process::Child, String, reqwest::Client, String) {
    let add = [
        "user",
        "add",
        "--username",
        "admin",
        "--password-stdin",
        "--role",
        "admin",
        "--data-dir",
        data_dir,
    ];
    let mut adding = cityops(&add, &[]).stdin(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut adding.stdin.take().unwrap(), b"telemetry gateway 7\n").unwrap();
    assert!(adding.wait().unwrap().success());
    let (server, base) = serve(data_dir, env);
    let client = reqwest::Client::new();
    let token = sign_in(&client, &base).await;
    let device = json!({"id": "HP-GAS-1", "kind": "gas_detector", "name": "燃气监测点", "location": {"lon": 121.4837, "lat": 31.2369}});
    let status = client
        .post(format!("{base}/api/v1/devices"))
        .bearer_auth(&token)
        .json(&device)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
    (server, base, client, token)
}

/// Publishes readings `range` of one device at QoS 1: gas above 25 %LEL for readings 50 to
/// 1,499 (one red alarm), normal otherwise; one reading a second of device time.
fn publish_range(
    broker: &str,
    topic: &str,
    t0: chrono::DateTime<Utc>,
    range: std::ops::Range<i64>,
) {
    let messages: Vec<String> = range
        .map(|i| {
            let value = if (50..1500).contains(&i) { 40.0 } else { 2.0 };
            json!({"metric": "gas_concentration", "value": value, "ts": (t0 + Duration::seconds(i)).timestamp_millis(), "seq": i + 1}).to_string()
        })
        .collect();
    mosquitto_pub(broker, topic, 1, &messages);
}

async fn stored_readings(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    from: chrono::DateTime<Utc>,
) -> usize {
    let url = format!(
        "{base}/api/v1/devices/HP-GAS-1/readings?indicator=gas_concentration&limit=10000&from={}",
        urlencode(&from.to_rfc3339())
    );
    let body: Value = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body.as_array().map_or(0, Vec::len)
}

async fn wait_for_readings(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    from: chrono::DateTime<Utc>,
    n: usize,
) {
    for _ in 0..300 {
        if stored_readings(client, base, token, from).await >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored_readings(client, base, token, from).await,
        n,
        "every reading published at QoS 1 is stored once"
    );
}

async fn sign_in(client: &reqwest::Client, base: &str) -> String {
    let answer: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"username": "admin", "password": "telemetry gateway 7"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

/// kill -9 CityOps while a device publishes, keep publishing while it is down, start it again:
/// no reading published at QoS 1 is lost and no alarm is duplicated. Then restart the broker:
/// CityOps reconnects and readings flow again.
#[tokio::test]
async fn no_reading_is_lost_and_no_alarm_duplicated_across_restarts() {
    if mqtt_url().is_none() {
        return;
    }
    let Some(mut broker) = cityops_test_support::mqtt::private_broker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").to_str().unwrap().to_owned();
    let env = [
        ("CITYOPS_MQTT", broker.url()),
        ("CITYOPS_MQTT_CLIENT_ID", "cityops-restart-test".to_owned()),
    ];
    let (mut server, _, client, _) = serve_with_gas_detector(&data_dir, &env).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let topic = "cityops/v1/devices/HP-GAS-1/telemetry";
    let t0 = Utc::now() - Duration::seconds(3000);
    let from = t0 - Duration::seconds(1);

    // Killed mid-stream: whatever it had received but not committed was never acknowledged,
    // and the device keeps publishing while CityOps is down.
    let url = broker.url();
    let publisher = std::thread::spawn(move || publish_range(&url, topic, t0, 0..2000));
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    publisher.join().unwrap();
    {
        let keys = std::fs::read_to_string(format!("{data_dir}.keys/pii.keys")).unwrap();
        let keys = cityops_store::PiiKeys::parse(&keys).unwrap();
        let store = cityops_store::open(&format!("sqlite://{data_dir}/cityops.db"), keys)
            .await
            .unwrap();
        let before = store
            .readings("HP-GAS-1", "gas_concentration", from, Utc::now(), 10_000)
            .await
            .unwrap()
            .len();
        assert!(
            before < 2000,
            "the kill came mid-stream ({before} readings stored before it)"
        );
    }
    let (mut server, base) = serve(&data_dir, &env);
    let token = sign_in(&client, &base).await;
    wait_for_readings(&client, &base, &token, from, 2000).await;
    let alarms = get_json(&client, &base, &token, "/api/v1/alarms?device=HP-GAS-1").await;
    for rule in ["gas-danger", "gas-warning"] {
        let mine: Vec<&Value> = alarms
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["rule_id"] == rule)
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "one {rule} alarm, not lost, not duplicated: {alarms}"
        );
        assert_eq!(
            mine[0]["active"], false,
            "cleared by the normal readings after 1,500"
        );
    }

    // The broker restarts; CityOps reconnects by itself.
    broker.restart().unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    publish_range(&broker.url(), topic, t0, 2000..2010);
    wait_for_readings(&client, &base, &token, from, 2010).await;
    let metrics = client
        .get(format!("{base}/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let connections: u64 = metrics
        .lines()
        .find(|l| l.starts_with("cityops_telemetry_mqtt_connections_total"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert!(
        connections >= 2,
        "reconnected after the broker restart: {connections}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A flood of QoS 1 messages, faster than acknowledgements leave: every reading is committed
/// and every message acknowledged. (rumqttc sends one queued acknowledgement per turn of its
/// event loop and reads ten packets in another, so acknowledgements fall behind a flood; a
/// bounded queue between them once stalled the session for good at 16k unacknowledged.)
#[tokio::test]
async fn a_flood_of_qos1_messages_never_stalls_the_session() {
    if mqtt_url().is_none() {
        return;
    }
    let Some(broker) = cityops_test_support::mqtt::private_broker() else {
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("cityops-flood/{tag}");
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.mqtt = Some(broker.url());
        config.mqtt_client_id = format!("cityops-flood-{tag}");
        config.mqtt_topic_prefix = prefix.clone();
    })
    .await
    .unwrap();
    register(&app, "HP-GAS-1", 121.4837).await;
    for _ in 0..100 {
        if metric(&app, "cityops_telemetry_mqtt_connections_total").await >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    const MESSAGES: usize = 60_000;
    let t0 = Utc::now().timestamp_millis() - 3_600_000;
    let topic = format!("{prefix}/devices/HP-GAS-1/telemetry");
    let bodies: Vec<(String, Vec<u8>)> = (0..MESSAGES)
        .map(|i| {
            let body = format!(
                r#"{{"metric":"gas_concentration","value":1.0,"ts":{}}}"#,
                t0 + i as i64
            );
            (topic.clone(), body.into_bytes())
        })
        .collect();
    cityops_test_support::mqtt::publish_all(&broker.url(), rumqttc::QoS::AtLeastOnce, bodies)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let accepted = metric(
            &app,
            "cityops_telemetry_readings_total{outcome=\"accepted\"}",
        )
        .await;
        let acks = metric(&app, "cityops_telemetry_mqtt_acks_total").await;
        if accepted as usize == MESSAGES && acks as usize == MESSAGES {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stalled: {accepted} of {MESSAGES} readings committed, {acks} acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.finish().await;
}

/// GET `path` as the signed-in `token`, as JSON.
async fn get_json(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// POSTs readings over HTTP; they are committed when it returns.
async fn post_telemetry(client: &reqwest::Client, base: &str, token: &str, readings: &Value) {
    let status = client
        .post(format!("{base}/api/v1/telemetry"))
        .bearer_auth(token)
        .json(readings)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

/// The case of an alarm, once the case desk has written it.
async fn written_case_of(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    not: Option<&str>,
) -> String {
    for _ in 0..100 {
        let alarms = get_json(client, base, token, "/api/v1/alarms?device=HP-GAS-1").await;
        let case_id = alarm_of(&alarms, "HP-GAS-1", "gas-danger")
            .and_then(|a| a["case_id"].as_str())
            .filter(|id| Some(*id) != not)
            .map(str::to_owned);
        if let Some(case_id) = case_id {
            let status = client
                .get(format!("{base}/api/v1/cases/{case_id}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status();
            if status == 200 {
                return case_id;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the alarm never had a written case");
}

async fn iot_cases(client: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let cases = get_json(client, base, token, "/api/v1/cases?source=iot").await;
    cases["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An alarm's link to its case commits with the alarm and the case desk writes the case just
/// after, so a stop in between leaves a link to a case that does not exist: the next start
/// opens it. A plain restart opens nothing twice.
#[tokio::test]
async fn an_alarm_gets_its_case_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").to_str().unwrap().to_owned();
    let (mut server, base, client, token) = serve_with_gas_detector(&data_dir, &[]).await;
    let danger = json!([reading(
        "HP-GAS-1",
        "gas_concentration",
        40.0,
        Utc::now() - Duration::seconds(10)
    )]);
    post_telemetry(&client, &base, &token, &danger).await;
    let first = written_case_of(&client, &base, &token, None).await;
    assert_eq!(iot_cases(&client, &base, &token).await, vec![first.clone()]);

    // A plain restart: the alarm is still active and has its case; nothing opens again.
    server.kill().unwrap();
    server.wait().unwrap();
    let (mut server, base) = serve(&data_dir, &[]);
    let token = sign_in(&client, &base).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(written_case_of(&client, &base, &token, None).await, first);
    assert_eq!(iot_cases(&client, &base, &token).await, vec![first.clone()]);
    server.kill().unwrap();
    server.wait().unwrap();

    // Stopped after the link committed and before the desk wrote the case.
    forget_case(&data_dir, &first).await;
    let (mut server, base) = serve(&data_dir, &[]);
    let token = sign_in(&client, &base).await;
    let second = written_case_of(&client, &base, &token, Some(&first)).await;
    assert_eq!(
        iot_cases(&client, &base, &token).await,
        vec![second.clone()]
    );

    // Cleared since, and its case lost the same way: the case opens with the clearing noted.
    let normal = json!([reading(
        "HP-GAS-1",
        "gas_concentration",
        2.0,
        Utc::now() - Duration::seconds(1)
    )]);
    post_telemetry(&client, &base, &token, &normal).await;
    let alarms = get_json(&client, &base, &token, "/api/v1/alarms?device=HP-GAS-1").await;
    assert_eq!(
        alarm_of(&alarms, "HP-GAS-1", "gas-danger").unwrap()["active"],
        false,
        "{alarms}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    forget_case(&data_dir, &second).await;
    let (mut server, base) = serve(&data_dir, &[]);
    let token = sign_in(&client, &base).await;
    let third = written_case_of(&client, &base, &token, Some(&second)).await;
    assert_eq!(iot_cases(&client, &base, &token).await, vec![third.clone()]);
    let mut noted = false;
    for _ in 0..50 {
        let timeline = get_json(
            &client,
            &base,
            &token,
            &format!("/api/v1/cases/{third}/timeline"),
        )
        .await;
        noted = timeline.as_array().unwrap().iter().any(|e| {
            e["action"] == "note"
                && e["details"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("已解除"))
        });
        if noted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(noted, "the clearing is noted on the case opened at start");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Deletes a case as if it had never been written (SQLite, server stopped).
async fn forget_case(data_dir: &str, case_id: &str) {
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{data_dir}/cityops.db"))
        .await
        .unwrap();
    for table in ["case_events", "outbox"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE case_id = ?"))
            .bind(case_id)
            .execute(&db)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM cases WHERE id = ?")
        .bind(case_id)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
}
