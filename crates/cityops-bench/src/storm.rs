//! `cityops-bench storm`: a rainstorm on the city screen. Every water gauge of three districts
//! reports at once over MQTT (gateway messages of 50 readings, QoS 1), each gauge's level
//! crossing the underpass threshold and falling back in turn, so that `rate` alarms a second
//! are raised for `seconds`; a city-wide subscriber reads `/api/v1/stream` over HTTP as the
//! city screen does. The same storm runs twice on one server: first with no incident (the
//! reference), then with an active incident over the three districts, which links every alarm
//! (自动关联). For each: the alarm-to-screen latency (the reading's timestamp, stamped at
//! publish, to the `alarm` event's arrival on the stream), the process's CPU time per alarm,
//! and, with the incident, how long after the last reading every alarm on the screen is
//! linked.

use anyhow::{Context, Result};
use chrono::Utc;
use cityops_domain::telemetry::{Device, DeviceStatus};
use cityops_domain::{AreaCode, Location};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use rumqttc::{AsyncClient, QoS};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const DISTRICTS: [&str; 3] = ["310101", "310104", "310105"];
const BATCH: usize = 50;
const PASSWORD: &str = "bench storm password";

/// CPU seconds (user and system) this process has used: /proc/self/stat's utime and stime.
fn cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name may hold spaces; the fields after it are fixed.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("/proc/self/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // The kernel's USER_HZ, 100 on Linux.
    Ok(ticks / 100.0)
}

/// What one run of the storm measured.
struct Run {
    latency: Histogram<u64>,
    /// Alarm ids raised or reopened on the screen.
    alarms: HashSet<String>,
    lagged: u64,
}

pub async fn bench_storm(
    url: &str,
    rate: usize,
    seconds: u64,
    devices: usize,
    postgres: Option<&str>,
) -> Result<String> {
    let scratch = match postgres {
        Some(admin) => Some(cityops_test_support::scratch::ScratchDatabase::create(admin).await?),
        None => None,
    };
    let result = storm(
        url,
        rate,
        seconds,
        devices,
        scratch.as_ref().map(|db| db.url.clone()),
    )
    .await;
    if let Some(db) = scratch {
        db.drop_now().await?;
    }
    result
}

