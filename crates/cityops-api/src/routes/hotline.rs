//! The exchange with the city's 12345 hotline system: its tickets imported (CSV or JSON, all
//! or nothing, each ticket once) as hotline cases, and each ticket's result exported back.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use cityops_domain::{
    Actor, Case, CaseCommand, Location, NewReport, Role, Source, TimelineEvent, WorkflowError,
};
use cityops_store::{CaseClaim, HotlineTicketRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::routes::cases::{new_id, now, place, reporter_of};
use crate::views::ContactBody;
use crate::wire::Wire;
use crate::AppState;

pub fn router(max_import: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/hotline/tickets",
            put(import_tickets).layer(DefaultBodyLimit::max(max_import)),
        )
        .route("/hotline/tickets/results", get(results))
}

/// The columns of a ticket file, in order.
pub const TICKET_COLUMNS: [&str; 10] = [
    "ticket_id",
    "received_at",
    "kind",
    "caller_name",
    "caller_phone",
    "description",
    "address",
    "lon",
    "lat",
    "area",
];

/// What a 12345 ticket is: 求助 request, 投诉 complaint, 咨询 enquiry, 建议 suggestion, 表扬
/// praise, 其他 other. Enquiries and praise are answered by the hotline and open no case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Request,
    Complaint,
    Enquiry,
    Suggestion,
    Praise,
    Other,
}

impl TicketKind {
    const ALL: [TicketKind; 6] = [
        TicketKind::Request,
        TicketKind::Complaint,
        TicketKind::Enquiry,
        TicketKind::Suggestion,
        TicketKind::Praise,
        TicketKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Request => "request",
            TicketKind::Complaint => "complaint",
            TicketKind::Enquiry => "enquiry",
            TicketKind::Suggestion => "suggestion",
            TicketKind::Praise => "praise",
            TicketKind::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TicketKind::Request => "求助",
            TicketKind::Complaint => "投诉",
            TicketKind::Enquiry => "咨询",
            TicketKind::Suggestion => "建议",
            TicketKind::Praise => "表扬",
            TicketKind::Other => "其他",
        }
    }

    /// By its English wire name or its Chinese name.
    pub fn parse(text: &str) -> Option<TicketKind> {
        TicketKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text || k.zh() == text)
    }

    /// Whether the ticket becomes a case.
    pub fn opens_case(self) -> bool {
        !matches!(self, TicketKind::Enquiry | TicketKind::Praise)
    }
}

/// One ticket as a JSON import gives it (the CSV columns by the same names).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    /// The 12345 system's ticket id: 1 to 64 visible ASCII characters.
    #[schema(pattern = "^[!-~]{1,64}$")]
    pub ticket_id: String,
    /// When the hotline received the call: RFC 3339, or `YYYY-MM-DD HH:MM:SS` in Beijing time.
    pub received_at: String,
    /// request|complaint|enquiry|suggestion|praise|other, or 求助|投诉|咨询|建议|表扬|其他.
    pub kind: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub description: String,
    pub address: Option<String>,
    /// WGS-84; with `lat`, required for the kinds that open a case.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The finest known area code; when absent, the community is found from the point.
    pub area: Option<String>,
}

/// A ticket read from a file, with where it was (`line 5: ` or `[3].`).
struct Ticket {
    at: String,
    ticket_id: String,
    received_at: DateTime<Utc>,
    kind: TicketKind,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    description: String,
    address: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    area: Option<String>,
}

impl Ticket {
    /// SHA-256 over every field as read: the same ticket imported again has the same hash.
    fn content_hash(&self) -> String {
        let fields = [
            self.ticket_id.clone(),
            self.received_at.timestamp_millis().to_string(),
            self.kind.as_str().to_owned(),
            self.caller_name.clone().unwrap_or_default(),
            self.caller_phone.clone().unwrap_or_default(),
            self.description.clone(),
            self.address.clone().unwrap_or_default(),
            self.lon.map(|v| v.to_string()).unwrap_or_default(),
            self.lat.map(|v| v.to_string()).unwrap_or_default(),
            self.area.clone().unwrap_or_default(),
        ];
        hex::encode(Sha256::digest(fields.join("\u{1f}").as_bytes()))
    }

