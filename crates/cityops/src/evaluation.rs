//! The evaluation's ledger over every case: rebuilt from the timelines (for an installation
//! whose cases predate it, or after a change of what counts), and checked against a
//! recomputation from scratch.

use anyhow::Result;
use cityops_domain::evaluation::entries_of_timeline;
use cityops_domain::{AreaLevel, Case};
use cityops_store::{add_daily, AreaFilter, CaseQuery, DailyKey, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Cases read per page.
const PAGE: u32 = 500;

/// Calls `each` with every case of every city, in case-number order.
async fn every_case<F, Fut>(store: &dyn Store, mut each: F) -> Result<u64>
where
    F: FnMut(Case) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let cities = store
        .areas(&AreaFilter {
            parent: None,
            level: Some(AreaLevel::City),
        })
        .await?;
    let mut seen = 0;
    for city in cities {
        let mut query = CaseQuery::new(city.code.clone(), chrono::Utc::now());
        query.limit = PAGE;
        query.after_number = Some(String::new());
        loop {
            let page = store.cases(&query).await?;
            let last = page.cases.last().map(|c| c.number.0.clone());
            for case in page.cases {
                seen += 1;
                each(case).await?;
            }
            match last {
                Some(number) => query.after_number = Some(number),
                None => break,
            }
        }
    }
    Ok(seen)
}

/// Replaces every case's entries with those of its timeline, then the daily sums with those
/// of the ledger; returns (cases, entries).
pub async fn rebuild(store: &dyn Store) -> Result<(u64, u64)> {
    let entries = AtomicU64::new(0);
    let sums = Mutex::new(BTreeMap::new());
    let cases = every_case(store, |case| {
        let entries = &entries;
        let sums = &sums;
        async move {
            let written = store.rebuild_case_ledger(&case.id).await?;
            entries.fetch_add(written, Ordering::Relaxed);
            let ledger = store.case_ledger(&case.id).await?;
            add_daily(&ledger, 1, &mut lock(sums));
            Ok(())
        }
    })
    .await?;
    store
        .replace_daily_sums(&sums.into_inner().unwrap_or_else(PoisonError::into_inner))
        .await?;
    Ok((cases, entries.into_inner()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The daily sums of every case's stored entries: what the stored daily sums must be.
async fn daily_of_ledger(store: &dyn Store) -> Result<BTreeMap<DailyKey, i64>> {
    let sums = Mutex::new(BTreeMap::new());
    every_case(store, |case| {
        let sums = &sums;
        async move {
            let ledger = store.case_ledger(&case.id).await?;
            add_daily(&ledger, 1, &mut lock(sums));
            Ok(())
        }
    })
    .await?;
    let mut sums = sums.into_inner().unwrap_or_else(PoisonError::into_inner);
    sums.retain(|_, n| *n != 0);
    Ok(sums)
}

/// The daily and monthly sums that differ from a recomputation from the ledger, as
/// `level day-or-month subject role counter: stored n, ledger m`.
pub async fn check_daily(store: &dyn Store) -> Result<Vec<String>> {
    let expected = daily_of_ledger(store).await?;
    let stored = store.daily_sums().await?;
    let mut differ = differences(
        &expected,
        &stored,
        |(level, day, subject, role, counter)| format!("{level} {day} {subject} {role} {counter}"),
    );
    // The monthly sums add up the days the ledger gives, not those stored.
    differ.extend(differences(
        &cityops_store::monthly_of(&expected),
        &store.monthly_sums().await?,
        |(level, month, subject, role, counter)| {
            format!("{level} {month} {subject} {role} {counter}")
        },
    ));
    Ok(differ)
}

/// The keys whose sums differ between `expected` and `stored`, as `key: stored n, ledger m`.
fn differences<K: Ord>(
    expected: &std::collections::BTreeMap<K, i64>,
    stored: &std::collections::BTreeMap<K, i64>,
    name: impl Fn(&K) -> String,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&K> = expected.keys().chain(stored.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (want, have) = (
                expected.get(key).copied().unwrap_or(0),
                stored.get(key).copied().unwrap_or(0),
            );
            (want != have).then(|| format!("{}: stored {have}, ledger {want}", name(key)))
        })
        .collect()
}

/// The numbers of the cases whose stored entries differ from their timeline's.
pub async fn check(store: &dyn Store) -> Result<Vec<String>> {
    let differ = Mutex::new(Vec::new());
    every_case(store, |case| {
        let differ = &differ;
        async move {
            let timeline = store.timeline(&case.id).await?;
            let mut expected = entries_of_timeline(case.number.clone(), &timeline)?;
            let mut stored = store.case_ledger(&case.id).await?;
            expected.sort();
            stored.sort();
            if expected != stored {
                differ
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(case.number.0);
            }
            Ok(())
        }
    })
    .await?;
    Ok(differ
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// Fills the ledger at start when it is empty while cases exist (an installation upgraded
/// from before the ledger), and the daily sums when only they are (one from before them).
pub async fn fill_if_empty(store: &dyn Store) -> Result<()> {
    if !store.ledger_needs_filling().await? {
        if store.daily_sums_need_filling().await? {
            tracing::info!("Filling the evaluation's daily sums from the ledger.");
            let sums = daily_of_ledger(store).await?;
            store.replace_daily_sums(&sums).await?;
            tracing::info!(sums = sums.len(), "The evaluation's daily sums are filled.");
        }
        return Ok(());
    }
    tracing::info!("Filling the evaluation's ledger from the timelines.");
    let (cases, entries) = rebuild(store).await?;
    tracing::info!(cases, entries, "The evaluation's ledger is filled.");
    Ok(())
}
