//! The audit log as stored: every write method of the store appends its audit entry in the
//! same transaction as the change it records, so a change without its entry (or an entry
//! without its change) never commits.
//!
//! Who acts is carried by the request: the API wraps each request in [`within`] a
//! [`RequestContext`] (the client address), and the authentication step names the actor with
//! [`RequestContext::identify`]. The store reads it when it writes, so no write method needs
//! an extra parameter and none can forget it. Writes made outside any request (the telemetry
//! pipeline, retention, seeding) are recorded as `system`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::audit::{AuditActor, AuditEntry, AuditRecord, ChainHead, Checkpoint};
use std::future::Future;
use std::sync::{Arc, OnceLock};

use crate::dialect::{push_entries, Columns, Connection, Dialect, INSERT_AUDIT_LOG};
use crate::statement::Statement;
use crate::{Audited, SqlStore, StoreError, StoreResult};

/// Who is behind the current request and where it comes from.
#[derive(Debug)]
pub struct RequestContext {
    origin: String,
    actor: OnceLock<AuditActor>,
}

impl RequestContext {
    pub fn new(origin: impl Into<String>) -> Arc<RequestContext> {
        Arc::new(RequestContext {
            origin: origin.into(),
            actor: OnceLock::new(),
        })
    }

    /// A context whose actor is known from the start (the command line, a background job).
    pub fn acting(actor: AuditActor) -> Arc<RequestContext> {
        let context = RequestContext::new(actor.origin.clone());
        let _ = context.actor.set(actor);
        context
    }

