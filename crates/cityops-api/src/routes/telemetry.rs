//! Digital vital signs over HTTP: devices, indicators, telemetry rules, readings, alarms,
//! dead letters and the live aggregates.
//!
//! The views of this module publish the domain's and the store's telemetry records field by
//! field. Each is built by destructuring its record, so a field added to a record does not
//! compile until its view says how it is published; the tests check that each view writes
//! exactly the JSON the record itself serialises to, which is what clients have always read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use cityops_domain::telemetry::{
    indicators_csv, parse_indicators_csv, Alarm, Device, DeviceStatus, Indicator, TelemetryRule,
    VitalSign, VitalSigns, DEVICE_CSV_COLUMNS as DEVICE_COLUMNS,
};
use cityops_domain::{Actor, AreaCode, Location, Role};
use cityops_store::telemetry::{
    AlarmQuery, DeadLetter, DeviceQuery, Resolution, Rollup, StoredReading,
};
use cityops_telemetry::payload;
use cityops_telemetry::{Reason, TelemetryError, TelemetryHandle};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::views::LocationBody;
use crate::wire::{self, Wire};
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
        .route("/telemetry/rule-tests", post(test_rule))
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

/// What the city measures: a metric with its unit and normal range, and the category a
/// problem of it becomes.
#[derive(Serialize, ToSchema)]
pub struct IndicatorView {
    /// The metric key devices report under, e.g. `water_level`.
    pub key: String,
    /// Unit of measure, e.g. `cm`, `%LEL`, `µg/m³`.
    pub unit: String,
    pub name_zh: String,
    pub name_en: String,
    pub normal_min: Option<f64>,
    pub normal_max: Option<f64>,
    /// The small class a problem of this indicator is filed under.
    pub category: String,
    /// The sensors' measuring range: readings outside it go to the dead letters
    /// (`implausible_value`) and raise nothing.
    pub plausible_min: Option<f64>,
    pub plausible_max: Option<f64>,
}

impl From<Indicator> for IndicatorView {
    fn from(indicator: Indicator) -> IndicatorView {
        let Indicator {
            key,
            unit,
            name_zh,
            name_en,
            normal_min,
            normal_max,
            category,
            plausible_min,
            plausible_max,
        } = indicator;
        IndicatorView {
            key,
            unit,
            name_zh,
            name_en,
            normal_min,
            normal_max,
            category: category.to_string(),
            plausible_min,
            plausible_max,
        }
    }
}

fn views<T, V: From<T>>(records: Vec<T>) -> Vec<V> {
    records.into_iter().map(V::from).collect()
}

/// The indicator catalogue: metric keys, units, names, normal ranges, problem categories.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "vital signs",
    responses((status = 200, body = Vec<IndicatorView>)))]
