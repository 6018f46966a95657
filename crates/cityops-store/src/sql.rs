//! The SQL both backends share. Placeholders are `$1..$n` in order of first use, which
//! SQLite and PostgreSQL read alike; types are TEXT and BIGINT only.

macro_rules! sql_store {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::Store for $store {
            fn backend(&self) -> crate::Backend {
                self.backend_kind()
            }

            async fn ping(&self) -> crate::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.reader).await?;
                Ok(())
            }

            async fn put_areas(&self, areas: &[cityops_domain::Area]) -> crate::StoreResult<u64> {
                let mut tx = self.writer.begin().await?;
                for area in areas {
                    sqlx::query(
                        "INSERT INTO areas (code, name, level, parent) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent",
                    )
                    .bind(area.code.as_str())
                    .bind(&area.name)
                    .bind(area.level.as_str())
                    .bind(area.parent.as_ref().map(|p| p.as_str().to_owned()))
                    .execute(&mut *tx)
                    .await?;
                }
                let record = crate::audit::record("areas.import", "areas").detail(format!("{} areas", areas.len()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(areas.len() as u64)
            }

            async fn area(
                &self,
                code: &cityops_domain::AreaCode,
            ) -> crate::StoreResult<Option<cityops_domain::Area>> {
                let row = sqlx::query("SELECT code, name, level, parent FROM areas WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&self.reader)
                    .await?;
                row.map(|r| area_from_row(&r)).transpose()
            }

            async fn areas(
                &self,
                filter: &crate::AreaFilter,
            ) -> crate::StoreResult<Vec<cityops_domain::Area>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT code, name, level, parent FROM areas WHERE 1 = 1",
                );
                if let Some(parent) = &filter.parent {
                    query.push(" AND parent = ").push_bind(parent.as_str().to_owned());
                }
                if let Some(level) = filter.level {
                    query.push(" AND level = ").push_bind(level.as_str());
                }
                query.push(" ORDER BY code");
                let rows = query.build().fetch_all(&self.reader).await?;
                rows.iter().map(area_from_row).collect()
            }

            async fn put_units(&self, units: &[cityops_domain::Unit]) -> crate::StoreResult<u64> {
                let mut tx = self.writer.begin().await?;
                for unit in units {
                    sqlx::query(
                        "INSERT INTO units (code, name, kind, jurisdiction) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, jurisdiction = excluded.jurisdiction",
                    )
                    .bind(&unit.code)
                    .bind(&unit.name)
                    .bind(unit.kind.as_str())
                    .bind(unit.jurisdiction.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                let record = crate::audit::record("units.import", "units").detail(format!("{} units", units.len()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(units.len() as u64)
            }

            async fn unit(&self, code: &str) -> crate::StoreResult<Option<cityops_domain::Unit>> {
                let row = sqlx::query("SELECT code, name, kind, jurisdiction FROM units WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.reader)
                    .await?;
                row.map(|r| unit_from_row(&r)).transpose()
            }

            async fn units(
                &self,
                filter: &crate::UnitFilter,
            ) -> crate::StoreResult<Vec<cityops_domain::Unit>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT code, name, kind, jurisdiction FROM units WHERE 1 = 1",
                );
                if let Some(kind) = filter.kind {
                    query.push(" AND kind = ").push_bind(kind.as_str());
                }
                if let Some(within) = &filter.within {
                    query
                        .push(" AND jurisdiction LIKE ")
                        .push_bind(format!("{}%", within.subtree_prefix()));
                }
                query.push(" ORDER BY code");
                let rows = query.build().fetch_all(&self.reader).await?;
                rows.iter().map(unit_from_row).collect()
            }

            async fn put_catalog(
                &self,
                catalog: &cityops_domain::CategoryCatalog,
            ) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO category_catalog (id, version, doc, updated_at) VALUES (1, $1, $2, $3)
                     ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc, updated_at = excluded.updated_at",
                )
                .bind(&catalog.version)
                .bind(crate::encode_json(catalog))
                .bind(crate::millis(chrono::Utc::now()))
                .execute(&mut *tx)
                .await?;
                let record = crate::audit::record("catalog.replace", "catalog").detail(format!("version {}", catalog.version));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn catalog(&self) -> crate::StoreResult<Option<cityops_domain::CategoryCatalog>> {
                let row = sqlx::query("SELECT doc FROM category_catalog WHERE id = 1")
                    .fetch_optional(&self.reader)
                    .await?;
                row.map(|r| crate::decode_json(&sqlx::Row::try_get::<String, _>(&r, "doc")?))
                    .transpose()
            }

            async fn put_rules(&self, rules: &[cityops_domain::routing::Rule]) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query("DELETE FROM responsibility_rules").execute(&mut *tx).await?;
                for (position, rule) in rules.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO responsibility_rules (position, category, area, owner, unit) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(position as i64)
                    .bind(&rule.category)
                    .bind(rule.area.as_str())
                    .bind(&rule.owner)
                    .bind(&rule.unit)
                    .execute(&mut *tx)
                    .await?;
                }
                let record = crate::audit::record("routing.rules.replace", "routing-rules").detail(format!("{} rules", rules.len()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rules(&self) -> crate::StoreResult<Vec<cityops_domain::routing::Rule>> {
                let rows = sqlx::query("SELECT category, area, owner, unit FROM responsibility_rules ORDER BY position")
                    .fetch_all(&self.reader)
                    .await?;
                use sqlx::Row;
                rows.iter()
                    .map(|r| {
                        let category: String = r.try_get("category")?;
                        let area: String = r.try_get("area")?;
                        let owner: Option<String> = r.try_get("owner")?;
                        let unit: String = r.try_get("unit")?;
                        cityops_domain::routing::Rule::new(&category, &area, owner.as_deref(), &unit)
                            .map_err(|e| crate::StoreError::Corrupt(e.to_string()))
                    })
                    .collect()
            }

            async fn insert_user(&self, user: &crate::UserRecord) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                let result = sqlx::query(
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
                .bind(i64::from(user.disabled))
                .bind(crate::millis(user.created_at))
                .execute(&mut *tx)
                .await;
                match result {
                    Ok(_) => {
                        // Creating an account grants a role within a scope: a permission change.
                        let record = crate::audit::record("user.add", format!("user:{}", user.username))
                            .detail(format!("role {} scope {} unit {}", user.role.as_str(), user.scope, user.unit.as_deref().unwrap_or("-")));
                        append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                        tx.commit().await?;
                        Ok(())
                    }
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        Err(crate::StoreError::Duplicate { field: "username" })
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn user_by_name(&self, username: &str) -> crate::StoreResult<Option<crate::UserRecord>> {
                let row = sqlx::query(
                    "SELECT id, username, password_hash, role, unit, scope, display_name, disabled, created_at,
                            failed_logins, locked_until, totp_secret, totp_enabled, totp_last_step
                     FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.reader)
                .await?;
                row.map(|r| user_from_row(&r, &self.pii)).transpose()
            }

            async fn record_login_failure(
                &self,
                user_id: &str,
                max_failures: i64,
                lock_until: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                let mut tx = self.writer.begin().await?;
                let locked: Option<(Option<i64>, String)> = sqlx::query_as(
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
                .bind(crate::millis(chrono::Utc::now()))
                .fetch_optional(&mut *tx)
                .await?;
                let Some((locked, username)) = locked else {
                    return Ok(None);
                };
                let locked = locked.map(crate::from_millis).transpose()?;
                let result = if locked.is_some() { "refused: wrong password, account locked" } else { "refused: wrong password" };
                let record = crate::audit::record("session.sign_in", format!("user:{username}")).result(result);
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(locked)
            }

            async fn record_login_success(&self, user_id: &str) -> crate::StoreResult<()> {
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)")
                    .bind(user_id)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn set_totp(
                &self,
                user_id: &str,
                secret: Option<&str>,
                enabled: bool,
            ) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                let username: Option<String> = sqlx::query_scalar(
                    "UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3 RETURNING username",
                )
                .bind(secret.map(|s| self.pii.seal("totp", s)))
                .bind(i64::from(enabled && secret.is_some()))
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(username) = username {
                    let action = match (secret, enabled) {
                        (None, _) => "user.totp.remove",
                        (Some(_), false) => "user.totp.enrol",
                        (Some(_), true) => "user.totp.confirm",
                    };
                    append_audit_in(&self.audit_head, &mut tx, vec![crate::audit::record(action, format!("user:{username}"))]).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn use_totp_step(&self, user_id: &str, step: i64) -> crate::StoreResult<bool> {
                let done = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
                    .bind(step)
                    .bind(user_id)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_user_disabled(&self, username: &str, disabled: bool) -> crate::StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let updated = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
                    .bind(i64::from(disabled))
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                if disabled {
                    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
                        .bind(username)
                        .execute(&mut *tx)
                        .await?;
                }
                if updated.rows_affected() == 1 {
                    let action = if disabled { "user.disable" } else { "user.enable" };
                    append_audit_in(&self.audit_head, &mut tx, vec![crate::audit::record(action, format!("user:{username}"))]).await?;
                }
                tx.commit().await?;
                self.sessions.forget_all();
                Ok(updated.rows_affected() == 1)
            }

            async fn set_password(&self, username: &str, password_hash: &str) -> crate::StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let updated = sqlx::query(
                    "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL,
                                      totp_secret = NULL, totp_enabled = 0, totp_last_step = 0
                     WHERE username = $2",
                )
                .bind(password_hash)
                .bind(username)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() == 1 {
                    append_audit_in(&self.audit_head, &mut tx, vec![crate::audit::record("user.reset_password", format!("user:{username}"))]).await?;
                }
                tx.commit().await?;
                self.sessions.forget_all();
                Ok(updated.rows_affected() == 1)
            }

            async fn delete_session(&self, token_hash: &str) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                let user: Option<String> = sqlx::query_scalar(
                    "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *tx)
                    .await?;
                if let Some(user) = user {
                    append_audit_in(&self.audit_head, &mut tx, vec![crate::audit::record("session.sign_out", format!("user:{user}"))]).await?;
                }
                tx.commit().await?;
                self.sessions.forget(token_hash);
                Ok(())
            }

            async fn insert_session(
                &self,
                token_hash: &str,
                user_id: &str,
                now: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(crate::millis(now))
                .bind(crate::millis(expires_at))
                .execute(&mut *tx)
                .await?;
                let username: String = sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let record = crate::audit::record("session.sign_in", format!("user:{username}"))
                    .detail(format!("session until {}", expires_at.to_rfc3339()));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_api_key(&self, key: &crate::ApiKeyRecord) -> crate::StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
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
                .bind(key.expires_at.map(crate::millis))
                .execute(&mut *tx)
                .await?;
                // A key is a grant of a role within a scope: a permission change.
                let record = crate::audit::record("api_key.create", format!("api_key:{}", key.id)).detail(format!(
                    "name {} role {} scope {} permissions {}",
                    key.name,
                    key.role.as_str(),
                    key.scope,
                    key.permissions.join(",")
                ));
                append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn api_key(&self, id: &str) -> crate::StoreResult<Option<crate::ApiKeyRecord>> {
                let row = sqlx::query(
                    "SELECT id, name, secret_hash, role, unit, scope, permissions, created_by, created_at, expires_at, revoked_at
                     FROM api_keys WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
                row.map(|r| api_key_from_row(&r)).transpose()
            }

            async fn api_keys(&self) -> crate::StoreResult<Vec<crate::ApiKeyRecord>> {
                let rows = sqlx::query(
                    "SELECT id, name, secret_hash, role, unit, scope, permissions, created_by, created_at, expires_at, revoked_at
                     FROM api_keys ORDER BY created_at DESC, id",
                )
                .fetch_all(&self.reader)
                .await?;
                rows.iter().map(api_key_from_row).collect()
            }

            async fn revoke_api_key(
                &self,
                id: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(crate::millis(at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 1 {
                    append_audit_in(&self.audit_head, &mut tx, vec![crate::audit::record("api_key.revoke", format!("api_key:{id}"))]).await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn session_user(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<Option<crate::UserRecord>> {
                if let Some(user) = self.sessions.get(token_hash, now) {
                    return Ok(Some(user));
                }
                let row = sqlx::query(
                    "SELECT u.id, u.username, u.password_hash, u.role, u.unit, u.scope, u.display_name, u.disabled, u.created_at,
                            u.failed_logins, u.locked_until, u.totp_secret, u.totp_enabled, u.totp_last_step, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
                )
                .bind(token_hash)
                .bind(crate::millis(now))
                .fetch_optional(&self.reader)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let user = user_from_row(&row, &self.pii)?;
                let expires_at = crate::from_millis(sqlx::Row::try_get(&row, "expires_at")?)?;
                self.sessions.put(token_hash, &user, expires_at);
                Ok(Some(user))
            }

            async fn insert_case(
                &self,
                case: cityops_domain::Case,
                event: cityops_domain::TimelineEvent,
            ) -> crate::StoreResult<cityops_domain::Case> {
                let (reply, answer) = tokio::sync::oneshot::channel();
                self.jobs
                    .send(crate::batch::Job::Insert {
                        case,
                        event,
                        context: crate::audit::current_actor(),
                        reply,
                    })
                    .await
                    .map_err(|_| crate::StoreError::Closed)?;
                answer.await.map_err(|_| crate::StoreError::Closed)?
            }

            async fn update_case(
                &self,
                case: &cityops_domain::Case,
                event: &cityops_domain::TimelineEvent,
                attachment: Option<&crate::Attachment>,
            ) -> crate::StoreResult<()> {
                let (reply, answer) = tokio::sync::oneshot::channel();
                self.jobs
                    .send(crate::batch::Job::Update {
                        case: case.clone(),
                        event: event.clone(),
                        attachment: attachment.cloned(),
                        context: crate::audit::current_actor(),
                        reply,
                    })
                    .await
                    .map_err(|_| crate::StoreError::Closed)?;
                answer.await.map_err(|_| crate::StoreError::Closed)?
            }

            async fn case(&self, id: &str) -> crate::StoreResult<Option<cityops_domain::Case>> {
                let row = sqlx::query("SELECT doc FROM cases WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await?;
                row.map(|r| self.open_case_doc(&sqlx::Row::try_get::<String, _>(&r, "doc")?))
                    .transpose()
            }

            async fn case_by_number(&self, number: &str) -> crate::StoreResult<Option<cityops_domain::Case>> {
                let row = sqlx::query("SELECT doc FROM cases WHERE number = $1")
                    .bind(number)
                    .fetch_optional(&self.reader)
                    .await?;
                row.map(|r| self.open_case_doc(&sqlx::Row::try_get::<String, _>(&r, "doc")?))
                    .transpose()
            }

            async fn cases(&self, q: &crate::CaseQuery) -> crate::StoreResult<crate::CasePage> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT row_no, doc FROM cases WHERE area LIKE ");
                query.push_bind(format!("{}%", q.scope.subtree_prefix()));
                if !q.states.is_empty() {
                    query.push(" AND state IN (");
                    let mut states = query.separated(", ");
                    for state in &q.states {
                        states.push_bind(state.as_str());
                    }
                    query.push(")");
                }
                if let Some(category) = &q.category {
                    query.push(" AND category LIKE ").push_bind(format!("{}%", crate::like_literal(category)));
                    query.push(" ESCAPE '\\'");
                }
                if let Some(area) = &q.area {
                    query.push(" AND area LIKE ").push_bind(format!("{}%", area.subtree_prefix()));
                }
                if let Some(unit) = &q.unit {
                    query.push(" AND unit = ").push_bind(unit.clone());
                }
                if let Some(unit) = &q.jurisdiction_unit {
                    query.push(" AND unit = ").push_bind(unit.clone());
                }
                if let Some(center) = &q.coordination {
                    query.push(" AND coordination = ").push_bind(center.to_string());
                }
                if let Some(source) = q.source {
                    query.push(" AND source = ").push_bind(source.as_str());
                }
                match q.overdue {
                    Some(true) => {
                        query.push(" AND deadline < ").push_bind(crate::millis(q.now));
                    }
                    Some(false) => {
                        query.push(" AND (deadline IS NULL OR deadline >= ").push_bind(crate::millis(q.now));
                        query.push(")");
                    }
                    None => {}
                }
                if let Some(text) = &q.text {
                    let pattern = format!("%{}%", crate::like_literal(text));
                    // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
                    query.push(" AND (LOWER(description) LIKE LOWER(").push_bind(pattern.clone());
                    query.push(") ESCAPE '\\' OR number LIKE ").push_bind(pattern);
                    query.push(" ESCAPE '\\')");
                }
                if let Some(from) = q.created_from {
                    query.push(" AND created_at >= ").push_bind(crate::millis(from));
                }
                if let Some(to) = q.created_to {
                    query.push(" AND created_at < ").push_bind(crate::millis(to));
                }
                if let Some(after) = q.after {
                    query.push(" AND row_no < ").push_bind(after);
                }
                query.push(" ORDER BY row_no DESC LIMIT ").push_bind(i64::from(q.limit));
                let rows = query.build().fetch_all(&self.reader).await?;
                let mut cases = Vec::with_capacity(rows.len());
                let mut last = None;
                for row in &rows {
                    last = Some(sqlx::Row::try_get::<i64, _>(row, "row_no")?);
                    cases.push(self.open_case_doc(&sqlx::Row::try_get::<String, _>(row, "doc")?)?);
                }
                let next = if rows.len() as u32 == q.limit { last } else { None };
                Ok(crate::CasePage { cases, next })
            }

            async fn timeline(&self, case_id: &str) -> crate::StoreResult<Vec<cityops_domain::TimelineEvent>> {
                let rows = sqlx::query("SELECT doc FROM case_events WHERE case_id = $1 ORDER BY seq")
                    .bind(case_id)
                    .fetch_all(&self.reader)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let event = crate::decode_json(&sqlx::Row::try_get::<String, _>(r, "doc")?)?;
                        Ok(self.pii.open_event(event)?)
                    })
                    .collect()
            }

            async fn case_facts(
                &self,
                scope: &cityops_domain::AreaCode,
                since: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<Vec<crate::CaseFact>> {
                let rows = sqlx::query(
                    "SELECT area, unit, state, category, source, deadline, urgent, supervised, created_at, closed_at, late_count
                     FROM cases WHERE area LIKE $1 AND (closed_at IS NULL OR closed_at >= $2)",
                )
                .bind(format!("{}%", scope.subtree_prefix()))
                .bind(crate::millis(since))
                .fetch_all(&self.reader)
                .await?;
                use sqlx::Row;
                rows.iter()
                    .map(|r| {
                        let state: String = r.try_get("state")?;
                        let source: String = r.try_get("source")?;
                        let area: String = r.try_get("area")?;
                        let corrupt = |what: String| crate::StoreError::Corrupt(what);
                        Ok(crate::CaseFact {
                            area: cityops_domain::AreaCode::parse(&area).map_err(|e| corrupt(e.to_string()))?,
                            unit: r.try_get("unit")?,
                            state: cityops_domain::CaseState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
                            category: r.try_get("category")?,
                            source: cityops_domain::Source::parse(&source).ok_or_else(|| corrupt(format!("source {source}")))?,
                            deadline: r.try_get::<Option<i64>, _>("deadline")?.map(crate::from_millis).transpose()?,
                            urgent: r.try_get::<i64, _>("urgent")? != 0,
                            supervised: r.try_get::<i64, _>("supervised")? != 0,
                            created_at: crate::from_millis(r.try_get("created_at")?)?,
                            closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(crate::from_millis).transpose()?,
                            late_count: r.try_get("late_count")?,
                        })
                    })
                    .collect()
            }

            async fn case_counts(&self) -> crate::StoreResult<Vec<(String, i64)>> {
                let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM cases GROUP BY state ORDER BY state")
                    .fetch_all(&self.reader)
                    .await?;
                rows.iter()
                    .map(|r| Ok((sqlx::Row::try_get(r, "state")?, sqlx::Row::try_get(r, "n")?)))
                    .collect()
            }

            async fn reseal_personal_data(&self) -> crate::StoreResult<u64> {
                use sqlx::Row;
                // Only rows that carry a reporter hold personal data.
                let pattern = "%\"reporter\":{%";
                let mut changed = 0;
                let mut tx = self.writer.begin().await?;
                let rows = sqlx::query("SELECT id, version, doc, reporter_tag FROM cases WHERE doc LIKE $1")
                    .bind(pattern)
                    .fetch_all(&self.reader)
                    .await?;
                for row in &rows {
                    let stored: cityops_domain::Case = crate::decode_json(&row.try_get::<String, _>("doc")?)?;
                    let (clear, resealed) = self.pii.reseal_case(stored)?;
                    // The phone index follows the key too (and is filled in for rows from
                    // before it).
                    let tag = reporter_tag(&clear, &self.pii);
                    let stale_tag = tag != row.try_get::<Option<String>, _>("reporter_tag")?;
                    if resealed.is_some() || stale_tag {
                        // A case changed meanwhile was written with the current key anyway.
                        let doc = match &resealed {
                            Some(case) => crate::encode_json(case),
                            None => row.try_get::<String, _>("doc")?,
                        };
                        changed += sqlx::query("UPDATE cases SET doc = $1, reporter_tag = $2 WHERE id = $3 AND version = $4")
                            .bind(doc)
                            .bind(tag)
                            .bind(row.try_get::<String, _>("id")?)
                            .bind(row.try_get::<i64, _>("version")?)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                }
                let rows = sqlx::query("SELECT case_id, seq, doc FROM case_events WHERE doc LIKE $1")
                    .bind(pattern)
                    .fetch_all(&self.reader)
                    .await?;
                for row in &rows {
                    let stored: cityops_domain::TimelineEvent = crate::decode_json(&row.try_get::<String, _>("doc")?)?;
                    if let Some(resealed) = self.pii.reseal_event(stored)? {
                        changed += sqlx::query("UPDATE case_events SET doc = $1 WHERE case_id = $2 AND seq = $3")
                            .bind(crate::encode_json(&resealed))
                            .bind(row.try_get::<String, _>("case_id")?)
                            .bind(row.try_get::<i64, _>("seq")?)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                }
                let rows = sqlx::query("SELECT id, payload FROM outbox WHERE payload LIKE $1")
                    .bind(pattern)
                    .fetch_all(&self.reader)
                    .await?;
                for row in &rows {
                    let stored: cityops_domain::TimelineEvent = crate::decode_json(&row.try_get::<String, _>("payload")?)?;
                    if let Some(resealed) = self.pii.reseal_event(stored)? {
                        changed += sqlx::query("UPDATE outbox SET payload = $1 WHERE id = $2")
                            .bind(crate::encode_json(&resealed))
                            .bind(row.try_get::<i64, _>("id")?)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                }
                if changed > 0 {
                    let record = crate::audit::record("pii.reseal", "personal-data")
                        .detail(format!("{changed} rows sealed with key {}", self.pii.current_id()));
                    append_audit_in(&self.audit_head, &mut tx, vec![record]).await?;
                }
                tx.commit().await?;
                Ok(changed)
            }

            async fn cases_of_reporter(&self, phone: &str) -> crate::StoreResult<Vec<cityops_domain::Case>> {
                // Phones are sealed with a fresh nonce each, so the index holds a keyed hash
                // of each (under every configured key: rows keep the key they were written
                // with until re-sealed). Rows from before the index read in full.
                let tags = self.pii.phone_tags(phone);
                if tags.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT doc FROM cases WHERE reporter_tag IN (");
                let mut list = query.separated(", ");
                for tag in tags {
                    list.push_bind(tag);
                }
                query
                    .push(") OR (reporter_tag IS NULL AND doc LIKE ")
                    .push_bind("%\"phone\":\"%")
                    .push(") ORDER BY row_no");
                let docs: Vec<String> = query.build_query_scalar().fetch_all(&self.reader).await?;
                let mut found = Vec::new();
                for doc in &docs {
                    let case = self.open_case_doc(doc)?;
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

            async fn expired_contacts(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> crate::StoreResult<Vec<String>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM cases WHERE closed_at IS NOT NULL AND closed_at < $1
                       AND state IN ('closed', 'cancelled', 'invalid')
                       AND (doc LIKE $2 OR doc LIKE $3)",
                )
                .bind(crate::millis(before))
                .bind("%\"reporter\":{\"name\":\"%")
                .bind("%\"phone\":\"%")
                .fetch_all(&self.reader)
                .await?;
                Ok(ids)
            }

            async fn anonymise_reporters(&self, case_ids: &[String], why: &str) -> crate::StoreResult<u64> {
                use sqlx::Row;
                let mut tx = self.writer.begin().await?;
                let mut done = 0;
                let mut records = Vec::new();
                for id in case_ids {
                    let row = sqlx::query("SELECT version, doc FROM cases WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else { continue };
                    let mut case: cityops_domain::Case = crate::decode_json(&row.try_get::<String, _>("doc")?)?;
                    let Some(reporter) = case.reporter.as_mut() else { continue };
                    if !case.state.is_terminal() || (reporter.name.is_none() && reporter.phone.is_none()) {
                        continue;
                    }
                    reporter.name = None;
                    reporter.phone = None;
                    // A new version: a writer holding the case from before (a late rating)
                    // must reload it rather than write the contact back.
                    let version: i64 = row.try_get("version")?;
                    case.version = version + 1;
                    sqlx::query("UPDATE cases SET doc = $1, version = $2, reporter_tag = NULL WHERE id = $3 AND version = $4")
                        .bind(crate::encode_json(&case))
                        .bind(case.version)
                        .bind(id)
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                    for (table, column, key) in [("case_events", "doc", "case_id"), ("outbox", "payload", "case_id")] {
                        let rows = sqlx::query(&format!(
                            "SELECT {column} AS body, {} AS at FROM {table} WHERE {key} = $1 AND {column} LIKE $2",
                            if table == "outbox" { "id" } else { "seq" }
                        ))
                        .bind(id)
                        .bind("%\"reporter\":{%")
                        .fetch_all(&mut *tx)
                        .await?;
                        for row in rows {
                            let mut event: cityops_domain::TimelineEvent = crate::decode_json(&row.try_get::<String, _>("body")?)?;
                            if let cityops_domain::CaseCommand::Report(report) = &mut event.command {
                                if let Some(reporter) = report.reporter.as_mut() {
                                    reporter.name = None;
                                    reporter.phone = None;
                                }
                            }
                            let position = if table == "outbox" { "id" } else { "seq" };
                            sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {position} = $3"))
                                .bind(crate::encode_json(&event))
                                .bind(id)
                                .bind(row.try_get::<i64, _>("at")?)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    records.push(crate::audit::record("pii.anonymise", format!("case:{id}")).detail(why.to_owned()));
                    done += 1;
                }
                append_audit_in(&self.audit_head, &mut tx, records).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn attachment(&self, id: &str) -> crate::StoreResult<Option<crate::Attachment>> {
                let row = sqlx::query(
                    "SELECT id, case_id, file_name, content_type, size, sha256, path, uploaded_by, created_at
                     FROM attachments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
                let Some(r) = row else { return Ok(None) };
                use sqlx::Row;
                Ok(Some(crate::Attachment {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    file_name: r.try_get("file_name")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                    path: r.try_get("path")?,
                    uploaded_by: r.try_get("uploaded_by")?,
                    created_at: crate::from_millis(r.try_get("created_at")?)?,
                }))
            }
        }


        impl $store {
            /// A case document as read back: its reporter's contact opened.
            fn open_case_doc(&self, doc: &str) -> crate::StoreResult<cityops_domain::Case> {
                Ok(self.pii.open_case(crate::decode_json(doc)?)?)
            }
        }

        /// Writes a new case inside the caller's (batch) transaction.
        async fn write_insert(
            tx: &mut sqlx::Transaction<'_, $db>,
            mut case: cityops_domain::Case,
            event: cityops_domain::TimelineEvent,
            pii: &crate::PiiKeys,
        ) -> crate::StoreResult<cityops_domain::Case> {
                let day = cityops_domain::CaseNumber::day_of(case.created_at);
                let sequence: i64 = sqlx::query_scalar(
                    "INSERT INTO case_number_seq (district, day, last) VALUES ($1, $2, 1)
                     ON CONFLICT (district, day) DO UPDATE SET last = case_number_seq.last + 1
                     RETURNING last",
                )
                .bind(case.district.as_str())
                .bind(day.to_string())
                .fetch_one(&mut **tx)
                .await?;
                let sequence = u32::try_from(sequence)
                    .map_err(|_| crate::StoreError::Corrupt("daily case sequence overflow".into()))?;
                case.number = cityops_domain::CaseNumber::new(&case.district, day, sequence);
                sqlx::query(
                    "INSERT INTO cases (id, number, version, state, source, category, area, district, unit, deadline,
                                        urgent, supervised, description, created_at, updated_at, doc, closed_at, late_count, coordination,
                                        reporter_tag)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                )
                .bind(&case.id)
                .bind(&case.number.0)
                .bind(case.version)
                .bind(case.state.as_str())
                .bind(case.source.as_str())
                .bind(category_column(&case))
                .bind(case.area.as_str())
                .bind(case.district.as_str())
                .bind(&case.unit)
                .bind(case.deadline.map(crate::millis))
                .bind(i64::from(case.urgent))
                .bind(i64::from(case.supervised))
                .bind(&case.description)
                .bind(crate::millis(case.created_at))
                .bind(crate::millis(case.updated_at))
                .bind(crate::encode_json(pii.seal_case(&case).as_ref().unwrap_or(&case)))
                .bind(case.closed_at.map(crate::millis))
                .bind(i64::from(case.late_count))
                .bind(case.coordination.as_ref().map(|c| c.center.to_string()))
                .bind(reporter_tag(&case, pii))
                .execute(&mut **tx)
                .await?;
                insert_event(tx, &event, pii).await?;
                Ok(case)
            }

        /// Writes a case change inside the caller's (batch) transaction.
        async fn write_update(
            tx: &mut sqlx::Transaction<'_, $db>,
            case: &cityops_domain::Case,
            event: &cityops_domain::TimelineEvent,
            attachment: Option<&crate::Attachment>,
            pii: &crate::PiiKeys,
        ) -> crate::StoreResult<()> {
                let updated = sqlx::query(
                    "UPDATE cases SET version = $1, state = $2, category = $3, unit = $4, deadline = $5,
                                      urgent = $6, supervised = $7, updated_at = $8, doc = $9,
                                      closed_at = $10, late_count = $11, coordination = $12
                     WHERE id = $13 AND version = $14",
                )
                .bind(case.version)
                .bind(case.state.as_str())
                .bind(category_column(case))
                .bind(&case.unit)
                .bind(case.deadline.map(crate::millis))
                .bind(i64::from(case.urgent))
                .bind(i64::from(case.supervised))
                .bind(crate::millis(case.updated_at))
                .bind(crate::encode_json(pii.seal_case(case).as_ref().unwrap_or(case)))
                .bind(case.closed_at.map(crate::millis))
                .bind(i64::from(case.late_count))
                .bind(case.coordination.as_ref().map(|c| c.center.to_string()))
                .bind(&case.id)
                .bind(case.version - 1)
                .execute(&mut **tx)
                .await?;
                if updated.rows_affected() != 1 {
                    return Err(crate::StoreError::Conflict(format!(
                        "case {} changed since version {}; reload it and try again",
                        case.number,
                        case.version - 1
                    )));
                }
                if let Some(a) = attachment {
                    sqlx::query(
                        "INSERT INTO attachments (id, case_id, file_name, content_type, size, sha256, path, uploaded_by, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&a.id)
                    .bind(&a.case_id)
                    .bind(&a.file_name)
                    .bind(&a.content_type)
                    .bind(a.size)
                    .bind(&a.sha256)
                    .bind(&a.path)
                    .bind(&a.uploaded_by)
                    .bind(crate::millis(a.created_at))
                    .execute(&mut **tx)
                    .await?;
                }
                insert_event(tx, event, pii).await?;
                Ok(())
            }

        async fn write_job(
            tx: &mut sqlx::Transaction<'_, $db>,
            job: &crate::batch::Job,
            pii: &crate::PiiKeys,
        ) -> crate::StoreResult<crate::batch::Done> {
            match job {
                crate::batch::Job::Insert { case, event, .. } => write_insert(tx, case.clone(), event.clone(), pii)
                    .await
                    .map(|case| crate::batch::Done::Inserted(Box::new(case))),
                crate::batch::Job::Update { case, event, attachment, .. } => {
                    write_update(tx, case, event, attachment.as_ref(), pii)
                        .await
                        .map(|()| crate::batch::Done::Updated)
                }
            }
        }

        /// All jobs in ONE transaction. A version conflict writes nothing, so it fails alone;
        /// any other error abandons the batch (the caller then retries each job alone).
        async fn write_batch(
            pool: &sqlx::Pool<$db>,
            jobs: &[crate::batch::Job],
            pii: &crate::PiiKeys,
            hint: &crate::audit::HeadHint,
        ) -> crate::StoreResult<Vec<crate::StoreResult<crate::batch::Done>>> {
            let mut tx = pool.begin().await?;
            let mut results = Vec::with_capacity(jobs.len());
            let mut audit = Vec::with_capacity(jobs.len());
            for job in jobs {
                match write_job(&mut tx, job, pii).await {
                    Err(crate::StoreError::Conflict(message)) => {
                        results.push(Err(crate::StoreError::Conflict(message)))
                    }
                    Err(other) => return Err(other),
                    Ok(done) => {
                        audit.push(job.audit_record(&done));
                        results.push(Ok(done));
                    }
                }
            }
            append_audit_in(hint, &mut tx, audit).await?;
            tx.commit().await?;
            Ok(results)
        }

        async fn write_alone(
            pool: &sqlx::Pool<$db>,
            job: &crate::batch::Job,
            pii: &crate::PiiKeys,
            hint: &crate::audit::HeadHint,
        ) -> crate::StoreResult<crate::batch::Done> {
            let mut tx = pool.begin().await?;
            let done = write_job(&mut tx, job, pii).await?;
            append_audit_in(hint, &mut tx, vec![job.audit_record(&done)]).await?;
            tx.commit().await?;
            Ok(done)
        }

        /// Group commit: a writer task takes every case write waiting in the queue, writes
        /// them in ONE transaction, commits once, and only then answers each caller, so one
        /// fsync (and one lock on a district's daily number row) serves the whole batch.
        /// Jobs are ordered by the rows they lock, so concurrent writers cannot deadlock.
        async fn run_writer(
            pool: sqlx::Pool<$db>,
            queue: std::sync::Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<crate::batch::Job>>>,
            pii: crate::PiiKeys,
            hint: std::sync::Arc<crate::audit::HeadHint>,
        ) {
            loop {
                let mut batch = {
                    let mut queue = queue.lock().await;
                    let Some(first) = queue.recv().await else { return };
                    let mut batch = vec![first];
                    while batch.len() < crate::batch::MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    batch
                };
                batch.sort_by(|a, b| a.lock_key().cmp(&b.lock_key()));
                match write_batch(&pool, &batch, &pii, &hint).await {
                    Ok(results) => {
                        for (job, result) in batch.into_iter().zip(results) {
                            job.answer(result);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, jobs = batch.len(), "Batch failed; writing its jobs one by one.");
                        for job in batch {
                            let result = write_alone(&pool, &job, &pii, &hint).await;
                            job.answer(result);
                        }
                    }
                }
            }
        }

        async fn insert_event(
            tx: &mut sqlx::Transaction<'_, $db>,
            event: &cityops_domain::TimelineEvent,
            pii: &crate::PiiKeys,
        ) -> crate::StoreResult<()> {
            let sealed = pii.seal_event(event);
            let doc = crate::encode_json(sealed.as_ref().unwrap_or(event));
            sqlx::query("INSERT INTO case_events (case_id, seq, at, doc) VALUES ($1, $2, $3, $4)")
                .bind(&event.case_id)
                .bind(event.seq)
                .bind(crate::millis(event.at))
                .bind(&doc)
                .execute(&mut **tx)
                .await?;
            sqlx::query("INSERT INTO outbox (topic, case_id, payload, created_at) VALUES ($1, $2, $3, $4)")
                .bind(format!("case.{}", event.command.name()))
                .bind(&event.case_id)
                .bind(&doc)
                .bind(crate::millis(event.at))
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// The case's entry in the index of reporters' phones (see `PiiKeys::phone_tag`).
        fn reporter_tag(case: &cityops_domain::Case, pii: &crate::PiiKeys) -> Option<String> {
            case.reporter
                .as_ref()
                .and_then(|r| r.phone.as_deref())
                .and_then(|phone| pii.phone_tag(phone))
        }

        fn category_column(case: &cityops_domain::Case) -> Option<String> {
            case.category
                .as_ref()
                .map(|c| c.code.to_string())
                .or_else(|| case.category_hint.as_ref().map(|c| c.to_string()))
        }

        fn area_from_row(row: &<$db as sqlx::Database>::Row) -> crate::StoreResult<cityops_domain::Area> {
            use sqlx::Row;
            let code: String = row.try_get("code")?;
            let level: String = row.try_get("level")?;
            let parent: Option<String> = row.try_get("parent")?;
            let corrupt = |what: String| crate::StoreError::Corrupt(what);
            Ok(cityops_domain::Area {
                code: cityops_domain::AreaCode::parse(&code).map_err(|e| corrupt(e.to_string()))?,
                name: row.try_get("name")?,
                level: cityops_domain::AreaLevel::parse(&level).ok_or_else(|| corrupt(format!("area level {level}")))?,
                parent: parent
                    .map(|p| cityops_domain::AreaCode::parse(&p).map_err(|e| corrupt(e.to_string())))
                    .transpose()?,
            })
        }

        fn unit_from_row(row: &<$db as sqlx::Database>::Row) -> crate::StoreResult<cityops_domain::Unit> {
            use sqlx::Row;
            let kind: String = row.try_get("kind")?;
            let jurisdiction: String = row.try_get("jurisdiction")?;
            Ok(cityops_domain::Unit {
                code: row.try_get("code")?,
                name: row.try_get("name")?,
                kind: cityops_domain::UnitKind::parse(&kind)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("unit kind {kind}")))?,
                jurisdiction: cityops_domain::AreaCode::parse(&jurisdiction)
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
            })
        }

        fn api_key_from_row(row: &<$db as sqlx::Database>::Row) -> crate::StoreResult<crate::ApiKeyRecord> {
            use sqlx::Row;
            let role: String = row.try_get("role")?;
            let scope: String = row.try_get("scope")?;
            let permissions: String = row.try_get("permissions")?;
            let at = |column: &str| -> crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                row.try_get::<Option<i64>, _>(column)?.map(crate::from_millis).transpose()
            };
            Ok(crate::ApiKeyRecord {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                secret_hash: row.try_get("secret_hash")?,
                role: cityops_domain::Role::parse(&role)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("role {role}")))?,
                unit: row.try_get("unit")?,
                scope: cityops_domain::AreaCode::parse(&scope)
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
                permissions: permissions.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect(),
                created_by: row.try_get("created_by")?,
                created_at: crate::from_millis(row.try_get("created_at")?)?,
                expires_at: at("expires_at")?,
                revoked_at: at("revoked_at")?,
            })
        }

        fn user_from_row(
            row: &<$db as sqlx::Database>::Row,
            pii: &crate::PiiKeys,
        ) -> crate::StoreResult<crate::UserRecord> {
            use sqlx::Row;
            let totp = match row.try_get::<Option<String>, _>("totp_secret")? {
                Some(sealed) => Some(crate::TotpState {
                    secret: pii.open("totp", &sealed)?,
                    enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
                    last_step: row.try_get("totp_last_step")?,
                }),
                None => None,
            };
            let role: String = row.try_get("role")?;
            let scope: String = row.try_get("scope")?;
            let disabled: i64 = row.try_get("disabled")?;
            Ok(crate::UserRecord {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                password_hash: row.try_get("password_hash")?,
                role: cityops_domain::Role::parse(&role)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("role {role}")))?,
                unit: row.try_get("unit")?,
                scope: cityops_domain::AreaCode::parse(&scope)
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
                disabled: disabled != 0,
                created_at: crate::from_millis(row.try_get("created_at")?)?,
                failed_logins: row.try_get("failed_logins")?,
                locked_until: row
                    .try_get::<Option<i64>, _>("locked_until")?
                    .map(crate::from_millis)
                    .transpose()?,
                totp,
            })
        }
    };
}

pub(crate) use sql_store;
