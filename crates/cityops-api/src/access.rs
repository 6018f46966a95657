//! Who may try again, and when. Two guards for what anyone can reach without an account:
//!
//! - [`SignInThrottle`]: failed sign-ins (and wrong codes when removing a second factor)
//!   slow down the pair (account, client address) that failed, with a delay that doubles
//!   after a few free attempts. No account is ever locked for everyone, so nobody can lock a
//!   colleague out from elsewhere, and the name typed is counted whether an account has it or
//!   not, so the answers tell real accounts from made-up ones no better than a coin. Sustained
//!   failures of one account or from one address raise an alert (a metric and an audit entry).
//! - [`Challenges`]: a citizen's anonymous report costs its sender a little work (a
//!   proof of work on a token this server signed), which a person's browser does once in
//!   a second or two and a flood of fake reports pays for every time.
//!
//! Both count in the process, or, given the database every node shares
//! ([`cityops_store::LimitStore`]), there: behind a load balancer a guesser or a flood gets
//! one budget, not one per node.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use cityops_store::{CountWindow, LimitStore, StoreResult};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};

/// The address a request came from (the peer of the connection): the second half of the
/// throttle's key. A request without one (a test router driven in process) counts as from
/// the unspecified address.
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

pub(crate) fn client_address(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// How long one pair waits after its failures: `free` failures cost nothing (typos), then
/// `base`, doubling with every further failure, never more than `cap`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait after `failures` consecutive failures.
    pub fn delay(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.free).filter(|b| *b > 0) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(beyond - 1).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// A pair's record: consecutive failures, and until when it must wait.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    wait_until: Instant,
    last: Instant,
}

/// Failures counted towards an alert: within a window, the next count that raises one.
#[derive(Debug, Clone, Copy)]
struct Watch {
    count: u32,
    since: Instant,
    next_alert: u32,
}

/// What raised an alert: an account failing from anywhere, or an address failing on any
/// accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlertSubject {
    Account(String),
    Address(IpAddr),
}

impl AlertSubject {
    /// The audit log's object for it.
    pub fn object(&self) -> String {
        match self {
            AlertSubject::Account(name) => format!("user:{name}"),
            AlertSubject::Address(address) => format!("address:{address}"),
        }
    }

    /// The metric's label.
    pub fn scope(&self) -> &'static str {
        match self {
            AlertSubject::Account(_) => "account",
            AlertSubject::Address(_) => "address",
        }
    }
}

/// Sustained failures: `failures` refused attempts within the alert window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub subject: AlertSubject,
    pub failures: u32,
}

/// What a failure leads to: the wait it imposed (none while attempts are free), and the
/// alerts it raised.
#[derive(Debug, Default)]
pub struct Failure {
    pub wait: Option<Duration>,
    pub alerts: Vec<Alert>,
}

/// A pair forgets its failures after this long without one; alerts count within it.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Past this many remembered pairs, the forgotten ones are swept out.
const SWEEP_ABOVE: usize = 50_000;

pub struct SignInThrottle {
    backoff: Backoff,
    alert_after: u32,
    pairs: Mutex<HashMap<(String, IpAddr), Attempts>>,
    watches: Mutex<HashMap<AlertSubject, Watch>>,
    /// The database every node shares, when the counts are kept there instead (several
    /// nodes: a guesser spreading attempts over the nodes is counted once).
    shared: Option<Arc<dyn LimitStore>>,
}

/// The name as counted: what was typed, bounded (longer names are refused anyway).
fn account_key(account: &str) -> String {
    account.chars().take(100).collect()
}

impl SignInThrottle {
    /// `alert_after` refused attempts within an hour (of one account, or from one address)
    /// raise an alert, and each doubling of them another.
    pub fn new(
        backoff: Backoff,
        alert_after: u32,
        shared: Option<Arc<dyn LimitStore>>,
    ) -> SignInThrottle {
        SignInThrottle {
            backoff,
            alert_after: alert_after.max(1),
            pairs: Mutex::default(),
            watches: Mutex::default(),
            shared,
        }
    }

    /// [`Self::wait`], counted where the throttle keeps its counts.
    pub async fn must_wait(&self, account: &str, address: IpAddr) -> StoreResult<Option<Duration>> {
        let Some(store) = &self.shared else {
            return Ok(self.wait(account, address, Instant::now()));
        };
        let now = Utc::now();
        let Some((failures, last)) = store.count_of(&pair_key(account, address)).await? else {
            return Ok(None);
        };
        let since = (now - last).to_std().unwrap_or(Duration::ZERO);
        if since >= FORGET_AFTER {
            return Ok(None);
        }
        Ok(Some(self.backoff.delay(failures).saturating_sub(since)).filter(|w| !w.is_zero()))
    }

