//! Cases over HTTP: report, list and read within the caller's jurisdiction, the timeline,
//! the clear contact read for a purpose, workflow commands, and attachments.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cityops_domain::appeal::AppealGround;
use cityops_domain::case::RejectReason;
use cityops_domain::form::{self, FieldValues};
use cityops_domain::{
    decide, decide_on, Actor, AreaCode, CallbackOutcome, Case, CaseCommand, CaseState,
    CategoryCatalog, CategoryCode, CommandKind, FiledClass, NewReport, Reporter, Satisfaction,
    Source,
};
use cityops_store::{Attachment, CaseQuery};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody};
use crate::metrics::StateLabels;
use crate::views::{
    AttachmentView, CaseList, CaseView, CommandRequest, ReportRequest, TimelineEntry, UrlCommand,
};
use crate::AppState;

pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/cases", post(report_case).get(list_cases))
        .route("/cases.csv", get(export_cases_csv))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/timeline", get(timeline))
        .route("/cases/{id}/contact", get(contact))
        .route(
            "/cases/{id}/attachments",
            post(upload_attachment).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/cases/{id}/{command}", post(run_command))
        .route("/attachments/{id}", get(download_attachment))
}

/// Time as the store keeps it (milliseconds), so what is returned equals what is re-read.
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A `fields` object as the domain reads it, checked for what the document states whatever
/// the class: at most [`form::MAX_FIELDS`] keys, each a number, a string or `null`. The
/// class's own rules come after, where the values are used.
pub(crate) fn given_values(
    fields: &crate::views::FieldsBody,
) -> ApiResult<std::collections::BTreeMap<String, form::GivenValue>> {
    if fields.len() > form::MAX_FIELDS {
        return Err(ApiError::invalid(
            "fields",
            format!("a class has at most {} extra fields", form::MAX_FIELDS),
        ));
    }
    fields
        .iter()
        .map(|(key, value)| {
            let given = match value {
                serde_json::Value::Null => form::GivenValue::Clear,
                serde_json::Value::String(text) => form::GivenValue::Text(text.clone()),
                serde_json::Value::Number(n) => n
                    .as_f64()
                    .map_or(form::GivenValue::Other, form::GivenValue::Number),
                _ => {
                    return Err(ApiError::invalid(
                        format!("fields.{key}"),
                        "a value is a number, a string, or null to clear it",
                    ))
                }
            };
            Ok((key.clone(), given))
        })
        .collect()
}

/// The extra fields given with a report, read against the class of its category hint.
/// Photo fields wait for the case's photos: they are set with `set-fields`.
pub(crate) async fn report_fields(
    state: &AppState,
    hint: Option<&CategoryCode>,
    given: Option<crate::views::FieldsBody>,
) -> ApiResult<FieldValues> {
    if let Some(given) = &given {
        given_values(given)?;
    }
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Ok(FieldValues::new());
    };
    let Some(code) = hint else {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "fields",
            "extra fields belong to a class: name it in category_hint",
        ));
    };
    let catalog = state.store.catalog().await?;
    let class = catalog
        .as_ref()
        .and_then(|c| c.get(code))
        .ok_or_else(|| ApiError::internal("a checked category hint is not in the catalogue"))?;
    let changes = form::read_values(&class.fields, &given_values(&given)?)?;
    for key in changes.keys() {
        if class
            .fields
            .iter()
            .any(|f| &f.key == key && f.kind == form::FieldKind::Photo)
        {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                format!("fields.{key}"),
                "a photo field names one of the case's photos: set it with set-fields once the photo is attached",
            ));
        }
    }
    Ok(changes
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .collect())
}

/// The extra fields of the class a case is filed under, or else of the class its reporter
/// suggested; none when the catalogue has neither.
fn class_fields<'a>(catalog: Option<&'a CategoryCatalog>, case: &Case) -> &'a [form::ExtraField] {
    let code = case
        .category
        .as_ref()
        .map(|c| &c.code)
        .or(case.category_hint.as_ref());
    match (catalog, code) {
        (Some(catalog), Some(code)) => catalog.get(code).map_or(&[], |c| &c.fields[..]),
        _ => &[],
    }
}

/// Reads values sent for `fields` on `case`: of the class's keys and kinds, a photo one of
/// the case's attachments, and, once the case has its class, no required field left empty.
fn field_changes(
    fields: &[form::ExtraField],
    given: &crate::views::FieldsBody,
    case: &Case,
    filed: bool,
) -> ApiResult<form::FieldChanges> {
    let changes = form::read_values(fields, &given_values(given)?)?;
    for (key, value) in &changes {
        let photo = fields
            .iter()
            .any(|f| &f.key == key && f.kind == form::FieldKind::Photo);
        if let (true, Some(form::FieldValue::Text(id))) = (photo, value) {
            if !case.attachments.contains(id) {
                return Err(ApiError::rule(
                    ErrorCode::UnknownReference,
                    format!("fields.{key}"),
                    format!("attachment {id} is not one of the case's photos"),
                ));
            }
        }
    }
    if filed {
        if let Some(missing) = form::missing_required(fields, &form::merged(&case.fields, &changes))
        {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                format!("fields.{}", missing.key),
                format!(
                    "the class asks for {} ({}) before a case is filed: give it in fields",
                    missing.zh, missing.en
                ),
            ));
        }
    }
    Ok(changes)
}

/// A reporter's guess at the category: a code of the current catalogue, or 422.
pub(crate) async fn category_hint(
    state: &AppState,
    code: Option<&str>,
) -> ApiResult<Option<CategoryCode>> {
    let Some(code) = code else { return Ok(None) };
    let code = CategoryCode::parse(code)?;
    let known = state
        .store
        .catalog()
        .await?
        .is_some_and(|c| c.get(&code).is_some());
    if !known {
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "category_hint",
            format!("category {code} is not in the catalogue"),
        ));
    }
    Ok(Some(code))
}

/// A case the caller may see, by id or by number; anything else is the same 404.
pub(crate) async fn visible_case(state: &AppState, actor: &Actor, key: &str) -> ApiResult<Case> {
    let found = if key.len() == 19 && key.bytes().all(|b| b.is_ascii_digit()) {
        state.store.case_by_number(key).await?
    } else if key.len() <= 64 {
        state.store.case(key).await?
    } else {
        None
    };
    match found {
        Some(case) if actor.can_see_case(&case) => Ok(case),
        _ => Err(ApiError::not_found("the case")),
    }
}

