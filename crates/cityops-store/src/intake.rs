//! What arrives with a key of its own: the idempotency keys of case reports, each claimed in
//! the transaction that writes the case it answers, and the tickets imported from the city's
//! 12345 hotline system, each kept once by its ticket id (a ticket that opens a case is
//! written in the case's transaction; one that opens none, in a transaction of its own).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::{Columns, Connection, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

/// A row a new case claims in its own transaction (see [`crate::CaseStore::insert_claimed_case`]).
#[derive(Debug, Clone)]
pub enum CaseClaim {
    /// The caller's idempotency key and the hash of the request it came with. Keys created
    /// before `expired_before` are pruned first, so an old key can be used again.
    IdempotencyKey {
        caller: String,
        key: String,
        body_hash: String,
        at: DateTime<Utc>,
        expired_before: DateTime<Utc>,
    },
    /// The 12345 ticket the case was opened for.
    HotlineTicket(HotlineTicketRow),
}

/// An imported 12345 ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineTicketRow {
    pub ticket_id: String,
    /// The ticket's kind by its wire name (`request`, `enquiry`...).
    pub kind: String,
    pub received_at: DateTime<Utc>,
    /// SHA-256 of the ticket's fields as imported: a second import with other content is
    /// told apart from a repeat.
    pub content_hash: String,
    /// The case the ticket opened; none for enquiries and praise.
    pub case_id: Option<String>,
    pub imported_at: DateTime<Utc>,
}

/// An idempotency key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub body_hash: String,
    pub case_id: String,
    pub created_at: DateTime<Utc>,
}

/// An imported ticket, for the results sent back to the 12345 system.
pub type TicketResult = HotlineTicketRow;

#[async_trait]
pub trait IntakeStore: Send + Sync {
    /// The key `caller` used, if it was claimed at or after `since`.
    async fn idempotency_key(
        &self,
        caller: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// The stored tickets among `ids`.
    async fn hotline_tickets(&self, ids: &[String]) -> StoreResult<Vec<HotlineTicketRow>>;
    /// The tickets received in `[from, to)`, in order of receipt.
    async fn hotline_tickets_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HotlineTicketRow>>;
    /// Stores tickets that open no case, in one transaction with the import's entry on the
    /// audit log (`hotline.import`, naming how many tickets open cases, which are written
    /// with their cases); a ticket id already stored is left as it is. Writes nothing when
    /// there is nothing new. Returns how many tickets were new.
    async fn insert_hotline_tickets(
        &self,
        tickets: &[HotlineTicketRow],
        opening_cases: usize,
    ) -> StoreResult<u64>;
    /// The description and class of the `limit` cases filed last, newest first: every case
    /// with a class that was not turned away, which class suggestions learn from.
    async fn filed_texts(&self, limit: u32) -> StoreResult<Vec<(String, String)>>;
}

const TICKET_COLUMNS: &str =
    "ticket_id, kind, received_at, content_hash, case_id, imported_at FROM hotline_tickets";

fn ticket<R: Columns>(row: &R) -> StoreResult<HotlineTicketRow> {
    Ok(HotlineTicketRow {
        ticket_id: row.text("ticket_id")?,
        kind: row.text("kind")?,
        received_at: row.time("received_at")?,
        content_hash: row.text("content_hash")?,
        case_id: row.text_opt("case_id")?,
        imported_at: row.time("imported_at")?,
    })
}

fn insert_ticket(t: &HotlineTicketRow, case_id: Option<&str>) -> Statement {
    Statement::new(
        "INSERT INTO hotline_tickets (ticket_id, kind, received_at, content_hash, case_id, imported_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ticket_id) DO NOTHING",
    )
    .bind(&t.ticket_id)
    .bind(&t.kind)
    .bind(crate::millis(t.received_at))
    .bind(&t.content_hash)
    .bind(case_id.map(str::to_owned))
    .bind(crate::millis(t.imported_at))
}

/// Claims `claim` for the case `case_id` inside the case's transaction, before anything of
/// the case is written; [`StoreError::Claimed`] when another case holds it.
pub(crate) async fn write_claim<D: Dialect>(
    tx: &mut Connection<D>,
    claim: &CaseClaim,
    case_id: &str,
) -> StoreResult<()> {
    let claimed = match claim {
        CaseClaim::IdempotencyKey {
            caller,
            key,
            body_hash,
            at,
            expired_before,
        } => {
            D::execute(
                tx,
                Statement::new("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(crate::millis(*expired_before)),
            )
            .await?;
            D::execute(
                tx,
                Statement::new(
                    "INSERT INTO idempotency_keys (caller, key, body_hash, case_id, created_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (caller, key) DO NOTHING",
                )
                .bind(caller)
                .bind(key)
                .bind(body_hash)
                .bind(case_id)
                .bind(crate::millis(*at)),
            )
            .await?
        }
        CaseClaim::HotlineTicket(ticket) => {
            D::execute(tx, insert_ticket(ticket, Some(case_id))).await?
        }
    };
    if claimed == 1 {
        Ok(())
    } else {
        Err(StoreError::Claimed)
    }
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> IntakeStore for SqlStore<D, A> {
    async fn idempotency_key(
        &self,
        caller: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let row = self
            .read_optional(
                Statement::new(
                    "SELECT body_hash, case_id, created_at FROM idempotency_keys
                     WHERE caller = $1 AND key = $2 AND created_at >= $3",
                )
                .bind(caller)
                .bind(key)
                .bind(crate::millis(since)),
            )
            .await?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                body_hash: r.text("body_hash")?,
                case_id: r.text("case_id")?,
                created_at: r.time("created_at")?,
            })
        })
        .transpose()
    }

    async fn hotline_tickets(&self, ids: &[String]) -> StoreResult<Vec<HotlineTicketRow>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(500) {
            let mut statement = Statement::new(format!("SELECT {TICKET_COLUMNS} WHERE ticket_id"));
            statement.push_in(chunk.iter().cloned());
            for row in self.read_all(statement).await? {
                found.push(ticket(&row)?);
            }
        }
        Ok(found)
    }

    async fn hotline_tickets_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HotlineTicketRow>> {
        let rows = self
            .read_all(
                Statement::new(format!(
                    "SELECT {TICKET_COLUMNS} WHERE received_at >= $1 AND received_at < $2
                     ORDER BY received_at, ticket_id"
                ))
                .bind(crate::millis(from))
                .bind(crate::millis(to)),
            )
            .await?;
        rows.iter().map(ticket).collect()
    }

    async fn filed_texts(&self, limit: u32) -> StoreResult<Vec<(String, String)>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT description, category FROM cases
                     WHERE category IS NOT NULL
                       AND state NOT IN ('reported', 'accepted', 'verifying', 'invalid', 'cancelled', 'merged')
                     ORDER BY row_no DESC LIMIT $1",
                )
                .bind(i64::from(limit)),
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.text("description")?, row.text("category")?)))
            .collect()
    }

    async fn insert_hotline_tickets(
        &self,
        tickets: &[HotlineTicketRow],
        opening_cases: usize,
    ) -> StoreResult<u64> {
        if tickets.is_empty() && opening_cases == 0 {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let mut inserted = 0;
        for t in tickets {
            inserted += D::execute(&mut tx, insert_ticket(t, None)).await?;
        }
        let record = crate::audit::record("hotline.import", "hotline:tickets").detail(format!(
            "{inserted} tickets without a case, {opening_cases} opening cases"
        ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(inserted)
    }
}
