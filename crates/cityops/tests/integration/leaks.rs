//! The randomized leak test: users in different scopes issue random reads (lists with random
//! filters and cursors, searches, single reads, timelines, OGC features, statistics, the
//! live stream); no answer ever holds a case outside the caller's jurisdiction.

use cityops_test_support::{citizen_case, on_both_backends, sees, Object, TestApp, USERS};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

async fn dispatched(app: &TestApp, case: Value, unit: &str) -> Value {
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app.verified(&case).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
        .await;
    app.ok("dispatcher", &case, "dispatch", json!({"unit": unit}))
        .await
}

const PLACES: [(f64, f64, &str); 6] = [
    (121.4837, 31.2369, "南京东路井盖松动"),
    (121.4900, 31.2300, "外滩路灯不亮"),
    (121.4365, 31.1885, "徐家汇井盖缺失"),
    (121.4400, 31.1950, "衡山路垃圾满溢"),
    (121.4480, 31.2290, "静安寺路面破损"),
    (121.5440, 31.2215, "浦东人行道井盖破损"),
];

async fn no_answer_holds_a_case_outside_the_callers_jurisdiction(app: &TestApp) {
    let mut cases = Vec::new();
    for (i, (lon, lat, what)) in PLACES.iter().enumerate() {
        let case = citizen_case(app, *lon, *lat, what).await;
        let case = match i {
            0 => dispatched(app, case, "310101-ZLS").await,
            1 => dispatched(app, case, "310101-GD").await,
            _ => case,
        };
        cases.push(Object::of(&case));
    }
    let districts: std::collections::BTreeSet<&str> = cases.iter().map(|c| &c.area[..6]).collect();
    assert!(
        districts.len() >= 4,
        "cases in several districts: {districts:?}"
    );

    let seed: u64 = std::env::var("CITYOPS_LEAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let areas = ["31", "310101", "310101002", "310104", "310106", "310115"];
    let states = ["reported", "accepted", "dispatched", "verifying", "filed"];
    let texts = ["井盖", "路灯", "破损", "南京", "%", "_"];
    let mut reads = 0;
    let mut shown = 0;
    for _ in 0..400 {
        let user = *USERS.choose(&mut rng).unwrap();
        let target = cases.choose(&mut rng).unwrap();
        let path = match rng.gen_range(0..7) {
            0 => {
                let mut path = format!("/api/v1/cases?limit={}", rng.gen_range(1..=10));
                if rng.gen_bool(0.5) {
                    path += &format!("&area={}", areas.choose(&mut rng).unwrap());
                }
                if rng.gen_bool(0.3) {
                    path += &format!("&state={}", states.choose(&mut rng).unwrap());
                }
                if rng.gen_bool(0.3) {
                    path += &format!(
                        "&unit={}",
                        ["310101-ZLS", "310101-GD"].choose(&mut rng).unwrap()
                    );
                }
                path
            }
            1 => format!("/api/v1/cases?text={}", texts.choose(&mut rng).unwrap()),
            2 => format!(
                "/api/v1/cases/{}",
                if rng.gen_bool(0.5) {
                    &target.id
                } else {
                    &target.number
                }
            ),
            3 => format!("/api/v1/cases/{}/timeline", target.id),
            4 => format!(
                "/ogc/collections/cases/items?limit={}",
                rng.gen_range(1..=20)
            ),
            5 => format!("/ogc/collections/cases/items/{}", target.number),
            _ => format!("/api/v1/stats?area={}", areas.choose(&mut rng).unwrap()),
        };
        // Page on through lists, so cursors are tried too.
        let mut next = Some(path.clone());
        while let Some(path) = next.take() {
            let (status, body) = app.get(Some(user.0), &path).await;
            reads += 1;
            let text = body.to_string();
            for case in cases.iter().filter(|c| !sees(user, c)) {
                assert!(
                    !text.contains(&case.id) && !text.contains(&case.number),
                    "seed {seed}: {} ({} in {}) GET {path} ({status}) shows case {} of {}: {text}",
                    user.0,
                    user.1,
                    user.3,
                    case.number,
                    case.area
                );
            }
            if cases
                .iter()
                .any(|c| sees(user, c) && text.contains(&c.number))
            {
                shown += 1;
            }
            if let Some(cursor) = body["next_cursor"].as_str() {
                let base = path.split("&cursor=").next().unwrap();
                next = Some(format!("{base}&cursor={cursor}"));
            }
        }
    }
    assert!(reads >= 400);
    // The reads were real: many answers did hold the caller's own cases.
    assert!(
        shown >= 100,
        "seed {seed}: only {shown} of {reads} answers showed a case"
    );
}

/// Reads the live stream of `user` for a while and returns everything it sent.
async fn stream_of(app: &TestApp, user: &str) -> reqwest::Response {
    let response = app
        .client
        .get(format!("{}/api/v1/stream", app.base))
        .bearer_auth(&app.tokens[user])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

async fn drain(mut response: reqwest::Response, until: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(until) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    seen
}

async fn the_live_stream_carries_only_the_callers_cases(app: &TestApp) {
    let xuhui = stream_of(app, "xuhui_operator").await;
    let water = stream_of(app, "water").await;
    let power_case = citizen_case(app, 121.4900, 31.2300, "外滩路灯不亮").await;
    let power_case = dispatched(app, power_case, "310101-GD").await;
    let huangpu_case = citizen_case(app, 121.4837, 31.2369, "南京东路井盖松动").await;
    let huangpu_case = dispatched(app, huangpu_case, "310101-ZLS").await;
    let xuhui_case = citizen_case(app, 121.4365, 31.1885, "徐家汇井盖缺失").await;
    let xuhui_number = xuhui_case["number"].as_str().unwrap();
    // Each stream is read until the last event meant for it: whatever else came before.
    let seen = drain(xuhui, xuhui_number).await;
    assert!(seen.contains(xuhui_number), "the stream works: {seen}");
    for other in [&huangpu_case, &power_case] {
        assert!(!seen.contains(other["number"].as_str().unwrap()), "{seen}");
    }
    let huangpu_number = huangpu_case["number"].as_str().unwrap();
    let seen = drain(water, &format!("{huangpu_number}\",\"action\":\"dispatch")).await;
    assert!(seen.contains(huangpu_number), "{seen}");
    for other in [&power_case, &xuhui_case] {
        assert!(!seen.contains(other["number"].as_str().unwrap()), "{seen}");
    }
}

on_both_backends!(
    no_answer_holds_a_case_outside_the_callers_jurisdiction,
    the_live_stream_carries_only_the_callers_cases,
);
