//! Digital vital signs (城市运行数字体征): indicators, devices, readings, the streaming rules
//! that watch them and the alarms the rules raise.
//!
//! Pure like the rest of the domain: the [`Engine`] is fed readings and clock ticks and answers
//! with alarm transitions; where readings come from (MQTT, HTTP) and where alarms are kept
//! live in the adapters above.

mod alarm;
mod engine;
mod replay;
mod rule;
mod vitals;

pub use alarm::{distance_m, legal, Alarm, AlarmError, AlarmState, Incident, IncidentGrouper};
pub use engine::{AlarmEvent, AlarmEventKind, DeviceIdx, Engine, EngineStats, Reading, Verdict};
pub use replay::{replay, Replay, ReplayEvent};
pub use rule::{
    check_condition, default_rules, Condition, ConditionOverride, RuleScope, Schedule,
    TelemetryRule,
};
pub use vitals::{VitalSign, VitalSigns};

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::area::AreaCode;
use crate::case::Location;
use crate::category::CategoryCode;
use crate::InvalidInput;

/// Warning level (预警级别) of the national emergency law. Red (level 1) is the highest; the
/// derived order follows severity, so `Red > Blue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 4] = [
        WarningLevel::Blue,
        WarningLevel::Yellow,
        WarningLevel::Orange,
        WarningLevel::Red,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Blue => "blue",
            WarningLevel::Yellow => "yellow",
            WarningLevel::Orange => "orange",
            WarningLevel::Red => "red",
        }
    }

    pub fn parse(text: &str) -> Option<WarningLevel> {
        WarningLevel::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// The law's numbering: 1 is red, 4 is blue.
    pub fn number(self) -> u8 {
        4 - self as u8
    }

    pub fn zh(self) -> &'static str {
        match self {
            WarningLevel::Blue => "蓝色预警",
            WarningLevel::Yellow => "黄色预警",
            WarningLevel::Orange => "橙色预警",
            WarningLevel::Red => "红色预警",
        }
    }
}

impl fmt::Display for WarningLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the city measures: a metric with its unit and normal range, and the category a
/// problem of it becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// The metric key devices report under, e.g. `water_level`.
    pub key: String,
    /// Unit of measure, e.g. `cm`, `%LEL`, `µg/m³`.
    pub unit: String,
    pub name_zh: String,
    pub name_en: String,
    pub normal_min: Option<f64>,
    pub normal_max: Option<f64>,
    /// The small class a problem of this indicator is filed under; a device watching a
    /// component reports problems under the component's own class instead.
    pub category: CategoryCode,
    /// The values a working sensor can report at all (its measuring range): a value outside
    /// is a fault or a forgery, goes to the dead letters and raises nothing. Catalogues
    /// stored before these existed have none: then only [`MAX_PLAUSIBLE_MAGNITUDE`] bounds.
    #[serde(default)]
    pub plausible_min: Option<f64>,
    #[serde(default)]
    pub plausible_max: Option<f64>,
}

/// No indicator a city measures reaches a billion in its unit; beyond it a value is a fault
/// whatever the catalogue says, and sums of such values overflow the rollups.
pub const MAX_PLAUSIBLE_MAGNITUDE: f64 = 1e9;

