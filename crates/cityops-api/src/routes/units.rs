//! The units that cases are dispatched to, as the city's own data: read by every staff
//! member; added, changed, imported, retired and reinstated by admins.
//!
//! Retiring a unit hands its open cases to a successor (a `reassign` step on each case's
//! timeline) and re-points the responsibility rules that name it; a unit with open cases
//! is never retired without one. Retired units stay readable, since closed cases and the
//! evaluation still name them, but take no new case and no new rule.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use cityops_domain::routing::Rule;
use cityops_domain::{
    normalize_phone, Actor, AreaCode, CaseCommand, CaseState, Organization, Retirement, Role, Unit,
    UnitContacts, UnitKind,
};
use cityops_store::{CaseQuery, StoreError, UnitFilter, UnitImport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::views::UnitView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/units",
            get(list_units).post(create_unit).put(import_units),
        )
        .route("/units/{code}", get(get_unit).put(update_unit))
        .route("/units/{code}/retire", post(retire_unit))
        .route("/units/{code}/reinstate", post(reinstate_unit))
        .route("/units/{code}/contacts", get(unit_contacts))
}

/// The columns of the units CSV, export and import alike.
const CSV_COLUMNS: [&str; 10] = [
    "code",
    "name",
    "organization",
    "kind",
    "jurisdiction",
    "parent",
    "duty_phone",
    "contact_name",
    "contact_phone",
    "active",
];

/// Cases moved per page when a unit retires.
const PAGE: u32 = 500;
/// A case changed by someone while it was being moved is read again this many times.
const CONFLICT_RETRIES: usize = 3;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnitQuery {
    #[param(value_type = Option<crate::wire::UnitKind>)]
    kind: Option<String>,
    #[param(value_type = Option<crate::wire::UnitOrganization>)]
    organization: Option<String>,
    /// Units whose jurisdiction lies within this area.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    within: Option<String>,
    /// active (default), retired or all.
    #[param(pattern = "^(active|retired|all)$")]
    status: Option<String>,
    /// json (default) or csv (UTF-8 with a BOM, the columns of the import).
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// Operations centers and responsible units: the active ones unless `status` says
/// otherwise. Contacts are masked.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitQuery),
    responses((status = 200, content((Vec<UnitView> = "application/json"), (String = "text/csv"))),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    _user: CurrentUser,
    QueryArgs(query): QueryArgs<UnitQuery>,
) -> ApiResult<Response> {
    let kind = query
        .kind
        .as_deref()
        .map(|k| parse_kind(k).map_err(|e| e.with_field("kind")))
        .transpose()?;
    let organization = query
        .organization
        .as_deref()
        .map(parse_organization)
        .transpose()?;
    let within = query
        .within
        .as_deref()
        .map(|w| AreaCode::parse(w).map_err(|e| ApiError::invalid("within", e.reason)))
        .transpose()?;
    let retired = match query.status.as_deref() {
        None | Some("active") => Some(false),
        Some("retired") => Some(true),
        Some("all") => None,
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "status is active, retired or all",
            ))
        }
    };
    let units = state
        .store
        .units(&UnitFilter {
            kind,
            organization,
            within,
            retired,
        })
        .await?;
    match query.format.as_deref() {
        None | Some("json") => {
            Ok(Json(units.iter().map(UnitView::from).collect::<Vec<_>>()).into_response())
        }
        Some("csv") => csv_export(&units),
        Some(_) => Err(ApiError::invalid("format", "format is json or csv")),
    }
}

