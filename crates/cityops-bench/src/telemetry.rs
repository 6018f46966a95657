//! `cityops-bench telemetry`: (a) the rule engine in process over a city-sized fleet, and
//! (b) readings end to end through a real MQTT broker into a running CityOps, against the
//! broker's own ceiling (one publisher to one plain subscriber) measured in the same run.

use anyhow::{Context, Result};
use chrono::Utc;
use cityops_domain::telemetry::{
    default_indicators, default_rules, AlarmEventKind, Device, DeviceStatus, Engine, Reading,
};
use cityops_domain::{AreaCode, Location};
use cityops_telemetry::AlarmChange;
use cityops_test_support::mqtt::{clear_mqtt_session, mqtt_options, publish_all};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rumqttc::{AsyncClient, Event, Packet, QoS};
use std::time::{Duration, Instant};

/// Device types and the metric each reports, with a normal value and a value in trouble.
const FLEET: [(&str, &str, f64, f64); 6] = [
    ("water_level_gauge", "water_level", 2.0, 35.0),
    ("gas_detector", "gas_concentration", 1.5, 30.0),
    ("manhole_sensor", "manhole_tilt", 1.0, 25.0),
    ("air_station", "pm25", 60.0, 180.0),
    ("flow_meter", "pipe_flow", 100.0, 160.0),
    ("crowd_counter", "crowd_density", 0.8, 3.5),
];

fn fleet_device(n: usize, communities: &[AreaCode]) -> (Device, usize) {
    let kind = n % FLEET.len();
    let device = Device {
        id: format!("B-{n:08}"),
        kind: FLEET[kind].0.to_owned(),
        name: format!("bench {n}"),
        location: Location {
            lon: 121.47,
            lat: 31.23,
        },
        area: communities[n % communities.len()].clone(),
        unit_grid: None,
        component_id: None,
        owner_unit: None,
        status: DeviceStatus::Active,
    };
    (device, kind)
}

fn communities() -> Result<Vec<AreaCode>> {
    let areas = cityops::reference::shanghai_areas()?;
    Ok(areas
        .into_iter()
        .filter(|a| a.code.level() == cityops_domain::AreaLevel::Community)
        .map(|a| a.code)
        .collect())
}

/// (a) Readings per second one core judges, over `devices` devices and the shipped rules.
pub fn bench_engine(devices: usize, readings: usize) -> Result<String> {
    let communities = communities()?;
    let started = Instant::now();
    let mut engine = Engine::new(default_indicators(), "bench");
    engine.set_rules(default_rules());
    let mut kinds = Vec::with_capacity(devices);
    let mut ids = Vec::with_capacity(devices);
    for n in 0..devices {
        let (device, kind) = fleet_device(n, &communities);
        engine.upsert_device(&device);
        ids.push(device.id);
        kinds.push(kind);
    }
    let indicator: Vec<u16> = FLEET
        .iter()
        .map(|(_, m, _, _)| engine.indicator_idx(m).context("indicator"))
        .collect::<Result<_>>()?;
    let setup = started.elapsed();
    // A realistic mix: mostly normal values with noise, one reading in 200 in trouble.
    let mut rng = StdRng::seed_from_u64(7);
    const PATTERN: usize = 4096;
    let noise: Vec<f64> = (0..PATTERN).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let trouble: Vec<bool> = (0..PATTERN).map(|_| rng.gen_bool(0.005)).collect();
    let value = |n: usize, i: usize| {
        let (_, _, normal, high) = FLEET[kinds[n]];
        let j = (n + i) % PATTERN;
        if trouble[j] {
            high
        } else {
            normal * (1.0 + noise[j] * 0.1)
        }
    };
    // Warm up: every series exists and has a first reading.
    let mut out = Vec::new();
    let t0 = Utc::now().timestamp_millis() - 86_400_000;
    for n in 0..devices {
        engine.evaluate(
            Reading {
                device: cityops_domain::telemetry::DeviceIdx(n as u32),
                indicator: indicator[kinds[n]],
                at_ms: t0,
                value: value(n, 0),
            },
            &mut out,
        );
    }
    out.clear();
    let rounds = readings.div_ceil(devices).max(1);
    let mut events = 0usize;
    let start = Instant::now();
    for round in 1..=rounds {
        let at_ms = t0 + round as i64 * 10_000;
        for n in 0..devices {
            let reading = Reading {
                device: cityops_domain::telemetry::DeviceIdx(n as u32),
                indicator: indicator[kinds[n]],
                at_ms,
                value: value(n, round),
            };
            engine.evaluate(reading, &mut out);
        }
        events += out.len();
        out.clear();
    }
    let judged = rounds * devices;
    let seconds = start.elapsed().as_secs_f64();
    // The same with the device resolved from its id, as ingestion does.
    let resolve_rounds = (rounds / 4).max(1);
    let start = Instant::now();
    for round in 1..=resolve_rounds {
        let at_ms = t0 + (rounds + round) as i64 * 10_000;
        for n in 0..devices {
            let device = engine.device_idx(&ids[n]).context("device")?;
            let reading = Reading {
                device,
                indicator: indicator[kinds[n]],
                at_ms,
                value: value(n, round),
            };
            engine.evaluate(reading, &mut out);
        }
        out.clear();
    }
    let resolved_seconds = start.elapsed().as_secs_f64();
    let stats = engine.stats();
    Ok(format!(
        "(a) rule engine in process, one core\n\
         devices {devices}, rules {} (shipped set), rule states {}, setup {:.2} s\n\
         judged {judged} readings in {seconds:.2} s: {:.0} readings/s ({:.0} ns each); {events} alarm transitions, {} alarms active at the end\n\
         with the device resolved from its id: {:.0} readings/s\n",
        engine.rules().count(),
        stats.rule_states,
        setup.as_secs_f64(),
        judged as f64 / seconds,
        seconds * 1e9 / judged as f64,
        stats.active_alarms,
        (resolve_rounds * devices) as f64 / resolved_seconds,
    ))
}

