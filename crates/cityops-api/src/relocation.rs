//! Re-locating what lies on the map after a city imports new boundaries: open cases, devices
//! and census components are placed in the area and unit grid their point now lies in.
//!
//! An import answers at once; the relocation runs as a job whose progress the importer
//! follows (`GET /api/v1/geo/relocations/{id}`). Each moved case gets a `relocate` event on its
//! timeline. A case whose point now lies in another district is left where it is and
//! counted: its number and its center come from the district, and moving it across is a
//! decision for people, not for an import.
//!
//! Jobs are kept in the memory of the node that ran the import, like the import's own
//! geometry swap; the last [`KEPT_JOBS`] are kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cityops_domain::{Actor, AreaCode, Case, CaseCommand, CaseState};
use cityops_geo::Geography;
use cityops_store::telemetry::DeviceQuery;
use cityops_store::{CaseQuery, ComponentQuery, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// How many finished and running jobs a node remembers.
const KEPT_JOBS: usize = 20;
/// Records read and written per step: small enough that a step never holds the writer long.
const PAGE: u32 = 500;
/// A case changed by someone while the job moved it is read again this many times.
const CONFLICT_RETRIES: usize = 3;

/// What a relocation job has done so far.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelocationJob {
    pub id: String,
    /// The level whose import started the job.
    pub level: String,
    /// `running`, `done` or `failed`.
    pub state: RelocationState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub cases: Tally,
    pub devices: Tally,
    pub components: Tally,
    /// Open cases whose point now lies in another district: left in place for a person to
    /// decide (at most the first 100).
    pub cases_in_another_district: Vec<String>,
    /// Why the job stopped, when it failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelocationState {
    Running,
    Done,
    Failed,
}

/// Records looked at, and records moved to another area or unit grid.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Tally {
    pub checked: u64,
    pub moved: u64,
}

/// The jobs this node ran, newest last.
#[derive(Clone, Default)]
pub struct Relocations {
    jobs: Arc<Mutex<VecDeque<RelocationJob>>>,
    /// One job at a time: two imports in a row relocate in order, the later one last.
    running: Arc<tokio::sync::Mutex<()>>,
}

impl Relocations {
    pub fn get(&self, id: &str) -> Option<RelocationJob> {
        self.lock().iter().find(|job| job.id == id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RelocationJob>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut RelocationJob)) {
        if let Some(job) = self.lock().iter_mut().find(|job| job.id == id) {
            change(job);
        }
    }

    fn add(&self, job: RelocationJob) {
        let mut jobs = self.lock();
        jobs.push_back(job);
        while jobs.len() > KEPT_JOBS {
            jobs.pop_front();
        }
    }
}

/// Where a record at `lon, lat`, filed in `area` and `grid`, lies under the new boundaries:
/// `None` when it stays. A record filed to an area above the point's community (a street, a
/// district) keeps that area; only its grid follows the point. A point outside every unit
/// grid leaves the record as it is.
fn new_place(
    geography: &Geography,
    lon: f64,
    lat: f64,
    filed: &AreaCode,
    grid: Option<&str>,
) -> Option<(AreaCode, Option<String>)> {
    let located = geography.locate(lon, lat)?;
    let community = AreaCode::parse(&located.community).ok()?;
    let area = if filed.contains(&community) {
        filed.clone()
    } else {
        community
    };
    let moved = grid != Some(located.code.as_str()) || area != *filed;
    moved.then(|| (area, Some(located.code.clone())))
}

/// Starts relocating after an import of `level` by the current request's actor; returns the
/// job's id.
pub(crate) fn start(state: &AppState, level: &str, imported_by: &Actor) -> String {
    let id = crate::routes::cases::new_id();
    let now = Utc::now();
    state.relocations.add(RelocationJob {
        id: id.clone(),
        level: level.to_owned(),
        state: RelocationState::Running,
        started_at: now,
        finished_at: None,
        cases: Tally::default(),
        devices: Tally::default(),
        components: Tally::default(),
        cases_in_another_district: Vec::new(),
        error: None,
    });
    let reason = format!(
        "{level} imported by {}: the case lies elsewhere under the new boundaries",
        imported_by.username
    );
    let job = Job {
        state: state.clone(),
        id: id.clone(),
        reason,
        level: level.to_owned(),
        city: imported_by.scope.city(),
    };
    let context = cityops_store::audit::current_context();
    tokio::spawn(async move {
        let work = job.run();
        match context {
            Some(context) => cityops_store::audit::within(context, work).await,
            None => work.await,
        }
    });
    id
}

struct Job {
    state: AppState,
    id: String,
    reason: String,
    level: String,
    city: AreaCode,
}

impl Job {
    async fn run(self) {
        let _one_at_a_time = self.state.relocations.running.clone().lock_owned().await;
        let outcome = self.relocate().await;
        let finished = Utc::now();
        let summary = self.state.relocations.get(&self.id);
        self.state.relocations.update(&self.id, |job| {
            job.finished_at = Some(finished);
            match &outcome {
                Ok(()) => job.state = RelocationState::Done,
                Err(e) => {
                    job.state = RelocationState::Failed;
                    job.error = Some(e.to_string());
                }
            }
        });
        if let Some(job) = summary {
            let record = cityops_store::audit::record(
                "geo.relocation",
                format!("boundaries:{}", self.level),
            )
            .detail(format!(
                "job {}: {}; cases {}/{} moved, devices {}/{}, components {}/{}, {} in another district",
                self.id,
                match &outcome {
                    Ok(()) => "done".to_owned(),
                    Err(e) => format!("failed: {e}"),
                },
                job.cases.moved,
                job.cases.checked,
                job.devices.moved,
                job.devices.checked,
                job.components.moved,
                job.components.checked,
                job.cases_in_another_district.len(),
            ));
            if let Err(e) = self.state.store.append_audit(vec![record]).await {
                tracing::error!(error = %e, "the relocation's audit entry was not written");
            }
        }
        if let Err(e) = outcome {
            tracing::error!(job = %self.id, error = %e, "relocation failed");
        }
    }

