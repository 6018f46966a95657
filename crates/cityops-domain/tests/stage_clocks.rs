//! Stage clocks on the working calendar: a class's terms in working hours or working days
//! run over weekends, the Spring Festival and its make-up working days; urgent cases run on
//! natural time; parking keeps working time; the timeline records every deadline and its
//! reason, and replaying it gives the deadlines it recorded whatever the calendar says now.
//! Times in the tables are Beijing time (UTC+8) with the default working hours, 08:30-12:00
//! and 13:30-17:30.

mod common;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::calendar::{WorkingCalendar, WorkingHours};
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

fn class(handling: Term, urgency: Urgency) -> FiledClass {
    FiledClass {
        code: CategoryCode::parse("20101").unwrap(),
        zh: "私搭乱建".into(),
        urgency,
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
    }
}

/// An inspector's case filed under `class`, dispatched and signed for at `signed`: its
/// handling clock starts then. Returns the case and its timeline.
fn signed_for(
    filed: FiledClass,
    signed: DateTime<Utc>,
    calendar: &WorkingCalendar,
) -> (Case, Vec<TimelineEvent>) {
    let start = signed - Duration::hours(1);
    let (mut case, first) = report(
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
        start,
    )
    .unwrap();
    let mut timeline = vec![first];
    let unit = "310101-CG";
    for (command, who, when) in [
        (
            CaseCommand::Accept { opinion: None },
            actor(Role::Operator, None),
            start,
        ),
        (
            CaseCommand::File {
                fields: Default::default(),
                class: filed,
                opinion: None,
            },
            actor(Role::ShiftLead, None),
            start,
        ),
        (
            CaseCommand::Dispatch {
                unit: unit.into(),
                unit_jurisdiction: AreaCode::parse("310101").unwrap(),
                opinion: None,
            },
            actor(Role::Dispatcher, None),
            start,
        ),
        (
            CaseCommand::Sign,
            actor(Role::UnitHandler, Some(unit)),
            signed,
        ),
    ] {
        let (next, event) = decide_on(&case, command, &who, Clock::new(when, calendar)).unwrap();
        case = next;
        timeline.push(event);
    }
    assert_eq!(case.state, CaseState::Handling);
    (case, timeline)
}

fn working(amount: u32, unit: TermUnit) -> Term {
    Term { amount, unit }
}

#[test]
fn handling_deadlines_run_on_the_working_calendar() {
    let calendar = shipped_2026();
    let plain = WorkingCalendar::new(WorkingHours::default(), []);
    let hours = TermUnit::WorkingHours;
    let days = TermUnit::WorkingDays;
    // (signed for, term, deadline on the 2026 schedule, deadline in a plain week)
    let table = [
        // An ordinary Wednesday afternoon.
        (
            at(3, 4, 14, 30),
            working(2, hours),
            at(3, 4, 16, 30),
            at(3, 4, 16, 30),
        ),
        // Before the lunch break: 11:00 + 2 working hours skips 12:00-13:30.
        (
            at(3, 4, 11, 0),
            working(2, hours),
            at(3, 4, 14, 30),
            at(3, 4, 14, 30),
        ),
        // Friday evening before a weekend: Monday morning.
        (
            at(3, 6, 17, 0),
            working(2, hours),
            at(3, 9, 10, 0),
            at(3, 9, 10, 0),
        ),
        // Signed on a Saturday night: nothing runs until Monday.
        (
            at(3, 7, 22, 0),
            working(1, days),
            at(3, 9, 17, 30),
            at(3, 9, 17, 30),
        ),
        // The Friday before the Spring Festival: Saturday 14 February is a make-up working
        // day, then nine days off.
        (
            at(2, 13, 16, 30),
            working(2, hours),
            at(2, 14, 9, 30),
            at(2, 16, 9, 30),
        ),
        (
            at(2, 13, 16, 30),
            working(1, days),
            at(2, 14, 17, 30),
            at(2, 16, 17, 30),
        ),
        (
            at(2, 13, 16, 30),
            working(2, days),
            at(2, 24, 17, 30),
            at(2, 17, 17, 30),
        ),
        // National Day: from the Wednesday before it to the Monday after the week off.
        (
            at(9, 30, 9, 0),
            working(3, days),
            at(10, 10, 17, 30),
            at(10, 5, 17, 30),
        ),
        // Natural time ignores the calendar.
        (
            at(2, 13, 16, 30),
            working(3, TermUnit::Hours),
            at(2, 13, 19, 30),
            at(2, 13, 19, 30),
        ),
        (
            at(2, 13, 16, 30),
            working(90, TermUnit::Minutes),
            at(2, 13, 18, 0),
            at(2, 13, 18, 0),
        ),
    ];
    for (signed, term, on_schedule, in_plain_week) in table {
        for (calendar, expected) in [(&calendar, on_schedule), (&plain, in_plain_week)] {
            let (case, timeline) = signed_for(class(term, Urgency::Normal), signed, calendar);
            assert_eq!(
                case.deadline,
                Some(expected),
                "{term} from {signed} (schedule known: {})",
                calendar.knows(2026)
            );
            // The sign step records the deadline and the term it came from.
            let clock = timeline.last().unwrap().clock.clone().unwrap();
            assert_eq!(clock.stage, Some(Stage::Handling));
            assert_eq!(clock.deadline, Some(expected));
            assert_eq!(
                clock.reason,
                ClockReason::Started {
                    term,
                    working_time: term.on_working_time(false),
                }
            );
        }
    }
}

