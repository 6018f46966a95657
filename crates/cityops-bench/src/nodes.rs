//! `cityops-bench nodes`: case intake through 1, 2 and 3 `cityops serve` processes sharing one
//! PostgreSQL database and a private NATS JetStream server, three live-stream subscribers (city
//! screens) spread over the nodes checking that every change reaches every screen; and, in the same run, JetStream's own publish and consume ceiling
//! (acknowledged publishes of messages of a change's size, then one consumer reading them all)
//! as the reference.
//!
//! The machine's cores are shared by everything (the nodes, PostgreSQL, NATS and the clients),
//! so adding nodes adds no cores: what is reported is the rate per busy core (from
//! /proc/stat, machine-wide) and its ratio to one node's, i.e. what coordinating several nodes
//! costs per case.

use anyhow::{Context, Result};
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench nodes password";
/// Live-stream subscribers (city screens) in every run.
const SCREENS: usize = 3;

/// Busy and total CPU time of the machine so far (jiffies), from /proc/stat's first line.
fn machine_cpu() -> Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("/proc/stat")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    let total: u64 = fields.iter().take(8).sum();
    Ok((total - idle, total))
}

/// The `cityops` binary beside this one (both are built into the same target directory).
fn cityops_binary() -> Result<std::path::PathBuf> {
    let path = std::env::current_exe()?
        .parent()
        .context("the benchmark's directory")?
        .join("cityops");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: cargo build --release -p cityops -p cityops-bench",
        path.display()
    );
    Ok(path)
}

struct Node {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_node(
    binary: &std::path::Path,
    name: &str,
    stream: &str,
    store: &[String],
    nats: &str,
    client: &reqwest::Client,
) -> Result<Node> {
    let mut child = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--nats", nats])
        .args(store)
        .env("CITYOPS_NODE_NAME", name)
        .env("CITYOPS_NATS_STREAM", stream)
        .env("CITYOPS_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut reader = BufReader::new(child.stdout.take().context("stdout")?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // The node's log (errors only): shown, so that a run that goes wrong says why.
    let shown = name.to_owned();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            eprintln!("[{shown}] {line}");
        }
    });
    let base = line
        .trim()
        .strip_prefix("CityOps listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let response: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"username": "operator", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = response["token"].as_str().context("signing in")?.to_owned();
    Ok(Node { child, base, token })
}

/// Counts the `case` events a node's live stream delivers.
fn subscribe(client: reqwest::Client, node: &Node, seen: Arc<AtomicU64>) {
    let url = format!("{}/api/v1/stream?access_token={}", node.base, node.token);
    tokio::spawn(async move {
        let Ok(response) = client.get(url).send().await else {
            return;
        };
        let mut stream = response.bytes_stream();
        let mut carry = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            carry.push_str(&String::from_utf8_lossy(&chunk));
            let mut rest = carry.as_str();
            while let Some(at) = rest.find("event: case") {
                seen.fetch_add(1, Ordering::Relaxed);
                rest = &rest[at + 11..];
            }
            carry = rest.to_owned();
        }
    });
}

/// One run's figures.
struct Intake {
    nodes: usize,
    cases: u64,
    seconds: f64,
    busy_cores: f64,
    /// The fewest case events one screen received.
    delivered: u64,
    /// From the last acknowledged case to every subscriber having every change.
    drained: Duration,
}

impl Intake {
    fn rate(&self) -> f64 {
        self.cases as f64 / self.seconds
    }

    fn per_core(&self) -> f64 {
        self.rate() / self.busy_cores.max(0.01)
    }
}

