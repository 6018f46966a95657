//! Property tests of the case workflow: random command sequences by random actors.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::case::{RejectReason, Stage};
use cityops_domain::category::{Term, TermUnit};
use cityops_domain::watch::{EscalationTarget, WatchFinding};
use cityops_domain::workflow::{apply, happy_path, happy_path_to, replay, Step};
use cityops_domain::*;
use proptest::prelude::*;

/// The transition table of the standard case workflow (受理, 核实, 立案, 派遣, 处置, 核查, 结案),
/// written independently of the implementation: the oracle the state machine is checked against.
fn allowed(from: CaseState, to: CaseState, command: CommandKind) -> bool {
    use CaseState::*;
    if from == to {
        // Flags, attachments, requests and decisions that keep the state; after closing,
        // only the citizen's rating.
        return !from.is_terminal() || (from == Closed && command == CommandKind::Rate);
    }
    if to == Cancelled {
        return !from.is_terminal();
    }
    matches!(
        (from, to),
        (Reported, Accepted)
            | (Reported, Invalid)
            | (Accepted, Verifying)
            | (Verifying, Accepted)
            | (Verifying, Invalid)
            | (Accepted, Filed)
            | (Accepted, Closed)
            | (Filed, Dispatched)
            | (Dispatched, Handling)
            | (Dispatched, Filed)
            | (Handling, Filed)
            | (Handling, Suspended)
            | (Suspended, Handling)
            | (Handling, Handled)
            | (Handled, Checking)
            | (Checking, Checked)
            | (Checking, Dispatched)
            | (Checked, Callback)
            | (Callback, Checked)
            | (Callback, Dispatched)
            // The caller could not be reached within the attempts allowed.
            | (Callback, Closed)
            | (Checked, Closed)
    )
}

fn area() -> AreaCode {
    AreaCode::parse("310101002001").unwrap()
}

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("u-{}", role.as_str()),
        username: role.as_str().to_owned(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310101").unwrap(),
    }
}

fn class() -> FiledClass {
    FiledClass {
        code: CategoryCode::parse("10101").unwrap(),
        zh: "上水井盖".into(),
        urgency: Urgency::Urgent,
        terms: StageTerms {
            dispatch: Term::minutes(30),
            handling: Term::minutes(180),
            check: Term::minutes(60),
            callback: Term::minutes(120),
        },
    }
}