    fn refuse(&self, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::invalid(format!("{}{field}", self.at), message)
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Beijing time, which the 12345 system writes its times in when it gives no offset.
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .and_then(|local| beijing().from_local_datetime(&local).single())
    .map(|at| at.with_timezone(&Utc))
}

/// A ticket's fields checked one by one; `at` says where it is in the file.
fn ticket(at: String, body: TicketBody) -> ApiResult<Ticket> {
    let refuse = |field: &str, message: &str| ApiError::invalid(format!("{at}{field}"), message);
    let ticket_id = body.ticket_id.trim().to_owned();
    if !(1..=64).contains(&ticket_id.len()) || !ticket_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            "ticket_id",
            "a ticket id is 1 to 64 visible ASCII characters",
        ));
    }
    let received_at = parse_time(&body.received_at).ok_or_else(|| {
        refuse(
            "received_at",
            "a time is RFC 3339 or YYYY-MM-DD HH:MM:SS in Beijing time",
        )
    })?;
    let kind = TicketKind::parse(body.kind.trim()).ok_or_else(|| {
        refuse(
            "kind",
            "kind is one of request, complaint, enquiry, suggestion, praise, other (求助, 投诉, 咨询, 建议, 表扬, 其他)",
        )
    })?;
    let caller_name = blank_to_none(body.caller_name);
    if caller_name.as_ref().is_some_and(|n| n.chars().count() > 50) {
        return Err(refuse("caller_name", "a name is at most 50 characters"));
    }
    let caller_phone = blank_to_none(body.caller_phone);
    if let Some(phone) = &caller_phone {
        cityops_domain::normalize_phone(phone).map_err(|e| refuse("caller_phone", &e.reason))?;
    }
    let description = body.description.trim().to_owned();
    if description.is_empty() {
        return Err(refuse("description", "a ticket needs its description"));
    }
    let (lon, lat) = (body.lon, body.lat);
    if lon.is_some() != lat.is_some() {
        return Err(refuse(
            if lon.is_some() { "lat" } else { "lon" },
            "give both lon and lat, or neither",
        ));
    }
    if kind.opens_case() && lon.is_none() {
        return Err(refuse(
            "lon",
            "a ticket that opens a case needs its location (lon and lat, WGS-84)",
        ));
    }
    Ok(Ticket {
        at,
        ticket_id,
        received_at,
        kind,
        caller_name,
        caller_phone,
        description,
        address: blank_to_none(body.address),
        lon,
        lat,
        area: blank_to_none(body.area),
    })
}

fn parse_csv(text: &str) -> ApiResult<Vec<Ticket>> {
    let mut reader = cityops_domain::csv_file::with_header(text, &TICKET_COLUMNS)?;
    let mut tickets = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let at = format!("line {line}: ");
        let record =
            record.map_err(|e| ApiError::invalid(format!("line {line}"), e.to_string()))?;
        let record = cityops_domain::csv_file::unescape(record);
        let cell = |n: usize| record.get(n).unwrap_or("").to_owned();
        let number = |n: usize| -> ApiResult<Option<f64>> {
            let text = cell(n);
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid(format!("{at}{}", TICKET_COLUMNS[n]), "not a number")
                })
        };
        let body = TicketBody {
            ticket_id: cell(0),
            received_at: cell(1),
            kind: cell(2),
            caller_name: Some(cell(3)),
            caller_phone: Some(cell(4)),
            description: cell(5),
            address: Some(cell(6)),
            lon: number(7)?,
            lat: number(8)?,
            area: Some(cell(9)),
        };
        tickets.push(ticket(at, body)?);
    }
    Ok(tickets)
}

fn parse_json(bytes: &[u8]) -> ApiResult<Vec<Ticket>> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let bodies: Vec<TicketBody> = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(
            if path == "." { String::new() } else { path },
            e.inner().to_string(),
        )
    })?;
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| ticket(format!("[{i}]."), body))
        .collect()
}

/// Who opens the cases of imported tickets: the 12345 system, within the importer's
/// jurisdiction. The importer is on the audit log as the one who imported them.
fn hotline_actor(importer: &Actor) -> Actor {
    Actor {
        user_id: "hotline".into(),
        username: "12345".into(),
        role: Role::System,
        unit: None,
        scope: importer.scope.clone(),
    }
}

