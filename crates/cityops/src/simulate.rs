//! The simulated sensors of the demo city and of `cityops simulate`: water gauges that rise
//! when a rainstorm passes over a district, gas detectors with the odd leak, manhole covers
//! that get knocked askew and fill in storms, air stations replaying Beijing's real hourly
//! PM2.5, water-main meters replaying a real pipeline's flow with its anomalies, crowd
//! counters following the day, and devices that fall silent.

use anyhow::{Context, Result};
use chrono::{DateTime, Timelike, Utc};
use cityops_domain::telemetry::{Device, DeviceStatus};
use cityops_domain::{AreaCode, Location};
use cityops_telemetry::RawReading;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PM25_CSV: &str = include_str!("../../../data/timeseries/beijing_pm25_2010_2014_hourly.csv");
const FLOW_CSV: &str = include_str!("../../../data/timeseries/river_water_flow_2022_hourly.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WaterGauge,
    GasDetector,
    ManholeSensor,
    AirStation,
    FlowMeter,
    CrowdCounter,
}

impl Kind {
    /// (kind, device type, share of the fleet in per mille)
    const MIX: [(Kind, &'static str, u32); 6] = [
        (Kind::WaterGauge, "water_level_gauge", 300),
        (Kind::GasDetector, "gas_detector", 150),
        (Kind::ManholeSensor, "manhole_sensor", 250),
        (Kind::AirStation, "air_station", 150),
        (Kind::FlowMeter, "flow_meter", 100),
        (Kind::CrowdCounter, "crowd_counter", 50),
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::WaterGauge => "积水监测点",
            Kind::GasDetector => "燃气监测点",
            Kind::ManholeSensor => "井盖传感器",
            Kind::AirStation => "空气质量微站",
            Kind::FlowMeter => "供水管网流量计",
            Kind::CrowdCounter => "人流监测点",
        }
    }
}

/// A trouble that lasts a while: a leak, a displaced cover, a crowd.
#[derive(Debug, Clone, Copy)]
struct Episode {
    until: DateTime<Utc>,
    peak: f64,
}

#[derive(Debug, Clone)]
struct Sensor {
    device: Device,
    kind: Kind,
    district: usize,
    /// The station's own scale and noise.
    factor: f64,
    episode: Option<Episode>,
    silent_until: Option<DateTime<Utc>>,
    seq: u64,
}

#[derive(Debug, Clone)]
struct Storm {
    district: usize,
    start: DateTime<Utc>,
    minutes: f64,
    peak_cm: f64,
}

pub struct Simulator {
    sensors: Vec<Sensor>,
    districts: Vec<String>,
    storms: Vec<Storm>,
    pm25: Vec<f64>,
    flow: Vec<f64>,
    started: DateTime<Utc>,
    /// Series hours replayed per real hour (60: a day of air quality in 24 minutes).
    speedup: f64,
    rng: StdRng,
}

/// Reads one numeric column of a CSV; gaps carry the last value.
fn series(csv_text: &str, column: &str) -> Result<Vec<f64>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let index = reader
        .headers()?
        .iter()
        .position(|h| h == column)
        .with_context(|| format!("no column {column}"))?;
    let mut out = Vec::new();
    let mut last = None;
    for record in reader.records() {
        let value = record?
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .or(last);
        if let Some(v) = value {
            out.push(v);
            last = Some(v);
        }
    }
    anyhow::ensure!(!out.is_empty(), "the {column} series is empty");
    Ok(out)
}

