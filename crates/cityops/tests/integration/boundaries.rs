//! A city imports its real boundaries in place of the generated ones: checked whole (nothing
//! half-imported), applied at once, and applied again after a restart.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(imported_boundaries_replace_the_generated_ones_and_survive_a_restart);

async fn import(app: &TestApp, who: &str, level: &str, doc: &Value) -> (u16, Value) {
    app.put_raw(
        Some(who),
        &format!("/api/v1/geo/boundaries/{level}"),
        "application/geo+json",
        doc.to_string().into_bytes(),
    )
    .await
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn feature(code: &str, parent: &str, geometry: &Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "parent": parent, "name": code}, "geometry": geometry})
}

/// A point inside a grid: the middle of its bounding box's first ring edge pair, nudged in.
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

async fn located_grid(app: &TestApp, base: &str, (lon, lat): (f64, f64)) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{base}/api/v1/geo/locate?lon={lon}&lat={lat}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn imported_boundaries_replace_the_generated_ones_and_survive_a_restart(app: &TestApp) {
    // Two generated grids of a Huangpu community stand in for a surveyed file.
    let community = "310101002001";
    let (status, layer) = app
        .get(
            None,
            &format!("/api/v1/geo/areas?level=grid&parent={community}"),
        )
        .await;
    assert_eq!(status, 200, "{layer}");
    let grids = layer["features"].as_array().unwrap();
    assert!(grids.len() >= 2);
    let (first, second) = (&grids[0]["geometry"], &grids[1]["geometry"]);
    let (p1, p2) = (inside(first), inside(second));
    let (_, before) = located_grid(app, &app.base, p1).await;
    let generated = before["unit_grid"].as_str().unwrap().to_owned();
    let elsewhere = (121.4365, 31.1880); // Xuhui

    // Faults are named and change nothing.
    let overlapping = collection(vec![
        feature(&format!("{community}91"), community, first),
        feature(&format!("{community}92"), community, first),
    ]);
    let foreign = collection(vec![feature("31010400100191", "310104001001", first)]);
    let wrong_parent = collection(vec![feature(
        &format!("{community}91"),
        "310101002002",
        first,
    )]);
    let unknown_district = collection(vec![feature("310199", "310000", first)]);
    let faults = [
        ("unit-grids", overlapping, "features[1]", "overlaps"),
        ("unit-grids", foreign, "features[0]", ""),
        (
            "unit-grids",
            wrong_parent,
            "features[0]",
            "does not lie under",
        ),
        ("districts", unknown_district, "features[0]", "not an area"),
        ("unit-grids", json!({"type": "Feature"}), "file", ""),
        ("wards", collection(vec![]), "level", ""),
    ];
    for (level, doc, field, words) in faults {
        let (status, body) = import(app, "admin", level, &doc).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(words),
            "{words}: {body}"
        );
    }
    let ok = collection(vec![
        feature(&format!("{community}91"), community, first),
        feature(&format!("{community}92"), community, second),
    ]);
    let (status, _) = import(app, "operator", "unit-grids", &ok).await;
    assert_eq!(status, 403);
    assert_eq!(
        located_grid(app, &app.base, p1).await.1["unit_grid"],
        generated.as_str(),
        "nothing was half-imported"
    );

    // The import replaces the level at once.
    let (status, body) = import(app, "admin", "unit-grids", &ok).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 2);
    let (_, now) = located_grid(app, &app.base, p1).await;
    assert_eq!(now["unit_grid"], format!("{community}91"));
    assert_eq!(now["responsibility_grid"], format!("R{community}"));
    assert_eq!(
        located_grid(app, &app.base, p2).await.1["unit_grid"],
        format!("{community}92")
    );
    assert_eq!(located_grid(app, &app.base, elsewhere).await.0, 404);

    // A restart applies the stored boundaries again.
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
    let (_, again) = located_grid(app, &base, p1).await;
    assert_eq!(again["unit_grid"], format!("{community}91"), "{again}");
    assert_eq!(located_grid(app, &base, elsewhere).await.0, 404);
    let _ = stop.send(());
    server.wait().await.unwrap();
}
