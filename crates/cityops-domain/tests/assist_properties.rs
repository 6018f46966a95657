//! Property test of lead and assisting units (主办 / 协办): whatever the sequence of
//! dispatches, assists, signings, feedbacks, releases, returns, retirements and checks, a case has one lead
//! that never assists on it too, a unit has at most one open part, handling never ends with a
//! part open, the timeline replays to the case, and each part fed back counts once for its
//! unit.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::evaluation::{entries_of_timeline, Counter};
use cityops_domain::workflow::{available, decide_on, replay, Clock};
use cityops_domain::*;
use proptest::prelude::*;

/// The units a dispatcher may name, all answering for Huangpu.
const UNITS: [&str; 4] = ["310101-ZLS", "310101-GD", "310101-LH", "310101-JT"];

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("u-{}-{}", role.as_str(), unit.unwrap_or("")),
        username: role.as_str().to_owned(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310101").unwrap(),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

fn class() -> FiledClass {
    FiledClass {
        code: CategoryCode::parse("20101").unwrap(),
        zh: "私搭乱建".into(),
        urgency: Urgency::Normal,
        terms: StageTerms {
            dispatch: Term {
                amount: 1,
                unit: TermUnit::WorkingHours,
            },
            handling: Term {
                amount: 1,
                unit: TermUnit::WorkingDays,
            },
            check: Term {
                amount: 2,
                unit: TermUnit::WorkingHours,
            },
            callback: StageTerms::DEFAULT_CALLBACK,
        },
    }
}

/// An inspector's report, accepted and filed: waiting for its lead.
fn filed() -> (Case, Vec<TimelineEvent>) {
    let (case, event) = report_on(
        "case-1".into(),
        NewReport {
            fields: Default::default(),
            source: Source::Inspector,
            description: "南京东路地下通道积水，需排水公司牵头处置".into(),
            address: None,
            location: Location::new(121.48, 31.238).unwrap(),
            location_accuracy_m: None,
            area: AreaCode::parse("310101002001").unwrap(),
            category_hint: None,
            component_id: None,
            reporter: None,
            unit_grid: None,
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: None,
            call: None,
        },
        &actor(Role::Inspector, None),
        Clock::plain_week(start()),
    )
    .unwrap();
    let mut timeline = vec![event];
    let mut case = case;
    for (n, (role, command)) in [
        (Role::Operator, CaseCommand::Accept { opinion: None }),
        (
            Role::ShiftLead,
            CaseCommand::File {
                class: class(),
                opinion: None,
                fields: Default::default(),
            },
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let at = start() + Duration::minutes(n as i64 + 1);
        let (next, event) =
            decide_on(&case, command, &actor(role, None), Clock::plain_week(at)).unwrap();
        case = next;
        timeline.push(event);
    }
    (case, timeline)
}

#[derive(Debug, Clone)]
enum Step {
    Dispatch(usize),
    Assist(usize),
    SignAssist(usize),
    AssistFeedback(usize),
    ReturnAssist(usize),
    ReleaseAssist(usize),
    Sign,
    Feedback,
    Return,
    SendCheck,
    Check(bool),
    Stranger(usize),
    /// A unit retires (the lead, or one with a part) and `successor` takes over.
    Retire(usize, usize),
}

fn step() -> impl Strategy<Value = Step> {
    let unit = 0..UNITS.len();
    prop_oneof![
        3 => unit.clone().prop_map(Step::Dispatch),
        4 => unit.clone().prop_map(Step::Assist),
        3 => unit.clone().prop_map(Step::SignAssist),
        3 => unit.clone().prop_map(Step::AssistFeedback),
        1 => unit.clone().prop_map(Step::ReturnAssist),
        1 => unit.clone().prop_map(Step::ReleaseAssist),
        2 => Just(Step::Sign),
        3 => Just(Step::Feedback),
        1 => Just(Step::Return),
        // A wrong unit's handler trying another unit's part is refused and changes nothing.
        1 => unit.clone().prop_map(Step::Stranger),
        1 => (unit.clone(), unit).prop_map(|(u, s)| Step::Retire(u, s)),
        2 => Just(Step::SendCheck),
        2 => any::<bool>().prop_map(Step::Check),
    ]
}

/// The command and who issues it; a lead's handler for the lead's commands. A part's
/// command picks among the units the case has parts for (so that parts get worked on), any
/// unit when it has none.
fn command(step: &Step, case: &Case) -> (CaseCommand, Actor) {
    let dispatcher = actor(Role::Dispatcher, None);
    let lead = actor(Role::UnitHandler, case.unit.as_deref());
    let part_unit = |u: usize| -> &'static str {
        let with_parts: Vec<&str> = UNITS
            .into_iter()
            .filter(|unit| case.assists.iter().any(|p| p.unit == *unit))
            .collect();
        if with_parts.is_empty() {
            UNITS[u]
        } else {
            with_parts[u % with_parts.len()]
        }
    };
    let of = |unit: &str| actor(Role::UnitHandler, Some(unit));
    let area = AreaCode::parse("310101").unwrap();
    match *step {
        Step::Dispatch(u) => (
            CaseCommand::Dispatch {
                unit: UNITS[u].into(),
                unit_jurisdiction: area,
                opinion: None,
            },
            dispatcher,
        ),
        Step::Assist(u) => (
            CaseCommand::Assist {
                unit: UNITS[u].into(),
                unit_jurisdiction: area,
                opinion: Some("协助疏导交通".into()),
            },
            dispatcher,
        ),
        Step::SignAssist(u) => (
            CaseCommand::SignAssist {
                unit: part_unit(u).into(),
                deadline: None,
            },
            of(part_unit(u)),
        ),
        Step::AssistFeedback(u) => (
            CaseCommand::AssistFeedback {
                unit: part_unit(u).into(),
                opinion: "已完成协办部分".into(),
            },
            of(part_unit(u)),
        ),
        Step::ReturnAssist(u) => (
            CaseCommand::ReturnAssist {
                unit: part_unit(u).into(),
                reason: "不属本单位职责".into(),
            },
            of(part_unit(u)),
        ),
        Step::ReleaseAssist(u) => (
            CaseCommand::ReleaseAssist {
                unit: part_unit(u).into(),
                reason: "已无需协办".into(),
            },
            dispatcher,
        ),
        Step::Sign => (CaseCommand::Sign, lead),
        Step::Feedback => (
            CaseCommand::Feedback {
                opinion: "积水已排除".into(),
                attachments: vec![],
            },
            lead,
        ),
        Step::Return => (
            CaseCommand::Return {
                reason: "非本单位职责".into(),
            },
            lead,
        ),
        Step::SendCheck => (
            CaseCommand::SendCheck { opinion: None },
            actor(Role::Operator, None),
        ),
        Step::Stranger(u) => (
            CaseCommand::AssistFeedback {
                unit: part_unit(u).into(),
                opinion: "冒名反馈".into(),
            },
            of(UNITS[(UNITS.iter().position(|x| *x == part_unit(u)).unwrap() + 1) % UNITS.len()]),
        ),
        Step::Retire(u, successor) => (
            CaseCommand::Reassign {
                unit: UNITS[successor].into(),
                reason: "单位撤并".into(),
                from: Some(if u % 2 == 0 {
                    case.unit.clone().unwrap_or_else(|| part_unit(u).into())
                } else {
                    part_unit(u).into()
                }),
            },
            actor(Role::Admin, None),
        ),
        Step::Check(passed) => (
            CaseCommand::Check {
                passed,
                opinion: None,
            },
            actor(Role::Inspector, None),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parts_keep_one_lead_and_never_let_handling_end_with_a_part_open(
        steps in prop::collection::vec(step(), 1..60)
    ) {
        let (mut case, mut timeline) = filed();
        for (n, step) in steps.iter().enumerate() {
            // Two hours apart: some parts are fed back after their one working day.
            let at = start() + Duration::minutes(120 * (n as i64 + 1));
            let (command, who) = command(step, &case);
            let open_before: Vec<String> = case.open_assists().map(|p| p.unit.clone()).collect();
            let Ok((next, event)) = decide_on(&case, command.clone(), &who, Clock::plain_week(at))
            else {
                continue;
            };
            prop_assert!(!matches!(step, Step::Stranger(_)), "another unit fed back a part");
            // Handling ends only once every part is finished.
            if matches!(command, CaseCommand::Feedback { .. }) {
                prop_assert!(open_before.is_empty(), "feedback with {:?} open", open_before);
            }
            // The part fed back (or signed) is the unit's open one, wherever it sits among its
            // earlier parts: its handler and its deadline are its own.
            if let CaseCommand::AssistFeedback { unit, .. } | CaseCommand::SignAssist { unit, .. } =
                &command
            {
                let i = case
                    .assists
                    .iter()
                    .position(|p| &p.unit == unit && p.state.is_open())
                    .expect("an open part was acted on");
                if matches!(command, CaseCommand::AssistFeedback { .. }) {
                    prop_assert_eq!(next.assists[i].handled_by.as_deref(), Some(who.user_id.as_str()));
                } else if let CaseCommand::SignAssist { deadline, .. } = &event.command {
                    prop_assert_eq!(*deadline, next.assists[i].deadline);
                }
            }
            case = next;
            timeline.push(event);

            // One lead, which never assists on its own case.
            if let Some(lead) = &case.unit {
                prop_assert!(case.open_assist(lead).is_none(), "{lead} leads and assists");
            }
            // A unit has at most one open part.
            for unit in UNITS {
                prop_assert!(case.open_assists().filter(|p| p.unit == unit).count() <= 1);
            }
            // Past handling, nothing is open.
            if matches!(
                case.state,
                CaseState::Handled | CaseState::Checking | CaseState::Checked | CaseState::Closed
            ) {
                prop_assert_eq!(case.open_assists().count(), 0);
            }
            // A part in hand has its deadline; a finished one its time.
            for part in &case.assists {
                if part.state == AssistState::Handling {
                    prop_assert!(part.deadline.is_some());
                }
                if !part.state.is_open() {
                    prop_assert!(part.finished_at.is_some());
                }
            }
        }
        // The timeline replays to the case, the parts' deadlines as they were reckoned.
        let replayed = replay(case.number.clone(), &timeline).unwrap();
        prop_assert_eq!(&replayed, &case);
        // Each part fed back counts once for its unit, on time or not as against its deadline.
        let ledger = entries_of_timeline(case.number.clone(), &timeline).unwrap();
        for unit in UNITS {
            let done = case
                .assists
                .iter()
                .filter(|p| p.unit == unit && p.state == AssistState::Done)
                .count();
            let counted = ledger
                .iter()
                .filter(|e| e.counter == Counter::PartHandled && e.unit.as_deref() == Some(unit))
                .count();
            prop_assert_eq!(done, counted, "{}", unit);
            // Given to the unit when it was named (a part handed on at a retirement stays
            // counted for the unit it was given to).
            let assigned = timeline
                .iter()
                .filter(|e| matches!(&e.command, CaseCommand::Assist { unit: u, .. } if u == unit))
                .count();
            let given = ledger
                .iter()
                .filter(|e| e.counter == Counter::PartAssigned && e.unit.as_deref() == Some(unit))
                .count();
            prop_assert_eq!(assigned, given, "{}", unit);
        }
        // No area counts a part.
        for entry in &ledger {
            if matches!(entry.counter, Counter::PartHandled | Counter::PartAssigned) {
                for level in [evaluation::Level::District, evaluation::Level::Community, evaluation::Level::Grid] {
                    prop_assert!(evaluation::subject_of(entry, level).is_none());
                }
            }
        }
    }
}

/// A flooded underpass: the drainage company leads, traffic police and the street office
/// assist; the lead cannot feed back until both are done (or one is released), the lead
/// cannot assist too, and each part's feedback is late or not against its own deadline.
#[test]
fn a_lead_feeds_back_once_its_assisting_units_are_done() {
    let (case, _) = filed();
    let at = |minutes: i64| Clock::plain_week(start() + Duration::minutes(minutes));
    let dispatcher = actor(Role::Dispatcher, None);
    let area = AreaCode::parse("310101").unwrap();
    let (case, _) = decide_on(
        &case,
        CaseCommand::Dispatch {
            unit: UNITS[0].into(),
            unit_jurisdiction: area.clone(),
            opinion: None,
        },
        &dispatcher,
        at(10),
    )
    .unwrap();
    let assist = |case: &Case, u: usize, minutes| {
        decide_on(
            case,
            CaseCommand::Assist {
                unit: UNITS[u].into(),
                unit_jurisdiction: area.clone(),
                opinion: None,
            },
            &dispatcher,
            at(minutes),
        )
    };
    let (case, _) = assist(&case, 1, 11).unwrap();
    let (case, _) = assist(&case, 2, 12).unwrap();
    assert!(matches!(
        assist(&case, 0, 13),
        Err(WorkflowError::Precondition(m)) if m.contains("leads")
    ));
    assert!(matches!(
        assist(&case, 1, 13),
        Err(WorkflowError::Precondition(m)) if m.contains("open part")
    ));
    let lead = actor(Role::UnitHandler, Some(UNITS[0]));
    let (case, _) = decide_on(&case, CaseCommand::Sign, &lead, at(14)).unwrap();
    // Another unit's handler works on their own part only.
    let police = actor(Role::UnitHandler, Some(UNITS[1]));
    let street = actor(Role::UnitHandler, Some(UNITS[2]));
    assert_eq!(
        decide_on(
            &case,
            CaseCommand::SignAssist {
                unit: UNITS[2].into(),
                deadline: None
            },
            &police,
            at(15)
        )
        .unwrap_err(),
        WorkflowError::NotAssignedUnit
    );
    let (case, signed) = decide_on(
        &case,
        CaseCommand::SignAssist {
            unit: UNITS[1].into(),
            deadline: None,
        },
        &police,
        at(15),
    )
    .unwrap();
    let CaseCommand::SignAssist { deadline, .. } = &signed.command else {
        unreachable!()
    };
    assert!(deadline.is_some(), "the event records the part's deadline");
    let feedback = CaseCommand::Feedback {
        opinion: "积水已排除".into(),
        attachments: vec![],
    };
    let refused = decide_on(&case, feedback.clone(), &lead, at(16)).unwrap_err();
    assert!(
        refused.to_string().contains(UNITS[1]) && refused.to_string().contains(UNITS[2]),
        "{refused}"
    );
    // The police's part a week later: late against its one working day.
    let (case, done) = decide_on(
        &case,
        CaseCommand::AssistFeedback {
            unit: UNITS[1].into(),
            opinion: "已疏导交通".into(),
        },
        &police,
        at(7 * 24 * 60),
    )
    .unwrap();
    assert!(done.late);
    assert_eq!(
        case.late_count, 0,
        "the case's own stages are not the part's"
    );
    assert!(available(&case, &street).contains(&CommandKind::SignAssist));
    assert!(!available(&case, &street).contains(&CommandKind::AssistFeedback));
    assert!(!available(&case, &lead).contains(&CommandKind::Feedback));
    let (case, _) = decide_on(
        &case,
        CaseCommand::ReleaseAssist {
            unit: UNITS[2].into(),
            reason: "已无需街道协助".into(),
        },
        &dispatcher,
        at(7 * 24 * 60 + 1),
    )
    .unwrap();
    assert!(available(&case, &lead).contains(&CommandKind::Feedback));
    let (case, _) = decide_on(&case, feedback, &lead, at(7 * 24 * 60 + 2)).unwrap();
    assert_eq!(case.state, CaseState::Handled);
    let states: Vec<AssistState> = case.assists.iter().map(|p| p.state).collect();
    assert_eq!(states, [AssistState::Done, AssistState::Released]);
    assert!(
        street.can_see_case(&case),
        "an assisting unit sees the case"
    );
    assert!(!actor(Role::UnitHandler, Some(UNITS[3])).can_see_case(&case));
}
