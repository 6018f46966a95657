//! Big answers stream: the census and device exports and the OGC `cases` collection are
//! written page by page from the store. What a client receives is byte for byte what the
//! whole answer built in memory was (several pages' worth here), formulas still escaped, and
//! OGC pages are bounded and cheap however far a client pages.

use cityops_domain::telemetry::{Device, DeviceStatus};
use cityops_domain::{AreaCode, CategoryCode, Component, ComponentStatus, Location};
use cityops_store::telemetry::DeviceQuery;
use cityops_store::ComponentQuery;
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    streamed_exports_are_the_whole_answer_byte_for_byte_with_formulas_escaped,
    ogc_cases_page_by_keyset_and_an_offset_past_the_end_is_cheap,
);

/// More than two export pages (2,000 rows each) in Huangpu, and a few in Xuhui.
const HUANGPU: usize = 4_500;
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"点此领取补贴\")";

fn component(district: &str, community: &str, seq: usize, lon: f64, lat: f64) -> Component {
    Component {
        id: format!("{district}0101{seq:06}"),
        class: CategoryCode::parse("10101").unwrap(),
        name: match seq % 3 {
            0 => FORMULA.to_owned(),
            1 => format!("上水井盖{seq}, \"东侧\""),
            _ => format!("上水井盖{seq}"),
        },
        location: Location::new(lon + seq as f64 * 1e-6, lat).unwrap(),
        area: AreaCode::parse(community).unwrap(),
        unit_grid: None,
        owner_unit: seq.is_multiple_of(2).then(|| "自来水市北公司".to_owned()),
        maintainer_unit: None,
        supervising_department: Some("+86 139 0000 1111".to_owned()),
        status: ComponentStatus::InUse,
        setting: Some("人行道".to_owned()),
        location_text: seq
            .is_multiple_of(5)
            .then(|| "-南京东路\n步行街".to_owned()),
        initial_date: chrono::NaiveDate::from_ymd_opt(2016, 6, 30),
        change_date: None,
        source: Some("普查2016".to_owned()),
    }
}

fn device(seq: usize, community: &str) -> Device {
    Device {
        id: format!("HP-{seq:05}"),
        kind: "gas_detector".to_owned(),
        name: if seq.is_multiple_of(4) {
            FORMULA.to_owned()
        } else {
            format!("燃气探测器{seq}")
        },
        location: Location::new(121.4837, 31.2369).unwrap(),
        area: AreaCode::parse(community).unwrap(),
        unit_grid: None,
        component_id: None,
        owner_unit: Some("@燃气公司".to_owned()),
        status: DeviceStatus::Active,
    }
}

async fn all_components(app: &TestApp, scope: &str) -> Vec<Component> {
    let mut query = ComponentQuery {
        limit: 100_000,
        ..ComponentQuery::within(AreaCode::parse(scope).unwrap())
    };
    query.limit = 100_000;
    app.store.components(&query).await.unwrap()
}

