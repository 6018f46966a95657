//! The rule tester: what a draft rule would have raised on a device's recent readings,
//! replayed in an engine of its own, so nothing live (alarms, cases, the pipeline's state)
//! is touched.

use super::{AlarmEventKind, Device, Engine, Indicator, Reading, TelemetryRule, WarningLevel};

/// One change a replayed rule made.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayEvent {
    pub kind: AlarmEventKind,
    /// Which alarm of the replay (1, 2, ...): a reopen or clear names the alarm it continues.
    pub alarm: u32,
    pub level: WarningLevel,
    /// The reading that decided it (a silence alarm: the last value heard).
    pub value: f64,
    pub at_ms: i64,
}

/// What the rule would have done.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Replay {
    /// Whether the rule's scope takes in the device at all.
    pub watches_device: bool,
    /// Readings replayed (of the rule's indicator).
    pub readings: usize,
    /// Distinct alarms raised.
    pub alarms: u32,
    /// Each raise, reopen and clear in order; repeats are counted in `repeats` instead.
    pub events: Vec<ReplayEvent>,
    pub repeats: usize,
    /// An alarm is still active after the last reading.
    pub active_at_end: bool,
}

/// Replays `readings` (`(at_ms, value)` of the rule's indicator, in any order) of `device`
/// through `rule`, oldest first, and lets the clock run to `until_ms` (a silence rule raises
/// on quiet time, not on a reading). A disabled draft is replayed as if enabled: the tester
/// asks what it would do once switched on.
pub fn replay(
    indicators: Vec<Indicator>,
    device: &Device,
    rule: &TelemetryRule,
    readings: &[(i64, f64)],
    until_ms: i64,
) -> Replay {
    let mut engine = Engine::new(indicators, "replay");
    let idx = engine.upsert_device(device);
    let mut rule = rule.clone();
    rule.enabled = true;
    engine.set_rules(vec![rule.clone()]);
    let mut replay = Replay {
        watches_device: rule.scope.takes(&device.kind, &device.id, &device.area),
        ..Replay::default()
    };
    let Some(indicator) = engine.indicator_idx(&rule.indicator) else {
        return replay;
    };
    let mut ordered = readings.to_vec();
    ordered.sort_by_key(|(at, _)| *at);
    let mut ids: Vec<std::sync::Arc<str>> = Vec::new();
    let mut out = Vec::new();
    let mut record = |out: &mut Vec<super::AlarmEvent>, replay: &mut Replay| {
        for event in out.drain(..) {
            if event.kind == AlarmEventKind::Repeated {
                replay.repeats += 1;
                continue;
            }
            let alarm = match ids.iter().position(|id| *id == event.alarm_id) {
                Some(n) => n as u32 + 1,
                None => {
                    ids.push(event.alarm_id.clone());
                    ids.len() as u32
                }
            };
            replay.events.push(ReplayEvent {
                kind: event.kind,
                alarm,
                level: event.level,
                value: event.value,
                at_ms: event.at_ms,
            });
        }
    };
    for (at_ms, value) in ordered {
        engine.tick(at_ms, &mut out);
        record(&mut out, &mut replay);
        engine.evaluate(
            Reading {
                device: idx,
                indicator,
                at_ms,
                value,
            },
            &mut out,
        );
        replay.readings += 1;
        record(&mut out, &mut replay);
    }
    engine.tick(until_ms, &mut out);
    record(&mut out, &mut replay);
    replay.alarms = ids.len() as u32;
    replay.active_at_end = engine.stats().active_alarms > 0;
    replay
}
