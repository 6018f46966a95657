//! The component census over HTTP: import and export (CSV for officials' spreadsheets,
//! GeoJSON for GIS), listing, and the nearest components of a class around a point.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::component::{parse_components_csv, ComponentRow, Located};
use cityops_domain::{Actor, AreaCode, Component, ComponentStatus, InvalidInput, Role};
use cityops_geo::census::component_id;
use cityops_store::{ComponentQuery, UnitFilter};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::routes::geo::parse_bbox;
use crate::views::LocationBody;
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router(max_import: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/components",
            get(list_components)
                .put(import_components)
                .layer(axum::extract::DefaultBodyLimit::max(max_import)),
        )
        .route("/components.csv", get(export_csv))
        .route("/components.geojson", get(export_geojson))
        .route("/components/nearest", get(nearest))
        .route("/components/{id}", get(component))
}

/// How far a report may lie from a component and still be about it: a reporter's phone is
/// rarely better than 10-20 m, and covers of one kind are seldom closer than that.
pub const LINK_RADIUS_M: f64 = 30.0;

/// The component a new report concerns: the one named (which must exist), else the nearest
/// of the reported class within [`LINK_RADIUS_M`], else none.
pub(crate) async fn link_component(
    state: &AppState,
    named: Option<String>,
    class: Option<&cityops_domain::CategoryCode>,
    location: &cityops_domain::Location,
) -> ApiResult<Option<String>> {
    if let Some(id) = named.filter(|id| !id.trim().is_empty()) {
        let id = id.trim();
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "component_id",
                format!("'{id}' is not a component id: expected 16 digits"),
            ));
        }
        return match state.store.component(id).await? {
            Some(c) => Ok(Some(c.id)),
            None => Err(ApiError::rule(
                ErrorCode::UnknownReference,
                "component_id",
                format!("no component {id} is in the census"),
            )),
        };
    }
    let Some(class) = class.filter(|c| c.kind() == cityops_domain::CategoryKind::Component) else {
        return Ok(None);
    };
    let nearest =
        state
            .census()
            .nearest(location.lon, location.lat, class.as_str(), LINK_RADIUS_M, 1);
    Ok(nearest.first().map(|n| component_id(n.id)))
}

fn require_admin(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may change the census",
        ))
    }
}

fn status(text: Option<&str>) -> ApiResult<Option<ComponentStatus>> {
    text.map(|s| {
        ComponentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "status is in_use, damaged, missing or removed")
        })
    })
    .transpose()
}

fn class_prefix(text: Option<String>) -> ApiResult<Option<String>> {
    match text {
        Some(c) if !(1..=5).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) => {
            Err(ApiError::invalid(
                "class",
                "class is a component class code or a prefix of one, e.g. 101 or 10101",
            ))
        }
        c => Ok(c),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComponentListQuery {
    /// A small-class code or a prefix (`101` all public-utility components).
    #[param(pattern = r"^\d{1,5}$")]
    class: Option<String>,
    #[param(value_type = Option<wire::ComponentStatus>)]
    status: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84).
    #[param(
        pattern = r"^-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?$"
    )]
    bbox: Option<String>,
    /// A place search: a 16-digit component id (as printed on a manhole cover or a lamp
    /// post), or words (1 to 50 characters) that the name or location text must all hold.
    #[param(min_length = 1, max_length = 50, pattern = r"\S")]
    q: Option<String>,
    /// The last id of the previous page.
    after: Option<String>,
    /// 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One component of the census, field by field as the domain records it (a field added to
/// the record does not compile until this view says how it is published).
#[derive(Serialize, ToSchema)]
pub struct ComponentView {
    /// 16 digits: area 6 + big class 2 + small class 2 + sequence 6.
    pub id: String,
    /// The small class (`1BBSS`).
    pub class: String,
    pub name: String,
    /// WGS-84.
    pub location: LocationBody,
    /// The community the location lies in.
    pub area: String,
    pub unit_grid: Option<String>,
    pub owner_unit: Option<String>,
    pub maintainer_unit: Option<String>,
    pub supervising_department: Option<String>,
    pub status: wire::ComponentStatus,
    /// Where it stands: sidewalk, carriageway, green space...
    pub setting: Option<String>,
    pub location_text: Option<String>,
    pub initial_date: Option<chrono::NaiveDate>,
    pub change_date: Option<chrono::NaiveDate>,
    /// Where the record comes from (census 2016, a department's register...).
    pub source: Option<String>,
}

