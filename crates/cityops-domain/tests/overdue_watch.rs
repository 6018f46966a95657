//! The overdue watch: yellow at the warning share of a stage's working time, red past its
//! deadline, then the escalation policy's steps; a supervision notice's own deadline; and the
//! index the store keeps ([`Case::watch_at`]) agreeing with the watch's decision at every
//! moment. Times are Beijing time (UTC+8) on the shipped 2026 calendar with the default
//! working hours, 08:30-12:00 and 13:30-17:30.

mod common;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::calendar::WorkingCalendar;
use cityops_domain::case::{DeadlineMark, Stage};
use cityops_domain::watch::{
    default_escalation, watch_finding, EscalationStep, EscalationTarget, WatchFinding,
};
use cityops_domain::workflow::{replay, Clock};
use cityops_domain::*;
use common::{at, shipped_2026};
use proptest::prelude::*;

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("u-{}", role.as_str()),
        username: role.as_str().to_owned(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310101").unwrap(),
    }
}

fn system() -> Actor {
    Actor {
        scope: AreaCode::parse("310000").unwrap(),
        ..actor(Role::System, None)
    }
}

const UNIT: &str = "310101-CG";

/// A case of a community of 南京东路街道 (310101002), signed for by its unit at `signed`
/// under a class whose handling term is `handling`; its timeline alongside.
fn signed_for(
    handling: Term,
    signed: DateTime<Utc>,
    calendar: &WorkingCalendar,
    share: f64,
) -> (Case, Vec<TimelineEvent>) {
    let start = signed - Duration::hours(1);
    let clock = |now| Clock::new(now, calendar).with_warning_share(share);
    let (mut case, first) = workflow::report_on(
        "case-1".into(),
        NewReport {
            fields: Default::default(),
            source: Source::Inspector,
            description: "南京东路违章搭建".into(),
            address: None,
            location: Location::new(121.47, 31.23).unwrap(),
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
        clock(start),
    )
    .unwrap();
    let class = FiledClass {
        code: CategoryCode::parse("20101").unwrap(),
        zh: "私搭乱建".into(),
        urgency: Urgency::Normal,
        terms: StageTerms {
            dispatch: Term {
                amount: 1,
                unit: TermUnit::WorkingHours,
            },
            handling,
            check: Term {
                amount: 2,
                unit: TermUnit::WorkingHours,
            },
            callback: StageTerms::DEFAULT_CALLBACK,
        },
    };
    let mut timeline = vec![first];
    for (command, who, when) in [
        (
            CaseCommand::Accept { opinion: None },
            actor(Role::Operator, None),
            start,
        ),
        (
            CaseCommand::File {
                fields: Default::default(),
                class,
                opinion: None,
            },
            actor(Role::ShiftLead, None),
            start,
        ),
        (
            CaseCommand::Dispatch {
                unit: UNIT.into(),
                unit_jurisdiction: AreaCode::parse("310101").unwrap(),
                opinion: None,
            },
            actor(Role::Dispatcher, None),
            start,
        ),
        (
            CaseCommand::Sign,
            actor(Role::UnitHandler, Some(UNIT)),
            signed,
        ),
    ] {
        let (next, event) = decide_on(&case, command, &who, clock(when)).unwrap();
        case = next;
        timeline.push(event);
    }
    assert_eq!(case.state, CaseState::Handling);
    (case, timeline)
}

/// What a watch running at `now` records: every finding in turn, until there is none.
fn watch(
    case: &mut Case,
    timeline: &mut Vec<TimelineEvent>,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
    policy: &[EscalationStep],
) -> Vec<WatchFinding> {
    let mut found = Vec::new();
    while let Some(finding) = watch_finding(case, now, calendar, policy) {
        let (next, event) = decide_on(
            case,
            CaseCommand::Watch {
                finding: finding.clone(),
            },
            &system(),
            Clock::new(now, calendar),
        )
        .unwrap();
        *case = next;
        timeline.push(event);
        found.push(finding);
        assert!(found.len() <= 16, "the watch keeps finding: {found:?}");
    }
    found
}

/// A short stage on natural time turns yellow when its share is used, to the second: the
/// case view's mark, the recorded warning moment and the watch agree (the minutes left, whole
/// minutes rounded down, once turned it yellow up to a minute early).
#[test]
fn a_short_stage_turns_yellow_when_its_share_is_used_to_the_second() {
    let calendar = shipped_2026();
    let start = at(11, 26, 10, 0);
    let (case, _) = signed_for(
        Term {
            amount: 4,
            unit: TermUnit::Minutes,
        },
        start,
        &calendar,
        0.75,
    );
    assert_eq!(case.deadline, Some(start + chrono::Duration::minutes(4)));
    assert_eq!(case.warning_at, Some(start + chrono::Duration::minutes(3)));
    for (seconds, mark) in [
        (121, DeadlineMark::OnTime),
        (179, DeadlineMark::OnTime),
        (180, DeadlineMark::Due),
        (239, DeadlineMark::Due),
    ] {
        let now = start + chrono::Duration::seconds(seconds);
        let left = case.time_left(now, &calendar, 0.75).unwrap();
        assert_eq!(left.mark, mark, "after {seconds} s: {left:?}");
    }
}

#[test]
fn a_stage_turns_yellow_then_red_then_escalates_on_working_time() {
    let calendar = shipped_2026();
    let policy = default_escalation();
    // Signed for on Thursday 26 November at 10:00 with two working days to handle it: the
    // deadline is the end of the second working day after, Monday 30 November 17:30.
    let (mut case, mut timeline) = signed_for(
        Term {
            amount: 2,
            unit: TermUnit::WorkingDays,
        },
        at(11, 26, 10, 0),
        &calendar,
        0.75,
    );
    assert_eq!(case.deadline, Some(at(11, 30, 17, 30)));
    // Yellow when 75% of the term (2 x 450 working minutes) is used, that is with 225 working
    // minutes left: Monday 17:30 - 225 min = 13:45 (Monday afternoon has 240 working minutes).
    assert_eq!(case.warning_at, Some(at(11, 30, 13, 45)));
    assert_eq!(case.watch_at(), Some(at(11, 30, 13, 45)));
    let yellow = case.time_left(at(11, 30, 13, 45), &calendar, 0.75).unwrap();
    assert_eq!(yellow.mark, DeadlineMark::Due);
    let before = case.time_left(at(11, 30, 13, 44), &calendar, 0.75).unwrap();
    assert_eq!(before.mark, DeadlineMark::OnTime);

    // Over the weekend and on Monday morning nothing is due.
    for now in [at(11, 27, 17, 0), at(11, 29, 12, 0), at(11, 30, 13, 44)] {
        assert!(watch(&mut case, &mut timeline, now, &calendar, &policy).is_empty());
    }
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(11, 30, 13, 45),
            &calendar,
            &policy
        ),
        [WatchFinding::Due {
            stage: Stage::Handling
        }]
    );
    // Yellow is announced once; red strictly after the deadline.
    assert!(watch(
        &mut case,
        &mut timeline,
        at(11, 30, 17, 30),
        &calendar,
        &policy
    )
    .is_empty());
    assert_eq!(
        case.watch_at(),
        Some(at(11, 30, 17, 30) + Duration::milliseconds(1))
    );
    // Red; the unit's head is due four working hours later: Tuesday 08:30-12:00 is 3.5 of
    // them, so 14:00.
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(11, 30, 17, 31),
            &calendar,
            &policy
        ),
        [WatchFinding::Overdue {
            stage: Stage::Handling,
            next: Some(at(12, 1, 14, 0)),
        }]
    );
    // A watch that was down catches up in order: the unit's head, then, a working day past
    // the deadline (Tuesday 17:30), the district's center above 南京东路街道.
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(12, 2, 9, 0),
            &calendar,
            &policy
        ),
        [
            WatchFinding::Escalated {
                stage: Stage::Handling,
                to: EscalationTarget::UnitHead,
                center: None,
                next: Some(at(12, 1, 17, 30)),
            },
            WatchFinding::Escalated {
                stage: Stage::Handling,
                to: EscalationTarget::NextCenter,
                center: Some(AreaCode::parse("310101").unwrap()),
                next: None,
            },
        ]
    );
    assert_eq!(case.watch_at(), None, "the policy has no further step");
    let watch_state = case.watch.clone().unwrap();
    assert_eq!(watch_state.steps, 2);
    assert_eq!(
        watch_state.escalated.unwrap().to,
        EscalationTarget::NextCenter
    );

    // The unit's feedback ends the stage: the check stage is watched afresh.
    let (next, event) = decide_on(
        &case,
        CaseCommand::Feedback {
            opinion: "已拆除".into(),
            attachments: vec![],
        },
        &actor(Role::UnitHandler, Some(UNIT)),
        Clock::new(at(12, 2, 10, 0), &calendar),
    )
    .unwrap();
    case = next;
    timeline.push(event);
    assert_eq!(case.watch, None);
    assert!(case.late_count >= 1);

    // The timeline holds every finding: replaying it gives the same case.
    let replayed = replay(case.number.clone(), &timeline).unwrap();
    assert_eq!(replayed, case);
}