/// One or more commands of every kind a client issues on a case. The first of each kind is
/// the one the happy path issues (see [`happy_command`]).
fn commands(now: DateTime<Utc>) -> Vec<CaseCommand> {
    let unit = "310101-ZLS".to_owned();
    vec![
        CaseCommand::Accept { opinion: None },
        CaseCommand::Reject {
            reason: RejectReason::Duplicate,
            duplicate_of: Some("3101012026112500001".into()),
            opinion: None,
        },
        CaseCommand::RequestVerification { opinion: None },
        CaseCommand::Verify {
            exists: true,
            opinion: None,
        },
        CaseCommand::Verify {
            exists: false,
            opinion: None,
        },
        CaseCommand::File {
            fields: Default::default(),
            class: class(),
            opinion: None,
        },
        CaseCommand::SelfHandle {
            opinion: "已现场扶正井盖".into(),
        },
        CaseCommand::Dispatch {
            unit: unit.clone(),
            unit_jurisdiction: AreaCode::parse("310101").unwrap(),
            opinion: None,
        },
        CaseCommand::Dispatch {
            unit: "310104-ZLS".into(),
            unit_jurisdiction: AreaCode::parse("310104").unwrap(),
            opinion: None,
        },
        CaseCommand::Sign,
        CaseCommand::Return {
            reason: "非本单位职责".into(),
        },
        CaseCommand::Assist {
            unit: "310101-GD".into(),
            unit_jurisdiction: AreaCode::parse("310101").unwrap(),
            opinion: None,
        },
        CaseCommand::SignAssist {
            unit: "310101-GD".into(),
            deadline: None,
        },
        CaseCommand::AssistFeedback {
            unit: "310101-GD".into(),
            opinion: "已配合".into(),
        },
        CaseCommand::ReturnAssist {
            unit: "310101-GD".into(),
            reason: "不属本单位".into(),
        },
        CaseCommand::ReleaseAssist {
            unit: "310101-GD".into(),
            reason: "无需协办".into(),
        },
        CaseCommand::RequestExtension {
            until: now + Duration::days(3),
            reason: "需要更换井框".into(),
        },
        CaseCommand::DecideExtension {
            approve: true,
            opinion: None,
        },
        CaseCommand::DecideExtension {
            approve: false,
            opinion: None,
        },
        CaseCommand::RequestPark {
            reason: "等待管线迁移".into(),
        },
        CaseCommand::DecidePark {
            approve: true,
            opinion: None,
        },
        CaseCommand::Resume { opinion: None },
        CaseCommand::Attach {
            attachment_id: "a1".into(),
        },
        CaseCommand::Feedback {
            opinion: "已更换井盖".into(),
            attachments: vec![],
        },
        CaseCommand::Feedback {
            opinion: "已更换井盖".into(),
            attachments: vec!["a1".into()],
        },
        CaseCommand::SendCheck { opinion: None },
        CaseCommand::Check {
            passed: true,
            opinion: None,
        },
        CaseCommand::Check {
            passed: false,
            opinion: None,
        },
        CaseCommand::StartCallback {
            attempts_allowed: 2,
        },
        CaseCommand::Callback {
            outcome: CallbackOutcome::Reached,
            satisfaction: Some(Satisfaction::Satisfied),
            opinion: None,
            report: None,
        },
        CaseCommand::Callback {
            outcome: CallbackOutcome::Reached,
            satisfaction: Some(Satisfaction::BasicallySatisfied),
            opinion: None,
            report: None,
        },
        CaseCommand::Callback {
            outcome: CallbackOutcome::Reached,
            satisfaction: Some(Satisfaction::Unsatisfied),
            opinion: None,
            report: None,
        },
        CaseCommand::Callback {
            outcome: CallbackOutcome::NoAnswer,
            satisfaction: None,
            opinion: None,
            report: None,
        },
        CaseCommand::Callback {
            outcome: CallbackOutcome::WrongNumber,
            satisfaction: None,
            opinion: None,
            report: None,
        },
        CaseCommand::Close { opinion: None },
        CaseCommand::Cancel {
            reason: "重复立案".into(),
        },
        CaseCommand::SetUrgent { urgent: true },
        CaseCommand::SetFields {
            fields: [(
                "diameter_mm".to_owned(),
                Some(cityops_domain::form::FieldValue::Number(600.0)),
            )]
            .into(),
        },
        CaseCommand::SetFields {
            fields: [("diameter_mm".to_owned(), None)].into(),
        },
        CaseCommand::Supervise {
            opinion: "请加快处置".into(),
            term: None,
            deadline: None,
        },
        CaseCommand::Supervise {
            opinion: "限一个工作日内答复".into(),
            term: Some(Term {
                amount: 1,
                unit: TermUnit::WorkingDays,
            }),
            deadline: None,
        },
        CaseCommand::Watch {
            finding: WatchFinding::Due {
                stage: Stage::Handling,
            },
        },
        CaseCommand::Watch {
            finding: WatchFinding::Overdue {
                stage: Stage::Handling,
                next: Some(now + chrono::Duration::hours(4)),
            },
        },
        CaseCommand::Watch {
            finding: WatchFinding::Escalated {
                stage: Stage::Handling,
                to: EscalationTarget::NextCenter,
                center: Some(AreaCode::parse("310101").unwrap()),
                next: None,
            },
        },
        CaseCommand::Watch {
            finding: WatchFinding::SupervisionOverdue,
        },
        CaseCommand::Rate {
            score: 4,
            comment: Some("处理及时".into()),
        },
        CaseCommand::Escalate {
            to: AreaCode::parse("310101").unwrap(),
            reason: "涉及多个街道，责任不清".into(),
        },
        CaseCommand::Escalate {
            to: AreaCode::parse("310000").unwrap(),
            reason: "跨区问题".into(),
        },
        CaseCommand::Relocate {
            area: AreaCode::parse("310101002002").unwrap(),
            unit_grid: Some("31010100200201".into()),
            reason: "单元网格已更新".into(),
        },
        CaseCommand::Relocate {
            area: AreaCode::parse("310104001001").unwrap(),
            unit_grid: None,
            reason: "单元网格已更新".into(),
        },
        CaseCommand::Reassign {
            unit: "310101-GD".into(),
            reason: "自来水公司撤销，由供电公司承接".into(),
            from: None,
        },
        CaseCommand::Reassign {
            unit: "310101-ZLS".into(),
            reason: "单位调整".into(),
            from: None,
        },
        CaseCommand::Appeal {
            ground: cityops_domain::appeal::AppealGround::Rework,
            unit: unit.clone(),
            reason: "核查时尚未养护完成".into(),
        },
        CaseCommand::DecideAppeal {
            appeal: 1,
            accepted: true,
            opinion: "申诉成立".into(),
        },
    ]
}

