//! Likely duplicates of a report being taken down: the open cases of the caller's
//! jurisdiction near its point, reported in the last two weeks, that look like it (see
//! `cityops_domain::duplicates`).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use cityops_domain::classify::ClassModel;
use cityops_domain::duplicates::{self, Likeness, Probe, Reading};
use cityops_domain::{AreaCode, Case, CaseState, CategoryCode, Location, Role};
use cityops_store::CaseQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::views::CaseView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/duplicate-candidates", get(duplicate_candidates))
        .route("/public/duplicate-candidates", get(public_candidates))
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
    let now = Utc::now();
    let probe = Probe {
        text: &query.text,
        location,
        category: category.as_ref(),
        at: now,
    };
    let model = state.class_model();
    let scope = CaseQuery::for_actor(&actor, now);
    let found = match indexed(&state, &probe, &model, &scope, limit as usize).await? {
        Some(found) => found,
        None => {
            let cases = open_cases_near(&state, &scope, location, area).await?;
            duplicates::likely(&probe, &cases, Some(&model), limit as usize)
                .into_iter()
                .map(|(case, likeness)| (case.clone(), likeness))
                .collect()
        }
    };
    let calendar = state.working_calendar().await?;
    let share = state.config.deadline_warning_share;
    Ok(Json(
        found
            .into_iter()
            .map(|(case, likeness)| DuplicateCandidate {
                case: CaseView::timed(&case, now, &actor, &calendar, share),
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicDuplicateQuery {
    /// What the citizen is about to report.
    #[param(min_length = 2, max_length = 2000)]
    text: String,
    /// Where (WGS-84).
    #[param(minimum = 73.0, maximum = 136.0)]
    lon: f64,
    #[param(minimum = 3.0, maximum = 54.0)]
    lat: f64,
    /// The class the citizen chose (5 digits).
    #[param(pattern = r"^[12]\d{4}$")]
    category: Option<String>,
}

/// An open case a citizen may be about to report again: what anyone may read of it by its
/// number, and how near and how alike it is.
#[derive(Serialize, ToSchema)]
pub struct PublicCandidate {
    pub number: String,
    pub state: crate::wire::CaseState,
    pub state_zh: String,
    pub distance_m: f64,
    /// 0 to 1, proposed from 0.55.
    pub score: f64,
}

#[derive(Serialize, ToSchema)]
pub struct PublicCandidates {
    pub candidates: Vec<PublicCandidate>,
}

/// At most this many cases are shown to a citizen.
const PUBLIC_SHOWN: usize = 3;

/// "Already reported": before a citizen sends a report, the open cases near its point that
/// look like it, so they can follow one instead of reporting it again. Only what the case
/// number tells anyone (number and state); at most three.
#[utoipa::path(get, path = "/api/v1/public/duplicate-candidates", tag = "public", security(()),
    params(PublicDuplicateQuery),
    responses((status = 200, body = PublicCandidates), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn public_candidates(
    State(state): State<AppState>,
    QueryArgs(query): QueryArgs<PublicDuplicateQuery>,
) -> ApiResult<Json<PublicCandidates>> {
    let length = query.text.chars().count();
    if !(2..=2000).contains(&length) {
        return Err(ApiError::invalid("text", "a text has 2 to 2000 characters"));
    }
    if !(73.0..=136.0).contains(&query.lon) {
        return Err(ApiError::invalid("lon", "lon is 73 to 136 (China)"));
    }
    if !(3.0..=54.0).contains(&query.lat) {
        return Err(ApiError::invalid("lat", "lat is 3 to 54 (China)"));
    }
    let category = query
        .category
        .as_deref()
        .map(CategoryCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("category", e.reason))?;
    let here = Location {
        lon: query.lon,
        lat: query.lat,
    };
    // Anyone reads the numbers and states of the whole city's cases.
    let city = match state
        .geography()
        .and_then(|g| g.locate(here.lon, here.lat).map(|grid| grid.street.clone()))
    {
        Some(street) => AreaCode::parse(&street)?.city(),
        None => {
            return Err(ApiError::new(
                ErrorCode::OutsideCity,
                "the point lies outside the city's unit grids",
            )
            .with_field("lon"))
        }
    };
    let now = Utc::now();
    let probe = Probe {
        text: &query.text,
        location: Some(here),
        category: category.as_ref(),
        at: now,
    };
    let model = state.class_model();
    let scope = CaseQuery::new(city, now);
    let found = match indexed(&state, &probe, &model, &scope, PUBLIC_SHOWN).await? {
        Some(found) => found,
        None => {
            let cases = open_cases_near(&state, &scope, Some(here), None).await?;
            duplicates::likely(&probe, &cases, Some(&model), PUBLIC_SHOWN)
                .into_iter()
                .map(|(case, likeness)| (case.clone(), likeness))
                .collect()
        }
    };
    let candidates = found
        .into_iter()
        .map(|(case, likeness)| PublicCandidate {
            number: case.number.0.clone(),
            state: crate::wire::Wire(case.state),
            state_zh: case.state.zh().to_owned(),
            distance_m: likeness.distance_m.unwrap_or(0.0).round(),
            score: rounded(likeness.score),
        })
        .collect();
    Ok(Json(PublicCandidates { candidates }))
}

/// The likeliest open cases from the node's index of open cases (see `crate::open_cases`),
/// when the report has a point in the city and the index is filled: read again from the
/// store (the index may not have seen the latest change yet) and scored as they are now.
/// `None` when the streets must be read instead.
async fn indexed(
    state: &AppState,
    probe: &Probe<'_>,
    model: &ClassModel,
    scope: &CaseQuery,
    limit: usize,
) -> ApiResult<Option<Vec<(Case, Likeness)>>> {
    let Some(here) = probe.location else {
        return Ok(None);
    };
    let in_city = state
        .geography()
        .is_some_and(|g| g.locate(here.lon, here.lat).is_some());
    if !in_city {
        return Ok(None);
    }
    let visible = |area: &AreaCode, unit: Option<&str>| {
        area.as_str().starts_with(scope.scope.subtree_prefix())
            && scope
                .jurisdiction_unit
                .as_deref()
                .is_none_or(|only| unit == Some(only))
    };
    let reading = Reading::of(probe.text, probe.category, Some(model));
    let Some(ids) = crate::open_cases::likeliest_near(
        state,
        probe,
        &reading,
        |case| visible(&case.area, case.unit.as_deref()),
        limit,
    ) else {
        return Ok(None);
    };
    let mut found = Vec::with_capacity(ids.len());
    for (id, _) in ids {
        let Some(case) = state.store.case(&id).await? else {
            continue;
        };
        if !visible(&case.area, case.unit.as_deref()) {
            continue;
        }
        if let Some(likeness) = duplicates::likeness(probe, &case, Some(model)) {
            found.push((case, likeness));
        }
    }
    found.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then_with(|| a.0.number.0.cmp(&b.0.number.0))
    });
    Ok(Some(found))
}

/// The open cases reported in the last two weeks in the streets within the radius of `here`
/// (a problem on a street's edge is reported from both sides), or in `area` when there is no
/// point, as far as `base` (the reader's scope) lets them be read.
async fn open_cases_near(
    state: &AppState,
    base: &CaseQuery,
    location: Option<Location>,
    area: Option<AreaCode>,
) -> ApiResult<Vec<cityops_domain::Case>> {
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
    let mut cases = Vec::new();
    for street in streets {
        let mut q = base.clone();
        q.area = Some(street);
        q.states = CaseState::OPEN.to_vec();
        q.created_from = Some(base.now - chrono::Duration::days(duplicates::WINDOW_DAYS));
        q.limit = CASES_PER_STREET;
        cases.extend(state.store.cases(&q).await?.cases);
    }
    Ok(cases)
}
