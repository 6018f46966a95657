//! New boundaries re-locate what lies on the map: open cases (each with a `relocate` event on
//! its timeline), devices and census components move to the area and unit grid their point
//! now lies in; finished cases, and cases whose point left their district, stay.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(imported_boundaries_relocate_open_cases_devices_and_components);

async fn import(app: &TestApp, level: &str, features: Vec<Value>) -> Value {
    let doc = json!({"type": "FeatureCollection", "features": features});
    let (status, body) = app
        .put_raw(
            Some("admin"),
            &format!("/api/v1/geo/boundaries/{level}"),
            "application/geo+json",
            doc.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{level}: {body}");
    body
}

fn feature(code: &str, parent: &str, geometry: &Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "parent": parent, "name": code}, "geometry": geometry})
}

async fn layer(app: &TestApp, level: &str, parent: &str) -> Vec<Value> {
    let (status, layer) = app
        .get(
            None,
            &format!("/api/v1/geo/areas?level={level}&parent={parent}"),
        )
        .await;
    assert_eq!(status, 200, "{layer}");
    layer["features"].as_array().unwrap().clone()
}

fn geometry_of<'a>(features: &'a [Value], code: &str) -> &'a Value {
    &features
        .iter()
        .find(|f| f["properties"]["code"] == code)
        .unwrap_or_else(|| panic!("no {code}"))["geometry"]
}

/// The centroid of the first ring's vertices: inside the convex generated grids.
fn inside(geometry: &Value) -> (f64, f64) {
    let ring = match geometry["type"].as_str().unwrap() {
        "Polygon" => &geometry["coordinates"][0],
        _ => &geometry["coordinates"][0][0],
    };
    let points: Vec<(f64, f64)> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let n = (points.len() - 1) as f64;
    let (x, y) = points[..points.len() - 1]
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
    (x / n, y / n)
}

async fn finished_job(app: &TestApp, href: &str) -> Value {
    for _ in 0..200 {
        let (status, job) = app.get(Some("admin"), href).await;
        assert_eq!(status, 200, "{job}");
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the relocation did not finish");
}

async fn case(app: &TestApp, id: &str) -> Value {
    let (status, case) = app.get(Some("admin"), &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{case}");
    case
}

async fn imported_boundaries_relocate_open_cases_devices_and_components(app: &TestApp) {
    let (street, c1, c2) = ("310101002", "310101002001", "310101002002");
    let communities = layer(app, "community", street).await;
    let grids = layer(app, "grid", c1).await;
    let grid = grids[0]["properties"]["code"].as_str().unwrap().to_owned();
    let point = inside(&grids[0]["geometry"]);
    let (lon, lat) = point;

    // An open case, a finished one, a device and a component at the same point of c1.
    let report = json!({"source": "inspector", "description": "人行道板松动，行人易绊倒",
                        "location": {"lon": lon, "lat": lat}});
    let (status, open) = app
        .post_json(Some("operator"), "/api/v1/cases", report.clone())
        .await;
    assert_eq!(status, 201, "{open}");
    assert_eq!(
        (open["area"].as_str(), open["unit_grid"].as_str()),
        (Some(c1), Some(grid.as_str()))
    );
    let (_, finished) = app
        .post_json(Some("operator"), "/api/v1/cases", report)
        .await;
    let finished = app
        .ok("lead", &finished, "cancel", json!({"reason": "重复上报"}))
        .await;
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": "HP-WL-RELOC", "kind": "water_level", "name": "积水监测点",
                   "location": {"lon": lon, "lat": lat}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    assert_eq!(device["area"], c1);
    let census = format!(
        "id,class,name,lon,lat,unit_grid,owner_unit,maintainer_unit,supervising_department,status,setting,location_text,initial_date,change_date,source\n\
         3101010101990001,10101,上水井盖,{lon},{lat},,,,,in_use,,,,,普查2026\n"
    );
    let (status, body) = app
        .put_raw(
            Some("admin"),
            "/api/v1/components",
            "text/csv",
            census.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The survey swaps the two communities' extents, and the point's grid now belongs to c2.
    import(
        app,
        "communities",
        vec![
            feature(c1, street, geometry_of(&communities, c2)),
            feature(c2, street, geometry_of(&communities, c1)),
        ],
    )
    .await;
    let new_grid = format!("{c2}91");
    let answer = import(
        app,
        "unit-grids",
        vec![feature(&new_grid, c2, &grids[0]["geometry"])],
    )
    .await;
    let href = answer["relocation"]["href"].as_str().unwrap();
    let job = finished_job(app, href).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["level"], "unit-grids");
    assert!(job["cases"]["moved"].as_u64().unwrap() >= 1, "{job}");
    assert!(job["cases"]["checked"].as_u64().unwrap() >= job["cases"]["moved"].as_u64().unwrap());
    assert!(job["devices"]["moved"].as_u64().unwrap() >= 1, "{job}");
    assert!(job["components"]["moved"].as_u64().unwrap() >= 1, "{job}");

    let moved = case(app, open["id"].as_str().unwrap()).await;
    assert_eq!(moved["area"], c2, "{moved}");
    assert_eq!(moved["unit_grid"], new_grid.as_str());
    assert_eq!(
        moved["state"], open["state"],
        "the workflow goes on where it was"
    );
    let timeline = app.timeline(&moved).await;
    let last = timeline.last().unwrap();
    assert_eq!(last["action"], "relocate", "{last}");
    assert_eq!(last["role"], "system", "{last}");
    assert_eq!(last["details"]["area"], c2, "{last}");
    let reason = last["details"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("admin"),
        "the event names who imported: {reason}"
    );
    // The case is now where c2's dispatchers look for it.
    let (_, queue) = app
        .get(Some("admin"), &format!("/api/v1/cases?area={c2}&limit=200"))
        .await;
    assert!(queue.to_string().contains(open["id"].as_str().unwrap()));

    let untouched = case(app, finished["id"].as_str().unwrap()).await;
    assert_eq!(untouched["area"], c1, "a finished case keeps its place");
    assert_eq!(untouched["version"], finished["version"]);

    let (_, device) = app.get(Some("admin"), "/api/v1/devices/HP-WL-RELOC").await;
    assert_eq!(
        (device["area"].as_str(), device["unit_grid"].as_str()),
        (Some(c2), Some(new_grid.as_str())),
        "{device}"
    );
    let (_, component) = app
        .get(Some("admin"), "/api/v1/components/3101010101990001")
        .await;
    assert_eq!(component["area"], c2, "{component}");
    assert_eq!(component["unit_grid"], new_grid.as_str());

    // The job is the admin's to follow; the relocation is on the audit log.
    assert_eq!(app.get(Some("operator"), href).await.0, 403);
    assert_eq!(
        app.get(Some("admin"), "/api/v1/geo/relocations/nope")
            .await
            .0,
        404
    );
    let (_, audit) = app
        .get(Some("auditor"), "/api/v1/audit?action=geo.relocation")
        .await;
    assert!(audit.to_string().contains("geo.relocation"), "{audit}");
}
