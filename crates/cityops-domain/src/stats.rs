//! The numbers of the city screen for one area: what is open, overdue, supervised and urgent,
//! today's intake and closings, the same per child area, and the top problems. (The screen's
//! ranking of the child areas is the evaluation's, from its ledger: see [`crate::evaluation`].)
//!
//! A city of ten million cases cannot be read case by case for each look at the screen, so the
//! screen reads [`ScreenFacts`]: the open cases as counts kept per [`OpenTally`] (the store
//! moves them in the transaction that moves a case), the few open cases whose clock has run
//! out, and today's cases. [`ScreenFacts::of_cases`] derives the same from every case's
//! [`CaseFact`]: the definition the kept counts are checked against.
//!
//! Pure: the caller loads the facts and passes the time; [`summarise`] counts only what the
//! viewer may see.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

use crate::actor::Actor;
use crate::area::{Area, AreaCode, AreaLevel};
use crate::case::{is_overdue, Case, CaseState, Source};

/// The screen ranks the child areas over the last 30 days.
pub const RANKING_DAYS: i64 = 30;

/// How many categories the top lists name.
const TOP_CATEGORIES: usize = 10;

/// A case reduced to what statistics count.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFact {
    pub area: AreaCode,
    /// The unit the case is (or was last) dispatched to: a unit handler counts only these.
    pub unit: Option<String>,
    pub state: CaseState,
    /// The filed small-class code (or, before filing, the reporter's hint).
    pub category: Option<String>,
    pub source: Source,
    /// The deadline of the stage whose clock runs; none when finished or parked.
    pub deadline: Option<DateTime<Utc>>,
    pub urgent: bool,
    pub supervised: bool,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl CaseFact {
    pub fn of(case: &Case) -> CaseFact {
        CaseFact {
            area: case.area.clone(),
            unit: case.unit.clone(),
            state: case.state,
            category: case
                .category
                .as_ref()
                .map(|class| class.code.to_string())
                .or_else(|| case.category_hint.as_ref().map(ToString::to_string)),
            source: case.source,
            deadline: case.running_deadline(),
            urgent: case.urgent,
            supervised: case.supervised,
            created_at: case.created_at,
            closed_at: case.closed_at,
        }
    }
}

/// What an open case adds one to in the kept counts: everything the screen tells open cases
/// apart by, and nothing that changes without the case moving (its deadline passing does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenTally {
    pub area: AreaCode,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub urgent: bool,
    pub supervised: bool,
}

impl OpenTally {
    /// The count a case adds to while it is open; none once it is closed, cancelled or invalid.
    pub fn of(fact: &CaseFact) -> Option<OpenTally> {
        (!fact.state.is_terminal()).then(|| OpenTally {
            area: fact.area.clone(),
            unit: fact.unit.clone(),
            category: fact.category.clone(),
            urgent: fact.urgent,
            supervised: fact.supervised,
        })
    }
}

/// Moves `tallies` by a case's change from `before` (none: a new case) to `after`: one off the
/// count it left, one on the count it joined, nothing when it stayed in the same one. Counts
/// that reach zero stay in the map as zero for the caller to delete.
pub fn move_tallies(
    before: Option<&CaseFact>,
    after: &CaseFact,
    tallies: &mut BTreeMap<OpenTally, i64>,
) {
    let left = before.and_then(OpenTally::of);
    let joined = OpenTally::of(after);
    if left == joined {
        return;
    }
    if let Some(key) = left {
        *tallies.entry(key).or_default() -= 1;
    }
    if let Some(key) = joined {
        *tallies.entry(key).or_default() += 1;
    }
}

/// Where a case counts and whose it is: its area (or the area of that level the store grouped
/// it under, see [`grain`]) and its unit, which decides whether a unit handler sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AreaUnit {
    pub area: AreaCode,
    pub unit: Option<String>,
}

/// What a case reported today is counted by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportTally {
    pub area: AreaCode,
    pub unit: Option<String>,
    pub source: Source,
    pub category: Option<String>,
}