/// The command a step of the happy path issues: the first of its kind in [`commands`].
fn happy_command(kind: CommandKind, now: DateTime<Utc>) -> CaseCommand {
    commands(now)
        .into_iter()
        .find(|command| command.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} command"))
}

/// The actor of the cast who takes a step of the happy path.
fn actor_for(step: &Step) -> Actor {
    let unit = (step.role == Role::UnitHandler).then_some("310101-ZLS");
    actor(step.role, unit)
}

fn actors() -> Vec<Actor> {
    let mut all: Vec<Actor> = Role::ALL.iter().map(|r| actor(*r, None)).collect();
    all.push(actor(Role::UnitHandler, Some("310101-ZLS")));
    all.push(actor(Role::UnitHandler, Some("310101-GD")));
    // A street-level dispatcher, who must leave escalated cases to the district.
    all.push(Actor {
        scope: AreaCode::parse("310101002").unwrap(),
        ..actor(Role::Dispatcher, None)
    });
    all
}

#[test]
fn an_escalated_case_waits_for_the_higher_center_which_decides() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Inspector, t0);
    case.state = CaseState::Filed;
    let street = Actor {
        scope: AreaCode::parse("310101002").unwrap(),
        ..actor(Role::Dispatcher, None)
    };
    let district = actor(Role::Dispatcher, None);
    let to = cityops_domain::workflow::escalation_target(&street.scope).unwrap();
    assert_eq!(to.as_str(), "310101");
    let escalate = CaseCommand::Escalate {
        to,
        reason: "涉及两个街道".into(),
    };
    let (waiting, _) = decide(&case, escalate.clone(), &street, t0).unwrap();
    assert_eq!(
        waiting.coordination.as_ref().unwrap().center.as_str(),
        "310101"
    );
    assert!(
        !cityops_domain::workflow::available(&waiting, &street).contains(&CommandKind::Dispatch)
    );
    let dispatch = commands(t0)[7].clone();
    assert!(matches!(
        decide(&waiting, dispatch.clone(), &street, t0).unwrap_err(),
        WorkflowError::Precondition(_)
    ));
    assert!(
        matches!(
            decide(&waiting, escalate, &street, t0).unwrap_err(),
            WorkflowError::Precondition(_)
        ),
        "not twice to the same level"
    );
    let (decided, _) = decide(&waiting, dispatch, &district, t0).unwrap();
    assert!(decided.coordination.is_none());
    assert_eq!(decided.state, CaseState::Dispatched);
}

#[test]
fn a_closed_case_is_rated_once_by_the_citizen() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Photo, t0);
    case.state = CaseState::Closed;
    let citizen = actor(Role::Citizen, None);
    let rate = CaseCommand::Rate {
        score: 5,
        comment: None,
    };
    let (rated, _) = decide(&case, rate.clone(), &citizen, t0).unwrap();
    assert_eq!(rated.rating.as_ref().unwrap().score, 5);
    assert_eq!(
        rated.closed_at, case.closed_at,
        "rating does not move the closing time"
    );
    assert!(decide(&rated, rate, &citizen, t0).is_err());
    let zero = CaseCommand::Rate {
        score: 0,
        comment: None,
    };
    assert!(matches!(
        decide(&case, zero, &citizen, t0).unwrap_err(),
        WorkflowError::Invalid(invalid) if invalid.field == "score"
    ));
}

