//! Durable storage for CityOps: one implementation ([`SqlStore`]) on SQLite or PostgreSQL,
//! seen by its consumers through one trait per aggregate.
//!
//! - [`CalendarStore`]: the working calendar's holiday schedules;
//! - [`CaseStore`]: cases, their timelines and attachments, the category catalogue and the
//!   responsibility matrix;
//! - [`GeographyStore`]: areas, units, the component census and imported boundaries;
//! - [`TelemetryStore`]: devices, indicators, rules, alarms, readings and rollups;
//! - [`TrustStore`]: accounts, sessions, API keys and citizens' personal data;
//! - [`AuditStore`]: the tamper-evident log;
//! - [`OutboxStore`]: the committed case changes as their consumers read and prune them.
//!
//! [`Store`] is all of them, and is what the server runs on. The SQL is plain Rust
//! ([`statement::Statement`]) shared by both databases; what differs between them is a sealed
//! [`dialect::Dialect`]. Each database keeps one migrations folder with the same numbering. A
//! case change is written as the case row, its timeline event, an outbox row and its audit
//! entry in ONE transaction; the methods return only after commit, so whatever a caller
//! acknowledges is durable.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::{AreaCode, Case, CaseState, Role, Source};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod audit;
mod batch;
mod calendar;
mod cases;
pub mod dialect;
mod emergencies;
mod evaluation;
mod geography;
mod intake;
mod knowledge;
pub mod limits;
pub mod outbox;
mod patrols;
pub mod pii;
mod screen;
mod sql;
pub mod statement;
pub mod telemetry;
mod trust;
mod watch;

pub use audit::{AuditQuery, AuditStore, RequestContext};
pub use calendar::CalendarStore;
pub use cases::CaseStore;
pub use emergencies::{EmergencyStore, IncidentLink, IncidentPhoto, Raised};
pub use evaluation::{
    add_daily, monthly_of, DailyKey, EvaluationStore, LedgerCases, LedgerSum, MonthlyKey,
};
pub use geography::{
    AreaFilter, ComponentPoint, ComponentQuery, ComponentsPut, GeographyStore, StoredBoundary,
    UnitFilter, UnitImport,
};
pub use intake::{CaseClaim, HotlineTicketRow, IdempotencyRecord, IntakeStore, TicketResult};
pub use knowledge::KnowledgeStore;
pub use limits::{CountWindow, LimitStore};
pub use outbox::{OutboxConsumer, OutboxEntry, OutboxStatus, OutboxStore};
pub use patrols::{PatrolQuery, PatrolStore};
pub use pii::{PiiError, PiiKeys};
pub use screen::ScreenStore;
pub use sql::{AuditPolicy, Audited, PgStore, SqlStore, SqliteStore, Unaudited};
pub use telemetry::TelemetryStore;
pub use trust::TrustStore;
pub use watch::{Lease, WatchCursor, WatchStore};

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
    /// The connection failed while the transaction committed, and whether it landed could
    /// not be found out either: the write may or may not be there. Read before retrying.
    #[error("the outcome of the write is unknown: {0}")]
    OutcomeUnknown(String),
    /// The idempotency key or hotline ticket of a new case is held by another case; nothing
    /// was written.
    #[error("the claim of this case is held by another case")]
    Claimed,
    #[error("the store is shut down")]
    Closed,
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Pii(#[from] pii::PiiError),
}

pub type StoreResult<T> = Result<T, StoreError>;

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
    /// Whether the photo may be shown outside the staff who handle the case.
    pub review: PhotoReview,
    /// The regions blurred in the public copy, in the stored copy's pixels.
    pub blur: Vec<BlurRegion>,
    /// The copy the public sees, once published.
    pub public: Option<PublicCopy>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl Attachment {
    /// A new upload: stored, not yet reviewed.
    #[allow(clippy::too_many_arguments)]
    pub fn uploaded(
        id: String,
        case_id: String,
        file_name: String,
        content_type: String,
        size: i64,
        sha256: String,
        path: String,
        uploaded_by: String,
        created_at: DateTime<Utc>,
    ) -> Attachment {
        Attachment {
            id,
            case_id,
            file_name,
            content_type,
            size,
            sha256,
            path,
            uploaded_by,
            created_at,
            review: PhotoReview::Pending,
            blur: Vec::new(),
            public: None,
            reviewed_by: None,
            reviewed_at: None,
        }
    }
}

/// What staff decided about showing a photo outside the case's handlers. Every upload starts
/// pending; only a published one has a public copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PhotoReview {
    #[default]
    Pending,
    Published,
    Private,
}

