//! Emergencies (应急): early warnings (预警) of a hazard for some areas, incidents (突发事件)
//! with their severity, the response level a leader decides, the joint tasks of several units
//! (联勤联动) and the situation reports, and the contingency plans (预案) that open them.
//!
//! Three scales are kept apart, as the law keeps them: an incident's [`Severity`] (I-IV), a
//! warning's [`WarningLevel`] (red, orange, yellow, blue) and the [`ResponseLevel`] (一级 to
//! 四级). A warning may exist without any incident, and a response level is only ever a
//! leader's recorded decision with its reason, never derived from the others.

pub mod incident;
pub mod plan;
pub mod warning;
pub mod zone;

use serde::{Deserialize, Serialize};

pub use crate::telemetry::WarningLevel;
pub use incident::{
    Incident, IncidentCommand, IncidentEvent, IncidentKind, IncidentState, JointTask, LinkKind,
    NewIncident, Notice, Resource, ResourceKind, ResourceState, ResponseDecision, TaskState,
};
pub use plan::{
    default_plans, warning_adjustments, ContingencyPlan, Opening, PlanNotice, PlanResource,
    PlanTask, PlannedTask,
};
pub use warning::{
    effective_rules, NewWarning, RuleAdjustment, Warning, WarningChange, WarningSource,
    WarningUpdate,
};
pub use zone::Zone;

use crate::actor::Role;
use crate::InvalidInput;

/// What a warning is about. The national early-warning system's hazards that concern a city's
/// operations; `other` for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    Rainstorm,
    Typhoon,
    HighTemperature,
    ColdWave,
    Fog,
    Flood,
    Gale,
    Thunderstorm,
    Snowstorm,
    Haze,
    Other,
}

impl Hazard {
    pub const ALL: [Hazard; 11] = [
        Hazard::Rainstorm,
        Hazard::Typhoon,
        Hazard::HighTemperature,
        Hazard::ColdWave,
        Hazard::Fog,
        Hazard::Flood,
        Hazard::Gale,
        Hazard::Thunderstorm,
        Hazard::Snowstorm,
        Hazard::Haze,
        Hazard::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hazard::Rainstorm => "rainstorm",
            Hazard::Typhoon => "typhoon",
            Hazard::HighTemperature => "high_temperature",
            Hazard::ColdWave => "cold_wave",
            Hazard::Fog => "fog",
            Hazard::Flood => "flood",
            Hazard::Gale => "gale",
            Hazard::Thunderstorm => "thunderstorm",
            Hazard::Snowstorm => "snowstorm",
            Hazard::Haze => "haze",
            Hazard::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Hazard::Rainstorm => "暴雨",
            Hazard::Typhoon => "台风",
            Hazard::HighTemperature => "高温",
            Hazard::ColdWave => "寒潮",
            Hazard::Fog => "大雾",
            Hazard::Flood => "洪水",
            Hazard::Gale => "大风",
            Hazard::Thunderstorm => "雷电",
            Hazard::Snowstorm => "暴雪",
            Hazard::Haze => "霾",
            Hazard::Other => "其他",
        }
    }

    pub fn parse(text: &str) -> Option<Hazard> {
        Hazard::ALL.into_iter().find(|h| h.as_str() == text)
    }

    /// The hazard a warning's event names, in Chinese ("暴雨红色预警信号") or English
    /// ("Rainstorm Warning"), as a weather service's alert states it; none when it names
    /// none of them. The longer names are tried first: 雷暴大风 is a gale's, 暴雪 is not a
    /// rainstorm's.
    pub fn from_event(text: &str) -> Option<Hazard> {
        const NAMES: [(&str, Hazard); 24] = [
            ("雷暴大风", Hazard::Gale),
            ("暴雪", Hazard::Snowstorm),
            ("暴雨", Hazard::Rainstorm),
            ("台风", Hazard::Typhoon),
            ("高温", Hazard::HighTemperature),
            ("寒潮", Hazard::ColdWave),
            ("大雾", Hazard::Fog),
            ("洪水", Hazard::Flood),
            ("内涝", Hazard::Flood),
            ("大风", Hazard::Gale),
            ("雷电", Hazard::Thunderstorm),
            ("霾", Hazard::Haze),
            ("snowstorm", Hazard::Snowstorm),
            ("blizzard", Hazard::Snowstorm),
            ("rainstorm", Hazard::Rainstorm),
            ("heavy rain", Hazard::Rainstorm),
            ("typhoon", Hazard::Typhoon),
            ("high temperature", Hazard::HighTemperature),
            ("heat", Hazard::HighTemperature),
            ("cold wave", Hazard::ColdWave),
            ("fog", Hazard::Fog),
            ("flood", Hazard::Flood),
            ("thunder", Hazard::Thunderstorm),
            ("haze", Hazard::Haze),
        ];
        let lower = text.to_lowercase();
        NAMES
            .iter()
            .find(|(name, _)| lower.contains(name))
            .map(|(_, hazard)| *hazard)
            .or_else(|| lower.contains("gale").then_some(Hazard::Gale))
            .or_else(|| lower.contains("wind").then_some(Hazard::Gale))
    }
}