    /// [`Self::refused_waiting`], counted where the throttle keeps its counts.
    pub async fn count_refused(&self, account: &str, address: IpAddr) -> StoreResult<Vec<Alert>> {
        match &self.shared {
            None => Ok(self.refused_waiting(account, address, Instant::now())),
            Some(store) => self.shared_watch(store.as_ref(), account, address).await,
        }
    }

    /// [`Self::failed`], counted where the throttle keeps its counts.
    pub async fn count_failure(&self, account: &str, address: IpAddr) -> StoreResult<Failure> {
        let Some(store) = &self.shared else {
            return Ok(self.failed(account, address, Instant::now()));
        };
        let failures = store
            .count_one(
                &pair_key(account, address),
                Utc::now(),
                forget_after(),
                CountWindow::SinceLast,
            )
            .await?;
        Ok(Failure {
            wait: Some(self.backoff.delay(failures)).filter(|w| !w.is_zero()),
            alerts: self.shared_watch(store.as_ref(), account, address).await?,
        })
    }

    /// [`Self::succeeded`], counted where the throttle keeps its counts.
    pub async fn count_success(&self, account: &str, address: IpAddr) -> StoreResult<()> {
        match &self.shared {
            None => {
                self.succeeded(account, address);
                Ok(())
            }
            Some(store) => store.forget_count(&pair_key(account, address)).await,
        }
    }

    /// The alerts' counts in the database: every count is reached by exactly one request,
    /// so exactly one node raises each alert.
    async fn shared_watch(
        &self,
        store: &dyn LimitStore,
        account: &str,
        address: IpAddr,
    ) -> StoreResult<Vec<Alert>> {
        let mut alerts = Vec::new();
        for subject in [
            AlertSubject::Account(account_key(account)),
            AlertSubject::Address(address),
        ] {
            let count = store
                .count_one(
                    &format!("alert:{}", subject.object()),
                    Utc::now(),
                    forget_after(),
                    CountWindow::SinceFirst,
                )
                .await?;
            if alerts_at(self.alert_after, count) {
                alerts.push(Alert {
                    subject,
                    failures: count,
                });
            }
        }
        Ok(alerts)
    }

    /// How long the pair must still wait before its next attempt is even considered.
    pub fn wait(&self, account: &str, address: IpAddr, now: Instant) -> Option<Duration> {
        let pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs
            .get(&(account_key(account), address))
            .map(|a| a.wait_until.saturating_duration_since(now))
            .filter(|wait| !wait.is_zero())
    }

    /// An attempt refused without being considered because the pair must wait: no longer
    /// wait, but it counts towards the alerts.
    pub fn refused_waiting(&self, account: &str, address: IpAddr, now: Instant) -> Vec<Alert> {
        self.watch(account, address, now)
    }

    /// A wrong password or code.
    pub fn failed(&self, account: &str, address: IpAddr, now: Instant) -> Failure {
        let wait = {
            let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
            if pairs.len() > SWEEP_ABOVE {
                pairs.retain(|_, a| now.saturating_duration_since(a.last) < FORGET_AFTER);
            }
            let entry = pairs
                .entry((account_key(account), address))
                .or_insert(Attempts {
                    failures: 0,
                    wait_until: now,
                    last: now,
                });
            if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last = now;
            let wait = self.backoff.delay(entry.failures);
            entry.wait_until = now + wait;
            Some(wait).filter(|w| !w.is_zero())
        };
        Failure {
            wait,
            alerts: self.watch(account, address, now),
        }
    }

    /// A successful sign-in: the pair starts afresh (other pairs of the account do not).
    pub fn succeeded(&self, account: &str, address: IpAddr) {
        self.pairs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(account_key(account), address));
    }

    fn watch(&self, account: &str, address: IpAddr, now: Instant) -> Vec<Alert> {
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        if watches.len() > SWEEP_ABOVE {
            watches.retain(|_, w| now.saturating_duration_since(w.since) < FORGET_AFTER);
        }
        let mut alerts = Vec::new();
        for subject in [
            AlertSubject::Account(account_key(account)),
            AlertSubject::Address(address),
        ] {
            let watch = watches.entry(subject.clone()).or_insert(Watch {
                count: 0,
                since: now,
                next_alert: self.alert_after,
            });
            if now.saturating_duration_since(watch.since) >= FORGET_AFTER {
                *watch = Watch {
                    count: 0,
                    since: now,
                    next_alert: self.alert_after,
                };
            }
            watch.count = watch.count.saturating_add(1);
            if watch.count >= watch.next_alert {
                watch.next_alert = watch.next_alert.saturating_mul(2);
                alerts.push(Alert {
                    subject,
                    failures: watch.count,
                });
            }
        }
        alerts
    }
}

