//! The tamper-evident audit log: who did what to which object, when, from where, with what
//! result; each entry chained to the one before by SHA-256, the chain's head signed now and
//! then with Ed25519 (a checkpoint) so that even rewriting the whole tail is caught.
//!
//! Pure: the store persists entries and checkpoints, the binary holds the signing key; this
//! module only defines the chain, extends it and checks it.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first entry links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts: a signed-in user, a citizen, a machine, or the system itself, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// Username, `citizen`, `system` or `cli:<os user>`.
    pub actor: String,
    pub role: String,
    /// The jurisdiction the actor acts within (an area code), empty if none.
    pub scope: String,
    /// The client address, or `internal` / `cli`.
    pub origin: String,
}

impl AuditActor {
    /// CityOps itself: alarms opening cases, retention, seeding.
    pub fn system() -> AuditActor {
        AuditActor {
            actor: "system".into(),
            role: "system".into(),
            scope: String::new(),
            origin: "internal".into(),
        }
    }
}

/// What happened, before it takes its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub actor: AuditActor,
    /// A dotted verb, e.g. `case.dispatch`, `user.disable`, `session.sign_in`, `pii.read`.
    pub action: String,
    /// The object acted on, e.g. `case:0193...`, `user:li.ming`.
    pub object: String,
    /// `ok`, or why it did not succeed (`wrong password`, `locked`...).
    pub result: String,
    /// Anything else worth keeping (a case number, a count, a purpose), free text.
    pub detail: String,
}

impl AuditRecord {
    /// What `actor` did to `object` at `at`; the caller reads the clock.
    pub fn new(
        actor: &AuditActor,
        action: &str,
        object: impl Into<String>,
        at: DateTime<Utc>,
    ) -> AuditRecord {
        AuditRecord {
            at,
            actor: actor.clone(),
            action: action.into(),
            object: object.into(),
            result: "ok".into(),
            detail: String::new(),
        }
    }

    pub fn result(mut self, result: impl Into<String>) -> AuditRecord {
        self.result = result.into();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> AuditRecord {
        self.detail = detail.into();
        self
    }
}

/// A record in its place: number `seq` in the chain, linked to the hash of entry `seq - 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash of a record linked to `prev_hash`. The sequence number is deliberately left
    /// out: order is bound by the links, so an entry moved elsewhere keeps a valid hash of its
    /// own and is reported as moved, not as altered.
    pub fn hash_of(record: &AuditRecord, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        // Length-prefixed fields: no two different records hash the same bytes.
        for field in [
            prev_hash,
            &record.at.timestamp_micros().to_string(),
            &record.actor.actor,
            &record.actor.role,
            &record.actor.scope,
            &record.actor.origin,
            &record.action,
            &record.object,
            &record.result,
            &record.detail,
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    fn content_hash(&self) -> String {
        AuditEntry::hash_of(&self.record, &self.prev_hash)
    }
}

/// The end of the chain: the last entry's number and hash (0 and [`GENESIS`] when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> ChainHead {
        ChainHead {
            seq: 0,
            hash: GENESIS.into(),
        }
    }

    /// Appends a record: the entry to store, and the head moves on to it.
    pub fn append(&mut self, mut record: AuditRecord) -> AuditEntry {
        // Timestamps are kept to the microsecond, as both stores hold them.
        record.at =
            DateTime::from_timestamp_micros(record.at.timestamp_micros()).unwrap_or(record.at);
        let hash = AuditEntry::hash_of(&record, &self.hash);
        let entry = AuditEntry {
            seq: self.seq + 1,
            record,
            prev_hash: std::mem::replace(&mut self.hash, hash.clone()),
            hash,
        };
        self.seq = entry.seq;
        entry
    }
}

/// A signed statement that the chain's entry `seq` had hash `hash` at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature of [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    pub fn message(seq: i64, hash: &str, at: DateTime<Utc>) -> Vec<u8> {
        format!(
            "cityops-audit-checkpoint\n{seq}\n{hash}\n{}",
            at.timestamp_micros()
        )
        .into_bytes()
    }

    pub fn sign(head: &ChainHead, at: DateTime<Utc>, key: &SigningKey) -> Checkpoint {
        let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
        let signature = key.sign(&Checkpoint::message(head.seq, &head.hash, at));
        Checkpoint {
            seq: head.seq,
            hash: head.hash.clone(),
            at,
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether `key` signed exactly this checkpoint.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        hex::encode(key.to_bytes()) == self.public_key
            && key
                .verify(
                    &Checkpoint::message(self.seq, &self.hash, self.at),
                    &Signature::from_bytes(&bytes),
                )
                .is_ok()
    }
}