fn new_case(source: Source, now: DateTime<Utc>) -> (Case, TimelineEvent) {
    report(
        "case-1".into(),
        NewReport {
            fields: Default::default(),
            source,
            description: "人民广场东侧上水井盖缺失".into(),
            address: None,
            location: Location::new(121.47, 31.23).unwrap(),
            location_accuracy_m: None,
            area: area(),
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
        now,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_command_sequences_keep_the_workflow_invariants(
        hotline in any::<bool>(),
        steps in prop::collection::vec((0usize..64, 0usize..12, 0i64..600), 1..80),
    ) {
        let start = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
        let source = if hotline { Source::Hotline } else { Source::Inspector };
        let (mut case, first) = new_case(source, start);
        let mut timeline = vec![first];
        let mut now = start;
        let mut reworks = 0;
        let all_actors = actors();
        for (command_at, actor_at, minutes) in steps {
            now += Duration::minutes(minutes);
            let all_commands = commands(now);
            let command = all_commands[command_at % all_commands.len()].clone();
            let who = &all_actors[actor_at % all_actors.len()];
            let before = case.clone();
            match decide(&case, command.clone(), who, now) {
                Ok((next, event)) => {
                    prop_assert!(
                        cityops_domain::workflow::available(&before, who).contains(&command.kind()),
                        "{} succeeded but was not offered to {}", command.name(), who.role.as_str()
                    );
                    prop_assert!(command.allowed_roles().contains(&who.role),
                        "{} issued {}", who.role.as_str(), command.name());
                    prop_assert!(allowed(before.state, next.state, command.kind()),
                        "{:?} -> {:?} by {}", before.state, next.state, command.name());
                    prop_assert!(!before.state.is_terminal() || command.kind() == CommandKind::Rate);
                    // The store's overdue filter reads the deadline alone: it must be gone
                    // whenever no stage clock runs.
                    prop_assert_eq!(next.deadline, next.running_deadline());
                    prop_assert_eq!(next.version, before.version + 1);
                    prop_assert_eq!(event.seq, next.version);
                    prop_assert_eq!(event.to, next.state);
                    if matches!(command, CaseCommand::Check { passed: false, .. } | CaseCommand::Callback { satisfaction: Some(Satisfaction::Unsatisfied), .. }) {
                        reworks += 1;
                    }
                    if who.role == Role::UnitHandler && matches!(command, CaseCommand::Sign | CaseCommand::Feedback { .. }) {
                        prop_assert_eq!(&who.unit, &before.unit);
                    }
                    case = next;
                    timeline.push(event);
                }
                Err(_) => {
                    // A refused command changes nothing: the caller still holds `before`.
                    prop_assert_eq!(&case, &before);
                    if before.state.is_terminal() && !after_the_end(command.kind()) {
                        prop_assert!(apply(&before, &command, now).is_err());
                    }
                }
            }
        }
        prop_assert_eq!(case.rework_count, reworks);
        let replayed = replay(case.number.clone(), &timeline).unwrap();
        prop_assert_eq!(&replayed, &case);
        if case.state.is_terminal() {
            for command in commands(now) {
                for who in &all_actors {
                    if let Ok((next, _)) = decide(&case, command.clone(), who, now) {
                        // Only a citizen's first rating of a closed case, and a unit's appeal
                        // and its decision, are accepted, and they keep the case as it ended.
                        prop_assert!(after_the_end(command.kind()), "{:?}", command.kind());
                        if command.kind() == CommandKind::Rate {
                            prop_assert!(case.rating.is_none());
                            prop_assert_eq!(next.state, CaseState::Closed);
                        }
                        prop_assert_eq!(next.state, case.state);
                    }
                }
            }
        }
    }
}

#[test]
fn a_case_is_relocated_by_an_admin_within_its_district_and_the_timeline_replays_it() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (case, reported) = new_case(Source::Inspector, t0);
    let admin = actor(Role::Admin, None);
    let relocate = |area: &str, grid: Option<&str>| CaseCommand::Relocate {
        area: AreaCode::parse(area).unwrap(),
        unit_grid: grid.map(str::to_owned),
        reason: "unit grids imported".into(),
    };
    let (moved, event) = decide(
        &case,
        relocate("310101002002", Some("31010100200201")),
        &admin,
        t0,
    )
    .unwrap();
    assert_eq!(moved.area.as_str(), "310101002002");
    assert_eq!(moved.unit_grid.as_deref(), Some("31010100200201"));
    assert_eq!(moved.state, case.state);
    assert_eq!(moved.district, case.district);
    assert_eq!(
        replay(case.number.clone(), &[reported, event]).unwrap(),
        moved
    );
    // Another district, a grid outside the area, the same place, a role that does not
    // maintain the map: refused, nothing changes.
    for (command, who) in [
        (relocate("310104001001", None), &admin),
        (relocate("310101002002", Some("31010100200101")), &admin),
        (relocate("310101002001", None), &admin),
        (
            relocate("310101002002", None),
            &actor(Role::Dispatcher, None),
        ),
    ] {
        assert!(decide(&case, command, who, t0).is_err());
    }
}

#[test]
fn a_retired_units_case_is_reassigned_by_an_admin_where_it_stands_and_the_timeline_replays_it() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, reported) = new_case(Source::Inspector, t0);
    let mut events = vec![reported];
    for step in happy_path(Source::Inspector) {
        if case.state == CaseState::Handling {
            break;
        }
        let (next, event) = decide(
            &case,
            happy_command(step.command, t0),
            &actor_for(&step),
            t0,
        )
        .unwrap();
        case = next;
        events.push(event);
    }
    assert_eq!(
        (case.state, case.unit.as_deref()),
        (CaseState::Handling, Some("310101-ZLS"))
    );
    let reassign = |unit: &str| CaseCommand::Reassign {
        unit: unit.into(),
        reason: "自来水公司撤销，由供电公司承接".into(),
        from: None,
    };
    let admin = actor(Role::Admin, None);
    let (moved, event) = decide(&case, reassign("310101-GD"), &admin, t0).unwrap();
    assert_eq!(moved.unit.as_deref(), Some("310101-GD"));
    assert_eq!((moved.state, moved.deadline), (case.state, case.deadline));
    events.push(event);
    assert_eq!(replay(case.number.clone(), &events).unwrap(), moved);
    // The old unit's handler no longer acts on it; the new unit's does.
    let feedback = happy_command(CommandKind::Feedback, t0);
    assert!(decide(
        &moved,
        feedback.clone(),
        &actor(Role::UnitHandler, Some("310101-ZLS")),
        t0
    )
    .is_err());
    assert!(decide(
        &moved,
        feedback,
        &actor(Role::UnitHandler, Some("310101-GD")),
        t0
    )
    .is_ok());
    // To the unit it already has, by a dispatcher, a case with no unit, or without a reason:
    // refused.
    let (unassigned, _) = new_case(Source::Inspector, t0);
    for (case, command, who) in [
        (&moved, reassign("310101-GD"), &admin),
        (&case, reassign("310101-GD"), &actor(Role::Dispatcher, None)),
        (&unassigned, reassign("310101-GD"), &admin),
        (
            &case,
            CaseCommand::Reassign {
                unit: "310101-GD".into(),
                reason: " ".into(),
                from: None,
            },
            &admin,
        ),
    ] {
        assert!(decide(case, command, who, t0).is_err());
    }
}

