//! The case: the unit of work, from a report to its close.
//!
//! A case is only ever changed by [`crate::workflow::decide`], which returns the new case
//! together with the [`TimelineEvent`] that explains the change. The timeline is never
//! rewritten: replaying its commands from the report reproduces the case exactly.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::actor::Role;
use crate::area::AreaCode;
use crate::category::{Category, CategoryCode, StageTerms, Urgency};
use crate::workflow::CaseCommand;
use crate::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 上报: reported, waiting for an operator.
    Reported,
    /// 受理: accepted, waiting to be filed (or verified, or self-handled).
    Accepted,
    /// 核实: an inspector is verifying on site that the problem exists.
    Verifying,
    /// 不受理: rejected as invalid or duplicate. Terminal.
    Invalid,
    /// 立案: filed with a standard class, waiting for dispatch.
    Filed,
    /// 派遣: dispatched to a responsible unit, waiting for it to sign for the case.
    Dispatched,
    /// 处置中: the unit signed for it and is handling it.
    Handling,
    /// 挂账/缓办: parked with the shift lead's approval; the handling clock stops.
    Suspended,
    /// 处置反馈: the unit reported the problem handled.
    Handled,
    /// 核查: an inspector is checking the result on site.
    Checking,
    /// 核查通过: the check passed; waiting for call-back (hotline cases) or closing.
    Checked,
    /// 回访: the operator is calling the citizen back.
    Callback,
    /// 结案. Terminal.
    Closed,
    /// 作废. Terminal.
    Cancelled,
    /// 已合并: merged into a master case that reported the same problem first; the master's
    /// result is the report's. Terminal unless a shift lead undoes the merge.
    Merged,
}

impl CaseState {
    pub const ALL: [CaseState; 15] = [
        CaseState::Reported,
        CaseState::Accepted,
        CaseState::Verifying,
        CaseState::Invalid,
        CaseState::Filed,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::Suspended,
        CaseState::Handled,
        CaseState::Checking,
        CaseState::Checked,
        CaseState::Callback,
        CaseState::Closed,
        CaseState::Cancelled,
        CaseState::Merged,
    ];

    /// Every state a case can still change in: all but the terminal ones.
    pub const OPEN: [CaseState; 11] = [
        CaseState::Reported,
        CaseState::Accepted,
        CaseState::Verifying,
        CaseState::Filed,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::Suspended,
        CaseState::Handled,
        CaseState::Checking,
        CaseState::Checked,
        CaseState::Callback,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CaseState::Invalid | CaseState::Closed | CaseState::Cancelled | CaseState::Merged
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Accepted => "accepted",
            CaseState::Verifying => "verifying",
            CaseState::Invalid => "invalid",
            CaseState::Filed => "filed",
            CaseState::Dispatched => "dispatched",
            CaseState::Handling => "handling",
            CaseState::Suspended => "suspended",
            CaseState::Handled => "handled",
            CaseState::Checking => "checking",
            CaseState::Checked => "checked",
            CaseState::Callback => "callback",
            CaseState::Closed => "closed",
            CaseState::Cancelled => "cancelled",
            CaseState::Merged => "merged",
        }
    }

    pub fn parse(text: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn zh(self) -> &'static str {
        match self {
            CaseState::Reported => "待受理",
            CaseState::Accepted => "已受理",
            CaseState::Verifying => "核实中",
            CaseState::Invalid => "不受理",
            CaseState::Filed => "已立案",
            CaseState::Dispatched => "已派遣",
            CaseState::Handling => "处置中",
            CaseState::Suspended => "挂账",
            CaseState::Handled => "已反馈",
            CaseState::Checking => "核查中",
            CaseState::Checked => "核查通过",
            CaseState::Callback => "回访中",
            CaseState::Closed => "已结案",
            CaseState::Cancelled => "已作废",
            CaseState::Merged => "已合并",
        }
    }
}

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A grid inspector's patrol.
    Inspector,
    /// The 12345 citizen hotline (call-back required before closing).
    Hotline,
    /// A citizen's photo report (随申拍).
    Photo,
    /// An IoT sensor alarm.
    Iot,
    /// A department's own report.
    Department,
    /// A leader's instruction.
    Leader,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Inspector,
        Source::Hotline,
        Source::Photo,
        Source::Iot,
        Source::Department,
        Source::Leader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Inspector => "inspector",
            Source::Hotline => "hotline",
            Source::Photo => "photo",
            Source::Iot => "iot",
            Source::Department => "department",
            Source::Leader => "leader",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Public and machine reports are verified on site before filing.
    pub fn needs_verification(self) -> bool {
        matches!(self, Source::Hotline | Source::Photo | Source::Iot)
    }
}

