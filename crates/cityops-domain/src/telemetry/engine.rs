//! The rule engine: per (device, indicator) series, per (series, rule) state, fed one reading
//! at a time. Built for the whole city on one core: devices and indicators are dense indexes,
//! a series' rule states sit next to each other, and evaluating a normal reading allocates
//! nothing.

use std::collections::HashMap;

/// foldhash rather than the standard SipHash for the id maps: resolving a reading's device
/// was a third of a reading's cost, and foldhash (seeded per process, so still resistant to
/// chosen ids) hashes a short id several times faster.
type IdHasher = foldhash::fast::RandomState;
use std::sync::Arc;

use super::rule::CompiledSchedule;
use super::{Condition, Device, DeviceStatus, Indicator, TelemetryRule, WarningLevel};
use crate::area::AreaCode;

/// A device's dense index inside one [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceIdx(pub u32);

/// One measured value, resolved to the engine's indexes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub device: DeviceIdx,
    pub indicator: u16,
    /// Milliseconds since the Unix epoch, as the device stamped it.
    pub at_ms: i64,
    pub value: f64,
}

/// What became of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The newest reading of its series: rules ran on it.
    Evaluated,
    /// Same device, indicator and timestamp as one already seen (a redelivery).
    Duplicate,
    /// Older than the newest reading of its series: kept, but rules look forward only.
    Late,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmEventKind {
    /// A new alarm.
    Raised,
    /// The trigger came back soon after clearing: the same alarm is active again instead of a
    /// new one (flapping suppressed).
    Reopened,
    /// The trigger still holds on an active alarm.
    Repeated,
    Cleared,
}

impl AlarmEventKind {
    pub const ALL: [AlarmEventKind; 4] = [
        AlarmEventKind::Raised,
        AlarmEventKind::Reopened,
        AlarmEventKind::Repeated,
        AlarmEventKind::Cleared,
    ];

