//! OGC API - Features (Part 1: Core, GeoJSON) at `/ogc`, so GIS tools (QGIS, GDAL's OAPIF
//! driver) read the city's areas and unit grids directly. Public: boundaries are published
//! data. Coordinates are WGS-84 longitude/latitude (CRS84).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::AreaLevel;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::routes::geo::{layer_features, Layer, LayerFilter};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/collections", get(collections))
        .route("/ogc/api", get(service_description))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/queryables", get(queryables))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{feature}", get(item))
}

const COLLECTIONS: [(&str, &str); 7] = [
    ("districts", "Districts (区)"),
    ("streets", "Streets and towns (街道/镇)"),
    ("communities", "Communities (居委会/村委会)"),
    ("unit-grids", "Unit grids (单元网格)"),
    ("responsibility-grids", "Responsibility grids (责任网格)"),
    ("components", "Components of the census (部件)"),
    (
        "cases",
        "Open cases (在办案件; sign-in required, your jurisdiction only)",
    ),
];

/// The properties a collection can be filtered by (query parameters of its items), with
/// their JSON Schema type and meaning.
fn queryable_properties(id: &str) -> &'static [(&'static str, &'static str)] {
    match id {
        "components" => &[
            (
                "class",
                "component small-class code or a prefix of one, e.g. 10101 or 101",
            ),
            ("status", "in_use, damaged, missing or removed"),
        ],
        "cases" => &[
            ("state", "case state, e.g. dispatched"),
            ("category", "small-class code or a prefix of one"),
            ("district", "6-digit district code"),
        ],
        _ => &[],
    }
}
const DEFAULT_LIMIT: usize = 100;
/// Features in one answer at most: a larger `limit` is cut to this (OGC API Features lets a
/// server do so), so one request costs at most one such page.
const MAX_LIMIT: usize = 1_000;
/// Cases read from the store per query while an answer streams.
const CASE_PAGE: u32 = 200;

/// Links must be absolute (clients follow `next` verbatim) and start with the configured
/// public base URL: a `Host` header is the client's claim, and echoing it would hand every
/// reader of a cached or shared answer links to wherever a forger pointed them.
fn base(state: &AppState) -> String {
    format!("{}/ogc", state.config.public_base_url)
}

fn geojson(value: Value) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(value),
    )
}

async fn landing(State(state): State<AppState>) -> Json<Value> {
    let base = base(&state);
    Json(json!({
        "title": "CityOps",
        "description": "The city's areas and unit grids as OGC API Features",
        "links": [
            {"href": base, "rel": "self", "type": "application/json", "title": "this document"},
            {"href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json"},
            {"href": format!("{base}/collections"), "rel": "data", "type": "application/json"},
            {"href": format!("{base}/api"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the OGC API as OpenAPI, with each collection's queryable properties"},
        ]
    }))
}

async fn conformance() -> Json<Value> {
    Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        ]
    }))
}

fn describe(base: &str, id: &str, title: &str, state: &AppState) -> Value {
    let extent = state
        .districts()
        .areas()
        .iter()
        .fold(None::<[f64; 4]>, |acc, d| {
            let (min, max) = (d.bbox.min(), d.bbox.max());
            Some(match acc {
                None => [min.x, min.y, max.x, max.y],
                Some(b) => [
                    b[0].min(min.x),
                    b[1].min(min.y),
                    b[2].max(max.x),
                    b[3].max(max.y),
                ],
            })
        })
        .unwrap_or([73.0, 3.0, 136.0, 54.0]);
    json!({
        "id": id,
        "title": title,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": {"spatial": {"bbox": [extent], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "links": [
            {"href": format!("{base}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{id}/items"), "rel": "items", "type": "application/geo+json"},
            {"href": format!("{base}/collections/{id}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json"},
        ]
    })
}

fn known(id: &str) -> ApiResult<&'static str> {
    COLLECTIONS
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, title)| *title)
        .ok_or_else(|| ApiError::not_found("the collection"))
}

