//! The component census over HTTP: import (CSV and GeoJSON, all or nothing), export round
//! trips, jurisdiction, nearest queries, reports linked to the cover they are about and routed
//! to its maintainer, and the OGC collection.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    the_census_round_trips_and_reports_link_to_the_nearest_cover,
    bad_census_files_are_refused_whole,
);

const HEADER: &str = "id,class,name,lon,lat,unit_grid,owner_unit,maintainer_unit,supervising_department,status,setting,location_text,initial_date,change_date,source";

/// Near Nanjing Road East (Huangpu): a water cover where reports are made, a street light
/// 100 m east, and a water cover in Xuhui.
fn census_csv() -> String {
    format!(
        "\u{feff}{HEADER}\n\
         3101010101000001,10101,上水井盖1,121.4837,31.2369,,自来水市北公司,310101002-JDB,水务局,in_use,人行道,南京东路步行街,2016-06-30,,普查2016\n\
         3101010118000001,10118,路灯1,121.4848,31.2369,,,310101-GD,,damaged,车行道,,,,普查2016\n\
         3101040101000001,10101,上水井盖2,121.4365,31.1880,,,,,in_use,,,,,普查2016\n"
    )
}

async fn import(app: &TestApp, who: &str, content_type: &str, body: &str) -> (u16, Value) {
    app.put_raw(
        Some(who),
        "/api/v1/components",
        content_type,
        body.as_bytes().to_vec(),
    )
    .await
}

