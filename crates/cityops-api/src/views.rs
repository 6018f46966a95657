//! Wire types: what clients send and receive. Only this crate knows JSON; the domain's
//! values are converted here. Fields that take one of the API's closed vocabularies (a role,
//! a case state...) are typed with [`crate::wire`], so the document lists their values.

use chrono::{DateTime, Utc};
use cityops_domain::case::PendingRequest;
use cityops_domain::{
    Actor, Area, Case, Category, CategoryCatalog, Channel, CommandKind, TimelineEvent, Unit,
};
use cityops_store::Attachment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::wire::{self, Wire};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// `bearer` (default): the token comes back in the body, for scripts. `cookie`: for the
    /// web UI, the token goes into an HttpOnly cookie that scripts cannot read, and the body
    /// carries the CSRF token unsafe requests must echo in `X-CSRF-Token`.
    #[serde(default)]
    pub session: SessionKind,
    /// The authenticator app's current code, for users with a second factor.
    pub otp: Option<String>,
}

#[derive(Deserialize, ToSchema, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    #[default]
    Bearer,
    Cookie,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>` (bearer sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Echo as `X-CSRF-Token` on POST, PUT and DELETE (cookie sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: wire::Role,
    pub unit: Option<String>,
    pub scope: String,
}

#[derive(Serialize, ToSchema)]
pub struct AreaView {
    #[schema(example = "310101002")]
    pub code: String,
    pub name: String,
    pub level: wire::AreaLevel,
    pub parent: Option<String>,
}

impl From<&Area> for AreaView {
    fn from(a: &Area) -> AreaView {
        AreaView {
            code: a.code.to_string(),
            name: a.name.clone(),
            level: Wire(a.level),
            parent: a.parent.as_ref().map(|p| p.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AreaDetail {
    #[serde(flatten)]
    pub area: AreaView,
    pub children: Vec<AreaView>,
}

#[derive(Serialize, ToSchema)]
pub struct AreaNode {
    pub code: String,
    pub name: String,
    pub level: wire::AreaLevel,
    #[schema(no_recursion)]
    pub children: Vec<AreaNode>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitView {
    pub code: String,
    pub name: String,
    /// The line of work default proposals send it.
    pub kind: wire::UnitKind,
    pub organization: wire::UnitOrganization,
    /// The area it answers for.
    pub jurisdiction: String,
    /// The district of its jurisdiction; none for a city-wide unit.
    pub district: Option<String>,
    /// The unit above it.
    pub parent: Option<String>,
    pub active: bool,
    pub retired_at: Option<DateTime<Utc>>,
    /// Who took over its open cases when it retired.
    pub successor: Option<String>,
    /// Masked (`139****1111`); `GET /api/v1/units/{code}/contacts` reads it for a purpose.
    pub duty_phone: Option<String>,
    /// Masked.
    pub contact_name: Option<String>,
    /// Masked.
    pub contact_phone: Option<String>,
    /// Its open cases, in `GET /api/v1/units/{code}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_cases: Option<u64>,
}

impl From<&Unit> for UnitView {
    fn from(u: &Unit) -> UnitView {
        let contacts = masked_contacts(&u.contacts);
        UnitView {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: Wire(u.kind),
            organization: Wire(u.organization),
            jurisdiction: u.jurisdiction.to_string(),
            district: u.jurisdiction.district().map(|d| d.to_string()),
            parent: u.parent.clone(),
            active: u.is_active(),
            retired_at: u.retired.as_ref().map(|r| r.at),
            successor: u.retired.as_ref().and_then(|r| r.successor.clone()),
            duty_phone: contacts.duty_phone,
            contact_name: contacts.contact_name,
            contact_phone: contacts.contact_phone,
            open_cases: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "10101")]
    pub code: String,
    pub kind: wire::CategoryKind,
    pub big_class: String,
    pub zh: String,
    pub en: String,
    pub urgency: wire::Urgency,
    /// The time limit of each stage.
    pub terms: TermsView,
    /// The kind of unit a case of this class goes to by default.
    pub unit_kind: wire::UnitKind,
    /// What the city asks about the class beyond the standard report (表单构建), in the
    /// order the forms show them.
    pub fields: Vec<ExtraFieldView>,
}

/// One extra field of a small class.
#[derive(Serialize, ToSchema)]
pub struct ExtraFieldView {
    /// Its name in a case's `fields` and in exports.
    #[schema(example = "diameter_mm")]
    pub key: String,
    #[schema(example = "管径（毫米）")]
    pub zh: String,
    #[schema(example = "Diameter (mm)")]
    pub en: String,
    pub kind: wire::FieldKind,
    /// A case of the class is filed only once the field has a value.
    pub required: bool,
    /// The values a choice field takes; empty for other kinds.
    pub choices: Vec<String>,
}

impl From<&cityops_domain::form::ExtraField> for ExtraFieldView {
    fn from(f: &cityops_domain::form::ExtraField) -> ExtraFieldView {
        ExtraFieldView {
            key: f.key.clone(),
            zh: f.zh.clone(),
            en: f.en.clone(),
            kind: Wire(f.kind),
            required: f.required,
            choices: f.choices.clone(),
        }
    }
}

impl From<&Category> for CategoryView {
    fn from(c: &Category) -> CategoryView {
        CategoryView {
            code: c.code.to_string(),
            kind: Wire(c.kind()),
            big_class: c.code.big_class().to_owned(),
            zh: c.zh.clone(),
            en: c.en.clone(),
            urgency: Wire(c.urgency),
            terms: TermsView::from(&c.terms),
            unit_kind: Wire(c.unit_kind),
            fields: c.fields.iter().map(ExtraFieldView::from).collect(),
        }
    }
}

/// A stage's time limit: `amount` of `unit` (minutes or hours of natural time, or
/// working_hours or working_days on the city's working calendar). Urgent classes and urgent
/// cases count every term on natural time.
#[derive(Serialize, ToSchema, Clone, Copy)]
pub struct TermView {
    #[schema(minimum = 1, maximum = 525600)]
    pub amount: u32,
    pub unit: wire::TermUnit,
}

impl From<cityops_domain::Term> for TermView {
    fn from(t: cityops_domain::Term) -> TermView {
        TermView {
            amount: t.amount,
            unit: Wire(t.unit),
        }
    }
}

