//! Incidents (突发事件) and their joint response (联勤联动): the affected areas, the severity,
//! the response level a leader decides with its reason, a task for each unit with its
//! deadline and report, situation reports (续报), resources, handing over to the next-level
//! center and the stand-down. Every change is an [`IncidentEvent`] on the incident's timeline,
//! from which the after-action report is written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    at_most, check_areas, is_center_staff, needed, EmergencyError, ResponseLevel, Severity,
};
use crate::actor::{Actor, Role};
use crate::area::AreaCode;
use crate::case::Location;
use crate::InvalidInput;

/// The most areas one incident covers.
pub const MAX_AREAS: usize = 64;
/// The most tasks one incident holds.
pub const MAX_TASKS: usize = 200;
/// The most resources one incident tracks.
pub const MAX_RESOURCES: usize = 200;
/// The most photos one task report carries.
pub const MAX_PHOTOS: usize = 9;
/// The most units one notice reaches, and the most notices one incident keeps.
pub const MAX_NOTIFIED: usize = 100;
pub const MAX_NOTICES: usize = 100;

/// What kind of emergency (突发事件类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// 自然灾害: floods, typhoons, rainstorms.
    NaturalDisaster,
    /// 事故灾难: fires, collapses, traffic and gas accidents.
    Accident,
    /// 公共卫生事件.
    PublicHealth,
    /// 社会安全事件.
    SocialSecurity,
}

impl IncidentKind {
    pub const ALL: [IncidentKind; 4] = [
        IncidentKind::NaturalDisaster,
        IncidentKind::Accident,
        IncidentKind::PublicHealth,
        IncidentKind::SocialSecurity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::NaturalDisaster => "natural_disaster",
            IncidentKind::Accident => "accident",
            IncidentKind::PublicHealth => "public_health",
            IncidentKind::SocialSecurity => "social_security",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            IncidentKind::NaturalDisaster => "自然灾害",
            IncidentKind::Accident => "事故灾难",
            IncidentKind::PublicHealth => "公共卫生事件",
            IncidentKind::SocialSecurity => "社会安全事件",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// The response runs.
    Active,
    /// 响应终止: the response ended; the incident changes no more.
    StoodDown,
}

impl IncidentState {
    pub const ALL: [IncidentState; 2] = [IncidentState::Active, IncidentState::StoodDown];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Active => "active",
            IncidentState::StoodDown => "stood_down",
        }
    }
}

/// A leader's decision on the response level, with the reason: the only way a level is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseDecision {
    pub level: ResponseLevel,
    pub reason: String,
    pub user_id: String,
    pub username: String,
    pub at: DateTime<Utc>,
}

/// Where a unit's task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Assigned,
    Accepted,
    InProgress,
    Done,
    /// The unit cannot do it, and said why.
    Unable,
}

impl TaskState {
    pub const ALL: [TaskState; 5] = [
        TaskState::Assigned,
        TaskState::Accepted,
        TaskState::InProgress,
        TaskState::Done,
        TaskState::Unable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::InProgress => "in_progress",
            TaskState::Done => "done",
            TaskState::Unable => "unable",
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, TaskState::Done | TaskState::Unable)
    }
}

/// A unit's part of the joint response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointTask {
    /// Numbered from 1 within the incident.
    pub id: u32,
    pub unit: String,
    pub title: String,
    pub deadline: DateTime<Utc>,
    pub state: TaskState,
    pub assigned_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The unit's report (done) or reason (unable).
    #[serde(default)]
    pub report: Option<String>,
    /// Attachment ids of the report's photos.
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default)]
    pub reported_by: Option<String>,
}

impl JointTask {
    /// Overdue: still open past its deadline.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.is_open() && now > self.deadline
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// 排水泵车.
    PumpTruck,
    /// 抢险队伍.
    Team,
    /// 沙袋.
    Sandbags,
    Generator,
    Vehicle,
    Other,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::PumpTruck,
        ResourceKind::Team,
        ResourceKind::Sandbags,
        ResourceKind::Generator,
        ResourceKind::Vehicle,
        ResourceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::PumpTruck => "pump_truck",
            ResourceKind::Team => "team",
            ResourceKind::Sandbags => "sandbags",
            ResourceKind::Generator => "generator",
            ResourceKind::Vehicle => "vehicle",
            ResourceKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// Ready where it stands.
    Standby,
    /// On its way.
    EnRoute,
    /// Working on site.
    Deployed,
    /// Back, no longer in use.
    Released,
}

