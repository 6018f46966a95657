//! Geometry of the city: area boundaries (GeoJSON in, GeoJSON out) and locating a point in
//! them. Pure: callers hand in the GeoJSON text; nothing here reads a file.
//!
//! Boundaries are held in WGS-84 (the system CityOps stores); a source in GCJ-02 or BD-09 is
//! converted vertex by vertex as it is read. The unit-grid index comes with the geography work.

use geo::{BoundingRect, Contains, Coord, LineString, MultiPolygon, Point, Polygon, Rect};
use serde_json::Value;

pub mod census;
pub mod crs;
pub mod generate;
pub mod import;
pub mod nearby;
pub use crs::Crs;
pub use generate::{DistrictPlan, Geography, Region, StreetPlan, UnitGrid};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoundaryError {
    #[error("the file is not a GeoJSON FeatureCollection: {0}")]
    NotACollection(String),
    #[error("feature {index}: {reason}")]
    BadFeature { index: usize, reason: String },
}

/// One area's boundary.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub code: String,
    pub name: String,
    pub shape: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    /// The feature as served: WGS-84 geometry, properties `code` and `name`.
    feature: Value,
}

/// The boundaries of one level of the area tree (e.g. the districts of a city).
#[derive(Debug, Clone, Default)]
pub struct Boundaries {
    areas: Vec<Boundary>,
}

fn ring(value: &Value, source: Crs) -> Option<LineString<f64>> {
    let points = value.as_array()?;
    let coords: Option<Vec<Coord<f64>>> = points
        .iter()
        .map(|p| {
            let lon = p.get(0)?.as_f64()?;
            let lat = p.get(1)?.as_f64()?;
            let (x, y) = source.to_wgs84(lon, lat);
            (lon.is_finite() && lat.is_finite()).then_some(Coord { x, y })
        })
        .collect();
    let coords = coords?;
    // GeoJSON rings end where they start; `geo` would silently close an open one.
    (coords.len() >= 4 && coords.first() == coords.last()).then(|| LineString::new(coords))
}

fn polygon(value: &Value, source: Crs) -> Option<Polygon<f64>> {
    let rings = value.as_array()?;
    let exterior = ring(rings.first()?, source)?;
    let interiors: Option<Vec<_>> = rings[1..].iter().map(|r| ring(r, source)).collect();
    Some(Polygon::new(exterior, interiors?))
}

fn ring_json(ring: &LineString<f64>) -> Value {
    Value::Array(
        ring.coords()
            .map(|c| serde_json::json!([c.x, c.y]))
            .collect(),
    )
}

/// A GeoJSON MultiPolygon geometry, at full precision: rounding would make slivers invalid.
pub fn shape_json(shape: &MultiPolygon<f64>) -> Value {
    let polygons: Vec<Value> = shape
        .iter()
        .map(|p| {
            let mut rings = vec![ring_json(p.exterior())];
            rings.extend(p.interiors().iter().map(ring_json));
            Value::Array(rings)
        })
        .collect();
    serde_json::json!({"type": "MultiPolygon", "coordinates": polygons})
}

impl Boundaries {
    /// Reads a FeatureCollection of Polygon/MultiPolygon features whose properties carry
    /// `code` and `name`, in WGS-84. All or nothing: one bad feature refuses the file.
    pub fn from_geojson(text: &str) -> Result<Boundaries, BoundaryError> {
        Boundaries::from_geojson_in(text, Crs::Wgs84)
    }

