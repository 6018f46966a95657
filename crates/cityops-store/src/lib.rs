//! Durable storage for CityOps: the [`Store`] trait and its SQLite and PostgreSQL
//! implementations.
//!
//! Both implementations share their SQL (one macro body, [`sql`]) and keep one migrations
//! folder each with the same numbering. A case change is written as the case row, its
//! timeline event and an outbox row in ONE transaction; the methods return only after
//! commit, so whatever a caller acknowledges is durable.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::{
    Area, AreaCode, AreaLevel, Case, CaseState, CategoryCatalog, Role, Source, TimelineEvent, Unit,
    UnitKind,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod audit;
mod batch;
pub mod census;
pub mod pii;
mod postgres;
pub mod scratch;
mod sql;
mod sqlite;
pub mod telemetry;

pub use audit::{AuditQuery, AuditStore, RequestContext};
pub use census::{CensusStore, ComponentPoint, ComponentQuery, StoredBoundary};
pub use pii::{PiiError, PiiKeys};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use telemetry::TelemetryStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row changed since the caller read it (optimistic concurrency).
    #[error("{0}")]
    Conflict(String),
    /// A unique value is taken; names the field.
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("the database URL is not usable: {0}")]
    BadUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The transaction carrying this write failed to commit; nothing of it was written.
    #[error("the write was not committed: {0}")]
    Commit(String),
    #[error("the store is shut down")]
    Closed,
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Pii(#[from] pii::PiiError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A user as stored, with the password hash. Never serialised to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit: Option<String>,
    pub scope: AreaCode,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Consecutive failed sign-ins since the last success.
    pub failed_logins: i64,
    /// Sign-in refused until then, after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// The second factor, once enrolled.
    pub totp: Option<TotpState>,
}

/// A user's TOTP second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    /// The shared secret, base32 (sealed at rest).
    pub secret: String,
    /// Confirmed with a first code; only then does sign-in ask for one.
    pub enabled: bool,
    /// The last time step whose code was accepted: a code works once.
    pub last_step: i64,
}

/// A machine's key as stored: its secret only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub role: Role,
    pub unit: Option<String>,
    pub scope: AreaCode,
    /// What the key may do beyond its role's limits: `read`, `report`, `telemetry`, `write`.
    pub permissions: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub case_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Path relative to the data directory.
    pub path: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

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

/// A page request over cases. `scope` is mandatory: the store never lists cases outside
/// the caller's jurisdiction.
#[derive(Debug, Clone)]
pub struct CaseQuery {
    pub scope: AreaCode,
    /// Jurisdiction by unit: only cases dispatched to this unit (a unit handler's view).
    /// Unlike `unit`, a filter the caller chooses, this one comes from who asks.
    pub jurisdiction_unit: Option<String>,
    pub states: Vec<CaseState>,
    pub category: Option<String>,
    pub area: Option<AreaCode>,
    pub unit: Option<String>,
    /// Cases waiting in this center's coordination queue.
    pub coordination: Option<AreaCode>,
    pub source: Option<Source>,
    pub overdue: Option<bool>,
    pub text: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub limit: u32,
    pub after: Option<i64>,
}

impl CaseQuery {
    pub fn new(scope: AreaCode, now: DateTime<Utc>) -> CaseQuery {
        CaseQuery {
            scope,
            jurisdiction_unit: None,
            states: Vec::new(),
            category: None,
            area: None,
            unit: None,
            coordination: None,
            source: None,
            overdue: None,
            text: None,
            created_from: None,
            created_to: None,
            now,
            limit: 50,
            after: None,
        }
    }
}

impl CaseQuery {
    /// The cases `actor` may see: their area subtree, and their unit's cases for a unit
    /// handler.
    pub fn for_actor(actor: &cityops_domain::Actor, now: DateTime<Utc>) -> CaseQuery {
        CaseQuery {
            jurisdiction_unit: actor.case_unit_restriction().map(str::to_owned),
            ..CaseQuery::new(actor.scope.clone(), now)
        }
    }
}

/// A case reduced to what statistics count.
pub use cityops_domain::stats::CaseFact;

#[derive(Debug, Clone)]
pub struct CasePage {
    pub cases: Vec<Case>,
    /// Pass back as `after` to read the next page; `None` on the last page.
    pub next: Option<i64>,
}

