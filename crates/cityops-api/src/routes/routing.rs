//! The responsibility matrix (which unit a case of a class in an area goes to): list it,
//! export and replace it as CSV, and explain one case's routing decision.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use cityops_domain::component::ComponentUnits;
use cityops_domain::routing::{parse_rules_csv, route, rules_csv, Rule};
use cityops_domain::{Actor, AreaCode, Case, CategoryCode, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody};
use crate::routes::cases::visible_case;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/routing/rules", get(list_routing_rules).put(replace_rules))
        .route("/routing/rules.csv", get(export_rules))
        .route("/routing/preview", post(preview))
        .route("/cases/{id}/routing", get(explain))
}

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    /// A small-class code or prefix.
    pub category: String,
    pub area: String,
    pub owner: Option<String>,
    pub unit: String,
}

impl From<&Rule> for RuleView {
    fn from(r: &Rule) -> RuleView {
        RuleView {
            category: r.category.clone(),
            area: r.area.to_string(),
            owner: r.owner.clone(),
            unit: r.unit.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoutingView {
    /// The unit proposed for dispatch; dispatch without a `unit` uses it.
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    /// The explicit rule that decided, if any.
    pub rule: Option<RuleView>,
    /// Matching rules that lost to a more specific one.
    pub overridden: Vec<RuleView>,
    /// The decision in words.
    pub reason: String,
}

/// The responsibility matrix: explicit rules, most specific wins.
#[utoipa::path(get, path = "/api/v1/routing/rules", tag = "routing",
    responses((status = 200, body = Vec<RuleView>)))]
pub async fn list_routing_rules(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<RuleView>>> {
    Ok(Json(
        state
            .store
            .rules()
            .await?
            .iter()
            .map(RuleView::from)
            .collect(),
    ))
}

/// The rules as CSV (UTF-8 with BOM, for Excel): category, area, owner, unit.
#[utoipa::path(get, path = "/api/v1/routing/rules.csv", tag = "routing",
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_rules(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<impl IntoResponse> {
    let rules = state.store.rules().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"responsibility-rules.csv\"",
            ),
        ],
        rules_csv(&rules),
    ))
}

/// Replace the whole matrix from CSV (admin). All or nothing: a bad line or an unknown unit
/// refuses the file, naming the line.
#[utoipa::path(put, path = "/api/v1/routing/rules", tag = "routing",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_rules(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Vec<RuleView>>> {
    async {
        if actor.role != Role::Admin {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "only an admin may change the responsibility matrix",
            ));
        }
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid("file", "the CSV must be UTF-8"))?;
        let rules = parse_rules_csv(text)?;
        for (i, rule) in rules.iter().enumerate() {
            match state.store.unit(&rule.unit).await? {
                None => {
                    return Err(ApiError::invalid(
                        format!("line {}: unit", i + 2),
                        format!("unit {} does not exist", rule.unit),
                    ))
                }
                Some(unit) if !unit.is_active() => {
                    return Err(ApiError::rule(
                        ErrorCode::UnknownReference,
                        format!("line {}: unit", i + 2),
                        format!("unit {} is retired", rule.unit),
                    ))
                }
                Some(_) => {}
            }
        }
        state.store.put_rules(&rules).await?;
        Ok(Json(rules.iter().map(RuleView::from).collect()))
    }
    .await
    .map_err(ApiError::in_file)
}

/// The unit the matrix proposes for a case, and why.
pub(crate) async fn propose(state: &AppState, case: &Case) -> ApiResult<RoutingView> {
    let code = case
        .category
        .as_ref()
        .map(|c| c.code.clone())
        .or_else(|| case.category_hint.clone());
    let Some(code) = code else {
        return Ok(RoutingView {
            unit: None,
            unit_name: None,
            rule: None,
            overridden: Vec::new(),
            reason: "the case has no category yet: file it first".into(),
        });
    };
    let component = match &case.component_id {
        Some(id) => state.store.component(id).await?,
        None => None,
    };
    let rules = state.store.rules().await?;
    propose_with(
        state,
        &rules,
        &code,
        &case.area,
        component.as_ref().and_then(|c| c.units()).as_ref(),
    )
    .await
}

