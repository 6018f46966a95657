//! Lead and assisting units (主办 / 协办) over HTTP: a dispatcher gives a case to a lead and
//! names an assisting unit, whose handlers find it in their queue, sign for their part and
//! feed it back on its own deadline; the lead's feedback waits for the part; the part counts
//! for the assisting unit in the evaluation, and a drill-down of its handlings finds the case.
//! Bad commands are refused naming the field, and change nothing.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_lead_and_an_assisting_unit_each_do_their_part,
    bad_parts_are_refused_and_change_nothing,
    a_retired_assisting_unit_hands_its_part_on_or_lets_it_go,
);

const LEAD: &str = "310101-ZLS";
const ASSIST: &str = "310101-GD";

fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string()
}

fn actions(case: &Value) -> Vec<String> {
    case["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}"))
        .iter()
        .map(|a| {
            a.as_str()
                .map_or_else(|| a["command"].to_string(), str::to_owned)
        })
        .collect()
}

/// A case dispatched to the lead and signed for, with `ASSIST` named to assist.
async fn assisted(app: &TestApp) -> Value {
    let case = app.report("inspector", "inspector").await;
    let case = app.signed_for(&case, "20101", LEAD, "water").await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "assist",
            json!({"unit": ASSIST, "opinion": "配合断电排险"}),
        )
        .await;
    assert_eq!(case["unit"], LEAD);
    assert_eq!(case["assists"][0]["unit"], ASSIST);
    assert_eq!(case["assists"][0]["state"], "assigned");
    case
}

async fn a_lead_and_an_assisting_unit_each_do_their_part(app: &TestApp) {
    let case = assisted(app).await;
    let id = case["id"].as_str().unwrap();

    // The assisting unit's handler finds it in their queue and may sign for their part.
    let (_, queue) = app.get(Some("power"), "/api/v1/cases").await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id),
        "{queue}"
    );
    let (status, seen) = app.get(Some("power"), &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{seen}");
    let offered = actions(&seen);
    assert!(
        offered
            .iter()
            .any(|a| a.contains("sign-assist") || a.contains("sign_assist")),
        "{offered:?}"
    );
    assert!(!offered.iter().any(|a| a == "feedback"), "{offered:?}");

    // The lead cannot feed back while the part is open; the refusal names the unit.
    let (status, refused) = app
        .command("water", &case, "feedback", json!({"opinion": "已修复"}))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(ASSIST),
        "{refused}"
    );

    let case = app.ok("power", &case, "sign-assist", json!({})).await;
    let part = &case["assists"][0];
    assert_eq!(part["state"], "handling");
    assert!(part["deadline"].is_string(), "{part}");
    // Its time left counts as the lead's stage does: the same term, on the same calendar.
    let (_, listed) = app.get(Some("power"), "/api/v1/cases?assisting=true").await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    let part = &items[0]["assists"][0];
    assert_eq!(part["time_left"]["deadline"], part["deadline"], "{part}");
    assert_eq!(part["time_left"]["mark"], "on_time", "{part}");
    assert_eq!(part["time_left"]["stage"], "handling", "{part}");
    let (_, leads) = app.get(Some("water"), "/api/v1/cases?assisting=true").await;
    assert!(
        leads["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != id),
        "{leads}"
    );
    let (status, refused) = app
        .get(Some("operator"), "/api/v1/cases?assisting=true")
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("assisting"))
    );
    let case = app
        .ok(
            "power",
            &case,
            "assist-feedback",
            json!({"opinion": "已配合断电，现场安全"}),
        )
        .await;
    assert_eq!(case["assists"][0]["state"], "done");
    assert_eq!(case["assists"][0]["opinion"], "已配合断电，现场安全");

    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已修复"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    let case = app.ok("lead", &case, "close", json!({})).await;
    assert_eq!(case["state"], "closed");

    // The timeline shows each part's steps, by whom.
    let timeline = app.timeline(&case).await;
    let steps: Vec<&str> = timeline
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for step in ["assist", "sign_assist", "assist_feedback"] {
        assert!(steps.contains(&step), "{step} in {steps:?}");
    }

    // The part counts for the assisting unit and its handler, not again for the area.
    let day = today();
    let evaluation = |level: &str| format!("/api/v1/evaluation?level={level}&from={day}&to={day}");
    let (_, units) = app.get(Some("evaluator"), &evaluation("unit")).await;
    let power = units["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == ASSIST)
        .unwrap_or_else(|| panic!("{units}"));
    for (counter, n) in [
        ("part_assigned", 1),
        ("part_handled", 1),
        ("part_handled_on_time", 1),
        ("part_closed", 1),
    ] {
        assert_eq!(power["figures"][counter], n, "{counter}: {power}");
    }
    assert_eq!(power["indicators"]["closing_rate"], 1.0, "{power}");
    assert_eq!(power["indicators"]["on_time_handling_rate"], 1.0, "{power}");
    let (_, districts) = app.get(Some("evaluator"), &evaluation("district")).await;
    let huangpu = districts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "310101")
        .unwrap();
    assert_eq!(
        huangpu["figures"]["handled"], 1,
        "the lead's handling only: {huangpu}"
    );
    assert!(huangpu["figures"]
        .get("part_handled")
        .is_none_or(|n| n == 0));
    let (_, people) = app.get(Some("evaluator"), &evaluation("position")).await;
    let handler = people["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "user-power")
        .unwrap_or_else(|| panic!("{people}"));
    assert_eq!(handler["figures"]["part_handled"], 1);
    // A drill-down of the unit's handlings finds the case it assisted on.
    let (status, behind) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation/cases?level=unit&key={ASSIST}&counter=handled&from={day}&to={day}"),
        )
        .await;
    assert_eq!(status, 200, "{behind}");
    assert_eq!(behind[0]["number"], case["number"], "{behind}");
}

