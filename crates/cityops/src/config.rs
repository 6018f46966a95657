//! Configuration: defaults < TOML file < `CITYOPS_*` environment < command-line flags.

use anyhow::{Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0 picks a free port).
    pub listen: String,
    /// Where the SQLite database and attachments live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://...`; SQLite under the data directory when unset.
    pub database: Option<String>,
    pub session_hours: i64,
    /// `tracing` filter, e.g. `info` or `cityops_api=debug`.
    pub log: String,
    /// MQTT broker to ingest telemetry from, `mqtt://HOST[:PORT]` or, over TLS,
    /// `mqtts://HOST[:PORT]`; none when unset.
    pub mqtt: Option<String>,
    /// NATS servers with JetStream that carry the live stream's changes between nodes,
    /// comma-separated, e.g. `nats://10.0.0.1:4222,nats://10.0.0.2:4222`; none when unset
    /// (each node then reads the outbox from the database).
    pub nats: Option<String>,
    /// The JetStream stream's name.
    pub nats_stream: String,
    /// Copies of the stream in the NATS cluster: 1, or 3 or 5 to survive losing servers.
    pub nats_replicas: usize,
    /// For `mqtts://`: the certificate authority (PEM file) that signed the broker's
    /// certificate, when the system's trust store does not hold it.
    pub mqtt_ca_file: Option<PathBuf>,
    /// The MQTT client id: keep it stable, the broker holds the session (and readings sent
    /// while CityOps is down) under it.
    pub mqtt_client_id: String,
    /// Topics are `{prefix}/devices/{id}/telemetry` and `{prefix}/gateways/{id}/telemetry`.
    pub mqtt_topic_prefix: String,
    /// Alarms at or above this warning level open a case: blue, yellow, orange or red.
    pub alarm_case_level: String,
    /// Days raw readings are kept (rollups stay longer).
    pub readings_retention_days: i64,
    /// Where the key files live when their own paths are not set: never inside the data
    /// directory, so that a backup of the data does not carry the keys that unseal it.
    /// Unset: the data directory's path with `.keys` appended (`cityops-data.keys`).
    pub key_dir: Option<PathBuf>,
    /// The Ed25519 key that signs audit checkpoints, 64 hex digits (a secret: set it from
    /// the environment, `CITYOPS_AUDIT_KEY`). When unset, the key file is used.
    #[serde(serialize_with = "serialize_redacted")]
    pub audit_key: Option<SecretString>,
    /// The audit key file; `audit-signing.key` in the key directory when unset (created on
    /// first start).
    pub audit_key_file: Option<PathBuf>,
    /// Seconds between signed audit checkpoints.
    pub audit_checkpoint_secs: u64,
    /// Requests a minute one address may make to read the citizen channel and, without
    /// signing in, the public standards (429 beyond).
    pub public_requests_per_minute: u32,
    /// Sign-in attempts a minute from one address (a budget of its own).
    pub sign_in_requests_per_minute: u32,
    /// Citizens' reports and photos a minute from one address (a budget of its own).
    pub public_reports_per_minute: u32,
    /// Leading zero bits of the proof of work a citizen's report carries (0 to 32; each
    /// bit doubles the work, 16 takes a browser a second or two).
    pub report_challenge_bits: u8,
    /// Browser origins allowed to call the API cross-origin, e.g. `https://portal.example`;
    /// none by default.
    pub cors_origins: Vec<String>,
    /// Keys that seal citizens' personal data, `<id> <64 hex>` separated by commas or lines,
    /// the last one current (a secret: set it from the environment, `CITYOPS_PII_KEYS`).
    /// When unset, the key file is used. Printed and serialised as `[REDACTED]`.
    #[serde(serialize_with = "serialize_redacted")]
    pub pii_keys: Option<SecretString>,
    /// The personal-data key file; `pii.keys` in the key directory when unset (created
    /// with one random key on first start).
    pub pii_key_file: Option<PathBuf>,
    /// Mark the web UI's session cookies `Secure` (sent over HTTPS only). Unset: on, except
    /// when listening on a loopback address (the demo, a proxy on the same host).
    pub secure_cookies: Option<bool>,
    /// Days a finished case keeps its reporter's name and phone; then they are removed.
    pub personal_data_retention_days: i64,
    /// Where clients reach CityOps, e.g. `https://ops.example.gov.cn` (behind a proxy, the
    /// proxy's address): absolute links in answers start with it. Unset: `http://` and the
    /// address CityOps listens on.
    pub public_base_url: Option<String>,
    /// This node's name among the nodes sharing a database: its outbox relay records how far
    /// it has read under this name, so each node needs its own.
    pub node_name: String,
    /// Hours an outbox row (a committed case change) is kept after every node has seen it
    /// (0: pruned as soon as every node has).
    pub outbox_retention_hours: i64,
    /// Seconds between prunings of the outbox.
    pub outbox_prune_secs: u64,
    /// Seconds a node's hold on a background duty (the overdue watch, retention, audit
    /// checkpoints, pruning) lasts unless renewed; renewed every third of it. When a node dies
    /// another takes its duties over within this long.
    pub lease_secs: u64,
    /// The working hours of a working day, local time (Asia/Shanghai), in order, e.g.
    /// `["08:30-12:00", "13:30-17:30"]`: time limits in working time count only these.
    pub working_hours: Vec<String>,
    /// Days an `Idempotency-Key` of a case report is remembered (1 to 365); after that the
    /// same key opens a new case.
    pub idempotency_key_days: i64,
    /// Failed call-back attempts (no answer, wrong number) after which a hotline case
    /// closes as unreachable (1 to 10).
    pub callback_attempts: u32,
    /// Seconds between two positions an inspector's phone records on patrol (5 to 600).
    pub patrol_interval_secs: u32,
    /// Days an ended patrol's track is kept (at least 1): an inspector's whereabouts are
    /// personal data, kept no longer than the shift lead's review and the evaluation need.
    pub patrol_retention_days: i64,
    /// The city's terms of the stages before filing and of closing: `accept`, `verify`,
    /// `file` and `close`, each `{ amount = N, unit = "minutes" | "hours" | "working_hours" |
    /// "working_days" }`. A case copies them when it is reported.
    pub intake_terms: cityops_domain::IntakeTerms,
    /// The share of a stage's term used at which a case turns yellow (临期), above 0 and at
    /// most 1.
    pub deadline_warning_share: f64,
    /// Seconds between two looks of the overdue watch (0: this process never runs it). One
    /// process among all sharing the database runs it at a time, by a lease in the database.
    pub overdue_watch_secs: u64,
    /// The escalation policy for overdue stages, in order: each step `{ after = { amount = N,
    /// unit = ... }, to = "unit_head" | "next_center" }`, `after` counted from the deadline.
    pub overdue_escalation: Vec<cityops_domain::watch::EscalationStep>,
    /// The reply term of a supervision notice (督办) whose leader sets none.
    pub supervision_term: cityops_domain::Term,
    /// The evaluation's composites (per subject kind, terms of `indicator`, `weight` and
    /// `complement`; each composite's weights sum to 1), count and share bands, grade
    /// cut-offs and longest period (`max_days`).
    pub evaluation: cityops_domain::evaluation::EvaluationConfig,
    /// Which layer gave each setting its value, by key (`GET /settings` shows it).
    #[serde(skip)]
    pub sources: std::collections::BTreeMap<String, cityops_api::SettingSource>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("cityops-data"),
            database: None,
            session_hours: 12,
            log: "info".into(),
            mqtt: None,
            nats: None,
            nats_stream: "CITYOPS_CHANGES".into(),
            nats_replicas: 1,
            mqtt_ca_file: None,
            mqtt_client_id: "cityops".into(),
            mqtt_topic_prefix: "cityops/v1".into(),
            alarm_case_level: "orange".into(),
            readings_retention_days: 7,
            key_dir: None,
            audit_key: None,
            audit_key_file: None,
            audit_checkpoint_secs: 60,
            public_requests_per_minute: 120,
            sign_in_requests_per_minute: 30,
            public_reports_per_minute: 10,
            report_challenge_bits: 16,
            cors_origins: Vec::new(),
            pii_keys: None,
            pii_key_file: None,
            secure_cookies: None,
            personal_data_retention_days: 180,
            public_base_url: None,
            node_name: "cityops".into(),
            outbox_retention_hours: 72,
            outbox_prune_secs: 300,
            lease_secs: 15,
            working_hours: vec!["08:30-12:00".into(), "13:30-17:30".into()],
            idempotency_key_days: 7,
            callback_attempts: 3,
            patrol_interval_secs: 30,
            patrol_retention_days: 90,
            intake_terms: cityops_domain::IntakeTerms::default(),
            deadline_warning_share: 0.75,
            overdue_watch_secs: 30,
            overdue_escalation: cityops_domain::watch::default_escalation(),
            supervision_term: cityops_domain::Term {
                amount: 1,
                unit: cityops_domain::TermUnit::WorkingDays,
            },
            evaluation: cityops_domain::evaluation::EvaluationConfig::default(),
            sources: Default::default(),
        }
    }
}

