//! The responsibility matrix (which unit a case of a class in an area goes to): list it,
//! export and replace it as CSV, and explain one case's routing decision.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::routing::{parse_rules_csv, route, rules_csv, Rule};
use cityops_domain::{Actor, Case, Role};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::CurrentUser;
use crate::routes::cases::visible_case;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/routing/rules", get(list_routing_rules).put(replace_rules))
        .route("/routing/rules.csv", get(export_rules))
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
    let catalog = state.store.catalog().await?;
    let Some(category) = catalog.as_ref().and_then(|c| c.get(&code)) else {
        return Err(ApiError::not_found("the case's category"));
    };
    let rules = state.store.rules().await?;
    let component = match &case.component_id {
        Some(id) => state.store.component(id).await?,
        None => None,
    };
    let decision = route(
        &rules,
        category,
        &case.area,
        component.as_ref().and_then(|c| c.units()).as_ref(),
    );
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
            reason: format!("no rule and no default unit for category {code} in area {}: the dispatcher decides", case.area),
        },
    })
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
