//! The city's geography as GeoJSON for maps: area boundaries by level and one area's
//! geometry, and `/geo/locate`, a point resolved to its unit grid, community, street and
//! district.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::AreaCode;
use cityops_geo::{shape_json, Geography};
use geo::{BoundingRect, Centroid, MultiPolygon};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::views::LocationBody;
use crate::wire;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/geo/areas", get(area_boundaries))
        .route("/geo/areas/{code}", get(area_geometry))
        .route("/geo/locate", get(locate))
}

/// More features than this in one answer means the client should zoom in.
const MAX_FEATURES: usize = 20_000;
/// The same for anonymous callers: the citizen's map needs the districts, so this bounds
/// what one anonymous request may cost to what a map of a few streets does.
const ANONYMOUS_MAX_FEATURES: usize = 2_000;

/// The areas a map draws by level: districts, streets, communities and unit grids.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GeometryLevel {
    District,
    Street,
    Community,
    /// Unit grids (单元网格), 14-digit codes.
    Grid,
}

impl GeometryLevel {
    /// The level a query names, by the same names the document lists.
    pub fn parse(text: &str) -> Option<GeometryLevel> {
        use serde::de::IntoDeserializer;
        let text: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            text.into_deserializer();
        GeometryLevel::deserialize(text).ok()
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoundaryQuery {
    #[param(value_type = GeometryLevel)]
    level: String,
    /// Only the areas inside this area (a district, street or community code).
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    parent: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84): only areas meeting the box.
    #[param(
        pattern = r"^-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?$"
    )]
    bbox: Option<String>,
}

fn geography(geometry: &crate::CityGeometry) -> ApiResult<&Geography> {
    geometry
        .geography
        .as_deref()
        .ok_or_else(|| ApiError::not_found("street, community and grid geometry (none is loaded)"))
}

/// `(min_lon, min_lat), (max_lon, max_lat)`.
pub(crate) type BoundingBox = ((f64, f64), (f64, f64));

pub(crate) fn parse_bbox(text: &str) -> ApiResult<BoundingBox> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::invalid(
                "bbox",
                "bbox is min_lon,min_lat,max_lon,max_lat in decimal degrees",
            )
        })?;
    match numbers[..] {
        // Two opposite corners in either order name the same box: nothing to refuse.
        [a, b, c, d] if numbers.iter().all(|n| n.is_finite()) => {
            Ok(((a.min(c), b.min(d)), (a.max(c), b.max(d))))
        }
        _ => Err(ApiError::invalid(
            "bbox",
            "bbox is four numbers: min_lon,min_lat,max_lon,max_lat",
        )),
    }
}

fn meets(bbox: &geo::Rect<f64>, filter: &Option<BoundingBox>) -> bool {
    filter.is_none_or(|(min, max)| {
        bbox.max().x >= min.0
            && bbox.min().x <= max.0
            && bbox.max().y >= min.1
            && bbox.min().y <= max.1
    })
}

/// Names of all areas of a level, by code, to label generated shapes.
pub(crate) async fn area_names(
    state: &AppState,
    level: cityops_domain::AreaLevel,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let areas = state
        .store
        .areas(&cityops_store::AreaFilter {
            parent: None,
            level: Some(level),
        })
        .await?;
    Ok(areas
        .into_iter()
        .map(|a| (a.code.to_string(), a.name))
        .collect())
}

pub(crate) fn feature(
    code: &str,
    name: Option<&str>,
    extra: Value,
    shape: &MultiPolygon<f64>,
) -> Value {
    let mut properties = json!({"code": code, "name": name});
    if let (Some(props), Value::Object(more)) = (properties.as_object_mut(), extra) {
        props.extend(more);
    }
    json!({"type": "Feature", "id": code, "properties": properties, "geometry": shape_json(shape)})
}

/// A layer of the city's areas, served as GeoJSON features at `/api/v1/geo/areas` and as
/// OGC API Features collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Districts,
    Streets,
    Communities,
    UnitGrids,
    ResponsibilityGrids,
}

/// Which features of a layer to return.
pub(crate) struct LayerFilter<'a> {
    /// Only features meeting the box.
    pub bbox: Option<BoundingBox>,
    /// Only features inside this area.
    pub parent: Option<&'a AreaCode>,
    /// At most this many.
    pub limit: usize,
    /// Only the features of these codes (a page picked by code), when given.
    pub codes: Option<&'a std::collections::HashSet<String>>,
    /// Codes only, each with a null feature: counting and paging a layer without writing
    /// its geometry.
    pub codes_only: bool,
}