/// What a caller to the hotline wants (工单类型), as the 12345 hotline sorts its tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// 求助: asks for something to be put right.
    Request,
    /// 投诉: complains about a problem or about how it was handled.
    Complaint,
    /// 咨询: asks a question; answered on the call, never a case.
    Enquiry,
    /// 建议: proposes an improvement.
    Suggestion,
    /// 表扬: praises a unit or a member of staff.
    Praise,
    /// 其他.
    Other,
}

impl TicketKind {
    pub const ALL: [TicketKind; 6] = [
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

    pub fn parse(text: &str) -> Option<TicketKind> {
        TicketKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What the operator took down about a call beyond the problem itself: the kind of call, and
/// the reply owed to the caller (答复口径: what they were told they would hear, and when), which
/// the call-back answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub kind: TicketKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_owed: Option<String>,
}

/// The stage whose clock is running; its deadline is [`Case::deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 受理: reported, waiting for an operator.
    Accept,
    /// 核实: an inspector verifies on site.
    Verify,
    /// 立案: accepted, waiting to be filed.
    File,
    /// 派遣: filed, waiting to be dispatched.
    Dispatch,
    /// 处置: the unit signed for it and handles it.
    Handling,
    /// 核查: an inspector checks the result on site.
    Check,
    /// 回访: the operator calls a hotline caller back.
    Callback,
    /// 结案: checked (and called back), waiting to be closed.
    Close,
}

impl Stage {
    /// In the order a case passes them.
    pub const ALL: [Stage; 8] = [
        Stage::Accept,
        Stage::Verify,
        Stage::File,
        Stage::Dispatch,
        Stage::Handling,
        Stage::Check,
        Stage::Callback,
        Stage::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Accept => "accept",
            Stage::Verify => "verify",
            Stage::File => "file",
            Stage::Dispatch => "dispatch",
            Stage::Handling => "handling",
            Stage::Check => "check",
            Stage::Callback => "callback",
            Stage::Close => "close",
        }
    }
}

/// What came of one call-back attempt (回访).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// The caller answered and gave their satisfaction. What a call-back recorded before
    /// attempts were told apart, hence the default.
    #[default]
    Reached,
    /// 无人接听: nobody answered, or the line was busy or off.
    NoAnswer,
    /// 号码错误: the number is not the caller's, or does not exist.
    WrongNumber,
}

impl CallbackOutcome {
    pub const ALL: [CallbackOutcome; 3] = [
        CallbackOutcome::Reached,
        CallbackOutcome::NoAnswer,
        CallbackOutcome::WrongNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Reached => "reached",
            CallbackOutcome::NoAnswer => "no_answer",
            CallbackOutcome::WrongNumber => "wrong_number",
        }
    }

    pub fn parse(text: &str) -> Option<CallbackOutcome> {
        CallbackOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// The caller's verdict on how their case was handled: 满意, 基本满意 or 不满意. The first two
/// close the case; the third sends it back for rework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::Unsatisfied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basically_satisfied",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(text: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the case may close on it (满意 or 基本满意).
    pub fn accepts(self) -> bool {
        self != Satisfaction::Unsatisfied
    }
}

