//! `cityops-bench`: the benchmarks of CityOps, beside the product. Each measures the product
//! (the `cityops` library, wired as the `cityops` binary wires it) against a reference run on
//! the same machine in the same run; docs/BENCHMARKS.md keeps the figures.

mod cases;
mod classify;
mod duplicate_search;
mod duplicates;
mod evaluation;
mod export;
mod geo;
mod nodes;
mod screen;
mod storage;
mod storm;
mod telemetry;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cityops-bench",
    version,
    about = "The benchmarks of CityOps: the product against a reference, in the same run."
)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
    /// Threads that run CityOps (default: one per core; `telemetry` leaves one core to its
    /// broker unless told).
    #[arg(long, global = true, env = "CITYOPS_WORKERS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    workers: Option<usize>,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Point -> unit grid on the generated Shanghai, against shapely's STRtree (and PostGIS).
    Geo {
        /// Random points in the city's bounding box.
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// Points shapely looks up one at a time (it is slow).
        #[arg(long, default_value_t = 20_000)]
        shapely_single: usize,
        /// The shapely reference's script (relative to the working directory: run from the
        /// repository's root, as `cargo run` does, or name it).
        #[arg(long, default_value = "scripts/bench_geo_shapely.py")]
        shapely_script: PathBuf,
        /// A PostgreSQL server with PostGIS to compare against (scratch database).
        #[arg(long)]
        postgis: Option<String>,
        /// Points PostGIS looks up one query at a time.
        #[arg(long, default_value_t = 5_000)]
        postgis_single: usize,
    },
    /// The nearest-component index over a generated census, against a brute-force scan.
    Census {
        /// Components in the generated census (Shanghai counted 12.02 million).
        #[arg(long, default_value_t = 12_000_000)]
        components: usize,
        /// Nearest queries to time.
        #[arg(long, default_value_t = 1_000_000)]
        queries: usize,
    },
    /// Case creation and lifecycle through the store vs. plain SQL inserts.
    Cases {
        /// PostgreSQL server to benchmark (scratch databases are created and dropped);
        /// SQLite in a temporary directory when absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 5000)]
        cases: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// What authorization and the audit log cost: case creation and listing secured and
    /// unsecured on the same store.
    Security {
        /// PostgreSQL server to benchmark on (a scratch database); SQLite when absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 10000)]
        cases: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Peak memory of exporting the whole census over HTTP (streamed), against building the
    /// whole document in memory as the exports did before.
    Export {
        /// Components in the generated census (Shanghai counted 12.02 million).
        #[arg(long, default_value_t = 12_000_000)]
        components: usize,
        /// Components the in-memory reference builds its documents of (then extrapolated).
        #[arg(long, default_value_t = 1_000_000)]
        in_memory: usize,
        /// Keep the loaded census here between runs (SQLite); a temporary directory when
        /// absent.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// The full evaluation of every district, street and unit for a month and a year, from
    /// the monthly and daily sums, against plain SQL GROUP BY over a table of the cases' stage
    /// times.
    Evaluation {
        /// PostgreSQL server to measure on (a scratch database); SQLite when absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 10_000_000)]
        cases: usize,
        /// Timed runs of the product per period (the reference runs a twentieth as many, at
        /// least 3).
        #[arg(long, default_value_t = 100)]
        runs: usize,
    },
    /// The city screen's numbers (`GET /stats`) for the city, a district, a street and a unit
    /// handler, from the kept counts of open cases, against plain SQL GROUP BY over the case
    /// table.
    Screen {
        /// PostgreSQL server to measure on (a scratch database); SQLite when absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 10_000_000)]
        cases: usize,
        /// Timed runs of the product per screen (the reference runs a tenth as many, at
        /// least 3).
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Likely duplicates on the labelled pairs: precision and recall of the product's
    /// likeness around its threshold, against "the same class within 100 m in three days".
    Duplicates {
        /// The labelled pairs (relative to the working directory: run from the repository's
        /// root, or name it).
        #[arg(long, default_value = "data/duplicates/pairs.csv")]
        pairs: String,
    },
    /// The search for likely duplicates among a city's open cases (the server's point index
    /// of open cases, then the likeness of those within 300 m), against the likeness of
    /// every open case.
    DuplicateSearch {
        #[arg(long, default_value_t = 1_000_000)]
        open: usize,
        #[arg(long, default_value_t = 20_000)]
        queries: usize,
        /// Reports the full scan answers too (each reads every open case).
        #[arg(long, default_value_t = 200)]
        reference_queries: usize,
    },
    /// Class suggestions on the shipped labelled reports: top-1 and top-3 accuracy on the
    /// held-out fifth and texts a second on one core, against a keyword table.
    Classify,
    /// Bytes stored per case, per table, before and after the outbox is pruned.
    Storage {
        /// PostgreSQL server to measure on (a scratch database); SQLite when absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// A rainstorm on the city screen: alarms a second from the gauges of three districts,
    /// with an incident auto-linking them, against the same storm without one.
    Storm {
        /// Alarms raised per second (each gauge also clears in turn: twice as many readings).
        #[arg(long, default_value_t = 2000)]
        rate: usize,
        /// Seconds each storm lasts.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Water gauges in the three districts.
        #[arg(long, default_value_t = 20_000)]
        devices: usize,
        /// The broker; without it a private mosquitto is started.
        #[arg(long)]
        mqtt: Option<String>,
        /// Run on PostgreSQL (a scratch database on this server) instead of SQLite.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Case intake through 1, 2 and 3 nodes on PostgreSQL and NATS JetStream, every node
    /// streaming every change, against JetStream's own publish and consume ceiling.
    Nodes {
        /// The PostgreSQL server (scratch databases are created and dropped).
        #[arg(long)]
        postgres: String,
        /// Seconds of intake per run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Clients reporting cases at once, spread over the nodes.
        #[arg(long, default_value_t = 12)]
        concurrency: usize,
    },
    /// The rule engine in process over a city-sized fleet, and readings end to end through an
    /// MQTT broker against the broker's own ceiling.
    Telemetry {
        #[arg(long, default_value_t = 1_000_000)]
        devices: usize,
        /// Readings the engine judges in part (a).
        #[arg(long, default_value_t = 20_000_000)]
        readings: usize,
        /// Broker for part (b), e.g. mqtt://127.0.0.1:1883, configured as the README
        /// says (max_queued_messages 0); without it part (b) starts a private mosquitto so.
        #[arg(long)]
        mqtt: Option<String>,
        /// Skip part (b).
        #[arg(long)]
        engine_only: bool,
        /// Run part (b) on PostgreSQL (a scratch database on this server) instead of SQLite.
        #[arg(long)]
        postgres: Option<String>,
        /// Messages per end-to-end run: at about 100,000 a second, shorter runs than the
        /// default measure the machine's hiccups as much as the software.
        #[arg(long, default_value_t = 300_000)]
        messages: usize,
    },
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
    let workers = match (cli.workers, &cli.command) {
        (Some(n), _) => n,
        // The broker under test runs on this machine; the reference run shares this
        // runtime too, so both are measured alike.
        (None, BenchCommand::Telemetry { .. } | BenchCommand::Storm { .. }) => {
            cores.saturating_sub(1).max(1)
        }
        (None, _) => cores,
    }
    .max(1);
    // Set here, the count overrides tokio's own TOKIO_WORKER_THREADS: CITYOPS_WORKERS is the one.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(start(cli.command, workers, cores))
}

async fn start(command: BenchCommand, workers: usize, cores: usize) -> Result<()> {
    // The bench's own writes are on record as the person at the terminal, as the `cityops`
    // command line's are.
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let context = cityops_store::RequestContext::acting(cityops_domain::audit::AuditActor {
        actor: format!("cli:{operator}"),
        role: "operator".into(),
        scope: String::new(),
        origin: "cli".into(),
    });
    cityops_store::audit::within(context, run(command, workers, cores)).await
}

async fn run(command: BenchCommand, workers: usize, cores: usize) -> Result<()> {
    match command {
        BenchCommand::Telemetry {
            devices,
            readings,
            mqtt,
            engine_only,
            postgres,
            messages,
        } => {
            anyhow::ensure!(
                devices > 0 && readings > 0,
                "--devices and --readings are above 0"
            );
            // Warnings of the server under test (a failed commit, an unacknowledged message)
            // explain a bad figure.
            init_tracing("warn");
            let engine =
                tokio::task::spawn_blocking(move || telemetry::bench_engine(devices, readings))
                    .await??;
            println!("{engine}");
            if !engine_only {
                let (url, _broker) = match mqtt {
                    Some(url) => (url, None),
                    None => {
                        let broker = cityops_test_support::mqtt::PrivateBroker::start()?;
                        println!(
                            "(b) against a private mosquitto on port {} with:\n{}",
                            broker.port,
                            cityops_test_support::mqtt::SETTINGS
                        );
                        (broker.url(), Some(broker))
                    }
                };
                println!(
                    "CityOps, its publisher and the reference subscriber run on {workers} worker thread(s) of {cores} core(s) (--workers)"
                );
                println!(
                    "{}",
                    telemetry::bench_end_to_end(&url, messages, postgres.as_deref()).await?
                );
            }
            Ok(())
        }
        BenchCommand::Nodes {
            postgres,
            seconds,
            concurrency,
        } => {
            anyhow::ensure!(
                seconds > 0 && concurrency > 0,
                "--seconds and --concurrency above 0"
            );
            init_tracing("warn");
            println!(
                "{}",
                nodes::bench_nodes(&postgres, seconds, concurrency).await?
            );
            Ok(())
        }
        BenchCommand::Storm {
            rate,
            seconds,
            devices,
            mqtt,
            postgres,
        } => {
            anyhow::ensure!(
                rate > 0 && seconds > 0 && devices >= 2 * 50,
                "--rate and --seconds above 0, --devices at least 100"
            );
            init_tracing("warn");
            let (url, _broker) = match mqtt {
                Some(url) => (url, None),
                None => {
                    let broker = cityops_test_support::mqtt::PrivateBroker::start()?;
                    println!("against a private mosquitto on port {}", broker.port);
                    (broker.url(), Some(broker))
                }
            };
            println!("CityOps, the publisher and the screen run on {workers} worker thread(s) of {cores} core(s)");
            println!(
                "{}",
                storm::bench_storm(&url, rate, seconds, devices, postgres.as_deref()).await?
            );
            Ok(())
        }
        BenchCommand::Geo {
            points,
            shapely_single,
            shapely_script,
            postgis,
            postgis_single,
        } => {
            let report = geo::bench_geo(points, shapely_single, &shapely_script)?;
            for line in &report.lines {
                println!("{line}");
            }
            if let Some(url) = postgis {
                let lines =
                    geo::bench_postgis(&url, &report.points, &report.answers, postgis_single)
                        .await?;
                for line in lines {
                    println!("{line}");
                }
            }
            Ok(())
        }
        BenchCommand::Export {
            components,
            in_memory,
            data_dir,
        } => {
            init_tracing("warn");
            let lines = export::bench_export(&export::ExportOptions {
                components,
                in_memory,
                data_dir,
            })
            .await?;
            for line in lines {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Evaluation {
            postgres,
            cases,
            runs,
        } => {
            anyhow::ensure!(runs >= 1, "--runs is at least 1");
            let lines = evaluation::bench_evaluation(&evaluation::EvaluationOptions {
                postgres,
                cases,
                runs,
            })
            .await?;
            for line in lines {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Screen {
            postgres,
            cases,
            runs,
        } => {
            anyhow::ensure!(runs >= 1, "--runs is at least 1");
            let lines = screen::bench_screen(&screen::ScreenOptions {
                postgres,
                cases,
                runs,
            })
            .await?;
            for line in lines {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Duplicates { pairs } => {
            for line in duplicates::bench_duplicates(&pairs)? {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::DuplicateSearch {
            open,
            queries,
            reference_queries,
        } => {
            let options = duplicate_search::SearchOptions {
                open,
                queries,
                reference_queries,
            };
            for line in duplicate_search::bench_search(&options)? {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Classify => {
            for line in classify::bench_classify()? {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Storage {
            postgres,
            cases,
            concurrency,
        } => {
            let lines = storage::bench_storage(&storage::StorageOptions {
                postgres,
                cases,
                concurrency,
            })
            .await?;
            for line in lines {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Census {
            components,
            queries,
        } => {
            for line in geo::bench_census(components, queries)? {
                println!("{line}");
            }
            Ok(())
        }
        BenchCommand::Cases {
            postgres,
            cases,
            concurrency,
        } => {
            let report = cases::bench_cases(&cases::BenchOptions {
                postgres,
                cases,
                concurrency,
            })
            .await?;
            print!("{}", report.render());
            Ok(())
        }
        BenchCommand::Security {
            postgres,
            cases,
            concurrency,
        } => {
            let report = cases::bench_security(&cases::BenchOptions {
                postgres,
                cases,
                concurrency,
            })
            .await?;
            print!("{}", report.render());
            for (kind, overhead) in cases::security_overhead(&report) {
                println!(
                    "{kind}: security costs {:.1}% of throughput",
                    100.0 * overhead
                );
            }
            Ok(())
        }
    }
}