#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "units",
    params(("code" = String, Path, description = "Unit code, e.g. 310101-CGZF")),
    responses((status = 200, body = UnitView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_unit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<UnitView>> {
    let unit = stored_unit(&state, &code).await?;
    let mut view = UnitView::from(&unit);
    view.open_cases = Some(open_cases(&state, &actor, &unit.code).await?);
    Ok(Json(view))
}

/// A new unit, or a unit's fields as an admin writes them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitBody {
    /// Only when adding: letters, digits, `-`, `_`, `.`.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$", example = "310101-HJWY")]
    code: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"\S",
        example = "黄浦区环境卫生维养公司"
    )]
    name: String,
    #[schema(value_type = crate::wire::UnitOrganization)]
    organization: String,
    /// The line of work default proposals send it. A new unit without one is `other`
    /// (reached through the responsibility matrix only); a change without one keeps it.
    #[schema(value_type = Option<crate::wire::UnitKind>)]
    kind: Option<String>,
    /// The area it answers for.
    #[schema(pattern = "^([0-9]{6}|[0-9]{9}|[0-9]{12})$", example = "310101")]
    jurisdiction: String,
    /// The unit above it.
    #[schema(max_length = 64)]
    parent: Option<String>,
    /// Leave out to keep, `""` to remove; else 5 to 20 digits, with spaces, brackets, `-`,
    /// `.` and a leading `+` allowed.
    #[schema(
        max_length = 30,
        pattern = r"^\s*$|^\s*\+?[ ().-]*([0-9][ ().-]*){5,20}\s*$"
    )]
    duty_phone: Option<String>,
    /// Leave out to keep, `""` to remove.
    #[schema(max_length = 50)]
    contact_name: Option<String>,
    /// Leave out to keep, `""` to remove; written like `duty_phone`.
    #[schema(
        max_length = 30,
        pattern = r"^\s*$|^\s*\+?[ ().-]*([0-9][ ().-]*){5,20}\s*$"
    )]
    contact_phone: Option<String>,
}

/// Add a unit (admins, within their jurisdiction). It is active at once and can be named
/// by responsibility rules, dispatches, census maintainers and users.
#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = UnitBody,
    responses((status = 201, body = UnitView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_unit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(body): JsonBody<UnitBody>,
) -> ApiResult<(StatusCode, Json<UnitView>)> {
    only_admins(&actor)?;
    let code = body.code.clone().filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::rule(
            ErrorCode::InconsistentFields,
            "code",
            "a new unit needs its code",
        )
    })?;
    let unit = unit_from_body(&state, &actor, code, body, &UnitContacts::default()).await?;
    state.store.create_unit(&unit).await?;
    Ok((StatusCode::CREATED, Json(UnitView::from(&unit))))
}

