//! Personal information at rest: a citizen's name and phone number are sealed with
//! XChaCha20-Poly1305 before they reach a row (case, timeline event, outbox) and opened when
//! read back, so a copied database or backup holds no contact details.
//!
//! Keys come from the operator (a key file or the environment, read by the binary), each with
//! a short id written into the sealed value: rotating adds a key that seals from then on,
//! [`crate::Store::reseal_personal_data`] re-seals what older keys sealed, and an old key can
//! be retired once nothing names it.

use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use cityops_domain::{Case, CaseCommand, Reporter, TimelineEvent};
use std::sync::Arc;

/// Sealed values start with this, then `<key id>:<base64 of nonce and ciphertext>`.
const PREFIX: &str = "pii1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PiiError {
    #[error("line {line} of the personal-data keys: {reason}")]
    BadKey { line: usize, reason: String },
    #[error("no personal-data key is configured")]
    NoKey,
    #[error("personal data sealed with key '{0}', which is not configured")]
    UnknownKey(String),
    #[error("sealed personal data does not open: it was altered or the key is wrong")]
    Corrupt,
}

/// The configured keys; the last one seals, all of them open.
#[derive(Clone)]
pub struct PiiKeys {
    keys: Arc<Vec<(String, XChaCha20Poly1305)>>,
    /// Per key (same order), the key of the phone index: derived, so the sealing key itself
    /// serves one purpose only.
    tag_keys: Arc<Vec<[u8; 32]>>,
}

impl std::fmt::Debug for PiiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material, not even in a debug print.
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("PiiKeys").field("ids", &ids).finish()
    }
}

