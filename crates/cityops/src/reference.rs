//! The reference data CityOps ships: Shanghai's division tree, the standard category
//! catalogue and the default units, embedded in the binary so a fresh machine needs no files.

use anyhow::{bail, Context, Result};
use cityops_domain::area::parse_area_csv;
use cityops_domain::unit::default_units;
use cityops_domain::{Area, AreaCode, AreaLevel, CategoryCatalog};
use cityops_store::Store;

const DISTRICTS: &str = include_str!("../../../data/shanghai/districts.csv");
const STREETS: &str = include_str!("../../../data/shanghai/streets.csv");
const COMMUNITIES: &str = include_str!("../../../data/shanghai/communities.csv");
pub const DISTRICTS_GEOJSON: &str = include_str!("../../../data/shanghai/districts.geojson");
/// The shipped boundaries come from AMap data, in GCJ-02 (see the provenance note).
pub const DISTRICTS_CRS: cityops_geo::Crs = cityops_geo::Crs::Gcj02;

pub const SHANGHAI: &str = "310000";

/// Shanghai's city, 16 districts, 234 streets/towns and 6,509 communities.
pub fn shanghai_areas() -> Result<Vec<Area>> {
    let city = AreaCode::parse(SHANGHAI)?;
    let mut areas = vec![Area {
        code: city.clone(),
        name: "上海市".into(),
        level: AreaLevel::City,
        parent: None,
    }];
    for (text, parent_column) in [
        (DISTRICTS, None),
        (STREETS, Some("areaCode")),
        (COMMUNITIES, Some("streetCode")),
    ] {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers()?.clone();
        let at = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("column {name}"))
        };
        let (code_at, name_at) = (at("code")?, at("name")?);
        let parent_at = parent_column.map(at).transpose()?;
        for record in reader.records() {
            let record = record?;
            let code = AreaCode::parse(&record[code_at])?;
            let parent = match parent_at {
                Some(i) => AreaCode::parse(&record[i])?,
                None => city.clone(),
            };
            if code.parent().as_ref() != Some(&parent) {
                bail!("{code} does not lie in {parent}");
            }
            areas.push(Area {
                level: code.level(),
                code,
                name: record[name_at].to_owned(),
                parent: Some(parent),
            });
        }
    }
    Ok(areas)
}

/// Loads what an empty store needs: areas, units and the category catalogue. Leaves a
/// store that already has them alone, so a city's own edits survive restarts.
pub async fn bootstrap(store: &dyn Store) -> Result<bool> {
    let mut loaded = false;
    if store.catalog().await?.is_none() {
        store.put_catalog(&CategoryCatalog::shipped()).await?;
        loaded = true;
    }
    let city = AreaCode::parse(SHANGHAI)?;
    if store.area(&city).await?.is_none() {
        let areas = shanghai_areas()?;
        store.put_areas(&areas).await?;
        store.put_units(&default_units("上海市", &areas)).await?;
        loaded = true;
    }
    Ok(loaded)
}

/// Imports an area CSV (code, name, parent_code) and the default units of its new
/// districts and streets. All or nothing: a bad row refuses the whole file.
pub async fn import_areas_csv(store: &dyn Store, text: &str) -> Result<usize> {
    let existing: std::collections::HashSet<String> = store
        .areas(&Default::default())
        .await?
        .into_iter()
        .map(|a| a.code.to_string())
        .collect();
    let areas = parse_area_csv(text, &|code| existing.contains(code.as_str()))?;
    let city_name = areas
        .iter()
        .find(|a| a.level == AreaLevel::City)
        .map_or("", |a| a.name.as_str())
        .to_owned();
    store.put_areas(&areas).await?;
    store.put_units(&default_units(&city_name, &areas)).await?;
    Ok(areas.len())
}

/// A district's label point from the shipped GeoJSON, in WGS-84, to place demo cases.
pub fn district_label_points() -> Result<Vec<(String, f64, f64)>> {
    let doc: serde_json::Value = serde_json::from_str(DISTRICTS_GEOJSON)?;
    let mut points = Vec::new();
    for feature in doc["features"].as_array().context("features")? {
        let props = &feature["properties"];
        let code = props["code"].as_str().context("code")?.to_owned();
        let (lon, lat) = match (
            props["label_point"][0].as_f64(),
            props["label_point"][1].as_f64(),
        ) {
            (Some(lon), Some(lat)) => (lon, lat),
            // Chongming has no label point: use the mean vertex of its largest ring.
            _ => largest_ring_mean(&feature["geometry"])
                .with_context(|| format!("no geometry for {code}"))?,
        };
        let (lon, lat) = DISTRICTS_CRS.to_wgs84(lon, lat);
        points.push((code, lon, lat));
    }
    Ok(points)
}

fn largest_ring_mean(geometry: &serde_json::Value) -> Option<(f64, f64)> {
    let polygons: Vec<&serde_json::Value> = match geometry["type"].as_str()? {
        "Polygon" => vec![&geometry["coordinates"]],
        "MultiPolygon" => geometry["coordinates"].as_array()?.iter().collect(),
        _ => return None,
    };
    let ring = polygons
        .iter()
        .filter_map(|p| p[0].as_array())
        .max_by_key(|ring| ring.len())?;
    let (mut lon, mut lat) = (0.0, 0.0);
    for point in ring {
        lon += point[0].as_f64()?;
        lat += point[1].as_f64()?;
    }
    Some((lon / ring.len() as f64, lat / ring.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_has_16_districts_234_streets_and_6509_communities() {
        let areas = shanghai_areas().unwrap();
        let count = |level| areas.iter().filter(|a| a.level == level).count();
        assert_eq!(count(AreaLevel::District), 16);
        assert_eq!(count(AreaLevel::Street), 234);
        assert_eq!(count(AreaLevel::Community), 6509);
        assert_eq!(district_label_points().unwrap().len(), 16);
    }
}