/// What a finished case still takes: the citizen's rating, and the evaluation's appeals,
/// which come after the figures.
fn after_the_end(kind: CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::Rate | CommandKind::Appeal | CommandKind::DecideAppeal
    )
}

#[test]
fn every_command_is_stored_under_its_kinds_name() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let mut all = commands(t0);
    all.push(new_case(Source::Hotline, t0).1.command);
    all.push(CaseCommand::Note {
        text: "告警已解除".into(),
    });
    all.push(CaseCommand::ErasePersonalData {
        reason: "the citizen asked for erasure".into(),
    });
    all.push(CaseCommand::Relocate {
        area: AreaCode::parse("310101002001").unwrap(),
        unit_grid: None,
        reason: "unit grids imported".into(),
    });
    // A merge's two sides and its undoing (see merge_properties.rs).
    all.push(CaseCommand::Merge {
        master: "3101012026112500001".into(),
        master_id: "case-0".into(),
        opinion: None,
    });
    all.push(CaseCommand::Unmerge {
        reason: "不是同一处".into(),
    });
    all.push(CaseCommand::TakeReport {
        report: "3101012026112500002".into(),
        report_id: "case-1".into(),
        source: Source::Hotline,
    });
    all.push(CaseCommand::ReleaseReport {
        report: "3101012026112500002".into(),
        report_id: "case-1".into(),
        reason: "不是同一处".into(),
    });
    for command in &all {
        // Timelines, outbox topics and audit actions store this name: it must never move.
        let stored = toml::Value::try_from(command).unwrap();
        assert_eq!(
            stored.get("command").and_then(|tag| tag.as_str()),
            Some(command.kind().as_str())
        );
        assert_eq!(CommandKind::parse(command.name()), Some(command.kind()));
    }
    let kinds: std::collections::HashSet<CommandKind> = all.iter().map(|c| c.kind()).collect();
    assert_eq!(kinds.len(), CommandKind::ALL.len(), "every kind is stored");
}

