//! Emergencies over HTTP: early warnings (issued by hand or imported from a CAP 1.2 alert,
//! updated, lifted), incidents with their response level, joint tasks and situation reports,
//! and the contingency plans that open them. A warning in force (or an active incident's plan)
//! changes the thresholds of chosen telemetry rules in its areas: every change here hands the
//! pipeline the rules as they now apply ([`rules_in_force`]), and a background duty does so
//! again when a warning expires.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use cityops_domain::emergency::{
    default_plans, effective_rules, warning_adjustments, ContingencyPlan, EmergencyError, Incident,
    IncidentCommand, IncidentEvent, LinkKind, NewIncident, NewWarning, RuleAdjustment, Warning,
    WarningSource, WarningUpdate, Zone,
};
use cityops_domain::telemetry::{Condition, TelemetryRule};
use cityops_domain::{Actor, AreaCode, Role};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::routes::cases::{new_id, now};
use crate::routes::telemetry::ConditionDoc;
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/warnings", get(list_warnings).post(issue_warning))
        .route("/warnings/cap", post(import_cap))
        .route("/warnings/{id}", get(get_warning))
        .route("/warnings/{id}/update", post(update_warning))
        .route("/warnings/{id}/lift", post(lift_warning))
        .route("/incidents", get(list_incidents).post(open_incident))
        .route("/incidents/{id}", get(get_incident))
        .route("/incidents/{id}/commands", post(incident_command))
        .route("/incidents/{id}/timeline", get(incident_timeline))
        .route("/incidents/{id}/links", get(incident_links))
        .route(
            "/incidents/{id}/tasks/{task}/photos",
            post(upload_task_photo).layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/incidents/{id}/photos/{photo}", get(task_photo))
        .route("/incidents/{id}/report.xlsx", get(after_action_report))
        .route("/plans", get(list_plans))
        .route("/plans/{id}", put(put_plan))
}

/// A warning's change on the live stream (`event: warning`).
#[derive(Serialize, ToSchema)]
pub struct WarningEvent {
    /// `issued`, `updated` or `lifted`.
    pub action: String,
    pub warning: WarningView,
}

/// An incident's change on the live stream (`event: incident`), as the subscriber may see it.
#[derive(Serialize, ToSchema)]
pub struct IncidentChangeEvent {
    /// The command, e.g. `open`, `set_response`, `finish_task`, `sitrep`.
    pub action: String,
    pub incident: IncidentView,
}

/// A change of a warning or an incident, for the live stream.
#[derive(Debug, Clone)]
pub enum EmergencyChange {
    Warning(Arc<Warning>, &'static str),
    Incident(Arc<Incident>, &'static str),
}

impl From<EmergencyError> for ApiError {
    fn from(e: EmergencyError) -> ApiError {
        match e {
            EmergencyError::RoleNotAllowed { .. } => {
                ApiError::new(ErrorCode::RoleNotAllowed, e.to_string())
            }
            EmergencyError::OutOfScope(_) => {
                ApiError::new(ErrorCode::Forbidden, e.to_string()).with_field("areas")
            }
            EmergencyError::NotYourTask(_) => {
                ApiError::new(ErrorCode::NotAssignedUnit, e.to_string()).with_field("task")
            }
            EmergencyError::State(_) => {
                ApiError::new(ErrorCode::TransitionNotAllowed, e.to_string())
            }
            EmergencyError::Invalid(invalid) => invalid.into(),
        }
    }
}

/// The telemetry rules as they apply now: the stored rules with the adjustments of the
/// warnings in force and the active incidents.
pub async fn rules_in_force(state: &AppState) -> ApiResult<Vec<TelemetryRule>> {
    let rules = state.store.telemetry_rules().await?;
    let (warnings, incidents) = adjusters(state).await?;
    Ok(effective_rules(&rules, &warnings, &incidents, now()))
}

async fn adjusters(state: &AppState) -> ApiResult<(Vec<Warning>, Vec<Incident>)> {
    let now = now();
    let warnings = state.store.warnings(now, now, 500).await?;
    let incidents = state.store.incidents(true, now, 500).await?;
    Ok((warnings, incidents))
}

/// Hands the pipeline the rules as they now apply, when this node runs one.
async fn push_rules(state: &AppState) -> ApiResult<()> {
    if let Some(pipeline) = &state.telemetry {
        pipeline.rules_changed(rules_in_force(state).await?).await?;
    }
    Ok(())
}

/// What adjusts the rules at `now`: the ids of the warnings in force and of the active
/// incidents with adjustments.
fn adjusting(warnings: &[Warning], incidents: &[Incident], now: DateTime<Utc>) -> Vec<String> {
    let mut ids: Vec<String> = warnings
        .iter()
        .filter(|w| w.in_force(now) && !w.adjustments.is_empty())
        .map(|w| w.id.clone())
        .chain(
            incidents
                .iter()
                .filter(|i| !i.adjustments.is_empty())
                .map(|i| i.id.clone()),
        )
        .collect();
    ids.sort();
    ids
}

/// Starts the duty that hands the pipeline the rules again whenever what adjusts them changes
/// by itself (a warning takes effect or expires); changes made through the API push at once.
pub(crate) fn spawn(state: AppState) {
    if state.telemetry.is_none() {
        return;
    }
    tokio::spawn(async move {
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        let mut last: Option<Vec<String>> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut stopped => return,
            }
            let Ok((warnings, incidents)) = adjusters(&state).await else {
                continue;
            };
            let now = now();
            let current = adjusting(&warnings, &incidents, now);
            if last.as_ref() != Some(&current) {
                if let Err(e) = push_rules(&state).await {
                    tracing::warn!(error = %e.message, "The rules in force could not be handed to the pipeline.");
                    continue;
                }
                last = Some(current);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// Warnings

/// A rule a warning judges differently while in force, in its areas.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleAdjustmentView {
    /// A telemetry rule's id (`GET /telemetry/rules`).
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub rule: String,
    /// The condition in place of the rule's own, of the same kind.
    #[schema(value_type = ConditionDoc)]
    pub condition: Condition,
}

impl From<&RuleAdjustment> for RuleAdjustmentView {
    fn from(a: &RuleAdjustment) -> RuleAdjustmentView {
        RuleAdjustmentView {
            rule: a.rule.clone(),
            condition: a.condition.clone(),
        }
    }
}

/// One change of a warning.
#[derive(Serialize, ToSchema)]
pub struct WarningChangeView {
    pub at: DateTime<Utc>,
    pub username: String,
    /// `issued`, `updated` or `lifted`.
    pub action: String,
    pub level: wire::WarningLevel,
    pub expires_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// An early warning (预警).
#[derive(Serialize, ToSchema)]
pub struct WarningView {
    pub id: String,
    pub hazard: wire::Hazard,
    pub hazard_zh: String,
    pub level: wire::WarningLevel,
    /// The level's Chinese name, e.g. 红色预警.
    pub level_zh: String,
    /// The districts, streets or communities it covers.
    pub areas: Vec<String>,
    pub headline: String,
    pub description: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    /// `issued` (not yet in effect), `in_force`, `expired` or `lifted`, now.
    pub status: String,
    /// `manual`, or `cap` for an imported alert.
    pub source: String,
    /// The CAP alert's identifier, for an imported one.
    pub cap_identifier: Option<String>,
    pub adjustments: Vec<RuleAdjustmentView>,
    pub version: u32,
    pub history: Vec<WarningChangeView>,
}

impl WarningView {
    pub(crate) fn new(w: &Warning, now: DateTime<Utc>) -> WarningView {
        let (source, cap_identifier) = match &w.source {
            WarningSource::Manual => ("manual", None),
            WarningSource::Cap { identifier, .. } => ("cap", Some(identifier.clone())),
        };
        WarningView {
            id: w.id.clone(),
            hazard: Wire(w.hazard),
            hazard_zh: w.hazard.zh().to_owned(),
            level: Wire(w.level),
            level_zh: w.level.zh().to_owned(),
            areas: w.areas.iter().map(|a| a.to_string()).collect(),
            headline: w.headline.clone(),
            description: w.description.clone(),
            issued_at: w.issued_at,
            expires_at: w.expires_at,
            lifted_at: w.lifted_at,
            status: w.status(now).to_owned(),
            source: source.to_owned(),
            cap_identifier,
            adjustments: w.adjustments.iter().map(RuleAdjustmentView::from).collect(),
            version: w.version,
            history: w
                .history
                .iter()
                .map(|c| WarningChangeView {
                    at: c.at,
                    username: c.username.clone(),
                    action: c.action.clone(),
                    level: Wire(c.level),
                    expires_at: c.expires_at,
                    note: c.note.clone(),
                })
                .collect(),
        }
    }
}

/// A warning to issue by hand.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningRequest {
    #[schema(value_type = wire::Hazard)]
    pub hazard: cityops_domain::emergency::Hazard,
    #[schema(value_type = wire::WarningLevel)]
    pub level: cityops_domain::telemetry::WarningLevel,
    /// 1 to 64 areas of the city (districts, streets or communities), each once, within
    /// your jurisdiction.
    #[schema(min_items = 1, max_items = 64, value_type = Vec<AreaCodeDoc>)]
    pub areas: Vec<String>,
    #[schema(pattern = r"\S", max_length = 200)]
    pub headline: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: String,
    /// When it takes effect; now when absent.
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
    /// After now and after `issued_at`, at most 31 days after it.
    pub expires_at: DateTime<Utc>,
    /// At most 32 rules, each once.
    #[serde(default)]
    #[schema(max_items = 32)]
    pub adjustments: Vec<RuleAdjustmentView>,
}

/// An area code of the city: 6 (district), 9 (street) or 12 (community) digits.
pub struct AreaCodeDoc;

impl utoipa::PartialSchema for AreaCodeDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r"^(\d{6}|\d{9}|\d{12})$"))
            .into()
    }
}

