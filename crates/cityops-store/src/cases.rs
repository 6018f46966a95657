//! Cases and their workflow as stored: the case rows, their timelines, attachments, the
//! outbox, the category catalogue and the responsibility matrix.
//!
//! Case writes go through a queue to one writer task that commits whatever has queued in
//! ONE transaction (group commit) and only then answers each caller, so one fsync (and one
//! lock on a district's daily number row) serves a burst.

use async_trait::async_trait;
use chrono::Utc;
use cityops_domain::{AreaCode, Case, CaseNumber, CategoryCatalog, TimelineEvent};
use sqlx::Pool;
use tokio::sync::{mpsc, oneshot};

use crate::audit::HeadHint;
use crate::batch::{Done, Job, MAX_BATCH, QUEUE};
use crate::dialect::{Columns, Connection, Dialect};
use crate::sql::{append_audit, AuditPolicy};
use crate::statement::Statement;
use crate::{
    Attachment, AttachmentReview, CaseFact, CasePage, CaseQuery, PiiKeys, PublicCopy, SqlStore,
    StoreError, StoreResult,
};

/// Cases and the workflow's reference data.
#[async_trait]
pub trait CaseStore: Send + Sync + 'static {
    /// Inserts a new case with its first timeline event, assigning the case number from the
    /// district's daily sequence in the same transaction. Returns the case as stored.
    async fn insert_case(&self, case: Case, event: TimelineEvent) -> StoreResult<Case>;
    /// [`CaseStore::insert_case`], claiming `claim` in the same transaction: when another
    /// case already holds the claim, nothing is written and the answer is
    /// [`StoreError::Claimed`].
    async fn insert_claimed_case(
        &self,
        case: Case,
        event: TimelineEvent,
        claim: Option<crate::CaseClaim>,
    ) -> StoreResult<Case>;
    /// Writes a changed case (whose version is one more than the stored one), its event, an
    /// outbox row and optionally a new attachment, in one transaction. A stale version
    /// fails with [`StoreError::Conflict`] and writes nothing.
    async fn update_case(
        &self,
        case: &Case,
        event: &TimelineEvent,
        attachment: Option<&Attachment>,
    ) -> StoreResult<()>;
    /// Writes two changed cases (a merge: the report's change and the master's) in one
    /// transaction, each as [`CaseStore::update_case`] writes one: both or neither. A stale
    /// version of either fails with [`StoreError::Conflict`] and writes nothing.
    async fn update_case_pair(&self, changes: [(Case, TimelineEvent); 2]) -> StoreResult<()>;
    async fn case(&self, id: &str) -> StoreResult<Option<Case>>;
    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>>;
    async fn cases(&self, query: &CaseQuery) -> StoreResult<CasePage>;
    /// How many cases the query's scope and filters match (its page ignored).
    async fn count_cases(&self, query: &CaseQuery) -> StoreResult<u64>;
    async fn timeline(&self, case_id: &str) -> StoreResult<Vec<TimelineEvent>>;
    /// Number of cases per state, for metrics.
    async fn case_counts(&self) -> StoreResult<Vec<(String, i64)>>;
    async fn attachment(&self, id: &str) -> StoreResult<Option<Attachment>>;
    /// A case's attachments, oldest first.
    async fn case_attachments(&self, case_id: &str) -> StoreResult<Vec<Attachment>>;
    /// Records staff's review of an attachment, on the audit log. Returns the attachment as
    /// it was before (its old public copy is the caller's to delete once this returns), or
    /// `None` when there is no such attachment and nothing was written.
    async fn review_attachment(
        &self,
        id: &str,
        review: &AttachmentReview,
    ) -> StoreResult<Option<Attachment>>;

    /// Replaces the category catalogue (one current version; earlier versions live on in the
    /// terms copied into filed cases).
    async fn put_catalog(&self, catalog: &CategoryCatalog) -> StoreResult<()>;
    async fn catalog(&self) -> StoreResult<Option<CategoryCatalog>>;
    /// Replaces the responsibility matrix, all rules at once.
    async fn put_rules(&self, rules: &[cityops_domain::routing::Rule]) -> StoreResult<()>;
    async fn rules(&self) -> StoreResult<Vec<cityops_domain::routing::Rule>>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> CaseStore for SqlStore<D, A> {
    async fn insert_case(&self, case: Case, event: TimelineEvent) -> StoreResult<Case> {
        self.insert_claimed_case(case, event, None).await
    }

    async fn insert_claimed_case(
        &self,
        case: Case,
        event: TimelineEvent,
        claim: Option<crate::CaseClaim>,
    ) -> StoreResult<Case> {
        let (reply, answer) = oneshot::channel();
        let context = crate::audit::current_actor();
        self.jobs
            .send(Job::Insert {
                case,
                event,
                claim: claim.map(Box::new),
                context,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn update_case(
        &self,
        case: &Case,
        event: &TimelineEvent,
        attachment: Option<&Attachment>,
    ) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Update {
                case: case.clone(),
                event: event.clone(),
                attachment: attachment.cloned().map(Box::new),
                context: crate::audit::current_actor(),
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn update_case_pair(&self, mut changes: [(Case, TimelineEvent); 2]) -> StoreResult<()> {
        // Rows are locked in id order, as a batch locks its jobs' rows.
        changes.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Pair {
                changes: Box::new(changes),
                context: crate::audit::current_actor(),
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn case(&self, id: &str) -> StoreResult<Option<Case>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM cases WHERE id = $1").bind(id))
            .await?;
        row.map(|r| self.open_case_doc(&r.text("doc")?)).transpose()
    }

    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM cases WHERE number = $1").bind(number))
            .await?;
        row.map(|r| self.open_case_doc(&r.text("doc")?)).transpose()
    }

    async fn cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        let mut statement = Statement::new("SELECT row_no, doc FROM cases");
        push_case_filter(&mut statement, q);
        if let Some(number) = &q.after_number {
            statement
                .push(" AND number > ")
                .push_bind(number)
                .push(" ORDER BY number LIMIT ")
                .push_bind(i64::from(q.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(q.offset).unwrap_or(i64::MAX));
        } else {
            if let Some(after) = q.after {
                statement.push(" AND row_no < ").push_bind(after);
            }
            statement
                .push(" ORDER BY row_no DESC LIMIT ")
                .push_bind(i64::from(q.limit));
        }
        let rows = self.read_all(statement).await?;
        let mut cases = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
            last = Some(row.int("row_no")?);
            cases.push(self.open_case_doc(&row.text("doc")?)?);
        }
        let next = if rows.len() as u32 == q.limit && q.after_number.is_none() {
            last
        } else {
            None
        };
        Ok(CasePage { cases, next })
    }

    async fn count_cases(&self, q: &CaseQuery) -> StoreResult<u64> {
        let mut statement = Statement::new("SELECT COUNT(*) AS n FROM cases");
        push_case_filter(&mut statement, q);
        Ok(self.read_one(statement).await?.int("n")? as u64)
    }

    async fn timeline(&self, case_id: &str) -> StoreResult<Vec<TimelineEvent>> {
        let rows = self
            .read_all(
                Statement::new("SELECT doc FROM case_events WHERE case_id = $1 ORDER BY seq")
                    .bind(case_id),
            )
            .await?;
        rows.iter()
            .map(|r| Ok(self.pii.open_event(r.json("doc")?)?))
            .collect()
    }

    async fn case_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT state, COUNT(*) AS n FROM cases GROUP BY state ORDER BY state",
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.text("state")?, r.int("n")?)))
            .collect()
    }

    async fn attachment(&self, id: &str) -> StoreResult<Option<Attachment>> {
        let row = self
            .read_optional(
                Statement::new(format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1"
                ))
                .bind(id),
            )
            .await?;
        row.map(|r| attachment_of::<D>(&r)).transpose()
    }

    async fn case_attachments(&self, case_id: &str) -> StoreResult<Vec<Attachment>> {
        let rows = self
            .read_all(
                Statement::new(format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE case_id = $1 ORDER BY created_at, id"
                ))
                .bind(case_id),
            )
            .await?;
        rows.iter().map(attachment_of::<D>).collect()
    }

    async fn review_attachment(
        &self,
        id: &str,
        review: &AttachmentReview,
    ) -> StoreResult<Option<Attachment>> {
        let mut tx = self.writer.begin().await?;
        // A write first takes the row (PostgreSQL) or the database (SQLite) for this
        // transaction, so the copy read next is the one this review replaces.
        let taken = D::execute(
            &mut tx,
            Statement::new("UPDATE attachments SET review = review WHERE id = $1").bind(id),
        )
        .await?;
        if taken != 1 {
            return Ok(None);
        }
        let before = D::fetch_optional(
            &mut tx,
            Statement::new(format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1"
            ))
            .bind(id),
        )
        .await?
        .map(|r| attachment_of::<D>(&r))
        .transpose()?;
        let public = review.public.as_ref();
        D::execute(
            &mut tx,
            Statement::new(
                "UPDATE attachments SET review = $1, blur = $2, public_path = $3, public_content_type = $4,
                                        public_sha256 = $5, public_size = $6, reviewed_by = $7, reviewed_at = $8
                 WHERE id = $9",
            )
            .bind(review.review.as_str())
            .bind(crate::encode_json(&review.blur))
            .bind(public.map(|p| p.path.clone()))
            .bind(public.map(|p| p.content_type.clone()))
            .bind(public.map(|p| p.sha256.clone()))
            .bind(public.map(|p| p.size))
            .bind(&review.by)
            .bind(crate::millis(review.at))
            .bind(id),
        )
        .await?;
        let record = crate::audit::record(
            &format!("attachment.{}", review.review.as_str()),
            format!("attachment:{id}"),
        );
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(before)
    }

    async fn put_catalog(&self, catalog: &CategoryCatalog) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO category_catalog (id, version, doc, updated_at) VALUES (1, $1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc, updated_at = excluded.updated_at",
            )
            .bind(&catalog.version)
            .bind(crate::encode_json(catalog))
            .bind(crate::millis(Utc::now())),
        )
        .await?;
        let record = crate::audit::record("catalog.replace", "catalog")
            .detail(format!("version {}", catalog.version));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn catalog(&self) -> StoreResult<Option<CategoryCatalog>> {
        let row = self
            .read_optional(Statement::new(
                "SELECT doc FROM category_catalog WHERE id = 1",
            ))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn put_rules(&self, rules: &[cityops_domain::routing::Rule]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(&mut tx, Statement::new("DELETE FROM responsibility_rules")).await?;
        for (position, rule) in rules.iter().enumerate() {
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO responsibility_rules (position, category, area, owner, unit) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(position as i64)
                .bind(&rule.category)
                .bind(rule.area.as_str())
                .bind(&rule.owner)
                .bind(&rule.unit),
            )
            .await?;
        }
        let record = crate::audit::record("routing.rules.replace", "routing-rules")
            .detail(format!("{} rules", rules.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rules(&self) -> StoreResult<Vec<cityops_domain::routing::Rule>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT category, area, owner, unit FROM responsibility_rules ORDER BY position",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                cityops_domain::routing::Rule::new(
                    &r.text("category")?,
                    &r.text("area")?,
                    r.text_opt("owner")?.as_deref(),
                    &r.text("unit")?,
                )
                .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }
}