#[test]
fn personal_data_in_texts_is_masked_on_the_timeline_and_erased_with_the_contact() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let said = "我叫王小明，电话 139 0000 1111，井盖缺失";
    let operator = actor(Role::Operator, None);
    let (mut case, event) = report(
        "c1".into(),
        NewReport {
            fields: Default::default(),
            source: Source::Hotline,
            description: said.into(),
            address: None,
            location: Location::new(121.47, 31.23).unwrap(),
            location_accuracy_m: None,
            area: area(),
            category_hint: None,
            component_id: None,
            reporter: Some(cityops_domain::Reporter {
                name: Some("王小明".into()),
                phone: Some("+86 139-0000-1111".into()),
                follow_token_hash: None,
            }),
            unit_grid: None,
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: None,
            call: None,
        },
        &operator,
        t0,
    )
    .unwrap();
    // One form for the phone; the description masked, its clear text on the event only.
    assert_eq!(
        case.reporter.as_ref().unwrap().phone.as_deref(),
        Some("13900001111")
    );
    assert!(!case.description.contains("王小明"), "{}", case.description);
    assert!(
        !case.description.contains("0000 1111"),
        "{}",
        case.description
    );
    assert!(case.description.contains("井盖缺失"));
    assert_eq!(
        event.clear_text.get("description").map(String::as_str),
        Some(said)
    );
    let mut first = event;
    for step in happy_path(Source::Hotline) {
        case = decide(
            &case,
            happy_command(step.command, t0),
            &actor_for(&step),
            t0,
        )
        .unwrap()
        .0;
    }
    assert!(case.state.is_terminal());
    let steward = actor(Role::DataSteward, None);
    let erase = CaseCommand::ErasePersonalData {
        reason: "the citizen asked".into(),
    };
    assert!(decide(&case, erase.clone(), &operator, t0).is_err());
    let (erased, event) = decide(&case, erase.clone(), &steward, t0).unwrap();
    let reporter = erased.reporter.as_ref().unwrap();
    assert_eq!(
        (reporter.name.as_ref(), reporter.phone.as_ref()),
        (None, None)
    );
    assert!(event.clear_text.is_empty());
    // Once erased there is nothing left to erase.
    assert!(decide(&erased, erase, &steward, t0).is_err());
    cityops_domain::workflow::erase_personal_data_from_event(
        &mut first,
        Some("13900001111"),
        Some("王小明"),
    );
    assert!(first.clear_text.is_empty());
    let CaseCommand::Report(r) = &first.command else {
        unreachable!()
    };
    assert!(r.reporter.as_ref().unwrap().phone.is_none());
}

#[test]
fn a_full_hotline_case_runs_from_report_to_close_with_callback() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Hotline, t0);
    for (i, step) in happy_path(Source::Hotline).iter().enumerate() {
        let now = t0 + Duration::minutes(i as i64 * 10);
        case = decide(
            &case,
            happy_command(step.command, now),
            &actor_for(step),
            now,
        )
        .unwrap()
        .0;
    }
    assert_eq!(case.state, CaseState::Closed);
    assert_eq!(case.version, 13);
    assert!(case.callback_satisfied == Some(true) && case.verified);
}

#[test]
fn the_happy_path_takes_a_case_of_every_source_to_every_state_it_passes() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    for source in Source::ALL {
        for state in CaseState::ALL {
            let Some(steps) = happy_path_to(source, state) else {
                continue;
            };
            let (mut case, _) = new_case(source, t0);
            for step in &steps {
                let who = actor_for(step);
                assert!(
                    cityops_domain::workflow::available(&case, &who).contains(&step.command),
                    "{source:?} to {state:?}: {} is not offered to {} in {:?}",
                    step.command,
                    who.role.as_str(),
                    case.state
                );
                case = decide(&case, happy_command(step.command, t0), &who, t0)
                    .unwrap()
                    .0;
                assert_eq!(case.state, step.to, "{source:?}: {}", step.command);
                assert_eq!(
                    cityops_domain::workflow::next_happy_step(&case).is_some(),
                    case.state != CaseState::Closed,
                    "{source:?}: after {}",
                    step.command
                );
            }
            assert_eq!(case.state, state, "{source:?}");
        }
    }
}

#[test]
fn the_next_happy_step_is_the_step_the_happy_path_takes_next() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    for source in Source::ALL {
        let (mut case, _) = new_case(source, t0);
        for step in happy_path(source) {
            assert_eq!(
                cityops_domain::workflow::next_happy_step(&case),
                Some(step),
                "{source:?} in {:?}",
                case.state
            );
            case = decide(
                &case,
                happy_command(step.command, t0),
                &actor_for(&step),
                t0,
            )
            .unwrap()
            .0;
        }
        assert_eq!(cityops_domain::workflow::next_happy_step(&case), None);
    }
}