impl From<Component> for ComponentView {
    fn from(component: Component) -> ComponentView {
        let Component {
            id,
            class,
            name,
            location,
            area,
            unit_grid,
            owner_unit,
            maintainer_unit,
            supervising_department,
            status,
            setting,
            location_text,
            initial_date,
            change_date,
            source,
        } = component;
        ComponentView {
            id,
            class: class.to_string(),
            name,
            location: LocationBody::from(location),
            area: area.to_string(),
            unit_grid,
            owner_unit,
            maintainer_unit,
            supervising_department,
            status: Wire(status),
            setting,
            location_text,
            initial_date,
            change_date,
            source,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ComponentPage {
    items: Vec<ComponentView>,
    /// Pass as `after` for the next page; absent on the last.
    next: Option<String>,
}

/// Components in the caller's jurisdiction, in id order; with `q`, those a place search finds.
#[utoipa::path(get, path = "/api/v1/components", tag = "census", params(ComponentListQuery),
    responses((status = 200, body = ComponentPage), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_components(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<ComponentListQuery>,
) -> ApiResult<Json<ComponentPage>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 1000"));
    }
    let bbox = q
        .bbox
        .as_deref()
        .map(parse_bbox)
        .transpose()?
        .map(|((a, b), (c, d))| [a, b, c, d]);
    let text = match q.q.as_deref().map(str::trim) {
        Some(text) if text.is_empty() || text.chars().count() > 50 => {
            return Err(ApiError::invalid(
                "q",
                "a search text has 1 to 50 characters",
            ))
        }
        text => text.map(str::to_owned),
    };
    let query = ComponentQuery {
        class_prefix: class_prefix(q.class)?,
        status: status(q.status.as_deref())?,
        bbox,
        text,
        after: q.after,
        limit,
        ..ComponentQuery::within(actor.scope.clone())
    };
    let items = state.store.components(&query).await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|c| c.id.clone()))
        .flatten();
    Ok(Json(ComponentPage {
        items: items.into_iter().map(ComponentView::from).collect(),
        next,
    }))
}

