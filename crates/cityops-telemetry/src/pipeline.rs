//! The pipeline task: resolves readings, runs the rule engine, writes readings, rollups,
//! alarms and dead letters in one transaction per batch, answers the senders only after the
//! commit, then hands what the alarms ask of cases to the case desk ([`crate::desk`]).
//!
//! It is the only writer of alarms, so an acknowledgement from the API and a repeat from a
//! sensor can never overwrite each other.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::telemetry::{
    Alarm, AlarmEvent, AlarmEventKind, Device, DeviceStatus, Engine, Incident, IncidentGrouper,
    Reading, TelemetryRule, Verdict, VitalSigns,
};
use cityops_domain::{AreaCode, NewReport, Source};
use cityops_store::telemetry::{
    DeadLetter, LoggedReading, Resolution, Rollup, StoredReading, TelemetryCommit,
};
use cityops_store::TelemetryStore;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::desk::{system_actor, CaseWrite, DeskWork, Failure};
use crate::metrics::{AlarmLabels, OutcomeLabels, ReasonLabels};
use crate::payload::{Reason, Rejection};
use crate::{
    AlarmChange, IngestReport, Payload, TelemetryConfig, TelemetryError, TelemetryEvent,
    TelemetryMetrics,
};

pub(crate) enum Command {
    Ingest {
        source: &'static str,
        payloads: Vec<Payload>,
        /// Who posted it through the API, for the audit log; `None` for the broker's
        /// machine traffic, which is measurement, not an act of record.
        by: Option<cityops_domain::audit::AuditActor>,
        reply: Option<oneshot::Sender<Result<IngestReport, TelemetryError>>>,
    },
    Acknowledge {
        alarm_id: String,
        /// Who acknowledges, as the audit log records them.
        by: cityops_domain::audit::AuditActor,
        reply: oneshot::Sender<Result<Alarm, TelemetryError>>,
    },
    Devices(Vec<Device>),
    Rules(Vec<TelemetryRule>),
    Indicators(Vec<cityops_domain::telemetry::Indicator>),
}

impl Command {
    fn readings(&self) -> usize {
        match self {
            Command::Ingest { payloads, .. } => payloads.iter().map(|p| p.readings.len()).sum(),
            _ => 0,
        }
    }

    /// Readings whose commit nobody waits for (QoS 0 messages).
    fn is_unanswered(&self) -> bool {
        matches!(self, Command::Ingest { reply: None, .. })
    }
}

pub(crate) struct Pipeline {
    store: Arc<dyn TelemetryStore>,
    config: TelemetryConfig,
    engine: Engine,
    /// Indexed by the engine's device index.
    devices: Vec<Device>,
    /// (city, district, street) indexes into `areas`, per device.
    paths: Vec<[u32; 3]>,
    areas: Vec<AreaCode>,
    area_index: HashMap<AreaCode, u32>,
    /// Active alarms and those cleared within the flap window.
    alarms: HashMap<String, Alarm>,
    grouper: IncidentGrouper,
    /// Last sequence number per device, to count gaps.
    sequences: HashMap<u32, u64, foldhash::fast::RandomState>,
    /// Alarm changes made after the last commit (case links), written with the next one.
    pending: Vec<String>,
    /// Case writes planned since the last commit; handed to the desk once it is durable.
    planned: Vec<CaseWrite>,
    /// Case writes that failed on a store error, handed to the desk again at the next tick.
    retry: Vec<CaseWrite>,
    desk: mpsc::Sender<DeskWork>,
    events: broadcast::Sender<TelemetryEvent>,
    vitals: watch::Sender<Arc<VitalSigns>>,
    metrics: TelemetryMetrics,
    last_vitals: DateTime<Utc>,
    /// Rollup deltas not yet written; written every few seconds with the watermark, since
    /// one row per area and minute need not be rewritten for every batch.
    /// Six entries a reading (two resolutions, three levels): foldhash, not SipHash.
    rollups: HashMap<RollupKey, RollupAcc, foldhash::fast::RandomState>,
    last_rollup_flush: DateTime<Utc>,
}

const MAX_BATCH_COMMANDS: usize = 4096;
/// How long unanswered readings (QoS 0) may wait for company after the previous commit
/// began. Alarm latency grows by at most this much, and only for QoS 0 floods.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);
const ROLLUP_FLUSH: Duration = Duration::seconds(2);