#[test]
fn a_supervision_notice_is_due_by_its_own_deadline_and_feedback_answers_it() {
    let calendar = shipped_2026();
    let policy: Vec<EscalationStep> = Vec::new();
    let handling = Term {
        amount: 10,
        unit: TermUnit::WorkingDays,
    };
    let leader = actor(Role::CenterLeader, None);
    let supervise = CaseCommand::Supervise {
        opinion: "请于一个工作日内答复处置进展".into(),
        term: Some(Term {
            amount: 1,
            unit: TermUnit::WorkingDays,
        }),
        deadline: None,
    };

    // Unanswered: announced once, the day after.
    let (mut case, mut timeline) = signed_for(handling, at(11, 26, 10, 0), &calendar, 0.75);
    let (next, event) = decide_on(
        &case,
        supervise.clone(),
        &leader,
        Clock::new(at(11, 26, 11, 0), &calendar),
    )
    .unwrap();
    // The recorded command carries the deadline it was given: the end of Friday.
    let CaseCommand::Supervise { deadline, .. } = &event.command else {
        panic!("a supervision notice");
    };
    assert_eq!(*deadline, Some(at(11, 27, 17, 30)));
    case = next;
    timeline.push(event);
    assert!(case.supervised);
    assert_eq!(
        case.watch_at(),
        Some(at(11, 27, 17, 30) + Duration::milliseconds(1))
    );
    assert!(watch(
        &mut case,
        &mut timeline,
        at(11, 27, 17, 30),
        &calendar,
        &policy
    )
    .is_empty());
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(11, 28, 9, 0),
            &calendar,
            &policy
        ),
        [WatchFinding::SupervisionOverdue]
    );
    assert!(case.supervision.as_ref().unwrap().overdue);
    assert!(watch(
        &mut case,
        &mut timeline,
        at(11, 29, 9, 0),
        &calendar,
        &policy
    )
    .is_empty());
    assert_eq!(replay(case.number.clone(), &timeline).unwrap(), case);

    // Answered in time by the unit's feedback: nothing to announce.
    let (mut case, mut timeline) = signed_for(handling, at(11, 26, 10, 0), &calendar, 0.75);
    case = decide_on(
        &case,
        supervise,
        &leader,
        Clock::new(at(11, 26, 11, 0), &calendar),
    )
    .unwrap()
    .0;
    case = decide_on(
        &case,
        CaseCommand::Feedback {
            opinion: "已处置".into(),
            attachments: vec![],
        },
        &actor(Role::UnitHandler, Some(UNIT)),
        Clock::new(at(11, 27, 9, 0), &calendar),
    )
    .unwrap()
    .0;
    assert_eq!(
        case.supervision.as_ref().unwrap().answered_at,
        Some(at(11, 27, 9, 0))
    );
    assert!(watch(
        &mut case,
        &mut timeline,
        at(11, 30, 9, 0),
        &calendar,
        &policy
    )
    .is_empty());
}

