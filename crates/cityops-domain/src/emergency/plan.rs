//! Contingency plans (应急预案): for a hazard from a warning level up, what an incident opened
//! from the plan starts with: a task for each unit of the named kinds that answers for one of
//! the affected areas, the resources to bring, the units to tell, and the telemetry rules to
//! judge differently while a warning of its hazard is in force and while the response runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::incident::{IncidentCommand, IncidentKind, NewIncident, ResourceKind};
use super::warning::RuleAdjustment;
use super::{check_areas, needed, EmergencyError, Hazard, Severity, WarningLevel};
use crate::area::AreaCode;
use crate::unit::{Unit, UnitKind};
use crate::InvalidInput;

/// A task the plan gives each unit of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTask {
    pub unit_kind: UnitKind,
    pub title: String,
    /// Hours from the opening to the task's deadline.
    pub hours: u32,
}

/// A task an incident opened from a plan starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    pub unit: String,
    pub title: String,
    pub deadline: DateTime<Utc>,
}

/// A resource the plan brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanResource {
    pub kind: ResourceKind,
    pub name: String,
    pub quantity: u32,
}

/// Who the plan tells when it opens an incident (通知): every active unit of a kind that
/// answers for an affected area, with the text they are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNotice {
    pub unit_kind: UnitKind,
    pub text: String,
}

/// What an incident opened from a plan starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    pub incident: NewIncident,
    pub tasks: Vec<PlannedTask>,
    pub resources: Vec<PlanResource>,
    /// The units told, and what, for each of the plan's notices that reaches a unit.
    pub notices: Vec<(Vec<String>, String)>,
}