/// A ticket's case, opened (not yet stored) after the same checks as `POST /cases`.
async fn open_case(
    state: &AppState,
    actor: &Actor,
    ticket: &Ticket,
    at: DateTime<Utc>,
) -> ApiResult<(Case, TimelineEvent)> {
    let (Some(lon), Some(lat)) = (ticket.lon, ticket.lat) else {
        return Err(ticket.refuse("lon", "a ticket that opens a case needs lon and lat"));
    };
    let location = Location::new(lon, lat).map_err(|e| ticket.refuse(&e.field, e.reason))?;
    let (area, unit_grid) = place(state, &location, ticket.area.as_deref())
        .await
        .map_err(|e| {
            let field = e.field.clone().unwrap_or_else(|| "area".into());
            ApiError {
                field: Some(format!("{}{field}", ticket.at)),
                ..e
            }
        })?;
    let grid_inspector = crate::routes::grids::inspector_at(state, unit_grid.as_deref()).await?;
    let report = NewReport {
        fields: Default::default(),
        source: Source::Hotline,
        description: ticket.description.clone(),
        address: ticket.address.clone(),
        location,
        location_accuracy_m: None,
        area,
        category_hint: None,
        component_id: None,
        reporter: reporter_of(Some(ContactBody {
            name: ticket.caller_name.clone(),
            phone: ticket.caller_phone.clone(),
        })),
        unit_grid,
        hotline_ticket: Some(ticket.ticket_id.clone()),
        intake_terms: None,
        grid_inspector: grid_inspector.map(Box::new),
        call: None,
    };
    let calendar = state.working_calendar().await?;
    let clock = state.clock(at, &calendar);
    cityops_domain::report_on(new_id(), report, actor, clock).map_err(|e| match e {
        WorkflowError::OutOfScope => {
            ticket.refuse("area", "the ticket lies outside your jurisdiction")
        }
        WorkflowError::Invalid(invalid) => {
            // The domain names the report's fields; the file names the caller's.
            let field = match invalid.field.as_str() {
                "contact.name" => "caller_name",
                "contact.phone" => "caller_phone",
                "location.lon" => "lon",
                "location.lat" => "lat",
                other => other,
            };
            ticket.refuse(field, invalid.reason)
        }
        other => ApiError::from(other),
    })
}

#[derive(Serialize, ToSchema)]
pub struct TicketImport {
    /// Tickets new to CityOps.
    pub imported: u64,
    /// Tickets imported before with the same content, skipped.
    pub unchanged: u64,
    /// The numbers of the cases the new tickets opened, in file order.
    pub cases: Vec<String>,
}