#[async_trait]
pub trait Store: TelemetryStore + CensusStore + AuditStore + Send + Sync + 'static {
    fn backend(&self) -> Backend;
    async fn ping(&self) -> StoreResult<()>;

    async fn put_areas(&self, areas: &[Area]) -> StoreResult<u64>;
    async fn area(&self, code: &AreaCode) -> StoreResult<Option<Area>>;
    async fn areas(&self, filter: &AreaFilter) -> StoreResult<Vec<Area>>;

    async fn put_units(&self, units: &[Unit]) -> StoreResult<u64>;
    async fn unit(&self, code: &str) -> StoreResult<Option<Unit>>;
    async fn units(&self, filter: &UnitFilter) -> StoreResult<Vec<Unit>>;

    /// Replaces the category catalogue (one current version; earlier versions live on in the
    /// terms copied into filed cases).
    async fn put_catalog(&self, catalog: &CategoryCatalog) -> StoreResult<()>;
    /// Replaces the responsibility matrix, all rules at once.
    async fn put_rules(&self, rules: &[cityops_domain::routing::Rule]) -> StoreResult<()>;
    async fn rules(&self) -> StoreResult<Vec<cityops_domain::routing::Rule>>;
    async fn catalog(&self) -> StoreResult<Option<CategoryCatalog>>;

    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Counts a failed sign-in; at `max_failures` consecutive failures the account locks
    /// until `lock_until`. Returns the lock, if any.
    async fn record_login_failure(
        &self,
        user_id: &str,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    async fn record_login_success(&self, user_id: &str) -> StoreResult<()>;
    /// Enrols (a new unconfirmed secret), confirms (`enabled`) or removes (`None`) a user's
    /// second factor.
    async fn set_totp(&self, user_id: &str, secret: Option<&str>, enabled: bool)
        -> StoreResult<()>;
    /// Marks a time step's code as used; false if it (or a later one) already was.
    async fn use_totp_step(&self, user_id: &str, step: i64) -> StoreResult<bool>;
    /// Enables or disables a user; disabling also ends their sessions. False if no such user.
    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool>;
    /// Sets a new password hash, unlocks the account and ends the user's sessions.
    async fn set_password(&self, username: &str, password_hash: &str) -> StoreResult<bool>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn insert_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Every key, revoked ones included, newest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a key for good; false if there is no such unrevoked key.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// The enabled user behind an unexpired session.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;

    /// Inserts a new case with its first timeline event, assigning the case number from the
    /// district's daily sequence in the same transaction. Returns the case as stored.
    async fn insert_case(&self, case: Case, event: TimelineEvent) -> StoreResult<Case>;
    /// Writes a changed case (whose version is one more than the stored one), its event, an
    /// outbox row and optionally a new attachment, in one transaction. A stale version
    /// fails with [`StoreError::Conflict`] and writes nothing.
    async fn update_case(
        &self,
        case: &Case,
        event: &TimelineEvent,
        attachment: Option<&Attachment>,
    ) -> StoreResult<()>;
    async fn case(&self, id: &str) -> StoreResult<Option<Case>>;
    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>>;
    async fn cases(&self, query: &CaseQuery) -> StoreResult<CasePage>;
    async fn timeline(&self, case_id: &str) -> StoreResult<Vec<TimelineEvent>>;
    /// The facts statistics need, for the cases within `scope` that are open or closed
    /// since `since`.
    async fn case_facts(
        &self,
        scope: &AreaCode,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseFact>>;
    /// Number of cases per state, for metrics.
    async fn case_counts(&self) -> StoreResult<Vec<(String, i64)>>;
    async fn attachment(&self, id: &str) -> StoreResult<Option<Attachment>>;
    /// Seals again, with the current key, the personal data an older key (or none) sealed:
    /// the second half of a key rotation. Returns how many rows changed.
    async fn reseal_personal_data(&self) -> StoreResult<u64>;
    /// Cases whose reporter left this phone number (compared digit by digit), any state.
    async fn cases_of_reporter(&self, phone: &str) -> StoreResult<Vec<Case>>;
    /// Finished cases (closed, cancelled, invalid) whose reporter's contact is still kept
    /// and that finished before `before`: what the retention period has run out on.
    async fn expired_contacts(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>>;
    /// Removes the reporter's name and phone from finished cases (the case, its report
    /// event and outbox row); open cases are left alone, as their contact is still needed.
    /// `why` goes on the audit log. Returns the cases anonymised.
    async fn anonymise_reporters(&self, case_ids: &[String], why: &str) -> StoreResult<u64>;
}

/// Opens the store a URL names (`sqlite://PATH` or `postgres://...`) and brings its schema
/// up to date; `pii` seals and opens citizens' personal data.
pub async fn open(url: &str, pii: PiiKeys) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, pii).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(url, pii).await?))
    } else {
        Err(StoreError::BadUrl(format!(
            "'{url}' is neither sqlite://PATH nor postgres://..."
        )))
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} is out of range")))
}

fn decode_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialise")
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
fn like_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Signed-in users by session, for a moment: every API request looks its session up, and on
/// a busy center that lookup was a fifth of the cost of creating a case. A session ended in
/// this process (sign-out, disable, password reset) is forgotten at once; one ended by
/// another process (the command line, another node) stops working within [`SESSION_CACHE_TTL`].
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
}

/// The user, until when the entry may be used, and when the session itself expires.
type CachedSession = (UserRecord, std::time::Instant, DateTime<Utc>);

pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedSession>> {
        // A panic while holding this lock leaves nothing half-done: the map is only a cache.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<UserRecord> {
        let entries = self.lock();
        let (user, fresh_until, expires_at) = entries.get(token_hash)?;
        (std::time::Instant::now() < *fresh_until && *expires_at > now).then(|| user.clone())
    }

    pub(crate) fn put(&self, token_hash: &str, user: &UserRecord, expires_at: DateTime<Utc>) {
        let mut entries = self.lock();
        if entries.len() >= 100_000 {
            entries.clear();
        }
        entries.insert(
            token_hash.to_owned(),
            (
                user.clone(),
                std::time::Instant::now() + SESSION_CACHE_TTL,
                expires_at,
            ),
        );
    }

    pub(crate) fn forget(&self, token_hash: &str) {
        self.lock().remove(token_hash);
    }

    pub(crate) fn forget_all(&self) {
        self.lock().clear();
    }
}
