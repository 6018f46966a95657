//! Streaming rules as data: what to watch, when it is trouble, when it is over.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::{device_id, metric_key, WarningLevel};
use crate::area::AreaCode;
use crate::case::china_time;
use crate::InvalidInput;

/// Which devices a rule watches. Every matching rule runs on its own: one device can carry a
/// city-wide rule and a stricter one for its district, each with its own alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleScope {
    /// Every device reporting the indicator.
    All,
    DeviceType {
        device_type: String,
    },
    Device {
        device: String,
    },
    /// Devices located in this area subtree.
    Area {
        area: AreaCode,
    },
}

impl RuleScope {
    /// Whether a device of type `kind`, id `id`, located in `area`, is in the scope.
    pub fn takes(&self, kind: &str, id: &str, area: &AreaCode) -> bool {
        match self {
            RuleScope::All => true,
            RuleScope::DeviceType { device_type } => kind == device_type,
            RuleScope::Device { device } => id == device,
            RuleScope::Area { area: scope } => scope.contains(area),
        }
    }
}

/// When a reading is trouble, and (hysteresis) when trouble is over. Without `clear` an
/// alarm clears as soon as the trigger no longer holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// value > `value`; clears at value <= `clear`.
    Above { value: f64, clear: Option<f64> },
    /// value < `value`; clears at value >= `clear`.
    Below { value: f64, clear: Option<f64> },
    /// value outside [min, max]; clears when back inside by `margin`.
    Outside {
        min: f64,
        max: f64,
        margin: Option<f64>,
    },
    /// Rising faster than `per_minute` units a minute between consecutive readings; clears
    /// when the rise slows to `clear` or less.
    Rising { per_minute: f64, clear: Option<f64> },
    /// Falling faster than `per_minute` units a minute.
    Falling { per_minute: f64, clear: Option<f64> },
    /// No reading for `minutes`; clears with the next reading.
    Silent { minutes: u32 },
}

/// Days and hours (Asia/Shanghai) a rule may raise alarms, e.g. rush hours on workdays. A
/// window whose `to` is before its `from` runs over midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// ISO weekdays, 1 = Monday .. 7 = Sunday; empty means every day.
    #[serde(default)]
    pub days: Vec<u8>,
    /// "HH:MM"
    pub from: String,
    /// "HH:MM", exclusive.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryRule {
    pub id: String,
    pub name: String,
    pub indicator: String,
    pub scope: RuleScope,
    pub condition: Condition,
    /// The trigger must hold this long ("above 30 cm for 10 minutes").
    #[serde(default)]
    pub duration_secs: u32,
    /// The trigger must hold for this many readings in a row ("5 readings in a row").
    #[serde(default = "one")]
    pub repeat: u32,
    pub level: WarningLevel,
    #[serde(default)]
    pub schedule: Option<Schedule>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The conditions warnings in force put in place of `condition` for the devices of their
    /// areas ([`crate::emergency::effective_rules`]), gravest first. Never stored nor sent:
    /// what is in force is reckoned from the warnings.
    #[serde(skip)]
    pub overrides: Vec<ConditionOverride>,
}

/// A warning's condition for a rule, for the devices of the warning's areas.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionOverride {
    pub areas: Vec<AreaCode>,
    pub condition: Condition,
    /// The warning's (or the incident's) id.
    pub warning: String,
}

