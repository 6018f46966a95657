//! Cases driven through every path of the workflow over HTTP, on SQLite and PostgreSQL.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_hotline_case_runs_from_report_to_close_with_photo_and_callback,
    a_returned_case_is_redispatched_and_counts_the_return,
    extension_and_parking_move_the_handling_deadline,
    failed_checks_and_unsatisfied_callbacks_send_the_case_back_for_rework,
    self_handling_rejection_and_cancellation_end_cases,
    commands_are_refused_by_role_unit_version_state_and_scope,
    case_lists_filter_page_and_stay_within_the_jurisdiction,
    leaders_supervise_and_shift_leads_mark_cases_urgent,
    reports_in_gcj02_and_bd09_are_stored_in_wgs84,
    signing_out_ends_the_session,
    the_responsibility_matrix_proposes_explains_and_defaults_the_dispatch,
    unclear_responsibility_escalates_street_to_district_to_city_which_decides,
    the_url_accepts_exactly_the_commands_the_workflow_lists_as_url_commands,
);

async fn the_url_accepts_exactly_the_commands_the_workflow_lists_as_url_commands(app: &TestApp) {
    let (status, workflow) = app.get(None, "/api/v1/workflow").await;
    assert_eq!(status, 200, "{workflow}");
    let case = app.report("operator", "hotline").await;
    let id = case["id"].as_str().unwrap();
    let commands = workflow["commands"].as_array().unwrap();
    let mut by_url = Vec::new();
    for command in commands {
        let name = command["command"].as_str().unwrap();
        // A stale version: whatever the command does, it changes nothing here.
        let path = format!("/api/v1/cases/{id}/{name}");
        let (status, body) = app
            .post_json(Some("operator"), &path, json!({"version": 0}))
            .await;
        let code = body["error"]["code"].as_str();
        if command["issued"] == "url" {
            by_url.push(name.to_owned());
            assert!(
                status != 404 && code != Some("unknown_command"),
                "{name} is listed as a URL command but POST {path} answers {status} {body}"
            );
            assert_eq!(
                command["endpoints"],
                json!([format!("POST /api/v1/cases/{{id}}/{name}")])
            );
        } else {
            assert_eq!(
                (status, code),
                (404, Some("unknown_command")),
                "{name} is issued via {} but POST {path} answers {body}",
                command["issued"]
            );
        }
    }
    for (name, issued) in [
        ("report", "report"),
        ("attach", "attachment"),
        ("rate", "rating"),
        ("note", "system"),
    ] {
        let listed = commands.iter().find(|c| c["command"] == name);
        assert_eq!(listed.map(|c| &c["issued"]), Some(&json!(issued)), "{name}");
    }
    assert!(by_url.len() >= 24, "{by_url:?}");
    let (status, error) = app
        .post_json(
            Some("operator"),
            &format!("/api/v1/cases/{id}/explode"),
            json!({"version": 1}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("unknown_command"))
    );
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        by_url.iter().all(|name| message.contains(name.as_str())),
        "{message}"
    );
    assert_eq!(
        app.timeline(&case).await.len(),
        1,
        "nothing changed the case"
    );
}

async fn filed_and_dispatched(app: &TestApp, unit: &str) -> Value {
    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok(
            "lead",
            &case,
            "file",
            json!({"category": "10101", "opinion": "上水井盖缺失，紧急"}),
        )
        .await;
    app.ok("dispatcher", &case, "dispatch", json!({"unit": unit}))
        .await
}

/// A real photo: uploads are decoded whole.
fn jpeg() -> Vec<u8> {
    crate::photos::jpeg(32, 24)
}

