//! `/stream`: live case changes, alarm transitions and vital signs as server-sent events,
//! each filtered to the subscriber's jurisdiction; the stream ends when the session does.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::Stream;
use tokio_stream::StreamExt;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::token_hash;
use crate::routes::emergencies::{
    EmergencyChange, IncidentChangeEvent, IncidentView, WarningEvent, WarningView,
};
use crate::wire::{self, ClientName, Wire};
use crate::{AppState, CaseChange};

/// How often an open stream re-checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(3);

pub fn router() -> Router<AppState> {
    Router::new().route("/stream", get(stream))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// The session token, for clients (EventSource) that cannot send an Authorization header.
    access_token: Option<String>,
}

/// One committed case change (`event: case`).
#[derive(Serialize, ToSchema)]
pub struct CaseEvent {
    pub id: String,
    pub number: String,
    /// The command, e.g. `report`, `request-extension`.
    pub action: wire::CommandWireName,
    pub state: wire::CaseState,
    pub state_zh: String,
    pub district: String,
    pub area: String,
    pub category: Option<String>,
    pub category_zh: Option<String>,
    pub source: wire::CaseSource,
    /// The description, cut to 80 characters.
    pub description: String,
    pub urgent: bool,
    /// The running stage's yellow (`due`) or red (`overdue`) as the overdue watch announced
    /// it; none while it has announced nothing. To an assisting unit (协办), its own part's.
    pub mark: Option<wire::DeadlineMark>,
    /// Where the overdue watch last escalated the case, if it did.
    pub escalated_to: Option<wire::EscalationTarget>,
    pub at: chrono::DateTime<Utc>,
}

/// An alarm transition (`event: alarm`): raised, reopened, repeated, cleared or acknowledged.
#[derive(Serialize, ToSchema)]
pub struct AlarmEvent {
    pub action: wire::AlarmChange,
    pub alarm: crate::routes::telemetry::AlarmView,
}