impl Simulator {
    /// A fleet of `count` devices spread over the city's unit grids, the same for a seed.
    pub fn new(
        geography: &cityops_geo::Geography,
        count: usize,
        seed: u64,
        speedup: f64,
    ) -> Result<Simulator> {
        use geo::Centroid;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut districts: Vec<String> =
            geography.grids.iter().map(|g| g.district.clone()).collect();
        districts.dedup();
        districts.sort();
        districts.dedup();
        let grids = &geography.grids;
        anyhow::ensure!(!grids.is_empty(), "the geography has no unit grids");
        let mut sensors = Vec::with_capacity(count);
        for n in 0..count {
            let pick = rng.gen_range(0..1000);
            let mut acc = 0;
            let (kind, kind_key, _) = Kind::MIX
                .into_iter()
                .find(|(_, _, share)| {
                    acc += share;
                    pick < acc
                })
                .unwrap_or(Kind::MIX[0]);
            let grid = &grids[rng.gen_range(0..grids.len())];
            let centre = grid.shape.centroid().context("an empty unit grid")?;
            let area = AreaCode::parse(&grid.community)?;
            let located = geography.locate(centre.x(), centre.y());
            let unit_grid = located
                .filter(|g| g.community == grid.community)
                .map(|g| g.code.clone());
            let component_id = (kind == Kind::ManholeSensor)
                .then(|| format!("{}0103{:06}", &grid.district, n % 1_000_000));
            let device = Device {
                id: format!("SIM-{}-{n:07}", &grid.district[2..6]),
                kind: kind_key.to_owned(),
                name: format!("{}{}", kind.name(), n),
                location: Location::new(centre.x(), centre.y())?,
                area,
                unit_grid,
                component_id,
                owner_unit: None,
                status: DeviceStatus::Active,
            };
            let district = districts.binary_search(&grid.district).unwrap_or(0);
            sensors.push(Sensor {
                device,
                kind,
                district,
                factor: rng.gen_range(0.8..1.2),
                episode: None,
                silent_until: None,
                seq: 0,
            });
        }
        Ok(Simulator {
            sensors,
            districts,
            storms: Vec::new(),
            pm25: series(PM25_CSV, "pm2.5")?,
            flow: series(FLOW_CSV, "Water flow [l/s]")?,
            started: Utc::now(),
            speedup,
            rng,
        })
    }

    pub fn devices(&self) -> Vec<Device> {
        self.sensors.iter().map(|s| s.device.clone()).collect()
    }

    /// A series value at the simulated hour, interpolated between hours.
    fn replay(values: &[f64], hour: f64) -> f64 {
        let i = hour.floor() as usize % values.len();
        let next = (i + 1) % values.len();
        let t = hour.fract();
        values[i] * (1.0 - t) + values[next] * t
    }