/// Reads the three names, and the yes/no that timelines recorded before satisfaction had
/// three grades (`true` is satisfied, `false` unsatisfied), so old timelines still replay.
impl<'de> Deserialize<'de> for Satisfaction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Legacy(bool),
            Named(String),
        }
        match Form::deserialize(deserializer)? {
            Form::Legacy(true) => Ok(Satisfaction::Satisfied),
            Form::Legacy(false) => Ok(Satisfaction::Unsatisfied),
            Form::Named(name) => Satisfaction::parse(&name).ok_or_else(|| {
                serde::de::Error::unknown_variant(
                    &name,
                    &["satisfied", "basically_satisfied", "unsatisfied"],
                )
            }),
        }
    }
}

/// Where the call-back of a hotline case stands: the attempts it allows before the case
/// closes as unreachable (fixed when the call-back starts), the failed ones so far, and
/// the caller's verdict once reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackProgress {
    pub attempts_allowed: u32,
    pub failed_attempts: u32,
    pub last_outcome: Option<CallbackOutcome>,
    pub satisfaction: Option<Satisfaction>,
    /// Closed after `attempts_allowed` failed attempts: the caller could not be reached.
    pub unreachable: bool,
}

/// A WGS-84 position inside the bounds a Chinese city can have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lon: f64,
    pub lat: f64,
}

impl Location {
    pub fn new(lon: f64, lat: f64) -> Result<Location, InvalidInput> {
        if !(73.0..=136.0).contains(&lon) {
            return Err(InvalidInput::new(
                "location.lon",
                format!("longitude {lon} is outside China (73 to 136 degrees east)"),
            ));
        }
        if !(3.0..=54.0).contains(&lat) {
            return Err(InvalidInput::new(
                "location.lat",
                format!("latitude {lat} is outside China (3 to 54 degrees north)"),
            ));
        }
        Ok(Location { lon, lat })
    }
}

/// Human-readable case number: district code + local date + daily sequence,
/// e.g. `3101012026112500042`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseNumber(pub String);

/// China Standard Time has no daylight saving, so a fixed offset is exact.
pub fn china_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The local (Asia/Shanghai) midnight that began the day of `now`: where "today" starts.
pub fn start_of_local_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.with_timezone(&china_time())
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(china_time()).single())
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// Whether a stage clock runs in `state`: not once the case is finished, nor while it is
/// parked.
pub fn clock_runs(state: CaseState) -> bool {
    !state.is_terminal() && state != CaseState::Suspended
}

/// Overdue, the one definition: a stage clock runs and its deadline has passed. The case page
/// ([`Case::is_overdue`]), the statistics ([`crate::stats`]) and the store's `overdue` filter
/// all follow it.
///
/// The store filters with `deadline < now` alone. That agrees with this function because its
/// `deadline` column holds [`Case::running_deadline`]: the deadline while a stage clock runs,
/// NULL once the case is finished or parked. The workflow keeps [`Case::deadline`] that way
/// (every command that finishes or parks a case clears it), so the two are equal; a store
/// writes `running_deadline()` so that it does not depend on that.
pub fn is_overdue(state: CaseState, deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    clock_runs(state) && deadline.is_some_and(|deadline| now > deadline)
}

impl CaseNumber {
    pub fn new(district: &AreaCode, day: NaiveDate, sequence: u32) -> CaseNumber {
        CaseNumber(format!(
            "{}{}{:05}",
            district.as_str(),
            day.format("%Y%m%d"),
            sequence
        ))
    }

    /// The local (Asia/Shanghai) day a report at `at` is numbered on.
    pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&china_time()).date_naive()
    }

    /// Placeholder carried by a case until the store assigns the real number in the
    /// transaction that inserts it.
    pub fn unassigned() -> CaseNumber {
        CaseNumber(String::new())
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The class a case was filed under, with the terms that applied at filing. Terms are
/// copied so that editing the catalogue later never moves a running case's deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledClass {
    pub code: CategoryCode,
    pub zh: String,
    pub urgency: Urgency,
    pub terms: StageTerms,
}

