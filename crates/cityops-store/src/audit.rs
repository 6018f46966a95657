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

use crate::StoreResult;

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

/// Off only while `cityops bench security` measures what the audit log costs; nothing else
/// turns it off, and the server never does.
static MEASURING_WITHOUT_AUDIT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// For the security benchmark only: writes stop appending audit entries while `off` holds.
#[doc(hidden)]
pub fn measure_without_audit(off: bool) {
    MEASURING_WITHOUT_AUDIT.store(off, std::sync::atomic::Ordering::SeqCst);
}

pub(crate) fn audit_off() -> bool {
    MEASURING_WITHOUT_AUDIT.load(std::sync::atomic::Ordering::Relaxed)
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

macro_rules! audit_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::audit::AuditStore for $store {
            async fn append_audit(
                &self,
                records: Vec<cityops_domain::audit::AuditRecord>,
            ) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                append_audit_in(&self.audit_head, &mut tx, records).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_entries(
                &self,
                q: &crate::audit::AuditQuery,
            ) -> crate::StoreResult<Vec<cityops_domain::audit::AuditEntry>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT seq, at, actor, role, scope, origin, action, object, result, detail, prev_hash, hash
                     FROM audit_log WHERE seq > ",
                );
                query.push_bind(q.after);
                if let Some(actor) = &q.actor {
                    query.push(" AND actor = ").push_bind(actor.clone());
                }
                if let Some(action) = &q.action {
                    query.push(" AND action LIKE ").push_bind(format!("{}%", crate::like_literal(action)));
                    query.push(" ESCAPE '\\'");
                }
                if let Some(object) = &q.object {
                    query.push(" AND object = ").push_bind(object.clone());
                }
                if let Some(from) = q.from {
                    query.push(" AND at >= ").push_bind(from.timestamp_micros());
                }
                if let Some(to) = q.to {
                    query.push(" AND at < ").push_bind(to.timestamp_micros());
                }
                query.push(" ORDER BY seq LIMIT ").push_bind(i64::from(q.limit));
                let rows = query.build().fetch_all(&self.reader).await?;
                use sqlx::Row;
                rows.iter()
                    .map(|r| {
                        let at: i64 = r.try_get("at")?;
                        Ok(cityops_domain::audit::AuditEntry {
                            seq: r.try_get("seq")?,
                            record: cityops_domain::audit::AuditRecord {
                                at: chrono::DateTime::from_timestamp_micros(at).ok_or_else(|| {
                                    crate::StoreError::Corrupt(format!("audit time {at} is out of range"))
                                })?,
                                actor: cityops_domain::audit::AuditActor {
                                    actor: r.try_get("actor")?,
                                    role: r.try_get("role")?,
                                    scope: r.try_get("scope")?,
                                    origin: r.try_get("origin")?,
                                },
                                action: r.try_get("action")?,
                                object: r.try_get("object")?,
                                result: r.try_get("result")?,
                                detail: r.try_get("detail")?,
                            },
                            prev_hash: r.try_get("prev_hash")?,
                            hash: r.try_get("hash")?,
                        })
                    })
                    .collect()
            }

            async fn audit_head(&self) -> crate::StoreResult<cityops_domain::audit::ChainHead> {
                let (seq, hash): (i64, String) =
                    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                        .fetch_one(&self.reader)
                        .await?;
                Ok(cityops_domain::audit::ChainHead { seq, hash })
            }

            async fn put_checkpoint(
                &self,
                c: &cityops_domain::audit::Checkpoint,
            ) -> crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (seq) DO NOTHING",
                )
                .bind(c.seq)
                .bind(&c.hash)
                .bind(c.at.timestamp_micros())
                .bind(&c.public_key)
                .bind(&c.signature)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn checkpoints(&self) -> crate::StoreResult<Vec<cityops_domain::audit::Checkpoint>> {
                let rows: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
                    "SELECT seq, hash, at, public_key, signature FROM audit_checkpoints ORDER BY seq",
                )
                .fetch_all(&self.reader)
                .await?;
                rows.into_iter()
                    .map(|(seq, hash, at, public_key, signature)| {
                        Ok(cityops_domain::audit::Checkpoint {
                            seq,
                            hash,
                            at: chrono::DateTime::from_timestamp_micros(at).ok_or_else(|| {
                                crate::StoreError::Corrupt(format!("checkpoint time {at} is out of range"))
                            })?,
                            public_key,
                            signature,
                        })
                    })
                    .collect()
            }
        }

        /// Appends `records` to the chain inside the caller's transaction, in one statement
        /// when it can (up to 200 entries): the entries are computed from the head this store
        /// last wrote ([`crate::audit::HeadHint`]), and they are inserted, and the head moved,
        /// only if the head still is that one (see `extend_chain`). Otherwise (another process or connection
        /// appended since, or that transaction rolled back) the head row is locked and read,
        /// and the entries computed again from it. Locking the head row orders concurrent
        /// appenders (PostgreSQL) or takes the single write lock (SQLite), so the chain is
        /// extended one transaction after the other, never twice from the same head.
        async fn append_audit_in(
            hint: &crate::audit::HeadHint,
            tx: &mut sqlx::Transaction<'_, $db>,
            records: Vec<cityops_domain::audit::AuditRecord>,
        ) -> crate::StoreResult<()> {
            if records.is_empty() || crate::audit::audit_off() {
                return Ok(());
            }
            let mut records = records;
            if let Some(hinted) = hint.get() {
                let mut head = hinted.clone();
                let entries: Vec<_> = records.into_iter().map(|r| head.append(r)).collect();
                if extend_chain(tx, &hinted, &entries).await? {
                    hint.set(head);
                    return Ok(());
                }
                records = entries.into_iter().map(|e| e.record).collect();
            }
            let (seq, hash): (i64, String) =
                sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut **tx)
                    .await?;
            let from = cityops_domain::audit::ChainHead { seq, hash };
            let mut head = from.clone();
            let entries: Vec<_> = records.into_iter().map(|r| head.append(r)).collect();
            if !extend_chain(tx, &from, &entries).await? {
                return Err(crate::StoreError::Commit(
                    "the audit chain's head moved while this transaction held it".into(),
                ));
            }
            hint.set(head);
            Ok(())
        }

        /// Inserts `entries` (computed from `from`) and moves the head to the last of them,
        /// if the head still is `from`; false (and nothing written) if it is not. The first
        /// statement carries the check: PostgreSQL moves the head in a data-modifying `WITH`
        /// and inserts only if it moved; SQLite inserts only if the head row still holds
        /// `from`, and its trigger moves the head entry by entry. Any error is returned as
        /// it is: a failed statement aborts a PostgreSQL transaction.
        async fn extend_chain(
            tx: &mut sqlx::Transaction<'_, $db>,
            from: &cityops_domain::audit::ChainHead,
            entries: &[cityops_domain::audit::AuditEntry],
        ) -> crate::StoreResult<bool> {
            let Some(last) = entries.last() else { return Ok(true) };
            let sqlite = <$db as sqlx::Database>::NAME == "SQLite";
            for (n, chunk) in entries.chunks(200).enumerate() {
                let mut query = sqlx::QueryBuilder::<$db>::new("");
                if n == 0 && !sqlite {
                    query
                        .push("WITH moved AS (UPDATE audit_head SET seq = ")
                        .push_bind(last.seq)
                        .push(", hash = ")
                        .push_bind(last.hash.clone())
                        .push(" WHERE id = 1 AND seq = ")
                        .push_bind(from.seq)
                        .push(" AND hash = ")
                        .push_bind(from.hash.clone())
                        .push(" RETURNING 1) ");
                }
                query.push(
                    "INSERT INTO audit_log (seq, at, actor, role, scope, origin, action, object, result, detail, prev_hash, hash) ",
                );
                if n == 0 {
                    query.push("SELECT * FROM (");
                }
                query.push_values(chunk, |mut row, e| {
                    row.push_bind(e.seq)
                        .push_bind(e.record.at.timestamp_micros())
                        .push_bind(e.record.actor.actor.clone())
                        .push_bind(e.record.actor.role.clone())
                        .push_bind(e.record.actor.scope.clone())
                        .push_bind(e.record.actor.origin.clone())
                        .push_bind(e.record.action.clone())
                        .push_bind(e.record.object.clone())
                        .push_bind(e.record.result.clone())
                        .push_bind(e.record.detail.clone())
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                if n == 0 && sqlite {
                    query
                        .push(") AS entries WHERE EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = ")
                        .push_bind(from.seq)
                        .push(" AND hash = ")
                        .push_bind(from.hash.clone())
                        .push(")");
                } else if n == 0 {
                    query.push(") AS entries WHERE EXISTS (SELECT 1 FROM moved)");
                }
                let inserted = query.build().execute(&mut **tx).await?.rows_affected();
                if n == 0 && inserted == 0 {
                    return Ok(false);
                }
                if inserted != chunk.len() as u64 {
                    return Err(crate::StoreError::Commit(format!(
                        "{inserted} of {} audit entries were written",
                        chunk.len()
                    )));
                }
            }
            Ok(true)
        }
    };
}

pub(crate) use audit_store;

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