async fn collections(State(state): State<AppState>) -> Json<Value> {
    let base = base(&state);
    Json(json!({
        "links": [{"href": format!("{base}/collections"), "rel": "self", "type": "application/json"}],
        "collections": COLLECTIONS.iter().map(|(id, title)| describe(&base, id, title, &state)).collect::<Vec<_>>(),
    }))
}

async fn collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let title = known(&id)?;
    Ok(Json(describe(&base(&state), &id, title, &state)))
}

/// A collection's queryables (OGC API Features Part 3) as JSON Schema.
async fn queryables(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    known(&id)?;
    let base = base(&state);
    let properties: serde_json::Map<String, Value> = queryable_properties(&id)
        .iter()
        .map(|(name, description)| {
            (
                (*name).to_owned(),
                json!({"type": "string", "description": description}),
            )
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        Json(json!({
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": format!("{base}/collections/{id}/queryables"),
            "type": "object",
            "title": id,
            "properties": properties,
            "additionalProperties": false,
        })),
    ))
}

/// The OpenAPI document of `/ogc` (the landing page's `service-desc`): every collection's
/// items path with its paging, bbox and queryable-property parameters.
async fn service_description(State(state): State<AppState>) -> Json<Value> {
    let base = base(&state);
    let param = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    let mut paths = serde_json::Map::new();
    for (id, title) in COLLECTIONS {
        let mut parameters = vec![
            param(
                "limit",
                "features per page, 1 or more; more than 1000 is cut to 1000",
                json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
            ),
            param(
                "offset",
                "features to skip",
                json!({"type": "integer", "minimum": 0, "default": 0}),
            ),
            param(
                "after",
                "the id of the last feature of the previous page (the `next` link's cursor)",
                json!({"type": "string"}),
            ),
            param(
                "bbox",
                "minLon,minLat,maxLon,maxLat (CRS84)",
                json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
            ),
        ];
        parameters.extend(
            queryable_properties(id)
                .iter()
                .map(|(name, description)| param(name, description, json!({"type": "string"}))),
        );
        paths.insert(
            format!("/collections/{id}/items"),
            json!({"get": {
                "summary": title,
                "operationId": format!("get-{id}-items"),
                "parameters": parameters,
                "responses": {"200": {"description": "a GeoJSON FeatureCollection", "content": {"application/geo+json": {}}}},
            }}),
        );
    }
    Json(json!({
        "openapi": "3.0.3",
        "info": {"title": "CityOps OGC API - Features", "version": "1.0"},
        "servers": [{"url": base}],
        "paths": paths,
    }))
}

#[derive(Deserialize)]
pub struct ItemsQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    /// Keyset paging (components and cases): features after this id.
    after: Option<String>,
    bbox: Option<String>,
    /// Property filters of the components collection.
    class: Option<String>,
    status: Option<String>,
    /// Property filters of the cases collection.
    state: Option<String>,
    category: Option<String>,
    district: Option<String>,
}

/// The caller of a collection that needs signing in.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> ApiResult<cityops_domain::Actor> {
    if crate::extract::presented_token(&axum::http::Method::GET, headers)?.is_none() {
        return Err(ApiError::new(ErrorCode::Unauthenticated,
            "open cases need a session or API key: send Authorization: Bearer <token> (GDAL: GDAL_HTTP_HEADERS)",
        ));
    }
    crate::extract::authenticate(
        state,
        &axum::http::Method::GET,
        "/ogc/collections/cases",
        headers,
    )
    .await
}

/// An open case as a feature: where, what, how far along. No personal data.
fn case_feature(case: &cityops_domain::Case) -> Value {
    json!({
        "type": "Feature",
        "id": case.number.0,
        "geometry": {"type": "Point", "coordinates": [case.location.lon, case.location.lat]},
        "properties": {
            "number": case.number.0,
            "state": case.state.as_str(),
            "source": case.source.as_str(),
            "category": case.category.as_ref().map(|c| c.code.to_string()).or_else(|| case.category_hint.as_ref().map(|c| c.to_string())),
            "district": case.district.as_str(),
            "area": case.area.as_str(),
            "unit_grid": case.unit_grid,
            "unit": case.unit,
            "urgent": case.urgent,
            "supervised": case.supervised,
            "deadline": case.deadline.map(|d| d.to_rfc3339()),
            "reported_at": case.created_at.to_rfc3339(),
            // The class's extra fields (表单构建), texts masked like every text of the case.
            "fields": case.fields,
        }
    })
}