pub async fn list_indicators(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<IndicatorView>>> {
    Ok(Json(views(state.store.indicators().await?)))
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
    responses((status = 200, body = Vec<IndicatorView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_indicators(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Vec<IndicatorView>>> {
    async {
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
        Ok(Json(views(indicators)))
    }
    .await
    .map_err(ApiError::in_file)
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
    #[schema(example = "HP-WL-0001", pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    /// Device type, e.g. `water_level_gauge`.
    #[schema(example = "water_level_gauge", pattern = r"^[a-z0-9_]{1,64}$")]
    pub kind: String,
    #[schema(example = "外滩陈毅广场积水监测点", pattern = r"\S", max_length = 100)]
    pub name: String,
    pub location: LocationBody,
    /// The coordinate system of `location`; wgs84 when absent.
    #[schema(value_type = Option<wire::Crs>)]
    pub crs: Option<String>,
    /// When absent, the community is found from the location.
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    pub area: Option<String>,
    #[schema(pattern = r"^\d{16}$")]
    pub component_id: Option<String>,
    pub owner_unit: Option<String>,
    /// `active` when absent.
    #[schema(value_type = Option<wire::DeviceStatus>)]
    pub status: Option<String>,
}

/// A sensor in the field, located on its unit grid.
#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    /// Device type, e.g. `water_level_gauge`.
    pub kind: String,
    pub name: String,
    /// WGS-84.
    pub location: LocationBody,
    /// The finest area the location lies in (normally the community).
    pub area: String,
    pub unit_grid: Option<String>,
    /// The 16-digit census id of the component it watches, if any.
    pub component_id: Option<String>,
    pub owner_unit: Option<String>,
    pub status: wire::DeviceStatus,
}

impl From<Device> for DeviceView {
    fn from(device: Device) -> DeviceView {
        let Device {
            id,
            kind,
            name,
            location,
            area,
            unit_grid,
            component_id,
            owner_unit,
            status,
        } = device;
        DeviceView {
            id,
            kind,
            name,
            location: LocationBody::from(location),
            area: area.to_string(),
            unit_grid,
            component_id,
            owner_unit,
            status: Wire(status),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeviceListQuery {
    kind: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The last id of the previous page.
    after: Option<String>,
}

/// Devices within the caller's jurisdiction, by id.
#[utoipa::path(get, path = "/api/v1/devices", tag = "vital signs", params(DeviceListQuery),
    responses((status = 200, body = Vec<DeviceView>)))]
pub async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<DeviceListQuery>,
) -> ApiResult<Json<Vec<DeviceView>>> {
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
    Ok(Json(views(state.store.devices(&query).await?)))
}

/// One device (404 outside the caller's jurisdiction, as for a missing one).
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "vital signs",
    responses((status = 200, body = DeviceView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<DeviceView>> {
    Ok(Json(visible_device(&state, &actor, &id).await?.into()))
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
                return Err(ApiError::rule(
                    ErrorCode::UnknownReference,
                    at("area"),
                    format!("{area} is not a known area"),
                ));
            }
            area
        }
        (None, Some(grid)) => AreaCode::parse(&grid.community)?,
        (None, None) => {
            return Err(ApiError::rule(
                ErrorCode::OutsideCity,
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
            return Err(ApiError::rule(
                ErrorCode::UnknownReference,
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
    responses((status = 201, body = DeviceView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(request): JsonBody<DeviceRequest>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
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
    Ok((StatusCode::CREATED, Json(device.into())))
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
    async {
        require_integrator(&actor, "devices")?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid("file", "the CSV must be UTF-8"))?;
        let mut reader = cityops_domain::csv_file::with_header(text, &DEVICE_COLUMNS)?;
        let mut devices = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (n, record) in reader.records().enumerate() {
            let line = format!("line {}: ", n + 2);
            let record = record
                .map(cityops_domain::csv_file::unescape)
                .map_err(|e| ApiError::invalid(line.trim_end_matches(": "), e.to_string()))?;
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
    .await
    .map_err(ApiError::in_file)
}

/// Devices within the caller's jurisdiction as CSV (the import format).
#[utoipa::path(get, path = "/api/v1/devices.csv", tag = "vital signs",
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    let pages = crate::export::DevicePages {
        store: state.store.clone(),
        query: DeviceQuery {
            scope: actor.scope.clone(),
            kind: None,
            limit: crate::export::PAGE,
            after: None,
        },
        done: false,
    };
    let body = crate::export::body(pages, crate::export::devices_csv()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"devices.csv\"".to_owned(),
            ),
        ],
        body,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadingsQuery {
    indicator: String,
    /// RFC 3339; default an hour before `to`.
    from: Option<DateTime<Utc>>,
    /// RFC 3339; default now.
    to: Option<DateTime<Utc>>,
    /// 1 to 10,000 (default 1,000): the newest readings of the window.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
}

/// A reading as stored.
#[derive(Serialize, ToSchema)]
pub struct ReadingView {
    pub device_id: String,
    /// The indicator's key.
    pub indicator: String,
    pub at: DateTime<Utc>,
    pub value: f64,
}

impl From<StoredReading> for ReadingView {
    fn from(reading: StoredReading) -> ReadingView {
        let StoredReading {
            device_id,
            indicator,
            at,
            value,
        } = reading;
        ReadingView {
            device_id,
            indicator,
            at,
            value,
        }
    }
}

/// Raw readings of one device (kept for the configured window), oldest first.
#[utoipa::path(get, path = "/api/v1/devices/{id}/readings", tag = "vital signs", params(ReadingsQuery),
    responses((status = 200, body = Vec<ReadingView>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn device_readings(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    QueryArgs(q): QueryArgs<ReadingsQuery>,
) -> ApiResult<Json<Vec<ReadingView>>> {
    let device = visible_device(&state, &actor, &id).await?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 10,000"));
    }
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::hours(1));
    if from >= to {
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "from",
            "from must be before to",
        ));
    }
    Ok(Json(views(
        state
            .store
            .readings(&device.id, &q.indicator, from, to, limit)
            .await?,
    )))
}

// ---- ingestion ----

#[derive(Serialize, ToSchema)]
pub struct RejectionView {
    /// Position of the reading in the payload (line for NDJSON).
    pub index: Option<usize>,
    pub reason: wire::ReadingRejection,
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

/// What `POST /telemetry` reads: one reading, refused whole with 422 when it is refused, or a
/// batch whose items are judged one by one (a refused item is listed in `rejected`, kept as a
/// dead letter, and the others are stored), so the batch's items are any objects here.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = TelemetryBody)]
#[serde(untagged)]
pub enum TelemetryBodyDoc {
    Metric(MetricReadingDoc),
    Values(ValuesReadingDoc),
    Batch(Vec<BatchItemDoc>),
}

/// An item of a batch: judged on its own (a refusal is listed in `rejected`), so any value
/// here.
pub struct BatchItemDoc;

impl utoipa::PartialSchema for BatchItemDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType};
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .into()
    }
}

impl ToSchema for BatchItemDoc {}

/// One value of one indicator.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct MetricReadingDoc {
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    device: String,
    /// An indicator key (`GET /indicators`).
    metric: String,
    value: f64,
    ts: TimestampDoc,
    #[schema(minimum = 0)]
    seq: Option<u64>,
}

/// Several indicators measured at one time.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct ValuesReadingDoc {
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    device: String,
    values: ValuesDoc,
    ts: TimestampDoc,
    #[schema(minimum = 0)]
    seq: Option<u64>,
}

/// Indicator key to value, at least one.
pub struct ValuesDoc;

impl utoipa::PartialSchema for ValuesDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Number))
                    .into(),
            )))
            .min_properties(Some(1))
            .into()
    }
}

