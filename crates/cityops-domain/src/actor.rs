//! Who is acting. Every write carries an [`Actor`] as a value: there is no ambient user.

use serde::{Deserialize, Serialize};

use crate::area::AreaCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 监督员: patrols a grid, reports, verifies and checks in the field.
    Inspector,
    /// 受理员: receives reports, accepts or rejects, sends verification and check tasks.
    Operator,
    /// 值班长: files, closes and cancels cases; approves extensions and parking.
    ShiftLead,
    /// 派遣员: dispatches filed cases to the responsible unit.
    Dispatcher,
    /// 专业部门: signs for, handles and feeds back the cases of their unit.
    UnitHandler,
    /// Watches the city and supervises (督办) cases.
    CenterLeader,
    /// Produces the evaluation; reads only.
    Evaluator,
    /// Manages users and reference data; issues no workflow commands.
    Admin,
    /// 审计员: reads and verifies the audit log; sees no case content.
    Auditor,
    /// 数据管理员: answers citizens' requests to export or erase their personal data.
    DataSteward,
    /// A member of the public on the citizen page: reports, adds photos, rates the result.
    Citizen,
    /// CityOps itself: opens cases from IoT alarms and notes alarm changes on them. Nobody
    /// signs in as the system.
    System,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Inspector,
        Role::Operator,
        Role::ShiftLead,
        Role::Dispatcher,
        Role::UnitHandler,
        Role::CenterLeader,
        Role::Evaluator,
        Role::Admin,
        Role::Auditor,
        Role::DataSteward,
        Role::Citizen,
        Role::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Inspector => "inspector",
            Role::Operator => "operator",
            Role::ShiftLead => "shift_lead",
            Role::Dispatcher => "dispatcher",
            Role::UnitHandler => "unit_handler",
            Role::CenterLeader => "center_leader",
            Role::Evaluator => "evaluator",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::DataSteward => "data_steward",
            Role::Citizen => "citizen",
            Role::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// The unit the user works for; a unit handler acts only on cases dispatched to it.
    pub unit: Option<String>,
    /// The area subtree the user acts within.
    pub scope: AreaCode,
}

impl Actor {
    /// CityOps itself, acting within `scope` (alarms' cases and notes, the overdue watch,
    /// relocations, retention). Nobody signs in as it.
    pub fn system(scope: AreaCode) -> Actor {
        Actor {
            user_id: "system".into(),
            username: "system".into(),
            role: Role::System,
            unit: None,
            scope,
        }
    }
}

impl Actor {
    pub fn can_see(&self, area: &AreaCode) -> bool {
        self.scope.contains(area)
    }

    /// Auditors and data stewards answer for the log and for citizens' requests; the content
    /// of cases is not theirs to read.
    pub fn works_on_cases(&self) -> bool {
        !matches!(self.role, Role::Auditor | Role::DataSteward)
    }

    /// The unit whose cases alone this actor may see: a unit handler's own unit. The empty
    /// code, which no unit has, for whoever sees no cases (a handler without a unit, an
    /// auditor). `None`: no restriction beyond the area scope.
    pub fn case_unit_restriction(&self) -> Option<&str> {
        if !self.works_on_cases() {
            return Some("");
        }
        (self.role == Role::UnitHandler).then(|| self.unit.as_deref().unwrap_or(""))
    }

    /// Whether a case is within this actor's jurisdiction: its area in their scope, and for
    /// a unit handler, dispatched to their unit or given to it to assist on.
    pub fn can_see_case(&self, case: &crate::Case) -> bool {
        match self.case_unit_restriction() {
            Some(unit) => self.can_see(&case.area) && case.involves_unit(unit),
            None => self.can_see(&case.area),
        }
    }

    /// [`Actor::can_see_case`] for a case known by its area and unit only (a statistics
    /// fact, a row).
    pub fn can_see_case_at(&self, area: &AreaCode, unit: Option<&str>) -> bool {
        self.can_see(area)
            && self
                .case_unit_restriction()
                .is_none_or(|restricted| unit == Some(restricted))
    }
}
