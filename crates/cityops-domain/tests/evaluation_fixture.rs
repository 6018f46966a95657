//! The evaluation against a hand-computed fixture: a month (November 2026) of seven cases
//! with known stage times on the shipped 2026 calendar (working hours 08:30-12:00 and
//! 13:30-17:30; 2 November is a Monday), every indicator of every level worked out by hand
//! below, and the ledger that the events add as they happen equal to the one recomputed from
//! the timelines.
//!
//! The cast: inspector `i1`, operator `o1`, shift lead `s1`, dispatcher `d1`, handlers `h1`
//! (Huangpu's water company 310101-ZLS) and `h2` (Xuhui's power company 310104-GD), and the
//! assisting units' (协办) handlers `h3` (Huangpu's landscaping office 310101-LH) and `h4`
//! (Xuhui's water affairs 310104-SW). The class
//! 20101 gives dispatching one working hour, handling one working day, checking two working
//! hours; the city's intake terms are the defaults (accepting and filing one working hour,
//! verifying two, closing one working day).
//!
//! | case | where | story |
//! |------|-------|-------|
//! | 1 | community A 310101002001 | reported Mon 2 Nov 09:00, everything within minutes (LH assisting, on time), closed 10:40 |
//! | 2 | A | reported Tue 3 Nov; LH assists; both went red Thu 5 Nov 09:00 (the day's term ended Wed 17:30); LH fed back Thu 10:00, the lead Fri 6 Nov (both late); check sent Fri 10:10, checked late Mon 9 Nov 09:00; closed 09:10 |
//! | 3 | community B 310101002002 | reported Wed 4 Nov; handled on time, check failed (rework), handled again on time, closed |
//! | 4 | community C 310104001001 | a hotline call Thu 5 Nov, verified, filed; dispatched to 310104-GD, returned, dispatched again, signed, SW assisting, neither ever handled: both red on Mon 9 Nov |
//! | 5 | A | reported Mon 9 Nov, filed, cancelled |
//! | 6 | B | reported Tue 10 Nov, rejected |
//! | 7 | A | reported and accepted Fri 30 Oct; filed late Mon 2 Nov 09:00; handled, checked, closed that morning |

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::appeal::apply_changes;
use cityops_domain::calendar::WorkingCalendar;
use cityops_domain::case::{RejectReason, Stage};
use cityops_domain::evaluation::{
    entries, entries_of_timeline, figures, ledger_changes, rate, Counter, EvaluationConfig,
    Indicator, LedgerEntry, Level, Subject,
};
use cityops_domain::watch::WatchFinding;
use cityops_domain::workflow::Clock;
use cityops_domain::*;
use common::{at, shipped_2026 as calendar};
use std::collections::BTreeMap;

fn who(user: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: user.into(),
        username: user.into(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310000").unwrap(),
    }
}

const ZLS: &str = "310101-ZLS";
const GD: &str = "310104-GD";
/// The assisting units (协办): Huangpu's landscaping office and Xuhui's water affairs.
const LH: &str = "310101-LH";
const SW: &str = "310104-SW";

fn class() -> FiledClass {
    let hours = |amount| Term {
        amount,
        unit: TermUnit::WorkingHours,
    };
    FiledClass {
        code: CategoryCode::parse("20101").unwrap(),
        zh: "私搭乱建".into(),
        urgency: Urgency::Normal,
        terms: StageTerms {
            dispatch: hours(1),
            handling: Term {
                amount: 1,
                unit: TermUnit::WorkingDays,
            },
            check: hours(2),
            callback: StageTerms::DEFAULT_CALLBACK,
        },
    }
}

/// A case as it goes: the ledger is kept as each event happens, as the store keeps it.
struct Story<'a> {
    case: Case,
    timeline: Vec<TimelineEvent>,
    ledger: &'a mut Vec<LedgerEntry>,
    calendar: &'a WorkingCalendar,
}

impl Story<'_> {
    fn step(&mut self, actor: &Actor, command: CaseCommand, when: DateTime<Utc>) -> &mut Self {
        let (next, event) =
            decide_on(&self.case, command, actor, Clock::new(when, self.calendar)).unwrap();
        self.ledger.extend(entries(&event, &next));
        // What the event takes back of the case's earlier entries, as the store does.
        let (mut own, others): (Vec<_>, Vec<_>) = std::mem::take(self.ledger)
            .into_iter()
            .partition(|e| e.case_id == next.id);
        apply_changes(&mut own, &ledger_changes(&event, &next));
        *self.ledger = others;
        self.ledger.extend(own);
        self.case = next;
        self.timeline.push(event);
        self
    }
}

#[allow(clippy::too_many_arguments)]
fn report_case<'a>(
    id: &str,
    source: Source,
    area: &str,
    unit_grid: &str,
    grid_inspector: Option<&Actor>,
    reporter: &Actor,
    when: DateTime<Utc>,
    ledger: &'a mut Vec<LedgerEntry>,
    calendar: &'a WorkingCalendar,
) -> Story<'a> {
    let (case, event) = report_on(
        id.into(),
        NewReport {
            fields: Default::default(),
            source,
            description: format!("评价样例 {id}"),
            address: None,
            location: Location::new(121.47, 31.23).unwrap(),
            location_accuracy_m: None,
            area: AreaCode::parse(area).unwrap(),
            category_hint: None,
            component_id: None,
            reporter: None,
            unit_grid: Some(unit_grid.into()),
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: grid_inspector.map(|inspector| {
                Box::new(GridInspector {
                    user_id: inspector.user_id.clone(),
                    username: inspector.username.clone(),
                    grid: format!("R{}", &unit_grid[..12]),
                })
            }),
            call: None,
        },
        reporter,
        Clock::new(when, calendar),
    )
    .unwrap();
    ledger.extend(entries(&event, &case));
    Story {
        case,
        timeline: vec![event],
        ledger,
        calendar,
    }
}

