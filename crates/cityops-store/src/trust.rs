//! Who may act and what is kept about people: user accounts and their second factor,
//! sessions, machines' API keys, and citizens' personal data (re-sealing, a citizen's
//! request, retention).
//!
//! Every grant or change of a permission appends its audit entry in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::{Actor, Case, CaseCommand, Role};

use crate::cases::{area_code, reporter_tag};
use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{ApiKeyRecord, SqlStore, StoreError, StoreResult, TotpState, UserRecord};

/// Accounts, sessions, keys and personal data.
#[async_trait]
pub trait TrustStore: Send + Sync + 'static {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Every account, by username.
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Writes an account's display name, role, unit and scope (the rest is kept); with
    /// `end_sessions` (what it may do changed) its sessions end. False if no such user.
    async fn update_user(&self, user: &UserRecord, end_sessions: bool) -> StoreResult<bool>;
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

    async fn insert_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// The enabled user behind an unexpired session.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Every key, revoked ones included, newest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a key for good; false if there is no such unrevoked key.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Seals again, with the current key, the personal data an older key (or none) sealed:
    /// the second half of a key rotation. Returns how many rows changed.
    async fn reseal_personal_data(&self) -> StoreResult<u64>;
    /// Cases whose reporter left this phone number (compared digit by digit), any state.
    async fn cases_of_reporter(&self, phone: &str) -> StoreResult<Vec<Case>>;
    /// Finished cases (closed, cancelled, invalid) whose reporter's contact is still kept
    /// and that finished before `before`: what the retention period has run out on.
    async fn expired_contacts(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>>;
    /// Erases the reporter's personal data from finished cases: their contact, their name
    /// and number in every text of the case and its timeline and outbox, and the sealed clear
    /// texts; the timeline records the erasure, without the data. Open cases are left alone,
    /// as their contact is still needed.
    /// `by` (a data steward, or the system for retention) and `why` go on the timeline's
    /// erasure event and on the audit log. Returns the cases anonymised.
    async fn anonymise_reporters(
        &self,
        case_ids: &[String],
        by: &Actor,
        why: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.role, u.unit, u.scope, u.display_name, u.disabled, u.created_at,
     u.failed_logins, u.locked_until, u.totp_secret, u.totp_enabled, u.totp_last_step";

const API_KEY_COLUMNS: &str = "id, name, secret_hash, role, unit, scope, permissions, created_by, created_at, expires_at, revoked_at";

/// Rows that carry a reporter hold personal data.
const HAS_REPORTER: &str = "%\"reporter\":{%";
/// Events whose texts held personal data keep the clear form, sealed.
const HAS_CLEAR_TEXT: &str = "%\"clear_text\":{%";

#[async_trait]
impl<D: Dialect, A: AuditPolicy> TrustStore for SqlStore<D, A> {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let result = D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO users (id, username, password_hash, role, unit, scope, display_name, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&user.id)
            .bind(&user.username)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(&user.unit)
            .bind(user.scope.as_str())
            .bind(&user.display_name)
            .bind(user.disabled)
            .bind(crate::millis(user.created_at)),
        )
        .await;
        match result {
            Ok(_) => {
                // Creating an account grants a role within a scope: a permission change.
                let record = crate::audit::record("user.add", format!("user:{}", user.username))
                    .detail(format!(
                        "role {} scope {} unit {}",
                        user.role.as_str(),
                        user.scope,
                        user.unit.as_deref().unwrap_or("-")
                    ));
                self.audit_in(&mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(())
            }
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(StoreError::Duplicate { field: "username" })
            }
            Err(e) => Err(e),
        }
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let row = self
            .read_optional(
                Statement::new(format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"
                ))
                .bind(username),
            )
            .await?;
        row.map(|r| self.user_from_row(&r)).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = self
            .read_all(Statement::new(format!(
                "SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"
            )))
            .await?;
        rows.iter().map(|r| self.user_from_row(r)).collect()
    }

    async fn update_user(&self, user: &UserRecord, end_sessions: bool) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let updated = D::execute(
            &mut tx,
            Statement::new(
                "UPDATE users SET display_name = $1, role = $2, unit = $3, scope = $4
                 WHERE username = $5",
            )
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(&user.unit)
            .bind(user.scope.as_str())
            .bind(&user.username),
        )
        .await?;
        if updated == 1 {
            if end_sessions {
                D::execute(&mut tx, end_sessions_of(&user.username)).await?;
            }
            let record = crate::audit::record("user.change", format!("user:{}", user.username))
                .detail(format!(
                    "role {} scope {} unit {}",
                    user.role.as_str(),
                    user.scope,
                    user.unit.as_deref().unwrap_or("-")
                ));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        self.sessions.forget_all();
        Ok(updated == 1)
    }

    async fn record_login_failure(
        &self,
        user_id: &str,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut tx = self.writer.begin().await?;
        let row = D::fetch_optional(
            &mut tx,
            Statement::new(
                "UPDATE users SET
                     failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN 1 ELSE failed_logins + 1 END,
                     locked_until = CASE
                         WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN NULL
                         WHEN failed_logins + 1 >= $1 THEN $2
                         ELSE locked_until END
                 WHERE id = $3 RETURNING locked_until, username",
            )
            .bind(max_failures)
            .bind(crate::millis(lock_until))
            .bind(user_id)
            .bind(crate::millis(Utc::now())),
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        let locked = row.time_opt("locked_until")?;
        let username = row.text("username")?;
        let result = if locked.is_some() {
            "refused: wrong password, account locked"
        } else {
            "refused: wrong password"
        };
        let record =
            crate::audit::record("session.sign_in", format!("user:{username}")).result(result);
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(locked)
    }

    async fn record_login_success(&self, user_id: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        D::execute(
            &mut conn,
            Statement::new(
                "UPDATE users SET failed_logins = 0, locked_until = NULL
                 WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
            )
            .bind(user_id),
        )
        .await?;
        Ok(())
    }

    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&str>,
        enabled: bool,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let row = D::fetch_optional(
            &mut tx,
            Statement::new(
                "UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3 RETURNING username",
            )
            .bind(secret.map(|s| self.pii.seal("totp", s)))
            .bind(enabled && secret.is_some())
            .bind(user_id),
        )
        .await?;
        if let Some(row) = row {
            let action = match (secret, enabled) {
                (None, _) => "user.totp.remove",
                (Some(_), false) => "user.totp.enrol",
                (Some(_), true) => "user.totp.confirm",
            };
            let object = format!("user:{}", row.text("username")?);
            self.audit_in(&mut tx, vec![crate::audit::record(action, object)])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await?;
        let done = D::execute(
            &mut conn,
            Statement::new(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
            )
            .bind(step)
            .bind(user_id),
        )
        .await?;
        Ok(done == 1)
    }

    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let updated = D::execute(
            &mut tx,
            Statement::new("UPDATE users SET disabled = $1 WHERE username = $2")
                .bind(disabled)
                .bind(username),
        )
        .await?;
        if disabled {
            D::execute(&mut tx, end_sessions_of(username)).await?;
        }
        if updated == 1 {
            let action = if disabled {
                "user.disable"
            } else {
                "user.enable"
            };
            let record = crate::audit::record(action, format!("user:{username}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        self.sessions.forget_all();
        Ok(updated == 1)
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let updated = D::execute(
            &mut tx,
            Statement::new(
                "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL,
                                  totp_secret = NULL, totp_enabled = 0, totp_last_step = 0
                 WHERE username = $2",
            )
            .bind(password_hash)
            .bind(username),
        )
        .await?;
        D::execute(&mut tx, end_sessions_of(username)).await?;
        if updated == 1 {
            let record = crate::audit::record("user.reset_password", format!("user:{username}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        self.sessions.forget_all();
        Ok(updated == 1)
    }

    async fn insert_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(crate::millis(now))
            .bind(crate::millis(expires_at)),
        )
        .await?;
        let username = D::fetch_optional(
            &mut tx,
            Statement::new("SELECT username FROM users WHERE id = $1").bind(user_id),
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("session of a missing user {user_id}")))?
        .text("username")?;
        let record = crate::audit::record("session.sign_in", format!("user:{username}"))
            .detail(format!("session until {}", expires_at.to_rfc3339()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let user = D::fetch_optional(
            &mut tx,
            Statement::new(
                "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
            )
            .bind(token_hash),
        )
        .await?;
        D::execute(
            &mut tx,
            Statement::new("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash),
        )
        .await?;
        if let Some(user) = user {
            let object = format!("user:{}", user.text("username")?);
            let record = crate::audit::record("session.sign_out", object);
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        self.sessions.forget(token_hash);
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        if let Some(user) = self.sessions.get(token_hash, now) {
            return Ok(Some(user));
        }
        let row = self
            .read_optional(
                Statement::new(format!(
                    "SELECT {USER_COLUMNS}, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0"
                ))
                .bind(token_hash)
                .bind(crate::millis(now)),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let user = self.user_from_row(&row)?;
        self.sessions
            .put(token_hash, &user, row.time("expires_at")?);
        Ok(Some(user))
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO api_keys (id, name, secret_hash, role, unit, scope, permissions, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&key.id)
            .bind(&key.name)
            .bind(&key.secret_hash)
            .bind(key.role.as_str())
            .bind(&key.unit)
            .bind(key.scope.as_str())
            .bind(key.permissions.join(","))
            .bind(&key.created_by)
            .bind(crate::millis(key.created_at))
            .bind(key.expires_at.map(crate::millis)),
        )
        .await?;
        // A key is a grant of a role within a scope: a permission change.
        let record =
            crate::audit::record("api_key.create", format!("api_key:{}", key.id)).detail(format!(
                "name {} role {} scope {} permissions {}",
                key.name,
                key.role.as_str(),
                key.scope,
                key.permissions.join(",")
            ));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self
            .read_optional(
                Statement::new(format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
                ))
                .bind(id),
            )
            .await?;
        row.map(|r| api_key_from_row(&r)).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = self
            .read_all(Statement::new(format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id"
            )))
            .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = D::execute(
            &mut tx,
            Statement::new(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(crate::millis(at))
            .bind(id),
        )
        .await?;
        if done == 1 {
            let record = crate::audit::record("api_key.revoke", format!("api_key:{id}"));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(done == 1)
    }

    async fn reseal_personal_data(&self) -> StoreResult<u64> {
        let mut changed = 0;
        let mut tx = self.writer.begin().await?;
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, version, doc, reporter_tag FROM cases WHERE doc LIKE $1",
                )
                .bind(HAS_REPORTER),
            )
            .await?;
        for row in &rows {
            let (clear, resealed) = self.pii.reseal_case(row.json("doc")?)?;
            // The phone index follows the key too (and is filled in for rows from before it).
            let tag = reporter_tag(&clear, &self.pii);
            let stale_tag = tag != row.text_opt("reporter_tag")?;
            if resealed.is_some() || stale_tag {
                // A case changed meanwhile was written with the current key anyway.
                let doc = match &resealed {
                    Some(case) => crate::encode_json(case),
                    None => row.text("doc")?,
                };
                changed += D::execute(
                    &mut tx,
                    Statement::new(
                        "UPDATE cases SET doc = $1, reporter_tag = $2 WHERE id = $3 AND version = $4",
                    )
                    .bind(doc)
                    .bind(tag)
                    .bind(row.text("id")?)
                    .bind(row.int("version")?),
                )
                .await?;
            }
        }
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT case_id, seq, doc FROM case_events WHERE doc LIKE $1 OR doc LIKE $2",
                )
                .bind(HAS_REPORTER)
                .bind(HAS_CLEAR_TEXT),
            )
            .await?;
        for row in &rows {
            if let Some(resealed) = self.pii.reseal_event(row.json("doc")?)? {
                changed += D::execute(
                    &mut tx,
                    Statement::new(
                        "UPDATE case_events SET doc = $1 WHERE case_id = $2 AND seq = $3",
                    )
                    .bind(crate::encode_json(&resealed))
                    .bind(row.text("case_id")?)
                    .bind(row.int("seq")?),
                )
                .await?;
            }
        }
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id, payload FROM outbox WHERE payload LIKE $1 OR payload LIKE $2",
                )
                .bind(HAS_REPORTER)
                .bind(HAS_CLEAR_TEXT),
            )
            .await?;
        for row in &rows {
            if let Some(resealed) = self.pii.reseal_event(row.json("payload")?)? {
                changed += D::execute(
                    &mut tx,
                    Statement::new("UPDATE outbox SET payload = $1 WHERE id = $2")
                        .bind(crate::encode_json(&resealed))
                        .bind(row.int("id")?),
                )
                .await?;
            }
        }
        // Units' duty phones and contacts: a unit with any of them under an older key is
        // written again, every contact sealed with the current one.
        let rows = self
            .read_all(Statement::new(format!(
                "SELECT {} FROM units WHERE duty_phone IS NOT NULL OR contact_name IS NOT NULL \
                 OR contact_phone IS NOT NULL",
                crate::geography::UNIT_COLUMNS
            )))
            .await?;
        for row in &rows {
            let mut stale = false;
            for column in ["duty_phone", "contact_name", "contact_phone"] {
                stale |= row
                    .text_opt(column)?
                    .is_some_and(|stored| self.pii.is_stale(&stored));
            }
            if stale {
                let unit = self.unit_from_row(row)?;
                changed += D::execute(&mut tx, self.replace_unit(&unit)).await?;
            }
        }
        if changed > 0 {
            let record = crate::audit::record("pii.reseal", "personal-data").detail(format!(
                "{changed} rows sealed with key {}",
                self.pii.current_id()
            ));
            self.audit_in(&mut tx, vec![record]).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn cases_of_reporter(&self, phone: &str) -> StoreResult<Vec<Case>> {
        // Phones are sealed with a fresh nonce each, so the index holds a keyed hash of each
        // (under every configured key: rows keep the key they were written with until
        // re-sealed). Rows from before the index read in full.
        let tags = self.pii.phone_tags(phone);
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = Statement::new("SELECT doc FROM cases WHERE reporter_tag");
        statement
            .push_in(tags)
            .push(" OR (reporter_tag IS NULL AND doc LIKE ")
            .push_bind("%\"phone\":\"%")
            .push(") ORDER BY row_no");
        let mut found = Vec::new();
        for row in self.read_all(statement).await? {
            let case = self.open_case_doc(&row.text("doc")?)?;
            let matches = case
                .reporter
                .as_ref()
                .and_then(|r| r.phone.as_deref())
                .is_some_and(|p| crate::PiiKeys::same_phone(p, phone));
            if matches {
                found.push(case);
            }
        }
        Ok(found)
    }

    async fn expired_contacts(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT id FROM cases WHERE closed_at IS NOT NULL AND closed_at < $1
                       AND state IN ('closed', 'cancelled', 'invalid', 'merged')
                       AND (doc LIKE $2 OR doc LIKE $3)",
                )
                .bind(crate::millis(before))
                .bind("%\"reporter\":{\"name\":\"%")
                .bind("%\"phone\":\"%"),
            )
            .await?;
        rows.iter().map(|r| r.text("id")).collect()
    }

    async fn anonymise_reporters(
        &self,
        case_ids: &[String],
        by: &Actor,
        why: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let mut done = 0;
        let mut records = Vec::new();
        for id in case_ids {
            let row = D::fetch_optional(
                &mut tx,
                Statement::new("SELECT version, doc FROM cases WHERE id = $1").bind(id),
            )
            .await?;
            let Some(row) = row else { continue };
            let case = self.open_case_doc(&row.text("doc")?)?;
            let (phone, name) = match &case.reporter {
                Some(r) => (r.phone.clone(), r.name.clone()),
                None => continue,
            };
            let command = CaseCommand::ErasePersonalData {
                reason: why.to_owned(),
            };
            // An open case, or one with nothing left to erase, is not refused as a whole
            // request: it is left as it is.
            // Retention, the system, acts in whichever city the case lies in.
            let actor = match by.role {
                Role::System => Actor {
                    scope: case.area.city(),
                    ..by.clone()
                },
                _ => by.clone(),
            };
            let Ok((erased, event)) = cityops_domain::decide(&case, command, &actor, at) else {
                continue;
            };
            let version = row.int("version")?;
            // A new version: a writer holding the case from before (a late rating) must
            // reload it rather than write the contact back.
            let changed = D::execute(
                &mut tx,
                Statement::new(
                    "UPDATE cases SET doc = $1, version = $2, description = $3, reporter_tag = NULL
                     WHERE id = $4 AND version = $5",
                )
                .bind(crate::encode_json(
                    self.pii.seal_case(&erased).as_ref().unwrap_or(&erased),
                ))
                .bind(erased.version)
                .bind(&erased.description)
                .bind(id)
                .bind(version),
            )
            .await?;
            if changed != 1 {
                continue;
            }
            // The timeline and the outbox hold the contact, the clear texts and the texts
            // people wrote: every row of the case is scrubbed, not only the report.
            for (table, column, position) in
                [("case_events", "doc", "seq"), ("outbox", "payload", "id")]
            {
                let rows = D::fetch_all(
                    &mut tx,
                    Statement::new(format!(
                        "SELECT {column} AS body, {position} AS position FROM {table} WHERE case_id = $1"
                    ))
                    .bind(id),
                )
                .await?;
                for row in rows {
                    let mut event = self.pii.open_event(row.json("body")?)?;
                    let before = event.clone();
                    cityops_domain::workflow::erase_personal_data_from_event(
                        &mut event,
                        phone.as_deref(),
                        name.as_deref(),
                    );
                    if event == before {
                        continue;
                    }
                    let stored = self.pii.seal_event(&event);
                    D::execute(
                        &mut tx,
                        Statement::new(format!(
                            "UPDATE {table} SET {column} = $1 WHERE case_id = $2 AND {position} = $3"
                        ))
                        .bind(crate::encode_json(stored.as_ref().unwrap_or(&event)))
                        .bind(id)
                        .bind(row.int("position")?),
                    )
                    .await?;
                }
            }
            crate::cases::insert_event::<D>(&mut tx, &event, &self.pii).await?;
            records.push(
                crate::audit::record("pii.anonymise", format!("case:{id}")).detail(why.to_owned()),
            );
            done += 1;
        }
        self.audit_in(&mut tx, records).await?;
        tx.commit().await?;
        Ok(done)
    }
}

