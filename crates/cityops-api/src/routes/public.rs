//! The citizen channel: report a problem, add photos, follow the case by its number, rate
//! the result. No sign-in; the follow token handed out at reporting proves ownership.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use cityops_domain::{
    decide, Actor, AreaCode, Case, CaseCommand, CommandKind, NewReport, Reporter, Role, Source,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{token_hash, JsonBody};
use crate::routes::cases::{attach_image, category_hint, new_id, now};
use crate::views::{
    PublicAttachmentReceipt, PublicCaseView, PublicMasterView, PublicReportReceipt,
    PublicReportRequest, PublicStep, RatingRequest, RatingView,
};
use crate::wire::{ClientName, Wire};
use crate::AppState;

pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/public/challenge", get(challenge))
        .route("/public/reports", post(report))
        .route("/public/cases/{number}", get(follow))
        .route(
            "/public/cases/{number}/photos",
            post(add_photo).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/public/cases/{number}/rating", post(rate))
        .route("/public/categories/{code}/fields", get(class_fields))
}

/// The extra fields a citizen's report of a small class may carry (photo fields are set by
/// staff once photos are attached, so they are not offered here). A required field is
/// asked of staff before filing, never of the citizen.
#[utoipa::path(get, path = "/api/v1/public/categories/{code}/fields", tag = "public", security(()),
    params(("code" = String, Path, description = "5-digit small-class code", pattern = r"^\d{5}$")),
    responses((status = 200, body = Vec<crate::views::ExtraFieldView>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn class_fields(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<crate::views::ExtraFieldView>>> {
    // Any code that names no class of the catalogue, well-formed or not, is simply not one.
    let catalog = state.store.catalog().await?;
    let class = cityops_domain::CategoryCode::parse(&code)
        .ok()
        .and_then(|code| catalog.as_ref()?.get(&code))
        .ok_or_else(|| ApiError::not_found(&format!("category {code}")))?;
    Ok(Json(
        class
            .fields
            .iter()
            .filter(|f| f.kind != cityops_domain::form::FieldKind::Photo)
            .map(crate::views::ExtraFieldView::from)
            .collect(),
    ))
}

/// The citizen as an actor: may report, attach to their own case and rate it.
fn citizen(city: AreaCode) -> Actor {
    Actor {
        user_id: "citizen".into(),
        username: "citizen".into(),
        role: Role::Citizen,
        unit: None,
        scope: city,
    }
}

/// A proof-of-work challenge for a citizen's report: find a `nonce` (letters and digits)
/// such that SHA-256 of the challenge followed by the nonce starts with `bits` zero bits,
/// and send both with the report. Each challenge works once, within ten minutes.
#[utoipa::path(get, path = "/api/v1/public/challenge", tag = "public", security(()),
    responses((status = 200, body = crate::access::ReportChallenge)))]
pub async fn challenge(State(state): State<AppState>) -> Json<crate::access::ReportChallenge> {
    Json(state.challenges.issue(now().timestamp()))
}

/// Report a problem as a citizen, with a solved challenge (`GET /public/challenge`). The
/// point is located in the city's districts.
#[utoipa::path(post, path = "/api/v1/public/reports", tag = "public", security(()),
    request_body = PublicReportRequest,
    responses((status = 201, body = PublicReportReceipt), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<PublicReportRequest>,
) -> ApiResult<(StatusCode, Json<PublicReportReceipt>)> {
    // Checked first and used up last: a report refused for its content keeps its challenge.
    state
        .challenges
        .verify_unused(&request.challenge, &request.nonce, now().timestamp())
        .await?;
    let location = request.location.to_wgs84(request.crs.as_deref())?;
    let geometry = state.geometry();
    let district = geometry
        .districts
        .locate(location.lon, location.lat)
        .ok_or_else(|| {
            ApiError::invalid("location", "this point is outside the city's districts")
        })?;
    // The finest area known: the community of the unit grid, else the district.
    let located = geometry
        .geography
        .as_ref()
        .and_then(|g| g.locate(location.lon, location.lat))
        .filter(|grid| grid.district == district.code);
    let area = AreaCode::parse(located.map_or(&district.code, |grid| &grid.community))?;
    let unit_grid = located.map(|grid| grid.code.clone());
    let category_hint = category_hint(&state, request.category_hint.as_deref()).await?;
    let fields =
        crate::routes::cases::report_fields(&state, category_hint.as_ref(), request.fields).await?;
    let component_id =
        crate::routes::census::link_component(&state, None, category_hint.as_ref(), &location)
            .await?;
    let follow_token = auth::new_token()[..32].to_owned();
    let contact = request.contact.unwrap_or(crate::views::ContactBody {
        name: None,
        phone: None,
    });
    let reporter = Reporter {
        name: contact.name.filter(|n| !n.trim().is_empty()),
        phone: contact.phone.filter(|p| !p.trim().is_empty()),
        follow_token_hash: Some(token_hash(&follow_token)),
    };
    let at = now();
    let grid_inspector = crate::routes::grids::inspector_at(&state, unit_grid.as_deref()).await?;
    let report = NewReport {
        source: Source::Photo,
        description: request.description,
        address: request.address,
        location,
        location_accuracy_m: None,
        category_hint,
        component_id,
        reporter: Some(reporter),
        area: area.clone(),
        unit_grid,
        hotline_ticket: None,
        intake_terms: None,
        grid_inspector: grid_inspector.map(Box::new),
        call: None,
        fields,
    };
    let calendar = state.working_calendar().await?;
    let (case, event) = cityops_domain::report_on(
        new_id(),
        report,
        &citizen(area.city()),
        state.clock(at, &calendar),
    )?;
    state
        .challenges
        .use_up(&request.challenge, &request.nonce, at.timestamp())
        .await?;
    let case = state.store.insert_case(case, event).await?;
    crate::open_cases::note(&state, &case);
    state.outbox_written();
    Ok((
        StatusCode::CREATED,
        Json(PublicReportReceipt {
            number: case.number.0.clone(),
            follow_token,
            state: Wire(case.state),
            state_zh: case.state.zh().to_owned(),
        }),
    ))
}

pub(crate) async fn by_number(state: &AppState, number: &str) -> ApiResult<Case> {
    let valid = number.len() == 19 && number.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(ApiError::invalid("number", "a case number has 19 digits"));
    }
    // Only reports made through this channel are public: case numbers are easy to guess, and
    // staff and hotline cases may describe people.
    state
        .store
        .case_by_number(number)
        .await?
        .filter(|case| {
            case.reporter
                .as_ref()
                .is_some_and(|r| r.follow_token_hash.is_some())
        })
        .ok_or_else(|| ApiError::not_found("the case"))
}

