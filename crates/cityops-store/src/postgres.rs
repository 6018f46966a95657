//! PostgreSQL, for production: the same SQL as SQLite, a connection pool, default
//! (READ COMMITTED) isolation; the version check in `UPDATE ... WHERE version = $n`
//! makes concurrent transitions of one case safe.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use crate::{Backend, StoreResult};

/// One writer: row numbers (the list cursor) and outbox ids are taken at insert, so batches
/// must commit in the order they take them, or a reader paging past a number could miss a
/// row committed later with a lower one.
const WRITERS: usize = 1;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) writer: Pool<Postgres>,
    pub(crate) reader: Pool<Postgres>,
    /// Case writes, committed in batches by the writer task.
    pub(crate) jobs: tokio::sync::mpsc::Sender<crate::batch::Job>,
    pub(crate) pii: crate::PiiKeys,
    pub(crate) sessions: std::sync::Arc<crate::SessionCache>,
    pub(crate) audit_head: std::sync::Arc<crate::audit::HeadHint>,
}

impl PgStore {
    pub async fn open(url: &str, pii: crate::PiiKeys) -> StoreResult<PgStore> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let (jobs, queue) = tokio::sync::mpsc::channel(crate::batch::QUEUE);
        let audit_head = std::sync::Arc::new(crate::audit::HeadHint::default());
        // Several writer tasks, so batches overlap their round trips to the server.
        let queue = std::sync::Arc::new(tokio::sync::Mutex::new(queue));
        for _ in 0..WRITERS {
            tokio::spawn(run_writer(
                pool.clone(),
                queue.clone(),
                pii.clone(),
                audit_head.clone(),
            ));
        }
        Ok(PgStore {
            writer: pool.clone(),
            reader: pool,
            jobs,
            pii,
            sessions: Default::default(),
            audit_head,
        })
    }

    pub(crate) fn backend_kind(&self) -> Backend {
        Backend::Postgres
    }
}

crate::sql::sql_store!(PgStore, Postgres);
crate::telemetry::telemetry_store!(PgStore, Postgres);
crate::census::census_store!(PgStore, Postgres);
crate::audit::audit_store!(PgStore, Postgres);