#[test]
fn urgent_classes_and_urgent_cases_run_on_natural_time() {
    let calendar = shipped_2026();
    let friday = at(2, 13, 16, 30);
    let two_hours = working(2, TermUnit::WorkingHours);
    let (case, timeline) = signed_for(class(two_hours, Urgency::Urgent), friday, &calendar);
    assert_eq!(case.deadline, Some(at(2, 13, 18, 30)));
    assert_eq!(
        timeline.last().unwrap().clock.as_ref().unwrap().reason,
        ClockReason::Started {
            term: two_hours,
            working_time: false
        }
    );
    let (case, _) = signed_for(
        class(working(2, TermUnit::WorkingDays), Urgency::Urgent),
        friday,
        &calendar,
    );
    assert_eq!(
        case.deadline,
        Some(at(2, 15, 16, 30)),
        "two days, not two working days"
    );

    // A case marked urgent runs its next stage on natural time too.
    let (mut case, _) = signed_for(class(two_hours, Urgency::Normal), friday, &calendar);
    case.urgent = true;
    let (handled, _) = decide_on(
        &case,
        CaseCommand::Feedback {
            opinion: "已拆除".into(),
            attachments: vec![],
        },
        &actor(Role::UnitHandler, Some("310101-CG")),
        Clock::new(friday, &calendar),
    )
    .unwrap();
    let (checking, _) = decide_on(
        &handled,
        CaseCommand::SendCheck { opinion: None },
        &actor(Role::Operator, None),
        Clock::new(friday, &calendar),
    )
    .unwrap();
    assert_eq!(checking.deadline, Some(at(2, 13, 18, 30)), "check: 2 hours");
}

#[test]
fn a_parked_case_keeps_the_working_time_it_had_left_and_the_timeline_replays_it() {
    let calendar = shipped_2026();
    let unit = actor(Role::UnitHandler, Some("310101-CG"));
    let lead = actor(Role::ShiftLead, None);
    // Four working hours from Friday 16:30: one on Friday, three on the make-up Saturday.
    let (case, mut timeline) = signed_for(
        class(working(4, TermUnit::WorkingHours), Urgency::Normal),
        at(2, 13, 16, 30),
        &calendar,
    );
    assert_eq!(case.deadline, Some(at(2, 14, 11, 30)));
    let mut case = case;
    for (command, who, when) in [
        (
            CaseCommand::RequestPark {
                reason: "等待产权单位确认".into(),
            },
            &unit,
            at(2, 13, 17, 0),
        ),
        (
            CaseCommand::DecidePark {
                approve: true,
                opinion: None,
            },
            &lead,
            at(2, 13, 17, 0),
        ),
    ] {
        let (next, event) = decide_on(&case, command, who, Clock::new(when, &calendar)).unwrap();
        case = next;
        timeline.push(event);
    }
    // Half an hour used: three and a half working hours left, kept as working time.
    assert_eq!(case.state, CaseState::Suspended);
    assert_eq!(case.suspended_remaining_secs, Some(210 * 60));
    assert!(case.suspended_on_working_time);
    assert_eq!(
        timeline.last().unwrap().clock.as_ref().unwrap().reason,
        ClockReason::Parked {
            remaining_secs: Some(210 * 60),
            working_time: true
        }
    );
    // Resumed after the holiday, Tuesday 24 February at 09:00: 09:00-12:00 and 13:30-14:00.
    let (resumed, event) = decide_on(
        &case,
        CaseCommand::Resume { opinion: None },
        &unit,
        Clock::new(at(2, 24, 9, 0), &calendar),
    )
    .unwrap();
    assert_eq!(resumed.deadline, Some(at(2, 24, 14, 0)));
    assert_eq!(event.clock.as_ref().unwrap().reason, ClockReason::Resumed);
    timeline.push(event);

    // Replay reckons nothing again: the deadlines are the ones the timeline recorded, though
    // replay itself knows no holiday.
    let replayed = replay(resumed.number.clone(), &timeline).unwrap();
    assert_eq!(replayed, resumed);
}