impl FiledClass {
    /// Filing under a class of the catalogue as it is now: its name, urgency and terms.
    pub fn from_category(class: &Category) -> FiledClass {
        FiledClass {
            code: class.code.clone(),
            zh: class.zh.clone(),
            urgency: class.urgency,
            terms: class.terms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingRequest {
    Extension {
        until: DateTime<Utc>,
        reason: String,
    },
    Park {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Invalid,
    Duplicate,
}

impl RejectReason {
    pub const ALL: [RejectReason; 2] = [RejectReason::Invalid, RejectReason::Duplicate];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Invalid => "invalid",
            RejectReason::Duplicate => "duplicate",
        }
    }
}

/// Who reported a case from the public, and how to reach them. Personal information: never
/// shown publicly, masked for staff (see `mask_phone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: Option<String>,
    pub phone: Option<String>,
    /// SHA-256 of the citizen's follow token, which proves they reported the case.
    pub follow_token_hash: Option<String>,
}

impl Reporter {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if let Some(name) = &self.name {
            if name.chars().count() > 50 {
                return Err(InvalidInput::new(
                    "contact.name",
                    "a name is at most 50 characters",
                ));
            }
        }
        if let Some(phone) = &self.phone {
            crate::personal_text::normalize_phone(phone)?;
        }
        Ok(())
    }
}

/// `13812345678` -> `138****5678`: enough to recognise, not enough to call.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// `刘女士` -> `刘**`, `Li Ming` -> `L******`: the first character only.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A case waiting for a higher-level center to decide who is responsible (unclear or
/// cross-area responsibility: street -> district -> city).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordination {
    /// The area of the center that must decide: a district or the city.
    pub center: AreaCode,
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// Where a merged report went: its master case, and the state the report was in, which an
/// undone merge returns it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeLink {
    pub master_id: String,
    pub master: String,
    pub state_before: CaseState,
}

/// The inspector (网格监督员) a responsibility grid (责任网格) is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridInspector {
    pub user_id: String,
    pub username: String,
    /// The responsibility grid's code.
    pub grid: String,
}

/// An assisting unit's part (协办) of a case another unit leads (主办, the case's `unit`):
/// assigned by a dispatcher, signed for, worked and fed back by the assisting unit on its own
/// deadline, or released by the dispatcher or returned by the unit. The lead's feedback waits
/// until no part is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistPart {
    pub unit: String,
    /// The area the unit answers for, which must contain the case's.
    pub unit_jurisdiction: AreaCode,
    pub state: AssistState,
    pub assigned_at: DateTime<Utc>,
    /// The part's handling deadline, from its signing, on the class's handling term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// When the part turns yellow, reckoned at its signing as the lead's stage's is: a
    /// calendar changed later moves it no more than the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_at: Option<DateTime<Utc>>,
    /// What the overdue watch has announced about the part: due (yellow) or overdue (red).
    #[serde(default, skip_serializing_if = "DeadlineMark::is_on_time")]
    pub mark: DeadlineMark,
    /// When it was fed back, released or returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The handler who fed it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
    /// The feedback, or why it was released or returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
}

/// Where an assisting unit's part stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistState {
    /// Assigned, not yet signed for.
    Assigned,
    /// Signed for: the unit works on it, on its deadline.
    Handling,
    /// Fed back: the unit's part is done.
    Done,
    /// Taken back by the dispatcher: not needed.
    Released,
    /// Returned by the unit: not theirs.
    Returned,
}