impl Opening {
    /// The steps that follow the opening, in order: the tasks, the resources, the notices.
    pub fn steps(&self) -> Vec<IncidentCommand> {
        let tasks = self.tasks.iter().map(|t| IncidentCommand::AssignTask {
            unit: t.unit.clone(),
            title: t.title.clone(),
            deadline: t.deadline,
        });
        let resources = self.resources.iter().map(|r| IncidentCommand::AddResource {
            kind: r.kind,
            name: r.name.clone(),
            quantity: r.quantity,
            unit: None,
            location: None,
        });
        let notices = self
            .notices
            .iter()
            .map(|(units, text)| IncidentCommand::Notify {
                units: units.clone(),
                text: text.clone(),
            });
        tasks.chain(resources).chain(notices).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContingencyPlan {
    /// Stable code, e.g. `rainstorm-2`.
    pub id: String,
    pub name: String,
    pub hazard: Hazard,
    /// The warning level from which the plan applies.
    pub from_level: WarningLevel,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub tasks: Vec<PlanTask>,
    #[serde(default)]
    pub resources: Vec<PlanResource>,
    /// The rules judged differently while a warning of the plan's hazard, at its level or
    /// above, is in force, and in the areas of an incident opened from it.
    #[serde(default)]
    pub adjustments: Vec<RuleAdjustment>,
    #[serde(default)]
    pub notices: Vec<PlanNotice>,
    /// What an incident opened from the plan links by area (its `link_classes`).
    #[serde(default)]
    pub link_classes: Vec<String>,
}

/// The most tasks of a plan, and of the tasks it opens.
pub const MAX_PLAN_TASKS: usize = 32;
pub const MAX_OPENED_TASKS: usize = 100;
/// The most resources and notices of a plan.
pub const MAX_PLAN_RESOURCES: usize = 32;
pub const MAX_PLAN_NOTICES: usize = 16;

impl ContingencyPlan {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        crate::telemetry::device_id("id", &self.id)?;
        needed("name", &self.name, 100)?;
        if self.tasks.is_empty() || self.tasks.len() > MAX_PLAN_TASKS {
            return Err(InvalidInput::new(
                "tasks",
                format!("a plan gives 1 to {MAX_PLAN_TASKS} tasks"),
            ));
        }
        for (i, task) in self.tasks.iter().enumerate() {
            needed(&format!("tasks[{i}].title"), &task.title, 200)?;
            if !(1..=720).contains(&task.hours) {
                return Err(InvalidInput::new(
                    format!("tasks[{i}].hours"),
                    "1 to 720 hours",
                ));
            }
        }
        if self.resources.len() > MAX_PLAN_RESOURCES {
            return Err(InvalidInput::new(
                "resources",
                format!("at most {MAX_PLAN_RESOURCES} resources"),
            ));
        }
        if self.notices.len() > MAX_PLAN_NOTICES {
            return Err(InvalidInput::new(
                "notices",
                format!("at most {MAX_PLAN_NOTICES} notices"),
            ));
        }
        super::incident::check_link_classes(&self.link_classes)?;
        for (i, notice) in self.notices.iter().enumerate() {
            needed(&format!("notices[{i}].text"), &notice.text, 1000)?;
        }
        for (i, r) in self.resources.iter().enumerate() {
            needed(&format!("resources[{i}].name"), &r.name, 100)?;
            if !(1..=1_000_000).contains(&r.quantity) {
                return Err(InvalidInput::new(
                    format!("resources[{i}].quantity"),
                    "1 to 1,000,000",
                ));
            }
        }
        for (i, a) in self.adjustments.iter().enumerate() {
            crate::telemetry::check_condition(
                &format!("adjustments[{i}].condition"),
                &a.condition,
            )?;
        }
        Ok(())
    }

    /// Whether a warning of `hazard` at `level` brings the plan's rule adjustments.
    pub fn applies_to(&self, hazard: Hazard, level: WarningLevel) -> bool {
        // Red is number 1: a level applies from the plan's level up.
        self.hazard == hazard && level.number() <= self.from_level.number()
    }

    /// What opening an incident from the plan for `areas` at `now` starts with: the incident,
    /// a task for every active unit of a named kind whose jurisdiction overlaps an affected
    /// area (street offices of the affected streets included), the plan's resources, and its
    /// notices to the units of the named kinds that answer there. The response level is not
    /// among them: a leader decides it.
    pub fn open(
        &self,
        title: Option<String>,
        areas: Vec<AreaCode>,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<Opening, EmergencyError> {
        check_areas("areas", &areas, super::incident::MAX_AREAS)?;
        let answering = |kind: UnitKind| {
            let mut takers: Vec<&Unit> = units
                .iter()
                .filter(|u| u.retired.is_none() && u.kind == kind)
                .filter(|u| {
                    areas
                        .iter()
                        .any(|a| a.contains(&u.jurisdiction) || u.jurisdiction.contains(a))
                })
                .collect();
            takers.sort_by(|a, b| a.code.cmp(&b.code));
            takers
        };
        let mut tasks = Vec::new();
        for task in &self.tasks {
            for unit in answering(task.unit_kind) {
                tasks.push(PlannedTask {
                    unit: unit.code.clone(),
                    title: task.title.clone(),
                    deadline: now + chrono::Duration::hours(i64::from(task.hours)),
                });
            }
        }
        if tasks.is_empty() {
            return Err(InvalidInput::unknown(
                "areas",
                "no active unit of the plan's kinds answers for these areas",
            )
            .into());
        }
        if tasks.len() > MAX_OPENED_TASKS {
            return Err(InvalidInput::new(
                "areas",
                format!(
                    "the plan would give {} tasks; at most {MAX_OPENED_TASKS}",
                    tasks.len()
                ),
            )
            .into());
        }
        let notices = self
            .notices
            .iter()
            .filter_map(|n| {
                let told: Vec<String> = answering(n.unit_kind)
                    .into_iter()
                    .map(|u| u.code.clone())
                    .take(super::incident::MAX_NOTIFIED)
                    .collect();
                (!told.is_empty()).then(|| (told, n.text.clone()))
            })
            .collect();
        let incident = NewIncident {
            kind: self.kind,
            severity: self.severity,
            title: title.unwrap_or_else(|| self.name.clone()),
            description: String::new(),
            areas,
            zone: None,
            lead_unit: tasks.first().map(|t| t.unit.clone()),
            warnings: Vec::new(),
            plan: Some(self.id.clone()),
            adjustments: self.adjustments.clone(),
            link_classes: self.link_classes.clone(),
        };
        Ok(Opening {
            incident,
            tasks,
            resources: self.resources.clone(),
            notices,
        })
    }
}

/// The rule adjustments a warning of `hazard` at `level` brings when it is issued without its
/// own: those of the plans that apply to it, each rule as the first such plan (by id) sets it.
pub fn warning_adjustments(
    plans: &[ContingencyPlan],
    hazard: Hazard,
    level: WarningLevel,
) -> Vec<RuleAdjustment> {
    let mut applying: Vec<&ContingencyPlan> = plans
        .iter()
        .filter(|p| p.applies_to(hazard, level))
        .collect();
    applying.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<RuleAdjustment> = Vec::new();
    for adjustment in applying.iter().flat_map(|p| &p.adjustments) {
        if !out.iter().any(|a| a.rule == adjustment.rule) {
            out.push(adjustment.clone());
        }
    }
    out
}

/// The plans a new city starts with: the rainstorm and typhoon responses of a city's drainage,
/// traffic police and street offices.
pub fn default_plans() -> Vec<ContingencyPlan> {
    let task = |unit_kind, title: &str, hours| PlanTask {
        unit_kind,
        title: title.into(),
        hours,
    };
    vec![
        ContingencyPlan {
            id: "rainstorm".into(),
            name: "暴雨内涝应急预案".into(),
            hazard: Hazard::Rainstorm,
            from_level: WarningLevel::Yellow,
            kind: IncidentKind::NaturalDisaster,
            severity: Severity::III,
            tasks: vec![
                task(UnitKind::Water, "排查下立交、低洼路段积水，启动泵站强排", 2),
                task(UnitKind::PublicSecurity, "积水路段交通管制与疏导", 2),
                task(
                    UnitKind::StreetOffice,
                    "巡查辖区积水点，转移危险区域人员",
                    4,
                ),
            ],
            resources: vec![
                PlanResource {
                    kind: ResourceKind::PumpTruck,
                    name: "移动泵车".into(),
                    quantity: 4,
                },
                PlanResource {
                    kind: ResourceKind::Sandbags,
                    name: "防汛沙袋".into(),
                    quantity: 2000,
                },
            ],
            adjustments: Vec::new(),
            // Water levels in underpasses and manholes; road flooding, blocked sewers, collapses.
            link_classes: ["water_level", "manhole_water", "20406", "20404", "20401"]
                .map(String::from)
                .to_vec(),
            notices: vec![PlanNotice {
                unit_kind: UnitKind::Housing,
                text:
                    "暴雨内涝应急响应已启动：请排查辖区地下空间、危旧房屋进水风险，做好人员转移准备"
                        .into(),
            }],
        },
        ContingencyPlan {
            id: "typhoon".into(),
            name: "台风防御应急预案".into(),
            hazard: Hazard::Typhoon,
            from_level: WarningLevel::Blue,
            kind: IncidentKind::NaturalDisaster,
            severity: Severity::II,
            tasks: vec![
                task(UnitKind::Greening, "加固、修剪行道树，清理倒伏树木", 6),
                task(UnitKind::Housing, "排查危旧房屋、户外广告设施", 6),
                task(UnitKind::StreetOffice, "转移临时建筑与危旧房屋人员", 4),
            ],
            resources: vec![PlanResource {
                kind: ResourceKind::Team,
                name: "抢险队".into(),
                quantity: 2,
            }],
            adjustments: Vec::new(),
            link_classes: Vec::new(),
            notices: vec![PlanNotice {
                unit_kind: UnitKind::Water,
                text: "台风防御应急响应已启动：请预降河道水位，检查泵站备用电源".into(),
            }],
        },
    ]
}