    /// One reading from every device that is not silent, stamped `now`. `step_secs` is the
    /// time since the last step: episodes start at rates per real minute whatever the step.
    pub fn step(&mut self, now: DateTime<Utc>, step_secs: f64) -> Vec<RawReading> {
        let per_minute = step_secs / 60.0;
        let rng = &mut self.rng;
        // About one rainstorm every ten minutes somewhere, 15 to 40 minutes long.
        self.storms
            .retain(|s| (now - s.start).num_seconds() as f64 / 60.0 < s.minutes);
        if rng.gen_bool((0.1 * per_minute).min(1.0)) {
            self.storms.push(Storm {
                district: rng.gen_range(0..self.districts.len()),
                start: now,
                minutes: rng.gen_range(15.0..40.0),
                peak_cm: rng.gen_range(20.0..70.0),
            });
        }
        let hour = (now - self.started).num_milliseconds() as f64 / 3_600_000.0 * self.speedup;
        let start_hour = 24.0 * 400.0; // a winter in the series: some smog to watch
        let pm25 = Self::replay(&self.pm25, start_hour + hour);
        let flow = Self::replay(&self.flow, hour);
        let local_hour = (now.hour() as f64 + 8.0 + now.minute() as f64 / 60.0) % 24.0;
        let crowd_base = 0.3
            + 1.2 * (-((local_hour - 12.5) / 2.5).powi(2)).exp()
            + 1.0 * (-((local_hour - 19.0) / 2.0).powi(2)).exp();
        let storm_at = |district: usize| -> f64 {
            self.storms
                .iter()
                .filter(|s| s.district == district)
                .map(|s| {
                    let t = (now - s.start).num_seconds() as f64 / 60.0 / s.minutes;
                    // Rises over the first third, drains over the rest.
                    let envelope = if t < 0.33 { t / 0.33 } else { (1.0 - t) / 0.67 };
                    s.peak_cm * envelope.clamp(0.0, 1.0)
                })
                .fold(0.0, f64::max)
        };
        let fleet = self.sensors.len().max(1) as f64;
        let mut out = Vec::with_capacity(self.sensors.len() + self.sensors.len() / 4);
        for sensor in &mut self.sensors {
            if sensor.silent_until.is_some_and(|t| now < t) {
                continue;
            }
            sensor.silent_until = None;
            // About one device a minute in 2,000 falls silent for half an hour to 1.5 hours.
            if rng.gen_bool((per_minute / 2000.0).min(1.0)) {
                sensor.silent_until = Some(now + chrono::Duration::minutes(rng.gen_range(30..90)));
                continue;
            }
            if sensor.episode.is_some_and(|e| now >= e.until) {
                sensor.episode = None;
            }
            // Roughly one leak, displaced cover or crowd somewhere every two minutes per 2,000 devices.
            let episodic = matches!(
                sensor.kind,
                Kind::GasDetector | Kind::ManholeSensor | Kind::CrowdCounter
            );
            if episodic
                && sensor.episode.is_none()
                && rng.gen_bool((per_minute * 0.5 / (fleet * 0.45)).min(1.0))
            {
                let (minutes, peak) = match sensor.kind {
                    Kind::GasDetector => (rng.gen_range(5..20), rng.gen_range(12.0..40.0)),
                    Kind::ManholeSensor => (rng.gen_range(5..30), rng.gen_range(18.0..45.0)),
                    _ => (rng.gen_range(8..25), rng.gen_range(3.2..6.0)),
                };
                sensor.episode = Some(Episode {
                    until: now + chrono::Duration::minutes(minutes),
                    peak,
                });
            }
            let noise = |rng: &mut StdRng, scale: f64| rng.gen_range(-scale..scale);
            let episode = sensor.episode.map_or(0.0, |e| e.peak);
            let id = &sensor.device.id;
            sensor.seq += 1;
            let mut push = |metric: &str, value: f64| {
                out.push(RawReading {
                    device: id.clone(),
                    metric: metric.to_owned(),
                    at: now,
                    value: (value * 100.0).round() / 100.0,
                    seq: Some(sensor.seq),
                });
            };
            match sensor.kind {
                Kind::WaterGauge => {
                    let level = storm_at(sensor.district) * sensor.factor + 1.0 + noise(rng, 1.0);
                    push("water_level", level.max(0.0));
                }
                Kind::GasDetector => push(
                    "gas_concentration",
                    (1.5 + episode + noise(rng, 1.0)).max(0.0),
                ),
                Kind::ManholeSensor => {
                    push("manhole_tilt", (1.0 + episode + noise(rng, 0.8)).max(0.0));
                    push(
                        "manhole_water",
                        (30.0 + storm_at(sensor.district) * 1.2 * sensor.factor + noise(rng, 3.0))
                            .max(0.0),
                    );
                }
                Kind::AirStation => push("pm25", (pm25 * sensor.factor + noise(rng, 5.0)).max(0.0)),
                // Meters report the main's flow smoothly; a jumpy meter would cry wolf on rate rules.
                Kind::FlowMeter => push(
                    "pipe_flow",
                    (flow * sensor.factor.sqrt() + noise(rng, 0.05)).max(0.0),
                ),
                Kind::CrowdCounter => push(
                    "crowd_density",
                    (crowd_base * sensor.factor + episode + noise(rng, 0.1)).max(0.0),
                ),
            }
        }
        out
    }
}

/// Keeps the demo city's sensors reporting into the in-process pipeline, every `every`.
pub async fn run_in_process(
    store: std::sync::Arc<dyn cityops_store::TelemetryStore>,
    telemetry: cityops_telemetry::TelemetryHandle,
    devices: usize,
    every: std::time::Duration,
) -> Result<()> {
    let geography = crate::reference::shanghai_geography()?;
    let mut simulator = Simulator::new(&geography, devices, 2026, 60.0)?;
    let fleet = simulator.devices();
    store.put_devices(&fleet).await?;
    telemetry.devices_changed(fleet).await?;
    let mut clock = tokio::time::interval(every);
    loop {
        clock.tick().await;
        let readings = simulator.step(Utc::now(), every.as_secs_f64());
        for chunk in readings.chunks(5000) {
            telemetry
                .ingest("simulator", b"", chunk.to_vec(), Vec::new())
                .await?;
        }
    }
}

/// Where `cityops simulate` sends its readings.
pub enum Sink {
    /// Gateway messages of `batch` readings (1: one device message per reading).
    Mqtt {
        url: String,
        qos: u8,
        batch: usize,
    },
    Http,
}