/// The time limit of each stage a filed case passes.
#[derive(Serialize, ToSchema)]
pub struct TermsView {
    /// Filing to dispatch.
    pub dispatch: TermView,
    /// Signing for the case to the unit's feedback.
    pub handling: TermView,
    /// Sent to check to the field check.
    pub check: TermView,
    /// The call-back's start to the caller reached (hotline cases).
    pub callback: TermView,
}

impl From<&cityops_domain::StageTerms> for TermsView {
    fn from(t: &cityops_domain::StageTerms) -> TermsView {
        TermsView {
            dispatch: t.dispatch.into(),
            handling: t.handling.into(),
            check: t.check.into(),
            callback: t.callback.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BigClassView {
    pub code: String,
    pub kind: wire::CategoryKind,
    pub zh: String,
    pub en: String,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogView {
    /// Changes with every edit; filed cases keep the terms of the version they were filed under.
    pub version: String,
    pub big: Vec<BigClassView>,
    pub small: Vec<CategoryView>,
}

impl From<&CategoryCatalog> for CatalogView {
    fn from(c: &CategoryCatalog) -> CatalogView {
        CatalogView {
            version: c.version.clone(),
            big: c
                .big
                .iter()
                .map(|b| BigClassView {
                    code: b.code.clone(),
                    kind: Wire(b.kind),
                    zh: b.zh.clone(),
                    en: b.en.clone(),
                })
                .collect(),
            small: c.small.iter().map(CategoryView::from).collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryUpdate {
    #[schema(pattern = r"\S", max_length = 100)]
    pub zh: Option<String>,
    #[schema(pattern = r"\S", max_length = 100)]
    pub en: Option<String>,
    #[schema(value_type = Option<wire::Urgency>)]
    pub urgency: Option<String>,
    /// The new terms of the stages named; the others keep theirs.
    pub terms: Option<TermsUpdate>,
    #[schema(value_type = Option<wire::UnitKind>)]
    pub unit_kind: Option<String>,
    /// The class's extra fields, all of them, replacing those it had; cases keep the
    /// values they hold.
    #[schema(max_items = 20)]
    pub fields: Option<Vec<ExtraFieldBody>>,
}

/// An extra field as an admin defines it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraFieldBody {
    /// A lower-case letter, then up to 31 lower-case letters, digits or `_`; unique in the
    /// class.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,31}$", example = "diameter_mm")]
    pub key: String,
    #[schema(pattern = r"\S", max_length = 40)]
    pub zh: String,
    #[schema(pattern = r"\S", max_length = 40)]
    pub en: String,
    #[schema(value_type = wire::FieldKind)]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// For a choice field, the values it takes (1 to 50, unique); none for other kinds.
    #[schema(max_items = 50)]
    pub choices: Option<Vec<ChoiceText>>,
}

/// One value of a choice field: 1 to 40 characters, not blank.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct ChoiceText(pub String);

impl utoipa::PartialSchema for ChoiceText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r"\S"))
            .max_length(Some(40))
            .into()
    }
}

impl ToSchema for ChoiceText {}

/// Values of the class's extra fields by key: a number for a number field, else a string (a
/// choice, a day `YYYY-MM-DD`, a photo's attachment id); `null` clears a field. The class
/// decides which keys and values are accepted (see `GET /api/v1/categories/{code}`).
pub type FieldsBody = std::collections::BTreeMap<String, serde_json::Value>;

/// [`FieldsBody`] in the document: at most 20 keys (a class has at most 20 fields), each a
/// number, a string or `null`.
pub struct FieldsDoc;

impl utoipa::PartialSchema for FieldsDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ObjectBuilder, OneOfBuilder, SchemaType, Type,
        };
        let value = OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)))
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Null)));
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
            .max_properties(Some(cityops_domain::form::MAX_FIELDS))
            .description(Some(
                "Values of the class's extra fields by key: a number for a number field, else a \
                 string (a choice, a day YYYY-MM-DD, a photo's attachment id); null clears one.",
            ))
            .into()
    }
}

impl ToSchema for FieldsDoc {}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TermsUpdate {
    pub dispatch: Option<TermBody>,
    pub handling: Option<TermBody>,
    pub check: Option<TermBody>,
    pub callback: Option<TermBody>,
}

/// A stage's new time limit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermBody {
    /// At most about a year: 525600 minutes, 8760 hours or working hours, 366 working days.
    #[schema(minimum = 1, maximum = 525600)]
    pub amount: u32,
    #[schema(value_type = wire::TermUnit)]
    pub unit: String,
}

impl TermBody {
    /// The term, checked; errors name `field.unit` or `field.amount`.
    pub fn to_term(&self, field: &str) -> Result<cityops_domain::Term, crate::error::ApiError> {
        let unit = cityops_domain::TermUnit::parse(&self.unit).ok_or_else(|| {
            crate::error::ApiError::invalid(
                format!("{field}.unit"),
                "unit is minutes, hours, working_hours or working_days",
            )
        })?;
        Ok(cityops_domain::Term {
            amount: self.amount,
            unit,
        }
        .check(&format!("{field}.amount"))?)
    }
}

/// A location as stored: WGS-84 longitude and latitude.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    /// WGS-84 longitude, 73 to 136 for a Chinese city.
    #[schema(example = 121.4737, minimum = 73.0, maximum = 136.0)]
    pub lon: f64,
    #[schema(example = 31.2304, minimum = 3.0, maximum = 54.0)]
    pub lat: f64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[schema(value_type = wire::CaseSource, example = "hotline")]
    pub source: String,
    #[schema(
        example = "南京东路步行街东侧一处污水井盖缺失，已设置临时围挡",
        pattern = r"\S",
        max_length = 2000
    )]
    pub description: String,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    pub location: LocationBody,
    /// How far off `location` may be, in metres (0 to 5,000), when a phone's GPS gave it:
    /// the Geolocation API's `accuracy`.
    #[schema(minimum = 0, maximum = 5000)]
    pub location_accuracy_m: Option<f32>,
    /// The coordinate system of `location`; wgs84 when absent.
    #[schema(value_type = Option<wire::Crs>)]
    pub crs: Option<String>,
    /// The finest known area code: community (12), street (9) or district (6 digits). When
    /// absent, the community is found from the location.
    #[schema(example = "310101002001", pattern = "^[0-9]{6}([0-9]{3}){0,2}$")]
    pub area: Option<String>,
    /// The reporter's guess at the small class, if any.
    #[schema(pattern = "^[12][0-9]{4}$")]
    pub category_hint: Option<String>,
    /// 16-digit component id when a component is concerned.
    #[schema(pattern = "^[0-9]{16}$")]
    pub component_id: Option<String>,
    /// The reporter's name and phone, for `hotline` and `department` reports only: sealed
    /// at rest, masked in every answer, read clear only at `/cases/{id}/contact`.
    pub contact: Option<ContactBody>,
    /// The call the report was taken down from (`hotline` and `department` reports only):
    /// its kind and the reply owed to the caller.
    pub call: Option<CallBody>,
    /// Values of the extra fields of the class `category_hint` names (photo fields are set
    /// on the case once its photos are attached).
    #[schema(value_type = Option<FieldsDoc>)]
    pub fields: Option<FieldsBody>,
}

