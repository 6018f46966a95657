//! `cityops-bench evaluation`: the full evaluation (every district, street and unit) over a
//! month and over a year, read from the store's monthly and daily sums as the server reads
//! them, against the same figures computed by plain SQL `GROUP BY` over a table of the cases'
//! stage times, on the same database, in the same run.
//!
//! The cases are generated, not driven through the workflow (ten million cases through the
//! workflow would take the machine a day): each case's stage days and outcomes are drawn with
//! realistic shares, its ledger entries are those the workflow's steps add (report, filing,
//! dispatch, handling, rework, closing, each on time or late), and the daily sums are the
//! product's own (`cityops_store::add_daily`, written with `replace_daily_sums`). The
//! reference table holds the same stage days and outcomes, one row per case. Before timing,
//! every figure of both is compared: the benchmark measures two ways to the same numbers.

use anyhow::{ensure, Context, Result};
use chrono::{Duration, NaiveDate};
use cityops_domain::evaluation::{counts_at, subject_of, Counter, LedgerEntry, Level};
use cityops_domain::AreaCode;
use cityops_store::{add_daily, DailyKey};
use cityops_test_support::scratch::ScratchDatabase;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

use crate::cases::bench_keys;

pub struct EvaluationOptions {
    pub postgres: Option<String>,
    pub cases: usize,
    /// Timed runs of the product per period (the reference runs a twentieth as often, at
    /// least 3: each of its runs scans the whole case table three times).
    pub runs: usize,
}

/// The levels the benchmark evaluates: the city's districts, streets and units.
const LEVELS: [Level; 3] = [Level::District, Level::Street, Level::Unit];

/// The counters the generated cases add, each a column of the reference table (`None`: the
/// column counts every row whose day is set; `Some(flag)`: only those whose flag is 1).
const COUNTERS: [(Counter, &str, Option<&str>); 10] = [
    (Counter::Reported, "reported_day", None),
    (Counter::Filed, "filed_day", None),
    (Counter::FiledOnTime, "filed_day", Some("filed_on_time")),
    (Counter::Dispatched, "dispatched_day", None),
    (
        Counter::DispatchedOnTime,
        "dispatched_day",
        Some("dispatched_on_time"),
    ),
    (Counter::Handled, "handled_day", None),
    (
        Counter::HandledOnTime,
        "handled_day",
        Some("handled_on_time"),
    ),
    (Counter::Rework, "rework_day", None),
    (Counter::Closed, "closed_day", None),
    (Counter::ClosedOnTime, "closed_day", Some("closed_on_time")),
];

/// The lines of work a district's cases go to.
const UNIT_KINDS: [&str; 6] = ["ZLS", "GD", "PS", "LH", "SZ", "CGZF"];

/// One generated case: where, which unit, and the day (0 = 1 January) and outcome of each
/// stage it reached.
struct Sample {
    community: AreaCode,
    grid: String,
    unit: String,
    reported: u16,
    filed: Option<(u16, bool)>,
    dispatched: Option<(u16, bool)>,
    handled: Option<(u16, bool)>,
    rework: Option<u16>,
    closed: Option<(u16, bool)>,
}

fn draw(rng: &mut rand::rngs::StdRng, grids: &[(AreaCode, String)]) -> Sample {
    let (community, grid) = grids[rng.gen_range(0..grids.len())].clone();
    let unit = format!(
        "{}-{}",
        &community.as_str()[..6],
        UNIT_KINDS[rng.gen_range(0..UNIT_KINDS.len())]
    );
    let reported = rng.gen_range(0..365u16);
    let later = |rng: &mut rand::rngs::StdRng, day: u16, most: u16| {
        (day + rng.gen_range(0..=most)).min(364)
    };
    let mut sample = Sample {
        community,
        grid,
        unit,
        reported,
        filed: None,
        dispatched: None,
        handled: None,
        rework: None,
        closed: None,
    };
    // Shares as a city reports them: most reports are filed, nearly all filed cases are
    // handled, most on time; some go back for rework; most handled cases close.
    if !rng.gen_bool(0.95) {
        return sample;
    }
    let filed = later(rng, reported, 0);
    sample.filed = Some((filed, rng.gen_bool(0.9)));
    let dispatched = later(rng, filed, 1);
    sample.dispatched = Some((dispatched, rng.gen_bool(0.92)));
    if !rng.gen_bool(0.93) {
        return sample;
    }
    let handled = later(rng, dispatched, 5);
    sample.handled = Some((handled, rng.gen_bool(0.85)));
    if rng.gen_bool(0.08) {
        sample.rework = Some(later(rng, handled, 1));
    }
    if rng.gen_bool(0.9) {
        sample.closed = Some((later(rng, handled, 3), rng.gen_bool(0.8)));
    }
    sample
}