/// Where a new case is filed: the area given (which must exist and hold the point) or the
/// community the point lies in, and the unit grid of the point when it lies in that area.
pub(crate) async fn place(
    state: &AppState,
    location: &cityops_domain::Location,
    area: Option<&str>,
) -> ApiResult<(AreaCode, Option<String>)> {
    let geography = state.geography();
    let located = geography
        .as_ref()
        .and_then(|g| g.locate(location.lon, location.lat));
    let area = match area {
        Some(area) => {
            let area = AreaCode::parse(area)?;
            if state.store.area(&area).await?.is_none() {
                return Err(ApiError::new(
                    ErrorCode::UnknownReference,
                    format!("area {area} is not a known area of this city"),
                )
                .with_field("area"));
            }
            // The area decides who is dispatched, the point where they go: a case filed in
            // one street with its point in another would send the wrong unit to the right
            // place, or the right unit nowhere.
            let point_area = match located {
                Some(grid) => Some(AreaCode::parse(&grid.community)?),
                None => state
                    .districts()
                    .locate(location.lon, location.lat)
                    .map(|district| AreaCode::parse(&district.code))
                    .transpose()?,
            };
            if let Some(point_area) = point_area {
                if !area.contains(&point_area) && !point_area.contains(&area) {
                    return Err(ApiError::new(
                        ErrorCode::LocationMismatch,
                        format!(
                            "the location lies in area {point_area}, not in area {area}: give the area the point lies in, or leave out the area to file the case where the point is"
                        ),
                    )
                    .with_field("area"));
                }
            }
            area
        }
        None => match located {
            Some(grid) => AreaCode::parse(&grid.community)?,
            None => {
                return Err(ApiError::new(
                    ErrorCode::OutsideCity,
                    "give the area code, or a location inside the city's unit grids",
                )
                .with_field("area"))
            }
        },
    };
    // The grid is recorded when it lies in the area the case is filed in.
    let unit_grid = located
        .filter(|grid| grid.code.starts_with(area.subtree_prefix()))
        .map(|grid| grid.code.clone());
    Ok((area, unit_grid))
}

/// The call a hotline or department report was taken down from, as given: a blank reply owed
/// is none.
fn call_of(
    source: Source,
    call: Option<crate::views::CallBody>,
) -> ApiResult<Option<Box<cityops_domain::Call>>> {
    let Some(call) = call else {
        return Ok(None);
    };
    if !matches!(source, Source::Hotline | Source::Department) {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "call",
            "only hotline and department reports are taken down from a call",
        ));
    }
    let kind = cityops_domain::TicketKind::parse(&call.kind).ok_or_else(|| {
        ApiError::invalid(
            "call.kind",
            "kind must be one of request, complaint, enquiry, suggestion, praise, other",
        )
    })?;
    if kind == cityops_domain::TicketKind::Enquiry {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "call.kind",
            "an enquiry is answered on the call, not opened as a case",
        ));
    }
    Ok(Some(Box::new(cityops_domain::Call {
        kind,
        reply_owed: call.reply_owed.filter(|reply| !reply.trim().is_empty()),
    })))
}

/// A reporter's contact as given: blank parts left out; `None` when nothing is left.
pub(crate) fn reporter_of(contact: Option<crate::views::ContactBody>) -> Option<Reporter> {
    let contact = contact?;
    let name = contact.name.filter(|n| !n.trim().is_empty());
    let phone = contact.phone.filter(|p| !p.trim().is_empty());
    (name.is_some() || phone.is_some()).then_some(Reporter {
        name,
        phone,
        follow_token_hash: None,
    })
}

/// The `Idempotency-Key` header of a request, if any.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "an idempotency key is 1 to 128 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// The answer to a repeated request: the case as its first answer showed it (rebuilt from
/// the report, the first step of its timeline), or 422 when the key came with another body.
async fn repeated_report(
    state: &AppState,
    actor: &Actor,
    record: &cityops_store::IdempotencyRecord,
    body_hash: &str,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    if record.body_hash != body_hash {
        return Err(ApiError::rule(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key",
            "this idempotency key was used with another request body: use a new key for a new report",
        ));
    }
    let case =
        state.store.case(&record.case_id).await?.ok_or_else(|| {
            ApiError::internal("an idempotency key names a case that is not stored")
        })?;
    let events = state.store.timeline(&case.id).await?;
    let first =
        cityops_domain::workflow::replay(case.number.clone(), &events[..events.len().min(1)])
            .unwrap_or(case);
    Ok((
        StatusCode::CREATED,
        Json(timed_view(state, &first, first.created_at, actor).await?),
    ))
}

