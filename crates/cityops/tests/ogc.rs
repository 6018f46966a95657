//! OGC API Features read by a real client: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`, from
//! Debian's gdal-bin). CI installs it and sets CITYOPS_REQUIRE_GDAL=1 so this cannot skip.

mod common;

use common::{Backend, TestApp};
use serde_json::Value;
use std::process::Command;

fn gdal(program: &'static str, args: Vec<String>) -> tokio::task::JoinHandle<(bool, String)> {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(program)
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
    for layer in ["districts", "streets", "communities", "unit-grids"] {
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
    app.finish().await;
}