/// The `WHERE` of a case query (scope and filters, not the page), appended to `statement`.
fn push_case_filter(statement: &mut Statement, q: &CaseQuery) {
    statement
        .push(" WHERE area LIKE ")
        .push_bind(format!("{}%", q.scope.subtree_prefix()));
    if !q.states.is_empty() {
        statement
            .push(" AND state")
            .push_in(q.states.iter().map(|s| s.as_str()));
    }
    if let Some(category) = &q.category {
        statement
            .push(" AND category LIKE ")
            .push_bind(format!("{}%", crate::like_literal(category)))
            .push(" ESCAPE '\\'");
    }
    if let Some(area) = &q.area {
        statement
            .push(" AND area LIKE ")
            .push_bind(format!("{}%", area.subtree_prefix()));
    }
    if let Some(unit) = &q.unit {
        statement.push(" AND unit = ").push_bind(unit);
    }
    if let Some(unit) = &q.jurisdiction_unit {
        // The cases the unit leads, and those it assists on.
        statement
            .push(" AND (unit = ")
            .push_bind(unit)
            .push(" OR assisting LIKE ")
            .push_bind(format!("%|{}|%", crate::like_literal(unit)))
            .push(" ESCAPE '\\')");
    }
    if let Some(inspector) = &q.inspector {
        statement.push(" AND inspector = ").push_bind(inspector);
    }
    if let Some(unit) = &q.assisting {
        statement
            .push(" AND assisting LIKE ")
            .push_bind(format!("%|{}|%", crate::like_literal(unit)))
            .push(" ESCAPE '\\' AND (unit IS NULL OR unit <> ")
            .push_bind(unit)
            .push(")");
    }
    if let Some(center) = &q.coordination {
        statement
            .push(" AND coordination = ")
            .push_bind(center.to_string());
    }
    if q.appeals_pending {
        statement.push(" AND appeals_pending > 0");
    }
    if let Some(source) = q.source {
        statement.push(" AND source = ").push_bind(source.as_str());
    }
    // The `deadline` column holds `Case::running_deadline()` (NULL once the clock stops),
    // so `deadline < now` is the domain's `is_overdue`.
    match q.overdue {
        Some(true) => {
            statement
                .push(" AND deadline < ")
                .push_bind(crate::millis(q.now));
        }
        Some(false) => {
            statement
                .push(" AND (deadline IS NULL OR deadline >= ")
                .push_bind(crate::millis(q.now))
                .push(")");
        }
        None => {}
    }
    if let Some(text) = &q.text {
        let pattern = format!("%{}%", crate::like_literal(text));
        // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
        statement
            .push(" AND (LOWER(description) LIKE LOWER(")
            .push_bind(pattern.clone())
            .push(") ESCAPE '\\' OR number LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    if let Some(from) = q.created_from {
        statement
            .push(" AND created_at >= ")
            .push_bind(crate::millis(from));
    }
    if let Some(to) = q.created_to {
        statement
            .push(" AND created_at < ")
            .push_bind(crate::millis(to));
    }
}

pub(crate) fn area_code(text: &str) -> StoreResult<AreaCode> {
    AreaCode::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Starts the writer task of a store's case changes; returns its queue.
pub(crate) fn spawn_writer<D: Dialect, A: AuditPolicy>(
    pool: Pool<D::Db>,
    pii: PiiKeys,
    hint: std::sync::Arc<HeadHint>,
) -> mpsc::Sender<Job> {
    let (jobs, queue) = mpsc::channel(QUEUE);
    // One writer: row numbers (the list cursor) and outbox ids are taken at insert, so
    // batches must commit in the order they take them, or a reader paging past a number
    // could miss a row committed later with a lower one.
    tokio::spawn(run_writer::<D, A>(pool, queue, pii, hint));
    jobs
}

/// Group commit: the writer takes every case write waiting in the queue, writes them in ONE
/// transaction, commits once, and only then answers each caller. Jobs are ordered by the
/// rows they lock, so writers on other nodes cannot deadlock with this one.
async fn run_writer<D: Dialect, A: AuditPolicy>(
    pool: Pool<D::Db>,
    mut queue: mpsc::Receiver<Job>,
    pii: PiiKeys,
    hint: std::sync::Arc<HeadHint>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch.sort_by(|a, b| a.lock_key().cmp(&b.lock_key()));
        match write_batch::<D, A>(&pool, &batch, &pii, &hint).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    job.answer(result);
                }
            }
            Err(Failed::Unknown(results)) => {
                // The batch was one transaction: its first written event tells for all.
                let probe = batch
                    .iter()
                    .zip(&results)
                    .find(|(_, result)| result.is_ok())
                    .map(|(job, _)| job.event());
                match landed::<D>(&pool, probe).await {
                    Landed::Yes => {
                        for (job, result) in batch.into_iter().zip(results) {
                            job.answer(result);
                        }
                    }
                    Landed::No => {
                        tracing::warn!(jobs = batch.len(), "A batch's commit failed and did not land; writing its jobs one by one.");
                        for job in batch {
                            let result = write_alone::<D, A>(&pool, &job, &pii, &hint).await;
                            job.answer(result);
                        }
                    }
                    Landed::Unknown(why) => {
                        for job in batch {
                            job.answer(Err(StoreError::OutcomeUnknown(why.clone())));
                        }
                    }
                }
            }
            Err(Failed::Before(error)) => {
                tracing::warn!(%error, jobs = batch.len(), "Batch failed; writing its jobs one by one.");
                for job in batch {
                    let result = write_alone::<D, A>(&pool, &job, &pii, &hint).await;
                    job.answer(result);
                }
            }
        }
    }
}