async fn intake(
    nodes: usize,
    admin: &str,
    nats_url: &str,
    seconds: u64,
    concurrency: usize,
) -> Result<Intake> {
    let binary = cityops_binary()?;
    let db = cityops_test_support::scratch::ScratchDatabase::create(admin).await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let store: Vec<String> = vec![
        "--data-dir".into(),
        data.to_string_lossy().into_owned(),
        "--database".into(),
        db.url.clone(),
    ];
    let mut add = Command::new(&binary)
        .args(["user", "add", "--password-stdin", "--username", "operator"])
        .args(["--role", "operator"])
        .args(&store)
        .env("CITYOPS_LOG_FILTER", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    std::io::Write::write_all(
        &mut add.stdin.take().context("stdin")?,
        format!("{PASSWORD}\n").as_bytes(),
    )?;
    anyhow::ensure!(add.wait()?.success(), "cityops user add failed");
    let client = reqwest::Client::new();
    let mut running = Vec::new();
    // A stream of this run's own: a stream carries one database's changes.
    let stream = format!(
        "BENCH_NODES_{nodes}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    for i in 0..nodes {
        let name = format!("bench-{i}");
        running.push(start_node(&binary, &name, &stream, &store, nats_url, &client).await?);
    }
    // Three screens in every run, spread over the nodes: the same work of showing changes
    // whatever the number of nodes.
    let seen: Vec<Arc<AtomicU64>> = (0..SCREENS).map(|_| Arc::default()).collect();
    for (i, seen) in seen.iter().enumerate() {
        subscribe(client.clone(), &running[i % nodes], seen.clone());
    }
    // The relay is held and the subscribers are connected.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let created = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (busy0, total0) = machine_cpu()?;
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..concurrency {
        let node = &running[c % nodes];
        let (client, base, token, created) = (
            client.clone(),
            node.base.clone(),
            node.token.clone(),
            created.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let sent = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "source": "hotline",
                        "description": format!("压测{c}-{i}：人行道路灯不亮"),
                        "location": {"lon": 121.4919, "lat": 31.2150},
                        "area": "310101002",
                    }))
                    .send()
                    .await;
                if matches!(&sent, Ok(r) if r.status() == 201) {
                    created.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for client in clients {
        client.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (busy1, total1) = machine_cpu()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy_cores = cores * (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64;
    let cases = created.load(Ordering::Relaxed);
    // Every change reaches every node's subscriber: wait for the last ones.
    let waited = Instant::now();
    while seen.iter().any(|s| s.load(Ordering::Relaxed) < cases)
        && waited.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = waited.elapsed();
    let counts: Vec<u64> = seen.iter().map(|s| s.load(Ordering::Relaxed)).collect();
    eprintln!("{nodes} node(s): changes received by each screen: {counts:?}");
    let delivered = counts.iter().copied().min().unwrap_or(0);
    drop(running);
    db.drop_now().await?;
    Ok(Intake {
        nodes,
        cases,
        seconds: elapsed,
        busy_cores,
        delivered,
        drained,
    })
}

/// JetStream's own ceiling on this machine: acknowledged publishes of `count` messages of
/// `size` bytes (pipelined, as the relay publishes), then one consumer reading them all.
async fn jetstream_ceiling(url: &str, count: usize, size: usize) -> Result<(f64, f64)> {
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client);
    let name = format!("BENCH_{}", uuid::Uuid::new_v4().simple());
    let stream = js
        .get_or_create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("bench.{name}")],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    let payload = bytes_of(size);
    let started = Instant::now();
    let mut acks = Vec::with_capacity(500);
    for i in 0..count {
        acks.push(js.publish(format!("bench.{name}"), payload.clone()).await?);
        if acks.len() == 500 || i + 1 == count {
            for ack in acks.drain(..) {
                ack.await?;
            }
        }
    }
    let publish = count as f64 / started.elapsed().as_secs_f64();
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(500)
        .messages()
        .await?;
    let mut read = 0;
    while read < count {
        messages.next().await.context("the stream ended")??;
        read += 1;
    }
    let consume = count as f64 / started.elapsed().as_secs_f64();
    js.delete_stream(&name).await?;
    Ok((publish, consume))
}

fn bytes_of(size: usize) -> bytes::Bytes {
    bytes::Bytes::from(vec![b'x'; size])
}

pub async fn bench_nodes(admin: &str, seconds: u64, concurrency: usize) -> Result<String> {
    let nats = cityops_test_support::nats::NatsCluster::start(1)?;
    let url = nats.urls();
    let mut out = String::new();
    // A change's event is a few hundred bytes of JSON.
    let (publish, consume) = jetstream_ceiling(&url, 50_000, 600).await?;
    out.push_str(&format!(
        "JetStream ceiling (one server, file storage, 600-byte messages): publish {publish:.0} msg/s acknowledged, consume {consume:.0} msg/s\n"
    ));
    let mut runs = Vec::new();
    for nodes in 1..=3 {
        let run = intake(nodes, admin, &url, seconds, concurrency).await?;
        out.push_str(&format!(
            "{} node(s): {} cases in {:.1} s = {:.0} cases/s on {:.2} busy cores = {:.0} cases/s per core; fewest changes a screen received: {} of {}, all of them {} ms after the last case's answer\n",
            run.nodes,
            run.cases,
            run.seconds,
            run.rate(),
            run.busy_cores,
            run.per_core(),
            run.delivered,
            run.cases,
            run.drained.as_millis()
        ));
        runs.push(run);
    }
    let one = runs[0].per_core();
    for run in &runs {
        out.push_str(&format!(
            "per-core efficiency, {} node(s) against one: {:.2}\n",
            run.nodes,
            run.per_core() / one
        ));
    }
    Ok(out)
}
