//! The city's geography as stored: the area tree, the units answering for parts of it, the
//! component census (部件) and imported area boundaries.

use async_trait::async_trait;
use chrono::Utc;
use cityops_domain::{
    Area, AreaCode, AreaLevel, Component, ComponentStatus, Organization, Retirement, Unit,
    UnitContacts, UnitKind,
};
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
    pub organization: Option<Organization>,
    /// Units whose jurisdiction lies within this area.
    pub within: Option<AreaCode>,
    /// Retired units only (`true`), active ones only (`false`), or both.
    pub retired: Option<bool>,
}

/// What an import of units did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitImport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

pub(crate) const UNIT_COLUMNS: &str =
    "code, name, kind, organization, jurisdiction, parent, duty_phone, \
     contact_name, contact_phone, retired_at, successor";

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
    /// What a place search typed: a 16-digit id (read off a manhole cover or a lamp post)
    /// finds that component; other text, the components whose name or location text holds it.
    pub text: Option<String>,
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
            text: None,
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
/// What putting components into the census did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComponentsPut {
    /// New to the census.
    pub added: u64,
    /// In the census before, now with other values.
    pub replaced: u64,
    /// In the census before with the same values.
    pub unchanged: u64,
}

impl ComponentsPut {
    pub fn total(&self) -> u64 {
        self.added + self.replaced + self.unchanged
    }
}

