//! A private Mosquitto on a free port, configured as the README says, for the
//! telemetry benchmark and the tests that restart the broker.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The broker settings CityOps needs: queue without limit for a persistent session (the
/// default of 1000 silently drops QoS 1 messages to a subscriber that falls behind) and allow
/// enough messages in flight that a subscriber acknowledging after its commit keeps up.
pub const SETTINGS: &str = "max_queued_messages 0\nmax_inflight_messages 1000\n";

pub struct PrivateBroker {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Starts `mosquitto`; an error when it is not installed.
    pub fn start() -> Result<PrivateBroker> {
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

    fn run(&mut self) -> Result<()> {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.config())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start mosquitto (Debian package mosquitto)")?;
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("mosquitto did not start on port {}", self.port)
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Stops the broker with SIGTERM (it saves its sessions) and starts it again.
    pub fn restart(&mut self) -> Result<()> {
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
