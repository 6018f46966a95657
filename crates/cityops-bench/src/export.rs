//! `cityops-bench export`: the memory an export of the whole census takes. A generated census
//! (Shanghai counted 12.02 million components) is loaded into a store, the real server is
//! started on it, and `GET /api/v1/components.csv` and `.geojson` are read to the end over
//! HTTP while the process's peak resident memory is tracked. The reference is the way the
//! exports worked before they streamed (every component read into memory, then the whole
//! document built), measured in the same process on the first `--in-memory` components and
//! extrapolated linearly (both the records and the document grow with the row count).

use anyhow::{Context, Result};
use cityops_domain::{AreaCode, Component};
use cityops_store::{ComponentQuery, Store};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct ExportOptions {
    pub components: usize,
    /// Components the in-memory reference builds its documents of.
    pub in_memory: usize,
    /// A data directory to keep the loaded census in between runs (loading 12 million takes
    /// minutes); a temporary one when absent.
    pub data_dir: Option<PathBuf>,
}

/// A field of `/proc/self/status` in KiB.
fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/self/status"))
}

/// Starts a new peak: the kernel's high-water mark of resident memory is reset to now.
fn reset_peak() -> Result<u64> {
    std::fs::write("/proc/self/clear_refs", "5").context("/proc/self/clear_refs")?;
    status_kib("VmRSS:")
}

/// The peak since [`reset_peak`] above `base`, in MiB.
fn peak_above(base: u64) -> Result<f64> {
    Ok(status_kib("VmHWM:")?.saturating_sub(base) as f64 / 1024.0)
}

pub async fn bench_export(options: &ExportOptions) -> Result<Vec<String>> {
    let temp = tempfile::tempdir()?;
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().join("data"));
    let config = cityops::Config {
        listen: "127.0.0.1:0".into(),
        data_dir,
        ..cityops::Config::default()
    };
    let store = cityops::open_store(&config).await?;
    cityops::reference::bootstrap(store.as_ref()).await?;
    let mut out = Vec::new();
    let held = load(store.as_ref(), options.components).await?;
    out.push(format!(
        "census: {held} components in the store ({})",
        config.database_url()
    ));
    if store.user_by_name("bench-admin").await?.is_none() {
        cityops::add_user(
            store.as_ref(),
            cityops::NewUser {
                username: "bench-admin",
                display_name: "bench-admin",
                password: "bench export password",
                role: cityops_domain::Role::Admin,
                unit: None,
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
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"username": "bench-admin", "password": "bench export password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = session["token"].as_str().context("a session")?.to_owned();

    for format in ["csv", "geojson"] {
        let rss = reset_peak()?;
        let started = Instant::now();
        let response = client
            .get(format!("{base}/api/v1/components.{format}"))
            .bearer_auth(&token)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "export: {}", response.status());
        let mut bytes = 0usize;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            bytes += chunk?.len();
        }
        let seconds = started.elapsed().as_secs_f64();
        out.push(format!(
            "streamed {format:<7}: {held} components, {:.0} MiB in {seconds:.1} s ({:.0} MiB/s), peak RSS +{:.1} MiB",
            bytes as f64 / 1048576.0,
            bytes as f64 / 1048576.0 / seconds,
            peak_above(rss)?
        ));
    }
    let _ = stop.send(());
    server.wait().await?;

    let n = options.in_memory.min(held);
    for format in ["csv", "geojson"] {
        let rss = reset_peak()?;
        let started = Instant::now();
        let bytes = in_memory(&store, n, format).await?;
        let seconds = started.elapsed().as_secs_f64();
        let peak = peak_above(rss)?;
        out.push(format!(
            "in memory {format:<7}: {n} components, {:.0} MiB in {seconds:.1} s, peak RSS +{peak:.1} MiB; for {held}: about +{:.0} MiB (x{:.1}, linear)",
            bytes as f64 / 1048576.0,
            peak * held as f64 / n as f64,
            held as f64 / n as f64
        ));
    }
    Ok(out)
}

/// Loads a generated census of about `total` components unless the store holds one.
async fn load(store: &dyn Store, total: usize) -> Result<usize> {
    let city = ComponentQuery::within(AreaCode::parse("310000")?);
    let held = store.count_components(&city).await? as usize;
    if held > 0 {
        return Ok(held);
    }
    let geography = cityops::reference::shanghai_geography()?;
    let catalog = cityops_domain::CategoryCatalog::shipped();
    let started = Instant::now();
    let points = tokio::task::spawn_blocking({
        let geography = geography.clone();
        move || {
            cityops_geo::census::generate_census(&geography, cityops::census::CENSUS_SEED, total)
        }
    })
    .await?;
    let mut loaded = 0;
    for chunk in points.chunks(100_000) {
        let components = cityops::census::components_from(&geography, &catalog, chunk);
        loaded += store.put_components(&components).await?.total() as usize;
        eprintln!(
            "loaded {loaded} of {} components ({:.0} s)",
            points.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(store.count_components(&city).await? as usize)
}

/// The exports as they were before they streamed: every component read (5,000 a page), then
/// the whole document built; returns its size.
async fn in_memory(store: &Arc<dyn Store>, n: usize, format: &str) -> Result<usize> {
    let mut all: Vec<Component> = Vec::new();
    let mut query = ComponentQuery {
        limit: 5000,
        ..ComponentQuery::within(AreaCode::parse("310000")?)
    };
    while all.len() < n {
        let page = store.components(&query).await?;
        let full = page.len() == query.limit as usize;
        query.after = page.last().map(|c| c.id.clone());
        all.extend(page);
        if !full {
            break;
        }
    }
    all.truncate(n);
    Ok(if format == "csv" {
        format!(
            "\u{feff}{}",
            cityops_domain::component::components_csv(&all)
        )
        .len()
    } else {
        let features: Vec<Value> = all.iter().map(feature).collect();
        serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))?.len()
    })
}

/// The export's GeoJSON feature (`routes::census::component_feature`, which the api crate
/// keeps to itself), so the reference builds the same values.
fn feature(c: &Component) -> Value {
    let mut properties = serde_json::Map::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            properties.insert(name.to_owned(), Value::String(value));
        }
    };
    put("id", Some(c.id.clone()));
    put("class", Some(c.class.to_string()));
    put("name", Some(c.name.clone()));
    put("unit_grid", c.unit_grid.clone());
    put("owner_unit", c.owner_unit.clone());
    put("maintainer_unit", c.maintainer_unit.clone());
    put("supervising_department", c.supervising_department.clone());
    put("status", Some(c.status.as_str().to_owned()));
    put("setting", c.setting.clone());
    put("location_text", c.location_text.clone());
    put("initial_date", c.initial_date.map(|d| d.to_string()));
    put("change_date", c.change_date.map(|d| d.to_string()));
    put("source", c.source.clone());
    put("area", Some(c.area.to_string()));
    json!({
        "type": "Feature",
        "id": c.id,
        "geometry": {"type": "Point", "coordinates": [c.location.lon, c.location.lat]},
        "properties": properties,
    })
}