/// The shared count's key of a pair; the name's length first, so that no name and address
/// can be read as another's.
fn pair_key(account: &str, address: IpAddr) -> String {
    let account = account_key(account);
    format!("sign-in:{}:{account}:{address}", account.len())
}

fn forget_after() -> chrono::Duration {
    chrono::Duration::from_std(FORGET_AFTER).unwrap_or(chrono::Duration::hours(1))
}

/// Whether the `count`th refused attempt raises an alert: the `alert_after`th, then each
/// doubling (what the in-process watch's `next_alert` does).
fn alerts_at(alert_after: u32, count: u32) -> bool {
    count >= alert_after
        && count.is_multiple_of(alert_after)
        && (count / alert_after).is_power_of_two()
}

/// The refusal of a pair that must wait: the same for every name typed, known or not.
pub fn throttled(wait: Duration) -> ApiError {
    // Whole seconds, rounded up: waiting the number given is always enough.
    let seconds = wait.as_millis().div_ceil(1000).max(1) as u64;
    ApiError::new(
        ErrorCode::SignInThrottled,
        format!(
            "too many failed sign-ins of this account from this address: try again in {seconds} s"
        ),
    )
    .retry_after(seconds)
}

/// The key challenges are signed with; never printed.
#[derive(Clone)]
pub struct ChallengeKey(pub [u8; 32]);

impl ChallengeKey {
    /// A random key: challenges then hold on this process only.
    pub fn random() -> ChallengeKey {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        ChallengeKey(key)
    }

    /// A key derived from other key material (the audit signing key), so every node with
    /// that key accepts the challenges of the others.
    pub fn derived(material: &[u8]) -> ChallengeKey {
        ChallengeKey(
            Sha256::new()
                .chain_update(b"cityops report challenge key\n")
                .chain_update(material)
                .finalize()
                .into(),
        )
    }
}

impl std::fmt::Debug for ChallengeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

fn used_key(id: &str) -> String {
    format!("challenge:{id}")
}

/// How long a challenge may be solved and used.
pub const CHALLENGE_TTL_SECS: i64 = 600;

/// Signed proof-of-work challenges for anonymous reports, and the ones already used.
pub struct Challenges {
    key: [u8; 32],
    bits: u8,
    /// Challenge ids used, with the time (unix seconds) after which they are expired anyway.
    used: Mutex<HashMap<String, i64>>,
    /// The database every node shares, when the used ids are kept there instead (so that a
    /// solved challenge works once in all, not once per node).
    shared: Option<Arc<dyn LimitStore>>,
}

/// A fresh challenge: solve it by finding a `nonce` such that SHA-256 of the challenge's
/// text followed by the nonce's starts with `bits` zero bits.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReportChallenge {
    /// Opaque, signed by the server; send it back as `challenge`.
    pub challenge: String,
    /// Leading zero bits SHA-256(challenge + nonce) must have.
    pub bits: u8,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Why a challenge was refused (the message of the 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the challenge is not one this server issued")]
    Forged,
    #[error("the challenge has expired: fetch a new one")]
    Expired,
    #[error("the nonce does not solve the challenge")]
    Unsolved,
    #[error("the challenge was used already: fetch a new one")]
    Reused,
}

impl From<ChallengeError> for ApiError {
    fn from(e: ChallengeError) -> ApiError {
        let field = if e == ChallengeError::Unsolved {
            "nonce"
        } else {
            "challenge"
        };
        ApiError::new(ErrorCode::ChallengeFailed, e.to_string()).with_field(field)
    }
}

/// The number of leading zero bits of a digest.
pub fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether `nonce` solves `challenge` at `bits`.
pub fn solves(challenge: &str, nonce: &str, bits: u8) -> bool {
    let digest = Sha256::new()
        .chain_update(challenge.as_bytes())
        .chain_update(nonce.as_bytes())
        .finalize();
    leading_zero_bits(&digest) >= u32::from(bits)
}

/// The smallest decimal nonce that solves a challenge (clients, tests and the demo).
pub fn solve(challenge: &str, bits: u8) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|nonce| solves(challenge, nonce, bits))
        .unwrap_or_default()
}

