//! SQLite, the embedded default: one file under the data directory, WAL journal,
//! `synchronous=FULL` so a commit is on disk before the API answers.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::str::FromStr;
use std::time::Duration;

use crate::{Backend, StoreError, StoreResult};

/// Writes go through a single connection: SQLite has one writer anyway, and a dedicated
/// writer avoids the BUSY errors of deferred transactions upgrading to write locks.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) writer: Pool<Sqlite>,
    pub(crate) reader: Pool<Sqlite>,
    /// Case writes, committed in batches by the writer task.
    pub(crate) jobs: tokio::sync::mpsc::Sender<crate::batch::Job>,
    pub(crate) pii: crate::PiiKeys,
    pub(crate) sessions: std::sync::Arc<crate::SessionCache>,
    pub(crate) audit_head: std::sync::Arc<crate::audit::HeadHint>,
}

impl SqliteStore {
    pub async fn open(url: &str, pii: crate::PiiKeys) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // A statement that upserts many rows inside a larger transaction keeps a
            // statement journal; on a file it spilled megabytes a second to disk when the
            // rollups were flushed. It is scratch space, lost harmlessly with the statement.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let (jobs, queue) = tokio::sync::mpsc::channel(crate::batch::QUEUE);
        let audit_head = std::sync::Arc::new(crate::audit::HeadHint::default());
        // SQLite has one writer: one writer task.
        let queue = std::sync::Arc::new(tokio::sync::Mutex::new(queue));
        tokio::spawn(run_writer(
            writer.clone(),
            queue,
            pii.clone(),
            audit_head.clone(),
        ));
        Ok(SqliteStore {
            writer,
            reader,
            jobs,
            pii,
            sessions: Default::default(),
            audit_head,
        })
    }

    pub(crate) fn backend_kind(&self) -> Backend {
        Backend::Sqlite
    }
}

crate::sql::sql_store!(SqliteStore, Sqlite);
crate::telemetry::telemetry_store!(SqliteStore, Sqlite);
crate::census::census_store!(SqliteStore, Sqlite);
crate::audit::audit_store!(SqliteStore, Sqlite);