/// The features of one layer, as (code, feature), in the layer's order: the one definition of
/// each layer's properties (a unit grid carries its community, street, district,
/// responsibility grid and area; a responsibility grid its street).
pub(crate) async fn layer_features(
    state: &AppState,
    geometry: &crate::CityGeometry,
    layer: Layer,
    filter: &LayerFilter<'_>,
) -> ApiResult<Vec<(String, Value)>> {
    let within = |code: &str| {
        filter
            .parent
            .is_none_or(|p| code.starts_with(p.subtree_prefix()))
            && filter.codes.is_none_or(|codes| codes.contains(code))
    };
    let feature = |code: &str, name: Option<&str>, properties: Value, shape| {
        if filter.codes_only {
            Value::Null
        } else {
            feature(code, name, properties, shape)
        }
    };
    let keep = |code: &str, bbox: &geo::Rect<f64>| within(code) && meets(bbox, &filter.bbox);
    let features = match layer {
        Layer::Districts => geometry
            .districts
            .areas()
            .iter()
            .filter(|d| keep(&d.code, &d.bbox))
            .map(|d| {
                let feature = feature(&d.code, Some(&d.name), json!({}), &d.shape);
                (d.code.clone(), feature)
            })
            .take(filter.limit)
            .collect(),
        Layer::Streets | Layer::Communities => {
            let geography = geography(geometry)?;
            let (regions, level) = if layer == Layer::Streets {
                (&geography.streets, cityops_domain::AreaLevel::Street)
            } else {
                (&geography.communities, cityops_domain::AreaLevel::Community)
            };
            let names = if filter.codes_only {
                Default::default()
            } else {
                area_names(state, level).await?
            };
            regions
                .iter()
                .filter(|r| keep(&r.code, &r.bbox))
                .map(|r| {
                    let name = names.get(&r.code).map(String::as_str);
                    (r.code.clone(), feature(&r.code, name, json!({}), &r.shape))
                })
                .take(filter.limit)
                .collect()
        }
        Layer::UnitGrids => {
            let geography = geography(geometry)?;
            let grids: Box<dyn Iterator<Item = &cityops_geo::UnitGrid>> = match filter.bbox {
                Some((min, max)) => Box::new(geography.grids_in(min, max)),
                None => Box::new(geography.grids.iter()),
            };
            grids
                .filter(|g| within(&g.code))
                .map(|g| {
                    let properties = json!({"community": g.community, "street": g.street,
                        "district": g.district, "responsibility_grid": g.responsibility_grid,
                        "area_m2": g.area_m2.round()});
                    (g.code.clone(), feature(&g.code, None, properties, &g.shape))
                })
                .take(filter.limit)
                .collect()
        }
        Layer::ResponsibilityGrids => geography(geometry)?
            .responsibility_grids()
            .iter()
            .filter(|r| keep(&r.code, &r.bbox))
            .map(|r| {
                let street = r.code.get(1..10).unwrap_or_default();
                let properties = json!({"street": street});
                (r.code.clone(), feature(&r.code, None, properties, &r.shape))
            })
            .take(filter.limit)
            .collect(),
    };
    Ok(features)
}