/// Report a problem: opens a case in state `reported`. Hotline and department reports may
/// carry the reporter's contact, sealed at rest and masked in answers like a citizen's.
///
/// With an `Idempotency-Key`, the request can be repeated safely: the same key from the same
/// caller with the same body answers the case the first request opened (201, the same body),
/// even when the requests run at once or the server restarted in between; the same key with
/// another body is refused with `idempotency_key_reused`. Keys are kept for
/// `idempotency_key_days` (default 7).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = ReportRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,128}$",
        min_length = 1, max_length = 128,
        description = "Makes the report safe to repeat: 1 to 128 visible ASCII characters, new for each report.")),
    responses((status = 201, body = CaseView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn report_case(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    crate::extract::HashedJsonBody(request, body_hash): crate::extract::HashedJsonBody<
        ReportRequest,
    >,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    let key = idempotency_key(&headers)?;
    let kept_since = now() - chrono::Duration::days(state.config.idempotency_key_days);
    if let Some(key) = &key {
        if let Some(record) = state
            .store
            .idempotency_key(&actor.user_id, key, kept_since)
            .await?
        {
            return repeated_report(&state, &actor, &record, &body_hash).await;
        }
    }
    let source = Source::parse(&request.source).ok_or_else(|| {
        ApiError::invalid(
            "source",
            "source must be one of inspector, hotline, photo, iot, department, leader",
        )
    })?;
    if request.contact.is_some() && !matches!(source, Source::Hotline | Source::Department) {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "contact",
            "only hotline and department reports carry the reporter's contact",
        ));
    }
    let call = call_of(source, request.call)?;
    let location = request.location.to_wgs84(request.crs.as_deref())?;
    let (area, unit_grid) = place(&state, &location, request.area.as_deref()).await?;
    let category_hint = category_hint(&state, request.category_hint.as_deref()).await?;
    let fields = report_fields(&state, category_hint.as_ref(), request.fields).await?;
    let component_id = crate::routes::census::link_component(
        &state,
        request.component_id,
        category_hint.as_ref(),
        &location,
    )
    .await?;
    let grid_inspector = crate::routes::grids::inspector_at(&state, unit_grid.as_deref()).await?;
    let report = NewReport {
        source,
        description: request.description,
        address: request.address,
        location,
        location_accuracy_m: request.location_accuracy_m,
        area,
        category_hint,
        component_id,
        reporter: reporter_of(request.contact),
        unit_grid,
        hotline_ticket: None,
        intake_terms: None,
        grid_inspector: grid_inspector.map(Box::new),
        call,
        fields,
    };
    let calendar = state.working_calendar().await?;
    let at = now();
    let (case, event) =
        cityops_domain::report_on(new_id(), report, &actor, state.clock(at, &calendar))?;
    let claim = key
        .as_ref()
        .map(|key| cityops_store::CaseClaim::IdempotencyKey {
            caller: actor.user_id.clone(),
            key: key.clone(),
            body_hash: body_hash.clone(),
            at,
            expired_before: kept_since,
        });
    let case = match state.store.insert_claimed_case(case, event, claim).await {
        Ok(case) => case,
        // A request with the same key committed first (a concurrent twin): answer its case.
        Err(cityops_store::StoreError::Claimed) => {
            let key = key.as_deref().unwrap_or_default();
            let record = state
                .store
                .idempotency_key(&actor.user_id, key, kept_since)
                .await?
                .ok_or_else(|| ApiError::internal("a claimed idempotency key is not stored"))?;
            return repeated_report(&state, &actor, &record, &body_hash).await;
        }
        Err(other) => return Err(other.into()),
    };
    crate::open_cases::note(&state, &case);
    state.outbox_written();
    state
        .metrics
        .workflow_commands
        .get_or_create(&StateLabels {
            state: "reported".into(),
        })
        .inc();
    Ok((
        StatusCode::CREATED,
        Json(timed_view(&state, &case, at, &actor).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseListQuery {
    /// Comma-separated states, e.g. `filed,dispatched`.
    #[param(
        pattern = r"^(reported|accepted|verifying|invalid|filed|dispatched|handling|suspended|handled|checking|checked|callback|closed|cancelled|merged)?(,(reported|accepted|verifying|invalid|filed|dispatched|handling|suspended|handled|checking|checked|callback|closed|cancelled|merged)?)*$"
    )]
    state: Option<String>,
    /// A small-class code or a prefix of one (`101` = all public-utility components).
    #[param(pattern = r"^\d{1,5}$")]
    category: Option<String>,
    /// An area code: the case lies in its subtree.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    area: Option<String>,
    /// The responsible unit.
    #[param(max_length = 64)]
    unit: Option<String>,
    /// Cases waiting in the coordination queue of this center (a district or city code).
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    coordination: Option<String>,
    /// Only cases with a unit's appeal (申诉) waiting for an evaluator's decision: the
    /// evaluators' queue.
    appeals_pending: Option<bool>,
    #[param(value_type = Option<crate::wire::CaseSource>)]
    source: Option<String>,
    overdue: Option<bool>,
    /// Text in the description or the case number.
    q: Option<String>,
    /// Created at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{0,18}$")]
    cursor: Option<String>,
    /// Only the cases reported in the caller's responsibility grids (an inspector's: their
    /// verification and check tasks come from these).
    mine: Option<bool>,
    /// Only the cases the caller's unit assists on (协办), not those it leads: a unit
    /// handler's parts.
    assisting: Option<bool>,
}

/// The list's filters without its paging: what the CSV export takes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseExportQuery {
    /// Comma-separated states, e.g. `filed,dispatched`.
    #[param(
        pattern = r"^(reported|accepted|verifying|invalid|filed|dispatched|handling|suspended|handled|checking|checked|callback|closed|cancelled|merged)?(,(reported|accepted|verifying|invalid|filed|dispatched|handling|suspended|handled|checking|checked|callback|closed|cancelled|merged)?)*$"
    )]
    state: Option<String>,
    /// A small-class code or a prefix of one (`101` = all public-utility components).
    #[param(pattern = r"^\d{1,5}$")]
    category: Option<String>,
    /// An area code: the case lies in its subtree.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    area: Option<String>,
    /// The responsible unit.
    #[param(max_length = 64)]
    unit: Option<String>,
    /// Cases waiting in the coordination queue of this center (a district or city code).
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    coordination: Option<String>,
    /// Only cases with a unit's appeal (申诉) waiting for an evaluator's decision: the
    /// evaluators' queue.
    appeals_pending: Option<bool>,
    #[param(value_type = Option<crate::wire::CaseSource>)]
    source: Option<String>,
    overdue: Option<bool>,
    /// Text in the description or the case number.
    q: Option<String>,
    /// Created at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Only the cases reported in the caller's responsibility grids.
    mine: Option<bool>,
    /// Only the cases the caller's unit assists on.
    assisting: Option<bool>,
}

impl From<CaseExportQuery> for CaseListQuery {
    fn from(q: CaseExportQuery) -> CaseListQuery {
        CaseListQuery {
            state: q.state,
            category: q.category,
            area: q.area,
            unit: q.unit,
            coordination: q.coordination,
            appeals_pending: q.appeals_pending,
            source: q.source,
            overdue: q.overdue,
            q: q.q,
            from: q.from,
            to: q.to,
            limit: None,
            cursor: None,
            mine: q.mine,
            assisting: q.assisting,
        }
    }
}

/// The store's query for the list's filters within the caller's jurisdiction (paging aside).
fn case_query(actor: &Actor, query: &CaseListQuery, at: DateTime<Utc>) -> ApiResult<CaseQuery> {
    let mut q = CaseQuery::for_actor(actor, at);
    if let Some(states) = &query.state {
        for name in states.split(',').filter(|s| !s.is_empty()) {
            q.states
                .push(CaseState::parse(name).ok_or_else(|| {
                    ApiError::invalid("state", format!("unknown state '{name}'"))
                })?);
        }
    }
    if let Some(category) = &query.category {
        let valid =
            (1..=5).contains(&category.len()) && category.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(ApiError::invalid(
                "category",
                "category must be a code or a code prefix (digits)",
            ));
        }
        q.category = Some(category.clone());
    }
    if let Some(area) = &query.area {
        q.area = Some(AreaCode::parse(area).map_err(|e| ApiError::invalid("area", e.reason))?);
    }
    if let Some(unit) = &query.unit {
        if unit.chars().count() > 64 {
            return Err(ApiError::invalid(
                "unit",
                "unit codes are at most 64 characters",
            ));
        }
        q.unit = Some(unit.clone());
    }
    q.appeals_pending = query.appeals_pending == Some(true);
    if let Some(center) = &query.coordination {
        q.coordination =
            Some(AreaCode::parse(center).map_err(|e| ApiError::invalid("coordination", e.reason))?);
    }
    if let Some(source) = &query.source {
        q.source =
            Some(Source::parse(source).ok_or_else(|| {
                ApiError::invalid("source", format!("unknown source '{source}'"))
            })?);
    }
    if let Some(text) = &query.q {
        if text.chars().count() > 100 {
            return Err(ApiError::invalid(
                "q",
                "search text is at most 100 characters",
            ));
        }
        q.text = Some(text.clone());
    }
    if query.mine == Some(true) {
        q.inspector = Some(actor.user_id.clone());
    }
    if query.assisting == Some(true) {
        let unit = actor
            .unit
            .clone()
            .filter(|_| actor.role == cityops_domain::Role::UnitHandler)
            .ok_or_else(|| {
                ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "assisting",
                    "only a unit handler has cases their unit assists on",
                )
            })?;
        q.assisting = Some(unit);
    }
    q.overdue = query.overdue;
    q.created_from = query.from;
    q.created_to = query.to;
    Ok(q)
}

