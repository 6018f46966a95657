//! The 12345 hotline: a hotline report's caller contact sealed and masked, reports made safe
//! to repeat with an `Idempotency-Key` (across concurrent twins and a restart), and the
//! exchange with the 12345 system (tickets imported once, all or nothing; results exported).

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_hotline_report_keeps_its_callers_contact_sealed_and_masked,
    an_idempotency_key_answers_the_first_case_even_after_a_restart,
    concurrent_requests_with_one_key_open_one_case,
    tickets_import_once_and_all_or_nothing,
    results_carry_the_closed_state_the_reply_and_the_satisfaction,
);

fn report_body(description: &str) -> Value {
    json!({
        "source": "hotline",
        "description": description,
        "location": {"lon": 121.4919, "lat": 31.2150},
        "area": "310101002001",
        "contact": {"name": "王小明", "phone": "+86 139-0000-1111"},
    })
}

async fn post_keyed(app: &TestApp, base: &str, who: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&app.tokens[who])
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn count_cases(app: &TestApp, text: &str) -> usize {
    let (status, list) = app
        .get(Some("operator"), &format!("/api/v1/cases?q={text}"))
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().unwrap().len()
}

async fn a_hotline_report_keeps_its_callers_contact_sealed_and_masked(app: &TestApp) {
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            report_body("人民广场东侧路灯不亮"),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["reporter_name"], "王**");
    assert_eq!(case["reporter_phone"], "139****1111");
    let id = case["id"].as_str().unwrap();
    let (_, read) = app.get(Some("lead"), &format!("/api/v1/cases/{id}")).await;
    assert_eq!(read["reporter_phone"], "139****1111");
    assert!(!read.to_string().contains("王小明"), "{read}");
    let timeline = app.timeline(&case).await;
    assert!(!json!(timeline).to_string().contains("13900001111"));

    // A hotline caller's clear contact waits for the call-back step (tests/callback.rs).
    let (status, refused) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{id}/contact?purpose=callback"),
        )
        .await;
    assert_eq!(status, 409, "{refused}");

    // A department's report may carry one too, read for a purpose, normalised as
    // citizens' phones are; an inspector's may not.
    let mut department = report_body("部门转来：人民广场东侧路灯不亮");
    department["source"] = json!("department");
    let (status, case) = app
        .post_json(Some("operator"), "/api/v1/cases", department)
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["reporter_name"], "王**");
    let (status, contact) = app
        .get(
            Some("operator"),
            &format!(
                "/api/v1/cases/{}/contact?purpose=clarification",
                case["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["name"], "王小明");
    assert_eq!(contact["phone"], "13900001111");
    let mut inspector = report_body("巡查：人民广场东侧路灯不亮");
    inspector["source"] = json!("inspector");
    let (status, error) = app
        .post_json(Some("inspector"), "/api/v1/cases", inspector)
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "inconsistent_fields");
    assert_eq!(error["error"]["field"], "contact");
}

async fn an_idempotency_key_answers_the_first_case_even_after_a_restart(app: &TestApp) {
    let body = report_body("幂等测试：福州路窨井盖松动");
    let (status, first) = post_keyed(app, &app.base, "operator", "call-0001", &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_keyed(app, &app.base, "operator", "call-0001", &body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again, first, "the repeat answers the first answer");
    assert_eq!(count_cases(app, "幂等测试").await, 1);

    // The case moves on; a late repeat still answers the report as it was answered.
    app.ok("operator", &first, "accept", json!({})).await;
    let (status, late) = post_keyed(app, &app.base, "operator", "call-0001", &body).await;
    assert_eq!(status, 201);
    assert_eq!(late, first);

    // The same key with another body is a mistake, not a repeat.
    let other = report_body("幂等测试：另一件事");
    let (status, error) = post_keyed(app, &app.base, "operator", "call-0001", &other).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(count_cases(app, "幂等测试").await, 1);

    // Keys are the caller's own: another caller's same key is another report.
    let (status, theirs) = post_keyed(app, &app.base, "lead", "call-0001", &body).await;
    assert_eq!(status, 201);
    assert_ne!(theirs["id"], first["id"]);

    // A key that is not 1 to 128 visible ASCII characters is refused as the document says.
    let (status, error) = post_keyed(app, &app.base, "operator", &"k".repeat(129), &body).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "Idempotency-Key");

    // After a restart the key still answers the first case.
    let config = cityops::config::Config {
        listen: "127.0.0.1:0".into(),
        data_dir: app.data_dir.clone(),
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = cityops::start(&config, app.store.clone(), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.addr);
    let (status, after) = post_keyed(app, &base, "operator", "call-0001", &body).await;
    assert_eq!(status, 201, "{after}");
    assert_eq!(after, first);
    let _ = stop.send(());
    server.wait().await.unwrap();
    assert_eq!(
        count_cases(app, "幂等测试：福州路").await,
        2,
        "the operator's and the lead's"
    );
}

async fn concurrent_requests_with_one_key_open_one_case(app: &TestApp) {
    let body = report_body("并发测试：西藏中路积水");
    let answers = futures_util::future::join_all(
        (0..8).map(|_| post_keyed(app, &app.base, "operator", "burst-42", &body)),
    )
    .await;
    let first = &answers[0].1;
    for (status, answer) in &answers {
        assert_eq!(*status, 201, "{answer}");
        assert_eq!(answer["id"], first["id"]);
    }
    assert_eq!(count_cases(app, "并发测试").await, 1);
}

const HEADER: &str =
    "ticket_id,received_at,kind,caller_name,caller_phone,description,address,lon,lat,area";

async fn import(app: &TestApp, who: &str, content_type: &str, body: &str) -> (u16, Value) {
    app.put_raw(
        Some(who),
        "/api/v1/hotline/tickets",
        content_type,
        body.as_bytes().to_vec(),
    )
    .await
}

async fn tickets_import_once_and_all_or_nothing(app: &TestApp) {
    let csv = format!(
        "\u{feff}{HEADER}\n\
         T-1001,2026-05-01 08:00:00,投诉,李女士,13812345678,南京东路夜间施工噪音扰民,南京东路100号,121.4919,31.2150,310101002001\n\
         T-1002,2026-05-01 08:05:00,咨询,,,询问办事时间,,,,\n\
         T-1003,2026-05-01T01:10:00Z,request,,,九江路人行道井盖缺失,,121.4919,31.2150,\n"
    );
    let (status, answer) = import(app, "operator", "text/csv", &csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["imported"], 3);
    assert_eq!(answer["unchanged"], 0);
    let cases = answer["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "the enquiry opens no case");
    let (_, case) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", cases[0].as_str().unwrap()),
        )
        .await;
    assert_eq!(case["source"], "hotline");
    assert_eq!(case["hotline_ticket"], "T-1001");
    assert_eq!(case["area"], "310101002001");
    assert_eq!(case["reporter_name"], "李**");
    assert_eq!(case["reporter_phone"], "138****5678");

    // The same file again changes nothing.
    let (status, answer) = import(app, "lead", "text/csv", &csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"imported": 0, "unchanged": 3, "cases": []}));
    assert_eq!(count_cases(app, "南京东路夜间施工").await, 1);

    // JSON: one ticket known (unchanged), one new.
    let tickets = json!([
        {"ticket_id": "T-1002", "received_at": "2026-05-01 08:05:00", "kind": "enquiry",
         "caller_name": null, "caller_phone": null, "description": "询问办事时间",
         "address": null, "lon": null, "lat": null, "area": null},
        {"ticket_id": "T-1004", "received_at": "2026-05-01T02:00:00+08:00", "kind": "建议",
         "description": "建议在外滩增设休息座椅", "lon": 121.4919, "lat": 31.2150},
    ]);
    let (status, answer) = import(app, "admin", "application/json", &tickets.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["imported"], 1);
    assert_eq!(answer["unchanged"], 1);

    // A known id with other content refuses the file, naming the line; nothing is imported.
    let changed = format!(
        "{HEADER}\n\
         T-2001,2026-05-02 09:00:00,求助,,,新的一件事,,121.4919,31.2150,\n\
         T-1001,2026-05-01 08:00:00,投诉,李女士,13812345678,内容被改过,南京东路100号,121.4919,31.2150,310101002001\n"
    );
    let (status, error) = import(app, "operator", "text/csv", &changed).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "invalid_file");
    assert_eq!(error["error"]["field"], "line 3: ticket_id");

    // A malformed row names its line and column; the good rows before it are not imported.
    let malformed = format!(
        "{HEADER}\n\
         T-2001,2026-05-02 09:00:00,求助,,,新的一件事,,121.4919,31.2150,\n\
         T-2002,2026-05-02 09:05:00,投诉,,,又一件事,,121.4919,31.2150,\n\
         T-2003,2026-05-02 09:10:00,投诉,张先生,call me,第三件事,,121.4919,31.2150,\n"
    );
    let (status, error) = import(app, "operator", "text/csv", &malformed).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "invalid_file");
    assert_eq!(error["error"]["field"], "line 4: caller_phone");
    assert_eq!(count_cases(app, "新的一件事").await, 0);

    let bad_json = json!([
        {"ticket_id": "T-3001", "received_at": "2026-05-02 09:00:00", "kind": "投诉",
         "description": "一件事", "lon": 121.4919, "lat": 31.2150},
        {"ticket_id": "T-3002", "received_at": "2026-05-02 09:00:00", "kind": "投诉",
         "description": "一件事", "lon": "east", "lat": 31.2150},
    ]);
    let (status, error) = import(app, "operator", "application/json", &bad_json.to_string()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "invalid_file");
    assert_eq!(error["error"]["field"], "[1].lon");
    let outside = json!([
        {"ticket_id": "T-3003", "received_at": "2026-05-02 09:00:00", "kind": "other",
         "description": "一件事", "lon": 116.40, "lat": 39.90},
    ]);
    let (status, error) = import(app, "operator", "application/json", &outside.to_string()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "invalid_file");
    assert_eq!(error["error"]["field"], "[0].area");

    // Only operators, shift leads and admins exchange tickets.
    let (status, _) = import(app, "inspector", "text/csv", &csv).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .get(
            Some("dispatcher"),
            "/api/v1/hotline/tickets/results?from=2026-05-01&to=2026-05-02",
        )
        .await;
    assert_eq!(status, 403);
}

