//! `cityops`: the one binary. Parses the command line and hands over to the library.

use anyhow::{Context, Result};
use cityops::config::{Config, Overrides};
use cityops::secrets::{PasswordSource, PasswordUse};
use cityops_domain::Role;
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cityops",
    version,
    about = "CityOps: one network to manage the whole city, one screen to see it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads that run CityOps (default: one per core). Ingestion is one connection, one
    /// pipeline and one writer, so a broker or database on the same machine gains more
    /// from a core left to it than CityOps gains from another thread: see
    /// the README.
    #[arg(long, global = true, env = "CITYOPS_WORKERS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    workers: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (loads Shanghai and the standard categories into an empty store).
    Serve(ServeArgs),
    /// Seed a demo city (Shanghai, users for every role, a few hundred cases) and serve it.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// How many demo cases to seed into an empty store.
        #[arg(long, default_value_t = 400)]
        cases: usize,
        /// Seconds between simulated events of the live city (0 stops the simulation).
        #[arg(long, default_value_t = 8)]
        live_every: u64,
        /// Simulated sensors reporting into the vital signs (0: none).
        #[arg(long, default_value_t = 2000)]
        devices: usize,
        /// Seconds between the simulated sensors' readings.
        #[arg(long, default_value_t = 10)]
        readings_every: u64,
        /// Components of the generated census loaded into a store that has none.
        #[arg(long, default_value_t = 100_000)]
        components: usize,
    },
    /// Simulate a city's sensors against a running server: registers the fleet over HTTP,
    /// then reports readings over MQTT (with --mqtt) or HTTP.
    Simulate {
        /// The running server, e.g. http://127.0.0.1:8080
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// An admin's sign-in (devices are registered and readings posted as this user).
        #[arg(long, default_value = "admin")]
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Publish to this broker (mqtt://HOST[:PORT]) instead of posting over HTTP.
        #[arg(long)]
        mqtt: Option<String>,
        /// MQTT QoS, 0 or 1.
        #[arg(long, default_value_t = 1)]
        qos: u8,
        /// Readings per MQTT message (gateway batches); 1 sends one message per reading on
        /// the device's own topic.
        #[arg(long, default_value_t = 50)]
        batch: usize,
        #[arg(long, default_value_t = 2000)]
        devices: usize,
        /// Seconds between rounds of readings.
        #[arg(long, default_value_t = 10)]
        every: u64,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import reference data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// The component census.
    #[command(subcommand)]
    Census(CensusCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Citizens' personal data at rest.
    #[command(subcommand)]
    Pii(PiiCommand),
    /// The outbox of committed case changes and the nodes that read it.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The evaluation's ledger: what every timeline step adds to the standard indicators.
    #[command(subcommand)]
    Evaluation(EvaluationCommand),
    /// The city screen's counts of open cases, kept as cases move.
    #[command(subcommand)]
    Screen(ScreenCommand),
}

#[derive(Subcommand)]
enum ScreenCommand {
    /// Recompute the counts from the case table and replace the kept ones.
    Rebuild {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Compare the kept counts with a recomputation from the case table; exit 1 naming those
    /// that differ.
    Check {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum EvaluationCommand {
    /// Recompute every case's entries from its timeline (the server does so at start when
    /// the ledger is empty and cases exist).
    Rebuild {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Compare every case's stored entries with a recomputation from its timeline; exit 1
    /// naming the cases that differ.
    Check {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// The rows held, and how far each consumer has read and when it last did.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete now the rows every active consumer has seen that are older than the retention
    /// (the server does so every `outbox_prune_secs`).
    Prune {
        #[command(flatten)]
        store: StoreArgs,
        /// Keep rows younger than this many hours (default: `outbox_retention_hours`).
        #[arg(long)]
        older_than_hours: Option<i64>,
    },
    /// Drop a consumer (a node taken out of service) so it no longer holds rows back.
    Forget {
        #[command(flatten)]
        store: StoreArgs,
        /// The consumer's name (the node's `node_name`).
        consumer: String,
    },
}

#[derive(Subcommand)]
enum PiiCommand {
    /// Add a new key to the key file (it seals from now on) and re-seal all stored personal
    /// data with it; older keys stay in the file until you remove them.
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Re-seal with the current key whatever an older key sealed (after adding a key to
    /// `pii_keys` in the configuration).
    Reseal {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole hash chain and the signed checkpoints; exits 1 naming each entry
    /// that was altered, deleted or moved.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// The trusted checkpoint key (Ed25519 public key, hex). Without it, the public half
        /// of the configured key file.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign a checkpoint of the chain's head now and print it (JSON) for anchoring.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum CensusCommand {
    /// Writes a generated census of the generated Shanghai as CSV (the import format of
    /// `PUT /api/v1/components`).
    Generate {
        /// About how many components (Shanghai's census counted 12.02 million).
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Data directory (SQLite database and attachments).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://...
    #[arg(long)]
    database: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "CITYOPS_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long)]
    listen: Option<String>,
    /// Ingest telemetry from this MQTT broker, mqtt://HOST[:PORT].
    #[arg(long)]
    mqtt: Option<String>,
    /// Share the live stream's changes with the other nodes through these NATS servers with
    /// JetStream, nats://HOST[:PORT][,nats://...].
    #[arg(long)]
    nats: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where a command reads a password: asked on the terminal unless an option says otherwise.
/// Never from the command line, which every user of the machine can read.
#[derive(Args, Clone)]
struct PasswordArgs {
    /// Read the password from standard input (one line), e.g. from a secrets manager.
    #[arg(long, conflicts_with = "password_file")]
    password_stdin: bool,
    /// Read the password from FILE (one line), which only its owner may read (chmod 600).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// No longer accepted: see --password-stdin and --password-file.
    #[arg(long, hide = true, value_name = "PASSWORD")]
    password: Option<String>,
}

impl PasswordArgs {
    fn read(&self, usage: PasswordUse, username: &str) -> Result<SecretString> {
        anyhow::ensure!(
            self.password.is_none(),
            "--password is not accepted: a password on the command line is visible to every user of this machine; use --password-stdin, --password-file FILE or the prompt"
        );
        let source = match (&self.password_file, self.password_stdin) {
            (Some(path), _) => PasswordSource::File(path.clone()),
            (None, true) => PasswordSource::Stdin,
            (None, false) => PasswordSource::Prompt,
        };
        cityops::secrets::read_password(&source, usage, username)
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user who signs in with a password.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// inspector, operator, shift_lead, dispatcher, unit_handler, center_leader, evaluator, admin
        #[arg(long)]
        role: String,
        /// The user's unit code (required for unit_handler).
        #[arg(long)]
        unit: Option<String>,
        /// Area code the user acts within (default: the city).
        #[arg(long, default_value = "310000")]
        scope: String,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
    },
    /// Disable a user: sign-in refused, sessions ended.
    Disable(UsernameArgs),
    /// Enable a disabled user again.
    Enable(UsernameArgs),
    /// Set a new password; unlocks the account and ends its sessions.
    Reset {
        #[command(flatten)]
        user: UsernameArgs,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

#[derive(Args, Clone)]
struct UsernameArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    username: String,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import areas from CSV (code,name,parent_code); without --file, Shanghai's shipped tree.
    Areas {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Replace the category catalogue from TOML; without --file, the shipped standard one.
    Categories {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn load(store: &StoreArgs, listen: Option<String>) -> Result<Config> {
    load_with(store, listen, None)
}

fn load_with(store: &StoreArgs, listen: Option<String>, mqtt: Option<String>) -> Result<Config> {
    load_serving(store, listen, mqtt, None)
}

fn load_serving(
    store: &StoreArgs,
    listen: Option<String>,
    mqtt: Option<String>,
    nats: Option<String>,
) -> Result<Config> {
    Config::load(
        store.config.as_deref(),
        Overrides {
            listen,
            data_dir: store.data_dir.clone(),
            database: store.database.clone(),
            mqtt,
            nats,
        },
    )
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CITYOPS_LOG_FILTER")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let cli = Cli::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cli.workers.unwrap_or(cores);
    // Set here, the count overrides tokio's own TOKIO_WORKER_THREADS: CITYOPS_WORKERS is the one.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(start(cli))
}

async fn start(cli: Cli) -> Result<()> {
    // Whatever the command line writes is on record as the person at the terminal; the
    // server's own requests and background work name their actors themselves.
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let context = cityops_store::RequestContext::acting(cityops_domain::audit::AuditActor {
        actor: format!("cli:{operator}"),
        role: "operator".into(),
        scope: String::new(),
        origin: "cli".into(),
    });
    cityops_store::audit::within(context, run(cli)).await
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = load_serving(&args.store, args.listen, args.mqtt, args.nats)?;
            init_tracing(&config.log);
            tracing::info!(config = ?config.redacted(), "Starting CityOps.");
            let store = cityops::open_store(&config).await?;
            if cityops::reference::bootstrap(store.as_ref()).await? {
                tracing::info!(
                    "Loaded the shipped reference data the store lacked (Shanghai's areas, default units, the standard categories, the official holiday schedules)."
                );
            }
            serve(&config, store).await
        }
        Command::Simulate {
            server,
            username,
            password,
            mqtt,
            qos,
            batch,
            devices,
            every,
        } => {
            anyhow::ensure!(qos <= 1, "--qos is 0 or 1");
            anyhow::ensure!(every > 0, "--every is at least 1 second");
            let sink = match mqtt {
                Some(url) => cityops::simulate::Sink::Mqtt { url, qos, batch },
                None => cityops::simulate::Sink::Http,
            };
            let every = std::time::Duration::from_secs(every);
            let password = password.read(PasswordUse::SignIn, &username)?;
            cityops::simulate::run_against(
                &server,
                &username,
                password.expose_secret(),
                sink,
                devices,
                every,
            )
            .await
        }
        Command::Demo {
            serve: args,
            cases,
            live_every,
            devices,
            readings_every,
            components,
        } => {
            let mut config = load_with(&args.store, args.listen, args.mqtt)?;
            if args.store.data_dir.is_none() && std::env::var_os("CITYOPS_DATA_DIR").is_none() {
                config.data_dir = PathBuf::from("cityops-demo");
            }
            init_tracing(&config.log);
            let store = cityops::open_store(&config).await?;
            let seeded = cityops::demo::seed(store.as_ref(), cases).await?;
            if seeded > 0 {
                println!("Seeded {seeded} demo cases across Shanghai's 16 districts.");
            }
            let articles = cityops::demo::seed_knowledge(store.as_ref()).await?;
            if articles > 0 {
                println!("Wrote {articles} articles into the hotline's knowledge base.");
            }
            let geography = cityops::reference::shanghai_geography()?;
            let census = cityops::census::seed(store.as_ref(), &geography, components).await?;
            if census > 0 {
                println!("Loaded a generated census of {census} components.");
            }
            println!(
                "Demo sign-ins (password \"{}\"):",
                cityops::demo::DEMO_PASSWORD
            );
            for (username, name, role, unit, scope) in cityops::demo::DEMO_USERS {
                println!(
                    "  {username:<11} {:<14} scope {scope:<7} {} {name}",
                    role.as_str(),
                    unit.unwrap_or("-")
                );
            }
            let server = cityops::start(&config, store, cityops::shutdown_signal()).await?;
            println!("CityOps listening on http://{}", server.addr);
            if live_every > 0 {
                let state = server.state.clone();
                let every = std::time::Duration::from_secs(live_every);
                tokio::spawn(async move {
                    if let Err(error) = cityops::demo::live_city(state, every).await {
                        tracing::error!(%error, "The live demo city stopped.");
                    }
                });
            }
            if let (true, Some(telemetry)) = (
                devices > 0 && readings_every > 0,
                server.state.telemetry.clone(),
            ) {
                let store = server.state.store.clone();
                let every = std::time::Duration::from_secs(readings_every);
                println!("{devices} simulated sensors report every {readings_every} s.");
                tokio::spawn(async move {
                    if let Err(error) =
                        cityops::simulate::run_in_process(store, telemetry, devices, every).await
                    {
                        tracing::error!(%error, "The simulated sensors stopped.");
                    }
                });
            }
            server.wait().await?;
            Ok(())
        }
        Command::User(UserCommand::Add {
            store,
            username,
            password,
            role,
            unit,
            scope,
            name,
        }) => {
            let config = load(&store, None)?;
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role '{role}': use one of inspector, operator, shift_lead, dispatcher, unit_handler, center_leader, evaluator, admin")
            })?;
            let password = password.read(PasswordUse::New, &username)?;
            let store = cityops::open_store(&config).await?;
            cityops::reference::bootstrap(store.as_ref()).await?;
            let user = cityops::add_user(
                store.as_ref(),
                cityops::NewUser {
                    username: &username,
                    display_name: name.as_deref().unwrap_or(&username),
                    password: password.expose_secret(),
                    role,
                    unit: unit.as_deref(),
                    scope: &scope,
                },
            )
            .await?;
            println!(
                "added user {} ({}) with id {}",
                user.username,
                user.role.as_str(),
                user.id
            );
            Ok(())
        }
        Command::User(UserCommand::Disable(args)) => set_disabled(&args, true).await,
        Command::User(UserCommand::Enable(args)) => set_disabled(&args, false).await,
        Command::User(UserCommand::Reset { user, password }) => {
            let config = load(&user.store, None)?;
            let password = password.read(PasswordUse::New, &user.username)?;
            cityops_api::auth::check_password(&user.username, password.expose_secret())?;
            let store = cityops::open_store(&config).await?;
            let hash = tokio::task::spawn_blocking(move || {
                cityops_api::auth::hash_password(password.expose_secret())
            })
            .await??;
            anyhow::ensure!(
                store.set_password(&user.username, &hash).await?,
                "no user named {}",
                user.username
            );
            println!(
                "reset the password of {}; their sessions are ended",
                user.username
            );
            Ok(())
        }
        Command::Import(ImportCommand::Areas { store, file }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let count = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    cityops::reference::import_areas_csv(store.as_ref(), &text).await?
                }
                None => {
                    let areas = cityops::reference::shanghai_areas()?;
                    store.put_areas(&areas).await?;
                    store
                        .put_units(&cityops_domain::unit::default_units("上海市", &areas))
                        .await?;
                    areas.len()
                }
            };
            println!("imported {count} areas and their default units");
            Ok(())
        }
        Command::Import(ImportCommand::Categories { store, file }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let catalog = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    cityops_domain::CategoryCatalog::parse_toml(&text)?
                }
                None => cityops_domain::CategoryCatalog::shipped(),
            };
            store.put_catalog(&catalog).await?;
            println!(
                "imported category catalogue {} ({} small classes)",
                catalog.version,
                catalog.small.len()
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { store, public_key }) => {
            let config = load(&store, None)?;
            let trusted = match public_key {
                Some(hex) => Some(
                    cityops_domain::audit::verifying_key_from_hex(&hex)
                        .map_err(anyhow::Error::msg)
                        .context("--public-key")?,
                ),
                None if config.audit_key.is_some() => {
                    Some(cityops::audit::signing_key(&config)?.verifying_key())
                }
                None => {
                    config.settle_keys()?;
                    let path = config.audit_key_path();
                    match cityops::secrets::read_key_file(&path)? {
                        Some(text) => Some(
                            cityops_domain::audit::signing_key_from_hex(text.expose_secret())
                                .map_err(anyhow::Error::msg)?
                                .verifying_key(),
                        ),
                        None => {
                            eprintln!(
                                "no key at {}: checkpoint signatures are not checked",
                                path.display()
                            );
                            None
                        }
                    }
                }
            };
            let store = cityops::open_store(&config).await?;
            let report = cityops_store::audit::verify_log(store.as_ref(), trusted.as_ref()).await?;
            println!(
                "{} entries, head at entry {}, {} checkpoints{}",
                report.entries,
                report.head.seq,
                report.checkpoints,
                if report.signatures_checked {
                    " (signatures checked)"
                } else {
                    " (signatures not checked)"
                }
            );
            for finding in &report.findings {
                println!("TAMPERED: {finding}");
            }
            anyhow::ensure!(
                report.intact(),
                "the audit log is not intact: {} finding(s)",
                report.findings.len()
            );
            println!("the audit log is intact");
            Ok(())
        }
        Command::Pii(PiiCommand::Rotate { store }) => {
            let config = load(&store, None)?;
            anyhow::ensure!(
                config.pii_keys.is_none(),
                "the keys come from the configuration (pii_keys): add a new key as the last one there, then run cityops pii reseal"
            );
            let current = cityops::pii_keys(&config)?;
            let path = config.pii_key_path();
            let text = cityops::secrets::read_key_file(&path)?
                .with_context(|| format!("no key file at {}", path.display()))?;
            let text = text.expose_secret();
            let id = (2..)
                .map(|n| format!("k{n}"))
                .find(|id| {
                    let candidate = SecretString::from(format!(
                        "{text}\n{}",
                        cityops_store::PiiKeys::new_key_line(id)
                    ));
                    cityops_store::PiiKeys::parse(candidate.expose_secret()).is_ok()
                })
                .context("no free key id")?;
            let rotated = SecretString::from(format!(
                "{}\n{}\n",
                text.trim_end(),
                cityops_store::PiiKeys::new_key_line(&id)
            ));
            // Written beside and renamed over, so a crash leaves the old file or the new one.
            let staged = path.with_extension("keys.new");
            let _ = std::fs::remove_file(&staged);
            cityops::write_private(&staged, rotated.expose_secret())?;
            std::fs::rename(&staged, &path)?;
            println!(
                "key {id} added after {}; it seals from now on",
                current.current_id()
            );
            let store = cityops::open_store(&config).await?;
            let changed = store.reseal_personal_data().await?;
            println!("{changed} stored rows re-sealed with key {id}");
            Ok(())
        }
        Command::Pii(PiiCommand::Reseal { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let changed = store.reseal_personal_data().await?;
            println!("{changed} stored rows re-sealed with the current key");
            Ok(())
        }
        Command::Audit(AuditCommand::Checkpoint { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let key = cityops::audit::signing_key(&config)?;
            match cityops::audit::checkpoint(store.as_ref(), &key).await? {
                Some(checkpoint) => println!("{}", serde_json::to_string(&checkpoint)?),
                None => println!(
                    "{}",
                    serde_json::to_string(&store.checkpoints().await?.last())?
                ),
            }
            Ok(())
        }
        Command::Outbox(OutboxCommand::Status { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let status = store.outbox_status().await?;
            println!(
                "{} rows (ids {} to {}), oldest {}; retention {} h",
                status.rows,
                status.first_id.map_or("-".into(), |id| id.to_string()),
                status.last_id.map_or("-".into(), |id| id.to_string()),
                status.oldest.map_or("-".into(), |at| at.to_rfc3339()),
                config.outbox_retention_hours
            );
            for consumer in &status.consumers {
                println!(
                    "consumer {}: seen up to {}, last read {}",
                    consumer.name,
                    consumer.last_seen,
                    consumer.updated_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::Outbox(OutboxCommand::Prune {
            store,
            older_than_hours,
        }) => {
            let config = load(&store, None)?;
            let outbox = config.outbox()?;
            let keep = older_than_hours.unwrap_or(config.outbox_retention_hours);
            anyhow::ensure!(keep >= 0, "--older-than-hours is 0 or more");
            let store = cityops::open_store(&config).await?;
            let now = chrono::Utc::now();
            // A consumer counts while it has read within the configured window, whatever
            // --older-than-hours says: a short one must not drop the running nodes.
            let active_since = now - cityops_api::outbox::active_window(&outbox);
            let before = now - chrono::Duration::hours(keep);
            let deleted = store.outbox_prune(before, active_since).await?;
            println!("{deleted} outbox rows pruned");
            Ok(())
        }
        Command::Evaluation(EvaluationCommand::Rebuild { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let (cases, entries) = cityops::evaluation::rebuild(store.as_ref()).await?;
            println!(
                "evaluation ledger rebuilt: {cases} cases, {entries} entries, and its daily sums"
            );
            Ok(())
        }
        Command::Screen(ScreenCommand::Rebuild { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let counts = cityops::screen::rebuild(store.as_ref()).await?;
            println!("the screen's counts of open cases rebuilt: {counts} counts");
            Ok(())
        }
        Command::Screen(ScreenCommand::Check { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let differ = cityops::screen::check(store.as_ref()).await?;
            anyhow::ensure!(
                differ.is_empty(),
                "{} of the screen's counts differ from the case table's (run `cityops screen rebuild`): {}",
                differ.len(),
                differ.iter().take(20).cloned().collect::<Vec<_>>().join("; ")
            );
            println!("the screen's counts of open cases match the case table");
            Ok(())
        }
        Command::Evaluation(EvaluationCommand::Check { store }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            let differ = cityops::evaluation::check(store.as_ref()).await?;
            anyhow::ensure!(
                differ.is_empty(),
                "{} cases' ledger differs from their timeline: {}",
                differ.len(),
                differ.join(", ")
            );
            let daily = cityops::evaluation::check_daily(store.as_ref()).await?;
            anyhow::ensure!(
                daily.is_empty(),
                "{} daily sums differ from the ledger's (run `cityops evaluation rebuild`): {}",
                daily.len(),
                daily
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            println!("evaluation ledger matches every timeline, and the daily sums the ledger");
            Ok(())
        }
        Command::Outbox(OutboxCommand::Forget { store, consumer }) => {
            let config = load(&store, None)?;
            let store = cityops::open_store(&config).await?;
            anyhow::ensure!(
                store.outbox_forget(&consumer).await?,
                "no outbox consumer named {consumer}"
            );
            println!("outbox consumer {consumer} forgotten");
            Ok(())
        }
        Command::Census(CensusCommand::Generate { count, out }) => {
            let geography = cityops::reference::shanghai_geography()?;
            let points = cityops_geo::census::generate_census(
                &geography,
                cityops::census::CENSUS_SEED,
                count,
            );
            let components = cityops::census::components_from(
                &geography,
                &cityops_domain::CategoryCatalog::shipped(),
                &points,
            );
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
            writer.write_record(cityops_domain::component::COMPONENT_CSV_COLUMNS)?;
            cityops_domain::component::write_components_csv(&mut writer, &components)?;
            writer.flush()?;
            println!("wrote {} components to {}", components.len(), out.display());
            Ok(())
        }
    }
}

async fn set_disabled(args: &UsernameArgs, disabled: bool) -> Result<()> {
    let config = load(&args.store, None)?;
    let store = cityops::open_store(&config).await?;
    anyhow::ensure!(
        store.set_user_disabled(&args.username, disabled).await?,
        "no user named {}",
        args.username
    );
    let what = if disabled {
        "disabled; their sessions are ended"
    } else {
        "enabled"
    };
    println!("{} is {what}", args.username);
    Ok(())
}

async fn serve(config: &Config, store: std::sync::Arc<dyn cityops_store::Store>) -> Result<()> {
    let server = cityops::start(config, store, cityops::shutdown_signal()).await?;
    println!("CityOps listening on http://{}", server.addr);
    server.wait().await?;
    Ok(())
}
