//! Emergencies: warnings issued, updated, lifted and expired; the rules a warning in force
//! adjusts, judged by the real engine; incidents with their response level, joint tasks,
//! situation reports and stand-down; contingency plans; and a property test of the incident's
//! rules over random sequences of commands.

mod common;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::emergency::{
    default_plans, effective_rules, warning_adjustments, EmergencyError, Hazard, Incident,
    IncidentCommand, IncidentKind, IncidentState, NewIncident, NewWarning, PlanNotice,
    ResponseLevel, RuleAdjustment, Severity, TaskState, Warning, WarningSource, WarningUpdate,
};
use cityops_domain::telemetry::{
    default_indicators, AlarmEventKind, Condition, Device, DeviceStatus, Engine, Reading,
    RuleScope, TelemetryRule, WarningLevel,
};
use cityops_domain::{Actor, AreaCode, Location, Role, Unit, UnitKind};
use common::at;
use proptest::prelude::*;

fn area(code: &str) -> AreaCode {
    AreaCode::parse(code).unwrap()
}

fn person(role: Role, scope: &str, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("u-{}-{}", role.as_str(), unit.unwrap_or(scope)),
        username: role.as_str().to_owned(),
        role,
        unit: unit.map(str::to_owned),
        scope: area(scope),
    }
}

fn leader() -> Actor {
    person(Role::CenterLeader, "310000", None)
}

fn rainstorm(now: DateTime<Utc>) -> NewWarning {
    NewWarning {
        hazard: Hazard::Rainstorm,
        level: WarningLevel::Red,
        areas: vec![area("310101"), area("310104"), area("310105")],
        headline: "上海市暴雨红色预警".into(),
        description: "预计未来3小时降雨量将达100毫米以上".into(),
        issued_at: None,
        expires_at: now + Duration::hours(6),
        adjustments: vec![RuleAdjustment {
            rule: "underpass".into(),
            condition: Condition::Above {
                value: 10.0,
                clear: Some(5.0),
            },
        }],
    }
}