impl ToSchema for ValuesDoc {}

/// RFC 3339 text or Unix milliseconds.
pub struct TimestampDoc;

impl utoipa::PartialSchema for TimestampDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, SchemaType, Type,
        };
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .minimum(Some(0))
                    // The last millisecond of the year 9999.
                    .maximum(Some(253_402_300_799_999i64)),
            )
            .into()
    }
}

impl ToSchema for TimestampDoc {}

/// Ingest readings: a JSON array (or one object), or NDJSON with
/// `Content-Type: application/x-ndjson`. Each reading is
/// `{"device", "metric", "value", "ts"}` or `{"device", "ts", "values": {metric: value}}`;
/// `ts` is RFC 3339 or Unix ms. Answered once the accepted readings are durable. Good
/// readings are kept even when others in the batch are refused; each refusal is listed, counted
/// in /metrics and kept as a dead letter. A body that is not JSON at all answers 422.
#[utoipa::path(post, path = "/api/v1/telemetry", tag = "vital signs",
    request_body(content = TelemetryBodyDoc, content_type = "application/json"),
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
    // One reading sent alone is the request: when it is refused, so is the request.
    let alone = !whole_body_bad
        && !content_type.starts_with("application/x-ndjson")
        && !content_type.starts_with("application/jsonl")
        && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let report = pipeline(&state)?
        .ingest("http", &body, readings, rejections)
        .await?;
    let stored = report.accepted + report.duplicates + report.late;
    if whole_body_bad || (alone && stored == 0 && !report.rejected.is_empty()) {
        let first = &report.rejected[0];
        let code = match first.reason {
            Reason::Malformed => ErrorCode::InvalidInput,
            Reason::UnknownDevice | Reason::UnknownIndicator | Reason::RetiredDevice => {
                ErrorCode::UnknownReference
            }
            Reason::TimestampOutOfRange => ErrorCode::InvalidPeriod,
            Reason::ImplausibleValue => ErrorCode::InconsistentFields,
        };
        return Err(ApiError::new(code, first.message.clone()).with_field(first.field.clone()));
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
                reason: Wire(r.reason),
                field: r.field,
                message: r.message,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    #[param(value_type = Option<wire::ReadingRejection>)]
    reason: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A payload, or a reading of one, that ingestion refused.
#[derive(Serialize, ToSchema)]
pub struct DeadLetterView {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// `mqtt` (with the topic in `detail`) or `http`.
    pub source: String,
    #[schema(value_type = wire::ReadingRejection)]
    pub reason: String,
    pub detail: String,
    /// The payload, cut to 4 KiB.
    pub payload: String,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(letter: DeadLetter) -> DeadLetterView {
        let DeadLetter {
            id,
            received_at,
            source,
            reason,
            detail,
            payload,
        } = letter;
        DeadLetterView {
            id,
            received_at,
            source,
            reason,
            detail,
            payload,
        }
    }
}

/// Payloads ingestion refused, newest first (the last 10,000 are kept).
#[utoipa::path(get, path = "/api/v1/telemetry/dead-letters", tag = "vital signs", params(DeadLetterQuery),
    responses((status = 200, body = Vec<DeadLetterView>)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<DeadLetterQuery>,
) -> ApiResult<Json<Vec<DeadLetterView>>> {
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
    Ok(Json(views(
        state.store.dead_letters(q.reason.as_deref(), limit).await?,
    )))
}

// ---- rules ----

/// The telemetry rules.
#[utoipa::path(get, path = "/api/v1/telemetry/rules", tag = "vital signs",
    responses((status = 200, body = Vec<TelemetryRuleDoc>)))]