const ASSISTING: &str = "310101-SW";

/// Gives `case` an assisting part of [`ASSISTING`], signed for at `signed`.
fn with_part(
    case: &mut Case,
    timeline: &mut Vec<TimelineEvent>,
    signed: DateTime<Utc>,
    calendar: &WorkingCalendar,
) {
    for (command, who, when) in [
        (
            CaseCommand::Assist {
                unit: ASSISTING.into(),
                unit_jurisdiction: AreaCode::parse("310101").unwrap(),
                opinion: None,
            },
            actor(Role::Dispatcher, None),
            signed,
        ),
        (
            CaseCommand::SignAssist {
                unit: ASSISTING.into(),
                deadline: None,
            },
            actor(Role::UnitHandler, Some(ASSISTING)),
            signed,
        ),
    ] {
        let clock = Clock::new(when, calendar).with_warning_share(0.75);
        let (next, event) = decide_on(case, command, &who, clock).unwrap();
        *case = next;
        timeline.push(event);
    }
}

/// An assisting unit's part (协办) turns yellow and red on its own deadline, announced once
/// each, while escalation stays with the lead's stage; its late feedback counts it handled
/// (late) and no longer overdue-unhandled.
#[test]
fn an_assisting_part_turns_yellow_then_red_on_its_own_clock() {
    use cityops_domain::evaluation::{entries_of_timeline, Counter};
    let calendar = shipped_2026();
    let policy = default_escalation();
    let two_days = Term {
        amount: 2,
        unit: TermUnit::WorkingDays,
    };
    // The lead signs Thursday 26 November 10:00 (deadline Monday 30 November 17:30); the
    // assisting unit signs Friday 09:00: two working days end Tuesday 1 December 17:30.
    let (mut case, mut timeline) = signed_for(two_days, at(11, 26, 10, 0), &calendar, 0.75);
    with_part(&mut case, &mut timeline, at(11, 27, 9, 0), &calendar);
    let part = case.assists[0].clone();
    assert_eq!(part.deadline, Some(at(12, 1, 17, 30)));
    // 225 working minutes before Tuesday 17:30 is Tuesday 13:45.
    assert_eq!(part.warning_at, Some(at(12, 1, 13, 45)));
    let before = case.assist_time_left(&part, at(12, 1, 13, 44), &calendar, 0.75);
    assert_eq!(before.unwrap().mark, DeadlineMark::OnTime);
    let yellow = case.assist_time_left(&part, at(12, 1, 13, 45), &calendar, 0.75);
    assert_eq!(yellow.unwrap().mark, DeadlineMark::Due);
    // The lead's own yellow (Monday 13:45) comes first; the part adds nothing before its own.
    assert_eq!(case.watch_at(), Some(at(11, 30, 13, 45)));
    // A watch that looks only after the deadline announces red straight away.
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(11, 30, 18, 0),
            &calendar,
            &policy
        ),
        [WatchFinding::Overdue {
            stage: Stage::Handling,
            next: Some(at(12, 1, 14, 0)),
        }]
    );
    assert_eq!(
        case.watch_at(),
        Some(at(12, 1, 13, 45)),
        "the part's yellow"
    );
    assert_eq!(
        watch(
            &mut case,
            &mut timeline,
            at(12, 1, 13, 50),
            &calendar,
            &policy
        ),
        [WatchFinding::AssistDue {
            unit: ASSISTING.into()
        }]
    );
    assert_eq!(case.assists[0].mark, DeadlineMark::Due);
    assert_eq!(
        case.watch_at(),
        Some(at(12, 1, 14, 0)),
        "the lead's first step"
    );
    // A watch that was down catches up: the lead's two steps, then the part's red.
    let found = watch(
        &mut case,
        &mut timeline,
        at(12, 2, 9, 0),
        &calendar,
        &policy,
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found[2],
        WatchFinding::AssistOverdue {
            unit: ASSISTING.into()
        }
    );
    assert_eq!(case.assists[0].mark, DeadlineMark::Overdue);
    assert_eq!(case.watch_at(), None, "nothing left to announce");
    let number = case.number.clone();
    let ledger = |timeline: &[TimelineEvent], counter: Counter| {
        entries_of_timeline(number.clone(), timeline)
            .unwrap()
            .iter()
            .filter(|e| e.counter == counter && e.unit.as_deref() == Some(ASSISTING))
            .count()
    };
    assert_eq!(ledger(&timeline, Counter::PartOverdueUnhandled), 1);

    // The part is fed back late: handled, not on time, and no longer overdue-unhandled (it
    // would be due twice); the lead's clock is what the watch looks at again.
    let (next, event) = decide_on(
        &case,
        CaseCommand::AssistFeedback {
            unit: ASSISTING.into(),
            opinion: "已配合拆除".into(),
        },
        &actor(Role::UnitHandler, Some(ASSISTING)),
        Clock::new(at(12, 2, 10, 0), &calendar),
    )
    .unwrap();
    case = next;
    timeline.push(event);
    assert_eq!(ledger(&timeline, Counter::PartOverdueUnhandled), 0);
    assert_eq!(ledger(&timeline, Counter::PartHandled), 1);
    assert_eq!(ledger(&timeline, Counter::PartHandledOnTime), 0);
    assert!(watch(
        &mut case,
        &mut timeline,
        at(12, 2, 11, 0),
        &calendar,
        &policy
    )
    .is_empty());
    assert_eq!(replay(case.number.clone(), &timeline).unwrap(), case);
}

