//! OGC API Features read by a real client: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`, from
//! Debian's gdal-bin). CI installs it and sets CITYOPS_REQUIRE_GDAL=1 so this cannot skip.

use cityops_test_support::{on_both_backends, Backend, TestApp};
use serde_json::Value;
use std::process::Command;

fn gdal(program: &'static str, args: Vec<String>) -> tokio::task::JoinHandle<(bool, String)> {
    gdal_with(program, args, None)
}

/// Like [`gdal`], sending `Authorization: Bearer <token>` on every request.
fn gdal_with(
    program: &'static str,
    args: Vec<String>,
    token: Option<String>,
) -> tokio::task::JoinHandle<(bool, String)> {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(program);
        if let Some(token) = token {
            command.env(
                "GDAL_HTTP_HEADERS",
                format!("Authorization: Bearer {token}"),
            );
        }
        let output = command
            .args(&args)
            .env("GDAL_HTTP_TIMEOUT", "30")
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    })
}

fn feature_count(text: &str) -> usize {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no feature count in:\n{text}"))
}

#[tokio::test]
async fn gdal_reads_the_areas_and_unit_grids_as_ogc_api_features() {
    if Command::new("ogrinfo").arg("--version").output().is_err() {
        assert!(
            std::env::var("CITYOPS_REQUIRE_GDAL").as_deref() != Ok("1"),
            "CITYOPS_REQUIRE_GDAL=1 but ogrinfo is not installed"
        );
        eprintln!("ogrinfo is not installed (apt-get install gdal-bin): OGC test skipped");
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let source = format!("OAPIF:{}/ogc", app.base);

    let (ok, layers) = gdal("ogrinfo", vec!["-ro".into(), "-q".into(), source.clone()])
        .await
        .unwrap();
    assert!(ok, "{layers}");
    for layer in [
        "districts",
        "streets",
        "communities",
        "unit-grids",
        "responsibility-grids",
        "components",
        "cases",
    ] {
        assert!(layers.contains(layer), "{layer} missing in:\n{layers}");
    }
    let (ok, districts) = gdal(
        "ogrinfo",
        vec![
            "-ro".into(),
            "-so".into(),
            source.clone(),
            "districts".into(),
        ],
    )
    .await
    .unwrap();
    assert!(ok, "{districts}");
    assert_eq!(feature_count(&districts), 16);

    // A bbox query, against the API's own answer for the same box.
    let (ok, grids) = gdal(
        "ogrinfo",
        [
            "-ro",
            "-so",
            "-spat",
            "121.48",
            "31.23",
            "121.49",
            "31.24",
            &source,
            "unit-grids",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await
    .unwrap();
    assert!(ok, "{grids}");
    let (_, expected) = app
        .get(
            None,
            "/api/v1/geo/areas?level=grid&bbox=121.48,31.23,121.49,31.24",
        )
        .await;
    assert_eq!(
        feature_count(&grids),
        expected["features"].as_array().unwrap().len()
    );

    // ogr2ogr pages through every street by following the next links.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("streets.geojson");
    let (ok, log) = gdal(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            out.to_str().unwrap().into(),
            source.clone(),
            "streets".into(),
        ],
    )
    .await
    .unwrap();
    assert!(ok, "{log}");
    let copied: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let features = copied["features"].as_array().unwrap();
    assert_eq!(features.len(), 234);
    assert!(features
        .iter()
        .any(|f| f["properties"]["name"] == "南京东路街道"));

    // Open cases need a session; GDAL sends it as a header and sees the caller's cases.
    app.report("inspector", "inspector").await;
    app.report("inspector", "inspector").await;
    let (ok, cases) = gdal_with(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), source.clone(), "cases".into()],
        Some(app.tokens["operator"].clone()),
    )
    .await
    .unwrap();
    assert!(ok, "{cases}");
    assert_eq!(feature_count(&cases), 2);
    let (ok, refused) = gdal(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), source.clone(), "cases".into()],
    )
    .await
    .unwrap();
    assert!(!ok || !refused.contains("Feature Count: 2"), "{refused}");
    app.finish().await;
}

on_both_backends!(open_cases_need_a_session_and_stay_in_scope);

async fn open_cases_need_a_session_and_stay_in_scope(app: &TestApp) {
    let huangpu = app.report("inspector", "inspector").await;
    let (status, xuhui) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            serde_json::json!({
                "source": "hotline",
                "description": "徐家汇路口交通信号灯不亮",
                "location": {"lon": 121.4365, "lat": 31.1880},
            }),
        )
        .await;
    assert_eq!(status, 201, "{xuhui}");
    let get = |who: &'static str, path: String| async move {
        let mut request = app.client.get(format!("{}{path}", app.base));
        if who != "nobody" {
            request = request.bearer_auth(&app.tokens[who]);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };
    let items = "/ogc/collections/cases/items".to_owned();
    let (status, body) = get("nobody", items.clone()).await;
    assert_eq!(status, 401, "{body}");
    let (_, all) = get("operator", items.clone()).await;
    assert_eq!(all["numberMatched"], 2, "{all}");
    let (_, street) = get("street_dispatcher", items.clone()).await;
    assert_eq!(street["numberMatched"], 1, "{street}");
    assert_eq!(street["features"][0]["id"], huangpu["number"]);
    let xuhui_item = format!("{items}/{}", xuhui["number"].as_str().unwrap());
    assert_eq!(get("street_dispatcher", xuhui_item.clone()).await.0, 404);
    assert_eq!(get("operator", xuhui_item).await.0, 200);
    let (_, filtered) = get("operator", format!("{items}?district=310104&limit=1")).await;
    assert_eq!(filtered["numberMatched"], 1, "{filtered}");
    let (status, bad) = get("operator", format!("{items}?state=closed")).await;
    assert_eq!(
        (status, bad["error"]["field"].clone()),
        (422, "state".into())
    );
    let text = all.to_string();
    assert!(
        !text.contains("description") && !text.contains("phone"),
        "{text}"
    );

    // Responsibility grids: the union of their unit grids, public like the other areas.
    let (status, groups) = get(
        "nobody",
        "/ogc/collections/responsibility-grids/items?limit=5".into(),
    )
    .await;
    assert_eq!(status, 200, "{groups}");
    assert!(
        groups["numberMatched"].as_u64().unwrap() > 1_000,
        "{}",
        groups["numberMatched"]
    );
    assert_eq!(groups["features"][0]["geometry"]["type"], "MultiPolygon");

    // Queryables and the service description declare the property filters.
    let (status, queryables) = get("nobody", "/ogc/collections/components/queryables".into()).await;
    assert_eq!(status, 200);
    assert!(
        queryables["properties"]["class"].is_object(),
        "{queryables}"
    );
    let (_, landing) = get("nobody", "/ogc".into()).await;
    let service = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "service-desc")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let api: Value = app
        .client
        .get(service)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parameters = api["paths"]["/collections/cases/items"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "state"), "{api}");
}