pub async fn list_telemetry_rules(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<Vec<TelemetryRule>>> {
    Ok(Json(state.store.telemetry_rules().await?))
}

#[utoipa::path(get, path = "/api/v1/telemetry/rules/{id}", tag = "vital signs",
    responses((status = 200, body = TelemetryRuleDoc), (status = 404, body = crate::error::ErrorBody)))]
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
        .rules_changed(crate::routes::emergencies::rules_in_force(state).await?)
        .await?;
    Ok(rule)
}

/// A streaming rule as the document describes it. The server reads
/// `cityops_domain::telemetry::TelemetryRule`, which knows nothing of OpenAPI; this mirror
/// states its constraints, and the fuzzing in CI holds the two together (schema-valid rules
/// are accepted, schema-violating ones refused).
#[derive(ToSchema)]
#[schema(as = TelemetryRule)]
#[allow(dead_code)]
pub struct TelemetryRuleDoc {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    id: String,
    #[schema(pattern = r"\S", max_length = 100)]
    name: String,
    /// An indicator key of the catalogue (`GET /indicators`).
    #[schema(pattern = r"^[a-z0-9_]{1,64}$")]
    indicator: String,
    scope: RuleScopeDoc,
    condition: ConditionDoc,
    /// The trigger must hold this long (seconds, at most a week; not with `silent`).
    #[schema(minimum = 0, maximum = 604800)]
    #[serde(default)]
    duration_secs: u32,
    /// The trigger must hold for this many readings in a row (not above 1 with `silent`).
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default)]
    repeat: u32,
    level: crate::wire::WarningLevel,
    schedule: Option<ScheduleDoc>,
    #[serde(default)]
    enabled: bool,
}

/// Which devices a rule watches.
#[derive(ToSchema)]
#[schema(as = RuleScope)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RuleScopeDoc {
    All,
    DeviceType {
        #[schema(pattern = r"^[a-z0-9_]{1,64}$")]
        device_type: String,
    },
    Device {
        #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
        device: String,
    },
    Area {
        #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
        area: String,
    },
}