impl ToSchema for AreaCodeDoc {}

/// A unit's code, e.g. `310101-SWJ`.
pub struct UnitCodeDoc;

impl utoipa::PartialSchema for UnitCodeDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r"^[A-Za-z0-9_-]{1,64}$"))
            .into()
    }
}

impl ToSchema for UnitCodeDoc {}

/// What an update of a warning changes; what is absent stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningUpdateRequest {
    #[serde(default)]
    #[schema(value_type = Option<wire::WarningLevel>)]
    pub level: Option<cityops_domain::telemetry::WarningLevel>,
    #[serde(default)]
    #[schema(min_items = 1, max_items = 64, value_type = Option<Vec<AreaCodeDoc>>)]
    pub areas: Option<Vec<String>>,
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    pub headline: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// A new expiry; an expired warning is re-issued only with one after now.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(max_items = 32)]
    pub adjustments: Option<Vec<RuleAdjustmentView>>,
    /// Why it changed, for the history.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftRequest {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarningsQuery {
    /// Also those expired or lifted in the last 30 days.
    #[serde(default)]
    pub past: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WarningList {
    pub items: Vec<WarningView>,
}

/// Checks the areas of a request exist in the city: each a known district, street or
/// community.
async fn known_areas(state: &AppState, field: &str, codes: &[String]) -> ApiResult<Vec<AreaCode>> {
    let mut areas = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let area = AreaCode::parse(code).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidInput,
                "an area code has 6, 9 or 12 digits",
            )
            .with_field(format!("{field}[{i}]"))
        })?;
        if area.district().is_none() || state.store.area(&area).await?.is_none() {
            return Err(ApiError::new(
                ErrorCode::UnknownReference,
                format!("{code} is no district, street or community of the city"),
            )
            .with_field(format!("{field}[{i}]")));
        }
        if areas.contains(&area) {
            return Err(ApiError::new(
                ErrorCode::InconsistentFields,
                format!("{code} is named twice"),
            )
            .with_field(format!("{field}[{i}]")));
        }
        areas.push(area);
    }
    Ok(areas)
}

/// Checks each adjustment names a stored rule and keeps its kind of condition.
async fn known_adjustments(
    state: &AppState,
    field: &str,
    adjustments: Vec<RuleAdjustmentView>,
) -> ApiResult<Vec<RuleAdjustment>> {
    let rules = state.store.telemetry_rules().await?;
    let mut out: Vec<RuleAdjustment> = Vec::with_capacity(adjustments.len());
    for (i, a) in adjustments.into_iter().enumerate() {
        let Some(rule) = rules.iter().find(|r| r.id == a.rule) else {
            return Err(ApiError::new(
                ErrorCode::UnknownReference,
                format!("there is no telemetry rule {}", a.rule),
            )
            .with_field(format!("{field}[{i}].rule")));
        };
        if std::mem::discriminant(&rule.condition) != std::mem::discriminant(&a.condition) {
            return Err(ApiError::new(
                ErrorCode::InconsistentFields,
                format!("rule {} has a condition of another kind", a.rule),
            )
            .with_field(format!("{field}[{i}].condition")));
        }
        if out.iter().any(|b| b.rule == a.rule) {
            return Err(ApiError::new(
                ErrorCode::InconsistentFields,
                format!("rule {} is adjusted twice", a.rule),
            )
            .with_field(format!("{field}[{i}].rule")));
        }
        cityops_domain::telemetry::check_condition(
            &format!("{field}[{i}].condition"),
            &a.condition,
        )?;
        out.push(RuleAdjustment {
            rule: a.rule,
            condition: a.condition,
        });
    }
    Ok(out)
}

fn published(state: &AppState, change: EmergencyChange) {
    let _ = state.emergencies.send(change);
}

/// The warnings in force or coming within your jurisdiction, latest issued first; with
/// `past`, also those of the last 30 days.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "emergencies", params(WarningsQuery),
    responses((status = 200, body = WarningList)))]