/// The broker's own ceiling: messages/s from one publisher to one subscriber that subscribes
/// to `filter` and only counts.
async fn broker_ceiling(
    url: &str,
    qos: QoS,
    filter: &str,
    bodies: Vec<(String, Vec<u8>)>,
) -> Result<f64> {
    let messages = bodies.len();
    let (client, mut eventloop) = AsyncClient::new(
        mqtt_options(url, &format!("bench-sub-{}", uuid::Uuid::new_v4().simple()))?,
        10_000,
    );
    client.subscribe(filter, qos).await?;
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await? {
            break;
        }
    }
    let counter = tokio::spawn(async move {
        let mut received = 0usize;
        let mut first = None;
        while received < messages {
            if let Event::Incoming(Packet::Publish(_)) = eventloop.poll().await? {
                first.get_or_insert_with(Instant::now);
                received += 1;
            }
        }
        anyhow::Ok(first.map(|f| f.elapsed()))
    });
    let start = Instant::now();
    publish_all(url, qos, bodies).await?;
    tokio::time::timeout(Duration::from_secs(120), counter)
        .await
        .context("the plain subscriber never got every message")???;
    let _ = client.disconnect().await;
    Ok(messages as f64 / start.elapsed().as_secs_f64())
}

/// (b) End to end through the broker into a CityOps on SQLite in a temp dir.
pub async fn bench_end_to_end(
    url: &str,
    messages: usize,
    postgres: Option<&str>,
) -> Result<String> {
    let scratch = match postgres {
        Some(admin) => Some(cityops_test_support::scratch::ScratchDatabase::create(admin).await?),
        None => None,
    };
    let result = end_to_end(url, messages, scratch.as_ref().map(|db| db.url.clone())).await;
    if let Some(db) = scratch {
        db.drop_now().await?;
    }
    result
}