/// The body of a workflow command. `version` is required: the case version the caller saw.
/// Which other fields are needed depends on the command (see the operation description).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub version: i64,
    /// At most 2,000 characters; some commands need one (`feedback`...).
    #[schema(max_length = 2000)]
    pub opinion: Option<String>,
    /// At most 500 characters; some commands need one (`cancel`, `request-extension`...).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// For reject.
    #[schema(value_type = Option<wire::RejectReason>)]
    pub reject_reason: Option<String>,
    #[schema(max_length = 40)]
    pub duplicate_of: Option<String>,
    /// For verify.
    pub exists: Option<bool>,
    /// For file: the small-class code.
    #[schema(pattern = r"^[12]\d{4}$")]
    pub category: Option<String>,
    /// For dispatch: the unit code (the lead, 主办). For assist and release-assist: the
    /// assisting unit (协办). For sign-assist, assist-feedback and return-assist: the
    /// handler's own unit, which may be left out.
    pub unit: Option<String>,
    /// For request-extension: the new deadline.
    pub until: Option<DateTime<Utc>>,
    /// For decide-extension and decide-park.
    pub approve: Option<bool>,
    /// For feedback: ids of attachments uploaded to the case.
    pub attachments: Option<Vec<String>>,
    /// For check.
    pub passed: Option<bool>,
    /// For callback: what came of the attempt (`reached` when absent).
    #[schema(value_type = Option<wire::CallbackOutcome>)]
    pub outcome: Option<String>,
    /// For callback, when the caller was reached.
    #[schema(value_type = Option<wire::Satisfaction>)]
    pub satisfaction: Option<String>,
    /// For callback, the older form of `satisfaction`: true is satisfied, false unsatisfied.
    #[schema(deprecated)]
    pub satisfied: Option<bool>,
    /// For set-urgent.
    pub urgent: Option<bool>,
    /// For supervise: the unit must answer (its feedback) within this term; the city's
    /// default term when absent.
    pub term: Option<TermBody>,
    /// For appeal: what the unit disputes.
    #[schema(value_type = Option<wire::AppealGround>)]
    pub ground: Option<String>,
    /// For decide-appeal: the appeal's number on the case.
    #[schema(minimum = 1, maximum = 1000)]
    pub appeal: Option<u32>,
    /// For decide-appeal: whether the appeal is upheld (the count is taken back).
    pub accepted: Option<bool>,
    /// For set-fields and file: values of the extra fields of the case's class (for file,
    /// of the class filed under) to set, `null` to clear one.
    #[schema(value_type = Option<FieldsDoc>)]
    pub fields: Option<FieldsBody>,
    /// For merge: the number of the master case the report is merged into.
    #[schema(pattern = r"^\d{19}$")]
    pub master: Option<String>,
    /// For callback on a master: the number of the merged hotline report whose caller was
    /// called; absent for the case's own caller.
    #[schema(pattern = r"^\d{19}$")]
    pub report: Option<String>,
}

/// A workflow command a client names in the URL (`POST /api/v1/cases/{id}/{command}`) and
/// finds among a case's `actions`: a kind whose channel is [`Channel::Command`], by its wire
/// name (`request-extension`). Published as the schema `CaseCommandName`
/// ([`wire::CaseCommandName`]), generated from [`CommandKind::ALL`], so it lists exactly what
/// the route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlCommand(CommandKind);

impl UrlCommand {
    /// The URL's command, or `None` for a name that is no command or one issued elsewhere.
    pub fn parse(name: &str) -> Option<UrlCommand> {
        CommandKind::from_wire_name(name).and_then(UrlCommand::of)
    }

    /// `kind` when clients issue it by name.
    pub fn of(kind: CommandKind) -> Option<UrlCommand> {
        (kind.channel() == Channel::Command).then_some(UrlCommand(kind))
    }

    /// Every command a client may name in the URL.
    pub fn all() -> impl Iterator<Item = UrlCommand> {
        CommandKind::ALL.into_iter().filter_map(UrlCommand::of)
    }

    pub fn kind(self) -> CommandKind {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        self.0.wire_name()
    }
}

#[derive(Serialize, ToSchema)]
pub struct FiledClassView {
    pub code: String,
    pub zh: String,
    pub urgency: wire::Urgency,
    /// The terms as they were when the case was filed: later edits of the catalogue never
    /// move a filed case's deadlines.
    pub terms: TermsView,
}

#[derive(Serialize, ToSchema)]
pub struct PendingView {
    pub kind: PendingKind,
    pub reason: String,
    pub until: Option<DateTime<Utc>>,
}