/// The lead's late handling takes back the overdue-unhandled the watch counted: the case is
/// due once, as handled.
#[test]
fn a_late_handling_is_due_once() {
    use cityops_domain::evaluation::{entries_of_timeline, Counter};
    let calendar = shipped_2026();
    let policy = default_escalation();
    let one_day = Term {
        amount: 1,
        unit: TermUnit::WorkingDays,
    };
    let (mut case, mut timeline) = signed_for(one_day, at(11, 26, 10, 0), &calendar, 0.75);
    let found = watch(
        &mut case,
        &mut timeline,
        at(11, 27, 18, 0),
        &calendar,
        &policy,
    );
    assert!(found
        .iter()
        .any(|f| matches!(f, WatchFinding::Overdue { .. })));
    let number = case.number.clone();
    let count = |timeline: &[TimelineEvent], counter: Counter| {
        entries_of_timeline(number.clone(), timeline)
            .unwrap()
            .iter()
            .filter(|e| e.counter == counter && e.unit.as_deref() == Some(UNIT))
            .count()
    };
    assert_eq!(count(&timeline, Counter::OverdueUnhandled), 1);
    let (_, event) = decide_on(
        &case,
        CaseCommand::Feedback {
            opinion: "已拆除".into(),
            attachments: vec![],
        },
        &actor(Role::UnitHandler, Some(UNIT)),
        Clock::new(at(11, 30, 9, 0), &calendar),
    )
    .unwrap();
    timeline.push(event);
    assert_eq!(count(&timeline, Counter::OverdueUnhandled), 0);
    assert_eq!(count(&timeline, Counter::Handled), 1);
    assert_eq!(count(&timeline, Counter::HandledOnTime), 0);
}