#[test]
fn terms_of_cases_filed_before_terms_had_units_read_as_natural_minutes() {
    let old = r#"{"code":"10101","zh":"上水井盖","urgency":"normal",
        "terms":{"dispatch_minutes":60,"handling_minutes":2880,"check_minutes":120}}"#;
    let filed: FiledClass = serde_json::from_str(old).unwrap();
    assert_eq!(filed.terms.handling, Term::minutes(2880));
    assert_eq!(filed.terms.dispatch, Term::minutes(60));
    assert_eq!(filed.terms.callback, StageTerms::DEFAULT_CALLBACK);
    // Written back in the new form, it reads the same.
    let again: FiledClass = serde_json::from_str(&serde_json::to_string(&filed).unwrap()).unwrap();
    assert_eq!(again, filed);
}

#[test]
fn terms_out_of_range_are_refused_with_the_field_named() {
    for (term, ok) in [
        (working(0, TermUnit::Minutes), false),
        (working(525_600, TermUnit::Minutes), true),
        (working(525_601, TermUnit::Minutes), false),
        (working(8_760, TermUnit::WorkingHours), true),
        (working(8_761, TermUnit::Hours), false),
        (working(366, TermUnit::WorkingDays), true),
        (working(367, TermUnit::WorkingDays), false),
    ] {
        let checked = term.check("terms.handling.amount");
        assert_eq!(checked.is_ok(), ok, "{term}");
        if let Err(e) = checked {
            assert_eq!(e.field, "terms.handling.amount");
        }
    }
}

fn any_term() -> impl Strategy<Value = Term> {
    prop_oneof![
        (1u32..=10_000).prop_map(|a| working(a, TermUnit::Minutes)),
        (1u32..=500).prop_map(|a| working(a, TermUnit::Hours)),
        (1u32..=500).prop_map(|a| working(a, TermUnit::WorkingHours)),
        (1u32..=60).prop_map(|a| working(a, TermUnit::WorkingDays)),
    ]
}

proptest! {
    /// A deadline is never before its start, and a longer term never ends earlier.
    #[test]
    fn deadlines_never_precede_the_start_and_grow_with_the_term(
        start_minutes in 0i64..(366 * 24 * 60),
        term in any_term(),
        more in 1u32..100,
        continuous in any::<bool>(),
    ) {
        let calendar = shipped_2026();
        let start = at(1, 1, 0, 0) + Duration::minutes(start_minutes);
        let deadline = term.deadline(start, &calendar, continuous);
        prop_assert!(deadline > start, "{term} from {start}: {deadline}");
        let longer = Term { amount: term.amount + more, ..term };
        prop_assert!(longer.deadline(start, &calendar, continuous) >= deadline);
    }
}

