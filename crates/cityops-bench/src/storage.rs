//! `cityops-bench storage`: the bytes a case costs on disk, table by table, on SQLite or
//! PostgreSQL: cases written through the store's group-commit path and taken through their
//! whole life as the demo's are, then the outbox pruned as the relay prunes it once every
//! consumer has seen it, then the files compacted.

use anyhow::{Context, Result};
use chrono::Utc;
use cityops_domain::{decide, workflow, Case, CategoryCatalog, CategoryCode, FiledClass, Role};
use cityops_test_support::scratch::ScratchDatabase;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cases::{actor, bench_keys, drive, new_report};

pub struct StorageOptions {
    pub postgres: Option<String>,
    pub cases: usize,
    pub concurrency: usize,
}

/// Bytes per table, indexes included.
type Sizes = BTreeMap<String, i64>;

pub async fn bench_storage(options: &StorageOptions) -> Result<Vec<String>> {
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

async fn run(options: &StorageOptions, url: &str) -> Result<Vec<String>> {
    let (n, c) = (options.cases, options.concurrency);
    let store = cityops_store::open(url, bench_keys()?).await?;
    let catalog = CategoryCatalog::shipped();
    let filed = Arc::new(FiledClass::from_category(
        catalog
            .get(&CategoryCode::parse("10101")?)
            .context("10101")?,
    ));
    let unit = Arc::new(cityops_domain::Unit::new(
        "310101-ZLS".into(),
        "黄浦区自来水公司".into(),
        cityops_domain::UnitKind::WaterSupply,
        cityops_domain::AreaCode::parse("310101")?,
    ));
    store.put_units(std::slice::from_ref(&*unit)).await?;
    let empty = sizes(url).await?;

    // Each case reported and taken through its whole life (9 events), as the demo's are.
    let s = store.clone();
    let (seconds, _) = drive(n, c, move |i| {
        let (store, filed, unit) = (s.clone(), filed.clone(), unit.clone());
        async move {
            let (case, event) = new_report(i, Utc::now())?;
            let mut case: Case = store.insert_case(case, event).await?;
            for step in workflow::happy_path(case.source) {
                let command =
                    cityops::demo::happy_command(step.command, Some(&filed), Some(&unit))?;
                let handler = (step.role == Role::UnitHandler).then_some("310101-ZLS");
                let (next, event) = decide(&case, command, &actor(step.role, handler), Utc::now())?;
                store.update_case(&next, &event, None).await?;
                case = next;
            }
            Ok(())
        }
    })
    .await?;
    let written = sizes(url).await?;
    let outbox_rows = store.outbox_status().await?.rows;

    // What the relay does once every consumer has seen the rows and they are past the
    // retention (here: at once).
    let now = Utc::now();
    store
        .outbox_seen("bench", store.outbox_end().await?, now)
        .await?;
    let started = std::time::Instant::now();
    let pruned = store
        .outbox_prune(
            now + chrono::Duration::hours(1),
            now - chrono::Duration::hours(1),
        )
        .await?;
    let prune_seconds = started.elapsed().as_secs_f64();
    let after_prune = sizes(url).await?;
    drop(store);
    compact(url).await?;
    let compacted = sizes(url).await?;

    let engine = if url.starts_with("sqlite") {
        "SQLite (dbstat: pages of each table and its indexes)"
    } else {
        "PostgreSQL (pg_total_relation_size)"
    };
    let mut out = vec![
        format!("{engine}: {n} cases, each reported and taken through 9 events, in {seconds:.0} s"),
        format!("outbox: {outbox_rows} rows written, {pruned} pruned in {prune_seconds:.2} s"),
        format!(
            "{:<24} {:>14} {:>10} {:>16} {:>10} {:>16} {:>10}",
            "table", "written B", "B/case", "after prune B", "B/case", "compacted B", "B/case"
        ),
    ];
    let per_case = |bytes: i64, table: &str| {
        (bytes - empty.get(table).copied().unwrap_or(0)) as f64 / n as f64
    };
    let mut totals = [0i64; 3];
    for (table, bytes) in &written {
        let after = after_prune.get(table).copied().unwrap_or(0);
        let small = compacted.get(table).copied().unwrap_or(0);
        let base = empty.get(table).copied().unwrap_or(0);
        if *bytes - base < 1024 {
            continue;
        }
        totals[0] += bytes - base;
        totals[1] += after - base;
        totals[2] += small - base;
        out.push(format!(
            "{table:<24} {bytes:>14} {:>10.0} {after:>16} {:>10.0} {small:>16} {:>10.0}",
            per_case(*bytes, table),
            per_case(after, table),
            per_case(small, table)
        ));
    }
    out.push(format!(
        "{:<24} {:>14} {:>10.0} {:>16} {:>10.0} {:>16} {:>10.0}",
        "all (growth)",
        totals[0],
        totals[0] as f64 / n as f64,
        totals[1],
        totals[1] as f64 / n as f64,
        totals[2],
        totals[2] as f64 / n as f64
    ));
    Ok(out)
}

/// Bytes each table takes with its indexes.
async fn sizes(url: &str) -> Result<Sizes> {
    let mut out = Sizes::new();
    if url.starts_with("sqlite") {
        use sqlx::Row;
        let pool = sqlx::SqlitePool::connect(url).await?;
        let rows = sqlx::query(
            "SELECT COALESCE(m.tbl_name, d.name) AS tbl, SUM(d.pgsize) AS bytes
             FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY tbl",
        )
        .fetch_all(&pool)
        .await
        .context("SQLite's dbstat table (SQLITE_ENABLE_DBSTAT_VTAB)")?;
        for row in rows {
            out.insert(row.try_get("tbl")?, row.try_get("bytes")?);
        }
        pool.close().await;
    } else {
        use sqlx::Row;
        let pool = sqlx::PgPool::connect(url).await?;
        let rows = sqlx::query(
            "SELECT c.relname AS tbl, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
        )
        .fetch_all(&pool)
        .await?;
        for row in rows {
            out.insert(row.try_get("tbl")?, row.try_get("bytes")?);
        }
        pool.close().await;
    }
    Ok(out)
}

/// Gives the freed pages back to the file system: pruning alone makes them reusable by
/// later rows, which is what bounds a running store; this shows what the data itself takes.
async fn compact(url: &str) -> Result<()> {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::query("VACUUM").execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query("VACUUM FULL outbox").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}