async fn a_hotline_case_runs_from_report_to_close_with_photo_and_callback(app: &TestApp) {
    let case = app.report("operator", "hotline").await;
    assert_eq!(case["state"], "reported");
    let number = case["number"].as_str().unwrap();
    assert_eq!(number.len(), 19);
    assert!(number.starts_with("310101"));
    let case = app
        .ok("operator", &case, "accept", json!({"opinion": "受理"}))
        .await;
    let case = app
        .ok("operator", &case, "request-verification", json!({}))
        .await;
    assert_eq!(case["state"], "verifying");
    let case = app
        .ok(
            "inspector",
            &case,
            "verify",
            json!({"exists": true, "opinion": "现场属实"}),
        )
        .await;
    assert_eq!(case["state"], "accepted");
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
        .await;
    assert_eq!(case["state"], "filed");
    assert_eq!(case["category"]["zh"], "上水井盖");
    assert_eq!(case["stage"], "dispatch");
    assert!(case["deadline"].is_string());
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    assert_eq!(case["unit"], "310101-ZLS");
    let case = app.ok("water", &case, "sign", json!({})).await;
    assert_eq!(case["state"], "handling");
    assert_eq!(case["stage"], "handling");

    let id = case["id"].as_str().unwrap();
    let photo = jpeg();
    let (status, attachment) = app
        .post_raw(
            Some("water"),
            &format!(
                "/api/v1/cases/{id}/attachments?version={}&file_name=after.jpg",
                case["version"]
            ),
            "image/jpeg",
            photo.clone(),
        )
        .await;
    assert_eq!(status, 201, "{attachment}");
    assert_eq!(attachment["content_type"], "image/jpeg");
    let response = app
        .client
        .get(format!(
            "{}/api/v1/attachments/{}",
            app.base,
            attachment["id"].as_str().unwrap()
        ))
        .bearer_auth(&app.tokens["operator"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // What is stored is the photo re-encoded, and the recorded hash is that copy's.
    let stored = response.bytes().await.unwrap().to_vec();
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&stored))
    };
    assert_eq!(attachment["sha256"], expected);
    let (a, b) = (
        image::load_from_memory(&stored).unwrap().to_rgb8(),
        image::load_from_memory(&photo).unwrap().to_rgb8(),
    );
    assert_eq!(a.dimensions(), b.dimensions());

    let (_, case) = app.get(Some("water"), &format!("/api/v1/cases/{id}")).await;
    let case = app
        .ok(
            "water",
            &case,
            "feedback",
            json!({"opinion": "已更换新井盖", "attachments": [attachment["id"]]}),
        )
        .await;
    assert_eq!(case["state"], "handled");
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    assert_eq!(case["stage"], "check");
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    assert_eq!(case["state"], "checked");
    // A hotline case closes only after the citizen was called back.
    let (status, error) = app.command("lead", &case, "close", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "precondition_failed");
    let case = app.ok("operator", &case, "start-callback", json!({})).await;
    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "reached", "satisfaction": "satisfied", "opinion": "市民满意"}),
        )
        .await;
    let case = app
        .ok("lead", &case, "close", json!({"opinion": "结案"}))
        .await;
    assert_eq!(case["state"], "closed");
    assert!(case["closed_at"].is_string());

    let timeline = app.timeline(&case).await;
    let actions: Vec<&str> = timeline
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "report",
            "accept",
            "request_verification",
            "verify",
            "file",
            "dispatch",
            "sign",
            "attach",
            "feedback",
            "send_check",
            "check",
            "start_callback",
            "callback",
            "close"
        ]
    );
    assert_eq!(timeline.len() as i64, case["version"].as_i64().unwrap());
    assert_eq!(timeline[5]["details"]["unit"], "310101-ZLS");
    assert_eq!(timeline[6]["username"], "water");
    assert_eq!(timeline[13]["from"], "checked");
    assert_eq!(timeline[13]["to"], "closed");
    // The number finds the case too.
    let (status, by_number) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_number["id"], case["id"]);
}