/// How a batch failed: before its commit (nothing was written), or in it (it may have
/// landed; the results it would have answered are kept for the case it did).
enum Failed {
    Before(StoreError),
    Unknown(Vec<StoreResult<Done>>),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        Failed::Before(e)
    }
}

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Failed {
        Failed::Before(e.into())
    }
}

enum Landed {
    Yes,
    No,
    Unknown(String),
}

/// Whether a transaction whose COMMIT failed landed after all, told by the one row it
/// surely wrote: its event, keyed by (case, seq). Asked on a fresh connection, a few times
/// while the database comes back; `None` (nothing was written) did not land.
async fn landed<D: Dialect>(pool: &Pool<D::Db>, event: Option<&TimelineEvent>) -> Landed {
    let Some(event) = event else {
        return Landed::No;
    };
    let mut why = String::new();
    for attempt in 0..5u32 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        let found = async {
            let mut connection = pool.acquire().await?;
            D::fetch_optional(
                &mut *connection,
                Statement::new("SELECT seq FROM case_events WHERE case_id = $1 AND seq = $2")
                    .bind(&event.case_id)
                    .bind(event.seq),
            )
            .await
        }
        .await;
        match found {
            Ok(Some(_)) => return Landed::Yes,
            Ok(None) => return Landed::No,
            Err(e) => why = e.to_string(),
        }
    }
    Landed::Unknown(why)
}