impl Indicator {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        metric_key("key", &self.key)?;
        if self.unit.chars().count() > 16 {
            return Err(InvalidInput::new(
                "unit",
                "a unit has at most 16 characters",
            ));
        }
        for (field, name) in [("name_zh", &self.name_zh), ("name_en", &self.name_en)] {
            let count = name.trim().chars().count();
            if !(1..=64).contains(&count) {
                return Err(InvalidInput::new(field, "a name has 1 to 64 characters"));
            }
        }
        for (field, value) in [
            ("normal_min", self.normal_min),
            ("normal_max", self.normal_max),
            ("plausible_min", self.plausible_min),
            ("plausible_max", self.plausible_max),
        ] {
            if value.is_some_and(|v| !v.is_finite() || v.abs() > MAX_PLAUSIBLE_MAGNITUDE) {
                return Err(InvalidInput::new(
                    field,
                    "must be a finite number of at most 1e9 in magnitude",
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.normal_min, self.normal_max) {
            if min > max {
                return Err(InvalidInput::new(
                    "normal_max",
                    "the normal range's maximum is below its minimum",
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.plausible_min, self.plausible_max) {
            if min > max {
                return Err(InvalidInput::new(
                    "plausible_max",
                    "the plausible range's maximum is below its minimum",
                ));
            }
        }
        // A normal value a sensor cannot report would make the normal range unreachable.
        for (field, value) in [
            ("normal_min", self.normal_min),
            ("normal_max", self.normal_max),
        ] {
            if value.is_some_and(|v| !self.is_plausible(v)) {
                return Err(InvalidInput::new(
                    field,
                    "the normal range lies inside the plausible range",
                ));
            }
        }
        Ok(())
    }

    /// Is a value inside the normal range?
    pub fn is_normal(&self, value: f64) -> bool {
        self.normal_min.is_none_or(|min| value >= min)
            && self.normal_max.is_none_or(|max| value <= max)
    }

    /// Could a working sensor have reported this value?
    pub fn is_plausible(&self, value: f64) -> bool {
        value.is_finite()
            && value.abs() <= MAX_PLAUSIBLE_MAGNITUDE
            && self.plausible_min.is_none_or(|min| value >= min)
            && self.plausible_max.is_none_or(|max| value <= max)
    }
}

/// A metric key or device type: lower-case ASCII letters, digits and `_`, 1 to 64 long.
pub(crate) fn metric_key(field: &str, key: &str) -> Result<(), InvalidInput> {
    let valid = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            "use 1 to 64 lower-case letters, digits and underscores",
        ))
    }
}

/// A device id: 1 to 64 ASCII letters, digits, `-`, `_`, `.` (it is also an MQTT topic level).
pub fn device_id(field: &str, id: &str) -> Result<(), InvalidInput> {
    let valid = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            "a device id has 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Active,
    /// Under maintenance: readings are kept but raise no alarms.
    Maintenance,
    /// Retired: readings are refused.
    Retired,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 3] = [
        DeviceStatus::Active,
        DeviceStatus::Maintenance,
        DeviceStatus::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Active => "active",
            DeviceStatus::Maintenance => "maintenance",
            DeviceStatus::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<DeviceStatus> {
        DeviceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A sensor in the field, located on its unit grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    /// Device type, e.g. `water_level_gauge`.
    pub kind: String,
    pub name: String,
    pub location: Location,
    /// The finest area the location lies in (normally the community).
    pub area: AreaCode,
    pub unit_grid: Option<String>,
    /// The 16-digit census id of the component it watches, if any.
    pub component_id: Option<String>,
    pub owner_unit: Option<String>,
    pub status: DeviceStatus,
}

impl Device {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        device_id("id", &self.id)?;
        metric_key("kind", &self.kind)?;
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(InvalidInput::new("name", "a name has 1 to 100 characters"));
        }
        Location::new(self.location.lon, self.location.lat)?;
        if self.area.district().is_none() {
            return Err(InvalidInput::new(
                "area",
                "a device lies in a district, street or community",
            ));
        }
        if let Some(component) = &self.component_id {
            if component.len() != 16 || !component.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidInput::new(
                    "component_id",
                    "a component id has 16 digits",
                ));
            }
        }
        Ok(())
    }

    /// The category a problem seen by this device is filed under: the watched component's
    /// class (digits 7-10 of its id are big and small class) or the indicator's.
    pub fn problem_category(&self, indicator: &Indicator) -> CategoryCode {
        self.component_id
            .as_deref()
            .and_then(|id| CategoryCode::parse(&format!("1{}", &id[6..10])).ok())
            .unwrap_or_else(|| indicator.category.clone())
    }
}

