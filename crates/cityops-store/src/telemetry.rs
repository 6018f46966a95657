//! Storage of the vital signs: devices, indicators, telemetry rules, alarms, readings,
//! rollups and dead letters.

use chrono::{DateTime, Utc};
use cityops_domain::telemetry::{Alarm, Device, Indicator, TelemetryRule};
use cityops_domain::AreaCode;
use serde::Serialize;

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreResult};

/// A reading as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredReading {
    pub device_id: String,
    pub indicator: String,
    pub at: DateTime<Utc>,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Minute,
    Hour,
}

impl Resolution {
    pub const ALL: [Resolution; 2] = [Resolution::Minute, Resolution::Hour];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Minute => "minute",
            Resolution::Hour => "hour",
        }
    }

    pub fn millis(self) -> i64 {
        match self {
            Resolution::Minute => 60_000,
            Resolution::Hour => 3_600_000,
        }
    }

    pub fn parse(text: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Downsampled history of one indicator over one area for one bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollup {
    pub resolution: Resolution,
    pub area: AreaCode,
    pub indicator: String,
    /// Start of the bucket.
    pub bucket: DateTime<Utc>,
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// `mqtt` (with the topic in `detail`) or `http`.
    pub source: String,
    /// `malformed`, `unknown_device`, `unknown_indicator`, `timestamp_out_of_range`, ...
    pub reason: String,
    pub detail: String,
    /// The payload, cut to 4 KiB.
    pub payload: String,
}

/// A reading in the log, with whether the engine judged it (new) or only kept it (late:
/// older than the newest of its series).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedReading {
    pub reading: StoredReading,
    pub late: bool,
}

/// One committed batch of the reading log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedBatch {
    pub id: i64,
    pub readings: Vec<LoggedReading>,
}

/// The log row's document: device and indicator tables, then rows
/// `[device, indicator, at_ms, value, late]` in judging order.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
struct BatchDoc {
    d: Vec<String>,
    i: Vec<String>,
    r: Vec<(u32, u32, i64, f64, u8)>,
}

fn encode_batch(readings: &[LoggedReading]) -> (i64, i64, String) {
    let mut doc = BatchDoc::default();
    let mut devices = std::collections::HashMap::new();
    let mut indicators = std::collections::HashMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for r in readings {
        let at = r.reading.at.timestamp_millis();
        first = first.min(at);
        last = last.max(at);
        let d = *devices
            .entry(r.reading.device_id.as_str())
            .or_insert_with(|| {
                doc.d.push(r.reading.device_id.clone());
                doc.d.len() as u32 - 1
            });
        let i = *indicators
            .entry(r.reading.indicator.as_str())
            .or_insert_with(|| {
                doc.i.push(r.reading.indicator.clone());
                doc.i.len() as u32 - 1
            });
        doc.r.push((d, i, at, r.reading.value, u8::from(r.late)));
    }
    (
        first,
        last,
        serde_json::to_string(&doc).expect("plain data serialises"),
    )
}