/// What a case's pending request asks the shift lead for.
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// More time for handling, until a new deadline.
    Extension,
    /// Parking the case (挂账): its handling clock stops.
    Park,
}

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    /// Opaque id.
    pub id: String,
    /// Human-readable number: district + date + daily sequence.
    #[schema(example = "3101012026112500042")]
    pub number: String,
    /// Send back as `version` with the next command.
    pub version: i64,
    pub state: wire::CaseState,
    pub state_zh: String,
    pub source: wire::CaseSource,
    pub description: String,
    pub address: Option<String>,
    pub location: LocationBody,
    /// How far off the location may be, in metres, when a phone's GPS gave it.
    pub location_accuracy_m: Option<f32>,
    pub area: String,
    /// The 14-digit unit grid of the location.
    pub unit_grid: Option<String>,
    pub district: String,
    pub category_hint: Option<String>,
    pub category: Option<FiledClassView>,
    pub component_id: Option<String>,
    pub unit: Option<String>,
    pub urgent: bool,
    pub supervised: bool,
    pub overdue: bool,
    pub self_handled: bool,
    pub rework_count: u32,
    pub return_count: u32,
    pub extension_count: u32,
    pub pending: Option<PendingView>,
    /// The stage whose clock runs.
    pub stage: Option<wire::CaseStage>,
    pub deadline: Option<DateTime<Utc>>,
    /// The running stage's time left, counted as its term counts, and its mark: the
    /// countdown and the yellow and red of the workbench. None when no clock runs.
    pub time_left: Option<TimeLeftView>,
    /// What the overdue watch announced about the running stage: its yellow or red, and the
    /// escalation steps taken. None while it has announced nothing.
    pub watch: Option<WatchView>,
    /// The latest supervision notice (督办单) and whether it was answered in time.
    pub supervision: Option<SupervisionView>,
    /// Units' appeals (申诉) against what the case counted against them, oldest first.
    pub appeals: Vec<AppealView>,
    /// What the caller's unit may still appeal on this case (a unit's member of staff, on a
    /// single case's answer; empty otherwise): what the case counted against the unit and
    /// the unit has not appealed yet.
    pub appealable: Vec<wire::AppealGround>,
    pub callback_satisfied: Option<bool>,
    /// The call-back of a hotline case, once started.
    pub callback: Option<CallbackView>,
    pub reject_reason: Option<wire::RejectReason>,
    pub duplicate_of: Option<String>,
    /// The master case a merged report (state `merged`) was merged into: its handling
    /// answers the report.
    pub merged_into: Option<CaseRef>,
    /// The reports merged into this case, oldest merge first.
    pub merged_reports: Vec<MergedReportView>,
    /// The assisting units' parts (协办) beside the lead (`unit`, 主办), in the order they
    /// were assigned: each signed for, handled on its own deadline and fed back by its unit.
    /// The lead's feedback waits until none is open.
    pub assists: Vec<AssistPartView>,
    /// The inspector (网格监督员) of the responsibility grid the case was reported in:
    /// its verification and check are theirs.
    pub grid_inspector: Option<GridInspectorView>,
    pub attachments: Vec<String>,
    /// The values of its class's extra fields by key (表单构建): a number or a string; the
    /// labels are the class's (`GET /api/v1/categories/{code}`).
    #[schema(value_type = Object)]
    pub fields: std::collections::BTreeMap<String, cityops_domain::form::FieldValue>,
    pub reported_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The workflow commands the caller may issue on this case now.
    pub actions: Vec<wire::CaseCommandName>,
    /// The reporter's name (a citizen, a hotline caller), masked (刘**); the clear contact
    /// is read, for a stated purpose and on record, at `/cases/{id}/contact`.
    pub reporter_name: Option<String>,
    /// The reporter's phone, masked (138****5678).
    pub reporter_phone: Option<String>,
    /// The id of the 12345 hotline ticket the case was opened for.
    pub hotline_ticket: Option<String>,
    /// The call the case was taken down from, for a hotline or department report.
    pub call: Option<CallView>,
    pub rating: Option<RatingView>,
    /// Set while the case waits in a higher center's coordination queue.
    pub coordination: Option<CoordinationView>,
}

/// The time left on a case's running stage.
#[derive(Serialize, ToSchema)]
pub struct TimeLeftView {
    pub stage: wire::CaseStage,
    pub deadline: DateTime<Utc>,
    /// The term the stage started with; none for cases from before terms were recorded.
    pub term: Option<TermView>,
    /// The time runs on the working calendar (working minutes), else natural time.
    pub working_time: bool,
    /// Minutes left (working minutes when `working_time`); negative once overdue.
    pub minutes_left: i64,
    /// The share of the term used: 0 at the start, 1 at the deadline, more when overdue.
    pub used: f64,
    /// on_time, due (yellow: the configured share of the term used) or overdue (red).
    pub mark: wire::DeadlineMark,
}

impl From<cityops_domain::TimeLeft> for TimeLeftView {
    fn from(t: cityops_domain::TimeLeft) -> TimeLeftView {
        TimeLeftView {
            stage: Wire(t.stage),
            deadline: t.deadline,
            term: t.term.map(TermView::from),
            working_time: t.working_time,
            minutes_left: t.minutes_left,
            // Two decimals are all a progress bar shows.
            used: (t.used * 100.0).round() / 100.0,
            mark: Wire(t.mark),
        }
    }
}

/// What the overdue watch announced about a case's running stage.
#[derive(Serialize, ToSchema)]
pub struct WatchView {
    pub stage: wire::CaseStage,
    /// due (yellow) or overdue (red), as announced.
    pub mark: wire::DeadlineMark,
    /// Escalation steps taken since the stage went red.
    pub steps: u32,
    /// Where the last step escalated to: the unit's head (催办) or the next-level center.
    pub escalated_to: Option<wire::EscalationTarget>,
    /// The next-level center's area, when escalated there.
    pub center: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
    /// When the next escalation step is due, if the policy has one.
    pub next_step_at: Option<DateTime<Utc>>,
}

/// A unit's appeal (申诉) and its decision.
#[derive(Serialize, ToSchema)]
pub struct AppealView {
    /// Its number on the case, from 1: `decide-appeal` names it.
    pub number: u32,
    pub unit: String,
    pub ground: wire::AppealGround,
    pub reason: String,
    pub filed_at: DateTime<Utc>,
    /// The user id of who filed it.
    pub filed_by: String,
    pub decision: Option<AppealDecisionView>,
}

#[derive(Serialize, ToSchema)]
pub struct AppealDecisionView {
    /// Upheld: what it disputed no longer counts against the unit.
    pub accepted: bool,
    pub opinion: String,
    pub at: DateTime<Utc>,
    /// The user id of the evaluator.
    pub by: String,
}

