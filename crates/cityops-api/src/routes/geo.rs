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

use crate::error::{ApiError, ApiResult};
use crate::views::LocationBody;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/geo/areas", get(area_boundaries))
        .route("/geo/areas/{code}", get(area_geometry))
        .route("/geo/locate", get(locate))
}

/// More features than this in one answer means the client should zoom in.
const MAX_FEATURES: usize = 20_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BoundaryQuery {
    /// `district`, `street`, `community` or `grid` (unit grids).
    level: String,
    /// Only the areas inside this area (a district, street or community code).
    parent: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84): only areas meeting the box.
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
        [a, b, c, d] if a <= c && b <= d && numbers.iter().all(|n| n.is_finite()) => {
            Ok(((a, b), (c, d)))
        }
        _ => Err(ApiError::invalid(
            "bbox",
            "bbox is min_lon,min_lat,max_lon,max_lat with min <= max",
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

/// Area boundaries as a GeoJSON FeatureCollection (WGS-84), properties `code` and `name`
/// (unit grids also `community`, `street`, `responsibility_grid`, `area_m2`). Public:
/// administrative boundaries are published data.
#[utoipa::path(get, path = "/api/v1/geo/areas", tag = "geo", params(BoundaryQuery), security(()),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn area_boundaries(
    State(state): State<AppState>,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<BoundaryQuery>,
) -> ApiResult<impl IntoResponse> {
    let geometry = state.geometry();
    let bbox = query.bbox.as_deref().map(parse_bbox).transpose()?;
    let parent = query
        .parent
        .as_deref()
        .map(|p| AreaCode::parse(p).map_err(|e| ApiError::invalid("parent", e.reason)))
        .transpose()?;
    let within = |code: &str| {
        parent
            .as_ref()
            .is_none_or(|p| code.starts_with(p.subtree_prefix()))
    };
    let names = |level| area_names(&state, level);
    let features: Vec<Value> = match query.level.as_str() {
        "district" => geometry
            .districts
            .areas()
            .iter()
            .filter(|d| within(&d.code) && meets(&d.bbox, &bbox))
            .map(|d| feature(&d.code, Some(&d.name), json!({}), &d.shape))
            .collect(),
        "street" | "community" => {
            let geography = geography(&geometry)?;
            let (regions, level) = if query.level == "street" {
                (&geography.streets, cityops_domain::AreaLevel::Street)
            } else {
                (&geography.communities, cityops_domain::AreaLevel::Community)
            };
            let names = names(level).await?;
            regions
                .iter()
                .filter(|r| within(&r.code) && meets(&r.bbox, &bbox))
                .map(|r| {
                    feature(
                        &r.code,
                        names.get(&r.code).map(String::as_str),
                        json!({}),
                        &r.shape,
                    )
                })
                .collect()
        }
        "grid" => {
            let geography = geography(&geometry)?;
            if bbox.is_none()
                && parent
                    .as_ref()
                    .is_none_or(|p| p.level() < cityops_domain::AreaLevel::Street)
            {
                return Err(ApiError::invalid(
                    "bbox",
                    "unit grids need a bbox or a street or community parent",
                ));
            }
            let grids: Box<dyn Iterator<Item = &cityops_geo::UnitGrid>> = match bbox {
                Some((min, max)) => Box::new(geography.grids_in(min, max)),
                None => Box::new(geography.grids.iter()),
            };
            grids
                .filter(|g| within(&g.code))
                .map(|g| {
                    feature(
                        &g.code,
                        None,
                        json!({"community": g.community, "street": g.street, "responsibility_grid": g.responsibility_grid, "area_m2": g.area_m2.round()}),
                        &g.shape,
                    )
                })
                .take(MAX_FEATURES + 1)
                .collect()
        }
        _ => {
            return Err(ApiError::invalid(
                "level",
                "level must be district, street, community or grid",
            ))
        }
    };
    if features.len() > MAX_FEATURES {
        return Err(ApiError::invalid(
            "bbox",
            format!("more than {MAX_FEATURES} areas: zoom in (a smaller bbox)"),
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
    pub level: String,
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
    params(("code" = String, Path, description = "Area code (6, 9 or 12 digits) or 14-digit unit-grid code")),
    responses((status = 200, body = AreaGeometry), (status = 404, body = crate::error::ErrorBody)))]
pub async fn area_geometry(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<AreaGeometry>> {
    let geometry = state.geometry();
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    let (level, shape) = match (code.len(), digits) {
        (6, true) => (
            "district",
            geometry
                .districts
                .areas()
                .iter()
                .find(|d| d.code == code)
                .map(|d| d.shape.clone()),
        ),
        (9, true) => (
            "street",
            geography(&geometry)?.street(&code).map(|r| r.shape.clone()),
        ),
        (12, true) => (
            "community",
            geography(&geometry)?
                .community(&code)
                .map(|r| r.shape.clone()),
        ),
        (14, true) => (
            "grid",
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
        level: level.to_owned(),
        bbox: [bbox.min().x, bbox.min().y, bbox.max().x, bbox.max().y],
        centroid: [centroid.x(), centroid.y()],
        geometry: shape_json(&shape),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LocateQuery {
    lon: f64,
    lat: f64,
    /// wgs84 (default), gcj02 or bd09.
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
    responses((status = 200, body = LocateView), (status = 422, description = "outside the city", body = crate::error::ErrorBody)))]
pub async fn locate(
    State(state): State<AppState>,
    query: Result<Query<LocateQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LocateView>> {
    let geometry = state.geometry();
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            e.body_text(),
        )
    })?;
    let location = LocationBody {
        lon: query.lon,
        lat: query.lat,
    }
    .to_wgs84(query.crs.as_deref())?;
    let grid = geography(&geometry)?
        .locate(location.lon, location.lat)
        .ok_or_else(|| {
            ApiError::invalid("location", "this point is outside the city's unit grids")
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
