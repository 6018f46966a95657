//! The evaluation's ledger, kept as cases move, equals a recomputation from their timelines
//! after random workloads, on SQLite and on PostgreSQL: random commands by members of staff on
//! a few cases, hours apart at random, each written with its entries; then every case's ledger
//! and every level's sums are compared with those recomputed. The city screen's counts of
//! open cases, kept with the same steps, are compared with those of the cases as they end.

use chrono::{Duration, TimeZone, Utc};
use cityops_domain::case::start_of_local_day;
use cityops_domain::evaluation::{
    entries_of_timeline, figures, Counter, Figures, LedgerEntry, Level, Subject,
};
use cityops_domain::stats;
use cityops_domain::watch::WatchFinding;
use cityops_domain::*;
use cityops_store::*;
use cityops_test_support::scratch::{test_url, ScratchDatabase};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::sync::Arc;

fn keys() -> PiiKeys {
    PiiKeys::parse(&PiiKeys::new_key_line("test")).unwrap()
}

fn staff(user: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: user.into(),
        username: user.into(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310000").unwrap(),
    }
}

/// The commands a workload draws from, each with who issues it.
fn moves() -> Vec<(CaseCommand, Actor)> {
    let catalog = CategoryCatalog::shipped();
    let class =
        FiledClass::from_category(catalog.get(&CategoryCode::parse("20101").unwrap()).unwrap());
    let zls = staff("h1", Role::UnitHandler, Some("310101-ZLS"));
    let gd = staff("h2", Role::UnitHandler, Some("310101-GD"));
    let dispatch = |unit: &str| CaseCommand::Dispatch {
        unit: unit.into(),
        unit_jurisdiction: AreaCode::parse("310101").unwrap(),
        opinion: None,
    };
    vec![
        (
            CaseCommand::Accept { opinion: None },
            staff("o1", Role::Operator, None),
        ),
        (
            CaseCommand::RequestVerification { opinion: None },
            staff("o2", Role::Operator, None),
        ),
        (
            CaseCommand::Verify {
                exists: true,
                opinion: None,
            },
            staff("i1", Role::Inspector, None),
        ),
        (
            CaseCommand::File {
                fields: Default::default(),
                class,
                opinion: None,
            },
            staff("s1", Role::ShiftLead, None),
        ),
        (dispatch("310101-ZLS"), staff("d1", Role::Dispatcher, None)),
        (dispatch("310101-GD"), staff("d2", Role::Dispatcher, None)),
        (CaseCommand::Sign, zls.clone()),
        (CaseCommand::Sign, gd.clone()),
        (
            CaseCommand::Return {
                reason: "不属本单位".into(),
            },
            gd.clone(),
        ),
        (
            CaseCommand::Feedback {
                opinion: "已处置".into(),
                attachments: vec![],
            },
            zls,
        ),
        (
            CaseCommand::Feedback {
                opinion: "已处置".into(),
                attachments: vec![],
            },
            gd,
        ),
        (
            CaseCommand::SendCheck { opinion: None },
            staff("o1", Role::Operator, None),
        ),
        (
            CaseCommand::Check {
                passed: true,
                opinion: None,
            },
            staff("i1", Role::Inspector, None),
        ),
        (
            CaseCommand::Check {
                passed: false,
                opinion: None,
            },
            staff("i2", Role::Inspector, None),
        ),
        (
            CaseCommand::Close { opinion: None },
            staff("s2", Role::ShiftLead, None),
        ),
        (
            CaseCommand::SetUrgent { urgent: true },
            staff("s1", Role::ShiftLead, None),
        ),
        (
            CaseCommand::SetUrgent { urgent: false },
            staff("s1", Role::ShiftLead, None),
        ),
        (
            CaseCommand::Supervise {
                opinion: "请加快处置".into(),
                term: None,
                deadline: None,
            },
            staff("l1", Role::CenterLeader, None),
        ),
        (
            CaseCommand::Cancel {
                reason: "重复".into(),
            },
            staff("s1", Role::ShiftLead, None),
        ),
        (
            CaseCommand::Watch {
                finding: WatchFinding::Overdue {
                    stage: cityops_domain::case::Stage::Handling,
                    next: None,
                },
            },
            staff("system", Role::System, None),
        ),
        (
            CaseCommand::Appeal {
                ground: cityops_domain::appeal::AppealGround::Rework,
                unit: "310101-ZLS".into(),
                reason: "核查时尚未养护完成".into(),
            },
            staff("h1", Role::UnitHandler, Some("310101-ZLS")),
        ),
        (
            CaseCommand::Appeal {
                ground: cityops_domain::appeal::AppealGround::LateHandling,
                unit: "310101-GD".into(),
                reason: "等待道路开挖许可".into(),
            },
            staff("h2", Role::UnitHandler, Some("310101-GD")),
        ),
        (
            CaseCommand::DecideAppeal {
                appeal: 1,
                accepted: true,
                opinion: "申诉成立".into(),
            },
            staff("e1", Role::Evaluator, None),
        ),
        (
            CaseCommand::DecideAppeal {
                appeal: 2,
                accepted: true,
                opinion: "申诉成立".into(),
            },
            staff("e1", Role::Evaluator, None),
        ),
        (
            CaseCommand::DecideAppeal {
                appeal: 1,
                accepted: false,
                opinion: "申诉不成立".into(),
            },
            staff("e1", Role::Evaluator, None),
        ),
    ]
}

