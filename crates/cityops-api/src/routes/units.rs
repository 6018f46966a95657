//! The responsible units that cases are dispatched to: list and read.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::{AreaCode, UnitKind};
use cityops_store::UnitFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::views::UnitView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/units", get(list_units))
        .route("/units/{code}", get(get_unit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnitQuery {
    #[param(value_type = Option<crate::wire::UnitKind>)]
    kind: Option<String>,
    /// Units whose jurisdiction lies within this area.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    within: Option<String>,
}

/// Operations centers and responsible units.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitQuery),
    responses((status = 200, body = Vec<UnitView>)))]
pub async fn list_units(
    State(state): State<AppState>,
    _user: CurrentUser,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<UnitQuery>,
) -> ApiResult<Json<Vec<UnitView>>> {
    let kind = query
        .kind
        .as_deref()
        .map(|k| {
            UnitKind::parse(k)
                .ok_or_else(|| ApiError::invalid("kind", format!("unknown unit kind '{k}'")))
        })
        .transpose()?;
    let within = query
        .within
        .as_deref()
        .map(|w| AreaCode::parse(w).map_err(|e| ApiError::invalid("within", e.reason)))
        .transpose()?;
    let units = state.store.units(&UnitFilter { kind, within }).await?;
    Ok(Json(units.iter().map(UnitView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "units",
    params(("code" = String, Path, description = "Unit code, e.g. 310101-CGZF")),
    responses((status = 200, body = UnitView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_unit(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<UnitView>> {
    let unit = state
        .store
        .unit(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("the unit"))?;
    Ok(Json(UnitView::from(&unit)))
}