/// The caller's query of open cases meeting the filters (the page aside).
fn open_cases_query(
    actor: &cityops_domain::Actor,
    query: &ItemsQuery,
) -> ApiResult<cityops_store::CaseQuery> {
    let states: Vec<cityops_domain::CaseState> =
        match query.state.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => vec![cityops_domain::CaseState::parse(s)
                .filter(|s| !s.is_terminal())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "state",
                        "state is an open case state, e.g. filed or dispatched",
                    )
                })?],
            None => cityops_domain::CaseState::ALL
                .into_iter()
                .filter(|s| !s.is_terminal())
                .collect(),
        };
    let district = match query.district.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(
            cityops_domain::AreaCode::parse(d)
                .map_err(|e| ApiError::invalid("district", e.reason))?,
        ),
        None => None,
    };
    Ok(cityops_store::CaseQuery {
        states,
        category: query.category.clone().filter(|c| !c.is_empty()),
        area: district,
        ..cityops_store::CaseQuery::for_actor(actor, chrono::Utc::now())
    })
}

/// Open cases in case-number order, read from the store a page at a time while the answer
/// is written. A box is tested here (cases keep their point in the document), so with one
/// the offset is counted here too; without, the store skips it.
struct CasePages {
    store: std::sync::Arc<dyn cityops_store::Store>,
    query: cityops_store::CaseQuery,
    bbox: Option<[f64; 4]>,
    skip: usize,
    remaining: usize,
    done: bool,
}

impl crate::export::Pages for CasePages {
    type Item = cityops_domain::Case;

    async fn next(&mut self) -> cityops_store::StoreResult<Vec<cityops_domain::Case>> {
        let mut out = Vec::new();
        while !self.done && self.remaining > 0 {
            let page = self.store.cases(&self.query).await?;
            self.query.offset = 0;
            self.done = page.cases.len() < self.query.limit as usize;
            if let Some(last) = page.cases.last() {
                self.query.after_number = Some(last.number.0.clone());
            }
            for case in page.cases {
                let inside = self.bbox.is_none_or(|[x0, y0, x1, y1]| {
                    (x0..=x1).contains(&case.location.lon) && (y0..=y1).contains(&case.location.lat)
                });
                if !inside {
                    continue;
                }
                if self.skip > 0 {
                    self.skip -= 1;
                    continue;
                }
                if self.remaining == 0 {
                    self.done = true;
                    break;
                }
                self.remaining -= 1;
                out.push(case);
            }
            if !out.is_empty() {
                break;
            }
        }
        Ok(out)
    }
}

/// The census is too big to hold as features: pages come from the store.
async fn component_page(
    state: &AppState,
    query: &ItemsQuery,
    bbox: Option<[f64; 4]>,
    offset: usize,
    limit: usize,
) -> ApiResult<(usize, Vec<Value>)> {
    let class = query.class.clone().filter(|c| !c.is_empty());
    if class
        .as_ref()
        .is_some_and(|c| c.len() > 5 || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::invalid(
            "class",
            "class is a component class code or a prefix of one",
        ));
    }
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(cityops_domain::ComponentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "status is in_use, damaged, missing or removed")
        })?),
    };
    let city = state
        .store
        .areas(&cityops_store::AreaFilter {
            level: Some(AreaLevel::City),
            ..Default::default()
        })
        .await?;
    let Some(city) = city.into_iter().next() else {
        return Ok((0, Vec::new()));
    };
    let q = cityops_store::ComponentQuery {
        class_prefix: class,
        status,
        bbox,
        after: query.after.clone().filter(|a| !a.is_empty()),
        offset: offset as u64,
        limit: limit as u32,
        ..cityops_store::ComponentQuery::within(city.code)
    };
    let matched = state.store.count_components(&q).await? as usize;
    // An offset past the end answers from the count alone, never walking the census.
    if q.after.is_none() && offset >= matched {
        return Ok((matched, Vec::new()));
    }
    let page = state.store.components(&q).await?;
    Ok((
        matched,
        page.iter()
            .map(crate::routes::census::component_feature)
            .collect(),
    ))
}