#[test]
fn a_stale_finding_is_refused() {
    let calendar = shipped_2026();
    let (case, _) = signed_for(
        Term {
            amount: 1,
            unit: TermUnit::WorkingDays,
        },
        at(11, 26, 10, 0),
        &calendar,
        0.75,
    );
    for finding in [
        WatchFinding::Due {
            stage: Stage::Check,
        },
        WatchFinding::Escalated {
            stage: Stage::Handling,
            to: EscalationTarget::UnitHead,
            center: None,
            next: None,
        },
        WatchFinding::SupervisionOverdue,
        // The case has no assisting part.
        WatchFinding::AssistDue {
            unit: ASSISTING.into(),
        },
        WatchFinding::AssistOverdue {
            unit: ASSISTING.into(),
        },
    ] {
        let refused = decide_on(
            &case,
            CaseCommand::Watch { finding },
            &system(),
            Clock::new(at(11, 26, 11, 0), &calendar),
        );
        assert!(matches!(refused, Err(WorkflowError::Precondition(_))));
    }
    // Only the system records findings.
    let refused = decide_on(
        &case,
        CaseCommand::Watch {
            finding: WatchFinding::Due {
                stage: Stage::Handling,
            },
        },
        &actor(Role::CenterLeader, None),
        Clock::new(at(11, 26, 11, 0), &calendar),
    );
    assert!(matches!(refused, Err(WorkflowError::RoleNotAllowed { .. })));
}

