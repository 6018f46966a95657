//! The audit checkpoint key and the checkpoints it signs.
//!
//! The key comes from the environment or a file in the key directory, never from the data
//! directory (ideally another machine's mount): whoever can rewrite the database but not
//! read this key cannot forge a checkpoint, so rewriting history is caught by
//! `cityops audit verify`.

use anyhow::{Context, Result};
use cityops_api::duty::Duty;
use cityops_api::AppState;
use cityops_domain::audit::{signing_key_from_hex, Checkpoint};
use cityops_store::{AuditStore, Store, TrustStore};
use ed25519_dalek::SigningKey;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The signing key: from the configuration (`audit_key`, e.g. the environment) when set,
/// else from its key file, created (readable by its owner only) when there is none.
pub fn signing_key(config: &crate::config::Config) -> Result<SigningKey> {
    match &config.audit_key {
        Some(hex) => signing_key_from_hex(hex.expose_secret().trim())
            .map_err(anyhow::Error::msg)
            .context("audit_key is not an Ed25519 key in 64 hex digits"),
        None => {
            config.settle_keys()?;
            load_or_create_key(&config.audit_key_path())
        }
    }
}

/// Reads the signing key, creating one (readable by its owner only) when there is none.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey> {
    match crate::secrets::read_key_file(path)? {
        Some(text) => signing_key_from_hex(text.expose_secret())
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("the audit key {} is not usable", path.display())),
        None => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let text = SecretString::from(hex::encode(key.to_bytes()));
            crate::write_private(path, text.expose_secret())
                .with_context(|| format!("cannot write the audit key {}", path.display()))?;
            tracing::info!(path = %path.display(), "Created the audit checkpoint key.");
            Ok(key)
        }
    }
}

/// Signs the chain's current head if it moved since the last checkpoint.
pub async fn checkpoint(store: &dyn AuditStore, key: &SigningKey) -> Result<Option<Checkpoint>> {
    let head = store.audit_head().await?;
    let last = store.checkpoints().await?.last().map_or(0, |c| c.seq);
    if head.seq <= last {
        return Ok(None);
    }
    let checkpoint = Checkpoint::sign(&head, chrono::Utc::now(), key);
    store.put_checkpoint(&checkpoint).await?;
    Ok(Some(checkpoint))
}

/// How long personal data is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Days after its case finished that a reporter's contact is kept.
    pub contact_days: i64,
    /// Days after it ended that a patrol's track is kept.
    pub patrol_days: i64,
}

/// Removes reporters' contacts from cases finished more than `contact_days` ago, and the
/// tracks of patrols ended more than `patrol_days` ago, every hour while this node holds the
/// retention duty (at once when it takes it).
pub fn spawn_retention(state: &AppState, retention: Retention) {
    let store = state.store.clone();
    cityops_api::duty::run_every(
        state,
        Duty::Retention,
        Duration::from_secs(3600),
        false,
        move || {
            let store = store.clone();
            async move { retain(store.as_ref(), retention).await }
        },
    );
}

async fn retain(store: &dyn Store, retention: Retention) {
    let days = retention.contact_days;
    match apply_retention(store, days).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(cases = n, days, "Retention removed reporters' contacts."),
        Err(error) => tracing::warn!(%error, "Retention did not run; trying again later."),
    }
    let before = chrono::Utc::now() - chrono::Duration::days(retention.patrol_days);
    match store.delete_patrols_ended_before(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            patrols = n,
            days = retention.patrol_days,
            "Retention removed patrol tracks."
        ),
        Err(error) => {
            tracing::warn!(%error, "Patrol retention did not run; trying again later.")
        }
    }
    // Sign-in counts name accounts and addresses: kept only while they still count (an hour).
    let now = chrono::Utc::now();
    match store
        .prune_limits(now, now - chrono::Duration::hours(1))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "Retention removed forgotten sign-in counts."),
        Err(error) => {
            tracing::warn!(%error, "Could not prune the shared limits; trying again later.")
        }
    }
}

/// One retention pass; returns how many cases lost their reporter's contact.
pub async fn apply_retention(store: &dyn TrustStore, days: i64) -> Result<u64> {
    let before = chrono::Utc::now() - chrono::Duration::days(days);
    let ids = store.expired_contacts(before).await?;
    let why = format!("retention: {days} days after the case finished");
    // The store narrows the system to each case's city.
    let system = cityops_domain::Actor::system(cityops_domain::AreaCode::parse("100000")?);
    Ok(store
        .anonymise_reporters(&ids, &system, &why, chrono::Utc::now())
        .await?)
}

/// Signs a checkpoint every `every` while this node holds the checkpoint duty, so at most
/// that much of the log is covered only by its hash chain; and once more on shutdown, for
/// what the final requests wrote.
pub fn spawn_checkpoints(state: &AppState, key: SigningKey, every: Duration) {
    let store = state.store.clone();
    let key = Arc::new(key);
    cityops_api::duty::run_every(state, Duty::AuditCheckpoints, every, true, move || {
        let store = store.clone();
        let key = key.clone();
        async move {
            if let Err(error) = checkpoint(store.as_ref(), &key).await {
                tracing::warn!(%error, "Could not sign an audit checkpoint; trying again later.");
            }
        }
    });
}