impl AssistState {
    pub const ALL: [AssistState; 5] = [
        AssistState::Assigned,
        AssistState::Handling,
        AssistState::Done,
        AssistState::Released,
        AssistState::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssistState::Assigned => "assigned",
            AssistState::Handling => "handling",
            AssistState::Done => "done",
            AssistState::Released => "released",
            AssistState::Returned => "returned",
        }
    }

    /// The part still holds the lead's feedback back.
    pub fn is_open(self) -> bool {
        matches!(self, AssistState::Assigned | AssistState::Handling)
    }
}

/// A report merged into a master case, as the master lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedReport {
    pub case_id: String,
    pub number: String,
    pub source: Source,
    pub at: DateTime<Utc>,
    /// The call-back of its caller, a hotline report's, once the master's call-back began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackProgress>,
}

/// The citizen's rating of a closed case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1 (very unsatisfied) to 5 (very satisfied).
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Opaque id (a UUID); the case number is for people.
    pub id: String,
    pub number: CaseNumber,
    /// The number of timeline events; a command names the version it saw.
    pub version: i64,
    pub state: CaseState,
    pub source: Source,
    pub description: String,
    pub address: Option<String>,
    pub location: Location,
    /// How far off `location` may be, in metres, when a phone's GPS gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_accuracy_m: Option<f32>,
    /// The finest area known for the case (community, street or district).
    pub area: AreaCode,
    /// The 14-digit unit grid (单元网格) the location lies in, when the city's grids are known.
    #[serde(default)]
    pub unit_grid: Option<String>,
    pub district: AreaCode,
    /// The reporter's guess at the class, before a shift lead files it.
    pub category_hint: Option<CategoryCode>,
    pub category: Option<FiledClass>,
    pub component_id: Option<String>,
    /// The responsible unit the case is (or was last) dispatched to.
    pub unit: Option<String>,
    pub urgent: bool,
    pub supervised: bool,
    pub self_handled: bool,
    pub rework_count: u32,
    pub return_count: u32,
    pub extension_count: u32,
    pub pending: Option<PendingRequest>,
    pub stage: Option<Stage>,
    pub deadline: Option<DateTime<Utc>>,
    /// When the running stage turns yellow (the warning share of its time used), reckoned
    /// with its deadline; none for cases from before the watch.
    #[serde(default)]
    pub warning_at: Option<DateTime<Utc>>,
    /// What the overdue watch announced about the running stage ([`crate::watch`]).
    #[serde(default)]
    pub watch: Option<crate::watch::WatchState>,
    /// The latest supervision notice (督办单) of a center leader.
    #[serde(default)]
    pub supervision: Option<crate::watch::Supervision>,
    /// The units' appeals (申诉) against what the case counted against them, and their
    /// decisions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appeals: Vec<crate::appeal::Appeal>,
    /// Who filed the case and who last dispatched it (user ids): the evaluation holds a
    /// cancellation against the filing and a return against the dispatch.
    #[serde(default)]
    pub filed_by: Option<String>,
    #[serde(default)]
    pub dispatched_by: Option<String>,
    /// Who gave the unit's last feedback: a failed check counts against their handling.
    #[serde(default)]
    pub handled_by: Option<String>,
    /// Time left on the handling clock while parked.
    pub suspended_remaining_secs: Option<i64>,
    /// The time left is working time (the stage's term runs on the working calendar).
    #[serde(default)]
    pub suspended_on_working_time: bool,
    pub callback_satisfied: Option<bool>,
    /// The call-back of a hotline case, once started.
    #[serde(default)]
    pub callback: Option<CallbackProgress>,
    /// The city's terms of the stages before filing and of closing, as they were when the
    /// case was reported; none for cases reported before those stages had clocks.
    #[serde(default)]
    pub intake_terms: Option<crate::category::IntakeTerms>,
    pub reject_reason: Option<RejectReason>,
    pub duplicate_of: Option<String>,
    /// The master case this report was merged into (state [`CaseState::Merged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<MergeLink>,
    /// The reports merged into this case, oldest merge first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_reports: Vec<MergedReport>,
    /// The assisting units' parts (协办), in the order they were assigned; `unit` leads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assists: Vec<AssistPart>,
    /// The inspector of the responsibility grid the case was reported in, when one was
    /// assigned: its verification and check tasks are theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_inspector: Option<GridInspector>,
    pub attachments: Vec<String>,
    /// The values of its class's extra fields (表单构建), by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub fields: crate::form::FieldValues,
    /// Stages finished after their deadline (按期 indicators count cases with none).
    #[serde(default)]
    pub late_count: u32,
    #[serde(default)]
    pub reporter: Option<Reporter>,
    /// The id of the 12345 hotline ticket the case was opened for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotline_ticket: Option<String>,
    /// The call the case was opened from, for a hotline or department report taken down by
    /// an operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    #[serde(default)]
    pub rating: Option<Rating>,
    /// Set while the case waits in a higher center's coordination queue.
    #[serde(default)]
    pub coordination: Option<Coordination>,
    /// An inspector confirmed on site that the reported problem exists.
    #[serde(default)]
    pub verified: bool,
    pub reported_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// How close a running stage is to its deadline: the workbench's yellow and red.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineMark {
    /// Less than the warning share of the stage's time is used.
    #[default]
    OnTime,
    /// 临期 (yellow): the warning share of the time is used.
    Due,
    /// 超期 (red): past the deadline ([`is_overdue`]).
    Overdue,
}

