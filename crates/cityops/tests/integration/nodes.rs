//! Several `cityops serve` processes on one PostgreSQL database: every background duty runs
//! on exactly one of them, `/readyz` and `/metrics` say which, and when the holder is killed
//! with SIGKILL another node takes its duties over within the lease time; a live-stream
//! subscriber whose node dies resumes on another with `Last-Event-ID` and misses nothing.

use cityops_test_support::nats::private_cluster;
use cityops_test_support::scratch::{test_url, ScratchDatabase};
use futures_util::FutureExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::outbox::{next_case_frame, Events};
use crate::process::{add_user, serve_with, sign_in, PASSWORD};

const DUTIES: [&str; 5] = [
    "overdue-watch",
    "retention",
    "audit-checkpoints",
    "outbox-pruning",
    "readings-pruning",
];

/// What the nodes of one test share: a scratch database with the user `operator`, and the
/// data directory (attachments, keys), as they would share a network mount.
struct Shared {
    db: ScratchDatabase,
    _dir: tempfile::TempDir,
    data_dir: String,
}

impl Shared {
    /// `None` (skipped, with `what` named) without PostgreSQL.
    async fn prepare(what: &str) -> Option<Shared> {
        let Some(admin) = test_url() else {
            eprintln!("CITYOPS_TEST_PG_URL is not set: {what} skipped");
            return None;
        };
        let db = ScratchDatabase::create(&admin).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data").to_str().unwrap().to_owned();
        let shared = Shared {
            db,
            _dir: dir,
            data_dir,
        };
        let mut add = vec!["--username", "operator", "--role", "operator"];
        add.extend_from_slice(&shared.store_args());
        assert!(add_user(&add).success());
        Some(shared)
    }

    fn store_args(&self) -> [&str; 4] {
        [
            "--data-dir",
            self.data_dir.as_str(),
            "--database",
            self.db.url.as_str(),
        ]
    }

    async fn finish(self) {
        self.db.drop_now().await.unwrap();
    }
}

/// Seconds a hold lasts unless renewed, in this test.
const LEASE_SECS: u64 = 3;

struct Node {
    name: &'static str,
    child: Child,
    base: String,
    token: String,
}

async fn start(name: &'static str, store_args: &[&str], client: &reqwest::Client) -> Node {
    start_with(name, store_args, &[], client).await
}

async fn start_with(
    name: &'static str,
    store_args: &[&str],
    env: &[(&str, &str)],
    client: &reqwest::Client,
) -> Node {
    let lease = LEASE_SECS.to_string();
    let mut env = env.to_vec();
    env.extend([
        ("CITYOPS_NODE_NAME", name),
        ("CITYOPS_LEASE_SECS", lease.as_str()),
        // Rounds every second, so that who runs them shows at once.
        ("CITYOPS_AUDIT_CHECKPOINT_SECS", "1"),
        ("CITYOPS_OVERDUE_WATCH_SECS", "1"),
    ]);
    let (child, base) = serve_with(store_args, &env);
    let token = sign_in(client, &base).await;
    Node {
        name,
        child,
        base,
        token,
    }
}

