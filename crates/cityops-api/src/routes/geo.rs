use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/geo/areas", get(area_boundaries))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BoundaryQuery {
    /// `district` (streets, communities and unit grids come with the geography work).
    level: String,
}

/// Area boundaries as a GeoJSON FeatureCollection (lon/lat), properties `code` and `name`.
/// Public: administrative boundaries are published data.
#[utoipa::path(get, path = "/api/v1/geo/areas", tag = "geo", params(BoundaryQuery), security(()),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn area_boundaries(
    State(state): State<AppState>,
    Query(query): Query<BoundaryQuery>,
) -> ApiResult<impl IntoResponse> {
    match query.level.as_str() {
        "district" => Ok((
            [
                (header::CONTENT_TYPE, "application/geo+json"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            Json(state.config.districts.feature_collection()),
        )),
        "street" | "community" | "grid" => Err(ApiError::not_found(&format!(
            "{} boundaries (none are loaded yet)",
            query.level
        ))),
        _ => Err(ApiError::invalid(
            "level",
            "level must be district, street, community or grid",
        )),
    }
}
