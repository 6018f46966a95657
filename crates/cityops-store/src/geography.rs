//! The city's geography as stored: the area tree, the units answering for parts of it, the
//! component census (部件) and imported area boundaries.

use async_trait::async_trait;
use chrono::Utc;
use cityops_domain::{Area, AreaCode, AreaLevel, Component, ComponentStatus, Unit, UnitKind};
use serde::{Deserialize, Serialize};

use crate::cases::area_code;
use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

#[derive(Debug, Clone, Default)]
pub struct AreaFilter {
    pub parent: Option<AreaCode>,
    pub level: Option<AreaLevel>,
}

#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    /// Units whose jurisdiction lies within this area.
    pub within: Option<AreaCode>,
}

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

/// Areas, units, the component census and imported boundaries.
#[async_trait]
pub trait GeographyStore: Send + Sync + 'static {
    async fn put_areas(&self, areas: &[Area]) -> StoreResult<u64>;
    async fn area(&self, code: &AreaCode) -> StoreResult<Option<Area>>;
    async fn areas(&self, filter: &AreaFilter) -> StoreResult<Vec<Area>>;

    async fn put_units(&self, units: &[Unit]) -> StoreResult<u64>;
    async fn unit(&self, code: &str) -> StoreResult<Option<Unit>>;
    async fn units(&self, filter: &UnitFilter) -> StoreResult<Vec<Unit>>;

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

#[async_trait]
impl<D: Dialect, A: AuditPolicy> GeographyStore for SqlStore<D, A> {
    async fn put_areas(&self, areas: &[Area]) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        for area in areas {
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO areas (code, name, level, parent) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent",
                )
                .bind(area.code.as_str())
                .bind(&area.name)
                .bind(area.level.as_str())
                .bind(area.parent.as_ref().map(|p| p.as_str())),
            )
            .await?;
        }
        let record =
            crate::audit::record("areas.import", "areas").detail(format!("{} areas", areas.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(areas.len() as u64)
    }

    async fn area(&self, code: &AreaCode) -> StoreResult<Option<Area>> {
        let row = self
            .read_optional(
                Statement::new("SELECT code, name, level, parent FROM areas WHERE code = $1")
                    .bind(code.as_str()),
            )
            .await?;
        row.map(|r| area_from_row(&r)).transpose()
    }

    async fn areas(&self, filter: &AreaFilter) -> StoreResult<Vec<Area>> {
        let mut statement =
            Statement::new("SELECT code, name, level, parent FROM areas WHERE 1 = 1");
        if let Some(parent) = &filter.parent {
            statement.push(" AND parent = ").push_bind(parent.as_str());
        }
        if let Some(level) = filter.level {
            statement.push(" AND level = ").push_bind(level.as_str());
        }
        statement.push(" ORDER BY code");
        let rows = self.read_all(statement).await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn put_units(&self, units: &[Unit]) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        for unit in units {
            D::execute(
                &mut tx,
                Statement::new(
                    "INSERT INTO units (code, name, kind, jurisdiction) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, jurisdiction = excluded.jurisdiction",
                )
                .bind(&unit.code)
                .bind(&unit.name)
                .bind(unit.kind.as_str())
                .bind(unit.jurisdiction.as_str()),
            )
            .await?;
        }
        let record =
            crate::audit::record("units.import", "units").detail(format!("{} units", units.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(units.len() as u64)
    }

    async fn unit(&self, code: &str) -> StoreResult<Option<Unit>> {
        let row = self
            .read_optional(
                Statement::new("SELECT code, name, kind, jurisdiction FROM units WHERE code = $1")
                    .bind(code),
            )
            .await?;
        row.map(|r| unit_from_row(&r)).transpose()
    }

    async fn units(&self, filter: &UnitFilter) -> StoreResult<Vec<Unit>> {
        let mut statement =
            Statement::new("SELECT code, name, kind, jurisdiction FROM units WHERE 1 = 1");
        if let Some(kind) = filter.kind {
            statement.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(within) = &filter.within {
            statement
                .push(" AND jurisdiction LIKE ")
                .push_bind(format!("{}%", within.subtree_prefix()));
        }
        statement.push(" ORDER BY code");
        let rows = self.read_all(statement).await?;
        rows.iter().map(unit_from_row).collect()
    }

    async fn put_components(&self, components: &[Component]) -> StoreResult<u64> {
        let now = crate::millis(Utc::now());
        let mut tx = self.writer.begin().await?;
        for chunk in components.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO components (id, class, area, status, lon, lat, doc, updated_at) ",
            );
            statement.push_values(chunk, |row, c| {
                row.bind(&c.id)
                    .bind(c.class.as_str())
                    .bind(c.area.as_str())
                    .bind(c.status.as_str())
                    .bind(c.location.lon)
                    .bind(c.location.lat)
                    .bind(crate::encode_json(c))
                    .bind(now);
            });
            statement.push(
                " ON CONFLICT (id) DO UPDATE SET class = excluded.class, area = excluded.area,
                  status = excluded.status, lon = excluded.lon, lat = excluded.lat,
                  doc = excluded.doc, updated_at = excluded.updated_at",
            );
            D::execute(&mut tx, statement).await?;
        }
        let record = crate::audit::record("components.import", "components")
            .detail(format!("{} components", components.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(components.len() as u64)
    }

    async fn component(&self, id: &str) -> StoreResult<Option<Component>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM components WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn components(&self, q: &ComponentQuery) -> StoreResult<Vec<Component>> {
        let mut statement = Statement::new("SELECT doc FROM components");
        component_filter(&mut statement, q);
        if let Some(after) = &q.after {
            statement.push(" AND id > ").push_bind(after);
        }
        statement
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(q.limit))
            .push(" OFFSET ")
            .push_bind(q.offset.min(i64::MAX as u64) as i64);
        let rows = self.read_all(statement).await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }

    async fn count_components(&self, q: &ComponentQuery) -> StoreResult<u64> {
        let mut statement = Statement::new("SELECT COUNT(*) AS n FROM components");
        component_filter(&mut statement, q);
        let n = self.read_one(statement).await?.int("n")?;
        Ok(n.max(0) as u64)
    }

    async fn component_points(&self) -> StoreResult<Vec<ComponentPoint>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT id, class, lon, lat FROM components WHERE status <> 'removed'",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ComponentPoint {
                    id: r.text("id")?,
                    class: r.text("class")?,
                    lon: r.real("lon")?,
                    lat: r.real("lat")?,
                })
            })
            .collect()
    }

    async fn put_boundaries(&self, level: &str, boundaries: &[StoredBoundary]) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new("DELETE FROM boundaries WHERE level = $1").bind(level),
        )
        .await?;
        for chunk in boundaries.chunks(500) {
            let mut statement = Statement::new(
                "INSERT INTO boundaries (code, level, parent, name, responsibility_grid, geometry) ",
            );
            statement.push_values(chunk, |row, b| {
                row.bind(&b.code)
                    .bind(level)
                    .bind(&b.parent)
                    .bind(&b.name)
                    .bind(&b.responsibility_grid)
                    .bind(&b.geometry);
            });
            D::execute(&mut tx, statement).await?;
        }
        let record = crate::audit::record("boundaries.import", format!("boundaries:{level}"))
            .detail(format!("{} boundaries", boundaries.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(boundaries.len() as u64)
    }

    async fn boundaries(&self, level: &str) -> StoreResult<Vec<StoredBoundary>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT code, parent, name, responsibility_grid, geometry FROM boundaries
                     WHERE level = $1 ORDER BY code",
                )
                .bind(level),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredBoundary {
                    code: r.text("code")?,
                    parent: r.text("parent")?,
                    name: r.text("name")?,
                    responsibility_grid: r.text_opt("responsibility_grid")?,
                    geometry: r.text("geometry")?,
                })
            })
            .collect()
    }
}