/// One way the stored log departs from an intact chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tamper {
    /// The entry's content no longer matches its hash.
    Altered { seq: i64 },
    /// Numbers are missing from the sequence: entries `from..=to` were deleted.
    Missing { from: i64, to: i64 },
    /// The entry stored at `seq` was written right after the one now stored at `follows`.
    Moved { seq: i64, follows: i64 },
    /// The entry does not link to the one before it, and to no other stored entry.
    Unlinked { seq: i64 },
    /// The chain ends before the recorded head or a signed checkpoint: the tail was cut.
    Truncated { last: i64, expected: i64 },
    /// A checkpoint's signature is not valid for the trusted key.
    BadSignature { seq: i64 },
    /// A validly signed checkpoint names a hash the stored entry does not have.
    CheckpointMismatch { seq: i64 },
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tamper::Altered { seq } => write!(f, "entry {seq} was altered: its content does not match its hash"),
            Tamper::Missing { from, to } if from == to => write!(f, "entry {from} is missing (deleted)"),
            Tamper::Missing { from, to } => write!(f, "entries {from} to {to} are missing (deleted)"),
            Tamper::Moved { seq, follows } => write!(f, "entry {seq} is out of order: it was written after entry {follows}"),
            Tamper::Unlinked { seq } => write!(f, "entry {seq} does not link to entry {}: the chain was rewritten here", seq - 1),
            Tamper::Truncated { last, expected } => write!(f, "the log ends at entry {last} but reached entry {expected}: entries after {last} were deleted"),
            Tamper::BadSignature { seq } => write!(f, "the checkpoint at entry {seq} is not signed by the trusted key"),
            Tamper::CheckpointMismatch { seq } => write!(f, "entry {seq} differs from its signed checkpoint: the chain was rewritten up to here"),
        }
    }
}

/// Checks a stored log entry by entry, in stored order, without holding the entries: only
/// each entry's hash (to name where a moved entry belongs) and the open findings.
#[derive(Debug)]
pub struct ChainCheck {
    expected_seq: i64,
    prev_hash: String,
    seq_of_hash: std::collections::HashMap<String, i64>,
    /// Entries whose link is broken, resolved to moved or unlinked at the end.
    broken_links: Vec<(i64, String)>,
    findings: Vec<Tamper>,
    /// Hashes of the entries checkpoints name, as stored.
    stored_hashes: std::collections::HashMap<i64, String>,
    wanted: std::collections::HashSet<i64>,
}

impl ChainCheck {
    /// `checkpoint_seqs`: the entries whose stored hash must be kept for the checkpoints.
    pub fn new(checkpoint_seqs: impl IntoIterator<Item = i64>) -> ChainCheck {
        ChainCheck {
            expected_seq: 1,
            prev_hash: GENESIS.into(),
            seq_of_hash: Default::default(),
            broken_links: Vec::new(),
            findings: Vec::new(),
            stored_hashes: Default::default(),
            wanted: checkpoint_seqs.into_iter().collect(),
        }
    }

    pub fn push(&mut self, entry: &AuditEntry) {
        if entry.seq > self.expected_seq {
            self.findings.push(Tamper::Missing {
                from: self.expected_seq,
                to: entry.seq - 1,
            });
        }
        if entry.content_hash() != entry.hash {
            self.findings.push(Tamper::Altered { seq: entry.seq });
        } else if entry.prev_hash != self.prev_hash && entry.seq == self.expected_seq {
            // Where it belongs is known only once every hash is seen.
            self.findings.push(Tamper::Unlinked { seq: entry.seq });
            self.broken_links.push((entry.seq, entry.prev_hash.clone()));
        }
        if self.wanted.contains(&entry.seq) {
            self.stored_hashes.insert(entry.seq, entry.hash.clone());
        }
        self.seq_of_hash.insert(entry.hash.clone(), entry.seq);
        self.expected_seq = entry.seq + 1;
        self.prev_hash = entry.hash.clone();
    }

    /// Checks the end of the chain against the recorded head and the checkpoints signed by
    /// `trusted`, and returns every finding in order; empty means the log is intact.
    pub fn finish(
        mut self,
        head: &ChainHead,
        checkpoints: &[Checkpoint],
        trusted: Option<&VerifyingKey>,
    ) -> Vec<Tamper> {
        for (seq, prev_hash) in &self.broken_links {
            if let Some(&follows) = self.seq_of_hash.get(prev_hash).filter(|&&s| s != *seq) {
                if let Some(finding) = self
                    .findings
                    .iter_mut()
                    .find(|f| **f == Tamper::Unlinked { seq: *seq })
                {
                    *finding = Tamper::Moved { seq: *seq, follows };
                }
            }
        }
        let last = self.expected_seq - 1;
        let mut reached = head.seq;
        for checkpoint in checkpoints {
            if let Some(key) = trusted {
                if !checkpoint.signed_by(key) {
                    self.findings.push(Tamper::BadSignature {
                        seq: checkpoint.seq,
                    });
                    continue;
                }
            }
            reached = reached.max(checkpoint.seq);
            if let Some(hash) = self.stored_hashes.get(&checkpoint.seq) {
                if *hash != checkpoint.hash {
                    self.findings.push(Tamper::CheckpointMismatch {
                        seq: checkpoint.seq,
                    });
                }
            }
        }
        if last < reached {
            self.findings.push(Tamper::Truncated {
                last,
                expected: reached,
            });
        } else if last == head.seq && head.seq > 0 && self.prev_hash != head.hash {
            self.findings.push(Tamper::Unlinked { seq: head.seq });
        }
        self.findings
    }
}

