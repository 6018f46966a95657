//! Real boundaries a city imports in place of the generated ones: districts, streets,
//! communities or unit grids as a GeoJSON FeatureCollection of Polygons and MultiPolygons with
//! properties `code`, `parent` and `name` (unit grids may add `responsibility_grid`).
//!
//! An import is checked whole before anything changes: codes of the level's length that
//! extend their parent's, closed rings, no two features overlapping, each feature inside its
//! parent. The first fault refuses the file, naming the feature's index.

use geo::{
    Area, BooleanOps, ChamberlainDuquetteArea, InteriorPoint, Intersects, MultiPolygon, Rect,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value;

use crate::{shape_json, Boundaries, BoundaryError, Crs};

/// The level of the area tree an import replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    District,
    Street,
    Community,
    Grid,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
    ];

    /// As the API and the OGC collections name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "districts",
            Level::Street => "streets",
            Level::Community => "communities",
            Level::Grid => "unit-grids",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }

    pub fn code_len(self) -> usize {
        match self {
            Level::District => 6,
            Level::Street => 9,
            Level::Community => 12,
            Level::Grid => 14,
        }
    }

    /// The length of the parent's code; a district's parent is the city (`310000`).
    fn parent_len(self) -> usize {
        match self {
            Level::District | Level::Street => 6,
            Level::Community => 9,
            Level::Grid => 12,
        }
    }
}

/// One imported area.
#[derive(Debug, Clone)]
pub struct ImportedArea {
    pub code: String,
    pub parent: String,
    pub name: String,
    pub shape: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    /// Unit grids only: the responsibility grid (责任网格) it belongs to.
    pub responsibility_grid: Option<String>,
}

impl ImportedArea {
    /// The geometry as stored and served (GeoJSON, WGS-84, full precision).
    pub fn geometry_json(&self) -> String {
        shape_json(&self.shape).to_string()
    }
}

/// Two features may share edges; overlap beyond this (in m², about a metre square) is an
/// error rather than the rounding of a shared border.
const OVERLAP_TOLERANCE_M2: f64 = 1.0;

fn digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// Parses and checks an import of one level. `crs` is the file's coordinate system; the
/// result is WGS-84.
pub fn parse_import(
    text: &str,
    level: Level,
    crs: Crs,
) -> Result<Vec<ImportedArea>, BoundaryError> {
    let areas = parse_features(text, level, crs)?;
    check_overlaps(&areas)?;
    Ok(areas)
}

/// Reads boundaries stored after an import: they were checked then, so the overlap test (the
/// slow part) is not repeated at every start.
pub fn parse_stored(text: &str, level: Level) -> Result<Vec<ImportedArea>, BoundaryError> {
    parse_features(text, level, Crs::Wgs84)
}

/// One stored area: code, parent, name, responsibility grid, GeoJSON geometry.
pub type StoredRow<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str);

/// Builds a FeatureCollection (the import format) from stored rows.
pub fn collection_of<'a>(rows: impl Iterator<Item = StoredRow<'a>>) -> String {
    let mut text = String::from(r#"{"type":"FeatureCollection","features":["#);
    for (i, (code, parent, name, responsibility_grid, geometry)) in rows.enumerate() {
        if i > 0 {
            text.push(',');
        }
        let mut properties = serde_json::json!({"code": code, "parent": parent, "name": name});
        if let Some(r) = responsibility_grid {
            properties["responsibility_grid"] = Value::String(r.to_owned());
        }
        text.push_str(&format!(
            r#"{{"type":"Feature","properties":{properties},"geometry":{geometry}}}"#
        ));
    }
    text.push_str("]}");
    text
}

fn parse_features(text: &str, level: Level, crs: Crs) -> Result<Vec<ImportedArea>, BoundaryError> {
    let parsed = Boundaries::from_geojson_in(text, crs)?;
    let doc: Value =
        serde_json::from_str(text).map_err(|e| BoundaryError::NotACollection(e.to_string()))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(BoundaryError::NotACollection(
            "the type must be FeatureCollection".into(),
        ));
    }
    let features = doc["features"].as_array().cloned().unwrap_or_default();
    if features.is_empty() {
        return Err(BoundaryError::NotACollection(
            "the collection has no features".into(),
        ));
    }
    let mut seen = std::collections::HashMap::new();
    let mut areas = Vec::with_capacity(features.len());
    for (index, (boundary, feature)) in parsed.areas().iter().zip(&features).enumerate() {
        let bad = |reason: String| BoundaryError::BadFeature { index, reason };
        let code = boundary.code.trim();
        if !digits(code, level.code_len()) {
            return Err(bad(format!(
                "properties.code '{code}' is not a {}-digit code of {}",
                level.code_len(),
                level.as_str()
            )));
        }
        let parent = feature["properties"]["parent"]
            .as_str()
            .unwrap_or("")
            .trim();
        if !digits(parent, level.parent_len()) {
            return Err(bad(format!(
                "properties.parent must be the {}-digit code of the area above",
                level.parent_len()
            )));
        }
        let extends = match level {
            Level::District => code[..2] == parent[..2] && parent.ends_with("0000"),
            _ => code.starts_with(parent),
        };
        if !extends {
            return Err(bad(format!(
                "properties.code {code} does not lie under its parent {parent}"
            )));
        }
        if let Some(first) = seen.insert(code.to_owned(), index) {
            return Err(bad(format!(
                "properties.code {code} is also feature {first}'s"
            )));
        }
        if boundary.shape.chamberlain_duquette_unsigned_area() < 1.0 {
            return Err(bad("geometry: the area is empty".into()));
        }
        let responsibility_grid = match level {
            Level::Grid => Some(
                feature["properties"]["responsibility_grid"]
                    .as_str()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map_or_else(|| format!("R{parent}"), str::to_owned),
            ),
            _ => None,
        };
        areas.push(ImportedArea {
            code: code.to_owned(),
            parent: parent.to_owned(),
            name: boundary.name.clone(),
            shape: boundary.shape.clone(),
            bbox: boundary.bbox,
            responsibility_grid,
        });
    }
    Ok(areas)
}