/// All jobs in ONE transaction. A version conflict writes nothing, so it fails alone; any
/// other error abandons the batch (the caller then retries each job alone).
async fn write_batch<D: Dialect, A: AuditPolicy>(
    pool: &Pool<D::Db>,
    jobs: &[Job],
    pii: &PiiKeys,
    hint: &HeadHint,
) -> Result<Vec<StoreResult<Done>>, Failed> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut audit = Vec::with_capacity(jobs.len());
    for job in jobs {
        match write_job::<D>(&mut tx, job, pii).await {
            Err(StoreError::Conflict(message)) => results.push(Err(StoreError::Conflict(message))),
            // A claim already held is checked before anything of the job is written.
            Err(StoreError::Claimed) => results.push(Err(StoreError::Claimed)),
            Err(other) => return Err(Failed::Before(other)),
            Ok(done) => {
                audit.extend(job.audit_records(&done));
                results.push(Ok(done));
            }
        }
    }
    append_audit::<D, A>(hint, &mut tx, audit).await?;
    match tx.commit().await {
        Ok(()) => Ok(results),
        Err(error) => {
            tracing::warn!(%error, "A batch's COMMIT failed; finding out whether it landed.");
            Err(Failed::Unknown(results))
        }
    }
}

async fn write_alone<D: Dialect, A: AuditPolicy>(
    pool: &Pool<D::Db>,
    job: &Job,
    pii: &PiiKeys,
    hint: &HeadHint,
) -> StoreResult<Done> {
    let mut tx = pool.begin().await?;
    let done = write_job::<D>(&mut tx, job, pii).await?;
    append_audit::<D, A>(hint, &mut tx, job.audit_records(&done)).await?;
    if let Err(error) = tx.commit().await {
        return match landed::<D>(pool, Some(job.event())).await {
            Landed::Yes => Ok(done),
            Landed::No => Err(StoreError::Commit(error.to_string())),
            Landed::Unknown(why) => Err(StoreError::OutcomeUnknown(format!("{error}; {why}"))),
        };
    }
    Ok(done)
}

