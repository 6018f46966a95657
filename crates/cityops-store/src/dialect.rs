//! What differs between SQLite and PostgreSQL, and nothing else.
//!
//! The store is one implementation ([`crate::SqlStore`]) generic over a [`Dialect`]. Both
//! databases read the same SQL (placeholders `$1..$n`, `ON CONFLICT ... DO UPDATE`,
//! `UPDATE ... RETURNING`, TEXT, BIGINT and DOUBLE columns), so a dialect holds only what
//! really differs:
//! - opening: SQLite is one file with one writer connection, WAL and `synchronous=FULL`, and
//!   a read-only pool beside it; PostgreSQL is one pool. Each has its own migrations folder.
//! - the guarded first statement of an audit append (PostgreSQL moves the chain's head in a
//!   data-modifying `WITH`; SQLite inserts only while the head still holds, and a trigger
//!   moves it), see [`Dialect::append_entries_if_head`];
//! - running a [`Statement`] and reading a row, which must name the database's own types.
//!
//! The trait is sealed: the store's invariants (one writer, the audit chain) are proved for
//! these two databases only.

use chrono::{DateTime, Utc};
use cityops_domain::audit::{AuditEntry, ChainHead};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ColumnIndex, Database, Decode, Encode, Pool, Type};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use crate::statement::{Statement, Value};
use crate::{StoreError, StoreResult};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Sqlite {}
    impl Sealed for super::Postgres {}
    impl Sealed for sqlx::sqlite::SqliteRow {}
    impl Sealed for sqlx::postgres::PgRow {}
}

/// The pools a store writes and reads through (the same pool on PostgreSQL).
pub struct Pools<DB: Database> {
    pub writer: Pool<DB>,
    pub reader: Pool<DB>,
}

/// The connection a statement runs on: a pooled one, or the one of a transaction.
pub type Connection<D> = <<D as Dialect>::Db as Database>::Connection;
/// A row as a dialect reads it back; read its columns through [`Columns`].
pub type Row<D> = <<D as Dialect>::Db as Database>::Row;

/// A database the store runs on. Sealed: implemented by [`Sqlite`] and [`Postgres`].
pub trait Dialect: sealed::Sealed + Send + Sync + 'static {
    type Db: Database<Row: Columns>;

    /// Connects, brings the schema up to date and returns the pools.
    fn open(url: &str) -> impl Future<Output = StoreResult<Pools<Self::Db>>> + Send;

    /// Runs a statement; returns the rows it changed.
    fn execute(
        conn: &mut Connection<Self>,
        statement: Statement,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    fn fetch_all(
        conn: &mut Connection<Self>,
        statement: Statement,
    ) -> impl Future<Output = StoreResult<Vec<Row<Self>>>> + Send;

    fn fetch_optional(
        conn: &mut Connection<Self>,
        statement: Statement,
    ) -> impl Future<Output = StoreResult<Option<Row<Self>>>> + Send;

    /// The first statement of an audit append: inserts `entries` (the first of those computed
    /// from `from`) and moves the head to `to` (the last entry of the whole append), but only
    /// if the head still is `from`; otherwise it changes nothing and reports 0 rows.
    fn append_entries_if_head(
        from: &ChainHead,
        to: &ChainHead,
        entries: &[AuditEntry],
    ) -> Statement;
}

/// The columns of a row, read by name in the schema's types.
pub trait Columns: sealed::Sealed {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn text_opt(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn int_opt(&self, column: &str) -> StoreResult<Option<i64>>;
    fn real(&self, column: &str) -> StoreResult<f64>;

    /// A time stored as Unix milliseconds.
    fn time(&self, column: &str) -> StoreResult<DateTime<Utc>> {
        crate::from_millis(self.int(column)?)
    }

    fn time_opt(&self, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.int_opt(column)?.map(crate::from_millis).transpose()
    }

    /// A boolean stored as 0 or 1.
    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.int(column)? != 0)
    }

    /// A JSON document stored as text.
    fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> StoreResult<T> {
        crate::decode_json(&self.text(column)?)
    }
}

/// The embedded default: one file, written through one connection.
pub struct Sqlite;

/// Production: a server shared by every node.
pub struct Postgres;

impl Dialect for Sqlite {
    type Db = sqlx::Sqlite;

    async fn open(url: &str) -> StoreResult<Pools<sqlx::Sqlite>> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A commit is on disk before the API answers.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // A statement that upserts many rows inside a larger transaction keeps a
            // statement journal; on a file it spilled megabytes a second to disk when the
            // rollups were flushed. It is scratch space, lost harmlessly with the statement.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        // SQLite has one writer anyway; a dedicated writer connection avoids the BUSY errors
        // of deferred transactions upgrading to write locks.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Pools { writer, reader })
    }

    async fn execute(conn: &mut sqlx::SqliteConnection, statement: Statement) -> StoreResult<u64> {
        let Statement { text, values } = statement;
        let done = bind_all(sqlx::query(&text), values)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    async fn fetch_all(
        conn: &mut sqlx::SqliteConnection,
        statement: Statement,
    ) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>> {
        let Statement { text, values } = statement;
        Ok(bind_all(sqlx::query(&text), values)
            .fetch_all(&mut *conn)
            .await?)
    }

    async fn fetch_optional(
        conn: &mut sqlx::SqliteConnection,
        statement: Statement,
    ) -> StoreResult<Option<sqlx::sqlite::SqliteRow>> {
        let Statement { text, values } = statement;
        Ok(bind_all(sqlx::query(&text), values)
            .fetch_optional(&mut *conn)
            .await?)
    }

    /// The insert runs only while the head row still holds `from`; the
    /// `audit_log_extends_head` trigger (migration 0011) then moves the head entry by entry
    /// and refuses an entry numbered past the head that does not extend it.
    fn append_entries_if_head(
        from: &ChainHead,
        _to: &ChainHead,
        entries: &[AuditEntry],
    ) -> Statement {
        let mut statement = Statement::new(format!("{INSERT_AUDIT_LOG} SELECT * FROM ("));
        push_entries(&mut statement, entries);
        statement
            .push(") AS entries WHERE EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = ")
            .push_bind(from.seq)
            .push(" AND hash = ")
            .push_bind(from.hash.clone())
            .push(")");
        statement
    }
}

