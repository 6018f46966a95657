//! The numbers of the city screen for one area, from the facts of its cases: what is open,
//! overdue, supervised and urgent, today's intake and closings, the same per child area, and
//! the top problems. (The screen's ranking of the child areas is the evaluation's, from its
//! ledger: see [`crate::evaluation`].)
//!
//! Pure: the caller loads the facts ([`CaseFact`], what the store keeps per case for this) and
//! passes the time; [`summarise`] counts only the cases the viewer may see.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};

use crate::actor::Actor;
use crate::area::{Area, AreaCode, AreaLevel};
use crate::case::{is_overdue, CaseState, Source};

/// The screen counts the cases of the last 30 days, and ranks the child areas over them.
pub const RANKING_DAYS: i64 = 30;

/// How many categories the top lists name.
const TOP_CATEGORIES: usize = 10;

/// The start of the ranking period: the facts [`summarise`] needs are those of the cases
/// still open or closed since then.
pub fn ranking_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(RANKING_DAYS)
}

/// A case reduced to what statistics count.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFact {
    pub area: AreaCode,
    /// The unit the case is (or was last) dispatched to: a unit handler counts only these.
    pub unit: Option<String>,
    pub state: CaseState,
    /// The filed small-class code.
    pub category: Option<String>,
    pub source: Source,
    pub deadline: Option<DateTime<Utc>>,
    pub urgent: bool,
    pub supervised: bool,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub late_count: i64,
}

/// Counts over an area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases not yet closed, cancelled or rejected.
    pub open: u32,
    pub overdue: u32,
    pub supervised: u32,
    pub urgent: u32,
    /// Reported since the start of today (Asia/Shanghai).
    pub reported_today: u32,
    pub closed_today: u32,
}

/// The screen's numbers for one area.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    pub totals: Totals,
    /// Per child area, in the order the children were given; zero for a child without cases.
    pub by_child: Vec<(AreaCode, Totals)>,
    /// Reported today, by source, in the order of the sources' names.
    pub today_by_source: Vec<(Source, u32)>,
    /// Reported today, by filed category, most first (the top ten).
    pub today_by_category: Vec<(String, u32)>,
    /// Open, by filed category, most first (the top ten).
    pub top_categories: Vec<(String, u32)>,
}

/// Counts the cases of `area` that `viewer` may see ([`Actor::can_see_case_at`]): `facts`
/// are those of the cases within `area` still open or closed since [`ranking_since`],
/// `children` the areas one level below it, `today` the start of the local day of `now`
/// ([`crate::case::start_of_local_day`]).
pub fn summarise(
    area: &Area,
    children: &[Area],
    facts: &[CaseFact],
    viewer: &Actor,
    now: DateTime<Utc>,
    today: DateTime<Utc>,
) -> Statistics {
    let child_length = match area.level {
        AreaLevel::City => Some(6),
        AreaLevel::District => Some(9),
        AreaLevel::Street => Some(12),
        AreaLevel::Community => None,
    };
    let mut totals = Totals::default();
    let mut per_child: HashMap<&str, Totals> = HashMap::new();
    let mut by_source: BTreeMap<&'static str, (Source, u32)> = BTreeMap::new();
    let mut today_categories: BTreeMap<&str, u32> = BTreeMap::new();
    let mut open_categories: BTreeMap<&str, u32> = BTreeMap::new();
    let visible = facts
        .iter()
        .filter(|fact| viewer.can_see_case_at(&fact.area, fact.unit.as_deref()));
    for fact in visible {
        let child = child_length.and_then(|length| fact.area.as_str().get(..length));
        let mut count = |add: fn(&mut Totals)| {
            add(&mut totals);
            if let Some(child) = child {
                add(per_child.entry(child).or_default());
            }
        };
        if !fact.state.is_terminal() {
            count(|t| t.open += 1);
            if is_overdue(fact.state, fact.deadline, now) {
                count(|t| t.overdue += 1);
            }
            if fact.supervised {
                count(|t| t.supervised += 1);
            }
            if fact.urgent {
                count(|t| t.urgent += 1);
            }
            if let Some(category) = &fact.category {
                *open_categories.entry(category).or_default() += 1;
            }
        }
        if fact.created_at >= today {
            count(|t| t.reported_today += 1);
            by_source
                .entry(fact.source.as_str())
                .or_insert((fact.source, 0))
                .1 += 1;
            if let Some(category) = &fact.category {
                *today_categories.entry(category).or_default() += 1;
            }
        }
        let closed = fact.state == CaseState::Closed;
        if closed && fact.closed_at.is_some_and(|t| t >= today) {
            count(|t| t.closed_today += 1);
        }
    }
    Statistics {
        totals,
        by_child: children
            .iter()
            .map(|child| {
                let totals = per_child
                    .get(child.code.as_str())
                    .copied()
                    .unwrap_or_default();
                (child.code.clone(), totals)
            })
            .collect(),
        today_by_source: by_source.into_values().collect(),
        today_by_category: top(today_categories),
        top_categories: top(open_categories),
    }
}

