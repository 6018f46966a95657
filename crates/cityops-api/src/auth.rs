//! Passwords (argon2id) and session tokens.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must have 8 to 128 characters")]
    Length,
    #[error("a password must not contain the username")]
    ContainsUsername,
    #[error("a password needs at least two kinds of characters (letters, digits, others)")]
    OneKind,
    #[error("this password is among the most common ones; choose another")]
    Common,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Passwords guessed first by anyone trying (lists of leaked passwords start with these).
const COMMON: [&str; 12] = [
    "password",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyui",
    "qwerty123",
    "11111111",
    "88888888",
    "abc12345",
    "admin123",
    "iloveyou",
];

/// The rules a new password meets: 8 to 128 characters, not containing the username, two
/// kinds of characters at least, and not one of the most common passwords.
pub fn check_password(username: &str, password: &str) -> Result<(), PasswordError> {
    let length = password.chars().count();
    if !(8..=128).contains(&length) {
        return Err(PasswordError::Length);
    }
    let lower = password.to_lowercase();
    if username.chars().count() >= 3 && lower.contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUsername);
    }
    let kinds = [
        password.chars().any(char::is_alphabetic),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return Err(PasswordError::OneKind);
    }
    if COMMON.contains(&lower.as_str()) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if !(8..=128).contains(&length) {
        return Err(PasswordError::Length);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .and_then(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed))
        .is_ok()
}

/// Codes are 6 digits for 30 seconds, with one step of clock drift either way: what every
/// authenticator app does by default.
fn totp(secret: &str, username: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .ok()?;
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("CityOps".into()),
        username.into(),
    )
    .ok()
}

/// A new TOTP secret (base32) and the `otpauth://` URL an authenticator app scans.
pub fn new_totp(username: &str) -> Option<(String, String)> {
    let secret = totp_rs::Secret::generate_secret().to_encoded().to_string();
    let url = totp(&secret, username)?.get_url();
    Some((secret, url))
}

/// The time step whose code `code` is, if it is a valid code of `secret` now.
pub fn totp_step(secret: &str, username: &str, code: &str, now: i64) -> Option<i64> {
    let totp = totp(secret, username)?;
    let now = u64::try_from(now).ok()?;
    [now.saturating_sub(30), now, now + 30]
        .into_iter()
        .find(|t| totp.check(code.trim(), *t))
        .map(|t| (t / 30) as i64)
}

/// The current code of a secret (tests and enrolment checks).
pub fn totp_code(secret: &str, username: &str, now: i64) -> Option<String> {
    Some(totp(secret, username)?.generate(u64::try_from(now).ok()?))
}

/// A new opaque session token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(check_password("chen", "first password").is_ok());
        assert!(check_password("operator", "cityops-demo").is_ok());
        assert!(matches!(
            check_password("chen", "short"),
            Err(PasswordError::Length)
        ));
        assert!(matches!(
            check_password("chenlei", "ChenLei-2026"),
            Err(PasswordError::ContainsUsername)
        ));
        assert!(matches!(
            check_password("wu", "abcdefghij"),
            Err(PasswordError::OneKind)
        ));
        assert!(matches!(
            check_password("wu", "12345678"),
            Err(PasswordError::OneKind)
        ));
        assert!(matches!(
            check_password("wu", "Password1"),
            Err(PasswordError::Common)
        ));
    }
}
