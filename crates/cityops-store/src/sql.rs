//! The one implementation of the store: [`SqlStore`], generic over the [`Dialect`] it runs
//! on and over whether it keeps the audit log.
//!
//! The per-aggregate traits are implemented in their own modules (`cases`, `geography`,
//! `telemetry`, `trust`, `audit`); this module holds the store's state, the helpers they
//! share, and the two audit policies.

use cityops_domain::audit::AuditRecord;
use sqlx::Pool;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::audit::HeadHint;
use crate::dialect::{Connection, Dialect, Row};
use crate::statement::Statement;
use crate::{PiiKeys, SessionCache, StoreError, StoreResult};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Audited {}
    impl Sealed for super::Unaudited {}
}

/// Whether a store appends to the audit log. Sealed: [`Audited`] or [`Unaudited`].
pub trait AuditPolicy: sealed::Sealed + Send + Sync + 'static {
    const RECORDS: bool;
}

/// Every write appends its audit entry in its own transaction: the only policy a
/// [`crate::Store`] (and so the server) can have.
pub struct Audited;

/// Writes without audit entries, so a benchmark can measure what the log costs. Such a
/// store implements [`crate::CaseStore`] but not [`crate::Store`]: the server cannot be
/// built on it. Made only by [`crate::open_unaudited`].
pub struct Unaudited;

impl AuditPolicy for Audited {
    const RECORDS: bool = true;
}

impl AuditPolicy for Unaudited {
    const RECORDS: bool = false;
}

/// A store on SQLite or PostgreSQL. A case change is written as the case row, its timeline
/// event, an outbox row and its audit entry in ONE transaction; every method returns only
/// after commit, so whatever a caller acknowledges is durable.
pub struct SqlStore<D: Dialect, A: AuditPolicy = Audited> {
    pub(crate) writer: Pool<D::Db>,
    pub(crate) reader: Pool<D::Db>,
    /// Case writes, committed in batches by the writer task (see `cases::run_writer`).
    pub(crate) jobs: tokio::sync::mpsc::Sender<crate::batch::Job>,
    pub(crate) pii: PiiKeys,
    pub(crate) sessions: Arc<SessionCache>,
    pub(crate) audit_head: Arc<HeadHint>,
    policy: PhantomData<A>,
}

/// The embedded default.
pub type SqliteStore = SqlStore<crate::dialect::Sqlite>;
/// Production.
pub type PgStore = SqlStore<crate::dialect::Postgres>;

impl<D: Dialect, A: AuditPolicy> SqlStore<D, A> {
    /// Connects, migrates, and starts the group-commit writer of case changes.
    pub async fn open(url: &str, pii: PiiKeys) -> StoreResult<SqlStore<D, A>> {
        let pools = D::open(url).await?;
        let audit_head = Arc::new(HeadHint::default());
        let jobs = crate::cases::spawn_writer::<D, A>(
            pools.writer.clone(),
            pii.clone(),
            audit_head.clone(),
        );
        Ok(SqlStore {
            writer: pools.writer,
            reader: pools.reader,
            jobs,
            pii,
            sessions: Default::default(),
            audit_head,
            policy: PhantomData,
        })
    }

    /// Every row a read statement returns.
    pub(crate) async fn read_all(&self, statement: Statement) -> StoreResult<Vec<Row<D>>> {
        let mut conn = self.reader.acquire().await?;
        D::fetch_all(&mut conn, statement).await
    }

    pub(crate) async fn read_optional(&self, statement: Statement) -> StoreResult<Option<Row<D>>> {
        let mut conn = self.reader.acquire().await?;
        D::fetch_optional(&mut conn, statement).await
    }

    /// The one row a statement must return (an aggregate, a singleton row).
    pub(crate) async fn read_one(&self, statement: Statement) -> StoreResult<Row<D>> {
        let what = statement.text.clone();
        self.read_optional(statement)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row answered `{what}`")))
    }

    /// Appends `records` to the audit log inside the caller's transaction.
    pub(crate) async fn audit_in(
        &self,
        conn: &mut Connection<D>,
        records: Vec<AuditRecord>,
    ) -> StoreResult<()> {
        append_audit::<D, A>(&self.audit_head, conn, records).await
    }

    /// A case document as read back: its reporter's contact opened.
    pub(crate) fn open_case_doc(&self, doc: &str) -> StoreResult<cityops_domain::Case> {
        Ok(self.pii.open_case(crate::decode_json(doc)?)?)
    }
}

/// Appends `records` to the chain inside a transaction, under the store's audit policy.
pub(crate) async fn append_audit<D: Dialect, A: AuditPolicy>(
    hint: &HeadHint,
    conn: &mut Connection<D>,
    records: Vec<AuditRecord>,
) -> StoreResult<()> {
    if !A::RECORDS {
        return Ok(());
    }
    crate::audit::append_in::<D>(hint, conn, records).await
}

/// Adds `n` to the count column `n` of the row of `table` whose key columns hold `key`, in the
/// caller's transaction: the row is made when missing, and goes when its count reaches zero
/// (the evaluation's daily and monthly sums, the screen's counts of open cases).
pub(crate) async fn add_to_count<D: Dialect>(
    tx: &mut Connection<D>,
    table: &str,
    key: &[(&str, crate::statement::Value)],
    n: i64,
) -> StoreResult<()> {
    if n == 0 {
        return Ok(());
    }
    let columns: Vec<&str> = key.iter().map(|(column, _)| *column).collect();
    let columns = columns.join(", ");
    let with_key = |mut statement: Statement| {
        for (_, value) in key {
            statement = statement.bind(value.clone());
        }
        statement
    };
    let placeholders: Vec<String> = (1..=key.len() + 1).map(|i| format!("${i}")).collect();
    D::execute(
        tx,
        with_key(Statement::new(format!(
            "INSERT INTO {table} ({columns}, n) VALUES ({})
             ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n",
            placeholders.join(", ")
        )))
        .bind(n),
    )
    .await?;
    if n < 0 {
        let matches: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = ${}", i + 1))
            .collect();
        D::execute(
            tx,
            with_key(Statement::new(format!(
                "DELETE FROM {table} WHERE {} AND n <= 0",
                matches.join(" AND ")
            ))),
        )
        .await?;
    }
    Ok(())
}