impl TelemetryRule {
    /// The condition the rule judges a device of `area` by: a warning's, while one in force
    /// adjusts the rule there, else its own.
    pub fn condition_for(&self, area: &AreaCode) -> &Condition {
        self.overrides
            .iter()
            .find(|o| o.areas.iter().any(|a| a.contains(area)))
            .map_or(&self.condition, |o| &o.condition)
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

const MAX_DURATION_SECS: u32 = 7 * 24 * 3600;

impl TelemetryRule {
    /// Checks the rule can run; the error names the offending field as the API spells it.
    pub fn validate(&self, indicator_known: impl Fn(&str) -> bool) -> Result<(), InvalidInput> {
        device_id("id", &self.id)?;
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(InvalidInput::new("name", "a name has 1 to 100 characters"));
        }
        metric_key("indicator", &self.indicator)?;
        if !indicator_known(&self.indicator) {
            return Err(InvalidInput::unknown(
                "indicator",
                format!("{} is not in the indicator catalogue", self.indicator),
            ));
        }
        match &self.scope {
            RuleScope::All => {}
            RuleScope::DeviceType { device_type } => metric_key("scope.device_type", device_type)?,
            RuleScope::Device { device } => device_id("scope.device", device)?,
            RuleScope::Area { .. } => {}
        }
        check_condition("condition", &self.condition)?;
        if self.duration_secs > MAX_DURATION_SECS {
            return Err(InvalidInput::new(
                "duration_secs",
                "at most a week (604,800 s)",
            ));
        }
        if !(1..=10_000).contains(&self.repeat) {
            return Err(InvalidInput::new("repeat", "1 to 10,000 readings in a row"));
        }
        if matches!(self.condition, Condition::Silent { .. })
            && (self.duration_secs > 0 || self.repeat > 1)
        {
            return Err(InvalidInput::inconsistent(
                "condition",
                "a silence rule has its own duration (minutes); leave duration_secs and repeat unset",
            ));
        }
        if let Some(schedule) = &self.schedule {
            schedule.window()?;
        }
        Ok(())
    }

    /// The longest stretch of past readings the rule's state depends on, in milliseconds:
    /// how much history a restart must replay to rebuild it.
    pub fn memory_ms(&self) -> i64 {
        let silent = match self.condition {
            Condition::Silent { minutes } => i64::from(minutes) * 60_000,
            _ => 0,
        };
        (i64::from(self.duration_secs) * 1000).max(silent)
    }
}

impl Schedule {
    /// (days bitmask over 1..=7, from minute of day, to minute of day)
    pub(crate) fn window(&self) -> Result<(u8, u16, u16), InvalidInput> {
        let mut days = 0u8;
        for day in &self.days {
            if !(1..=7).contains(day) {
                return Err(InvalidInput::new(
                    "schedule.days",
                    "days are 1 (Monday) to 7 (Sunday)",
                ));
            }
            days |= 1 << day;
        }
        if days == 0 {
            days = 0b1111_1110;
        }
        let minute = |field: &str, text: &str| -> Result<u16, InvalidInput> {
            let parsed = text.split_once(':').and_then(|(h, m)| {
                let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
                (text.len() == 5 && h < 24 && m < 60).then_some(h * 60 + m)
            });
            parsed.ok_or_else(|| InvalidInput::new(field, "a time of day is HH:MM, e.g. 07:30"))
        };
        let from = minute("schedule.from", &self.from)?;
        let to = minute("schedule.to", &self.to)?;
        if from == to {
            return Err(InvalidInput::inconsistent(
                "schedule.to",
                "the window is empty; leave the schedule out to run all day",
            ));
        }
        Ok((days, from, to))
    }
}

/// A schedule checked in constant time on the hot path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompiledSchedule {
    days: u8,
    from: u16,
    to: u16,
}

impl CompiledSchedule {
    pub(crate) fn new(schedule: &Schedule) -> Option<CompiledSchedule> {
        let (days, from, to) = schedule.window().ok()?;
        Some(CompiledSchedule { days, from, to })
    }

    pub(crate) fn contains(&self, at_ms: i64) -> bool {
        let Some(at) = DateTime::<Utc>::from_timestamp_millis(at_ms) else {
            return false;
        };
        let local = at.with_timezone(&china_time());
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let weekday = local.weekday().number_from_monday() as u8;
        if self.from < self.to {
            self.days & (1 << weekday) != 0 && (self.from..self.to).contains(&minute)
        } else if minute >= self.from {
            self.days & (1 << weekday) != 0
        } else if minute < self.to {
            // The part after midnight belongs to the window that opened the day before.
            let yesterday = if weekday == 1 { 7 } else { weekday - 1 };
            self.days & (1 << yesterday) != 0
        } else {
            false
        }
    }
}

