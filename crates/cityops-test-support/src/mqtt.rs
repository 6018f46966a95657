//! MQTT for tests and benchmarks: the broker the tests share (`CITYOPS_TEST_MQTT_URL`), a
//! private Mosquitto on a free port configured as the README says (for the telemetry
//! benchmark and the tests that restart the broker), and a publisher that floods it.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("'{0}' is not an mqtt://HOST[:PORT] URL")]
    BadUrl(String),
    /// Boxed: the connection error is large, and every result of this module carries it.
    #[error("publisher: {0}")]
    Connection(Box<rumqttc::ConnectionError>),
    #[error("publisher: {0}")]
    Client(#[from] rumqttc::ClientError),
    #[error("publisher's event loop: {0}")]
    EventLoop(#[from] tokio::task::JoinError),
}

impl From<rumqttc::ConnectionError> for MqttError {
    fn from(error: rumqttc::ConnectionError) -> MqttError {
        MqttError::Connection(Box::new(error))
    }
}

/// The MQTT broker of the tests (`CITYOPS_TEST_MQTT_URL`, e.g. mqtt://127.0.0.1:1883); with
/// `CITYOPS_REQUIRE_MQTT=1` a missing one fails the test instead of skipping it.
pub fn mqtt_url() -> Option<String> {
    match std::env::var("CITYOPS_TEST_MQTT_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CITYOPS_REQUIRE_MQTT").is_err(),
                "CITYOPS_REQUIRE_MQTT is set but CITYOPS_TEST_MQTT_URL is not"
            );
            eprintln!("CITYOPS_TEST_MQTT_URL is not set: MQTT test skipped");
            None
        }
    }
}

/// (host, port) of an mqtt:// URL.
pub fn mqtt_host_port(url: &str) -> Result<(String, u16), MqttError> {
    let bad = || MqttError::BadUrl(url.to_owned());
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(bad)?
        .trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port.parse().map_err(|_| bad())?))
}

/// A client of `url` that keeps up with a flood: large packets, 1,000 messages in flight.
pub fn mqtt_options(url: &str, client_id: &str) -> Result<MqttOptions, MqttError> {
    let (host, port) = mqtt_host_port(url)?;
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
    options.set_inflight(1000);
    Ok(options)
}

/// Publishes `topics` (topic, body) as fast as the client can, then waits for the event loop
/// to have sent (QoS 0) or had acknowledged (QoS 1) every one.
pub async fn publish_all(
    url: &str,
    qos: QoS,
    topics: Vec<(String, Vec<u8>)>,
) -> Result<(), MqttError> {
    let (client, mut eventloop) = AsyncClient::new(
        mqtt_options(url, &format!("bench-pub-{}", uuid::Uuid::new_v4().simple()))?,
        10_000,
    );
    let total = topics.len();
    let driver = tokio::spawn(async move {
        let mut done = 0usize;
        while done < total {
            match eventloop.poll().await? {
                Event::Incoming(Packet::PubAck(_)) if qos == QoS::AtLeastOnce => done += 1,
                Event::Outgoing(rumqttc::Outgoing::Publish(_)) if qos == QoS::AtMostOnce => {
                    done += 1
                }
                _ => {}
            }
        }
        Ok::<_, MqttError>(())
    });
    for (topic, body) in topics {
        client.publish(topic, qos, false, body).await?;
    }
    driver.await??;
    let _ = client.disconnect().await;
    Ok(())
}

/// Removes the persistent session a client left on a shared broker: connecting once with a
/// clean session under the same client id discards it.
pub async fn clear_mqtt_session(url: &str, client_id: &str) {
    let Ok(mut options) = mqtt_options(url, client_id) else {
        return;
    };
    options.set_clean_session(true);
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(event) = eventloop.poll().await {
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    let _ = client.disconnect().await;
                }
                Event::Outgoing(rumqttc::Outgoing::Disconnect) => break,
                _ => {}
            }
        }
    })
    .await;
}

/// The broker settings CityOps needs: queue without limit for a persistent session (the
/// default of 1000 silently drops QoS 1 messages to a subscriber that falls behind) and allow
/// enough messages in flight that a subscriber acknowledging after its commit keeps up.
pub const SETTINGS: &str = "max_queued_messages 0\nmax_inflight_messages 1000\n";

/// A private Mosquitto for tests that restart the broker; `None` (skip) when mosquitto is
/// not installed, unless CITYOPS_REQUIRE_MQTT is set.
pub fn private_broker() -> Option<PrivateBroker> {
    match PrivateBroker::start() {
        Ok(broker) => Some(broker),
        Err(error) => {
            assert!(std::env::var("CITYOPS_REQUIRE_MQTT").is_err(), "{error}");
            eprintln!("{error}: broker restart test skipped");
            None
        }
    }
}

/// A Mosquitto of its own on a free port, with [`SETTINGS`]; stopped when dropped.
pub struct PrivateBroker {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Starts `mosquitto`; an error when it is not installed.
    pub fn start() -> std::io::Result<PrivateBroker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let config = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nautosave_interval 1\n{SETTINGS}",
            dir.path().display()
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config)?;
        let mut broker = PrivateBroker {
            port,
            dir,
            child: None,
        };
        broker.run()?;
        Ok(broker)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    fn run(&mut self) -> std::io::Result<()> {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.config())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("cannot start mosquitto (Debian package mosquitto): {error}"),
                )
            })?;
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(std::io::Error::other(format!(
            "mosquitto did not start on port {}",
            self.port
        )))
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Stops the broker with SIGTERM (it saves its sessions) and starts it again.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.run()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.stop();
    }
}