/// A hotline case taken along the happy path to the call-back step, at `t0`.
fn in_callback(t0: DateTime<Utc>, attempts_allowed: u32) -> Case {
    let (mut case, _) = new_case(Source::Hotline, t0);
    for step in happy_path_to(Source::Hotline, CaseState::Checked).unwrap() {
        case = decide(
            &case,
            happy_command(step.command, t0),
            &actor_for(&step),
            t0,
        )
        .unwrap()
        .0;
    }
    decide(
        &case,
        CaseCommand::StartCallback { attempts_allowed },
        &actor(Role::Operator, None),
        t0,
    )
    .unwrap()
    .0
}

fn attempt(outcome: CallbackOutcome, satisfaction: Option<Satisfaction>) -> CaseCommand {
    CaseCommand::Callback {
        outcome,
        satisfaction,
        opinion: None,
        report: None,
    }
}

#[test]
fn a_call_back_has_its_clock_and_closes_the_case_as_unreachable_after_the_attempts_allowed() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let operator = actor(Role::Operator, None);
    let mut case = in_callback(t0, 3);
    assert_eq!(case.stage, Some(Stage::Callback));
    // class() allows 120 minutes for the call-back.
    assert_eq!(case.deadline, Some(t0 + Duration::minutes(120)));
    let mut events = Vec::new();
    for (n, outcome) in [CallbackOutcome::NoAnswer, CallbackOutcome::WrongNumber]
        .into_iter()
        .enumerate()
    {
        let (next, event) = decide(&case, attempt(outcome, None), &operator, t0).unwrap();
        assert_eq!(next.state, CaseState::Callback, "attempt {}", n + 1);
        assert_eq!(
            next.deadline, case.deadline,
            "a failed attempt keeps the clock"
        );
        let progress = next.callback.unwrap();
        assert_eq!(progress.failed_attempts, n as u32 + 1);
        assert_eq!(progress.last_outcome, Some(outcome));
        events.push(event);
        case = next;
    }
    // The third failed attempt, past the call-back deadline: closed, unreachable, late.
    let late = t0 + Duration::minutes(121);
    let (closed, event) = decide(
        &case,
        attempt(CallbackOutcome::NoAnswer, None),
        &operator,
        late,
    )
    .unwrap();
    assert_eq!(closed.state, CaseState::Closed);
    assert_eq!(closed.closed_at, Some(late));
    assert!(event.late);
    assert_eq!(closed.deadline, None);
    let progress = closed.callback.unwrap();
    assert!(progress.unreachable && progress.failed_attempts == 3);
    assert_eq!(closed.callback_satisfied, None);
}

#[test]
fn a_reached_caller_gives_one_of_three_grades_and_basically_satisfied_passes() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let operator = actor(Role::Operator, None);
    let case = in_callback(t0, 3);
    let (passed, _) = decide(
        &case,
        attempt(
            CallbackOutcome::Reached,
            Some(Satisfaction::BasicallySatisfied),
        ),
        &operator,
        t0,
    )
    .unwrap();
    assert_eq!(passed.state, CaseState::Checked);
    assert_eq!(passed.callback_satisfied, Some(true));
    assert_eq!(
        passed.callback.unwrap().satisfaction,
        Some(Satisfaction::BasicallySatisfied)
    );
    assert!(decide(
        &passed,
        CaseCommand::Close { opinion: None },
        &actor(Role::ShiftLead, None),
        t0
    )
    .is_ok());

    let (rework, _) = decide(
        &case,
        attempt(CallbackOutcome::Reached, Some(Satisfaction::Unsatisfied)),
        &operator,
        t0,
    )
    .unwrap();
    assert_eq!(rework.state, CaseState::Dispatched);
    assert_eq!(rework.rework_count, case.rework_count + 1);
    assert_eq!(rework.deadline, None);
}

