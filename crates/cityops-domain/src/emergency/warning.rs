//! Early warnings (预警): a hazard's warning level for some areas, from when it is issued
//! until it expires or is lifted; issued by hand or from the weather service's alerts, updated
//! (a higher or lower level, other areas, a later expiry) and lifted. While in force a warning
//! may change the thresholds of chosen telemetry rules for the devices of its areas (the
//! underpasses' water level during a rainstorm warning): [`effective_rules`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{at_most, check_areas, is_center_staff, needed, EmergencyError, Hazard};
use crate::actor::Actor;
use crate::area::AreaCode;
use crate::telemetry::{Condition, ConditionOverride, TelemetryRule, WarningLevel};
use crate::InvalidInput;

/// The most areas one warning names.
pub const MAX_AREAS: usize = 64;
/// The most rule adjustments one warning makes.
pub const MAX_ADJUSTMENTS: usize = 32;
/// The longest a warning may run: a month (a typhoon season's warnings are re-issued).
pub const MAX_DAYS: i64 = 31;

/// Where a warning came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningSource {
    /// Issued by hand by the center.
    Manual,
    /// Imported from a Common Alerting Protocol (CAP 1.2) alert: its identifier and sender,
    /// which make a second import of the same alert change nothing.
    Cap { identifier: String, sender: String },
}

/// While a warning is in force, `rule` judges the devices of the warning's areas by
/// `condition` instead of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleAdjustment {
    pub rule: String,
    pub condition: Condition,
}

/// One change of a warning, as its history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningChange {
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub username: String,
    /// `issued`, `updated` or `lifted`.
    pub action: String,
    pub level: WarningLevel,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: String,
    pub hazard: Hazard,
    pub level: WarningLevel,
    pub areas: Vec<AreaCode>,
    pub headline: String,
    #[serde(default)]
    pub description: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub lifted_at: Option<DateTime<Utc>>,
    pub source: WarningSource,
    #[serde(default)]
    pub adjustments: Vec<RuleAdjustment>,
    pub version: u32,
    pub history: Vec<WarningChange>,
}

/// A warning to issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewWarning {
    pub hazard: Hazard,
    pub level: WarningLevel,
    pub areas: Vec<AreaCode>,
    pub headline: String,
    #[serde(default)]
    pub description: String,
    /// When it takes effect; now when absent.
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub adjustments: Vec<RuleAdjustment>,
}