/// The node's `/readyz`: its holder name and, per duty, the holder.
async fn ready(client: &reqwest::Client, node: &Node) -> (String, BTreeMap<String, Value>) {
    let response = client
        .get(format!("{}/readyz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", node.name);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let duties = body["duties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["duty"].as_str().unwrap().to_owned(), d.clone()))
        .collect();
    (body["node"].as_str().unwrap().to_owned(), duties)
}

/// The node's counters of one family on `/metrics`, by duty.
async fn duty_metric(client: &reqwest::Client, node: &Node, family: &str) -> BTreeMap<String, f64> {
    let text = client
        .get(format!("{}/metrics", node.base))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{family}{{duty=\"");
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (duty, value) = rest.split_once("\"} ")?;
            Some((duty.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Waits until every duty has a holder on `node`'s `/readyz`, and returns the holders.
async fn holders(client: &reqwest::Client, node: &Node) -> BTreeMap<String, String> {
    let started = Instant::now();
    loop {
        let (_, duties) = ready(client, node).await;
        let held: BTreeMap<String, String> = duties
            .iter()
            .filter_map(|(duty, d)| Some((duty.clone(), d["holder"].as_str()?.to_owned())))
            .collect();
        if DUTIES.iter().all(|duty| held.contains_key(*duty)) {
            return held;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "duties without a holder after 15 s: {duties:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A node outlives no test, passed or failed.
impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kill(node: &mut Node) {
    node.child.kill().unwrap(); // SIGKILL: no lease is given up
    node.child.wait().unwrap();
}

#[tokio::test]
async fn two_nodes_race_for_the_duties_and_one_takes_over_from_a_killed_holder_on_postgres() {
    let Some(shared) = Shared::prepare("the two-node test").await else {
        return;
    };
    let store_args = shared.store_args();

    let client = reqwest::Client::new();
    // Both start at once and race for every duty.
    let (a, b) = tokio::join!(
        start("node-a", &store_args, &client),
        start("node-b", &store_args, &client)
    );
    let mut nodes = [a, b];
    let held = holders(&client, &nodes[0]).await;
    let (name_a, _) = ready(&client, &nodes[0]).await;
    let (name_b, _) = ready(&client, &nodes[1]).await;
    assert!(name_a.starts_with("node-a/") && name_b.starts_with("node-b/"));
    for holder in held.values() {
        assert!(holder == &name_a || holder == &name_b, "{holder}");
    }
    // Every node answers the same: the holders come from the database.
    assert_eq!(holders(&client, &nodes[1]).await, held);

    // Long enough for several rounds of the one-second duties and a renewal of every lease.
    tokio::time::sleep(Duration::from_secs(LEASE_SECS + 1)).await;
    assert_eq!(
        holders(&client, &nodes[0]).await,
        held,
        "the holders keep their duties"
    );
    let names = [&name_a, &name_b];
    for (node, name) in nodes.iter().zip(names) {
        let flags = duty_metric(&client, node, "cityops_duty_held").await;
        let runs = duty_metric(&client, node, "cityops_duty_runs_total").await;
        for duty in DUTIES {
            let holds = &held[duty] == name;
            assert_eq!(
                flags.get(duty).copied(),
                Some(f64::from(u8::from(holds))),
                "{duty} on {name}: {flags:?}"
            );
            let ran = runs.get(duty).copied().unwrap_or(0.0);
            if holds {
                // Every duty's first round runs as soon as it is held.
                assert!(ran >= 1.0, "{duty} never ran on its holder {name}");
            } else {
                assert_eq!(ran, 0.0, "{duty} ran on {name}, which does not hold it");
            }
        }
        let checkpoints = runs.get("audit-checkpoints").copied().unwrap_or(0.0);
        if held["audit-checkpoints"] == *name {
            assert!(checkpoints >= 3.0, "checkpoint rounds: {checkpoints}");
        }
    }

    // The holder of the audit checkpoints dies without giving anything up.
    let (dead, survivor) = if held["audit-checkpoints"] == name_a {
        (0, 1)
    } else {
        (1, 0)
    };
    let survivor_name = names[survivor].clone();
    let before = duty_metric(&client, &nodes[survivor], "cityops_duty_runs_total").await;
    kill(&mut nodes[dead]);
    let killed = Instant::now();
    loop {
        let (_, duties) = ready(&client, &nodes[survivor]).await;
        if DUTIES.iter().all(|duty| duties[*duty]["here"] == true) {
            break;
        }
        // The lease runs out, and the survivor's next renewal (a third of it) takes it.
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS * 2),
            "the survivor has not taken every duty over {:?} after the kill: {duties:?}",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = killed.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = duty_metric(&client, &nodes[survivor], "cityops_duty_runs_total").await;
    let checkpoints = |runs: &BTreeMap<String, f64>| runs.get("audit-checkpoints").copied();
    assert!(
        checkpoints(&after).unwrap_or(0.0) >= checkpoints(&before).unwrap_or(0.0) + 1.0,
        "the survivor signs checkpoints now: {before:?} then {after:?}"
    );
    eprintln!("the survivor held every duty {took:?} after the kill");

    // The dead node comes back under its old name: it stands by, it does not take back.
    let restarted = start(nodes[dead].name, &store_args, &client).await;
    let (restarted_name, _) = ready(&client, &restarted).await;
    assert_ne!(
        &restarted_name, names[dead],
        "a new process is a new holder"
    );
    nodes[dead] = restarted;
    tokio::time::sleep(Duration::from_secs(LEASE_SECS + 1)).await;
    for duty in DUTIES {
        assert_eq!(holders(&client, &nodes[dead]).await[duty], survivor_name);
    }
    let flags = duty_metric(&client, &nodes[dead], "cityops_duty_held").await;
    assert!(
        DUTIES.iter().all(|duty| flags.get(*duty) == Some(&0.0)),
        "{flags:?}"
    );
    for node in &mut nodes {
        kill(node);
    }
    shared.finish().await;
}

/// A sign-in attempt through `node`: the status and the error's code, if any.
async fn try_sign_in(
    client: &reqwest::Client,
    node: &Node,
    username: &str,
    password: &str,
) -> (u16, Option<String>, Option<String>) {
    let response = client
        .post(format!("{}/api/v1/sessions", node.base))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().map(str::to_owned),
        body["token"].as_str().map(str::to_owned),
    )
}

/// `GET /api/v1/nodes` through `node` with `token`: the status and the body.
async fn nodes_view(client: &reqwest::Client, node: &Node, token: &str) -> (u16, Value) {
    let response = client
        .get(format!("{}/api/v1/nodes", node.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn two_nodes_count_failed_sign_ins_and_public_budgets_together_and_list_each_other_on_postgres(
) {
    let Some(shared) = Shared::prepare("the shared limits test").await else {
        return;
    };
    let store_args = shared.store_args();
    let mut add = vec!["--username", "chief", "--role", "admin"];
    add.extend_from_slice(&store_args);
    assert!(add_user(&add).success());
    let client = reqwest::Client::new();
    let env = [("CITYOPS_PUBLIC_REQUESTS_PER_MINUTE", "4")];
    let (a, b) = tokio::join!(
        start_with("node-a", &store_args, &env, &client),
        start_with("node-b", &store_args, &env, &client)
    );

    // A guesser alternating between the nodes: three failures are free in all (not three
    // per node), the fourth imposes a wait that the other node enforces.
    let mut codes = Vec::new();
    for attempt in 0..4 {
        let node = if attempt % 2 == 0 { &a } else { &b };
        let (status, code, _) = try_sign_in(&client, node, "chief", "wrong password!").await;
        codes.push((status, code));
    }
    let invalid = Some("invalid_credentials".to_owned());
    assert_eq!(
        codes,
        [
            (401, invalid.clone()),
            (401, invalid.clone()),
            (401, invalid.clone()),
            (429, Some("sign_in_throttled".to_owned()))
        ]
    );
    let (status, code, _) = try_sign_in(&client, &a, "chief", PASSWORD).await;
    assert_eq!(
        (status, code.as_deref()),
        (429, Some("sign_in_throttled")),
        "even the right password waits, on the other node too"
    );
    // The wait after the fourth failure is two seconds; then the right password works, on
    // either node, and starts the pair afresh for both.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (status, _, token) = try_sign_in(&client, &b, "chief", PASSWORD).await;
    assert_eq!(status, 201);
    let token = token.unwrap();
    let (status, code, _) = try_sign_in(&client, &a, "chief", "wrong password!").await;
    assert_eq!(
        (status, code),
        (401, invalid.clone()),
        "free again after success"
    );

    // Anonymous reads of the published standards: four a minute for the address, whichever
    // node answers.
    let mut statuses = Vec::new();
    for attempt in 0..8 {
        let node = if attempt % 2 == 0 { &a } else { &b };
        let response = client
            .get(format!("{}/api/v1/workflow", node.base))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);

    // A citizen's solved challenge works once in all, not once per node (from another
    // address: this one spent its reads).
    let citizen = cityops_test_support::client_from(std::net::Ipv4Addr::new(127, 0, 0, 5));
    let issued: Value = citizen
        .get(format!("{}/api/v1/public/challenge", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = issued["challenge"].as_str().unwrap();
    let nonce = cityops_api::access::solve(challenge, issued["bits"].as_u64().unwrap() as u8);
    let mut answers = Vec::new();
    for node in [&a, &b] {
        let response = citizen
            .post(format!("{}/api/v1/public/reports", node.base))
            .json(&serde_json::json!({
                "description": "人行道井盖松动",
                "location": {"lon": 121.4837, "lat": 31.2369},
                "challenge": challenge,
                "nonce": nonce,
            }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        answers.push((status, body["error"]["field"].as_str().map(str::to_owned)));
    }
    assert_eq!(
        answers,
        [(201, None), (403, Some("challenge".to_owned()))],
        "the second node knows the challenge was used"
    );

    // The administration's view: both nodes running, each duty held by one of them, the
    // same from either node; an operator may not read it.
    let (name_a, _) = ready(&client, &a).await;
    let (name_b, _) = ready(&client, &b).await;
    holders(&client, &a).await;
    let mut views = Vec::new();
    for node in [&a, &b] {
        let (status, body) = nodes_view(&client, node, &token).await;
        assert_eq!(status, 200);
        let running: Vec<&str> = body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["node"].as_str().unwrap())
            .collect();
        assert_eq!(running, [name_a.as_str(), name_b.as_str()], "{body}");
        let here: Vec<bool> = body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["here"].as_bool().unwrap())
            .collect();
        assert_eq!(here, [node.name == "node-a", node.name == "node-b"]);
        for running in body["nodes"].as_array().unwrap() {
            // Each says which release it runs and since when (a rolling upgrade shows both).
            assert_eq!(running["version"], env!("CARGO_PKG_VERSION"), "{body}");
            assert!(running["started_at"].as_str().is_some(), "{body}");
        }
        let mut held: Vec<String> = body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n["duties"].as_array().unwrap().iter())
            .map(|d| d.as_str().unwrap().to_owned())
            .collect();
        held.sort();
        let mut all: Vec<String> = DUTIES.iter().map(|d| d.to_string()).collect();
        all.sort();
        assert_eq!(held, all, "each duty on exactly one node: {body}");
        assert_eq!(body["lease_secs"], LEASE_SECS);
        let holders: Vec<(String, String)> = body["duties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["duty"].to_string(), d["holder"].to_string()))
            .collect();
        views.push(holders);
    }
    assert_eq!(views[0], views[1]);
    assert_eq!(nodes_view(&client, &a, &a.token).await.0, 403);

    // A killed node leaves the list when its presence runs out.
    let mut b = b;
    kill(&mut b);
    let killed = Instant::now();
    loop {
        let (_, body) = nodes_view(&client, &a, &token).await;
        if body["nodes"].as_array().unwrap().len() == 1 {
            assert_eq!(body["nodes"][0]["node"], name_a.as_str());
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS * 2),
            "{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(a);
    shared.finish().await;
}

/// Reports a case through `node`; the acknowledged case.
async fn report(client: &reqwest::Client, node: &Node, what: &str) -> Value {
    let response = client
        .post(format!("{}/api/v1/cases", node.base))
        .bearer_auth(&node.token)
        .json(&serde_json::json!({
            "source": "hotline",
            "description": format!("{what}：路灯不亮"),
            "location": {"lon": 121.4919, "lat": 31.2150},
            "area": "310101002",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn accept(client: &reqwest::Client, node: &Node, case: &Value) {
    let response = client
        .post(format!(
            "{}/api/v1/cases/{}/accept",
            node.base,
            case["id"].as_str().unwrap()
        ))
        .bearer_auth(&node.token)
        .json(&serde_json::json!({"version": case["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn open_stream(client: &reqwest::Client, node: &Node, last: Option<i64>) -> Events {
    let mut request = client.get(format!(
        "{}/api/v1/stream?access_token={}",
        node.base, node.token
    ));
    if let Some(last) = last {
        request = request.header("Last-Event-ID", last.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    Box::pin(response.bytes_stream())
}

#[tokio::test]
async fn a_subscriber_whose_node_is_killed_resumes_on_another_and_sees_every_change_once_on_postgres(
) {
    let Some(shared) = Shared::prepare("the two-node stream test").await else {
        return;
    };
    let store_args = shared.store_args();
    let client = reqwest::Client::new();
    let (a, b) = tokio::join!(
        start("node-a", &store_args, &client),
        start("node-b", &store_args, &client)
    );
    let mut nodes = [a, b];

    // (case, action) in the order the subscriber must see them.
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<(i64, String, String)> = Vec::new();
    let wait = Duration::from_secs(10);
    let mut stream = open_stream(&client, &nodes[0], None).await;
    let mut buffer = String::new();
    // Changes made through both nodes reach the subscriber of node a.
    for i in 0..6 {
        let case = report(&client, &nodes[i % 2], &format!("第{i}件")).await;
        expected.push((case["id"].as_str().unwrap().to_owned(), "report".into()));
        accept(&client, &nodes[(i + 1) % 2], &case).await;
        expected.push((case["id"].as_str().unwrap().to_owned(), "accept".into()));
    }
    while seen.len() < expected.len() {
        let (id, event) = next_case_frame(&mut stream, &mut buffer, wait)
            .await
            .unwrap_or_else(|| panic!("only {} of {} events came", seen.len(), expected.len()));
        seen.push((
            id,
            event["id"].as_str().unwrap().to_owned(),
            event["action"].as_str().unwrap().to_owned(),
        ));
    }
    let last = seen.last().unwrap().0;

    // Node a dies; what happens meanwhile goes through node b.
    kill(&mut nodes[0]);
    for i in 6..10 {
        let case = report(&client, &nodes[1], &format!("第{i}件")).await;
        expected.push((case["id"].as_str().unwrap().to_owned(), "report".into()));
        accept(&client, &nodes[1], &case).await;
        expected.push((case["id"].as_str().unwrap().to_owned(), "accept".into()));
    }
    // The subscriber reconnects to node b after the last event it received.
    let mut stream = open_stream(&client, &nodes[1], Some(last)).await;
    let mut buffer = String::new();
    let live = report(&client, &nodes[1], "重连之后").await;
    expected.push((live["id"].as_str().unwrap().to_owned(), "report".into()));
    while seen.len() < expected.len() {
        let (id, event) = next_case_frame(&mut stream, &mut buffer, wait)
            .await
            .unwrap_or_else(|| panic!("only {} of {} events came", seen.len(), expected.len()));
        seen.push((
            id,
            event["id"].as_str().unwrap().to_owned(),
            event["action"].as_str().unwrap().to_owned(),
        ));
    }
    let extra = next_case_frame(&mut stream, &mut buffer, Duration::from_secs(2)).await;
    assert!(extra.is_none(), "an event came twice: {extra:?}");
    // In the database's order, every change once.
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "ids not increasing: {seen:?}"
    );
    let got: Vec<(String, String)> = seen.into_iter().map(|(_, c, a)| (c, a)).collect();
    let mut want = expected.clone();
    let mut have = got.clone();
    want.sort();
    have.sort();
    assert_eq!(have, want, "every change exactly once");
    // Per case, the report before the acceptance.
    for (case, action) in &got {
        if action == "accept" {
            let report = got.iter().position(|(c, a)| c == case && a == "report");
            let accept = got.iter().position(|(c, a)| c == case && a == "accept");
            assert!(report < accept, "{case}: {got:?}");
        }
    }
    kill(&mut nodes[1]);
    shared.finish().await;
}

/// A live-stream subscriber: what it received, and where it is connected.
struct Subscriber {
    node: usize,
    stream: Events,
    buffer: String,
    seen: Vec<(i64, String, String)>,
}

impl Subscriber {
    async fn open(client: &reqwest::Client, nodes: &[Node], node: usize) -> Subscriber {
        Subscriber {
            node,
            stream: open_stream(client, &nodes[node], None).await,
            buffer: String::new(),
            seen: Vec::new(),
        }
    }

    /// Reads until it has `want` changes; when its node is gone, reconnects to `fallback`
    /// with `Last-Event-ID`.
    async fn read_until(
        &mut self,
        want: usize,
        client: &reqwest::Client,
        nodes: &[Node],
        alive: &[bool],
        fallback: usize,
    ) {
        let started = Instant::now();
        while self.seen.len() < want {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "a subscriber of node {} has {} of {want} changes: {:?}",
                self.node,
                self.seen.len(),
                self.seen
            );
            if !alive[self.node] {
                self.node = fallback;
                self.buffer.clear();
                let last = self.seen.last().map(|s| s.0);
                self.stream = open_stream(client, &nodes[fallback], last).await;
            }
            let next = next_case_frame(&mut self.stream, &mut self.buffer, Duration::from_secs(1));
            // A stream cut by its node's death ends with an error: read_until reconnects.
            let Ok(Some((id, event))) = std::panic::AssertUnwindSafe(next).catch_unwind().await
            else {
                continue;
            };
            self.seen.push((
                id,
                event["id"].as_str().unwrap().to_owned(),
                event["action"].as_str().unwrap().to_owned(),
            ));
        }
    }
}

/// Reports a case through one node and accepts it through the next that is alive; returns
/// the changes acknowledged.
async fn report_and_accept(
    client: &reqwest::Client,
    nodes: &[Node],
    alive: &[bool],
    turn: usize,
) -> Vec<(String, String)> {
    let up: Vec<usize> = (0..nodes.len()).filter(|i| alive[*i]).collect();
    let first = &nodes[up[turn % up.len()]];
    let second = &nodes[up[(turn + 1) % up.len()]];
    let case = report(client, first, &format!("第{turn}件")).await;
    accept(client, second, &case).await;
    let id = case["id"].as_str().unwrap().to_owned();
    vec![(id.clone(), "report".into()), (id, "accept".into())]
}

fn assert_once_in_order(seen: &[(i64, String, String)], expected: &[(String, String)]) {
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "ids not increasing: {seen:?}"
    );
    let mut have: Vec<(String, String)> = seen
        .iter()
        .map(|(_, c, a)| (c.clone(), a.clone()))
        .collect();
    let mut want = expected.to_vec();
    have.sort();
    want.sort();
    assert_eq!(have, want, "every change exactly once");
}

#[tokio::test]
async fn three_nodes_share_every_change_through_a_jetstream_cluster_while_a_node_and_a_nats_server_die_on_postgres(
) {
    let Some(mut nats) = private_cluster(3) else {
        return;
    };
    let Some(shared) = Shared::prepare("the JetStream test").await else {
        return;
    };
    let store_args = shared.store_args();
    let client = reqwest::Client::new();
    let urls = nats.urls();
    let env = [
        ("CITYOPS_NATS", urls.as_str()),
        ("CITYOPS_NATS_REPLICAS", "3"),
    ];
    // Node a knows only the server that will die: it must find the others through it.
    let first = urls.split(',').next().unwrap().to_owned();
    let env_a = [
        ("CITYOPS_NATS", first.as_str()),
        ("CITYOPS_NATS_REPLICAS", "3"),
    ];
    let names = ["node-a", "node-b", "node-c"];
    let (a, b, c) = tokio::join!(
        start_with(names[0], &store_args, &env_a, &client),
        start_with(names[1], &store_args, &env, &client),
        start_with(names[2], &store_args, &env, &client)
    );
    let mut nodes = vec![a, b, c];
    let mut alive = vec![true; 3];
    // The relay has a holder once the cluster has elected its leader and the stream exists.
    let started = Instant::now();
    let relay_holder = loop {
        let (_, duties) = ready(&client, &nodes[0]).await;
        if let Some(holder) = duties["outbox-relay"]["holder"].as_str() {
            break holder.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nobody relays: {duties:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut subscribers = Vec::new();
    for node in 0..3 {
        subscribers.push(Subscriber::open(&client, &nodes, node).await);
    }
    let mut expected = Vec::new();
    let mut turn = 0;
    let mut phase = async |nodes: &[Node], alive: &[bool], expected: &mut Vec<_>| {
        for _ in 0..4 {
            expected.extend(report_and_accept(&client, nodes, alive, turn).await);
            turn += 1;
        }
    };

    // Everything up: changes through every node reach every node's subscriber.
    phase(&nodes, &alive, &mut expected).await;
    let fallback = |alive: &[bool]| alive.iter().position(|a| *a).unwrap();
    for subscriber in &mut subscribers {
        subscriber
            .read_until(expected.len(), &client, &nodes, &alive, fallback(&alive))
            .await;
    }

    // A NATS server dies: the nodes connected to it move to the others, the stream (three
    // copies) goes on.
    nats.kill(0);
    phase(&nodes, &alive, &mut expected).await;
    for subscriber in &mut subscribers {
        subscriber
            .read_until(expected.len(), &client, &nodes, &alive, fallback(&alive))
            .await;
    }

    // The node relaying the outbox dies; another takes the relay over and its subscriber
    // resumes on another node.
    let dead = names
        .iter()
        .position(|n| relay_holder.starts_with(&format!("{n}/")))
        .unwrap();
    kill(&mut nodes[dead]);
    alive[dead] = false;
    phase(&nodes, &alive, &mut expected).await;
    for subscriber in &mut subscribers {
        subscriber
            .read_until(expected.len(), &client, &nodes, &alive, fallback(&alive))
            .await;
    }

    // Both come back; changes through all three reach everyone.
    nats.restart(0).unwrap();
    let env_dead = if dead == 0 { env_a } else { env };
    nodes[dead] = start_with(names[dead], &store_args, &env_dead, &client).await;
    alive[dead] = true;
    phase(&nodes, &alive, &mut expected).await;
    for subscriber in &mut subscribers {
        subscriber
            .read_until(expected.len(), &client, &nodes, &alive, fallback(&alive))
            .await;
    }
    // Nothing more comes: no change twice.
    for subscriber in &mut subscribers {
        let extra = next_case_frame(
            &mut subscriber.stream,
            &mut subscriber.buffer,
            Duration::from_secs(2),
        )
        .await;
        assert!(extra.is_none(), "an event came twice: {extra:?}");
        assert_once_in_order(&subscriber.seen, &expected);
    }
    let (_, duties) = ready(&client, &nodes[dead]).await;
    let holder = duties["outbox-relay"]["holder"].as_str().unwrap();
    assert_ne!(holder, relay_holder, "the relay moved");
    for node in &mut nodes {
        kill(node);
    }
    shared.finish().await;
}