/// Any case by its number, for what its number alone shows: its state.
async fn any_by_number(state: &AppState, number: &str) -> ApiResult<Case> {
    let valid = number.len() == 19 && number.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(ApiError::invalid("number", "a case number has 19 digits"));
    }
    state
        .store
        .case_by_number(number)
        .await?
        .ok_or_else(|| ApiError::not_found("the case"))
}

/// Only the reporter holds the token whose hash the case keeps.
pub(crate) fn check_token(case: &Case, token: &str) -> ApiResult<()> {
    let expected = case
        .reporter
        .as_ref()
        .and_then(|r| r.follow_token_hash.as_deref());
    if expected.is_some_and(|hash| hash == token_hash(token.trim())) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "the follow token does not match this case",
        )
        .with_field("token"))
    }
}

/// What the public sees of a case: its state to anyone with the number; the details (the
/// description, masked, the steps, the rating) only to the holder of the follow token.
async fn public_view(state: &AppState, case: &Case, details: bool) -> ApiResult<PublicCaseView> {
    // A merged report is answered by its master: the reporter follows the master's handling.
    let master = match &case.merged_into {
        Some(link) => match state.store.case(&link.master_id).await? {
            Some(master) => Some(PublicMasterView {
                number: master.number.0.clone(),
                state: Wire(master.state),
                state_zh: master.state.zh().to_owned(),
                closed_at: master.closed_at,
                steps: if details {
                    public_steps(&state.store.timeline(&master.id).await?)
                } else {
                    Vec::new()
                },
            }),
            None => None,
        },
        None => None,
    };
    let merged_into = case.merged_into.as_ref().map(|link| link.master.clone());
    let category_en = match &case.category {
        Some(filed) => state
            .store
            .catalog()
            .await?
            .and_then(|catalog| catalog.get(&filed.code).map(|c| c.en.clone())),
        None => None,
    };
    if !details {
        return Ok(PublicCaseView {
            number: case.number.0.clone(),
            state: Wire(case.state),
            state_zh: case.state.zh().to_owned(),
            details: false,
            description: None,
            category_zh: case.category.as_ref().map(|c| c.zh.clone()),
            category_en: category_en.clone(),
            created_at: case.created_at,
            closed_at: case.closed_at,
            steps: Vec::new(),
            rating: None,
            can_rate: false,
            photos: Vec::new(),
            merged_into,
            master,
        });
    }
    let events = state.store.timeline(&case.id).await?;
    Ok(PublicCaseView {
        number: case.number.0.clone(),
        state: Wire(case.state),
        state_zh: case.state.zh().to_owned(),
        details: true,
        description: Some(case.description.clone()),
        category_zh: case.category.as_ref().map(|c| c.zh.clone()),
        category_en,
        created_at: case.created_at,
        closed_at: case.closed_at,
        steps: public_steps(&events),
        rating: case.rating.as_ref().map(RatingView::from),
        can_rate: case.state == cityops_domain::CaseState::Closed && case.rating.is_none(),
        photos: crate::routes::photos::published(state, case).await?,
        merged_into,
        master,
    })
}