impl ResourceState {
    pub const ALL: [ResourceState; 4] = [
        ResourceState::Standby,
        ResourceState::EnRoute,
        ResourceState::Deployed,
        ResourceState::Released,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Standby => "standby",
            ResourceState::EnRoute => "en_route",
            ResourceState::Deployed => "deployed",
            ResourceState::Released => "released",
        }
    }
}

/// A resource the response uses: where it is and what it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: u32,
    pub kind: ResourceKind,
    pub name: String,
    pub quantity: u32,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    pub state: ResourceState,
    pub updated_at: DateTime<Utc>,
}

/// Units told of the incident (通知), and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub units: Vec<String>,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// An incident to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    pub kind: IncidentKind,
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub areas: Vec<AreaCode>,
    /// The zone drawn on the map, when the areas were found from it.
    #[serde(default)]
    pub zone: Option<super::Zone>,
    /// The unit that leads the response.
    #[serde(default)]
    pub lead_unit: Option<String>,
    /// The warnings it answers.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The contingency plan it was opened from.
    #[serde(default)]
    pub plan: Option<String>,
    /// The telemetry rules judged differently in its areas while the response runs.
    #[serde(default)]
    pub adjustments: Vec<super::RuleAdjustment>,
    /// What is linked by area: alarms of these indicators and cases of these classes (a code
    /// or the start of one, `204` for every emergency event); all of the areas' when empty.
    #[serde(default)]
    pub link_classes: Vec<String>,
}

/// The most classes an incident links by.
pub const MAX_LINK_CLASSES: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub areas: Vec<AreaCode>,
    #[serde(default)]
    pub zone: Option<super::Zone>,
    /// The operations center that coordinates it: the opener's, until handed to the next
    /// level.
    pub center: AreaCode,
    pub state: IncidentState,
    /// The response level in force, as a leader last decided it; none until decided.
    #[serde(default)]
    pub response: Option<ResponseDecision>,
    #[serde(default)]
    pub lead_unit: Option<String>,
    #[serde(default)]
    pub tasks: Vec<JointTask>,
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// The units told of it; their handlers see its public facts.
    #[serde(default)]
    pub notices: Vec<Notice>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub adjustments: Vec<super::RuleAdjustment>,
    #[serde(default)]
    pub link_classes: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    #[serde(default)]
    pub stood_down_at: Option<DateTime<Utc>>,
    /// Raised with every change: writes are made against the version they read.
    pub version: u32,
}

/// What an incident links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Alarm,
    Case,
}