impl PiiKeys {
    /// Keys as text: one `<id> <64 hex digits>` per line (or separated by commas), blank
    /// lines and `#` comments ignored; the last key is the current one.
    pub fn parse(text: &str) -> Result<PiiKeys, PiiError> {
        let mut keys = Vec::new();
        let mut tag_keys = Vec::new();
        let entries = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim_start().starts_with('#'))
            .flat_map(|(index, line)| line.split(',').map(move |entry| (index, entry.trim())))
            .filter(|(_, entry)| !entry.is_empty());
        for (index, line) in entries {
            let bad = |reason: &str| PiiError::BadKey {
                line: index + 1,
                reason: reason.into(),
            };
            let (id, secret) = line
                .split_once([' ', ':'])
                .ok_or_else(|| bad("expected '<id> <64 hex digits>'"))?;
            let id = id.trim();
            if id.is_empty()
                || id.len() > 16
                || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(bad("a key id is 1 to 16 letters, digits or '-'"));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(bad("the key id is used twice"));
            }
            let bytes = hex::decode(secret.trim()).map_err(|_| bad("the key is not hex"))?;
            if bytes.len() != 32 {
                return Err(bad("a key has 32 bytes (64 hex digits)"));
            }
            keys.push((
                id.to_owned(),
                XChaCha20Poly1305::new(Key::from_slice(&bytes)),
            ));
            tag_keys.push(hmac_sha256(&bytes, b"cityops/phone-index/v1"));
        }
        if keys.is_empty() {
            return Err(PiiError::NoKey);
        }
        Ok(PiiKeys {
            keys: Arc::new(keys),
            tag_keys: Arc::new(tag_keys),
        })
    }

    /// A key line for a new key with a fresh random secret.
    pub fn new_key_line(id: &str) -> String {
        let key = XChaCha20Poly1305::generate_key(&mut chacha20poly1305::aead::OsRng);
        format!("{id} {}", hex::encode(key))
    }

    pub fn current_id(&self) -> &str {
        self.keys.last().map_or("", |(id, _)| id.as_str())
    }

    /// Seals `clear`, bound to `field` so a sealed name cannot pass as a phone number.
    pub fn seal(&self, field: &str, clear: &str) -> String {
        let (id, cipher) = self.keys.last().expect("PiiKeys holds at least one key");
        let nonce = XChaCha20Poly1305::generate_nonce(&mut chacha20poly1305::aead::OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: clear.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{id}:{}", BASE64.encode(bytes))
    }

    /// Opens a sealed value; a value stored before encryption was turned on is returned as is.
    pub fn open(&self, field: &str, stored: &str) -> Result<String, PiiError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, data) = rest.split_once(':').ok_or(PiiError::Corrupt)?;
        let cipher = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, cipher)| cipher)
            .ok_or_else(|| PiiError::UnknownKey(id.to_owned()))?;
        let bytes = BASE64.decode(data).map_err(|_| PiiError::Corrupt)?;
        if bytes.len() < 24 {
            return Err(PiiError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(24);
        let clear = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Corrupt)?;
        String::from_utf8(clear).map_err(|_| PiiError::Corrupt)
    }

    /// Whether a stored value is clear text or sealed with a key other than the current one.
    pub fn is_stale(&self, stored: &str) -> bool {
        match stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
        {
            Some((id, _)) => id != self.current_id(),
            None => true,
        }
    }

    fn map_reporter(
        &self,
        reporter: &mut Reporter,
        f: impl Fn(&PiiKeys, &str, &str) -> Result<String, PiiError>,
    ) -> Result<(), PiiError> {
        if let Some(name) = &reporter.name {
            reporter.name = Some(f(self, "reporter.name", name)?);
        }
        if let Some(phone) = &reporter.phone {
            reporter.phone = Some(f(self, "reporter.phone", phone)?);
        }
        Ok(())
    }

    fn seal_reporter(&self, reporter: &mut Reporter) {
        let _ = self.map_reporter(reporter, |keys, field, clear| Ok(keys.seal(field, clear)));
    }

    fn open_reporter(&self, reporter: &mut Reporter) -> Result<(), PiiError> {
        self.map_reporter(reporter, |keys, field, stored| keys.open(field, stored))
    }

    /// The case as it is stored: its reporter's contact sealed.
    pub fn seal_case(&self, case: &Case) -> Option<Case> {
        case.reporter.as_ref()?;
        let mut sealed = case.clone();
        if let Some(reporter) = &mut sealed.reporter {
            self.seal_reporter(reporter);
        }
        Some(sealed)
    }

    pub fn open_case(&self, mut case: Case) -> Result<Case, PiiError> {
        if let Some(reporter) = &mut case.reporter {
            self.open_reporter(reporter)?;
        }
        Ok(case)
    }

    /// The event as it is stored: a report's contact and the clear form of masked texts
    /// sealed. `None` when the event holds neither.
    pub fn seal_event(&self, event: &TimelineEvent) -> Option<TimelineEvent> {
        let has_reporter = matches!(&event.command,
            CaseCommand::Report(report) if report.reporter.is_some());
        if !has_reporter && event.clear_text.is_empty() {
            return None;
        }
        let mut sealed = event.clone();
        if let CaseCommand::Report(report) = &mut sealed.command {
            if let Some(reporter) = &mut report.reporter {
                self.seal_reporter(reporter);
            }
        }
        for (field, text) in sealed.clear_text.iter_mut() {
            *text = self.seal(&format!("clear_text.{field}"), text);
        }
        Some(sealed)
    }

    fn stale_reporter(&self, reporter: &Reporter) -> bool {
        [&reporter.name, &reporter.phone]
            .into_iter()
            .flatten()
            .any(|value| self.is_stale(value))
    }

    /// The stored case opened, and sealed again with the current key if an older key (or
    /// none) sealed it.
    pub fn reseal_case(&self, stored: Case) -> Result<(Case, Option<Case>), PiiError> {
        let stale = stored
            .reporter
            .as_ref()
            .is_some_and(|r| self.stale_reporter(r));
        let clear = self.open_case(stored)?;
        let resealed = if stale { self.seal_case(&clear) } else { None };
        Ok((clear, resealed))
    }

    /// The phone's entry in the index of reporters' phones, under the current key: a keyed
    /// hash of its digits (so it finds the same numbers [`PiiKeys::same_phone`] matches),
    /// which tells nothing about the number without the key. `None` without digits.
    pub fn phone_tag(&self, phone: &str) -> Option<String> {
        self.tag_keys
            .last()
            .and_then(|key| Self::tag_with(key, phone))
    }

    /// The phone's index entries under every configured key, the current one first: rows
    /// written before a rotation keep their old entry until they are re-sealed.
    pub fn phone_tags(&self, phone: &str) -> Vec<String> {
        self.tag_keys
            .iter()
            .rev()
            .filter_map(|key| Self::tag_with(key, phone))
            .collect()
    }

    fn tag_with(key: &[u8; 32], phone: &str) -> Option<String> {
        let digits = phone_digits(phone);
        (!digits.is_empty()).then(|| hex::encode(&hmac_sha256(key, digits.as_bytes())[..16]))
    }

    /// Whether a reporter left this phone: compared in the one form of
    /// [`cityops_domain::normalize_phone`], so `+86 138-1234-5678` is `13812345678`.
    pub fn same_phone(a: &str, b: &str) -> bool {
        let (a, b) = (phone_digits(a), phone_digits(b));
        !a.is_empty() && a == b
    }

    /// The stored event sealed again with the current key, if an older key (or none) sealed it.
    pub fn reseal_event(&self, stored: TimelineEvent) -> Result<Option<TimelineEvent>, PiiError> {
        let stale = matches!(&stored.command, CaseCommand::Report(report)
            if report.reporter.as_ref().is_some_and(|r| self.stale_reporter(r)))
            || stored.clear_text.values().any(|text| self.is_stale(text));
        if !stale {
            return Ok(None);
        }
        let clear = self.open_event(stored)?;
        Ok(self.seal_event(&clear))
    }

    pub fn open_event(&self, mut event: TimelineEvent) -> Result<TimelineEvent, PiiError> {
        if let CaseCommand::Report(report) = &mut event.command {
            if let Some(reporter) = &mut report.reporter {
                self.open_reporter(reporter)?;
            }
        }
        for (field, text) in event.clear_text.iter_mut() {
            *text = self.open(&format!("clear_text.{field}"), text)?;
        }
        Ok(event)
    }
}

