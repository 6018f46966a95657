//! Digital vital signs in motion: readings arrive over MQTT or HTTP, the rule engine of
//! `cityops-domain` judges them, alarms are kept, and alarms at or above a configured level
//! open cases through the normal intake.
//!
//! One pipeline task owns the engine (see [`pipeline`]); everything else talks to it through
//! a [`TelemetryHandle`]. Readings are acknowledged (HTTP answer, MQTT PUBACK) only after
//! the batch carrying them committed.

use std::sync::Arc;

use chrono::Duration;
use cityops_domain::telemetry::{
    Alarm, AlarmError, AlarmEventKind, Device, TelemetryRule, VitalSigns, WarningLevel,
};
use cityops_domain::Case;
use cityops_store::{CaseStore, StoreError, TelemetryStore};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

mod desk;
mod metrics;
pub mod mqtt;
pub mod payload;
mod pipeline;

pub use metrics::TelemetryMetrics;
pub use payload::{RawReading, Reason, Rejection};

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// Alarms at or above this level open a case.
    pub case_level: WarningLevel,
    /// A re-raise within this long after clearing reopens the cleared alarm.
    pub flap_window: Duration,
    /// Alarms of one category within this distance and time join one case.
    pub incident_radius_m: f64,
    pub incident_window: Duration,
    /// Raw readings are kept this long; older timestamps are refused.
    pub raw_retention: Duration,
    pub minute_rollup_retention: Duration,
    /// How far ahead of the server's clock a device's timestamp may be.
    pub future_tolerance: Duration,
    pub vitals_every: Duration,
    /// Devices whose newest reading is older than this drop out of the vital signs.
    pub vitals_fresh: Duration,
    /// Readings in one commit, at most (bounds latency under a burst).
    pub max_batch_readings: usize,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            case_level: WarningLevel::Orange,
            flap_window: Duration::minutes(5),
            incident_radius_m: 500.0,
            incident_window: Duration::minutes(30),
            raw_retention: Duration::days(7),
            minute_rollup_retention: Duration::days(30),
            future_tolerance: Duration::minutes(5),
            vitals_every: Duration::seconds(2),
            vitals_fresh: Duration::hours(1),
            max_batch_readings: 20_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("{0}")]
    Store(String),
    #[error("no such alarm")]
    NoSuchAlarm,
    #[error(transparent)]
    Alarm(#[from] AlarmError),
    #[error("the telemetry pipeline has stopped")]
    Stopped,
}

impl From<StoreError> for TelemetryError {
    fn from(e: StoreError) -> Self {
        TelemetryError::Store(e.to_string())
    }
}

/// One payload as it arrived, with what parsing made of it.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Kept (cut short) with any dead letter the payload causes.
    pub bytes: bytes::Bytes,
    pub readings: Vec<RawReading>,
    pub rejections: Vec<Rejection>,
}

/// What one payload (or several handed over together) came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    pub accepted: usize,
    pub duplicates: usize,
    /// Older than the newest reading of their series: stored, not judged by the rules.
    pub late: usize,
    pub rejected: Vec<Rejection>,
}

/// What the pipeline tells live subscribers, after it committed.
#[derive(Debug, Clone)]
pub enum TelemetryEvent {
    Alarm(Arc<Alarm>, AlarmChange),
    /// A case the pipeline opened (`report`) or noted an alarm on (`note`).
    Case(Arc<Case>, cityops_domain::CommandKind),
    Vitals(Arc<VitalSigns>),
}

/// What happened to an alarm: an event of the rule engine, or a person acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Engine(AlarmEventKind),
    Acknowledged,
}

impl AlarmChange {
    pub const ALL: [AlarmChange; 5] = [
        AlarmChange::Engine(AlarmEventKind::Raised),
        AlarmChange::Engine(AlarmEventKind::Reopened),
        AlarmChange::Engine(AlarmEventKind::Repeated),
        AlarmChange::Engine(AlarmEventKind::Cleared),
        AlarmChange::Acknowledged,
    ];

    /// The change's name on the live stream (`raise`, `reopen`, `repeat`, `clear`,
    /// `acknowledge`); clients depend on these strings.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmChange::Engine(kind) => kind.as_str(),
            AlarmChange::Acknowledged => "acknowledge",
        }
    }
}

/// The way into the running pipeline. Cheap to clone.
#[derive(Clone)]
pub struct TelemetryHandle {
    commands: mpsc::Sender<pipeline::Command>,
    events: broadcast::Sender<TelemetryEvent>,
    vitals: watch::Receiver<Arc<VitalSigns>>,
    pub metrics: TelemetryMetrics,
    retention: (Duration, Duration),
}

/// Payloads kept with a dead letter are cut to this size.
const DEAD_LETTER_PAYLOAD: usize = 4096;