impl LinkKind {
    pub const ALL: [LinkKind; 2] = [LinkKind::Alarm, LinkKind::Case];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Alarm => "alarm",
            LinkKind::Case => "case",
        }
    }

    pub fn parse(text: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A change to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum IncidentCommand {
    Open(NewIncident),
    /// Decide (raise or lower) the response level (启动 / 调整响应), with the reason.
    SetResponse {
        level: ResponseLevel,
        reason: String,
    },
    AssignTask {
        unit: String,
        title: String,
        deadline: DateTime<Utc>,
    },
    AcceptTask {
        task: u32,
    },
    StartTask {
        task: u32,
    },
    FinishTask {
        task: u32,
        report: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    TaskUnable {
        task: u32,
        reason: String,
    },
    /// Tell units of the incident (通知): they see its public facts from then on.
    Notify {
        units: Vec<String>,
        text: String,
    },
    /// A situation report (续报) on the timeline.
    Sitrep {
        text: String,
    },
    AddResource {
        kind: ResourceKind,
        name: String,
        quantity: u32,
        #[serde(default)]
        unit: Option<String>,
        #[serde(default)]
        location: Option<Location>,
    },
    MoveResource {
        resource: u32,
        state: ResourceState,
        #[serde(default)]
        location: Option<Location>,
    },
    /// Link an alarm or a case to the incident by hand, or unlink one (an automatic link
    /// undone by hand does not come back).
    Link {
        kind: LinkKind,
        target: String,
    },
    Unlink {
        kind: LinkKind,
        target: String,
    },
    /// Hand the incident to the next-level center (上报).
    HandOver {
        reason: String,
    },
    /// End the response (响应终止).
    StandDown {
        reason: String,
    },
}

impl IncidentCommand {
    /// The stored name, the audit action and the stream's action.
    pub fn name(&self) -> &'static str {
        match self {
            IncidentCommand::Open(_) => "open",
            IncidentCommand::SetResponse { .. } => "set_response",
            IncidentCommand::AssignTask { .. } => "assign_task",
            IncidentCommand::AcceptTask { .. } => "accept_task",
            IncidentCommand::StartTask { .. } => "start_task",
            IncidentCommand::FinishTask { .. } => "finish_task",
            IncidentCommand::TaskUnable { .. } => "task_unable",
            IncidentCommand::Notify { .. } => "notify",
            IncidentCommand::Sitrep { .. } => "sitrep",
            IncidentCommand::AddResource { .. } => "add_resource",
            IncidentCommand::MoveResource { .. } => "move_resource",
            IncidentCommand::Link { .. } => "link",
            IncidentCommand::Unlink { .. } => "unlink",
            IncidentCommand::HandOver { .. } => "hand_over",
            IncidentCommand::StandDown { .. } => "stand_down",
        }
    }

    /// The task the command is about, for a unit's own.
    pub fn task(&self) -> Option<u32> {
        match self {
            IncidentCommand::AcceptTask { task }
            | IncidentCommand::StartTask { task }
            | IncidentCommand::FinishTask { task, .. }
            | IncidentCommand::TaskUnable { task, .. } => Some(*task),
            _ => None,
        }
    }

    /// Who may issue it: the response level and its end are a leader's decisions; the
    /// center's staff run the rest; a unit's handlers work on their unit's tasks and report
    /// on the situation.
    fn allows(&self, role: Role) -> bool {
        match self {
            IncidentCommand::SetResponse { .. }
            | IncidentCommand::HandOver { .. }
            | IncidentCommand::StandDown { .. } => matches!(role, Role::CenterLeader),
            IncidentCommand::Open(_)
            | IncidentCommand::AssignTask { .. }
            | IncidentCommand::AddResource { .. }
            | IncidentCommand::Notify { .. }
            | IncidentCommand::MoveResource { .. }
            | IncidentCommand::Link { .. }
            | IncidentCommand::Unlink { .. } => is_center_staff(role),
            IncidentCommand::AcceptTask { .. }
            | IncidentCommand::StartTask { .. }
            | IncidentCommand::FinishTask { .. }
            | IncidentCommand::TaskUnable { .. } => role == Role::UnitHandler,
            IncidentCommand::Sitrep { .. } => is_center_staff(role) || role == Role::UnitHandler,
        }
    }
}

/// One change on an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentEvent {
    pub incident_id: String,
    /// 1 for the opening, then one more per change.
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub username: String,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<String>,
    pub command: IncidentCommand,
}

impl Incident {
    /// Opens an incident: a center's staff, for areas within their jurisdiction; the center
    /// is the lowest one whose area holds them all (a street's, a district's or the city's).
    pub fn open(
        id: String,
        new: NewIncident,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Incident, IncidentEvent), EmergencyError> {
        let command = IncidentCommand::Open(new.clone());
        permitted(&command, actor)?;
        needed("title", &new.title, 200)?;
        at_most("description", &new.description, 4000)?;
        check_areas("areas", &new.areas, MAX_AREAS)?;
        if let Some(zone) = &new.zone {
            zone.validate("zone")?;
        }
        if let Some(outside) = new.areas.iter().find(|a| !actor.can_see(a)) {
            return Err(EmergencyError::OutOfScope(outside.to_string()));
        }
        super::warning::check_adjustments("adjustments", &new.adjustments)?;
        check_link_classes(&new.link_classes)?;
        if new.warnings.len() > 16 {
            return Err(InvalidInput::new("warnings", "at most 16 warnings").into());
        }
        let incident = Incident {
            id: id.clone(),
            kind: new.kind,
            severity: new.severity,
            title: new.title.trim().to_owned(),
            description: new.description,
            center: center_of(&new.areas),
            areas: new.areas,
            zone: new.zone,
            state: IncidentState::Active,
            response: None,
            lead_unit: new.lead_unit,
            tasks: Vec::new(),
            resources: Vec::new(),
            notices: Vec::new(),
            warnings: new.warnings,
            plan: new.plan,
            adjustments: new.adjustments,
            link_classes: new.link_classes,
            opened_at: now,
            opened_by: actor.user_id.clone(),
            stood_down_at: None,
            version: 1,
        };
        let event = event(&incident, 1, command, actor, now);
        Ok((incident, event))
    }