    /// Like [`Boundaries::from_geojson`] for a source in another coordinate system.
    pub fn from_geojson_in(text: &str, source: Crs) -> Result<Boundaries, BoundaryError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| BoundaryError::NotACollection(e.to_string()))?;
        let features = doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| BoundaryError::NotACollection("no features array".into()))?;
        let mut areas = Vec::with_capacity(features.len());
        for (index, feature) in features.iter().enumerate() {
            let bad = |reason: &str| BoundaryError::BadFeature {
                index,
                reason: reason.into(),
            };
            let props = &feature["properties"];
            let code = props["code"]
                .as_str()
                .ok_or_else(|| bad("properties.code is missing"))?;
            let name = props["name"].as_str().unwrap_or(code);
            let geometry = &feature["geometry"];
            let coordinates = &geometry["coordinates"];
            let shape = match geometry["type"].as_str() {
                Some("Polygon") => polygon(coordinates, source).map(|p| MultiPolygon::new(vec![p])),
                Some("MultiPolygon") => coordinates
                    .as_array()
                    .and_then(|polygons| {
                        polygons
                            .iter()
                            .map(|p| polygon(p, source))
                            .collect::<Option<Vec<_>>>()
                    })
                    .map(MultiPolygon::new),
                _ => return Err(bad("geometry must be a Polygon or a MultiPolygon")),
            }
            .ok_or_else(|| bad("coordinates are not closed rings of [lon, lat] numbers"))?;
            let bbox = shape.bounding_rect().ok_or_else(|| bad("empty geometry"))?;
            let served = shape_json(&shape);
            areas.push(Boundary {
                code: code.to_owned(),
                name: name.to_owned(),
                shape,
                bbox,
                feature: serde_json::json!({
                    "type": "Feature",
                    "properties": {"code": code, "name": name},
                    "geometry": served,
                }),
            });
        }
        Ok(Boundaries { areas })
    }

    pub fn areas(&self) -> &[Boundary] {
        &self.areas
    }

    /// The area containing the point; a point on a shared edge goes to the lowest code, so
    /// the answer never depends on load order. `None` outside every boundary.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&Boundary> {
        let point = Point::new(lon, lat);
        self.areas
            .iter()
            .filter(|a| {
                let (min, max) = (a.bbox.min(), a.bbox.max());
                lon >= min.x && lon <= max.x && lat >= min.y && lat <= max.y
            })
            .filter(|a| a.shape.contains(&point) || geo::Intersects::intersects(&a.shape, &point))
            .min_by(|a, b| a.code.cmp(&b.code))
    }

    /// A GeoJSON FeatureCollection of the boundaries, properties `code` and `name`.
    pub fn feature_collection(&self) -> Value {
        serde_json::json!({
            "type": "FeatureCollection",
            "features": self.areas.iter().map(|a| a.feature.clone()).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_SQUARES: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"310102","name":"B"},"geometry":{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}},
      {"type":"Feature","properties":{"code":"310101","name":"A"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.4,0.4],[0.6,0.4],[0.6,0.6],[0.4,0.6],[0.4,0.4]]]]}}
    ]}"#;

    #[test]
    fn points_resolve_to_their_area_holes_excluded_and_shared_edges_to_the_lowest_code() {
        let b = Boundaries::from_geojson(TWO_SQUARES).unwrap();
        assert_eq!(b.locate(0.2, 0.2).unwrap().code, "310101");
        assert_eq!(b.locate(1.5, 0.5).unwrap().code, "310102");
        assert!(b.locate(0.5, 0.5).is_none(), "inside the hole");
        assert_eq!(b.locate(1.0, 0.5).unwrap().code, "310101", "shared edge");
        assert!(b.locate(5.0, 5.0).is_none());
    }

    #[test]
    fn a_bad_feature_is_named() {
        let bad = r#"{"features":[{"properties":{"code":"1"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#;
        assert!(matches!(
            Boundaries::from_geojson(bad),
            Err(BoundaryError::BadFeature { index: 0, .. })
        ));
    }

    #[test]
    fn shanghai_districts_load_and_the_bund_is_in_huangpu() {
        let text = include_str!("../../../data/shanghai/districts.geojson");
        let b = Boundaries::from_geojson_in(text, Crs::Gcj02).unwrap();
        assert_eq!(b.areas().len(), 16);
        // WGS-84 points: the Bund, Nanjing East Road, Xujiahui.
        assert_eq!(b.locate(121.4860, 31.2380).unwrap().name, "黄浦区");
        assert_eq!(b.locate(121.4837, 31.2369).unwrap().name, "黄浦区");
        assert_eq!(b.locate(121.4330, 31.1900).unwrap().name, "徐汇区");
        assert!(
            b.locate(116.39, 39.91).is_none(),
            "Beijing is not in Shanghai"
        );
    }
}