/// Area boundaries as a GeoJSON FeatureCollection (WGS-84), properties `code` and `name`
/// (unit grids also `community`, `street`, `district`, `responsibility_grid`, `area_m2`).
/// Public: administrative boundaries are published data.
#[utoipa::path(get, path = "/api/v1/geo/areas", tag = "geo", params(BoundaryQuery), security(()),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn area_boundaries(
    State(state): State<AppState>,
    anonymous: Option<axum::Extension<crate::security::AnonymousCaller>>,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<BoundaryQuery>,
) -> ApiResult<impl IntoResponse> {
    let max_features = if anonymous.is_some() {
        ANONYMOUS_MAX_FEATURES
    } else {
        MAX_FEATURES
    };
    let geometry = state.geometry();
    let bbox = query.bbox.as_deref().map(parse_bbox).transpose()?;
    let parent = query
        .parent
        .as_deref()
        .map(|p| AreaCode::parse(p).map_err(|e| ApiError::invalid("parent", e.reason)))
        .transpose()?;
    let layer = match GeometryLevel::parse(&query.level) {
        Some(GeometryLevel::District) => Layer::Districts,
        Some(GeometryLevel::Street) => Layer::Streets,
        Some(GeometryLevel::Community) => Layer::Communities,
        Some(GeometryLevel::Grid) => Layer::UnitGrids,
        None => {
            return Err(ApiError::invalid(
                "level",
                "level must be district, street, community or grid",
            ))
        }
    };
    if layer == Layer::UnitGrids {
        geography(&geometry)?;
        if bbox.is_none()
            && parent
                .as_ref()
                .is_none_or(|p| p.level() < cityops_domain::AreaLevel::Street)
        {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "bbox",
                "unit grids need a bbox or a street or community parent",
            ));
        }
    }
    let filter = LayerFilter {
        bbox,
        parent: parent.as_ref(),
        limit: max_features + 1,
        codes: None,
        codes_only: false,
    };
    let features: Vec<Value> = layer_features(&state, &geometry, layer, &filter)
        .await?
        .into_iter()
        .map(|(_, feature)| feature)
        .collect();
    if features.len() > max_features {
        return Err(ApiError::rule(
            ErrorCode::TooBroad,
            "bbox",
            format!("more than {max_features} areas: zoom in (a smaller bbox or a parent)"),
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        Json(json!({"type": "FeatureCollection", "features": features})),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AreaGeometry {
    pub code: String,
    pub level: GeometryLevel,
    /// `[min_lon, min_lat, max_lon, max_lat]`, WGS-84.
    pub bbox: [f64; 4],
    /// `[lon, lat]`.
    pub centroid: [f64; 2],
    /// GeoJSON MultiPolygon.
    #[schema(value_type = Object)]
    pub geometry: Value,
}

/// Geometry, bounding box and centroid of a district, street, community or unit grid.
#[utoipa::path(get, path = "/api/v1/geo/areas/{code}", tag = "geo", security(()),
    params(("code" = String, Path, description = "Area code (6, 9 or 12 digits) or 14-digit unit-grid code", pattern = r"^(\d{6}|\d{9}|\d{12}|\d{14})$")),
    responses((status = 200, body = AreaGeometry), (status = 404, body = crate::error::ErrorBody)))]
pub async fn area_geometry(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<AreaGeometry>> {
    let geometry = state.geometry();
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    let (level, shape) = match (code.len(), digits) {
        (6, true) => (
            GeometryLevel::District,
            geometry
                .districts
                .areas()
                .iter()
                .find(|d| d.code == code)
                .map(|d| d.shape.clone()),
        ),
        (9, true) => (
            GeometryLevel::Street,
            geography(&geometry)?.street(&code).map(|r| r.shape.clone()),
        ),
        (12, true) => (
            GeometryLevel::Community,
            geography(&geometry)?
                .community(&code)
                .map(|r| r.shape.clone()),
        ),
        (14, true) => (
            GeometryLevel::Grid,
            geography(&geometry)?
                .grids
                .iter()
                .find(|g| g.code == code)
                .map(|g| g.shape.clone()),
        ),
        _ => {
            return Err(ApiError::invalid(
                "code",
                "an area code has 6, 9 or 12 digits, a unit grid 14",
            ))
        }
    };
    let shape = shape.ok_or_else(|| ApiError::not_found("the area's geometry"))?;
    let bbox = shape
        .bounding_rect()
        .ok_or_else(|| ApiError::not_found("the area's geometry"))?;
    let centroid = shape
        .centroid()
        .ok_or_else(|| ApiError::not_found("the area's geometry"))?;
    Ok(Json(AreaGeometry {
        code,
        level,
        bbox: [bbox.min().x, bbox.min().y, bbox.max().x, bbox.max().y],
        centroid: [centroid.x(), centroid.y()],
        geometry: shape_json(&shape),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocateQuery {
    #[param(minimum = 73.0, maximum = 136.0)]
    lon: f64,
    #[param(minimum = 3.0, maximum = 54.0)]
    lat: f64,
    /// The coordinate system of `lon` and `lat`; wgs84 when absent.
    #[param(value_type = Option<wire::Crs>)]
    crs: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NamedCode {
    pub code: String,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LocateView {
    /// The point in WGS-84.
    pub location: LocationBody,
    pub unit_grid: String,
    pub responsibility_grid: String,
    pub community: NamedCode,
    pub street: NamedCode,
    pub district: NamedCode,
}

/// Which unit grid, responsibility grid, community, street and district a point lies in.
#[utoipa::path(get, path = "/api/v1/geo/locate", tag = "geo", security(()), params(LocateQuery),
    responses((status = 200, body = LocateView), (status = 404, description = "no unit grid lies at the point", body = crate::error::ErrorBody)))]
pub async fn locate(
    State(state): State<AppState>,
    query: Result<Query<LocateQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LocateView>> {
    let geometry = state.geometry();
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let location = LocationBody {
        lon: query.lon,
        lat: query.lat,
    }
    .to_wgs84(query.crs.as_deref())?;
    let grid = geography(&geometry)?
        .locate(location.lon, location.lat)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "no unit grid of the city lies at this point",
            )
            .with_field("location")
        })?;
    let name = |code: String| async {
        let area = AreaCode::parse(&code).ok();
        let name = match area {
            Some(area) => state.store.area(&area).await?.map(|a| a.name),
            None => None,
        };
        ApiResult::Ok(NamedCode { code, name })
    };
    Ok(Json(LocateView {
        location: LocationBody {
            lon: location.lon,
            lat: location.lat,
        },
        unit_grid: grid.code.clone(),
        responsibility_grid: grid.responsibility_grid.clone(),
        community: name(grid.community.clone()).await?,
        street: name(grid.street.clone()).await?,
        district: name(grid.district.clone()).await?,
    }))
}