/// The steps of a timeline the public sees: its changes of state and the rating.
fn public_steps(events: &[cityops_domain::TimelineEvent]) -> Vec<PublicStep> {
    events
        .iter()
        .filter(|e| e.from != Some(e.to) || e.command.kind() == CommandKind::Rate)
        .map(|e| PublicStep {
            at: e.at,
            action: Wire(ClientName(e.command.kind())),
            state: Wire(e.to),
            state_zh: e.to.zh().to_owned(),
        })
        .collect()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FollowQuery {
    /// The follow token received when reporting: without it, only the state is shown.
    token: Option<String>,
}

/// Follow a case by its number: any case's state to anyone; with the follow token of a
/// citizen's report, its progress and description (personal data masked), never names,
/// contacts or internal opinions. Case numbers are easy to walk through, the token is not.
#[utoipa::path(get, path = "/api/v1/public/cases/{number}", tag = "public", security(()),
    params(("number" = String, Path, description = "19-digit case number", pattern = r"^\d{19}$"), FollowQuery),
    responses((status = 200, body = PublicCaseView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    Path(number): Path<String>,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<FollowQuery>,
) -> ApiResult<Json<PublicCaseView>> {
    let details = query.token.is_some();
    let case = match query.token.as_deref() {
        Some(token) => {
            let case = by_number(&state, &number).await?;
            check_token(&case, token)?;
            case
        }
        // The state alone describes no one: anyone may follow any case by its number, a
        // case a citizen was told is already reported included.
        None => any_by_number(&state, &number).await?,
    };
    Ok(Json(public_view(&state, &case, details).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// The follow token received when reporting.
    token: String,
    /// Original file name: a plain name (no `/`, `\\` or NUL) of at most 200 characters.
    #[param(pattern = r"^[^/\\\x00]{0,200}$")]
    file_name: Option<String>,
}

/// Add a photo to one's own report (raw image body).
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/photos", tag = "public", security(()),
    params(("number" = String, Path, description = "19-digit case number", pattern = r"^\d{19}$"), PhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PublicAttachmentReceipt), (status = 403, body = crate::error::ErrorBody)))]
pub async fn add_photo(
    State(state): State<AppState>,
    Path(number): Path<String>,
    query: Result<Query<PhotoQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<PublicAttachmentReceipt>)> {
    let Query(query) = query
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()).with_field("token"))?;
    let body = crate::extract::upload_body(body)?;
    let case = by_number(&state, &number).await?;
    check_token(&case, &query.token)?;
    let actor = citizen(case.area.city());
    let file_name = query.file_name.unwrap_or_else(|| "photo".into());
    let attached = attach_image(&state, &case, &actor, &body, file_name, None).await?;
    let status = if attached.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(PublicAttachmentReceipt {
            id: attached.attachment.id,
        }),
    ))
}

/// Rate the result of one's own closed case, once (1 to 5).
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/rating", tag = "public", security(()),
    params(("number" = String, Path, description = "19-digit case number", pattern = r"^\d{19}$")),
    request_body = RatingRequest,
    responses((status = 200, body = PublicCaseView), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<RatingRequest>,
) -> ApiResult<Json<PublicCaseView>> {
    let case = by_number(&state, &number).await?;
    check_token(&case, &request.token)?;
    let at = now();
    let command = CaseCommand::Rate {
        score: request.score,
        comment: request.comment,
    };
    let (next, event) = decide(&case, command, &citizen(case.area.city()), at)?;
    state.store.update_case(&next, &event, None).await?;
    state.outbox_written();
    Ok(Json(public_view(&state, &next, true).await?))
}