/// The ledger entries the workflow's steps add for the sample.
fn entries(id: usize, s: &Sample, year: NaiveDate) -> Vec<LedgerEntry> {
    let day = |d: u16| year + Duration::days(i64::from(d));
    let entry = |counter: Counter, d: u16, unit: bool| LedgerEntry {
        case_id: id.to_string(),
        day: day(d),
        counter,
        area: s.community.clone(),
        unit_grid: Some(s.grid.clone()),
        unit: unit.then(|| s.unit.clone()),
        user_id: None,
        role: None,
    };
    let mut out = vec![entry(Counter::Reported, s.reported, false)];
    let mut stage = |counter: Counter, on_time: Counter, at: Option<(u16, bool)>, unit: bool| {
        if let Some((d, in_time)) = at {
            out.push(entry(counter, d, unit));
            if in_time {
                out.push(entry(on_time, d, unit));
            }
        }
    };
    stage(Counter::Filed, Counter::FiledOnTime, s.filed, false);
    stage(
        Counter::Dispatched,
        Counter::DispatchedOnTime,
        s.dispatched,
        true,
    );
    stage(Counter::Handled, Counter::HandledOnTime, s.handled, true);
    stage(Counter::Closed, Counter::ClosedOnTime, s.closed, true);
    if let Some(d) = s.rework {
        out.push(entry(Counter::Rework, d, true));
    }
    out
}

/// Either database, through sqlx directly (the reference's plain SQL).
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// A pool of its own on the store's database.
    pub(crate) async fn open(url: &str) -> Result<Pool> {
        Ok(if url.starts_with("sqlite:") {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
            use std::str::FromStr;
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(
                        SqliteConnectOptions::from_str(url)?.journal_mode(SqliteJournalMode::Wal),
                    )
                    .await?,
            )
        } else {
            Pool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await?,
            )
        })
    }

    pub(crate) async fn execute(&self, sql: &str) -> Result<()> {
        match self {
            Pool::Sqlite(p) => {
                sqlx::query(sql).execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::query(sql).execute(p).await?;
            }
        }
        Ok(())
    }

    /// Rows of two texts.
    pub(crate) async fn texts(&self, sql: &str) -> Result<Vec<(String, String)>> {
        use sqlx::Row;
        Ok(match self {
            Pool::Sqlite(p) => sqlx::query(sql)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?,
            Pool::Postgres(p) => sqlx::query(sql)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?,
        })
    }

    /// Rows of a key and `columns` counts.
    pub(crate) async fn sums(&self, sql: &str, columns: usize) -> Result<Vec<(String, Vec<i64>)>> {
        use sqlx::Row;
        fn read<R: Row>(row: &R, columns: usize) -> Result<(String, Vec<i64>)>
        where
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            let key: String = row.try_get(0)?;
            let counts = (1..=columns)
                .map(|i| row.try_get::<i64, _>(i))
                .collect::<Result<_, _>>()?;
            Ok((key, counts))
        }
        match self {
            Pool::Sqlite(p) => sqlx::query(sql)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| read(r, columns))
                .collect(),
            Pool::Postgres(p) => sqlx::query(sql)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| read(r, columns))
                .collect(),
        }
    }
}

/// The reference table's columns, in insert order.
const COLUMNS: &str = "id, district, street, unit, reported_day, filed_day, filed_on_time, \
    dispatched_day, dispatched_on_time, handled_day, handled_on_time, rework_day, closed_day, \
    closed_on_time";

fn row_sql(id: usize, s: &Sample, year: NaiveDate) -> String {
    let day = |d: Option<u16>| {
        d.map_or("NULL".to_owned(), |d| {
            format!("'{}'", year + Duration::days(i64::from(d)))
        })
    };
    let flag = |at: Option<(u16, bool)>| i32::from(at.is_some_and(|(_, ok)| ok));
    let area = s.community.as_str();
    format!(
        "({id}, '{}', '{}', '{}', {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        &area[..6],
        &area[..9],
        s.unit,
        day(Some(s.reported)),
        day(s.filed.map(|f| f.0)),
        flag(s.filed),
        day(s.dispatched.map(|f| f.0)),
        flag(s.dispatched),
        day(s.handled.map(|f| f.0)),
        flag(s.handled),
        day(s.rework),
        day(s.closed.map(|f| f.0)),
        flag(s.closed),
    )
}

