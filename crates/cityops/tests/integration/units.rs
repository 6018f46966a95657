//! Units as the city's own data over HTTP: an admin adds, changes, imports and retires
//! units; contacts are sealed at rest, masked in answers and read in clear for a purpose; a
//! retiring unit's open cases and rules move to its successor; bad input changes nothing.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_admin_adds_and_changes_a_unit_whose_contacts_are_sealed_and_masked,
    bad_units_are_refused_naming_the_field_and_change_nothing,
    a_retiring_unit_hands_its_open_cases_and_rules_to_its_successor,
    units_import_and_export_as_csv_all_or_nothing,
);

fn contractor(code: &str) -> Value {
    json!({
        "code": code,
        "name": "黄浦区环境卫生维养公司",
        "organization": "contractor",
        "kind": "greening",
        "jurisdiction": "310101",
        "parent": "310101-LHSR",
        "duty_phone": "021-6321 0000",
        "contact_name": "张建国",
        "contact_phone": "+86 139-0000-1111",
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

/// The stored contact columns of a unit, as someone with the database would read them.
async fn stored_contacts(url: &str, code: &str) -> String {
    let query = format!(
        "SELECT COALESCE(duty_phone, '') || ' ' || COALESCE(contact_name, '') || ' ' || \
         COALESCE(contact_phone, '') FROM units WHERE code = '{code}'"
    );
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let text = sqlx::query_scalar::<_, String>(&query)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        text
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let text = sqlx::query_scalar::<_, String>(&query)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        text
    }
}

async fn an_admin_adds_and_changes_a_unit_whose_contacts_are_sealed_and_masked(app: &TestApp) {
    let (status, unit) = app
        .post_json(Some("admin"), "/api/v1/units", contractor("310101-HJWY"))
        .await;
    assert_eq!(status, 201, "{unit}");
    assert_eq!(unit["organization"], "contractor");
    assert_eq!(unit["district"], "310101");
    assert_eq!(unit["active"], true);
    assert_eq!(unit["duty_phone"], "021****0000", "{unit}");
    assert_eq!(unit["contact_phone"], "139****1111");
    assert_eq!(unit["contact_name"], "张**");
    let stored = stored_contacts(&app.database_url, "310101-HJWY").await;
    for clear in ["63210000", "13900001111", "张建国"] {
        assert!(!stored.contains(clear), "{clear} in the clear: {stored}");
    }
    let (status, again) = app
        .post_json(Some("admin"), "/api/v1/units", contractor("310101-HJWY"))
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("duplicate"))
    );

    // Everyone on staff reads it; it counts its open cases.
    let (status, read) = app.get(Some("water"), "/api/v1/units/310101-HJWY").await;
    assert_eq!((status, &read["open_cases"]), (200, &json!(0)), "{read}");
    let (_, listed) = app
        .get(Some("inspector"), "/api/v1/units?organization=contractor")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // A change keeps the contacts left out and removes those given empty.
    let mut change = contractor("310101-HJWY");
    change["name"] = json!("黄浦区市容环卫维养公司");
    change.as_object_mut().unwrap().remove("duty_phone");
    change.as_object_mut().unwrap().remove("contact_phone");
    change["contact_name"] = json!("");
    let (status, changed) = put_json(app, "admin", "/api/v1/units/310101-HJWY", &change).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "黄浦区市容环卫维养公司");
    assert_eq!(changed["duty_phone"], "021****0000");
    assert!(changed["contact_name"].is_null());

    // The clear contacts, for a purpose, on the audit log; not for a unit handler.
    let path = "/api/v1/units/310101-HJWY/contacts?purpose=dispatch";
    let (status, _) = app.get(Some("water"), path).await;
    assert_eq!(status, 403);
    let (status, clear) = app.get(Some("dispatcher"), path).await;
    assert_eq!(status, 200, "{clear}");
    assert_eq!(clear["duty_phone"], "02163210000");
    assert_eq!(clear["contact_phone"], "13900001111");
    let (_, audit) = app
        .get(
            Some("auditor"),
            "/api/v1/audit?object=unit:310101-HJWY&limit=50",
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit}"))
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["unit.create", "unit.update", "pii.read"] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
}