/// The rules a new city starts with: flooding, gas, manhole covers, air, water mains,
/// crowds and silent gauges. Cities change them through the API.
pub fn default_rules() -> Vec<TelemetryRule> {
    let rule = |id: &str, name: &str, indicator: &str, condition, duration_secs, repeat, level| {
        TelemetryRule {
            id: id.into(),
            name: name.into(),
            indicator: indicator.into(),
            scope: RuleScope::All,
            condition,
            duration_secs,
            repeat,
            level,
            schedule: None,
            enabled: true,
            overrides: Vec::new(),
        }
    };
    use Condition::*;
    use WarningLevel::*;
    vec![
        rule(
            "flood-15cm",
            "道路积水超过15厘米",
            "water_level",
            Above {
                value: 15.0,
                clear: Some(10.0),
            },
            0,
            2,
            Yellow,
        ),
        rule(
            "flood-30cm-10min",
            "道路积水超过30厘米持续10分钟",
            "water_level",
            Above {
                value: 30.0,
                clear: Some(25.0),
            },
            600,
            1,
            Orange,
        ),
        rule(
            "flood-50cm",
            "道路积水超过50厘米",
            "water_level",
            Above {
                value: 50.0,
                clear: Some(40.0),
            },
            0,
            2,
            Red,
        ),
        rule(
            "gas-warning",
            "燃气浓度超过10%LEL（连续3次）",
            "gas_concentration",
            Above {
                value: 10.0,
                clear: Some(6.0),
            },
            0,
            3,
            Orange,
        ),
        rule(
            "gas-danger",
            "燃气浓度超过25%LEL",
            "gas_concentration",
            Above {
                value: 25.0,
                clear: Some(15.0),
            },
            0,
            1,
            Red,
        ),
        rule(
            "manhole-tilt",
            "井盖倾斜超过15度（连续2次）",
            "manhole_tilt",
            Above {
                value: 15.0,
                clear: Some(5.0),
            },
            0,
            2,
            Orange,
        ),
        rule(
            "manhole-water",
            "井内水位超过80厘米持续5分钟",
            "manhole_water",
            Above {
                value: 80.0,
                clear: Some(70.0),
            },
            300,
            1,
            Yellow,
        ),
        rule(
            "pm25-heavy",
            "PM2.5重度污染（超过150持续1小时）",
            "pm25",
            Above {
                value: 150.0,
                clear: Some(115.0),
            },
            3600,
            1,
            Yellow,
        ),
        rule(
            "pm25-severe",
            "PM2.5严重污染（超过250持续1小时）",
            "pm25",
            Above {
                value: 250.0,
                clear: Some(200.0),
            },
            3600,
            1,
            Orange,
        ),
        rule(
            "pipe-flow-range",
            "供水管网流量异常（连续3次超出60-140 l/s）",
            "pipe_flow",
            Outside {
                min: 60.0,
                max: 140.0,
                margin: Some(5.0),
            },
            0,
            3,
            Orange,
        ),
        rule(
            "pipe-flow-surge",
            "供水管网流量骤升（每分钟超过20 l/s）",
            "pipe_flow",
            Rising {
                per_minute: 20.0,
                clear: Some(5.0),
            },
            0,
            1,
            Blue,
        ),
        rule(
            "crowd-dense",
            "人群密度超过3人/平方米持续5分钟",
            "crowd_density",
            Above {
                value: 3.0,
                clear: Some(2.5),
            },
            300,
            1,
            Orange,
        ),
        rule(
            "crowd-critical",
            "人群密度超过5人/平方米",
            "crowd_density",
            Above {
                value: 5.0,
                clear: Some(4.0),
            },
            0,
            2,
            Red,
        ),
        rule(
            "water-gauge-silent",
            "积水监测点30分钟无数据",
            "water_level",
            Silent { minutes: 30 },
            0,
            1,
            Blue,
        ),
        rule(
            "gas-detector-silent",
            "燃气监测点30分钟无数据",
            "gas_concentration",
            Silent { minutes: 30 },
            0,
            1,
            Blue,
        ),
    ]
}

/// Checks a rule's condition can run; errors name its fields under `prefix` (`condition`).
pub fn check_condition(prefix: &str, condition: &Condition) -> Result<(), InvalidInput> {
    let finite = |field: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(InvalidInput::new(field, "must be a finite number"))
        }
    };
    match condition {
        Condition::Above { value, clear } => {
            finite(&format!("{prefix}.value"), *value)?;
            if let Some(clear) = clear {
                finite(&format!("{prefix}.clear"), *clear)?;
                if clear > value {
                    return Err(InvalidInput::inconsistent(
                        format!("{prefix}.clear"),
                        "an 'above' alarm clears at or below its trigger value",
                    ));
                }
            }
        }
        Condition::Below { value, clear } => {
            finite(&format!("{prefix}.value"), *value)?;
            if let Some(clear) = clear {
                finite(&format!("{prefix}.clear"), *clear)?;
                if clear < value {
                    return Err(InvalidInput::inconsistent(
                        format!("{prefix}.clear"),
                        "a 'below' alarm clears at or above its trigger value",
                    ));
                }
            }
        }
        Condition::Outside { min, max, margin } => {
            finite(&format!("{prefix}.min"), *min)?;
            finite(&format!("{prefix}.max"), *max)?;
            if min >= max {
                return Err(InvalidInput::inconsistent(
                    format!("{prefix}.max"),
                    "max must be above min",
                ));
            }
            if let Some(margin) = margin {
                finite(&format!("{prefix}.margin"), *margin)?;
                if *margin < 0.0 || 2.0 * margin >= max - min {
                    return Err(InvalidInput::inconsistent(
                        format!("{prefix}.margin"),
                        "the margin is at least 0 and leaves part of the range inside",
                    ));
                }
            }
        }
        Condition::Rising { per_minute, clear } | Condition::Falling { per_minute, clear } => {
            finite(&format!("{prefix}.per_minute"), *per_minute)?;
            if *per_minute <= 0.0 {
                return Err(InvalidInput::new(
                    format!("{prefix}.per_minute"),
                    "a rate of change is above 0",
                ));
            }
            if let Some(clear) = clear {
                finite(&format!("{prefix}.clear"), *clear)?;
                if clear > per_minute {
                    return Err(InvalidInput::inconsistent(
                        format!("{prefix}.clear"),
                        "the clearing rate is at most the trigger rate",
                    ));
                }
            }
        }
        Condition::Silent { minutes } => {
            if !(1..=10_080).contains(minutes) {
                return Err(InvalidInput::new(
                    format!("{prefix}.minutes"),
                    "silence is 1 to 10,080 minutes (a week)",
                ));
            }
        }
    }
    Ok(())
}
