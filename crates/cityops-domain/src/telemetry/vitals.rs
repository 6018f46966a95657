//! Vital signs: live aggregates of the newest readings per area and indicator.

use serde::Serialize;

use super::{Engine, WarningLevel};
use crate::area::AreaCode;

/// One indicator over one area, from the newest reading of each device reporting it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VitalSign {
    pub area: AreaCode,
    pub indicator: String,
    /// Devices whose newest reading is recent enough to count.
    pub devices: u64,
    pub latest_at_ms: i64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Newest readings outside the indicator's normal range.
    pub abnormal: u64,
}

/// Everything the city screen shows of the vital signs at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VitalSigns {
    pub at_ms: i64,
    pub signs: Vec<VitalSign>,
    /// Active alarms per area (city, districts, streets) and level, blue to red.
    pub alarms: Vec<(AreaCode, [u64; 4])>,
}

#[derive(Clone, Copy)]
struct Acc {
    devices: u64,
    latest: i64,
    sum: f64,
    min: f64,
    max: f64,
    abnormal: u64,
}

impl VitalSigns {
    /// Aggregates the engine's newest readings no older than `fresh_ms` before `now_ms`, for
    /// the city, every district and every street, in one pass over the series.
    pub fn compute(engine: &Engine, now_ms: i64, fresh_ms: i64) -> VitalSigns {
        let indicators = engine.indicators().len();
        let empty = Acc {
            devices: 0,
            latest: i64::MIN,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            abnormal: 0,
        };
        let mut acc = vec![empty; engine.area_count() * indicators];
        for (indicator, at, value, path) in engine.latest() {
            if now_ms - at > fresh_ms {
                continue;
            }
            let normal = engine.indicator(indicator).is_normal(value);
            for area in path.into_iter().filter(|&a| a != u32::MAX) {
                let a = &mut acc[area as usize * indicators + indicator as usize];
                a.devices += 1;
                a.latest = a.latest.max(at);
                a.sum += value;
                a.min = a.min.min(value);
                a.max = a.max.max(value);
                a.abnormal += u64::from(!normal);
            }
        }
        let mut signs = Vec::new();
        for (i, a) in acc.iter().enumerate() {
            if a.devices == 0 {
                continue;
            }
            signs.push(VitalSign {
                area: engine.area((i / indicators) as u32).clone(),
                indicator: engine.indicator((i % indicators) as u16).key.clone(),
                devices: a.devices,
                latest_at_ms: a.latest,
                mean: a.sum / a.devices as f64,
                min: a.min,
                max: a.max,
                abnormal: a.abnormal,
            });
        }
        signs.sort_by(|a, b| (a.area.as_str(), &a.indicator).cmp(&(b.area.as_str(), &b.indicator)));
        let mut alarms = vec![[0u64; 4]; engine.area_count()];
        for (level, path) in engine.active_alarm_levels() {
            for area in path.into_iter().filter(|&a| a != u32::MAX) {
                alarms[area as usize][level as usize] += 1;
            }
        }
        let mut alarms: Vec<(AreaCode, [u64; 4])> = alarms
            .into_iter()
            .enumerate()
            .filter(|(_, counts)| counts.iter().any(|&c| c > 0))
            .map(|(i, counts)| (engine.area(i as u32).clone(), counts))
            .collect();
        alarms.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        VitalSigns {
            at_ms: now_ms,
            signs,
            alarms,
        }
    }

    pub fn level_names() -> [&'static str; 4] {
        WarningLevel::ALL.map(WarningLevel::as_str)
    }
}