fn term() -> impl Strategy<Value = Term> {
    (
        1u32..6,
        prop_oneof![
            Just(TermUnit::Minutes),
            Just(TermUnit::Hours),
            Just(TermUnit::WorkingHours),
            Just(TermUnit::WorkingDays),
        ],
    )
        .prop_map(|(amount, unit)| Term { amount, unit })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// At every moment the watch finds something exactly when the store's index says the
    /// case is due; each mark is announced once and in order (yellow, red, then the steps);
    /// and the index never moves back (two steps may fall due at the same moment).
    #[test]
    fn the_index_agrees_with_the_watch_and_marks_come_once_in_order(
        handling in term(),
        share in prop_oneof![Just(0.5), Just(0.75), Just(0.9)],
        signed_offset in 0i64..(14 * 24 * 60),
        checks in proptest::collection::vec(1i64..(36 * 60), 1..24),
    ) {
        let calendar = shipped_2026();
        let policy = default_escalation();
        let signed = at(11, 2, 0, 0) + Duration::minutes(signed_offset);
        let (mut case, mut timeline) = signed_for(handling, signed, &calendar, share);
        let mut now = signed;
        let mut announced = Vec::new();
        let mut last_index = case.watch_at();
        for step in checks {
            now += Duration::minutes(step);
            let due = case.watch_at().is_some_and(|at| at <= now);
            prop_assert_eq!(watch_finding(&case, now, &calendar, &policy).is_some(), due);
            // One finding at a time, as the watch records them.
            while let Some(finding) = watch_finding(&case, now, &calendar, &policy) {
                let (next, event) = decide_on(
                    &case,
                    CaseCommand::Watch { finding: finding.clone() },
                    &system(),
                    Clock::new(now, &calendar),
                )
                .unwrap();
                case = next;
                timeline.push(event);
                announced.push(finding.as_str());
                let index = case.watch_at();
                prop_assert!(
                    index.is_none() || index >= last_index,
                    "{:?} after {:?}: {:?}", index, last_index, announced
                );
                last_index = index;
                prop_assert!(announced.len() <= 16);
            }
            prop_assert!(case.watch_at().is_none_or(|at| at > now));
        }
        let order = ["due", "overdue", "escalated"];
        let ranks: Vec<usize> = announced
            .iter()
            .map(|a| order.iter().position(|o| o == a).unwrap())
            .collect();
        prop_assert!(ranks.windows(2).all(|w| w[0] < w[1] || (w[0] == 2 && w[1] == 2)), "{:?}", announced);
        prop_assert!(announced.iter().filter(|a| **a == "escalated").count() <= policy.len());
        prop_assert_eq!(replay(case.number.clone(), &timeline).unwrap(), case);
    }

    /// The same with an assisting unit's part signed for at some moment of the lead's stage:
    /// the index still agrees with the watch at every moment, and the part's yellow and red
    /// are each announced at most once, yellow first.
    #[test]
    fn the_index_agrees_with_the_watch_with_an_assisting_part(
        handling in term(),
        share in prop_oneof![Just(0.5), Just(0.75), Just(0.9)],
        signed_offset in 0i64..(14 * 24 * 60),
        part_offset in 5i64..(3 * 24 * 60),
        checks in proptest::collection::vec(1i64..(36 * 60), 1..24),
    ) {
        let calendar = shipped_2026();
        let policy = default_escalation();
        let signed = at(11, 2, 0, 0) + Duration::minutes(signed_offset);
        let (mut case, mut timeline) = signed_for(handling, signed, &calendar, share);
        let part_signed = signed + Duration::minutes(part_offset);
        let mut now = signed;
        let mut part_marks = Vec::new();
        let mut has_part = false;
        for step in checks {
            now += Duration::minutes(step);
            if !has_part && now >= part_signed {
                // The watch has looked up to the part's signing.
                while let Some(finding) = watch_finding(&case, part_signed, &calendar, &policy) {
                    let (next, event) = decide_on(
                        &case,
                        CaseCommand::Watch { finding },
                        &system(),
                        Clock::new(part_signed, &calendar),
                    )
                    .unwrap();
                    case = next;
                    timeline.push(event);
                }
                with_part(&mut case, &mut timeline, part_signed, &calendar);
                has_part = true;
            }
            let due = case.watch_at().is_some_and(|at| at <= now);
            prop_assert_eq!(watch_finding(&case, now, &calendar, &policy).is_some(), due);
            while let Some(finding) = watch_finding(&case, now, &calendar, &policy) {
                if matches!(finding, WatchFinding::AssistDue { .. } | WatchFinding::AssistOverdue { .. }) {
                    part_marks.push(finding.as_str());
                }
                let (next, event) = decide_on(
                    &case,
                    CaseCommand::Watch { finding },
                    &system(),
                    Clock::new(now, &calendar),
                )
                .unwrap();
                case = next;
                timeline.push(event);
                prop_assert!(timeline.len() <= 40);
            }
            prop_assert!(case.watch_at().is_none_or(|at| at > now));
        }
        prop_assert!(
            part_marks.is_empty()
                || part_marks == ["assist_due"]
                || part_marks == ["assist_overdue"]
                || part_marks == ["assist_due", "assist_overdue"],
            "{:?}", part_marks
        );
        prop_assert_eq!(replay(case.number.clone(), &timeline).unwrap(), case);
    }
}