async fn bad_parts_are_refused_and_change_nothing(app: &TestApp) {
    let case = assisted(app).await;
    let before = app.timeline(&case).await;
    for (who, command, body, status, field_or_code) in [
        ("dispatcher", "assist", json!({}), 422, "unit"),
        (
            "dispatcher",
            "assist",
            json!({"unit": "310101-NOPE"}),
            422,
            "unit",
        ),
        // The lead cannot assist on its own case, nor a unit twice at once.
        (
            "dispatcher",
            "assist",
            json!({"unit": LEAD}),
            409,
            "precondition_failed",
        ),
        (
            "dispatcher",
            "assist",
            json!({"unit": ASSIST}),
            409,
            "precondition_failed",
        ),
        // A Xuhui unit does not answer for a Huangpu case.
        (
            "dispatcher",
            "assist",
            json!({"unit": "310104-GD"}),
            409,
            "precondition_failed",
        ),
        // A center coordinates; it takes no part.
        (
            "dispatcher",
            "assist",
            json!({"unit": "C-310101"}),
            422,
            "unit",
        ),
        (
            "dispatcher",
            "release-assist",
            json!({"unit": ASSIST}),
            422,
            "reason",
        ),
        (
            "power",
            "assist-feedback",
            json!({"opinion": "还没签收"}),
            409,
            "precondition_failed",
        ),
        ("power", "return-assist", json!({}), 422, "reason"),
        // Another unit's handler works on their own unit's part only.
        ("water", "sign-assist", json!({"unit": ASSIST}), 403, "unit"),
        (
            "water",
            "sign-assist",
            json!({}),
            409,
            "precondition_failed",
        ),
        (
            "power",
            "assist",
            json!({"unit": ASSIST}),
            403,
            "role_not_allowed",
        ),
    ] {
        let (got, answer) = app.command(who, &case, command, body.clone()).await;
        assert_eq!(got, status, "{who} {command} {body}: {answer}");
        let error = &answer["error"];
        assert!(
            error["field"] == field_or_code || error["code"] == field_or_code,
            "{who} {command} {body}: {answer}"
        );
    }
    assert_eq!(app.timeline(&case).await, before, "nothing changed");

    // Returned by the unit: the lead may feed back; the part shows why.
    let case = app
        .ok(
            "power",
            &case,
            "return-assist",
            json!({"reason": "不涉及供电设施"}),
        )
        .await;
    assert_eq!(case["assists"][0]["state"], "returned");
    assert_eq!(case["assists"][0]["opinion"], "不涉及供电设施");
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已修复"}))
        .await;
    assert_eq!(case["state"], "handled");
    // A part named and released: nothing is counted as handled for it.
    let (status, _) = app
        .command("dispatcher", &case, "assist", json!({"unit": ASSIST}))
        .await;
    assert_eq!(status, 409, "no part beside a handled case");
}

async fn a_retired_assisting_unit_hands_its_part_on_or_lets_it_go(app: &TestApp) {
    // With a successor: the part goes to it, where it stood.
    let case = assisted(app).await;
    let case = app.ok("power", &case, "sign-assist", json!({})).await;
    let deadline = case["assists"][0]["deadline"].clone();
    let (status, retired) = app
        .post_json(
            Some("admin"),
            &format!("/api/v1/units/{ASSIST}/retire"),
            json!({"reason": "供电公司改制", "successor": "310101-RQ"}),
        )
        .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(retired["moved_parts"], 1, "{retired}");
    assert_eq!(retired["moved_cases"], 0, "{retired}");
    let (_, moved) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    let part = &moved["assists"][0];
    assert_eq!(
        (&part["unit"], &part["state"], &part["deadline"]),
        (&json!("310101-RQ"), &json!("handling"), &deadline),
        "{moved}"
    );
    let steps: Vec<String> = app
        .timeline(&moved)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps.last().map(String::as_str),
        Some("reassign"),
        "{steps:?}"
    );

    // Without one: the part is released, with the reason; the lead is untouched.
    let case = app.report("inspector", "inspector").await;
    let case = app.signed_for(&case, "20101", LEAD, "water").await;
    let case = app
        .ok("dispatcher", &case, "assist", json!({"unit": "310101-DX"}))
        .await;
    let (status, retired) = app
        .post_json(
            Some("admin"),
            "/api/v1/units/310101-DX/retire",
            json!({"reason": "电信分公司撤并"}),
        )
        .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(retired["moved_parts"], 1, "{retired}");
    let (_, released) = app
        .get(
            Some("water"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(released["assists"][0]["state"], "released", "{released}");
    assert_eq!(released["assists"][0]["opinion"], "电信分公司撤并");
    assert_eq!(released["unit"], LEAD);
    // The lead's handler may now feed back.
    let actions = actions(&released);
    assert!(actions.iter().any(|a| a == "feedback"), "{actions:?}");
}