impl<D: Dialect, A: AuditPolicy> SqlStore<D, A> {
    fn user_from_row(&self, row: &crate::dialect::Row<D>) -> StoreResult<UserRecord> {
        let totp = match row.text_opt("totp_secret")? {
            Some(sealed) => Some(TotpState {
                secret: self.pii.open("totp", &sealed)?,
                enabled: row.flag("totp_enabled")?,
                last_step: row.int("totp_last_step")?,
            }),
            None => None,
        };
        Ok(UserRecord {
            id: row.text("id")?,
            username: row.text("username")?,
            display_name: row.text("display_name")?,
            password_hash: row.text("password_hash")?,
            role: role(&row.text("role")?)?,
            unit: row.text_opt("unit")?,
            scope: area_code(&row.text("scope")?)?,
            disabled: row.flag("disabled")?,
            created_at: row.time("created_at")?,
            failed_logins: row.int("failed_logins")?,
            locked_until: row.time_opt("locked_until")?,
            totp,
        })
    }
}

fn end_sessions_of(username: &str) -> Statement {
    Statement::new(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
    )
    .bind(username)
}

fn role(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("role {text}")))
}

fn api_key_from_row(row: &impl Columns) -> StoreResult<ApiKeyRecord> {
    let permissions = row.text("permissions")?;
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        secret_hash: row.text("secret_hash")?,
        role: role(&row.text("role")?)?,
        unit: row.text_opt("unit")?,
        scope: area_code(&row.text("scope")?)?,
        permissions: permissions
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time_opt("expires_at")?,
        revoked_at: row.time_opt("revoked_at")?,
    })
}