    /// Names the authenticated actor; the first identification of a request stands.
    pub fn identify(&self, actor: &str, role: &str, scope: &str) {
        let _ = self.actor.set(AuditActor {
            actor: actor.into(),
            role: role.into(),
            scope: scope.into(),
            origin: self.origin.clone(),
        });
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

tokio::task_local! {
    static CONTEXT: Arc<RequestContext>;
}

/// Runs `work` on behalf of `context`: the store's writes inside it are audited as its actor.
pub async fn within<F: Future>(context: Arc<RequestContext>, work: F) -> F::Output {
    CONTEXT.scope(context, work).await
}

/// The context of the current request, to carry into work it starts that outlives it (a
/// background job is audited as the one who started it).
pub fn current_context() -> Option<Arc<RequestContext>> {
    CONTEXT.try_with(Arc::clone).ok()
}

/// The actor of the current request: identified, else anonymous from its origin (a citizen
/// or someone signing in), else the system itself.
pub fn current_actor() -> AuditActor {
    CONTEXT
        .try_with(|context| {
            context.actor.get().cloned().unwrap_or_else(|| AuditActor {
                actor: "anonymous".into(),
                role: String::new(),
                scope: String::new(),
                origin: context.origin.clone(),
            })
        })
        .unwrap_or_else(|_| AuditActor::system())
}

/// Names the authenticated actor of the current request, if there is one.
pub fn identify(actor: &str, role: &str, scope: &str) {
    let _ = CONTEXT.try_with(|context| context.identify(actor, role, scope));
}

/// A record of the current actor doing `action` to `object`, now.
pub fn record(action: &str, object: impl Into<String>) -> AuditRecord {
    AuditRecord::new(&current_actor(), action, object, Utc::now())
}

/// The chain's head as this store last moved it. It is a hint, checked and never trusted:
/// an append moves the head row only if the row still holds the hinted head.
#[derive(Default)]
pub(crate) struct HeadHint(std::sync::Mutex<Option<ChainHead>>);

impl HeadHint {
    pub(crate) fn get(&self) -> Option<ChainHead> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set(&self, head: ChainHead) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(head);
    }
}

/// Which entries to read, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries numbered after this one.
    pub after: i64,
    pub limit: u32,
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends records that change nothing else (a clear-text read of personal data, a
    /// refused sign-in of an unknown user), in their own transaction.
    async fn append_audit(&self, records: Vec<AuditRecord>) -> StoreResult<()>;
    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// The recorded end of the chain.
    async fn audit_head(&self) -> StoreResult<ChainHead>;
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()>;
    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>>;
}

#[async_trait]
impl<D: Dialect> AuditStore for SqlStore<D, Audited> {
    async fn append_audit(&self, records: Vec<AuditRecord>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        self.audit_in(&mut tx, records).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_entries(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let mut statement = Statement::new(
            "SELECT seq, at, actor, role, scope, origin, action, object, result, detail, prev_hash, hash
             FROM audit_log WHERE seq > ",
        );
        statement.push_bind(q.after);
        if let Some(actor) = &q.actor {
            statement.push(" AND actor = ").push_bind(actor);
        }
        if let Some(action) = &q.action {
            statement
                .push(" AND action LIKE ")
                .push_bind(format!("{}%", crate::like_literal(action)))
                .push(" ESCAPE '\\'");
        }
        if let Some(object) = &q.object {
            statement.push(" AND object = ").push_bind(object);
        }
        if let Some(from) = q.from {
            statement
                .push(" AND at >= ")
                .push_bind(from.timestamp_micros());
        }
        if let Some(to) = q.to {
            statement
                .push(" AND at < ")
                .push_bind(to.timestamp_micros());
        }
        statement
            .push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = self.read_all(statement).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.int("seq")?,
                    record: AuditRecord {
                        at: micros(r.int("at")?, "audit time")?,
                        actor: AuditActor {
                            actor: r.text("actor")?,
                            role: r.text("role")?,
                            scope: r.text("scope")?,
                            origin: r.text("origin")?,
                        },
                        action: r.text("action")?,
                        object: r.text("object")?,
                        result: r.text("result")?,
                        detail: r.text("detail")?,
                    },
                    prev_hash: r.text("prev_hash")?,
                    hash: r.text("hash")?,
                })
            })
            .collect()
    }

    async fn audit_head(&self) -> StoreResult<ChainHead> {
        let row = self
            .read_one(Statement::new(
                "SELECT seq, hash FROM audit_head WHERE id = 1",
            ))
            .await?;
        Ok(ChainHead {
            seq: row.int("seq")?,
            hash: row.text("hash")?,
        })
    }

    async fn put_checkpoint(&self, c: &Checkpoint) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        D::execute(
            &mut conn,
            Statement::new(
                "INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (seq) DO NOTHING",
            )
            .bind(c.seq)
            .bind(&c.hash)
            .bind(c.at.timestamp_micros())
            .bind(&c.public_key)
            .bind(&c.signature),
        )
        .await?;
        Ok(())
    }

    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT seq, hash, at, public_key, signature FROM audit_checkpoints ORDER BY seq",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Checkpoint {
                    seq: r.int("seq")?,
                    hash: r.text("hash")?,
                    at: micros(r.int("at")?, "checkpoint time")?,
                    public_key: r.text("public_key")?,
                    signature: r.text("signature")?,
                })
            })
            .collect()
    }
}

fn micros(at: i64, what: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(at)
        .ok_or_else(|| StoreError::Corrupt(format!("{what} {at} is out of range")))
}

