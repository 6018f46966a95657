//! Private NATS servers with JetStream for the tests of several nodes: one server, or a
//! cluster of three, each on free ports with its own store directory; any one of them can be
//! killed and started again. Stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A private cluster of `size` servers; `None` (skip) when `nats-server` is not installed,
/// unless CITYOPS_REQUIRE_NATS is set.
pub fn private_cluster(size: usize) -> Option<NatsCluster> {
    match NatsCluster::start(size) {
        Ok(cluster) => Some(cluster),
        Err(error) => {
            assert!(std::env::var("CITYOPS_REQUIRE_NATS").is_err(), "{error}");
            eprintln!("{error}: NATS test skipped");
            None
        }
    }
}

struct Server {
    port: u16,
    cluster_port: u16,
    child: Option<Child>,
}

/// NATS servers with JetStream on 127.0.0.1, clustered when there are several.
pub struct NatsCluster {
    dir: tempfile::TempDir,
    servers: Vec<Server>,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl NatsCluster {
    /// Starts `size` servers (1, or 3 for a cluster that survives losing one).
    pub fn start(size: usize) -> std::io::Result<NatsCluster> {
        let mut servers = Vec::with_capacity(size);
        for _ in 0..size {
            servers.push(Server {
                port: free_port()?,
                cluster_port: free_port()?,
                child: None,
            });
        }
        let mut cluster = NatsCluster {
            dir: tempfile::tempdir()?,
            servers,
        };
        for i in 0..size {
            cluster.run(i)?;
        }
        Ok(cluster)
    }

    fn run(&mut self, i: usize) -> std::io::Result<()> {
        let store = self.dir.path().join(format!("s{i}"));
        let mut command = Command::new("nats-server");
        command
            .args(["-a", "127.0.0.1", "-p", &self.servers[i].port.to_string()])
            .args(["-js", "-sd"])
            .arg(&store)
            .args(["-n", &format!("s{i}")]);
        if self.servers.len() > 1 {
            let routes: Vec<String> = self
                .servers
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| format!("nats://127.0.0.1:{}", s.cluster_port))
                .collect();
            command
                .args(["--cluster_name", "cityops-test"])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", self.servers[i].cluster_port),
                ])
                .args(["--routes", &routes.join(",")]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("cannot start nats-server (Debian package nats-server): {error}"),
                )
            })?;
        self.servers[i].child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.servers[i].port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(std::io::Error::other(format!(
            "nats-server did not start on port {}",
            self.servers[i].port
        )))
    }

    /// Every server's URL, comma-separated, as CityOps's `nats` takes them.
    pub fn urls(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("nats://127.0.0.1:{}", s.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills server `i` with SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts server `i` again on its ports and store.
    pub fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.kill(i);
        self.run(i)
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
    }
}