/// Cases within the caller's jurisdiction, newest first, with filters and cursor paging.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseListQuery),
    responses((status = 200, body = CaseList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    query: Result<Query<CaseListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<CaseList>> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let at = now();
    let mut q = case_query(&actor, &query, at)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "limit must be between 1 and 200",
        ));
    }
    q.limit = limit;
    // An empty `cursor=` is the first page, as clients that fill a template send it.
    if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
        q.after = Some(
            cursor
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("cursor", "cursor is not one this API returned"))?,
        );
    }
    let page = state.store.cases(&q).await?;
    let calendar = state.working_calendar().await?;
    let share = state.config.deadline_warning_share;
    Ok(Json(CaseList {
        items: page
            .cases
            .iter()
            .map(|c| CaseView::timed(c, at, &actor, &calendar, share))
            .collect(),
        next_cursor: page.next.map(|n| n.to_string()),
    }))
}

/// The case list as CSV (UTF-8 with BOM, for Excel): every case the same filters select
/// within the caller's jurisdiction, newest first, not a page. Times in Beijing time; texts as the list shows them
/// (personal data masked). Filtered to one small class (`category` of 5 digits), each of the
/// class's extra fields has its column (`fields.<key>`); the `fields` column holds every
/// value as JSON.
#[utoipa::path(get, path = "/api/v1/cases.csv", tag = "cases", params(CaseExportQuery),
    responses((status = 200, content_type = "text/csv", description = "number, state, source, category, category_name, district, area, unit_grid, unit, urgent, supervised, overdue, deadline, reported_at, closed_at, address, description, then fields.<key> per extra field of a one-class list, then fields (JSON)"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn export_cases_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    query: Result<Query<CaseExportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let query = CaseListQuery::from(query);
    let at = now();
    let mut q = case_query(&actor, &query, at)?;
    q.limit = 500;
    // Five digits that name no class filter to nothing, as in the list: no columns either.
    let class = query
        .category
        .as_deref()
        .filter(|c| c.len() == 5)
        .and_then(|code| CategoryCode::parse(code).ok());
    let class_fields = match class {
        Some(code) => state
            .store
            .catalog()
            .await?
            .and_then(|c| c.get(&code).map(|class| class.fields.clone()))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let pages = crate::export::CaseListPages {
        store: state.store.clone(),
        query: q,
        done: false,
    };
    let encoder = crate::export::CaseCsv { class_fields, at };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cases.csv\"",
            ),
        ],
        crate::export::body(pages, encoder).await?,
    ))
}

/// One case, by id or by its 19-digit number.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id or case number")),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    let case = visible_case(&state, &actor, &id).await?;
    Ok(Json(timed_view(&state, &case, now(), &actor).await?))
}

/// Every step of a case: who, when, what, from which state to which.
#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = "cases",
    params(("id" = String, Path, description = "Case id or case number")),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn timeline(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let case = visible_case(&state, &actor, &id).await?;
    let events = state.store.timeline(&case.id).await?;
    Ok(Json(events.iter().map(TimelineEntry::from).collect()))
}

/// Why someone needs a citizen's clear contact; any other reason gets the masked one.
const CONTACT_PURPOSES: [&str; 3] = ["callback", "verification", "clarification"];

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactParams {
    /// callback (the hotline's return call), verification or clarification.
    #[param(required = true, pattern = "^(callback|verification|clarification)$")]
    purpose: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContactView {
    name: Option<String>,
    phone: Option<String>,
    purpose: String,
    /// The clear form of the case's texts whose personal data is masked everywhere else
    /// (the description, opinions, comments), by timeline step.
    texts: Vec<ClearTextView>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClearTextView {
    /// The timeline step that holds the text.
    seq: i64,
    action: crate::wire::CaseAction,
    /// The command's field: description, opinion, reason, comment or text.
    field: String,
    text: String,
}

/// The reporter's clear name and phone, for operators and shift leads who must call them
/// back, with a stated purpose. Each read is on the audit log before the answer leaves. A
/// hotline caller's contact is read only during the call-back step, with purpose
/// `callback` (409 `precondition_failed` otherwise); a merged report's caller during its
/// master's.
#[utoipa::path(get, path = "/api/v1/cases/{id}/contact", tag = "cases",
    params(("id" = String, Path, description = "Case id or case number"), ContactParams),
    responses((status = 200, body = ContactView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: a hotline case outside its call-back step", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    crate::extract::QueryArgs(params): crate::extract::QueryArgs<ContactParams>,
) -> ApiResult<Json<ContactView>> {
    if !matches!(
        actor.role,
        cityops_domain::Role::Operator | cityops_domain::Role::ShiftLead
    ) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only operators and shift leads, who call citizens back, read their contact",
        ));
    }
    let purpose = params
        .purpose
        .filter(|p| CONTACT_PURPOSES.contains(&p.as_str()))
        .ok_or_else(|| {
            ApiError::invalid(
                "purpose",
                "purpose is one of callback, verification, clarification",
            )
        })?;
    let case = visible_case(&state, &actor, &id).await?;
    // A hotline caller gave their number to be called back, so it is revealed for that
    // alone, and only while the call-back is under way.
    // A merged report's caller is called back in its master's call-back.
    let in_callback = match (&case.state, &case.merged_into) {
        (CaseState::Callback, _) => true,
        (CaseState::Merged, Some(link)) => state
            .store
            .case(&link.master_id)
            .await?
            .is_some_and(|master| master.state == CaseState::Callback),
        _ => false,
    };
    if case.source == Source::Hotline && (purpose != "callback" || !in_callback) {
        return Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            format!(
                "a hotline caller's contact is read only during the call-back step, with \
                 purpose callback; the case is {}",
                case.state.as_str()
            ),
        )
        .with_field("purpose"));
    }
    let texts: Vec<ClearTextView> = state
        .store
        .timeline(&case.id)
        .await?
        .into_iter()
        .flat_map(|event| {
            let (seq, action) = (event.seq, event.command.kind());
            event
                .clear_text
                .into_iter()
                .map(move |(field, text)| ClearTextView {
                    seq,
                    action: crate::wire::Wire(action),
                    field,
                    text,
                })
        })
        .collect();
    let (name, phone) = case
        .reporter
        .as_ref()
        .map_or((None, None), |r| (r.name.clone(), r.phone.clone()));
    if name.is_none() && phone.is_none() && texts.is_empty() {
        return Err(ApiError::not_found("contact of this case"));
    }
    let mut fields: Vec<&str> = [("name", &name), ("phone", &phone)]
        .into_iter()
        .filter(|(_, value)| value.is_some())
        .map(|(field, _)| field)
        .collect();
    if !texts.is_empty() {
        fields.push("texts");
    }
    state
        .store
        .append_audit(vec![cityops_store::audit::record(
            "pii.read",
            format!("case:{}", case.id),
        )
        .detail(format!("purpose {purpose}; {}", fields.join(", ")))])
        .await?;
    Ok(Json(ContactView {
        name,
        phone,
        purpose,
        texts,
    }))
}