#[async_trait]
pub trait GeographyStore: Send + Sync + 'static {
    async fn put_areas(&self, areas: &[Area]) -> StoreResult<u64>;
    async fn area(&self, code: &AreaCode) -> StoreResult<Option<Area>>;
    async fn areas(&self, filter: &AreaFilter) -> StoreResult<Vec<Area>>;
    /// The areas within `within` whose names contain `text`, districts first, then streets,
    /// then communities, each in code order; at most `limit`.
    async fn search_areas(
        &self,
        text: &str,
        within: &AreaCode,
        limit: u32,
    ) -> StoreResult<Vec<Area>>;

    /// Adds the units whose codes are new (a city's default units); the stored ones stay as
    /// the city edited them. Returns how many were added.
    async fn put_units(&self, units: &[Unit]) -> StoreResult<u64>;
    async fn unit(&self, code: &str) -> StoreResult<Option<Unit>>;
    async fn units(&self, filter: &UnitFilter) -> StoreResult<Vec<Unit>>;
    /// Adds one unit; `Duplicate { field: "code" }` when its code is taken.
    async fn create_unit(&self, unit: &Unit) -> StoreResult<()>;
    /// Writes every field of a stored unit, its retirement included; false when no unit has
    /// its code.
    async fn update_unit(&self, unit: &Unit) -> StoreResult<bool>;
    /// Adds or replaces units in one transaction, and counts what changed.
    async fn import_units(&self, units: &[Unit]) -> StoreResult<UnitImport>;

    /// Inserts or replaces components, all in one transaction.
    /// Adds components and replaces those already in the census, in one transaction.
    async fn put_components(&self, components: &[Component]) -> StoreResult<ComponentsPut>;
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

    /// The inspectors assigned to responsibility grids, by grid code.
    async fn grid_inspectors(&self) -> StoreResult<Vec<cityops_domain::GridInspector>>;
    /// The inspector assigned to one responsibility grid.
    async fn grid_inspector(
        &self,
        grid: &str,
    ) -> StoreResult<Option<cityops_domain::GridInspector>>;
    /// Assigns `grid` to an inspector, or (`None`) takes its assignment away, on the audit
    /// log; the cases already reported keep the inspector they were reported under.
    async fn assign_grid(
        &self,
        grid: &str,
        inspector: Option<&cityops_domain::GridInspector>,
    ) -> StoreResult<()>;
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

    async fn search_areas(
        &self,
        text: &str,
        within: &AreaCode,
        limit: u32,
    ) -> StoreResult<Vec<Area>> {
        // The text is matched as given: LIKE's wildcards in it are escaped.
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let statement = Statement::new(
            "SELECT code, name, level, parent FROM areas
             WHERE name LIKE $1 ESCAPE '\\' AND code LIKE $2
             ORDER BY length(code), code LIMIT $3",
        )
        .bind(format!("%{escaped}%"))
        .bind(format!("{}%", within.subtree_prefix()))
        .bind(i64::from(limit));
        let rows = self.read_all(statement).await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn put_units(&self, units: &[Unit]) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let mut added = 0;
        for unit in units {
            added += D::execute(
                &mut tx,
                self.insert_unit(unit, " ON CONFLICT (code) DO NOTHING"),
            )
            .await?;
        }
        let record = crate::audit::record("units.import", "units")
            .detail(format!("{added} of {} default units added", units.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn unit(&self, code: &str) -> StoreResult<Option<Unit>> {
        let row = self
            .read_optional(
                Statement::new(format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1"))
                    .bind(code),
            )
            .await?;
        row.map(|r| self.unit_from_row(&r)).transpose()
    }

    async fn units(&self, filter: &UnitFilter) -> StoreResult<Vec<Unit>> {
        let mut statement = Statement::new(format!("SELECT {UNIT_COLUMNS} FROM units WHERE 1 = 1"));
        if let Some(kind) = filter.kind {
            statement.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(organization) = filter.organization {
            statement
                .push(" AND organization = ")
                .push_bind(organization.as_str());
        }
        if let Some(within) = &filter.within {
            statement
                .push(" AND jurisdiction LIKE ")
                .push_bind(format!("{}%", within.subtree_prefix()));
        }
        match filter.retired {
            Some(true) => {
                statement.push(" AND retired_at IS NOT NULL");
            }
            Some(false) => {
                statement.push(" AND retired_at IS NULL");
            }
            None => {}
        }
        statement.push(" ORDER BY code");
        let rows = self.read_all(statement).await?;
        rows.iter().map(|r| self.unit_from_row(r)).collect()
    }

    async fn create_unit(&self, unit: &Unit) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let added = D::execute(
            &mut tx,
            self.insert_unit(unit, " ON CONFLICT (code) DO NOTHING"),
        )
        .await?;
        if added == 0 {
            return Err(StoreError::Duplicate { field: "code" });
        }
        let record = crate::audit::record("unit.create", format!("unit:{}", unit.code));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_unit(&self, unit: &Unit) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let changed = D::execute(&mut tx, self.replace_unit(unit)).await?;
        if changed == 0 {
            return Ok(false);
        }
        let action = match &unit.retired {
            Some(_) => "unit.retire",
            None => "unit.update",
        };
        let mut record = crate::audit::record(action, format!("unit:{}", unit.code));
        if let Some(successor) = unit.retired.as_ref().and_then(|r| r.successor.as_ref()) {
            record = record.detail(format!("successor {successor}"));
        }
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn import_units(&self, units: &[Unit]) -> StoreResult<UnitImport> {
        let mut tx = self.writer.begin().await?;
        let mut result = UnitImport::default();
        for unit in units {
            let stored = D::fetch_optional(
                &mut tx,
                Statement::new(format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1"))
                    .bind(&unit.code),
            )
            .await?;
            match stored {
                None => {
                    D::execute(&mut tx, self.insert_unit(unit, "")).await?;
                    result.created += 1;
                }
                Some(row) if self.unit_from_row(&row)? == *unit => result.unchanged += 1,
                Some(_) => {
                    D::execute(&mut tx, self.replace_unit(unit)).await?;
                    result.updated += 1;
                }
            }
        }
        let record = crate::audit::record("units.import", "units").detail(format!(
            "{} created, {} updated, {} unchanged",
            result.created, result.updated, result.unchanged
        ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn put_components(&self, components: &[Component]) -> StoreResult<ComponentsPut> {
        let now = crate::millis(Utc::now());
        let mut tx = self.writer.begin().await?;
        let mut put = ComponentsPut::default();
        for chunk in components.chunks(500) {
            // What the census held before, to say what the import changed.
            let mut before = Statement::new("SELECT id, doc FROM components WHERE id");
            before.push_in(chunk.iter().map(|c| c.id.clone()));
            let held: std::collections::HashMap<String, String> = D::fetch_all(&mut tx, before)
                .await?
                .iter()
                .map(|row| Ok((row.text("id")?, row.text("doc")?)))
                .collect::<StoreResult<_>>()?;
            for c in chunk {
                match held.get(&c.id) {
                    None => put.added += 1,
                    Some(doc)
                        if serde_json::from_str::<Component>(doc).ok().as_ref() == Some(c) =>
                    {
                        put.unchanged += 1
                    }
                    Some(_) => put.replaced += 1,
                }
            }
            let mut statement = Statement::new(
                "INSERT INTO components (id, class, area, status, lon, lat, label, doc, updated_at) ",
            );
            statement.push_values(chunk, |row, c| {
                row.bind(&c.id)
                    .bind(c.class.as_str())
                    .bind(c.area.as_str())
                    .bind(c.status.as_str())
                    .bind(c.location.lon)
                    .bind(c.location.lat)
                    .bind(label_of(c))
                    .bind(crate::encode_json(c))
                    .bind(now);
            });
            statement.push(
                " ON CONFLICT (id) DO UPDATE SET class = excluded.class, area = excluded.area,
                  status = excluded.status, lon = excluded.lon, lat = excluded.lat,
                  label = excluded.label, doc = excluded.doc, updated_at = excluded.updated_at",
            );
            D::execute(&mut tx, statement).await?;
        }
        let record = crate::audit::record("components.import", "components").detail(format!(
            "{} components: {} added, {} replaced, {} unchanged",
            components.len(),
            put.added,
            put.replaced,
            put.unchanged
        ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(put)
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

    async fn grid_inspectors(&self) -> StoreResult<Vec<cityops_domain::GridInspector>> {
        let rows = self
            .read_all(Statement::new(
                "SELECT grid, user_id, username FROM grid_inspectors ORDER BY grid",
            ))
            .await?;
        rows.iter().map(grid_inspector_of::<D>).collect()
    }

    async fn grid_inspector(
        &self,
        grid: &str,
    ) -> StoreResult<Option<cityops_domain::GridInspector>> {
        let row = self
            .read_optional(
                Statement::new(
                    "SELECT grid, user_id, username FROM grid_inspectors WHERE grid = $1",
                )
                .bind(grid),
            )
            .await?;
        row.as_ref().map(grid_inspector_of::<D>).transpose()
    }

    async fn assign_grid(
        &self,
        grid: &str,
        inspector: Option<&cityops_domain::GridInspector>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let by = crate::audit::current_actor();
        match inspector {
            Some(inspector) => {
                D::execute(
                    &mut tx,
                    Statement::new(
                        "INSERT INTO grid_inspectors (grid, user_id, username, assigned_by, assigned_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (grid) DO UPDATE SET user_id = excluded.user_id,
                             username = excluded.username, assigned_by = excluded.assigned_by,
                             assigned_at = excluded.assigned_at",
                    )
                    .bind(grid)
                    .bind(&inspector.user_id)
                    .bind(&inspector.username)
                    .bind(&by.actor)
                    .bind(crate::millis(chrono::Utc::now())),
                )
                .await?;
            }
            None => {
                D::execute(
                    &mut tx,
                    Statement::new("DELETE FROM grid_inspectors WHERE grid = $1").bind(grid),
                )
                .await?;
            }
        }
        let record = crate::audit::record("grid.assign", format!("grid:{grid}")).detail(
            inspector.map_or_else(
                || "unassigned".to_owned(),
                |i| format!("inspector {}", i.username),
            ),
        );
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
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
    match q.text.as_deref() {
        Some(id) if id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit()) => {
            statement.push(" AND id = ").push_bind(id);
        }
        Some(text) => {
            // Every word, in any order: "井盖 南京东路" finds "南京东路100号前 上水井盖".
            for word in text.split_whitespace() {
                statement
                    .push(" AND label LIKE ")
                    .push_bind(format!("%{}%", crate::like_literal(word)))
                    .push(" ESCAPE '\\'");
            }
        }
        None => {}
    }
}

/// The text a place search reads of a component.
fn label_of(c: &Component) -> String {
    format!(
        "{} {}",
        c.name,
        c.location_text.as_deref().unwrap_or_default()
    )
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

/// The unit contacts, each in its own column and sealed under `unit.<column>`.
const UNIT_CONTACT_FIELDS: [&str; 3] = ["duty_phone", "contact_name", "contact_phone"];

impl<D: Dialect, A: AuditPolicy> SqlStore<D, A> {
    fn insert_unit(&self, unit: &Unit, on_conflict: &str) -> Statement {
        let statement = Statement::new(format!(
            "INSERT INTO units ({UNIT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11){on_conflict}"
        ));
        self.bind_unit(statement, unit)
    }

    pub(crate) fn replace_unit(&self, unit: &Unit) -> Statement {
        let statement = Statement::new(
            "UPDATE units SET name = $2, kind = $3, organization = $4, jurisdiction = $5, \
             parent = $6, duty_phone = $7, contact_name = $8, contact_phone = $9, \
             retired_at = $10, successor = $11 WHERE code = $1",
        );
        self.bind_unit(statement, unit)
    }

    /// Binds `$1` to `$11` in the order of [`UNIT_COLUMNS`], the contacts sealed.
    fn bind_unit(&self, statement: Statement, unit: &Unit) -> Statement {
        let contacts = [
            &unit.contacts.duty_phone,
            &unit.contacts.contact_name,
            &unit.contacts.contact_phone,
        ];
        let [duty_phone, contact_name, contact_phone] = std::array::from_fn(|i| {
            contacts[i].as_deref().map(|clear| {
                self.pii
                    .seal(&format!("unit.{}", UNIT_CONTACT_FIELDS[i]), clear)
            })
        });
        let retirement = unit.retired.as_ref();
        statement
            .bind(&unit.code)
            .bind(&unit.name)
            .bind(unit.kind.as_str())
            .bind(unit.organization.as_str())
            .bind(unit.jurisdiction.as_str())
            .bind(unit.parent.as_deref())
            .bind(duty_phone)
            .bind(contact_name)
            .bind(contact_phone)
            .bind(retirement.map(|r| crate::millis(r.at)))
            .bind(retirement.and_then(|r| r.successor.as_deref()))
    }

    pub(crate) fn unit_from_row(&self, row: &impl Columns) -> StoreResult<Unit> {
        let kind = row.text("kind")?;
        let organization = row.text("organization")?;
        let open = |field: &str| -> StoreResult<Option<String>> {
            row.text_opt(field)?
                .map(|stored| self.pii.open(&format!("unit.{field}"), &stored))
                .transpose()
                .map_err(StoreError::from)
        };
        let retired = match row.time_opt("retired_at")? {
            Some(at) => Some(Retirement {
                at,
                successor: row.text_opt("successor")?,
            }),
            None => None,
        };
        Ok(Unit {
            code: row.text("code")?,
            name: row.text("name")?,
            kind: UnitKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unit kind {kind}")))?,
            organization: Organization::parse(&organization)
                .ok_or_else(|| StoreError::Corrupt(format!("unit organization {organization}")))?,
            jurisdiction: area_code(&row.text("jurisdiction")?)?,
            parent: row.text_opt("parent")?,
            contacts: UnitContacts {
                duty_phone: open("duty_phone")?,
                contact_name: open("contact_name")?,
                contact_phone: open("contact_phone")?,
            },
            retired,
        })
    }
}

fn grid_inspector_of<D: Dialect>(
    r: &crate::dialect::Row<D>,
) -> StoreResult<cityops_domain::GridInspector> {
    Ok(cityops_domain::GridInspector {
        grid: r.text("grid")?,
        user_id: r.text("user_id")?,
        username: r.text("username")?,
    })
}
