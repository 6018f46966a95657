//! MQTT ingestion (rumqttc): a persistent session (clean session off) subscribed at QoS 1,
//! with manual acknowledgements sent only once the readings of a message are committed.
//! Messages published while CityOps is down wait in the broker's session and arrive when it
//! returns; a message delivered twice is a duplicate the pipeline recognises.
//!
//! Topics (prefix configurable, default `cityops/v1`):
//! - `{prefix}/devices/{device_id}/telemetry`: readings of one device (the device may be
//!   left out of the payload);
//! - `{prefix}/gateways/{gateway_id}/telemetry`: readings of many devices, each naming its
//!   device, as edge gateways batch them.
//!
//! The broker must queue without limit for a persistent session: Mosquitto's default
//! `max_queued_messages 1000` silently drops QoS 1 messages to a subscriber that falls
//! behind; set it to 0 (see the README).
//!
//! `mqtts://` connects over TLS (the system's OpenSSL), checking the broker's certificate
//! against the system's trust store and, when given, the city's own certificate authority.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS, TlsConfiguration, Transport};
use tokio::sync::{mpsc, oneshot};

use crate::payload::{self, Rejection};
use crate::{IngestReport, Payload, TelemetryError, TelemetryHandle};

#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// Stable across restarts: the broker keeps the session (and queued readings) under it.
    pub client_id: String,
    pub topic_prefix: String,
    /// TLS to the broker (`mqtts://`); plain TCP when `None`.
    pub tls: Option<BrokerTls>,
}

/// How the broker's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerTls {
    /// A certificate authority (PEM) trusted besides the system's, for a broker whose
    /// certificate the city issued itself.
    pub ca_pem: Option<Vec<u8>>,
}

impl MqttConfig {
    /// Reads `mqtt://HOST[:PORT]` (port 1883) or `mqtts://HOST[:PORT]` (TLS, port 8883).
    pub fn from_url(url: &str, client_id: &str) -> Result<MqttConfig, String> {
        let (rest, tls, default_port) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (rest, Some(BrokerTls::default()), 8883)
        } else if let Some(rest) = url
            .strip_prefix("mqtt://")
            .or_else(|| url.strip_prefix("tcp://"))
        {
            (rest, None, 1883)
        } else {
            return Err(format!(
                "'{url}' is not an mqtt://HOST[:PORT] or mqtts://HOST[:PORT] URL"
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse().map_err(|_| format!("bad port in '{url}'"))?,
            ),
            None => (rest, default_port),
        };
        if host.is_empty() {
            return Err(format!("no host in '{url}'"));
        }
        Ok(MqttConfig {
            host: host.to_owned(),
            port,
            client_id: client_id.to_owned(),
            topic_prefix: "cityops/v1".to_owned(),
            tls,
        })
    }

    /// The client's options for this broker under `client_id`: address and, for
    /// `mqtts://`, TLS.
    pub fn options(&self, client_id: &str) -> MqttOptions {
        let mut options = MqttOptions::new(client_id, &self.host, self.port);
        if let Some(tls) = &self.tls {
            options.set_transport(Transport::tls_with_config(match &tls.ca_pem {
                Some(ca) => TlsConfiguration::SimpleNative {
                    ca: ca.clone(),
                    client_auth: None,
                },
                None => TlsConfiguration::Native,
            }));
        }
        options
    }

    pub fn device_topic(&self, device: &str) -> String {
        format!("{}/devices/{device}/telemetry", self.topic_prefix)
    }

    pub fn gateway_topic(&self, gateway: &str) -> String {
        format!("{}/gateways/{gateway}/telemetry", self.topic_prefix)
    }
}

/// Messages to acknowledge once the hand-over that carried them is durable.
type Pending = (
    Vec<Publish>,
    oneshot::Receiver<Result<IngestReport, TelemetryError>>,
);

/// Messages handed to the pipeline together, at most.
const MAX_HAND_OVER: usize = 256;

