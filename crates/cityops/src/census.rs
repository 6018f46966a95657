//! A generated component census for the generated Shanghai: what the demo loads and what
//! `cityops census generate` writes for a city to try the import with.

use anyhow::Result;
use chrono::NaiveDate;
use cityops_domain::{
    AreaCode, CategoryCatalog, CategoryCode, Component, ComponentStatus, Location, Unit,
};
use cityops_geo::census::{component_id, generate_census, CensusPoint, CENSUS_MIX};
use cityops_geo::Geography;
use cityops_store::Store;

/// The seed of the generated census.
pub const CENSUS_SEED: u64 = 2016;

const SETTINGS: [&str; 4] = ["人行道", "车行道", "绿地", "广场"];

/// Turns generated points into census records: named by class, maintained by the district
/// department the class belongs to (the unit its problems go to), in use but for a few.
pub fn components_from(
    geography: &Geography,
    catalog: &CategoryCatalog,
    points: &[CensusPoint],
) -> Vec<Component> {
    let classes: Vec<Option<(CategoryCode, cityops_domain::UnitKind)>> = CENSUS_MIX
        .iter()
        .map(|c| {
            let code = CategoryCode::parse(c.code).ok()?;
            let kind = catalog.get(&code)?.unit_kind;
            Some((code, kind))
        })
        .collect();
    let initial = NaiveDate::from_ymd_opt(2016, 6, 30);
    points
        .iter()
        .filter_map(|p| {
            let grid = geography.grids.get(p.grid as usize)?;
            let (class, kind) = classes.get(usize::from(p.class))?.clone()?;
            let area = AreaCode::parse(&grid.community).ok()?;
            let unit = Unit::default_code_for(kind, &area);
            let id = component_id(p.id);
            let sequence = p.id % 1_000_000;
            Some(Component {
                name: format!("{}{}", CENSUS_MIX[usize::from(p.class)].name, sequence),
                class,
                location: Location::new(p.lon, p.lat).ok()?,
                unit_grid: Some(grid.code.clone()),
                area,
                owner_unit: unit.clone(),
                maintainer_unit: unit,
                supervising_department: None,
                // About one in fifty is damaged, one in two hundred missing.
                status: match p.id % 200 {
                    0 => ComponentStatus::Missing,
                    1..=4 => ComponentStatus::Damaged,
                    _ => ComponentStatus::InUse,
                },
                setting: Some(SETTINGS[(p.id % 4) as usize].to_owned()),
                location_text: None,
                initial_date: initial,
                change_date: None,
                source: Some("generated census".to_owned()),
                id,
            })
        })
        .collect()
}

/// Loads a generated census of about `total` components into a store that has none.
pub async fn seed(store: &dyn Store, geography: &Geography, total: usize) -> Result<usize> {
    let probe = cityops_store::ComponentQuery {
        limit: 1,
        ..cityops_store::ComponentQuery::within(AreaCode::parse(crate::reference::SHANGHAI)?)
    };
    if total == 0 || !store.components(&probe).await?.is_empty() {
        return Ok(0);
    }
    let catalog = store
        .catalog()
        .await?
        .unwrap_or_else(CategoryCatalog::shipped);
    let points = generate_census(geography, CENSUS_SEED, total);
    let components = components_from(geography, &catalog, &points);
    store.put_components(&components).await?;
    Ok(components.len())
}