/// Import tickets from the city's 12345 system (operators, shift leads, admins): CSV
/// (`text/csv`, UTF-8 with or without BOM, header
/// `ticket_id,received_at,kind,caller_name,caller_phone,description,address,lon,lat,area`) or
/// JSON (`application/json`: an array of objects with the same names). `kind` is
/// request|complaint|enquiry|suggestion|praise|other or 求助|投诉|咨询|建议|表扬|其他;
/// enquiries and praise are kept without a case, every other ticket opens a hotline case
/// located as `POST /cases` locates one (lon and lat in WGS-84, `area` optional), with the
/// caller's contact sealed and masked. A ticket id imported before is skipped (`unchanged`);
/// the same id with other content refuses the file. All or nothing: a bad row refuses the
/// file, naming its line (`line 5: caller_phone`) or index (`[3].lon`).
#[utoipa::path(put, path = "/api/v1/hotline/tickets", tag = "hotline",
    request_body(content((String = "text/csv"), (Vec<TicketBody> = "application/json"))),
    responses((status = 200, body = TicketImport), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_tickets(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<TicketImport>> {
    async {
        if !matches!(actor.role, Role::Operator | Role::ShiftLead | Role::Admin) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "only operators, shift leads and admins import 12345 tickets",
            ));
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let tickets = if json {
            parse_json(&body)?
        } else {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::invalid("file", "the file must be UTF-8"))?;
            parse_csv(text)?
        };
        let mut seen = std::collections::HashSet::new();
        for t in &tickets {
            if !seen.insert(t.ticket_id.as_str()) {
                return Err(t.refuse(
                    "ticket_id",
                    format!("ticket {} appears twice in the file", t.ticket_id),
                ));
            }
        }
        let ids: Vec<String> = tickets.iter().map(|t| t.ticket_id.clone()).collect();
        let stored: std::collections::HashMap<String, HotlineTicketRow> = state
            .store
            .hotline_tickets(&ids)
            .await?
            .into_iter()
            .map(|t| (t.ticket_id.clone(), t))
            .collect();
        let reporter = hotline_actor(&actor);
        let at = now();
        let mut unchanged = 0;
        let mut without_case = Vec::new();
        let mut with_case = Vec::new();
        for t in &tickets {
            let hash = t.content_hash();
            if let Some(before) = stored.get(&t.ticket_id) {
                if before.content_hash != hash {
                    return Err(t.refuse(
                        "ticket_id",
                        format!(
                            "ticket {} was imported before with other content",
                            t.ticket_id
                        ),
                    ));
                }
                unchanged += 1;
                continue;
            }
            let row = HotlineTicketRow {
                ticket_id: t.ticket_id.clone(),
                kind: t.kind.as_str().to_owned(),
                received_at: t.received_at,
                content_hash: hash,
                case_id: None,
                imported_at: at,
            };
            if t.kind.opens_case() {
                let (case, event) = open_case(&state, &reporter, t, at).await?;
                with_case.push((row, case, event));
            } else {
                without_case.push(row);
            }
        }
        // Every ticket is checked: now they are written.
        let mut imported = state
            .store
            .insert_hotline_tickets(&without_case, with_case.len())
            .await?;
        let mut cases = Vec::new();
        for (row, case, event) in with_case {
            let claim = CaseClaim::HotlineTicket(HotlineTicketRow {
                case_id: Some(case.id.clone()),
                ..row
            });
            match state
                .store
                .insert_claimed_case(case, event, Some(claim))
                .await
            {
                Ok(case) => {
                    imported += 1;
                    cases.push(case.number.0.clone());
                }
                // Imported at the same moment by another request.
                Err(cityops_store::StoreError::Claimed) => unchanged += 1,
                Err(other) => return Err(other.into()),
            }
        }
        if !cases.is_empty() {
            state.outbox_written();
        }
        Ok(Json(TicketImport {
            imported,
            unchanged,
            cases,
        }))
    }
    .await
    .map_err(ApiError::in_file)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// The first day (Beijing time) of receipt, inclusive.
    #[param(required = true, value_type = String, format = Date)]
    from: Option<NaiveDate>,
    /// The last day (Beijing time) of receipt, inclusive; at most 366 days after `from`.
    #[param(required = true, value_type = String, format = Date)]
    to: Option<NaiveDate>,
    /// csv (default, with a BOM for Excel) or json.
    #[param(pattern = "^(csv|json)$")]
    format: Option<String>,
}

/// One imported ticket's result, as sent back to the 12345 system.
#[derive(Serialize, ToSchema)]
pub struct TicketResult {
    pub ticket_id: String,
    /// request, complaint, enquiry, suggestion, praise or other.
    pub kind: String,
    pub received_at: DateTime<Utc>,
    /// The case the ticket opened; none for enquiries and praise.
    pub case_number: Option<String>,
    pub state: Option<crate::wire::CaseState>,
    /// The closing opinion when the case was closed with one, else the unit's last handling
    /// feedback (masked as in every answer); none before either.
    pub reply: Option<String>,
    /// Whether the caller was satisfied on the return call (satisfied or basically
    /// satisfied): true, or none (no satisfied call yet).
    pub satisfied: Option<bool>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The caller's verdict on the last return call that reached them, in three grades.
    pub satisfaction: Option<crate::wire::Satisfaction>,
    /// The case closed because the caller could not be reached for the return call.
    pub unreachable: bool,
}

/// The caller's verdict: from the call-back's attempts, or, for cases called back before
/// verdicts had three grades, from the yes it recorded.
fn satisfaction(case: &cityops_domain::Case) -> Option<cityops_domain::Satisfaction> {
    case.callback
        .and_then(|progress| progress.satisfaction)
        .or_else(|| {
            (case.callback_satisfied == Some(true))
                .then_some(cityops_domain::Satisfaction::Satisfied)
        })
}

/// The reply a case gives its ticket: see [`TicketResult::reply`].
fn reply(events: &[TimelineEvent]) -> Option<String> {
    let closing = events.iter().rev().find_map(|e| match &e.command {
        CaseCommand::Close { opinion, .. } => opinion.clone(),
        _ => None,
    });
    closing.or_else(|| {
        events.iter().rev().find_map(|e| match &e.command {
            CaseCommand::Feedback { opinion, .. } => Some(opinion.clone()),
            _ => None,
        })
    })
}