/// How a secret reads wherever the configuration is printed or shown.
const REDACTED: &str = "[REDACTED]";

/// The layer a value came from, by its provider: the TOML file, the `CITYOPS_`
/// environment, the command line's `Overrides`, or the built-in defaults.
fn source_of(metadata: &figment::Metadata) -> cityops_api::SettingSource {
    use cityops_api::SettingSource;
    if matches!(metadata.source, Some(figment::Source::File(_))) {
        SettingSource::File
    } else if metadata.name.contains("environment") {
        SettingSource::Environment
    } else if metadata.name.contains("Overrides") {
        SettingSource::CommandLine
    } else {
        SettingSource::Default
    }
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(
                file.exists(),
                "config file {} does not exist",
                file.display()
            );
            figment = figment.merge(Toml::file(file));
        }
        let figment = figment
            .merge(Env::prefixed("CITYOPS_").only(&[
                "listen",
                "data_dir",
                "database",
                "session_hours",
                "log",
                "mqtt",
                "nats",
                "nats_stream",
                "nats_replicas",
                "mqtt_ca_file",
                "mqtt_client_id",
                "mqtt_topic_prefix",
                "alarm_case_level",
                "readings_retention_days",
                "key_dir",
                "audit_key",
                "audit_key_file",
                "audit_checkpoint_secs",
                "public_requests_per_minute",
                "sign_in_requests_per_minute",
                "public_reports_per_minute",
                "report_challenge_bits",
                "cors_origins",
                "pii_keys",
                "pii_key_file",
                "secure_cookies",
                "personal_data_retention_days",
                "public_base_url",
                "node_name",
                "outbox_retention_hours",
                "outbox_prune_secs",
                "lease_secs",
                "working_hours",
                "idempotency_key_days",
                "callback_attempts",
                "patrol_interval_secs",
                "patrol_retention_days",
                "intake_terms",
                "deadline_warning_share",
                "overdue_watch_secs",
                "overdue_escalation",
                "supervision_term",
                "evaluation",
            ]))
            .merge(Serialized::defaults(overrides));
        let mut config: Config = figment
            .extract()
            .context("the configuration is not valid")?;
        if let Ok(figment::value::Value::Dict(_, keys)) = figment.find_value("") {
            for key in keys.keys() {
                if let Some(metadata) = figment.find_metadata(key) {
                    config.sources.insert(key.clone(), source_of(metadata));
                }
            }
        }
        Ok(config)
    }

    /// The configuration in force as `GET /settings` shows it: every key, its value with
    /// secrets redacted (the keys themselves, and a password inside a URL), and its source.
    pub fn in_force(&self) -> Vec<cityops_api::Setting> {
        let (Ok(serde_json::Value::Object(values)), Ok(serde_json::Value::Object(plain))) = (
            serde_json::to_value(self.redacted()),
            serde_json::to_value(self),
        ) else {
            return Vec::new();
        };
        values
            .into_iter()
            .map(|(key, value)| {
                let secret = value.as_str() == Some(REDACTED) || plain.get(&key) != Some(&value);
                let source = self
                    .sources
                    .get(&key)
                    .copied()
                    .unwrap_or(cityops_api::SettingSource::Default);
                cityops_api::Setting {
                    key,
                    value,
                    source,
                    secret,
                }
            })
            .collect()
    }

    /// The pipeline's settings from this configuration.
    pub fn telemetry(&self) -> Result<cityops_telemetry::TelemetryConfig> {
        let case_level = cityops_domain::telemetry::WarningLevel::parse(&self.alarm_case_level)
            .with_context(|| {
                format!(
                    "alarm_case_level '{}' is not blue, yellow, orange or red",
                    self.alarm_case_level
                )
            })?;
        anyhow::ensure!(
            (1..=3650).contains(&self.readings_retention_days),
            "readings_retention_days is 1 to 3650"
        );
        Ok(cityops_telemetry::TelemetryConfig {
            case_level,
            raw_retention: chrono::Duration::days(self.readings_retention_days),
            ..cityops_telemetry::TelemetryConfig::default()
        })
    }

    /// NATS JetStream's settings from this configuration, when `nats` is set.
    pub fn jetstream(&self) -> Result<Option<cityops_api::JetStreamConfig>> {
        let Some(urls) = &self.nats else {
            return Ok(None);
        };
        let servers: Vec<String> = urls
            .split(',')
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
            .collect();
        anyhow::ensure!(!servers.is_empty(), "nats names no server");
        for server in &servers {
            cityops_api::nats_server(server).map_err(|error| {
                anyhow::anyhow!("nats: '{}' is not a NATS URL: {error}", redact_url(server))
            })?;
        }
        anyhow::ensure!(
            matches!(self.nats_replicas, 1 | 3 | 5),
            "nats_replicas is 1, 3 or 5"
        );
        anyhow::ensure!(
            !self.nats_stream.is_empty()
                && self
                    .nats_stream
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "nats_stream is letters, digits, '_' and '-'"
        );
        Ok(Some(cityops_api::JetStreamConfig {
            servers,
            stream: self.nats_stream.clone(),
            replicas: self.nats_replicas,
            // As long as the outbox keeps rows, and a day at least.
            max_age: std::time::Duration::from_secs(
                u64::try_from(self.outbox_retention_hours.max(24)).unwrap_or(24) * 3600,
            ),
        }))
    }

    /// The outbox relay's settings from this configuration.
    pub fn outbox(&self) -> Result<cityops_api::outbox::OutboxConfig> {
        anyhow::ensure!(
            (1..=64).contains(&self.node_name.chars().count()),
            "node_name has 1 to 64 characters"
        );
        anyhow::ensure!(
            (0..=24 * 3650).contains(&self.outbox_retention_hours),
            "outbox_retention_hours is 0 to 87600"
        );
        anyhow::ensure!(
            self.outbox_prune_secs >= 1,
            "outbox_prune_secs is at least 1"
        );
        Ok(cityops_api::outbox::OutboxConfig {
            node_name: self.node_name.clone(),
            retention: chrono::Duration::hours(self.outbox_retention_hours),
            prune_every: std::time::Duration::from_secs(self.outbox_prune_secs),
            ..cityops_api::outbox::OutboxConfig::default()
        })
    }

    /// The directory of the key files whose paths are not set.
    pub fn key_dir(&self) -> PathBuf {
        self.key_dir.clone().unwrap_or_else(|| {
            let mut dir = self.data_dir.clone().into_os_string();
            dir.push(".keys");
            PathBuf::from(dir)
        })
    }

    pub fn pii_key_path(&self) -> PathBuf {
        self.pii_key_file
            .clone()
            .unwrap_or_else(|| self.key_dir().join(PII_KEY_FILE))
    }

    pub fn audit_key_path(&self) -> PathBuf {
        self.audit_key_file
            .clone()
            .unwrap_or_else(|| self.key_dir().join(AUDIT_KEY_FILE))
    }

    /// Refuses key files inside the data directory, and moves the key files that earlier
    /// versions kept there by default to the key directory, so that from now on a backup of
    /// the data directory does not carry them.
    pub fn settle_keys(&self) -> Result<()> {
        let moves = [
            (self.pii_keys.is_none(), PII_KEY_FILE, self.pii_key_path()),
            (
                self.audit_key.is_none(),
                AUDIT_KEY_FILE,
                self.audit_key_path(),
            ),
        ];
        for (from_file, name, path) in moves {
            if !from_file {
                continue;
            }
            anyhow::ensure!(
                !inside(&path, &self.data_dir),
                "the key file {} is inside the data directory {}: a backup of the data would carry the key that unseals it; set key_dir (or the key's own path) outside it",
                path.display(),
                self.data_dir.display()
            );
            let legacy = self.data_dir.join(name);
            if legacy.exists() && !path.exists() {
                move_key(&legacy, &path)?;
                tracing::warn!(
                    from = %legacy.display(),
                    to = %path.display(),
                    "Moved a key file out of the data directory; older backups of the data directory still hold it."
                );
            }
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("cityops.db").display()))
    }

    /// The configuration as it may be printed: passwords in the database's and the broker's
    /// URLs redacted (the keys are secrets by their type, and never print).
    pub fn redacted(&self) -> Config {
        let mut copy = self.clone();
        if let Some(url) = &copy.database {
            copy.database = Some(redact_url(url));
        }
        if let Some(url) = &copy.mqtt {
            copy.mqtt = Some(redact_url(url));
        }
        if let Some(urls) = &copy.nats {
            copy.nats = Some(
                urls.split(',')
                    .map(redact_url)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        copy
    }
}

const PII_KEY_FILE: &str = "pii.keys";
const AUDIT_KEY_FILE: &str = "audit-signing.key";

/// Whether `path` is `dir` or below it, judged on the real paths where they exist (a
/// symbolic link or `..` does not hide a key in the data directory).
fn inside(path: &Path, dir: &Path) -> bool {
    let real = |p: &Path| -> PathBuf {
        // The file may not exist yet: resolve its nearest existing ancestor.
        let mut rest = Vec::new();
        let mut head = p.to_path_buf();
        loop {
            if let Ok(real) = head.canonicalize() {
                return rest.iter().rev().fold(real, |acc, part| acc.join(part));
            }
            match (head.file_name().map(ToOwned::to_owned), head.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    head = if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent.to_path_buf()
                    };
                }
                _ => return p.to_path_buf(),
            }
        }
    };
    real(path).starts_with(real(dir))
}