/// A unit that exists and is not retired (a retired one names its successor).
async fn active_unit(state: &AppState, code: &str) -> ApiResult<cityops_domain::Unit> {
    let unit = state
        .store
        .unit(code)
        .await?
        .ok_or_else(|| ApiError::invalid("unit", format!("unit {code} does not exist")))?;
    if let Some(retired) = &unit.retired {
        let successor = retired
            .successor
            .as_ref()
            .map_or(String::new(), |s| format!("; its successor is {s}"));
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "unit",
            format!("unit {code} is retired{successor}"),
        ));
    }
    Ok(unit)
}

/// The unit a handler's part command is about: their own (a `unit` given must be it).
fn own_unit(actor: &Actor, given: Option<String>) -> ApiResult<String> {
    match (actor.unit.clone(), given) {
        (Some(own), Some(given)) if given != own => Err(ApiError::new(
            ErrorCode::NotAssignedUnit,
            format!("you work for unit {own}, not {given}"),
        )
        .with_field("unit")),
        (Some(own), _) => Ok(own),
        (None, _) => Err(ApiError::new(
            ErrorCode::NotAssignedUnit,
            "your account belongs to no unit",
        )),
    }
}

fn required<T>(value: Option<T>, field: &str, command: UrlCommand) -> ApiResult<T> {
    // One body schema serves every command, so which fields a command needs is a rule
    // between the URL and the body.
    value.ok_or_else(|| {
        ApiError::rule(
            ErrorCode::InconsistentFields,
            field,
            format!("{} needs {field}", command.as_str()),
        )
    })
}