const A: &str = "310101002001";
/// The unit grids of the cases: two in community A, two in B, one in C.
const G_A1: &str = "31010100200101";
const G_A2: &str = "31010100200102";
const G_B1: &str = "31010100200201";
const G_B2: &str = "31010100200202";
const G_C1: &str = "31010400100101";
const B: &str = "310101002002";
const C: &str = "310104001001";

/// The month's seven cases; their ledger as kept, and their timelines.
fn november() -> (Vec<LedgerEntry>, Vec<(CaseNumber, Vec<TimelineEvent>)>) {
    let calendar = calendar();
    let i1 = who("i1", Role::Inspector, None);
    let o1 = who("o1", Role::Operator, None);
    let s1 = who("s1", Role::ShiftLead, None);
    let d1 = who("d1", Role::Dispatcher, None);
    let h1 = who("h1", Role::UnitHandler, Some(ZLS));
    let h2 = who("h2", Role::UnitHandler, Some(GD));
    let h3 = who("h3", Role::UnitHandler, Some(LH));
    let h4 = who("h4", Role::UnitHandler, Some(SW));
    let system = who("system", Role::System, None);
    let accept = || CaseCommand::Accept { opinion: None };
    let file = || CaseCommand::File {
        fields: Default::default(),
        class: class(),
        opinion: None,
    };
    let dispatch = |unit: &str, district: &str| CaseCommand::Dispatch {
        unit: unit.into(),
        unit_jurisdiction: AreaCode::parse(district).unwrap(),
        opinion: None,
    };
    let feedback = || CaseCommand::Feedback {
        opinion: "已处置".into(),
        attachments: vec![],
    };
    let assist = |unit: &str, district: &str| CaseCommand::Assist {
        unit: unit.into(),
        unit_jurisdiction: AreaCode::parse(district).unwrap(),
        opinion: None,
    };
    let sign_assist = |unit: &str| CaseCommand::SignAssist {
        unit: unit.into(),
        deadline: None,
    };
    let assist_feedback = |unit: &str| CaseCommand::AssistFeedback {
        unit: unit.into(),
        opinion: "已配合处置".into(),
    };
    let red = |finding| CaseCommand::Watch { finding };
    let send_check = || CaseCommand::SendCheck { opinion: None };
    let check = |passed| CaseCommand::Check {
        passed,
        opinion: None,
    };
    let close = || CaseCommand::Close { opinion: None };
    let mut ledger = Vec::new();
    let mut timelines = Vec::new();
    let mut keep =
        |story: &Story| timelines.push((story.case.number.clone(), story.timeline.clone()));

    // 1: on time throughout.
    let mut s = report_case(
        "case-1",
        Source::Inspector,
        A,
        G_A1,
        Some(&i1),
        &i1,
        at(11, 2, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(11, 2, 9, 10))
        .step(&s1, file(), at(11, 2, 9, 20))
        .step(&d1, dispatch(ZLS, "310101"), at(11, 2, 9, 30))
        .step(&h1, CaseCommand::Sign, at(11, 2, 9, 40))
        .step(&d1, assist(LH, "310101"), at(11, 2, 9, 41))
        .step(&h3, sign_assist(LH), at(11, 2, 9, 42))
        .step(&h3, assist_feedback(LH), at(11, 2, 9, 50))
        .step(&h1, feedback(), at(11, 2, 10, 0))
        .step(&o1, send_check(), at(11, 2, 10, 10))
        .step(&i1, check(true), at(11, 2, 10, 30))
        .step(&s1, close(), at(11, 2, 10, 40));
    assert_eq!(s.case.state, CaseState::Closed);
    assert_eq!(s.case.late_count, 0);
    keep(&s);

    // 2: handled late, checked late.
    let mut s = report_case(
        "case-2",
        Source::Inspector,
        A,
        G_A1,
        Some(&i1),
        &i1,
        at(11, 3, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(11, 3, 9, 5))
        .step(&s1, file(), at(11, 3, 9, 10))
        .step(&d1, dispatch(ZLS, "310101"), at(11, 3, 9, 15))
        .step(&h1, CaseCommand::Sign, at(11, 3, 9, 20))
        .step(&d1, assist(LH, "310101"), at(11, 3, 9, 25))
        .step(&h3, sign_assist(LH), at(11, 3, 9, 30));
    assert_eq!(s.case.deadline, Some(at(11, 4, 17, 30)), "one working day");
    assert_eq!(s.case.assists[0].deadline, Some(at(11, 4, 17, 30)));
    // The watch finds both red on Thursday morning; both are handled late after all, and
    // neither stays overdue-unhandled.
    s.step(
        &system,
        red(WatchFinding::Overdue {
            stage: Stage::Handling,
            next: None,
        }),
        at(11, 5, 9, 0),
    )
    .step(
        &system,
        red(WatchFinding::AssistOverdue { unit: LH.into() }),
        at(11, 5, 9, 0),
    )
    .step(&h3, assist_feedback(LH), at(11, 5, 10, 0))
    .step(&h1, feedback(), at(11, 6, 10, 0))
    .step(&o1, send_check(), at(11, 6, 10, 10))
    .step(&i1, check(true), at(11, 9, 9, 0))
    .step(&s1, close(), at(11, 9, 9, 10));
    assert_eq!(s.case.late_count, 2);
    keep(&s);

    // 3: a failed check sends it back for rework.
    let mut s = report_case(
        "case-3",
        Source::Inspector,
        B,
        G_B1,
        None,
        &i1,
        at(11, 4, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(11, 4, 9, 5))
        .step(&s1, file(), at(11, 4, 9, 10))
        .step(&d1, dispatch(ZLS, "310101"), at(11, 4, 9, 15))
        .step(&h1, CaseCommand::Sign, at(11, 4, 9, 20))
        .step(&h1, feedback(), at(11, 4, 11, 0))
        .step(&o1, send_check(), at(11, 4, 11, 10))
        .step(&i1, check(false), at(11, 4, 11, 30))
        .step(&h1, CaseCommand::Sign, at(11, 4, 11, 40))
        .step(&h1, feedback(), at(11, 4, 13, 40))
        .step(&o1, send_check(), at(11, 4, 13, 50))
        .step(&i1, check(true), at(11, 4, 14, 0))
        .step(&s1, close(), at(11, 4, 14, 10));
    assert_eq!((s.case.state, s.case.late_count), (CaseState::Closed, 0));
    keep(&s);

    // 4: a hotline call, verified; misdispatched once; never handled.
    let mut s = report_case(
        "case-4",
        Source::Hotline,
        C,
        G_C1,
        Some(&i1),
        &o1,
        at(11, 5, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(11, 5, 9, 5))
        .step(
            &o1,
            CaseCommand::RequestVerification { opinion: None },
            at(11, 5, 9, 6),
        )
        .step(
            &i1,
            CaseCommand::Verify {
                exists: true,
                opinion: None,
            },
            at(11, 5, 9, 30),
        )
        .step(&s1, file(), at(11, 5, 9, 40))
        .step(&d1, dispatch(GD, "310104"), at(11, 5, 9, 50))
        .step(
            &h2,
            CaseCommand::Return {
                reason: "不属本单位".into(),
            },
            at(11, 5, 10, 0),
        )
        .step(&d1, dispatch(GD, "310104"), at(11, 5, 10, 10))
        .step(&h2, CaseCommand::Sign, at(11, 5, 10, 20))
        .step(&d1, assist(SW, "310104"), at(11, 5, 10, 25))
        .step(&h4, sign_assist(SW), at(11, 5, 10, 30));
    assert_eq!(s.case.deadline, Some(at(11, 6, 17, 30)));
    s.step(
        &system,
        red(WatchFinding::Overdue {
            stage: Stage::Handling,
            next: None,
        }),
        at(11, 9, 9, 0),
    )
    .step(
        &system,
        red(WatchFinding::AssistOverdue { unit: SW.into() }),
        at(11, 9, 9, 0),
    );
    keep(&s);

    // 5: filed, then cancelled.
    let mut s = report_case(
        "case-5",
        Source::Inspector,
        A,
        G_A2,
        Some(&i1),
        &i1,
        at(11, 9, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(11, 9, 9, 5))
        .step(&s1, file(), at(11, 9, 9, 10))
        .step(
            &s1,
            CaseCommand::Cancel {
                reason: "重复立案".into(),
            },
            at(11, 9, 10, 0),
        );
    keep(&s);

    // 6: rejected.
    let mut s = report_case(
        "case-6",
        Source::Inspector,
        B,
        G_B2,
        None,
        &i1,
        at(11, 10, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(
        &o1,
        CaseCommand::Reject {
            reason: RejectReason::Invalid,
            duplicate_of: None,
            opinion: None,
        },
        at(11, 10, 9, 5),
    );
    keep(&s);

    // 7: from October, filed late in November.
    let mut s = report_case(
        "case-7",
        Source::Inspector,
        A,
        G_A1,
        Some(&i1),
        &i1,
        at(10, 30, 9, 0),
        &mut ledger,
        &calendar,
    );
    s.step(&o1, accept(), at(10, 30, 9, 5))
        .step(&s1, file(), at(11, 2, 9, 0))
        .step(&d1, dispatch(ZLS, "310101"), at(11, 2, 9, 10))
        .step(&h1, CaseCommand::Sign, at(11, 2, 9, 20))
        .step(&h1, feedback(), at(11, 2, 10, 0))
        .step(&o1, send_check(), at(11, 2, 10, 10))
        .step(&i1, check(true), at(11, 2, 10, 20))
        .step(&s1, close(), at(11, 2, 10, 30));
    assert_eq!(s.case.late_count, 1, "filed late");
    keep(&s);
    (ledger, timelines)
}

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// Every rating of a level over November, by subject.
fn november_at(level: Level) -> BTreeMap<Subject, cityops_domain::evaluation::Rating> {
    let (ledger, _) = november();
    let config = EvaluationConfig::default();
    figures(&ledger, level, nov(1), nov(30))
        .into_iter()
        .map(|(subject, f)| (subject.clone(), rate(subject, f, 30, &config)))
        .collect()
}

fn area(code: &str) -> Subject {
    Subject::Area { code: code.into() }
}

fn close_to(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 0.005
}

/// The indicators a subject is held to: the ones of its level in the domain reference's
/// evaluation formulas (section 4), its composite's and the rates its table shows. Each one
/// that has a value must be worked out by hand below, and one listed must have a value.
fn held_to(subject: &Subject) -> &'static [Indicator] {
    use Indicator as I;
    match subject {
        Subject::Area { .. } | Subject::Grid { .. } => &[
            I::FilingRate,
            I::PublicReportShare,
            I::PublicReportScore,
            I::FiledScore,
            I::ClosingRate,
            I::OnTimeClosingRate,
            I::HandlingRate,
            I::OnTimeHandlingRate,
            I::ReworkRate,
        ],
        Subject::Unit { .. } => &[
            I::DispatchedScore,
            I::ClosingRate,
            I::OnTimeClosingRate,
            I::HandlingRate,
            I::OnTimeHandlingRate,
            I::ReworkRate,
        ],
        Subject::Position { role, .. } => match role {
            Role::Inspector => &[
                I::ValidReportRate,
                I::MissedReportRate,
                I::OnTimeVerifyRate,
                I::OnTimeCheckRate,
            ],
            Role::Operator => &[
                I::AcceptedScore,
                I::OnTimeVerifySendRate,
                I::OnTimeCheckSendRate,
            ],
            Role::ShiftLead => &[
                I::OnTimeFilingRate,
                I::AccurateFilingRate,
                I::OnTimeCloseRate,
            ],
            Role::Dispatcher => &[
                I::DispatchedScore,
                I::OnTimeDispatchRate,
                I::AccurateDispatchRate,
            ],
            _ => &[I::HandlingRate, I::OnTimeHandlingRate, I::ReworkRate],
        },
    }
}

/// Compares a subject's rating with the hand-worked one: every counter that is not zero,
/// every indicator it is held to that has a value, its composite and grade.
#[track_caller]
fn assert_rating(
    ratings: &BTreeMap<Subject, cityops_domain::evaluation::Rating>,
    subject: &Subject,
    counts: &[(Counter, u64)],
    indicators: &[(Indicator, f64)],
    composite: Option<f64>,
    grade: Option<&str>,
) {
    let r = ratings
        .get(subject)
        .unwrap_or_else(|| panic!("no rating for {subject:?}"));
    for (counter, n) in counts {
        assert_eq!(r.figures.get(*counter), *n, "{subject:?} {counter:?}");
    }
    for (counter, n) in &r.figures.0 {
        assert!(
            *n == 0 || counts.iter().any(|(c, _)| c == counter),
            "{subject:?}: {counter:?} is {n}, not worked out by hand"
        );
    }
    for (which, value) in indicators {
        let got = r.indicators.get(which).copied();
        assert!(
            got.is_some_and(|g| close_to(g, *value)),
            "{subject:?} {which:?}: {got:?}, not {value}"
        );
    }
    for which in held_to(subject) {
        assert_eq!(
            r.indicators.contains_key(which),
            indicators.iter().any(|(i, _)| i == which),
            "{subject:?} {which:?}: {:?} (worked out by hand exactly when it has a value)",
            r.indicators.get(which)
        );
    }
    match (r.composite, composite) {
        (Some(got), Some(want)) => assert!(close_to(got, want), "{subject:?}: {got} not {want}"),
        (got, want) => assert_eq!(got, want, "{subject:?}"),
    }
    assert_eq!(r.grade.as_deref(), grade, "{subject:?}");
}

#[test]
fn the_ledger_kept_as_events_happen_is_the_ledger_of_the_timelines() {
    let (mut kept, timelines) = november();
    let mut recomputed: Vec<LedgerEntry> = timelines
        .iter()
        .flat_map(|(number, events)| entries_of_timeline(number.clone(), events).unwrap())
        .collect();
    kept.sort();
    recomputed.sort();
    assert_eq!(kept, recomputed);
}

/// An area's (or grid's) hand-worked figures in the order of its indicators: reported,
/// filed, citizens' reports verified, handled (on time), overdue unhandled, reworked, closed
/// (on time). Zero counts are left out, as the ratings leave them.
#[allow(clippy::too_many_arguments)]
fn area_counts(
    reported: u64,
    filed: u64,
    public_verified: u64,
    handled: u64,
    handled_on_time: u64,
    overdue_unhandled: u64,
    rework: u64,
    closed: u64,
    closed_on_time: u64,
) -> Vec<(Counter, u64)> {
    use Counter as C;
    [
        (C::Reported, reported),
        (C::Filed, filed),
        (C::PublicVerified, public_verified),
        (C::Handled, handled),
        (C::HandledOnTime, handled_on_time),
        (C::OverdueUnhandled, overdue_unhandled),
        (C::Rework, rework),
        (C::Closed, closed),
        (C::ClosedOnTime, closed_on_time),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

#[test]
fn areas_by_hand() {
    use Indicator as I;
    let districts = november_at(Level::District);
    // Huangpu (cases 1, 2, 3, 5, 6, 7): reported in November 1, 2, 3, 5, 6 (7 in October) = 5;
    // filed 1, 2, 3, 5, 7 = 5; no citizen's report; handled 1, 2, 3 twice, 7 = 5, on time all
    // but case 2's = 4; overdue unhandled 0 (case 2 went red on 5 November, and its late
    // handling on the 6th took that back); closed 1, 2, 3, 7 = 4, on time 1 and 3 = 2; one
    // rework (case 3). Assisting parts (cases 1 and 2) are no area's.
    // 立案率 = 5 / 5 = 1, 监督举报率 = 0 / 5 = 0 (its score is the lowest band's, 0.4),
    // 立案数 5 in 30 days scores 0.4, 应结案数 = 5 + 0: 结案率 = 4 / 5 = 0.8,
    // 按期结案率 = 2 / 5 = 0.4, 处置率 = 5 / 5 = 1, 按期处置率 = 4 / 5 = 0.8,
    // 返工率 = 1 / 5 = 0.2.
    // Composite = 100 × (0.10 × 0.4 + 0.20 × 0.4 + 0.30 × 0.8 + 0.40 × 0.4) = 52.0: D.
    let huangpu = (
        area_counts(5, 5, 0, 5, 4, 0, 1, 4, 2),
        [
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 0.8),
            (I::OnTimeClosingRate, 0.4),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 0.8),
            (I::ReworkRate, 0.2),
        ],
    );
    assert_rating(
        &districts,
        &area("310101"),
        &huangpu.0,
        &huangpu.1,
        Some(52.0),
        Some("D"),
    );
    // Xuhui (case 4): reported 1, filed 1, a citizen's report verified 1, handled 0, overdue
    // unhandled 1 (the power company's; the water affairs' overdue part is no area's),
    // closed 0. 立案率 = 1 / 1, 监督举报率 = 1 / 1 (score 1.0), 立案数 1 scores 0.4,
    // 应结案数 = 0 + 1: 结案率 = 按期结案率 = 处置率 = 按期处置率 = 0 / 1 = 0; 返工率 has
    // nothing handled to count on: no value.
    // 100 × (0.10 × 1.0 + 0.20 × 0.4 + 0.30 × 0 + 0.40 × 0) = 18.0: E.
    let xuhui = (
        area_counts(1, 1, 1, 0, 0, 1, 0, 0, 0),
        [
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 1.0),
            (I::PublicReportScore, 1.0),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 0.0),
            (I::OnTimeClosingRate, 0.0),
            (I::HandlingRate, 0.0),
            (I::OnTimeHandlingRate, 0.0),
        ],
    );
    assert_rating(
        &districts,
        &area("310104"),
        &xuhui.0,
        &xuhui.1,
        Some(18.0),
        Some("E"),
    );
    assert_eq!(districts.len(), 2);

    // Each district's cases all lie in one street here (南京东路街道, 徐家汇街道): the same
    // figures, worked out the same way.
    let streets = november_at(Level::Street);
    assert_rating(
        &streets,
        &area("310101002"),
        &huangpu.0,
        &huangpu.1,
        Some(52.0),
        Some("D"),
    );
    assert_rating(
        &streets,
        &area("310104001"),
        &xuhui.0,
        &xuhui.1,
        Some(18.0),
        Some("E"),
    );
    assert_eq!(streets.len(), 2);

    let communities = november_at(Level::Community);
    // A (cases 1, 2, 5, 7): reported 1, 2, 5 = 3 (7 in October), filed 1, 2, 5, 7 = 4,
    // handled 1, 2, 7 = 3, on time 1 and 7 = 2, closed 1, 2, 7 = 3, on time 1 (2 and 7 were
    // late) = 1. 立案率 = 4 / 3, capped at 1; 监督举报率 0 (score 0.4); 立案数 4 scores 0.4;
    // 结案率 = 3 / 3 = 1, 按期结案率 = 1 / 3, 处置率 = 3 / 3, 按期处置率 = 2 / 3, 返工率 = 0 / 3.
    // 100 × (0.04 + 0.08 + 0.30 × 1 + 0.40 / 3) = 55.33: D.
    assert_rating(
        &communities,
        &area(A),
        &area_counts(3, 4, 0, 3, 2, 0, 0, 3, 1),
        &[
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 1.0),
            (I::OnTimeClosingRate, 1.0 / 3.0),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 2.0 / 3.0),
            (I::ReworkRate, 0.0),
        ],
        Some(55.33),
        Some("D"),
    );
    // B (cases 3, 6): reported 2, filed 1, handled 2 (a rework), both on time, closed 1 on
    // time. 立案率 = 1 / 2; 监督举报率 0 / 1 (score 0.4); 立案数 1 scores 0.4; 结案率 = 1 / 2,
    // 按期结案率 = 1 / 2, 处置率 = 2 / 2, 按期处置率 = 2 / 2, 返工率 = 1 / 2.
    // 100 × (0.04 + 0.08 + 0.15 + 0.20) = 47.0: D.
    assert_rating(
        &communities,
        &area(B),
        &area_counts(2, 1, 0, 2, 2, 0, 1, 1, 1),
        &[
            (I::FilingRate, 0.5),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 0.5),
            (I::OnTimeClosingRate, 0.5),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 1.0),
            (I::ReworkRate, 0.5),
        ],
        Some(47.0),
        Some("D"),
    );
    // C (case 4) is Xuhui's only community.
    assert_rating(
        &communities,
        &area(C),
        &xuhui.0,
        &xuhui.1,
        Some(18.0),
        Some("E"),
    );
    assert_eq!(communities.len(), 3);
}