/// The counters the reference sums at `level`: those the product counts there.
fn counters_at(level: Level) -> Vec<&'static (Counter, &'static str, Option<&'static str>)> {
    COUNTERS
        .iter()
        .filter(|(counter, ..)| counts_at(level, *counter) && counts_for(level, *counter))
        .collect()
}

/// The reference: one `GROUP BY` per level over the case table, one scan, each counter a
/// conditional sum (the best a single plain query does without sums kept beside it).
fn reference_sql(level: Level, from: NaiveDate, to: NaiveDate) -> String {
    let key = match level {
        Level::District => "district",
        Level::Street => "street",
        _ => "unit",
    };
    let sums: Vec<String> = counters_at(level)
        .iter()
        .enumerate()
        .map(|(i, (_, day, flag))| {
            let only = flag.map_or(String::new(), |f| format!(" AND {f} = 1"));
            format!(
                "CAST(SUM(CASE WHEN {day} >= '{from}' AND {day} <= '{to}'{only} THEN 1 ELSE 0 END) AS BIGINT) AS c{i}"
            )
        })
        .collect();
    format!(
        "SELECT {key} AS k, {} FROM bench_case_stages GROUP BY {key}",
        sums.join(", ")
    )
}

/// Whether an entry of `counter` counts for a subject at `level` (a unit level counts only
/// entries about a unit), as the product decides it.
fn counts_for(level: Level, counter: Counter) -> bool {
    let probe = LedgerEntry {
        case_id: String::new(),
        day: NaiveDate::MIN,
        counter,
        area: AreaCode::parse("310101002001").expect("a community code"),
        unit_grid: Some("31010100200101".into()),
        unit: COUNTERS
            .iter()
            .find(|(c, ..)| *c == counter)
            .is_some_and(|_| {
                matches!(
                    counter,
                    Counter::Dispatched
                        | Counter::DispatchedOnTime
                        | Counter::Handled
                        | Counter::HandledOnTime
                        | Counter::Rework
                        | Counter::Closed
                        | Counter::ClosedOnTime
                )
            })
            .then(|| "310101-ZLS".to_owned()),
        user_id: None,
        role: None,
    };
    subject_of(&probe, level).is_some()
}

type Figures = BTreeMap<(String, String), i64>;

pub async fn bench_evaluation(options: &EvaluationOptions) -> Result<Vec<String>> {
    let temp = tempfile::tempdir()?;
    let scratch = match &options.postgres {
        Some(admin) => Some(ScratchDatabase::create(admin).await?),
        None => None,
    };
    let url = match &scratch {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", temp.path().join("store.db").display()),
    };
    let result = run(options, &url).await;
    if let Some(db) = scratch {
        db.drop_now().await?;
    }
    result
}

