//! Property test of merging (合并) and its undoing over a handful of cases: whatever the
//! sequence of merges, undone merges, acceptances and cancellations, every timeline replays
//! to its case, no report has two masters, a master and its reports agree, and an undone
//! merge returns the report to the state it was merged from.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::workflow::{merge_on, replay, unmerge_on, Clock};
use cityops_domain::*;
use proptest::prelude::*;

const CASES: usize = 5;

fn actor(role: Role) -> Actor {
    Actor {
        user_id: format!("u-{}", role.as_str()),
        username: role.as_str().to_owned(),
        role,
        unit: None,
        scope: AreaCode::parse("310101").unwrap(),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap()
}

/// `CASES` reports with numbers of their own, each with its timeline.
fn reports() -> Vec<(Case, Vec<TimelineEvent>)> {
    let area = AreaCode::parse("310101002001").unwrap();
    (0..CASES)
        .map(|i| {
            let (mut case, event) = report_on(
                format!("case-{i}"),
                NewReport {
                    fields: Default::default(),
                    source: if i % 2 == 0 {
                        Source::Hotline
                    } else {
                        Source::Inspector
                    },
                    description: "人民广场东侧上水井盖缺失".into(),
                    address: None,
                    location: Location::new(121.47, 31.23).unwrap(),
                    location_accuracy_m: None,
                    area: area.clone(),
                    category_hint: None,
                    component_id: None,
                    reporter: None,
                    unit_grid: None,
                    hotline_ticket: None,
                    intake_terms: None,
                    grid_inspector: None,
                    call: None,
                },
                &actor(Role::Operator),
                Clock::plain_week(start()),
            )
            .unwrap();
            case.number = CaseNumber::new(
                &AreaCode::parse("310101").unwrap(),
                CaseNumber::day_of(start()),
                i as u32 + 1,
            );
            (case, vec![event])
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    Merge { report: usize, master: usize },
    Unmerge { report: usize },
    Accept { case: usize },
    Verify { case: usize },
    Cancel { case: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..CASES, 0..CASES).prop_map(|(report, master)| Step::Merge { report, master }),
        3 => (0..CASES).prop_map(|report| Step::Unmerge { report }),
        2 => (0..CASES).prop_map(|case| Step::Accept { case }),
        1 => (0..CASES).prop_map(|case| Step::Verify { case }),
        1 => (0..CASES).prop_map(|case| Step::Cancel { case }),
    ]
}

fn index_of(cases: &[(Case, Vec<TimelineEvent>)], id: &str) -> usize {
    cases.iter().position(|(c, _)| c.id == id).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn merges_and_their_undoing_keep_every_timeline_replayable_and_one_master_per_report(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        let mut cases = reports();
        // The model: each merged report's master and the state it was merged from.
        let mut merged: BTreeMap<usize, (usize, CaseState)> = BTreeMap::new();
        for (n, step) in steps.iter().enumerate() {
            let at = start() + Duration::minutes(n as i64 + 1);
            let clock = Clock::plain_week(at);
            let before: Vec<Case> = cases.iter().map(|(c, _)| c.clone()).collect();
            match *step {
                Step::Merge { report, master } => {
                    let outcome = merge_on(
                        &cases[report].0,
                        &cases[master].0,
                        None,
                        &actor(Role::Operator),
                        clock,
                    );
                    // What may be merged, said independently of the implementation.
                    let may = report != master
                        && matches!(
                            cases[report].0.state,
                            CaseState::Reported | CaseState::Accepted | CaseState::Verifying
                        )
                        && !cases[master].0.state.is_terminal()
                        && !merged.values().any(|(m, _)| *m == report);
                    prop_assert_eq!(outcome.is_ok(), may, "{:?}: {:?}", step, outcome);
                    if let Ok(change) = outcome {
                        merged.insert(report, (master, cases[report].0.state));
                        for (case, event) in [change.report, change.master] {
                            let i = index_of(&cases, &case.id);
                            cases[i].1.push(event);
                            cases[i].0 = case;
                        }
                    }
                }
                Step::Unmerge { report } => {
                    let Some(link) = cases[report].0.merged_into.clone() else {
                        prop_assert!(!merged.contains_key(&report));
                        continue;
                    };
                    let master = index_of(&cases, &link.master_id);
                    let outcome = unmerge_on(
                        &cases[report].0,
                        &cases[master].0,
                        "不是同一处".into(),
                        &actor(Role::ShiftLead),
                        clock,
                    );
                    let may = !cases[master].0.state.is_terminal();
                    prop_assert_eq!(outcome.is_ok(), may, "{:?}: {:?}", step, outcome);
                    if let Ok(change) = outcome {
                        let (_, state_before) = merged.remove(&report).unwrap();
                        prop_assert_eq!(change.report.0.state, state_before);
                        for (case, event) in [change.report, change.master] {
                            let i = index_of(&cases, &case.id);
                            cases[i].1.push(event);
                            cases[i].0 = case;
                        }
                    }
                }
                Step::Accept { case } | Step::Verify { case } | Step::Cancel { case } => {
                    let (command, who) = match step {
                        Step::Accept { .. } => (CaseCommand::Accept { opinion: None }, Role::Operator),
                        Step::Verify { .. } => (CaseCommand::RequestVerification { opinion: None }, Role::Operator),
                        _ => (CaseCommand::Cancel { reason: "重复".into() }, Role::ShiftLead),
                    };
                    if let Ok((next, event)) = decide_on(&cases[case].0, command, &actor(who), clock) {
                        cases[case].1.push(event);
                        cases[case].0 = next;
                    }
                }
            }
            // A refused step changed nothing; an accepted one changed at most two cases.
            let changed = cases
                .iter()
                .zip(&before)
                .filter(|((now, _), then)| now != *then)
                .count();
            prop_assert!(changed <= 2, "{:?} changed {} cases", step, changed);

            for (case, timeline) in &cases {
                let replayed = replay(case.number.clone(), timeline).unwrap();
                prop_assert_eq!(&replayed, case, "{:?}", step);
                prop_assert_eq!(timeline.len() as i64, case.version);
            }
            for (i, (case, _)) in cases.iter().enumerate() {
                let masters: Vec<usize> = cases
                    .iter()
                    .enumerate()
                    .filter(|(_, (m, _))| m.merged_reports.iter().any(|r| r.case_id == case.id))
                    .map(|(j, _)| j)
                    .collect();
                match merged.get(&i) {
                    Some((master, _)) => {
                        prop_assert_eq!(case.state, CaseState::Merged);
                        prop_assert_eq!(&masters, &vec![*master]);
                        let link = case.merged_into.as_ref().unwrap();
                        prop_assert_eq!(&link.master_id, &cases[*master].0.id);
                        prop_assert_eq!(&link.master, &cases[*master].0.number.0);
                        prop_assert!(cases[*master].0.merged_into.is_none(), "a chain");
                        prop_assert!(case.merged_reports.is_empty(), "a master merged away");
                    }
                    None => {
                        prop_assert!(masters.is_empty(), "case {} listed by {:?}", i, masters);
                        prop_assert!(case.merged_into.is_none());
                        prop_assert_ne!(case.state, CaseState::Merged);
                    }
                }
            }
        }
    }
}