/// An incident's severity (事件分级): I is the gravest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "I")]
    I,
    #[serde(rename = "II")]
    II,
    #[serde(rename = "III")]
    III,
    #[serde(rename = "IV")]
    IV,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::I, Severity::II, Severity::III, Severity::IV];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::I => "I",
            Severity::II => "II",
            Severity::III => "III",
            Severity::IV => "IV",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Severity::I => "特别重大",
            Severity::II => "重大",
            Severity::III => "较大",
            Severity::IV => "一般",
        }
    }
}

/// The emergency response level (应急响应) a leader decides: 1 (一级) is the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResponseLevel {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "2")]
    Two,
    #[serde(rename = "3")]
    Three,
    #[serde(rename = "4")]
    Four,
}

impl ResponseLevel {
    pub const ALL: [ResponseLevel; 4] = [
        ResponseLevel::One,
        ResponseLevel::Two,
        ResponseLevel::Three,
        ResponseLevel::Four,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseLevel::One => "1",
            ResponseLevel::Two => "2",
            ResponseLevel::Three => "3",
            ResponseLevel::Four => "4",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ResponseLevel::One => "一级响应",
            ResponseLevel::Two => "二级响应",
            ResponseLevel::Three => "三级响应",
            ResponseLevel::Four => "四级响应",
        }
    }
}

/// Why an emergency action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmergencyError {
    #[error("a {role} may not {action}")]
    RoleNotAllowed {
        action: &'static str,
        role: &'static str,
    },
    #[error("the area {0} is outside your jurisdiction")]
    OutOfScope(String),
    #[error("task {0} is not your unit's")]
    NotYourTask(u32),
    /// The action does not fit where the warning or incident stands (lifted, stood down, a
    /// task already done): a conflict, not bad input.
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

/// The roles of an operations center's staff who issue warnings, open incidents and run them.
pub(crate) fn is_center_staff(role: Role) -> bool {
    matches!(
        role,
        Role::CenterLeader | Role::ShiftLead | Role::Dispatcher | Role::System
    )
}

/// A required text of 1 to `max` characters.
pub(crate) fn needed(field: &str, value: &str, max: usize) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    at_most(field, value, max)
}

pub(crate) fn at_most(field: &str, value: &str, max: usize) -> Result<(), InvalidInput> {
    if value.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// Areas: 1 to `max`, each a district or finer, none twice.
pub(crate) fn check_areas(
    field: &str,
    areas: &[crate::AreaCode],
    max: usize,
) -> Result<(), InvalidInput> {
    if areas.is_empty() {
        return Err(InvalidInput::new(field, "name at least one area"));
    }
    if areas.len() > max {
        return Err(InvalidInput::new(field, format!("at most {max} areas")));
    }
    for (i, area) in areas.iter().enumerate() {
        if area.district().is_none() {
            return Err(InvalidInput::new(
                format!("{field}[{i}]"),
                "an area is a district or a part of one",
            ));
        }
        if areas[..i].contains(area) {
            return Err(InvalidInput::new(
                format!("{field}[{i}]"),
                format!("{area} is named twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazards_are_read_from_an_alerts_event() {
        for (event, hazard) in [
            ("暴雨红色预警信号", Some(Hazard::Rainstorm)),
            ("上海市中心气象台发布暴雪黄色预警", Some(Hazard::Snowstorm)),
            ("雷暴大风黄色预警", Some(Hazard::Gale)),
            ("台风橙色预警", Some(Hazard::Typhoon)),
            ("Rainstorm Warning", Some(Hazard::Rainstorm)),
            ("Strong Wind Advisory", Some(Hazard::Gale)),
            ("地震速报", None),
        ] {
            assert_eq!(Hazard::from_event(event), hazard, "{event}");
        }
    }

    #[test]
    fn the_three_scales_are_named_as_the_law_names_them() {
        assert_eq!(
            serde_json::to_value(Severity::II).unwrap(),
            serde_json::json!("II")
        );
        assert_eq!(
            serde_json::to_value(ResponseLevel::Two).unwrap(),
            serde_json::json!("2")
        );
        assert!(
            ResponseLevel::One < ResponseLevel::Four,
            "一级 is the highest"
        );
        assert_eq!(WarningLevel::Red.number(), 1);
    }
}