#[test]
fn every_stage_of_a_hotline_case_runs_a_clock_from_report_to_close() {
    let calendar = shipped_2026();
    // A Wednesday morning; the city accepts within 30 minutes.
    let t0 = at(3, 4, 9, 0);
    let intake = IntakeTerms {
        accept: working(30, TermUnit::Minutes),
        ..IntakeTerms::default()
    };
    let clock = |at| Clock::new(at, &calendar).with_intake(intake);
    let (mut case, first) = report_on(
        "case-1".into(),
        NewReport {
            fields: Default::default(),
            source: Source::Hotline,
            description: "市民来电：九江路井盖缺失".into(),
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
        &actor(Role::Operator, None),
        clock(t0),
    )
    .unwrap();
    assert_eq!(
        case.intake_terms,
        Some(intake),
        "the case keeps the city's terms"
    );
    assert_eq!(case.stage, Some(Stage::Accept));
    assert_eq!(case.deadline, Some(at(3, 4, 9, 30)));
    let mut timeline = vec![first];
    let mut stages = vec![case.stage];
    let unit = "310101-CG";
    let normal = class(working(2, TermUnit::WorkingDays), Urgency::Normal);
    let steps: Vec<(CaseCommand, Actor)> = vec![
        (
            CaseCommand::Accept { opinion: None },
            actor(Role::Operator, None),
        ),
        (
            CaseCommand::RequestVerification { opinion: None },
            actor(Role::Operator, None),
        ),
        (
            CaseCommand::Verify {
                exists: true,
                opinion: None,
            },
            actor(Role::Inspector, None),
        ),
        (
            CaseCommand::File {
                fields: Default::default(),
                class: normal,
                opinion: None,
            },
            actor(Role::ShiftLead, None),
        ),
        (
            CaseCommand::Dispatch {
                unit: unit.into(),
                unit_jurisdiction: AreaCode::parse("310101").unwrap(),
                opinion: None,
            },
            actor(Role::Dispatcher, None),
        ),
        (CaseCommand::Sign, actor(Role::UnitHandler, Some(unit))),
        (
            CaseCommand::Feedback {
                opinion: "已更换".into(),
                attachments: vec![],
            },
            actor(Role::UnitHandler, Some(unit)),
        ),
        (
            CaseCommand::SendCheck { opinion: None },
            actor(Role::Operator, None),
        ),
        (
            CaseCommand::Check {
                passed: true,
                opinion: None,
            },
            actor(Role::Inspector, None),
        ),
        (
            CaseCommand::StartCallback {
                attempts_allowed: 3,
            },
            actor(Role::Operator, None),
        ),
        (
            CaseCommand::Callback {
                outcome: CallbackOutcome::Reached,
                satisfaction: Some(Satisfaction::Satisfied),
                opinion: None,
                report: None,
            },
            actor(Role::Operator, None),
        ),
        (
            CaseCommand::Close { opinion: None },
            actor(Role::ShiftLead, None),
        ),
    ];
    let mut now = t0;
    for (command, who) in steps {
        now += Duration::minutes(10);
        let (next, event) = decide_on(&case, command, &who, clock(now)).unwrap();
        assert_eq!(next.deadline, next.running_deadline());
        case = next;
        stages.push(case.stage);
        timeline.push(event);
    }
    use Stage::*;
    assert_eq!(
        stages,
        [
            Some(Accept),
            Some(File),
            Some(Verify),
            Some(File),
            Some(Dispatch),
            None,
            Some(Handling),
            None,
            Some(Check),
            Some(Callback),
            Some(Callback),
            Some(Close),
            None,
        ]
    );
    assert_eq!(case.state, CaseState::Closed);
    assert_eq!(case.late_count, 0, "every stage on time");
    // Each start is on the timeline with its term.
    let started: Vec<(Stage, Term)> = timeline
        .iter()
        .filter_map(|e| match &e.clock {
            Some(ClockChange {
                stage: Some(stage),
                reason: ClockReason::Started { term, .. },
                ..
            }) => Some((*stage, *term)),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 9, "{started:?}");
    assert_eq!(started[0], (Accept, working(30, TermUnit::Minutes)));
    assert_eq!(started[2], (Verify, IntakeTerms::default().verify));
    assert_eq!(started[5], (Handling, working(2, TermUnit::WorkingDays)));
    assert_eq!(started[8], (Close, IntakeTerms::default().close));
    assert_eq!(replay(case.number.clone(), &timeline).unwrap(), case);
}

#[test]
fn a_case_reported_before_intake_stages_had_clocks_replays_without_them() {
    // The report event as stored before: no intake terms, no clock.
    let stored = r#"{"case_id":"old-1","seq":1,"at":"2026-03-04T01:00:00Z","user_id":"u-operator",
        "username":"operator","role":"operator","unit":null,
        "command":{"command":"report","source":"inspector","description":"旧案件",
          "address":null,"location":{"lon":121.47,"lat":31.23},"area":"310101002001",
          "category_hint":null,"component_id":null},
        "from":null,"to":"reported","late":false}"#;
    let event: TimelineEvent = serde_json::from_str(stored).unwrap();
    let case = replay(CaseNumber("3101012026030400001".into()), &[event]).unwrap();
    assert_eq!((case.stage, case.deadline), (None, None));
    assert_eq!(case.intake_terms, None);
}

#[test]
fn the_time_left_counts_as_the_term_counts_and_turns_yellow_then_red() {
    let calendar = shipped_2026();
    // Four working hours from Friday 13 February 16:30: due Saturday (make-up day) 11:30.
    let (case, _) = signed_for(
        class(working(4, TermUnit::WorkingHours), Urgency::Normal),
        at(2, 13, 16, 30),
        &calendar,
    );
    let left = |now| case.time_left(now, &calendar, 0.75).unwrap();
    let start = left(at(2, 13, 16, 30));
    assert_eq!(
        (start.minutes_left, start.mark),
        (240, DeadlineMark::OnTime)
    );
    assert!(start.working_time && start.used == 0.0);
    // Friday's last working hour is used; the night uses nothing.
    assert_eq!(left(at(2, 13, 23, 0)).minutes_left, 180);
    assert_eq!(left(at(2, 14, 8, 0)).minutes_left, 180);
    // Saturday 10:30: one working hour left of four, 75% used: yellow.
    let due = left(at(2, 14, 10, 30));
    assert_eq!((due.minutes_left, due.mark), (60, DeadlineMark::Due));
    // Past the deadline: red, with the working time over it counted negative.
    let late = left(at(2, 14, 14, 30));
    assert_eq!(late.mark, DeadlineMark::Overdue);
    assert_eq!(late.minutes_left, -90, "11:30-12:00 and 13:30-14:30");
    assert!(late.used > 1.0);
}