/// What the screen reads for one area, as counts. The store groups them by the area of the
/// screen's child level ([`grain`]): a city's screen sums a few thousand rows, not a row per
/// case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScreenFacts {
    /// The open cases.
    pub open: Vec<(OpenTally, u64)>,
    /// The open cases whose running deadline is past.
    pub overdue: Vec<(AreaUnit, u64)>,
    /// The cases reported since the start of today.
    pub reported_today: Vec<(ReportTally, u64)>,
    /// The cases closed since the start of today.
    pub closed_today: Vec<(AreaUnit, u64)>,
}

/// The length of the area codes the screen of an area at `level` counts by: its children's
/// (a community's screen, which has none, by its own).
pub fn grain(level: AreaLevel) -> usize {
    match level {
        AreaLevel::City => 6,
        AreaLevel::District => 9,
        AreaLevel::Street | AreaLevel::Community => 12,
    }
}

impl ScreenFacts {
    /// The screen's facts from every case's (`facts`, those within the area), ungrouped: the
    /// definition that the store's kept counts and grouped reads must agree with.
    pub fn of_cases(facts: &[CaseFact], now: DateTime<Utc>, today: DateTime<Utc>) -> ScreenFacts {
        fn counted<K: Ord>(keys: impl Iterator<Item = K>) -> Vec<(K, u64)> {
            let mut counts: BTreeMap<K, u64> = BTreeMap::new();
            for key in keys {
                *counts.entry(key).or_default() += 1;
            }
            counts.into_iter().collect()
        }
        let place = |f: &CaseFact| AreaUnit {
            area: f.area.clone(),
            unit: f.unit.clone(),
        };
        ScreenFacts {
            open: counted(facts.iter().filter_map(OpenTally::of)),
            overdue: counted(
                facts
                    .iter()
                    .filter(|f| is_overdue(f.state, f.deadline, now))
                    .map(place),
            ),
            reported_today: counted(facts.iter().filter(|f| f.created_at >= today).map(|f| {
                ReportTally {
                    area: f.area.clone(),
                    unit: f.unit.clone(),
                    source: f.source,
                    category: f.category.clone(),
                }
            })),
            closed_today: counted(facts.iter().filter(|f| closed_since(f, today)).map(place)),
        }
    }
}

/// Whether the case was closed since `today` (the start of the local day).
pub fn closed_since(fact: &CaseFact, today: DateTime<Utc>) -> bool {
    fact.state == CaseState::Closed && fact.closed_at.is_some_and(|t| t >= today)
}

/// Counts over an area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases not yet closed, cancelled or found invalid.
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

