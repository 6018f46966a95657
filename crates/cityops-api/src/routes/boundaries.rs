//! Importing a city's real boundaries (districts, streets, communities, unit grids) in place
//! of the generated ones: checked whole, stored, and applied at once without a restart.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use cityops_domain::{AreaCode, Role};
use cityops_geo::import::{
    check_nesting, collection_of, districts_of, grids_of, parse_import, parse_stored, regions_of,
    ImportedArea, Level,
};
use cityops_geo::{BoundaryError, Crs};
use cityops_store::StoredBoundary;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::{AppState, CityGeometry};

pub fn router(max_import: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/geo/boundaries/{level}",
            put(import_boundaries).layer(axum::extract::DefaultBodyLimit::max(max_import)),
        )
        .route("/geo/relocations/{id}", get(relocation))
}

fn admin(actor: &cityops_domain::Actor, what: &str) -> ApiResult<()> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("only an admin may {what}"),
        ));
    }
    Ok(())
}

fn invalid(e: BoundaryError) -> ApiError {
    match e {
        BoundaryError::NotACollection(reason) => ApiError::invalid("file", reason),
        BoundaryError::BadFeature { index, reason } => {
            ApiError::invalid(format!("features[{index}]"), reason)
        }
    }
}

/// The geometry with one level replaced.
pub(crate) fn apply(geometry: &CityGeometry, level: Level, areas: &[ImportedArea]) -> CityGeometry {
    let mut next = geometry.clone();
    match level {
        Level::District => next.districts = std::sync::Arc::new(districts_of(areas)),
        _ => {
            if let Some(geography) = &geometry.geography {
                let (streets, communities, grids) = match level {
                    Level::Street => (Some(regions_of(areas)), None, None),
                    Level::Community => (None, Some(regions_of(areas)), None),
                    _ => (None, None, Some(grids_of(areas))),
                };
                next.geography = Some(std::sync::Arc::new(geography.with_levels(
                    streets,
                    communities,
                    grids,
                )));
            }
        }
    }
    next
}

/// Applies the boundaries a city imported earlier; returns the levels applied.
pub(crate) async fn load(state: &AppState) -> ApiResult<Vec<&'static str>> {
    let mut applied = Vec::new();
    for level in Level::ALL {
        let stored = state.store.boundaries(level.as_str()).await?;
        if stored.is_empty() {
            continue;
        }
        let geometry = state.geometry();
        let next = tokio::task::spawn_blocking(move || {
            let text = collection_of(stored.iter().map(|b| {
                (
                    b.code.as_str(),
                    b.parent.as_str(),
                    b.name.as_str(),
                    b.responsibility_grid.as_deref(),
                    b.geometry.as_str(),
                )
            }));
            parse_stored(&text, level).map(|areas| apply(&geometry, level, &areas))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(format!("stored {} boundaries: {e}", level.as_str())))?;
        state.replace_geometry(next);
        applied.push(level.as_str());
    }
    Ok(applied)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's coordinate system: `wgs84` (default), `gcj02` or `bd09`. Stored as WGS-84.
    #[param(value_type = Option<crate::wire::Crs>)]
    crs: Option<String>,
}

/// A boundary file as the document describes it; the server reads it with `cityops-geo`,
/// which also checks what no schema can (closed rings, nesting, overlaps).
#[derive(ToSchema)]
#[schema(as = BoundaryFile)]
#[allow(dead_code)]
pub struct BoundaryFileDoc {
    #[schema(pattern = "^FeatureCollection$")]
    r#type: String,
    #[schema(min_items = 1)]
    features: Vec<BoundaryFeatureDoc>,
}

#[derive(ToSchema)]
#[schema(as = BoundaryFeature)]
#[allow(dead_code)]
pub struct BoundaryFeatureDoc {
    #[schema(pattern = "^Feature$")]
    r#type: String,
    geometry: BoundaryGeometryDoc,
    properties: BoundaryPropertiesDoc,
}

/// A Polygon (`[[[lon, lat], ...]]`) or a MultiPolygon (one level deeper).
#[derive(ToSchema)]
#[schema(as = BoundaryGeometry)]
#[allow(dead_code)]
pub struct BoundaryGeometryDoc {
    #[schema(pattern = "^(Polygon|MultiPolygon)$")]
    r#type: String,
    #[schema(value_type = Vec<Object>, min_items = 1)]
    coordinates: Vec<serde_json::Value>,
}

#[derive(ToSchema)]
#[schema(as = BoundaryProperties)]
#[allow(dead_code)]
pub struct BoundaryPropertiesDoc {
    /// 6 (district), 9 (street), 12 (community) or 14 (unit grid) digits.
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12}|\d{14})$")]
    code: String,
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    parent: String,
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    responsibility_grid: Option<String>,
}

