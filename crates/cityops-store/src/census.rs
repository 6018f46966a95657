//! Storage of the component census and of imported area boundaries. Shared SQL for both
//! backends, like `sql.rs`.

use cityops_domain::{AreaCode, Component, ComponentStatus};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// Which components to read. Pages are in id order.
#[derive(Debug, Clone)]
pub struct ComponentQuery {
    /// Mandatory: components in this area subtree only.
    pub scope: AreaCode,
    /// A small-class code or a prefix of one.
    pub class_prefix: Option<String>,
    pub status: Option<ComponentStatus>,
    /// `[min_lon, min_lat, max_lon, max_lat]`, WGS-84.
    pub bbox: Option<[f64; 4]>,
    /// Keyset paging: ids after this one.
    pub after: Option<String>,
    pub offset: u64,
    pub limit: u32,
}

impl ComponentQuery {
    pub fn within(scope: AreaCode) -> ComponentQuery {
        ComponentQuery {
            scope,
            class_prefix: None,
            status: None,
            bbox: None,
            after: None,
            offset: 0,
            limit: 1000,
        }
    }
}

/// A component's place in the nearest-component index.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentPoint {
    pub id: String,
    pub class: String,
    pub lon: f64,
    pub lat: f64,
}

/// An imported boundary: one area's geometry as GeoJSON (WGS-84).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredBoundary {
    pub code: String,
    pub parent: String,
    pub name: String,
    /// Unit grids: the responsibility grid they belong to.
    pub responsibility_grid: Option<String>,
    /// A GeoJSON Polygon or MultiPolygon geometry.
    pub geometry: String,
}

#[async_trait::async_trait]
pub trait CensusStore: Send + Sync + 'static {
    /// Inserts or replaces components, all in one transaction.
    async fn put_components(&self, components: &[Component]) -> StoreResult<u64>;
    async fn component(&self, id: &str) -> StoreResult<Option<Component>>;
    async fn components(&self, query: &ComponentQuery) -> StoreResult<Vec<Component>>;
    /// How many components the query matches, ignoring its paging.
    async fn count_components(&self, query: &ComponentQuery) -> StoreResult<u64>;
    /// Every component that is not removed, for the nearest-component index.
    async fn component_points(&self) -> StoreResult<Vec<ComponentPoint>>;

    /// Replaces the imported boundaries of one level (`district`, `street`, `community`,
    /// `grid`) in one transaction.
    async fn put_boundaries(&self, level: &str, boundaries: &[StoredBoundary]) -> StoreResult<u64>;
    /// The imported boundaries of a level, in code order; empty when none were imported.
    async fn boundaries(&self, level: &str) -> StoreResult<Vec<StoredBoundary>>;
}

