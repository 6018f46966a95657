//! The city screen's counts of open cases (kept by the store as cases move), rebuilt from the
//! case table or checked against it.

use anyhow::Result;
use cityops_store::Store;

/// Replaces the kept counts with a recomputation from the case table; returns how many.
pub async fn rebuild(store: &dyn Store) -> Result<usize> {
    let counts = store.open_tallies_of_cases().await?;
    store.replace_open_tallies(&counts).await?;
    Ok(counts.len())
}

/// The kept counts that differ from the case table's, as `area unit class urgent supervised:
/// kept n, cases m`.
pub async fn check(store: &dyn Store) -> Result<Vec<String>> {
    let expected = store.open_tallies_of_cases().await?;
    let kept = store.open_tallies().await?;
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(kept.keys()).collect();
    Ok(keys
        .into_iter()
        .filter_map(|key| {
            let (want, have) = (
                expected.get(key).copied().unwrap_or(0),
                kept.get(key).copied().unwrap_or(0),
            );
            (want != have).then(|| {
                format!(
                    "{} {} {} urgent={} supervised={}: kept {have}, cases {want}",
                    key.area,
                    key.unit.as_deref().unwrap_or("-"),
                    key.category.as_deref().unwrap_or("-"),
                    key.urgent,
                    key.supervised
                )
            })
        })
        .collect())
}