/// When a reading is trouble, and when trouble is over (`clear`, `margin`: on the safe side
/// of the trigger).
#[derive(ToSchema)]
#[schema(as = Condition)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ConditionDoc {
    Above {
        value: f64,
        clear: Option<f64>,
    },
    Below {
        value: f64,
        clear: Option<f64>,
    },
    Outside {
        min: f64,
        max: f64,
        #[schema(minimum = 0)]
        margin: Option<f64>,
    },
    Rising {
        #[schema(exclusive_minimum = 0)]
        per_minute: f64,
        clear: Option<f64>,
    },
    Falling {
        #[schema(exclusive_minimum = 0)]
        per_minute: f64,
        clear: Option<f64>,
    },
    Silent {
        #[schema(minimum = 1, maximum = 10080)]
        minutes: u32,
    },
}

/// 1 = Monday .. 7 = Sunday.
#[allow(dead_code)]
pub struct IsoWeekday(u8);

impl utoipa::PartialSchema for IsoWeekday {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Integer))
            .minimum(Some(1))
            .maximum(Some(7))
            .into()
    }
}

impl ToSchema for IsoWeekday {}

/// Days (ISO, 1 = Monday; none = every day) and hours (Asia/Shanghai) a rule may raise
/// alarms; `to` before `from` runs over midnight.
#[derive(ToSchema)]
#[schema(as = Schedule)]
#[allow(dead_code)]
pub struct ScheduleDoc {
    #[serde(default)]
    days: Vec<IsoWeekday>,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    from: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    to: String,
}

/// Create a rule (admin). Takes effect at once, without a restart. A rule that cannot run is
/// refused with the field and the reason. Example: `{"id": "flood-30cm-10min", "name": "积水超过30厘米持续10分钟",
/// "indicator": "water_level", "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 30, "clear": 25},
/// "duration_secs": 600, "level": "orange"}`.
#[utoipa::path(post, path = "/api/v1/telemetry/rules", tag = "vital signs",
    request_body(content = TelemetryRuleDoc, content_type = "application/json"),
    responses((status = 201, body = TelemetryRuleDoc), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
    request_body(content = TelemetryRuleDoc, content_type = "application/json"),
    responses((status = 200, body = TelemetryRuleDoc), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace_rule(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(rule): JsonBody<TelemetryRule>,
) -> ApiResult<Json<TelemetryRule>> {
    require_integrator(&actor, "telemetry rules")?;
    if rule.id != id {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "id",
            "the body's id differs from the URL's",
        ));
    }
    Ok(Json(save_rule(&state, rule).await?))
}

/// A draft rule tried on one device's recent readings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleTestBody {
    /// The draft, as it would be created (it need not exist, nor be enabled).
    #[schema(value_type = TelemetryRuleDoc)]
    pub rule: TelemetryRule,
    /// The device whose readings are replayed.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub device: String,
    /// RFC 3339; default a day before `to`. Raw readings are kept only for the configured
    /// retention.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
}

/// One change the draft would have made.
#[derive(Serialize, ToSchema)]
pub struct RuleTestEvent {
    /// raise, reopen or clear (repeats are only counted).
    pub change: wire::AlarmChange,
    /// Which alarm of the replay, from 1: a reopen or a clear continues the alarm it names.
    pub alarm: u32,
    pub level: wire::WarningLevel,
    /// The reading that decided it (a silence alarm: the last value heard).
    pub value: f64,
    pub at: DateTime<Utc>,
}

/// What the draft would have raised on the device's readings of the window.
#[derive(Serialize, ToSchema)]
pub struct RuleTestView {
    pub device: String,
    pub indicator: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Whether the rule's scope takes in the device at all (if not, it never fires on it).
    pub watches_device: bool,
    /// Readings of the rule's indicator replayed (at most 10,000, the newest).
    pub readings: usize,
    /// The window held more readings than were replayed: only the newest were.
    pub truncated: bool,
    /// Distinct alarms the draft would have raised.
    pub alarms: u32,
    pub repeats: usize,
    /// An alarm would still be active at `to`.
    pub active_at_end: bool,
    pub events: Vec<RuleTestEvent>,
}