#[test]
fn a_warning_is_issued_updated_and_lifted_within_its_rules() {
    let now = at(7, 1, 14, 0);
    let w = Warning::issue(
        "w1".into(),
        rainstorm(now),
        WarningSource::Manual,
        &leader(),
        now,
    )
    .unwrap();
    assert!(w.in_force(now));
    assert_eq!(w.status(now), "in_force");
    assert!(w.covers(&area("310101002001")));
    assert!(!w.covers(&area("310106")));

    // A street's center may not warn a district it does not answer for; an inspector none.
    let street = person(Role::ShiftLead, "310101002", None);
    assert!(matches!(
        Warning::issue(
            "w2".into(),
            rainstorm(now),
            WarningSource::Manual,
            &street,
            now
        ),
        Err(EmergencyError::OutOfScope(_))
    ));
    let inspector = person(Role::Inspector, "310000", None);
    assert!(matches!(
        Warning::issue(
            "w2".into(),
            rainstorm(now),
            WarningSource::Manual,
            &inspector,
            now
        ),
        Err(EmergencyError::RoleNotAllowed { .. })
    ));
    // Bad input names the field.
    for (mutate, field) in [
        (
            Box::new(|w: &mut NewWarning| w.areas.clear()) as Box<dyn Fn(&mut NewWarning)>,
            "areas",
        ),
        (
            Box::new(|w: &mut NewWarning| w.headline = " ".into()),
            "headline",
        ),
        (
            Box::new(move |w: &mut NewWarning| w.expires_at = now - Duration::minutes(1)),
            "expires_at",
        ),
        (
            Box::new(move |w: &mut NewWarning| w.expires_at = now + Duration::days(40)),
            "expires_at",
        ),
        (
            Box::new(|w: &mut NewWarning| w.areas.push(area("310101"))),
            "areas[3]",
        ),
        (
            Box::new(|w: &mut NewWarning| {
                w.adjustments[0].condition = Condition::Above {
                    value: f64::NAN,
                    clear: None,
                }
            }),
            "adjustments[0].condition.value",
        ),
    ] {
        let mut new = rainstorm(now);
        mutate(&mut new);
        match Warning::issue("w3".into(), new, WarningSource::Manual, &leader(), now) {
            Err(EmergencyError::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }

    // Lowered to orange an hour later; the history holds both.
    let later = now + Duration::hours(1);
    let orange = w
        .update(
            WarningUpdate {
                level: Some(WarningLevel::Orange),
                note: Some("雨势减弱".into()),
                ..Default::default()
            },
            &leader(),
            later,
        )
        .unwrap();
    assert_eq!((orange.level, orange.version), (WarningLevel::Orange, 2));
    assert_eq!(orange.history.len(), 2);

    // Expired: re-issuing it needs a new expiry after now, and says so on that field.
    let expired_at = orange.expires_at + Duration::minutes(1);
    assert_eq!(orange.status(expired_at), "expired");
    for expires_at in [None, Some(expired_at - Duration::hours(1))] {
        match orange.update(
            WarningUpdate {
                level: Some(WarningLevel::Red),
                expires_at,
                ..Default::default()
            },
            &leader(),
            expired_at,
        ) {
            Err(EmergencyError::Invalid(e)) => assert_eq!(e.field, "expires_at"),
            other => panic!("{other:?}"),
        }
    }
    let again = orange
        .update(
            WarningUpdate {
                expires_at: Some(expired_at + Duration::hours(3)),
                ..Default::default()
            },
            &leader(),
            expired_at,
        )
        .unwrap();
    assert!(again.in_force(expired_at));

    let lifted = again
        .lift(Some("降雨结束".into()), &leader(), expired_at)
        .unwrap();
    assert!(!lifted.in_force(expired_at));
    assert_eq!(lifted.status(expired_at), "lifted");
    assert!(matches!(
        lifted.lift(None, &leader(), expired_at),
        Err(EmergencyError::State(_))
    ));
    assert!(matches!(
        lifted.update(WarningUpdate::default(), &leader(), expired_at),
        Err(EmergencyError::State(_))
    ));
}

fn underpass_rule() -> TelemetryRule {
    TelemetryRule {
        id: "underpass".into(),
        name: "下立交积水".into(),
        indicator: "water_level".into(),
        scope: RuleScope::All,
        condition: Condition::Above {
            value: 25.0,
            clear: Some(20.0),
        },
        duration_secs: 0,
        repeat: 1,
        level: WarningLevel::Orange,
        schedule: None,
        enabled: true,
        overrides: Vec::new(),
    }
}

fn gauge(id: &str, area: &str) -> Device {
    Device {
        id: id.into(),
        kind: "water_gauge".into(),
        name: id.into(),
        location: Location {
            lon: 121.47,
            lat: 31.23,
        },
        area: AreaCode::parse(area).unwrap(),
        unit_grid: None,
        component_id: None,
        owner_unit: None,
        status: DeviceStatus::Active,
    }
}

/// The devices that raise an alarm for a reading of `value` cm under the rules in force.
fn raised(rules: Vec<TelemetryRule>, value: f64) -> Vec<String> {
    let mut engine = Engine::new(default_indicators(), "t");
    let devices = [
        gauge("huangpu", "310101002001"),
        gauge("xuhui", "310104001001"),
        gauge("putuo", "310107"),
    ];
    let idx: Vec<_> = devices.iter().map(|d| engine.upsert_device(d)).collect();
    engine.set_rules(rules);
    let indicator = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    for (i, d) in idx.iter().enumerate() {
        engine.evaluate(
            Reading {
                device: *d,
                indicator,
                at_ms: at(7, 1, 15, 0).timestamp_millis() + i as i64,
                value,
            },
            &mut out,
        );
    }
    let mut names: Vec<String> = out
        .iter()
        .filter(|e| e.kind == AlarmEventKind::Raised)
        .map(|e| engine.device_id(e.device).to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_warning_in_force_lowers_a_rules_threshold_in_its_areas_only() {
    let now = at(7, 1, 14, 0);
    let w = Warning::issue(
        "w1".into(),
        rainstorm(now),
        WarningSource::Manual,
        &leader(),
        now,
    )
    .unwrap();
    let rules = vec![underpass_rule()];
    let during = now + Duration::hours(1);
    // 12 cm: trouble under the warning's 10 cm in Huangpu and Xuhui, not in Putuo (no
    // warning there) whose rule stays at 25 cm.
    assert_eq!(
        raised(
            effective_rules(&rules, std::slice::from_ref(&w), &[], during),
            12.0
        ),
        ["huangpu", "xuhui"]
    );
    assert_eq!(
        raised(
            effective_rules(&rules, std::slice::from_ref(&w), &[], during),
            30.0
        ),
        ["huangpu", "putuo", "xuhui"]
    );
    // Once it expires, or is lifted, the rule is its own again.
    let after = w.expires_at;
    assert!(raised(
        effective_rules(&rules, std::slice::from_ref(&w), &[], after),
        12.0
    )
    .is_empty());
    let lifted = w.lift(None, &leader(), during).unwrap();
    assert!(raised(effective_rules(&rules, &[lifted], &[], during), 12.0).is_empty());
    // An adjustment of another kind than the rule's is not applied.
    let mut odd = w.clone();
    odd.adjustments[0].condition = Condition::Silent { minutes: 5 };
    assert!(effective_rules(&rules, &[odd], &[], during)[0]
        .overrides
        .is_empty());
}

fn units() -> Vec<Unit> {
    let unit =
        |code: &str, kind, area: &str| Unit::new(code.into(), code.into(), kind, self::area(area));
    let mut retired = unit("310101-JD-OLD", UnitKind::StreetOffice, "310101002");
    retired.retired = Some(cityops_domain::Retirement {
        at: at(1, 1, 0, 0),
        successor: None,
    });
    vec![
        unit("310000-PS", UnitKind::Water, "310000"),
        unit("310000-JJ", UnitKind::PublicSecurity, "310000"),
        unit("310101-JD1", UnitKind::StreetOffice, "310101002"),
        unit("310104-JD1", UnitKind::StreetOffice, "310104001"),
        unit("310105-JD1", UnitKind::StreetOffice, "310105001"),
        unit("310107-JD1", UnitKind::StreetOffice, "310107001"),
        unit("310101-LH", UnitKind::Greening, "310101"),
        retired,
    ]
}

/// The scripted rainstorm's incident, opened from the plan for three districts.
fn opened(now: DateTime<Utc>) -> (Incident, Vec<cityops_domain::emergency::PlannedTask>) {
    let plan = default_plans()
        .into_iter()
        .find(|p| p.hazard == Hazard::Rainstorm)
        .unwrap();
    let opening = plan
        .open(
            None,
            vec![area("310101"), area("310104"), area("310105")],
            &units(),
            now,
        )
        .unwrap();
    let tasks = opening.tasks;
    let (incident, event) = Incident::open("e1".into(), opening.incident, &leader(), now).unwrap();
    assert_eq!(event.seq, 1);
    (incident, tasks)
}

#[test]
fn a_plan_opens_an_incident_with_a_task_for_each_unit_that_answers_there() {
    let now = at(7, 1, 14, 30);
    let (incident, tasks) = opened(now);
    let given: Vec<&str> = tasks.iter().map(|t| t.unit.as_str()).collect();
    // The drainage company and the traffic police city-wide, and the three districts'
    // street offices; not Putuo's, not the retired one, not the landscaping office.
    assert_eq!(
        given,
        [
            "310000-PS",
            "310000-JJ",
            "310101-JD1",
            "310104-JD1",
            "310105-JD1"
        ]
    );
    assert_eq!(
        incident.center,
        area("310000"),
        "three districts: the city's center"
    );
    assert_eq!(
        incident.response, None,
        "a leader decides the level, not the plan"
    );
    assert_eq!(incident.kind, IncidentKind::NaturalDisaster);
    assert_eq!(tasks[0].deadline, now + Duration::hours(2));
}

#[test]
fn a_plan_brings_its_resources_and_tells_the_units_it_names() {
    let now = at(7, 1, 14, 30);
    let mut plan = default_plans()
        .into_iter()
        .find(|p| p.id == "rainstorm")
        .unwrap();
    plan.notices = vec![PlanNotice {
        unit_kind: UnitKind::Greening,
        text: "请加固行道树".into(),
    }];
    let opening = plan
        .open(None, vec![area("310101")], &units(), now)
        .unwrap();
    assert_eq!(
        opening.notices,
        [(vec!["310101-LH".to_owned()], "请加固行道树".to_owned())]
    );
    let steps = opening.steps();
    let names: Vec<&str> = steps.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "assign_task",
            "assign_task",
            "assign_task",
            "add_resource",
            "add_resource",
            "notify"
        ]
    );
    let (mut incident, _) = Incident::open("e3".into(), opening.incident, &leader(), now).unwrap();
    for step in steps {
        incident = run(&incident, step, &leader(), now).unwrap();
    }
    assert_eq!(incident.version, 7);
    assert_eq!(
        incident
            .resources
            .iter()
            .map(|r| (r.name.as_str(), r.quantity))
            .collect::<Vec<_>>(),
        [("移动泵车", 4), ("防汛沙袋", 2000)]
    );
    // The landscaping office was told: it sees the public facts and its notice, no tasks and
    // no resources; an office that was neither told nor tasked sees nothing.
    let greening = person(Role::UnitHandler, "310101", Some("310101-LH"));
    assert!(incident.visible_to(&greening));
    let seen = incident.seen_by(&greening);
    assert!(seen.tasks.is_empty() && seen.resources.is_empty());
    assert_eq!(seen.notices.len(), 1);
    assert!(!incident.visible_to(&person(Role::UnitHandler, "310107001", Some("310107-JD1"))));
    // A notice to a unit that is not active is refused, naming it.
    let refused = run(
        &incident,
        IncidentCommand::Notify {
            units: vec!["310101-LH".into(), "310107-XX".into()],
            text: "请注意".into(),
        },
        &leader(),
        now,
    );
    assert!(
        matches!(&refused, Err(EmergencyError::Invalid(e)) if e.field == "units[1]"),
        "{refused:?}"
    );
}

#[test]
fn an_incident_links_what_is_raised_in_its_areas_of_its_classes_while_it_runs() {
    let now = at(7, 1, 14, 30);
    let (incident, _) = opened(now);
    let later = now + Duration::minutes(5);
    let huangpu = area("310101002001");
    // The rainstorm plan links water levels and flooding, not a gas leak nor a shed.
    assert!(incident.links(&huangpu, Some("water_level"), later));
    assert!(incident.links(&huangpu, Some("20406"), later));
    assert!(!incident.links(&huangpu, Some("gas_concentration"), later));
    assert!(!incident.links(&huangpu, Some("20101"), later));
    assert!(
        !incident.links(&huangpu, None, later),
        "a case of no class yet"
    );
    // Only in its areas, and only from its opening.
    assert!(!incident.links(&area("310107001001"), Some("water_level"), later));
    assert!(!incident.links(&huangpu, Some("water_level"), now - Duration::minutes(1)));
    // With no classes, everything in the areas.
    let mut all = incident.clone();
    all.link_classes.clear();
    assert!(all.links(&huangpu, Some("gas_concentration"), later));
    assert!(all.links(&huangpu, None, later));
    // Nothing after the stand-down.
    all.state = IncidentState::StoodDown;
    assert!(!all.links(&huangpu, Some("water_level"), later));
}

#[test]
fn a_warning_brings_the_adjustments_of_the_plans_of_its_hazard_from_their_level_up() {
    let underpass = RuleAdjustment {
        rule: "underpass".into(),
        condition: Condition::Above {
            value: 10.0,
            clear: Some(5.0),
        },
    };
    let mut plans = default_plans();
    for plan in &mut plans {
        plan.adjustments = vec![underpass.clone()];
    }
    // The rainstorm plan applies from yellow: orange and red bring it, blue does not; the
    // typhoon plan's adjustment comes only with a typhoon warning.
    for (level, expected) in [
        (WarningLevel::Red, 1),
        (WarningLevel::Orange, 1),
        (WarningLevel::Yellow, 1),
        (WarningLevel::Blue, 0),
    ] {
        assert_eq!(
            warning_adjustments(&plans, Hazard::Rainstorm, level).len(),
            expected,
            "{level:?}"
        );
    }
    assert!(warning_adjustments(&plans, Hazard::Fog, WarningLevel::Red).is_empty());
}

fn run(
    incident: &Incident,
    command: IncidentCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Incident, EmergencyError> {
    let known = |u: &str| units().iter().any(|x| x.code == u && x.retired.is_none());
    incident
        .decide(command, actor, now, known)
        .map(|(next, event)| {
            assert_eq!(event.seq, next.version);
            next
        })
}

#[test]
fn a_joint_response_runs_from_level_to_stand_down() {
    let now = at(7, 1, 14, 30);
    let (mut incident, tasks) = opened(now);
    // No level without a reason; the level is a leader's decision only.
    assert!(matches!(
        run(
            &incident,
            IncidentCommand::SetResponse {
                level: ResponseLevel::Two,
                reason: " ".into()
            },
            &leader(),
            now
        ),
        Err(EmergencyError::Invalid(e)) if e.field == "reason"
    ));
    let shift_lead = person(Role::ShiftLead, "310000", None);
    assert!(matches!(
        run(
            &incident,
            IncidentCommand::SetResponse {
                level: ResponseLevel::Two,
                reason: "红色预警".into()
            },
            &shift_lead,
            now
        ),
        Err(EmergencyError::RoleNotAllowed { .. })
    ));
    incident = run(
        &incident,
        IncidentCommand::SetResponse {
            level: ResponseLevel::Two,
            reason: "暴雨红色预警，三区积水".into(),
        },
        &leader(),
        now,
    )
    .unwrap();
    assert_eq!(
        incident.response.as_ref().unwrap().level,
        ResponseLevel::Two
    );
    for task in &tasks {
        incident = run(
            &incident,
            IncidentCommand::AssignTask {
                unit: task.unit.clone(),
                title: task.title.clone(),
                deadline: task.deadline,
            },
            &shift_lead,
            now,
        )
        .unwrap();
    }
    // A task for a unit that does not exist, or is retired, is refused naming the unit.
    for unit in ["310000-NOPE", "310101-JD-OLD"] {
        assert!(matches!(
            run(
                &incident,
                IncidentCommand::AssignTask {
                    unit: unit.into(),
                    title: "x".into(),
                    deadline: now + Duration::hours(1)
                },
                &shift_lead,
                now
            ),
            Err(EmergencyError::Invalid(e)) if e.field == "unit"
        ));
    }
    // Each unit accepts and reports its own task; another unit cannot touch it.
    let street = person(Role::UnitHandler, "310101002", Some("310101-JD1"));
    let drainage = person(Role::UnitHandler, "310000", Some("310000-PS"));
    assert!(matches!(
        run(
            &incident,
            IncidentCommand::AcceptTask { task: 1 },
            &street,
            now
        ),
        Err(EmergencyError::NotYourTask(1))
    ));
    for (i, task) in incident.tasks.clone().iter().enumerate() {
        let handler = person(Role::UnitHandler, "310000", Some(&task.unit));
        let t = now + Duration::minutes(10 + i as i64);
        incident = run(
            &incident,
            IncidentCommand::AcceptTask { task: task.id },
            &handler,
            t,
        )
        .unwrap();
        incident = run(
            &incident,
            IncidentCommand::FinishTask {
                task: task.id,
                report: "已完成".into(),
                photos: vec![],
            },
            &handler,
            t + Duration::minutes(30),
        )
        .unwrap();
    }
    assert!(incident.tasks.iter().all(|t| t.state == TaskState::Done));
    assert!(matches!(
        run(
            &incident,
            IncidentCommand::StartTask { task: 1 },
            &drainage,
            now
        ),
        Err(EmergencyError::State(_))
    ));
    // The street office sees its own task and the public facts, not the others' reports.
    let seen = incident.seen_by(&street);
    assert_eq!(seen.tasks.len(), 1);
    assert_eq!(seen.tasks[0].unit, "310101-JD1");
    assert!(incident.visible_to(&street));
    let stranger = person(Role::UnitHandler, "310107001", Some("310107-JD1"));
    assert!(!incident.visible_to(&stranger));

    incident = run(
        &incident,
        IncidentCommand::Sitrep {
            text: "积水已退，道路恢复通行".into(),
        },
        &shift_lead,
        now + Duration::hours(2),
    )
    .unwrap();
    incident = run(
        &incident,
        IncidentCommand::SetResponse {
            level: ResponseLevel::Four,
            reason: "预警降为黄色".into(),
        },
        &leader(),
        now + Duration::hours(3),
    )
    .unwrap();
    incident = run(
        &incident,
        IncidentCommand::StandDown {
            reason: "预警解除".into(),
        },
        &leader(),
        now + Duration::hours(4),
    )
    .unwrap();
    assert_eq!(incident.state, IncidentState::StoodDown);
    assert!(matches!(
        run(
            &incident,
            IncidentCommand::Sitrep { text: "x".into() },
            &shift_lead,
            now + Duration::hours(5)
        ),
        Err(EmergencyError::State(_))
    ));
}

#[test]
fn an_incident_is_handed_to_the_next_level_center() {
    let now = at(7, 1, 14, 30);
    let street = person(Role::CenterLeader, "310101002", None);
    let (incident, _) = Incident::open(
        "e2".into(),
        NewIncident {
            zone: None,
            kind: IncidentKind::Accident,
            severity: Severity::IV,
            title: "燃气管道泄漏".into(),
            description: String::new(),
            areas: vec![area("310101002001")],
            lead_unit: None,
            warnings: vec![],
            plan: None,
            adjustments: vec![],
            link_classes: vec![],
        },
        &street,
        now,
    )
    .unwrap();
    assert_eq!(incident.center, area("310101002"));
    let up = run(
        &incident,
        IncidentCommand::HandOver {
            reason: "超出街道处置能力".into(),
        },
        &street,
        now,
    )
    .unwrap();
    assert_eq!(up.center, area("310101"));
}

#[derive(Debug, Clone)]
enum Step {
    Level(usize, bool),
    Assign(usize, i64),
    Accept(u32, usize),
    Start(u32, usize),
    Finish(u32, usize),
    Unable(u32, usize),
    Sitrep(bool),
    HandOver,
    StandDown,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0usize..4, any::<bool>()).prop_map(|(l, r)| Step::Level(l, r)),
        (0usize..8, -2i64..10).prop_map(|(u, h)| Step::Assign(u, h)),
        (0u32..8, 0usize..8).prop_map(|(t, u)| Step::Accept(t, u)),
        (0u32..8, 0usize..8).prop_map(|(t, u)| Step::Start(t, u)),
        (0u32..8, 0usize..8).prop_map(|(t, u)| Step::Finish(t, u)),
        (0u32..8, 0usize..8).prop_map(|(t, u)| Step::Unable(t, u)),
        any::<bool>().prop_map(Step::Sitrep),
        Just(Step::HandOver),
        Just(Step::StandDown),
    ]
}

proptest! {
    /// Whatever is tried: nothing panics; a refused command changes nothing; an accepted one
    /// raises the version by one; a task only moves forward (assigned, accepted, in progress,
    /// then done or unable) and only its own unit moves it; the response level changes only by
    /// a leader's decision with a reason; nothing changes after the stand-down.
    #[test]
    fn an_incidents_rules_hold_over_any_sequence(steps in proptest::collection::vec(step(), 1..40)) {
        let now = at(7, 1, 14, 30);
        let (mut incident, _) = opened(now);
        let all = units();
        let codes: Vec<String> = all.iter().map(|u| u.code.clone()).collect();
        let rank = |s: TaskState| match s {
            TaskState::Assigned => 0,
            TaskState::Accepted => 1,
            TaskState::InProgress => 2,
            TaskState::Done | TaskState::Unable => 3,
        };
        for (i, step) in steps.into_iter().enumerate() {
            let t = now + Duration::minutes(i as i64);
            let handler = |u: usize| person(Role::UnitHandler, "310000", Some(&codes[u % codes.len()]));
            let (command, actor) = match step {
                Step::Level(l, reason) => (
                    IncidentCommand::SetResponse {
                        level: ResponseLevel::ALL[l],
                        reason: if reason { "研判".into() } else { String::new() },
                    },
                    leader(),
                ),
                Step::Assign(u, hours) => (
                    IncidentCommand::AssignTask {
                        unit: codes[u % codes.len()].clone(),
                        title: "巡查".into(),
                        deadline: t + Duration::hours(hours),
                    },
                    person(Role::ShiftLead, "310000", None),
                ),
                Step::Accept(task, u) => (IncidentCommand::AcceptTask { task }, handler(u)),
                Step::Start(task, u) => (IncidentCommand::StartTask { task }, handler(u)),
                Step::Finish(task, u) => (
                    IncidentCommand::FinishTask { task, report: "完成".into(), photos: vec![] },
                    handler(u),
                ),
                Step::Unable(task, u) => (
                    IncidentCommand::TaskUnable { task, reason: "无力量".into() },
                    handler(u),
                ),
                Step::Sitrep(staff) => (
                    IncidentCommand::Sitrep { text: "续报".into() },
                    if staff { person(Role::Dispatcher, "310000", None) } else { person(Role::Inspector, "310000", None) },
                ),
                Step::HandOver => (IncidentCommand::HandOver { reason: "上报".into() }, leader()),
                Step::StandDown => (IncidentCommand::StandDown { reason: "终止".into() }, leader()),
            };
            let before = incident.clone();
            match run(&before, command.clone(), &actor, t) {
                Ok(next) => {
                    prop_assert_eq!(next.version, before.version + 1);
                    prop_assert_eq!(before.state, IncidentState::Active);
                    for (old, new) in before.tasks.iter().zip(&next.tasks) {
                        prop_assert!(rank(new.state) >= rank(old.state));
                        if new.state != old.state {
                            prop_assert_eq!(actor.unit.as_deref(), Some(new.unit.as_str()));
                        }
                        if !old.state.is_open() {
                            prop_assert_eq!(old, new);
                        }
                    }
                    if next.response != before.response {
                        prop_assert_eq!(actor.role, Role::CenterLeader);
                        prop_assert!(!next.response.as_ref().unwrap().reason.is_empty());
                    }
                    incident = next;
                }
                Err(_) => prop_assert_eq!(&incident, &before),
            }
        }
    }
}
