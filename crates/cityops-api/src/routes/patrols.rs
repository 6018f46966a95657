//! Patrols (巡查): an inspector goes on duty, their phone sends a position every
//! `patrol_interval_secs` (in batches, and later when it was offline), and goes off duty; the
//! shift lead and the center's leaders see where the grids were walked. A track is personal
//! data: only the inspector and those over their jurisdiction read it, each read by another
//! is on the audit log, and ended tracks are deleted after `patrol_retention_days`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cityops_domain::patrol::{Fix, Patrol};
use cityops_domain::{Actor, Location, Role};
use cityops_store::PatrolQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::routes::cases::{new_id, now};
use crate::AppState;

/// The most positions one request carries: a phone offline for four hours at the default
/// interval sends its track in a single batch.
pub const MAX_POSITIONS: usize = 500;

/// The longest period one list covers, in days.
pub const MAX_PERIOD_DAYS: i64 = 31;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patrols", get(patrols).post(go_on_duty))
        .route("/patrols/{id}", get(patrol_track))
        .route("/patrols/{id}/positions", post(add_positions))
        .route("/patrols/{id}/end", post(go_off_duty))
}

/// A position of the inspector's phone.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionView {
    /// When the phone took it: while the patrol ran (a phone's clock may be two minutes off),
    /// not in the future.
    pub at: DateTime<Utc>,
    /// WGS-84 longitude.
    #[schema(minimum = 73.0, maximum = 136.0)]
    pub lon: f64,
    #[schema(minimum = 3.0, maximum = 54.0)]
    pub lat: f64,
    /// How far off it may be, in metres (the Geolocation API's `accuracy`), 0 to 5000.
    #[schema(minimum = 0.0, maximum = 5000.0)]
    pub accuracy_m: f64,
}

impl From<&Fix> for PositionView {
    fn from(fix: &Fix) -> PositionView {
        PositionView {
            at: fix.at,
            lon: fix.location.lon,
            lat: fix.location.lat,
            accuracy_m: fix.accuracy_m,
        }
    }
}

/// A patrol: an inspector's time on duty, with what their track adds up to.
#[derive(Serialize, ToSchema)]
pub struct PatrolView {
    pub id: String,
    pub user_id: String,
    pub username: String,
    /// The inspector's jurisdiction when they went on duty.
    pub area: String,
    pub started_at: DateTime<Utc>,
    /// `null` while on duty.
    pub ended_at: Option<DateTime<Utc>>,
    /// How many positions the track holds.
    pub positions: u32,
    /// The length walked in metres; a phone's wandering while it stands still is not counted.
    pub distance_m: f64,
    /// The latest position by time.
    pub last: Option<PositionView>,
    /// Seconds between two positions the phone records.
    pub interval_seconds: u32,
}

