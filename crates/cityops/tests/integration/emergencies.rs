//! Emergencies over the real server and database: a red rainstorm warning imported from a
//! CAP alert for three districts lowers a telemetry rule's threshold there (a reading that
//! was normal raises an alarm in Huangpu, not in Putuo), reaches the live stream, is updated
//! and cancelled by later alerts, and is refused when the file is not CAP; an incident opened
//! from the rainstorm plan gives its tasks to the units that answer there, a leader decides
//! the response level with its reason, units accept and report their own tasks only, and the
//! response is stood down. Bad input names the field and changes nothing.

use chrono::{Duration, SecondsFormat, Utc};
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

use super::outbox::open_stream_as;
use super::vital_signs::mosquitto_pub;

on_both_backends!(
    a_cap_rainstorm_warning_lowers_the_underpass_threshold_in_its_districts,
    warnings_refuse_bad_input_and_change_nothing,
    an_incident_from_the_rainstorm_plan_runs_to_its_stand_down,
);

const CAP: &str = "urn:oasis:names:tc:emergency:cap:1.2";

fn cap(
    identifier: &str,
    msg_type: &str,
    references: Option<&str>,
    event: &str,
    expires_in_hours: i64,
) -> Vec<u8> {
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let references = references
        .map(|r| format!("<references>上海中心气象台,{r},{}</references>", at(now)))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{CAP}">
  <identifier>{identifier}</identifier>
  <sender>上海中心气象台</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>{event}</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <headline>上海中心气象台发布{event}信号</headline>
    <area>
      <areaDesc>黄浦区、徐汇区、长宁区</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>310101</value></geocode>
      <geocode><valueName>GB/T 2260</valueName><value>310104</value></geocode>
      <geocode><valueName>GB/T 2260</valueName><value>310105</value></geocode>
    </area>
  </info>
</alert>"#,
        sent = at(now),
        expires = at(now + Duration::hours(expires_in_hours)),
    )
    .into_bytes()
}

async fn import(app: &TestApp, who: &str, xml: Vec<u8>) -> (u16, Value) {
    app.post_raw(Some(who), "/api/v1/warnings/cap", "application/xml", xml)
        .await
}

async fn register(app: &TestApp, id: &str, lon: f64, lat: f64) {
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": id, "kind": "water_gauge", "name": id, "location": {"lon": lon, "lat": lat}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
}