#[test]
fn grids_by_hand() {
    use Indicator as I;
    let grids = november_at(Level::Grid);
    let grid = |code: &str| Subject::Grid { code: code.into() };
    // A's first grid (cases 1, 2, 7): reported 1, 2 = 2 (7 in October); filed 3; handled 3,
    // on time 1 and 7 = 2; closed 3, on time 1 (2 and 7 were late). 立案率 = 3 / 2, capped
    // at 1; 监督举报率 0 (score 0.4); 立案数 3 scores 0.4; 结案率 = 3 / 3, 按期结案率 = 1 / 3,
    // 处置率 = 3 / 3, 按期处置率 = 2 / 3, 返工率 = 0 / 3.
    // 100 × (0.10 × 0.4 + 0.20 × 0.4 + 0.30 × 1 + 0.40 / 3) = 55.33: D.
    assert_rating(
        &grids,
        &grid(G_A1),
        &area_counts(2, 3, 0, 3, 2, 0, 0, 3, 1),
        &[
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 1.0),
            (I::OnTimeClosingRate, 1.0 / 3.0),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 2.0 / 3.0),
            (I::ReworkRate, 0.0),
        ],
        Some(55.33),
        Some("D"),
    );
    // A's second grid (case 5, filed then cancelled): 立案率 = 1 / 1, 监督举报率 0 / 1 (score
    // 0.4), 立案数 1 scores 0.4; nothing was due to handle or close, so no rate of those has a
    // value, and scores of counts alone rate no one.
    assert_rating(
        &grids,
        &grid(G_A2),
        &area_counts(1, 1, 0, 0, 0, 0, 0, 0, 0),
        &[
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
        ],
        None,
        None,
    );
    // B's first grid (case 3): reported 1, filed 1, handled twice on time after a failed
    // check, closed once on time. 立案率 1, 监督举报率 0 (0.4), 立案数 1 (0.4),
    // 结案率 = 1 / 2, 按期结案率 = 1 / 2, 处置率 = 2 / 2, 按期处置率 = 2 / 2, 返工率 = 1 / 2.
    // 100 × (0.04 + 0.08 + 0.30 × 0.5 + 0.40 × 0.5) = 47.0: D.
    assert_rating(
        &grids,
        &grid(G_B1),
        &area_counts(1, 1, 0, 2, 2, 0, 1, 1, 1),
        &[
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 0.0),
            (I::PublicReportScore, 0.4),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 0.5),
            (I::OnTimeClosingRate, 0.5),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 1.0),
            (I::ReworkRate, 0.5),
        ],
        Some(47.0),
        Some("D"),
    );
    // B's second grid (case 6, rejected): reported, never filed. 立案率 = 0 / 1; 立案数 0 is
    // below every band: 0; 监督举报率 has nothing filed to count on.
    assert_rating(
        &grids,
        &grid(G_B2),
        &area_counts(1, 0, 0, 0, 0, 0, 0, 0, 0),
        &[(I::FilingRate, 0.0), (I::FiledScore, 0.0)],
        None,
        None,
    );
    // C's grid (case 4) is Xuhui's only one: the district's figures and composite, 18.0: E.
    assert_rating(
        &grids,
        &grid(G_C1),
        &area_counts(1, 1, 1, 0, 0, 1, 0, 0, 0),
        &[
            (I::FilingRate, 1.0),
            (I::PublicReportShare, 1.0),
            (I::PublicReportScore, 1.0),
            (I::FiledScore, 0.4),
            (I::ClosingRate, 0.0),
            (I::OnTimeClosingRate, 0.0),
            (I::HandlingRate, 0.0),
            (I::OnTimeHandlingRate, 0.0),
        ],
        Some(18.0),
        Some("E"),
    );
    assert_eq!(grids.len(), 5);
    // A grid's counts are its community's, community by community.
    let communities = november_at(Level::Community);
    let mut a = grids[&grid(G_A1)].figures.clone();
    for (counter, n) in &grids[&grid(G_A2)].figures.0 {
        a.add(*counter, *n);
    }
    assert_eq!(a, communities[&area(A)].figures);
}