async fn a_returned_case_is_redispatched_and_counts_the_return(app: &TestApp) {
    let case = filed_and_dispatched(app, "310101-GD").await;
    let (status, error) = app.command("power", &case, "return", json!({})).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    let case = app
        .ok(
            "power",
            &case,
            "return",
            json!({"reason": "上水井盖不属于供电公司"}),
        )
        .await;
    assert_eq!(case["state"], "filed");
    assert_eq!(case["return_count"], 1);
    assert!(case["unit"].is_null());
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let case = app.ok("water", &case, "sign", json!({})).await;
    assert_eq!(case["state"], "handling");
    // A unit from another district cannot take a Huangpu case.
    let other = filed_and_dispatched(app, "310101-ZLS").await;
    let other = app
        .ok("water", &other, "return", json!({"reason": "再派"}))
        .await;
    let (status, error) = app
        .command(
            "dispatcher",
            &other,
            "dispatch",
            json!({"unit": "310104-ZLS"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "precondition_failed");
}

async fn extension_and_parking_move_the_handling_deadline(app: &TestApp) {
    let case = filed_and_dispatched(app, "310101-ZLS").await;
    let case = app.ok("water", &case, "sign", json!({})).await;
    let far = (chrono::Utc::now() + chrono::Duration::days(800)).to_rfc3339();
    let (status, error) = app
        .command(
            "water",
            &case,
            "request-extension",
            json!({"until": far, "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("until"))
    );
    let until = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let case = app
        .ok(
            "water",
            &case,
            "request-extension",
            json!({"until": until, "reason": "需更换井框"}),
        )
        .await;
    assert_eq!(case["pending"]["kind"], "extension");
    // A second request waits for the first decision.
    let (status, _) = app
        .command("water", &case, "request-park", json!({"reason": "x"}))
        .await;
    assert_eq!(status, 409);
    let case = app
        .ok("lead", &case, "decide-extension", json!({"approve": true}))
        .await;
    assert!(case["pending"].is_null());
    assert_eq!(case["extension_count"], 1);
    let deadline =
        chrono::DateTime::parse_from_rfc3339(case["deadline"].as_str().unwrap()).unwrap();
    let wanted = chrono::DateTime::parse_from_rfc3339(&until).unwrap();
    assert!((deadline - wanted).num_seconds().abs() <= 1);
    let case = app
        .ok(
            "water",
            &case,
            "request-park",
            json!({"reason": "等待管线迁移"}),
        )
        .await;
    let case = app
        .ok("lead", &case, "decide-park", json!({"approve": true}))
        .await;
    assert_eq!(case["state"], "suspended");
    assert!(case["deadline"].is_null());
    assert_eq!(case["overdue"], false);
    let case = app.ok("water", &case, "resume", json!({})).await;
    assert_eq!(case["state"], "handling");
    let resumed = chrono::DateTime::parse_from_rfc3339(case["deadline"].as_str().unwrap()).unwrap();
    assert!(
        (resumed - wanted).num_seconds().abs() <= 5,
        "the parked time is added back"
    );
}

async fn failed_checks_and_unsatisfied_callbacks_send_the_case_back_for_rework(app: &TestApp) {
    let case = app.report("operator", "hotline").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    // A hotline report is verified on site before it is filed.
    let (status, error) = app
        .command("lead", &case, "file", json!({"category": "20102"}))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("precondition_failed"))
    );
    let case = app.verified(&case).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "20102"}))
        .await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let mut case = app.ok("water", &case, "sign", json!({})).await;
    for round in 1..=2 {
        case = app
            .ok("water", &case, "feedback", json!({"opinion": "已清运"}))
            .await;
        case = app.ok("operator", &case, "send-check", json!({})).await;
        if round == 1 {
            case = app
                .ok(
                    "inspector",
                    &case,
                    "check",
                    json!({"passed": false, "opinion": "仍有垃圾"}),
                )
                .await;
        } else {
            case = app
                .ok("inspector", &case, "check", json!({"passed": true}))
                .await;
            case = app.ok("operator", &case, "start-callback", json!({})).await;
            case = app
                .ok("operator", &case, "callback", json!({"satisfied": false}))
                .await;
        }
        assert_eq!(case["state"], "dispatched");
        assert_eq!(case["rework_count"], round);
        case = app.ok("water", &case, "sign", json!({})).await;
    }
}