/// The active alarms of `rule`, by device, once the pipeline has judged the readings.
async fn alarmed(app: &TestApp, rule: &str, expected: usize) -> Vec<String> {
    for _ in 0..100 {
        let (_, alarms) = app
            .get(Some("operator"), "/api/v1/alarms?active=true")
            .await;
        let mut devices: Vec<String> = alarms
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["rule_id"] == rule)
            .map(|a| a["device_id"].as_str().unwrap().to_owned())
            .collect();
        if devices.len() >= expected {
            devices.sort();
            return devices;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {expected} alarms of {rule}");
}

async fn next_event(stream: &mut super::outbox::Events, buffer: &mut String, kind: &str) -> Value {
    use futures_util::StreamExt;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains(&format!("event: {kind}\n")) {
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn a_cap_rainstorm_warning_lowers_the_underpass_threshold_in_its_districts(app: &TestApp) {
    // The underpass rule: trouble above 25 cm; the rainstorm warning makes it 10 cm.
    let (status, rule) = app
        .post_json(
            Some("admin"),
            "/api/v1/telemetry/rules",
            json!({"id": "underpass", "name": "下立交积水", "indicator": "water_level",
                   "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 25, "clear": 20},
                   "level": "orange"}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    register(app, "HP-UP-1", 121.4837, 31.2369).await; // Huangpu
    register(app, "PT-UP-1", 121.3960, 31.2496).await; // Putuo: no warning there

    let mut stream = open_stream_as(app, "inspector").await;
    let mut buffer = String::new();
    let (status, imported) = import(
        app,
        "lead",
        cap("SH-RS-1", "Alert", None, "暴雨红色预警", 6),
    )
    .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["outcome"], "issued");
    let warning = &imported["warning"];
    assert_eq!(
        (
            &warning["hazard"],
            &warning["level"],
            &warning["status"],
            &warning["source"]
        ),
        (
            &json!("rainstorm"),
            &json!("red"),
            &json!("in_force"),
            &json!("cap")
        )
    );
    assert_eq!(warning["areas"], json!(["310101", "310104", "310105"]));
    let id = warning["id"].as_str().unwrap().to_owned();
    // The inspector of Huangpu is told at once.
    let event = next_event(&mut stream, &mut buffer, "warning").await;
    assert_eq!(
        (&event["action"], &event["warning"]["id"]),
        (&json!("issued"), &json!(id))
    );
    // The same alert again changes nothing.
    let (status, again) = import(
        app,
        "lead",
        cap("SH-RS-1", "Alert", None, "暴雨红色预警", 6),
    )
    .await;
    assert_eq!(
        (status, &again["outcome"]),
        (200, &json!("unchanged")),
        "{again}"
    );

    // The warning's adjustment of the underpass rule, by the center.
    let (status, adjusted) = app
        .post_json(
            Some("lead"),
            &format!("/api/v1/warnings/{id}/update"),
            json!({"adjustments": [{"rule": "underpass", "condition": {"kind": "above", "value": 10, "clear": 5}}],
                   "note": "暴雨期间下立交积水阈值降为10厘米"}),
        )
        .await;
    assert_eq!(status, 200, "{adjusted}");
    assert_eq!(adjusted["version"], 2);
    // 12 cm in both underpasses: trouble in Huangpu under the warning, not in Putuo.
    let t0 = Utc::now() - Duration::seconds(20);
    let (status, report) = app
        .post_json(
            Some("admin"),
            "/api/v1/telemetry",
            json!([
                {"device": "HP-UP-1", "metric": "water_level", "value": 12.0, "ts": t0.to_rfc3339()},
                {"device": "PT-UP-1", "metric": "water_level", "value": 12.0, "ts": t0.to_rfc3339()},
            ]),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(alarmed(app, "underpass", 1).await, ["HP-UP-1"]);
    let (_, alarms) = app
        .get(Some("operator"), "/api/v1/alarms?active=true")
        .await;
    assert!(!alarms.to_string().contains("PT-UP-1"), "{alarms}");

    // An update lowers it to orange; a cancellation lifts it. Unknown references are refused.
    let (status, updated) = import(
        app,
        "lead",
        cap("SH-RS-2", "Update", Some("SH-RS-1"), "暴雨橙色预警", 4),
    )
    .await;
    assert_eq!(
        (status, &updated["outcome"]),
        (200, &json!("updated")),
        "{updated}"
    );
    assert_eq!(updated["warning"]["level"], "orange");
    let (status, error) = import(
        app,
        "lead",
        cap("SH-RS-9", "Cancel", Some("NOPE"), "暴雨橙色预警", 4),
    )
    .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("references")),
        "{error}"
    );
    let (status, lifted) = import(
        app,
        "lead",
        cap("SH-RS-3", "Cancel", Some("SH-RS-2"), "暴雨橙色预警", 4),
    )
    .await;
    assert_eq!(
        (status, &lifted["outcome"]),
        (200, &json!("lifted")),
        "{lifted}"
    );
    assert_eq!(lifted["warning"]["status"], "lifted");
    let (_, listed) = app.get(Some("inspector"), "/api/v1/warnings").await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    let (_, past) = app
        .get(Some("inspector"), "/api/v1/warnings?past=true")
        .await;
    assert_eq!(
        past["items"][0]["history"].as_array().unwrap().len(),
        4,
        "{past}"
    );
}

async fn warnings_refuse_bad_input_and_change_nothing(app: &TestApp) {
    let expires = (Utc::now() + Duration::hours(3)).to_rfc3339();
    let good = json!({"hazard": "typhoon", "level": "blue", "areas": ["310101"],
                      "headline": "台风蓝色预警", "expires_at": expires});
    for (patch, status, field) in [
        (json!({"areas": []}), 422, "areas"),
        (json!({"areas": ["310999"]}), 422, "areas[0]"),
        (json!({"areas": ["310101", "310101"]}), 422, "areas[1]"),
        (json!({"headline": "  "}), 422, "headline"),
        (
            json!({"expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339()}),
            422,
            "expires_at",
        ),
        (
            json!({"adjustments": [{"rule": "no-such-rule", "condition": {"kind": "above", "value": 1}}]}),
            422,
            "adjustments[0].rule",
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (got, error) = app.post_json(Some("lead"), "/api/v1/warnings", body).await;
        assert_eq!(
            (got, error["error"]["field"].as_str()),
            (status, Some(field)),
            "{error}"
        );
    }
    // Not the center's to issue; not a street center's to warn a whole district.
    let (status, _) = app
        .post_json(Some("operator"), "/api/v1/warnings", good.clone())
        .await;
    assert_eq!(status, 403);
    let (status, error) = app
        .post_json(Some("street_dispatcher"), "/api/v1/warnings", good.clone())
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (403, Some("areas")),
        "{error}"
    );
    // Not CAP: refused naming the element.
    for (xml, field) in [
        (b"<rss version=\"2.0\"><channel/></rss>".to_vec(), "rss"),
        (b"plain text".to_vec(), "alert"),
        (
            String::from_utf8(cap("SH-X", "Alert", None, "暴雨红色预警", 6))
                .unwrap()
                .replace("<sender>上海中心气象台</sender>", "")
                .into_bytes(),
            "sender",
        ),
    ] {
        let (status, error) = import(app, "lead", xml).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (422, Some(field)),
            "{error}"
        );
        assert_eq!(error["error"]["code"], "invalid_file");
    }
    let (status, _) = app
        .post_raw(
            Some("lead"),
            "/api/v1/warnings/cap",
            "text/plain",
            b"<alert/>".to_vec(),
        )
        .await;
    assert_eq!(status, 415);
    let (_, listed) = app.get(Some("leader"), "/api/v1/warnings?past=true").await;
    assert!(
        listed["items"].as_array().unwrap().is_empty(),
        "nothing was issued: {listed}"
    );

    // An expired warning re-issued without a new time is refused on expires_at.
    let (status, issued) = app
        .post_json(Some("lead"), "/api/v1/warnings", good.clone())
        .await;
    assert_eq!(status, 201, "{issued}");
    let id = issued["id"].as_str().unwrap();
    let (status, error) = app
        .post_json(
            Some("lead"),
            &format!("/api/v1/warnings/{id}/update"),
            json!({"expires_at": (Utc::now() - Duration::minutes(5)).to_rfc3339()}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("expires_at")),
        "{error}"
    );
    let (status, lifted) = app
        .post_json(
            Some("lead"),
            &format!("/api/v1/warnings/{id}/lift"),
            json!({"note": "台风转向"}),
        )
        .await;
    assert_eq!(status, 200, "{lifted}");
    let (status, again) = app
        .post_json(
            Some("lead"),
            &format!("/api/v1/warnings/{id}/lift"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
}

async fn command(app: &TestApp, who: &str, id: &str, body: Value) -> (u16, Value) {
    app.post_json(Some(who), &format!("/api/v1/incidents/{id}/commands"), body)
        .await
}

async fn an_incident_from_the_rainstorm_plan_runs_to_its_stand_down(app: &TestApp) {
    let (_, plans) = app.get(Some("leader"), "/api/v1/plans").await;
    assert!(
        plans["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "rainstorm"),
        "{plans}"
    );
    // A plan for no area, or an area that does not exist, is refused naming it.
    let (status, error) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": []}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("areas")),
        "{error}"
    );
    let (status, error) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "no-plan", "areas": ["310101"]}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("plan")),
        "{error}"
    );

    let (status, incident) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": ["310101002"], "title": "南京东路街道暴雨内涝"}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    assert_eq!(
        incident["response"],
        Value::Null,
        "a leader decides the level"
    );
    let units: Vec<&str> = incident["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["unit"].as_str().unwrap())
        .collect();
    // Huangpu's water authority, its public security bureau and the street's office.
    assert_eq!(
        units,
        ["310101-SWJ", "310101-GAFJ", "310101002-JDB"],
        "{incident}"
    );
    let id = incident["id"].as_str().unwrap().to_owned();

    // The level needs a reason and a leader.
    let (status, error) = command(
        app,
        "leader",
        &id,
        json!({"command": "set_response", "level": "2", "reason": " "}),
    )
    .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("reason")),
        "{error}"
    );
    let (status, _) = command(
        app,
        "lead",
        &id,
        json!({"command": "set_response", "level": "2", "reason": "红色预警"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, decided) = command(
        app,
        "leader",
        &id,
        json!({"command": "set_response", "level": "2", "reason": "暴雨红色预警，低洼路段积水"}),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["response"]["level"], "2");
    assert_eq!(decided["response"]["level_zh"], "二级响应");

    // Two more tasks by hand; a unit that does not exist is refused naming it.
    let deadline = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let (status, error) = command(app, "lead", &id, json!({"command": "assign_task", "unit": "310101-NOPE", "title": "排水", "deadline": deadline})).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("unit")),
        "{error}"
    );
    for unit in ["310101-ZLS", "310101-GD"] {
        let (status, body) = command(app, "lead", &id, json!({"command": "assign_task", "unit": unit, "title": "排查设施", "deadline": deadline})).await;
        assert_eq!(status, 200, "{body}");
    }
    // The water company sees the incident with its own task only, and acts on it alone.
    let (status, seen) = app
        .get(Some("water"), &format!("/api/v1/incidents/{id}"))
        .await;
    assert_eq!(status, 200, "{seen}");
    let theirs = seen["tasks"].as_array().unwrap();
    assert_eq!(theirs.len(), 1, "{seen}");
    assert_eq!(theirs[0]["unit"], "310101-ZLS");
    let task = theirs[0]["id"].as_u64().unwrap();
    let other = task + 1;
    let (status, _) = command(
        app,
        "water",
        &id,
        json!({"command": "accept_task", "task": other}),
    )
    .await;
    assert_eq!(status, 403, "another unit's task");
    let (status, _) = command(
        app,
        "water",
        &id,
        json!({"command": "accept_task", "task": task}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, done) = command(
        app,
        "water",
        &id,
        json!({"command": "finish_task", "task": task, "report": "管网巡查完毕，无破损"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let (status, unable) = command(
        app,
        "power",
        &id,
        json!({"command": "task_unable", "task": other, "reason": "抢修力量已全部出动"}),
    )
    .await;
    assert_eq!(status, 200, "{unable}");
    // The power company's reason is not the water company's to read.
    let (_, seen) = app
        .get(Some("water"), &format!("/api/v1/incidents/{id}"))
        .await;
    assert!(!seen.to_string().contains("抢修力量"), "{seen}");
    let (_, timeline) = app
        .get(Some("water"), &format!("/api/v1/incidents/{id}/timeline"))
        .await;
    assert!(!timeline.to_string().contains("抢修力量"), "{timeline}");

    // A case of the plan's classes reported in the street while the incident is active is
    // linked to it by itself (a missing manhole cover is not); one unlinked by hand stays
    // unlinked; one outside the incident's areas cannot be linked.
    let other = app.report("operator", "inspector").await;
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "inspector", "description": "南京东路地下通道积水约20厘米",
                   "location": {"lon": 121.4919, "lat": 31.2150}, "area": "310101002001",
                   "category_hint": "20406"}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let case_id = case["id"].as_str().unwrap().to_owned();
    let links_path = format!("/api/v1/incidents/{id}/links");
    let mut linked = Value::Null;
    for _ in 0..100 {
        linked = app.get(Some("lead"), &links_path).await.1;
        if linked.to_string().contains(&case_id) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(linked["items"][0]["kind"], "case", "{linked}");
    assert_eq!(linked["items"][0]["target"], case_id.as_str());
    assert!(
        !linked.to_string().contains(other["id"].as_str().unwrap()),
        "not of the plan's classes: {linked}"
    );
    assert_eq!(linked["items"][0]["auto"], true);
    let (status, _) = app.get(Some("water"), &links_path).await;
    assert_eq!(status, 404, "a unit reads no links");
    let unlink = json!({"command": "unlink", "kind": "case", "target": case_id});
    let (status, _) = command(app, "lead", &id, unlink.clone()).await;
    assert_eq!(status, 200);
    let (_, linked) = app.get(Some("lead"), &links_path).await;
    assert!(linked["items"].as_array().unwrap().is_empty(), "{linked}");
    let (status, error) = command(app, "lead", &id, unlink).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("target")),
        "{error}"
    );
    let nowhere = json!({"command": "link", "kind": "case", "target": "no-such-case"});
    let (status, error) = command(app, "lead", &id, nowhere).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("target")),
        "{error}"
    );
    let link = json!({"command": "link", "kind": "case", "target": case_id});
    let (status, _) = command(app, "lead", &id, link).await;
    assert_eq!(status, 200);
    let (_, linked) = app.get(Some("lead"), &links_path).await;
    assert_eq!(linked["items"][0]["auto"], false, "{linked}");

    let (status, _) = command(
        app,
        "lead",
        &id,
        json!({"command": "sitrep", "text": "积水已退至5厘米以下"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = command(
        app,
        "leader",
        &id,
        json!({"command": "set_response", "level": "4", "reason": "预警降为黄色"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, stood) = command(
        app,
        "leader",
        &id,
        json!({"command": "stand_down", "reason": "预警解除，积水消退"}),
    )
    .await;
    assert_eq!(status, 200, "{stood}");
    assert_eq!(stood["state"], "stood_down");
    let (status, _) = command(
        app,
        "lead",
        &id,
        json!({"command": "sitrep", "text": "迟到的续报"}),
    )
    .await;
    assert_eq!(status, 409, "nothing changes after the stand-down");

    let (_, timeline) = app
        .get(Some("leader"), &format!("/api/v1/incidents/{id}/timeline"))
        .await;
    let actions: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "open",
            "assign_task",
            "assign_task",
            "assign_task",
            "add_resource",
            "add_resource",
            "notify",
            "set_response",
            "assign_task",
            "assign_task",
            "accept_task",
            "finish_task",
            "task_unable",
            "unlink",
            "link",
            "sitrep",
            "set_response",
            "stand_down"
        ]
    );
    // The after-action report: a workbook holding every step, read with a real reader.
    let response = app
        .client
        .get(format!("{}/api/v1/incidents/{id}/report.xlsx", app.base))
        .bearer_auth(&app.tokens["leader"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let steps = book.worksheet_range("timeline").unwrap();
    assert_eq!(steps.height(), 1 + actions.len(), "a row per step");
    let text: String = steps
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(text.contains("管网巡查完毕"), "a unit's report");
    assert!(text.contains("积水已退至5厘米以下"), "the sitrep");
    assert!(
        text.contains("暴雨红色预警，低洼路段积水"),
        "the level's reason"
    );
    let tasks = book.worksheet_range("tasks").unwrap();
    assert_eq!(tasks.height(), 1 + 5);
    let summary = book.worksheet_range("summary").unwrap();
    let summary: String = summary
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(summary.contains("四级响应"), "{summary}");
    let (status, _) = app
        .get(
            Some("water"),
            &format!("/api/v1/incidents/{id}/report.xlsx"),
        )
        .await;
    assert_eq!(status, 404, "a unit reads no report");

    let (_, active) = app.get(Some("leader"), "/api/v1/incidents").await;
    assert!(active["items"].as_array().unwrap().is_empty(), "{active}");
    let (_, past) = app.get(Some("leader"), "/api/v1/incidents?past=true").await;
    assert_eq!(past["items"].as_array().unwrap().len(), 1);
    // A unit without a task in it does not see it.
    let (status, _) = app
        .get(Some("inspector"), &format!("/api/v1/incidents/{id}"))
        .await;
    assert_eq!(status, 200, "the inspector of Huangpu sees its facts");
}

/// The scripted rainstorm, end to end over the API and a real broker: the rainstorm plan
/// lowers the underpass threshold while a rainstorm warning is in force; a red warning
/// imported from CAP for three districts brings it; water levels published over MQTT raise
/// an alarm in Huangpu (not in Putuo, outside the warning); a leader opens an incident from
/// the plan for a zone drawn around the underpass and two picked streets, decides level II
/// with the reason; the drainage companies, the traffic police and the three street offices
/// get tasks, the plan's pump trucks and sandbags, and the housing offices its notice; the
/// alarm is linked; every unit accepts and reports (one with a photo); a sitrep; the level is
/// lowered, then stood down; the after-action report holds every step.
#[tokio::test]
async fn mqtt_a_scripted_rainstorm_runs_from_the_cap_warning_to_the_after_action_report() {
    let Some(url) = cityops_test_support::mqtt::mqtt_url() else {
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (client_id, prefix) = (
        format!("cityops-storm-{tag}"),
        format!("cityops-storm/{tag}"),
    );
    let owned = TestApp::spawn_configured(cityops_test_support::Backend::Sqlite, |config| {
        config.mqtt = Some(url.clone());
        config.mqtt_client_id = client_id.clone();
        config.mqtt_topic_prefix = prefix.clone();
    })
    .await
    .unwrap();
    let app = &owned;
    let (status, rule) = app
        .post_json(
            Some("admin"),
            "/api/v1/telemetry/rules",
            json!({"id": "underpass", "name": "下立交积水", "indicator": "water_level",
                   "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 25, "clear": 20},
                   "level": "orange"}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    // The city's plan: during a rainstorm warning from yellow up, 10 cm in an underpass is
    // trouble.
    let (_, plans) = app.get(Some("leader"), "/api/v1/plans").await;
    let mut plan = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "rainstorm")
        .unwrap()
        .clone();
    assert!(
        !plan["notices"].as_array().unwrap().is_empty(),
        "the shipped plan tells the housing offices"
    );
    plan["adjustments"] =
        json!([{"rule": "underpass", "condition": {"kind": "above", "value": 10, "clear": 5}}]);
    let (status, body) = app
        .put_json(Some("leader"), "/api/v1/plans/rainstorm", plan)
        .await;
    assert_eq!(status, 200, "{body}");
    register(app, "HP-UP-1", 121.4837, 31.2369).await; // Huangpu
    register(app, "PT-UP-1", 121.3960, 31.2496).await; // Putuo: no warning there
    register(app, "HP-UP-2", 121.4840, 31.2372).await;
    for _ in 0..100 {
        let (_, text) = app.get_text(None, "/metrics").await;
        if text.lines().any(|l| {
            l.starts_with("cityops_telemetry_mqtt_connections_total") && !l.ends_with(" 0")
        }) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let (status, imported) = import(
        app,
        "lead",
        cap("SH-STORM-1", "Alert", None, "暴雨红色预警", 6),
    )
    .await;
    assert_eq!(status, 201, "{imported}");
    let warning = imported["warning"].clone();
    assert_eq!(warning["areas"], json!(["310101", "310104", "310105"]));
    assert_eq!(
        warning["adjustments"],
        json!([{"rule": "underpass", "condition": {"kind": "above", "value": 10.0, "clear": 5.0}}]),
        "the warning brings the plan's threshold"
    );

    // 12 cm in both underpasses, over MQTT at QoS 1.
    let ts = (Utc::now() - Duration::seconds(20)).timestamp_millis();
    for device in ["HP-UP-1", "PT-UP-1"] {
        mosquitto_pub(
            &url,
            &format!("{prefix}/devices/{device}/telemetry"),
            1,
            &[json!({"metric": "water_level", "value": 12.0, "ts": ts, "seq": 1}).to_string()],
        );
    }
    assert_eq!(alarmed(app, "underpass", 1).await, ["HP-UP-1"]);
    let (_, alarms) = app
        .get(Some("operator"), "/api/v1/alarms?active=true")
        .await;
    assert!(!alarms.to_string().contains("PT-UP-1"), "{alarms}");
    let alarm = alarms
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["device_id"] == "HP-UP-1")
        .unwrap()
        .clone();
    let underpass_street = alarm["area"].as_str().unwrap()[..9].to_owned();

    // The leader draws a zone around the underpass and picks a street in each other district.
    let mut streets = vec![];
    for district in ["310104", "310105"] {
        let (_, areas) = app
            .get(Some("leader"), &format!("/api/v1/areas?parent={district}"))
            .await;
        streets.push(areas[0]["code"].as_str().unwrap().to_owned());
    }
    let (x, y, d) = (121.4837, 31.2369, 0.0005);
    let zone = json!({"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]});
    let (status, error) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": [], "zone": {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y]]]},
                   "title": "x"}),
        )
        .await;
    assert_eq!(status, 201, "a triangle is a zone too: {error}");
    let stray = error["id"].as_str().unwrap().to_owned();
    let (status, _) = command(
        app,
        "leader",
        &stray,
        json!({"command": "stand_down", "reason": "误开"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, error) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": [], "zone": {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d]]]}}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("zone.coordinates[0]")),
        "an open ring: {error}"
    );
    let (status, error) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": [], "zone": {"type": "Polygon", "coordinates": [[[116.0, 40.0], [116.1, 40.0], [116.1, 40.1], [116.0, 40.0]]]}}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("zone")),
        "Beijing is not this city: {error}"
    );
    let (status, incident) = app
        .post_json(
            Some("leader"),
            "/api/v1/incidents",
            json!({"plan": "rainstorm", "areas": streets, "zone": zone,
                   "title": "三区暴雨内涝", "warnings": [warning["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();
    let areas: Vec<&str> = incident["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(areas.contains(&underpass_street.as_str()), "{areas:?}");
    assert_eq!(incident["zone"], zone);
    let tasks = incident["tasks"].as_array().unwrap();
    let units: Vec<&str> = tasks.iter().map(|t| t["unit"].as_str().unwrap()).collect();
    for district in ["310101", "310104", "310105"] {
        for kind in ["SWJ", "GAFJ"] {
            assert!(
                units.contains(&format!("{district}-{kind}").as_str()),
                "{units:?}"
            );
        }
    }
    let offices: Vec<&&str> = units.iter().filter(|u| u.ends_with("-JDB")).collect();
    assert!(offices.len() >= 3, "{units:?}");
    assert_eq!(
        incident["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["移动泵车", "防汛沙袋"]
    );
    let told = incident["notices"][0]["units"].as_array().unwrap();
    assert!(told.contains(&json!("310101-FGJ")), "{incident}");

    // The alarm raised before the incident is linked by hand; later ones by area.
    let (status, body) = command(
        app,
        "lead",
        &id,
        json!({"command": "link", "kind": "alarm", "target": alarm["id"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, links) = app
        .get(Some("leader"), &format!("/api/v1/incidents/{id}/links"))
        .await;
    let link = &links["items"][0];
    assert_eq!(
        (&link["kind"], &link["level"], &link["state"]),
        (&json!("alarm"), &json!("orange"), &json!("active")),
        "{links}"
    );
    assert!(link["title"].as_str().unwrap().contains("HP-UP-1"));
    assert_eq!(link["location"]["lon"], json!(121.4837));
    // An underpass that floods now is linked by the incident's areas.
    let ts = Utc::now().timestamp_millis();
    mosquitto_pub(
        &url,
        &format!("{prefix}/devices/HP-UP-2/telemetry"),
        1,
        &[json!({"metric": "water_level", "value": 14.0, "ts": ts, "seq": 1}).to_string()],
    );
    let mut auto = Value::Null;
    for _ in 0..100 {
        let (_, links) = app
            .get(Some("leader"), &format!("/api/v1/incidents/{id}/links"))
            .await;
        if let Some(found) = links["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["title"].as_str().unwrap_or("").contains("HP-UP-2"))
        {
            auto = found.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(auto["auto"], json!(true), "linked by area: {auto}");

    let (status, _) = command(
        app,
        "leader",
        &id,
        json!({"command": "set_response", "level": "2", "reason": "暴雨红色预警，下立交积水"}),
    )
    .await;
    assert_eq!(status, 200);

    // Huangpu's water authority reports with a photo; the photo is its own to upload.
    let water_task = tasks.iter().find(|t| t["unit"] == "310101-SWJ").unwrap()["id"]
        .as_u64()
        .unwrap();
    let photos = format!("/api/v1/incidents/{id}/tasks/{water_task}/photos?file_name=pump.jpg");
    let photo = super::photos::jpeg(64, 48);
    let (status, _) = app
        .post_raw(Some("water"), &photos, "image/jpeg", photo.clone())
        .await;
    assert_eq!(
        status, 404,
        "the water company (ZLS) has no part in the incident"
    );
    let (status, uploaded) = app
        .post_raw(Some("lead"), &photos, "image/jpeg", photo.clone())
        .await;
    assert_eq!(status, 201, "{uploaded}");
    let (status, again) = app
        .post_raw(Some("lead"), &photos, "image/jpeg", photo)
        .await;
    assert_eq!((status, &again["id"]), (200, &uploaded["id"]));
    let (status, error) = app
        .post_raw(
            Some("lead"),
            &photos,
            "image/jpeg",
            b"not an image".to_vec(),
        )
        .await;
    assert!(status == 415 || status == 422, "{status} {error}");
    let (status, error) = app
        .post_raw(
            Some("lead"),
            &format!("/api/v1/incidents/{id}/tasks/first/photos"),
            "image/jpeg",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let photo_id = uploaded["id"].as_str().unwrap().to_owned();

    // Every task is accepted and reported by its own unit, through a handler of that unit.
    let admin_users = |unit: &str| {
        json!({"username": format!("h-{}", unit.to_lowercase()), "display_name": unit,
               "password": "correct horse battery staple", "role": "unit_handler",
               "unit": unit, "scope": if unit.ends_with("-JDB") { &unit[..9] } else { &unit[..6] }})
    };
    for task in tasks {
        let unit = task["unit"].as_str().unwrap();
        let (status, body) = app
            .post_json(Some("admin"), "/api/v1/users", admin_users(unit))
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, session) = app
            .post_json(
                None,
                "/api/v1/sessions",
                json!({"username": format!("h-{}", unit.to_lowercase()), "password": "correct horse battery staple"}),
            )
            .await;
        assert_eq!(status, 201, "{session}");
        let token = session["token"].as_str().unwrap();
        let task_id = task["id"].as_u64().unwrap();
        let act = |body: Value| {
            app.client
                .post(format!("{}/api/v1/incidents/{id}/commands", app.base))
                .bearer_auth(token)
                .json(&body)
                .send()
        };
        let response = act(json!({"command": "accept_task", "task": task_id}))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut finish =
            json!({"command": "finish_task", "task": task_id, "report": format!("{unit}已完成")});
        if task_id == water_task {
            finish["photos"] = json!(["nope"]);
            let response = act(finish.clone()).await.unwrap();
            assert_eq!(response.status(), 422, "a photo that was not uploaded");
            finish["photos"] = json!([photo_id]);
        }
        let response = act(finish).await.unwrap();
        assert_eq!(response.status(), 200, "{unit}");
        if task_id == water_task {
            let seen: Value = response.json().await.unwrap();
            assert_eq!(seen["tasks"][0]["photos"], json!([photo_id]));
            // The unit reads its own photo back; another street office does not.
            let image = app
                .client
                .get(format!(
                    "{}/api/v1/incidents/{id}/photos/{photo_id}",
                    app.base
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(image.status(), 200);
            assert_eq!(
                image.headers()["content-type"].to_str().unwrap(),
                "image/jpeg"
            );
        }
    }
    let (status, _) = command(
        app,
        "lead",
        &id,
        json!({"command": "sitrep", "text": "各下立交积水已排除，交通恢复"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = command(
        app,
        "leader",
        &id,
        json!({"command": "set_response", "level": "4", "reason": "预警降为黄色"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, stood) = command(
        app,
        "leader",
        &id,
        json!({"command": "stand_down", "reason": "预警解除，积水消退"}),
    )
    .await;
    assert_eq!((status, &stood["state"]), (200, &json!("stood_down")));

    let (_, timeline) = app
        .get(Some("leader"), &format!("/api/v1/incidents/{id}/timeline"))
        .await;
    let steps = timeline["items"].as_array().unwrap();
    let response = app
        .client
        .get(format!("{}/api/v1/incidents/{id}/report.xlsx", app.base))
        .bearer_auth(&app.tokens["leader"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let rows = book.worksheet_range("timeline").unwrap();
    assert_eq!(rows.height(), 1 + steps.len(), "a row per step");
    let text: String = rows
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    for expected in [
        "暴雨红色预警，下立交积水",
        "各下立交积水已排除，交通恢复",
        "310101-SWJ已完成",
        "预警解除，积水消退",
        "移动泵车",
    ] {
        assert!(text.contains(expected), "{expected} is in the report");
    }
    let linked: String = book
        .worksheet_range("links")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        linked.contains("下立交积水 · HP-UP-1") && linked.contains("HP-UP-2"),
        "{linked}"
    );
    // The map: a picture of the areas with the linked alarm in its level's colour.
    assert!(book.sheet_names().contains(&"map".to_owned()));
    let pictures = book.pictures().expect("the report has a map");
    let (kind, png) = &pictures[0];
    assert_eq!(kind, "png");
    let map = image::load_from_memory(png).unwrap().to_rgba8();
    assert!(map.width() >= 800, "a map one can read");
    let orange_alarm = map
        .pixels()
        .filter(|p| p.0[..3] == [0xf5, 0x7c, 0x00])
        .count();
    assert!(
        orange_alarm > 20,
        "the orange alarm is marked: {orange_alarm} pixels"
    );
    owned.finish().await;
    cityops_test_support::mqtt::clear_mqtt_session(&url, &client_id).await;
}
