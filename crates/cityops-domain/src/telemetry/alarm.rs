//! The alarm record and its legal life, and the grouping of alarms into incidents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AlarmEventKind, WarningLevel};
use crate::area::AreaCode;
use crate::case::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    ActiveUnacknowledged,
    ActiveAcknowledged,
    ClearedUnacknowledged,
    /// Over and seen: the alarm is history.
    ClearedAcknowledged,
}

impl AlarmState {
    pub const ALL: [AlarmState; 4] = [
        AlarmState::ActiveUnacknowledged,
        AlarmState::ActiveAcknowledged,
        AlarmState::ClearedUnacknowledged,
        AlarmState::ClearedAcknowledged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::ActiveUnacknowledged => "active_unacknowledged",
            AlarmState::ActiveAcknowledged => "active_acknowledged",
            AlarmState::ClearedUnacknowledged => "cleared_unacknowledged",
            AlarmState::ClearedAcknowledged => "cleared_acknowledged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlarmError {
    #[error("the alarm is already acknowledged")]
    AlreadyAcknowledged,
    #[error("{event} is not possible on an alarm that is {state}")]
    Illegal {
        event: &'static str,
        state: &'static str,
    },
}

/// One alarm: a (device, rule) in trouble, from raise to clear, with who saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub device_id: String,
    pub indicator: String,
    pub level: WarningLevel,
    pub active: bool,
    pub acknowledged: bool,
    pub area: AreaCode,
    pub location: Location,
    pub unit_grid: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub first_value: f64,
    pub last_value: f64,
    pub min_value: f64,
    pub max_value: f64,
    /// Readings that met the trigger while the alarm was active.
    pub readings: u64,
    /// Times the alarm came back within the flap window instead of opening a new one.
    pub flaps: u32,
    /// The case the alarm opened or joined.
    pub case_id: Option<String>,
}

impl Alarm {
    /// The alarm a `Raised` event creates: active, unacknowledged, at the device's place.
    pub fn raise(
        event: &super::AlarmEvent,
        rule: &super::TelemetryRule,
        device: &super::Device,
        at: DateTime<Utc>,
    ) -> Alarm {
        Alarm {
            id: event.alarm_id.to_string(),
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            device_id: device.id.clone(),
            indicator: rule.indicator.clone(),
            level: event.level,
            active: true,
            acknowledged: false,
            area: device.area.clone(),
            location: device.location,
            unit_grid: device.unit_grid.clone(),
            raised_at: at,
            last_at: at,
            cleared_at: None,
            acknowledged_at: None,
            acknowledged_by: None,
            first_value: event.value,
            last_value: event.value,
            min_value: event.value,
            max_value: event.value,
            readings: 1,
            flaps: 0,
            case_id: None,
        }
    }

    pub fn state(&self) -> AlarmState {
        match (self.active, self.acknowledged) {
            (true, false) => AlarmState::ActiveUnacknowledged,
            (true, true) => AlarmState::ActiveAcknowledged,
            (false, false) => AlarmState::ClearedUnacknowledged,
            (false, true) => AlarmState::ClearedAcknowledged,
        }
    }

    /// Applies an engine transition (not `Raised`, which creates the alarm).
    pub fn apply(
        &mut self,
        kind: AlarmEventKind,
        value: f64,
        at: DateTime<Utc>,
    ) -> Result<(), AlarmError> {
        let illegal = |event| AlarmError::Illegal {
            event,
            state: self.state().as_str(),
        };
        match kind {
            AlarmEventKind::Raised => return Err(illegal("raise")),
            AlarmEventKind::Repeated if !self.active => return Err(illegal("repeat")),
            AlarmEventKind::Cleared if !self.active => return Err(illegal("clear")),
            AlarmEventKind::Reopened if self.active => return Err(illegal("reopen")),
            AlarmEventKind::Repeated => self.readings += 1,
            AlarmEventKind::Cleared => {
                self.active = false;
                self.cleared_at = Some(at);
            }
            AlarmEventKind::Reopened => {
                self.active = true;
                self.cleared_at = None;
                self.flaps += 1;
                self.readings += 1;
            }
        }
        self.last_at = at;
        self.last_value = value;
        if kind != AlarmEventKind::Cleared {
            self.min_value = self.min_value.min(value);
            self.max_value = self.max_value.max(value);
        }
        Ok(())
    }