pub async fn list_warnings(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<WarningsQuery>,
) -> ApiResult<Json<WarningList>> {
    let now = now();
    let since = if query.past {
        now - Duration::days(30)
    } else {
        now + Duration::days(3650)
    };
    let warnings = state.store.warnings(now, since, 500).await?;
    Ok(Json(WarningList {
        items: warnings
            .iter()
            .filter(|w| w.concerns(&actor.scope))
            .map(|w| WarningView::new(w, now))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/warnings/{id}", tag = "emergencies",
    params(("id" = String, Path)),
    responses((status = 200, body = WarningView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_warning(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<WarningView>> {
    let warning = visible_warning(&state, &actor, &id).await?;
    Ok(Json(WarningView::new(&warning, now())))
}

async fn visible_warning(state: &AppState, actor: &Actor, id: &str) -> ApiResult<Warning> {
    state
        .store
        .warning(id)
        .await?
        .filter(|w| w.concerns(&actor.scope))
        .ok_or_else(|| ApiError::not_found("the warning"))
}

/// Issue a warning by hand (the center's leaders, shift leads and dispatchers). It is pushed
/// on the live stream to everyone whose jurisdiction it concerns, and while in force the rules
/// it adjusts judge the devices of its areas by its conditions.
#[utoipa::path(post, path = "/api/v1/warnings", tag = "emergencies", request_body = WarningRequest,
    responses((status = 201, body = WarningView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn issue_warning(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(request): JsonBody<WarningRequest>,
) -> ApiResult<(StatusCode, Json<WarningView>)> {
    let areas = known_areas(&state, "areas", &request.areas).await?;
    let mut adjustments = known_adjustments(&state, "adjustments", request.adjustments).await?;
    if adjustments.is_empty() {
        adjustments = planned_adjustments(&state, request.hazard, request.level).await?;
    }
    let now = now();
    let warning = Warning::issue(
        new_id(),
        NewWarning {
            hazard: request.hazard,
            level: request.level,
            areas,
            headline: request.headline,
            description: request.description,
            issued_at: request.issued_at,
            expires_at: request.expires_at,
            adjustments,
        },
        WarningSource::Manual,
        &actor,
        now,
    )?;
    state.store.put_warning(&warning, None, "issue").await?;
    after_warning(&state, &warning, "issued").await;
    Ok((StatusCode::CREATED, Json(WarningView::new(&warning, now))))
}

/// What a warning issued without adjustments of its own brings from the plans of its hazard
/// (rules since deleted left out).
async fn planned_adjustments(
    state: &AppState,
    hazard: cityops_domain::emergency::Hazard,
    level: cityops_domain::telemetry::WarningLevel,
) -> ApiResult<Vec<RuleAdjustment>> {
    let rules = state.store.telemetry_rules().await?;
    let mut adjustments = warning_adjustments(&all_plans(state).await?, hazard, level);
    adjustments.retain(|a| rules.iter().any(|r| r.id == a.rule));
    Ok(adjustments)
}

async fn after_warning(state: &AppState, warning: &Warning, action: &'static str) {
    if let Err(e) = push_rules(state).await {
        tracing::warn!(error = %e.message, "The rules in force could not be handed to the pipeline.");
    }
    published(
        state,
        EmergencyChange::Warning(Arc::new(warning.clone()), action),
    );
}

/// Update a warning: another level, other areas, a new expiry (an expired warning is
/// re-issued only with one after now), another text or other rule adjustments.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/update", tag = "emergencies",
    params(("id" = String, Path)), request_body = WarningUpdateRequest,
    responses((status = 200, body = WarningView), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_warning(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<WarningUpdateRequest>,
) -> ApiResult<Json<WarningView>> {
    let warning = visible_warning(&state, &actor, &id).await?;
    let areas = match &request.areas {
        Some(codes) => Some(known_areas(&state, "areas", codes).await?),
        None => None,
    };
    let adjustments = match request.adjustments {
        Some(a) => Some(known_adjustments(&state, "adjustments", a).await?),
        None => None,
    };
    let now = now();
    let next = warning.update(
        WarningUpdate {
            level: request.level,
            areas,
            headline: request.headline,
            description: request.description,
            expires_at: request.expires_at,
            adjustments,
            note: request.note,
        },
        &actor,
        now,
    )?;
    state.store.put_warning(&next, None, "update").await?;
    after_warning(&state, &next, "updated").await;
    Ok(Json(WarningView::new(&next, now)))
}

/// Lift a warning (解除) before it expires.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/lift", tag = "emergencies",
    params(("id" = String, Path)), request_body = LiftRequest,
    responses((status = 200, body = WarningView), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn lift_warning(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<LiftRequest>,
) -> ApiResult<Json<WarningView>> {
    let warning = visible_warning(&state, &actor, &id).await?;
    let now = now();
    let next = warning.lift(request.note, &actor, now)?;
    state.store.put_warning(&next, None, "lift").await?;
    after_warning(&state, &next, "lifted").await;
    Ok(Json(WarningView::new(&next, now)))
}

/// What importing a CAP alert did.
#[derive(Serialize, ToSchema)]
pub struct CapImport {
    /// `issued`, `updated`, `lifted`, or `unchanged` (the same alert imported before).
    pub outcome: String,
    pub warning: WarningView,
}

/// Import a weather service's alert in the Common Alerting Protocol (CAP 1.2, XML, as
/// China's early-warning release system publishes it): an `Alert` issues a warning, an
/// `Update` changes the one it references, a `Cancel` lifts it. The hazard and level come
/// from the alert's event and severity (or the colour its event names), the areas from its
/// geocodes (administrative codes) or area descriptions. The same alert imported twice changes
/// nothing. A file that is not CAP is refused naming the element at fault.
#[utoipa::path(post, path = "/api/v1/warnings/cap", tag = "emergencies",
    request_body(content = String, content_type = "application/xml"),
    responses((status = 200, body = CapImport), (status = 201, body = CapImport),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_cap(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CapImport>)> {
    let xml = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    if !xml {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the alert as XML with Content-Type: application/xml",
        ));
    }
    if !matches!(
        actor.role,
        Role::CenterLeader | Role::ShiftLead | Role::Dispatcher
    ) {
        return Err(ApiError::new(
            ErrorCode::RoleNotAllowed,
            format!("a {} may not import a warning", actor.role.as_str()),
        ));
    }
    let alert = crate::cap::parse(&body)?;
    let districts: Vec<(AreaCode, String)> = state
        .store
        .areas(&cityops_store::AreaFilter {
            parent: None,
            level: Some(cityops_domain::AreaLevel::District),
        })
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let mut areas = Vec::new();
    for code in &alert.geocodes {
        if let Ok(area) = AreaCode::parse(code) {
            if area.district().is_some()
                && !areas.contains(&area)
                && state.store.area(&area).await?.is_some()
            {
                areas.push(area);
            }
        }
    }
    if areas.is_empty() {
        for (code, name) in &districts {
            if alert
                .area_descriptions
                .iter()
                .any(|d| d.contains(name.as_str()))
            {
                areas.push(code.clone());
            }
        }
    }
    if areas.is_empty() {
        return Err(ApiError::new(
            ErrorCode::OutsideCity,
            "the alert's areas (geocode, areaDesc) name no district, street or community of this city",
        )
        .with_field("area"));
    }
    let now = now();
    let key = format!("{}|{}", alert.sender, alert.identifier);
    if let Some(known) = state.store.warning_by_cap(&key).await? {
        return Ok((
            StatusCode::OK,
            Json(CapImport {
                outcome: "unchanged".into(),
                warning: WarningView::new(&known, now),
            }),
        ));
    }
    let referenced = || async {
        for reference in &alert.references {
            if let Some(w) = state.store.warning_by_cap(reference).await? {
                return Ok::<_, ApiError>(Some(w));
            }
        }
        Ok(None)
    };
    match alert.message {
        crate::cap::Message::Alert => {
            let warning = Warning::issue(
                new_id(),
                NewWarning {
                    hazard: alert.hazard,
                    level: alert.level,
                    areas,
                    headline: alert.headline.clone(),
                    description: alert.description.clone(),
                    issued_at: alert.effective,
                    expires_at: alert.expires,
                    adjustments: planned_adjustments(&state, alert.hazard, alert.level).await?,
                },
                WarningSource::Cap {
                    identifier: alert.identifier.clone(),
                    sender: alert.sender.clone(),
                },
                &actor,
                now,
            )?;
            state
                .store
                .put_warning(&warning, Some(&key), "import")
                .await?;
            after_warning(&state, &warning, "issued").await;
            Ok((
                StatusCode::CREATED,
                Json(CapImport {
                    outcome: "issued".into(),
                    warning: WarningView::new(&warning, now),
                }),
            ))
        }
        crate::cap::Message::Update | crate::cap::Message::Cancel => {
            let Some(earlier) = referenced().await? else {
                return Err(ApiError::new(
                    ErrorCode::UnknownReference,
                    "the alert references no alert imported before",
                )
                .with_field("references"));
            };
            let (next, outcome) = if alert.message == crate::cap::Message::Cancel {
                (
                    earlier.lift(Some(alert.headline.clone()), &actor, now)?,
                    "lifted",
                )
            } else {
                (
                    earlier.update(
                        WarningUpdate {
                            level: Some(alert.level),
                            areas: Some(areas),
                            headline: Some(alert.headline.clone()),
                            description: Some(alert.description.clone()),
                            expires_at: Some(alert.expires),
                            adjustments: None,
                            note: Some(format!("CAP {}", alert.identifier)),
                        },
                        &actor,
                        now,
                    )?,
                    "updated",
                )
            };
            state.store.put_warning(&next, Some(&key), outcome).await?;
            after_warning(
                &state,
                &next,
                if outcome == "lifted" {
                    "lifted"
                } else {
                    "updated"
                },
            )
            .await;
            Ok((
                StatusCode::OK,
                Json(CapImport {
                    outcome: outcome.into(),
                    warning: WarningView::new(&next, now),
                }),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Incidents

/// A leader's decision on the response level.
#[derive(Serialize, ToSchema)]
pub struct ResponseView {
    pub level: wire::ResponseLevel,
    /// 一级响应 .. 四级响应.
    pub level_zh: String,
    pub reason: String,
    pub username: String,
    pub at: DateTime<Utc>,
}

/// A unit's task in the joint response.
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    pub id: u32,
    pub unit: String,
    pub title: String,
    pub deadline: DateTime<Utc>,
    pub state: wire::TaskState,
    /// Still open past its deadline.
    pub overdue: bool,
    pub assigned_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The unit's report (done) or reason (unable).
    pub report: Option<String>,
    pub photos: Vec<String>,
}

/// A response resource: where it is and what it does.
#[derive(Serialize, ToSchema)]
pub struct ResourceView {
    pub id: u32,
    pub kind: wire::ResourceKind,
    pub name: String,
    pub quantity: u32,
    pub unit: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub state: wire::ResourceState,
    pub updated_at: DateTime<Utc>,
}

/// Units told of an incident (通知), and what.
#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    pub units: Vec<String>,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// A zone drawn on the map: a GeoJSON Polygon (RFC 7946) of one closed ring of 4 to 500
/// `[lon, lat]` positions (WGS-84), the last the first.
pub struct ZoneDoc;

impl utoipa::PartialSchema for ZoneDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
        let number = ObjectBuilder::new().schema_type(SchemaType::new(Type::Number));
        let position = ArrayBuilder::new()
            .items(number)
            .min_items(Some(2))
            .max_items(Some(2));
        let ring = ArrayBuilder::new()
            .items(position)
            .min_items(Some(4))
            .max_items(Some(cityops_domain::emergency::zone::MAX_ZONE_POSITIONS));
        let rings = ArrayBuilder::new()
            .items(ring)
            .min_items(Some(1))
            .max_items(Some(1));
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .enum_values(Some(["Polygon"])),
            )
            .required("type")
            .property("coordinates", rings)
            .required("coordinates")
            .description(Some(
                "A GeoJSON Polygon: one closed ring of [lon, lat] positions, the last the first.",
            ))
            .into()
    }
}

impl ToSchema for ZoneDoc {}

/// An incident (突发事件). A unit's handlers see its public facts and their own unit's tasks.
#[derive(Serialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub kind: wire::IncidentKind,
    pub kind_zh: String,
    pub severity: wire::Severity,
    pub severity_zh: String,
    pub title: String,
    pub description: String,
    pub areas: Vec<String>,
    /// The zone drawn on the map when it was opened, if one was.
    #[schema(value_type = Option<ZoneDoc>)]
    pub zone: Option<Zone>,
    /// The center that coordinates it (its area's code).
    pub center: String,
    pub state: wire::IncidentState,
    /// The response level in force; none until a leader decides it.
    pub response: Option<ResponseView>,
    pub lead_unit: Option<String>,
    pub tasks: Vec<TaskView>,
    pub resources: Vec<ResourceView>,
    /// The units told of it; a unit's handlers see the notices to their unit.
    pub notices: Vec<NoticeView>,
    pub warnings: Vec<String>,
    pub plan: Option<String>,
    pub adjustments: Vec<RuleAdjustmentView>,
    /// What it links by area (indicators, classes); everything in its areas when empty.
    pub link_classes: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub stood_down_at: Option<DateTime<Utc>>,
    pub version: u32,
}

impl IncidentView {
    pub(crate) fn new(incident: &Incident, actor: &Actor, now: DateTime<Utc>) -> IncidentView {
        let i = incident.seen_by(actor);
        IncidentView {
            id: i.id.clone(),
            kind: Wire(i.kind),
            kind_zh: i.kind.zh().to_owned(),
            severity: Wire(i.severity),
            severity_zh: i.severity.zh().to_owned(),
            title: i.title.clone(),
            description: i.description.clone(),
            areas: i.areas.iter().map(|a| a.to_string()).collect(),
            zone: i.zone.clone(),
            center: i.center.to_string(),
            state: Wire(i.state),
            response: i.response.as_ref().map(|r| ResponseView {
                level: Wire(r.level),
                level_zh: r.level.zh().to_owned(),
                reason: r.reason.clone(),
                username: r.username.clone(),
                at: r.at,
            }),
            lead_unit: i.lead_unit.clone(),
            tasks: i
                .tasks
                .iter()
                .map(|t| TaskView {
                    id: t.id,
                    unit: t.unit.clone(),
                    title: t.title.clone(),
                    deadline: t.deadline,
                    state: Wire(t.state),
                    overdue: t.is_overdue(now),
                    assigned_at: t.assigned_at,
                    updated_at: t.updated_at,
                    report: t.report.clone(),
                    photos: t.photos.clone(),
                })
                .collect(),
            resources: i
                .resources
                .iter()
                .map(|r| ResourceView {
                    id: r.id,
                    kind: Wire(r.kind),
                    name: r.name.clone(),
                    quantity: r.quantity,
                    unit: r.unit.clone(),
                    lon: r.location.map(|l| l.lon),
                    lat: r.location.map(|l| l.lat),
                    state: Wire(r.state),
                    updated_at: r.updated_at,
                })
                .collect(),
            notices: i
                .notices
                .iter()
                .map(|n| NoticeView {
                    units: n.units.clone(),
                    text: n.text.clone(),
                    at: n.at,
                })
                .collect(),
            warnings: i.warnings.clone(),
            plan: i.plan.clone(),
            adjustments: i.adjustments.iter().map(RuleAdjustmentView::from).collect(),
            link_classes: i.link_classes.clone(),
            opened_at: i.opened_at,
            stood_down_at: i.stood_down_at,
            version: i.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Also those stood down in the last 90 days.
    #[serde(default)]
    pub past: bool,
}

/// Open an incident: by hand (kind, severity, title, areas), or from a contingency plan
/// (`plan` and `areas`), which gives a task to each active unit of the plan's kinds that
/// answers for an affected area, brings the plan's resources and tells the units it names.
/// The areas are picked, or found from a `zone` drawn on the map (the streets it touches),
/// or both. The response level is not set here: a leader decides it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRequest {
    /// A plan's id (`GET /plans`); then kind and severity come from the plan.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub plan: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<wire::IncidentKind>)]
    pub kind: Option<cityops_domain::emergency::IncidentKind>,
    #[serde(default)]
    #[schema(value_type = Option<wire::Severity>)]
    pub severity: Option<cityops_domain::emergency::Severity>,
    /// Required without a plan; the plan's name with one.
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: String,
    /// The affected areas; may be empty when a zone is drawn.
    #[serde(default)]
    #[schema(max_items = 64, value_type = Vec<AreaCodeDoc>)]
    pub areas: Vec<String>,
    /// A zone drawn on the map: the streets it touches are added to the areas.
    #[serde(default)]
    #[schema(value_type = Option<ZoneDoc>)]
    pub zone: Option<Zone>,
    /// Warnings it answers (ids).
    #[serde(default)]
    #[schema(max_items = 16)]
    pub warnings: Vec<String>,
    /// Telemetry rules judged differently in its areas while the response runs, in addition
    /// to (and before) a plan's.
    #[serde(default)]
    #[schema(max_items = 32)]
    pub adjustments: Vec<RuleAdjustmentView>,
    /// What is linked by area: alarms of these indicators, cases of these classes (a code or
    /// its start); a plan's when absent; everything in the areas when empty.
    #[serde(default)]
    #[schema(max_items = 32, value_type = Option<Vec<LinkClassDoc>>)]
    pub link_classes: Option<Vec<String>>,
}

/// An indicator's key (`water_level`) or a class code or its start (`20406`, `204`).
pub struct LinkClassDoc;

impl utoipa::PartialSchema for LinkClassDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r"^[a-z0-9_]{1,32}$"))
            .into()
    }
}

impl ToSchema for LinkClassDoc {}

/// A change to an incident. The response level, the hand-over and the stand-down are a
/// leader's; tasks' acceptance, progress and reports are their unit's handlers'. Fields a
/// command does not have are ignored (the document's variants do not forbid them).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum IncidentCommandRequest {
    SetResponse {
        #[schema(value_type = wire::ResponseLevel)]
        level: cityops_domain::emergency::ResponseLevel,
        #[schema(pattern = r"\S", max_length = 1000)]
        reason: String,
    },
    AssignTask {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        unit: String,
        #[schema(pattern = r"\S", max_length = 200)]
        title: String,
        /// After now.
        deadline: DateTime<Utc>,
    },
    AcceptTask {
        #[schema(minimum = 1)]
        task: u32,
    },
    StartTask {
        #[schema(minimum = 1)]
        task: u32,
    },
    FinishTask {
        #[schema(minimum = 1)]
        task: u32,
        #[schema(pattern = r"\S", max_length = 4000)]
        report: String,
        /// Ids of photos uploaded to this task (`POST .../tasks/{task}/photos`), at most 9.
        #[serde(default)]
        #[schema(max_items = 9)]
        photos: Vec<String>,
    },
    TaskUnable {
        #[schema(minimum = 1)]
        task: u32,
        #[schema(pattern = r"\S", max_length = 1000)]
        reason: String,
    },
    Sitrep {
        #[schema(pattern = r"\S", max_length = 4000)]
        text: String,
    },
    /// Tell units of the incident: from then on their handlers see its public facts.
    Notify {
        #[schema(min_items = 1, max_items = 100, value_type = Vec<UnitCodeDoc>)]
        units: Vec<String>,
        #[schema(pattern = r"\S", max_length = 1000)]
        text: String,
    },
    AddResource {
        #[schema(value_type = wire::ResourceKind)]
        kind: cityops_domain::emergency::ResourceKind,
        #[schema(pattern = r"\S", max_length = 100)]
        name: String,
        #[schema(minimum = 1, maximum = 1000000)]
        quantity: u32,
        #[serde(default)]
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        unit: Option<String>,
        #[serde(default)]
        #[schema(minimum = 73.0, maximum = 136.0)]
        lon: Option<f64>,
        #[serde(default)]
        #[schema(minimum = 3.0, maximum = 54.0)]
        lat: Option<f64>,
    },
    MoveResource {
        #[schema(minimum = 1)]
        resource: u32,
        #[schema(value_type = wire::ResourceState)]
        state: cityops_domain::emergency::ResourceState,
        #[serde(default)]
        #[schema(minimum = 73.0, maximum = 136.0)]
        lon: Option<f64>,
        #[serde(default)]
        #[schema(minimum = 3.0, maximum = 54.0)]
        lat: Option<f64>,
    },
    /// Link an alarm or a case by hand (within the incident's areas).
    Link {
        #[schema(value_type = wire::LinkKind)]
        kind: cityops_domain::emergency::LinkKind,
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        target: String,
    },
    /// Unlink an alarm or a case; an automatic link so undone does not come back.
    Unlink {
        #[schema(value_type = wire::LinkKind)]
        kind: cityops_domain::emergency::LinkKind,
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        target: String,
    },
    HandOver {
        #[schema(pattern = r"\S", max_length = 1000)]
        reason: String,
    },
    StandDown {
        #[schema(pattern = r"\S", max_length = 1000)]
        reason: String,
    },
}

fn location(lon: Option<f64>, lat: Option<f64>) -> ApiResult<Option<cityops_domain::Location>> {
    match (lon, lat) {
        (None, None) => Ok(None),
        (Some(lon), Some(lat)) => Ok(Some(cityops_domain::Location::new(lon, lat)?)),
        _ => Err(ApiError::new(
            ErrorCode::InconsistentFields,
            "give both lon and lat, or neither",
        )
        .with_field("lat")),
    }
}

impl IncidentCommandRequest {
    fn into_command(self) -> ApiResult<IncidentCommand> {
        use IncidentCommandRequest as R;
        Ok(match self {
            R::SetResponse { level, reason } => IncidentCommand::SetResponse { level, reason },
            R::AssignTask {
                unit,
                title,
                deadline,
            } => IncidentCommand::AssignTask {
                unit,
                title,
                deadline,
            },
            R::AcceptTask { task } => IncidentCommand::AcceptTask { task },
            R::StartTask { task } => IncidentCommand::StartTask { task },
            R::FinishTask {
                task,
                report,
                photos,
            } => IncidentCommand::FinishTask {
                task,
                report,
                photos,
            },
            R::TaskUnable { task, reason } => IncidentCommand::TaskUnable { task, reason },
            R::Sitrep { text } => IncidentCommand::Sitrep { text },
            R::Notify { units, text } => IncidentCommand::Notify { units, text },
            R::AddResource {
                kind,
                name,
                quantity,
                unit,
                lon,
                lat,
            } => IncidentCommand::AddResource {
                kind,
                name,
                quantity,
                unit,
                location: location(lon, lat)?,
            },
            R::MoveResource {
                resource,
                state,
                lon,
                lat,
            } => IncidentCommand::MoveResource {
                resource,
                state,
                location: location(lon, lat)?,
            },
            R::Link { kind, target } => IncidentCommand::Link { kind, target },
            R::Unlink { kind, target } => IncidentCommand::Unlink { kind, target },
            R::HandOver { reason } => IncidentCommand::HandOver { reason },
            R::StandDown { reason } => IncidentCommand::StandDown { reason },
        })
    }
}

/// One change on an incident's timeline.
#[derive(Serialize, ToSchema)]
pub struct IncidentEventView {
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub username: String,
    pub role: wire::Role,
    pub unit: Option<String>,
    /// `open`, `set_response`, `assign_task`, `accept_task`, `start_task`, `finish_task`,
    /// `task_unable`, `sitrep`, `notify`, `add_resource`, `move_resource`, `link`, `unlink`,
    /// `hand_over` or `stand_down`.
    pub action: String,
    /// The command's fields as given.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentTimeline {
    pub items: Vec<IncidentEventView>,
}

async fn active_unit(state: &AppState, code: &str) -> ApiResult<bool> {
    Ok(state
        .store
        .unit(code)
        .await?
        .is_some_and(|u| u.retired.is_none()))
}

/// The active units among those a command names, for the domain's check.
async fn units_named(state: &AppState, command: &IncidentCommand) -> ApiResult<Vec<String>> {
    let named: Vec<&String> = match command {
        IncidentCommand::AssignTask { unit, .. } => vec![unit],
        IncidentCommand::AddResource {
            unit: Some(unit), ..
        } => vec![unit],
        IncidentCommand::Notify { units, .. } => units.iter().take(100).collect(),
        _ => Vec::new(),
    };
    let mut active = Vec::new();
    for unit in named {
        if active_unit(state, unit).await? {
            active.push(unit.clone());
        }
    }
    Ok(active)
}

/// Writes the incident with the events that changed it, in one transaction, and tells the
/// stream (once, by the first event) and the pipeline.
async fn record(state: &AppState, incident: &Incident, events: &[IncidentEvent]) -> ApiResult<()> {
    let Some(event) = events.first() else {
        return Ok(());
    };
    state.store.put_incident(incident, events).await?;
    if !incident.adjustments.is_empty()
        && matches!(
            event.command,
            IncidentCommand::Open(_) | IncidentCommand::StandDown { .. }
        )
    {
        if let Err(e) = push_rules(state).await {
            tracing::warn!(error = %e.message, "The rules in force could not be handed to the pipeline.");
        }
    }
    published(
        state,
        EmergencyChange::Incident(Arc::new(incident.clone()), event.command.name()),
    );
    Ok(())
}

/// Plans as the city keeps them: the stored ones, the shipped ones where none is stored.
async fn all_plans(state: &AppState) -> ApiResult<Vec<ContingencyPlan>> {
    let mut plans = state.store.plans().await?;
    for plan in default_plans() {
        if !plans.iter().any(|p| p.id == plan.id) {
            plans.push(plan);
        }
    }
    plans.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(plans)
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "emergencies", request_body = IncidentRequest,
    responses((status = 201, body = IncidentView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn open_incident(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(request): JsonBody<IncidentRequest>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let mut codes = request.areas.clone();
    if let Some(zone) = &request.zone {
        for street in zone_streets(&state, zone)? {
            if !codes.contains(&street) {
                codes.push(street);
            }
        }
    } else if codes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InconsistentFields,
            "name at least one area, or draw a zone",
        )
        .with_field("areas"));
    }
    let areas = known_areas(&state, "areas", &codes).await?;
    for (i, id) in request.warnings.iter().enumerate() {
        if state.store.warning(id).await?.is_none() {
            return Err(ApiError::new(
                ErrorCode::UnknownReference,
                format!("there is no warning {id}"),
            )
            .with_field(format!("warnings[{i}]")));
        }
    }
    let own_adjustments = known_adjustments(&state, "adjustments", request.adjustments).await?;
    let now = now();
    let (mut new, steps) = match &request.plan {
        Some(id) => {
            let plan = all_plans(&state)
                .await?
                .into_iter()
                .find(|p| &p.id == id)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::UnknownReference,
                        format!("there is no plan {id}"),
                    )
                    .with_field("plan")
                })?;
            let units = state
                .store
                .units(&cityops_store::UnitFilter {
                    retired: Some(false),
                    ..Default::default()
                })
                .await?;
            let opening = plan.open(request.title.clone(), areas, &units, now)?;
            let steps = opening.steps();
            (opening.incident, steps)
        }
        None => {
            let (Some(kind), Some(severity), Some(title)) =
                (request.kind, request.severity, request.title.clone())
            else {
                return Err(ApiError::new(
                    ErrorCode::InconsistentFields,
                    "without a plan, give kind, severity and title",
                )
                .with_field("plan"));
            };
            (
                NewIncident {
                    kind,
                    severity,
                    title,
                    description: String::new(),
                    areas,
                    zone: None,
                    lead_unit: None,
                    warnings: Vec::new(),
                    plan: None,
                    adjustments: Vec::new(),
                    link_classes: Vec::new(),
                },
                Vec::new(),
            )
        }
    };
    if let Some(kind) = request.kind {
        new.kind = kind;
    }
    if let Some(severity) = request.severity {
        new.severity = severity;
    }
    new.description = request.description;
    new.warnings = request.warnings;
    new.zone = request.zone;
    if let Some(classes) = request.link_classes {
        new.link_classes = classes;
    }
    // The leader's own adjustments come first; a plan's adjust the rules they leave alone.
    let planned = std::mem::take(&mut new.adjustments);
    new.adjustments = own_adjustments;
    for adjustment in planned {
        if !new.adjustments.iter().any(|a| a.rule == adjustment.rule) {
            new.adjustments.push(adjustment);
        }
    }
    let (mut incident, event) = Incident::open(new_id(), new, &actor, now)?;
    let mut events = vec![event];
    // The plan's tasks, resources and notices, each its own step on the timeline, written
    // with the opening in one transaction.
    for step in steps {
        let (next, event) = incident.decide(step, &actor, now, |_| true)?;
        events.push(event);
        incident = next;
    }
    record(&state, &incident, &events).await?;
    Ok((
        StatusCode::CREATED,
        Json(IncidentView::new(&incident, &actor, now)),
    ))
}

/// The streets a drawn zone touches, checked first for what the document cannot say.
fn zone_streets(state: &AppState, zone: &Zone) -> ApiResult<Vec<String>> {
    for (i, [lon, lat]) in zone.ring().iter().enumerate() {
        if cityops_domain::Location::new(*lon, *lat).is_err() {
            return Err(ApiError::new(
                ErrorCode::OutsideCity,
                format!("[{lon}, {lat}] is outside China"),
            )
            .with_field(format!("zone.coordinates[0][{i}]")));
        }
    }
    zone.validate("zone")?;
    let streets = state
        .geography()
        .map(|g| g.streets_touching(zone.ring()))
        .unwrap_or_default();
    if streets.is_empty() {
        return Err(ApiError::new(
            ErrorCode::OutsideCity,
            "the zone touches no unit grid of this city",
        )
        .with_field("zone"));
    }
    if streets.len() > cityops_domain::emergency::incident::MAX_AREAS {
        return Err(ApiError::new(
            ErrorCode::InconsistentFields,
            format!(
                "the zone touches {} streets; an incident covers at most {}: draw a smaller \
                 zone, or pick districts",
                streets.len(),
                cityops_domain::emergency::incident::MAX_AREAS
            ),
        )
        .with_field("zone"));
    }
    Ok(streets)
}

/// The incidents you see: active ones, with `past` also those of the last 90 days.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "emergencies", params(IncidentsQuery),
    responses((status = 200, body = IncidentList)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<IncidentsQuery>,
) -> ApiResult<Json<IncidentList>> {
    let now = now();
    let incidents = state
        .store
        .incidents(!query.past, now - Duration::days(90), 500)
        .await?;
    Ok(Json(IncidentList {
        items: incidents
            .iter()
            .filter(|i| i.visible_to(&actor))
            .map(|i| IncidentView::new(i, &actor, now))
            .collect(),
    }))
}

async fn visible_incident(state: &AppState, actor: &Actor, id: &str) -> ApiResult<Incident> {
    state
        .store
        .incident(id)
        .await?
        .filter(|i| i.visible_to(actor))
        .ok_or_else(|| ApiError::not_found("the incident"))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "emergencies",
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_incident(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let incident = visible_incident(&state, &actor, &id).await?;
    Ok(Json(IncidentView::new(&incident, &actor, now())))
}

/// Change an incident: decide the response level (with the reason), assign a unit a task,
/// a unit's accepting, starting, finishing (with its report) or declining its task, a
/// situation report, a resource added or moved, the hand-over to the next-level center, or
/// the stand-down.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/commands", tag = "emergencies",
    params(("id" = String, Path)), request_body = IncidentCommandRequest,
    responses((status = 200, body = IncidentView), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn incident_command(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<IncidentCommandRequest>,
) -> ApiResult<Json<IncidentView>> {
    let incident = visible_incident(&state, &actor, &id).await?;
    let command = request.into_command()?;
    match &command {
        IncidentCommand::Link { kind, target } => {
            let area = match kind {
                LinkKind::Alarm => state.store.alarm(target).await?.map(|a| a.area),
                LinkKind::Case => state.store.case(target).await?.map(|c| c.area),
            };
            if !area.is_some_and(|a| incident.covers(&a) && actor.can_see(&a)) {
                return Err(ApiError::new(
                    ErrorCode::UnknownReference,
                    format!(
                        "there is no {} {target} in the incident's areas",
                        kind.as_str()
                    ),
                )
                .with_field("target"));
            }
        }
        IncidentCommand::Unlink { kind, target } => {
            let linked = state.store.links(&id).await?;
            if !linked
                .iter()
                .any(|l| l.kind == kind.as_str() && &l.target == target)
            {
                return Err(ApiError::new(
                    ErrorCode::UnknownReference,
                    format!("no {} {target} is linked", kind.as_str()),
                )
                .with_field("target"));
            }
        }
        _ => {}
    }
    if let IncidentCommand::FinishTask { task, photos, .. } = &command {
        if !photos.is_empty() {
            let uploaded = state.store.incident_photos(&id).await?;
            for (i, photo) in photos.iter().enumerate() {
                if !uploaded.iter().any(|p| &p.id == photo && p.task == *task)
                    || photos[..i].contains(photo)
                {
                    return Err(ApiError::new(
                        ErrorCode::UnknownReference,
                        format!("{photo} is no photo uploaded to task {task}, or is named twice"),
                    )
                    .with_field(format!("photos[{i}]")));
                }
            }
        }
    }
    let active = units_named(&state, &command).await?;
    let now = now();
    let (next, event) = incident.decide(command, &actor, now, |u| active.iter().any(|a| a == u))?;
    record(&state, &next, std::slice::from_ref(&event)).await?;
    match &event.command {
        IncidentCommand::Link { kind, target } => {
            state
                .store
                .link(&id, kind.as_str(), target, now, false)
                .await?;
        }
        IncidentCommand::Unlink { kind, target } => {
            state.store.unlink(&id, kind.as_str(), target).await?;
        }
        _ => {}
    }
    Ok(Json(IncidentView::new(&next, &actor, now)))
}

/// The incident's timeline, in order. A unit's handlers see the steps of their own tasks and
/// the situation reports.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "emergencies",
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentTimeline), (status = 404, body = crate::error::ErrorBody)))]
pub async fn incident_timeline(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentTimeline>> {
    let incident = visible_incident(&state, &actor, &id).await?;
    let all = incident.sees_all(&actor);
    let own: Vec<u32> = incident
        .tasks
        .iter()
        .filter(|t| actor.unit.as_deref() == Some(t.unit.as_str()))
        .map(|t| t.id)
        .collect();
    let events = state.store.incident_events(&id).await?;
    let items = events
        .into_iter()
        .filter(|e| {
            all || match &e.command {
                IncidentCommand::Open(_)
                | IncidentCommand::SetResponse { .. }
                | IncidentCommand::Sitrep { .. }
                | IncidentCommand::HandOver { .. }
                | IncidentCommand::StandDown { .. } => true,
                IncidentCommand::AssignTask { unit, .. } => actor.unit.as_deref() == Some(unit),
                IncidentCommand::Notify { units, .. } => actor
                    .unit
                    .as_deref()
                    .is_some_and(|u| units.iter().any(|x| x == u)),
                other => other.task().is_some_and(|t| own.contains(&t)),
            }
        })
        .map(|e| {
            let mut details = serde_json::to_value(&e.command).unwrap_or_default();
            if let Some(map) = details.as_object_mut() {
                map.remove("command");
                // A unit's handlers read a notice to their own unit, not who else was told.
                if !all {
                    if let (IncidentCommand::Notify { .. }, Some(unit)) = (&e.command, &actor.unit)
                    {
                        map.insert("units".into(), serde_json::json!([unit]));
                    }
                }
            }
            IncidentEventView {
                seq: e.seq,
                at: e.at,
                username: e.username,
                role: Wire(e.role),
                unit: e.unit,
                action: e.command.name().to_owned(),
                details,
            }
        })
        .collect();
    Ok(Json(IncidentTimeline { items }))
}

// ---------------------------------------------------------------------------------------
// Plans

/// A task a plan gives each active unit of a kind that answers for an affected area.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTaskView {
    #[schema(value_type = wire::UnitKind)]
    pub unit_kind: cityops_domain::UnitKind,
    #[schema(pattern = r"\S", max_length = 200)]
    pub title: String,
    /// Hours from the opening to the task's deadline.
    #[schema(minimum = 1, maximum = 720)]
    pub hours: u32,
}

/// Whom a plan tells when it opens an incident: the active units of a kind that answer for
/// an affected area.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanNoticeView {
    #[schema(value_type = wire::UnitKind)]
    pub unit_kind: cityops_domain::UnitKind,
    #[schema(pattern = r"\S", max_length = 1000)]
    pub text: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanResourceView {
    #[schema(value_type = wire::ResourceKind)]
    pub kind: cityops_domain::emergency::ResourceKind,
    #[schema(pattern = r"\S", max_length = 100)]
    pub name: String,
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: u32,
}

/// A contingency plan (应急预案).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanView {
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    #[schema(pattern = r"\S", max_length = 100)]
    pub name: String,
    #[schema(value_type = wire::Hazard)]
    pub hazard: cityops_domain::emergency::Hazard,
    /// The warning level from which it applies.
    #[schema(value_type = wire::WarningLevel)]
    pub from_level: cityops_domain::telemetry::WarningLevel,
    #[schema(value_type = wire::IncidentKind)]
    pub kind: cityops_domain::emergency::IncidentKind,
    #[schema(value_type = wire::Severity)]
    pub severity: cityops_domain::emergency::Severity,
    #[schema(min_items = 1, max_items = 32)]
    pub tasks: Vec<PlanTaskView>,
    #[serde(default)]
    #[schema(max_items = 32)]
    pub resources: Vec<PlanResourceView>,
    /// Rules judged differently while a warning of the plan's hazard at its level or above is
    /// in force, and in an incident opened from it.
    #[serde(default)]
    #[schema(max_items = 32)]
    pub adjustments: Vec<RuleAdjustmentView>,
    #[serde(default)]
    #[schema(max_items = 16)]
    pub notices: Vec<PlanNoticeView>,
    /// What an incident opened from it links by area.
    #[serde(default)]
    #[schema(max_items = 32, value_type = Vec<LinkClassDoc>)]
    pub link_classes: Vec<String>,
}