    /// Whether `area` lies in one of the incident's areas.
    pub fn covers(&self, area: &AreaCode) -> bool {
        self.areas.iter().any(|a| a.contains(area))
    }

    /// Whether an alarm of this indicator, or a case of this class, raised or reported in
    /// `area` at `at`, belongs to the incident (自动关联): in its areas, while it runs, and of
    /// the classes it links by, if it names any.
    pub fn links(&self, area: &AreaCode, class: Option<&str>, at: DateTime<Utc>) -> bool {
        self.state == IncidentState::Active
            && self.opened_at <= at
            && self.covers(area)
            && (self.link_classes.is_empty()
                || class
                    .is_some_and(|c| self.link_classes.iter().any(|k| c.starts_with(k.as_str()))))
    }

    /// Whether an actor sees the whole incident: the center's staff and leaders over one of
    /// its areas. A unit's handlers see its public facts and their unit's own tasks.
    pub fn sees_all(&self, actor: &Actor) -> bool {
        actor.role != Role::UnitHandler
            && actor.works_on_cases()
            && self
                .areas
                .iter()
                .any(|a| actor.scope.contains(a) || a.contains(&actor.scope))
    }

    /// Whether an actor sees the incident at all: the center's staff over one of its areas,
    /// and the handlers of a unit with a task in it or told of it.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        self.sees_all(actor)
            || (actor.role == Role::UnitHandler
                && actor.unit.as_deref().is_some_and(|u| {
                    self.tasks.iter().any(|t| t.unit == u)
                        || self.notices.iter().any(|n| n.units.iter().any(|x| x == u))
                }))
    }

    /// The incident as `actor` may see it: a unit's handlers get the public facts and their
    /// own unit's tasks only.
    pub fn seen_by(&self, actor: &Actor) -> Incident {
        if self.sees_all(actor) {
            return self.clone();
        }
        let unit = actor.unit.as_deref().unwrap_or("");
        let mut seen = self.clone();
        seen.tasks.retain(|t| t.unit == unit);
        seen.resources.clear();
        seen.notices.retain_mut(|n| {
            n.units.retain(|u| u == unit);
            !n.units.is_empty()
        });
        seen
    }

    /// Applies `command` by `actor` at `now`: the incident after it and the event that
    /// records it. `unit_ok` says whether a unit named by the command exists and is active
    /// (the caller knows the directory).
    pub fn decide(
        &self,
        command: IncidentCommand,
        actor: &Actor,
        now: DateTime<Utc>,
        unit_ok: impl Fn(&str) -> bool,
    ) -> Result<(Incident, IncidentEvent), EmergencyError> {
        permitted(&command, actor)?;
        if !self.visible_to(actor) && !self.sees_all(actor) {
            return Err(EmergencyError::OutOfScope(self.center.to_string()));
        }
        if self.state == IncidentState::StoodDown {
            return Err(EmergencyError::State(
                "the response has been stood down: the incident changes no more".into(),
            ));
        }
        let mut next = self.clone();
        match &command {
            IncidentCommand::Open(_) => {
                return Err(EmergencyError::State("the incident is already open".into()))
            }
            IncidentCommand::SetResponse { level, reason } => {
                needed("reason", reason, 1000)?;
                if self.response.as_ref().is_some_and(|r| r.level == *level) {
                    return Err(InvalidInput::inconsistent(
                        "level",
                        format!("the response is already {}", level.zh()),
                    )
                    .into());
                }
                next.response = Some(ResponseDecision {
                    level: *level,
                    reason: reason.trim().to_owned(),
                    user_id: actor.user_id.clone(),
                    username: actor.username.clone(),
                    at: now,
                });
            }
            IncidentCommand::AssignTask {
                unit,
                title,
                deadline,
            } => {
                needed("title", title, 200)?;
                crate::unit::check_unit_code(unit)
                    .map_err(|e| InvalidInput::new("unit", e.reason))?;
                if !unit_ok(unit) {
                    return Err(
                        InvalidInput::unknown("unit", format!("{unit} is no active unit")).into(),
                    );
                }
                if *deadline <= now {
                    return Err(
                        InvalidInput::inconsistent("deadline", "a deadline is after now").into(),
                    );
                }
                if self.tasks.len() >= MAX_TASKS {
                    return Err(InvalidInput::new(
                        "unit",
                        format!("an incident holds at most {MAX_TASKS} tasks"),
                    )
                    .into());
                }
                next.tasks.push(JointTask {
                    id: self.tasks.len() as u32 + 1,
                    unit: unit.clone(),
                    title: title.trim().to_owned(),
                    deadline: *deadline,
                    state: TaskState::Assigned,
                    assigned_at: now,
                    updated_at: None,
                    report: None,
                    photos: Vec::new(),
                    reported_by: None,
                });
            }
            IncidentCommand::AcceptTask { task } => {
                own_task(&mut next, *task, actor, &[TaskState::Assigned])?.state =
                    TaskState::Accepted;
            }
            IncidentCommand::StartTask { task } => {
                own_task(
                    &mut next,
                    *task,
                    actor,
                    &[TaskState::Assigned, TaskState::Accepted],
                )?
                .state = TaskState::InProgress;
            }
            IncidentCommand::FinishTask {
                task,
                report,
                photos,
            } => {
                needed("report", report, 4000)?;
                if photos.len() > MAX_PHOTOS {
                    return Err(InvalidInput::new(
                        "photos",
                        format!("at most {MAX_PHOTOS} photos"),
                    )
                    .into());
                }
                let t = own_task(
                    &mut next,
                    *task,
                    actor,
                    &[TaskState::Accepted, TaskState::InProgress],
                )?;
                t.state = TaskState::Done;
                t.report = Some(report.trim().to_owned());
                t.photos = photos.clone();
                t.reported_by = Some(actor.user_id.clone());
            }
            IncidentCommand::TaskUnable { task, reason } => {
                needed("reason", reason, 1000)?;
                let t = own_task(
                    &mut next,
                    *task,
                    actor,
                    &[
                        TaskState::Assigned,
                        TaskState::Accepted,
                        TaskState::InProgress,
                    ],
                )?;
                t.state = TaskState::Unable;
                t.report = Some(reason.trim().to_owned());
                t.reported_by = Some(actor.user_id.clone());
            }
            IncidentCommand::Notify { units, text } => {
                needed("text", text, 1000)?;
                if units.is_empty() || units.len() > MAX_NOTIFIED {
                    return Err(InvalidInput::new(
                        "units",
                        format!("tell 1 to {MAX_NOTIFIED} units"),
                    )
                    .into());
                }
                for (i, unit) in units.iter().enumerate() {
                    if !unit_ok(unit) || units[..i].contains(unit) {
                        return Err(InvalidInput::unknown(
                            format!("units[{i}]"),
                            format!("{unit} is no active unit, or is named twice"),
                        )
                        .into());
                    }
                }
                if self.notices.len() >= MAX_NOTICES {
                    return Err(InvalidInput::new(
                        "units",
                        format!("an incident keeps at most {MAX_NOTICES} notices"),
                    )
                    .into());
                }
                next.notices.push(Notice {
                    units: units.clone(),
                    text: text.trim().to_owned(),
                    at: now,
                });
            }
            IncidentCommand::Sitrep { text } => needed("text", text, 4000)?,
            IncidentCommand::Link { target, .. } | IncidentCommand::Unlink { target, .. } => {
                needed("target", target, 64)?
            }
            IncidentCommand::AddResource {
                kind: _,
                name,
                quantity,
                unit,
                location: _,
            } => {
                needed("name", name, 100)?;
                if *quantity == 0 || *quantity > 1_000_000 {
                    return Err(InvalidInput::new("quantity", "1 to 1,000,000").into());
                }
                if let Some(unit) = unit {
                    if !unit_ok(unit) {
                        return Err(InvalidInput::unknown(
                            "unit",
                            format!("{unit} is no active unit"),
                        )
                        .into());
                    }
                }
                if self.resources.len() >= MAX_RESOURCES {
                    return Err(InvalidInput::new(
                        "name",
                        format!("an incident tracks at most {MAX_RESOURCES} resources"),
                    )
                    .into());
                }
            }
            IncidentCommand::MoveResource {
                resource,
                state,
                location,
            } => {
                let r = next
                    .resources
                    .iter_mut()
                    .find(|r| r.id == *resource)
                    .ok_or_else(|| {
                        InvalidInput::unknown("resource", format!("no resource {resource}"))
                    })?;
                if r.state == *state && location.is_none() {
                    return Err(
                        InvalidInput::inconsistent("state", "the move changes nothing").into(),
                    );
                }
                r.state = *state;
                if location.is_some() {
                    r.location = *location;
                }
                r.updated_at = now;
            }
            IncidentCommand::HandOver { reason } => {
                needed("reason", reason, 1000)?;
                let up = crate::workflow::escalation_target(&self.center).ok_or_else(|| {
                    EmergencyError::State("the city's center has no level above it".into())
                })?;
                next.center = up;
            }
            IncidentCommand::StandDown { reason } => {
                needed("reason", reason, 1000)?;
                next.state = IncidentState::StoodDown;
                next.stood_down_at = Some(now);
            }
        }
        if let IncidentCommand::AddResource {
            kind,
            name,
            quantity,
            unit,
            location,
        } = &command
        {
            next.resources.push(Resource {
                id: self.resources.len() as u32 + 1,
                kind: *kind,
                name: name.trim().to_owned(),
                quantity: *quantity,
                unit: unit.clone(),
                location: *location,
                state: ResourceState::Standby,
                updated_at: now,
            });
        }
        if let Some(task) = command.task() {
            if let Some(t) = next.tasks.iter_mut().find(|t| t.id == task) {
                t.updated_at = Some(now);
            }
        }
        next.version += 1;
        let event = event(&next, next.version, command, actor, now);
        Ok((next, event))
    }
}

