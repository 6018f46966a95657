//! Counters of the pipeline, registered into the server's Prometheus registry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlarmLabels {
    pub event: String,
    pub level: String,
}

#[derive(Clone, Default)]
pub struct TelemetryMetrics {
    /// Readings by outcome: accepted, duplicate, late.
    pub readings: Family<OutcomeLabels, Counter>,
    /// Readings or payloads refused, by reason (malformed, unknown_device, ...).
    pub rejected: Family<ReasonLabels, Counter>,
    pub alarms: Family<AlarmLabels, Counter>,
    /// Messages a device's sequence numbers say never arrived.
    pub sequence_gaps: Counter,
    pub commits: Counter,
    pub mqtt_connections: Counter,
    /// MQTT messages received, and QoS 1 acknowledgements sent after their commit: a gap
    /// that stops closing is a stalled session.
    pub mqtt_messages: Counter,
    pub mqtt_acks: Counter,
    pub active_alarms: Gauge,
}

impl TelemetryMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("telemetry");
        registry.register(
            "readings",
            "Readings ingested, by outcome",
            self.readings.clone(),
        );
        registry.register(
            "rejected",
            "Readings and payloads refused, by reason",
            self.rejected.clone(),
        );
        registry.register(
            "alarms",
            "Alarm transitions, by event and warning level",
            self.alarms.clone(),
        );
        registry.register(
            "sequence_gaps",
            "Messages missing by the devices' own sequence numbers",
            self.sequence_gaps.clone(),
        );
        registry.register(
            "commits",
            "Ingestion batches committed",
            self.commits.clone(),
        );
        registry.register(
            "mqtt_connections",
            "Connections made to the MQTT broker",
            self.mqtt_connections.clone(),
        );
        registry.register(
            "mqtt_messages",
            "MQTT messages received",
            self.mqtt_messages.clone(),
        );
        registry.register(
            "mqtt_acks",
            "MQTT QoS 1 messages acknowledged to the broker after their commit",
            self.mqtt_acks.clone(),
        );
        registry.register(
            "active_alarms",
            "Alarms active now",
            self.active_alarms.clone(),
        );
    }

    pub fn rejected(&self, reason: &str) -> u64 {
        self.rejected
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .get()
    }

    pub fn readings(&self, outcome: &str) -> u64 {
        self.readings
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .get()
    }
}