/// One component of the census.
#[utoipa::path(get, path = "/api/v1/components/{id}", tag = "census",
    params(("id" = String, Path, description = "16-digit component id")),
    responses((status = 200, body = ComponentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn component(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ComponentView>> {
    match state.store.component(&id).await? {
        Some(c) if actor.can_see(&c.area) => Ok(Json(c.into())),
        _ => Err(ApiError::not_found("the component")),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NearestQuery {
    #[param(minimum = 73.0, maximum = 136.0)]
    lon: f64,
    #[param(minimum = 3.0, maximum = 54.0)]
    lat: f64,
    /// The coordinate system of `lon` and `lat`; wgs84 when absent.
    #[param(value_type = Option<wire::Crs>)]
    crs: Option<String>,
    /// A component class or prefix; all classes when absent.
    #[param(pattern = r"^\d{1,5}$")]
    class: Option<String>,
    /// Metres, 1 to 5,000 (default 50).
    #[param(minimum = 1.0, maximum = 5000.0)]
    radius: Option<f64>,
    /// How many, 1 to 100 (default 5).
    #[param(minimum = 1, maximum = 100)]
    k: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct NearbyComponent {
    distance_m: f64,
    component: ComponentView,
}

/// The k nearest components of a class within a radius of a point, nearest first.
#[utoipa::path(get, path = "/api/v1/components/nearest", tag = "census", params(NearestQuery),
    responses((status = 200, body = Vec<NearbyComponent>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn nearest(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<NearestQuery>,
) -> ApiResult<Json<Vec<NearbyComponent>>> {
    let radius = q.radius.unwrap_or(50.0);
    if !(1.0..=5000.0).contains(&radius) {
        return Err(ApiError::invalid("radius", "radius is 1 to 5000 metres"));
    }
    let k = q.k.unwrap_or(5);
    if !(1..=100).contains(&k) {
        return Err(ApiError::invalid("k", "k is 1 to 100"));
    }
    let class = class_prefix(q.class)?.unwrap_or_default();
    let at = LocationBody {
        lon: q.lon,
        lat: q.lat,
    }
    .to_wgs84(q.crs.as_deref())?;
    let found = state.census().nearest(at.lon, at.lat, &class, radius, k);
    let mut out = Vec::with_capacity(found.len());
    for n in found {
        if let Some(component) = state.store.component(&component_id(n.id)).await? {
            if actor.can_see(&component.area) {
                out.push(NearbyComponent {
                    distance_m: (n.distance_m * 100.0).round() / 100.0,
                    component: component.into(),
                });
            }
        }
    }
    Ok(Json(out))
}

/// Every component of the caller's jurisdiction (optionally of a class), page by page.
fn everything(
    state: &AppState,
    actor: &Actor,
    class: Option<String>,
) -> ApiResult<crate::export::ComponentPages> {
    Ok(crate::export::ComponentPages::new(
        state.store.clone(),
        ComponentQuery {
            class_prefix: class_prefix(class)?,
            ..ComponentQuery::within(actor.scope.clone())
        },
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// A component class or prefix.
    #[param(pattern = r"^\d{1,5}$")]
    class: Option<String>,
}

/// The census of the caller's jurisdiction as CSV (UTF-8 with BOM, the import format).
#[utoipa::path(get, path = "/api/v1/components.csv", tag = "census", params(ExportQuery),
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    let pages = everything(&state, &actor, q.class)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"components.csv\"",
            ),
        ],
        crate::export::body(pages, crate::export::components_csv()).await?,
    ))
}

/// A component as a GeoJSON feature: a point, the CSV columns as properties (empty ones left
/// out), plus the resolved area. Written field by field: exports run to 100,000s of features.
pub(crate) fn component_feature(c: &Component) -> Value {
    let mut properties = serde_json::Map::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            properties.insert(name.to_owned(), Value::String(value));
        }
    };
    put("id", Some(c.id.clone()));
    put("class", Some(c.class.to_string()));
    put("name", Some(c.name.clone()));
    put("unit_grid", c.unit_grid.clone());
    put("owner_unit", c.owner_unit.clone());
    put("maintainer_unit", c.maintainer_unit.clone());
    put("supervising_department", c.supervising_department.clone());
    put("status", Some(c.status.as_str().to_owned()));
    put("setting", c.setting.clone());
    put("location_text", c.location_text.clone());
    put("initial_date", c.initial_date.map(|d| d.to_string()));
    put("change_date", c.change_date.map(|d| d.to_string()));
    put("source", c.source.clone());
    put("area", Some(c.area.to_string()));
    json!({
        "type": "Feature",
        "id": c.id,
        "geometry": {"type": "Point", "coordinates": [c.location.lon, c.location.lat]},
        "properties": properties,
    })
}

/// The census of the caller's jurisdiction as a GeoJSON FeatureCollection (the import format).
#[utoipa::path(get, path = "/api/v1/components.geojson", tag = "census", params(ExportQuery),
    responses((status = 200, content_type = "application/geo+json")))]
pub async fn export_geojson(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(q): QueryArgs<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    let pages = everything(&state, &actor, q.class)?;
    let features = crate::export::FeatureCollection::new(component_feature);
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"components.geojson\"",
            ),
        ],
        crate::export::body(pages, features).await?,
    ))
}

/// Reads a GeoJSON census: a FeatureCollection of Points whose properties are the CSV columns
/// (`lon` and `lat` come from the geometry). All or nothing, errors name the feature.
fn parse_components_geojson(
    text: &str,
    locate: &dyn Fn(f64, f64) -> Option<Located>,
) -> Result<Vec<Component>, InvalidInput> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| InvalidInput::new("file", format!("not JSON: {e}")))?;
    let features = match (doc.get("type").and_then(Value::as_str), doc.get("features")) {
        (Some("FeatureCollection"), Some(Value::Array(features))) => features,
        _ => {
            return Err(InvalidInput::new(
                "file",
                "expected a GeoJSON FeatureCollection with a features array",
            ))
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let at = |field: &str| format!("features[{i}].{field}");
        let coordinates = match feature.get("geometry") {
            Some(g) if g.get("type").and_then(Value::as_str) == Some("Point") => g
                .get("coordinates")
                .and_then(Value::as_array)
                .filter(|c| c.len() >= 2)
                .and_then(|c| Some((c[0].as_f64()?, c[1].as_f64()?))),
            _ => None,
        };
        let Some((lon, lat)) = coordinates else {
            return Err(InvalidInput::new(
                at("geometry"),
                "a component is a Point with [lon, lat] coordinates",
            ));
        };
        let mut properties = match feature.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => {
                return Err(InvalidInput::new(
                    at("properties"),
                    "the properties object is missing",
                ))
            }
        };
        // The export adds the resolved area; it is recomputed from the location.
        properties.remove("area");
        let row: ComponentRow = serde_path_to_error::deserialize(Value::Object(properties))
            .map_err(|e| {
                InvalidInput::new(
                    at(&format!("properties.{}", e.path())),
                    e.inner().to_string(),
                )
            })?;
        let row = ComponentRow {
            lon: Some(lon),
            lat: Some(lat),
            ..row
        };
        let component = row
            .into_component(locate)
            .map_err(|e| InvalidInput::new(at(&format!("properties.{}", e.field)), e.reason))?;
        if !seen.insert(component.id.clone()) {
            return Err(InvalidInput::new(
                at("properties.id"),
                format!("{} appears twice in the file", component.id),
            ));
        }
        out.push(component);
    }
    Ok(out)
}

