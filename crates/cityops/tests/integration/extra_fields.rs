//! Extra fields per class (表单构建) over HTTP: an admin adds typed fields to a small class;
//! a report of the class carries their values, checked on intake; a required field holds the
//! filing back until it has a value; a photo field names one of the case's photos; the
//! values are on the case, masked like its other texts, and in the GeoJSON export.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

use crate::photos::jpeg;

on_both_backends!(
    a_class_asks_its_own_questions_from_intake_to_export,
    the_case_list_exports_as_csv_with_the_class_s_fields
);

fn report(fields: Value) -> Value {
    json!({
        "source": "department",
        "description": "中山东一路一处污水井盖破损",
        "location": {"lon": 121.4919, "lat": 31.2150},
        "area": "310101002001",
        "category_hint": "10102",
        "fields": fields,
    })
}

async fn a_class_asks_its_own_questions_from_intake_to_export(app: &TestApp) {
    let definitions = json!([
        {"key": "diameter_mm", "zh": "管径（毫米）", "en": "Diameter (mm)", "kind": "number", "required": true},
        {"key": "material", "zh": "材质", "en": "Material", "kind": "choice", "choices": ["铸铁", "复合材料"]},
        {"key": "owner_note", "zh": "权属说明", "en": "Owner note", "kind": "text"},
        {"key": "installed", "zh": "安装日期", "en": "Installed", "kind": "date"},
        {"key": "close_up", "zh": "近景照片", "en": "Close-up", "kind": "photo"},
    ]);
    // Only an admin defines them, and a broken definition changes nothing.
    let (status, _) = app
        .put_json(
            Some("operator"),
            "/api/v1/categories/10102",
            json!({"fields": definitions}),
        )
        .await;
    assert_eq!(status, 403);
    let mut twice = definitions.clone();
    twice[1]["key"] = json!("diameter_mm");
    let (status, error) = app
        .put_json(
            Some("admin"),
            "/api/v1/categories/10102",
            json!({"fields": twice}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "fields[1].key");
    let (_, class) = app.get(Some("operator"), "/api/v1/categories/10102").await;
    assert_eq!(
        class["fields"],
        json!([]),
        "a refused definition changed nothing"
    );

    let (status, class) = app
        .put_json(
            Some("admin"),
            "/api/v1/categories/10102",
            json!({"fields": definitions}),
        )
        .await;
    assert_eq!(status, 200, "{class}");
    assert_eq!(class["fields"][1]["choices"], json!(["铸铁", "复合材料"]));
    assert_eq!(class["fields"][0]["required"], true);

    // The citizen's page asks the same questions, photo fields aside, without signing in.
    let (status, asked) = app
        .get(None, "/api/v1/public/categories/10102/fields")
        .await;
    assert_eq!(status, 200, "{asked}");
    let keys: Vec<&str> = asked
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["diameter_mm", "material", "owner_note", "installed"]);
    assert_eq!(
        app.get(None, "/api/v1/public/categories/10199/fields")
            .await
            .0,
        404
    );
    assert_eq!(
        app.get(None, "/api/v1/public/categories/00000/fields")
            .await
            .0,
        404,
        "a code that is no class is not found"
    );
    let citizen = json!({
        "description": "人行道上一个污水井盖裂了",
        "location": {"lon": 121.4837, "lat": 31.2369},
        "category_hint": "10102",
        "fields": {"material": "塑料"},
    });
    let (status, error) = app.public_report(citizen.clone()).await;
    assert_eq!(
        (status, &error["error"]["field"]),
        (422, &json!("fields.material")),
        "{error}"
    );
    let mut citizen = citizen;
    citizen["fields"] = json!({"material": "复合材料"});
    let (status, receipt) = app.public_report(citizen).await;
    assert_eq!(status, 201, "{receipt}");
    let (_, reported) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", receipt["number"].as_str().unwrap()),
        )
        .await;
    assert_eq!(reported["fields"]["material"], "复合材料", "{reported}");

    // Intake checks each value against the class, naming the field.
    for (fields, field) in [
        (json!({"diameter_mm": "six hundred"}), "fields.diameter_mm"),
        (json!({"material": "木头"}), "fields.material"),
        (json!({"installed": "2019-02-30"}), "fields.installed"),
        (json!({"colour": "red"}), "fields.colour"),
        (
            json!({"close_up": "0190f3a4-0000-7000-8000-000000000000"}),
            "fields.close_up",
        ),
    ] {
        let (status, error) = app
            .post_json(Some("operator"), "/api/v1/cases", report(fields.clone()))
            .await;
        assert_eq!(status, 422, "{fields}: {error}");
        assert_eq!(error["error"]["field"], field, "{fields}");
    }
    let mut without_class = report(json!({"material": "铸铁"}));
    without_class
        .as_object_mut()
        .unwrap()
        .remove("category_hint");
    let (status, error) = app
        .post_json(Some("operator"), "/api/v1/cases", without_class)
        .await;
    assert_eq!((status, &error["error"]["field"]), (422, &json!("fields")));

    // A good report keeps its values; the text's phone number is masked like a description's.
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            report(json!({
                "material": "铸铁",
                "installed": "2019-05-01",
                "owner_note": "物业王经理 13812345678",
            })),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["fields"]["material"], "铸铁");
    assert_eq!(case["fields"]["installed"], "2019-05-01");
    let note = case["fields"]["owner_note"].as_str().unwrap();
    assert!(!note.contains("13812345678"), "masked: {note}");

    // The required diameter holds the filing back, naming the field, until it is given.
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let (status, error) = app
        .command("lead", &case, "file", json!({"category": "10102"}))
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "fields.diameter_mm");
    assert_eq!(
        app.get(
            Some("lead"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap())
        )
        .await
        .1["state"],
        "accepted"
    );
    let case = app
        .ok(
            "lead",
            &case,
            "file",
            json!({"category": "10102", "fields": {"diameter_mm": 700}}),
        )
        .await;
    assert_eq!(case["state"], "filed");
    assert_eq!(case["fields"]["diameter_mm"], 700.0);

    // On the case page: a photo field names one of the case's photos; a required field is
    // not cleared once filed; the operator sets and clears the others.
    let id = case["id"].as_str().unwrap().to_owned();
    assert!(
        case["actions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n == "set-fields"))
            || app
                .get(Some("operator"), &format!("/api/v1/cases/{id}"))
                .await
                .1["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == "set-fields"),
        "the form is offered on a class that has one"
    );
    let (status, error) = app
        .command(
            "operator",
            &case,
            "set-fields",
            json!({"fields": {"close_up": "0190f3a4-0000-7000-8000-000000000000"}}),
        )
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (422, &json!("unknown_reference"))
    );
    let (status, photo) = app
        .post_raw(
            Some("operator"),
            &format!("/api/v1/cases/{id}/attachments?version={}", case["version"]),
            "image/jpeg",
            jpeg(64, 48),
        )
        .await;
    assert_eq!(status, 201, "{photo}");
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}"))
        .await;
    let photo_id = photo["id"].as_str().unwrap();
    let (status, error) = app
        .command(
            "operator",
            &case,
            "set-fields",
            json!({"fields": {"diameter_mm": null}}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "fields.diameter_mm");
    let case = app
        .ok(
            "operator",
            &case,
            "set-fields",
            json!({"fields": {"close_up": photo_id, "material": null}}),
        )
        .await;
    assert_eq!(case["fields"]["close_up"], photo_id);
    assert!(
        case["fields"].get("material").is_none(),
        "cleared: {}",
        case["fields"]
    );
    // Whatever the command, a fields object is what the document says it is.
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), Value::Null)).collect();
    for (fields, field) in [
        (Value::Object(many), "fields"),
        (json!({"material": true}), "fields.material"),
    ] {
        let (status, error) = app
            .command("operator", &case, "set-fields", json!({"fields": fields}))
            .await;
        assert_eq!(
            (status, &error["error"]["field"]),
            (422, &json!(field)),
            "{error}"
        );
    }
    // A dispatcher does not fill forms.
    let (status, _) = app
        .command(
            "dispatcher",
            &case,
            "set-fields",
            json!({"fields": {"material": "铸铁"}}),
        )
        .await;
    assert_eq!(status, 403);

    // The timeline says what was set; the GeoJSON export carries the values.
    let timeline = app.timeline(&case).await;
    assert!(
        timeline.iter().any(|e| e["action"] == "set_fields"),
        "{timeline:?}"
    );
    let (status, features) = app
        .get(
            Some("operator"),
            "/ogc/collections/cases/items?category=10102&limit=100",
        )
        .await;
    assert_eq!(status, 200, "{features}");
    let feature = features["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["number"] == case["number"])
        .expect("the case is in the collection");
    assert_eq!(feature["properties"]["fields"]["diameter_mm"], 700.0);
    assert_eq!(feature["properties"]["fields"]["installed"], "2019-05-01");

    // A class without fields offers no form.
    let other = app.report("operator", "hotline").await;
    let (_, other) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", other["id"].as_str().unwrap()),
        )
        .await;
    assert!(
        !other["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "set-fields"),
        "{}",
        other["actions"]
    );
}