async fn write_job<D: Dialect>(
    tx: &mut Connection<D>,
    job: &Job,
    pii: &PiiKeys,
) -> StoreResult<Done> {
    match job {
        Job::Insert {
            case, event, claim, ..
        } => {
            if let Some(claim) = claim {
                crate::intake::write_claim::<D>(tx, claim, &case.id).await?;
            }
            write_insert::<D>(tx, case.clone(), event, pii)
                .await
                .map(|case| Done::Inserted(Box::new(case)))
        }
        Job::Update {
            case,
            event,
            attachment,
            ..
        } => write_update::<D>(tx, case, event, attachment.as_deref(), pii)
            .await
            .map(|()| Done::Updated),
        Job::Pair { changes, .. } => {
            // The batch's other jobs stay written when this pair conflicts: the savepoint
            // takes back the half of the pair that was.
            D::execute(tx, Statement::new("SAVEPOINT case_pair")).await?;
            for (case, event) in changes.iter() {
                if let Err(error) = write_update::<D>(tx, case, event, None, pii).await {
                    if matches!(error, StoreError::Conflict(_)) {
                        D::execute(tx, Statement::new("ROLLBACK TO SAVEPOINT case_pair")).await?;
                        D::execute(tx, Statement::new("RELEASE SAVEPOINT case_pair")).await?;
                    }
                    return Err(error);
                }
            }
            D::execute(tx, Statement::new("RELEASE SAVEPOINT case_pair")).await?;
            Ok(Done::Updated)
        }
    }
}

