//! The responsibility matrix: which unit handles a case, by category and area.
//!
//! A rule names a category (a small-class code or a prefix: `1` all components, `101` public
//! utilities, `10101` water-supply covers), an area (any code: its whole subtree), optionally
//! the owner of the component concerned, and the responsible unit. The most specific rule
//! wins, in this order: component owner given, then the longer category prefix, then the
//! deeper area. A case about a census component goes to the component's maintainer unless a
//! rule names the component's owner: the maintainer is who the census says fixes it, and an
//! owner rule is how a city overrides the census for one owner's facilities. Without an
//! explicit rule, the category's default kind of unit in the case's district (or the street
//! office of its street) is proposed, and the explanation says so.

use serde::{Deserialize, Serialize};

use crate::area::AreaCode;
use crate::category::Category;
use crate::component::ComponentUnits;
use crate::unit::{Unit, UnitKind};
use crate::InvalidInput;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// A small-class code or a prefix of one (1 to 5 digits).
    pub category: String,
    /// The area whose subtree the rule covers.
    pub area: AreaCode,
    /// Only for components owned by this unit.
    pub owner: Option<String>,
    pub unit: String,
}

impl Rule {
    pub fn new(
        category: &str,
        area: &str,
        owner: Option<&str>,
        unit: &str,
    ) -> Result<Rule, InvalidInput> {
        let valid =
            (1..=5).contains(&category.len()) && category.bytes().all(|b| b.is_ascii_digit());
        if !valid || !matches!(&category[..1], "1" | "2") {
            return Err(InvalidInput::new("category", format!("'{category}' is not a category code or prefix (1 to 5 digits, starting 1 or 2)")));
        }
        if unit.trim().is_empty() || unit.len() > 64 {
            return Err(InvalidInput::new(
                "unit",
                "a unit code has 1 to 64 characters",
            ));
        }
        Ok(Rule {
            category: category.to_owned(),
            area: AreaCode::parse(area)?,
            owner: owner.filter(|o| !o.is_empty()).map(str::to_owned),
            unit: unit.to_owned(),
        })
    }

    fn matches(&self, category: &str, area: &AreaCode, owner: Option<&str>) -> bool {
        category.starts_with(&self.category)
            && self.area.contains(area)
            && self.owner.as_deref().is_none_or(|o| Some(o) == owner)
    }

    /// Higher is more specific.
    fn specificity(&self) -> (bool, usize, usize) {
        (
            self.owner.is_some(),
            self.category.len(),
            self.area.as_str().len(),
        )
    }
}

/// Why a unit was proposed, in words an official can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub unit: String,
    /// The explicit rule that matched, if any.
    pub rule: Option<Rule>,
    /// Other rules that matched but were less specific.
    pub overridden: Vec<Rule>,
    pub reason: String,
}

/// Routes a case: a rule for the component's owner, else the component's maintainer, else
/// the most specific matching rule, else the category's default unit kind.
pub fn route(
    rules: &[Rule],
    category: &Category,
    area: &AreaCode,
    component: Option<&ComponentUnits>,
) -> Option<Decision> {
    let code = category.code.as_str();
    let owner = component.and_then(|c| c.owner.as_deref());
    let mut matching: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.matches(code, area, owner))
        .collect();
    // Most specific first; equal specificity is broken by the unit code so the answer never
    // depends on the order rules were loaded in.
    matching.sort_by(|a, b| {
        b.specificity()
            .cmp(&a.specificity())
            .then_with(|| a.unit.cmp(&b.unit))
    });
    let owner_rule = matching.first().is_some_and(|r| r.owner.is_some());
    if let (Some(c), Some(maintainer), false) = (
        component,
        component.and_then(|c| c.maintainer.as_deref()),
        owner_rule,
    ) {
        return Some(Decision {
            unit: maintainer.to_owned(),
            rule: None,
            overridden: matching.iter().map(|r| (*r).clone()).collect(),
            reason: format!(
                "component {}: the census names {maintainer} as its maintainer{}",
                c.id,
                if matching.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (it takes precedence over {} matching area rules)",
                        matching.len()
                    )
                }
            ),
        });
    }
    if let Some((best, rest)) = matching.split_first() {
        let owner_note = best
            .owner
            .as_ref()
            .map(|o| format!(", for components owned by {o}"))
            .unwrap_or_default();
        return Some(Decision {
            unit: best.unit.clone(),
            rule: Some((*best).clone()),
            overridden: rest.iter().map(|r| (*r).clone()).collect(),
            reason: format!(
                "rule: category {}* in area {}{owner_note} -> {} (the most specific of {} matching rules)",
                best.category,
                best.area,
                best.unit,
                matching.len()
            ),
        });
    }
    let unit = Unit::default_code_for(category.unit_kind, area)?;
    let place = if category.unit_kind == UnitKind::StreetOffice {
        "street"
    } else {
        "district"
    };
    Some(Decision {
        unit: unit.clone(),
        rule: None,
        overridden: Vec::new(),
        reason: format!(
            "no rule matches category {code} in area {area}: the {place}'s default {} unit for {} ({}) -> {unit}",
            category.unit_kind.as_str(),
            category.zh,
            code
        ),
    })
}