#[test]
fn units_by_hand() {
    use Counter as C;
    use Indicator as I;
    let units = november_at(Level::Unit);
    let unit = |code: &str| Subject::Unit { code: code.into() };
    // Huangpu's water company (leads 1, 2, 3, 7): dispatched 4; handled 5 (3 twice), on time
    // 4 (case 2 late); overdue unhandled 0 (case 2's red was taken back by its handling);
    // one rework; closed 4, with every stage on time 1 and 3 = 2.
    // 派遣数 4 scores 0.4; 应结案数 = 5 + 0: 结案率 = 4 / 5, 按期结案率 = 2 / 5,
    // 处置率 = 5 / 5, 按期处置率 = 4 / 5, 返工率 = 1 / 5.
    // 100 × (0.10 × 0.4 + 0.30 × 0.8 + 0.30 × 0.8 + 0.30 × (1 − 0.2)) = 76.0: B.
    assert_rating(
        &units,
        &unit(ZLS),
        &[
            (C::Dispatched, 4),
            (C::Handled, 5),
            (C::HandledOnTime, 4),
            (C::Rework, 1),
            (C::Closed, 4),
            (C::ClosedOnTime, 2),
        ],
        &[
            (I::DispatchedScore, 0.4),
            (I::ClosingRate, 0.8),
            (I::OnTimeClosingRate, 0.4),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 0.8),
            (I::ReworkRate, 0.2),
        ],
        Some(76.0),
        Some("B"),
    );
    // Xuhui's power company (case 4): dispatched twice (once returned), nothing handled, one
    // overdue. 派遣数 2 scores 0.4; 应结案数 = 0 + 1: 结案率 = 按期结案率 = 处置率 = 按期处置率
    // = 0; 返工率 has nothing handled to count on: left out, the others weigh
    // 0.10 + 0.30 + 0.30 = 0.70. 100 × (0.10 × 0.4) / 0.70 = 5.71: E.
    assert_rating(
        &units,
        &unit(GD),
        &[(C::Dispatched, 2), (C::OverdueUnhandled, 1)],
        &[
            (I::DispatchedScore, 0.4),
            (I::ClosingRate, 0.0),
            (I::OnTimeClosingRate, 0.0),
            (I::HandlingRate, 0.0),
            (I::OnTimeHandlingRate, 0.0),
        ],
        Some(5.71),
        Some("E"),
    );
    assert_eq!(units[&unit(GD)].unmeasured, [I::ReworkRate]);
    // Huangpu's landscaping office assisted on 1 (fed back on time) and 2 (went red on 5
    // November, fed back late that morning, which took the red back); both cases closed.
    // Its parts count as its work: 派遣数 0 + 2 parts = 2 scores 0.4; handled 2 parts, on time
    // 1; 应结案数 = 2 + 0; closed 2 (parts), on time 0 (按期结案 counts the lead's closings).
    // 结案率 = 2 / 2, 按期结案率 = 0 / 2, 处置率 = 2 / 2, 按期处置率 = 1 / 2, 返工率 = 0 / 2.
    // 100 × (0.10 × 0.4 + 0.30 × 1 + 0.30 × 0.5 + 0.30 × 1) = 79.0: B.
    assert_rating(
        &units,
        &unit(LH),
        &[
            (C::PartAssigned, 2),
            (C::PartHandled, 2),
            (C::PartHandledOnTime, 1),
            (C::PartClosed, 2),
        ],
        &[
            (I::DispatchedScore, 0.4),
            (I::ClosingRate, 1.0),
            (I::OnTimeClosingRate, 0.0),
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 0.5),
            (I::ReworkRate, 0.0),
        ],
        Some(79.0),
        Some("B"),
    );
    // Xuhui's water affairs assisted on 4 and never fed back: one part overdue unhandled.
    // 派遣数 1 part scores 0.4; 应结案数 = 0 + 1: every rate 0, 返工率 none: as the power
    // company, 5.71: E.
    assert_rating(
        &units,
        &unit(SW),
        &[(C::PartAssigned, 1), (C::PartOverdueUnhandled, 1)],
        &[
            (I::DispatchedScore, 0.4),
            (I::ClosingRate, 0.0),
            (I::OnTimeClosingRate, 0.0),
            (I::HandlingRate, 0.0),
            (I::OnTimeHandlingRate, 0.0),
        ],
        Some(5.71),
        Some("E"),
    );
    assert_eq!(units.len(), 4);
}

