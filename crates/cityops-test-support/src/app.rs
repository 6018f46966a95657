//! A real CityOps server on a random port, on SQLite or PostgreSQL, with a signed-in user
//! for every role (the cast), and what the tests expect each of them to see.

use crate::scratch::{test_url, ScratchDatabase};
use cityops::config::Config;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: HashMap<&'static str, String>,
    pub store: std::sync::Arc<dyn cityops_store::Store>,
    pub data_dir: PathBuf,
    /// Where the server's key files are: beside the data directory, never inside it.
    pub key_dir: PathBuf,
    /// The database the server uses (`sqlite://...` or a scratch PostgreSQL database).
    pub database_url: String,
    _dir: tempfile::TempDir,
    scratch: Option<ScratchDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// (name, role, unit, scope): the cast every test can act as.
pub const USERS: [(&str, &str, Option<&str>, &str); 15] = [
    ("inspector", "inspector", None, "310101"),
    ("operator", "operator", Some("C-310000"), "310000"),
    ("lead", "shift_lead", Some("C-310000"), "310000"),
    ("dispatcher", "dispatcher", Some("C-310000"), "310000"),
    ("water", "unit_handler", Some("310101-ZLS"), "310101"),
    ("power", "unit_handler", Some("310101-GD"), "310101"),
    ("leader", "center_leader", Some("C-310000"), "310000"),
    ("evaluator", "evaluator", Some("C-310000"), "310000"),
    ("admin", "admin", None, "310000"),
    ("auditor", "auditor", None, "310000"),
    ("steward", "data_steward", None, "310000"),
    ("xuhui_operator", "operator", Some("C-310104"), "310104"),
    ("huangpu_lead", "shift_lead", Some("C-310101"), "310101"),
    (
        "street_dispatcher",
        "dispatcher",
        Some("C-310101002"),
        "310101002",
    ),
    (
        "huangpu_dispatcher",
        "dispatcher",
        Some("C-310101"),
        "310101",
    ),
];

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// `None` when the backend is PostgreSQL and no test database is configured.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_configured(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with the configuration adjusted first (e.g. an MQTT broker).
    pub async fn spawn_configured(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().unwrap();
        let scratch = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match test_url() {
                Some(admin) => Some(ScratchDatabase::create(&admin).await.unwrap()),
                None => {
                    eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL API test skipped");
                    return None;
                }
            },
        };
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().join("data"),
            database: scratch.as_ref().map(|s| s.url.clone()),
            // A citizen's proof of work stays real, only quick.
            report_challenge_bits: 4,
            ..Config::default()
        };
        adjust(&mut config);
        let store = cityops::open_store(&config).await.unwrap();
        cityops::reference::bootstrap(store.as_ref()).await.unwrap();
        let hash = cityops_api::auth::hash_password(PASSWORD).unwrap();
        for (name, role, unit, scope) in USERS {
            store
                .insert_user(&cityops_store::UserRecord {
                    id: format!("user-{name}"),
                    username: name.into(),
                    display_name: name.into(),
                    password_hash: hash.clone(),
                    role: cityops_domain::Role::parse(role).unwrap(),
                    unit: unit.map(str::to_owned),
                    scope: cityops_domain::AreaCode::parse(scope).unwrap(),
                    disabled: false,
                    created_at: chrono::Utc::now(),
                    failed_logins: 0,
                    locked_until: None,
                    totp: None,
                })
                .await
                .unwrap();
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = cityops::start(&config, store.clone(), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
        let mut app = TestApp {
            base: format!("http://{}", server.addr),
            client: reqwest::Client::new(),
            tokens: HashMap::new(),
            store,
            data_dir: config.data_dir.clone(),
            key_dir: config.key_dir(),
            database_url: config.database_url(),
            _dir: dir,
            scratch,
            shutdown: Some(tx),
        };
        for (name, ..) in USERS {
            let response = app
                .post_json(
                    None,
                    "/api/v1/sessions",
                    json!({"username": name, "password": PASSWORD}),
                )
                .await;
            assert_eq!(response.0, 201, "{name} signs in: {}", response.1);
            app.tokens
                .insert(name, response.1["token"].as_str().unwrap().to_owned());
        }
        Some(app)
    }

    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.scratch.take() {
            db.drop_now().await.unwrap();
        }
    }

    fn auth(&self, request: reqwest::RequestBuilder, who: Option<&str>) -> reqwest::RequestBuilder {
        match who {
            Some(who) => request.bearer_auth(&self.tokens[who]),
            None => request,
        }
    }

    pub async fn post_json(&self, who: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let request = self.client.post(format!("{}{path}", self.base)).json(&body);
        send(self.auth(request, who)).await
    }

    /// Like [`TestApp::post_json`], sent by another client (e.g. [`client_from`]).
    pub async fn post_json_with(
        &self,
        client: &reqwest::Client,
        who: Option<&str>,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let request = client.post(format!("{}{path}", self.base)).json(&body);
        send(self.auth(request, who)).await
    }

    pub async fn delete_json(&self, who: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let request = self
            .client
            .delete(format!("{}{path}", self.base))
            .json(&body);
        send(self.auth(request, who)).await
    }

    pub async fn post_raw(
        &self,
        who: Option<&str>,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        send(self.auth(request, who)).await
    }

    pub async fn put_json(&self, who: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let request = self.client.put(format!("{}{path}", self.base)).json(&body);
        send(self.auth(request, who)).await
    }

    pub async fn put_raw(
        &self,
        who: Option<&str>,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let request = self
            .client
            .put(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        send(self.auth(request, who)).await
    }

    pub async fn get_text(&self, who: Option<&str>, path: &str) -> (u16, String) {
        let response = self
            .auth(self.client.get(format!("{}{path}", self.base)), who)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn get(&self, who: Option<&str>, path: &str) -> (u16, Value) {
        let request = self.client.get(format!("{}{path}", self.base));
        send(self.auth(request, who)).await
    }

    /// A fresh report challenge, solved: `(challenge, nonce)`.
    pub async fn solved_challenge(&self) -> (String, String) {
        let (status, issued) = self.get(None, "/api/v1/public/challenge").await;
        assert_eq!(status, 200, "challenge: {issued}");
        let challenge = issued["challenge"].as_str().unwrap().to_owned();
        let bits = issued["bits"].as_u64().unwrap() as u8;
        let nonce = cityops_api::access::solve(&challenge, bits);
        (challenge, nonce)
    }

    /// Files a citizen's report as the citizen's browser does: fetches a challenge, solves
    /// it and sends it with `body`; returns status and body.
    pub async fn public_report(&self, mut body: Value) -> (u16, Value) {
        let (challenge, nonce) = self.solved_challenge().await;
        body["challenge"] = json!(challenge);
        body["nonce"] = json!(nonce);
        self.post_json(None, "/api/v1/public/reports", body).await
    }

    /// Reports a case as `who` in Huangpu's first community and returns it.
    pub async fn report(&self, who: &str, source: &str) -> Value {
        let (status, case) = self
            .post_json(
                Some(who),
                "/api/v1/cases",
                json!({
                    "source": source,
                    "description": "南京东路步行街东侧上水井盖缺失，已设置临时围挡",
                    // A point inside the area: the two must agree.
                    "location": {"lon": 121.4919, "lat": 31.2150},
                    "area": "310101002001",
                }),
            )
            .await;
        assert_eq!(status, 201, "report: {case}");
        case
    }

    /// Runs a workflow command with the case's current version; returns status and body.
    pub async fn command(
        &self,
        who: &str,
        case: &Value,
        command: &str,
        mut body: Value,
    ) -> (u16, Value) {
        body["version"] = case["version"].clone();
        let path = format!("/api/v1/cases/{}/{command}", case["id"].as_str().unwrap());
        self.post_json(Some(who), &path, body).await
    }

    /// Like [`command`] but the command must succeed; returns the new case.
    pub async fn ok(&self, who: &str, case: &Value, command: &str, body: Value) -> Value {
        let (status, next) = self.command(who, case, command, body).await;
        assert_eq!(status, 200, "{who} {command}: {next}");
        next
    }

    /// Takes an accepted-ready report (an inspector's) through acceptance, filing under
    /// `category`, dispatch to `unit` and signing by `handler`: its handling clock runs.
    pub async fn signed_for(
        &self,
        case: &Value,
        category: &str,
        unit: &str,
        handler: &str,
    ) -> Value {
        let case = self.ok("operator", case, "accept", json!({})).await;
        let case = self
            .ok("lead", &case, "file", json!({"category": category}))
            .await;
        let case = self
            .ok("dispatcher", &case, "dispatch", json!({"unit": unit}))
            .await;
        self.ok(handler, &case, "sign", json!({})).await
    }

    /// Has a public or hotline report verified on site (it cannot be filed before).
    pub async fn verified(&self, case: &Value) -> Value {
        let case = self
            .ok(
                "operator",
                case,
                "request-verification",
                serde_json::json!({}),
            )
            .await;
        self.ok(
            "inspector",
            &case,
            "verify",
            serde_json::json!({"exists": true}),
        )
        .await
    }

    pub async fn timeline(&self, case: &Value) -> Vec<Value> {
        let (status, body) = self
            .get(
                Some("operator"),
                &format!("/api/v1/cases/{}/timeline", case["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(status, 200);
        body.as_array().unwrap().clone()
    }
}

/// A client whose requests come from another loopback address, as from another computer:
/// all of 127.0.0.0/8 is the loopback, and the server on 127.0.0.1 sees the address given.
pub fn client_from(address: std::net::Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(address))
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Generates one test per backend from an `async fn(&TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.unwrap();
                super::$name(&app).await;
                app.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else { return };
                super::$name(&app).await;
                app.finish().await;
            })*
        }
    };
}

/// A case as the jurisdiction tests see it.
pub struct Object {
    pub id: String,
    pub number: String,
    pub area: String,
    pub unit: Option<String>,
}

impl Object {
    pub fn of(case: &Value) -> Object {
        Object {
            id: case["id"].as_str().unwrap().to_owned(),
            number: case["number"].as_str().unwrap().to_owned(),
            area: case["area"].as_str().unwrap().to_owned(),
            unit: case["unit"].as_str().map(str::to_owned),
        }
    }
}

/// Whether a user of the cast sees `case`, as the tests expect it independently of the
/// server: its area in their scope; a unit handler, only their unit's cases; auditors and
/// data stewards, no case content.
pub fn sees(user: (&str, &str, Option<&str>, &str), case: &Object) -> bool {
    let (_, role, unit, scope) = user;
    let scope = if scope == "310000" { "31" } else { scope };
    !matches!(role, "auditor" | "data_steward")
        && case.area.starts_with(scope)
        && (role != "unit_handler" || case.unit.as_deref() == unit)
}

/// A citizen's report at a place, with a contact; the case as an operator sees it.
pub async fn citizen_case(app: &TestApp, lon: f64, lat: f64, what: &str) -> Value {
    let (status, receipt) = app
        .public_report(
            json!({"description": what, "location": {"lon": lon, "lat": lat},
                   "contact": {"phone": "13700002222"}}),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["number"].as_str().unwrap();
    app.get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await
        .1
}

/// `text` as a query-string value: every byte but the unreserved ones percent-encoded.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