/// Reads a CSV export: its BOM, header and rows.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let body = text
        .strip_prefix('\u{feff}')
        .expect("the export starts with a BOM");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn the_case_list_exports_as_csv_with_the_class_s_fields(app: &TestApp) {
    let (status, _) = app.put_json(Some("admin"),
        "/api/v1/categories/10102",
        json!({"fields": [
            {"key": "diameter_mm", "zh": "管径（毫米）", "en": "Diameter (mm)", "kind": "number"},
            {"key": "owner_note", "zh": "权属说明", "en": "Owner note", "kind": "text"},
        ]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, with_fields) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            report(json!({"diameter_mm": 600, "owner_note": "=HYPERLINK(\"x\")"})),
        )
        .await;
    assert_eq!(status, 201, "{with_fields}");
    let other = app.report("operator", "hotline").await;

    // The whole list the filters select, as the list shows it, with the class's columns.
    let (status, text) = app
        .get_text(Some("operator"), "/api/v1/cases.csv?category=10102")
        .await;
    assert_eq!(status, 200, "{text}");
    let (header, rows) = read_csv(&text);
    assert_eq!(header[0], "number");
    let diameter = header
        .iter()
        .position(|h| h == "fields.diameter_mm")
        .unwrap();
    let note = header
        .iter()
        .position(|h| h == "fields.owner_note")
        .unwrap();
    assert_eq!(header.last().unwrap(), "fields");
    let row = rows
        .iter()
        .find(|r| r[0] == with_fields["number"].as_str().unwrap())
        .expect("the case is exported");
    assert_eq!(row[diameter], "600");
    assert_eq!(
        row[note], "'=HYPERLINK(\"x\")",
        "a formula is written as text"
    );
    assert!(!rows
        .iter()
        .any(|r| r[0] == other["number"].as_str().unwrap()));
    let (_, listed) = app
        .get(Some("operator"), "/api/v1/cases?category=10102&limit=200")
        .await;
    assert_eq!(rows.len(), listed["items"].as_array().unwrap().len());

    // Without a class: every case of the caller's list, the values as JSON.
    let (_, text) = app.get_text(Some("operator"), "/api/v1/cases.csv").await;
    let (header, rows) = read_csv(&text);
    assert!(
        !header.iter().any(|h| h.starts_with("fields.")),
        "{header:?}"
    );
    let numbers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert!(numbers.contains(&other["number"].as_str().unwrap()));
    let row = rows
        .iter()
        .find(|r| r[0] == with_fields["number"].as_str().unwrap())
        .unwrap();
    let values: Value = serde_json::from_str(row.last().unwrap()).unwrap();
    assert_eq!(values["diameter_mm"], 600.0);

    // Paging belongs to the list, not the export; a bad filter is named; nothing leaves
    // without a session.
    let (status, error) = app
        .get(Some("operator"), "/api/v1/cases.csv?limit=10")
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (422, &json!("invalid_query"))
    );
    let (status, error) = app
        .get(Some("operator"), "/api/v1/cases.csv?state=lost")
        .await;
    assert_eq!((status, &error["error"]["field"]), (422, &json!("state")));
    assert_eq!(app.get(None, "/api/v1/cases.csv").await.0, 401);
    // Five digits that are no class select nothing, as the list does.
    let (status, text) = app
        .get_text(Some("operator"), "/api/v1/cases.csv?category=01200")
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(read_csv(&text).1.is_empty());
}