/// Writes a new case inside the caller's (batch) transaction.
async fn write_insert<D: Dialect>(
    tx: &mut Connection<D>,
    mut case: Case,
    event: &TimelineEvent,
    pii: &PiiKeys,
) -> StoreResult<Case> {
    let day = CaseNumber::day_of(case.created_at);
    let row = D::fetch_optional(
        tx,
        Statement::new(
            "INSERT INTO case_number_seq (district, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (district, day) DO UPDATE SET last = case_number_seq.last + 1
             RETURNING last",
        )
        .bind(case.district.as_str())
        .bind(day.to_string()),
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("the daily case sequence returned no row".into()))?;
    let sequence = u32::try_from(row.int("last")?)
        .map_err(|_| StoreError::Corrupt("daily case sequence overflow".into()))?;
    case.number = CaseNumber::new(&case.district, day, sequence);
    D::execute(
        tx,
        Statement::new(
            "INSERT INTO cases (id, number, version, state, source, category, area, district, unit, deadline,
                                urgent, supervised, description, created_at, updated_at, doc, closed_at, late_count, coordination,
                                reporter_tag, watch_at, inspector)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(&case.id)
        .bind(&case.number.0)
        .bind(case.version)
        .bind(case.state.as_str())
        .bind(case.source.as_str())
        .bind(category_column(&case))
        .bind(case.area.as_str())
        .bind(case.district.as_str())
        .bind(&case.unit)
        .bind(case.running_deadline().map(crate::millis))
        .bind(case.urgent)
        .bind(case.supervised)
        .bind(&case.description)
        .bind(crate::millis(case.created_at))
        .bind(crate::millis(case.updated_at))
        .bind(crate::encode_json(pii.seal_case(&case).as_ref().unwrap_or(&case)))
        .bind(case.closed_at.map(crate::millis))
        .bind(i64::from(case.late_count))
        .bind(case.coordination.as_ref().map(|c| c.center.to_string()))
        .bind(reporter_tag(&case, pii))
        .bind(case.watch_at().map(crate::millis))
        .bind(case.grid_inspector.as_ref().map(|i| i.user_id.clone())),
    )
    .await?;
    insert_event::<D>(tx, event, pii).await?;
    crate::screen::move_case::<D>(tx, None, &CaseFact::of(&case)).await?;
    let entries = cityops_domain::evaluation::entries(event, &case);
    crate::evaluation::insert_entries::<D>(tx, event, &entries).await?;
    Ok(case)
}