/// No two areas of one level may overlap (sharing an edge is fine).
fn check_overlaps(areas: &[ImportedArea]) -> Result<(), BoundaryError> {
    let tree = RTree::bulk_load(
        areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                GeomWithData::new(
                    Rectangle::from_corners(
                        [a.bbox.min().x, a.bbox.min().y],
                        [a.bbox.max().x, a.bbox.max().y],
                    ),
                    i,
                )
            })
            .collect(),
    );
    for (j, a) in areas.iter().enumerate() {
        let envelope = AABB::from_corners(
            [a.bbox.min().x, a.bbox.min().y],
            [a.bbox.max().x, a.bbox.max().y],
        );
        let mut earlier: Vec<usize> = tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|e| e.data)
            .filter(|&i| i < j)
            .collect();
        earlier.sort_unstable();
        for i in earlier {
            let other = &areas[i];
            // Cheap planar test first: most neighbours only touch.
            let overlap = a.shape.intersection(&other.shape);
            if overlap.unsigned_area() == 0.0 {
                continue;
            }
            let m2 = overlap.chamberlain_duquette_unsigned_area();
            if m2 > OVERLAP_TOLERANCE_M2 {
                return Err(BoundaryError::BadFeature {
                    index: j,
                    reason: format!(
                        "geometry overlaps feature {i} ({}) by {m2:.0} m²",
                        other.code
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Checks each area lies inside its parent: `parent_shape` answers the parent's geometry
/// (`None`: the parent is unknown). An area whose interior point is outside its parent is
/// refused.
pub fn check_nesting(
    areas: &[ImportedArea],
    parent_shape: &dyn Fn(&str) -> Option<MultiPolygon<f64>>,
) -> Result<(), BoundaryError> {
    let mut cache: std::collections::HashMap<&str, Option<MultiPolygon<f64>>> = Default::default();
    for (index, area) in areas.iter().enumerate() {
        let parent = cache
            .entry(area.parent.as_str())
            .or_insert_with(|| parent_shape(&area.parent));
        let Some(parent) = parent else {
            return Err(BoundaryError::BadFeature {
                index,
                reason: format!("properties.parent {} is not a known area", area.parent),
            });
        };
        let inside = area
            .shape
            .interior_point()
            .is_some_and(|p| parent.intersects(&p));
        if !inside {
            return Err(BoundaryError::BadFeature {
                index,
                reason: format!("geometry lies outside its parent {}", area.parent),
            });
        }
    }
    Ok(())
}

/// District boundaries from imported districts.
pub fn districts_of(areas: &[ImportedArea]) -> Boundaries {
    let rows: Vec<(String, String)> = areas
        .iter()
        .map(|a| (a.code.clone(), a.geometry_json()))
        .collect();
    let text = collection_of(areas.iter().zip(&rows).map(|(a, (_, g))| {
        (
            a.code.as_str(),
            a.parent.as_str(),
            a.name.as_str(),
            None,
            g.as_str(),
        )
    }));
    // The areas were parsed from GeoJSON: written back out they always parse.
    Boundaries::from_geojson(&text).unwrap_or_default()
}

/// Streets or communities as regions of the geography.
pub fn regions_of(areas: &[ImportedArea]) -> Vec<crate::Region> {
    areas
        .iter()
        .map(|a| crate::Region {
            code: a.code.clone(),
            shape: a.shape.clone(),
            bbox: a.bbox,
        })
        .collect()
}

/// Unit grids of the geography.
pub fn grids_of(areas: &[ImportedArea]) -> Vec<crate::UnitGrid> {
    areas
        .iter()
        .filter_map(|a| {
            crate::UnitGrid::imported(
                &a.code,
                a.responsibility_grid.as_deref().unwrap_or(""),
                a.shape.clone(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &[(&str, &str, &str)]) -> String {
        let features: Vec<String> = features
            .iter()
            .map(|(code, parent, ring)| {
                format!(r#"{{"type":"Feature","properties":{{"code":"{code}","parent":"{parent}","name":"n"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#)
            })
            .collect();
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        )
    }

    const A: &str = "[[121.0,31.0],[121.01,31.0],[121.01,31.01],[121.0,31.01],[121.0,31.0]]";
    const B: &str = "[[121.01,31.0],[121.02,31.0],[121.02,31.01],[121.01,31.01],[121.01,31.0]]";
    const OVER: &str =
        "[[121.005,31.0],[121.015,31.0],[121.015,31.01],[121.005,31.01],[121.005,31.0]]";
    const OPEN: &str = "[[121.0,31.0],[121.01,31.0],[121.01,31.01],[121.0,31.01],[121.0,31.005]]";

    #[test]
    fn neighbours_sharing_an_edge_import() {
        let text = collection(&[("310101002", "310101", A), ("310101003", "310101", B)]);
        let areas = parse_import(&text, Level::Street, Crs::Wgs84).unwrap();
        assert_eq!(areas.len(), 2);
        assert_eq!(areas[1].parent, "310101");
        let grids = collection(&[("31010100200101", "310101002001", A)]);
        let grids = parse_import(&grids, Level::Grid, Crs::Wgs84).unwrap();
        assert_eq!(
            grids[0].responsibility_grid.as_deref(),
            Some("R310101002001")
        );
    }

    #[test]
    fn faults_name_the_feature() {
        let cases = [
            (
                collection(&[("310101002", "310101", A), ("310101003", "310101", OVER)]),
                1,
                "overlaps feature 0",
            ),
            (
                collection(&[("310101002", "310101", A), ("31010100", "310101", B)]),
                1,
                "9-digit",
            ),
            (
                collection(&[("310101002", "310101", A), ("310102003", "310101", B)]),
                1,
                "does not lie under",
            ),
            (
                collection(&[("310101002", "310101", A), ("310101002", "310101", B)]),
                1,
                "also feature 0",
            ),
            (collection(&[("310101002", "", A)]), 0, "properties.parent"),
            (
                collection(&[("310101002", "310101", OPEN)]),
                0,
                "closed rings",
            ),
        ];
        for (text, index, words) in cases {
            match parse_import(&text, Level::Street, Crs::Wgs84) {
                Err(BoundaryError::BadFeature { index: i, reason }) => {
                    assert_eq!(i, index, "{reason}");
                    assert!(reason.contains(words), "{words}: {reason}");
                }
                other => panic!("{words}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_import(r#"{"type":"Feature"}"#, Level::Street, Crs::Wgs84),
            Err(BoundaryError::NotACollection(_))
        ));
    }

    #[test]
    fn children_must_lie_inside_their_parent() {
        let text = collection(&[("310101002", "310101", A), ("310101003", "310101", B)]);
        let areas = parse_import(&text, Level::Street, Crs::Wgs84).unwrap();
        let district = Boundaries::from_geojson(&collection(&[("310101", "310000", A)])).unwrap();
        let shape = |code: &str| {
            district
                .areas()
                .iter()
                .find(|a| a.code == code)
                .map(|a| a.shape.clone())
        };
        match check_nesting(&areas, &shape) {
            Err(BoundaryError::BadFeature { index: 1, reason }) => {
                assert!(reason.contains("outside its parent"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(check_nesting(&areas[..1], &shape).is_ok());
        assert!(check_nesting(&areas[..1], &|_| None).is_err());
    }
}