/// What an update changes; absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarningUpdate {
    #[serde(default)]
    pub level: Option<WarningLevel>,
    #[serde(default)]
    pub areas: Option<Vec<AreaCode>>,
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub adjustments: Option<Vec<RuleAdjustment>>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Warning {
    /// In force: issued, not yet expired, not lifted.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.lifted_at.is_none() && self.issued_at <= now && now < self.expires_at
    }

    /// Whether the warning covers `area` (one of its areas contains it).
    pub fn covers(&self, area: &AreaCode) -> bool {
        self.areas.iter().any(|a| a.contains(area))
    }

    /// Whether it concerns anything in `scope` (an area of it lies in the scope, or the scope
    /// in an area of it).
    pub fn concerns(&self, scope: &AreaCode) -> bool {
        self.areas
            .iter()
            .any(|a| scope.contains(a) || a.contains(scope))
    }

    /// `issued`, `in_force`, `expired` or `lifted` at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.lifted_at.is_some() {
            "lifted"
        } else if now >= self.expires_at {
            "expired"
        } else if now < self.issued_at {
            "issued"
        } else {
            "in_force"
        }
    }

    /// Issues a warning: by the center's staff, for areas within their jurisdiction.
    pub fn issue(
        id: String,
        new: NewWarning,
        source: WarningSource,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Warning, EmergencyError> {
        allowed(actor, "issue a warning")?;
        needed("headline", &new.headline, 200)?;
        at_most("description", &new.description, 4000)?;
        check_areas("areas", &new.areas, MAX_AREAS)?;
        in_scope(actor, &new.areas)?;
        check_adjustments("adjustments", &new.adjustments)?;
        let issued_at = new.issued_at.unwrap_or(now);
        check_expiry(issued_at, new.expires_at, now)?;
        Ok(Warning {
            id,
            hazard: new.hazard,
            level: new.level,
            areas: new.areas,
            headline: new.headline.trim().to_owned(),
            description: new.description,
            issued_at,
            expires_at: new.expires_at,
            lifted_at: None,
            source,
            adjustments: new.adjustments,
            version: 1,
            history: vec![change(
                actor,
                now,
                "issued",
                new.level,
                new.expires_at,
                None,
            )],
        })
    }

    /// Updates a warning that is not lifted. An expired one is re-issued only with a new
    /// expiry after now: an old time would make it expired again the moment it is issued.
    pub fn update(
        &self,
        update: WarningUpdate,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Warning, EmergencyError> {
        allowed(actor, "update a warning")?;
        in_scope(actor, &self.areas)?;
        if self.lifted_at.is_some() {
            return Err(EmergencyError::State(
                "the warning was lifted: issue a new one".into(),
            ));
        }
        if now >= self.expires_at && update.expires_at.is_none_or(|e| e <= now) {
            return Err(InvalidInput::inconsistent(
                "expires_at",
                "the warning has expired: re-issuing it needs a new expiry time after now",
            )
            .into());
        }
        let mut next = self.clone();
        if let Some(level) = update.level {
            next.level = level;
        }
        if let Some(areas) = update.areas {
            check_areas("areas", &areas, MAX_AREAS)?;
            in_scope(actor, &areas)?;
            next.areas = areas;
        }
        if let Some(headline) = update.headline {
            needed("headline", &headline, 200)?;
            next.headline = headline.trim().to_owned();
        }
        if let Some(description) = update.description {
            at_most("description", &description, 4000)?;
            next.description = description;
        }
        if let Some(adjustments) = update.adjustments {
            check_adjustments("adjustments", &adjustments)?;
            next.adjustments = adjustments;
        }
        if let Some(note) = &update.note {
            at_most("note", note, 500)?;
        }
        if let Some(expires_at) = update.expires_at {
            check_expiry(next.issued_at.min(now), expires_at, now)?;
            next.expires_at = expires_at;
        }
        if next == *self && update.note.is_none() {
            return Err(InvalidInput::new("level", "the update changes nothing").into());
        }
        next.version += 1;
        next.history.push(change(
            actor,
            now,
            "updated",
            next.level,
            next.expires_at,
            update.note,
        ));
        Ok(next)
    }

    /// Lifts a warning (解除) before its expiry.
    pub fn lift(
        &self,
        note: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Warning, EmergencyError> {
        allowed(actor, "lift a warning")?;
        in_scope(actor, &self.areas)?;
        if let Some(note) = &note {
            at_most("note", note, 500)?;
        }
        match self.status(now) {
            "lifted" => {
                return Err(EmergencyError::State(
                    "the warning is already lifted".into(),
                ))
            }
            "expired" => {
                return Err(EmergencyError::State(
                    "the warning has already expired".into(),
                ))
            }
            _ => {}
        }
        let mut next = self.clone();
        next.lifted_at = Some(now);
        next.version += 1;
        next.history.push(change(
            actor,
            now,
            "lifted",
            next.level,
            next.expires_at,
            note,
        ));
        Ok(next)
    }
}

fn allowed(actor: &Actor, action: &'static str) -> Result<(), EmergencyError> {
    if is_center_staff(actor.role) {
        Ok(())
    } else {
        Err(EmergencyError::RoleNotAllowed {
            action,
            role: actor.role.as_str(),
        })
    }
}

fn in_scope(actor: &Actor, areas: &[AreaCode]) -> Result<(), EmergencyError> {
    match areas.iter().find(|a| !actor.can_see(a)) {
        Some(outside) => Err(EmergencyError::OutOfScope(outside.to_string())),
        None => Ok(()),
    }
}

fn check_expiry(
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), InvalidInput> {
    if expires_at <= issued_at || expires_at <= now {
        return Err(InvalidInput::inconsistent(
            "expires_at",
            "a warning expires after it is issued, and after now",
        ));
    }
    if expires_at - issued_at > chrono::Duration::days(MAX_DAYS) {
        return Err(InvalidInput::inconsistent(
            "expires_at",
            format!("a warning runs at most {MAX_DAYS} days: issue a new one after that"),
        ));
    }
    Ok(())
}

pub(crate) fn check_adjustments(
    field: &str,
    adjustments: &[RuleAdjustment],
) -> Result<(), InvalidInput> {
    if adjustments.len() > MAX_ADJUSTMENTS {
        return Err(InvalidInput::new(
            field,
            format!("at most {MAX_ADJUSTMENTS} rule adjustments"),
        ));
    }
    for (i, a) in adjustments.iter().enumerate() {
        if adjustments[..i].iter().any(|b| b.rule == a.rule) {
            return Err(InvalidInput::new(
                format!("{field}[{i}].rule"),
                format!("rule {} is adjusted twice", a.rule),
            ));
        }
        crate::telemetry::check_condition(&format!("{field}[{i}].condition"), &a.condition)?;
    }
    Ok(())
}

fn change(
    actor: &Actor,
    at: DateTime<Utc>,
    action: &str,
    level: WarningLevel,
    expires_at: DateTime<Utc>,
    note: Option<String>,
) -> WarningChange {
    WarningChange {
        at,
        user_id: actor.user_id.clone(),
        username: actor.username.clone(),
        action: action.into(),
        level,
        expires_at,
        note,
    }
}

/// The rules as the engine runs them at `now`: each rule a warning in force (or an active
/// incident's plan) adjusts judges the devices of its areas by the adjusted condition. Where
/// two adjust one rule for the same device, the graver warning's (then the later issued)
/// applies, and any warning's before an incident's.
pub fn effective_rules(
    rules: &[TelemetryRule],
    warnings: &[Warning],
    incidents: &[super::Incident],
    now: DateTime<Utc>,
) -> Vec<TelemetryRule> {
    let mut in_force: Vec<&Warning> = warnings.iter().filter(|w| w.in_force(now)).collect();
    // Gravest first: the engine takes the first override that covers a device.
    in_force.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.issued_at.cmp(&a.issued_at))
            .then(a.id.cmp(&b.id))
    });
    let mut active: Vec<&super::Incident> = incidents
        .iter()
        .filter(|i| i.state == super::IncidentState::Active && !i.adjustments.is_empty())
        .collect();
    active.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
    let adjusters: Vec<(&str, &[AreaCode], &[RuleAdjustment])> = in_force
        .iter()
        .map(|w| (w.id.as_str(), w.areas.as_slice(), w.adjustments.as_slice()))
        .chain(
            active
                .iter()
                .map(|i| (i.id.as_str(), i.areas.as_slice(), i.adjustments.as_slice())),
        )
        .collect();
    rules
        .iter()
        .map(|rule| {
            let mut rule = rule.clone();
            rule.overrides = adjusters
                .iter()
                .flat_map(|(id, areas, adjustments)| {
                    adjustments
                        .iter()
                        // Only a condition of the rule's own kind: the engine keeps a
                        // silence rule's state apart from a threshold's.
                        .filter(|a| {
                            a.rule == rule.id
                                && std::mem::discriminant(&a.condition)
                                    == std::mem::discriminant(&rule.condition)
                        })
                        .map(|a| ConditionOverride {
                            areas: areas.to_vec(),
                            condition: a.condition.clone(),
                            warning: (*id).to_owned(),
                        })
                })
                .collect();
            rule
        })
        .collect()
}