/// Live case changes, alarm transitions and vital signs within the caller's jurisdiction, as
/// Server-Sent Events: `case` (a `CaseEvent`), `alarm` (an `AlarmEvent`), `vital_signs` (a
/// `VitalSignsView`, every few seconds), `warning` (a `WarningEvent`: an early warning
/// concerning the caller's areas issued, updated or lifted), `incident` (an `IncidentChangeEvent`,
/// as the caller may see the incident) and `lagged` (how many events the subscriber missed).
///
/// Every `case` event has an id (its place in the database's order of changes, the same on
/// every node). A client that reconnects, to this node or another, with `Last-Event-ID` set
/// to the last id it received is first given the changes it missed, each once, then the live
/// ones; one too far behind is sent `lagged` instead.
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream",
    params(StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,18}$",
         description = "Resume after this case event: the changes since are sent first")),
    responses((status = 200, description = "text/event-stream of `case`, `alarm` and `vital_signs` events", body = CaseEvent),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let token = crate::extract::presented_token(&axum::http::Method::GET, &headers)?
        .or(query.access_token)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "send Authorization: Bearer <token>, the session cookie or ?access_token=",
            )
        })?;
    let viewer = crate::extract::session_actor(&state, &token).await?;
    let last_event_id = last_event_id(&headers)?;
    let scope = viewer.scope.clone();
    let viewer_for_emergencies = viewer.clone();
    let telemetry_scope = scope.clone();
    let telemetry = match &state.telemetry {
        Some(handle) => BroadcastStream::new(handle.subscribe()),
        // No pipeline on this node: a stream that never yields.
        None => BroadcastStream::new(tokio::sync::broadcast::channel(1).1),
    };
    let telemetry = telemetry.filter_map(move |event| match event {
        Ok(cityops_telemetry::TelemetryEvent::Alarm(alarm, action))
            if telemetry_scope.contains(&alarm.area) =>
        {
            let view = AlarmEvent {
                action: Wire(action),
                alarm: crate::routes::telemetry::AlarmView::new((*alarm).clone()),
            };
            Event::default().event("alarm").json_data(view).ok().map(Ok)
        }
        Ok(cityops_telemetry::TelemetryEvent::Vitals(vitals)) => {
            let view = crate::routes::telemetry::vitals_view(&vitals, &telemetry_scope);
            Event::default()
                .event("vital_signs")
                .json_data(view)
                .ok()
                .map(Ok)
        }
        // Alarms the subscriber missed are told as the cases' are: the screen reloads.
        Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Ok(Event::default()
            .event("lagged")
            .data(missed.to_string()))),
        _ => None,
    });
    // Subscribed before the replay is read, so that no change falls between the two.
    let live = BroadcastStream::new(state.changes.subscribe());
    let (replayed, through) = match last_event_id {
        Some(after) => {
            let replay = crate::outbox::replay(&state, after).await?;
            let replayed: Vec<Result<CaseChange, BroadcastStreamRecvError>> = replay
                .missed
                .map(|missed| Err(BroadcastStreamRecvError::Lagged(missed)))
                .into_iter()
                .chain(replay.changes.into_iter().map(Ok))
                .collect();
            (replayed, replay.through)
        }
        None => (Vec::new(), i64::MIN),
    };
    // Live changes the replay gave (or reported missed) are passed over.
    let live = live.filter(move |change| !matches!(change, Ok(c) if c.seq <= through));
    let events = tokio_stream::iter(replayed)
        .chain(live)
        .filter_map(move |change| match change {
            Ok(change) if viewer.can_see_case(&change.case) => {
                let case = &change.case;
                let view = CaseEvent {
                    id: case.id.clone(),
                    number: case.number.0.clone(),
                    action: Wire(ClientName(change.action)),
                    state: Wire(case.state),
                    state_zh: case.state.zh().to_owned(),
                    district: case.district.to_string(),
                    area: case.area.to_string(),
                    category: case
                        .category
                        .as_ref()
                        .map(|c| c.code.to_string())
                        .or_else(|| case.category_hint.as_ref().map(|c| c.to_string())),
                    category_zh: case.category.as_ref().map(|c| c.zh.clone()),
                    source: Wire(case.source),
                    description: case.description.chars().take(80).collect(),
                    urgent: case.urgent,
                    mark: announced_to(&viewer, case).map(Wire),
                    escalated_to: case
                        .announced()
                        .and_then(|w| w.escalated.as_ref())
                        .map(|e| Wire(e.to)),
                    at: change.at,
                };
                Event::default()
                    .id(change.seq.to_string())
                    .event("case")
                    .json_data(view)
                    .ok()
                    .map(Ok)
            }
            Ok(_) => None,
            // The subscriber fell behind; tell it, so a screen can reload its numbers.
            Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Ok(Event::default()
                .event("lagged")
                .data(missed.to_string()))),
        });
    let emergency_viewer = viewer_for_emergencies;
    let emergencies = BroadcastStream::new(state.emergencies.subscribe()).filter_map(
        move |change| match change {
            Ok(EmergencyChange::Warning(warning, action))
                if warning.concerns(&emergency_viewer.scope) =>
            {
                let view = WarningEvent {
                    action: action.to_owned(),
                    warning: WarningView::new(&warning, Utc::now()),
                };
                Event::default()
                    .event("warning")
                    .json_data(view)
                    .ok()
                    .map(Ok)
            }
            Ok(EmergencyChange::Incident(incident, action))
                if incident.visible_to(&emergency_viewer) =>
            {
                let view = IncidentChangeEvent {
                    action: action.to_owned(),
                    incident: IncidentView::new(&incident, &emergency_viewer, Utc::now()),
                };
                Event::default()
                    .event("incident")
                    .json_data(view)
                    .ok()
                    .map(Ok)
            }
            _ => None,
        },
    );
    // The stream ends when the server stops, or when its session does (signed out, user
    // disabled, password reset, expired), checked every few seconds.
    let store = state.store.clone();
    let hash = token_hash(token.trim());
    let session_over = async move {
        let mut every = tokio::time::interval(SESSION_CHECK);
        every.tick().await;
        loop {
            every.tick().await;
            if !matches!(store.session_user(&hash, Utc::now()).await, Ok(Some(_))) {
                break;
            }
        }
    };
    let end = futures_util::future::select(Box::pin(state.stopped()), Box::pin(session_over));
    let events =
        futures_util::StreamExt::take_until(events.merge(telemetry).merge(emergencies), end);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The `Last-Event-ID` a reconnecting EventSource sends: the id of the last case event it
/// received, from this node or another.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    // An EventSource that has received no event with an id sends none, or an empty one.
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(
                "Last-Event-ID",
                "the id of a case event this stream sent: a whole number",
            )
        })
}

/// The mark the watch announced that matters to `viewer`: an assisting unit's own part's,
/// else the running stage's.
fn announced_to(
    viewer: &cityops_domain::Actor,
    case: &cityops_domain::Case,
) -> Option<cityops_domain::case::DeadlineMark> {
    let assisting = viewer
        .case_unit_restriction()
        .filter(|unit| case.unit.as_deref() != Some(*unit))
        .and_then(|unit| case.assists.iter().rev().find(|p| p.unit == unit));
    match assisting {
        Some(part) => (!part.mark.is_on_time()).then_some(part.mark),
        None => case.announced().map(|w| w.mark),
    }
}
