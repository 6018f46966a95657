//! Responsibility grids (责任网格) and their inspectors (网格监督员): which inspector patrols
//! which grid. A report in a grid takes its inspector (see `inspector_at`), who is sent its
//! verification and check, and in whose evaluation a problem someone else reported counts as
//! missed (漏报).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::{AreaCode, GridInspector, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/responsibility-grids", get(responsibility_grids))
        .route(
            "/responsibility-grids/{code}",
            get(responsibility_grid).put(assign_inspector),
        )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GridQuery {
    /// Only the grids of this street (9 digits) or district (6 digits).
    #[param(pattern = r"^\d{6}(\d{3})?$")]
    area: Option<String>,
    /// Only the grids without an inspector (`true`), or with one (`false`).
    unassigned: Option<bool>,
}

/// A responsibility grid and its inspector.
#[derive(Serialize, ToSchema)]
pub struct ResponsibilityGridView {
    /// `R` + street (9 digits) + number.
    pub code: String,
    pub street: String,
    /// How many unit grids it is made of.
    pub unit_grids: usize,
    pub inspector: Option<InspectorView>,
}

#[derive(Serialize, ToSchema)]
pub struct InspectorView {
    pub user_id: String,
    pub username: String,
}

impl From<&GridInspector> for InspectorView {
    fn from(i: &GridInspector) -> InspectorView {
        InspectorView {
            user_id: i.user_id.clone(),
            username: i.username.clone(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The username of an inspector whose jurisdiction holds the grid; `null` takes the
    /// assignment away.
    #[schema(min_length = 1, max_length = 64)]
    pub inspector: Option<String>,
}

/// The street a responsibility grid lies in: its code after the `R`.
fn street_of(code: &str) -> Option<&str> {
    code.strip_prefix('R')
        .and_then(|rest| rest.get(..9))
        .filter(|street| street.bytes().all(|b| b.is_ascii_digit()))
}

fn staff_only(actor: &cityops_domain::Actor) -> ApiResult<()> {
    if actor.role == Role::Citizen {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "responsibility grids are for staff",
        ));
    }
    Ok(())
}

/// Every responsibility grid's unit grids, by grid code, in code order.
fn grids(state: &AppState) -> ApiResult<Vec<(String, usize)>> {
    let geography = state.geography().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "the city has no unit grids: no responsibility grids either",
        )
    })?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for grid in &geography.grids {
        *counts.entry(grid.responsibility_grid.clone()).or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}