async fn run(options: &EvaluationOptions, url: &str) -> Result<Vec<String>> {
    let store = cityops_store::open(url, bench_keys()?).await?;
    let pool = Pool::open(url).await?;
    pool.execute(
        "CREATE TABLE bench_case_stages (id BIGINT PRIMARY KEY, district TEXT NOT NULL, \
         street TEXT NOT NULL, unit TEXT NOT NULL, reported_day TEXT NOT NULL, filed_day TEXT, \
         filed_on_time INTEGER NOT NULL, dispatched_day TEXT, dispatched_on_time INTEGER NOT NULL, \
         handled_day TEXT, handled_on_time INTEGER NOT NULL, rework_day TEXT, closed_day TEXT, \
         closed_on_time INTEGER NOT NULL)",
    )
    .await?;

    // Where cases happen: every unit grid of the generated Shanghai, with its community.
    let geography = cityops::reference::shanghai_geography()?;
    let grids: Vec<(AreaCode, String)> = geography
        .grids
        .iter()
        .filter_map(|g| Some((AreaCode::parse(&g.community).ok()?, g.code.clone())))
        .collect();
    ensure!(!grids.is_empty(), "the generated city has no unit grids");
    let year = NaiveDate::from_ymd_opt(2025, 1, 1).context("a date")?;

    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(30428);
    let mut daily: BTreeMap<DailyKey, i64> = BTreeMap::new();
    let mut entries_made = 0usize;
    const CHUNK: usize = 50_000;
    let mut id = 0;
    while id < options.cases {
        let n = CHUNK.min(options.cases - id);
        let samples: Vec<Sample> = (0..n).map(|_| draw(&mut rng, &grids)).collect();
        let mut chunk_daily = BTreeMap::new();
        for (i, sample) in samples.iter().enumerate() {
            let made = entries(id + i, sample, year);
            entries_made += made.len();
            add_daily(&made, 1, &mut chunk_daily);
        }
        // The benchmark evaluates districts, streets and units: the other levels' sums (tens
        // of millions of community, grid and position rows) are not generated.
        for (key, n) in chunk_daily {
            if LEVELS.iter().any(|l| l.as_str() == key.0) {
                *daily.entry(key).or_default() += n;
            }
        }
        for (offset, rows) in samples.chunks(500).enumerate() {
            let values: Vec<String> = rows
                .iter()
                .enumerate()
                .map(|(j, s)| row_sql(id + offset * 500 + j, s, year))
                .collect();
            pool.execute(&format!(
                "INSERT INTO bench_case_stages ({COLUMNS}) VALUES {}",
                values.join(", ")
            ))
            .await?;
        }
        id += n;
    }
    store.replace_daily_sums(&daily).await?;
    pool.execute("ANALYZE").await?;
    let generated = started.elapsed();

    let month = (
        NaiveDate::from_ymd_opt(2025, 6, 1).context("a date")?,
        NaiveDate::from_ymd_opt(2025, 6, 30).context("a date")?,
    );
    let whole = (
        year,
        NaiveDate::from_ymd_opt(2025, 12, 31).context("a date")?,
    );
    let backend = if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let mut lines = vec![format!(
        "{backend}: {} cases ({entries_made} ledger entries, {} daily sums of districts, streets and units) generated and written in {:.0} s",
        options.cases,
        daily.len(),
        generated.as_secs_f64()
    )];
    for (name, (from, to)) in [("month", month), ("year", whole)] {
        // Both ways give the same figures, or the timing means nothing.
        let product = product_figures(store.as_ref(), from, to).await?;
        let reference = reference_figures(&pool, from, to).await?;
        ensure!(
            product == reference,
            "the {name}'s figures differ: {} from the kept sums, {} from the case table",
            product.len(),
            reference.len()
        );
        let mut ours = Vec::with_capacity(options.runs);
        for _ in 0..options.runs {
            let t = Instant::now();
            product_figures(store.as_ref(), from, to).await?;
            ours.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mut theirs = Vec::new();
        for _ in 0..(options.runs / 20).max(3) {
            let t = Instant::now();
            reference_figures(&pool, from, to).await?;
            theirs.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (om, op) = percentiles(&mut ours);
        let (rm, rp) = percentiles(&mut theirs);
        lines.push(format!(
            "{backend} {name} ({from}..{to}, {} figures): kept sums (monthly and daily) median {om:.1} ms, p99 {op:.1} ms ({} runs); \
             GROUP BY over the case table median {rm:.0} ms, p99 {rp:.0} ms ({} runs); ratio {:.0}x",
            product.len(),
            ours.len(),
            theirs.len(),
            rm / om
        ));
    }
    Ok(lines)
}

/// The median and the 99th percentile (nearest rank) of timings in ms.
pub(crate) fn percentiles(ms: &mut [f64]) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.99))
}

/// Every district's, street's and unit's figures as the server reads them.
async fn product_figures(
    store: &dyn cityops_store::Store,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures> {
    let mut figures = Figures::new();
    for level in LEVELS {
        for sum in store.ledger_sums(level, from, to).await? {
            figures.insert(
                (
                    format!("{}:{}", level.as_str(), sum.key),
                    sum.counter.as_str().to_owned(),
                ),
                sum.n as i64,
            );
        }
    }
    Ok(figures)
}

/// The same figures by plain SQL over the case table.
async fn reference_figures(pool: &Pool, from: NaiveDate, to: NaiveDate) -> Result<Figures> {
    let mut figures = Figures::new();
    for level in LEVELS {
        let counters = counters_at(level);
        for (key, counts) in pool
            .sums(&reference_sql(level, from, to), counters.len())
            .await?
        {
            for ((counter, ..), n) in counters.iter().zip(counts) {
                // A sum of nothing is no figure, as in the daily sums.
                if n != 0 {
                    let subject = format!("{}:{key}", level.as_str());
                    figures.insert((subject, counter.as_str().to_owned()), n);
                }
            }
        }
    }
    Ok(figures)
}
