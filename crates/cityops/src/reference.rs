//! The reference data CityOps ships: Shanghai's division tree, the standard category
//! catalogue, the default units and China's official holiday schedules, embedded in the
//! binary so a fresh machine needs no files.

use anyhow::{bail, Context, Result};
use cityops_domain::area::parse_area_csv;
use cityops_domain::calendar::{HolidayCnFile, HolidayYear, WorkingCalendar, WorkingHours};
use cityops_domain::unit::default_units;
use cityops_domain::{Area, AreaCode, AreaLevel, CategoryCatalog};
use cityops_store::{GeographyStore, Store};
use std::sync::Arc;

const DISTRICTS: &str = include_str!("../../../data/shanghai/districts.csv");
const STREETS: &str = include_str!("../../../data/shanghai/streets.csv");
const COMMUNITIES: &str = include_str!("../../../data/shanghai/communities.csv");
pub const DISTRICTS_GEOJSON: &str = include_str!("../../../data/shanghai/districts.geojson");
/// The shipped boundaries come from AMap data, in GCJ-02 (see the provenance note).
pub const DISTRICTS_CRS: cityops_geo::Crs = cityops_geo::Crs::Gcj02;

pub const SHANGHAI: &str = "310000";

/// The official holiday schedules of 2020 to 2026 (NateScarlet/holiday-cn, MIT; see
/// `data/calendar/README.md`).
const HOLIDAY_SCHEDULES: [&str; 7] = [
    include_str!("../../../data/calendar/2020.json"),
    include_str!("../../../data/calendar/2021.json"),
    include_str!("../../../data/calendar/2022.json"),
    include_str!("../../../data/calendar/2023.json"),
    include_str!("../../../data/calendar/2024.json"),
    include_str!("../../../data/calendar/2025.json"),
    include_str!("../../../data/calendar/2026.json"),
];

/// Report texts written for each small class, which class suggestions start from (see
/// `data/classify/README.md`).
const LABELLED_REPORTS: [&str; 4] = [
    include_str!("../../../data/classify/labelled-101.csv"),
    include_str!("../../../data/classify/labelled-102-103.csv"),
    include_str!("../../../data/classify/labelled-104-106.csv"),
    include_str!("../../../data/classify/labelled-201-205.csv"),
];

/// The shipped labelled report texts, every one (the benchmark holds a fifth out).
pub fn labelled_reports() -> Result<Vec<cityops_domain::classify::LabelledText>> {
    let mut rows = Vec::new();
    for text in LABELLED_REPORTS {
        rows.extend(
            cityops_domain::classify::labelled_set(text)
                .map_err(|e| anyhow::anyhow!("labelled reports, {}: {}", e.field, e.reason))?,
        );
    }
    Ok(rows)
}

/// Class suggestions' start, trained once per process on the shipped texts and the shipped
/// catalogue's names (every server of the process, the tests' many among them, shares it).
pub fn class_seed() -> Result<Arc<cityops_api::classes::ClassSeed>> {
    static SEED: std::sync::OnceLock<Arc<cityops_api::classes::ClassSeed>> =
        std::sync::OnceLock::new();
    if let Some(seed) = SEED.get() {
        return Ok(seed.clone());
    }
    let seed = Arc::new(cityops_api::classes::ClassSeed::train(
        &labelled_reports()?,
        &CategoryCatalog::shipped(),
    ));
    Ok(SEED.get_or_init(|| seed).clone())
}

/// The shipped holiday schedules, checked as an import would be.
pub fn shipped_holiday_years() -> Result<Vec<HolidayYear>> {
    HOLIDAY_SCHEDULES
        .iter()
        .map(|text| {
            let file: HolidayCnFile = serde_json::from_str(text)?;
            let year = file.year;
            file.into_year()
                .with_context(|| format!("the shipped holiday schedule of {year}"))
        })
        .collect()
}

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

/// Loads what an empty store needs: areas, units, the category catalogue and the holiday
/// schedules. Leaves what a store already has alone, so a city's own edits survive restarts.
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
        // A new city starts with the shipped vital-sign rules; its own changes survive.
        for rule in cityops_domain::telemetry::default_rules() {
            store.put_telemetry_rule(&rule).await?;
        }
        loaded = true;
    }
    loaded |= seed_holiday_years(store).await? > 0;
    Ok(loaded)
}