/// The URL's command, or 404 `unknown_command` naming the valid ones.
fn url_command(name: &str) -> ApiResult<UrlCommand> {
    UrlCommand::parse(name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownCommand,
            format!(
                "'{name}' is not a workflow command; one of: {}",
                UrlCommand::all()
                    .map(UrlCommand::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The case as a caller sees it, with the time left on its running stage.
async fn timed_view(
    state: &AppState,
    case: &Case,
    at: DateTime<Utc>,
    actor: &Actor,
) -> ApiResult<CaseView> {
    let calendar = state.working_calendar().await?;
    let mut view = CaseView::timed(
        case,
        at,
        actor,
        &calendar,
        state.config.deadline_warning_share,
    );
    // A unit's member of staff is offered an appeal only on what the case counted against
    // the unit and the unit has not appealed yet.
    if let (cityops_domain::Role::UnitHandler, Some(unit)) = (actor.role, &actor.unit) {
        if view
            .actions
            .iter()
            .any(|a| a.0.kind() == CommandKind::Appeal)
        {
            let ledger = state.store.case_ledger(&case.id).await?;
            view.appealable = AppealGround::ALL
                .into_iter()
                .filter(|g| g.counted_against(unit, &ledger))
                .filter(|g| {
                    !case
                        .appeals
                        .iter()
                        .any(|a| a.unit == *unit && a.ground == *g)
                })
                .map(crate::wire::Wire)
                .collect();
            if view.appealable.is_empty() {
                view.actions.retain(|a| a.0.kind() != CommandKind::Appeal);
            }
        }
    }
    // The form is offered only where the case's class has one.
    if view
        .actions
        .iter()
        .any(|a| a.0.kind() == CommandKind::SetFields)
    {
        let catalog = state.store.catalog().await?;
        if class_fields(catalog.as_ref(), case).is_empty() {
            view.actions
                .retain(|a| a.0.kind() != CommandKind::SetFields);
        }
    }
    Ok(view)
}

/// Builds the domain command from the URL's command and the flat request body.
async fn command_from(
    state: &AppState,
    case: &Case,
    actor: &Actor,
    name: UrlCommand,
    body: CommandRequest,
) -> ApiResult<CaseCommand> {
    let CommandRequest {
        opinion,
        reason,
        reject_reason,
        duplicate_of,
        exists,
        category,
        unit,
        until,
        approve,
        attachments,
        passed,
        outcome,
        satisfaction,
        satisfied,
        urgent,
        term,
        ground,
        appeal,
        accepted,
        fields,
        master,
        report,
        version: _,
    } = body;
    for (field, number) in [("master", &master), ("report", &report)] {
        let valid = number
            .as_ref()
            .is_none_or(|n| n.len() == 19 && n.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return Err(ApiError::invalid(
                field,
                format!("{field} is a case's 19-digit number"),
            ));
        }
    }
    if appeal.is_some_and(|n| !(1..=1000).contains(&n)) {
        return Err(ApiError::invalid(
            "appeal",
            "appeal is a number from 1 to 1,000",
        ));
    }
    let ground = ground
        .map(|text| {
            AppealGround::parse(&text).ok_or_else(|| {
                ApiError::invalid("ground", "ground must be late_handling or rework")
            })
        })
        .transpose()?;
    // A value is checked against the document even where this command does not use it: a
    // wrong value is a mistake the caller should hear about.
    if let Some(code) = &category {
        CategoryCode::parse(code)?;
    }
    if let Some(term) = &term {
        term.to_term("term")?;
    }
    if let Some(fields) = &fields {
        given_values(fields)?;
    }
    for (field, value, max) in [
        ("opinion", &opinion, 2000),
        ("reason", &reason, 500),
        ("duplicate_of", &duplicate_of, 40),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid(
                field,
                format!("{field} is longer than {max} characters"),
            ));
        }
    }
    let reject_reason = reject_reason
        .map(|text| match text.as_str() {
            "invalid" => Ok(RejectReason::Invalid),
            "duplicate" => Ok(RejectReason::Duplicate),
            _ => Err(ApiError::invalid(
                "reject_reason",
                "reject_reason must be invalid or duplicate",
            )),
        })
        .transpose()?;
    let outcome = outcome
        .map(|text| {
            CallbackOutcome::parse(&text).ok_or_else(|| {
                ApiError::invalid(
                    "outcome",
                    "outcome must be reached, no_answer or wrong_number",
                )
            })
        })
        .transpose()?;
    let satisfaction = match (satisfaction, satisfied) {
        (Some(_), Some(_)) => {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "satisfied",
                "send satisfaction or the older satisfied, not both",
            ))
        }
        (Some(text), None) => Some(Satisfaction::parse(&text).ok_or_else(|| {
            ApiError::invalid(
                "satisfaction",
                "satisfaction must be satisfied, basically_satisfied or unsatisfied",
            )
        })?),
        (None, Some(true)) => Some(Satisfaction::Satisfied),
        (None, Some(false)) => Some(Satisfaction::Unsatisfied),
        (None, None) => None,
    };
    Ok(match name.kind() {
        CommandKind::Accept => CaseCommand::Accept { opinion },
        CommandKind::Reject => {
            let reason = required(reject_reason, "reject_reason", name)?;
            CaseCommand::Reject {
                reason,
                duplicate_of,
                opinion,
            }
        }
        CommandKind::RequestVerification => CaseCommand::RequestVerification { opinion },
        CommandKind::Verify => CaseCommand::Verify {
            exists: required(exists, "exists", name)?,
            opinion,
        },
        CommandKind::File => {
            let code = CategoryCode::parse(&required(category, "category", name)?)?;
            let catalog = state.store.catalog().await?;
            let class = catalog.as_ref().and_then(|c| c.get(&code)).ok_or_else(|| {
                ApiError::rule(
                    ErrorCode::UnknownReference,
                    "category",
                    format!("category {code} is not in the catalogue"),
                )
            })?;
            let fields = field_changes(&class.fields, &fields.unwrap_or_default(), case, true)?;
            CaseCommand::File {
                class: FiledClass::from_category(class),
                opinion,
                fields,
            }
        }
        CommandKind::SetFields => {
            let given = required(fields, "fields", name)?;
            let catalog = state.store.catalog().await?;
            let defined = class_fields(catalog.as_ref(), case);
            if defined.is_empty() {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "fields",
                    "the case's class has no extra fields",
                ));
            }
            CaseCommand::SetFields {
                fields: field_changes(defined, &given, case, case.category.is_some())?,
            }
        }
        CommandKind::SelfHandle => CaseCommand::SelfHandle {
            opinion: required(opinion, "opinion", name)?,
        },
        CommandKind::Dispatch => {
            // Without a unit, the responsibility matrix's proposal is dispatched to.
            let (code, opinion) = match unit {
                Some(code) => (code, opinion),
                None => {
                    let proposal = crate::routes::routing::propose(state, case).await?;
                    let code = proposal
                        .unit
                        .ok_or_else(|| ApiError::invalid("unit", proposal.reason.clone()))?;
                    (code, opinion.or(Some(proposal.reason)))
                }
            };
            let unit = active_unit(state, &code).await?;
            CaseCommand::Dispatch {
                unit: unit.code,
                unit_jurisdiction: unit.jurisdiction,
                opinion,
            }
        }
        CommandKind::Assist => {
            let unit = active_unit(state, &required(unit, "unit", name)?).await?;
            // A center coordinates (escalate); it does not take a part of the work.
            if unit.kind.is_center()
                || unit.organization == cityops_domain::Organization::OperationsCenter
            {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "unit",
                    format!(
                        "{} is an operations center: it coordinates, it does not assist",
                        unit.code
                    ),
                ));
            }
            CaseCommand::Assist {
                unit: unit.code,
                unit_jurisdiction: unit.jurisdiction,
                opinion,
            }
        }
        CommandKind::ReleaseAssist => CaseCommand::ReleaseAssist {
            unit: required(unit, "unit", name)?,
            reason: required(reason, "reason", name)?,
        },
        // An assisting unit's handler acts on their own unit's part.
        CommandKind::SignAssist => CaseCommand::SignAssist {
            unit: own_unit(actor, unit)?,
            deadline: None,
        },
        CommandKind::AssistFeedback => CaseCommand::AssistFeedback {
            unit: own_unit(actor, unit)?,
            opinion: required(opinion, "opinion", name)?,
        },
        CommandKind::ReturnAssist => CaseCommand::ReturnAssist {
            unit: own_unit(actor, unit)?,
            reason: required(reason, "reason", name)?,
        },
        CommandKind::Sign => CaseCommand::Sign,
        CommandKind::Return => CaseCommand::Return {
            reason: required(reason, "reason", name)?,
        },
        CommandKind::RequestExtension => CaseCommand::RequestExtension {
            until: required(until, "until", name)?,
            reason: required(reason, "reason", name)?,
        },
        CommandKind::DecideExtension => CaseCommand::DecideExtension {
            approve: required(approve, "approve", name)?,
            opinion,
        },
        CommandKind::RequestPark => CaseCommand::RequestPark {
            reason: required(reason, "reason", name)?,
        },
        CommandKind::DecidePark => CaseCommand::DecidePark {
            approve: required(approve, "approve", name)?,
            opinion,
        },
        CommandKind::Resume => CaseCommand::Resume { opinion },
        CommandKind::Feedback => CaseCommand::Feedback {
            opinion: required(opinion, "opinion", name)?,
            attachments: attachments.unwrap_or_default(),
        },
        CommandKind::SendCheck => CaseCommand::SendCheck { opinion },
        CommandKind::Check => CaseCommand::Check {
            passed: required(passed, "passed", name)?,
            opinion,
        },
        CommandKind::StartCallback => CaseCommand::StartCallback {
            attempts_allowed: state.config.callback_attempts,
        },
        CommandKind::Callback => CaseCommand::Callback {
            outcome: outcome.unwrap_or_default(),
            satisfaction,
            opinion,
            report,
        },
        CommandKind::Close => CaseCommand::Close { opinion },
        CommandKind::Cancel => CaseCommand::Cancel {
            reason: required(reason, "reason", name)?,
        },
        CommandKind::SetUrgent => CaseCommand::SetUrgent {
            urgent: required(urgent, "urgent", name)?,
        },
        CommandKind::Escalate => {
            let to =
                cityops_domain::workflow::escalation_target(&actor.scope).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::PreconditionFailed,
                        "the city center is the highest level: it decides and cannot escalate",
                    )
                })?;
            CaseCommand::Escalate {
                to,
                reason: required(reason, "reason", name)?,
            }
        }
        CommandKind::Supervise => CaseCommand::Supervise {
            opinion: required(opinion, "opinion", name)?,
            term: Some(match &term {
                Some(term) => term.to_term("term")?,
                None => state.config.supervision_term,
            }),
            deadline: None,
        },
        CommandKind::Appeal => {
            let ground = required(ground, "ground", name)?;
            let unit = actor.unit.clone().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Forbidden,
                    "only a unit's member of staff appeals, for their unit",
                )
            })?;
            // The appeal must be about something the case counted against the unit.
            let ledger = state.store.case_ledger(&case.id).await?;
            if !ground.counted_against(&unit, &ledger) {
                return Err(ApiError::new(
                    ErrorCode::PreconditionFailed,
                    format!(
                        "case {} never counted {} ({}) against unit {unit}: there is nothing to appeal",
                        case.number,
                        ground.as_str(),
                        ground.zh()
                    ),
                )
                .with_field("ground"));
            }
            CaseCommand::Appeal {
                ground,
                unit,
                reason: required(reason, "reason", name)?,
            }
        }
        CommandKind::DecideAppeal => CaseCommand::DecideAppeal {
            appeal: required(appeal, "appeal", name)?,
            accepted: required(accepted, "accepted", name)?,
            opinion: required(opinion, "opinion", name)?,
        },
        // The master is looked up by `run_command`, which writes both cases' changes.
        CommandKind::Merge => CaseCommand::Merge {
            master: required(master, "master", name)?,
            master_id: String::new(),
            opinion,
        },
        CommandKind::Unmerge => CaseCommand::Unmerge {
            reason: required(reason, "reason", name)?,
        },
        // Issued through their own endpoints or by CityOps alone, never by name: no
        // `UrlCommand` holds one of them.
        CommandKind::Report
        | CommandKind::Attach
        | CommandKind::Rate
        | CommandKind::Note
        | CommandKind::ErasePersonalData
        | CommandKind::Relocate
        | CommandKind::Reassign
        | CommandKind::TakeReport
        | CommandKind::ReleaseReport
        | CommandKind::Watch => {
            return Err(ApiError::internal(format!(
                "{} is not a command clients issue by name",
                name.as_str()
            )))
        }
    })
}

