//! Likely duplicates of a report being taken down: the open cases of the caller's
//! jurisdiction near its point, reported in the last two weeks, that look like it (see
//! `cityops_domain::duplicates`).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use cityops_domain::duplicates::{self, Probe};
use cityops_domain::{AreaCode, CaseState, CategoryCode, Location, Role};
use cityops_store::CaseQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::views::CaseView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/duplicate-candidates", get(duplicate_candidates))
}

/// Open cases read per street searched: more than a street has open in two weeks.
const CASES_PER_STREET: u32 = 1000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DuplicateQuery {
    /// The report's text as typed.
    #[param(min_length = 1, max_length = 2000)]
    text: String,
    /// Where the problem is (WGS-84), with `lat`; without a point, `area` says where.
    #[param(minimum = 73.0, maximum = 136.0)]
    lon: Option<f64>,
    #[param(minimum = 3.0, maximum = 54.0)]
    lat: Option<f64>,
    /// The street or community of the report (9 or 12 digits), when there is no point.
    #[param(pattern = r"^\d{9}(\d{3})?$")]
    area: Option<String>,
    /// The class given or suggested (5 digits).
    #[param(pattern = r"^[12]\d{4}$")]
    category: Option<String>,
    /// At most this many (1 to 10, default 5).
    #[param(minimum = 1, maximum = 10)]
    limit: Option<u32>,
}

/// An open case that looks like the report, and why.
#[derive(Serialize, ToSchema)]
pub struct DuplicateCandidate {
    pub case: CaseView,
    /// 0 to 1: place, kind of problem, words and time together; proposed from 0.55.
    pub score: f64,
    /// Metres between the two points; none when the report has no point.
    pub distance_m: Option<f64>,
    pub hours_apart: f64,
    /// Both classes known and the same.
    pub same_class: bool,
    /// 0 to 1: how alike the two problems' kinds are (their classes, or the classes their
    /// texts suggest).
    pub kind_similarity: f64,
    /// 0 to 1: the share of words the two texts have in common.
    pub text_similarity: f64,
}

/// Three decimals say all a person reads in a score.
fn rounded(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The open cases likeliest to be the problem being reported (staff), likeliest first: within
/// 300 m of its point (or in its area), reported in the last 14 days, scored by distance, the
/// kind of problem (its class, or the classes its text suggests), shared words and time.
/// Empty when none scores 0.55.
#[utoipa::path(get, path = "/api/v1/duplicate-candidates", tag = "cases",
    params(DuplicateQuery),
    responses((status = 200, body = Vec<DuplicateCandidate>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn duplicate_candidates(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<DuplicateQuery>,
) -> ApiResult<Json<Vec<DuplicateCandidate>>> {
    if actor.role == Role::Citizen {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "duplicate candidates are for staff",
        ));
    }
    let length = query.text.chars().count();
    if !(1..=2000).contains(&length) {
        return Err(ApiError::invalid("text", "a text has 1 to 2000 characters"));
    }
    let limit = query.limit.unwrap_or(5);
    if !(1..=10).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 10"));
    }
    let category = query
        .category
        .as_deref()
        .map(CategoryCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("category", e.reason))?;
    let location = match (query.lon, query.lat) {
        (Some(lon), Some(lat)) => {
            if !(73.0..=136.0).contains(&lon) {
                return Err(ApiError::invalid("lon", "lon is 73 to 136 (China)"));
            }
            if !(3.0..=54.0).contains(&lat) {
                return Err(ApiError::invalid("lat", "lat is 3 to 54 (China)"));
            }
            Some(Location { lon, lat })
        }
        (None, None) => None,
        _ => {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "lat",
                "give lon and lat together",
            ))
        }
    };
    let area = query
        .area
        .as_deref()
        .map(|text| match text.len() {
            9 | 12 => AreaCode::parse(text),
            _ => Err(cityops_domain::InvalidInput::new(
                "area",
                "a street (9 digits) or a community (12 digits)",
            )),
        })
        .transpose()
        .map_err(|e| ApiError::invalid("area", e.reason))?;
    // The streets to read: the point's and those within the radius of it (a problem on a
    // street's edge is reported from both sides), or the area's.
    let mut streets: BTreeSet<AreaCode> = BTreeSet::new();
    if let Some(here) = location {
        if let Some(geography) = state.geography() {
            // 300 m is about 0.0027 degrees of latitude and 0.0032 of longitude here.
            let (dlat, dlon) = (
                duplicates::RADIUS_M / 111_000.0,
                duplicates::RADIUS_M / 94_000.0,
            );
            for (x, y) in [
                (0.0, 0.0),
                (dlon, 0.0),
                (-dlon, 0.0),
                (0.0, dlat),
                (0.0, -dlat),
            ] {
                if let Some(grid) = geography.locate(here.lon + x, here.lat + y) {
                    streets.insert(AreaCode::parse(&grid.street)?);
                }
            }
        }
        if streets.is_empty() && area.is_none() {
            return Err(ApiError::new(
                ErrorCode::OutsideCity,
                "the point lies outside the city's unit grids: give the area",
            )
            .with_field("lon"));
        }
    }
    if streets.is_empty() {
        match &area {
            Some(area) => {
                if state.store.area(area).await?.is_none() {
                    return Err(ApiError::rule(
                        ErrorCode::UnknownReference,
                        "area",
                        format!("area {area} is not a known area of this city"),
                    ));
                }
                streets.insert(area.street().unwrap_or_else(|| area.clone()));
            }
            None => {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "lon",
                    "give the report's point (lon and lat) or its area",
                ))
            }
        }
    }
    let now = Utc::now();
    let mut cases = Vec::new();
    for street in streets {
        let mut q = CaseQuery::for_actor(&actor, now);
        q.area = Some(street);
        q.states = CaseState::OPEN.to_vec();
        q.created_from = Some(now - chrono::Duration::days(duplicates::WINDOW_DAYS));
        q.limit = CASES_PER_STREET;
        cases.extend(state.store.cases(&q).await?.cases);
    }
    let probe = Probe {
        text: &query.text,
        location,
        category: category.as_ref(),
        at: now,
    };
    let calendar = state.working_calendar().await?;
    let share = state.config.deadline_warning_share;
    let model = state.class_model();
    Ok(Json(
        duplicates::likely(&probe, &cases, Some(&model), limit as usize)
            .into_iter()
            .map(|(case, likeness)| DuplicateCandidate {
                case: CaseView::timed(case, now, &actor, &calendar, share),
                score: rounded(likeness.score),
                distance_m: likeness.distance_m.map(|d| d.round()),
                hours_apart: rounded(likeness.hours_apart),
                same_class: likeness.same_class,
                kind_similarity: rounded(likeness.kind_similarity),
                text_similarity: rounded(likeness.text_similarity),
            })
            .collect(),
    ))
}