/// The unit `rules` propose for class `code` at `area` (about a component with `units`).
async fn propose_with(
    state: &AppState,
    rules: &[Rule],
    code: &CategoryCode,
    area: &AreaCode,
    component: Option<&ComponentUnits>,
) -> ApiResult<RoutingView> {
    let catalog = state.store.catalog().await?;
    let Some(category) = catalog.as_ref().and_then(|c| c.get(code)) else {
        return Err(ApiError::not_found("the case's category"));
    };
    let decision = route(rules, category, area, component);
    Ok(match decision {
        Some(mut decision) => {
            // A retired default unit's cases go to its successor, as its open cases did.
            let mut unit = state.store.unit(&decision.unit).await?;
            let mut hops = 0;
            while let Some(retired) = unit.as_ref().and_then(|u| u.retired.clone()) {
                hops += 1;
                let Some(successor) = retired.successor.filter(|_| hops <= 8) else {
                    return Ok(RoutingView {
                        unit: None,
                        unit_name: None,
                        rule: decision.rule.as_ref().map(RuleView::from),
                        overridden: Vec::new(),
                        reason: format!(
                            "{}; but unit {} is retired and no successor took it over: choose a unit",
                            decision.reason, decision.unit
                        ),
                    });
                };
                decision.reason = format!(
                    "{}; unit {} is retired and {successor} took over its cases",
                    decision.reason, decision.unit
                );
                decision.unit = successor;
                unit = state.store.unit(&decision.unit).await?;
            }
            RoutingView {
                unit_name: unit.map(|u| u.name),
                unit: Some(decision.unit),
                rule: decision.rule.as_ref().map(RuleView::from),
                overridden: decision.overridden.iter().map(RuleView::from).collect(),
                reason: decision.reason,
            }
        }
        None => RoutingView {
            unit: None,
            unit_name: None,
            rule: None,
            overridden: Vec::new(),
            reason: format!("no rule and no default unit for category {code} in area {area}: the dispatcher decides"),
        },
    })
}

/// One rule of a draft matrix.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// A small-class code or prefix (1 to 5 digits).
    #[schema(pattern = r"^[12][0-9]{0,4}$")]
    pub category: String,
    /// The area whose subtree the rule covers.
    #[schema(pattern = r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub area: String,
    /// Only for components owned by this unit.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub owner: Option<String>,
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub unit: String,
}

/// "Who gets class X at place Y": the place as an area code or as a point.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingPreviewBody {
    /// The small class (5 digits) of the imagined case.
    #[schema(pattern = r"^[12][0-9]{4}$")]
    pub category: String,
    /// The place as an area code (a district, street or community).
    #[serde(default)]
    #[schema(pattern = r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub area: Option<String>,
    /// The place as a WGS-84 point, located to its community and unit grid.
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// The case is about this census component (16 digits): its owner and maintainer
    /// count, as for a real case.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{16}$")]
    pub component_id: Option<String>,
    /// Or, without a component in the census, about a component owned by this unit: owner
    /// rules apply.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub owner: Option<String>,
    /// A draft matrix to ask instead of the one in force (the editor's unsaved table).
    #[serde(default)]
    pub rules: Option<Vec<RuleBody>>,
}

#[derive(Serialize, ToSchema)]
pub struct RoutingPreview {
    /// The area the place is in (the code given, or the community the point lies in).
    pub area: String,
    pub area_name: Option<String>,
    /// The unit grid the point lies in, for a point.
    pub unit_grid: Option<String>,
    /// Whether the answer used the draft rules of the request.
    pub draft: bool,
    pub routing: RoutingView,
}