impl From<&cityops_domain::appeal::Appeal> for AppealView {
    fn from(a: &cityops_domain::appeal::Appeal) -> AppealView {
        AppealView {
            number: a.number,
            unit: a.unit.clone(),
            ground: Wire(a.ground),
            reason: a.reason.clone(),
            filed_at: a.filed_at,
            filed_by: a.filed_by.clone(),
            decision: a.decision.as_ref().map(|d| AppealDecisionView {
                accepted: d.accepted,
                opinion: d.opinion.clone(),
                at: d.at,
                by: d.by.clone(),
            }),
        }
    }
}

/// A leader's supervision notice (督办单).
#[derive(Serialize, ToSchema)]
pub struct SupervisionView {
    pub at: DateTime<Utc>,
    /// The unit's answer (its feedback) is due by then.
    pub deadline: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The deadline passed unanswered.
    pub overdue: bool,
}

/// Where a hotline case's call-back (回访) stands.
#[derive(Serialize, ToSchema)]
pub struct CallbackView {
    /// Failed attempts after which the case closes as unreachable (the city's policy when
    /// the call-back started).
    pub attempts_allowed: u32,
    pub failed_attempts: u32,
    pub last_outcome: Option<wire::CallbackOutcome>,
    /// The reached caller's verdict.
    pub satisfaction: Option<wire::Satisfaction>,
    /// Closed because the caller could not be reached.
    pub unreachable: bool,
}