/// Run a workflow command on a case.
///
/// Body fields per command: accept, request-verification, send-check, resume, close:
/// `opinion?`; reject: `reject_reason` (invalid|duplicate), `duplicate_of` when duplicate;
/// verify: `exists`; file: `category`; self-handle: `opinion`; supervise: `opinion` and
/// `term?` (the unit answers by its feedback within it; the city's default term when
/// absent); dispatch: `unit`;
/// return, request-park, cancel: `reason`; request-extension: `until`, `reason`;
/// decide-extension, decide-park: `approve`; feedback: `opinion`, `attachments?`;
/// escalate: `reason` (to the next-level center's coordination queue);
/// check: `passed`; callback: `outcome` (reached, no_answer, wrong_number) and, when
/// reached, `satisfaction` (satisfied and basically_satisfied pass the case on to closing,
/// unsatisfied sends it back for rework; failed attempts up to the city's limit close it as
/// unreachable); set-urgent: `urgent`; merge: `master` (the number of the open case that
/// reported the same problem first; the report is answered by its handling), `opinion?`;
/// unmerge (a shift lead undoing a merge while the master is open): `reason`. Every command needs
/// `version`, the case version the caller saw; a stale one answers 409 and changes nothing.
#[utoipa::path(post, path = "/api/v1/cases/{id}/{command}", tag = "cases",
    params(
        ("id" = String, Path, description = "Case id or case number"),
        ("command" = crate::wire::CaseCommandName, Path, description = "The workflow command"),
    ),
    request_body = CommandRequest,
    responses(
        (status = 200, body = CaseView),
        (status = 403, description = "role_not_allowed or not_assigned_unit", body = crate::error::ErrorBody),
        (status = 404, description = "not_found or unknown_command", body = crate::error::ErrorBody),
        (status = 409, description = "transition_not_allowed, precondition_failed or version_conflict", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ))]
pub async fn run_command(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, name)): Path<(String, String)>,
    JsonBody(body): JsonBody<CommandRequest>,
) -> ApiResult<Json<CaseView>> {
    let name = url_command(&name)?;
    let case = visible_case(&state, &actor, &id).await?;
    // The role is checked before anything else, so a refused caller learns only that.
    cityops_domain::workflow::check_role(name.kind(), &actor)?;
    let version = body.version;
    let command = command_from(&state, &case, &actor, name, body).await?;
    check_version(&case, version)?;
    let calendar = state.working_calendar().await?;
    let at = now();
    let clock = state.clock(at, &calendar);
    let next =
        match command {
            CaseCommand::Merge {
                master, opinion, ..
            } => {
                let master = merge_master(&state, &actor, &master).await?;
                let change = cityops_domain::merge_on(&case, &master, opinion, &actor, clock)
                    .map_err(|e| match e {
                        cityops_domain::WorkflowError::Precondition(_) => {
                            ApiError::from(e).with_field("master")
                        }
                        other => ApiError::from(other),
                    })?;
                write_pair(&state, change).await?
            }
            CaseCommand::Unmerge { reason } => {
                let master = match &case.merged_into {
                    Some(link) => state.store.case(&link.master_id).await?,
                    None => None,
                };
                let Some(master) = master else {
                    return Err(ApiError::new(
                        ErrorCode::TransitionNotAllowed,
                        format!("case {} is not merged into another", case.number),
                    ));
                };
                let change = cityops_domain::unmerge_on(&case, &master, reason, &actor, clock)?;
                write_pair(&state, change).await?
            }
            command => {
                let (next, event) = decide_on(&case, command, &actor, clock)?;
                state.store.update_case(&next, &event, None).await?;
                next
            }
        };
    crate::open_cases::note(&state, &next);
    state.outbox_written();
    state
        .metrics
        .workflow_commands
        .get_or_create(&StateLabels {
            state: next.state.as_str().into(),
        })
        .inc();
    Ok(Json(timed_view(&state, &next, at, &actor).await?))
}

/// The master a report is merged into, by number: a case the user sees, or a refusal naming
/// `master` (a case outside the jurisdiction is, to this user, no case).
async fn merge_master(state: &AppState, actor: &Actor, number: &str) -> ApiResult<Case> {
    match state.store.case_by_number(number).await? {
        Some(master) if actor.can_see(&master.area) => Ok(master),
        _ => Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "master",
            format!("there is no case {number} within your jurisdiction"),
        )),
    }
}

