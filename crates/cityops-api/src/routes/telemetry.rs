//! Digital vital signs over HTTP: devices, indicators, telemetry rules, readings, alarms,
//! dead letters and the live aggregates.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use cityops_domain::telemetry::{
    devices_csv, indicators_csv, parse_indicators_csv, Alarm, Device, DeviceStatus, Indicator,
    TelemetryRule, VitalSign, VitalSigns, DEVICE_CSV_COLUMNS as DEVICE_COLUMNS,
};
use cityops_domain::{Actor, AreaCode, Location, Role};
use cityops_store::telemetry::{
    AlarmQuery, DeadLetter, DeviceQuery, Resolution, Rollup, StoredReading,
};
use cityops_telemetry::payload;
use cityops_telemetry::{TelemetryError, TelemetryHandle};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::views::LocationBody;
use crate::AppState;

pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/indicators", get(list_indicators).put(import_indicators))
        .route("/indicators.csv", get(export_indicators))
        .route(
            "/devices",
            get(list_devices)
                .post(register_device)
                .put(import_devices)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/devices.csv", get(export_devices))
        .route("/devices/{id}", get(get_device))
        .route("/devices/{id}/readings", get(device_readings))
        .route(
            "/telemetry",
            post(ingest).layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route(
            "/telemetry/rules",
            get(list_telemetry_rules).post(create_rule),
        )
        .route(
            "/telemetry/rules/{id}",
            get(get_rule).put(replace_rule).delete(delete_rule),
        )
        .route("/telemetry/dead-letters", get(dead_letters))
        .route("/alarms", get(list_alarms))
        .route("/alarms/{id}", get(get_alarm))
        .route("/alarms/{id}/acknowledge", post(acknowledge))
        .route("/vital-signs", get(vital_signs))
        .route("/vital-signs/history", get(history))
}

fn pipeline(state: &AppState) -> ApiResult<&TelemetryHandle> {
    state.telemetry.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::TelemetryUnavailable,
            "the telemetry pipeline is not running on this node",
        )
    })
}

impl From<TelemetryError> for ApiError {
    fn from(e: TelemetryError) -> ApiError {
        match e {
            TelemetryError::NoSuchAlarm => ApiError::not_found("the alarm"),
            TelemetryError::Alarm(e) => ApiError::new(ErrorCode::AlarmState, e.to_string()),
            TelemetryError::Stopped => {
                ApiError::new(ErrorCode::TelemetryUnavailable, e.to_string())
            }
            TelemetryError::Store(e) => ApiError::internal(e),
        }
    }
}

/// Integrators and admins change devices, indicators and rules.
fn require_integrator(actor: &Actor, what: &str) -> ApiResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("only an admin may change {what}"),
        ))
    }
}

// ---- indicators ----

/// The indicator catalogue: metric keys, units, names, normal ranges, problem categories.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "vital signs",
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn list_indicators(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<Indicator>>> {
    Ok(Json(state.store.indicators().await?))
}

/// The indicator catalogue as CSV (UTF-8 with BOM, for Excel).
#[utoipa::path(get, path = "/api/v1/indicators.csv", tag = "vital signs",
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_indicators(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<impl IntoResponse> {
    let text = format!(
        "\u{feff}{}",
        indicators_csv(&state.store.indicators().await?)
    );
    Ok(csv_response(text, "indicators.csv"))
}

/// Add or change indicators from CSV (admin): every indicator in the file is stored; those
/// not in the file stay. All or nothing: a bad line refuses the file, naming it.
#[utoipa::path(put, path = "/api/v1/indicators", tag = "vital signs",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Vec<serde_json::Value>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_indicators(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Vec<Indicator>>> {
    require_integrator(&actor, "the indicator catalogue")?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid("file", "the CSV must be UTF-8"))?;
    let incoming = parse_indicators_csv(text)?;
    let catalog = state.store.catalog().await?;
    for (i, indicator) in incoming.iter().enumerate() {
        if catalog
            .as_ref()
            .is_some_and(|c| c.get(&indicator.category).is_none())
        {
            return Err(ApiError::invalid(
                format!("line {}: category", i + 2),
                format!(
                    "{} is not in the category catalogue",
                    indicator.category.as_str()
                ),
            ));
        }
    }
    let _guard = state.catalog_lock.lock().await;
    let mut indicators = state.store.indicators().await?;
    for indicator in incoming {
        match indicators.iter_mut().find(|i| i.key == indicator.key) {
            Some(existing) => *existing = indicator,
            None => indicators.push(indicator),
        }
    }
    state.store.put_indicators(&indicators).await?;
    pipeline(&state)?
        .indicators_changed(indicators.clone())
        .await?;
    Ok(Json(indicators))
}