impl PatrolView {
    fn new(patrol: &Patrol, interval_seconds: u32) -> PatrolView {
        PatrolView {
            id: patrol.id.clone(),
            user_id: patrol.user_id.clone(),
            username: patrol.username.clone(),
            area: patrol.area.as_str().to_owned(),
            started_at: patrol.started_at,
            ended_at: patrol.ended_at,
            positions: patrol.positions,
            distance_m: (patrol.distance_m * 10.0).round() / 10.0,
            last: patrol.last.as_ref().map(PositionView::from),
            interval_seconds,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionsRequest {
    /// 1 to 500 positions, in any order; one whose time the track already holds is skipped
    /// (a batch sent twice adds nothing).
    #[schema(min_items = 1, max_items = 500)]
    pub positions: Vec<PositionView>,
}

#[derive(Serialize, ToSchema)]
pub struct PositionsAccepted {
    /// How many of the positions were new to the track.
    pub accepted: u32,
    pub patrol: PatrolView,
}

/// A patrol's track as a GeoJSON Feature: a `LineString` through its positions in time order
/// (a `Point` with one position, `null` with none), the patrol in its properties with each
/// position's time and accuracy beside the coordinates.
#[derive(Serialize, ToSchema)]
pub struct PatrolTrack {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
    pub properties: TrackProperties,
}

#[derive(Serialize, ToSchema)]
pub struct TrackProperties {
    #[serde(flatten)]
    pub patrol: PatrolView,
    /// The time of each coordinate, in order.
    pub times: Vec<DateTime<Utc>>,
    /// The accuracy of each coordinate in metres, in order.
    pub accuracy_m: Vec<f64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PatrolListQuery {
    /// Only this inspector's patrols (a username); an inspector may name only themself.
    #[param(min_length = 1, max_length = 64)]
    user: Option<String>,
    /// The first day (Asia/Shanghai), today when unset.
    from: Option<NaiveDate>,
    /// The last day (Asia/Shanghai), at most 31 days after `from`; `from` when unset.
    to: Option<NaiveDate>,
    /// Only the patrols on duty now (`true`) or those ended (`false`).
    open: Option<bool>,
}

/// Who may read patrols other than their own: those who run the inspectors.
fn oversees_patrols(role: Role) -> bool {
    matches!(role, Role::ShiftLead | Role::CenterLeader)
}

/// The patrol if the actor may read it: their own, or one within the jurisdiction of a
/// shift lead or leader. Anyone else is told there is none.
async fn readable_patrol(state: &AppState, actor: &Actor, id: &str) -> ApiResult<Patrol> {
    let patrol = state.store.patrol(id).await?;
    patrol
        .filter(|p| {
            p.user_id == actor.user_id || (oversees_patrols(actor.role) && actor.can_see(&p.area))
        })
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such patrol"))
}

/// The actor's own patrol, which only they write to.
async fn own_patrol(state: &AppState, actor: &Actor, id: &str) -> ApiResult<Patrol> {
    let patrol = readable_patrol(state, actor, id).await?;
    if patrol.user_id != actor.user_id {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only the inspector on the patrol records it",
        ));
    }
    Ok(patrol)
}

fn view(state: &AppState, patrol: &Patrol) -> PatrolView {
    PatrolView::new(patrol, state.config.patrol_interval_secs)
}

/// Goes on duty: starts the signed-in inspector's patrol, or answers the one already open.
#[utoipa::path(post, path = "/api/v1/patrols", tag = "patrols",
    responses((status = 201, description = "on duty", body = PatrolView),
        (status = 200, description = "already on duty: the open patrol", body = PatrolView),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn go_on_duty(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<(StatusCode, Json<PatrolView>)> {
    if actor.role != Role::Inspector {
        return Err(ApiError::new(
            ErrorCode::RoleNotAllowed,
            "only inspectors go on patrol",
        ));
    }
    let patrol = Patrol::start(
        new_id(),
        actor.user_id.clone(),
        actor.username.clone(),
        actor.scope.clone(),
        now(),
    );
    let (patrol, started) = state.store.start_patrol(&patrol).await?;
    let status = if started {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&state, &patrol))))
}

/// Adds positions to the inspector's own patrol, also after it ended if they were taken while
/// it ran (a phone that was offline). Nothing is added unless every position is good: each
/// inside the city, at a time the patrol ran, with an accuracy from 0 to 5000 m.
#[utoipa::path(post, path = "/api/v1/patrols/{id}/positions", tag = "patrols",
    params(("id" = String, Path)),
    request_body = PositionsRequest,
    responses((status = 200, body = PositionsAccepted), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_positions(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<PositionsRequest>,
) -> ApiResult<Json<PositionsAccepted>> {
    if request.positions.is_empty() || request.positions.len() > MAX_POSITIONS {
        return Err(ApiError::invalid(
            "positions",
            format!("1 to {MAX_POSITIONS} positions in one request"),
        ));
    }
    let patrol = own_patrol(&state, &actor, &id).await?;
    let at = now();
    let geometry = state.geometry();
    let mut fixes = Vec::with_capacity(request.positions.len());
    for (n, position) in request.positions.iter().enumerate() {
        let field = |name: &str| format!("positions[{n}].{name}");
        let location = Location::new(position.lon, position.lat).map_err(|e| {
            let coordinate = e.field.rsplit('.').next().unwrap_or("lon");
            ApiError::invalid(field(coordinate), e.reason)
        })?;
        if geometry
            .districts
            .locate(location.lon, location.lat)
            .is_none()
        {
            return Err(ApiError::new(
                ErrorCode::OutsideCity,
                "this position is outside the city's districts",
            )
            .with_field(field("lon")));
        }
        let fix = Fix {
            at: position.at,
            location,
            accuracy_m: position.accuracy_m,
        };
        patrol.accepts(&fix, at).map_err(|e| match e {
            cityops_domain::patrol::FixRefused::Accuracy => {
                ApiError::invalid(field(e.field()), e.to_string())
            }
            // A time the patrol did not run: a rule between the position and the patrol.
            _ => ApiError::rule(
                ErrorCode::InconsistentFields,
                field(e.field()),
                e.to_string(),
            ),
        })?;
        fixes.push(fix);
    }
    let (accepted, patrol) = state
        .store
        .add_fixes(&id, &fixes)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such patrol"))?;
    Ok(Json(PositionsAccepted {
        accepted,
        patrol: view(&state, &patrol),
    }))
}

/// Goes off duty; a patrol already ended is answered as it is.
#[utoipa::path(post, path = "/api/v1/patrols/{id}/end", tag = "patrols",
    params(("id" = String, Path)),
    responses((status = 200, body = PatrolView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn go_off_duty(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<PatrolView>> {
    own_patrol(&state, &actor, &id).await?;
    let patrol = state
        .store
        .end_patrol(&id, now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such patrol"))?;
    Ok(Json(view(&state, &patrol)))
}

/// The start of a day in Asia/Shanghai.
fn day_start(date: NaiveDate) -> DateTime<Utc> {
    cityops_domain::case::china_time()
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .single()
        .map_or_else(
            || date.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.to_utc(),
        )
}

/// The patrols that ran on the days asked for, the latest started first: an inspector's own,
/// or, for shift leads and leaders, those of the inspectors within their jurisdiction.
#[utoipa::path(get, path = "/api/v1/patrols", tag = "patrols",
    params(PatrolListQuery),
    responses((status = 200, body = Vec<PatrolView>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn patrols(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<PatrolListQuery>,
) -> ApiResult<Json<Vec<PatrolView>>> {
    let user_id = match (actor.role, query.user.as_deref()) {
        (Role::Inspector, None) => Some(actor.user_id.clone()),
        (Role::Inspector, Some(name)) if name == actor.username => Some(actor.user_id.clone()),
        (Role::Inspector, Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "an inspector reads their own patrols only",
            )
            .with_field("user"))
        }
        (role, _) if !oversees_patrols(role) => {
            return Err(ApiError::new(
                ErrorCode::RoleNotAllowed,
                "patrols are read by their inspectors, shift leads and leaders",
            ))
        }
        (_, None) => None,
        (_, Some(name)) => match state.store.user_by_name(name).await? {
            Some(user) => Some(user.id),
            // Nobody of that name walked anywhere: an empty list, not a way to probe names.
            None => return Ok(Json(Vec::new())),
        },
    };
    let today = now()
        .with_timezone(&cityops_domain::case::china_time())
        .date_naive();
    let from = query.from.unwrap_or(today);
    let to = query.to.unwrap_or(from);
    if from > to {
        return Err(ApiError::new(ErrorCode::InvalidPeriod, "from is after to").with_field("from"));
    }
    if (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(ApiError::new(
            ErrorCode::InvalidPeriod,
            format!("a list covers at most {MAX_PERIOD_DAYS} days"),
        )
        .with_field("to"));
    }
    let list = state
        .store
        .patrols(&PatrolQuery {
            within: actor.scope.clone(),
            user_id,
            from: day_start(from),
            to: day_start(to + chrono::Days::new(1)),
            open: query.open,
            limit: 1000,
        })
        .await?;
    Ok(Json(list.iter().map(|p| view(&state, p)).collect()))
}

/// A patrol's track, as a GeoJSON Feature. Reading another person's track is on the audit log.
#[utoipa::path(get, path = "/api/v1/patrols/{id}", tag = "patrols",
    params(("id" = String, Path)),
    responses((status = 200, body = PatrolTrack, content_type = "application/geo+json"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn patrol_track(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(
    [(axum::http::HeaderName, &'static str); 1],
    Json<PatrolTrack>,
)> {
    let patrol = readable_patrol(&state, &actor, &id).await?;
    if patrol.user_id != actor.user_id {
        let record = cityops_store::audit::record("patrol.read", format!("patrol:{id}"))
            .detail(format!("track of inspector {}", patrol.username));
        state.store.append_audit(vec![record]).await?;
    }
    let track = state.store.track(&id).await?;
    let coordinates: Vec<[f64; 2]> = track
        .iter()
        .map(|f| [f.location.lon, f.location.lat])
        .collect();
    let geometry = match coordinates.as_slice() {
        [] => None,
        [point] => Some(serde_json::json!({ "type": "Point", "coordinates": point })),
        line => Some(serde_json::json!({ "type": "LineString", "coordinates": line })),
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        Json(PatrolTrack {
            kind: "Feature",
            id: patrol.id.clone(),
            geometry,
            properties: TrackProperties {
                patrol: view(&state, &patrol),
                times: track.iter().map(|f| f.at).collect(),
                accuracy_m: track.iter().map(|f| f.accuracy_m).collect(),
            },
        }),
    ))
}
