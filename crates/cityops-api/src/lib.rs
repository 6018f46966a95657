//! The HTTP API of CityOps (axum). Handlers parse the request, hand a command to the domain
//! and the store, and return a view. Every HTTP concern lives here and nowhere else: the
//! domain and the store never see a request, a status code or a wire type.

use axum::Router;
use chrono::{DateTime, Utc};
use cityops_domain::{Case, CommandKind};
use cityops_geo::Boundaries;
use cityops_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::broadcast;

pub mod access;
pub mod auth;
pub mod cap;
pub mod classes;
pub mod duty;
pub use jetstream::{nats_server, JetStreamConfig};
pub mod error;
mod export;
pub mod extract;
mod incident_map;
mod jetstream;
mod metrics;
pub mod open_cases;
pub mod openapi;
pub mod outbox;
pub mod photo;
pub mod relocation;
mod routes;
pub mod security;
mod server;
pub mod views;
pub mod watch;
pub mod wire;
mod xlsx;

pub use metrics::Metrics;
pub use routes::settings::{Setting, SettingSource};
pub use server::{cors_origin, public_base_url, serve, BadCorsOrigin, BadPublicBaseUrl};

/// Limits and settings of the API, set by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where attachments are stored.
    pub data_dir: PathBuf,
    pub session_hours: i64,
    /// The wait failed sign-ins impose on the (account, address) that failed them.
    pub sign_in_backoff: access::Backoff,
    /// Refused sign-ins within an hour, of one account or from one address, that raise an
    /// alert (and each doubling of them another).
    pub sign_in_alert_after: u32,
    pub max_json_bytes: usize,
    pub max_upload_bytes: usize,
    /// District boundaries at start: the map layer, and where a citizen's point is located.
    pub districts: Arc<Boundaries>,
    /// Streets, communities and unit grids with their locating index at start, when loaded.
    pub geography: Option<Arc<cityops_geo::Geography>>,
    /// The key audit checkpoints are signed with, trusted when the log is verified.
    pub audit_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// Requests a minute one address may make to read the citizen channel and, anonymously,
    /// the public standards (areas, categories, maps, the workflow, OGC).
    pub public_requests_per_minute: u32,
    /// Sign-in attempts a minute from one address: a budget of its own, so a flood of
    /// anything else from an address never keeps its staff from signing in.
    pub sign_in_requests_per_minute: u32,
    /// Citizens' reports and photos a minute from one address.
    pub public_reports_per_minute: u32,
    /// Whether the sign-in throttle, the used report challenges and the per-address budgets
    /// are counted in the database,
    /// so that they hold across every node sharing it (PostgreSQL), rather than in this
    /// process (the embedded single-node mode).
    pub shared_limits: bool,
    /// Leading zero bits of the proof of work an anonymous report carries.
    pub report_challenge_bits: u8,
    /// What report challenges are signed with.
    pub report_challenge_key: access::ChallengeKey,
    /// Origins allowed to call the API from a browser; none by default (same origin only).
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Session cookies only over HTTPS (`Secure`); off for a demo on a loopback address.
    pub secure_cookies: bool,
    /// Where clients reach this API (`https://host[/path]`, no trailing slash): the start of
    /// every absolute link in an answer, never taken from a request's `Host` header.
    pub public_base_url: String,
    /// The outbox relay that feeds the live stream: this node's name, retention, pruning.
    pub outbox: outbox::OutboxConfig,
    /// The working hours of the city's working calendar.
    pub working_hours: cityops_domain::WorkingHours,
    /// Days an `Idempotency-Key` of a case report is remembered.
    pub idempotency_key_days: i64,
    /// Failed call-back attempts before a hotline case closes as unreachable.
    pub callback_attempts: u32,
    /// Seconds between two positions of an inspector's phone on patrol.
    pub patrol_interval_secs: u32,
    /// The city's terms of accepting, verifying, filing and closing a case.
    pub intake_terms: cityops_domain::IntakeTerms,
    /// The share of a stage's term used at which its case turns yellow (临期), 0 to 1.
    pub deadline_warning_share: f64,
    /// The overdue watch: whether this process takes part, how often, its lease, and the
    /// escalation policy.
    pub watch: watch::WatchConfig,
    /// How long a node's hold on a duty lasts unless renewed.
    pub duties: duty::DutyConfig,
    /// NATS JetStream, when several nodes share the live stream's changes through it; none
    /// relays the outbox from the database on every node.
    pub jetstream: Option<JetStreamConfig>,
    /// The reply term of a supervision notice whose leader sets none.
    pub supervision_term: cityops_domain::Term,
    /// The evaluation's weights, bands, grade cut-offs and longest period.
    pub evaluation: cityops_domain::evaluation::EvaluationConfig,
    /// The configuration in force as the binary resolved it, secrets redacted, for
    /// `GET /settings`.
    pub settings: Vec<routes::settings::Setting>,
    /// Where class suggestions start, before the city's own filings (the binary trains it on
    /// the labelled reports shipped with CityOps).
    pub class_seed: Arc<classes::ClassSeed>,
}