async fn end_to_end(url: &str, messages: usize, database: Option<String>) -> Result<String> {
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
        mqtt_client_id: format!("cityops-bench-{tag}"),
        mqtt_topic_prefix: format!("cityops-bench/{tag}"),
        log: "warn".into(),
        ..cityops::Config::default()
    };
    let store = cityops::open_store(&config).await?;
    cityops::reference::bootstrap(store.as_ref()).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = cityops::start(&config, store.clone(), async {
        let _ = stopped.await;
    })
    .await?;
    let telemetry = server
        .state
        .telemetry
        .clone()
        .context("no telemetry pipeline")?;
    let communities = communities()?;
    let devices: Vec<Device> = (0..10_000)
        .map(|n| fleet_device(n, &communities).0)
        .collect();
    store.put_devices(&devices).await?;
    telemetry.devices_changed(devices.clone()).await?;
    // Let the pipeline subscribe.
    for _ in 0..100 {
        if telemetry.metrics.mqtt_connections.get() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let prefix = config.mqtt_topic_prefix.clone();
    let mut out = format!(
        "(b) end to end through the broker: publish -> CityOps -> judged and committed ({engine})\n"
    );
    out.push_str(&format!(
        "{:<54} {:>9} {:>10} {:>11} {:>8} {:>8} {:>10}\n",
        "run", "messages", "msg/s", "readings/s", "ceiling", "1 topic", "rd/commit"
    ));
    let mut clock = Utc::now().timestamp_millis() - 3_600_000;
    let single_body = br#"{"metric":"gas_concentration","value":1.5,"ts":1}"#.to_vec();
    for (qos, name) in [(QoS::AtMostOnce, "QoS 0"), (QoS::AtLeastOnce, "QoS 1")] {
        // Two references: the same messages to one topic, and to the devices' own topics under
        // the wildcard filter CityOps subscribes with (the broker matches each message against
        // it), which is the traffic CityOps receives. Ratios are to the second; the first is
        // the column "1 topic".
        eprintln!("broker ceilings, {name} ...");
        let plain = format!("cityops-bench/{}/plain", uuid::Uuid::new_v4().simple());
        let one_topic = broker_ceiling(
            url,
            qos,
            &plain,
            (0..messages)
                .map(|_| (plain.clone(), single_body.clone()))
                .collect(),
        )
        .await?;
        let reference = format!("cityops-bench/{}/reference", uuid::Uuid::new_v4().simple());
        let ceiling = broker_ceiling(
            url,
            qos,
            &format!("{reference}/devices/+/telemetry"),
            (0..messages)
                .map(|m| {
                    let device = &devices[m % devices.len()].id;
                    (
                        format!("{reference}/devices/{device}/telemetry"),
                        single_body.clone(),
                    )
                })
                .collect(),
        )
        .await?;
        out.push_str(&format!(
            "{:<54} {:>9} {:>10.0} {:>11} {:>8} {:>8.2} {:>10}\n",
            format!("broker ceiling, {name}, plain subscriber, one topic"),
            messages,
            one_topic,
            "-",
            "-",
            1.0,
            "-"
        ));
        out.push_str(&format!(
            "{:<54} {:>9} {:>10.0} {:>11} {:>8} {:>8.2} {:>10}\n",
            format!("broker ceiling, {name}, plain subscriber, device topics"),
            messages,
            ceiling,
            "-",
            "1.00",
            ceiling / one_topic,
            "-"
        ));
        for batch in [1usize, 50] {
            let count = if batch == 1 { messages } else { messages / 5 };
            let before = telemetry.metrics.readings("accepted");
            let commits_before = telemetry.metrics.commits.get();
            let mut bodies = Vec::with_capacity(count);
            for m in 0..count {
                if batch == 1 {
                    let device = &devices[m % devices.len()].id;
                    clock += 1;
                    let body = format!(
                        r#"{{"metric":"{}","value":1.5,"ts":{clock}}}"#,
                        FLEET[(m % devices.len()) % FLEET.len()].1
                    );
                    bodies.push((
                        format!("{prefix}/devices/{device}/telemetry"),
                        body.into_bytes(),
                    ));
                } else {
                    clock += 1;
                    let readings: Vec<String> = (0..batch)
                        .map(|k| {
                            let n = (m * batch + k) % devices.len();
                            format!(
                                r#"{{"device":"{}","metric":"{}","value":1.5,"ts":{clock}}}"#,
                                devices[n].id,
                                FLEET[n % FLEET.len()].1
                            )
                        })
                        .collect();
                    bodies.push((
                        format!("{prefix}/gateways/bench/telemetry"),
                        format!("[{}]", readings.join(",")).into_bytes(),
                    ));
                }
            }
            eprintln!("CityOps, {name}, {batch} per message ...");
            let expected = before + (count * batch) as u64;
            let start = Instant::now();
            publish_all(url, qos, bodies).await?;
            let deadline = Instant::now() + Duration::from_secs(60);
            while telemetry.metrics.readings("accepted") < expected && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let seconds = start.elapsed().as_secs_f64();
            let judged = telemetry.metrics.readings("accepted") - before;
            anyhow::ensure!(
                judged == (count * batch) as u64 || qos == QoS::AtMostOnce,
                "{name}: {judged} of {} readings arrived (in all: accepted {}, duplicate {}, late {}, rejected {}; commits {}, MQTT connections {}, messages {}, acks {}, sequence gaps {})",
                count * batch,
                telemetry.metrics.readings("accepted"),
                telemetry.metrics.readings("duplicate"),
                telemetry.metrics.readings("late"),
                telemetry.metrics.readings("rejected"),
                telemetry.metrics.commits.get(),
                telemetry.metrics.mqtt_connections.get(),
                telemetry.metrics.mqtt_messages.get(),
                telemetry.metrics.mqtt_acks.get(),
                telemetry.metrics.sequence_gaps.get(),
            );
            let rate = count as f64 / seconds;
            let commits = telemetry.metrics.commits.get() - commits_before;
            out.push_str(&format!(
                "{:<54} {:>9} {:>10.0} {:>11.0} {:>8.2} {:>8.2} {:>10.0}\n",
                format!("CityOps, {name}, {batch} reading(s)/message"),
                count,
                rate,
                judged as f64 / seconds,
                rate / ceiling,
                rate / one_topic,
                judged as f64 / commits.max(1) as f64
            ));
        }
    }
    eprintln!("alarm latency ...");
    out.push_str(&alarm_latency(url, &prefix, &telemetry, &devices, 20_000.0, 10).await?);
    let _ = stop.send(());
    server.wait().await?;
    clear_mqtt_session(url, &config.mqtt_client_id).await;
    Ok(out)
}