/// Subscribes and feeds the pipeline until `shutdown` resolves; reconnects by itself.
pub async fn run(
    config: MqttConfig,
    handle: TelemetryHandle,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let mut options = config.options(&config.client_id);
    options.set_keep_alive(Duration::from_secs(15));
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_max_packet_size(4 * 1024 * 1024, 64 * 1024);
    // Acknowledgements travel through the client's request channel, which only the event
    // loop below drains, and rumqttc serves it only between bursts of incoming packets. If
    // either queue between this loop and the acknowledging task could fill, a flood of
    // messages would block this loop, the loop would stop draining acknowledgements, and the
    // session would stall for good (`cityops bench telemetry` found it at 16k unacknowledged
    // messages). Neither can fill: QoS 1 packet ids are 16 bits, so a broker never has more
    // than 65,535 messages awaiting our acknowledgement.
    const MAX_UNACKNOWLEDGED: usize = 65_536;
    let (client, mut eventloop) = AsyncClient::new(options, MAX_UNACKNOWLEDGED);
    // PUBACKs go out in arrival order, each once its message's batch has committed.
    let (pending_tx, mut pending_rx) = mpsc::unbounded_channel::<Pending>();
    let acker = client.clone();
    let acked = handle.metrics.mqtt_acks.clone();
    let acks = tokio::spawn(async move {
        'acks: while let Some((publishes, answer)) = pending_rx.recv().await {
            if !matches!(answer.await, Ok(Ok(_))) {
                // Not acknowledged: the broker redelivers them after the next reconnect.
                tracing::warn!(
                    messages = publishes.len(),
                    "MQTT messages were not committed and stay unacknowledged."
                );
                continue;
            }
            for publish in &publishes {
                if acker.ack(publish).await.is_err() {
                    break 'acks;
                }
                acked.inc();
            }
        }
    });
    let device_filter = format!("{}/devices/+/telemetry", config.topic_prefix);
    let gateway_filter = format!("{}/gateways/+/telemetry", config.topic_prefix);
    let device_prefix = format!("{}/devices/", config.topic_prefix);
    let mut failures = 0u32;
    // Messages parsed but not yet handed over, and those of them to acknowledge.
    let mut batch: Vec<Payload> = Vec::new();
    let mut to_ack: Vec<Publish> = Vec::new();
    tokio::pin!(shutdown);
    loop {
        // One read from the socket yields up to ten packets, which the client then returns
        // one per poll without waiting: they go to the pipeline in one hand-over, which
        // saves a wake-up of the pipeline (and of the acknowledging task) per message.
        if !batch.is_empty() && (eventloop.state.events.is_empty() || batch.len() >= MAX_HAND_OVER)
        {
            let payloads = std::mem::take(&mut batch);
            if to_ack.is_empty() {
                // QoS 0: nothing to acknowledge, so nobody waits for the commit.
                if handle.hand_over("mqtt", payloads).await.is_err() {
                    break;
                }
            } else {
                let answer = match handle.submit("mqtt", payloads).await {
                    Ok(answer) => answer,
                    Err(_) => break,
                };
                if pending_tx
                    .send((std::mem::take(&mut to_ack), answer))
                    .is_err()
                {
                    break;
                }
            }
        }
        let event = tokio::select! {
            _ = &mut shutdown => break,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                failures = 0;
                handle.metrics.mqtt_connections.inc();
                tracing::info!(host = %config.host, port = config.port, session_present = ack.session_present, "Connected to the MQTT broker.");
                if !ack.session_present {
                    for filter in [&device_filter, &gateway_filter] {
                        if let Err(error) =
                            client.subscribe(filter.as_str(), QoS::AtLeastOnce).await
                        {
                            tracing::error!(%error, "Could not subscribe.");
                        }
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                handle.metrics.mqtt_messages.inc();
                let topic_device = publish
                    .topic
                    .strip_prefix(&device_prefix)
                    .and_then(|rest| rest.strip_suffix("/telemetry"));
                let (readings, rejections): (_, Vec<Rejection>) =
                    payload::parse_json(&publish.payload, topic_device);
                batch.push(Payload {
                    bytes: publish.payload.clone(),
                    readings,
                    rejections,
                });
                if publish.qos != QoS::AtMostOnce {
                    to_ack.push(publish);
                }
            }
            Ok(_) => {}
            Err(error) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(30) {
                    tracing::warn!(%error, host = %config.host, port = config.port, "MQTT connection lost; reconnecting.");
                }
                tokio::time::sleep(Duration::from_millis(500.min(100 * u64::from(failures)))).await;
            }
        }
    }
    drop(pending_tx);
    // Let committed messages be acknowledged before saying goodbye.
    let _ = tokio::time::timeout(Duration::from_secs(5), acks).await;
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(event) = eventloop.poll().await {
            if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_url_names_the_host_and_port_and_defaults_to_1883() {
        let config = MqttConfig::from_url("mqtt://broker.city:1884", "cityops").unwrap();
        assert_eq!((config.host.as_str(), config.port), ("broker.city", 1884));
        assert_eq!(config.tls, None);
        let config = MqttConfig::from_url("tcp://broker.city/", "cityops").unwrap();
        assert_eq!((config.host.as_str(), config.port), ("broker.city", 1883));
    }

    #[test]
    fn an_mqtts_url_asks_for_tls_and_defaults_to_8883() {
        let config = MqttConfig::from_url("mqtts://broker.city", "cityops").unwrap();
        assert_eq!((config.host.as_str(), config.port), ("broker.city", 8883));
        assert_eq!(config.tls, Some(BrokerTls::default()));
        assert!(matches!(
            config.options("cityops").transport(),
            Transport::Tls(TlsConfiguration::Native)
        ));
        let plain = MqttConfig::from_url("mqtt://broker.city", "cityops").unwrap();
        assert!(matches!(
            plain.options("cityops").transport(),
            Transport::Tcp
        ));
    }

    #[test]
    fn urls_of_other_schemes_or_without_a_host_are_refused() {
        for url in [
            "http://broker.city",
            "broker.city:1883",
            "mqtt://",
            "mqtts://:8883",
        ] {
            assert!(MqttConfig::from_url(url, "cityops").is_err(), "{url}");
        }
        assert!(MqttConfig::from_url("mqtt://broker.city:port", "cityops")
            .unwrap_err()
            .contains("bad port"));
    }
}