/// Import components (admin): CSV (`text/csv`, UTF-8 with or without BOM, header
/// `id,class,name,lon,lat,unit_grid,owner_unit,maintainer_unit,supervising_department,status,setting,location_text,initial_date,change_date,source`)
/// or GeoJSON (`application/geo+json`: Points, the same names as properties). WGS-84. A
/// component already in the census is replaced. All or nothing: a bad row refuses the file,
/// naming its line (or feature) and column.
#[utoipa::path(put, path = "/api/v1/components", tag = "census",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "{\"imported\": n, \"added\": n, \"replaced\": n, \"unchanged\": n}: the rows read, those new to the census, those that changed a component, and those equal to what the census held"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_components(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    async {
        require_admin(&actor)?;
        let geography = state.geography().ok_or_else(|| {
            ApiError::invalid("file", "no unit grids are loaded to locate components in")
        })?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid("file", "the file must be UTF-8"))?;
        let geojson = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let text = text.to_owned();
        // Locating hundreds of thousands of rows is CPU work: keep it off the request threads.
        let components = tokio::task::spawn_blocking(move || {
            let locate = |lon: f64, lat: f64| {
                geography.locate(lon, lat).and_then(|g| {
                    Some(Located {
                        area: AreaCode::parse(&g.community).ok()?,
                        unit_grid: Some(g.code.clone()),
                    })
                })
            };
            if geojson {
                parse_components_geojson(&text, &locate)
            } else {
                parse_components_csv(&text, &locate)
            }
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
        let units: std::collections::HashSet<String> = state
            .store
            .units(&UnitFilter::default())
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
        for (i, c) in components.iter().enumerate() {
            let row = if geojson {
                format!("features[{i}].properties.")
            } else {
                format!("line {}: ", i + 2)
            };
            if !actor.can_see(&c.area) {
                return Err(ApiError::invalid(
                    format!("{row}lon"),
                    "the component lies outside your jurisdiction",
                ));
            }
            if let Some(unit) = c.maintainer_unit.as_deref().filter(|u| !units.contains(*u)) {
                return Err(ApiError::invalid(
                    format!("{row}maintainer_unit"),
                    format!("unit {unit} does not exist: cases about the component could not be dispatched to it"),
                ));
            }
        }
        let put = state.store.put_components(&components).await?;
        state.reload_census().await?;
        Ok(Json(json!({
            "imported": put.total(),
            "added": put.added,
            "replaced": put.replaced,
            "unchanged": put.unchanged,
        })))
    }
    .await
    .map_err(ApiError::in_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_view_writes_the_components_own_json() {
        let component = Component {
            id: "3101010101000001".into(),
            class: cityops_domain::CategoryCode::parse("10101").unwrap(),
            name: "上水井盖".into(),
            location: cityops_domain::Location::new(121.4901, 31.2402).unwrap(),
            area: AreaCode::parse("310101002001").unwrap(),
            unit_grid: Some("31010100200101".into()),
            owner_unit: Some("310101-SWJ".into()),
            maintainer_unit: None,
            supervising_department: Some("区水务局".into()),
            status: ComponentStatus::Damaged,
            setting: Some("sidewalk".into()),
            location_text: None,
            initial_date: chrono::NaiveDate::from_ymd_opt(2016, 5, 1),
            change_date: None,
            source: Some("census 2016".into()),
        };
        assert_eq!(
            serde_json::to_string(&ComponentView::from(component.clone())).unwrap(),
            serde_json::to_string(&component).unwrap()
        );
    }
}