/// Classes to link by: at most [`MAX_LINK_CLASSES`], each an indicator's key or a class code
/// (or its start), none twice.
pub(crate) fn check_link_classes(classes: &[String]) -> Result<(), InvalidInput> {
    if classes.len() > MAX_LINK_CLASSES {
        return Err(InvalidInput::new(
            "link_classes",
            format!("at most {MAX_LINK_CLASSES} classes"),
        ));
    }
    for (i, class) in classes.iter().enumerate() {
        let field = format!("link_classes[{i}]");
        if class.is_empty()
            || class.len() > 32
            || !class
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(InvalidInput::new(
                field,
                "an indicator's key or a class code: 1 to 32 of a-z, 0-9, _",
            ));
        }
        if classes[..i].contains(class) {
            return Err(InvalidInput::inconsistent(
                field,
                format!("{class} is named twice"),
            ));
        }
    }
    Ok(())
}

fn permitted(command: &IncidentCommand, actor: &Actor) -> Result<(), EmergencyError> {
    if command.allows(actor.role) {
        Ok(())
    } else {
        Err(EmergencyError::RoleNotAllowed {
            action: command.name(),
            role: actor.role.as_str(),
        })
    }
}

/// The actor's unit's task `id`, in one of `states`.
fn own_task<'a>(
    incident: &'a mut Incident,
    id: u32,
    actor: &Actor,
    states: &[TaskState],
) -> Result<&'a mut JointTask, EmergencyError> {
    let task = incident
        .tasks
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| InvalidInput::unknown("task", format!("no task {id}")))?;
    if actor.unit.as_deref() != Some(task.unit.as_str()) {
        return Err(EmergencyError::NotYourTask(id));
    }
    if !states.contains(&task.state) {
        return Err(EmergencyError::State(format!(
            "task {id} is {}",
            task.state.as_str()
        )));
    }
    Ok(task)
}

fn event(
    incident: &Incident,
    seq: u32,
    command: IncidentCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> IncidentEvent {
    IncidentEvent {
        incident_id: incident.id.clone(),
        seq,
        at: now,
        user_id: actor.user_id.clone(),
        username: actor.username.clone(),
        role: actor.role,
        unit: actor.unit.clone(),
        command,
    }
}

/// The lowest center whose area holds every one of `areas`: their common street, else
/// district, else the city.
fn center_of(areas: &[AreaCode]) -> AreaCode {
    let first = &areas[0];
    let common = |pick: fn(&AreaCode) -> Option<AreaCode>| {
        let level = pick(first)?;
        areas
            .iter()
            .all(|a| pick(a).as_ref() == Some(&level))
            .then_some(level)
    };
    common(|a| a.street())
        .or_else(|| common(|a| a.district()))
        .unwrap_or_else(|| first.city())
}