impl Challenges {
    pub fn new(key: &ChallengeKey, bits: u8, shared: Option<Arc<dyn LimitStore>>) -> Challenges {
        Challenges {
            key: key.0,
            bits: bits.min(32),
            used: Mutex::default(),
            shared,
        }
    }

    /// [`Self::verify`], against the used ids wherever they are kept.
    pub async fn verify_unused(
        &self,
        challenge: &str,
        nonce: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let Some(store) = &self.shared else {
            return Ok(self.verify(challenge, nonce, now)?);
        };
        let (id, _) = self.check(challenge, nonce, now)?;
        if store.count_of(&used_key(&id)).await?.is_some() {
            return Err(ChallengeError::Reused.into());
        }
        Ok(())
    }

    /// [`Self::redeem`], recording the use wherever the used ids are kept: of two nodes
    /// redeeming one challenge at once, exactly one counts the first use.
    pub async fn use_up(&self, challenge: &str, nonce: &str, now: i64) -> Result<(), ApiError> {
        let Some(store) = &self.shared else {
            return Ok(self.redeem(challenge, nonce, now)?);
        };
        let (id, _) = self.check(challenge, nonce, now)?;
        let uses = store
            .count_one(
                &used_key(&id),
                Utc::now(),
                // Past its expiry a challenge is refused before its id is looked at.
                chrono::Duration::seconds(CHALLENGE_TTL_SECS * 2),
                CountWindow::SinceFirst,
            )
            .await?;
        if uses > 1 {
            return Err(ChallengeError::Reused.into());
        }
        Ok(())
    }