async fn count(app: &TestApp, who: &str) -> usize {
    let (status, page) = app.get(Some(who), "/api/v1/components?limit=1000").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

async fn the_census_round_trips_and_reports_link_to_the_nearest_cover(app: &TestApp) {
    let (status, body) = import(app, "admin", "text/csv", &census_csv()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 3);
    assert_eq!(
        (&body["added"], &body["replaced"], &body["unchanged"]),
        (&json!(3), &json!(0), &json!(0))
    );

    // Jurisdiction: Huangpu's shift lead sees Huangpu's two, the city sees three.
    assert_eq!(count(app, "admin").await, 3);
    assert_eq!(count(app, "huangpu_lead").await, 2);
    let (status, _) = app
        .get(Some("huangpu_lead"), "/api/v1/components/3101040101000001")
        .await;
    assert_eq!(status, 404, "out of scope answers like missing");
    let (status, cover) = app
        .get(Some("huangpu_lead"), "/api/v1/components/3101010101000001")
        .await;
    assert_eq!(status, 200, "{cover}");
    assert_eq!(cover["unit_grid"].as_str().unwrap().len(), 14);
    assert!(cover["unit_grid"].as_str().unwrap().starts_with("310101"));
    assert_eq!(cover["area"].as_str().unwrap().len(), 12);
    let (_, page) = app
        .get(Some("admin"), "/api/v1/components?class=101&status=in_use")
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["3101010101000001", "3101040101000001"]);

    // A place search: an id read off the cover, words of its name and place in any order,
    // within the caller's jurisdiction only; a literal % is no wildcard.
    let found = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for (who, q, want) in [
        ("huangpu_lead", "3101010101000001", vec!["3101010101000001"]),
        ("huangpu_lead", "3101040101000001", vec![]),
        ("huangpu_lead", "步行街 上水", vec!["3101010101000001"]),
        (
            "huangpu_lead",
            "%E4%B8%8A%E6%B0%B4%E4%BA%95%E7%9B%96",
            vec!["3101010101000001"],
        ),
        (
            "admin",
            "%E4%B8%8A%E6%B0%B4%E4%BA%95%E7%9B%96",
            vec!["3101010101000001", "3101040101000001"],
        ),
        ("admin", "%25", vec![]),
        ("admin", "路灯1", vec!["3101010118000001"]),
    ] {
        let (status, page) = app
            .get(Some(who), &format!("/api/v1/components?q={q}"))
            .await;
        assert_eq!(status, 200, "{q}: {page}");
        assert_eq!(found(&page), want, "{who} {q}");
    }
    let (status, body) = app
        .get(
            Some("admin"),
            &format!("/api/v1/components?q={}", "长".repeat(51)),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("q")));

    // Nearest: the cover 0 m away; the light is 100 m east, so only a wide radius finds it.
    let (status, near) = app
        .get(
            Some("operator"),
            "/api/v1/components/nearest?lon=121.4838&lat=31.2369&radius=50",
        )
        .await;
    assert_eq!(status, 200, "{near}");
    let near = near.as_array().unwrap();
    assert_eq!(near.len(), 1, "{near:?}");
    assert_eq!(near[0]["component"]["id"], "3101010101000001");
    assert!(near[0]["distance_m"].as_f64().unwrap() < 12.0);
    let (_, wide) = app
        .get(
            Some("operator"),
            "/api/v1/components/nearest?lon=121.4837&lat=31.2369&radius=200&k=5&class=101",
        )
        .await;
    let wide: Vec<&str> = wide
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["component"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(wide, ["3101010101000001", "3101010118000001"]);
    for bad in ["radius=0", "k=0", "class=x1", "crs=mars"] {
        let (status, body) = app
            .get(
                Some("operator"),
                &format!("/api/v1/components/nearest?lon=121.48&lat=31.23&{bad}"),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        let field = bad.split('=').next().unwrap();
        assert_eq!(body["error"]["field"], field, "{bad}: {body}");
    }

    // A report of a water cover a few metres away links to it and goes to its maintainer.
    let (status, case) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "上水井盖破损，有行人绊倒风险",
                "location": {"lon": 121.48372, "lat": 31.23691},
                "category_hint": "10101",
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["component_id"], "3101010101000001");
    let (_, routing) = app
        .get(
            Some("dispatcher"),
            &format!("/api/v1/cases/{}/routing", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(routing["unit"], "310101002-JDB", "{routing}");
    assert!(
        routing["reason"]
            .as_str()
            .unwrap()
            .contains("3101010101000001"),
        "{routing}"
    );
    // An event class, or nothing of the class nearby, links nothing.
    let (_, far) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "上水井盖缺失",
                "location": {"lon": 121.4900, "lat": 31.2369},
                "category_hint": "10101",
            }),
        )
        .await;
    assert_eq!(far["component_id"], Value::Null, "{far}");
    let (status, unknown) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "上水井盖缺失",
                "location": {"lon": 121.4837, "lat": 31.2369},
                "component_id": "3101010101999999",
            }),
        )
        .await;
    assert_eq!(status, 422, "{unknown}");
    assert_eq!(unknown["error"]["field"], "component_id");

    // Exports are the import formats: importing them again changes nothing.
    let (status, csv) = app.get_text(Some("admin"), "/api/v1/components.csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let (status, body) = import(app, "admin", "text/csv", &csv).await;
    assert_eq!(
        (status, body["imported"].clone()),
        (200, json!(3)),
        "{body}"
    );
    // ...and says so.
    assert_eq!(
        (&body["added"], &body["replaced"], &body["unchanged"]),
        (&json!(0), &json!(0), &json!(3)),
        "{body}"
    );
    let (status, geojson) = app
        .get_text(Some("huangpu_lead"), "/api/v1/components.geojson")
        .await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&geojson).unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 2);
    let before: Value = app
        .get(Some("admin"), "/api/v1/components/3101010118000001")
        .await
        .1;
    let (status, body) = import(app, "admin", "application/geo+json", &geojson).await;
    assert_eq!(
        (status, body["imported"].clone()),
        (200, json!(2)),
        "{body}"
    );
    let after: Value = app
        .get(Some("admin"), "/api/v1/components/3101010118000001")
        .await
        .1;
    assert_eq!(before, after, "a GeoJSON round trip keeps every field");

    // OGC API Features: public, paged from the store, filtered by bbox and class.
    let (status, items) = app
        .get(
            None,
            "/ogc/collections/components/items?limit=2&class=10101",
        )
        .await;
    assert_eq!(status, 200, "{items}");
    assert_eq!(items["numberMatched"], 2);
    assert_eq!(items["numberReturned"], 2);
    let (_, boxed) = app
        .get(
            None,
            "/ogc/collections/components/items?bbox=121.48,31.23,121.49,31.24&limit=1",
        )
        .await;
    assert_eq!(boxed["numberMatched"], 2);
    assert_eq!(boxed["numberReturned"], 1);
    let next = boxed["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .expect("a next link");
    // The next page is asked for after the last id, not by counting from the start.
    let next = next["href"].as_str().unwrap();
    assert!(next.contains("after=3101010101000001"), "{next}");
    let (status, page) = app.get(None, &next[app.base.len()..]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["features"][0]["id"], "3101010118000001", "{page}");
    assert_eq!(page["numberReturned"], 1);
    let (status, item) = app
        .get(None, "/ogc/collections/components/items/3101010118000001")
        .await;
    assert_eq!(status, 200);
    assert_eq!(item["geometry"]["type"], "Point");
    assert_eq!(item["properties"]["class"], "10118");
}