pub(crate) fn cut(bytes: &[u8]) -> String {
    let mut end = bytes.len().min(DEAD_LETTER_PAYLOAD);
    while end > 0 && std::str::from_utf8(&bytes[..end]).is_err() {
        end -= 1;
    }
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

impl TelemetryHandle {
    /// Starts the pipeline: loads devices, rules and alarms, replays recent readings to
    /// rebuild rule state, then serves until every handle is dropped. Alarms open and note
    /// cases through `cases`.
    pub async fn start(
        store: Arc<dyn TelemetryStore>,
        cases: Arc<dyn CaseStore>,
        config: TelemetryConfig,
        metrics: TelemetryMetrics,
    ) -> Result<TelemetryHandle, TelemetryError> {
        let (events, _) = broadcast::channel(4096);
        let empty = VitalSigns {
            at_ms: 0,
            signs: Vec::new(),
            alarms: Vec::new(),
        };
        let (vitals_tx, vitals) = watch::channel(Arc::new(empty));
        let (desk, failed_cases) = desk::spawn(cases, events.clone());
        let retention = (config.raw_retention, config.minute_rollup_retention);
        let pipeline = pipeline::Pipeline::start(
            store,
            config,
            events.clone(),
            vitals_tx,
            metrics.clone(),
            desk,
        )
        .await?;
        let (commands, queue) = mpsc::channel(8192);
        tokio::spawn(pipeline.run(queue, failed_cases));
        Ok(TelemetryHandle {
            retention,
            commands,
            events,
            vitals,
            metrics,
        })
    }

    /// How long raw readings and minute rollups are kept: what
    /// [`TelemetryStore::prune_telemetry`] is given (one node prunes for all, as a duty).
    pub fn retention(&self) -> (Duration, Duration) {
        self.retention
    }

    /// Hands over a parsed payload and waits until its readings are durable.
    pub async fn ingest(
        &self,
        source: &'static str,
        payload: &[u8],
        readings: Vec<RawReading>,
        rejections: Vec<Rejection>,
    ) -> Result<IngestReport, TelemetryError> {
        let payload = Payload {
            bytes: bytes::Bytes::copy_from_slice(payload),
            readings,
            rejections,
        };
        let answer = self.submit(source, vec![payload]).await?;
        answer.await.map_err(|_| TelemetryError::Stopped)?
    }

    /// Queues parsed payloads (waiting only for room in the queue) and returns the receiver
    /// of their report, which arrives once their readings are durable. Payloads handed over
    /// together cost the pipeline one message instead of one each.
    pub async fn submit(
        &self,
        source: &'static str,
        payloads: Vec<Payload>,
    ) -> Result<oneshot::Receiver<Result<IngestReport, TelemetryError>>, TelemetryError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(pipeline::Command::Ingest {
                source,
                payloads,
                // Inside an API request: the poster is on record (see `Command::Ingest`).
                by: Some(cityops_store::audit::current_actor()).filter(|a| a.actor != "system"),
                reply: Some(reply),
            })
            .await
            .map_err(|_| TelemetryError::Stopped)?;
        Ok(answer)
    }

    /// Queues parsed payloads whose commit nobody waits for (QoS 0 messages): the pipeline
    /// may hold them a few milliseconds to commit them with more.
    pub async fn hand_over(
        &self,
        source: &'static str,
        payloads: Vec<Payload>,
    ) -> Result<(), TelemetryError> {
        self.commands
            .send(pipeline::Command::Ingest {
                source,
                payloads,
                by: None,
                reply: None,
            })
            .await
            .map_err(|_| TelemetryError::Stopped)
    }

    pub async fn acknowledge(
        &self,
        alarm_id: &str,
        by: cityops_domain::audit::AuditActor,
    ) -> Result<Alarm, TelemetryError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(pipeline::Command::Acknowledge {
                alarm_id: alarm_id.to_owned(),
                by,
                reply,
            })
            .await
            .map_err(|_| TelemetryError::Stopped)?;
        answer.await.map_err(|_| TelemetryError::Stopped)?
    }

    /// Tells the engine about devices already written to the store.
    pub async fn devices_changed(&self, devices: Vec<Device>) -> Result<(), TelemetryError> {
        self.commands
            .send(pipeline::Command::Devices(devices))
            .await
            .map_err(|_| TelemetryError::Stopped)
    }

    /// Gives the engine the complete, validated rule set, already written to the store.
    pub async fn rules_changed(&self, rules: Vec<TelemetryRule>) -> Result<(), TelemetryError> {
        self.commands
            .send(pipeline::Command::Rules(rules))
            .await
            .map_err(|_| TelemetryError::Stopped)
    }

    /// Tells the engine about indicators added or changed in the store.
    pub async fn indicators_changed(
        &self,
        indicators: Vec<cityops_domain::telemetry::Indicator>,
    ) -> Result<(), TelemetryError> {
        self.commands
            .send(pipeline::Command::Indicators(indicators))
            .await
            .map_err(|_| TelemetryError::Stopped)
    }

    pub fn vital_signs(&self) -> Arc<VitalSigns> {
        self.vitals.borrow().clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TelemetryEvent> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_alarm_changes_are_the_engines_events_then_the_acknowledgement() {
        // Exhaustive: a new kind of change does not compile here until it is placed.
        let engine_kind = |change: AlarmChange| match change {
            AlarmChange::Engine(kind) => Some(kind),
            AlarmChange::Acknowledged => None,
        };
        let kinds: Vec<AlarmEventKind> = AlarmChange::ALL
            .into_iter()
            .filter_map(engine_kind)
            .collect();
        assert_eq!(kinds, AlarmEventKind::ALL);
        assert_eq!(AlarmChange::ALL.len(), AlarmEventKind::ALL.len() + 1);
        assert_eq!(AlarmChange::ALL.last(), Some(&AlarmChange::Acknowledged));
        let names: std::collections::HashSet<&str> =
            AlarmChange::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), AlarmChange::ALL.len());
    }
}