async fn bad_units_are_refused_naming_the_field_and_change_nothing(app: &TestApp) {
    let (_, before) = app.get(Some("admin"), "/api/v1/units?status=all").await;
    let with = |field: &str, value: Value| {
        let mut body = contractor("310101-BAD");
        body[field] = value;
        body
    };
    for (body, code, field) in [
        (
            with("organization", json!("bureau")),
            "invalid_input",
            "organization",
        ),
        (with("kind", json!("plumbing")), "invalid_input", "kind"),
        (
            with("jurisdiction", json!("310199")),
            "unknown_reference",
            "jurisdiction",
        ),
        (
            with("jurisdiction", json!("31")),
            "invalid_input",
            "jurisdiction",
        ),
        (
            with("parent", json!("310101-NONE")),
            "unknown_reference",
            "parent",
        ),
        (
            with("parent", json!("310101-BAD")),
            "inconsistent_fields",
            "parent",
        ),
        (
            with("duty_phone", json!("call me")),
            "invalid_input",
            "duty_phone",
        ),
        (with("name", json!("  ")), "invalid_input", "name"),
        (with("code", json!("has space")), "invalid_input", "code"),
    ] {
        let (status, error) = app.post_json(Some("admin"), "/api/v1/units", body).await;
        assert_eq!(
            (
                status,
                error["error"]["code"].as_str(),
                error["error"]["field"].as_str()
            ),
            (422, Some(code), Some(field)),
            "{error}"
        );
    }
    // Only admins write, and an admin only within their jurisdiction.
    let (status, _) = app
        .post_json(
            Some("dispatcher"),
            "/api/v1/units",
            contractor("310101-BAD"),
        )
        .await;
    assert_eq!(status, 403);
    let mut renamed = contractor("310101-ZLS");
    renamed["code"] = json!("310101-OTHER");
    let (status, error) = put_json(app, "admin", "/api/v1/units/310101-ZLS", &renamed).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("inconsistent_fields"))
    );
    let (status, _) = put_json(
        app,
        "admin",
        "/api/v1/units/NO-SUCH",
        &contractor("NO-SUCH"),
    )
    .await;
    assert_eq!(status, 404);
    let (_, after) = app.get(Some("admin"), "/api/v1/units?status=all").await;
    assert_eq!(before, after, "nothing changed");
}

async fn a_retiring_unit_hands_its_open_cases_and_rules_to_its_successor(app: &TestApp) {
    let (status, _) = app
        .post_json(Some("admin"), "/api/v1/units", contractor("310101-HJWY"))
        .await;
    assert_eq!(status, 201);
    let (status, rules) = put_csv(
        app,
        "admin",
        "/api/v1/routing/rules",
        "category,area,owner,unit\n10101,310101,,310101-HJWY\n",
    )
    .await;
    assert_eq!(status, 200, "{rules}");
    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
        .await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-HJWY"}),
        )
        .await;
    let (_, unit) = app.get(Some("admin"), "/api/v1/units/310101-HJWY").await;
    assert_eq!(unit["open_cases"], 1);

    let retire = |successor: Option<&str>| {
        let mut body = json!({"reason": "合同到期，由区绿化市容局接管"});
        if let Some(successor) = successor {
            body["successor"] = json!(successor);
        }
        body
    };
    let path = "/api/v1/units/310101-HJWY/retire";
    // A reason of Unicode spaces alone (U+0085 passes a JSON Schema `\S`) is no reason.
    let (got, error) = app
        .post_json(Some("admin"), path, json!({"reason": "\u{85} \u{3000}"}))
        .await;
    assert_eq!(
        (
            got,
            error["error"]["code"].as_str(),
            error["error"]["field"].as_str()
        ),
        (422, Some("inconsistent_fields"), Some("reason"))
    );
    // Not without a successor, not to itself, an unknown unit, or one whose jurisdiction does
    // not cover the cases; not by a dispatcher.
    for (body, status, code) in [
        (retire(None), 409, "unit_has_open_cases"),
        (retire(Some("310101-HJWY")), 422, "inconsistent_fields"),
        (retire(Some("310101-NONE")), 422, "unknown_reference"),
        (retire(Some("C-310101002")), 422, "inconsistent_fields"),
    ] {
        let (got, error) = app.post_json(Some("admin"), path, body).await;
        assert_eq!(
            (
                got,
                error["error"]["code"].as_str(),
                error["error"]["field"].as_str()
            ),
            (status, Some(code), Some("successor")),
            "{error}"
        );
    }
    let (status, _) = app
        .post_json(Some("dispatcher"), path, retire(Some("310101-LHSR")))
        .await;
    assert_eq!(status, 403);
    let (_, still) = app.get(Some("admin"), "/api/v1/units/310101-HJWY").await;
    assert_eq!(still["active"], true, "refused retirements change nothing");

    let (status, retired) = app
        .post_json(Some("admin"), path, retire(Some("310101-LHSR")))
        .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(
        (&retired["moved_cases"], &retired["moved_rules"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(retired["unit"]["active"], false);
    assert_eq!(retired["unit"]["successor"], "310101-LHSR");

    let (_, moved) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(moved["unit"], "310101-LHSR");
    assert_eq!(moved["state"], case["state"]);
    let timeline = app.timeline(&case).await;
    let last = timeline.last().unwrap();
    assert_eq!(last["action"], "reassign", "{last}");
    let (_, rules) = app.get(Some("admin"), "/api/v1/routing/rules").await;
    assert_eq!(rules[0]["unit"], "310101-LHSR", "{rules}");

    // Out of the default list and out of new work.
    let (_, active) = app
        .get(Some("dispatcher"), "/api/v1/units?within=310101")
        .await;
    assert!(!active
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["code"] == "310101-HJWY"));
    let (_, retired_list) = app
        .get(Some("dispatcher"), "/api/v1/units?status=retired")
        .await;
    assert!(retired_list
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["code"] == "310101-HJWY"));
    let other = app.report("operator", "inspector").await;
    let other = app.ok("operator", &other, "accept", json!({})).await;
    let other = app
        .ok("lead", &other, "file", json!({"category": "10101"}))
        .await;
    let (status, error) = app
        .command(
            "dispatcher",
            &other,
            "dispatch",
            json!({"unit": "310101-HJWY"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("unknown_reference")),
        "{error}"
    );
    let (status, error) = put_csv(
        app,
        "admin",
        "/api/v1/routing/rules",
        "category,area,owner,unit\n10101,310101,,310101-HJWY\n",
    )
    .await;
    assert_eq!(status, 422, "{error}");
    // Nor does anyone new act for it: no account, no key.
    for (path, body) in [
        (
            "/api/v1/users",
            json!({"username": "hjwy-new", "display_name": "环卫新人", "role": "unit_handler",
                   "scope": "310101", "unit": "310101-HJWY", "password": "Street-sweep 26"}),
        ),
        (
            "/api/v1/api-keys",
            json!({"name": "hjwy-gateway", "role": "unit_handler", "scope": "310101",
                   "unit": "310101-HJWY", "permissions": ["read"]}),
        ),
    ] {
        let (status, error) = app.post_json(Some("admin"), path, body).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (422, Some("unit")),
            "{path}: {error}"
        );
    }

    // Reinstated, it takes work again; what moved stays moved.
    let (status, back) = app
        .post_json(
            Some("admin"),
            "/api/v1/units/310101-HJWY/reinstate",
            json!({}),
        )
        .await;
    assert_eq!((status, &back["active"]), (200, &json!(true)), "{back}");
    let (_, still_moved) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(still_moved["unit"], "310101-LHSR");
}