/// Who the matrix gives a case of a class at a place, and why: the most specific rule, the
/// ones it overrides, or the default unit. With `rules`, the draft is asked instead of the
/// matrix in force, so an editor sees the effect of a change before saving it. Changes nothing.
#[utoipa::path(post, path = "/api/v1/routing/preview", tag = "routing", request_body = RoutingPreviewBody,
    responses((status = 200, body = RoutingPreview), (status = 422, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(body): JsonBody<RoutingPreviewBody>,
) -> ApiResult<Json<RoutingPreview>> {
    if actor.role == Role::Citizen {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the responsibility matrix is for staff",
        ));
    }
    let category = CategoryCode::parse(&body.category)?;
    let catalog = state.store.catalog().await?;
    if catalog.as_ref().is_none_or(|c| c.get(&category).is_none()) {
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "category",
            format!("{category} is not a small class of the catalogue"),
        ));
    }
    let (area, unit_grid) = match (&body.area, body.lon, body.lat) {
        (Some(code), None, None) => (
            AreaCode::parse(code).map_err(|e| ApiError::invalid("area", e.reason))?,
            None,
        ),
        (None, Some(lon), Some(lat)) => {
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(ApiError::invalid(
                    if (-180.0..=180.0).contains(&lon) {
                        "lat"
                    } else {
                        "lon"
                    },
                    "lon and lat must be WGS-84 degrees",
                ));
            }
            let grid = state.geography().and_then(|g| {
                g.locate(lon, lat)
                    .map(|grid| (grid.community.clone(), grid.code.clone()))
            });
            let Some((community, grid)) = grid else {
                return Err(ApiError::rule(
                    ErrorCode::OutsideCity,
                    "lon",
                    "the point lies in no unit grid of the city",
                ));
            };
            (
                AreaCode::parse(&community).map_err(|e| ApiError::invalid("lon", e.reason))?,
                Some(grid),
            )
        }
        _ => {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "area",
                "give the place as an area code or as lon and lat, not both",
            ))
        }
    };
    let area_name = state.store.area(&area).await?.map(|a| a.name);
    if area_name.is_none() {
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "area",
            format!("{area} is not an area of the city"),
        ));
    }
    let draft = body.rules.is_some();
    let rules = match body.rules {
        Some(draft) => draft
            .iter()
            .enumerate()
            .map(|(i, r)| {
                for (field, code) in [("unit", Some(&r.unit)), ("owner", r.owner.as_ref())] {
                    if let Some(code) = code {
                        cityops_domain::unit::check_unit_code(code).map_err(|e| {
                            ApiError::invalid(format!("rules[{i}].{field}"), e.reason)
                        })?;
                    }
                }
                Rule::new(&r.category, &r.area, r.owner.as_deref(), &r.unit)
                    .map_err(|e| ApiError::invalid(format!("rules[{i}].{}", e.field), e.reason))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => state.store.rules().await?,
    };
    let component = match (&body.component_id, &body.owner) {
        (Some(_), Some(_)) => {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "owner",
                "give a component or an owner, not both: a component has its own owner",
            ))
        }
        (Some(id), None) => {
            let component = state.store.component(id).await?.ok_or_else(|| {
                ApiError::rule(
                    ErrorCode::UnknownReference,
                    "component_id",
                    format!("component {id} is not in the census"),
                )
            })?;
            component.units()
        }
        (None, Some(owner)) => {
            cityops_domain::unit::check_unit_code(owner)
                .map_err(|e| ApiError::invalid("owner", e.reason))?;
            // No component: its id is named only with a maintainer, and there is none.
            Some(ComponentUnits {
                id: "-".into(),
                owner: Some(owner.to_owned()),
                maintainer: None,
            })
        }
        (None, None) => None,
    };
    let routing = propose_with(&state, &rules, &category, &area, component.as_ref()).await?;
    Ok(Json(RoutingPreview {
        area: area.to_string(),
        area_name,
        unit_grid,
        draft,
        routing,
    }))
}

/// Explain the routing of a case: which rule matched and why (or the default that applied).
#[utoipa::path(get, path = "/api/v1/cases/{id}/routing", tag = "routing",
    params(("id" = String, Path, description = "Case id or case number")),
    responses((status = 200, body = RoutingView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RoutingView>> {
    let case: Case = visible_case(&state, &actor as &Actor, &id).await?;
    Ok(Json(propose(&state, &case).await?))
}