fn csv_response(text: String, name: &str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
}

// ---- devices ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    #[schema(example = "HP-WL-0001")]
    pub id: String,
    /// Device type, e.g. `water_level_gauge`.
    #[schema(example = "water_level_gauge")]
    pub kind: String,
    #[schema(example = "外滩陈毅广场积水监测点")]
    pub name: String,
    pub location: LocationBody,
    /// wgs84 (default), gcj02 or bd09.
    pub crs: Option<String>,
    /// When absent, the community is found from the location.
    pub area: Option<String>,
    pub component_id: Option<String>,
    pub owner_unit: Option<String>,
    /// active (default), maintenance or retired.
    pub status: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeviceListQuery {
    kind: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// The last id of the previous page.
    after: Option<String>,
}

/// Devices within the caller's jurisdiction, by id.
#[utoipa::path(get, path = "/api/v1/devices", tag = "vital signs", params(DeviceListQuery),
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<DeviceListQuery>,
) -> ApiResult<Json<Vec<Device>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 1000"));
    }
    let query = DeviceQuery {
        scope: actor.scope.clone(),
        kind: q.kind,
        limit,
        after: q.after,
    };
    Ok(Json(state.store.devices(&query).await?))
}

/// One device (404 outside the caller's jurisdiction, as for a missing one).
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "vital signs",
    responses((status = 200, body = serde_json::Value), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Device>> {
    Ok(Json(visible_device(&state, &actor, &id).await?))
}

async fn visible_device(state: &AppState, actor: &Actor, id: &str) -> ApiResult<Device> {
    match state.store.device(id).await? {
        Some(device) if actor.can_see(&device.area) => Ok(device),
        _ => Err(ApiError::not_found("the device")),
    }
}

/// Locates a device and checks what it refers to.
async fn device_from(state: &AppState, r: DeviceRequest, field: &str) -> ApiResult<Device> {
    let at = |f: &str| {
        if field.is_empty() {
            f.to_owned()
        } else {
            format!("{field}{f}")
        }
    };
    let location = r
        .location
        .to_wgs84(r.crs.as_deref())
        .map_err(|e| e.with_field(at("location")))?;
    let geography = state.geography();
    let grid = geography
        .as_ref()
        .and_then(|g| g.locate(location.lon, location.lat));
    let area = match (&r.area, grid) {
        (Some(area), _) => {
            let area =
                AreaCode::parse(area).map_err(|e| ApiError::invalid(at("area"), e.reason))?;
            if state.store.area(&area).await?.is_none() {
                return Err(ApiError::invalid(
                    at("area"),
                    format!("{area} is not a known area"),
                ));
            }
            area
        }
        (None, Some(grid)) => AreaCode::parse(&grid.community)?,
        (None, None) => {
            return Err(ApiError::invalid(
                at("location"),
                "the location is outside the city's unit grids; give the area",
            ))
        }
    };
    let unit_grid = grid
        .filter(|g| g.code.starts_with(area.subtree_prefix()))
        .map(|g| g.code.clone());
    let status = match r.status.as_deref() {
        None | Some("") => DeviceStatus::Active,
        Some(s) => DeviceStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(at("status"), "status is active, maintenance or retired")
        })?,
    };
    if let Some(unit) = r.owner_unit.as_deref().filter(|u| !u.is_empty()) {
        if state.store.unit(unit).await?.is_none() {
            return Err(ApiError::invalid(
                at("owner_unit"),
                format!("unit {unit} does not exist"),
            ));
        }
    }
    let device = Device {
        id: r.id,
        kind: r.kind,
        name: r.name.trim().to_owned(),
        location: Location::new(location.lon, location.lat)?,
        area,
        unit_grid,
        component_id: r.component_id.filter(|c| !c.is_empty()),
        owner_unit: r.owner_unit.filter(|u| !u.is_empty()),
        status,
    };
    device
        .validate()
        .map_err(|e| ApiError::invalid(at(&e.field), e.reason))?;
    Ok(device)
}