/// The indicator catalogue CityOps ships: the vital signs a Chinese city watches first, each
/// with its normal range and the measuring range of the sensors that report it.
pub fn default_indicators() -> Vec<Indicator> {
    type Range = (Option<f64>, Option<f64>);
    let row = |key: &str,
               unit: &str,
               zh: &str,
               en: &str,
               (normal_min, normal_max): Range,
               (plausible_min, plausible_max): Range,
               category: &str| Indicator {
        key: key.into(),
        unit: unit.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        normal_min,
        normal_max,
        category: CategoryCode::parse(category).expect("shipped categories are valid"),
        plausible_min,
        plausible_max,
    };
    // Measuring ranges: ultrasonic water gauges read to 5 m, gas detectors to 100 %LEL,
    // tilt sensors to 180°, manhole level radars to 20 m, PM2.5 monitors to 2,000 µg/m³,
    // electromagnetic flow meters both ways, crowd cameras to 10 people per m².
    vec![
        row(
            "water_level",
            "cm",
            "道路积水深度",
            "Road water depth",
            (Some(0.0), Some(15.0)),
            (Some(0.0), Some(500.0)),
            "20406",
        ),
        row(
            "gas_concentration",
            "%LEL",
            "燃气浓度",
            "Gas concentration",
            (Some(0.0), Some(10.0)),
            (Some(0.0), Some(100.0)),
            "20403",
        ),
        row(
            "manhole_tilt",
            "°",
            "井盖倾角",
            "Manhole cover tilt",
            (Some(0.0), Some(5.0)),
            (Some(0.0), Some(180.0)),
            "10103",
        ),
        row(
            "manhole_water",
            "cm",
            "井内水位",
            "Water in manhole",
            (Some(0.0), Some(80.0)),
            (Some(0.0), Some(2000.0)),
            "20404",
        ),
        row(
            "pm25",
            "µg/m³",
            "PM2.5浓度",
            "PM2.5",
            (Some(0.0), Some(75.0)),
            (Some(0.0), Some(2000.0)),
            "20302",
        ),
        row(
            "pipe_flow",
            "l/s",
            "供水管网流量",
            "Water main flow",
            (Some(60.0), Some(140.0)),
            (Some(-5000.0), Some(20000.0)),
            "20402",
        ),
        row(
            "crowd_density",
            "人/m²",
            "人群密度",
            "Crowd density",
            (Some(0.0), Some(2.0)),
            (Some(0.0), Some(10.0)),
            "20499",
        ),
    ]
}

/// The columns of the device CSV (import and export).
pub const DEVICE_CSV_COLUMNS: [&str; 10] = [
    "id",
    "kind",
    "name",
    "lon",
    "lat",
    "area",
    "unit_grid",
    "component_id",
    "owner_unit",
    "status",
];

/// Writes devices as CSV rows (no header) in [`DEVICE_CSV_COLUMNS`] order, every cell
/// escaped (`csv_file::write_row`).
pub fn write_devices_csv<W: std::io::Write>(
    out: &mut csv::Writer<W>,
    devices: &[Device],
) -> csv::Result<()> {
    for d in devices {
        crate::csv_file::write_row(
            out,
            [
                d.id.as_str(),
                &d.kind,
                &d.name,
                &d.location.lon.to_string(),
                &d.location.lat.to_string(),
                d.area.as_str(),
                d.unit_grid.as_deref().unwrap_or(""),
                d.component_id.as_deref().unwrap_or(""),
                d.owner_unit.as_deref().unwrap_or(""),
                d.status.as_str(),
            ],
        )?;
    }
    Ok(())
}

/// Devices as CSV in [`DEVICE_CSV_COLUMNS`] order (WGS-84).
pub fn devices_csv(devices: &[Device]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(DEVICE_CSV_COLUMNS)
        .expect("writing to memory");
    write_devices_csv(&mut out, devices).expect("writing to memory");
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of strings")
}

/// The columns of the indicator CSV; files of the first seven (without the plausible range)
/// are still read.
pub const INDICATOR_CSV_COLUMNS: [&str; 9] = [
    "key",
    "unit",
    "name_zh",
    "name_en",
    "normal_min",
    "normal_max",
    "category",
    "plausible_min",
    "plausible_max",
];

/// Indicators as CSV in [`INDICATOR_CSV_COLUMNS`] order.
pub fn indicators_csv(indicators: &[Indicator]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(INDICATOR_CSV_COLUMNS)
        .expect("writing to memory");
    for i in indicators {
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        crate::csv_file::write_row(
            &mut out,
            [
                i.key.as_str(),
                &i.unit,
                &i.name_zh,
                &i.name_en,
                &num(i.normal_min),
                &num(i.normal_max),
                i.category.as_str(),
                &num(i.plausible_min),
                &num(i.plausible_max),
            ],
        )
        .expect("writing to memory");
    }
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of strings")
}