/// A workload: for each step, which case (of four), which move, and how many minutes to wait
/// before it (steps are hours apart at times, so some are late and days change).
fn workload() -> impl Strategy<Value = Vec<(usize, usize, i64)>> {
    proptest::collection::vec((0usize..4, 0usize..25, 1i64..600), 30..120)
}

async fn run(store: Arc<dyn Store>, steps: Vec<(usize, usize, i64)>, salt: u64) {
    let moves = moves();
    let mut now = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let mut cases = Vec::new();
    for (i, (source, area)) in [
        (Source::Inspector, "310101002001"),
        (Source::Hotline, "310101002002"),
        (Source::Inspector, "310101001001"),
        (Source::Photo, "310101002001"),
    ]
    .into_iter()
    .enumerate()
    {
        let (case, event) = report(
            format!("case-{salt}-{i}"),
            NewReport {
                fields: Default::default(),
                source,
                description: "井盖缺失".into(),
                address: None,
                location: Location::new(121.48, 31.23).unwrap(),
                location_accuracy_m: None,
                area: AreaCode::parse(area).unwrap(),
                category_hint: None,
                component_id: None,
                reporter: None,
                unit_grid: Some(format!("{area}01")),
                hotline_ticket: None,
                intake_terms: None,
                grid_inspector: None,
                call: None,
            },
            &staff("i1", Role::Inspector, None),
            now,
        )
        .unwrap();
        cases.push(store.insert_case(case, event).await.unwrap());
    }
    for (which, step, wait) in steps {
        now += Duration::minutes(wait);
        // The first move from the drawn one on that the case takes: most steps move a case,
        // so workloads reach handling, checks (passed and failed), closing and cancelling.
        // Cancelling only when drawn itself, or most cases would end at once; marking urgent
        // or supervised too, since they apply in any open state and would stall the case.
        for offset in 0..moves.len() {
            let (command, actor) = &moves[(step + offset) % moves.len()];
            let only_drawn = matches!(
                command,
                CaseCommand::Cancel { .. }
                    | CaseCommand::SetUrgent { .. }
                    | CaseCommand::Supervise { .. }
            );
            if offset > 0 && only_drawn {
                continue;
            }
            if let Ok((next, event)) = decide(&cases[which], command.clone(), actor, now) {
                store.update_case(&next, &event, None).await.unwrap();
                cases[which] = next;
                break;
            }
        }
    }
    let mut recomputed: Vec<LedgerEntry> = Vec::new();
    for case in &cases {
        let timeline = store.timeline(&case.id).await.unwrap();
        let mut expected = entries_of_timeline(case.number.clone(), &timeline).unwrap();
        let mut kept = store.case_ledger(&case.id).await.unwrap();
        expected.sort();
        kept.sort();
        assert_eq!(kept, expected, "case {}", case.number);
        recomputed.extend(expected);
    }
    // Whole months (read from the monthly sums), and periods with days around them or none
    // (read from the daily sums too).
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    for (from, to) in [
        (day(11, 1), day(12, 31)),
        (day(10, 20), day(11, 30)),
        (day(11, 3), day(12, 31)),
        (day(11, 1), day(11, 3)),
    ] {
        for level in Level::ALL {
            let mut stored: BTreeMap<(String, Option<Role>), Figures> = BTreeMap::new();
            for sum in store.ledger_sums(level, from, to).await.unwrap() {
                stored
                    .entry((sum.key, sum.role))
                    .or_default()
                    .add(sum.counter, sum.n);
            }
            let expected: BTreeMap<(String, Option<Role>), Figures> =
                figures(&recomputed, level, from, to)
                    .into_iter()
                    .map(|(subject, f)| {
                        let key = match subject {
                            Subject::Area { code }
                            | Subject::Grid { code }
                            | Subject::Unit { code } => (code, None),
                            Subject::Position { role, user_id } => (user_id, Some(role)),
                        };
                        (key, f)
                    })
                    .collect();
            assert_eq!(stored, expected, "{level:?} {from}..{to}");
        }
    }
    // The daily sums kept with each step are those of the recomputed entries, and stay so
    // when a case's ledger is rebuilt.
    let mut daily = BTreeMap::new();
    add_daily(&recomputed, 1, &mut daily);
    daily.retain(|_, n| *n != 0);
    assert_eq!(store.daily_sums().await.unwrap(), daily);
    assert_eq!(store.monthly_sums().await.unwrap(), monthly_of(&daily));
    for case in &cases {
        store.rebuild_case_ledger(&case.id).await.unwrap();
    }
    assert_eq!(store.daily_sums().await.unwrap(), daily);
    assert_eq!(store.monthly_sums().await.unwrap(), monthly_of(&daily));
    // The screen's counts of open cases, kept with each step, are those of the cases as they
    // are now, and what the screen reads summarises as every case's facts do.
    let mut open = BTreeMap::new();
    for case in &cases {
        if let Some(tally) = stats::OpenTally::of(&stats::CaseFact::of(case)) {
            *open.entry(tally).or_insert(0i64) += 1;
        }
    }
    assert_eq!(store.open_tallies().await.unwrap(), open);
    assert_eq!(store.open_tallies_of_cases().await.unwrap(), open);
    let city = Area {
        code: AreaCode::parse("310000").unwrap(),
        name: "上海市".into(),
        level: AreaLevel::City,
        parent: None,
    };
    let district = Area {
        code: AreaCode::parse("310101").unwrap(),
        name: "黄浦区".into(),
        level: AreaLevel::District,
        parent: Some(city.code.clone()),
    };
    let facts: Vec<_> = cases.iter().map(stats::CaseFact::of).collect();
    // The end of the workload's last day and the start of it, and a day later (nothing today).
    for (at, today) in [
        (now, start_of_local_day(now)),
        (
            now + Duration::days(1),
            start_of_local_day(now + Duration::days(1)),
        ),
    ] {
        let kept = store.screen_facts(&city.code, at, today).await.unwrap();
        let whole = stats::ScreenFacts::of_cases(&facts, at, today);
        for viewer in [
            staff("o1", Role::Operator, None),
            staff("h1", Role::UnitHandler, Some("310101-ZLS")),
        ] {
            assert_eq!(
                stats::summarise(&city, std::slice::from_ref(&district), &kept, &viewer),
                stats::summarise(&city, std::slice::from_ref(&district), &whole, &viewer),
                "the screen of {:?} at {at}",
                viewer.role
            );
        }
    }
    // Something beyond the reports was counted: a workload that moved nothing proves little.
    assert!(recomputed.iter().any(|e| e.counter != Counter::Reported));
}

use chrono::NaiveDate;

/// Runs random workloads (shrunk to the smallest failing one on a failure), each on a fresh
/// store from `open`, in a runtime of its own: proptest drives the cases synchronously.
fn random_workloads<F, Fut>(open: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (Arc<dyn Store>, Option<ScratchDatabase>)>,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let salt = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&workload(), |steps| {
            let n = salt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(async {
                let (store, scratch) = open(n).await;
                run(store.clone(), steps, n as u64).await;
                drop(store);
                if let Some(db) = scratch {
                    db.drop_now().await.unwrap();
                }
            });
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_ledger_equals_a_recomputation_after_random_workloads_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    random_workloads(|n| {
        let url = format!("sqlite://{}", dir.path().join(format!("w{n}.db")).display());
        async move { (open(&url, keys()).await.unwrap(), None) }
    });
}

#[test]
fn the_ledger_equals_a_recomputation_after_random_workloads_on_postgres() {
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL ledger test skipped");
        return;
    };
    random_workloads(|_| {
        let admin = admin.clone();
        async move {
            let db = ScratchDatabase::create(&admin).await.unwrap();
            let store = open(&db.url, keys()).await.unwrap();
            (store, Some(db))
        }
    });
}