/// `cityops simulate`: registers the fleet with a running server over HTTP, then reports
/// readings every `every` over MQTT or HTTP until stopped.
pub async fn run_against(
    server: &str,
    username: &str,
    password: &str,
    sink: Sink,
    devices: usize,
    every: std::time::Duration,
) -> Result<()> {
    let http = reqwest_like::Client::new(server);
    let token = http.sign_in(username, password).await?;
    let geography = crate::reference::shanghai_geography()?;
    let mut simulator = Simulator::new(&geography, devices, 2026, 60.0)?;
    let csv = cityops_domain::telemetry::devices_csv(&simulator.devices());
    http.put_csv(&token, "/api/v1/devices", csv)
        .await
        .context("registering the simulated devices")?;
    println!("Registered {devices} simulated devices with {server}.");
    let mqtt = match &sink {
        Sink::Mqtt { url, .. } => {
            let config = cityops_telemetry::mqtt::MqttConfig::from_url(url, "cityops-simulator")
                .map_err(anyhow::Error::msg)?;
            let mut options = config.options(&format!("cityops-simulator-{}", std::process::id()));
            options.set_keep_alive(std::time::Duration::from_secs(15));
            let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10_000);
            tokio::spawn(async move {
                loop {
                    if eventloop.poll().await.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            });
            Some((client, config))
        }
        Sink::Http => None,
    };
    let mut clock = tokio::time::interval(every);
    loop {
        clock.tick().await;
        let readings = simulator.step(Utc::now(), every.as_secs_f64());
        let sent = readings.len();
        match (&sink, &mqtt) {
            (Sink::Mqtt { qos, batch, .. }, Some((client, config))) => {
                let qos = if *qos == 0 {
                    rumqttc::QoS::AtMostOnce
                } else {
                    rumqttc::QoS::AtLeastOnce
                };
                for chunk in readings.chunks((*batch).max(1)) {
                    let (topic, body) = if *batch <= 1 {
                        (
                            config.device_topic(&chunk[0].device),
                            reading_json(&chunk[0], false).to_string(),
                        )
                    } else {
                        (
                            config.gateway_topic("simulator"),
                            serde_json::Value::Array(
                                chunk.iter().map(|r| reading_json(r, true)).collect(),
                            )
                            .to_string(),
                        )
                    };
                    client.publish(topic, qos, false, body).await?;
                }
            }
            _ => {
                for chunk in readings.chunks(5000) {
                    let body = serde_json::Value::Array(
                        chunk.iter().map(|r| reading_json(r, true)).collect(),
                    );
                    http.post_json(&token, "/api/v1/telemetry", body.to_string())
                        .await?;
                }
            }
        }
        println!("{} readings sent", sent);
    }
}

pub fn reading_json(r: &RawReading, with_device: bool) -> serde_json::Value {
    let mut v =
        serde_json::json!({"metric": r.metric, "value": r.value, "ts": r.at.timestamp_millis()});
    if with_device {
        v["device"] = r.device.clone().into();
    }
    if let Some(seq) = r.seq {
        v["seq"] = seq.into();
    }
    v
}

/// The few HTTP calls the simulator makes (sign in, register devices, post readings).
mod reqwest_like {
    use anyhow::{Context, Result};

    pub struct Client {
        base: String,
        http: reqwest::Client,
    }

    impl Client {
        pub fn new(server: &str) -> Client {
            Client {
                base: server.trim_end_matches('/').to_owned(),
                http: reqwest::Client::new(),
            }
        }

        async fn send(
            &self,
            request: reqwest::RequestBuilder,
            what: &str,
        ) -> Result<serde_json::Value> {
            let response = request
                .send()
                .await
                .with_context(|| format!("cannot reach {}", self.base))?;
            let status = response.status();
            let body = response.text().await?;
            anyhow::ensure!(status.is_success(), "{what} answered {status}: {body}");
            Ok(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
        }

        pub async fn sign_in(&self, username: &str, password: &str) -> Result<String> {
            let body = serde_json::json!({"username": username, "password": password});
            let answer = self
                .send(
                    self.http
                        .post(format!("{}/api/v1/sessions", self.base))
                        .json(&body),
                    "sign-in",
                )
                .await?;
            answer["token"]
                .as_str()
                .map(str::to_owned)
                .context("no token in the sign-in answer")
        }

        pub async fn put_csv(&self, token: &str, path: &str, body: String) -> Result<()> {
            let request = self
                .http
                .put(format!("{}{path}", self.base))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(body);
            self.send(request, path).await.map(drop)
        }

        pub async fn post_json(&self, token: &str, path: &str, body: String) -> Result<()> {
            let request = self
                .http
                .post(format!("{}{path}", self.base))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body);
            self.send(request, path).await.map(drop)
        }
    }
}
