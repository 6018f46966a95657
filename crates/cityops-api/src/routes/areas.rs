//! The area tree (city, districts, streets, communities): lists, one area, the whole tree.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::{AreaCode, AreaLevel};
use cityops_store::AreaFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::views::{AreaDetail, AreaNode, AreaView};
use crate::wire::Wire;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/areas", get(list_areas))
        .route("/areas/tree", get(area_tree))
        .route("/areas/{code}", get(get_area))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaListQuery {
    /// Only the children of this area.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    parent: Option<String>,
    #[param(value_type = Option<crate::wire::AreaLevel>)]
    level: Option<String>,
    /// Only the areas within the caller's jurisdiction whose names contain this text
    /// (南京东路 finds 南京东路街道), districts first, at most 20: the place search of the
    /// intake console. Not with `parent` or `level`.
    #[param(min_length = 1, max_length = 50)]
    q: Option<String>,
}

fn parse_code(field: &str, text: &str) -> ApiResult<AreaCode> {
    AreaCode::parse(text).map_err(|e| ApiError::invalid(field, e.reason))
}

/// Areas, filtered by parent and level, or found by name (`q`).
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(AreaListQuery),
    responses((status = 200, body = Vec<AreaView>)))]
pub async fn list_areas(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<AreaListQuery>,
) -> ApiResult<Json<Vec<AreaView>>> {
    if let Some(text) = &query.q {
        if query.parent.is_some() || query.level.is_some() {
            return Err(ApiError::rule(
                crate::error::ErrorCode::InconsistentFields,
                "q",
                "a search by name takes neither parent nor level",
            ));
        }
        if text.is_empty() || text.chars().count() > 50 {
            return Err(ApiError::invalid(
                "q",
                "a search text has 1 to 50 characters",
            ));
        }
        let text = text.trim();
        if text.is_empty() {
            return Ok(Json(Vec::new()));
        }
        let found = state.store.search_areas(text, &actor.scope, 20).await?;
        return Ok(Json(found.iter().map(AreaView::from).collect()));
    }
    let parent = query
        .parent
        .as_deref()
        .map(|p| parse_code("parent", p))
        .transpose()?;
    let level = query
        .level
        .as_deref()
        .map(|l| {
            AreaLevel::parse(l).ok_or_else(|| {
                ApiError::invalid("level", "level must be city, district, street or community")
            })
        })
        .transpose()?;
    let areas = state.store.areas(&AreaFilter { parent, level }).await?;
    Ok(Json(areas.iter().map(AreaView::from).collect()))
}

/// One area with its children.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "6, 9 or 12-digit area code", pattern = r"^(\d{6}|\d{9}|\d{12})$")),
    responses((status = 200, body = AreaDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_area(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<AreaDetail>> {
    let code = parse_code("code", &code)?;
    let area = state
        .store
        .area(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("the area"))?;
    let children = state
        .store
        .areas(&AreaFilter {
            parent: Some(code),
            level: None,
        })
        .await?;
    Ok(Json(AreaDetail {
        area: AreaView::from(&area),
        children: children.iter().map(AreaView::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TreeQuery {
    /// Root of the tree; the city by default.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    root: Option<String>,
    /// Levels below the root, 1 to 3 (default 2).
    #[param(minimum = 1, maximum = 3)]
    depth: Option<u8>,
}

/// The area tree below a root, to a depth.
#[utoipa::path(get, path = "/api/v1/areas/tree", tag = "areas", params(TreeQuery),
    responses((status = 200, body = AreaNode)))]
pub async fn area_tree(
    State(state): State<AppState>,
    _user: CurrentUser,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<TreeQuery>,
) -> ApiResult<Json<AreaNode>> {
    let depth = query.depth.unwrap_or(2);
    if !(1..=3).contains(&depth) {
        return Err(ApiError::invalid("depth", "depth must be 1, 2 or 3"));
    }
    let root = match &query.root {
        Some(code) => {
            let code = parse_code("root", code)?;
            state
                .store
                .area(&code)
                .await?
                .ok_or_else(|| ApiError::not_found("the root area"))?
        }
        None => state
            .store
            .areas(&AreaFilter {
                parent: None,
                level: Some(AreaLevel::City),
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::not_found("the city (no areas are loaded)"))?,
    };
    // One query for the whole table beats a query per node; the city has under 7,000 areas.
    let all = state.store.areas(&AreaFilter::default()).await?;
    let mut children: std::collections::HashMap<&str, Vec<&cityops_domain::Area>> =
        std::collections::HashMap::new();
    for area in &all {
        if let Some(parent) = &area.parent {
            children.entry(parent.as_str()).or_default().push(area);
        }
    }
    fn build(
        area: &cityops_domain::Area,
        children: &std::collections::HashMap<&str, Vec<&cityops_domain::Area>>,
        depth: u8,
    ) -> AreaNode {
        AreaNode {
            code: area.code.to_string(),
            name: area.name.clone(),
            level: Wire(area.level),
            children: if depth == 0 {
                Vec::new()
            } else {
                children
                    .get(area.code.as_str())
                    .map(|list| list.iter().map(|c| build(c, children, depth - 1)).collect())
                    .unwrap_or_default()
            },
        }
    }
    Ok(Json(build(&root, &children, depth)))
}