#[test]
fn a_call_back_attempt_that_contradicts_itself_changes_nothing() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let operator = actor(Role::Operator, None);
    let case = in_callback(t0, 3);
    let no_grade = decide(
        &case,
        attempt(CallbackOutcome::Reached, None),
        &operator,
        t0,
    )
    .unwrap_err();
    assert!(
        matches!(&no_grade, WorkflowError::Invalid(e) if e.field == "satisfaction"),
        "{no_grade}"
    );
    let graded_without_answer = decide(
        &case,
        attempt(CallbackOutcome::NoAnswer, Some(Satisfaction::Satisfied)),
        &operator,
        t0,
    )
    .unwrap_err();
    assert!(
        matches!(&graded_without_answer, WorkflowError::Invalid(e) if e.field == "satisfaction"),
        "{graded_without_answer}"
    );
    for allowed in [0, workflow::MAX_CALLBACK_ATTEMPTS + 1] {
        let mut checked = case.clone();
        checked.state = CaseState::Checked;
        let error = decide(
            &checked,
            CaseCommand::StartCallback {
                attempts_allowed: allowed,
            },
            &operator,
            t0,
        )
        .unwrap_err();
        assert!(matches!(error, WorkflowError::Invalid(_)), "{error}");
    }
}

#[test]
fn call_backs_recorded_before_attempts_were_told_apart_still_replay() {
    // What timelines stored before: a bare start and a yes/no satisfaction.
    let start: CaseCommand = serde_json::from_str(r#"{"command":"start_callback"}"#).unwrap();
    assert_eq!(
        start,
        CaseCommand::StartCallback {
            attempts_allowed: workflow::DEFAULT_CALLBACK_ATTEMPTS
        }
    );
    for (satisfied, grade) in [
        (true, Satisfaction::Satisfied),
        (false, Satisfaction::Unsatisfied),
    ] {
        let old: CaseCommand = serde_json::from_str(&format!(
            r#"{{"command":"callback","satisfied":{satisfied},"opinion":null}}"#
        ))
        .unwrap();
        assert_eq!(old, attempt(CallbackOutcome::Reached, Some(grade)));
    }
    // And what is stored now reads back as itself.
    let now = attempt(
        CallbackOutcome::Reached,
        Some(Satisfaction::BasicallySatisfied),
    );
    let json = serde_json::to_string(&now).unwrap();
    assert!(
        json.contains(r#""satisfaction":"basically_satisfied""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<CaseCommand>(&json).unwrap(), now);
}

#[test]
fn a_hotline_case_cannot_close_without_a_satisfied_callback() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Hotline, t0);
    case.state = CaseState::Checked;
    let error = decide(
        &case,
        CaseCommand::Close { opinion: None },
        &actor(Role::ShiftLead, None),
        t0,
    )
    .unwrap_err();
    assert!(matches!(error, WorkflowError::Precondition(_)), "{error}");
}

#[test]
fn the_handling_deadline_comes_from_the_filed_class_and_overdue_follows_it() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Inspector, t0);
    case.state = CaseState::Accepted;
    let (case, _) = decide(
        &case,
        CaseCommand::File {
            fields: Default::default(),
            class: class(),
            opinion: None,
        },
        &actor(Role::ShiftLead, None),
        t0,
    )
    .unwrap();
    assert_eq!(case.deadline, Some(t0 + Duration::minutes(30)));
    assert!(!case.is_overdue(t0 + Duration::minutes(30)));
    assert!(case.is_overdue(t0 + Duration::minutes(31)));
    let (case, event) = decide(
        &case,
        commands(t0)[7].clone(),
        &actor(Role::Dispatcher, None),
        t0 + Duration::minutes(45),
    )
    .unwrap();
    assert!(
        event.late,
        "dispatching after the dispatch deadline is recorded as late"
    );
    let handler = actor(Role::UnitHandler, Some("310101-ZLS"));
    let (case, _) = decide(
        &case,
        CaseCommand::Sign,
        &handler,
        t0 + Duration::minutes(50),
    )
    .unwrap();
    assert_eq!(case.deadline, Some(t0 + Duration::minutes(50 + 180)));
}

#[test]
fn dispatching_a_case_outside_the_units_jurisdiction_is_rejected() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Inspector, t0);
    case.state = CaseState::Filed;
    let error = decide(
        &case,
        commands(t0)[8].clone(),
        &actor(Role::Dispatcher, None),
        t0,
    )
    .unwrap_err();
    assert!(matches!(error, WorkflowError::Precondition(_)), "{error}");
}

#[test]
fn a_unit_handler_of_another_unit_cannot_sign_for_the_case() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap();
    let (mut case, _) = new_case(Source::Inspector, t0);
    case.state = CaseState::Dispatched;
    case.unit = Some("310101-ZLS".into());
    let other = actor(Role::UnitHandler, Some("310101-GD"));
    assert_eq!(
        decide(&case, CaseCommand::Sign, &other, t0).unwrap_err(),
        WorkflowError::NotAssignedUnit
    );
}