/// Checks a whole log held in memory; see [`ChainCheck`].
pub fn verify(
    entries: &[AuditEntry],
    head: &ChainHead,
    checkpoints: &[Checkpoint],
    trusted: Option<&VerifyingKey>,
) -> Vec<Tamper> {
    let mut verifier = ChainCheck::new(checkpoints.iter().map(|c| c.seq));
    for entry in entries {
        verifier.push(entry);
    }
    verifier.finish(head, checkpoints, trusted)
}

/// A signing key from its 32 secret bytes, hex (the key file's content).
pub fn signing_key_from_hex(text: &str) -> Result<SigningKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("an Ed25519 secret key has 32 bytes, not {}", bytes.len()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A public key from its 32 bytes, hex (as a checkpoint carries it).
pub fn verifying_key_from_hex(text: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("an Ed25519 public key has 32 bytes, not {}", bytes.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> (Vec<AuditEntry>, ChainHead) {
        let mut head = ChainHead::genesis();
        let actor = AuditActor::system();
        let entries = (0..n)
            .map(|i| {
                head.append(AuditRecord::new(
                    &actor,
                    "case.report",
                    format!("case:{i}"),
                    signed_at(),
                ))
            })
            .collect();
        (entries, head)
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn signed_at() -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (entries, head) = chain(10);
        let checkpoint = Checkpoint::sign(&head, signed_at(), &key());
        let trusted = key().verifying_key();
        assert_eq!(
            verify(&entries, &head, &[checkpoint], Some(&trusted)),
            vec![]
        );
        assert_eq!(verify(&[], &ChainHead::genesis(), &[], None), vec![]);
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let (entries, head) = chain(10);
        let trusted = key().verifying_key();

        let mut altered = entries.clone();
        altered[3].record.result = "denied".into();
        assert_eq!(
            verify(&altered, &head, &[], None),
            vec![Tamper::Altered { seq: 4 }]
        );

        let mut deleted = entries.clone();
        deleted.remove(4);
        assert_eq!(
            verify(&deleted, &head, &[], None),
            vec![Tamper::Missing { from: 5, to: 5 }]
        );

        let mut moved = entries.clone();
        moved.swap(5, 6);
        (moved[5].seq, moved[6].seq) = (6, 7);
        let findings = verify(&moved, &head, &[], None);
        assert!(
            findings.contains(&Tamper::Moved { seq: 6, follows: 7 }),
            "{findings:?}"
        );

        let truncated = entries[..7].to_vec();
        let checkpoint = Checkpoint::sign(&head, signed_at(), &key());
        assert_eq!(
            verify(
                &truncated,
                &ChainHead {
                    seq: 7,
                    hash: entries[6].hash.clone()
                },
                std::slice::from_ref(&checkpoint),
                Some(&trusted)
            ),
            vec![Tamper::Truncated {
                last: 7,
                expected: 10
            }]
        );

        // Rewriting an entry and re-hashing everything after it leaves a valid-looking
        // chain; only the signed checkpoint catches it.
        let mut rewritten = entries.clone();
        rewritten[2].record.actor.actor = "someone else".into();
        let mut relinked = ChainHead {
            seq: 2,
            hash: rewritten[1].hash.clone(),
        };
        let rewritten: Vec<AuditEntry> = rewritten
            .into_iter()
            .enumerate()
            .map(|(i, e)| if i < 2 { e } else { relinked.append(e.record) })
            .collect();
        assert_eq!(verify(&rewritten, &relinked, &[], None), vec![]);
        assert_eq!(
            verify(
                &rewritten,
                &relinked,
                std::slice::from_ref(&checkpoint),
                Some(&trusted)
            ),
            vec![Tamper::CheckpointMismatch { seq: 10 }]
        );

        let mut forged = checkpoint;
        forged.hash = relinked.hash.clone();
        assert_eq!(
            verify(&rewritten, &relinked, &[forged], Some(&trusted)),
            vec![Tamper::BadSignature { seq: 10 }]
        );
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let secret = hex::encode(key().to_bytes());
        assert_eq!(
            signing_key_from_hex(&secret).unwrap().to_bytes(),
            key().to_bytes()
        );
        let public = hex::encode(key().verifying_key().to_bytes());
        assert_eq!(
            verifying_key_from_hex(&public).unwrap(),
            key().verifying_key()
        );
        assert!(signing_key_from_hex("abcd").is_err());
    }
}