impl Dialect for Postgres {
    type Db = sqlx::Postgres;

    async fn open(url: &str) -> StoreResult<Pools<sqlx::Postgres>> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Pools {
            writer: pool.clone(),
            reader: pool,
        })
    }

    async fn execute(conn: &mut sqlx::PgConnection, statement: Statement) -> StoreResult<u64> {
        let Statement { text, values } = statement;
        let done = bind_all(sqlx::query(&text), values)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    async fn fetch_all(
        conn: &mut sqlx::PgConnection,
        statement: Statement,
    ) -> StoreResult<Vec<sqlx::postgres::PgRow>> {
        let Statement { text, values } = statement;
        Ok(bind_all(sqlx::query(&text), values)
            .fetch_all(&mut *conn)
            .await?)
    }

    async fn fetch_optional(
        conn: &mut sqlx::PgConnection,
        statement: Statement,
    ) -> StoreResult<Option<sqlx::postgres::PgRow>> {
        let Statement { text, values } = statement;
        Ok(bind_all(sqlx::query(&text), values)
            .fetch_optional(&mut *conn)
            .await?)
    }

    /// The head moves in a data-modifying `WITH` that matches only the expected head, and
    /// the entries are inserted only if it moved: one statement, one round trip.
    fn append_entries_if_head(
        from: &ChainHead,
        to: &ChainHead,
        entries: &[AuditEntry],
    ) -> Statement {
        let mut statement = Statement::new("WITH moved AS (UPDATE audit_head SET seq = ");
        statement
            .push_bind(to.seq)
            .push(", hash = ")
            .push_bind(to.hash.clone())
            .push(" WHERE id = 1 AND seq = ")
            .push_bind(from.seq)
            .push(" AND hash = ")
            .push_bind(from.hash.clone())
            .push(" RETURNING 1) ")
            .push(INSERT_AUDIT_LOG)
            .push(" SELECT * FROM (");
        push_entries(&mut statement, entries);
        statement.push(") AS entries WHERE EXISTS (SELECT 1 FROM moved)");
        statement
    }
}

pub(crate) const INSERT_AUDIT_LOG: &str = "INSERT INTO audit_log (seq, at, actor, role, scope, origin, action, object, result, detail, prev_hash, hash)";

/// `VALUES (..)` of audit entries in the column order of [`INSERT_AUDIT_LOG`]. Audit times
/// are microseconds: entries of one request must keep their order when re-read.
pub(crate) fn push_entries(statement: &mut Statement, entries: &[AuditEntry]) {
    statement.push_values(entries, |row, e| {
        row.bind(e.seq)
            .bind(e.record.at.timestamp_micros())
            .bind(&e.record.actor.actor)
            .bind(&e.record.actor.role)
            .bind(&e.record.actor.scope)
            .bind(&e.record.actor.origin)
            .bind(&e.record.action)
            .bind(&e.record.object)
            .bind(&e.record.result)
            .bind(&e.record.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash);
    });
}

/// Binds a statement's values. The one place that names sqlx's generic bounds: the three
/// column types, optional, for either database.
fn bind_all<'q, DB: Database>(
    mut query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
{
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(n) => query.bind(n),
            Value::Real(x) => query.bind(x),
        };
    }
    query
}

/// Reads one column; the other [`Columns`] methods are this with a type.
fn column<'r, R, T>(row: &'r R, column: &str) -> StoreResult<T>
where
    R: sqlx::Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(row.try_get::<T, _>(column)?)
}

impl Columns for sqlx::sqlite::SqliteRow {
    fn text(&self, name: &str) -> StoreResult<String> {
        column(self, name)
    }
    fn text_opt(&self, name: &str) -> StoreResult<Option<String>> {
        column(self, name)
    }
    fn int(&self, name: &str) -> StoreResult<i64> {
        column(self, name)
    }
    fn int_opt(&self, name: &str) -> StoreResult<Option<i64>> {
        column(self, name)
    }
    fn real(&self, name: &str) -> StoreResult<f64> {
        column(self, name)
    }
}

impl Columns for sqlx::postgres::PgRow {
    fn text(&self, name: &str) -> StoreResult<String> {
        column(self, name)
    }
    fn text_opt(&self, name: &str) -> StoreResult<Option<String>> {
        column(self, name)
    }
    fn int(&self, name: &str) -> StoreResult<i64> {
        column(self, name)
    }
    fn int_opt(&self, name: &str) -> StoreResult<Option<i64>> {
        column(self, name)
    }
    fn real(&self, name: &str) -> StoreResult<f64> {
        column(self, name)
    }
}