fn top(counts: BTreeMap<&str, u32>) -> Vec<(String, u32)> {
    let mut list: Vec<(String, u32)> = counts
        .into_iter()
        .map(|(code, count)| (code.to_owned(), count))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(TOP_CATEGORIES);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use chrono::TimeZone;

    fn area(code: &str, level: AreaLevel) -> Area {
        Area {
            code: AreaCode::parse(code).unwrap(),
            name: code.to_owned(),
            level,
            parent: None,
        }
    }

    fn viewer(role: Role, unit: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            unit: unit.map(str::to_owned),
            scope: AreaCode::parse("310101").unwrap(),
        }
    }

    fn fact(area: &str, unit: Option<&str>, state: CaseState, now: DateTime<Utc>) -> CaseFact {
        CaseFact {
            area: AreaCode::parse(area).unwrap(),
            unit: unit.map(str::to_owned),
            state,
            category: Some("10101".into()),
            source: Source::Hotline,
            deadline: Some(now - Duration::minutes(1)),
            urgent: false,
            supervised: false,
            created_at: now - Duration::hours(1),
            closed_at: None,
            late_count: 0,
        }
    }

    #[test]
    fn a_unit_handler_counts_only_the_cases_of_their_unit() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
        let today = crate::case::start_of_local_day(now);
        let district = area("310101", AreaLevel::District);
        let streets = [area("310101002", AreaLevel::Street)];
        let facts = [
            fact("310101002001", Some("310101-ZLS"), CaseState::Handling, now),
            fact("310101002001", Some("310101-GD"), CaseState::Handling, now),
            fact("310101002001", None, CaseState::Reported, now),
        ];
        let everyone = summarise(
            &district,
            &streets,
            &facts,
            &viewer(Role::Operator, None),
            now,
            today,
        );
        assert_eq!(everyone.totals.open, 3);
        assert_eq!(everyone.by_child[0].1.open, 3);
        let water = summarise(
            &district,
            &streets,
            &facts,
            &viewer(Role::UnitHandler, Some("310101-ZLS")),
            now,
            today,
        );
        assert_eq!(water.totals.open, 1);
        assert_eq!(water.totals.overdue, 1);
        assert_eq!(water.by_child[0].1.open, 1);
        assert_eq!(water.top_categories, vec![("10101".to_owned(), 1)]);
    }

    #[test]
    fn a_parked_case_past_its_deadline_is_not_overdue() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
        let district = area("310101", AreaLevel::District);
        let facts = [
            fact("310101002001", None, CaseState::Suspended, now),
            fact("310101002001", None, CaseState::Dispatched, now),
        ];
        let stats = summarise(
            &district,
            &[],
            &facts,
            &viewer(Role::Operator, None),
            now,
            now,
        );
        assert_eq!(stats.totals.open, 2);
        assert_eq!(stats.totals.overdue, 1);
    }
}