async fn results_carry_the_closed_state_the_reply_and_the_satisfaction(app: &TestApp) {
    let csv = format!(
        "{HEADER}\n\
         T-5001,2026-06-01 10:00:00,投诉,赵先生,13700001234,河南中路上水井盖缺失,,121.4919,31.2150,310101002001\n\
         T-5002,2026-06-01 10:30:00,表扬,,,表扬环卫工人,,,,\n"
    );
    let (status, answer) = import(app, "operator", "text/csv", &csv).await;
    assert_eq!(status, 200, "{answer}");
    let number = answer["cases"][0].as_str().unwrap();
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app.verified(&case).await;
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
        .ok("water", &case, "feedback", json!({"opinion": "已更换井盖"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    let case = app.ok("operator", &case, "start-callback", json!({})).await;
    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "reached", "satisfaction": "basically_satisfied"}),
        )
        .await;
    let case = app
        .ok(
            "lead",
            &case,
            "close",
            json!({"opinion": "井盖已更换，市民满意"}),
        )
        .await;
    assert_eq!(case["state"], "closed");

    let (status, rows) = app
        .get(
            Some("lead"),
            "/api/v1/hotline/tickets/results?from=2026-06-01&to=2026-06-01&format=json",
        )
        .await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["ticket_id"], "T-5001");
    assert_eq!(rows[0]["case_number"], number);
    assert_eq!(rows[0]["state"], "closed");
    assert_eq!(rows[0]["satisfied"], true);
    assert_eq!(rows[0]["satisfaction"], "basically_satisfied");
    assert_eq!(rows[0]["unreachable"], false);
    assert_eq!(rows[0]["reply"], "井盖已更换，市民满意");
    assert!(rows[0]["closed_at"].is_string());
    assert_eq!(rows[1]["ticket_id"], "T-5002");
    assert_eq!(rows[1]["case_number"], Value::Null);

    let (status, text) = app
        .get_text(
            Some("admin"),
            "/api/v1/hotline/tickets/results?from=2026-06-01&to=2026-06-01&format=csv",
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    let line = text.lines().find(|l| l.starts_with("T-5001")).unwrap();
    assert!(
        line.contains(",closed,")
            && line.contains(",true,")
            && line.ends_with(",basically_satisfied,false"),
        "{line}"
    );

    // Another day holds nothing; a period backwards is refused.
    let (_, rows) = app
        .get(
            Some("lead"),
            "/api/v1/hotline/tickets/results?from=2026-06-02&to=2026-06-03&format=json",
        )
        .await;
    assert_eq!(rows, json!([]));
    let (status, error) = app
        .get(
            Some("lead"),
            "/api/v1/hotline/tickets/results?from=2026-06-03&to=2026-06-02",
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["code"], "invalid_period");
    // A format it does not write is refused, not answered as CSV.
    let (status, error) = app
        .get(
            Some("lead"),
            "/api/v1/hotline/tickets/results?from=2026-06-02&to=2026-06-03&format=xml",
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("format"))
    );
}