/// Parses indicators from CSV (UTF-8, with or without BOM). The field of an error is
/// `line N: column`.
pub fn parse_indicators_csv(text: &str) -> Result<Vec<Indicator>, InvalidInput> {
    let mut reader = crate::csv_file::reader(text);
    // The header is the file's promise of what its columns are: an empty file or another
    // table's export is refused, not read as "no indicators".
    let header = reader
        .headers()
        .map_err(|e| InvalidInput::new("line 1", e.to_string()))?;
    if header.iter().ne(INDICATOR_CSV_COLUMNS.iter().copied())
        && header.iter().ne(INDICATOR_CSV_COLUMNS[..7].iter().copied())
    {
        return Err(InvalidInput::new(
            "line 1",
            format!(
                "the header must be {} (the last two may be left out)",
                INDICATOR_CSV_COLUMNS.join(",")
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let at = |col: &str| format!("line {line}: {col}");
        let record = record
            .map(crate::csv_file::unescape)
            .map_err(|e| InvalidInput::new(format!("line {line}"), e.to_string()))?;
        if record.len() != 7 && record.len() != 9 {
            return Err(InvalidInput::new(
                format!("line {line}"),
                "expected 9 columns: key,unit,name_zh,name_en,normal_min,normal_max,category,plausible_min,plausible_max (the last two may be left out)",
            ));
        }
        let num = |i: usize, col: &str| -> Result<Option<f64>, InvalidInput> {
            let cell = &record[i];
            if cell.is_empty() {
                return Ok(None);
            }
            cell.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| InvalidInput::new(at(col), format!("'{cell}' is not a number")))
        };
        let indicator = Indicator {
            key: record[0].to_owned(),
            unit: record[1].to_owned(),
            name_zh: record[2].to_owned(),
            name_en: record[3].to_owned(),
            normal_min: num(4, "normal_min")?,
            normal_max: num(5, "normal_max")?,
            category: CategoryCode::parse(&record[6])
                .map_err(|e| InvalidInput::new(at("category"), e.reason))?,
            plausible_min: if record.len() == 9 {
                num(7, "plausible_min")?
            } else {
                None
            },
            plausible_max: if record.len() == 9 {
                num(8, "plausible_max")?
            } else {
                None
            },
        };
        indicator
            .validate()
            .map_err(|e| InvalidInput::new(at(&e.field), e.reason))?;
        if !seen.insert(indicator.key.clone()) {
            return Err(InvalidInput::new(
                at("key"),
                format!("{} appears twice", indicator.key),
            ));
        }
        out.push(indicator);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_device_statuses_are_listed_from_service_to_retirement() {
        // Exhaustive: a new status does not compile until it has its place in the sequence,
        // and then this fails until `ALL` lists it there too.
        let next = |status: DeviceStatus| match status {
            DeviceStatus::Active => Some(DeviceStatus::Maintenance),
            DeviceStatus::Maintenance => Some(DeviceStatus::Retired),
            DeviceStatus::Retired => None,
        };
        let statuses: Vec<DeviceStatus> =
            std::iter::successors(Some(DeviceStatus::Active), |s| next(*s)).collect();
        assert_eq!(statuses, DeviceStatus::ALL);
        for status in DeviceStatus::ALL {
            assert_eq!(DeviceStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn levels_order_by_severity_and_number_like_the_law() {
        assert!(WarningLevel::Red > WarningLevel::Orange);
        assert!(WarningLevel::Yellow > WarningLevel::Blue);
        assert_eq!(WarningLevel::Red.number(), 1);
        assert_eq!(WarningLevel::Blue.number(), 4);
    }

    #[test]
    fn indicator_csv_round_trips_with_bom() {
        let shipped = default_indicators();
        let text = format!("\u{feff}{}", indicators_csv(&shipped));
        assert_eq!(parse_indicators_csv(&text).unwrap(), shipped);
    }

    #[test]
    fn indicator_csv_errors_name_line_and_column() {
        let text = "key,unit,name_zh,name_en,normal_min,normal_max,category\nwater_level,cm,水位,Water,zero,15,20406\n";
        let err = parse_indicators_csv(text).unwrap_err();
        assert_eq!(err.field, "line 2: normal_min");
        let text = "key,unit,name_zh,name_en,normal_min,normal_max,category\nWater Level,cm,水位,Water,0,15,20406\n";
        assert_eq!(parse_indicators_csv(text).unwrap_err().field, "line 2: key");
    }

    #[test]
    fn a_component_watcher_reports_under_the_components_class() {
        let tilt = default_indicators()
            .into_iter()
            .find(|i| i.key == "manhole_tilt")
            .unwrap();
        let mut device = Device {
            id: "d1".into(),
            kind: "manhole_sensor".into(),
            name: "井盖传感器".into(),
            location: Location {
                lon: 121.47,
                lat: 31.23,
            },
            area: AreaCode::parse("310101002").unwrap(),
            unit_grid: None,
            component_id: Some("3101010111000001".into()),
            owner_unit: None,
            status: DeviceStatus::Active,
        };
        assert_eq!(device.problem_category(&tilt).as_str(), "10111");
        device.component_id = None;
        assert_eq!(device.problem_category(&tilt).as_str(), "10103");
    }
}