/// Change a unit (admins): its name, organization, kind, jurisdiction, parent and
/// contacts. Retirement has its own endpoint.
#[utoipa::path(put, path = "/api/v1/units/{code}", tag = "units", request_body = UnitBody,
    params(("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = UnitView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_unit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<UnitBody>,
) -> ApiResult<Json<UnitView>> {
    only_admins(&actor)?;
    let stored = stored_unit(&state, &code).await?;
    within_reach(&actor, &stored)?;
    if body.code.as_deref().is_some_and(|c| c != stored.code) {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "code",
            "a unit's code never changes: cases and rules name it",
        ));
    }
    let kind_given = body.kind.is_some();
    let mut unit = unit_from_body(&state, &actor, code, body, &stored.contacts).await?;
    if !kind_given {
        unit.kind = stored.kind;
    }
    unit.retired = stored.retired.clone();
    if unit != stored && !state.store.update_unit(&unit).await? {
        return Err(ApiError::not_found("the unit"));
    }
    Ok(Json(UnitView::from(&unit)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireBody {
    /// The active unit that takes over the open cases and the rules; needed when the unit
    /// has open cases.
    #[schema(max_length = 64)]
    successor: Option<String>,
    /// Why, for the timeline of each case moved.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct RetirementView {
    unit: UnitView,
    /// Open cases handed to the successor, each with a `reassign` step on its timeline.
    moved_cases: u64,
    /// Open assisting parts (协办) of the unit's handed to the successor (`reassign` with
    /// `from`), or released when there is none or it already has a part of the case.
    moved_parts: u64,
    /// Responsibility rules that named the unit and now name the successor.
    moved_rules: u64,
    /// Rules that named the unit and were removed, there being no successor.
    removed_rules: u64,
}

/// Retire a unit (admins): it takes no new case or rule from now on; its open cases go to
/// the successor, each with a `reassign` step on its timeline, and the rules naming it name
/// the successor. Without open cases a successor is optional (the rules naming the unit are
/// then removed). Its open assisting parts go to the successor too, or are released when
/// there is none. Retiring a retired unit again moves what is left.
#[utoipa::path(post, path = "/api/v1/units/{code}/retire", tag = "units", request_body = RetireBody,
    params(("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = RetirementView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn retire_unit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<RetireBody>,
) -> ApiResult<Json<RetirementView>> {
    only_admins(&actor)?;
    let reason = body.reason.trim().to_owned();
    if reason.chars().count() > 500 {
        return Err(ApiError::invalid(
            "reason",
            "a reason has 1 to 500 characters",
        ));
    }
    // Unicode spaces the document's pattern cannot tell from text (U+0085, say) leave nothing
    // once trimmed: a rule of its own, as a command's missing text is.
    if reason.is_empty() {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "reason",
            "a reason needs a character that is not a space",
        ));
    }
    let mut unit = stored_unit(&state, &code).await?;
    within_reach(&actor, &unit)?;
    let successor = match body.successor.as_deref().filter(|s| !s.is_empty()) {
        Some(successor) => Some(successor_of(&state, &unit, successor).await?),
        None => None,
    };
    let open = open_cases(&state, &actor, &unit.code).await?;
    if open > 0 && successor.is_none() {
        return Err(ApiError::new(
            ErrorCode::UnitHasOpenCases,
            format!(
                "unit {} has {open} open cases: name the successor that takes them over",
                unit.code
            ),
        )
        .with_field("successor"));
    }
    // Retired first, so no new case or rule reaches it while its cases move.
    let successor_code = successor.as_ref().map(|s| s.code.clone());
    let retirement = match unit.retired.clone() {
        Some(retired) if retired.successor == successor_code || successor_code.is_none() => retired,
        _ => Retirement {
            at: Utc::now(),
            successor: successor_code.clone(),
        },
    };
    if unit.retired.as_ref() != Some(&retirement) {
        unit.retired = Some(retirement);
        state.store.update_unit(&unit).await?;
    }
    let moved_cases = match &successor_code {
        Some(successor) => move_cases(&state, &actor, &unit.code, successor, &reason).await?,
        None => 0,
    };
    let moved_parts = move_parts(
        &state,
        &actor,
        &unit.code,
        successor_code.as_deref(),
        &reason,
    )
    .await?;
    let (moved_rules, removed_rules) =
        repoint_rules(&state, &unit.code, successor_code.as_deref()).await?;
    Ok(Json(RetirementView {
        unit: UnitView::from(&unit),
        moved_cases,
        moved_parts,
        moved_rules,
        removed_rules,
    }))
}

/// Put a retired unit back in service (admins). The cases and rules that moved stay
/// where they went.
#[utoipa::path(post, path = "/api/v1/units/{code}/reinstate", tag = "units",
    params(("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = UnitView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn reinstate_unit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<UnitView>> {
    only_admins(&actor)?;
    let mut unit = stored_unit(&state, &code).await?;
    within_reach(&actor, &unit)?;
    if unit.retired.take().is_some() {
        state.store.update_unit(&unit).await?;
    }
    Ok(Json(UnitView::from(&unit)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitContactParams {
    /// dispatch (calling the unit about a case) or coordination.
    #[param(required = true, pattern = "^(dispatch|coordination)$")]
    purpose: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitContactsView {
    duty_phone: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    purpose: String,
}

/// A unit's duty phone and contact in clear, for the staff who call units (admins,
/// dispatchers, shift leads, operators, center leaders) with a stated purpose. Each read of
/// recorded contacts is on the audit log before the answer leaves; a unit without any
/// answers nulls.
#[utoipa::path(get, path = "/api/v1/units/{code}/contacts", tag = "units",
    params(("code" = String, Path, description = "Unit code"), UnitContactParams),
    responses((status = 200, body = UnitContactsView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn unit_contacts(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    QueryArgs(params): QueryArgs<UnitContactParams>,
) -> ApiResult<Json<UnitContactsView>> {
    if !matches!(
        actor.role,
        Role::Admin | Role::Dispatcher | Role::ShiftLead | Role::Operator | Role::CenterLeader
    ) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only admins and the center's staff who call units read their contacts",
        ));
    }
    let purpose = params
        .purpose
        .filter(|p| matches!(p.as_str(), "dispatch" | "coordination"))
        .ok_or_else(|| ApiError::invalid("purpose", "purpose is dispatch or coordination"))?;
    let unit = stored_unit(&state, &code).await?;
    // Nothing recorded is nothing read: no audit entry.
    if !unit.contacts.is_empty() {
        state
            .store
            .append_audit(vec![cityops_store::audit::record(
                "pii.read",
                format!("unit:{}", unit.code),
            )
            .detail(format!("purpose {purpose}; unit contacts"))])
            .await?;
    }
    Ok(Json(UnitContactsView {
        duty_phone: unit.contacts.duty_phone,
        contact_name: unit.contacts.contact_name,
        contact_phone: unit.contacts.contact_phone,
        purpose,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UnitImportView {
    created: u64,
    updated: u64,
    unchanged: u64,
}

impl From<UnitImport> for UnitImportView {
    fn from(i: UnitImport) -> UnitImportView {
        UnitImportView {
            created: i.created,
            updated: i.updated,
            unchanged: i.unchanged,
        }
    }
}

/// Import units (admins) from CSV (`text/csv`, UTF-8 with or without BOM), the columns of
/// the export: `code,name,organization,kind,jurisdiction,parent,duty_phone,contact_name,contact_phone,active`.
/// New codes are added, known ones updated; a contact cell that is empty or masked (holds
/// `*`) keeps what is stored. All or nothing: a bad line is named and nothing changes.
/// Retiring and reinstating happen on their own endpoints, so `active` must say what is
/// stored (and `true` for a new unit).
#[utoipa::path(put, path = "/api/v1/units", tag = "units",
    request_body(content = String, content_type = "text/csv",
        example = "code,name,organization,kind,jurisdiction,parent,duty_phone,contact_name,contact_phone,active\n310101-HJWY,黄浦区环境卫生维养公司,contractor,greening,310101,310101-LHSR,021-63210000,,,true\n"),
    responses((status = 200, body = UnitImportView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_units(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    body: Bytes,
) -> ApiResult<Json<UnitImportView>> {
    async {
        only_admins(&actor)?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid("file", "the file must be UTF-8"))?;
        let rows = parse_csv(text)?;
        let mut seen = std::collections::HashMap::new();
        for row in &rows {
            if let Some(first) = seen.insert(row.unit.code.clone(), row.line) {
                return Err(ApiError::invalid(
                    format!("line {}: code", row.line),
                    format!("unit {} is on line {first} too", row.unit.code),
                ));
            }
        }
        let mut units = Vec::with_capacity(rows.len());
        for row in rows {
            let at = |field: &str| format!("line {}: {field}", row.line);
            let stored = state.store.unit(&row.unit.code).await?;
            let mut unit = row.unit;
            if let Some(stored) = &stored {
                within_reach(&actor, stored)?;
            }
            within_reach(&actor, &unit).map_err(|e| e.with_field(at("jurisdiction")))?;
            if stored.as_ref().is_none_or(|s| s.is_active()) != row.active {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    at("active"),
                    "retire or reinstate a unit on its own, so its open cases move: active must be as stored (true for a new unit)",
                ));
            }
            let known = |cell: &Option<String>| cell.as_deref().is_some_and(|c| !c.contains('*'));
            let kept = stored.as_ref().map(|s| s.contacts.clone()).unwrap_or_default();
            unit.contacts = UnitContacts {
                duty_phone: if known(&row.contacts.duty_phone) {
                    Some(phone(at("duty_phone"), row.contacts.duty_phone.as_deref())?)
                } else {
                    kept.duty_phone
                },
                contact_name: if known(&row.contacts.contact_name) {
                    row.contacts.contact_name
                } else {
                    kept.contact_name
                },
                contact_phone: if known(&row.contacts.contact_phone) {
                    Some(phone(at("contact_phone"), row.contacts.contact_phone.as_deref())?)
                } else {
                    kept.contact_phone
                },
            };
            unit.retired = stored.and_then(|s| s.retired);
            unit.check().map_err(|e| {
                let field = at(&e.field);
                ApiError::from(e).with_field(field)
            })?;
            units.push((row.line, unit));
        }
        let codes: std::collections::HashSet<&str> =
            units.iter().map(|(_, u)| u.code.as_str()).collect();
        for (line, unit) in &units {
            check_area(&state, &unit.jurisdiction)
                .await
                .map_err(|e| e.with_field(format!("line {line}: jurisdiction")))?;
            if let Some(parent) = &unit.parent {
                if !codes.contains(parent.as_str()) {
                    check_parent(&state, parent)
                        .await
                        .map_err(|e| e.with_field(format!("line {line}: parent")))?;
                }
            }
        }
        let units: Vec<Unit> = units.into_iter().map(|(_, unit)| unit).collect();
        let result = state.store.import_units(&units).await?;
        Ok(Json(UnitImportView::from(result)))
    }
    .await
    .map_err(ApiError::in_file)
}

/// One line of an import, read but not yet checked against the store.
struct CsvRow {
    line: u64,
    unit: Unit,
    contacts: UnitContacts,
    active: bool,
}

fn parse_csv(text: &str) -> ApiResult<Vec<CsvRow>> {
    let mut reader = cityops_domain::csv_file::with_header(text, &CSV_COLUMNS)?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let at = |field: &str| format!("line {line}: {field}");
        let record =
            record.map_err(|e| ApiError::invalid(format!("line {line}"), e.to_string()))?;
        let record = cityops_domain::csv_file::unescape(record);
        let cell = |n: usize| record.get(n).unwrap_or("").to_owned();
        let optional = |n: usize| Some(cell(n)).filter(|c| !c.is_empty());
        let code = cell(0);
        cityops_domain::unit::check_unit_code(&code)
            .map_err(|e| ApiError::invalid(at("code"), e.reason))?;
        let organization =
            parse_organization(&cell(2)).map_err(|e| e.with_field(at("organization")))?;
        let kind = match optional(3) {
            Some(kind) => parse_kind(&kind).map_err(|e| e.with_field(at("kind")))?,
            None => UnitKind::Other,
        };
        let jurisdiction = AreaCode::parse(&cell(4))
            .map_err(|e| ApiError::invalid(at("jurisdiction"), e.reason))?;
        let active = match cell(9).to_ascii_lowercase().as_str() {
            "" | "true" | "1" | "yes" | "是" => true,
            "false" | "0" | "no" | "否" => false,
            other => {
                return Err(ApiError::invalid(
                    at("active"),
                    format!("'{other}' is not true or false"),
                ))
            }
        };
        let mut unit = Unit::new(code, cell(1), kind, jurisdiction);
        unit.organization = organization;
        unit.parent = optional(5);
        rows.push(CsvRow {
            line,
            unit,
            contacts: UnitContacts {
                duty_phone: optional(6),
                contact_name: optional(7),
                contact_phone: optional(8),
            },
            active,
        });
    }
    Ok(rows)
}

fn csv_export(units: &[Unit]) -> ApiResult<Response> {
    let mut out = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let csv_error = |e: csv::Error| ApiError::internal(e);
    out.write_record(CSV_COLUMNS).map_err(csv_error)?;
    for unit in units {
        let view = UnitView::from(unit);
        cityops_domain::csv_file::write_row(
            &mut out,
            [
                view.code,
                view.name,
                unit.organization.as_str().to_owned(),
                unit.kind.as_str().to_owned(),
                view.jurisdiction,
                view.parent.unwrap_or_default(),
                view.duty_phone.unwrap_or_default(),
                view.contact_name.unwrap_or_default(),
                view.contact_phone.unwrap_or_default(),
                unit.is_active().to_string(),
            ],
        )
        .map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"units.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The unit an admin's body describes, checked against the store; contacts left out of
/// the body are taken from `kept`.
async fn unit_from_body(
    state: &AppState,
    actor: &Actor,
    code: String,
    body: UnitBody,
    kept: &UnitContacts,
) -> ApiResult<Unit> {
    cityops_domain::unit::check_unit_code(&code)?;
    let organization = parse_organization(&body.organization)?;
    let kind = match body.kind.as_deref() {
        Some(kind) => parse_kind(kind)?,
        None => UnitKind::Other,
    };
    let jurisdiction = AreaCode::parse(&body.jurisdiction)
        .map_err(|e| ApiError::invalid("jurisdiction", e.reason))?;
    let mut unit = Unit::new(code, body.name.trim().to_owned(), kind, jurisdiction);
    unit.organization = organization;
    unit.parent = body.parent.filter(|p| !p.is_empty());
    let contact = |given: Option<String>, kept: &Option<String>| match given {
        None => kept.clone(),
        Some(value) if value.trim().is_empty() => None,
        Some(value) => Some(value.trim().to_owned()),
    };
    unit.contacts = UnitContacts {
        duty_phone: contact(body.duty_phone, &kept.duty_phone)
            .map(|p| phone("duty_phone".into(), Some(&p)))
            .transpose()?,
        contact_name: contact(body.contact_name, &kept.contact_name),
        contact_phone: contact(body.contact_phone, &kept.contact_phone)
            .map(|p| phone("contact_phone".into(), Some(&p)))
            .transpose()?,
    };
    unit.check()?;
    within_reach(actor, &unit)?;
    check_area(state, &unit.jurisdiction)
        .await
        .map_err(|e| e.with_field("jurisdiction"))?;
    if let Some(parent) = &unit.parent {
        check_parent(state, parent)
            .await
            .map_err(|e| e.with_field("parent"))?;
    }
    Ok(unit)
}

/// A phone number in its one stored form, or an error on `field`.
fn phone(field: String, raw: Option<&str>) -> ApiResult<String> {
    normalize_phone(raw.unwrap_or_default())
        .map_err(|e| ApiError::invalid(field, e.reason.replace("contact.phone", "the phone")))
}

fn parse_kind(text: &str) -> ApiResult<UnitKind> {
    UnitKind::parse(text)
        .ok_or_else(|| ApiError::invalid("kind", format!("unknown unit kind '{text}'")))
}

fn parse_organization(text: &str) -> ApiResult<Organization> {
    Organization::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "organization",
            format!(
                "'{text}' is not one of {}",
                Organization::ALL.map(Organization::as_str).join(", ")
            ),
        )
    })
}

fn only_admins(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may add, change, import or retire units",
        ))
    }
}

/// An admin manages the units that answer for places within their own jurisdiction.
fn within_reach(actor: &Actor, unit: &Unit) -> ApiResult<()> {
    if actor.scope.contains(&unit.jurisdiction) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "unit {} answers for {}, outside your jurisdiction {}",
                unit.code, unit.jurisdiction, actor.scope
            ),
        )
        .with_field("jurisdiction"))
    }
}