#[test]
fn positions_by_hand() {
    use Counter as C;
    use Indicator as I;
    let positions = november_at(Level::Position);
    let person = |role, user: &str| Subject::Position {
        role,
        user_id: user.into(),
    };
    // i1: reported 1, 2, 3, 5, 6 = 5 in November; valid (filed in November) 1, 2, 3, 5, 7 =
    // 5; verified case 4 on time; checked 1, 2 (late), 3 twice, 7 = 5, on time 4. The grids
    // of cases 1, 2, 4, 5 and 7 are i1's: filed there in November 5, of which case 4, the
    // hotline call, was reported by someone else: missed 1.
    // 有效上报率 = 5 / 5, 漏报率 = 1 / 5, 按时核实率 = 1 / 1, 按时核查率 = 4 / 5:
    // 100 × (0.40 × 1 + 0.20 × (1 − 0.2) + 0.20 × 1 + 0.20 × 0.8) = 92.0: A.
    assert_rating(
        &positions,
        &person(Role::Inspector, "i1"),
        &[
            (C::Reported, 5),
            (C::ValidReport, 5),
            (C::Verified, 1),
            (C::VerifiedOnTime, 1),
            (C::Checked, 5),
            (C::CheckedOnTime, 4),
            (C::GridFiled, 5),
            (C::Missed, 1),
        ],
        &[
            (I::ValidReportRate, 1.0),
            (I::MissedReportRate, 0.2),
            (I::OnTimeVerifyRate, 1.0),
            (I::OnTimeCheckRate, 0.8),
        ],
        Some(92.0),
        Some("A"),
    );
    // o1: accepted 1, 2, 3, 4, 5 = 5 (7 in October; 6 rejected), scoring 0.4; sent one
    // verification (case 4), on time 1 minute after accepting; sent five checks (1, 2, 3
    // twice, 7), each within ten minutes of the feedback: 核实按时派发率 = 1 / 1,
    // 核查按时派发率 = 5 / 5. Case 4's report was the hotline's, not the operator's own.
    // 100 × (0.25 × 0.4 + 0.40 × 1 + 0.35 × 1) = 85.0: B.
    assert_rating(
        &positions,
        &person(Role::Operator, "o1"),
        &[
            (C::Accepted, 5),
            (C::VerifySent, 1),
            (C::VerifySentOnTime, 1),
            (C::CheckSent, 5),
            (C::CheckSentOnTime, 5),
        ],
        &[
            (I::AcceptedScore, 0.4),
            (I::OnTimeVerifySendRate, 1.0),
            (I::OnTimeCheckSendRate, 1.0),
        ],
        Some(85.0),
        Some("B"),
    );
    // s1: filed 1, 2, 3, 4, 5, 7 = 6, on time 5 (case 7 late); one filing cancelled (case 5);
    // closed 1, 2, 3, 7 = 4, on time 2 (2 and 7 had late stages).
    // 按时立案率 = 5 / 6, 准确立案率 = (6 − 1) / 6, 按时结案率 = 2 / 4.
    // 100 × (0.25 × 5/6 + 0.40 × 5/6 + 0.35 × 0.5) = 71.67: C.
    assert_rating(
        &positions,
        &person(Role::ShiftLead, "s1"),
        &[
            (C::Filed, 6),
            (C::FiledOnTime, 5),
            (C::FiledCancelled, 1),
            (C::Closed, 4),
            (C::ClosedOnTime, 2),
        ],
        &[
            (I::OnTimeFilingRate, 5.0 / 6.0),
            (I::AccurateFilingRate, 5.0 / 6.0),
            (I::OnTimeCloseRate, 0.5),
        ],
        Some(71.67),
        Some("C"),
    );
    // d1: dispatched 1, 2, 3, 7 and 4 twice = 6, each within the hour: on time 6; one
    // returned (case 4's first, 误派): 按时派遣率 = 6 / 6, 准确派遣率 = (6 − 1) / 6; 派遣数 6
    // scores 0.4. The assisting parts d1 gave count for the assisting units, not as
    // dispatches. 100 × (0.20 × 0.4 + 0.40 × 1 + 0.40 × 5/6) = 81.33: B.
    assert_rating(
        &positions,
        &person(Role::Dispatcher, "d1"),
        &[
            (C::Dispatched, 6),
            (C::DispatchedOnTime, 6),
            (C::Misdispatched, 1),
        ],
        &[
            (I::DispatchedScore, 0.4),
            (I::OnTimeDispatchRate, 1.0),
            (I::AccurateDispatchRate, 5.0 / 6.0),
        ],
        Some(81.33),
        Some("B"),
    );
    // h1: handled 5, on time 4, one failed its check; nothing of theirs overdue unhandled
    // (the overdue counts are the unit's). 处置率 = 5 / 5, 按期处置率 = 4 / 5, 返工率 = 1 / 5.
    // 100 × (0.50 × 0.8 + 0.50 × (1 − 0.2)) = 80.0: B.
    assert_rating(
        &positions,
        &person(Role::UnitHandler, "h1"),
        &[(C::Handled, 5), (C::HandledOnTime, 4), (C::Rework, 1)],
        &[
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 0.8),
            (I::ReworkRate, 0.2),
        ],
        Some(80.0),
        Some("B"),
    );
    // h3 fed back LH's two parts, one on time: 处置率 = 2 / 2, 按期处置率 = 1 / 2,
    // 返工率 = 0 / 2. 100 × (0.50 × 0.5 + 0.50 × 1) = 75.0: B.
    assert_rating(
        &positions,
        &person(Role::UnitHandler, "h3"),
        &[(C::PartHandled, 2), (C::PartHandledOnTime, 1)],
        &[
            (I::HandlingRate, 1.0),
            (I::OnTimeHandlingRate, 0.5),
            (I::ReworkRate, 0.0),
        ],
        Some(75.0),
        Some("B"),
    );
    // h2 only returned a case and h4 only signed for a part: nothing to hold them to, so
    // neither is rated at all.
    assert!(!positions.contains_key(&person(Role::UnitHandler, "h2")));
    assert!(!positions.contains_key(&person(Role::UnitHandler, "h4")));
    assert_eq!(positions.len(), 6);
}

#[test]
fn a_period_is_checked() {
    let config = EvaluationConfig::default();
    assert_eq!(
        cityops_domain::evaluation::period(nov(1), nov(30), &config),
        Ok(30)
    );
    assert!(cityops_domain::evaluation::period(nov(30), nov(1), &config).is_err());
    let long = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    assert!(cityops_domain::evaluation::period(nov(1), long, &config).is_err());
    // Only November's days count: October's report and acceptance of case 7 are not in it.
    let (ledger, _) = november();
    let october = figures(
        &ledger,
        Level::District,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
    );
    assert_eq!(october[&area("310101")].get(Counter::Reported), 1);
    assert_eq!(october[&area("310101")].get(Counter::Filed), 0);
}