impl ApiConfig {
    pub fn new(data_dir: PathBuf) -> ApiConfig {
        ApiConfig {
            data_dir,
            session_hours: 12,
            sign_in_backoff: access::Backoff {
                free: 3,
                base: std::time::Duration::from_secs(2),
                cap: std::time::Duration::from_secs(900),
            },
            sign_in_alert_after: 20,
            max_json_bytes: 256 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            districts: Arc::new(Boundaries::default()),
            geography: None,
            audit_public_key: None,
            public_requests_per_minute: 120,
            sign_in_requests_per_minute: 30,
            public_reports_per_minute: 10,
            shared_limits: false,
            report_challenge_bits: 16,
            report_challenge_key: access::ChallengeKey::random(),
            cors_origins: Vec::new(),
            secure_cookies: true,
            public_base_url: "http://localhost".to_owned(),
            outbox: outbox::OutboxConfig::default(),
            working_hours: cityops_domain::WorkingHours::default(),
            idempotency_key_days: 7,
            callback_attempts: cityops_domain::workflow::DEFAULT_CALLBACK_ATTEMPTS,
            patrol_interval_secs: 30,
            intake_terms: cityops_domain::IntakeTerms::default(),
            deadline_warning_share: cityops_domain::workflow::DEFAULT_WARNING_SHARE,
            watch: watch::WatchConfig::default(),
            duties: duty::DutyConfig::default(),
            jetstream: None,
            supervision_term: cityops_domain::Term {
                amount: 1,
                unit: cityops_domain::TermUnit::WorkingDays,
            },
            evaluation: cityops_domain::evaluation::EvaluationConfig::default(),
            settings: Vec::new(),
            class_seed: Arc::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    /// Serialises catalogue edits: read-modify-write of the one catalogue document.
    pub catalog_lock: Arc<tokio::sync::Mutex<()>>,
    /// Serialises calendar imports on this node: each checks its year against the stored
    /// neighbours before writing.
    pub calendar_lock: Arc<tokio::sync::Mutex<()>>,
    /// The working calendar stage deadlines are reckoned on, and when it was read: read again
    /// after an import on this node, and when a minute old (another node may have imported
    /// a year).
    calendar: Arc<std::sync::RwLock<Option<CalendarRead>>>,
    /// Committed case changes, for the live stream, as the outbox relay reads them: every
    /// node's changes, and the command line's.
    pub changes: broadcast::Sender<CaseChange>,
    /// Warnings and incidents as they change on this node, for the live stream.
    pub emergencies: broadcast::Sender<routes::emergencies::EmergencyChange>,
    /// Wakes the outbox relay after a case change commits.
    outbox: Arc<outbox::Wake>,
    /// The vital-signs pipeline, when this node runs one.
    pub telemetry: Option<cityops_telemetry::TelemetryHandle>,
    /// Turns true when the server shuts down: long-lived responses (the live stream) end so
    /// a graceful shutdown does not wait for them forever.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// The nearest-component index over the census, replaced whole after an import so a
    /// query never sees half of one.
    census: Arc<std::sync::RwLock<Arc<cityops_geo::census::ComponentIndex>>>,
    /// District boundaries and the finer geography, replaced whole when a city imports its
    /// own boundaries; starts as the configuration's.
    geometry: Arc<std::sync::RwLock<CityGeometry>>,
    pub(crate) public_limits: security::PublicLimits,
    /// Re-locations after boundary imports this node ran.
    pub(crate) relocations: relocation::Relocations,
    pub(crate) sign_in_throttle: Arc<access::SignInThrottle>,
    pub(crate) challenges: Arc<access::Challenges>,
    /// `GET /workflow`'s answer, built once: it depends on nothing but the code.
    pub(crate) workflow_document: Arc<std::sync::OnceLock<axum::body::Bytes>>,
    /// Class suggestions' model: the shipped examples at once, the stored filings soon after
    /// start, and every filing since (see [`classes`]).
    classes: Arc<std::sync::RwLock<Arc<cityops_domain::classify::ClassModel>>>,
    /// The open cases of the last two weeks by their points, for likely duplicates (see
    /// [`open_cases`]).
    pub(crate) open_cases: Arc<open_cases::OpenCases>,
    /// The background jobs one node runs at a time: which this node holds.
    pub duties: Arc<duty::Duties>,
}

/// The working calendar as read, and when.
type CalendarRead = (std::time::Instant, Arc<cityops_domain::WorkingCalendar>);

/// The city's areas in space, as served and located against.
#[derive(Clone)]
pub struct CityGeometry {
    pub districts: Arc<Boundaries>,
    pub geography: Option<Arc<cityops_geo::Geography>>,
}

/// A committed change of a case, as the live stream publishes it.
#[derive(Debug, Clone)]
pub struct CaseChange {
    /// The outbox row's id: the database's order of changes, the same on every node (the
    /// live stream's event id, which a reconnecting subscriber resumes after).
    pub seq: i64,
    pub case: Arc<Case>,
    pub action: CommandKind,
    pub at: DateTime<Utc>,
}

impl AppState {
    /// The city's working calendar: its working hours and every stored year's schedule.
    pub async fn working_calendar(
        &self,
    ) -> Result<Arc<cityops_domain::WorkingCalendar>, cityops_store::StoreError> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(60);
        if let Some((read, calendar)) = self
            .calendar
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            if read.elapsed() < FRESH {
                return Ok(calendar.clone());
            }
        }
        let calendar = Arc::new(cityops_domain::WorkingCalendar::new(
            self.config.working_hours.clone(),
            self.store.holiday_years().await?,
        ));
        *self
            .calendar
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), calendar.clone()));
        Ok(calendar)
    }

    /// The clock commands are decided on at `now`: the city's calendar and intake terms.
    pub fn clock<'a>(
        &self,
        now: DateTime<Utc>,
        calendar: &'a cityops_domain::WorkingCalendar,
    ) -> cityops_domain::Clock<'a> {
        cityops_domain::Clock::new(now, calendar)
            .with_intake(self.config.intake_terms)
            .with_warning_share(self.config.deadline_warning_share)
    }

    /// Reads the calendar again at its next use: a year was imported.
    pub fn forget_calendar(&self) {
        *self
            .calendar
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> AppState {
        AppState::with_telemetry(store, config, None)
    }

    /// The state of a node that also runs the vital-signs pipeline: its metrics join the
    /// registry, and cases its alarms open or note reach the live stream.
    pub fn with_telemetry(
        store: Arc<dyn Store>,
        config: ApiConfig,
        telemetry: Option<cityops_telemetry::TelemetryHandle>,
    ) -> AppState {
        let metrics = Metrics::with(|registry| {
            if let Some(telemetry) = &telemetry {
                telemetry.metrics.register(registry);
            }
        });
        let geometry = CityGeometry {
            districts: config.districts.clone(),
            geography: config.geography.clone(),
        };
        let duties = Arc::new(duty::Duties::new(&config.outbox.node_name));
        metrics
            .node
            .get_or_create(&metrics::NodeLabels {
                holder: duties.holder().to_owned(),
            })
            .set(1);
        let shared_limits: Option<Arc<dyn cityops_store::LimitStore>> = config
            .shared_limits
            .then(|| store.clone() as Arc<dyn cityops_store::LimitStore>);
        let state = AppState {
            duties,
            public_limits: security::PublicLimits::new(&config, shared_limits.clone()),
            sign_in_throttle: Arc::new(access::SignInThrottle::new(
                config.sign_in_backoff,
                config.sign_in_alert_after,
                shared_limits.clone(),
            )),
            challenges: Arc::new(access::Challenges::new(
                &config.report_challenge_key,
                config.report_challenge_bits,
                shared_limits,
            )),
            workflow_document: Arc::default(),
            classes: Arc::new(std::sync::RwLock::new(config.class_seed.model.clone())),
            open_cases: Arc::default(),
            store,
            config: Arc::new(config),
            metrics: Arc::new(metrics),
            catalog_lock: Arc::new(tokio::sync::Mutex::new(())),
            calendar_lock: Arc::new(tokio::sync::Mutex::new(())),
            calendar: Arc::default(),
            // A slow subscriber skips ahead (it is told how many it missed) rather than
            // holding memory for everyone.
            changes: broadcast::channel(1024).0,
            emergencies: broadcast::channel(256).0,
            outbox: Arc::default(),
            telemetry,
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
            census: Arc::default(),
            geometry: Arc::new(std::sync::RwLock::new(geometry)),
            relocations: relocation::Relocations::default(),
        };
        duty::spawn_keeper(state.clone());
        outbox::spawn(state.clone(), state.outbox.clone());
        watch::spawn(state.clone());
        routes::emergencies::spawn(state.clone());
        routes::emergencies::spawn_linker(state.clone());
        classes::spawn(state.clone());
        open_cases::spawn(state.clone());
        if let Some(telemetry) = &state.telemetry {
            let (raw, minutes) = telemetry.retention();
            let pruner = state.clone();
            duty::run_every(
                &state,
                duty::Duty::ReadingsPruning,
                std::time::Duration::from_secs(600),
                false,
                move || {
                    let store = pruner.store.clone();
                    async move {
                        let now = chrono::Utc::now();
                        match store.prune_telemetry(now - raw, now - minutes).await {
                            Ok(0) => {}
                            Ok(readings) => tracing::info!(
                                readings,
                                "Pruned raw readings past the retention window."
                            ),
                            Err(error) => tracing::warn!(
                                %error,
                                "Pruning readings failed; trying again later."
                            ),
                        }
                    }
                },
            );
            let mut events = telemetry.subscribe();
            let relay = state.clone();
            tokio::spawn(async move {
                loop {
                    match events.recv().await {
                        // The case desk committed the change (and its outbox row).
                        Ok(cityops_telemetry::TelemetryEvent::Case(..)) => relay.outbox_written(),
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        state
    }

    /// Class suggestions' model as it stands.
    /// How many open cases this node's index of open cases holds (likely duplicates are
    /// read from it); `None` while it is filled.
    pub fn open_cases_indexed(&self) -> Option<usize> {
        self.open_cases.held()
    }

    pub fn class_model(&self) -> Arc<cityops_domain::classify::ClassModel> {
        self.classes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The `limit` small classes among those `allowed` that `text` most likely belongs to.
    pub fn suggest_classes(
        &self,
        text: &str,
        allowed: impl Fn(&cityops_domain::CategoryCode) -> bool,
        limit: usize,
    ) -> Vec<cityops_domain::classify::Suggestion> {
        self.class_model().suggest(text, allowed, limit)
    }

    /// District boundaries as they stand.
    pub fn districts(&self) -> Arc<Boundaries> {
        self.geometry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .districts
            .clone()
    }

    /// Streets, communities and unit grids with their index, when loaded.
    pub fn geography(&self) -> Option<Arc<cityops_geo::Geography>> {
        self.geometry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .geography
            .clone()
    }

    /// The whole geometry, for a change that replaces part of it.
    pub fn geometry(&self) -> CityGeometry {
        self.geometry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn replace_geometry(&self, geometry: CityGeometry) {
        *self
            .geometry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = geometry;
    }

    /// Applies the boundaries a city imported (they replace the generated ones); returns
    /// the levels applied.
    pub async fn load_imported_boundaries(
        &self,
    ) -> Result<Vec<&'static str>, crate::error::ApiError> {
        crate::routes::boundaries::load(self).await
    }

    /// The nearest-component index as it stands.
    pub fn census(&self) -> Arc<cityops_geo::census::ComponentIndex> {
        self.census
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Rebuilds the nearest-component index from the store; returns how many it holds.
    pub async fn reload_census(&self) -> Result<usize, cityops_store::StoreError> {
        let points = self.store.component_points().await?;
        let index = tokio::task::spawn_blocking(move || {
            let mut classes: Vec<String> = Vec::new();
            let mut class_of: std::collections::HashMap<String, usize> = Default::default();
            let mut numbered = Vec::with_capacity(points.len());
            for p in points {
                let Ok(id) = p.id.parse::<u64>() else {
                    continue;
                };
                let class = *class_of.entry(p.class).or_insert_with_key(|class| {
                    classes.push(class.clone());
                    classes.len() - 1
                });
                numbered.push(cityops_geo::census::CensusPoint {
                    id,
                    class: class as u16,
                    lon: p.lon,
                    lat: p.lat,
                    grid: u32::MAX,
                });
            }
            cityops_geo::census::ComponentIndex::build(&classes, numbered)
        })
        .await
        .map_err(|e| cityops_store::StoreError::Corrupt(e.to_string()))?;
        let len = index.len();
        *self
            .census
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(index);
        Ok(len)
    }

    /// Ends the live streams; call when shutdown begins.
    pub fn begin_shutdown(&self) {
        let _ = self.stopping.send(true);
    }

    /// Resolves once shutdown has begun.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.subscribe();
        async move {
            // The sender lives in the state, so this only ends with a real shutdown.
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    }

    /// Wakes the outbox relay: call after committing a case change, so live subscribers
    /// hear of it at once rather than at the relay's next poll.
    pub fn outbox_written(&self) {
        self.outbox.written();
    }
}

/// The whole HTTP surface: `/api/v1/...`, `/healthz`, `/readyz`, `/metrics`.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}