impl PhotoReview {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoReview::Pending => "pending",
            PhotoReview::Published => "published",
            PhotoReview::Private => "private",
        }
    }

    pub fn parse(text: &str) -> Option<PhotoReview> {
        [
            PhotoReview::Pending,
            PhotoReview::Published,
            PhotoReview::Private,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// A rectangle of a photo, in pixels of the stored (upright) copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlurRegion {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The file the public is shown: re-encoded from the stored copy, regions blurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCopy {
    /// Path relative to the data directory.
    pub path: String,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
}

/// A review as staff give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentReview {
    pub review: PhotoReview,
    pub blur: Vec<BlurRegion>,
    /// Present exactly when published.
    pub public: Option<PublicCopy>,
    pub by: String,
    pub at: DateTime<Utc>,
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
    /// Only cases with an appeal waiting for its decision (the evaluators' queue).
    pub appeals_pending: bool,
    pub source: Option<Source>,
    pub overdue: Option<bool>,
    pub text: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub limit: u32,
    pub after: Option<i64>,
    /// Pages in case-number order instead, after this number (`""` from the first): a
    /// keyset that stays cheap however deep a reader pages (OGC features, exports).
    pub after_number: Option<String>,
    /// Rows skipped before the page (number order only).
    pub offset: u64,
    /// Only the cases of this inspector's responsibility grids (their verification and check
    /// tasks): a user id.
    pub inspector: Option<String>,
    /// Only the cases this unit assists on (has a part of) and does not lead.
    pub assisting: Option<String>,
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
            appeals_pending: false,
            source: None,
            overdue: None,
            text: None,
            created_from: None,
            created_to: None,
            now,
            limit: 50,
            after: None,
            after_number: None,
            offset: 0,
            inspector: None,
            assisting: None,
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
    /// Pass back as `after` to read the next page; `None` on the last page (and always
    /// `None` in number order, where the last case's number is the cursor).
    pub next: Option<i64>,
}

/// Everything the server needs: every aggregate, on a store that keeps the audit log (only
/// [`SqlStore`]s with the [`Audited`] policy are `Store`s).
#[async_trait]
pub trait Store:
    CaseStore
    + CalendarStore
    + IntakeStore
    + GeographyStore
    + TelemetryStore
    + TrustStore
    + AuditStore
    + OutboxStore
    + WatchStore
    + EvaluationStore
    + ScreenStore
    + KnowledgeStore
    + PatrolStore
    + EmergencyStore
    + LimitStore
    + Send
    + Sync
    + 'static
{
    /// Answers when the database does (readiness).
    async fn ping(&self) -> StoreResult<()>;
}

#[async_trait]
impl<D: dialect::Dialect> Store for SqlStore<D, Audited> {
    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.reader.acquire().await?;
        D::fetch_optional(&mut conn, statement::Statement::new("SELECT 1 AS one")).await?;
        Ok(())
    }
}

/// Opens the store a URL names (`sqlite://PATH` or `postgres://...`) and brings its schema
/// up to date; `pii` seals and opens citizens' personal data.
pub async fn open(url: &str, pii: PiiKeys) -> StoreResult<Arc<dyn Store>> {
    Ok(match Database::of(url)? {
        Database::Sqlite => Arc::new(SqliteStore::open(url, pii).await?),
        Database::Postgres => Arc::new(PgStore::open(url, pii).await?),
    })
}

/// Whether the database at `url` can be shared by several nodes (PostgreSQL; an embedded
/// SQLite file belongs to one process).
pub fn is_shared(url: &str) -> bool {
    matches!(Database::of(url), Ok(Database::Postgres))
}

/// For benchmarks only: the cases of a store that writes no audit entries, to measure what
/// the audit log costs against [`open`] on the same database. Its type,
/// `SqlStore<_, Unaudited>`, is not a [`Store`], so the server cannot run on it.
pub async fn open_unaudited(url: &str, pii: PiiKeys) -> StoreResult<Arc<dyn CaseStore>> {
    Ok(match Database::of(url)? {
        Database::Sqlite => Arc::new(SqlStore::<dialect::Sqlite, Unaudited>::open(url, pii).await?),
        Database::Postgres => {
            Arc::new(SqlStore::<dialect::Postgres, Unaudited>::open(url, pii).await?)
        }
    })
}

enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    fn of(url: &str) -> StoreResult<Database> {
        if url.starts_with("sqlite:") {
            Ok(Database::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Database::Postgres)
        } else {
            Err(StoreError::BadUrl(format!(
                "'{url}' is neither sqlite://PATH nor postgres://..."
            )))
        }
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