impl DeadlineMark {
    pub const ALL: [DeadlineMark; 3] = [
        DeadlineMark::OnTime,
        DeadlineMark::Due,
        DeadlineMark::Overdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineMark::OnTime => "on_time",
            DeadlineMark::Due => "due",
            DeadlineMark::Overdue => "overdue",
        }
    }

    pub fn is_on_time(&self) -> bool {
        *self == DeadlineMark::OnTime
    }
}

/// The time left on a case's running stage clock, counted as its term counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeLeft {
    pub stage: Stage,
    pub deadline: DateTime<Utc>,
    /// The term the stage started with; none for cases from before terms were recorded.
    pub term: Option<crate::category::Term>,
    /// The time runs on the working calendar (working minutes), else natural time.
    pub working_time: bool,
    /// Minutes left (working minutes when `working_time`); negative once overdue.
    pub minutes_left: i64,
    /// The share of the term used: 0 at the start, 1 at the deadline, more when overdue.
    pub used: f64,
    pub mark: DeadlineMark,
}

impl Case {
    /// How many of the case's appeals wait for an evaluator's decision.
    pub fn appeals_pending(&self) -> usize {
        self.appeals.iter().filter(|a| a.decision.is_none()).count()
    }

    /// The running stage's time left at `now`, on `calendar`; yellow once `warning_share` of
    /// the term is used. None when no clock runs.
    pub fn time_left(
        &self,
        now: DateTime<Utc>,
        calendar: &crate::calendar::WorkingCalendar,
        warning_share: f64,
    ) -> Option<TimeLeft> {
        let deadline = self.running_deadline()?;
        let stage = self.stage?;
        let overdue = self.is_overdue(now);
        Some(self.left_until(stage, deadline, overdue, now, calendar, warning_share))
    }

    /// An assisting unit's part's time left at `now`, counted as the class's handling term
    /// counts, like the lead's; none unless the part is in hand.
    pub fn assist_time_left(
        &self,
        part: &AssistPart,
        now: DateTime<Utc>,
        calendar: &crate::calendar::WorkingCalendar,
        warning_share: f64,
    ) -> Option<TimeLeft> {
        let deadline = part
            .deadline
            .filter(|_| part.state == AssistState::Handling)?;
        let overdue = now > deadline;
        Some(self.left_until(
            Stage::Handling,
            deadline,
            overdue,
            now,
            calendar,
            warning_share,
        ))
    }