    /// The name of the change on the live stream and in the metrics' `event` label.
    /// Dashboards and clients depend on these strings: they never change.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmEventKind::Raised => "raise",
            AlarmEventKind::Reopened => "reopen",
            AlarmEventKind::Repeated => "repeat",
            AlarmEventKind::Cleared => "clear",
        }
    }

    pub fn parse(name: &str) -> Option<AlarmEventKind> {
        AlarmEventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvent {
    pub kind: AlarmEventKind,
    pub alarm_id: Arc<str>,
    pub device: DeviceIdx,
    /// Index of the rule in [`Engine::rules`].
    pub rule: u32,
    pub level: WarningLevel,
    pub value: f64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Normal,
    /// The trigger holds but not yet long enough or often enough.
    Pending,
    Active,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    rule: u32,
    series: u32,
    phase: Phase,
    count: u32,
    since_ms: i64,
}

#[derive(Debug, Clone)]
struct SlotAlarm {
    id: Arc<str>,
    active: bool,
    cleared_at_ms: i64,
}

const NONE: u32 = u32::MAX;
const EARLIER: usize = 3;

#[derive(Debug, Clone)]
struct Series {
    device: u32,
    indicator: u16,
    last_at_ms: i64,
    last_value: f64,
    /// Timestamps of the readings before the newest (a small ring): a redelivered recent
    /// reading is recognised as a duplicate, not mistaken for a late one.
    earlier: [i64; EARLIER],
    slot_start: u32,
    slot_len: u32,
    /// The device's next series (a linked list keeps a device's series without a Vec each).
    next: u32,
}

#[derive(Debug, Clone)]
struct DeviceEntry {
    id: Box<str>,
    kind: Box<str>,
    area: AreaCode,
    status: DeviceStatus,
    first_series: u32,
    /// Indexes into `areas` of the device's city, district and street (NONE when absent).
    area_path: [u32; 3],
}

#[derive(Debug, Clone)]
struct CompiledRule {
    rule: TelemetryRule,
    indicator: u16,
    schedule: Option<CompiledSchedule>,
    duration_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub devices: usize,
    pub series: usize,
    pub rule_states: usize,
    pub active_alarms: usize,
}

pub struct Engine {
    indicators: Vec<Indicator>,
    indicator_index: HashMap<String, u16, IdHasher>,
    rules: Vec<CompiledRule>,
    rules_by_indicator: Vec<Vec<u32>>,
    devices: Vec<DeviceEntry>,
    /// Every reading's device is looked up here by its string id: the hot spot of ingestion.
    device_index: HashMap<Box<str>, u32, IdHasher>,
    series: Vec<Series>,
    slots: Vec<Slot>,
    /// Slots of silence rules, which the clock rather than a reading can raise.
    silent_slots: Vec<u32>,
    alarms: HashMap<u32, SlotAlarm>,
    areas: Vec<AreaCode>,
    area_index: HashMap<AreaCode, u32>,
    /// A re-raise within this long after clearing reopens the cleared alarm.
    flap_window_ms: i64,
    id_prefix: String,
    next_alarm: u64,
    /// Rule ids in the order the slots' `rule` indexes refer to.
    slot_rule_ids: Vec<Arc<str>>,
}

impl Engine {
    /// `id_prefix` makes alarm ids unique across engine lifetimes (the caller passes, say,
    /// the start time); ids are `{prefix}-{n}`.
    pub fn new(indicators: Vec<Indicator>, id_prefix: impl Into<String>) -> Engine {
        let indicator_index = indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (ind.key.clone(), i as u16))
            .collect();
        let n = indicators.len();
        Engine {
            indicators,
            indicator_index,
            rules: Vec::new(),
            rules_by_indicator: vec![Vec::new(); n],
            devices: Vec::new(),
            device_index: HashMap::default(),
            series: Vec::new(),
            slots: Vec::new(),
            silent_slots: Vec::new(),
            alarms: HashMap::new(),
            areas: Vec::new(),
            area_index: HashMap::new(),
            flap_window_ms: 5 * 60_000,
            id_prefix: id_prefix.into(),
            next_alarm: 0,
            slot_rule_ids: Vec::new(),
        }
    }

    pub fn set_flap_window_ms(&mut self, ms: i64) {
        self.flap_window_ms = ms.max(0);
    }

    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// Adds indicators and updates existing ones (names, ranges, categories); indicators are
    /// never removed, because series and rules refer to them by index.
    pub fn upsert_indicators(&mut self, indicators: Vec<Indicator>) {
        for indicator in indicators {
            match self.indicator_index.get(&indicator.key) {
                Some(&i) => self.indicators[i as usize] = indicator,
                None => {
                    let i = self.indicators.len() as u16;
                    self.indicator_index.insert(indicator.key.clone(), i);
                    self.indicators.push(indicator);
                    self.rules_by_indicator.push(Vec::new());
                }
            }
        }
    }

    pub fn indicator_idx(&self, key: &str) -> Option<u16> {
        self.indicator_index.get(key).copied()
    }

    pub fn indicator(&self, idx: u16) -> &Indicator {
        &self.indicators[idx as usize]
    }

    pub fn device_idx(&self, id: &str) -> Option<DeviceIdx> {
        self.device_index.get(id).map(|&i| DeviceIdx(i))
    }

    pub fn device_id(&self, device: DeviceIdx) -> &str {
        &self.devices[device.0 as usize].id
    }

    pub fn device_area(&self, device: DeviceIdx) -> &AreaCode {
        &self.devices[device.0 as usize].area
    }

    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    pub fn rule(&self, idx: u32) -> &TelemetryRule {
        &self.rules[idx as usize].rule
    }

    pub fn rules(&self) -> impl Iterator<Item = &TelemetryRule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// How far back a restart must replay readings to rebuild every rule's state.
    pub fn memory_ms(&self) -> i64 {
        self.rules
            .iter()
            .map(|r| r.rule.memory_ms())
            .max()
            .unwrap_or(0)
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats {
            devices: self.devices.len(),
            series: self.series.len(),
            rule_states: self.slots.len(),
            active_alarms: self.alarms.values().filter(|a| a.active).count(),
        }
    }

    /// Registers a device or updates one; a changed type, area or status re-resolves which
    /// rules watch it, keeping the state of rules that still do.
    pub fn upsert_device(&mut self, device: &Device) -> DeviceIdx {
        let area_path = self.area_path(&device.area);
        if let Some(&idx) = self.device_index.get(device.id.as_str()) {
            let entry = &mut self.devices[idx as usize];
            let moved = *entry.kind != *device.kind || entry.area != device.area;
            entry.kind = device.kind.as_str().into();
            entry.area = device.area.clone();
            entry.status = device.status;
            entry.area_path = area_path;
            if moved {
                let mut s = entry.first_series;
                while s != NONE {
                    self.reassign(s);
                    s = self.series[s as usize].next;
                }
            }
            return DeviceIdx(idx);
        }
        let idx = self.devices.len() as u32;
        let id: Box<str> = device.id.as_str().into();
        self.devices.push(DeviceEntry {
            id: id.clone(),
            kind: device.kind.as_str().into(),
            area: device.area.clone(),
            status: device.status,
            first_series: NONE,
            area_path,
        });
        self.device_index.insert(id, idx);
        DeviceIdx(idx)
    }

    fn area_path(&mut self, area: &AreaCode) -> [u32; 3] {
        let mut path = [NONE; 3];
        let levels = [Some(area.city()), area.district(), area.street()];
        for (slot, code) in path.iter_mut().zip(levels) {
            if let Some(code) = code {
                let next = self.areas.len() as u32;
                *slot = *self.area_index.entry(code.clone()).or_insert_with(|| {
                    self.areas.push(code);
                    next
                });
            }
        }
        path
    }

    /// Replaces the rules. State (pending durations, counts, alarms) carries over for every
    /// (series, rule id) that still exists. Rules must have been validated.
    pub fn set_rules(&mut self, rules: Vec<TelemetryRule>) {
        self.rules = rules
            .into_iter()
            .filter(|r| r.enabled)
            .filter_map(|rule| {
                let indicator = self.indicator_idx(&rule.indicator)?;
                let schedule = rule.schedule.as_ref().and_then(CompiledSchedule::new);
                Some(CompiledRule {
                    duration_ms: i64::from(rule.duration_secs) * 1000,
                    rule,
                    indicator,
                    schedule,
                })
            })
            .collect();
        self.rules_by_indicator = vec![Vec::new(); self.indicators.len()];
        for (i, rule) in self.rules.iter().enumerate() {
            self.rules_by_indicator[rule.indicator as usize].push(i as u32);
        }
        // Compact: every series gets a fresh slot range in the new rule order.
        let old_slots = std::mem::take(&mut self.slots);
        let mut old_alarms = std::mem::take(&mut self.alarms);
        let old_ids = std::mem::replace(
            &mut self.slot_rule_ids,
            self.rules
                .iter()
                .map(|r| Arc::from(r.rule.id.as_str()))
                .collect(),
        );
        self.silent_slots.clear();
        for s in 0..self.series.len() {
            let series = &self.series[s];
            let kept = (series.slot_start..series.slot_start + series.slot_len)
                .map(|i| {
                    let slot = old_slots[i as usize];
                    (
                        old_ids[slot.rule as usize].clone(),
                        (slot, old_alarms.remove(&i)),
                    )
                })
                .collect();
            self.assign_slots(s as u32, kept);
        }
    }

    /// Gives a series a fresh slot range for the rules that now watch it.
    fn reassign(&mut self, s: u32) {
        let series = &self.series[s as usize];
        let range = series.slot_start..series.slot_start + series.slot_len;
        let mut kept = HashMap::new();
        for i in range {
            let slot = self.slots[i as usize];
            let alarm = self.alarms.remove(&i);
            kept.insert(
                self.slot_rule_ids[slot.rule as usize].clone(),
                (slot, alarm),
            );
        }
        self.silent_slots
            .retain(|&i| !(series.slot_start..series.slot_start + series.slot_len).contains(&i));
        self.assign_slots(s, kept);
    }

    fn assign_slots(&mut self, s: u32, mut kept: HashMap<Arc<str>, (Slot, Option<SlotAlarm>)>) {
        let series = &self.series[s as usize];
        let device = &self.devices[series.device as usize];
        let start = self.slots.len() as u32;
        for &r in &self.rules_by_indicator[series.indicator as usize] {
            let rule = &self.rules[r as usize];
            if !rule
                .rule
                .scope
                .takes(&device.kind, &device.id, &device.area)
            {
                continue;
            }
            let slot_idx = self.slots.len() as u32;
            let (mut slot, alarm) = kept.remove(rule.rule.id.as_str()).unwrap_or((
                Slot {
                    rule: r,
                    series: s,
                    phase: Phase::Normal,
                    count: 0,
                    since_ms: 0,
                },
                None,
            ));
            slot.rule = r;
            slot.series = s;
            self.slots.push(slot);
            if let Some(alarm) = alarm {
                self.alarms.insert(slot_idx, alarm);
            }
            if matches!(rule.rule.condition, Condition::Silent { .. }) {
                self.silent_slots.push(slot_idx);
            }
        }
        let len = self.slots.len() as u32 - start;
        let series = &mut self.series[s as usize];
        series.slot_start = start;
        series.slot_len = len;
    }

    fn series_of(&mut self, device: DeviceIdx, indicator: u16) -> u32 {
        let mut s = self.devices[device.0 as usize].first_series;
        while s != NONE {
            let series = &self.series[s as usize];
            if series.indicator == indicator {
                return s;
            }
            s = series.next;
        }
        let s = self.series.len() as u32;
        let entry = &mut self.devices[device.0 as usize];
        self.series.push(Series {
            device: device.0,
            indicator,
            last_at_ms: i64::MIN,
            last_value: 0.0,
            earlier: [i64::MIN; EARLIER],
            slot_start: 0,
            slot_len: 0,
            next: entry.first_series,
        });
        entry.first_series = s;
        self.assign_slots(s, HashMap::new());
        s
    }

    /// Runs the rules that watch the reading's series and appends the alarm transitions.
    pub fn evaluate(&mut self, reading: Reading, out: &mut Vec<AlarmEvent>) -> Verdict {
        let s = self.series_of(reading.device, reading.indicator);
        let series = &mut self.series[s as usize];
        if reading.at_ms == series.last_at_ms || series.earlier.contains(&reading.at_ms) {
            return Verdict::Duplicate;
        }
        // The ring keeps the newest timestamps below the newest reading's.
        let oldest = (0..EARLIER).min_by_key(|&i| series.earlier[i]).unwrap_or(0);
        if reading.at_ms < series.last_at_ms {
            if reading.at_ms > series.earlier[oldest] {
                series.earlier[oldest] = reading.at_ms;
            }
            return Verdict::Late;
        }
        if series.last_at_ms != i64::MIN {
            series.earlier[oldest] = series.last_at_ms;
        }
        let previous =
            (series.last_at_ms != i64::MIN).then_some((series.last_at_ms, series.last_value));
        series.last_at_ms = reading.at_ms;
        series.last_value = reading.value;
        let (start, len) = (series.slot_start, series.slot_len);
        if self.devices[reading.device.0 as usize].status != DeviceStatus::Active {
            // Under maintenance: nothing is trouble, and nothing clears either.
            return Verdict::Evaluated;
        }
        for slot_idx in start..start + len {
            self.step(slot_idx, reading, previous, out);
        }
        Verdict::Evaluated
    }

    fn step(
        &mut self,
        slot_idx: u32,
        reading: Reading,
        previous: Option<(i64, f64)>,
        out: &mut Vec<AlarmEvent>,
    ) {
        let slot = self.slots[slot_idx as usize];
        let rule = &self.rules[slot.rule as usize];
        let value = reading.value;
        let at = reading.at_ms;
        let rate = || {
            previous.and_then(|(t, v)| {
                let minutes = (at - t) as f64 / 60_000.0;
                (minutes > 0.0).then(|| (value - v) / minutes)
            })
        };
        // A warning in force may judge the device's area by another condition of the kind.
        let area = &self.devices[reading.device.0 as usize].area;
        let (triggered, cleared) = match *rule.rule.condition_for(area) {
            Condition::Above {
                value: limit,
                clear,
            } => (value > limit, value <= clear.unwrap_or(limit)),
            Condition::Below {
                value: limit,
                clear,
            } => (value < limit, value >= clear.unwrap_or(limit)),
            Condition::Outside { min, max, margin } => {
                let m = margin.unwrap_or(0.0);
                (
                    value < min || value > max,
                    value >= min + m && value <= max - m,
                )
            }
            Condition::Rising { per_minute, clear } => match rate() {
                Some(rate) => (rate > per_minute, rate <= clear.unwrap_or(per_minute)),
                None => (false, false),
            },
            Condition::Falling { per_minute, clear } => match rate() {
                Some(rate) => (-rate > per_minute, -rate <= clear.unwrap_or(per_minute)),
                None => (false, false),
            },
            // Any reading ends a silence; none starts one.
            Condition::Silent { .. } => (false, true),
        };
        let in_schedule = rule.schedule.is_none_or(|s| s.contains(at));
        let (repeat, duration_ms, level) = (rule.rule.repeat, rule.duration_ms, rule.rule.level);
        let slot = &mut self.slots[slot_idx as usize];
        match slot.phase {
            Phase::Normal | Phase::Pending => {
                if !(triggered && in_schedule) {
                    slot.phase = Phase::Normal;
                    slot.count = 0;
                    return;
                }
                if slot.phase == Phase::Normal {
                    slot.phase = Phase::Pending;
                    slot.since_ms = at;
                    slot.count = 0;
                }
                slot.count = slot.count.saturating_add(1);
                if slot.count >= repeat && at - slot.since_ms >= duration_ms {
                    self.raise(slot_idx, reading.device, value, at, out);
                }
            }
            Phase::Active => {
                if cleared {
                    slot.phase = Phase::Normal;
                    slot.count = 0;
                    self.clear(slot_idx, reading.device, value, at, out);
                } else if triggered {
                    if let Some(alarm) = self.alarms.get(&slot_idx) {
                        out.push(AlarmEvent {
                            kind: AlarmEventKind::Repeated,
                            alarm_id: alarm.id.clone(),
                            device: reading.device,
                            rule: slot.rule,
                            level,
                            value,
                            at_ms: at,
                        });
                    }
                }
            }
        }
    }

    fn raise(
        &mut self,
        slot_idx: u32,
        device: DeviceIdx,
        value: f64,
        at: i64,
        out: &mut Vec<AlarmEvent>,
    ) {
        let slot = &mut self.slots[slot_idx as usize];
        slot.phase = Phase::Active;
        let rule = slot.rule;
        let level = self.rules[rule as usize].rule.level;
        let flap_window = self.flap_window_ms;
        let reopen = self
            .alarms
            .get(&slot_idx)
            .is_some_and(|a| !a.active && at - a.cleared_at_ms <= flap_window);
        let kind = if reopen {
            AlarmEventKind::Reopened
        } else {
            self.next_alarm += 1;
            let id: Arc<str> = format!("{}-{}", self.id_prefix, self.next_alarm).into();
            self.alarms.insert(
                slot_idx,
                SlotAlarm {
                    id,
                    active: true,
                    cleared_at_ms: 0,
                },
            );
            AlarmEventKind::Raised
        };
        let alarm = self
            .alarms
            .get_mut(&slot_idx)
            .expect("inserted or reopened above");
        alarm.active = true;
        out.push(AlarmEvent {
            kind,
            alarm_id: alarm.id.clone(),
            device,
            rule,
            level,
            value,
            at_ms: at,
        });
    }

    fn clear(
        &mut self,
        slot_idx: u32,
        device: DeviceIdx,
        value: f64,
        at: i64,
        out: &mut Vec<AlarmEvent>,
    ) {
        let rule = self.slots[slot_idx as usize].rule;
        let level = self.rules[rule as usize].rule.level;
        if let Some(alarm) = self.alarms.get_mut(&slot_idx) {
            alarm.active = false;
            alarm.cleared_at_ms = at;
            out.push(AlarmEvent {
                kind: AlarmEventKind::Cleared,
                alarm_id: alarm.id.clone(),
                device,
                rule,
                level,
                value,
                at_ms: at,
            });
        }
    }

    /// Lets time pass: raises silence alarms for series quiet for too long, and forgets
    /// cleared alarms past the flap window.
    pub fn tick(&mut self, now_ms: i64, out: &mut Vec<AlarmEvent>) {
        for i in 0..self.silent_slots.len() {
            let slot_idx = self.silent_slots[i];
            let slot = self.slots[slot_idx as usize];
            if slot.phase == Phase::Active {
                continue;
            }
            let rule = &self.rules[slot.rule as usize];
            let Some(series) = self.series_of_slot(slot_idx) else {
                continue;
            };
            let series = &self.series[series as usize];
            let area = &self.devices[series.device as usize].area;
            let Condition::Silent { minutes } = *rule.rule.condition_for(area) else {
                continue;
            };
            if series.last_at_ms == i64::MIN
                || now_ms - series.last_at_ms < i64::from(minutes) * 60_000
                || self.devices[series.device as usize].status != DeviceStatus::Active
                || !rule.schedule.is_none_or(|s| s.contains(now_ms))
            {
                continue;
            }
            let (device, value) = (DeviceIdx(series.device), series.last_value);
            self.raise(slot_idx, device, value, now_ms, out);
        }
        let window = self.flap_window_ms;
        self.alarms
            .retain(|_, a| a.active || now_ms - a.cleared_at_ms <= window);
    }

    fn series_of_slot(&self, slot_idx: u32) -> Option<u32> {
        self.slots.get(slot_idx as usize).map(|slot| slot.series)
    }

    /// Forgets every alarm: the first step of restoring them from the store after a replay.
    pub fn forget_alarms(&mut self) {
        self.alarms.clear();
        for slot in &mut self.slots {
            if slot.phase == Phase::Active {
                slot.phase = Phase::Normal;
                slot.count = 0;
            }
        }
    }

    /// Puts back an alarm the store holds (active, or cleared within the flap window).
    /// Returns false when no rule by that id watches the device's indicator any more.
    pub fn restore_alarm(
        &mut self,
        device: DeviceIdx,
        rule_id: &str,
        alarm_id: &str,
        active: bool,
        cleared_at_ms: i64,
    ) -> bool {
        let Some(rule) = self.rules.iter().position(|r| r.rule.id == rule_id) else {
            return false;
        };
        let s = self.series_of(device, self.rules[rule].indicator);
        let series = &self.series[s as usize];
        let Some(slot_idx) = (series.slot_start..series.slot_start + series.slot_len)
            .find(|&i| self.slots[i as usize].rule == rule as u32)
        else {
            return false;
        };
        let slot = &mut self.slots[slot_idx as usize];
        slot.phase = if active { Phase::Active } else { Phase::Normal };
        self.alarms.insert(
            slot_idx,
            SlotAlarm {
                id: alarm_id.into(),
                active,
                cleared_at_ms,
            },
        );
        true
    }

    /// The newest value of every series, with the device's area path (city, district,
    /// street indexes into [`Engine::area`]).
    pub(crate) fn latest(&self) -> impl Iterator<Item = (u16, i64, f64, [u32; 3])> + '_ {
        self.series
            .iter()
            .filter(|s| s.last_at_ms != i64::MIN)
            .map(|s| {
                (
                    s.indicator,
                    s.last_at_ms,
                    s.last_value,
                    self.devices[s.device as usize].area_path,
                )
            })
    }

    pub(crate) fn active_alarm_levels(
        &self,
    ) -> impl Iterator<Item = (WarningLevel, [u32; 3])> + '_ {
        self.alarms
            .iter()
            .filter(|(_, a)| a.active)
            .filter_map(|(&slot_idx, _)| {
                let slot = &self.slots[slot_idx as usize];
                let series = self.series_of_slot(slot_idx)?;
                let device = self.series[series as usize].device;
                Some((
                    self.rules[slot.rule as usize].rule.level,
                    self.devices[device as usize].area_path,
                ))
            })
    }

    pub(crate) fn area(&self, idx: u32) -> &AreaCode {
        &self.areas[idx as usize]
    }

    pub(crate) fn area_count(&self) -> usize {
        self.areas.len()
    }
}