async fn units_import_and_export_as_csv_all_or_nothing(app: &TestApp) {
    let header = "code,name,organization,kind,jurisdiction,parent,duty_phone,contact_name,contact_phone,active\n";
    let good = format!(
        "\u{feff}{header}310101-HJWY,黄浦区环境卫生维养公司,contractor,greening,310101,310101-LHSR,021-63210000,张建国,13900001111,true\n\
         310101-ZLS,黄浦区自来水公司（城投水务）,public_utility,water_supply,310101,,,,,true\n"
    );
    let (status, result) = put_csv(app, "admin", "/api/v1/units", &good).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result, json!({"created": 1, "updated": 1, "unchanged": 0}));
    let (status, result) = put_csv(app, "admin", "/api/v1/units", &good).await;
    assert_eq!(
        (status, result),
        (200, json!({"created": 0, "updated": 0, "unchanged": 2}))
    );

    // The export re-imports unchanged: masked contacts keep what is stored.
    let (status, exported) = app
        .get_text(Some("admin"), "/api/v1/units?format=csv&within=310101")
        .await;
    assert_eq!(status, 200);
    assert!(exported.starts_with('\u{feff}'), "Excel needs the BOM");
    assert!(exported.contains("310101-HJWY,黄浦区环境卫生维养公司,contractor,greening,310101,310101-LHSR,021****0000,张**,139****1111,true"), "{exported}");
    let (status, result) = put_csv(app, "admin", "/api/v1/units", &exported).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        (&result["created"], &result["updated"]),
        (&json!(0), &json!(0)),
        "{result}"
    );
    let (_, clear) = app
        .get(
            Some("admin"),
            "/api/v1/units/310101-HJWY/contacts?purpose=coordination",
        )
        .await;
    assert_eq!(clear["contact_phone"], "13900001111", "{clear}");

    // A bad line refuses the file, named; nothing changes.
    let (_, before) = app.get(Some("admin"), "/api/v1/units?status=all").await;
    for (text, field) in [
        (
            format!("{header}310101-NEW1,新单位,contractor,,310101,,,,,true\n310101-NEW2,新单位,bureau,,310101,,,,,true\n"),
            "line 3: organization",
        ),
        (
            format!("{header}310101-NEW1,新单位,contractor,,310199,,,,,true\n"),
            "line 2: jurisdiction",
        ),
        (
            format!("{header}310101-NEW1,新单位,contractor,,310101,,,,,false\n"),
            "line 2: active",
        ),
        (
            format!("{header}310101-NEW1,新单位,contractor,,310101,,,,,true\n310101-NEW1,新单位,contractor,,310101,,,,,true\n"),
            "line 3: code",
        ),
        ("code,name\n310101-NEW1,新单位\n".to_owned(), "line 1"),
    ] {
        let (status, error) = put_csv(app, "admin", "/api/v1/units", &text).await;
        assert_eq!(
            (status, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
            (422, Some("invalid_file"), Some(field)),
            "{error}"
        );
    }
    let (status, _) = put_csv(app, "dispatcher", "/api/v1/units", &good).await;
    assert_eq!(status, 403);
    let (_, after) = app.get(Some("admin"), "/api/v1/units?status=all").await;
    assert_eq!(before, after, "nothing changed");
}
