//! Contingency plans (应急预案): for a hazard from a warning level up, what an incident opened
//! from the plan starts with: a task for each unit of the named kinds that answers for one of
//! the affected areas, the resources to bring, and the telemetry rules to judge differently
//! while the response runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::incident::{IncidentKind, NewIncident, ResourceKind};
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
    #[serde(default)]
    pub adjustments: Vec<RuleAdjustment>,
}

/// The most tasks of a plan, and of the tasks it opens.
pub const MAX_PLAN_TASKS: usize = 32;
pub const MAX_OPENED_TASKS: usize = 100;

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

    /// What opening an incident from the plan for `areas` at `now` starts with: the incident
    /// and a task for every active unit of a named kind whose
    /// jurisdiction overlaps an affected area, street offices of the affected streets
    /// included. The response level is not among them: a leader decides it.
    pub fn open(
        &self,
        title: Option<String>,
        areas: Vec<AreaCode>,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<(NewIncident, Vec<PlannedTask>), EmergencyError> {
        check_areas("areas", &areas, super::incident::MAX_AREAS)?;
        let overlaps = |j: &AreaCode| areas.iter().any(|a| a.contains(j) || j.contains(a));
        let mut tasks = Vec::new();
        for task in &self.tasks {
            let mut takers: Vec<&Unit> = units
                .iter()
                .filter(|u| u.retired.is_none() && u.kind == task.unit_kind)
                .filter(|u| overlaps(&u.jurisdiction))
                .collect();
            takers.sort_by(|a, b| a.code.cmp(&b.code));
            for unit in takers {
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
        let incident = NewIncident {
            kind: self.kind,
            severity: self.severity,
            title: title.unwrap_or_else(|| self.name.clone()),
            description: String::new(),
            areas,
            lead_unit: tasks.first().map(|t| t.unit.clone()),
            warnings: Vec::new(),
            plan: Some(self.id.clone()),
            adjustments: self.adjustments.clone(),
        };
        Ok((incident, tasks))
    }
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
        },
    ]
}