/// Writes a case change inside the caller's (batch) transaction.
async fn write_update<D: Dialect>(
    tx: &mut Connection<D>,
    case: &Case,
    event: &TimelineEvent,
    attachment: Option<&Attachment>,
    pii: &PiiKeys,
) -> StoreResult<()> {
    let before = crate::screen::fact_before::<D>(tx, &case.id).await?;
    let updated = D::execute(
        tx,
        Statement::new(
            "UPDATE cases SET version = $1, state = $2, category = $3, unit = $4, deadline = $5,
                              urgent = $6, supervised = $7, updated_at = $8, doc = $9,
                              closed_at = $10, late_count = $11, coordination = $12, area = $13,
                              watch_at = $16, appeals_pending = $17, assisting = $18
             WHERE id = $14 AND version = $15",
        )
        .bind(case.version)
        .bind(case.state.as_str())
        .bind(category_column(case))
        .bind(&case.unit)
        .bind(case.running_deadline().map(crate::millis))
        .bind(case.urgent)
        .bind(case.supervised)
        .bind(crate::millis(case.updated_at))
        .bind(crate::encode_json(
            pii.seal_case(case).as_ref().unwrap_or(case),
        ))
        .bind(case.closed_at.map(crate::millis))
        .bind(i64::from(case.late_count))
        .bind(case.coordination.as_ref().map(|c| c.center.to_string()))
        // Moves only when new boundaries relocate the case; queues and scopes filter on it.
        .bind(case.area.as_str())
        .bind(&case.id)
        .bind(case.version - 1)
        .bind(case.watch_at().map(crate::millis))
        .bind(case.appeals_pending() as i64)
        .bind(assisting_column(case)),
    )
    .await?;
    if updated != 1 {
        return Err(StoreError::Conflict(format!(
            "case {} changed since version {}; reload it and try again",
            case.number,
            case.version - 1
        )));
    }
    if let Some(a) = attachment {
        D::execute(
            tx,
            Statement::new(
                "INSERT INTO attachments (id, case_id, file_name, content_type, size, sha256, path, uploaded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&a.id)
            .bind(&a.case_id)
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(a.size)
            .bind(&a.sha256)
            .bind(&a.path)
            .bind(&a.uploaded_by)
            .bind(crate::millis(a.created_at)),
        )
        .await?;
    }
    insert_event::<D>(tx, event, pii).await?;
    crate::screen::move_case::<D>(tx, before.as_ref(), &CaseFact::of(case)).await?;
    let entries = cityops_domain::evaluation::entries(event, case);
    crate::evaluation::insert_entries::<D>(tx, event, &entries).await?;
    let changes = cityops_domain::evaluation::ledger_changes(event, case);
    crate::evaluation::apply_changes::<D>(tx, event, &changes).await
}

/// The `assisting` column: every unit with a part of the case, `|a|b|`, or none.
fn assisting_column(case: &Case) -> Option<String> {
    if case.assists.is_empty() {
        return None;
    }
    let mut units: Vec<&str> = case.assists.iter().map(|p| p.unit.as_str()).collect();
    units.sort_unstable();
    units.dedup();
    Some(format!("|{}|", units.join("|")))
}

const ATTACHMENT_COLUMNS: &str =
    "id, case_id, file_name, content_type, size, sha256, path, uploaded_by, created_at, review, blur,
     public_path, public_content_type, public_sha256, public_size, reviewed_by, reviewed_at";

fn attachment_of<D: Dialect>(r: &crate::dialect::Row<D>) -> StoreResult<Attachment> {
    let review = r.text("review")?;
    let public = match (
        r.text_opt("public_path")?,
        r.text_opt("public_content_type")?,
        r.text_opt("public_sha256")?,
        r.int_opt("public_size")?,
    ) {
        (Some(path), Some(content_type), Some(sha256), Some(size)) => Some(PublicCopy {
            path,
            content_type,
            sha256,
            size,
        }),
        _ => None,
    };
    Ok(Attachment {
        id: r.text("id")?,
        case_id: r.text("case_id")?,
        file_name: r.text("file_name")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
        sha256: r.text("sha256")?,
        path: r.text("path")?,
        uploaded_by: r.text("uploaded_by")?,
        created_at: r.time("created_at")?,
        review: crate::PhotoReview::parse(&review)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown photo review '{review}'")))?,
        blur: r
            .text_opt("blur")?
            .map(|text| crate::decode_json(&text))
            .transpose()?
            .unwrap_or_default(),
        public,
        reviewed_by: r.text_opt("reviewed_by")?,
        reviewed_at: r.time_opt("reviewed_at")?,
    })
}

/// The event on the timeline and in the outbox, sealed.
pub(crate) async fn insert_event<D: Dialect>(
    tx: &mut Connection<D>,
    event: &TimelineEvent,
    pii: &PiiKeys,
) -> StoreResult<()> {
    let sealed = pii.seal_event(event);
    let doc = crate::encode_json(sealed.as_ref().unwrap_or(event));
    D::execute(
        tx,
        Statement::new("INSERT INTO case_events (case_id, seq, at, doc) VALUES ($1, $2, $3, $4)")
            .bind(&event.case_id)
            .bind(event.seq)
            .bind(crate::millis(event.at))
            .bind(doc.clone()),
    )
    .await?;
    D::execute(
        tx,
        Statement::new(
            "INSERT INTO outbox (topic, case_id, payload, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(format!("case.{}", event.command.name()))
        .bind(&event.case_id)
        .bind(doc)
        .bind(crate::millis(event.at)),
    )
    .await?;
    Ok(())
}

/// The case's entry in the index of reporters' phones (see `PiiKeys::phone_tag`).
pub(crate) fn reporter_tag(case: &Case, pii: &PiiKeys) -> Option<String> {
    case.reporter
        .as_ref()
        .and_then(|r| r.phone.as_deref())
        .and_then(|phone| pii.phone_tag(phone))
}

fn category_column(case: &Case) -> Option<String> {
    case.category
        .as_ref()
        .map(|c| c.code.to_string())
        .or_else(|| case.category_hint.as_ref().map(|c| c.to_string()))
}