async fn stored_unit(state: &AppState, code: &str) -> ApiResult<Unit> {
    state
        .store
        .unit(code)
        .await?
        .ok_or_else(|| ApiError::not_found("the unit"))
}

async fn check_area(state: &AppState, area: &AreaCode) -> ApiResult<()> {
    match state.store.area(area).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "jurisdiction",
            format!("area {area} does not exist"),
        )),
    }
}

async fn check_parent(state: &AppState, parent: &str) -> ApiResult<()> {
    match state.store.unit(parent).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "parent",
            format!("unit {parent} does not exist"),
        )),
    }
}

/// The successor `code` names, if it can take over `unit`'s cases: another active unit
/// whose jurisdiction covers the retiring unit's.
async fn successor_of(state: &AppState, unit: &Unit, code: &str) -> ApiResult<Unit> {
    if code == unit.code {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "successor",
            "a unit cannot succeed itself",
        ));
    }
    let successor = state.store.unit(code).await?.ok_or_else(|| {
        ApiError::rule(
            ErrorCode::UnknownReference,
            "successor",
            format!("unit {code} does not exist"),
        )
    })?;
    if !successor.is_active() {
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "successor",
            format!("unit {code} is retired itself"),
        ));
    }
    if !successor.jurisdiction.contains(&unit.jurisdiction) {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "successor",
            format!(
                "unit {code} answers for {}, which does not cover {} where unit {}'s cases lie",
                successor.jurisdiction, unit.jurisdiction, unit.code
            ),
        ));
    }
    Ok(successor)
}

