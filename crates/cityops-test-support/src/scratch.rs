//! Scratch PostgreSQL databases for tests and benchmarks: each gets its own database,
//! dropped after.

use sqlx::{Connection, PgConnection};

/// A database created for one test. Call [`ScratchDatabase::drop_now`] at the end; a test
/// that panics leaves it behind with a recognisable `cityops_test_` name.
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl ScratchDatabase {
    pub async fn create(admin_url: &str) -> Result<ScratchDatabase, sqlx::Error> {
        let name = format!("cityops_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = match admin_url.rsplit_once('/') {
            Some((server, tail)) => {
                let query = tail
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default();
                format!("{server}/{name}{query}")
            }
            None => format!("{admin_url}/{name}"),
        };
        Ok(ScratchDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    pub async fn drop_now(self) -> Result<(), sqlx::Error> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        Ok(())
    }
}

/// The PostgreSQL URL tests run against, or `None` to skip them. With
/// `CITYOPS_REQUIRE_PG=1` a missing URL is an error, so CI cannot skip them silently.
pub fn test_url() -> Option<String> {
    match std::env::var("CITYOPS_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CITYOPS_REQUIRE_PG").as_deref() != Ok("1"),
                "CITYOPS_REQUIRE_PG=1 but CITYOPS_TEST_PG_URL is not set"
            );
            None
        }
    }
}