/// Moves a key file to its new place with the owner-only mode, durably: the copy is synced
/// before the original goes.
fn move_key(from: &Path, to: &Path) -> Result<()> {
    let text = crate::secrets::read_key_file(from)?
        .with_context(|| format!("the key file {} vanished", from.display()))?;
    crate::write_private(to, secrecy::ExposeSecret::expose_secret(&text))
        .with_context(|| format!("cannot write the key file {}", to.display()))?;
    std::fs::remove_file(from)
        .with_context(|| format!("cannot remove the old key file {}", from.display()))
}

/// A secret serialises as whether it is set, never as its value.
fn serialize_redacted<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    secret.as_ref().map(|_| REDACTED).serialize(serializer)
}

fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cityops.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nsession_hours = 8\n").unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.session_hours, 8);
        let config = Config::load(
            Some(&file),
            Overrides {
                listen: Some("127.0.0.1:1".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:1");
    }

    #[test]
    fn the_settings_in_force_name_their_layer_and_hide_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cityops.toml");
        std::fs::write(
            &file,
            format!("session_hours = 8\npii_keys = \"k1 {PII_KEY}\"\n"),
        )
        .unwrap();
        let config = Config::load(
            Some(&file),
            Overrides {
                database: Some("postgres://ops:hunter2@db.example/cityops".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        let settings = config.in_force();
        let setting = |key: &str| settings.iter().find(|s| s.key == key).unwrap();
        use cityops_api::SettingSource;
        assert_eq!(setting("session_hours").source, SettingSource::File);
        assert_eq!(setting("session_hours").value, 8);
        assert!(!setting("session_hours").secret);
        assert_eq!(setting("listen").source, SettingSource::Default);
        assert_eq!(setting("database").source, SettingSource::CommandLine);
        assert!(setting("database").secret);
        assert!(setting("pii_keys").secret);
        // Every setting is listed, none of them with a secret in it.
        assert_eq!(
            settings.len(),
            serde_json::to_value(&config)
                .unwrap()
                .as_object()
                .unwrap()
                .len()
        );
        let shown = serde_json::to_string(&settings).unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains(PII_KEY),
            "{shown}"
        );
        assert!(
            shown.contains("postgres://ops:***@db.example/cityops"),
            "{shown}"
        );
    }

    #[test]
    fn working_hours_come_from_the_file() {
        assert_eq!(
            cityops_domain::WorkingHours::parse(&Config::default().working_hours).unwrap(),
            cityops_domain::WorkingHours::default()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cityops.toml");
        std::fs::write(
            &file,
            "working_hours = [\"08:00-12:00\", \"14:00-18:00\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        let hours = cityops_domain::WorkingHours::parse(&config.working_hours).unwrap();
        assert_eq!(hours.minutes_per_day(), 480);
    }

    /// The key `k1` as the environment or a TOML file would give it.
    const PII_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn the_personal_data_keys_never_print_nor_serialise() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cityops.toml");
        std::fs::write(&file, format!("pii_keys = \"k1 {PII_KEY}\"\n")).unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        // Loaded for use...
        let keys = crate::pii_keys(&config).unwrap();
        assert_eq!(keys.current_id(), "k1");
        // ...but in no printed or serialised form.
        for printed in [
            format!("{config:?}"),
            format!("{:?}", config.redacted()),
            format!("{config:#?}"),
            format!("{keys:?}"),
            toml::to_string(&config).unwrap(),
            serde_json::to_string(&config.redacted()).unwrap(),
        ] {
            assert!(!printed.contains(PII_KEY), "{printed}");
            assert!(!printed.contains("00112233"), "{printed}");
        }
        assert!(format!("{config:?}").contains("REDACTED"));
        assert!(toml::to_string(&config)
            .unwrap()
            .contains("pii_keys = \"[REDACTED]\""));
    }

    #[test]
    fn the_key_files_contents_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        // Created on first use, then read back: what was read prints as nothing of it.
        crate::pii_keys(&config).unwrap();
        let pii = crate::secrets::read_key_file(&config.pii_key_path()).unwrap();
        let audit_key = crate::audit::load_or_create_key(&config.audit_key_path()).unwrap();
        let audit = crate::secrets::read_key_file(&config.audit_key_path()).unwrap();
        let pii_hex = std::fs::read_to_string(config.pii_key_path()).unwrap();
        let pii_hex = pii_hex.lines().last().unwrap().split(' ').nth(1).unwrap();
        let audit_hex = hex::encode(audit_key.to_bytes());
        for printed in [
            format!("{pii:?}"),
            format!("{audit:?}"),
            format!("{audit_key:?}"),
            format!("{config:?}"),
        ] {
            assert!(!printed.contains(pii_hex), "{printed}");
            assert!(!printed.contains(&audit_hex), "{printed}");
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://ops:secret@db/cityops"),
            "postgres://ops:***@db/cityops"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
