//! The permission matrix: every user of the test cast (each role, at city, district and
//! street scope, and two units) against every endpoint that reads a case or a guarded
//! resource, for a case inside and a case outside their jurisdiction. The expected answer
//! comes from ONE table below: 403 when the role may not use the endpoint at all, 404 when
//! the case is outside the caller's jurisdiction (exactly like a missing one), else 200.
//! Lists and the city screen's counts hold exactly the cases the single read shows.

use cityops_test_support::{citizen_case, on_both_backends, sees, Object, TestApp, USERS};
use serde_json::json;

/// Who may use an endpoint at all (`None`: any signed-in user), and whether it is about one
/// case (so jurisdiction decides between 200 and 404).
struct Rule {
    path: &'static str,
    roles: Option<&'static [&'static str]>,
    about_a_case: bool,
}

const TABLE: &[Rule] = &[
    Rule {
        path: "/api/v1/cases/{id}",
        roles: None,
        about_a_case: true,
    },
    Rule {
        path: "/api/v1/cases/{id}/timeline",
        roles: None,
        about_a_case: true,
    },
    Rule {
        path: "/api/v1/cases/{id}/routing",
        roles: None,
        about_a_case: true,
    },
    Rule {
        path: "/api/v1/cases/{number}",
        roles: None,
        about_a_case: true,
    },
    Rule {
        path: "/api/v1/cases/{id}/contact?purpose=callback",
        roles: Some(&["operator", "shift_lead"]),
        about_a_case: true,
    },
    Rule {
        path: "/ogc/collections/cases/items/{number}",
        roles: None,
        about_a_case: true,
    },
    Rule {
        path: "/api/v1/audit?limit=1",
        roles: Some(&["auditor", "admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/audit/verify",
        roles: Some(&["auditor", "admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/audit/checkpoints",
        roles: Some(&["auditor", "admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/api-keys",
        roles: Some(&["admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/users",
        roles: Some(&["admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/users/water",
        roles: Some(&["admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/me",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/stats",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/calendar/2024",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/units?status=all",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/units/310101-ZLS",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/units/310101-GD/contacts?purpose=dispatch",
        roles: Some(&[
            "admin",
            "dispatcher",
            "shift_lead",
            "operator",
            "center_leader",
        ]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/knowledge?q=垃圾",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/class-suggestions?text=%E4%BA%95%E7%9B%96",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/duplicate-candidates?text=%E4%BA%95%E7%9B%96&area=310101002",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/responsibility-grids?area=310101002",
        roles: None,
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/patrols",
        roles: Some(&["inspector", "shift_lead", "center_leader"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/enquiries",
        roles: Some(&["operator", "shift_lead", "admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/hotline/tickets/results?from=2026-01-01&to=2026-01-31&format=json",
        roles: Some(&["operator", "shift_lead", "admin"]),
        about_a_case: false,
    },
    Rule {
        path: "/api/v1/settings",
        roles: Some(&["admin"]),
        about_a_case: false,
    },
];

fn expected(rule: &Rule, user: (&str, &str, Option<&str>, &str), case: &Object) -> u16 {
    let (_, role, ..) = user;
    let role_allowed = rule.roles.is_none_or(|roles| roles.contains(&role));
    if !role_allowed {
        403
    } else if rule.about_a_case && !sees(user, case) {
        404
    } else {
        200
    }
}

async fn every_role_scope_endpoint_and_object_answers_as_the_table_says(app: &TestApp) {
    // In Huangpu, dispatched to the water company; in Xuhui, just reported.
    let huangpu = citizen_case(app, 121.4837, 31.2369, "人行道上的井盖松动，踩上去会响").await;
    let huangpu = app.ok("operator", &huangpu, "accept", json!({})).await;
    let huangpu = app.verified(&huangpu).await;
    let huangpu = app
        .ok("lead", &huangpu, "file", json!({"category": "10101"}))
        .await;
    let huangpu = app
        .ok(
            "dispatcher",
            &huangpu,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let xuhui = citizen_case(app, 121.4365, 31.1885, "人行道上的井盖松动，踩上去会响").await;
    assert!(
        xuhui["area"].as_str().unwrap().starts_with("310104"),
        "{xuhui}"
    );
    let objects = [Object::of(&huangpu), Object::of(&xuhui)];

    let mut checked = 0;
    let mut wrong = Vec::new();
    for user in USERS {
        for case in &objects {
            for rule in TABLE {
                let path = rule
                    .path
                    .replace("{id}", &case.id)
                    .replace("{number}", &case.number);
                let (status, body) = app.get(Some(user.0), &path).await;
                let want = expected(rule, user, case);
                checked += 1;
                if status != want {
                    wrong.push(format!(
                        "{} ({}) GET {path}: {status}, expected {want}: {body}",
                        user.0, user.1
                    ));
                }
            }
            // Lists and counts never hold what the single read would refuse.
            let (_, list) = app.get(Some(user.0), "/api/v1/cases?limit=200").await;
            let listed = list["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|c| c["id"] == case.id.as_str()));
            if listed != sees(user, case) {
                wrong.push(format!("{} lists case in {}: {listed}", user.0, case.area));
            }
        }
        // The screen's counts hold exactly the open cases the single read shows: both are
        // open, and there are no others.
        let (_, stats) = app.get(Some(user.0), "/api/v1/stats").await;
        let seen = objects.iter().filter(|case| sees(user, case)).count();
        if stats["totals"]["open"] != seen {
            wrong.push(format!(
                "{} ({}) counts {} open cases in /stats, sees {seen}",
                user.0, user.1, stats["totals"]["open"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} answers differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked >= 300, "{checked}");
}

on_both_backends!(every_role_scope_endpoint_and_object_answers_as_the_table_says);