    async fn relocate(&self) -> Result<(), StoreError> {
        let Some(geography) = self.state.geography() else {
            return Ok(());
        };
        self.cases(&geography).await?;
        self.devices(&geography).await?;
        self.components(&geography).await
    }

    async fn cases(&self, geography: &Geography) -> Result<(), StoreError> {
        let city = self.city.clone();
        let mut query = CaseQuery::new(city.clone(), Utc::now());
        query.states = CaseState::OPEN.to_vec();
        query.limit = PAGE;
        loop {
            let page = self.state.store.cases(&query).await?;
            let mut tally = Tally::default();
            for case in &page.cases {
                tally.checked += 1;
                if self.relocate_case(geography, case, &city).await? {
                    tally.moved += 1;
                }
            }
            self.state.relocations.update(&self.id, |job| {
                job.cases.checked += tally.checked;
                job.cases.moved += tally.moved;
            });
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Moves one case, reading it again when someone changed it meanwhile; true if moved.
    async fn relocate_case(
        &self,
        geography: &Geography,
        case: &Case,
        city: &AreaCode,
    ) -> Result<bool, StoreError> {
        let system = Actor::system(city.clone());
        let mut case = case.clone();
        for _ in 0..CONFLICT_RETRIES {
            let Some((area, unit_grid)) = new_place(
                geography,
                case.location.lon,
                case.location.lat,
                &case.area,
                case.unit_grid.as_deref(),
            ) else {
                return Ok(false);
            };
            if !case.district.contains(&area) {
                self.state.relocations.update(&self.id, |job| {
                    if job.cases_in_another_district.len() < 100 {
                        job.cases_in_another_district.push(case.number.0.clone());
                    }
                });
                return Ok(false);
            }
            let command = CaseCommand::Relocate {
                area,
                unit_grid,
                reason: self.reason.clone(),
            };
            let at = Utc::now();
            // Refused (finished meanwhile, nothing to change): the case stays.
            let Ok((next, event)) = cityops_domain::decide(&case, command, &system, at) else {
                return Ok(false);
            };
            match self.state.store.update_case(&next, &event, None).await {
                Ok(()) => {
                    self.state.outbox_written();
                    return Ok(true);
                }
                Err(StoreError::Conflict(_)) => match self.state.store.case(&case.id).await? {
                    Some(fresh) if !fresh.state.is_terminal() => case = fresh,
                    _ => return Ok(false),
                },
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    async fn devices(&self, geography: &Geography) -> Result<(), StoreError> {
        let mut query = DeviceQuery {
            scope: self.city.clone(),
            kind: None,
            limit: PAGE,
            after: None,
        };
        loop {
            let page = self.state.store.devices(&query).await?;
            let mut moved = Vec::new();
            for device in &page {
                if let Some((area, unit_grid)) = new_place(
                    geography,
                    device.location.lon,
                    device.location.lat,
                    &device.area,
                    device.unit_grid.as_deref(),
                ) {
                    let mut device = device.clone();
                    device.area = area;
                    device.unit_grid = unit_grid;
                    moved.push(device);
                }
            }
            if !moved.is_empty() {
                self.state.store.put_devices(&moved).await?;
            }
            let (checked, count) = (page.len() as u64, moved.len() as u64);
            if let Some(telemetry) = &self.state.telemetry {
                if !moved.is_empty() && telemetry.devices_changed(moved).await.is_err() {
                    tracing::warn!("the vital-signs pipeline stopped; it reloads devices on start");
                }
            }
            self.state.relocations.update(&self.id, |job| {
                job.devices.checked += checked;
                job.devices.moved += count;
            });
            match page.last() {
                Some(last) if page.len() as u32 == PAGE => query.after = Some(last.id.clone()),
                _ => return Ok(()),
            }
        }
    }

    async fn components(&self, geography: &Geography) -> Result<(), StoreError> {
        let mut query = ComponentQuery::within(self.city.clone());
        query.limit = PAGE;
        let mut any_moved = false;
        loop {
            let page = self.state.store.components(&query).await?;
            let mut moved = Vec::new();
            for component in &page {
                if let Some((area, unit_grid)) = new_place(
                    geography,
                    component.location.lon,
                    component.location.lat,
                    &component.area,
                    component.unit_grid.as_deref(),
                ) {
                    let mut component = component.clone();
                    component.area = area;
                    component.unit_grid = unit_grid;
                    moved.push(component);
                }
            }
            if !moved.is_empty() {
                self.state.store.put_components(&moved).await?;
                any_moved = true;
            }
            let (checked, count) = (page.len() as u64, moved.len() as u64);
            self.state.relocations.update(&self.id, |job| {
                job.components.checked += checked;
                job.components.moved += count;
            });
            match page.last() {
                Some(last) if page.len() as u32 == PAGE => query.after = Some(last.id.clone()),
                _ => break,
            }
        }
        if any_moved {
            self.state.reload_census().await?;
        }
        Ok(())
    }
}