/// The rows of a CSV export, as a spreadsheet would read them.
fn cells(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn streamed_exports_are_the_whole_answer_byte_for_byte_with_formulas_escaped(app: &TestApp) {
    let mut census: Vec<Component> = (1..=HUANGPU)
        .map(|seq| component("310101", "310101002001", seq, 121.4837, 31.2369))
        .collect();
    census.extend((1..=5).map(|seq| component("310104", "310104003001", seq, 121.4365, 31.188)));
    app.store.put_components(&census).await.unwrap();
    let devices: Vec<Device> = (1..=2_100).map(|seq| device(seq, "310101002001")).collect();
    app.store.put_devices(&devices).await.unwrap();

    for (who, scope, count) in [
        ("admin", "310000", HUANGPU + 5),
        ("huangpu_lead", "310101", HUANGPU),
    ] {
        let stored = all_components(app, scope).await;
        assert_eq!(stored.len(), count);
        // What the export answered when it built the whole file in memory.
        let whole = format!(
            "\u{feff}{}",
            cityops_domain::component::components_csv(&stored)
        );
        let (status, streamed) = app.get_text(Some(who), "/api/v1/components.csv").await;
        assert_eq!(status, 200);
        assert!(
            streamed == whole,
            "{who}: the streamed CSV differs from the whole one"
        );
        let rows = cells(&streamed);
        assert_eq!(rows.len(), count);
        for row in &rows {
            assert!(
                row.iter().all(|c| !c.starts_with(['=', '+', '@', '-'])),
                "a cell a spreadsheet would run: {row:?}"
            );
        }
        assert!(rows.iter().any(|r| r[2] == format!("'{FORMULA}")));

        let (status, streamed) = app.get_text(Some(who), "/api/v1/components.geojson").await;
        assert_eq!(status, 200);
        let doc: Value = serde_json::from_str(&streamed).expect("the stream is one JSON document");
        let features: Vec<Value> = stored.iter().map(feature).collect();
        let whole = json!({"type": "FeatureCollection", "features": features}).to_string();
        assert!(
            streamed == whole,
            "{who}: the streamed GeoJSON differs from the whole one"
        );
        let features = doc["features"].as_array().unwrap();
        assert_eq!(doc["type"], "FeatureCollection");
        assert_eq!(features.len(), count);
        for (feature, component) in features.iter().zip(&stored) {
            assert_eq!(feature["id"], component.id.as_str());
            assert_eq!(feature["properties"]["name"], component.name.as_str());
        }
    }

    let stored = app
        .store
        .devices(&DeviceQuery {
            scope: AreaCode::parse("310000").unwrap(),
            kind: None,
            limit: 100_000,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2_100);
    let whole = format!(
        "\u{feff}{}",
        cityops_domain::telemetry::devices_csv(&stored)
    );
    let (status, streamed) = app.get_text(Some("admin"), "/api/v1/devices.csv").await;
    assert_eq!(status, 200);
    assert!(
        streamed == whole,
        "the streamed device CSV differs from the whole one"
    );
    let rows = cells(&streamed);
    assert_eq!(rows.len(), 2_100);
    assert!(rows.iter().any(|r| r[2] == format!("'{FORMULA}")));
    assert!(rows.iter().all(|r| r[8] == "'@燃气公司"), "{:?}", rows[0]);
    // Out of scope: Xuhui sees none of Huangpu's devices, and still a whole file.
    let (status, xuhui) = app
        .get_text(Some("xuhui_operator"), "/api/v1/devices.csv")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        xuhui,
        format!("\u{feff}{}", cityops_domain::telemetry::devices_csv(&[]))
    );
}

async fn ogc_cases_page_by_keyset_and_an_offset_past_the_end_is_cheap(app: &TestApp) {
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(
            app.report("operator", "hotline").await["number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    numbers.sort();
    let get = |path: String| async move {
        let response = app
            .client
            .get(&path)
            .bearer_auth(&app.tokens["operator"])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json::<Value>().await.expect("one JSON document")
    };
    // Following `next` visits every case once, in number order.
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/ogc/collections/cases/items?limit=2", app.base));
    while let Some(path) = next.take() {
        let page = get(path).await;
        assert_eq!(page["numberMatched"], 5, "{page}");
        let features = page["features"].as_array().unwrap();
        assert_eq!(page["numberReturned"], features.len());
        seen.extend(
            features
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned()),
        );
        next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_owned());
        if let Some(next) = &next {
            assert!(
                next.starts_with(&app.base) && next.contains("after="),
                "{next}"
            );
        }
    }
    assert_eq!(seen, numbers);
    // An offset still works, and one far past the end answers an empty page from the count.
    let page = get(format!("{}/ogc/collections/cases/items?offset=3", app.base)).await;
    let ids: Vec<&str> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        numbers[3..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let started = std::time::Instant::now();
    let page = get(format!(
        "{}/ogc/collections/cases/items?offset=18446744073709551615",
        app.base
    ))
    .await;
    assert_eq!(page["numberReturned"], 0, "{page}");
    assert_eq!(page["numberMatched"], 5, "{page}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // A limit above the most a page holds is cut to it, not refused; 0 is refused.
    let page = get(format!(
        "{}/ogc/collections/districts/items?limit=1000000",
        app.base
    ))
    .await;
    assert_eq!(page["numberReturned"], 16, "{page}");
    assert!(page["links"][0]["href"]
        .as_str()
        .unwrap()
        .contains("limit=1000&"));
    // A page of the city's unit grids writes that page's geometry only; an offset past the
    // end is an empty page with the count.
    let page = get(format!(
        "{}/ogc/collections/unit-grids/items?limit=2&offset=100",
        app.base
    ))
    .await;
    let grids = page["numberMatched"].as_u64().unwrap();
    assert!(grids > 40_000, "{grids}");
    let ids: Vec<&str> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "{ids:?}");
    assert_eq!(
        page["features"][0]["geometry"]["type"], "MultiPolygon",
        "{page}"
    );
    let one = get(format!(
        "{}/ogc/collections/unit-grids/items/{}",
        app.base, ids[1]
    ))
    .await;
    assert_eq!(one["id"], ids[1]);
    assert_eq!(one["geometry"], page["features"][1]["geometry"]);
    let next = get(format!(
        "{}/ogc/collections/unit-grids/items?limit=1&offset=101",
        app.base
    ))
    .await;
    assert_eq!(next["features"][0]["id"], ids[1]);
    let past = get(format!(
        "{}/ogc/collections/unit-grids/items?offset=18446744073709551615",
        app.base
    ))
    .await;
    assert_eq!(
        (
            past["numberReturned"].as_u64(),
            past["numberMatched"].as_u64()
        ),
        (Some(0), Some(grids))
    );
    let (status, refused) = app
        .get(Some("operator"), "/ogc/collections/cases/items?limit=0")
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("limit"))
    );
    // A box filters what streams; outside every case it is an empty collection.
    let page = get(format!(
        "{}/ogc/collections/cases/items?bbox=121.0,30.7,121.1,30.8",
        app.base
    ))
    .await;
    assert_eq!(page["numberReturned"], 0, "{page}");
    let page = get(format!(
        "{}/ogc/collections/cases/items?bbox=121.4,31.2,121.5,31.3&limit=3",
        app.base
    ))
    .await;
    assert_eq!(page["numberReturned"], 3, "{page}");
}

/// The export's feature as the census route writes it (`routes::census::component_feature`),
/// so the whole document the export answered before it streamed can be built here.
fn feature(c: &Component) -> Value {
    let mut properties = serde_json::Map::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            properties.insert(name.to_owned(), Value::String(value));
        }
    };
    put("id", Some(c.id.clone()));
    put("class", Some(c.class.to_string()));
    put("name", Some(c.name.clone()));
    put("unit_grid", c.unit_grid.clone());
    put("owner_unit", c.owner_unit.clone());
    put("maintainer_unit", c.maintainer_unit.clone());
    put("supervising_department", c.supervising_department.clone());
    put("status", Some(c.status.as_str().to_owned()));
    put("setting", c.setting.clone());
    put("location_text", c.location_text.clone());
    put("initial_date", c.initial_date.map(|d| d.to_string()));
    put("change_date", c.change_date.map(|d| d.to_string()));
    put("source", c.source.clone());
    put("area", Some(c.area.to_string()));
    json!({
        "type": "Feature",
        "id": c.id,
        "geometry": {"type": "Point", "coordinates": [c.location.lon, c.location.lat]},
        "properties": properties,
    })
}