fn decode_batch(id: i64, text: &str) -> StoreResult<LoggedBatch> {
    let doc: BatchDoc = crate::decode_json(text)?;
    let name = |table: &[String], i: u32| {
        table.get(i as usize).cloned().ok_or_else(|| {
            crate::StoreError::Corrupt(format!("reading batch {id} refers to a missing entry"))
        })
    };
    let readings = doc
        .r
        .iter()
        .map(|&(d, i, at, value, late)| {
            Ok(LoggedReading {
                reading: StoredReading {
                    device_id: name(&doc.d, d)?,
                    indicator: name(&doc.i, i)?,
                    at: crate::from_millis(at)?,
                    value,
                },
                late: late != 0,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(LoggedBatch { id, readings })
}

/// Everything one batch of ingestion writes, in ONE transaction: nothing of it is
/// acknowledged to a device or client before it commits.
#[derive(Debug, Clone, Default)]
pub struct TelemetryCommit {
    /// Appended to the reading log as one row (nothing when empty).
    pub readings: Vec<LoggedReading>,
    /// Rollup deltas to add. When present they complete the rollups through the newest batch
    /// of the log (this commit's, if it appends one), and the watermark moves there.
    pub rollups: Vec<Rollup>,
    /// Alarms as they now are (insert or replace), in the order they were first touched.
    pub alarms: Vec<Alarm>,
    pub dead_letters: Vec<DeadLetter>,
    /// What people did in this batch (alarm acknowledgements); readings and the engine's
    /// own alarm changes are measurements, not acts of record, and are not audited.
    pub audit: Vec<cityops_domain::audit::AuditRecord>,
}

#[derive(Debug, Clone)]
pub struct AlarmQuery {
    /// Mandatory jurisdiction: alarms of devices in this subtree only.
    pub scope: AreaCode,
    pub area: Option<AreaCode>,
    pub active: Option<bool>,
    pub acknowledged: Option<bool>,
    pub device: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct DeviceQuery {
    pub scope: AreaCode,
    pub kind: Option<String>,
    pub limit: u32,
    /// Device ids after this one (keyset paging).
    pub after: Option<String>,
}

/// At most this many dead letters are kept; older ones go first.
pub const DEAD_LETTER_CAP: i64 = 10_000;

#[async_trait::async_trait]
pub trait TelemetryStore: Send + Sync + 'static {
    /// Replaces the indicator catalogue.
    async fn put_indicators(&self, indicators: &[Indicator]) -> StoreResult<()>;
    async fn indicators(&self) -> StoreResult<Vec<Indicator>>;

    /// Inserts or replaces devices, all in one transaction.
    async fn put_devices(&self, devices: &[Device]) -> StoreResult<u64>;
    async fn device(&self, id: &str) -> StoreResult<Option<Device>>;
    async fn devices(&self, query: &DeviceQuery) -> StoreResult<Vec<Device>>;
    /// Every device, for the rule engine at start.
    async fn all_devices(&self) -> StoreResult<Vec<Device>>;

    async fn put_telemetry_rule(&self, rule: &TelemetryRule) -> StoreResult<()>;
    async fn delete_telemetry_rule(&self, id: &str) -> StoreResult<bool>;
    async fn telemetry_rules(&self) -> StoreResult<Vec<TelemetryRule>>;

    /// Writes a batch of ingestion in one transaction.
    async fn commit_telemetry(&self, commit: &TelemetryCommit) -> StoreResult<()>;
    async fn alarm(&self, id: &str) -> StoreResult<Option<Alarm>>;
    /// The alarms of these ids that exist, in no particular order.
    async fn alarms_by_id(&self, ids: &[String]) -> StoreResult<Vec<Alarm>>;
    async fn alarms(&self, query: &AlarmQuery) -> StoreResult<Vec<Alarm>>;
    /// Active alarms and those cleared since `cleared_since`: what the engine restores.
    async fn live_alarms(&self, cleared_since: DateTime<Utc>) -> StoreResult<Vec<Alarm>>;

    /// Alarms linked to a case that does not exist: the link commits with the alarm and the
    /// case is written just after, so a stop in between leaves these.
    async fn alarms_with_missing_case(&self) -> StoreResult<Vec<Alarm>>;
    /// The log batches that end at or after `since` or come after batch `after`, in commit
    /// order: what a restart replays (rule memory) and rolls up again (after the watermark).
    async fn reading_log(&self, since: DateTime<Utc>, after: i64) -> StoreResult<Vec<LoggedBatch>>;
    /// The last log batch whose readings are in the rollups (0: none).
    async fn rollup_watermark(&self) -> StoreResult<i64>;
    async fn readings(
        &self,
        device: &str,
        indicator: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<StoredReading>>;
    async fn rollups(
        &self,
        resolution: Resolution,
        area: &AreaCode,
        indicator: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Rollup>>;
    /// Newest first.
    async fn dead_letters(&self, reason: Option<&str>, limit: u32) -> StoreResult<Vec<DeadLetter>>;
    /// Deletes log batches wholly older than the window and old minute rollups; returns the
    /// readings deleted.
    async fn prune_telemetry(
        &self,
        readings_before: DateTime<Utc>,
        minute_rollups_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

#[async_trait::async_trait]
impl<D: Dialect, A: AuditPolicy> TelemetryStore for SqlStore<D, A> {
    async fn put_indicators(&self, indicators: &[Indicator]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(&mut tx, Statement::new("DELETE FROM indicators")).await?;
        for (position, indicator) in indicators.iter().enumerate() {
            D::execute(
                &mut tx,
                Statement::new("INSERT INTO indicators (key, position, doc) VALUES ($1, $2, $3)")
                    .bind(&indicator.key)
                    .bind(position as i64)
                    .bind(crate::encode_json(indicator)),
            )
            .await?;
        }
        let record = crate::audit::record("indicators.replace", "indicators")
            .detail(format!("{} indicators", indicators.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn indicators(&self) -> StoreResult<Vec<Indicator>> {
        docs(
            self.read_all(Statement::new(
                "SELECT doc FROM indicators ORDER BY position",
            ))
            .await?,
        )
    }

    async fn put_devices(&self, devices: &[Device]) -> StoreResult<u64> {
        let now = crate::millis(Utc::now());
        let mut tx = self.writer.begin().await?;
        for chunk in devices.chunks(500) {
            let mut statement =
                Statement::new("INSERT INTO devices (id, kind, area, status, doc, updated_at) ");
            statement.push_values(chunk, |row, device| {
                row.bind(&device.id)
                    .bind(&device.kind)
                    .bind(device.area.as_str())
                    .bind(device.status.as_str())
                    .bind(crate::encode_json(device))
                    .bind(now);
            });
            statement.push(
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, area = excluded.area,
                  status = excluded.status, doc = excluded.doc, updated_at = excluded.updated_at",
            );
            D::execute(&mut tx, statement).await?;
        }
        let record = crate::audit::record("devices.import", "devices")
            .detail(format!("{} devices", devices.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(devices.len() as u64)
    }

    async fn device(&self, id: &str) -> StoreResult<Option<Device>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM devices WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn devices(&self, q: &DeviceQuery) -> StoreResult<Vec<Device>> {
        let mut statement = Statement::new("SELECT doc FROM devices WHERE area LIKE ");
        statement.push_bind(format!("{}%", q.scope.subtree_prefix()));
        if let Some(kind) = &q.kind {
            statement.push(" AND kind = ").push_bind(kind);
        }
        if let Some(after) = &q.after {
            statement.push(" AND id > ").push_bind(after);
        }
        statement
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(q.limit));
        docs(self.read_all(statement).await?)
    }

    async fn all_devices(&self) -> StoreResult<Vec<Device>> {
        docs(
            self.read_all(Statement::new("SELECT doc FROM devices ORDER BY id"))
                .await?,
        )
    }

    async fn put_telemetry_rule(&self, rule: &TelemetryRule) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO telemetry_rules (id, doc, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            )
            .bind(&rule.id)
            .bind(crate::encode_json(rule))
            .bind(crate::millis(Utc::now())),
        )
        .await?;
        let record = crate::audit::record("telemetry.rule.put", format!("rule:{}", rule.id));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_telemetry_rule(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = D::execute(
            &mut tx,
            Statement::new("DELETE FROM telemetry_rules WHERE id = $1").bind(id),
        )
        .await?;
        if done == 1 {
            let record = crate::audit::record("telemetry.rule.delete", format!("rule:{id}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(done == 1)
    }

    async fn telemetry_rules(&self) -> StoreResult<Vec<TelemetryRule>> {
        docs(
            self.read_all(Statement::new(
                "SELECT doc FROM telemetry_rules ORDER BY id",
            ))
            .await?,
        )
    }

    async fn commit_telemetry(&self, c: &TelemetryCommit) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if !c.readings.is_empty() {
            let (first, last, doc) = encode_batch(&c.readings);
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO reading_batches (first_at, last_at, count, doc) VALUES ($1, $2, $3, $4)",
                )
                .bind(first)
                .bind(last)
                .bind(c.readings.len() as i64)
                .bind(doc),
            )
            .await?;
        }
        for chunk in c.rollups.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO rollups (resolution, area, indicator, bucket, count, sum, min, max) ",
            );
            statement.push_values(chunk, |row, r| {
                row.bind(r.resolution.as_str())
                    .bind(r.area.as_str())
                    .bind(&r.indicator)
                    .bind(crate::millis(r.bucket))
                    .bind(r.count)
                    .bind(r.sum)
                    .bind(r.min)
                    .bind(r.max);
            });
            statement.push(
                " ON CONFLICT (resolution, area, indicator, bucket) DO UPDATE SET
                  count = rollups.count + excluded.count, sum = rollups.sum + excluded.sum,
                  min = CASE WHEN excluded.min < rollups.min THEN excluded.min ELSE rollups.min END,
                  max = CASE WHEN excluded.max > rollups.max THEN excluded.max ELSE rollups.max END",
            );
            D::execute(&mut tx, statement).await?;
        }
        if !c.rollups.is_empty() {
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO rollup_watermark (id, batch) SELECT 1, COALESCE(MAX(id), 0) FROM reading_batches WHERE TRUE
                     ON CONFLICT (id) DO UPDATE SET batch = excluded.batch",
                ),
            )
            .await?;
        }
        // Many rows a statement: a burst of alarm changes (a gateway falling silent takes its
        // devices with it) costs a few statements, not one per alarm. The rows keep their
        // order, so an alarm cleared before its successor is raised leaves the
        // one-active-alarm index satisfied row by row.
        for chunk in c.alarms.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO alarms (id, device_id, rule_id, level, active, acknowledged, area, raised_at, last_at, case_id, doc) ",
            );
            statement.push_values(chunk, |row, alarm| {
                row.bind(&alarm.id)
                    .bind(&alarm.device_id)
                    .bind(&alarm.rule_id)
                    .bind(alarm.level.as_str())
                    .bind(alarm.active)
                    .bind(alarm.acknowledged)
                    .bind(alarm.area.as_str())
                    .bind(crate::millis(alarm.raised_at))
                    .bind(crate::millis(alarm.last_at))
                    .bind(&alarm.case_id)
                    .bind(crate::encode_json(alarm));
            });
            statement.push(
                " ON CONFLICT (id) DO UPDATE SET level = excluded.level, active = excluded.active,
                  acknowledged = excluded.acknowledged, last_at = excluded.last_at,
                  case_id = excluded.case_id, doc = excluded.doc",
            );
            D::execute(&mut tx, statement).await?;
        }
        if !c.dead_letters.is_empty() {
            for chunk in c.dead_letters.chunks(500) {
                let mut statement = Statement::new(
                    "INSERT INTO dead_letters (received_at, source, reason, detail, payload) ",
                );
                statement.push_values(chunk, |row, letter| {
                    row.bind(crate::millis(letter.received_at))
                        .bind(&letter.source)
                        .bind(&letter.reason)
                        .bind(&letter.detail)
                        .bind(&letter.payload);
                });
                D::execute(&mut tx, statement).await?;
            }
            D::execute(
                &mut tx,
                Statement::new(
                    "DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - $1",
                )
                .bind(DEAD_LETTER_CAP),
            )
            .await?;
        }
        self.audit_in(&mut tx, c.audit.clone()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn alarm(&self, id: &str) -> StoreResult<Option<Alarm>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM alarms WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn alarms_by_id(&self, ids: &[String]) -> StoreResult<Vec<Alarm>> {
        let mut alarms = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut statement = Statement::new("SELECT doc FROM alarms WHERE id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    statement.push(", ");
                }
                statement.push_bind(id.as_str());
            }
            statement.push(")");
            alarms.extend(docs::<Alarm>(self.read_all(statement).await?)?);
        }
        Ok(alarms)
    }

    async fn alarms(&self, q: &AlarmQuery) -> StoreResult<Vec<Alarm>> {
        let mut statement = Statement::new("SELECT doc FROM alarms WHERE area LIKE ");
        statement.push_bind(format!("{}%", q.scope.subtree_prefix()));
        if let Some(area) = &q.area {
            statement
                .push(" AND area LIKE ")
                .push_bind(format!("{}%", area.subtree_prefix()));
        }
        if let Some(active) = q.active {
            statement.push(" AND active = ").push_bind(active);
        }
        if let Some(acknowledged) = q.acknowledged {
            statement
                .push(" AND acknowledged = ")
                .push_bind(acknowledged);
        }
        if let Some(device) = &q.device {
            statement.push(" AND device_id = ").push_bind(device);
        }
        statement
            .push(" ORDER BY raised_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        docs(self.read_all(statement).await?)
    }

    async fn live_alarms(&self, cleared_since: DateTime<Utc>) -> StoreResult<Vec<Alarm>> {
        docs(
            self.read_all(
                Statement::new(
                    "SELECT doc FROM alarms WHERE active = 1 OR last_at >= $1 ORDER BY raised_at",
                )
                .bind(crate::millis(cleared_since)),
            )
            .await?,
        )
    }

    async fn alarms_with_missing_case(&self) -> StoreResult<Vec<Alarm>> {
        docs(
            self.read_all(Statement::new(
                "SELECT doc FROM alarms WHERE case_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM cases WHERE cases.id = alarms.case_id)
                 ORDER BY raised_at",
            ))
            .await?,
        )
    }

    async fn reading_log(&self, since: DateTime<Utc>, after: i64) -> StoreResult<Vec<LoggedBatch>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, doc FROM reading_batches WHERE last_at >= $1 OR id > $2 ORDER BY id",
                )
                .bind(crate::millis(since))
                .bind(after),
            )
            .await?;
        rows.iter()
            .map(|r| decode_batch(r.int("id")?, &r.text("doc")?))
            .collect()
    }

    async fn rollup_watermark(&self) -> StoreResult<i64> {
        let row = self
            .read_optional(Statement::new(
                "SELECT batch FROM rollup_watermark WHERE id = 1",
            ))
            .await?;
        row.map_or(Ok(0), |r| r.int("batch"))
    }

    async fn readings(
        &self,
        device: &str,
        indicator: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<StoredReading>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, doc FROM reading_batches WHERE last_at >= $1 AND first_at < $2 ORDER BY id",
                )
                .bind(crate::millis(from))
                .bind(crate::millis(to)),
            )
            .await?;
        // A redelivered late reading may sit in the log twice: one per timestamp.
        let mut found = std::collections::BTreeMap::new();
        for row in &rows {
            let batch = decode_batch(row.int("id")?, &row.text("doc")?)?;
            for logged in batch.readings {
                let r = logged.reading;
                if r.device_id == device && r.indicator == indicator && r.at >= from && r.at < to {
                    found.entry(r.at).or_insert(r);
                }
            }
        }
        let skip = found.len().saturating_sub(limit as usize);
        Ok(found.into_values().skip(skip).collect())
    }

    async fn rollups(
        &self,
        resolution: Resolution,
        area: &AreaCode,
        indicator: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Rollup>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT bucket, count, sum, min, max FROM rollups
                     WHERE resolution = $1 AND area = $2 AND indicator = $3 AND bucket >= $4 AND bucket < $5
                     ORDER BY bucket",
                )
                .bind(resolution.as_str())
                .bind(area.as_str())
                .bind(indicator)
                .bind(crate::millis(from))
                .bind(crate::millis(to)),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Rollup {
                    resolution,
                    area: area.clone(),
                    indicator: indicator.to_owned(),
                    bucket: r.time("bucket")?,
                    count: r.int("count")?,
                    sum: r.real("sum")?,
                    min: r.real("min")?,
                    max: r.real("max")?,
                })
            })
            .collect()
    }

    async fn dead_letters(&self, reason: Option<&str>, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let mut statement = Statement::new(
            "SELECT id, received_at, source, reason, detail, payload FROM dead_letters WHERE 1 = 1",
        );
        if let Some(reason) = reason {
            statement.push(" AND reason = ").push_bind(reason);
        }
        statement
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = self.read_all(statement).await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.int("id")?,
                    received_at: r.time("received_at")?,
                    source: r.text("source")?,
                    reason: r.text("reason")?,
                    detail: r.text("detail")?,
                    payload: r.text("payload")?,
                })
            })
            .collect()
    }

    async fn prune_telemetry(
        &self,
        readings_before: DateTime<Utc>,
        minute_rollups_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let deleted = D::fetch_optional(
            &mut tx,
            Statement::new(
                "SELECT CAST(SUM(count) AS BIGINT) AS n FROM reading_batches WHERE last_at < $1",
            )
            .bind(crate::millis(readings_before)),
        )
        .await?
        .map(|r| r.int_opt("n"))
        .transpose()?
        .flatten();
        D::execute(
            &mut tx,
            Statement::new("DELETE FROM reading_batches WHERE last_at < $1")
                .bind(crate::millis(readings_before)),
        )
        .await?;
        D::execute(
            &mut tx,
            Statement::new("DELETE FROM rollups WHERE resolution = 'minute' AND bucket < $1")
                .bind(crate::millis(minute_rollups_before)),
        )
        .await?;
        tx.commit().await?;
        Ok(deleted.unwrap_or(0) as u64)
    }
}

/// The documents of rows that hold one `doc` column.
fn docs<T: serde::de::DeserializeOwned>(rows: Vec<impl Columns>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| r.json("doc")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_resolutions_are_listed_finest_first_and_read_back_from_their_names() {
        // Exhaustive: a new resolution does not compile until it has its place in the
        // sequence, and then this fails until `ALL` lists it there too.
        let coarser = |resolution: Resolution| match resolution {
            Resolution::Minute => Some(Resolution::Hour),
            Resolution::Hour => None,
        };
        let resolutions: Vec<Resolution> =
            std::iter::successors(Some(Resolution::Minute), |r| coarser(*r)).collect();
        assert_eq!(resolutions, Resolution::ALL);
        for resolution in Resolution::ALL {
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
        }
    }
}