/// Register a device or change one (admin); the location is resolved to community and unit grid.
#[utoipa::path(post, path = "/api/v1/devices", tag = "vital signs", request_body = DeviceRequest,
    responses((status = 201, body = serde_json::Value), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(request): JsonBody<DeviceRequest>,
) -> ApiResult<(StatusCode, Json<Device>)> {
    require_integrator(&actor, "devices")?;
    let device = device_from(&state, request, "").await?;
    if !actor.can_see(&device.area) {
        return Err(ApiError::invalid(
            "location",
            "the device lies outside your jurisdiction",
        ));
    }
    state
        .store
        .put_devices(std::slice::from_ref(&device))
        .await?;
    pipeline(&state)?
        .devices_changed(vec![device.clone()])
        .await?;
    Ok((StatusCode::CREATED, Json(device)))
}

/// Import devices from CSV (admin): `id,kind,name,lon,lat,area,unit_grid,component_id,owner_unit,status`
/// (WGS-84; `area` and `unit_grid` may be empty and are then found from the location). All or
/// nothing: a bad line refuses the file, naming the line and column.
#[utoipa::path(put, path = "/api/v1/devices", tag = "vital signs",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "{\"imported\": n}"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    require_integrator(&actor, "devices")?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid("file", "the CSV must be UTF-8"))?;
    let mut reader = cityops_domain::csv_file::with_header(text, &DEVICE_COLUMNS)?;
    let mut devices = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let line = format!("line {}: ", n + 2);
        let record =
            record.map_err(|e| ApiError::invalid(line.trim_end_matches(": "), e.to_string()))?;
        let number = |i: usize| -> ApiResult<f64> {
            record[i].parse::<f64>().map_err(|_| {
                ApiError::invalid(
                    format!("{line}{}", DEVICE_COLUMNS[i]),
                    format!("'{}' is not a number", &record[i]),
                )
            })
        };
        let optional = |i: usize| Some(record[i].to_owned()).filter(|s| !s.is_empty());
        let request = DeviceRequest {
            id: record[0].to_owned(),
            kind: record[1].to_owned(),
            name: record[2].to_owned(),
            location: LocationBody {
                lon: number(3)?,
                lat: number(4)?,
            },
            crs: None,
            area: optional(5),
            component_id: optional(7),
            owner_unit: optional(8),
            status: optional(9),
        };
        let device = device_from(&state, request, &line).await?;
        if !actor.can_see(&device.area) {
            return Err(ApiError::invalid(
                format!("{line}lon"),
                "the device lies outside your jurisdiction",
            ));
        }
        if !seen.insert(device.id.clone()) {
            return Err(ApiError::invalid(
                format!("{line}id"),
                format!("{} appears twice", device.id),
            ));
        }
        devices.push(device);
    }
    state.store.put_devices(&devices).await?;
    let imported = devices.len();
    pipeline(&state)?.devices_changed(devices).await?;
    Ok(Json(serde_json::json!({ "imported": imported })))
}

/// Devices within the caller's jurisdiction as CSV (the import format).
#[utoipa::path(get, path = "/api/v1/devices.csv", tag = "vital signs",
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    let mut devices = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .devices(&DeviceQuery {
                scope: actor.scope.clone(),
                kind: None,
                limit: 1000,
                after: after.clone(),
            })
            .await?;
        let full = page.len() == 1000;
        after = page.last().map(|d| d.id.clone());
        devices.extend(page);
        if !full {
            break;
        }
    }
    let text = format!("\u{feff}{}", devices_csv(&devices));
    Ok(csv_response(text, "devices.csv"))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadingsQuery {
    indicator: String,
    /// RFC 3339; default an hour before `to`.
    from: Option<DateTime<Utc>>,
    /// RFC 3339; default now.
    to: Option<DateTime<Utc>>,
    /// 1 to 10,000 (default 1,000): the newest readings of the window.
    limit: Option<u32>,
}