/// Appends `records` to the chain inside the caller's transaction, in one statement when it
/// can (up to 200 entries): the entries are computed from the head this store last wrote
/// ([`HeadHint`]), and they are inserted, and the head moved, only if the head still is that
/// one (see [`extend_chain`]). Otherwise (another process or connection appended since, or
/// that transaction rolled back) the head row is locked and read, and the entries computed
/// again from it. Locking the head row orders concurrent appenders (PostgreSQL) or takes the
/// single write lock (SQLite), so the chain is extended one transaction after the other,
/// never twice from the same head.
pub(crate) async fn append_in<D: Dialect>(
    hint: &HeadHint,
    conn: &mut Connection<D>,
    mut records: Vec<AuditRecord>,
) -> StoreResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    if let Some(hinted) = hint.get() {
        let mut head = hinted.clone();
        let entries: Vec<_> = records.into_iter().map(|r| head.append(r)).collect();
        if extend_chain::<D>(conn, &hinted, &entries).await? {
            hint.set(head);
            return Ok(());
        }
        records = entries.into_iter().map(|e| e.record).collect();
    }
    let row = D::fetch_optional(
        conn,
        Statement::new("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash"),
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("the audit chain has no head row".into()))?;
    let from = ChainHead {
        seq: row.int("seq")?,
        hash: row.text("hash")?,
    };
    let mut head = from.clone();
    let entries: Vec<_> = records.into_iter().map(|r| head.append(r)).collect();
    if !extend_chain::<D>(conn, &from, &entries).await? {
        return Err(StoreError::Commit(
            "the audit chain's head moved while this transaction held it".into(),
        ));
    }
    hint.set(head);
    Ok(())
}

/// Inserts `entries` (computed from `from`) and moves the head to the last of them, if the
/// head still is `from`; false (and nothing written) if it is not. The first statement
/// carries the check (see [`Dialect::append_entries_if_head`]); later chunks of a long append
/// are plain inserts. Any error is returned as it is: a failed statement aborts a PostgreSQL
/// transaction.
async fn extend_chain<D: Dialect>(
    conn: &mut Connection<D>,
    from: &ChainHead,
    entries: &[AuditEntry],
) -> StoreResult<bool> {
    let Some(last) = entries.last() else {
        return Ok(true);
    };
    let to = ChainHead {
        seq: last.seq,
        hash: last.hash.clone(),
    };
    for (n, chunk) in entries.chunks(200).enumerate() {
        let statement = if n == 0 {
            D::append_entries_if_head(from, &to, chunk)
        } else {
            let mut statement = Statement::new(format!("{INSERT_AUDIT_LOG} "));
            push_entries(&mut statement, chunk);
            statement
        };
        let inserted = D::execute(conn, statement).await?;
        if n == 0 && inserted == 0 {
            return Ok(false);
        }
        if inserted != chunk.len() as u64 {
            return Err(StoreError::Commit(format!(
                "{inserted} of {} audit entries were written",
                chunk.len()
            )));
        }
    }
    Ok(true)
}

/// The outcome of checking the stored log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: u64,
    pub head: ChainHead,
    pub checkpoints: usize,
    /// Whether checkpoint signatures were checked against a trusted key.
    pub signatures_checked: bool,
    pub findings: Vec<cityops_domain::audit::Tamper>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Reads the whole log page by page and checks it (see [`cityops_domain::audit::ChainCheck`]).
pub async fn verify_log<S: AuditStore + ?Sized>(
    store: &S,
    trusted: Option<&ed25519_dalek::VerifyingKey>,
) -> StoreResult<Verification> {
    // Head and checkpoints first: entries appended while we read are simply not covered.
    let head = store.audit_head().await?;
    let checkpoints = store.checkpoints().await?;
    let mut check = cityops_domain::audit::ChainCheck::new(checkpoints.iter().map(|c| c.seq));
    let mut query = AuditQuery {
        limit: 10_000,
        ..AuditQuery::default()
    };
    let mut entries = 0;
    loop {
        let page = store.audit_entries(&query).await?;
        for entry in page.iter().take_while(|e| e.seq <= head.seq) {
            check.push(entry);
            entries += 1;
        }
        match page.last() {
            Some(last) if page.len() == query.limit as usize && last.seq < head.seq => {
                query.after = last.seq
            }
            _ => break,
        }
    }
    Ok(Verification {
        entries,
        findings: check.finish(&head, &checkpoints, trusted),
        head,
        checkpoints: checkpoints.len(),
        signatures_checked: trusted.is_some(),
    })
}
