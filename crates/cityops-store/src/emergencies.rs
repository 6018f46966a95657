//! Warnings, incidents and contingency plans as stored. Every write is on the audit log; a
//! warning or incident is written against the version it was read at, so two leaders acting
//! at once do not overwrite each other ([`StoreError::Conflict`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::emergency::{ContingencyPlan, Incident, IncidentEvent, IncidentState, Warning};

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

/// An alarm or case an incident holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentLink {
    /// `alarm` or `case`.
    pub kind: String,
    pub target: String,
    pub at: DateTime<Utc>,
    /// Linked by the incident's areas rather than by hand.
    pub auto: bool,
}

/// An alarm raised or a case reported, as the linker weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    /// `alarm` or `case`.
    pub kind: &'static str,
    pub id: String,
    /// An alarm's indicator, a case's class.
    pub class: Option<String>,
    pub area: String,
    pub at: DateTime<Utc>,
}

/// A photo of a unit's report on its task, as uploaded: the file lies at `path` under the
/// data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentPhoto {
    pub id: String,
    pub incident_id: String,
    pub task: u32,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub path: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

#[async_trait]
pub trait EmergencyStore: Send + Sync {
    /// Writes a warning: a new one (version 1), or a change of the version before it (else
    /// [`StoreError::Conflict`]), with the CAP alert (`sender|identifier`) that made the
    /// change, which is applied once (else [`StoreError::Duplicate`] naming `identifier`). On
    /// the audit log as `warning.<action>`.
    async fn put_warning(
        &self,
        warning: &Warning,
        cap_key: Option<&str>,
        action: &str,
    ) -> StoreResult<()>;
    async fn warning(&self, id: &str) -> StoreResult<Option<Warning>>;
    /// The warning a CAP alert (`sender|identifier`) issued or changed.
    async fn warning_by_cap(&self, cap_key: &str) -> StoreResult<Option<Warning>>;
    /// The warnings not lifted that expire after `after`, and the others issued after
    /// `since`: what is in force or coming, and the recent past. Latest issued first.
    async fn warnings(
        &self,
        after: DateTime<Utc>,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Warning>>;
    /// Writes an incident with the events that changed it, in one transaction: a new one with
    /// its opening and the steps that came with it (an incident opened from a plan), or the
    /// changes made to the version `events.len()` before it.
    async fn put_incident(&self, incident: &Incident, events: &[IncidentEvent]) -> StoreResult<()>;
    async fn incident(&self, id: &str) -> StoreResult<Option<Incident>>;
    /// Incidents, the latest opened first: the active ones, or all opened after `since`.
    async fn incidents(
        &self,
        active_only: bool,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Incident>>;
    async fn incident_events(&self, id: &str) -> StoreResult<Vec<IncidentEvent>>;
    /// Links an alarm or case; `false` when it was linked already, or unlinked by hand and
    /// this is an automatic link.
    async fn link(
        &self,
        incident: &str,
        kind: &str,
        target: &str,
        at: DateTime<Utc>,
        auto: bool,
    ) -> StoreResult<bool>;
    /// Links by area, many at once in one transaction (a storm raises thousands of alarms a
    /// second): `(incident, kind, target, at)`; those linked already or unlinked by hand are
    /// left as they are. Not audited: the incident's areas decided them. How many were new.
    async fn link_automatically(
        &self,
        links: &[(String, &'static str, String, DateTime<Utc>)],
    ) -> StoreResult<u64>;
    /// The alarms raised and the cases reported in `areas` (subtree prefixes of area codes)
    /// since `since`, for the linker to catch up what its live path missed (a lagging
    /// subscriber, a restart).
    async fn raised_since(
        &self,
        areas: &[String],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<Raised>>;
    /// Unlinks by hand; `false` when it was not linked.
    async fn unlink(&self, incident: &str, kind: &str, target: &str) -> StoreResult<bool>;
    async fn links(&self, incident: &str) -> StoreResult<Vec<IncidentLink>>;
    async fn put_plan(&self, plan: &ContingencyPlan) -> StoreResult<()>;
    async fn plans(&self) -> StoreResult<Vec<ContingencyPlan>>;
    /// Keeps a task's photo; the same image (by SHA-256) for the same task once, else
    /// [`StoreError::Duplicate`] naming `sha256`.
    async fn add_incident_photo(&self, photo: &IncidentPhoto) -> StoreResult<()>;
    /// The photos uploaded to an incident's tasks, in upload order.
    async fn incident_photos(&self, incident: &str) -> StoreResult<Vec<IncidentPhoto>>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> EmergencyStore for SqlStore<D, A> {
    async fn put_warning(
        &self,
        warning: &Warning,
        cap_key: Option<&str>,
        action: &str,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if warning.version == 1 {
            let written = D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO warnings (id, issued_at, expires_at, lifted_at, version, doc)
                     VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT DO NOTHING",
                )
                .bind(&warning.id)
                .bind(crate::millis(warning.issued_at))
                .bind(crate::millis(warning.expires_at))
                .bind(warning.lifted_at.map(crate::millis))
                .bind(crate::encode_json(warning)),
            )
            .await?;
            if written == 0 {
                return Err(StoreError::Duplicate { field: "id" });
            }
        } else {
            let written = D::execute(
                &mut tx,
                Statement::new(
                    "UPDATE warnings SET expires_at = $1, lifted_at = $2, version = $3, doc = $4
                     WHERE id = $5 AND version = $6",
                )
                .bind(crate::millis(warning.expires_at))
                .bind(warning.lifted_at.map(crate::millis))
                .bind(i64::from(warning.version))
                .bind(crate::encode_json(warning))
                .bind(&warning.id)
                .bind(i64::from(warning.version - 1)),
            )
            .await?;
            if written == 0 {
                return Err(StoreError::Conflict(format!(
                    "warning {} changed meanwhile",
                    warning.id
                )));
            }
        }
        if let Some(key) = cap_key {
            let written = D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO warning_cap_keys (cap_key, warning_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                )
                .bind(key)
                .bind(&warning.id),
            )
            .await?;
            if written == 0 {
                return Err(StoreError::Duplicate {
                    field: "identifier",
                });
            }
        }
        let record = crate::audit::record(
            &format!("warning.{action}"),
            format!("warning:{}", warning.id),
        )
        .detail(format!(
            "{} {} {}",
            warning.hazard.as_str(),
            warning.level.as_str(),
            warning
                .areas
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn warning(&self, id: &str) -> StoreResult<Option<Warning>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM warnings WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn warning_by_cap(&self, cap_key: &str) -> StoreResult<Option<Warning>> {
        let row = self
            .read_optional(
                Statement::new(
                    "SELECT w.doc FROM warning_cap_keys k JOIN warnings w ON w.id = k.warning_id
                     WHERE k.cap_key = $1",
                )
                .bind(cap_key),
            )
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn warnings(
        &self,
        after: DateTime<Utc>,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Warning>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT doc FROM warnings
                     WHERE (lifted_at IS NULL AND expires_at > $1) OR issued_at >= $2
                     ORDER BY issued_at DESC, id LIMIT $3",
                )
                .bind(crate::millis(after))
                .bind(crate::millis(since))
                .bind(i64::from(limit)),
            )
            .await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn put_incident(&self, incident: &Incident, events: &[IncidentEvent]) -> StoreResult<()> {
        let Some(before) = u32::try_from(events.len())
            .ok()
            .and_then(|n| incident.version.checked_sub(n))
        else {
            return Err(StoreError::Conflict(format!(
                "incident {} has fewer versions than changes",
                incident.id
            )));
        };
        let mut tx = self.writer.begin().await?;
        let state = match incident.state {
            IncidentState::Active => "active",
            IncidentState::StoodDown => "stood_down",
        };
        if before == 0 {
            let written = D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO incidents (id, state, opened_at, version, doc)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(&incident.id)
                .bind(state)
                .bind(crate::millis(incident.opened_at))
                .bind(i64::from(incident.version))
                .bind(crate::encode_json(incident)),
            )
            .await?;
            if written == 0 {
                return Err(StoreError::Duplicate { field: "id" });
            }
        } else {
            let written = D::execute(
                &mut tx,
                Statement::new(
                    "UPDATE incidents SET state = $1, version = $2, doc = $3
                     WHERE id = $4 AND version = $5",
                )
                .bind(state)
                .bind(i64::from(incident.version))
                .bind(crate::encode_json(incident))
                .bind(&incident.id)
                .bind(i64::from(before)),
            )
            .await?;
            if written == 0 {
                return Err(StoreError::Conflict(format!(
                    "incident {} changed meanwhile",
                    incident.id
                )));
            }
        }
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO incident_events (incident_id, seq, at, doc)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&incident.id)
                .bind(i64::from(event.seq))
                .bind(crate::millis(event.at))
                .bind(crate::encode_json(event)),
            )
            .await?;
            records.push(
                crate::audit::record(
                    &format!("incident.{}", event.command.name()),
                    format!("incident:{}", incident.id),
                )
                .detail(incident.title.clone()),
            );
        }
        self.audit_in(&mut tx, records).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident(&self, id: &str) -> StoreResult<Option<Incident>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM incidents WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn incidents(
        &self,
        active_only: bool,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Incident>> {
        let mut statement = Statement::new("SELECT doc FROM incidents WHERE ");
        if active_only {
            statement.push("state = 'active'");
        } else {
            statement
                .push("(state = 'active' OR opened_at >= ")
                .push_bind(crate::millis(since))
                .push(")");
        }
        statement
            .push(" ORDER BY opened_at DESC, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = self.read_all(statement).await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn incident_events(&self, id: &str) -> StoreResult<Vec<IncidentEvent>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT doc FROM incident_events WHERE incident_id = $1 ORDER BY seq",
                )
                .bind(id),
            )
            .await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn link(
        &self,
        incident: &str,
        kind: &str,
        target: &str,
        at: DateTime<Utc>,
        auto: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let written = D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO incident_links (incident_id, kind, target, at, auto, unlinked)
                 VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT DO NOTHING",
            )
            .bind(incident)
            .bind(kind)
            .bind(target)
            .bind(crate::millis(at))
            .bind(i64::from(auto)),
        )
        .await?;
        // A link undone by hand comes back only by hand.
        let relinked = if written == 0 && !auto {
            D::execute(
                &mut tx,
                Statement::new(
                    "UPDATE incident_links SET unlinked = 0, auto = 0, at = $1
                     WHERE incident_id = $2 AND kind = $3 AND target = $4 AND unlinked = 1",
                )
                .bind(crate::millis(at))
                .bind(incident)
                .bind(kind)
                .bind(target),
            )
            .await?
        } else {
            0
        };
        if !auto && written + relinked > 0 {
            let record = crate::audit::record("incident.link", format!("incident:{incident}"))
                .detail(format!("{kind}:{target}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(written + relinked > 0)
    }

    async fn link_automatically(
        &self,
        links: &[(String, &'static str, String, DateTime<Utc>)],
    ) -> StoreResult<u64> {
        if links.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let mut written = 0;
        // Rows of 5 parameters, well under SQLite's and PostgreSQL's limits per statement.
        for chunk in links.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO incident_links (incident_id, kind, target, at, auto, unlinked) VALUES ",
            );
            for (i, (incident, kind, target, at)) in chunk.iter().enumerate() {
                if i > 0 {
                    statement.push(", ");
                }
                statement
                    .push("(")
                    .push_bind(incident.as_str())
                    .push(", ")
                    .push_bind(*kind)
                    .push(", ")
                    .push_bind(target.as_str())
                    .push(", ")
                    .push_bind(crate::millis(*at))
                    .push(", 1, 0)");
            }
            statement.push(" ON CONFLICT DO NOTHING");
            written += D::execute(&mut tx, statement).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn raised_since(
        &self,
        areas: &[String],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<Raised>> {
        if areas.is_empty() {
            return Ok(Vec::new());
        }
        let within = |statement: &mut Statement| {
            statement.push(" AND (");
            for (i, area) in areas.iter().enumerate() {
                if i > 0 {
                    statement.push(" OR ");
                }
                statement.push("area LIKE ").push_bind(format!("{area}%"));
            }
            statement.push(")");
        };
        let mut alarms = Statement::new("SELECT doc FROM alarms WHERE raised_at >= ");
        alarms.push_bind(crate::millis(since));
        within(&mut alarms);
        let mut raised: Vec<Raised> = self
            .read_all(alarms)
            .await?
            .iter()
            .map(|r| {
                let alarm: cityops_domain::telemetry::Alarm = r.json("doc")?;
                Ok(Raised {
                    kind: "alarm",
                    id: alarm.id,
                    class: Some(alarm.indicator),
                    area: alarm.area.to_string(),
                    at: alarm.raised_at,
                })
            })
            .collect::<StoreResult<_>>()?;
        let mut cases =
            Statement::new("SELECT id, category, area, created_at FROM cases WHERE created_at >= ");
        cases.push_bind(crate::millis(since));
        within(&mut cases);
        for r in self.read_all(cases).await? {
            raised.push(Raised {
                kind: "case",
                id: r.text("id")?,
                class: r.text_opt("category")?,
                area: r.text("area")?,
                at: r.time("created_at")?,
            });
        }
        Ok(raised)
    }

    async fn unlink(&self, incident: &str, kind: &str, target: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let written = D::execute(
            &mut tx,
            Statement::new(
                "UPDATE incident_links SET unlinked = 1
                 WHERE incident_id = $1 AND kind = $2 AND target = $3 AND unlinked = 0",
            )
            .bind(incident)
            .bind(kind)
            .bind(target),
        )
        .await?;
        if written > 0 {
            let record = crate::audit::record("incident.unlink", format!("incident:{incident}"))
                .detail(format!("{kind}:{target}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(written > 0)
    }

    async fn links(&self, incident: &str) -> StoreResult<Vec<IncidentLink>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT kind, target, at, auto FROM incident_links
                     WHERE incident_id = $1 AND unlinked = 0 ORDER BY at, kind, target",
                )
                .bind(incident),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentLink {
                    kind: r.text("kind")?,
                    target: r.text("target")?,
                    at: r.time("at")?,
                    auto: r.int("auto")? != 0,
                })
            })
            .collect()
    }

    async fn put_plan(&self, plan: &ContingencyPlan) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO contingency_plans (id, doc) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )
            .bind(&plan.id)
            .bind(crate::encode_json(plan)),
        )
        .await?;
        let record =
            crate::audit::record("plan.put", format!("plan:{}", plan.id)).detail(plan.name.clone());
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn plans(&self) -> StoreResult<Vec<ContingencyPlan>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT doc FROM contingency_plans ORDER BY id",
            ))
            .await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn add_incident_photo(&self, photo: &IncidentPhoto) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let written = D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO incident_photos (id, incident_id, task, file_name, content_type,
                     size, sha256, path, uploaded_by, uploaded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(&photo.id)
            .bind(&photo.incident_id)
            .bind(i64::from(photo.task))
            .bind(&photo.file_name)
            .bind(&photo.content_type)
            .bind(photo.size)
            .bind(&photo.sha256)
            .bind(&photo.path)
            .bind(&photo.uploaded_by)
            .bind(crate::millis(photo.uploaded_at)),
        )
        .await?;
        if written == 0 {
            return Err(StoreError::Duplicate { field: "sha256" });
        }
        let record =
            crate::audit::record("incident.photo", format!("incident:{}", photo.incident_id))
                .detail(format!("task {}: {}", photo.task, photo.sha256));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident_photos(&self, incident: &str) -> StoreResult<Vec<IncidentPhoto>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, incident_id, task, file_name, content_type, size, sha256, path,
                            uploaded_by, uploaded_at
                     FROM incident_photos WHERE incident_id = $1 ORDER BY uploaded_at, id",
                )
                .bind(incident),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentPhoto {
                    id: r.text("id")?,
                    incident_id: r.text("incident_id")?,
                    task: u32::try_from(r.int("task")?).unwrap_or(0),
                    file_name: r.text("file_name")?,
                    content_type: r.text("content_type")?,
                    size: r.int("size")?,
                    sha256: r.text("sha256")?,
                    path: r.text("path")?,
                    uploaded_by: r.text("uploaded_by")?,
                    uploaded_at: r.time("uploaded_at")?,
                })
            })
            .collect()
    }
}