/// Try a draft rule (admin): replays a device's stored readings of the window through the
/// draft in an engine of its own and answers what it would have raised, reopened and
/// cleared. Nothing is stored, and no live alarm or case is touched.
#[utoipa::path(post, path = "/api/v1/telemetry/rule-tests", tag = "vital signs",
    request_body = RuleTestBody,
    responses((status = 200, body = RuleTestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn test_rule(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(body): JsonBody<RuleTestBody>,
) -> ApiResult<Json<RuleTestView>> {
    require_integrator(&actor, "telemetry rules")?;
    let indicators = state.store.indicators().await?;
    body.rule
        .validate(|key| indicators.iter().any(|i| i.key == key))
        .map_err(|e| {
            let field = format!("rule.{}", e.field);
            ApiError::from(e).with_field(field)
        })?;
    let device = visible_device(&state, &actor, &body.device)
        .await
        .map_err(|e| e.with_field("device"))?;
    let to = body.to.unwrap_or_else(Utc::now);
    let from = body.from.unwrap_or(to - Duration::days(1));
    if from >= to {
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "from",
            "from must be before to",
        ));
    }
    const LIMIT: u32 = 10_000;
    let stored = state
        .store
        .readings(&device.id, &body.rule.indicator, from, to, LIMIT + 1)
        .await?;
    let truncated = stored.len() > LIMIT as usize;
    let mut readings: Vec<(i64, f64)> = stored
        .iter()
        .map(|r| (r.at.timestamp_millis(), r.value))
        .collect();
    readings.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    readings.truncate(LIMIT as usize);
    let result = cityops_domain::telemetry::replay(
        indicators,
        &device,
        &body.rule,
        &readings,
        to.timestamp_millis(),
    );
    Ok(Json(RuleTestView {
        device: device.id.clone(),
        indicator: body.rule.indicator.clone(),
        from,
        to,
        watches_device: result.watches_device,
        readings: result.readings,
        truncated,
        alarms: result.alarms,
        repeats: result.repeats,
        active_at_end: result.active_at_end,
        events: result
            .events
            .into_iter()
            .map(|e| RuleTestEvent {
                change: Wire(cityops_telemetry::AlarmChange::Engine(e.kind)),
                alarm: e.alarm,
                level: Wire(e.level),
                value: e.value,
                at: DateTime::from_timestamp_millis(e.at_ms).unwrap_or(to),
            })
            .collect(),
    }))
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
        .rules_changed(crate::routes::emergencies::rules_in_force(&state).await?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- alarms ----

/// An alarm: a (device, rule) in trouble, from raise to clear, with who saw it; then its
/// state and level in words.
#[derive(Serialize, ToSchema)]
pub struct AlarmView {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub device_id: String,
    /// The indicator's key, e.g. `water_level`.
    pub indicator: String,
    pub level: wire::WarningLevel,
    pub active: bool,
    pub acknowledged: bool,
    /// The device's area (normally its community).
    pub area: String,
    /// WGS-84.
    pub location: LocationBody,
    pub unit_grid: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub first_value: f64,
    pub last_value: f64,
    pub min_value: f64,
    pub max_value: f64,
    /// Readings that met the trigger while the alarm was active.
    pub readings: u64,
    /// Times the alarm came back within the flap window instead of opening a new one.
    pub flaps: u32,
    /// The case the alarm opened or joined.
    pub case_id: Option<String>,
    /// `active` and `acknowledged` in one word.
    pub state: wire::AlarmState,
    /// The level's name in Chinese, e.g. 橙色预警.
    pub level_zh: String,
}

impl AlarmView {
    pub fn new(alarm: Alarm) -> AlarmView {
        let state = Wire(alarm.state());
        let Alarm {
            id,
            rule_id,
            rule_name,
            device_id,
            indicator,
            level,
            active,
            acknowledged,
            area,
            location,
            unit_grid,
            raised_at,
            last_at,
            cleared_at,
            acknowledged_at,
            acknowledged_by,
            first_value,
            last_value,
            min_value,
            max_value,
            readings,
            flaps,
            case_id,
        } = alarm;
        AlarmView {
            id,
            rule_id,
            rule_name,
            device_id,
            indicator,
            level: Wire(level),
            active,
            acknowledged,
            area: area.to_string(),
            location: LocationBody::from(location),
            unit_grid,
            raised_at,
            last_at,
            cleared_at,
            acknowledged_at,
            acknowledged_by,
            first_value,
            last_value,
            min_value,
            max_value,
            readings,
            flaps,
            case_id,
            state,
            level_zh: level.zh().to_owned(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlarmListQuery {
    active: Option<bool>,
    acknowledged: Option<bool>,
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    area: Option<String>,
    device: Option<String>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
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
    pub signs: Vec<VitalSignView>,
    /// Active alarms per area.
    pub alarms: Vec<AlarmCount>,
}

/// One indicator over one area, from the newest reading of each device reporting it.
#[derive(Serialize, ToSchema)]
pub struct VitalSignView {
    pub area: String,
    /// The indicator's key.
    pub indicator: String,
    /// Devices whose newest reading is recent enough to count.
    pub devices: u64,
    /// When the newest of those readings was taken, in Unix milliseconds.
    pub latest_at_ms: i64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Newest readings outside the indicator's normal range.
    pub abnormal: u64,
}

impl From<&VitalSign> for VitalSignView {
    fn from(sign: &VitalSign) -> VitalSignView {
        let VitalSign {
            area,
            indicator,
            devices,
            latest_at_ms,
            mean,
            min,
            max,
            abnormal,
        } = sign;
        VitalSignView {
            area: area.to_string(),
            indicator: indicator.clone(),
            devices: *devices,
            latest_at_ms: *latest_at_ms,
            mean: *mean,
            min: *min,
            max: *max,
            abnormal: *abnormal,
        }
    }
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
            .map(VitalSignView::from)
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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VitalSignsQuery {
    /// City, district or street; default the caller's jurisdiction.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    indicator: String,
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    area: Option<String>,
    /// `minute` when absent.
    #[param(value_type = Option<wire::Resolution>)]
    resolution: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// One bucket of the downsampled history of one indicator over one area; its mean is
/// `sum / count`.
#[derive(Serialize, ToSchema)]
pub struct RollupView {
    pub resolution: wire::Resolution,
    pub area: String,
    /// The indicator's key.
    pub indicator: String,
    /// Start of the bucket.
    pub bucket: DateTime<Utc>,
    /// Readings in the bucket.
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl From<Rollup> for RollupView {
    fn from(rollup: Rollup) -> RollupView {
        let Rollup {
            resolution,
            area,
            indicator,
            bucket,
            count,
            sum,
            min,
            max,
        } = rollup;
        RollupView {
            resolution: Wire(resolution),
            area: area.to_string(),
            indicator,
            bucket,
            count,
            sum,
            min,
            max,
        }
    }
}

/// Downsampled history of one indicator over an area (city, district or street) for charts.
#[utoipa::path(get, path = "/api/v1/vital-signs/history", tag = "vital signs", params(HistoryQuery),
    responses((status = 200, body = Vec<RollupView>)))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<HistoryQuery>,
) -> ApiResult<Json<Vec<RollupView>>> {
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
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "from",
            "from must be before to",
        ));
    }
    if (to - from) > Duration::days(31) {
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "from",
            "at most 31 days at a time",
        ));
    }
    Ok(Json(views(
        state
            .store
            .rollups(resolution, &area, &q.indicator, from, to)
            .await?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::telemetry::WarningLevel;
    use cityops_domain::CategoryCode;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 8, minute, 30).unwrap() + Duration::milliseconds(125)
    }

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }

    fn alarm(acknowledged: bool, case_id: Option<&str>) -> Alarm {
        Alarm {
            id: "al-1".into(),
            rule_id: "flood-30cm-10min".into(),
            rule_name: "积水超过30厘米持续10分钟".into(),
            device_id: "HP-WL-0001".into(),
            indicator: "water_level".into(),
            level: WarningLevel::Orange,
            active: !acknowledged,
            acknowledged,
            area: AreaCode::parse("310101002001").unwrap(),
            location: Location::new(121.4901, 31.2402).unwrap(),
            unit_grid: Some("31010100200101".into()),
            raised_at: at(1),
            last_at: at(9),
            cleared_at: acknowledged.then(|| at(10)),
            acknowledged_at: acknowledged.then(|| at(11)),
            acknowledged_by: acknowledged.then(|| "operator".into()),
            first_value: 31.5,
            last_value: 42.0,
            min_value: 30.25,
            max_value: 42.0,
            readings: 7,
            flaps: 1,
            case_id: case_id.map(str::to_owned),
        }
    }

    #[test]
    fn an_alarm_view_is_the_alarm_as_it_serialises_then_its_state_and_level_in_words() {
        // What clients have always read: the alarm flattened, then `state` and `level_zh`.
        #[derive(Serialize)]
        struct Before {
            #[serde(flatten)]
            alarm: Alarm,
            state: String,
            level_zh: String,
        }
        for alarm in [alarm(false, None), alarm(true, Some("case-1"))] {
            let before = Before {
                state: alarm.state().as_str().into(),
                level_zh: alarm.level.zh().into(),
                alarm: alarm.clone(),
            };
            assert_eq!(json(&AlarmView::new(alarm)), json(&before));
        }
    }

    #[test]
    fn indicator_device_reading_rollup_and_dead_letter_views_write_their_records_json() {
        for indicator in cityops_domain::telemetry::default_indicators() {
            assert_eq!(
                json(&IndicatorView::from(indicator.clone())),
                json(&indicator)
            );
        }
        let bounded = Indicator {
            key: "gas_concentration".into(),
            unit: "%LEL".into(),
            name_zh: "燃气浓度".into(),
            name_en: "Gas concentration".into(),
            normal_min: None,
            normal_max: Some(10.5),
            category: CategoryCode::parse("10105").unwrap(),
            plausible_min: Some(0.0),
            plausible_max: None,
        };
        assert_eq!(json(&IndicatorView::from(bounded.clone())), json(&bounded));
        let device = Device {
            id: "HP-WL-0001".into(),
            kind: "water_level_gauge".into(),
            name: "外滩陈毅广场积水监测点".into(),
            location: Location::new(121.4901, 31.2402).unwrap(),
            area: AreaCode::parse("310101002001").unwrap(),
            unit_grid: None,
            component_id: Some("3101010101000001".into()),
            owner_unit: Some("310101-SWJ".into()),
            status: DeviceStatus::Maintenance,
        };
        assert_eq!(json(&DeviceView::from(device.clone())), json(&device));
        let reading = StoredReading {
            device_id: "HP-WL-0001".into(),
            indicator: "water_level".into(),
            at: at(3),
            value: 12.75,
        };
        assert_eq!(json(&ReadingView::from(reading.clone())), json(&reading));
        let rollup = Rollup {
            resolution: Resolution::Hour,
            area: AreaCode::parse("310101").unwrap(),
            indicator: "water_level".into(),
            bucket: at(0),
            count: 12,
            sum: 150.5,
            min: 3.0,
            max: 40.25,
        };
        assert_eq!(json(&RollupView::from(rollup.clone())), json(&rollup));
        let letter = DeadLetter {
            id: 9,
            received_at: at(4),
            source: "mqtt".into(),
            reason: "unknown_device".into(),
            detail: "cityops/gateways/hp/telemetry".into(),
            payload: r#"{"device":"X"}"#.into(),
        };
        assert_eq!(json(&DeadLetterView::from(letter.clone())), json(&letter));
    }

    #[test]
    fn vital_signs_views_write_each_sign_as_the_domain_serialises_it() {
        let sign = VitalSign {
            area: AreaCode::parse("310101002").unwrap(),
            indicator: "water_level".into(),
            devices: 3,
            latest_at_ms: 1_782_892_800_125,
            mean: 12.5,
            min: 3.0,
            max: 31.75,
            abnormal: 1,
        };
        assert_eq!(json(&VitalSignView::from(&sign)), json(&sign));
    }
}