/// Parses rules from CSV (`category,area,owner,unit`; a BOM is tolerated). All or nothing:
/// the first bad line refuses the file, naming the line.
pub fn parse_rules_csv(text: &str) -> Result<Vec<Rule>, InvalidInput> {
    let mut reader = crate::csv_file::reader(text);
    let headers = reader
        .headers()
        .map_err(|e| InvalidInput::new("file", e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            InvalidInput::new(
                "file",
                format!(
                    "the header needs the columns category, area, owner, unit; {name} is missing"
                ),
            )
        })
    };
    let (c, a, o, u) = (
        column("category")?,
        column("area")?,
        column("owner")?,
        column("unit")?,
    );
    let mut rules = Vec::new();
    for record in reader.records() {
        let record = record
            .map(crate::csv_file::unescape)
            .map_err(|e| InvalidInput::new("file", e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let rule = Rule::new(field(c), field(a), Some(field(o)), field(u))
            .map_err(|e| InvalidInput::new(format!("line {line}: {}", e.field), e.reason))?;
        rules.push(rule);
    }
    Ok(rules)
}

/// The rules as CSV with a BOM, so Excel opens the file as UTF-8.
pub fn rules_csv(rules: &[Rule]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["category", "area", "owner", "unit"]);
    for rule in rules {
        let _ = crate::csv_file::write_row(
            &mut writer,
            [
                rule.category.as_str(),
                rule.area.as_str(),
                rule.owner.as_deref().unwrap_or(""),
                rule.unit.as_str(),
            ],
        );
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::{CategoryCatalog, CategoryCode};

    fn category(code: &str) -> Category {
        CategoryCatalog::shipped()
            .get(&CategoryCode::parse(code).unwrap())
            .unwrap()
            .clone()
    }

    fn area(code: &str) -> AreaCode {
        AreaCode::parse(code).unwrap()
    }

    #[test]
    fn the_most_specific_rule_wins_and_the_owner_overrides() {
        let rules = vec![
            Rule::new("1", "310000", None, "CITY-ALL-COMPONENTS").unwrap(),
            Rule::new("101", "310101", None, "HP-UTILITIES").unwrap(),
            Rule::new("10101", "310101", None, "HP-WATER-COVERS").unwrap(),
            Rule::new("10101", "310101002", None, "NJDL-WATER-COVERS").unwrap(),
            Rule::new("1", "310000", Some("OWNER-X"), "OWNER-X-MAINT").unwrap(),
        ];
        let cover = category("10101");
        let owned_by = |owner: &str| ComponentUnits {
            id: "3101010101000001".into(),
            owner: Some(owner.into()),
            maintainer: None,
        };
        let decide = |a: &str, component: Option<&ComponentUnits>| {
            route(&rules, &cover, &area(a), component).unwrap()
        };
        assert_eq!(decide("310101002001", None).unit, "NJDL-WATER-COVERS");
        assert_eq!(decide("310101013001", None).unit, "HP-WATER-COVERS");
        assert_eq!(decide("310104003", None).unit, "CITY-ALL-COMPONENTS");
        let owned = decide("310101002001", Some(&owned_by("OWNER-X")));
        assert_eq!(owned.unit, "OWNER-X-MAINT");
        assert_eq!(owned.overridden.len(), 4);
        assert!(
            owned.reason.contains("owned by OWNER-X"),
            "{}",
            owned.reason
        );
        let light = route(&rules, &category("10118"), &area("310101002001"), None).unwrap();
        assert_eq!(light.unit, "HP-UTILITIES");

        // The census's maintainer beats area rules, but not a rule for the owner.
        let maintained = ComponentUnits {
            id: "3101010101000001".into(),
            owner: Some("OWNER-Y".into()),
            maintainer: Some("Y-MAINT".into()),
        };
        let decision = decide("310101002001", Some(&maintained));
        assert_eq!(decision.unit, "Y-MAINT");
        assert!(decision.rule.is_none());
        assert_eq!(decision.overridden.len(), 4);
        assert!(
            decision.reason.contains("component 3101010101000001")
                && decision.reason.contains("maintainer"),
            "{}",
            decision.reason
        );
        let both = ComponentUnits {
            owner: Some("OWNER-X".into()),
            ..maintained
        };
        assert_eq!(decide("310101002001", Some(&both)).unit, "OWNER-X-MAINT");
        // A component without units in the census routes like any case.
        let bare = owned_by("NOBODY");
        assert_eq!(
            decide("310101002001", Some(&bare)).unit,
            "NJDL-WATER-COVERS"
        );
    }

    #[test]
    fn without_a_rule_the_categorys_default_unit_of_the_district_is_proposed() {
        let decision = route(&[], &category("10101"), &area("310101002001"), None).unwrap();
        assert_eq!(decision.unit, "310101-ZLS");
        assert!(decision.rule.is_none());
        assert!(
            decision.reason.contains("no rule matches"),
            "{}",
            decision.reason
        );
        let vagrancy = route(&[], &category("20502"), &area("310101002001"), None).unwrap();
        assert_eq!(
            vagrancy.unit, "310101002-JDB",
            "street offices answer per street"
        );
        assert!(
            route(&[], &category("20502"), &area("310101"), None).is_none(),
            "a district-level case has no street office"
        );
    }

    #[test]
    fn rules_round_trip_through_csv_and_bad_lines_are_named() {
        let rules = vec![
            Rule::new("101", "310101", None, "HP-UTILITIES").unwrap(),
            Rule::new("2", "310000", Some("OWNER"), "U").unwrap(),
        ];
        let csv = rules_csv(&rules);
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(parse_rules_csv(&csv).unwrap(), rules);
        let bad = "category,area,owner,unit\n101,310101,,A\n9x,310101,,B\n";
        let error = parse_rules_csv(bad).unwrap_err();
        assert_eq!(error.field, "line 3: category");
    }
}