/// The responsibility grids within the caller's jurisdiction (and the area asked for), each
/// with its inspector, in code order.
#[utoipa::path(get, path = "/api/v1/responsibility-grids", tag = "areas",
    params(GridQuery),
    responses((status = 200, body = Vec<ResponsibilityGridView>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn responsibility_grids(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<GridQuery>,
) -> ApiResult<Json<Vec<ResponsibilityGridView>>> {
    staff_only(&actor)?;
    let area = query
        .area
        .as_deref()
        .map(|text| match text.len() {
            6 | 9 => AreaCode::parse(text).map_err(|e| ApiError::invalid("area", e.reason)),
            _ => Err(ApiError::invalid(
                "area",
                "a district (6 digits) or a street (9 digits)",
            )),
        })
        .transpose()?;
    let assigned: HashMap<String, GridInspector> = state
        .store
        .grid_inspectors()
        .await?
        .into_iter()
        .map(|i| (i.grid.clone(), i))
        .collect();
    let mut out = Vec::new();
    for (code, unit_grids) in grids(&state)? {
        let Some(street) = street_of(&code) else {
            continue;
        };
        let Ok(street_code) = AreaCode::parse(street) else {
            continue;
        };
        if !actor.can_see(&street_code) || area.as_ref().is_some_and(|a| !a.contains(&street_code))
        {
            continue;
        }
        let inspector = assigned.get(&code);
        if query
            .unassigned
            .is_some_and(|wanted| wanted == inspector.is_some())
        {
            continue;
        }
        out.push(ResponsibilityGridView {
            street: street.to_owned(),
            code,
            unit_grids,
            inspector: inspector.map(InspectorView::from),
        });
    }
    Ok(Json(out))
}

async fn view_of(
    state: &AppState,
    actor: &cityops_domain::Actor,
    code: &str,
) -> ApiResult<ResponsibilityGridView> {
    let found = grids(state)?
        .into_iter()
        .find(|(c, _)| c == code)
        .and_then(|(code, n)| {
            let street = street_of(&code)?.to_owned();
            let visible = AreaCode::parse(&street).is_ok_and(|s| actor.can_see(&s));
            visible.then_some((code, street, n))
        });
    let Some((code, street, unit_grids)) = found else {
        return Err(ApiError::not_found("responsibility grid"));
    };
    let inspector = state.store.grid_inspector(&code).await?;
    Ok(ResponsibilityGridView {
        code,
        street,
        unit_grids,
        inspector: inspector.as_ref().map(InspectorView::from),
    })
}

/// One responsibility grid and its inspector.
#[utoipa::path(get, path = "/api/v1/responsibility-grids/{code}", tag = "areas",
    params(("code" = String, Path, description = "R + street + number", pattern = r"^R\d{9}\d{1,6}$")),
    responses((status = 200, body = ResponsibilityGridView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn responsibility_grid(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<ResponsibilityGridView>> {
    staff_only(&actor)?;
    Ok(Json(view_of(&state, &actor, &code).await?))
}

/// Assigns a responsibility grid to an inspector (admins), or takes the assignment away.
/// Reports made in the grid from now on take the inspector; cases already reported keep
/// theirs. On the audit log.
#[utoipa::path(put, path = "/api/v1/responsibility-grids/{code}", tag = "areas",
    params(("code" = String, Path, description = "R + street + number", pattern = r"^R\d{9}\d{1,6}$")),
    request_body = AssignRequest,
    responses((status = 200, body = ResponsibilityGridView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign_inspector(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<AssignRequest>,
) -> ApiResult<Json<ResponsibilityGridView>> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only admins assign responsibility grids",
        ));
    }
    let grid = view_of(&state, &actor, &code).await?;
    let inspector = match body.inspector.as_deref() {
        None => None,
        Some(username) => {
            let length = username.chars().count();
            if !(1..=64).contains(&length) {
                return Err(ApiError::invalid(
                    "inspector",
                    "a username has 1 to 64 characters",
                ));
            }
            let user = state
                .store
                .user_by_name(username)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(|| {
                    ApiError::rule(
                        ErrorCode::UnknownReference,
                        "inspector",
                        format!("there is no active account {username}"),
                    )
                })?;
            if user.role != Role::Inspector {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "inspector",
                    format!("{username} is a {}, not an inspector", user.role.as_str()),
                ));
            }
            let street = AreaCode::parse(&grid.street)?;
            if !user.scope.contains(&street) {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "inspector",
                    format!(
                        "{username}'s jurisdiction {} does not hold street {street}",
                        user.scope
                    ),
                ));
            }
            Some(GridInspector {
                user_id: user.id,
                username: user.username,
                grid: code.clone(),
            })
        }
    };
    state.store.assign_grid(&code, inspector.as_ref()).await?;
    Ok(Json(view_of(&state, &actor, &code).await?))
}

/// The inspector of the responsibility grid that unit grid `unit_grid` belongs to, if one is
/// assigned: what a new report takes.
pub(crate) async fn inspector_at(
    state: &AppState,
    unit_grid: Option<&str>,
) -> ApiResult<Option<GridInspector>> {
    let Some(code) = unit_grid else {
        return Ok(None);
    };
    let Some(responsibility) = state
        .geography()
        .and_then(|g| g.grid(code).map(|grid| grid.responsibility_grid.clone()))
    else {
        return Ok(None);
    };
    Ok(state.store.grid_inspector(&responsibility).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_code_names_its_street() {
        assert_eq!(street_of("R310101002001"), Some("310101002"));
        assert_eq!(street_of("R31010100"), None);
        assert_eq!(street_of("X310101002001"), None);
        assert_eq!(street_of("R31010100a001"), None);
    }
}