/// Stores each shipped holiday schedule whose year the store lacks; a year already stored
/// (a city's own import or correction) stays. A shipped year that contradicts a stored
/// neighbour is left out, with a warning: the city's data wins over the shipped.
pub async fn seed_holiday_years(store: &dyn Store) -> Result<usize> {
    let mut calendar = WorkingCalendar::new(WorkingHours::default(), store.holiday_years().await?);
    let mut seeded = 0;
    for year in shipped_holiday_years()? {
        if calendar.knows(year.year) {
            continue;
        }
        if let Err(e) = calendar.check_year(&year) {
            tracing::warn!(year = year.year, error = %e, "Shipped holiday schedule not loaded.");
            continue;
        }
        store.put_holiday_year(&year, None).await?;
        seeded += 1;
        calendar = WorkingCalendar::new(WorkingHours::default(), store.holiday_years().await?);
    }
    Ok(seeded)
}

/// Imports an area CSV (code, name, parent_code) and the default units of its new
/// districts and streets. All or nothing: a bad row refuses the whole file.
pub async fn import_areas_csv(store: &dyn GeographyStore, text: &str) -> Result<usize> {
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

/// Cell size of the generated unit grids: about 10,000 m² (100 m) in the dense centre,
/// larger in the suburbs and the countryside, for about 50,000 grids in all (Shanghai counted
/// 40,625 in 2016).
fn cell_metres(district: &str) -> f64 {
    match district {
        // Huangpu, Xuhui, Changning, Jing'an, Putuo, Hongkou, Yangpu.
        "310101" | "310104" | "310105" | "310106" | "310107" | "310109" | "310110" => 100.0,
        // Minhang, Baoshan.
        "310112" | "310113" => 300.0,
        // Pudong.
        "310115" => 400.0,
        // Chongming.
        "310151" => 800.0,
        _ => 600.0,
    }
}

/// The seed of the generated geography: change it and every street, community and grid moves.
pub const GEOGRAPHY_SEED: u64 = 20_261_125;

/// Shanghai's generated streets, communities and unit grids inside the real districts,
/// generated once per process (a second or two in a release build).
pub fn shanghai_geography() -> Result<Arc<cityops_geo::Geography>> {
    static GEOGRAPHY: std::sync::OnceLock<Arc<cityops_geo::Geography>> = std::sync::OnceLock::new();
    if let Some(geography) = GEOGRAPHY.get() {
        return Ok(geography.clone());
    }
    let boundaries = cityops_geo::Boundaries::from_geojson_in(DISTRICTS_GEOJSON, DISTRICTS_CRS)?;
    let areas = shanghai_areas()?;
    let plans: Vec<cityops_geo::DistrictPlan> = areas
        .iter()
        .filter(|a| a.level == AreaLevel::District)
        .map(|district| cityops_geo::DistrictPlan {
            code: district.code.to_string(),
            cell_metres: cell_metres(district.code.as_str()),
            streets: areas
                .iter()
                .filter(|s| {
                    s.level == AreaLevel::Street && s.parent.as_ref() == Some(&district.code)
                })
                .map(|street| cityops_geo::StreetPlan {
                    code: street.code.to_string(),
                    communities: areas
                        .iter()
                        .filter(|c| c.parent.as_ref() == Some(&street.code))
                        .map(|c| c.code.to_string())
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let geography = Arc::new(cityops_geo::Geography::generate(
        &boundaries,
        &plans,
        GEOGRAPHY_SEED,
    )?);
    Ok(GEOGRAPHY.get_or_init(|| geography).clone())
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
    }

    #[test]
    fn the_generated_shanghai_has_every_street_and_community_and_about_50000_grids() {
        let started = std::time::Instant::now();
        let geography = shanghai_geography().unwrap();
        eprintln!("generated {geography:?} in {:?}", started.elapsed());
        assert_eq!(geography.streets.len(), 234);
        // Communities whose street has no cells left would be missing: none may be.
        assert_eq!(geography.communities.len(), 6509);
        assert!(
            (40_000..70_000).contains(&geography.grids.len()),
            "{}",
            geography.grids.len()
        );
        // The Bund, Xujiahui, Chongming's Chengqiao town centre.
        for (lon, lat, district) in [
            (121.4860, 31.2380, "310101"),
            (121.4330, 31.1900, "310104"),
            (121.3970, 31.6230, "310151"),
        ] {
            let grid = geography
                .locate(lon, lat)
                .unwrap_or_else(|| panic!("{lon},{lat}"));
            assert_eq!(grid.district, district);
        }
    }
}