impl From<&ContingencyPlan> for PlanView {
    fn from(p: &ContingencyPlan) -> PlanView {
        PlanView {
            id: p.id.clone(),
            name: p.name.clone(),
            hazard: p.hazard,
            from_level: p.from_level,
            kind: p.kind,
            severity: p.severity,
            tasks: p
                .tasks
                .iter()
                .map(|t| PlanTaskView {
                    unit_kind: t.unit_kind,
                    title: t.title.clone(),
                    hours: t.hours,
                })
                .collect(),
            resources: p
                .resources
                .iter()
                .map(|r| PlanResourceView {
                    kind: r.kind,
                    name: r.name.clone(),
                    quantity: r.quantity,
                })
                .collect(),
            adjustments: p.adjustments.iter().map(RuleAdjustmentView::from).collect(),
            notices: p
                .notices
                .iter()
                .map(|n| PlanNoticeView {
                    unit_kind: n.unit_kind,
                    text: n.text.clone(),
                })
                .collect(),
            link_classes: p.link_classes.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanView>,
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "emergencies",
    responses((status = 200, body = PlanList)))]
pub async fn list_plans(
    State(state): State<AppState>,
    CurrentUser(_actor): CurrentUser,
) -> ApiResult<Json<PlanList>> {
    Ok(Json(PlanList {
        items: all_plans(&state)
            .await?
            .iter()
            .map(PlanView::from)
            .collect(),
    }))
}

/// Write a contingency plan (the city's leaders and administrators).
#[utoipa::path(put, path = "/api/v1/plans/{id}", tag = "emergencies",
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9._-]{1,64}$")), request_body = PlanView,
    responses((status = 200, body = PlanView), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_plan(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<PlanView>,
) -> ApiResult<Json<PlanView>> {
    if !matches!(actor.role, Role::CenterLeader | Role::Admin)
        || actor.scope.level() != cityops_domain::AreaLevel::City
    {
        return Err(ApiError::new(
            ErrorCode::RoleNotAllowed,
            "the city's leaders and administrators write contingency plans",
        ));
    }
    if request.id != id {
        return Err(
            ApiError::new(ErrorCode::InconsistentFields, "the body's id is the path's")
                .with_field("id"),
        );
    }
    let adjustments = known_adjustments(&state, "adjustments", request.adjustments).await?;
    let plan = ContingencyPlan {
        id: request.id,
        name: request.name,
        hazard: request.hazard,
        from_level: request.from_level,
        kind: request.kind,
        severity: request.severity,
        tasks: request
            .tasks
            .into_iter()
            .map(|t| cityops_domain::emergency::PlanTask {
                unit_kind: t.unit_kind,
                title: t.title,
                hours: t.hours,
            })
            .collect(),
        resources: request
            .resources
            .into_iter()
            .map(|r| cityops_domain::emergency::PlanResource {
                kind: r.kind,
                name: r.name,
                quantity: r.quantity,
            })
            .collect(),
        adjustments,
        notices: request
            .notices
            .into_iter()
            .map(|n| cityops_domain::emergency::PlanNotice {
                unit_kind: n.unit_kind,
                text: n.text,
            })
            .collect(),
        link_classes: request.link_classes,
    };
    plan.validate()?;
    state.store.put_plan(&plan).await?;
    Ok(Json(PlanView::from(&plan)))
}

// ---------------------------------------------------------------------------------------
// Task photos

/// A photo of a task's report.
#[derive(Serialize, ToSchema)]
pub struct TaskPhotoView {
    pub id: String,
    pub task: u32,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<&cityops_store::IncidentPhoto> for TaskPhotoView {
    fn from(p: &cityops_store::IncidentPhoto) -> TaskPhotoView {
        TaskPhotoView {
            id: p.id.clone(),
            task: p.task,
            file_name: p.file_name.clone(),
            content_type: p.content_type.clone(),
            size: p.size,
            sha256: p.sha256.clone(),
            uploaded_at: p.uploaded_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskPhotoQuery {
    /// The file's name as the phone had it: a plain name of at most 200 characters.
    #[param(pattern = r"^[^/\\\x00]{0,200}$")]
    file_name: Option<String>,
}

/// Upload a photo (JPEG, PNG or WebP; at most 10 MiB, 10,000 pixels a side) for a task's
/// report: the task's unit's handlers, or the center's staff, while the task is open. Send
/// the raw bytes as the body. The image is decoded whole, turned upright and re-encoded
/// without EXIF. Name the returned id in `finish_task`'s `photos`. The same image sent again
/// for the same task answers the photo already kept, with 200.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks/{task}/photos", tag = "emergencies",
    params(("id" = String, Path), ("task" = u32, Path, minimum = 1), TaskPhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = TaskPhotoView), (status = 200, description = "this image was uploaded already", body = TaskPhotoView),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_task_photo(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, task)): Path<(String, String)>,
    query: Result<Query<TaskPhotoQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<TaskPhotoView>)> {
    use sha2::{Digest, Sha256};
    // Parsed here, so that a task that is no number is answered in JSON like any other.
    let task: u32 = task.parse().map_err(|_| ApiError::not_found("the task"))?;
    let Query(query) = query.map_err(|e| {
        ApiError::new(ErrorCode::InvalidQuery, e.body_text()).with_field("file_name")
    })?;
    let body = crate::extract::upload_body(body)?;
    let incident = visible_incident(&state, &actor, &id).await?;
    let Some(t) = incident.tasks.iter().find(|t| t.id == task) else {
        return Err(ApiError::not_found("the task"));
    };
    let own = actor.unit.as_deref() == Some(t.unit.as_str());
    if !(own || (incident.sees_all(&actor) && actor.role != Role::UnitHandler)) {
        return Err(ApiError::new(
            ErrorCode::RoleNotAllowed,
            format!("task {task} is not your unit's"),
        ));
    }
    let file_name = query.file_name.unwrap_or_else(|| "photo".into());
    if file_name.chars().count() > 200 || file_name.contains(['/', '\\', '\0']) {
        return Err(ApiError::invalid(
            "file_name",
            "file_name must be a plain name of at most 200 characters",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::invalid("body", "the photo is empty"));
    }
    let clean = crate::photo::clean_upload(body.to_vec()).await?;
    let sha256 = hex::encode(Sha256::digest(&clean.bytes));
    let kept = state.store.incident_photos(&id).await?;
    if let Some(photo) = kept.iter().find(|p| p.task == task && p.sha256 == sha256) {
        return Ok((StatusCode::OK, Json(TaskPhotoView::from(photo))));
    }
    if incident.state != cityops_domain::emergency::IncidentState::Active || !t.state.is_open() {
        return Err(ApiError::new(
            ErrorCode::TransitionNotAllowed,
            format!("task {task} is {}: its report is closed", t.state.as_str()),
        ));
    }
    if kept.iter().filter(|p| p.task == task).count()
        >= 3 * cityops_domain::emergency::incident::MAX_PHOTOS
    {
        return Err(ApiError::new(
            ErrorCode::InconsistentFields,
            format!(
                "a task keeps at most {} photos",
                3 * cityops_domain::emergency::incident::MAX_PHOTOS
            ),
        )
        .with_field("body"));
    }
    let photo_id = new_id();
    let path = format!("incident-photos/{}/{}", &sha256[..2], photo_id);
    let file = state.config.data_dir.join(&path);
    crate::routes::cases::write_durably(&file, &clean.bytes)
        .await
        .map_err(ApiError::internal)?;
    let photo = cityops_store::IncidentPhoto {
        id: photo_id,
        incident_id: incident.id.clone(),
        task,
        file_name,
        content_type: clean.content_type.to_owned(),
        size: clean.bytes.len() as i64,
        sha256,
        path,
        uploaded_by: actor.user_id.clone(),
        uploaded_at: now(),
    };
    if let Err(error) = state.store.add_incident_photo(&photo).await {
        if !matches!(error, cityops_store::StoreError::OutcomeUnknown(_)) {
            let _ = tokio::fs::remove_file(&file).await;
        }
        return Err(error.into());
    }
    Ok((StatusCode::CREATED, Json(TaskPhotoView::from(&photo))))
}

/// A task's photo, for those who see the task: the center's staff over the incident, and the
/// task's own unit.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/photos/{photo}", tag = "emergencies",
    params(("id" = String, Path), ("photo" = String, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn task_photo(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let incident = visible_incident(&state, &actor, &id).await?;
    let seen = incident.seen_by(&actor);
    let photo = state
        .store
        .incident_photos(&id)
        .await?
        .into_iter()
        .find(|p| p.id == photo && seen.tasks.iter().any(|t| t.id == p.task))
        .ok_or_else(|| ApiError::not_found("the photo"))?;
    let bytes = tokio::fs::read(state.config.data_dir.join(&photo.path))
        .await
        .map_err(ApiError::internal)?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = photo.content_type.parse() {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    if let Ok(value) = format!("\"{}\"", photo.sha256).parse() {
        headers.insert(axum::http::header::ETAG, value);
    }
    Ok((headers, bytes).into_response())
}

// ---------------------------------------------------------------------------------------
// Links

/// An alarm or case an incident holds.
#[derive(Serialize, ToSchema)]
pub struct LinkView {
    pub kind: wire::LinkKind,
    pub target: String,
    pub at: DateTime<Utc>,
    /// Linked by the incident's areas while it was active, not by hand.
    pub auto: bool,
    /// What it is: an alarm's rule and device, a case's number and class.
    pub title: String,
    /// An alarm's state (`active`, `acknowledged`, `cleared`...) or a case's.
    pub state: String,
    /// An alarm's warning level; none for a case.
    pub level: Option<wire::WarningLevel>,
    pub location: Option<LinkLocation>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkLocation {
    pub lon: f64,
    pub lat: f64,
}

#[derive(Serialize, ToSchema)]
pub struct LinkList {
    /// The latest `limit` links, oldest first.
    pub items: Vec<LinkView>,
    /// How many links the incident holds in all.
    pub total: usize,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LinksQuery {
    /// The most links returned, the latest (default 1,000; at most 10,000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
}

/// The alarms and cases the incident holds: those raised or reported in its areas while it
/// was active, and those linked by hand, less those unlinked by hand. The center's staff over
/// its areas read them.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/links", tag = "emergencies",
    params(("id" = String, Path), LinksQuery),
    responses((status = 200, body = LinkList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn incident_links(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    QueryArgs(query): QueryArgs<LinksQuery>,
) -> ApiResult<Json<LinkList>> {
    let incident = visible_incident(&state, &actor, &id).await?;
    if !incident.sees_all(&actor) {
        return Err(ApiError::not_found("the incident's links"));
    }
    let mut links = state.store.links(&id).await?;
    let total = links.len();
    // The latest ones: a storm links tens of thousands of alarms; the map shows the newest.
    let limit = query.limit.unwrap_or(1000).clamp(1, 10_000) as usize;
    links.drain(..total.saturating_sub(limit));
    let items = described_links(&state, links).await?;
    Ok(Json(LinkList { items, total }))
}

/// Links with what they point at: an alarm's rule, device, level and state, a case's number,
/// class and state, and where each is. Links to what no longer exists are left out.
pub(crate) async fn described_links(
    state: &AppState,
    links: Vec<cityops_store::IncidentLink>,
) -> ApiResult<Vec<LinkView>> {
    let alarm_ids: Vec<String> = links
        .iter()
        .filter(|l| l.kind == LinkKind::Alarm.as_str())
        .map(|l| l.target.clone())
        .collect();
    let alarms: std::collections::HashMap<String, cityops_domain::telemetry::Alarm> = state
        .store
        .alarms_by_id(&alarm_ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut items = Vec::with_capacity(links.len());
    for link in links {
        let Some(kind) = LinkKind::parse(&link.kind) else {
            continue;
        };
        let (title, link_state, level, location) = match kind {
            LinkKind::Alarm => match alarms.get(&link.target) {
                Some(a) => (
                    format!("{} · {}", a.rule_name, a.device_id),
                    if a.active && a.acknowledged {
                        "acknowledged"
                    } else if a.active {
                        "active"
                    } else {
                        "cleared"
                    }
                    .to_owned(),
                    Some(Wire(a.level)),
                    Some(LinkLocation {
                        lon: a.location.lon,
                        lat: a.location.lat,
                    }),
                ),
                None => continue,
            },
            LinkKind::Case => match state.store.case(&link.target).await? {
                Some(c) => (
                    match &c.category {
                        Some(class) => format!("{} · {}", c.number.0, class.zh),
                        None => c.number.0.clone(),
                    },
                    c.state.as_str().to_owned(),
                    None,
                    Some(LinkLocation {
                        lon: c.location.lon,
                        lat: c.location.lat,
                    }),
                ),
                None => continue,
            },
        };
        items.push(LinkView {
            kind: Wire(kind),
            target: link.target,
            at: link.at,
            auto: link.auto,
            title,
            state: link_state,
            level,
            location,
        });
    }
    Ok(items)
}

/// Links, while an incident is active, each alarm raised and each case reported in its areas
/// (自动关联). What arrives together is written together, in one transaction: a storm raises
/// thousands of alarms a second. The active incidents are read again every few seconds and
/// after each change this node makes to one. Whatever the live path may have missed (this
/// subscriber lagged behind the events, the node restarted, an incident just opened) is
/// caught up from the tables by area.
pub(crate) fn spawn_linker(state: AppState) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    /// The most events written in one transaction.
    const BATCH: usize = 5000;
    /// What may be linked: its kind and id, its class (an alarm's indicator, a case's class or
    /// the reporter's hint), where and when.
    type Target = (LinkKind, String, Option<String>, AreaCode, DateTime<Utc>);
    fn case_target(change: &crate::CaseChange) -> Option<Target> {
        (change.action == cityops_domain::CommandKind::Report).then(|| {
            let case = &change.case;
            let class = case
                .category
                .as_ref()
                .map(|c| c.code.to_string())
                .or_else(|| case.category_hint.as_ref().map(|c| c.to_string()));
            (
                LinkKind::Case,
                case.id.clone(),
                class,
                case.area.clone(),
                change.at,
            )
        })
    }
    fn alarm_target(event: &cityops_telemetry::TelemetryEvent) -> Option<Target> {
        use cityops_domain::telemetry::AlarmEventKind;
        match event {
            cityops_telemetry::TelemetryEvent::Alarm(
                alarm,
                cityops_telemetry::AlarmChange::Engine(
                    AlarmEventKind::Raised | AlarmEventKind::Reopened,
                ),
            ) => Some((
                LinkKind::Alarm,
                alarm.id.clone(),
                Some(alarm.indicator.clone()),
                alarm.area.clone(),
                alarm.last_at,
            )),
            _ => None,
        }
    }
    tokio::spawn(async move {
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let mut cases = state.changes.subscribe();
        let (_keep, no_alarms) = tokio::sync::broadcast::channel(1);
        let mut alarms = match &state.telemetry {
            Some(t) => t.subscribe(),
            None => no_alarms,
        };
        let mut changes = state.emergencies.subscribe();
        let mut refresh = tokio::time::interval(std::time::Duration::from_secs(5));
        let mut active: Option<Vec<Incident>> = None;
        // From the start: what was raised while this node was not listening.
        let mut catch_up = true;
        let mut batch: Vec<Target> = Vec::new();
        // What this linker has written per incident: an alarm reopened again and again in a
        // storm is linked once, without a write each time (a link is never deleted, so what
        // was written stays written).
        let mut written: std::collections::HashMap<String, std::collections::HashSet<String>> =
            std::collections::HashMap::new();
        loop {
            let mut reload = false;
            tokio::select! {
                _ = &mut stopped => return,
                _ = refresh.tick() => reload = true,
                change = changes.recv() => match change {
                    Ok(EmergencyChange::Incident(_, action)) => {
                        reload = true;
                        catch_up |= action == "open";
                    }
                    Ok(EmergencyChange::Warning(..)) => {}
                    Err(RecvError::Lagged(_)) => {
                        reload = true;
                        catch_up = true;
                    }
                    Err(RecvError::Closed) => return,
                },
                change = cases.recv() => match change {
                    Ok(change) => batch.extend(case_target(&change)),
                    Err(RecvError::Lagged(_)) => catch_up = true,
                    Err(RecvError::Closed) => return,
                },
                event = alarms.recv() => match event {
                    Ok(event) => batch.extend(alarm_target(&event)),
                    Err(RecvError::Lagged(_)) => catch_up = true,
                    Err(RecvError::Closed) => return,
                },
            }
            while batch.len() < BATCH {
                match alarms.try_recv() {
                    Ok(event) => batch.extend(alarm_target(&event)),
                    Err(TryRecvError::Lagged(_)) => catch_up = true,
                    Err(_) => break,
                }
            }
            while batch.len() < BATCH {
                match cases.try_recv() {
                    Ok(change) => batch.extend(case_target(&change)),
                    Err(TryRecvError::Lagged(_)) => catch_up = true,
                    Err(_) => break,
                }
            }
            if reload {
                match state.store.incidents(true, now(), 500).await {
                    Ok(now_active) => {
                        written.retain(|id, _| now_active.iter().any(|i| &i.id == id));
                        active = Some(now_active);
                    }
                    Err(e) => tracing::warn!(error = %e, "The active incidents could not be read."),
                }
            }
            let Some(active) = &active else {
                batch.clear();
                continue;
            };
            let mut links: Vec<(String, &'static str, String, DateTime<Utc>)> = batch
                .drain(..)
                .flat_map(|(kind, id, class, area, at)| {
                    active
                        .iter()
                        .filter(move |i| i.links(&area, class.as_deref(), at))
                        .map(move |i| (i.id.clone(), kind.as_str(), id.clone(), at))
                })
                .collect();
            links.retain(|(incident, kind, target, _)| {
                !written
                    .get(incident)
                    .is_some_and(|w| w.contains(&format!("{kind}:{target}")))
            });
            match state.store.link_automatically(&links).await {
                Ok(_) => {
                    for (incident, kind, target, _) in links {
                        written
                            .entry(incident)
                            .or_default()
                            .insert(format!("{kind}:{target}"));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, links = links.len(), "Automatic links could not be written; caught up later.");
                    catch_up = true;
                }
            }
            if catch_up {
                catch_up = false;
                for incident in active {
                    if let Err(e) = catch_up_links(&state, incident).await {
                        tracing::warn!(error = %e.message, incident = %incident.id, "The incident's links could not be caught up.");
                        catch_up = true;
                    }
                }
            }
        }
    });
}

/// Links what was raised and reported in the incident's areas since it opened and belongs to
/// it, read from the tables.
async fn catch_up_links(state: &AppState, incident: &Incident) -> ApiResult<()> {
    let areas: Vec<String> = incident
        .areas
        .iter()
        .map(|a| a.subtree_prefix().to_owned())
        .collect();
    let links: Vec<(String, &'static str, String, DateTime<Utc>)> = state
        .store
        .raised_since(&areas, incident.opened_at)
        .await?
        .into_iter()
        .filter(|r| {
            AreaCode::parse(&r.area)
                .is_ok_and(|area| incident.links(&area, r.class.as_deref(), r.at))
        })
        .map(|r| (incident.id.clone(), r.kind, r.id, r.at))
        .collect();
    state.store.link_automatically(&links).await?;
    Ok(())
}

/// The after-action report (总结报告) as an XLSX workbook: the summary and the response
/// level, the whole timeline, the tasks with their reports, the resources, the linked alarms
/// and cases, and the figures with a chart. The center's staff over the incident's areas read
/// it, at any time (a draft while it is active).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/report.xlsx", tag = "emergencies",
    params(("id" = String, Path)),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn after_action_report(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let incident = visible_incident(&state, &actor, &id).await?;
    if !incident.sees_all(&actor) {
        return Err(ApiError::not_found("the incident's report"));
    }
    let events = state.store.incident_events(&id).await?;
    let links = described_links(&state, state.store.links(&id).await?).await?;
    let map = incident_map(&state, &incident, &links);
    crate::xlsx::after_action(&incident, &events, &links, map.as_deref(), now())
}

/// The report's map as a PNG: the incident's areas among the other streets of their
/// districts, the zone, the linked alarms and cases, and the resources placed; none without
/// the city's geography.
fn incident_map(state: &AppState, incident: &Incident, links: &[LinkView]) -> Option<Vec<u8>> {
    use crate::incident_map::{render, MapScene, Mark};
    let geography = state.geography()?;
    let mut marks: Vec<(f64, f64, Mark)> = links
        .iter()
        .filter_map(|l| {
            let at = l.location.as_ref()?;
            Some((
                at.lon,
                at.lat,
                match l.level {
                    Some(Wire(level)) => Mark::Alarm(level),
                    None => Mark::Case,
                },
            ))
        })
        .collect();
    for r in &incident.resources {
        if let Some(l) = r.location {
            marks.push((l.lon, l.lat, Mark::Resource));
        }
    }
    // A link only ever made by area leaves few marks; the worst alarms are drawn last, on top.
    marks.sort_by_key(|&(_, _, mark)| match mark {
        Mark::Alarm(level) => 10 - i32::from(level.number()),
        Mark::Case => 0,
        Mark::Resource => 1,
    });
    let districts: Vec<&str> = incident.areas.iter().map(|a| &a.as_str()[..6]).collect();
    let mut context = Vec::new();
    let mut affected = Vec::new();
    for street in &geography.streets {
        if incident
            .areas
            .iter()
            .any(|a| street.code.starts_with(a.as_str()))
        {
            affected.push(&street.shape);
        } else if districts.iter().any(|d| street.code.starts_with(d)) {
            context.push(&street.shape);
        }
    }
    // A community named on its own (its street is not).
    for community in &geography.communities {
        if incident.areas.iter().any(|a| a.as_str() == community.code) {
            affected.push(&community.shape);
        }
    }
    let scene = MapScene {
        context,
        affected,
        zone: incident.zone.as_ref().map(|z| z.ring()),
        marks,
    };
    render(&scene, 960, 720)
}
