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

use crate::error::{ApiError, ApiResult};
use crate::routes::geo::feature;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/collections", get(collections))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{feature}", get(item))
}

const COLLECTIONS: [(&str, &str); 5] = [
    ("districts", "Districts (区)"),
    ("streets", "Streets and towns (街道/镇)"),
    ("communities", "Communities (居委会/村委会)"),
    ("unit-grids", "Unit grids (单元网格)"),
    ("components", "Components of the census (部件)"),
];
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

/// Links must be absolute: clients follow `next` verbatim.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/ogc")
}

fn geojson(value: Value) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(value),
    )
}

async fn landing(headers: HeaderMap) -> Json<Value> {
    let base = base(&headers);
    Json(json!({
        "title": "CityOps",
        "description": "The city's areas and unit grids as OGC API Features",
        "links": [
            {"href": base, "rel": "self", "type": "application/json", "title": "this document"},
            {"href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json"},
            {"href": format!("{base}/collections"), "rel": "data", "type": "application/json"},
            {"href": base.replace("/ogc", "/api/v1/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0"},
        ]
    }))
}

async fn conformance() -> Json<Value> {
    Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
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

async fn collections(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base(&headers);
    Json(json!({
        "links": [{"href": format!("{base}/collections"), "rel": "self", "type": "application/json"}],
        "collections": COLLECTIONS.iter().map(|(id, title)| describe(&base, id, title, &state)).collect::<Vec<_>>(),
    }))
}

async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let title = known(&id)?;
    Ok(Json(describe(&base(&headers), &id, title, &state)))
}

#[derive(Deserialize)]
pub struct ItemsQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    bbox: Option<String>,
    /// Property filters of the components collection.
    class: Option<String>,
    status: Option<String>,
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
        offset: offset as u64,
        limit: limit as u32,
        ..cityops_store::ComponentQuery::within(city.code)
    };
    let matched = state.store.count_components(&q).await? as usize;
    let page = state.store.components(&q).await?;
    Ok((
        matched,
        page.iter()
            .map(crate::routes::census::component_feature)
            .collect(),
    ))
}

/// Every feature of a collection meeting the box, in code order.
async fn features(
    state: &AppState,
    id: &str,
    bbox: Option<[f64; 4]>,
) -> ApiResult<Vec<(String, Value)>> {
    let meets = |b: &geo::Rect<f64>| {
        bbox.is_none_or(|[x0, y0, x1, y1]| {
            b.max().x >= x0 && b.min().x <= x1 && b.max().y >= y0 && b.min().y <= y1
        })
    };
    let names = |level| crate::routes::geo::area_names(state, level);
    let geometry = state.geometry();
    let geography = || {
        geometry
            .geography
            .as_deref()
            .ok_or_else(|| ApiError::not_found("the collection (no generated geography is loaded)"))
    };
    let mut list: Vec<(String, Value)> = match id {
        "districts" => geometry
            .districts
            .areas()
            .iter()
            .filter(|d| meets(&d.bbox))
            .map(|d| {
                (
                    d.code.clone(),
                    feature(&d.code, Some(&d.name), json!({}), &d.shape),
                )
            })
            .collect(),
        "streets" | "communities" => {
            let (regions, level) = if id == "streets" {
                (&geography()?.streets, AreaLevel::Street)
            } else {
                (&geography()?.communities, AreaLevel::Community)
            };
            let names = names(level).await?;
            regions
                .iter()
                .filter(|r| meets(&r.bbox))
                .map(|r| {
                    (
                        r.code.clone(),
                        feature(
                            &r.code,
                            names.get(&r.code).map(String::as_str),
                            json!({}),
                            &r.shape,
                        ),
                    )
                })
                .collect()
        }
        "unit-grids" => {
            let geography = geography()?;
            let grids: Vec<&cityops_geo::UnitGrid> = match bbox {
                Some([x0, y0, x1, y1]) => geography.grids_in((x0, y0), (x1, y1)).collect(),
                None => geography.grids.iter().collect(),
            };
            grids
                .into_iter()
                .map(|g| {
                    let props = json!({"community": g.community, "street": g.street, "district": g.district,
                        "responsibility_grid": g.responsibility_grid, "area_m2": g.area_m2.round()});
                    (g.code.clone(), feature(&g.code, None, props, &g.shape))
                })
                .collect()
        }
        _ => return Err(ApiError::not_found("the collection")),
    };
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(list)
}

async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ItemsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    known(&id)?;
    let Query(query) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit is 1 to {MAX_LIMIT}"),
        ));
    }
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
    let (matched, page) = if id == "components" {
        component_page(&state, &query, bbox, offset, limit).await?
    } else {
        let all = features(&state, &id, bbox).await?;
        let matched = all.len();
        let page: Vec<Value> = all
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, f)| f)
            .collect();
        (matched, page)
    };
    let base = base(&headers);
    let mut bbox_param = query
        .bbox
        .as_ref()
        .map(|b| format!("&bbox={b}"))
        .unwrap_or_default();
    for (name, value) in [("class", &query.class), ("status", &query.status)] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            bbox_param.push_str(&format!("&{name}={value}"));
        }
    }
    let mut links = vec![
        json!({"href": format!("{base}/collections/{id}/items?limit={limit}&offset={offset}{bbox_param}"), "rel": "self", "type": "application/geo+json"}),
    ];
    if offset + page.len() < matched {
        links.push(json!({"href": format!("{base}/collections/{id}/items?limit={limit}&offset={}{bbox_param}", offset + page.len()), "rel": "next", "type": "application/geo+json"}));
    }
    Ok(geojson(json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.len(),
        "links": links,
        "features": page,
    })))
}

async fn item(
    State(state): State<AppState>,
    Path((id, feature_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    known(&id)?;
    if id == "components" {
        return match state.store.component(&feature_id).await? {
            Some(c) => Ok(geojson(crate::routes::census::component_feature(&c))),
            None => Err(ApiError::not_found("the feature")),
        };
    }
    let all = features(&state, &id, None).await?;
    let found = all
        .into_iter()
        .find(|(code, _)| *code == feature_id)
        .map(|(_, f)| f)
        .ok_or_else(|| ApiError::not_found("the feature"))?;
    Ok(geojson(found))
}
