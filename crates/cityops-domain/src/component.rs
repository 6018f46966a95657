//! The component census (部件普查): the city's public facilities, each with the units that own,
//! maintain and supervise it. A problem with a component is the maintainer's to handle, so a
//! report near a manhole cover links to that cover and is routed to whoever maintains it.
//!
//! Identifiers follow the standard's 16 digits `AAAAAA BB SS NNNNNN`: the county-level area,
//! the big and small class, and a sequence (`320508 01 01 000001` is Gusu's first water-supply
//! cover). The class digits of an id must agree with the component's class.
//!
//! Import rows come in as text (CSV columns or GeoJSON properties) and are checked here, the
//! location resolved by a locator the caller supplies (the unit-grid index): this module stays
//! pure.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::area::AreaCode;
use crate::case::Location;
use crate::category::{CategoryCode, CategoryKind};
use crate::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// 完好
    InUse,
    /// 损坏
    Damaged,
    /// 丢失
    Missing,
    /// 废弃: kept for history, never linked to new reports.
    Removed,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 4] = [
        ComponentStatus::InUse,
        ComponentStatus::Damaged,
        ComponentStatus::Missing,
        ComponentStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::InUse => "in_use",
            ComponentStatus::Damaged => "damaged",
            ComponentStatus::Missing => "missing",
            ComponentStatus::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<ComponentStatus> {
        ComponentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One component of the census.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// 16 digits: area 6 + big class 2 + small class 2 + sequence 6.
    pub id: String,
    /// The small class (`1BBSS`), a component class of the category tree.
    pub class: CategoryCode,
    pub name: String,
    /// WGS-84.
    pub location: Location,
    /// The finest area the location lies in (the community).
    pub area: AreaCode,
    pub unit_grid: Option<String>,
    pub owner_unit: Option<String>,
    pub maintainer_unit: Option<String>,
    pub supervising_department: Option<String>,
    pub status: ComponentStatus,
    /// Where it stands: sidewalk, carriageway, green space...
    pub setting: Option<String>,
    pub location_text: Option<String>,
    pub initial_date: Option<NaiveDate>,
    pub change_date: Option<NaiveDate>,
    /// Where the record comes from (census 2016, a department's register...).
    pub source: Option<String>,
}

/// The columns of the census CSV, in order. GeoJSON features carry the same names as
/// properties, without `lon` and `lat` (the point geometry holds them).
pub const COMPONENT_CSV_COLUMNS: [&str; 15] = [
    "id",
    "class",
    "name",
    "lon",
    "lat",
    "unit_grid",
    "owner_unit",
    "maintainer_unit",
    "supervising_department",
    "status",
    "setting",
    "location_text",
    "initial_date",
    "change_date",
    "source",
];

/// One imported row as text, before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentRow {
    pub id: String,
    pub class: String,
    pub name: String,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub unit_grid: Option<String>,
    #[serde(default)]
    pub owner_unit: Option<String>,
    #[serde(default)]
    pub maintainer_unit: Option<String>,
    #[serde(default)]
    pub supervising_department: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub setting: Option<String>,
    #[serde(default)]
    pub location_text: Option<String>,
    #[serde(default)]
    pub initial_date: Option<String>,
    #[serde(default)]
    pub change_date: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// Where a point lies, as the unit-grid index answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub area: AreaCode,
    pub unit_grid: Option<String>,
}

/// Checks a component id: 16 digits whose class digits agree with `class`.
pub fn check_component_id(id: &str, class: &CategoryCode) -> Result<(), InvalidInput> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidInput::new(
            "id",
            format!("'{id}' is not a component id: expected 16 digits (area 6, class 4, sequence 6), e.g. 3101010101000001"),
        ));
    }
    if id[6..10] != class.as_str()[1..] {
        return Err(InvalidInput::new(
            "id",
            format!(
                "the class digits {} of {id} do not match class {class}",
                &id[6..10]
            ),
        ));
    }
    Ok(())
}

fn text(value: Option<String>, field: &str, max: usize) -> Result<Option<String>, InvalidInput> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > max => Err(InvalidInput::new(
            field,
            format!("at most {max} characters"),
        )),
        v => Ok(v),
    }
}

fn date(value: Option<String>, field: &str) -> Result<Option<NaiveDate>, InvalidInput> {
    match text(value, field, 10)? {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| InvalidInput::new(field, format!("'{v}' is not a date (YYYY-MM-DD)"))),
    }
}