    fn left_until(
        &self,
        stage: Stage,
        deadline: DateTime<Utc>,
        overdue: bool,
        now: DateTime<Utc>,
        calendar: &crate::calendar::WorkingCalendar,
        warning_share: f64,
    ) -> TimeLeft {
        let term = self.term(stage);
        let continuous = self.runs_continuously();
        let working_time = term.is_some_and(|t| t.on_working_time(continuous));
        let minutes_left = match (working_time, now <= deadline) {
            (true, true) => calendar.working_minutes_between(now, deadline),
            (true, false) => -calendar.working_minutes_between(deadline, now),
            (false, _) => (deadline - now).num_minutes(),
        };
        let length = term.map(|t| {
            let amount = i64::from(t.amount);
            match t.unit {
                crate::category::TermUnit::Minutes => amount,
                crate::category::TermUnit::Hours | crate::category::TermUnit::WorkingHours => {
                    amount * 60
                }
                crate::category::TermUnit::WorkingDays if working_time => {
                    amount * calendar.hours().minutes_per_day()
                }
                crate::category::TermUnit::WorkingDays => amount * 1440,
            }
        });
        // The share used counts natural time to the second: `minutes_left` is whole minutes
        // rounded down, which would turn a short stage yellow up to a minute early (the
        // watch's `warning_time` reckons at whole minutes, where the two agree).
        let exact_left = if working_time {
            minutes_left as f64
        } else {
            (deadline - now).num_seconds() as f64 / 60.0
        };
        // An extension can leave more time than the term: nothing is used yet then.
        let used = match length {
            Some(length) if length > 0 => (1.0 - exact_left / length as f64).max(0.0),
            _ if minutes_left < 0 => 1.0,
            _ => 0.0,
        };
        let mark = if overdue {
            DeadlineMark::Overdue
        } else if used >= warning_share {
            DeadlineMark::Due
        } else {
            DeadlineMark::OnTime
        };
        TimeLeft {
            stage,
            deadline,
            term,
            working_time,
            minutes_left,
            used,
            mark,
        }
    }

    /// Overdue: see [`is_overdue`].
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        is_overdue(self.state, self.deadline, now)
    }

    /// The deadline of the stage whose clock runs; none once the case is finished or parked.
    /// What the store keeps in its `deadline` column (see [`is_overdue`]).
    pub fn running_deadline(&self) -> Option<DateTime<Utc>> {
        self.deadline.filter(|_| clock_runs(self.state))
    }

    /// The open part (assigned or handling) of an assisting unit, if it has one.
    pub fn open_assist(&self, unit: &str) -> Option<&AssistPart> {
        self.assists
            .iter()
            .find(|p| p.unit == unit && p.state.is_open())
    }

    /// The assisting units whose parts are still open: the lead's feedback waits for them.
    pub fn open_assists(&self) -> impl Iterator<Item = &AssistPart> {
        self.assists.iter().filter(|p| p.state.is_open())
    }

    /// Whether `unit` leads the case or has a part in it, open or finished: its handlers see
    /// the case.
    pub fn involves_unit(&self, unit: &str) -> bool {
        self.unit.as_deref() == Some(unit) || self.assists.iter().any(|p| p.unit == unit)
    }

    /// Whether callers are owed a call-back before the case closes: its own, a hotline
    /// caller's, or those of the hotline reports merged into it.
    pub fn callbacks_owed(&self) -> bool {
        self.source == Source::Hotline
            || self
                .merged_reports
                .iter()
                .any(|r| r.source == Source::Hotline)
    }

    /// Whether the case's clocks run on natural time: an urgent case, or one filed under an
    /// urgent class.
    pub fn runs_continuously(&self) -> bool {
        self.urgent
            || self
                .category
                .as_ref()
                .is_some_and(|class| class.urgency == crate::category::Urgency::Urgent)
    }

    /// The term of `stage`: the filed class's, or for the stages before filing and closing,
    /// the city's as the case copied them when reported. None for a case from before.
    pub fn term(&self, stage: Stage) -> Option<crate::category::Term> {
        let intake = self.intake_terms.as_ref();
        match stage {
            Stage::Accept => intake.map(|t| t.accept),
            Stage::Verify => intake.map(|t| t.verify),
            Stage::File => intake.map(|t| t.file),
            Stage::Close => intake.map(|t| t.close),
            Stage::Dispatch | Stage::Handling | Stage::Check | Stage::Callback => self
                .category
                .as_ref()
                .and_then(|class| class.terms.of(stage)),
        }
    }

    pub(crate) fn start_stage(
        &mut self,
        stage: Stage,
        now: DateTime<Utc>,
        calendar: &crate::calendar::WorkingCalendar,
    ) {
        let continuous = self.runs_continuously();
        self.stage = Some(stage);
        self.deadline = self
            .term(stage)
            .map(|term| term.deadline(now, calendar, continuous));
    }

    pub(crate) fn stop_clock(&mut self) {
        self.stage = None;
        self.deadline = None;
    }
}