/// Every feature of a collection meeting the box, in code order.
/// A page of a collection's features meeting the box, in code order, and how many meet it.
/// The codes are listed first and only the page's features are written: a page of unit grids
/// costs its own geometry, not the city's, and an offset past the end costs the list alone.
async fn layer_page(
    state: &AppState,
    id: &str,
    bbox: Option<[f64; 4]>,
    offset: usize,
    limit: usize,
) -> ApiResult<(usize, Vec<Value>)> {
    let layer = match id {
        "districts" => Layer::Districts,
        "streets" => Layer::Streets,
        "communities" => Layer::Communities,
        "unit-grids" => Layer::UnitGrids,
        "responsibility-grids" => Layer::ResponsibilityGrids,
        _ => return Err(ApiError::not_found("the collection")),
    };
    // One geometry for both passes: an import between them cannot mix two cities.
    let geometry = state.geometry();
    let bbox = bbox.map(|[x0, y0, x1, y1]| ((x0, y0), (x1, y1)));
    let codes_only = LayerFilter {
        bbox,
        parent: None,
        limit: usize::MAX,
        codes: None,
        codes_only: true,
    };
    let mut codes: Vec<String> = layer_features(state, &geometry, layer, &codes_only)
        .await?
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    codes.sort();
    let matched = codes.len();
    let page: std::collections::HashSet<String> =
        codes.into_iter().skip(offset).take(limit).collect();
    if page.is_empty() {
        return Ok((matched, Vec::new()));
    }
    let filter = LayerFilter {
        codes: Some(&page),
        codes_only: false,
        ..codes_only
    };
    let mut list = layer_features(state, &geometry, layer, &filter).await?;
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((matched, list.into_iter().map(|(_, f)| f).collect()))
}

/// One feature of an area collection by its code.
async fn layer_feature(state: &AppState, id: &str, code: &str) -> ApiResult<Option<Value>> {
    let layer = match id {
        "districts" => Layer::Districts,
        "streets" => Layer::Streets,
        "communities" => Layer::Communities,
        "unit-grids" => Layer::UnitGrids,
        "responsibility-grids" => Layer::ResponsibilityGrids,
        _ => return Err(ApiError::not_found("the collection")),
    };
    let wanted = std::collections::HashSet::from([code.to_owned()]);
    let filter = LayerFilter {
        bbox: None,
        parent: None,
        limit: 1,
        codes: Some(&wanted),
        codes_only: false,
    };
    let found = layer_features(state, &state.geometry(), layer, &filter).await?;
    Ok(found.into_iter().next().map(|(_, f)| f))
}