impl ComponentRow {
    /// Checks the row and resolves its location; `locate` answers `None` outside the city.
    pub fn into_component(
        self,
        locate: &dyn Fn(f64, f64) -> Option<Located>,
    ) -> Result<Component, InvalidInput> {
        let class = CategoryCode::parse(self.class.trim())
            .map_err(|e| InvalidInput::new("class", e.reason))?;
        if class.kind() != CategoryKind::Component {
            return Err(InvalidInput::new(
                "class",
                format!("{class} is an event class; components have classes starting with 1"),
            ));
        }
        let id = self.id.trim().to_owned();
        check_component_id(&id, &class)?;
        let name = text(Some(self.name), "name", 100)?
            .ok_or_else(|| InvalidInput::new("name", "a component needs a name"))?;
        let lon = self
            .lon
            .ok_or_else(|| InvalidInput::new("lon", "the longitude is missing"))?;
        let lat = self
            .lat
            .ok_or_else(|| InvalidInput::new("lat", "the latitude is missing"))?;
        let location = Location::new(lon, lat)
            .map_err(|e| InvalidInput::new(e.field.trim_start_matches("location."), e.reason))?;
        let located = locate(lon, lat).ok_or_else(|| {
            InvalidInput::new(
                "lon",
                format!("({lon}, {lat}) lies outside the city's unit grids"),
            )
        })?;
        let unit_grid = text(self.unit_grid, "unit_grid", 14)?;
        if let (Some(given), Some(found)) = (&unit_grid, &located.unit_grid) {
            if given != found {
                return Err(InvalidInput::new(
                    "unit_grid",
                    format!("the location lies in unit grid {found}, not {given}"),
                ));
            }
        }
        let status = match text(self.status, "status", 16)? {
            None => ComponentStatus::InUse,
            Some(s) => ComponentStatus::parse(&s).ok_or_else(|| {
                InvalidInput::new(
                    "status",
                    format!("'{s}' is not a status: in_use, damaged, missing or removed"),
                )
            })?,
        };
        let initial_date = date(self.initial_date, "initial_date")?;
        let change_date = date(self.change_date, "change_date")?;
        if let (Some(initial), Some(change)) = (initial_date, change_date) {
            if change < initial {
                return Err(InvalidInput::new(
                    "change_date",
                    "the change date is before the initial date",
                ));
            }
        }
        Ok(Component {
            id,
            class,
            name,
            location,
            unit_grid: unit_grid.or(located.unit_grid),
            area: located.area,
            owner_unit: text(self.owner_unit, "owner_unit", 64)?,
            maintainer_unit: text(self.maintainer_unit, "maintainer_unit", 64)?,
            supervising_department: text(
                self.supervising_department,
                "supervising_department",
                64,
            )?,
            status,
            setting: text(self.setting, "setting", 32)?,
            location_text: text(self.location_text, "location_text", 200)?,
            initial_date,
            change_date,
            source: text(self.source, "source", 64)?,
        })
    }
}

impl Component {
    /// The units a routing decision needs.
    pub fn units(&self) -> Option<ComponentUnits> {
        (self.owner_unit.is_some() || self.maintainer_unit.is_some()).then(|| ComponentUnits {
            id: self.id.clone(),
            owner: self.owner_unit.clone(),
            maintainer: self.maintainer_unit.clone(),
        })
    }

    fn cells(&self) -> [String; 15] {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let day = |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        [
            self.id.clone(),
            self.class.to_string(),
            self.name.clone(),
            self.location.lon.to_string(),
            self.location.lat.to_string(),
            opt(&self.unit_grid),
            opt(&self.owner_unit),
            opt(&self.maintainer_unit),
            opt(&self.supervising_department),
            self.status.as_str().to_owned(),
            opt(&self.setting),
            opt(&self.location_text),
            day(&self.initial_date),
            day(&self.change_date),
            opt(&self.source),
        ]
    }
}

/// The component a case concerns, as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentUnits {
    pub id: String,
    pub owner: Option<String>,
    pub maintainer: Option<String>,
}

/// Writes components as CSV rows (no header) in [`COMPONENT_CSV_COLUMNS`] order.
pub fn write_components_csv<W: std::io::Write>(
    out: &mut csv::Writer<W>,
    components: &[Component],
) -> csv::Result<()> {
    for c in components {
        crate::csv_file::write_row(out, c.cells())?;
    }
    Ok(())
}

/// Components as a CSV document with header (WGS-84).
pub fn components_csv(components: &[Component]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COMPONENT_CSV_COLUMNS)
        .expect("writing to memory");
    write_components_csv(&mut out, components).expect("writing to memory");
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of strings")
}