async fn storm(
    url: &str,
    rate: usize,
    seconds: u64,
    count: usize,
    database: Option<String>,
) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let engine = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite, synchronous=FULL"
    };
    let config = cityops::Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database,
        mqtt: Some(url.to_owned()),
        mqtt_client_id: format!("cityops-storm-{tag}"),
        mqtt_topic_prefix: format!("cityops-storm/{tag}"),
        log: "warn".into(),
        ..cityops::Config::default()
    };
    let store = cityops::open_store(&config).await?;
    cityops::reference::bootstrap(store.as_ref()).await?;
    for (name, role, unit) in [
        ("bench-admin", cityops_domain::Role::Admin, None),
        (
            "bench-leader",
            cityops_domain::Role::CenterLeader,
            Some("C-310000"),
        ),
    ] {
        cityops::add_user(
            store.as_ref(),
            cityops::NewUser {
                username: name,
                display_name: name,
                password: PASSWORD,
                role,
                unit,
                scope: "310000",
            },
        )
        .await?;
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = cityops::start(&config, store.clone(), async {
        let _ = stopped.await;
    })
    .await?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for name in ["bench-admin", "bench-leader"] {
        let session: Value = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(session["token"].as_str().context("a session")?.to_owned());
    }
    let (admin, leader) = (tokens[0].clone(), tokens[1].clone());
    // Blue: an alarm on the screen, not a case (a case per alarm is another benchmark).
    let response = client
        .post(format!("{base}/api/v1/telemetry/rules"))
        .bearer_auth(&admin)
        .json(&json!({"id": "storm-underpass", "name": "下立交积水", "indicator": "water_level",
                      "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 25, "clear": 20},
                      "level": "blue"}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "the rule: {}",
        response.text().await?
    );

    let telemetry = server
        .state
        .telemetry
        .clone()
        .context("no telemetry pipeline")?;
    let communities: Vec<AreaCode> = cityops::reference::shanghai_areas()?
        .into_iter()
        .filter(|a| {
            a.code.level() == cityops_domain::AreaLevel::Community
                && DISTRICTS.iter().any(|d| a.code.as_str().starts_with(d))
        })
        .map(|a| a.code)
        .collect();
    let gauges: Vec<Device> = (0..count)
        .map(|n| Device {
            id: format!("W-{n:06}"),
            kind: "water_level_gauge".into(),
            name: format!("gauge {n}"),
            location: Location {
                lon: 121.40 + (n % 200) as f64 * 0.0005,
                lat: 31.18 + (n / 200 % 200) as f64 * 0.0005,
            },
            area: communities[n % communities.len()].clone(),
            unit_grid: None,
            component_id: None,
            owner_unit: None,
            status: DeviceStatus::Active,
        })
        .collect();
    store.put_devices(&gauges).await?;
    telemetry.devices_changed(gauges.clone()).await?;
    for _ in 0..100 {
        if telemetry.metrics.mqtt_connections.get() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (publisher, mut eventloop) = AsyncClient::new(
        cityops_test_support::mqtt::mqtt_options(url, &format!("storm-pub-{tag}"))?,
        10_000,
    );
    let driver = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let topic = format!("{}/gateways/storm/telemetry", config.mqtt_topic_prefix);
    let mut high = vec![false; gauges.len()];
    let mut next = 0usize;
    // Every gauge reports once, low, so each series exists before the storm.
    publish(
        &publisher,
        &topic,
        &gauges,
        &mut high,
        &mut next,
        gauges.len() as f64 / 2.0,
        gauges.len().div_ceil(BATCH),
        false,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut out = format!(
        "storm: {count} water gauges in {} communities of {}; {rate} alarms/s offered for {seconds} s \
         ({} readings/s, half raising, half clearing; {BATCH} readings per QoS 1 message); {engine}\n",
        communities.len(),
        DISTRICTS.join(", "),
        2 * rate,
    );
    out.push_str(&format!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>11} {:>10}\n",
        "run",
        "alarms",
        "alarms/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lagged",
        "CPU µs/alarm",
        "linked"
    ));
    let messages = 2 * rate * seconds as usize / BATCH;
    let mut runs = Vec::new();
    for with_incident in [false, true] {
        let incident = if with_incident {
            let response: Value = client
                .post(format!("{base}/api/v1/incidents"))
                .bearer_auth(&leader)
                .json(
                    &json!({"kind": "natural_disaster", "severity": "III", "title": "暴雨内涝",
                              "areas": DISTRICTS}),
                )
                .send()
                .await?
                .json()
                .await?;
            let id = response["id"]
                .as_str()
                .with_context(|| format!("the incident: {response}"))?
                .to_owned();
            // The linker reads the incident at once; a second to be sure.
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some(id)
        } else {
            None
        };
        eprintln!(
            "storm {} ...",
            if with_incident {
                "with the incident"
            } else {
                "without an incident (reference)"
            }
        );
        let screen = watch(&base, &leader).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu_before = cpu_seconds()?;
        let started = Instant::now();
        publish(
            &publisher,
            &topic,
            &gauges,
            &mut high,
            &mut next,
            (2 * rate) as f64 / BATCH as f64,
            messages,
            true,
        )
        .await?;
        let offered_seconds = started.elapsed().as_secs_f64();
        // Until the screen has seen the last of them: quiet for two seconds.
        let run = screen.finish(Duration::from_secs(2)).await?;
        let cpu = cpu_seconds()? - cpu_before;
        let linked = match &incident {
            Some(id) => {
                let waited = Instant::now();
                let mut linked = 0;
                while waited.elapsed() < Duration::from_secs(120) {
                    let held: HashSet<String> = store
                        .links(id)
                        .await?
                        .into_iter()
                        .filter(|l| l.kind == "alarm")
                        .map(|l| l.target)
                        .collect();
                    linked = run.alarms.iter().filter(|a| held.contains(*a)).count();
                    if linked == run.alarms.len() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                format!(
                    "{linked}/{} {:.1}s",
                    run.alarms.len(),
                    waited.elapsed().as_secs_f64()
                )
            }
            None => "-".into(),
        };
        let raised = run.latency.len();
        out.push_str(&format!(
            "{:<28} {:>9} {:>9.0} {:>9.1} {:>9.1} {:>9.1} {:>8} {:>11.1} {:>10}\n",
            if with_incident {
                "with an active incident"
            } else {
                "no incident (reference)"
            },
            raised,
            raised as f64 / offered_seconds,
            run.latency.value_at_quantile(0.5) as f64 / 1000.0,
            run.latency.value_at_quantile(0.99) as f64 / 1000.0,
            run.latency.max() as f64 / 1000.0,
            run.lagged,
            cpu * 1e6 / raised.max(1) as f64,
            linked
        ));
        runs.push((run, cpu));
    }
    let (reference, with) = (&runs[0], &runs[1]);
    let per_alarm = |(run, cpu): &(Run, f64)| cpu / run.latency.len().max(1) as f64;
    out.push_str(&format!(
        "linking cost: {:.1} µs of CPU per alarm ({:.2}x the reference's {:.1} µs); p99 latency {:.2}x the reference's\n",
        (per_alarm(with) - per_alarm(reference)) * 1e6,
        per_alarm(with) / per_alarm(reference),
        per_alarm(reference) * 1e6,
        with.0.latency.value_at_quantile(0.99) as f64
            / reference.0.latency.value_at_quantile(0.99).max(1) as f64,
    ));
    let _ = publisher.disconnect().await;
    driver.abort();
    let _ = stop.send(());
    server.wait().await?;
    cityops_test_support::mqtt::clear_mqtt_session(url, &config.mqtt_client_id).await;
    Ok(out)
}

/// Publishes `messages` gateway messages at `per_second`, each of [`BATCH`] readings of the
/// next gauges in turn, stamped now; with `storm`, each gauge's level goes above the
/// threshold and back in turn, else it stays low.
#[allow(clippy::too_many_arguments)]
async fn publish(
    client: &AsyncClient,
    topic: &str,
    gauges: &[Device],
    high: &mut [bool],
    next: &mut usize,
    per_second: f64,
    messages: usize,
    storm: bool,
) -> Result<()> {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..messages {
        ticker.tick().await;
        let now = Utc::now().timestamp_millis();
        let readings: Vec<String> = (0..BATCH)
            .map(|_| {
                let i = *next % gauges.len();
                *next += 1;
                high[i] = storm && !high[i];
                let value = if high[i] { 32.0 } else { 12.0 };
                format!(
                    r#"{{"device":"{}","metric":"water_level","value":{value},"ts":{now}}}"#,
                    gauges[i].id
                )
            })
            .collect();
        client
            .publish(
                topic,
                QoS::AtLeastOnce,
                false,
                format!("[{}]", readings.join(",")),
            )
            .await?;
    }
    Ok(())
}

/// A city-wide subscriber of the live stream, timing each alarm raised or reopened.
struct Screen {
    task: tokio::task::JoinHandle<Result<Run>>,
    quiet: tokio::sync::oneshot::Sender<Duration>,
}

async fn watch(base: &str, token: &str) -> Result<Screen> {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/stream"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "the stream");
    let (quiet, mut told) = tokio::sync::oneshot::channel::<Duration>();
    let task = tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        let mut run = Run {
            latency: Histogram::<u64>::new(3)?,
            alarms: HashSet::new(),
            lagged: 0,
        };
        let mut quiet_for: Option<Duration> = None;
        loop {
            let chunk = match quiet_for {
                None => tokio::select! {
                    q = &mut told => { quiet_for = q.ok().or(Some(Duration::from_secs(2))); continue; }
                    chunk = body.next() => chunk,
                },
                Some(q) => match tokio::time::timeout(q, body.next()).await {
                    Ok(chunk) => chunk,
                    Err(_) => break,
                },
            };
            let Some(chunk) = chunk else { break };
            let received = Utc::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk?));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
                if frame.contains("event: lagged\n") {
                    run.lagged += data.and_then(|d| d.trim().parse().ok()).unwrap_or(1);
                    continue;
                }
                if !frame.contains("event: alarm\n") {
                    continue;
                }
                let event: Value = serde_json::from_str(data.unwrap_or("{}"))?;
                let action = event["action"].as_str().unwrap_or("");
                if action != "raise" && action != "reopen" {
                    continue;
                }
                let at: chrono::DateTime<Utc> =
                    serde_json::from_value(event["alarm"]["last_at"].clone())?;
                let micros = (received - at).num_microseconds().unwrap_or(0).max(0) as u64;
                run.latency.record(micros).ok();
                if let Some(id) = event["alarm"]["id"].as_str() {
                    run.alarms.insert(id.to_owned());
                }
            }
        }
        Ok(run)
    });
    Ok(Screen { task, quiet })
}

impl Screen {
    /// The run, once no event came for `quiet`.
    async fn finish(self, quiet: Duration) -> Result<Run> {
        let _ = self.quiet.send(quiet);
        self.task.await?
    }
}