/// What identifies a phone number: its one normalised form, whatever the spacing or
/// country code it was written with.
fn phone_digits(phone: &str) -> String {
    cityops_domain::phone_key(phone)
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> PiiKeys {
        PiiKeys::parse(text).unwrap()
    }

    #[test]
    fn sealed_values_open_with_any_configured_key_and_only_for_their_field() {
        let k1 = PiiKeys::new_key_line("k1");
        let old = keys(&k1);
        let sealed = old.seal("reporter.phone", "13812345678");
        assert!(sealed.starts_with("pii1:k1:"), "{sealed}");
        assert!(!sealed.contains("13812345678"));
        assert_ne!(
            sealed,
            old.seal("reporter.phone", "13812345678"),
            "fresh nonce each time"
        );
        assert_eq!(old.open("reporter.phone", &sealed).unwrap(), "13812345678");
        assert_eq!(old.open("reporter.name", &sealed), Err(PiiError::Corrupt));

        let rotated = keys(&format!("{k1}\n{}", PiiKeys::new_key_line("k2")));
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(
            rotated.open("reporter.phone", &sealed).unwrap(),
            "13812345678"
        );
        assert!(rotated.is_stale(&sealed));
        assert!(!rotated.is_stale(&rotated.seal("reporter.phone", "1")));

        let other = keys(&PiiKeys::new_key_line("k2"));
        assert_eq!(
            other.open("reporter.phone", &sealed),
            Err(PiiError::UnknownKey("k1".into()))
        );
        let mut altered = sealed.clone();
        altered.replace_range(altered.len() - 3.., "AAA");
        assert_eq!(old.open("reporter.phone", &altered), Err(PiiError::Corrupt));
        // Clear text from before encryption reads as is.
        assert_eq!(
            old.open("reporter.phone", "13812345678").unwrap(),
            "13812345678"
        );
    }

    #[test]
    fn phone_tags_match_digits_under_each_key_and_differ_between_keys() {
        let old = keys(&PiiKeys::new_key_line("k1"));
        let text = format!(
            "{}\n{}",
            PiiKeys::new_key_line("k1"),
            PiiKeys::new_key_line("k2")
        );
        let both = keys(&text);
        let tag = both.phone_tag("138 1234 5678").unwrap();
        assert_eq!(both.phone_tag("13812345678").as_deref(), Some(tag.as_str()));
        assert_ne!(both.phone_tag("13812345679").unwrap(), tag);
        assert_eq!(both.phone_tag("no digits"), None);
        // The current key's entry first, then the older key's, which another key set does not
        // share.
        let tags = both.phone_tags("13812345678");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0], tag);
        assert_ne!(tags[0], tags[1]);
        assert_ne!(old.phone_tag("13812345678").unwrap(), tags[1]);
        assert_eq!(tag.len(), 32);
    }

    #[test]
    fn bad_key_text_is_refused_with_its_line() {
        assert_eq!(PiiKeys::parse("# nothing\n").unwrap_err(), PiiError::NoKey);
        assert!(matches!(
            PiiKeys::parse("k1 abcd").unwrap_err(),
            PiiError::BadKey { line: 1, .. }
        ));
        let line = PiiKeys::new_key_line("k1");
        assert!(matches!(
            PiiKeys::parse(&format!("{line}\n{line}")).unwrap_err(),
            PiiError::BadKey { line: 2, .. }
        ));
        assert!(format!("{:?}", keys(&line)).contains("k1"));
        assert!(!format!("{:?}", keys(&line)).contains(&line[3..]));
    }
}