/// Reads census CSV (UTF-8, with or without BOM, header [`COMPONENT_CSV_COLUMNS`]). All or
/// nothing: the first bad row refuses the file, naming its line and column.
pub fn parse_components_csv(
    text: &str,
    locate: &dyn Fn(f64, f64) -> Option<Located>,
) -> Result<Vec<Component>, InvalidInput> {
    let mut reader = crate::csv_file::with_header(text, &COMPONENT_CSV_COLUMNS)?;
    let mut seen = std::collections::HashSet::new();
    let mut components = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record
            .map(crate::csv_file::unescape)
            .map_err(|e| InvalidInput::new(format!("line {line}"), e.to_string()))?;
        let cell = |i: usize| Some(record[i].to_owned()).filter(|s| !s.is_empty());
        let number = |i: usize| -> Result<Option<f64>, InvalidInput> {
            cell(i)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            InvalidInput::new(
                                format!("line {line}: {}", COMPONENT_CSV_COLUMNS[i]),
                                format!("'{v}' is not a number"),
                            )
                        })
                })
                .transpose()
        };
        let row = ComponentRow {
            id: record[0].to_owned(),
            class: record[1].to_owned(),
            name: record[2].to_owned(),
            lon: number(3)?,
            lat: number(4)?,
            unit_grid: cell(5),
            owner_unit: cell(6),
            maintainer_unit: cell(7),
            supervising_department: cell(8),
            status: cell(9),
            setting: cell(10),
            location_text: cell(11),
            initial_date: cell(12),
            change_date: cell(13),
            source: cell(14),
        };
        let component = row
            .into_component(locate)
            .map_err(|e| InvalidInput::new(format!("line {line}: {}", e.field), e.reason))?;
        if !seen.insert(component.id.clone()) {
            return Err(InvalidInput::new(
                format!("line {line}: id"),
                format!("{} appears twice in the file", component.id),
            ));
        }
        components.push(component);
    }
    Ok(components)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(lon: f64, lat: f64) -> Option<Located> {
        (lon > 121.0 && lon < 122.0 && lat > 31.0 && lat < 32.0).then(|| Located {
            area: AreaCode::parse("310101002001").unwrap(),
            unit_grid: Some("31010100200101".into()),
        })
    }

    const HEADER: &str = "id,class,name,lon,lat,unit_grid,owner_unit,maintainer_unit,supervising_department,status,setting,location_text,initial_date,change_date,source";

    #[test]
    fn a_census_file_with_a_bom_is_read_and_located() {
        let text = format!("\u{feff}{HEADER}\n3101010101000001,10101,上水井盖,121.48,31.23,,SH-WATER,SH-WATER-MAINT,水务局,,人行道,南京东路1号,2016-05-01,,普查2016\n");
        let components = parse_components_csv(&text, &inside).unwrap();
        assert_eq!(components.len(), 1);
        let c = &components[0];
        assert_eq!(c.unit_grid.as_deref(), Some("31010100200101"));
        assert_eq!(c.status, ComponentStatus::InUse);
        assert_eq!(c.area.as_str(), "310101002001");
        assert_eq!(
            components_csv(&components),
            format!("{HEADER}\n3101010101000001,10101,上水井盖,121.48,31.23,31010100200101,SH-WATER,SH-WATER-MAINT,水务局,in_use,人行道,南京东路1号,2016-05-01,,普查2016\n")
        );
    }

    #[test]
    fn bad_rows_name_their_line_and_column() {
        let cases = [
            ("3101010101000001,20101,x,121.5,31.2", "line 2: class"),
            ("3101010102000001,10101,x,121.5,31.2", "line 2: id"),
            ("310101010100001,10101,x,121.5,31.2", "line 2: id"),
            ("3101010101000001,10101,,121.5,31.2", "line 2: name"),
            ("3101010101000001,10101,x,east,31.2", "line 2: lon"),
            ("3101010101000001,10101,x,100.5,31.2", "line 2: lon"),
            ("3101010101000001,10101,x,121.5,", "line 2: lat"),
        ];
        for (row, field) in cases {
            let text = format!("{HEADER}\n{row},,,,,,,,,,\n");
            let err = parse_components_csv(&text, &inside).unwrap_err();
            assert_eq!(err.field, field, "{row}: {err}");
        }
        let text =
            format!("{HEADER}\n3101010101000001,10101,x,121.5,31.2,31010100200102,,,,,,,,,\n");
        assert_eq!(
            parse_components_csv(&text, &inside).unwrap_err().field,
            "line 2: unit_grid"
        );
        let text = format!("{HEADER}\n3101010101000001,10101,x,121.5,31.2,,,,,broken,,,,,\n");
        assert_eq!(
            parse_components_csv(&text, &inside).unwrap_err().field,
            "line 2: status"
        );
        let text = format!(
            "{HEADER}\n3101010101000001,10101,x,121.5,31.2,,,,,,,,2020-01-01,2019-01-01,\n"
        );
        assert_eq!(
            parse_components_csv(&text, &inside).unwrap_err().field,
            "line 2: change_date"
        );
        let row = "3101010101000001,10101,x,121.5,31.2,,,,,,,,,,";
        let text = format!("{HEADER}\n{row}\n{row}\n");
        assert_eq!(
            parse_components_csv(&text, &inside).unwrap_err().field,
            "line 3: id"
        );
        assert_eq!(
            parse_components_csv("id,name\n", &inside)
                .unwrap_err()
                .field,
            "line 1"
        );
    }
}
