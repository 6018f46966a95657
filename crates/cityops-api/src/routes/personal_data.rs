//! A citizen's rights over their personal data: a data steward, answering the citizen's
//! request, exports everything CityOps holds under their phone number, or erases it from the
//! cases that are finished (an open case still needs a way to call back).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cityops_domain::{Actor, Case, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/personal-data", get(export).delete(erase))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Subject {
    /// The phone number the citizen reported with.
    #[param(pattern = r"^\s*\+?[ ().-]*([0-9][ ().-]*){5,20}\s*$")]
    phone: String,
    /// The citizen's request this answers (its reference, e.g. a letter or ticket number):
    /// recorded with the export or erasure on the audit log, so the log says why.
    #[param(max_length = 100, pattern = r"\S")]
    request: Option<String>,
}

impl Subject {
    /// The request's reference, checked: 1 to 100 characters, not blank.
    fn request(&self) -> ApiResult<Option<String>> {
        match self.request.as_deref().map(str::trim) {
            None => Ok(None),
            Some(text) if text.is_empty() || text.chars().count() > 100 => Err(ApiError::invalid(
                "request",
                "request is 1 to 100 characters, not blank",
            )),
            Some(text) => Ok(Some(text.to_owned())),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HeldCase {
    number: String,
    state: wire::CaseState,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    description: String,
    name: Option<String>,
    phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonalDataExport {
    cases: Vec<HeldCase>,
}

#[derive(Serialize, ToSchema)]
pub struct Erasure {
    /// Finished cases whose contact was removed.
    anonymised: u64,
    /// Open cases that keep the contact until they finish (then retention removes it).
    kept_open: Vec<String>,
}

fn steward(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::DataSteward {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only data stewards answer citizens' requests about their personal data",
        ))
    }
}

async fn subject_cases(state: &AppState, actor: &Actor, phone: &str) -> ApiResult<Vec<Case>> {
    // One form, as on the way in: `+86 139-0000-1111` finds `13900001111`.
    let phone = cityops_domain::normalize_phone(phone)
        .map_err(|invalid| ApiError::invalid("phone", invalid.reason))?;
    let cases = state.store.cases_of_reporter(&phone).await?;
    Ok(cases
        .into_iter()
        .filter(|c| actor.can_see(&c.area))
        .collect())
}

/// Everything held under a phone number, in clear, for the citizen who asked.
#[utoipa::path(get, path = "/api/v1/personal-data", tag = "personal data", params(Subject),
    responses((status = 200, body = PersonalDataExport), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(subject): QueryArgs<Subject>,
) -> ApiResult<Json<PersonalDataExport>> {
    steward(&actor)?;
    let request = subject.request()?;
    let cases = subject_cases(&state, &actor, &subject.phone).await?;
    let record = cityops_store::audit::record(
        "pii.export",
        format!("phone:{}", cityops_domain::mask_phone(&subject.phone)),
    )
    .detail(match &request {
        Some(request) => format!("{} cases; request {request}", cases.len()),
        None => format!("{} cases", cases.len()),
    });
    state.store.append_audit(vec![record]).await?;
    let mut held = Vec::with_capacity(cases.len());
    for c in cases {
        // The citizen gets what they wrote, in clear: the report's own text.
        let said = state
            .store
            .timeline(&c.id)
            .await?
            .into_iter()
            .find(|e| e.command.kind() == cityops_domain::CommandKind::Report)
            .and_then(|mut e| e.clear_text.remove("description"));
        held.push(HeldCase {
            number: c.number.0,
            state: Wire(c.state),
            created_at: c.created_at,
            closed_at: c.closed_at,
            description: said.unwrap_or(c.description),
            name: c.reporter.as_ref().and_then(|r| r.name.clone()),
            phone: c.reporter.as_ref().and_then(|r| r.phone.clone()),
        });
    }
    Ok(Json(PersonalDataExport { cases: held }))
}

/// Erase a citizen's name and phone from their finished cases.
#[utoipa::path(delete, path = "/api/v1/personal-data", tag = "personal data", params(Subject),
    responses((status = 200, body = Erasure), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(subject): QueryArgs<Subject>,
) -> ApiResult<Json<Erasure>> {
    steward(&actor)?;
    let request = subject.request()?;
    let cases = subject_cases(&state, &actor, &subject.phone).await?;
    let (finished, open): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.state.is_terminal());
    let ids: Vec<String> = finished.into_iter().map(|c| c.id).collect();
    let reason = match &request {
        Some(request) => format!("the citizen asked for erasure (request {request})"),
        None => "the citizen asked for erasure".to_owned(),
    };
    let anonymised = state
        .store
        .anonymise_reporters(&ids, &actor, &reason, Utc::now())
        .await?;
    Ok(Json(Erasure {
        anonymised,
        kept_open: open.into_iter().map(|c| c.number.0).collect(),
    }))
}