/// Alarm latency at a steady `rate` readings/s (gateway messages of 50, QoS 1): one reading
/// in 100 crosses the gas-danger threshold (raise or reopen), the next one clears it; latency
/// is from the reading's timestamp (stamped at publish) to the committed alarm event.
async fn alarm_latency(
    url: &str,
    prefix: &str,
    telemetry: &cityops_telemetry::TelemetryHandle,
    devices: &[Device],
    rate: f64,
    seconds: u64,
) -> Result<String> {
    let gas: Vec<&Device> = devices
        .iter()
        .filter(|d| d.kind == "gas_detector")
        .collect();
    let mut events = telemetry.subscribe();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let collector = tokio::spawn(async move {
        let mut histogram = Histogram::<u64>::new(3).expect("valid histogram");
        loop {
            let event = tokio::select! {
                _ = &mut stopped => break,
                event = events.recv() => event,
            };
            match event {
                // Only alarms a reading raised: a silence alarm has no reading to time from.
                Ok(cityops_telemetry::TelemetryEvent::Alarm(
                    alarm,
                    AlarmChange::Engine(AlarmEventKind::Raised | AlarmEventKind::Reopened),
                )) if alarm.rule_id == "gas-danger" => {
                    let micros = (Utc::now() - alarm.last_at)
                        .num_microseconds()
                        .unwrap_or(0)
                        .max(0) as u64;
                    histogram.record(micros).ok();
                }
                Ok(cityops_telemetry::TelemetryEvent::Vitals(_)) | Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        histogram
    });
    let (client, mut eventloop) = AsyncClient::new(
        mqtt_options(url, &format!("bench-lat-{}", uuid::Uuid::new_v4().simple()))?,
        10_000,
    );
    let driver = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let batch = 50usize;
    let messages_per_s = rate / batch as f64;
    let interval = Duration::from_secs_f64(1.0 / messages_per_s);
    let mut ticker = tokio::time::interval(interval);
    let total = (messages_per_s * seconds as f64) as usize;
    let mut high = vec![false; gas.len()];
    let mut sent = 0usize;
    let before = telemetry.metrics.readings("accepted");
    let start = Instant::now();
    for m in 0..total {
        ticker.tick().await;
        let now = Utc::now().timestamp_millis();
        let readings: Vec<String> = (0..batch)
            .map(|k| {
                let i = (m * batch + k) % gas.len();
                let trigger = (m * batch + k).is_multiple_of(100) || high[i];
                // A device that went high comes back down with its next reading.
                let value = if trigger && !high[i] { 30.0 } else { 1.5 };
                high[i] = value > 25.0;
                format!(
                    r#"{{"device":"{}","metric":"gas_concentration","value":{value},"ts":{now}}}"#,
                    gas[i].id
                )
            })
            .collect();
        sent += batch;
        client
            .publish(
                format!("{prefix}/gateways/latency/telemetry"),
                QoS::AtLeastOnce,
                false,
                format!("[{}]", readings.join(",")),
            )
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while telemetry.metrics.readings("accepted") + telemetry.metrics.readings("duplicate")
        < before + sent as u64
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let achieved =
        (telemetry.metrics.readings("accepted") - before) as f64 / start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = client.disconnect().await;
    driver.abort();
    let _ = stop.send(());
    let histogram = collector.await?;
    Ok(format!(
        "alarm latency at {rate:.0} readings/s offered ({achieved:.0}/s judged), QoS 1, 50 readings/message, {} alarms: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (reading timestamp -> committed alarm event)\n",
        histogram.len(),
        histogram.value_at_quantile(0.5) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0
    ))
}