/// Counts what of `facts` (those of `area`, see [`ScreenFacts`]) `viewer` may see
/// ([`Actor::can_see_case_at`]): `children` are the areas one level below `area`.
pub fn summarise<'f>(
    area: &Area,
    children: &[Area],
    facts: &'f ScreenFacts,
    viewer: &Actor,
) -> Statistics {
    let child_length = (area.level != AreaLevel::Community).then(|| grain(area.level));
    let child_of = |area: &'f AreaCode| child_length.and_then(|length| area.as_str().get(..length));
    let mut totals = Totals::default();
    let mut per_child: HashMap<&str, Totals> = HashMap::new();
    let mut count = |area: &'f AreaCode, n: u32, add: fn(&mut Totals, u32)| {
        add(&mut totals, n);
        if let Some(child) = child_of(area) {
            add(per_child.entry(child).or_default(), n);
        }
    };
    let mut open_categories: BTreeMap<&str, u32> = BTreeMap::new();
    for (tally, n) in &facts.open {
        if !viewer.can_see_case_at(&tally.area, tally.unit.as_deref()) {
            continue;
        }
        let n = u32::try_from(*n).unwrap_or(u32::MAX);
        count(&tally.area, n, |t, n| t.open += n);
        if tally.supervised {
            count(&tally.area, n, |t, n| t.supervised += n);
        }
        if tally.urgent {
            count(&tally.area, n, |t, n| t.urgent += n);
        }
        if let Some(category) = &tally.category {
            *open_categories.entry(category).or_default() += n;
        }
    }
    let sees = |place: &AreaUnit| viewer.can_see_case_at(&place.area, place.unit.as_deref());
    let weight = |n: &u64| u32::try_from(*n).unwrap_or(u32::MAX);
    for (place, n) in facts.overdue.iter().filter(|(place, _)| sees(place)) {
        count(&place.area, weight(n), |t, n| t.overdue += n);
    }
    for (place, n) in facts.closed_today.iter().filter(|(place, _)| sees(place)) {
        count(&place.area, weight(n), |t, n| t.closed_today += n);
    }
    let mut by_source: BTreeMap<&'static str, (Source, u32)> = BTreeMap::new();
    let mut today_categories: BTreeMap<&str, u32> = BTreeMap::new();
    for (report, n) in &facts.reported_today {
        if !viewer.can_see_case_at(&report.area, report.unit.as_deref()) {
            continue;
        }
        let n = weight(n);
        count(&report.area, n, |t, n| t.reported_today += n);
        by_source
            .entry(report.source.as_str())
            .or_insert((report.source, 0))
            .1 += n;
        if let Some(category) = &report.category {
            *today_categories.entry(category).or_default() += n;
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
    use chrono::{Duration, TimeZone};

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
            &ScreenFacts::of_cases(&facts, now, today),
            &viewer(Role::Operator, None),
        );
        assert_eq!(everyone.totals.open, 3);
        assert_eq!(everyone.by_child[0].1.open, 3);
        let water = summarise(
            &district,
            &streets,
            &ScreenFacts::of_cases(&facts, now, today),
            &viewer(Role::UnitHandler, Some("310101-ZLS")),
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
            &ScreenFacts::of_cases(&facts, now, now),
            &viewer(Role::Operator, None),
        );
        assert_eq!(stats.totals.open, 2);
        assert_eq!(stats.totals.overdue, 1);
    }

    #[test]
    fn a_case_moves_its_count_only_when_what_the_screen_tells_apart_changes() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
        let reported = fact("310101002001", None, CaseState::Reported, now);
        let mut tallies = BTreeMap::new();
        move_tallies(None, &reported, &mut tallies);
        let first = OpenTally::of(&reported).unwrap();
        assert_eq!(tallies, BTreeMap::from([(first.clone(), 1)]));

        // Accepting changes the state alone: the case stays in its count.
        let accepted = CaseFact {
            state: CaseState::Accepted,
            ..reported.clone()
        };
        move_tallies(Some(&reported), &accepted, &mut tallies);
        assert_eq!(tallies, BTreeMap::from([(first.clone(), 1)]));

        // Dispatching names a unit: the case moves to the unit's count.
        let dispatched = CaseFact {
            state: CaseState::Dispatched,
            unit: Some("310101-ZLS".into()),
            ..accepted.clone()
        };
        move_tallies(Some(&accepted), &dispatched, &mut tallies);
        let second = OpenTally::of(&dispatched).unwrap();
        assert_eq!(
            tallies,
            BTreeMap::from([(first.clone(), 0), (second.clone(), 1)])
        );

        // Closing leaves every count.
        let closed = CaseFact {
            state: CaseState::Closed,
            closed_at: Some(now),
            ..dispatched.clone()
        };
        move_tallies(Some(&dispatched), &closed, &mut tallies);
        assert_eq!(tallies, BTreeMap::from([(first, 0), (second, 0)]));
        assert_eq!(OpenTally::of(&closed), None);
    }

    #[test]
    fn a_case_reported_and_closed_today_counts_on_both_and_no_longer_open() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
        let today = crate::case::start_of_local_day(now);
        let district = area("310101", AreaLevel::District);
        let facts = [
            CaseFact {
                closed_at: Some(now),
                ..fact("310101002001", None, CaseState::Closed, now)
            },
            // Reported yesterday, cancelled today: neither open nor closed today.
            CaseFact {
                created_at: today - Duration::hours(2),
                closed_at: Some(now),
                ..fact("310101002001", None, CaseState::Cancelled, now)
            },
        ];
        let screen = ScreenFacts::of_cases(&facts, now, today);
        assert!(screen.open.is_empty());
        assert_eq!(
            (screen.reported_today.len(), screen.closed_today.len()),
            (1, 1)
        );
        let stats = summarise(&district, &[], &screen, &viewer(Role::Operator, None));
        assert_eq!(
            (
                stats.totals.open,
                stats.totals.reported_today,
                stats.totals.closed_today
            ),
            (0, 1, 1)
        );
    }
}