/// Writes a merge's or an unmerge's two changes together; answers the report as it is now.
async fn write_pair(state: &AppState, change: cityops_domain::PairedChange) -> ApiResult<Case> {
    let cityops_domain::PairedChange { report, master } = change;
    let next = report.0.clone();
    let master_now = master.0.clone();
    state.store.update_case_pair([report, master]).await?;
    crate::open_cases::note(state, &next);
    crate::open_cases::note(state, &master_now);
    Ok(next)
}

fn check_version(case: &Case, version: i64) -> ApiResult<()> {
    if version != case.version {
        return Err(ApiError::new(ErrorCode::VersionConflict, format!(
                "the case is at version {}, not {version}: someone changed it; reload and try again",
                case.version
            ),
        )
        .with_field("version"));
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The case version the caller saw.
    version: i64,
    /// Original file name, e.g. `near.jpg`: a plain name (no `/`, `\\` or NUL) of at most 200
    /// characters.
    #[param(pattern = r"^[^/\\\x00]{0,200}$")]
    file_name: Option<String>,
}

/// Attach a photo (JPEG, PNG or WebP; at most 10 MiB, 10,000 pixels a side) to a case. Send
/// the raw bytes as the body. The image is decoded whole, turned upright and re-encoded, so
/// the stored copy carries no EXIF (position, device); the SHA-256 of that copy is recorded.
/// It is shown to the public only once staff review it. The same image sent again to the
/// same case (a phone that did not hear the answer) answers the photo already attached, with
/// 200, whatever the version: a retried upload never attaches a photo twice.
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "cases",
    params(("id" = String, Path, description = "Case id or case number"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = AttachmentView), (status = 200, description = "this image was attached already", body = AttachmentView), (status = 409, description = "version_conflict or transition_not_allowed", body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let Query(query) = query
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()).with_field("version"))?;
    let body = crate::extract::upload_body(body)?;
    let file_name = query.file_name.unwrap_or_else(|| "photo".into());
    let case = visible_case(&state, &actor, &id).await?;
    let attached =
        attach_image(&state, &case, &actor, &body, file_name, Some(query.version)).await?;
    let status = if attached.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AttachmentView::new(
            &attached.attachment,
            attached.case.version,
        )),
    ))
}

/// A photo attached to a case, and the case after it.
pub(crate) struct Attached {
    pub attachment: Attachment,
    pub case: Case,
    /// False when the same image was attached already: nothing changed.
    pub new: bool,
}

/// Checks an image by its bytes, stores it durably and attaches it to the case through the
/// workflow, in one transaction with the case change; the same image attached already is
/// answered as it is, before the caller's `version` (if any) is checked. Shared by staff and
/// citizen uploads.
pub(crate) async fn attach_image(
    state: &AppState,
    case: &Case,
    actor: &Actor,
    body: &[u8],
    file_name: String,
    version: Option<i64>,
) -> ApiResult<Attached> {
    if body.is_empty() {
        return Err(ApiError::invalid("body", "the attachment is empty"));
    }
    if file_name.chars().count() > 200 || file_name.contains(['/', '\\', '\0']) {
        return Err(ApiError::invalid(
            "file_name",
            "file_name must be a plain name of at most 200 characters",
        ));
    }
    // Only what decodes whole is kept, re-encoded: no EXIF, nothing hidden behind a header.
    let clean = crate::photo::clean_upload(body.to_vec()).await?;
    let body = clean.bytes.as_slice();
    let content_type = clean.content_type;
    let sha256 = hex::encode(Sha256::digest(body));
    if let Some(attachment) = state
        .store
        .case_attachments(&case.id)
        .await?
        .into_iter()
        .find(|a| a.sha256 == sha256)
    {
        return Ok(Attached {
            attachment,
            case: case.clone(),
            new: false,
        });
    }
    if let Some(version) = version {
        check_version(case, version)?;
    }
    let attachment_id = new_id();
    let at = now();
    let (next, event) = decide(
        case,
        CaseCommand::Attach {
            attachment_id: attachment_id.clone(),
        },
        actor,
        at,
    )?;
    let relative = format!("attachments/{}/{}", &sha256[..2], attachment_id);
    let path = state.config.data_dir.join(&relative);
    write_durably(&path, body)
        .await
        .map_err(ApiError::internal)?;
    let attachment = Attachment::uploaded(
        attachment_id,
        case.id.clone(),
        file_name,
        content_type.to_owned(),
        body.len() as i64,
        sha256,
        relative,
        actor.user_id.clone(),
        at,
    );
    if let Err(error) = state
        .store
        .update_case(&next, &event, Some(&attachment))
        .await
    {
        // The row was not written, so the file would be an orphan; unless whether it was
        // written is unknown: a row that landed must not point at missing bytes.
        if !matches!(error, cityops_store::StoreError::OutcomeUnknown(_)) {
            let _ = tokio::fs::remove_file(&path).await;
        }
        return Err(error.into());
    }
    state.outbox_written();
    Ok(Attached {
        attachment,
        case: next,
        new: true,
    })
}

/// The file is on disk (fsynced) before its row commits, so no committed row points at
/// missing bytes.
pub(crate) async fn write_durably(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    // The new name must survive a power loss too: sync the directory entries up to
    // `attachments/`, which may have just been created.
    let mut dir = path.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        tokio::fs::File::open(d).await?.sync_all().await?;
        dir = d.parent();
    }
    Ok(())
}

/// Download a photo as stored (unblurred; never with EXIF), for the staff who handle its
/// case within their jurisdiction.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "cases",
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, content_type = "image/jpeg"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (attachment, _) = crate::routes::photos::handled_attachment(&state, &actor, &id).await?;
    let bytes = tokio::fs::read(state.config.data_dir.join(&attachment.path))
        .await
        .map_err(ApiError::internal)?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = attachment.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = format!("\"{}\"", attachment.sha256).parse() {
        headers.insert(header::ETAG, value);
    }
    Ok((headers, bytes))
}

#[cfg(test)]
mod state_list_tests {
    use cityops_domain::CaseState;

    /// The `state` filter's pattern in the document names every state, and only those.
    #[test]
    fn the_state_filter_pattern_names_every_state() {
        let document = include_str!("cases.rs");
        let pattern = document
            .split("/// Comma-separated states, e.g. `filed,dispatched`.")
            .nth(1)
            .and_then(|rest| rest.split("r\"^(").nth(1))
            .and_then(|rest| rest.split(")?").next())
            .expect("the state filter has a pattern");
        let named: Vec<&str> = pattern.split('|').collect();
        let all: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(named, all);
    }
}
