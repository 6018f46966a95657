//! The configuration in force, for the administrators who have to know what the node runs
//! with: each setting's value and the layer it came from, secrets never shown.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::CurrentUser;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(settings))
        .route("/nodes", get(nodes))
}

/// Where a setting's value came from, lowest layer first: the built-in default, the
/// configuration file, a `CITYOPS_*` environment variable, or the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    Default,
    File,
    Environment,
    CommandLine,
}

/// One setting of the configuration in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Setting {
    /// Its name in the configuration file (`CITYOPS_` and the upper-case name in the
    /// environment).
    pub key: String,
    /// Its value; a secret (a key, a password in a URL) is `[REDACTED]`.
    pub value: serde_json::Value,
    pub source: SettingSource,
    /// The value holds a secret that is not shown.
    pub secret: bool,
}

/// The node's configuration in force (admins): every setting, its value and where it came
/// from. Secrets (the audit and personal-data keys, passwords inside database and broker
/// URLs) are never sent.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = Vec<Setting>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<Vec<Setting>>> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may read the configuration",
        ));
    }
    Ok(Json(state.config.settings.clone()))
}

/// The nodes sharing this database and which of them runs each background duty (admins):
/// what an operator checks before stopping a node for an upgrade.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "settings",
    responses((status = 200, body = crate::duty::NodesReport), (status = 403, body = crate::error::ErrorBody)))]
pub async fn nodes(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<crate::duty::NodesReport>> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may read the nodes and their duties",
        ));
    }
    Ok(Json(crate::duty::report(&state).await?))
}