fn component_filter(statement: &mut Statement, q: &ComponentQuery) {
    statement
        .push(" WHERE area LIKE ")
        .push_bind(format!("{}%", q.scope.subtree_prefix()));
    if let Some(prefix) = &q.class_prefix {
        statement
            .push(" AND class LIKE ")
            .push_bind(format!("{prefix}%"));
    }
    if let Some(status) = q.status {
        statement.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some([min_lon, min_lat, max_lon, max_lat]) = q.bbox {
        statement.push(" AND lon >= ").push_bind(min_lon);
        statement.push(" AND lon <= ").push_bind(max_lon);
        statement.push(" AND lat >= ").push_bind(min_lat);
        statement.push(" AND lat <= ").push_bind(max_lat);
    }
}

fn area_from_row(row: &impl Columns) -> StoreResult<Area> {
    let level = row.text("level")?;
    Ok(Area {
        code: area_code(&row.text("code")?)?,
        name: row.text("name")?,
        level: AreaLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("area level {level}")))?,
        parent: row
            .text_opt("parent")?
            .as_deref()
            .map(area_code)
            .transpose()?,
    })
}

fn unit_from_row(row: &impl Columns) -> StoreResult<Unit> {
    let kind = row.text("kind")?;
    Ok(Unit {
        code: row.text("code")?,
        name: row.text("name")?,
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unit kind {kind}")))?,
        jurisdiction: area_code(&row.text("jurisdiction")?)?,
    })
}