/// One entry of a case's timeline: who did what, when, and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub case_id: String,
    /// 1-based; equals the case version after the event.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub unit: Option<String>,
    pub command: CaseCommand,
    pub from: Option<CaseState>,
    pub to: CaseState,
    /// The stage this event ended was already past its deadline.
    pub late: bool,
    /// The clear form of the command's texts that held personal data (by field: the
    /// command's own texts are masked). Sealed at rest, read only for a purpose (a call-back,
    /// the citizen's own request), dropped by erasure.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub clear_text: std::collections::BTreeMap<String, String>,
    /// The stage clock the event started, moved or stopped, and why; none when it left the
    /// clock as it was. Replaying the timeline takes deadlines from here, so a calendar
    /// changed later never rewrites one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockChange>,
}

/// A change of a case's stage clock, as the timeline records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockChange {
    /// The stage whose clock runs after the event, if any.
    pub stage: Option<Stage>,
    /// Its deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// When it turns yellow, reckoned with the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<DateTime<Utc>>,
    pub reason: ClockReason,
}

/// Why a stage clock changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockReason {
    /// A stage began with its class's term, on working time or natural time.
    Started {
        term: crate::category::Term,
        working_time: bool,
    },
    /// The shift lead approved an extension.
    Extended,
    /// Parked: the clock stopped with this much time left (working seconds when
    /// `working_time`).
    Parked {
        remaining_secs: Option<i64>,
        working_time: bool,
    },
    /// Back from parking with the time that was left.
    Resumed,
    /// The stage ended.
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_stages_are_listed_in_the_order_a_case_passes_them() {
        // Exhaustive: a new stage does not compile until it has its place in the sequence,
        // and then this fails until `ALL` lists it there too.
        let next = |stage: Stage| match stage {
            Stage::Accept => Some(Stage::Verify),
            Stage::Verify => Some(Stage::File),
            Stage::File => Some(Stage::Dispatch),
            Stage::Dispatch => Some(Stage::Handling),
            Stage::Handling => Some(Stage::Check),
            Stage::Check => Some(Stage::Callback),
            Stage::Callback => Some(Stage::Close),
            Stage::Close => None,
        };
        let stages: Vec<Stage> = std::iter::successors(Some(Stage::Accept), |s| next(*s)).collect();
        assert_eq!(stages, Stage::ALL);
    }

    #[test]
    fn all_reject_reasons_are_listed() {
        let next = |reason: RejectReason| match reason {
            RejectReason::Invalid => Some(RejectReason::Duplicate),
            RejectReason::Duplicate => None,
        };
        let reasons: Vec<RejectReason> =
            std::iter::successors(Some(RejectReason::Invalid), |r| next(*r)).collect();
        assert_eq!(reasons, RejectReason::ALL);
    }

    #[test]
    fn the_open_states_are_exactly_the_states_that_are_not_terminal() {
        let open: Vec<CaseState> = CaseState::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect();
        assert_eq!(open, CaseState::OPEN);
    }
}