fn open_query(actor: &Actor, unit: &str) -> CaseQuery {
    let mut query = CaseQuery::new(actor.scope.city(), Utc::now());
    query.unit = Some(unit.to_owned());
    query.states = CaseState::OPEN.to_vec();
    query
}

async fn open_cases(state: &AppState, actor: &Actor, unit: &str) -> ApiResult<u64> {
    Ok(state.store.count_cases(&open_query(actor, unit)).await?)
}

/// Hands every open case of `unit` to `successor`, page by page; returns how many moved.
async fn move_cases(
    state: &AppState,
    actor: &Actor,
    unit: &str,
    successor: &str,
    reason: &str,
) -> ApiResult<u64> {
    change_each(state, open_query(actor, unit), |case| {
        (case.unit.as_deref() == Some(unit)).then(|| {
            let command = CaseCommand::Reassign {
                unit: successor.to_owned(),
                reason: reason.to_owned(),
                from: None,
            };
            (command, actor.clone())
        })
    })
    .await
}

/// Hands every open assisting part of `unit` to `successor`, or (none) releases it, page by
/// page; returns how many parts moved or were released.
async fn move_parts(
    state: &AppState,
    actor: &Actor,
    unit: &str,
    successor: Option<&str>,
    reason: &str,
) -> ApiResult<u64> {
    let mut query = CaseQuery::new(actor.scope.city(), Utc::now());
    // The cases the unit leads or assists on; those it leads moved already.
    query.jurisdiction_unit = Some(unit.to_owned());
    query.states = CaseState::OPEN.to_vec();
    change_each(state, query, |case| {
        case.open_assist(unit)?;
        Some(match successor {
            Some(successor) => (
                CaseCommand::Reassign {
                    unit: successor.to_owned(),
                    reason: reason.to_owned(),
                    from: Some(unit.to_owned()),
                },
                actor.clone(),
            ),
            None => (
                CaseCommand::ReleaseAssist {
                    unit: unit.to_owned(),
                    reason: reason.to_owned(),
                },
                Actor::system(case.area.city()),
            ),
        })
    })
    .await
}

