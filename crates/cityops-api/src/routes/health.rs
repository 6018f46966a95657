//! Operations: `/healthz` (the process answers), `/readyz` (the store answers; who holds
//! each background duty) and
//! `/metrics` (Prometheus, for a session or an API key with `read`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::metrics::StateLabels;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

/// Ready when the store answers; says which node this is and which node holds each duty
/// (the same answer on every node: it is read from the database).
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let node = state.duties.holder().to_owned();
    let ready = match state.store.ping().await {
        Ok(()) => crate::duty::holders(&state).await,
        Err(error) => Err(error),
    };
    match ready {
        Ok(duties) => (
            StatusCode::OK,
            Json(
                json!({"status": "ready", "node": node, "version": crate::duty::VERSION, "duties": duties}),
            ),
        ),
        Err(error) => {
            tracing::warn!(%error, "Store is not reachable.");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "store unavailable", "node": node})),
            )
        }
    }
}

/// The operations counters: for monitoring (an API key or a session of staff), not for
/// the public; liveness and readiness stay open for orchestrators.
async fn metrics(
    State(state): State<AppState>,
    crate::extract::CurrentUser(_): crate::extract::CurrentUser,
) -> impl IntoResponse {
    state.metrics.open_cases_indexed.set(
        state
            .open_cases_indexed()
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
    );
    if let Ok(counts) = state.store.case_counts().await {
        // A state that emptied has no row any more: reset all before setting the counts.
        for case_state in cityops_domain::CaseState::ALL {
            state
                .metrics
                .cases
                .get_or_create(&StateLabels {
                    state: case_state.as_str().to_owned(),
                })
                .set(0);
        }
        for (case_state, n) in counts {
            state
                .metrics
                .cases
                .get_or_create(&StateLabels { state: case_state })
                .set(n);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