/// The results of the tickets received in a period (operators, shift leads, admins): each
/// ticket's case number, state, reply, the caller's satisfaction and when the case closed;
/// only tickets whose case the caller may see (and those without a case).
#[utoipa::path(get, path = "/api/v1/hotline/tickets/results", tag = "hotline",
    params(ResultsQuery),
    responses((status = 200, content((Vec<TicketResult> = "application/json"), (String = "text/csv"))),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<ResultsQuery>,
) -> ApiResult<Response> {
    if !matches!(actor.role, Role::Operator | Role::ShiftLead | Role::Admin) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only operators, shift leads and admins read the 12345 results",
        ));
    }
    if query
        .format
        .as_deref()
        .is_some_and(|f| !matches!(f, "csv" | "json"))
    {
        return Err(ApiError::invalid("format", "format is csv or json"));
    }
    let (Some(from), Some(to)) = (query.from, query.to) else {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "give the period: from and to (YYYY-MM-DD)",
        ));
    };
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "to",
            "to is on or after from, at most 366 days later",
        ));
    }
    let start = |day: NaiveDate| {
        beijing()
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_default()
    };
    let next_day = to.succ_opt().unwrap_or(to);
    let tickets = state
        .store
        .hotline_tickets_received(start(from), start(next_day))
        .await?;
    let mut rows = Vec::with_capacity(tickets.len());
    for t in tickets {
        let case = match &t.case_id {
            Some(id) => match state.store.case(id).await? {
                Some(case) if actor.can_see_case(&case) => Some(case),
                _ => continue,
            },
            None => None,
        };
        let reply = match &case {
            Some(case) => reply(&state.store.timeline(&case.id).await?),
            None => None,
        };
        rows.push(TicketResult {
            ticket_id: t.ticket_id,
            kind: t.kind,
            received_at: t.received_at,
            case_number: case.as_ref().map(|c| c.number.0.clone()),
            state: case.as_ref().map(|c| Wire(c.state)),
            reply,
            satisfied: case.as_ref().and_then(|c| c.callback_satisfied),
            closed_at: case.as_ref().and_then(|c| c.closed_at),
            satisfaction: case.as_ref().and_then(satisfaction).map(Wire),
            unreachable: case
                .as_ref()
                .and_then(|c| c.callback)
                .is_some_and(|p| p.unreachable),
        });
    }
    if query.format.as_deref() == Some("json") {
        return Ok(Json(rows).into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let header = [
        "ticket_id",
        "kind",
        "received_at",
        "case_number",
        "state",
        "reply",
        "satisfied",
        "closed_at",
        "satisfaction",
        "unreachable",
    ];
    let csv_error = |e: csv::Error| ApiError::internal(e);
    out.write_record(header).map_err(csv_error)?;
    for r in &rows {
        cityops_domain::csv_file::write_row(
            &mut out,
            [
                r.ticket_id.clone(),
                r.kind.clone(),
                r.received_at.to_rfc3339(),
                r.case_number.clone().unwrap_or_default(),
                r.state
                    .as_ref()
                    .map(|s| s.0.as_str().to_owned())
                    .unwrap_or_default(),
                r.reply.clone().unwrap_or_default(),
                r.satisfied.map(|s| s.to_string()).unwrap_or_default(),
                r.closed_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
                r.satisfaction
                    .map(|s| s.0.as_str().to_owned())
                    .unwrap_or_default(),
                r.unreachable.to_string(),
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
                "attachment; filename=\"12345-results.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_in_both_languages() {
        for kind in TicketKind::ALL {
            assert_eq!(TicketKind::parse(kind.as_str()), Some(kind));
            assert_eq!(TicketKind::parse(kind.zh()), Some(kind));
        }
        assert!(!TicketKind::Enquiry.opens_case());
        assert!(TicketKind::Complaint.opens_case());
    }

    #[test]
    fn beijing_times_and_rfc3339_are_one_instant() {
        assert_eq!(
            parse_time("2026-05-01 08:00:00"),
            parse_time("2026-05-01T00:00:00Z")
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn a_bad_row_is_named_by_its_line() {
        let csv = "\u{feff}ticket_id,received_at,kind,caller_name,caller_phone,description,address,lon,lat,area\n\
                   T1,2026-05-01 08:00:00,咨询,,,问路,,,,\n\
                   T2,2026-05-01 08:00:00,complaint,王女士,abc,噪音,,121.47,31.23,\n";
        let tickets = parse_csv(csv);
        let Err(e) = tickets else {
            panic!("a letter phone is not caught here: the domain refuses it")
        };
        assert_eq!(e.field.as_deref(), Some("line 3: caller_phone"));
    }
}
