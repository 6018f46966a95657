//! The open cases near a report, for its likely duplicates: each node keeps the open cases of
//! the last two weeks in a point index, each read once (its words and the kind of problem it
//! is about), filled from the store at start and moved by every change the outbox relay
//! delivers, from any node. A search then compares a report with the cases within reach of
//! its point only, however many the city has open.
//!
//! The index is a cache: the cases it proposes are read again from the store before they are
//! shown, and when the relay's changes overran this node, the index is read again whole.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use chrono::Utc;
use cityops_domain::duplicates::{self, Likeness, OpenCase, Probe, Reading, RADIUS_M, WINDOW_DAYS};
use cityops_domain::{AreaCode, CaseState};
use cityops_geo::nearby::PointIndex;
use cityops_store::{CaseQuery, StoreError};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;

/// Cases read per page while filling the index.
const PAGE: u32 = 2000;
/// How often cases older than the window leave the index.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The latitude the index's plane is true at: Shanghai's. Within a Chinese city of any
/// latitude, a search's few hundred metres stay within a fraction of a percent.
const LATITUDE: f64 = 31.2;

pub type Index = PointIndex<String, OpenCase>;

/// The index and whether it holds every open case of the window yet.
#[derive(Default)]
pub struct OpenCases {
    index: RwLock<Option<Index>>,
    ready: AtomicBool,
}

impl std::fmt::Debug for OpenCases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenCases")
            .field("ready", &self.ready.load(Ordering::Acquire))
            .finish()
    }
}

impl OpenCases {
    /// Runs `read` on the index once it holds every open case; `None` while it is filled.
    pub fn read<R>(&self, read: impl FnOnce(&Index) -> R) -> Option<R> {
        if !self.ready.load(Ordering::Acquire) {
            return None;
        }
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        index.as_ref().map(read)
    }

    /// How many open cases the index holds; `None` while it is filled.
    pub fn held(&self) -> Option<usize> {
        self.read(|index| index.len())
    }

    fn replace(&self, index: Index) {
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Some(index);
        self.ready.store(true, Ordering::Release);
    }

    fn change(&self, change: impl FnOnce(&mut Index)) {
        if let Some(index) = self
            .index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            change(index);
        }
    }
}

/// Moves `case` in this node's index as it is now: a node proposes its own writes at once,
/// before the relay delivers them (which it also does, to every node).
pub(crate) fn note(state: &AppState, case: &cityops_domain::Case) {
    let model = state.class_model();
    match OpenCase::of(case, Some(&model)) {
        Some(open) => state.open_cases.change(|index| {
            index.upsert(case.id.clone(), open.location.lon, open.location.lat, open)
        }),
        None => state.open_cases.change(|index| {
            index.remove(&case.id);
        }),
    }
}

/// Every open case reported within the window, read once each.
async fn fill(state: &AppState, city: &AreaCode) -> Result<Index, StoreError> {
    let now = Utc::now();
    let mut query = CaseQuery::new(city.clone(), now);
    query.states = CaseState::OPEN.to_vec();
    query.created_from = Some(now - chrono::Duration::days(WINDOW_DAYS));
    query.limit = PAGE;
    let model = state.class_model();
    let mut open = Vec::new();
    loop {
        let page = state.store.cases(&query).await?;
        open.extend(page.cases.iter().filter_map(|case| {
            OpenCase::of(case, Some(&model))
                .map(|open| (open.id.clone(), open.location.lon, open.location.lat, open))
        }));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    Ok(PointIndex::bulk(LATITUDE, open))
}

pub(crate) fn spawn(state: AppState) {
    // Without the city's districts there is no city to read, and no point to search from.
    let Some(city) = state
        .districts()
        .areas()
        .first()
        .and_then(|district| AreaCode::parse(&district.code).ok())
        .map(|district| district.city())
    else {
        return;
    };
    // Subscribed before the store is read, so no change falls between the two.
    let mut changes = state.changes.subscribe();
    tokio::spawn(async move {
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let mut stale = true;
        loop {
            if stale {
                match fill(&state, &city).await {
                    Ok(index) => {
                        tracing::info!(open = index.len(), "Likely duplicates: open cases read.");
                        state.open_cases.replace(index);
                        stale = false;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Likely duplicates: the open cases could not be read; trying again.");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        continue;
                    }
                }
            }
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) => note(&state, &change.case),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "Likely duplicates: changes overran; reading the open cases again.");
                        stale = true;
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = prune.tick() => {
                    let cutoff = Utc::now() - chrono::Duration::days(WINDOW_DAYS);
                    state.open_cases.change(|index| index.retain(|case| case.created_at >= cutoff));
                }
                _ = &mut stopped => return,
            }
        }
    });
}

/// The open cases likeliest to be the report's problem among those within reach of its point
/// that `visible` lets the reader see, likeliest first, at most `limit`, by id; `None` while
/// the index is filled.
pub(crate) fn likeliest_near(
    state: &AppState,
    probe: &Probe<'_>,
    reading: &Reading,
    mut visible: impl FnMut(&OpenCase) -> bool,
    limit: usize,
) -> Option<Vec<(String, Likeness)>> {
    let here = probe.location?;
    state.open_cases.read(|index| {
        // A margin over the radius for the plane's approximation: the distance on the ground
        // decides.
        let near = index
            .within(here.lon, here.lat, RADIUS_M * 1.01)
            .map(|(_, case, _)| case)
            .filter(|case| visible(case));
        duplicates::likeliest(probe, reading, near, limit)
            .into_iter()
            .map(|(case, likeness)| (case.id.clone(), likeness))
            .collect()
    })
}