impl From<&cityops_domain::CallbackProgress> for CallbackView {
    fn from(p: &cityops_domain::CallbackProgress) -> CallbackView {
        CallbackView {
            attempts_allowed: p.attempts_allowed,
            failed_attempts: p.failed_attempts,
            last_outcome: p.last_outcome.map(Wire),
            satisfaction: p.satisfaction.map(Wire),
            unreachable: p.unreachable,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CoordinationView {
    /// The center that decides: a district or the city.
    pub center: String,
    pub reason: String,
    pub since: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RatingView {
    /// 1 to 5.
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&cityops_domain::Rating> for RatingView {
    fn from(r: &cityops_domain::Rating) -> RatingView {
        RatingView {
            score: r.score,
            comment: r.comment.clone(),
            at: r.at,
        }
    }
}

impl CaseView {
    /// The view with the running stage's time left, reckoned on `calendar`.
    pub fn timed(
        c: &Case,
        now: DateTime<Utc>,
        viewer: &Actor,
        calendar: &cityops_domain::WorkingCalendar,
        warning_share: f64,
    ) -> CaseView {
        let mut view = CaseView {
            time_left: c
                .time_left(now, calendar, warning_share)
                .map(TimeLeftView::from),
            ..CaseView::new(c, now, viewer)
        };
        for (part, of) in view.assists.iter_mut().zip(&c.assists) {
            part.time_left = c
                .assist_time_left(of, now, calendar, warning_share)
                .map(TimeLeftView::from);
        }
        view
    }

    pub fn new(c: &Case, now: DateTime<Utc>, viewer: &Actor) -> CaseView {
        CaseView {
            id: c.id.clone(),
            number: c.number.0.clone(),
            version: c.version,
            state: Wire(c.state),
            state_zh: c.state.zh().to_owned(),
            source: Wire(c.source),
            description: c.description.clone(),
            address: c.address.clone(),
            location: LocationBody::from(c.location),
            location_accuracy_m: c.location_accuracy_m,
            area: c.area.to_string(),
            unit_grid: c.unit_grid.clone(),
            district: c.district.to_string(),
            category_hint: c.category_hint.as_ref().map(|h| h.to_string()),
            category: c.category.as_ref().map(|f| FiledClassView {
                code: f.code.to_string(),
                zh: f.zh.clone(),
                urgency: Wire(f.urgency),
                terms: TermsView::from(&f.terms),
            }),
            component_id: c.component_id.clone(),
            unit: c.unit.clone(),
            urgent: c.urgent,
            supervised: c.supervised,
            overdue: c.is_overdue(now),
            self_handled: c.self_handled,
            rework_count: c.rework_count,
            return_count: c.return_count,
            extension_count: c.extension_count,
            pending: c.pending.as_ref().map(|p| match p {
                PendingRequest::Extension { until, reason } => PendingView {
                    kind: PendingKind::Extension,
                    reason: reason.clone(),
                    until: Some(*until),
                },
                PendingRequest::Park { reason } => PendingView {
                    kind: PendingKind::Park,
                    reason: reason.clone(),
                    until: None,
                },
            }),
            stage: c.stage.map(Wire),
            deadline: c.deadline,
            time_left: None,
            watch: c.announced().map(|w| WatchView {
                stage: Wire(w.stage),
                mark: Wire(w.mark),
                steps: w.steps,
                escalated_to: w.escalated.as_ref().map(|e| Wire(e.to)),
                center: w
                    .escalated
                    .as_ref()
                    .and_then(|e| e.center.as_ref().map(|c| c.to_string())),
                escalated_at: w.escalated.as_ref().map(|e| e.at),
                next_step_at: w.next,
            }),
            supervision: c.supervision.as_ref().map(|s| SupervisionView {
                at: s.at,
                deadline: s.deadline,
                answered_at: s.answered_at,
                overdue: s.overdue,
            }),
            appeals: c.appeals.iter().map(AppealView::from).collect(),
            appealable: Vec::new(),
            callback_satisfied: c.callback_satisfied,
            callback: c.callback.as_ref().map(CallbackView::from),
            reject_reason: c.reject_reason.map(Wire),
            duplicate_of: c.duplicate_of.clone(),
            merged_into: c.merged_into.as_ref().map(|link| CaseRef {
                id: link.master_id.clone(),
                number: link.master.clone(),
            }),
            merged_reports: c
                .merged_reports
                .iter()
                .map(|r| MergedReportView {
                    id: r.case_id.clone(),
                    number: r.number.clone(),
                    source: Wire(r.source),
                    at: r.at,
                    callback: r.callback.as_ref().map(CallbackView::from),
                })
                .collect(),
            assists: c
                .assists
                .iter()
                .map(|p| AssistPartView {
                    unit: p.unit.clone(),
                    state: Wire(p.state),
                    assigned_at: p.assigned_at,
                    deadline: p.deadline,
                    warning_at: p.warning_at,
                    announced: (!p.mark.is_on_time()).then_some(Wire(p.mark)),
                    finished_at: p.finished_at,
                    opinion: p.opinion.clone(),
                    time_left: None,
                })
                .collect(),
            grid_inspector: c.grid_inspector.as_ref().map(|i| GridInspectorView {
                user_id: i.user_id.clone(),
                username: i.username.clone(),
                grid: i.grid.clone(),
            }),
            attachments: c.attachments.clone(),
            fields: c.fields.clone(),
            reported_by: c.reported_by.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            closed_at: c.closed_at,
            actions: cityops_domain::workflow::available(c, viewer)
                .into_iter()
                .filter_map(UrlCommand::of)
                .map(Wire)
                .collect(),
            reporter_name: c
                .reporter
                .as_ref()
                .and_then(|r| r.name.as_deref())
                .map(cityops_domain::mask_name),
            reporter_phone: c
                .reporter
                .as_ref()
                .and_then(|r| r.phone.as_deref())
                .map(cityops_domain::mask_phone),
            hotline_ticket: c.hotline_ticket.clone(),
            call: c.call.as_ref().map(|call| CallView {
                kind: Wire(call.kind),
                reply_owed: call.reply_owed.clone(),
            }),
            rating: c.rating.as_ref().map(RatingView::from),
            coordination: c.coordination.as_ref().map(|w| CoordinationView {
                center: w.center.to_string(),
                reason: w.reason.clone(),
                since: w.since,
            }),
        }
    }
}

/// Another case, by id and number.
#[derive(Serialize, ToSchema)]
pub struct CaseRef {
    pub id: String,
    pub number: String,
}

/// The inspector of a responsibility grid, and the grid.
#[derive(Serialize, ToSchema)]
pub struct GridInspectorView {
    pub user_id: String,
    pub username: String,
    pub grid: String,
}

/// An assisting unit's part of a case (协办).
#[derive(Serialize, ToSchema)]
pub struct AssistPartView {
    pub unit: String,
    pub state: wire::AssistState,
    pub assigned_at: DateTime<Utc>,
    /// Its handling deadline, from its signing.
    pub deadline: Option<DateTime<Utc>>,
    /// When it turns yellow (临期), reckoned at its signing.
    pub warning_at: Option<DateTime<Utc>>,
    /// What the overdue watch announced about it: `due` (yellow) or `overdue` (red); none
    /// while it announced nothing.
    pub announced: Option<wire::DeadlineMark>,
    /// When it was fed back, released or returned.
    pub finished_at: Option<DateTime<Utc>>,
    /// The feedback, or why it was released or returned.
    pub opinion: Option<String>,
    /// The part's time left while it is in hand, counted as the class's handling term counts
    /// (working time unless urgent), yellow and red as the case's own stages.
    pub time_left: Option<TimeLeftView>,
}

/// A report merged into a master case.
#[derive(Serialize, ToSchema)]
pub struct MergedReportView {
    pub id: String,
    pub number: String,
    pub source: wire::CaseSource,
    /// When it was merged.
    pub at: DateTime<Utc>,
    /// Its caller's call-back (a hotline report's), once the master's call-back began:
    /// callback commands on the master with `report` set to this number record its attempts.
    pub callback: Option<CallbackView>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub username: String,
    pub role: wire::Role,
    pub unit: Option<String>,
    /// The command, e.g. `request_extension`.
    pub action: wire::CaseAction,
    pub from: Option<wire::CaseState>,
    pub to: wire::CaseState,
    /// The stage this step ended was already past its deadline.
    pub late: bool,
    /// The command's parameters as given (opinion, reason, unit...).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The stage clock this step started, moved or stopped, and why.
    pub clock: Option<ClockView>,
}

/// A change of a case's stage clock on its timeline.
#[derive(Serialize, ToSchema)]
pub struct ClockView {
    /// The stage whose clock runs after the step, if any.
    pub stage: Option<wire::CaseStage>,
    pub deadline: Option<DateTime<Utc>>,
    /// When the stage turns yellow (临期), reckoned with its deadline.
    pub warning: Option<DateTime<Utc>>,
    pub reason: ClockReasonView,
}

/// Why the clock changed: a stage started with its class's term (on working time or
/// natural time), an extension was approved, the case was parked (with the time left) or
/// resumed, or the stage ended.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockReasonView {
    Started {
        term: TermView,
        working_time: bool,
    },
    Extended,
    Parked {
        /// Seconds left (of working time when `working_time`).
        remaining_secs: Option<i64>,
        working_time: bool,
    },
    Resumed,
    Stopped,
}

impl From<&cityops_domain::ClockChange> for ClockView {
    fn from(c: &cityops_domain::ClockChange) -> ClockView {
        use cityops_domain::ClockReason;
        ClockView {
            stage: c.stage.map(Wire),
            deadline: c.deadline,
            warning: c.warning,
            reason: match &c.reason {
                ClockReason::Started { term, working_time } => ClockReasonView::Started {
                    term: (*term).into(),
                    working_time: *working_time,
                },
                ClockReason::Extended => ClockReasonView::Extended,
                ClockReason::Parked {
                    remaining_secs,
                    working_time,
                } => ClockReasonView::Parked {
                    remaining_secs: *remaining_secs,
                    working_time: *working_time,
                },
                ClockReason::Resumed => ClockReasonView::Resumed,
                ClockReason::Stopped => ClockReasonView::Stopped,
            },
        }
    }
}

impl From<&TimelineEvent> for TimelineEntry {
    fn from(e: &TimelineEvent) -> TimelineEntry {
        let mut details = serde_json::to_value(&e.command).unwrap_or_default();
        if let Some(map) = details.as_object_mut() {
            map.remove("command");
            // The report carries the citizen's contact: staff see it masked, as on the case,
            // and the follow token's hash never leaves the server.
            if let Some(reporter) = map.get_mut("reporter").and_then(|r| r.as_object_mut()) {
                reporter.remove("follow_token_hash");
                if let Some(phone) = reporter
                    .get("phone")
                    .and_then(|p| p.as_str())
                    .map(cityops_domain::mask_phone)
                {
                    reporter.insert("phone".into(), serde_json::Value::String(phone));
                }
                if let Some(name) = reporter
                    .get("name")
                    .and_then(|p| p.as_str())
                    .map(cityops_domain::mask_name)
                {
                    reporter.insert("name".into(), serde_json::Value::String(name));
                }
            }
        }
        TimelineEntry {
            seq: e.seq,
            at: e.at,
            user_id: e.user_id.clone(),
            username: e.username.clone(),
            role: Wire(e.role),
            unit: e.unit.clone(),
            action: Wire(e.command.kind()),
            from: e.from.map(Wire),
            to: Wire(e.to),
            late: e.late,
            details,
            clock: e.clock.as_ref().map(ClockView::from),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub case_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// The case version after attaching; send it with the next command.
    pub case_version: i64,
    /// Whether the photo may be shown to the public: staff review it first.
    pub review: PhotoReviewState,
    /// The regions blurred in the public copy, in pixels of the stored (upright) photo.
    pub blur: Vec<BlurRect>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl AttachmentView {
    pub fn new(a: &Attachment, case_version: i64) -> AttachmentView {
        AttachmentView {
            id: a.id.clone(),
            case_id: a.case_id.clone(),
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            created_at: a.created_at,
            case_version,
            review: match a.review {
                cityops_store::PhotoReview::Pending => PhotoReviewState::Pending,
                cityops_store::PhotoReview::Published => PhotoReviewState::Published,
                cityops_store::PhotoReview::Private => PhotoReviewState::Private,
            },
            blur: a
                .blur
                .iter()
                .map(|r| BlurRect {
                    x: r.x,
                    y: r.y,
                    w: r.w,
                    h: r.h,
                })
                .collect(),
            reviewed_at: a.reviewed_at,
        }
    }
}

/// Where a photo stands: every upload is `pending` until staff `publish` it (the public
/// then sees a copy with the regions they marked blurred) or keep it `private`.
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PhotoReviewState {
    Pending,
    Published,
    Private,
}

/// A rectangle of a photo in pixels of the stored (upright) copy, from its top left corner.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct BlurRect {
    #[schema(maximum = 10000)]
    pub x: u32,
    #[schema(maximum = 10000)]
    pub y: u32,
    #[schema(minimum = 1, maximum = 10000)]
    pub w: u32,
    #[schema(minimum = 1, maximum = 10000)]
    pub h: u32,
}

/// Staff's decision on a photo: publish it (with faces and licence plates blurred) or keep
/// it to the staff who handle the case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoReviewRequest {
    pub publish: bool,
    /// Regions to blur in the public copy (at most 64); ignored when not publishing.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub blur: Vec<BlurRect>,
}

#[derive(Serialize, ToSchema)]
pub struct CommandRuleView {
    /// The client's name, e.g. `request-extension`.
    pub command: wire::CommandWireName,
    /// The name on the timeline (its `action`), e.g. `request_extension`.
    pub action: wire::CaseAction,
    pub roles: Vec<wire::Role>,
    /// States in which the command is accepted.
    pub from: Vec<wire::CaseState>,
    /// How the command is issued.
    pub issued: IssuedVia,
    /// The endpoints that issue it, e.g. `POST /api/v1/cases/{id}/accept`; none for the
    /// commands only CityOps issues.
    pub endpoints: Vec<String>,
}

/// How a workflow command is issued.
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IssuedVia {
    /// By name on a case: `POST /api/v1/cases/{id}/{command}`.
    Url,
    /// By reporting a problem: `POST /api/v1/cases` or `POST /api/v1/public/reports`.
    Report,
    /// By uploading a photo to a case.
    Attachment,
    /// By the citizen's rating of their closed case.
    Rating,
    /// By CityOps itself; no client issues it.
    System,
}

impl IssuedVia {
    pub fn of(channel: Channel) -> IssuedVia {
        match channel {
            Channel::Command => IssuedVia::Url,
            Channel::Report => IssuedVia::Report,
            Channel::Attachment => IssuedVia::Attachment,
            Channel::Rating => IssuedVia::Rating,
            Channel::System => IssuedVia::System,
        }
    }

    /// The endpoints that issue a command of `kind` this way.
    pub fn endpoints(self, kind: CommandKind) -> Vec<String> {
        match self {
            IssuedVia::Url => vec![format!("POST /api/v1/cases/{{id}}/{}", kind.wire_name())],
            IssuedVia::Report => vec![
                "POST /api/v1/cases".to_owned(),
                "POST /api/v1/public/reports".to_owned(),
            ],
            IssuedVia::Attachment => vec![
                "POST /api/v1/cases/{id}/attachments".to_owned(),
                "POST /api/v1/public/cases/{number}/photos".to_owned(),
            ],
            IssuedVia::Rating => vec!["POST /api/v1/public/cases/{number}/rating".to_owned()],
            IssuedVia::System => Vec::new(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StateView {
    pub state: wire::CaseState,
    pub zh: String,
    pub terminal: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowView {
    pub states: Vec<StateView>,
    pub commands: Vec<CommandRuleView>,
}

#[derive(Serialize, ToSchema)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
    pub level: wire::AreaLevel,
}

#[derive(Serialize, ToSchema, Default, Clone)]
pub struct Totals {
    /// Cases not yet closed, cancelled or rejected.
    pub open: u32,
    pub overdue: u32,
    pub supervised: u32,
    pub urgent: u32,
    /// Reported since midnight, Asia/Shanghai.
    pub reported_today: u32,
    pub closed_today: u32,
}

impl From<cityops_domain::stats::Totals> for Totals {
    fn from(t: cityops_domain::stats::Totals) -> Totals {
        Totals {
            open: t.open,
            overdue: t.overdue,
            supervised: t.supervised,
            urgent: t.urgent,
            reported_today: t.reported_today,
            closed_today: t.closed_today,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChildStats {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Serialize, ToSchema)]
pub struct SourceCount {
    pub source: wire::CaseSource,
    pub count: u32,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryCount {
    pub code: String,
    pub zh: String,
    pub count: u32,
}

#[derive(Serialize, ToSchema)]
pub struct RankingRow {
    pub code: String,
    pub name: String,
    /// 应结案数 (handled and overdue unhandled) over the last 30 days.
    pub due: u32,
    pub closed: u32,
    /// 结案率.
    pub closing_rate: f64,
    /// 按期结案率.
    pub on_time_rate: f64,
    /// The area's composite on the evaluation (0 to 100).
    pub score: f64,
    /// Its grade (A to E unless the city configures other cut-offs).
    pub grade: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatsView {
    pub area: AreaRef,
    pub totals: Totals,
    /// Per child area: districts of the city, streets of a district, communities of a street.
    pub by_child: Vec<ChildStats>,
    pub today_by_source: Vec<SourceCount>,
    pub today_by_category: Vec<CategoryCount>,
    /// Open cases by category, most first (top 10).
    pub top_categories: Vec<CategoryCount>,
    /// Children ranked by the standard evaluation of the last 30 days (its composite), best first.
    pub ranking: Vec<RankingRow>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// What the caller wants; an `enquiry` is answered on the call and is no case.
    #[schema(value_type = wire::TicketKind, example = "request")]
    pub kind: String,
    /// What the caller was told they would hear, and when (答复口径); at most 500
    /// characters, masked like the description. Blank is none.
    #[schema(max_length = 500, example = "三个工作日内电话告知处理结果")]
    pub reply_owed: Option<String>,
}

/// The call a case was taken down from.
#[derive(Serialize, ToSchema)]
pub struct CallView {
    pub kind: wire::TicketKind,
    pub reply_owed: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// At most 50 characters.
    #[schema(max_length = 50)]
    pub name: Option<String>,
    /// 5 to 20 digits, with spaces, brackets, `-`, `.` and a leading `+` allowed.
    #[schema(pattern = r"^\s*\+?[ ().-]*([0-9][ ().-]*){5,20}\s*$")]
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicReportRequest {
    #[schema(
        example = "小区门口的井盖坏了，晚上很危险",
        pattern = r"\S",
        max_length = 2000
    )]
    pub description: String,
    pub location: LocationBody,
    /// The coordinate system of `location`; wgs84 when absent.
    #[schema(value_type = Option<wire::Crs>)]
    pub crs: Option<String>,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    #[schema(pattern = "^[12][0-9]{4}$")]
    pub category_hint: Option<String>,
    /// Values of the extra fields of the class `category_hint` names (never photo fields).
    #[schema(value_type = Option<FieldsDoc>)]
    pub fields: Option<FieldsBody>,
    /// Never shown publicly.
    pub contact: Option<ContactBody>,
    /// A challenge from `GET /api/v1/public/challenge`, unused and unexpired.
    pub challenge: String,
    /// Solves the challenge: SHA-256 of the challenge followed by the nonce starts with the
    /// challenge's `bits` zero bits. 1 to 64 ASCII letters and digits.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9]{1,64}$")]
    pub nonce: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicReportReceipt {
    pub number: String,
    /// Keep it: it proves the report is yours, to add photos and rate the result.
    pub follow_token: String,
    pub state: wire::CaseState,
    pub state_zh: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicStep {
    pub at: DateTime<Utc>,
    /// The command by the name clients use, e.g. `send-check`.
    pub action: wire::CommandWireName,
    pub state: wire::CaseState,
    pub state_zh: String,
}

/// What anyone with the case number may see: no names, no contact, no internal opinions.
#[derive(Serialize, ToSchema)]
pub struct PublicCaseView {
    pub number: String,
    pub state: wire::CaseState,
    pub state_zh: String,
    /// Whether the answer carries the report's details (description, steps, rating): only
    /// for the follow token handed out at reporting. The number alone shows the state.
    pub details: bool,
    /// The description, personal data masked. Only with the follow token.
    pub description: Option<String>,
    pub category_zh: Option<String>,
    /// The class's English name, from the catalogue in force.
    pub category_en: Option<String>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Empty without the follow token.
    pub steps: Vec<PublicStep>,
    /// Only with the follow token.
    pub rating: Option<RatingView>,
    pub can_rate: bool,
    /// Ids of the report's photos that staff reviewed and published, each at
    /// `/api/v1/public/cases/{number}/photos/{id}?token=`. Empty without the follow token.
    pub photos: Vec<String>,
    /// The number of the case the report was merged into (same problem, reported first).
    pub merged_into: Option<String>,
    /// That case's handling, which answers the report: its steps only with the token.
    pub master: Option<PublicMasterView>,
}

/// The master case of a merged report, as its reporter follows it.
#[derive(Serialize, ToSchema)]
pub struct PublicMasterView {
    pub number: String,
    pub state: wire::CaseState,
    pub state_zh: String,
    pub closed_at: Option<DateTime<Utc>>,
    /// Empty without the report's follow token.
    pub steps: Vec<PublicStep>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    pub token: String,
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub score: u8,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicAttachmentReceipt {
    pub id: String,
}

impl From<cityops_domain::Location> for LocationBody {
    fn from(location: cityops_domain::Location) -> LocationBody {
        let cityops_domain::Location { lon, lat } = location;
        LocationBody { lon, lat }
    }
}

impl LocationBody {
    /// The location in WGS-84, from the coordinate system the client named.
    pub fn to_wgs84(
        self,
        crs: Option<&str>,
    ) -> Result<cityops_domain::Location, crate::error::ApiError> {
        let crs = match crs {
            None => cityops_geo::Crs::Wgs84,
            Some(name) => cityops_geo::Crs::parse(name).ok_or_else(|| {
                crate::error::ApiError::invalid("crs", "crs must be wgs84, gcj02 or bd09")
            })?,
        };
        // The bounds hold what was sent, in its own system; the shift to WGS-84 (under a
        // kilometre) may carry a point at the very edge just outside, where it is kept.
        cityops_domain::Location::new(self.lon, self.lat)?;
        let (lon, lat) = crs.to_wgs84(self.lon, self.lat);
        Ok(cityops_domain::Location {
            lon: lon.clamp(73.0, 136.0),
            lat: lat.clamp(3.0, 54.0),
        })
    }
}

/// Masks a unit's contacts for every answer but the purpose-bound read.
fn masked_contacts(contacts: &cityops_domain::UnitContacts) -> cityops_domain::UnitContacts {
    cityops_domain::UnitContacts {
        duty_phone: contacts
            .duty_phone
            .as_deref()
            .map(cityops_domain::mask_phone),
        contact_name: contacts
            .contact_name
            .as_deref()
            .map(cityops_domain::mask_name),
        contact_phone: contacts
            .contact_phone
            .as_deref()
            .map(cityops_domain::mask_phone),
    }
}
