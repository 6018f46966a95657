//! Merging duplicate reports over HTTP: a report merged into its master follows the master
//! (both timelines say so, in one write), a shift lead undoes it, the citizen who reported it
//! follows the master's handling, a citizen about to report the same problem is told it is
//! already reported, and every refusal changes nothing.

use cityops_test_support::{on_both_backends, percent_encode, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_report_merged_into_its_master_follows_it_until_a_shift_lead_undoes_it,
    a_merge_that_cannot_be_is_refused_and_changes_nothing,
    a_citizen_is_told_the_problem_is_already_reported_and_follows_the_master,
    every_merged_caller_is_called_back_before_the_master_closes,
);

async fn case(app: &TestApp, id: &str) -> Value {
    let (status, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}"))
        .await;
    assert_eq!(status, 200, "{case}");
    case
}

fn actions(case: &Value) -> Vec<&str> {
    case["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn commands(timeline: &[Value]) -> Vec<&str> {
    timeline
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn a_report_merged_into_its_master_follows_it_until_a_shift_lead_undoes_it(app: &TestApp) {
    let master = app.report("inspector", "inspector").await;
    let report = app.report("operator", "hotline").await;
    let report = app.ok("operator", &report, "accept", json!({})).await;
    assert!(actions(&report).contains(&"merge"), "{report}");
    // A dispatcher does not merge.
    let (status, body) = app
        .command(
            "dispatcher",
            &report,
            "merge",
            json!({"master": master["number"]}),
        )
        .await;
    assert_eq!(status, 403, "{body}");

    let merged = app
        .ok(
            "operator",
            &report,
            "merge",
            json!({"master": master["number"], "opinion": "同一井盖，巡查员已上报"}),
        )
        .await;
    assert_eq!(merged["state"], "merged");
    assert_eq!(merged["merged_into"]["id"], master["id"]);
    assert_eq!(merged["merged_into"]["number"], master["number"]);
    assert!(merged["deadline"].is_null(), "{merged}");
    assert!(merged["closed_at"].is_string(), "{merged}");
    // The operator may do nothing more with it; a shift lead may undo it.
    assert!(actions(&merged).is_empty(), "{merged}");
    let (_, as_lead) = app
        .get(
            Some("lead"),
            &format!("/api/v1/cases/{}", report["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(actions(&as_lead), ["unmerge"], "{as_lead}");

    let master_now = case(app, master["id"].as_str().unwrap()).await;
    assert_eq!(
        master_now["version"],
        master["version"].as_i64().unwrap() + 1
    );
    let listed = master_now["merged_reports"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{master_now}");
    assert_eq!(listed[0]["id"], report["id"]);
    assert_eq!(listed[0]["number"], report["number"]);
    assert_eq!(listed[0]["source"], "hotline");
    // The master, a master now, is merged into nothing.
    assert!(!actions(&master_now).contains(&"merge"), "{master_now}");

    let report_timeline = app.timeline(&merged).await;
    assert_eq!(
        commands(&report_timeline),
        ["report", "accept", "merge"],
        "{report_timeline:?}"
    );
    let master_timeline = app.timeline(&master_now).await;
    assert_eq!(
        commands(&master_timeline).last(),
        Some(&"take_report"),
        "{master_timeline:?}"
    );
    // Both changes are on the audit log, as one request's.
    let (status, audit) = app
        .get(
            Some("auditor"),
            &format!(
                "/api/v1/audit?action=case.take_report&object=case:{}",
                master["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // Merged twice is refused: the report is no longer in a state that merges.
    let other = app.report("inspector", "inspector").await;
    let (status, body) = app
        .command(
            "operator",
            &merged,
            "merge",
            json!({"master": other["number"]}),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // The operator cannot undo; the shift lead can, with a reason.
    let (status, body) = app
        .command("operator", &merged, "unmerge", json!({"reason": "看错了"}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app.command("lead", &merged, "unmerge", json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let back = app
        .ok(
            "lead",
            &merged,
            "unmerge",
            json!({"reason": "不是同一处井盖，另行处置"}),
        )
        .await;
    assert_eq!(back["state"], "accepted");
    assert!(back["merged_into"].is_null(), "{back}");
    assert!(back["closed_at"].is_null(), "{back}");
    assert_eq!(back["stage"], "file", "{back}");
    assert!(back["deadline"].is_string(), "{back}");
    let master_after = case(app, master["id"].as_str().unwrap()).await;
    assert!(master_after["merged_reports"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        commands(&app.timeline(&master_after).await).last(),
        Some(&"release_report")
    );
    // Undone, it goes on as any report: filed after its verification.
    let back = app.verified(&back).await;
    app.ok("lead", &back, "file", json!({"category": "10101"}))
        .await;

    // A master that finished keeps its merged reports: its result answered them.
    let late = app.report("operator", "hotline").await;
    let late = app
        .ok(
            "operator",
            &late,
            "merge",
            json!({"master": master["number"]}),
        )
        .await;
    let master_now = case(app, master["id"].as_str().unwrap()).await;
    app.ok("lead", &master_now, "cancel", json!({"reason": "测试结束"}))
        .await;
    let (status, body) = app
        .command("lead", &late, "unmerge", json!({"reason": "撤销"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "precondition_failed");
}

async fn a_merge_that_cannot_be_is_refused_and_changes_nothing(app: &TestApp) {
    let master = app.report("inspector", "inspector").await;
    let report = app.report("operator", "hotline").await;
    let before = app.timeline(&report).await.len();

    for (body, status, field, code) in [
        (json!({}), 422, "master", "inconsistent_fields"),
        (json!({"master": "31010"}), 422, "master", "invalid_input"),
        (
            json!({"master": "3101012099010100001"}),
            422,
            "master",
            "unknown_reference",
        ),
        (
            json!({"master": report["number"]}),
            409,
            "master",
            "precondition_failed",
        ),
    ] {
        let (got, answer) = app
            .command("operator", &report, "merge", body.clone())
            .await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    // Xuhui's operator sees neither case: the master is, to them, no case.
    let (status, xuhui) = app
        .post_json(
            Some("xuhui_operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "徐家汇天桥下井盖缺失", "location": {"lon": 121.437, "lat": 31.195}, "area": "310104"}),
        )
        .await;
    assert_eq!(status, 201, "{xuhui}");
    let (got, answer) = app
        .command(
            "xuhui_operator",
            &xuhui,
            "merge",
            json!({"master": master["number"]}),
        )
        .await;
    assert_eq!(got, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown_reference");

    // A finished master takes no report.
    let finished = app.report("inspector", "inspector").await;
    let finished = app
        .ok("lead", &finished, "cancel", json!({"reason": "测试"}))
        .await;
    let (got, answer) = app
        .command(
            "operator",
            &report,
            "merge",
            json!({"master": finished["number"]}),
        )
        .await;
    assert_eq!(got, 409, "{answer}");
    assert_eq!(answer["error"]["field"], "master");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{answer}"
    );

    // A merged case takes no report either: no chains, no report with two masters.
    let merged = app
        .ok(
            "operator",
            &report,
            "merge",
            json!({"master": master["number"]}),
        )
        .await;
    let third = app.report("operator", "hotline").await;
    let (got, answer) = app
        .command(
            "operator",
            &third,
            "merge",
            json!({"master": merged["number"]}),
        )
        .await;
    assert_eq!(got, 409, "{answer}");
    // A master is merged into no other.
    let (got, answer) = app
        .command(
            "operator",
            &master,
            "merge",
            json!({"master": third["number"]}),
        )
        .await;
    assert_eq!(got, 409, "{answer}");
    // A stale version changes nothing.
    let (got, answer) = app
        .post_json(
            Some("operator"),
            &format!("/api/v1/cases/{}/merge", third["id"].as_str().unwrap()),
            json!({"version": 99, "master": master["number"]}),
        )
        .await;
    assert_eq!(got, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "version_conflict");

    let third_now = case(app, third["id"].as_str().unwrap()).await;
    assert_eq!(third_now["state"], "reported");
    assert_eq!(third_now["version"], third["version"]);
    let master_now = case(app, master["id"].as_str().unwrap()).await;
    assert_eq!(master_now["merged_reports"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.timeline(&merged).await.len(),
        before + 1,
        "only the one merge was written"
    );
}

async fn a_citizen_is_told_the_problem_is_already_reported_and_follows_the_master(app: &TestApp) {
    let (status, master) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "南京东路步行街东侧上水井盖缺失，已设置临时围挡",
                "location": {"lon": 121.4919, "lat": 31.2150},
                "area": "310101002001",
                "category_hint": "10101",
            }),
        )
        .await;
    assert_eq!(status, 201, "{master}");
    let text = percent_encode("步行街上井盖缺失了，很危险");
    let (status, found) = app
        .get(
            None,
            &format!(
                "/api/v1/public/duplicate-candidates?text={text}&lon=121.4921&lat=31.2151&category=10101"
            ),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let candidates = found["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{found}");
    assert_eq!(candidates[0]["number"], master["number"]);
    assert_eq!(candidates[0]["state"], "reported");
    assert_eq!(candidates[0]["state_zh"], "待受理");
    // Only what the number tells anyone: no description, no id, no reporter.
    let keys: Vec<&String> = candidates[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["distance_m", "number", "score", "state", "state_zh"]);
    for (query, field) in [
        (format!("text={text}&lon=121.4921"), "lat"),
        ("text=x&lon=121.4921&lat=31.2151".to_string(), "text"),
        (
            format!("text={text}&lon=121.4921&lat=31.2151&category=9"),
            "category",
        ),
        (format!("text={text}&lon=120.0&lat=40.0"), "lon"),
    ] {
        let (status, body) = app
            .get(
                None,
                &format!("/api/v1/public/duplicate-candidates?{query}"),
            )
            .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }

    // The citizen reports anyway; an operator merges the report into the master.
    let (status, receipt) = app
        .public_report(json!({
            "description": "步行街上井盖缺失了，很危险",
            "location": {"lon": 121.4921, "lat": 31.2151},
        }))
        .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["number"].as_str().unwrap();
    let report = case(app, number).await;
    app.ok(
        "operator",
        &report,
        "merge",
        json!({"master": master["number"]}),
    )
    .await;
    let token = receipt["follow_token"].as_str().unwrap();
    let (status, followed) = app
        .get(
            None,
            &format!("/api/v1/public/cases/{number}?token={token}"),
        )
        .await;
    assert_eq!(status, 200, "{followed}");
    assert_eq!(followed["state"], "merged");
    assert_eq!(followed["merged_into"], master["number"]);
    assert_eq!(followed["master"]["number"], master["number"]);
    assert_eq!(followed["master"]["state"], "reported");
    assert_eq!(followed["master"]["steps"][0]["action"], "report");
    // The master moves on; the citizen sees it move.
    let master_now = case(app, master["id"].as_str().unwrap()).await;
    app.ok("operator", &master_now, "accept", json!({})).await;
    let (_, followed) = app
        .get(
            None,
            &format!("/api/v1/public/cases/{number}?token={token}"),
        )
        .await;
    assert_eq!(followed["master"]["state"], "accepted");
    // Without the token: the state and the master's number and state, no steps.
    let (_, bare) = app
        .get(None, &format!("/api/v1/public/cases/{number}"))
        .await;
    assert_eq!(bare["merged_into"], master["number"]);
    assert!(bare["master"]["steps"].as_array().unwrap().is_empty());
    // The master itself, an inspector's case, is followed by its number too: its state only.
    let (status, by_number) = app
        .get(
            None,
            &format!(
                "/api/v1/public/cases/{}",
                master["number"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, 200, "{by_number}");
    assert_eq!(by_number["state"], "accepted");
    assert_eq!(by_number["details"], false);
    assert!(by_number["description"].is_null());
    // A token is checked against a citizen's report only.
    let (status, _) = app
        .get(
            None,
            &format!(
                "/api/v1/public/cases/{}?token={token}",
                master["number"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, 404);
}

/// A hotline call, taken down with the caller's contact.
async fn call(app: &TestApp, phone: &str) -> Value {
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({
                "source": "hotline",
                "description": "南京东路步行街井盖缺失",
                "location": {"lon": 121.4919, "lat": 31.2150},
                "area": "310101002001",
                "contact": {"name": "王小明", "phone": phone},
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    case
}

/// An inspector's case taken to its check, with `callers` hotline calls merged into it.
async fn checked_master(app: &TestApp, callers: &[&str]) -> (Value, Vec<Value>) {
    let master = app.report("inspector", "inspector").await;
    let mut reports = Vec::new();
    for phone in callers {
        let report = call(app, phone).await;
        app.ok(
            "operator",
            &report,
            "merge",
            json!({"master": master["number"]}),
        )
        .await;
        reports.push(report);
    }
    let master = case(app, master["id"].as_str().unwrap()).await;
    let master = app
        .signed_for(&master, "10101", "310101-ZLS", "water")
        .await;
    let master = app
        .ok(
            "water",
            &master,
            "feedback",
            json!({"opinion": "已更换井盖"}),
        )
        .await;
    let master = app.ok("operator", &master, "send-check", json!({})).await;
    let master = app
        .ok("inspector", &master, "check", json!({"passed": true}))
        .await;
    assert_eq!(master["state"], "checked");
    (master, reports)
}

async fn every_merged_caller_is_called_back_before_the_master_closes(app: &TestApp) {
    let (master, reports) = checked_master(app, &["13900001111", "13900002222"]).await;
    let numbers: Vec<&str> = reports
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    // The inspector's case owes its merged callers a call-back: it does not close before.
    assert!(!actions(&master).contains(&"close"), "{master}");
    let (status, body) = app.command("lead", &master, "close", json!({})).await;
    assert_eq!(status, 409, "{body}");
    // Their numbers are not read before the call-back.
    let contact = |report: &Value| {
        format!(
            "/api/v1/cases/{}/contact?purpose=callback",
            report["id"].as_str().unwrap()
        )
    };
    let (status, _) = app.get(Some("operator"), &contact(&reports[0])).await;
    assert_eq!(status, 409);

    let master = app
        .ok("operator", &master, "start-callback", json!({}))
        .await;
    assert_eq!(master["state"], "callback");
    let merged = master["merged_reports"].as_array().unwrap();
    assert!(
        merged.iter().all(|r| r["callback"]["failed_attempts"] == 0),
        "{master}"
    );
    let (status, revealed) = app.get(Some("operator"), &contact(&reports[0])).await;
    assert_eq!(status, 200, "{revealed}");
    assert_eq!(revealed["phone"], "13900001111");
    let (_, audit) = app
        .get(
            Some("auditor"),
            &format!(
                "/api/v1/audit?action=pii.read&object=case:{}",
                reports[0]["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // The case has no caller of its own; a report not merged into it is refused.
    let (status, body) = app
        .command(
            "operator",
            &master,
            "callback",
            json!({"outcome": "no_answer"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "report");
    let (status, body) = app
        .command(
            "operator",
            &master,
            "callback",
            json!({"outcome": "no_answer", "report": "3101012099010100001"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "unknown_reference");

    // The first caller is satisfied: the case still waits for the second.
    let master = app
        .ok(
            "operator",
            &master,
            "callback",
            json!({"report": numbers[0], "satisfaction": "satisfied"}),
        )
        .await;
    assert_eq!(master["state"], "callback");
    // The second is unsatisfied: the handling goes back, and both are called again after.
    let master = app
        .ok(
            "operator",
            &master,
            "callback",
            json!({"report": numbers[1], "satisfaction": "unsatisfied", "opinion": "井盖还是松的"}),
        )
        .await;
    assert_eq!(master["state"], "dispatched");
    assert_eq!(master["rework_count"], 1);
    assert!(master["merged_reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["callback"].is_null()));
    let master = app.ok("water", &master, "sign", json!({})).await;
    let master = app
        .ok(
            "water",
            &master,
            "feedback",
            json!({"opinion": "已加固井框"}),
        )
        .await;
    let master = app.ok("operator", &master, "send-check", json!({})).await;
    let master = app
        .ok("inspector", &master, "check", json!({"passed": true}))
        .await;
    let master = app
        .ok("operator", &master, "start-callback", json!({}))
        .await;
    let master = app
        .ok(
            "operator",
            &master,
            "callback",
            json!({"report": numbers[0], "satisfaction": "basically_satisfied"}),
        )
        .await;
    // The second caller cannot be reached within the attempts allowed (three by default).
    let mut master = master;
    for _ in 0..3 {
        master = app
            .ok(
                "operator",
                &master,
                "callback",
                json!({"report": numbers[1], "outcome": "no_answer"}),
            )
            .await;
    }
    assert_eq!(master["state"], "checked", "{master}");
    assert_eq!(master["callback_satisfied"], true);
    assert_eq!(master["merged_reports"][1]["callback"]["unreachable"], true);
    let master = app.ok("lead", &master, "close", json!({})).await;
    assert_eq!(master["state"], "closed");

    // Their callers follow the master's result: the reports stay merged into the closed case.
    for report in &reports {
        let now = case(app, report["id"].as_str().unwrap()).await;
        assert_eq!(now["state"], "merged");
        assert_eq!(now["merged_into"]["number"], master["number"]);
    }
    // The unsatisfied caller's rework counts against the unit, as a failed check does.
    let day = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let (status, units) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation?level=unit&from={day}&to={day}"),
        )
        .await;
    assert_eq!(status, 200, "{units}");
    let water = units["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "310101-ZLS")
        .unwrap();
    assert_eq!(water["figures"]["rework"], 1, "{water}");
}
