//! The audit log, for auditors: read it, verify it, and export its signed checkpoints for
//! anchoring outside CityOps.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cityops_domain::audit::{AuditEntry, Checkpoint};
use cityops_domain::{Actor, Role};
use cityops_store::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(entries))
        .route("/audit/verify", get(verify))
        .route("/audit/checkpoints", get(checkpoints))
}

/// Auditors read the whole log; admins too, since they answer for the system. Nobody else:
/// the log names who looked at which citizen's data.
fn auditor(actor: &Actor) -> ApiResult<()> {
    if matches!(actor.role, Role::Auditor | Role::Admin) && actor.scope.parent().is_none() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only city-level auditors and admins read the audit log",
        ))
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries of this username (or `system`, `anonymous`, `cli:...`).
    actor: Option<String>,
    /// Entries whose action starts with this, e.g. `case.` or `pii.read`.
    action: Option<String>,
    /// Entries about this object, e.g. `case:0193...` or `user:li.ming`.
    object: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// Entries numbered after this one (paging).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// At most this many entries (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    items: Vec<AuditEntry>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<i64>,
}

/// Audit entries, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::error::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(params): QueryArgs<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    auditor(&actor)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 1000"));
    }
    let after = params.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid(
            "after",
            "after is an entry number, 0 or more",
        ));
    }
    let items = state
        .store
        .audit_entries(&AuditQuery {
            actor: params.actor,
            action: params.action,
            object: params.object,
            from: params.from,
            to: params.to,
            after,
            limit,
        })
        .await?;
    let next_after = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { items, next_after }))
}

#[derive(Serialize, ToSchema)]
pub struct Finding {
    /// altered, missing, moved, unlinked, truncated, bad_signature, checkpoint_mismatch
    kind: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyReport {
    intact: bool,
    entries: u64,
    head_seq: i64,
    head_hash: String,
    checkpoints: usize,
    /// False when the server holds no checkpoint key: signatures were not checked.
    signatures_checked: bool,
    findings: Vec<Finding>,
}

/// Checks the whole chain now, as `cityops audit verify` does.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyReport), (status = 403, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<VerifyReport>> {
    auditor(&actor)?;
    let report = cityops_store::audit::verify_log(
        state.store.as_ref(),
        state.config.audit_public_key.as_ref(),
    )
    .await?;
    Ok(Json(VerifyReport {
        intact: report.intact(),
        entries: report.entries,
        head_seq: report.head.seq,
        head_hash: report.head.hash.clone(),
        checkpoints: report.checkpoints,
        signatures_checked: report.signatures_checked,
        findings: report
            .findings
            .iter()
            .map(|f| Finding {
                kind: serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v["kind"].as_str().map(str::to_owned))
                    .unwrap_or_default(),
                message: f.to_string(),
            })
            .collect(),
    }))
}

/// The signed checkpoints, for anchoring outside CityOps (a notary, another authority's
/// archive): whoever holds one can later prove the log up to it was not rewritten.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = Vec<Object>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn checkpoints(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<Vec<Checkpoint>>> {
    auditor(&actor)?;
    Ok(Json(state.store.checkpoints().await?))
}