    fn mac(&self, body: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(b"cityops report challenge\n");
        mac.update(body.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// A new challenge, issued at `now` (unix seconds).
    pub fn issue(&self, now: i64) -> ReportChallenge {
        let mut id = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut id);
        let body = format!("{now}.{}.{}", self.bits, hex::encode(id));
        let challenge = format!("{body}.{}", self.mac(&body));
        ReportChallenge {
            challenge,
            bits: self.bits,
            expires_at: chrono::DateTime::from_timestamp(now + CHALLENGE_TTL_SECS, 0)
                .unwrap_or_default(),
        }
    }

    /// Whether `nonce` solves a challenge this server issued that has not expired; returns
    /// its id and expiry. Does not use it up: [`Challenges::redeem`] does.
    fn check(
        &self,
        challenge: &str,
        nonce: &str,
        now: i64,
    ) -> Result<(String, i64), ChallengeError> {
        let (body, mac) = challenge.rsplit_once('.').ok_or(ChallengeError::Forged)?;
        let expected = self.mac(body);
        // Compared in full whatever the first difference: the MAC leaks nothing by timing.
        let same = expected.len() == mac.len()
            && expected
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(ChallengeError::Forged);
        }
        let mut parts = body.split('.');
        let (Some(issued), Some(bits), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ChallengeError::Forged);
        };
        let issued: i64 = issued.parse().map_err(|_| ChallengeError::Forged)?;
        let bits: u8 = bits.parse().map_err(|_| ChallengeError::Forged)?;
        let expires = issued + CHALLENGE_TTL_SECS;
        if now > expires || issued > now + 60 {
            return Err(ChallengeError::Expired);
        }
        let nonce_ok =
            (1..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric());
        if !nonce_ok || !solves(challenge, nonce, bits) {
            return Err(ChallengeError::Unsolved);
        }
        Ok((id.to_owned(), expires))
    }

    /// Checks a solved challenge without using it up (before the rest of a report is
    /// checked, so a report refused for its content keeps nothing).
    pub fn verify(&self, challenge: &str, nonce: &str, now: i64) -> Result<(), ChallengeError> {
        let (id, _) = self.check(challenge, nonce, now)?;
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.contains_key(&id) {
            return Err(ChallengeError::Reused);
        }
        Ok(())
    }

    /// Uses a solved challenge up: it works once.
    pub fn redeem(&self, challenge: &str, nonce: &str, now: i64) -> Result<(), ChallengeError> {
        let (id, expires) = self.check(challenge, nonce, now)?;
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.len() > SWEEP_ABOVE {
            // An expired challenge is refused as expired: its id need not be kept.
            used.retain(|_, expires| *expires >= now);
        }
        if used.insert(id, expires).is_some() {
            return Err(ChallengeError::Reused);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            free: 3,
            base: Duration::from_secs(2),
            cap: Duration::from_secs(900),
        }
    }

    #[test]
    fn the_delay_doubles_after_the_free_attempts_and_stops_at_the_cap() {
        let b = backoff();
        let delays: Vec<u64> = (0..=15).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(
            delays,
            [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
        );
        assert_eq!(b.delay(u32::MAX).as_secs(), 900);
    }

    #[test]
    fn a_pair_waits_and_other_addresses_do_not() {
        let throttle = SignInThrottle::new(backoff(), 1000, None);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(throttle.failed("operator", a, t0).wait.is_none());
        }
        assert_eq!(
            throttle.failed("operator", a, t0).wait,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            throttle.wait("operator", a, t0),
            Some(Duration::from_secs(2))
        );
        assert_eq!(throttle.wait("operator", b, t0), None);
        assert_eq!(throttle.wait("ghost", a, t0), None);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(throttle.wait("operator", a, later), None);
        assert_eq!(
            throttle.failed("operator", a, later).wait,
            Some(Duration::from_secs(4))
        );
        throttle.succeeded("operator", a);
        assert_eq!(throttle.wait("operator", a, later), None);
        // An hour without failures forgets them.
        for _ in 0..3 {
            throttle.failed("leader", a, t0);
        }
        let hour = t0 + FORGET_AFTER;
        assert!(throttle.failed("leader", a, hour).wait.is_none());
    }

    #[test]
    fn sustained_failures_raise_alerts_at_each_doubling() {
        let throttle = SignInThrottle::new(backoff(), 5, None);
        let t0 = Instant::now();
        let mut raised = Vec::new();
        for n in 0..20u8 {
            let address = IpAddr::V4(Ipv4Addr::new(10, 0, 0, n));
            for alert in throttle.failed("operator", address, t0).alerts {
                raised.push((alert.subject.scope(), alert.failures));
            }
        }
        assert_eq!(raised, [("account", 5), ("account", 10), ("account", 20)]);
        let address: IpAddr = "10.1.1.1".parse().unwrap();
        let alerts: Vec<Alert> = (0..5)
            .flat_map(|n| throttle.refused_waiting(&format!("user{n}"), address, t0))
            .collect();
        assert_eq!(
            alerts,
            [Alert {
                subject: AlertSubject::Address(address),
                failures: 5
            }]
        );
    }

    #[test]
    fn the_shared_count_alerts_where_the_in_process_watch_does() {
        for alert_after in [1, 3, 5, 20] {
            let throttle = SignInThrottle::new(backoff(), alert_after, None);
            let (t0, address) = (Instant::now(), IpAddr::V4(Ipv4Addr::LOCALHOST));
            for count in 1..=500u32 {
                let local = throttle
                    .refused_waiting("operator", address, t0)
                    .iter()
                    .any(|a| a.subject.scope() == "account");
                assert_eq!(
                    alerts_at(alert_after, count),
                    local,
                    "{alert_after} {count}"
                );
            }
        }
    }

    #[test]
    fn a_challenge_works_once_solved_signed_and_in_time() {
        let challenges = Challenges::new(&ChallengeKey([7; 32]), 8, None);
        let now = 1_800_000_000;
        let issued = challenges.issue(now);
        assert_eq!(issued.bits, 8);
        let nonce = solve(&issued.challenge, 8);
        assert!(solves(&issued.challenge, &nonce, 8));
        let wrong = (0u64..)
            .map(|n| n.to_string())
            .find(|n| !solves(&issued.challenge, n, 8))
            .unwrap();
        assert_eq!(
            challenges.verify(&issued.challenge, &wrong, now),
            Err(ChallengeError::Unsolved)
        );
        assert_eq!(
            challenges.verify(&issued.challenge, &nonce, now + CHALLENGE_TTL_SECS + 1),
            Err(ChallengeError::Expired)
        );
        assert_eq!(challenges.verify(&issued.challenge, &nonce, now), Ok(()));
        assert_eq!(challenges.redeem(&issued.challenge, &nonce, now), Ok(()));
        assert_eq!(
            challenges.redeem(&issued.challenge, &nonce, now),
            Err(ChallengeError::Reused)
        );
        assert_eq!(
            challenges.verify(&issued.challenge, &nonce, now),
            Err(ChallengeError::Reused)
        );
        // Another key's challenge, or one with its difficulty lowered, is forged.
        let other = Challenges::new(&ChallengeKey([8; 32]), 8, None).issue(now);
        assert_eq!(
            challenges.verify(&other.challenge, &solve(&other.challenge, 8), now),
            Err(ChallengeError::Forged)
        );
        let easier = issued.challenge.replacen(".8.", ".0.", 1);
        assert_eq!(
            challenges.verify(&easier, "0", now),
            Err(ChallengeError::Forged)
        );
        assert_eq!(leading_zero_bits(&[0, 0b0001_0000]), 11);
    }
}