async fn self_handling_rejection_and_cancellation_end_cases(app: &TestApp) {
    let case = app.report("inspector", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok(
            "inspector",
            &case,
            "self-handle",
            json!({"opinion": "已现场扶正井盖"}),
        )
        .await;
    assert_eq!(case["state"], "closed");
    assert_eq!(case["self_handled"], true);

    let hotline = app.report("operator", "hotline").await;
    let hotline = app.ok("operator", &hotline, "accept", json!({})).await;
    let (status, error) = app
        .command(
            "inspector",
            &hotline,
            "self-handle",
            json!({"opinion": "已处理"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("precondition_failed")),
        "a hotline case is called back"
    );

    let duplicate = app.report("operator", "hotline").await;
    let (status, error) = app
        .command(
            "operator",
            &duplicate,
            "reject",
            json!({"reject_reason": "duplicate"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["field"], "duplicate_of");
    let rejected = app
        .ok(
            "operator",
            &duplicate,
            "reject",
            json!({"reject_reason": "duplicate", "duplicate_of": case["number"]}),
        )
        .await;
    assert_eq!(rejected["state"], "invalid");
    assert_eq!(rejected["duplicate_of"], case["number"]);

    let cancelled = filed_and_dispatched(app, "310101-ZLS").await;
    let cancelled = app
        .ok("lead", &cancelled, "cancel", json!({"reason": "重复立案"}))
        .await;
    assert_eq!(cancelled["state"], "cancelled");
    let (status, error) = app.command("water", &cancelled, "sign", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "transition_not_allowed");
}

async fn commands_are_refused_by_role_unit_version_state_and_scope(app: &TestApp) {
    let case = app.report("operator", "inspector").await;
    let (status, error) = app.command("dispatcher", &case, "accept", json!({})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("role_not_allowed"))
    );
    // The role is refused before the version is even looked at.
    let stale = json!({"version": 99});
    let accept = format!("/api/v1/cases/{}/accept", case["id"].as_str().unwrap());
    let (status, _) = app.post_json(Some("dispatcher"), &accept, stale).await;
    assert_eq!(status, 403);
    let (status, error) = app.command("admin", &case, "accept", json!({})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("role_not_allowed"))
    );
    let (status, error) = app
        .command("operator", &case, "dispatch", json!({"unit": "310101-ZLS"}))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("role_not_allowed"))
    );
    let (status, error) = app
        .command("operator", &case, "send-check", json!({}))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("transition_not_allowed"))
    );

    let accepted = app.ok("operator", &case, "accept", json!({})).await;
    // `case` still holds version 1: a stale write is refused and changes nothing.
    let (status, error) = app
        .command(
            "operator",
            &case,
            "reject",
            json!({"reject_reason": "invalid"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("version_conflict"))
    );
    assert_eq!(error["error"]["field"], "version");
    let (_, now) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(now["state"], "accepted");
    assert_eq!(now["version"], accepted["version"]);

    let dispatched = filed_and_dispatched(app, "310101-ZLS").await;
    // Another unit's case is outside the power company's jurisdiction: as if missing.
    let (status, error) = app.command("power", &dispatched, "sign", json!({})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // Outside the caller's jurisdiction a case does not exist.
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let (status, error) = app.get(Some("xuhui_operator"), &path).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = app
        .command(
            "xuhui_operator",
            &accepted,
            "request-verification",
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(Some("xuhui_operator"), &format!("{path}/timeline"))
        .await;
    assert_eq!(status, 404);
    // ...and no token is no access.
    let (status, error) = app.get(None, &path).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(app.timeline(&accepted).await.len(), 2);
}

async fn case_lists_filter_page_and_stay_within_the_jurisdiction(app: &TestApp) {
    for _ in 0..5 {
        app.report("operator", "hotline").await;
    }
    let filed = filed_and_dispatched(app, "310101-ZLS").await;
    let (_, xuhui) = app
        .post_json(
            Some("xuhui_operator"),
            "/api/v1/cases",
            json!({"source": "photo", "description": "徐家汇公园(Xujiahui Park)东门旁垃圾桶满溢", "location": {"lon": 121.437, "lat": 31.195}, "area": "310104"}),
        )
        .await;
    assert_eq!(xuhui["district"], "310104");

    let (_, all) = app.get(Some("operator"), "/api/v1/cases?limit=200").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    let (_, mine) = app.get(Some("xuhui_operator"), "/api/v1/cases").await;
    let mine = mine["items"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], xuhui["id"]);
    let (_, dispatched) = app
        .get(Some("operator"), "/api/v1/cases?state=dispatched,filed")
        .await;
    assert_eq!(dispatched["items"].as_array().unwrap().len(), 1);
    assert_eq!(dispatched["items"][0]["id"], filed["id"]);
    let (_, by_unit) = app
        .get(
            Some("operator"),
            "/api/v1/cases?unit=310101-ZLS&category=101",
        )
        .await;
    assert_eq!(by_unit["items"].as_array().unwrap().len(), 1);
    let (_, text) = app
        .get(
            Some("operator"),
            "/api/v1/cases?q=%E5%BE%90%E5%AE%B6%E6%B1%87",
        )
        .await;
    assert_eq!(text["items"].as_array().unwrap().len(), 1);
    // Search ignores the case of Latin letters on both databases.
    let (_, found) = app
        .get(
            Some("operator"),
            "/api/v1/cases?q=%E5%BE%90%E5%AE%B6%E6%B1%87",
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, upper) = app
        .get(Some("xuhui_operator"), "/api/v1/cases?q=PARK")
        .await;
    let (_, lower) = app
        .get(Some("xuhui_operator"), "/api/v1/cases?q=park")
        .await;
    assert_eq!(upper["items"].as_array().unwrap().len(), 1);
    assert_eq!(lower["items"].as_array().unwrap().len(), 1);
    let (_, photos) = app
        .get(Some("operator"), "/api/v1/cases?source=photo&area=310104")
        .await;
    assert_eq!(photos["items"].as_array().unwrap().len(), 1);
    let (_, overdue) = app
        .get(Some("operator"), "/api/v1/cases?overdue=true")
        .await;
    assert!(overdue["items"].as_array().unwrap().is_empty());
    let (_, future) = app
        .get(Some("operator"), "/api/v1/cases?from=2100-01-01T00:00:00Z")
        .await;
    assert!(future["items"].as_array().unwrap().is_empty());

    let mut seen = Vec::new();
    let mut path = "/api/v1/cases?limit=3".to_owned();
    loop {
        let (status, page) = app.get(Some("operator"), &path).await;
        assert_eq!(status, 200);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/cases?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort_by_key(|v| v.to_string());
    unique.dedup();
    assert_eq!(unique.len(), 7);
}

async fn leaders_supervise_and_shift_leads_mark_cases_urgent(app: &TestApp) {
    let case = filed_and_dispatched(app, "310101-ZLS").await;
    let (status, _) = app
        .command("lead", &case, "supervise", json!({"opinion": "x"}))
        .await;
    assert_eq!(status, 403);
    let case = app
        .ok(
            "leader",
            &case,
            "supervise",
            json!({"opinion": "请加快处置"}),
        )
        .await;
    assert_eq!(case["supervised"], true);
    let case = app
        .ok("lead", &case, "set-urgent", json!({"urgent": false}))
        .await;
    assert_eq!(case["urgent"], false);
    assert_eq!(case["state"], "dispatched");
}

async fn reports_in_gcj02_and_bd09_are_stored_in_wgs84(app: &TestApp) {
    // One WGS-84 point in Nanjing East Road street as AMap (GCJ-02) and Baidu (BD-09) show it.
    let wgs = (121.4919, 31.2150);
    let gcj = cityops_geo::crs::wgs84_to_gcj02(wgs.0, wgs.1);
    let bd = cityops_geo::crs::gcj02_to_bd09(gcj.0, gcj.1);
    for (crs, (lon, lat)) in [("gcj02", gcj), ("bd09", bd), ("wgs84", wgs)] {
        let (status, case) = app
            .post_json(
                Some("operator"),
                "/api/v1/cases",
                json!({"source": "hotline", "description": "井盖缺失", "location": {"lon": lon, "lat": lat}, "crs": crs, "area": "310101002"}),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        let stored = (
            case["location"]["lon"].as_f64().unwrap(),
            case["location"]["lat"].as_f64().unwrap(),
        );
        assert!(
            (stored.0 - wgs.0).abs() < 1e-6 && (stored.1 - wgs.1).abs() < 1e-6,
            "{crs}: {stored:?}"
        );
    }
}

async fn signing_out_ends_the_session(app: &TestApp) {
    let (status, session) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": "evaluator", "password": cityops_test_support::PASSWORD}),
        )
        .await;
    assert_eq!(status, 201);
    // The session works until its owner signs out.
    let token = session["token"].as_str().unwrap();
    let me = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let out = app
        .client
        .delete(format!("{}/api/v1/sessions/current", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let me = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
}

async fn put_rules(app: &TestApp, who: &str, csv: &str) -> (u16, Value) {
    let response = app
        .client
        .put(format!("{}/api/v1/routing/rules", app.base))
        .bearer_auth(&app.tokens[who])
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_responsibility_matrix_proposes_explains_and_defaults_the_dispatch(app: &TestApp) {
    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let path = format!("/api/v1/cases/{}/routing", case["id"].as_str().unwrap());
    let (_, unfiled) = app.get(Some("dispatcher"), &path).await;
    assert!(unfiled["unit"].is_null(), "{unfiled}");
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
        .await;
    let (_, default) = app.get(Some("dispatcher"), &path).await;
    assert_eq!(default["unit"], "310101-ZLS");
    assert!(default["rule"].is_null());
    assert!(
        default["reason"]
            .as_str()
            .unwrap()
            .contains("no rule matches"),
        "{default}"
    );

    // Officials keep the matrix in Excel: a more specific rule for this street wins.
    let csv =
        "\u{feff}category,area,owner,unit\n1,310101,,310101-CGZF\n10101,310101002,,310101-SWJ\n";
    let (status, error) = put_rules(app, "dispatcher", csv).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, error) = put_rules(
        app,
        "admin",
        "category,area,owner,unit\n1,310101,,310101-CGZF\nx,310101,,310101-SWJ\n",
    )
    .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("line 3: category")),
        "{error}"
    );
    let (status, error) = put_rules(
        app,
        "admin",
        "category,area,owner,unit\n1,310101,,NO-SUCH-UNIT\n",
    )
    .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("line 2: unit")),
        "{error}"
    );
    let (_, rules) = app.get(Some("operator"), "/api/v1/routing/rules").await;
    assert_eq!(rules, json!([]), "a refused file changes nothing");
    let (status, rules) = put_rules(app, "admin", csv).await;
    assert_eq!(status, 200, "{rules}");
    let (_, explained) = app.get(Some("dispatcher"), &path).await;
    assert_eq!(explained["unit"], "310101-SWJ");
    assert_eq!(explained["rule"]["area"], "310101002");
    assert_eq!(explained["overridden"].as_array().unwrap().len(), 1);

    // Dispatch without naming a unit goes to the proposal, and the timeline says why.
    let dispatched = app.ok("dispatcher", &case, "dispatch", json!({})).await;
    assert_eq!(dispatched["unit"], "310101-SWJ");
    let timeline = app.timeline(&dispatched).await;
    let reason = timeline.last().unwrap()["details"]["opinion"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("310101002"), "{reason}");
    let export = app
        .client
        .get(format!("{}/api/v1/routing/rules.csv", app.base))
        .bearer_auth(&app.tokens["operator"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        export.starts_with('\u{feff}') && export.contains("10101,310101002,,310101-SWJ"),
        "{export}"
    );
}

async fn unclear_responsibility_escalates_street_to_district_to_city_which_decides(app: &TestApp) {
    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "20101"}))
        .await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let (_, seen) = app.get(Some("street_dispatcher"), &path).await;
    assert_eq!(seen["actions"], json!(["dispatch", "escalate"]));
    let (status, error) = app
        .command("street_dispatcher", &case, "escalate", json!({}))
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    let case = app
        .ok(
            "street_dispatcher",
            &case,
            "escalate",
            json!({"reason": "违建跨两个街道，责任不清"}),
        )
        .await;
    assert_eq!(case["coordination"]["center"], "310101");
    assert_eq!(case["state"], "filed");
    let (status, error) = app
        .command(
            "street_dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-CGZF"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("precondition_failed"))
    );
    let (_, seen) = app.get(Some("street_dispatcher"), &path).await;
    assert_eq!(
        seen["actions"],
        json!([]),
        "the street waits for the district"
    );

    let (_, queue) = app
        .get(
            Some("huangpu_dispatcher"),
            "/api/v1/cases?coordination=310101",
        )
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let case = app
        .ok(
            "huangpu_dispatcher",
            &case,
            "escalate",
            json!({"reason": "涉及市级管线单位"}),
        )
        .await;
    assert_eq!(case["coordination"]["center"], "310000");
    let (_, queue) = app
        .get(
            Some("huangpu_dispatcher"),
            "/api/v1/cases?coordination=310101",
        )
        .await;
    assert!(queue["items"].as_array().unwrap().is_empty());
    let (_, queue) = app
        .get(Some("dispatcher"), "/api/v1/cases?coordination=310000")
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let (status, error) = app
        .command("dispatcher", &case, "escalate", json!({"reason": "x"}))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("precondition_failed")),
        "the city decides"
    );
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-CGZF", "opinion": "市中心协调：由黄浦区城管执法局牵头"}),
        )
        .await;
    assert_eq!(case["state"], "dispatched");
    assert!(case["coordination"].is_null());
    let actions: Vec<String> = app
        .timeline(&case)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["report", "accept", "file", "escalate", "escalate", "dispatch"]
    );
}