async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ItemsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
    known(&id)?;
    let Query(query) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 {
        return Err(ApiError::invalid("limit", "limit is at least 1"));
    }
    let limit = limit.min(MAX_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let bbox = match &query.bbox {
        Some(text) => {
            let n: Vec<f64> = text
                .split(',')
                .map(|v| v.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| ApiError::invalid("bbox", "bbox is minLon,minLat,maxLon,maxLat"))?;
            match n[..] {
                [a, b, c, d] if a <= c && b <= d => Some([a, b, c, d]),
                _ => {
                    return Err(ApiError::invalid(
                        "bbox",
                        "bbox is minLon,minLat,maxLon,maxLat with min <= max",
                    ))
                }
            }
        }
        None => None,
    };
    let base = base(&state);
    let mut params = query
        .bbox
        .as_ref()
        .map(|b| format!("&bbox={b}"))
        .unwrap_or_default();
    for (name, value) in [
        ("class", &query.class),
        ("status", &query.status),
        ("state", &query.state),
        ("category", &query.category),
        ("district", &query.district),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            params.push_str(&format!("&{name}={value}"));
        }
    }
    let after = query.after.clone().filter(|a| !a.is_empty());
    let self_link = format!(
        "{base}/collections/{id}/items?limit={limit}&offset={offset}{params}{}",
        after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default()
    );
    if id == "cases" {
        let actor = signed_in(&state, &headers).await?;
        let q = open_cases_query(&actor, &query)?;
        // Without a box the count is exact; with one it bounds what can match, and the
        // answer leaves `numberMatched` out rather than read every case to count them.
        let counted = state.store.count_cases(&q).await? as usize;
        let matched = bbox.is_none().then_some(counted);
        let past_end = after.is_none() && offset >= counted;
        let pages = CasePages {
            store: state.store.clone(),
            query: cityops_store::CaseQuery {
                after_number: Some(after.clone().unwrap_or_default()),
                offset: if bbox.is_none() { offset as u64 } else { 0 },
                limit: CASE_PAGE,
                ..q
            },
            bbox,
            skip: if bbox.is_none() { 0 } else { offset },
            remaining: limit,
            done: past_end,
        };
        let id = id.clone();
        let mut features = crate::export::FeatureCollection::new(case_feature);
        features.key = Some(|case: &cityops_domain::Case| case.number.0.clone());
        features.members = Box::new(move |returned: usize, last: Option<&str>| {
            let mut links = vec![
                json!({"href": self_link.clone(), "rel": "self", "type": "application/geo+json"}),
            ];
            let more = match (matched, &after) {
                (Some(matched), None) => offset.saturating_add(returned) < matched,
                _ => returned == limit,
            };
            if let (true, Some(last)) = (more, last) {
                links.push(json!({"href": format!("{base}/collections/{id}/items?limit={limit}{params}&after={last}"), "rel": "next", "type": "application/geo+json"}));
            }
            let mut members = serde_json::Map::new();
            members.insert("links".into(), Value::Array(links));
            if let Some(matched) = matched {
                members.insert("numberMatched".into(), json!(matched));
            }
            members.insert("numberReturned".into(), json!(returned));
            members
        });
        let body = crate::export::body(pages, features).await?;
        return Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response());
    }
    let (matched, page, next) = if id == "components" {
        let (matched, page) = component_page(&state, &query, bbox, offset, limit).await?;
        let more = match &after {
            None => offset.saturating_add(page.len()) < matched,
            Some(_) => page.len() == limit,
        };
        let next = page
            .last()
            .and_then(|f| f["id"].as_str())
            .filter(|_| more)
            .map(|last| {
                format!("{base}/collections/{id}/items?limit={limit}{params}&after={last}")
            });
        (matched, page, next)
    } else {
        let (matched, page) = layer_page(&state, &id, bbox, offset, limit).await?;
        let next = (offset.saturating_add(page.len()) < matched).then(|| {
            format!(
                "{base}/collections/{id}/items?limit={limit}&offset={}{params}",
                offset + page.len()
            )
        });
        (matched, page, next)
    };
    let mut links = vec![json!({"href": self_link, "rel": "self", "type": "application/geo+json"})];
    if let Some(next) = next {
        links.push(json!({"href": next, "rel": "next", "type": "application/geo+json"}));
    }
    Ok(geojson(json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.len(),
        "links": links,
        "features": page,
    }))
    .into_response())
}

async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, feature_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    known(&id)?;
    if id == "cases" {
        let actor = signed_in(&state, &headers).await?;
        let case = crate::routes::cases::visible_case(&state, &actor, &feature_id).await?;
        if case.state.is_terminal() {
            return Err(ApiError::not_found("the feature"));
        }
        return Ok(geojson(case_feature(&case)));
    }
    if id == "components" {
        return match state.store.component(&feature_id).await? {
            Some(c) => Ok(geojson(crate::routes::census::component_feature(&c))),
            None => Err(ApiError::not_found("the feature")),
        };
    }
    let found = layer_feature(&state, &id, &feature_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the feature"))?;
    Ok(geojson(found))
}