/// Issues, on every open case the query finds (page by page), the command `step` gives for
/// the case as it stands, if any; a case changed meanwhile is read again and asked again.
/// Returns how many cases changed.
async fn change_each(
    state: &AppState,
    mut query: CaseQuery,
    step: impl Fn(&cityops_domain::Case) -> Option<(CaseCommand, Actor)>,
) -> ApiResult<u64> {
    query.limit = PAGE;
    let mut changed = 0;
    loop {
        let page = state.store.cases(&query).await?;
        for case in page.cases {
            let mut case = case;
            for _ in 0..CONFLICT_RETRIES {
                if case.state.is_terminal() {
                    break;
                }
                let Some((command, by)) = step(&case) else {
                    break;
                };
                let (next, event) = cityops_domain::decide(&case, command, &by, Utc::now())?;
                match state.store.update_case(&next, &event, None).await {
                    Ok(()) => {
                        state.outbox_written();
                        changed += 1;
                        break;
                    }
                    Err(StoreError::Conflict(_)) => match state.store.case(&case.id).await? {
                        Some(fresh) => case = fresh,
                        None => break,
                    },
                    Err(e) => return Err(e.into()),
                }
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(changed),
        }
    }
}

/// Rules naming `unit` (as the responsible unit or the components' owner) name `successor`
/// instead, or go when there is none; returns (moved, removed).
async fn repoint_rules(
    state: &AppState,
    unit: &str,
    successor: Option<&str>,
) -> ApiResult<(u64, u64)> {
    let rules = state.store.rules().await?;
    let names = |rule: &Rule| rule.unit == unit || rule.owner.as_deref() == Some(unit);
    let affected = rules.iter().filter(|r| names(r)).count() as u64;
    if affected == 0 {
        return Ok((0, 0));
    }
    let kept: Vec<Rule> = match successor {
        Some(successor) => rules
            .into_iter()
            .map(|mut rule| {
                if rule.unit == unit {
                    rule.unit = successor.to_owned();
                }
                if rule.owner.as_deref() == Some(unit) {
                    rule.owner = Some(successor.to_owned());
                }
                rule
            })
            .collect(),
        None => rules.into_iter().filter(|r| !names(r)).collect(),
    };
    state.store.put_rules(&kept).await?;
    Ok(match successor {
        Some(_) => (affected, 0),
        None => (0, affected),
    })
}