/// Import real boundaries of one level (admin): `districts`, `streets`, `communities` or
/// `unit-grids`, as a GeoJSON FeatureCollection of Polygons/MultiPolygons with properties
/// `code`, `parent` and `name` (unit grids may add `responsibility_grid`). They replace the
/// level's current boundaries at once. All or nothing: the first bad feature refuses the
/// file, naming its index and the reason (bad code, parent not above it, unknown area,
/// unclosed ring, overlap with another feature, outside its parent).
///
/// Open cases, devices and census components are then re-located to the area and unit grid
/// their point lies in, by a job whose progress `relocation.href` shows; each moved case gets
/// a `relocate` event on its timeline.
#[utoipa::path(put, path = "/api/v1/geo/boundaries/{level}", tag = "geo",
    params(("level" = String, Path, description = "districts, streets, communities or unit-grids", pattern = "^(districts|streets|communities|unit-grids)$"), ImportQuery),
    request_body(content = BoundaryFileDoc, content_type = "application/geo+json"),
    responses((status = 200, description = "{\"imported\": n, \"level\": level, \"relocation\": {\"id\", \"href\"}}"), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_boundaries(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(level): Path<String>,
    QueryArgs(query): QueryArgs<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    async {
        admin(&actor, "import boundaries")?;
        let level = Level::parse(&level).ok_or_else(|| {
            ApiError::invalid(
                "level",
                "level is districts, streets, communities or unit-grids",
            )
        })?;
        let crs = match query.crs.as_deref() {
            None => Crs::Wgs84,
            Some(name) => Crs::parse(name)
                .ok_or_else(|| ApiError::invalid("crs", "crs must be wgs84, gcj02 or bd09"))?,
        };
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::invalid("file", "the file must be UTF-8"))?;
        // Overlap and nesting checks are CPU work: keep them off the request threads.
        let areas = tokio::task::spawn_blocking(move || parse_import(&text, level, crs))
            .await
            .map_err(ApiError::internal)?
            .map_err(invalid)?;
        // Districts, streets and communities must be areas of the city (cases are filed to them).
        if level != Level::Grid {
            for (index, area) in areas.iter().enumerate() {
                let code = AreaCode::parse(&area.code)?;
                if state.store.area(&code).await?.is_none() {
                    return Err(ApiError::invalid(
                        format!("features[{index}]"),
                        format!("properties.code {code} is not an area of the city: import the area list first"),
                    ));
                }
            }
        }
        let geometry = state.geometry();
        let checked = areas.clone();
        let parent_geometry = geometry.clone();
        tokio::task::spawn_blocking(move || {
            let parent = |code: &str| -> Option<geo::MultiPolygon<f64>> {
                match level {
                    // The city has no polygon of its own; `parse_import` checked the parent is it.
                    Level::District => None,
                    Level::Street => parent_geometry
                        .districts
                        .areas()
                        .iter()
                        .find(|d| d.code == code)
                        .map(|d| d.shape.clone()),
                    Level::Community => parent_geometry
                        .geography
                        .as_ref()?
                        .street(code)
                        .map(|r| r.shape.clone()),
                    Level::Grid => parent_geometry
                        .geography
                        .as_ref()?
                        .community(code)
                        .map(|r| r.shape.clone()),
                }
            };
            if level == Level::District {
                return Ok(());
            }
            check_nesting(&checked, &parent)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(invalid)?;
        let stored: Vec<StoredBoundary> = areas
            .iter()
            .map(|a| StoredBoundary {
                code: a.code.clone(),
                parent: a.parent.clone(),
                name: a.name.clone(),
                responsibility_grid: a.responsibility_grid.clone(),
                geometry: a.geometry_json(),
            })
            .collect();
        let imported = state.store.put_boundaries(level.as_str(), &stored).await?;
        let next = tokio::task::spawn_blocking(move || apply(&geometry, level, &areas))
            .await
            .map_err(ApiError::internal)?;
        state.replace_geometry(next);
        let job = crate::relocation::start(&state, level.as_str(), &actor);
        Ok(Json(json!({
            "imported": imported,
            "level": level.as_str(),
            "relocation": {"id": job, "href": format!("/api/v1/geo/relocations/{job}")},
        })))
    }
    .await
    .map_err(ApiError::in_file)
}

/// The progress of re-locating cases, devices and components after a boundary import
/// (admin): counts checked and moved, open cases left in place because their point now lies
/// in another district, and the state (`running`, `done`, `failed`). Kept by the node that
/// ran the import, for its last 20 jobs.
#[utoipa::path(get, path = "/api/v1/geo/relocations/{id}", tag = "geo",
    params(("id" = String, Path, description = "The job id the import answered")),
    responses((status = 200, body = crate::relocation::RelocationJob), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn relocation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<crate::relocation::RelocationJob>> {
    admin(&actor, "follow a relocation")?;
    state
        .relocations
        .get(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(&format!("relocation job {id}")))
}
