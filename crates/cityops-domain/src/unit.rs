//! Units: the operations centers and the responsible units that handle cases.

use serde::{Deserialize, Serialize};

use crate::area::{Area, AreaCode, AreaLevel};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    CityCenter,
    DistrictCenter,
    StreetCenter,
    LawEnforcement,
    Greening,
    Housing,
    Water,
    Transport,
    PublicSecurity,
    MarketRegulation,
    Environment,
    Power,
    Gas,
    WaterSupply,
    Telecom,
    StreetOffice,
}

impl UnitKind {
    pub const ALL: [UnitKind; 16] = [
        UnitKind::CityCenter,
        UnitKind::DistrictCenter,
        UnitKind::StreetCenter,
        UnitKind::LawEnforcement,
        UnitKind::Greening,
        UnitKind::Housing,
        UnitKind::Water,
        UnitKind::Transport,
        UnitKind::PublicSecurity,
        UnitKind::MarketRegulation,
        UnitKind::Environment,
        UnitKind::Power,
        UnitKind::Gas,
        UnitKind::WaterSupply,
        UnitKind::Telecom,
        UnitKind::StreetOffice,
    ];

    /// The responsible (non-center) kinds each district gets by default, with the
    /// suffix of their unit code and their Chinese name in a district.
    pub const DISTRICT_DEPARTMENTS: [(UnitKind, &'static str, &'static str); 12] = [
        (UnitKind::LawEnforcement, "CGZF", "城管执法局"),
        (UnitKind::Greening, "LHSR", "绿化和市容管理局"),
        (UnitKind::Housing, "FGJ", "房屋管理局"),
        (UnitKind::Water, "SWJ", "水务局"),
        (UnitKind::Transport, "JSJT", "建设和交通委员会"),
        (UnitKind::PublicSecurity, "GAFJ", "公安分局"),
        (UnitKind::MarketRegulation, "SCJG", "市场监督管理局"),
        (UnitKind::Environment, "STHJ", "生态环境局"),
        (UnitKind::Power, "GD", "供电公司"),
        (UnitKind::Gas, "RQ", "燃气公司"),
        (UnitKind::WaterSupply, "ZLS", "自来水公司"),
        (UnitKind::Telecom, "DX", "电信分公司"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::CityCenter => "city_center",
            UnitKind::DistrictCenter => "district_center",
            UnitKind::StreetCenter => "street_center",
            UnitKind::LawEnforcement => "law_enforcement",
            UnitKind::Greening => "greening",
            UnitKind::Housing => "housing",
            UnitKind::Water => "water",
            UnitKind::Transport => "transport",
            UnitKind::PublicSecurity => "public_security",
            UnitKind::MarketRegulation => "market_regulation",
            UnitKind::Environment => "environment",
            UnitKind::Power => "power",
            UnitKind::Gas => "gas",
            UnitKind::WaterSupply => "water_supply",
            UnitKind::Telecom => "telecom",
            UnitKind::StreetOffice => "street_office",
        }
    }

    pub fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn is_center(self) -> bool {
        matches!(
            self,
            UnitKind::CityCenter | UnitKind::DistrictCenter | UnitKind::StreetCenter
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable code, e.g. `310101-CGZF` (Huangpu law enforcement) or `C-310101002` (a street center).
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// The area subtree this unit answers for.
    pub jurisdiction: AreaCode,
}

impl Unit {
    /// The responsible unit of `kind` in the district of `area`, by the default code scheme.
    pub fn default_code_for(kind: UnitKind, area: &AreaCode) -> Option<String> {
        if kind == UnitKind::StreetOffice {
            return area.street().map(|street| format!("{street}-JDB"));
        }
        let district = area.district()?;
        UnitKind::DISTRICT_DEPARTMENTS
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map(|(_, suffix, _)| format!("{district}-{suffix}"))
    }
}

/// The default units of a city: a center per city, district and street, the district
/// departments and utilities, and a street office per street.
pub fn default_units(city_name: &str, areas: &[Area]) -> Vec<Unit> {
    let mut units = Vec::new();
    for area in areas {
        match area.level {
            AreaLevel::City => units.push(Unit {
                code: format!("C-{}", area.code),
                name: format!("{city_name}城市运行管理中心"),
                kind: UnitKind::CityCenter,
                jurisdiction: area.code.clone(),
            }),
            AreaLevel::District => {
                units.push(Unit {
                    code: format!("C-{}", area.code),
                    name: format!("{}城市运行管理中心", area.name),
                    kind: UnitKind::DistrictCenter,
                    jurisdiction: area.code.clone(),
                });
                for (kind, suffix, name) in UnitKind::DISTRICT_DEPARTMENTS {
                    units.push(Unit {
                        code: format!("{}-{suffix}", area.code),
                        name: format!("{}{name}", area.name),
                        kind,
                        jurisdiction: area.code.clone(),
                    });
                }
            }
            AreaLevel::Street => {
                units.push(Unit {
                    code: format!("C-{}", area.code),
                    name: format!("{}城市运行管理分中心", area.name),
                    kind: UnitKind::StreetCenter,
                    jurisdiction: area.code.clone(),
                });
                let office = if area.name.ends_with("街道") {
                    format!("{}办事处", area.name)
                } else {
                    format!("{}人民政府", area.name)
                };
                units.push(Unit {
                    code: format!("{}-JDB", area.code),
                    name: office,
                    kind: UnitKind::StreetOffice,
                    jurisdiction: area.code.clone(),
                });
            }
            AreaLevel::Community => {}
        }
    }
    units
}
