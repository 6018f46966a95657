//! Units: the operations centers and the responsible units that handle cases.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::area::{Area, AreaCode, AreaLevel};
use crate::InvalidInput;

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
    /// No line of work the default proposals know: a contractor or a unit a city adds,
    /// reached through the responsibility matrix only.
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 17] = [
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
        UnitKind::Other,
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
            UnitKind::Other => "other",
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

/// What sort of body a unit is, as the build-and-maintain subsystem lists them; its
/// [`UnitKind`] says instead which line of work the default proposals send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Organization {
    /// A city, district or street operations center (城运中心).
    OperationsCenter,
    /// A government department (职能部门).
    Department,
    /// A public utility company (公共服务企业): power, gas, water, telecom.
    PublicUtility,
    /// A contractor working for a department (养护作业单位).
    Contractor,
    /// A street office (街道办事处).
    StreetOffice,
    /// A town government (镇人民政府).
    Town,
    Other,
}

impl Organization {
    pub const ALL: [Organization; 7] = [
        Organization::OperationsCenter,
        Organization::Department,
        Organization::PublicUtility,
        Organization::Contractor,
        Organization::StreetOffice,
        Organization::Town,
        Organization::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Organization::OperationsCenter => "operations_center",
            Organization::Department => "department",
            Organization::PublicUtility => "public_utility",
            Organization::Contractor => "contractor",
            Organization::StreetOffice => "street_office",
            Organization::Town => "town",
            Organization::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Organization> {
        Organization::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// What the shipped default unit of `kind` named `name` is.
    pub fn of_default(kind: UnitKind, name: &str) -> Organization {
        match kind {
            UnitKind::CityCenter | UnitKind::DistrictCenter | UnitKind::StreetCenter => {
                Organization::OperationsCenter
            }
            UnitKind::Power | UnitKind::Gas | UnitKind::WaterSupply | UnitKind::Telecom => {
                Organization::PublicUtility
            }
            UnitKind::StreetOffice if name.ends_with("人民政府") => Organization::Town,
            UnitKind::StreetOffice => Organization::StreetOffice,
            UnitKind::Other => Organization::Other,
            _ => Organization::Department,
        }
    }
}

/// The people to call at a unit. Sealed at rest like a citizen's contact and masked in every
/// answer but one read for a stated purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitContacts {
    /// The duty phone (值班电话), answered around the clock.
    pub duty_phone: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

impl UnitContacts {
    pub fn is_empty(&self) -> bool {
        self.duty_phone.is_none() && self.contact_name.is_none() && self.contact_phone.is_none()
    }
}

/// When a unit stopped taking cases, and who took over its open ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    pub at: DateTime<Utc>,
    pub successor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable code, e.g. `310101-CGZF` (Huangpu law enforcement) or `C-310101002` (a street center).
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub organization: Organization,
    /// The area subtree this unit answers for.
    pub jurisdiction: AreaCode,
    /// The unit above it, e.g. the district center above a street center.
    pub parent: Option<String>,
    pub contacts: UnitContacts,
    /// Set once the unit is retired: it is offered for no new case or rule.
    pub retired: Option<Retirement>,
}

/// The longest unit name, in characters.
pub const MAX_UNIT_NAME: usize = 100;

impl Unit {
    /// An active unit without parent or contacts, of the organization its kind suggests.
    pub fn new(code: String, name: String, kind: UnitKind, jurisdiction: AreaCode) -> Unit {
        Unit {
            organization: Organization::of_default(kind, &name),
            code,
            name,
            kind,
            jurisdiction,
            parent: None,
            contacts: UnitContacts::default(),
            retired: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.retired.is_none()
    }

    /// Checks what one unit alone can get wrong: its code, name and contacts. That its
    /// parent and jurisdiction exist is for whoever knows the others.
    pub fn check(&self) -> Result<(), InvalidInput> {
        check_unit_code(&self.code)?;
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > MAX_UNIT_NAME {
            return Err(InvalidInput::new(
                "name",
                format!("a unit's name has 1 to {MAX_UNIT_NAME} characters"),
            ));
        }
        if self.parent.as_deref() == Some(self.code.as_str()) {
            return Err(InvalidInput::inconsistent(
                "parent",
                "a unit cannot be its own parent",
            ));
        }
        if let Some(name) = &self.contacts.contact_name {
            if name.trim().is_empty() || name.chars().count() > 50 {
                return Err(InvalidInput::new(
                    "contact_name",
                    "a contact's name has 1 to 50 characters",
                ));
            }
        }
        Ok(())
    }

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

/// A unit code: 1 to 64 letters, digits, `-`, `_` or `.`, as the shipped `310101-CGZF`.
pub fn check_unit_code(code: &str) -> Result<(), InvalidInput> {
    let valid = (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(InvalidInput::new(
            "code",
            format!("'{code}' is not a unit code (1 to 64 letters, digits, '-', '_' or '.')"),
        ))
    }
}

/// The default units of a city: a center per city, district and street, the district
/// departments and utilities, and a street office per street.
pub fn default_units(city_name: &str, areas: &[Area]) -> Vec<Unit> {
    let mut units = Vec::new();
    for area in areas {
        match area.level {
            AreaLevel::City => units.push(Unit::new(
                format!("C-{}", area.code),
                format!("{city_name}城市运行管理中心"),
                UnitKind::CityCenter,
                area.code.clone(),
            )),
            AreaLevel::District => {
                units.push(Unit {
                    parent: area.parent.as_ref().map(|city| format!("C-{city}")),
                    ..Unit::new(
                        format!("C-{}", area.code),
                        format!("{}城市运行管理中心", area.name),
                        UnitKind::DistrictCenter,
                        area.code.clone(),
                    )
                });
                for (kind, suffix, name) in UnitKind::DISTRICT_DEPARTMENTS {
                    units.push(Unit::new(
                        format!("{}-{suffix}", area.code),
                        format!("{}{name}", area.name),
                        kind,
                        area.code.clone(),
                    ));
                }
            }
            AreaLevel::Street => {
                units.push(Unit {
                    parent: area.parent.as_ref().map(|district| format!("C-{district}")),
                    ..Unit::new(
                        format!("C-{}", area.code),
                        format!("{}城市运行管理分中心", area.name),
                        UnitKind::StreetCenter,
                        area.code.clone(),
                    )
                });
                let office = if area.name.ends_with("街道") {
                    format!("{}办事处", area.name)
                } else {
                    format!("{}人民政府", area.name)
                };
                units.push(Unit::new(
                    format!("{}-JDB", area.code),
                    office,
                    UnitKind::StreetOffice,
                    area.code.clone(),
                ));
            }
            AreaLevel::Community => {}
        }
    }
    units
}
