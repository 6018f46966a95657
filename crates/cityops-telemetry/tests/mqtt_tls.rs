//! MQTT over TLS (`mqtts://`) against a real Mosquitto with a TLS listener whose certificate
//! a throwaway certificate authority signed (made with the `openssl` command): the client
//! trusts the broker through that authority, and refuses it without.
//!
//! Skipped when `mosquitto` or `openssl` is not installed, unless CITYOPS_REQUIRE_MQTT is set.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cityops_telemetry::mqtt::MqttConfig;
use rumqttc::{AsyncClient, Event, Packet, QoS};

/// A Mosquitto listening with TLS only, on a free port; stopped when dropped.
struct TlsBroker {
    port: u16,
    ca_pem: Vec<u8>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl` in `dir` with the words of `command` as its arguments.
fn openssl(dir: &Path, command: &str) -> Result<(), String> {
    let status = Command::new("openssl")
        .args(command.split_whitespace())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("openssl {command} failed"))
    }
}

fn start_tls_broker() -> Result<TlsBroker, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let at = dir.path();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        at,
        &format!(
            "req -x509 {ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=cityops-test-authority \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    )?;
    openssl(
        at,
        &format!("req {ec} -keyout broker.key -out broker.csr -subj /CN=127.0.0.1"),
    )?;
    std::fs::write(
        at.join("broker.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(
        at,
        "x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem \
         -days 2 -extfile broker.ext",
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // Started as root, mosquitto drops to its own user, which cannot read the keys in this
    // private directory; `user root` keeps root (and is ignored when not started as root).
    let config = format!(
        "user root\nlistener {port} 127.0.0.1\nallow_anonymous true\ncertfile {0}/broker.pem\nkeyfile {0}/broker.key\n",
        at.display()
    );
    std::fs::write(at.join("mosquitto.conf"), config).map_err(|e| e.to_string())?;
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(at.join("mosquitto.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start mosquitto (Debian package mosquitto): {e}"))?;
    let ca_pem = std::fs::read(at.join("ca.pem")).map_err(|e| e.to_string())?;
    let broker = TlsBroker {
        port,
        ca_pem,
        child,
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(broker);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("mosquitto did not start on port {port}"))
}

/// The broker, or `None` (skip) when the tools are missing and the MQTT tests are optional.
fn tls_broker() -> Option<TlsBroker> {
    match start_tls_broker() {
        Ok(broker) => Some(broker),
        Err(error) => {
            assert!(std::env::var("CITYOPS_REQUIRE_MQTT").is_err(), "{error}");
            eprintln!("skipped: {error}");
            None
        }
    }
}

#[tokio::test]
async fn mqtts_reaches_a_broker_whose_certificate_the_configured_authority_signed() {
    let Some(broker) = tls_broker() else { return };
    let mut config =
        MqttConfig::from_url(&format!("mqtts://127.0.0.1:{}", broker.port), "tls-test").unwrap();
    config.tls.as_mut().unwrap().ca_pem = Some(broker.ca_pem.clone());
    let (client, mut eventloop) = AsyncClient::new(config.options("cityops-tls-test"), 10);
    let topic = format!("{}/devices/tls-1/telemetry", config.topic_prefix);
    client.subscribe(&topic, QoS::AtLeastOnce).await.unwrap();
    client
        .publish(&topic, QoS::AtLeastOnce, false, r#"{"value":1}"#)
        .await
        .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(publish))) => return Ok(publish),
                Ok(_) => {}
                Err(error) => return Err(error),
            }
        }
    })
    .await
    .expect("no message came back within 10 s");
    let publish = received.expect("the TLS connection failed");
    assert_eq!(publish.topic, topic);
    assert_eq!(&publish.payload[..], br#"{"value":1}"#);
}

#[tokio::test]
async fn mqtts_refuses_a_broker_whose_certificate_no_trusted_authority_signed() {
    let Some(broker) = tls_broker() else { return };
    // Only the system's trust store: the throwaway authority is not in it.
    let config =
        MqttConfig::from_url(&format!("mqtts://127.0.0.1:{}", broker.port), "tls-test").unwrap();
    let (_client, mut eventloop) = AsyncClient::new(config.options("cityops-tls-untrusted"), 10);
    let outcome = tokio::time::timeout(Duration::from_secs(10), eventloop.poll())
        .await
        .expect("the connection attempt did not end within 10 s");
    let error = outcome.expect_err("connected to a broker nobody vouches for");
    assert!(
        matches!(error, rumqttc::ConnectionError::Tls(_)),
        "expected a TLS error, got {error:?}"
    );
}
