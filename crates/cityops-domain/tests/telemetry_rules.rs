//! Rule semantics, table-driven, and the legality of every alarm's life (property test).

use chrono::{TimeZone, Utc};
use cityops_domain::telemetry::{
    default_indicators, legal, Alarm, AlarmEventKind, Condition, Device, DeviceStatus, Engine,
    Reading, RuleScope, Schedule, TelemetryRule, Verdict, WarningLevel,
};
use cityops_domain::{AreaCode, Location};
use proptest::prelude::*;
use std::collections::HashMap;

use AlarmEventKind::{Cleared as C, Raised as R, Reopened as O};

/// 2026-11-23 00:00 Shanghai (a Monday) in ms.
fn monday() -> i64 {
    Utc.with_ymd_and_hms(2026, 11, 22, 16, 0, 0)
        .unwrap()
        .timestamp_millis()
}

fn device(id: &str, kind: &str, area: &str) -> Device {
    Device {
        id: id.into(),
        kind: kind.into(),
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

fn rule(condition: Condition) -> TelemetryRule {
    TelemetryRule {
        id: "r1".into(),
        name: "test".into(),
        indicator: "water_level".into(),
        scope: RuleScope::All,
        condition,
        duration_secs: 0,
        repeat: 1,
        level: WarningLevel::Yellow,
        schedule: None,
        enabled: true,
        overrides: Vec::new(),
    }
}

fn above(value: f64, clear: Option<f64>) -> Condition {
    Condition::Above { value, clear }
}

enum Step {
    /// (seconds after the start, value)
    Read(i64, f64),
    /// Clock tick at seconds after the start.
    Tick(i64),
}
use Step::{Read, Tick};

/// Runs the steps; returns (seconds, kind) of every transition except repeats.
fn run(rule: TelemetryRule, start: i64, steps: &[Step]) -> Vec<(i64, AlarmEventKind)> {
    let mut engine = Engine::new(default_indicators(), "t");
    engine.set_flap_window_ms(60_000);
    let d = engine.upsert_device(&device("d1", "gauge", "310101002001"));
    engine.set_rules(vec![rule]);
    let indicator = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    for step in steps {
        match *step {
            Read(s, value) => {
                engine.evaluate(
                    Reading {
                        device: d,
                        indicator,
                        at_ms: start + s * 1000,
                        value,
                    },
                    &mut out,
                );
            }
            Tick(s) => engine.tick(start + s * 1000, &mut out),
        }
    }
    out.iter()
        .filter(|e| e.kind != AlarmEventKind::Repeated)
        .map(|e| ((e.at_ms - start) / 1000, e.kind))
        .collect()
}

#[test]
fn rule_semantics_table() {
    let t0 = monday() + 10 * 3600 * 1000; // Monday 10:00 in Shanghai
    let with = |mut r: TelemetryRule, f: &dyn Fn(&mut TelemetryRule)| {
        f(&mut r);
        r
    };
    #[allow(clippy::type_complexity)]
    let table: Vec<(&str, TelemetryRule, Vec<Step>, Vec<(i64, AlarmEventKind)>)> = vec![
        (
            "threshold raises at once and clears below",
            rule(above(30.0, None)),
            vec![
                Read(0, 10.0),
                Read(60, 31.0),
                Read(120, 40.0),
                Read(180, 29.0),
            ],
            vec![(60, R), (180, C)],
        ),
        (
            "equal to the threshold is not above it",
            rule(above(30.0, None)),
            vec![Read(0, 30.0)],
            vec![],
        ),
        (
            "below",
            rule(Condition::Below {
                value: 60.0,
                clear: Some(70.0),
            }),
            vec![
                Read(0, 80.0),
                Read(60, 50.0),
                Read(120, 65.0),
                Read(180, 71.0),
            ],
            vec![(60, R), (180, C)],
        ),
        (
            "hysteresis: stays active between clear and trigger",
            rule(above(30.0, Some(25.0))),
            vec![
                Read(0, 31.0),
                Read(60, 28.0),
                Read(120, 27.0),
                Read(180, 25.0),
            ],
            vec![(0, R), (180, C)],
        ),
        (
            "duration: above 30 for 10 minutes",
            with(rule(above(30.0, None)), &|r| r.duration_secs = 600),
            vec![
                Read(0, 35.0),
                Read(300, 36.0),
                Read(599, 37.0),
                Read(600, 38.0),
                Read(660, 20.0),
            ],
            vec![(600, R), (660, C)],
        ),
        (
            "duration restarts after a dip",
            with(rule(above(30.0, None)), &|r| r.duration_secs = 600),
            vec![
                Read(0, 35.0),
                Read(300, 20.0),
                Read(360, 35.0),
                Read(900, 35.0),
                Read(960, 35.0),
            ],
            vec![(960, R)],
        ),
        (
            "repeat: 3 readings in a row",
            with(rule(above(30.0, None)), &|r| r.repeat = 3),
            vec![
                Read(0, 35.0),
                Read(60, 35.0),
                Read(120, 10.0),
                Read(180, 35.0),
                Read(240, 35.0),
                Read(300, 35.0),
            ],
            vec![(300, R)],
        ),
        (
            "repeat and duration both needed",
            with(rule(above(30.0, None)), &|r| {
                r.repeat = 2;
                r.duration_secs = 120
            }),
            vec![Read(0, 35.0), Read(60, 35.0), Read(120, 35.0)],
            vec![(120, R)],
        ),
        (
            "range",
            rule(Condition::Outside {
                min: 60.0,
                max: 140.0,
                margin: Some(5.0),
            }),
            vec![
                Read(0, 100.0),
                Read(60, 150.0),
                Read(120, 138.0),
                Read(180, 134.0),
                Read(240, 50.0),
            ],
            vec![(60, R), (180, C), (240, O)],
        ),
        (
            "rate of change: rising faster than 5 a minute",
            rule(Condition::Rising {
                per_minute: 5.0,
                clear: Some(1.0),
            }),
            vec![
                Read(0, 10.0),
                Read(60, 12.0),
                Read(120, 20.0),
                Read(180, 23.0),
                Read(240, 23.5),
            ],
            vec![(120, R), (240, C)],
        ),
        (
            "falling",
            rule(Condition::Falling {
                per_minute: 10.0,
                clear: None,
            }),
            vec![Read(0, 100.0), Read(60, 80.0), Read(120, 75.0)],
            vec![(60, R), (120, C)],
        ),
        (
            "missing data raises on the clock and clears with a reading",
            rule(Condition::Silent { minutes: 10 }),
            vec![
                Read(0, 1.0),
                Tick(300),
                Tick(599),
                Tick(600),
                Tick(700),
                Read(720, 1.0),
            ],
            vec![(600, R), (720, C)],
        ),
        (
            "a device never heard from is not silent",
            rule(Condition::Silent { minutes: 10 }),
            vec![Tick(3600)],
            vec![],
        ),
        (
            "flapping: a re-raise soon after clearing reopens the same alarm",
            rule(above(30.0, None)),
            vec![
                Read(0, 31.0),
                Read(10, 20.0),
                Read(20, 31.0),
                Read(200, 20.0),
                Tick(300),
                Read(400, 31.0),
            ],
            vec![(0, R), (10, C), (20, O), (200, C), (400, R)],
        ),
        (
            "schedule: outside the window nothing raises",
            with(rule(above(30.0, None)), &|r| {
                r.schedule = Some(Schedule {
                    days: vec![1],
                    from: "07:00".into(),
                    to: "09:00".into(),
                })
            }),
            vec![Read(0, 40.0), Read(60, 10.0)],
            vec![],
        ),
        (
            "schedule: inside the window",
            with(rule(above(30.0, None)), &|r| {
                r.schedule = Some(Schedule {
                    days: vec![1, 2],
                    from: "09:30".into(),
                    to: "10:30".into(),
                })
            }),
            vec![Read(0, 40.0), Read(3600, 10.0)],
            vec![(0, R), (3600, C)],
        ),
        (
            "schedule over midnight counts Monday night from Sunday's window",
            with(rule(above(30.0, None)), &|r| {
                r.schedule = Some(Schedule {
                    days: vec![7],
                    from: "22:00".into(),
                    to: "11:00".into(),
                })
            }),
            vec![Read(0, 40.0)],
            vec![(0, R)],
        ),
    ];
    for (name, rule, steps, expected) in table {
        let got = run(rule, t0, &steps);
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn duplicates_and_late_readings_do_not_run_rules() {
    let mut engine = Engine::new(default_indicators(), "t");
    let d = engine.upsert_device(&device("d1", "gauge", "310101002001"));
    engine.set_rules(vec![rule(above(30.0, None))]);
    let i = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    let r = |at_ms, value| Reading {
        device: d,
        indicator: i,
        at_ms,
        value,
    };
    assert_eq!(engine.evaluate(r(1000, 10.0), &mut out), Verdict::Evaluated);
    assert_eq!(engine.evaluate(r(1000, 99.0), &mut out), Verdict::Duplicate);
    assert_eq!(engine.evaluate(r(500, 99.0), &mut out), Verdict::Late);
    assert_eq!(engine.evaluate(r(500, 99.0), &mut out), Verdict::Duplicate);
    // Recent readings redelivered after newer ones are duplicates, not late news.
    assert_eq!(engine.evaluate(r(2000, 10.0), &mut out), Verdict::Evaluated);
    assert_eq!(engine.evaluate(r(3000, 10.0), &mut out), Verdict::Evaluated);
    assert_eq!(engine.evaluate(r(1000, 10.0), &mut out), Verdict::Duplicate);
    assert_eq!(engine.evaluate(r(2000, 10.0), &mut out), Verdict::Duplicate);
    assert!(out.is_empty());
}

#[test]
fn scopes_pick_the_devices_a_rule_watches() {
    let mut engine = Engine::new(default_indicators(), "t");
    let a = engine.upsert_device(&device("a", "gauge", "310101002001"));
    let b = engine.upsert_device(&device("b", "radar", "310104003001"));
    let mut by_type = rule(above(30.0, None));
    by_type.id = "type".into();
    by_type.scope = RuleScope::DeviceType {
        device_type: "radar".into(),
    };
    let mut by_area = rule(above(30.0, None));
    by_area.id = "area".into();
    by_area.scope = RuleScope::Area {
        area: AreaCode::parse("310101").unwrap(),
    };
    let mut by_device = rule(above(30.0, None));
    by_device.id = "device".into();
    by_device.scope = RuleScope::Device { device: "b".into() };
    engine.set_rules(vec![by_type, by_area, by_device]);
    let i = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    engine.evaluate(
        Reading {
            device: a,
            indicator: i,
            at_ms: 1,
            value: 50.0,
        },
        &mut out,
    );
    engine.evaluate(
        Reading {
            device: b,
            indicator: i,
            at_ms: 1,
            value: 50.0,
        },
        &mut out,
    );
    let mut fired: Vec<(String, String)> = out
        .iter()
        .map(|e| {
            (
                engine.device_id(e.device).to_owned(),
                engine.rule(e.rule).id.clone(),
            )
        })
        .collect();
    fired.sort();
    let expected =
        [("a", "area"), ("b", "device"), ("b", "type")].map(|(d, r)| (d.to_owned(), r.to_owned()));
    assert_eq!(fired, expected);
}

#[test]
fn maintenance_devices_raise_nothing() {
    let mut engine = Engine::new(default_indicators(), "t");
    let mut dev = device("a", "gauge", "310101002001");
    dev.status = DeviceStatus::Maintenance;
    let d = engine.upsert_device(&dev);
    engine.set_rules(vec![rule(above(30.0, None))]);
    let i = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    engine.evaluate(
        Reading {
            device: d,
            indicator: i,
            at_ms: 1,
            value: 50.0,
        },
        &mut out,
    );
    assert!(out.is_empty());
}

#[test]
fn changing_rules_keeps_the_state_of_rules_that_stay() {
    let mut engine = Engine::new(default_indicators(), "t");
    let d = engine.upsert_device(&device("a", "gauge", "310101002001"));
    let mut slow = rule(above(30.0, None));
    slow.duration_secs = 600;
    engine.set_rules(vec![slow.clone()]);
    let i = engine.indicator_idx("water_level").unwrap();
    let mut out = Vec::new();
    engine.evaluate(
        Reading {
            device: d,
            indicator: i,
            at_ms: 0,
            value: 50.0,
        },
        &mut out,
    );
    let mut other = rule(above(90.0, None));
    other.id = "other".into();
    engine.set_rules(vec![other, slow]);
    engine.evaluate(
        Reading {
            device: d,
            indicator: i,
            at_ms: 600_000,
            value: 50.0,
        },
        &mut out,
    );
    assert_eq!(
        out.len(),
        1,
        "the pending duration survived the change: {out:?}"
    );
    assert_eq!(engine.rule(out[0].rule).id, "r1");
}

#[test]
fn invalid_rules_name_the_field() {
    let known = |k: &str| k == "water_level";
    let check = |f: &dyn Fn(&mut TelemetryRule)| {
        let mut r = rule(above(30.0, None));
        f(&mut r);
        r.validate(known).unwrap_err().field
    };
    assert_eq!(check(&|r| r.indicator = "rain".into()), "indicator");
    assert_eq!(
        check(&|r| r.condition = above(30.0, Some(40.0))),
        "condition.clear"
    );
    assert_eq!(
        check(&|r| r.condition = above(f64::NAN, None)),
        "condition.value"
    );
    assert_eq!(
        check(&|r| r.condition = Condition::Outside {
            min: 5.0,
            max: 1.0,
            margin: None
        }),
        "condition.max"
    );
    assert_eq!(
        check(&|r| r.condition = Condition::Rising {
            per_minute: 0.0,
            clear: None
        }),
        "condition.per_minute"
    );
    assert_eq!(
        check(&|r| r.condition = Condition::Silent { minutes: 0 }),
        "condition.minutes"
    );
    assert_eq!(check(&|r| r.repeat = 0), "repeat");
    assert_eq!(check(&|r| r.duration_secs = 10_000_000), "duration_secs");
    assert_eq!(
        check(&|r| r.schedule = Some(Schedule {
            days: vec![8],
            from: "07:00".into(),
            to: "08:00".into()
        })),
        "schedule.days"
    );
    assert_eq!(
        check(&|r| r.schedule = Some(Schedule {
            days: vec![],
            from: "7:00".into(),
            to: "08:00".into()
        })),
        "schedule.from"
    );
    assert_eq!(check(&|r| r.id = "has space".into()), "id");
}

#[derive(Debug, Clone)]
enum Op {
    Read {
        device: usize,
        dt_s: i64,
        value: f64,
    },
    Tick {
        dt_s: i64,
    },
    Ack {
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..120i64, 0.0..60.0f64).prop_map(|(device, dt_s, value)| Op::Read { device, dt_s, value }),
        1 => (0..1200i64).prop_map(|dt_s| Op::Tick { dt_s }),
        1 => any::<usize>().prop_map(|pick| Op::Ack { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the readings, clock and acknowledgements: every alarm moves only along legal
    /// transitions, and each (device, rule) has at most one active alarm.
    #[test]
    fn alarm_lives_are_always_legal(ops in proptest::collection::vec(op(), 1..200)) {
        let mut engine = Engine::new(default_indicators(), "p");
        engine.set_flap_window_ms(90_000);
        let fleet: Vec<Device> = (0..3).map(|n| device(&format!("d{n}"), "gauge", "310101002001")).collect();
        let devices: Vec<_> = fleet.iter().map(|d| engine.upsert_device(d)).collect();
        let mut rules = vec![
            rule(above(30.0, Some(25.0))),
            { let mut r = rule(Condition::Outside { min: 5.0, max: 40.0, margin: Some(2.0) }); r.id = "range".into(); r.repeat = 2; r },
            { let mut r = rule(Condition::Rising { per_minute: 20.0, clear: Some(5.0) }); r.id = "rate".into(); r.duration_secs = 60; r },
            { let mut r = rule(Condition::Silent { minutes: 5 }); r.id = "silent".into(); r },
        ];
        rules[0].level = WarningLevel::Red;
        engine.set_rules(rules);
        let i = engine.indicator_idx("water_level").unwrap();
        let mut now = 0i64;
        let mut alarms: HashMap<String, Alarm> = HashMap::new();
        let mut out = Vec::new();
        for op in ops {
            out.clear();
            match op {
                Op::Read { device, dt_s, value } => {
                    now += dt_s * 1000;
                    engine.evaluate(Reading { device: devices[device], indicator: i, at_ms: now, value }, &mut out);
                }
                Op::Tick { dt_s } => {
                    now += dt_s * 1000;
                    engine.tick(now, &mut out);
                }
                Op::Ack { pick } => {
                    if !alarms.is_empty() {
                        let mut ids: Vec<_> = alarms.keys().cloned().collect();
                        ids.sort();
                        let alarm = alarms.get_mut(&ids[pick % ids.len()]).unwrap();
                        let before = alarm.state();
                        let result = alarm.acknowledge("op", Utc::now());
                        prop_assert_eq!(result.is_ok(), !alarm.acknowledged || before != alarm.state());
                        prop_assert!(legal(Some(before), alarm.state()));
                    }
                }
            }
            for event in &out {
                let at = chrono::DateTime::from_timestamp_millis(event.at_ms).unwrap();
                if event.kind == AlarmEventKind::Raised {
                    prop_assert!(!alarms.contains_key(&*event.alarm_id), "ids are never reused");
                    let raised = Alarm::raise(event, engine.rule(event.rule), &fleet[event.device.0 as usize], at);
                    alarms.insert(event.alarm_id.to_string(), raised);
                    prop_assert!(legal(None, alarms[&*event.alarm_id].state()));
                } else {
                    let alarm = alarms.get_mut(&*event.alarm_id).expect("transitions name a raised alarm");
                    let before = alarm.state();
                    prop_assert!(alarm.apply(event.kind, event.value, at).is_ok(), "{:?} on {:?}", event.kind, before);
                    prop_assert!(legal(Some(before), alarm.state()), "{:?} -> {:?}", before, alarm.state());
                }
            }
            let mut active: HashMap<(String, String), u32> = HashMap::new();
            for alarm in alarms.values().filter(|a| a.active) {
                *active.entry((alarm.device_id.clone(), alarm.rule_id.clone())).or_default() += 1;
            }
            prop_assert!(active.values().all(|&n| n == 1), "one active alarm per device and rule: {:?}", active);
            prop_assert_eq!(active.len(), engine.stats().active_alarms);
        }
    }
}

#[test]
fn the_shipped_rules_are_valid() {
    let indicators = default_indicators();
    for rule in cityops_domain::telemetry::default_rules() {
        rule.validate(|k| indicators.iter().any(|i| i.key == k))
            .unwrap_or_else(|e| panic!("{}: {e}", rule.id));
    }
}

/// The rule tester replays readings in any order as the engine would have met them, and the
/// clock runs on to the end of the window for a silence rule.
#[test]
fn a_replayed_draft_raises_what_the_engine_would_have() {
    use cityops_domain::telemetry::replay;
    let t0 = monday() + 10 * 3600 * 1000;
    let at = |s: i64| t0 + s * 1000;
    let gauge = device("d1", "gauge", "310101002001");
    let mut held = rule(above(30.0, Some(25.0)));
    held.duration_secs = 600;
    // Given newest first, as `GET /devices/{id}/readings` pages them.
    let readings = [
        (at(900), 40.0),
        (at(800), 20.0),
        (at(700), 36.0),
        (at(300), 35.0),
        (at(60), 31.0),
        (at(0), 10.0),
    ];
    let result = replay(default_indicators(), &gauge, &held, &readings, at(1000));
    assert!(result.watches_device);
    assert_eq!(result.readings, 6);
    let events: Vec<_> = result
        .events
        .iter()
        .map(|e| ((e.at_ms - t0) / 1000, e.kind, e.alarm, e.value))
        .collect();
    // Above 30 since 60 s: held 10 minutes at 700 s; cleared at 20 (below 25); back above at
    // 900 s but not yet for 10 minutes.
    assert_eq!(events, vec![(700, R, 1, 36.0), (800, C, 1, 20.0)]);
    assert_eq!((result.alarms, result.active_at_end), (1, false));
    // The same readings through the engine itself.
    let steps: Vec<Step> = readings
        .iter()
        .rev()
        .map(|&(ms, v)| Read((ms - t0) / 1000, v))
        .collect();
    assert_eq!(run(held.clone(), t0, &steps), vec![(700, R), (800, C)]);

    let mut quiet = rule(Condition::Silent { minutes: 30 });
    quiet.enabled = false; // a draft not yet switched on is replayed as if it were
    let result = replay(
        default_indicators(),
        &gauge,
        &quiet,
        &[(at(0), 1.0), (at(60), 1.0)],
        at(3600),
    );
    let events: Vec<_> = result
        .events
        .iter()
        .map(|e| ((e.at_ms - t0) / 1000, e.kind))
        .collect();
    assert_eq!(events, vec![(3600, R)]);
    assert!(result.active_at_end);

    let mut elsewhere = rule(above(30.0, None));
    elsewhere.scope = RuleScope::Area {
        area: AreaCode::parse("310104").unwrap(),
    };
    let result = replay(
        default_indicators(),
        &gauge,
        &elsewhere,
        &readings,
        at(1000),
    );
    assert!(!result.watches_device);
    assert!(result.events.is_empty());
}