/// Raw readings of one device (kept for the configured window), oldest first.
#[utoipa::path(get, path = "/api/v1/devices/{id}/readings", tag = "vital signs", params(ReadingsQuery),
    responses((status = 200, body = Vec<serde_json::Value>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn device_readings(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    QueryArgs(q): QueryArgs<ReadingsQuery>,
) -> ApiResult<Json<Vec<StoredReading>>> {
    let device = visible_device(&state, &actor, &id).await?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 10,000"));
    }
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::hours(1));
    if from >= to {
        return Err(ApiError::invalid("from", "from must be before to"));
    }
    Ok(Json(
        state
            .store
            .readings(&device.id, &q.indicator, from, to, limit)
            .await?,
    ))
}

// ---- ingestion ----

#[derive(Serialize, ToSchema)]
pub struct RejectionView {
    /// Position of the reading in the payload (line for NDJSON).
    pub index: Option<usize>,
    /// malformed, unknown_device, unknown_indicator, timestamp_out_of_range, retired_device
    pub reason: String,
    pub field: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct IngestView {
    pub accepted: usize,
    pub duplicates: usize,
    pub late: usize,
    pub rejected: Vec<RejectionView>,
}

/// Ingest readings: a JSON array (or one object), or NDJSON with
/// `Content-Type: application/x-ndjson`. Each reading is
/// `{"device", "metric", "value", "ts"}` or `{"device", "ts", "values": {metric: value}}`;
/// `ts` is RFC 3339 or Unix ms. Answered once the accepted readings are durable. Good
/// readings are kept even when others in the batch are refused; each refusal is listed, counted
/// in /metrics and kept as a dead letter. A body that is not JSON at all answers 422.
#[utoipa::path(post, path = "/api/v1/telemetry", tag = "vital signs",
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = IngestView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn ingest(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<IngestView>> {
    require_integrator(&actor, "telemetry")?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (readings, rejections) = if content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/jsonl")
    {
        payload::parse_ndjson(&body)
    } else if content_type.starts_with("application/json") {
        payload::parse_json(&body, None)
    } else {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send application/json or application/x-ndjson",
        ));
    };
    let whole_body_bad = readings.is_empty() && rejections.iter().any(|r| r.index.is_none());
    let report = pipeline(&state)?
        .ingest("http", &body, readings, rejections)
        .await?;
    if whole_body_bad {
        let first = &report.rejected[0];
        return Err(ApiError::invalid(
            first.field.clone(),
            first.message.clone(),
        ));
    }
    Ok(Json(IngestView {
        accepted: report.accepted,
        duplicates: report.duplicates,
        late: report.late,
        rejected: report
            .rejected
            .into_iter()
            .map(|r| RejectionView {
                index: r.index,
                reason: r.reason.as_str().into(),
                field: r.field,
                message: r.message,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    reason: Option<String>,
    /// 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Payloads ingestion refused, newest first (the last 10,000 are kept).
#[utoipa::path(get, path = "/api/v1/telemetry/dead-letters", tag = "vital signs", params(DeadLetterQuery),
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<DeadLetterQuery>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    require_integrator(&actor, "or read dead letters of")?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 1000"));
    }
    if let Some(reason) = &q.reason {
        if !payload::Reason::ALL.iter().any(|r| r.as_str() == reason) {
            return Err(ApiError::invalid("reason", "malformed, unknown_device, unknown_indicator, timestamp_out_of_range or retired_device"));
        }
    }
    Ok(Json(
        state.store.dead_letters(q.reason.as_deref(), limit).await?,
    ))
}

// ---- rules ----

/// The telemetry rules.
#[utoipa::path(get, path = "/api/v1/telemetry/rules", tag = "vital signs",
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn list_telemetry_rules(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<TelemetryRule>>> {
    Ok(Json(state.store.telemetry_rules().await?))
}

#[utoipa::path(get, path = "/api/v1/telemetry/rules/{id}", tag = "vital signs",
    responses((status = 200, body = serde_json::Value), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_rule(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<TelemetryRule>> {
    let rules = state.store.telemetry_rules().await?;
    rules
        .into_iter()
        .find(|r| r.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("the rule"))
}

async fn save_rule(state: &AppState, rule: TelemetryRule) -> ApiResult<TelemetryRule> {
    let indicators = state.store.indicators().await?;
    rule.validate(|key| indicators.iter().any(|i| i.key == key))?;
    let _guard = state.catalog_lock.lock().await;
    state.store.put_telemetry_rule(&rule).await?;
    pipeline(state)?
        .rules_changed(state.store.telemetry_rules().await?)
        .await?;
    Ok(rule)
}

/// Create a rule (admin). Takes effect at once, without a restart. A rule that cannot run is
/// refused with the field and the reason. Example: `{"id": "flood-30cm-10min", "name": "积水超过30厘米持续10分钟",
/// "indicator": "water_level", "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 30, "clear": 25},
/// "duration_secs": 600, "level": "orange"}`.
#[utoipa::path(post, path = "/api/v1/telemetry/rules", tag = "vital signs",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 201, body = serde_json::Value), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(rule): JsonBody<TelemetryRule>,
) -> ApiResult<(StatusCode, Json<TelemetryRule>)> {
    require_integrator(&actor, "telemetry rules")?;
    if state
        .store
        .telemetry_rules()
        .await?
        .iter()
        .any(|r| r.id == rule.id)
    {
        return Err(ApiError::new(
            ErrorCode::Duplicate,
            format!(
                "rule {} exists; PUT /telemetry/rules/{} changes it",
                rule.id, rule.id
            ),
        )
        .with_field("id"));
    }
    Ok((StatusCode::CREATED, Json(save_rule(&state, rule).await?)))
}

/// Replace a rule (admin); its running state (durations, counts, alarms) carries over.
#[utoipa::path(put, path = "/api/v1/telemetry/rules/{id}", tag = "vital signs",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, body = serde_json::Value), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_rule(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(rule): JsonBody<TelemetryRule>,
) -> ApiResult<Json<TelemetryRule>> {
    require_integrator(&actor, "telemetry rules")?;
    if rule.id != id {
        return Err(ApiError::invalid(
            "id",
            "the body's id differs from the URL's",
        ));
    }
    Ok(Json(save_rule(&state, rule).await?))
}

#[utoipa::path(delete, path = "/api/v1/telemetry/rules/{id}", tag = "vital signs",
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_integrator(&actor, "telemetry rules")?;
    let _guard = state.catalog_lock.lock().await;
    if !state.store.delete_telemetry_rule(&id).await? {
        return Err(ApiError::not_found("the rule"));
    }
    pipeline(&state)?
        .rules_changed(state.store.telemetry_rules().await?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- alarms ----

#[derive(Serialize, ToSchema)]
pub struct AlarmView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub alarm: Alarm,
    /// active_unacknowledged, active_acknowledged, cleared_unacknowledged, cleared_acknowledged
    pub state: String,
    pub level_zh: String,
}

impl AlarmView {
    pub fn new(alarm: Alarm) -> AlarmView {
        AlarmView {
            state: alarm.state().as_str().into(),
            level_zh: alarm.level.zh().into(),
            alarm,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlarmListQuery {
    active: Option<bool>,
    acknowledged: Option<bool>,
    area: Option<String>,
    device: Option<String>,
    /// 1 to 500 (default 100).
    limit: Option<u32>,
}

/// Alarms within the caller's jurisdiction, newest first.
#[utoipa::path(get, path = "/api/v1/alarms", tag = "vital signs", params(AlarmListQuery),
    responses((status = 200, body = Vec<AlarmView>)))]
pub async fn list_alarms(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<AlarmListQuery>,
) -> ApiResult<Json<Vec<AlarmView>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 500"));
    }
    let area = q.area.as_deref().map(AreaCode::parse).transpose()?;
    let query = AlarmQuery {
        scope: actor.scope.clone(),
        area,
        active: q.active,
        acknowledged: q.acknowledged,
        device: q.device,
        limit,
    };
    Ok(Json(
        state
            .store
            .alarms(&query)
            .await?
            .into_iter()
            .map(AlarmView::new)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "vital signs",
    responses((status = 200, body = AlarmView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_alarm(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AlarmView>> {
    match state.store.alarm(&id).await? {
        Some(alarm) if actor.can_see(&alarm.area) => Ok(Json(AlarmView::new(alarm))),
        _ => Err(ApiError::not_found("the alarm")),
    }
}

/// Acknowledge an alarm: someone has seen it (once; 409 when already acknowledged).
#[utoipa::path(post, path = "/api/v1/alarms/{id}/acknowledge", tag = "vital signs",
    responses((status = 200, body = AlarmView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AlarmView>> {
    if !matches!(
        actor.role,
        Role::Operator | Role::ShiftLead | Role::Dispatcher | Role::CenterLeader | Role::Admin
    ) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "operators, shift leads, dispatchers, center leaders and admins acknowledge alarms",
        ));
    }
    match state.store.alarm(&id).await? {
        Some(alarm) if actor.can_see(&alarm.area) => {}
        _ => return Err(ApiError::not_found("the alarm")),
    }
    let alarm = pipeline(&state)?
        .acknowledge(&id, cityops_store::audit::current_actor())
        .await?;
    Ok(Json(AlarmView::new(alarm)))
}

// ---- vital signs ----

#[derive(Serialize, ToSchema)]
pub struct VitalSignsView {
    pub at: DateTime<Utc>,
    pub area: String,
    /// The area itself and its children (a district's streets, the city's districts).
    #[schema(value_type = Vec<Object>)]
    pub signs: Vec<VitalSign>,
    /// Active alarms per area: {area, blue, yellow, orange, red}.
    pub alarms: Vec<AlarmCount>,
}

#[derive(Serialize, ToSchema)]
pub struct AlarmCount {
    pub area: String,
    pub blue: u64,
    pub yellow: u64,
    pub orange: u64,
    pub red: u64,
}

/// The vital signs of an area and its children out of the live aggregates.
pub(crate) fn vitals_view(vitals: &VitalSigns, area: &AreaCode) -> VitalSignsView {
    let relevant = |code: &AreaCode| code == area || code.parent().as_ref() == Some(area);
    VitalSignsView {
        at: DateTime::from_timestamp_millis(vitals.at_ms).unwrap_or_else(Utc::now),
        area: area.to_string(),
        signs: vitals
            .signs
            .iter()
            .filter(|s| relevant(&s.area))
            .cloned()
            .collect(),
        alarms: vitals
            .alarms
            .iter()
            .filter(|(code, _)| relevant(code))
            .map(|(code, [blue, yellow, orange, red])| AlarmCount {
                area: code.to_string(),
                blue: *blue,
                yellow: *yellow,
                orange: *orange,
                red: *red,
            })
            .collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VitalSignsQuery {
    /// City, district or street; default the caller's jurisdiction.
    area: Option<String>,
}

/// Live aggregates (latest, mean, min, max, devices, abnormal) per indicator for an area and its
/// children, with active alarms by level. Pushed as `vital_signs` events on /stream.
#[utoipa::path(get, path = "/api/v1/vital-signs", tag = "vital signs", params(VitalSignsQuery),
    responses((status = 200, body = VitalSignsView)))]
pub async fn vital_signs(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<VitalSignsQuery>,
) -> ApiResult<Json<VitalSignsView>> {
    let area = scoped_area(&actor, q.area.as_deref())?;
    Ok(Json(vitals_view(&pipeline(&state)?.vital_signs(), &area)))
}

fn scoped_area(actor: &Actor, area: Option<&str>) -> ApiResult<AreaCode> {
    match area {
        None => Ok(actor.scope.clone()),
        Some(area) => {
            let area = AreaCode::parse(area)?;
            if actor.can_see(&area) {
                Ok(area)
            } else {
                Err(ApiError::not_found("the area"))
            }
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    indicator: String,
    area: Option<String>,
    /// minute (default) or hour.
    resolution: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// Downsampled history of one indicator over an area (city, district or street) for charts.
#[utoipa::path(get, path = "/api/v1/vital-signs/history", tag = "vital signs", params(HistoryQuery),
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<HistoryQuery>,
) -> ApiResult<Json<Vec<Rollup>>> {
    let area = scoped_area(&actor, q.area.as_deref())?;
    let resolution = match q.resolution.as_deref() {
        None => Resolution::Minute,
        Some(r) => {
            Resolution::parse(r).ok_or_else(|| ApiError::invalid("resolution", "minute or hour"))?
        }
    };
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(match resolution {
        Resolution::Minute => to - Duration::hours(2),
        Resolution::Hour => to - Duration::days(2),
    });
    if from >= to {
        return Err(ApiError::invalid("from", "from must be before to"));
    }
    if (to - from) > Duration::days(31) {
        return Err(ApiError::invalid("from", "at most 31 days at a time"));
    }
    Ok(Json(
        state
            .store
            .rollups(resolution, &area, &q.indicator, from, to)
            .await?,
    ))
}