/// (resolution 0 minute / 1 hour, area index, indicator, bucket start ms)
type RollupKey = (u8, u32, u16, i64);
/// (count, sum, min, max)
type RollupAcc = (i64, f64, f64, f64);

impl Pipeline {
    /// Loads devices, rules and alarms and rebuilds every rule's state by replaying the
    /// readings its memory reaches back to.
    pub(crate) async fn start(
        store: Arc<dyn TelemetryStore>,
        config: TelemetryConfig,
        events: broadcast::Sender<TelemetryEvent>,
        vitals: watch::Sender<Arc<VitalSigns>>,
        metrics: TelemetryMetrics,
        desk: mpsc::Sender<DeskWork>,
    ) -> Result<Pipeline, TelemetryError> {
        let mut indicators = store.indicators().await?;
        if indicators.is_empty() {
            indicators = cityops_domain::telemetry::default_indicators();
            store.put_indicators(&indicators).await?;
        }
        let now = Utc::now();
        let mut engine = Engine::new(indicators, format!("A{}", now.timestamp_millis()));
        engine.set_flap_window_ms(config.flap_window.num_milliseconds());
        let mut pipeline = Pipeline {
            store,
            engine,
            devices: Vec::new(),
            paths: Vec::new(),
            areas: Vec::new(),
            area_index: HashMap::new(),
            alarms: HashMap::new(),
            grouper: IncidentGrouper::new(
                config.incident_radius_m,
                config.incident_window.num_milliseconds(),
            ),
            sequences: HashMap::default(),
            pending: Vec::new(),
            planned: Vec::new(),
            retry: Vec::new(),
            desk,
            events,
            vitals,
            metrics,
            last_vitals: now,
            rollups: HashMap::default(),
            last_rollup_flush: now,
            config,
        };
        for device in pipeline.store.all_devices().await? {
            pipeline.put_device(device);
        }
        let rules = pipeline.store.telemetry_rules().await?;
        pipeline.engine.set_rules(rules);
        // Replay what the rules remember; what they decided then is already in the store.
        let since =
            now - Duration::milliseconds(pipeline.engine.memory_ms()) - Duration::minutes(1);
        let mut discard = Vec::new();
        // Batches after the watermark are not in the rollups yet: roll them up again.
        let watermark = pipeline.store.rollup_watermark().await?;
        for batch in pipeline.store.reading_log(since, watermark).await? {
            for logged in batch.readings {
                let r = logged.reading;
                let (Some(device), Some(indicator)) = (
                    pipeline.engine.device_idx(&r.device_id),
                    pipeline.engine.indicator_idx(&r.indicator),
                ) else {
                    continue;
                };
                let at_ms = r.at.timestamp_millis();
                let reading = Reading {
                    device,
                    indicator,
                    at_ms,
                    value: r.value,
                };
                pipeline.engine.evaluate(reading, &mut discard);
                discard.clear();
                if batch.id > watermark && !logged.late {
                    pipeline.roll_up(device.0 as usize, indicator, at_ms, r.value);
                }
            }
        }
        pipeline.engine.forget_alarms();
        let window = now - pipeline.config.flap_window;
        for alarm in pipeline.store.live_alarms(window).await? {
            if let Some(device) = pipeline.engine.device_idx(&alarm.device_id) {
                let cleared = alarm.cleared_at.map_or(0, |t| t.timestamp_millis());
                pipeline.engine.restore_alarm(
                    device,
                    &alarm.rule_id,
                    &alarm.id,
                    alarm.active,
                    cleared,
                );
            }
            pipeline.alarms.insert(alarm.id.clone(), alarm);
        }
        pipeline
            .metrics
            .active_alarms
            .set(pipeline.engine.stats().active_alarms as i64);
        pipeline.open_missing_cases().await?;
        pipeline.publish_vitals(now);
        Ok(pipeline)
    }

    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut failed_cases: mpsc::UnboundedReceiver<Vec<(CaseWrite, Failure)>>,
    ) {
        let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_commit = tokio::time::Instant::now();
        loop {
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    let mut readings = command.readings();
                    let mut batch = vec![command];
                    let full = |batch: &Vec<Command>, readings: usize| {
                        batch.len() >= MAX_BATCH_COMMANDS || readings >= self.config.max_batch_readings
                    };
                    while !full(&batch, readings) {
                        match commands.try_recv() {
                            Ok(command) => {
                                readings += command.readings();
                                batch.push(command);
                            }
                            Err(_) => break,
                        }
                    }
                    // Nobody waits for the commit of QoS 0 messages, so under a flood they
                    // are committed once per LINGER instead of once per socket read: fewer,
                    // larger commits leave the processor to the broker and the readings.
                    // Anything someone waits for ends the wait.
                    let deadline = last_commit + LINGER;
                    let mut unanswered = batch.iter().all(Command::is_unanswered);
                    while unanswered && !full(&batch, readings) {
                        tokio::select! {
                            command = commands.recv() => match command {
                                Some(command) => {
                                    readings += command.readings();
                                    unanswered = command.is_unanswered();
                                    batch.push(command);
                                }
                                None => break,
                            },
                            _ = tokio::time::sleep_until(deadline) => break,
                        }
                    }
                    last_commit = tokio::time::Instant::now();
                    self.process(batch).await;
                }
                Some(writes) = failed_cases.recv() => self.cases_failed(writes),
                _ = clock.tick() => self.tick(Utc::now()).await,
            }
        }
        tracing::info!("Telemetry pipeline stopped.");
    }

    fn put_device(&mut self, device: Device) {
        let idx = self.engine.upsert_device(&device).0 as usize;
        let mut path = [u32::MAX; 3];
        for (slot, code) in path.iter_mut().zip([
            Some(device.area.city()),
            device.area.district(),
            device.area.street(),
        ]) {
            if let Some(code) = code {
                let next = self.areas.len() as u32;
                *slot = *self.area_index.entry(code.clone()).or_insert_with(|| {
                    self.areas.push(code);
                    next
                });
            }
        }
        if idx == self.devices.len() {
            self.devices.push(device);
            self.paths.push(path);
        } else {
            self.devices[idx] = device;
            self.paths[idx] = path;
        }
    }

    async fn process(&mut self, batch: Vec<Command>) {
        let now = Utc::now();
        let mut commit = TelemetryCommit::default();
        let mut touched: Vec<String> = std::mem::take(&mut self.pending);
        let mut events = Vec::new();
        let mut replies = Vec::new();
        let mut acks = Vec::new();
        for command in batch {
            match command {
                Command::Devices(devices) => devices.into_iter().for_each(|d| self.put_device(d)),
                Command::Rules(rules) => self.engine.set_rules(rules),
                Command::Indicators(indicators) => self.engine.upsert_indicators(indicators),
                Command::Acknowledge {
                    alarm_id,
                    by,
                    reply,
                } => {
                    let alarm = match self.alarms.get_mut(&alarm_id) {
                        Some(alarm) => Some(alarm),
                        None => match self.store.alarm(&alarm_id).await {
                            Ok(Some(alarm)) => {
                                Some(self.alarms.entry(alarm_id.clone()).or_insert(alarm))
                            }
                            Ok(None) => None,
                            Err(e) => {
                                let _ = reply.send(Err(e.into()));
                                continue;
                            }
                        },
                    };
                    match alarm {
                        None => {
                            let _ = reply.send(Err(TelemetryError::NoSuchAlarm));
                        }
                        Some(alarm) => match alarm.acknowledge(&by.actor, now) {
                            Ok(()) => {
                                commit.audit.push(cityops_domain::audit::AuditRecord::new(
                                    &by,
                                    "alarm.acknowledge",
                                    format!("alarm:{alarm_id}"),
                                    now,
                                ));
                                touched.push(alarm_id.clone());
                                acks.push((alarm_id, reply));
                            }
                            Err(e) => {
                                let _ = reply.send(Err(TelemetryError::Alarm(e)));
                            }
                        },
                    }
                }
                Command::Ingest {
                    source,
                    payloads,
                    by,
                    reply,
                } => {
                    if let Some(by) = &by {
                        let readings: usize = payloads.iter().map(|p| p.readings.len()).sum();
                        let refused: usize = payloads.iter().map(|p| p.rejections.len()).sum();
                        commit.audit.push(
                            cityops_domain::audit::AuditRecord::new(
                                by,
                                "telemetry.ingest",
                                "telemetry",
                                now,
                            )
                            .detail(format!("{readings} readings, {refused} refused at parse")),
                        );
                    }
                    let mut report = IngestReport::default();
                    for payload in payloads {
                        self.judge(payload, source, now, &mut commit, &mut events, &mut report);
                    }
                    replies.push((reply, report));
                }
            }
        }
        let raised = self.apply_events(&events, &mut touched);
        self.plan_cases(&events, &raised);
        touched.append(&mut self.pending);
        commit.rollups = self.due_rollups(now);
        commit.alarms = self.alarms_to_write(&touched);
        let result = self.store.commit_telemetry(&commit).await;
        match result {
            Ok(()) => {
                self.metrics.commits.inc();
                for (reply, report) in replies {
                    self.count(&report);
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(report));
                    }
                }
                for (id, reply) in acks {
                    let alarm = self
                        .alarms
                        .get(&id)
                        .cloned()
                        .ok_or(TelemetryError::NoSuchAlarm);
                    if let Ok(alarm) = &alarm {
                        let _ = self.events.send(TelemetryEvent::Alarm(
                            Arc::new(alarm.clone()),
                            AlarmChange::Acknowledged,
                        ));
                    }
                    let _ = reply.send(alarm);
                }
                for event in &events {
                    if event.kind != AlarmEventKind::Repeated {
                        if let Some(alarm) = self.alarms.get(&*event.alarm_id) {
                            let _ = self.events.send(TelemetryEvent::Alarm(
                                Arc::new(alarm.clone()),
                                AlarmChange::Engine(event.kind),
                            ));
                        }
                    }
                }
                self.metrics
                    .active_alarms
                    .set(self.engine.stats().active_alarms as i64);
                self.hand_over_cases().await;
            }
            Err(error) => {
                tracing::error!(%error, "A telemetry batch did not commit; nothing of it was acknowledged. Rebuilding the rule state from the store.");
                for (reply, _) in replies {
                    if let Some(reply) = reply {
                        let _ = reply.send(Err(TelemetryError::Store(error.to_string())));
                    }
                }
                for (_, reply) in acks {
                    let _ = reply.send(Err(TelemetryError::Store(error.to_string())));
                }
                self.recover().await;
            }
        }
    }

    /// Resolves and judges one payload's readings into `commit` (readings, dead letters) and
    /// `events`, counting them in `report`.
    fn judge(
        &mut self,
        payload: Payload,
        source: &str,
        now: DateTime<Utc>,
        commit: &mut TelemetryCommit,
        events: &mut Vec<AlarmEvent>,
        report: &mut IngestReport,
    ) {
        let earliest = now - self.config.raw_retention;
        let latest = now + self.config.future_tolerance;
        let Payload {
            bytes,
            readings,
            mut rejections,
        } = payload;
        for (index, raw) in readings.into_iter().enumerate() {
            let rejection = |reason, field: &str, message: String| Rejection {
                reason,
                index: Some(index),
                field: field.to_owned(),
                message,
            };
            let Some(device) = self.engine.device_idx(&raw.device) else {
                rejections.push(rejection(
                    Reason::UnknownDevice,
                    "device",
                    format!("no device {} is registered", raw.device),
                ));
                continue;
            };
            let Some(indicator) = self.engine.indicator_idx(&raw.metric) else {
                rejections.push(rejection(
                    Reason::UnknownIndicator,
                    "metric",
                    format!("{} is not in the indicator catalogue", raw.metric),
                ));
                continue;
            };
            let known = self.engine.indicator(indicator);
            if !known.is_plausible(raw.value) {
                let range = |v: Option<f64>, or: f64| v.unwrap_or(or);
                rejections.push(rejection(
                    Reason::ImplausibleValue,
                    "value",
                    format!(
                        "{} is outside what a {} sensor measures ({} to {} {})",
                        raw.value,
                        known.key,
                        range(
                            known.plausible_min,
                            -cityops_domain::telemetry::MAX_PLAUSIBLE_MAGNITUDE
                        ),
                        range(
                            known.plausible_max,
                            cityops_domain::telemetry::MAX_PLAUSIBLE_MAGNITUDE
                        ),
                        known.unit
                    ),
                ));
                continue;
            }
            if raw.at < earliest || raw.at > latest {
                rejections.push(rejection(
                    Reason::TimestampOutOfRange,
                    "ts",
                    format!(
                        "{} is outside the accepted window ({} to {})",
                        raw.at.to_rfc3339(),
                        earliest.to_rfc3339(),
                        latest.to_rfc3339()
                    ),
                ));
                continue;
            }
            if self.devices[device.0 as usize].status == DeviceStatus::Retired {
                rejections.push(rejection(
                    Reason::RetiredDevice,
                    "device",
                    format!("device {} is retired", raw.device),
                ));
                continue;
            }
            if let Some(seq) = raw.seq {
                let last = self.sequences.insert(device.0, seq);
                if let Some(last) = last.filter(|&last| seq > last + 1) {
                    self.metrics.sequence_gaps.inc_by(seq - last - 1);
                }
            }
            let at_ms = raw.at.timestamp_millis();
            let verdict = self.engine.evaluate(
                Reading {
                    device,
                    indicator,
                    at_ms,
                    value: raw.value,
                },
                events,
            );
            match verdict {
                Verdict::Duplicate => {
                    report.duplicates += 1;
                    continue;
                }
                Verdict::Late => report.late += 1,
                Verdict::Evaluated => {
                    report.accepted += 1;
                    self.roll_up(device.0 as usize, indicator, at_ms, raw.value);
                }
            }
            commit.readings.push(LoggedReading {
                late: verdict == Verdict::Late,
                reading: StoredReading {
                    device_id: raw.device,
                    indicator: raw.metric,
                    at: raw.at,
                    value: raw.value,
                },
            });
        }
        let payload = if rejections.is_empty() {
            String::new()
        } else {
            crate::cut(&bytes)
        };
        for rejection in &rejections {
            self.metrics
                .rejected
                .get_or_create(&ReasonLabels {
                    reason: rejection.reason.as_str().into(),
                })
                .inc();
            let at = rejection
                .index
                .map(|i| format!("reading {i}: "))
                .unwrap_or_default();
            commit.dead_letters.push(DeadLetter {
                id: 0,
                received_at: now,
                source: source.to_owned(),
                reason: rejection.reason.as_str().to_owned(),
                detail: format!("{at}{}: {}", rejection.field, rejection.message),
                payload: payload.clone(),
            });
        }
        report.rejected.append(&mut rejections);
    }

    fn roll_up(&mut self, device: usize, indicator: u16, at_ms: i64, value: f64) {
        for (res, resolution) in [(0u8, Resolution::Minute), (1, Resolution::Hour)] {
            let bucket = at_ms.div_euclid(resolution.millis()) * resolution.millis();
            for area in self.paths[device].into_iter().filter(|&a| a != u32::MAX) {
                let acc = self
                    .rollups
                    .entry((res, area, indicator, bucket))
                    .or_insert((0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
                acc.0 += 1;
                acc.1 += value;
                acc.2 = acc.2.min(value);
                acc.3 = acc.3.max(value);
            }
        }
    }

    /// The rollup deltas to write with this commit, when it is time. If the commit fails the
    /// pipeline recovers from the store, which rolls the log up again from the watermark.
    fn due_rollups(&mut self, now: DateTime<Utc>) -> Vec<Rollup> {
        if self.rollups.is_empty() || now - self.last_rollup_flush < ROLLUP_FLUSH {
            return Vec::new();
        }
        self.last_rollup_flush = now;
        self.rollups
            .drain()
            .map(
                |((res, area, indicator, bucket), (count, sum, min, max))| Rollup {
                    resolution: if res == 0 {
                        Resolution::Minute
                    } else {
                        Resolution::Hour
                    },
                    area: self.areas[area as usize].clone(),
                    indicator: self.engine.indicator(indicator).key.clone(),
                    bucket: DateTime::from_timestamp_millis(bucket).unwrap_or(now),
                    count,
                    sum,
                    min,
                    max,
                },
            )
            .collect()
    }

    fn count(&self, report: &IngestReport) {
        let add = |outcome: &str, n: usize| {
            if n > 0 {
                self.metrics
                    .readings
                    .get_or_create(&OutcomeLabels {
                        outcome: outcome.into(),
                    })
                    .inc_by(n as u64);
            }
        };
        add("accepted", report.accepted);
        add("duplicate", report.duplicates);
        add("late", report.late);
    }

    /// Applies engine transitions to the alarm records; returns the ids of new alarms.
    fn apply_events(
        &mut self,
        events: &[cityops_domain::telemetry::AlarmEvent],
        touched: &mut Vec<String>,
    ) -> Vec<String> {
        let mut raised = Vec::new();
        for event in events {
            let at = DateTime::from_timestamp_millis(event.at_ms).unwrap_or_else(Utc::now);
            self.metrics
                .alarms
                .get_or_create(&AlarmLabels {
                    event: event.kind.as_str().into(),
                    level: event.level.as_str().into(),
                })
                .inc();
            if event.kind == AlarmEventKind::Raised {
                let device = &self.devices[event.device.0 as usize];
                let rule = self.engine.rule(event.rule);
                let alarm = Alarm::raise(event, rule, device, at);
                self.alarms.insert(alarm.id.clone(), alarm);
                raised.push(event.alarm_id.to_string());
            } else if let Some(alarm) = self.alarms.get_mut(&*event.alarm_id) {
                if let Err(error) = alarm.apply(event.kind, event.value, at) {
                    // The engine and the records disagree: a bug, never input. Keep going.
                    tracing::error!(%error, alarm = %alarm.id, "Alarm transition refused.");
                    continue;
                }
            } else {
                tracing::error!(alarm = %event.alarm_id, "A transition names an alarm that is not loaded.");
                continue;
            }
            touched.push(event.alarm_id.to_string());
        }
        raised
    }

    fn alarms_to_write(&self, touched: &[String]) -> Vec<Alarm> {
        let mut seen = std::collections::HashSet::new();
        touched
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| self.alarms.get(id).cloned())
            .collect()
    }

    /// Plans what this batch's alarm changes ask of cases, in order (an alarm joins the
    /// incident an earlier one of the same batch opened): a case for each new alarm at or
    /// above the case level, a note on the case of each alarm cleared or raised again. The
    /// links go into the batch's own commit; the writes go to the desk after it.
    fn plan_cases(&mut self, events: &[AlarmEvent], raised: &[String]) {
        for id in raised {
            let opens = self
                .alarms
                .get(id)
                .is_some_and(|a| a.active && a.level >= self.config.case_level);
            if opens {
                if let Some(write) = self.plan_case(id) {
                    self.planned.push(write);
                }
            }
        }
        for event in events
            .iter()
            .filter(|e| matches!(e.kind, AlarmEventKind::Cleared | AlarmEventKind::Reopened))
        {
            let Some(alarm) = self.alarms.get(&*event.alarm_id) else {
                continue;
            };
            let Some(case_id) = alarm.case_id.clone() else {
                continue;
            };
            let text = self.alarm_note(alarm, event.kind == AlarmEventKind::Cleared);
            self.planned.push(CaseWrite::Note { case_id, text });
        }
    }

    /// Hands the planned case writes to the desk: call only once the commit carrying their
    /// alarms' links succeeded.
    async fn hand_over_cases(&mut self) {
        let planned = std::mem::take(&mut self.planned);
        if !planned.is_empty() && self.desk.send(DeskWork::Write(planned)).await.is_err() {
            tracing::warn!("The case desk has stopped; alarms' cases open at the next start.");
        }
    }

    /// The timeline note for an alarm that cleared or was raised again.
    fn alarm_note(&self, alarm: &Alarm, cleared: bool) -> String {
        let (name, unit) = self
            .engine
            .indicator_idx(&alarm.indicator)
            .map(|i| self.engine.indicator(i))
            .map_or((alarm.indicator.clone(), String::new()), |i| {
                (i.name_zh.clone(), i.unit.clone())
            });
        if cleared {
            format!(
                "告警 {} 已解除：{name}回落至 {}{unit}（{}）",
                alarm.id, alarm.last_value, alarm.rule_name
            )
        } else {
            format!(
                "告警 {} 再次触发：{name}为 {}{unit}（{}）",
                alarm.id, alarm.last_value, alarm.rule_name
            )
        }
    }

    /// Deals with the case writes the desk could not make. A store error is tried again at
    /// the next tick, a few times; then, like an opening that keeps failing, the alarm is
    /// unlinked (and its case opens at the next start). A join whose case finished meanwhile
    /// is planned again, without that incident, for an alarm still active.
    fn cases_failed(&mut self, failures: Vec<(CaseWrite, Failure)>) {
        for (write, failure) in failures {
            let (alarm_id, case_id) = match &write {
                CaseWrite::Open { alarm_id, case, .. } => (alarm_id.clone(), case.id.clone()),
                CaseWrite::Join {
                    alarm_id, case_id, ..
                } => (alarm_id.clone(), case_id.clone()),
                CaseWrite::Note { .. } => continue,
            };
            // A report that arrives after the alarm moved on (relinked by a later plan, or
            // by a start) is stale.
            if self
                .alarms
                .get(&alarm_id)
                .is_some_and(|a| a.case_id.as_deref() != Some(case_id.as_str()))
            {
                continue;
            }
            if let Failure::Store(error) = &failure {
                tracing::warn!(%error, alarm = %alarm_id, case = %case_id, "An alarm's case write failed; trying again.");
                if let Some(again) = write.clone().retry() {
                    self.retry.push(again);
                    continue;
                }
            }
            self.grouper.forget(&case_id);
            self.unlink(&alarm_id);
            let replan = matches!(write, CaseWrite::Join { .. })
                && matches!(failure, Failure::Finished)
                && self.alarms.get(&alarm_id).is_some_and(|a| a.active);
            if replan {
                if let Some(write) = self.plan_case(&alarm_id) {
                    self.planned.push(write);
                }
            }
        }
    }

    /// At start, after settling the desk (so a case still on its way is not taken for
    /// missing), opens the case of every alarm that should have one and has none:
    /// an active alarm at or above the case level that is not linked (its opening failed),
    /// and any alarm linked to a case that does not exist (stopped after the link committed
    /// and before the desk wrote the case), active or cleared since; a cleared one's case
    /// gets the clearing note too.
    async fn open_missing_cases(&mut self) -> Result<(), TelemetryError> {
        let (settled, settling) = oneshot::channel();
        if self.desk.send(DeskWork::Settle(settled)).await.is_ok() {
            let _ = settling.await;
        }
        let mut missing: Vec<String> = self
            .alarms
            .values()
            .filter(|a| a.active && a.level >= self.config.case_level && a.case_id.is_none())
            .map(|a| a.id.clone())
            .collect();
        for alarm in self.store.alarms_with_missing_case().await? {
            let id = alarm.id.clone();
            self.alarms.entry(id.clone()).or_insert(alarm);
            missing.push(id);
        }
        for alarm_id in missing {
            let Some(write) = self.plan_case(&alarm_id) else {
                continue;
            };
            self.planned.push(write);
            if let Some(alarm) = self.alarms.get(&alarm_id).filter(|a| !a.active) {
                if let Some(case_id) = alarm.case_id.clone() {
                    let text = self.alarm_note(alarm, true);
                    self.planned.push(CaseWrite::Note { case_id, text });
                }
            }
        }
        let touched = std::mem::take(&mut self.pending);
        if !touched.is_empty() {
            let commit = TelemetryCommit {
                alarms: self.alarms_to_write(&touched),
                ..TelemetryCommit::default()
            };
            self.store.commit_telemetry(&commit).await?;
        }
        self.hand_over_cases().await;
        Ok(())
    }

    /// What an alarm asks of the cases: join the open case of the same incident (same
    /// category, nearby, recent), else open one through the normal intake. The alarm is
    /// linked and the incident recorded at once, so later alarms of the batch find it.
    fn plan_case(&mut self, alarm_id: &str) -> Option<CaseWrite> {
        let alarm = self.alarms.get(alarm_id).cloned()?;
        let device_idx = self.engine.device_idx(&alarm.device_id)?;
        let device = self.devices[device_idx.0 as usize].clone();
        let indicator = self
            .engine
            .indicator_idx(&alarm.indicator)
            .map(|i| self.engine.indicator(i).clone())?;
        let category = device.problem_category(&indicator);
        let at_ms = alarm.raised_at.timestamp_millis();
        if let Some(case_id) = self.grouper.find(category.as_str(), alarm.location, at_ms) {
            let text = format!(
                "同一事件的告警 {} 并入本案：设备 {} {} {}{}",
                alarm.id, device.name, indicator.name_zh, alarm.first_value, indicator.unit
            );
            self.link(alarm_id, case_id.clone());
            return Some(CaseWrite::Join {
                alarm_id: alarm_id.to_owned(),
                case_id,
                text,
                attempts: 0,
            });
        }
        let report = NewReport {
            fields: Default::default(),
            source: Source::Iot,
            description: format!(
                "{}：{}（{}）{}为 {}{}，{}",
                alarm.level.zh(),
                device.name,
                device.id,
                indicator.name_zh,
                alarm.first_value,
                indicator.unit,
                alarm.rule_name
            ),
            address: None,
            location: device.location,
            location_accuracy_m: None,
            area: device.area.clone(),
            category_hint: Some(category.clone()),
            component_id: device.component_id.clone(),
            reporter: None,
            unit_grid: device.unit_grid.clone(),
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: None,
            call: None,
        };
        let actor = system_actor(&device.area);
        match cityops_domain::report(uuid::Uuid::now_v7().to_string(), report, &actor, Utc::now()) {
            Ok((case, event)) => {
                self.grouper.record(Incident {
                    category: category.as_str().to_owned(),
                    location: alarm.location,
                    at_ms,
                    case_id: case.id.clone(),
                });
                self.link(alarm_id, case.id.clone());
                Some(CaseWrite::Open {
                    alarm_id: alarm_id.to_owned(),
                    case: Box::new(case),
                    event: Box::new(event),
                    attempts: 0,
                })
            }
            Err(error) => {
                tracing::error!(%error, alarm = %alarm.id, "An alarm's case report is not valid.");
                None
            }
        }
    }

    fn link(&mut self, alarm_id: &str, case_id: String) {
        if let Some(alarm) = self.alarms.get_mut(alarm_id) {
            alarm.case_id = Some(case_id);
            self.pending.push(alarm_id.to_owned());
        }
    }

    fn unlink(&mut self, alarm_id: &str) {
        if let Some(alarm) = self.alarms.get_mut(alarm_id) {
            alarm.case_id = None;
            self.pending.push(alarm_id.to_owned());
        }
    }

    async fn tick(&mut self, now: DateTime<Utc>) {
        let mut events = Vec::new();
        self.engine.tick(now.timestamp_millis(), &mut events);
        let rollups_due = !self.rollups.is_empty() && now - self.last_rollup_flush >= ROLLUP_FLUSH;
        if !events.is_empty() || !self.pending.is_empty() || rollups_due {
            let mut touched = Vec::new();
            let raised = self.apply_events(&events, &mut touched);
            self.plan_cases(&events, &raised);
            touched.append(&mut self.pending);
            let commit = TelemetryCommit {
                alarms: self.alarms_to_write(&touched),
                rollups: self.due_rollups(now),
                ..TelemetryCommit::default()
            };
            match self.store.commit_telemetry(&commit).await {
                Ok(_) => {
                    for id in &raised {
                        if let Some(alarm) = self.alarms.get(id) {
                            let _ = self.events.send(TelemetryEvent::Alarm(
                                Arc::new(alarm.clone()),
                                AlarmChange::Engine(AlarmEventKind::Raised),
                            ));
                        }
                    }
                    self.hand_over_cases().await;
                }
                Err(error) => {
                    tracing::error!(%error, "Silence alarms did not commit; rebuilding the rule state.");
                    self.recover().await;
                }
            }
        }
        let retry = std::mem::take(&mut self.retry);
        if !retry.is_empty() && self.desk.send(DeskWork::Write(retry)).await.is_err() {
            tracing::warn!("The case desk has stopped; alarms' cases open at the next start.");
        }
        // Forget cleared alarms past the flap window: they live on in the store.
        let window = self.config.flap_window;
        self.alarms
            .retain(|_, a| a.active || a.cleared_at.is_none_or(|t| now - t <= window));
        if now - self.last_vitals >= self.config.vitals_every {
            self.publish_vitals(now);
        }
    }

    fn publish_vitals(&mut self, now: DateTime<Utc>) {
        self.last_vitals = now;
        let vitals = Arc::new(VitalSigns::compute(
            &self.engine,
            now.timestamp_millis(),
            self.config.vitals_fresh.num_milliseconds(),
        ));
        self.vitals.send_replace(vitals.clone());
        let _ = self.events.send(TelemetryEvent::Vitals(vitals));
    }

    /// After a failed commit the engine is ahead of the store: start over from the store.
    async fn recover(&mut self) {
        let (events, vitals, metrics, desk) = (
            self.events.clone(),
            self.vitals.clone(),
            self.metrics.clone(),
            self.desk.clone(),
        );
        loop {
            match Pipeline::start(
                self.store.clone(),
                self.config.clone(),
                events.clone(),
                vitals.clone(),
                metrics.clone(),
                desk.clone(),
            )
            .await
            {
                Ok(fresh) => {
                    *self = fresh;
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "The telemetry store is unavailable; retrying in 1 s.");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}
