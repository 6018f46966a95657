//! PostgreSQL, for production: the same SQL as SQLite, a connection pool, default
//! (READ COMMITTED) isolation; the version check in `UPDATE ... WHERE version = $n`
//! makes concurrent transitions of one case safe.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use crate::{Backend, StoreResult};

#[derive(Clone)]
pub struct PgStore {
    pub(crate) writer: Pool<Postgres>,
    pub(crate) reader: Pool<Postgres>,
}

impl PgStore {
    pub async fn open(url: &str) -> StoreResult<PgStore> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            writer: pool.clone(),
            reader: pool,
        })
    }

    pub(crate) fn backend_kind(&self) -> Backend {
        Backend::Postgres
    }
}

crate::sql::sql_store!(PgStore, Postgres);