async fn bad_census_files_are_refused_whole(app: &TestApp) {
    let good = "3101010101000001,10101,上水井盖1,121.4837,31.2369,,,,,,,,,,";
    let bad_files = [
        (
            format!("{HEADER}\n{good}\n3101010101000002,20101,x,121.4837,31.2369,,,,,,,,,,\n"),
            "line 3: class",
        ),
        (
            format!("{HEADER}\n{good}\n3101010101000002,10101,x,121.4837,31.2369,,,NO-SUCH-UNIT,,,,,,,\n"),
            "line 3: maintainer_unit",
        ),
        (
            format!("{HEADER}\n{good}\n3101010101000002,10101,x,122.9,30.1,,,,,,,,,,\n"),
            "line 3: lon",
        ),
        (
            format!("{HEADER}\n{good}\n3101010101000002,10101,x,121.4837,31.2369,,,,,lost,,,,,\n"),
            "line 3: status",
        ),
        (format!("id,class\n{good}\n"), "line 1"),
    ];
    for (file, field) in bad_files {
        let (status, body) = import(app, "admin", "text/csv", &file).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let feature = |geometry: Value, properties: Value| json!({"type": "Feature", "geometry": geometry, "properties": properties});
    let point = json!({"type": "Point", "coordinates": [121.4837, 31.2369]});
    let ok = feature(
        point.clone(),
        json!({"id": "3101010101000001", "class": "10101", "name": "上水井盖1"}),
    );
    let bad_geojson = [
        (
            json!({"type": "FeatureCollection", "features": [ok.clone(), feature(json!({"type": "LineString", "coordinates": [[121.48, 31.23], [121.49, 31.24]]}), json!({"id": "3101010101000002", "class": "10101", "name": "x"}))]}),
            "features[1].geometry",
        ),
        (
            json!({"type": "FeatureCollection", "features": [ok.clone(), feature(point.clone(), json!({"id": "3101010101000002", "class": "10101", "name": "x", "colour": "red"}))]}),
            "features[1].properties.",
        ),
        (
            json!({"type": "FeatureCollection", "features": [ok.clone(), ok.clone()]}),
            "features[1].properties.id",
        ),
        (json!({"type": "Feature"}), "file"),
    ];
    for (doc, field) in bad_geojson {
        let (status, body) = import(app, "admin", "application/geo+json", &doc.to_string()).await;
        assert_eq!(status, 422, "{field}: {body}");
        let got = body["error"]["field"].as_str().unwrap_or_default();
        assert!(got.starts_with(field), "{field} vs {got}: {body}");
    }
    let (status, _) = import(app, "operator", "text/csv", &census_csv()).await;
    assert_eq!(status, 403, "only an admin changes the census");
    assert_eq!(count(app, "admin").await, 0, "nothing was half-imported");
}