macro_rules! census_store {
    ($store:ident, $db:ty) => {
        impl $store {
            fn component_filter<'q>(
                query: &mut sqlx::QueryBuilder<'q, $db>,
                q: &crate::census::ComponentQuery,
            ) {
                query.push(" WHERE area LIKE ");
                query.push_bind(format!("{}%", q.scope.subtree_prefix()));
                if let Some(prefix) = &q.class_prefix {
                    query.push(" AND class LIKE ").push_bind(format!("{prefix}%"));
                }
                if let Some(status) = q.status {
                    query.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some([min_lon, min_lat, max_lon, max_lat]) = q.bbox {
                    query.push(" AND lon >= ").push_bind(min_lon);
                    query.push(" AND lon <= ").push_bind(max_lon);
                    query.push(" AND lat >= ").push_bind(min_lat);
                    query.push(" AND lat <= ").push_bind(max_lat);
                }
            }
        }

        #[async_trait::async_trait]
        impl crate::census::CensusStore for $store {
            async fn put_components(
                &self,
                components: &[cityops_domain::Component],
            ) -> crate::StoreResult<u64> {
                let now = crate::millis(chrono::Utc::now());
                let mut tx = self.writer.begin().await?;
                for chunk in components.chunks(500) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO components (id, class, area, status, lon, lat, doc, updated_at) ",
                    );
                    query.push_values(chunk, |mut row, c| {
                        row.push_bind(c.id.clone())
                            .push_bind(c.class.as_str().to_owned())
                            .push_bind(c.area.as_str().to_owned())
                            .push_bind(c.status.as_str())
                            .push_bind(c.location.lon)
                            .push_bind(c.location.lat)
                            .push_bind(crate::encode_json(c))
                            .push_bind(now);
                    });
                    query.push(
                        " ON CONFLICT (id) DO UPDATE SET class = excluded.class, area = excluded.area,
                          status = excluded.status, lon = excluded.lon, lat = excluded.lat,
                          doc = excluded.doc, updated_at = excluded.updated_at",
                    );
                    query.build().execute(&mut *tx).await?;
                }
                let record = crate::audit::record("components.import", "components").detail(format!("{} components", components.len()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(components.len() as u64)
            }

            async fn component(&self, id: &str) -> crate::StoreResult<Option<cityops_domain::Component>> {
                let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM components WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await?;
                doc.map(|d| crate::decode_json(&d)).transpose()
            }

            async fn components(
                &self,
                q: &crate::census::ComponentQuery,
            ) -> crate::StoreResult<Vec<cityops_domain::Component>> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT doc FROM components");
                Self::component_filter(&mut query, q);
                if let Some(after) = &q.after {
                    query.push(" AND id > ").push_bind(after.clone());
                }
                query.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit));
                query.push(" OFFSET ").push_bind(q.offset.min(i64::MAX as u64) as i64);
                let docs: Vec<String> = query.build_query_scalar().fetch_all(&self.reader).await?;
                docs.iter().map(|d| crate::decode_json(d)).collect()
            }

            async fn count_components(&self, q: &crate::census::ComponentQuery) -> crate::StoreResult<u64> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM components");
                Self::component_filter(&mut query, q);
                let n: i64 = query.build_query_scalar().fetch_one(&self.reader).await?;
                Ok(n.max(0) as u64)
            }

            async fn component_points(&self) -> crate::StoreResult<Vec<crate::census::ComponentPoint>> {
                let rows: Vec<(String, String, f64, f64)> = sqlx::query_as(
                    "SELECT id, class, lon, lat FROM components WHERE status <> 'removed'",
                )
                .fetch_all(&self.reader)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, class, lon, lat)| crate::census::ComponentPoint { id, class, lon, lat })
                    .collect())
            }

            async fn put_boundaries(
                &self,
                level: &str,
                boundaries: &[crate::census::StoredBoundary],
            ) -> crate::StoreResult<u64> {
                let mut tx = self.writer.begin().await?;
                sqlx::query("DELETE FROM boundaries WHERE level = $1")
                    .bind(level)
                    .execute(&mut *tx)
                    .await?;
                for chunk in boundaries.chunks(500) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO boundaries (code, level, parent, name, responsibility_grid, geometry) ",
                    );
                    query.push_values(chunk, |mut row, b| {
                        row.push_bind(b.code.clone())
                            .push_bind(level.to_owned())
                            .push_bind(b.parent.clone())
                            .push_bind(b.name.clone())
                            .push_bind(b.responsibility_grid.clone())
                            .push_bind(b.geometry.clone());
                    });
                    query.build().execute(&mut *tx).await?;
                }
                let record = crate::audit::record("boundaries.import", format!("boundaries:{level}")).detail(format!("{} boundaries", boundaries.len()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(boundaries.len() as u64)
            }

            async fn boundaries(&self, level: &str) -> crate::StoreResult<Vec<crate::census::StoredBoundary>> {
                let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
                    "SELECT code, parent, name, responsibility_grid, geometry FROM boundaries WHERE level = $1 ORDER BY code",
                )
                .bind(level)
                .fetch_all(&self.reader)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(code, parent, name, responsibility_grid, geometry)| crate::census::StoredBoundary {
                        code,
                        parent,
                        name,
                        responsibility_grid,
                        geometry,
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use census_store;
