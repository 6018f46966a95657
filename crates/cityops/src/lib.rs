//! The `cityops` binary's library half: configuration, wiring, reference data, the demo
//! city and user administration. `main.rs` only parses the command line. The benchmarks
//! (`crates/cityops-bench`) and the tests wire the product through this library too.

pub mod audit;
pub mod census;
pub mod config;
pub mod demo;
pub mod evaluation;
pub mod reference;
pub mod screen;
pub mod secrets;
pub mod simulate;

use anyhow::{Context, Result};
use chrono::Utc;
use cityops_api::{auth, ApiConfig, AppState};
use cityops_domain::{AreaCode, Role};
use cityops_store::{Store, UserRecord};
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use config::Config;

/// Opens the configured store, creating the data directory when needed.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    cityops_store::open(&config.database_url(), pii_keys(config)?)
        .await
        .context("cannot open the database")
}

/// The personal-data keys: from the configuration if given there, else from the key file,
/// which is created with one random key the first time.
pub fn pii_keys(config: &Config) -> Result<cityops_store::PiiKeys> {
    if let Some(text) = &config.pii_keys {
        return cityops_store::PiiKeys::parse(text.expose_secret()).context("pii_keys");
    }
    config.settle_keys()?;
    let path = config.pii_key_path();
    let text = match secrets::read_key_file(&path)? {
        Some(text) => text,
        None => {
            let text = SecretString::from(format!(
                "# CityOps personal-data keys: '<id> <64 hex digits>', the last one seals.\n{}\n",
                cityops_store::PiiKeys::new_key_line("k1")
            ));
            write_private(&path, text.expose_secret())
                .with_context(|| format!("cannot write the key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "Created the personal-data key file.");
            text
        }
    };
    cityops_store::PiiKeys::parse(text.expose_secret())
        .with_context(|| format!("the key file {}", path.display()))
}

/// Writes a new file readable by its owner only (keys), in a directory only its owner may
/// enter when the directory is new, and syncs it: a key acknowledged is a key kept.
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A running server: its address and the task that serves until shutdown.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The app's state, for in-process work that must reach the live stream (the demo city).
    pub state: AppState,
    /// MQTT ingestion, when a broker is configured; ends after the server stops.
    pub mqtt: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Waits until the server has stopped and MQTT ingestion has let go of the broker.
    pub async fn wait(self) -> Result<()> {
        self.task.await??;
        if let Some(mqtt) = self.mqtt {
            mqtt.await?;
        }
        Ok(())
    }
}

/// Binds the listener (port 0 picks one) and serves the API until `shutdown` resolves.
pub async fn start(
    config: &Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Server> {
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let mut api = ApiConfig::new(config.data_dir.clone());
    api.session_hours = config.session_hours;
    api.districts = Arc::new(cityops_geo::Boundaries::from_geojson_in(
        reference::DISTRICTS_GEOJSON,
        reference::DISTRICTS_CRS,
    )?);
    api.geography = Some(reference::shanghai_geography()?);
    anyhow::ensure!(
        config.audit_checkpoint_secs > 0,
        "audit_checkpoint_secs is at least 1"
    );
    let audit_key = audit::signing_key(config)?;
    api.audit_public_key = Some(audit_key.verifying_key());
    api.working_hours =
        cityops_domain::WorkingHours::parse(&config.working_hours).context("working_hours")?;
    api.public_requests_per_minute = config.public_requests_per_minute;
    anyhow::ensure!(
        (1..=365).contains(&config.idempotency_key_days),
        "idempotency_key_days is 1 to 365"
    );
    api.idempotency_key_days = config.idempotency_key_days;
    anyhow::ensure!(
        (1..=cityops_domain::workflow::MAX_CALLBACK_ATTEMPTS).contains(&config.callback_attempts),
        "callback_attempts is 1 to {}",
        cityops_domain::workflow::MAX_CALLBACK_ATTEMPTS
    );
    api.callback_attempts = config.callback_attempts;
    anyhow::ensure!(
        (5..=600).contains(&config.patrol_interval_secs),
        "patrol_interval_secs is 5 to 600"
    );
    api.patrol_interval_secs = config.patrol_interval_secs;
    anyhow::ensure!(
        config.patrol_retention_days >= 1,
        "patrol_retention_days is at least 1"
    );
    config
        .intake_terms
        .validate()
        .map_err(|e| anyhow::anyhow!("intake_terms.{e}"))?;
    api.intake_terms = config.intake_terms;
    anyhow::ensure!(
        config.deadline_warning_share > 0.0 && config.deadline_warning_share <= 1.0,
        "deadline_warning_share is above 0 and at most 1"
    );
    api.deadline_warning_share = config.deadline_warning_share;
    cityops_domain::watch::check_escalation(&config.overdue_escalation)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        config.overdue_watch_secs <= 3600,
        "overdue_watch_secs is 0 (off) to 3600"
    );
    anyhow::ensure!(
        (3..=600).contains(&config.lease_secs),
        "lease_secs is 3 to 600"
    );
    api.jetstream = config.jetstream()?;
    api.duties = cityops_api::duty::DutyConfig {
        lease: std::time::Duration::from_secs(config.lease_secs),
    };
    api.watch = cityops_api::watch::WatchConfig {
        enabled: config.overdue_watch_secs > 0,
        every: std::time::Duration::from_secs(config.overdue_watch_secs.max(1)),
        escalation: config.overdue_escalation.clone(),
    };
    config
        .evaluation
        .validate()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    api.evaluation = config.evaluation.clone();
    api.supervision_term = config
        .supervision_term
        .check("supervision_term")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    api.outbox = config.outbox()?;
    api.settings = config.in_force();
    api.class_seed = reference::class_seed()?;
    api.sign_in_requests_per_minute = config.sign_in_requests_per_minute;
    api.public_reports_per_minute = config.public_reports_per_minute;
    // Behind a load balancer, a node's own counts would give a guesser one budget per node.
    api.shared_limits = cityops_store::is_shared(&config.database_url());
    anyhow::ensure!(
        config.report_challenge_bits <= 32,
        "report_challenge_bits is 0 to 32"
    );
    api.report_challenge_bits = config.report_challenge_bits;
    // Every node with the same audit key accepts the others' challenges.
    api.report_challenge_key = cityops_api::access::ChallengeKey::derived(&audit_key.to_bytes());
    api.secure_cookies = config
        .secure_cookies
        .unwrap_or_else(|| !addr.ip().is_loopback());
    api.public_base_url = match &config.public_base_url {
        Some(url) => cityops_api::public_base_url(url).context("public_base_url")?,
        None => format!("http://{addr}"),
    };
    api.cors_origins = config
        .cors_origins
        .iter()
        .map(|origin| cityops_api::cors_origin(origin).context("cors_origins"))
        .collect::<Result<_>>()?;
    let telemetry = cityops_telemetry::TelemetryHandle::start(
        store.clone(),
        store.clone(),
        config.telemetry()?,
        cityops_telemetry::TelemetryMetrics::default(),
    )
    .await
    .context("cannot start the telemetry pipeline")?;
    anyhow::ensure!(
        config.personal_data_retention_days >= 1,
        "personal_data_retention_days is at least 1"
    );
    evaluation::fill_if_empty(store.as_ref())
        .await
        .context("cannot fill the evaluation's ledger")?;
    let state = AppState::with_telemetry(store.clone(), api, Some(telemetry.clone()));
    audit::spawn_retention(
        &state,
        audit::Retention {
            contact_days: config.personal_data_retention_days,
            patrol_days: config.patrol_retention_days,
        },
    );
    audit::spawn_checkpoints(
        &state,
        audit_key,
        std::time::Duration::from_secs(config.audit_checkpoint_secs),
    );
    let imported = state
        .load_imported_boundaries()
        .await
        .map_err(|e| anyhow::anyhow!("cannot apply the imported boundaries: {}", e.message))?;
    if !imported.is_empty() {
        tracing::info!(levels = ?imported, "Imported boundaries applied.");
    }
    let components = state
        .reload_census()
        .await
        .context("cannot load the component census")?;
    tracing::info!(components, "Component census loaded.");
    let mqtt = match &config.mqtt {
        Some(url) => {
            let mut mqtt =
                cityops_telemetry::mqtt::MqttConfig::from_url(url, &config.mqtt_client_id)
                    .map_err(anyhow::Error::msg)?;
            mqtt.topic_prefix = config.mqtt_topic_prefix.clone();
            if let Some(path) = &config.mqtt_ca_file {
                let tls = mqtt.tls.as_mut().with_context(|| {
                    format!("mqtt_ca_file is set but the broker {url} is not mqtts://")
                })?;
                tls.ca_pem = Some(std::fs::read(path).with_context(|| {
                    format!(
                        "cannot read the broker's certificate authority {}",
                        path.display()
                    )
                })?);
            }
            Some(tokio::spawn(cityops_telemetry::mqtt::run(
                mqtt,
                telemetry,
                state.stopped(),
            )))
        }
        None => None,
    };
    let task = tokio::spawn(cityops_api::serve(listener, state.clone(), shutdown));
    Ok(Server {
        addr,
        task,
        state,
        mqtt,
    })
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("Shutting down: finishing requests in flight.");
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub unit: Option<&'a str>,
    pub scope: &'a str,
}

/// Creates a user after checking the role, unit and scope exist.
pub async fn add_user(store: &dyn Store, user: NewUser<'_>) -> Result<UserRecord> {
    anyhow::ensure!(
        (1..=64).contains(&user.username.chars().count()),
        "a username has 1 to 64 characters"
    );
    anyhow::ensure!(
        !matches!(user.role, Role::System | Role::Citizen),
        "nobody signs in as {}",
        user.role.as_str()
    );
    let scope = AreaCode::parse(user.scope)?;
    anyhow::ensure!(
        store.area(&scope).await?.is_some(),
        "scope {scope} is not a known area; import areas first"
    );
    if let Some(unit) = user.unit {
        anyhow::ensure!(
            store.unit(unit).await?.is_some(),
            "unit {unit} does not exist"
        );
    }
    anyhow::ensure!(
        user.role != Role::UnitHandler || user.unit.is_some(),
        "a unit_handler needs --unit"
    );
    auth::check_password(user.username, user.password)?;
    let password = user.password.to_owned();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let record = UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        username: user.username.to_owned(),
        display_name: user.display_name.to_owned(),
        password_hash: hash,
        role: user.role,
        unit: user.unit.map(str::to_owned),
        scope,
        disabled: false,
        created_at: Utc::now(),
        failed_logins: 0,
        locked_until: None,
        totp: None,
    };
    store.insert_user(&record).await?;
    Ok(record)
}