    pub fn acknowledge(&mut self, by: &str, at: DateTime<Utc>) -> Result<(), AlarmError> {
        if self.acknowledged {
            return Err(AlarmError::AlreadyAcknowledged);
        }
        self.acknowledged = true;
        self.acknowledged_at = Some(at);
        self.acknowledged_by = Some(by.to_owned());
        Ok(())
    }
}

/// The legal moves between alarm states, for tests and for readers: raise enters
/// active-unacknowledged; acknowledge sets the flag once; clear and reopen flip activity.
pub fn legal(from: Option<AlarmState>, to: AlarmState) -> bool {
    use AlarmState::*;
    match (from, to) {
        (None, ActiveUnacknowledged) => true,
        (None, _) => false,
        (Some(a), b) if a == b => true,
        (Some(ActiveUnacknowledged), ActiveAcknowledged | ClearedUnacknowledged) => true,
        (Some(ActiveAcknowledged), ClearedAcknowledged) => true,
        (Some(ClearedUnacknowledged), ActiveUnacknowledged | ClearedAcknowledged) => true,
        (Some(ClearedAcknowledged), ActiveAcknowledged) => true,
        _ => false,
    }
}

/// An incident: alarms of one category close together in space and time share one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub category: String,
    pub location: Location,
    pub at_ms: i64,
    pub case_id: String,
}

/// Remembers recent alarm-opened cases so nearby alarms of the same category join them.
#[derive(Debug, Clone)]
pub struct IncidentGrouper {
    radius_m: f64,
    window_ms: i64,
    recent: Vec<Incident>,
}

impl IncidentGrouper {
    pub fn new(radius_m: f64, window_ms: i64) -> IncidentGrouper {
        IncidentGrouper {
            radius_m,
            window_ms,
            recent: Vec::new(),
        }
    }

    /// The case an alarm of `category` at `location` should join, if any.
    pub fn find(&mut self, category: &str, location: Location, at_ms: i64) -> Option<String> {
        let window = self.window_ms;
        self.recent.retain(|i| at_ms - i.at_ms <= window);
        self.recent
            .iter()
            .rev()
            .find(|i| i.category == category && distance_m(i.location, location) <= self.radius_m)
            .map(|i| i.case_id.clone())
    }

    pub fn record(&mut self, incident: Incident) {
        self.recent.push(incident);
    }

    /// Forgets a case that is no longer open, so new alarms open a new one.
    pub fn forget(&mut self, case_id: &str) {
        self.recent.retain(|i| i.case_id != case_id);
    }
}

/// Distance on the sphere in metres (haversine); exact enough for "nearby" in a city.
pub fn distance_m(a: Location, b: Location) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_alarm_states_are_listed_in_the_order_of_an_alarms_life() {
        // Exhaustive: a new state does not compile until it has its place in the sequence,
        // and then this fails until `ALL` lists it there too.
        let next = |state: AlarmState| match state {
            AlarmState::ActiveUnacknowledged => Some(AlarmState::ActiveAcknowledged),
            AlarmState::ActiveAcknowledged => Some(AlarmState::ClearedUnacknowledged),
            AlarmState::ClearedUnacknowledged => Some(AlarmState::ClearedAcknowledged),
            AlarmState::ClearedAcknowledged => None,
        };
        let states: Vec<AlarmState> =
            std::iter::successors(Some(AlarmState::ActiveUnacknowledged), |s| next(*s)).collect();
        assert_eq!(states, AlarmState::ALL);
    }

    #[test]
    fn nearby_alarms_of_one_category_share_an_incident() {
        let mut grouper = IncidentGrouper::new(500.0, 30 * 60_000);
        let bund = Location {
            lon: 121.490,
            lat: 31.240,
        };
        grouper.record(Incident {
            category: "20406".into(),
            location: bund,
            at_ms: 0,
            case_id: "c1".into(),
        });
        let near = Location {
            lon: 121.492,
            lat: 31.241,
        };
        let far = Location {
            lon: 121.520,
            lat: 31.240,
        };
        assert_eq!(grouper.find("20406", near, 60_000).as_deref(), Some("c1"));
        assert_eq!(grouper.find("20403", near, 60_000), None);
        assert_eq!(grouper.find("20406", far, 60_000), None);
        assert_eq!(grouper.find("20406", near, 31 * 60_000), None);
    }

    #[test]
    fn distance_matches_a_known_pair() {
        // People's Square to Lujiazui is about 3.2 km.
        let d = distance_m(
            Location {
                lon: 121.4737,
                lat: 31.2304,
            },
            Location {
                lon: 121.5055,
                lat: 31.2397,
            },
        );
        assert!((3000.0..3400.0).contains(&d), "{d}");
    }
}
